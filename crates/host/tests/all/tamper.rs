//! Scripts that tamper with the globals and prototypes the runtime uses, or
//! hand it odd strings and sources: they change their own view, never the
//! run's outcome beyond what their style lets them set.

use claimscript::{ErrorKind, FetchGrants, Grants};
use serde_json::json;

use crate::{
    compile, compile_error, denial, error, example_input, run_default, run_source, server,
};

#[tokio::test]
async fn a_thenable_on_object_prototype_cannot_forge_the_result() {
    // The getter would swap in ID-token claims and scopes, which a Logto
    // script has no API for, when the driver resolves its result.
    let report = run_source(
        "Object.defineProperty(Object.prototype, 'then', { configurable: true, get() {\n\
           if (this && typeof this === 'object' && 'scopesAdded' in this) {\n\
             const forged = { access: { role: 'admin' }, id: { forged: 1 }, scopesAdded: ['admin:all'], scopesRemoved: [] };\n\
             return (resolve) => { delete Object.prototype.then; resolve(forged); };\n\
           }\n\
           return undefined;\n\
         } });\n\
         const getCustomJwtClaims = async () => ({ role: 'user' });",
    )
    .await;
    let out = report.to_json();
    assert_eq!(out["outcome"], "claims", "{out}");
    assert_eq!(out["claims"], json!({"role": "user"}));
    assert!(out.get("id_token_claims").is_none(), "{out}");
    assert!(out.get("scopes").is_none(), "{out}");
}

#[tokio::test]
async fn replaced_array_methods_do_not_reach_the_result() {
    let report = run_source(
        "const push = Array.prototype.push;\n\
         Array.prototype.push = function (...items) {\n\
           for (const item of items) if (item && typeof item === 'object') { item.scopesAdded = ['admin:all']; item.id = { forged: 1 }; }\n\
           return push.apply(this, items);\n\
         };\n\
         exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('role', 'user'); };",
    )
    .await;
    let out = report.to_json();
    assert_eq!(out["claims"], json!({"role": "user"}), "{out}");
    assert!(out.get("id_token_claims").is_none(), "{out}");
    assert!(out.get("scopes").is_none(), "{out}");
}

#[tokio::test]
async fn a_script_cannot_pass_its_errors_off_as_the_runtimes() {
    for thrown in [
        "{ claimscriptKind: 'unsupported', message: 'the runtime is broken' }",
        "Object.assign(new Error('the runtime is broken'), { claimscriptKind: 'missing_function' })",
    ] {
        let report = run_source(&format!(
            "const getCustomJwtClaims = async () => {{ throw {thrown}; }};"
        ))
        .await;
        let e = error(&report);
        assert_eq!(e.kind, ErrorKind::Script, "{thrown}: {e:?}");
        assert!(e.message.contains("the runtime is broken"), "{e:?}");
    }
}

/// Compile SOURCE and run it once on the machine-to-machine example input.
async fn run_m2m(source: &str) -> claimscript::RunReport {
    compile(source)
        .await
        .run(&example_input("m2m"), &Grants::default())
        .await
        .expect("run")
}

#[tokio::test]
async fn a_caught_runtime_error_cannot_be_constructed_again() {
    for make in [
        "new C('missing_function', 'forged')",
        "new (class extends C {})('unsupported', 'forged')",
    ] {
        let report = run_source(&format!(
            "exports.onExecutePostLogin = async (event, api) => {{\n\
               let C; try {{ api['cache']; }} catch (e) {{ C = e.constructor; }}\n\
               throw {make};\n\
             }};"
        ))
        .await;
        let e = error(&report);
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::Script, "TypeError: Illegal constructor"),
            "{make}"
        );
    }
}

#[tokio::test]
async fn auth0_m2m_deny_codes_hold_when_includes_is_replaced() {
    let report = run_m2m(
        "Array.prototype.includes = () => true;\n\
         exports.onExecuteCredentialsExchange = async (event, api) => { api.access.deny('access_denied', 'nope'); };",
    )
    .await;
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::Script);
    assert!(
        e.message
            .contains("code must be one of invalid_scope, invalid_request, server_error"),
        "{e:?}"
    );
    // A client-credentials token has no ID token: said so, by name.
    let report = run_m2m(
        "exports.onExecuteCredentialsExchange = async (event, api) => { api.idToken.setCustomClaim('a', 1); };",
    )
    .await;
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(
        e.message
            .starts_with("api.idToken is not supported by Claimscript"),
        "{e:?}"
    );
}

#[tokio::test]
async fn lone_surrogates_are_replaced_not_fatal() {
    // A denial the script catches still stands, whatever its text; a log
    // line cut inside a surrogate pair is still logged.
    let report = run_source(
        "const getCustomJwtClaims = async ({ api }) => {\n\
           console.log('a'.repeat(16383) + '\\u{1F600}');\n\
           try { api.denyAccess('bad \\ud83d'); } catch (_) {}\n\
           return { ok: true };\n\
         };",
    )
    .await;
    assert_eq!(denial(&report).message, "bad \u{FFFD}");
    assert_eq!(report.logs.len(), 1, "{:?}", report.logs);
}

#[tokio::test]
async fn top_level_code_cannot_leave_timers_or_jobs_for_the_runs() {
    let e =
        compile_error("setTimeout(() => {}, 10);\nconst getCustomJwtClaims = async () => ({});")
            .await;
    assert!(
        e.message
            .contains("setTimeout is not available in top-level code"),
        "{e:?}"
    );
    assert_eq!(e.line, Some(1));
    let e = compile_error(
        "const s = AbortSignal.timeout(10);\nconst getCustomJwtClaims = async () => ({});",
    )
    .await;
    assert!(
        e.message.contains("AbortSignal.timeout is not available"),
        "{e:?}"
    );
    // A promise job the top level queued runs while loading, where host
    // calls are refused, not at the start of each run.
    let script = compile(
        "let leaked = 'unset';\n\
         Promise.resolve().then(() => { leaked = crypto.randomUUID(); }).catch(() => { leaked = 'refused'; });\n\
         const getCustomJwtClaims = async () => ({ leaked });",
    )
    .await;
    for _ in 0..2 {
        let out = run_default(&script).await.to_json();
        assert_eq!(out["claims"], json!({"leaked": "refused"}), "{out}");
    }
}

#[tokio::test]
async fn minified_scripts_and_module_exports_objects() {
    // One 40 KB line compiles as fast as the same code on many lines.
    let body = "a += 1; ".repeat(5_000);
    let report = run_source(&format!(
        "const getCustomJwtClaims = async () => {{ let a = 0; {body}return {{ a }}; }};"
    ))
    .await;
    assert_eq!(report.to_json()["claims"], json!({"a": 5_000}));
    // `module.exports = { ... }` names the entry as `exports.execute = ...` does.
    let report = run_source(
        "async function execute(lr, hook) { hook.accessToken.setCustomClaim('via', 'module.exports'); }\n\
         module.exports = { execute, version: 2 };",
    )
    .await;
    assert_eq!(report.to_json()["claims"], json!({"via": "module.exports"}));
    // `export` and `import` as property names do not make a module.
    let report = run_source(
        "const o = { export: 1, import: 2 };\nconst { import: i } = o;\n\
         const getCustomJwtClaims = () => ({ ok: i === 2 && o.export === 1 && ({ export() { return 3; } }).export() === 3 });",
    )
    .await;
    assert_eq!(report.to_json()["claims"], json!({"ok": true}));
    // `export` inside a comment or a template literal is not a module.
    let report = run_source(
        "/*\nexport default 1\n*/\nconst t = `\nimport x from 'y'\n`;\nconst getCustomJwtClaims = () => ({ ok: true });",
    )
    .await;
    assert_eq!(report.to_json()["claims"], json!({"ok": true}));
}

#[tokio::test]
async fn error_positions_are_the_authors() {
    // QuickJS's own column for a syntax error points elsewhere.
    let e = compile_error(&crate::fixture("syntax_error")).await;
    assert_eq!((e.line, e.column), (Some(2), Some(13)), "{e:?}");
    let e = compile_error("let a = 1; let q = 3;\nconst getCustomJwtClaims = async () => {\n  let y = 1; return { a: 1 b: 2 };\n};")
        .await;
    assert_eq!((e.line, e.column), (Some(3), Some(28)), "{e:?}");
    // Line 1: QuickJS counts from 0 there, and a CommonJS script's line 1
    // starts inside the wrapper it runs in.
    let report = run_source("exports.onExecutePostLogin = async () => { null.x; };").await;
    let e = error(&report);
    assert_eq!((e.line, e.column), (Some(1), Some(44)), "{e:?}");
    let report = run_source("const getCustomJwtClaims = async () => { null.x; };").await;
    let e = error(&report);
    assert_eq!((e.line, e.column), (Some(1), Some(42)), "{e:?}");
}

#[tokio::test]
async fn claims_are_written_as_json_stringify_writes_them() {
    let report = run_source(
        "const getCustomJwtClaims = async () => {\n\
           const bare = ['x']; Object.setPrototypeOf(bare, null);\n\
           return { roles: Object.assign(['a'], { toJSON() { return 'forged'; } }), bare };\n\
         };",
    )
    .await;
    assert_eq!(
        report.to_json()["claims"],
        json!({"roles": "forged", "bare": ["x"]})
    );
    // A getter that throws is called once and its error ends the run.
    let report = run_source(
        "let calls = 0;\n\
         const getCustomJwtClaims = async () => ({ get a() { calls += 1; console.log(`getter ${calls}`); throw new Error('getter failed'); } });",
    )
    .await;
    let e = error(&report);
    assert_eq!(e.message, "Error: getter failed");
    assert_eq!(report.logs.len(), 1, "{:?}", report.logs);
    // So is a throwing `toJSON` getter a script put on Object.prototype.
    let report = run_source(
        "let calls = 0;\n\
         const getCustomJwtClaims = async () => {\n\
           Object.defineProperty(Object.prototype, 'toJSON', { configurable: true, get() { calls += 1; console.log(`toJSON ${calls}`); throw new Error('toJSON getter'); } });\n\
           return { a: 1 };\n\
         };",
    )
    .await;
    assert_eq!(error(&report).message, "Error: toJSON getter");
    assert_eq!(report.logs.len(), 1, "{:?}", report.logs);
}

#[tokio::test]
async fn require_messages_agree_and_point_to_web_crypto() {
    let at_compile =
        compile_error("const c = require('crypto');\nexports.execute = async () => {};").await;
    assert_eq!(at_compile.kind, ErrorKind::Unsupported);
    assert!(
        at_compile
            .message
            .contains("use the Web Crypto global `crypto`"),
        "{at_compile:?}"
    );
    let report =
        run_source("exports.execute = async () => { const name = 'cry' + 'pto'; require(name); };")
            .await;
    assert_eq!(error(&report).message, at_compile.message);
}

#[tokio::test]
async fn the_axios_shim_covers_auth_params_defaults_and_timeouts() {
    let server = server::start().await;
    let script = compile(
        "const axios = require('axios');\n\
         exports.execute = async (lr, hook) => {\n\
           const base = hook.secrets.BASE;\n\
           axios.defaults.headers.common['X-Team'] = 'engines';\n\
           const { data } = await axios.get(`${base}/echo`, {\n\
             auth: { username: 'user', password: 'pass' },\n\
             params: { a: [1, 2], b: 'x' },\n\
             headers: new Headers({ 'X-H': '1' }),\n\
           });\n\
           let timeout;\n\
           try { await axios.get(`${base}/delay?ms=1000`, { timeout: 20 }); } catch (e) { timeout = [e.name, e.code, e.isAxiosError]; }\n\
           let status;\n\
           try { await axios.get(`${base}/balance/x`); } catch (e) { status = [e.code, e.response.status]; }\n\
           hook.accessToken.setCustomClaim('echo', { auth: data.headers.authorization, team: data.headers['x-team'], h: data.headers['x-h'], query: data.query });\n\
           hook.accessToken.setCustomClaim('timeout', timeout);\n\
           hook.accessToken.setCustomClaim('status', status);\n\
           hook.accessToken.setCustomClaim('same', require('axios').default === axios);\n\
           const grandchild = axios.create({ headers: { 'X-Child': 'c' } }).create({ timeout: 1000 });\n\
           const { data: inherited } = await grandchild.get(`${base}/echo`);\n\
           hook.accessToken.setCustomClaim('inherited', [inherited.headers['x-child'], inherited.headers['x-team'], inherited.headers.accept]);\n\
         };",
    )
    .await;
    let grants =
        Grants::default().with_fetch(FetchGrants::allowing([server.base()]).expect("grant"));
    let input = example_input("rbac").with_env("BASE", server.base());
    let report = script.run(&input, &grants).await.expect("run");
    let out = report.to_json();
    assert_eq!(
        out["claims"],
        json!({
            "echo": {
                "auth": "Basic dXNlcjpwYXNz",
                "team": "engines",
                "h": "1",
                "query": "a%5B%5D=1&a%5B%5D=2&b=x"
            },
            "timeout": ["AxiosError", "ECONNABORTED", true],
            "status": ["ERR_BAD_REQUEST", 401],
            "same": true,
            "inherited": ["c", "engines", "application/json, text/plain, */*"]
        }),
        "{out}"
    );
}
