//! The claims' JSON, written from the JS values through the C API.
//!
//! QuickJS's `JSON.stringify` builds its output a character at a time and
//! cost about as much as making the claims in the first place. Claims are
//! almost always plain objects, arrays, strings, numbers and booleans; for
//! those this writer produces exactly what `JSON.stringify` would. Anything
//! else (a `toJSON` method, a class instance, a proxy, a BigInt, a string
//! with a lone surrogate, nesting deeper than [`MAX_DEPTH`]) makes it give
//! up, and the caller falls back to `JSON.stringify` itself, so the result
//! and its errors are always `JSON.stringify`'s. A getter that throws ends
//! the writing with its exception, as it would end `JSON.stringify`.

use std::ffi::{CStr, c_char};
use std::fmt::Write;

use javy::quickjs::{Ctx, Value, qjs};

/// Deepest nesting written; deeper (or cyclic) values go to `JSON.stringify`.
const MAX_DEPTH: usize = 64;

/// Why the writer stopped.
pub(crate) enum Declined {
    /// The value cannot be written here; use `JSON.stringify`.
    Fallback,
    /// Reading a property threw (a getter); the exception is pending in the
    /// context, and is the result: calling the getter again would not be.
    Threw,
}

/// `JSON.stringify(value)` for a plain object, or why not.
pub(crate) fn to_json(cx: &Ctx<'_>, value: &Value<'_>) -> Result<String, Declined> {
    let cx = cx.as_raw().as_ptr();
    let mut writer = Writer {
        cx,
        out: String::with_capacity(256),
        object_prototype: qjs::JS_UNDEFINED,
        array_prototype: qjs::JS_UNDEFINED,
        to_json_atom: 0,
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

struct Writer {
    cx: *mut qjs::JSContext,
    out: String,
    object_prototype: qjs::JSValue,
    array_prototype: qjs::JSValue,
    to_json_atom: qjs::JSAtom,
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
                    if depth >= MAX_DEPTH || qjs::JS_IsProxy(value) {
                        return Err(Declined::Fallback);
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
                }
                _ => return Err(Declined::Fallback),
            }
        }
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
                let element = Owned::new(
                    self.cx,
                    qjs::JS_GetPropertyUint32(self.cx, array, index as u32),
                )
                .ok_or(Declined::Threw)?;
                if !self.value(element.0, depth + 1)? {
                    self.out.push_str("null");
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
                match std::str::from_utf8(bytes) {
                    Ok(s) => {
                        self.out.push_str(s);
                        Ok(())
                    }
                    Err(_) => Err(Declined::Fallback),
                }
            };
            qjs::JS_FreeCString(self.cx, text);
            result
        }
    }

    /// Append `text` as a JSON string. Text that is not valid UTF-8 (a lone
    /// surrogate) is left to `JSON.stringify`.
    unsafe fn quoted(&mut self, text: *const c_char, len: usize) -> Result<(), Declined> {
        // SAFETY: QuickJS returned `len` bytes at `text`.
        let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) };
        let text = std::str::from_utf8(bytes).map_err(|_| Declined::Fallback)?;
        self.out.push('"');
        let mut plain = 0;
        for (i, b) in text.bytes().enumerate() {
            let escape = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0..=0x1f => "",
                _ => continue,
            };
            self.out.push_str(&text[plain..i]);
            if escape.is_empty() {
                let _ = write!(self.out, "\\u{b:04x}");
            } else {
                self.out.push_str(escape);
            }
            plain = i + 1;
        }
        self.out.push_str(&text[plain..]);
        self.out.push('"');
        Ok(())
    }
}
