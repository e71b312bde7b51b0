//! Registered scripts: each name's current version, swapped atomically,
//! and a bounded cache of loaded (compiled, ready-to-run) scripts.
//!
//! A version is immutable: a run takes an `Arc` of the version it starts
//! with and finishes on it, whatever replaces it meanwhile. Scripts
//! registered through the API are kept in the data directory and loaded
//! lazily: a name holds only its registration until its first run, and the
//! cache keeps at most `max_loaded_scripts` compiled scripts (least recently
//! used first out). A script that falls out is loaded again from its
//! artifact (with the engine's compiled-code cache: a load, not a compile).

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use claimscript::{CompileOptions, Engine, Error, FailurePolicy, Grants, Script, Style};
use http::StatusCode;
use lru::LruCache;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::config::policy_name;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::store::{DataDir, StoredScript};

/// Where a script comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A file named in the config (or on the command line).
    Config { path: PathBuf },
    /// `PUT /v1/scripts/{name}`.
    Api,
    /// An OCI registry, named in the config.
    Oci {
        /// The reference as configured.
        reference: String,
        /// The manifest digest that loaded.
        manifest_digest: String,
    },
}

impl Origin {
    /// Whether the config owns the script (not the API).
    pub(crate) fn config_owned(&self) -> bool {
        !matches!(self, Origin::Api)
    }
}

/// One version of a script, immutable.
#[derive(Debug)]
pub(crate) struct Version {
    pub(crate) name: String,
    pub(crate) digest: String,
    pub(crate) style: Style,
    pub(crate) source_sha256: String,
    pub(crate) grants: Grants,
    pub(crate) grants_text: Option<String>,
    pub(crate) policy: FailurePolicy,
    /// Environment values from the service's environment (config scripts).
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) key: Option<String>,
    pub(crate) origin: Origin,
    pub(crate) loaded_at: SystemTime,
    /// What the version was built from (config scripts): unchanged files
    /// are not compiled again.
    pub(crate) fingerprint: Option<[u8; 32]>,
}

impl Version {
    /// A version of a config script (a file or an OCI artifact): `settings`
    /// is its grants, their text and its environment values.
    pub(crate) fn of_config(
        name: &str,
        script: &Script,
        config: &crate::config::ScriptConfig,
        settings: (Grants, Option<String>, BTreeMap<String, String>),
        origin: Origin,
        fingerprint: [u8; 32],
    ) -> Version {
        let (grants, grants_text, env) = settings;
        Version {
            name: name.to_string(),
            digest: script.digest_hex(),
            style: script.style(),
            source_sha256: script.source_digest_hex().to_string(),
            grants,
            grants_text,
            policy: config.failure_policy,
            env,
            key: config.key.clone(),
            origin,
            loaded_at: SystemTime::now(),
            fingerprint: Some(fingerprint),
        }
    }
}

/// Runs by outcome.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    claims: AtomicU64,
    denied: AtomicU64,
    error: AtomicU64,
}

impl Counts {
    pub(crate) fn add(&self, outcome: &claimscript::Outcome) {
        let counter = match outcome {
            claimscript::Outcome::Claims { .. } => &self.claims,
            claimscript::Outcome::Denied(_) => &self.denied,
            _ => &self.error,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn to_json(&self) -> Value {
        json!({
            "claims": self.claims.load(Ordering::Relaxed),
            "denied": self.denied.load(Ordering::Relaxed),
            "error": self.error.load(Ordering::Relaxed),
        })
    }
}

/// Why a version could not be loaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct LoadError {
    /// When it failed, RFC 3339.
    pub(crate) at: String,
    pub(crate) message: String,
    /// The script error's kind, when the script is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) column: Option<u32>,
}

impl LoadError {
    pub(crate) fn new(message: impl Into<String>) -> LoadError {
        LoadError {
            at: now_rfc3339(),
            message: message.into(),
            kind: None,
            line: None,
            column: None,
        }
    }

    pub(crate) fn from_error(e: &Error) -> LoadError {
        match e {
            Error::Script(se) => LoadError {
                at: now_rfc3339(),
                message: se.message.clone(),
                kind: Some(se.kind.as_str().to_string()),
                line: se.line,
                column: se.column,
            },
            other => LoadError::new(other.to_string()),
        }
    }

    /// The 422 a registration that does not compile gets.
    pub(crate) fn to_api(&self) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "compile_error",
            self.message.clone(),
        );
        if let Some(kind) = &self.kind {
            e = e.with("kind", kind.clone());
        }
        if let Some(line) = self.line {
            e = e.with("line", line);
        }
        if let Some(column) = self.column {
            e = e.with("column", column);
        }
        e
    }
}

/// One name: its current version, its last load error, its run counts.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    current: RwLock<Option<Arc<Version>>>,
    last_error: Mutex<Option<LoadError>>,
    pub(crate) counts: Counts,
}

impl Slot {
    pub(crate) fn current(&self) -> Option<Arc<Version>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    fn last_error(&self) -> Option<LoadError> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }
}

/// Run slots: at most the engine's pool of runs and compilations at once;
/// a request waits a bounded time for one, then gets a 503.
#[derive(Debug)]
pub(crate) struct Gate {
    semaphore: Semaphore,
    wait: Duration,
    metrics: Metrics,
}

/// A held run slot.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    _permit: SemaphorePermit<'a>,
    metrics: &'a Metrics,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.metrics.in_flight(-1);
    }
}

impl Gate {
    pub(crate) fn new(slots: u32, wait: Duration, metrics: Metrics) -> Gate {
        Gate {
            semaphore: Semaphore::new(slots as usize),
            wait,
            metrics,
        }
    }

    /// A slot, waiting at most the configured time.
    pub(crate) async fn enter(&self) -> Result<Permit<'_>, ApiError> {
        let started = Instant::now();
        let permit = match self.semaphore.try_acquire() {
            Ok(p) => p,
            Err(_) => match tokio::time::timeout(self.wait, self.semaphore.acquire()).await {
                Ok(Ok(p)) => p,
                _ => {
                    self.metrics.queued(started.elapsed(), true);
                    return Err(ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "busy",
                        format!(
                            "every run slot is busy and none freed within {} ms; retry later",
                            self.wait.as_millis()
                        ),
                    )
                    .retry_after(1));
                }
            },
        };
        self.metrics.queued(started.elapsed(), false);
        self.metrics.in_flight(1);
        Ok(Permit {
            _permit: permit,
            metrics: &self.metrics,
        })
    }

    /// A slot, however long it takes (reloads).
    pub(crate) async fn enter_unbounded(&self) -> Option<Permit<'_>> {
        let permit = self.semaphore.acquire().await.ok()?;
        self.metrics.in_flight(1);
        Some(Permit {
            _permit: permit,
            metrics: &self.metrics,
        })
    }
}

/// What to compile: JavaScript source (with an optional style) or a
/// compiled component.
#[derive(Debug)]
pub(crate) enum Code<'a> {
    Source(&'a str, Option<Style>),
    Component(&'a [u8]),
}

/// The registered scripts.
#[derive(Debug)]
pub(crate) struct Registry {
    engine: Engine,
    data: DataDir,
    slots: RwLock<BTreeMap<String, Arc<Slot>>>,
    loaded: Mutex<LruCache<String, Script>>,
    metrics: Metrics,
}

impl Registry {
    pub(crate) fn new(
        engine: Engine,
        data: DataDir,
        max_loaded: usize,
        metrics: Metrics,
    ) -> Registry {
        let cap = NonZeroUsize::new(max_loaded).unwrap_or(NonZeroUsize::MIN);
        Registry {
            engine,
            data,
            slots: RwLock::new(BTreeMap::new()),
            loaded: Mutex::new(LruCache::new(cap)),
            metrics,
        }
    }

    pub(crate) fn data(&self) -> &DataDir {
        &self.data
    }

    pub(crate) fn slot(&self, name: &str) -> Option<Arc<Slot>> {
        self.slots.read().ok()?.get(name).cloned()
    }

    fn slot_or_new(&self, name: &str) -> Arc<Slot> {
        if let Some(slot) = self.slot(name) {
            return slot;
        }
        let mut slots = match self.slots.write() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let slot = slots.entry(name.to_string()).or_default().clone();
        let registered = slots.len();
        drop(slots);
        self.update_gauges(registered);
        slot
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.slots
            .read()
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn update_gauges(&self, registered: usize) {
        let loaded = self.loaded.lock().map(|l| l.len()).unwrap_or(0);
        self.metrics.scripts(registered, loaded);
    }

    /// The slot of `name`, or a 404.
    pub(crate) fn existing(&self, name: &str) -> Result<Arc<Slot>, ApiError> {
        self.slot(name)
            .ok_or_else(|| ApiError::not_found(format!("no script named {name:?}")))
    }

    /// The version a run of `name` uses.
    pub(crate) fn version(&self, name: &str) -> Result<(Arc<Slot>, Arc<Version>), ApiError> {
        let slot = self.existing(name)?;
        match slot.current() {
            Some(v) => Ok((slot, v)),
            None => {
                let why = slot
                    .last_error()
                    .map_or_else(|| "it is loading".to_string(), |e| e.message);
                Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not_loaded",
                    format!("the script {name:?} has no version that loaded: {why}"),
                )
                .retry_after(5))
            }
        }
    }

    /// The loaded script of a version: from the cache, or loaded from its
    /// artifact in the data directory.
    pub(crate) fn script(&self, version: &Version) -> Result<Script, ApiError> {
        if let Ok(mut loaded) = self.loaded.lock()
            && let Some(script) = loaded.get(&version.digest)
        {
            return Ok(script.clone());
        }
        let started = Instant::now();
        let bytes = self.data.stored_artifact(&version.digest).map_err(|e| {
            ApiError::internal(format!(
                "cannot read the artifact of {:?}: {e}",
                version.name
            ))
        })?;
        let script = self
            .engine
            .load_stored(&bytes, &version.digest)
            .map_err(|e| {
                ApiError::internal(format!(
                    "cannot load the artifact of {:?}: {e}",
                    version.name
                ))
            })?;
        self.metrics.loaded(started.elapsed());
        self.cache(&version.digest, &script);
        Ok(script)
    }

    fn cache(&self, digest: &str, script: &Script) {
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.put(digest.to_string(), script.clone());
        }
        self.update_gauges(self.slots.read().map(|s| s.len()).unwrap_or(0));
    }

    /// Whether a digest is loaded (for the script list).
    fn is_loaded(&self, digest: &str) -> bool {
        self.loaded
            .lock()
            .map(|l| l.contains(digest))
            .unwrap_or(false)
    }

    /// Compile source or load a component (the caller holds a run slot),
    /// and keep its artifact in the data directory.
    pub(crate) async fn compile(&self, code: Code<'_>) -> Result<Script, LoadError> {
        let started = Instant::now();
        let script = match code {
            Code::Source(source, style) => {
                let mut options = CompileOptions::default();
                if let Some(style) = style {
                    options = options.with_style(style);
                }
                self.engine.compile_with(source, &options).await
            }
            Code::Component(bytes) => self.engine.load(bytes),
        }
        .map_err(|e| LoadError::from_error(&e))?;
        self.metrics.compiled(started.elapsed());
        // A script compiled or loaded here keeps its artifact until stored.
        let bytes = script
            .component_bytes()
            .ok_or_else(|| LoadError::new("the compiled script holds no artifact to store"))?;
        self.data
            .put_artifact(&script.digest_hex(), bytes)
            .map_err(|e| LoadError::new(format!("cannot write the artifact: {e}")))?;
        Ok(script)
    }

    /// Make `version` (of `script`) the current one of its name.
    pub(crate) fn install(&self, version: Version, script: Option<&Script>) -> Arc<Version> {
        if let Some(script) = script {
            self.cache(&version.digest, script);
        }
        let name = version.name.clone();
        let version = Arc::new(version);
        let slot = self.slot_or_new(&name);
        if let Ok(mut current) = slot.current.write() {
            *current = Some(version.clone());
        }
        if let Ok(mut e) = slot.last_error.lock() {
            *e = None;
        }
        self.metrics.load_failed(&name, false);
        version
    }

    /// Record that a new version of `name` failed; the current one (if any)
    /// keeps serving.
    pub(crate) fn failed(&self, name: &str, error: LoadError) {
        tracing::error!(script = name, error = %error.message, "script failed to load; the previous version keeps serving");
        let slot = self.slot_or_new(name);
        if let Ok(mut e) = slot.last_error.lock() {
            *e = Some(error);
        }
        self.metrics.load_failed(name, true);
    }

    /// Remove a name.
    pub(crate) fn remove(&self, name: &str) -> Option<Arc<Slot>> {
        let mut slots = self.slots.write().ok()?;
        let slot = slots.remove(name);
        let registered = slots.len();
        drop(slots);
        self.update_gauges(registered);
        slot
    }

    /// The registrations kept in the data directory, installed without
    /// loading them (they load on their first run).
    pub(crate) fn restore(&self) {
        let (records, broken) = self.data.records();
        for (name, error) in broken {
            self.failed(&name, LoadError::new(error));
        }
        let mut keep: std::collections::BTreeSet<String> =
            DataDir::referenced(&records).into_keys().collect();
        for record in records {
            match version_of_record(&record) {
                Ok(version) => {
                    keep.insert(version.digest.clone());
                    self.install(version, None);
                }
                Err(e) => self.failed(&record.name, e),
            }
        }
        // Kept OCI versions are what the service starts with when the
        // registry is down; artifacts of file scripts are written again
        // when they load.
        keep.extend(self.data.kept_oci_artifacts());
        self.data.collect_garbage(&keep);
    }

    /// Every name as `GET /v1/scripts` lists it.
    pub(crate) fn list(&self) -> Vec<Value> {
        let slots: Vec<(String, Arc<Slot>)> = self
            .slots
            .read()
            .map(|s| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        slots
            .iter()
            .map(|(name, slot)| self.describe(name, slot))
            .collect()
    }

    pub(crate) fn describe(&self, name: &str, slot: &Slot) -> Value {
        let mut item = serde_json::Map::new();
        item.insert("name".into(), name.into());
        if let Some(v) = slot.current() {
            item.insert("digest".into(), v.digest.clone().into());
            item.insert("source_sha256".into(), v.source_sha256.clone().into());
            item.insert("style".into(), v.style.as_str().into());
            item.insert(
                "origin".into(),
                match &v.origin {
                    Origin::Config { path } => json!({"config": path.display().to_string()}),
                    Origin::Api => "api".into(),
                    Origin::Oci {
                        reference,
                        manifest_digest,
                    } => json!({"oci": reference, "manifest_digest": manifest_digest}),
                },
            );
            item.insert(
                "grants".into(),
                v.grants_text.clone().map_or(Value::Null, Value::String),
            );
            item.insert("failure_policy".into(), policy_name(v.policy).into());
            item.insert(
                "key".into(),
                v.key.clone().map_or(Value::Null, Value::String),
            );
            item.insert("loaded_at".into(), rfc3339(v.loaded_at).into());
            item.insert("in_memory".into(), self.is_loaded(&v.digest).into());
        } else {
            item.insert("digest".into(), Value::Null);
        }
        item.insert("runs".into(), slot.counts.to_json());
        item.insert(
            "last_error".into(),
            slot.last_error().map_or(Value::Null, |e| {
                serde_json::to_value(e).unwrap_or(Value::Null)
            }),
        );
        Value::Object(item)
    }
}

/// A version from a registration in the data directory.
pub(crate) fn version_of_record(record: &StoredScript) -> Result<Version, LoadError> {
    let style = record
        .style
        .parse::<Style>()
        .map_err(|e| LoadError::new(format!("{}: {e}", record.name)))?;
    let grants = match &record.grants {
        None => Grants::default(),
        Some(text) => Grants::from_toml(text)
            .map_err(|e| LoadError::new(format!("{}: grants: {e}", record.name)))?,
    };
    let policy = crate::config::parse_policy(&record.failure_policy)
        .map_err(|e| LoadError::new(format!("{}: {e}", record.name)))?;
    Ok(Version {
        name: record.name.clone(),
        digest: record.digest.clone(),
        style,
        source_sha256: String::new(),
        grants,
        grants_text: record.grants.clone(),
        policy,
        env: BTreeMap::new(),
        key: record.key.clone(),
        origin: Origin::Api,
        loaded_at: humantime::parse_rfc3339(&record.registered_at).unwrap_or(SystemTime::now()),
        fingerprint: None,
    })
}

/// The fingerprint of what a config script is built from.
pub(crate) fn fingerprint(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

pub(crate) fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

pub(crate) fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}
