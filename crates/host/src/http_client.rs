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
use claimscript_egress::{Refusal, classify};
use http::Uri;
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

pub(crate) type HttpClient = Client<HttpsConnector<GuardedConnector>, Full<Bytes>>;

/// Two connection pools per engine. Requests admitted only through a
/// wildcard use `guarded`, whose connector refuses every non-public address;
/// requests whose grant names the host or address itself use `explicit`. A
/// pooled connection therefore never serves a request that could not have
/// opened it.
#[derive(Clone)]
pub(crate) struct HttpClients {
    pub(crate) guarded: HttpClient,
    pub(crate) explicit: HttpClient,
}

impl HttpClients {
    pub(crate) fn new() -> Result<HttpClients, String> {
        Ok(HttpClients {
            guarded: client(false)?,
            explicit: client(true)?,
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

fn client(opens_non_public: bool) -> Result<HttpClient, String> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS configuration: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(GuardedConnector { opens_non_public });
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// Resolves a host, refuses it when any address is non-public (unless the
/// grant named it), and connects to the checked addresses only.
#[derive(Clone, Debug)]
pub(crate) struct GuardedConnector {
    opens_non_public: bool,
}

/// Why a connection was not made; the fetch reports it to the script.
#[derive(Debug)]
pub(crate) enum ConnectError {
    Refused(Refusal),
    Resolve(String),
    Connect(std::io::Error),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Refused(r) => write!(f, "{r}"),
            ConnectError::Resolve(m) => write!(f, "DNS lookup failed: {m}"),
            ConnectError::Connect(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                f.write_str("connection refused")
            }
            ConnectError::Connect(e) => write!(f, "connection failed: {e}"),
        }
    }
}

impl std::error::Error for ConnectError {}

impl tower_service::Service<Uri> for GuardedConnector {
    type Response = TokioIo<TcpStream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let opens_non_public = self.opens_non_public;
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| ConnectError::Resolve("no host".into()))?;
            let port = uri
                .port_u16()
                .unwrap_or(if uri.scheme_str() == Some("https") {
                    443
                } else {
                    80
                });
            let addresses = resolve(host, port).await?;
            if !opens_non_public {
                for address in &addresses {
                    if let Some(reason) = classify(address.ip()) {
                        return Err(ConnectError::Refused(Refusal::BlockedAddress {
                            address: address.ip(),
                            reason,
                        }));
                    }
                }
            }
            let mut last = None;
            for address in addresses {
                match TcpStream::connect(address).await {
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
async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, ConnectError> {
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| ConnectError::Resolve(e.to_string()))?
        .collect();
    if found.is_empty() {
        return Err(ConnectError::Resolve(format!("{host} has no addresses")));
    }
    Ok(found)
}
