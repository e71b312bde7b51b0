//! The run endpoint, health, JWKS, types and every error status.

use serde_json::json;

use crate::{Dir, rbac_config, rbac_input};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_answers_the_outcome_with_a_decision_id() {
    let dir = Dir::new();
    let s = dir.start(&rbac_config()).await;
    let a = s.post("/v1/scripts/rbac/run", &rbac_input()).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["outcome"], "claims");
    assert_eq!(
        a.json["claims"]["roles"],
        json!(["admin", "analyst", "billing"])
    );
    let id = a.json["decision_id"].as_str().expect("decision_id");
    assert_eq!(id.len(), 36);
    assert_eq!(a.headers["x-decision-id"], id);
    assert!(a.json["stats"]["fuel"].as_u64().unwrap_or(0) > 0);
    // Same outcome object as `claimscript run`, plus decision_id.
    let mut expected: Vec<&str> = vec![
        "outcome",
        "claims",
        "dropped",
        "logs",
        "stats",
        "decision_id",
    ];
    let mut keys: Vec<&str> = a
        .json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys, expected);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denials_and_script_errors_are_outcomes() {
    let dir = Dir::new();
    dir.write(
        "deny.js",
        "const getCustomJwtClaims = async ({ api }) => { api.denyAccess('no entry'); };",
    );
    dir.write(
        "throw.js",
        "const getCustomJwtClaims = async () => { throw new Error('boom'); };",
    );
    let s = dir
        .start("[scripts.deny]\npath = \"deny.js\"\n[scripts.throw]\npath = \"throw.js\"\n")
        .await;
    let a = s.post("/v1/scripts/deny/run", &json!({"token": {}})).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["outcome"], "denied");
    assert_eq!(a.json["message"], "no entry");
    let a = s.post("/v1/scripts/throw/run", &json!({"token": {}})).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["outcome"], "error");
    assert_eq!(a.json["error"]["kind"], "script");
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("boom")
    );
    let m = s.metrics().await;
    assert!(
        m.contains("claimscript_run_errors_total{script=\"throw\",kind=\"script\"} 1"),
        "{m}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_has_its_status_and_code() {
    let dir = Dir::new();
    let s = dir
        .start(&format!(
            "{}\n[limits]\nmax_body_bytes = 2048\n",
            rbac_config()
        ))
        .await;
    // Unknown script.
    s.post("/v1/scripts/nope/run", &json!({"token": {}}))
        .await
        .error(404, "not_found");
    // Unknown endpoint.
    s.get("/v2/whatever").await.error(404, "not_found");
    // Wrong method.
    let a = Answer::of(s.client.delete(s.url("/v1/scripts/rbac/run")).send().await).await;
    a.error(405, "method_not_allowed");
    // Wrong content type.
    let a = Answer::of(
        s.client
            .post(s.url("/v1/scripts/rbac/run"))
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await,
    )
    .await;
    a.error(415, "unsupported_media_type");
    // Malformed JSON: line and column.
    let a = s
        .post_text("/v1/scripts/rbac/run", "{\n  \"token\": {,\n}")
        .await;
    let message = a.error(400, "invalid_json");
    assert_eq!(a.json["error"]["line"], 2, "{message}");
    assert_eq!(a.json["error"]["column"], 13, "{message}");
    assert!(message.contains("line 2, column 13"), "{message}");
    // Not a run input.
    let message = s
        .post("/v1/scripts/rbac/run", &json!({"tokn": {}}))
        .await
        .error(400, "invalid_input")
        .to_string();
    assert!(message.contains("unknown key `tokn`"), "{message}");
    // A key twice in one object: refused where it is, not "last one wins".
    let a = s
        .post_text(
            "/v1/scripts/rbac/run",
            "{\"token\": {\"sub\": \"a\",\n \"sub\": \"b\"}}",
        )
        .await;
    let message = a.error(400, "invalid_input");
    assert!(message.contains("duplicate key \"sub\""), "{message}");
    assert_eq!(a.json["error"]["line"], 2, "{message}");
    // Too large: declared, and streamed without a length.
    let big = json!({"token": {"x": "a".repeat(4096)}});
    s.post("/v1/scripts/rbac/run", &big)
        .await
        .error(413, "body_too_large");
    let chunks = futures_stream(vec![
        b"{\"token\":{\"x\":\"".to_vec(),
        vec![b'a'; 4096],
        b"\"}}".to_vec(),
    ]);
    let a = Answer::of(
        s.client
            .post(s.url("/v1/scripts/rbac/run"))
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await,
    )
    .await;
    a.error(413, "body_too_large");
    // Disabled endpoints are absent.
    s.post("/v1/run", &json!({})).await.error(404, "not_found");
    s.post("/api/script-run", &json!({}))
        .await
        .error(404, "not_found");
    let m = s.metrics().await;
    assert!(
        m.contains("claimscript_http_requests_total{route=\"/v1/scripts/{name}/run\",method=\"POST\",status=\"413\"} 2"),
        "{m}"
    );
    s.stop().await;
}

fn futures_stream(
    chunks: Vec<Vec<u8>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::iter(chunks.into_iter().map(Ok))
}

use crate::Answer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_types_and_jwks() {
    let dir = Dir::new();
    dir.write(
        "broken.js",
        "const getCustomJwtClaims = async () => { return {;",
    );
    let s = dir
        .start(&format!(
            "{}\n[scripts.broken]\npath = \"broken.js\"\n",
            rbac_config()
        ))
        .await;
    let a = s.get("/health").await;
    assert_eq!((a.status, a.json["status"].as_str()), (200, Some("ok")));
    // A configured script that does not compile keeps the service unready,
    // and says why.
    let message = s
        .get("/health/ready")
        .await
        .error(503, "not_ready")
        .to_string();
    assert!(message.contains("broken"), "{message}");
    let list = s.get("/v1/scripts").await;
    let broken = list.json["scripts"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["name"] == "broken").cloned())
        .expect("broken listed");
    assert_eq!(broken["digest"], serde_json::Value::Null);
    assert_eq!(broken["last_error"]["kind"], "syntax");
    assert_eq!(broken["last_error"]["line"], 1);
    s.post("/v1/scripts/broken/run", &json!({"token": {}}))
        .await
        .error(503, "not_loaded");
    let a = s.get("/v1/types/auth0").await;
    assert_eq!(a.status, 200);
    assert!(
        a.text.contains("onExecutePostLogin"),
        "{}",
        &a.text[..200.min(a.text.len())]
    );
    s.get("/v1/types/cobol").await.error(400, "invalid_style");
    let a = s.get("/.well-known/jwks.json").await;
    assert_eq!(a.json, json!({"keys": []}));
    s.stop().await;
}
