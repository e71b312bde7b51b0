//! `POST /hooks/{provider}/{script}`: Okta, ZITADEL, Ory Hydra and Supabase
//! token hooks, through `claimscript-hooks`.
//!
//! The caller is authenticated the provider's way over the raw body before
//! anything is parsed or run; the payload is mapped into the script's input
//! (`context.hook` holds the raw request); the run's outcome becomes the
//! provider's response under the binding's failure policy. Claims the
//! provider protects are left out, counted and written to the audit log
//! beside the run's record (a `hook` record with the same `decision_id`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use claimscript_hooks::{HookError, Protocol};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::error::ApiError;
use crate::routes::{new_decision_id, read_body, with_decision_id};
use crate::service::App;

pub(crate) async fn hook(
    State(app): State<Arc<App>>,
    Path((provider, script)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let protocol = Protocol::from_name(&provider)
        .ok_or_else(|| ApiError::not_found(format!("no provider named {provider:?}")))?;
    let binding = app
        .hooks()
        .bindings
        .get(&(protocol, script.clone()))
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no {provider} hook is bound to the script {script:?}"
            ))
        })?;
    let body = read_body(&app, &headers, body).await?;
    let refuse = |e: HookError| {
        app.metrics.hook_result(protocol.as_str(), e.kind());
        tracing::warn!(provider = protocol.as_str(), script = %script, error = %e, "hook request refused");
        ApiError::new(e.status(), e.kind(), e.to_string())
    };
    match &binding.jwks {
        None => binding
            .verify(&headers, &body, &claimscript_hooks::keys::NoKeys)
            .map_err(refuse)?,
        Some(cache) => {
            let name = format!("{provider}/{script}");
            let keys = cache.keys(&app, &name, false).await?;
            match binding.verify(&headers, &body, &keys) {
                // A key the set does not have yet: fetch it once more.
                Err(HookError::UnknownKey { .. }) => {
                    let keys = cache.keys(&app, &name, true).await?;
                    binding.verify(&headers, &body, &keys).map_err(refuse)?;
                }
                other => other.map_err(refuse)?,
            }
        }
    }
    let request = claimscript_hooks::parse(protocol, &body).map_err(refuse)?;
    let (slot, version) = app.registry.version(&script)?;
    let grants = version.grants.clone().with_timeout_ms(
        u64::try_from(binding.config.timeout.as_millis())
            .unwrap_or(u64::MAX)
            .min(version.grants.timeout_ms),
    );
    let id = new_decision_id();
    let caller = Some(format!("hook:{}", protocol.as_str()));
    let report = app
        .execute_with(
            &slot,
            &version,
            &grants,
            request.to_run_input(),
            &caller,
            &id,
        )
        .await?;
    let answer = request.respond(&report.outcome, binding.config.failure_policy);
    app.metrics.hook_answered(
        protocol.as_str(),
        answer.effect.as_str(),
        answer.dropped.len(),
    );
    if let Some(audit) = &app.audit {
        audit.hook(
            &id,
            &script,
            protocol.as_str(),
            answer.effect.as_str(),
            &answer.dropped,
        );
    }
    let mut response = (answer.status, answer.body).into_response();
    if let Some(content_type) = answer.content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    if answer.status == StatusCode::NO_CONTENT {
        response.headers_mut().remove(header::CONTENT_TYPE);
    }
    Ok(with_decision_id(response, &id))
}
