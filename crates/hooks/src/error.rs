//! Why a hook request was refused, and why a binding's configuration was.

use std::fmt;

use http::StatusCode;

/// Where in a request body something is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// The body is not JSON: the 1-based line and column where parsing
    /// stopped.
    LineColumn {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The body is JSON of the wrong shape: the JSON pointer (RFC 6901) of
    /// the offending value (`""` for the whole document).
    Pointer(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::LineColumn { line, column } => write!(f, "line {line}, column {column}"),
            Location::Pointer(p) if p.is_empty() => f.write_str("the document root"),
            Location::Pointer(p) => write!(f, "`{p}`"),
        }
    }
}

/// Why a hook request was refused. Nothing runs after one of these.
///
/// Messages name what is wrong and where, and never contain a secret, a
/// signature or an authentication header's value.
/// [`HookError::status`] is the HTTP status the server answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HookError {
    /// The caller is not who the binding expects: wrong secret, signature
    /// or bearer token. 401.
    #[error("unauthenticated: {why}")]
    Unauthenticated {
        /// What did not match (never the value).
        why: String,
    },
    /// A header the protocol requires is absent. 401.
    #[error("missing header `{name}`")]
    MissingHeader {
        /// The header's name.
        name: String,
    },
    /// A header is present but cannot be read (not ASCII, sent twice, not
    /// of the documented form). 401.
    #[error("header `{name}` is malformed: {why}")]
    BadHeader {
        /// The header's name.
        name: String,
        /// What is wrong with it (never its value).
        why: String,
    },
    /// The signed timestamp is older than the protocol's tolerance. 401.
    #[error("the signed timestamp is {age_secs} s old, more than the {tolerance_secs} s allowed")]
    StaleTimestamp {
        /// How old it is.
        age_secs: u64,
        /// The protocol's tolerance.
        tolerance_secs: u64,
    },
    /// The signed timestamp is further in the future than the protocol's
    /// tolerance. 401.
    #[error(
        "the signed timestamp is {ahead_secs} s in the future, more than the {tolerance_secs} s allowed"
    )]
    FutureTimestamp {
        /// How far ahead it is.
        ahead_secs: u64,
        /// The protocol's tolerance.
        tolerance_secs: u64,
    },
    /// A Standard Webhooks message id was already accepted within its
    /// validity window. 401.
    #[error("webhook-id {id:?} was already received")]
    Replayed {
        /// The message id (not a secret).
        id: String,
    },
    /// The bearer token names a key the key source does not have; the
    /// server may refresh its JWKS and verify again. 401.
    #[error("{}", match kid { Some(kid) => format!("bearer token: no key with kid {kid:?} in the JWKS"), None => "bearer token: no kid, and the JWKS does not hold exactly one key".to_string() })]
    UnknownKey {
        /// The token's `kid`, when it has one.
        kid: Option<String>,
    },
    /// The body is not JSON (400) or not of the provider's shape (422).
    #[error("malformed request body at {at}: {what}")]
    Malformed {
        /// What is wrong.
        what: String,
        /// Where.
        at: Location,
    },
    /// Well-formed, but a variant this crate does not handle (another
    /// inline-hook type, a ZITADEL function other than the token ones,
    /// a signature scheme other than `v1`). 422.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What is not supported.
        what: String,
    },
}

impl HookError {
    /// The HTTP status to answer with: 401 for authentication failures,
    /// 400 for a body that is not JSON, 422 for JSON of the wrong shape or
    /// an unsupported variant.
    pub fn status(&self) -> StatusCode {
        match self {
            HookError::Unauthenticated { .. }
            | HookError::MissingHeader { .. }
            | HookError::BadHeader { .. }
            | HookError::StaleTimestamp { .. }
            | HookError::FutureTimestamp { .. }
            | HookError::Replayed { .. }
            | HookError::UnknownKey { .. } => StatusCode::UNAUTHORIZED,
            HookError::Malformed {
                at: Location::LineColumn { .. },
                ..
            } => StatusCode::BAD_REQUEST,
            HookError::Malformed { .. } | HookError::Unsupported { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        }
    }

    /// A short stable name for metrics labels: `unauthenticated`,
    /// `missing_header`, `bad_header`, `stale`, `future`, `replayed`,
    /// `unknown_key`, `malformed`, `unsupported`.
    pub fn kind(&self) -> &'static str {
        match self {
            HookError::Unauthenticated { .. } => "unauthenticated",
            HookError::MissingHeader { .. } => "missing_header",
            HookError::BadHeader { .. } => "bad_header",
            HookError::StaleTimestamp { .. } => "stale",
            HookError::FutureTimestamp { .. } => "future",
            HookError::Replayed { .. } => "replayed",
            HookError::UnknownKey { .. } => "unknown_key",
            HookError::Malformed { .. } => "malformed",
            HookError::Unsupported { .. } => "unsupported",
        }
    }

    pub(crate) fn unauthenticated(why: impl Into<String>) -> HookError {
        HookError::Unauthenticated { why: why.into() }
    }

    pub(crate) fn bad_header(name: &str, why: impl Into<String>) -> HookError {
        HookError::BadHeader {
            name: name.to_string(),
            why: why.into(),
        }
    }

    pub(crate) fn shape(what: impl Into<String>, pointer: impl Into<String>) -> HookError {
        HookError::Malformed {
            what: what.into(),
            at: Location::Pointer(pointer.into()),
        }
    }
}

/// Why a binding's authentication settings were refused (a configuration
/// error, found when the server loads its config, never per request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not a valid HTTP header name.
    #[error("`{name}` is not a valid HTTP header name")]
    HeaderName {
        /// The name given.
        name: String,
    },
    /// A secret or key is unusable (empty, wrong prefix, bad base64).
    #[error("{why}")]
    Secret {
        /// What is wrong (never the secret).
        why: String,
    },
}
