//! Content digests (`sha256:<64 hex>`), the only algorithm accepted.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// A SHA-256 content digest, written `sha256:<64 lowercase hex>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// Another algorithm than `sha256`, or no `algorithm:` prefix.
    #[error("digest {0:?}: only sha256:<64 hex> digests are supported")]
    Algorithm(String),
    /// The hex part is not 64 lowercase hex digits.
    #[error("digest {0:?}: expected 64 lowercase hex digits after sha256:")]
    Hex(String),
}

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// Parse `sha256:<64 lowercase hex>`.
    pub fn parse(s: &str) -> Result<Digest, DigestError> {
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| DigestError::Algorithm(s.to_string()))?;
        Digest::from_hex(hex).ok_or_else(|| DigestError::Hex(s.to_string()))
    }

    fn from_hex(hex: &str) -> Option<Digest> {
        let mut out = [0u8; 32];
        let decoded = base16ct::lower::decode(hex, &mut out).ok()?.len();
        (decoded == out.len()).then_some(Digest(out))
    }

    /// The 64 lowercase hex digits, without the `sha256:` prefix.
    pub fn hex(&self) -> String {
        use fmt::Write;
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `bytes` hash to this digest.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        Digest::of(bytes) == *self
    }

    /// The tag cosign stores a signature manifest under: `sha256-<hex>.sig`.
    pub fn signature_tag(&self) -> String {
        format!("sha256-{}.sig", self.hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let d = Digest::of(b"");
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Digest::parse(&d.to_string()), Ok(d));
        assert!(matches!(
            Digest::parse("sha512:00"),
            Err(DigestError::Algorithm(_))
        ));
        assert!(matches!(
            Digest::parse("sha256:ABC"),
            Err(DigestError::Hex(_))
        ));
        let upper = d.to_string().to_uppercase().replace("SHA256", "sha256");
        assert!(matches!(Digest::parse(&upper), Err(DigestError::Hex(_))));
        assert_eq!(
            d.signature_tag(),
            "sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.sig"
        );
    }
}
