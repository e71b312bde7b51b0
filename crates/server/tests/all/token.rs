//! `POST /v1/scripts/{name}/token` and the JWKS.

use claimscript_issuer::SigningAlgorithm;
use serde_json::{Value, json};

use crate::{Dir, rbac_input, repo_path};

fn keys(dir: &Dir) -> String {
    let pair = claimscript_issuer::generate_key(SigningAlgorithm::ES256).expect("key");
    dir.write("keys/es256.pem", pair.private_pem);
    "[keys.main]\nalg = \"ES256\"\nprivate_key = \"keys/es256.pem\"\nkid = \"main-1\"\n".into()
}

/// Verify a compact JWS against the service's JWKS with an independent
/// implementation (jsonwebtoken's decoder).
fn verify(token: &str, jwks: &Value) -> Value {
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).expect("jwks");
    let header = jsonwebtoken::decode_header(token).expect("header");
    let kid = header.kid.expect("kid");
    let jwk = set.find(&kid).expect("the JWKS has the token's kid");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("decoding key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("signature verifies")
        .claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_signs_the_merged_claims_and_denials_are_403() {
    let dir = Dir::new();
    dir.write(
        "deny.js",
        "const getCustomJwtClaims = async ({ api }) => api.denyAccess('suspended account');",
    );
    dir.write(
        "fail.js",
        "const getCustomJwtClaims = async () => { throw new TypeError('x is undefined'); };",
    );
    let config = format!(
        "{}\n[scripts.rbac]\npath = \"{}\"\nkey = \"main\"\n[scripts.deny]\npath = \"deny.js\"\n[scripts.fail]\npath = \"fail.js\"\n[scripts.lenient]\npath = \"fail.js\"\nfailure_policy = \"issue_without_claims\"\n",
        keys(&dir),
        repo_path(crate::RBAC).display()
    );
    let s = dir.start(&config).await;
    let jwks = s.get("/.well-known/jwks.json").await.json;
    assert_eq!(jwks["keys"][0]["kid"], "main-1");

    let a = s.post("/v1/scripts/rbac/token", &rbac_input()).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let id = a.json["decision_id"].as_str().expect("decision id");
    assert_eq!(a.headers["x-decision-id"], id);
    let payload = verify(a.json["token"].as_str().expect("token"), &jwks);
    assert_eq!(payload["roles"], json!(["admin", "analyst", "billing"]));
    assert_eq!(payload, a.json["claims"]);

    // A denial: 403 with OAuth's error body.
    let a = s
        .post("/v1/scripts/deny/token", &json!({"token": {}}))
        .await;
    assert_eq!(a.status, 403, "{}", a.text);
    assert_eq!(a.json["error"], "access_denied");
    assert_eq!(a.json["error_description"], "suspended account");
    // A failed script, blocked: OAuth's invalid_request naming the kind.
    let a = s
        .post("/v1/scripts/fail/token", &json!({"token": {}}))
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.json["error"], "invalid_request");
    assert!(
        a.json["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("script")
    );
    // The same failure, issued without claims.
    let a = s
        .post(
            "/v1/scripts/lenient/token",
            &json!({"token": {"sub": "u1"}}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["claims_error"]["kind"], "script");
    let payload = verify(a.json["token"].as_str().expect("token"), &jwks);
    assert_eq!(payload["sub"], "u1");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_without_a_key_is_a_conflict() {
    let dir = Dir::new();
    let s = dir.start(&crate::rbac_config()).await;
    let message = s
        .post("/v1/scripts/rbac/token", &rbac_input())
        .await
        .error(409, "no_signing_key")
        .to_string();
    assert!(message.contains("set `key`"), "{message}");
    s.stop().await;
}
