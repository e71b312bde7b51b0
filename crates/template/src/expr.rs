//! Placeholders inside one template string: `text {{ a.b || 'x' }} text`.

use serde_json::Value;

use crate::error::ErrorKind;

/// One step of a path: `plan` or `0`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    /// The segment as written; the key looked up in objects.
    pub(crate) key: String,
    /// The array index, when the segment is all digits (no leading zeros)
    /// and fits a `usize`.
    pub(crate) index: Option<usize>,
}

/// One operand of a `||` chain.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Term {
    /// A dot path into the root.
    Path(Vec<Segment>),
    /// A quoted string, number, `true`, `false` or `null`.
    Literal(Value),
}

/// What is between `{{` and `}}`: terms joined by `||`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub(crate) terms: Vec<Term>,
}

/// One piece of a string with placeholders.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Text(String),
    Expr(Expr),
}

/// A template string, parsed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Parsed {
    /// No placeholders: the string is copied as it is.
    Static(String),
    /// The string is exactly one placeholder: its raw value is inserted.
    Whole(Expr),
    /// Text and placeholders: the result is a string.
    Concat(Vec<Part>),
}

/// A problem in a template string: `at` indexes the decoded characters
/// (`chars.len()` means the end of the string).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StringError {
    pub(crate) kind: ErrorKind,
    pub(crate) at: usize,
    pub(crate) message: String,
}

fn err<T>(kind: ErrorKind, at: usize, message: impl Into<String>) -> Result<T, StringError> {
    Err(StringError {
        kind,
        at,
        message: message.into(),
    })
}

const UNCLOSED: &str = "unclosed placeholder: expected }}";

/// Fails when a `||` (at the given position) still waits for its right operand.
fn no_dangling_or(pending_or: Option<usize>) -> Result<(), StringError> {
    match pending_or {
        Some(or) => err(
            ErrorKind::MissingOperand,
            or,
            "|| without an operand: expected a path or literal after it",
        ),
        None => Ok(()),
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

fn is_segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-')
}

/// Parses the decoded characters of one JSON string.
pub(crate) fn parse_string(chars: &[char]) -> Result<Parsed, StringError> {
    let mut parser = Parser { chars, pos: 0 };
    let mut parts = Vec::new();
    let mut text = String::new();
    while let Some(c) = parser.peek() {
        if c == '{' && parser.peek_at(1) == Some('{') {
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            let expr = parser.placeholder()?;
            parts.push(Part::Expr(expr));
        } else {
            text.push(c);
            parser.pos += 1;
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    // Text is gathered until the next placeholder, so a string without
    // placeholders has at most one part.
    if parts.len() <= 1 {
        match parts.pop() {
            None => return Ok(Parsed::Static(String::new())),
            Some(Part::Text(text)) => return Ok(Parsed::Static(text)),
            Some(Part::Expr(expr)) => return Ok(Parsed::Whole(expr)),
        }
    }
    Ok(Parsed::Concat(parts))
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    /// Parses `{{ expr }}` with `pos` at the first `{`.
    fn placeholder(&mut self) -> Result<Expr, StringError> {
        let open = self.pos;
        self.pos += 2;
        let mut terms = Vec::new();
        // Where the last `||` stands while a term is expected after it.
        let mut pending_or: Option<usize> = None;
        loop {
            self.skip_space();
            let expect_term = terms.is_empty() || pending_or.is_some();
            let Some(c) = self.peek() else {
                return err(ErrorKind::UnclosedPlaceholder, open, UNCLOSED);
            };
            let next = self.peek_at(1);
            if c == '}' && next == Some('}') {
                no_dangling_or(pending_or)?;
                if terms.is_empty() {
                    return err(
                        ErrorKind::EmptyExpression,
                        open,
                        "empty expression: expected a path or literal between {{ and }}",
                    );
                }
                self.pos += 2;
                return Ok(Expr { terms });
            }
            if c == '|' && next == Some('|') {
                no_dangling_or(pending_or)?;
                if terms.is_empty() {
                    return err(
                        ErrorKind::MissingOperand,
                        self.pos,
                        "|| without an operand: expected a path or literal before it",
                    );
                }
                pending_or = Some(self.pos);
                self.pos += 2;
                continue;
            }
            if c == '}' && next.is_none() {
                // `{{ a }` at the end of the string: the `}}` is cut short.
                return err(ErrorKind::UnclosedPlaceholder, open, UNCLOSED);
            }
            if !expect_term {
                return Err(self.unexpected(c));
            }
            let term = self.term(open)?;
            terms.push(term);
            pending_or = None;
        }
    }

    fn unexpected(&self, c: char) -> StringError {
        let message = match c {
            '[' => "unexpected character '[': write array indexes as path segments, like Email.0"
                .to_owned(),
            '|' => "unexpected character '|': the fallback operator is ||".to_owned(),
            '}' => "unexpected character '}': a placeholder ends with }}".to_owned(),
            c => format!("unexpected character {c:?}"),
        };
        StringError {
            kind: ErrorKind::UnexpectedCharacter,
            at: self.pos,
            message,
        }
    }

    /// Parses one operand with `pos` at its first character.
    fn term(&mut self, open: usize) -> Result<Term, StringError> {
        match self.peek() {
            Some(q @ ('\'' | '"')) => self.quoted(q).map(|s| Term::Literal(Value::String(s))),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number().map(Term::Literal),
            Some(c) if is_name_start(c) => self.path(open),
            Some(c) => Err(self.unexpected(c)),
            None => err(ErrorKind::UnclosedPlaceholder, open, UNCLOSED),
        }
    }

    /// Parses `a.b.0` (or the keywords `true`, `false`, `null`).
    fn path(&mut self, open: usize) -> Result<Term, StringError> {
        let mut segments = Vec::new();
        loop {
            let start = self.pos;
            while self.peek().is_some_and(is_segment_char) {
                self.pos += 1;
            }
            let key: String = self
                .chars
                .get(start..self.pos)
                .unwrap_or_default()
                .iter()
                .collect();
            if key.is_empty() {
                if self.peek().is_none() {
                    return err(ErrorKind::UnclosedPlaceholder, open, UNCLOSED);
                }
                return err(
                    ErrorKind::InvalidPathSegment,
                    start,
                    "invalid path segment: expected a key or an array index after '.'",
                );
            }
            let digits = key.bytes().all(|b| b.is_ascii_digit());
            // `01` is a key (objects may have one), never array index 1.
            let canonical = key == "0" || !key.starts_with('0');
            let index = if digits {
                // An index too large for memory cannot match any array.
                canonical.then(|| key.parse::<usize>().unwrap_or(usize::MAX))
            } else if key.starts_with(is_name_start) {
                None
            } else {
                return err(
                    ErrorKind::InvalidPathSegment,
                    start,
                    format!(
                        "invalid path segment {key:?}: a segment is a name (letters, digits, _, $, -, \
                         not starting with a digit or -) or a non-negative integer"
                    ),
                );
            };
            segments.push(Segment { key, index });
            if self.peek() == Some('.') {
                self.pos += 1;
            } else {
                break;
            }
        }
        if let [only] = segments.as_slice() {
            match only.key.as_str() {
                "true" => return Ok(Term::Literal(Value::Bool(true))),
                "false" => return Ok(Term::Literal(Value::Bool(false))),
                "null" => return Ok(Term::Literal(Value::Null)),
                _ => {}
            }
        }
        Ok(Term::Path(segments))
    }

    /// Parses a quoted literal with `pos` at the opening quote `q`.
    fn quoted(&mut self, q: char) -> Result<String, StringError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return err(
                    ErrorKind::UnterminatedString,
                    open,
                    format!("unterminated string literal: expected a closing {q}"),
                );
            };
            if c == q {
                self.pos += 1;
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                self.pos += 1;
                continue;
            }
            let escape = self.pos;
            self.pos += 1;
            match self.peek() {
                Some('\\') => out.push('\\'),
                Some('\'') => out.push('\''),
                Some('"') => out.push('"'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    self.pos += 1;
                    out.push(self.unicode_escape(escape)?);
                    continue;
                }
                Some(other) => {
                    return err(
                        ErrorKind::InvalidEscape,
                        escape,
                        format!(
                            "invalid escape \\{} in string literal: use \\\\, \\', \\\", \\n, \\t or \\uXXXX",
                            other.escape_debug()
                        ),
                    );
                }
                None => {
                    return err(
                        ErrorKind::UnterminatedString,
                        open,
                        format!("unterminated string literal: expected a closing {q}"),
                    );
                }
            }
            self.pos += 1;
        }
    }

    /// Reads four hex digits at `pos` (after `\u`).
    fn hex4(&mut self, escape: usize) -> Result<u32, StringError> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = self.peek().and_then(|c| c.to_digit(16));
            let Some(digit) = digit else {
                return err(
                    ErrorKind::InvalidEscape,
                    escape,
                    "invalid escape in string literal: \\u must be followed by 4 hex digits",
                );
            };
            value = value * 16 + digit;
            self.pos += 1;
        }
        Ok(value)
    }

    /// Decodes `\uXXXX` (and a following low surrogate `\uXXXX` if needed).
    fn unicode_escape(&mut self, escape: usize) -> Result<char, StringError> {
        let unpaired = || {
            err(
                ErrorKind::InvalidEscape,
                escape,
                "invalid escape in string literal: \\u escape is an unpaired surrogate",
            )
        };
        let high = self.hex4(escape)?;
        if (0xDC00..0xE000).contains(&high) {
            return unpaired();
        }
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high).map_or_else(unpaired, Ok);
        }
        if self.peek() != Some('\\') || self.peek_at(1) != Some('u') {
            return unpaired();
        }
        self.pos += 2;
        let low = self.hex4(escape)?;
        if !(0xDC00..0xE000).contains(&low) {
            return unpaired();
        }
        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
        char::from_u32(code).map_or_else(unpaired, Ok)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Parses a JSON number literal: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Result<Value, StringError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        if self.digits() == 0 {
            return err(
                ErrorKind::InvalidNumber,
                self.pos,
                "invalid number literal: expected a digit after '-'",
            );
        }
        if self.chars.get(int_start) == Some(&'0') && self.pos - int_start > 1 {
            return err(
                ErrorKind::InvalidNumber,
                int_start,
                "invalid number literal: leading zeros are not allowed",
            );
        }
        if self.peek() == Some('.') {
            self.pos += 1;
            if self.digits() == 0 {
                return err(
                    ErrorKind::InvalidNumber,
                    self.pos,
                    "invalid number literal: expected a digit after '.' (paths start with a name)",
                );
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return err(
                    ErrorKind::InvalidNumber,
                    self.pos,
                    "invalid number literal: expected a digit in the exponent",
                );
            }
        }
        if let Some(c) = self.peek()
            && (is_segment_char(c) || c == '.')
        {
            return err(
                ErrorKind::InvalidNumber,
                self.pos,
                format!(
                    "invalid number literal: unexpected character {c:?} after it (paths start with a name)"
                ),
            );
        }
        let text: String = self
            .chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect();
        match serde_json::from_str::<serde_json::Number>(&text) {
            Ok(n) => Ok(Value::Number(n)),
            Err(_) => err(
                ErrorKind::InvalidNumber,
                start,
                format!("invalid number literal: {text} is out of range"),
            ),
        }
    }
}
