//! `claimscript bench`: run a script many times, as an embedder would, and
//! print one JSON object of timings.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use claimscript::{CompileOptions, ErrorKind, Grants, Outcome, RunInput, Script};

use crate::common::{
    EXIT_CLAIMS, EXIT_ERROR, Failure, Globals, StyleArg, UsageError, engine, load_grants,
    load_input, load_script, print_report,
};

/// Instantiations timed for `instantiate_us`.
const INSTANTIATIONS: usize = 101;

/// The most runs (`-n`) and the highest `--concurrency` a bench takes: the
/// timings alone take 16 bytes a run.
pub const MAX_RUNS: u64 = 10_000_000;

/// The arguments of `bench`.
#[derive(clap::Args)]
pub struct Args {
    /// The script: .js source or a compiled .wasm component.
    pub script: PathBuf,
    /// The input, as for `run`.
    #[arg(long)]
    pub input: PathBuf,
    /// The grants (TOML).
    #[arg(long)]
    pub grants: Option<PathBuf>,
    /// Measured runs, 1 to 10,000,000 (after a warm-up of n/10, between
    /// 10 and 1000).
    #[arg(short = 'n', long = "runs", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=MAX_RUNS))]
    pub runs: u64,
    /// Runs in flight at once, 1 to 10,000,000 (no more than the runs).
    #[arg(long, default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..=MAX_RUNS))]
    pub concurrency: u64,
    #[command(flatten)]
    pub style: StyleArg,
    /// Append each run's audit record (JSON lines) to this file.
    #[arg(long)]
    pub audit_log: Option<PathBuf>,
    /// Compile this many distinct variants of the script (each with its own
    /// constant appended) into the one engine, 1 to 100,000, run each once
    /// cold, then spread the measured runs over them; adds `tenants`,
    /// `rss_bytes`, `rss_per_tenant_bytes`, `cold_run_p50_us` and
    /// `cold_run_p99_us` to the JSON. The script must be .js source.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_TENANTS))]
    pub tenants: Option<u64>,
    /// Keep compiled code in this directory (created, mode 0700), as a
    /// service does in its data directory: scripts are then mapped from
    /// their files, and a second bench with the same directory loads them
    /// instead of compiling. Default: none, everything compiled in memory.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Print on stderr the resident memory by kind of mapping (from
    /// /proc/self/smaps), after compiling and at the end.
    #[arg(long)]
    pub mappings: bool,
}

/// The most `--tenants` a bench takes.
pub const MAX_TENANTS: u64 = 100_000;

/// How many runs, and how many in flight at once.
struct Counts {
    runs: u64,
    concurrency: u64,
    /// Distinct variants of the script; `None` for the script alone.
    tenants: Option<u64>,
}

/// Run the benchmark and print its one JSON object of timings. The engine
/// uses no cache directory unless `--cache-dir` names one: the figures
/// include building it.
pub async fn run(args: Args, _globals: &Globals) -> Result<u8, Failure> {
    bench(
        &args.script,
        &args.input,
        args.grants.as_deref(),
        Counts {
            runs: args.runs,
            concurrency: args.concurrency,
            tenants: args.tenants,
        },
        &args.style.compile_options(),
        Setup {
            cache_dir: args.cache_dir,
            audit_log: args.audit_log,
            mappings: args.mappings,
        },
    )
    .await
}

/// The engine's cache and audit log, and what to print besides the JSON.
struct Setup {
    cache_dir: Option<PathBuf>,
    audit_log: Option<PathBuf>,
    mappings: bool,
}

async fn bench(
    script: &Path,
    input: &Path,
    grants: Option<&Path>,
    counts: Counts,
    options: &CompileOptions,
    setup: Setup,
) -> Result<u8, Failure> {
    let mappings = setup.mappings;
    let limit = 1..=MAX_RUNS;
    if !limit.contains(&counts.runs) || !limit.contains(&counts.concurrency) {
        return Err(UsageError(format!(
            "-n and --concurrency must be between 1 and {MAX_RUNS}"
        ))
        .into());
    }
    // Both are at most MAX_RUNS, which fits a usize on every target we build.
    let runs = usize::try_from(counts.runs)
        .map_err(|_| UsageError(format!("-n must be at most {MAX_RUNS}")))?;
    // More workers than runs would leave some idle: at most `runs` are in
    // flight.
    let concurrency = usize::try_from(counts.concurrency)
        .map_err(|_| UsageError(format!("--concurrency must be at most {MAX_RUNS}")))?
        .min(runs);
    let grants = Arc::new(load_grants(grants)?);
    let input = Arc::new(load_input(input)?);
    // No cache (unless asked for): the figures include building the engine
    // (compiling QuickJS) and compiling the script in it.
    let started = Instant::now();
    let engine = engine(setup.cache_dir, setup.audit_log.as_deref())?;
    let engine_ms = started.elapsed().as_secs_f64() * 1e3;
    let rss_baseline = rss_bytes();
    let started = Instant::now();
    let (scripts, tenants) = match counts.tenants {
        None => match load_script(&engine, script, options).await? {
            Ok(script) => (vec![script], None),
            Err(report) => return Ok(print_report(&report)),
        },
        Some(n) => match compile_tenants(&engine, script, options, n).await? {
            Ok(scripts) => {
                let count = scripts.len();
                (scripts, Some(count))
            }
            Err(report) => return Ok(print_report(&report)),
        },
    };
    // Per script: with tenants, the mean over the variants.
    let compile_ms = started.elapsed().as_secs_f64() * 1e3 / scripts.len() as f64;
    let rss_compiled = rss_bytes();
    if mappings {
        eprintln!("resident memory after compiling, before any run:");
        print_mappings();
    }
    let scripts = Arc::new(scripts);
    let script = scripts[0].clone();

    // Tenants: each variant's first run, the one that pays for loading its
    // memory image into a slot.
    let mut cold = Vec::new();
    if tenants.is_some() {
        cold.reserve(scripts.len());
        for script in scripts.iter() {
            let started = Instant::now();
            let report = script.run(&input, &grants).await?;
            cold.push(started.elapsed());
            if !matches!(report.outcome, Outcome::Claims { .. } | Outcome::Denied(_)) {
                return Ok(print_report(&report));
            }
        }
        cold.sort();
    }
    let rss_cold = rss_bytes();

    // Warm-up: fills the instance pool's warm slots and the caches.
    for i in 0..(runs / 10).clamp(10, 1000) {
        let report = scripts[i % scripts.len()].run(&input, &grants).await?;
        if !matches!(report.outcome, Outcome::Claims { .. } | Outcome::Denied(_)) {
            return Ok(print_report(&report));
        }
    }
    let mut instantiations = Vec::with_capacity(INSTANTIATIONS);
    for _ in 0..INSTANTIATIONS {
        instantiations.push(script.time_instantiation().await?);
    }
    instantiations.sort();

    // `concurrency` workers, each running its share back to back and timing
    // each run: what a token endpoint's request tasks would see.
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let share = runs / concurrency + usize::from(w < runs % concurrency);
            tokio::spawn(worker(
                scripts.clone(),
                Stride {
                    first: w,
                    step: concurrency,
                },
                input.clone(),
                grants.clone(),
                share,
            ))
        })
        .collect();
    let mut times = Vec::with_capacity(runs);
    let (mut fuel, mut peak, mut denied, mut errors) = (None, 0, 0, 0);
    let mut first_error = None;
    for worker in workers {
        let done = worker.await.map_err(anyhow::Error::from)??;
        times.extend(done.times);
        fuel = done.fuel.or(fuel);
        peak = peak.max(done.peak_memory);
        denied += done.denied;
        errors += done.errors;
        first_error = first_error.or(done.first_error);
    }
    let wall = started.elapsed();
    times.sort();
    let mut result = serde_json::json!({
        "n": runs,
        "concurrency": concurrency,
        "denied": denied,
        "errors": errors,
        "p50_us": micros(percentile(&times, 0.50)),
        "p90_us": micros(percentile(&times, 0.90)),
        "p99_us": micros(percentile(&times, 0.99)),
        "runs_per_sec": runs as f64 / wall.as_secs_f64(),
        "fuel_per_run": fuel.unwrap_or_default(),
        "instantiate_us": micros(percentile(&instantiations, 0.50)),
        "compile_ms": compile_ms,
        "engine_ms": engine_ms,
        "artifact_bytes": script.artifact_len(),
        "peak_memory_bytes": peak,
    });
    if let (Some(tenants), Some(fields)) = (tenants, result.as_object_mut()) {
        let rss = rss_bytes();
        let growth = rss_cold.saturating_sub(rss_baseline);
        for (key, value) in [
            ("tenants", serde_json::json!(tenants)),
            ("rss_bytes", serde_json::json!(rss)),
            ("rss_baseline_bytes", serde_json::json!(rss_baseline)),
            ("rss_compiled_bytes", serde_json::json!(rss_compiled)),
            ("rss_after_cold_runs_bytes", serde_json::json!(rss_cold)),
            ("memfd_image_bytes", serde_json::json!(memfd_bytes())),
            (
                "rss_per_tenant_bytes",
                serde_json::json!(growth / tenants.max(1) as u64),
            ),
            (
                "cold_run_p50_us",
                serde_json::json!(micros(percentile(&cold, 0.50))),
            ),
            (
                "cold_run_p99_us",
                serde_json::json!(micros(percentile(&cold, 0.99))),
            ),
            (
                "distinct_artifacts",
                serde_json::json!(
                    scripts
                        .iter()
                        .map(Script::digest_hex)
                        .collect::<std::collections::HashSet<_>>()
                        .len()
                ),
            ),
        ] {
            fields.insert(key.to_string(), value);
        }
    }
    if mappings {
        eprintln!("resident memory at the end, every script still loaded:");
        print_mappings();
    }
    println!("{result}");
    if errors > 0 {
        // The kind only: an error's message may carry what the run was given.
        let first = first_error.map_or_else(|| "unknown".to_string(), |kind| kind.to_string());
        eprintln!(
            "claimscript: {errors} of {runs} runs ended in an error (the first: {first}); \
             the timings include them. `claimscript run` shows the error."
        );
        return Ok(EXIT_ERROR);
    }
    Ok(EXIT_CLAIMS)
}

struct WorkerResult {
    times: Vec<Duration>,
    /// The fuel of the worker's last run; `None` when it had no run.
    fuel: Option<u64>,
    peak_memory: u64,
    denied: usize,
    errors: usize,
    first_error: Option<ErrorKind>,
}

/// Which scripts a worker runs: `first`, `first + step`, ... (modulo the
/// number of scripts), so that the workers together go round all of them.
struct Stride {
    first: usize,
    step: usize,
}

async fn worker(
    scripts: Arc<Vec<Script>>,
    stride: Stride,
    input: Arc<RunInput>,
    grants: Arc<Grants>,
    runs: usize,
) -> Result<WorkerResult, Failure> {
    let mut result = WorkerResult {
        times: Vec::with_capacity(runs),
        fuel: None,
        peak_memory: 0,
        denied: 0,
        errors: 0,
        first_error: None,
    };
    for i in 0..runs {
        let at = (stride.first + i * stride.step) % scripts.len().max(1);
        let Some(script) = scripts.get(at) else {
            break;
        };
        let started = Instant::now();
        let report = script.run(&input, &grants).await?;
        result.times.push(started.elapsed());
        result.fuel = Some(report.stats.fuel);
        result.peak_memory = result.peak_memory.max(report.stats.memory_bytes);
        match report.outcome {
            Outcome::Claims { .. } => {}
            // A denial is a completed run (see BENCHMARKS.md).
            Outcome::Denied(_) => result.denied += 1,
            Outcome::Error(error) => {
                result.errors += 1;
                result.first_error.get_or_insert(error.kind);
            }
            _ => result.errors += 1,
        }
    }
    Ok(result)
}

/// The value at quantile `q` of sorted `times` (nearest rank).
fn percentile(times: &[Duration], q: f64) -> Duration {
    let rank = ((times.len() as f64 - 1.0) * q).round() as usize;
    times.get(rank).copied().unwrap_or_default()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Compile `n` distinct variants of the source at `path` into `engine`: the
/// source with a global constant appended, different for each, so that each
/// variant's memory image (and artifact digest) differs, as distinct
/// tenants' scripts would. `Err` holds the report of a variant that does not
/// compile.
async fn compile_tenants(
    engine: &claimscript::Engine,
    path: &Path,
    options: &CompileOptions,
    n: u64,
) -> Result<Result<Vec<Script>, claimscript::RunReport>, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    if bytes.starts_with(b"\0asm") {
        return Err(UsageError(format!(
            "--tenants compiles variants of a script's source; {} is a compiled component",
            path.display()
        ))
        .into());
    }
    let source = String::from_utf8(bytes)
        .map_err(|_| UsageError(format!("{}: the script is not UTF-8 text", path.display())))?;
    let n = usize::try_from(n.min(MAX_TENANTS))
        .map_err(|_| UsageError(format!("--tenants must be at most {MAX_TENANTS}")))?;
    let mut scripts = Vec::with_capacity(n);
    for i in 0..n {
        let variant = format!("{source}\n;var __claimscriptBenchTenant = {i};\n");
        match engine.compile_with(&variant, options).await {
            Ok(script) => scripts.push(script),
            Err(claimscript::Error::Script(error)) => {
                return Ok(Err(claimscript::RunReport::from_error(error)));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Ok(scripts))
}

/// The process's resident memory (`VmRSS`), in bytes; 0 where
/// `/proc/self/status` cannot be read.
fn rss_bytes() -> u64 {
    crate::return_free_memory();
    status_kb("VmRSS:") * 1024
}

/// The memory held by the memfds Wasmtime keeps scripts' memory images in
/// (a script compiled in memory, not mapped from a file, has one): shared
/// memory, counted in RSS only where a slot maps it, but memory all the
/// same. 0 where `/proc/self/fd` cannot be read.
fn memfd_bytes() -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
            return 0;
        };
        fds.flatten()
            .filter(|fd| {
                std::fs::read_link(fd.path())
                    .is_ok_and(|target| target.to_string_lossy().starts_with("/memfd:"))
            })
            .filter_map(|fd| std::fs::metadata(fd.path()).ok())
            .map(|meta| meta.blocks() * 512)
            .sum()
    }
    #[cfg(not(unix))]
    0
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

/// Resident memory by kind of mapping, largest first, on stderr: mappings
/// of the same name and size are summed (the instance pool gives each slot
/// its own, and Wasmtime maps each script's memory image from its own
/// memfd).
fn print_mappings() {
    for field in ["VmRSS:", "RssAnon:", "RssFile:", "RssShmem:"] {
        eprintln!("{:>10} KiB {field}", status_kb(field));
    }
    eprintln!(
        "{:>10} KiB in memfd memory images (not in RSS unless mapped)",
        memfd_bytes() / 1024
    );
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
            let perms = fields.get(1).copied().unwrap_or("");
            current = format!("{name} {perms} ({} KiB each)", (end - start) / 1024);
        } else if let Some(kb) = line.strip_prefix("Rss:") {
            let kb: u64 = kb.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
            if kb > 0 {
                let entry = sums.entry(current.clone()).or_default();
                entry.0 += kb;
                entry.1 += 1;
            }
        }
    }
    let mut rows: Vec<_> = sums.into_iter().collect();
    rows.sort_by_key(|(_, (kb, _))| std::cmp::Reverse(*kb));
    for (name, (kb, count)) in rows.into_iter().take(16) {
        eprintln!("{kb:>10} KiB resident in {count:>6} x {name}");
    }
}
