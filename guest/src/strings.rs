//! Direct reads of QuickJS's 8-bit strings.
//!
//! QuickJS's C API gives a string's characters only as a UTF-8 copy
//! (`JS_ToCStringLen2`), made a character at a time: about ten fuel a byte,
//! which for a large claim or a large request body is most of the cost of
//! writing it. Most strings are 8-bit (Latin-1) strings, stored as their
//! bytes after a `JSString` header; a slice of a long string points into its
//! parent's bytes. This module reads those bytes in place.
//!
//! It depends on QuickJS's private layout, so it checks that layout before
//! trusting it: [`probe`] (at load) makes strings through the public API,
//! finds where their bytes start and compares what a read in place gives
//! with `JS_ToCStringLen2`'s copy. Until the probe succeeded, or when it
//! failed (another QuickJS), [`latin1`] returns `None` and callers take the
//! public API's path, with the same results.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use javy::quickjs::{Ctx, Value, qjs};

/// Bytes from the start of a `JSString` to its characters; 0 when unknown.
static HEADER: AtomicUsize = AtomicUsize::new(0);
/// Which string kinds may be read in place: bit 0 normal, bit 1 slice.
static KINDS: AtomicU8 = AtomicU8::new(0);

const NORMAL: u32 = 0;
const SLICE: u32 = 1;

/// The characters of `value` when it is an 8-bit (Latin-1) string that can
/// be read in place, each byte one character (U+0000 to U+00FF).
///
/// # Safety
/// `value` must be a live value of a context; the slice lives as long as
/// the value is not freed.
pub(crate) unsafe fn latin1<'a>(value: qjs::JSValue) -> Option<&'a [u8]> {
    let header = HEADER.load(Ordering::Relaxed);
    let kinds = KINDS.load(Ordering::Relaxed);
    // SAFETY: inspecting a tag.
    if header == 0 || unsafe { qjs::JS_VALUE_GET_NORM_TAG(value) } != qjs::JS_TAG_STRING {
        return None;
    }
    // SAFETY: a string value points at its `JSString`; the probe checked
    // the fields read here.
    unsafe {
        let string = qjs::JS_VALUE_GET_PTR(value).cast::<u8>().cast_const();
        let (len, wide, kind) = fields(string);
        if wide {
            return None;
        }
        let start = match kind {
            NORMAL if kinds & 1 != 0 => string.add(header),
            SLICE if kinds & 2 != 0 => {
                let slice = string.add(header);
                let parent = slice.cast::<*const u8>().read_unaligned();
                let offset = slice
                    .add(size_of::<*const u8>())
                    .cast::<u32>()
                    .read_unaligned();
                let (_, parent_wide, parent_kind) = fields(parent);
                if parent_wide || parent_kind != NORMAL {
                    return None;
                }
                parent.add(header + offset as usize)
            }
            _ => return None,
        };
        Some(std::slice::from_raw_parts(start, len))
    }
}

/// `(len, is_wide_char, kind)` of the `JSString` at `string`.
unsafe fn fields(string: *const u8) -> (usize, bool, u32) {
    // SAFETY: the caller passes a `JSString`: after the 32-bit reference
    // count, `len:31, is_wide_char:1`, then `hash:28, kind:2, atom_type:2`.
    unsafe {
        let word = string.add(4).cast::<u32>().read_unaligned();
        let flags = string.add(8).cast::<u32>().read_unaligned();
        (
            (word & 0x7fff_ffff) as usize,
            word >> 31 != 0,
            (flags >> 28) & 3,
        )
    }
}

/// The characters of `text` when it is an ASCII string that can be read in
/// place: then they are also its UTF-8.
pub(crate) fn ascii<'a>(text: &'a javy::quickjs::String<'_>) -> Option<&'a [u8]> {
    // SAFETY: `text` is alive for `'a`.
    let bytes = unsafe { latin1(text.as_raw())? };
    is_ascii(bytes).then_some(bytes)
}

/// Whether every byte is below 0x80, eight at a time.
pub(crate) fn is_ascii(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    let mut any = 0u64;
    for word in &mut words {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        any |= u64::from_le_bytes(eight);
    }
    for &b in words.remainder() {
        any |= u64::from(b);
    }
    any & 0x8080_8080_8080_8080 == 0
}

/// Find and check the layout (see the module's comment). Called once at
/// load; the result is part of the snapshot.
pub(crate) fn probe(cx: &Ctx<'_>) {
    const TEXT: &[u8] = b"claimscript: where do a string's bytes start? \xc3\xa9";
    let raw = cx.as_raw().as_ptr();
    // SAFETY: values made here are freed here; reads stay within the
    // string's allocation (its header and characters) as checked first.
    unsafe {
        let value = qjs::JS_NewStringLen(raw, TEXT.as_ptr().cast(), TEXT.len() as _);
        if qjs::JS_IsException(value) {
            return;
        }
        let expected = copy(raw, value);
        let string = qjs::JS_VALUE_GET_PTR(value).cast::<u8>().cast_const();
        let (len, wide, kind) = fields(string);
        let mut found = 0;
        if !wide && kind == NORMAL && Some(len) == expected.as_ref().map(|e| e.len() - 1) {
            // The characters are Latin-1: "é" is one byte, 0xE9.
            let mut latin: Vec<u8> = TEXT[..TEXT.len() - 2].to_vec();
            latin.push(0xe9);
            for offset in (12..=64).step_by(4) {
                if std::slice::from_raw_parts(string.add(offset), len) == latin.as_slice() {
                    found = offset;
                    break;
                }
            }
        }
        qjs::JS_FreeValue(raw, value);
        if found == 0 {
            return;
        }
        HEADER.store(found, Ordering::Relaxed);
        KINDS.store(1, Ordering::Relaxed);
        // A slice: longer than QuickJS copies (1,024 bytes), of a normal
        // string. Read in place, it must give what the public API gives.
        let slice: Option<Value<'_>> = cx
            .eval("'claimscript, ABC 0123456789.'.repeat(60).slice(7, 1500)")
            .ok();
        let Some(slice) = slice else {
            return;
        };
        let slice = slice.as_raw();
        let string = qjs::JS_VALUE_GET_PTR(slice).cast::<u8>().cast_const();
        if fields(string).2 != SLICE {
            return;
        }
        KINDS.store(3, Ordering::Relaxed);
        let in_place = latin1(slice).map(<[u8]>::to_vec);
        if in_place.is_none() || in_place != copy(raw, slice) {
            KINDS.store(1, Ordering::Relaxed);
        }
    }
}

/// `JS_ToCStringLen2`'s UTF-8 of a string value.
unsafe fn copy(cx: *mut qjs::JSContext, value: qjs::JSValue) -> Option<Vec<u8>> {
    let mut len = 0;
    // SAFETY: a live value; the C string is freed below.
    unsafe {
        let text = qjs::JS_ToCStringLen2(cx, &mut len, value, false);
        if text.is_null() {
            return None;
        }
        let bytes = std::slice::from_raw_parts(text.cast::<u8>(), len as usize).to_vec();
        qjs::JS_FreeCString(cx, text);
        Some(bytes)
    }
}

/// `f` of the characters of `value` read in place (see [`latin1`]); a rope
/// (a concatenation QuickJS has not joined yet) is joined first, as
/// `JS_ToCStringLen2` would. `None` when they cannot be read in place.
///
/// # Safety
/// `value` must be a live value of `cx`.
pub(crate) unsafe fn with_latin1<R>(
    cx: *mut qjs::JSContext,
    value: qjs::JSValue,
    f: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    // SAFETY: a live value of `cx`; the joined string is freed here.
    unsafe {
        if qjs::JS_VALUE_GET_NORM_TAG(value) != qjs::JS_TAG_STRING_ROPE {
            return latin1(value).map(f);
        }
        if HEADER.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let flat = qjs::JS_ToString(cx, value);
        if qjs::JS_IsException(flat) {
            // Out of memory: the caller's own path reports it.
            qjs::JS_FreeValue(cx, qjs::JS_GetException(cx));
            return None;
        }
        let result = latin1(flat).map(f);
        qjs::JS_FreeValue(cx, flat);
        result
    }
}

/// `bytes` as UTF-8 text, if they are. ASCII is checked eight bytes at a
/// time first: Rust's own check costs tens of fuel a byte here.
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    if is_ascii(bytes) {
        // SAFETY: ASCII is valid UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).ok()
    }
}
