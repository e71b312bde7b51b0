//! The run's input reaches the script exactly as JSON.parse would give it,
//! and the claims come back exactly as JSON.stringify would write them.

use claimscript::{ErrorKind, Grants, Outcome, RunInput, TokenKind};
use serde_json::{Value, json};

use crate::compile;

fn claims(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Claims { claims, .. } => Value::Object(claims.clone()),
        other => panic!("expected claims, got {other:?}"),
    }
}

#[tokio::test]
async fn the_input_round_trips() {
    let mut deep = json!("bottom");
    for _ in 0..60 {
        deep = json!([deep]);
    }
    let context = json!({
        "unicode": "héllo ✓ 𝄞 日本",
        "escapes": "\"quoted\" back\\slash\n\ttab\u{1}\u{1f}/",
        "long": "x".repeat(5000),
        "numbers": [0, -12, 1.5, 1e300, 9007199254740991_u64, -1e-7, 123456789012_i64],
        "empty": {"object": {}, "array": [], "string": ""},
        "__proto__": {"polluted": true},
        "keys": {"b": 1, "2": 2, "a": 3, "1": 4, "ключ": 5},
        "deep": deep,
        "literals": [true, false, null],
        "users": (0..50).map(|i| json!({"id": format!("u{i}"), "name": "same shape", "n": i})).collect::<Vec<_>>(),
    });
    let input = RunInput::new(
        TokenKind::AccessToken,
        json!({"sub": "x"}).as_object().cloned().unwrap_or_default(),
    )
    .with_context(context.as_object().cloned().unwrap_or_default());
    let script = compile(
        "const getCustomJwtClaims = async ({ context }) => ({\n\
           echo: context,\n\
           proto: Object.getPrototypeOf(context) === Object.prototype,\n\
           own: Object.prototype.hasOwnProperty.call(context, '__proto__'),\n\
           keys: Object.keys(context.keys),\n\
           types: [typeof context.numbers[0], Number.isInteger(context.numbers[4]), Array.isArray(context.deep)],\n\
           sameShape: context.users[3].name,\n\
         });",
    )
    .await;
    let report = script.run(&input, &Grants::default()).await.expect("run");
    let out = claims(&report.outcome);
    assert_eq!(out["echo"], context);
    assert_eq!(out["proto"], true);
    assert_eq!(
        out["own"], true,
        "`__proto__` is an own property, as JSON.parse makes it"
    );
    assert_eq!(
        out["keys"],
        json!(["1", "2", "b", "a", "ключ"]),
        "integer keys first, as in JS"
    );
    assert_eq!(out["types"], json!(["number", true, true]));
    assert_eq!(out["sameShape"], "same shape");
}

/// Run a script that returns each of `values` (a JS object literal's
/// entries) both as a claim and as JSON.stringify's text of it, and check
/// the two agree.
async fn agrees_with_json_stringify(values: &str, count: usize) {
    let script = compile(&format!(
        "class Point {{ constructor() {{ this.x = 1; }} }}\n\
         class Stamped {{ toJSON() {{ return 'stamped'; }} }}\n\
         const getCustomJwtClaims = async () => {{\n\
           const values = {{ {values} }};\n\
           const claims = {{}};\n\
           for (const [k, v] of Object.entries(values)) {{ claims[k] = v; claims[k + '_json'] = JSON.stringify(v); }}\n\
           return claims;\n\
         }};"
    ))
    .await;
    let report = crate::run_default(&script).await;
    let out = claims(&report.outcome);
    let map = out.as_object().expect("object");
    let mut checked = 0;
    for (key, value) in map {
        let Some(name) = key.strip_suffix("_json") else {
            continue;
        };
        let text = value.as_str().expect("JSON.stringify's text");
        let expected: Value = serde_json::from_str(text).expect("valid JSON");
        assert_eq!(map[name], expected, "{name}: {text}");
        checked += 1;
    }
    assert_eq!(checked, count);
}

#[tokio::test]
async fn plain_claims_are_written_as_json_stringify_writes_them() {
    // Plain objects, arrays and primitives: the runtime's own writer.
    agrees_with_json_stringify(
        "holes: [1, undefined, () => 1, Symbol('s'), 4],\n\
         skipped: { a: undefined, f() {}, [Symbol('k')]: 1, b: 2 },\n\
         numbers: [NaN, Infinity, -Infinity, -0, 0.1, 1e21, 1e-7, 2 ** 53, -5, 123456.789],\n\
         strings: ['\\u0000\\u001f \\\" \\\\ \\n\\r\\t\\b\\f\\u007f', 'é ✓ 𝄞', ''],\n\
         getter: { get g() { return 'got'; } },\n\
         keys: { b: 1, 10: 2, 2: 3, a: 4 },\n\
         nested: { a: [{ b: [{}] }], n: null, t: true },\n\
         empty: [],",
        8,
    )
    .await;
}

#[tokio::test]
async fn other_claims_are_left_to_json_stringify() {
    // toJSON, class instances, boxed primitives, Maps: JSON.stringify itself.
    agrees_with_json_stringify(
        "date: new Date(0),\n\
         instance: new Point(),\n\
         stamped: new Stamped(),\n\
         own: { toJSON: () => ({ replaced: true }) },\n\
         map: new Map([[1, 2]]),\n\
         boxed: [new Number(3), new String('s'), new Boolean(false)],",
        6,
    )
    .await;
}

#[tokio::test]
async fn claims_that_are_not_json_are_invalid_output() {
    for (body, fragment) in [
        ("return { big: 10n };", "BigInt"),
        ("const a = {}; a.self = a; return { a };", "circular"),
        (
            "let o = {}; for (let i = 0; i < 200; i++) o = { o }; return o;",
            "more than 100 levels deep",
        ),
    ] {
        let script = compile(&format!(
            "const getCustomJwtClaims = async () => {{ {body} }};"
        ))
        .await;
        let report = crate::run_default(&script).await;
        match &report.outcome {
            Outcome::Error(e) => {
                assert_eq!(e.kind, ErrorKind::InvalidOutput, "{body}: {e:?}");
                assert!(
                    e.message.to_lowercase().contains(&fragment.to_lowercase()),
                    "{body}: {}",
                    e.message
                );
            }
            other => panic!("{body}: {other:?}"),
        }
    }
}
