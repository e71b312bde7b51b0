//! ZITADEL request → run input; outcome → ZITADEL response.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use claimscript::{FailurePolicy, Outcome, RunInput, TokenKind};
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::wire::{Function, Request};
use crate::Protocol;
use crate::common::{Fields, hook_context, non_empty, role_objects};
use crate::respond::{
    DropReason, DroppedClaim, Effect, HookResponse, TokenTarget, Verdict, enforce_size,
};

/// ZITADEL silently drops claim keys with this prefix.
pub const PROTECTED_PREFIX: &str = "urn:zitadel:iam";

impl Request {
    /// `ClientCredentials` for a machine user, else `AccessToken`.
    pub fn token_kind(&self) -> TokenKind {
        if self.user.as_ref().is_some_and(|u| u.machine.is_some()) {
            TokenKind::ClientCredentials
        } else {
            TokenKind::AccessToken
        }
    }

    /// The Logto-shaped input; see the crate documentation's mapping table.
    pub fn to_run_input(&self) -> RunInput {
        let kind = self.token_kind();
        let user = self.user.as_ref();
        let human = user.and_then(|u| u.human.as_ref());
        let user_id = user
            .and_then(|u| u.id.as_deref())
            .or_else(|| non_empty(self.userinfo.as_ref().and_then(|u| u.get("sub"))));
        let client_id = non_empty(
            self.application
                .as_ref()
                .and_then(|a| a.get("client_id").or_else(|| a.get("clientId"))),
        );
        let mut token = Fields::new().str("clientId", client_id);
        if kind == TokenKind::AccessToken {
            token = token.str("accountId", user_id);
        }

        let roles = self
            .user_grants
            .iter()
            .flatten()
            .flat_map(|g| g.roles.iter().flatten())
            .map(String::as_str);
        let custom_data: Map<String, Value> = self
            .user_metadata
            .iter()
            .flatten()
            .map(|m| {
                let value = m.value.as_deref().map(|v| match STANDARD.decode(v) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => Value::String(text),
                        Err(_) => Value::String(v.to_string()),
                    },
                    Err(_) => Value::String(v.to_string()),
                });
                (m.key.clone(), value.unwrap_or(Value::Null))
            })
            .collect();
        let suspended = user
            .and_then(|u| u.state)
            .map(|s| Value::Bool(s == 2 || s == 4));
        let user_obj = Fields::new()
            .str("id", user_id)
            .str("username", user.and_then(|u| u.username.as_deref()))
            .str("primaryEmail", human.and_then(|h| h.email.as_deref()))
            .str("primaryPhone", human.and_then(|h| h.phone.as_deref()))
            .str("name", human.and_then(|h| h.display_name.as_deref()))
            .set(
                "profile",
                Some(Value::Object(
                    Fields::new()
                        .str("givenName", human.and_then(|h| h.first_name.as_deref()))
                        .str("familyName", human.and_then(|h| h.last_name.as_deref()))
                        .str("nickname", human.and_then(|h| h.nick_name.as_deref()))
                        .str(
                            "locale",
                            human.and_then(|h| h.preferred_language.as_deref()),
                        )
                        .done(),
                )),
            )
            .set("roles", Some(role_objects(roles)))
            .set("customData", Some(Value::Object(custom_data)))
            .set("isSuspended", suspended)
            .done();
        let organization = self.org.as_ref().map(|o| {
            Value::Object(
                Fields::new()
                    .str("id", o.id.as_deref())
                    .str("name", o.name.as_deref())
                    .set(
                        "customData",
                        Some(Value::Object(
                            Fields::new()
                                .str("primaryDomain", o.primary_domain.as_deref())
                                .done(),
                        )),
                    )
                    .done(),
            )
        });
        let application = client_id.map(|id| json!({ "id": id }));
        let mut ctx = Fields::new()
            .set("application", application)
            .set("organization", organization);
        if kind == TokenKind::AccessToken {
            ctx = ctx.set("user", Some(Value::Object(user_obj)));
        }
        let mut ctx = ctx.done();
        ctx.insert("hook".into(), hook_context(Protocol::Zitadel, &self.raw));
        RunInput::new(kind, token.done()).with_context(ctx)
    }

    /// The response to ZITADEL for this outcome under `policy`.
    pub fn respond(&self, outcome: &Outcome, policy: FailurePolicy) -> HookResponse {
        let response = self.build(Verdict::new(outcome, policy));
        enforce_size(
            response,
            Protocol::Zitadel.max_response_bytes(),
            policy,
            |v| self.build(v),
        )
    }

    fn build(&self, verdict: Verdict<'_>) -> HookResponse {
        match verdict {
            Verdict::Claims { access, id } => {
                let mut dropped = Vec::new();
                // Which claims this function can place, and which it cannot.
                let (claims, target, elsewhere) = match (self.kind, id) {
                    (Function::PreAccessToken, id) => (
                        access,
                        TokenTarget::Access,
                        id.map(|id| (id, TokenTarget::Id)),
                    ),
                    (Function::PreUserinfo, Some(id)) => {
                        (id, TokenTarget::Id, Some((access, TokenTarget::Access)))
                    }
                    (Function::PreUserinfo, None) => (access, TokenTarget::Id, None),
                };
                if let Some((other, other_target)) = elsewhere {
                    for name in other.keys() {
                        dropped.push(DroppedClaim::new(
                            name,
                            other_target,
                            DropReason::TokenNotIssued,
                        ));
                    }
                }
                let existing = match self.kind {
                    Function::PreUserinfo => self.userinfo.as_ref(),
                    Function::PreAccessToken => None,
                };
                let mut append = Vec::new();
                for (key, value) in claims {
                    if key.starts_with(PROTECTED_PREFIX) {
                        dropped.push(DroppedClaim::new(key, target, DropReason::Protected));
                    } else if existing.is_some_and(|e| e.contains_key(key)) {
                        dropped.push(DroppedClaim::new(key, target, DropReason::AlreadyPresent));
                    } else {
                        append.push(json!({ "key": key, "value": value }));
                    }
                }
                let mut response = if append.is_empty() {
                    HookResponse::json(StatusCode::OK, &json!({}), Effect::Unchanged)
                } else {
                    HookResponse::json(
                        StatusCode::OK,
                        &json!({ "append_claims": append }),
                        Effect::Claims,
                    )
                };
                response.dropped = dropped;
                response
            }
            Verdict::Denied { message } => HookResponse::json(
                StatusCode::OK,
                &json!({ "forwardedStatusCode": 403, "forwardedErrorMessage": message }),
                Effect::Denied,
            ),
            Verdict::FailOpen => HookResponse::json(StatusCode::OK, &json!({}), Effect::FailedOpen),
            Verdict::FailClosed(error) => HookResponse::json(
                StatusCode::OK,
                &json!({ "forwardedStatusCode": error.status, "forwardedErrorMessage": error.description }),
                Effect::FailedClosed,
            ),
        }
    }
}
