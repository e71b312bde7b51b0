//! Compiled code on disk, keyed by content digest and the engine's
//! compatibility hash, so that a process (the CLI, say) does not compile
//! QuickJS or a script it has compiled before.
//!
//! Layout: `DIR/<compatibility hash>/<kind>-<sha256>.<ext>`, where `kind` is
//! `code` (the runtime's code module), `component` (a compiled script or the
//! runtime component) or `source` (the artifact compiled from a source).
//! Files are written to a unique temporary name and renamed, so readers never
//! see a partial file; directories are created readable by their owner only
//! (0700), files likewise (0600).
//!
//! Loading compiled code is `unsafe` in Wasmtime: the bytes are trusted to be
//! Wasmtime's own output. Only files this cache wrote, in a directory only
//! the user can write, are loaded: on unix, a cache directory (the root or
//! its compatibility subdirectory) that is not owned by the current user, or
//! that its group or others can write, is not used at all (the engine warns
//! and compiles in memory). A file that fails Wasmtime's checks is compiled
//! again and replaced.
//!
//! The cache is bounded by size ([`EngineConfig::cache_max_bytes`]): each
//! hit sets the file's modification time to now, and a store that takes the
//! total (this engine's estimate, from a scan of the directory and what it
//! stored since) past the bound scans the directory and removes the files
//! used least recently until the total is within it. The files of this
//! engine's own runtime (the QuickJS code and the runtime component) are
//! counted but never removed while the engine uses them. Removal is crash
//! safe: a file is whole or absent (writes go through a rename), a reader
//! that already opened or mapped a removed file keeps it, and a missing
//! file is only compiled again. Temporary files left by a writer that died
//! are removed by the scan after an hour.
//!
//! [`EngineConfig::cache_max_bytes`]: crate::EngineConfig::cache_max_bytes

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use wasmtime::Module;
use wasmtime::component::Component;

use crate::runtime::hex;

/// A temporary file older than this is a dead writer's, and removed.
const STALE_TEMPORARY: Duration = Duration::from_secs(3600);

#[derive(Debug)]
pub(crate) struct DiskCache {
    dir: PathBuf,
    /// The bound on the files' total size.
    max_bytes: u64,
    /// The total size as this engine last saw it plus what it stored since;
    /// `None` before the first scan.
    total: Mutex<Option<u64>>,
    /// File names never removed: this engine's runtime.
    pinned: Mutex<Vec<String>>,
}

/// Why a cache directory is not used.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// It cannot be created or read.
    Io(std::io::Error),
    /// Someone other than the current user could have written it.
    Unsafe(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Io(e) => write!(f, "{e}"),
            OpenError::Unsafe(m) => f.write_str(m),
        }
    }
}

impl From<std::io::Error> for OpenError {
    fn from(e: std::io::Error) -> Self {
        OpenError::Io(e)
    }
}

impl DiskCache {
    /// Open (creating) the cache for `engine` under `root`.
    pub(crate) fn open(
        root: &Path,
        engine: &wasmtime::Engine,
        max_bytes: u64,
    ) -> Result<DiskCache, OpenError> {
        // A stable name (unlike `DefaultHasher`'s, which may change between
        // Rust releases): 16 bytes of SHA-256 of what the hash writes, in hex.
        let mut hasher = ShaHasher(Sha256::new());
        hasher.0.update(b"claimscript cache\n");
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let digest = hasher.0.finalize();
        let dir = root.join(hex(&digest[..16]));
        // An existing root is checked before anything is created in it.
        if root.exists() {
            check_private(root)?;
        }
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir)?;
        check_private(root)?;
        check_private(&dir)?;
        Ok(DiskCache {
            dir,
            max_bytes,
            total: Mutex::new(None),
            pinned: Mutex::new(Vec::new()),
        })
    }

    /// The directory the files are in.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, kind: &str, digest: &str, ext: &str) -> PathBuf {
        self.dir.join(file_name(kind, digest, ext))
    }

    /// Never remove the runtime's code module with this digest, nor its
    /// component with this one.
    pub(crate) fn pin(&self, code_digest: &str, component_digest: &str) {
        if let Ok(mut pinned) = self.pinned.lock() {
            pinned.push(file_name("code", code_digest, "cwasm"));
            pinned.push(file_name("component", component_digest, "cwasm"));
        }
    }

    pub(crate) fn module(&self, engine: &wasmtime::Engine, digest: &str) -> Option<Module> {
        let path = self.path("code", digest, "cwasm");
        if !path.is_file() {
            return None;
        }
        touch(&path);
        // SAFETY: the file was written by `store_module` below from
        // `Module::serialize`, in a directory only this user can write
        // (checked when the cache was opened); Wasmtime checks its header
        // against this engine.
        unsafe { Module::deserialize_file(engine, &path) }.ok()
    }

    pub(crate) fn store_module(&self, digest: &str, module: &Module) {
        if let Ok(bytes) = module.serialize() {
            self.write(&self.path("code", digest, "cwasm"), &bytes);
        }
    }

    pub(crate) fn component(&self, engine: &wasmtime::Engine, digest: &str) -> Option<Component> {
        let path = self.path("component", digest, "cwasm");
        if !path.is_file() {
            return None;
        }
        touch(&path);
        // SAFETY: as for `module`: written by `store_component` from
        // `Component::serialize`, in a directory only this user can write.
        unsafe { Component::deserialize_file(engine, &path) }.ok()
    }

    pub(crate) fn store_component(&self, digest: &str, component: &Component) {
        if let Ok(bytes) = component.serialize() {
            self.write(&self.path("component", digest, "cwasm"), &bytes);
        }
    }

    /// The artifact compiled from the source with this key, if any.
    pub(crate) fn artifact(&self, key: &str) -> Option<Vec<u8>> {
        let path = self.path("source", key, "wasm");
        let bytes = std::fs::read(&path).ok()?;
        touch(&path);
        Some(bytes)
    }

    pub(crate) fn store_artifact(&self, key: &str, artifact: &[u8]) {
        self.write(&self.path("source", key, "wasm"), artifact);
    }

    /// Write atomically, through a temporary file no other writer (thread or
    /// process) can have: a cache that cannot be written is only slower.
    fn write(&self, path: &Path, bytes: &[u8]) {
        let tmp = self.dir.join(temporary_name());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options
            .open(&tmp)
            .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
            .and_then(|()| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
            return;
        }
        // The write's own time is the kernel's coarse clock: a hit's touch
        // in the same tick would not order after it.
        touch(path);
        self.account(bytes.len() as u64);
    }

    /// Count `stored` more bytes, and evict when the total passes the bound.
    fn account(&self, stored: u64) {
        let Ok(mut total) = self.total.lock() else {
            return;
        };
        let over = match total.as_mut() {
            Some(t) => {
                *t = t.saturating_add(stored);
                *t > self.max_bytes
            }
            None => true,
        };
        if over {
            *total = Some(self.evict());
        }
    }

    /// Scan the directory and remove the least recently used files until
    /// the total is within the bound; the total that remains.
    pub(crate) fn evict(&self) -> u64 {
        let pinned = self.pinned.lock().map(|p| p.clone()).unwrap_or_default();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let now = SystemTime::now();
        let mut files = Vec::new();
        let mut total: u64 = 0;
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if name.starts_with(".tmp-") {
                // Being written, or left by a writer that died.
                if now.duration_since(used).unwrap_or_default() > STALE_TEMPORARY {
                    let _ = std::fs::remove_file(entry.path());
                }
                continue;
            }
            total = total.saturating_add(meta.len());
            if !pinned.contains(&name) {
                files.push((used, name, meta.len()));
            }
        }
        if total <= self.max_bytes {
            return total;
        }
        files.sort();
        for (_, name, len) in files {
            if total <= self.max_bytes {
                break;
            }
            match std::fs::remove_file(self.dir.join(&name)) {
                Ok(()) => total = total.saturating_sub(len),
                // Another process removed it first.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    total = total.saturating_sub(len);
                }
                Err(_) => {}
            }
        }
        tracing::debug!(
            target: "claimscript::cache",
            "evicted compiled code from {}: {total} bytes remain (bound {})",
            self.dir.display(),
            self.max_bytes
        );
        total
    }
}

/// `<kind>-<digest>.<ext>`.
fn file_name(kind: &str, digest: &str, ext: &str) -> String {
    format!("{kind}-{digest}.{ext}")
}

/// Mark `path` as used now (its modification time), for eviction: failure
/// only makes it look older.
fn touch(path: &Path) {
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// Feeds what a `Hash` implementation writes to SHA-256.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        // Not used: the digest is read from the SHA-256 state.
        0
    }
}

/// `.tmp-<pid>-<counter>-<random>`: unique within the process (the counter)
/// and across processes (the pid, and random bits in case of pid reuse).
fn temporary_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut random = [0u8; 8];
    // Without randomness the pid and counter still separate live writers.
    let _ = getrandom::fill(&mut random);
    format!(".tmp-{}-{n}-{}", std::process::id(), hex(&random))
}

/// Ok when only the current user can write `dir`: it is owned by the
/// effective user and not writable by its group or others.
#[cfg(unix)]
fn check_private(dir: &Path) -> Result<(), OpenError> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(OpenError::Io(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{} is not a directory", dir.display()),
        )));
    }
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    if meta.uid() != uid {
        return Err(OpenError::Unsafe(format!(
            "{} is owned by uid {}, not by the current user (uid {uid})",
            dir.display(),
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(OpenError::Unsafe(format!(
            "{} is writable by its group or others (mode {:o}); it must be writable by its owner only",
            dir.display(),
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

/// Elsewhere, directories are not checked.
#[cfg(not(unix))]
fn check_private(_dir: &Path) -> Result<(), OpenError> {
    Ok(())
}
