//! Script artifacts: caching, loading, and refusing what is not ours.

use claimscript::{
    ArtifactErrorKind, Engine, EngineConfig, EngineErrorKind, Error, Grants, Outcome,
};

use crate::{engine, example_input, fixture};

const SOURCE: &str =
    "const getCustomJwtClaims = async ({ token }) => ({ tier: 'gold', kind: token.kind });";

#[tokio::test]
async fn compiling_is_deterministic() {
    // A source no other test compiles, so that the second compile is not a
    // cache hit once the first script is dropped.
    let source = "const started = Date.now();\n\
                  const getCustomJwtClaims = async () => ({ started, r: Math.random() < 2 });";
    let first = engine().compile(source).await.expect("compile");
    let bytes = first.component_bytes().expect("kept").to_vec();
    drop(first);
    let second = engine().compile(source).await.expect("compile");
    assert!(
        second.component_bytes() == Some(bytes.as_slice()),
        "two compiles of one source differ"
    );
}

#[tokio::test]
async fn the_same_source_compiles_once() {
    let first = engine().compile(SOURCE).await.expect("compile");
    let second = engine().compile(SOURCE).await.expect("compile");
    // A cache hit: the same compiled script, not a second copy.
    assert_eq!(
        first.component_bytes().map(<[u8]>::as_ptr),
        second.component_bytes().map(<[u8]>::as_ptr)
    );
    assert_eq!(first.source_digest_hex().len(), 64);
    assert_eq!(first.runtime_version(), engine().runtime_version());
}

#[tokio::test]
async fn artifacts_load_and_run() {
    let script = engine()
        .compile(&fixture("protected"))
        .await
        .expect("compile");
    let loaded = engine()
        .load(script.component_bytes().expect("kept"))
        .expect("load");
    assert_eq!(loaded.digest_hex(), script.digest_hex());
    let report = crate::run_default(&loaded).await;
    assert!(
        matches!(report.outcome, Outcome::Claims { .. }),
        "{:?}",
        report.outcome
    );
}

/// The kind and the message of the error loading `bytes`.
fn artifact_error(bytes: &[u8]) -> (ArtifactErrorKind, String) {
    match engine().load(bytes) {
        Err(Error::Artifact(e)) => (e.kind(), e.to_string()),
        other => panic!("expected an artifact error, got {other:?}"),
    }
}

#[tokio::test]
async fn foreign_or_changed_artifacts_are_refused() {
    let script = engine().compile(SOURCE).await.expect("compile");
    let bytes = script.component_bytes().expect("kept").to_vec();

    assert_eq!(
        artifact_error(b"not wasm"),
        (ArtifactErrorKind::NotWasm, "not a WebAssembly file".into())
    );
    // Not even a module.
    let (kind, message) = artifact_error(b"\0asm\x0d\0\x01\0\xff");
    assert_eq!(kind, ArtifactErrorKind::Malformed, "{message}");
    assert!(
        message.starts_with("it does not parse as a component: "),
        "{message}"
    );
    // A component that is not a Claimscript artifact.
    let (kind, message) = artifact_error(b"\0asm\x0d\0\x01\0");
    assert_eq!(kind, ArtifactErrorKind::NotAnArtifact);
    assert!(
        message.contains("no claimscript-artifact section"),
        "{message}"
    );

    // One byte of code changed (in the part shared with the runtime).
    let mut changed = bytes.clone();
    changed[200] ^= 0x55;
    let (kind, message) = artifact_error(&changed);
    assert!(
        matches!(
            kind,
            ArtifactErrorKind::Modified | ArtifactErrorKind::Malformed
        ),
        "{kind:?}"
    );
    assert!(
        message.contains("structure was changed") || message.contains("does not parse"),
        "{message}"
    );

    // Built for another runtime: its description names other code.
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let code = script_code_digest(&text);
    let other = "0".repeat(64);
    let swapped = replace_bytes(&bytes, code.as_bytes(), other.as_bytes());
    let (kind, message) = artifact_error(&swapped);
    assert_eq!(kind, ArtifactErrorKind::WrongRuntime);
    assert!(
        message.starts_with("built with Claimscript runtime")
            && message.contains("compile the script again"),
        "{message}"
    );
}

/// The runtime code digest recorded in an artifact's description.
fn script_code_digest(text: &str) -> String {
    let at = text.rfind("\"code_sha256\":\"").expect("description") + "\"code_sha256\":\"".len();
    text[at..at + 64].to_string()
}

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(from.len())
        .rposition(|w| w == from)
        .expect("present");
    let mut out = haystack.to_vec();
    out[at..at + from.len()].copy_from_slice(to);
    out
}

#[tokio::test]
async fn the_disk_cache_serves_a_second_engine() {
    let dir = std::env::temp_dir().join(format!("claimscript-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = || {
        let mut config = EngineConfig::default();
        config.cache_dir = Some(dir.clone());
        config.max_concurrent_runs = 8;
        config
    };
    let first = Engine::with_config(config()).expect("engine");
    let compiled = first.compile(SOURCE).await.expect("compile");
    let used = first.cache_dir().expect("the cache is used").to_path_buf();
    assert!(used.starts_with(&dir));
    // Private: directories 0700, files 0600, no temporary file left.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for d in [&dir, &used] {
            let mode = std::fs::metadata(d).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
        for file in std::fs::read_dir(&used).expect("files") {
            let file = file.expect("file");
            let mode = file.metadata().expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{:?}", file.file_name());
            assert!(!file.file_name().to_string_lossy().starts_with(".tmp"));
        }
    }
    let files: Vec<String> = std::fs::read_dir(&dir)
        .expect("cache dir")
        .flat_map(|d| std::fs::read_dir(d.expect("entry").path()).expect("sub dir"))
        .map(|f| f.expect("file").file_name().to_string_lossy().into_owned())
        .collect();
    for kind in ["code-", "component-", "source-"] {
        assert!(
            files.iter().any(|f| f.starts_with(kind)),
            "{kind} in {files:?}"
        );
    }
    drop(first);
    let second = Engine::with_config(config()).expect("engine from the cache");
    let again = second.compile(SOURCE).await.expect("compile");
    assert_eq!(again.digest_hex(), compiled.digest_hex());
    let report = again
        .run(&example_input("m2m"), &Grants::default())
        .await
        .expect("run");
    assert!(matches!(report.outcome, Outcome::Claims { .. }));
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[tokio::test]
async fn a_cache_directory_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("claimscript-open-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let mut config = EngineConfig::default();
    config.cache_dir = Some(dir.clone());
    config.max_concurrent_runs = 8;
    let engine = Engine::with_config(config).expect("an engine that compiles in memory");
    assert_eq!(engine.cache_dir(), None);
    let script = engine.compile(SOURCE).await.expect("compile");
    let report = script
        .run(&example_input("m2m"), &Grants::default())
        .await
        .expect("run");
    assert!(matches!(report.outcome, Outcome::Claims { .. }));
    let written: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
    assert!(written.is_empty(), "nothing written: {written:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_cache_directory_that_cannot_be_used_is_an_engine_error() {
    let file = std::env::temp_dir().join(format!("claimscript-cache-file-{}", std::process::id()));
    std::fs::write(&file, b"not a directory").expect("file");
    let mut config = EngineConfig::default();
    config.cache_dir = Some(file.clone());
    config.max_concurrent_runs = 8;
    let result = Engine::with_config(config);
    let _ = std::fs::remove_file(&file);
    let Err(Error::Engine(e)) = result else {
        panic!("expected an engine error, got {result:?}");
    };
    assert_eq!(e.kind(), EngineErrorKind::CacheDir);
    let message = e.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot use the cache directory {}: ",
            file.display()
        )),
        "{message}"
    );
    // The I/O error itself, not only its text.
    let io = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>());
    assert_eq!(
        io.map(std::io::Error::kind),
        Some(std::io::ErrorKind::NotADirectory)
    );
}
