//! The input of a run: Logto's test-context shape.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
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
///
/// The context (user, application, organization, grant, interaction...) is
/// read with [`RunInput::context`] and set with [`RunInput::with_context`]
/// or [`RunInput::set_context`]. An input parsed from text keeps the
/// context as the caller wrote it (validated, whitespace removed) and
/// builds its tree only when something asks for it: a Logto-style run
/// passes the text to the script as it is, so a request's largest part is
/// parsed once, by the script, rather than twice.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunInput {
    /// The token kind; always equal to `token.kind`.
    pub kind: TokenKind,
    /// The token payload (`jti`, `aud`, `scope`, `accountId`, ...).
    pub token: Map<String, Value>,
    /// All environment variables; the grants decide which the script sees.
    pub environment_variables: BTreeMap<String, String>,
    context: Option<Context>,
}

/// A run's context: a tree, or the compact text of a JSON object already
/// checked (syntax, duplicate keys) whose tree is built on first use.
#[derive(Debug, Clone)]
enum Context {
    Tree(Map<String, Value>),
    Text {
        json: Box<str>,
        tree: OnceLock<Map<String, Value>>,
    },
}

impl PartialEq for RunInput {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.token == other.token
            && self.environment_variables == other.environment_variables
            && self.context() == other.context()
    }
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
        self.context = Some(Context::Tree(context));
        self
    }

    /// Add an environment variable.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.environment_variables.insert(name.into(), value.into());
        self
    }

    /// Set or remove the context.
    pub fn set_context(&mut self, context: Option<Map<String, Value>>) {
        self.context = context.map(Context::Tree);
    }

    /// The context (user, application, organization, grant,
    /// interaction...); usually absent for machine-to-machine tokens.
    pub fn context(&self) -> Option<&Map<String, Value>> {
        match self.context.as_ref()? {
            Context::Tree(tree) => Some(tree),
            Context::Text { json, tree } => Some(tree.get_or_init(|| checked_tree(json))),
        }
    }

    /// The context, to change it in place (an input parsed from text
    /// builds the tree here and keeps it).
    pub fn context_mut(&mut self) -> Option<&mut Map<String, Value>> {
        if let Some(Context::Text { json, tree }) = &mut self.context {
            let tree = tree.take().unwrap_or_else(|| checked_tree(json));
            self.context = Some(Context::Tree(tree));
        }
        match &mut self.context {
            Some(Context::Tree(tree)) => Some(tree),
            _ => None,
        }
    }

    /// Append `,"context":` and the context's JSON to `out` when there is
    /// a context: the caller's own text when the input was parsed from
    /// text, without building its tree.
    pub(crate) fn push_context_member(&self, out: &mut String) {
        let Some(context) = &self.context else {
            return;
        };
        out.push_str(",\"context\":");
        match context {
            Context::Text { json, .. } => out.push_str(json),
            Context::Tree(tree) => {
                // A map of JSON values with string keys always serialises.
                out.push_str(&serde_json::to_string(tree).unwrap_or_else(|_| "{}".into()));
            }
        }
    }

    /// The length of the context's text, when the input keeps one (a
    /// capacity hint).
    pub(crate) fn context_len(&self) -> usize {
        match &self.context {
            Some(Context::Text { json, .. }) => json.len(),
            _ => 0,
        }
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
    ///
    /// The text is read twice and no tree is built of the context: once to
    /// check it (syntax, strings, numbers, a key twice in an object), once
    /// to take its three parts apart. The token and the environment
    /// variables become trees; the context stays text (see [`RunInput`]).
    pub fn from_slice_with_limit(bytes: &[u8], max_bytes: usize) -> Result<RunInput, InputError> {
        if bytes.len() > max_bytes {
            return Err(InputError::too_large(bytes.len(), max_bytes));
        }
        let mut keys = Vec::new();
        let mut reader = serde_json::Deserializer::from_slice(bytes);
        let top = Checked { keys: &mut keys }
            .deserialize(&mut reader)
            // Nothing but whitespace after the document.
            .and_then(|top| reader.end().map(|()| top))
            .map_err(parse_error)?;
        if top != Shape::Object {
            return Err(InputError::new(
                "the input must be a JSON object with a `token` key",
            ));
        }
        let parts: Vec<(Cow<'_, str>, &RawValue)> = serde_json::from_slice::<Parts<'_>>(bytes)
            .map_err(parse_error)?
            .0;
        let mut token = None;
        let mut context = None;
        let mut env = None;
        for (key, value) in parts {
            match &*key {
                "token" => token = Some(value),
                "context" => context = Some(value),
                "environmentVariables" => env = Some(value),
                _ => return Err(unknown_key(&key)),
            }
        }
        let tree = |raw: &RawValue| serde_json::from_str::<Value>(raw.get()).map_err(parse_error);
        let token = match token.map(tree).transpose()? {
            Some(Value::Object(token)) => token,
            Some(other) => return Err(not_an_object("token", &other)),
            None => return Err(missing_token()),
        };
        let kind = token_kind(&token)?;
        let context = match context {
            Some(raw) if raw.get().starts_with('{') => Some(Context::Text {
                json: compact(raw.get()).into_boxed_str(),
                tree: OnceLock::new(),
            }),
            Some(raw) if raw.get() == "null" => None,
            Some(raw) => return Err(not_an_object("context", &tree(raw)?)),
            None => None,
        };
        let environment_variables = env_vars(env.map(tree).transpose()?)?;
        let mut input = RunInput::new(kind, token);
        input.context = context;
        input.environment_variables = environment_variables;
        Ok(input)
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
            return Err(unknown_key(key));
        }
        let token = match doc.remove("token") {
            Some(Value::Object(token)) => token,
            Some(other) => return Err(not_an_object("token", &other)),
            None => return Err(missing_token()),
        };
        let kind = token_kind(&token)?;
        let context = match doc.remove("context") {
            None | Some(Value::Null) => None,
            Some(Value::Object(c)) => Some(Context::Tree(c)),
            Some(other) => return Err(not_an_object("context", &other)),
        };
        let environment_variables = env_vars(doc.remove("environmentVariables"))?;
        let mut input = RunInput::new(kind, token);
        input.context = context;
        input.environment_variables = environment_variables;
        Ok(input)
    }
}

/// The tree of a context's text, checked when the input was parsed: an
/// object that parsed once parses again.
fn checked_tree(json: &str) -> Map<String, Value> {
    let parsed = serde_json::from_str(json);
    debug_assert!(parsed.is_ok(), "a checked context must parse");
    parsed.unwrap_or_default()
}

fn unknown_key(key: &str) -> InputError {
    InputError::new(format!(
        "unknown key `{key}` (expected token, context, environmentVariables)"
    ))
}

fn missing_token() -> InputError {
    InputError::new("missing `token` (the token payload object)")
}

fn not_an_object(key: &str, value: &Value) -> InputError {
    InputError::new(format!(
        "`{key}` must be an object, got {}",
        type_name(value)
    ))
}

fn token_kind(token: &Map<String, Value>) -> Result<TokenKind, InputError> {
    match token.get("kind") {
        None => Ok(TokenKind::AccessToken),
        Some(Value::String(k)) if k == "AccessToken" => Ok(TokenKind::AccessToken),
        Some(Value::String(k)) if k == "ClientCredentials" => Ok(TokenKind::ClientCredentials),
        Some(other) => Err(InputError::new(format!(
            "`token.kind` must be \"AccessToken\" or \"ClientCredentials\", got {other}"
        ))),
    }
}

fn env_vars(value: Option<Value>) -> Result<BTreeMap<String, String>, InputError> {
    match value {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(vars)) => vars
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                other => Err(InputError::new(format!(
                    "`environmentVariables.{k}` must be a string, got {}",
                    type_name(&other)
                ))),
            })
            .collect(),
        Some(other) => Err(InputError::new(format!(
            "`environmentVariables` must be an object of strings, got {}",
            type_name(&other)
        ))),
    }
}

/// serde_json's error as an input error, its position said once, first.
fn parse_error(e: serde_json::Error) -> InputError {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);
    InputError {
        message: format!("line {}, column {}: {message}", e.line(), e.column()),
        position: Some((e.line(), e.column())),
        syntax: e.is_syntax() || e.is_eof(),
    }
}

/// The type of a checked JSON value; only whether the document is an
/// object matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Object,
    Other,
}

/// Objects with this many keys or fewer are checked for a key twice by
/// comparing each key with those before it; larger ones through a set, so
/// that one object of many keys costs linear time.
const LINEAR_KEYS: usize = 16;

/// Checks a JSON value without building it: every string decoded (escapes,
/// surrogates), every number read, and no object with a key twice
/// (serde_json's `Value` keeps the last of duplicate keys silently; this
/// refuses them, and serde_json adds the line and column). The keys of the
/// objects being read are kept on one stack shared by all levels, borrowed
/// from the text where they have no escapes.
struct Checked<'k, 'de> {
    keys: &'k mut Vec<Cow<'de, str>>,
}

impl<'de> DeserializeSeed<'de> for Checked<'_, 'de> {
    type Value = Shape;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Checked<'_, 'de> {
    type Value = Shape;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        while seq
            .next_element_seed(Checked {
                keys: &mut *self.keys,
            })?
            .is_some()
        {}
        Ok(Shape::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let base = self.keys.len();
        let mut many: Option<HashSet<Cow<'de, str>>> = None;
        while let Some(Key(key)) = map.next_key()? {
            let twice = match &many {
                Some(set) => set.contains(&key),
                None => self.keys[base..].contains(&key),
            };
            if twice {
                return Err(serde::de::Error::custom(format!(
                    "duplicate key {:?}: each key may appear once in an object",
                    &*key
                )));
            }
            match &mut many {
                Some(set) => {
                    set.insert(key);
                }
                None => {
                    self.keys.push(key);
                    if self.keys.len() - base > LINEAR_KEYS {
                        many = Some(self.keys.drain(base..).collect());
                    }
                }
            }
            map.next_value_seed(Checked {
                keys: &mut *self.keys,
            })?;
        }
        self.keys.truncate(base);
        Ok(Shape::Object)
    }
}

/// An object key, borrowed from the text unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// A checked document's top-level members, each value as its text.
struct Parts<'de>(Vec<(Cow<'de, str>, &'de RawValue)>);

impl<'de> serde::Deserialize<'de> for Parts<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PartsVisitor;
        impl<'de> Visitor<'de> for PartsVisitor {
            type Value = Parts<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parts<'de>, A::Error> {
                let mut parts = Vec::with_capacity(3);
                while let Some(Key(key)) = map.next_key()? {
                    parts.push((key, map.next_value()?));
                }
                Ok(Parts(parts))
            }
        }
        d.deserialize_map(PartsVisitor)
    }
}

/// `json` (valid JSON) without the whitespace between its tokens. Strings
/// are copied whole, their ends found with `memchr`; only the structure
/// between them is read byte by byte. Every cut is at an ASCII byte (a
/// quote or a structural character), so the slices are whole characters.
fn compact(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len());
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if byte == b'"' {
            // The string's end: the first quote not escaped.
            let mut end = at + 1;
            while let Some(found) = memchr::memchr2(b'"', b'\\', &bytes[end..]) {
                end += found;
                if bytes[end] == b'\\' {
                    end += 2;
                } else {
                    break;
                }
            }
            let end = (end + 1).min(bytes.len());
            out.push_str(json.get(at..end).unwrap_or_default());
            at = end;
        } else {
            if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                // Outside strings, valid JSON is ASCII.
                out.push(char::from(byte));
            }
            at += 1;
        }
    }
    out
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
