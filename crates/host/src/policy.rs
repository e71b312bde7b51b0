//! A script bound to its grants, environment and failure policy, and the
//! decision a token endpoint acts on.

use std::collections::BTreeMap;

use claimscript_grants::Grants;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::input::{RunInput, TokenKind};
use crate::outcome::{Denial, ErrorKind, Outcome, RunReport, ScopeChanges, ScriptError};
use crate::script::Script;

/// What a script error does to issuance. A denial always blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// A script error blocks issuance (Logto's `blockIssuanceOnError`). The
    /// default: a token without the claims a policy relies on can be worse
    /// than no token.
    #[default]
    Block,
    /// A script error lets the token be issued without the custom claims
    /// (ZITADEL's `allowedToFail`); the decision says so.
    IssueWithoutClaims,
}

/// A compiled script with its grants, environment variables and failure
/// policy: what an identity server configures per client or tenant.
#[derive(Debug, Clone)]
pub struct BoundScript {
    script: Script,
    grants: Grants,
    env: BTreeMap<String, String>,
    policy: FailurePolicy,
}

impl BoundScript {
    /// Bind `script` to `grants`, with no environment variables and
    /// [`FailurePolicy::Block`].
    pub fn new(script: Script, grants: Grants) -> BoundScript {
        BoundScript {
            script,
            grants,
            env: BTreeMap::new(),
            policy: FailurePolicy::default(),
        }
    }

    /// Add an environment variable (the grants decide whether the script
    /// sees it).
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Set the failure policy.
    pub fn with_failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The failure policy.
    pub fn failure_policy(&self) -> FailurePolicy {
        self.policy
    }

    /// Run the script for one token request and decide.
    pub async fn decide(
        &self,
        kind: TokenKind,
        token: Map<String, Value>,
        context: Option<Map<String, Value>>,
    ) -> Result<Decision, Error> {
        let mut input = RunInput::new(kind, token);
        input.set_context(context);
        input.environment_variables = self.env.clone();
        let report = self.script.run(&input, &self.grants).await?;
        Ok(Decision::from_report(report, self.policy))
    }
}

/// What the token endpoint does with a run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Decision {
    /// Issue the token with these claims.
    Issue {
        /// Access-token claims (protected claims already removed).
        claims: Map<String, Value>,
        /// ID-token claims, when the script set any.
        id_token_claims: Option<Map<String, Value>>,
        /// Protected claims the script tried to set (both tokens).
        dropped: Vec<String>,
        /// Scope changes the script asked for.
        scopes: ScopeChanges,
        /// The run.
        report: RunReport,
    },
    /// The script failed and the policy is [`FailurePolicy::IssueWithoutClaims`]:
    /// issue the token with no custom claims.
    IssueWithoutClaims {
        /// Why the claims are missing.
        error: ScriptError,
        /// The run.
        report: RunReport,
    },
    /// Do not issue; answer the client with this OAuth error.
    Reject {
        /// The error response.
        error: OAuthError,
        /// The run.
        report: RunReport,
    },
}

impl Decision {
    /// Apply `policy` to a run.
    pub fn from_report(report: RunReport, policy: FailurePolicy) -> Decision {
        match &report.outcome {
            Outcome::Claims {
                claims,
                id_token_claims,
                scopes,
                ..
            } => Decision::Issue {
                claims: claims.clone(),
                id_token_claims: id_token_claims.clone(),
                dropped: report.outcome.all_dropped(),
                scopes: scopes.clone(),
                report,
            },
            Outcome::Denied(denial) => Decision::Reject {
                error: OAuthError::denied(denial),
                report,
            },
            Outcome::Error(e) => match policy {
                FailurePolicy::IssueWithoutClaims => Decision::IssueWithoutClaims {
                    error: e.clone(),
                    report,
                },
                FailurePolicy::Block => Decision::Reject {
                    error: OAuthError::script_failed(e),
                    report,
                },
            },
        }
    }

    /// The run behind the decision.
    pub fn report(&self) -> &RunReport {
        match self {
            Decision::Issue { report, .. }
            | Decision::IssueWithoutClaims { report, .. }
            | Decision::Reject { report, .. } => report,
        }
    }
}

/// An OAuth 2.0 error response (RFC 6749 §5.2) and the HTTP status it implies.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthError {
    /// `access_denied`, `invalid_request` or `server_error`.
    pub error: &'static str,
    /// `error_description`: the script's message for a denial.
    pub description: String,
    /// 400 for `access_denied` and `invalid_request`, 500 for `server_error`.
    pub status: u16,
}

impl OAuthError {
    /// A denial: the script's message as the description, and
    /// `access_denied` (400) unless the script named an OAuth error itself
    /// (Auth0's credentials-exchange `api.access.deny(code, reason)`:
    /// `invalid_scope` and `invalid_request` are 400, `server_error` 500).
    pub fn denied(denial: &Denial) -> OAuthError {
        let (error, status) = match denial.code.as_deref() {
            Some("invalid_scope") => ("invalid_scope", 400),
            Some("invalid_request") => ("invalid_request", 400),
            Some("server_error") => ("server_error", 500),
            _ => ("access_denied", 400),
        };
        OAuthError {
            error,
            description: denial.message.clone(),
            status,
        }
    }

    /// A blocked script failure. Faults of the script (exceptions, bad output,
    /// syntax) are `invalid_request` (400), as Logto answers them; limits and
    /// runtime faults are `server_error` (500). The description names the
    /// kind, never the script's data.
    pub fn script_failed(error: &ScriptError) -> OAuthError {
        let server_side = matches!(
            error.kind,
            ErrorKind::FuelExhausted
                | ErrorKind::Timeout
                | ErrorKind::Memory
                | ErrorKind::StackOverflow
                | ErrorKind::Internal
                | ErrorKind::Grants
                | ErrorKind::Cancelled
        );
        OAuthError {
            error: if server_side {
                "server_error"
            } else {
                "invalid_request"
            },
            description: format!("custom claims script failed ({})", error.kind),
            status: if server_side { 500 } else { 400 },
        }
    }

    /// The JSON body: `{"error": ..., "error_description": ...}`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({ "error": self.error, "error_description": self.description })
    }
}
