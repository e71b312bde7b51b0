//! The Claimscript guest runtime: QuickJS (through `javy`) behind the
//! `claimscript:script/claims-script` world.
//!
//! The host pre-initialises one copy of this component per script: it calls
//! `loader.load(source, style)` (which evaluates the prelude and the script
//! and finds its entry functions), snapshots the memory with
//! `loader.memory-image`, and from then on only calls `script.run` on fresh
//! instances of the snapshot.

#[cfg(target_arch = "wasm32")]
mod alloc;
mod json;
mod lazy;
#[cfg(all(target_arch = "wasm32", target_feature = "bulk-memory"))]
mod mem;
mod natives;
mod output;
mod prelude;
#[cfg(target_arch = "wasm32")]
mod snapshot;
mod source;
mod strings;
mod web;

use std::cell::{Cell, RefCell};

use claimscript::script::types::{
    Claims, ErrorKind, RunInput, ScriptError, ScriptInfo, Style, TokenKind,
};
use exports::claimscript::script::loader::Guest as LoaderGuest;
use exports::claimscript::script::script::Guest as ScriptGuest;
use javy::quickjs::context::EvalOptions;
use javy::quickjs::{Ctx, Error as JsError, Function, Module, Object, Persistent, Promise, Value};

wit_bindgen::generate!({
    path: "../wit",
    world: "claims-script",
    generate_all,
    // Written by hand in `snapshot.rs`: it returns the memory in place.
    skip: ["memory-image"],
});

/// The file name scripts are evaluated under; error positions refer to it.
const SCRIPT_NAME: &str = "script.js";
/// The entry function of a Logto script.
const LOGTO_ENTRY: &str = "getCustomJwtClaims";
/// Packages a CommonJS script may `require`.
const PACKAGES: [&str; 1] = ["axios"];
/// The other packages LoginRadius scripts may require, named in errors.
const LOGINRADIUS_PACKAGES: [&str; 4] = ["underscore", "moment", "async", "@slack/webhook"];
/// Members of Auth0's `api` that Claimscript does not provide: found in the
/// source at compile time, and throwing when used (`prelude/styles.js` gets
/// this list as `native.auth0Unsupported`).
const AUTH0_UNSUPPORTED: [&str; 12] = [
    "authentication",
    "cache",
    "multifactor",
    "prompt",
    "redirect",
    "refreshToken",
    "rules",
    "samlResponse",
    "session",
    "transaction",
    "user",
    "validation",
];

struct Loaded {
    runtime: javy::Runtime,
    driver: Persistent<Object<'static>>,
    style: Style,
}

thread_local! {
    static LOADED: RefCell<Option<Loaded>> = const { RefCell::new(None) };
    /// True while `load` runs: host calls are refused then, since the
    /// snapshot must not depend on a run's input.
    static LOADING: Cell<bool> = const { Cell::new(false) };
    /// The prelude's `errorKind(value)`: the kind of an error the runtime
    /// raised on purpose (`prelude/core.js`), for `describe_thrown`.
    static ERROR_KIND: RefCell<Option<Persistent<Function<'static>>>> = const { RefCell::new(None) };
}

pub(crate) fn loading() -> bool {
    LOADING.with(Cell::get)
}

struct Runtime;

impl LoaderGuest for Runtime {
    fn load(source: String, style: Option<Style>) -> Result<ScriptInfo, ScriptError> {
        if LOADED.with(|l| l.borrow().is_some()) {
            return Err(error(
                ErrorKind::Unsupported,
                "this component is already pre-initialised",
            ));
        }
        #[cfg(target_arch = "wasm32")]
        alloc::begin_load();
        LOADING.with(|l| l.set(true));
        let result = load(&source, style);
        LOADING.with(|l| l.set(false));
        let (loaded, info) = result?;
        LOADED.with(|l| *l.borrow_mut() = Some(loaded));
        #[cfg(target_arch = "wasm32")]
        alloc::end_load();
        Ok(info)
    }
}

impl ScriptGuest for Runtime {
    fn run(input: RunInput) -> Result<Claims, ScriptError> {
        #[cfg(target_arch = "wasm32")]
        alloc::begin_run();
        natives::reseed_random();
        LOADED.with(|loaded| {
            let loaded = loaded.borrow();
            let Some(loaded) = loaded.as_ref() else {
                return Err(error(ErrorKind::Unsupported, "no script has been loaded"));
            };
            run(loaded, input).map_err(|e| with_script_position(e, "", loaded.style))
        })
    }
}

export!(Runtime);

fn error(kind: ErrorKind, message: impl Into<String>) -> ScriptError {
    ScriptError {
        kind,
        message: message.into(),
        stack: None,
        line: None,
        column: None,
    }
}

fn runtime_config() -> javy::Config {
    let mut config = javy::Config::default();
    config
        .log_stream(Box::new(std::io::sink()))
        .err_stream(Box::new(std::io::sink()));
    config
}

fn style_name(style: Style) -> &'static str {
    match style {
        Style::Logto => "logto",
        Style::Auth0 => "auth0",
        Style::Loginradius => "loginradius",
    }
}

fn load(source: &str, style: Option<Style>) -> Result<(Loaded, ScriptInfo), ScriptError> {
    let runtime = javy::Runtime::new(runtime_config())
        .map_err(|e| error(ErrorKind::Unsupported, format!("cannot start QuickJS: {e}")))?;
    let scan = source::scan(source);
    let style = style.unwrap_or_else(|| source::detect_style(&scan));
    let packages = check_source(&scan, style)?;
    let (driver, entries) = runtime.context().with(|cx| -> Result<_, ScriptError> {
        let driver = prelude(&cx).map_err(|e| internal(&cx, e))?;
        let found = evaluate_script(&cx, &driver, source, style, scan.module)
            .map_err(|e| with_script_position(e, source, style))?;
        let set_script: Function = driver.get("setScript").map_err(|e| internal(&cx, e))?;
        let entries: Vec<String> = set_script
            .call((style_name(style), found))
            .map_err(|e| thrown(&cx, e, ErrorKind::Script))?;
        Ok((Persistent::save(&cx, driver), entries))
    })?;
    // Jobs the top level queued run now, while host calls are refused, and
    // not at the start of every run from the snapshot.
    runtime
        .resolve_pending_jobs()
        .map_err(|e| error(ErrorKind::Script, format!("top-level code: {e}")))?;
    // Free what loading left unreachable (the prelude files' functions, the
    // script's top level) before the snapshot; frees at load time are
    // zeroed (see `alloc.rs`), so their pages leave the memory image.
    runtime.context().runtime().run_gc();
    let info = ScriptInfo {
        style,
        entries,
        packages,
    };
    Ok((
        Loaded {
            runtime,
            driver,
            style,
        },
        info,
    ))
}

/// Evaluate the prelude files and return the driver.
fn prelude<'js>(cx: &Ctx<'js>) -> Result<Object<'js>, JsError> {
    strings::probe(cx);
    lazy::register(cx)?;
    let natives = natives::register(cx)?;
    web::register(cx, &natives)?;
    let driver = prelude::evaluate(cx, natives)?;
    let error_kind: Function = driver.get("errorKind")?;
    ERROR_KIND.with(|k| *k.borrow_mut() = Some(Persistent::save(cx, error_kind)));
    Ok(driver)
}

/// Refuse, before anything runs, what the source shows it needs and this
/// runtime does not have. Returns the packages it requires.
fn check_source(scan: &source::Scan, style: Style) -> Result<Vec<String>, ScriptError> {
    let at = |kind, message: String, line: u32, column: u32| ScriptError {
        line: Some(line),
        column: Some(column),
        ..error(kind, message)
    };
    let mut packages = Vec::new();
    // Logto scripts have no `require` at all (using it throws, as in Logto).
    let requires = if style == Style::Logto {
        &[][..]
    } else {
        &scan.requires[..]
    };
    for (name, line, column) in requires {
        if !PACKAGES.contains(&name.as_str()) {
            return Err(at(
                ErrorKind::Unsupported,
                require_message(name),
                *line,
                *column,
            ));
        }
        if !packages.contains(name) {
            packages.push(name.clone());
        }
    }
    if style == Style::Auth0
        && let Some((member, line, column)) = scan
            .api_members
            .iter()
            .find(|(member, ..)| AUTH0_UNSUPPORTED.contains(&member.as_str()))
    {
        return Err(at(
            ErrorKind::Unsupported,
            format!(
                "api.{member} is not supported by Claimscript (supported: api.access.deny, \
                 api.accessToken.setCustomClaim/addScope/removeScope, api.idToken.setCustomClaim)"
            ),
            *line,
            *column,
        ));
    }
    Ok(packages)
}

/// Why `require(name)` fails, for a package other than `axios`: at compile
/// time when the name is in the source, else when the script runs.
pub(crate) fn require_message(name: &str) -> String {
    const ONLY: &str = "only `axios` is (a shim over fetch)";
    if LOGINRADIUS_PACKAGES.contains(&name) {
        format!(
            "require('{name}'): the LoginRadius package `{name}` is not available in Claimscript; {ONLY}"
        )
    } else if matches!(name, "crypto" | "node:crypto") {
        format!(
            "require('{name}'): Node.js modules are not available in Claimscript; use the Web \
             Crypto global `crypto` instead (crypto.subtle.digest, HMAC sign/verify, \
             crypto.randomUUID, crypto.getRandomValues)"
        )
    } else {
        format!("require('{name}'): packages are not available in Claimscript; {ONLY}")
    }
}

/// Evaluate the script as its style requires and return what it defined:
/// for Logto its `getCustomJwtClaims`, for CommonJS styles its exports.
fn evaluate_script<'js>(
    cx: &Ctx<'js>,
    driver: &Object<'js>,
    source: &str,
    style: Style,
    is_module: bool,
) -> Result<Object<'js>, ScriptError> {
    let found = Object::new(cx.clone()).map_err(|e| internal(cx, e))?;
    if style != Style::Logto {
        // Node's module wrapper, on the first line so that lines match.
        let wrapped = format!("{COMMON_JS_PREFIX}{source}\n}})");
        let body: Function = eval_script(cx, &wrapped)?;
        let common_js: Function = driver.get("commonJs").map_err(|e| internal(cx, e))?;
        return common_js.call((body,)).map_err(|e| compile_error(cx, e));
    }
    let entry: Value = if is_module {
        let declared =
            Module::declare(cx.clone(), SCRIPT_NAME, source).map_err(|e| compile_error(cx, e))?;
        let (module, promise) = declared.eval().map_err(|e| compile_error(cx, e))?;
        promise.finish::<()>().map_err(|e| match e {
            // Nothing the top level awaits can settle: host calls and
            // timers are refused while a script loads.
            JsError::WouldBlock => error(
                ErrorKind::Pending,
                "the module's top-level await can never settle: nothing it awaits is in \
                 progress (fetch and timers are not available while a script loads)",
            ),
            e => compile_error(cx, e),
        })?;
        module
            .namespace()
            .and_then(|ns| ns.get(LOGTO_ENTRY))
            .map_err(|e| compile_error(cx, e))?
    } else {
        eval_script::<()>(cx, source)?;
        cx.eval(format!(
            "typeof {LOGTO_ENTRY} === 'undefined' ? undefined : {LOGTO_ENTRY}"
        ))
        .map_err(|e| compile_error(cx, e))?
    };
    found.set(LOGTO_ENTRY, entry).map_err(|e| internal(cx, e))?;
    Ok(found)
}

/// Evaluate `source` as a sloppy-mode global script named `script.js`.
fn eval_script<'js, T: javy::quickjs::FromJs<'js>>(
    cx: &Ctx<'js>,
    source: &str,
) -> Result<T, ScriptError> {
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.filename = Some(SCRIPT_NAME.to_string());
    cx.eval_with_options(source, options)
        .map_err(|e| compile_error(cx, e))
}

/// What a CommonJS script is wrapped in; its columns on line 1 are shifted
/// by its length.
const COMMON_JS_PREFIX: &str = "(function (exports, require, module) {";

/// An error's position as the script's author sees it. QuickJS counts
/// columns from 0 on the first line of a source (from 1 on the others), and
/// on line 1 of a CommonJS script from the wrapper's start. Its column for
/// a syntax error is not reliable (it points at an earlier token, or past
/// the line): it is replaced by the column of the token the message names,
/// looked for on the error's line, or dropped.
fn with_script_position(mut err: ScriptError, source: &str, style: Style) -> ScriptError {
    if err.line == Some(1) {
        let shift = match style {
            Style::Logto => 0,
            Style::Auth0 | Style::Loginradius => COMMON_JS_PREFIX.chars().count() as u32,
        };
        err.column = err
            .column
            .and_then(|c| (c + 1).checked_sub(shift))
            .filter(|&c| c > 0);
    }
    if err.kind == ErrorKind::Syntax {
        err.column = err
            .line
            .and_then(|line| source.lines().nth(line.checked_sub(1)? as usize))
            .and_then(|text| syntax_error_column(text, &err.message, err.column));
    }
    err
}

/// The column of the unexpected token a syntax error names (`unexpected
/// token in expression: ';'`, `Unexpected identifier 'b'`) on `line`: its
/// first occurrence from QuickJS's column on, else on the whole line.
fn syntax_error_column(line: &str, message: &str, reported: Option<u32>) -> Option<u32> {
    if !message.to_ascii_lowercase().contains("unexpected") {
        return None;
    }
    let token = message.rsplit('\'').nth(1).filter(|t| !t.is_empty())?;
    let chars: Vec<char> = line.chars().collect();
    let token: Vec<char> = token.chars().collect();
    let find_from = |from: usize| {
        (from..chars.len())
            .find(|&i| chars[i..].starts_with(&token))
            .map(|i| i as u32 + 1)
    };
    let from = reported.map_or(0, |c| c.saturating_sub(1) as usize);
    find_from(from).or_else(|| find_from(0))
}

fn run(loaded: &Loaded, input: RunInput) -> Result<Claims, ScriptError> {
    let budget = usize::try_from(input.max_output_bytes).unwrap_or(usize::MAX);
    let context = loaded.runtime.context();
    let promise = context.with(|cx| -> Result<_, ScriptError> {
        let driver = restore(&cx, &loaded.driver)?;
        let run: Function = driver.get("run").map_err(|e| internal(&cx, e))?;
        let kind = match input.kind {
            TokenKind::AccessToken => "AccessToken",
            TokenKind::ClientCredentials => "ClientCredentials",
        };
        let argument =
            json::parse_input(&cx, input.argument).map_err(|m| error(ErrorKind::Unsupported, m))?;
        let promise: Promise = run
            .call((kind, argument))
            .map_err(|e| thrown(&cx, e, ErrorKind::Script))?;
        Ok(Persistent::save(&cx, promise))
    })?;

    loop {
        if let Err(e) = loaded.runtime.resolve_pending_jobs() {
            return Err(error(ErrorKind::Script, e.to_string()));
        }
        let step = context.with(|cx| -> Result<Option<Claims>, ScriptError> {
            let promise = promise.clone().restore(&cx).map_err(|e| internal(&cx, e))?;
            match promise.result::<Object>() {
                Some(Ok(result)) => claims(&cx, loaded, &result, budget).map(Some),
                Some(Err(e)) => Err(thrown(&cx, e, ErrorKind::Script)),
                None => {
                    let driver = restore(&cx, &loaded.driver)?;
                    natives::wait_for_host(&cx, &driver)?;
                    Ok(None)
                }
            }
        })?;
        if let Some(claims) = step {
            return Ok(claims);
        }
    }
}

fn restore<'js>(
    cx: &Ctx<'js>,
    driver: &Persistent<Object<'static>>,
) -> Result<Object<'js>, ScriptError> {
    driver.clone().restore(cx).map_err(|e| internal(cx, e))
}

/// The run's `{ access, id, scopesAdded, scopesRemoved }` as WIT claims;
/// the two claim sets' JSON together within `budget` bytes
/// (`max_output_bytes`).
fn claims<'js>(
    cx: &Ctx<'js>,
    loaded: &Loaded,
    result: &Object<'js>,
    budget: usize,
) -> Result<Claims, ScriptError> {
    let get = |key: &str| -> Result<Value<'js>, ScriptError> {
        result.get(key).map_err(|e| internal(cx, e))
    };
    let access_token = claims_json(cx, loaded, get("access")?, budget, 0)?;
    let written = access_token.len();
    // A Logto script returns its access-token claims and has no API for
    // anything else.
    if loaded.style == Style::Logto {
        return Ok(Claims {
            access_token,
            id_token: None,
            scopes_added: Vec::new(),
            scopes_removed: Vec::new(),
        });
    }
    let id = get("id")?;
    let strings = |key: &str| -> Result<Vec<String>, ScriptError> {
        let texts: Vec<javy::quickjs::String> = get(key)?.get().map_err(|e| internal(cx, e))?;
        texts
            .iter()
            .map(|t| natives::usv_string(t).map_err(|e| internal(cx, e)))
            .collect()
    };
    Ok(Claims {
        access_token,
        id_token: if id.is_undefined() {
            None
        } else {
            Some(claims_json(cx, loaded, id, budget, written)?)
        },
        scopes_added: strings("scopesAdded")?,
        scopes_removed: strings("scopesRemoved")?,
    })
}

/// Claims' JSON: the runtime's writer, or the `JSON.stringify` captured at
/// load when it declines. `written` bytes of the budget are already used.
fn claims_json<'js>(
    cx: &Ctx<'js>,
    loaded: &Loaded,
    claims: Value<'js>,
    budget: usize,
    written: usize,
) -> Result<String, ScriptError> {
    let left = budget.saturating_sub(written);
    let declined = match output::to_json(cx, &claims, left) {
        Ok(json) => return Ok(json),
        Err(output::Declined::Fallback) => None,
        Err(declined) => Some(declined),
    };
    let declined = match declined {
        Some(declined) => declined,
        None => {
            let driver = restore(cx, &loaded.driver)?;
            let stringify: Function = driver.get("stringify").map_err(|e| internal(cx, e))?;
            let json: String = stringify
                .call((claims,))
                .map_err(|e| thrown(cx, e, ErrorKind::Script))?;
            match output::finish(json, left) {
                Ok(json) => return Ok(json),
                Err(declined) => declined,
            }
        }
    };
    Err(match declined {
        output::Declined::Threw => thrown(cx, JsError::Exception, ErrorKind::Script),
        output::Declined::TooLarge => error(
            ErrorKind::OutputTooLarge,
            format!(
                "the returned claims are over {budget} bytes of JSON; max_output_bytes is {budget}"
            ),
        ),
        output::Declined::TooDeep => error(
            ErrorKind::InvalidOutput,
            format!(
                "the returned claims nest objects and arrays more than {} levels deep \
                 (the limit)",
                output::MAX_DEPTH
            ),
        ),
        output::Declined::Fallback => error(
            ErrorKind::InvalidOutput,
            "the returned claims could not be written as JSON",
        ),
    })
}

/// An error raised while evaluating the script at load time.
fn compile_error(cx: &Ctx<'_>, e: JsError) -> ScriptError {
    let mut err = thrown(cx, e, ErrorKind::Script);
    if err.message.starts_with("SyntaxError") || err.kind == ErrorKind::Syntax {
        err.kind = ErrorKind::Syntax;
    }
    err
}

/// An internal failure (not the script's fault).
fn internal(cx: &Ctx<'_>, e: JsError) -> ScriptError {
    let mut err = thrown(cx, e, ErrorKind::Unsupported);
    err.message = format!("runtime error: {}", err.message);
    err
}

/// Turn a thrown JS value into a `ScriptError`.
fn thrown(cx: &Ctx<'_>, e: JsError, default: ErrorKind) -> ScriptError {
    let value = match e {
        JsError::Exception => cx.catch(),
        other => return error(default, other.to_string()),
    };
    describe_thrown(cx, value, default)
}

fn describe_thrown<'js>(cx: &Ctx<'js>, value: Value<'js>, default: ErrorKind) -> ScriptError {
    let Some(object) = value.as_object() else {
        let text = javy::val_to_string(cx, value).unwrap_or_else(|_| "exception".into());
        return error(default, format!("Uncaught {text}"));
    };
    let get = |key: &str| -> Option<String> {
        let v: Value = object.get(key).ok()?;
        if v.is_undefined() || v.is_null() {
            return None;
        }
        javy::val_to_string(cx, v).ok()
    };
    let name = get("name").unwrap_or_else(|| "Error".into());
    let message = get("message").unwrap_or_default();
    let stack = get("stack").filter(|s| !s.trim().is_empty());
    // Errors the runtime raises on purpose carry their kind.
    let raised = match raised_kind(cx, &value).as_deref() {
        Some("invalid_output") => Some(ErrorKind::InvalidOutput),
        Some("missing_function") => Some(ErrorKind::MissingFunction),
        Some("unsupported") => Some(ErrorKind::Unsupported),
        _ => None,
    };
    let kind = raised.unwrap_or(default);
    // The runtime's own errors: their stack is the prelude's, not the script's
    // (an unsupported API's stack does point into the script: keep it).
    let stack = match raised {
        Some(ErrorKind::Unsupported) | None => stack,
        Some(_) => None,
    };
    let (line, column) = stack
        .as_deref()
        .map(position_in_script)
        .unwrap_or((None, None));
    let message = if raised.is_some() || message.is_empty() && name == "Error" {
        message
    } else {
        format!("{name}: {message}")
    };
    ScriptError {
        kind,
        message,
        stack,
        line,
        column,
    }
}

/// The kind the prelude gave an error it raised, if `value` is one.
fn raised_kind<'js>(cx: &Ctx<'js>, value: &Value<'js>) -> Option<String> {
    let error_kind = ERROR_KIND.with(|k| k.borrow().clone())?;
    let error_kind = error_kind.restore(cx).ok()?;
    error_kind
        .call::<_, Option<String>>((value.clone(),))
        .ok()
        .flatten()
}

/// The first `script.js:LINE:COLUMN` in a QuickJS stack trace.
fn position_in_script(stack: &str) -> (Option<u32>, Option<u32>) {
    let marker = format!("{SCRIPT_NAME}:");
    for (at, _) in stack.match_indices(&marker) {
        let rest = &stack[at + marker.len()..];
        let mut parts = rest.split(|c: char| !c.is_ascii_digit());
        let line = parts.next().and_then(|s| s.parse().ok());
        let column = parts.next().and_then(|s| s.parse().ok());
        if line.is_some() {
            return (line, column);
        }
    }
    (None, None)
}
