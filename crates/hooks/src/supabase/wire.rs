//! Supabase's Custom Access Token hook request (`CustomAccessTokenInput`).

use serde::Deserialize;
use serde_json::{Map, Value};

/// The request body.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Request {
    /// The invocation's metadata (newer Supabase Auth).
    pub metadata: Option<Metadata>,
    /// The user's id.
    pub user_id: String,
    /// The access token's claims as Supabase would mint them.
    pub claims: Map<String, Value>,
    /// How the user authenticated (`password`, `oauth`, `token_refresh`, ...).
    pub authentication_method: Option<String>,
    /// Other top-level fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The whole request as received.
    #[serde(skip)]
    pub raw: Value,
}

/// `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Metadata {
    /// The invocation's id.
    pub uuid: Option<String>,
    /// Its time (RFC 3339).
    pub time: Option<String>,
    /// `customize-access-token`.
    pub name: Option<String>,
    /// The client's IP address.
    pub ip_address: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
