//! Okta request → run input; outcome → Okta response.

use claimscript::{FailurePolicy, Outcome, RunInput, TokenKind};
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::wire::{Request, Token};
use crate::Protocol;
use crate::common::{Fields, hook_context, non_empty, role_objects};
use crate::respond::{
    DropReason, DroppedClaim, Effect, HookResponse, TokenTarget, Verdict, enforce_size,
    json_pointer_escape,
};

/// Claims Okta refuses to add or change in an access token (Okta's list of
/// reserved claims, plus the lifetime claims, changed only through
/// `/token/lifetime/expiration`).
pub const RESERVED_ACCESS_TOKEN_CLAIMS: &[&str] = &[
    "acr",
    "amr",
    "as_uri",
    "cid",
    "groups",
    "rpt",
    "rsi",
    "uid",
    "username",
    "iss",
    "jti",
    "token_type",
    "ver",
    "exp",
    "iat",
    "nbf",
];

/// Claims Okta refuses to add or change in an ID token.
pub const RESERVED_ID_TOKEN_CLAIMS: &[&str] = &[
    "active",
    "aid",
    "aud",
    "app_id",
    "app_type",
    "at_hash",
    "auth_time",
    "client_id",
    "client_ip",
    "client_req_id",
    "client_type",
    "client_user_agent",
    "cnf",
    "c_hash",
    "device_compliance",
    "device_id",
    "device_known",
    "device_managed",
    "device_name",
    "device_trust",
    "did",
    "dst",
    "group",
    "hotk",
    "idp",
    "idp_iss",
    "mac_key",
    "may_act",
    "nonce",
    "oid",
    "okta_emailVerified",
    "okta_lastUpdated",
    "orig",
    "permissions",
    "purpose",
    "pwd_exp_days",
    "pwd_exp_time",
    "rid",
    "role",
    "scope",
    "scopes",
    "sid",
    "sub",
    "term",
    "user_ip",
    "iss",
    "jti",
    "token_type",
    "ver",
    "exp",
    "iat",
    "nbf",
    "amr",
];

impl Request {
    /// The grant type (`data.context.protocol.request.grant_type`).
    pub fn grant_type(&self) -> Option<&str> {
        self.data
            .context
            .protocol
            .as_ref()
            .and_then(|p| p.request.as_ref())
            .and_then(|r| r.grant_type.as_deref())
    }

    /// The token kind: `ClientCredentials` for the client-credentials
    /// grant (or a request without user and session), else `AccessToken`.
    pub fn token_kind(&self) -> TokenKind {
        let context = &self.data.context;
        if self.grant_type() == Some("client_credentials")
            || (context.user.is_none() && context.session.is_none())
        {
            TokenKind::ClientCredentials
        } else {
            TokenKind::AccessToken
        }
    }

    /// The Logto-shaped input; see the crate documentation's mapping table.
    pub fn to_run_input(&self) -> RunInput {
        let context = &self.data.context;
        let protocol = context.protocol.as_ref();
        let client = protocol.and_then(|p| p.client.as_ref());
        let oauth = protocol.and_then(|p| p.request.as_ref());
        let access = self.data.access.as_ref().map(|t| &t.claims);
        let identity = self.data.identity.as_ref().map(|t| &t.claims);
        let kind = self.token_kind();

        let scope = match self.data.access.as_ref().and_then(|t| t.scopes.as_ref()) {
            Some(scopes) if !scopes.is_empty() => {
                Some(scopes.keys().cloned().collect::<Vec<_>>().join(" "))
            }
            _ => oauth.and_then(|r| r.scope.clone()),
        };
        let client_id = client
            .and_then(|c| c.id.as_deref())
            .or_else(|| oauth.and_then(|r| r.client_id.as_deref()))
            .or_else(|| non_empty(access.and_then(|c| c.get("cid"))));
        let user_id = context
            .user
            .as_ref()
            .and_then(|u| u.id.as_deref())
            .or_else(|| context.session.as_ref().and_then(|s| s.user_id.as_deref()))
            .or_else(|| non_empty(access.and_then(|c| c.get("uid"))));
        let mut token = Fields::new()
            .set("jti", access.and_then(|c| c.get("jti")).cloned())
            .set("aud", access.and_then(|c| c.get("aud")).cloned())
            .str("scope", scope.as_deref())
            .str("clientId", client_id)
            .str("gty", self.grant_type());
        if kind == TokenKind::AccessToken {
            token = token.str("accountId", user_id).str(
                "sid",
                context.session.as_ref().and_then(|s| s.id.as_deref()),
            );
        }

        let application = client.map(|c| {
            Value::Object(
                Fields::new()
                    .str("id", c.id.as_deref())
                    .str("name", c.name.as_deref())
                    .str("type", c.kind.as_deref())
                    .done(),
            )
        });
        let request = context.request.as_ref().map(|r| {
            Value::Object(
                Fields::new()
                    .str("id", r.id.as_deref())
                    .str("ip", r.ip_address.as_deref())
                    .str("method", r.method.as_deref())
                    .set("url", r.url.as_ref().and_then(|u| u.get("value")).cloned())
                    .done(),
            )
        });
        let mut ctx = Fields::new()
            .set("application", application)
            .set("request", request);
        if kind == TokenKind::AccessToken {
            ctx = ctx.set(
                "user",
                Some(Value::Object(self.user(user_id, access, identity))),
            );
        }
        let mut ctx = ctx.done();
        ctx.insert("hook".into(), hook_context(Protocol::Okta, &self.raw));
        RunInput::new(kind, token.done()).with_context(ctx)
    }

    fn user(
        &self,
        id: Option<&str>,
        access: Option<&Map<String, Value>>,
        identity: Option<&Map<String, Value>>,
    ) -> Map<String, Value> {
        let user = self.data.context.user.as_ref();
        let profile = user.map(|u| &u.profile);
        let p = |key: &str| non_empty(profile.and_then(|p| p.get(key)));
        let email = p("email").or_else(|| non_empty(identity.and_then(|c| c.get("email"))));
        let full_name = match (p("firstName"), p("lastName")) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            (Some(one), None) | (None, Some(one)) => Some(one.to_string()),
            (None, None) => None,
        };
        let name = non_empty(identity.and_then(|c| c.get("name")))
            .map(str::to_string)
            .or(full_name);
        let groups = access
            .and_then(|c| c.get("groups"))
            .or_else(|| identity.and_then(|c| c.get("groups")))
            .and_then(Value::as_array)
            .map(|g| g.iter().filter_map(Value::as_str).collect::<Vec<_>>())
            .unwrap_or_default();
        Fields::new()
            .str("id", id)
            .str(
                "username",
                p("login").or_else(|| {
                    self.data
                        .context
                        .session
                        .as_ref()
                        .and_then(|s| s.login.as_deref())
                }),
            )
            .str("primaryEmail", email)
            .str(
                "primaryPhone",
                p("mobilePhone").or_else(|| p("primaryPhone")),
            )
            .str("name", name.as_deref())
            .set(
                "profile",
                Some(Value::Object(
                    Fields::new()
                        .str("givenName", p("firstName"))
                        .str("familyName", p("lastName"))
                        .str("nickname", p("nickName"))
                        .str("locale", p("locale"))
                        .str("zoneinfo", p("timeZone"))
                        .done(),
                )),
            )
            .set("roles", Some(role_objects(groups)))
            .set(
                "customData",
                Some(Value::Object(profile.cloned().unwrap_or_default())),
            )
            .done()
    }

    /// The response to Okta for this outcome under `policy`.
    pub fn respond(&self, outcome: &Outcome, policy: FailurePolicy) -> HookResponse {
        let response = self.build(Verdict::new(outcome, policy));
        enforce_size(response, Protocol::Okta.max_response_bytes(), policy, |v| {
            self.build(v)
        })
    }

    fn build(&self, verdict: Verdict<'_>) -> HookResponse {
        match verdict {
            Verdict::Claims { access, id } => {
                let mut dropped = Vec::new();
                let mut commands = Vec::new();
                if let Some(id) = id
                    && let Some(ops) = patch(
                        id,
                        self.data.identity.as_ref(),
                        TokenTarget::Id,
                        RESERVED_ID_TOKEN_CLAIMS,
                        &mut dropped,
                    )
                {
                    commands.push(json!({ "type": "com.okta.identity.patch", "value": ops }));
                }
                if let Some(ops) = patch(
                    access,
                    self.data.access.as_ref(),
                    TokenTarget::Access,
                    RESERVED_ACCESS_TOKEN_CLAIMS,
                    &mut dropped,
                ) {
                    commands.push(json!({ "type": "com.okta.access.patch", "value": ops }));
                }
                let mut response = if commands.is_empty() {
                    HookResponse::no_content(Effect::Unchanged)
                } else {
                    HookResponse::json(
                        StatusCode::OK,
                        &json!({ "commands": commands }),
                        Effect::Claims,
                    )
                };
                response.dropped = dropped;
                response
            }
            Verdict::Denied { message } => HookResponse::json(
                StatusCode::OK,
                &json!({ "error": { "errorSummary": message } }),
                Effect::Denied,
            ),
            Verdict::FailOpen => HookResponse::no_content(Effect::FailedOpen),
            Verdict::FailClosed(error) => HookResponse::json(
                StatusCode::OK,
                &json!({ "error": { "errorSummary": error.description } }),
                Effect::FailedClosed,
            ),
        }
    }
}

/// The `add` operations for `claims` on `token`, or `None` when there are
/// none. Claims for a token the request does not carry, and reserved
/// claims, go to `dropped`; claims already holding the same value are left
/// alone.
fn patch(
    claims: &Map<String, Value>,
    token: Option<&Token>,
    target: TokenTarget,
    reserved: &[&str],
    dropped: &mut Vec<DroppedClaim>,
) -> Option<Vec<Value>> {
    let mut ops = Vec::new();
    for (name, value) in claims {
        if reserved.contains(&name.as_str()) {
            dropped.push(DroppedClaim::new(name, target, DropReason::Protected));
            continue;
        }
        let Some(token) = token else {
            dropped.push(DroppedClaim::new(name, target, DropReason::TokenNotIssued));
            continue;
        };
        if token.claims.get(name) == Some(value) {
            continue;
        }
        ops.push(json!({
            "op": "add",
            "path": format!("/claims/{}", json_pointer_escape(name)),
            "value": value,
        }));
    }
    (!ops.is_empty()).then_some(ops)
}
