//! The template parser and renderer: the bytes up to the first NUL are a
//! claims template, the rest the run input. Parsing never panics; rendering
//! gives claims within `max_output_bytes` or `output_too_large`.
#![no_main]

use claimscript::{ClaimsTemplate, Grants, Outcome, RunInput};
use libfuzzer_sys::fuzz_target;

const DEFAULT_INPUT: &str =
    r#"{"token":{"sub":"u1","scope":"a b"},"context":{"user":{"roles":["admin"],"name":"Ada"}}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (template, input) = text.split_once('\0').unwrap_or((text, DEFAULT_INPUT));
    // The template crate on its own, rendered against the input as JSON.
    if let Ok(t) = claimscript_template::Template::parse(template) {
        let root = serde_json::from_str(input).unwrap_or(serde_json::Value::Null);
        let _ = t.render(&root);
    }
    let Ok(template) = ClaimsTemplate::parse(template) else {
        return;
    };
    let Ok(input) = RunInput::from_json(input) else {
        return;
    };
    let grants = Grants::default().with_max_output_bytes(64 * 1024);
    let report = template.run(&input, &grants);
    if let Outcome::Claims { claims, .. } = &report.outcome {
        let size = serde_json::to_string(claims).map(|s| s.len()).unwrap_or(0);
        assert!(size <= 64 * 1024, "claims of {size} bytes over the limit");
        for name in claims.keys() {
            assert!(
                !claimscript::is_protected(name),
                "protected claim {name} rendered"
            );
        }
    }
});
