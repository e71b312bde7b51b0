//! The Claimscript claims service: token-claims scripts over HTTP, for
//! identity servers that are not written in Rust.
//!
//! [`Service`] holds one [`claimscript::Engine`], the registered scripts
//! (from the config, or registered through the API and kept in the data
//! directory), signing keys, metrics and the audit log. Every run goes
//! through [`claimscript::Script::run_labelled`], the one run path, with the
//! request's decision id, the script's name and the caller in its audit
//! record. Mount [`Service::router`] in your own axum/hyper server, or let
//! [`Service::bind`] listen (plain or TLS, graceful shutdown, file watching).
//!
//! Endpoints (every error is `{"error": {"code", "message"}}`):
//!
//! | endpoint | what |
//! |---|---|
//! | `POST /v1/scripts/{name}/run` | run; the outcome as `claimscript run` prints it, plus `decision_id` |
//! | `POST /v1/scripts/{name}/token` | run, merge and sign: `{token, claims, decision_id}`; a denial is 403 |
//! | `GET /.well-known/jwks.json` | public keys of the signing keys |
//! | `PUT/GET/DELETE /v1/scripts/{name}`, `GET /v1/scripts` | register, describe (with the audit report), remove, list |
//! | `POST /v1/run`, `POST /v1/compile` | run or compile an unregistered source (when enabled) |
//! | `GET /v1/types/{style}` | the TypeScript declarations of a style |
//! | `POST /api/script-run` | Logto's remote script-runner contract (when enabled) |
//! | `GET /health`, `/health/ready`, `/metrics` | liveness, readiness, Prometheus metrics |
//!
//! # Example
//!
//! ```
//! use std::io::{Read, Write};
//! use claimscript_server::{Service, ServiceConfig};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("claimscript-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! std::fs::write(
//!     dir.join("rbac.js"),
//!     "const getCustomJwtClaims = async ({ context }) => ({ roles: context.user.roles });",
//! )?;
//! let config = ServiceConfig::from_toml(
//!     r#"
//!     listen = "127.0.0.1:0"
//!     data_dir = "data"
//!     [scripts.rbac]
//!     path = "rbac.js"
//!     "#,
//!     &dir,
//!     None,
//! )?;
//! let server = Service::new(config).await?.bind().await?;
//! assert!(server.service().ready());
//!
//! let addr = server.local_addr();
//! let body = r#"{"token":{"accountId":"u1"},"context":{"user":{"roles":["admin"]}}}"#;
//! let answer = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
//!     let mut stream = std::net::TcpStream::connect(addr)?;
//!     write!(
//!         stream,
//!         "POST /v1/scripts/rbac/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
//!         body.len()
//!     )?;
//!     let mut answer = String::new();
//!     stream.read_to_string(&mut answer)?;
//!     Ok(answer)
//! })
//! .await??;
//! assert!(answer.starts_with("HTTP/1.1 200"));
//! assert!(answer.contains(r#""claims":{"roles":["admin"]}"#));
//! assert!(answer.contains("x-decision-id:"));
//!
//! server.shutdown().await;
//! std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}
mod audit;
mod auth;
pub mod config;
mod error;
mod hooks;
mod jwks;
mod logto;
mod metrics;
mod oci;
mod registry;
mod routes;
mod serve;
mod service;
mod store;
mod tls;

pub use auth::hash as token_hash;
pub use config::ServiceConfig;
pub use error::{ApiError, ConfigError, ServeError};
pub use metrics::Metrics;
pub use routes::DECISION_ID_HEADER;
pub use serve::Server;
pub use service::Service;
