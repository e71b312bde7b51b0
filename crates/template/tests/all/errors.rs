//! Malformed templates: each is rejected at load time with its place.

use claimscript_template::ErrorKind;

use crate::{fixture, rejected};

/// Asserts kind, line, column, pointer and message of the error for `text`.
#[track_caller]
fn check(text: &str, kind: ErrorKind, line: usize, column: usize, pointer: &str, message: &str) {
    let err = rejected(text);
    assert_eq!(
        (
            err.kind(),
            err.line(),
            err.column(),
            err.pointer(),
            err.message()
        ),
        (kind, line, column, pointer, message),
        "for template {text:?}: {err}"
    );
}

/// Like [`check`], for the message's start only.
#[track_caller]
fn check_prefix(
    text: &str,
    kind: ErrorKind,
    line: usize,
    column: usize,
    pointer: &str,
    start: &str,
) {
    let err = rejected(text);
    assert_eq!(
        (err.kind(), err.line(), err.column(), err.pointer()),
        (kind, line, column, pointer),
        "for template {text:?}: {err}"
    );
    assert!(
        err.message().starts_with(start),
        "for template {text:?}: {err}"
    );
}

const UNCLOSED: &str = "unclosed placeholder: expected }}";

#[test]
fn display_names_line_column_pointer_and_message() {
    let err = rejected(&fixture("broken_unclosed.json"));
    assert_eq!(
        err.to_string(),
        "line 3, column 33 (/full_name): unclosed placeholder: expected }}"
    );
    let err = rejected("[1, 2]");
    assert_eq!(
        err.to_string(),
        "line 1, column 1: the template must be a JSON object at the top level, got an array"
    );
}

#[test]
fn errors_in_nested_values_point_into_them() {
    let err = rejected(&fixture("broken_nested.json"));
    assert_eq!(
        err.to_string(),
        "line 6, column 17 (/profile/emails/1): invalid path segment: expected a key or an array index after '.'"
    );
    check(
        r#"{"a": [1, {"b": ["x", "{{ }}"]}]}"#,
        ErrorKind::EmptyExpression,
        1,
        24,
        "/a/1/b/1",
        "empty expression: expected a path or literal between {{ and }}",
    );
}

#[test]
fn pointer_tokens_are_escaped() {
    check(
        r#"{"a/b~c": "{{ }}"}"#,
        ErrorKind::EmptyExpression,
        1,
        12,
        "/a~1b~0c",
        "empty expression: expected a path or literal between {{ and }}",
    );
    check(
        r#"{"": "{{ }}"}"#,
        ErrorKind::EmptyExpression,
        1,
        7,
        "/",
        "empty expression: expected a path or literal between {{ and }}",
    );
}

#[test]
fn unclosed_placeholders_point_at_the_opening_braces() {
    check(
        r#"{"v": "{{ a "}"#,
        ErrorKind::UnclosedPlaceholder,
        1,
        8,
        "/v",
        UNCLOSED,
    );
    check(
        r#"{"v": "{{"}"#,
        ErrorKind::UnclosedPlaceholder,
        1,
        8,
        "/v",
        UNCLOSED,
    );
    check(
        r#"{"v": "ok {{ a }} then {{ b"}"#,
        ErrorKind::UnclosedPlaceholder,
        1,
        24,
        "/v",
        UNCLOSED,
    );
    check(
        r#"{"v": "{{ a }"}"#,
        ErrorKind::UnclosedPlaceholder,
        1,
        8,
        "/v",
        UNCLOSED,
    );
    check(
        r#"{"v": "{{ a ||"}"#,
        ErrorKind::UnclosedPlaceholder,
        1,
        8,
        "/v",
        UNCLOSED,
    );
    check(
        r#"{"v": "{{ a."}"#,
        ErrorKind::UnclosedPlaceholder,
        1,
        8,
        "/v",
        UNCLOSED,
    );
    check(
        r#"{"v": "{{ a.b"}"#,
        ErrorKind::UnclosedPlaceholder,
        1,
        8,
        "/v",
        UNCLOSED,
    );
}

#[test]
fn empty_expressions() {
    let msg = "empty expression: expected a path or literal between {{ and }}";
    check(
        r#"{"v": "{{ }}"}"#,
        ErrorKind::EmptyExpression,
        1,
        8,
        "/v",
        msg,
    );
    check(
        r#"{"v": "{{}}"}"#,
        ErrorKind::EmptyExpression,
        1,
        8,
        "/v",
        msg,
    );
    check(
        r#"{"v": "x {{ \n\t }}"}"#,
        ErrorKind::EmptyExpression,
        1,
        10,
        "/v",
        msg,
    );
}

#[test]
fn or_without_an_operand() {
    let after = "|| without an operand: expected a path or literal after it";
    let before = "|| without an operand: expected a path or literal before it";
    check(
        r#"{"v": "{{ a || }}"}"#,
        ErrorKind::MissingOperand,
        1,
        13,
        "/v",
        after,
    );
    check(
        r#"{"v": "{{ a ||}}"}"#,
        ErrorKind::MissingOperand,
        1,
        13,
        "/v",
        after,
    );
    check(
        r#"{"v": "{{ || a }}"}"#,
        ErrorKind::MissingOperand,
        1,
        11,
        "/v",
        before,
    );
    check(
        r#"{"v": "{{||}}"}"#,
        ErrorKind::MissingOperand,
        1,
        10,
        "/v",
        before,
    );
    check(
        r#"{"v": "{{ a || || b }}"}"#,
        ErrorKind::MissingOperand,
        1,
        13,
        "/v",
        after,
    );
    check(
        r#"{"v": "{{ a |||| b }}"}"#,
        ErrorKind::MissingOperand,
        1,
        13,
        "/v",
        after,
    );
}

#[test]
fn unterminated_literals_point_at_the_opening_quote() {
    check(
        r#"{"v": "{{ 'abc }}"}"#,
        ErrorKind::UnterminatedString,
        1,
        11,
        "/v",
        "unterminated string literal: expected a closing '",
    );
    // The double quote is written \" in the JSON text: the column is its backslash.
    check(
        r#"{"v": "{{ \"abc }}"}"#,
        ErrorKind::UnterminatedString,
        1,
        11,
        "/v",
        "unterminated string literal: expected a closing \"",
    );
    check(
        r#"{"v": "{{ a || 'x\\' }}"}"#,
        ErrorKind::UnterminatedString,
        1,
        16,
        "/v",
        "unterminated string literal: expected a closing '",
    );
    check(
        r#"{"v": "{{ 'x\\"}"#,
        ErrorKind::UnterminatedString,
        1,
        11,
        "/v",
        "unterminated string literal: expected a closing '",
    );
}

#[test]
fn invalid_escapes_point_at_the_backslash() {
    check_prefix(
        r#"{"v": "{{ 'a\\q' }}"}"#,
        ErrorKind::InvalidEscape,
        1,
        13,
        "/v",
        "invalid escape \\q in string literal",
    );
    check_prefix(
        r#"{"v": "{{ 'a\\r' }}"}"#,
        ErrorKind::InvalidEscape,
        1,
        13,
        "/v",
        "invalid escape \\r in string literal",
    );
    check_prefix(
        r#"{"v": "{{ '\\u12' }}"}"#,
        ErrorKind::InvalidEscape,
        1,
        12,
        "/v",
        "invalid escape in string literal: \\u must be followed by 4 hex digits",
    );
    check_prefix(
        r#"{"v": "{{ '\\ud800' }}"}"#,
        ErrorKind::InvalidEscape,
        1,
        12,
        "/v",
        "invalid escape in string literal: \\u escape is an unpaired surrogate",
    );
    check_prefix(
        r#"{"v": "{{ '\\udc00' }}"}"#,
        ErrorKind::InvalidEscape,
        1,
        12,
        "/v",
        "invalid escape in string literal: \\u escape is an unpaired surrogate",
    );
    check_prefix(
        r#"{"v": "{{ '\\ud800\\u0041' }}"}"#,
        ErrorKind::InvalidEscape,
        1,
        12,
        "/v",
        "invalid escape in string literal: \\u escape is an unpaired surrogate",
    );
}

#[test]
fn invalid_path_segments() {
    let empty = "invalid path segment: expected a key or an array index after '.'";
    check(
        r#"{"v": "{{ a..b }}"}"#,
        ErrorKind::InvalidPathSegment,
        1,
        13,
        "/v",
        empty,
    );
    check(
        r#"{"v": "{{ a. }}"}"#,
        ErrorKind::InvalidPathSegment,
        1,
        13,
        "/v",
        empty,
    );
    check(
        r#"{"v": "{{ a.}}"}"#,
        ErrorKind::InvalidPathSegment,
        1,
        13,
        "/v",
        empty,
    );
    check(
        r#"{"v": "{{ a.b. || 'x' }}"}"#,
        ErrorKind::InvalidPathSegment,
        1,
        15,
        "/v",
        empty,
    );
    check(
        r#"{"v": "{{ a. b }}"}"#,
        ErrorKind::InvalidPathSegment,
        1,
        13,
        "/v",
        empty,
    );
    check_prefix(
        r#"{"v": "{{ a.1b }}"}"#,
        ErrorKind::InvalidPathSegment,
        1,
        13,
        "/v",
        "invalid path segment \"1b\": a segment is a name",
    );
    check_prefix(
        r#"{"v": "{{ a.-1 }}"}"#,
        ErrorKind::InvalidPathSegment,
        1,
        13,
        "/v",
        "invalid path segment \"-1\"",
    );
}

#[test]
fn invalid_number_literals() {
    check(
        r#"{"v": "{{ 01 }}"}"#,
        ErrorKind::InvalidNumber,
        1,
        11,
        "/v",
        "invalid number literal: leading zeros are not allowed",
    );
    check(
        r#"{"v": "{{ - }}"}"#,
        ErrorKind::InvalidNumber,
        1,
        12,
        "/v",
        "invalid number literal: expected a digit after '-'",
    );
    check_prefix(
        r#"{"v": "{{ 1. }}"}"#,
        ErrorKind::InvalidNumber,
        1,
        13,
        "/v",
        "invalid number literal: expected a digit after '.'",
    );
    check_prefix(
        r#"{"v": "{{ 0.Value }}"}"#,
        ErrorKind::InvalidNumber,
        1,
        13,
        "/v",
        "invalid number literal: expected a digit after '.'",
    );
    check(
        r#"{"v": "{{ 1e }}"}"#,
        ErrorKind::InvalidNumber,
        1,
        13,
        "/v",
        "invalid number literal: expected a digit in the exponent",
    );
    check_prefix(
        r#"{"v": "{{ 1a }}"}"#,
        ErrorKind::InvalidNumber,
        1,
        12,
        "/v",
        "invalid number literal: unexpected character 'a' after it",
    );
    check(
        r#"{"v": "{{ 1e999 }}"}"#,
        ErrorKind::InvalidNumber,
        1,
        11,
        "/v",
        "invalid number literal: 1e999 is out of range",
    );
}

#[test]
fn unexpected_characters() {
    check(
        r#"{"v": "{{ a b }}"}"#,
        ErrorKind::UnexpectedCharacter,
        1,
        13,
        "/v",
        "unexpected character 'b'",
    );
    check(
        r#"{"v": "{{ @ }}"}"#,
        ErrorKind::UnexpectedCharacter,
        1,
        11,
        "/v",
        "unexpected character '@'",
    );
    check(
        r#"{"v": "{{ {{ a }} }}"}"#,
        ErrorKind::UnexpectedCharacter,
        1,
        11,
        "/v",
        "unexpected character '{'",
    );
    check(
        r#"{"v": "{{ 'a' 'b' }}"}"#,
        ErrorKind::UnexpectedCharacter,
        1,
        15,
        "/v",
        "unexpected character '\\''",
    );
    check(
        r#"{"v": "{{ a[0] }}"}"#,
        ErrorKind::UnexpectedCharacter,
        1,
        12,
        "/v",
        "unexpected character '[': write array indexes as path segments, like Email.0",
    );
    check(
        r#"{"v": "{{ a | b }}"}"#,
        ErrorKind::UnexpectedCharacter,
        1,
        13,
        "/v",
        "unexpected character '|': the fallback operator is ||",
    );
    check(
        r#"{"v": "{{ a } }}"}"#,
        ErrorKind::UnexpectedCharacter,
        1,
        13,
        "/v",
        "unexpected character '}': a placeholder ends with }}",
    );
    check(
        r#"{"v": "{{ a .b }}"}"#,
        ErrorKind::UnexpectedCharacter,
        1,
        13,
        "/v",
        "unexpected character '.'",
    );
    check(
        r#"{"v": "{{ .a }}"}"#,
        ErrorKind::UnexpectedCharacter,
        1,
        11,
        "/v",
        "unexpected character '.'",
    );
}

#[test]
fn columns_count_characters_and_follow_json_escapes() {
    // é is two bytes but one column.
    check(
        r#"{"v": "été {{ a b }}"}"#,
        ErrorKind::UnexpectedCharacter,
        1,
        17,
        "/v",
        "unexpected character 'b'",
    );
    // \u00e9 is six characters of text for one decoded character.
    check(
        r#"{"v": "\u00e9{{ }}"}"#,
        ErrorKind::EmptyExpression,
        1,
        14,
        "/v",
        "empty expression: expected a path or literal between {{ and }}",
    );
    // \n inside the JSON string is two characters of text, not a new line.
    check(
        r#"{"v": "a\nb {{ }}"}"#,
        ErrorKind::EmptyExpression,
        1,
        13,
        "/v",
        "empty expression: expected a path or literal between {{ and }}",
    );
    // An escaped "{" still opens a placeholder, and the column is its escape.
    check(
        r#"{"v": "\u007b{ }}"}"#,
        ErrorKind::EmptyExpression,
        1,
        8,
        "/v",
        "empty expression: expected a path or literal between {{ and }}",
    );
    // A surrogate pair is one character.
    check(
        r#"{"v": "\ud83d\ude00 {{ a b }}"}"#,
        ErrorKind::UnexpectedCharacter,
        1,
        26,
        "/v",
        "unexpected character 'b'",
    );
}

#[test]
fn lines_and_columns_across_lines() {
    let text =
        "{\n  \"a\": 1,\n  \"b\": {\n\t\"c\": [\n      \"ok\", \"{{ x || }}\"\n    ]\n  }\n}";
    check(
        text,
        ErrorKind::MissingOperand,
        5,
        19,
        "/b/c/1",
        "|| without an operand: expected a path or literal after it",
    );
    // CRLF line ends: \r is a column of the line before \n.
    let text = "{\r\n  \"a\": \"{{ }}\"\r\n}";
    check(
        text,
        ErrorKind::EmptyExpression,
        2,
        9,
        "/a",
        "empty expression: expected a path or literal between {{ and }}",
    );
}

#[test]
fn duplicate_keys_point_at_the_second_key() {
    check(
        r#"{"a": 1, "a": 2}"#,
        ErrorKind::DuplicateKey,
        1,
        10,
        "/a",
        "duplicate key \"a\": each key may appear once in an object",
    );
    let text =
        "{\n  \"claims\": {\n    \"email\": \"{{ Email.0.Value }}\",\n    \"email\": \"x\"\n  }\n}";
    check(
        text,
        ErrorKind::DuplicateKey,
        4,
        5,
        "/claims/email",
        "duplicate key \"email\": each key may appear once in an object",
    );
    // Keys compare after decoding escapes.
    check(
        r#"{"é": 1, "\u00e9": 2}"#,
        ErrorKind::DuplicateKey,
        1,
        10,
        "/é",
        "duplicate key \"é\": each key may appear once in an object",
    );
    // The same key in different objects is fine.
    crate::template(r#"{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}"#);
}

#[test]
fn the_template_must_be_an_object() {
    let msg = |got: &str| format!("the template must be a JSON object at the top level, got {got}");
    check("[1, 2]", ErrorKind::NotAnObject, 1, 1, "", &msg("an array"));
    check(
        "  \"{{ a }}\"",
        ErrorKind::NotAnObject,
        1,
        3,
        "",
        &msg("a string"),
    );
    check("\n 42", ErrorKind::NotAnObject, 2, 2, "", &msg("a number"));
    check("true", ErrorKind::NotAnObject, 1, 1, "", &msg("a boolean"));
    check("null", ErrorKind::NotAnObject, 1, 1, "", &msg("null"));
}

#[test]
fn invalid_json_uses_serde_json_positions() {
    check(
        r#"{"a": }"#,
        ErrorKind::InvalidJson,
        1,
        7,
        "",
        "invalid JSON: expected value",
    );
    check(
        r#"{"a": 1,}"#,
        ErrorKind::InvalidJson,
        1,
        9,
        "",
        "invalid JSON: trailing comma",
    );
    check(
        "{\n  \"a\": 1\n  \"b\": 2\n}",
        ErrorKind::InvalidJson,
        3,
        3,
        "",
        "invalid JSON: expected `,` or `}`",
    );
    check(
        "",
        ErrorKind::InvalidJson,
        1,
        1,
        "",
        "invalid JSON: EOF while parsing a value",
    );
    check(
        r#"{"a": 1} x"#,
        ErrorKind::InvalidJson,
        1,
        10,
        "",
        "invalid JSON: trailing characters",
    );
    check(
        "{// no comments\n}",
        ErrorKind::InvalidJson,
        1,
        2,
        "",
        "invalid JSON: key must be a string",
    );
    check(
        "{'a': 1}",
        ErrorKind::InvalidJson,
        1,
        2,
        "",
        "invalid JSON: key must be a string",
    );
    // serde_json counts bytes; the column here counts characters.
    check(
        r#"{"é": x}"#,
        ErrorKind::InvalidJson,
        1,
        7,
        "",
        "invalid JSON: expected value",
    );
    // Invalid JSON is reported before any placeholder problem.
    check(
        r#"{"v": "{{ ", }"#,
        ErrorKind::InvalidJson,
        1,
        14,
        "",
        "invalid JSON: trailing comma",
    );
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let depth = 10_000;
    let text = format!("{{\"a\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    let err = rejected(&text);
    assert_eq!(err.kind(), ErrorKind::InvalidJson);
    assert!(err.message().contains("recursion limit exceeded"), "{err}");
}

#[test]
fn only_the_first_problem_is_reported() {
    check(
        r#"{"a": "{{ ok }}", "b": "{{ x.. }}", "c": "{{ }}"}"#,
        ErrorKind::InvalidPathSegment,
        1,
        30,
        "/b",
        "invalid path segment: expected a key or an array index after '.'",
    );
}
