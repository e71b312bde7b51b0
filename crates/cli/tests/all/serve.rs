//! `claimscript serve` and `claimscript playground` as processes: signals,
//! a crash during uploads, start-up refusals.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{claimscript, repo_path};

/// A `claimscript serve` process and its base URL.
struct Serve {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Serve {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_claimscript"))
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn claimscript serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the first line");
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .trim_end_matches("/playground/")
            .to_string();
        Serve {
            child,
            base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    fn wait(mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write(dir: &Path, rel: &str, text: &str) -> String {
    let path = dir.join(rel);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

const SLOW: &str = "const getCustomJwtClaims = async () => { await new Promise((r) => setTimeout(r, 900)); return { done: true }; };";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_and_audits_every_run_in_flight() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "slow.js", SLOW);
    let config = write(
        dir.path(),
        "claimscript.toml",
        "data_dir = \"data\"\n[scripts.slow]\npath = \"slow.js\"\n[audit]\nfile = \"audit.jsonl\"\n",
    );
    let server = Serve::start(
        &["serve", "--config", &config, "--addr", "127.0.0.1:0"],
        &[],
    );
    let mut runs = Vec::new();
    for _ in 0..50 {
        let client = server.client.clone();
        let url = server.url("/v1/scripts/slow/run");
        runs.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .json(&json!({"token": {}}))
                .send()
                .await
                .expect("request");
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }));
    }
    // All 50 in flight, then SIGTERM.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = server
            .client
            .get(server.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        if metrics.contains("claimscript_runs_in_flight 50") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "50 runs never in flight: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.signal("TERM");
    let mut ids = Vec::new();
    for run in runs {
        let (status, body) = run.await.expect("join");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["claims"]["done"], true);
        ids.push(body["decision_id"].as_str().expect("id").to_string());
    }
    assert_eq!(server.wait(), 0);
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit log");
    let recorded: Vec<String> = log
        .lines()
        .map(|l| {
            let r: Value = serde_json::from_str(l).expect("a whole record a line");
            r["decision_id"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(recorded.len(), 50);
    for id in &ids {
        assert!(recorded.contains(id), "{id} not audited");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_uploads_leaves_the_old_or_the_new_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "claimscript.toml",
        "data_dir = \"data\"\nwatch_interval_ms = 0\n",
    );
    let version = |v: usize| format!("const getCustomJwtClaims = async () => ({{ v: {v} }});");
    let start = || {
        Serve::start(
            &["serve", "--config", &config, "--addr", "127.0.0.1:0"],
            &[],
        )
    };
    let server = start();
    let (status, _) = send_put(&server, &version(0)).await;
    assert_eq!(status, 201);
    drop(server);
    let mut highest_seen = 0;
    for round in 1..=4 {
        let server = start();
        // Uploads back to back, then kill -9 at a moment that moves each round.
        let client = server.client.clone();
        let url = server.url("/v1/scripts/s");
        let base = round * 100;
        let uploads = tokio::spawn(async move {
            for i in 0..1000 {
                let _ = client
                    .put(&url)
                    .json(&json!({"source": version(base + i)}))
                    .send()
                    .await;
            }
        });
        tokio::time::sleep(Duration::from_millis(150 + 173 * round as u64)).await;
        drop(server); // SIGKILL
        uploads.abort();
        let server = start();
        let (status, body) = server
            .post("/v1/scripts/s/run", &json!({"token": {}}))
            .await;
        assert_eq!(status, 200, "round {round}: {body}");
        let v = body["claims"]["v"].as_u64().expect("a version ran") as usize;
        assert!(v == highest_seen || v >= base, "round {round}: v = {v}");
        highest_seen = v;
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("data/scripts"))
            .expect("scripts dir")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
    }
}

async fn send_put(server: &Serve, source: &str) -> (u16, Value) {
    let r = server
        .client
        .put(server.url("/v1/scripts/s"))
        .json(&json!({"source": source}))
        .send()
        .await
        .expect("put");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_line_start_sighup_reload_and_env_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = write(
        dir.path(),
        "a.js",
        "const getCustomJwtClaims = async () => ({ v: 'one' });",
    );
    let data = dir.path().join("data").display().to_string();
    // No config file: one script, one line.
    let server = Serve::start(
        &[
            "serve",
            "--script",
            &format!("a={script}"),
            "--addr",
            "127.0.0.1:0",
            "--data-dir",
            &data,
        ],
        &[],
    );
    let (status, body) = server
        .post("/v1/scripts/a/run", &json!({"token": {}}))
        .await;
    assert_eq!(
        (status, &body["claims"]["v"]),
        (200, &json!("one")),
        "{body}"
    );
    drop(server);

    // Tokens from the environment; SIGHUP re-reads the script.
    let config = write(
        dir.path(),
        "claimscript.toml",
        "data_dir = \"data\"\nwatch_interval_ms = 0\n[[tokens]]\nid = \"ci\"\nenv = \"CS_TEST_TOKEN\"\nscopes = [\"run\"]\n[scripts.a]\npath = \"a.js\"\n",
    );
    let token = "a-token-from-the-environment-42";
    let server = Serve::start(
        &["serve", "--config", &config, "--addr", "127.0.0.1:0"],
        &[("CS_TEST_TOKEN", token)],
    );
    let run = |t: Option<&str>| {
        let mut r = server
            .client
            .post(server.url("/v1/scripts/a/run"))
            .json(&json!({"token": {}}));
        if let Some(t) = t {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(run(None).await.expect("run").status(), 401);
    write(
        dir.path(),
        "a.js",
        "const getCustomJwtClaims = async () => ({ v: 'two' });",
    );
    let v = |r: reqwest::Response| async move {
        r.json::<Value>().await.expect("json")["claims"]["v"].clone()
    };
    assert_eq!(
        v(run(Some(token)).await.expect("run")).await,
        "one",
        "no watching: unchanged until SIGHUP"
    );
    server.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while v(run(Some(token)).await.expect("run")).await != "two" {
        assert!(Instant::now() < deadline, "SIGHUP did not reload");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.signal("INT");
    assert_eq!(server.wait(), 0);
}

#[test]
fn start_up_refusals_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rbac = format!("rbac={}", repo_path("examples/rbac/script.js").display());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["serve".into()],
            "give --config FILE or at least one --script NAME=PATH",
        ),
        (
            vec![
                "serve".into(),
                "--script".into(),
                rbac.clone(),
                "--addr".into(),
                "0.0.0.0:0".into(),
            ],
            "without authentication",
        ),
        (
            vec!["serve".into(), "--script".into(), "rbac".into()],
            "expected NAME=PATH",
        ),
        (
            vec![
                "serve".into(),
                "--script".into(),
                "a=/nonexistent.js".into(),
            ],
            "is not a file",
        ),
        (
            vec![
                "serve".into(),
                "--script".into(),
                rbac.clone(),
                "--grants".into(),
                "other=x.toml".into(),
            ],
            "no --script named \"other\"",
        ),
        (
            vec![
                "serve".into(),
                "--config".into(),
                write(
                    dir.path(),
                    "bad.toml",
                    "[limits]\nqueue_timeout_ms = 99999999\n",
                ),
            ],
            "bad.toml: line 2, column 1: `queue_timeout_ms`: must be at most 60000",
        ),
        (
            vec![
                "serve".into(),
                "--config".into(),
                write(
                    dir.path(),
                    "env.toml",
                    "[[tokens]]\nid = \"x\"\nenv = \"CS_UNSET_VARIABLE\"\nscopes = [\"run\"]\n",
                ),
            ],
            "the environment variable CS_UNSET_VARIABLE is not set",
        ),
        (
            vec!["playground".into(), "--addr".into(), "0.0.0.0:0".into()],
            "without authentication",
        ),
    ];
    for (args, message) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = claimscript(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playground_prints_its_url_and_serves_the_page() {
    let cache = tempfile::tempdir().expect("tempdir");
    let cache_dir = cache.path().display().to_string();
    let server = Serve::start(
        &["playground", "--addr", "127.0.0.1:0"],
        &[("CLAIMSCRIPT_CACHE_DIR", cache_dir.as_str())],
    );
    let page = server
        .client
        .get(server.url("/playground/"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html")
    );
    let (status, body) = server
        .post(
            "/v1/run",
            &json!({"source": "const getCustomJwtClaims = async () => ({ a: 1 });", "input": {"token": {"sub": "u"}}, "sign": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token"]["header"]["alg"], "ES256");
    assert_eq!(body["token"]["payload"]["a"], 1);
}

/// `-H 'name: value'` pairs as examples/hooks/sign.py prints them.
fn signed_headers(provider: &str, body: &Path, env: &[(&str, &str)]) -> Vec<(String, String)> {
    let out = Command::new("python3")
        .arg(repo_path("examples/hooks/sign.py"))
        .args([provider, &body.display().to_string()])
        .envs(env.iter().copied())
        .output()
        .expect("python3 examples/hooks/sign.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split("-H ")
        .filter_map(|part| {
            let part = part.trim().trim_matches('\'');
            let (name, value) = part.split_once(": ")?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_examples_answer_their_providers_samples() {
    let secrets = [
        ("OKTA_HOOK_SECRET", "Basic dGVzdDp0ZXN0LXNlY3JldA=="),
        ("ZITADEL_SIGNING_KEY", "zitadel-signing-key-0123456789"),
        ("HYDRA_HOOK_KEY", "hydra-api-key-0123456789"),
        (
            "SUPABASE_HOOK_SECRET",
            "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ),
    ];
    let cases = [
        ("okta", "okta-token-transform.json", "com.okta.access.patch"),
        (
            "zitadel",
            "zitadel-preaccesstoken.json",
            "\"append_claims\":[{\"key\":\"org_domain\"",
        ),
        (
            "hydra",
            "hydra-token-hook.json",
            "\"access_token\":{\"tenant\":\"default\"",
        ),
        (
            "supabase",
            "supabase-custom-access-token.json",
            "\"tenant\":\"public\",\"plan\":\"free\"",
        ),
    ];
    for (provider, fixture, expected) in cases {
        let data = tempfile::tempdir().expect("tempdir");
        let config = repo_path(&format!("examples/hooks/{provider}/claimscript.toml"));
        let server = Serve::start(
            &[
                "serve",
                "--config",
                &config.display().to_string(),
                "--addr",
                "127.0.0.1:0",
                "--data-dir",
                &data.path().display().to_string(),
                "--log-level",
                "warn",
            ],
            &secrets,
        );
        let body_path = repo_path(&format!("crates/hooks/tests/fixtures/{fixture}"));
        let body = std::fs::read(&body_path).expect("fixture");
        let headers: Vec<(String, String)> = match provider {
            "okta" => vec![("authorization".into(), secrets[0].1.into())],
            "hydra" => vec![("x-api-key".into(), secrets[2].1.into())],
            _ => signed_headers(provider, &body_path, &secrets),
        };
        let mut request = server
            .client
            .post(server.url(&format!("/hooks/{provider}/{provider}-claims")))
            .body(body);
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("hook");
        assert_eq!(response.status(), 200, "{provider}");
        let text = response.text().await.expect("body");
        assert!(text.contains(expected), "{provider}: {text}");
    }
}

fn cli_ok(args: &[&str]) -> String {
    let out = claimscript(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Three replicas follow one tag: a new version reaches all three within
/// the poll interval, and not before it is signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_roll_out_a_signed_version() {
    let registry =
        claimscript_oci::test_support::TestRegistry::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = |rel: &str| dir.path().join(rel).display().to_string();
    cli_ok(&["keys", "generate", "--alg", "ES256", "--out", &d("keys")]);
    let reference = registry.reference("claims/rbac:prod");
    let publish = |v: &str, sign: bool| {
        let source = write(
            dir.path(),
            &format!("{v}.js"),
            &format!("const getCustomJwtClaims = async () => ({{ v: '{v}' }});"),
        );
        cli_ok(&["compile", &source, "-o", &d(&format!("{v}.wasm"))]);
        cli_ok(&[
            "push",
            &d(&format!("{v}.wasm")),
            &reference,
            "--insecure-http",
        ]);
        if sign {
            cli_ok(&[
                "sign",
                &reference,
                "--key",
                &d("keys/es256-private.pem"),
                "--insecure-http",
            ]);
        }
    };
    publish("v1", true);
    let config = write(
        dir.path(),
        "claimscript.toml",
        &format!(
            "watch_interval_ms = 0\n[scripts.rbac]\noci = \"oci://{reference}\"\nverify_keys = [\"keys/es256-public.pem\"]\npoll_interval_ms = 500\nplain_http = true\n"
        ),
    );
    let replicas: Vec<Serve> = (0..3)
        .map(|i| {
            Serve::start(
                &[
                    "serve",
                    "--config",
                    &config,
                    "--addr",
                    "127.0.0.1:0",
                    "--data-dir",
                    &d(&format!("data{i}")),
                ],
                &[],
            )
        })
        .collect();
    let versions = async || {
        let mut out = Vec::new();
        for r in &replicas {
            let (_, body) = r.post("/v1/scripts/rbac/run", &json!({"token": {}})).await;
            out.push(body["claims"]["v"].as_str().unwrap_or("-").to_string());
        }
        out
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while versions().await != ["v1", "v1", "v1"] {
        assert!(
            Instant::now() < deadline,
            "v1 never served: {:?}",
            versions().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Pushed but not signed: no replica takes it.
    publish("v2", false);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        versions().await,
        ["v1", "v1", "v1"],
        "an unsigned version must not load"
    );
    // Signed: every replica serves it within the poll interval (plus a pull).
    cli_ok(&[
        "sign",
        &reference,
        "--key",
        &d("keys/es256-private.pem"),
        "--insecure-http",
    ]);
    let signed = Instant::now();
    while versions().await != ["v2", "v2", "v2"] {
        assert!(
            signed.elapsed() < Duration::from_secs(10),
            "rollout stalled: {:?}",
            versions().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rollout = signed.elapsed();
    eprintln!(
        "rollout: 3 replicas served the signed version {} ms after `claimscript sign` (poll interval 500 ms)",
        rollout.as_millis()
    );
}
