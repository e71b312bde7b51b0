//! The compiled-code cache on disk: bounded by size, least recently used
//! out, a hit refreshing a file's recency.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use claimscript::{ArtifactErrorKind, Engine, EngineConfig, Error, Grants, Outcome, Script};

use crate::example_input;

/// A Logto script whose memory image (and so artifact) differs by `n`.
fn source(n: u32) -> String {
    format!(
        "const TENANT = {n};\nconst getCustomJwtClaims = async ({{ context }}) => ({{ tenant: TENANT }});\n"
    )
}

/// The files of a cache directory, by name, with their sizes.
fn files(dir: &Path) -> BTreeMap<String, u64> {
    std::fs::read_dir(dir)
        .expect("cache dir")
        .map(|f| {
            let f = f.expect("entry");
            (
                f.file_name().to_string_lossy().into_owned(),
                f.metadata().expect("meta").len(),
            )
        })
        .collect()
}

/// The names in `after` that are not in `before`.
fn added(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> Vec<String> {
    after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .cloned()
        .collect()
}

fn engine(dir: &Path, max_bytes: u64) -> Engine {
    let mut config = EngineConfig::default();
    config.cache_dir = Some(dir.to_path_buf());
    config.cache_max_bytes = max_bytes;
    config.max_concurrent_runs = 8;
    Engine::with_config(config).expect("engine")
}

/// The `tenant` claim a run of `script` (a [`source`]) returns.
async fn tenant(script: &Script) -> serde_json::Value {
    let report = script
        .run(&example_input("rbac"), &Grants::default())
        .await
        .expect("run");
    let Outcome::Claims { claims, .. } = &report.outcome else {
        panic!("{:?}", report.outcome);
    };
    claims["tenant"].clone()
}

/// Compile `source(n)` in `engine`, check that it runs, and return the
/// cache files that appeared.
async fn compile(engine: &Engine, dir: &Path, n: u32) -> Vec<String> {
    let before = files(dir);
    let script = engine.compile(&source(n)).await.expect("compile");
    assert_eq!(tenant(&script).await, n);
    // Distinct modification times, whatever the file system's clock.
    tokio::time::sleep(Duration::from_millis(20)).await;
    added(&before, &files(dir))
}

struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn the_disk_cache_keeps_to_its_bound_least_recently_used_out() {
    let root = std::env::temp_dir().join(format!("claimscript-lru-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let _cleanup = Cleanup(root.clone());

    // Unbounded: the runtime's own files, then one script's.
    let first = engine(&root, u64::MAX);
    let dir = first.cache_dir().expect("the cache is used").to_path_buf();
    let runtime = files(&dir);
    let runtime_bytes: u64 = runtime.values().sum();
    assert!(
        runtime.keys().any(|f| f.starts_with("code-")),
        "{runtime:?}"
    );
    let a = compile(&first, &dir, 1).await;
    assert_eq!(a.len(), 2, "an artifact and its compiled component: {a:?}");
    let all = files(&dir);
    let script_bytes: u64 = a.iter().map(|f| all[f]).sum();
    drop(first);

    // Room for the runtime and two and a half scripts.
    let bound = runtime_bytes + script_bytes * 5 / 2;
    let second = engine(&root, bound);
    assert_eq!(second.cache_dir(), Some(dir.as_path()));
    let b = compile(&second, &dir, 2).await;
    assert_eq!(b.len(), 2, "{b:?}");
    // A hit: script 1 from the disk (the source's artifact and its
    // compiled component) is now more recent than script 2.
    assert!(
        compile(&second, &dir, 1).await.is_empty(),
        "a hit writes nothing"
    );
    let c = compile(&second, &dir, 3).await;
    assert_eq!(c.len(), 2, "{c:?}");
    let now = files(&dir);
    let total: u64 = now.values().sum();
    assert!(
        total <= bound,
        "{total} bytes within the bound {bound}: {now:?}"
    );
    for f in &b {
        assert!(
            !now.contains_key(f),
            "the least recently used ({f}) is evicted"
        );
    }
    for f in a.iter().chain(&c).chain(runtime.keys()) {
        assert!(now.contains_key(f), "{f} is kept: {now:?}");
    }

    // Without a hit in between, the oldest goes: now script 1.
    let d = compile(&second, &dir, 4).await;
    let now = files(&dir);
    for f in &a {
        assert!(!now.contains_key(f), "{f} is evicted: {now:?}");
    }
    for f in c.iter().chain(&d).chain(runtime.keys()) {
        assert!(now.contains_key(f), "{f} is kept: {now:?}");
    }
    assert!(now.values().sum::<u64>() <= bound);

    // An evicted script compiles again, from its source.
    let again = compile(&second, &dir, 2).await;
    assert_eq!(again.len(), 2, "{again:?}");
}

#[tokio::test]
async fn a_bound_below_the_runtime_keeps_the_runtime() {
    let root = std::env::temp_dir().join(format!("claimscript-lru-tiny-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let _cleanup = Cleanup(root.clone());
    let engine = engine(&root, 1);
    let dir = engine.cache_dir().expect("the cache is used").to_path_buf();
    let runtime = files(&dir);
    assert!(
        runtime.keys().any(|f| f.starts_with("code-")),
        "{runtime:?}"
    );
    // Every script's files go as soon as they are written; the runtime's
    // stay, and the script still runs.
    assert!(compile(&engine, &dir, 1).await.is_empty());
    assert_eq!(files(&dir), runtime);
}

/// The kind and message of a failed `load_stored`.
fn stored_error(engine: &Engine, artifact: &[u8], digest: &str) -> (ArtifactErrorKind, String) {
    match engine.load_stored(artifact, digest) {
        Err(Error::Artifact(e)) => (e.kind(), e.to_string()),
        other => panic!("expected an artifact error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stored_artifact_loads_by_its_digest_without_a_copy() {
    let root = std::env::temp_dir().join(format!("claimscript-stored-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let _cleanup = Cleanup(root.clone());

    // Compiled once: the cache holds its component under its digest.
    let (artifact, digest) = {
        let engine = engine(&root, u64::MAX);
        let script = engine.compile(&source(41)).await.expect("compile");
        let artifact = script
            .component_bytes()
            .expect("a compiled script keeps it");
        assert_eq!(script.artifact_len(), artifact.len());
        (artifact.to_vec(), script.digest_hex())
    };

    // A new engine on that cache: a load by digest, with no copy kept.
    let engine = engine(&root, u64::MAX);
    let script = engine.load_stored(&artifact, &digest).expect("load");
    assert_eq!(script.component_bytes(), None);
    assert_eq!(script.artifact_len(), artifact.len());
    assert_eq!(script.digest_hex(), digest);
    assert_eq!(tenant(&script).await, 41);
    // `load` of the same bytes gives a script that keeps them.
    let kept = engine.load(&artifact).expect("load");
    assert_eq!(kept.component_bytes(), Some(artifact.as_slice()));
    drop((script, kept));

    // The shape is checked even when the compiled component is at hand.
    let mut changed = artifact.clone();
    changed[12] ^= 0xff;
    let (kind, message) = stored_error(&engine, &changed, &digest);
    assert_eq!(kind, ArtifactErrorKind::Modified, "{message}");

    // Without a compiled component under the digest, everything is checked,
    // the digest included.
    let other = "0".repeat(64);
    let (kind, message) = stored_error(&engine, &artifact, &other);
    assert_eq!(kind, ArtifactErrorKind::Modified);
    assert_eq!(
        message,
        format!("its SHA-256 is {digest}, not the {other} it was stored under"),
        "{message}"
    );
    let (kind, message) = stored_error(&engine, &artifact, "SHA256:abc");
    assert_eq!(kind, ArtifactErrorKind::Modified);
    assert_eq!(
        message,
        "it was stored under \"SHA256:abc\", which is not a SHA-256 in lower-case hex"
    );
    // Upper-case digits, and a digit pair short.
    for digest in [digest.to_uppercase(), digest[..62].to_string()] {
        let (kind, message) = stored_error(&engine, &artifact, &digest);
        assert_eq!(kind, ArtifactErrorKind::Modified);
        assert!(
            message.ends_with("which is not a SHA-256 in lower-case hex"),
            "{message}"
        );
    }
}
