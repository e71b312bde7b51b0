//! The execution trail: one record per run, nothing secret in it, nothing a
//! script can forge.

use std::sync::{Arc, Mutex, OnceLock};

use claimscript::trail::{AuditSink, JsonLinesSink, RunRecord, TracingSink};
use claimscript::{
    CompileOptions, Engine, EngineConfig, Error, ErrorKind, FetchGrants, Grants, Outcome, RunInput,
    TokenKind,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::server;

/// Keeps every record, for the tests to look through.
#[derive(Debug, Default)]
struct Collect(Mutex<Vec<RunRecord>>);

impl AuditSink for Collect {
    fn record(&self, record: &RunRecord) {
        if let Ok(mut records) = self.0.lock() {
            records.push(record.clone());
        }
    }
}

/// Sends each record to every sink: the collector, a JSON-lines file and
/// `tracing`.
#[derive(Debug)]
struct Fan(Vec<Arc<dyn AuditSink>>);

impl AuditSink for Fan {
    fn record(&self, record: &RunRecord) {
        self.0.iter().for_each(|s| s.record(record));
    }
}

struct Audited {
    engine: Engine,
    records: Arc<Collect>,
    log: std::path::PathBuf,
    traced: Arc<Mutex<Vec<u8>>>,
}

/// An engine whose runs are audited, shared by this module's tests (each
/// test tells its records apart by the script's digest).
fn audited() -> &'static Audited {
    static AUDITED: OnceLock<Audited> = OnceLock::new();
    AUDITED.get_or_init(|| {
        let records = Arc::new(Collect::default());
        let log =
            std::env::temp_dir().join(format!("claimscript-trail-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&log);
        let traced = Arc::new(Mutex::new(Vec::new()));
        let writer = traced.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || TracedWriter(writer.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        let mut config = EngineConfig::default();
        config.max_concurrent_runs = 16;
        config.audit_sink = Some(Arc::new(Fan(vec![
            records.clone(),
            Arc::new(JsonLinesSink::open(&log).expect("log")),
            Arc::new(TracingSink),
        ])));
        Audited {
            engine: Engine::with_config(config).expect("engine"),
            records,
            log,
            traced,
        }
    })
}

struct TracedWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for TracedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut out) = self.0.lock() {
            out.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Run `source` on the audited engine and return its one record.
async fn record_of(source: &str, input: &RunInput, grants: &Grants) -> RunRecord {
    let audited = audited();
    let script = audited.engine.compile(source).await.expect("compile");
    script.run(input, grants).await.expect("run");
    let records = audited.records.0.lock().expect("records");
    let mine: Vec<&RunRecord> = records
        .iter()
        .filter(|r| r.script == script.digest_hex())
        .collect();
    assert_eq!(mine.len(), 1, "exactly one record per run");
    mine[0].clone()
}

fn logto(body: &str) -> String {
    format!(
        "const getCustomJwtClaims = async ({{ token, context, environmentVariables, api }}) => {{ {body} }};"
    )
}

#[tokio::test]
async fn one_record_per_outcome_kind() {
    let input = crate::example_input("rbac");
    let cases: [(&str, &str, Option<&str>); 8] = [
        ("return { roles: ['a'], sub: 'x' };", "claims", None),
        ("api.denyAccess('no entry');", "denied", None),
        ("throw new Error('boom');", "error", Some("script")),
        ("while (true) {}", "error", Some("fuel_exhausted")),
        (
            "return await new Promise(() => {});",
            "error",
            Some("pending"),
        ),
        ("return [1];", "error", Some("invalid_output")),
        (
            "return { big: 'x'.repeat(100000) };",
            "error",
            Some("output_too_large"),
        ),
        (
            "const a = []; while (true) a.push(new Uint8Array(1 << 20));",
            "error",
            Some("memory"),
        ),
    ];
    for (i, (body, outcome, kind)) in cases.into_iter().enumerate() {
        // A distinct source per case: records are told apart by digest.
        let source = format!("// case {i}\n{}", logto(body));
        let record = record_of(&source, &input, &Grants::default()).await;
        assert_eq!(record.outcome, outcome, "{body}");
        assert_eq!(record.error_kind.map(|k| k.as_str()), kind, "{body}");
        assert_eq!(record.token_kind, "access_token");
        assert_eq!(record.style, "logto");
        assert_eq!(record.source.len(), 64);
        assert!(record.duration_us > 0 && record.fuel > 0, "{body}");
        if outcome == "claims" {
            assert_eq!(record.dropped_claims, ["sub"]);
            assert_eq!(record.claims.access_token, 1);
        }
        if outcome == "denied" {
            assert_eq!(
                record.denial.as_ref().map(|d| d.message.as_str()),
                Some("no entry")
            );
        }
    }
    let m2m = crate::example_input("m2m");
    let record = record_of(&logto("return {};"), &m2m, &Grants::default()).await;
    assert_eq!(record.token_kind, "client_credentials");
}

#[tokio::test]
async fn records_fetches_and_environment_names_only() {
    let server = server::start().await;
    let input = crate::example_input("rbac")
        .with_env("REGION", "eu")
        .with_env("UNEXPOSED", "not for this script");
    let grants = Grants::default()
        .with_env_exposed(["REGION", "REPORTS_API_KEY"])
        .with_fetch(FetchGrants::allowing([server.base()]).expect("grant"));
    // The URL is the script's own text: were it built from the input, the
    // record would show it redacted.
    let record = record_of(
        &logto(&format!(
            "const r = await fetch('{}/text?q=1');\n\
             environmentVariables.REGION; environmentVariables.UNEXPOSED;\n\
             environmentVariables.NOPE; environmentVariables.NOPE2;\n\
             await fetch('http://not-granted.example/x').catch(() => {{}});\n\
             return {{ status: r.status }};",
            server.base()
        )),
        &input,
        &grants,
    )
    .await;
    assert_eq!(
        json!(record.env_read),
        json!([{"name": "REGION", "exposed": true}, {"name": "UNEXPOSED", "exposed": false}])
    );
    assert_eq!(record.env_read_missing, 2);
    assert_eq!(record.fetches.len(), 2);
    assert_eq!(record.fetches[0].url, format!("{}/text", server.base()));
    assert_eq!(record.fetches[0].status, Some(200));
    // The failure is recorded by kind, in the host's words: the host the
    // script asked for is in the (scrubbed) URL only.
    assert_eq!(
        json!(record.fetches[1].refused),
        json!({"kind": "not_granted", "detail": "not granted: the URL's scheme, host and port match no [fetch] allow pattern"})
    );
}

/// Distinctive values planted everywhere a secret can come from.
const SECRETS: [&str; 6] = [
    "ENV-SECRET-9f3Kq2",
    "HEADER-SECRET-Lm77Qz",
    "RESPONSE-SECRET-Zq81xP",
    "BODY-SECRET-Pp09Yc",
    // The loopback server's `x-session-token` response header.
    "SESSION-SECRET-Ua62Nd",
    // Characters a URL path percent-encodes.
    "PCT SECRET/Ek44{x}\u{e9}",
];

/// A secret as text may show it: raw, and percent-encoded as the URL parser
/// writes a path and as `encodeURIComponent` writes it; lower-cased.
fn forms(secret: &str) -> Vec<String> {
    let encode = |keep: &dyn Fn(u8) -> bool| -> String {
        secret
            .bytes()
            .map(|b| {
                if keep(b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect()
    };
    vec![
        secret.to_lowercase(),
        encode(&|b| b.is_ascii_graphic() && !b"\"#<>?`{}".contains(&b)).to_lowercase(),
        encode(&|b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)).to_lowercase(),
    ]
}

#[tokio::test]
async fn planted_secrets_never_reach_a_record_or_a_log_line() {
    let server = server::start().await;
    // Token and context values are who asked, not secrets: the script may
    // write them, and the trail keeps them (see
    // token_and_context_values_never_blank_out_the_trail).
    let mut token = json!({"sub": "usr_1", "jti": "TOKEN-VALUE-Hh41Ja"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    token.insert("kind".into(), json!("AccessToken"));
    let context =
        json!({"user": {"id": "usr_1", "customData": {"apiKey": "CONTEXT-VALUE-Vt55Rw"}}});
    let input = RunInput::new(TokenKind::AccessToken, token)
        .with_context(context.as_object().cloned().unwrap_or_default())
        .with_env("BASE", server.base())
        .with_env("API_SECRET", SECRETS[0])
        .with_env("AUTH", format!("Bearer {}", SECRETS[1]))
        .with_env("PCT", SECRETS[5]);
    let grants =
        Grants::default().with_fetch(FetchGrants::allowing([server.base()]).expect("grant"));
    // Every way a script might leak them: logs, claims, errors, denial
    // messages, URLs (path and query), headers, bodies, env names.
    let leaks = [
        "console.log(environmentVariables.API_SECRET, context.user.customData.apiKey, token.jti);\n\
         console.error(JSON.stringify({ context, token, env: { ...environmentVariables } }));\n\
         return { secret: environmentVariables.API_SECRET, ctx: context, tok: token };",
        "api.denyAccess(`denied ${environmentVariables.API_SECRET} ${context.user.customData.apiKey} ${token.jti} ${environmentVariables.AUTH}`);",
        "throw new Error(environmentVariables.API_SECRET + context.user.customData.apiKey);",
        "const r = await fetch(`${environmentVariables.BASE}/secret`, { headers: { Authorization: environmentVariables.AUTH } });\n\
         const body = await r.json();\n\
         console.log(body.apiSecret);\n\
         api.denyAccess('service said ' + body.apiSecret + ' and ' + environmentVariables.AUTH.split(' ')[1]);",
        "const r = await fetch(`${environmentVariables.BASE}/echo/${environmentVariables.API_SECRET}/${context.user.customData.apiKey}?k=${token.jti}`, { method: 'POST', body: 'BODY-SECRET-Pp09Yc' });\n\
         environmentVariables[environmentVariables.API_SECRET];\n\
         api.denyAccess('echo ' + (await r.json()).body);",
        "await fetch(`http://${environmentVariables.API_SECRET}.invalid/`).catch(() => {});\n\
         return {};",
        // The method is the script's text: recorded as OTHER.
        "await fetch(`${environmentVariables.BASE}/echo`, { method: environmentVariables.API_SECRET });\n\
         await fetch(`${environmentVariables.BASE}/echo`, { method: 'post' });\n\
         return {};",
        // A response header value, echoed into a URL and a denial.
        "const r = await fetch(`${environmentVariables.BASE}/session`);\n\
         const session = r.headers.get('x-session-token');\n\
         await fetch(`${environmentVariables.BASE}/echo/${session}`);\n\
         api.denyAccess(`session ${session}`);",
        // A secret with characters a path percent-encodes, raw and encoded.
        "await fetch(`${environmentVariables.BASE}/echo/${environmentVariables.PCT}`);\n\
         await fetch(`${environmentVariables.BASE}/echo/${encodeURIComponent(environmentVariables.PCT)}`);\n\
         api.denyAccess(`pct ${environmentVariables.PCT} ${encodeURIComponent(environmentVariables.PCT)}`);",
    ];
    let audited = audited();
    for (i, body) in leaks.iter().enumerate() {
        let source = format!("// leak {i}\n{}", logto(body));
        let record = record_of(&source, &input, &grants).await;
        // Case-insensitively: URL hosts come out lower-cased.
        let text = serde_json::to_string(&record).expect("json").to_lowercase();
        for secret in SECRETS {
            for form in forms(secret) {
                assert!(!text.contains(&form), "leak {i}: {form} in {text}");
            }
        }
        if i == 6 {
            let methods: Vec<&str> = record.fetches.iter().map(|f| f.method.as_str()).collect();
            assert_eq!(methods, ["OTHER", "POST"], "{text}");
        }
        if i >= 7 {
            // The session header and the PCT environment value.
            assert!(
                record
                    .denial
                    .as_ref()
                    .is_some_and(|d| d.message.contains("[redacted]")),
                "leak {i}: {text}"
            );
            assert!(
                record
                    .fetches
                    .iter()
                    .skip(usize::from(i == 7))
                    .all(|f| f.url.contains("[redacted]")),
                "leak {i}: {text}"
            );
        }
    }
    // The file and the tracing output, whole.
    let log = std::fs::read_to_string(&audited.log)
        .expect("log")
        .to_lowercase();
    let traced = String::from_utf8(audited.traced.lock().expect("traced").clone())
        .expect("utf-8")
        .to_lowercase();
    for secret in SECRETS {
        for form in forms(secret) {
            assert!(!log.contains(&form), "{form} in the JSON-lines log");
            assert!(!traced.contains(&form), "{form} in the tracing output");
        }
    }
    assert!(
        traced.contains("claims script run"),
        "the tracing sink emitted events"
    );
    assert!(log.contains("[redacted]"), "what was scrubbed is marked");
}

#[tokio::test]
async fn token_and_context_values_never_blank_out_the_trail() {
    let server = server::start().await;
    // A profile name that is the service's address, a customData value that
    // is the denial's reason: who asked, not secrets.
    let host = server.base().trim_start_matches("http://").to_string();
    let token = json!({"kind": "AccessToken", "sub": host.clone()});
    let context = json!({"user": {"id": "usr_1", "name": host.clone(),
        "customData": {"status": "suspended"}}});
    let input = RunInput::new(
        TokenKind::AccessToken,
        token.as_object().cloned().unwrap_or_default(),
    )
    .with_context(context.as_object().cloned().unwrap_or_default());
    let grants =
        Grants::default().with_fetch(FetchGrants::allowing([server.base()]).expect("grant"));
    let record = record_of(
        &logto(
            "await fetch(`http://${context.user.name}/echo`);\n\
             api.denyAccess(`account ${context.user.customData.status}`);",
        ),
        &input,
        &grants,
    )
    .await;
    assert_eq!(record.fetches.len(), 1);
    assert_eq!(record.fetches[0].url, format!("{}/echo", server.base()));
    assert_eq!(
        record.denial.as_ref().map(|d| d.message.as_str()),
        Some("account suspended")
    );
}

#[tokio::test]
async fn long_repetitive_values_are_scrubbed_whole_and_quickly() {
    // A 16,000-character header on a refused fetch and a 32,000-character
    // JSON string in a POST body, each echoed into the denial: the record
    // redacts each whole (the scrubber keeps their chunks, a bounded number
    // of patterns: see the unit tests in trail.rs).
    let server = server::start().await;
    let input = crate::example_input("rbac").with_env("BASE", server.base());
    let grants =
        Grants::default().with_fetch(FetchGrants::allowing([server.base()]).expect("grant"));
    let record = record_of(
        &logto(
            "const h = 'a'.repeat(16000);\n\
             await fetch('http://not-granted.example/x', { headers: { 'x-a': h } }).catch(() => {});\n\
             const b = 'b'.repeat(32000);\n\
             await fetch(`${environmentVariables.BASE}/echo`, { method: 'POST', body: JSON.stringify({ b }) });\n\
             api.denyAccess(`<${h.slice(0, 900)}> <${b.slice(0, 900)}>`);",
        ),
        &input,
        &grants,
    )
    .await;
    assert_eq!(
        record.denial.as_ref().map(|d| d.message.as_str()),
        Some("<[redacted]> <[redacted]>")
    );
    assert_eq!(record.fetches.len(), 2);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_record_that_cannot_be_written_is_counted_not_lost_silently() {
    let record = record_of(
        &logto("return { full: 1 };"),
        &crate::example_input("rbac"),
        &Grants::default(),
    )
    .await;
    let full = JsonLinesSink::open("/dev/full").expect("open /dev/full");
    assert_eq!(full.failures(), (0, None));
    full.record(&record);
    full.record(&record);
    let (count, error) = full.failures();
    assert_eq!(count, 2);
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("No space left")),
        "{error:?}"
    );
    // A file that takes them: one whole record per line.
    let path = std::env::temp_dir().join(format!("claimscript-sink-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let sink = JsonLinesSink::open(&path).expect("open");
    sink.record(&record);
    sink.record(&record);
    assert_eq!(sink.failures(), (0, None));
    let text = std::fs::read_to_string(&path).expect("read");
    let _ = std::fs::remove_file(&path);
    assert_eq!(text.lines().count(), 2);
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).expect("one record per line");
        assert_eq!(value["outcome"], "claims");
    }
}

#[tokio::test]
async fn a_script_cannot_forge_a_record() {
    let forged = r#"x"}\n{"time":"forged","outcome":"claims","script":"0000"}\n"#;
    let source = logto(&format!(
        "api.denyAccess({});",
        json!(forged.replace("\\n", "\n"))
    ));
    let record = record_of(&source, &crate::example_input("rbac"), &Grants::default()).await;
    assert_eq!(
        record.denial.as_ref().map(|d| d.message.as_str()),
        Some(forged.replace("\\n", "\n").as_str()),
        "kept as the script's text"
    );
    // Every line of the log is one whole record.
    let log = std::fs::read_to_string(&audited().log).expect("log");
    for line in log.lines() {
        let parsed: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_ne!(parsed["time"], "forged", "{line}");
    }
    assert!(
        log.lines().any(|l| l.contains("forged")),
        "the text is in the log, escaped"
    );
}

/// The records whose `script` is `digest`.
fn records_for(digest: &str) -> Vec<RunRecord> {
    let records = audited().records.0.lock().expect("records");
    records
        .iter()
        .filter(|r| r.script == digest)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_run_refused_for_its_grants_is_recorded() {
    let script = audited()
        .engine
        .compile(&logto("// grants\nreturn {};"))
        .await
        .expect("compile");
    let mut grants = Grants::default();
    grants.memory_mb = 4096;
    let result = script.run(&crate::example_input("rbac"), &grants).await;
    assert!(matches!(result, Err(Error::Grants(_))), "{result:?}");
    let records = records_for(&script.digest_hex());
    assert_eq!(records.len(), 1, "exactly one record: {records:?}");
    assert_eq!(records[0].outcome, "error");
    assert_eq!(records[0].error_kind, Some(ErrorKind::Grants));
    assert_eq!(records[0].fuel, 0);
}

#[tokio::test]
async fn a_source_that_does_not_compile_is_recorded() {
    let input = crate::example_input("rbac");
    let cases = [
        (
            "const getCustomJwtClaims = async () => { return {;",
            ErrorKind::Syntax,
        ),
        (
            "const _ = require('lodash');\nexports.onExecutePostLogin = async (event, api) => {};",
            ErrorKind::Unsupported,
        ),
    ];
    for (source, kind) in cases {
        let report = audited()
            .engine
            .run_source(
                source,
                &CompileOptions::default(),
                &input,
                &Grants::default(),
            )
            .await
            .expect("a report");
        assert_eq!(crate::error(&report).kind, kind, "{source}");
        let digest: String = Sha256::digest(source.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let records = records_for(&digest);
        assert_eq!(records.len(), 1, "exactly one record: {records:?}");
        let record = &records[0];
        assert_eq!(record.outcome, "error");
        assert_eq!(record.error_kind, Some(kind));
        assert_eq!(record.source, digest, "no artifact: the source's digest");
        assert_eq!(record.style, "unknown");
        assert_eq!(record.token_kind, "access_token");
    }
    // A source that compiles: the run's own record, and only that. (The
    // script is held, so that run_source finds it compiled: the digest is
    // this artifact's.)
    let source = logto("// run_source\nreturn { a: 1 };");
    let script = audited().engine.compile(&source).await.expect("compile");
    let report = audited()
        .engine
        .run_source(
            &source,
            &CompileOptions::default(),
            &input,
            &Grants::default(),
        )
        .await
        .expect("a report");
    assert!(matches!(report.outcome, Outcome::Claims { .. }));
    let records = records_for(&script.digest_hex());
    assert_eq!(records.len(), 1, "exactly one record: {records:?}");
    assert_eq!(records[0].outcome, "claims");
}

#[tokio::test]
async fn a_dropped_run_is_recorded_as_cancelled() {
    let server = server::start().await;
    let grants =
        Grants::default().with_fetch(FetchGrants::allowing([server.base()]).expect("grant"));
    let script = audited()
        .engine
        .compile(&logto(&format!(
            "// cancelled\nawait fetch('{}/slow');\nreturn {{}};",
            server.base()
        )))
        .await
        .expect("compile");
    let input = crate::example_input("rbac");
    let run = script.run(&input, &grants);
    let result = tokio::time::timeout(std::time::Duration::from_millis(200), run).await;
    assert!(result.is_err(), "the run was still going: {result:?}");
    let records = records_for(&script.digest_hex());
    assert_eq!(records.len(), 1, "exactly one record: {records:?}");
    let record = &records[0];
    assert_eq!(record.error_kind, Some(ErrorKind::Cancelled));
    assert_eq!(record.fetches.len(), 1, "its fetch is in the record");
    assert_eq!(
        json!(record.fetches[0].refused),
        json!({"kind": "not_awaited", "detail": "not awaited: the run ended first"})
    );
}
