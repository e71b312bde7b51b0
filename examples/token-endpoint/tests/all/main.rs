//! The example token endpoint, served on loopback and called over HTTP.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use claimscript::Engine;
use claimscript_example_token_endpoint::{Endpoint, ISSUER, demo_key, serve};
use claimscript_issuer::Issuer;
use serde_json::Value;

fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect loopback");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).expect("write");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let json = text.split("\r\n\r\n").nth(1).expect("body");
    (status, serde_json::from_str(json).expect("json body"))
}

fn verify(token: &str, jwks: &Value) -> Value {
    let path =
        std::env::temp_dir().join(format!("token-endpoint-jwks-{}.json", std::process::id()));
    std::fs::write(&path, jwks.to_string()).expect("write jwks");
    let verifier = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/verify_jwt.py");
    let out = Command::new("python3")
        .args([
            verifier,
            token,
            "ES256",
            "--jwks",
            &path.display().to_string(),
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_end_to_end() {
    let engine = Engine::new().expect("engine");
    let endpoint = Arc::new(
        Endpoint::demo(&engine, Issuer::new(demo_key().expect("key")))
            .await
            .expect("endpoint"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve(listener, endpoint));

    let call = move |method: &'static str, path: &'static str, body: &'static str| {
        tokio::task::spawn_blocking(move || request(addr, method, path, body))
    };

    let (status, jwks) = call("GET", "/.well-known/jwks.json", "")
        .await
        .expect("jwks");
    assert_eq!(status, 200);

    let (status, body) = call(
        "POST",
        "/token",
        "grant_type=client_credentials&client_id=acme-reports&client_secret=acme-reports-secret",
    )
    .await
    .expect("token");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let verified = verify(body["access_token"].as_str().expect("token"), &jwks);
    assert_eq!(verified["header"]["kid"], "demo-es256");
    assert_eq!(verified["payload"]["tier"], "gold");
    assert_eq!(
        verified["payload"]["iss"], ISSUER,
        "the script cannot forge iss"
    );
    assert_eq!(verified["payload"]["sub"], "acme-reports");

    let (status, body) = call(
        "POST",
        "/token",
        "grant_type=client_credentials&client_id=suspended-app&client_secret=suspended-app-secret",
    )
    .await
    .expect("denied");
    assert_eq!(status, 400);
    assert_eq!(
        body,
        serde_json::json!({"error": "access_denied", "error_description": "This client is suspended."})
    );

    let (status, body) = call(
        "POST",
        "/token",
        "grant_type=client_credentials&client_id=broken-strict&client_secret=broken-strict-secret",
    )
    .await
    .expect("strict");
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    let (status, body) = call(
        "POST",
        "/token",
        "grant_type=client_credentials&client_id=broken-lenient&client_secret=broken-lenient-secret",
    )
    .await
    .expect("lenient");
    assert_eq!(status, 200);
    assert_eq!(body["custom_claims"], false);
    let verified = verify(body["access_token"].as_str().expect("token"), &jwks);
    assert!(verified["payload"].get("region").is_none());

    let (status, body) = call(
        "POST",
        "/token",
        "grant_type=client_credentials&client_id=acme-reports&client_secret=wrong",
    )
    .await
    .expect("bad secret");
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    let (status, body) = call("POST", "/token", "grant_type=password")
        .await
        .expect("grant");
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}
