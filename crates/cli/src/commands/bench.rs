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
}

/// How many runs, and how many in flight at once.
struct Counts {
    runs: u64,
    concurrency: u64,
}

/// Run the benchmark and print its one JSON object of timings. The engine
/// never uses the cache directory: the figures include building it.
pub async fn run(args: Args, _globals: &Globals) -> Result<u8, Failure> {
    bench(
        &args.script,
        &args.input,
        args.grants.as_deref(),
        Counts {
            runs: args.runs,
            concurrency: args.concurrency,
        },
        &args.style.compile_options(),
        args.audit_log.as_deref(),
    )
    .await
}

async fn bench(
    script: &Path,
    input: &Path,
    grants: Option<&Path>,
    counts: Counts,
    options: &CompileOptions,
    audit_log: Option<&Path>,
) -> Result<u8, Failure> {
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
    // No cache: the figures include building the engine (compiling QuickJS)
    // and compiling the script in it.
    let started = Instant::now();
    let engine = engine(None, audit_log)?;
    let engine_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let script = match load_script(&engine, script, options).await? {
        Ok(script) => script,
        Err(report) => return Ok(print_report(&report)),
    };
    let compile_ms = started.elapsed().as_secs_f64() * 1e3;

    // Warm-up: fills the instance pool's warm slots and the caches.
    for _ in 0..(runs / 10).clamp(10, 1000) {
        let report = script.run(&input, &grants).await?;
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
            tokio::spawn(worker(script.clone(), input.clone(), grants.clone(), share))
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
    let result = serde_json::json!({
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
        "artifact_bytes": script.component_bytes().len(),
        "peak_memory_bytes": peak,
    });
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

async fn worker(
    script: Script,
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
    for _ in 0..runs {
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
