//! `cargo run --release -p claimscript --example soak -- --runs 1000000 [--concurrency 8] [--warmup 50000] [--sample-every 10000]`:
//! a soak test (`make soak`; figures in RELIABILITY.md). One engine, one
//! process, RUNS runs mixing claims, denials, script errors, fuel, memory and
//! time exhaustion, and fetches to a loopback server this program starts
//! (and fetches the grants refuse, which send nothing).
//! After WARMUP runs it samples the process's RSS, open file descriptors and
//! live heap bytes every SAMPLE_EVERY runs and fits a line through each
//! (least squares): the slope per 100,000 runs is the leak figure. At the
//! end it checks that the instance pool gave every slot back: as many runs
//! as the pool has slots are started at once, each holding its slot while it
//! awaits a slow fetch (the server sees them all in flight together), and
//! every one must end with claims; one more run started while they hold
//! their slots must be refused (the pool is full, not bigger); then a second
//! full round must succeed again.
//!
//! Prints progress on stderr and one JSON object on stdout; exits 1 when a
//! run ends in an outcome its kind does not expect (each kind of run has
//! exactly one expected outcome), when the pool check fails, or on a clear
//! leak: a slope over [`LEAK_RSS_PER_100K`], [`LEAK_HEAP_PER_100K`] or
//! [`LEAK_FDS_PER_100K`] (judged when the samples span at least
//! [`MIN_JUDGED_RUNS`] runs).

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
                   for (;;) keep.push(new Uint8Array(1 << 20));
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
                   try { await fetch('http://127.0.0.1:9/x'); return { reached: true }; }
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

/// Each kind's compiled script and grants.
type Scripts = BTreeMap<Kind, (Arc<Script>, Arc<Grants>)>;

/// The engine's instance pool (`EngineConfig::max_concurrent_runs`).
const POOL_SLOTS: u32 = 64;

/// A clear leak: RSS growing by more than 16 MiB per 100,000 runs after the
/// warm-up (168 bytes a run).
const LEAK_RSS_PER_100K: f64 = 16.0 * 1024.0 * 1024.0;
/// A clear leak: live heap growing by more than 4 MiB per 100,000 runs
/// (42 bytes a run).
const LEAK_HEAP_PER_100K: f64 = 4.0 * 1024.0 * 1024.0;
/// A clear leak: more than one file descriptor per 100,000 runs.
const LEAK_FDS_PER_100K: f64 = 1.0;
/// Leaks are judged only when the samples span this many runs.
const MIN_JUDGED_RUNS: u64 = 200_000;

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

/// `/slow` requests being answered, and the most there were at once.
static SLOW_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static SLOW_PEAK: AtomicUsize = AtomicUsize::new(0);

/// A loopback HTTP server on its own thread and runtime: `/balance` answers
/// `{"balance":42}`, `/slow` the same after 300 ms (counting how many it
/// holds at once).
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
                            let now = SLOW_IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
                            SLOW_PEAK.fetch_max(now, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(300)).await;
                            SLOW_IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
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
    let mut scripts: Scripts = BTreeMap::new();
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
    let mut next_progress = 100_000u64;
    loop {
        let finished = workers.is_empty() || done.load(Ordering::Relaxed) as u64 >= args.runs;
        let d = done.load(Ordering::Relaxed) as u64;
        rss_peak = rss_peak.max(rss_bytes());
        if d >= next_progress {
            eprintln!(
                "soak: {d} runs in {:.0} s, RSS {} MiB, {} fds",
                started.elapsed().as_secs_f64(),
                rss_bytes() >> 20,
                open_fds()
            );
            next_progress = d + 100_000;
        }
        if d >= next_sample && d < args.runs {
            samples.push((
                d,
                rss_bytes(),
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

    // The pool: every slot at once, each held across a slow fetch; one more
    // while they hold must be refused; then every slot again.
    let slow = {
        let source = "const getCustomJwtClaims = async ({ environmentVariables }) => {
            const r = await fetch(environmentVariables.BASE + '/slow');
            return { balance: (await r.json()).balance, status: r.status };
        };";
        Arc::new(engine.compile(source).await?)
    };
    let grants = Arc::new(Kind::Fetch.grants(base)?);
    let (first_round, held_at_once, extra) =
        pool_round(&slow, &grants, &input, Some(&scripts)).await;
    let (second_round, _, _) = pool_round(&slow, &grants, &input, None).await;
    let pool_ok = first_round == POOL_SLOTS
        && second_round == POOL_SLOTS
        && held_at_once == POOL_SLOTS as usize
        && extra.as_deref().is_some_and(|e| e.starts_with("refused: "));

    let rss: Vec<(f64, f64)> = samples.iter().map(|s| (s.0 as f64, s.1 as f64)).collect();
    let fds: Vec<(f64, f64)> = samples.iter().map(|s| (s.0 as f64, s.2 as f64)).collect();
    let heap: Vec<(f64, f64)> = samples.iter().map(|s| (s.0 as f64, s.3 as f64)).collect();
    let tallies = tallies.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let unexpected = unexpected.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let runs_done = end.0;
    let (rss_slope, heap_slope, fds_slope) = (
        slope_per_100k(&rss),
        slope_per_100k(&heap),
        slope_per_100k(&fds),
    );
    let first = samples.first().copied().unwrap_or(end);
    // A slope over a short stretch is mostly the warm-up's noise: leaks are
    // judged only over at least MIN_JUDGED_RUNS sampled runs.
    let judged = end.0.saturating_sub(first.0) >= MIN_JUDGED_RUNS;
    let leaks: Vec<&str> = [
        (rss_slope > LEAK_RSS_PER_100K, "rss"),
        (heap_slope > LEAK_HEAP_PER_100K, "heap"),
        (fds_slope > LEAK_FDS_PER_100K, "open_fds"),
    ]
    .into_iter()
    .filter_map(|(leak, name)| (judged && leak).then_some(name))
    .collect();
    let ok = unexpected.is_empty() && pool_ok && runs_done == args.runs && leaks.is_empty();
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
                      "slope_per_100k_runs": rss_slope.round(),
                      "leak_threshold_per_100k_runs": LEAK_RSS_PER_100K},
        "open_fds": {"after_warmup": first.2, "end": end.2,
                     "slope_per_100k_runs": (fds_slope * 100.0).round() / 100.0,
                     "leak_threshold_per_100k_runs": LEAK_FDS_PER_100K},
        "heap_bytes": {"after_warmup": first.3, "end": end.3,
                       "slope_per_100k_runs": heap_slope.round(),
                       "leak_threshold_per_100k_runs": LEAK_HEAP_PER_100K},
        "leaks_judged": judged,
        "leaks": leaks,
        "pool": {"slots": POOL_SLOTS, "ok": pool_ok,
                 "first_round_claims": first_round, "held_at_once": held_at_once,
                 "one_more_while_full": extra, "second_round_claims": second_round},
    }))
}

/// Start `POOL_SLOTS` slow runs at once. Returns how many ended with claims
/// and the most `/slow` requests the server held at once; with `extra`,
/// also starts one more run (a plain claims run) once the server holds them
/// all, and says how it ended: `refused: MESSAGE` (an `internal` error)
/// or what else happened.
async fn pool_round(
    slow: &Arc<Script>,
    grants: &Arc<Grants>,
    input: &Arc<RunInput>,
    extra: Option<&Arc<Scripts>>,
) -> (u32, usize, Option<String>) {
    SLOW_PEAK.store(0, Ordering::SeqCst);
    let mut all = tokio::task::JoinSet::new();
    for _ in 0..POOL_SLOTS {
        let (slow, grants, input) = (slow.clone(), grants.clone(), input.clone());
        all.spawn(async move {
            match slow.run(&input, &grants).await {
                Ok(report) => matches!(&report.outcome, Outcome::Claims { claims, .. }
                    if claims.get("balance") == Some(&json!(42))),
                Err(_) => false,
            }
        });
    }
    let mut extra_outcome = None;
    if let Some((script, extra_grants)) = extra.and_then(|scripts| scripts.get(&Kind::Claims)) {
        // Wait (at most 5 s) until the server holds every slot's request.
        for _ in 0..500 {
            if SLOW_IN_FLIGHT.load(Ordering::SeqCst) >= POOL_SLOTS as usize {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        extra_outcome = Some(match script.run(input, extra_grants).await {
            Ok(report) => match &report.outcome {
                Outcome::Error(e) if e.kind == ErrorKind::Internal => {
                    format!("refused: {}", e.message)
                }
                other => format!("not refused: {other:?}"),
            },
            Err(e) => format!("did not start: {e}"),
        });
    }
    let mut claims = 0u32;
    while let Some(joined) = all.join_next().await {
        if joined.unwrap_or(false) {
            claims += 1;
        }
    }
    (claims, SLOW_PEAK.load(Ordering::SeqCst), extra_outcome)
}
