//! Scripts on arbitrary inputs, through the guest's JSON reader and writer:
//! one engine, a fixed script that echoes and reshapes its input, run on a
//! RunInput made from the fuzz bytes. Every run ends in an outcome (claims,
//! a denial or a typed script error), never a host panic or a failure to
//! start.
#![no_main]

use std::sync::OnceLock;

use claimscript::{Engine, EngineConfig, Grants, Outcome, RunInput, Script};
use libfuzzer_sys::fuzz_target;

const SCRIPT: &str = r#"
const getCustomJwtClaims = async ({ token, context, environmentVariables, api }) => {
  const user = (context && context.user) || {};
  if (user.blocked === true) api.denyAccess('blocked: ' + String(user.name).slice(0, 40));
  const roles = Array.isArray(user.roles) ? user.roles : [];
  const copy = JSON.parse(JSON.stringify({ token, context }));
  return {
    echo: copy,
    roles: roles.map((r) => typeof r === 'string' ? r.toUpperCase() : r),
    keys: Object.keys(token || {}).sort(),
    size: JSON.stringify(context ?? null).length,
    scope: typeof token.scope === 'string' ? token.scope.split(' ').reverse().join(' ') : null,
  };
};
"#;

struct Fixture {
    _engine: Engine,
    runtime: tokio::runtime::Runtime,
    script: Script,
    grants: Grants,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut config = EngineConfig::default();
        config.max_concurrent_runs = 1;
        let engine = Engine::with_config(config).expect("engine");
        let script = runtime
            .block_on(engine.compile(SCRIPT))
            .expect("the fixed script compiles");
        let grants = Grants::default()
            .with_fuel(20_000_000)
            .with_timeout_ms(2_000)
            .with_max_output_bytes(256 * 1024);
        Fixture {
            _engine: engine,
            runtime,
            script,
            grants,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(input) = RunInput::from_json(text) else {
        return;
    };
    let fixture = fixture();
    let report = fixture
        .runtime
        .block_on(fixture.script.run(&input, &fixture.grants))
        .expect("a run starts");
    match &report.outcome {
        Outcome::Claims { claims, .. } => {
            for key in ["echo", "roles", "keys", "size"] {
                assert!(claims.contains_key(key), "claims without {key}: {claims:?}");
            }
        }
        Outcome::Denied(d) => assert!(d.message.starts_with("blocked: "), "{d:?}"),
        other => {
            let _ = format!("{other:?}");
        }
    }
});
