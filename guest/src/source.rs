//! What can be learned from a script's source before it runs: its style,
//! the packages it `require`s and the provider APIs it uses that this
//! runtime does not have. A small scanner skips comments, strings and
//! template literals, so that text inside them is never mistaken for code.

use crate::claimscript::script::types::Style;

/// A word of code, with its 1-based position.
#[derive(Debug, PartialEq)]
struct Word<'a> {
    text: &'a str,
    line: u32,
    column: u32,
    /// The string literal this word is, when it is one (without quotes).
    literal: bool,
}

/// The identifiers, punctuation and string literals of `source`, in order.
fn words(source: &str) -> Vec<Word<'_>> {
    let bytes = source.as_bytes();
    let mut words = Vec::new();
    let (mut at, mut line, mut line_start) = (0usize, 1u32, 0usize);
    // Whether a `/` here starts a regular expression (no value before it).
    let mut regex_allowed = true;
    // Columns count characters from the line's start; counted on from the
    // last position asked for, so that a long (minified) line costs no more
    // than a short one.
    let (mut counted_to, mut counted) = (0usize, 0usize);
    while at < bytes.len() {
        let b = bytes[at];
        if counted_to < line_start {
            (counted_to, counted) = (line_start, 0);
        }
        counted += source.get(counted_to..at).map_or(0, |s| s.chars().count());
        counted_to = at;
        let column = (counted + 1) as u32;
        match b {
            b'\n' => {
                at += 1;
                line += 1;
                line_start = at;
            }
            b' ' | b'\t' | b'\r' => at += 1,
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at += 2;
                while at < bytes.len() && !(bytes[at] == b'*' && bytes.get(at + 1) == Some(&b'/')) {
                    if bytes[at] == b'\n' {
                        line += 1;
                        line_start = at + 1;
                    }
                    at += 1;
                }
                at += 2;
            }
            b'\'' | b'"' | b'`' => {
                let start = at + 1;
                at += 1;
                while at < bytes.len() && bytes[at] != b {
                    if bytes[at] == b'\\' {
                        at += 1;
                    }
                    // A line break, escaped (a line continuation) or not.
                    if bytes.get(at) == Some(&b'\n') {
                        line += 1;
                        line_start = at + 1;
                    }
                    at += 1;
                }
                let end = at.min(bytes.len());
                words.push(Word {
                    text: source.get(start..end).unwrap_or(""),
                    line,
                    column,
                    literal: b != b'`',
                });
                at += 1;
                regex_allowed = false;
            }
            b'/' if regex_allowed => {
                at += 1;
                let mut class = false;
                while at < bytes.len() && bytes[at] != b'\n' && (bytes[at] != b'/' || class) {
                    match bytes[at] {
                        b'\\' => at += 1,
                        b'[' => class = true,
                        b']' => class = false,
                        _ => {}
                    }
                    at += 1;
                }
                at += 1;
                regex_allowed = false;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' => {
                let start = at;
                while at < bytes.len()
                    && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_' || bytes[at] == b'$')
                {
                    at += 1;
                }
                let text = &source[start..at];
                regex_allowed = matches!(
                    text,
                    "return"
                        | "typeof"
                        | "case"
                        | "do"
                        | "else"
                        | "in"
                        | "of"
                        | "void"
                        | "await"
                        | "yield"
                );
                words.push(Word {
                    text,
                    line,
                    column,
                    literal: false,
                });
            }
            _ => {
                let len = source[at..].chars().next().map_or(1, char::len_utf8);
                words.push(Word {
                    text: &source[at..at + len],
                    line,
                    column,
                    literal: false,
                });
                regex_allowed = !matches!(b, b')' | b']' | b'}');
                at += len;
            }
        }
    }
    words
}

/// What the scan found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// `exports.X = ...` / `module.exports.X = ...` assignments and the keys
    /// of `module.exports = { ... }`, by name.
    pub(crate) exports: Vec<String>,
    /// Whether the code has `export` or a static `import`: an ES module.
    pub(crate) module: bool,
    /// `require('name')` calls: the name and its position.
    pub(crate) requires: Vec<(String, u32, u32)>,
    /// `api.member` uses: the member and its position.
    pub(crate) api_members: Vec<(String, u32, u32)>,
}

pub(crate) fn scan(source: &str) -> Scan {
    let words = words(source);
    let mut scan = Scan::default();
    let after_dot = |i: usize| i > 0 && words[i - 1].text == "." && !words[i - 1].literal;
    for (i, word) in words.iter().enumerate() {
        if word.literal {
            continue;
        }
        let next = |k: usize| words.get(i + k);
        match word.text {
            "exports" if !after_dot(i) || (i >= 2 && words[i - 2].text == "module") => {
                if let (Some(dot), Some(name), Some(eq)) = (next(1), next(2), next(3))
                    && dot.text == "."
                    && !name.literal
                    && eq.text == "="
                    && next(4).is_none_or(|w| w.text != "=")
                {
                    scan.exports.push(name.text.to_string());
                }
            }
            "module" if !after_dot(i) => {
                if let (Some(dot), Some(exports), Some(eq), Some(open)) =
                    (next(1), next(2), next(3), next(4))
                    && dot.text == "."
                    && exports.text == "exports"
                    && eq.text == "="
                    && open.text == "{"
                    && !open.literal
                {
                    scan.exports.extend(object_keys(&words[i + 5..]));
                }
            }
            // `export` and `import` as declarations, not as property names
            // (`{ export: x }`, `o.import`, `{ import() {} }`) or `import()`.
            "export" if !after_dot(i) => {
                if next(1).is_some_and(|w| {
                    !w.literal
                        && matches!(
                            w.text,
                            "default"
                                | "const"
                                | "let"
                                | "var"
                                | "function"
                                | "async"
                                | "class"
                                | "{"
                                | "*"
                        )
                }) {
                    scan.module = true;
                }
            }
            "import" if !after_dot(i) => {
                if next(1)
                    .is_some_and(|w| w.literal || w.text == "{" || w.text == "*" || is_name(w.text))
                {
                    scan.module = true;
                }
            }
            "require" if !after_dot(i) => {
                if let (Some(open), Some(name)) = (next(1), next(2))
                    && open.text == "("
                    && name.literal
                {
                    scan.requires
                        .push((name.text.to_string(), word.line, word.column));
                }
            }
            "api" if !after_dot(i) => {
                if let (Some(dot), Some(member)) = (next(1), next(2))
                    && dot.text == "."
                    && !member.literal
                {
                    scan.api_members
                        .push((member.text.to_string(), word.line, word.column));
                }
            }
            _ => {}
        }
    }
    scan
}

/// Whether a word is a name (an identifier or keyword), not punctuation.
fn is_name(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$')
}

/// The keys of an object literal whose `{` was just before `words`:
/// `{ execute, other: f, async method() {} }`.
fn object_keys(words: &[Word<'_>]) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 1;
    let mut key_next = true;
    for word in words {
        if !word.literal {
            match word.text {
                "{" | "(" | "[" => depth += 1,
                "}" | ")" | "]" => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                "," if depth == 1 => {
                    key_next = true;
                    continue;
                }
                "async" | "get" | "set" | "*" if depth == 1 && key_next => continue,
                _ => {}
            }
        }
        if depth == 1 && key_next && (word.literal || is_name(word.text)) {
            keys.push(word.text.to_string());
        }
        key_next = false;
    }
    keys
}

/// The style a script's exports imply: Auth0 Actions export
/// `onExecute...` triggers, LoginRadius scripts export `execute`, anything
/// else is a Logto script.
pub(crate) fn detect_style(scan: &Scan) -> Style {
    let exports = |name: &str| scan.exports.iter().any(|e| e == name);
    if exports("onExecutePostLogin") || exports("onExecuteCredentialsExchange") {
        Style::Auth0
    } else if exports("execute") {
        Style::Loginradius
    } else {
        Style::Logto
    }
}
