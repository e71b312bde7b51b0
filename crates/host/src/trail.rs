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
//! fetch's host and path — are the script's own words, scrubbed of the
//! run's secrets on a best-effort basis: every environment value, request
//! and response header value (and each word of one) and request and
//! response body (whole when short, and its JSON strings) at least
//! [`SCRUB_MIN_CHARS`] characters long is replaced by [`REDACTED`]
//! wherever it occurs exactly, ignoring ASCII case, raw or (up to 256
//! bytes) percent-encoded. Token and context values are not scrubbed: they
//! say who asked, not what is secret, and scrubbing them would let a
//! token's own subject hide the destination a script reached or why it was
//! denied; nor is a value that is exactly a fetch's destination (its host,
//! `host:port` or origin), which the record shows anyway. A script that transforms a secret first (reverses, splits or
//! encodes it otherwise) can still write it there. Scrubbing is bounded:
//! a value longer than [`SCRUB_CHUNK_BYTES`] is matched as the chunks that
//! tile it, and past [`MAX_SCRUB_PATTERN_BYTES`] of patterns the free-text
//! fields are redacted whole. Records are written as JSON, so no string a
//! script chooses can break a line or forge a field.
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

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
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

/// Appends records to a file as JSON lines, each record and its newline
/// written together.
///
/// A record that cannot be written (disk full, an I/O error) is counted,
/// and the last error kept: see [`JsonLinesSink::failures`]; the run is not
/// the place to report it, its embedder is (the CLI says so on stderr and
/// exits 74). A write that fails part-way is undone (the file is cut back
/// to where the record began) when no other writer appended meanwhile, and
/// otherwise ended with a newline, so that a torn record never joins the
/// next one on a line.
#[derive(Debug)]
pub struct JsonLinesSink {
    file: Mutex<File>,
    failures: Mutex<(u64, Option<String>)>,
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
            failures: Mutex::new((0, None)),
        })
    }

    /// How many records could not be written, and the last error (as
    /// text), since the sink was opened.
    pub fn failures(&self) -> (u64, Option<String>) {
        self.failures
            .lock()
            .map(|f| f.clone())
            .unwrap_or((1, Some("the audit sink's state is poisoned".into())))
    }

    fn failed(&self, error: &std::io::Error) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.0 += 1;
            failures.1 = Some(error.to_string());
        }
    }
}

/// Write `line` (a record and its newline) at the end of `file`; on a
/// failure after some bytes, cut them off again (or end the line).
fn append_line(file: &mut File, line: &[u8]) -> std::io::Result<()> {
    let start = file.metadata().map(|m| m.len()).ok();
    let mut written = 0;
    while written < line.len() {
        match file.write(line.get(written..).unwrap_or_default()) {
            Ok(0) => {
                let error = std::io::Error::from(std::io::ErrorKind::WriteZero);
                undo(file, start, written);
                return Err(error);
            }
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                undo(file, start, written);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Undo a torn write of `written` bytes that began at `start`.
fn undo(file: &mut File, start: Option<u64>, written: usize) {
    if written == 0 {
        return;
    }
    let end = file.metadata().map(|m| m.len()).ok();
    // Nobody else appended: cut the torn record off.
    if let (Some(start), Some(end)) = (start, end)
        && end == start + written as u64
        && file.set_len(start).is_ok()
    {
        return;
    }
    // Otherwise end the torn line, so the next record starts its own.
    let _ = file.write_all(b"\n");
}

impl AuditSink for JsonLinesSink {
    fn record(&self, record: &RunRecord) {
        // A record always serialises (strings and numbers); if one did not,
        // write nothing rather than a blank line.
        let Ok(mut line) = serde_json::to_vec(record) else {
            return;
        };
        line.push(b'\n');
        match self.file.lock() {
            Ok(mut file) => {
                if let Err(e) = append_line(&mut file, &line) {
                    self.failed(&e);
                }
            }
            Err(_) => self.failed(&std::io::Error::other("the audit log's lock is poisoned")),
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
///
/// What it keeps is bounded: a value longer than [`SCRUB_CHUNK_BYTES`] is
/// kept as the chunks that tile it (the same chunk is kept once), and when
/// the patterns would pass [`MAX_SCRUB_PATTERN_BYTES`] in all, the scrubber
/// stops keeping values and redacts every text it is given whole. Building
/// the matcher and scrubbing a text are then linear in what was kept and in
/// the text.
#[derive(Debug, Default)]
pub(crate) struct Scrubber {
    values: BTreeSet<String>,
    /// Bytes of `values`.
    bytes: usize,
    /// A value did not fit in [`MAX_SCRUB_PATTERN_BYTES`]: redact all.
    overflowed: bool,
    matcher: OnceCell<Option<AhoCorasick>>,
}

/// Values up to this long are also matched percent-encoded (secrets are
/// short; encoding every long body would only grow the matcher).
const ENCODE_MAX_BYTES: usize = 256;
/// A body up to this long is matched whole, as well as by its JSON strings.
const WHOLE_BODY_MAX_BYTES: usize = 4096;
/// A value longer than this many bytes is matched as the chunks of this
/// size that tile it (the last one ends where the value ends), so that an
/// occurrence of the whole value is still redacted whole. Matching one long
/// repetitive pattern (`'a'.repeat(16000)`) would cost time quadratic in
/// its length.
pub const SCRUB_CHUNK_BYTES: usize = 128;
/// The most bytes of patterns a scrubber keeps (values, chunks and their
/// percent-encoded forms). Past it the record's free-text fields (denial
/// message, code and title, fetch URLs) are replaced by [`REDACTED`] whole:
/// the trail fails closed rather than costing unbounded time or memory.
pub const MAX_SCRUB_PATTERN_BYTES: usize = 4 << 20;

impl Scrubber {
    /// What the input gives the run that is a secret: environment values.
    /// Token and context values are not secrets from the trail (they say
    /// who asked), and scrubbing them would hide where a script went and
    /// why it denied.
    pub(crate) fn for_input(input: &RunInput) -> Scrubber {
        let mut scrubber = Scrubber::default();
        for value in input.environment_variables.values() {
            scrubber.add_header_value(value);
        }
        scrubber
    }

    /// How many patterns the matcher is built from, and their bytes (for
    /// tests: both bounded whatever the values).
    #[cfg(test)]
    pub(crate) fn kept(&self) -> (usize, usize) {
        (self.values.len(), self.bytes)
    }

    pub(crate) fn add(&mut self, value: &str) {
        if self.overflowed || value.len() < SCRUB_MIN_CHARS {
            return;
        }
        if value.chars().count() < SCRUB_MIN_CHARS {
            return;
        }
        if value.len() <= SCRUB_CHUNK_BYTES {
            self.keep(value, value.len() <= ENCODE_MAX_BYTES);
            return;
        }
        // Chunks at SCRUB_CHUNK_BYTES steps (cut back to a character
        // boundary), the last one ending at the value's end.
        let mut at = 0;
        while at < value.len() && !self.overflowed {
            let mut end = (at + SCRUB_CHUNK_BYTES).min(value.len());
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            if end == value.len() {
                let mut start = value.len().saturating_sub(SCRUB_CHUNK_BYTES);
                while !value.is_char_boundary(start) {
                    start += 1;
                }
                self.keep(value.get(start..).unwrap_or_default(), false);
                break;
            }
            if end <= at {
                // Cannot happen (a character is at most 4 bytes); stop
                // rather than loop.
                break;
            }
            self.keep(value.get(at..end).unwrap_or_default(), false);
            at = end;
        }
    }

    /// Keep one pattern (at most [`SCRUB_CHUNK_BYTES`] long) and, for a
    /// short value's own text (`encode`), its percent-encoded forms: the
    /// two ways a URL path shows it (as the URL parser encodes raw text,
    /// and as `encodeURIComponent` does).
    fn keep(&mut self, value: &str, encode: bool) {
        if self.values.contains(value) {
            return;
        }
        let mut forms = vec![value.to_string()];
        if encode {
            for form in [
                percent_encode(value, in_url_path),
                percent_encode(value, in_uri_component),
            ] {
                if form != value && !forms.contains(&form) && !self.values.contains(&form) {
                    forms.push(form);
                }
            }
        }
        let cost: usize = forms.iter().map(String::len).sum();
        match self.bytes.checked_add(cost) {
            Some(total) if total <= MAX_SCRUB_PATTERN_BYTES => {
                self.bytes = total;
                self.values.extend(forms);
                self.matcher = OnceCell::new();
            }
            _ => {
                self.overflowed = true;
                self.values.clear();
                self.bytes = 0;
                self.matcher = OnceCell::new();
            }
        }
    }

    /// Never scrub these values (compared ignoring ASCII case): the
    /// destinations the run's fetches reached, which the record shows
    /// anyway, and which a response that names its own host would
    /// otherwise blank out.
    pub(crate) fn spare(&mut self, destinations: &BTreeSet<String>) {
        let before = self.values.len();
        self.values
            .retain(|v| !destinations.iter().any(|d| d.eq_ignore_ascii_case(v)));
        if self.values.len() != before {
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

    /// The matcher: every kept pattern, ignoring ASCII case (URL hosts
    /// come out lower-cased, percent-encodings may be either case). A
    /// contiguous NFA: building a DFA follows failure links for every state
    /// and byte, which costs more than the scrubbing it saves. `None` when
    /// it cannot be built: then [`Scrubber::scrub`] redacts the whole text.
    fn matcher(&self) -> Option<&AhoCorasick> {
        self.matcher
            .get_or_init(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .build(self.values.iter())
                    .ok()
            })
            .as_ref()
    }

    /// `text` with every occurrence of every known value replaced by
    /// [`REDACTED`]. Occurrences that overlap or touch are replaced as one,
    /// so no part of any value is left. Linear in the text and the number
    /// of matches (at most one per pattern length per position, and every
    /// pattern is at most [`SCRUB_CHUNK_BYTES`] long raw).
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.overflowed {
            return REDACTED.to_string();
        }
        if self.values.is_empty() {
            return text.to_string();
        }
        let Some(matcher) = self.matcher() else {
            return REDACTED.to_string();
        };
        // reach[i]: the furthest end of a match starting at i.
        let mut reach: Vec<usize> = Vec::new();
        for found in matcher.find_overlapping_iter(text) {
            if reach.is_empty() {
                reach = vec![0; text.len() + 1];
            }
            if let Some(r) = reach.get_mut(found.start()) {
                *r = (*r).max(found.end());
            }
        }
        if reach.is_empty() {
            return text.to_string();
        }
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(text.len());
        let mut at = 0;
        let mut covered_to = 0;
        let mut start = None;
        for (i, &r) in reach.iter().enumerate() {
            if let Some(s) = start {
                // A match starting where the run ends extends it.
                if i >= covered_to && !(i == covered_to && r > i) {
                    // The redacted run [s, covered_to) ends here.
                    out.extend_from_slice(bytes.get(at..s).unwrap_or_default());
                    out.extend_from_slice(REDACTED.as_bytes());
                    at = covered_to;
                    start = None;
                }
            }
            if r > i {
                if start.is_none() {
                    start = Some(i);
                    covered_to = r;
                } else {
                    covered_to = covered_to.max(r);
                }
            }
        }
        if let Some(s) = start {
            out.extend_from_slice(bytes.get(at..s).unwrap_or_default());
            out.extend_from_slice(REDACTED.as_bytes());
            at = covered_to;
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

/// Where the run's fetches went, as a value may name it: `host`,
/// `host:port`, `scheme://host:port` and (for the scheme's default port)
/// `scheme://host`.
fn destinations(fetches: &[FetchRecord]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for fetch in fetches {
        let Ok(url) = url::Url::parse(&fetch.url) else {
            continue;
        };
        let Some(host) = url.host_str() else {
            continue;
        };
        out.insert(host.to_string());
        if let Some(port) = url.port_or_known_default() {
            out.insert(format!("{host}:{port}"));
            out.insert(format!("{}://{host}:{port}", url.scheme()));
        }
        out.insert(format!("{}://{host}", url.scheme()));
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
            scrubber.spare(&destinations(&report.stats.fetches));
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
    fn scrub_of_long_repetitive_values_keeps_bounded_patterns() {
        // One value of 16,000 'a's and a 32,000-character one: a handful of
        // chunks (the same chunk once), never a pattern per suffix.
        let mut scrubber = Scrubber::default();
        scrubber.add(&"a".repeat(16_000));
        scrubber.add(&"ab".repeat(16_000));
        let (patterns, bytes) = scrubber.kept();
        assert!(patterns <= 4, "{patterns} patterns");
        assert!(bytes <= 4 * SCRUB_CHUNK_BYTES, "{bytes} bytes");
        // The whole value is still redacted as one, with what surrounds it.
        let text = format!("x{}y", "a".repeat(16_000));
        assert_eq!(scrubber.scrub(&text), "x[redacted]y");
        let text = format!("<{}>", "ab".repeat(16_000));
        assert_eq!(scrubber.scrub(&text), "<[redacted]>");
        // A value just over a chunk, with multi-byte characters: chunks end
        // on character boundaries and tile it.
        let mut scrubber = Scrubber::default();
        let value = "\u{e9}".repeat(SCRUB_CHUNK_BYTES / 2 + 7);
        scrubber.add(&value);
        assert_eq!(scrubber.scrub(&format!("[{value}]")), "[[redacted]]");
    }

    #[test]
    fn scrub_overflowing_the_budget_fails_closed() {
        let mut scrubber = Scrubber::default();
        // Distinct chunks until the budget is spent.
        let mut i = 0u64;
        while scrubber.kept().1 > 0 || i == 0 {
            scrubber.add(&format!("{i:0>120}{}", "z".repeat(100)));
            i += 1;
            assert!(i < 100_000, "the budget never ran out");
        }
        assert_eq!(scrubber.kept(), (0, 0));
        assert_eq!(scrubber.scrub("http://127.0.0.1:80/x"), REDACTED);
    }

    #[test]
    fn scrub_terminates_when_the_value_is_in_the_marker() {
        let mut scrubber = Scrubber::default();
        scrubber.add("redacted");
        assert_eq!(scrubber.scrub("redacted redacted"), "[redacted] [redacted]");
    }
}
