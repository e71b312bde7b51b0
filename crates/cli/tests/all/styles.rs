//! Other providers' scripts and claims templates through the CLI.

use serde_json::json;

use crate::{claimscript, claimscript_stdin, repo_path, run_json};

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

/// examples/loginradius-roles/mock_server.py's handler, served on an
/// ephemeral port of 127.0.0.1 by a python3 child killed on drop.
struct MockServer {
    child: std::process::Child,
    base: String,
}

impl MockServer {
    fn start(example_dir: &str) -> MockServer {
        use std::io::BufRead;
        let path = repo_path(&format!("examples/{example_dir}/mock_server.py"));
        // exec'd rather than imported: nothing is written beside the example.
        let program = "import sys\n\
            ns = {'__name__': 'mock_server'}\n\
            exec(open(sys.argv[1]).read(), ns)\n\
            server = ns['HTTPServer'](('127.0.0.1', 0), ns['Handler'])\n\
            print(server.server_port, flush=True)\n\
            server.serve_forever()\n";
        let mut child = std::process::Command::new("python3")
            .args(["-c", program])
            .arg(&path)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the port");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{e}: {line:?}"));
        MockServer {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn loginradius_roles_against_its_mock_server() {
    let server = MockServer::start("loginradius-roles");
    let dir = std::env::temp_dir().join(format!("claimscript-lr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    // The example's grants and inputs, pointed at the server's port.
    let grants = std::fs::read_to_string(example("loginradius-roles", "grants.toml"))
        .expect("grants")
        .replace("http://127.0.0.1:8788", &server.base);
    let grants_path = dir.join("grants.toml");
    std::fs::write(&grants_path, grants).expect("write grants");
    let grants_path = grants_path.display().to_string();
    let input = |file: &str| {
        let text = std::fs::read_to_string(example("loginradius-roles", file)).expect("input");
        let mut doc: serde_json::Value = serde_json::from_str(&text).expect("input json");
        doc["environmentVariables"]["AUTHZ_URL"] = server.base.clone().into();
        doc.to_string()
    };
    let script = example("loginradius-roles", "script.js");
    let run = |file: &str| {
        let out = claimscript_stdin(
            &["run", &script, "--input", "-", "--grants", &grants_path],
            &input(file),
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), json)
    };

    let (status, json) = run("input.json");
    assert_eq!(status, Some(0), "{json}");
    assert_eq!(
        json["claims"],
        json!({"role": "admin", "permissions": ["read:reports", "write:reports", "manage:users"]})
    );
    assert_eq!(json["id_token_claims"], json!({"role": "admin"}));
    let fetches = json["stats"]["fetches"].as_array().expect("fetches");
    assert_eq!(fetches.len(), 1, "{json}");
    assert_eq!(fetches[0]["url"], format!("{}/permissions", server.base));
    assert_eq!(fetches[0]["status"], 200);

    let (status, json) = run("input-no-email.json");
    assert_eq!(status, Some(2), "{json}");
    assert_eq!(json["outcome"], "denied");
    assert_eq!(json["message"], "email required");
    assert_eq!(json["code"], "400");
    assert_eq!(json["title"], "Validation");
    assert_eq!(json["stats"]["fetches"], json!([]));
}

#[test]
fn audit_bench_and_issue_take_style() {
    let m2m = example("auth0-m2m", "script.js");
    let out = claimscript(&["audit", &m2m, "--style", "auth0", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["artifact"]["style"], "auth0");

    // The style chosen is the one compiled: a Logto script is no Auth0 Action.
    let rbac = repo_path("examples/rbac/script.js").display().to_string();
    let rbac_input = repo_path("examples/rbac/input.json").display().to_string();
    let secret =
        std::env::temp_dir().join(format!("claimscript-styles-{}.key", std::process::id()));
    std::fs::write(&secret, "a-32-byte-secret-for-hs256-tests").expect("secret");
    let secret = secret.display().to_string();
    for args in [
        vec!["audit", rbac.as_str(), "--style", "auth0"],
        vec![
            "bench",
            &rbac,
            "--input",
            &rbac_input,
            "-n",
            "1",
            "--style",
            "auth0",
        ],
        vec![
            "issue",
            &rbac,
            "--input",
            &rbac_input,
            "--key",
            &secret,
            "--alg",
            "HS256",
            "--style",
            "auth0",
        ],
    ] {
        let (status, json) = run_json(&args);
        assert_eq!(status, 1, "{args:?}: {json}");
        assert_eq!(
            json["error"]["kind"], "missing_function",
            "{args:?}: {json}"
        );
    }
    let out = claimscript(&["bench", &rbac, "--input", &rbac_input, "--style", "okta"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown style `okta`"));
}
