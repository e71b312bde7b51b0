//! Claimscript scripts in OCI registries: push, pull, sign and verify them
//! as standard Wasm OCI artifacts, pinned by digest.
//!
//! - **Layout.** An OCI image manifest whose config has the media type
//!   [`WASM_CONFIG`](manifest::WASM_CONFIG) and which has exactly one
//!   [`WASM_LAYER`](manifest::WASM_LAYER) layer (the CNCF Wasm OCI artifact
//!   layout, pullable by `wkg` and `oci-wasm`). The script's grants travel
//!   in the manifest annotation [`GRANTS_ANNOTATION`](manifest::GRANTS_ANNOTATION),
//!   so the manifest digest, and a signature over it, cover script and
//!   grants together.
//! - **Integrity.** Every manifest and blob is checked against its digest
//!   when pulled ([`Error::DigestMismatch`] otherwise); a pinned reference
//!   (`@sha256:...`) loads exactly that manifest.
//! - **Signatures.** cosign's key-based format: a "simple signing" payload
//!   naming the manifest digest, signed with ECDSA-P256-SHA256, in the
//!   manifest tagged `sha256-<hex>.sig`. [`Client::pull_verified`] checks
//!   it before returning the bytes.
//! - **Transport.** HTTPS; plain HTTP only when asked for and only for a
//!   loopback registry. Credentials from `CLAIMSCRIPT_REGISTRY_USERNAME` /
//!   `CLAIMSCRIPT_REGISTRY_PASSWORD`, else Docker's config file.
//!
//! The pure parts ([`reference`], [`digest`], [`manifest`], [`signature`])
//! do no I/O; [`Client`] talks to registries.
//!
//! ```
//! use claimscript_oci::{Client, ClientConfig, Digest, Reference};
//!
//! # fn main() -> Result<(), claimscript_oci::Error> {
//! let r = Reference::parse("oci://registry.example.com/team/login:v3")?;
//! assert_eq!(r.registry(), "registry.example.com");
//! let pinned = r.pinned(Digest::of(b"a manifest"));
//! assert!(pinned.to_string().starts_with("registry.example.com/team/login:v3@sha256:"));
//!
//! // Plain HTTP is refused for a registry that is not on loopback, before
//! // anything is sent.
//! let client = Client::new(ClientConfig::default().with_plain_http(true))?;
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()
//!     .map_err(|e| claimscript_oci::Error::InvalidWasm(e.to_string()))?;
//! let refused = runtime.block_on(client.pull(&r));
//! assert!(matches!(refused, Err(claimscript_oci::Error::PlainHttpNotLoopback { .. })));
//! # Ok(())
//! # }
//! ```
//!
//! A service that loads scripts by reference calls
//! [`Client::resolve`] to poll a tag for its current digest and
//! [`Client::pull_verified`] with `reference.pinned(digest)` and its keys.

#![deny(missing_docs)]

pub mod auth;
mod client;
pub mod digest;
mod error;
pub mod manifest;
pub mod reference;
pub mod signature;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use auth::{CredentialSource, Credentials};
pub use client::{
    Artifact, Client, ClientConfig, MAX_MANIFEST_BYTES, Pushed, Verified, scheme_for,
};
pub use digest::Digest;
pub use error::Error;
pub use reference::Reference;
pub use signature::{KeyError, PublicKey, SignatureError, SigningKey};
