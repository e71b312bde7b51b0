//! Hot reload, backpressure, TLS with certificate reload, audit rotation
//! and graceful shutdown.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{Answer, Dir, Running, metric};

fn claim(value: &str) -> String {
    format!("const getCustomJwtClaims = async () => ({{ v: '{value}' }});")
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn v(s: &Running, name: &str) -> String {
    let a = s
        .post(&format!("/v1/scripts/{name}/run"), &json!({"token": {}}))
        .await;
    a.json["claims"]["v"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_files_reload_and_broken_ones_keep_the_old_version() {
    let dir = Dir::new();
    dir.write("a.js", claim("one"));
    let s = dir
        .start("watch_interval_ms = 100\n[scripts.a]\npath = \"a.js\"\n")
        .await;
    assert_eq!(v(&s, "a").await, "one");

    dir.write("a.js", claim("two"));
    wait_for("the edit to be served", || async {
        v(&s, "a").await == "two"
    })
    .await;

    // Broken: the old version keeps serving; the error shows in the list,
    // the metrics and readiness stays (a version is loaded).
    dir.write("a.js", "const getCustomJwtClaims = async () => ({ v: ;");
    wait_for("the load error to show", || async {
        let list = s.get("/v1/scripts").await;
        list.json["scripts"][0]["last_error"]["kind"] == "syntax"
    })
    .await;
    assert_eq!(v(&s, "a").await, "two");
    let m = s.metrics().await;
    assert!(
        m.contains("claimscript_script_load_failing{script=\"a\"} 1"),
        "{m}"
    );
    assert_eq!(s.get("/health/ready").await.status, 200);

    // Fixed again; and a script added to the config file appears.
    dir.write("a.js", claim("three"));
    wait_for("the fix to be served", || async {
        v(&s, "a").await == "three"
    })
    .await;
    dir.write("b.js", claim("bee"));
    dir.write(
        "claimscript.toml",
        "listen = \"127.0.0.1:0\"\ndata_dir = \"data\"\nwatch_interval_ms = 100\n[scripts.a]\npath = \"a.js\"\n[scripts.b]\npath = \"b.js\"\n",
    );
    wait_for("the new script", || async { v(&s, "b").await == "bee" }).await;
    // A config that does not parse keeps the one in force.
    dir.write("claimscript.toml", "listen = \"127.0.0.1:0\"\nbogus = 1\n");
    wait_for("the failed reload to count", || async {
        metric(
            &s.metrics().await,
            "claimscript_reloads_total{result=\"failed\"}",
        ) >= 1.0
    })
    .await;
    assert_eq!(v(&s, "b").await, "bee");
    // SIGHUP's path, called directly.
    assert!(s.server.service().reload().await.is_err());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_in_flight_finish_on_the_version_they_started_with() {
    let dir = Dir::new();
    dir.write(
        "slow.js",
        "const getCustomJwtClaims = async () => { await new Promise((r) => setTimeout(r, 600)); return { v: 'old' }; };",
    );
    let s = dir
        .start("watch_interval_ms = 0\n[scripts.slow]\npath = \"slow.js\"\n")
        .await;
    let client = s.client.clone();
    let url = s.url("/v1/scripts/slow/run");
    let in_flight = tokio::spawn(async move {
        Answer::of(client.post(url).json(&json!({"token": {}})).send().await).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    dir.write("slow.js", claim("new"));
    s.server.service().reload().await.expect("reload");
    assert_eq!(v(&s, "slow").await, "new");
    let a = in_flight.await.expect("join");
    assert_eq!(a.json["claims"]["v"], "old", "{}", a.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_is_a_503_with_retry_after() {
    let dir = Dir::new();
    dir.write(
        "slow.js",
        "const getCustomJwtClaims = async () => { await new Promise((r) => setTimeout(r, 800)); return {}; };",
    );
    let s = dir
        .start("[limits]\nmax_concurrent_runs = 1\nqueue_timeout_ms = 100\n[scripts.slow]\npath = \"slow.js\"\n")
        .await;
    let client = s.client.clone();
    let url = s.url("/v1/scripts/slow/run");
    let first = tokio::spawn(async move {
        Answer::of(client.post(url).json(&json!({"token": {}})).send().await).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let a = s.post("/v1/scripts/slow/run", &json!({"token": {}})).await;
    let message = a.error(503, "busy").to_string();
    assert!(message.contains("100 ms"), "{message}");
    assert_eq!(a.headers["retry-after"], "1");
    assert_eq!(first.await.expect("join").status, 200);
    let m = s.metrics().await;
    assert_eq!(metric(&m, "claimscript_queue_rejections_total"), 1.0, "{m}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_runs_in_flight() {
    let dir = Dir::new();
    dir.write(
        "slow.js",
        "const getCustomJwtClaims = async () => { await new Promise((r) => setTimeout(r, 500)); return { done: true }; };",
    );
    let s = dir
        .start("[scripts.slow]\npath = \"slow.js\"\n[audit]\nfile = \"audit.jsonl\"\n")
        .await;
    let mut runs = Vec::new();
    for _ in 0..20 {
        let client = s.client.clone();
        let url = s.url("/v1/scripts/slow/run");
        runs.push(tokio::spawn(async move {
            Answer::of(client.post(url).json(&json!({"token": {}})).send().await).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let base = s.base.clone();
    s.server.shutdown().await;
    for run in runs {
        let a = run.await.expect("join");
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.json["claims"]["done"], true);
    }
    // No longer accepting.
    assert!(reqwest::get(format!("{base}/health")).await.is_err());
    let log = std::fs::read_to_string(dir.path("audit.jsonl")).expect("audit");
    assert_eq!(log.lines().count(), 20, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_file_rotates_by_size() {
    let dir = Dir::new();
    dir.write("a.js", claim("x"));
    let s = dir
        .start("[scripts.a]\npath = \"a.js\"\n[audit]\nfile = \"audit.jsonl\"\nmax_bytes = 4096\nkeep = 2\n")
        .await;
    for _ in 0..40 {
        assert_eq!(v(&s, "a").await, "x");
    }
    let m = s.metrics().await;
    assert_eq!(
        metric(&m, "claimscript_audit_records_total{result=\"written\"}"),
        40.0,
        "{m}"
    );
    s.stop().await;
    let mut lines = 0;
    for file in ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"] {
        let text = std::fs::read_to_string(dir.path(file)).expect(file);
        assert!(text.len() <= 4096, "{file}: {} bytes", text.len());
        for line in text.lines() {
            let record: serde_json::Value = serde_json::from_str(line).expect("one record a line");
            assert_eq!(record["name"], "a");
            lines += 1;
        }
    }
    assert!(!dir.path("audit.jsonl.3").exists());
    assert!(lines < 40 && lines > 10, "{lines} records kept");
}

fn self_signed(dir: &Dir, name: &str) -> Vec<u8> {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress(std::net::IpAddr::from([
            127, 0, 0, 1,
        ])));
    let cert = params.self_signed(&key).expect("cert");
    dir.write("tls/cert.pem", cert.pem());
    dir.write("tls/key.pem", key.serialize_pem());
    cert.der().to_vec()
}

async fn served_cert(url: &str, roots: &[Vec<u8>]) -> Vec<u8> {
    let mut builder = reqwest::Client::builder().tls_info(true);
    for der in roots {
        builder = builder.add_root_certificate(reqwest::Certificate::from_der(der).expect("der"));
    }
    let client = builder.build().expect("client");
    let response = client.get(url).send().await.expect("https request");
    assert_eq!(response.status(), 200);
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("peer certificate")
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_and_reloads_its_certificate() {
    let dir = Dir::new();
    let first = self_signed(&dir, "first");
    let s = dir
        .start("watch_interval_ms = 0\n[tls]\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\n")
        .await;
    let url = format!("https://{}/health", s.server.local_addr());
    assert_eq!(served_cert(&url, std::slice::from_ref(&first)).await, first);
    // Plain HTTP to the TLS port gets nothing useful.
    assert!(
        reqwest::get(format!("http://{}/health", s.server.local_addr()))
            .await
            .map(|r| r.status() != 200)
            .unwrap_or(true)
    );
    let second = self_signed(&dir, "second");
    s.server.service().reload().await.expect("reload");
    assert_eq!(served_cert(&url, &[first, second.clone()]).await, second);
    s.stop().await;
}
