//! What goes back to the identity provider.

use claimscript::{ErrorKind, FailurePolicy, OAuthError, Outcome, ScriptError};
use http::StatusCode;
use serde_json::{Map, Value};

/// The response to send to the identity provider: status, body bytes and
/// content type exactly as the provider expects them, plus what the server
/// audits.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HookResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body (empty for 204).
    pub body: Vec<u8>,
    /// The `Content-Type` to send, when there is a body.
    pub content_type: Option<&'static str>,
    /// Claims the script set that the response does not carry, and why:
    /// the provider's protected claims, claims for a token the provider did
    /// not ask about, claims the provider would not overwrite. (Claims the
    /// engine itself removed are in the run's outcome.)
    pub dropped: Vec<DroppedClaim>,
    /// What the response does to the token.
    pub effect: Effect,
}

impl HookResponse {
    pub(crate) fn json(status: StatusCode, body: &Value, effect: Effect) -> HookResponse {
        HookResponse {
            status,
            // A JSON value with string keys always serialises.
            body: serde_json::to_vec(body).unwrap_or_default(),
            content_type: Some("application/json"),
            dropped: Vec::new(),
            effect,
        }
    }

    pub(crate) fn no_content(effect: Effect) -> HookResponse {
        HookResponse {
            status: StatusCode::NO_CONTENT,
            body: Vec::new(),
            content_type: None,
            dropped: Vec::new(),
            effect,
        }
    }

    /// The body as JSON (`Value::Null` for an empty body).
    pub fn json_body(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// What a hook response does to the token being issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Effect {
    /// The token gets at least one of the script's claims.
    Claims,
    /// The token is issued as the provider would have issued it.
    Unchanged,
    /// The script denied: the provider refuses the token.
    Denied,
    /// The script failed and the binding's policy is
    /// [`FailurePolicy::IssueWithoutClaims`]: the token is issued without
    /// the script's claims.
    FailedOpen,
    /// The script failed and the policy is [`FailurePolicy::Block`]: the
    /// provider refuses the token.
    FailedClosed,
}

impl Effect {
    /// `claims`, `unchanged`, `denied`, `failed_open` or `failed_closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Claims => "claims",
            Effect::Unchanged => "unchanged",
            Effect::Denied => "denied",
            Effect::FailedOpen => "failed_open",
            Effect::FailedClosed => "failed_closed",
        }
    }
}

/// Which token a claim was meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenTarget {
    /// The access token.
    Access,
    /// The ID token (or ZITADEL's userinfo).
    Id,
}

/// Why a claim the script set is not in the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// The provider owns this claim (Okta's reserved claims, Supabase's
    /// required claims, Hydra's reserved top-level claims, ZITADEL's
    /// `urn:zitadel:iam` prefix).
    Protected,
    /// The provider is not issuing that token in this request (Okta sends
    /// only the tokens requested).
    TokenNotIssued,
    /// The provider never overwrites an existing claim (ZITADEL).
    AlreadyPresent,
    /// The provider would reject the value's type (Supabase's
    /// `app_metadata` / `user_metadata` must be objects).
    InvalidType,
}

impl DropReason {
    /// `protected`, `token_not_issued`, `already_present` or `invalid_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Protected => "protected",
            DropReason::TokenNotIssued => "token_not_issued",
            DropReason::AlreadyPresent => "already_present",
            DropReason::InvalidType => "invalid_type",
        }
    }
}

/// One claim left out of the response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DroppedClaim {
    /// The claim's name.
    pub name: String,
    /// The token it was meant for.
    pub token: TokenTarget,
    /// Why it was left out.
    pub reason: DropReason,
}

impl DroppedClaim {
    pub(crate) fn new(name: &str, token: TokenTarget, reason: DropReason) -> DroppedClaim {
        DroppedClaim {
            name: name.to_string(),
            token,
            reason,
        }
    }
}

/// A run's outcome under the binding's failure policy, as the protocols
/// translate it.
#[derive(Debug)]
pub(crate) enum Verdict<'a> {
    /// Claims to add.
    Claims {
        access: &'a Map<String, Value>,
        id: Option<&'a Map<String, Value>>,
    },
    /// The script denied.
    Denied { message: String },
    /// The script failed; the token is issued without the claims.
    FailOpen,
    /// The script failed; the token is refused.
    FailClosed(OAuthError),
}

impl<'a> Verdict<'a> {
    pub(crate) fn new(outcome: &'a Outcome, policy: FailurePolicy) -> Verdict<'a> {
        match outcome {
            Outcome::Claims {
                claims,
                id_token_claims,
                ..
            } => Verdict::Claims {
                access: claims,
                id: id_token_claims.as_ref(),
            },
            Outcome::Denied(denial) => Verdict::Denied {
                message: if denial.message.trim().is_empty() {
                    "Access denied".to_string()
                } else {
                    denial.message.clone()
                },
            },
            Outcome::Error(error) => Verdict::failed(error, policy),
            // A future outcome kind this crate does not know: fail closed.
            _ => Verdict::FailClosed(OAuthError::script_failed(&ScriptError::new(
                ErrorKind::Internal,
                "unknown outcome",
            ))),
        }
    }

    pub(crate) fn failed(error: &ScriptError, policy: FailurePolicy) -> Verdict<'a> {
        match policy {
            FailurePolicy::IssueWithoutClaims => Verdict::FailOpen,
            _ => Verdict::FailClosed(OAuthError::script_failed(error)),
        }
    }
}

/// If `response` is over the provider's size limit, the response the
/// failure policy gives instead (the claims are as good as lost: the
/// provider would reject or skip the response).
pub(crate) fn enforce_size(
    response: HookResponse,
    limit: usize,
    policy: FailurePolicy,
    fallback: impl FnOnce(Verdict<'_>) -> HookResponse,
) -> HookResponse {
    if response.body.len() <= limit {
        return response;
    }
    let error = ScriptError::new(
        ErrorKind::OutputTooLarge,
        format!(
            "the hook response would be {} bytes, over the provider's {limit}",
            response.body.len()
        ),
    );
    let mut replaced = fallback(Verdict::failed(&error, policy));
    replaced.dropped = response.dropped;
    replaced
}

/// Escape a claim name as one JSON Pointer token (RFC 6901): `~` as `~0`,
/// `/` as `~1`.
pub fn json_pointer_escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}
