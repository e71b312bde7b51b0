//! The host side of the `http` interface: every request a script makes is
//! checked against its `[fetch]` grants and the address guard, performed on
//! tokio in the background, and recorded (method, scheme/host/port/path,
//! status, bytes, milliseconds, refusal reason; never headers or bodies).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::http::header::{AUTHORIZATION, COOKIE, HeaderName, HeaderValue, LOCATION, USER_AGENT};
use ::http::{Method, Request as HttpRequest, StatusCode};
use bytes::Bytes;
use claimscript_egress::admit;
use claimscript_grants::FetchGrants;
use http_body_util::{BodyExt, Full};
use tokio::task::JoinHandle;
use url::Url;

use crate::bindings::claimscript::script::http::{self, Request, Response};
use crate::http_client::{ConnectError, HttpClients};
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
    refused: HashMap<u32, String>,
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
    result: Result<Response, String>,
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
        let record = |url: String, refused: Option<String>| FetchRecord {
            method: method.clone(),
            url,
            status: None,
            bytes: 0,
            ms: 0,
            refused,
        };
        let url = match Url::parse(&request.url) {
            Ok(url) => url,
            Err(e) => {
                let reason = format!("invalid URL: {e}");
                self.records
                    .push(record(redact(&request.url), Some(reason.clone())));
                self.refused.insert(handle, reason);
                return handle;
            }
        };
        match self.admit_start(&url) {
            Err(reason) => {
                self.records
                    .push(record(safe_url(&url), Some(reason.clone())));
                self.refused.insert(handle, reason);
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

    fn admit_start(&self, url: &Url) -> Result<(Arc<FetchGrants>, HttpClients), String> {
        let Some(clients) = &self.clients else {
            return Err("fetch is not available while the script is compiled".into());
        };
        admit(self.grants.as_deref(), url).map_err(|r| r.to_string())?;
        let grants = self
            .grants
            .clone()
            .ok_or("not granted: this script has no [fetch] grant")?;
        if let Some(max) = grants.max_requests
            && self.started >= max
        {
            return Err(format!("too many requests: the grant allows {max} per run"));
        }
        Ok((grants, clients.clone()))
    }

    /// The first of `handles` to finish, or `None` when `timeout` passes
    /// first (or there is nothing to wait for but the timeout).
    async fn wait(
        &mut self,
        handles: &[u32],
        timeout: Option<Duration>,
    ) -> Result<Option<(u32, Result<Response, String>)>, String> {
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
            result: Err(format!("the request task failed: {e}")),
            status: None,
            bytes: 0,
            ms: 0,
        });
        if let Some(r) = self.records.get_mut(record) {
            r.status = finished.status;
            r.bytes = finished.bytes;
            r.ms = finished.ms;
            r.refused = finished.result.as_ref().err().cloned();
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
                r.refused = Some("aborted by the script".into());
            }
        }
    }

    /// Stop what is still running when the run ends, and say so in the records.
    pub(crate) fn finish(&mut self) {
        for (_, (record, task)) in self.in_flight.drain() {
            task.abort();
            if let Some(r) = self.records.get_mut(record) {
                r.refused = Some("not awaited: the run ended first".into());
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
            result: Err(format!(
                "timeout: no complete response within {} ms",
                grants.timeout_ms
            )),
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

type Failure = (String, Option<u16>);

async fn follow(
    clients: &HttpClients,
    grants: &FetchGrants,
    request: Request,
    mut url: Url,
) -> Result<Response, Failure> {
    let fail = |m: String| (m, None);
    let mut method = Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
        // The method is not echoed: it is the script's text, and the reason
        // goes into the run's records.
        .map_err(|_| fail("invalid method: not an HTTP method token".into()))?;
    let mut headers = request_headers(&request.headers).map_err(fail)?;
    let mut body = request.body.map(Bytes::from);
    let origin = url.origin();
    for hop in 0..=MAX_REDIRECTS {
        let admission = admit(Some(grants), &url).map_err(|r| fail(r.to_string()))?;
        let client = clients.for_admission(admission.opens_non_public);
        let mut builder = HttpRequest::builder()
            .method(method.clone())
            .uri(url.as_str());
        for (name, value) in headers.iter() {
            builder = builder.header(name, value);
        }
        let http_request = builder
            .body(Full::new(body.clone().unwrap_or_default()))
            .map_err(|e| fail(format!("invalid request: {e}")))?;
        let response = client
            .request(http_request)
            .await
            .map_err(|e| fail(describe_client_error(&e)))?;
        let status = response.status();
        if status.is_redirection()
            && let Some(location) = response.headers().get(LOCATION)
        {
            if hop == MAX_REDIRECTS {
                return Err((
                    format!("too many redirects: at most {MAX_REDIRECTS} are followed"),
                    Some(status.as_u16()),
                ));
            }
            let location = location
                .to_str()
                .map_err(|_| fail("invalid redirect location".into()))?;
            url = url
                .join(location)
                .map_err(|e| fail(format!("invalid redirect location: {e}")))?;
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
        let body = read_body(response.into_body(), grants.max_response_bytes)
            .await
            .map_err(|m| (m, Some(status.as_u16())))?;
        return Ok(Response {
            status: status.as_u16(),
            status_text: status.canonical_reason().unwrap_or("").to_string(),
            url: url.to_string(),
            redirected: hop > 0,
            headers: response_headers,
            body,
        });
    }
    Err(fail(format!(
        "too many redirects: at most {MAX_REDIRECTS} are followed"
    )))
}

fn request_headers(pairs: &[(String, String)]) -> Result<::http::HeaderMap, String> {
    let mut headers = ::http::HeaderMap::new();
    for (name, value) in pairs {
        let lower = name.to_ascii_lowercase();
        if HOST_OWNED_HEADERS.contains(&lower.as_str()) || lower.starts_with("proxy-") {
            continue;
        }
        let name = HeaderName::from_bytes(lower.as_bytes())
            .map_err(|_| format!("invalid header name `{name}`"))?;
        // The value is never echoed: it may be a credential.
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("invalid value for header `{name}`"))?;
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

async fn read_body(mut body: hyper::body::Incoming, max: usize) -> Result<Vec<u8>, String> {
    let too_large = || format!("response too large: the body is over max_response_bytes = {max}");
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("reading the response failed: {e}"))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > max {
                return Err(too_large());
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// The reason behind a client error, found in its source chain.
fn describe_client_error(error: &hyper_util::client::legacy::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(e) = source {
        if let Some(connect) = e.downcast_ref::<ConnectError>() {
            return connect.to_string();
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return "connection refused".into();
            }
            return format!("connection failed: {io}");
        }
        source = e.source();
    }
    if error.is_connect() {
        "connection failed".into()
    } else {
        format!("request failed: {error}")
    }
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
        self.fetch
            .wait(&handles, timeout)
            .await
            .map_err(|m| wasmtime::format_err!("http.wait: {m}"))
    }

    fn cancel(&mut self, handle: u32) -> wasmtime::Result<()> {
        self.fetch.cancel(handle);
        Ok(())
    }
}
