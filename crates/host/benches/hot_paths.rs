//! Micro-benchmarks of a run's pieces, so that a regression in one shows:
//! `cargo bench -p claimscript --bench hot_paths`. The RBAC example's input
//! (a 3 KB Logto context) throughout.
//!
//! - `input/parse_json`: the embedder's input document into a `RunInput`
//!   (checked, the context kept as text);
//! - `input/parse_tree`: the same document parsed into a `serde_json::Value`
//!   first and then into a `RunInput` (the context a tree), the way an
//!   embedder holding a `Value` makes one;
//! - `input/marshal`, `input/marshal_tree`: the `RunInput` into the JSON the
//!   guest receives, from each of the two;
//! - `instantiate`: a fresh instance of the script's snapshot;
//! - `run/rbac`: a whole run, as an embedder sees it;
//! - `run/empty`: a whole run of a script that does nothing (the fixed cost);
//! - `output/validate`: the guest's claims JSON checked and stripped.

use std::time::Duration;

use claimscript::{Engine, Grants, RunInput, bench_support};
use criterion::{Criterion, criterion_group, criterion_main};

fn repo(path: &str) -> String {
    let path = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hot_paths(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let engine = Engine::new().expect("engine");
    let input_text = repo("examples/rbac/input.json");
    let input = RunInput::from_json(&input_text).expect("input");
    let rbac = runtime
        .block_on(engine.compile(&repo("examples/rbac/script.js")))
        .expect("compile");
    let empty = runtime
        .block_on(engine.compile("const getCustomJwtClaims = async () => ({});"))
        .expect("compile");
    let grants = Grants::default();

    c.bench_function("input/parse_json", |b| {
        b.iter(|| RunInput::from_json(&input_text).expect("input"))
    });
    c.bench_function("input/parse_tree", |b| {
        b.iter(|| {
            let value: serde_json::Value = serde_json::from_str(&input_text).expect("json");
            RunInput::from_value(value).expect("input")
        })
    });
    let tree_input =
        RunInput::from_value(serde_json::from_str(&input_text).expect("json")).expect("input");
    c.bench_function("input/marshal", |b| {
        b.iter(|| bench_support::marshal(&rbac, &input))
    });
    c.bench_function("input/marshal_tree", |b| {
        b.iter(|| bench_support::marshal(&rbac, &tree_input))
    });
    c.bench_function("instantiate", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    total += rbac.time_instantiation().await.expect("instantiate");
                }
                total
            })
        })
    });
    for (name, script) in [("run/rbac", &rbac), ("run/empty", &empty)] {
        c.bench_function(name, |b| {
            b.iter(|| runtime.block_on(script.run(&input, &grants)).expect("run"))
        });
    }
    let claims = r#"{"roles":["admin","analyst","billing"],"permissions":["read:reports","write:reports","delete:reports","export:reports","read:invoices"],"sub":"dropped"}"#;
    c.bench_function("output/validate", |b| {
        b.iter(|| bench_support::validate(claims, grants.max_output_bytes))
    });
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
