//! `claimscript audit` (golden outputs) and `--audit-log`.

use std::path::PathBuf;

use crate::{claimscript, claimscript_stdin, repo_path, run_json};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("claimscript-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir.join(name)
}

/// What changes with every build of the runtime or the script, replaced by
/// placeholders: digests, sizes, the runtime version.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| c.is_ascii_hexdigit()) {
        let run = rest[at..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .map_or(rest.len() - at, |n| n);
        out.push_str(&rest[..at]);
        let token = &rest[at..at + run];
        if token.len() == 64 || (token.len() == 16 && out.ends_with("quickjs-h")) {
            out.push_str("<hex>");
        } else {
            out.push_str(token);
        }
        rest = &rest[at + run..];
    }
    out.push_str(rest);
    let version = concat!("runtime         ", env!("CARGO_PKG_VERSION"));
    let out = out.replace(version, "runtime         <version>");
    // Sizes: "size            123 bytes".
    let lines: Vec<String> = out
        .lines()
        .map(
            |line| match line.strip_suffix(" bytes").and_then(|l| l.rsplit_once(' ')) {
                Some((prefix, n)) if n.chars().all(|c| c.is_ascii_digit()) => {
                    format!("{prefix} <n> bytes")
                }
                _ => line.to_string(),
            },
        )
        .collect();
    lines.join("\n")
}

/// Compare with `tests/golden/NAME`; with `CLAIMSCRIPT_BLESS=1`, rewrite it.
fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let actual = normalize(actual);
    if std::env::var_os("CLAIMSCRIPT_BLESS").is_some() {
        std::fs::write(&path, &actual).expect("bless");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with CLAIMSCRIPT_BLESS=1 to create it)",
            path.display()
        )
    });
    assert_eq!(
        actual.trim_end(),
        expected.trim_end(),
        "{name} differs from the golden file"
    );
}

fn compiled_rbac() -> String {
    let wasm = temp("rbac.wasm").display().to_string();
    let script = repo_path("examples/rbac/script.js").display().to_string();
    let out = claimscript(&["compile", &script, "-o", &wasm]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wasm
}

fn audit(args: &[&str]) -> String {
    let out = claimscript(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

const RISKY: &str = r#"fuel = 2_000_000_000
timeout_ms = 30000
[env]
expose = ["PAYMENTS_API_KEY", "REGION"]
[fetch]
allow = ["https://*", "http://127.0.0.1:8080", "https://*.acme.test", "http://sidecar.internal:7000", "https://api.acme.test"]
max_response_bytes = 20_000_000
"#;

const NARROW: &str = r#"fuel = 20_000_000
[env]
expose = []
[fetch]
allow = ["https://api.acme.test"]
max_requests = 2
"#;

#[test]
fn audit_an_artifact_with_default_grants() {
    let wasm = compiled_rbac();
    golden("audit-default.txt", &audit(&["audit", &wasm]));
}

#[test]
fn audit_an_artifact_with_risky_grants() {
    let wasm = compiled_rbac();
    let grants = temp("risky.toml");
    std::fs::write(&grants, RISKY).expect("grants");
    let grants = grants.display().to_string();
    golden(
        "audit-risky.txt",
        &audit(&["audit", &wasm, "--grants", &grants]),
    );
    let json = audit(&["audit", &wasm, "--grants", &grants, "--json"]);
    assert_eq!(json.lines().count(), 1, "one JSON document");
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(doc["imports_only_world"], true);
    let codes: Vec<&str> = doc["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    for code in [
        "budget_above_default",
        "wildcard_egress",
        "opens_non_public_address",
        "names_internal_host",
        "plain_http",
        "no_max_requests",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    // Sizes and versions change with every build: pin them before comparing.
    let mut doc = doc;
    doc["artifact"]["bytes"] = 0.into();
    doc["artifact"]["runtime_version"] = "<version>".into();
    golden(
        "audit-risky.json",
        &serde_json::to_string_pretty(&doc).expect("pretty"),
    );
}

#[test]
fn audit_warns_about_star_egress_and_memory_above_the_engine() {
    let wasm = compiled_rbac();
    let grants = temp("star.toml");
    std::fs::write(
        &grants,
        "memory_mb = 512\n[fetch]\nallow = [\"*\"]\nmax_requests = 1\n",
    )
    .expect("grants");
    let grants = grants.display().to_string();
    let json = audit(&["audit", &wasm, "--grants", &grants, "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    let warnings: Vec<(String, String)> = doc["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| {
            (
                w["code"].as_str().unwrap_or_default().to_string(),
                w["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let has = |code: &str, text: &str| {
        warnings
            .iter()
            .filter(|(c, m)| c == code && m.contains(text))
            .count()
    };
    // `*` is http and https: one warning each kind, not one per scheme.
    assert_eq!(
        has(
            "wildcard_egress",
            "`*` lets the script reach any public host"
        ),
        1,
        "{warnings:?}"
    );
    assert_eq!(
        has("plain_http", "`*` allows plain http"),
        1,
        "{warnings:?}"
    );
    assert_eq!(
        has(
            "memory_above_engine_max",
            "memory_mb = 512 is above this engine's max_memory_mb = 128"
        ),
        1,
        "{warnings:?}"
    );
}

#[test]
fn audit_a_script_with_narrow_grants() {
    let grants = temp("narrow.toml");
    std::fs::write(&grants, NARROW).expect("grants");
    let script = repo_path("examples/loginradius-roles/script.js")
        .display()
        .to_string();
    let text = audit(&["audit", &script, "--grants", &grants.display().to_string()]);
    golden("audit-narrow.txt", &text);
}

#[test]
fn the_audit_log_gets_one_line_per_run() {
    let log = temp("runs.jsonl");
    let _ = std::fs::remove_file(&log);
    let log_arg = log.display().to_string();
    let script = repo_path("examples/deny-balance/script.js")
        .display()
        .to_string();
    let input = repo_path("examples/deny-balance/input.json")
        .display()
        .to_string();
    for _ in 0..2 {
        let (status, _) = run_json(&["run", &script, "--input", &input, "--audit-log", &log_arg]);
        assert_eq!(status, 2);
    }
    let rbac = repo_path("examples/rbac/script.js").display().to_string();
    let rbac_input = repo_path("examples/rbac/input.json").display().to_string();
    let (status, _) = run_json(&[
        "bench",
        &rbac,
        "--input",
        &rbac_input,
        "-n",
        "10",
        "--audit-log",
        &log_arg,
    ]);
    assert_eq!(status, 0);
    let text = std::fs::read_to_string(&log).expect("log");
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record per line"))
        .collect();
    // 2 runs, then the bench's 10 warm-up runs and 10 measured runs.
    assert_eq!(records.len(), 22);
    assert_eq!(records[0]["outcome"], "denied");
    assert!(records[0]["denial"]["message"].is_string());
    assert_eq!(records[21]["outcome"], "claims");
    assert_eq!(records[21]["env_read"], serde_json::json!([]));
    // A script that does not compile is a run attempt too: one record.
    let bad = repo_path("tests/fixtures/scripts/syntax_error.js")
        .display()
        .to_string();
    let (status, out) = run_json(&["run", &bad, "--input", &input, "--audit-log", &log_arg]);
    assert_eq!((status, &out["error"]["kind"]), (1, &"syntax".into()));
    let text = std::fs::read_to_string(&log).expect("log");
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("a line")).expect("JSON");
    assert_eq!(text.lines().count(), 23);
    assert_eq!(
        (&last["outcome"], &last["error_kind"]),
        (&"error".into(), &"syntax".into())
    );
}

#[test]
fn secrets_stay_out_of_stderr_and_the_log() {
    let log = temp("secrets.jsonl");
    let _ = std::fs::remove_file(&log);
    let script = temp("leak.js");
    std::fs::write(
        &script,
        "const getCustomJwtClaims = async ({ context, environmentVariables, api }) => {\n\
           console.error(environmentVariables.SECRET, context.user.password);\n\
           api.denyAccess(`nope ${environmentVariables.SECRET} ${context.user.password}`);\n\
         };",
    )
    .expect("script");
    let input = r#"{"token": {"kind": "AccessToken"}, "context": {"user": {"password": "CTX-SECRET-4471ab"}},
                   "environmentVariables": {"SECRET": "ENV-SECRET-88zzq1"}}"#;
    let out = claimscript_stdin(
        &[
            "run",
            &script.display().to_string(),
            "--input",
            "-",
            "--audit-log",
            &log.display().to_string(),
        ],
        input,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let record = std::fs::read_to_string(&log).expect("log");
    // Context values say who asked: the trail keeps them in a denial's
    // message (issue 16, class 3); environment values are scrubbed.
    assert!(record.contains("CTX-SECRET-4471ab"), "{record}");
    for secret in ["CTX-SECRET-4471ab", "ENV-SECRET-88zzq1"] {
        assert!(!stderr.contains(secret), "{secret} on stderr");
        if secret.starts_with("ENV") {
            assert!(!record.contains(secret), "{secret} in the audit log");
        }
        // The script's own output goes to its caller, on stdout.
        assert!(String::from_utf8_lossy(&out.stdout).contains(secret));
    }
    assert!(
        record.contains("nope [redacted] CTX-SECRET-4471ab"),
        "{record}"
    );
}
