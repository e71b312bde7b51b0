//! Cosign-compatible signatures over a manifest digest. Pure: building and
//! checking the "simple signing" payload; the registry part is in
//! [`Client::sign`](crate::Client::sign) and
//! [`Client::verify`](crate::Client::verify).

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};

use crate::digest::Digest;
use crate::reference::Reference;

/// The `type` cosign writes into its payload.
pub const COSIGN_PAYLOAD_TYPE: &str = "cosign container image signature";

/// An ECDSA P-256 private key (PKCS#8 PEM, `-----BEGIN PRIVATE KEY-----`)
/// that signs manifest digests with ECDSA-P256-SHA256, as cosign does.
#[derive(Clone)]
pub struct SigningKey(p256::ecdsa::SigningKey);

/// An ECDSA P-256 public key (SPKI PEM, `-----BEGIN PUBLIC KEY-----`, the
/// form of cosign's `cosign.pub`).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(p256::ecdsa::VerifyingKey);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(P-256, public {:?})", self.public_key())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let point = self.0.to_encoded_point(true);
        let hex: String = point
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        write!(f, "PublicKey(P-256 {hex})")
    }
}

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file cannot be read.
    #[error("{file}: {reason}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// Not a PKCS#8 PEM ECDSA P-256 private key.
    #[error(
        "{file}: not an unencrypted PKCS#8 PEM ECDSA P-256 private key (-----BEGIN PRIVATE KEY-----; `claimscript keys generate --alg ES256` writes one; cosign's encrypted keys are not read): {reason}"
    )]
    Private {
        /// Where the key came from.
        file: String,
        /// The decoder's reason.
        reason: String,
    },
    /// Not an SPKI PEM ECDSA P-256 public key.
    #[error(
        "{file}: not an SPKI PEM ECDSA P-256 public key (-----BEGIN PUBLIC KEY-----, as cosign.pub): {reason}"
    )]
    Public {
        /// Where the key came from.
        file: String,
        /// The decoder's reason.
        reason: String,
    },
}

fn read(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|e| KeyError::Read {
        file: path.display().to_string(),
        reason: e.to_string(),
    })
}

impl SigningKey {
    /// Parse a PKCS#8 PEM private key; `file` names it in errors.
    pub fn from_pem(pem: &str, file: &str) -> Result<SigningKey, KeyError> {
        p256::ecdsa::SigningKey::from_pkcs8_pem(pem)
            .map(SigningKey)
            .map_err(|e| KeyError::Private {
                file: file.to_string(),
                reason: e.to_string(),
            })
    }

    /// Read and parse a PKCS#8 PEM private key file.
    pub fn from_file(path: &Path) -> Result<SigningKey, KeyError> {
        SigningKey::from_pem(&read(path)?, &path.display().to_string())
    }

    /// Its public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(*self.0.verifying_key())
    }

    /// The base64 (standard alphabet) ASN.1 DER ECDSA-P256-SHA256
    /// signature of `payload`: the value of cosign's signature annotation.
    pub fn sign_payload(&self, payload: &[u8]) -> String {
        let sig: p256::ecdsa::Signature = self.0.sign(payload);
        STANDARD.encode(sig.to_der().as_bytes())
    }
}

impl PublicKey {
    /// Parse an SPKI PEM public key; `file` names it in errors.
    pub fn from_pem(pem: &str, file: &str) -> Result<PublicKey, KeyError> {
        p256::ecdsa::VerifyingKey::from_public_key_pem(pem)
            .map(PublicKey)
            .map_err(|e| KeyError::Public {
                file: file.to_string(),
                reason: e.to_string(),
            })
    }

    /// Read and parse an SPKI PEM public key file.
    pub fn from_file(path: &Path) -> Result<PublicKey, KeyError> {
        PublicKey::from_pem(&read(path)?, &path.display().to_string())
    }

    /// The SPKI PEM text.
    pub fn to_pem(&self) -> String {
        self.0.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    fn verifies(&self, payload: &[u8], der_or_raw: &[u8]) -> bool {
        let sig = p256::ecdsa::Signature::from_der(der_or_raw)
            .or_else(|_| p256::ecdsa::Signature::from_slice(der_or_raw));
        sig.is_ok_and(|sig| self.0.verify(payload, &sig).is_ok())
    }
}

/// Why a signature check refused an artifact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// No verification key was given.
    #[error("no public key given to verify {digest} with")]
    NoKeys {
        /// The manifest digest.
        digest: Digest,
    },
    /// No signature is attached to the manifest digest.
    #[error("{reference}: unsigned: no signature for {digest} (looked for the {tag} tag)")]
    Unsigned {
        /// The reference.
        reference: String,
        /// The manifest digest.
        digest: Digest,
        /// The signature tag looked for.
        tag: String,
    },
    /// Signatures exist, but none verifies with the given keys.
    #[error(
        "{reference}: {count} signature(s) for {digest}, none made by the given key(s): wrong key"
    )]
    WrongKey {
        /// The reference.
        reference: String,
        /// The manifest digest.
        digest: Digest,
        /// How many signatures were checked.
        count: usize,
    },
    /// A signature's payload names another manifest digest.
    #[error("{reference}: the signature payload is for {found}, not for the manifest {expected}")]
    OtherDigest {
        /// The reference.
        reference: String,
        /// The manifest digest being loaded.
        expected: Digest,
        /// What the payload names.
        found: String,
    },
    /// The signature manifest or payload is malformed.
    #[error("{reference}: malformed signature: {reason}")]
    Malformed {
        /// The reference.
        reference: String,
        /// What is wrong.
        reason: String,
    },
}

/// Cosign's "simple signing" payload for `digest` in `reference`'s
/// repository (`docker-reference` is `registry/repository`).
pub fn simple_signing_payload(reference: &Reference, digest: &Digest) -> Vec<u8> {
    let value = serde_json::json!({
        "critical": {
            "identity": {"docker-reference": reference.repository_path()},
            "image": {"docker-manifest-digest": digest.to_string()},
            "type": COSIGN_PAYLOAD_TYPE,
        },
        "optional": null,
    });
    serde_json::to_vec(&value).unwrap_or_default()
}

/// What a single signature layer is, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayerCheck {
    /// Valid, made by `keys[index]`.
    Verified {
        /// Which key verified it.
        key_index: usize,
    },
    /// The payload names another digest.
    OtherDigest(String),
    /// Well-formed, but no key verifies it.
    WrongKey,
    /// Malformed payload or signature.
    Malformed(String),
}

/// Check one cosign signature: `payload` (the layer's bytes, already
/// digest-checked) must be a simple-signing payload of type
/// [`COSIGN_PAYLOAD_TYPE`] naming `expected`, and `signature_b64` must
/// verify over the payload bytes with one of `keys`.
pub fn check_signature(
    payload: &[u8],
    signature_b64: Option<&str>,
    expected: &Digest,
    keys: &[PublicKey],
) -> LayerCheck {
    let value: serde_json::Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        Err(e) => return LayerCheck::Malformed(format!("payload is not JSON: {e}")),
    };
    let critical = &value["critical"];
    if critical["type"].as_str() != Some(COSIGN_PAYLOAD_TYPE) {
        return LayerCheck::Malformed(format!(
            "payload critical.type is not {COSIGN_PAYLOAD_TYPE:?}"
        ));
    }
    let Some(named) = critical["image"]["docker-manifest-digest"].as_str() else {
        return LayerCheck::Malformed(
            "payload has no critical.image.docker-manifest-digest".into(),
        );
    };
    let Some(sig) = signature_b64 else {
        return LayerCheck::Malformed(
            "the layer has no dev.cosignproject.cosign/signature annotation".into(),
        );
    };
    let sig = match STANDARD.decode(sig.trim()) {
        Ok(s) => s,
        Err(e) => return LayerCheck::Malformed(format!("the signature is not base64: {e}")),
    };
    // The signature is checked before the digest, so a payload for another
    // digest is only reported when it is genuinely signed by a given key.
    let Some(key_index) = keys.iter().position(|k| k.verifies(payload, &sig)) else {
        return LayerCheck::WrongKey;
    };
    if Digest::parse(named).ok().as_ref() != Some(expected) {
        return LayerCheck::OtherDigest(named.to_string());
    }
    LayerCheck::Verified { key_index }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_check() {
        use p256::pkcs8::EncodePrivateKey;
        let pem = p256::ecdsa::SigningKey::from_slice(&[3u8; 32])
            .expect("k")
            .to_pkcs8_pem(LineEnding::LF)
            .expect("pem");
        let key = SigningKey::from_pem(&pem, "k.pem").expect("key");
        let public = PublicKey::from_pem(&key.public_key().to_pem(), "k.pub").expect("pub");
        let r = Reference::parse("oci://localhost:5000/a/b:v1").expect("ref");
        let d = Digest::of(b"manifest");
        let payload = simple_signing_payload(&r, &d);
        assert_eq!(
            String::from_utf8(payload.clone()).expect("utf8"),
            format!(
                "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"localhost:5000/a/b\"}},\"image\":{{\"docker-manifest-digest\":\"{d}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}"
            )
        );
        let sig = key.sign_payload(&payload);
        assert_eq!(
            check_signature(&payload, Some(&sig), &d, std::slice::from_ref(&public)),
            LayerCheck::Verified { key_index: 0 }
        );
        let other = Digest::of(b"other");
        assert!(matches!(
            check_signature(&payload, Some(&sig), &other, std::slice::from_ref(&public)),
            LayerCheck::OtherDigest(_)
        ));
        let stranger = SigningKey(p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("k"));
        assert_eq!(
            check_signature(&payload, Some(&sig), &d, &[stranger.public_key()]),
            LayerCheck::WrongKey
        );
        assert!(matches!(
            check_signature(b"{}", Some(&sig), &d, std::slice::from_ref(&public)),
            LayerCheck::Malformed(_)
        ));
        assert!(matches!(
            check_signature(&payload, Some("@@"), &d, std::slice::from_ref(&public)),
            LayerCheck::Malformed(_)
        ));
        assert!(matches!(
            check_signature(&payload, None, &d, &[public]),
            LayerCheck::Malformed(_)
        ));
        let e = SigningKey::from_pem(
            "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----",
            "cosign.key",
        )
        .expect_err("must fail")
        .to_string();
        assert!(e.contains("cosign.key") && e.contains("PKCS#8"), "{e}");
    }
}
