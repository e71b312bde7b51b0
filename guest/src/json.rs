//! JSON text to QuickJS values through the engine's C API.
//!
//! Every run turns its input (a few KB of token and context) into JS
//! objects. QuickJS's `JSON.parse` does that a character at a time through
//! its tokenizer and growable string buffers, which made it three quarters
//! of a typical run. This builder scans the bytes once, makes each string
//! with one `JS_NewStringLen`, each array with one `JS_NewArrayFrom` and
//! each object's properties with `JS_DefinePropertyValue` (see [`define`]),
//! and looks keys up in a small cache (a context repeats `id`, `name`,
//! `description`... many times). The result is what `JSON.parse` would
//! give: plain objects and arrays, the last of duplicate keys wins, numbers
//! as JS numbers.
//!
//! The run's input ([`parse_input`]) is built lazily: its big nested
//! objects become lazy objects ([`crate::lazy`]), built from the same text
//! when a script first looks at them.
//!
//! The input is the host's `serde_json` output, so it is valid JSON; the
//! parser still rejects malformed text (it never trusts its input), but it
//! does not free the values built before an error: a failed parse fails the
//! run, and the instance is discarded with everything in it.

use std::cell::RefCell;
use std::ffi::c_char;

use javy::quickjs::{Ctx, Value, qjs};

/// Deepest nesting accepted (the host's `serde_json` stops at 128).
const MAX_DEPTH: usize = 256;
/// Slots in the key cache (a power of two).
const KEY_SLOTS: usize = 128;
/// The smallest nested object of the run's input, in bytes of JSON, that is
/// built only when a script looks at it. Deferring costs a lazy object and
/// a hook on every later access; thresholds from 2 to 128 were tried on the
/// examples, and nothing below 32 paid (BENCHMARKS.md, "The input, built as
/// the script reads it").
pub(crate) const LAZY_MIN_BYTES: usize = 32;

/// Parse `text` (UTF-8) as `JSON.parse` would, for `Response.json()`:
/// numbers must follow JSON's grammar, and an escaped lone surrogate (which
/// `JSON.parse` keeps, and this parser cannot) is an error. On an error the
/// caller asks `JSON.parse` itself, for its exact result or message; the
/// values built before it are freed.
pub(crate) fn parse_strict<'js>(cx: &Ctx<'js>, text: &[u8]) -> Result<Value<'js>, String> {
    parse_with(cx, text, true)
}

/// The run's input text, kept for its lazy objects ([`crate::lazy`]), with
/// the key cache, which stays valid for the same text (its atoms are kept
/// until the instance is thrown away).
struct Input {
    text: Vec<u8>,
    spans: Vec<(usize, usize)>,
    cache: [CachedKey; KEY_SLOTS],
    owned: Vec<qjs::JSAtom>,
}

thread_local! {
    static INPUT: RefCell<Option<Input>> = const { RefCell::new(None) };
}

/// Parse the run's input (`text`, the host's JSON for the script's
/// argument) into a JS value in `cx`: the top-level object itself, with
/// the big objects nested in it ([`LAZY_MIN_BYTES`] of JSON or more) lazy
/// objects, built when first looked at ([`crate::lazy`]). The text is kept
/// until the next input replaces it.
pub(crate) fn parse_input<'js>(cx: &Ctx<'js>, text: String) -> Result<Value<'js>, String> {
    let raw = cx.as_raw().as_ptr();
    INPUT.with(|input| {
        let mut input = input.borrow_mut();
        let text = text.into_bytes();
        let input = input.insert(Input {
            spans: lazy_spans(&text),
            text,
            cache: [CachedKey::EMPTY; KEY_SLOTS],
            owned: Vec::new(),
        });
        let value = with_input_parser(raw, input, 0, |parser| {
            let value = parser.value(0)?;
            parser.skip_whitespace();
            if parser.at != parser.text.len() {
                return Err(parser.error("unexpected text after the JSON value"));
            }
            Ok(value)
        })?;
        // SAFETY: `value` is an owned value of this context.
        Ok(unsafe { Value::from_raw(cx.clone(), value) })
    })
}

/// Build the object whose JSON starts at `start` in the run's input text,
/// `depth` levels down (its own nested objects lazy in turn): an owned
/// value of `cx`.
pub(crate) fn build_input_object(
    cx: *mut qjs::JSContext,
    start: usize,
    depth: usize,
) -> Result<qjs::JSValue, String> {
    INPUT.with(|input| {
        // Building runs no JavaScript and makes no lazy object look at its
        // backing, so the input is never borrowed twice.
        let mut input = input
            .try_borrow_mut()
            .map_err(|_| "the input is being parsed already".to_string())?;
        let input = input
            .as_mut()
            .ok_or_else(|| "the run's input is gone".to_string())?;
        with_input_parser(cx, input, start, |parser| parser.object(depth))
    })
}

/// Run `parse` with a lazy parser over `input` at `at`, keeping the key
/// cache for the next one.
fn with_input_parser(
    cx: *mut qjs::JSContext,
    input: &mut Input,
    at: usize,
    parse: impl FnOnce(&mut Parser<'_>) -> Result<qjs::JSValue, String>,
) -> Result<qjs::JSValue, String> {
    let Input {
        text,
        spans,
        cache,
        owned,
    } = input;
    let mut parser = Parser {
        strict: false,
        spans,
        cx,
        text,
        at,
        values: Vec::with_capacity(32),
        keys: Vec::with_capacity(32),
        scratch: Vec::new(),
        cache,
        owned,
    };
    parse(&mut parser)
}

fn parse_with<'js>(cx: &Ctx<'js>, text: &[u8], strict: bool) -> Result<Value<'js>, String> {
    let mut cache = [CachedKey::EMPTY; KEY_SLOTS];
    let mut owned = Vec::new();
    let mut parser = Parser {
        strict,
        spans: &[],
        cx: cx.as_raw().as_ptr(),
        text,
        at: 0,
        values: Vec::with_capacity(64),
        keys: Vec::with_capacity(64),
        scratch: Vec::new(),
        cache: &mut cache,
        owned: &mut owned,
    };
    let value = parser.value(0);
    parser.release_atoms();
    if strict && value.is_err() {
        for value in parser.values.drain(..) {
            // SAFETY: the parser owns the values not yet taken by an object
            // or an array.
            unsafe { qjs::JS_FreeValue(parser.cx, value) };
        }
    }
    let value = value?;
    parser.skip_whitespace();
    if parser.at != text.len() {
        if strict {
            // SAFETY: an owned value of this context.
            unsafe { qjs::JS_FreeValue(parser.cx, value) };
        }
        return Err(parser.error("unexpected text after the JSON value"));
    }
    // SAFETY: `value` is an owned value of this context.
    Ok(unsafe { Value::from_raw(cx.clone(), value) })
}

/// A key seen before: where its bytes are in the text, and its atom (the
/// cache holds one reference to it).
#[derive(Clone, Copy)]
struct CachedKey {
    start: u32,
    len: u32,
    atom: qjs::JSAtom,
}

impl CachedKey {
    const EMPTY: CachedKey = CachedKey {
        start: 0,
        len: 0,
        atom: 0,
    };
}

struct Parser<'a> {
    /// `JSON.parse`'s grammar exactly (see [`parse_strict`]).
    strict: bool,
    /// The objects to make lazy ([`parse_input`]), by start; empty for a
    /// parser that builds everything.
    spans: &'a [(usize, usize)],
    cx: *mut qjs::JSContext,
    text: &'a [u8],
    at: usize,
    /// Values of the objects and arrays being built, innermost last.
    values: Vec<qjs::JSValue>,
    /// Keys of the objects being built (one per value in an object). The
    /// atoms are borrowed from `cache` or `owned`.
    keys: Vec<qjs::JSAtom>,
    /// Decoded bytes of a string with escapes.
    scratch: Vec<u8>,
    cache: &'a mut [CachedKey; KEY_SLOTS],
    /// Atoms of keys with escapes, which are not cached.
    owned: &'a mut Vec<qjs::JSAtom>,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("invalid JSON input at byte {}: {what}", self.at)
    }

    /// The current byte; 0 at the end (a 0 byte is never valid JSON).
    fn peek(&self) -> u8 {
        self.text.get(self.at).copied().unwrap_or(0)
    }

    fn skip_whitespace(&mut self) {
        while let b' ' | b'\n' | b'\r' | b'\t' = self.peek() {
            self.at += 1;
        }
    }

    /// Drop the references the parser holds on key atoms (the objects built
    /// hold their own).
    fn release_atoms(&mut self) {
        for atom in self
            .cache
            .iter()
            .map(|k| k.atom)
            .chain(self.owned.drain(..))
        {
            if atom != 0 {
                // SAFETY: the parser owns one reference to each.
                unsafe { qjs::JS_FreeAtom(self.cx, atom) };
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<qjs::JSValue, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.skip_whitespace();
        match self.peek() {
            b'{' => match self.lazy_object(depth) {
                Some(lazy) => lazy,
                None => self.object(depth),
            },
            b'[' => self.array(depth),
            b'"' => self.string_value(),
            b't' => self.literal(b"true", qjs::JS_TRUE),
            b'f' => self.literal(b"false", qjs::JS_FALSE),
            b'n' => self.literal(b"null", qjs::JS_NULL),
            b'-' | b'0'..=b'9' => self.number(),
            0 if self.at >= self.text.len() => Err(self.error("unexpected end")),
            _ => Err(self.error("unexpected character")),
        }
    }

    fn literal(&mut self, literal: &[u8], value: qjs::JSValue) -> Result<qjs::JSValue, String> {
        if self.text[self.at..].starts_with(literal) {
            self.at += literal.len();
            Ok(value)
        } else {
            Err(self.error("unexpected character"))
        }
    }

    fn object(&mut self, depth: usize) -> Result<qjs::JSValue, String> {
        self.at += 1; // `{`
        let first = self.values.len();
        self.skip_whitespace();
        if self.peek() == b'}' {
            self.at += 1;
        } else {
            loop {
                self.skip_whitespace();
                if self.peek() != b'"' {
                    return Err(self.error("expected a key"));
                }
                let key = self.key()?;
                self.keys.push(key);
                self.skip_whitespace();
                if self.peek() != b':' {
                    return Err(self.error("expected `:`"));
                }
                self.at += 1;
                let value = self.value(depth + 1)?;
                self.values.push(value);
                self.skip_whitespace();
                match self.peek() {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(self.error("expected `,` or `}`")),
                }
            }
        }
        let count = self.values.len() - first;
        let key_first = self.keys.len() - count;
        let keys = &self.keys[key_first..];
        let values = &self.values[first..];
        // SAFETY: `keys` are atoms of this context kept alive by the parser,
        // `values` are owned values taken by the call.
        let object = unsafe { define(self.cx, keys, values) };
        self.keys.truncate(key_first);
        self.values.truncate(first);
        checked(object, || self.error("out of memory"))
    }

    /// The lazy object for the object at `{`, when it is one of the input's
    /// big ones ([`lazy_spans`]), the parser moved past it; `None` for one
    /// to build now.
    fn lazy_object(&mut self, depth: usize) -> Option<Result<qjs::JSValue, String>> {
        let index = self
            .spans
            .binary_search_by_key(&self.at, |span| span.0)
            .ok()?;
        let (start, end) = self.spans[index];
        self.at = end;
        // SAFETY: the parser's context, where the class is registered.
        let object = unsafe { crate::lazy::object(self.cx, start, depth) };
        Some(checked(object, || self.error("out of memory")))
    }

    fn array(&mut self, depth: usize) -> Result<qjs::JSValue, String> {
        self.at += 1; // `[`
        let first = self.values.len();
        self.skip_whitespace();
        if self.peek() == b']' {
            self.at += 1;
        } else {
            loop {
                let value = self.value(depth + 1)?;
                self.values.push(value);
                self.skip_whitespace();
                match self.peek() {
                    b',' => self.at += 1,
                    b']' => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(self.error("expected `,` or `]`")),
                }
            }
        }
        let values = &self.values[first..];
        // SAFETY: `values` are owned values of this context, taken by the call.
        let array = unsafe { qjs::JS_NewArrayFrom(self.cx, values.len() as i32, values.as_ptr()) };
        self.values.truncate(first);
        checked(array, || self.error("out of memory"))
    }

    /// Scan a string starting at `"`. `Some(range)` of its bytes in the text
    /// when it has no escapes; `None` when it has, with the decoded bytes
    /// left in `scratch`.
    fn string(&mut self) -> Result<Option<(usize, usize)>, String> {
        let text = self.text;
        let start = self.at + 1; // after the opening quote
        let mut at = start;
        loop {
            at += plain_run(&text[at..], false);
            match text.get(at) {
                Some(b'"') => {
                    self.at = at + 1;
                    return Ok(Some((start, at)));
                }
                Some(b'\\') => {
                    self.at = at;
                    return self.escaped_string(start).map(|()| None);
                }
                Some(0..=0x1f) => {
                    self.at = at;
                    return Err(self.error("control character in a string"));
                }
                Some(_) => at += 1,
                None => {
                    self.at = at;
                    return Err(self.error("unterminated string"));
                }
            }
        }
    }

    fn escaped_string(&mut self, start: usize) -> Result<(), String> {
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.text[start..self.at]);
        loop {
            match self.text.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escaped = self.text.get(self.at).copied();
                    self.at += 1;
                    let byte = match escaped {
                        Some(b'"') => b'"',
                        Some(b'\\') => b'\\',
                        Some(b'/') => b'/',
                        Some(b'b') => 0x08,
                        Some(b'f') => 0x0c,
                        Some(b'n') => b'\n',
                        Some(b'r') => b'\r',
                        Some(b't') => b'\t',
                        Some(b'u') => {
                            let c = self.unicode_escape()?;
                            let mut buf = [0; 4];
                            self.scratch
                                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                            continue;
                        }
                        _ => return Err(self.error("invalid escape")),
                    };
                    self.scratch.push(byte);
                }
                Some(0..=0x1f) => return Err(self.error("control character in a string")),
                Some(&b) => {
                    self.scratch.push(b);
                    self.at += 1;
                }
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    /// `\uXXXX` (after the `u`), with surrogate pairs; a lone surrogate
    /// becomes U+FFFD.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        if (0xd800..0xdc00).contains(&first) && self.text[self.at..].starts_with(b"\\u") {
            let saved = self.at;
            self.at += 2;
            let second = self.hex4()?;
            if (0xdc00..0xe000).contains(&second) {
                let c = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
                return Ok(char::from_u32(c).unwrap_or('\u{fffd}'));
            }
            self.at = saved;
        }
        match char::from_u32(first) {
            Some(c) => Ok(c),
            None if self.strict => Err(self.error("lone surrogate")),
            None => Ok('\u{fffd}'),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .ok_or_else(|| self.error("short \\u escape"))?;
        let mut value = 0;
        for &d in digits {
            let v = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid \\u escape"))?;
            value = value * 16 + v;
        }
        self.at += 4;
        Ok(value)
    }

    /// The atom of the key starting at `"`.
    fn key(&mut self) -> Result<qjs::JSAtom, String> {
        let Some((start, end)) = self.string()? else {
            let atom = self.new_atom(&self.scratch.clone())?;
            self.owned.push(atom);
            return Ok(atom);
        };
        let bytes = &self.text[start..end];
        let slot = &self.cache[key_hash(bytes) & (KEY_SLOTS - 1)];
        if slot.atom != 0
            && slot.len as usize == bytes.len()
            && self.text[slot.start as usize..][..bytes.len()] == *bytes
        {
            return Ok(slot.atom);
        }
        let atom = self.new_atom(bytes)?;
        let slot = &mut self.cache[key_hash(bytes) & (KEY_SLOTS - 1)];
        let old = std::mem::replace(
            slot,
            CachedKey {
                start: start as u32,
                len: bytes.len() as u32,
                atom,
            },
        );
        if old.atom != 0 {
            // Keys still being built may use the old atom: keep it alive.
            self.owned.push(old.atom);
        }
        Ok(atom)
    }

    fn new_atom(&self, bytes: &[u8]) -> Result<qjs::JSAtom, String> {
        // SAFETY: the pointer and length describe `bytes`.
        let atom = unsafe {
            qjs::JS_NewAtomLen(self.cx, bytes.as_ptr().cast::<c_char>(), bytes.len() as _)
        };
        if atom == 0 {
            return Err(self.error("out of memory"));
        }
        Ok(atom)
    }

    fn string_value(&mut self) -> Result<qjs::JSValue, String> {
        let bytes = match self.string()? {
            Some((start, end)) => &self.text[start..end],
            None => &self.scratch[..],
        };
        // SAFETY: the pointer and length describe `bytes`, which is UTF-8
        // (the input is a Rust string; escapes are decoded to UTF-8).
        let value = unsafe {
            qjs::JS_NewStringLen(self.cx, bytes.as_ptr().cast::<c_char>(), bytes.len() as _)
        };
        checked(value, || self.error("out of memory"))
    }

    fn number(&mut self) -> Result<qjs::JSValue, String> {
        let start = self.at;
        while let b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9' = self.peek() {
            self.at += 1;
        }
        let token = &self.text[start..self.at];
        if self.strict && !is_json_number(token) {
            return Err(self.error("invalid number"));
        }
        // Short integers, the common case, without the float parser.
        if token.len() <= 9 && token.iter().all(u8::is_ascii_digit) {
            let n = token.iter().fold(0i32, |n, d| n * 10 + i32::from(d - b'0'));
            return Ok(qjs::JS_MKVAL(qjs::JS_TAG_INT, n));
        }
        let number = std::str::from_utf8(token)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .ok_or_else(|| self.error("invalid number"))?;
        Ok(qjs::JS_NewFloat64(number))
    }
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
fn is_json_number(token: &[u8]) -> bool {
    fn digits(token: &[u8], at: &mut usize) -> usize {
        let start = *at;
        while token.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at - start
    }
    let mut at = usize::from(token.first() == Some(&b'-'));
    match token.get(at) {
        Some(b'0') => at += 1,
        Some(b'1'..=b'9') => {
            digits(token, &mut at);
        }
        _ => return false,
    }
    if token.get(at) == Some(&b'.') {
        at += 1;
        if digits(token, &mut at) == 0 {
            return false;
        }
    }
    if let Some(b'e' | b'E') = token.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = token.get(at) {
            at += 1;
        }
        if digits(token, &mut at) == 0 {
            return false;
        }
    }
    at == token.len()
}

/// A cheap hash of a key: its length and first and last bytes.
fn key_hash(bytes: &[u8]) -> usize {
    let first = bytes.first().copied().unwrap_or(0) as usize;
    let last = bytes.last().copied().unwrap_or(0) as usize;
    let middle = bytes.get(bytes.len() / 2).copied().unwrap_or(0) as usize;
    (bytes.len().wrapping_mul(31) ^ first.wrapping_mul(7) ^ last.wrapping_mul(131) ^ middle)
        .wrapping_mul(0x9e37_79b1)
        >> 7
}

/// The objects of the run's input worth building lazily: `(start, end)` of
/// each object below the top level with at least [`LAZY_MIN_BYTES`] of
/// JSON, by start. One pass over the text, sixteen bytes at a time, that
/// stops only at quotes, backslashes and brackets. Empty when the text is
/// not balanced JSON: the parser then builds everything, and reports the
/// error. (A lazy object's own JSON is parsed, and checked, when it is
/// built.)
fn lazy_spans(text: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut open: Vec<usize> = Vec::with_capacity(16);
    let mut in_string = false;
    // Positions below this are escaped characters in a string.
    let mut escaped = 0;
    let mut base = 0;
    while base < text.len() {
        let mut mask = structural_mask(&text[base..]);
        while mask != 0 {
            let at = base + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if at < escaped {
                continue;
            }
            match (in_string, text[at]) {
                (true, b'"') => in_string = false,
                (true, b'\\') => escaped = at + 2,
                (true, _) => {}
                (false, b'"') => in_string = true,
                (false, b'{' | b'[') => open.push(at),
                (false, close @ (b'}' | b']')) => {
                    let Some(start) = open.pop() else {
                        return Vec::new();
                    };
                    if close == b'}' && !open.is_empty() && at + 1 - start >= LAZY_MIN_BYTES {
                        spans.push((start, at + 1));
                    }
                }
                (false, _) => return Vec::new(),
            }
        }
        base += 16;
    }
    if in_string || !open.is_empty() {
        return Vec::new();
    }
    // Recorded as they closed: inner objects before outer ones.
    spans.sort_unstable();
    spans
}

/// Bit `i` set for each quote, backslash or bracket among the first
/// sixteen bytes of `bytes` (fewer at the end of the text).
#[cfg(target_arch = "wasm32")]
#[target_feature(enable = "simd128")]
fn structural_mask(bytes: &[u8]) -> u32 {
    use core::arch::wasm32::{u8x16_bitmask, u8x16_eq, u8x16_splat, v128, v128_load, v128_or};
    let Some(block) = bytes.get(..16) else {
        return structural_mask_scalar(bytes);
    };
    // SAFETY: `block` is 16 readable bytes; `v128_load` needs no alignment.
    let v = unsafe { v128_load(block.as_ptr().cast::<v128>()) };
    // `{` and `}` are `[` and `]` with bit 5 set.
    let folded = v128_or(v, u8x16_splat(0x20));
    let hits = v128_or(
        v128_or(
            u8x16_eq(v, u8x16_splat(b'"')),
            u8x16_eq(v, u8x16_splat(b'\\')),
        ),
        v128_or(
            u8x16_eq(folded, u8x16_splat(b'{')),
            u8x16_eq(folded, u8x16_splat(b'}')),
        ),
    );
    u32::from(u8x16_bitmask(hits))
}

#[cfg(not(target_arch = "wasm32"))]
fn structural_mask(bytes: &[u8]) -> u32 {
    structural_mask_scalar(bytes)
}

fn structural_mask_scalar(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .take(16)
        .enumerate()
        .filter(|(_, b)| matches!(b, b'"' | b'\\' | b'{' | b'}' | b'[' | b']'))
        .fold(0, |mask, (i, _)| mask | 1 << i)
}

/// The length of the run at the start of `bytes` that a JSON string holds
/// as it is: no quote, backslash or control character and, with `ascii`,
/// no byte of 0x80 or more. Sixteen bytes at a time with Wasm SIMD, then
/// eight, then one: about one fuel a byte, where a byte at a time costs
/// ten.
pub(crate) fn plain_run(bytes: &[u8], ascii: bool) -> usize {
    let mut at = plain_blocks(bytes, ascii);
    while let Some(word) = bytes
        .get(at..at + 8)
        .and_then(|chunk| <[u8; 8]>::try_from(chunk).ok())
    {
        let word = u64::from_le_bytes(word);
        if ends_plain_run(word) || (ascii && word & 0x8080_8080_8080_8080 != 0) {
            break;
        }
        at += 8;
    }
    while let Some(&b) = bytes.get(at) {
        if b == b'"' || b == b'\\' || b < 0x20 || (ascii && b >= 0x80) {
            break;
        }
        at += 1;
    }
    at
}

/// [`plain_run`] sixteen bytes at a time: where the first block with a
/// byte that ends the run has it, or the start of the last, partial block.
///
/// Wasmtime runs Wasm SIMD (it is on by default, and a module that used it
/// on an engine without it would not load at all), so the feature is
/// enabled for this function only, not for the whole runtime.
#[cfg(target_arch = "wasm32")]
#[target_feature(enable = "simd128")]
fn plain_blocks(bytes: &[u8], ascii: bool) -> usize {
    use core::arch::wasm32::{
        i8x16_lt, i8x16_splat, u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_any_true,
        v128_load, v128_or,
    };
    let quote = u8x16_splat(b'"');
    let backslash = u8x16_splat(b'\\');
    let space = u8x16_splat(0x20);
    // Signed, a byte of 0x80 or more is below 0; nothing is below -128.
    let high = i8x16_splat(if ascii { 0 } else { i8::MIN });
    let ends = |v: v128| {
        v128_or(
            v128_or(u8x16_eq(v, quote), u8x16_eq(v, backslash)),
            v128_or(u8x16_lt(v, space), i8x16_lt(v, high)),
        )
    };
    let mut at = 0;
    // Four blocks at a time while none of them ends the run: fuel counts
    // the loop's own instructions too.
    while let Some(blocks) = bytes.get(at..at + 64) {
        let p = blocks.as_ptr().cast::<v128>();
        // SAFETY: `blocks` is 64 readable bytes; `v128_load` needs no
        // alignment.
        let any = unsafe {
            v128_or(
                v128_or(ends(v128_load(p)), ends(v128_load(p.add(1)))),
                v128_or(ends(v128_load(p.add(2))), ends(v128_load(p.add(3)))),
            )
        };
        if v128_any_true(any) {
            break;
        }
        at += 64;
    }
    while let Some(block) = bytes.get(at..at + 16) {
        // SAFETY: `block` is 16 readable bytes; `v128_load` needs no alignment.
        let v = unsafe { v128_load(block.as_ptr().cast::<v128>()) };
        let mask = u8x16_bitmask(ends(v));
        if mask != 0 {
            return at + mask.trailing_zeros() as usize;
        }
        at += 16;
    }
    at
}

#[cfg(not(target_arch = "wasm32"))]
fn plain_blocks(_bytes: &[u8], _ascii: bool) -> usize {
    0
}

/// Whether any byte of `word` is a quote, a backslash or a control
/// character (the classic SWAR tests: no false negatives).
pub(crate) fn ends_plain_run(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    has_zero(word ^ (ONES * u64::from(b'"')))
        || has_zero(word ^ (ONES * u64::from(b'\\')))
        || word.wrapping_sub(ONES * 0x20) & !word & HIGHS != 0
}

fn checked(value: qjs::JSValue, error: impl FnOnce() -> String) -> Result<qjs::JSValue, String> {
    // SAFETY: inspecting the tag of a value.
    if unsafe { qjs::JS_IsException(value) } {
        Err(error())
    } else {
        Ok(value)
    }
}

/// A plain object with these properties defined one by one, as `JSON.parse`
/// does: the last of duplicate keys wins, in the place of the first.
///
/// Not `JS_NewObjectFrom`, which would take one call: it fills in place the
/// empty shape its new object starts with, which every other empty plain
/// object shares (`const claims = {}` while a script awaits `res.json()`,
/// an object literal whose values are being computed). Once the run's
/// arena is used up and freed memory is reused, those objects then point at
/// a freed shape: wrong properties, traps and endless loops.
///
/// # Safety
/// `keys` are atoms of `cx`; `values` are owned values of `cx`, taken by
/// this call.
unsafe fn define(
    cx: *mut qjs::JSContext,
    keys: &[qjs::JSAtom],
    values: &[qjs::JSValue],
) -> qjs::JSValue {
    // SAFETY: see the function's contract.
    unsafe {
        let object = qjs::JS_NewObject(cx);
        if qjs::JS_IsException(object) {
            return object;
        }
        for (key, value) in keys.iter().zip(values) {
            qjs::JS_DefinePropertyValue(cx, object, *key, *value, qjs::JS_PROP_C_W_E as i32);
        }
        object
    }
}
