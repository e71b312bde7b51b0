//! `cargo run --release -p claimscript --example load_cost -- [N]`: what
//! loading an already compiled script costs, step by step. Compiles N
//! (default 200) variants of the RBAC example into an engine with a fresh
//! cache directory, then, in a second engine on the same directory, times
//! for each: reading its artifact, hashing it (SHA-256), validating it with
//! wasmparser, `Engine::load` (which checks, hashes and validates again,
//! maps the compiled component from the cache and builds the
//! `InstancePre`), and its first run; then, in a third engine, the same
//! for `Engine::load_stored` (by digest: no hash, no validation, no copy
//! kept, when the compiled component is cached). Prints one JSON object of
//! medians and 99th percentiles, in microseconds.

use std::time::{Duration, Instant};

use claimscript::{Engine, EngineConfig, Grants, RunInput};
use sha2::{Digest, Sha256};

fn quantiles(mut times: Vec<Duration>) -> serde_json::Value {
    times.sort();
    let at = |q: f64| {
        let i = ((times.len().saturating_sub(1)) as f64 * q).round() as usize;
        times.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    serde_json::json!({ "p50_us": at(0.5), "p99_us": at(0.99) })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args().nth(1).map_or(Ok(200), |a| a.parse())?;
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let source = std::fs::read_to_string(root.join("examples/rbac/script.js"))?;
    let input = RunInput::from_json(&std::fs::read_to_string(
        root.join("examples/rbac/input.json"),
    )?)?;
    let dir = std::env::temp_dir().join(format!("claimscript-load-cost-{}", std::process::id()));
    let artifacts = dir.join("artifacts");
    std::fs::create_dir_all(&artifacts)?;
    let config = || {
        let mut config = EngineConfig::default();
        config.cache_dir = Some(dir.join("cache"));
        config.cache_max_bytes = u64::MAX;
        config
    };
    let mut digests = Vec::with_capacity(n);
    {
        let engine = Engine::with_config(config())?;
        for i in 0..n {
            let script = engine
                .compile(&format!("{source}\n;var __tenant = {i};\n"))
                .await?;
            std::fs::write(
                artifacts.join(format!("{i}.wasm")),
                script
                    .component_bytes()
                    .ok_or("a compiled script keeps its artifact")?,
            )?;
            digests.push(script.digest_hex());
        }
    }
    let engine = Engine::with_config(config())?;
    let grants = Grants::default();
    let (mut read, mut hash, mut validate, mut load, mut first) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let t = Instant::now();
        let bytes = std::fs::read(artifacts.join(format!("{i}.wasm")))?;
        read.push(t.elapsed());
        let t = Instant::now();
        let digest = Sha256::digest(&bytes);
        hash.push(t.elapsed());
        std::hint::black_box(digest);
        let t = Instant::now();
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&bytes)?;
        validate.push(t.elapsed());
        let t = Instant::now();
        let script = engine.load(&bytes)?;
        load.push(t.elapsed());
        let t = Instant::now();
        script.run(&input, &grants).await?;
        first.push(t.elapsed());
    }
    drop(engine);
    let engine = Engine::with_config(config())?;
    let (mut stored, mut stored_first) = (Vec::new(), Vec::new());
    for (i, digest) in digests.iter().enumerate() {
        let bytes = std::fs::read(artifacts.join(format!("{i}.wasm")))?;
        let t = Instant::now();
        let script = engine.load_stored(&bytes, digest)?;
        stored.push(t.elapsed());
        let t = Instant::now();
        script.run(&input, &grants).await?;
        stored_first.push(t.elapsed());
    }
    println!(
        "{}",
        serde_json::json!({
            "scripts": n,
            "artifact_bytes": std::fs::metadata(artifacts.join("0.wasm"))?.len(),
            "read": quantiles(read),
            "sha256": quantiles(hash),
            "validate": quantiles(validate),
            "engine_load": quantiles(load),
            "first_run": quantiles(first),
            "engine_load_stored": quantiles(stored),
            "first_run_after_load_stored": quantiles(stored_first),
        })
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
