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
    /// server that does not speak TLS, a connection closed or reset during
    /// the handshake). The text says why, then quotes the TLS library:
    /// `TLS handshake failed: the server's certificate is not trusted: its
    /// issuer is unknown, as for a self-signed certificate (invalid peer
    /// certificate: UnknownIssuer)`.
    #[error("{}", tls_text(.0))]
    Tls(#[source] std::io::Error),
    /// The connection failed after it was opened (reset by the server, a
    /// TLS error after the handshake), and when: `connection lost:
    /// Connection reset by peer (os error 104), while reading the response
    /// body`.
    #[error("connection lost: {0}{1}")]
    ConnectionLost(#[source] std::io::Error, LostWhile),
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

/// When a connection was lost, as far as the HTTP client says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LostWhile {
    /// Sending the request or reading the status line and headers.
    ResponseHead,
    /// Reading the response body.
    ResponseBody,
    /// Sending the request body.
    RequestBody,
    /// Not known.
    Unknown,
}

impl std::fmt::Display for LostWhile {
    /// A suffix for [`FetchFailure::ConnectionLost`]'s text: `, while
    /// reading the response body` (empty when not known).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LostWhile::ResponseHead => ", before the response head was complete",
            LostWhile::ResponseBody => ", while reading the response body",
            LostWhile::RequestBody => ", while sending the request body",
            LostWhile::Unknown => "",
        })
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
            FetchFailure::ConnectionLost(..) => FetchFailureKind::ConnectionLost,
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
            // A certificate error may name the server the script chose.
            FetchFailure::Tls(e) => format!("TLS handshake failed: {}", tls_summary(e)),
            FetchFailure::ConnectionLost(e, _) => format!("connection lost: {}", e.kind()),
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

/// The script's text for a failed handshake: why, in the host's words,
/// then the TLS library's (or the I/O error's) own text.
fn tls_text(error: &std::io::Error) -> String {
    format!("TLS handshake failed: {} ({error})", tls_summary(error))
}

/// Why a handshake failed, in words that never quote the server's name or
/// certificate (the record keeps only these).
fn tls_summary(error: &std::io::Error) -> String {
    use rustls::CertificateError as C;
    let Some(tls) = rustls_error(error) else {
        return match error.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "the server closed the connection during the handshake".into()
            }
            std::io::ErrorKind::ConnectionReset => {
                "the connection was reset during the handshake".into()
            }
            kind => format!("it did not complete: {kind}"),
        };
    };
    let certificate = |why: &str| format!("the server's certificate is not trusted: {why}");
    match tls {
        rustls::Error::InvalidCertificate(e) => match e {
            C::UnknownIssuer => {
                certificate("its issuer is unknown, as for a self-signed certificate")
            }
            C::Expired | C::ExpiredContext { .. } => certificate("it has expired"),
            C::NotValidYet | C::NotValidYetContext { .. } => certificate("it is not valid yet"),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                certificate("it is not valid for the host name")
            }
            C::Revoked => certificate("it is revoked"),
            C::BadSignature
            | C::UnsupportedSignatureAlgorithmContext { .. }
            | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                certificate("its signature is bad or of an unsupported algorithm")
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                certificate("it is not for TLS servers")
            }
            C::BadEncoding => certificate("it is malformed"),
            _ => certificate("it was rejected"),
        },
        rustls::Error::NoCertificatesPresented => "the server presented no certificate".into(),
        rustls::Error::AlertReceived(alert) => format!("the server sent the alert {alert:?}"),
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => {
            "the server does not speak TLS as expected (a plain HTTP server?)".into()
        }
        rustls::Error::PeerIncompatible(_) => {
            "no TLS version or cipher suite in common with the server".into()
        }
        rustls::Error::PeerMisbehaved(_) => "the server broke the TLS protocol".into(),
        _ => "the TLS library refused the connection".into(),
    }
}

/// The innermost I/O error of `error`: hyper-rustls wraps the handshake's
/// error (itself an I/O error carrying the rustls error) in another one,
/// and an I/O error's `source()` skips the error it wraps.
fn innermost_io(error: &std::io::Error) -> &std::io::Error {
    let mut current = error;
    while let Some(inner) = current
        .get_ref()
        .and_then(|e| e.downcast_ref::<std::io::Error>())
    {
        current = inner;
    }
    current
}

/// The rustls error an I/O error carries, however deeply wrapped.
fn rustls_error(error: &std::io::Error) -> Option<&rustls::Error> {
    innermost_io(error)
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
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
            let inner = innermost_io(io);
            if connecting && hyper_error.is_none() {
                // The TCP connection's own failures are `ConnectError`s
                // (found above): an I/O error while connecting comes from
                // the TLS handshake, which hyper-rustls wraps in another.
                if rustls_error(inner).is_some() || !std::ptr::eq(inner, io) {
                    return FetchFailure::Tls(own_io(inner));
                }
                return FetchFailure::Connect(own_io(inner));
            }
            // hyper's body decoder reports a body cut short as an I/O error.
            if io.kind() == std::io::ErrorKind::UnexpectedEof
                && hyper_error.is_some()
                && rustls_error(inner).is_none()
            {
                return FetchFailure::Protocol(ProtocolFault::Incomplete);
            }
            // A reset, or a TLS error after the handshake (a bad record, an
            // alert): the connection is no use any more.
            return FetchFailure::ConnectionLost(own_io(inner), lost_while(hyper_error));
        }
        current = e.source();
    }
    match hyper_error {
        Some(h) => FetchFailure::Protocol(ProtocolFault::Other(h.to_string())),
        None if connecting => FetchFailure::Connect(std::io::Error::other(error.to_string())),
        None => FetchFailure::Protocol(ProtocolFault::Other(error.to_string())),
    }
}

/// When the connection was lost, from the kind of the hyper error around
/// the I/O error (hyper's kinds are private: its fixed texts).
fn lost_while(error: Option<&hyper::Error>) -> LostWhile {
    match error.map(ToString::to_string).as_deref() {
        Some("error reading a body from connection") => LostWhile::ResponseBody,
        Some("error writing a body to connection") => LostWhile::RequestBody,
        Some(_) => LostWhile::ResponseHead,
        None => LostWhile::Unknown,
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
    fn a_handshake_error_wrapped_by_hyper_rustls_is_tls() {
        // hyper-rustls: `io::Error::other(handshake_error)`, where the
        // handshake's error is an I/O error carrying the rustls error.
        let unknown = || {
            std::io::Error::other(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
            ))
        };
        let failure = from_client_error(&unknown(), true, 1);
        assert_eq!(failure.kind(), FetchFailureKind::Tls, "{failure}");
        assert_eq!(
            failure.to_string(),
            "TLS handshake failed: the server's certificate is not trusted: its issuer is \
             unknown, as for a self-signed certificate (invalid peer certificate: UnknownIssuer)"
        );
        assert_eq!(
            failure.record().detail,
            "TLS handshake failed: the server's certificate is not trusted: its issuer is \
             unknown, as for a self-signed certificate"
        );
        // The rustls error stays reachable.
        let source = StdError::source(&failure).and_then(|e| e.downcast_ref::<std::io::Error>());
        assert!(
            source
                .and_then(|io| io.get_ref())
                .is_some_and(|e| e.is::<rustls::Error>()),
            "{source:?}"
        );

        // A certificate for another name: the record does not quote names.
        let other_name = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName),
        ));
        assert_eq!(
            from_client_error(&other_name, true, 1).record().detail,
            "TLS handshake failed: the server's certificate is not trusted: it is not valid for the host name"
        );

        // Closed during the handshake: no rustls error, still the handshake.
        let eof = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "tls handshake eof",
        ));
        let failure = from_client_error(&eof, true, 1);
        assert_eq!(failure.kind(), FetchFailureKind::Tls, "{failure}");
        assert_eq!(
            failure.to_string(),
            "TLS handshake failed: the server closed the connection during the handshake (tls handshake eof)"
        );

        // A rustls error after the handshake loses the connection; an I/O
        // error while connecting that is not a handshake's is a connect
        // failure.
        assert_eq!(
            from_client_error(&unknown(), false, 1).kind(),
            FetchFailureKind::ConnectionLost
        );
        let plain = std::io::Error::other("missing scheme");
        assert_eq!(
            from_client_error(&plain, true, 1).kind(),
            FetchFailureKind::Connect
        );
    }

    #[test]
    fn connect_failures_read_as_before() {
        let refused = FetchFailure::Connect(std::io::ErrorKind::ConnectionRefused.into());
        assert_eq!(refused.to_string(), "connection refused");
        assert_eq!(refused.record().detail, "connection refused");
        let lost = FetchFailure::ConnectionLost(
            std::io::ErrorKind::ConnectionReset.into(),
            LostWhile::ResponseBody,
        );
        assert_eq!(
            lost.to_string(),
            "connection lost: connection reset, while reading the response body"
        );
        assert_eq!(lost.record().detail, "connection lost: connection reset");
    }
}
