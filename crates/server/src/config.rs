//! The service's configuration: `claimscript.toml`.
//!
//! TOML with unknown keys refused everywhere; errors name the file, the line
//! and column, and the key. Relative paths are relative to the directory of
//! the config file. Secrets (bearer tokens, environment values) are never
//! written inline: a token is configured by its SHA-256 or read from an
//! environment variable, and a script's environment values come from the
//! service's own environment.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::ConfigError;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// Default request body limit: 1 MiB (a script source is at most 1 MiB too).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;
/// Default number of runs (and compilations) in flight at once.
pub const DEFAULT_MAX_CONCURRENT_RUNS: u32 = 256;
/// Default time a request may wait for a free run slot before a 503.
pub const DEFAULT_QUEUE_TIMEOUT_MS: u64 = 1000;
/// Default number of compiled scripts kept loaded in memory: about 1 MB
/// each (most of it their compiled code, mapped from `cache/`), so that
/// with 10,000 registered the service stays near 0.55 GB (BENCHMARKS.md).
pub const DEFAULT_MAX_LOADED_SCRIPTS: usize = 500;
/// Default grace period for runs in flight at shutdown.
pub const DEFAULT_SHUTDOWN_GRACE_MS: u64 = 10_000;
/// Default interval at which the config and script files are checked for
/// changes.
pub const DEFAULT_WATCH_INTERVAL_MS: u64 = 1000;
/// Default size at which the audit file is rotated: 100 MiB.
pub const DEFAULT_AUDIT_MAX_BYTES: u64 = 100 << 20;
/// Default number of rotated audit files kept.
pub const DEFAULT_AUDIT_KEEP: u32 = 5;
/// Default number of compiled scripts the Logto runner keeps, by source digest.
pub const DEFAULT_LOGTO_CACHE: usize = 1000;
/// Default `[cache] max_bytes`: 16 GiB in the data directory's `cache/`,
/// room for 10,000 registered scripts (about 1.5 MB each), so that a cold
/// one is loaded, not compiled again.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 16 << 30;
/// The smallest `[cache] max_bytes`: the runtime's own compiled code takes
/// about 6 MB of it.
pub const MIN_CACHE_MAX_BYTES: u64 = 16 << 20;

/// The whole service configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// Where the API listens.
    pub listen: SocketAddr,
    /// A second listener serving only `/health`, `/health/ready` and
    /// `/metrics`, without authentication.
    pub diagnostic_listen: Option<SocketAddr>,
    /// Where registered scripts, artifacts and compiled code are kept.
    pub data_dir: PathBuf,
    /// Whether `POST /v1/run` (run an unregistered source) is served.
    pub run_endpoint: bool,
    /// Whether the playground is served at `/playground/` (implies
    /// `run_endpoint`).
    pub playground: bool,
    /// How often the config and script files are checked for changes;
    /// `None` turns watching off (SIGHUP still reloads).
    pub watch_interval: Option<Duration>,
    /// Limits.
    pub limits: Limits,
    /// The compiled-code cache in the data directory.
    pub cache: CacheConfig,
    /// TLS, when configured.
    pub tls: Option<TlsConfig>,
    /// Bearer tokens; none means no authentication (loopback only).
    pub tokens: Vec<TokenConfig>,
    /// Where audit records go.
    pub audit: AuditConfig,
    /// Logto's remote script-runner endpoint.
    pub logto_runner: Option<LogtoRunnerConfig>,
    /// Signing keys by name.
    pub keys: BTreeMap<String, KeyConfig>,
    /// Scripts from files, by name.
    pub scripts: BTreeMap<String, ScriptConfig>,
    /// Provider hook bindings (`POST /hooks/{provider}/{script}`).
    pub hooks: Vec<HookConfig>,
    /// The config file, when read from one.
    pub path: Option<PathBuf>,
}

/// Limits of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest request body (413 beyond).
    pub max_body_bytes: usize,
    /// Runs and compilations in flight at once: the engine's instance pool.
    pub max_concurrent_runs: u32,
    /// How long a request waits for a run slot before a 503.
    pub queue_timeout: Duration,
    /// Compiled scripts kept loaded; others are loaded from the data
    /// directory on their next run.
    pub max_loaded_scripts: usize,
    /// How long runs in flight may take to finish at shutdown.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_concurrent_runs: DEFAULT_MAX_CONCURRENT_RUNS,
            queue_timeout: Duration::from_millis(DEFAULT_QUEUE_TIMEOUT_MS),
            max_loaded_scripts: DEFAULT_MAX_LOADED_SCRIPTS,
            shutdown_grace: Duration::from_millis(DEFAULT_SHUTDOWN_GRACE_MS),
        }
    }
}

/// The compiled-code cache (`data_dir/cache`): QuickJS and every script
/// compiled, so that a restart loads instead of compiling.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// The bound on its total size: past it, the files used least recently
    /// are removed (and compiled again when next needed). A script takes
    /// about 1.5 MB there (its artifact and its compiled component).
    pub max_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_bytes: DEFAULT_CACHE_MAX_BYTES,
        }
    }
}

/// A certificate chain and its private key, PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsConfig {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// What a bearer token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Scope {
    /// Run scripts: `/v1/scripts/{name}/run`, `/token`, `/v1/run`,
    /// `/api/script-run`, and read the script list.
    Run,
    /// Everything `run` may, and register, replace and remove scripts.
    Admin,
}

/// One accepted bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenConfig {
    /// The token's id: written to audit records, never the token.
    pub id: String,
    /// SHA-256 of the token.
    pub sha256: [u8; 32],
    /// What it may do.
    pub scopes: Vec<Scope>,
}

/// Where audit records go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AuditConfig {
    /// No records.
    #[default]
    Off,
    /// JSON lines on standard output.
    Stdout,
    /// JSON lines in a file, rotated by size.
    File {
        /// The file.
        path: PathBuf,
        /// Rotate when it would grow past this.
        max_bytes: u64,
        /// Rotated files kept (`FILE.1` … `FILE.keep`).
        keep: u32,
    },
}

/// Logto's remote script-runner endpoint (`POST /api/script-run`).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct LogtoRunnerConfig {
    /// Grants for every script it runs.
    pub grants: claimscript::Grants,
    /// Compiled scripts kept, by source digest.
    pub max_cached: usize,
}

/// A signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyConfig {
    /// ES256, RS256 or EdDSA.
    pub alg: String,
    /// The private key (PEM).
    pub private_key: PathBuf,
    /// The `kid`; defaults to the key's name.
    pub kid: String,
}

/// A script from the config: a file, or an artifact in an OCI registry.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ScriptConfig {
    /// `.js` source or a compiled `.wasm` component; empty for an OCI
    /// script.
    pub path: PathBuf,
    /// The artifact in a registry, instead of a file.
    pub oci: Option<OciSource>,
    /// The style of a `.js` script; detected when absent.
    pub style: Option<claimscript::Style>,
    /// The grants file; defaults apply without one.
    pub grants: Option<PathBuf>,
    /// What a script error does to a token.
    pub failure_policy: claimscript::FailurePolicy,
    /// Environment variables the script is given: its name → the name of
    /// the service's environment variable holding the value.
    pub env_from: BTreeMap<String, String>,
    /// The signing key for `/token`, by name in `[keys]`.
    pub key: Option<String>,
}

/// A script pulled from an OCI registry (`oci = "oci://host/repo:tag"`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OciSource {
    /// `host[:port]/repository[:tag][@sha256:...]` (the `oci://` prefix
    /// removed).
    pub reference: String,
    /// Public keys (PEM files) one of which must have signed the manifest.
    pub verify_keys: Vec<PathBuf>,
    /// Run unsigned artifacts (only when no key is given; never the default).
    pub allow_unsigned: bool,
    /// How often a tag is resolved again; `None` for a digest-pinned
    /// reference.
    pub poll_interval: Option<Duration>,
    /// Plain HTTP, for a registry on loopback only.
    pub plain_http: bool,
}

/// Default interval at which an OCI tag is resolved again.
pub const DEFAULT_OCI_POLL_MS: u64 = 30_000;

impl ScriptConfig {
    /// A script from `path` with the defaults: style detected, default
    /// grants, [`claimscript::FailurePolicy::Block`], no environment, no key.
    pub fn new(path: impl Into<PathBuf>) -> ScriptConfig {
        ScriptConfig {
            path: path.into(),
            oci: None,
            style: None,
            grants: None,
            failure_policy: claimscript::FailurePolicy::default(),
            env_from: BTreeMap::new(),
            key: None,
        }
    }
}

/// A provider hook bound to a script: `[hooks.PROVIDER.SCRIPT]`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HookConfig {
    /// The provider's protocol.
    pub protocol: claimscript_hooks::Protocol,
    /// The script it runs (configured or registered).
    pub script: String,
    /// How the provider authenticates (secrets already read).
    pub auth: claimscript_hooks::Auth,
    /// What a script error does to the token.
    pub failure_policy: claimscript::FailurePolicy,
    /// The run's timeout: at most the provider's deadline less a margin.
    pub timeout: Duration,
    /// Message ids remembered against replays (Supabase).
    pub replay_capacity: usize,
    /// Okta bearer tokens: the shortest time between two fetches of the
    /// JWK set.
    pub jwks_min_refresh: Duration,
}

// ---- the TOML shape ----------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<String>,
    diagnostic_listen: Option<String>,
    data_dir: Option<PathBuf>,
    #[serde(default)]
    run_endpoint: bool,
    #[serde(default)]
    playground: bool,
    watch_interval_ms: Option<u64>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    cache: RawCache,
    tls: Option<RawTls>,
    #[serde(default)]
    tokens: Vec<RawToken>,
    audit: Option<RawAudit>,
    logto_runner: Option<RawLogto>,
    #[serde(default)]
    keys: BTreeMap<String, RawKey>,
    #[serde(default)]
    scripts: BTreeMap<String, RawScript>,
    #[serde(default)]
    hooks: BTreeMap<String, BTreeMap<String, RawHook>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHook {
    /// The environment variable holding the secret.
    secret_env: Option<String>,
    /// A file holding the secret (trailing whitespace trimmed).
    secret_file: Option<PathBuf>,
    /// Okta: the header carrying the secret (default `authorization`);
    /// Hydra: the header carrying the API key.
    header: Option<String>,
    /// Hydra: the cookie carrying the API key.
    cookie: Option<String>,
    failure_policy: Option<String>,
    timeout_ms: Option<u64>,
    replay_capacity: Option<usize>,
    /// Okta: OAuth 2.0 bearer JWTs.
    bearer: Option<RawBearer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBearer {
    issuer: String,
    audience: String,
    jwks_url: String,
    algorithms: Option<Vec<String>>,
    /// The shortest time between two JWKS fetches (default 30000).
    min_refresh_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCache {
    max_bytes: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_body_bytes: Option<usize>,
    max_concurrent_runs: Option<u32>,
    queue_timeout_ms: Option<u64>,
    max_loaded_scripts: Option<usize>,
    shutdown_grace_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert: PathBuf,
    key: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    id: String,
    sha256: Option<String>,
    env: Option<String>,
    scopes: Vec<Scope>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    file: Option<PathBuf>,
    #[serde(default)]
    stdout: bool,
    max_bytes: Option<u64>,
    keep: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogto {
    #[serde(default = "yes")]
    enabled: bool,
    grants: Option<PathBuf>,
    max_cached: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    alg: String,
    private_key: PathBuf,
    kid: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    path: Option<PathBuf>,
    oci: Option<String>,
    #[serde(default)]
    verify_keys: Vec<PathBuf>,
    #[serde(default)]
    allow_unsigned: bool,
    poll_interval_ms: Option<u64>,
    #[serde(default)]
    plain_http: bool,
    style: Option<String>,
    grants: Option<PathBuf>,
    failure_policy: Option<String>,
    #[serde(default)]
    env_from: BTreeMap<String, String>,
    key: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8787))),
            diagnostic_listen: None,
            data_dir: PathBuf::from("claimscript-data"),
            run_endpoint: false,
            playground: false,
            watch_interval: Some(Duration::from_millis(DEFAULT_WATCH_INTERVAL_MS)),
            limits: Limits::default(),
            cache: CacheConfig::default(),
            tls: None,
            tokens: Vec::new(),
            audit: AuditConfig::Off,
            logto_runner: None,
            keys: BTreeMap::new(),
            scripts: BTreeMap::new(),
            hooks: Vec::new(),
            path: None,
        }
    }
}

impl ServiceConfig {
    /// Read and check a config file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<ServiceConfig, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut config = ServiceConfig::from_toml(&text, base, Some(path))?;
        config.path = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parse config text; relative paths are resolved against `base`.
    /// `file` only names the file in errors.
    pub fn from_toml(
        text: &str,
        base: &Path,
        file: Option<&Path>,
    ) -> Result<ServiceConfig, ConfigError> {
        let file_name = file.map(Path::to_path_buf);
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Invalid {
                path: file_name.clone(),
                line,
                column,
                message: e.message().to_string(),
            }
        })?;
        // Errors found after parsing point at the key's line.
        let at = |key: &str, message: String| {
            let (line, column) = find_key(text, key);
            ConfigError::Invalid {
                path: file_name.clone(),
                line,
                column,
                message: format!("`{key}`: {message}"),
            }
        };
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let mut config = ServiceConfig::default();
        if let Some(listen) = &raw.listen {
            config.listen = parse_addr(listen).map_err(|m| at("listen", m))?;
        }
        if let Some(diag) = &raw.diagnostic_listen {
            config.diagnostic_listen =
                Some(parse_addr(diag).map_err(|m| at("diagnostic_listen", m))?);
        }
        config.data_dir = resolve(
            raw.data_dir
                .as_deref()
                .unwrap_or(Path::new("claimscript-data")),
        );
        config.run_endpoint = raw.run_endpoint || raw.playground;
        config.playground = raw.playground;
        config.watch_interval = match raw.watch_interval_ms {
            None => Some(Duration::from_millis(DEFAULT_WATCH_INTERVAL_MS)),
            Some(0) => None,
            Some(ms) if ms < 50 => {
                return Err(at(
                    "watch_interval_ms",
                    format!("must be 0 (off) or at least 50, got {ms}"),
                ));
            }
            Some(ms) => Some(Duration::from_millis(ms)),
        };
        let l = &raw.limits;
        if let Some(v) = l.max_body_bytes {
            if !(1024..=64 << 20).contains(&v) {
                return Err(at(
                    "max_body_bytes",
                    format!("must be between 1024 and {}, got {v}", 64 << 20),
                ));
            }
            config.limits.max_body_bytes = v;
        }
        if let Some(v) = l.max_concurrent_runs {
            if !(1..=10_000).contains(&v) {
                return Err(at(
                    "max_concurrent_runs",
                    format!("must be between 1 and 10000, got {v}"),
                ));
            }
            config.limits.max_concurrent_runs = v;
        }
        if let Some(v) = l.queue_timeout_ms {
            if v > 60_000 {
                return Err(at(
                    "queue_timeout_ms",
                    format!("must be at most 60000, got {v}"),
                ));
            }
            config.limits.queue_timeout = Duration::from_millis(v);
        }
        if let Some(v) = l.max_loaded_scripts {
            if v == 0 {
                return Err(at("max_loaded_scripts", "must be at least 1".into()));
            }
            config.limits.max_loaded_scripts = v;
        }
        if let Some(v) = l.shutdown_grace_ms {
            config.limits.shutdown_grace = Duration::from_millis(v);
        }
        if let Some(v) = raw.cache.max_bytes {
            if v < MIN_CACHE_MAX_BYTES {
                return Err(at(
                    "cache.max_bytes",
                    format!("must be at least {MIN_CACHE_MAX_BYTES} (16 MiB), got {v}"),
                ));
            }
            config.cache.max_bytes = v;
        }
        config.tls = raw.tls.as_ref().map(|t| TlsConfig {
            cert: resolve(&t.cert),
            key: resolve(&t.key),
        });
        for token in &raw.tokens {
            config
                .tokens
                .push(token_config(token).map_err(|m| at("tokens", m))?);
        }
        let mut ids = std::collections::BTreeSet::new();
        for token in &config.tokens {
            if !ids.insert(token.id.clone()) {
                return Err(at("tokens", format!("the id `{}` is used twice", token.id)));
            }
        }
        config.audit = match &raw.audit {
            None => AuditConfig::Off,
            Some(RawAudit {
                file: Some(_),
                stdout: true,
                ..
            }) => {
                return Err(at(
                    "audit",
                    "give `file` or `stdout = true`, not both".into(),
                ));
            }
            Some(RawAudit {
                file: Some(file),
                max_bytes,
                keep,
                ..
            }) => AuditConfig::File {
                path: resolve(file),
                max_bytes: max_bytes.unwrap_or(DEFAULT_AUDIT_MAX_BYTES).max(4096),
                keep: keep.unwrap_or(DEFAULT_AUDIT_KEEP),
            },
            Some(RawAudit { stdout: true, .. }) => AuditConfig::Stdout,
            Some(_) => AuditConfig::Off,
        };
        if let Some(logto) = &raw.logto_runner
            && logto.enabled
        {
            let grants = match &logto.grants {
                None => claimscript::Grants::default(),
                Some(path) => claimscript::Grants::from_file(resolve(path))
                    .map_err(|e| at("logto_runner.grants", e.to_string()))?,
            };
            config.logto_runner = Some(LogtoRunnerConfig {
                grants,
                max_cached: logto.max_cached.unwrap_or(DEFAULT_LOGTO_CACHE).max(1),
            });
        }
        for (name, key) in &raw.keys {
            key.alg
                .parse::<claimscript_issuer::SigningAlgorithm>()
                .map_err(|m| at(&format!("keys.{name}.alg"), m.to_string()))?;
            config.keys.insert(
                name.clone(),
                KeyConfig {
                    alg: key.alg.clone(),
                    private_key: resolve(&key.private_key),
                    kid: key.kid.clone().unwrap_or_else(|| name.clone()),
                },
            );
        }
        for (name, script) in &raw.scripts {
            check_name(name).map_err(|m| at(&format!("scripts.{name}"), m))?;
            let style = match &script.style {
                None => None,
                Some(s) => Some(
                    s.parse::<claimscript::Style>()
                        .map_err(|m| at(&format!("scripts.{name}.style"), m.to_string()))?,
                ),
            };
            let failure_policy = match &script.failure_policy {
                None => claimscript::FailurePolicy::default(),
                Some(p) => {
                    parse_policy(p).map_err(|m| at(&format!("scripts.{name}.failure_policy"), m))?
                }
            };
            if let Some(key) = &script.key
                && !config.keys.contains_key(key)
            {
                return Err(at(
                    &format!("scripts.{name}.key"),
                    format!("no key `{key}` in [keys]"),
                ));
            }
            let key_at = |field: &str| format!("scripts.{name}.{field}");
            let (path, oci) = match (&script.path, &script.oci) {
                (Some(path), None) => {
                    if !script.verify_keys.is_empty()
                        || script.allow_unsigned
                        || script.poll_interval_ms.is_some()
                        || script.plain_http
                    {
                        return Err(at(
                            &format!("scripts.{name}"),
                            "verify_keys, allow_unsigned, poll_interval_ms and plain_http apply to `oci` scripts only".into(),
                        ));
                    }
                    (resolve(path), None)
                }
                (None, Some(reference)) => {
                    let text = reference.strip_prefix("oci://").unwrap_or(reference);
                    let parsed = claimscript_oci::Reference::parse(text)
                        .map_err(|e| at(&key_at("oci"), e.to_string()))?;
                    if script.verify_keys.is_empty() && !script.allow_unsigned {
                        return Err(at(
                            &key_at("oci"),
                            "give `verify_keys` (public keys one of which must have signed the artifact), or `allow_unsigned = true` to run unsigned artifacts".into(),
                        ));
                    }
                    if !script.verify_keys.is_empty() && script.allow_unsigned {
                        return Err(at(
                            &key_at("allow_unsigned"),
                            "`allow_unsigned` and `verify_keys` contradict each other".into(),
                        ));
                    }
                    for key in &script.verify_keys {
                        claimscript_oci::PublicKey::from_file(&resolve(key))
                            .map_err(|e| at(&key_at("verify_keys"), e.to_string()))?;
                    }
                    let poll_interval = match (parsed.digest(), script.poll_interval_ms) {
                        (Some(_), Some(_)) => {
                            return Err(at(
                                &key_at("poll_interval_ms"),
                                "a digest-pinned reference never changes: nothing to poll".into(),
                            ));
                        }
                        (Some(_), None) => None,
                        (None, Some(ms)) if ms < 100 => {
                            return Err(at(
                                &key_at("poll_interval_ms"),
                                format!("must be at least 100, got {ms}"),
                            ));
                        }
                        (None, ms) => {
                            Some(Duration::from_millis(ms.unwrap_or(DEFAULT_OCI_POLL_MS)))
                        }
                    };
                    (
                        PathBuf::new(),
                        Some(OciSource {
                            reference: text.to_string(),
                            verify_keys: script.verify_keys.iter().map(|k| resolve(k)).collect(),
                            allow_unsigned: script.allow_unsigned,
                            poll_interval,
                            plain_http: script.plain_http,
                        }),
                    )
                }
                _ => {
                    return Err(at(
                        &format!("scripts.{name}"),
                        "give exactly one of `path` (a file) or `oci` (oci://host/repo:tag)".into(),
                    ));
                }
            };
            config.scripts.insert(
                name.clone(),
                ScriptConfig {
                    path,
                    oci,
                    style,
                    grants: script.grants.as_deref().map(resolve),
                    failure_policy,
                    env_from: script.env_from.clone(),
                    key: script.key.clone(),
                },
            );
        }
        for (provider, bindings) in &raw.hooks {
            let protocol = claimscript_hooks::Protocol::from_name(provider).ok_or_else(|| {
                at(
                    &format!("hooks.{provider}"),
                    format!(
                        "unknown provider `{provider}` (expected okta, zitadel, hydra or supabase)"
                    ),
                )
            })?;
            for (script, hook) in bindings {
                let key = format!("hooks.{provider}.{script}");
                check_name(script).map_err(|m| at(&key, m))?;
                config
                    .hooks
                    .push(hook_config(protocol, script, hook, &resolve).map_err(|m| at(&key, m))?);
            }
        }
        Ok(config)
    }

    /// Whether bearer tokens are required.
    pub fn auth_enabled(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// Refuse a configuration that would expose an unauthenticated API
    /// beyond this machine.
    pub fn check_exposure(&self) -> Result<(), ConfigError> {
        if !self.auth_enabled() && !self.listen.ip().is_loopback() {
            return Err(ConfigError::Exposed { addr: self.listen });
        }
        Ok(())
    }
}

fn hook_config(
    protocol: claimscript_hooks::Protocol,
    script: &str,
    raw: &RawHook,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<HookConfig, String> {
    use claimscript_hooks::{Auth, Protocol, hydra, okta, supabase, zitadel};
    let secret = match (&raw.secret_env, &raw.secret_file) {
        (Some(var), None) => Some(
            std::env::var(var)
                .map_err(|_| format!("the environment variable {var} (`secret_env`) is not set"))?,
        ),
        (None, Some(file)) => {
            let path = resolve(file);
            Some(
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read `secret_file` {}: {e}", path.display()))?
                    .trim_end()
                    .to_string(),
            )
        }
        (None, None) if raw.bearer.is_some() => None,
        _ => {
            return Err(
                "give exactly one of `secret_env` or `secret_file` (secrets are never written in the config)"
                    .into(),
            );
        }
    };
    let only = |what: &str, allowed: bool| {
        if allowed {
            Ok(())
        } else {
            Err(format!("`{what}` does not apply to {}", protocol.as_str()))
        }
    };
    only(
        "header",
        raw.header.is_none() || matches!(protocol, Protocol::Okta | Protocol::Hydra),
    )?;
    only(
        "cookie",
        raw.cookie.is_none() || protocol == Protocol::Hydra,
    )?;
    only(
        "replay_capacity",
        raw.replay_capacity.is_none() || protocol == Protocol::Supabase,
    )?;
    only("bearer", raw.bearer.is_none() || protocol == Protocol::Okta)?;
    let bearer = raw.bearer.as_ref().map(bearer_config).transpose()?;
    let required = |secret: Option<String>| {
        secret.ok_or_else(|| "give `secret_env` or `secret_file`".to_string())
    };
    let auth = match protocol {
        Protocol::Okta => Auth::Okta(match (secret, bearer) {
            (Some(secret), None) => {
                okta::Auth::header(raw.header.as_deref().unwrap_or("authorization"), secret)
                    .map_err(|e| e.to_string())?
            }
            (Some(secret), Some(bearer)) => {
                okta::Auth::header(raw.header.as_deref().unwrap_or("authorization"), secret)
                    .and_then(|a| a.with_bearer(bearer))
                    .map_err(|e| e.to_string())?
            }
            (None, Some(bearer)) => okta::Auth::bearer(bearer),
            (None, None) => return Err("give a secret or a `bearer` table".into()),
        }),
        Protocol::Zitadel => {
            Auth::Zitadel(zitadel::Auth::new(required(secret)?).map_err(|e| e.to_string())?)
        }
        Protocol::Hydra => Auth::Hydra(
            match (&raw.header, &raw.cookie) {
                (Some(header), None) => hydra::Auth::header(header, required(secret)?),
                (None, Some(cookie)) => hydra::Auth::cookie(cookie, required(secret)?),
                _ => return Err("Hydra: give exactly one of `header` or `cookie` (where Hydra's api_key auth puts the key)".into()),
            }
            .map_err(|e| e.to_string())?,
        ),
        Protocol::Supabase => {
            Auth::Supabase(supabase::Auth::from_config(&required(secret)?).map_err(|e| e.to_string())?)
        }
        _ => return Err(format!("{} hooks are not supported", protocol.as_str())),
    };
    let max = claimscript_hooks::max_run_timeout(protocol);
    let timeout = match raw.timeout_ms {
        None => max,
        Some(ms) if ms == 0 || Duration::from_millis(ms) > max => {
            return Err(format!(
                "`timeout_ms` = {ms} does not fit {}'s deadline of {} ms: use 1 to {} ms",
                protocol.as_str(),
                protocol.deadline().as_millis(),
                max.as_millis()
            ));
        }
        Some(ms) => Duration::from_millis(ms),
    };
    let failure_policy = match &raw.failure_policy {
        None => claimscript::FailurePolicy::default(),
        Some(p) => parse_policy(p)?,
    };
    Ok(HookConfig {
        protocol,
        script: script.to_string(),
        auth,
        failure_policy,
        timeout,
        jwks_min_refresh: Duration::from_millis(
            raw.bearer
                .as_ref()
                .and_then(|b| b.min_refresh_ms)
                .unwrap_or(crate::jwks::DEFAULT_JWKS_MIN_REFRESH_MS),
        ),
        replay_capacity: raw
            .replay_capacity
            .unwrap_or(claimscript_hooks::DEFAULT_REPLAY_CAPACITY)
            .max(1),
    })
}

fn bearer_config(raw: &RawBearer) -> Result<claimscript_hooks::keys::BearerConfig, String> {
    let url = url::Url::parse(&raw.jwks_url)
        .map_err(|e| format!("`bearer.jwks_url` {:?}: {e}", raw.jwks_url))?;
    if !matches!(url.scheme(), "https" | "http")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(format!(
            "`bearer.jwks_url` {:?} must be an http(s) URL without credentials",
            raw.jwks_url
        ));
    }
    let mut config = claimscript_hooks::keys::BearerConfig::new(
        raw.issuer.clone(),
        raw.audience.clone(),
        raw.jwks_url.clone(),
    );
    if let Some(names) = &raw.algorithms {
        let algorithms = names
            .iter()
            .map(|n| match n.as_str() {
                "RS256" => Ok(jsonwebtoken::Algorithm::RS256),
                "RS384" => Ok(jsonwebtoken::Algorithm::RS384),
                "RS512" => Ok(jsonwebtoken::Algorithm::RS512),
                "ES256" => Ok(jsonwebtoken::Algorithm::ES256),
                "ES384" => Ok(jsonwebtoken::Algorithm::ES384),
                "EdDSA" => Ok(jsonwebtoken::Algorithm::EdDSA),
                other => Err(format!(
                    "`bearer.algorithms`: {other:?} is not one of RS256, RS384, RS512, ES256, ES384, EdDSA"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if algorithms.is_empty() {
            return Err("`bearer.algorithms` is empty".into());
        }
        config = config.with_algorithms(algorithms);
    }
    Ok(config)
}

/// `failure_policy` values: `block` or `issue_without_claims`.
pub fn parse_policy(text: &str) -> Result<claimscript::FailurePolicy, String> {
    match text {
        "block" => Ok(claimscript::FailurePolicy::Block),
        "issue_without_claims" => Ok(claimscript::FailurePolicy::IssueWithoutClaims),
        other => Err(format!(
            "unknown failure policy `{other}` (expected block or issue_without_claims)"
        )),
    }
}

/// The name of a failure policy, as the config and the API write it.
pub fn policy_name(policy: claimscript::FailurePolicy) -> &'static str {
    match policy {
        claimscript::FailurePolicy::IssueWithoutClaims => "issue_without_claims",
        _ => "block",
    }
}

/// Script names: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with `.`
/// (they name files in the data directory).
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid script name {name:?}: use 1 to 64 of A-Z a-z 0-9 . _ -, not starting with ."
        ))
    }
}

fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not an address:port such as 127.0.0.1:8787"))
}

fn token_config(raw: &RawToken) -> Result<TokenConfig, String> {
    if raw.id.is_empty() {
        return Err("a token needs a non-empty `id`".into());
    }
    if raw.scopes.is_empty() {
        return Err(format!("token `{}` has no scopes (run, admin)", raw.id));
    }
    let sha256 = match (&raw.sha256, &raw.env) {
        (Some(hex), None) => parse_sha256(hex)
            .ok_or_else(|| format!("token `{}`: `sha256` must be 64 hex digits", raw.id))?,
        (None, Some(var)) => {
            let value = std::env::var(var).map_err(|_| {
                format!(
                    "token `{}`: the environment variable {var} is not set",
                    raw.id
                )
            })?;
            if value.len() < 16 {
                return Err(format!(
                    "token `{}`: the token in {var} is shorter than 16 characters",
                    raw.id
                ));
            }
            crate::auth::hash(value.as_bytes())
        }
        _ => {
            return Err(format!(
                "token `{}`: give exactly one of `sha256` or `env`",
                raw.id
            ));
        }
    };
    Ok(TokenConfig {
        id: raw.id.clone(),
        sha256,
        scopes: raw.scopes.clone(),
    })
}

fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.strip_prefix("sha256:").unwrap_or(hex);
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
        let text = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The line and column of the last dotted segment of `key` as written in
/// the text (a table header or a key), for errors found after parsing.
fn find_key(text: &str, key: &str) -> (usize, usize) {
    let last = key.rsplit('.').next().unwrap_or(key);
    let mut found = (1, 1);
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let header = trimmed.starts_with('[') && trimmed.contains(key);
        let assignment = trimmed
            .strip_prefix(last)
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        if header || assignment {
            found = (i + 1, line.len() - trimmed.len() + 1);
            if assignment {
                break;
            }
        }
    }
    found
}
