//! `cargo run --release -p claimscript --example soak -- --runs 1000000 [--concurrency 8] [--warmup 50000] [--sample-every 10000]`:
//! a soak test (`make soak`; figures in RELIABILITY.md). One engine, one
//! process, RUNS runs mixing claims, denials, script errors, fuel, memory and
//! time exhaustion, and fetches to a loopback server this program starts.
//! After WARMUP runs it samples the process's RSS, open file descriptors and
//! live heap bytes every SAMPLE_EVERY runs and fits a line through each
//! (least squares): the slope per 100,000 runs is the leak figure. At the
//! end it checks that the instance pool gave every slot back: as many runs
//! as the pool has slots are started at once, each holding its slot while it
//! awaits a slow fetch, and every one must end with claims.
//!
//! Prints one JSON object; exits 1 when a run ends in an outcome its kind
//! does not expect (each kind of run has exactly one expected outcome) or
//! when the pool check fails.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use claimscript::{
    Engine, EngineConfig, ErrorKind, FetchGrants, Grants, Outcome, RunInput, Script,
};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The system allocator, counting the bytes the host holds on the heap.
struct Counting;
static HEAP_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        HEAP_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        HEAP_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        HEAP_BYTES.fetch_add(new, Ordering::Relaxed);
        HEAP_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The kinds of run, and the outcome each must end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Claims,
    Denial,
    Throw,
    TypeError,
    Fuel,
    Memory,
    Timeout,
    Fetch,
    FetchRefused,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Claims => "claims",
            Kind::Denial => "denial",
            Kind::Throw => "script_error_throw",
            Kind::TypeError => "script_error_type",
            Kind::Fuel => "fuel_exhausted",
            Kind::Memory => "memory_exhausted",
            Kind::Timeout => "timeout",
            Kind::Fetch => "fetch",
            Kind::FetchRefused => "fetch_refused",
        }
    }

    /// Which kind run number `i` is: time exhaustion 1 in 10,000 (it takes
    /// wall time), memory 1 in 1,000, fuel and refused fetches 1 in 100,
    /// fetches 1 in 20, and the rest spread over claims, denials and errors.
    fn of(i: u64) -> Kind {
        if i % 10_000 == 9_999 {
            Kind::Timeout
        } else if i % 1_000 == 998 {
            Kind::Memory
        } else if i % 100 == 97 {
            Kind::Fuel
        } else if i % 100 == 96 {
            Kind::FetchRefused
        } else if i % 20 == 5 {
            Kind::Fetch
        } else {
            match i % 7 {
                0..=3 => Kind::Claims,
                4 => Kind::Denial,
                5 => Kind::Throw,
                _ => Kind::TypeError,
            }
        }
    }

    fn source(self) -> &'static str {
        match self {
            Kind::Claims => {
                "const getCustomJwtClaims = async ({ token, context }) => {
                   const roles = context.user.roles ?? [];
                   return { roles, admin: roles.includes('admin'), sub: token.sub, n: JSON.stringify(context).length };
                 };"
            }
            Kind::Denial => {
                "const getCustomJwtClaims = async ({ api, context }) => {
                   api.denyAccess('no access for ' + context.user.id);
                 };"
            }
            Kind::Throw => {
                "const getCustomJwtClaims = async () => { throw new Error('soak: thrown on purpose'); };"
            }
            Kind::TypeError => {
                "const getCustomJwtClaims = async ({ context }) => context.nothing.here;"
            }
            Kind::Fuel => "const getCustomJwtClaims = async () => { for (;;) {} };",
            Kind::Memory => {
                "const getCustomJwtClaims = async () => {
                   const keep = [];
                   for (;;) keep.push('x'.repeat(65536) + keep.length);
                 };"
            }
            Kind::Timeout => {
                "const getCustomJwtClaims = async () => { for (;;) {} };"
            }
            Kind::Fetch => {
                "const getCustomJwtClaims = async ({ environmentVariables }) => {
                   const r = await fetch(environmentVariables.BASE + '/balance');
                   return { balance: (await r.json()).balance, status: r.status };
                 };"
            }
            Kind::FetchRefused => {
                "const getCustomJwtClaims = async () => {
                   try { await fetch('http://10.255.255.1:9/x'); return { reached: true }; }
                   catch (e) { return { refused: e.message }; }
                 };"
            }
        }
    }

    fn grants(self, base: &str) -> Result<Grants, Error> {
        let fetch = FetchGrants::allowing([base])?;
        Ok(match self {
            Kind::Fuel => Grants::default().with_fuel(2_000_000),
            Kind::Memory => Grants::default().with_memory_mb(16),
            Kind::Timeout => Grants::default()
                .with_fuel(1_000_000_000_000)
                .with_timeout_ms(20),
            Kind::Fetch | Kind::FetchRefused => Grants::default().with_fetch(fetch),
            _ => Grants::default(),
        })
    }

    /// Whether `outcome` is the one this kind must end with.
    fn expected(self, outcome: &Outcome) -> bool {
        let error = |kind: ErrorKind| matches!(outcome, Outcome::Error(e) if e.kind == kind);
        match self {
            Kind::Claims => {
                matches!(outcome, Outcome::Claims { claims, .. } if claims.get("admin") == Some(&Value::Bool(true)))
            }
            Kind::Denial => matches!(outcome, Outcome::Denied(_)),
            Kind::Throw | Kind::TypeError => error(ErrorKind::Script),
            Kind::Fuel => error(ErrorKind::FuelExhausted),
            Kind::Memory => error(ErrorKind::Memory),
            Kind::Timeout => error(ErrorKind::Timeout),
            Kind::Fetch => {
                matches!(outcome, Outcome::Claims { claims, .. } if claims.get("balance") == Some(&json!(42)))
            }
            Kind::FetchRefused => matches!(outcome, Outcome::Claims { claims, .. }
                if claims.get("refused").and_then(Value::as_str).is_some_and(|m| m.starts_with("fetch failed: not granted"))),
        }
    }
}

const KINDS: [Kind; 9] = [
    Kind::Claims,
    Kind::Denial,
    Kind::Throw,
    Kind::TypeError,
    Kind::Fuel,
    Kind::Memory,
    Kind::Timeout,
    Kind::Fetch,
    Kind::FetchRefused,
];

const POOL_SLOTS: u32 = 64;

struct Args {
    runs: u64,
    concurrency: usize,
    warmup: u64,
    sample_every: u64,
}

fn parse_args() -> Result<Args, Error> {
    let mut args = Args {
        runs: 1_000_000,
        concurrency: 8,
        warmup: 50_000,
        sample_every: 10_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--runs" => args.runs = value.parse()?,
            "--concurrency" => args.concurrency = value.parse()?,
            "--warmup" => args.warmup = value.parse()?,
            "--sample-every" => args.sample_every = value.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    args.warmup = args.warmup.min(args.runs / 2);
    args.sample_every = args.sample_every.max(1);
    Ok(args)
}

fn main() -> Result<(), Error> {
    let args = parse_args()?;
    let server = std::thread::spawn(serve);
    let base = server_base()?;
    drop(server);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = runtime.block_on(soak(&args, &base))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report["ok"] != Value::Bool(true) {
        std::process::exit(1);
    }
    Ok(())
}

static SERVER_ADDR: std::sync::OnceLock<std::net::SocketAddr> = std::sync::OnceLock::new();

/// A loopback HTTP server on its own thread and runtime: `/balance` answers
/// `{"balance":42}`, `/slow` the same after 300 ms.
fn serve() {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async {
        let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
            return;
        };
        let Ok(addr) = listener.local_addr() else {
            return;
        };
        let _ = SERVER_ADDR.set(addr);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |req: hyper::Request<hyper::body::Incoming>| async move {
                        if req.uri().path() == "/slow" {
                            tokio::time::sleep(Duration::from_millis(300)).await;
                        }
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from_static(br#"{"balance":42}"#)))
                                .unwrap_or_default(),
                        )
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

fn server_base() -> Result<String, Error> {
    for _ in 0..500 {
        if let Some(addr) = SERVER_ADDR.get() {
            return Ok(format!("http://{addr}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err("the loopback server did not start".into())
}

/// Resident set size in bytes (`/proc/self/statm`).
fn rss_bytes() -> u64 {
    let pages: u64 = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse().ok()))
        .unwrap_or(0);
    pages * 4096
}

/// Open file descriptors (`/proc/self/fd`).
fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

/// Least-squares slope of `y` over `x`, per 100,000 of `x`.
fn slope_per_100k(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx * 100_000.0
    }
}

async fn soak(args: &Args, base: &str) -> Result<Value, Error> {
    let mut config = EngineConfig::default();
    config.max_concurrent_runs = POOL_SLOTS;
    let engine = Engine::with_config(config)?;
    let mut scripts: BTreeMap<Kind, (Arc<Script>, Arc<Grants>)> = BTreeMap::new();
    for kind in KINDS {
        let script = engine.compile(kind.source()).await?;
        scripts.insert(kind, (Arc::new(script), Arc::new(kind.grants(base)?)));
    }
    let input = Arc::new(
        RunInput::from_json(
            r#"{"token":{"sub":"user-1","scope":"openid profile"},
                "context":{"user":{"id":"user-1","roles":["admin","billing"],"email":"ada@example.com"}}}"#,
        )?
        .with_env("BASE", base),
    );

    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let tallies: Arc<std::sync::Mutex<BTreeMap<&'static str, [u64; 2]>>> = Arc::default();
    let unexpected: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let scripts = Arc::new(scripts);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (next, done, tallies, unexpected, scripts, input) = (
            next.clone(),
            done.clone(),
            tallies.clone(),
            unexpected.clone(),
            scripts.clone(),
            input.clone(),
        );
        let runs = args.runs;
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as u64;
                if i >= runs {
                    return;
                }
                let kind = Kind::of(i);
                let Some((script, grants)) = scripts.get(&kind) else {
                    return;
                };
                let ok = match script.run(&input, grants).await {
                    Ok(report) => {
                        let ok = kind.expected(&report.outcome);
                        if !ok {
                            let mut list = unexpected.lock().unwrap_or_else(|e| e.into_inner());
                            if list.len() < 20 {
                                list.push(format!(
                                    "run {i} ({}): {:?}",
                                    kind.name(),
                                    report.outcome
                                ));
                            }
                        }
                        ok
                    }
                    Err(e) => {
                        let mut list = unexpected.lock().unwrap_or_else(|e| e.into_inner());
                        if list.len() < 20 {
                            list.push(format!("run {i} ({}): did not start: {e}", kind.name()));
                        }
                        false
                    }
                };
                {
                    let mut t = tallies.lock().unwrap_or_else(|e| e.into_inner());
                    let entry = t.entry(kind.name()).or_default();
                    entry[usize::from(!ok)] += 1;
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }

    // Sample while the workers run.
    let mut samples: Vec<(u64, u64, u64, u64)> = Vec::new();
    let mut next_sample = args.warmup;
    let mut rss_peak = 0u64;
    loop {
        let finished = workers.is_empty() || done.load(Ordering::Relaxed) as u64 >= args.runs;
        let d = done.load(Ordering::Relaxed) as u64;
        if d >= next_sample && d < args.runs {
            let rss = rss_bytes();
            rss_peak = rss_peak.max(rss);
            samples.push((
                d,
                rss,
                open_fds(),
                HEAP_BYTES.load(Ordering::Relaxed) as u64,
            ));
            next_sample = d + args.sample_every;
        }
        if finished {
            break;
        }
        tokio::select! {
            joined = workers.join_next() => { if joined.is_none() { break; } }
            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    }
    while workers.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    let end = (
        done.load(Ordering::Relaxed) as u64,
        rss_bytes(),
        open_fds(),
        HEAP_BYTES.load(Ordering::Relaxed) as u64,
    );
    samples.push(end);

    // The pool: every slot at once, each held across a slow fetch.
    let (slow, grants) = {
        let source = "const getCustomJwtClaims = async ({ environmentVariables }) => {
            const r = await fetch(environmentVariables.BASE + '/slow');
            return { balance: (await r.json()).balance };
        };";
        (
            Arc::new(engine.compile(source).await?),
            Arc::new(Grants::default().with_fetch(FetchGrants::allowing([base])?)),
        )
    };
    let mut all = tokio::task::JoinSet::new();
    for _ in 0..POOL_SLOTS {
        let (slow, grants, input) = (slow.clone(), grants.clone(), input.clone());
        all.spawn(async move {
            match slow.run(&input, &grants).await {
                Ok(report) => Kind::Fetch.expected(&report.outcome),
                Err(_) => false,
            }
        });
    }
    let mut pool_ok = 0u32;
    while let Some(joined) = all.join_next().await {
        if joined.unwrap_or(false) {
            pool_ok += 1;
        }
    }

    let rss: Vec<(f64, f64)> = samples.iter().map(|s| (s.0 as f64, s.1 as f64)).collect();
    let fds: Vec<(f64, f64)> = samples.iter().map(|s| (s.0 as f64, s.2 as f64)).collect();
    let heap: Vec<(f64, f64)> = samples.iter().map(|s| (s.0 as f64, s.3 as f64)).collect();
    let tallies = tallies.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let unexpected = unexpected.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let runs_done = end.0;
    let ok = unexpected.is_empty() && pool_ok == POOL_SLOTS && runs_done == args.runs;
    let first = samples.first().copied().unwrap_or(end);
    Ok(json!({
        "ok": ok,
        "runs": runs_done,
        "concurrency": args.concurrency,
        "seconds": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "runs_per_second": (runs_done as f64 / elapsed.as_secs_f64()).round(),
        "by_kind": tallies.iter().map(|(k, [ok, bad])| (k.to_string(), json!({"expected": ok, "unexpected": bad}))).collect::<serde_json::Map<_, _>>(),
        "unexpected_examples": unexpected,
        "warmup_runs": args.warmup,
        "samples": samples.len(),
        "rss_bytes": {"after_warmup": first.1, "end": end.1, "peak": rss_peak.max(end.1),
                      "slope_per_100k_runs": slope_per_100k(&rss).round()},
        "open_fds": {"after_warmup": first.2, "end": end.2,
                     "slope_per_100k_runs": (slope_per_100k(&fds) * 100.0).round() / 100.0},
        "heap_bytes": {"after_warmup": first.3, "end": end.3,
                       "slope_per_100k_runs": slope_per_100k(&heap).round()},
        "pool": {"slots": POOL_SLOTS, "held_at_once_after_soak": pool_ok},
    }))
}
