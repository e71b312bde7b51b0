//! Supabase's Custom Access Token hook over HTTP.
//!
//! - **Authentication**: Standard Webhooks ([`crate::StandardWebhooks`]):
//!   `webhook-id`, `webhook-timestamp` (±5 minutes), `webhook-signature`
//!   (`v1,<base64>`, several allowed), secrets `v1,whsec_<base64>` joined
//!   with `|`; each `webhook-id` accepted once ([`crate::ReplayCache`]).
//! - **Response**: `{"claims":{..}}`, which *replaces* the token's claims:
//!   the request's claims, the required ones untouched, with the script's
//!   merged in. A denial is `{"error":{"http_code":403,"message":..}}`.

mod translate;
mod wire;

use std::time::SystemTime;

use http::HeaderMap;

pub use translate::REQUIRED_CLAIMS;
pub use wire::{Metadata, Request};

use crate::common::parse_json;
use crate::error::HookError;
use crate::replay::ReplayCache;

/// Supabase's hook secrets (`[auth.hook.custom_access_token] secrets`).
pub type Auth = crate::StandardWebhooks;

/// Authenticate a Supabase request (Standard Webhooks) and record its
/// `webhook-id` in `replay`.
pub fn verify(
    auth: &Auth,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
    replay: &mut ReplayCache,
) -> Result<(), HookError> {
    auth.verify(headers, body, now, replay)
}

/// Parse a Supabase Custom Access Token hook request.
pub fn parse(body: &[u8]) -> Result<Request, HookError> {
    let (mut request, raw): (Request, _) = parse_json(body)?;
    request.raw = raw;
    Ok(request)
}
