//! Ory Hydra's token hook.

use claimscript::{ErrorKind, FailurePolicy, TokenKind};
use claimscript_hooks::keys::NoKeys;
use claimscript_hooks::{Auth, DropReason, Effect, HookError, Location, Verifier, hydra};
use http::HeaderMap;
use serde_json::json;

use crate::{DENY, at, body, failed, fixture, run};

const KEY: &str = "hk_live_9f2c1e";

#[tokio::test]
async fn sample_is_authenticated_and_answered_with_both_maps() {
    let bytes = fixture("hydra-token-hook.json");
    let v = Verifier::new(Auth::Hydra(
        hydra::Auth::header("X-Hook-Key", KEY).expect("must succeed"),
    ));
    let mut headers = HeaderMap::new();
    headers.insert("x-hook-key", KEY.parse().expect("must succeed"));
    v.verify(&headers, &bytes, at(0), &NoKeys)
        .expect("must succeed");

    let request = hydra::parse(&bytes).expect("must succeed");
    let input = request.to_run_input();
    assert_eq!(input.kind, TokenKind::AccessToken);
    assert_eq!(
        serde_json::Value::Object(input.token.clone()),
        json!({"clientId": "app-client", "scope": "offline openid hydra.*", "gty": "authorization_code", "accountId": "foo", "kind": "AccessToken"})
    );
    let context = input.context().expect("must succeed");
    assert_eq!(context["user"], json!({"id": "foo"}));
    assert_eq!(context["application"], json!({"id": "app-client"}));
    assert_eq!(context["hook"]["provider"], "hydra");

    let outcome = run(
        r#"exports.onExecutePostLogin = async (event, api) => {
             api.accessToken.setCustomClaim('your:custom:access-token-claim', 'any value you like');
             api.accessToken.setCustomClaim('your:second:access-token-claim', 124390123);
             api.idToken.setCustomClaim('your:custom:id-token-claim', 'another value');
           };"#,
        &input,
    )
    .await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(response.status, 200);
    // Hydra's documented sample response, byte for byte.
    assert_eq!(
        body(&response),
        concat!(
            r#"{"session":{"access_token":{"your:custom:access-token-claim":"any value you like","your:second:access-token-claim":124390123},"#,
            r#""id_token":{"your:custom:id-token-claim":"another value"}}}"#
        )
    );
    assert_eq!(response.effect, Effect::Claims);
}

#[tokio::test]
async fn existing_extra_claims_are_carried_over_never_lost() {
    let request = hydra::parse(&fixture("hydra-client-credentials.json")).expect("must succeed");
    let input = request.to_run_input();
    assert_eq!(input.kind, TokenKind::ClientCredentials);
    assert_eq!(input.token["aud"], json!(["https://api.example.com"]));
    assert!(!input.token.contains_key("accountId"));
    let context = input.context().expect("must succeed");
    assert!(!context.contains_key("user"));
    assert_eq!(
        context["application"],
        json!({"id": "billing-service", "name": "Billing", "customData": {"tier": "internal"}})
    );

    let outcome = run(
        r#"const getCustomJwtClaims = async ({ context }) => ({
             region: 'us', tier: context.application.customData.tier, scp: ['admin'], ext: {},
           });"#,
        &input,
    )
    .await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(
        body(&response),
        r#"{"session":{"access_token":{"plan":"gold","region":"us","tier":"internal"},"id_token":{}}}"#
    );
    let dropped: Vec<_> = response
        .dropped
        .iter()
        .map(|d| (d.name.as_str(), d.reason))
        .collect();
    assert_eq!(
        dropped,
        [
            ("scp", DropReason::Protected),
            ("ext", DropReason::Protected)
        ]
    );
}

#[tokio::test]
async fn denial_is_403() {
    let request = hydra::parse(&fixture("hydra-token-hook.json")).expect("must succeed");
    let outcome = run(DENY, &request.to_run_input()).await;
    let response = request.respond(&outcome, FailurePolicy::IssueWithoutClaims);
    assert_eq!(response.status, 403);
    assert_eq!(
        body(&response),
        r#"{"error":"access_denied","error_description":"Staging access is only allowed to team members."}"#
    );
}

#[test]
fn failure_policy_in_hydra_terms() {
    let request = hydra::parse(&fixture("hydra-client-credentials.json")).expect("must succeed");
    let open = request.respond(
        &failed(ErrorKind::Memory),
        FailurePolicy::IssueWithoutClaims,
    );
    assert_eq!(open.status, 200);
    assert_eq!(
        body(&open),
        r#"{"session":{"access_token":{"plan":"gold","region":"eu"},"id_token":{}}}"#
    );
    assert_eq!(open.effect, Effect::FailedOpen);
    let closed = request.respond(&failed(ErrorKind::Memory), FailurePolicy::Block);
    assert_eq!(closed.status, 500);
    assert_eq!(
        body(&closed),
        r#"{"error":"server_error","error_description":"custom claims script failed (memory)"}"#
    );
}

#[test]
fn api_key_in_a_cookie() {
    let bytes = fixture("hydra-token-hook.json");
    let auth = hydra::Auth::cookie("hook_key", "a b,c").expect("must succeed");
    let ok = |cookie: &str| {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", cookie.parse().expect("must succeed"));
        hydra::verify(&auth, &headers, &bytes)
    };
    // Go quotes a value holding a space or a comma.
    ok("theme=dark; hook_key=\"a b,c\"; other=1").expect("must succeed");
    ok("hook_key=a b,c").expect("must succeed");
    let e = ok("hook_key=wrong").expect_err("must be refused");
    assert_eq!(
        e.to_string(),
        "unauthenticated: cookie `hook_key` does not carry the configured API key"
    );
    let e = ok("theme=dark").expect_err("must be refused");
    assert_eq!(
        e.to_string(),
        "unauthenticated: cookie `hook_key` is missing"
    );
    assert_eq!(
        hydra::verify(&auth, &HeaderMap::new(), &bytes)
            .expect_err("must be refused")
            .status(),
        401
    );
    assert!(hydra::Auth::cookie("bad;name", "x").is_err());
    assert!(hydra::Auth::cookie("ok", "").is_err());
}

#[test]
fn api_key_header_failures() {
    let bytes = fixture("hydra-token-hook.json");
    let auth = hydra::Auth::header("X-Hook-Key", KEY).expect("must succeed");
    assert_eq!(
        hydra::verify(&auth, &HeaderMap::new(), &bytes).expect_err("must be refused"),
        HookError::MissingHeader {
            name: "x-hook-key".into()
        }
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-hook-key",
        "hk_live_9f2c1f".parse().expect("must succeed"),
    );
    let e = hydra::verify(&auth, &headers, &bytes).expect_err("must be refused");
    assert!(!e.to_string().contains("hk_live"), "{e}");
}

#[test]
fn bodies_not_of_hydra_shape_are_typed_errors() {
    let e = hydra::parse(br#"{"request":{}}"#).expect_err("must be refused");
    assert_eq!(
        e.to_string(),
        "malformed request body at the document root: missing field `session`"
    );
    let e = hydra::parse(br#"{"session":{},"request":{"grant_types":"client_credentials"}}"#)
        .expect_err("must be refused");
    assert!(
        matches!(&e, HookError::Malformed { at: Location::Pointer(p), .. } if p == "/request/grant_types"),
        "{e}"
    );
    let e = hydra::parse(b"").expect_err("must be refused");
    assert_eq!(e.status(), 400);
}
