//! Logto's remote script-runner contract: `POST /api/script-run`.
//!
//! Logto (Cloud, or a deployment with `SCRIPT_RUNNER_ENDPOINT` set) sends
//! `{tenantId, script, entry, payload: {token, context,
//! environmentVariables}, isTest}` with a bearer token and reads back, always
//! with status 200, `{"ok": true, "value": {claims}}` or `{"ok": false,
//! "kind", "message"}`. Compiled scripts are cached by the source's SHA-256.
//!
//! Kinds, from the run's outcome:
//!
//! | outcome | kind |
//! |---|---|
//! | denial (`api.denyAccess`) | `denied` |
//! | `syntax` | `syntax` |
//! | `missing_function`, `invalid_output`, an uncaught `TypeError` | `type` |
//! | `timeout`, `fuel_exhausted`, `pending` | `timeout` |
//! | `memory` | `oom` |
//! | anything else | `runtime` |
//!
//! Stacks are never sent (Logto redacts them too).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use claimscript::trail::RunLabels;
use claimscript::{ErrorKind, Outcome, Style};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::config::Scope;
use crate::error::ApiError;
use crate::routes::{json_request, json_response, new_decision_id, parse_input, run_error};
use crate::service::App;

/// The request Logto sends.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScriptRun {
    tenant_id: Option<String>,
    script: String,
    entry: String,
    /// Kept as text and parsed as a run's input ([`parse_input`]).
    payload: Box<RawValue>,
    #[serde(default)]
    is_test: bool,
}

pub(crate) async fn script_run(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (caller, request): (_, ScriptRun) = json_request(&app, &headers, body, Scope::Run).await?;
    let Some(runner) = app.config().logto_runner.clone() else {
        return Err(ApiError::not_found("the Logto runner is not enabled"));
    };
    if request.entry != "getCustomJwtClaims" {
        return Ok(answer_error(
            "type",
            &format!(
                "entry {:?} is not supported: this runner runs getCustomJwtClaims scripts",
                request.entry
            ),
        ));
    }
    let input = parse_input(&app, "payload", &request.payload)?;
    let id = new_decision_id();
    let key: [u8; 32] = Sha256::digest(request.script.as_bytes()).into();
    let _permit = app.gate.enter().await?;
    let cached = app.logto.lock().ok().and_then(|mut c| c.get(&key).cloned());
    let script = match cached {
        Some(script) => script,
        None => {
            let options = claimscript::CompileOptions::default().with_style(Style::Logto);
            match app.engine.compile_with(&request.script, &options).await {
                Ok(script) => {
                    if let Ok(mut cache) = app.logto.lock() {
                        cache.put(key, script.clone());
                    }
                    script
                }
                Err(claimscript::Error::Script(e)) => {
                    return Ok(answer_error(kind_of(e.kind, &e.message), &e.message));
                }
                Err(e) => return Err(run_error(e)),
            }
        }
    };
    let mut labels = RunLabels::default()
        .with_decision_id(&id)
        .with_name(format!(
            "logto:{}{}",
            request.tenant_id.as_deref().unwrap_or("-"),
            if request.is_test { ":test" } else { "" }
        ));
    if let Some(caller) = &caller {
        labels = labels.with_caller(caller);
    }
    let report = script
        .run_labelled(&input, &runner.grants, &labels)
        .await
        .map_err(run_error)?;
    app.metrics.run("(logto)", &report);
    Ok(match report.outcome {
        Outcome::Claims { claims, .. } => {
            json_response(StatusCode::OK, &json!({"ok": true, "value": claims}))
        }
        Outcome::Denied(denial) => answer_error("denied", &denial.message),
        Outcome::Error(e) => answer_error(kind_of(e.kind, &e.message), &e.message),
        _ => answer_error("runtime", "the run ended in an unknown way"),
    })
}

fn answer_error(kind: &str, message: &str) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"ok": false, "kind": kind, "message": message}),
    )
}

/// Logto's failure kind for an error.
pub(crate) fn kind_of(kind: ErrorKind, message: &str) -> &'static str {
    match kind {
        ErrorKind::Syntax => "syntax",
        ErrorKind::MissingFunction | ErrorKind::InvalidOutput => "type",
        ErrorKind::Timeout | ErrorKind::FuelExhausted | ErrorKind::Pending => "timeout",
        ErrorKind::Memory => "oom",
        ErrorKind::Script if message.starts_with("TypeError") => "type",
        _ => "runtime",
    }
}
