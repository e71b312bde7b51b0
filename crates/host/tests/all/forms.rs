//! How the entry function may be declared, and compile-time errors.

use claimscript::{Error, ErrorKind, Grants, Outcome};

use crate::{engine, fixture, run_fixture};

#[tokio::test]
async fn each_declaration_form_is_found() {
    for (name, form) in [
        ("form_let", "let"),
        ("form_var", "var"),
        ("form_function", "function"),
        ("form_async_function", "async function"),
        ("form_export_const", "export const"),
        ("form_export_async_function", "export async function"),
        ("empty", "const"),
    ] {
        let report = run_fixture(name, &Grants::default()).await;
        match &report.outcome {
            Outcome::Claims { claims, .. } if name == "empty" => assert!(claims.is_empty()),
            Outcome::Claims { claims, .. } => assert_eq!(claims["form"], form, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn syntax_error_has_line_and_column() {
    let Err(Error::Script(e)) = engine().compile(&fixture("syntax_error")).await else {
        panic!("a syntax error must fail compilation");
    };
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert!(
        e.message.starts_with("SyntaxError: unexpected token"),
        "{}",
        e.message
    );
    assert_eq!(e.line, Some(2));
    assert!(e.column.is_some());
}

#[tokio::test]
async fn missing_function() {
    let Err(Error::Script(e)) = engine().compile(&fixture("missing_function")).await else {
        panic!("a script without getCustomJwtClaims must fail compilation");
    };
    assert_eq!(e.kind, ErrorKind::MissingFunction);
    assert!(e.message.contains("getCustomJwtClaims"), "{}", e.message);
}

#[tokio::test]
async fn entry_that_is_not_a_function() {
    let Err(Error::Script(e)) = engine().compile("const getCustomJwtClaims = 42;").await else {
        panic!("a non-function entry must fail compilation");
    };
    assert_eq!(e.kind, ErrorKind::MissingFunction);
}

#[tokio::test]
async fn top_level_throw_fails_compilation() {
    let Err(Error::Script(e)) = engine()
        .compile("throw new RangeError('bad config'); const getCustomJwtClaims = () => ({});")
        .await
    else {
        panic!("top-level code that throws must fail compilation");
    };
    assert_eq!(e.kind, ErrorKind::Script);
    assert_eq!(e.message, "RangeError: bad config");
}

#[tokio::test]
async fn top_level_endless_loop_is_bounded() {
    let Err(Error::Script(e)) = engine()
        .compile("for(;;){} const getCustomJwtClaims = () => ({});")
        .await
    else {
        panic!("an endless top-level loop must fail compilation");
    };
    assert_eq!(e.kind, ErrorKind::FuelExhausted);
}

#[tokio::test]
async fn top_level_fetch_is_refused() {
    let Err(Error::Script(e)) = engine()
        .compile("const r = await fetch('https://example.com');\nexport const getCustomJwtClaims = () => ({});")
        .await
    else {
        panic!("fetch in top-level code must fail compilation");
    };
    assert_eq!(e.kind, ErrorKind::Script);
    assert!(
        e.message.contains("not available in top-level code"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn component_round_trip() {
    let script = crate::compile(&fixture("form_function")).await;
    let loaded = engine()
        .load(script.component_bytes().expect("kept"))
        .expect("load");
    assert_eq!(loaded.digest_hex(), script.digest_hex());
    let report = crate::run_default(&loaded).await;
    assert!(matches!(report.outcome, Outcome::Claims { .. }));
}

#[tokio::test]
async fn not_a_component_is_rejected() {
    let Err(Error::Artifact(e)) = engine().load(b"\0asm\x01\0\0\0") else {
        panic!("a core module is not a claims-script component");
    };
    assert_eq!(
        e.kind(),
        claimscript::ArtifactErrorKind::NotAnArtifact,
        "{e}"
    );
    assert!(!e.to_string().is_empty());
}
