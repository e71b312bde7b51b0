//! Run JavaScript token-claims scripts in a WebAssembly sandbox.
//!
//! An identity server lets its customers attach a script to token issuance:
//! it receives the token payload, a context and environment variables, and
//! returns extra claims or denies issuance. This crate compiles such a script
//! into a pre-initialised Wasm component and runs it in Wasmtime under
//! [`Grants`]: fuel, wall clock, memory, output size, environment exposure
//! and egress. Scripts come in three [`Style`]s, detected from the source:
//! Logto's `getCustomJwtClaims`, Auth0 Actions' `exports.onExecutePostLogin`
//! / `onExecuteCredentialsExchange`, and LoginRadius's `exports.execute`.
//!
//! With [`EngineConfig::audit_sink`], every run also leaves one record in
//! the execution trail ([`trail`]); [`Script::audit`] says what a script
//! could do ([`audit`]).
//!
//! # Core concepts
//!
//! - [`Engine`]: built once per process; holds the Wasmtime engine, the
//!   instance pool and the QuickJS runtime. `Clone + Send + Sync`.
//! - [`Script`]: a compiled script ([`Engine::compile`] from source,
//!   [`Engine::load`] from a component). Each [`Script::run`] gets a fresh
//!   instance of the snapshot, so runs share no state.
//! - [`RunReport`]: the [`Outcome`] (claims, denial or a typed
//!   [`ScriptError`]), the console records and [`RunStats`].
//!
//! # Example
//!
//! ```
//! use claimscript::{Engine, Grants, Outcome, RunInput, TokenKind};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), claimscript::Error> {
//! let engine = Engine::new()?;
//! let script = engine
//!     .compile(
//!         r#"const getCustomJwtClaims = async ({ token, context }) => {
//!                return { roles: context.user.roles.map((r) => r.name), sub: "forged" };
//!            };"#,
//!     )
//!     .await?;
//!
//! let input = RunInput::new(TokenKind::AccessToken, json!({"accountId": "u1"}).as_object().cloned().unwrap_or_default())
//!     .with_context(json!({"user": {"roles": [{"name": "admin"}]}}).as_object().cloned().unwrap_or_default());
//! let report = script.run(&input, &Grants::default()).await?;
//!
//! match report.outcome {
//!     Outcome::Claims { claims, dropped, .. } => {
//!         assert_eq!(claims["roles"], json!(["admin"]));
//!         assert_eq!(dropped, ["sub"]); // protected claims are removed, never silently
//!     }
//!     other => panic!("unexpected outcome {other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod audit;
mod bindings;
mod cache;
mod claims;
mod declarations;
mod engine;
mod error;
mod failure;
mod fetch;
mod http_client;
mod input;
mod outbound;
mod outcome;
mod policy;
mod providers;
mod run;
mod runtime;
mod script;
mod state;
mod style;
mod template;
pub mod trail;

pub use claims::{
    PROTECTED_CLAIMS, PROTECTED_ID_TOKEN_CLAIMS_EXTRA, is_protected, is_protected_in_id_token,
};
pub use claimscript_grants::{self as grants, EnvGrants, FetchGrants, Grants};
pub use claimscript_template::TemplateError;
pub use declarations::declarations;
pub use engine::{
    CompileOptions, DEFAULT_CACHE_MAX_BYTES, DEFAULT_MAX_INPUT_BYTES, Engine, EngineConfig,
    MAX_SOURCE_BYTES,
};
pub use error::{
    ArtifactError, ArtifactErrorKind, EngineError, EngineErrorKind, Error, GrantsError,
};
pub use failure::{
    BoxError, FetchFailure, FetchFailureKind, FetchFailureRecord, InvalidRequest, LostWhile,
    NotGranted, ProtocolFault, TooLarge,
};
pub use fetch::MAX_REDIRECTS;
pub use http_client::MAX_RESPONSE_HEAD_BYTES;
pub use input::{InputError, RunInput, TokenKind};
pub use outbound::{GuardedClient, Outbound, OutboundFuture, ResponseBody};
pub use outcome::{
    Denial, ErrorKind, FetchRecord, LogLevel, LogRecord, Outcome, RunReport, RunStats,
    ScopeChanges, ScriptError,
};
pub use policy::{BoundScript, Decision, FailurePolicy, OAuthError};
#[doc(hidden)]
pub use run::bench_support;
pub use script::Script;
pub use state::{MAX_LOG_MESSAGE_BYTES, MAX_LOG_RECORDS, MAX_MESSAGE_BYTES, MAX_STACK_BYTES};
pub use style::Style;
pub use template::ClaimsTemplate;
