//! Deadlines, protocol names, error statuses, and the raw payload reaching
//! the script.

use std::time::Duration;

use claimscript_hooks::{
    HookError, Location, OKTA_DEADLINE, Protocol, SUPABASE_DEADLINE, json_pointer_escape,
    max_run_timeout, parse,
};

use crate::{fixture, run};

#[test]
fn run_timeouts_fit_under_each_provider_deadline() {
    assert_eq!(OKTA_DEADLINE, Duration::from_secs(3));
    assert_eq!(SUPABASE_DEADLINE, Duration::from_secs(5));
    assert_eq!(
        max_run_timeout(Protocol::Okta),
        Duration::from_millis(2_500)
    );
    assert_eq!(
        max_run_timeout(Protocol::Supabase),
        Duration::from_millis(4_500)
    );
    assert_eq!(
        max_run_timeout(Protocol::Zitadel),
        Duration::from_millis(9_500)
    );
    assert_eq!(
        max_run_timeout(Protocol::Hydra),
        Duration::from_millis(29_500)
    );
    for p in Protocol::ALL {
        assert!(max_run_timeout(p) < p.deadline());
        assert_eq!(Protocol::from_name(p.as_str()), Some(p));
    }
    assert_eq!(Protocol::from_name("auth0"), None);
}

#[test]
fn error_statuses() {
    let syntax = HookError::Malformed {
        what: "x".into(),
        at: Location::LineColumn { line: 1, column: 2 },
    };
    assert_eq!(syntax.status(), 400);
    let shape = HookError::Malformed {
        what: "x".into(),
        at: Location::Pointer("/a".into()),
    };
    assert_eq!(shape.status(), 422);
    assert_eq!(shape.to_string(), "malformed request body at `/a`: x");
    assert_eq!(HookError::Unsupported { what: "x".into() }.status(), 422);
    assert_eq!(HookError::Replayed { id: "i".into() }.status(), 401);
}

#[test]
fn json_pointer_escaping() {
    assert_eq!(
        json_pointer_escape("https://acme.test/a~b"),
        "https:~1~1acme.test~1a~0b"
    );
    assert_eq!(json_pointer_escape("~1"), "~01");
}

#[tokio::test]
async fn every_provider_payload_reaches_a_logto_script_at_context_hook() {
    for (protocol, file, probe) in [
        (Protocol::Okta, "okta-token-transform.json", "eventType"),
        (Protocol::Zitadel, "zitadel-preaccesstoken.json", "function"),
        (Protocol::Hydra, "hydra-token-hook.json", "session"),
        (
            Protocol::Supabase,
            "supabase-custom-access-token.json",
            "user_id",
        ),
    ] {
        let request = parse(protocol, &fixture(file)).expect("must succeed");
        assert_eq!(request.protocol(), protocol);
        let outcome = run(
            &format!(
                "const getCustomJwtClaims = async ({{ context }}) => ({{ p: context.hook.provider, has: '{probe}' in context.hook.payload }});"
            ),
            &request.to_run_input(),
        )
        .await;
        match outcome {
            claimscript::Outcome::Claims { claims, .. } => {
                assert_eq!(claims["p"], protocol.as_str());
                assert_eq!(claims["has"], true, "{protocol}");
            }
            other => panic!("{protocol}: {other:?}"),
        }
        assert_eq!(
            request.raw()[probe],
            serde_json::from_slice::<serde_json::Value>(&fixture(file)).expect("must succeed")
                [probe]
        );
    }
}
