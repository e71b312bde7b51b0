//! Claims templates through the library: the same outcome as a run.

use claimscript::{ClaimsTemplate, Grants, Outcome, RunInput};
use serde_json::json;

use crate::repo_path;

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_path(path)).expect(path)
}

#[test]
fn the_example_template_maps_the_profile() {
    let template = ClaimsTemplate::parse(&read("examples/template/template.json")).expect("parse");
    let input = RunInput::from_json(&read("examples/template/input.json")).expect("input");
    let report = template.run(&input, &Grants::default());
    let Outcome::Claims {
        claims, dropped, ..
    } = &report.outcome
    else {
        panic!("{:?}", report.outcome);
    };
    assert_eq!(
        serde_json::Value::Object(claims.clone()),
        json!({
            "email": "ada@acme.test",
            "full_name": "Ada Lovelace",
            "country": "GB",
            "plan": "pro",
            "metadata": {"plan": "pro", "seats": 12},
            "account_type": "enterprise"
        })
    );
    assert!(dropped.is_empty());
    assert_eq!(report.to_json()["outcome"], "claims");
}

#[test]
fn missing_paths_fall_back_and_protected_claims_are_dropped() {
    let template = ClaimsTemplate::parse(
        r#"{"plan": "{{ user.metadata.plan || 'free' }}", "metadata": "{{ user.metadata }}",
            "sub": "{{ Uid }}", "tenant": "{{ context.organization.id }}"}"#,
    )
    .expect("parse");
    let input = crate::example_input("rbac");
    let report = template.run(&input, &Grants::default());
    let Outcome::Claims {
        claims, dropped, ..
    } = &report.outcome
    else {
        panic!("{:?}", report.outcome);
    };
    assert_eq!(
        serde_json::Value::Object(claims.clone()),
        json!({"plan": "free", "metadata": null, "tenant": null})
    );
    assert_eq!(dropped, &["sub"]);
}

#[test]
fn malformed_templates_are_rejected_with_their_position() {
    let e = ClaimsTemplate::parse("{\n  \"name\": \"{{ FirstName \"\n}").expect_err("malformed");
    assert_eq!((e.line(), e.column(), e.pointer()), (2, 12, "/name"));
    assert_eq!(
        e.to_string(),
        "line 2, column 12 (/name): unclosed placeholder: expected }}"
    );
}

#[test]
fn the_output_limit_applies() {
    let template = ClaimsTemplate::parse(r#"{"all": "{{ context }}"}"#).expect("parse");
    let report = template.run(
        &crate::example_input("rbac"),
        &Grants::default().with_max_output_bytes(100),
    );
    assert!(matches!(
        &report.outcome,
        Outcome::Error(e) if e.kind == claimscript::ErrorKind::OutputTooLarge
    ));
}

#[test]
fn rendering_stops_at_the_output_limit() {
    // Each placeholder names the whole context: unbounded, thousands of
    // copies; bounded, the run stops at max_output_bytes.
    let entries: Vec<String> = (0..2000)
        .map(|i| format!(r#""k{i}": "{{{{ context }}}}""#))
        .collect();
    let template = ClaimsTemplate::parse(&format!("{{{}}}", entries.join(", "))).expect("parse");
    let report = template.run(&crate::example_input("rbac"), &Grants::default());
    match &report.outcome {
        Outcome::Error(e) => {
            assert_eq!(e.kind, claimscript::ErrorKind::OutputTooLarge);
            assert!(
                e.message
                    .contains("over it (rendering stopped at the cap); max_output_bytes is 51200"),
                "{}",
                e.message
            );
        }
        other => panic!("{other:?}"),
    }
}
