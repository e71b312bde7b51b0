//! Many tenants in one service: register N distinct scripts through the
//! HTTP API (each compiled once, kept in the data directory), then run each
//! once cold and once hot, and print one JSON object: registration time,
//! cold and hot run latencies, and the process's resident memory.
//!
//!     cargo run --release -p claimscript-server --example tenants -- [N] [MAX_LOADED]
//!
//! N defaults to 1000, MAX_LOADED (`max_loaded_scripts`) to 100. The
//! server listens on an ephemeral loopback port; the client is in the same
//! process (its memory is counted too).

use std::time::{Duration, Instant};

use claimscript_server::{Service, ServiceConfig};

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
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
    let dir = std::env::temp_dir().join(format!("claimscript-tenants-{}", std::process::id()));
    let config = ServiceConfig::from_toml(
        &format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"data\"\nwatch_interval_ms = 0\n[limits]\nmax_loaded_scripts = {max_loaded}\n"
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
    for i in 0..tenants {
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
            "max_loaded_scripts": max_loaded,
            "register_seconds": (register_s * 10.0).round() / 10.0,
            "register_per_tenant_ms": (register_s * 1000.0 / tenants as f64 * 10.0).round() / 10.0,
            "cold_run_p50_us": percentile(&cold, 0.5),
            "cold_run_p99_us": percentile(&cold, 0.99),
            "hot_run_p50_us": percentile(&hot, 0.5),
            "rss_start_bytes": rss_start,
            "rss_engine_bytes": rss_engine,
            "rss_registered_bytes": rss_registered,
            "rss_after_cold_runs_bytes": rss_cold,
            "rss_per_registered_tenant_bytes": rss_cold.saturating_sub(rss_engine) / tenants.max(1) as u64,
        })
    );
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
