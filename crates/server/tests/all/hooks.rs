//! Provider hooks against the real server: each provider's sample payload,
//! signed the provider's way, and every way a request is refused.

use std::time::{SystemTime, UNIX_EPOCH};

use claimscript_hooks::{supabase, zitadel};
use serde_json::{Value, json};

use crate::{Answer, Dir, Running, metric, repo_path};

const OKTA_SECRET: &str = "Basic b2t0YTpob29rLXNlY3JldC0xMjM0NQ==";
const ZITADEL_KEY: &str = "zitadel-signing-key-for-tests-0123456789";
const HYDRA_KEY: &str = "hydra-api-key-for-tests-0123456789";
const SUPABASE_SECRET: &str = "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo_path(&format!("crates/hooks/tests/fixtures/{name}"))).expect("fixture")
}

const SCRIPT: &str = "const getCustomJwtClaims = async ({ context }) => {
  if (context.user && context.user.primaryEmail === 'blocked@example.com') {
    context.user.id.nope();
  }
  return { tenant: 't_42', hook: context.hook.provider, sub: 'forged', role: 'admin' };
};";

async fn start(dir: &Dir, extra: &str) -> Running {
    dir.write("hook.js", SCRIPT);
    dir.write(
        "deny.js",
        "const getCustomJwtClaims = async ({ api }) => api.denyAccess('no tokens today');",
    );
    for (file, secret) in [
        ("okta.secret", OKTA_SECRET),
        ("zitadel.secret", ZITADEL_KEY),
        ("hydra.secret", HYDRA_KEY),
        ("supabase.secret", SUPABASE_SECRET),
    ] {
        dir.write(&format!("secrets/{file}"), format!("{secret}\n"));
    }
    dir.start(&format!(
        "[audit]\nfile = \"audit.jsonl\"\n[scripts.hook]\npath = \"hook.js\"\n[scripts.deny]\npath = \"deny.js\"\n\
         [hooks.okta.hook]\nsecret_file = \"secrets/okta.secret\"\nfailure_policy = \"issue_without_claims\"\n\
         [hooks.zitadel.hook]\nsecret_file = \"secrets/zitadel.secret\"\n\
         [hooks.hydra.hook]\nsecret_file = \"secrets/hydra.secret\"\nheader = \"x-api-key\"\n\
         [hooks.supabase.hook]\nsecret_file = \"secrets/supabase.secret\"\nreplay_capacity = 100\n\
         [hooks.supabase.deny]\nsecret_file = \"secrets/supabase.secret\"\n\
         [hooks.okta.deny]\nsecret_file = \"secrets/okta.secret\"\n{extra}"
    ))
    .await
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn send(s: &Running, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> Answer {
    let mut request = s
        .client
        .post(s.url(path))
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    Answer::of(request.send().await).await
}

fn supabase_headers(id: &str, ts: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    let auth = supabase::Auth::from_config(SUPABASE_SECRET).expect("secret");
    vec![
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", auth.sign(id, ts, body)),
    ]
}

/// What the crate answers for this body and outcome: the server must send
/// exactly this.
fn expected(protocol: claimscript_hooks::Protocol, body: &[u8], claims: Value) -> Value {
    let request = claimscript_hooks::parse(protocol, body).expect("parse");
    let outcome = claimscript::Outcome::Claims {
        claims: claims.as_object().cloned().unwrap_or_default(),
        id_token_claims: None,
        dropped: vec!["sub".into()],
        id_token_dropped: vec![],
        scopes: Default::default(),
    };
    let response = request.respond(&outcome, claimscript::FailurePolicy::Block);
    serde_json::from_slice(&response.body).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_providers_sample_is_answered_in_its_format() {
    let dir = Dir::new();
    let s = start(&dir, "").await;

    // Okta: the secret header; commands patching the access token.
    let body = fixture("okta-token-transform.json");
    let a = send(
        &s,
        "/hooks/okta/hook",
        &[("authorization", OKTA_SECRET.into())],
        body.clone(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json,
        expected(
            claimscript_hooks::Protocol::Okta,
            &body,
            json!({"tenant": "t_42", "hook": "okta", "role": "admin"})
        )
    );
    assert!(a.text.contains("com.okta.access.patch"), "{}", a.text);
    assert!(a.text.contains("\"/claims/tenant\""), "{}", a.text);
    assert!(a.headers.contains_key("x-decision-id"));

    // ZITADEL: HMAC over "t.body"; append_claims.
    let body = fixture("zitadel-preaccesstoken.json");
    let sig = zitadel::sign(ZITADEL_KEY, now(), &body);
    let a = send(
        &s,
        "/hooks/zitadel/hook",
        &[("zitadel-signature", sig)],
        body.clone(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json,
        expected(
            claimscript_hooks::Protocol::Zitadel,
            &body,
            json!({"tenant": "t_42", "hook": "zitadel", "role": "admin"})
        )
    );
    assert!(a.json["append_claims"].is_array(), "{}", a.text);

    // Hydra: the API key header; the session's existing claims kept.
    let body = fixture("hydra-token-hook.json");
    let a = send(
        &s,
        "/hooks/hydra/hook",
        &[("x-api-key", HYDRA_KEY.into())],
        body.clone(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json,
        expected(
            claimscript_hooks::Protocol::Hydra,
            &body,
            json!({"tenant": "t_42", "hook": "hydra", "role": "admin"})
        )
    );
    assert_eq!(a.json["session"]["access_token"]["tenant"], "t_42");

    // Supabase: Standard Webhooks; the required `role` claim is kept.
    let body = fixture("supabase-custom-access-token.json");
    let a = send(
        &s,
        "/hooks/supabase/hook",
        &supabase_headers("msg_1", now(), &body),
        body.clone(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json,
        expected(
            claimscript_hooks::Protocol::Supabase,
            &body,
            json!({"tenant": "t_42", "hook": "supabase", "role": "admin"})
        )
    );
    assert_eq!(a.json["claims"]["tenant"], "t_42");
    assert_ne!(a.json["claims"]["role"], "admin");

    // Denials in each provider's terms.
    let body = fixture("okta-token-transform.json");
    let a = send(
        &s,
        "/hooks/okta/deny",
        &[("authorization", OKTA_SECRET.into())],
        body,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["error"]["errorSummary"], "no tokens today");
    let body = fixture("supabase-custom-access-token.json");
    let a = send(
        &s,
        "/hooks/supabase/deny",
        &supabase_headers("msg_2", now(), &body),
        body,
    )
    .await;
    assert_eq!(
        a.json,
        json!({"error": {"http_code": 403, "message": "no tokens today"}})
    );

    // The audit log has the run and the hook's record, with the dropped
    // protected claim.
    let m = s.metrics().await;
    assert_eq!(
        metric(
            &m,
            "claimscript_hook_requests_total{provider=\"supabase\",result=\"claims\"}"
        ),
        1.0,
        "{m}"
    );
    assert!(
        metric(
            &m,
            "claimscript_hook_dropped_claims_total{provider=\"supabase\""
        ) >= 1.0,
        "{m}"
    );
    s.stop().await;
    let log = std::fs::read_to_string(dir.path("audit.jsonl")).expect("audit");
    let hook: Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|r| r["hook"]["provider"] == "supabase" && r["hook"]["effect"] == "claims")
        .expect("a supabase hook record");
    assert_eq!(hook["hook"]["dropped_claims"][0]["name"], "role");
    let id = hook["decision_id"].as_str().expect("id");
    assert!(
        log.lines().filter(|l| l.contains(id)).count() == 2,
        "the run's record and the hook's"
    );
}

/// Path, headers, body, the status and the error code expected.
type Case = (
    &'static str,
    Vec<(&'static str, String)>,
    Vec<u8>,
    u16,
    &'static str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_run_nothing() {
    let dir = Dir::new();
    let s = start(&dir, "").await;
    let supa = fixture("supabase-custom-access-token.json");
    let zit = fixture("zitadel-preaccesstoken.json");
    let cases: Vec<Case> = vec![
        (
            "/hooks/okta/hook",
            vec![],
            fixture("okta-token-transform.json"),
            401,
            "missing_header",
        ),
        (
            "/hooks/okta/hook",
            vec![("authorization", "Basic wrong".into())],
            fixture("okta-token-transform.json"),
            401,
            "unauthenticated",
        ),
        (
            "/hooks/hydra/hook",
            vec![("x-api-key", "nope".into())],
            fixture("hydra-token-hook.json"),
            401,
            "unauthenticated",
        ),
        (
            "/hooks/zitadel/hook",
            vec![("zitadel-signature", zitadel::sign("other-key", now(), &zit))],
            zit.clone(),
            401,
            "unauthenticated",
        ),
        (
            "/hooks/zitadel/hook",
            vec![(
                "zitadel-signature",
                zitadel::sign(ZITADEL_KEY, now() - 600, &zit),
            )],
            zit.clone(),
            401,
            "stale",
        ),
        (
            "/hooks/supabase/hook",
            supabase_headers("m1", now() + 600, &supa),
            supa.clone(),
            401,
            "future",
        ),
        (
            "/hooks/supabase/hook",
            supabase_headers("m2", now(), b"{}"),
            supa.clone(),
            401,
            "unauthenticated",
        ),
        // Signed, but not the provider's shape.
        (
            "/hooks/hydra/hook",
            vec![("x-api-key", HYDRA_KEY.into())],
            br#"{"hello":"world"}"#.to_vec(),
            422,
            "malformed",
        ),
        (
            "/hooks/hydra/hook",
            vec![("x-api-key", HYDRA_KEY.into())],
            b"{not json".to_vec(),
            400,
            "malformed",
        ),
    ];
    for (path, headers, body, status, kind) in cases {
        let a = send(&s, path, &headers, body).await;
        assert_eq!(a.status, status, "{path} {kind}: {}", a.text);
        assert_eq!(a.json["error"]["code"], kind, "{path}: {}", a.text);
    }
    // A replayed webhook-id.
    let headers = supabase_headers("msg_once", now(), &supa);
    assert_eq!(
        send(&s, "/hooks/supabase/hook", &headers, supa.clone())
            .await
            .status,
        200
    );
    let a = send(&s, "/hooks/supabase/hook", &headers, supa.clone()).await;
    a.error(401, "replayed");
    // Unknown provider, unbound script.
    send(&s, "/hooks/auth0/hook", &[], b"{}".to_vec())
        .await
        .error(404, "not_found");
    send(&s, "/hooks/hydra/deny", &[], b"{}".to_vec())
        .await
        .error(404, "not_found");
    // Nothing ran but the one accepted request.
    let m = s.metrics().await;
    assert_eq!(
        metric(&m, "claimscript_run_duration_seconds_count"),
        1.0,
        "{m}"
    );
    assert!(
        metric(
            &m,
            "claimscript_hook_requests_total{provider=\"zitadel\",result=\"stale\"}"
        ) == 1.0,
        "{m}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_policies_and_deadlines() {
    let dir = Dir::new();
    let s = start(&dir, "").await;
    // The script fails for this user: Okta's binding lets the token through
    // unchanged (204); ZITADEL's blocks it.
    let mut okta: Value =
        serde_json::from_slice(&fixture("okta-token-transform.json")).expect("json");
    okta["data"]["identity"]["claims"]["email"] = "blocked@example.com".into();
    if let Some(profile) = okta["data"]["context"]["user"]["profile"].as_object_mut() {
        profile.insert("email".into(), "blocked@example.com".into());
    }
    let body = serde_json::to_vec(&okta).expect("json");
    let a = send(
        &s,
        "/hooks/okta/hook",
        &[("authorization", OKTA_SECRET.into())],
        body,
    )
    .await;
    assert_eq!(a.status, 204, "{}", a.text);
    assert_eq!(a.text, "");
    s.stop().await;

    // A binding timeout beyond the provider's deadline is refused at load.
    let dir = Dir::new();
    dir.write("s", "x");
    let path = dir.write(
        "claimscript.toml",
        "[hooks.okta.hook]\nsecret_file = \"s\"\ntimeout_ms = 5000\n",
    );
    let e = claimscript_server::ServiceConfig::from_file(&path)
        .expect_err("refused")
        .to_string();
    assert!(
        e.contains("line 1")
            && e.contains("does not fit okta's deadline of 3000 ms: use 1 to 2500 ms"),
        "{e}"
    );
    // Secrets never inline.
    let path = dir.write(
        "claimscript.toml",
        "[hooks.supabase.hook]\nsecret = \"v1,whsec_x\"\n",
    );
    let e = claimscript_server::ServiceConfig::from_file(&path)
        .expect_err("refused")
        .to_string();
    assert!(e.contains("unknown field `secret`"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_style_sees_the_providers_request() {
    let dir = Dir::new();
    dir.write(
        "auth0.js",
        "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('via', event.hook.provider + ':' + event.hook.payload.authentication_method); };",
    );
    dir.write(
        "lr.js",
        "module.exports.execute = async (lrObject, hook) => { hook.accessToken.setCustomClaim('via', lrObject.Hook.provider + ':' + lrObject.Hook.payload.claims.aal); };",
    );
    dir.write("secret", format!("{SUPABASE_SECRET}\n"));
    let s = dir
        .start(
            "[scripts.auth0]\npath = \"auth0.js\"\n[scripts.lr]\npath = \"lr.js\"\n\
             [hooks.supabase.auth0]\nsecret_file = \"secret\"\n[hooks.supabase.lr]\nsecret_file = \"secret\"\n",
        )
        .await;
    let body = fixture("supabase-custom-access-token.json");
    let a = send(
        &s,
        "/hooks/supabase/auth0",
        &supabase_headers("a0", now(), &body),
        body.clone(),
    )
    .await;
    assert_eq!(a.json["claims"]["via"], "supabase:anonymous", "{}", a.text);
    let a = send(
        &s,
        "/hooks/supabase/lr",
        &supabase_headers("lr0", now(), &body),
        body,
    )
    .await;
    assert_eq!(a.json["claims"]["via"], "supabase:aal1", "{}", a.text);
    s.stop().await;
}

/// A loopback server answering every request with `body` (JSON), counting
/// the requests.
async fn jwks_server(body: String) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (port, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_bearer_tokens_are_verified_against_a_jwks_fetched_through_the_egress_policy() {
    use claimscript_issuer::SigningAlgorithm;
    let pair = claimscript_issuer::generate_key(SigningAlgorithm::ES256).expect("key");
    let jwks =
        claimscript_issuer::jwks_from_pem(pair.public_pem.as_bytes(), Some("k1")).expect("jwks");
    let (port, fetches) = jwks_server(jwks.to_string()).await;
    let dir = Dir::new();
    dir.write("hook.js", SCRIPT);
    let s = dir
        .start(&format!(
            "[audit]\nfile = \"audit.jsonl\"\n[scripts.hook]\npath = \"hook.js\"\n\
             [hooks.okta.hook]\nbearer = {{ issuer = \"https://okta.test/oauth2/default\", audience = \"api://claimscript\", \
             jwks_url = \"http://127.0.0.1:{port}/oauth2/default/v1/keys\", algorithms = [\"ES256\"], min_refresh_ms = 300 }}\n"
        ))
        .await;
    let token = |kid: &str, aud: &str, exp_in: i64| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid.to_string());
        let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.private_pem.as_bytes()).expect("pem");
        let claims = json!({"iss": "https://okta.test/oauth2/default", "aud": aud, "iat": now(), "exp": now() + exp_in});
        jsonwebtoken::encode(&header, &claims, &key).expect("sign")
    };
    let body = fixture("okta-token-transform.json");
    let call = |bearer: String| {
        let body = body.clone();
        let s = &s;
        async move {
            send(
                s,
                "/hooks/okta/hook",
                &[("authorization", format!("Bearer {bearer}"))],
                body,
            )
            .await
        }
    };
    let a = call(token("k1", "api://claimscript", 300)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.text.contains("com.okta.access.patch"), "{}", a.text);
    let a = call(token("k1", "api://claimscript", 300)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        fetches.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the JWK set is cached"
    );
    // Wrong audience, expired, no token: refused, nothing run.
    call(token("k1", "api://other", 300))
        .await
        .error(401, "unauthenticated");
    call(token("k1", "api://claimscript", -600))
        .await
        .error(401, "unauthenticated");
    send(&s, "/hooks/okta/hook", &[], body.clone())
        .await
        .error(401, "missing_header");
    // An unknown key id: the set is fetched again (once), then refused.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    call(token("k2", "api://claimscript", 300))
        .await
        .error(401, "unknown_key");
    assert_eq!(
        fetches.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "one refetch for an unknown kid"
    );
    call(token("k3", "api://claimscript", 300))
        .await
        .error(401, "unknown_key");
    assert_eq!(
        fetches.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "refetches are rate-limited"
    );
    s.stop().await;
    // The fetch went through the engine: the trail has the JWKS run and its
    // fetch to the granted origin.
    let log = std::fs::read_to_string(dir.path("audit.jsonl")).expect("audit");
    let jwks_run: Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|r| r["name"] == "(jwks for okta/hook)")
        .expect("the JWKS fetch's run record");
    assert_eq!(
        jwks_run["fetches"][0]["url"],
        format!("http://127.0.0.1:{port}/oauth2/default/v1/keys")
    );
    assert_eq!(jwks_run["fetches"][0]["status"], 200);
}
