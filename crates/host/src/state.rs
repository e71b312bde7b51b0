//! The per-run store data and the host side of the `host` interface.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use wasmtime::ResourceLimiter;

use crate::bindings::claimscript::script::{host, types};
use crate::fetch::FetchState;
use crate::outcome::{Denial, LogLevel, LogRecord};

/// Most console records kept per run; later ones are counted, not kept.
pub const MAX_LOG_RECORDS: usize = 100;
/// Longest console message kept, in bytes; longer ones are cut at a
/// character boundary and end with `…`.
pub const MAX_LOG_MESSAGE_BYTES: usize = 2048;
/// Longest denial message, code or title, and longest error message, kept
/// from a script, in bytes; longer ones are cut at a character boundary and
/// end with `…`, as console messages are. They cross from the guest before
/// `max_output_bytes` can see them: this bounds what a run's outcome and
/// its audit record carry.
pub const MAX_MESSAGE_BYTES: usize = 2048;
/// Longest error stack kept from a script, in bytes (cut as messages are).
pub const MAX_STACK_BYTES: usize = 8192;
/// Largest `random-bytes` request the host serves.
const MAX_RANDOM_BYTES: u32 = 65_536;
/// Most table elements an instance may grow to.
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Everything one store (one run, or one pre-initialisation) owns.
pub(crate) struct RunState {
    pub(crate) limiter: MemoryLimiter,
    env: BTreeMap<String, String>,
    pub(crate) env_read: BTreeSet<String>,
    pub(crate) denial: Option<Denial>,
    pub(crate) logs: Vec<LogRecord>,
    pub(crate) logs_dropped: usize,
    pub(crate) fetch: FetchState,
}

impl RunState {
    pub(crate) fn new(
        max_memory_bytes: usize,
        env: BTreeMap<String, String>,
        fetch: FetchState,
    ) -> Self {
        RunState {
            limiter: MemoryLimiter {
                max_bytes: max_memory_bytes,
                peak: 0,
                exceeded: false,
            },
            env,
            env_read: BTreeSet::new(),
            denial: None,
            logs: Vec::new(),
            logs_dropped: 0,
            fetch,
        }
    }

    /// The console records, with a closing note when some were dropped.
    pub(crate) fn take_logs(&mut self) -> Vec<LogRecord> {
        let mut logs = std::mem::take(&mut self.logs);
        if self.logs_dropped > 0 {
            logs.push(LogRecord {
                level: LogLevel::Warn,
                message: format!(
                    "claimscript: {} more console records were dropped (at most {MAX_LOG_RECORDS} are kept per run)",
                    self.logs_dropped
                ),
            });
        }
        logs
    }
}

/// Caps linear memory and records its peak. Growing past the cap traps, so
/// no `try/catch` in the script can swallow it.
pub(crate) struct MemoryLimiter {
    max_bytes: usize,
    pub(crate) peak: usize,
    pub(crate) exceeded: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            return Err(wasmtime::format_err!(
                "memory limit exceeded: the script asked for {desired} bytes, the limit is {}",
                self.max_bytes
            ));
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

impl types::Host for RunState {}

impl host::Host for RunState {
    fn env_get(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        let value = self.env.get(&name).cloned();
        self.env_read.insert(name);
        Ok(value)
    }

    fn env_names(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(self.env.keys().cloned().collect())
    }

    fn deny(
        &mut self,
        message: String,
        code: Option<String>,
        title: Option<String>,
    ) -> wasmtime::Result<()> {
        // The first denial is final; later calls do not change its message.
        if self.denial.is_none() {
            self.denial = Some(Denial {
                message: truncate(message, MAX_MESSAGE_BYTES),
                code: code.map(|c| truncate(c, MAX_MESSAGE_BYTES)),
                title: title.map(|t| truncate(t, MAX_MESSAGE_BYTES)),
            });
        }
        Ok(())
    }

    fn random_bytes(&mut self, len: u32) -> wasmtime::Result<Vec<u8>> {
        if len > MAX_RANDOM_BYTES {
            wasmtime::bail!("random-bytes: {len} bytes asked, at most {MAX_RANDOM_BYTES} served");
        }
        let mut bytes = vec![0; len as usize];
        getrandom::fill(&mut bytes)
            .map_err(|e| wasmtime::format_err!("the host CSPRNG failed: {e}"))?;
        Ok(bytes)
    }

    fn wall_clock_ns(&mut self) -> wasmtime::Result<u64> {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ok(u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX))
    }

    fn monotonic_ns(&mut self) -> wasmtime::Result<u64> {
        static START: OnceLock<Instant> = OnceLock::new();
        let elapsed = START.get_or_init(Instant::now).elapsed();
        Ok(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
    }

    fn log(&mut self, level: host::LogLevel, message: String) -> wasmtime::Result<()> {
        if self.logs.len() >= MAX_LOG_RECORDS {
            self.logs_dropped += 1;
            return Ok(());
        }
        let level = match level {
            host::LogLevel::Debug => LogLevel::Debug,
            host::LogLevel::Info => LogLevel::Info,
            host::LogLevel::Log => LogLevel::Log,
            host::LogLevel::Warn => LogLevel::Warn,
            host::LogLevel::Error => LogLevel::Error,
        };
        self.logs.push(LogRecord {
            level,
            message: truncate(message, MAX_LOG_MESSAGE_BYTES),
        });
        Ok(())
    }
}

/// `text` cut to at most `max` bytes at a character boundary, ending with
/// `…` when cut.
pub(crate) fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max - '…'.len_utf8();
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}
