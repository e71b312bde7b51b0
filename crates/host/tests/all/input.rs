//! Input documents and grants files: clear errors, nothing dropped.

use claimscript::{Grants, RunInput, TokenKind};

#[test]
fn logto_test_context_shape() {
    let input = RunInput::from_json(
        r#"{"token": {"kind": "ClientCredentials", "clientId": "c"}, "environmentVariables": {"K": "v"}}"#,
    )
    .expect("valid");
    assert_eq!(input.kind, TokenKind::ClientCredentials);
    assert!(input.context().is_none());
    assert_eq!(input.environment_variables["K"], "v");
}

#[test]
fn kind_defaults_to_access_token_and_is_set_in_the_token() {
    let input = RunInput::from_json(r#"{"token": {"accountId": "u"}}"#).expect("valid");
    assert_eq!(input.kind, TokenKind::AccessToken);
    assert_eq!(input.token["kind"], "AccessToken");
}

#[test]
fn malformed_inputs_are_rejected_with_the_reason() {
    for (doc, expected) in [
        ("{", "line 1, column 1"),
        ("[]", "must be a JSON object"),
        ("{}", "missing `token`"),
        (r#"{"token": 1}"#, "`token` must be an object, got a number"),
        (r#"{"token": {"kind": "IdToken"}}"#, "`token.kind` must be"),
        // The token is checked before the context.
        (
            r#"{"token": {"kind": "IdToken"}, "context": "x"}"#,
            "`token.kind` must be",
        ),
        (
            r#"{"token": {}, "context": "x"}"#,
            "`context` must be an object, got a string",
        ),
        (
            r#"{"token": {}, "environmentVariables": {"A": 1}}"#,
            "`environmentVariables.A` must be a string",
        ),
        (
            r#"{"token": {}, "environment": {}}"#,
            "unknown key `environment`",
        ),
    ] {
        let err = RunInput::from_json(doc).expect_err(doc);
        assert!(err.to_string().contains(expected), "{doc}: {err}");
    }
}

#[test]
fn duplicate_keys_are_refused_at_their_place() {
    for (doc, expected) in [
        (
            "{\"token\": {\"sub\": \"a\",\n \"sub\": \"b\"}}",
            "line 2, column 6: duplicate key \"sub\"",
        ),
        (
            r#"{"token": {}, "token": {}}"#,
            "line 1, column 21: duplicate key \"token\"",
        ),
        (
            r#"{"token": {}, "context": {"user": [{"id": 1, "id": 2}]}}"#,
            "line 1, column 49: duplicate key \"id\"",
        ),
    ] {
        let err = RunInput::from_json(doc).expect_err(doc);
        assert!(err.to_string().starts_with(expected), "{doc}: {err}");
    }
    // The same key in different objects is fine.
    let input = RunInput::from_json(r#"{"token": {"id": 1}, "context": {"id": 2}}"#);
    assert!(input.is_ok(), "{input:?}");
}

#[test]
fn inputs_over_the_limit_are_refused_before_parsing() {
    use claimscript::DEFAULT_MAX_INPUT_BYTES;
    // Not even valid JSON: refused by size first.
    let text = "x".repeat(DEFAULT_MAX_INPUT_BYTES + 1);
    let err = RunInput::from_json(&text).expect_err("too large");
    assert_eq!(
        err.to_string(),
        format!(
            "the input is {} bytes; the limit is {DEFAULT_MAX_INPUT_BYTES} bytes (max_input_bytes)",
            DEFAULT_MAX_INPUT_BYTES + 1
        )
    );
    let small = r#"{"token": {"sub": "a-somewhat-long-subject"}}"#;
    let err = RunInput::from_json_with_limit(small, 10).expect_err("over 10");
    assert!(err.to_string().contains("the limit is 10 bytes"), "{err}");
    assert!(RunInput::from_json_with_limit(small, small.len()).is_ok());
}

#[tokio::test]
async fn a_run_over_the_engines_input_limit_does_not_start() {
    use claimscript::{Engine, EngineConfig, Error};
    let mut config = EngineConfig::default();
    config.max_input_bytes = 4096;
    let engine = Engine::with_config(config).expect("engine");
    let script = engine
        .compile("const getCustomJwtClaims = async () => ({});")
        .await
        .expect("compile");
    let input = RunInput::new(TokenKind::AccessToken, serde_json::Map::new())
        .with_env("BIG", "x".repeat(8192));
    // Environment values are not in the script's argument: this one runs.
    assert!(script.run(&input, &Grants::default()).await.is_ok());
    let mut token = serde_json::Map::new();
    token.insert("scope".into(), "read ".repeat(1000).into());
    let input = RunInput::new(TokenKind::AccessToken, token);
    match script.run(&input, &Grants::default()).await {
        Err(Error::Input(e)) => assert!(
            e.to_string()
                .contains("the limit is 4096 bytes (max_input_bytes)"),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn grants_defaults() {
    let grants = Grants::from_toml("").expect("empty grants");
    assert_eq!(grants, Grants::default());
    assert!(grants.fetch.is_none());
}

#[test]
fn grants_reference_file_parses() {
    let grants = Grants::from_toml(
        r#"
fuel = 20_000_000          # instructions per run
timeout_ms = 1000          # wall clock per run
memory_mb = 16
max_output_bytes = 51200
[env]
expose = ["API_KEY"]
[fetch]
allow = ["https://api.example.com"]
timeout_ms = 500
max_response_bytes = 1048576
max_requests = 5
"#,
    )
    .expect("reference grants");
    assert_eq!(grants.fuel, 20_000_000);
    assert_eq!(grants.memory_mb, 16);
    let fetch = grants.fetch.expect("fetch");
    assert_eq!(fetch.max_requests, Some(5));
    assert_eq!(fetch.allow[0].as_str(), "https://api.example.com");
}

#[test]
fn grants_errors_name_key_and_line() {
    for (doc, line, expected) in [
        ("fuel = 1\nfule = 2\n", 2, "unknown field `fule`"),
        (
            "[env]\nexpose = [\"A\"]\nshow = 1\n",
            3,
            "unknown field `show`",
        ),
        (
            "timeout_ms = 0\n",
            1,
            "timeout_ms must be between 1 and 60000",
        ),
        ("memory_mb = \"big\"\n", 1, "invalid type"),
        (
            "[fetch]\nallow = [\"api.example.com\"]\n",
            2,
            "invalid fetch pattern `api.example.com`",
        ),
        ("fuel = \n", 1, ""),
    ] {
        match Grants::from_toml(doc) {
            Err(claimscript::grants::GrantsError::Invalid {
                line: l, message, ..
            }) => {
                assert_eq!(l, line, "{doc}: {message}");
                assert!(message.contains(expected), "{doc}: {message}");
            }
            other => panic!("{doc}: {other:?}"),
        }
    }
}

/// The script sees the whole input, whether the claims writer walks its
/// objects (returned as they are, never looked at before) or
/// `JSON.stringify` does, for both styles that pass it as objects.
#[tokio::test]
async fn the_script_sees_the_whole_input() {
    use serde_json::{Value, json};
    let input = crate::example_input("rbac");
    let token = Value::Object(input.token.clone());
    let context = Value::Object(input.context().cloned().expect("the example has a context"));
    let sources = [
        "const getCustomJwtClaims = async ({ token, context }) => ({ token, context });",
        "const getCustomJwtClaims = async ({ token, context }) => JSON.parse(JSON.stringify({ token, context }));",
        "const getCustomJwtClaims = async ({ token, context }) => ({ token: { ...token }, context: structuredClone(context) });",
        // Built only after the run's arena is used up and memory is reused,
        // while the script holds an empty object.
        "const getCustomJwtClaims = async ({ token, context }) => { const held = {}; const junk = []; \
         for (let i = 0; i < 10000; i++) junk.push({ i }); return { held, n: junk.length, token, context }; };",
    ];
    for source in sources {
        let report = crate::run_source(source).await;
        match &report.outcome {
            claimscript::Outcome::Claims { claims, .. } => {
                assert_eq!(claims["token"], token, "{source}");
                assert_eq!(claims["context"], context, "{source}");
            }
            other => panic!("{source}: {other:?}"),
        }
    }
    // Auth0's event is built from the same input: its user arrives whole.
    let report = crate::run_source(
        "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('user', event.user); };",
    )
    .await;
    match &report.outcome {
        claimscript::Outcome::Claims { claims, .. } => {
            assert_eq!(claims["user"]["user_id"], json!(context["user"]["id"]));
            assert!(claims["user"].as_object().is_some_and(|u| u.len() > 5));
        }
        other => panic!("auth0: {other:?}"),
    }
}

/// A context parsed from text reaches a Logto script as the caller wrote
/// it, whitespace between tokens removed and nothing else changed: escapes,
/// spaces inside strings, number spellings; the tree read on the host side
/// is the same as the one `from_value` builds.
#[tokio::test]
async fn a_parsed_context_is_passed_as_written_without_whitespace() {
    let text = "{\n  \"token\": {\"sub\": \"u\"},\n  \"context\": {\n    \"user\": {\"name\": \"Ada  \\\"the\\\" \\\\ Lovelace\",\n \"n\": 1.50e2,\t\"esc\": \"\\u00e9 \\n\"},\r\n    \"roles\" : [ 1 , [ ] , { } ]\n  }\n}\n";
    let input = RunInput::from_json(text).expect("valid");
    let script = crate::compile("const getCustomJwtClaims = async () => ({});").await;
    assert_eq!(
        claimscript::bench_support::marshal(&script, &input),
        r#"{"token":{"sub":"u","kind":"AccessToken"},"context":{"user":{"name":"Ada  \"the\" \\ Lovelace","n":1.50e2,"esc":"\u00e9 \n"},"roles":[1,[],{}]}}"#
    );
    let value: serde_json::Value = serde_json::from_str(text).expect("json");
    let from_tree = RunInput::from_value(value).expect("valid");
    assert_eq!(input, from_tree);
    assert_eq!(input.context(), from_tree.context());
    assert_eq!(input.context().expect("context")["user"]["n"], 150.0);
    // The same argument either way, apart from spelling (`1.50e2` and
    // `150.0`, `\u00e9` and `é`).
    let parsed = |input: &RunInput| -> serde_json::Value {
        serde_json::from_str(&claimscript::bench_support::marshal(&script, input)).expect("json")
    };
    assert_eq!(parsed(&from_tree), parsed(&input));
    // A context that is null is no context; changing one in place works on
    // a parsed input too.
    let mut input = RunInput::from_json(r#"{"token": {}, "context": null}"#).expect("null context");
    assert!(input.context().is_none() && input.context_mut().is_none());
    let mut input = RunInput::from_json(r#"{"token": {}, "context": {"a": 1}}"#).expect("valid");
    input
        .context_mut()
        .expect("context")
        .insert("b".into(), 2.into());
    assert_eq!(
        claimscript::bench_support::marshal(&script, &input),
        r#"{"token":{"kind":"AccessToken"},"context":{"a":1,"b":2}}"#
    );
}

/// The check that replaces the tree is as strict as the tree was: a key
/// twice in a large object (checked through a set) or spelled with an
/// escape, a lone surrogate, text after the document, all refused at their
/// line and column; many distinct keys pass.
#[test]
fn the_text_check_refuses_what_a_tree_would_not_hold() {
    let keys = |n: usize| {
        (0..n)
            .map(|i| format!("\"k{i}\": {i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let large = format!(
        r#"{{"token": {{}}, "context": {{{}, "k30": 0}}}}"#,
        keys(40)
    );
    let err = RunInput::from_json(&large).expect_err("k30 twice");
    assert!(
        err.to_string().contains("duplicate key \"k30\"") && err.position().is_some(),
        "{err}"
    );
    let fine = format!(r#"{{"token": {{}}, "context": {{{}}}}}"#, keys(5000));
    let input = RunInput::from_json(&fine).expect("5000 distinct keys");
    assert_eq!(input.context().expect("context").len(), 5000);
    for (doc, expected) in [
        (
            r#"{"token": {"a": 1, "\u0061": 2}}"#,
            "line 1, column 27: duplicate key \"a\"",
        ),
        (
            r#"{"token": {}, "context": {"x": "\ud800"}}"#,
            "line 1, column 39: unexpected end of hex escape",
        ),
        (
            r#"{"token": {}} {}"#,
            "line 1, column 15: trailing characters",
        ),
        (
            r#"{"token": {}, "context": {"a": [1, {"b": 1, "c": {"b": 2}, "b": 3}]}}"#,
            "line 1, column 62: duplicate key \"b\"",
        ),
    ] {
        let err = RunInput::from_json(doc).expect_err(doc);
        assert!(err.to_string().starts_with(expected), "{doc}: {err}");
    }
}

/// The caller's escapes and number spellings reach the script, which reads
/// them as the tree would: every JSON escape, a surrogate pair, exponents,
/// a large integer, negative zero, in objects large enough to be built
/// lazily and in small ones.
#[tokio::test]
async fn the_script_reads_the_callers_spellings_as_the_tree_does() {
    use serde_json::{Value, json};
    let text = r#"{"token": {"sub": "u"}, "context": {
        "user": {"s": "\u00e9\ud83d\ude00\/\"\\\b\f\n\r\t", "id": "a-long-enough-identifier-to-be-lazy"},
        "n": [1E+2, 1.5e-3, 12345678901234567890123, -0, 0.1],
        "small": {"k": "\u0041"}
    }}"#;
    let input = RunInput::from_json(text).expect("valid");
    let script = crate::compile(
        "const getCustomJwtClaims = async ({ context }) => ({ s: context.user.s, n: context.n, \
         negZero: Object.is(context.n[3], -0), small: context.small, keys: Object.keys(context.user) });",
    )
    .await;
    let report = script
        .run(&input, &claimscript::Grants::default())
        .await
        .expect("run");
    let claims = match report.outcome {
        claimscript::Outcome::Claims { claims, .. } => Value::Object(claims),
        other => panic!("{other:?}"),
    };
    assert_eq!(claims["s"], json!("é😀/\"\\\u{8}\u{c}\n\r\t"));
    assert_eq!(
        claims["n"],
        json!([100, 0.0015, 1.2345678901234568e22, 0, 0.1])
    );
    assert_eq!(claims["negZero"], json!(true));
    assert_eq!(claims["small"], json!({"k": "A"}));
    assert_eq!(claims["keys"], json!(["s", "id"]));
}
