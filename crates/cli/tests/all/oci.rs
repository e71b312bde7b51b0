//! `claimscript push`, `pull`, `sign`, `verify` and `audit REF` against a
//! loopback `docker-registry` (Debian package `docker-registry`).

use std::path::{Path, PathBuf};
use std::process::Output;

use claimscript_oci::Digest;
use claimscript_oci::test_support::TestRegistry;

use crate::{claimscript, repo_path};

fn registry() -> TestRegistry {
    TestRegistry::start().unwrap_or_else(|e| panic!("{e}"))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(out));
    stdout(out)
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

/// The fetch-balance example compiled, with its grants.
fn compiled(dir: &Path) -> (PathBuf, PathBuf) {
    let wasm = dir.join("script.wasm");
    ok(&claimscript(&[
        "compile",
        &p(&repo_path("examples/fetch-balance/script.js")),
        "-o",
        &p(&wasm),
    ]));
    (wasm, repo_path("examples/fetch-balance/grants.toml"))
}

#[test]
fn push_pull_by_tag_and_digest_and_audit_the_reference() {
    let reg = registry();
    let dir = tempfile::tempdir().expect("dir");
    let (wasm, grants) = compiled(dir.path());
    let r = reg.reference("team/balance:v1");
    let pushed = ok(&claimscript(&[
        "push",
        &p(&wasm),
        &r,
        "--grants",
        &p(&grants),
        "--insecure-http",
    ]));
    let pinned = pushed.trim();
    assert!(
        pinned.starts_with(&format!("{r}@sha256:")) && pinned.len() == r.len() + 72,
        "{pinned}"
    );

    let out = dir.path().join("pulled.wasm");
    let grants_out = dir.path().join("pulled.toml");
    let printed = ok(&claimscript(&[
        "pull",
        &r,
        "-o",
        &p(&out),
        "--grants-out",
        &p(&grants_out),
        "--insecure-http",
    ]));
    assert_eq!(printed.trim(), pinned);
    assert_eq!(
        std::fs::read(&out).expect("pulled"),
        std::fs::read(&wasm).expect("wasm")
    );
    assert_eq!(
        std::fs::read_to_string(&grants_out).expect("grants"),
        std::fs::read_to_string(&grants).expect("grants")
    );

    let by_digest = dir.path().join("by-digest.wasm");
    let digest_ref = format!(
        "{}@{}",
        reg.reference("team/balance"),
        &pinned[pinned.len() - 71..]
    );
    ok(&claimscript(&[
        "pull",
        &digest_ref,
        "-o",
        &p(&by_digest),
        "--insecure-http",
    ]));
    assert_eq!(
        std::fs::read(&by_digest).expect("pulled"),
        std::fs::read(&wasm).expect("wasm")
    );

    // Auditing the reference reviews the script under the grants that
    // travel with it: the same report as the local pair.
    let local = ok(&claimscript(&["audit", &p(&wasm), "--grants", &p(&grants)]));
    let remote = claimscript(&["audit", &r, "--insecure-http"]);
    assert_eq!(ok(&remote), local);
    assert!(local.contains("127.0.0.1:8787"), "{local}");
    assert!(
        stderr(&remote).contains("under the grants it carries"),
        "{}",
        stderr(&remote)
    );
    // Without the prefix too (host:port/repo:tag).
    let bare = r.trim_start_matches("oci://");
    assert_eq!(
        ok(&claimscript(&["audit", bare, "--insecure-http", "--json"]))
            .lines()
            .count(),
        1
    );
}

#[test]
fn sign_and_verify_with_the_right_and_the_wrong_key() {
    let reg = registry();
    let dir = tempfile::tempdir().expect("dir");
    let (wasm, _) = compiled(dir.path());
    for who in ["ours", "theirs"] {
        ok(&claimscript(&[
            "keys",
            "generate",
            "--alg",
            "ES256",
            "--out",
            &p(&dir.path().join(who)),
        ]));
    }
    let private = |who: &str| p(&dir.path().join(who).join("es256-private.pem"));
    let public = |who: &str| p(&dir.path().join(who).join("es256-public.pem"));
    let r = reg.reference("team/signed:v1");
    ok(&claimscript(&["push", &p(&wasm), &r, "--insecure-http"]));

    let out = claimscript(&["verify", &r, "--key", &public("ours"), "--insecure-http"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("unsigned"), "{}", stderr(&out));
    let out = claimscript(&["audit", &r, "--key", &public("ours"), "--insecure-http"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("unsigned"), "{}", stderr(&out));

    let signed = ok(&claimscript(&[
        "sign",
        &r,
        "--key",
        &private("theirs"),
        "--insecure-http",
    ]));
    assert!(
        signed.starts_with(&format!("signed {r}@sha256:")),
        "{signed}"
    );
    let out = claimscript(&["verify", &r, "--key", &public("ours"), "--insecure-http"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("wrong key"), "{}", stderr(&out));
    let pulled = dir.path().join("refused.wasm");
    let out = claimscript(&[
        "pull",
        &r,
        "-o",
        &p(&pulled),
        "--key",
        &public("ours"),
        "--insecure-http",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!pulled.exists(), "nothing written when verification fails");

    let verified = ok(&claimscript(&[
        "verify",
        &r,
        "--key",
        &public("ours"),
        "--key",
        &public("theirs"),
        "--insecure-http",
    ]));
    assert!(
        verified.starts_with(&format!("verified {r}@sha256:")),
        "{verified}"
    );
    assert!(verified.contains("theirs"), "{verified}");
    ok(&claimscript(&[
        "audit",
        &r,
        "--key",
        &public("theirs"),
        "--insecure-http",
    ]));

    // A private key where a public one belongs: a usage error naming it.
    let out = claimscript(&["verify", &r, "--key", &private("ours"), "--insecure-http"]);
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("es256-private.pem"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tampered_blob_refused_and_plain_http_only_for_loopback() {
    let reg = registry();
    let dir = tempfile::tempdir().expect("dir");
    let (wasm, _) = compiled(dir.path());
    let r = reg.reference("team/tamper:v1");
    ok(&claimscript(&["push", &p(&wasm), &r, "--insecure-http"]));
    let layer = Digest::of(&std::fs::read(&wasm).expect("wasm"));
    let blob = reg.blob_path(&layer);
    let len = std::fs::metadata(&blob).expect("blob").len() as usize;
    std::fs::write(&blob, vec![0u8; len]).expect("tamper");
    let out_file = dir.path().join("x.wasm");
    let out = claimscript(&["pull", &r, "-o", &p(&out_file), "--insecure-http"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("digest mismatch"), "{}", stderr(&out));
    assert!(!out_file.exists());
    let out = claimscript(&["audit", &r, "--insecure-http"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("digest mismatch"), "{}", stderr(&out));

    // Plain HTTP to a registry not on loopback: refused before any packet.
    let out = claimscript(&[
        "pull",
        "oci://registry.invalid/team/x:v1",
        "-o",
        &p(&out_file),
        "--insecure-http",
    ]);
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("only allowed for a registry on loopback"),
        "{}",
        stderr(&out)
    );
    // Without --insecure-http the loopback registry is spoken to over
    // HTTPS, which it does not serve.
    let out = claimscript(&["pull", &r, "-o", &p(&out_file)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // A bad reference is a usage error.
    let out = claimscript(&["pull", "oci://localhost:5000/Bad", "-o", &p(&out_file)]);
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invalid repository"),
        "{}",
        stderr(&out)
    );
}
