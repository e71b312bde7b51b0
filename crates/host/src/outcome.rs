//! What a run produced: the outcome, the console records and the statistics.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// The result of one run, as the CLI prints it (see [`RunReport::to_json`]).
///
/// It serialises to that wire form: the outcome's fields, tagged by
/// `outcome`, then `logs` and `stats`. A service can embed it in its own
/// response with `#[serde(flatten)]`.
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
///
/// It serialises tagged by `outcome` (`claims`, `denied` or `error`), as in
/// [`RunReport::to_json`]: `id_token_claims` and `id_token_dropped` only
/// when the script set ID-token claims, `scopes` only when it changed any,
/// a denial's `code` and `title` only when set.
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

impl Outcome {
    /// Every protected claim the script tried to set: those removed from the
    /// access token, then those removed from the ID token only, each once,
    /// in order. Empty for a denial or an error.
    pub fn all_dropped(&self) -> Vec<String> {
        let Outcome::Claims {
            dropped,
            id_token_dropped,
            ..
        } = self
        else {
            return Vec::new();
        };
        let mut all = dropped.clone();
        for name in id_token_dropped {
            if !all.contains(name) {
                all.push(name.clone());
            }
        }
        all
    }
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Denial {
    /// The message for the client ("Access denied" by default).
    pub message: String,
    /// A provider error code: LoginRadius `hook.setError(code, ...)`, or
    /// Auth0's credentials-exchange `api.access.deny(code, reason)`
    /// (`invalid_scope`, `invalid_request`, `server_error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A provider error title.
    #[serde(skip_serializing_if = "Option::is_none")]
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
    /// The input is over the engine's
    /// [`max_input_bytes`](crate::EngineConfig::max_input_bytes), so the run
    /// did not start. Only in the execution trail:
    /// [`Script::run`](crate::Script::run) returns
    /// [`Error::Input`](crate::Error::Input).
    Input,
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
            ErrorKind::Input => "input",
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

    /// The CLI's JSON form, as the report serialises:
    /// `{"outcome":"claims","claims":{..},"dropped":[..],"logs":[..],"stats":{..}}`,
    /// `{"outcome":"denied","message":"..",...}` or
    /// `{"outcome":"error","error":{"kind":"..","message":".."},...}`.
    pub fn to_json(&self) -> Value {
        // The wire types serialise to JSON infallibly (string keys, no
        // foreign types).
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for RunReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ReportWire {
            outcome: OutcomeWire::from(&self.outcome),
            logs: &self.logs,
            stats: &self.stats,
        }
        .serialize(serializer)
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        OutcomeWire::from(self).serialize(serializer)
    }
}

/// The wire form of a [`RunReport`]: the one place its shape is written.
#[derive(Serialize)]
struct ReportWire<'a> {
    #[serde(flatten)]
    outcome: OutcomeWire<'a>,
    logs: &'a [LogRecord],
    stats: &'a RunStats,
}

/// The wire form of an [`Outcome`]. A borrowed copy rather than attributes
/// on `Outcome`, because whether `id_token_dropped` is written depends on
/// another field (`id_token_claims`).
#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum OutcomeWire<'a> {
    Claims {
        claims: &'a Map<String, Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        id_token_claims: Option<&'a Map<String, Value>>,
        dropped: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        id_token_dropped: Option<&'a [String]>,
        #[serde(skip_serializing_if = "no_scope_changes")]
        scopes: &'a ScopeChanges,
    },
    Denied(&'a Denial),
    Error {
        error: &'a ScriptError,
    },
}

fn no_scope_changes(scopes: &&ScopeChanges) -> bool {
    scopes.is_empty()
}

impl<'a> From<&'a Outcome> for OutcomeWire<'a> {
    fn from(outcome: &'a Outcome) -> OutcomeWire<'a> {
        match outcome {
            Outcome::Claims {
                claims,
                id_token_claims,
                dropped,
                id_token_dropped,
                scopes,
            } => OutcomeWire::Claims {
                claims,
                id_token_claims: id_token_claims.as_ref(),
                dropped,
                id_token_dropped: id_token_claims.as_ref().map(|_| &id_token_dropped[..]),
                scopes,
            },
            Outcome::Denied(denial) => OutcomeWire::Denied(denial),
            Outcome::Error(error) => OutcomeWire::Error { error },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> RunStats {
        RunStats {
            fuel: 7,
            duration_us: 8,
            memory_bytes: 9,
            fetches: vec![FetchRecord {
                method: "GET".into(),
                url: "https://a.test:443/x".into(),
                status: Some(200),
                bytes: 2,
                ms: 1,
                refused: None,
            }],
        }
    }

    fn report(outcome: Outcome) -> RunReport {
        RunReport {
            outcome,
            logs: vec![LogRecord {
                level: LogLevel::Warn,
                message: "w".into(),
            }],
            stats: stats(),
        }
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    const TAIL: &str = r#""logs":[{"level":"warn","message":"w"}],"stats":{"fuel":7,"duration_us":8,"memory_bytes":9,"fetches":[{"method":"GET","url":"https://a.test:443/x","status":200,"bytes":2,"ms":1}]}}"#;

    /// The wire form, key order included: what the CLI prints and its
    /// golden tests and users' parsers expect.
    #[test]
    fn wire_form() {
        let cases = [
            (
                Outcome::Claims {
                    claims: object(serde_json::json!({"b": 1, "a": [true]})),
                    id_token_claims: None,
                    dropped: vec!["sub".into()],
                    id_token_dropped: Vec::new(),
                    scopes: ScopeChanges::default(),
                },
                r#"{"outcome":"claims","claims":{"b":1,"a":[true]},"dropped":["sub"],"#,
            ),
            (
                Outcome::Claims {
                    claims: Map::new(),
                    id_token_claims: Some(object(serde_json::json!({"n": "x"}))),
                    dropped: Vec::new(),
                    id_token_dropped: Vec::new(),
                    scopes: ScopeChanges {
                        added: vec!["read".into()],
                        removed: Vec::new(),
                    },
                },
                r#"{"outcome":"claims","claims":{},"id_token_claims":{"n":"x"},"dropped":[],"id_token_dropped":[],"scopes":{"added":["read"],"removed":[]},"#,
            ),
            (
                Outcome::Denied(Denial {
                    message: "no".into(),
                    code: None,
                    title: None,
                }),
                r#"{"outcome":"denied","message":"no","#,
            ),
            (
                Outcome::Denied(Denial {
                    message: "no".into(),
                    code: Some("invalid_scope".into()),
                    title: Some("T".into()),
                }),
                r#"{"outcome":"denied","message":"no","code":"invalid_scope","title":"T","#,
            ),
            (
                Outcome::Error(ScriptError {
                    kind: ErrorKind::Script,
                    message: "TypeError: x".into(),
                    stack: Some("at f".into()),
                    line: Some(3),
                    column: Some(4),
                }),
                r#"{"outcome":"error","error":{"kind":"script","message":"TypeError: x","stack":"at f","line":3,"column":4},"#,
            ),
            (
                Outcome::Error(ScriptError::new(ErrorKind::FuelExhausted, "out of fuel")),
                r#"{"outcome":"error","error":{"kind":"fuel_exhausted","message":"out of fuel"},"#,
            ),
        ];
        for (outcome, head) in cases {
            let report = report(outcome);
            let expected = format!("{head}{TAIL}");
            assert_eq!(report.to_json().to_string(), expected);
            // The report serialises to the same form, directly and embedded
            // in another document with `flatten`.
            assert_eq!(serde_json::to_string(&report).ok(), Some(expected.clone()));
            #[derive(Serialize)]
            struct Response<'a> {
                decision_id: &'a str,
                #[serde(flatten)]
                report: &'a RunReport,
            }
            let embedded = serde_json::to_string(&Response {
                decision_id: "d-1",
                report: &report,
            });
            assert_eq!(
                embedded.ok(),
                Some(format!("{{\"decision_id\":\"d-1\",{}", &expected[1..]))
            );
            // The outcome alone: the head without the trailing comma.
            let outcome = serde_json::to_string(&report.outcome).ok();
            assert_eq!(outcome, Some(format!("{}}}", &head[..head.len() - 1])));
        }
    }

    #[test]
    fn all_dropped_is_the_ordered_union() {
        let outcome = Outcome::Claims {
            claims: Map::new(),
            id_token_claims: Some(Map::new()),
            dropped: vec!["sub".into(), "iss".into()],
            id_token_dropped: vec!["nonce".into(), "iss".into(), "aud".into()],
            scopes: ScopeChanges::default(),
        };
        assert_eq!(outcome.all_dropped(), ["sub", "iss", "nonce", "aud"]);
        let denied = Outcome::Denied(Denial {
            message: "no".into(),
            code: None,
            title: None,
        });
        assert!(denied.all_dropped().is_empty());
    }
}
