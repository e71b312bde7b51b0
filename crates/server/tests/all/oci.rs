//! Scripts from an OCI registry: a real `docker-registry` on loopback.
//! Verified before they load, a tag followed, the last good version kept
//! through a registry outage and a restart.

use std::time::{Duration, Instant};

use claimscript_issuer::SigningAlgorithm;
use claimscript_oci::test_support::TestRegistry;
use claimscript_oci::{Client, ClientConfig, Reference, SigningKey};
use serde_json::{Value, json};

use crate::{Dir, Running, metric};

async fn component(v: &str) -> Vec<u8> {
    let mut config = claimscript::EngineConfig::default();
    config.cache_dir = Some(crate::warm_cache().join("cache"));
    config.max_concurrent_runs = 2;
    let engine = claimscript::Engine::with_config(config).expect("engine");
    let script = engine
        .compile(&format!(
            "const getCustomJwtClaims = async () => ({{ v: '{v}' }});"
        ))
        .await
        .expect("compile");
    script.component_bytes().expect("kept").to_vec()
}

async fn v(s: &Running) -> Value {
    let a = s.post("/v1/scripts/live/run", &json!({"token": {}})).await;
    a.json["claims"]["v"].clone()
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if check().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_is_followed_verified_and_kept_through_an_outage() {
    let mut registry = TestRegistry::start().unwrap_or_else(|e| panic!("{e}"));
    let client = Client::new(ClientConfig::default().with_plain_http(true)).expect("client");
    let reference = Reference::parse(&registry.reference("claims/live:stable")).expect("ref");
    let pair = claimscript_issuer::generate_key(SigningAlgorithm::ES256).expect("key");
    let key = SigningKey::from_pem(&pair.private_pem, "test key").expect("signing key");
    let other = claimscript_issuer::generate_key(SigningAlgorithm::ES256).expect("key");
    let other_key = SigningKey::from_pem(&other.private_pem, "other key").expect("signing key");

    client
        .push(
            &reference,
            &component("one").await,
            Some("fuel = 30000000\n"),
        )
        .await
        .expect("push");
    client.sign(&reference, &key).await.expect("sign");

    let dir = Dir::new();
    dir.write("keys/release.pub", &pair.public_pem);
    let config = format!(
        "[scripts.live]\noci = \"oci://{}\"\nverify_keys = [\"keys/release.pub\"]\npoll_interval_ms = 200\nplain_http = true\n",
        registry.reference("claims/live:stable")
    );
    let s = dir.start(&config).await;
    eventually("the first pull", async || v(&s).await == "one").await;
    let list = s.get("/v1/scripts").await;
    let item = &list.json["scripts"][0];
    assert!(
        item["origin"]["oci"]
            .as_str()
            .unwrap_or("")
            .ends_with("claims/live:stable"),
        "{item}"
    );
    assert_eq!(
        item["grants"], "fuel = 30000000\n",
        "the grants travel with the script"
    );
    s.put("/v1/scripts/live", &json!({"source": "x"}))
        .await
        .error(409, "defined_in_config");

    // A new version signed with another key: refused, the old one serves.
    client
        .push(&reference, &component("evil").await, None)
        .await
        .expect("push");
    client.sign(&reference, &other_key).await.expect("sign");
    eventually("the verification failure", async || {
        let list = s.get("/v1/scripts").await;
        list.json["scripts"][0]["last_error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("signature") || m.contains("sign"))
    })
    .await;
    assert_eq!(v(&s).await, "one");
    let m = s.metrics().await;
    assert!(
        metric(
            &m,
            "claimscript_oci_pulls_total{script=\"live\",outcome=\"failed\"}"
        ) >= 1.0,
        "{m}"
    );
    assert!(
        m.contains("claimscript_script_load_failing{script=\"live\"} 1"),
        "{m}"
    );

    // Signed with the release key: it rolls out.
    client
        .push(&reference, &component("two").await, None)
        .await
        .expect("push");
    assert_eq!(v(&s).await, "one", "not before it is signed");
    client.sign(&reference, &key).await.expect("sign");
    eventually("the signed version", async || v(&s).await == "two").await;

    // The registry goes away: the last good version keeps serving, the
    // failure shows.
    registry.stop();
    eventually("the outage to show", async || {
        let list = s.get("/v1/scripts").await;
        !list.json["scripts"][0]["last_error"].is_null()
    })
    .await;
    assert_eq!(v(&s).await, "two");
    s.stop().await;

    // A restart with the registry still down: the kept version serves.
    let s = dir.start(&config).await;
    assert_eq!(v(&s).await, "two");
    assert_eq!(s.get("/health/ready").await.status, 200);
    s.stop().await;
}

#[test]
fn oci_scripts_need_keys_or_an_explicit_opt_out() {
    let dir = Dir::new();
    let cases = [
        (
            "[scripts.a]\noci = \"oci://127.0.0.1:5000/a:v1\"\n",
            "give `verify_keys`",
        ),
        (
            "[scripts.a]\npath = \"a.js\"\noci = \"oci://127.0.0.1:5000/a:v1\"\n",
            "exactly one of `path`",
        ),
        (
            "[scripts.a]\npath = \"a.js\"\nplain_http = true\n",
            "apply to `oci` scripts only",
        ),
        (
            "[scripts.a]\noci = \"oci://127.0.0.1:5000/a@sha256:0000000000000000000000000000000000000000000000000000000000000000\"\nallow_unsigned = true\npoll_interval_ms = 1000\n",
            "nothing to poll",
        ),
        (
            "[scripts.a]\noci = \"oci://127.0.0.1:5000/a:v1\"\nverify_keys = [\"missing.pem\"]\n",
            "missing.pem",
        ),
    ];
    for (text, message) in cases {
        let path = dir.write("claimscript.toml", text);
        let e = claimscript_server::ServiceConfig::from_file(&path)
            .expect_err(text)
            .to_string();
        assert!(e.contains(message), "{text}: {e}");
    }
}
