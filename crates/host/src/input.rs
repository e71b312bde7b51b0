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
    /// Where in the text, for errors found while parsing it.
    position: Option<(usize, usize)>,
    syntax: bool,
}

impl InputError {
    fn new(message: impl Into<String>) -> Self {
        InputError {
            message: message.into(),
            position: None,
            syntax: false,
        }
    }

    /// The line and column (both from 1) of the error in the JSON text,
    /// when it was found while parsing it (malformed JSON, a duplicate
    /// key); `None` for an error in the document's shape.
    pub fn position(&self) -> Option<(usize, usize)> {
        self.position
    }

    /// Whether the text is not JSON at all (a syntax error or a truncated
    /// document), as opposed to JSON that is not a valid input.
    pub fn is_syntax(&self) -> bool {
        self.syntax
    }

    /// An input of `len` bytes over the limit `max`.
    pub(crate) fn too_large(len: usize, max: usize) -> Self {
        InputError::new(format!(
            "the input is {len} bytes; the limit is {max} bytes (max_input_bytes)"
        ))
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
    /// Unknown keys are rejected rather than ignored, and so is a key that
    /// appears twice in one object (at its line and column), and a text over
    /// [`DEFAULT_MAX_INPUT_BYTES`](crate::DEFAULT_MAX_INPUT_BYTES) (before
    /// it is parsed; see [`RunInput::from_json_with_limit`]).
    pub fn from_json(text: &str) -> Result<RunInput, InputError> {
        RunInput::from_json_with_limit(text, crate::DEFAULT_MAX_INPUT_BYTES)
    }

    /// [`RunInput::from_json`] with another size limit, in bytes (an
    /// embedder's [`EngineConfig::max_input_bytes`](crate::EngineConfig::max_input_bytes)).
    pub fn from_json_with_limit(text: &str, max_bytes: usize) -> Result<RunInput, InputError> {
        RunInput::from_slice_with_limit(text.as_bytes(), max_bytes)
    }

    /// [`RunInput::from_json_with_limit`] from bytes, as they arrive in a
    /// request body; text that is not UTF-8 is a syntax error.
    pub fn from_slice_with_limit(bytes: &[u8], max_bytes: usize) -> Result<RunInput, InputError> {
        if bytes.len() > max_bytes {
            return Err(InputError::too_large(bytes.len(), max_bytes));
        }
        let value: Value = serde_json::from_slice::<Unique>(bytes)
            .map(|unique| unique.0)
            .map_err(|e| {
                // serde_json ends its message with the position; said once, first.
                let message = e.to_string();
                let suffix = format!(" at line {} column {}", e.line(), e.column());
                let message = message.strip_suffix(&suffix).unwrap_or(&message);
                InputError {
                    message: format!("line {}, column {}: {message}", e.line(), e.column()),
                    position: Some((e.line(), e.column())),
                    syntax: e.is_syntax() || e.is_eof(),
                }
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

/// A JSON value whose objects have no key twice: serde_json's `Value`
/// keeps the last of duplicate keys silently; this refuses them, and
/// serde_json adds the line and column.
struct Unique(Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::Deserialize::deserialize(d).map(|u: Unique| u.0)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // One lookup per key: the entry is the duplicate check.
            match out.entry(key) {
                serde_json::map::Entry::Occupied(e) => {
                    return Err(serde::de::Error::custom(format!(
                        "duplicate key {:?}: each key may appear once in an object",
                        e.key()
                    )));
                }
                serde_json::map::Entry::Vacant(slot) => {
                    let Unique(value) = map.next_value()?;
                    slot.insert(value);
                }
            }
        }
        Ok(Value::Object(out))
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
