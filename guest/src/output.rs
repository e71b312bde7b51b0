//! The claims' JSON, written from the JS values through the C API.
//!
//! QuickJS's `JSON.stringify` builds its output a character at a time and
//! cost about as much as making the claims in the first place. Claims are
//! almost always plain objects, arrays, strings, numbers and booleans; for
//! those this writer produces exactly what `JSON.stringify` would, except
//! that a lone surrogate in a string becomes U+FFFD (as in `console`
//! records: JSON text with one is not valid UTF-8, and the host refuses it).
//! It copies strings in runs, not a character at a time, and stops as soon
//! as the output passes the run's `max_output_bytes`.
//!
//! Anything else (a `toJSON` method, a class instance, a proxy, a BigInt, a
//! cycle) makes it give up, and the caller falls back to the
//! `JSON.stringify` the prelude captured at load, whose output [`finish`]
//! then checks as this writer would: size, depth, lone surrogates. A getter
//! that throws ends the writing with its exception, as it would end
//! `JSON.stringify`.

use std::ffi::{CStr, c_char};
use std::fmt::Write;

use javy::quickjs::{Ctx, Value, qjs};

/// Deepest nesting of objects and arrays in claims (`{}` is 1). The host
/// parses claims with a limit of its own (`serde_json`'s 128); claims
/// deeper than this are refused with a message that says so.
pub(crate) const MAX_DEPTH: usize = 100;

/// Why the writer stopped.
pub(crate) enum Declined {
    /// The value cannot be written here; use `JSON.stringify`.
    Fallback,
    /// Reading a property threw (a getter); the exception is pending in the
    /// context, and is the result: calling the getter again would not be.
    Threw,
    /// The JSON would be longer than the byte budget.
    TooLarge,
    /// Objects and arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// `JSON.stringify(value)` for a plain object, or why not. Stops with
/// [`Declined::TooLarge`] once the text passes `budget` bytes.
pub(crate) fn to_json(cx: &Ctx<'_>, value: &Value<'_>, budget: usize) -> Result<String, Declined> {
    let cx = cx.as_raw().as_ptr();
    let mut writer = Writer {
        cx,
        out: String::with_capacity(256),
        budget,
        object_prototype: qjs::JS_UNDEFINED,
        array_prototype: qjs::JS_UNDEFINED,
        to_json_atom: 0,
        path: Vec::new(),
    };
    // SAFETY: `value` is alive for the call; every value obtained below is
    // freed before returning.
    unsafe {
        let Some(array) = Owned::new(cx, qjs::JS_NewArray(cx)) else {
            return Err(Declined::Fallback);
        };
        let Some(object) = Owned::new(cx, qjs::JS_NewObject(cx)) else {
            return Err(Declined::Fallback);
        };
        let object_prototype =
            Owned::new(cx, qjs::JS_GetPrototype(cx, object.0)).ok_or(Declined::Fallback)?;
        let array_prototype =
            Owned::new(cx, qjs::JS_GetPrototype(cx, array.0)).ok_or(Declined::Fallback)?;
        // A script may have given every object or array a `toJSON`.
        for prototype in [&object_prototype, &array_prototype] {
            if has_property(cx, prototype.0, c"toJSON")? {
                return Err(Declined::Fallback);
            }
        }
        writer.object_prototype = object_prototype.0;
        writer.array_prototype = array_prototype.0;
        writer.to_json_atom = qjs::JS_NewAtom(cx, c"toJSON".as_ptr());
        if writer.to_json_atom == 0 {
            return Err(Declined::Fallback);
        }
        let written = writer.value(value.as_raw(), 0);
        qjs::JS_FreeAtom(cx, writer.to_json_atom);
        written?;
    }
    Ok(writer.out)
}

/// Check `JSON.stringify`'s output as [`to_json`] checks its own: over
/// `budget` bytes, or nested deeper than [`MAX_DEPTH`], is refused; an
/// escaped lone surrogate (`\udXXX`: well-formed `JSON.stringify` escapes
/// nothing else in that range) becomes `\ufffd`.
pub(crate) fn finish(json: String, budget: usize) -> Result<String, Declined> {
    if json.len() > budget {
        return Err(Declined::TooLarge);
    }
    let bytes = json.as_bytes();
    let mut lone = Vec::new();
    let (mut depth, mut in_string, mut at) = (0usize, false, 0);
    while at < bytes.len() {
        match bytes[at] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => {
                if bytes.get(at + 1) == Some(&b'u')
                    && bytes.get(at + 2) == Some(&b'd')
                    && bytes
                        .get(at + 3)
                        .is_some_and(|b| matches!(b, b'8'..=b'9' | b'a'..=b'f'))
                {
                    lone.push(at + 2);
                }
                at += 1; // the escaped character
            }
            b'{' | b'[' if !in_string => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Declined::TooDeep);
                }
            }
            b'}' | b']' if !in_string => depth = depth.saturating_sub(1),
            _ => {}
        }
        at += 1;
    }
    if lone.is_empty() {
        return Ok(json);
    }
    let mut bytes = json.into_bytes();
    for at in lone {
        bytes[at..at + 4].copy_from_slice(b"fffd");
    }
    // Only ASCII hex digits were replaced by ASCII hex digits.
    String::from_utf8(bytes).map_err(|_| Declined::Fallback)
}

struct Writer {
    cx: *mut qjs::JSContext,
    out: String,
    /// The most bytes the text may have.
    budget: usize,
    object_prototype: qjs::JSValue,
    array_prototype: qjs::JSValue,
    to_json_atom: qjs::JSAtom,
    /// The objects and arrays being written, outermost first: a value
    /// nested too deeply is a cycle if it is one of them.
    path: Vec<*mut std::ffi::c_void>,
}

/// A value this module owns a reference to.
struct Owned(qjs::JSValue, *mut qjs::JSContext);

impl Owned {
    /// `None` for an exception.
    unsafe fn new(cx: *mut qjs::JSContext, value: qjs::JSValue) -> Option<Owned> {
        // SAFETY: inspecting a tag.
        if unsafe { qjs::JS_IsException(value) } {
            None
        } else {
            Some(Owned(value, cx))
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: the reference was handed to `Owned` to release.
        unsafe { qjs::JS_FreeValue(self.1, self.0) };
    }
}

/// Whether `object` has (or inherits) a property `name` that is not undefined.
unsafe fn has_property(
    cx: *mut qjs::JSContext,
    object: qjs::JSValue,
    name: &CStr,
) -> Result<bool, Declined> {
    // SAFETY: a live object and a NUL-terminated name.
    unsafe {
        let value = Owned::new(cx, qjs::JS_GetPropertyStr(cx, object, name.as_ptr()))
            .ok_or(Declined::Threw)?;
        Ok(!qjs::JS_IsUndefined(value.0))
    }
}

impl Writer {
    /// Fail once the text is over the budget.
    fn check_size(&self) -> Result<(), Declined> {
        if self.out.len() > self.budget {
            Err(Declined::TooLarge)
        } else {
            Ok(())
        }
    }

    /// Write `value`; `Ok(false)` when `JSON.stringify` would leave it out
    /// (undefined, a function, a symbol).
    unsafe fn value(&mut self, value: qjs::JSValue, depth: usize) -> Result<bool, Declined> {
        // SAFETY: `value` is alive for the call (see `to_json`).
        unsafe {
            match qjs::JS_VALUE_GET_NORM_TAG(value) {
                qjs::JS_TAG_INT => {
                    let _ = write!(self.out, "{}", qjs::JS_VALUE_GET_INT(value));
                }
                qjs::JS_TAG_FLOAT64 => {
                    let number = qjs::JS_VALUE_GET_FLOAT64(value);
                    if number.is_finite() {
                        // QuickJS's own number formatting, as JSON.stringify.
                        self.c_string(value, false)?;
                    } else {
                        self.out.push_str("null");
                    }
                }
                qjs::JS_TAG_BOOL => self.out.push_str(if qjs::JS_VALUE_GET_BOOL(value) {
                    "true"
                } else {
                    "false"
                }),
                qjs::JS_TAG_NULL => self.out.push_str("null"),
                qjs::JS_TAG_UNDEFINED | qjs::JS_TAG_SYMBOL => return Ok(false),
                qjs::JS_TAG_STRING | qjs::JS_TAG_STRING_ROPE => self.c_string(value, true)?,
                qjs::JS_TAG_OBJECT => {
                    if qjs::JS_IsFunction(self.cx, value) {
                        return Ok(false);
                    }
                    if qjs::JS_IsProxy(value) {
                        return Err(Declined::Fallback);
                    }
                    let pointer = qjs::JS_VALUE_GET_PTR(value);
                    if depth >= MAX_DEPTH {
                        // A cycle is JSON.stringify's error to report.
                        return Err(if self.path.contains(&pointer) {
                            Declined::Fallback
                        } else {
                            Declined::TooDeep
                        });
                    }
                    let prototype = Owned::new(self.cx, qjs::JS_GetPrototype(self.cx, value))
                        .ok_or(Declined::Fallback)?;
                    // An own `toJSON` method is JSON.stringify's business.
                    let to_json = qjs::JS_GetOwnProperty(
                        self.cx,
                        std::ptr::null_mut(),
                        value,
                        self.to_json_atom,
                    );
                    if to_json != 0 {
                        return Err(Declined::Fallback);
                    }
                    self.path.push(pointer);
                    if qjs::JS_IsArray(value) {
                        // An array whose prototype was changed is still an
                        // array to JSON.stringify, but may inherit anything.
                        if prototype.0 != self.array_prototype {
                            return Err(Declined::Fallback);
                        }
                        self.array(value, depth)?;
                    } else if prototype.0 == self.object_prototype || qjs::JS_IsNull(prototype.0) {
                        self.object(value, depth)?;
                    } else {
                        return Err(Declined::Fallback);
                    }
                    self.path.pop();
                }
                _ => return Err(Declined::Fallback),
            }
        }
        self.check_size()?;
        Ok(true)
    }

    unsafe fn array(&mut self, array: qjs::JSValue, depth: usize) -> Result<(), Declined> {
        // SAFETY: `array` is a live array.
        unsafe {
            let mut length = 0i64;
            if qjs::JS_GetLength(self.cx, array, &mut length) < 0 {
                return Err(Declined::Fallback);
            }
            self.out.push('[');
            for index in 0..length {
                if index > 0 {
                    self.out.push(',');
                }
                let element = Owned::new(self.cx, qjs::JS_GetPropertyInt64(self.cx, array, index))
                    .ok_or(Declined::Threw)?;
                if !self.value(element.0, depth + 1)? {
                    self.out.push_str("null");
                    self.check_size()?;
                }
            }
            self.out.push(']');
        }
        Ok(())
    }

    unsafe fn object(&mut self, object: qjs::JSValue, depth: usize) -> Result<(), Declined> {
        // SAFETY: `object` is a live object; the property table is freed.
        unsafe {
            let mut table: *mut qjs::JSPropertyEnum = std::ptr::null_mut();
            let mut count: u32 = 0;
            let flags = (qjs::JS_GPN_STRING_MASK | qjs::JS_GPN_ENUM_ONLY) as i32;
            if qjs::JS_GetOwnPropertyNames(self.cx, &mut table, &mut count, object, flags) < 0 {
                return Err(Declined::Fallback);
            }
            let result = self.members(object, table, count, depth);
            qjs::JS_FreePropertyEnum(self.cx, table, count);
            result
        }
    }

    unsafe fn members(
        &mut self,
        object: qjs::JSValue,
        table: *mut qjs::JSPropertyEnum,
        count: u32,
        depth: usize,
    ) -> Result<(), Declined> {
        self.out.push('{');
        let mut first = true;
        for i in 0..count as usize {
            // SAFETY: `table` holds `count` entries.
            let atom = unsafe { (*table.add(i)).atom };
            // SAFETY: a live object and one of its keys.
            let value = unsafe {
                Owned::new(self.cx, qjs::JS_GetProperty(self.cx, object, atom))
                    .ok_or(Declined::Threw)?
            };
            let mark = self.out.len();
            if !first {
                self.out.push(',');
            }
            // SAFETY: an atom of this context.
            unsafe { self.atom(atom)? };
            self.out.push(':');
            // SAFETY: `value` is alive.
            if unsafe { self.value(value.0, depth + 1)? } {
                first = false;
            } else {
                self.out.truncate(mark); // left out, as JSON.stringify does
            }
        }
        self.out.push('}');
        Ok(())
    }

    unsafe fn atom(&mut self, atom: qjs::JSAtom) -> Result<(), Declined> {
        let mut len = 0;
        // SAFETY: an atom of this context; the string is freed below.
        unsafe {
            let text = qjs::JS_AtomToCStringLen(self.cx, &mut len, atom);
            if text.is_null() {
                return Err(Declined::Fallback);
            }
            let result = self.quoted(text, len as usize);
            qjs::JS_FreeCString(self.cx, text);
            result
        }
    }

    /// Write a string value quoted, or a number as QuickJS formats it.
    unsafe fn c_string(&mut self, value: qjs::JSValue, quote: bool) -> Result<(), Declined> {
        // SAFETY: `value` is alive for the call.
        if quote
            && let Some(written) = unsafe {
                crate::strings::with_latin1(self.cx, value, |latin1| self.latin1_quoted(latin1))
            }
        {
            return written;
        }
        let mut len = 0;
        // SAFETY: a live value; the string is freed below.
        unsafe {
            let text = qjs::JS_ToCStringLen2(self.cx, &mut len, value, false);
            if text.is_null() {
                return Err(Declined::Fallback);
            }
            let result = if quote {
                self.quoted(text, len as usize)
            } else {
                let bytes = std::slice::from_raw_parts(text.cast::<u8>(), len as usize);
                match crate::strings::utf8(bytes) {
                    Some(s) => {
                        self.out.push_str(s);
                        Ok(())
                    }
                    None => Err(Declined::Fallback),
                }
            };
            qjs::JS_FreeCString(self.cx, text);
            result
        }
    }

    /// Append QuickJS's UTF-8 text as a JSON string. QuickJS writes a lone
    /// surrogate as its three-byte (WTF-8) form, which is not UTF-8: each
    /// becomes U+FFFD, also three bytes.
    unsafe fn quoted(&mut self, text: *const c_char, len: usize) -> Result<(), Declined> {
        // At least the text and its quotes: stop before copying it.
        if self.out.len().saturating_add(len).saturating_add(2) > self.budget {
            return Err(Declined::TooLarge);
        }
        // SAFETY: QuickJS returned `len` bytes at `text`.
        let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) };
        match crate::strings::utf8(bytes) {
            Some(text) => self.escaped(text),
            None => {
                let mut bytes = bytes.to_vec();
                replace_surrogates(&mut bytes);
                let text = crate::strings::utf8(&bytes).ok_or(Declined::Fallback)?;
                self.escaped(text);
            }
        }
        Ok(())
    }

    /// Append Latin-1 characters (read in place, see `strings.rs`) as a
    /// JSON string: runs of ASCII that needs no escape are found sixteen
    /// bytes at a time and copied whole ([`crate::json::plain_run`]), each
    /// other character is escaped or encoded.
    fn latin1_quoted(&mut self, bytes: &[u8]) -> Result<(), Declined> {
        // Each character is at least one byte of UTF-8.
        if self.out.len().saturating_add(bytes.len()).saturating_add(2) > self.budget {
            return Err(Declined::TooLarge);
        }
        self.out.reserve(bytes.len() + 2);
        self.out.push('"');
        // SAFETY: only whole UTF-8 sequences are appended: ASCII, and the
        // two bytes of U+0080..U+00FF.
        let out = unsafe { self.out.as_mut_vec() };
        let mut at = 0;
        while at < bytes.len() {
            let plain = crate::json::plain_run(&bytes[at..], true);
            out.extend_from_slice(&bytes[at..at + plain]);
            at += plain;
            // Then the characters that are not plain ASCII, up to the next
            // one that is, without looking for a run after each.
            while let Some(&b) = bytes.get(at) {
                match b {
                    0x80..=0xff => out.extend_from_slice(&[0xc0 | b >> 6, 0x80 | (b & 0x3f)]),
                    b'"' | b'\\' | 0..=0x1f => push_escaped(out, b),
                    _ => break,
                }
                at += 1;
            }
        }
        out.push(b'"');
        Ok(())
    }

    /// Append `text` quoted and escaped as `JSON.stringify` does, copying
    /// the runs between characters to escape whole.
    fn escaped(&mut self, text: &str) {
        let bytes = text.as_bytes();
        self.out.reserve(bytes.len() + 2);
        // SAFETY: every byte of `text` is appended as it is, in order, but
        // for ASCII characters replaced by ASCII escapes: valid UTF-8.
        let out = unsafe { self.out.as_mut_vec() };
        out.push(b'"');
        let mut at = 0;
        loop {
            let plain = crate::json::plain_run(&bytes[at..], false);
            out.extend_from_slice(&bytes[at..at + plain]);
            at += plain;
            let Some(&b) = bytes.get(at) else {
                break;
            };
            push_escaped(out, b);
            at += 1;
        }
        out.push(b'"');
    }
}

/// Append the byte `b` of a string as `JSON.stringify` writes it: a quote,
/// a backslash or a control character escaped, any other byte as it is.
fn push_escaped(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        0..=0x1f => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xf)],
        ]),
        _ => out.push(b),
    }
}

/// Replace each WTF-8 surrogate (`ED A0..BF xx`) in `bytes` with U+FFFD
/// (`EF BF BD`), in place.
fn replace_surrogates(bytes: &mut [u8]) {
    let mut at = 0;
    while at + 2 < bytes.len() {
        if bytes[at] == 0xED && (0xA0..=0xBF).contains(&bytes[at + 1]) {
            bytes[at..at + 3].copy_from_slice(&[0xEF, 0xBF, 0xBD]);
            at += 3;
        } else {
            at += 1;
        }
    }
}
