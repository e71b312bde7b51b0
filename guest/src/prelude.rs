//! The prelude: the JavaScript files that give scripts their globals, style
//! adapters and the run driver, evaluated once per script at load time.
//!
//! Every byte the prelude leaves in memory is in every instance's memory
//! image, and a run maps most of its image (see `BENCHMARKS.md`), so the
//! prelude is loaded lean:
//!
//! - the files are compiled in a throwaway QuickJS runtime whose memory is
//!   the allocator's scratch region (see `alloc.rs`), written as bytecode
//!   and read back into the script's runtime: the parser's garbage stays in
//!   the scratch region, which is zeroed when loading ends;
//! - the bytecode keeps no source text. QuickJS stores a copy of each
//!   function's source for `Function.prototype.toString`, nested functions
//!   included, about twice the files' size in all. Line numbers stay for
//!   stack traces, and `toString` shows `[native code]`, as for any
//!   built-in;
//! - the files' text is zeroed once compiled, and its memory given to the
//!   allocator (see [`SOURCES`]).

use core::ptr::{addr_of, addr_of_mut};

use javy::quickjs::context::intrinsic;
use javy::quickjs::{
    Context, Ctx, Error as JsError, Exception, FromJs, Function, Object, Runtime, Value, qjs,
};

#[cfg(target_arch = "wasm32")]
use crate::alloc;

/// Which allocator zone a prelude file's objects go to (see `alloc.rs`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Zone {
    /// Used by every run: QuickJS's intrinsics, the core and the styles.
    Hot,
    /// Used by some runs only: the web platform globals.
    Cold,
}

/// The prelude, in evaluation order: each file is a function of
/// `(native, shared)` (see `prelude/core.js`), with its allocator zone.
/// Only constants read the text here (see [`files`]), so it is not in the
/// binary twice.
const FILES: [(&str, &[u8], Zone); 5] = [
    (
        "claimscript:core",
        include_bytes!("prelude/core.js"),
        Zone::Hot,
    ),
    (
        "claimscript:styles",
        include_bytes!("prelude/styles.js"),
        Zone::Hot,
    ),
    (
        "claimscript:web",
        include_bytes!("prelude/web.js"),
        Zone::Cold,
    ),
    (
        "claimscript:fetch",
        include_bytes!("prelude/fetch.js"),
        Zone::Cold,
    ),
    (
        "claimscript:axios",
        include_bytes!("prelude/axios.js"),
        Zone::Cold,
    ),
];

/// The files' total length.
const TEXT_LEN: usize = {
    let (mut total, mut i) = (0, 0);
    while i < FILES.len() {
        total += FILES[i].1.len();
        i += 1;
    }
    total
};

/// The files' text, one after another, in writable memory: once compiled it
/// is zeroed and given to the allocator (see `alloc::give_to_zones`).
static mut SOURCES: [u8; TEXT_LEN] = {
    let mut text = [0; TEXT_LEN];
    let (mut at, mut i) = (0, 0);
    while i < FILES.len() {
        let file = FILES[i].1;
        text.split_at_mut(at)
            .1
            .split_at_mut(file.len())
            .0
            .copy_from_slice(file);
        at += file.len();
        i += 1;
    }
    text
};

/// Each file's name, its text's place in [`SOURCES`] and its zone.
fn files() -> impl Iterator<Item = (&'static str, core::ops::Range<usize>, Zone)> {
    /// `FILES` without the text, which is only for building `SOURCES`.
    const PLACES: [(&str, usize, Zone); FILES.len()] = {
        let mut places = [("", 0, Zone::Hot); FILES.len()];
        let mut i = 0;
        while i < FILES.len() {
            places[i] = (FILES[i].0, FILES[i].1.len(), FILES[i].2);
            i += 1;
        }
        places
    };
    let mut at = 0;
    PLACES.iter().map(move |&(name, length, zone)| {
        at += length;
        (name, at - length..at, zone)
    })
}

/// Evaluate the prelude files, calling each with `(natives, shared)`, and
/// return `shared.driver`.
pub(crate) fn evaluate<'js>(cx: &Ctx<'js>, natives: Object<'js>) -> Result<Object<'js>, JsError> {
    let compiled = compile_in_scratch().map_err(|message| {
        Exception::throw_internal(cx, &format!("cannot compile the prelude: {message}"))
    })?;
    let shared = Object::new(cx.clone())?;
    let mut forgotten = false;
    for ((_, _, zone), bytecode) in files().zip(&compiled) {
        // The first zone to grow after this takes the text's memory whole:
        // the cold zone, whose files fill it.
        if zone == Zone::Cold && !forgotten {
            forget_sources();
            forgotten = true;
        }
        #[cfg(target_arch = "wasm32")]
        alloc::use_cold_zone(zone == Zone::Cold);
        let file: Function = evaluate_bytecode(cx, bytecode)?;
        file.call::<_, ()>((natives.clone(), shared.clone()))?;
    }
    if !forgotten {
        forget_sources();
    }
    #[cfg(target_arch = "wasm32")]
    alloc::use_cold_zone(false);
    shared.get("driver")
}

/// Zero the prelude files' text, which nothing reads once compiled, and
/// give its memory to the allocator.
fn forget_sources() {
    // SAFETY: no reference to `SOURCES` outlives `compile_in_scratch`, and
    // the runtime is single-threaded.
    let text = unsafe { &mut *addr_of_mut!(SOURCES) };
    text.fill(0);
    #[cfg(target_arch = "wasm32")]
    {
        let range = text.as_mut_ptr_range();
        // SAFETY: nothing uses the text any more.
        unsafe { alloc::give_to_zones(range.start as usize, range.end as usize) };
    }
}

/// Compile every prelude file to bytecode without source text, in a
/// throwaway runtime that allocates in the scratch region. The runtime is
/// never freed: its memory is zeroed with the region.
fn compile_in_scratch() -> Result<Vec<Vec<u8>>, String> {
    #[cfg(target_arch = "wasm32")]
    alloc::use_scratch(true);
    let compiled = (|| {
        let runtime = Runtime::new().map_err(|e| e.to_string())?;
        let context = Context::custom::<(intrinsic::Eval, intrinsic::RegExpCompiler)>(&runtime)
            .map_err(|e| e.to_string())?;
        let compiled = context.with(|cx| {
            files()
                .map(|(name, range, _)| {
                    // SAFETY: `SOURCES` is only written by `forget_sources`,
                    // after this returns.
                    let text: &[u8; TEXT_LEN] = unsafe { &*addr_of!(SOURCES) };
                    let source = &text[range];
                    compile(&cx, name, source).map_err(|e| match e {
                        JsError::Exception => format!("{name}: {:?}", cx.catch()),
                        other => format!("{name}: {other}"),
                    })
                })
                .collect()
        });
        core::mem::forget(context);
        core::mem::forget(runtime);
        compiled
    })();
    #[cfg(target_arch = "wasm32")]
    alloc::use_scratch(false);
    compiled
}

/// `source` compiled as a global script named `name`, as bytecode with line
/// numbers and without source text.
fn compile(cx: &Ctx<'_>, name: &str, source: &[u8]) -> Result<Vec<u8>, JsError> {
    // QuickJS wants both strings NUL-terminated.
    let mut text = Vec::with_capacity(source.len() + 1);
    text.extend_from_slice(source);
    text.push(0);
    let name = std::ffi::CString::new(name)?;
    let raw = cx.as_raw().as_ptr();
    // SAFETY: `raw` is the live context of `cx`; both strings are
    // NUL-terminated and outlive the calls; the compiled function is freed
    // once written, and the bytecode buffer once copied.
    unsafe {
        let compiled = qjs::JS_Eval(
            raw,
            text.as_ptr().cast(),
            source.len() as _,
            name.as_ptr(),
            (qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32,
        );
        if qjs::JS_IsException(compiled) {
            return Err(JsError::Exception);
        }
        let mut length = 0;
        let buffer = qjs::JS_WriteObject(
            raw,
            &mut length,
            compiled,
            (qjs::JS_WRITE_OBJ_BYTECODE | qjs::JS_WRITE_OBJ_STRIP_SOURCE) as i32,
        );
        qjs::JS_FreeValue(raw, compiled);
        if buffer.is_null() {
            return Err(JsError::Exception);
        }
        let bytecode = core::slice::from_raw_parts(buffer, length as usize).to_vec();
        qjs::js_free(raw, buffer.cast());
        Ok(bytecode)
    }
}

/// Read `bytecode` (from [`compile`]) into `cx`'s runtime and evaluate it.
fn evaluate_bytecode<'js, T: FromJs<'js>>(cx: &Ctx<'js>, bytecode: &[u8]) -> Result<T, JsError> {
    let raw = cx.as_raw().as_ptr();
    // SAFETY: `raw` is the live context of `cx`, and `bytecode` was written
    // by `compile`, by this same QuickJS; `JS_EvalFunction` takes ownership
    // of the function it is given.
    let value = unsafe {
        let function = qjs::JS_ReadObject(
            raw,
            bytecode.as_ptr(),
            bytecode.len() as _,
            qjs::JS_READ_OBJ_BYTECODE as i32,
        );
        if qjs::JS_IsException(function) {
            return Err(JsError::Exception);
        }
        let result = qjs::JS_EvalFunction(raw, function);
        if qjs::JS_IsException(result) {
            return Err(JsError::Exception);
        }
        Value::from_raw(cx.clone(), result)
    };
    T::from_js(cx, value)
}
