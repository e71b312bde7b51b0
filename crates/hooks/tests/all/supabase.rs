//! Supabase's Custom Access Token hook (Standard Webhooks).

use claimscript::{ErrorKind, FailurePolicy, TokenKind};
use claimscript_hooks::keys::NoKeys;
use claimscript_hooks::{
    Auth, DropReason, Effect, HookError, Location, ReplayCache, StandardWebhooks, Verifier,
    supabase,
};
use http::HeaderMap;
use serde_json::json;

use crate::{DENY, at, body, failed, fixture, run};

const SECRET: &str = "v1,whsec_c3VwYWJhc2UgaG9vayBzZWNyZXQsIDMyIGJ5dGVzISE=";
const ROTATED: &str = "v1,whsec_cm90YXRlZCBzdXBhYmFzZSBzZWNyZXQgMzIgYnl0ZSE=";
const TS: i64 = 1_715_686_621;

fn auth() -> supabase::Auth {
    supabase::Auth::from_config(SECRET).expect("must succeed")
}

fn headers(id: &str, ts: i64, signature: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("webhook-id", id.parse().expect("must succeed"));
    h.insert(
        "webhook-timestamp",
        ts.to_string().parse().expect("must succeed"),
    );
    h.insert(
        "webhook-signature",
        signature.parse().expect("must succeed"),
    );
    h.insert(
        "content-type",
        "application/json".parse().expect("must succeed"),
    );
    h
}

fn signed(id: &str, ts: i64, body: &[u8]) -> HeaderMap {
    headers(id, ts, &auth().sign(id, ts, body))
}

#[tokio::test]
async fn sample_is_verified_mapped_and_merged_into_the_claims() {
    let bytes = fixture("supabase-custom-access-token.json");
    let v = Verifier::new(Auth::Supabase(auth()));
    v.verify(
        &signed("b1b0e9a4-6a4f-4b8e-9a57-1f0f1b7f3c11", TS, &bytes),
        &bytes,
        at(TS + 1),
        &NoKeys,
    )
    .expect("must succeed");
    let request = supabase::parse(&bytes).expect("must succeed");
    let input = request.to_run_input();
    assert_eq!(input.kind, TokenKind::AccessToken);
    assert_eq!(
        serde_json::Value::Object(input.token.clone()),
        json!({"accountId": "8ccaa7af-909f-44e7-84cb-67cdccb56be6", "aud": "authenticated",
               "sid": "4b938a09-5372-4177-a314-cfa292099ea2", "kind": "AccessToken"})
    );
    let context = input.context().expect("must succeed");
    assert_eq!(
        context["user"],
        json!({"id": "8ccaa7af-909f-44e7-84cb-67cdccb56be6",
               "roles": [{"id": "authenticated", "name": "authenticated", "description": "", "scopes": []}],
               "customData": {}})
    );
    assert_eq!(context["request"], json!({"ip": "203.0.113.7"}));
    assert_eq!(
        context["hook"]["payload"]["authentication_method"],
        "anonymous"
    );

    let outcome = run(
        r#"const getCustomJwtClaims = async ({ context }) => ({
             tenant_id: 't_42',
             app_metadata: { role: 'admin' },
             role: 'admin',
             is_anonymous: false,
             user_metadata: 'not an object',
             anonymous: context.hook.payload.claims.is_anonymous,
           });"#,
        &input,
    )
    .await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(response.status, 200);
    assert_eq!(response.content_type, Some("application/json"));
    assert_eq!(
        body(&response),
        concat!(
            r#"{"claims":{"aud":"authenticated","exp":1715690221,"iat":1715686621,"iss":"https://<ref>.supabase.co/auth/v1","#,
            r#""sub":"8ccaa7af-909f-44e7-84cb-67cdccb56be6","email":"","phone":"","app_metadata":{"role":"admin"},"user_metadata":{},"#,
            r#""role":"authenticated","aal":"aal1","amr":[{"method":"anonymous","timestamp":1715686621}],"#,
            r#""session_id":"4b938a09-5372-4177-a314-cfa292099ea2","is_anonymous":true,"tenant_id":"t_42","anonymous":true}}"#
        )
    );
    let dropped: Vec<_> = response
        .dropped
        .iter()
        .map(|d| (d.name.as_str(), d.reason))
        .collect();
    assert_eq!(
        dropped,
        [
            ("role", DropReason::Protected),
            ("is_anonymous", DropReason::Protected),
            ("user_metadata", DropReason::InvalidType)
        ]
    );
    assert_eq!(response.effect, Effect::Claims);
}

#[tokio::test]
async fn denial_is_the_documented_error_object() {
    let request =
        supabase::parse(&fixture("supabase-custom-access-token.json")).expect("must succeed");
    let outcome = run(DENY, &request.to_run_input()).await;
    let response = request.respond(&outcome, FailurePolicy::Block);
    assert_eq!(response.status, 200);
    assert_eq!(
        body(&response),
        r#"{"error":{"http_code":403,"message":"Staging access is only allowed to team members."}}"#
    );
    assert_eq!(response.effect, Effect::Denied);
}

#[test]
fn failure_policy_in_supabase_terms() {
    let bytes = fixture("supabase-custom-access-token.json");
    let request = supabase::parse(&bytes).expect("must succeed");
    let open = request.respond(
        &failed(ErrorKind::Timeout),
        FailurePolicy::IssueWithoutClaims,
    );
    assert_eq!(open.status, 200);
    let raw: serde_json::Value = serde_json::from_slice(&bytes).expect("must succeed");
    assert_eq!(open.json_body(), json!({ "claims": raw["claims"] }));
    assert_eq!(open.effect, Effect::FailedOpen);
    let closed = request.respond(&failed(ErrorKind::Timeout), FailurePolicy::Block);
    assert_eq!(
        body(&closed),
        r#"{"error":{"http_code":500,"message":"custom claims script failed (timeout)"}}"#
    );
    let closed = request.respond(&failed(ErrorKind::InvalidOutput), FailurePolicy::Block);
    assert_eq!(
        body(&closed),
        r#"{"error":{"http_code":400,"message":"custom claims script failed (invalid_output)"}}"#
    );
}

#[test]
fn several_secrets_and_supabase_comma_joined_signatures() {
    let bytes = fixture("supabase-custom-access-token.json");
    let both = StandardWebhooks::from_config(&format!("{SECRET}|{ROTATED}")).expect("must succeed");
    let sig = both.sign("m1", TS, &bytes);
    let parts: Vec<&str> = sig.split(' ').collect();
    assert_eq!(parts.len(), 2);
    // Supabase joins several signatures with ", "; the spec with " ".
    let comma_joined = parts.join(", ");
    let rotated_only = StandardWebhooks::from_config(ROTATED).expect("must succeed");
    rotated_only
        .verify(
            &headers("m1", TS, &comma_joined),
            &bytes,
            at(TS),
            &mut ReplayCache::new(4),
        )
        .expect("must succeed");
    // A verifier holding both secrets accepts a signature by either.
    both.verify(
        &headers("m2", TS, &auth().sign("m2", TS, &bytes)),
        &bytes,
        at(TS),
        &mut ReplayCache::new(4),
    )
    .expect("must succeed");
    // Unknown versions are skipped; a v1 signature among them still counts.
    let mixed = format!("v1a,AAAA {}", auth().sign("m3", TS, &bytes));
    auth()
        .verify(
            &headers("m3", TS, &mixed),
            &bytes,
            at(TS),
            &mut ReplayCache::new(4),
        )
        .expect("must succeed");
}

#[test]
fn replayed_webhook_id_is_refused() {
    let bytes = fixture("supabase-custom-access-token.json");
    let v = Verifier::with_replay_capacity(Auth::Supabase(auth()), 16);
    let first = signed("msg_once", TS, &bytes);
    v.verify(&first, &bytes, at(TS), &NoKeys)
        .expect("must succeed");
    let again = v
        .verify(&first, &bytes, at(TS + 60), &NoKeys)
        .expect_err("must be refused");
    assert_eq!(
        again,
        HookError::Replayed {
            id: "msg_once".into()
        }
    );
    assert_eq!(again.status(), 401);
    // Another id is fine.
    v.verify(&signed("msg_twice", TS, &bytes), &bytes, at(TS), &NoKeys)
        .expect("must succeed");
    // A forged request with a fresh id does not poison the cache: the
    // signature is checked first, so the real message still goes through.
    let forged = headers(
        "msg_later",
        TS,
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    );
    assert_eq!(
        v.verify(&forged, &bytes, at(TS), &NoKeys)
            .expect_err("must be refused")
            .kind(),
        "unauthenticated"
    );
    v.verify(&signed("msg_later", TS, &bytes), &bytes, at(TS), &NoKeys)
        .expect("must succeed");
}

#[test]
fn timestamps_outside_five_minutes_are_refused() {
    let bytes = fixture("supabase-custom-access-token.json");
    let v = Verifier::new(Auth::Supabase(auth()));
    let e = v
        .verify(&signed("old", TS, &bytes), &bytes, at(TS + 301), &NoKeys)
        .expect_err("must be refused");
    assert_eq!(
        e,
        HookError::StaleTimestamp {
            age_secs: 301,
            tolerance_secs: 300
        }
    );
    let e = v
        .verify(&signed("new", TS, &bytes), &bytes, at(TS - 301), &NoKeys)
        .expect_err("must be refused");
    assert_eq!(
        e,
        HookError::FutureTimestamp {
            ahead_secs: 301,
            tolerance_secs: 300
        }
    );
    v.verify(&signed("edge", TS, &bytes), &bytes, at(TS + 300), &NoKeys)
        .expect("must succeed");
}

#[test]
fn missing_and_malformed_headers_name_the_header() {
    let bytes = fixture("supabase-custom-access-token.json");
    let v = Verifier::new(Auth::Supabase(auth()));
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let mut h = signed("m", TS, &bytes);
        h.remove(name);
        assert_eq!(
            v.verify(&h, &bytes, at(TS), &NoKeys)
                .expect_err("must be refused"),
            HookError::MissingHeader { name: name.into() }
        );
    }
    let mut h = signed("m", TS, &bytes);
    h.insert(
        "webhook-timestamp",
        "yesterday".parse().expect("must succeed"),
    );
    let e = v
        .verify(&h, &bytes, at(TS), &NoKeys)
        .expect_err("must be refused");
    assert_eq!(
        e.to_string(),
        "header `webhook-timestamp` is malformed: not an integer number of seconds"
    );
    let e = v
        .verify(&headers("m", TS, "v1a,c2ln"), &bytes, at(TS), &NoKeys)
        .expect_err("must be refused");
    assert_eq!(e.kind(), "bad_header");
    assert!(e.to_string().contains("v1"), "{e}");
    let long = "x".repeat(257);
    let e = v
        .verify(&signed(&long, TS, &bytes), &bytes, at(TS), &NoKeys)
        .expect_err("must be refused");
    assert_eq!(e.kind(), "bad_header");
    // A wrong secret: unauthenticated, no signature echoed.
    let other = StandardWebhooks::from_config(ROTATED).expect("must succeed");
    let sig = other.sign("m", TS, &bytes);
    let e = v
        .verify(&headers("m", TS, &sig), &bytes, at(TS), &NoKeys)
        .expect_err("must be refused");
    assert!(!e.to_string().contains(&sig[3..13]), "{e}");
}

#[test]
fn secret_configuration_errors() {
    for (bad, why) in [
        ("v1a,whpk_abc:whsk_def", "asymmetric"),
        ("v1,notwhsec", "whsec_"),
        ("v1,whsec_!!!", "base64"),
        ("v1,whsec_", "empty"),
    ] {
        let e = StandardWebhooks::from_config(bad).expect_err("must be refused");
        assert!(e.to_string().contains(why), "{bad}: {e}");
        assert!(!e.to_string().contains("abc"), "{e}");
    }
    let e = StandardWebhooks::from_config(&format!("{SECRET}|oops")).expect_err("must be refused");
    assert!(e.to_string().starts_with("webhook secret #2"), "{e}");
}

#[test]
fn bodies_not_of_supabase_shape_are_typed_errors() {
    let e = supabase::parse(br#"{"user_id":"u1"}"#).expect_err("must be refused");
    assert_eq!(
        e.to_string(),
        "malformed request body at the document root: missing field `claims`"
    );
    let e = supabase::parse(br#"{"user_id":"u1","claims":[]}"#).expect_err("must be refused");
    assert!(
        matches!(&e, HookError::Malformed { at: Location::Pointer(p), .. } if p == "/claims"),
        "{e}"
    );
    // A long offending value is not echoed whole.
    let long = format!(r#"{{"user_id":"u1","claims":"{}"}}"#, "p".repeat(5_000));
    let e = supabase::parse(long.as_bytes()).expect_err("must be refused");
    assert!(e.to_string().len() < 300, "{e}");
    assert!(e.to_string().ends_with('…'), "{e}");
    let e = supabase::parse(b"{\n  \"user_id\": \"u1\",\n  \"claims\": {,}\n}")
        .expect_err("must be refused");
    assert!(
        matches!(
            e,
            HookError::Malformed {
                at: Location::LineColumn { line: 3, .. },
                ..
            }
        ),
        "{e}"
    );
}
