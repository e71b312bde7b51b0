//! cosign-style signatures: sign, verify, and every way verification refuses.

use claimscript_oci::manifest::{COSIGN_SIMPLE_SIGNING, Manifest};
use claimscript_oci::{Error, SignatureError};

use crate::{client, component, key, reference, registry, runtime};

#[test]
fn signed_verifies_unsigned_and_wrong_key_refused() {
    let reg = registry();
    let rt = runtime();
    let c = client();
    let r = reference(&reg, "team/login:v1");
    let pushed = rt
        .block_on(c.push(&r, &component("signed"), None))
        .expect("push");
    let (ours, theirs) = (key(1), key(2));

    let e = rt
        .block_on(c.verify(&r, &[ours.public_key()]))
        .expect_err("must fail");
    assert!(
        matches!(e, Error::Signature(SignatureError::Unsigned { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("unsigned"), "{e}");
    let e = rt
        .block_on(c.pull_verified(&r, &[ours.public_key()]))
        .expect_err("must fail");
    assert!(
        matches!(e, Error::Signature(SignatureError::Unsigned { .. })),
        "{e}"
    );

    let signed = rt.block_on(c.sign(&r, &theirs)).expect("sign");
    assert_eq!(signed, pushed.digest);
    let e = rt
        .block_on(c.verify(&r, &[ours.public_key()]))
        .expect_err("must fail");
    assert!(
        matches!(
            e,
            Error::Signature(SignatureError::WrongKey { count: 1, .. })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("wrong key"), "{e}");

    // A second signature is added beside the first; either key verifies.
    rt.block_on(c.sign(&pushed.reference, &ours)).expect("sign");
    let v = rt
        .block_on(c.verify(&r, &[theirs.public_key()]))
        .expect("theirs");
    assert_eq!((v.digest, v.key_index), (pushed.digest, 0));
    let v = rt
        .block_on(c.verify(&r, &[key(3).public_key(), ours.public_key()]))
        .expect("ours");
    assert_eq!(v.key_index, 1);
    let a = rt
        .block_on(c.pull_verified(&r, &[ours.public_key()]))
        .expect("pull verified");
    assert_eq!(a.verified.map(|v| v.digest), Some(pushed.digest));

    // The signature manifest: cosign's layout.
    let sig_ref = reference(
        &reg,
        &format!("team/login:{}", pushed.digest.signature_tag()),
    );
    let (bytes, _) = rt
        .block_on(c.fetch_manifest(&sig_ref))
        .expect("sig manifest");
    let m = Manifest::from_bytes(&bytes).expect("manifest");
    assert_eq!(m.layers.len(), 2);
    assert!(m.layers.iter().all(|l| {
        l.media_type == COSIGN_SIMPLE_SIGNING
            && l.annotations
                .contains_key("dev.cosignproject.cosign/signature")
    }));

    let e = rt.block_on(c.verify(&r, &[])).expect_err("must fail");
    assert!(
        matches!(e, Error::Signature(SignatureError::NoKeys { .. })),
        "{e}"
    );
}

#[test]
fn a_signature_for_another_digest_is_refused() {
    let reg = registry();
    let rt = runtime();
    let c = client();
    let k = key(4);
    let v1 = rt
        .block_on(c.push(&reference(&reg, "s:v1"), &component("v1"), None))
        .expect("v1");
    let v2 = rt
        .block_on(c.push(&reference(&reg, "s:v2"), &component("v2"), None))
        .expect("v2");
    rt.block_on(c.sign(&v1.reference, &k)).expect("sign v1");
    // Replay v1's genuine signature as v2's: copy the signature manifest.
    let (bytes, _) = rt
        .block_on(c.fetch_manifest(&reference(
            &reg,
            &format!("s:{}", v1.digest.signature_tag()),
        )))
        .expect("v1 sig");
    let manifest = Manifest::from_bytes(&bytes).expect("manifest");
    push_manifest(
        &reg,
        &format!("s/manifests/{}", v2.digest.signature_tag()),
        &manifest,
    );
    let e = rt
        .block_on(c.pull_verified(&v2.reference, &[k.public_key()]))
        .expect_err("must fail");
    match &e {
        Error::Signature(SignatureError::OtherDigest {
            expected, found, ..
        }) => {
            assert_eq!(*expected, v2.digest);
            assert_eq!(*found, v1.digest.to_string());
        }
        other => panic!("expected a payload for another digest, got {other}"),
    }

    // A signature layer without the signature annotation: malformed.
    let mut stripped = manifest.clone();
    stripped.layers[0].annotations.clear();
    push_manifest(
        &reg,
        &format!("s/manifests/{}", v2.digest.signature_tag()),
        &stripped,
    );
    let e = rt
        .block_on(c.verify(&v2.reference, &[k.public_key()]))
        .expect_err("must fail");
    assert!(
        matches!(e, Error::Signature(SignatureError::Malformed { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("annotation"), "{e}");
}

/// PUT a manifest directly (the blobs it names are already there).
fn push_manifest(reg: &crate::TestRegistry, path: &str, manifest: &Manifest) {
    use std::io::{Read, Write};
    let body = manifest.to_bytes();
    let mut s = std::net::TcpStream::connect(reg.registry()).expect("connect");
    write!(
        s,
        "PUT /v2/{path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reg.registry(),
        body.len()
    )
    .expect("write");
    s.write_all(&body).expect("body");
    let mut response = String::new();
    s.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
}
