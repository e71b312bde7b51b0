//! A small OAuth 2.0 token endpoint that embeds Claimscript: `POST /token`
//! with `grant_type=client_credentials` for a client of a static table runs
//! that client's claims script and answers a signed JWT, or the OAuth error
//! the script's outcome maps to.
#![deny(missing_docs)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use claimscript::{BoundScript, Engine, FailurePolicy, Grants, TokenKind};
use claimscript_issuer::{Issuer, SigningKey, TokenRequest, issue};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;

/// The issuer URL put in `iss`.
pub const ISSUER: &str = "https://id.acme.test";
/// Token lifetime.
const EXPIRES_IN: u64 = 3600;

/// One registered client.
#[derive(Debug)]
pub struct Client {
    secret: String,
    script: BoundScript,
}

/// The endpoint's state: clients and the issuer.
#[derive(Debug)]
pub struct Endpoint {
    clients: HashMap<String, Client>,
    issuer: Issuer,
}

impl Endpoint {
    /// The demo table: `acme-reports` (tier claim), `suspended-app` (denied),
    /// `broken-strict` and `broken-lenient` (a script that throws, under each
    /// failure policy). Scripts come from `scripts/` beside this crate.
    pub async fn demo(engine: &Engine, issuer: Issuer) -> anyhow::Result<Endpoint> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts");
        let load = |name: &str| std::fs::read_to_string(format!("{dir}/{name}.js"));
        let tier = engine.compile(&load("tier")?).await?;
        let suspended = engine.compile(&load("suspended")?).await?;
        let broken = engine.compile(&load("broken")?).await?;
        let grants = Grants::default();
        let mut clients = HashMap::new();
        let mut add = |id: &str, script: BoundScript| {
            clients.insert(
                id.to_string(),
                Client {
                    secret: format!("{id}-secret"),
                    script,
                },
            );
        };
        add(
            "acme-reports",
            BoundScript::new(tier, grants.clone()).with_env("TIER", "gold"),
        );
        add("suspended-app", BoundScript::new(suspended, grants.clone()));
        add(
            "broken-strict",
            BoundScript::new(broken.clone(), grants.clone()),
        );
        add(
            "broken-lenient",
            BoundScript::new(broken, grants).with_failure_policy(FailurePolicy::IssueWithoutClaims),
        );
        Ok(Endpoint { clients, issuer })
    }

    /// Answer one `/token` form body.
    pub async fn token(&self, form: &str) -> (u16, Value) {
        let params: HashMap<String, String> = url::form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
        let oauth = |status: u16, error: &str, description: &str| {
            (
                status,
                json!({ "error": error, "error_description": description }),
            )
        };
        if params.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return oauth(
                400,
                "unsupported_grant_type",
                "only client_credentials is supported",
            );
        }
        let id = params.get("client_id").map(String::as_str).unwrap_or("");
        let client = match self.clients.get(id) {
            Some(c) if params.get("client_secret") == Some(&c.secret) => c,
            _ => return oauth(401, "invalid_client", "unknown client or wrong secret"),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let base: Map<String, Value> = json!({
            "iss": ISSUER, "sub": id, "aud": "https://api.acme.test", "client_id": id,
            "iat": now, "exp": now + EXPIRES_IN, "jti": format!("{id}-{now}"), "scope": "read:reports",
        })
        .as_object()
        .cloned()
        .unwrap_or_default();
        let context = json!({ "application": { "id": id, "name": id } })
            .as_object()
            .cloned();
        let mut request = TokenRequest::new(TokenKind::ClientCredentials, base);
        request.context = context;
        match issue(&client.script, &self.issuer, request).await {
            Ok(issued) => (
                200,
                json!({
                    "access_token": issued.access_token.compact,
                    "token_type": "Bearer",
                    "expires_in": EXPIRES_IN,
                    "custom_claims": issued.custom_claims,
                }),
            ),
            Err(e) => {
                let error = e.oauth();
                (error.status, error.to_json())
            }
        }
    }

    /// The issuer's JWKS.
    pub fn jwks(&self) -> Value {
        self.issuer.jwks()
    }
}

/// Serve `POST /token` and `GET /.well-known/jwks.json` on `listener` until
/// the task is dropped.
pub async fn serve(listener: TcpListener, endpoint: Arc<Endpoint>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let endpoint = endpoint.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, endpoint.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    req: Request<Incoming>,
    endpoint: Arc<Endpoint>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let route = (
        req.method().as_str().to_string(),
        req.uri().path().to_string(),
    );
    let (status, body) = match (route.0.as_str(), route.1.as_str()) {
        ("POST", "/token") => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            endpoint.token(&String::from_utf8_lossy(&body)).await
        }
        ("GET", "/.well-known/jwks.json") => (200, endpoint.jwks()),
        _ => (404, json!({ "error": "not_found" })),
    };
    let response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body.to_string())));
    Ok(response.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

/// The signing key the demo uses: an ES256 key read from `$TOKEN_KEY_PEM`
/// (a file), or a fresh one.
pub fn demo_key() -> anyhow::Result<SigningKey> {
    let pem = match std::env::var("TOKEN_KEY_PEM") {
        Ok(path) => std::fs::read(&path)?,
        Err(_) => claimscript_issuer::generate_key(claimscript_issuer::SigningAlgorithm::ES256)
            .map_err(anyhow::Error::msg)?
            .private_pem
            .into_bytes(),
    };
    Ok(
        SigningKey::from_pem(claimscript_issuer::SigningAlgorithm::ES256, &pem)
            .map_err(anyhow::Error::msg)?
            .with_kid("demo-es256"),
    )
}
