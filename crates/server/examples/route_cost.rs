//! What the service adds to a run, without the network: the RBAC example
//! through `Service::router()` (axum, auth, body, JSON, the run, the
//! response) called in-process, beside the same script's `Script::run`.
//!
//!     cargo run --release -p claimscript-server --example route_cost -- [RUNS]
//!
//! Prints one JSON object: the p50 of each in microseconds, and the
//! difference, which is the service's own cost per request apart from the
//! HTTP connection (parse, write, syscalls). Beside them, the run on an
//! input parsed afresh each time (`parse_and_run_p50_us`, as the router
//! has it) and the run of the same script loaded from its artifact
//! (`loaded_run_p50_us`, as the service's registry holds it).

use std::time::{Duration, Instant};

use axum::body::Body;
use claimscript::{Grants, RunInput};
use claimscript_server::{Service, ServiceConfig};
use http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

fn p50(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

/// The elapsed time of `runs` calls of `run`, after `runs / 10` untimed.
async fn timed<F, Fut>(runs: usize, mut run: F) -> Result<Vec<Duration>, claimscript::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<claimscript::RunReport, claimscript::Error>>,
{
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs + runs / 10 {
        let started = Instant::now();
        let report = run().await?;
        if i >= runs / 10 {
            samples.push(started.elapsed());
        }
        std::hint::black_box(report);
    }
    Ok(samples)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `multi` runs it on a multi-threaded runtime, as `claimscript serve`
    // does (2 workers), instead of one thread.
    let multi = std::env::args().nth(2).is_some_and(|a| a == "multi");
    let runtime = if multi {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    };
    runtime.block_on(async {
        if multi {
            // On a worker thread, as a connection's task runs.
            tokio::spawn(async { measure().await.map_err(|e| e.to_string()) }).await??;
            Ok(())
        } else {
            measure().await
        }
    })
}

async fn measure() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args().nth(1).map_or(Ok(20_000), |a| a.parse())?;
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::temp_dir().join(format!("claimscript-route-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script_path = repo.join("examples/rbac/script.js");
    let config = ServiceConfig::from_toml(
        &format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"data\"\nwatch_interval_ms = 0\n[scripts.rbac]\npath = {:?}\n",
            script_path.display().to_string()
        ),
        &dir,
        None,
    )?;
    let service = Service::new(config).await?;
    let router = service.router();
    let body = std::fs::read(repo.join("examples/rbac/input.json"))?;

    let request = || {
        Request::post("/v1/scripts/rbac/run")
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(Body::from(body.clone()))
    };
    let mut routed = Vec::with_capacity(runs);
    for i in 0..runs + runs / 10 {
        let started = Instant::now();
        let response = router.clone().oneshot(request()?).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        if i >= runs / 10 {
            routed.push(started.elapsed());
        }
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)).into());
        }
    }

    let source = std::fs::read_to_string(&script_path)?;
    let script = service.engine().compile(&source).await?;
    let input = RunInput::from_json(std::str::from_utf8(&body)?)?;
    let grants = Grants::default();
    let direct = timed(runs, || script.run(&input, &grants)).await?;
    // The same script loaded from its artifact, as the registry holds it.
    let loaded = match script.component_bytes() {
        Some(bytes) => service.engine().load(bytes)?,
        None => script.clone(),
    };
    let loaded_run = timed(runs, || loaded.run(&input, &grants)).await?;
    // The same run on a freshly parsed input each time, as the router has.
    let (script_ref, grants_ref, body_ref) = (&script, &grants, &body);
    let parsed_run = timed(runs, || async move {
        let fresh = RunInput::from_slice_with_limit(body_ref, usize::MAX)
            .map_err(claimscript::Error::Input)?;
        script_ref.run(&fresh, grants_ref).await
    })
    .await?;
    let mut parse = Vec::with_capacity(runs);
    let text = std::str::from_utf8(&body)?;
    for _ in 0..runs {
        let started = Instant::now();
        std::hint::black_box(RunInput::from_json(text)?);
        parse.push(started.elapsed());
    }
    let report = script.run(&input, &grants).await?;
    let mut emit = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        std::hint::black_box(serde_json::to_vec(&report.to_json())?);
        emit.push(started.elapsed());
    }
    eprintln!(
        "parse p50 {:.1} us, emit p50 {:.1} us",
        p50(parse),
        p50(emit)
    );
    let (routed, direct) = (p50(routed), p50(direct));
    println!(
        "{}",
        serde_json::json!({
            "runs": runs,
            "router_p50_us": (routed * 10.0).round() / 10.0,
            "script_run_p50_us": (direct * 10.0).round() / 10.0,
            "parse_and_run_p50_us": (p50(parsed_run) * 10.0).round() / 10.0,
            "loaded_run_p50_us": (p50(loaded_run) * 10.0).round() / 10.0,
            "service_adds_us": ((routed - direct) * 10.0).round() / 10.0,
        })
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
