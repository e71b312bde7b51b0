//! Parsing and mapping helpers shared by the protocols.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::Protocol;
use crate::error::{HookError, Location};

/// Parse `body` as JSON (syntax errors at line and column), then as `T`
/// (shape errors at a JSON pointer). Returns the typed request and the raw
/// document.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<(T, Value), HookError> {
    let raw: Value = serde_json::from_slice(body).map_err(|e| {
        let message = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let what = message
            .strip_suffix(&suffix)
            .unwrap_or(&message)
            .to_string();
        HookError::Malformed {
            what,
            at: Location::LineColumn {
                line: e.line(),
                column: e.column(),
            },
        }
    })?;
    if !raw.is_object() {
        return Err(HookError::shape("expected a JSON object", ""));
    }
    let typed = serde_path_to_error::deserialize(&raw).map_err(|e| {
        let pointer = pointer_of(e.path());
        HookError::shape(truncate(e.inner().to_string()), pointer)
    })?;
    Ok((typed, raw))
}

/// The longest shape-error message kept: serde quotes offending string
/// values, which may be long or personal.
const MAX_MESSAGE_BYTES: usize = 200;

fn truncate(mut message: String) -> String {
    if message.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            Segment::Map { key } => {
                out.push('/');
                out.push_str(&crate::respond::json_pointer_escape(key));
            }
            Segment::Enum { variant } => {
                out.push('/');
                out.push_str(&crate::respond::json_pointer_escape(variant));
            }
            Segment::Unknown => out.push_str("/?"),
        }
    }
    out
}

/// Builds a JSON object, leaving out absent and null fields.
#[derive(Debug, Default)]
pub(crate) struct Fields(Map<String, Value>);

impl Fields {
    pub(crate) fn new() -> Fields {
        Fields::default()
    }

    pub(crate) fn set(mut self, key: &str, value: Option<Value>) -> Self {
        if let Some(value) = value.filter(|v| !v.is_null()) {
            self.0.insert(key.to_string(), value);
        }
        self
    }

    pub(crate) fn str(self, key: &str, value: Option<&str>) -> Self {
        self.set(
            key,
            value
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string())),
        )
    }

    pub(crate) fn done(self) -> Map<String, Value> {
        self.0
    }
}

/// Logto role objects (`{id, name, description, scopes}`) for role or group
/// names, deduplicated, in order.
pub(crate) fn role_objects<'a>(names: impl IntoIterator<Item = &'a str>) -> Value {
    let mut seen: Vec<&str> = Vec::new();
    for name in names {
        if !name.is_empty() && !seen.contains(&name) {
            seen.push(name);
        }
    }
    Value::Array(
        seen.into_iter()
            .map(|name| json!({ "id": name, "name": name, "description": "", "scopes": [] }))
            .collect(),
    )
}

/// `context.hook`: the provider's name and its raw payload.
pub(crate) fn hook_context(protocol: Protocol, raw: &Value) -> Value {
    json!({ "provider": protocol.as_str(), "payload": raw })
}

/// `Some(s)` when `s` is a non-empty string value.
pub(crate) fn non_empty(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}
