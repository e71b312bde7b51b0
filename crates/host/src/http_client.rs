//! The engine's HTTP client: hyper on tokio, rustls with the Mozilla root
//! store (`webpki-roots`: the same roots on every machine, no dependency on
//! the host's CA files), and a connector that resolves, checks every address
//! with the egress guard and dials exactly the checked address.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use claimscript_egress::{Guard, Refusal};
use http::Uri;
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use crate::failure::{FetchFailure, own_io};
use crate::outbound::Outbound;

pub(crate) type HttpClient = Client<HttpsConnector<GuardedConnector>, Full<Bytes>>;

/// Most bytes of a response's status line and headers: over it, the fetch
/// fails (`too_large`) rather than the run holding them. hyper also refuses
/// a head of more than 100 header lines. (hyper's own default is about
/// 400 KiB; real services send a few KiB at most.)
pub const MAX_RESPONSE_HEAD_BYTES: usize = 128 * 1024;

/// Two connection pools per engine. Requests admitted only through a
/// wildcard use `guarded`, whose connector refuses every non-public address;
/// requests whose grant names the host or address itself use `explicit`. A
/// pooled connection therefore never serves a request that could not have
/// opened it. `outbound` is the embedder's handler, if any, that every
/// admitted request goes through
/// ([`EngineConfig::outbound`](crate::EngineConfig::outbound)).
#[derive(Clone)]
pub(crate) struct HttpClients {
    pub(crate) guarded: HttpClient,
    pub(crate) explicit: HttpClient,
    pub(crate) outbound: Option<Arc<dyn Outbound>>,
}

impl std::fmt::Debug for HttpClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClients")
            .field("outbound", &self.outbound)
            .finish_non_exhaustive()
    }
}

impl HttpClients {
    pub(crate) fn new(outbound: Option<Arc<dyn Outbound>>) -> Result<HttpClients, rustls::Error> {
        Ok(HttpClients {
            guarded: client(Guard::public_only(), Resolver::System)?,
            explicit: client(Guard::opening_non_public(), Resolver::System)?,
            outbound,
        })
    }

    pub(crate) fn for_admission(&self, opens_non_public: bool) -> &HttpClient {
        if opens_non_public {
            &self.explicit
        } else {
            &self.guarded
        }
    }
}

fn client(guard: Guard, resolver: Resolver) -> Result<HttpClient, rustls::Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(GuardedConnector { guard, resolver });
    Ok(Client::builder(TokioExecutor::new())
        .http1_max_buf_size(MAX_RESPONSE_HEAD_BYTES)
        .build(https))
}

/// Resolves a host, refuses it when the egress guard refuses any of its
/// addresses ([`Guard::check_addresses`]: the guard the egress crate tests),
/// and connects to the checked addresses only.
#[derive(Clone, Debug)]
pub(crate) struct GuardedConnector {
    guard: Guard,
    resolver: Resolver,
}

/// How the connector looks names up: the system's resolver, or (in tests)
/// a function, so that a failed lookup goes through the real connector and
/// client without a query leaving the machine.
#[derive(Clone, Copy, Debug)]
enum Resolver {
    System,
    #[cfg(test)]
    Fixed(fn(&str) -> std::io::Result<Vec<IpAddr>>),
}

/// Why a connection was not made; the fetch reports it to the script.
#[derive(Debug)]
pub(crate) enum ConnectError {
    Refused(Refusal),
    Resolve(std::io::Error),
    Connect(std::io::Error),
}

impl ConnectError {
    /// The fetch failure this is (found, borrowed, in a client error's
    /// source chain).
    pub(crate) fn to_failure(&self) -> FetchFailure {
        match self {
            ConnectError::Refused(refusal) => FetchFailure::from(refusal.clone()),
            ConnectError::Resolve(e) => FetchFailure::Dns(own_io(e)),
            ConnectError::Connect(e) => FetchFailure::Connect(own_io(e)),
        }
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_failure())
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectError::Refused(r) => Some(r),
            ConnectError::Resolve(e) | ConnectError::Connect(e) => Some(e),
        }
    }
}

impl tower_service::Service<Uri> for GuardedConnector {
    type Response = TokioIo<TcpStream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let (guard, resolver) = (self.guard, self.resolver);
        Box::pin(async move {
            let host = uri.host().ok_or_else(|| {
                ConnectError::Resolve(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the URL has no host",
                ))
            })?;
            let port = uri
                .port_u16()
                .unwrap_or(if uri.scheme_str() == Some("https") {
                    443
                } else {
                    80
                });
            let resolved = resolve(resolver, host, port).await?;
            let addresses = guard
                .check_addresses(&resolved)
                .map_err(ConnectError::Refused)?;
            let mut last = None;
            for address in addresses {
                match TcpStream::connect(SocketAddr::new(address, port)).await {
                    Ok(stream) => {
                        let _ = stream.set_nodelay(true);
                        return Ok(TokioIo::new(stream));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(ConnectError::Connect(last.unwrap_or_else(|| {
                std::io::Error::other("the host has no addresses")
            })))
        })
    }
}

/// IP literals are used as they are; names are looked up once.
async fn resolve(resolver: Resolver, host: &str, port: u16) -> Result<Vec<IpAddr>, ConnectError> {
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let found: Vec<IpAddr> = match resolver {
        Resolver::System => tokio::net::lookup_host((host, port))
            .await
            .map_err(ConnectError::Resolve)?
            .map(|address| address.ip())
            .collect(),
        #[cfg(test)]
        Resolver::Fixed(lookup) => lookup(host).map_err(ConnectError::Resolve)?,
    };
    if found.is_empty() {
        return Err(ConnectError::Resolve(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the name has no addresses",
        )));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::{FetchFailureKind, from_client_error};

    /// Send a GET for `url` through a client whose connector resolves with
    /// `lookup`, and classify the error as the engine does.
    async fn fail(
        url: &str,
        guard: Guard,
        lookup: fn(&str) -> std::io::Result<Vec<IpAddr>>,
    ) -> FetchFailure {
        let client = client(guard, Resolver::Fixed(lookup)).expect("client");
        let request = http::Request::get(url)
            .body(Full::new(Bytes::new()))
            .expect("request");
        match client.request(request).await {
            Ok(response) => panic!("expected a failure, got {}", response.status()),
            Err(e) => from_client_error(&e, e.is_connect(), MAX_RESPONSE_HEAD_BYTES),
        }
    }

    #[tokio::test]
    async fn a_failed_lookup_through_the_connector_is_a_dns_failure() {
        let failure = fail(
            "http://no-such-host.claimscript.test/x",
            Guard::opening_non_public(),
            |host| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("injected resolver: no address for {host}"),
                ))
            },
        )
        .await;
        assert_eq!(failure.kind(), FetchFailureKind::Dns, "{failure}");
        assert_eq!(
            failure.to_string(),
            "DNS lookup failed: injected resolver: no address for no-such-host.claimscript.test"
        );
        assert_eq!(failure.record().detail, "DNS lookup failed");
        let empty = fail(
            "http://empty.claimscript.test/x",
            Guard::opening_non_public(),
            |_| Ok(Vec::new()),
        )
        .await;
        assert_eq!(
            empty.to_string(),
            "DNS lookup failed: the name has no addresses"
        );
        assert_eq!(empty.record().detail, "DNS lookup failed");
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_refused_address_is_blocked() {
        // The guard checks what the resolver found, before any connection.
        let failure = fail(
            "http://internal.claimscript.test/x",
            Guard::public_only(),
            |_| Ok(vec![IpAddr::from([10, 0, 0, 7])]),
        )
        .await;
        assert_eq!(
            failure.kind(),
            FetchFailureKind::BlockedAddress,
            "{failure}"
        );
        assert_eq!(
            failure.to_string(),
            "blocked address: 10.0.0.7 is private (RFC 1918)"
        );
        assert_eq!(
            failure.record().detail,
            "blocked address: the address is private (RFC 1918)"
        );
    }
}
