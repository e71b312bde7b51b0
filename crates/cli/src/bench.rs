//! `claimscript bench`: run a script many times, as an embedder would, and
//! print one JSON object of timings.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use claimscript::{CompileOptions, Grants, Outcome, RunInput, Script};

use crate::common::{
    EXIT_CLAIMS, Failure, UsageError, engine, load_grants, load_input, load_script, print_report,
};

/// Instantiations timed for `instantiate_us`.
const INSTANTIATIONS: usize = 101;

pub async fn bench(
    script: &Path,
    input: &Path,
    grants: Option<&Path>,
    runs: usize,
    concurrency: usize,
    audit_log: Option<&Path>,
) -> Result<u8, Failure> {
    if runs == 0 || concurrency == 0 {
        return Err(UsageError("-n and --concurrency must be at least 1".into()).into());
    }
    let grants = Arc::new(load_grants(grants)?);
    let input = Arc::new(load_input(input)?);
    // No cache: the figures include building the engine (compiling QuickJS)
    // and compiling the script in it.
    let started = Instant::now();
    let engine = engine(None, audit_log)?;
    let engine_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let script = match load_script(&engine, script, &CompileOptions::default()).await? {
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
    let (mut fuel, mut peak) = (0, 0);
    for worker in workers {
        let done = worker.await.map_err(anyhow::Error::from)??;
        times.extend(done.times);
        fuel = done.fuel;
        peak = peak.max(done.peak_memory);
    }
    let wall = started.elapsed();
    times.sort();
    let result = serde_json::json!({
        "n": runs,
        "concurrency": concurrency,
        "p50_us": micros(percentile(&times, 0.50)),
        "p90_us": micros(percentile(&times, 0.90)),
        "p99_us": micros(percentile(&times, 0.99)),
        "runs_per_sec": runs as f64 / wall.as_secs_f64(),
        "fuel_per_run": fuel,
        "instantiate_us": micros(percentile(&instantiations, 0.50)),
        "compile_ms": compile_ms,
        "engine_ms": engine_ms,
        "artifact_bytes": script.component_bytes().len(),
        "peak_memory_bytes": peak,
    });
    println!("{result}");
    Ok(EXIT_CLAIMS)
}

struct WorkerResult {
    times: Vec<Duration>,
    fuel: u64,
    peak_memory: u64,
}

async fn worker(
    script: Script,
    input: Arc<RunInput>,
    grants: Arc<Grants>,
    runs: usize,
) -> Result<WorkerResult, Failure> {
    let mut result = WorkerResult {
        times: Vec::with_capacity(runs),
        fuel: 0,
        peak_memory: 0,
    };
    for _ in 0..runs {
        let started = Instant::now();
        let report = script.run(&input, &grants).await?;
        result.times.push(started.elapsed());
        result.fuel = report.stats.fuel;
        result.peak_memory = result.peak_memory.max(report.stats.memory_bytes);
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
