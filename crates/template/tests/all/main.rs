//! Integration tests for `claimscript-template`, in one test binary.

mod errors;
mod props;
mod render;

use claimscript_template::{Template, TemplateError};
use serde_json::{Map, Value};

/// Reads a fixture under `tests/fixtures/`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The LoginRadius-style profile used as the root in most tests.
pub fn profile() -> Value {
    serde_json::from_str(&fixture("profile.json")).expect("profile.json is JSON")
}

/// Parses a template that must be valid.
pub fn template(text: &str) -> Template {
    match Template::parse(text) {
        Ok(t) => t,
        Err(e) => panic!("template {text:?} rejected: {e}"),
    }
}

/// Parses a template that must be rejected.
pub fn rejected(text: &str) -> TemplateError {
    match Template::parse(text) {
        Ok(t) => panic!("template {text:?} accepted: {t:?}"),
        Err(e) => e,
    }
}

/// Renders `{"v": <value>}` against `root` and returns the value of `v`.
pub fn one(value: &str, root: &Value) -> Value {
    let text = format!(r#"{{"v": {value}}}"#);
    let mut out: Map<String, Value> = template(&text).render(root);
    out.remove("v").expect("the key v")
}
