//! Input documents and grants files: clear errors, nothing dropped.

use claimscript::{Grants, RunInput, TokenKind};

#[test]
fn logto_test_context_shape() {
    let input = RunInput::from_json(
        r#"{"token": {"kind": "ClientCredentials", "clientId": "c"}, "environmentVariables": {"K": "v"}}"#,
    )
    .expect("valid");
    assert_eq!(input.kind, TokenKind::ClientCredentials);
    assert!(input.context.is_none());
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
