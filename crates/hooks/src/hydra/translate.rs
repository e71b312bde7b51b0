//! Hydra request → run input; outcome → Hydra response.

use claimscript::{FailurePolicy, Outcome, RunInput, TokenKind};
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::wire::Request;
use crate::Protocol;
use crate::common::{Fields, hook_context, non_empty};
use crate::respond::{
    DropReason, DroppedClaim, Effect, HookResponse, TokenTarget, Verdict, enforce_size,
};

/// Hydra's reserved top-level claims: never promoted from the access
/// token's extra claims, and owned by Hydra in the ID token.
pub const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scp",
    "ext",
];

/// Claims Hydra computes for an ID token, besides [`RESERVED_CLAIMS`].
pub const RESERVED_ID_TOKEN_CLAIMS: &[&str] = &[
    "nonce",
    "at_hash",
    "c_hash",
    "acr",
    "amr",
    "auth_time",
    "azp",
    "sid",
    "rat",
];

impl Request {
    /// `ClientCredentials` when the grant is `client_credentials`, else
    /// `AccessToken`.
    pub fn token_kind(&self) -> TokenKind {
        let cc = self
            .request
            .grant_types
            .iter()
            .flatten()
            .any(|g| g == "client_credentials");
        if cc {
            TokenKind::ClientCredentials
        } else {
            TokenKind::AccessToken
        }
    }

    fn subject(&self) -> Option<&str> {
        let id_token = self.session.id_token.as_ref();
        id_token
            .and_then(|t| t.subject.as_deref())
            .filter(|s| !s.is_empty())
            .or_else(|| {
                id_token
                    .and_then(|t| t.id_token_claims.as_ref())
                    .and_then(|c| c.sub.as_deref())
                    .filter(|s| !s.is_empty())
            })
    }

    /// The access token's extra claims as they stand.
    pub fn existing_access_claims(&self) -> Map<String, Value> {
        self.session.access_token_extra.clone().unwrap_or_default()
    }

    /// The ID token's extra claims as they stand.
    pub fn existing_id_token_claims(&self) -> Map<String, Value> {
        self.session
            .id_token
            .as_ref()
            .and_then(|t| t.id_token_claims.as_ref())
            .and_then(|c| c.ext.clone())
            .unwrap_or_default()
    }

    /// The Logto-shaped input; see the crate documentation's mapping table.
    pub fn to_run_input(&self) -> RunInput {
        let kind = self.token_kind();
        let req = &self.request;
        let client_id = req
            .client_id
            .as_deref()
            .or(self.session.client_id.as_deref())
            .filter(|s| !s.is_empty());
        let scope = req.granted_scopes.as_ref().map(|s| s.join(" "));
        let audience = req
            .granted_audience
            .as_ref()
            .filter(|a| !a.is_empty())
            .map(|a| json!(a));
        let mut token = Fields::new()
            .str("clientId", client_id)
            .str("scope", scope.as_deref())
            .set("aud", audience)
            .str(
                "gty",
                req.grant_types
                    .as_ref()
                    .and_then(|g| g.first())
                    .map(String::as_str),
            );
        if kind == TokenKind::AccessToken {
            token = token.str("accountId", self.subject());
        }
        let client = req.client.as_ref();
        let application = client_id.map(|id| {
            Value::Object(
                Fields::new()
                    .str("id", Some(id))
                    .str("name", non_empty(client.and_then(|c| c.get("client_name"))))
                    .set(
                        "customData",
                        client.and_then(|c| c.get("metadata")).cloned(),
                    )
                    .done(),
            )
        });
        let mut ctx = Fields::new().set("application", application);
        if kind == TokenKind::AccessToken {
            let user = Fields::new().str("id", self.subject()).str(
                "username",
                self.session
                    .id_token
                    .as_ref()
                    .and_then(|t| t.username.as_deref()),
            );
            ctx = ctx.set("user", Some(Value::Object(user.done())));
        }
        let mut ctx = ctx.done();
        ctx.insert("hook".into(), hook_context(Protocol::Hydra, &self.raw));
        RunInput::new(kind, token.done()).with_context(ctx)
    }

    /// The response to Hydra for this outcome under `policy`.
    pub fn respond(&self, outcome: &Outcome, policy: FailurePolicy) -> HookResponse {
        let response = self.build(Verdict::new(outcome, policy));
        enforce_size(
            response,
            Protocol::Hydra.max_response_bytes(),
            policy,
            |v| self.build(v),
        )
    }

    fn session(access: Map<String, Value>, id: Map<String, Value>) -> Value {
        json!({ "session": { "access_token": access, "id_token": id } })
    }

    fn build(&self, verdict: Verdict<'_>) -> HookResponse {
        match verdict {
            Verdict::Claims { access, id } => {
                let mut dropped = Vec::new();
                let mut changed = false;
                let mut access_out = self.existing_access_claims();
                for (name, value) in access {
                    if RESERVED_CLAIMS.contains(&name.as_str()) {
                        dropped.push(DroppedClaim::new(
                            name,
                            TokenTarget::Access,
                            DropReason::Protected,
                        ));
                    } else {
                        changed |= access_out.get(name) != Some(value);
                        access_out.insert(name.clone(), value.clone());
                    }
                }
                let mut id_out = self.existing_id_token_claims();
                for (name, value) in id.into_iter().flatten() {
                    if RESERVED_CLAIMS.contains(&name.as_str())
                        || RESERVED_ID_TOKEN_CLAIMS.contains(&name.as_str())
                    {
                        dropped.push(DroppedClaim::new(
                            name,
                            TokenTarget::Id,
                            DropReason::Protected,
                        ));
                    } else {
                        changed |= id_out.get(name) != Some(value);
                        id_out.insert(name.clone(), value.clone());
                    }
                }
                let effect = if changed {
                    Effect::Claims
                } else {
                    Effect::Unchanged
                };
                let mut response =
                    HookResponse::json(StatusCode::OK, &Self::session(access_out, id_out), effect);
                response.dropped = dropped;
                response
            }
            Verdict::Denied { message } => HookResponse::json(
                StatusCode::FORBIDDEN,
                &json!({ "error": "access_denied", "error_description": message }),
                Effect::Denied,
            ),
            Verdict::FailOpen => HookResponse::json(
                StatusCode::OK,
                &Self::session(
                    self.existing_access_claims(),
                    self.existing_id_token_claims(),
                ),
                Effect::FailedOpen,
            ),
            Verdict::FailClosed(error) => HookResponse::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({ "error": "server_error", "error_description": error.description }),
                Effect::FailedClosed,
            ),
        }
    }
}
