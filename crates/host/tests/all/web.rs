//! Web platform APIs: the conformance scripts in `guest/tests-js/`, and the
//! cases that need the host (aborting fetches, timers and the wall clock).

use std::time::Instant;

use claimscript::{ErrorKind, FetchGrants, Grants, Outcome, RunReport};
use serde_json::Value;

use crate::{compile, error, example_input, repo_path, server};

/// Run a conformance script, with `guest/tests-js/harness.js` in front of
/// it, and fail with every check that did not pass.
async fn conformance(name: &str) {
    let read = |file: &str| {
        let path = repo_path(&format!("guest/tests-js/{file}.js"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let script = compile(&format!("{}\n{}", read("harness"), read(name))).await;
    // Some checks are deliberately heavy (30 000-character round trips).
    let grants = Grants::default()
        .with_timeout_ms(10_000)
        .with_fuel(2_000_000_000);
    let report = script
        .run(&example_input("rbac"), &grants)
        .await
        .expect("run");
    let results = match &report.outcome {
        Outcome::Claims { claims, .. } => claims["results"].clone(),
        other => panic!("{name}: {other:?}\nlogs: {:?}", report.logs),
    };
    let results = results.as_object().expect("results object");
    assert!(results.len() >= 5, "{name}: only {} checks", results.len());
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, v)| **v != Value::Bool(true))
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    assert!(
        failed.is_empty(),
        "{name}: {} of {} failed:\n{}",
        failed.len(),
        results.len(),
        failed.join("\n")
    );
}

#[tokio::test]
async fn url_and_search_params() {
    conformance("url").await;
}

#[tokio::test]
async fn text_encoding() {
    conformance("text").await;
}

#[tokio::test]
async fn base64() {
    conformance("base64").await;
}

#[tokio::test]
async fn structured_clone() {
    conformance("structured_clone").await;
}

#[tokio::test]
async fn crypto() {
    conformance("crypto").await;
}

#[tokio::test]
async fn abort() {
    conformance("abort").await;
}

#[tokio::test]
async fn timers() {
    conformance("timers").await;
}

#[tokio::test]
async fn fetch_objects() {
    conformance("fetch_objects").await;
}

fn claims(report: &RunReport) -> Value {
    match &report.outcome {
        Outcome::Claims { claims, .. } => Value::Object(claims.clone()),
        other => panic!("expected claims, got {other:?}"),
    }
}

#[tokio::test]
async fn aborting_a_fetch_before_and_during_the_request() {
    let server = server::start().await;
    let script = compile(
        "const getCustomJwtClaims = async ({ environmentVariables }) => {\n\
           const BASE = environmentVariables.BASE;\n\
           const before = new AbortController();\n\
           before.abort(new Error('changed my mind'));\n\
           const early = await fetch(`${BASE}/echo`, { signal: before.signal }).catch((e) => e.message);\n\
           const during = new AbortController();\n\
           const started = Date.now();\n\
           setTimeout(() => during.abort(), 20);\n\
           const late = await fetch(`${BASE}/slow`, { signal: during.signal }).catch((e) => e.name);\n\
           const timedOut = await fetch(`${BASE}/slow`, { signal: AbortSignal.timeout(30) }).catch((e) => e.name);\n\
           const waitedMs = Date.now() - started;\n\
           // Only the signal's own abort stops a fetch, not an event named so.\n\
           const fake = new AbortController();\n\
           const pending = fetch(`${BASE}/echo`, { signal: fake.signal });\n\
           fake.signal.dispatchEvent(new Event('abort'));\n\
           const synthetic = await pending.then((r) => r.status, (e) => `rejected: ${e}`);\n\
           return { early, late, timedOut, waitedMs, synthetic };\n\
         };",
    )
    .await;
    let grants = Grants::default().with_timeout_ms(3_000).with_fetch({
        let mut fetch = FetchGrants::allowing([server.base()]).expect("grant");
        fetch.timeout_ms = 2_500;
        fetch
    });
    let input = example_input("rbac").with_env("BASE", server.base());
    let report = script.run(&input, &grants).await.expect("run");
    let out = claims(&report);
    assert_eq!(out["early"], "changed my mind");
    assert_eq!(out["late"], "AbortError");
    assert_eq!(out["timedOut"], "TimeoutError");
    assert_eq!(out["synthetic"], 200);
    assert!(
        out["waitedMs"].as_u64().is_some_and(|ms| ms < 1_000),
        "{out}"
    );
    // The aborted request never started; the next two were stopped.
    let fetches = &report.stats.fetches;
    assert_eq!(fetches.len(), 3, "{fetches:?}");
    assert!(
        fetches[..2]
            .iter()
            .all(|f| f.refused.as_ref().map(|r| r.detail.as_str()) == Some("aborted by the script")),
        "{fetches:?}"
    );
    assert_eq!(fetches[2].status, Some(200), "{fetches:?}");
}

#[tokio::test]
async fn timers_wait_for_real_within_the_wall_clock() {
    let script = compile(
        "const getCustomJwtClaims = async () => {\n\
           const started = Date.now();\n\
           await new Promise((resolve) => setTimeout(resolve, 40));\n\
           return { waited: Date.now() - started };\n\
         };",
    )
    .await;
    let started = Instant::now();
    let report = crate::run_default(&script).await;
    assert!(
        claims(&report)["waited"]
            .as_u64()
            .is_some_and(|ms| ms >= 39),
        "{:?}",
        report.outcome
    );
    assert!(started.elapsed().as_millis() >= 39);
    assert!(report.stats.fuel < 5_000_000, "waiting costs no fuel");
}

#[tokio::test]
async fn a_timer_past_the_wall_clock_ends_the_run() {
    let script = compile(
        "const getCustomJwtClaims = async () => {\n\
           await new Promise((resolve) => setTimeout(resolve, 5_000));\n\
           return {};\n\
         };",
    )
    .await;
    let started = Instant::now();
    let report = script
        .run(
            &example_input("rbac"),
            &Grants::default().with_timeout_ms(100),
        )
        .await
        .expect("run");
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert_eq!(e.message, "the run exceeded timeout_ms = 100");
    assert!(started.elapsed().as_millis() < 1_000);
}

#[tokio::test]
async fn randomness_is_not_baked_into_the_snapshot() {
    // Top-level code cannot take random bytes (every run would share them);
    // runs get different ones.
    let top_level = claimscript::Engine::compile(
        crate::engine(),
        "const id = crypto.randomUUID();\nconst getCustomJwtClaims = () => ({ id });",
    )
    .await;
    match top_level {
        Err(claimscript::Error::Script(e)) => {
            assert!(
                e.message.contains("not available in top-level code"),
                "{}",
                e.message
            )
        }
        other => panic!("{other:?}"),
    }
    let script = compile("const getCustomJwtClaims = () => ({ id: crypto.randomUUID() });").await;
    let a = crate::run_default(&script).await;
    let b = crate::run_default(&script).await;
    assert_ne!(claims(&a)["id"], claims(&b)["id"]);
}

/// The input's big objects are built when first looked at
/// (`guest/src/lazy.rs`): every operation behaves as on a plain object.
#[tokio::test]
async fn lazy_input_objects_behave_as_plain_ones() {
    conformance("lazy_input").await;
}

/// Objects the guest's JSON builder makes (`res.json()`, the input) never
/// share state with the script's empty objects. They once did: the builder
/// filled in place the empty shape every new plain object starts with, so
/// `const claims = {}` held across `await res.json()` pointed at a freed
/// shape once the run's arena was used up, and the run trapped or looped.
#[tokio::test]
async fn json_bodies_leave_the_scripts_empty_objects_alone() {
    // Junk kept alive uses up the arena, so that freed memory is reused.
    let body = "const getCustomJwtClaims = async () => {\n\
        const claims = {};\n\
        const junk = [];\n\
        for (let i = 0; i < 10000; i++) junk.push({ i });\n\
        const text = JSON.stringify({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 });\n\
        const data = await new Response(text).json();\n\
        claims.balance = data.f;\n\
        return { literal: { first: await new Response(text).json(), second: junk.length }, claims, data };\n\
    };";
    let report = compile(body)
        .await
        .run(&example_input("rbac"), &Grants::default())
        .await
        .expect("run");
    let data = serde_json::json!({ "a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6 });
    match &report.outcome {
        Outcome::Claims { claims, .. } => {
            assert_eq!(claims["claims"], serde_json::json!({ "balance": 6 }));
            assert_eq!(claims["data"], data);
            assert_eq!(
                claims["literal"],
                serde_json::json!({ "first": data, "second": 10000 })
            );
        }
        other => panic!("{other:?}"),
    }
}
