//! What a run produced: the outcome, the console records and the statistics.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

/// The result of one run, as the CLI prints it (see [`RunReport::to_json`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunReport {
    /// Claims, denial or error.
    pub outcome: Outcome,
    /// The script's `console` records, in order.
    pub logs: Vec<LogRecord>,
    /// Resource use.
    pub stats: RunStats,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// The script returned claims.
    Claims {
        /// Access-token claims, protected claims removed.
        claims: Map<String, Value>,
        /// ID-token claims, when the script set any (Auth0's and
        /// LoginRadius's `idToken.setCustomClaim`).
        id_token_claims: Option<Map<String, Value>>,
        /// Protected claims the script tried to set in the access token,
        /// which were removed ([`crate::PROTECTED_CLAIMS`]).
        dropped: Vec<String>,
        /// Protected claims the script tried to set in the ID token, which
        /// were removed ([`crate::is_protected_in_id_token`]).
        id_token_dropped: Vec<String>,
        /// Scopes the script added to or removed from the access token
        /// (Auth0's `addScope`/`removeScope`); the issuer decides whether to
        /// apply them.
        scopes: ScopeChanges,
    },
    /// The script blocked issuance.
    Denied(Denial),
    /// The script failed or broke a limit.
    Error(ScriptError),
}

/// Scope changes a script asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ScopeChanges {
    /// Scopes to add, in order.
    pub added: Vec<String>,
    /// Scopes to remove, in order.
    pub removed: Vec<String>,
}

impl ScopeChanges {
    /// No change.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// A denial: `api.denyAccess(message)` or a provider's equivalent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Denial {
    /// The message for the client ("Access denied" by default).
    pub message: String,
    /// A provider error code: LoginRadius `hook.setError(code, ...)`, or
    /// Auth0's credentials-exchange `api.access.deny(code, reason)`
    /// (`invalid_scope`, `invalid_request`, `server_error`).
    pub code: Option<String>,
    /// A provider error title.
    pub title: Option<String>,
}

/// Why a script failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The source does not parse (reported when compiling).
    Syntax,
    /// No function of the expected name (reported when compiling).
    MissingFunction,
    /// An uncaught exception.
    Script,
    /// The returned promise can never settle.
    Pending,
    /// The script returned something other than a plain object.
    InvalidOutput,
    /// The claims' JSON is over `max_output_bytes`.
    OutputTooLarge,
    /// The run used up its `fuel`.
    FuelExhausted,
    /// The run exceeded its `timeout_ms`.
    Timeout,
    /// The script's memory would exceed `memory_mb`.
    Memory,
    /// The Wasm stack overflowed (runaway recursion too deep for QuickJS to
    /// catch first).
    StackOverflow,
    /// The script uses an API or form this runtime does not support.
    Unsupported,
    /// A fault in the runtime itself, not the script's doing.
    Internal,
    /// The grants ask for more than the engine allows, so the run did not
    /// start. Only in the execution trail: [`Script::run`](crate::Script::run)
    /// returns [`Error::Grants`](crate::Error::Grants).
    Grants,
    /// The run's future was dropped before the run ended. Only in the
    /// execution trail: there is no report.
    Cancelled,
}

impl ErrorKind {
    /// The kind's name as printed in outcomes (`fuel_exhausted`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::MissingFunction => "missing_function",
            ErrorKind::Script => "script",
            ErrorKind::Pending => "pending",
            ErrorKind::InvalidOutput => "invalid_output",
            ErrorKind::OutputTooLarge => "output_too_large",
            ErrorKind::FuelExhausted => "fuel_exhausted",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Memory => "memory",
            ErrorKind::StackOverflow => "stack_overflow",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Internal => "internal",
            ErrorKind::Grants => "grants",
            ErrorKind::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A script failure: its kind, a message a script author can act on, and
/// where known the JS stack and position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ScriptError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The message (for `script`, the JS error's `name: message`).
    pub message: String,
    /// The JS stack trace, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// 1-based line in the script, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column in the script, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl ScriptError {
    /// An error with a kind and a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ScriptError {
        ScriptError {
            kind,
            message: message.into(),
            stack: None,
            line: None,
            column: None,
        }
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{} at {l}:{c}: {}", self.kind, self.message),
            (Some(l), None) => write!(f, "{} at line {l}: {}", self.kind, self.message),
            _ => write!(f, "{}: {}", self.kind, self.message),
        }
    }
}

impl std::error::Error for ScriptError {}

/// The level of a console record: the `console` method that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LogLevel {
    /// `console.debug` (and `console.trace`).
    Debug,
    /// `console.info`.
    Info,
    /// `console.log`.
    Log,
    /// `console.warn`.
    Warn,
    /// `console.error`.
    Error,
}

/// One console record. Runs keep at most [`crate::MAX_LOG_RECORDS`] records of
/// at most [`crate::MAX_LOG_MESSAGE_BYTES`] bytes each; a final `warn` record
/// says how many were dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LogRecord {
    /// The level.
    pub level: LogLevel,
    /// The formatted arguments, space-separated.
    pub message: String,
}

/// Resource use of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RunStats {
    /// Fuel (Wasm instructions) consumed.
    pub fuel: u64,
    /// Wall-clock time of the run, instantiation and validation included.
    pub duration_us: u64,
    /// Peak linear memory of the instance, in bytes.
    pub memory_bytes: u64,
    /// Every fetch the script attempted, allowed or refused.
    pub fetches: Vec<FetchRecord>,
}

/// One fetch attempt. Header values, bodies and query strings are never
/// recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FetchRecord {
    /// The method, upper-case: `GET`, `HEAD`, `POST`, `PUT`, `PATCH`,
    /// `DELETE`, `OPTIONS`, or `OTHER` for any other (the script's text is
    /// not recorded).
    pub method: String,
    /// `scheme://host:port/path`, without query string or fragment.
    pub url: String,
    /// The final response status, when a response arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Response body bytes received.
    pub bytes: u64,
    /// Time from start to the end of the body or the failure.
    pub ms: u64,
    /// Why the request was refused or failed: the failure's kind and a
    /// detail in the host's words only (see
    /// [`FetchFailureRecord`](crate::FetchFailureRecord)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<crate::failure::FetchFailureRecord>,
}

impl RunReport {
    /// The report of a script that failed before it could run (it did not
    /// compile): the error, no logs, zero statistics.
    pub fn from_error(error: ScriptError) -> RunReport {
        RunReport {
            outcome: Outcome::Error(error),
            logs: Vec::new(),
            stats: RunStats::default(),
        }
    }

    /// The CLI's JSON form:
    /// `{"outcome":"claims","claims":{..},"dropped":[..],"logs":[..],"stats":{..}}`,
    /// `{"outcome":"denied","message":"..",...}` or
    /// `{"outcome":"error","error":{"kind":"..","message":".."},...}`.
    pub fn to_json(&self) -> Value {
        let mut doc = Map::new();
        match &self.outcome {
            Outcome::Claims {
                claims,
                id_token_claims,
                dropped,
                id_token_dropped,
                scopes,
            } => {
                doc.insert("outcome".into(), "claims".into());
                doc.insert("claims".into(), Value::Object(claims.clone()));
                if let Some(id) = id_token_claims {
                    doc.insert("id_token_claims".into(), Value::Object(id.clone()));
                }
                doc.insert("dropped".into(), dropped.clone().into());
                if id_token_claims.is_some() {
                    doc.insert("id_token_dropped".into(), id_token_dropped.clone().into());
                }
                if !scopes.is_empty() {
                    doc.insert("scopes".into(), to_value(scopes));
                }
            }
            Outcome::Denied(denial) => {
                doc.insert("outcome".into(), "denied".into());
                doc.insert("message".into(), denial.message.clone().into());
                if let Some(code) = &denial.code {
                    doc.insert("code".into(), code.clone().into());
                }
                if let Some(title) = &denial.title {
                    doc.insert("title".into(), title.clone().into());
                }
            }
            Outcome::Error(error) => {
                doc.insert("outcome".into(), "error".into());
                doc.insert("error".into(), to_value(error));
            }
        }
        doc.insert("logs".into(), to_value(&self.logs));
        doc.insert("stats".into(), to_value(&self.stats));
        Value::Object(doc)
    }
}

fn to_value<T: Serialize>(value: &T) -> Value {
    // These types serialise to JSON infallibly (string keys, no foreign types).
    serde_json::to_value(value).unwrap_or(Value::Null)
}
