//! `claimscript types`: the declarations it prints type-check every example
//! and the positive scripts under `tsc --checkJs --strict`, and make tsc
//! reject the deliberately wrong scripts, with the error pointing at the
//! mistake. tsc is the version pinned in `tests/types/package.json`
//! (`make test-deps` installs it; `tests/types/check.sh` runs it).

use std::process::Command;

use crate::{claimscript, fixture, repo_path, run_json};

/// Each style's examples, and the errors tsc must report for
/// `tests/types/negative/STYLE.js`.
const STYLES: [(&str, &[&str], &[&str]); 3] = [
    (
        "logto",
        &[
            "rbac",
            "abac-beta",
            "organizations",
            "m2m",
            "deny-balance",
            "fetch-balance",
        ],
        &[
            "logto.js(4,32): error TS2551: Property 'rolez' does not exist",
            "logto.js(11,54): error TS2551: Property 'enterpriseUserinfo' does not exist",
            "logto.js(12,60): error TS2551: Property 'valeu' does not exist on type 'PasswordVerificationIdentifier'",
            "logto.js(19,29): error TS2367: This comparison appears to be unintentional",
        ],
    ),
    (
        "auth0",
        &["auth0-roles", "auth0-m2m"],
        &[
            "auth0.js(6,9): error TS2339: Property 'multifactor' does not exist on type 'PostLoginApi'",
        ],
    ),
    (
        "loginradius",
        &["loginradius-roles"],
        &[
            "loginradius.js(5,10): error TS2551: Property 'setErrror' does not exist on type 'LrHook'",
        ],
    ),
];

/// Fixture scripts type-checked with a style's examples.
const FIXTURES: [(&str, &str); 1] = [("logto", "verification_records")];

/// `check.sh STYLE DTS SCRIPTS...`: (exit status, stdout).
fn check(style: &str, dts: &std::path::Path, scripts: &[std::path::PathBuf]) -> (i32, String) {
    let out = Command::new("bash")
        .arg(repo_path("tests/types/check.sh"))
        .arg(style)
        .arg(dts)
        .args(scripts)
        .output()
        .expect("bash runs");
    let status = out.status.code().unwrap_or(-1);
    assert_ne!(
        status,
        3,
        "tsc cannot run: install Node.js and npm, then `make test-deps`; {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (status, String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn declarations_type_check_the_examples_and_reject_mistakes() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("types");
    std::fs::create_dir_all(&dir).expect("a directory for the declarations");
    for (style, examples, expected) in STYLES {
        let out = claimscript(&["types", "--style", style]);
        assert!(out.status.success(), "types --style {style}: {:?}", out);
        let dts = dir.join(format!("claimscript-{style}.d.ts"));
        std::fs::write(&dts, &out.stdout).expect("write the declarations");

        let mut scripts: Vec<_> = examples
            .iter()
            .map(|example| repo_path(&format!("examples/{example}/script.js")))
            .collect();
        scripts.extend(
            FIXTURES
                .iter()
                .filter(|(for_style, _)| *for_style == style)
                .map(|(_, name)| fixture(name)),
        );
        scripts.push(repo_path(&format!("tests/types/positive/{style}.js")));
        let (status, stdout) = check(style, &dts, &scripts);
        assert_eq!(
            status, 0,
            "{style}: the examples must type-check:\n{stdout}"
        );

        let (status, stdout) = check(
            style,
            &dts,
            &[repo_path(&format!("tests/types/negative/{style}.js"))],
        );
        assert_eq!(
            status, 1,
            "{style}: tsc must reject negative/{style}.js:\n{stdout}"
        );
        for expected in expected {
            assert!(
                stdout.contains(expected),
                "{style}: expected `{expected}` in:\n{stdout}"
            );
        }
    }
}

/// The verification-records fixture (type-checked above) runs on an input
/// with one record of each kind Logto documents and one of a kind the
/// declarations do not list, and reads the fields of each.
#[test]
fn verification_records_fixture_reads_every_kind() {
    let script = fixture("verification_records").display().to_string();
    let input = repo_path("tests/fixtures/inputs/verification_records.json")
        .display()
        .to_string();
    let (status, json) = run_json(&["run", &script, "--input", &input]);
    assert_eq!(status, 0, "{json}");
    assert_eq!(
        json["claims"]["verifications"],
        serde_json::json!({
            "password": "username:ada:true",
            "EmailVerificationCode": "SignIn:email:ada@acme.test",
            "PhoneVerificationCode": "Generic:phone:15550100",
            "social": ["github_conn", "ada@acme.test", "ada"],
            "enterpriseSso": ["https://idp.acme.test", "ada@acme.test", "research"],
            "Totp": "usr_7kq2m9:true",
            "WebAuthn": "usr_7kq2m9:false",
            "backupCode": "usr_7kq2m9:none",
            "oneTimeToken": ["ada@acme.test", ["org_acme"]],
            "passkey": ["vr_new", "Ada's laptop"],
        }),
        "{json}"
    );
}

#[test]
fn types_rejects_an_unknown_style() {
    let out = claimscript(&["types", "--style", "okta"]);
    assert_eq!(out.status.code(), Some(64), "a usage error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("okta"), "{stderr}");
}
