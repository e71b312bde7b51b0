//! The service's state: the engine, the registry, keys, metrics, the audit
//! log, and reloading.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use claimscript::{Engine, EngineConfig, Grants, Script};
use claimscript_issuer::{Issuer, SigningAlgorithm, SigningKey};
use lru::LruCache;
use serde_json::{Value, json};

use crate::audit::AuditLog;
use crate::config::{AuditConfig, ScriptConfig, ServiceConfig};
use crate::error::ServeError;
use crate::metrics::Metrics;
use crate::registry::{Code, Gate, LoadError, Origin, Registry, Version, fingerprint};
use crate::store::DataDir;
use crate::tls::CertResolver;

/// Provider hook bindings, by protocol and script name.
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    pub(crate) bindings: HashMap<(claimscript_hooks::Protocol, String), Arc<Binding>>,
}

/// One `[hooks.PROVIDER.SCRIPT]`, with its replay cache (Supabase's
/// `webhook-id`s), which outlives reloads of the binding: a reload must not
/// reopen the window for a replay.
#[derive(Debug)]
pub(crate) struct Binding {
    pub(crate) config: crate::config::HookConfig,
    pub(crate) verifier: claimscript_hooks::Verifier,
    pub(crate) replay: Arc<Mutex<claimscript_hooks::ReplayCache>>,
    /// Okta bearer tokens' keys, when the binding has a `[bearer]`.
    pub(crate) jwks: Option<crate::jwks::JwksCache>,
}

impl Binding {
    /// Authenticate a request over its raw body.
    pub(crate) fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        keys: &dyn claimscript_hooks::keys::KeySource,
    ) -> Result<(), claimscript_hooks::HookError> {
        let now = SystemTime::now();
        match &self.config.auth {
            claimscript_hooks::Auth::Supabase(auth) => {
                let mut replay = self
                    .replay
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                auth.verify(headers, body, now, &mut replay)
            }
            _ => self.verifier.verify(headers, body, now, keys),
        }
    }
}

impl Hooks {
    /// Bindings for `config`, keeping the replay caches of the bindings
    /// that remain.
    fn build(config: &ServiceConfig, old: Option<&Hooks>) -> Hooks {
        let mut bindings = HashMap::new();
        for hook in &config.hooks {
            let key = (hook.protocol, hook.script.clone());
            let replay = old
                .and_then(|o| o.bindings.get(&key))
                .map(|b| b.replay.clone())
                .unwrap_or_else(|| {
                    Arc::new(Mutex::new(claimscript_hooks::ReplayCache::new(
                        hook.replay_capacity,
                    )))
                });
            let verifier = claimscript_hooks::Verifier::new(hook.auth.clone());
            let jwks = match verifier.bearer_config() {
                None => None,
                Some(bearer) => {
                    match crate::jwks::JwksCache::new(&bearer.jwks_url, hook.jwks_min_refresh) {
                        Ok(cache) => Some(cache),
                        Err(e) => {
                            tracing::error!(script = %hook.script, "the binding's jwks_url is unusable: {e}");
                            None
                        }
                    }
                }
            };
            bindings.insert(
                key,
                Arc::new(Binding {
                    config: hook.clone(),
                    verifier,
                    replay,
                    jwks,
                }),
            );
        }
        Hooks { bindings }
    }
}

/// Signing keys by name, and the JWKS of all of them.
#[derive(Debug, Default)]
pub(crate) struct Keys {
    pub(crate) issuers: BTreeMap<String, Issuer>,
    pub(crate) jwks: Value,
}

/// Everything a request handler needs.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) engine: Engine,
    pub(crate) registry: Registry,
    pub(crate) gate: Gate,
    pub(crate) metrics: Metrics,
    pub(crate) config: RwLock<Arc<ServiceConfig>>,
    pub(crate) keys: RwLock<Arc<Keys>>,
    pub(crate) hooks: RwLock<Arc<Hooks>>,
    /// Logto runner: compiled scripts by source digest.
    pub(crate) logto: Mutex<LruCache<[u8; 32], Script>>,
    pub(crate) audit: Option<Arc<AuditLog>>,
    /// The playground's development key (generated at start).
    pub(crate) dev_issuer: Option<Issuer>,
    pub(crate) tls: Option<Arc<CertResolver>>,
    /// When each OCI script is due for a pull.
    pub(crate) polls: crate::oci::Polls,
    /// Scripts given on the command line, kept across config reloads.
    extra_scripts: BTreeMap<String, ScriptConfig>,
    reload_lock: tokio::sync::Mutex<Option<[u8; 32]>>,
}

/// The claims service: build it from a [`ServiceConfig`], then mount its
/// [`Service::router`] in your own server or let [`Service::bind`] serve it.
#[derive(Debug, Clone)]
pub struct Service {
    pub(crate) app: Arc<App>,
}

impl Service {
    /// Build the service: open the data directory, start the engine (this
    /// compiles the QuickJS runtime once, or loads it from the data
    /// directory's cache), restore the scripts registered through the API
    /// (loaded lazily) and compile the configured ones. A configured script
    /// that does not compile is reported in `/v1/scripts` and keeps the
    /// service from being ready; it does not stop the start.
    pub async fn new(config: ServiceConfig) -> Result<Service, ServeError> {
        config.check_exposure()?;
        let metrics = Metrics::new();
        let data = DataDir::open(&config.data_dir).map_err(|e| {
            ServeError::io(
                format!(
                    "cannot open the data directory {}",
                    config.data_dir.display()
                ),
                e,
            )
        })?;
        let audit = match &config.audit {
            AuditConfig::Off => None,
            AuditConfig::Stdout => Some(Arc::new(AuditLog::stdout(metrics.clone()))),
            AuditConfig::File {
                path,
                max_bytes,
                keep,
            } => Some(Arc::new(
                AuditLog::file(path, *max_bytes, *keep, metrics.clone()).map_err(|e| {
                    ServeError::io(format!("cannot open the audit log {}", path.display()), e)
                })?,
            )),
        };
        let mut engine_config = EngineConfig::default();
        engine_config.max_concurrent_runs = config.limits.max_concurrent_runs;
        engine_config.cache_dir = Some(data.cache_dir());
        engine_config.cache_max_bytes = config.cache.max_bytes;
        engine_config.audit_sink = audit
            .clone()
            .map(|a| a as Arc<dyn claimscript::trail::AuditSink>);
        let engine = tokio::task::spawn_blocking(move || Engine::with_config(engine_config))
            .await
            .map_err(|e| ServeError::io("the engine's start panicked", std::io::Error::other(e)))?
            .map_err(ServeError::Engine)?;
        let registry = Registry::new(
            engine.clone(),
            data,
            config.limits.max_loaded_scripts,
            metrics.clone(),
        );
        registry.restore();
        let gate = Gate::new(
            config.limits.max_concurrent_runs,
            config.limits.queue_timeout,
            metrics.clone(),
        );
        let keys = load_keys(&config)?;
        let dev_issuer = if config.playground {
            Some(dev_issuer()?)
        } else {
            None
        };
        let tls = match &config.tls {
            Some(tls) => Some(Arc::new(CertResolver::load(tls)?)),
            None => None,
        };
        let logto_cap = config
            .logto_runner
            .as_ref()
            .map_or(1, |l| l.max_cached)
            .max(1);
        let app = App {
            engine,
            registry,
            gate,
            metrics,
            extra_scripts: BTreeMap::new(),
            config: RwLock::new(Arc::new(config.clone())),
            keys: RwLock::new(Arc::new(keys)),
            hooks: RwLock::new(Arc::new(Hooks::build(&config, None))),
            logto: Mutex::new(LruCache::new(
                NonZeroUsize::new(logto_cap).unwrap_or(NonZeroUsize::MIN),
            )),
            audit,
            dev_issuer,
            tls,
            polls: crate::oci::Polls::default(),
            reload_lock: tokio::sync::Mutex::new(config_digest(&config)),
        };
        let service = Service { app: Arc::new(app) };
        service.app.load_scripts(&config).await;
        Ok(service)
    }

    /// The engine the service runs scripts with.
    pub fn engine(&self) -> &Engine {
        &self.app.engine
    }

    /// The service's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.app.metrics
    }

    /// Whether every configured script has a version that loaded.
    pub fn ready(&self) -> bool {
        self.app.ready()
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<ServiceConfig> {
        self.app.config()
    }

    /// Re-read the config file (when there is one) and every configured
    /// script's files; compile what changed and swap it in. A config that
    /// does not parse keeps the one in force; a script that does not
    /// compile keeps its previous version. Settings that need a restart
    /// (listen addresses, data directory, run slots) are kept as they are,
    /// with a warning. Also reloads the TLS certificate.
    pub async fn reload(&self) -> Result<(), String> {
        self.app.reload(true).await
    }

    /// Check the config and script files for changes, and reload what
    /// changed (the watcher calls this every `watch_interval_ms`).
    pub async fn reload_if_changed(&self) -> Result<(), String> {
        self.app.reload(false).await
    }

    /// Pull the OCI scripts whose poll is due (every one the first time):
    /// [`Service::bind`] does this every 250 ms; an embedder that mounts
    /// [`Service::router`] itself calls it periodically.
    pub async fn poll_registries(&self) {
        self.app.poll_registries().await;
    }

    /// Sync the audit log to disk.
    pub fn flush_audit(&self) {
        if let Some(audit) = &self.app.audit {
            audit.flush();
        }
    }
}

impl App {
    pub(crate) fn config(&self) -> Arc<ServiceConfig> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub(crate) fn hooks(&self) -> Arc<Hooks> {
        match self.hooks.read() {
            Ok(h) => h.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Refuse grants that ask for more memory than the engine's slots
    /// have; `what` names them in the message.
    pub(crate) fn check_grants_fit(&self, grants: &Grants, what: &str) -> Result<(), String> {
        let max = self.engine.config().max_memory_mb;
        if grants.memory_mb > max {
            return Err(format!(
                "{what}: memory_mb = {} is above the service's maximum of {max}",
                grants.memory_mb
            ));
        }
        Ok(())
    }

    pub(crate) fn keys(&self) -> Arc<Keys> {
        match self.keys.read() {
            Ok(k) => k.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub(crate) fn ready(&self) -> bool {
        let config = self.config();
        config.scripts.keys().all(|name| {
            self.registry
                .slot(name)
                .is_some_and(|s| s.current().is_some())
        })
    }

    /// Load every configured script whose files changed; drop configured
    /// scripts no longer configured.
    async fn load_scripts(&self, config: &ServiceConfig) {
        for (name, script) in &config.scripts {
            if let Err(e) = self.load_config_script(name, script).await {
                self.registry.failed(name, e);
            }
        }
        for name in self.registry.names() {
            let configured = config.scripts.contains_key(&name);
            let from_config = self
                .registry
                .slot(&name)
                .and_then(|s| s.current())
                .is_some_and(|v| v.origin.config_owned());
            if from_config && !configured {
                tracing::info!(script = %name, "no longer configured; removed");
                self.registry.remove(&name);
            }
        }
    }

    async fn load_config_script(&self, name: &str, sc: &ScriptConfig) -> Result<(), LoadError> {
        if let Some(oci) = &sc.oci {
            // The kept version now; pulls happen in `poll_registries`.
            return self
                .load_oci_script(name, sc, oci, oci_settings(sc, oci), false)
                .await;
        }
        let code = std::fs::read(&sc.path)
            .map_err(|e| LoadError::new(format!("cannot read {}: {e}", sc.path.display())))?;
        let grants_text = match &sc.grants {
            None => None,
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                LoadError::new(format!("cannot read grants file {}: {e}", path.display()))
            })?),
        };
        let env = resolve_env(sc)?;
        let env_text = env
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect::<String>();
        let style_text = sc.style.map_or("detect", |s| s.as_str());
        let print = fingerprint(&[
            &code,
            grants_text.as_deref().unwrap_or("").as_bytes(),
            style_text.as_bytes(),
            crate::config::policy_name(sc.failure_policy).as_bytes(),
            env_text.as_bytes(),
            sc.key.as_deref().unwrap_or("").as_bytes(),
        ]);
        let current = self.registry.slot(name).and_then(|s| s.current());
        if current.as_ref().and_then(|v| v.fingerprint) == Some(print) {
            return Ok(());
        }
        let grants = match (&grants_text, &sc.grants) {
            (Some(text), Some(path)) => Grants::from_toml(text)
                .map_err(|e| LoadError::new(format!("{}: {e}", path.display())))?,
            _ => Grants::default(),
        };
        let grants_file = sc
            .grants
            .as_ref()
            .map_or_else(|| "grants".to_string(), |p| p.display().to_string());
        self.check_grants_fit(&grants, &grants_file)
            .map_err(LoadError::new)?;
        let Some(_permit) = self.gate.enter_unbounded().await else {
            return Err(LoadError::new("the service is shutting down"));
        };
        let script = if code.starts_with(b"\0asm") {
            self.registry.compile(Code::Component(&code)).await?
        } else {
            let source = std::str::from_utf8(&code).map_err(|_| {
                LoadError::new(format!(
                    "{}: the script is not UTF-8 text",
                    sc.path.display()
                ))
            })?;
            self.registry
                .compile(Code::Source(source, sc.style))
                .await?
        };
        let version = Version::of_config(
            name,
            &script,
            sc,
            (grants, grants_text, env),
            Origin::Config {
                path: sc.path.clone(),
            },
            print,
        );
        let replaced = current.is_some();
        self.registry.install(version, Some(&script));
        tracing::info!(
            script = name,
            digest = %script.digest_hex(),
            replaced,
            "script loaded from {}",
            sc.path.display()
        );
        Ok(())
    }

    async fn reload(&self, forced: bool) -> Result<(), String> {
        let mut last_digest = self.reload_lock.lock().await;
        let old = self.config();
        let mut new = match &old.path {
            Some(path) => match std::fs::read(path) {
                Ok(bytes) => {
                    let digest = fingerprint(&[&bytes]);
                    if !forced && *last_digest == Some(digest) {
                        // The config is unchanged: only script files may be.
                        self.load_scripts(&self.merged(&old)).await;
                        return Ok(());
                    }
                    *last_digest = Some(digest);
                    match ServiceConfig::from_file(path) {
                        Ok(c) => c,
                        Err(e) => {
                            self.metrics.reload(false);
                            tracing::error!(error = %e, "the config file does not load; the one in force stays");
                            return Err(e.to_string());
                        }
                    }
                }
                Err(e) => {
                    self.metrics.reload(false);
                    let message = format!("cannot read the config file {}: {e}", path.display());
                    tracing::error!("{message}; the config in force stays");
                    return Err(message);
                }
            },
            None => (*old).clone(),
        };
        if new.listen != old.listen
            || new.diagnostic_listen != old.diagnostic_listen
            || new.data_dir != old.data_dir
            || new.limits != old.limits
            || new.audit != old.audit
            || new.playground != old.playground
            || new.tls.is_some() != old.tls.is_some()
        {
            tracing::warn!(
                "listen addresses, data_dir, [limits], [audit], playground and turning TLS on or off take effect at the next restart"
            );
            new.listen = old.listen;
            new.diagnostic_listen = old.diagnostic_listen;
            new.data_dir = old.data_dir.clone();
            new.limits = old.limits.clone();
            new.audit = old.audit.clone();
            new.playground = old.playground;
            new.tls = old.tls.clone();
        }
        if let Err(e) = new.check_exposure() {
            self.metrics.reload(false);
            return Err(e.to_string());
        }
        let keys = match load_keys(&new) {
            Ok(k) => k,
            Err(e) => {
                self.metrics.reload(false);
                tracing::error!(error = %e, "a signing key does not load; the config in force stays");
                return Err(e.to_string());
            }
        };
        let merged = self.merged(&new);
        if let Ok(mut k) = self.keys.write() {
            *k = Arc::new(keys);
        }
        let hooks = Hooks::build(&merged, Some(&self.hooks()));
        if let Ok(mut h) = self.hooks.write() {
            *h = Arc::new(hooks);
        }
        if let Ok(mut c) = self.config.write() {
            *c = Arc::new(merged.clone());
        }
        self.load_scripts(&merged).await;
        if let (Some(resolver), Some(tls)) = (&self.tls, &merged.tls)
            && let Err(e) = resolver.reload(tls)
        {
            tracing::error!(error = %e, "the TLS certificate does not load; the one in force stays");
        }
        self.metrics.reload(true);
        Ok(())
    }

    /// `config` with the command line's scripts added.
    fn merged(&self, config: &ServiceConfig) -> ServiceConfig {
        let mut merged = config.clone();
        for (name, script) in &self.extra_scripts {
            merged
                .scripts
                .entry(name.clone())
                .or_insert_with(|| script.clone());
        }
        merged
    }
}

/// A config script's environment values, from the service's environment.
pub(crate) fn resolve_env(sc: &ScriptConfig) -> Result<BTreeMap<String, String>, LoadError> {
    let mut env = BTreeMap::new();
    for (var, from) in &sc.env_from {
        let value = std::env::var(from).map_err(|_| {
            LoadError::new(format!(
                "the environment variable {from} (for the script's {var}) is not set"
            ))
        })?;
        env.insert(var.clone(), value);
    }
    Ok(env)
}

/// What an OCI script's version depends on besides the artifact: a change
/// loads it again.
pub(crate) fn oci_settings(sc: &ScriptConfig, oci: &crate::config::OciSource) -> [u8; 32] {
    let mut parts: Vec<Vec<u8>> = vec![
        oci.reference.as_bytes().to_vec(),
        vec![u8::from(oci.allow_unsigned)],
        crate::config::policy_name(sc.failure_policy)
            .as_bytes()
            .to_vec(),
        sc.key.clone().unwrap_or_default().into_bytes(),
    ];
    for key in &oci.verify_keys {
        parts.push(std::fs::read(key).unwrap_or_default());
    }
    if let Some(grants) = &sc.grants {
        parts.push(std::fs::read(grants).unwrap_or_default());
    }
    for (var, from) in &sc.env_from {
        parts.push(format!("{var}={}", std::env::var(from).unwrap_or_default()).into_bytes());
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    crate::oci::settings_fingerprint(&refs)
}

fn config_digest(config: &ServiceConfig) -> Option<[u8; 32]> {
    let path = config.path.as_ref()?;
    std::fs::read(path).ok().map(|b| fingerprint(&[&b]))
}

fn load_keys(config: &ServiceConfig) -> Result<Keys, ServeError> {
    let mut keys = Keys::default();
    let mut jwks = Vec::new();
    for (name, key) in &config.keys {
        let err = |message: String| ServeError::Key {
            name: name.clone(),
            message,
        };
        let alg: SigningAlgorithm = key.alg.parse().map_err(|e| err(format!("{e}")))?;
        let pem = std::fs::read(&key.private_key)
            .map_err(|e| err(format!("cannot read {}: {e}", key.private_key.display())))?;
        let signing = SigningKey::from_pem(alg, &pem)
            .map_err(|e| err(format!("{}: {e}", key.private_key.display())))?
            .with_kid(key.kid.clone());
        let issuer = Issuer::new(signing);
        if let Some(list) = issuer.jwks().get("keys").and_then(Value::as_array) {
            jwks.extend(list.iter().cloned());
        }
        keys.issuers.insert(name.clone(), issuer);
    }
    keys.jwks = json!({ "keys": jwks });
    Ok(keys)
}

/// An ES256 key generated at start for the playground's token preview.
fn dev_issuer() -> Result<Issuer, ServeError> {
    let err = |message: String| ServeError::Key {
        name: "playground".into(),
        message,
    };
    let pair = claimscript_issuer::generate_key(SigningAlgorithm::ES256)
        .map_err(|e| err(format!("{e}")))?;
    let key = SigningKey::from_pem(SigningAlgorithm::ES256, pair.private_pem.as_bytes())
        .map_err(|e| err(format!("{e}")))?
        .with_kid("playground-dev");
    Ok(Issuer::new(key))
}

impl Service {
    /// Add scripts given on the command line (kept across config reloads)
    /// and load them.
    pub async fn with_scripts(
        mut self,
        scripts: BTreeMap<String, ScriptConfig>,
    ) -> Result<Service, ServeError> {
        let app = Arc::get_mut(&mut self.app).ok_or_else(|| {
            ServeError::io(
                "scripts can only be added before the service is shared",
                std::io::Error::other("shared"),
            )
        })?;
        app.extra_scripts.extend(scripts);
        let merged = app.merged(&app.config());
        if let Ok(mut c) = app.config.write() {
            *c = Arc::new(merged.clone());
        }
        self.app.load_scripts(&merged).await;
        Ok(self)
    }
}
