//! Bearer tokens: configured as SHA-256 hashes (or read from the
//! environment and hashed at load), compared in constant time.

use http::{HeaderMap, StatusCode, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{Scope, TokenConfig};
use crate::error::ApiError;

/// SHA-256 of a token.
pub fn hash(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// Who called: the id of the token presented, or `None` when the service
/// has no tokens (loopback only).
pub(crate) type Caller = Option<String>;

/// Check the `Authorization: Bearer` header against `tokens` for `scope`.
/// Every configured hash is compared, in constant time, whatever matches.
pub(crate) fn authenticate(
    headers: &HeaderMap,
    tokens: &[TokenConfig],
    scope: Scope,
) -> Result<Caller, ApiError> {
    if tokens.is_empty() {
        return Ok(None);
    }
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized("missing Authorization: Bearer <token>"));
    };
    let presented = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("the Authorization header is not `Bearer <token>`"))?;
    let digest = hash(presented.as_bytes());
    let mut found: Option<&TokenConfig> = None;
    for token in tokens {
        if bool::from(token.sha256.ct_eq(&digest)) && found.is_none() {
            found = Some(token);
        }
    }
    let Some(token) = found else {
        return Err(unauthorized("unknown bearer token"));
    };
    let allowed = token.scopes.contains(&Scope::Admin) || token.scopes.contains(&scope);
    if !allowed {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token `{}` lacks the `{}` scope",
                token.id,
                match scope {
                    Scope::Admin => "admin",
                    _ => "run",
                }
            ),
        ));
    }
    Ok(Some(token.id.clone()))
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}
