//! The host side of the `http` interface: every request a script makes is
//! checked against its `[fetch]` grants and the address guard, performed on
//! tokio in the background, and recorded (method, scheme/host/port/path,
//! status, bytes, milliseconds, the failure's kind and safe detail; never
//! headers or bodies). Failures stay [`FetchFailure`]s until the WIT edge
//! (`http.wait`), where the script gets their text.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::http::header::{AUTHORIZATION, COOKIE, HeaderName, HeaderValue, LOCATION, USER_AGENT};
use ::http::{Method, Request as HttpRequest, StatusCode};
use bytes::Bytes;
use claimscript_egress::admit;
use claimscript_grants::FetchGrants;
use tokio::task::JoinHandle;
use url::Url;

use crate::bindings::claimscript::script::http::{self, Request, Response};
use crate::failure::{FetchFailure, InvalidRequest, NotGranted, ProtocolFault};
use crate::http_client::HttpClients;
use crate::outbound::GuardedClient;
use crate::outcome::FetchRecord;
use crate::state::RunState;

/// Redirects followed per request; each hop is checked again.
pub const MAX_REDIRECTS: usize = 3;

/// Request headers the host owns; a script's values for them are ignored.
const HOST_OWNED_HEADERS: &[&str] = &[
    "host",
    "connection",
    "transfer-encoding",
    "upgrade",
    "keep-alive",
    "te",
    "trailer",
    "content-length",
];

/// Requests of one run.
pub(crate) struct FetchState {
    grants: Option<Arc<FetchGrants>>,
    clients: Option<HttpClients>,
    next_handle: u32,
    started: u32,
    /// Requests refused before they started, answered at the next wait.
    refused: HashMap<u32, FetchFailure>,
    in_flight: HashMap<u32, (usize, JoinHandle<Finished>)>,
    pub(crate) records: Vec<FetchRecord>,
    /// When the run is audited: what requests and responses carried, for
    /// the trail's scrubber (never recorded as such).
    pub(crate) seen: Option<Seen>,
}

/// Most bytes of header values and bodies a run keeps for the trail's
/// scrubber. A value that would take the total past it is not kept (and so
/// not scrubbed): the cap bounds what an audited run holds, whatever its
/// script fetches.
pub(crate) const MAX_SEEN_BYTES: usize = 1 << 20;

/// Response headers whose values are framing and metadata, never a
/// credential: not kept for scrubbing (they would only garble records).
const PLAIN_RESPONSE_HEADERS: &[&str] = &[
    "accept-ranges",
    "age",
    "cache-control",
    "connection",
    "content-encoding",
    "content-language",
    "content-length",
    "content-type",
    "date",
    "expires",
    "keep-alive",
    "last-modified",
    "server",
    "transfer-encoding",
    "vary",
];

/// Methods recorded as they are; any other is recorded as `OTHER` (the
/// method is the script's own text, which may carry anything).
const RECORDED_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// What a run's requests and responses carried, for the trail's scrubber:
/// request header values, the bodies of requests that were sent, response
/// header values and bodies. At most [`MAX_SEEN_BYTES`] in all.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub(crate) header_values: Vec<String>,
    pub(crate) bodies: Vec<Vec<u8>>,
    bytes: usize,
}

impl Seen {
    /// Count `len` bytes against the cap; false when they do not fit.
    fn fits(&mut self, len: usize) -> bool {
        match self.bytes.checked_add(len) {
            Some(total) if total <= MAX_SEEN_BYTES => {
                self.bytes = total;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn keep_header_value(&mut self, value: &str) {
        if self.fits(value.len()) {
            self.header_values.push(value.to_string());
        }
    }

    pub(crate) fn keep_body(&mut self, body: &[u8]) {
        if !body.is_empty() && self.fits(body.len()) {
            self.bodies.push(body.to_vec());
        }
    }

    fn keep_response(&mut self, response: &Response) {
        for (name, value) in &response.headers {
            if !PLAIN_RESPONSE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                self.keep_header_value(value);
            }
        }
        self.keep_body(&response.body);
    }
}

/// The method as records show it: one of [`RECORDED_METHODS`], upper-case,
/// or `OTHER`.
fn recorded_method(method: &str) -> String {
    RECORDED_METHODS
        .iter()
        .find(|known| known.eq_ignore_ascii_case(method))
        .map_or("OTHER", |known| known)
        .to_string()
}

/// What a background request reports when it ends.
struct Finished {
    result: Result<Response, FetchFailure>,
    status: Option<u16>,
    bytes: u64,
    ms: u64,
}

impl FetchState {
    /// `clients` is `None` while a script is compiled: no requests then.
    pub(crate) fn new(grants: Option<FetchGrants>, clients: Option<HttpClients>) -> Self {
        FetchState {
            grants: grants.map(Arc::new),
            clients,
            next_handle: 1,
            started: 0,
            refused: HashMap::new(),
            in_flight: HashMap::new(),
            records: Vec::new(),
            seen: None,
        }
    }

    /// Keep what requests and responses carry, for the audit trail's scrubber.
    pub(crate) fn keep_for_scrubbing(&mut self) {
        self.seen = Some(Seen::default());
    }

    fn start(&mut self, request: Request) -> u32 {
        if let Some(seen) = &mut self.seen {
            request
                .headers
                .iter()
                .for_each(|(_, v)| seen.keep_header_value(v));
        }
        let handle = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1).max(1);
        let method = recorded_method(&request.method);
        let record = |url: String, refused: Option<&FetchFailure>| FetchRecord {
            method: method.clone(),
            url,
            status: None,
            bytes: 0,
            ms: 0,
            refused: refused.map(FetchFailure::record),
        };
        let url = match Url::parse(&request.url) {
            Ok(url) => url,
            Err(e) => {
                let failure = FetchFailure::InvalidUrl(e.to_string());
                self.records
                    .push(record(redact(&request.url), Some(&failure)));
                self.refused.insert(handle, failure);
                return handle;
            }
        };
        match self.admit_start(&url) {
            Err(failure) => {
                self.records.push(record(safe_url(&url), Some(&failure)));
                self.refused.insert(handle, failure);
            }
            Ok((grants, clients)) => {
                // Only a body that is sent can come back (echoed by the
                // service); a refused request's body goes nowhere.
                if let (Some(seen), Some(body)) = (&mut self.seen, &request.body) {
                    seen.keep_body(body);
                }
                self.started += 1;
                self.records.push(record(safe_url(&url), None));
                let task = tokio::spawn(perform(clients, grants, request, url));
                self.in_flight
                    .insert(handle, (self.records.len() - 1, task));
            }
        }
        handle
    }

    fn admit_start(&self, url: &Url) -> Result<(Arc<FetchGrants>, HttpClients), FetchFailure> {
        let Some(clients) = &self.clients else {
            return Err(FetchFailure::NotGranted(NotGranted::WhileCompiling));
        };
        admit(self.grants.as_deref(), url)?;
        let grants = self
            .grants
            .clone()
            .ok_or(FetchFailure::NotGranted(NotGranted::NoGrant))?;
        if let Some(max) = grants.max_requests
            && self.started >= max
        {
            return Err(FetchFailure::TooManyRequests { max });
        }
        Ok((grants, clients.clone()))
    }

    /// The first of `handles` to finish, or `None` when `timeout` passes
    /// first (or there is nothing to wait for but the timeout).
    async fn wait(
        &mut self,
        handles: &[u32],
        timeout: Option<Duration>,
    ) -> Result<Option<(u32, Result<Response, FetchFailure>)>, String> {
        if let Some(handle) = handles.iter().find(|h| self.refused.contains_key(h))
            && let Some(reason) = self.refused.remove(handle)
        {
            return Ok(Some((*handle, Err(reason))));
        }
        let waiting: Vec<u32> = handles
            .iter()
            .copied()
            .filter(|h| self.in_flight.contains_key(h))
            .collect();
        if waiting.is_empty() {
            return match timeout {
                Some(timeout) => {
                    tokio::time::sleep(timeout).await;
                    Ok(None)
                }
                None => Err(format!("none of the handles {handles:?} is in progress")),
            };
        }
        let first = {
            let tasks = self
                .in_flight
                .iter_mut()
                .filter(|(h, _)| waiting.contains(h))
                .map(|(h, (_, task))| async move { (*h, task.await) });
            let any = futures_util::future::select_all(tasks.map(Box::pin));
            match timeout {
                None => Some(any.await.0),
                Some(timeout) => tokio::time::timeout(timeout, any).await.ok().map(|r| r.0),
            }
        };
        let Some((index, finished)) = first else {
            return Ok(None);
        };
        let Some((record, _)) = self.in_flight.remove(&index) else {
            return Err(format!("request {index} finished twice"));
        };
        let finished = finished.unwrap_or_else(|e| Finished {
            result: Err(FetchFailure::Internal(e.to_string())),
            status: None,
            bytes: 0,
            ms: 0,
        });
        if let Some(r) = self.records.get_mut(record) {
            r.status = finished.status;
            r.bytes = finished.bytes;
            r.ms = finished.ms;
            r.refused = finished.result.as_ref().err().map(FetchFailure::record);
        }
        if let (Some(seen), Ok(response)) = (&mut self.seen, &finished.result) {
            seen.keep_response(response);
        }
        Ok(Some((index, finished.result)))
    }

    fn cancel(&mut self, handle: u32) {
        self.refused.remove(&handle);
        if let Some((record, task)) = self.in_flight.remove(&handle) {
            task.abort();
            if let Some(r) = self.records.get_mut(record) {
                r.refused = Some(FetchFailure::Aborted.record());
            }
        }
    }

    /// Stop what is still running when the run ends, and say so in the records.
    pub(crate) fn finish(&mut self) {
        for (_, (record, task)) in self.in_flight.drain() {
            task.abort();
            if let Some(r) = self.records.get_mut(record) {
                r.refused = Some(FetchFailure::NotAwaited.record());
            }
        }
    }
}

impl Drop for FetchState {
    fn drop(&mut self) {
        for (_, (_, task)) in self.in_flight.drain() {
            task.abort();
        }
    }
}

/// Whether a URL carries a user name or a password.
fn has_credentials(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// One request, redirects included, within the grant's `timeout_ms`.
async fn perform(
    clients: HttpClients,
    grants: Arc<FetchGrants>,
    request: Request,
    url: Url,
) -> Finished {
    let started = Instant::now();
    let timeout = Duration::from_millis(grants.timeout_ms);
    let outcome = tokio::time::timeout(timeout, follow(&clients, &grants, request, url)).await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Err(_) => Finished {
            result: Err(FetchFailure::Timeout {
                ms: grants.timeout_ms,
            }),
            status: None,
            bytes: 0,
            ms,
        },
        Ok(Err((reason, status))) => Finished {
            result: Err(reason),
            status,
            bytes: 0,
            ms,
        },
        Ok(Ok(response)) => Finished {
            status: Some(response.status),
            bytes: response.body.len() as u64,
            result: Ok(response),
            ms,
        },
    }
}

/// A failure, and the status of the response that caused it, if one came.
type Failure = (FetchFailure, Option<u16>);

async fn follow(
    clients: &HttpClients,
    grants: &Arc<FetchGrants>,
    request: Request,
    mut url: Url,
) -> Result<Response, Failure> {
    let fail = |f: FetchFailure| (f, None);
    let mut method = Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
        // The method is not echoed: it is the script's text, and the reason
        // goes into the run's records.
        .map_err(|_| fail(FetchFailure::InvalidRequest(InvalidRequest::Method)))?;
    let mut headers = request_headers(&request.headers).map_err(fail)?;
    let mut body = request.body.map(Bytes::from);
    let origin = url.origin();
    if has_credentials(&url) {
        // The guest's fetch() refuses these first; the host does too.
        return Err(fail(FetchFailure::InvalidRequest(InvalidRequest::Other(
            "the URL must not include credentials".into(),
        ))));
    }
    let guarded = GuardedClient::new(clients.clone(), grants.clone());
    for hop in 0..=MAX_REDIRECTS {
        // Admitted here, before any handler sees it; the guarded client
        // admits it again and its connector applies the address guard.
        admit(Some(grants), &url).map_err(|r| fail(r.into()))?;
        let mut builder = HttpRequest::builder()
            .method(method.clone())
            .uri(url.as_str());
        for (name, value) in headers.iter() {
            builder = builder.header(name, value);
        }
        let http_request = builder
            .body(body.clone().unwrap_or_default())
            .map_err(|e| {
                fail(FetchFailure::InvalidRequest(InvalidRequest::Other(
                    e.to_string(),
                )))
            })?;
        let response = match &clients.outbound {
            Some(outbound) => outbound.send(http_request, &guarded).await,
            None => guarded.send(http_request).await,
        }
        .map_err(fail)?;
        let status = response.status();
        if status.is_redirection()
            && let Some(location) = response.headers().get(LOCATION)
        {
            if hop == MAX_REDIRECTS {
                return Err((
                    FetchFailure::TooManyRedirects { max: MAX_REDIRECTS },
                    Some(status.as_u16()),
                ));
            }
            let invalid = |reason: String| {
                (
                    FetchFailure::Protocol(ProtocolFault::InvalidRedirect(reason)),
                    Some(status.as_u16()),
                )
            };
            let location = location
                .to_str()
                .map_err(|_| invalid("not visible ASCII".into()))?;
            url = url.join(location).map_err(|e| invalid(e.to_string()))?;
            // fetch() refuses a URL with credentials; a redirect to one is
            // refused the same way (and they are not echoed).
            if has_credentials(&url) {
                return Err(invalid(
                    "the location includes credentials (user:password@), which fetch refuses"
                        .into(),
                ));
            }
            if url.origin() != origin {
                headers.remove(AUTHORIZATION);
                headers.remove(COOKIE);
            }
            if status == StatusCode::SEE_OTHER
                || ((status == StatusCode::MOVED_PERMANENTLY || status == StatusCode::FOUND)
                    && method == Method::POST)
            {
                method = Method::GET;
                body = None;
            }
            continue;
        }
        let response_headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .into_body()
            .read(grants.max_response_bytes)
            .await
            .map_err(|f| (f, Some(status.as_u16())))?;
        return Ok(Response {
            status: status.as_u16(),
            status_text: status.canonical_reason().unwrap_or("").to_string(),
            url: url.to_string(),
            redirected: hop > 0,
            headers: response_headers,
            body,
        });
    }
    Err(fail(FetchFailure::TooManyRedirects { max: MAX_REDIRECTS }))
}

fn request_headers(pairs: &[(String, String)]) -> Result<::http::HeaderMap, FetchFailure> {
    let mut headers = ::http::HeaderMap::new();
    for (name, value) in pairs {
        let lower = name.to_ascii_lowercase();
        if HOST_OWNED_HEADERS.contains(&lower.as_str()) || lower.starts_with("proxy-") {
            continue;
        }
        let name = HeaderName::from_bytes(lower.as_bytes()).map_err(|_| {
            FetchFailure::InvalidRequest(InvalidRequest::HeaderName { name: name.clone() })
        })?;
        // The value is never echoed: it may be a credential.
        let value = HeaderValue::from_str(value).map_err(|_| {
            FetchFailure::InvalidRequest(InvalidRequest::HeaderValue {
                name: name.to_string(),
            })
        })?;
        headers.append(name, value);
    }
    if !headers.contains_key(USER_AGENT) {
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("claimscript/", env!("CARGO_PKG_VERSION"))),
        );
    }
    Ok(headers)
}

/// `scheme://host:port/path`, without credentials, query or fragment.
fn safe_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

/// An unparsable URL, cut before anything that may hold a secret.
fn redact(url: &str) -> String {
    let mut end = url.find(['?', '#', '@']).unwrap_or(url.len()).min(200);
    while !url.is_char_boundary(end) {
        end -= 1;
    }
    url[..end].to_string()
}

impl http::Host for RunState {
    fn start(&mut self, request: Request) -> wasmtime::Result<u32> {
        Ok(self.fetch.start(request))
    }

    async fn wait(
        &mut self,
        handles: Vec<u32>,
        timeout_ns: Option<u64>,
    ) -> wasmtime::Result<Option<(u32, Result<Response, String>)>> {
        let timeout = timeout_ns.map(Duration::from_nanos);
        let finished = self
            .fetch
            .wait(&handles, timeout)
            .await
            .map_err(|m| wasmtime::format_err!("http.wait: {m}"))?;
        // The WIT edge: the one place a failure becomes the script's text.
        Ok(finished.map(|(handle, result)| (handle, result.map_err(|f| f.to_string()))))
    }

    fn cancel(&mut self, handle: u32) -> wasmtime::Result<()> {
        self.fetch.cancel(handle);
        Ok(())
    }
}
