//! The Claimscript guest runtime: QuickJS (through `javy`) behind the
//! `claimscript:script/claims-script` world.
//!
//! The host pre-initialises one copy of this component per script: it calls
//! `loader.load(source)` (which evaluates the prelude and the script and finds
//! the entry function), snapshots the instance with Wizer, and from then on
//! only calls `script.run` on fresh instances of the snapshot.

mod alloc;
mod json;
mod natives;
mod output;
mod snapshot;

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
/// The function a Logto-style script must define.
const ENTRY: &str = "getCustomJwtClaims";
const PRELUDE: &str = include_str!("prelude.js");

struct Loaded {
    runtime: javy::Runtime,
    driver: Persistent<Object<'static>>,
}

thread_local! {
    static LOADED: RefCell<Option<Loaded>> = const { RefCell::new(None) };
    /// True while `load` runs: host calls are refused then, since the
    /// snapshot must not depend on a run's input.
    static LOADING: Cell<bool> = const { Cell::new(false) };
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
        LOADING.with(|l| l.set(true));
        let result = load(&source);
        LOADING.with(|l| l.set(false));
        let loaded = result?;
        LOADED.with(|l| *l.borrow_mut() = Some(loaded));
        alloc::reserve_arena();
        Ok(ScriptInfo {
            style: style.unwrap_or(Style::Logto),
            entries: vec![ENTRY.to_string()],
            packages: Vec::new(),
        })
    }
}

impl ScriptGuest for Runtime {
    fn run(input: RunInput) -> Result<Claims, ScriptError> {
        alloc::begin_run();
        natives::reseed_random();
        LOADED.with(|loaded| {
            let loaded = loaded.borrow();
            let Some(loaded) = loaded.as_ref() else {
                return Err(error(ErrorKind::Unsupported, "no script has been loaded"));
            };
            run(loaded, input)
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

fn load(source: &str) -> Result<Loaded, ScriptError> {
    let runtime = javy::Runtime::new(runtime_config())
        .map_err(|e| error(ErrorKind::Unsupported, format!("cannot start QuickJS: {e}")))?;
    let driver = runtime.context().with(|cx| -> Result<_, ScriptError> {
        let natives = natives::register(&cx).map_err(|e| internal(&cx, e))?;
        let mut options = EvalOptions::default();
        options.global = true;
        options.filename = Some("claimscript:prelude".to_string());
        let prelude: Function = cx
            .eval_with_options(PRELUDE, options)
            .map_err(|e| internal(&cx, e))?;
        let driver: Object = prelude.call((natives,)).map_err(|e| internal(&cx, e))?;
        let warm: Function = driver.get("warmBuiltins").map_err(|e| internal(&cx, e))?;
        warm.call::<_, ()>(()).map_err(|e| internal(&cx, e))?;
        let entry = evaluate_script(&cx, source)?;
        let set_entry: Function = driver.get("setEntry").map_err(|e| internal(&cx, e))?;
        set_entry
            .call::<_, ()>((entry,))
            .map_err(|e| internal(&cx, e))?;
        Ok(Persistent::save(&cx, driver))
    })?;
    Ok(Loaded { runtime, driver })
}

/// Evaluate the script and return its entry function.
fn evaluate_script<'js>(cx: &Ctx<'js>, source: &str) -> Result<Function<'js>, ScriptError> {
    let entry: Value = if is_module(source) {
        let declared =
            Module::declare(cx.clone(), SCRIPT_NAME, source).map_err(|e| compile_error(cx, e))?;
        let (module, promise) = declared.eval().map_err(|e| compile_error(cx, e))?;
        promise.finish::<()>().map_err(|e| compile_error(cx, e))?;
        module
            .namespace()
            .and_then(|ns| ns.get(ENTRY))
            .map_err(|e| compile_error(cx, e))?
    } else {
        let mut options = EvalOptions::default();
        options.global = true;
        options.strict = false;
        options.filename = Some(SCRIPT_NAME.to_string());
        cx.eval_with_options::<(), _>(source, options)
            .map_err(|e| compile_error(cx, e))?;
        cx.eval(format!(
            "typeof {ENTRY} === 'undefined' ? undefined : {ENTRY}"
        ))
        .map_err(|e| compile_error(cx, e))?
    };
    match entry.into_function() {
        Some(f) => Ok(f),
        None => Err(error(
            ErrorKind::MissingFunction,
            format!(
                "the script does not define a function named `{ENTRY}` \
                 (declare it with const/let/var, as a function, or export it)"
            ),
        )),
    }
}

/// A script is a module when a line starts with `export` or a static `import`.
fn is_module(source: &str) -> bool {
    source.lines().map(str::trim_start).any(|line| {
        let starts = |kw: &str| {
            line.strip_prefix(kw)
                .is_some_and(|rest| rest.starts_with([' ', '\t', '{', '*']))
        };
        starts("export") || (starts("import") && !line.starts_with("import("))
    })
}

fn run(loaded: &Loaded, input: RunInput) -> Result<Claims, ScriptError> {
    let context = loaded.runtime.context();
    let promise = context.with(|cx| -> Result<_, ScriptError> {
        let driver = loaded
            .driver
            .clone()
            .restore(&cx)
            .map_err(|e| internal(&cx, e))?;
        let run: Function = driver.get("run").map_err(|e| internal(&cx, e))?;
        let kind = match input.kind {
            TokenKind::AccessToken => "AccessToken",
            TokenKind::ClientCredentials => "ClientCredentials",
        };
        let argument = json::parse(&cx, input.argument.as_bytes())
            .map_err(|m| error(ErrorKind::Unsupported, m))?;
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
            match promise.result::<Value>() {
                Some(Ok(result)) => Ok(Some(Claims {
                    access_token: claims_json(&cx, loaded, result)?,
                    id_token: None,
                    scopes_added: Vec::new(),
                    scopes_removed: Vec::new(),
                })),
                Some(Err(e)) => Err(thrown(&cx, e, ErrorKind::Script)),
                None => {
                    let driver = loaded
                        .driver
                        .clone()
                        .restore(&cx)
                        .map_err(|e| internal(&cx, e))?;
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

/// The result's JSON: the runtime's writer, or `JSON.stringify` when it
/// declines.
fn claims_json<'js>(
    cx: &Ctx<'js>,
    loaded: &Loaded,
    result: Value<'js>,
) -> Result<String, ScriptError> {
    if let Ok(json) = output::to_json(cx, &result) {
        return Ok(json);
    }
    let driver = loaded
        .driver
        .clone()
        .restore(cx)
        .map_err(|e| internal(cx, e))?;
    let stringify: Function = driver.get("stringify").map_err(|e| internal(cx, e))?;
    stringify
        .call((result,))
        .map_err(|e| thrown(cx, e, ErrorKind::Script))
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
    let kind = match get("claimscriptKind").as_deref() {
        Some("invalid_output") => ErrorKind::InvalidOutput,
        _ if name == "SyntaxError" && default == ErrorKind::Script => ErrorKind::Script,
        _ => default,
    };
    // The prelude raises `invalid_output`; its stack is not the script's.
    let stack = if kind == ErrorKind::InvalidOutput {
        None
    } else {
        stack
    };
    let (line, column) = stack
        .as_deref()
        .map(position_in_script)
        .unwrap_or((None, None));
    let message = if kind == ErrorKind::InvalidOutput || message.is_empty() && name == "Error" {
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
