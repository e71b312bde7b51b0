//! The execution trail: one structured record per run, for security teams.
//!
//! A [`RunRecord`] says what a run did: when, which script, for which token,
//! how it ended, the protected claims it tried to set, its resource use,
//! every fetch (method, `scheme://host:port/path`, status, bytes, time,
//! refusal) and the names of the environment variables it read.
//!
//! Redaction is structural. A record has no field for environment values,
//! header values, request or response bodies, token or context contents,
//! claim values, console output or error messages. The few fields a script
//! can influence (a denial's message, code and title, a fetch's host and
//! path) are scrubbed: every value the run was given or fetched that is at
//! least [`SCRUB_MIN_CHARS`] characters long (environment values, token and
//! context strings, request header values, response bodies and their JSON
//! strings) is replaced by `[redacted]`. Records are written as JSON, so no
//! string a script chooses can break a line or forge a field.
//!
//! Records go to the [`AuditSink`] in [`EngineConfig::audit_sink`]
//! (crate::EngineConfig::audit_sink): [`JsonLinesSink`] appends them to a
//! file, [`TracingSink`] emits them as `tracing` events.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

use crate::fetch::Seen;
use crate::input::{RunInput, TokenKind};
use crate::outcome::{ErrorKind, FetchRecord, Outcome, RunReport};

/// Values shorter than this are not scrubbed: they are too common to be
/// secrets, and scrubbing them would garble everything else.
pub const SCRUB_MIN_CHARS: usize = 6;
/// What a scrubbed value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// One run, as a security team's trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RunRecord {
    /// When the run started, RFC 3339 (UTC).
    pub time: String,
    /// SHA-256 of the script's artifact.
    pub script: String,
    /// SHA-256 of the script's source.
    pub source: String,
    /// The script's style.
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
    /// Open `path` for appending, creating it (readable by its owner only).
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
        let mut line = serde_json::to_vec(record).unwrap_or_default();
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

/// Values to scrub from a record.
#[derive(Debug, Default)]
pub(crate) struct Scrubber {
    values: BTreeSet<String>,
}

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
        if value.chars().count() >= SCRUB_MIN_CHARS {
            self.values.insert(value.to_string());
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

    /// A body: the whole text, and its JSON strings if it is JSON.
    pub(crate) fn add_body(&mut self, body: &[u8]) {
        let text = String::from_utf8_lossy(body);
        self.add(&text);
        if let Ok(json) = serde_json::from_slice::<Value>(body) {
            self.add_json(&json);
        }
    }

    /// `text` with every known value replaced, ignoring ASCII case (URL
    /// hosts come out lower-cased), longest first (so that a value
    /// containing another is replaced whole).
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        let mut values: Vec<&String> = self.values.iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for value in values {
            let needle = value.to_ascii_lowercase();
            // Lower-casing ASCII keeps byte offsets, so the ranges found in
            // the lower-cased text are the original's. Search on after each
            // replacement, in case the value occurs in the marker itself.
            let mut from = 0;
            while let Some(found) = out.to_ascii_lowercase()[from..].find(&needle) {
                let at = from + found;
                out.replace_range(at..at + needle.len(), REDACTED);
                from = at + REDACTED.len();
            }
        }
        out
    }
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
            dropped,
            id_token_dropped,
            ..
        } => {
            let mut all = dropped.clone();
            all.extend(
                id_token_dropped
                    .iter()
                    .filter(|n| !dropped.contains(n))
                    .cloned(),
            );
            let counts = ClaimCounts {
                access_token: claims.len(),
                id_token: id_token_claims.as_ref().map_or(0, |c| c.len()),
            };
            ("claims", None, None, all, counts)
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
            let mut f = f.clone();
            f.url = scrubber().scrub(&f.url);
            f.refused = f.refused.as_deref().map(|r| scrubber().scrub(r));
            f
        })
        .collect();
    RunRecord {
        time: humantime::format_rfc3339_micros(facts.started).to_string(),
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
    fn scrub_terminates_when_the_value_is_in_the_marker() {
        let mut scrubber = Scrubber::default();
        scrubber.add("redacted");
        assert_eq!(scrubber.scrub("redacted redacted"), "[redacted] [redacted]");
    }
}
