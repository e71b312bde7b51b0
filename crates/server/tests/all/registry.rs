//! Registering, replacing, listing and removing scripts; the data
//! directory across restarts; the bounded cache of loaded scripts.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::{Answer, Dir, metric, rbac_config, rbac_input};

fn source(claim: &str) -> String {
    format!("const getCustomJwtClaims = async () => ({{ v: '{claim}' }});")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_replace_refuse_and_remove() {
    let dir = Dir::new();
    let s = dir.start(&rbac_config()).await;
    let grants = "fuel = 20000000\n[env]\nexpose = [\"TIER\"]\n";
    let a = s
        .put(
            "/v1/scripts/tenant-a",
            &json!({"source": source("one"), "grants": grants, "failure_policy": "issue_without_claims"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["origin"], "api");
    assert_eq!(a.json["style"], "logto");
    assert_eq!(a.json["grants"], grants);
    assert_eq!(a.json["failure_policy"], "issue_without_claims");
    let first_digest = a.json["digest"].clone();
    let run = s
        .post("/v1/scripts/tenant-a/run", &json!({"token": {}}))
        .await;
    assert_eq!(run.json["claims"]["v"], "one", "{}", run.text);

    // Replace: 200, new behaviour.
    let a = s
        .put("/v1/scripts/tenant-a", &json!({"source": source("two")}))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_ne!(a.json["digest"], first_digest);
    let run = s
        .post("/v1/scripts/tenant-a/run", &json!({"token": {}}))
        .await;
    assert_eq!(run.json["claims"]["v"], "two");

    // A source that does not compile: 422 with kind, line and column; the
    // old version keeps serving.
    let a = s
        .put(
            "/v1/scripts/tenant-a",
            &json!({"source": "const getCustomJwtClaims = async () => {\n  return { a: ;\n};"}),
        )
        .await;
    a.error(422, "compile_error");
    assert_eq!(a.json["error"]["kind"], "syntax");
    assert_eq!(a.json["error"]["line"], 2);
    assert!(a.json["error"]["column"].as_u64().is_some(), "{}", a.text);
    let run = s
        .post("/v1/scripts/tenant-a/run", &json!({"token": {}}))
        .await;
    assert_eq!(run.json["claims"]["v"], "two");

    // Bad grants: 422 at their line.
    let a = s
        .put(
            "/v1/scripts/tenant-b",
            &json!({"source": source("b"), "grants": "fuel = 1\ncolour = \"red\"\n"}),
        )
        .await;
    let message = a.error(422, "invalid_grants").to_string();
    assert_eq!(a.json["error"]["line"], 2, "{message}");
    // Bad names, unknown fields, both or neither of source and component.
    s.put("/v1/scripts/..x", &json!({"source": source("b")}))
        .await
        .error(400, "invalid_name");
    s.put("/v1/scripts/b", &json!({"source": source("b"), "sauce": 1}))
        .await
        .error(400, "invalid_request");
    s.put("/v1/scripts/b", &json!({}))
        .await
        .error(400, "invalid_request");
    // A configured script is changed in its file, not through the API.
    s.put("/v1/scripts/rbac", &json!({"source": source("x")}))
        .await
        .error(409, "defined_in_config");

    // One script with its audit report.
    let a = s.get("/v1/scripts/tenant-a").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["runs"]["claims"], 3);
    assert_eq!(
        a.json["audit"]["artifact"]["sha256"], a.json["digest"],
        "{}",
        a.text
    );
    assert!(a.json["audit"]["grants"].is_object(), "{}", a.text);
    let list = s.get("/v1/scripts").await;
    let names: Vec<&str> = list.json["scripts"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(names, ["rbac", "tenant-a"]);

    // Remove.
    let a = Answer::of(s.client.delete(s.url("/v1/scripts/tenant-a")).send().await).await;
    assert_eq!(a.status, 204);
    s.post("/v1/scripts/tenant-a/run", &json!({"token": {}}))
        .await
        .error(404, "not_found");
    let a = Answer::of(s.client.delete(s.url("/v1/scripts/rbac")).send().await).await;
    a.error(409, "defined_in_config");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_register_as_base64_or_raw_wasm() {
    let dir = Dir::new();
    let s = dir.start("run_endpoint = true\n").await;
    let compiled = s
        .client
        .post(s.url("/v1/compile"))
        .json(&json!({"source": source("wasm")}))
        .send()
        .await
        .expect("compile");
    assert_eq!(compiled.headers()["content-type"], "application/wasm");
    let bytes = compiled.bytes().await.expect("bytes").to_vec();
    assert!(bytes.starts_with(b"\0asm"));
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let a = s.put("/v1/scripts/b64", &json!({"component": b64})).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let a = Answer::of(
        s.client
            .put(s.url("/v1/scripts/raw"))
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .await,
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.text);
    for name in ["b64", "raw"] {
        let run = s
            .post(&format!("/v1/scripts/{name}/run"), &json!({"token": {}}))
            .await;
        assert_eq!(run.json["claims"]["v"], "wasm", "{}", run.text);
    }
    // Not a component.
    let a = s
        .put("/v1/scripts/junk", &json!({"component": "AGFzbQEAAAA="}))
        .await;
    a.error(422, "compile_error");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_survive_a_restart() {
    let dir = Dir::new();
    let s = dir.start("").await;
    let a = s
        .put(
            "/v1/scripts/keep",
            &json!({"source": source("kept"), "grants": "fuel = 30000000\n"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let digest = a.json["digest"].clone();
    s.stop().await;

    let s = dir.start("").await;
    let list = s.get("/v1/scripts").await;
    let item = &list.json["scripts"][0];
    assert_eq!(item["name"], "keep");
    assert_eq!(item["digest"], digest);
    assert_eq!(item["grants"], "fuel = 30000000\n");
    // Restored lazily: loaded on its first run, not at start.
    assert_eq!(item["in_memory"], false);
    let run = s.post("/v1/scripts/keep/run", &json!({"token": {}})).await;
    assert_eq!(run.json["claims"]["v"], "kept", "{}", run.text);
    let m = s.metrics().await;
    assert_eq!(
        metric(&m, "claimscript_compile_duration_seconds_count"),
        0.0,
        "{m}"
    );
    assert_eq!(
        metric(&m, "claimscript_load_duration_seconds_count"),
        1.0,
        "{m}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_scripts_load_lazily_into_a_bounded_cache() {
    let dir = Dir::new();
    let s = dir.start("[limits]\nmax_loaded_scripts = 3\n").await;
    let tenants = 12;
    for i in 0..tenants {
        let a = s
            .put(
                &format!("/v1/scripts/t{i}"),
                &json!({"source": source(&format!("tenant {i}"))}),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.text);
    }
    // Every tenant runs its own script, twice around.
    for round in 0..2 {
        for i in 0..tenants {
            let run = s
                .post(&format!("/v1/scripts/t{i}/run"), &json!({"token": {}}))
                .await;
            assert_eq!(
                run.json["claims"]["v"],
                format!("tenant {i}"),
                "round {round}: {}",
                run.text
            );
        }
    }
    let m = s.metrics().await;
    assert_eq!(
        metric(&m, "claimscript_scripts_registered "),
        tenants as f64,
        "{m}"
    );
    assert!(metric(&m, "claimscript_scripts_loaded ") <= 3.0, "{m}");
    // Twelve compilations at registration; every later miss was a load.
    assert_eq!(
        metric(&m, "claimscript_compile_duration_seconds_count"),
        tenants as f64
    );
    assert!(
        metric(&m, "claimscript_load_duration_seconds_count") >= 2.0 * (tenants as f64 - 3.0),
        "{m}"
    );
    let list = s.get("/v1/scripts").await;
    let in_memory = list.json["scripts"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|i| i["in_memory"] == Value::Bool(true))
        .count();
    assert!(in_memory <= 3, "{}", list.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_endpoint_runs_unregistered_sources() {
    let dir = Dir::new();
    let s = dir.start("run_endpoint = true\n").await;
    let a = s
        .post(
            "/v1/run",
            &json!({"source": "const getCustomJwtClaims = async ({ context }) => ({ n: context.user.roles.length });",
                    "input": rbac_input(), "grants": "fuel = 10000000\n", "audit": true}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["claims"]["n"], 3);
    assert_eq!(a.json["limits"]["fuel"], 10_000_000);
    assert_eq!(a.json["output_bytes"], 7);
    assert!(a.json["audit"]["grants"].is_object(), "{}", a.text);
    // A syntax error is an outcome with its position.
    let a = s
        .post("/v1/run", &json!({"source": "const getCustomJwtClaims = async () => {\n  retur {};\n};", "input": {"token": {}}}))
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json["error"]["kind"], "syntax");
    assert_eq!(a.json["error"]["line"], 2, "{}", a.text);
    // Grants errors at their line; `sign` needs the playground.
    let a = s
        .post(
            "/v1/run",
            &json!({"source": source("x"), "input": {"token": {}}, "grants": "\n\nfuel = -1\n"}),
        )
        .await;
    a.error(422, "invalid_grants");
    assert_eq!(a.json["error"]["line"], 3);
    s.post(
        "/v1/run",
        &json!({"source": source("x"), "input": {"token": {}}, "sign": true}),
    )
    .await
    .error(400, "signing_unavailable");
    // The input is a run's input: a key twice is refused at its place in it.
    let text = r#"{"source": "const getCustomJwtClaims = async () => ({});", "input": {"token": {"sub": "a", "sub": "b"}}}"#;
    let a = s.post_text("/v1/run", text).await;
    assert_eq!(
        a.error(400, "invalid_input"),
        "input (line and column from its opening brace): line 1, column 28: \
         duplicate key \"sub\": each key may appear once in an object"
    );
    s.stop().await;
}
