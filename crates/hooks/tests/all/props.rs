//! Property tests: parsers and verifiers never panic, and what parses maps
//! and answers.

use claimscript::{ErrorKind, FailurePolicy, Outcome, ScriptError};
use claimscript_hooks::keys::NoKeys;
use claimscript_hooks::{
    Auth, Protocol, ReplayCache, Verifier, json_pointer_escape, parse, zitadel,
};
use http::HeaderMap;
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z_/~.:]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("data".to_string()),
                    Just("claims".to_string()),
                    Just("session".to_string()),
                    Just("request".to_string()),
                    Just("user".to_string()),
                    Just("function".to_string()),
                    Just("user_id".to_string()),
                    Just("eventType".to_string()),
                    "[a-z_]{1,6}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for p in Protocol::ALL {
            if let Err(e) = parse(p, &bytes) {
                prop_assert!(e.status().is_client_error());
            }
        }
    }

    #[test]
    fn whatever_parses_maps_and_answers(value in json_value(), fail in any::<bool>()) {
        let bytes = serde_json::to_vec(&value).expect("must succeed");
        for p in Protocol::ALL {
            match parse(p, &bytes) {
                Ok(request) => {
                    let input = request.to_run_input();
                    prop_assert_eq!(&input.context().expect("must succeed")["hook"]["provider"], p.as_str());
                    let outcome = if fail {
                        Outcome::Error(ScriptError::new(ErrorKind::Script, "x"))
                    } else {
                        Outcome::Claims {
                            claims: json!({"a/b": 1, "iss": 2}).as_object().cloned().expect("must succeed"),
                            id_token_claims: None,
                            dropped: vec![],
                            id_token_dropped: vec![],
                            scopes: Default::default(),
                        }
                    };
                    let response = request.respond(&outcome, FailurePolicy::Block);
                    if !response.body.is_empty() {
                        prop_assert!(serde_json::from_slice::<Value>(&response.body).is_ok());
                    }
                }
                Err(e) => prop_assert!(e.status().is_client_error()),
            }
        }
    }

    #[test]
    fn signature_headers_never_panic(header in "[ -~]{0,80}", body in prop::collection::vec(any::<u8>(), 0..64)) {
        let v = Verifier::new(Auth::Zitadel(zitadel::Auth::new("k").expect("must succeed")));
        let mut headers = HeaderMap::new();
        if let Ok(value) = header.parse() {
            headers.insert("zitadel-signature", value);
            prop_assert!(v.verify(&headers, &body, std::time::SystemTime::now(), &NoKeys).is_err());
        }
        let s = Verifier::new(Auth::Supabase(claimscript_hooks::supabase::Auth::from_config("whsec_AAAA").expect("must succeed")));
        let mut headers = HeaderMap::new();
        if let (Ok(a), Ok(b)) = (header.parse(), header.parse()) {
            headers.insert("webhook-id", "m".parse().expect("must succeed"));
            headers.insert("webhook-timestamp", a);
            headers.insert("webhook-signature", b);
            prop_assert!(s.verify(&headers, &body, std::time::SystemTime::now(), &NoKeys).is_err());
        }
    }

    #[test]
    fn pointer_escape_round_trips(name in "[a-z~/]{0,12}") {
        let escaped = json_pointer_escape(&name);
        prop_assert!(!escaped.contains('/'));
        prop_assert_eq!(escaped.replace("~1", "/").replace("~0", "~"), name);
    }

    #[test]
    fn replay_cache_stays_within_capacity(ops in prop::collection::vec(("[a-d]{1,2}", 0i64..50, 0i64..50), 0..64)) {
        let mut cache = ReplayCache::new(4);
        for (id, exp, now) in ops {
            let _ = cache.check_and_insert(&id, exp, now);
            prop_assert!(cache.len() <= 4);
        }
    }
}
