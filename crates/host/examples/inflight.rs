//! `cargo run --release -p claimscript --example inflight [RUNS] [DELAY_MS] [ROUNDS] [--mappings]`:
//! RUNS runs (default 1000) in flight at once, each awaiting a DELAY_MS
//! (default 20) fetch from a server on loopback, ROUNDS times (default 2: the
//! first round also pays for first use of the pool's slots). Prints one JSON
//! object: per round, how many runs ended with claims, the distinct errors
//! (slot exhaustion among them) and the wall time; the process's peak RSS
//! and what it is made of. `--mappings` also prints, on stderr, the resident
//! memory of the largest kinds of mapping.
//!
//! The server is a child process (this program, run as `inflight serve
//! DELAY_MS`), as the services a claims script calls are not in the
//! identity server's process: the RSS measured is the embedder's alone.
//!
//! The engine's instance pool is sized from `EngineConfig::max_concurrent_runs`
//! (set to RUNS here): one component instance, four core instances, one
//! memory, four tables and one fiber stack per run in flight. Each run holds
//! a socket, so raise the open-file limit first (`ulimit -n 4096`; `make
//! bench` does).

use std::convert::Infallible;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use claimscript::{Engine, EngineConfig, FetchGrants, Grants, Outcome, RunInput};
use http_body_util::Full;
use hyper_util::rt::TokioIo;

type Error = Box<dyn std::error::Error>;

/// The system allocator, counting the bytes the host holds on the heap.
struct Counting;
static HEAP_BYTES: AtomicUsize = AtomicUsize::new(0);
static HEAP_PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let now = HEAP_BYTES.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        HEAP_PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: forwarded.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        HEAP_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        let now = HEAP_BYTES.fetch_add(new, Ordering::Relaxed) + new;
        HEAP_PEAK.fetch_max(now, Ordering::Relaxed);
        HEAP_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SCRIPT: &str = "const getCustomJwtClaims = async ({ environmentVariables }) => {
  const response = await fetch(environmentVariables.URL);
  return { balance: (await response.json()).balance };
};";

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("serve") => runtime.block_on(serve(args.get(1).map_or(Ok(20), |a| a.parse())?)),
        _ => runtime.block_on(measure(&args)),
    }
}

/// Requests being answered, and the most there were at once.
static PENDING: AtomicUsize = AtomicUsize::new(0);
static MOST_PENDING: AtomicUsize = AtomicUsize::new(0);

/// Answer every request after `delay_ms` with `{"balance":42}`. Prints the
/// port first; when stdin closes (the parent is done), prints the most
/// requests that were pending at once, and exits.
async fn serve(delay_ms: u64) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?.port());
    std::thread::spawn(|| {
        let _ = std::io::stdin().lines().count();
        println!("{}", MOST_PENDING.load(Ordering::SeqCst));
        std::process::exit(0);
    });
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |_request| async move {
                let pending = PENDING.fetch_add(1, Ordering::SeqCst) + 1;
                MOST_PENDING.fetch_max(pending, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                PENDING.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                    b"{\"balance\":42}",
                ))))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn measure(args: &[String]) -> Result<(), Error> {
    let numbers: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let number = |i: usize, default: u64| numbers.get(i).map_or(Ok(default), |a| a.parse());
    let (runs, delay_ms, rounds) = (number(0, 1000)?, number(1, 20)?, number(2, 2)?);

    let mut server = Command::new(std::env::current_exe()?)
        .args(["serve", &delay_ms.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut from_server = std::io::BufReader::new(server.stdout.take().ok_or("no stdout")?);
    let mut port = String::new();
    from_server.read_line(&mut port)?;
    let origin = format!("http://127.0.0.1:{}", port.trim());

    let mut config = EngineConfig::default();
    config.max_concurrent_runs = u32::try_from(runs)?;
    let engine = Engine::with_config(config)?;
    let script = engine.compile(SCRIPT).await?;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let input = RunInput::from_json(&std::fs::read_to_string(format!(
        "{root}/examples/rbac/input.json"
    ))?)?
    .with_env("URL", format!("{origin}/balance"));
    let mut fetch = FetchGrants::allowing([origin])?;
    fetch.timeout_ms = 10_000;
    let grants = Grants::default().with_timeout_ms(10_000).with_fetch(fetch);
    let rss_before = status_kb("VmRSS:") * 1024;

    let mut round_results = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let tasks: Vec<_> = (0..runs)
            .map(|_| {
                let (script, input, grants) = (script.clone(), input.clone(), grants.clone());
                tokio::spawn(async move { script.run(&input, &grants).await })
            })
            .collect();
        let (mut claims, mut errors) = (0, Vec::new());
        for task in tasks {
            match task.await? {
                Ok(report) => match report.outcome {
                    Outcome::Claims { .. } => claims += 1,
                    other => errors.push(format!("{other:?}")),
                },
                Err(e) => errors.push(e.to_string()),
            }
        }
        let wall = started.elapsed();
        errors.sort();
        errors.dedup();
        round_results.push(serde_json::json!({
            "claims": claims,
            "errors": errors,
            "wall_ms": wall.as_secs_f64() * 1e3,
        }));
    }
    drop(server.stdin.take());
    let mut most_pending = String::new();
    from_server.read_line(&mut most_pending)?;
    server.wait()?;

    let result = serde_json::json!({
        "runs": runs,
        "fetch_delay_ms": delay_ms,
        "rounds": round_results,
        "most_fetches_pending_at_once": most_pending.trim().parse::<u64>()?,
        "rss_before_bytes": rss_before,
        "peak_rss_bytes": status_kb("VmHWM:") * 1024,
        "peak_host_heap_bytes": HEAP_PEAK.load(Ordering::Relaxed),
        "rss_after": {
            "anon_bytes": status_kb("RssAnon:") * 1024,
            "file_bytes": status_kb("RssFile:") * 1024,
            "shmem_bytes": status_kb("RssShmem:") * 1024,
        },
    });
    println!("{result}");
    if args.iter().any(|a| a == "--mappings") {
        print_mappings();
    }
    Ok(())
}

/// A `kB` field of `/proc/self/status`, in kB (0 when missing).
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resident memory by kind of mapping, largest first. The pool gives each
/// slot its own mappings, so mappings of the same name and size are summed.
fn print_mappings() {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let mut current = String::new();
    let mut sums = std::collections::BTreeMap::<String, (u64, u64)>::new();
    for line in smaps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let Some((start, end)) = fields.first().and_then(|f| f.split_once('-'))
            && let (Ok(start), Ok(end)) =
                (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        {
            let name = fields.get(5).copied().unwrap_or("[anon]");
            current = format!("{name} ({} KiB each)", (end - start) / 1024);
        } else if let Some(kb) = line.strip_prefix("Rss:") {
            let kb: u64 = kb.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
            let entry = sums.entry(current.clone()).or_default();
            entry.0 += kb;
            entry.1 += 1;
        }
    }
    let mut rows: Vec<_> = sums.into_iter().collect();
    rows.sort_by_key(|(_, (kb, _))| std::cmp::Reverse(*kb));
    for (name, (kb, count)) in rows.into_iter().take(8) {
        eprintln!("{kb:>10} KiB resident in {count:>5} x {name}");
    }
}
