//! A position-tracking reader for template text that serde_json has already
//! accepted as JSON: it finds duplicate keys and gives each character of each
//! string value its place in the text, so that placeholder errors can say
//! where they are.

use std::collections::HashSet;

use serde_json::Value;

use crate::error::{ErrorKind, Positions, TemplateError, push_pointer_token};
use crate::expr::{self, Expr, Parsed, Part};

/// A template value, parsed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Copied as it is: numbers, booleans, null and strings without
    /// placeholders.
    Static(Value),
    /// An object whose values are templated; keys are copied.
    Object(Vec<(String, Node)>),
    /// An array whose elements are templated.
    Array(Vec<Node>),
    /// A string that is exactly one placeholder: its raw value.
    Whole(Expr),
    /// A string with text and placeholders.
    Concat(Vec<Part>),
}

/// Parses the template text into the entries of its top-level object.
pub(crate) fn parse_template(text: &str) -> Result<Vec<(String, Node)>, TemplateError> {
    let positions = Positions::new(text);
    // serde_json decides what is JSON and where invalid JSON goes wrong.
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let place = positions.serde_place(e.line(), e.column());
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full);
        TemplateError::new(
            ErrorKind::InvalidJson,
            place,
            "",
            format!("invalid JSON: {message}"),
        )
    })?;
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        positions,
        pointer: String::new(),
    };
    reader.skip_space();
    let got = match value {
        Value::Object(_) => None,
        Value::Array(_) => Some("an array"),
        Value::String(_) => Some("a string"),
        Value::Number(_) => Some("a number"),
        Value::Bool(_) => Some("a boolean"),
        Value::Null => Some("null"),
    };
    if let Some(got) = got {
        return Err(reader.error(
            ErrorKind::NotAnObject,
            reader.pos,
            format!("the template must be a JSON object at the top level, got {got}"),
        ));
    }
    match reader.value()? {
        Node::Object(entries) => Ok(entries),
        _ => Err(reader.confused()),
    }
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    positions: Positions<'a>,
    /// The JSON pointer of the value being read.
    pointer: String,
}

impl Reader<'_> {
    fn error(&self, kind: ErrorKind, offset: usize, message: impl Into<String>) -> TemplateError {
        TemplateError::new(
            kind,
            self.positions.line_column(offset),
            &self.pointer,
            message,
        )
    }

    /// The text was valid JSON for serde_json but not for this reader. It
    /// cannot happen; say so instead of panicking.
    fn confused(&self) -> TemplateError {
        self.error(
            ErrorKind::InvalidJson,
            self.pos,
            "invalid JSON: unexpected text (internal reader disagreement)",
        )
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), TemplateError> {
        self.skip_space();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.confused())
        }
    }

    fn value(&mut self) -> Result<Node, TemplateError> {
        self.skip_space();
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string_value(),
            Some(_) => self.scalar(),
            None => Err(self.confused()),
        }
    }

    fn object(&mut self) -> Result<Node, TemplateError> {
        self.pos += 1;
        let mut entries = Vec::new();
        let mut seen = HashSet::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Node::Object(entries));
        }
        loop {
            self.skip_space();
            let key_at = self.pos;
            let (key, _) = self.string()?;
            let depth = self.pointer.len();
            push_pointer_token(&mut self.pointer, &key);
            if !seen.insert(key.clone()) {
                return Err(self.error(
                    ErrorKind::DuplicateKey,
                    key_at,
                    format!("duplicate key {key:?}: each key may appear once in an object"),
                ));
            }
            self.expect(b':')?;
            let node = self.value()?;
            self.pointer.truncate(depth);
            entries.push((key, node));
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Node::Object(entries));
                }
                _ => return Err(self.confused()),
            }
        }
    }

    fn array(&mut self) -> Result<Node, TemplateError> {
        self.pos += 1;
        let mut elements = Vec::new();
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Node::Array(elements));
        }
        loop {
            let depth = self.pointer.len();
            push_pointer_token(&mut self.pointer, &elements.len().to_string());
            let node = self.value()?;
            self.pointer.truncate(depth);
            elements.push(node);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node::Array(elements));
                }
                _ => return Err(self.confused()),
            }
        }
    }

    /// A number, `true`, `false` or `null`: serde_json reads the token.
    fn scalar(&mut self) -> Result<Node, TemplateError> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'+' | b'-' | b'.')
        ) {
            self.pos += 1;
        }
        let token = self.text.get(start..self.pos).unwrap_or_default();
        match serde_json::from_str::<Value>(token) {
            Ok(value) if !value.is_object() && !value.is_array() && !value.is_string() => {
                Ok(Node::Static(value))
            }
            _ => Err(self.confused()),
        }
    }

    /// A string value: templated.
    fn string_value(&mut self) -> Result<Node, TemplateError> {
        let (decoded, offsets) = self.string()?;
        let chars: Vec<char> = decoded.chars().collect();
        match expr::parse_string(&chars) {
            Ok(Parsed::Static(s)) => Ok(Node::Static(Value::String(s))),
            Ok(Parsed::Whole(e)) => Ok(Node::Whole(e)),
            Ok(Parsed::Concat(parts)) => Ok(Node::Concat(parts)),
            Err(e) => {
                // `offsets` has one more entry than `chars`: the closing quote.
                let offset = offsets
                    .get(e.at)
                    .or(offsets.last())
                    .copied()
                    .unwrap_or(self.pos);
                Err(self.error(e.kind, offset, e.message))
            }
        }
    }

    /// Reads a JSON string with `pos` at its opening quote. Returns the
    /// decoded text and, for each decoded character, the byte offset in the
    /// template text where it is written (its escape's backslash when it is
    /// escaped), followed by the offset of the closing quote.
    fn string(&mut self) -> Result<(String, Vec<usize>), TemplateError> {
        if self.peek() != Some(b'"') {
            return Err(self.confused());
        }
        self.pos += 1;
        let mut out = String::new();
        let mut offsets = Vec::new();
        loop {
            let start = self.pos;
            let Some(c) = self.text.get(start..).and_then(|rest| rest.chars().next()) else {
                return Err(self.confused());
            };
            match c {
                '"' => {
                    offsets.push(start);
                    self.pos += 1;
                    return Ok((out, offsets));
                }
                '\\' => {
                    self.pos += 1;
                    let decoded = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            self.unicode_escape()?
                        }
                        _ => return Err(self.confused()),
                    };
                    if !matches!(self.bytes.get(start + 1), Some(b'u')) {
                        self.pos += 1;
                    }
                    out.push(decoded);
                    offsets.push(start);
                }
                c => {
                    self.pos += c.len_utf8();
                    out.push(c);
                    offsets.push(start);
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, TemplateError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.confused())?;
        let value = u32::from_str_radix(digits, 16).map_err(|_| self.confused())?;
        self.pos += 4;
        Ok(value)
    }

    /// Decodes the hex digits of `\uXXXX` (with `pos` after the `u`),
    /// joining a surrogate pair. serde_json has rejected lone surrogates.
    fn unicode_escape(&mut self) -> Result<char, TemplateError> {
        let high = self.hex4()?;
        if (0xD800..0xDC00).contains(&high) && self.text.get(self.pos..self.pos + 2) == Some("\\u")
        {
            self.pos += 2;
            let low = self.hex4()?;
            let code = 0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
            return char::from_u32(code).ok_or_else(|| self.confused());
        }
        char::from_u32(high).ok_or_else(|| self.confused())
    }
}
