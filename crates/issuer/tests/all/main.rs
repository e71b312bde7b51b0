//! Issuance tests: every token is verified by an independent implementation
//! (PyJWT over pyca/cryptography, `tests/verify_jwt.py`), not only decoded
//! with jsonwebtoken.

mod issue;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use claimscript::Engine;
use serde_json::Value;

pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new().expect("engine"))
}

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Key source for the verifier.
#[derive(Debug)]
pub enum VerifyWith<'a> {
    Jwks(&'a Value),
    Secret(&'a str),
}

/// Verify `token` independently; returns `{"header": .., "payload": ..}`.
pub fn verify(token: &str, alg: &str, with: VerifyWith<'_>) -> Value {
    let dir = std::env::temp_dir().join(format!("claimscript-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (mode, source) = match with {
        VerifyWith::Jwks(jwks) => {
            let path = dir.join(format!("{alg}-{}.json", token.len()));
            std::fs::write(&path, jwks.to_string()).expect("write jwks");
            ("--jwks", path.display().to_string())
        }
        VerifyWith::Secret(secret) => ("--secret", secret.to_string()),
    };
    let out = Command::new("python3")
        .arg(repo_path("tests/verify_jwt.py"))
        .args([token, alg, mode, &source])
        .output()
        .expect("python3 runs (install tests/requirements.txt)");
    assert!(
        out.status.success(),
        "verification failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("verifier JSON")
}
