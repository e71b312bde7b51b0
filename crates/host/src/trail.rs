//! The execution trail: one structured record per run, for security teams.
//!
//! A [`RunRecord`] says what a run did: when, which script, for which token,
//! how it ended, the protected claims it tried to set, its resource use,
//! every fetch (method, `scheme://host:port/path`, status, bytes, time,
//! and for a failed one its kind and detail) and the names of the
//! environment variables it read.
//!
//! Every run attempt gives exactly one record: [`Script::run`](crate::Script::run)
//! records its run whether it returns a report or an `Err` (grants beyond
//! the engine's limits: `error_kind` `grants`), and records a run whose
//! future is dropped before it ends (`error_kind` `cancelled`) when it is
//! dropped; [`Engine::run_source`](crate::Engine::run_source) also records a
//! source that does not compile.
//!
//! Redaction is structural for everything but two fields. A record has no
//! field for environment values, header values, request or response
//! bodies, token or context contents, claim values, console output or error
//! messages, a fetch's method is one of a fixed list (or `OTHER`), and a
//! failed fetch is recorded by its kind and a detail in the host's words
//! only ([`FetchFailureRecord`](crate::FetchFailureRecord)). The fields a
//! script can write freely — a denial's message, code and title, and a
//! fetch's host and path — are the script's own words, scrubbed on a
//! best-effort basis: every known
//! value at least [`SCRUB_MIN_CHARS`] characters long (environment values,
//! token and context strings, request and response header values, request
//! and response bodies and their JSON strings) is replaced by [`REDACTED`]
//! wherever it occurs exactly, ignoring ASCII case, raw or percent-encoded.
//! A script that transforms a secret first (reverses, splits or encodes it
//! otherwise) can still write it there. Records are written as JSON, so no
//! string a script chooses can break a line or forge a field.
//!
//! Records go to the [`AuditSink`] in
//! [`EngineConfig::audit_sink`](crate::EngineConfig::audit_sink):
//! [`JsonLinesSink`] appends them to a file, [`TracingSink`] emits them as
//! `tracing` events.

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Serialize;
use serde_json::Value;

use crate::fetch::Seen;
use crate::input::{RunInput, TokenKind};
use crate::outcome::{ErrorKind, FetchRecord, Outcome, RunReport};
use crate::providers::{Precision, rfc3339};

/// Values shorter than this are not scrubbed: they are too common to be
/// secrets, and scrubbing them would garble everything else. A secret this
/// short can therefore appear in a denial message or a fetch path.
pub const SCRUB_MIN_CHARS: usize = 6;
/// What a scrubbed value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// What the embedder knows about a run that the run does not: the
/// decision's id, the name the script is registered under, and who asked.
/// Copied into the run's [`RunRecord`] as given (they are the embedder's
/// words, not the script's: nothing is scrubbed). Pass them with
/// [`Script::run_labelled`](crate::Script::run_labelled) or
/// [`Engine::run_source_labelled`](crate::Engine::run_source_labelled).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RunLabels {
    /// The decision's id, as the caller's response carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
    /// The name the script is registered under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Who asked for the run: the id of the caller's credential, never the
    /// credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
}

impl RunLabels {
    /// Set the decision id.
    pub fn with_decision_id(mut self, id: impl Into<String>) -> Self {
        self.decision_id = Some(id.into());
        self
    }

    /// Set the script's registered name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Set the caller's credential id.
    pub fn with_caller(mut self, caller: impl Into<String>) -> Self {
        self.caller = Some(caller.into());
        self
    }
}

/// One run, as a security team's trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RunRecord {
    /// When the run started, RFC 3339 (UTC); empty if the system clock is
    /// outside what RFC 3339 can write (before 1970, after 9999).
    pub time: String,
    /// The embedder's labels (decision id, script name, caller), each
    /// present only when given.
    #[serde(flatten)]
    pub labels: RunLabels,
    /// SHA-256 of the script's artifact; for a source that did not compile
    /// (no artifact), the source's SHA-256, as in `source`.
    pub script: String,
    /// SHA-256 of the script's source.
    pub source: String,
    /// The script's style; `unknown` for a source that did not compile and
    /// was not given a style.
    pub style: &'static str,
    /// `access_token` or `client_credentials`.
    pub token_kind: &'static str,
    /// `claims`, `denied` or `error`.
    pub outcome: &'static str,
    /// The error kind, for an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    /// The denial, for a denial (scrubbed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denial: Option<DenialRecord>,
    /// Protected claims the script tried to set (names only).
    pub dropped_claims: Vec<String>,
    /// How many claims the script set, per token (names and values are not
    /// recorded).
    pub claims: ClaimCounts,
    /// Fuel consumed.
    pub fuel: u64,
    /// Wall-clock time of the run.
    pub duration_us: u64,
    /// Peak linear memory.
    pub memory_bytes: u64,
    /// Every fetch the script attempted (URLs scrubbed).
    pub fetches: Vec<FetchRecord>,
    /// Names of the input's environment variables the script read, and
    /// whether the grants exposed each.
    pub env_read: Vec<EnvRead>,
    /// Reads of names the input does not provide (the names are not
    /// recorded: they are the script's own text).
    pub env_read_missing: usize,
    /// Console records the script wrote (their text is the caller's, not
    /// the trail's).
    pub console_records: usize,
}

/// A denial in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DenialRecord {
    /// The message, scrubbed.
    pub message: String,
    /// The provider code, scrubbed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The provider title, scrubbed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// How many claims a run set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ClaimCounts {
    /// Access-token claims.
    pub access_token: usize,
    /// ID-token claims.
    pub id_token: usize,
}

/// An environment variable a script read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EnvRead {
    /// Its name.
    pub name: String,
    /// Whether the grants let the script see it.
    pub exposed: bool,
}

/// Where run records go. Called once per run, from the task that ran it;
/// implementations should not block for long.
pub trait AuditSink: Send + Sync + std::fmt::Debug {
    /// Take one record.
    fn record(&self, record: &RunRecord);
}

/// Appends records to a file as JSON lines, one `write` per record.
#[derive(Debug)]
pub struct JsonLinesSink {
    file: Mutex<File>,
}

impl JsonLinesSink {
    /// Open `path` for appending, creating it if needed. A file it creates
    /// is readable and writable by its owner only (mode 0600 on unix); an
    /// existing file keeps its permissions.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<JsonLinesSink> {
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        Ok(JsonLinesSink {
            file: Mutex::new(options.open(path)?),
        })
    }
}

impl AuditSink for JsonLinesSink {
    fn record(&self, record: &RunRecord) {
        // A record always serialises (strings and numbers); if one did not,
        // write nothing rather than a blank line.
        let Ok(mut line) = serde_json::to_vec(record) else {
            return;
        };
        line.push(b'\n');
        if let Ok(mut file) = self.file.lock() {
            // A failed write loses this record only; the run is not the
            // place to report it.
            let _ = file.write_all(&line);
        }
    }
}

/// Emits records as `tracing` events: target `claimscript::audit`, level
/// INFO, the main fields as event fields and the whole record as JSON in
/// `record`.
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingSink;

impl AuditSink for TracingSink {
    fn record(&self, record: &RunRecord) {
        let json = serde_json::to_string(record).unwrap_or_default();
        tracing::info!(
            target: "claimscript::audit",
            script = %record.script,
            token_kind = record.token_kind,
            outcome = record.outcome,
            error_kind = record.error_kind.map(ErrorKind::as_str),
            fuel = record.fuel,
            duration_us = record.duration_us,
            fetches = record.fetches.len(),
            record = %json,
            "claims script run"
        );
    }
}

/// Values to scrub from a record, and the matcher built from them (once,
/// at the first [`Scrubber::scrub`]).
#[derive(Debug, Default)]
pub(crate) struct Scrubber {
    values: BTreeSet<String>,
    matcher: OnceCell<Option<AhoCorasick>>,
}

/// Values up to this long are also matched percent-encoded (secrets are
/// short; encoding every long body would only grow the matcher).
const ENCODE_MAX_BYTES: usize = 256;
/// A body up to this long is matched whole, as well as by its JSON strings.
const WHOLE_BODY_MAX_BYTES: usize = 4096;

impl Scrubber {
    /// Everything the input gives the run: environment values, token and
    /// context strings.
    pub(crate) fn for_input(input: &RunInput) -> Scrubber {
        let mut scrubber = Scrubber::default();
        for value in input.environment_variables.values() {
            scrubber.add_header_value(value);
        }
        input.token.values().for_each(|v| scrubber.add_json(v));
        if let Some(context) = &input.context {
            context.values().for_each(|v| scrubber.add_json(v));
        }
        scrubber
    }

    pub(crate) fn add(&mut self, value: &str) {
        if value.chars().count() >= SCRUB_MIN_CHARS && !self.values.contains(value) {
            self.values.insert(value.to_string());
            self.matcher = OnceCell::new();
        }
    }

    /// Every string and number in a JSON value (not the keys: they name
    /// fields, and scrubbing them would garble messages for nothing).
    pub(crate) fn add_json(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.add(s),
            Value::Array(items) => items.iter().for_each(|v| self.add_json(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_json(v)),
            Value::Number(n) => self.add(&n.to_string()),
            Value::Bool(_) | Value::Null => {}
        }
    }

    /// A header value: whole, and each word (`Bearer <token>`).
    pub(crate) fn add_header_value(&mut self, value: &str) {
        self.add(value);
        value.split_whitespace().for_each(|word| self.add(word));
    }

    /// What the run's requests and responses carried.
    pub(crate) fn add_seen(&mut self, seen: &Seen) {
        seen.header_values
            .iter()
            .for_each(|v| self.add_header_value(v));
        seen.bodies.iter().for_each(|b| self.add_body(b));
    }

    /// A body: its JSON strings if it is JSON, and the whole text (trimmed
    /// too) if it is short.
    pub(crate) fn add_body(&mut self, body: &[u8]) {
        if body.len() <= WHOLE_BODY_MAX_BYTES {
            let text = String::from_utf8_lossy(body);
            self.add(&text);
            self.add(text.trim());
        }
        if let Ok(json) = serde_json::from_slice::<Value>(body) {
            self.add_json(&json);
        }
    }

    /// The matcher: every value raw and, when short, percent-encoded the
    /// two ways a URL path shows it (as the URL parser encodes raw text, and
    /// as `encodeURIComponent` does), ignoring ASCII case (URL hosts come
    /// out lower-cased, percent-encodings may be either case). `None` when
    /// it cannot be built: then [`Scrubber::scrub`] redacts the whole text.
    fn matcher(&self) -> Option<&AhoCorasick> {
        self.matcher
            .get_or_init(|| {
                let mut patterns: BTreeSet<&str> = BTreeSet::new();
                let mut encoded: BTreeSet<String> = BTreeSet::new();
                for value in &self.values {
                    patterns.insert(value);
                    if value.len() <= ENCODE_MAX_BYTES {
                        for form in [
                            percent_encode(value, in_url_path),
                            percent_encode(value, in_uri_component),
                        ] {
                            if form != *value {
                                encoded.insert(form);
                            }
                        }
                    }
                }
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(
                        patterns
                            .iter()
                            .copied()
                            .chain(encoded.iter().map(String::as_str)),
                    )
                    .ok()
            })
            .as_ref()
    }

    /// `text` with every occurrence of every known value replaced by
    /// [`REDACTED`]. Occurrences that overlap are replaced as one, so no
    /// part of any value is left.
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.values.is_empty() {
            return text.to_string();
        }
        let Some(matcher) = self.matcher() else {
            return REDACTED.to_string();
        };
        let mut ranges: Vec<(usize, usize)> = matcher
            .find_overlapping_iter(text)
            .map(|found| (found.start(), found.end()))
            .collect();
        if ranges.is_empty() {
            return text.to_string();
        }
        // Overlapping matches come in the order of their ends: sort by start
        // and merge.
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in merged {
            out.extend_from_slice(bytes.get(at..start).unwrap_or_default());
            out.extend_from_slice(REDACTED.as_bytes());
            at = end;
        }
        out.extend_from_slice(bytes.get(at..).unwrap_or_default());
        // Matches start and end on character boundaries (values are whole
        // UTF-8 and case folding is ASCII only); lossy just in case.
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Bytes the URL parser leaves as they are in a path: printable ASCII but
/// space, `"`, `#`, `<`, `>`, `?`, `` ` ``, `{` and `}`.
fn in_url_path(byte: u8) -> bool {
    byte.is_ascii_graphic() && !b"\"#<>?`{}".contains(&byte)
}

/// Bytes `encodeURIComponent` leaves as they are.
fn in_uri_component(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte)
}

fn percent_encode(value: &str, keep: fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(value.len());
    for &byte in value.as_bytes() {
        if keep(byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What a run knows about itself beyond its report, for its record.
pub(crate) struct RunFacts<'a> {
    pub(crate) started: SystemTime,
    pub(crate) script: String,
    pub(crate) source: &'a str,
    pub(crate) style: &'static str,
    pub(crate) input: &'a RunInput,
    pub(crate) env_read: &'a BTreeSet<String>,
    pub(crate) exposed: &'a dyn Fn(&str) -> bool,
    /// What the run's requests and responses carried, to scrub.
    pub(crate) seen: Option<&'a Seen>,
    pub(crate) labels: &'a RunLabels,
}

/// The record of a run. The scrubber is built only for a record with
/// something to scrub (a denial, fetches): most runs have neither, and
/// collecting every value of the input costs as much as a third of a run.
pub(crate) fn record(report: &RunReport, facts: &RunFacts<'_>) -> RunRecord {
    let built = std::cell::OnceCell::new();
    let scrubber = || {
        built.get_or_init(|| {
            let mut scrubber = Scrubber::for_input(facts.input);
            if let Some(seen) = facts.seen {
                scrubber.add_seen(seen);
            }
            scrubber
        })
    };
    let (outcome, error_kind, denial, dropped, claims) = match &report.outcome {
        Outcome::Claims {
            claims,
            id_token_claims,
            ..
        } => {
            let counts = ClaimCounts {
                access_token: claims.len(),
                id_token: id_token_claims.as_ref().map_or(0, |c| c.len()),
            };
            ("claims", None, None, report.outcome.all_dropped(), counts)
        }
        Outcome::Denied(denial) => {
            let record = DenialRecord {
                message: scrubber().scrub(&denial.message),
                code: denial.code.as_deref().map(|c| scrubber().scrub(c)),
                title: denial.title.as_deref().map(|t| scrubber().scrub(t)),
            };
            (
                "denied",
                None,
                Some(record),
                Vec::new(),
                ClaimCounts::default(),
            )
        }
        Outcome::Error(error) => (
            "error",
            Some(error.kind),
            None,
            Vec::new(),
            ClaimCounts::default(),
        ),
    };
    let env = &facts.input.environment_variables;
    let env_read = facts
        .env_read
        .iter()
        .filter(|name| env.contains_key(*name))
        .map(|name| EnvRead {
            name: name.clone(),
            exposed: (facts.exposed)(name),
        })
        .collect();
    let env_read_missing = facts
        .env_read
        .iter()
        .filter(|n| !env.contains_key(*n))
        .count();
    let fetches = report
        .stats
        .fetches
        .iter()
        .map(|f| {
            // A failure's record is the host's words only: not scrubbed.
            let mut f = f.clone();
            f.url = scrubber().scrub(&f.url);
            f
        })
        .collect();
    RunRecord {
        time: rfc3339(facts.started, Precision::Micros).unwrap_or_default(),
        labels: facts.labels.clone(),
        script: facts.script.clone(),
        source: facts.source.to_string(),
        style: facts.style,
        token_kind: match facts.input.kind {
            TokenKind::AccessToken => "access_token",
            TokenKind::ClientCredentials => "client_credentials",
        },
        outcome,
        error_kind,
        denial,
        dropped_claims: dropped,
        claims,
        fuel: report.stats.fuel,
        duration_us: report.stats.duration_us,
        memory_bytes: report.stats.memory_bytes,
        fetches,
        env_read,
        env_read_missing,
        console_records: report.logs.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_replaces_longest_values_first_and_ignores_short_ones() {
        let mut scrubber = Scrubber::default();
        scrubber.add("sk_live_abcdef");
        scrubber.add("sk_live_abcdef_and_more");
        scrubber.add("abc");
        assert_eq!(
            scrubber.scrub("key SK_LIVE_ABCDEF_and_more, then sk_live_abcdef; abc stays"),
            "key [redacted], then [redacted]; abc stays"
        );
    }

    #[test]
    fn scrub_leaves_no_part_of_overlapping_values() {
        let mut scrubber = Scrubber::default();
        scrubber.add("000123");
        scrubber.add("123456789");
        assert_eq!(scrubber.scrub("x 000123456789 y"), "x [redacted] y");
    }

    #[test]
    fn scrub_matches_percent_encoded_forms() {
        let mut scrubber = Scrubber::default();
        scrubber.add("s3cr&t/val ue\u{e9}");
        // As the URL parser writes a raw path, and as encodeURIComponent does
        // (either case of hex digits).
        assert_eq!(
            scrubber.scrub("/echo/s3cr&t/val%20ue%C3%A9/x"),
            "/echo/[redacted]/x"
        );
        assert_eq!(
            scrubber.scrub("/echo/s3cr%26t%2fval%20ue%c3%a9"),
            "/echo/[redacted]"
        );
        assert_eq!(
            scrubber.scrub("raw s3cr&t/val ue\u{e9}!"),
            "raw [redacted]!"
        );
    }

    #[test]
    fn scrub_terminates_when_the_value_is_in_the_marker() {
        let mut scrubber = Scrubber::default();
        scrubber.add("redacted");
        assert_eq!(scrubber.scrub("redacted redacted"), "[redacted] [redacted]");
    }
}
