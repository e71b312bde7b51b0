//! Okta's token inline hook request (`com.okta.oauth2.tokens.transform`).
//! Every object keeps the fields this crate does not name in `extra`.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The hook request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Request {
    /// Always `com.okta.oauth2.tokens.transform` (checked by [`super::parse`]).
    pub event_type: String,
    /// `"1.0"`.
    pub event_type_version: Option<String>,
    /// The event's id.
    pub event_id: Option<String>,
    /// ISO 8601 time of the event.
    pub event_time: Option<String>,
    /// The authorize or token URL.
    pub source: Option<String>,
    /// The tokens and their context.
    pub data: Data,
    /// Other top-level fields (`cloudEventVersion`, `contentType`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The whole request as received.
    #[serde(skip)]
    pub raw: Value,
}

/// `data`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Data {
    /// Read-only information about the request, user and client.
    #[serde(default)]
    pub context: Context,
    /// The ID token, when one is being minted.
    pub identity: Option<Token>,
    /// The access token, when one is being minted.
    pub access: Option<Token>,
    /// Other fields (`refresh_token`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data.context`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Context {
    /// The HTTP request Okta is answering.
    pub request: Option<RequestInfo>,
    /// The OAuth request.
    pub protocol: Option<ProtocolInfo>,
    /// The user's session (absent for client credentials).
    pub session: Option<Session>,
    /// The user (absent for client credentials).
    pub user: Option<User>,
    /// Other fields (`policy`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data.context.request`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RequestInfo {
    /// Okta's request id.
    pub id: Option<String>,
    /// `GET` or `POST`.
    pub method: Option<String>,
    /// `{value}`: the URL.
    pub url: Option<Value>,
    /// The client's IP address.
    pub ip_address: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data.context.protocol`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ProtocolInfo {
    /// `"OAUTH2.0"`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The OAuth request parameters.
    pub request: Option<OAuthRequest>,
    /// The authorization server.
    pub issuer: Option<Issuer>,
    /// The OAuth client.
    pub client: Option<Client>,
    /// Other fields (`OriginalGrant`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data.context.protocol.request`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct OAuthRequest {
    /// The client id.
    pub client_id: Option<String>,
    /// The grant type (`authorization_code`, `client_credentials`, ...).
    pub grant_type: Option<String>,
    /// Space-separated requested scopes.
    pub scope: Option<String>,
    /// `token id_token`, `code`, ...
    pub response_type: Option<String>,
    /// Other fields (`redirect_uri`, `state`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data.context.protocol.issuer`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Issuer {
    /// The authorization server's issuer URI.
    pub uri: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data.context.protocol.client`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Client {
    /// The client id.
    pub id: Option<String>,
    /// The application's name.
    pub name: Option<String>,
    /// `PUBLIC` or `CONFIDENTIAL`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data.context.session`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Session {
    /// The session id.
    pub id: Option<String>,
    /// The user's id.
    pub user_id: Option<String>,
    /// The user's login.
    pub login: Option<String>,
    /// Other fields (`amr`, `idp`, `status`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data.context.user`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user's id.
    pub id: Option<String>,
    /// The Okta profile (`login`, `firstName`, `lastName`, `email`,
    /// `locale`, `timeZone` and custom attributes).
    #[serde(default)]
    pub profile: Map<String, Value>,
    /// Other fields (`passwordChanged`, `_links`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data.identity` or `data.access`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Token {
    /// The token's claims as Okta would mint them.
    pub claims: Map<String, Value>,
    /// Granted scopes (`access` only): `{name: {id, action}}`.
    pub scopes: Option<Map<String, Value>>,
    /// Other fields (`token.lifetime`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
