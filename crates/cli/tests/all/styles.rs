//! Other providers' scripts and claims templates through the CLI.

use serde_json::json;

use crate::{claimscript, repo_path, run_json};

fn example(name: &str, file: &str) -> String {
    repo_path(&format!("examples/{name}/{file}"))
        .display()
        .to_string()
}

#[test]
fn auth0_scripts_run_unchanged() {
    let script = example("auth0-roles", "script.js");
    let (status, json) = run_json(&[
        "run",
        &script,
        "--input",
        &example("auth0-roles", "input.json"),
    ]);
    assert_eq!(status, 0, "{json}");
    assert_eq!(
        json["claims"],
        json!({"https://acme.test/roles": ["admin", "analyst", "billing"]})
    );
    assert_eq!(json["id_token_claims"], json!({"nickname": "ada"}));
    assert_eq!(
        json["scopes"],
        json!({"added": ["admin:reports"], "removed": []})
    );

    let (status, json) = run_json(&[
        "run",
        &script,
        "--input",
        &example("auth0-roles", "input-blocked.json"),
    ]);
    assert_eq!(status, 2, "{json}");
    assert_eq!(json["message"], "blocked");

    let m2m = example("auth0-m2m", "script.js");
    let (status, json) = run_json(&["run", &m2m, "--input", &example("auth0-m2m", "input.json")]);
    assert_eq!(status, 0, "{json}");
    assert_eq!(json["claims"], json!({"https://acme.test/tier": "premium"}));
    assert!(json.get("id_token_claims").is_none());
}

#[test]
fn compile_with_an_explicit_style() {
    let dir = std::env::temp_dir().join(format!("claimscript-style-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let wasm = dir.join("m2m.wasm").display().to_string();
    let out = claimscript(&[
        "compile",
        &example("auth0-m2m", "script.js"),
        "-o",
        &wasm,
        "--style",
        "auth0",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("auth0 style"));
    let (status, json) = run_json(&[
        "run",
        &wasm,
        "--input",
        &example("auth0-m2m", "input-unknown.json"),
    ]);
    assert_eq!(status, 2);
    assert_eq!(json["code"], "invalid_request");

    let out = claimscript(&[
        "compile",
        &example("auth0-m2m", "script.js"),
        "-o",
        &wasm,
        "--style",
        "okta",
    ]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown style `okta`"));
}

#[test]
fn unsupported_require_fails_to_compile_with_its_position() {
    let dir = std::env::temp_dir().join(format!("claimscript-require-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let script = dir.join("moment.js");
    std::fs::write(
        &script,
        "const moment = require('moment');\nexports.execute = async () => {};\n",
    )
    .expect("write");
    let out = claimscript(&["compile", &script.display().to_string(), "-o", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "moment.js: unsupported at 1:16: require('moment'): the LoginRadius package `moment`"
        ),
        "{stderr}"
    );
}

#[test]
fn template_prints_the_run_outcome() {
    let (status, json) = run_json(&[
        "template",
        &example("template", "template.json"),
        "--input",
        &example("template", "input.json"),
    ]);
    assert_eq!(status, 0, "{json}");
    assert_eq!(
        json["claims"],
        json!({"email": "ada@acme.test", "full_name": "Ada Lovelace", "country": "GB", "plan": "pro",
               "metadata": {"plan": "pro", "seats": 12}, "account_type": "enterprise"})
    );
    assert_eq!(json["outcome"], "claims");
    assert!(json["stats"]["duration_us"].is_u64());

    let dir = std::env::temp_dir().join(format!("claimscript-template-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\n  \"a\": \"{{ Email..Value }}\"\n}").expect("write");
    let out = claimscript(&[
        "template",
        &bad.display().to_string(),
        "--input",
        &example("template", "input.json"),
    ]);
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.json: line 2, column 18 (/a): invalid path segment"),
        "{stderr}"
    );
}
