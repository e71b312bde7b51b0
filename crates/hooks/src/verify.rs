//! Authentication over the raw body bytes: shared secrets, HMAC signatures,
//! timestamps. Keys and the current time are passed in; every comparison of
//! a secret or a signature is constant-time.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{ConfigError, HookError};
use crate::replay::ReplayCache;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `parts`, concatenated.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether two secrets are equal, in time independent of where they differ
/// and of their lengths (both are hashed first).
pub(crate) fn secrets_equal(given: &[u8], expected: &[u8]) -> bool {
    let a = Sha256::digest(given);
    let b = Sha256::digest(expected);
    bool::from(a.as_slice().ct_eq(b.as_slice()))
}

/// Seconds since the Unix epoch (0 before it).
pub(crate) fn unix_secs(now: SystemTime) -> i64 {
    match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Check a signed timestamp against `now`, `tolerance` seconds either way.
pub(crate) fn check_timestamp(ts: i64, now: SystemTime, tolerance: u64) -> Result<(), HookError> {
    let now = unix_secs(now);
    let diff = i128::from(now) - i128::from(ts);
    let tol = i128::from(tolerance);
    if diff > tol {
        return Err(HookError::StaleTimestamp {
            age_secs: u64::try_from(diff).unwrap_or(u64::MAX),
            tolerance_secs: tolerance,
        });
    }
    if -diff > tol {
        return Err(HookError::FutureTimestamp {
            ahead_secs: u64::try_from(-diff).unwrap_or(u64::MAX),
            tolerance_secs: tolerance,
        });
    }
    Ok(())
}

/// The one value of header `name`, as text. Missing: `MissingHeader`;
/// sent more than once or not visible ASCII: `BadHeader`.
pub(crate) fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, HookError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Err(HookError::MissingHeader {
            name: name.to_string(),
        });
    };
    if values.next().is_some() {
        return Err(HookError::bad_header(name, "sent more than once"));
    }
    value
        .to_str()
        .map_err(|_| HookError::bad_header(name, "not visible ASCII"))
}

/// The tolerance of Standard Webhooks timestamps, either way (the reference
/// libraries' 5 minutes).
pub const STANDARD_WEBHOOKS_TOLERANCE_SECS: u64 = 300;

/// The longest `webhook-id` accepted (the ids seen in practice are UUIDs
/// or `msg_` plus 27 characters); longer ones are refused before they
/// reach the replay cache.
pub const MAX_WEBHOOK_ID_BYTES: usize = 256;

/// Standard Webhooks (`v1` symmetric scheme) verification, as Supabase's
/// Auth hooks sign: `webhook-signature: v1,<base64 HMAC-SHA256 over
/// "{webhook-id}.{webhook-timestamp}.{body}">`.
///
/// Several secrets may be configured (key rotation); a request is accepted
/// when any listed `v1` signature matches any secret. The signature list
/// is space-separated per the specification; Supabase joins several with
/// `", "`, which is accepted too.
#[derive(Clone)]
pub struct StandardWebhooks {
    secrets: Vec<Vec<u8>>,
}

impl std::fmt::Debug for StandardWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandardWebhooks")
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .finish()
    }
}

impl StandardWebhooks {
    /// Secrets in Supabase's config form: one or more of
    /// `v1,whsec_<base64>` (or `whsec_<base64>`), separated by `|`.
    pub fn from_config(secrets: &str) -> Result<StandardWebhooks, ConfigError> {
        let secrets = secrets
            .split('|')
            .map(str::trim)
            .enumerate()
            .map(|(i, s)| {
                parse_secret(s).map_err(|why| ConfigError::Secret {
                    why: format!("webhook secret #{}: {why}", i + 1),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StandardWebhooks { secrets })
    }

    /// Verify a request: the three headers, the timestamp within ±5
    /// minutes of `now`, a matching signature, and (after the signature)
    /// that `webhook-id` was not accepted before.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
        replay: &mut ReplayCache,
    ) -> Result<(), HookError> {
        let id = single_header(headers, "webhook-id")?;
        let ts_text = single_header(headers, "webhook-timestamp")?;
        let signatures = single_header(headers, "webhook-signature")?;
        if id.is_empty() || id.len() > MAX_WEBHOOK_ID_BYTES {
            return Err(HookError::bad_header(
                "webhook-id",
                format!("must be 1 to {MAX_WEBHOOK_ID_BYTES} bytes"),
            ));
        }
        let ts: i64 = ts_text.parse().map_err(|_| {
            HookError::bad_header("webhook-timestamp", "not an integer number of seconds")
        })?;
        let mut candidates = 0usize;
        let mut matched = false;
        for entry in signatures.split_ascii_whitespace() {
            let entry = entry.trim_end_matches(',');
            let Some((version, sig)) = entry.split_once(',') else {
                continue;
            };
            if version != "v1" {
                continue;
            }
            candidates += 1;
            let Ok(sig) = STANDARD.decode(sig) else {
                continue;
            };
            for secret in &self.secrets {
                let expected = hmac_sha256(
                    secret,
                    &[id.as_bytes(), b".", ts_text.as_bytes(), b".", body],
                );
                // `|` not `||`: every comparison runs.
                matched |= bool::from(expected.as_slice().ct_eq(sig.as_slice()));
            }
        }
        if candidates == 0 {
            return Err(HookError::bad_header(
                "webhook-signature",
                "no `v1,<base64>` signature (only the symmetric v1 scheme is supported)",
            ));
        }
        if !matched {
            return Err(HookError::unauthenticated(
                "no webhook-signature matches the body under the configured secrets",
            ));
        }
        check_timestamp(ts, now, STANDARD_WEBHOOKS_TOLERANCE_SECS)?;
        let expires = ts.saturating_add(STANDARD_WEBHOOKS_TOLERANCE_SECS as i64);
        replay.check_and_insert(id, expires, unix_secs(now))
    }

    /// The `webhook-signature` value these secrets give (each secret's `v1`
    /// signature, space-separated): what a sender computes. For tests and
    /// examples.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let ts = timestamp.to_string();
        self.secrets
            .iter()
            .map(|secret| {
                let mac = hmac_sha256(secret, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
                format!("v1,{}", STANDARD.encode(mac))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn parse_secret(text: &str) -> Result<Vec<u8>, String> {
    if text.starts_with("v1a,") || text.starts_with("whpk_") || text.starts_with("whsk_") {
        return Err(
            "asymmetric (v1a) secrets are not supported; use a `v1,whsec_...` secret".into(),
        );
    }
    let text = text.strip_prefix("v1,").unwrap_or(text);
    let Some(b64) = text.strip_prefix("whsec_") else {
        return Err("expected `v1,whsec_<base64>`".into());
    };
    let key = STANDARD
        .decode(b64)
        .map_err(|_| "the part after `whsec_` is not standard base64".to_string())?;
    if key.is_empty() {
        return Err("the secret is empty".into());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The official Standard Webhooks test vector (the reference Python
    /// library's tests).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn headers(signature: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("webhook-id", ID.parse().expect("must succeed"));
        h.insert(
            "webhook-timestamp",
            TS.to_string().parse().expect("must succeed"),
        );
        h.insert(
            "webhook-signature",
            signature.parse().expect("must succeed"),
        );
        h
    }

    fn at(secs: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    }

    #[test]
    fn official_vector_signs_and_verifies() {
        let auth = StandardWebhooks::from_config(SECRET).expect("must succeed");
        assert_eq!(auth.sign(ID, TS, BODY), SIGNATURE);
        let mut replay = ReplayCache::new(8);
        auth.verify(&headers(SIGNATURE), BODY, at(TS), &mut replay)
            .expect("must succeed");
        // With Supabase's `v1,` prefix on the secret too.
        let auth = StandardWebhooks::from_config(&format!("v1,{SECRET}")).expect("must succeed");
        auth.verify(
            &headers(SIGNATURE),
            BODY,
            at(TS + 10),
            &mut ReplayCache::new(8),
        )
        .expect("must succeed");
    }

    #[test]
    fn official_vector_with_a_changed_byte_fails() {
        let auth = StandardWebhooks::from_config(SECRET).expect("must succeed");
        let err = auth
            .verify(
                &headers(SIGNATURE),
                br#"{"test": 2432232315}"#,
                at(TS),
                &mut ReplayCache::new(8),
            )
            .expect_err("must be refused");
        assert_eq!(err.kind(), "unauthenticated");
        assert!(!err.to_string().contains("g0hM9SsE"), "{err}");
    }

    #[test]
    fn timestamp_window_is_five_minutes_either_way() {
        assert!(check_timestamp(TS, at(TS + 300), 300).is_ok());
        assert!(check_timestamp(TS, at(TS - 300), 300).is_ok());
        assert_eq!(
            check_timestamp(TS, at(TS + 301), 300),
            Err(HookError::StaleTimestamp {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            check_timestamp(TS, at(TS - 301), 300),
            Err(HookError::FutureTimestamp {
                ahead_secs: 301,
                tolerance_secs: 300
            })
        );
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(secrets_equal(b"Basic abc", b"Basic abc"));
        assert!(!secrets_equal(b"Basic ab", b"Basic abc"));
        assert!(!secrets_equal(b"", b"x"));
    }
}
