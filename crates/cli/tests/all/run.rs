//! `claimscript run` and `compile`: the exact CLI contract.

use serde_json::json;

use crate::{claimscript, claimscript_stdin, fixture, repo_path, run_json};

fn input() -> String {
    repo_path("examples/rbac/input.json").display().to_string()
}

fn run_fixture(name: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let script = fixture(name).display().to_string();
    let input = input();
    let mut args = vec!["run", script.as_str(), "--input", input.as_str()];
    args.extend_from_slice(extra);
    run_json(&args)
}

fn grants_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("claimscript-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write grants");
    path.display().to_string()
}

#[test]
fn every_outcome_and_exit_status() {
    let cases: &[(&str, i32, &str, Option<&str>)] = &[
        ("empty", 0, "claims", None),
        ("deny", 2, "denied", None),
        ("deny_caught", 2, "denied", None),
        ("throw", 1, "error", Some("script")),
        ("endless_loop", 1, "error", Some("fuel_exhausted")),
        ("never_settles", 1, "error", Some("pending")),
        ("returns_array", 1, "error", Some("invalid_output")),
        ("returns_null", 1, "error", Some("invalid_output")),
        ("oversized", 1, "error", Some("output_too_large")),
        ("syntax_error", 1, "error", Some("syntax")),
        ("missing_function", 1, "error", Some("missing_function")),
        ("memory_bomb", 1, "error", Some("memory")),
    ];
    for (name, code, outcome, kind) in cases {
        let (status, json) = run_fixture(name, &[]);
        assert_eq!(status, *code, "{name}: {json}");
        assert_eq!(json["outcome"], *outcome, "{name}: {json}");
        if let Some(kind) = kind {
            assert_eq!(json["error"]["kind"], *kind, "{name}: {json}");
            assert!(
                json["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{name}"
            );
        }
        assert!(json["logs"].is_array(), "{name}");
        for key in ["fuel", "duration_us", "memory_bytes"] {
            assert!(json["stats"][key].is_u64(), "{name}: stats.{key}");
        }
    }
}

#[test]
fn claims_shape_and_protected_claims() {
    let (status, json) = run_fixture("protected", &[]);
    assert_eq!(status, 0);
    assert_eq!(json["claims"], json!({"tenant": "acme"}));
    assert_eq!(
        json["dropped"],
        json!(["sub", "iss", "aud", "exp", "scope", "client_id"])
    );
}

#[test]
fn denial_shape() {
    let (status, json) = run_fixture("deny", &[]);
    assert_eq!(status, 2);
    assert_eq!(json["message"], "Your plan does not include this API");
    assert!(json.get("claims").is_none());
}

#[test]
fn syntax_error_reports_position() {
    let (_, json) = run_fixture("syntax_error", &[]);
    // `  const x = ;`: the `;` QuickJS did not expect.
    assert_eq!(
        (&json["error"]["line"], &json["error"]["column"]),
        (&2.into(), &13.into())
    );
}

#[test]
fn console_records() {
    let (_, json) = run_fixture("console", &[]);
    assert_eq!(
        json["logs"][0],
        json!({"level": "log", "message": "hello {\"a\":1} [1,2] 42 null undefined"})
    );
    assert_eq!(json["logs"][2]["level"], "warn");
}

#[test]
fn limits_from_grants() {
    let fast = grants_file("fast.toml", "fuel = 1_000_000_000_000\ntimeout_ms = 50\n");
    let (status, json) = run_fixture("endless_loop_try", &["--grants", &fast]);
    assert_eq!(status, 1);
    assert_eq!(json["error"]["kind"], "timeout");

    let small = grants_file("small.toml", "fuel = 1_000_000\n");
    let (_, json) = run_fixture("endless_loop", &["--grants", &small]);
    assert_eq!(json["error"]["kind"], "fuel_exhausted");
    assert_eq!(json["stats"]["fuel"], 1_000_000);

    let (_, json) = run_fixture("recursion", &[]);
    assert_eq!(json["outcome"], "error");
}

#[test]
fn env_exposure() {
    let grants = grants_file("env.toml", "[env]\nexpose = [\"API_KEY\"]\n");
    let doc = r#"{"token": {"kind": "AccessToken"}, "environmentVariables": {"API_KEY": "k", "DB_PASSWORD": "p"}}"#;
    let script = fixture("env").display().to_string();
    let out = claimscript_stdin(&["run", &script, "--input", "-", "--grants", &grants], doc);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        json["claims"],
        json!({"apiKey": "k", "secret": null, "names": ["API_KEY"]})
    );
}

#[test]
fn no_host_globals() {
    let (_, json) = run_fixture("host_globals", &[]);
    assert_eq!(json["claims"]["found"], json!([]));
    assert_eq!(json["claims"]["requireWorks"], false);
}

#[test]
fn compile_then_run_the_component() {
    let dir = std::env::temp_dir().join(format!("claimscript-compile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let wasm = dir.join("rbac.wasm").display().to_string();
    let script = repo_path("examples/rbac/script.js").display().to_string();
    let out = claimscript(&["compile", &script, "-o", &wasm]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(&wasm).expect("written").starts_with(b"\0asm"));
    let (status, json) = run_json(&["run", &wasm, "--input", &input()]);
    assert_eq!(status, 0);
    assert_eq!(
        json["claims"]["roles"],
        json!(["admin", "analyst", "billing"])
    );
}

#[test]
fn compile_reports_syntax_errors() {
    let script = fixture("syntax_error").display().to_string();
    let out = claimscript(&["compile", &script, "-o", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("syntax_error.js: syntax at 2:"), "{stderr}");
}

/// Usage errors and unusable files exit 64 with a message naming the file.
#[test]
fn bad_invocations_exit_64() {
    let script = fixture("empty").display().to_string();
    let input = input();
    let bad_json = grants_file(
        "bad.json",
        "{\"token\": {\"kind\": \"AccessToken\"},\n \"context\": [}",
    );
    let bad_grants = grants_file("bad.toml", "fuel = 10\nfule = 3\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", &script], "--input"),
        (vec!["frobnicate"], "unrecognized subcommand"),
        (
            vec!["run", "/nonexistent/script.js", "--input", &input],
            "/nonexistent/script.js",
        ),
        (
            vec!["run", &script, "--input", "/nonexistent/input.json"],
            "/nonexistent/input.json",
        ),
        (
            vec!["run", &script, "--input", &bad_json],
            "bad.json: line 2",
        ),
        (
            vec!["run", &script, "--input", &input, "--grants", &bad_grants],
            "bad.toml: line 2, column 1: unknown field `fule`",
        ),
        (
            vec![
                "run",
                &script,
                "--input",
                &input,
                "--grants",
                "/nonexistent/g.toml",
            ],
            "/nonexistent/g.toml",
        ),
    ];
    for (args, expected) in cases {
        let out = claimscript(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn invalid_wasm_artifact_exits_64() {
    let path = grants_file("bogus.wasm", "\0asm\u{1}\0\0\0");
    let out = claimscript(&["run", &path, "--input", &input()]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bogus.wasm"));
}

/// A one-shot loopback HTTP server: answers every connection with `body`.
fn one_shot_server(body: &'static str) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        // Serve a bounded number of connections, then stop.
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    port
}

#[test]
fn run_honours_fetch_grants_and_lists_fetches() {
    let port = one_shot_server(r#"{"balance":7}"#);
    let base = format!("http://127.0.0.1:{port}");
    let grants = grants_file("fetch.toml", &format!("[fetch]\nallow = [\"{base}\"]\n"));
    let script = grants_file(
        "fetch.js",
        "const getCustomJwtClaims = async ({ environmentVariables: env }) => {\n\
           const r = await fetch(`${env.BASE}/balance?user=1`);\n\
           let refused = null;\n\
           try { await fetch('http://localhost:1/'); } catch (e) { refused = e.message; }\n\
           return { balance: (await r.json()).balance, refused };\n\
         };",
    );
    let doc = format!(r#"{{"token": {{}}, "environmentVariables": {{"BASE": "{base}"}}}}"#);
    let out = claimscript_stdin(&["run", &script, "--input", "-", "--grants", &grants], &doc);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["claims"]["balance"], 7);
    assert_eq!(
        json["claims"]["refused"],
        "fetch failed: not granted: http://localhost:1 matches no [fetch] allow pattern"
    );
    let fetches = json["stats"]["fetches"].as_array().expect("fetches");
    assert_eq!(fetches[0]["url"], format!("{base}/balance"));
    assert_eq!(fetches[0]["status"], 200);
    assert_eq!(fetches[1]["refused"]["kind"], "not_granted");
}

/// `claimscript bench` of the RBAC example with `-n RUNS --concurrency C`.
fn bench_rbac(runs: &str, concurrency: &str) -> (i32, serde_json::Value) {
    let script = repo_path("examples/rbac/script.js").display().to_string();
    run_json(&[
        "bench",
        &script,
        "--input",
        &input(),
        "-n",
        runs,
        "--concurrency",
        concurrency,
    ])
}

#[test]
fn bench_prints_one_json_object_of_timings() {
    let script = repo_path("examples/rbac/script.js").display().to_string();
    let (status, json) = bench_rbac("30", "2");
    assert_eq!(status, 0, "{json}");
    assert_eq!(json["n"], 30);
    assert_eq!(json["concurrency"], 2);
    for key in [
        "p50_us",
        "p90_us",
        "p99_us",
        "runs_per_sec",
        "instantiate_us",
        "compile_ms",
    ] {
        assert!(json[key].as_f64().is_some_and(|v| v > 0.0), "{key}: {json}");
    }
    assert!(json["p50_us"].as_f64() <= json["p99_us"].as_f64());
    // Fuel is deterministic: the bench's runs use what `run` reports.
    let (_, run) = run_json(&["run", &script, "--input", &input()]);
    assert_eq!(json["fuel_per_run"], run["stats"]["fuel"]);
    assert!(json["artifact_bytes"].as_u64().is_some_and(|b| b > 0));
    assert!(json["peak_memory_bytes"].as_u64().is_some_and(|m| m > 0));
}

/// More workers than runs: every run counts, and `fuel_per_run` is a run's.
#[test]
fn bench_with_more_workers_than_runs() {
    let script = repo_path("examples/rbac/script.js").display().to_string();
    let (status, json) = bench_rbac("3", "8");
    assert_eq!(status, 0, "{json}");
    assert_eq!(json["n"], 3);
    assert_eq!(json["concurrency"], 3, "no more in flight than runs");
    assert_eq!(json["errors"], 0);
    let (_, run) = run_json(&["run", &script, "--input", &input()]);
    assert_eq!(json["fuel_per_run"], run["stats"]["fuel"]);
}

/// Denials are completed runs: counted, exit 0.
#[test]
fn bench_counts_denials() {
    let script = fixture("deny").display().to_string();
    let (status, json) = run_json(&["bench", &script, "--input", &input(), "-n", "5"]);
    assert_eq!(status, 0, "{json}");
    assert_eq!(json["denied"], 5);
    assert_eq!(json["errors"], 0);
}

/// Runs that fail after the warm-up are counted, and the bench exits 1.
#[test]
fn bench_counts_errors_and_exits_1() {
    use std::io::{Read, Write};
    // Answers the 10 warm-up runs' fetches, then stops listening: the
    // measured runs' fetches are refused and their scripts throw.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(10) {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = r#"{"ok":true}"#;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let grants = grants_file(
        "bench-errors.toml",
        &format!("[fetch]\nallow = [\"{base}\"]\n"),
    );
    let script = grants_file(
        "bench-errors.js",
        &format!(
            "const getCustomJwtClaims = async () => ({{ ok: (await (await fetch('{base}/')).json()).ok }});"
        ),
    );
    let out = claimscript(&[
        "bench",
        &script,
        "--input",
        &input(),
        "--grants",
        &grants,
        "-n",
        "4",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(json["errors"], 4, "{json}");
    assert_eq!(json["denied"], 0);
    assert!(
        stderr.contains("claimscript: 4 of 4 runs ended in an error (the first: script)"),
        "{stderr}"
    );
}

#[test]
fn bench_caps_the_run_count() {
    let script = fixture("empty").display().to_string();
    for n in ["18446744073709551615", "1000000000000", "10000001", "0"] {
        let out = claimscript(&["bench", &script, "--input", &input(), "-n", n]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{n}: {stderr}");
        assert!(stderr.contains("is not in 1..=10000000"), "{n}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    let out = claimscript(&[
        "bench",
        &script,
        "--input",
        &input(),
        "--concurrency",
        "18446744073709551615",
    ]);
    assert_eq!(out.status.code(), Some(64));
}

/// A JSON syntax error names the file and its position once.
#[test]
fn json_errors_name_the_position_once() {
    let script = fixture("empty").display().to_string();
    let bad = grants_file("twice.json", "{\"token\": {},\n  \"context\": {1: 2}}");
    let out = claimscript(&["run", &script, "--input", &bad]);
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("claimscript: {bad}: line 2, column 15: key must be a string\n")
    );
    let out = claimscript_stdin(&["run", &script, "--input", "-"], "{\"token\": }");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "claimscript: <stdin>: line 1, column 11: expected value\n"
    );
    // The base claims of `issue`, the same way.
    let key = grants_file("twice.key", "a-32-byte-secret-for-hs256-tests");
    let out = claimscript(&[
        "issue",
        &script,
        "--input",
        &input(),
        "--key",
        &key,
        "--alg",
        "HS256",
        "--claims",
        &bad,
    ]);
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("claimscript: {bad}: line 2, column 15: key must be a string\n")
    );
}

#[test]
fn template_and_input_cannot_both_be_stdin() {
    let out = claimscript_stdin(&["template", "-", "--input", "-"], "{}");
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "claimscript: the template and --input cannot both be standard input (-)\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_cache_dir_that_is_a_file_warns_and_compiles_in_memory() {
    let file = grants_file("cache-is-a-file", "not a directory");
    let script = fixture("empty").display().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claimscript"))
        .args(["run", &script, "--input", &input()])
        .env("CLAIMSCRIPT_CACHE_DIR", &file)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(json["outcome"], "claims");
    assert!(
        stderr.contains("warning") && stderr.contains("compiling in memory"),
        "{stderr}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn an_audit_record_that_cannot_be_written_is_reported() {
    let script = fixture("empty").display().to_string();
    let out = claimscript(&[
        "run",
        &script,
        "--input",
        &input(),
        "--audit-log",
        "/dev/full",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The outcome is still printed; the lost record is said and exits 74.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(
        stderr.contains("1 audit record(s) could not be written to /dev/full"),
        "{stderr}"
    );
}

#[test]
fn grants_over_the_engines_memory_name_their_file() {
    let grants = grants_file("big-memory.toml", "memory_mb = 4096\n");
    let script = fixture("empty").display().to_string();
    let out = claimscript(&["run", &script, "--input", &input(), "--grants", &grants]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{grants}: memory_mb = 4096 is above the engine's max_memory_mb = 128"
        )),
        "{stderr}"
    );
}

#[test]
fn inputs_too_large_or_with_duplicate_keys_are_usage_errors() {
    let script = fixture("empty").display().to_string();
    let big = grants_file(
        "big-input.json",
        &format!(r#"{{"token": {{"sub": "{}"}}}}"#, "x".repeat(2 << 20)),
    );
    let out = claimscript(&["run", &script, "--input", &big]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains("bytes; the limit is 1048576 bytes (max_input_bytes)"),
        "{stderr}"
    );
    let big_stdin = format!(r#"{{"token": {{"sub": "{}"}}}}"#, "x".repeat(2 << 20));
    // The CLI stops reading past the limit: the rest of the write may fail.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_claimscript"))
        .args(["run", &script, "--input", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = std::io::Write::write_all(&mut stdin, big_stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains("<stdin>: the input is more than"),
        "{stderr}"
    );
    let out = claimscript_stdin(
        &["run", &script, "--input", "-"],
        "{\"token\": {\"sub\": \"a\", \"sub\": \"b\"}}",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains("<stdin>: line 1, column 28: duplicate key \"sub\""),
        "{stderr}"
    );
}
