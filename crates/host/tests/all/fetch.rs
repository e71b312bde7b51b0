//! Host-mediated fetch end to end, against a server on loopback only.

use claimscript::{FetchFailureKind, FetchGrants, Grants, Outcome, RunReport};
use serde_json::{Value, json};

use crate::server::{self, Server};
use crate::{compile, example_input};

/// A script that runs `body` (JS statements ending in `return`) with
/// `BASE` = the server's base URL, and reports errors as claims.
fn script(body: &str) -> String {
    format!(
        "const getCustomJwtClaims = async ({{ environmentVariables, api }}) => {{\n\
           const BASE = environmentVariables.BASE;\n\
           try {{ {body} }} catch (e) {{ return {{ error: e.name, message: e.message }}; }}\n\
         }};"
    )
}

fn grants(allow: &[&str]) -> Grants {
    Grants::default().with_fetch(FetchGrants::allowing(allow).expect("patterns"))
}

async fn run(body: &str, server: &Server, grants: &Grants) -> RunReport {
    let script = compile(&script(body)).await;
    let input = example_input("rbac")
        .with_env("BASE", server.base())
        .with_env("PORT", server.addr.port().to_string())
        .with_env("TOKEN", "balance-secret-key");
    script.run(&input, grants).await.expect("run")
}

fn claims(report: &RunReport) -> Value {
    match &report.outcome {
        Outcome::Claims { claims, .. } => Value::Object(claims.clone()),
        other => panic!("expected claims, got {other:?}"),
    }
}

fn own(server: &Server) -> String {
    server.base()
}

#[tokio::test]
async fn granted_get_with_bearer_token_from_env() {
    let server = server::start().await;
    let report = run(
        "const r = await fetch(`${BASE}/balance/ada?x=secret-query`, { headers: { Authorization: `Bearer ${environmentVariables.TOKEN}` } });\n\
         return { status: r.status, ok: r.ok, type: r.headers.get('Content-Type'), custom: r.headers.get('x-custom-reply'), body: await r.json() };",
        &server,
        &grants(&[&own(&server)]),
    )
    .await;
    assert_eq!(
        claims(&report),
        json!({"status": 200, "ok": true, "type": "application/json", "custom": "yes", "body": {"balance": 42}})
    );
    let record = &report.stats.fetches[0];
    assert_eq!(record.method, "GET");
    assert_eq!(
        record.url,
        format!("http://127.0.0.1:{}/balance/ada", server.addr.port())
    );
    assert_eq!(record.status, Some(200));
    assert_eq!(record.bytes, 14);
    assert_eq!(record.refused, None);
    let recorded = serde_json::to_string(&report.stats).expect("json");
    assert!(
        !recorded.contains("secret"),
        "no header values or query strings in records: {recorded}"
    );
}

#[tokio::test]
async fn a_name_the_grant_does_not_list_is_refused() {
    let server = server::start().await;
    let report = run(
        "await fetch(`http://localhost:${environmentVariables.PORT}/echo`); return {};",
        &server,
        &grants(&[&own(&server)]),
    )
    .await;
    let c = claims(&report);
    assert_eq!(c["error"], "TypeError");
    assert!(
        c["message"]
            .as_str()
            .is_some_and(|m| m.contains("matches no [fetch] allow pattern")),
        "{c}"
    );
}

#[tokio::test]
async fn wildcard_reaches_no_loopback_form() {
    let server = server::start().await;
    let port = server.addr.port();
    for host in [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",
    ] {
        let report = run(
            &format!("await fetch('http://{host}:{port}/echo'); return {{ reached: true }};"),
            &server,
            &grants(&["http://*:*"]),
        )
        .await;
        let c = claims(&report);
        assert_eq!(c["error"], "TypeError", "{host}: {c}");
        assert!(
            c["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("fetch failed: blocked address:")),
            "{host}: {c}"
        );
    }
}

#[tokio::test]
async fn redirect_to_a_host_not_granted_is_refused() {
    let server = server::start().await;
    let report = run(
        "await fetch(`${BASE}/redirect-out`); return {};",
        &server,
        &grants(&[&own(&server)]),
    )
    .await;
    let c = claims(&report);
    assert!(
        c["message"]
            .as_str()
            .is_some_and(|m| m.contains("localhost") && m.contains("not granted")),
        "{c}"
    );
    // A same-origin redirect is followed.
    let report = run(
        "const r = await fetch(`${BASE}/redirect-in`); return { redirected: r.redirected, url: r.url, body: await r.json() };",
        &server,
        &grants(&[&own(&server)]),
    )
    .await;
    let c = claims(&report);
    assert_eq!(c["redirected"], true);
    assert!(c["url"].as_str().is_some_and(|u| u.ends_with("/echo")));
    // Loops end after MAX_REDIRECTS.
    let report = run(
        "await fetch(`${BASE}/redirect-loop`); return {};",
        &server,
        &grants(&[&own(&server)]),
    )
    .await;
    assert!(
        claims(&report)["message"]
            .as_str()
            .is_some_and(|m| m.contains("too many redirects"))
    );
}

#[tokio::test]
async fn redirect_to_a_url_with_credentials_is_refused() {
    // fetch() refuses `http://user:pass@host/` itself; a redirect there is
    // refused the same way, and the credentials are not echoed.
    let server = server::start().await;
    let report = run(
        "try { const r = await fetch(`${BASE}/redirect-credentials`); return { url: r.url }; } \
         catch (e) { return { error: e.name, message: e.message }; }",
        &server,
        &grants(&[&own(&server)]),
    )
    .await;
    let c = claims(&report);
    assert_eq!(c["error"], "TypeError", "{c}");
    let message = c["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("invalid redirect location")
            && message.contains("includes credentials")
            && !message.contains("hunter2pass"),
        "{c}"
    );
    assert!(c.get("url").is_none(), "{c}");
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = server::start().await;
    let mut g = grants(&[&own(&server)]);
    if let Some(f) = g.fetch.as_mut() {
        f.timeout_ms = 100;
    }
    let report = run("await fetch(`${BASE}/slow`); return {};", &server, &g).await;
    let c = claims(&report);
    assert_eq!(
        c["message"],
        "fetch failed: timeout: no complete response within 100 ms"
    );
    assert_eq!(
        json!(report.stats.fetches[0].refused),
        json!({"kind": "timeout", "detail": "timeout: no complete response within 100 ms"})
    );
}

#[tokio::test]
async fn run_timeout_applies_across_fetches() {
    let server = server::start().await;
    let g = grants(&[&own(&server)]).with_timeout_ms(150);
    let report = run("await fetch(`${BASE}/slow`); return {};", &server, &g).await;
    match &report.outcome {
        Outcome::Error(e) => assert_eq!(e.kind, claimscript::ErrorKind::Timeout),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn body_over_the_limit_is_refused_not_truncated() {
    let server = server::start().await;
    let report = run(
        "const r = await fetch(`${BASE}/big`); return { n: (await r.arrayBuffer()).byteLength };",
        &server,
        &grants(&[&own(&server)]),
    )
    .await;
    let c = claims(&report);
    assert_eq!(
        c["message"],
        "fetch failed: response too large: the body is over max_response_bytes = 1048576"
    );
}

#[tokio::test]
async fn post_json_with_custom_headers_is_echoed() {
    let server = server::start().await;
    let report = run(
        "const headers = new Headers([['X-Trace', 'abc']]);\n\
         headers.append('content-type', 'application/json');\n\
         headers.set('Host', 'evil.example');\n\
         const r = await fetch(`${BASE}/echo`, { method: 'POST', headers, body: JSON.stringify({ a: 1 }) });\n\
         const echo = await r.json();\n\
         const seen = []; r.headers.forEach((v, k) => seen.push(k));\n\
         return { method: echo.method, body: JSON.parse(echo.body), trace: echo.headers['x-trace'], type: echo.headers['content-type'], host: echo.headers.host, hasCustom: r.headers.has('X-CUSTOM-REPLY'), entries: [...r.headers].length === seen.length };",
        &server,
        &grants(&[&own(&server)]),
    )
    .await;
    let c = claims(&report);
    assert_eq!(c["method"], "POST");
    assert_eq!(c["body"], json!({"a": 1}));
    assert_eq!(c["trace"], "abc");
    assert_eq!(c["type"], "application/json");
    assert_eq!(
        c["host"],
        format!("127.0.0.1:{}", server.addr.port()),
        "Host is the host's, not the script's"
    );
    assert_eq!(c["hasCustom"], true);
    assert_eq!(c["entries"], true);
}

#[tokio::test]
async fn promise_all_fetches_overlap() {
    let server = server::start().await;
    let report = run(
        "const [a, b] = await Promise.all([fetch(`${BASE}/barrier`), fetch(`${BASE}/barrier`)]);\n\
         return { a: (await a.json()).together, b: (await b.json()).together };",
        &server,
        &grants(&[&own(&server)]).with_timeout_ms(10_000),
    )
    .await;
    assert_eq!(
        claims(&report),
        json!({"a": true, "b": true}),
        "both requests were at the server at once"
    );
}

#[tokio::test]
async fn max_requests_is_enforced() {
    let server = server::start().await;
    let mut g = grants(&[&own(&server)]);
    if let Some(f) = g.fetch.as_mut() {
        f.max_requests = Some(2);
    }
    let report = run(
        "const out = [];\n\
         for (let i = 0; i < 3; i++) { try { out.push((await fetch(`${BASE}/echo`)).status); } catch (e) { out.push(e.message); } }\n\
         return { out };",
        &server,
        &g,
    )
    .await;
    assert_eq!(
        claims(&report)["out"],
        json!([
            200,
            200,
            "fetch failed: too many requests: the grant allows 2 per run"
        ])
    );
    assert_eq!(report.stats.fetches.len(), 3);
}

#[tokio::test]
async fn connection_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let server = server::start().await;
    let target = format!("http://127.0.0.1:{port}");
    let report = run(
        &format!("await fetch('{target}/x'); return {{}};"),
        &server,
        &grants(&[&target]),
    )
    .await;
    assert_eq!(
        claims(&report)["message"],
        "fetch failed: connection refused"
    );
}

#[tokio::test]
async fn json_on_a_non_json_body_is_a_syntax_error() {
    let server = server::start().await;
    let report = run(
        "const r = await fetch(`${BASE}/text`); return await r.json();",
        &server,
        &grants(&[&own(&server)]),
    )
    .await;
    assert_eq!(claims(&report)["error"], "SyntaxError");
}

#[tokio::test]
async fn logto_fetch_balance_example() {
    let server = server::start().await;
    let source = std::fs::read_to_string(crate::repo_path("examples/fetch-balance/script.js"))
        .expect("example");
    let script = compile(&source).await;
    let grants =
        Grants::from_toml(&format!("[fetch]\nallow = [\"{}\"]\n", server.base())).expect("grants");
    let input = |user: &str| {
        let mut input = example_input("rbac")
            .with_env("BALANCE_API", server.base())
            .with_env("BALANCE_API_KEY", "balance-secret-key");
        if let Some(Value::Object(u)) = input.context_mut().and_then(|c| c.get_mut("user")) {
            u.insert("id".into(), json!(user));
        }
        input
    };
    let report = script.run(&input("ada"), &grants).await.expect("run");
    assert_eq!(claims(&report), json!({"balance": 42}));
    let report = script.run(&input("broke"), &grants).await.expect("run");
    match &report.outcome {
        Outcome::Denied(d) => {
            assert_eq!(d.message, "Your balance is exhausted; top up to continue.")
        }
        other => panic!("{other:?}"),
    }
}

/// The script's message and the record's failure kind when the server at
/// `server` answers with a fault.
async fn fault_of(server: &Server) -> (String, Option<FetchFailureKind>, Value) {
    let report = run(
        "await fetch(`${BASE}/x`); return { reached: true };",
        server,
        &grants(&[&own(server)]),
    )
    .await;
    let message = claims(&report)["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no failure: {:?}", report.outcome))
        .to_string();
    let refused = report.stats.fetches[0].refused.clone();
    (message, refused.as_ref().map(|r| r.kind), json!(refused))
}

#[tokio::test]
async fn a_reset_mid_headers_is_named() {
    let server = server::misbehaving(server::Fault::ResetMidHeaders).await;
    let (message, kind, record) = fault_of(&server).await;
    assert!(
        message.starts_with("fetch failed: connection lost: ")
            && message.to_lowercase().contains("reset"),
        "{message}"
    );
    assert_eq!(kind, Some(FetchFailureKind::ConnectionLost), "{record}");
    assert_eq!(record["detail"], "connection lost: connection reset");
}

#[tokio::test]
async fn a_garbage_status_line_is_named() {
    let server = server::misbehaving(server::Fault::GarbageStatusLine).await;
    let (message, kind, record) = fault_of(&server).await;
    assert_eq!(
        message,
        "fetch failed: malformed response: invalid status line"
    );
    assert_eq!(kind, Some(FetchFailureKind::Protocol), "{record}");
}

#[tokio::test]
async fn an_http_0_9_reply_is_named() {
    let server = server::misbehaving(server::Fault::Http09).await;
    let (message, kind, _) = fault_of(&server).await;
    assert_eq!(
        message,
        "fetch failed: malformed response: not HTTP/1.x (an HTTP/0.9 reply or garbage)"
    );
    assert_eq!(kind, Some(FetchFailureKind::Protocol));
}

#[tokio::test]
async fn oversized_headers_are_too_large() {
    let server = server::misbehaving(server::Fault::HugeHeaders).await;
    let (message, kind, record) = fault_of(&server).await;
    assert_eq!(
        message,
        format!(
            "fetch failed: response too large: the status line and headers are over {} bytes or 100 lines",
            claimscript::MAX_RESPONSE_HEAD_BYTES
        )
    );
    assert_eq!(kind, Some(FetchFailureKind::TooLarge), "{record}");
}

#[tokio::test]
async fn a_body_cut_short_is_incomplete() {
    let server = server::misbehaving(server::Fault::ShortBody).await;
    let (message, kind, _) = fault_of(&server).await;
    assert_eq!(
        message,
        "fetch failed: incomplete response: the connection closed before it was complete"
    );
    assert_eq!(kind, Some(FetchFailureKind::Protocol));
}

#[tokio::test]
async fn refusals_are_recorded_by_kind_without_the_scripts_words() {
    let server = server::start().await;
    let report = run(
        "const out = [];\n\
         for (const url of ['http://secret-host.example/x', 'ftp://secret-host.example/', `${BASE}/echo`]) {\n\
           try { await fetch(url, url.endsWith('/echo') ? { headers: { 'x-test': 'a\\u0001b' } } : {}); } catch (e) { out.push(e.message); }\n\
         }\n\
         return { out };",
        &server,
        &grants(&[&own(&server)]),
    )
    .await;
    let out = claims(&report)["out"].clone();
    assert_eq!(
        out,
        json!([
            "fetch failed: not granted: http://secret-host.example:80 matches no [fetch] allow pattern",
            "fetch failed: invalid URL: unsupported scheme `ftp` (http and https only)",
            "fetch failed: invalid value for header `x-test`"
        ]),
    );
    let refused: Vec<Value> = report
        .stats
        .fetches
        .iter()
        .map(|f| json!(f.refused))
        .collect();
    assert_eq!(
        refused,
        [
            json!({"kind": "not_granted", "detail": "not granted: the URL's scheme, host and port match no [fetch] allow pattern"}),
            json!({"kind": "invalid_url", "detail": "invalid URL: it does not parse, or is not http(s) with a host"}),
            json!({"kind": "invalid_request", "detail": "invalid request: a header value is not valid"}),
        ]
    );
}

/// The outbound seam: an embedder's handler that every admitted fetch goes
/// through, before the address guard.
mod outbound {
    use std::sync::{Arc, Mutex, OnceLock};

    use bytes::Bytes;
    use claimscript::{
        Engine, EngineConfig, FetchFailureKind, GuardedClient, Outbound, OutboundFuture,
        ResponseBody,
    };
    use serde_json::{Value, json};

    use super::{claims, grants, own, script};
    use crate::server::{self, Server};

    /// Records every request it sees (`host:port/path`); answers requests
    /// to `canned.example` itself, rewrites `/rewrite` to a host the grant
    /// does not name, and sends the rest through the guarded client with
    /// an `x-outbound` header.
    #[derive(Debug, Default)]
    struct Recording(Mutex<Vec<String>>);

    impl Recording {
        fn seen(&self, authority: &str) -> Vec<String> {
            let seen = self.0.lock().expect("seen");
            seen.iter()
                .filter(|s| s.starts_with(authority))
                .cloned()
                .collect()
        }
    }

    impl Outbound for Recording {
        fn send<'a>(
            &'a self,
            mut request: http::Request<Bytes>,
            client: &'a GuardedClient,
        ) -> OutboundFuture<'a> {
            let uri = request.uri().clone();
            let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
            if let Ok(mut seen) = self.0.lock() {
                seen.push(format!("{authority}{}", uri.path()));
            }
            Box::pin(async move {
                if uri.host() == Some("canned.example") {
                    let body = match uri.path() {
                        "/big" => vec![b'x'; 2 << 20],
                        _ => br#"{"canned":true}"#.to_vec(),
                    };
                    return Ok(http::Response::builder()
                        .status(203)
                        .header("content-type", "application/json")
                        .body(ResponseBody::full(body))
                        .expect("response"));
                }
                if uri.path() == "/rewrite" {
                    let port = uri.port_u16().unwrap_or(80);
                    *request.uri_mut() = format!("http://localhost:{port}/echo")
                        .parse()
                        .expect("uri");
                }
                request
                    .headers_mut()
                    .insert("x-outbound", http::HeaderValue::from_static("yes"));
                client.send(request).await
            })
        }
    }

    struct WithOutbound {
        engine: Engine,
        recording: Arc<Recording>,
    }

    fn with_outbound() -> &'static WithOutbound {
        static ENGINE: OnceLock<WithOutbound> = OnceLock::new();
        ENGINE.get_or_init(|| {
            let recording = Arc::new(Recording::default());
            let mut config = EngineConfig::default();
            config.max_concurrent_runs = 16;
            config.outbound = Some(recording.clone());
            WithOutbound {
                engine: Engine::with_config(config).expect("engine"),
                recording,
            }
        })
    }

    async fn run(
        body: &str,
        server: &Server,
        grants: &claimscript::Grants,
    ) -> claimscript::RunReport {
        let script = with_outbound()
            .engine
            .compile(&script(body))
            .await
            .expect("compile");
        let input = crate::example_input("rbac").with_env("BASE", server.base());
        script.run(&input, grants).await.expect("run")
    }

    #[tokio::test]
    async fn every_admitted_fetch_goes_through_it_and_no_refused_one() {
        let server = server::start().await;
        let authority = server.addr.to_string();
        let port = server.addr.port();
        let report = run(
            &format!(
                "const out = [];\n\
                 const r = await fetch(`${{BASE}}/redirect-in`); out.push((await r.json()).headers['x-outbound']);\n\
                 try {{ await fetch('http://localhost:{port}/echo'); }} catch (e) {{ out.push(e.message); }}\n\
                 try {{ await fetch(`${{BASE}}/rewrite`); }} catch (e) {{ out.push(e.message); }}\n\
                 out.push((await fetch(`${{BASE}}/echo`)).status);\n\
                 return {{ out }};"
            ),
            &server,
            &grants(&[&own(&server)]),
        )
        .await;
        assert_eq!(
            claims(&report)["out"],
            json!([
                "yes",
                format!(
                    "fetch failed: not granted: http://localhost:{port} matches no [fetch] allow pattern"
                ),
                format!(
                    "fetch failed: not granted: http://localhost:{port} matches no [fetch] allow pattern"
                ),
                200
            ])
        );
        // Both hops of the redirect, the rewritten request (refused by the
        // guarded client, not sent), and the last; never the refused one.
        assert_eq!(
            with_outbound().recording.seen(&authority),
            [
                format!("{authority}/redirect-in"),
                format!("{authority}/echo"),
                format!("{authority}/rewrite"),
                format!("{authority}/echo"),
            ]
        );
        assert!(
            with_outbound()
                .recording
                .seen(&format!("localhost:{port}"))
                .is_empty()
        );
        let kinds: Vec<Option<FetchFailureKind>> = report
            .stats
            .fetches
            .iter()
            .map(|f| f.refused.as_ref().map(|r| r.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                None,
                Some(FetchFailureKind::NotGranted),
                Some(FetchFailureKind::NotGranted),
                None
            ]
        );
    }

    #[tokio::test]
    async fn the_address_guard_still_applies_behind_it() {
        let server = server::start().await;
        let port = server.addr.port();
        let report = run(
            &format!("await fetch('http://127.0.0.1:{port}/echo'); return {{ reached: true }};"),
            &server,
            &grants(&["http://*:*"]),
        )
        .await;
        let c = claims(&report);
        assert_eq!(
            c["message"], "fetch failed: blocked address: 127.0.0.1 is loopback",
            "{c}"
        );
        assert_eq!(
            with_outbound().recording.seen(&server.addr.to_string()),
            [format!("{}/echo", server.addr)],
            "admitted by the grant, so the handler saw it; the connector refused it"
        );
        assert_eq!(
            json!(report.stats.fetches[0].refused),
            json!({"kind": "blocked_address", "detail": "blocked address: the address is loopback"})
        );
    }

    #[tokio::test]
    async fn a_fake_answers_without_the_network() {
        // `canned.example` is never resolved: the handler answers for it.
        let server = server::start().await;
        let report = run(
            "const r = await fetch('https://canned.example/hello');\n\
             const out = { status: r.status, body: await r.json() };\n\
             try { await fetch('https://canned.example/big'); } catch (e) { out.big = e.message; }\n\
             return out;",
            &server,
            &grants(&["https://canned.example"]),
        )
        .await;
        assert_eq!(
            claims(&report),
            json!({
                "status": 203,
                "body": {"canned": true},
                "big": "fetch failed: response too large: the body is over max_response_bytes = 1048576"
            })
        );
        let fetches: Vec<Value> = report
            .stats
            .fetches
            .iter()
            .map(|f| json!({"url": f.url, "status": f.status, "bytes": f.bytes}))
            .collect();
        assert_eq!(
            fetches,
            [
                json!({"url": "https://canned.example:443/hello", "status": 203, "bytes": 15}),
                json!({"url": "https://canned.example:443/big", "status": 203, "bytes": 0}),
            ]
        );
    }
}
