//! The one error a template can have: where it is and what is wrong.

use std::fmt;

/// What kind of problem a [`TemplateError`] reports.
///
/// The [message](TemplateError::message) says the same thing in plain words
/// for people; the kind is for programs that want to react to one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The template text is not valid JSON (the position is serde_json's).
    InvalidJson,
    /// The template text is valid JSON but not an object at the top level.
    NotAnObject,
    /// An object in the template names the same key twice.
    DuplicateKey,
    /// A `{{` has no matching `}}` in the same string.
    UnclosedPlaceholder,
    /// A placeholder holds nothing: `{{ }}`.
    EmptyExpression,
    /// A `||` has nothing on one of its sides: `{{ a || }}`, `{{ || a }}`.
    MissingOperand,
    /// A quoted literal has no closing quote.
    UnterminatedString,
    /// A backslash escape in a quoted literal is not one of the known ones.
    InvalidEscape,
    /// A path has an empty or malformed segment: `a..b`, `a.`, `a.1b`.
    InvalidPathSegment,
    /// A number literal is malformed (`01`, `1.`, `-`) or out of range.
    InvalidNumber,
    /// A character that cannot start or continue anything where it stands.
    UnexpectedCharacter,
}

/// A template that cannot be loaded, with where the problem is.
///
/// * [`line`](Self::line) and [`column`](Self::column) are 1-based and point
///   at the offending character in the template text. Lines end at `\n`;
///   columns count Unicode characters (a tab or a `\r` is one column).
/// * [`pointer`](Self::pointer) is the JSON pointer (RFC 6901) of the value
///   that holds the problem, such as `/full_name` or `/claims/0`; it is empty
///   for problems with the document as a whole.
/// * [`message`](Self::message) says what is wrong in plain words.
///
/// It displays as `line 3, column 17 (/full_name): unclosed placeholder:
/// expected }}`, or without the parenthesised pointer when it is empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}{}: {message}", PointerSuffix(pointer))]
pub struct TemplateError {
    kind: ErrorKind,
    line: usize,
    column: usize,
    pointer: String,
    message: String,
}

impl TemplateError {
    pub(crate) fn new(
        kind: ErrorKind,
        (line, column): (usize, usize),
        pointer: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            line,
            column,
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The 1-based line of the offending character.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column of the offending character, in Unicode characters.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The JSON pointer of the value holding the problem (`""` for the whole
    /// document).
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// What is wrong, in plain words, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

struct PointerSuffix<'a>(&'a str);

impl fmt::Display for PointerSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, " ({})", self.0)
        }
    }
}

/// Byte offsets to 1-based line and column (in characters).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Positions<'a> {
    text: &'a str,
}

impl<'a> Positions<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text }
    }

    /// Line and column of the character starting at byte `offset` (clamped to
    /// the text; an offset inside a character counts as that character).
    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        let bytes = self.text.as_bytes();
        let offset = offset.min(bytes.len());
        let before = bytes.get(..offset).unwrap_or_default();
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let in_line = before.get(line_start..).unwrap_or_default();
        // Count characters by their first bytes (anything but 0b10xx_xxxx).
        let column = 1 + in_line.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
        (line, column)
    }

    /// serde_json reports a 1-based line and a column counted in bytes; give
    /// the same place with the column counted in characters.
    pub(crate) fn serde_place(&self, line: usize, byte_column: usize) -> (usize, usize) {
        if line == 0 {
            return (1, 1);
        }
        let Some(line_text) = self.text.split('\n').nth(line - 1) else {
            return (line, byte_column.max(1));
        };
        let bytes = line_text.as_bytes();
        let upto = byte_column.min(bytes.len());
        let chars = bytes
            .get(..upto)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count();
        // serde_json may point one past the end of the line (end of input).
        let extra = byte_column.saturating_sub(bytes.len());
        (line, (chars + extra).max(1))
    }
}

/// Appends one reference token to a JSON pointer, escaped per RFC 6901.
pub(crate) fn push_pointer_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}
