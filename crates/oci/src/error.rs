//! The crate's error type.

use std::path::PathBuf;

use crate::digest::Digest;
use crate::reference::ReferenceError;
use crate::signature::{KeyError, SignatureError};

/// Why a registry operation failed. Every variant names what it was about
/// (reference, URL, blob, file).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The reference does not parse.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// Plain HTTP was asked for a registry that is not on loopback.
    #[error(
        "registry {registry}: plain HTTP is only allowed for a registry on loopback (localhost, 127.0.0.0/8, ::1); use HTTPS"
    )]
    PlainHttpNotLoopback {
        /// The registry.
        registry: String,
    },
    /// The connection or the request failed.
    #[error("{method} {url}: {source}")]
    Transport {
        /// The HTTP method.
        method: String,
        /// The URL.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The registry answered with an unexpected status.
    #[error("{method} {url}: the registry answered {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status {
        /// The HTTP method.
        method: String,
        /// The URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The registry's error codes and messages, if it sent any.
        message: String,
    },
    /// The registry refused our credentials, or asked for some and we have none.
    #[error("registry {registry}: not authorized: {reason}")]
    Unauthorized {
        /// The registry.
        registry: String,
        /// Why.
        reason: String,
    },
    /// The manifest or blob does not exist.
    #[error("{what}: not found in the registry")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// Content does not hash to the digest it was fetched or announced by:
    /// refused (tampered or corrupted).
    #[error("{what}: digest mismatch: expected {expected}, got {actual}; refused")]
    DigestMismatch {
        /// What was checked.
        what: String,
        /// The digest it should have.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// A manifest or blob is larger than allowed.
    #[error("{what}: larger than {limit} bytes; refused")]
    TooLarge {
        /// What.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// The manifest is not a Claimscript Wasm artifact (or not a manifest).
    #[error("{reference}: not a Wasm artifact: {reason}")]
    NotAnArtifact {
        /// The reference.
        reference: String,
        /// What is wrong with the manifest.
        reason: String,
    },
    /// The bytes to push are not a Wasm binary.
    #[error("not a WebAssembly artifact: {0}")]
    InvalidWasm(String),
    /// The grants to push are too large.
    #[error("grants: {0}")]
    Grants(String),
    /// Pushing needs a tag, not a digest.
    #[error("{0}: push to a tag (a digest is computed from what is pushed)")]
    PushByDigest(String),
    /// The Docker config file cannot be read or parsed.
    #[error("{}: {reason}", path.display())]
    Credentials {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The HTTP client cannot be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// A signing or verification key is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Signature verification refused the artifact.
    #[error(transparent)]
    Signature(#[from] SignatureError),
}
