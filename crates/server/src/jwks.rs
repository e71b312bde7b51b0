//! The JWK set an Okta binding's bearer tokens are verified with, fetched
//! through the egress policy.
//!
//! The fetch is itself a sandboxed run: a fixed script whose grants allow
//! exactly the JWKS URL's origin, so the address guard, the fetch limits
//! and the audit trail apply to it as to any script's fetch (a JWKS URL on
//! a private or loopback address is refused unless it is named explicitly,
//! as grants do). Keys are kept for [`JWKS_TTL`] and fetched again on a key
//! id the set does not have, at most once per `bearer.min_refresh_ms` (default 30 s).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use claimscript::trail::RunLabels;
use claimscript::{Grants, Outcome, RunInput, TokenKind};
use http::StatusCode;
use jsonwebtoken::jwk::JwkSet;

use crate::error::ApiError;
use crate::service::App;

/// How long a fetched JWK set is used before it is fetched again.
pub const JWKS_TTL: Duration = Duration::from_secs(600);
/// The default shortest time between two fetches (an unknown `kid` asks
/// for one): `bearer.min_refresh_ms`.
pub const DEFAULT_JWKS_MIN_REFRESH_MS: u64 = 30_000;
/// The largest JWK set accepted.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// The fetch script; `JWKS_URL` is replaced by the URL as a JSON string (not
/// an environment value: those are secrets, scrubbed from the trail).
const FETCH_JWKS: &str = r#"const getCustomJwtClaims = async () => {
  const response = await fetch(JWKS_URL, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`the JWKS URL answered ${response.status}`);
  const jwks = await response.json();
  if (!jwks || !Array.isArray(jwks.keys)) throw new Error('the JWKS URL did not answer a JWK set');
  return { jwks };
};"#;

/// One binding's JWK set.
#[derive(Debug)]
pub(crate) struct JwksCache {
    url: String,
    source: String,
    min_refresh: Duration,
    grants: Grants,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    keys: Option<JwkSet>,
    fetched: Option<Instant>,
}

impl JwksCache {
    /// A cache for `url` (already checked to be an http(s) URL).
    pub(crate) fn new(url: &str, min_refresh: Duration) -> Result<JwksCache, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        let host = parsed.host_str().ok_or_else(|| format!("{url}: no host"))?;
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| format!("{url}: no port"))?;
        let origin = format!("{}://{host}:{port}", parsed.scheme());
        let toml = format!(
            "timeout_ms = 3000\nmax_output_bytes = {out}\n[fetch]\nallow = [{origin:?}]\ntimeout_ms = 2000\nmax_response_bytes = {MAX_JWKS_BYTES}\nmax_requests = 1\n",
            out = MAX_JWKS_BYTES * 2,
        );
        let grants = Grants::from_toml(&toml).map_err(|e| format!("{url}: {e}"))?;
        let literal = serde_json::to_string(url).map_err(|e| format!("{url}: {e}"))?;
        Ok(JwksCache {
            url: url.to_string(),
            source: FETCH_JWKS.replace("JWKS_URL", &literal),
            min_refresh,
            grants,
            state: Mutex::new(State::default()),
        })
    }

    /// The keys: cached, or fetched when there are none, they are older
    /// than [`JWKS_TTL`], or `refresh` asks for newer ones (at most once per
    /// `min_refresh`).
    pub(crate) async fn keys(
        &self,
        app: &App,
        binding: &str,
        refresh: bool,
    ) -> Result<JwkSet, ApiError> {
        {
            let state = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let age = state.fetched.map(|t| t.elapsed());
            let fresh = age.is_some_and(|a| a < JWKS_TTL && !(refresh && a >= self.min_refresh));
            if let (true, Some(keys)) = (fresh, &state.keys) {
                return Ok(keys.clone());
            }
        }
        let keys = self.fetch(app, binding).await?;
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.keys = Some(keys.clone());
        state.fetched = Some(Instant::now());
        Ok(keys)
    }

    async fn fetch(&self, app: &App, binding: &str) -> Result<JwkSet, ApiError> {
        let unavailable = |why: String| {
            tracing::error!(binding, url = %self.url, "the JWK set could not be fetched: {why}");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "jwks_unavailable",
                format!(
                    "the keys to verify the bearer token could not be fetched from {}: {why}",
                    self.url
                ),
            )
            .retry_after(5)
        };
        let _permit = app.gate.enter().await?;
        let script = app
            .engine
            .compile(&self.source)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let input = RunInput::new(TokenKind::ClientCredentials, Default::default());
        let labels = RunLabels::default()
            .with_decision_id(crate::routes::new_decision_id())
            .with_name(format!("(jwks for {binding})"));
        let report = script
            .run_labelled(&input, &self.grants, &labels)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        match report.outcome {
            Outcome::Claims { mut claims, .. } => {
                let jwks = claims.remove("jwks").unwrap_or_default();
                serde_json::from_value::<JwkSet>(jwks)
                    .map_err(|e| unavailable(format!("not a JWK set: {e}")))
            }
            Outcome::Error(e) => Err(unavailable(e.message)),
            _ => Err(unavailable("the fetch did not finish".into())),
        }
    }
}
