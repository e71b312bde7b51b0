//! Why a fetch failed, as a type.
//!
//! Every way a script's request can fail is a [`FetchFailure`]: refused by
//! the grants or the address guard, or failed on the way (DNS, connect, TLS,
//! a connection lost, a malformed response, a limit). It stays typed from
//! the place it happens to the two places it leaves the host:
//!
//! - the script sees its [`Display`](std::fmt::Display) text, made only at
//!   the WIT edge (`http.wait`), as the message of the `TypeError` its
//!   `fetch` rejects with (`fetch failed: connection refused`);
//! - the run's records ([`FetchRecord::refused`](crate::FetchRecord::refused))
//!   keep a [`FetchFailureRecord`]: its [`FetchFailureKind`] and a detail
//!   made only of the host's own words and numbers (never a host name, URL,
//!   header name or other text the script chose), so the audit trail needs
//!   no scrubbing for it.
//!
//! The low-level cause survives: a reset connection, a malformed status
//! line or an oversized response head is named, found by walking the
//! `source()` chain of the HTTP client's error, and the original error stays
//! reachable through [`std::error::Error::source`] where there is one.

use std::error::Error as StdError;
use std::net::IpAddr;

use claimscript_egress::{BlockReason, Refusal};
use serde::{Deserialize, Serialize};

/// A boxed error, as an [`Outbound`](crate::Outbound) handler or a
/// response body may give.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// Why a fetch failed. The text the script sees is its `Display`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchFailure {
    /// The URL does not parse, or is not `http`/`https` with a host (the
    /// text says which; it may quote the script's URL).
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The grants do not admit the request.
    #[error("{0}")]
    NotGranted(NotGranted),
    /// The run already started as many requests as its grant allows.
    #[error("too many requests: the grant allows {max} per run")]
    TooManyRequests {
        /// The grant's `max_requests`.
        max: u32,
    },
    /// The address guard refused an address the host resolved to (or the
    /// literal address): the egress crate's refusal.
    #[error("blocked address: {address} is {reason}")]
    BlockedAddress {
        /// The address.
        address: IpAddr,
        /// Its range.
        reason: BlockReason,
    },
    /// The host name did not resolve.
    #[error("DNS lookup failed: {0}")]
    Dns(#[source] std::io::Error),
    /// No connection could be opened.
    #[error("{}", connect_text(.0))]
    Connect(#[source] std::io::Error),
    /// The TLS handshake failed (an untrusted certificate, a TLS alert, a
    /// server that does not speak TLS).
    #[error("TLS failed: {0}")]
    Tls(#[source] std::io::Error),
    /// The connection failed after it was opened (reset by the server).
    #[error("connection lost: {0}")]
    ConnectionLost(#[source] std::io::Error),
    /// The server's response is not valid HTTP/1.x, or ended early.
    #[error("{0}")]
    Protocol(ProtocolFault),
    /// The response is over a limit.
    #[error("{0}")]
    TooLarge(TooLarge),
    /// No complete response within the grant's `timeout_ms`.
    #[error("timeout: no complete response within {ms} ms")]
    Timeout {
        /// The grant's `timeout_ms`.
        ms: u64,
    },
    /// Redirects went on past [`MAX_REDIRECTS`](crate::MAX_REDIRECTS).
    #[error("too many redirects: at most {max} are followed")]
    TooManyRedirects {
        /// How many are followed.
        max: usize,
    },
    /// The script's request cannot be sent as it is.
    #[error("{0}")]
    InvalidRequest(InvalidRequest),
    /// The embedder's [`Outbound`](crate::Outbound) handler failed.
    #[error("outbound handler failed: {0}")]
    Outbound(#[source] BoxError),
    /// The script aborted the request (its `AbortSignal`).
    #[error("aborted by the script")]
    Aborted,
    /// The run ended while the request was still going.
    #[error("not awaited: the run ended first")]
    NotAwaited,
    /// The host failed (the request's task did not finish).
    #[error("the request task failed: {0}")]
    Internal(String),
}

fn connect_text(error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::ConnectionRefused {
        "connection refused".into()
    } else {
        format!("connection failed: {error}")
    }
}

/// Why the grants do not admit a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotGranted {
    /// The script has no `[fetch]` grant.
    #[error("not granted: this script has no [fetch] grant")]
    NoGrant,
    /// No `allow` pattern matches the URL's scheme, host and port.
    #[error("not granted: {origin} matches no [fetch] allow pattern")]
    NoPattern {
        /// `scheme://host:port`, as the URL has it.
        origin: String,
    },
    /// The script's top-level code is being compiled: no requests then.
    #[error("fetch is not available while the script is compiled")]
    WhileCompiling,
}

/// What in a response is not valid HTTP/1.x.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolFault {
    /// The status line's code or reason does not parse.
    #[error("malformed response: invalid status line")]
    InvalidStatus,
    /// The reply does not start as HTTP/1.x does (an HTTP/0.9 reply, or
    /// not HTTP at all).
    #[error("malformed response: not HTTP/1.x (an HTTP/0.9 reply or garbage)")]
    InvalidVersion,
    /// A header line does not parse.
    #[error("malformed response: invalid header")]
    InvalidHeader,
    /// The connection closed before the response was complete.
    #[error("incomplete response: the connection closed before it was complete")]
    Incomplete,
    /// A redirect's `Location` is not a URL (the URL parser's reason).
    #[error("invalid redirect location: {0}")]
    InvalidRedirect(String),
    /// Another fault, in the HTTP client's words.
    #[error("protocol error: {0}")]
    Other(String),
}

/// Which limit a response is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TooLarge {
    /// The body is over the grant's `max_response_bytes`.
    #[error("response too large: the body is over max_response_bytes = {max}")]
    ResponseBody {
        /// The limit.
        max: usize,
    },
    /// The status line and headers are over
    /// [`MAX_RESPONSE_HEAD_BYTES`](crate::MAX_RESPONSE_HEAD_BYTES) (or
    /// over 100 header lines).
    #[error("response too large: the status line and headers are over {max} bytes or 100 lines")]
    ResponseHead {
        /// The limit in bytes.
        max: usize,
    },
}

/// What makes the script's request impossible to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidRequest {
    /// The method is not an HTTP token (not echoed: it is the script's
    /// text).
    #[error("invalid method: not an HTTP method token")]
    Method,
    /// A header name is not valid.
    #[error("invalid header name `{name}`")]
    HeaderName {
        /// The name, as the script wrote it.
        name: String,
    },
    /// A header value is not valid (never echoed: it may be a credential).
    #[error("invalid value for header `{name}`")]
    HeaderValue {
        /// The header's (valid) name.
        name: String,
    },
    /// The request could not be built (the HTTP library's reason).
    #[error("invalid request: {0}")]
    Other(String),
}

/// The kind of a [`FetchFailure`], as records show it (`snake_case`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FetchFailureKind {
    /// [`FetchFailure::InvalidUrl`].
    InvalidUrl,
    /// [`FetchFailure::NotGranted`].
    NotGranted,
    /// [`FetchFailure::TooManyRequests`].
    TooManyRequests,
    /// [`FetchFailure::BlockedAddress`].
    BlockedAddress,
    /// [`FetchFailure::Dns`].
    Dns,
    /// [`FetchFailure::Connect`].
    Connect,
    /// [`FetchFailure::Tls`].
    Tls,
    /// [`FetchFailure::ConnectionLost`].
    ConnectionLost,
    /// [`FetchFailure::Protocol`].
    Protocol,
    /// [`FetchFailure::TooLarge`].
    TooLarge,
    /// [`FetchFailure::Timeout`].
    Timeout,
    /// [`FetchFailure::TooManyRedirects`].
    TooManyRedirects,
    /// [`FetchFailure::InvalidRequest`].
    InvalidRequest,
    /// [`FetchFailure::Outbound`].
    Outbound,
    /// [`FetchFailure::Aborted`].
    Aborted,
    /// [`FetchFailure::NotAwaited`].
    NotAwaited,
    /// [`FetchFailure::Internal`].
    Internal,
}

impl FetchFailureKind {
    /// The kind as records write it: `not_granted`, `blocked_address`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            FetchFailureKind::InvalidUrl => "invalid_url",
            FetchFailureKind::NotGranted => "not_granted",
            FetchFailureKind::TooManyRequests => "too_many_requests",
            FetchFailureKind::BlockedAddress => "blocked_address",
            FetchFailureKind::Dns => "dns",
            FetchFailureKind::Connect => "connect",
            FetchFailureKind::Tls => "tls",
            FetchFailureKind::ConnectionLost => "connection_lost",
            FetchFailureKind::Protocol => "protocol",
            FetchFailureKind::TooLarge => "too_large",
            FetchFailureKind::Timeout => "timeout",
            FetchFailureKind::TooManyRedirects => "too_many_redirects",
            FetchFailureKind::InvalidRequest => "invalid_request",
            FetchFailureKind::Outbound => "outbound",
            FetchFailureKind::Aborted => "aborted",
            FetchFailureKind::NotAwaited => "not_awaited",
            FetchFailureKind::Internal => "internal",
        }
    }
}

impl std::fmt::Display for FetchFailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed fetch in a record: `{"kind": "timeout", "detail": "timeout: no
/// complete response within 100 ms"}`. The detail is made of the host's
/// own words and numbers only: the parts of the failure that cannot carry
/// a script's secret (a blocked address is recorded by its range, a bad
/// header by the fact, not the name; the record's URL says where).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FetchFailureRecord {
    /// What kind of failure.
    pub kind: FetchFailureKind,
    /// What happened, in the host's words.
    pub detail: String,
}

impl FetchFailure {
    /// The failure's kind.
    pub fn kind(&self) -> FetchFailureKind {
        match self {
            FetchFailure::InvalidUrl(_) => FetchFailureKind::InvalidUrl,
            FetchFailure::NotGranted(_) => FetchFailureKind::NotGranted,
            FetchFailure::TooManyRequests { .. } => FetchFailureKind::TooManyRequests,
            FetchFailure::BlockedAddress { .. } => FetchFailureKind::BlockedAddress,
            FetchFailure::Dns(_) => FetchFailureKind::Dns,
            FetchFailure::Connect(_) => FetchFailureKind::Connect,
            FetchFailure::Tls(_) => FetchFailureKind::Tls,
            FetchFailure::ConnectionLost(_) => FetchFailureKind::ConnectionLost,
            FetchFailure::Protocol(_) => FetchFailureKind::Protocol,
            FetchFailure::TooLarge(_) => FetchFailureKind::TooLarge,
            FetchFailure::Timeout { .. } => FetchFailureKind::Timeout,
            FetchFailure::TooManyRedirects { .. } => FetchFailureKind::TooManyRedirects,
            FetchFailure::InvalidRequest(_) => FetchFailureKind::InvalidRequest,
            FetchFailure::Outbound(_) => FetchFailureKind::Outbound,
            FetchFailure::Aborted => FetchFailureKind::Aborted,
            FetchFailure::NotAwaited => FetchFailureKind::NotAwaited,
            FetchFailure::Internal(_) => FetchFailureKind::Internal,
        }
    }

    /// The failure as a record keeps it: its kind and the safe detail.
    pub fn record(&self) -> FetchFailureRecord {
        FetchFailureRecord {
            kind: self.kind(),
            detail: self.safe_detail(),
        }
    }

    /// The failure in the host's words only (see [`FetchFailureRecord`]).
    fn safe_detail(&self) -> String {
        match self {
            // The parser's reason may quote the script's URL (a scheme).
            FetchFailure::InvalidUrl(_) => {
                "invalid URL: it does not parse, or is not http(s) with a host".into()
            }
            FetchFailure::NotGranted(NotGranted::NoPattern { .. }) => {
                "not granted: the URL's scheme, host and port match no [fetch] allow pattern".into()
            }
            // An embedding form's text quotes the embedded address.
            FetchFailure::BlockedAddress {
                reason: BlockReason::Embedded(..),
                ..
            } => "blocked address: the address is an IPv6 form embedding a refused IPv4 address"
                .into(),
            FetchFailure::BlockedAddress { reason, .. } => {
                format!("blocked address: the address is {reason}")
            }
            // The resolver's message may name the host.
            FetchFailure::Dns(_) => "DNS lookup failed".into(),
            FetchFailure::Connect(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                "connection refused".into()
            }
            FetchFailure::Connect(e) => format!("connection failed: {}", e.kind()),
            // A certificate error names the server the script chose.
            FetchFailure::Tls(e) => format!("TLS failed: {}", tls_summary(e)),
            FetchFailure::ConnectionLost(e) => format!("connection lost: {}", e.kind()),
            FetchFailure::InvalidRequest(InvalidRequest::HeaderName { .. }) => {
                "invalid request: a header name is not valid".into()
            }
            FetchFailure::InvalidRequest(InvalidRequest::HeaderValue { .. }) => {
                "invalid request: a header value is not valid".into()
            }
            FetchFailure::InvalidRequest(InvalidRequest::Other(_)) => {
                "invalid request: it could not be built".into()
            }
            FetchFailure::Outbound(_) => "outbound handler failed".into(),
            FetchFailure::Internal(_) => "the request task failed".into(),
            // The rest are the host's words and numbers, and the HTTP
            // client's and URL parser's fixed texts.
            FetchFailure::NotGranted(_)
            | FetchFailure::TooManyRequests { .. }
            | FetchFailure::Protocol(_)
            | FetchFailure::TooLarge(_)
            | FetchFailure::Timeout { .. }
            | FetchFailure::TooManyRedirects { .. }
            | FetchFailure::InvalidRequest(_)
            | FetchFailure::Aborted
            | FetchFailure::NotAwaited => self.to_string(),
        }
    }
}

impl From<Refusal> for FetchFailure {
    fn from(refusal: Refusal) -> FetchFailure {
        match refusal {
            Refusal::NoGrant => FetchFailure::NotGranted(NotGranted::NoGrant),
            Refusal::NotAllowed(origin) => {
                FetchFailure::NotGranted(NotGranted::NoPattern { origin })
            }
            Refusal::BlockedAddress { address, reason } => {
                FetchFailure::BlockedAddress { address, reason }
            }
            Refusal::InvalidUrl(reason) => FetchFailure::InvalidUrl(reason),
            // A refusal this version does not know is still a refusal.
            other => FetchFailure::InvalidUrl(other.to_string()),
        }
    }
}

/// What kind of TLS failure, in words that never quote the server's name
/// or certificate.
fn tls_summary(error: &std::io::Error) -> &'static str {
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(_)) => "the certificate was not accepted",
        Some(rustls::Error::NoCertificatesPresented) => "the server presented no certificate",
        Some(rustls::Error::AlertReceived(_)) => "the server sent an alert",
        Some(rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. }) => {
            "the server does not speak TLS as expected"
        }
        Some(rustls::Error::PeerIncompatible(_)) => "no protocol version or cipher in common",
        _ => "the handshake did not complete",
    }
}

/// An owned copy of an I/O error found (borrowed) in a source chain: the
/// same OS error, or the same kind with the same TLS error or text.
pub(crate) fn own_io(error: &std::io::Error) -> std::io::Error {
    if let Some(code) = error.raw_os_error() {
        return std::io::Error::from_raw_os_error(code);
    }
    match error.get_ref() {
        Some(inner) => match inner.downcast_ref::<rustls::Error>() {
            Some(tls) => std::io::Error::new(error.kind(), tls.clone()),
            None => std::io::Error::new(error.kind(), inner.to_string()),
        },
        None => std::io::Error::from(error.kind()),
    }
}

/// The failure behind an error of the HTTP client, a response body or an
/// [`Outbound`](crate::Outbound) handler: the first cause in its source
/// chain that says what happened. `connecting` is true when the error came
/// while the connection was being set up.
pub(crate) fn from_client_error(
    error: &(dyn StdError + 'static),
    connecting: bool,
    max_head: usize,
) -> FetchFailure {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    let mut hyper_error: Option<&hyper::Error> = None;
    while let Some(e) = current {
        if let Some(connect) = e.downcast_ref::<crate::http_client::ConnectError>() {
            return connect.to_failure();
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if let Some(failure) = from_hyper(h, max_head) {
                return failure;
            }
            hyper_error.get_or_insert(h);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
            {
                return FetchFailure::Tls(own_io(io));
            }
            // hyper's body decoder reports a body cut short as an I/O error.
            if io.kind() == std::io::ErrorKind::UnexpectedEof && hyper_error.is_some() {
                return FetchFailure::Protocol(ProtocolFault::Incomplete);
            }
            if connecting && hyper_error.is_none() {
                return FetchFailure::Connect(own_io(io));
            }
            return FetchFailure::ConnectionLost(own_io(io));
        }
        current = e.source();
    }
    match hyper_error {
        Some(h) => FetchFailure::Protocol(ProtocolFault::Other(h.to_string())),
        None if connecting => FetchFailure::Connect(std::io::Error::other(error.to_string())),
        None => FetchFailure::Protocol(ProtocolFault::Other(error.to_string())),
    }
}

/// hyper's error, when its kind says what happened (hyper's kinds are
/// private: the public predicates, and for a parse error its fixed text).
/// `None` for an I/O error and the like, whose cause is further down.
fn from_hyper(error: &hyper::Error, max_head: usize) -> Option<FetchFailure> {
    if error.is_parse_status() {
        return Some(FetchFailure::Protocol(ProtocolFault::InvalidStatus));
    }
    if error.is_incomplete_message() {
        return Some(FetchFailure::Protocol(ProtocolFault::Incomplete));
    }
    if error.is_parse() {
        let text = error.to_string();
        return Some(match text.as_str() {
            "message head is too large" => {
                FetchFailure::TooLarge(TooLarge::ResponseHead { max: max_head })
            }
            t if t.starts_with("invalid HTTP version parsed") => {
                FetchFailure::Protocol(ProtocolFault::InvalidVersion)
            }
            "invalid HTTP header parsed" => FetchFailure::Protocol(ProtocolFault::InvalidHeader),
            _ => FetchFailure::Protocol(ProtocolFault::Other(text)),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialise_as_their_names() {
        for kind in [
            FetchFailureKind::NotGranted,
            FetchFailureKind::BlockedAddress,
            FetchFailureKind::ConnectionLost,
            FetchFailureKind::TooManyRedirects,
        ] {
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::Value::from(kind.as_str()))
            );
        }
    }

    #[test]
    fn records_never_quote_the_script() {
        let secret = "hunter2-secret.example";
        for failure in [
            FetchFailure::InvalidUrl(format!("unsupported scheme `{secret}`")),
            FetchFailure::NotGranted(NotGranted::NoPattern {
                origin: format!("https://{secret}:443"),
            }),
            FetchFailure::InvalidRequest(InvalidRequest::HeaderName {
                name: secret.into(),
            }),
            FetchFailure::InvalidRequest(InvalidRequest::HeaderValue {
                name: secret.into(),
            }),
            FetchFailure::Dns(std::io::Error::other(format!("{secret}: no such host"))),
            FetchFailure::Outbound(format!("proxy for {secret} is down").into()),
        ] {
            assert!(failure.to_string().contains(secret), "{failure}");
            let record = failure.record();
            assert!(!record.detail.contains(secret), "{record:?}");
            assert_eq!(record.kind, failure.kind());
        }
        let blocked = FetchFailure::BlockedAddress {
            address: "10.0.0.7".parse().expect("ip"),
            reason: BlockReason::Private,
        };
        assert_eq!(
            blocked.to_string(),
            "blocked address: 10.0.0.7 is private (RFC 1918)"
        );
        assert_eq!(
            blocked.record().detail,
            "blocked address: the address is private (RFC 1918)"
        );
        let address: IpAddr = "::ffff:10.0.0.7".parse().expect("ip");
        let embedded = FetchFailure::BlockedAddress {
            address,
            reason: claimscript_egress::classify(address).expect("refused"),
        };
        assert!(embedded.to_string().contains("10.0.0.7"), "{embedded}");
        assert!(!embedded.record().detail.contains("10.0.0.7"));
    }

    #[test]
    fn connect_failures_read_as_before() {
        let refused = FetchFailure::Connect(std::io::ErrorKind::ConnectionRefused.into());
        assert_eq!(refused.to_string(), "connection refused");
        assert_eq!(refused.record().detail, "connection refused");
        let lost = FetchFailure::ConnectionLost(std::io::ErrorKind::ConnectionReset.into());
        assert_eq!(lost.record().detail, "connection lost: connection reset");
    }
}
