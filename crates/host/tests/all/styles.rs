//! Auth0 and LoginRadius scripts run unchanged; ID-token claims; scopes.

use claimscript::{
    CompileOptions, Error, ErrorKind, FetchGrants, Grants, Outcome, RunInput, RunReport, Script,
    Style,
};
use serde_json::{Value, json};

use crate::{compile_error, engine, error, repo_path, server};

async fn example(name: &str) -> Script {
    let path = repo_path(&format!("examples/{name}/script.js"));
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    engine()
        .compile(&source)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn input(example: &str, file: &str) -> RunInput {
    let path = repo_path(&format!("examples/{example}/{file}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    RunInput::from_json(&text).expect("input")
}

/// What a run that ended with claims produced.
struct Claimed {
    access: Value,
    id: Option<Value>,
    dropped: Vec<String>,
    id_dropped: Vec<String>,
    added: Vec<String>,
    removed: Vec<String>,
}

fn claims(report: &RunReport) -> Claimed {
    match &report.outcome {
        Outcome::Claims {
            claims,
            id_token_claims,
            dropped,
            id_token_dropped,
            scopes,
        } => Claimed {
            access: Value::Object(claims.clone()),
            id: id_token_claims.clone().map(Value::Object),
            dropped: dropped.clone(),
            id_dropped: id_token_dropped.clone(),
            added: scopes.added.clone(),
            removed: scopes.removed.clone(),
        },
        other => panic!("expected claims, got {other:?}"),
    }
}

#[tokio::test]
async fn styles_are_detected_from_the_source() {
    for (name, style, entries) in [
        ("rbac", Style::Logto, vec!["getCustomJwtClaims"]),
        ("auth0-roles", Style::Auth0, vec!["onExecutePostLogin"]),
        (
            "auth0-m2m",
            Style::Auth0,
            vec!["onExecuteCredentialsExchange"],
        ),
        ("loginradius-roles", Style::LoginRadius, vec!["execute"]),
    ] {
        let script = example(name).await;
        assert_eq!(script.style(), style, "{name}");
        assert_eq!(script.entries(), entries, "{name}");
    }
    assert_eq!(example("loginradius-roles").await.packages(), ["axios"]);
    // Text in comments, strings and regular expressions does not count.
    let logto = "// exports.execute = 1\nconst s = \"exports.onExecutePostLogin = 1\";\n\
                 const r = /exports.execute = /;\nconst getCustomJwtClaims = () => ({});";
    assert_eq!(
        engine().compile(logto).await.expect("compile").style(),
        Style::Logto
    );
}

#[tokio::test]
async fn an_explicit_style_overrides_detection() {
    let source =
        "exports.execute = async (lr, hook) => { hook.accessToken.setCustomClaim('x', 1); };";
    let as_logto = engine()
        .compile_with(source, &CompileOptions::default().with_style(Style::Logto))
        .await;
    // As a Logto script, `exports` does not exist.
    match as_logto {
        Err(Error::Script(e)) => {
            assert_eq!(e.kind, ErrorKind::Script);
            assert!(e.message.contains("exports"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    let script = engine()
        .compile_with(
            source,
            &CompileOptions::default().with_style(Style::LoginRadius),
        )
        .await
        .expect("compile");
    let report = crate::run_default(&script).await;
    assert_eq!(claims(&report).access, json!({"x": 1}));
}

#[tokio::test]
async fn auth0_post_login_roles_id_token_and_scopes() {
    let script = example("auth0-roles").await;
    let report = script
        .run(&input("auth0-roles", "input.json"), &Grants::default())
        .await
        .expect("run");
    let Claimed {
        access,
        id,
        dropped,
        added,
        removed,
        ..
    } = claims(&report);
    assert_eq!(
        access,
        json!({"https://acme.test/roles": ["admin", "analyst", "billing"]})
    );
    assert_eq!(id, Some(json!({"nickname": "ada"})));
    assert!(dropped.is_empty());
    assert_eq!(added, ["admin:reports"]);
    assert!(removed.is_empty());
    assert_eq!(
        report.to_json()["scopes"],
        json!({"added": ["admin:reports"], "removed": []})
    );
}

#[tokio::test]
async fn auth0_deny_for_a_blocked_user() {
    let report = example("auth0-roles")
        .await
        .run(
            &input("auth0-roles", "input-blocked.json"),
            &Grants::default(),
        )
        .await
        .expect("run");
    match &report.outcome {
        Outcome::Denied(denial) => {
            assert_eq!(denial.message, "blocked");
            assert_eq!(denial.code, None);
            assert_eq!(
                claimscript::OAuthError::denied(denial).error,
                "access_denied"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn auth0_credentials_exchange() {
    let script = example("auth0-m2m").await;
    let report = script
        .run(&input("auth0-m2m", "input.json"), &Grants::default())
        .await
        .expect("run");
    assert_eq!(
        claims(&report).access,
        json!({"https://acme.test/tier": "premium"})
    );
    assert_eq!(claims(&report).id, None);

    let report = script
        .run(
            &input("auth0-m2m", "input-unknown.json"),
            &Grants::default(),
        )
        .await
        .expect("run");
    let Outcome::Denied(denial) = &report.outcome else {
        panic!("{:?}", report.outcome);
    };
    assert_eq!(denial.message, "Unknown client svc_unknown");
    assert_eq!(denial.code.as_deref(), Some("invalid_request"));
    let oauth = claimscript::OAuthError::denied(denial);
    assert_eq!((oauth.error, oauth.status), ("invalid_request", 400));

    // A post-login-only script has nothing to run for a client-credentials token.
    let report = example("auth0-roles")
        .await
        .run(&input("auth0-m2m", "input.json"), &Grants::default())
        .await
        .expect("run");
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::MissingFunction);
    assert!(
        e.message.contains("onExecuteCredentialsExchange"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn auth0_event_mapping() {
    let report = crate::run_source("exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('event', { ...event, secrets: Object.keys(event.secrets) }); };").await;
    let event = &claims(&report).access["event"];
    assert_eq!(event["user"]["user_id"], "usr_7kq2m9");
    assert_eq!(event["user"]["email"], "ada@acme.test");
    assert_eq!(event["user"]["email_verified"], true);
    assert_eq!(event["user"]["given_name"], "Ada");
    assert_eq!(event["user"]["app_metadata"]["plan"], "enterprise");
    assert_eq!(event["user"]["created_at"], "2023-11-14T22:13:20.000Z");
    assert_eq!(event["user"]["identities"][0]["provider"], "github");
    assert_eq!(
        event["authorization"]["roles"],
        json!(["admin", "analyst", "billing"])
    );
    assert_eq!(event["client"]["client_id"], "app_3f8d2c");
    assert_eq!(event["client"]["name"], "Acme Reports");
    assert_eq!(
        event["resource_server"]["identifier"],
        "https://api.acme.test"
    );
    assert_eq!(
        event["transaction"]["requested_scopes"],
        json!(["read:reports", "write:reports"])
    );
    assert_eq!(event["secrets"], json!(["REPORTS_API_KEY"]));
}

#[tokio::test]
async fn dates_past_the_year_9999_are_left_out() {
    let mut input = crate::example_input("rbac");
    let context = input.context_mut().expect("the example has a context");
    let mut user = context.get("user").cloned().unwrap_or_else(|| json!({}));
    user["createdAt"] = json!(300_000_000_000_000_i64);
    user["updatedAt"] = json!(-5);
    context.insert("user".into(), user);
    for source in [
        "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('user', event.user); };",
        "exports.execute = async (lrObject, hook) => { hook.accessToken.setCustomClaim('user', lrObject); };",
    ] {
        let script = crate::compile(source).await;
        let report = script.run(&input, &Grants::default()).await.expect("run");
        let user = &claims(&report).access["user"];
        assert!(user.is_object(), "{source}: {:?}", report.outcome);
        for key in ["created_at", "updated_at", "CreatedDate", "ModifiedDate"] {
            assert!(user.get(key).is_none(), "{key}: {user}");
        }
    }
}

#[tokio::test]
async fn scopes_are_checked_on_the_host() {
    for call in [
        "addScope('a\\u0085b')",
        "removeScope('a\\\\b')",
        "addScope('x\\u00e9')",
    ] {
        let source = format!(
            "exports.onExecutePostLogin = async (event, api) => {{ api.accessToken.{call}; }};"
        );
        let report = crate::run_source(&source).await;
        let e = error(&report);
        assert_eq!(e.kind, ErrorKind::InvalidOutput, "{call}: {e:?}");
        assert!(
            e.message.contains("not a valid OAuth scope token"),
            "{}",
            e.message
        );
        assert!(
            !e.message.chars().any(|c| c.is_control() || !c.is_ascii()),
            "escaped: {}",
            e.message
        );
    }
    let report = crate::run_source(
        "exports.onExecutePostLogin = async (event, api) => { api.accessToken.addScope('read:x!#[]~'); };",
    )
    .await;
    assert_eq!(claims(&report).added, ["read:x!#[]~"]);
}

#[tokio::test]
async fn auth0_unsupported_api_fails_clearly() {
    // Found in the source: a compile error at its position.
    let e = compile_error(
        "exports.onExecutePostLogin = async (event, api) => {\n  api.multifactor.enable('any');\n};",
    )
    .await;
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert_eq!((e.line, e.column), (Some(2), Some(3)));
    assert!(
        e.message
            .starts_with("api.multifactor is not supported by Claimscript"),
        "{}",
        e.message
    );
    // Reached another way: an error when used.
    let report = crate::run_source("exports.onExecutePostLogin = async (event, actions) => { actions['redirect'].sendUserTo('x'); };").await;
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(
        e.message.starts_with("api.redirect is not supported"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn loginradius_roles_against_a_loopback_service() {
    let server = server::start().await;
    let script = example("loginradius-roles").await;
    let grants =
        Grants::default().with_fetch(FetchGrants::allowing([server.base()]).expect("grant"));
    let run = |file: &'static str| {
        let input = input("loginradius-roles", file).with_env("AUTHZ_URL", server.base());
        let (script, grants) = (script.clone(), grants.clone());
        async move { script.run(&input, &grants).await.expect("run") }
    };
    let report = run("input.json").await;
    let Claimed { access, id, .. } = claims(&report);
    assert_eq!(
        access,
        json!({"role": "admin", "permissions": ["read:reports", "write:reports", "manage:users"]})
    );
    assert_eq!(id, Some(json!({"role": "admin"})));
    // The shim sent the params and the bearer token through the host.
    assert_eq!(report.stats.fetches.len(), 1);
    assert_eq!(
        report.stats.fetches[0].url,
        format!("{}/permissions", server.base())
    );

    let report = run("input-no-email.json").await;
    let Outcome::Denied(denial) = &report.outcome else {
        panic!("{:?}", report.outcome);
    };
    assert_eq!(denial.message, "email required");
    assert_eq!(denial.code.as_deref(), Some("400"));
    assert_eq!(denial.title.as_deref(), Some("Validation"));
    assert_eq!(report.stats.fetches.len(), 0);
    assert_eq!(
        report.to_json()["code"],
        "400",
        "the run's JSON keeps LoginRadius's code"
    );
}

#[tokio::test]
async fn loginradius_object_mapping() {
    let report = crate::run_source(
        "exports.execute = async (lr, hook) => { hook.accessToken.setCustomClaim('lr', lr); };",
    )
    .await;
    let lr = &claims(&report).access["lr"];
    assert_eq!(lr["Uid"], "usr_7kq2m9");
    assert_eq!(
        lr["Email"],
        json!([{"Type": "Primary", "Value": "ada@acme.test"}])
    );
    assert_eq!(lr["FirstName"], "Ada");
    assert_eq!(lr["LastName"], "Lovelace");
    assert_eq!(lr["Roles"], json!(["admin", "analyst", "billing"]));
    assert_eq!(lr["CustomFields"]["department"], "research");
    assert_eq!(lr["IsActive"], true);
    assert_eq!(lr["LastLoginDate"], "2024-11-22T18:26:40.000Z");
}

#[tokio::test]
async fn require_is_checked_when_compiling() {
    let e =
        compile_error("const moment = require('moment');\nexports.execute = async () => {};").await;
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert_eq!((e.line, e.column), (Some(1), Some(16)));
    assert_eq!(
        e.message,
        "require('moment'): the LoginRadius package `moment` is not available in Claimscript; only `axios` is (a shim over fetch)"
    );
    let e = compile_error("exports.execute = async () => { require('lodash'); };").await;
    assert!(
        e.message
            .starts_with("require('lodash'): packages are not available"),
        "{}",
        e.message
    );
    // Logto scripts have no `require`, as in Logto.
    let e =
        compile_error("const x = require('axios');\nconst getCustomJwtClaims = () => ({});").await;
    assert_eq!(e.kind, ErrorKind::Script);
    assert!(
        e.message.contains("require is not defined"),
        "{}",
        e.message
    );
    // A name only known when running fails then.
    let report = crate::run_source(
        "exports.execute = async () => { const name = 'mom' + 'ent'; require(name); };",
    )
    .await;
    let e = error(&report);
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(e.message.starts_with("require('moment')"), "{}", e.message);
}

#[tokio::test]
async fn missing_exports_and_non_functions() {
    for source in [
        "exports.executeLater = async () => {};",
        "exports.onExecutePostLogin = 42; exports.onExecuteCredentialsExchange = 'x';",
    ] {
        let e = engine()
            .compile_with(source, &CompileOptions::default().with_style(Style::Auth0))
            .await;
        match e {
            Err(Error::Script(e)) => assert_eq!(e.kind, ErrorKind::MissingFunction, "{source}"),
            other => panic!("{source}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn id_token_protected_claims_are_dropped() {
    let report = crate::run_source(
        "exports.onExecutePostLogin = async (event, api) => {\n\
               api.idToken.setCustomClaim('nonce', 'forged');\n\
               api.idToken.setCustomClaim('s_hash', 'forged');\n\
               api.idToken.setCustomClaim('team', 'engines');\n\
               api.accessToken.setCustomClaim('sub', 'forged');\n\
             };",
    )
    .await;
    let Claimed {
        access,
        id,
        dropped,
        id_dropped,
        ..
    } = claims(&report);
    assert_eq!(access, json!({}));
    assert_eq!(id, Some(json!({"team": "engines"})));
    assert_eq!(dropped, ["sub"]);
    assert_eq!(id_dropped, ["nonce", "s_hash"]);
    let json = report.to_json();
    assert_eq!(json["id_token_claims"], json!({"team": "engines"}));
    assert_eq!(json["id_token_dropped"], json!(["nonce", "s_hash"]));
}
