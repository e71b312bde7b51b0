//! The embedder's seam for outbound HTTP: [`Outbound`], set in
//! [`EngineConfig::outbound`](crate::EngineConfig::outbound).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use claimscript_egress::admit;
use claimscript_grants::FetchGrants;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use url::Url;

use crate::failure::{BoxError, FetchFailure, from_client_error};
use crate::http_client::{HttpClients, MAX_RESPONSE_HEAD_BYTES};

/// What [`Outbound::send`] returns.
pub type OutboundFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<ResponseBody>, FetchFailure>> + Send + 'a>>;

/// Where every admitted fetch goes out: set one in
/// [`EngineConfig::outbound`](crate::EngineConfig::outbound).
///
/// Order of checks for each request (and each redirect hop):
///
/// 1. the script's `[fetch]` grants admit the URL (and `max_requests`);
///    a refused request never reaches the handler;
/// 2. the handler gets the admitted request and a [`GuardedClient`];
/// 3. [`GuardedClient::send`] admits the request's URL against the grants
///    again (a handler that rewrites the URL is held to the same grants),
///    and its connector applies the address guard to every resolved
///    address and dials exactly the checked address;
/// 4. the host reads the response body under `max_response_bytes`,
///    follows redirects (back to 1) and applies the grant's `timeout_ms`
///    to the whole, handler included.
///
/// A handler can add headers, trace, time or count requests, choose among
/// clients, and answer a request itself (a fake in tests): a canned
/// response reaches no network. What Rust cannot stop is a handler that
/// opens its own sockets instead of calling [`GuardedClient::send`]; then
/// the address guard (step 3) is its own business, as with wasi-http's
/// `WasiHttpHooks::send_request` and Spin's `OutboundHttpInterceptor`,
/// whose overrides likewise replace the default sender. Without a handler
/// (the default), every request takes [`GuardedClient::send`].
///
/// ```
/// use claimscript::{GuardedClient, Outbound, OutboundFuture};
///
/// /// Adds a tenant header to every request, then takes the guarded path.
/// #[derive(Debug)]
/// struct Tenant(http::HeaderValue);
///
/// impl Outbound for Tenant {
///     fn send<'a>(
///         &'a self,
///         mut request: http::Request<bytes::Bytes>,
///         client: &'a GuardedClient,
///     ) -> OutboundFuture<'a> {
///         request.headers_mut().insert("x-tenant", self.0.clone());
///         Box::pin(client.send(request))
///     }
/// }
///
/// let mut config = claimscript::EngineConfig::default();
/// config.outbound = Some(std::sync::Arc::new(Tenant(http::HeaderValue::from_static("acme"))));
/// ```
pub trait Outbound: Send + Sync + std::fmt::Debug {
    /// Send `request`, which the script's grants admitted: one hop (each
    /// redirect comes here again, admitted again). Its headers are the
    /// script's, less those the host owns, plus `user-agent`. To go out
    /// under the grants and the address guard, call
    /// [`GuardedClient::send`]; a response the handler makes itself is the
    /// script's response as it is.
    fn send<'a>(
        &'a self,
        request: http::Request<Bytes>,
        client: &'a GuardedClient,
    ) -> OutboundFuture<'a>;
}

/// The engine's HTTP client, bound to one run's grants: the default path
/// for a request, and the one an [`Outbound`] handler calls to go out under
/// the policy.
#[derive(Clone)]
pub struct GuardedClient {
    clients: HttpClients,
    grants: Arc<FetchGrants>,
}

impl std::fmt::Debug for GuardedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedClient")
            .field("allow", &self.grants.allow)
            .finish_non_exhaustive()
    }
}

impl GuardedClient {
    pub(crate) fn new(clients: HttpClients, grants: Arc<FetchGrants>) -> GuardedClient {
        GuardedClient { clients, grants }
    }

    /// Send `request` through the engine's connection pools: its URL must
    /// be admitted by the run's grants (again: a handler may have changed
    /// it), and the connector refuses every address the egress guard
    /// refuses for that admission. The response body is streamed; the host
    /// reads it under the grant's `max_response_bytes`.
    pub async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<ResponseBody>, FetchFailure> {
        let url = Url::parse(&request.uri().to_string())
            .map_err(|e| FetchFailure::InvalidUrl(e.to_string()))?;
        let admission = admit(Some(&self.grants), &url)?;
        let client = self.clients.for_admission(admission.opens_non_public);
        let (parts, body) = request.into_parts();
        let response = client
            .request(http::Request::from_parts(parts, Full::new(body)))
            .await
            .map_err(|e| {
                let connecting = e.is_connect();
                from_client_error(&e, connecting, MAX_RESPONSE_HEAD_BYTES)
            })?;
        Ok(response.map(ResponseBody::new))
    }
}

/// A response body: streamed from the network, or made by an [`Outbound`]
/// handler.
pub struct ResponseBody(UnsyncBoxBody<Bytes, BoxError>);

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody").finish_non_exhaustive()
    }
}

impl ResponseBody {
    /// Any body of [`Bytes`] frames; its errors fail the fetch (a
    /// [`FetchFailure`] as it is, an HTTP client error by its cause, any
    /// other as [`FetchFailure::Outbound`]).
    pub fn new<B>(body: B) -> ResponseBody
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        ResponseBody(body.map_err(Into::into).boxed_unsync())
    }

    /// A body of these bytes.
    pub fn full(bytes: impl Into<Bytes>) -> ResponseBody {
        ResponseBody::new(Full::new(bytes.into()))
    }

    /// An empty body.
    pub fn empty() -> ResponseBody {
        ResponseBody::full(Bytes::new())
    }

    /// Read the body to its end, failing once it is over `max` bytes.
    pub(crate) async fn read(mut self, max: usize) -> Result<Vec<u8>, FetchFailure> {
        let mut out = Vec::new();
        while let Some(frame) = self.0.frame().await {
            let frame = frame.map_err(body_failure)?;
            if let Ok(data) = frame.into_data() {
                if out.len().saturating_add(data.len()) > max {
                    return Err(FetchFailure::TooLarge(
                        crate::failure::TooLarge::ResponseBody { max },
                    ));
                }
                out.extend_from_slice(&data);
            }
        }
        Ok(out)
    }
}

/// The failure behind an error reading a body.
fn body_failure(error: BoxError) -> FetchFailure {
    match error.downcast::<FetchFailure>() {
        Ok(failure) => *failure,
        Err(error) => {
            if error.is::<hyper::Error>() {
                from_client_error(&*error, false, MAX_RESPONSE_HEAD_BYTES)
            } else {
                FetchFailure::Outbound(error)
            }
        }
    }
}
