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
    let report = run_source(&nested(10_000, "{}")).await;
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
    // Measured: about 5.6 fuel a byte, building the string included (the
    // writer alone about 4.5, its scan sixteen bytes at a time with Wasm
    // SIMD); 11 with an eight-byte scan; before that, 62 to 82.
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
        per_byte <= 6,
        "{per_byte} fuel a byte ({} in all)",
        big.stats.fuel
    );
    // Well within the default 50 M.
    assert!(big.stats.fuel < 10_000_000, "{}", big.stats.fuel);
}

#[tokio::test]
async fn strings_are_written_as_json_stringify_writes_them_wherever_the_escape_falls() {
    // Each character the writer's scan stops at (or must not), at every
    // offset around its 16- and 64-byte blocks, in 8-bit strings (read in
    // place) and in 16-bit ones ('€' makes a string 16-bit: read as UTF-8).
    let report = compile(&logto(
        "const specials = ['\"', '\\\\', '\\n', '\\t', '\\b', '\\u0001', '\\u001f', ' ', '~',
           '\\u007f', '\\u0080', 'é', '\\u00ff', '€', '\\u{1f600}'];
         const items = [];
         for (const c of specials) for (let n = 0; n < 140; n += 3) {
           items.push('a'.repeat(n) + c + 'b'.repeat(140 - n), c + c + 'x'.repeat(n) + c);
         }
         return { items, expected: JSON.stringify(items) };",
    ))
    .await
    .run(
        &example_input("rbac"),
        // QuickJS's JSON.stringify, the reference here, takes most of it.
        &Grants::default()
            .with_max_output_bytes(1 << 20)
            .with_fuel(500_000_000),
    )
    .await
    .expect("run");
    let claims = claims(&report);
    let expected: Value =
        serde_json::from_str(claims["expected"].as_str().expect("expected")).expect("JSON");
    assert_eq!(claims["items"].as_array().map(Vec::len), Some(15 * 47 * 2));
    assert_eq!(claims["items"], expected);
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
    let grants = Grants::default()
        .with_fetch(FetchGrants::allowing([server.base().as_str()]).expect("patterns"));
    let source = logto(
        "let s = 'x'; while (s.length < 900000) s += s;\n\
         const r = await fetch(`${environmentVariables.BASE}/echo`, { method: 'POST', body: s.slice(0, 900000) });\n\
         const echoed = await r.json();\n\
         return { length: echoed.body.length, method: echoed.method };",
    );
    let report = compile(&source)
        .await
        .run(
            &example_input("rbac").with_env("BASE", server.base()),
            &grants,
        )
        .await
        .expect("run");
    assert_eq!(
        claims(&report),
        json!({ "length": 900_000, "method": "POST" })
    );
    // Measured: about 19 M, the 900 KB request body, its echo and the
    // parse together (before: 140 M).
    assert!(report.stats.fuel < 25_000_000, "{}", report.stats.fuel);
}

#[tokio::test]
async fn json_keeps_json_parse_results_and_errors() {
    let server = server::start().await;
    let grants = Grants::default()
        .with_fetch(FetchGrants::allowing([server.base().as_str()]).expect("patterns"));
    // Bodies echoed back as the `body` string, parsed again by
    // `Response.json()` on a Response made from it.
    let source = logto(
        "const out = {};\n\
         for (const [k, text] of Object.entries({ lone: '\"\\\\ud800\"', num: '01', exponent: '1e', ok: ' {\"__proto__\": 1, \"a\": [1.5e3, -0, \"\\\\u00e9\"], \"a\": 2} ' })) {\n\
           try { const v = await new Response(text).json(); out[k] = [typeof v, v === null ? null : v.length ?? Object.keys(v).join()]; }\n\
           catch (e) { out[k] = e.name; }\n\
         }\n\
         return out;",
    );
    let report = compile(&source)
        .await
        .run(
            &example_input("rbac").with_env("BASE", server.base()),
            &grants,
        )
        .await
        .expect("run");
    assert_eq!(
        claims(&report),
        json!({
            "lone": ["string", 1],
            "num": "SyntaxError",
            "exponent": "SyntaxError",
            "ok": ["object", "__proto__,a"],
        })
    );
}

#[tokio::test]
async fn a_fetch_costs_less_than_three_hundred_thousand_fuel_more_than_none() {
    // Measured: about 260 k (before: 830 k to 870 k). Issue 17's target of
    // 50 k is not met yet: see RELIABILITY.md.
    let server = server::start().await;
    let grants = Grants::default()
        .with_fetch(FetchGrants::allowing([server.base().as_str()]).expect("patterns"));
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
    assert!(per_fetch < 300_000, "a fetch cost {per_fetch} fuel");
}

/// The figures RELIABILITY.md and BENCHMARKS.md quote (output fuel a byte,
/// fuel a fetch, `res.json()` of 900 KB), under a fuel limit high enough
/// for any runtime to finish. Prints them; asserts only that the runs end
/// as expected. `cargo test -p claimscript --test all hostile_output::figures
/// -- --ignored --nocapture`
#[tokio::test]
#[ignore = "measurement: prints figures"]
async fn figures() {
    let grants = Grants::default()
        .with_fuel(2_000_000_000)
        .with_max_output_bytes(2 << 20);
    let mut fuel_of = Vec::new();
    for bytes in [1_000usize, 500_000, 1 << 20] {
        let report = compile(&big_claim(bytes))
            .await
            .run(&example_input("rbac"), &grants)
            .await
            .expect("run");
        assert_eq!(claims(&report)["big"].as_str().map(str::len), Some(bytes));
        fuel_of.push((bytes, report.stats.fuel));
    }
    for &(bytes, fuel) in &fuel_of[1..] {
        let per_byte = (fuel - fuel_of[0].1) as f64 / (bytes - fuel_of[0].0) as f64;
        println!(
            "figure: claim of {bytes} bytes: {fuel} fuel in all, {per_byte:.2} fuel per output byte"
        );
    }

    let server = server::start().await;
    let fetch_grants = Grants::default()
        .with_fuel(2_000_000_000)
        .with_fetch(FetchGrants::allowing([server.base().as_str()]).expect("patterns"));
    let input = example_input("rbac")
        .with_env("BASE", server.base())
        .with_env("TOKEN", "balance-secret-key");
    let mut fuel = Vec::new();
    for fetches in [0, 1, 10] {
        let source = logto(&format!(
            "let balance = 42;\n\
             for (let i = 0; i < {fetches}; i++) {{\n\
               const r = await fetch(`${{environmentVariables.BASE}}/balance/u1`, {{ headers: {{ Authorization: `Bearer ${{environmentVariables.TOKEN}}` }} }});\n\
               ({{ balance }} = await r.json());\n\
             }}\n\
             return {{ balance }};"
        ));
        let report = compile(&source)
            .await
            .run(&input, &fetch_grants)
            .await
            .expect("run");
        assert_eq!(claims(&report), json!({ "balance": 42 }));
        fuel.push(report.stats.fuel);
    }
    println!(
        "figure: fetch + res.json() of a small body: {} fuel for the first, {} a fetch over 10",
        fuel[1] - fuel[0],
        (fuel[2] - fuel[0]) / 10
    );

    let source = logto(
        "let s = 'x'; while (s.length < 900000) s += s;\n\
         const r = await fetch(`${environmentVariables.BASE}/echo`, { method: 'POST', body: s.slice(0, 900000) });\n\
         const json = await r.json();\n\
         return { length: json.body.length };",
    );
    let text = logto(
        "let s = 'x'; while (s.length < 900000) s += s;\n\
         const r = await fetch(`${environmentVariables.BASE}/echo`, { method: 'POST', body: s.slice(0, 900000) });\n\
         const text = await r.text();\n\
         return { length: text.length > 900000 ? 900000 : 0 };",
    );
    let mut fuel = Vec::new();
    for source in [&source, &text] {
        let report = compile(source)
            .await
            .run(&input, &fetch_grants)
            .await
            .expect("run");
        assert_eq!(claims(&report), json!({ "length": 900_000 }));
        fuel.push(report.stats.fuel);
    }
    println!(
        "figure: fetch of a 900 KB JSON body: {} fuel with res.json(), {} with res.text(); json() itself {}",
        fuel[0],
        fuel[1],
        fuel[0].saturating_sub(fuel[1])
    );
}

/// Where a fetch's fuel goes: each line's fuel over the empty script's.
/// `cargo test -p claimscript --test all hostile_output::fetch_probe -- --ignored --nocapture`
#[tokio::test]
#[ignore = "measurement: prints figures"]
async fn fetch_probe() {
    let server = server::start().await;
    let grants = Grants::default()
        .with_fuel(2_000_000_000)
        .with_fetch(FetchGrants::allowing([server.base().as_str()]).expect("patterns"));
    let input = example_input("rbac")
        .with_env("BASE", server.base())
        .with_env("TOKEN", "balance-secret-key");
    let pre = "const u = `${environmentVariables.BASE}/balance/u1`; const h = { Authorization: `Bearer ${environmentVariables.TOKEN}` };\n";
    let probes = [
        ("empty", ""),
        (
            "new Headers x10",
            "for (let i = 0; i < 10; i++) new Headers(h);",
        ),
        (
            "new Request x10",
            "for (let i = 0; i < 10; i++) new Request(u, { headers: h });",
        ),
        ("new URL x10", "for (let i = 0; i < 10; i++) new URL(u);"),
        (
            "new Response x10",
            "for (let i = 0; i < 10; i++) new Response('{\"balance\":42}');",
        ),
        (
            "Response.json() x10",
            "for (let i = 0; i < 10; i++) await new Response('{\"balance\":42}').json();",
        ),
        ("await null x10", "for (let i = 0; i < 10; i++) await null;"),
        (
            "fetch x10",
            "for (let i = 0; i < 10; i++) await fetch(u, { headers: h });",
        ),
        (
            "fetch+json x10",
            "for (let i = 0; i < 10; i++) await (await fetch(u, { headers: h })).json();",
        ),
        (
            "fetch+text x10",
            "for (let i = 0; i < 10; i++) await (await fetch(u, { headers: h })).text();",
        ),
        (
            "setTimeout 0 x10",
            "for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));",
        ),
        (
            "s = 900 KB",
            "let s = 'x'; while (s.length < 900000) s += s; s = s.slice(0, 900000);",
        ),
        (
            "s + new Response(s)",
            "let s = 'x'; while (s.length < 900000) s += s; s = s.slice(0, 900000); new Response(s);",
        ),
        (
            "s + new Response(s).arrayBuffer()",
            "let s = 'x'; while (s.length < 900000) s += s; s = s.slice(0, 900000); await new Response(s).arrayBuffer();",
        ),
        (
            "s + new Response(s).text()",
            "let s = 'x'; while (s.length < 900000) s += s; s = s.slice(0, 900000); await new Response(s).text();",
        ),
        (
            "s + new Response(json s).json()",
            "let s = 'x'; while (s.length < 900000) s += s; s = JSON.stringify({ body: s.slice(0, 900000) }); await new Response(s).json();",
        ),
        (
            "s + JSON.stringify(s)",
            "let s = 'x'; while (s.length < 900000) s += s; s = JSON.stringify({ body: s.slice(0, 900000) });",
        ),
        (
            "s + POST /echo, arrayBuffer()",
            "let s = 'x'; while (s.length < 900000) s += s; s = s.slice(0, 900000); await (await fetch(`${environmentVariables.BASE}/echo`, { method: 'POST', body: s })).arrayBuffer();",
        ),
        (
            "s + POST /echo, json()",
            "let s = 'x'; while (s.length < 900000) s += s; s = s.slice(0, 900000); await (await fetch(`${environmentVariables.BASE}/echo`, { method: 'POST', body: s })).json();",
        ),
    ];
    let mut base = 0;
    for (name, body) in probes {
        let source = logto(&format!("{pre}{body}\nreturn {{}};"));
        let report = compile(&source)
            .await
            .run(&input, &grants)
            .await
            .expect("run");
        assert_eq!(claims(&report), json!({}), "{name}");
        if name == "empty" {
            base = report.stats.fuel;
        }
        println!(
            "probe: {name}: {} fuel over the empty script ({} in all)",
            report.stats.fuel as i64 - base as i64,
            report.stats.fuel
        );
    }
}

/// Run the Logto body in `$SCRATCH_JS` (with a loopback server as
/// `environmentVariables.BASE`) and print the outcome and fuel: for
/// investigating. `SCRATCH_JS='return {};' cargo test -p claimscript --test
/// all hostile_output::scratch -- --ignored --nocapture`
#[tokio::test]
#[ignore = "investigation: runs $SCRATCH_JS"]
async fn scratch() {
    let Ok(body) = std::env::var("SCRATCH_JS") else {
        return;
    };
    let server = server::start().await;
    let grants = Grants::default()
        .with_fuel(2_000_000_000)
        .with_fetch(FetchGrants::allowing([server.base().as_str()]).expect("patterns"));
    let input = example_input("rbac").with_env("BASE", server.base());
    let report = compile(&logto(&body))
        .await
        .run(&input, &grants)
        .await
        .expect("run");
    println!("outcome: {:?}", report.outcome);
    println!("logs: {:?}", report.logs);
    println!("fuel: {}", report.stats.fuel);
}
