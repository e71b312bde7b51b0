//! Issuing tokens for each algorithm, failure policy and limit.

use claimscript::{BoundScript, FailurePolicy, Grants, TokenKind};
use claimscript_issuer::{
    IssueError, Issuer, KeyError, SigningAlgorithm, SigningKey, TokenRequest, generate_key, issue,
    jwks_from_pem,
};
use serde_json::{Map, Value, json};

use crate::{VerifyWith, engine, verify};

const OVERRIDING: &str = r#"
const getCustomJwtClaims = async ({ token, context }) => ({
  iss: 'https://evil.test', sub: 'root', aud: 'everything', exp: 9999999999,
  tenant: 'forged-tenant',
  roles: context.user.roles,
  kind_seen: token.kind,
});
"#;

fn base() -> Map<String, Value> {
    json!({
        "iss": "https://id.acme.test", "sub": "usr_1", "aud": "https://api.acme.test",
        "iat": 1_700_000_000_u64, "exp": 4_102_444_800_u64, "jti": "t-1", "tenant": "acme",
        "scope": "read:reports"
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

fn context() -> Map<String, Value> {
    json!({"user": {"roles": ["admin"]}})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

async fn bound(source: &str, policy: FailurePolicy) -> BoundScript {
    let script = engine().compile(source).await.expect("compile");
    BoundScript::new(script, Grants::default()).with_failure_policy(policy)
}

fn request() -> TokenRequest {
    TokenRequest::new(TokenKind::AccessToken, base()).with_context(context())
}

fn assert_base_intact_and_custom_present(payload: &Value) {
    for (k, v) in base() {
        assert_eq!(payload[&k], v, "base claim {k} must survive the script");
    }
    assert_eq!(payload["roles"], json!(["admin"]));
    assert_eq!(payload["kind_seen"], "AccessToken");
}

#[tokio::test]
async fn each_asymmetric_algorithm_signs_verifiable_tokens() {
    let script = bound(OVERRIDING, FailurePolicy::Block).await;
    for alg in [
        SigningAlgorithm::ES256,
        SigningAlgorithm::RS256,
        SigningAlgorithm::EdDSA,
    ] {
        let pair = generate_key(alg).expect("generate");
        let kid = format!("{alg}-key");
        let key = SigningKey::from_pem(alg, pair.private_pem.as_bytes())
            .expect("pem")
            .with_kid(&kid);
        let issuer = Issuer::new(key);
        let issued = issue(&script, &issuer, request()).await.expect("issued");
        let token = &issued.access_token;
        assert!(
            token.collisions.contains(&"tenant".to_string()),
            "{:?}",
            token.collisions
        );
        assert_eq!(issued.dropped, ["iss", "sub", "aud", "exp"]);
        // The issuer's JWKS, and the JWKS made from the public PEM alone.
        for jwks in [
            issuer.jwks(),
            jwks_from_pem(pair.public_pem.as_bytes(), Some(&kid)).expect("jwks"),
        ] {
            let verified = verify(&token.compact, alg.as_str(), VerifyWith::Jwks(&jwks));
            assert_eq!(verified["header"]["alg"], alg.as_str());
            assert_eq!(verified["header"]["kid"], kid.as_str());
            assert_base_intact_and_custom_present(&verified["payload"]);
        }
    }
}

#[test]
fn hs256_refuses_secrets_shorter_than_32_bytes() {
    for secret in [&b""[..], b" ", b"x", &[b'k'; 31]] {
        match SigningKey::from_secret(secret) {
            Err(e @ KeyError::SecretTooShort { .. }) => {
                let message = e.to_string();
                assert!(
                    message.contains(&format!("is {} bytes", secret.len()))
                        && message.contains("at least 32"),
                    "{message}"
                );
            }
            other => panic!("{} bytes: {other:?}", secret.len()),
        }
    }
    assert!(SigningKey::from_secret(&[b'k'; 32]).is_ok());
}

#[tokio::test]
async fn hs256_with_a_shared_secret() {
    let script = bound(OVERRIDING, FailurePolicy::Block).await;
    let secret = "0123456789abcdef0123456789abcdef";
    let issuer = Issuer::new(
        SigningKey::from_secret(secret.as_bytes())
            .expect("secret")
            .with_kid("hs"),
    );
    assert_eq!(
        issuer.jwks(),
        json!({"keys": []}),
        "a shared secret is never published"
    );
    let issued = issue(&script, &issuer, request()).await.expect("issued");
    let verified = verify(
        &issued.access_token.compact,
        "HS256",
        VerifyWith::Secret(secret),
    );
    assert_eq!(verified["header"]["kid"], "hs");
    assert_base_intact_and_custom_present(&verified["payload"]);
}

#[tokio::test]
async fn a_denial_always_blocks() {
    for policy in [FailurePolicy::Block, FailurePolicy::IssueWithoutClaims] {
        let script = bound(
            "const getCustomJwtClaims = ({ api }) => api.denyAccess('No access for you');",
            policy,
        )
        .await;
        let issuer = Issuer::new(
            SigningKey::from_secret(b"0123456789abcdef0123456789abcdef").expect("secret"),
        );
        match issue(&script, &issuer, request()).await {
            Err(IssueError::Rejected { error, .. }) => {
                assert_eq!((error.error, error.status), ("access_denied", 400));
                assert_eq!(error.description, "No access for you");
                assert_eq!(
                    error.to_json(),
                    json!({"error": "access_denied", "error_description": "No access for you"})
                );
            }
            other => panic!("{policy:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn failure_policies() {
    let throwing = "const getCustomJwtClaims = () => { throw new Error('upstream exploded'); };";
    let looping = "const getCustomJwtClaims = () => { for (;;) {} };";
    let issuer =
        Issuer::new(SigningKey::from_secret(b"0123456789abcdef0123456789abcdef").expect("secret"));

    let strict = bound(throwing, FailurePolicy::Block).await;
    match issue(&strict, &issuer, request()).await {
        Err(IssueError::Rejected { error, report }) => {
            assert_eq!((error.error, error.status), ("invalid_request", 400));
            assert_eq!(error.description, "custom claims script failed (script)");
            assert!(matches!(report.outcome, claimscript::Outcome::Error(_)));
        }
        other => panic!("{other:?}"),
    }
    let strict_loop = bound(looping, FailurePolicy::Block).await;
    match issue(&strict_loop, &issuer, request()).await {
        Err(IssueError::Rejected { error, .. }) => {
            assert_eq!((error.error, error.status), ("server_error", 500))
        }
        other => panic!("{other:?}"),
    }

    let lenient = bound(throwing, FailurePolicy::IssueWithoutClaims).await;
    let issued = issue(&lenient, &issuer, request())
        .await
        .expect("issued without claims");
    assert!(
        !issued.custom_claims,
        "the decision says the claims are missing"
    );
    assert_eq!(
        Value::Object(issued.access_token.payload.clone()),
        Value::Object(base())
    );
}

#[tokio::test]
async fn token_size_limit() {
    let script = bound(
        "const getCustomJwtClaims = () => ({ blob: 'x'.repeat(3000) });",
        FailurePolicy::Block,
    )
    .await;
    let issuer =
        Issuer::new(SigningKey::from_secret(b"0123456789abcdef0123456789abcdef").expect("secret"))
            .with_max_token_bytes(2048);
    match issue(&script, &issuer, request()).await {
        Err(e @ IssueError::TooLarge { .. }) => assert_eq!(e.oauth().status, 500),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn id_token_is_signed_from_its_own_base() {
    let script = bound(
        r#"const getCustomJwtClaims = () => ({ plan: 'pro' });"#,
        FailurePolicy::Block,
    )
    .await;
    let pair = generate_key(SigningAlgorithm::ES256).expect("generate");
    let issuer = Issuer::new(
        SigningKey::from_pem(SigningAlgorithm::ES256, pair.private_pem.as_bytes()).expect("pem"),
    );
    let id_base = json!({"iss": "https://id.acme.test", "sub": "usr_1", "aud": "client", "exp": 4_102_444_800_u64, "nonce": "n-1"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let issued = issue(&script, &issuer, request().with_id_token(id_base))
        .await
        .expect("issued");
    let id = issued.id_token.expect("id token");
    let verified = verify(&id.compact, "ES256", VerifyWith::Jwks(&issuer.jwks()));
    assert_eq!(verified["payload"]["nonce"], "n-1");
    assert!(
        verified["payload"].get("plan").is_none(),
        "access-token claims stay in the access token"
    );
}

#[test]
fn bad_keys_are_reported() {
    let err = SigningKey::from_pem(SigningAlgorithm::ES256, b"not a key").expect_err("not PEM");
    assert!(
        matches!(
            err,
            KeyError::InvalidPem {
                alg: SigningAlgorithm::ES256,
                ..
            }
        ),
        "{err:?}"
    );
    let ed = generate_key(SigningAlgorithm::EdDSA).expect("generate");
    let err = SigningKey::from_pem(SigningAlgorithm::ES256, ed.private_pem.as_bytes())
        .expect_err("wrong type");
    let message = err.to_string();
    assert!(message.contains("not a ES256 private key"), "{message}");
    // The cause is kept as a value, and its message is in the error's.
    let source = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<jsonwebtoken::errors::Error>())
        .expect("jsonwebtoken's error as the source");
    assert!(message.ends_with(&source.to_string()), "{message}");

    let err = "PS256"
        .parse::<SigningAlgorithm>()
        .expect_err("unsupported");
    assert!(
        matches!(&err, KeyError::UnsupportedAlgorithm { name, .. } if name == "PS256"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "unsupported algorithm `PS256` (expected ES256, RS256, EdDSA or HS256)"
    );
    assert!(matches!(
        SigningKey::from_pem(SigningAlgorithm::HS256, ed.private_pem.as_bytes()),
        Err(KeyError::SecretAlgorithm)
    ));
    assert!(matches!(
        generate_key(SigningAlgorithm::HS256),
        Err(KeyError::SecretAlgorithm)
    ));
    assert!(matches!(
        jwks_from_pem(
            b"-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n",
            None
        ),
        Err(KeyError::UnrecognisedPem)
    ));
    // A public key makes a JWKS, but not a signing key.
    assert!(jwks_from_pem(ed.public_pem.as_bytes(), Some("k")).is_ok());
}
