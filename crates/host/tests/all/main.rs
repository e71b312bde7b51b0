//! Integration tests of the host library: one binary, one module per topic.

mod artifacts;
mod cache;
mod faults;
mod fetch;
mod forms;
mod hostile_output;
mod input;
mod limits;
mod marshal;
mod outcomes;
mod server;
mod styles;
mod tamper;
mod templates;
mod trail;
mod web;

use std::path::PathBuf;
use std::sync::OnceLock;

use claimscript::{Engine, Grants, Outcome, RunInput, RunReport, Script};

/// One engine per test binary: the runtime is prepared once.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new().expect("engine"))
}

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// The source of `tests/fixtures/scripts/NAME.js`.
pub fn fixture(name: &str) -> String {
    let path = repo_path(&format!("tests/fixtures/scripts/{name}.js"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The input of `examples/NAME/input.json`.
pub fn example_input(name: &str) -> RunInput {
    let path = repo_path(&format!("examples/{name}/input.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    RunInput::from_json(&text).expect("example input parses")
}

pub async fn compile(source: &str) -> Script {
    engine()
        .compile(source)
        .await
        .unwrap_or_else(|e| panic!("compile: {e}"))
}

/// The error compiling SOURCE fails with; panics if it compiles.
pub async fn compile_error(source: &str) -> claimscript::ScriptError {
    match engine().compile(source).await {
        Err(claimscript::Error::Script(e)) => e,
        other => panic!("expected a compile error, got {other:?}"),
    }
}

/// Compile fixture NAME and run it once on the RBAC example input.
pub async fn run_fixture(name: &str, grants: &Grants) -> RunReport {
    let script = compile(&fixture(name)).await;
    script
        .run(&example_input("rbac"), grants)
        .await
        .expect("run starts")
}

/// Run SCRIPT once on the RBAC example input with the default grants.
pub async fn run_default(script: &Script) -> RunReport {
    script
        .run(&example_input("rbac"), &Grants::default())
        .await
        .expect("run starts")
}

/// Compile SOURCE and run it once on the RBAC example input with the default grants.
pub async fn run_source(source: &str) -> RunReport {
    run_default(&compile(source).await).await
}

/// The error a run ended with; panics on any other outcome.
pub fn error(report: &RunReport) -> &claimscript::ScriptError {
    match &report.outcome {
        Outcome::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The denial a run ended with; panics on any other outcome.
pub fn denial(report: &RunReport) -> &claimscript::Denial {
    match &report.outcome {
        Outcome::Denied(d) => d,
        other => panic!("expected a denial, got {other:?}"),
    }
}
