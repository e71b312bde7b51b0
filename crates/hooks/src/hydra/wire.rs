//! Ory Hydra's token hook request (`TokenHookRequest`). Every object keeps
//! the fields this crate does not name in `other`.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The request body.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Request {
    /// The Hydra session: the ID token session and the access token's extra
    /// claims.
    pub session: Session,
    /// The token request.
    pub request: TokenRequest,
    /// Other top-level fields.
    #[serde(flatten)]
    pub other: Map<String, Value>,
    /// The whole request as received.
    #[serde(skip)]
    pub raw: Value,
}

/// `session`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// The OpenID session (`id_token_claims`, `subject`, `username`, ...).
    pub id_token: Option<IdTokenSession>,
    /// The access token's extra claims as they stand (`session.extra`);
    /// Hydra replaces them with the response's `access_token`.
    #[serde(rename = "extra")]
    pub access_token_extra: Option<Map<String, Value>>,
    /// The client id.
    pub client_id: Option<String>,
    /// Other fields (`consent_challenge`, `allowed_top_level_claims`, ...).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `session.id_token`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct IdTokenSession {
    /// The ID token's claims.
    pub id_token_claims: Option<IdTokenClaims>,
    /// The user name.
    pub username: Option<String>,
    /// The subject.
    pub subject: Option<String>,
    /// Other fields (`headers`, `expires_at`, ...).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `session.id_token.id_token_claims`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// The subject.
    pub sub: Option<String>,
    /// The ID token's extra claims as they stand; Hydra replaces them with
    /// the response's `id_token`.
    pub ext: Option<Map<String, Value>>,
    /// Other fields (`iss`, `aud`, `nonce`, `acr`, `amr`, ...).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `request`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct TokenRequest {
    /// The OAuth client id.
    pub client_id: Option<String>,
    /// The sanitized client (`client_name`, `metadata`, ...), in newer
    /// Hydra versions.
    pub client: Option<Map<String, Value>>,
    /// Requested scopes.
    pub requested_scopes: Option<Vec<String>>,
    /// Granted scopes.
    pub granted_scopes: Option<Vec<String>>,
    /// Granted audience.
    pub granted_audience: Option<Vec<String>>,
    /// The request's grant types.
    pub grant_types: Option<Vec<String>>,
    /// The sanitized token-request form (`grant_type`, `scope`, ...).
    pub payload: Option<Map<String, Value>>,
    /// Other fields.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
