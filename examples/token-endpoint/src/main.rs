//! `token-endpoint [ADDR]`: serve the demo token endpoint (default 127.0.0.1:8080).

use std::sync::Arc;

use claimscript::Engine;
use claimscript_example_token_endpoint::{Endpoint, demo_key, serve};
use claimscript_issuer::Issuer;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let engine = Engine::new()?;
    let endpoint = Arc::new(Endpoint::demo(&engine, Issuer::new(demo_key()?)).await?);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("token endpoint on http://{addr}: POST /token, GET /.well-known/jwks.json");
    serve(listener, endpoint).await;
    Ok(())
}
