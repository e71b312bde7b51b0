//! Integration tests of claimscript-oci against a real registry
//! (`docker-registry`, started on 127.0.0.1 by each test).

mod auth;
mod push_pull;
mod signing;
mod tamper;

// The registry helper, shared with the CLI's tests through the crate's
// `test-support` feature; compiled here by path so `cargo test` needs no
// feature flag.
#[path = "../../src/test_support.rs"]
#[allow(dead_code)]
mod test_support;

pub use claimscript_oci::Digest;
use claimscript_oci::{Client, ClientConfig, CredentialSource, Reference, SigningKey};
pub use test_support::TestRegistry;

/// A registry, or a failure that says how to get one.
pub fn registry() -> TestRegistry {
    TestRegistry::start().unwrap_or_else(|e| panic!("{e}"))
}

/// A plain-HTTP, anonymous client (the test registry is on loopback).
pub fn client() -> Client {
    Client::new(
        ClientConfig::default()
            .with_plain_http(true)
            .with_credentials(CredentialSource::Anonymous),
    )
    .expect("client")
}

pub fn reference(registry: &TestRegistry, rest: &str) -> Reference {
    Reference::parse(&registry.reference(rest)).expect("reference")
}

/// A small but well-formed component: the header, one custom section
/// carrying `tag` (so different tags give different digests), and a
/// component-level import section is not needed.
pub fn component(tag: &str) -> Vec<u8> {
    let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
    let name = b"claimscript-test";
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(tag.as_bytes());
    bytes.push(0); // custom section
    bytes.push(body.len() as u8);
    bytes.extend_from_slice(&body);
    bytes
}

/// A fresh P-256 key from `seed`, as PKCS#8 PEM text.
pub fn key(seed: u8) -> SigningKey {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let pem = p256::ecdsa::SigningKey::from_slice(&[seed; 32])
        .expect("scalar")
        .to_pkcs8_pem(LineEnding::LF)
        .expect("pem");
    SigningKey::from_pem(&pem, "test.pem").expect("key")
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}
