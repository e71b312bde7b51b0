//! Claim templates: map token claims without writing a script.
//!
//! A template is a JSON object. Its string values may hold `{{ ... }}`
//! placeholders, evaluated against a JSON *root* (a user profile, say) when the
//! template is rendered. The result is the claims object.
//!
//! ```
//! use claimscript_template::Template;
//! use serde_json::json;
//!
//! let template = Template::parse(r#"{
//!     "email": "{{ Email.0.Value }}",
//!     "full_name": "{{ FirstName }} {{ LastName }}",
//!     "country": "{{ Country.Code }}",
//!     "plan": "{{ user.metadata.plan || 'free' }}",
//!     "metadata": "{{ user.metadata }}",
//!     "account_type": "enterprise"
//! }"#)?;
//!
//! let root = json!({
//!     "Email": [{ "Type": "Primary", "Value": "ada@example.com" }],
//!     "FirstName": "Ada",
//!     "LastName": "Lovelace",
//!     "Country": { "Code": "GB", "Name": "United Kingdom" },
//!     "user": { "metadata": { "team": "engines" } }
//! });
//!
//! let claims = template.render(&root);
//! assert_eq!(serde_json::Value::Object(claims), json!({
//!     "email": "ada@example.com",
//!     "full_name": "Ada Lovelace",
//!     "country": "GB",
//!     "plan": "free",
//!     "metadata": { "team": "engines" },
//!     "account_type": "enterprise"
//! }));
//!
//! // Mistakes are found when the template is loaded, with their place.
//! let err = Template::parse("{\n  \"name\": \"{{ FirstName \"\n}").unwrap_err();
//! assert_eq!(err.to_string(), "line 2, column 12 (/name): unclosed placeholder: expected }}");
//! # Ok::<(), claimscript_template::TemplateError>(())
//! ```
//!
//! # The template
//!
//! * The template text must be a JSON object at the top level (RFC 8259 JSON:
//!   no comments, no trailing commas). Its keys are copied to the result in
//!   order and are never templated. A key may appear only once in an object.
//! * Numbers, booleans, `null` and strings without placeholders are copied as
//!   they are. Objects and arrays are processed recursively: a string anywhere
//!   in them may hold placeholders.
//!
//! # Placeholders
//!
//! A placeholder is `{{`, an expression, and `}}`. Spaces, tabs and line
//! breaks may stand around the expression and around each `||`, but not
//! inside a path.
//!
//! * **Paths.** `user.metadata.plan` looks up `user` in the root, then
//!   `metadata` in that, then `plan`. A segment is a name,
//!   `[A-Za-z_$][A-Za-z0-9_$-]*`, or a non-negative integer, `[0-9]+`. On an
//!   array an integer segment is a 0-based index (`Email.0.Value`), written
//!   without leading zeros (`01` is missing there, as in JavaScript); on an
//!   object it looks up the key written the same way (`"0"`, `"01"`). A
//!   name on an array, or any segment on a string, number, boolean or null,
//!   is missing.
//!   A path starts with a name; a term that starts with a digit or `-` is a
//!   number literal.
//! * **Literals.** Quoted strings, in single or double quotes, with the
//!   escapes `\\`, `\'`, `\"`, `\n`, `\t` and `\uXXXX` (a surrogate pair
//!   written as two `\u` escapes gives one character). JSON number literals
//!   (`42`, `-1.5`, `1e3`). `true`, `false` and `null`, when they stand alone;
//!   `true.x` is a path. Remember that the template is JSON: inside a JSON
//!   string a backslash is written `\\` and a double quote `\"`, so the literal
//!   `'it\'s'` is written `"{{ 'it\\'s' }}"` in the template text.
//! * **Fallbacks.** `{{ a.b || c.d || 'default' }}` is evaluated left to
//!   right. A term is skipped when its value is missing, `null` or the empty
//!   string `""`; `0`, `false`, `[]` and `{}` are real values. The result is
//!   the first term that is not skipped. When every term is skipped the result
//!   is the last term's value, with missing giving `null`: `{{ nick || '' }}`
//!   gives `""` and `{{ a || b }}` gives `null` when both are missing.
//! * **Missing is never an error.** A path that leads nowhere gives the
//!   fallback, or `null`, at render time; [`Template::render`] cannot fail.
//!
//! # What a string becomes
//!
//! * A string that is exactly one placeholder, `"{{ expr }}"` (spaces allowed
//!   only inside the braces), is replaced by the expression's raw JSON value:
//!   object, array, number, boolean, string, or `null` when missing.
//! * Any other string with placeholders becomes a string: its text is kept and
//!   each placeholder is replaced by its value as text: a string as it is, a
//!   number as JSON number text (`3`, `2.5`), a boolean as `true` or `false`,
//!   `null` or missing as nothing, an object or array as compact JSON text
//!   (`{"a":1}`). So `" {{ n }}"` is always a string, because of the space.
//! * `{{` always opens a placeholder; to write a literal `{{`, write
//!   `{{ '{{' }}`. A `}}` outside a placeholder, or a lone `{`, is plain text.
//!
//! # Load-time errors
//!
//! [`Template::parse`] rejects a malformed template with a [`TemplateError`]
//! giving the line and column of the offending character (1-based; columns
//! count characters, and lines end at `\n`), the JSON pointer of the value
//! that holds it (`/full_name`, `/claims/0`, or empty for the whole document)
//! and what is wrong:
//!
//! | template value                | error (at)                                   |
//! |-------------------------------|----------------------------------------------|
//! | `"{{ a "`                      | unclosed placeholder (the `{{`)              |
//! | `"{{ }}"`                      | empty expression (the `{{`)                  |
//! | `"{{ a \|\| }}"`, `"{{ \|\| a }}"` | `\|\|` without an operand (that `\|\|`)  |
//! | `"{{ 'abc }}"`                 | unterminated string literal (the quote)      |
//! | `"{{ 'a\\q' }}"`               | invalid escape (the backslash)               |
//! | `"{{ a..b }}"`, `"{{ a. }}"`   | invalid path segment (where it should start) |
//! | `"{{ a.1b }}"`                 | invalid path segment (its first character)   |
//! | `"{{ 01 }}"`, `"{{ 1e999 }}"`  | invalid number literal                       |
//! | `"{{ a b }}"`, `"{{ a[0] }}"`  | unexpected character (that character)        |
//! | `{"a": 1, "a": 2}`             | duplicate key (the second key's quote)       |
//! | `[1, 2]`                       | not a JSON object at the top level           |
//! | `{"a": }`                      | invalid JSON (serde_json's place and words)  |
//!
//! Only the first problem is reported.
#![deny(missing_docs)]

mod error;
mod expr;
mod json;
mod render;

pub use error::{ErrorKind, TemplateError};

use serde_json::{Map, Value};

/// A loaded claim template, ready to render. See the [crate docs](crate) for
/// the syntax.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    entries: Vec<(String, json::Node)>,
}

impl Template {
    /// Parses and checks a template. Every malformed placeholder, duplicate
    /// key or non-object document is reported here, with its position, so
    /// that [`render`](Self::render) cannot fail.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        json::parse_template(text).map(|entries| Template { entries })
    }

    /// Evaluates the template against `root`. Missing paths give their
    /// fallback or `null`; nothing here fails.
    pub fn render(&self, root: &Value) -> Map<String, Value> {
        let mut budget = render::Budget {
            left: usize::MAX,
            exceeded: false,
        };
        render::render_entries(&self.entries, root, &mut budget)
    }

    /// [`render`](Self::render), stopping as soon as the claims would take
    /// more than `max_bytes` of JSON: `None` then, after at most about
    /// `max_bytes` of work and memory, however large the values the
    /// placeholders name. (The size counted leaves escapes out, so a
    /// result may still serialise a little over `max_bytes`: check it.)
    pub fn render_within(&self, root: &Value, max_bytes: usize) -> Option<Map<String, Value>> {
        let mut budget = render::Budget {
            left: max_bytes,
            exceeded: false,
        };
        let claims = render::render_entries(&self.entries, root, &mut budget);
        (!budget.exceeded).then_some(claims)
    }
}
