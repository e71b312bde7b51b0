//! A blob changed in the registry's storage is refused on pull.

use claimscript_oci::Error;

use crate::{client, component, reference, registry, runtime};

fn garble(path: &std::path::Path) {
    let len = std::fs::metadata(path).expect("blob on disk").len() as usize;
    // Same length, other bytes: only the digest check can notice.
    std::fs::write(path, vec![b'x'; len]).expect("tamper");
}

#[test]
fn tampered_wasm_layer_refused() {
    let reg = registry();
    let rt = runtime();
    let c = client();
    let r = reference(&reg, "team/login:v1");
    let wasm = component("tamper");
    rt.block_on(c.push(&r, &wasm, None)).expect("push");
    let pulled = rt.block_on(c.pull(&r)).expect("pull before tampering");
    let layer = pulled.manifest.layers[0].digest;
    garble(&reg.blob_path(&layer));
    let e = rt.block_on(c.pull(&r)).expect_err("must fail");
    match &e {
        Error::DigestMismatch { expected, .. } => assert_eq!(*expected, layer),
        other => panic!("expected a digest mismatch, got {other}"),
    }
    let text = e.to_string();
    assert!(
        text.contains("digest mismatch") && text.contains("refused"),
        "{text}"
    );
    assert!(text.contains("application/wasm"), "{text}");
}

#[test]
fn tampered_manifest_refused_by_tag_and_by_digest() {
    let reg = registry();
    let rt = runtime();
    let c = client();
    let r = reference(&reg, "team/login:v1");
    let pushed = rt
        .block_on(c.push(&r, &component("m"), Some("x = 1\n")))
        .expect("push");
    // A manifest that lies: still valid JSON (the registry parses it when
    // serving), same length, other grants.
    let path = reg.blob_path(&pushed.digest);
    let text = std::fs::read_to_string(&path).expect("manifest on disk");
    assert!(text.contains("x = 1"), "{text}");
    std::fs::write(&path, text.replace("x = 1", "x = 2")).expect("tamper");
    for target in [r.clone(), pushed.reference.clone()] {
        let e = rt.block_on(c.pull(&target)).expect_err("must fail");
        match &e {
            Error::DigestMismatch { expected, .. } => assert_eq!(*expected, pushed.digest),
            other => panic!("{target}: expected a digest mismatch, got {other}"),
        }
        assert!(e.to_string().contains("manifest"), "{e}");
    }
}
