//! The service's errors: configuration and start-up failures, and the
//! one JSON error form every endpoint answers with.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Malformed TOML, an unknown key, or a value out of range.
    #[error("{}line {line}, column {column}: {message}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Invalid {
        /// The file, when read from one.
        path: Option<PathBuf>,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the key.
        message: String,
    },
    /// No API token is configured and the address is not loopback.
    #[error(
        "refusing to listen on {addr} without authentication: configure [[tokens]] or listen on a loopback address (127.0.0.1, ::1)"
    )]
    Exposed {
        /// The address.
        addr: SocketAddr,
    },
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The engine could not be built.
    #[error("cannot start the engine: {0}")]
    Engine(#[source] claimscript::Error),
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TLS certificate or key is unusable.
    #[error("TLS: {0}")]
    Tls(String),
    /// A signing key is unusable.
    #[error("signing key `{name}`: {message}")]
    Key {
        /// The key's name in `[keys]`.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl ServeError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> ServeError {
        ServeError::Io {
            what: what.into(),
            source,
        }
    }
}

/// An error answered to a caller: `{"error": {"code", "message", ...}}`
/// with its status.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(Box<Details>);

#[derive(Debug, Clone, PartialEq)]
struct Details {
    status: StatusCode,
    code: &'static str,
    message: String,
    extra: Map<String, Value>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError(Box::new(Details {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
            retry_after: None,
        }))
    }

    /// Add a field to the error object.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> ApiError {
        self.0.extra.insert(key.to_string(), value.into());
        self
    }

    /// Add a `Retry-After` header, in seconds.
    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.0.retry_after = Some(seconds);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The stable, machine-readable code (`not_found`, `invalid_json`, ...).
    pub fn code(&self) -> &'static str {
        self.0.code
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    pub(crate) fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// A malformed JSON body, with the line and column of the fault.
    pub(crate) fn json(e: &serde_json::Error) -> ApiError {
        let message = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = message.strip_suffix(&suffix).unwrap_or(&message);
        ApiError::bad_request(
            "invalid_json",
            format!(
                "the body is not valid JSON: line {}, column {}: {message}",
                e.line(),
                e.column()
            ),
        )
        .with("line", e.line())
        .with("column", e.column())
    }

    /// The error object as JSON.
    pub fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), self.0.code.into());
        error.insert("message".into(), self.0.message.clone().into());
        for (k, v) in &self.0.extra {
            error.insert(k.clone(), v.clone());
        }
        json!({ "error": error })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.0.status.as_u16(),
            self.0.code,
            self.0.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = crate::routes::json_response(self.0.status, &self.to_json());
        if let Some(seconds) = self.0.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
