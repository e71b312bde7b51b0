//! Okta's token inline hook.

use claimscript::{ErrorKind, FailurePolicy, Outcome, TokenKind};
use claimscript_hooks::keys::{BearerConfig, NoKeys, unverified_kid};
use claimscript_hooks::{
    Auth, DropReason, Effect, HookError, Location, Protocol, Request, TokenTarget, Verifier, okta,
    parse,
};
use http::HeaderMap;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::{DENY, at, body, failed, fixture, run};

const SECRET: &str = "Basic dXNlcjpjb3JyZWN0IGhvcnNl";

fn verifier() -> Verifier {
    Verifier::new(Auth::Okta(
        okta::Auth::header("Authorization", SECRET).expect("must succeed"),
    ))
}

fn signed(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", value.parse().expect("must succeed"));
    headers.insert(
        "content-type",
        "application/json".parse().expect("must succeed"),
    );
    headers
}

fn sample() -> okta::Request {
    okta::parse(&fixture("okta-token-transform.json")).expect("the sample parses")
}

#[tokio::test]
async fn sample_is_authenticated_mapped_and_answered_with_an_access_patch() {
    let body_bytes = fixture("okta-token-transform.json");
    verifier()
        .verify(&signed(SECRET), &body_bytes, at(1_547_594_447), &NoKeys)
        .expect("Okta's header authenticates");
    let Request::Okta(request) = parse(Protocol::Okta, &body_bytes).expect("must succeed") else {
        panic!("not an Okta request")
    };
    let input = request.to_run_input();
    assert_eq!(input.kind, TokenKind::AccessToken);
    assert_eq!(
        Value::Object(input.token.clone()),
        json!({
            "jti": "AT.W-rrB-z-kkZQmHW0e6VS3Or...QfEN_YvoWJa46A7HAA",
            "aud": "api://default",
            "scope": "openid profile email",
            "clientId": "customClientIdNative",
            "accountId": "00uq8tMo3zV0OfJON0g3",
            "sid": "102Qoe7t5PcRnSxr8j3I8I6pA",
            "kind": "AccessToken"
        })
    );
    let context = Value::Object(input.context().cloned().expect("must succeed"));
    assert_eq!(
        context["user"],
        json!({
            "id": "00uq8tMo3zV0OfJON0g3",
            "username": "administrator1@clouditude.net",
            "primaryEmail": "administrator1@clouditude.net",
            "name": "Add-Min O'Cloudy Tud",
            "profile": {"givenName": "Add-Min", "familyName": "O'Cloudy Tud", "locale": "en", "zoneinfo": "America/Los_Angeles"},
            "roles": [],
            "customData": {"login": "administrator1@clouditude.net", "firstName": "Add-Min", "lastName": "O'Cloudy Tud", "locale": "en", "timeZone": "America/Los_Angeles"}
        })
    );
    assert_eq!(
        context["application"],
        json!({"id": "customClientIdNative", "name": "Native client", "type": "PUBLIC"})
    );
    assert_eq!(context["request"]["ip"], "127.0.0.1");
    assert_eq!(context["hook"]["provider"], "okta");
    assert_eq!(
        context["hook"]["payload"]["eventId"],
        "3OWo4oo-QQ-rBWfRyTmQYw"
    );

    let outcome = run(
        r#"const getCustomJwtClaims = async ({ token, context }) => ({
             'https://acme.test/tenant~id': context.hook.payload.data.context.policy.id,
             groups: ['admins'],
             firstName: 'Add-Min',
             sub: 'forged',
           });"#,
        &input,
    )
    .await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(response.status, 200);
    assert_eq!(response.content_type, Some("application/json"));
    assert_eq!(
        body(&response),
        r#"{"commands":[{"type":"com.okta.access.patch","value":[{"op":"add","path":"/claims/https:~1~1acme.test~1tenant~0id","value":"00pq8lGaLlI8APuqY0g3"}]}]}"#
    );
    // `groups` is reserved by Okta in access tokens; `firstName` already
    // holds that value (no command); `sub` never reached us (the engine
    // drops it).
    assert_eq!(response.dropped.len(), 1, "{:?}", response.dropped);
    assert_eq!(response.dropped[0].name, "groups");
    assert_eq!(response.dropped[0].reason, DropReason::Protected);
    assert_eq!(response.dropped[0].token, TokenTarget::Access);
    assert_eq!(response.effect, Effect::Claims);
}

#[tokio::test]
async fn auth0_script_patches_both_tokens_identity_first() {
    let request = sample();
    let outcome = run(
        r#"exports.onExecutePostLogin = async (event, api) => {
             api.idToken.setCustomClaim('extPatientId', '1234');
             api.idToken.setCustomClaim('sid', 'nope');
             api.accessToken.setCustomClaim('external_guid', event.user.user_id);
           };"#,
        &request.to_run_input(),
    )
    .await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(response.status, 200);
    assert_eq!(
        body(&response),
        concat!(
            r#"{"commands":[{"type":"com.okta.identity.patch","value":[{"op":"add","path":"/claims/extPatientId","value":"1234"}]},"#,
            r#"{"type":"com.okta.access.patch","value":[{"op":"add","path":"/claims/external_guid","value":"00uq8tMo3zV0OfJON0g3"}]}]}"#
        )
    );
    // `sid` is dropped by the engine already (a protected claim), so it
    // never reaches the Okta list.
    assert!(response.dropped.is_empty(), "{:?}", response.dropped);
}

#[tokio::test]
async fn client_credentials_has_no_user_and_no_identity_patch() {
    let request = okta::parse(&fixture("okta-client-credentials.json")).expect("must succeed");
    let input = request.to_run_input();
    assert_eq!(input.kind, TokenKind::ClientCredentials);
    assert_eq!(input.token["clientId"], "0oaM2mServiceClient");
    assert_eq!(input.token["scope"], "reports:read");
    assert_eq!(input.token["gty"], "client_credentials");
    assert!(!input.token.contains_key("accountId"));
    let context = input.context().expect("must succeed");
    assert!(!context.contains_key("user"));
    assert_eq!(context["application"]["name"], "Reporting service");

    let outcome = run(
        r#"exports.onExecuteCredentialsExchange = async (event, api) => {
             api.accessToken.setCustomClaim('aud', 'x');
             api.accessToken.setCustomClaim('tier', event.client.name);
           };"#,
        &input,
    )
    .await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(
        body(&response),
        r#"{"commands":[{"type":"com.okta.access.patch","value":[{"op":"add","path":"/claims/tier","value":"Reporting service"}]}]}"#
    );

    // ID-token claims for a request without an ID token are reported, not sent.
    let outcome = Outcome::Claims {
        claims: serde_json::Map::new(),
        id_token_claims: Some(
            json!({"nickname": "svc"})
                .as_object()
                .cloned()
                .expect("must succeed"),
        ),
        dropped: vec![],
        id_token_dropped: vec![],
        scopes: Default::default(),
    };
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(response.status, 204);
    assert!(response.body.is_empty());
    assert_eq!(response.content_type, None);
    assert_eq!(response.effect, Effect::Unchanged);
    assert_eq!(response.dropped[0].reason, DropReason::TokenNotIssued);
    assert_eq!(response.dropped[0].token, TokenTarget::Id);
}

#[tokio::test]
async fn nothing_to_change_is_204() {
    let request = sample();
    let outcome = run(
        "const getCustomJwtClaims = async () => ({ firstName: 'Add-Min' });",
        &request.to_run_input(),
    )
    .await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(response.status, 204);
    assert!(response.body.is_empty());
    assert_eq!(response.effect, Effect::Unchanged);
}

#[tokio::test]
async fn denial_is_a_200_with_error_summary() {
    let request = sample();
    let outcome = run(DENY, &request.to_run_input()).await;
    let response = request.respond(&outcome, FailurePolicy::IssueWithoutClaims);
    assert_eq!(response.status, 200);
    assert_eq!(
        body(&response),
        r#"{"error":{"errorSummary":"Staging access is only allowed to team members."}}"#
    );
    assert_eq!(response.effect, Effect::Denied);
}

#[test]
fn failure_policy_in_okta_terms() {
    let request = sample();
    let open = request.respond(
        &failed(ErrorKind::Timeout),
        FailurePolicy::IssueWithoutClaims,
    );
    assert_eq!((open.status.as_u16(), open.body.len()), (204, 0));
    assert_eq!(open.effect, Effect::FailedOpen);
    let closed = request.respond(&failed(ErrorKind::Timeout), FailurePolicy::Block);
    assert_eq!(closed.status, 200);
    assert_eq!(
        body(&closed),
        r#"{"error":{"errorSummary":"custom claims script failed (timeout)"}}"#
    );
    assert_eq!(closed.effect, Effect::FailedClosed);
    assert!(!body(&closed).contains("secret-looking"));
}

#[test]
fn a_response_over_okta_limit_follows_the_failure_policy() {
    let request = sample();
    let big = "x".repeat(300 * 1000);
    let outcome = Outcome::Claims {
        claims: json!({ "blob": big })
            .as_object()
            .cloned()
            .expect("must succeed"),
        id_token_claims: None,
        dropped: vec![],
        id_token_dropped: vec![],
        scopes: Default::default(),
    };
    let closed = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(
        body(&closed),
        r#"{"error":{"errorSummary":"custom claims script failed (output_too_large)"}}"#
    );
    let open = request.respond(&outcome, FailurePolicy::IssueWithoutClaims);
    assert_eq!(open.status, 204);
}

#[test]
fn header_authentication_failures_are_typed_and_never_echo_the_secret() {
    let v = verifier();
    let body_bytes = fixture("okta-token-transform.json");
    let missing = v
        .verify(&HeaderMap::new(), &body_bytes, at(0), &NoKeys)
        .expect_err("must be refused");
    assert_eq!(
        missing,
        HookError::MissingHeader {
            name: "authorization".into()
        }
    );
    assert_eq!(missing.status(), 401);

    let wrong = v
        .verify(
            &signed("Basic dXNlcjp3cm9uZw=="),
            &body_bytes,
            at(0),
            &NoKeys,
        )
        .expect_err("must be refused");
    assert_eq!(wrong.kind(), "unauthenticated");
    assert_eq!(wrong.status(), 401);
    let text = wrong.to_string();
    assert!(text.contains("authorization"), "{text}");
    assert!(!text.contains("dXNlcj"), "{text}");

    // A prefix of the secret is not the secret.
    assert!(
        v.verify(
            &signed(&SECRET[..SECRET.len() - 1]),
            &body_bytes,
            at(0),
            &NoKeys
        )
        .is_err()
    );

    let mut twice = signed(SECRET);
    twice.append("authorization", SECRET.parse().expect("must succeed"));
    assert_eq!(
        v.verify(&twice, &body_bytes, at(0), &NoKeys)
            .expect_err("must be refused")
            .kind(),
        "bad_header"
    );

    // A custom header name, as Okta's authScheme.key allows.
    let custom = Verifier::new(Auth::Okta(
        okta::Auth::header("X-Hook-Secret", "s3cr3t").expect("must succeed"),
    ));
    let mut headers = HeaderMap::new();
    headers.insert("x-hook-secret", "s3cr3t".parse().expect("must succeed"));
    custom
        .verify(&headers, &body_bytes, at(0), &NoKeys)
        .expect("must succeed");
    assert!(okta::Auth::header("bad header", "x").is_err());
    assert!(okta::Auth::header("x-a", "").is_err());
}

#[test]
fn bodies_not_of_okta_shape_are_typed_errors() {
    let e = okta::parse(b"{\"eventType\": ").expect_err("must be refused");
    assert!(
        matches!(
            e,
            HookError::Malformed {
                at: Location::LineColumn { line: 1, .. },
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.status(), 400);

    let e = okta::parse(br#"{"eventType":"com.okta.oauth2.tokens.transform"}"#)
        .expect_err("must be refused");
    assert_eq!(e.status(), 422);
    assert_eq!(
        e.to_string(),
        "malformed request body at the document root: missing field `data`"
    );

    let e = okta::parse(
        br#"{"eventType":"com.okta.oauth2.tokens.transform","data":{"access":{"claims":"nope"}}}"#,
    )
    .expect_err("must be refused");
    assert!(
        matches!(&e, HookError::Malformed { at: Location::Pointer(p), .. } if p == "/data/access/claims"),
        "{e}"
    );

    let e = okta::parse(br#"{"eventType":"com.okta.import.transform","data":{}}"#)
        .expect_err("must be refused");
    assert_eq!(e.kind(), "unsupported");
    assert!(e.to_string().contains("com.okta.import.transform"), "{e}");

    let e = okta::parse(b"[1,2]").expect_err("must be refused");
    assert_eq!(e.status(), 422);
}

fn hs_keys() -> JwkSet {
    serde_json::from_value(json!({"keys": [{
        "kty": "oct", "kid": "hook-1", "alg": "HS256",
        // base64url("a 32-byte hook secret for tests!")
        "k": "YSAzMi1ieXRlIGhvb2sgc2VjcmV0IGZvciB0ZXN0cyE"
    }]}))
    .expect("must succeed")
}

fn bearer(claims: Value, kid: Option<&str>) -> HeaderMap {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_string);
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(b"a 32-byte hook secret for tests!"),
    )
    .expect("must succeed");
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        format!("Bearer {token}").parse().expect("must succeed"),
    );
    headers
}

#[test]
fn bearer_jwt_is_verified_against_the_keys_and_now() {
    let config = BearerConfig::new(
        "https://example.okta.com/oauth2/hooks",
        "api://hooks",
        "https://example.okta.com/oauth2/hooks/v1/keys",
    )
    .with_algorithms(vec![Algorithm::HS256]);
    let v = Verifier::new(Auth::Okta(okta::Auth::bearer(config.clone())));
    assert_eq!(v.bearer_config(), Some(&config));
    assert_eq!(verifier().bearer_config(), None);
    let good = json!({"iss": "https://example.okta.com/oauth2/hooks", "aud": "api://hooks", "exp": 1_000_600, "iat": 1_000_000});
    let body_bytes = fixture("okta-token-transform.json");
    let keys = hs_keys();
    v.verify(
        &bearer(good.clone(), Some("hook-1")),
        &body_bytes,
        at(1_000_100),
        &keys,
    )
    .expect("must succeed");
    assert_eq!(
        unverified_kid(&bearer(good.clone(), Some("hook-1")))
            .expect("must succeed")
            .as_deref(),
        Some("hook-1")
    );

    // Expired relative to the `now` passed in (beyond the leeway).
    let e = v
        .verify(
            &bearer(good.clone(), Some("hook-1")),
            &body_bytes,
            at(1_000_661),
            &keys,
        )
        .expect_err("must be refused");
    assert_eq!(e.to_string(), "unauthenticated: bearer token: expired");
    // Within the leeway.
    v.verify(
        &bearer(good.clone(), Some("hook-1")),
        &body_bytes,
        at(1_000_659),
        &keys,
    )
    .expect("must succeed");

    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("api://other");
    let e = v
        .verify(
            &bearer(wrong_aud, Some("hook-1")),
            &body_bytes,
            at(1_000_100),
            &keys,
        )
        .expect_err("must be refused");
    assert_eq!(
        e.to_string(),
        "unauthenticated: bearer token: wrong audience"
    );

    let e = v
        .verify(
            &bearer(good.clone(), Some("rotated")),
            &body_bytes,
            at(1_000_100),
            &keys,
        )
        .expect_err("must be refused");
    assert_eq!(
        e,
        HookError::UnknownKey {
            kid: Some("rotated".into())
        }
    );
    // No kid: the only key is used.
    v.verify(
        &bearer(good.clone(), None),
        &body_bytes,
        at(1_000_100),
        &keys,
    )
    .expect("must succeed");
    // No keys at all.
    assert_eq!(
        v.verify(
            &bearer(good.clone(), None),
            &body_bytes,
            at(1_000_100),
            &NoKeys
        )
        .expect_err("must be refused")
        .kind(),
        "unknown_key"
    );

    // The default configuration accepts RS256 only: an HMAC token is refused
    // before any key is looked up.
    let rs_only = Verifier::new(Auth::Okta(okta::Auth::bearer(BearerConfig::new(
        "https://example.okta.com/oauth2/hooks",
        "api://hooks",
        "https://example.okta.com/oauth2/hooks/v1/keys",
    ))));
    let e = rs_only
        .verify(
            &bearer(good.clone(), Some("hook-1")),
            &body_bytes,
            at(1_000_100),
            &keys,
        )
        .expect_err("must be refused");
    assert!(
        e.to_string().contains("algorithm HS256 is not accepted"),
        "{e}"
    );

    let mut not_bearer = HeaderMap::new();
    not_bearer.insert("authorization", "Basic abc".parse().expect("must succeed"));
    assert_eq!(
        v.verify(&not_bearer, &body_bytes, at(0), &keys)
            .expect_err("must be refused")
            .kind(),
        "bad_header"
    );

    // Header and bearer together: both must pass, and cannot share a header.
    let both = okta::Auth::header("X-Hook-Secret", "s3cr3t")
        .expect("must succeed")
        .with_bearer(config.clone())
        .expect("must succeed");
    let mut headers = bearer(good.clone(), Some("hook-1"));
    assert!(okta::verify(&both, &headers, &body_bytes, at(1_000_100), &keys).is_err());
    headers.insert("x-hook-secret", "s3cr3t".parse().expect("must succeed"));
    okta::verify(&both, &headers, &body_bytes, at(1_000_100), &keys).expect("must succeed");
    assert!(
        okta::Auth::header("Authorization", "x")
            .expect("must succeed")
            .with_bearer(config)
            .is_err()
    );
}

#[test]
fn bearer_jwt_signed_with_a_public_key_from_a_jwks_document() {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let pem = secret.to_pkcs8_pem(LineEnding::LF).expect("PEM");
    let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).expect("an ES256 key");
    let mut jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::ES256).expect("public JWK");
    jwk.common.key_id = Some("okta-hook-es".into());
    // The JWKS as the authorization server publishes it, parsed from JSON.
    let document = serde_json::to_string(&json!({ "keys": [jwk] })).expect("JSON");
    let keys: JwkSet = serde_json::from_str(&document).expect("a JWKS");
    assert!(!document.contains("\"d\""), "no private part in the JWKS");

    let config = BearerConfig::new(
        "https://example.okta.com/oauth2/hooks",
        "api://hooks",
        "https://example.okta.com/oauth2/hooks/v1/keys",
    )
    .with_algorithms(vec![Algorithm::ES256]);
    let auth = okta::Auth::bearer(config);
    let claims = json!({"iss": "https://example.okta.com/oauth2/hooks", "aud": "api://hooks", "exp": 2_000_600, "scp": ["okta.inlinehooks"]});
    let sign = |key: &EncodingKey| {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("okta-hook-es".into());
        let token = jsonwebtoken::encode(&header, &claims, key).expect("signs");
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        headers
    };
    let body_bytes = fixture("okta-token-transform.json");
    okta::verify(&auth, &sign(&encoding), &body_bytes, at(2_000_000), &keys).expect("verifies");

    // The same kid, another key: the signature does not verify.
    let other = p256::SecretKey::random(&mut rand_core::OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .expect("PEM");
    let impostor = EncodingKey::from_ec_pem(other.as_bytes()).expect("key");
    let e = okta::verify(&auth, &sign(&impostor), &body_bytes, at(2_000_000), &keys)
        .expect_err("must be refused");
    assert_eq!(
        e.to_string(),
        "unauthenticated: bearer token: signature does not verify"
    );
    assert_eq!(e.status(), 401);
}
