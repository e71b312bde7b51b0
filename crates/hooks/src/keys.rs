//! Bearer JWTs verified against JWKS keys the server fetched (Okta's OAuth
//! hook channel). Fetching is I/O and stays in the server, behind
//! [`KeySource`].

use std::collections::HashSet;
use std::time::SystemTime;

use http::HeaderMap;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::error::HookError;
use crate::verify::{single_header, unix_secs};

/// Clock-skew leeway for a bearer token's `exp` and `nbf`, in seconds.
/// Invariant: a token is accepted only while `now - JWT_LEEWAY_SECS < exp`
/// and `nbf <= now + JWT_LEEWAY_SECS`; one minute covers ordinary skew
/// between Okta and this server and is far below Okta's token lifetimes.
pub const JWT_LEEWAY_SECS: u64 = 60;

/// Where verification keys come from: the server's JWKS cache, or a fixed
/// set in tests. Looked up by the token's (unverified) `kid`.
pub trait KeySource {
    /// The key with this `kid`; for a token without `kid`, the only key
    /// when there is exactly one. `None` when not found (the server may
    /// refresh its JWKS and verify again).
    fn key(&self, kid: Option<&str>) -> Option<Jwk>;
}

impl KeySource for JwkSet {
    fn key(&self, kid: Option<&str>) -> Option<Jwk> {
        match kid {
            Some(kid) => self.find(kid).cloned(),
            None if self.keys.len() == 1 => self.keys.first().cloned(),
            None => None,
        }
    }
}

impl KeySource for [Jwk] {
    fn key(&self, kid: Option<&str>) -> Option<Jwk> {
        match kid {
            Some(kid) => self
                .iter()
                .find(|k| k.common.key_id.as_deref() == Some(kid))
                .cloned(),
            None if self.len() == 1 => self.first().cloned(),
            None => None,
        }
    }
}

/// No keys: for bindings without bearer verification.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKeys;

impl KeySource for NoKeys {
    fn key(&self, _kid: Option<&str>) -> Option<Jwk> {
        None
    }
}

/// What a bearer token must satisfy.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BearerConfig {
    /// The token's `iss` (the authorization server that issued it).
    pub issuer: String,
    /// A value the token's `aud` must hold.
    pub audience: String,
    /// Accepted signing algorithms; `RS256` by default (what Okta signs
    /// with). Never mix HMAC and public-key algorithms.
    pub algorithms: Vec<Algorithm>,
    /// The JWKS URL the server fetches keys from (not fetched here).
    pub jwks_url: String,
}

impl BearerConfig {
    /// Tokens from `issuer` for `audience`, RS256, keys at `jwks_url`.
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        jwks_url: impl Into<String>,
    ) -> BearerConfig {
        BearerConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            algorithms: vec![Algorithm::RS256],
            jwks_url: jwks_url.into(),
        }
    }

    /// Accept these algorithms instead.
    pub fn with_algorithms(mut self, algorithms: Vec<Algorithm>) -> Self {
        self.algorithms = algorithms;
        self
    }
}

/// The `kid` of the `Authorization: Bearer` token, read WITHOUT verifying
/// anything: only for choosing which key to fetch. `Ok(None)` when the
/// token has no `kid`.
pub fn unverified_kid(headers: &HeaderMap) -> Result<Option<String>, HookError> {
    let token = bearer_token(headers)?;
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| HookError::bad_header("authorization", "the bearer token is not a JWT"))?;
    Ok(header.kid)
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, HookError> {
    let value = single_header(headers, "authorization")?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| HookError::bad_header("authorization", "expected `Bearer <token>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(HookError::bad_header(
            "authorization",
            "expected `Bearer <token>`",
        ));
    }
    Ok(token.trim())
}

/// Verify the `Authorization: Bearer <JWT>` header: signature with a key
/// from `keys`, algorithm, `iss`, `aud`, `exp` (required) and `nbf` against
/// `now` with [`JWT_LEEWAY_SECS`]. Returns the token's claims.
pub fn verify_bearer(
    config: &BearerConfig,
    headers: &HeaderMap,
    now: SystemTime,
    keys: &dyn KeySource,
) -> Result<Map<String, Value>, HookError> {
    let token = bearer_token(headers)?;
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| HookError::bad_header("authorization", "the bearer token is not a JWT"))?;
    if !config.algorithms.contains(&header.alg) {
        return Err(HookError::unauthenticated(format!(
            "bearer token: algorithm {:?} is not accepted",
            header.alg
        )));
    }
    let jwk = keys
        .key(header.kid.as_deref())
        .ok_or(HookError::UnknownKey {
            kid: header.kid.clone(),
        })?;
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|e| HookError::unauthenticated(format!("bearer token: unusable JWKS key: {e}")))?;
    let mut validation = Validation::new(header.alg);
    validation.algorithms = config.algorithms.clone();
    // Time is checked below against the `now` passed in.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims = ["exp", "iss", "aud"]
        .iter()
        .map(|s| s.to_string())
        .collect::<HashSet<_>>();
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    let data =
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            let why = match e.kind() {
                K::InvalidSignature => "signature does not verify".to_string(),
                K::InvalidIssuer => "wrong issuer".to_string(),
                K::InvalidAudience => "wrong audience".to_string(),
                K::MissingRequiredClaim(c) => format!("missing claim `{c}`"),
                K::InvalidAlgorithm => "algorithm does not match the key".to_string(),
                other => format!("{other:?}"),
            };
            HookError::unauthenticated(format!("bearer token: {why}"))
        })?;
    let now = unix_secs(now);
    let leeway = JWT_LEEWAY_SECS as i64;
    let exp = data
        .claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| HookError::unauthenticated("bearer token: `exp` is not a number"))?;
    if exp <= now - leeway {
        return Err(HookError::unauthenticated("bearer token: expired"));
    }
    if let Some(nbf) = data.claims.get("nbf") {
        let nbf = nbf
            .as_i64()
            .ok_or_else(|| HookError::unauthenticated("bearer token: `nbf` is not a number"))?;
        if nbf > now + leeway {
            return Err(HookError::unauthenticated(
                "bearer token: not valid yet (nbf)",
            ));
        }
    }
    Ok(data.claims)
}
