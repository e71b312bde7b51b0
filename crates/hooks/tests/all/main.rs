//! Integration tests of the hook protocols: one binary, one module per
//! provider. The sample requests in `tests/fixtures/` are signed the way
//! each provider signs, parsed, mapped, run through a real script, and the
//! response checked byte for byte where the provider's format is strict.

mod general;
mod hydra;
mod okta;
mod props;
mod replay;
mod supabase;
mod zitadel;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use claimscript::{Engine, ErrorKind, Grants, Outcome, RunInput, ScriptError};
use claimscript_hooks::HookResponse;
use serde_json::Value;

/// One engine per test binary: the runtime is prepared once.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new().expect("engine"))
}

/// The bytes of `tests/fixtures/NAME`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Unix time `secs`.
pub fn at(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).expect("after 1970"))
}

/// Compile `source` and run it once on `input` with the default grants.
pub async fn run(source: &str, input: &RunInput) -> Outcome {
    let script = engine()
        .compile(source)
        .await
        .unwrap_or_else(|e| panic!("compile: {e}"));
    script
        .run(input, &Grants::default())
        .await
        .expect("run starts")
        .outcome
}

/// A script that denies with Supabase's documented message.
pub const DENY: &str = r#"const getCustomJwtClaims = async ({ api }) => {
  api.denyAccess('Staging access is only allowed to team members.');
};"#;

/// A script failure of `kind`.
pub fn failed(kind: ErrorKind) -> Outcome {
    Outcome::Error(ScriptError::new(kind, "boom: secret-looking detail"))
}

/// The response body as text.
pub fn body(response: &HookResponse) -> &str {
    std::str::from_utf8(&response.body).expect("UTF-8 body")
}

/// `value[path...]`, panicking with the path when absent.
pub fn get<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    let mut v = value;
    for key in path {
        v = v
            .get(*key)
            .unwrap_or_else(|| panic!("no {path:?} in {value}"));
    }
    v
}
