//! The Rust functions the prelude builds on, and the bridge to host imports.

use javy::quickjs::{
    ArrayBuffer, Ctx, Error as JsError, Exception, Function, Object, Result as JsResult, Value,
};

use crate::claimscript::script::types::{ErrorKind, ScriptError};
use crate::claimscript::script::{host, http};

/// Build the object of natives handed to the prelude.
pub(crate) fn register<'js>(cx: &Ctx<'js>) -> JsResult<Object<'js>> {
    let natives = Object::new(cx.clone())?;
    natives.set("log", Function::new(cx.clone(), log)?)?;
    natives.set("deny", Function::new(cx.clone(), deny)?)?;
    natives.set("envGet", Function::new(cx.clone(), env_get)?)?;
    natives.set("envNames", Function::new(cx.clone(), env_names)?)?;
    natives.set("fetchStart", Function::new(cx.clone(), fetch_start)?)?;
    natives.set("utf8Encode", Function::new(cx.clone(), utf8_encode)?)?;
    natives.set("utf8Decode", Function::new(cx.clone(), utf8_decode)?)?;
    Ok(natives)
}

/// Seed `Math.random` from the host's CSPRNG, so that runs of one snapshot do
/// not share a sequence.
pub(crate) fn reseed_random() {
    let mut seed = [0u8; 8];
    if getrandom::fill(&mut seed).is_ok() {
        fastrand::seed(u64::from_le_bytes(seed));
    }
}

fn refuse_at_load<'js>(cx: &Ctx<'js>, what: &str) -> JsResult<()> {
    if crate::loading() {
        return Err(throw_type_error(
            cx,
            &format!(
                "{what} is not available in top-level code; call it inside the claims function"
            ),
        ));
    }
    Ok(())
}

fn throw_type_error(cx: &Ctx<'_>, message: &str) -> JsError {
    match Exception::from_message(cx.clone(), message) {
        Ok(e) => {
            // Make it a TypeError so scripts can tell it from their own errors.
            let _ = e.set("name", "TypeError");
            cx.throw(Value::from_exception(e))
        }
        Err(e) => e,
    }
}

fn log(level: u8, message: String) {
    if crate::loading() {
        // Top-level console output happens once, at compile time; it is not
        // part of any run.
        return;
    }
    let level = match level {
        0 => host::LogLevel::Debug,
        1 => host::LogLevel::Info,
        3 => host::LogLevel::Warn,
        4 => host::LogLevel::Error,
        _ => host::LogLevel::Log,
    };
    host::log(level, &message);
}

fn deny<'js>(
    cx: Ctx<'js>,
    message: String,
    code: Option<String>,
    title: Option<String>,
) -> JsResult<()> {
    refuse_at_load(&cx, "api.denyAccess")?;
    host::deny(&message, code.as_deref(), title.as_deref());
    Ok(())
}

fn env_get<'js>(cx: Ctx<'js>, name: String) -> JsResult<Option<String>> {
    refuse_at_load(&cx, "environmentVariables")?;
    Ok(host::env_get(&name))
}

fn env_names<'js>(cx: Ctx<'js>) -> JsResult<Vec<String>> {
    refuse_at_load(&cx, "environmentVariables")?;
    Ok(host::env_names())
}

fn fetch_start<'js>(
    cx: Ctx<'js>,
    method: String,
    url: String,
    headers: Vec<Vec<String>>,
    body: Option<ArrayBuffer<'js>>,
) -> JsResult<u32> {
    refuse_at_load(&cx, "fetch")?;
    let headers = headers
        .into_iter()
        .filter_map(|pair| match <[String; 2]>::try_from(pair) {
            Ok([name, value]) => Some((name, value)),
            Err(_) => None,
        })
        .collect();
    let body = body.and_then(|b| b.as_bytes().map(<[u8]>::to_vec));
    Ok(http::start(&http::Request {
        method,
        url,
        headers,
        body,
    }))
}

fn utf8_encode<'js>(cx: Ctx<'js>, text: String) -> JsResult<ArrayBuffer<'js>> {
    ArrayBuffer::new(cx, text.into_bytes())
}

fn utf8_decode(bytes: ArrayBuffer<'_>) -> String {
    String::from_utf8_lossy(bytes.as_bytes().unwrap_or_default()).into_owned()
}

/// The script's promise is pending. If host requests are in flight, wait for
/// one and deliver it; otherwise nothing can ever settle the promise.
pub(crate) fn wait_for_host<'js>(cx: &Ctx<'js>, driver: &Object<'js>) -> Result<(), ScriptError> {
    let internal = |e: JsError| ScriptError {
        kind: ErrorKind::Unsupported,
        message: format!("runtime error: {e}"),
        stack: None,
        line: None,
        column: None,
    };
    let handles: Function = driver.get("pendingHandles").map_err(internal)?;
    let handles: Vec<u32> = handles.call(()).map_err(internal)?;
    if handles.is_empty() {
        return Err(ScriptError {
            kind: ErrorKind::Pending,
            message: "the claims function's promise can never settle: nothing it awaits is still \
                      in progress"
                .into(),
            stack: None,
            line: None,
            column: None,
        });
    }
    let Some((handle, result)) = http::wait(&handles, None) else {
        return Err(internal(JsError::Unknown));
    };
    let deliver: Function = driver.get("deliver").map_err(internal)?;
    match result {
        Ok(response) => {
            let payload = Object::new(cx.clone()).map_err(internal)?;
            let headers: Vec<Vec<String>> = response
                .headers
                .into_iter()
                .map(|(k, v)| vec![k, v])
                .collect();
            let body = ArrayBuffer::new(cx.clone(), response.body).map_err(internal)?;
            payload.set("status", response.status).map_err(internal)?;
            payload
                .set("statusText", response.status_text)
                .map_err(internal)?;
            payload.set("url", response.url).map_err(internal)?;
            payload
                .set("redirected", response.redirected)
                .map_err(internal)?;
            payload.set("headers", headers).map_err(internal)?;
            payload.set("body", body).map_err(internal)?;
            deliver
                .call::<_, ()>((handle, true, payload))
                .map_err(internal)?;
        }
        Err(message) => {
            deliver
                .call::<_, ()>((handle, false, message))
                .map_err(internal)?;
        }
    }
    Ok(())
}

// The C and Rust standard libraries call WASI preview 1's `random_get` and
// `clock_time_get`. `claimscript-runtime-build` replaces those imports with
// calls to the two functions below (and removes their exports), so the
// runtime component imports nothing outside the script world.

/// `random_get(buf, len) -> errno`, served by `host::random-bytes`.
///
/// # Safety
/// `buf` must be valid for `len` bytes of writes, as WASI requires.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn claimscript_random_get(buf: *mut u8, len: usize) -> i32 {
    let bytes = host::random_bytes(len as u32);
    // SAFETY: the caller passes a writable buffer of `len` bytes.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len().min(len)) };
    0
}

/// `clock_time_get(id, precision, *out) -> errno`, served by the host clocks.
///
/// # Safety
/// `out` must be valid for an 8-byte write, as WASI requires.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn claimscript_clock_time_get(
    id: u32,
    _precision: u64,
    out: *mut u64,
) -> i32 {
    // WASI clock ids: 0 realtime, 1 monotonic, 2/3 process/thread CPU time.
    let now = if id == 0 {
        host::wall_clock_ns()
    } else {
        host::monotonic_ns()
    };
    // SAFETY: the caller passes a writable u64.
    unsafe { out.write(now) };
    0
}
