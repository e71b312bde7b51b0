//! Every outcome a script can produce, through the library.

use claimscript::{ErrorKind, Grants, LogLevel, Outcome, RunReport};
use serde_json::json;

use crate::{compile, denial, error, example_input, fixture, run_fixture};

fn claims(report: &RunReport) -> (&serde_json::Map<String, serde_json::Value>, &[String]) {
    match &report.outcome {
        Outcome::Claims {
            claims, dropped, ..
        } => (claims, dropped),
        other => panic!("expected claims, got {other:?}"),
    }
}

#[tokio::test]
async fn empty_object() {
    let report = run_fixture("empty", &Grants::default()).await;
    let (claims, dropped) = claims(&report);
    assert!(claims.is_empty());
    assert!(dropped.is_empty());
    assert!(report.stats.fuel > 0);
    assert!(report.stats.memory_bytes > 0);
}

#[tokio::test]
async fn rbac_example() {
    let source =
        std::fs::read_to_string(crate::repo_path("examples/rbac/script.js")).expect("example");
    let script = compile(&source).await;
    let report = crate::run_default(&script).await;
    let (claims, _) = claims(&report);
    assert_eq!(claims["roles"], json!(["admin", "analyst", "billing"]));
    assert_eq!(
        claims["permissions"],
        json!([
            "read:reports",
            "write:reports",
            "delete:reports",
            "export:reports",
            "read:invoices"
        ])
    );
    // The same compiled script runs again from a fresh instance.
    let again = crate::run_default(&script).await;
    assert_eq!(again.outcome, report.outcome);
}

#[tokio::test]
async fn machine_to_machine() {
    let source =
        std::fs::read_to_string(crate::repo_path("examples/m2m/script.js")).expect("example");
    let script = compile(&source).await;
    let report = script
        .run(&example_input("m2m"), &Grants::default())
        .await
        .expect("run");
    let (claims, _) = claims(&report);
    assert_eq!(claims["client_tier"], "premium");
    assert_eq!(claims["has_context"], false);
}

#[tokio::test]
async fn deny_with_message() {
    let report = run_fixture("deny", &Grants::default()).await;
    assert_eq!(
        denial(&report).message,
        "Your plan does not include this API"
    );
}

#[tokio::test]
async fn deny_default_message() {
    let report = run_fixture("deny_default", &Grants::default()).await;
    assert_eq!(denial(&report).message, "Access denied");
}

#[tokio::test]
async fn deny_caught_is_still_denied() {
    let report = run_fixture("deny_caught", &Grants::default()).await;
    assert_eq!(denial(&report).message, "blocked");
    assert_eq!(report.logs[0].message, "caught AccessDeniedError");
}

#[tokio::test]
async fn uncaught_throw() {
    let report = run_fixture("throw", &Grants::default()).await;
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::Script);
    assert_eq!(e.message, "TypeError: the user has no email");
    assert!(
        e.stack
            .as_deref()
            .is_some_and(|s| s.contains("getCustomJwtClaims")),
        "{e:?}"
    );
    assert_eq!((e.line, e.column), (Some(4), Some(15)));
}

#[tokio::test]
async fn thrown_non_error_value() {
    let report = run_fixture("throw_value", &Grants::default()).await;
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::Script);
    assert_eq!(e.message, "Uncaught a plain string");
}

#[tokio::test]
async fn never_settling_promise_is_pending_at_once() {
    let grants = Grants::default().with_timeout_ms(60_000);
    let report = run_fixture("never_settles", &grants).await;
    assert_eq!(error(&report).kind, ErrorKind::Pending);
    // Reported when the job queue drains, not when the wall clock runs out.
    assert!(report.stats.duration_us < 30_000_000, "{:?}", report.stats);
}

#[tokio::test]
async fn non_object_outputs() {
    for (name, what) in [
        ("returns_array", "an array"),
        ("returns_null", "null"),
        ("returns_string", "a string"),
    ] {
        let report = run_fixture(name, &Grants::default()).await;
        let e = error(&report);
        assert_eq!(e.kind, ErrorKind::InvalidOutput, "{name}");
        assert!(
            e.message.ends_with(&format!("got {what}")),
            "{name}: {}",
            e.message
        );
    }
}

#[tokio::test]
async fn oversized_output() {
    let report = run_fixture("oversized", &Grants::default()).await;
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::OutputTooLarge);
    assert!(
        e.message.contains("max_output_bytes is 51200"),
        "{}",
        e.message
    );
    // A larger grant lets it through.
    let report = run_fixture(
        "oversized",
        &Grants::default().with_max_output_bytes(100_000),
    )
    .await;
    assert!(matches!(report.outcome, Outcome::Claims { .. }));
}

#[tokio::test]
async fn protected_claims_are_dropped_and_listed() {
    let report = run_fixture("protected", &Grants::default()).await;
    let (claims, dropped) = claims(&report);
    assert_eq!(claims.keys().collect::<Vec<_>>(), ["tenant"]);
    assert_eq!(dropped, ["sub", "iss", "aud", "exp", "scope", "client_id"]);
}

#[tokio::test]
async fn console_is_captured() {
    let report = run_fixture("console", &Grants::default()).await;
    let logs: Vec<(LogLevel, &str)> = report
        .logs
        .iter()
        .map(|l| (l.level, l.message.as_str()))
        .collect();
    assert_eq!(
        logs[0],
        (LogLevel::Log, "hello {\"a\":1} [1,2] 42 null undefined")
    );
    assert_eq!(logs[1], (LogLevel::Info, "info"));
    assert_eq!(logs[2], (LogLevel::Warn, "warn"));
    assert_eq!(logs[3].0, LogLevel::Error);
    assert!(logs[3].1.starts_with("Error: boom"), "{}", logs[3].1);
    assert_eq!(logs[4], (LogLevel::Debug, "debug 10"));
    // Top-level output happened at compile time and is not part of a run.
    assert_eq!(logs.len(), 5);
}

#[tokio::test]
async fn console_is_bounded() {
    let report = run_fixture("console_flood", &Grants::default()).await;
    assert_eq!(report.logs.len(), claimscript::MAX_LOG_RECORDS + 1);
    assert!(
        report.logs[..100]
            .iter()
            .all(|l| l.message.len() <= claimscript::MAX_LOG_MESSAGE_BYTES)
    );
    assert!(report.logs[0].message.ends_with('…'));
    let last = &report.logs[100];
    assert_eq!(last.level, LogLevel::Warn);
    assert!(
        last.message
            .contains("50 more console records were dropped"),
        "{}",
        last.message
    );
}

#[tokio::test]
async fn no_host_globals() {
    let report = run_fixture("host_globals", &Grants::default()).await;
    let (claims, _) = claims(&report);
    assert_eq!(claims["found"], json!([]));
    assert_eq!(claims["requireWorks"], false);
    assert_eq!(claims["importWorks"], false);
    assert_eq!(claims["globalIsThis"], true);
}

#[tokio::test]
async fn standard_builtins() {
    let report = run_fixture("builtins", &Grants::default()).await;
    let (claims, _) = claims(&report);
    assert_eq!(
        serde_json::Value::Object(claims.clone()),
        json!({
            "random": true, "now": true, "iso": "2024-01-02T00:00:00.000Z", "json": 2,
            "regexp": "bbb", "map": 1, "set": 2, "bigint": "18446744073709551616",
            "all": 3, "chained": 42
        })
    );
}

#[tokio::test]
async fn math_random_differs_between_runs() {
    let script = compile(&fixture("random_runs")).await;
    let input = example_input("rbac");
    let mut seen = std::collections::HashSet::new();
    for _ in 0..3 {
        let report = script.run(&input, &Grants::default()).await.expect("run");
        let (claims, _) = claims(&report);
        seen.insert(claims["run"].to_string());
    }
    assert_eq!(
        seen.len(),
        3,
        "each run reseeds Math.random from the host CSPRNG"
    );
}

#[tokio::test]
async fn env_all_visible_by_default() {
    let script = compile(&fixture("env")).await;
    let input = example_input("rbac")
        .with_env("API_KEY", "k-123")
        .with_env("DB_PASSWORD", "hunter2");
    let report = script.run(&input, &Grants::default()).await.expect("run");
    let (claims, _) = claims(&report);
    assert_eq!(claims["apiKey"], "k-123");
    assert_eq!(claims["secret"], "hunter2");
    assert_eq!(
        claims["names"],
        json!(["API_KEY", "DB_PASSWORD", "REPORTS_API_KEY"])
    );
}

#[tokio::test]
async fn env_exposure_limits_what_is_visible() {
    let script = compile(&fixture("env")).await;
    let input = example_input("rbac")
        .with_env("API_KEY", "k-123")
        .with_env("DB_PASSWORD", "hunter2");
    let grants = Grants::default().with_env_exposed(["API_KEY"]);
    let report = script.run(&input, &grants).await.expect("run");
    let (claims, _) = claims(&report);
    assert_eq!(claims["apiKey"], "k-123");
    assert_eq!(claims["secret"], serde_json::Value::Null);
    assert_eq!(claims["names"], json!(["API_KEY"]));
}

#[tokio::test]
async fn fetch_without_grant_is_refused_and_recorded() {
    let report = crate::run_source(
        r#"const getCustomJwtClaims = async () => {
             try { await fetch('https://api.example.com/balance?user=1'); return { ok: true }; }
             catch (e) { return { name: e.name, message: e.message }; }
           };"#,
    )
    .await;
    let (claims, _) = claims(&report);
    assert_eq!(claims["name"], "TypeError");
    assert_eq!(
        claims["message"],
        "fetch failed: not granted: this script has no [fetch] grant"
    );
    let fetch = &report.stats.fetches[0];
    assert_eq!(fetch.method, "GET");
    assert_eq!(
        fetch.url, "https://api.example.com:443/balance",
        "no query string in records"
    );
    assert!(fetch.refused.is_some());
}

#[tokio::test]
async fn report_json_shape() {
    let report = run_fixture("deny", &Grants::default()).await;
    let json = report.to_json();
    assert_eq!(json["outcome"], "denied");
    assert_eq!(json["message"], "Your plan does not include this API");
    assert!(json["logs"].is_array());
    for key in ["fuel", "duration_us", "memory_bytes", "fetches"] {
        assert!(json["stats"].get(key).is_some(), "stats.{key}");
    }
    let report = run_fixture("throw", &Grants::default()).await;
    let json = report.to_json();
    assert_eq!(json["error"]["kind"], "script");
    assert_eq!(json["error"]["message"], "TypeError: the user has no email");
}

#[tokio::test]
async fn a_nul_character_in_the_source_is_a_syntax_error_at_its_place() {
    let e =
        crate::compile_error("const getCustomJwtClaims = async () => ({});\nconst x = 'a\0b';\n")
            .await;
    assert_eq!(e.kind, claimscript::ErrorKind::Syntax, "{e:?}");
    assert_eq!((e.line, e.column), (Some(2), Some(13)));
    assert!(
        e.message
            .contains("the source contains a NUL character (U+0000) at line 2, column 13"),
        "{}",
        e.message
    );
}
