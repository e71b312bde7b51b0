//! Push, pull by tag and by digest, resolve, grants travel with the script.

use claimscript_oci::manifest::{GRANTS_ANNOTATION, WASM_CONFIG, WASM_LAYER};
use claimscript_oci::{Error, Reference};

use crate::{client, component, reference, registry, runtime};

const GRANTS: &str = "[fetch]\nallow = [\"https://api.example.com/\"]\n";

#[test]
fn push_then_pull_by_tag_and_by_digest() {
    let reg = registry();
    let rt = runtime();
    let c = client();
    let r = reference(&reg, "team/login:v1");
    let wasm = component("one");
    let pushed = rt.block_on(c.push(&r, &wasm, Some(GRANTS))).expect("push");
    assert_eq!(pushed.reference.digest(), Some(&pushed.digest));
    assert_eq!(pushed.reference.tag(), Some("v1"));

    let by_tag = rt.block_on(c.pull(&r)).expect("pull by tag");
    assert_eq!(by_tag.wasm, wasm, "bytes identical");
    assert_eq!(by_tag.grants.as_deref(), Some(GRANTS));
    assert_eq!(by_tag.digest, pushed.digest);
    assert_eq!(by_tag.manifest.config.media_type, WASM_CONFIG);
    assert_eq!(by_tag.manifest.layers.len(), 1);
    assert_eq!(by_tag.manifest.layers[0].media_type, WASM_LAYER);
    assert!(by_tag.manifest.annotations.contains_key(GRANTS_ANNOTATION));
    assert!(by_tag.verified.is_none());

    let pinned = Reference::parse(&format!(
        "oci://{}/team/login@{}",
        reg.registry(),
        pushed.digest
    ))
    .expect("pinned");
    let by_digest = rt.block_on(c.pull(&pinned)).expect("pull by digest");
    assert_eq!(by_digest.wasm, wasm);
    assert_eq!(by_digest.digest, pushed.digest);
    assert_eq!(rt.block_on(c.resolve(&r)).expect("resolve"), pushed.digest);

    // The same script and grants give the same digest (nothing time-based
    // in the config); other grants give another.
    let again = rt
        .block_on(c.push(&r, &wasm, Some(GRANTS)))
        .expect("push again");
    assert_eq!(again.digest, pushed.digest);
    let without = rt
        .block_on(c.push(&r, &wasm, None))
        .expect("push without grants");
    assert_ne!(without.digest, pushed.digest);
    assert_eq!(rt.block_on(c.resolve(&r)).expect("resolve"), without.digest);
    assert_eq!(rt.block_on(c.pull(&r)).expect("pull").grants, None);
    // The old digest is still there, pinned.
    assert_eq!(
        rt.block_on(c.pull(&pinned)).expect("old").grants.as_deref(),
        Some(GRANTS)
    );
}

#[test]
fn missing_tag_and_digest_and_bad_input() {
    let reg = registry();
    let rt = runtime();
    let c = client();
    let e = rt
        .block_on(c.pull(&reference(&reg, "nothing:here")))
        .expect_err("must fail");
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("nothing:here"), "{e}");
    let absent = crate::Digest::of(b"absent");
    let e = rt
        .block_on(c.pull(&reference(&reg, &format!("team/login@{absent}"))))
        .expect_err("must fail");
    assert!(matches!(e, Error::NotFound { .. }), "{e}");

    let e = rt
        .block_on(c.push(&reference(&reg, "x:1"), b"not wasm", None))
        .expect_err("must fail");
    assert!(e.to_string().contains("not a WebAssembly"), "{e}");
    let e = rt
        .block_on(c.push(
            &reference(&reg, &format!("x@{absent}")),
            &component("a"),
            None,
        ))
        .expect_err("must fail");
    assert!(matches!(e, Error::PushByDigest(_)), "{e}");
}

#[test]
fn plain_http_refused_for_a_remote_registry_before_sending() {
    // registry.invalid is never resolved: the client refuses first.
    let rt = runtime();
    let c = client();
    let r = Reference::parse("oci://registry.invalid/team/login:v1").expect("ref");
    let e = rt.block_on(c.pull(&r)).expect_err("must fail");
    assert!(matches!(e, Error::PlainHttpNotLoopback { .. }), "{e}");
    assert!(e.to_string().contains("registry.invalid"), "{e}");
    let e = rt
        .block_on(c.push(&r, &component("a"), None))
        .expect_err("must fail");
    assert!(matches!(e, Error::PlainHttpNotLoopback { .. }), "{e}");
    let e = rt.block_on(c.resolve(&r)).expect_err("must fail");
    assert!(matches!(e, Error::PlainHttpNotLoopback { .. }), "{e}");
}
