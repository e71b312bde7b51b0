//! The registry client: OCI distribution API over HTTPS (plain HTTP only
//! for loopback registries, when asked), basic and bearer-token auth.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};

use crate::auth::{CredentialSource, Credentials};
use crate::digest::Digest;
use crate::error::Error;
use crate::manifest::{
    COSIGN_SIGNATURE_ANNOTATION, COSIGN_SIMPLE_SIGNING, DOCKER_MANIFEST, Descriptor,
    GRANTS_ANNOTATION, MAX_GRANTS_BYTES, Manifest, OCI_IMAGE_CONFIG, OCI_INDEX, OCI_MANIFEST,
    WASM_CONFIG, WASM_LAYER, WasmConfig,
};
use crate::reference::{Reference, is_loopback_host};
use crate::signature::{
    LayerCheck, PublicKey, SignatureError, SigningKey, check_signature, simple_signing_payload,
};

/// The largest manifest accepted (registries commonly cap them at 4 MiB).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// The largest signature payload accepted.
const MAX_PAYLOAD_BYTES: u64 = 64 * 1024;

/// How a [`Client`] talks to registries.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Use plain HTTP. Only loopback registries are contacted this way;
    /// any other registry is refused with [`Error::PlainHttpNotLoopback`].
    pub plain_http: bool,
    /// Where credentials come from.
    pub credentials: CredentialSource,
    /// The timeout of each request.
    pub timeout: Duration,
    /// The largest Wasm layer accepted when pulling.
    pub max_blob_bytes: u64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            plain_http: false,
            credentials: CredentialSource::Default,
            timeout: Duration::from_secs(60),
            max_blob_bytes: 64 * 1024 * 1024,
        }
    }
}

impl ClientConfig {
    /// Plain HTTP for loopback registries (tests, local development).
    pub fn with_plain_http(mut self, plain_http: bool) -> Self {
        self.plain_http = plain_http;
        self
    }

    /// Take credentials from `source`.
    pub fn with_credentials(mut self, source: CredentialSource) -> Self {
        self.credentials = source;
        self
    }

    /// The per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest Wasm layer accepted when pulling.
    pub fn with_max_blob_bytes(mut self, max: u64) -> Self {
        self.max_blob_bytes = max;
        self
    }
}

/// The URL scheme for `reference` under `plain_http`: `https`, or `http`
/// for a loopback registry when plain HTTP is asked for; a non-loopback
/// registry with plain HTTP is refused. Pure: nothing is resolved or sent.
pub fn scheme_for(reference: &Reference, plain_http: bool) -> Result<&'static str, Error> {
    if !plain_http {
        return Ok("https");
    }
    if reference.is_loopback() {
        Ok("http")
    } else {
        Err(Error::PlainHttpNotLoopback {
            registry: reference.registry().to_string(),
        })
    }
}

/// A pulled artifact: the Wasm bytes and the grants that travel with them,
/// every blob checked against its digest.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Artifact {
    /// The reference pinned to the manifest digest that was loaded.
    pub reference: Reference,
    /// The manifest digest.
    pub digest: Digest,
    /// The manifest.
    pub manifest: Manifest,
    /// The Wasm layer.
    pub wasm: Vec<u8>,
    /// The grants (TOML text), if the artifact carries them.
    pub grants: Option<String>,
    /// The signature check, when keys were given.
    pub verified: Option<Verified>,
}

/// A successful signature check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The manifest digest that is signed.
    pub digest: Digest,
    /// The index of the key (in the slice given) that verified it.
    pub key_index: usize,
}

/// What a push stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pushed {
    /// `registry/repository:tag@digest`.
    pub reference: Reference,
    /// The manifest digest.
    pub digest: Digest,
}

/// A registry client. Cheap to share (`&Client` across tasks); it caches
/// bearer tokens per registry, repository and access.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    auth: Mutex<HashMap<String, String>>,
}

struct Req<'a> {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<&'a [u8]>,
}

impl Client {
    /// A client with `config`.
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        let http = reqwest::Client::builder()
            .https_only(!config.plain_http)
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("claimscript-oci/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(Error::Client)?;
        Ok(Client {
            http,
            config,
            auth: Mutex::new(HashMap::new()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn url(&self, r: &Reference, tail: &str) -> Result<Url, Error> {
        let scheme = scheme_for(r, self.config.plain_http)?;
        let text = format!("{scheme}://{}/v2/{}/{tail}", r.registry(), r.repository());
        Url::parse(&text).map_err(|e| Error::Status {
            method: "build".into(),
            url: text,
            status: 0,
            message: e.to_string(),
        })
    }

    fn scope_key(r: &Reference, push: bool) -> String {
        format!(
            "{}|{}|{}",
            r.registry(),
            r.repository(),
            if push { "pull,push" } else { "pull" }
        )
    }

    fn build(&self, req: &Req<'_>, auth: Option<&str>, r: &Reference) -> RequestBuilder {
        let mut b = self
            .http
            .request(req.method.clone(), req.url.clone())
            .headers(req.headers.clone());
        // Credentials only go to the registry itself, not to an upload
        // location on another host.
        if let Some(a) = auth
            && same_origin(&req.url, r)
        {
            b = b.header(AUTHORIZATION, a);
        }
        if let Some(body) = req.body {
            b = b.body(body.to_vec());
        }
        b
    }

    async fn send(&self, r: &Reference, push: bool, req: Req<'_>) -> Result<Response, Error> {
        let key = Client::scope_key(r, push);
        let cached = self.auth.lock().ok().and_then(|m| m.get(&key).cloned());
        let resp = self
            .build(&req, cached.as_deref(), r)
            .send()
            .await
            .map_err(|e| transport(&req, e))?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let header = self.authenticate(r, push, &challenge).await?;
        let resp = self
            .build(&req, Some(&header), r)
            .send()
            .await
            .map_err(|e| transport(&req, e))?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(Error::Unauthorized {
                registry: r.registry().to_string(),
                reason: "the registry refused the credentials".into(),
            });
        }
        if let Ok(mut m) = self.auth.lock() {
            m.insert(key, header);
        }
        Ok(resp)
    }

    fn credentials(&self, r: &Reference) -> Result<Credentials, Error> {
        self.config
            .credentials
            .credentials_for(r.registry())?
            .ok_or_else(|| Error::Unauthorized {
                registry: r.registry().to_string(),
                reason: format!(
                    "credentials required; none found (set {} and {}, or log in with docker login)",
                    crate::auth::ENV_USERNAME,
                    crate::auth::ENV_PASSWORD
                ),
            })
    }

    /// Answer a `WWW-Authenticate` challenge: basic credentials, or a
    /// bearer token fetched from the challenge's realm.
    async fn authenticate(
        &self,
        r: &Reference,
        push: bool,
        challenge: &str,
    ) -> Result<String, Error> {
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            let c = self.credentials(r)?;
            let basic = STANDARD.encode(format!("{}:{}", c.username, c.password));
            return Ok(format!("Basic {basic}"));
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Error::Unauthorized {
                registry: r.registry().to_string(),
                reason: format!("unsupported authentication challenge {challenge:?}"),
            });
        }
        let realm = params.get("realm").ok_or_else(|| Error::Unauthorized {
            registry: r.registry().to_string(),
            reason: "bearer challenge without a realm".into(),
        })?;
        let mut url = Url::parse(realm).map_err(|e| Error::Unauthorized {
            registry: r.registry().to_string(),
            reason: format!("token realm {realm:?}: {e}"),
        })?;
        let realm_ok = url.scheme() == "https"
            || (url.scheme() == "http"
                && self.config.plain_http
                && url.host_str().is_some_and(|h| {
                    is_loopback_host(h.trim_start_matches('[').trim_end_matches(']'))
                }));
        if !realm_ok {
            return Err(Error::Unauthorized {
                registry: r.registry().to_string(),
                reason: format!("token realm {realm:?} is not HTTPS; refused"),
            });
        }
        let scope = format!(
            "repository:{}:{}",
            r.repository(),
            if push { "pull,push" } else { "pull" }
        );
        {
            let mut q = url.query_pairs_mut();
            if let Some(service) = params.get("service") {
                q.append_pair("service", service);
            }
            q.append_pair("scope", &scope);
        }
        let creds = self.config.credentials.credentials_for(r.registry())?;
        let mut req = self.http.get(url.clone());
        if let Some(c) = &creds {
            req = req.basic_auth(&c.username, Some(&c.password));
        }
        let resp = req.send().await.map_err(|e| Error::Transport {
            method: "GET".into(),
            url: url.to_string(),
            source: e,
        })?;
        if !resp.status().is_success() {
            return Err(Error::Unauthorized {
                registry: r.registry().to_string(),
                reason: format!("the token service {realm} answered {}", resp.status()),
            });
        }
        let body = read_limited(resp, 64 * 1024, "token response", "GET", url.as_str()).await?;
        let json: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| Error::Unauthorized {
                registry: r.registry().to_string(),
                reason: format!("token response is not JSON: {e}"),
            })?;
        let token = json["token"]
            .as_str()
            .or_else(|| json["access_token"].as_str())
            .ok_or_else(|| Error::Unauthorized {
                registry: r.registry().to_string(),
                reason: "token response has no token".into(),
            })?;
        Ok(format!("Bearer {token}"))
    }

    /// Fetch the manifest `r` names (by digest if pinned, else by tag):
    /// its bytes and their digest, which must equal the pinned digest and
    /// the registry's `Docker-Content-Digest`.
    pub async fn fetch_manifest(&self, r: &Reference) -> Result<(Vec<u8>, Digest), Error> {
        self.fetch_manifest_at(r, &r.manifest_key(), false).await
    }

    async fn fetch_manifest_at(
        &self,
        r: &Reference,
        key: &str,
        push: bool,
    ) -> Result<(Vec<u8>, Digest), Error> {
        let url = self.url(r, &format!("manifests/{key}"))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            reqwest::header::HeaderValue::from_static(
                "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json",
            ),
        );
        let req = Req {
            method: Method::GET,
            url: url.clone(),
            headers,
            body: None,
        };
        let resp = self.send(r, push, req).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound {
                what: format!("manifest {}/{}:{key}", r.registry(), r.repository()),
            });
        }
        let resp = expect_status(resp, "GET", &url, &[StatusCode::OK]).await?;
        let announced = header_digest(&resp);
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = read_limited(resp, MAX_MANIFEST_BYTES, "manifest", "GET", url.as_str()).await?;
        let digest = Digest::of(&bytes);
        let what = format!("manifest {}/{}:{key}", r.registry(), r.repository());
        if let Ok(pinned) = Digest::parse(key)
            && pinned != digest
        {
            return Err(Error::DigestMismatch {
                what,
                expected: pinned,
                actual: digest,
            });
        }
        if let Some(announced) = announced
            && announced != digest
        {
            return Err(Error::DigestMismatch {
                what: format!("{what} (Docker-Content-Digest)"),
                expected: announced,
                actual: digest,
            });
        }
        if content_type.starts_with(OCI_INDEX) {
            return Err(Error::NotAnArtifact {
                reference: r.to_string(),
                reason: "an image index, not a single manifest".into(),
            });
        }
        Ok((bytes, digest))
    }

    /// The digest a reference currently names: for a tag, what the
    /// registry answers to `HEAD` (cheap, for polling; the pull that
    /// follows checks the bytes); for a pinned reference, its digest once
    /// the registry confirms it has it.
    pub async fn resolve(&self, r: &Reference) -> Result<Digest, Error> {
        let key = r.manifest_key();
        let url = self.url(r, &format!("manifests/{key}"))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            reqwest::header::HeaderValue::from_static(
                "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
            ),
        );
        let req = Req {
            method: Method::HEAD,
            url: url.clone(),
            headers,
            body: None,
        };
        let resp = self.send(r, false, req).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound {
                what: format!("manifest {}/{}:{key}", r.registry(), r.repository()),
            });
        }
        let resp = expect_status(resp, "HEAD", &url, &[StatusCode::OK]).await?;
        match (header_digest(&resp), r.digest()) {
            (Some(d), Some(pinned)) if d != *pinned => Err(Error::DigestMismatch {
                what: format!("manifest {r} (Docker-Content-Digest)"),
                expected: *pinned,
                actual: d,
            }),
            (_, Some(pinned)) => Ok(*pinned),
            (Some(d), None) => Ok(d),
            (None, None) => Ok(self.fetch_manifest(r).await?.1),
        }
    }

    /// Fetch a blob and check its size and digest against `desc`.
    pub async fn fetch_blob(
        &self,
        r: &Reference,
        desc: &Descriptor,
        limit: u64,
    ) -> Result<Vec<u8>, Error> {
        let what = format!("blob {} ({})", desc.digest, desc.media_type);
        if desc.size > limit {
            return Err(Error::TooLarge { what, limit });
        }
        let url = self.url(r, &format!("blobs/{}", desc.digest))?;
        let req = Req {
            method: Method::GET,
            url: url.clone(),
            headers: HeaderMap::new(),
            body: None,
        };
        let resp = self.send(r, false, req).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound { what });
        }
        let resp = expect_status(resp, "GET", &url, &[StatusCode::OK]).await?;
        let bytes = read_limited(resp, desc.size, &what, "GET", url.as_str()).await?;
        let actual = Digest::of(&bytes);
        if actual != desc.digest || bytes.len() as u64 != desc.size {
            return Err(Error::DigestMismatch {
                what,
                expected: desc.digest,
                actual,
            });
        }
        Ok(bytes)
    }

    /// Pull a Wasm artifact: the manifest (checked against the pinned
    /// digest, if any), its config and its one Wasm layer (each checked
    /// against its digest), and the grants annotation. No signature check:
    /// see [`Client::pull_verified`].
    pub async fn pull(&self, r: &Reference) -> Result<Artifact, Error> {
        self.pull_inner(r, None).await
    }

    /// Pull a Wasm artifact after checking that the manifest digest is
    /// signed by one of `keys` (cosign's `sha256-<hex>.sig` tag): the
    /// signature is checked against the digest of the manifest bytes that
    /// are then loaded, so a tag moved in between cannot slip through.
    pub async fn pull_verified(
        &self,
        r: &Reference,
        keys: &[PublicKey],
    ) -> Result<Artifact, Error> {
        self.pull_inner(r, Some(keys)).await
    }

    async fn pull_inner(
        &self,
        r: &Reference,
        keys: Option<&[PublicKey]>,
    ) -> Result<Artifact, Error> {
        let (bytes, digest) = self.fetch_manifest(r).await?;
        let verified = match keys {
            Some(keys) => Some(self.verify_digest(r, &digest, keys).await?),
            None => None,
        };
        let manifest = Manifest::from_bytes(&bytes).map_err(|reason| Error::NotAnArtifact {
            reference: r.to_string(),
            reason: format!("invalid manifest: {reason}"),
        })?;
        let (layer, grants) = manifest
            .wasm_layer()
            .map_err(|reason| Error::NotAnArtifact {
                reference: r.to_string(),
                reason,
            })?;
        let (layer, grants) = (layer.clone(), grants.map(str::to_string));
        self.fetch_blob(r, &manifest.config, MAX_MANIFEST_BYTES)
            .await?;
        let wasm = self
            .fetch_blob(r, &layer, self.config.max_blob_bytes)
            .await?;
        Ok(Artifact {
            reference: r.pinned(digest),
            digest,
            manifest,
            wasm,
            grants,
            verified,
        })
    }

    async fn upload_blob(&self, r: &Reference, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::of(bytes);
        let url = self.url(r, &format!("blobs/{digest}"))?;
        let head = Req {
            method: Method::HEAD,
            url: url.clone(),
            headers: HeaderMap::new(),
            body: None,
        };
        if self.send(r, true, head).await?.status() == StatusCode::OK {
            return Ok(digest);
        }
        let start = self.url(r, "blobs/uploads/")?;
        let post = Req {
            method: Method::POST,
            url: start.clone(),
            headers: HeaderMap::new(),
            body: None,
        };
        let resp = self.send(r, true, post).await?;
        let resp = expect_status(resp, "POST", &start, &[StatusCode::ACCEPTED]).await?;
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::Status {
                method: "POST".into(),
                url: start.to_string(),
                status: 202,
                message: "no Location header for the upload".into(),
            })?;
        let mut put_url = start.join(location).map_err(|e| Error::Status {
            method: "POST".into(),
            url: start.to_string(),
            status: 202,
            message: format!("invalid upload Location {location:?}: {e}"),
        })?;
        if put_url.scheme() != start.scheme() {
            return Err(Error::Status {
                method: "POST".into(),
                url: start.to_string(),
                status: 202,
                message: format!("upload Location {location:?} changes the scheme; refused"),
            });
        }
        put_url
            .query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("application/octet-stream"),
        );
        let put = Req {
            method: Method::PUT,
            url: put_url.clone(),
            headers,
            body: Some(bytes),
        };
        let resp = self.send(r, true, put).await?;
        expect_status(resp, "PUT", &put_url, &[StatusCode::CREATED]).await?;
        Ok(digest)
    }

    async fn put_manifest(
        &self,
        r: &Reference,
        key: &str,
        manifest: &Manifest,
    ) -> Result<Digest, Error> {
        let bytes = manifest.to_bytes();
        let digest = Digest::of(&bytes);
        let url = self.url(r, &format!("manifests/{key}"))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static(OCI_MANIFEST),
        );
        let req = Req {
            method: Method::PUT,
            url: url.clone(),
            headers,
            body: Some(&bytes),
        };
        let resp = self.send(r, true, req).await?;
        let resp = expect_status(resp, "PUT", &url, &[StatusCode::CREATED]).await?;
        if let Some(announced) = header_digest(&resp)
            && announced != digest
        {
            return Err(Error::DigestMismatch {
                what: format!("pushed manifest {r}"),
                expected: digest,
                actual: announced,
            });
        }
        Ok(digest)
    }

    /// Push `wasm` (a component or core module) with its `grants` (TOML
    /// text, carried in the [`GRANTS_ANNOTATION`]) as a Wasm OCI artifact
    /// under `r`'s tag. Returns the reference pinned to the manifest digest.
    pub async fn push(
        &self,
        r: &Reference,
        wasm: &[u8],
        grants: Option<&str>,
    ) -> Result<Pushed, Error> {
        if r.digest().is_some() {
            return Err(Error::PushByDigest(r.to_string()));
        }
        let tag = r.tag().unwrap_or("latest").to_string();
        scheme_for(r, self.config.plain_http)?;
        let config = WasmConfig::for_wasm(wasm).map_err(Error::InvalidWasm)?;
        if let Some(g) = grants
            && g.len() > MAX_GRANTS_BYTES
        {
            return Err(Error::Grants(format!(
                "{} bytes; at most {MAX_GRANTS_BYTES} travel with a script",
                g.len()
            )));
        }
        let config_bytes = config.to_bytes();
        self.upload_blob(r, &config_bytes).await?;
        self.upload_blob(r, wasm).await?;
        let mut manifest = Manifest::new(
            Descriptor::of(WASM_CONFIG, &config_bytes),
            vec![Descriptor::of(WASM_LAYER, wasm)],
        );
        if let Some(g) = grants {
            manifest
                .annotations
                .insert(GRANTS_ANNOTATION.to_string(), g.to_string());
        }
        let digest = self.put_manifest(r, &tag, &manifest).await?;
        Ok(Pushed {
            reference: r.pinned(digest),
            digest,
        })
    }

    /// Sign the manifest `r` names (its digest if pinned, else what its
    /// tag names now) with `key`, cosign's way: a simple-signing payload
    /// layer with the signature annotation, in the manifest tagged
    /// `sha256-<hex>.sig` (existing signatures there are kept). Returns the
    /// signed digest.
    pub async fn sign(&self, r: &Reference, key: &SigningKey) -> Result<Digest, Error> {
        let digest = match r.digest() {
            Some(d) => {
                self.fetch_manifest(r).await?;
                *d
            }
            None => self.fetch_manifest(r).await?.1,
        };
        let payload = simple_signing_payload(r, &digest);
        let signature = key.sign_payload(&payload);
        let tag = digest.signature_tag();
        let mut layers = match self.fetch_manifest_at(r, &tag, true).await {
            Ok((bytes, _)) => Manifest::from_bytes(&bytes)
                .map(|m| m.layers)
                .unwrap_or_default(),
            Err(Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut layer = Descriptor::of(COSIGN_SIMPLE_SIGNING, &payload);
        layer
            .annotations
            .insert(COSIGN_SIGNATURE_ANNOTATION.to_string(), signature);
        if !layers.contains(&layer) {
            layers.push(layer);
        }
        self.upload_blob(r, &payload).await?;
        let diff_ids: Vec<String> = layers.iter().map(|l| l.digest.to_string()).collect();
        let config = serde_json::json!({
            "architecture": "",
            "config": {},
            "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        });
        let config_bytes = serde_json::to_vec(&config).unwrap_or_default();
        self.upload_blob(r, &config_bytes).await?;
        let manifest = Manifest::new(Descriptor::of(OCI_IMAGE_CONFIG, &config_bytes), layers);
        self.put_manifest(r, &tag, &manifest).await?;
        Ok(digest)
    }

    /// Check that the manifest `r` names (its digest if pinned, else what
    /// its tag names now) is signed by one of `keys`.
    pub async fn verify(&self, r: &Reference, keys: &[PublicKey]) -> Result<Verified, Error> {
        let (_, digest) = self.fetch_manifest(r).await?;
        self.verify_digest(r, &digest, keys).await
    }

    /// Check that `digest` in `r`'s repository is signed by one of `keys`:
    /// a layer of its `sha256-<hex>.sig` manifest whose payload names
    /// `digest` and whose signature verifies with a key. Anything else is
    /// [`Error::Signature`]: unsigned, wrong key, a payload for another
    /// digest, malformed.
    pub async fn verify_digest(
        &self,
        r: &Reference,
        digest: &Digest,
        keys: &[PublicKey],
    ) -> Result<Verified, Error> {
        if keys.is_empty() {
            return Err(SignatureError::NoKeys { digest: *digest }.into());
        }
        let tag = digest.signature_tag();
        let reference = r.by_digest(*digest).to_string();
        let bytes = match self.fetch_manifest_at(r, &tag, false).await {
            Ok((bytes, _)) => bytes,
            Err(Error::NotFound { .. }) => {
                return Err(SignatureError::Unsigned {
                    reference,
                    digest: *digest,
                    tag,
                }
                .into());
            }
            Err(e) => return Err(e),
        };
        let malformed = |reason: String| -> Error {
            SignatureError::Malformed {
                reference: reference.clone(),
                reason,
            }
            .into()
        };
        let manifest = Manifest::from_bytes(&bytes)
            .map_err(|e| malformed(format!("signature manifest {tag}: {e}")))?;
        if let Some(mt) = &manifest.media_type
            && mt != OCI_MANIFEST
            && mt != DOCKER_MANIFEST
        {
            return Err(malformed(format!("signature manifest media type {mt:?}")));
        }
        let mut other = None;
        let mut bad = None;
        let mut count = 0;
        for layer in manifest
            .layers
            .iter()
            .filter(|l| l.media_type == COSIGN_SIMPLE_SIGNING)
        {
            count += 1;
            let payload = match self.fetch_blob(r, layer, MAX_PAYLOAD_BYTES).await {
                Ok(p) => p,
                Err(e @ Error::DigestMismatch { .. }) | Err(e @ Error::TooLarge { .. }) => {
                    bad = Some(e.to_string());
                    continue;
                }
                Err(e) => return Err(e),
            };
            let sig = layer
                .annotations
                .get(COSIGN_SIGNATURE_ANNOTATION)
                .map(String::as_str);
            match check_signature(&payload, sig, digest, keys) {
                LayerCheck::Verified { key_index } => {
                    return Ok(Verified {
                        digest: *digest,
                        key_index,
                    });
                }
                LayerCheck::OtherDigest(found) => other = Some(found),
                LayerCheck::Malformed(reason) => bad = Some(reason),
                LayerCheck::WrongKey => {}
            }
        }
        if count == 0 {
            return Err(malformed(format!(
                "signature manifest {tag} has no {COSIGN_SIMPLE_SIGNING} layer"
            )));
        }
        if let Some(found) = other {
            return Err(SignatureError::OtherDigest {
                reference,
                expected: *digest,
                found,
            }
            .into());
        }
        if let Some(reason) = bad
            && count == 1
        {
            return Err(malformed(reason));
        }
        Err(SignatureError::WrongKey {
            reference,
            digest: *digest,
            count,
        }
        .into())
    }
}

fn same_origin(url: &Url, r: &Reference) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let with_port = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    with_port.eq_ignore_ascii_case(r.registry())
}

fn transport(req: &Req<'_>, e: reqwest::Error) -> Error {
    Error::Transport {
        method: req.method.to_string(),
        url: req.url.to_string(),
        source: e,
    }
}

fn header_digest(resp: &Response) -> Option<Digest> {
    resp.headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| Digest::parse(s).ok())
}

async fn expect_status(
    resp: Response,
    method: &str,
    url: &Url,
    ok: &[StatusCode],
) -> Result<Response, Error> {
    if ok.contains(&resp.status()) {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let body = read_limited(resp, 16 * 1024, "error response", method, url.as_str())
        .await
        .unwrap_or_default();
    Err(Error::Status {
        method: method.to_string(),
        url: url.to_string(),
        status,
        message: registry_errors(&body),
    })
}

/// The `errors[].code: message` of a registry error body, capped.
fn registry_errors(body: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let text = match parsed.as_ref().and_then(|v| v["errors"].as_array()) {
        Some(errors) => errors
            .iter()
            .map(|e| {
                format!(
                    "{}: {}",
                    e["code"].as_str().unwrap_or("?"),
                    e["message"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        None => String::from_utf8_lossy(body).trim().to_string(),
    };
    text.chars().take(300).collect()
}

async fn read_limited(
    mut resp: Response,
    limit: u64,
    what: &str,
    method: &str,
    url: &str,
) -> Result<Vec<u8>, Error> {
    let too_large = || Error::TooLarge {
        what: what.to_string(),
        limit,
    };
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() as u64 + chunk.len() as u64 > limit {
                    return Err(too_large());
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) => {
                return Err(Error::Transport {
                    method: method.to_string(),
                    url: url.to_string(),
                    source: e,
                });
            }
        }
    }
}

/// `Bearer realm="...",service="...",scope="..."` → ("Bearer", params).
fn parse_challenge(header: &str) -> (String, HashMap<String, String>) {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = HashMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.insert(key, value);
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    (scheme.to_string(), params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="reg",scope="repository:a/b:pull""#,
        );
        assert_eq!(s, "Bearer");
        assert_eq!(p["realm"], "https://auth.example.com/token");
        assert_eq!(p["service"], "reg");
        assert_eq!(p["scope"], "repository:a/b:pull");
        let (s, p) = parse_challenge(r#"Basic realm="basic-realm""#);
        assert_eq!((s.as_str(), p["realm"].as_str()), ("Basic", "basic-realm"));
    }

    #[test]
    fn plain_http_only_on_loopback() {
        let remote = Reference::parse("oci://registry.example.com/a:1").expect("ref");
        let e = scheme_for(&remote, true)
            .expect_err("must fail")
            .to_string();
        assert!(e.contains("only allowed for a registry on loopback"), "{e}");
        assert_eq!(scheme_for(&remote, false).expect("https"), "https");
        let local = Reference::parse("oci://127.0.0.1:5000/a:1").expect("ref");
        assert_eq!(scheme_for(&local, true).expect("http"), "http");
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            registry_errors(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
            ),
            "MANIFEST_UNKNOWN: manifest unknown"
        );
    }
}
