//! The host side of the `http` interface: every request a script makes is
//! checked against its `[fetch]` grants and recorded.

use std::collections::HashMap;

use claimscript_grants::{FetchGrants, Scheme};
use url::Url;

use crate::bindings::claimscript::script::http::{self, Request, Response};
use crate::outcome::FetchRecord;
use crate::state::RunState;

/// Requests of one run.
pub(crate) struct FetchState {
    grants: Option<FetchGrants>,
    next_handle: u32,
    ready: HashMap<u32, Result<Response, String>>,
    pub(crate) records: Vec<FetchRecord>,
}

impl FetchState {
    pub(crate) fn new(grants: Option<FetchGrants>) -> Self {
        FetchState {
            grants,
            next_handle: 1,
            ready: HashMap::new(),
            records: Vec::new(),
        }
    }

    fn start(&mut self, request: Request) -> u32 {
        let handle = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1).max(1);
        let method = request.method.to_ascii_uppercase();
        let (url, result) = match Url::parse(&request.url) {
            Err(e) => (redact(&request.url), Err(format!("invalid URL: {e}"))),
            Ok(url) => (safe_url(&url), self.admit(&url)),
        };
        let result = result.and_then(|()| {
            Err("outbound HTTP is not enabled in this build of the host".to_string())
        });
        self.records.push(FetchRecord {
            method,
            url,
            status: None,
            bytes: 0,
            ms: 0,
            refused: result.as_ref().err().cloned(),
        });
        self.ready.insert(handle, result);
        handle
    }

    /// The grant check: scheme, then `allow` patterns, then `max_requests`.
    fn admit(&self, url: &Url) -> Result<(), String> {
        let Some(grants) = &self.grants else {
            return Err("not granted: this script has no [fetch] grant".into());
        };
        let scheme = Scheme::parse(url.scheme()).ok_or_else(|| {
            format!(
                "not granted: unsupported scheme `{}` (http and https only)",
                url.scheme()
            )
        })?;
        let host = url.host_str().ok_or("invalid URL: no host")?;
        let port = url.port().unwrap_or(scheme.default_port());
        if !grants.allows(scheme, host, port) {
            return Err(format!(
                "not granted: {}://{host}:{port} matches no [fetch] allow pattern",
                scheme.as_str()
            ));
        }
        if let Some(max) = grants.max_requests {
            let started = self.records.len();
            if started >= max as usize {
                return Err(format!("too many requests: the grant allows {max} per run"));
            }
        }
        Ok(())
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
    let end = url.find(['?', '#', '@']).unwrap_or(url.len()).min(200);
    let mut end = end;
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
    ) -> wasmtime::Result<(u32, Result<Response, String>)> {
        for handle in &handles {
            if let Some(result) = self.fetch.ready.remove(handle) {
                return Ok((*handle, result));
            }
        }
        wasmtime::bail!("http.wait: none of the handles {handles:?} is in progress")
    }

    fn cancel(&mut self, handle: u32) -> wasmtime::Result<()> {
        self.fetch.ready.remove(&handle);
        Ok(())
    }
}
