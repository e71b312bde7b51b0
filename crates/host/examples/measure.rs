//! `cargo run --release -p claimscript --example measure`: per-run figures
//! for the RBAC example, and the latency a loopback fetch through the egress
//! policy adds compared with a plain hyper request. Medians over N runs.
//! (The project's benchmark command is the place for the full picture; this
//! example backs the figures quoted in the issue notes.)

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use claimscript::{Engine, FetchGrants, Grants, Outcome, RunInput};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

const N: usize = 500;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let engine = Engine::new()?;
    let rbac = std::fs::read_to_string(format!("{root}/examples/rbac/script.js"))?;
    let input = RunInput::from_json(&std::fs::read_to_string(format!(
        "{root}/examples/rbac/input.json"
    ))?)?;

    let started = Instant::now();
    let script = engine.compile(&rbac).await?;
    println!(
        "compile (first, includes preparing the runtime): {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let _again = engine.compile(&rbac).await?;
    println!("compile (warm engine): {:?}", started.elapsed());

    let grants = Grants::default();
    let mut durations = Vec::new();
    let mut last = None;
    for _ in 0..N {
        let t = Instant::now();
        let report = script.run(&input, &grants).await?;
        durations.push(t.elapsed());
        last = Some(report);
    }
    let last = last.ok_or("no runs")?;
    println!(
        "RBAC run: p50 {:?} over {N} runs; stats of one run: fuel {}, duration_us {}, memory_bytes {}",
        median(durations),
        last.stats.fuel,
        last.stats.duration_us,
        last.stats.memory_bytes
    );

    // A loopback server answering every request with a small JSON body.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                        b"{\"balance\":42}",
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let url = format!("http://{addr}/balance");

    let plain: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut plain_times = Vec::new();
    for _ in 0..N {
        let t = Instant::now();
        let response = plain.get(url.parse()?).await?;
        let _ = response.into_body().collect().await?;
        plain_times.push(t.elapsed());
    }

    let fetching = engine
        .compile(
            "const getCustomJwtClaims = async ({ environmentVariables }) => {\n\
               const r = await fetch(environmentVariables.URL);\n\
               return await r.json();\n\
             };",
        )
        .await?;
    let empty = engine
        .compile("const getCustomJwtClaims = async () => ({ balance: 42 });")
        .await?;
    let fetch_grants =
        Grants::default().with_fetch(FetchGrants::allowing([format!("http://{addr}")])?);
    let fetch_input = input.clone().with_env("URL", url.clone());
    let (mut with_fetch, mut without) = (Vec::new(), Vec::new());
    for _ in 0..N {
        let t = Instant::now();
        let report = fetching.run(&fetch_input, &fetch_grants).await?;
        with_fetch.push(t.elapsed());
        if !matches!(report.outcome, Outcome::Claims { .. }) {
            return Err(format!("fetch run failed: {:?}", report.outcome).into());
        }
        let t = Instant::now();
        empty.run(&fetch_input, &fetch_grants).await?;
        without.push(t.elapsed());
    }
    let (plain, with_fetch, without) = (median(plain_times), median(with_fetch), median(without));
    println!("plain hyper GET on loopback: p50 {plain:?}");
    println!(
        "script run with one fetch: p50 {with_fetch:?}; same run shape without fetch: p50 {without:?}"
    );
    println!(
        "a fetch through the policy adds {:?} to a run, against {plain:?} for the plain request",
        with_fetch.saturating_sub(without)
    );
    Ok(())
}
