//! The input mapping: each style's first argument, built from the same
//! `{token, context, environmentVariables}` input (Logto's shape).
//!
//! | Logto input                    | Auth0 `event`                      | LoginRadius `lrObject`            |
//! |--------------------------------|------------------------------------|-----------------------------------|
//! | `context.user.id`              | `user.user_id`                     | `Uid`, `ID`                       |
//! | `context.user.username`        | `user.username`                    | `UserName`                        |
//! | `context.user.primaryEmail`    | `user.email`, `user.email_verified`| `Email: [{Type:"Primary",Value}]`, `EmailVerified` |
//! | `context.user.primaryPhone`    | `user.phone_number`                | `PhoneId`                         |
//! | `context.user.name`            | `user.name`                        | `FullName`                        |
//! | `context.user.profile.givenName` / `familyName` / `middleName` / `nickname` | `user.given_name` / `family_name` / — / `nickname` | `FirstName` / `LastName` / `MiddleName` / `NickName` |
//! | `context.user.profile.birthdate`, `gender`, `address.country` | — | `BirthDate`, `Gender`, `Country.Code` |
//! | `context.user.avatar`          | `user.picture`                     | `ImageUrl`                        |
//! | `context.user.customData`      | `user.app_metadata`                | `CustomFields`                    |
//! | `context.user.roles[].name`    | `authorization.roles`              | `Roles`                           |
//! | `context.user.identities`      | `user.identities[{provider,user_id}]` | `Identities[{Provider,ID}]`    |
//! | `context.user.createdAt` / `updatedAt` / `lastSignInAt` (epoch ms; left out outside 1970–9999) | `user.created_at` / `updated_at` / `last_login` (ISO 8601) | `CreatedDate` / `ModifiedDate` / `LastLoginDate` |
//! | `context.user.isSuspended`     | —                                  | `IsActive` (negated)              |
//! | `context.application`          | `client.{client_id,name,metadata}` | —                                 |
//! | `context.organization`         | `organization.{id,name,display_name,metadata}` | —                     |
//! | `context.request` (`ip`, `userAgent`, `language`, ...), when given | `request.{ip,user_agent,language,...}` | `Request.{IP,UserAgent,Language}` |
//! | `token.aud`                    | `resource_server.identifier`       | —                                 |
//! | `token.scope`                  | `transaction.requested_scopes`, and for M2M `accessToken.scope` | — |
//! | `token.clientId`               | `client.client_id` (preferred over `application.id`) | `ClientId`         |
//! | `environmentVariables`         | `event.secrets` (added by the runtime) | `hook.secrets` (a Claimscript addition) |
//!
//! Fields the input does not have are left out rather than set to null.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::input::{RunInput, TokenKind};
use crate::style::Style;

/// The script's first argument as JSON text (secrets and functions are
/// added by the runtime).
pub(crate) fn argument(style: Style, input: &RunInput) -> String {
    match style {
        Style::Logto => logto(input),
        Style::Auth0 => Value::Object(auth0_event(input)).to_string(),
        Style::LoginRadius => Value::Object(lr_object(input)).to_string(),
    }
}

/// Logto: `{token, context}` (no `context` when the input has none); the
/// context as the caller wrote it when the input was parsed from text.
fn logto(input: &RunInput) -> String {
    // A map of JSON values with string keys always serialises.
    let token = serde_json::to_string(&input.token).unwrap_or_else(|_| "{}".into());
    let mut out = String::with_capacity(token.len() + input.context_len() + 24);
    out.push_str("{\"token\":");
    out.push_str(&token);
    input.push_context_member(&mut out);
    out.push('}');
    out
}

/// The root a claims template is rendered against: the LoginRadius profile
/// fields at the top level, plus `token`, `context` and the context's
/// `user`, `application` and `organization`.
pub(crate) fn template_root(input: &RunInput) -> Value {
    let mut root = lr_object(input);
    root.insert("token".into(), Value::Object(input.token.clone()));
    if let Some(context) = input.context() {
        root.insert("context".into(), Value::Object(context.clone()));
        for key in ["user", "application", "organization"] {
            if let Some(value) = context.get(key) {
                root.insert(key.into(), value.clone());
            }
        }
    }
    Value::Object(root)
}

/// Builds an object, leaving out the fields the input lacks.
#[derive(Default)]
struct Fields(Map<String, Value>);

impl Fields {
    fn set(mut self, key: &str, value: Option<Value>) -> Self {
        if let Some(value) = value.filter(|v| !v.is_null()) {
            self.0.insert(key.into(), value);
        }
        self
    }

    fn done(self) -> Map<String, Value> {
        self.0
    }
}

fn path<'a>(root: Option<&'a Map<String, Value>>, keys: &[&str]) -> Option<&'a Value> {
    let (first, rest) = keys.split_first()?;
    let mut value = root?.get(*first)?;
    for key in rest {
        value = value.as_object()?.get(*key)?;
    }
    Some(value)
}

fn user(input: &RunInput) -> Option<&Map<String, Value>> {
    path(input.context(), &["user"])?.as_object()
}

/// Epoch milliseconds (Logto's dates) as ISO 8601, as Auth0 and LoginRadius
/// write them; left out when out of range (before 1970 or after 9999).
fn iso_date(value: Option<&Value>) -> Option<Value> {
    let ms = value?.as_i64()?;
    let time = UNIX_EPOCH.checked_add(Duration::from_millis(u64::try_from(ms).ok()?))?;
    rfc3339(time, Precision::Millis).map(Value::String)
}

/// Fractional digits of an RFC 3339 time.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Precision {
    Millis,
    Micros,
}

/// `time` as RFC 3339 (UTC), or `None` when RFC 3339 cannot write it
/// (before 1970 or after the year 9999). Never panics.
pub(crate) fn rfc3339(time: SystemTime, precision: Precision) -> Option<String> {
    /// 10000-01-01T00:00:00Z.
    const YEAR_10000: u64 = 253_402_300_800;
    let since = time.duration_since(UNIX_EPOCH).ok()?;
    if since.as_secs() >= YEAR_10000 {
        return None;
    }
    let mut out = String::new();
    let written = match precision {
        Precision::Millis => write!(out, "{}", humantime::format_rfc3339_millis(time)),
        Precision::Micros => write!(out, "{}", humantime::format_rfc3339_micros(time)),
    };
    written.ok().map(|()| out)
}

fn role_names(user: Option<&Map<String, Value>>) -> Option<Value> {
    let roles = user?.get("roles")?.as_array()?;
    Some(Value::Array(
        roles
            .iter()
            .filter_map(|r| r.get("name").cloned())
            .collect(),
    ))
}

fn scopes(input: &RunInput) -> Value {
    let scope = input
        .token
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("");
    Value::Array(scope.split_whitespace().map(|s| json!(s)).collect())
}

fn audience(input: &RunInput) -> Option<Value> {
    match input.token.get("aud")? {
        Value::Array(list) => list.first().cloned(),
        other => Some(other.clone()),
    }
}

/// `{provider: {userId, details}}` as a list of `(provider, user id)`.
fn identities(user: Option<&Map<String, Value>>) -> Vec<(String, Option<Value>)> {
    let Some(identities) = user
        .and_then(|u| u.get("identities"))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    identities
        .iter()
        .map(|(provider, identity)| (provider.clone(), identity.get("userId").cloned()))
        .collect()
}

fn request(input: &RunInput) -> Option<&Map<String, Value>> {
    path(input.context(), &["request"])?.as_object()
}

/// Auth0's `event` for `onExecutePostLogin` (user tokens) or
/// `onExecuteCredentialsExchange` (client credentials).
fn auth0_event(input: &RunInput) -> Map<String, Value> {
    let context = input.context();
    let application = path(context, &["application"]).and_then(Value::as_object);
    let client = Fields::default()
        .set(
            "client_id",
            input
                .token
                .get("clientId")
                .or_else(|| application.and_then(|a| a.get("id")))
                .cloned(),
        )
        .set("name", application.and_then(|a| a.get("name")).cloned())
        .set(
            "metadata",
            Some(
                application
                    .and_then(|a| a.get("customData"))
                    .cloned()
                    .unwrap_or_else(|| json!({})),
            ),
        )
        .done();
    let request = request(input).map(|r| {
        Fields::default()
            .set("ip", r.get("ip").cloned())
            .set("user_agent", r.get("userAgent").cloned())
            .set("language", r.get("language").cloned())
            .set("hostname", r.get("hostname").cloned())
            .done()
    });
    let event = Fields::default()
        .set("client", Some(Value::Object(client)))
        .set(
            "resource_server",
            Some(Value::Object(
                Fields::default().set("identifier", audience(input)).done(),
            )),
        )
        .set(
            "transaction",
            Some(json!({ "requested_scopes": scopes(input) })),
        )
        .set("request", Some(Value::Object(request.unwrap_or_default())))
        .set("hook", hook(input));
    if input.kind == TokenKind::ClientCredentials {
        return event
            .set(
                "accessToken",
                Some(json!({ "scope": scopes(input), "customClaims": {} })),
            )
            .done();
    }
    let user = user(input);
    let profile = |key: &str| {
        path(user, &["profile", key])
            .filter(|v| !v.is_null())
            .cloned()
    };
    let field = |key: &str| {
        user.and_then(|u| u.get(key))
            .filter(|v| !v.is_null())
            .cloned()
    };
    let email = field("primaryEmail");
    let event_user = Fields::default()
        .set("user_id", field("id"))
        .set("username", field("username"))
        .set("email_verified", email.as_ref().map(|_| json!(true)))
        .set("email", email)
        .set("phone_number", field("primaryPhone"))
        .set("name", field("name"))
        .set(
            "nickname",
            profile("nickname")
                .or_else(|| field("username"))
                .or_else(|| field("name")),
        )
        .set("given_name", profile("givenName"))
        .set("family_name", profile("familyName"))
        .set("picture", field("avatar"))
        .set(
            "created_at",
            iso_date(user.and_then(|u| u.get("createdAt"))),
        )
        .set(
            "updated_at",
            iso_date(user.and_then(|u| u.get("updatedAt"))),
        )
        .set(
            "last_login",
            iso_date(user.and_then(|u| u.get("lastSignInAt"))),
        )
        .set(
            "app_metadata",
            Some(field("customData").unwrap_or_else(|| json!({}))),
        )
        .set("user_metadata", Some(json!({})))
        .set(
            "identities",
            Some(Value::Array(
                identities(user)
                    .into_iter()
                    .map(|(provider, id)| {
                        Value::Object(
                            Fields::default()
                                .set("provider", Some(json!(provider)))
                                .set("connection", Some(json!(provider)))
                                .set("user_id", id)
                                .done(),
                        )
                    })
                    .collect(),
            )),
        )
        .set("multifactor", field("mfaVerificationFactors"))
        .done();
    let organization = path(context, &["organization"])
        .and_then(Value::as_object)
        .map(|o| {
            Fields::default()
                .set("id", o.get("id").cloned())
                .set("name", o.get("name").cloned())
                .set("display_name", o.get("name").cloned())
                .set(
                    "metadata",
                    Some(o.get("customData").cloned().unwrap_or_else(|| json!({}))),
                )
                .done()
        });
    event
        .set("user", Some(Value::Object(event_user)))
        .set(
            "authorization",
            Some(json!({ "roles": role_names(user).unwrap_or_else(|| json!([])) })),
        )
        .set("organization", organization.map(Value::Object))
        .done()
}

/// The provider hook's request (`context.hook`: `{provider, payload}`),
/// when the run comes from a provider hook of the service: Auth0 scripts
/// read it as `event.hook`, LoginRadius scripts as `lrObject.Hook`.
fn hook(input: &RunInput) -> Option<Value> {
    path(input.context(), &["hook"]).cloned()
}

/// LoginRadius's `lrObject`: the user's profile.
fn lr_object(input: &RunInput) -> Map<String, Value> {
    let user = user(input);
    let field = |key: &str| {
        user.and_then(|u| u.get(key))
            .filter(|v| !v.is_null())
            .cloned()
    };
    let profile = |key: &str| {
        path(user, &["profile", key])
            .filter(|v| !v.is_null())
            .cloned()
    };
    let email = field("primaryEmail");
    let request = request(input).map(|r| {
        Fields::default()
            .set("IP", r.get("ip").cloned())
            .set("UserAgent", r.get("userAgent").cloned())
            .set("Language", r.get("language").cloned())
            .done()
    });
    Fields::default()
        .set("Hook", hook(input))
        .set("Uid", field("id"))
        .set("ID", field("id"))
        .set("UserName", field("username"))
        .set("FirstName", profile("givenName"))
        .set("MiddleName", profile("middleName"))
        .set("LastName", profile("familyName"))
        .set("FullName", field("name"))
        .set("NickName", profile("nickname"))
        .set("EmailVerified", Some(json!(email.is_some())))
        .set(
            "Email",
            Some(Value::Array(
                email
                    .into_iter()
                    .map(|e| json!({ "Type": "Primary", "Value": e }))
                    .collect(),
            )),
        )
        .set("PhoneId", field("primaryPhone"))
        .set("ImageUrl", field("avatar"))
        .set("BirthDate", profile("birthdate"))
        .set("Gender", profile("gender"))
        .set(
            "Country",
            path(user, &["profile", "address", "country"])
                .cloned()
                .map(|code| json!({ "Code": code })),
        )
        .set("Roles", role_names(user))
        .set("CustomFields", field("customData"))
        .set(
            "IsActive",
            field("isSuspended")
                .and_then(|s| s.as_bool())
                .map(|s| json!(!s)),
        )
        .set(
            "CreatedDate",
            iso_date(user.and_then(|u| u.get("createdAt"))),
        )
        .set(
            "ModifiedDate",
            iso_date(user.and_then(|u| u.get("updatedAt"))),
        )
        .set(
            "LastLoginDate",
            iso_date(user.and_then(|u| u.get("lastSignInAt"))),
        )
        .set(
            "Identities",
            user.map(|u| {
                Value::Array(
                    identities(Some(u))
                        .into_iter()
                        .map(|(provider, id)| {
                            Value::Object(
                                Fields::default()
                                    .set("Provider", Some(json!(provider)))
                                    .set("ID", id)
                                    .done(),
                            )
                        })
                        .collect(),
                )
            }),
        )
        .set("ClientId", input.token.get("clientId").cloned())
        .set("Request", request.map(Value::Object))
        .done()
}
