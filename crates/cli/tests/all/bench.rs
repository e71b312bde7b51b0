//! `claimscript bench --tenants`: many distinct scripts in one engine.

use crate::{claimscript, repo_path, run_json};

fn rbac() -> (String, String) {
    (
        repo_path("examples/rbac/script.js").display().to_string(),
        repo_path("examples/rbac/input.json").display().to_string(),
    )
}

#[test]
fn bench_tenants_reports_density_and_cold_runs() {
    let (script, input) = rbac();
    let (status, json) = run_json(&[
        "bench",
        &script,
        "--input",
        &input,
        "--tenants",
        "5",
        "-n",
        "20",
    ]);
    assert_eq!(status, 0, "{json}");
    assert_eq!(json["tenants"], 5);
    assert_eq!(
        json["distinct_artifacts"], 5,
        "each variant is its own script"
    );
    assert_eq!(json["n"], 20);
    assert_eq!(json["errors"], 0);
    // The fields of a plain bench are all there.
    for key in [
        "p50_us",
        "p90_us",
        "p99_us",
        "runs_per_sec",
        "instantiate_us",
        "compile_ms",
        "engine_ms",
        "cold_run_p50_us",
        "cold_run_p99_us",
    ] {
        assert!(json[key].as_f64().is_some_and(|v| v > 0.0), "{key}: {json}");
    }
    assert!(json["cold_run_p50_us"].as_f64() <= json["cold_run_p99_us"].as_f64());
    let rss = json["rss_bytes"].as_u64().expect("rss_bytes");
    let baseline = json["rss_baseline_bytes"].as_u64().expect("baseline");
    let per_tenant = json["rss_per_tenant_bytes"].as_u64().expect("per tenant");
    assert!(rss > 0 && baseline > 0 && baseline < rss, "{json}");
    assert!(per_tenant > 0 && per_tenant * 5 <= rss, "{json}");
    assert!(json["artifact_bytes"].as_u64().is_some_and(|b| b > 0));
}

#[test]
fn bench_tenants_needs_source_and_a_count() {
    let (script, input) = rbac();
    let out = claimscript(&["bench", &script, "--input", &input, "--tenants", "0"]);
    assert_eq!(
        out.status.code(),
        Some(64),
        "refused by the argument parser"
    );
    let dir = tempfile::tempdir().expect("dir");
    let wasm = dir.path().join("rbac.wasm");
    let wasm = wasm.display().to_string();
    let out = claimscript(&["compile", &script, "-o", &wasm]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = claimscript(&["bench", &wasm, "--input", &input, "--tenants", "2"]);
    assert_eq!(out.status.code(), Some(64), "a usage error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--tenants compiles variants"), "{stderr}");
}
