//! The data directory: registered scripts and their artifacts, written so
//! that a crash at any moment leaves the old or the new version, never a
//! broken one.
//!
//! ```text
//! DATA_DIR/
//!   artifacts/<sha256>.wasm   compiled components, content-addressed
//!   scripts/<name>.json       one registration each: the artifact's digest,
//!                             style, grants, failure policy
//!   oci/<name>.json           the last good version of an OCI script
//!   cache/                    the engine's compiled-code cache
//! ```
//!
//! Every file is written to a temporary file in the same directory, synced,
//! renamed over the old one, and the directory synced: a rename is atomic,
//! so a reader sees the whole old file or the whole new one. An artifact is
//! written before the registration that names it, so a registration never
//! names a missing artifact; artifacts no registration names are removed at
//! start.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A script registered through the API, as the data directory keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredScript {
    pub(crate) name: String,
    /// SHA-256 of the artifact, hex.
    pub(crate) digest: String,
    pub(crate) style: String,
    /// The grants as TOML text; `None` for the defaults.
    pub(crate) grants: Option<String>,
    pub(crate) failure_policy: String,
    pub(crate) key: Option<String>,
    /// RFC 3339.
    pub(crate) registered_at: String,
}

/// The data directory.
#[derive(Debug, Clone)]
pub(crate) struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Open (and create) the directory and its parts.
    pub(crate) fn open(root: &Path) -> std::io::Result<DataDir> {
        for dir in [
            root.to_path_buf(),
            root.join("artifacts"),
            root.join("scripts"),
        ] {
            create_private_dir(&dir)?;
        }
        Ok(DataDir {
            root: root.to_path_buf(),
        })
    }

    /// The directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The engine's compiled-code cache.
    pub(crate) fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    fn artifact_path(&self, digest: &str) -> PathBuf {
        self.root.join("artifacts").join(format!("{digest}.wasm"))
    }

    fn record_path(&self, name: &str) -> PathBuf {
        self.root.join("scripts").join(format!("{name}.json"))
    }

    /// Keep an artifact (once per digest).
    pub(crate) fn put_artifact(&self, digest: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.artifact_path(digest);
        if path.exists() {
            return Ok(());
        }
        write_atomic(&path, bytes)
    }

    /// An artifact's bytes, not hashed here: for
    /// [`Engine::load_stored`](claimscript::Engine::load_stored), which
    /// checks the digest whenever it has to compile them, and otherwise
    /// runs the code compiled from them when they were stored.
    pub(crate) fn stored_artifact(&self, digest: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.artifact_path(digest))
    }

    /// An artifact's bytes, checked against its digest.
    pub(crate) fn artifact(&self, digest: &str) -> std::io::Result<Vec<u8>> {
        let bytes = std::fs::read(self.artifact_path(digest))?;
        let actual = hex(&Sha256::digest(&bytes));
        if actual != digest {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("artifact {digest} is damaged: its SHA-256 is {actual}"),
            ));
        }
        Ok(bytes)
    }

    /// Keep a registration (replacing the one of the same name).
    pub(crate) fn put_record(&self, record: &StoredScript) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
        write_atomic(&self.record_path(&record.name), &json)
    }

    /// Remove a registration.
    pub(crate) fn remove_record(&self, name: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.record_path(name)) {
            Ok(()) => sync_dir(&self.root.join("scripts")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every registration, and the files that could not be read (name,
    /// error). Temporary files a crash left behind are removed.
    pub(crate) fn records(&self) -> (Vec<StoredScript>, Vec<(String, String)>) {
        let mut records = Vec::new();
        let mut broken = Vec::new();
        let Ok(entries) = std::fs::read_dir(self.root.join("scripts")) else {
            return (records, broken);
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with(".tmp-") {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            let Some(name) = file.strip_suffix(".json") else {
                continue;
            };
            let parsed = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<StoredScript>(&b).map_err(|e| e.to_string()))
                .and_then(|r| {
                    if r.name == name {
                        Ok(r)
                    } else {
                        Err(format!("the file names the script {:?}", r.name))
                    }
                });
            match parsed {
                Ok(record) => records.push(record),
                Err(e) => broken.push((name.to_string(), format!("{}: {e}", path.display()))),
            }
        }
        records.sort_by(|a, b| a.name.cmp(&b.name));
        (records, broken)
    }

    /// Remove artifacts (and temporary files) no registration names, except
    /// those in `keep`.
    pub(crate) fn collect_garbage(&self, keep: &BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(self.root.join("artifacts")) else {
            return;
        };
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            let unused = match file.strip_suffix(".wasm") {
                Some(digest) => !keep.contains(digest),
                None => file.starts_with(".tmp-"),
            };
            if unused {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Artifacts the kept versions of OCI scripts name (`oci/NAME.json`).
    pub(crate) fn kept_oci_artifacts(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.root.join("oci")) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .filter_map(|v| v.get("artifact")?.as_str().map(str::to_string))
            .collect()
    }

    /// Digests named by the registrations.
    pub(crate) fn referenced(records: &[StoredScript]) -> BTreeMap<String, String> {
        records
            .iter()
            .map(|r| (r.digest.clone(), r.name.clone()))
            .collect()
    }
}

/// Write `bytes` to `path` atomically: a temporary file beside it, synced,
/// renamed over it, the directory synced.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut random = [0u8; 8];
    for (i, b) in uuid::Uuid::new_v4().as_bytes()[..8].iter().enumerate() {
        random[i] = *b;
    }
    let tmp = dir.join(format!(".tmp-{}", hex(&random)));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}
