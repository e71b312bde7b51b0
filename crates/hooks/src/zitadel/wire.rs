//! ZITADEL Actions v2 request (`ContextInfo`) for the token functions.
//! Every object keeps the fields this crate does not name in `extra`.

use serde::Deserialize;
use serde_json::{Map, Value};

/// Which token function called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Function {
    /// `preaccesstoken`: a JWT access token is being minted.
    #[default]
    PreAccessToken,
    /// `preuserinfo`: ID-token claims or the userinfo response are being
    /// built.
    PreUserinfo,
}

impl Function {
    /// `preaccesstoken` or `preuserinfo`.
    pub fn as_str(self) -> &'static str {
        match self {
            Function::PreAccessToken => "preaccesstoken",
            Function::PreUserinfo => "preuserinfo",
        }
    }
}

/// The request body.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Request {
    /// `function/preaccesstoken` or `function/preuserinfo` (matched on the
    /// suffix).
    pub function: String,
    /// The function, parsed from [`Request::function`].
    #[serde(skip)]
    pub kind: Function,
    /// OIDC userinfo claims (`sub`, and profile, email and phone claims by
    /// scope).
    pub userinfo: Option<Map<String, Value>>,
    /// The user.
    pub user: Option<User>,
    /// The user's metadata; values are base64.
    pub user_metadata: Option<Vec<Metadata>>,
    /// The user's organization.
    pub org: Option<Org>,
    /// The user's grants (project roles).
    pub user_grants: Option<Vec<UserGrant>>,
    /// The application (newer ZITADEL; `client_id`).
    pub application: Option<Map<String, Value>>,
    /// Other fields (`actor`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The whole request as received.
    #[serde(skip)]
    pub raw: Value,
}

/// `user`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user's id.
    pub id: Option<String>,
    /// The user name.
    pub username: Option<String>,
    /// The preferred login name.
    pub preferred_login_name: Option<String>,
    /// 1 active, 2 inactive, 3 deleted, 4 locked, 5 initial.
    pub state: Option<i64>,
    /// A human user's profile.
    pub human: Option<Human>,
    /// Present for machine users.
    pub machine: Option<Value>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `user.human`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Human {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Nickname.
    pub nick_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Preferred language.
    pub preferred_language: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `user_metadata` entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Metadata {
    /// The key.
    pub key: String,
    /// The value, base64.
    pub value: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `org`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Org {
    /// The organization's id.
    pub id: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Its primary domain.
    pub primary_domain: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `user_grants` entry (camelCase keys, unlike the rest).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserGrant {
    /// The grant's id.
    pub id: Option<String>,
    /// The granted role keys.
    pub roles: Option<Vec<String>>,
    /// The project's id.
    pub project_id: Option<String>,
    /// The project's name.
    pub project_name: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
