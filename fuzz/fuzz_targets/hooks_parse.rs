//! The service's hook request parsers: the first byte picks the provider
//! protocol, the rest is the request body. Parsing gives a request or a
//! typed error with an HTTP status; a parsed request maps to a run input and
//! answers both a claims outcome and an error outcome.
#![no_main]

use claimscript::FailurePolicy;
use claimscript_hooks::{Protocol, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let protocol = Protocol::ALL[usize::from(selector) % Protocol::ALL.len()];
    match parse(protocol, body) {
        Ok(request) => {
            assert_eq!(request.protocol(), protocol);
            let input = request.to_run_input();
            let _ = format!("{input:?}");
            let claims = claimscript::bench_support::validate(
                r#"{"role":"admin","sub":"forged","n":[1,2,{"x":null}]}"#,
                1 << 16,
            );
            let failed = claimscript::bench_support::validate("not json", 1 << 16);
            for outcome in [&claims, &failed] {
                for policy in [FailurePolicy::Block, FailurePolicy::IssueWithoutClaims] {
                    let response = request.respond(outcome, policy);
                    let _ = response.json_body();
                }
            }
        }
        Err(e) => {
            let _ = e.status();
            let _ = e.kind();
            assert!(!e.to_string().is_empty());
        }
    }
});
