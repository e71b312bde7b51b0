//! Property tests: loading never panics on any text, rendering never panics
//! on any root, and what loads renders the same way every time.

use claimscript_template::Template;
use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Pieces that make strings likely to exercise the placeholder parser.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{{".to_owned()),
        Just("}}".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("||".to_owned()),
        Just("|".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just(" ".to_owned()),
        Just("'".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("\\u".to_owned()),
        Just("\\ud83d".to_owned()),
        Just("0".to_owned()),
        Just("-".to_owned()),
        Just("1e999".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("Email.0.Value".to_owned()),
        Just("user.metadata.plan".to_owned()),
        "[a-z$_][a-z0-9_$-]{0,6}",
        "[0-9]{1,4}",
        any::<char>().prop_map(String::from),
        "\\PC{0,4}",
    ]
}

/// Strings built from the pieces above.
fn template_string() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..16).prop_map(|pieces| pieces.concat())
}

/// Arbitrary JSON values, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::String),
        prop_oneof![Just("Ada"), Just(""), Just("{{ a }}")].prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("Email".to_owned()),
                        Just("0".to_owned()),
                        Just("user".to_owned()),
                        Just("metadata".to_owned()),
                        Just("plan".to_owned()),
                        Just("a".to_owned()),
                        "\\PC{0,4}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Templates that load: paths and literals joined by `||`, in text.
fn valid_template() -> impl Strategy<Value = String> {
    let term = prop_oneof![
        prop_oneof![
            Just("Email.0.Value"),
            Just("user.metadata"),
            Just("user.metadata.plan"),
            Just("a.0.b"),
            Just("a"),
            Just("plan"),
        ]
        .prop_map(str::to_owned),
        "[a-z]{1,3}(\\.([a-z][a-z0-9]{0,2}|[0-9]{1,2})){0,3}",
        "[a-z ]{0,5}".prop_map(|s| format!("'{s}'")),
        Just("42".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
    ];
    let expr = prop::collection::vec(term, 1..4).prop_map(|terms| terms.join(" || "));
    let part = prop_oneof![expr.prop_map(|e| format!("{{{{ {e} }}}}")), "[a-z }]{0,5}",];
    prop::collection::vec(prop::collection::vec(part, 1..4), 0..6).prop_map(|values| {
        let entries: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, parts)| {
                let value = serde_json::to_string(&parts.concat()).unwrap_or_default();
                format!("\"k{i}\": {value}")
            })
            .collect();
        format!("{{{}}}", entries.join(", "))
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in "\\PC{0,64}") {
        let _ = Template::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes_as_text(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = Template::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_raw_pieces(s in template_string()) {
        // Unescaped: often invalid JSON, sometimes not.
        let _ = Template::parse(&format!("{{\"k\": \"{s}\"}}"));
        let _ = Template::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_strings_wrapped_as_json(s in template_string(), t in template_string()) {
        // Properly escaped: always valid JSON, so the placeholder parser sees it all.
        let value = serde_json::to_string(&s).unwrap_or_default();
        let nested = serde_json::to_string(&serde_json::json!({ "n": [t, 1, { "x": s }] }))
            .unwrap_or_default();
        let text = format!("{{\"k\": {value}, \"m\": {nested}}}");
        match Template::parse(&text) {
            Ok(template) => {
                let _ = template.render(&Value::Null);
            }
            Err(err) => {
                prop_assert!(err.line() >= 1 && err.column() >= 1, "{err}");
                prop_assert!(err.pointer() == "/k" || err.pointer().starts_with("/m/n/"), "{err}");
            }
        }
    }

    #[test]
    fn error_positions_lie_within_the_text(s in template_string()) {
        let text = format!("{{\n  \"k\": {}\n}}", serde_json::to_string(&s).unwrap_or_default());
        if let Err(err) = Template::parse(&text) {
            let line = text.split('\n').nth(err.line() - 1);
            prop_assert!(line.is_some(), "{err}");
            let chars = line.map_or(0, |l| l.chars().count());
            prop_assert!(err.column() <= chars + 1, "{err} in {text:?}");
        }
    }

    #[test]
    fn render_never_panics_on_arbitrary_roots(root in json_value(), text in valid_template()) {
        let template = Template::parse(&text);
        prop_assert!(template.is_ok(), "{text}: {:?}", template.err());
        if let Ok(template) = template {
            let first = template.render(&root);
            prop_assert_eq!(first.len(), template.render(&Value::Null).len());
            prop_assert_eq!(first, template.render(&root));
        }
    }

    #[test]
    fn the_example_template_renders_any_root(root in json_value()) {
        let template = Template::parse(&crate::fixture("loginradius.json"));
        prop_assert!(template.is_ok());
        if let Ok(template) = template {
            let claims = template.render(&root);
            prop_assert_eq!(claims.get("account_type"), Some(&Value::from("enterprise")));
            prop_assert!(matches!(claims.get("full_name"), Some(Value::String(_))));
            prop_assert!(!matches!(claims.get("plan"), Some(Value::Null) | None));
        }
    }
}
