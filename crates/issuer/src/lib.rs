//! Token issuance for Claimscript: run a bound claims script for a token
//! request, merge its claims under the issuer's base payload and sign the
//! JWT with `jsonwebtoken` (ES256, RS256, EdDSA, HS256), or say why not.
//!
//! The base payload always wins: a script claim that collides with a base
//! claim is left out and reported in [`Token::collisions`]; protected claims
//! (`iss`, `sub`, `exp`, ...) are never taken from a script.
//!
//! ```
//! use claimscript::{BoundScript, Engine, Grants, TokenKind};
//! use claimscript_issuer::{Issuer, SigningKey, TokenRequest, issue};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new()?;
//! let script = engine
//!     .compile("const getCustomJwtClaims = async ({ token }) => ({ tier: 'gold', iss: 'forged' });")
//!     .await?;
//! let bound = BoundScript::new(script, Grants::default());
//! let issuer = Issuer::new(SigningKey::from_secret(b"a-32-byte-secret-for-hs256-tests")?.with_kid("k1"));
//!
//! let base = json!({"iss": "https://id.acme.test", "sub": "svc", "aud": "api", "exp": 4102444800_u64})
//!     .as_object().cloned().unwrap_or_default();
//! let issued = issue(&bound, &issuer, TokenRequest::new(TokenKind::ClientCredentials, base)).await?;
//! assert_eq!(issued.access_token.payload["tier"], "gold");
//! assert_eq!(issued.access_token.payload["iss"], "https://id.acme.test");
//! assert_eq!(issued.access_token.header_kid.as_deref(), Some("k1"));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod keys;

use claimscript::{
    BoundScript, Decision, OAuthError, RunReport, ScopeChanges, TokenKind, is_protected,
    is_protected_in_id_token,
};
use serde_json::{Map, Value};

pub use keys::{
    GeneratedKey, KeyError, MIN_SECRET_BYTES, SigningAlgorithm, SigningKey, generate_key,
    jwks_from_pem,
};

/// Default cap on a compact token: 16 KiB, under common HTTP header limits.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Signs tokens with one key.
#[derive(Debug, Clone)]
pub struct Issuer {
    key: SigningKey,
    max_token_bytes: usize,
    scope_additions: bool,
}

/// A signed token and what went into it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Token {
    /// The compact JWS.
    pub compact: String,
    /// The signed payload: the base claims plus the script's.
    pub payload: Map<String, Value>,
    /// Script claims left out because the base (or the protected list) owns
    /// the name.
    pub collisions: Vec<String>,
    /// The `kid` in the header.
    pub header_kid: Option<String>,
}

/// Why a token was not issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The script denied issuance, or failed under [`claimscript::FailurePolicy::Block`].
    #[error("{} ({}): {}", .error.error, .error.status, .error.description)]
    Rejected {
        /// The OAuth error to answer.
        error: OAuthError,
        /// The run.
        report: Box<RunReport>,
    },
    /// The run could not start.
    #[error(transparent)]
    Run(#[from] claimscript::Error),
    /// The token is over the issuer's size limit.
    #[error("the token is {size} bytes; the issuer's limit is {max}")]
    TooLarge {
        /// The compact token's size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Signing failed (the key's message says so: `signing failed: ...`).
    #[error("{0}")]
    Sign(#[source] KeyError),
    /// The script's decision is of a kind this issuer does not know how to
    /// sign (one added to [`claimscript::Decision`] after it).
    #[error("unsupported decision: this issuer does not know how to sign it")]
    UnsupportedDecision,
}

impl IssueError {
    /// The OAuth error a token endpoint answers with: the script's for a
    /// rejection, `server_error` (500) otherwise.
    pub fn oauth(&self) -> OAuthError {
        match self {
            IssueError::Rejected { error, .. } => error.clone(),
            other => claimscript::OAuthError::script_failed(&claimscript::ScriptError::new(
                claimscript::ErrorKind::Internal,
                other.to_string(),
            )),
        }
    }
}

impl Issuer {
    /// An issuer signing with `key`, tokens capped at [`DEFAULT_MAX_TOKEN_BYTES`].
    pub fn new(key: SigningKey) -> Issuer {
        Issuer {
            key,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            scope_additions: false,
        }
    }

    /// Let scripts add scopes to the access token (Auth0's
    /// `api.accessToken.addScope`). Off by default: the token endpoint, not a
    /// customer's script, decides what a client may do. Removals are always
    /// applied, since they only narrow the token.
    pub fn with_scope_additions(mut self, allow: bool) -> Self {
        self.scope_additions = allow;
        self
    }

    /// Set the cap on a compact token's size.
    pub fn with_max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = max;
        self
    }

    /// The public keys as a JWKS document (`{"keys": [...]}`); empty for HS256,
    /// whose secret is never published.
    pub fn jwks(&self) -> Value {
        self.key.jwks()
    }

    /// Merge access-token `claims` under `base` and sign.
    pub fn sign(
        &self,
        base: &Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<Token, IssueError> {
        self.sign_merged(merge(base, claims, is_protected))
    }

    /// Merge ID-token `claims` under `base` (with the ID token's protected
    /// claims) and sign.
    pub fn sign_id_token(
        &self,
        base: &Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<Token, IssueError> {
        self.sign_merged(merge(base, claims, is_protected_in_id_token))
    }

    /// `base` with the scope changes applied to its space-separated `scope`
    /// claim, and the additions left out because they are not allowed.
    pub fn apply_scopes(
        &self,
        base: &Map<String, Value>,
        changes: &ScopeChanges,
    ) -> (Map<String, Value>, Vec<String>) {
        let mut base = base.clone();
        if changes.is_empty() {
            return (base, Vec::new());
        }
        let mut scopes: Vec<String> = base
            .get("scope")
            .and_then(Value::as_str)
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        scopes.retain(|s| !changes.removed.contains(s));
        let mut ignored = Vec::new();
        for scope in &changes.added {
            if !self.scope_additions {
                ignored.push(scope.clone());
            } else if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        if base.contains_key("scope") || !scopes.is_empty() {
            base.insert("scope".into(), Value::String(scopes.join(" ")));
        }
        (base, ignored)
    }

    fn sign_merged(
        &self,
        (payload, collisions): (Map<String, Value>, Vec<String>),
    ) -> Result<Token, IssueError> {
        let compact = self.key.sign(&payload).map_err(IssueError::Sign)?;
        if compact.len() > self.max_token_bytes {
            return Err(IssueError::TooLarge {
                size: compact.len(),
                max: self.max_token_bytes,
            });
        }
        Ok(Token {
            compact,
            payload,
            collisions,
            header_kid: self.key.kid().map(str::to_string),
        })
    }
}

/// The base payload with the script's claims added where the base has no
/// claim of that name and `protected` does not claim the name (use
/// [`claimscript::is_protected`] for access tokens,
/// [`claimscript::is_protected_in_id_token`] for ID tokens). Returns the
/// names left out.
pub fn merge(
    base: &Map<String, Value>,
    claims: &Map<String, Value>,
    protected: fn(&str) -> bool,
) -> (Map<String, Value>, Vec<String>) {
    let mut payload = base.clone();
    let mut collisions = Vec::new();
    for (name, value) in claims {
        if base.contains_key(name) || protected(name) {
            collisions.push(name.clone());
        } else {
            payload.insert(name.clone(), value.clone());
        }
    }
    (payload, collisions)
}

/// A token request: what the identity server decided before the script runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenRequest {
    /// The token kind.
    pub kind: TokenKind,
    /// The base payload of the access token (`iss`, `sub`, `aud`, `exp`,
    /// `iat`, `jti`, `scope`, `client_id`, ...). The script sees it as `token`.
    pub base: Map<String, Value>,
    /// The context for the script.
    pub context: Option<Map<String, Value>>,
    /// The base payload of an ID token, when one is issued too.
    pub id_token_base: Option<Map<String, Value>>,
}

impl TokenRequest {
    /// A request for an access token.
    pub fn new(kind: TokenKind, base: Map<String, Value>) -> TokenRequest {
        TokenRequest {
            kind,
            base,
            context: None,
            id_token_base: None,
        }
    }

    /// Set the script's context.
    pub fn with_context(mut self, context: Map<String, Value>) -> Self {
        self.context = Some(context);
        self
    }

    /// Issue an ID token too, from this base payload.
    pub fn with_id_token(mut self, base: Map<String, Value>) -> Self {
        self.id_token_base = Some(base);
        self
    }
}

/// Tokens issued for a request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Issued {
    /// The access token.
    pub access_token: Token,
    /// The ID token, when the request asked for one.
    pub id_token: Option<Token>,
    /// False when the script failed and the policy let the token out without
    /// custom claims.
    pub custom_claims: bool,
    /// Protected claims the script tried to set.
    pub dropped: Vec<String>,
    /// Scopes the script asked to add that were not added (see
    /// [`Issuer::with_scope_additions`]).
    pub scopes_not_added: Vec<String>,
    /// The run.
    pub report: RunReport,
}

/// Run `bound` for `request` and sign the result with `issuer`: the one call
/// a token endpoint makes.
pub async fn issue(
    bound: &BoundScript,
    issuer: &Issuer,
    request: TokenRequest,
) -> Result<Issued, IssueError> {
    let decision = bound
        .decide(request.kind, request.base.clone(), request.context.clone())
        .await?;
    let empty = Map::new();
    let (claims, id_claims, dropped, scopes, custom_claims, report) = match decision {
        Decision::Issue {
            claims,
            id_token_claims,
            dropped,
            scopes,
            report,
        } => (
            claims,
            id_token_claims.unwrap_or_default(),
            dropped,
            scopes,
            true,
            report,
        ),
        Decision::IssueWithoutClaims { report, .. } => (
            empty.clone(),
            empty,
            Vec::new(),
            ScopeChanges::default(),
            false,
            report,
        ),
        Decision::Reject { error, report } => {
            return Err(IssueError::Rejected {
                error,
                report: Box::new(report),
            });
        }
        // A kind of decision added after this issuer: refuse it without
        // printing it (it holds claims, console records and denials).
        _ => {
            return Err(IssueError::UnsupportedDecision);
        }
    };
    let (base, scopes_not_added) = issuer.apply_scopes(&request.base, &scopes);
    let access_token = issuer.sign(&base, &claims)?;
    let id_token = match &request.id_token_base {
        Some(base) => Some(issuer.sign_id_token(base, &id_claims)?),
        None => None,
    };
    Ok(Issued {
        access_token,
        id_token,
        custom_claims,
        dropped,
        scopes_not_added,
        report,
    })
}
