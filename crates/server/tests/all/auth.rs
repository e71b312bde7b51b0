//! Bearer tokens and scopes, the diagnostic listener, and the refusal to
//! serve an unauthenticated API beyond loopback.

use serde_json::json;

use crate::{Answer, Dir, rbac_config, rbac_input};

const RUN_TOKEN: &str = "run-token-0123456789abcdef";
const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn tokens() -> String {
    format!(
        "[[tokens]]\nid = \"logto\"\nsha256 = \"{}\"\nscopes = [\"run\"]\n[[tokens]]\nid = \"ops\"\nsha256 = \"sha256:{}\"\nscopes = [\"admin\"]\n",
        hex(&claimscript_server::token_hash(RUN_TOKEN.as_bytes())),
        hex(&claimscript_server::token_hash(ADMIN_TOKEN.as_bytes())),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_scopes() {
    let dir = Dir::new();
    let s = dir
        .start(&format!(
            "diagnostic_listen = \"127.0.0.1:0\"\n{}\n{}\n[audit]\nfile = \"audit.jsonl\"\n",
            tokens(),
            rbac_config()
        ))
        .await;
    let run = |token: Option<&str>| {
        let mut request = s
            .client
            .post(s.url("/v1/scripts/rbac/run"))
            .json(&rbac_input());
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        request.send()
    };
    let message = Answer::of(run(None).await)
        .await
        .error(401, "unauthorized")
        .to_string();
    assert!(message.contains("Bearer"), "{message}");
    Answer::of(run(Some("Bearer nope-nope-nope")).await)
        .await
        .error(401, "unauthorized");
    Answer::of(run(Some(RUN_TOKEN)).await)
        .await
        .error(401, "unauthorized");
    let a = Answer::of(run(Some(&format!("Bearer {RUN_TOKEN}"))).await).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let decision = a.json["decision_id"].as_str().expect("id").to_string();
    // Admin implies run.
    let a = Answer::of(run(Some(&format!("bearer {ADMIN_TOKEN}"))).await).await;
    assert_eq!(a.status, 200, "{}", a.text);
    // Registering needs admin.
    let put = |token: &str| {
        s.client
            .put(s.url("/v1/scripts/x"))
            .header("authorization", format!("Bearer {token}"))
            .json(&json!({"source": "const getCustomJwtClaims = async () => ({});"}))
            .send()
    };
    let message = Answer::of(put(RUN_TOKEN).await)
        .await
        .error(403, "forbidden")
        .to_string();
    assert!(message.contains("`admin` scope"), "{message}");
    assert_eq!(Answer::of(put(ADMIN_TOKEN).await).await.status, 201);
    // Health and metrics need a token on the API listener, not on the
    // diagnostic one.
    s.get("/metrics").await.error(401, "unauthorized");
    let diag = format!(
        "http://{}",
        s.server.diagnostic_addr().expect("diagnostic listener")
    );
    let m = Answer::of(s.client.get(format!("{diag}/metrics")).send().await).await;
    assert_eq!(m.status, 200);
    assert!(
        m.text.contains("claimscript_http_requests_total"),
        "{}",
        m.text
    );
    let h = Answer::of(s.client.get(format!("{diag}/health/ready")).send().await).await;
    assert_eq!(h.status, 200);
    Answer::of(
        s.client
            .post(format!("{diag}/v1/scripts/rbac/run"))
            .send()
            .await,
    )
    .await
    .error(404, "not_found");
    // The audit record carries the decision id, the script's name and the
    // caller's token id, never the token.
    s.stop().await;
    let log = std::fs::read_to_string(dir.path("audit.jsonl")).expect("audit log");
    let record: serde_json::Value = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|r: &serde_json::Value| r["decision_id"] == decision.as_str())
        .expect("a record of the decision");
    assert_eq!(record["name"], "rbac");
    assert_eq!(record["caller"], "logto");
    assert_eq!(record["outcome"], "claims");
    assert!(!log.contains(RUN_TOKEN) && !log.contains(ADMIN_TOKEN));
}

#[test]
fn no_tokens_means_loopback_only() {
    let dir = Dir::new();
    let base = dir.tmp.path();
    for (listen, ok) in [
        ("127.0.0.1:0", true),
        ("[::1]:8787", true),
        ("0.0.0.0:8787", false),
        ("192.0.2.10:8787", false),
    ] {
        let config = claimscript_server::ServiceConfig::from_toml(
            &format!("listen = \"{listen}\"\n"),
            base,
            None,
        )
        .expect("config");
        let result = config.check_exposure();
        assert_eq!(result.is_ok(), ok, "{listen}: {result:?}");
        if let Err(e) = result {
            assert!(e.to_string().contains("without authentication"), "{e}");
        }
    }
    let with_token = claimscript_server::ServiceConfig::from_toml(
        &format!("listen = \"0.0.0.0:8787\"\n{}", tokens()),
        base,
        None,
    )
    .expect("config");
    assert!(with_token.check_exposure().is_ok());
}

#[test]
fn config_errors_name_the_file_line_and_key() {
    let dir = Dir::new();
    let cases = [
        (
            "listen = \"127.0.0.1:0\"\ncolour = 1\n",
            2,
            "unknown field `colour`",
        ),
        (
            "[limits]\nmax_body_bytes = 10\n",
            2,
            "`max_body_bytes`: must be between 1024",
        ),
        (
            "[scripts.a]\npath = \"a.js\"\nfailure_policy = \"maybe\"\n",
            3,
            "unknown failure policy `maybe`",
        ),
        (
            "[scripts.a]\npath = \"a.js\"\nkey = \"k\"\n",
            3,
            "no key `k` in [keys]",
        ),
        (
            "[[tokens]]\nid = \"t\"\nsha256 = \"abc\"\nscopes = [\"run\"]\n",
            1,
            "`sha256` must be 64 hex digits",
        ),
        (
            "[[tokens]]\nid = \"t\"\nsha256 = \"abc\"\nscopes = [\"root\"]\n",
            4,
            "unknown variant `root`",
        ),
        (
            "[scripts.\"bad/name\"]\npath = \"a.js\"\n",
            1,
            "invalid script name",
        ),
        ("listen = \"localhost\"\n", 1, "is not an address:port"),
    ];
    for (text, line, message) in cases {
        let path = dir.write("bad.toml", text);
        let e = claimscript_server::ServiceConfig::from_file(&path)
            .expect_err(text)
            .to_string();
        assert!(
            e.starts_with(&format!("{}: line {line},", path.display())),
            "{text}: {e}"
        );
        assert!(e.contains(message), "{text}: {e}");
    }
}
