//! The input of a run: Logto's test-context shape.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Which token a run is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// A user access token (`kind: "AccessToken"`).
    AccessToken,
    /// A machine-to-machine token (`kind: "ClientCredentials"`).
    ClientCredentials,
}

impl TokenKind {
    /// The name used in `token.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::AccessToken => "AccessToken",
            TokenKind::ClientCredentials => "ClientCredentials",
        }
    }
}

/// The input of one run: the token payload, the context and the environment
/// variables, as an identity server would pass them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunInput {
    /// The token kind; always equal to `token.kind`.
    pub kind: TokenKind,
    /// The token payload (`jti`, `aud`, `scope`, `accountId`, ...).
    pub token: Map<String, Value>,
    /// The context (user, application, organization, grant, interaction...);
    /// usually absent for machine-to-machine tokens.
    pub context: Option<Map<String, Value>>,
    /// All environment variables; the grants decide which the script sees.
    pub environment_variables: BTreeMap<String, String>,
}

/// Why an input document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    message: String,
}

impl InputError {
    fn new(message: impl Into<String>) -> Self {
        InputError {
            message: message.into(),
        }
    }
}

impl RunInput {
    /// Input for a token of `kind` with this payload; `token.kind` is set to
    /// match.
    pub fn new(kind: TokenKind, mut token: Map<String, Value>) -> RunInput {
        token.insert("kind".into(), Value::String(kind.as_str().into()));
        RunInput {
            kind,
            token,
            context: None,
            environment_variables: BTreeMap::new(),
        }
    }

    /// Set the context.
    pub fn with_context(mut self, context: Map<String, Value>) -> Self {
        self.context = Some(context);
        self
    }

    /// Add an environment variable.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.environment_variables.insert(name.into(), value.into());
        self
    }

    /// Parse `{"token": {...}, "context": {...}, "environmentVariables": {...}}`
    /// (`context` and `environmentVariables` optional). `token.kind` is
    /// `"AccessToken"` (the default when absent) or `"ClientCredentials"`.
    /// Unknown keys are rejected rather than ignored.
    pub fn from_json(text: &str) -> Result<RunInput, InputError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            // serde_json ends its message with the position; said once, first.
            let message = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            let message = message.strip_suffix(&suffix).unwrap_or(&message);
            InputError::new(format!(
                "line {}, column {}: {message}",
                e.line(),
                e.column()
            ))
        })?;
        RunInput::from_value(value)
    }

    /// Same as [`RunInput::from_json`], from a parsed document.
    pub fn from_value(value: Value) -> Result<RunInput, InputError> {
        let Value::Object(mut doc) = value else {
            return Err(InputError::new(
                "the input must be a JSON object with a `token` key",
            ));
        };
        if let Some(key) = doc
            .keys()
            .find(|k| !["token", "context", "environmentVariables"].contains(&k.as_str()))
        {
            return Err(InputError::new(format!(
                "unknown key `{key}` (expected token, context, environmentVariables)"
            )));
        }
        let token = match doc.remove("token") {
            Some(Value::Object(token)) => token,
            Some(other) => {
                return Err(InputError::new(format!(
                    "`token` must be an object, got {}",
                    type_name(&other)
                )));
            }
            None => {
                return Err(InputError::new(
                    "missing `token` (the token payload object)",
                ));
            }
        };
        let kind = match token.get("kind") {
            None => TokenKind::AccessToken,
            Some(Value::String(k)) if k == "AccessToken" => TokenKind::AccessToken,
            Some(Value::String(k)) if k == "ClientCredentials" => TokenKind::ClientCredentials,
            Some(other) => {
                return Err(InputError::new(format!(
                    "`token.kind` must be \"AccessToken\" or \"ClientCredentials\", got {other}"
                )));
            }
        };
        let context = match doc.remove("context") {
            None | Some(Value::Null) => None,
            Some(Value::Object(c)) => Some(c),
            Some(other) => {
                return Err(InputError::new(format!(
                    "`context` must be an object, got {}",
                    type_name(&other)
                )));
            }
        };
        let environment_variables = match doc.remove("environmentVariables") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(vars)) => vars
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k, s)),
                    other => Err(InputError::new(format!(
                        "`environmentVariables.{k}` must be a string, got {}",
                        type_name(&other)
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(InputError::new(format!(
                    "`environmentVariables` must be an object of strings, got {}",
                    type_name(&other)
                )));
            }
        };
        let mut input = RunInput::new(kind, token);
        input.context = context;
        input.environment_variables = environment_variables;
        Ok(input)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
