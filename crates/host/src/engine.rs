//! The engine: one Wasmtime engine, linker and pre-initialiser per process.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig, Store};
use wasmtime_wizer::{ComponentContext, WasmtimeWizerComponent, Wizer};

use crate::bindings::{ClaimsScript, ClaimsScriptPre};
use crate::error::Error;
use crate::fetch::FetchState;
use crate::http_client::HttpClients;
use crate::outcome::{ErrorKind, ScriptError};
use crate::run::classify_trap;
use crate::script::Script;
use crate::state::RunState;

/// The QuickJS runtime component, built from `guest/` by `make guest`.
pub(crate) const RUNTIME: &[u8] = include_bytes!("../runtime/claimscript-runtime.wasm");

/// How long one epoch tick lasts: the granularity of `timeout_ms`.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);
/// Largest script source accepted.
pub const MAX_SOURCE_BYTES: usize = 1 << 20;

/// Settings of an [`Engine`], fixed when it is built.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// Runs (and compilations) that may be in flight at once: the size of the
    /// instance pool. Each slot reserves address space, not memory. A run
    /// beyond it fails with an `internal` error rather than waiting.
    /// Default 1000.
    pub max_concurrent_runs: u32,
    /// The largest `memory_mb` any grants may ask for: the size of a memory
    /// slot. Default 128.
    pub max_memory_mb: u32,
    /// Fuel for a script's top-level code while it is compiled. Default
    /// 200 000 000.
    pub compile_fuel: u64,
    /// Wall-clock limit for a script's top-level code while it is compiled.
    /// Default 5 s.
    pub compile_timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_concurrent_runs: 1000,
            max_memory_mb: 128,
            compile_fuel: 200_000_000,
            compile_timeout: Duration::from_secs(5),
        }
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
    /// The runtime instrumented for snapshots, compiled on first use.
    loader: OnceLock<Result<(ComponentContext<'static>, Component), String>>,
    ticker_stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for EngineInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineInner")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl EngineInner {
    /// The largest memory any store of this engine may have.
    pub(crate) fn max_memory_bytes(&self) -> usize {
        self.config.max_memory_mb as usize * 1024 * 1024
    }

    /// A store with the memory limiter installed, `fuel` and an epoch deadline
    /// `deadline_ticks` away: the one way runs, compilations and benchmarks
    /// get a store.
    pub(crate) fn limited_store(
        &self,
        state: RunState,
        fuel: u64,
        deadline_ticks: u64,
    ) -> Result<Store<RunState>, Error> {
        let mut store = Store::new(&self.wasmtime, state);
        store.limiter(|s| &mut s.limiter);
        store.set_fuel(fuel).map_err(Error::engine)?;
        store.epoch_deadline_trap();
        store.set_epoch_deadline(deadline_ticks);
        Ok(store)
    }
}

impl Drop for EngineInner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl Engine {
    /// An engine with the default [`EngineConfig`].
    pub fn new() -> Result<Engine, Error> {
        Engine::with_config(EngineConfig::default())
    }

    /// An engine with these settings.
    pub fn with_config(config: EngineConfig) -> Result<Engine, Error> {
        let wasmtime = wasmtime::Engine::new(&wasmtime_config(&config)?).map_err(Error::engine)?;
        let mut linker = Linker::new(&wasmtime);
        ClaimsScript::add_to_linker::<RunState, HasSelf<RunState>>(&mut linker, |s| s)
            .map_err(Error::engine)?;
        let http = HttpClients::new().map_err(Error::Engine)?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        start_epoch_ticker(wasmtime.clone(), ticker_stop.clone())?;
        Ok(Engine {
            inner: Arc::new(EngineInner {
                wasmtime,
                linker,
                config,
                http,
                loader: OnceLock::new(),
                ticker_stop,
            }),
        })
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Compile a script from JavaScript source: evaluate it once in a fresh
    /// runtime, snapshot the result (the script is then already parsed,
    /// compiled to bytecode and evaluated) and compile the snapshot.
    ///
    /// Errors of kind `syntax`, `missing_function` or `script` (top-level code
    /// threw) come back as [`Error::Script`].
    pub async fn compile(&self, source: &str) -> Result<Script, Error> {
        if source.len() > MAX_SOURCE_BYTES {
            return Err(Error::Script(ScriptError::new(
                ErrorKind::Unsupported,
                format!(
                    "the script is {} bytes; at most {MAX_SOURCE_BYTES} are accepted",
                    source.len()
                ),
            )));
        }
        let snapshot = self.snapshot(source).await?;
        Script::from_component(self, snapshot)
    }

    /// Load a component produced by [`Script::component_bytes`] (or the CLI's
    /// `compile`). It is validated and compiled; anything that is not a
    /// claims-script component is rejected.
    pub fn load(&self, component: &[u8]) -> Result<Script, Error> {
        Script::from_component(self, component.to_vec())
    }

    async fn snapshot(&self, source: &str) -> Result<Vec<u8>, Error> {
        let (cx, instrumented) = self.instrumented_runtime()?;
        let inner = &self.inner;
        let state = RunState::new(
            inner.max_memory_bytes(),
            BTreeMap::new(),
            FetchState::new(None, None),
        );
        let mut store = inner.limited_store(
            state,
            inner.config.compile_fuel,
            ticks(inner.config.compile_timeout),
        )?;

        let instance = inner
            .linker
            .instantiate_async(&mut store, instrumented)
            .await
            .map_err(Error::engine)?;
        let bindings = ClaimsScript::new(&mut store, &instance).map_err(Error::engine)?;
        let loaded = bindings
            .claimscript_script_loader()
            .call_load(&mut store, source)
            .await;
        match loaded {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Error::Script(e.into())),
            Err(trap) => {
                let exceeded = store.data().limiter.exceeded;
                return Err(Error::Script(classify_trap(&trap, exceeded)));
            }
        }
        Wizer::new()
            .snapshot_component(
                cx,
                &mut WasmtimeWizerComponent {
                    store: &mut store,
                    instance,
                },
            )
            .await
            .map_err(Error::engine)
    }

    fn instrumented_runtime(&self) -> Result<(&ComponentContext<'static>, &Component), Error> {
        let loaded = self.inner.loader.get_or_init(|| {
            let (cx, wasm) = Wizer::new()
                .instrument_component(RUNTIME)
                .map_err(|e| e.to_string())?;
            let component =
                Component::new(&self.inner.wasmtime, &wasm).map_err(|e| e.to_string())?;
            Ok((cx, component))
        });
        match loaded {
            Ok((cx, component)) => Ok((cx, component)),
            Err(message) => Err(Error::Engine(format!(
                "cannot prepare the runtime: {message}"
            ))),
        }
    }

    pub(crate) fn instantiate_pre(
        &self,
        component: &Component,
    ) -> Result<ClaimsScriptPre<RunState>, Error> {
        let pre = self.inner.linker.instantiate_pre(component).map_err(|e| {
            Error::Artifact(format!(
                "the component does not fit the claims-script world: {e}"
            ))
        })?;
        ClaimsScriptPre::new(pre).map_err(|e| {
            Error::Artifact(format!(
                "the component does not export the claims-script world: {e}"
            ))
        })
    }
}

pub(crate) fn ticks(duration: Duration) -> u64 {
    (duration.as_micros() / EPOCH_TICK.as_micros()).max(1) as u64
}

fn wasmtime_config(config: &EngineConfig) -> Result<Config, Error> {
    let slots = config.max_concurrent_runs.max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(4))
        .total_memories(slots)
        .total_tables(slots.saturating_mul(4))
        .total_stacks(slots)
        .max_memories_per_component(2)
        .max_memory_size(config.max_memory_mb as usize * 1024 * 1024)
        .max_unused_warm_slots(slots.min(100))
        // Reset the first pages of a slot with memset instead of madvise: a
        // run touches about this much, and page faults cost more.
        .linear_memory_keep_resident(4 << 20)
        .table_keep_resident(64 << 10);

    let mut c = Config::new();
    c.wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .memory_init_cow(true)
        .cranelift_opt_level(OptLevel::Speed)
        .max_wasm_stack(1 << 20)
        .async_stack_size(2 << 20)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Ok(c)
}

/// Advance the engine's epoch every [`EPOCH_TICK`] until the engine is dropped.
fn start_epoch_ticker(engine: wasmtime::Engine, stop: Arc<AtomicBool>) -> Result<(), Error> {
    std::thread::Builder::new()
        .name("claimscript-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .map(|_| ())
        .map_err(|e| Error::Engine(format!("cannot start the epoch thread: {e}")))
}
