//! The HTTP API: routes and their handlers.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use claimscript::trail::RunLabels;
use claimscript::{CompileOptions, Decision, Error, Grants, Outcome, RunInput, RunReport, Style};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::auth::{Caller, authenticate};
use crate::config::{Scope, check_name, parse_policy};
use crate::error::ApiError;
use crate::registry::{Code, Origin, Slot, Version, now_rfc3339, version_of_record};
use crate::service::App;
use crate::store::StoredScript;

/// The header carrying a run's decision id.
pub const DECISION_ID_HEADER: &str = "x-decision-id";

type Shared = State<Arc<App>>;

/// The API's router.
pub(crate) fn router(app: Arc<App>) -> Router {
    let config = app.config();
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics_authenticated))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/v1/scripts", get(list_scripts))
        .route(
            "/v1/scripts/{name}",
            get(get_script).put(put_script).delete(delete_script),
        )
        .route("/v1/scripts/{name}/run", post(run_script))
        .route("/v1/scripts/{name}/token", post(token))
        .route("/v1/types/{style}", get(types));
    if config.run_endpoint {
        router = router
            .route("/v1/run", post(run_source))
            .route("/v1/compile", post(compile_source));
    }
    if !config.hooks.is_empty() {
        router = router.route("/hooks/{provider}/{script}", post(crate::hooks::hook));
    }
    if config.logto_runner.is_some() {
        router = router.route("/api/script-run", post(crate::logto::script_run));
    }
    if config.playground {
        router = router
            .route("/playground", get(playground_redirect))
            .route("/playground/", get(playground_index))
            .route("/playground/{*file}", get(playground_file));
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

/// The diagnostic listener's router: health and metrics, no auth.
pub(crate) fn diagnostic_router(app: Arc<App>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}

/// Count every request by route, method and status, and time it.
async fn observe(State(app): Shared, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = request.method().as_str().to_string();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    app.metrics.request(&route, &method, status, elapsed);
    tracing::debug!(
        target: "claimscript::http",
        route = %route,
        method = %method,
        status,
        elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        decision_id = response
            .headers()
            .get(DECISION_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
        "request"
    );
    response
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

pub(crate) fn with_decision_id(mut response: Response, id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert(DECISION_ID_HEADER, value);
    }
    response
}

pub(crate) fn new_decision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn auth(app: &App, headers: &HeaderMap, scope: Scope) -> Result<Caller, ApiError> {
    authenticate(headers, &app.config().tokens, scope)
}

/// Refuse a body that is not declared JSON.
pub(crate) fn expect_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be JSON (Content-Type: application/json)",
        ))
    }
}

/// The body, at most `max_body_bytes` of it.
pub(crate) async fn read_body(
    app: &App,
    headers: &HeaderMap,
    body: Body,
) -> Result<bytes::Bytes, ApiError> {
    let limit = app.config().limits.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is larger than the limit of {limit} bytes (max_body_bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let over = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if over {
            too_large()
        } else {
            ApiError::bad_request("bad_body", format!("cannot read the body: {e}"))
        }
    })
}

/// The preamble of every JSON endpoint: the caller (with `scope`), the
/// content type, the body within its limit, parsed.
pub(crate) async fn json_request<T: serde::de::DeserializeOwned>(
    app: &App,
    headers: &HeaderMap,
    body: Body,
    scope: Scope,
) -> Result<(Caller, T), ApiError> {
    let caller = auth(app, headers, scope)?;
    expect_json(headers)?;
    let body = read_body(app, headers, body).await?;
    Ok((caller, parse_json(&body)?))
}

/// Parse a JSON body: 400 with line and column when malformed.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            ApiError::bad_request("invalid_request", e.to_string())
        } else {
            ApiError::json(&e)
        }
    })
}

/// [`json_request`] for the endpoints whose body is a run's input: parsed
/// straight into a [`RunInput`] (no intermediate document), with the
/// engine's `max_input_bytes` and duplicate keys refused, at their line
/// and column.
pub(crate) async fn input_request(
    app: &App,
    headers: &HeaderMap,
    body: Body,
    scope: Scope,
) -> Result<(Caller, RunInput), ApiError> {
    let caller = auth(app, headers, scope)?;
    expect_json(headers)?;
    let body = read_body(app, headers, body).await?;
    let input = RunInput::from_slice_with_limit(&body, app.engine.config().max_input_bytes)
        .map_err(|e| {
            let mut error = if e.is_syntax() {
                ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
            } else {
                ApiError::bad_request("invalid_input", e.to_string())
            };
            if let Some((line, column)) = e.position() {
                error = error.with("line", line).with("column", column);
            }
            error
        })?;
    Ok((caller, input))
}

/// A member of a request body that is a run's input (`/v1/run`'s `input`,
/// Logto's `payload`), kept as text and parsed as one: a key twice is
/// refused, `max_input_bytes` applies, and the context reaches the script
/// as written. Positions are counted in the member's own text.
pub(crate) fn parse_input(app: &App, member: &str, raw: &RawValue) -> Result<RunInput, ApiError> {
    RunInput::from_json_with_limit(raw.get(), app.engine.config().max_input_bytes).map_err(|e| {
        let whence = if e.position().is_some() {
            " (line and column from its opening brace)"
        } else {
            ""
        };
        ApiError::bad_request("invalid_input", format!("{member}{whence}: {e}"))
    })
}

fn parse_grants(text: Option<&str>) -> Result<Grants, ApiError> {
    let Some(text) = text else {
        return Ok(Grants::default());
    };
    Grants::from_toml(text).map_err(|e| {
        let mut error = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_grants",
            format!("grants: {e}"),
        );
        if let claimscript::grants::GrantsError::Invalid { line, column, .. } = &e {
            error = error.with("line", *line).with("column", *column);
        }
        error
    })
}

fn parse_style(text: Option<&str>) -> Result<Option<Style>, ApiError> {
    text.map(|s| {
        s.parse::<Style>()
            .map_err(|e| ApiError::bad_request("invalid_style", e.to_string()))
    })
    .transpose()
}

/// The error of a run that could not start.
pub(crate) fn run_error(e: Error) -> ApiError {
    match e {
        Error::Input(e) => ApiError::bad_request("invalid_input", e.to_string()),
        Error::Grants(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "grants_exceed_limits",
            e.to_string(),
        ),
        other => ApiError::internal(other.to_string()),
    }
}

impl App {
    /// Run a registered version: the one run path of the service.
    pub(crate) async fn execute(
        &self,
        slot: &Slot,
        version: &Version,
        input: RunInput,
        caller: &Caller,
        decision_id: &str,
    ) -> Result<RunReport, ApiError> {
        self.execute_with(slot, version, &version.grants, input, caller, decision_id)
            .await
    }

    /// [`App::execute`] under other grants (a hook binding's shorter
    /// timeout).
    pub(crate) async fn execute_with(
        &self,
        slot: &Slot,
        version: &Version,
        grants: &Grants,
        mut input: RunInput,
        caller: &Caller,
        decision_id: &str,
    ) -> Result<RunReport, ApiError> {
        for (k, v) in &version.env {
            input.environment_variables.insert(k.clone(), v.clone());
        }
        let _permit = self.gate.enter().await?;
        let script = self.registry.script(version)?;
        let mut labels = RunLabels::default()
            .with_decision_id(decision_id)
            .with_name(&version.name);
        if let Some(caller) = caller {
            labels = labels.with_caller(caller);
        }
        let report = script
            .run_labelled(&input, grants, &labels)
            .await
            .map_err(run_error)?;
        slot.counts.add(&report.outcome);
        self.metrics.run(&version.name, &report);
        Ok(report)
    }
}

/// A 409 for a script the config owns (a file or an OCI reference): the
/// API may not `verb` it.
fn refuse_config_owned(slot: Option<&Slot>, name: &str, verb: &str) -> Result<(), ApiError> {
    match slot.and_then(Slot::current).map(|v| v.origin.clone()) {
        Some(origin) if origin.config_owned() => Err(ApiError::new(
            StatusCode::CONFLICT,
            "defined_in_config",
            format!(
                "the script {name:?} comes from {}; {verb} it there",
                origin_text(&origin)
            ),
        )),
        _ => Ok(()),
    }
}

fn origin_text(origin: &Origin) -> String {
    match origin {
        Origin::Config { path } => path.display().to_string(),
        Origin::Oci { reference, .. } => format!("oci://{reference} (in the config)"),
        Origin::Api => "the API".into(),
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}

async fn health() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

async fn ready(State(app): Shared) -> Response {
    let config = app.config();
    let waiting: Vec<&String> = config
        .scripts
        .keys()
        .filter(|name| {
            app.registry
                .slot(name)
                .is_none_or(|s| s.current().is_none())
        })
        .collect();
    if waiting.is_empty() {
        json_response(StatusCode::OK, &json!({"status": "ready"}))
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("configured scripts without a loaded version: {waiting:?}"),
        )
        .into_response()
    }
}

/// Metrics on the API listener need a token (any scope) when tokens are
/// configured; the diagnostic listener serves them without.
async fn metrics_authenticated(
    State(app): Shared,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth(&app, &headers, Scope::Run)?;
    Ok(metrics(State(app)).await)
}

async fn metrics(State(app): Shared) -> Response {
    let mut response = app.metrics.encode().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

async fn jwks(State(app): Shared) -> Response {
    json_response(StatusCode::OK, &app.keys().jwks)
}

async fn types(Path(style): Path<String>) -> Result<Response, ApiError> {
    let style = parse_style(Some(&style))?.unwrap_or(Style::Logto);
    let mut response = claimscript::declarations(style).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

async fn list_scripts(State(app): Shared, headers: HeaderMap) -> Result<Response, ApiError> {
    auth(&app, &headers, Scope::Run)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"scripts": app.registry.list()}),
    ))
}

async fn get_script(
    State(app): Shared,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth(&app, &headers, Scope::Run)?;
    let slot = app.registry.existing(&name)?;
    let mut item = app.registry.describe(&name, &slot);
    if let Some(version) = slot.current() {
        let script = app.registry.script(&version)?;
        if let Value::Object(map) = &mut item {
            map.insert("audit".into(), script.audit(&version.grants).to_json());
        }
    }
    Ok(json_response(StatusCode::OK, &item))
}

/// `PUT /v1/scripts/{name}`'s JSON body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    /// JavaScript source.
    source: Option<String>,
    /// A compiled component, base64.
    component: Option<String>,
    style: Option<String>,
    /// Grants as TOML text.
    grants: Option<String>,
    failure_policy: Option<String>,
    key: Option<String>,
}

async fn put_script(
    State(app): Shared,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    auth(&app, &headers, Scope::Admin)?;
    check_name(&name).map_err(|m| ApiError::bad_request("invalid_name", m))?;
    let slot = app.registry.slot(&name);
    refuse_config_owned(slot.as_deref(), &name, "change")?;
    let is_wasm = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/wasm"));
    if !is_wasm {
        expect_json(&headers)?;
    }
    let body = read_body(&app, &headers, body).await?;
    let registration = if is_wasm {
        Registration {
            source: None,
            component: None,
            style: None,
            grants: None,
            failure_policy: None,
            key: None,
        }
    } else {
        parse_json::<Registration>(&body)?
    };
    let component = match (&registration.source, &registration.component, is_wasm) {
        (_, _, true) => Some(body.to_vec()),
        (Some(_), None, false) => None,
        (None, Some(b64), false) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| {
                    ApiError::bad_request(
                        "invalid_request",
                        format!("`component`: not base64: {e}"),
                    )
                })?,
        ),
        _ => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "give exactly one of `source` (JavaScript) or `component` (base64 of a compiled .wasm)",
            ));
        }
    };
    let style = parse_style(registration.style.as_deref())?;
    let grants = parse_grants(registration.grants.as_deref())?;
    app.check_grants_fit(&grants, "grants")
        .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_grants", m))?;
    let policy = match &registration.failure_policy {
        None => claimscript::FailurePolicy::default(),
        Some(p) => parse_policy(p).map_err(|m| ApiError::bad_request("invalid_request", m))?,
    };
    if let Some(key) = &registration.key
        && !app.keys().issuers.contains_key(key)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_key",
            format!("no signing key named {key:?} is configured"),
        ));
    }
    let script = {
        let _permit = app.gate.enter().await?;
        let code = match (&component, &registration.source) {
            (Some(bytes), _) => Code::Component(bytes),
            (None, Some(source)) => Code::Source(source, style),
            (None, None) => return Err(ApiError::internal("no code")),
        };
        app.registry.compile(code).await.map_err(|e| e.to_api())?
    };
    let record = StoredScript {
        name: name.clone(),
        digest: script.digest_hex(),
        style: script.style().as_str().to_string(),
        grants: registration.grants.clone(),
        failure_policy: crate::config::policy_name(policy).to_string(),
        key: registration.key.clone(),
        registered_at: now_rfc3339(),
    };
    app.registry.data().put_record(&record).map_err(|e| {
        ApiError::internal(format!(
            "cannot write the registration to the data directory: {e}"
        ))
    })?;
    let mut version = version_of_record(&record).map_err(|e| ApiError::internal(e.message))?;
    version.source_sha256 = script.source_digest_hex().to_string();
    let existed = slot.is_some_and(|s| s.current().is_some());
    app.registry.install(version, Some(&script));
    tracing::info!(script = %name, digest = %record.digest, replaced = existed, "script registered");
    let slot = app
        .registry
        .slot(&name)
        .ok_or_else(|| ApiError::internal("the script vanished"))?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(status, &app.registry.describe(&name, &slot)))
}

async fn delete_script(
    State(app): Shared,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    auth(&app, &headers, Scope::Admin)?;
    let slot = app.registry.existing(&name)?;
    refuse_config_owned(Some(&slot), &name, "remove")?;
    app.registry
        .data()
        .remove_record(&name)
        .map_err(|e| ApiError::internal(format!("cannot remove the registration: {e}")))?;
    app.registry.remove(&name);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn run_script(
    State(app): Shared,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (caller, input) = input_request(&app, &headers, body, Scope::Run).await?;
    let (slot, version) = app.registry.version(&name)?;
    let id = new_decision_id();
    let report = app.execute(&slot, &version, input, &caller, &id).await?;
    let mut doc = report.to_json();
    if let Value::Object(map) = &mut doc {
        map.insert("decision_id".into(), id.clone().into());
    }
    Ok(with_decision_id(json_response(StatusCode::OK, &doc), &id))
}

async fn token(
    State(app): Shared,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (caller, input) = input_request(&app, &headers, body, Scope::Run).await?;
    let (slot, version) = app.registry.version(&name)?;
    let keys = app.keys();
    let issuer = match &version.key {
        Some(key) => keys.issuers.get(key),
        None if keys.issuers.len() == 1 => keys.issuers.values().next(),
        None => None,
    }
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "no_signing_key",
            format!(
                "the script {name:?} has no signing key: set `key` for it (the service has {} keys)",
                keys.issuers.len()
            ),
        )
    })?;
    let base = input.token.clone();
    let id = new_decision_id();
    let report = app.execute(&slot, &version, input, &caller, &id).await?;
    let decision = Decision::from_report(report, version.policy);
    let sign = |base: &Map<String, Value>, claims: &Map<String, Value>| {
        issuer.sign(base, claims).map_err(|e| {
            ApiError::internal(format!("the token could not be signed: {e}"))
                .with("decision_id", id.clone())
        })
    };
    let response = match decision {
        Decision::Issue {
            claims,
            scopes,
            dropped,
            ..
        } => {
            let (base, _not_added) = issuer.apply_scopes(&base, &scopes);
            let token = sign(&base, &claims)?;
            json_response(
                StatusCode::OK,
                &json!({
                    "token": token.compact,
                    "claims": token.payload,
                    "dropped": dropped,
                    "collisions": token.collisions,
                    "decision_id": id,
                }),
            )
        }
        Decision::IssueWithoutClaims { error, .. } => {
            let token = sign(&base, &Map::new())?;
            json_response(
                StatusCode::OK,
                &json!({
                    "token": token.compact,
                    "claims": token.payload,
                    "claims_error": {"kind": error.kind.as_str()},
                    "decision_id": id,
                }),
            )
        }
        Decision::Reject { error, report } => {
            let status = if matches!(report.outcome, Outcome::Denied(_)) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            };
            let mut body = error.to_json();
            if let Value::Object(map) = &mut body {
                map.insert("decision_id".into(), id.clone().into());
            }
            json_response(status, &body)
        }
        _ => return Err(ApiError::internal("an unknown decision")),
    };
    Ok(with_decision_id(response, &id))
}

/// `POST /v1/run`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    source: String,
    style: Option<String>,
    input: Box<RawValue>,
    grants: Option<String>,
    #[serde(default)]
    sign: bool,
    #[serde(default)]
    audit: bool,
}

async fn run_source(
    State(app): Shared,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (caller, request): (_, RunRequest) = json_request(&app, &headers, body, Scope::Run).await?;
    let style = parse_style(request.style.as_deref())?;
    let grants = parse_grants(request.grants.as_deref())?;
    let input = parse_input(&app, "input", &request.input)?;
    let mut options = CompileOptions::default();
    if let Some(style) = style {
        options = options.with_style(style);
    }
    let id = new_decision_id();
    let mut labels = RunLabels::default()
        .with_decision_id(&id)
        .with_name("(unregistered)");
    if let Some(caller) = &caller {
        labels = labels.with_caller(caller);
    }
    let (report, audit) = {
        let _permit = app.gate.enter().await?;
        let report = app
            .engine
            .run_source_labelled(&request.source, &options, &input, &grants, &labels)
            .await
            .map_err(run_error)?;
        let audit = if request.audit {
            match app.engine.compile_with(&request.source, &options).await {
                Ok(script) => Some(script.audit(&grants).to_json()),
                Err(_) => None,
            }
        } else {
            None
        };
        (report, audit)
    };
    app.metrics.run("(unregistered)", &report);
    let mut doc = report.to_json();
    let Value::Object(map) = &mut doc else {
        return Err(ApiError::internal("a report that is not an object"));
    };
    map.insert("decision_id".into(), id.clone().into());
    map.insert(
        "limits".into(),
        json!({
            "fuel": grants.fuel,
            "memory_mb": grants.memory_mb,
            "max_output_bytes": grants.max_output_bytes,
            "timeout_ms": grants.timeout_ms,
        }),
    );
    if let Outcome::Claims {
        claims,
        id_token_claims,
        ..
    } = &report.outcome
    {
        let bytes = serde_json::to_vec(claims).map_or(0, |b| b.len())
            + id_token_claims
                .as_ref()
                .and_then(|c| serde_json::to_vec(c).ok())
                .map_or(0, |b| b.len());
        map.insert("output_bytes".into(), bytes.into());
        if request.sign {
            let issuer = app.dev_issuer.as_ref().ok_or_else(|| {
                ApiError::bad_request(
                    "signing_unavailable",
                    "`sign` needs the playground's development key (playground = true)",
                )
            })?;
            let token = issuer
                .sign(&input.token, claims)
                .map_err(|e| ApiError::internal(format!("the token could not be signed: {e}")))?;
            let header = token
                .compact
                .split('.')
                .next()
                .and_then(|h| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(h)
                        .ok()
                })
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .unwrap_or(Value::Null);
            map.insert(
                "token".into(),
                json!({"jwt": token.compact, "header": header, "payload": token.payload}),
            );
        }
    } else {
        map.insert("output_bytes".into(), 0.into());
    }
    if let Some(audit) = audit {
        map.insert("audit".into(), audit);
    }
    Ok(with_decision_id(json_response(StatusCode::OK, &doc), &id))
}

/// `POST /v1/compile`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompileRequest {
    source: String,
    style: Option<String>,
}

async fn compile_source(
    State(app): Shared,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (_, request): (_, CompileRequest) = json_request(&app, &headers, body, Scope::Run).await?;
    let style = parse_style(request.style.as_deref())?;
    let mut options = CompileOptions::default();
    if let Some(style) = style {
        options = options.with_style(style);
    }
    let script = {
        let _permit = app.gate.enter().await?;
        app.engine
            .compile_with(&request.source, &options)
            .await
            .map_err(|e| crate::registry::LoadError::from_error(&e).to_api())?
    };
    let bytes = script
        .component_bytes()
        .ok_or_else(|| ApiError::internal("the compiled script holds no artifact"))?;
    let mut response = bytes.to_vec().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/wasm"),
    );
    Ok(response)
}

async fn playground_redirect() -> Response {
    let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/playground/"));
    response
}

async fn playground_index() -> Response {
    asset("index.html")
}

async fn playground_file(Path(file): Path<String>) -> Response {
    asset(&file)
}

fn asset(name: &str) -> Response {
    let Some((_, bytes)) = crate::assets::PLAYGROUND.iter().find(|(n, _)| *n == name) else {
        return ApiError::not_found(format!("no playground file {name:?}")).into_response();
    };
    let content_type = match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("wasm") => "application/wasm",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    let mut response = bytes.to_vec().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; worker-src 'self' blob:; connect-src 'self'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
