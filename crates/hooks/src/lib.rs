//! The token-hook protocols of Okta, ZITADEL, Ory Hydra and Supabase, for a
//! service that runs Claimscript scripts on their behalf.
//!
//! Each of these identity providers calls an HTTP endpoint while it mints a
//! token and expects its own request and response format. This crate is the
//! pure part of such an endpoint: no sockets, no async, no clock. The server
//! hands it the raw body, the headers and the current time; it
//!
//! 1. **verifies** the caller the provider's way, over the raw body bytes,
//!    with constant-time comparisons ([`Verifier::verify`], or each
//!    protocol's `verify`);
//! 2. **parses** the body into the provider's typed request ([`parse`]),
//!    keeping the raw JSON too;
//! 3. **maps** it to a Logto-shaped [`claimscript::RunInput`]
//!    ([`Request::to_run_input`]); the host turns that into an Auth0
//!    `event` or a LoginRadius profile for scripts of those styles, so the
//!    protocols never see the script's style;
//! 4. **translates** the run's [`claimscript::Outcome`], under the binding's
//!    [`claimscript::FailurePolicy`], into the provider's response, exactly
//!    ([`Request::respond`] → [`HookResponse`]), listing the claims it left
//!    out ([`DroppedClaim`]) for the audit record and the metrics.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! use claimscript::{FailurePolicy, Outcome};
//! use claimscript_hooks::{Auth, Protocol, Verifier, keys::NoKeys, parse, supabase};
//! use http::HeaderMap;
//! use serde_json::json;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The binding: Supabase, with its webhook secret (from the environment
//! // in a real config).
//! let auth = supabase::Auth::from_config("v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let verifier = Verifier::new(Auth::Supabase(auth.clone()));
//!
//! // What Supabase sends.
//! let body = br#"{"user_id":"u1","claims":{"aud":"authenticated","exp":1715690221,"iat":1715686621,
//!   "sub":"u1","email":"ada@example.com","phone":"","role":"authenticated","aal":"aal1",
//!   "session_id":"s1","is_anonymous":false},"authentication_method":"password"}"#;
//! let now = UNIX_EPOCH + Duration::from_secs(1_715_686_621);
//! let mut headers = HeaderMap::new();
//! headers.insert("webhook-id", "msg_1".parse()?);
//! headers.insert("webhook-timestamp", "1715686621".parse()?);
//! headers.insert("webhook-signature", auth.sign("msg_1", 1_715_686_621, body).parse()?);
//!
//! // 1-3: verify, parse, map.
//! verifier.verify(&headers, body, now, &NoKeys)?;
//! let request = parse(Protocol::Supabase, body)?;
//! let input = request.to_run_input();
//! assert_eq!(input.token["accountId"], "u1");
//! let context = input.context().cloned().unwrap_or_default();
//! assert_eq!(context["user"]["primaryEmail"], "ada@example.com");
//! assert_eq!(context["hook"]["provider"], "supabase");
//!
//! // 4: suppose the script returned {"tenant": "t_42", "role": "admin"}.
//! let outcome = Outcome::Claims {
//!     claims: json!({"tenant": "t_42", "role": "admin"}).as_object().cloned().unwrap_or_default(),
//!     id_token_claims: None,
//!     dropped: vec![],
//!     id_token_dropped: vec![],
//!     scopes: Default::default(),
//! };
//! let response = request.respond(&outcome, FailurePolicy::Block);
//! assert_eq!(response.status, 200);
//! let claims = &response.json_body()["claims"];
//! assert_eq!(claims["tenant"], "t_42");
//! assert_eq!(claims["role"], "authenticated"); // a required claim is kept...
//! assert_eq!(response.dropped[0].name, "role"); // ...and the attempt reported
//!
//! // The same message again is a replay.
//! assert!(verifier.verify(&headers, body, now, &NoKeys).is_err());
//! # Ok(())
//! # }
//! ```
//!
//! # In a server
//!
//! Per request on `POST /hooks/{protocol}/{script}`, with the raw body bytes
//! (not re-serialised JSON: the signatures cover the bytes):
//!
//! 1. `verifier.verify(&headers, &body, SystemTime::now(), &keys)?`, with
//!    one [`Verifier`] per binding (it holds Supabase's replay cache); for
//!    an Okta binding with [`Verifier::bearer_config`], `keys` is the JWKS
//!    the server fetched, refreshed once on [`HookError::UnknownKey`].
//!    Answer a [`HookError`] with [`HookError::status`] and its message;
//!    nothing runs.
//! 2. `let request = parse(protocol, &body)?;` (same error handling).
//! 3. `let input = request.to_run_input();` then run the binding's script,
//!    e.g. `bound.decide(input.kind, input.token, input.context().cloned())`, with a
//!    run timeout of at most [`max_run_timeout`].
//! 4. `let response = request.respond(&decision.report().outcome,
//!    bound.failure_policy());` and send `response.status`,
//!    `response.content_type` and `response.body` as they are; audit and
//!    count `response.dropped` and `response.effect`.
//!
//! # The script's input, per provider
//!
//! Every input carries the provider's raw request at **`context.hook`** =
//! `{ "provider": "okta" | "zitadel" | "hydra" | "supabase", "payload":
//! <the request body as JSON> }`, for anything the mapping below leaves
//! out. Fields a request lacks are left out, not set to null.
//!
//! | Logto input | Okta | ZITADEL | Hydra | Supabase |
//! |---|---|---|---|---|
//! | `token.kind` | `ClientCredentials` for grant `client_credentials` (or no user), else `AccessToken` | `ClientCredentials` for a machine user (`user.machine`), else `AccessToken` | `ClientCredentials` when `request.grant_types` has `client_credentials` | `AccessToken` |
//! | `token.accountId` | `context.user.id` (or `session.userId`) | `user.id` (or `userinfo.sub`) | `session.id_token.subject` | `user_id` |
//! | `token.clientId` | `context.protocol.client.id` | `application.client_id` | `request.client_id` | `claims.client_id` |
//! | `token.scope` | the granted `access.scopes` names, else the requested `scope` | — | `request.granted_scopes`, space-joined | `claims.scope` |
//! | `token.aud` | `access.claims.aud` | — | `request.granted_audience` | `claims.aud` |
//! | `token.gty` | `protocol.request.grant_type` | — | `request.grant_types[0]` | — (see `authentication_method` in the payload) |
//! | `token.jti` / `token.sid` | `access.claims.jti` / `session.id` | — | — | — / `claims.session_id` |
//! | `context.user.id` | `user.id` | `user.id` | `subject` | `user_id` |
//! | `context.user.username` | `profile.login` | `user.username` | `session.id_token.username` | — |
//! | `context.user.primaryEmail` | `profile.email`, else `identity.claims.email` | `user.human.email` | — | `claims.email` |
//! | `context.user.primaryPhone` | `profile.mobilePhone` | `user.human.phone` | — | `claims.phone` |
//! | `context.user.name` | `identity.claims.name`, else first and last name | `user.human.display_name` | — | `user_metadata.full_name` or `.name` |
//! | `context.user.profile` | `givenName`, `familyName`, `nickname`, `locale`, `zoneinfo` | `givenName`, `familyName`, `nickname`, `locale` | — | — |
//! | `context.user.roles` (Logto role objects `{id, name, description, scopes}`) | the token's `groups` claim | the roles of every `user_grants` entry | — | `claims.role` |
//! | `context.user.customData` | the Okta profile (custom attributes included) | `user_metadata` as `{key: value}`, values base64-decoded (UTF-8 text) | — | `claims.app_metadata` |
//! | `context.user.isSuspended` | — | `user.state` inactive (2) or locked (4) | — | — |
//! | `context.application` | `{id, name, type}` of `protocol.client` | `{id: application.client_id}` | `{id: client_id, name: client.client_name, customData: client.metadata}` | `{id: claims.client_id}` |
//! | `context.organization` | — | `org` as `{id, name, customData: {primaryDomain}}` | — | — |
//! | `context.request` | `{id, ip, method, url}` | — | — | `{ip: metadata.ip_address}` |
//!
//! # The response, per provider
//!
//! | | Okta | ZITADEL | Hydra | Supabase |
//! |---|---|---|---|---|
//! | claims | 200 `{"commands":[{"type":"com.okta.identity.patch"\|"com.okta.access.patch","value":[{"op":"add","path":"/claims/<escaped>","value":..}]}]}` | 200 `{"append_claims":[{"key","value"}]}` | 200 `{"session":{"access_token":{..},"id_token":{..}}}`: the request's existing extra claims merged with the script's (Hydra replaces these maps) | 200 `{"claims":{..}}`: the request's claims with the script's merged in |
//! | no change | 204 | 200 `{}` | 200, the existing claims echoed | 200, the request's claims echoed |
//! | denial | 200 `{"error":{"errorSummary":msg}}` | 200 `{"forwardedStatusCode":403,"forwardedErrorMessage":msg}` | 403 `{"error":"access_denied","error_description":msg}` | 200 `{"error":{"http_code":403,"message":msg}}` |
//! | where claims go | access-token claims to the access token, ID-token claims to the ID token, each only when the request carries that token | `preaccesstoken`: access-token claims; `preuserinfo`: ID-token claims, or the access-token claims when the script set no ID-token claims (a Logto script) | `access_token`: access-token claims; `id_token`: ID-token claims | access-token claims |
//! | protected (dropped, reported) | [`okta::RESERVED_ACCESS_TOKEN_CLAIMS`], [`okta::RESERVED_ID_TOKEN_CLAIMS`] | keys starting with `urn:zitadel:iam`; for `preuserinfo`, keys already in `userinfo` | [`hydra::RESERVED_CLAIMS`] | [`supabase::REQUIRED_CLAIMS`]; `app_metadata` / `user_metadata` that are not objects |
//!
//! The engine has already removed the registered JWT claims (`sub`, `iss`,
//! ...) before this crate sees the claims; those are in the run's outcome.
//!
//! # Failure policy: what the identity server's user sees
//!
//! A denial always refuses the token. A script error (exception, timeout,
//! fuel, memory, bad output, or a response over the provider's size limit)
//! follows the binding's [`claimscript::FailurePolicy`]:
//!
//! | Provider | `IssueWithoutClaims` | `Block` |
//! |---|---|---|
//! | Okta | 204: the token is issued without the custom claims | 200 `{"error":{"errorSummary":"custom claims script failed (<kind>)"}}`: the client gets `server_error` and no token |
//! | ZITADEL | 200 `{}`: the token is issued without the claims | 200 `{"forwardedStatusCode":400\|500,"forwardedErrorMessage":...}`: with `interruptOnError` on the target, token creation fails (a 4xx code is passed to the client; 500 becomes `PreconditionFailed`); without it ZITADEL logs and continues |
//! | Hydra | 200 with the existing extra claims echoed: the token is issued without the custom claims | 500 `{"error":"server_error",...}`: the token request fails with `server_error` |
//! | Supabase | 200 with the request's claims echoed: the token is issued without the custom claims | 200 `{"error":{"http_code":400\|500,"message":...}}`: the sign-in or refresh fails with that status |
//!
//! The status code of a blocked failure follows
//! [`claimscript::OAuthError::script_failed`]: 400 for the script's own
//! faults, 500 for limits and runtime faults.
//!
//! # Deadlines
//!
//! Each provider gives up after a few seconds ([`Protocol::deadline`]); a
//! binding's run timeout must fit under it with a margin
//! ([`max_run_timeout`]).
#![deny(missing_docs)]

mod common;
pub mod error;
pub mod hydra;
pub mod keys;
pub mod okta;
mod replay;
mod respond;
pub mod supabase;
mod verify;
pub mod zitadel;

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use claimscript::{FailurePolicy, Outcome, RunInput};
use http::HeaderMap;
use serde_json::Value;

pub use error::{ConfigError, HookError, Location};
pub use replay::{DEFAULT_REPLAY_CAPACITY, ReplayCache};
pub use respond::{
    DropReason, DroppedClaim, Effect, HookResponse, TokenTarget, json_pointer_escape,
};
pub use verify::{MAX_WEBHOOK_ID_BYTES, STANDARD_WEBHOOKS_TOLERANCE_SECS, StandardWebhooks};

use keys::KeySource;

/// An identity provider's token-hook protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// Okta's token inline hook.
    Okta,
    /// ZITADEL Actions v2, functions `preaccesstoken` and `preuserinfo`.
    Zitadel,
    /// Ory Hydra's `oauth2.token_hook`.
    Hydra,
    /// Supabase's Custom Access Token hook over HTTP.
    Supabase,
}

/// Okta's hook timeout (it then issues the token unmodified; no retries).
pub const OKTA_DEADLINE: Duration = Duration::from_secs(3);
/// ZITADEL's target timeout has no maximum and is set per target; this is
/// the value of ZITADEL's own setup example (`"10s"`). Set the target's
/// `timeout` at least this high.
pub const ZITADEL_DEADLINE: Duration = Duration::from_secs(10);
/// Hydra's HTTP client timeout for the hook (per attempt).
pub const HYDRA_DEADLINE: Duration = Duration::from_secs(30);
/// Supabase's timeout for the whole hook invocation, retries included.
pub const SUPABASE_DEADLINE: Duration = Duration::from_secs(5);
/// Time kept free under a provider's deadline for the network, the
/// verification and the response.
pub const RESPONSE_MARGIN: Duration = Duration::from_millis(500);

impl Protocol {
    /// Every protocol.
    pub const ALL: [Protocol; 4] = [
        Protocol::Okta,
        Protocol::Zitadel,
        Protocol::Hydra,
        Protocol::Supabase,
    ];

    /// `okta`, `zitadel`, `hydra` or `supabase`: the path segment of
    /// `/hooks/{protocol}/{script}` and `context.hook.provider`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Okta => "okta",
            Protocol::Zitadel => "zitadel",
            Protocol::Hydra => "hydra",
            Protocol::Supabase => "supabase",
        }
    }

    /// The protocol named `name` (as [`Protocol::as_str`] writes it).
    pub fn from_name(name: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// How long the provider waits for the hook.
    pub fn deadline(self) -> Duration {
        match self {
            Protocol::Okta => OKTA_DEADLINE,
            Protocol::Zitadel => ZITADEL_DEADLINE,
            Protocol::Hydra => HYDRA_DEADLINE,
            Protocol::Supabase => SUPABASE_DEADLINE,
        }
    }

    /// The largest response body the provider accepts (Okta 256 KB,
    /// Supabase 200 KiB, Hydra 5 MiB; ZITADEL states none, 5 MiB is used).
    pub fn max_response_bytes(self) -> usize {
        match self {
            Protocol::Okta => 256 * 1000,
            Protocol::Supabase => 200 * 1024,
            Protocol::Zitadel | Protocol::Hydra => 5 << 20,
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest run timeout a binding of `protocol` may have: the
/// provider's deadline less [`RESPONSE_MARGIN`]. The server refuses a
/// configured timeout above it.
pub fn max_run_timeout(protocol: Protocol) -> Duration {
    protocol.deadline().saturating_sub(RESPONSE_MARGIN)
}

/// A binding's authentication settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Auth {
    /// Okta: secret header and/or bearer JWT.
    Okta(okta::Auth),
    /// ZITADEL: the target's signing key(s).
    Zitadel(zitadel::Auth),
    /// Hydra: API key in a header or cookie.
    Hydra(hydra::Auth),
    /// Supabase: Standard Webhooks secrets.
    Supabase(supabase::Auth),
}

impl Auth {
    /// The protocol these settings are for.
    pub fn protocol(&self) -> Protocol {
        match self {
            Auth::Okta(_) => Protocol::Okta,
            Auth::Zitadel(_) => Protocol::Zitadel,
            Auth::Hydra(_) => Protocol::Hydra,
            Auth::Supabase(_) => Protocol::Supabase,
        }
    }
}

/// One binding's verifier: its [`Auth`] and, for Supabase, its replay
/// cache. `Send + Sync`; share one per binding.
#[derive(Debug)]
pub struct Verifier {
    auth: Auth,
    replay: Mutex<ReplayCache>,
}

impl Verifier {
    /// A verifier with a replay cache of [`DEFAULT_REPLAY_CAPACITY`].
    pub fn new(auth: Auth) -> Verifier {
        Verifier::with_replay_capacity(auth, DEFAULT_REPLAY_CAPACITY)
    }

    /// A verifier whose replay cache holds at most `capacity` ids.
    pub fn with_replay_capacity(auth: Auth, capacity: usize) -> Verifier {
        Verifier {
            auth,
            replay: Mutex::new(ReplayCache::new(capacity)),
        }
    }

    /// The settings.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        self.auth.protocol()
    }

    /// The bearer-token requirements of an Okta binding, when configured:
    /// fetch the JWKS at its `jwks_url` (through the egress policy) before
    /// calling [`Verifier::verify`], and again on
    /// [`HookError::UnknownKey`].
    pub fn bearer_config(&self) -> Option<&keys::BearerConfig> {
        match &self.auth {
            Auth::Okta(auth) => auth.bearer_config(),
            _ => None,
        }
    }

    /// Authenticate a request: `body` is the raw body exactly as received.
    /// `keys` serves Okta bearer tokens ([`keys::NoKeys`] otherwise).
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
        keys: &dyn KeySource,
    ) -> Result<(), HookError> {
        match &self.auth {
            Auth::Okta(auth) => okta::verify(auth, headers, body, now, keys),
            Auth::Zitadel(auth) => zitadel::verify(auth, headers, body, now),
            Auth::Hydra(auth) => hydra::verify(auth, headers, body),
            Auth::Supabase(auth) => {
                let mut replay = self
                    .replay
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                auth.verify(headers, body, now, &mut replay)
            }
        }
    }

    /// How many unexpired message ids the replay cache had to evict
    /// (Supabase), for a metric.
    pub fn replay_evictions(&self) -> u64 {
        self.replay
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .evicted()
    }
}

/// A parsed hook request of any protocol (boxed: the requests differ in
/// size).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Request {
    /// Okta.
    Okta(Box<okta::Request>),
    /// ZITADEL.
    Zitadel(Box<zitadel::Request>),
    /// Hydra.
    Hydra(Box<hydra::Request>),
    /// Supabase.
    Supabase(Box<supabase::Request>),
}

/// Parse a request body of `protocol`.
pub fn parse(protocol: Protocol, body: &[u8]) -> Result<Request, HookError> {
    Ok(match protocol {
        Protocol::Okta => Request::Okta(Box::new(okta::parse(body)?)),
        Protocol::Zitadel => Request::Zitadel(Box::new(zitadel::parse(body)?)),
        Protocol::Hydra => Request::Hydra(Box::new(hydra::parse(body)?)),
        Protocol::Supabase => Request::Supabase(Box::new(supabase::parse(body)?)),
    })
}

impl Request {
    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        match self {
            Request::Okta(_) => Protocol::Okta,
            Request::Zitadel(_) => Protocol::Zitadel,
            Request::Hydra(_) => Protocol::Hydra,
            Request::Supabase(_) => Protocol::Supabase,
        }
    }

    /// The request body as received (also at `context.hook.payload`).
    pub fn raw(&self) -> &Value {
        match self {
            Request::Okta(r) => &r.raw,
            Request::Zitadel(r) => &r.raw,
            Request::Hydra(r) => &r.raw,
            Request::Supabase(r) => &r.raw,
        }
    }

    /// The script's Logto-shaped input (see the mapping table above). The
    /// server adds the binding's environment variables.
    pub fn to_run_input(&self) -> RunInput {
        match self {
            Request::Okta(r) => r.to_run_input(),
            Request::Zitadel(r) => r.to_run_input(),
            Request::Hydra(r) => r.to_run_input(),
            Request::Supabase(r) => r.to_run_input(),
        }
    }

    /// The provider's response for a run's outcome under the binding's
    /// failure policy. With a [`claimscript::Decision`], pass
    /// `decision.report().outcome` and the binding's policy.
    pub fn respond(&self, outcome: &Outcome, policy: FailurePolicy) -> HookResponse {
        match self {
            Request::Okta(r) => r.respond(outcome, policy),
            Request::Zitadel(r) => r.respond(outcome, policy),
            Request::Hydra(r) => r.respond(outcome, policy),
            Request::Supabase(r) => r.respond(outcome, policy),
        }
    }
}
