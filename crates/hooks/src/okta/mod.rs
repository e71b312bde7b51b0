//! Okta's token inline hook.
//!
//! - **Authentication**: the header configured in Okta's `authScheme`
//!   (`key`, often `Authorization`) must carry the configured value; and/or,
//!   for Okta's OAuth channel, `Authorization: Bearer <JWT>` verified
//!   against the authorization server's JWKS ([`crate::keys`]).
//! - **Request**: [`Request`]; **response**: `commands` of
//!   `com.okta.identity.patch` / `com.okta.access.patch`, each `add` of
//!   `/claims/<JSON-Pointer-escaped name>`, only for the tokens present in
//!   the request; 204 when nothing changes; a denial is a 200 with
//!   `{"error":{"errorSummary":...}}` (Okta then fails the flow with
//!   `server_error`).

mod translate;
mod wire;

use std::time::SystemTime;

use http::{HeaderMap, HeaderName};

pub use translate::{RESERVED_ACCESS_TOKEN_CLAIMS, RESERVED_ID_TOKEN_CLAIMS};
pub use wire::{
    Client, Context, Data, Issuer, OAuthRequest, ProtocolInfo, Request, RequestInfo, Session,
    Token, User,
};

use crate::common::parse_json;
use crate::error::{ConfigError, HookError};
use crate::keys::{BearerConfig, KeySource, verify_bearer};
use crate::verify::{secrets_equal, single_header};

/// The only inline-hook type this module answers.
pub const EVENT_TYPE: &str = "com.okta.oauth2.tokens.transform";

/// How Okta authenticates to this binding: a shared-secret header, a bearer
/// JWT, or both (then both must pass).
#[derive(Clone)]
pub struct Auth {
    header: Option<(HeaderName, String)>,
    bearer: Option<BearerConfig>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("okta::Auth")
            .field("header", &self.header.as_ref().map(|(name, _)| name))
            .field("bearer", &self.bearer)
            .finish()
    }
}

impl Auth {
    /// Okta's HTTP channel: header `name` must carry exactly `secret`
    /// (Okta sends `authScheme.value` verbatim, e.g. `Basic ...`).
    pub fn header(name: &str, secret: impl Into<String>) -> Result<Auth, ConfigError> {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| ConfigError::HeaderName {
                name: name.to_string(),
            })?;
        let secret = secret.into();
        if secret.is_empty() {
            return Err(ConfigError::Secret {
                why: format!("the secret for header `{name}` is empty"),
            });
        }
        Ok(Auth {
            header: Some((name, secret)),
            bearer: None,
        })
    }

    /// Okta's OAuth channel: a bearer JWT satisfying `config`.
    pub fn bearer(config: BearerConfig) -> Auth {
        Auth {
            header: None,
            bearer: Some(config),
        }
    }

    /// Require a bearer JWT too. Refused when the secret header is
    /// `Authorization`, which the bearer token occupies.
    pub fn with_bearer(mut self, config: BearerConfig) -> Result<Auth, ConfigError> {
        if let Some((name, _)) = &self.header
            && name == http::header::AUTHORIZATION
        {
            return Err(ConfigError::HeaderName {
                name: "authorization (a bearer token and a secret cannot share it)".into(),
            });
        }
        self.bearer = Some(config);
        Ok(self)
    }

    /// The bearer requirements, when configured: the server fetches the
    /// JWKS at `jwks_url` before calling [`verify`].
    pub fn bearer_config(&self) -> Option<&BearerConfig> {
        self.bearer.as_ref()
    }
}

/// Authenticate an Okta request. `keys` is consulted only when a bearer
/// token is configured ([`crate::keys::NoKeys`] otherwise).
pub fn verify(
    auth: &Auth,
    headers: &HeaderMap,
    _body: &[u8],
    now: SystemTime,
    keys: &dyn KeySource,
) -> Result<(), HookError> {
    if let Some((name, secret)) = &auth.header {
        let given = single_header(headers, name.as_str())?;
        if !secrets_equal(given.as_bytes(), secret.as_bytes()) {
            return Err(HookError::unauthenticated(format!(
                "header `{name}` does not carry the configured secret"
            )));
        }
    }
    if let Some(bearer) = &auth.bearer {
        verify_bearer(bearer, headers, now, keys)?;
    }
    if auth.header.is_none() && auth.bearer.is_none() {
        return Err(HookError::unauthenticated(
            "no authentication is configured for this binding",
        ));
    }
    Ok(())
}

/// Parse an Okta token inline hook request.
pub fn parse(body: &[u8]) -> Result<Request, HookError> {
    let (mut request, raw): (Request, _) = parse_json(body)?;
    if request.event_type != EVENT_TYPE {
        return Err(HookError::Unsupported {
            what: format!(
                "Okta inline hook type {:?} (only {EVENT_TYPE} is handled here)",
                request.event_type
            ),
        });
    }
    request.raw = raw;
    Ok(request)
}
