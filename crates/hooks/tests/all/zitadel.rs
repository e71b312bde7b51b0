//! ZITADEL Actions v2 (`preaccesstoken`, `preuserinfo`).

use claimscript::{ErrorKind, FailurePolicy, TokenKind};
use claimscript_hooks::keys::NoKeys;
use claimscript_hooks::zitadel::{self, Function};
use claimscript_hooks::{Auth, DropReason, Effect, HookError, Location, TokenTarget, Verifier};
use http::HeaderMap;
use serde_json::json;

use crate::{DENY, at, body, failed, fixture, run};

const KEY: &str = "sk_3bq9Yq4rU8cZ1wT7";
const T: i64 = 1_743_004_400;

fn verifier() -> Verifier {
    Verifier::new(Auth::Zitadel(
        zitadel::Auth::new(KEY).expect("must succeed"),
    ))
}

fn signed(body: &[u8], t: i64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "ZITADEL-Signature",
        zitadel::sign(KEY, t, body).parse().expect("must succeed"),
    );
    headers
}

#[tokio::test]
async fn preaccesstoken_sample_is_verified_mapped_and_appended() {
    let bytes = fixture("zitadel-preaccesstoken.json");
    verifier()
        .verify(&signed(&bytes, T), &bytes, at(T + 5), &NoKeys)
        .expect("must succeed");
    let request = zitadel::parse(&bytes).expect("must succeed");
    assert_eq!(request.kind, Function::PreAccessToken);
    let input = request.to_run_input();
    assert_eq!(input.kind, TokenKind::AccessToken);
    assert_eq!(input.token["accountId"], "312909075212468632");
    let context = serde_json::Value::Object(input.context().cloned().expect("must succeed"));
    assert_eq!(
        context["user"],
        json!({
            "id": "312909075212468632",
            "username": "user@example.com",
            "primaryEmail": "user@example.com",
            "name": "Example displayname",
            "profile": {"givenName": "Example firstname", "familyName": "Example lastname", "locale": "en"},
            "roles": [{"id": "admin", "name": "admin", "description": "", "scopes": []}],
            "customData": {"key": "value"},
            "isSuspended": false
        })
    );
    assert_eq!(
        context["organization"],
        json!({"id": "312909075211944344", "name": "ZITADEL", "customData": {"primaryDomain": "example.com"}})
    );
    assert_eq!(context["hook"]["provider"], "zitadel");
    assert_eq!(
        context["hook"]["payload"]["function"],
        "function/preaccesstoken"
    );

    let outcome = run(
        r#"const getCustomJwtClaims = async ({ context }) => ({
             roles: context.user.roles.map((r) => r.name),
             org: context.organization.customData.primaryDomain,
             'urn:zitadel:iam:org:id': 'forged',
           });"#,
        &input,
    )
    .await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(response.status, 200);
    assert_eq!(
        body(&response),
        r#"{"append_claims":[{"key":"roles","value":["admin"]},{"key":"org","value":"example.com"}]}"#
    );
    assert_eq!(response.effect, Effect::Claims);
    assert_eq!(response.dropped.len(), 1);
    assert_eq!(response.dropped[0].name, "urn:zitadel:iam:org:id");
    assert_eq!(response.dropped[0].reason, DropReason::Protected);
}

#[tokio::test]
async fn preuserinfo_never_overwrites_existing_userinfo_claims() {
    let bytes = fixture("zitadel-preuserinfo.json");
    let request = zitadel::parse(&bytes).expect("must succeed");
    assert_eq!(request.kind, Function::PreUserinfo);
    // A Logto script has access-token claims only: they go to userinfo.
    let outcome = run(
        "const getCustomJwtClaims = async () => ({ email: 'other@example.com', locale: 'de', tenant: 't_42' });",
        &request.to_run_input(),
    )
    .await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(
        body(&response),
        r#"{"append_claims":[{"key":"tenant","value":"t_42"}]}"#
    );
    let reasons: Vec<_> = response
        .dropped
        .iter()
        .map(|d| (d.name.as_str(), d.reason, d.token))
        .collect();
    assert_eq!(
        reasons,
        [
            ("email", DropReason::AlreadyPresent, TokenTarget::Id),
            ("locale", DropReason::AlreadyPresent, TokenTarget::Id)
        ]
    );

    // An Auth0 script's ID-token claims go to userinfo; its access-token
    // claims cannot be placed by this function and are reported.
    let outcome = run(
        r#"exports.onExecutePostLogin = async (event, api) => {
             api.idToken.setCustomClaim('nickname', event.user.nickname);
             api.accessToken.setCustomClaim('api_tier', 'gold');
           };"#,
        &request.to_run_input(),
    )
    .await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(
        body(&response),
        r#"{"append_claims":[{"key":"nickname","value":"user@example.com"}]}"#
    );
    assert_eq!(response.dropped[0].name, "api_tier");
    assert_eq!(response.dropped[0].reason, DropReason::TokenNotIssued);
}

#[tokio::test]
async fn denial_forwards_403_with_the_message() {
    let bytes = fixture("zitadel-preaccesstoken.json");
    let request = zitadel::parse(&bytes).expect("must succeed");
    let outcome = run(DENY, &request.to_run_input()).await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(response.status, 200);
    assert_eq!(
        body(&response),
        r#"{"forwardedStatusCode":403,"forwardedErrorMessage":"Staging access is only allowed to team members."}"#
    );
}

#[test]
fn failure_policy_in_zitadel_terms() {
    let request = zitadel::parse(&fixture("zitadel-preaccesstoken.json")).expect("must succeed");
    let open = request.respond(
        &failed(ErrorKind::Script),
        FailurePolicy::IssueWithoutClaims,
    );
    assert_eq!((open.status.as_u16(), body(&open)), (200, "{}"));
    assert_eq!(open.effect, Effect::FailedOpen);
    let closed = request.respond(&failed(ErrorKind::Script), FailurePolicy::Block);
    assert_eq!(
        body(&closed),
        r#"{"forwardedStatusCode":400,"forwardedErrorMessage":"custom claims script failed (script)"}"#
    );
    let closed = request.respond(&failed(ErrorKind::FuelExhausted), FailurePolicy::Block);
    assert_eq!(
        body(&closed),
        r#"{"forwardedStatusCode":500,"forwardedErrorMessage":"custom claims script failed (fuel_exhausted)"}"#
    );
}

#[test]
fn signature_failures_are_typed() {
    let bytes = fixture("zitadel-preaccesstoken.json");
    let v = verifier();
    let stale = v
        .verify(&signed(&bytes, T), &bytes, at(T + 301), &NoKeys)
        .expect_err("must be refused");
    assert_eq!(
        stale,
        HookError::StaleTimestamp {
            age_secs: 301,
            tolerance_secs: 300
        }
    );
    let future = v
        .verify(&signed(&bytes, T), &bytes, at(T - 301), &NoKeys)
        .expect_err("must be refused");
    assert_eq!(
        future,
        HookError::FutureTimestamp {
            ahead_secs: 301,
            tolerance_secs: 300
        }
    );
    assert_eq!(future.status(), 401);

    // One byte of the body changed after signing.
    let mut tampered = bytes.clone();
    let pos = tampered
        .iter()
        .position(|b| *b == b'1')
        .expect("must succeed");
    tampered[pos] = b'2';
    let e = v
        .verify(&signed(&bytes, T), &tampered, at(T), &NoKeys)
        .expect_err("must be refused");
    assert_eq!(e.kind(), "unauthenticated");

    // The timestamp is signed: changing it breaks the signature.
    let header = zitadel::sign(KEY, T, &bytes).replace(&T.to_string(), &(T + 1).to_string());
    let mut headers = HeaderMap::new();
    headers.insert("zitadel-signature", header.parse().expect("must succeed"));
    assert_eq!(
        v.verify(&headers, &bytes, at(T), &NoKeys)
            .expect_err("must be refused")
            .kind(),
        "unauthenticated"
    );

    assert_eq!(
        v.verify(&HeaderMap::new(), &bytes, at(T), &NoKeys)
            .expect_err("must be refused"),
        HookError::MissingHeader {
            name: "zitadel-signature".into()
        }
    );
    for bad in ["v1=abc", "t=abc,v1=00", "t=1", "nonsense"] {
        let mut headers = HeaderMap::new();
        headers.insert("zitadel-signature", bad.parse().expect("must succeed"));
        let e = v
            .verify(&headers, &bytes, at(T), &NoKeys)
            .expect_err("must be refused");
        assert_eq!(e.kind(), "bad_header", "{bad}: {e}");
    }
    assert!(zitadel::Auth::new("").is_err());
}

#[test]
fn bodies_not_of_zitadel_shape_are_typed_errors() {
    let e =
        zitadel::parse(b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln").expect_err("must be refused");
    assert_eq!(e.kind(), "unsupported");
    assert!(e.to_string().contains("payload type"), "{e}");

    let e =
        zitadel::parse(br#"{"function":"function/presamlresponse"}"#).expect_err("must be refused");
    assert_eq!(e.kind(), "unsupported");

    let e = zitadel::parse(br#"{"function":"function/preaccesstoken","user":"me"}"#)
        .expect_err("must be refused");
    assert!(
        matches!(&e, HookError::Malformed { at: Location::Pointer(p), .. } if p == "/user"),
        "{e}"
    );
    assert_eq!(e.status(), 422);

    let e =
        zitadel::parse(br#"{"function":"function/preaccesstoken","user_grants":[{"roles":[1]}]}"#)
            .expect_err("must be refused");
    assert!(
        matches!(&e, HookError::Malformed { at: Location::Pointer(p), .. } if p == "/user_grants/0/roles/0"),
        "{e}"
    );

    let e = zitadel::parse(br#"{"user":{}}"#).expect_err("must be refused");
    assert_eq!(
        e.to_string(),
        "malformed request body at the document root: missing field `function`"
    );
}
