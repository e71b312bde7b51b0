//! Signing keys: PEM loading, generation and JWKS.

use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{Map, Value, json};

/// The shortest HS256 secret [`SigningKey::from_secret`] takes, in bytes:
/// the size of SHA-256's output (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// Why a key could not be read, made or used. Each kind keeps the
/// underlying error, when there is one, as its
/// [`source`](std::error::Error::source); as in `jsonwebtoken`, the message
/// includes the cause's message too.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An algorithm name this issuer does not sign with.
    #[error("unsupported algorithm `{name}` (expected ES256, RS256, EdDSA or HS256)")]
    #[non_exhaustive]
    UnsupportedAlgorithm {
        /// The name given.
        name: String,
    },
    /// HS256 was given where a key pair is needed (a PEM key, key
    /// generation): it signs with a shared secret
    /// ([`SigningKey::from_secret`]).
    #[error("HS256 uses a shared secret, not a PEM key or a key pair")]
    SecretAlgorithm,
    /// An HS256 secret shorter than [`MIN_SECRET_BYTES`].
    #[error(
        "the HS256 secret is {len} bytes; at least {MIN_SECRET_BYTES} are required (RFC 7518 section 3.2): use 32 or more random bytes"
    )]
    #[non_exhaustive]
    SecretTooShort {
        /// How many bytes the secret has.
        len: usize,
    },
    /// The PEM is not a private key for the algorithm.
    #[error("not a {alg} private key in PEM: {source}")]
    #[non_exhaustive]
    InvalidPem {
        /// The algorithm the key was read for.
        alg: SigningAlgorithm,
        /// Why `jsonwebtoken` refused it.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    /// The public key could not be derived from the private key.
    #[error("cannot derive the public key: {source}")]
    #[non_exhaustive]
    PublicKey {
        /// Why.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    /// The PEM holds no ES256 (P-256), EdDSA (Ed25519) or RS256 key,
    /// private or public.
    #[error("not an ES256 (P-256), EdDSA (Ed25519) or RS256 key in PEM")]
    UnrecognisedPem,
    /// Generating or encoding a key pair failed.
    #[error("key generation failed: {source}")]
    #[non_exhaustive]
    Generate {
        /// The algorithm of the pair.
        alg: SigningAlgorithm,
        /// The RustCrypto error.
        #[source]
        source: Box<dyn StdError + Send + Sync + 'static>,
    },
    /// Signing a payload failed.
    #[error("signing failed: {source}")]
    #[non_exhaustive]
    Sign {
        /// Why `jsonwebtoken` could not sign.
        #[source]
        source: jsonwebtoken::errors::Error,
    },
}

/// The algorithms an issuer signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SigningAlgorithm {
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// Ed25519.
    EdDSA,
    /// HMAC with SHA-256 (a shared secret; no JWKS).
    HS256,
}

impl SigningAlgorithm {
    fn jwt(self) -> Algorithm {
        match self {
            SigningAlgorithm::ES256 => Algorithm::ES256,
            SigningAlgorithm::RS256 => Algorithm::RS256,
            SigningAlgorithm::EdDSA => Algorithm::EdDSA,
            SigningAlgorithm::HS256 => Algorithm::HS256,
        }
    }

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::ES256 => "ES256",
            SigningAlgorithm::RS256 => "RS256",
            SigningAlgorithm::EdDSA => "EdDSA",
            SigningAlgorithm::HS256 => "HS256",
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlgorithm {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ES256" => Ok(SigningAlgorithm::ES256),
            "RS256" => Ok(SigningAlgorithm::RS256),
            "EdDSA" => Ok(SigningAlgorithm::EdDSA),
            "HS256" => Ok(SigningAlgorithm::HS256),
            other => Err(KeyError::UnsupportedAlgorithm {
                name: other.to_string(),
            }),
        }
    }
}

/// A private key (or HS256 secret) with its algorithm and optional `kid`.
#[derive(Clone)]
pub struct SigningKey {
    alg: SigningAlgorithm,
    key: EncodingKey,
    kid: Option<String>,
    public: Option<Jwk>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Load a PEM private key for ES256 (P-256, SEC1 or PKCS#8), RS256 (PKCS#1
    /// or PKCS#8) or EdDSA (Ed25519 PKCS#8).
    pub fn from_pem(alg: SigningAlgorithm, pem: &[u8]) -> Result<SigningKey, KeyError> {
        let key = match alg {
            SigningAlgorithm::ES256 => EncodingKey::from_ec_pem(pem),
            SigningAlgorithm::RS256 => EncodingKey::from_rsa_pem(pem),
            SigningAlgorithm::EdDSA => EncodingKey::from_ed_pem(pem),
            SigningAlgorithm::HS256 => return Err(KeyError::SecretAlgorithm),
        }
        .map_err(|source| KeyError::InvalidPem { alg, source })?;
        let public = Jwk::from_encoding_key(&key, alg.jwt())
            .map_err(|source| KeyError::PublicKey { source })?;
        Ok(SigningKey {
            alg,
            key,
            kid: None,
            public: Some(public),
        })
    }

    /// An HS256 key from a shared secret of at least [`MIN_SECRET_BYTES`]
    /// bytes (RFC 7518 §3.2: a key the size of the hash output); use random
    /// bytes. A shorter one (empty, a space, one byte) is refused with
    /// [`KeyError::SecretTooShort`]: a token signed with it could be forged
    /// by guessing the key.
    pub fn from_secret(secret: &[u8]) -> Result<SigningKey, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::SecretTooShort { len: secret.len() });
        }
        Ok(SigningKey {
            alg: SigningAlgorithm::HS256,
            key: EncodingKey::from_secret(secret),
            kid: None,
            public: None,
        })
    }

    /// Set the `kid` put in each token's header and in the JWKS.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The algorithm.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.alg
    }

    /// The `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub(crate) fn sign(&self, payload: &Map<String, Value>) -> Result<String, KeyError> {
        let mut header = Header::new(self.alg.jwt());
        header.kid = self.kid.clone();
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, payload, &self.key)
            .map_err(|source| KeyError::Sign { source })
    }

    /// The public key as a JWKS document; HS256 publishes nothing.
    pub fn jwks(&self) -> Value {
        match &self.public {
            Some(jwk) => json!({ "keys": [with_metadata(jwk.clone(), self.kid.as_deref())] }),
            None => json!({ "keys": [] }),
        }
    }
}

fn with_metadata(mut jwk: Jwk, kid: Option<&str>) -> Jwk {
    jwk.common.key_id = kid.map(str::to_string);
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk
}

/// A JWKS document for a PEM key, private or public (ES256, EdDSA or RS256,
/// recognised from the key).
pub fn jwks_from_pem(pem: &[u8], kid: Option<&str>) -> Result<Value, KeyError> {
    let algs = [
        SigningAlgorithm::ES256,
        SigningAlgorithm::EdDSA,
        SigningAlgorithm::RS256,
    ];
    for alg in algs {
        if let Ok(key) = SigningKey::from_pem(alg, pem) {
            let key = match kid {
                Some(kid) => key.with_kid(kid),
                None => key,
            };
            return Ok(key.jwks());
        }
    }
    for alg in algs {
        let decoding = match alg {
            SigningAlgorithm::ES256 => DecodingKey::from_ec_pem(pem),
            SigningAlgorithm::EdDSA => DecodingKey::from_ed_pem(pem),
            _ => DecodingKey::from_rsa_pem(pem),
        };
        if let Ok(jwk) = decoding.and_then(|k| Jwk::from_decoding_key(&k, Some(alg.jwt()))) {
            return Ok(json!({ "keys": [with_metadata(jwk, kid)] }));
        }
    }
    Err(KeyError::UnrecognisedPem)
}

/// A new key pair, as PEM text.
#[derive(Clone)]
#[non_exhaustive]
pub struct GeneratedKey {
    /// The private key, PKCS#8 PEM.
    pub private_pem: String,
    /// The public key, SPKI PEM.
    pub public_pem: String,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("public_pem", &self.public_pem)
            .finish_non_exhaustive()
    }
}

/// Generate a key pair from the OS CSPRNG: P-256 for ES256, RSA 2048 for
/// RS256, Ed25519 for EdDSA.
pub fn generate_key(alg: SigningAlgorithm) -> Result<GeneratedKey, KeyError> {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let mut rng = rand_core::OsRng;

    let (private_pem, public_pem) = match alg {
        SigningAlgorithm::ES256 => {
            let secret = p256::SecretKey::random(&mut rng);
            (
                secret
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(generation(alg))?
                    .to_string(),
                secret
                    .public_key()
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(generation(alg))?,
            )
        }
        SigningAlgorithm::RS256 => {
            let secret = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(generation(alg))?;
            (
                secret
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(generation(alg))?
                    .to_string(),
                secret
                    .to_public_key()
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(generation(alg))?,
            )
        }
        SigningAlgorithm::EdDSA => {
            let secret = ed25519_dalek::SigningKey::generate(&mut rng);
            // PKCS#8 v1 (no embedded public key), the form OpenSSL writes and
            // jsonwebtoken reads.
            let v1 = ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: secret.to_bytes(),
                public_key: None,
            };
            (
                v1.to_pkcs8_pem(LineEnding::LF)
                    .map_err(generation(alg))?
                    .to_string(),
                secret
                    .verifying_key()
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(generation(alg))?,
            )
        }
        SigningAlgorithm::HS256 => return Err(KeyError::SecretAlgorithm),
    };
    Ok(GeneratedKey {
        private_pem,
        public_pem,
    })
}

/// Wraps a RustCrypto error from generating or encoding an `alg` pair.
fn generation<E: StdError + Send + Sync + 'static>(
    alg: SigningAlgorithm,
) -> impl Fn(E) -> KeyError {
    move |e| KeyError::Generate {
        alg,
        source: Box::new(e),
    }
}
