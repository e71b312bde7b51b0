//! Compiled code on disk, keyed by content digest and the engine's
//! compatibility hash, so that a process (the CLI, say) does not compile
//! QuickJS or a script it has compiled before.
//!
//! Layout: `DIR/<compatibility hash>/<kind>-<sha256>.<ext>`, where `kind` is
//! `code` (the runtime's code module), `component` (a compiled script or the
//! runtime component) or `source` (the artifact compiled from a source).
//! Files are written to a temporary name and renamed, so readers never see a
//! partial file; the directory is created readable by its owner only.
//!
//! Loading compiled code is `unsafe` in Wasmtime: the bytes are trusted to be
//! Wasmtime's own output. Only files this cache wrote, in a directory only
//! the user can write, are loaded; a file that fails Wasmtime's checks is
//! compiled again and replaced.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::Module;
use wasmtime::component::Component;

#[derive(Debug)]
pub(crate) struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    /// Open (creating) the cache for `engine` under `root`.
    pub(crate) fn open(root: &Path, engine: &wasmtime::Engine) -> std::io::Result<DiskCache> {
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let dir = root.join(format!("{:016x}", hasher.finish()));
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir)?;
        Ok(DiskCache { dir })
    }

    fn path(&self, kind: &str, digest: &str, ext: &str) -> PathBuf {
        self.dir.join(format!("{kind}-{digest}.{ext}"))
    }

    pub(crate) fn module(&self, engine: &wasmtime::Engine, digest: &str) -> Option<Module> {
        let path = self.path("code", digest, "cwasm");
        if !path.is_file() {
            return None;
        }
        // SAFETY: the file was written by `store_module` below from
        // `Module::serialize` (see the module docs); Wasmtime checks its
        // header against this engine.
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
        // SAFETY: as for `module`: written by `store_component` from
        // `Component::serialize`.
        unsafe { Component::deserialize_file(engine, &path) }.ok()
    }

    pub(crate) fn store_component(&self, digest: &str, component: &Component) {
        if let Ok(bytes) = component.serialize() {
            self.write(&self.path("component", digest, "cwasm"), &bytes);
        }
    }

    /// The artifact compiled from the source with this key, if any.
    pub(crate) fn artifact(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path("source", key, "wasm")).ok()
    }

    pub(crate) fn store_artifact(&self, key: &str, artifact: &[u8]) {
        self.write(&self.path("source", key, "wasm"), artifact);
    }

    /// Write atomically; a cache that cannot be written is only slower.
    fn write(&self, path: &Path, bytes: &[u8]) {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
            .and_then(|()| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}
