//! Ory Hydra's `oauth2.token_hook`.
//!
//! - **Authentication**: the `api_key` auth Hydra applies: the configured
//!   value in the configured header or cookie. (Hydra does not sign.)
//! - **Response**: `{"session":{"access_token":{..},"id_token":{..}}}`.
//!   Hydra *replaces* the access token's extra claims and the ID token's
//!   extra claims with these maps, so the response carries the request's
//!   existing extra claims with the script's merged in. A denial is a 403.

mod translate;
mod wire;

use http::{HeaderMap, HeaderName};

pub use translate::{RESERVED_CLAIMS, RESERVED_ID_TOKEN_CLAIMS};
pub use wire::{IdTokenClaims, IdTokenSession, Request, Session, TokenRequest};

use crate::common::parse_json;
use crate::error::{ConfigError, HookError};
use crate::verify::{secrets_equal, single_header};

/// Where Hydra puts the API key (`auth.config.in`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiKeyLocation {
    /// A request header of this name.
    Header(HeaderName),
    /// A cookie of this name.
    Cookie(String),
}

/// Hydra's `api_key` auth: where the key travels and its value.
#[derive(Clone)]
pub struct Auth {
    location: ApiKeyLocation,
    value: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("hydra::Auth")
            .field("location", &self.location)
            .field("value", &"[redacted]")
            .finish()
    }
}

impl Auth {
    /// `auth.config.in: header`.
    pub fn header(name: &str, value: impl Into<String>) -> Result<Auth, ConfigError> {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| ConfigError::HeaderName {
                name: name.to_string(),
            })?;
        Auth::with(ApiKeyLocation::Header(name), value.into())
    }

    /// `auth.config.in: cookie`.
    pub fn cookie(name: &str, value: impl Into<String>) -> Result<Auth, ConfigError> {
        if name.is_empty()
            || name
                .bytes()
                .any(|b| !b.is_ascii_graphic() || b"()<>@,;:\\\"/[]?={}".contains(&b))
        {
            return Err(ConfigError::HeaderName {
                name: format!("{name} (as a cookie name)"),
            });
        }
        Auth::with(ApiKeyLocation::Cookie(name.to_string()), value.into())
    }

    fn with(location: ApiKeyLocation, value: String) -> Result<Auth, ConfigError> {
        if value.is_empty() {
            return Err(ConfigError::Secret {
                why: "the Hydra API key is empty".into(),
            });
        }
        Ok(Auth { location, value })
    }

    /// Where the key travels.
    pub fn location(&self) -> &ApiKeyLocation {
        &self.location
    }
}

/// Authenticate a Hydra request.
pub fn verify(auth: &Auth, headers: &HeaderMap, _body: &[u8]) -> Result<(), HookError> {
    match &auth.location {
        ApiKeyLocation::Header(name) => {
            let given = single_header(headers, name.as_str())?;
            if secrets_equal(given.as_bytes(), auth.value.as_bytes()) {
                Ok(())
            } else {
                Err(HookError::unauthenticated(format!(
                    "header `{name}` does not carry the configured API key"
                )))
            }
        }
        ApiKeyLocation::Cookie(name) => {
            let mut found = false;
            let mut matched = false;
            for header in headers.get_all(http::header::COOKIE) {
                let text = header
                    .to_str()
                    .map_err(|_| HookError::bad_header("cookie", "not visible ASCII"))?;
                for pair in text.split(';') {
                    let Some((n, v)) = pair.trim().split_once('=') else {
                        continue;
                    };
                    if n.trim() != name {
                        continue;
                    }
                    found = true;
                    // Go quotes cookie values holding a space or a comma.
                    let v = v.trim();
                    let v = v
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .unwrap_or(v);
                    matched |= secrets_equal(v.as_bytes(), auth.value.as_bytes());
                }
            }
            if !found {
                return Err(HookError::unauthenticated(format!(
                    "cookie `{name}` is missing"
                )));
            }
            if matched {
                Ok(())
            } else {
                Err(HookError::unauthenticated(format!(
                    "cookie `{name}` does not carry the configured API key"
                )))
            }
        }
    }
}

/// Parse a Hydra token hook request.
pub fn parse(body: &[u8]) -> Result<Request, HookError> {
    let (mut request, raw): (Request, _) = parse_json(body)?;
    request.raw = raw;
    Ok(request)
}
