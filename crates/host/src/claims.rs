//! Claims an issuer owns, which a script never sets.

use serde_json::{Map, Value};

/// Claims removed from a script's access-token claims (and listed in
/// `dropped`): the JWT registered claims and the OAuth/OIDC claims an issuer
/// decides.
pub const PROTECTED_CLAIMS: &[&str] = &[
    // RFC 7519 registered claims.
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    // OAuth 2.0 / RFC 9068 / RFC 8693 / RFC 8705 and OIDC session claims.
    "azp",
    "client_id",
    "scope",
    "sid",
    "cnf",
    "act",
    "auth_time",
    "gty",
    // OIDC ID-token claims an issuer computes.
    "nonce",
    "at_hash",
    "c_hash",
    "acr",
    "amr",
    // JOSE header names, which must not be confused with claims.
    "kid",
    "typ",
];

/// Claims removed from a script's ID-token claims: everything in
/// [`PROTECTED_CLAIMS`] (which already holds the ID-token claims an issuer
/// computes: `nonce`, `auth_time`, `at_hash`, `c_hash`, `acr`, `amr`, `azp`)
/// and `s_hash` (FAPI's state hash).
pub const PROTECTED_ID_TOKEN_CLAIMS_EXTRA: &[&str] = &["s_hash"];

/// Whether a script may not set `name` in an access token.
pub fn is_protected(name: &str) -> bool {
    PROTECTED_CLAIMS.contains(&name)
}

/// Whether a script may not set `name` in an ID token.
pub fn is_protected_in_id_token(name: &str) -> bool {
    is_protected(name) || PROTECTED_ID_TOKEN_CLAIMS_EXTRA.contains(&name)
}

/// Remove the claims `protected` says a script may not set; return their
/// names in the order they appeared.
pub(crate) fn strip_protected(
    claims: &mut Map<String, Value>,
    protected: fn(&str) -> bool,
) -> Vec<String> {
    let dropped: Vec<String> = claims.keys().filter(|k| protected(k)).cloned().collect();
    for name in &dropped {
        claims.remove(name);
    }
    dropped
}
