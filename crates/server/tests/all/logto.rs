//! Logto's remote script-runner contract (`POST /api/script-run`).

use serde_json::{Value, json};

use crate::{Dir, Running, metric};

fn request(script: &str) -> Value {
    json!({
        "tenantId": "abc123",
        "script": script,
        "entry": "getCustomJwtClaims",
        "isTest": false,
        "payload": {
            "token": {"jti": "v0Ab", "aud": "https://api.example.com", "scope": "read", "clientId": "app1",
                      "accountId": "u_1", "grantId": "g_1", "gty": "authorization_code", "kind": "AccessToken"},
            "context": {"user": {"id": "u_1", "primaryEmail": "a@b.c", "hasPassword": true, "roles": [],
                                  "organizations": [], "organizationRoles": [], "ssoIdentities": [], "mfaVerificationFactors": []}},
            "environmentVariables": {"API_KEY": "k-123"}
        }
    })
}

async fn answer(s: &Running, script: &str) -> Value {
    let a = s.post("/api/script-run", &request(script)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    a.json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logto_runner_answers_in_logtos_terms() {
    let dir = Dir::new();
    dir.write(
        "logto-grants.toml",
        "timeout_ms = 300\nfuel = 5000000\n[env]\nexpose = [\"API_KEY\"]\n",
    );
    let s = dir
        .start("[logto_runner]\ngrants = \"logto-grants.toml\"\nmax_cached = 4\n")
        .await;
    let plan = "const getCustomJwtClaims = async ({ token, context, environmentVariables, api }) => ({ plan: 'pro', user: context.user.primaryEmail, key: environmentVariables.API_KEY });";
    assert_eq!(
        answer(&s, plan).await,
        json!({"ok": true, "value": {"plan": "pro", "user": "a@b.c", "key": "k-123"}})
    );
    let cases = [
        (
            "const getCustomJwtClaims = async ({ api }) => api.denyAccess('Not allowed');",
            "denied",
            "Not allowed",
        ),
        (
            "const getCustomJwtClaims = async () => { return { a: ; };",
            "syntax",
            "",
        ),
        (
            "const getCustomJwtClaims = async () => x.y;",
            "runtime",
            "x is not defined",
        ),
        (
            "const getCustomJwtClaims = async () => null.y;",
            "type",
            "TypeError",
        ),
        (
            "const getCustomJwtClaims = async () => { for (;;) {} };",
            "timeout",
            "",
        ),
        (
            "const getCustomJwtClaims = async () => { const a = []; for (;;) a.push('x'.repeat(1e6)); };",
            "timeout",
            "",
        ),
        ("const notTheEntry = 1;", "type", "getCustomJwtClaims"),
    ];
    for (script, kind, needle) in cases {
        let a = answer(&s, script).await;
        assert_eq!(a["ok"], false, "{script}: {a}");
        assert_eq!(a["kind"], kind, "{script}: {a}");
        assert!(
            a["message"].as_str().unwrap_or("").contains(needle),
            "{script}: {a}"
        );
        assert!(a.get("stack").is_none(), "{script}: {a}");
    }
    // Compiled once per source.
    let before = metric(&s.metrics().await, "claimscript_run_duration_seconds_count");
    answer(&s, plan).await;
    assert!(metric(&s.metrics().await, "claimscript_run_duration_seconds_count") > before);
    // Another entry is refused in Logto's terms; a malformed request is not Logto's shape.
    let mut other = request(plan);
    other["entry"] = "runAction".into();
    let a = s.post("/api/script-run", &other).await;
    assert_eq!(a.json["kind"], "type");
    s.post("/api/script-run", &json!({"script": 1}))
        .await
        .error(400, "invalid_request");
    // The payload is a run's input: a key twice is refused at its place,
    // not silently the last one kept.
    let text = request(plan).to_string().replacen(
        r#""accountId":"u_1""#,
        r#""accountId":"u_1","accountId":"u_2""#,
        1,
    );
    let a = s.post_text("/api/script-run", text).await;
    let message = a.error(400, "invalid_input");
    assert!(
        message.starts_with("payload (line and column from its opening brace): line 1, column ")
            && message.contains("duplicate key \"accountId\""),
        "{message}"
    );
    s.stop().await;
}
