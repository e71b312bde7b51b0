//! A loopback HTTP server for fetch tests. It listens on 127.0.0.1 only and
//! stops with the test's runtime.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::sync::Barrier;

pub struct Server {
    pub addr: SocketAddr,
}

impl Server {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

struct Shared {
    barrier: Barrier,
}

/// Start the server on 127.0.0.1:0 (or `addr`).
pub async fn start() -> Server {
    start_on("127.0.0.1:0").await
}

pub async fn start_on(addr: &str) -> Server {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let shared = Arc::new(Shared {
        barrier: Barrier::new(2),
    });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req| handle(req, shared.clone(), addr));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server { addr }
}

fn reply(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-Custom-Reply", "yes")
        .body(Full::new(body.into()))
        .expect("response")
}

fn redirect(to: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(302)
        .header("location", to)
        .body(Full::new(Bytes::new()))
        .expect("redirect")
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    addr: SocketAddr,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let method = req.method().to_string();
    let headers: serde_json::Map<String, serde_json::Value> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), json!(String::from_utf8_lossy(v.as_bytes()))))
        .collect();
    let query = req.uri().query().unwrap_or("").to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let response = match path.as_str() {
        p if p.starts_with("/balance/") => {
            let auth = headers.get("authorization").and_then(|v| v.as_str()).unwrap_or("");
            if auth != "Bearer balance-secret-key" {
                reply(401, "application/json", r#"{"error":"unauthorized"}"#)
            } else {
                let balance = if p.ends_with("/broke") { 0 } else { 42 };
                reply(200, "application/json", json!({"balance": balance}).to_string())
            }
        }
        "/echo" => reply(
            200,
            "application/json",
            json!({"method": method, "headers": headers, "body": String::from_utf8_lossy(&body), "query": query})
                .to_string(),
        ),
        "/text" => reply(200, "text/plain", "this is not JSON"),
        // examples/loginradius-roles' authorization service.
        "/permissions" => {
            let auth = headers.get("authorization").and_then(|v| v.as_str()).unwrap_or("");
            if auth != "Bearer example-token" {
                reply(401, "application/json", r#"{"error":"unauthorized"}"#)
            } else {
                let permissions = if query.contains("role=admin") {
                    json!(["read:reports", "write:reports", "manage:users"])
                } else {
                    json!(["read:reports"])
                };
                reply(200, "application/json", json!({"permissions": permissions, "query": query}).to_string())
            }
        }
        // A body carrying a secret, for the audit trail's redaction tests.
        "/secret" => reply(
            200,
            "application/json",
            json!({"apiSecret": "RESPONSE-SECRET-Zq81xP", "note": "from the service"}).to_string(),
        ),
        // A session token in a response header, for the same tests.
        "/session" => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("x-session-token", "SESSION-SECRET-Ua62Nd")
            .body(Full::new(Bytes::from_static(b"{}")))
            .expect("response"),
        "/delay" => {
            let ms = query
                .strip_prefix("ms=")
                .and_then(|v| v.parse().ok())
                .unwrap_or(20);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            reply(200, "application/json", r#"{"late":true}"#)
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(2_000)).await;
            reply(200, "text/plain", "late")
        }
        "/big" => reply(200, "application/octet-stream", vec![b'x'; 2 << 20]),
        "/redirect-in" => redirect("/echo".into()),
        "/redirect-out" => redirect(format!("http://localhost:{}/echo", addr.port())),
        "/redirect-loop" => redirect("/redirect-loop".into()),
        "/redirect-credentials" => redirect(format!(
            "http://user:hunter2pass@127.0.0.1:{}/echo",
            addr.port()
        )),
        "/barrier" => {
            // Answers once two requests are here at the same time: proof
            // that the script's fetches overlap. Gives up after 5 s.
            let together = tokio::time::timeout(Duration::from_secs(5), shared.barrier.wait()).await.is_ok();
            reply(200, "application/json", json!({"together": together}).to_string())
        }
        _ => reply(404, "text/plain", "not found"),
    };
    Ok(response)
}

/// How a [`misbehaving`] server answers every request.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Half a header line, then a TCP reset.
    ResetMidHeaders,
    /// A status line whose code is not a number.
    GarbageStatusLine,
    /// A reply with no status line at all (as an HTTP/0.9 server sends).
    Http09,
    /// A valid status line, then 200 KB of headers.
    HugeHeaders,
    /// Headers announcing 100 body bytes, 5 of them, then the close.
    ShortBody,
}

/// A raw TCP server on 127.0.0.1 that reads (part of) each request and
/// answers it with `fault`: what no real HTTP library would send.
pub async fn misbehaving(fault: Fault) -> Server {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                // Wait for the request to arrive, without reading all of it.
                let mut first = [0u8; 1];
                if stream.read_exact(&mut first).await.is_err() {
                    return;
                }
                let reply: Vec<u8> = match fault {
                    Fault::ResetMidHeaders => b"HTTP/1.1 200 OK\r\nContent-Ty".to_vec(),
                    Fault::GarbageStatusLine => {
                        b"HTTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n".to_vec()
                    }
                    Fault::Http09 => b"hello from 1991\r\n".to_vec(),
                    Fault::HugeHeaders => {
                        let mut reply = b"HTTP/1.1 200 OK\r\n".to_vec();
                        for i in 0..50 {
                            reply.extend_from_slice(format!("x-filler-{i}: ").as_bytes());
                            reply.extend_from_slice(&[b'f'; 4000]);
                            reply.extend_from_slice(b"\r\n");
                        }
                        reply.extend_from_slice(b"content-length: 0\r\n\r\n");
                        reply
                    }
                    Fault::ShortBody => {
                        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort".to_vec()
                    }
                };
                let _ = stream.write_all(&reply).await;
                let _ = stream.flush().await;
                match fault {
                    Fault::ResetMidHeaders => {
                        // SO_LINGER 0: closing sends RST, not FIN.
                        let _ = stream.set_zero_linger();
                        drop(stream);
                    }
                    Fault::ShortBody | Fault::Http09 => {
                        let _ = stream.shutdown().await;
                    }
                    // Keep the connection open: the client gives up first.
                    Fault::GarbageStatusLine | Fault::HugeHeaders => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                }
            });
        }
    });
    Server { addr }
}
