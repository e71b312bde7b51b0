//! Many tenants in one service: register N distinct scripts through the
//! HTTP API (each compiled once, kept in the data directory), then run each
//! once cold and once hot, and print one JSON object: registration time,
//! cold and hot run latencies, and the process's resident memory.
//!
//!     cargo run --release -p claimscript-server --example tenants -- [N] [MAX_LOADED] [CACHE_BYTES]
//!
//! N defaults to 1000, MAX_LOADED (`max_loaded_scripts`) to 100,
//! CACHE_BYTES (`[cache] max_bytes`) to the service's default. The
//! server listens on an ephemeral loopback port; the client is in the same
//! process (its memory is counted too). With `TENANTS_DIR=DIR` the data
//! directory is kept in DIR, and a second run starts on it (a restart:
//! nothing is compiled again) and registers only the tenants it lacks.

use std::time::{Duration, Instant};

use claimscript_server::{Service, ServiceConfig};

/// A field of `/proc/self/status` given in kB (`VmRSS`, `RssAnon`,
/// `RssFile`), in bytes.
fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn rss_bytes() -> u64 {
    status_bytes("VmRSS")
}

/// Bytes of the files under `dir`, recursively.
fn disk_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => disk_bytes(&e.path()),
                _ => e.metadata().map_or(0, |m| m.len()),
            })
            .sum()
    })
}

fn percentile(sorted: &[Duration], q: f64) -> u64 {
    let i = ((sorted.len().saturating_sub(1)) as f64 * q).round() as usize;
    sorted.get(i).map_or(0, |d| d.as_micros() as u64)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let tenants: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let max_loaded: usize = args.next().map_or(Ok(100), |a| a.parse())?;
    let cache_bytes: u64 = args.next().map_or(
        Ok(claimscript_server::config::DEFAULT_CACHE_MAX_BYTES),
        |a| a.parse(),
    )?;
    // `TENANTS_DIR` keeps the service's directory for another run, which
    // then starts on the kept data directory (a restart) and registers
    // only the tenants not there yet.
    let kept = std::env::var_os("TENANTS_DIR").map(std::path::PathBuf::from);
    let dir = kept.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("claimscript-tenants-{}", std::process::id()))
    });
    let config = ServiceConfig::from_toml(
        &format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"data\"\nwatch_interval_ms = 0\n[limits]\nmax_loaded_scripts = {max_loaded}\n[cache]\nmax_bytes = {cache_bytes}\n"
        ),
        &dir,
        None,
    )?;
    let rss_start = rss_bytes();
    let server = Service::new(config).await?.bind().await?;
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();
    let rss_engine = rss_bytes();

    let started = Instant::now();
    let registered = std::fs::read_dir(dir.join("data").join("scripts")).map_or(0, Iterator::count);
    for i in registered.min(tenants)..tenants {
        let source = format!(
            "const TENANT = {i};\nconst getCustomJwtClaims = async ({{ context }}) => ({{ tenant: TENANT, roles: (context?.user?.roles ?? []).map((r) => r.name) }});"
        );
        let r = client
            .put(format!("{base}/v1/scripts/t{i}"))
            .json(&serde_json::json!({ "source": source }))
            .send()
            .await?;
        if r.status() != 201 {
            return Err(format!("registering t{i}: {} {}", r.status(), r.text().await?).into());
        }
    }
    let register_s = started.elapsed().as_secs_f64();
    let rss_registered = rss_bytes();

    let input = serde_json::json!({"token": {"accountId": "u1"}, "context": {"user": {"roles": [{"name": "admin"}]}}});
    let run_all = async |label: &str| -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
        let mut times = Vec::with_capacity(tenants);
        for i in 0..tenants {
            let t0 = Instant::now();
            let r = client
                .post(format!("{base}/v1/scripts/t{i}/run"))
                .json(&input)
                .send()
                .await?;
            let body: serde_json::Value = r.json().await?;
            times.push(t0.elapsed());
            if body["claims"]["tenant"] != i {
                return Err(format!("{label} run of t{i}: {body}").into());
            }
        }
        times.sort();
        Ok(times)
    };
    // Cold: every tenant's first run after the registrations (the cache
    // holds only the last MAX_LOADED registered).
    let cold = run_all("cold").await?;
    let rss_cold = rss_bytes();
    // Anonymous memory (heap) and mapped files (the compiled scripts'
    // pages, clean page cache the kernel can take back).
    let (anon_cold, file_cold) = (status_bytes("RssAnon"), status_bytes("RssFile"));
    // Hot: the last MAX_LOADED tenants again (now in the cache).
    let mut hot = Vec::new();
    for i in tenants.saturating_sub(max_loaded)..tenants {
        let t0 = Instant::now();
        client
            .post(format!("{base}/v1/scripts/t{i}/run"))
            .json(&input)
            .send()
            .await?
            .bytes()
            .await?;
        hot.push(t0.elapsed());
    }
    hot.sort();
    println!(
        "{}",
        serde_json::json!({
            "tenants": tenants,
            "registered_before": registered,
            "max_loaded_scripts": max_loaded,
            "cache_max_bytes": cache_bytes,
            "register_seconds": (register_s * 10.0).round() / 10.0,
            "register_per_tenant_ms": (register_s * 1000.0 / tenants as f64 * 10.0).round() / 10.0,
            "cold_run_p50_us": percentile(&cold, 0.5),
            "cold_run_p99_us": percentile(&cold, 0.99),
            "hot_run_p50_us": percentile(&hot, 0.5),
            "hot_run_p99_us": percentile(&hot, 0.99),
            "data_dir_bytes": disk_bytes(&dir.join("data")),
            "cache_dir_bytes": disk_bytes(&dir.join("data").join("cache")),
            "rss_start_bytes": rss_start,
            "rss_engine_bytes": rss_engine,
            "rss_registered_bytes": rss_registered,
            "rss_after_cold_runs_bytes": rss_cold,
            "rss_anon_after_cold_runs_bytes": anon_cold,
            "rss_file_after_cold_runs_bytes": file_cold,
            "rss_per_registered_tenant_bytes": rss_cold.saturating_sub(rss_engine) / tenants.max(1) as u64,
        })
    );
    server.shutdown().await;
    if kept.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
