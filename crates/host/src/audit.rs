//! What a script could do: its artifact, its capabilities (the component's
//! imports, by WIT interface and function), the grants that narrow them, and
//! warnings about risky grants. Works on an artifact alone, without its
//! source.
//!
//! [`Script::audit`] gives an [`AuditReport`]; its `Display` is the
//! human-readable report and [`AuditReport::to_json`] the JSON document
//! (schema in README, "claimscript audit").

use std::fmt;

use claimscript_egress::classify;
use claimscript_grants::{
    DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_FUEL, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_MS, Grants, HostRule, Scheme,
};
use serde::Serialize;
use serde_json::Value;
use wasmtime::component::types::{ComponentInstance, ComponentItem};

use crate::script::Script;

/// A limit this many times its default (or more) draws a warning.
const BUDGET_WARNING_FACTOR: u64 = 10;
/// WIT interfaces an artifact may import: the world's (`types` holds only
/// type definitions).
const WORLD_IMPORTS: [&str; 3] = [
    "claimscript:script/host@0.2.0",
    "claimscript:script/http@0.2.0",
    "claimscript:script/types@0.2.0",
];

/// What each function of the world lets a script do, in plain words.
const CAPABILITIES: &[(&str, &str)] = &[
    (
        "host.env-get",
        "read one environment variable the grants expose (the host records the name)",
    ),
    (
        "host.env-names",
        "list the names of the environment variables the grants expose",
    ),
    (
        "host.deny",
        "block the token's issuance, with a message (and a provider code and title)",
    ),
    (
        "host.random-bytes",
        "get random bytes from the host's CSPRNG",
    ),
    ("host.wall-clock-ns", "read the current time"),
    ("host.monotonic-ns", "read a monotonic clock"),
    (
        "host.log",
        "write a console record (bounded in count and size)",
    ),
    (
        "http.start",
        "start an HTTP request, checked against [fetch] grants and the address guard",
    ),
    (
        "http.wait",
        "wait for a request to finish or a timer to be due",
    ),
    ("http.cancel", "abandon a request it started"),
    (
        "script.run",
        "the entry point the host calls for each token",
    ),
    (
        "loader.load",
        "compile-time only: evaluate the source (a compiled artifact refuses it)",
    ),
    (
        "loader.memory-image",
        "compile-time only: hand the host the memory to snapshot",
    ),
];

/// The audit of one artifact under one set of grants.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct AuditReport {
    /// The artifact.
    pub artifact: ArtifactAudit,
    /// What the artifact imports: its capabilities.
    pub imports: Vec<Interface>,
    /// What it exports.
    pub exports: Vec<Interface>,
    /// True when every import is one of the script world's interfaces or the
    /// engine's QuickJS code.
    pub imports_only_world: bool,
    /// The effective grants.
    pub grants: GrantsAudit,
    /// Risky grants.
    pub warnings: Vec<Warning>,
}

/// Facts about an artifact.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ArtifactAudit {
    /// SHA-256 of the artifact.
    pub sha256: String,
    /// Its size.
    pub bytes: usize,
    /// The runtime version it was built with.
    pub runtime_version: String,
    /// SHA-256 of the QuickJS code it runs on.
    pub runtime_code_sha256: String,
    /// SHA-256 of the script's source, as the artifact describes itself
    /// (64 hex digits; the host cannot check it without the source).
    pub source_sha256: String,
    /// The script's style.
    pub style: String,
    /// Its entry functions, as the artifact describes itself (JavaScript
    /// identifiers).
    pub entries: Vec<String>,
    /// The packages it requires, as the artifact describes itself (package
    /// names).
    pub packages: Vec<String>,
}

/// An imported or exported interface (or the imported code module).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Interface {
    /// Its name.
    pub name: String,
    /// `interface` or `core-module`.
    pub kind: &'static str,
    /// What it is, in plain words, for a core module.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its functions.
    pub functions: Vec<Function>,
}

/// A function of an interface.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Function {
    /// Its name.
    pub name: String,
    /// Its parameter names.
    pub params: Vec<String>,
    /// What it lets the script do.
    pub capability: String,
}

/// A limit and whether it is the default.
#[derive(Debug, Clone, Copy, Serialize)]
#[non_exhaustive]
pub struct Limit {
    /// The value.
    pub value: u64,
    /// Whether it is the default value.
    pub default: bool,
}

impl Limit {
    fn new(value: u64, default: u64) -> Limit {
        Limit {
            value,
            default: value == default,
        }
    }
}

/// The effective grants.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct GrantsAudit {
    /// Instructions per run.
    pub fuel: Limit,
    /// Wall clock per run, milliseconds.
    pub timeout_ms: Limit,
    /// Linear memory cap, MiB.
    pub memory_mb: Limit,
    /// Claims JSON cap, bytes.
    pub max_output_bytes: Limit,
    /// Environment variable names exposed; `None`: every variable the input
    /// provides.
    pub env_expose: Option<Vec<String>>,
    /// Outbound HTTP; `None`: none at all.
    pub fetch: Option<FetchAudit>,
}

/// The `[fetch]` grants.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct FetchAudit {
    /// Each pattern and what it matches.
    pub allow: Vec<Pattern>,
    /// Per-request timeout.
    pub timeout_ms: Limit,
    /// Response body cap.
    pub max_response_bytes: Limit,
    /// Requests per run; `None`: unlimited within the run's time.
    pub max_requests: Option<u32>,
}

/// An `allow` pattern.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Pattern {
    /// As written.
    pub pattern: String,
    /// What it matches, in plain words.
    pub matches: String,
}

/// A risky grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Warning {
    /// `wildcard_egress`, `opens_non_public_address`, `names_internal_host`,
    /// `plain_http`, `no_max_requests`, `budget_above_default` or
    /// `memory_above_engine_max` (every run would be refused).
    pub code: &'static str,
    /// What is risky, in plain words.
    pub message: String,
}

impl Script {
    /// Audit this script's artifact under `grants`.
    pub fn audit(&self, grants: &Grants) -> AuditReport {
        let engine = &self.inner.engine.inner;
        let component = self.inner.pre.instance_pre().component();
        let ty = component.component_type();
        let wasmtime = &engine.wasmtime;
        let code_import = &engine.runtime.info.code_import;
        let imports: Vec<Interface> = ty
            .imports(wasmtime)
            .map(|(name, item)| match item.ty {
                ComponentItem::ComponentInstance(instance) => interface(name, &instance, wasmtime),
                ComponentItem::Module(_) => Interface {
                    name: name.to_string(),
                    kind: "core-module",
                    description: Some(if name == code_import {
                        format!(
                            "the QuickJS runtime's code, compiled once and provided by the engine (sha256 {})",
                            self.inner.info.code_sha256
                        )
                    } else {
                        "an unknown core module".to_string()
                    }),
                    functions: Vec::new(),
                },
                _ => Interface {
                    name: name.to_string(),
                    kind: "other",
                    description: None,
                    functions: Vec::new(),
                },
            })
            .collect();
        let imports_only_world = imports
            .iter()
            .all(|i| WORLD_IMPORTS.contains(&i.name.as_str()) || i.name == *code_import);
        let exports = ty
            .exports(wasmtime)
            .filter_map(|(name, item)| match item.ty {
                ComponentItem::ComponentInstance(instance) => {
                    Some(interface(name, &instance, wasmtime))
                }
                _ => None,
            })
            .collect();
        let info = &self.inner.info;
        AuditReport {
            artifact: ArtifactAudit {
                sha256: self.digest_hex(),
                bytes: self.artifact_len(),
                runtime_version: info.runtime_version.clone(),
                runtime_code_sha256: info.code_sha256.clone(),
                source_sha256: info.source_sha256.clone(),
                style: info.style.clone(),
                entries: info.entries.clone(),
                packages: info.packages.clone(),
            },
            imports,
            exports,
            imports_only_world,
            grants: grants_audit(grants),
            warnings: warnings(grants, self.inner.engine.inner.config.max_memory_mb),
        }
    }
}

fn interface(name: &str, instance: &ComponentInstance, engine: &wasmtime::Engine) -> Interface {
    // `claimscript:script/host@0.2.0` -> `host`, to look capabilities up.
    let short = name
        .rsplit('/')
        .next()
        .and_then(|s| s.split('@').next())
        .unwrap_or(name);
    let functions: Vec<Function> = instance
        .exports(engine)
        .filter_map(|(function, item)| match item.ty {
            ComponentItem::ComponentFunc(f) => {
                let key = format!("{short}.{function}");
                let capability = CAPABILITIES
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map_or("not part of the Claimscript world", |(_, c)| c);
                Some(Function {
                    name: function.to_string(),
                    params: f.params().map(|(p, _)| p.to_string()).collect(),
                    capability: capability.to_string(),
                })
            }
            _ => None,
        })
        .collect();
    Interface {
        name: name.to_string(),
        kind: "interface",
        description: functions
            .is_empty()
            .then(|| "type definitions only: no functions".to_string()),
        functions,
    }
}

fn grants_audit(grants: &Grants) -> GrantsAudit {
    GrantsAudit {
        fuel: Limit::new(grants.fuel, DEFAULT_FUEL),
        timeout_ms: Limit::new(grants.timeout_ms, DEFAULT_TIMEOUT_MS),
        memory_mb: Limit::new(u64::from(grants.memory_mb), u64::from(DEFAULT_MEMORY_MB)),
        max_output_bytes: Limit::new(
            grants.max_output_bytes as u64,
            DEFAULT_MAX_OUTPUT_BYTES as u64,
        ),
        env_expose: grants.env.expose.clone(),
        fetch: grants.fetch.as_ref().map(|fetch| FetchAudit {
            allow: fetch
                .allow
                .iter()
                .map(|p| Pattern {
                    pattern: p.as_str().to_string(),
                    matches: p.describe(),
                })
                .collect(),
            timeout_ms: Limit::new(fetch.timeout_ms, DEFAULT_FETCH_TIMEOUT_MS),
            max_response_bytes: Limit::new(
                fetch.max_response_bytes as u64,
                DEFAULT_MAX_RESPONSE_BYTES as u64,
            ),
            max_requests: fetch.max_requests,
        }),
    }
}

/// Host names that usually resolve to internal addresses.
fn internal_name(name: &str) -> bool {
    name == "localhost"
        || [
            ".localhost",
            ".local",
            ".internal",
            ".lan",
            ".home.arpa",
            ".corp",
        ]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

fn warnings(grants: &Grants, max_memory_mb: u32) -> Vec<Warning> {
    let mut out: Vec<Warning> = Vec::new();
    // Once each (`*` is two patterns, http and https, written alike).
    let mut warn = |code, message: String| {
        if !out.iter().any(|w| w.code == code && w.message == message) {
            out.push(Warning { code, message });
        }
    };
    if grants.memory_mb > max_memory_mb {
        warn(
            "memory_above_engine_max",
            format!(
                "memory_mb = {} is above this engine's max_memory_mb = {max_memory_mb}: \
                 every run with these grants is refused (error_kind grants)",
                grants.memory_mb
            ),
        );
    }
    let budgets = [
        ("fuel", grants.fuel, DEFAULT_FUEL),
        ("timeout_ms", grants.timeout_ms, DEFAULT_TIMEOUT_MS),
        (
            "memory_mb",
            u64::from(grants.memory_mb),
            u64::from(DEFAULT_MEMORY_MB),
        ),
        (
            "max_output_bytes",
            grants.max_output_bytes as u64,
            DEFAULT_MAX_OUTPUT_BYTES as u64,
        ),
    ];
    for (name, value, default) in budgets {
        if value >= default.saturating_mul(BUDGET_WARNING_FACTOR) {
            warn(
                "budget_above_default",
                format!(
                    "{name} = {value} is {}x the default ({default})",
                    value / default.max(1)
                ),
            );
        }
    }
    let Some(fetch) = &grants.fetch else {
        return out;
    };
    for pattern in &fetch.allow {
        let written = pattern.as_str();
        match &pattern.host {
            HostRule::Any => warn(
                "wildcard_egress",
                format!("`{written}` lets the script reach any public host"),
            ),
            HostRule::Subdomains(domain) => warn(
                "wildcard_egress",
                format!("`{written}` lets the script reach every subdomain of {domain}"),
            ),
            HostRule::Ip(ip) => {
                if let Some(reason) = classify(*ip) {
                    warn(
                        "opens_non_public_address",
                        format!("`{written}` opens {ip}, which is {reason}, to the script"),
                    );
                }
            }
            HostRule::Name(name) if internal_name(name) => warn(
                "names_internal_host",
                format!(
                    "`{written}` names {name}, which usually resolves to a private address; \
                     a grant that names a host lets the script reach whatever it resolves to"
                ),
            ),
            _ => {}
        }
        if pattern.scheme == Scheme::Http {
            warn(
                "plain_http",
                format!("`{written}` allows plain http: requests and responses travel unencrypted"),
            );
        }
    }
    if fetch.max_requests.is_none() {
        warn(
            "no_max_requests",
            "[fetch] has no max_requests: a run may make requests until its timeout".to_string(),
        );
    }
    for (name, value, default) in [
        (
            "[fetch] timeout_ms",
            fetch.timeout_ms,
            DEFAULT_FETCH_TIMEOUT_MS,
        ),
        (
            "[fetch] max_response_bytes",
            fetch.max_response_bytes as u64,
            DEFAULT_MAX_RESPONSE_BYTES as u64,
        ),
    ] {
        if value >= default.saturating_mul(BUDGET_WARNING_FACTOR) {
            warn(
                "budget_above_default",
                format!(
                    "{name} = {value} is {}x the default ({default})",
                    value / default.max(1)
                ),
            );
        }
    }
    out
}

impl AuditReport {
    /// The JSON document (`claimscript audit --json`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)?;
        if self.default {
            f.write_str(" (default)")?;
        }
        Ok(())
    }
}

impl fmt::Display for AuditReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.artifact;
        // Every string from the artifact's description is escaped (the
        // engine also refuses descriptions not in the shapes it writes), so
        // no artifact can add a line to the report.
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items
                    .iter()
                    .map(|i| escape(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        writeln!(f, "Artifact")?;
        writeln!(f, "  sha256          {}", a.sha256)?;
        writeln!(f, "  size            {} bytes", a.bytes)?;
        writeln!(
            f,
            "  runtime         {} (QuickJS code sha256 {})",
            escape(&a.runtime_version),
            escape(&a.runtime_code_sha256)
        )?;
        writeln!(f, "  style           {}", escape(&a.style))?;
        writeln!(
            f,
            "  as the artifact describes itself (not verifiable without the source):"
        )?;
        writeln!(f, "  source sha256   {}", escape(&a.source_sha256))?;
        writeln!(f, "  entries         {}", list(&a.entries))?;
        writeln!(f, "  packages        {}", list(&a.packages))?;
        writeln!(f)?;
        writeln!(f, "Capabilities (imports)")?;
        for import in &self.imports {
            write_interface(f, import)?;
        }
        if self.imports_only_world {
            writeln!(
                f,
                "  ok: imports nothing outside the claimscript:script world"
            )?;
        } else {
            writeln!(
                f,
                "  WARNING: imports something outside the claimscript:script world"
            )?;
        }
        writeln!(f)?;
        writeln!(f, "Exports")?;
        for export in &self.exports {
            write_interface(f, export)?;
        }
        writeln!(f)?;
        let g = &self.grants;
        writeln!(f, "Grants")?;
        writeln!(f, "  fuel              {}", g.fuel)?;
        writeln!(f, "  timeout_ms        {}", g.timeout_ms)?;
        writeln!(f, "  memory_mb         {}", g.memory_mb)?;
        writeln!(f, "  max_output_bytes  {}", g.max_output_bytes)?;
        match &g.env_expose {
            None => writeln!(
                f,
                "  env               every variable the input provides (default)"
            )?,
            Some(names) if names.is_empty() => writeln!(f, "  env               none")?,
            Some(names) => writeln!(f, "  env               only {}", names.join(", "))?,
        }
        match &g.fetch {
            None => writeln!(
                f,
                "  fetch             none: every request is refused (default)"
            )?,
            Some(fetch) => {
                writeln!(f, "  fetch")?;
                if fetch.allow.is_empty() {
                    writeln!(f, "    allow           nothing")?;
                }
                for p in &fetch.allow {
                    writeln!(f, "    allow           {}  ({})", p.pattern, p.matches)?;
                }
                writeln!(f, "    timeout_ms      {}", fetch.timeout_ms)?;
                writeln!(f, "    max_response_bytes {}", fetch.max_response_bytes)?;
                match fetch.max_requests {
                    Some(n) => writeln!(f, "    max_requests    {n}")?,
                    None => writeln!(f, "    max_requests    unlimited (default)")?,
                }
            }
        }
        writeln!(f)?;
        if self.warnings.is_empty() {
            writeln!(f, "Warnings: none")?;
        } else {
            writeln!(f, "Warnings")?;
            for w in &self.warnings {
                writeln!(f, "  [{}] {}", w.code, w.message)?;
            }
        }
        Ok(())
    }
}

/// `text` with control characters, line breaks, backslashes and other
/// non-printing characters escaped (`\n`, `\u{85}`); identifiers and
/// digests are unchanged.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            let escaped = c.escape_debug().nth(1).is_some();
            if c.is_control() || (escaped && c != '"' && c != '\'') {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn write_interface(f: &mut fmt::Formatter<'_>, interface: &Interface) -> fmt::Result {
    writeln!(f, "  {} ({})", interface.name, interface.kind)?;
    if let Some(description) = &interface.description {
        writeln!(f, "    {description}")?;
    }
    for function in &interface.functions {
        writeln!(
            f,
            "    {}({}): {}",
            function.name,
            function.params.join(", "),
            function.capability
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_an_artifact_cannot_add_lines() {
        assert_eq!(escape("getCustomJwtClaims"), "getCustomJwtClaims");
        assert_eq!(escape("@slack/webhook"), "@slack/webhook");
        let crafted = escape("x\nWarnings: none\r\u{85}\u{2028}\\");
        assert_eq!(crafted, "x\\nWarnings: none\\r\\u{85}\\u{2028}\\\\");
        assert!(!crafted.chars().any(|c| c.is_control()));
    }

    #[test]
    fn a_crafted_description_stays_on_its_lines() {
        let injected = "x\nWarnings: none";
        let report = AuditReport {
            artifact: ArtifactAudit {
                sha256: "0".repeat(64),
                bytes: 1,
                runtime_version: injected.into(),
                runtime_code_sha256: "0".repeat(64),
                source_sha256: injected.into(),
                style: "logto".into(),
                entries: vec![injected.into()],
                packages: vec![injected.into()],
            },
            imports: Vec::new(),
            exports: Vec::new(),
            imports_only_world: true,
            grants: grants_audit(&Grants::default()),
            warnings: vec![Warning {
                code: "plain_http",
                message: "a real warning".into(),
            }],
        };
        let text = report.to_string();
        assert!(!text.lines().any(|l| l == "Warnings: none"), "{text}");
        assert!(
            text.contains("entries         x\\nWarnings: none"),
            "{text}"
        );
        assert!(text.contains("as the artifact describes itself"), "{text}");
    }
}
