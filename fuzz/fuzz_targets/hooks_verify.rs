//! The hook signature checks: the first byte picks a verifier (Okta secret
//! header, Okta bearer JWT, ZITADEL signature, Hydra API key in a header or
//! a cookie, Supabase Standard Webhooks), then `name: value` header lines up
//! to an empty line, then the body. Verification gives Ok or a typed error
//! (401/400), never a panic; Supabase requests whose signature the fuzzer
//! cannot forge are also re-signed to reach the checks after the signature.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use claimscript_hooks::keys::{BearerConfig, NoKeys};
use claimscript_hooks::{Auth, StandardWebhooks, Verifier, hydra, okta, zitadel};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

const SUPABASE_SECRET: &str = "v1,whsec_Y2xhaW1zY3JpcHQtZnV6ei13ZWJob29rLXNlY3JldCE=";
const NOW_SECS: u64 = 1_700_000_000;

fn verifiers() -> &'static [Verifier] {
    static VERIFIERS: OnceLock<Vec<Verifier>> = OnceLock::new();
    VERIFIERS.get_or_init(|| {
        let bearer = BearerConfig::new(
            "https://issuer.example",
            "api://hook",
            "https://issuer.example/keys",
        );
        vec![
            Verifier::new(Auth::Okta(
                okta::Auth::header("x-hook-secret", "okta-fuzz-secret").expect("okta"),
            )),
            Verifier::new(Auth::Okta(okta::Auth::bearer(bearer))),
            Verifier::new(Auth::Zitadel(
                zitadel::Auth::new("zitadel-fuzz-key").expect("zitadel"),
            )),
            Verifier::new(Auth::Hydra(
                hydra::Auth::header("x-api-key", "hydra-fuzz-key").expect("hydra"),
            )),
            Verifier::new(Auth::Hydra(
                hydra::Auth::cookie("hydra_key", "hydra-fuzz-key").expect("hydra"),
            )),
            Verifier::with_replay_capacity(
                Auth::Supabase(StandardWebhooks::from_config(SUPABASE_SECRET).expect("supabase")),
                64,
            ),
        ]
    })
}

fn split_request(data: &[u8]) -> (HeaderMap, &[u8]) {
    let end = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match end {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let mut headers = HeaderMap::new();
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = &line[..colon];
        let value = line[colon + 1..]
            .strip_prefix(b" ")
            .unwrap_or(&line[colon + 1..]);
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    (headers, body)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let verifiers = verifiers();
    let verifier = &verifiers[usize::from(selector) % verifiers.len()];
    let (mut headers, body) = split_request(rest);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS);
    match verifier.verify(&headers, body, now, &NoKeys) {
        Ok(()) => {}
        Err(e) => {
            assert!(
                matches!(e.status().as_u16(), 400..=599),
                "{e}: {}",
                e.status()
            );
            let _ = e.kind();
        }
    }
    if selector & 0x80 != 0
        && let Auth::Supabase(auth) = verifier.auth()
    {
        let id = headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("msg_fuzz")
            .to_string();
        let offset = i64::from(selector & 0x3f) - 32;
        let ts = NOW_SECS as i64 + offset;
        let signature = auth.sign(&id, ts, body);
        if let Ok(value) = HeaderValue::from_str(&signature) {
            headers.insert("webhook-signature", value);
            headers.insert("webhook-timestamp", HeaderValue::from(ts));
            if let Ok(idv) = HeaderValue::from_str(&id) {
                headers.insert("webhook-id", idv);
            }
            // A correct signature within the tolerance passes unless the
            // id is malformed or was already accepted (replay).
            let _ = verifier.verify(&headers, body, now, &NoKeys);
        }
    }
});
