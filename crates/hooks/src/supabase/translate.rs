//! Supabase request → run input; outcome → Supabase response.

use claimscript::{FailurePolicy, Outcome, RunInput, TokenKind};
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::wire::Request;
use crate::Protocol;
use crate::common::{Fields, hook_context, non_empty, role_objects};
use crate::respond::{
    DropReason, DroppedClaim, Effect, HookResponse, TokenTarget, Verdict, enforce_size,
};

/// The claims Supabase's output schema requires: kept as the request has
/// them, never overwritten by a script.
pub const REQUIRED_CLAIMS: &[&str] = &[
    "aud",
    "exp",
    "iat",
    "sub",
    "email",
    "phone",
    "role",
    "aal",
    "session_id",
    "is_anonymous",
];

/// Claims whose value Supabase's schema requires to be an object.
const OBJECT_CLAIMS: &[&str] = &["app_metadata", "user_metadata"];

impl Request {
    /// Always `AccessToken`: the hook runs for user sessions.
    pub fn token_kind(&self) -> TokenKind {
        TokenKind::AccessToken
    }

    /// The Logto-shaped input; see the crate documentation's mapping table.
    pub fn to_run_input(&self) -> RunInput {
        let c = &self.claims;
        let token = Fields::new()
            .str("accountId", Some(self.user_id.as_str()))
            .set("aud", c.get("aud").cloned())
            .str("scope", non_empty(c.get("scope")))
            .str("clientId", non_empty(c.get("client_id")))
            .str("sid", non_empty(c.get("session_id")))
            .done();
        let user_metadata = c.get("user_metadata");
        let name = non_empty(user_metadata.and_then(|m| m.get("full_name")))
            .or_else(|| non_empty(user_metadata.and_then(|m| m.get("name"))));
        let user = Fields::new()
            .str("id", Some(self.user_id.as_str()))
            .str("primaryEmail", non_empty(c.get("email")))
            .str("primaryPhone", non_empty(c.get("phone")))
            .str("name", name)
            .set("roles", Some(role_objects(non_empty(c.get("role")))))
            .set(
                "customData",
                Some(
                    c.get("app_metadata")
                        .filter(|v| v.is_object())
                        .cloned()
                        .unwrap_or_else(|| json!({})),
                ),
            )
            .done();
        let application = non_empty(c.get("client_id")).map(|id| json!({ "id": id }));
        let request = self
            .metadata
            .as_ref()
            .and_then(|m| m.ip_address.as_deref())
            .filter(|ip| !ip.is_empty())
            .map(|ip| json!({ "ip": ip }));
        let mut ctx = Fields::new()
            .set("user", Some(Value::Object(user)))
            .set("application", application)
            .set("request", request)
            .done();
        ctx.insert("hook".into(), hook_context(Protocol::Supabase, &self.raw));
        RunInput::new(self.token_kind(), token).with_context(ctx)
    }

    /// The response to Supabase for this outcome under `policy`.
    pub fn respond(&self, outcome: &Outcome, policy: FailurePolicy) -> HookResponse {
        let response = self.build(Verdict::new(outcome, policy));
        enforce_size(
            response,
            Protocol::Supabase.max_response_bytes(),
            policy,
            |v| self.build(v),
        )
    }

    fn claims_body(claims: Map<String, Value>) -> Value {
        json!({ "claims": claims })
    }

    fn build(&self, verdict: Verdict<'_>) -> HookResponse {
        match verdict {
            Verdict::Claims { access, id } => {
                let mut dropped = Vec::new();
                let mut changed = false;
                let mut out = self.claims.clone();
                for (name, value) in access {
                    if REQUIRED_CLAIMS.contains(&name.as_str()) {
                        dropped.push(DroppedClaim::new(
                            name,
                            TokenTarget::Access,
                            DropReason::Protected,
                        ));
                    } else if OBJECT_CLAIMS.contains(&name.as_str()) && !value.is_object() {
                        dropped.push(DroppedClaim::new(
                            name,
                            TokenTarget::Access,
                            DropReason::InvalidType,
                        ));
                    } else {
                        changed |= out.get(name) != Some(value);
                        out.insert(name.clone(), value.clone());
                    }
                }
                for name in id.into_iter().flat_map(|id| id.keys()) {
                    dropped.push(DroppedClaim::new(
                        name,
                        TokenTarget::Id,
                        DropReason::TokenNotIssued,
                    ));
                }
                let effect = if changed {
                    Effect::Claims
                } else {
                    Effect::Unchanged
                };
                let mut response =
                    HookResponse::json(StatusCode::OK, &Self::claims_body(out), effect);
                response.dropped = dropped;
                response
            }
            Verdict::Denied { message } => HookResponse::json(
                StatusCode::OK,
                &json!({ "error": { "http_code": 403, "message": message } }),
                Effect::Denied,
            ),
            Verdict::FailOpen => HookResponse::json(
                StatusCode::OK,
                &Self::claims_body(self.claims.clone()),
                Effect::FailedOpen,
            ),
            Verdict::FailClosed(error) => HookResponse::json(
                StatusCode::OK,
                &json!({ "error": { "http_code": error.status, "message": error.description } }),
                Effect::FailedClosed,
            ),
        }
    }
}
