//! ZITADEL Actions v2, functions `preaccesstoken` and `preuserinfo`, with a
//! `restCall` target.
//!
//! - **Authentication**: `ZITADEL-Signature: t=<unix>,v1=<hex HMAC-SHA256
//!   over "t.body">` with the target's signing key (raw UTF-8 bytes);
//!   several `v1=` allowed; the timestamp within [`TOLERANCE_SECS`].
//! - **Response**: `{"append_claims":[{"key","value"}]}`. ZITADEL never
//!   overwrites an existing claim and drops `urn:zitadel:iam*` keys; such
//!   claims are reported as dropped. A denial is a 200 with
//!   `forwardedStatusCode` 403, which stops issuance when the target has
//!   `interruptOnError`.

mod translate;
mod wire;

use std::time::SystemTime;

use http::HeaderMap;
use subtle::ConstantTimeEq;

pub use translate::PROTECTED_PREFIX;
pub use wire::{Function, Human, Metadata, Org, Request, User, UserGrant};

use crate::common::parse_json;
use crate::error::{ConfigError, HookError};
use crate::verify::{check_timestamp, hmac_sha256, single_header};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "zitadel-signature";

/// How old (or how far ahead) a signature's timestamp may be.
pub const TOLERANCE_SECS: u64 = 300;

/// The target's signing key(s); several during a rotation.
#[derive(Clone)]
pub struct Auth {
    keys: Vec<String>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("zitadel::Auth")
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .finish()
    }
}

impl Auth {
    /// The `signingKey` ZITADEL returned when the target was created.
    pub fn new(signing_key: impl Into<String>) -> Result<Auth, ConfigError> {
        Auth { keys: Vec::new() }.with_key(signing_key)
    }

    /// Accept another signing key as well.
    pub fn with_key(mut self, signing_key: impl Into<String>) -> Result<Auth, ConfigError> {
        let key = signing_key.into();
        if key.is_empty() {
            return Err(ConfigError::Secret {
                why: "the ZITADEL signing key is empty".into(),
            });
        }
        self.keys.push(key);
        Ok(self)
    }
}

/// The `ZITADEL-Signature` value ZITADEL sends for `body` at `timestamp`
/// (Unix seconds) with `signing_key`: for tests and examples.
pub fn sign(signing_key: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mac = hmac_sha256(signing_key.as_bytes(), &[ts.as_bytes(), b".", body]);
    format!("t={ts},v1={}", hex(&mac))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Authenticate a ZITADEL request over the raw `body`.
pub fn verify(
    auth: &Auth,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<(), HookError> {
    let value = single_header(headers, SIGNATURE_HEADER)?;
    let mut timestamp: Option<&str> = None;
    let mut signatures: Vec<String> = Vec::new();
    for part in value.split(',') {
        let Some((key, val)) = part.trim().split_once('=') else {
            return Err(HookError::bad_header(
                SIGNATURE_HEADER,
                "expected `t=<unix>,v1=<hex>`",
            ));
        };
        match key {
            "t" if timestamp.is_none() => timestamp = Some(val),
            "t" => {
                return Err(HookError::bad_header(
                    SIGNATURE_HEADER,
                    "more than one `t=`",
                ));
            }
            "v1" => signatures.push(val.to_ascii_lowercase()),
            _ => {}
        }
    }
    let Some(ts_text) = timestamp else {
        return Err(HookError::bad_header(SIGNATURE_HEADER, "no `t=` timestamp"));
    };
    let ts: i64 = ts_text.parse().map_err(|_| {
        HookError::bad_header(SIGNATURE_HEADER, "`t=` is not an integer number of seconds")
    })?;
    if signatures.is_empty() {
        return Err(HookError::bad_header(
            SIGNATURE_HEADER,
            "no `v1=` signature",
        ));
    }
    let mut matched = false;
    for key in &auth.keys {
        let expected = hex(&hmac_sha256(
            key.as_bytes(),
            &[ts_text.as_bytes(), b".", body],
        ));
        for given in &signatures {
            // `|` not `||`: every comparison runs.
            matched |= bool::from(expected.as_bytes().ct_eq(given.as_bytes()));
        }
    }
    if !matched {
        return Err(HookError::unauthenticated(
            "no ZITADEL-Signature v1 matches the body under the configured signing key",
        ));
    }
    check_timestamp(ts, now, TOLERANCE_SECS)
}

/// Parse a ZITADEL `preaccesstoken` or `preuserinfo` request. A JWT or JWE
/// body (payload type JWT/JWE) is refused as unsupported.
pub fn parse(body: &[u8]) -> Result<Request, HookError> {
    let trimmed = body.trim_ascii_start();
    if !trimmed.is_empty()
        && !trimmed.starts_with(b"{")
        && trimmed.iter().filter(|b| **b == b'.').count() >= 2
    {
        return Err(HookError::Unsupported {
            what: "a JWT or JWE body (ZITADEL payload type JWT/JWE); set the target's payload type to JSON"
                .into(),
        });
    }
    let (mut request, raw): (Request, _) = parse_json(body)?;
    request.kind = if request.function.ends_with("preaccesstoken") {
        Function::PreAccessToken
    } else if request.function.ends_with("preuserinfo") {
        Function::PreUserinfo
    } else {
        return Err(HookError::Unsupported {
            what: format!(
                "ZITADEL function {:?} (only preaccesstoken and preuserinfo are token hooks)",
                request.function
            ),
        });
    };
    request.raw = raw;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    /// The reference's ZITADEL vector (computed from ZITADEL's signing
    /// scheme).
    const KEY: &str = "98KmsU67";
    const TS: i64 = 1_735_689_600;
    const BODY: &[u8] =
        br#"{"function":"function/preaccesstoken","user":{"id":"312909075212468632"}}"#;
    const HEADER: &str =
        "t=1735689600,v1=5cb1d048c81b16049f677c80f62c51c5f3b1be4ff76ffbe438c0fae28aaec4b0";

    #[test]
    fn vector_signs_and_verifies() {
        assert_eq!(sign(KEY, TS, BODY), HEADER);
        let mut headers = HeaderMap::new();
        headers.insert("ZITADEL-Signature", HEADER.parse().expect("must succeed"));
        let now = UNIX_EPOCH + Duration::from_secs(TS as u64 + 299);
        verify(&Auth::new(KEY).expect("must succeed"), &headers, BODY, now).expect("must succeed");
        // Upper-case hex is the same signature.
        headers.insert(
            "ZITADEL-Signature",
            HEADER
                .to_ascii_uppercase()
                .replace("T=", "t=")
                .replace("V1=", "v1=")
                .parse()
                .expect("must succeed"),
        );
        verify(&Auth::new(KEY).expect("must succeed"), &headers, BODY, now).expect("must succeed");
    }

    #[test]
    fn vector_under_another_key_fails() {
        let mut headers = HeaderMap::new();
        headers.insert("zitadel-signature", HEADER.parse().expect("must succeed"));
        let now = UNIX_EPOCH + Duration::from_secs(TS as u64);
        let err = verify(
            &Auth::new("98KmsU68").expect("must succeed"),
            &headers,
            BODY,
            now,
        )
        .expect_err("must be refused");
        assert_eq!(err.kind(), "unauthenticated");
        // A rotation: the old key still listed.
        let auth = Auth::new("98KmsU68")
            .expect("must succeed")
            .with_key(KEY)
            .expect("must succeed");
        verify(&auth, &headers, BODY, now).expect("must succeed");
    }
}
