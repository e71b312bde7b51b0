//! `claimscript keys generate|jwks` and `claimscript issue`.

use std::process::Command;

use crate::{claimscript, fixture, repo_path};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("claimscript-keys-{}-{name}", std::process::id()));
    // Fresh: `keys generate` does not overwrite what a run before left.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn verify(token: &str, alg: &str, jwks_path: &str) -> serde_json::Value {
    let out = Command::new("python3")
        .arg(repo_path("tests/verify_jwt.py"))
        .args([token, alg, "--jwks", jwks_path])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn generate_jwks_issue_and_verify_each_algorithm() {
    let input = repo_path("examples/rbac/input.json").display().to_string();
    let script = repo_path("examples/rbac/script.js").display().to_string();
    let base = temp_dir("base").join("base.json");
    std::fs::write(&base, r#"{"iss":"https://id.acme.test","sub":"usr_1","aud":"api","exp":4102444800,"roles":"base-wins"}"#)
        .expect("base");
    for alg in ["ES256", "RS256", "EdDSA"] {
        let dir = temp_dir(alg);
        let out = claimscript(&[
            "keys",
            "generate",
            "--alg",
            alg,
            "--out",
            &dir.display().to_string(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lower = alg.to_ascii_lowercase();
        let private = dir
            .join(format!("{lower}-private.pem"))
            .display()
            .to_string();
        let public = dir
            .join(format!("{lower}-public.pem"))
            .display()
            .to_string();
        assert!(
            std::fs::read_to_string(&private)
                .expect("private")
                .contains("PRIVATE KEY")
        );

        let out = claimscript(&["keys", "jwks", &public, "--kid", "k-1"]);
        assert_eq!(out.status.code(), Some(0));
        let jwks_path = dir.join("jwks.json").display().to_string();
        std::fs::write(&jwks_path, &out.stdout).expect("jwks");
        let jwks: serde_json::Value = serde_json::from_slice(&out.stdout).expect("jwks json");
        assert_eq!(jwks["keys"][0]["kid"], "k-1");
        assert!(
            jwks["keys"][0].get("d").is_none(),
            "no private parameters in a JWKS"
        );

        let out = claimscript(&[
            "issue",
            &script,
            "--input",
            &input,
            "--key",
            &private,
            "--alg",
            alg,
            "--kid",
            "k-1",
            "--claims",
            &base.display().to_string(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout).expect("utf8");
        assert_eq!(token.lines().count(), 1);
        let verified = verify(token.trim(), alg, &jwks_path);
        assert_eq!(verified["header"]["kid"], "k-1");
        assert_eq!(verified["payload"]["iss"], "https://id.acme.test");
        assert_eq!(
            verified["payload"]["roles"], "base-wins",
            "the base wins a collision"
        );
        assert_eq!(verified["payload"]["permissions"][0], "read:reports");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("roles"),
            "the collision is reported"
        );
    }
}

#[test]
fn issue_prints_the_outcome_on_denial_and_error() {
    let dir = temp_dir("deny");
    claimscript(&[
        "keys",
        "generate",
        "--alg",
        "ES256",
        "--out",
        &dir.display().to_string(),
    ]);
    let key = dir.join("es256-private.pem").display().to_string();
    let input = repo_path("examples/rbac/input.json").display().to_string();
    for (name, code, outcome) in [("deny", 2, "denied"), ("throw", 1, "error")] {
        let script = fixture(name).display().to_string();
        let out = claimscript(&[
            "issue", &script, "--input", &input, "--key", &key, "--alg", "ES256",
        ]);
        assert_eq!(out.status.code(), Some(code), "{name}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("outcome json");
        assert_eq!(json["outcome"], outcome);
    }
}

#[test]
fn bad_keys_and_algorithms_exit_64() {
    let dir = temp_dir("bad");
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not a key").expect("write");
    let input = repo_path("examples/rbac/input.json").display().to_string();
    let script = fixture("empty").display().to_string();
    let junk = junk.display().to_string();
    for args in [
        vec!["keys", "generate", "--alg", "PS256", "--out", "/tmp"],
        vec!["keys", "jwks", &junk],
        vec![
            "issue", &script, "--input", &input, "--key", &junk, "--alg", "ES256",
        ],
        vec![
            "issue", &script, "--input", &input, "--key", &junk, "--alg", "none",
        ],
    ] {
        let out = claimscript(&args);
        assert_eq!(
            out.status.code(),
            Some(64),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn hs256_secrets_shorter_than_32_bytes_are_refused() {
    let dir = temp_dir("short");
    let input = repo_path("examples/rbac/input.json").display().to_string();
    let script = fixture("empty").display().to_string();
    for (name, secret, len) in [
        ("empty", "", 0),
        ("spaces", "   \n", 0),
        ("one", "k", 1),
        ("short", "0123456789abcdef0123456789abcde", 31),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, secret).expect("secret");
        let key = path.display().to_string();
        let out = claimscript(&[
            "issue", &script, "--input", &input, "--key", &key, "--alg", "HS256",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: no token");
        assert!(
            stderr.contains(&format!("the HS256 secret is {len} bytes; at least 32")),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn issue_prints_an_outcome_for_a_token_over_the_size_limit() {
    let dir = temp_dir("large");
    let script = dir.join("large.js");
    std::fs::write(
        &script,
        "const getCustomJwtClaims = async () => { const c = {}; \
         for (let i = 0; i < 20; i++) c['k' + i] = 'v'.repeat(2000); return c; };",
    )
    .expect("script");
    let key = hs256_secret("large-key");
    let input = repo_path("examples/rbac/input.json").display().to_string();
    let script = script.display().to_string();
    let out = claimscript(&[
        "issue", &script, "--input", &input, "--key", &key, "--alg", "HS256",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(json["outcome"], "error", "{json}");
    assert_eq!(json["error"]["kind"], "output_too_large", "{json}");
    assert!(
        json["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("the issuer's limit")),
        "{json}"
    );
}

/// An HS256 secret file in its own directory.
fn hs256_secret(name: &str) -> String {
    let path = temp_dir(name).join("secret");
    std::fs::write(&path, SECRET).expect("secret");
    path.display().to_string()
}

const SECRET: &str = "a-32-byte-secret-for-hs256-tests";

/// `claimscript issue` with an HS256 key: the verified payload, and stderr.
fn issue_hs256(name: &str, args: &[&str]) -> (serde_json::Value, String) {
    let key = hs256_secret(name);
    let mut all = vec!["issue"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--key", &key, "--alg", "HS256"]);
    let out = claimscript(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    let token = String::from_utf8(out.stdout).expect("utf8");
    assert_eq!(token.lines().count(), 1);
    let out = Command::new("python3")
        .arg(repo_path("tests/verify_jwt.py"))
        .args([token.trim(), "HS256", "--secret", SECRET])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verified: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    (verified["payload"].clone(), stderr)
}

#[test]
fn issue_applies_the_scripts_scope_changes() {
    let script = temp_dir("scopes").join("scopes.js");
    std::fs::write(
        &script,
        "exports.onExecutePostLogin = async (event, api) => {\n\
           api.accessToken.removeScope('write:reports');\n\
           api.accessToken.addScope('admin:reports');\n\
         };\n",
    )
    .expect("script");
    let script = script.display().to_string();
    // The input's token has `scope: "read:reports write:reports"`.
    let input = repo_path("examples/auth0-roles/input.json")
        .display()
        .to_string();

    // Removals always apply; additions are left out and named on stderr.
    let (payload, stderr) = issue_hs256("scopes-default", &[&script, "--input", &input]);
    assert_eq!(payload["scope"], "read:reports");
    assert!(
        stderr.contains(
            "claimscript: scopes not added (pass --allow-scope-additions to add them): admin:reports"
        ),
        "{stderr}"
    );

    let (payload, stderr) = issue_hs256(
        "scopes-allowed",
        &[&script, "--input", &input, "--allow-scope-additions"],
    );
    assert_eq!(payload["scope"], "read:reports admin:reports");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn issue_target_id_signs_the_id_token_claims() {
    let script = repo_path("examples/auth0-roles/script.js")
        .display()
        .to_string();
    let input = repo_path("examples/auth0-roles/input.json")
        .display()
        .to_string();
    let (payload, _) = issue_hs256("target-id", &[&script, "--input", &input, "--target", "id"]);
    assert_eq!(payload["nickname"], "ada");
    assert!(
        payload.get("https://acme.test/roles").is_none(),
        "no access-token claims in the ID token: {payload}"
    );
    // The scope change is the access token's: the ID token keeps the base's.
    assert_eq!(payload["scope"], "read:reports write:reports");

    let (payload, _) = issue_hs256("target-access", &[&script, "--input", &input]);
    assert_eq!(
        payload["https://acme.test/roles"],
        serde_json::json!(["admin", "analyst", "billing"])
    );
    assert!(payload.get("nickname").is_none(), "{payload}");
}

#[test]
fn issue_audit_log_gets_one_line_per_run() {
    let log = temp_dir("issue-audit").join("issue.jsonl");
    let _ = std::fs::remove_file(&log);
    let log = log.display().to_string();
    let key = hs256_secret("issue-audit-key");
    let input = repo_path("examples/rbac/input.json").display().to_string();
    let rbac = repo_path("examples/rbac/script.js").display().to_string();
    let deny = fixture("deny").display().to_string();
    for (script, code) in [(&rbac, 0), (&deny, 2), (&rbac, 0)] {
        let out = claimscript(&[
            "issue",
            script,
            "--input",
            &input,
            "--key",
            &key,
            "--alg",
            "HS256",
            "--audit-log",
            &log,
        ]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = std::fs::read_to_string(&log).expect("log");
    let outcomes: Vec<String> = text
        .lines()
        .map(|line| {
            let record: serde_json::Value =
                serde_json::from_str(line).expect("a JSON record per line");
            record["outcome"].as_str().expect("outcome").to_string()
        })
        .collect();
    assert_eq!(outcomes, ["claims", "denied", "claims"]);
}

#[test]
fn keys_generate_refuses_to_overwrite_without_force() {
    let dir = temp_dir("overwrite");
    let out_dir = dir.display().to_string();
    let private = dir.join("es256-private.pem");
    let public = dir.join("es256-public.pem");
    let generate = |extra: &[&str]| {
        let mut args = vec!["keys", "generate", "--alg", "ES256", "--out", &out_dir];
        args.extend_from_slice(extra);
        claimscript(&args)
    };
    let out = generate(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = std::fs::read(&private).expect("private");

    let out = generate(&[]);
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "claimscript: {} already exists; pass --force to overwrite it\n",
            private.display()
        )
    );
    assert_eq!(std::fs::read(&private).expect("private"), first, "kept");

    // Only the public key there: still refused, and no private key written.
    std::fs::remove_file(&private).expect("remove");
    let out = generate(&[]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("{} already exists", public.display()))
    );
    assert!(!private.exists(), "never half a pair");

    // --force overwrites, and a private key is 0600 even over a 0644 file.
    std::fs::write(&private, "old").expect("old");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let out = generate(&["--force"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = std::fs::read_to_string(&private).expect("private");
    assert!(pem.contains("PRIVATE KEY"), "{pem}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
        };
        assert_eq!(mode(&private), 0o600);
        assert_eq!(mode(&public), 0o644);
    }
}
