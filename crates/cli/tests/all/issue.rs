//! `claimscript keys generate|jwks` and `claimscript issue`.

use std::process::Command;

use crate::{claimscript, fixture, repo_path};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("claimscript-keys-{}-{name}", std::process::id()));
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
