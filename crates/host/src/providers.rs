//! The input mapping: each style's first argument, built from the same
//! `{token, context, environmentVariables}` input.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::input::RunInput;
use crate::style::Style;

/// The script's first argument as JSON text (secrets and functions are
/// added by the runtime).
pub(crate) fn argument(style: Style, input: &RunInput) -> String {
    match style {
        Style::Logto => logto(input),
        Style::Auth0 | Style::LoginRadius => logto(input),
    }
}

/// Logto: `{token, context}` (no `context` when the input has none).
fn logto(input: &RunInput) -> String {
    #[derive(Serialize)]
    struct Argument<'a> {
        token: &'a Map<String, Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        context: Option<&'a Map<String, Value>>,
    }
    let argument = Argument {
        token: &input.token,
        context: input.context.as_ref(),
    };
    // A map of JSON values with string keys always serialises.
    serde_json::to_string(&argument).unwrap_or_else(|_| "{}".into())
}
