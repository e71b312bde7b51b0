//! The JWT issuer's inputs: an arbitrary base payload and script claims
//! (a JSON array `[base, claims, added_scopes, removed_scopes]`), merged and
//! signed. The base always wins, protected claims never come from the
//! script, and a signed token is three base64url parts.
#![no_main]

use std::sync::OnceLock;

use claimscript::ScopeChanges;
use claimscript_issuer::{Issuer, SigningKey, merge};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fn issuer() -> &'static Issuer {
    static ISSUER: OnceLock<Issuer> = OnceLock::new();
    ISSUER.get_or_init(|| {
        let key = SigningKey::from_secret(b"fuzzing-secret-of-at-least-32-bytes!!")
            .expect("a 37-byte secret is accepted")
            .with_kid("fuzz");
        Issuer::new(key).with_max_token_bytes(64 * 1024)
    })
}

fn object(value: Option<&Value>) -> Map<String, Value> {
    match value {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Array(parts)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let base = object(parts.first());
    let claims = object(parts.get(1));
    let (payload, collisions) = merge(&base, &claims, claimscript::is_protected);
    for (name, value) in &base {
        assert_eq!(
            payload.get(name),
            Some(value),
            "the base's {name} was overwritten"
        );
    }
    for (name, value) in &claims {
        if claimscript::is_protected(name) && !base.contains_key(name) {
            assert!(
                !payload.contains_key(name),
                "protected {name} came from the script"
            );
            assert!(collisions.contains(name));
        } else if !base.contains_key(name) {
            assert_eq!(payload.get(name), Some(value));
        }
    }
    let issuer = issuer();
    let mut changes = ScopeChanges::default();
    changes.added = strings(parts.get(2));
    changes.removed = strings(parts.get(3));
    let (scoped, _ignored) = issuer.apply_scopes(&base, &changes);
    for token in [
        issuer.sign(&scoped, &claims),
        issuer.sign_id_token(&base, &claims),
    ] {
        match token {
            Ok(token) => {
                assert_eq!(token.compact.split('.').count(), 3, "not a compact JWS");
                assert!(token.compact.len() <= 64 * 1024);
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
