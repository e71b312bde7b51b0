//! What a Claimscript claims script is granted: CPU, wall-clock and memory
//! limits, which environment variables it sees, and where it may send HTTP
//! requests.
//!
//! Grants are written in TOML. Every key is optional; a missing key takes the
//! default documented on its field, unknown keys are errors, and nothing is
//! reachable over the network unless `[fetch] allow` names it.
//!
//! ```
//! use claimscript_grants::{Grants, Scheme};
//!
//! let grants = Grants::from_toml(r#"
//!     fuel = 20_000_000
//!     timeout_ms = 500
//!     [env]
//!     expose = ["API_KEY"]
//!     [fetch]
//!     allow = ["https://*.example.com", "http://127.0.0.1:8080"]
//!     max_requests = 5
//! "#)?;
//! assert_eq!(grants.fuel, 20_000_000);
//! assert!(grants.env.allows("API_KEY") && !grants.env.allows("DB_PASSWORD"));
//! let fetch = grants.fetch.as_ref().expect("a [fetch] table");
//! assert!(fetch.allows(Scheme::Https, "api.example.com", 443));
//! assert!(!fetch.allows(Scheme::Https, "example.org", 443));
//! # Ok::<(), claimscript_grants::GrantsError>(())
//! ```
#![deny(missing_docs)]

mod pattern;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use pattern::{HostPattern, HostRule, PatternError, PortRule, Scheme};

/// Default instruction budget per run: an endless loop ends in tens of
/// milliseconds, a claims script over a few KB of context needs about 1 M.
pub const DEFAULT_FUEL: u64 = 50_000_000;
/// Default wall-clock limit per run, host calls included.
pub const DEFAULT_TIMEOUT_MS: u64 = 1_000;
/// Default cap on the script's linear memory.
pub const DEFAULT_MEMORY_MB: u32 = 32;
/// Default cap on the returned claims' JSON (Logto's console asks for under 50 KB).
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 51_200;
/// Default per-request timeout of a fetch.
pub const DEFAULT_FETCH_TIMEOUT_MS: u64 = 500;
/// Default cap on one fetch's response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1 << 20;

/// The largest values accepted for the limits, to catch typos such as an
/// extra zero; an embedder's engine may impose lower ones.
const MAX_TIMEOUT_MS: u64 = 60_000;
const MAX_MEMORY_MB: u32 = 4_096;

/// Everything a script is granted. Build it with [`Grants::from_toml`],
/// [`Grants::from_file`] or [`Grants::default`] and the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Grants {
    /// Instructions (Wasm fuel) per run. Default [`DEFAULT_FUEL`]. Running out
    /// ends the run with `fuel_exhausted`.
    #[serde(default = "default_fuel", deserialize_with = "positive_u64")]
    pub fuel: u64,
    /// Wall-clock limit of a run in milliseconds, time in host calls (fetch)
    /// included. Default [`DEFAULT_TIMEOUT_MS`], at most 60 000.
    #[serde(default = "default_timeout_ms", deserialize_with = "timeout_ms")]
    pub timeout_ms: u64,
    /// Linear memory cap in MiB. Default [`DEFAULT_MEMORY_MB`]. Growing past
    /// it ends the run with `memory`.
    #[serde(default = "default_memory_mb", deserialize_with = "memory_mb")]
    pub memory_mb: u32,
    /// Cap on the JSON of the returned claims, in bytes. Default
    /// [`DEFAULT_MAX_OUTPUT_BYTES`]; over it the run ends with `output_too_large`.
    #[serde(
        default = "default_max_output_bytes",
        deserialize_with = "positive_usize"
    )]
    pub max_output_bytes: usize,
    /// Environment variables the script may read. By default, all that the
    /// input provides.
    #[serde(default)]
    pub env: EnvGrants,
    /// Outbound HTTP. By default (no `[fetch]` table) every request is refused.
    #[serde(default)]
    pub fetch: Option<FetchGrants>,
}

impl Default for Grants {
    fn default() -> Self {
        Grants {
            fuel: DEFAULT_FUEL,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            memory_mb: DEFAULT_MEMORY_MB,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            env: EnvGrants::default(),
            fetch: None,
        }
    }
}

impl Grants {
    /// Parse grants from TOML text. Errors name the key and its line.
    pub fn from_toml(text: &str) -> Result<Grants, GrantsError> {
        toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            GrantsError::Invalid {
                path: None,
                line,
                column,
                message: e.message().to_string(),
            }
        })
    }

    /// Read and parse a grants file. Errors name the file, the key and the line.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Grants, GrantsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| GrantsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Grants::from_toml(&text).map_err(|e| match e {
            GrantsError::Invalid {
                line,
                column,
                message,
                ..
            } => GrantsError::Invalid {
                path: Some(path.to_path_buf()),
                line,
                column,
                message,
            },
            other => other,
        })
    }

    /// Set the instruction budget.
    pub fn with_fuel(mut self, fuel: u64) -> Self {
        self.fuel = fuel;
        self
    }

    /// Set the wall-clock limit in milliseconds.
    pub fn with_timeout_ms(mut self, timeout_ms: u64) -> Self {
        self.timeout_ms = timeout_ms;
        self
    }

    /// Set the memory cap in MiB.
    pub fn with_memory_mb(mut self, memory_mb: u32) -> Self {
        self.memory_mb = memory_mb;
        self
    }

    /// Set the cap on the returned claims' JSON.
    pub fn with_max_output_bytes(mut self, bytes: usize) -> Self {
        self.max_output_bytes = bytes;
        self
    }

    /// Expose only these environment variables.
    pub fn with_env_exposed<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.env.expose = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Grant outbound HTTP.
    pub fn with_fetch(mut self, fetch: FetchGrants) -> Self {
        self.fetch = Some(fetch);
        self
    }
}

/// Which environment variables a script sees (`[env]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EnvGrants {
    /// When set, only these names are visible; others read as `undefined`.
    /// When absent (the default), every variable the input provides is visible.
    pub expose: Option<Vec<String>>,
}

impl EnvGrants {
    /// Whether the script may read the variable `name`.
    pub fn allows(&self, name: &str) -> bool {
        self.expose
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name))
    }
}

/// Outbound HTTP grants (`[fetch]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FetchGrants {
    /// Destinations, as `scheme://host[:port]` patterns (see [`HostPattern`]).
    /// Empty (the default) allows nothing.
    /// `*` alone is any http or https host and port (the address guard
    /// still refuses non-public addresses).
    #[serde(default, deserialize_with = "allow_list")]
    pub allow: Vec<HostPattern>,
    /// Per-request limit in milliseconds, from connecting to the last body
    /// byte. Default [`DEFAULT_FETCH_TIMEOUT_MS`].
    #[serde(default = "default_fetch_timeout_ms", deserialize_with = "timeout_ms")]
    pub timeout_ms: u64,
    /// Cap on one response body; a larger body fails the fetch (it is never
    /// truncated). Default [`DEFAULT_MAX_RESPONSE_BYTES`].
    #[serde(
        default = "default_max_response_bytes",
        deserialize_with = "positive_usize"
    )]
    pub max_response_bytes: usize,
    /// Requests per run; unlimited (within the run's time) when absent.
    #[serde(default)]
    pub max_requests: Option<u32>,
}

impl Default for FetchGrants {
    fn default() -> Self {
        FetchGrants {
            allow: Vec::new(),
            timeout_ms: DEFAULT_FETCH_TIMEOUT_MS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_requests: None,
        }
    }
}

impl FetchGrants {
    /// Grants with these `allow` patterns and default limits.
    pub fn allowing<I, S>(patterns: I) -> Result<FetchGrants, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut allow = Vec::new();
        for p in patterns {
            allow.extend(HostPattern::parse_allow(p.as_ref())?);
        }
        Ok(FetchGrants {
            allow,
            ..FetchGrants::default()
        })
    }

    /// Whether a request to `scheme://host:port` is granted by some pattern.
    /// This is the grant check only; the address guard applies after DNS.
    pub fn allows(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        self.allow.iter().any(|p| p.matches(scheme, host, port))
    }
}

/// Why grants could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GrantsError {
    /// The file could not be read.
    #[error("cannot read grants file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown key, or a value out of range.
    #[error("{}line {line}, column {column}: {message}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Invalid {
        /// The file, when read from one.
        path: Option<PathBuf>,
        /// 1-based line of the offending key or value.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn default_fuel() -> u64 {
    DEFAULT_FUEL
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_memory_mb() -> u32 {
    DEFAULT_MEMORY_MB
}
fn default_max_output_bytes() -> usize {
    DEFAULT_MAX_OUTPUT_BYTES
}
fn default_fetch_timeout_ms() -> u64 {
    DEFAULT_FETCH_TIMEOUT_MS
}
fn default_max_response_bytes() -> usize {
    DEFAULT_MAX_RESPONSE_BYTES
}

fn in_range<'de, D, T>(d: D, min: T, max: T, what: &str) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + PartialOrd + std::fmt::Display + Copy,
{
    let value = T::deserialize(d)?;
    if value < min || value > max {
        return Err(serde::de::Error::custom(format!(
            "{what} must be between {min} and {max}, got {value}"
        )));
    }
    Ok(value)
}

fn allow_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<HostPattern>, D::Error> {
    let entries = Vec::<String>::deserialize(d)?;
    let mut allow = Vec::new();
    for entry in &entries {
        allow.extend(HostPattern::parse_allow(entry).map_err(serde::de::Error::custom)?);
    }
    Ok(allow)
}

fn positive_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    in_range(d, 1, u64::MAX, "the value")
}

fn positive_usize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    in_range(d, 1, usize::MAX, "the value")
}

fn timeout_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    in_range(d, 1, MAX_TIMEOUT_MS, "timeout_ms")
}

fn memory_mb<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    in_range(d, 1, MAX_MEMORY_MB, "memory_mb")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_star_is_any_http_or_https_host_and_port() {
        let grants = Grants::from_toml("[fetch]\nallow = [\"*\"]\n").unwrap_or_default();
        let fetch = grants.fetch.unwrap_or_default();
        assert_eq!(fetch.allow.len(), 2);
        assert!(fetch.allows(Scheme::Http, "api.example.com", 8080));
        assert!(fetch.allows(Scheme::Https, "api.example.com", 443));
        let fetch = FetchGrants::allowing(["*"]).unwrap_or_default();
        assert_eq!(fetch.allow.len(), 2);
    }

    #[test]
    fn numeric_ipv4_in_a_grants_file_names_the_line_and_the_dotted_form() {
        let err = Grants::from_toml("[fetch]\nallow = [\"http://127.1:8080\"]\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("line 2") && err.contains("http://127.0.0.1:8080"),
            "{err}"
        );
    }
}
