//! The Rust functions the prelude builds on that reach the host: console,
//! denial, environment, fetch, and waiting for the host between jobs.

use javy::quickjs::{
    ArrayBuffer, Ctx, Error as JsError, Exception, Function, Object, Result as JsResult,
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
    natives.set("fetchCancel", Function::new(cx.clone(), fetch_cancel)?)?;
    natives.set("utf8Encode", Function::new(cx.clone(), utf8_encode)?)?;
    natives.set(
        "refuseAtLoad",
        Function::new(cx.clone(), refuse_at_load_js)?,
    )?;
    natives.set(
        "requireMessage",
        Function::new(cx.clone(), |name: String| crate::require_message(&name))?,
    )?;
    natives.set("auth0Unsupported", crate::AUTH0_UNSUPPORTED.to_vec())?;
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

pub(crate) fn refuse_at_load<'js>(cx: &Ctx<'js>, what: &str) -> JsResult<()> {
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

/// `native.refuseAtLoad(what)`: for the prelude's APIs that only make sense
/// in a run (timers), which would otherwise live on in the snapshot.
fn refuse_at_load_js<'js>(cx: Ctx<'js>, what: String) -> JsResult<()> {
    refuse_at_load(&cx, &what)
}

/// Throw a `TypeError` (an instance of the global class, as a script
/// expects) with `message`.
pub(crate) fn throw_type_error(cx: &Ctx<'_>, message: &str) -> JsError {
    Exception::throw_type(cx, message)
}

/// A JS string as UTF-8 with each lone surrogate replaced by U+FFFD, as
/// WebIDL's USVString conversion does. QuickJS writes a lone surrogate as
/// its three-byte (WTF-8) form, which a Rust `String` cannot hold, so a
/// native taking `String` would throw on one.
pub(crate) fn usv_string(text: &javy::quickjs::String<'_>) -> JsResult<String> {
    if let Some(bytes) = crate::strings::ascii(text) {
        return Ok(crate::strings::utf8(bytes).unwrap_or_default().to_owned());
    }
    let c_string = text.clone().to_cstring()?;
    // SAFETY: QuickJS's C string holds `len` bytes and lives as long as
    // `c_string`.
    let bytes =
        unsafe { std::slice::from_raw_parts(c_string.as_ptr().cast::<u8>(), c_string.len()) };
    // Almost always valid UTF-8 already (no lone surrogate): one check and
    // one copy, not a look at each byte.
    if let Some(text) = crate::strings::utf8(bytes) {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(bytes.len());
    let (mut at, mut start) = (0, 0);
    while at < bytes.len() {
        // 0xED 0xA0..=0xBF starts an encoded surrogate, and nothing else.
        if bytes[at] == 0xED && bytes.get(at + 1).is_some_and(|b| (0xA0..=0xBF).contains(b)) {
            out.push_str(&String::from_utf8_lossy(&bytes[start..at]));
            out.push('\u{FFFD}');
            at = (at + 3).min(bytes.len());
            start = at;
        } else {
            at += 1;
        }
    }
    out.push_str(&String::from_utf8_lossy(&bytes[start..]));
    Ok(out)
}

fn log(level: u8, message: javy::quickjs::String<'_>) -> JsResult<()> {
    let message = usv_string(&message)?;
    if crate::loading() {
        // Top-level console output happens once, at compile time; it is not
        // part of any run.
        return Ok(());
    }
    let level = match level {
        0 => host::LogLevel::Debug,
        1 => host::LogLevel::Info,
        3 => host::LogLevel::Warn,
        4 => host::LogLevel::Error,
        _ => host::LogLevel::Log,
    };
    host::log(level, &message);
    Ok(())
}

fn deny<'js>(
    cx: Ctx<'js>,
    message: javy::quickjs::String<'js>,
    code: Option<javy::quickjs::String<'js>>,
    title: Option<javy::quickjs::String<'js>>,
) -> JsResult<()> {
    refuse_at_load(&cx, "api.denyAccess")?;
    let code = code.as_ref().map(usv_string).transpose()?;
    let title = title.as_ref().map(usv_string).transpose()?;
    host::deny(&usv_string(&message)?, code.as_deref(), title.as_deref());
    Ok(())
}

fn env_get<'js>(cx: Ctx<'js>, name: javy::quickjs::String<'js>) -> JsResult<Option<String>> {
    refuse_at_load(&cx, "environmentVariables")?;
    Ok(host::env_get(&usv_string(&name)?))
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

/// UTF-8 of a JS string; lone surrogates become U+FFFD, as the WHATWG
/// encoder does.
fn utf8_encode<'js>(cx: Ctx<'js>, text: javy::quickjs::String<'js>) -> JsResult<ArrayBuffer<'js>> {
    // ASCII is its own UTF-8: one copy from the string's buffer.
    // SAFETY: `text` is a live string of `cx`.
    let copied = unsafe {
        crate::strings::with_latin1(cx.as_raw().as_ptr(), text.as_raw(), |bytes| {
            crate::strings::is_ascii(bytes).then(|| ArrayBuffer::new_copy(cx.clone(), bytes))
        })
    };
    if let Some(Some(buffer)) = copied {
        return buffer;
    }
    let text = usv_string(&text)?;
    ArrayBuffer::new(cx, text.into_bytes())
}

fn fetch_cancel(handle: u32) {
    http::cancel(handle);
}

/// The script's promise is pending and no job is left. Wait in the host for
/// the first request to finish or the next timer to be due, and deliver
/// it; with neither in prospect, nothing can ever settle the promise.
pub(crate) fn wait_for_host<'js>(cx: &Ctx<'js>, driver: &Object<'js>) -> Result<(), ScriptError> {
    let internal = |e: JsError| ScriptError {
        kind: ErrorKind::Unsupported,
        message: format!("runtime error: {e}"),
        stack: None,
        line: None,
        column: None,
    };
    let call =
        |name: &str| -> Result<Function<'js>, ScriptError> { driver.get(name).map_err(internal) };
    let handles: Vec<u32> = call("fetchHandles")?.call(()).map_err(internal)?;
    let delay: Option<f64> = call("nextTimerDelay")?.call(()).map_err(internal)?;
    if handles.is_empty() && delay.is_none() {
        return Err(ScriptError {
            kind: ErrorKind::Pending,
            message:
                "the script's promise can never settle: nothing it awaits is still in progress"
                    .into(),
            stack: None,
            line: None,
            column: None,
        });
    }
    let timeout_ns = delay.map(|ms| (ms.max(0.0) * 1e6) as u64);
    let finished = if handles.is_empty() && timeout_ns == Some(0) {
        None // a timer is already due
    } else {
        http::wait(&handles, timeout_ns)
    };
    let Some((handle, result)) = finished else {
        return call("fireTimers")?.call::<_, ()>(()).map_err(internal);
    };
    match result {
        Ok(response) => {
            let headers: Vec<Vec<String>> = response
                .headers
                .into_iter()
                // The prelude adopts this list as the response's headers
                // (`fetchedResponse` in fetch.js): names lower-cased.
                .map(|(k, v)| vec![k.to_ascii_lowercase(), v])
                .collect();
            let body = ArrayBuffer::new(cx.clone(), response.body).map_err(internal)?;
            // In parts, not as an object: nothing to build or take apart.
            call("deliver")?
                .call::<_, ()>((
                    handle,
                    response.status,
                    response.status_text,
                    response.url,
                    response.redirected,
                    headers,
                    body,
                ))
                .map_err(internal)?;
        }
        Err(message) => {
            call("fail")?
                .call::<_, ()>((handle, message))
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
    if crate::loading() {
        // While loading, randomness would only make the snapshot differ
        // from one compile of the same script to the next: whatever seeds
        // it feeds (Math.random's) are reseeded on every run.
        // SAFETY: the caller passes a writable buffer of `len` bytes.
        unsafe { std::ptr::write_bytes(buf, 0, len) };
        return 0;
    }
    // The host serves at most 64 KiB a call.
    const PIECE: usize = 65_536;
    let mut filled = 0;
    while filled < len {
        let want = (len - filled).min(PIECE);
        let bytes = host::random_bytes(want as u32);
        if bytes.len() != want {
            return 29; // WASI errno `io`: never report a partial fill as success
        }
        // SAFETY: the caller passes a writable buffer of `len` bytes, and
        // `filled + want <= len`.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.add(filled), want) };
        filled += want;
    }
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
    // While loading the clocks stand at 0, for the same reason as above: no
    // run sees that time, and the snapshot stays the same for the same
    // script.
    let now = if crate::loading() {
        0
    } else if id == 0 {
        host::wall_clock_ns()
    } else {
        host::monotonic_ns()
    };
    // SAFETY: the caller passes a writable u64.
    unsafe { out.write(now) };
    0
}
