//! The claims' way out of the runtime, against scripts that try to forge,
//! stretch or break it: the writer and its fallback use only what the
//! prelude captured at load, stop at `max_output_bytes`, cost a few fuel a
//! byte, and refuse what they cannot write with a message that says why.

use claimscript::{ErrorKind, FetchGrants, Grants, Outcome, RunReport};
use serde_json::{Value, json};

use crate::server;
use crate::{compile, compile_error, error, example_input, run_source};

fn claims(report: &RunReport) -> Value {
    match &report.outcome {
        Outcome::Claims { claims, .. } => Value::Object(claims.clone()),
        other => panic!("expected claims, got {other:?}"),
    }
}

/// A Logto script whose `getCustomJwtClaims` runs `body`.
fn logto(body: &str) -> String {
    format!("async function getCustomJwtClaims({{ environmentVariables }}) {{\n{body}\n}}\n")
}

#[tokio::test]
async fn a_replaced_json_stringify_does_not_write_a_proxys_claims() {
    // The proxy makes the runtime's writer decline: the fallback must be the
    // JSON.stringify captured at load, not the script's.
    let report = run_source(&logto(
        "JSON.stringify = () => '{\"forged\":true,\"roles\":[\"root\"]}';\n\
         return new Proxy({ role: 'reader' }, {});",
    ))
    .await;
    assert_eq!(claims(&report), json!({ "role": "reader" }));
}

#[tokio::test]
async fn a_replaced_json_stringify_does_not_write_a_to_json_result() {
    let report = run_source(&logto(
        "JSON.stringify = function () { return '{\"forged\":1}'; };\n\
         JSON.stringify.call = () => '{\"forged\":2}';\n\
         return { when: { toJSON() { return 'today'; } }, n: 1 };",
    ))
    .await;
    assert_eq!(claims(&report), json!({ "when": "today", "n": 1 }));
}

#[tokio::test]
async fn a_replaced_json_stringify_does_not_change_console_records() {
    let report = run_source(&logto(
        "JSON.stringify = () => 'forged';\nconsole.log({ a: 1 });\nreturn {};",
    ))
    .await;
    assert_eq!(report.logs.len(), 1);
    assert_eq!(report.logs[0].message, r#"{"a":1}"#);
}

#[tokio::test]
async fn lone_surrogates_become_replacement_characters() {
    let report = run_source(&logto(
        "return { s: 'x\\ud800y', t: ['\\udfff'], [ 'k\\udc00' ]: 1, pair: '\\ud83d\\ude00' };",
    ))
    .await;
    assert_eq!(
        claims(&report),
        json!({ "s": "x\u{fffd}y", "t": ["\u{fffd}"], "k\u{fffd}": 1, "pair": "\u{1f600}" })
    );
    // Through the fallback (a toJSON) too.
    let report = run_source(&logto(
        "return { s: { toJSON() { return 'a\\ud800b\\\\ud800'; } } };",
    ))
    .await;
    assert_eq!(claims(&report), json!({ "s": "a\u{fffd}b\\ud800" }));
}

/// Claims nested `levels` deep (`{}` is one level).
fn nested(levels: usize, leaf: &str) -> String {
    logto(&format!(
        "let o = {leaf}; for (let i = 1; i < {levels}; i++) o = {{ o }}; return o;"
    ))
}

#[tokio::test]
async fn nesting_up_to_the_limit_is_written_and_deeper_is_named() {
    let report = run_source(&nested(100, "{ end: true }")).await;
    let mut value = &claims(&report);
    for _ in 1..100 {
        value = &value["o"];
    }
    assert_eq!(value, &json!({ "end": true }));

    for leaf in ["{ end: true }", "{ end: { toJSON() { return 1; } } }"] {
        let report = run_source(&nested(101, leaf)).await;
        let e = error(&report);
        assert_eq!(e.kind, ErrorKind::InvalidOutput, "{leaf}");
        assert!(
            e.message.contains("more than 100 levels deep"),
            "{leaf}: {}",
            e.message
        );
    }
    // Far deeper: the same message, not a stack overflow.
    let report = run_source(&nested(100_000, "{}")).await;
    assert!(error(&report).message.contains("more than 100 levels deep"));
}

#[tokio::test]
async fn a_cycle_is_still_named_a_cycle() {
    let report = run_source(&logto("const o = { a: {} }; o.a.back = o; return o;")).await;
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::InvalidOutput);
    assert!(e.message.contains("circular"), "{}", e.message);
}

/// A script returning one claim of `bytes` characters, built by doubling
/// (cheap) rather than `repeat` (QuickJS's costs tens of fuel a character).
fn big_claim(bytes: usize) -> String {
    logto(&format!(
        "let s = 'x'; while (s.length < {bytes}) s += s; return {{ big: s.slice(0, {bytes}) }};"
    ))
}

#[tokio::test]
async fn output_over_the_cap_stops_at_the_cap_not_at_the_fuel() {
    let script = compile(&big_claim(500_000)).await;
    let report = script
        .run(&example_input("rbac"), &Grants::default())
        .await
        .expect("run");
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::OutputTooLarge, "{}", e.message);
    assert!(
        e.message.contains("max_output_bytes is 51200"),
        "{}",
        e.message
    );
    // The ID token's claims share the budget.
    let source = "exports.onExecutePostLogin = async (event, api) => {\n\
         let s = 'x'; while (s.length < 30000) s += s; s = s.slice(0, 30000);\n\
         api.accessToken.setCustomClaim('a', s);\n\
         api.idToken.setCustomClaim('b', s);\n\
         };";
    let script = compile(source).await;
    let report = script
        .run(&example_input("rbac"), &Grants::default())
        .await
        .expect("run");
    assert_eq!(error(&report).kind, ErrorKind::OutputTooLarge);
}

#[tokio::test]
async fn a_megabyte_of_claims_fits_the_default_fuel_at_a_few_fuel_a_byte() {
    let grants = Grants::default().with_max_output_bytes(2 << 20);
    let small = compile(&big_claim(1_000))
        .await
        .run(&example_input("rbac"), &grants)
        .await
        .expect("run");
    let big = compile(&big_claim(1 << 20))
        .await
        .run(&example_input("rbac"), &grants)
        .await
        .expect("run");
    assert_eq!(claims(&big)["big"].as_str().map(str::len), Some(1 << 20));
    let per_byte = (big.stats.fuel - small.stats.fuel) / (1 << 20);
    assert!(
        per_byte <= 8,
        "{per_byte} fuel a byte ({} in all)",
        big.stats.fuel
    );
}

#[tokio::test]
async fn a_nul_character_in_the_source_is_a_syntax_error_at_its_place() {
    let e = compile_error("function getCustomJwtClaims() {\n  return { a: '\0' };\n}\n").await;
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert_eq!((e.line, e.column), (Some(2), Some(16)));
    assert!(e.message.contains("NUL character"), "{}", e.message);
}

#[tokio::test]
async fn a_top_level_await_that_never_settles_is_pending() {
    let e = compile_error(
        "await new Promise(() => {});\nexport function getCustomJwtClaims() { return {}; }\n",
    )
    .await;
    assert_eq!(e.kind, ErrorKind::Pending, "{}", e.message);
    assert!(e.message.contains("never settle"), "{}", e.message);
}

#[tokio::test]
async fn json_of_a_900_kb_body_fits_the_default_fuel() {
    let server = server::start().await;
    let grants = Grants::default().with_fetch(
        FetchGrants::allowing(&[server.base().as_str()]).expect("patterns"),
    );
    let source = logto(
        "let s = 'x'; while (s.length < 900000) s += s;\n\
         const r = await fetch(`${environmentVariables.BASE}/echo`, { method: 'POST', body: s.slice(0, 900000) });\n\
         const echoed = await r.json();\n\
         return { length: echoed.body.length, method: echoed.method };",
    );
    let report = compile(&source)
        .await
        .run(&example_input("rbac").with_env("BASE", server.base()), &grants)
        .await
        .expect("run");
    assert_eq!(
        claims(&report),
        json!({ "length": 900_000, "method": "POST" })
    );
    assert!(report.stats.fuel < 10_000_000, "{}", report.stats.fuel);
}

#[tokio::test]
async fn json_keeps_json_parse_results_and_errors() {
    let server = server::start().await;
    let grants = Grants::default().with_fetch(
        FetchGrants::allowing(&[server.base().as_str()]).expect("patterns"),
    );
    // Bodies echoed back as the `body` string, parsed again by
    // `Response.json()` on a Response made from it.
    let source = logto(
        "const out = {};\n\
         for (const [k, text] of Object.entries({ lone: '\"\\\\ud800\"', num: '01', exp: '1e', ok: ' {\"__proto__\": 1, \"a\": [1.5e3, -0, \"\\\\u00e9\"], \"a\": 2} ' })) {\n\
           try { const v = await new Response(text).json(); out[k] = [typeof v, v === null ? null : v.length ?? Object.keys(v).join()]; }\n\
           catch (e) { out[k] = e.name; }\n\
         }\n\
         return out;",
    );
    let report = compile(&source)
        .await
        .run(&example_input("rbac").with_env("BASE", server.base()), &grants)
        .await
        .expect("run");
    assert_eq!(
        claims(&report),
        json!({
            "lone": ["string", 1],
            "num": "SyntaxError",
            "exp": "SyntaxError",
            "ok": ["object", "__proto__,a"],
        })
    );
}

#[tokio::test]
async fn a_fetch_costs_well_under_fifty_thousand_fuel_more_than_none() {
    let server = server::start().await;
    let grants = Grants::default().with_fetch(
        FetchGrants::allowing(&[server.base().as_str()]).expect("patterns"),
    );
    let input = example_input("rbac")
        .with_env("BASE", server.base())
        .with_env("TOKEN", "balance-secret-key");
    let with = |fetch: bool| {
        let call = if fetch {
            "const r = await fetch(`${environmentVariables.BASE}/balance/u1`, { headers: { Authorization: `Bearer ${environmentVariables.TOKEN}` } });\n\
             const { balance } = await r.json();"
        } else {
            "const u = `${environmentVariables.BASE}/balance/u1`; const t = `Bearer ${environmentVariables.TOKEN}`;\n\
             const balance = 42;"
        };
        logto(&format!("{call}\nreturn {{ balance }};"))
    };
    let mut fuel = Vec::new();
    for fetch in [false, true] {
        let report = compile(&with(fetch))
            .await
            .run(&input, &grants)
            .await
            .expect("run");
        assert_eq!(claims(&report), json!({ "balance": 42 }));
        fuel.push(report.stats.fuel);
    }
    let per_fetch = fuel[1] - fuel[0];
    assert!(per_fetch < 50_000, "a fetch cost {per_fetch} fuel");
}
