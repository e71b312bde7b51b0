//! The engine: one Wasmtime engine, linker and QuickJS runtime per process.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, InstanceAllocationStrategy, Module, OptLevel, PoolingAllocationConfig, Store,
};

use crate::bindings::{ClaimsScript, ClaimsScriptPre};
use crate::cache::{DiskCache, OpenError};
use crate::error::{ArtifactError, ArtifactErrorKind, EngineError, EngineErrorKind, Error};
use crate::fetch::FetchState;
use crate::http_client::HttpClients;
use crate::outcome::{ErrorKind, ScriptError};
use crate::run::classify_trap;
use crate::runtime::{ArtifactInfo, CODE, Runtime, hex, printable};
use crate::script::{Artifact, Script, ScriptInner};
use crate::state::RunState;
use crate::style::Style;
use crate::trail::AuditSink;

/// Fuel between two yields to the async executor: how often a run that
/// only computes lets its wall-clock timeout take effect (2 M units is about
/// 3 ms of QuickJS; most runs use less and never yield).
const FUEL_YIELD_INTERVAL: u64 = 2_000_000;
/// The default [`EngineConfig::max_input_bytes`]: 1 MiB.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 1 << 20;
/// The default [`EngineConfig::cache_max_bytes`]: 1 GiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 1 << 30;
/// Largest script source accepted.
pub const MAX_SOURCE_BYTES: usize = 1 << 20;
/// Core instances in one run: the state, the code, and wit-component's shim
/// and fixup modules.
const CORE_INSTANCES_PER_RUN: u32 = 4;

/// Settings of an [`Engine`], fixed when it is built.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// Runs (and compilations) that may be in flight at once: the size of the
    /// instance pool. Each slot reserves address space (about 6 GiB of it,
    /// for the guard regions that make bounds checks free), not memory, and
    /// a run holds its slot while it awaits a fetch. A run beyond it fails
    /// with an `internal` error rather than waiting. Default 1000.
    pub max_concurrent_runs: u32,
    /// The largest `memory_mb` any grants may ask for: the size of a memory
    /// slot. Default 128.
    pub max_memory_mb: u32,
    /// The largest input a run takes, in bytes of the JSON the script is
    /// given (its first argument, as the style builds it from the
    /// [`RunInput`](crate::RunInput); twice this for Auth0 and LoginRadius,
    /// whose argument repeats parts of the input). A larger one is refused before the
    /// run starts ([`Error::Input`](crate::Error::Input); `error_kind`
    /// `input` in the trail): the host's own memory for a run (parsing,
    /// copying, the audit record) grows with the input, outside
    /// `memory_mb`. Default [`DEFAULT_MAX_INPUT_BYTES`] (1 MiB);
    /// [`RunInput::from_json`](crate::RunInput::from_json) applies the same
    /// default to the text it parses.
    pub max_input_bytes: usize,
    /// Fuel for a script's top-level code while it is compiled. Default
    /// 200 000 000.
    pub compile_fuel: u64,
    /// Wall-clock limit for a script's top-level code while it is compiled.
    /// Default 5 s.
    pub compile_timeout: Duration,
    /// Where to keep compiled code between processes: the QuickJS runtime
    /// (about 1 s to compile) and each script. `None` (the default) keeps it
    /// in memory only. The directory must be owned by the engine's user and
    /// writable by it only (Wasmtime trusts compiled code it loads): on unix
    /// another is not used (see [`Engine::cache_dir`]). Directories the
    /// engine creates are mode 0700.
    pub cache_dir: Option<PathBuf>,
    /// The bound on the total size of the files in
    /// [`EngineConfig::cache_dir`] (its subdirectory for this engine's
    /// Wasmtime): past it, the files used least recently are removed (a hit
    /// marks a file used). A compiled script takes about 1.5 MB there; the
    /// runtime's own code (about 6 MB) counts but is never removed. Default
    /// [`DEFAULT_CACHE_MAX_BYTES`] (1 GiB).
    pub cache_max_bytes: u64,
    /// Where every run's [`RunRecord`](crate::trail::RunRecord) goes (the
    /// execution trail). `None` (the default) keeps no trail.
    pub audit_sink: Option<Arc<dyn AuditSink>>,
    /// The embedder's handler that every fetch the grants admit goes
    /// through (each redirect hop again), before the address guard that
    /// the engine's connector still applies: for proxies, tracing, or a
    /// fake in tests. `None` (the default) sends through the engine's own
    /// clients. See [`Outbound`](crate::Outbound).
    pub outbound: Option<Arc<dyn crate::outbound::Outbound>>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_concurrent_runs: 1000,
            max_memory_mb: 128,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            compile_fuel: 200_000_000,
            compile_timeout: Duration::from_secs(5),
            cache_dir: None,
            cache_max_bytes: DEFAULT_CACHE_MAX_BYTES,
            audit_sink: None,
            outbound: None,
        }
    }
}

/// How to compile a script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompileOptions {
    /// The script's style; `None` (the default) detects it from the source.
    pub style: Option<Style>,
}

impl CompileOptions {
    /// Compile as this style instead of detecting it.
    pub fn with_style(mut self, style: Style) -> Self {
        self.style = Some(style);
        self
    }
}

/// Compiles and runs claims scripts. Cheap to clone and `Send + Sync`: build
/// one per process and share it.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub(crate) wasmtime: wasmtime::Engine,
    pub(crate) linker: Linker<RunState>,
    pub(crate) config: EngineConfig,
    /// Connection pools shared by every run's fetches.
    pub(crate) http: HttpClients,
    pub(crate) runtime: Runtime,
    /// The runtime component with its initial state: what `load` runs in.
    fresh: ClaimsScriptPre<RunState>,
    disk: Option<DiskCache>,
    /// Scripts compiled or loaded, by source key and by artifact digest.
    scripts: Mutex<HashMap<[u8; 32], Weak<ScriptInner>>>,
}

impl std::fmt::Debug for EngineInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineInner")
            .field("config", &self.config)
            .field("runtime", &self.runtime.info.version)
            .finish_non_exhaustive()
    }
}

impl EngineInner {
    /// The largest memory any store of this engine may have.
    pub(crate) fn max_memory_bytes(&self) -> usize {
        self.config.max_memory_mb as usize * 1024 * 1024
    }

    /// A store with the memory limiter installed and `fuel`, which yields to
    /// the executor every [`FUEL_YIELD_INTERVAL`] so that the caller's
    /// wall-clock timeout can end it: the one way runs, compilations and
    /// benchmarks get a store.
    pub(crate) fn limited_store(
        &self,
        state: RunState,
        fuel: u64,
    ) -> Result<Store<RunState>, Error> {
        let mut store = Store::new(&self.wasmtime, state);
        store.limiter(|s| &mut s.limiter);
        store.set_fuel(fuel).map_err(Error::engine)?;
        store
            .fuel_async_yield_interval(Some(FUEL_YIELD_INTERVAL))
            .map_err(Error::engine)?;
        Ok(store)
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Script> {
        let scripts = self.scripts.lock().ok()?;
        let inner = scripts.get(key)?.upgrade()?;
        Some(Script { inner })
    }

    fn remember(&self, keys: &[[u8; 32]], script: &Script) {
        if let Ok(mut scripts) = self.scripts.lock() {
            scripts.retain(|_, s| s.strong_count() > 0);
            for key in keys {
                scripts.insert(*key, Arc::downgrade(&script.inner));
            }
        }
    }
}

impl Engine {
    /// An engine with the default [`EngineConfig`].
    ///
    /// This compiles the QuickJS runtime (about a second; once per engine,
    /// or once per cache directory with [`EngineConfig::cache_dir`]).
    pub fn new() -> Result<Engine, Error> {
        Engine::with_config(EngineConfig::default())
    }

    /// An engine with these settings.
    pub fn with_config(config: EngineConfig) -> Result<Engine, Error> {
        let wasmtime = wasmtime::Engine::new(&wasmtime_config(&config)).map_err(Error::engine)?;
        let runtime = Runtime::embedded()?;
        let disk = match &config.cache_dir {
            None => None,
            Some(dir) => match DiskCache::open(dir, &wasmtime, config.cache_max_bytes) {
                Ok(disk) => {
                    disk.pin(&runtime.info.code_sha256, &runtime.sha256);
                    Some(disk)
                }
                Err(OpenError::Unsafe(reason)) => {
                    tracing::warn!(
                        target: "claimscript::cache",
                        "not using the cache directory {}: {reason}; compiling in memory",
                        dir.display()
                    );
                    None
                }
                Err(OpenError::Io(e)) => {
                    return Err(EngineError::caused_by(
                        EngineErrorKind::CacheDir,
                        format!("cannot use the cache directory {}", dir.display()),
                        e,
                    )
                    .into());
                }
            },
        };
        let code = match disk
            .as_ref()
            .and_then(|d| d.module(&wasmtime, &runtime.info.code_sha256))
        {
            Some(code) => code,
            None => {
                let code = Module::new(&wasmtime, CODE).map_err(Error::engine)?;
                if let Some(disk) = &disk {
                    disk.store_module(&runtime.info.code_sha256, &code);
                }
                give_back_compiler_memory();
                code
            }
        };
        let mut linker = Linker::new(&wasmtime);
        ClaimsScript::add_to_linker::<RunState, HasSelf<RunState>>(&mut linker, |s| s)
            .map_err(Error::engine)?;
        linker
            .root()
            .module(&runtime.info.code_import, &code)
            .map_err(Error::engine)?;
        let fresh_component = compile_component(
            &wasmtime,
            disk.as_ref(),
            runtime.component(),
            &runtime.sha256,
        )?;
        let fresh = instantiate_pre(&linker, &fresh_component)?;
        let http = HttpClients::new(config.outbound.clone()).map_err(|e| {
            EngineError::caused_by(
                EngineErrorKind::HttpClient,
                "cannot build the HTTP clients",
                e,
            )
        })?;
        Ok(Engine {
            inner: Arc::new(EngineInner {
                wasmtime,
                linker,
                config,
                http,
                runtime,
                fresh,
                disk,
                scripts: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The directory compiled code is kept in: under
    /// [`EngineConfig::cache_dir`], or `None` when there is none or it was
    /// refused. On unix a cache directory that another user owns, or that
    /// its group or others can write, is refused (with a `tracing` warning,
    /// target `claimscript::cache`): Wasmtime would trust the native code in
    /// it. The engine then compiles in memory.
    pub fn cache_dir(&self) -> Option<&std::path::Path> {
        self.inner.disk.as_ref().map(DiskCache::dir)
    }

    /// The version of the QuickJS runtime this engine runs scripts with.
    pub fn runtime_version(&self) -> &str {
        &self.inner.runtime.info.version
    }

    /// Compile a script from JavaScript source, detecting its style: see
    /// [`Engine::compile_with`].
    pub async fn compile(&self, source: &str) -> Result<Script, Error> {
        self.compile_with(source, &CompileOptions::default()).await
    }

    /// Compile a script from JavaScript source: evaluate it once in a fresh
    /// runtime, snapshot the result (the script is then already parsed,
    /// compiled to bytecode and evaluated) and compile the snapshot. The same
    /// source compiled again returns the same [`Script`] while it is alive
    /// (and, with [`EngineConfig::cache_dir`], skips the evaluation).
    ///
    /// Errors of kind `syntax`, `missing_function`, `unsupported` or `script`
    /// (top-level code threw) come back as [`Error::Script`].
    pub async fn compile_with(
        &self,
        source: &str,
        options: &CompileOptions,
    ) -> Result<Script, Error> {
        if source.len() > MAX_SOURCE_BYTES {
            return Err(Error::Script(ScriptError::new(
                ErrorKind::Unsupported,
                format!(
                    "the script is {} bytes; at most {MAX_SOURCE_BYTES} are accepted",
                    source.len()
                ),
            )));
        }
        if let Some(at) = source.find('\0') {
            // QuickJS takes the source as a C string: say where, as a
            // syntax error, rather than fail in the runtime's words.
            let before = source.get(..at).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let mut error = ScriptError::new(
                ErrorKind::Syntax,
                format!(
                    "SyntaxError: the source contains a NUL character (U+0000) at line {line}, column {column}; write it as \\0 in a string"
                ),
            );
            error.line = u32::try_from(line).ok();
            error.column = u32::try_from(column).ok();
            return Err(Error::Script(error));
        }
        let inner = &self.inner;
        let key = source_key(source, options, &inner.runtime.sha256);
        if let Some(script) = inner.cached(&key) {
            return Ok(script);
        }
        let key_hex = hex(&key);
        if let Some(artifact) = inner.disk.as_ref().and_then(|d| d.artifact(&key_hex))
            && let Ok(script) = self.load(&artifact)
        {
            inner.remember(&[key], &script);
            return Ok(script);
        }
        let artifact = self.snapshot(source, options).await?;
        if let Some(disk) = &inner.disk {
            disk.store_artifact(&key_hex, &artifact);
        }
        let script = self.load(&artifact)?;
        inner.remember(&[key], &script);
        Ok(script)
    }

    /// Load an artifact produced by [`Script::component_bytes`] (or the CLI's
    /// `compile`). Anything that is not a script component for this engine's
    /// runtime is rejected, with the reason.
    pub fn load(&self, artifact: &[u8]) -> Result<Script, Error> {
        let inner = &self.inner;
        let info = inner.runtime.check_artifact(artifact)?;
        let digest: [u8; 32] = Sha256::digest(artifact).into();
        if let Some(script) = inner.cached(&digest)
            && script.component_bytes().is_some()
        {
            return Ok(script);
        }
        // The digest computed once: hashing the artifact (≈ 0.7 MB) takes
        // ≈ 0.35 ms, a third of loading one from the cache.
        let component = compile_component(
            &inner.wasmtime,
            inner.disk.as_ref(),
            artifact,
            &hex(&digest),
        )?;
        let pre = instantiate_pre(&inner.linker, &component)?;
        let script = Script::new(self, pre, Artifact::Kept(artifact), digest, info)?;
        inner.remember(&[digest], &script);
        Ok(script)
    }

    /// Load an artifact the caller stores under its SHA-256, `digest`
    /// (lower-case hex, as [`Script::digest_hex`] gave it when the artifact
    /// was first compiled or loaded), as a service keeps one script per
    /// tenant on disk and loads the idle ones again on demand.
    ///
    /// Two things make this cheaper than [`Engine::load`] (90 µs against
    /// 510 µs at p50 for a 0.7 MB artifact whose compiled component is in
    /// the cache: the `load_cost` example):
    /// - the script does not keep a copy of the artifact
    ///   ([`Script::component_bytes`] is `None`; the caller has it);
    /// - when the engine's [cache](EngineConfig::cache_dir) holds the
    ///   compiled component for `digest`, the artifact is neither hashed nor
    ///   its state module validated again: that component was compiled from
    ///   an artifact with this digest that passed every check. Its shape,
    ///   runtime and description are still checked.
    ///
    /// So `digest` must be the one the caller computed for these bytes and
    /// the storage must be as trusted as the cache directory (whose compiled
    /// code Wasmtime runs as it is). When the compiled component is not in
    /// the cache, this checks everything [`Engine::load`] does and refuses
    /// an artifact whose SHA-256 is not `digest`
    /// ([`ArtifactErrorKind::Modified`](crate::ArtifactErrorKind::Modified)).
    pub fn load_stored(&self, artifact: &[u8], digest: &str) -> Result<Script, Error> {
        let inner = &self.inner;
        let Some(stored) = parse_digest(digest) else {
            return Err(ArtifactError::new(
                ArtifactErrorKind::Modified,
                format!(
                    "it was stored under {}, which is not a SHA-256 in lower-case hex",
                    printable(digest)
                ),
            )
            .into());
        };
        if let Some(script) = inner.cached(&stored) {
            return Ok(script);
        }
        let mapped = inner
            .disk
            .as_ref()
            .and_then(|d| d.component(&inner.wasmtime, digest));
        let (info, component) = match mapped {
            Some(component) => (inner.runtime.check_stored_artifact(artifact)?, component),
            None => {
                let info = inner.runtime.check_artifact(artifact)?;
                let actual: [u8; 32] = Sha256::digest(artifact).into();
                if actual != stored {
                    return Err(ArtifactError::new(
                        ArtifactErrorKind::Modified,
                        format!(
                            "its SHA-256 is {}, not the {digest} it was stored under",
                            hex(&actual)
                        ),
                    )
                    .into());
                }
                let component =
                    compile_component(&inner.wasmtime, inner.disk.as_ref(), artifact, digest)?;
                (info, component)
            }
        };
        let pre = instantiate_pre(&inner.linker, &component)?;
        let script = Script::new(self, pre, Artifact::Stored(artifact), stored, info)?;
        inner.remember(&[stored], &script);
        Ok(script)
    }

    /// Evaluate `source` in a fresh runtime and return the artifact holding
    /// the resulting memory.
    async fn snapshot(&self, source: &str, options: &CompileOptions) -> Result<Vec<u8>, Error> {
        let inner = &self.inner;
        let state = RunState::new(
            inner.max_memory_bytes(),
            BTreeMap::new(),
            FetchState::new(None, None),
        );
        let mut store = inner.limited_store(state, inner.config.compile_fuel)?;
        let bindings = inner
            .fresh
            .instantiate_async(&mut store)
            .await
            .map_err(Error::engine)?;
        let loader = bindings.claimscript_script_loader();
        let style = options.style.map(Style::to_wit);
        let timeout = inner.config.compile_timeout;
        let loaded =
            tokio::time::timeout(timeout, loader.call_load(&mut store, source, style)).await;
        let loaded = match loaded {
            Ok(Ok(Ok(info))) => info,
            Ok(Ok(Err(e))) => return Err(Error::Script(e.into())),
            Ok(Err(trap)) => {
                let exceeded = store.data().limiter.exceeded;
                return Err(Error::Script(classify_trap(&trap, exceeded)));
            }
            Err(_elapsed) => {
                return Err(Error::Script(ScriptError::new(
                    ErrorKind::Timeout,
                    format!(
                        "the script's top-level code ran past the compile timeout ({} ms)",
                        timeout.as_millis()
                    ),
                )));
            }
        };
        let memory = loader
            .call_memory_image(&mut store)
            .await
            .map_err(Error::engine)?;
        let info = ArtifactInfo {
            runtime_version: inner.runtime.info.version.clone(),
            code_sha256: inner.runtime.info.code_sha256.clone(),
            runtime_sha256: inner.runtime.sha256.clone(),
            source_sha256: hex(&Sha256::digest(source.as_bytes())),
            style: Style::from_wit(loaded.style).as_str().to_string(),
            entries: loaded.entries,
            packages: loaded.packages,
        };
        Ok(inner.runtime.artifact(&memory, &info))
    }
}

/// The in-memory and on-disk key of a compilation: the source, the options
/// and the runtime it is compiled for (the whole runtime component's digest:
/// a change to the prelude, in its initial state, is a different runtime).
fn source_key(source: &str, options: &CompileOptions, runtime_sha256: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"claimscript source\n");
    hasher.update(runtime_sha256.as_bytes());
    hasher.update(b"\n");
    hasher.update(options.style.map_or("detect", Style::as_str).as_bytes());
    hasher.update(b"\n");
    hasher.update(source.as_bytes());
    hasher.finalize().into()
}

/// A SHA-256 in lower-case hex (64 digits), as bytes.
fn parse_digest(digest: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let decoded = base16ct::lower::decode(digest, &mut out).ok()?.len();
    (decoded == out.len()).then_some(out)
}

/// The compiled component for `bytes`, whose SHA-256 is `digest` (hex):
/// from the cache when it has it, else compiled (and stored).
fn compile_component(
    engine: &wasmtime::Engine,
    disk: Option<&DiskCache>,
    bytes: &[u8],
    digest: &str,
) -> Result<Component, Error> {
    if let Some(component) = disk.and_then(|d| d.component(engine, digest)) {
        return Ok(component);
    }
    let component = Component::new(engine, bytes)
        .map_err(|e| ArtifactError::wasmtime(ArtifactErrorKind::Compile, None, e))?;
    if let Some(disk) = disk {
        disk.store_component(digest, &component);
        // Use it from the file: its code and its memory image are then
        // mapped from the page cache (Wasmtime maps a file-backed module's
        // image straight from the file), instead of anonymous memory for the
        // code and a memfd copy of the image, about 1.7 MB a script.
        if let Some(mapped) = disk.component(engine, digest) {
            return Ok(mapped);
        }
    }
    Ok(component)
}

fn instantiate_pre(
    linker: &Linker<RunState>,
    component: &Component,
) -> Result<ClaimsScriptPre<RunState>, Error> {
    let pre = linker.instantiate_pre(component).map_err(|e| {
        ArtifactError::wasmtime(
            ArtifactErrorKind::DoesNotFitWorld,
            Some("the component does not fit the claims-script world"),
            e,
        )
    })?;
    let pre = ClaimsScriptPre::new(pre).map_err(|e| {
        ArtifactError::wasmtime(
            ArtifactErrorKind::DoesNotFitWorld,
            Some("the component does not export the claims-script world"),
            e,
        )
    })?;
    Ok(pre)
}

fn wasmtime_config(config: &EngineConfig) -> Config {
    let slots = config.max_concurrent_runs.max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(CORE_INSTANCES_PER_RUN))
        .total_memories(slots)
        .total_tables(slots.saturating_mul(CORE_INSTANCES_PER_RUN))
        .total_stacks(slots)
        .max_memories_per_component(1)
        .max_memory_size(config.max_memory_mb as usize * 1024 * 1024)
        .max_unused_warm_slots(slots.min(100))
        // After a run, reset the pages it dirtied (found with the kernel's
        // PAGEMAP_SCAN where available) by copying them back from the
        // image, instead of unmapping them and faulting them in again on
        // the next run: a run dirties a few hundred KB, and page faults
        // cost more than the copy.
        .linear_memory_keep_resident(8 << 20)
        .pagemap_scan(wasmtime::Enabled::Auto)
        .table_keep_resident(64 << 10)
        // The part of the 2 MiB async stack a run touches stays mapped.
        .async_stack_keep_resident(256 << 10);

    let mut c = Config::new();
    c.wasm_component_model(true)
        .consume_fuel(true)
        // No epoch checks: fuel bounds a run's computation, and its yields
        // let the wall-clock timeout end it. Epoch checks cost about 5% of
        // a run, measured (BENCHMARKS.md).
        .epoch_interruption(false)
        .memory_init_cow(true)
        .cranelift_opt_level(OptLevel::Speed)
        .max_wasm_stack(1 << 20)
        .async_stack_size(2 << 20)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if std::env::var_os("CLAIMSCRIPT_PERFMAP").is_some() {
        // `perf record` can then name the script's functions.
        c.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    c
}

/// Compiling QuickJS with Cranelift frees tens of MiB that glibc's allocator
/// keeps for the process (about 35 MiB here); hand them back to the system,
/// so that an embedder's resident memory is what its runs use.
fn give_back_compiler_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free memory of glibc's heaps to the
    // system; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
