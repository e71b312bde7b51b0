//! Fault injection for fetch: servers on loopback that misbehave in the ways
//! real networks and hostile services do, and a fake resolver path. Each
//! fault must end the fetch within the run's limits, with a message that
//! names the fault and a record of its kind. (`server::misbehaving` has the
//! basic faults; the ones here need a server that keeps writing, resets
//! later, or speaks TLS.)

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use claimscript::{
    Engine, EngineConfig, FetchFailure, FetchFailureKind, FetchGrants, Grants, GuardedClient,
    Outbound, OutboundFuture, Outcome, RunReport,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::server::{self, Server};
use crate::{compile, example_input};

/// The run's wall-clock limit in these tests, and the fetch grant's.
const RUN_TIMEOUT_MS: u64 = 3_000;
const FETCH_TIMEOUT_MS: u64 = 400;

/// Fetch `${BASE}/x`, read the body as text, and report what arrived or the
/// error the script caught.
const SCRIPT: &str = "const getCustomJwtClaims = async ({ environmentVariables }) => {
  try {
    const r = await fetch(`${environmentVariables.BASE}/x`);
    const text = await r.text();
    return { status: r.status, length: text.length, encoding: r.headers.get('content-encoding') };
  } catch (e) {
    return { error: e.name, message: e.message };
  }
};";

fn grants_for(base: &str) -> Grants {
    let mut fetch = FetchGrants::allowing([base]).expect("pattern");
    fetch.timeout_ms = FETCH_TIMEOUT_MS;
    Grants::default()
        .with_timeout_ms(RUN_TIMEOUT_MS)
        .with_fetch(fetch)
}

/// What a faulty fetch gave: the claims the script returned, the record's
/// failure kind and detail, and how long the run took.
struct Faulted {
    claims: Value,
    kind: Option<FetchFailureKind>,
    record: Value,
    elapsed: Duration,
}

impl Faulted {
    fn message(&self) -> &str {
        self.claims["message"]
            .as_str()
            .unwrap_or_else(|| panic!("the fetch did not fail: {}", self.claims))
    }

    /// The record's detail is the script's message, without `fetch
    /// failed: ` (for faults whose text is all the host's own words).
    fn assert_detail_is_the_message(&self) {
        assert_eq!(
            self.record["detail"].as_str(),
            self.message().strip_prefix("fetch failed: "),
            "{}",
            self.record
        );
    }
}

async fn run_at(base: &str, script: &claimscript::Script) -> Faulted {
    let input = example_input("rbac").with_env("BASE", base);
    let started = Instant::now();
    let report: RunReport = script
        .run(&input, &grants_for(base))
        .await
        .expect("run starts");
    let elapsed = started.elapsed();
    let claims = match &report.outcome {
        Outcome::Claims { claims, .. } => Value::Object(claims.clone()),
        other => panic!("expected claims, got {other:?}"),
    };
    let refused = report.stats.fetches.first().and_then(|f| f.refused.clone());
    Faulted {
        claims,
        kind: refused.as_ref().map(|r| r.kind),
        record: json!(refused),
        elapsed,
    }
}

/// The fault at `server`, fetched over plain HTTP. The run ending with
/// claims (`run_at` insists) is the proof it ended within its limits: over
/// its `timeout_ms` it would have ended with `timeout` instead.
async fn fault(server: &Server) -> Faulted {
    let script = compile(SCRIPT).await;
    run_at(&server.base(), &script).await
}

/// A raw TCP server on 127.0.0.1: once a connection has sent its first
/// byte, `behave` gets the stream.
async fn raw<F, Fut>(behave: F) -> Server
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let behave = Arc::new(behave);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let behave = behave.clone();
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                if stream.read_exact(&mut first).await.is_err() {
                    return;
                }
                behave(stream).await;
            });
        }
    });
    Server { addr }
}

#[tokio::test]
async fn a_reset_during_the_headers_is_a_lost_connection() {
    let server = server::misbehaving(server::Fault::ResetMidHeaders).await;
    let f = fault(&server).await;
    assert!(
        f.message().starts_with("fetch failed: connection lost: ")
            && f.message().to_lowercase().contains("reset")
            && f.message()
                .ends_with(", before the response head was complete"),
        "{}",
        f.message()
    );
    assert_eq!(f.record["detail"], "connection lost: connection reset");
    assert_eq!(
        f.kind,
        Some(FetchFailureKind::ConnectionLost),
        "{}",
        f.record
    );
}

#[tokio::test]
async fn a_reset_during_the_body_is_a_lost_connection() {
    let server = raw(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\nfirst bytes of the body")
            .await;
        let _ = stream.flush().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = stream.set_zero_linger();
        drop(stream);
    })
    .await;
    let f = fault(&server).await;
    assert!(
        f.message().starts_with("fetch failed: connection lost: ")
            && f.message().to_lowercase().contains("reset")
            && f.message().ends_with(", while reading the response body"),
        "{}",
        f.message()
    );
    assert_eq!(f.record["detail"], "connection lost: connection reset");
    assert_eq!(
        f.kind,
        Some(FetchFailureKind::ConnectionLost),
        "{}",
        f.record
    );
}

#[tokio::test]
async fn headers_that_never_finish_time_out() {
    // A header line every 50 ms, forever (a slowloris answer).
    let server = raw(|mut stream| async move {
        if stream.write_all(b"HTTP/1.1 200 OK\r\n").await.is_err() {
            return;
        }
        for i in 0u64.. {
            let line = format!("x-slow-{i}: still coming\r\n");
            if stream.write_all(line.as_bytes()).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let f = fault(&server).await;
    assert_eq!(
        f.message(),
        format!("fetch failed: timeout: no complete response within {FETCH_TIMEOUT_MS} ms")
    );
    assert_eq!(f.kind, Some(FetchFailureKind::Timeout), "{}", f.record);
    f.assert_detail_is_the_message();
    assert!(f.elapsed >= Duration::from_millis(FETCH_TIMEOUT_MS));
}

#[tokio::test]
async fn an_endless_chunked_body_is_too_large() {
    let server = raw(|mut stream| async move {
        if stream
            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
        let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
        chunk.extend_from_slice(&[b'z'; 64 * 1024]);
        chunk.extend_from_slice(b"\r\n");
        while stream.write_all(&chunk).await.is_ok() {}
    })
    .await;
    let f = fault(&server).await;
    let max = Grants::default()
        .fetch
        .map_or(FetchGrants::default().max_response_bytes, |g| {
            g.max_response_bytes
        });
    assert_eq!(
        f.message(),
        format!("fetch failed: response too large: the body is over max_response_bytes = {max}")
    );
    assert_eq!(f.kind, Some(FetchFailureKind::TooLarge), "{}", f.record);
    f.assert_detail_is_the_message();
}

#[tokio::test]
async fn ten_megabytes_of_headers_are_too_large() {
    let server = raw(|mut stream| async move {
        if stream.write_all(b"HTTP/1.1 200 OK\r\n").await.is_err() {
            return;
        }
        let mut line = b"x-filler: ".to_vec();
        line.extend_from_slice(&[b'h'; 8 * 1024]);
        line.extend_from_slice(b"\r\n");
        let mut sent = 0usize;
        while sent < 10 << 20 {
            if stream.write_all(&line).await.is_err() {
                return;
            }
            sent += line.len();
        }
        let _ = stream.write_all(b"content-length: 0\r\n\r\n").await;
    })
    .await;
    let f = fault(&server).await;
    assert_eq!(
        f.message(),
        format!(
            "fetch failed: response too large: the status line and headers are over {} bytes or 100 lines",
            claimscript::MAX_RESPONSE_HEAD_BYTES
        )
    );
    assert_eq!(f.kind, Some(FetchFailureKind::TooLarge), "{}", f.record);
    f.assert_detail_is_the_message();
}

#[tokio::test]
async fn a_malformed_status_line_is_a_protocol_fault() {
    for (reply, expected) in [
        (
            &b"HTTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n"[..],
            "fetch failed: malformed response: invalid status line",
        ),
        (
            &b"HTTP/1.1 99999999999 OK\r\ncontent-length: 0\r\n\r\n"[..],
            "fetch failed: malformed response: invalid status line",
        ),
        (
            &b"hello from 1991\r\n"[..],
            "fetch failed: malformed response: not HTTP/1.x (an HTTP/0.9 reply or garbage)",
        ),
    ] {
        let server = raw(move |mut stream| async move {
            let _ = stream.write_all(reply).await;
            let _ = stream.shutdown().await;
        })
        .await;
        let f = fault(&server).await;
        assert_eq!(
            f.message(),
            expected,
            "for {:?}",
            String::from_utf8_lossy(reply)
        );
        assert_eq!(f.kind, Some(FetchFailureKind::Protocol), "{}", f.record);
        f.assert_detail_is_the_message();
    }
}

/// CRC-32 (IEEE), bitwise: only for the gzip trailer below.
fn crc32_of_zeros(len: usize) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for _ in 0..len {
        crc ^= 0;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A gzip member that inflates to `len` zero bytes: one fixed-Huffman
/// deflate block of a literal 0 then (length 258, distance 1) matches, 13
/// bits per 258 bytes (a 100 MB bomb is about 630 KB).
fn gzip_bomb(len: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        /// Append `count` bits of `value`, least significant first.
        fn put(&mut self, value: u64, count: u32) {
            self.acc |= value << self.n;
            self.n += count;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// Append a Huffman code, most significant bit first.
        fn code(&mut self, code: u64, count: u32) {
            let mut reversed = 0;
            for i in 0..count {
                reversed |= ((code >> i) & 1) << (count - 1 - i);
            }
            self.put(reversed, count);
        }
    }
    assert!(len >= 1 && (len - 1).is_multiple_of(258), "len = 1 + 258 k");
    let mut bits = Bits {
        out: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff],
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE = fixed Huffman
    bits.code(0x30, 8); // literal 0
    for _ in 0..(len - 1) / 258 {
        bits.code(0xc5, 8); // length code 285: 258
        bits.code(0, 5); // distance code 0: 1
    }
    bits.code(0, 7); // end of block
    if bits.n > 0 {
        bits.put(0, 8 - bits.n);
    }
    let mut out = bits.out;
    out.extend_from_slice(&crc32_of_zeros(len).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out
}

#[tokio::test]
async fn a_gzip_bomb_is_not_inflated() {
    // fetch does not decompress: the script gets the bytes as sent (as with
    // `content-encoding` it did not ask for), so a bomb stays its own size
    // and `max_response_bytes` applies to what crossed the wire.
    let inflated = 1 + 258 * 400_000; // about 100 MB of zeros
    let bomb = Arc::new(gzip_bomb(inflated));
    let sent = bomb.len();
    assert!(sent < 700_000, "{sent}");
    let server = raw(move |mut stream| {
        let bomb = bomb.clone();
        async move {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n",
                bomb.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&bomb).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
    .await;
    let script = compile(
        "const getCustomJwtClaims = async ({ environmentVariables }) => {
           const r = await fetch(`${environmentVariables.BASE}/x`);
           const bytes = new Uint8Array(await r.arrayBuffer());
           return { status: r.status, bytes: bytes.length, magic: [bytes[0], bytes[1]],
                    encoding: r.headers.get('content-encoding') };
         };",
    )
    .await;
    let f = run_at(&server.base(), &script).await;
    assert_eq!(
        f.claims,
        json!({"status": 200, "bytes": sent, "magic": [0x1f, 0x8b], "encoding": "gzip"})
    );
    assert_eq!(f.kind, None);
}

/// A TLS server on 127.0.0.1 with a fresh self-signed certificate; counts
/// the handshakes it was asked for.
async fn self_signed_tls() -> (Server, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio_rustls::rustls;
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("self-signed certificate");
    let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der())
        .expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let handshakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let _ = tls
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                }
            });
        }
    });
    (Server { addr }, handshakes)
}

/// `https://127.0.0.1:PORT` for a server, explicitly granted by `run_at`.
fn https_base(server: &Server) -> String {
    format!("https://127.0.0.1:{}", server.addr.port())
}

#[tokio::test]
async fn a_self_signed_certificate_fails_the_tls_handshake() {
    let (server, handshakes) = self_signed_tls().await;
    let script = compile(SCRIPT).await;
    let f = run_at(&https_base(&server), &script).await;
    assert_eq!(
        f.message(),
        "fetch failed: TLS handshake failed: the server's certificate is not trusted: \
         its issuer is unknown, as for a self-signed certificate \
         (invalid peer certificate: UnknownIssuer)"
    );
    assert_eq!(f.kind, Some(FetchFailureKind::Tls), "{}", f.record);
    assert_eq!(
        f.record["detail"],
        "TLS handshake failed: the server's certificate is not trusted: \
         its issuer is unknown, as for a self-signed certificate"
    );
    assert_eq!(handshakes.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn https_to_a_plain_http_server_fails_the_tls_handshake() {
    // The server answers the ClientHello with an HTTP/1.1 response.
    let server = raw(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await;
        let _ = stream.shutdown().await;
    })
    .await;
    let script = compile(SCRIPT).await;
    let f = run_at(&https_base(&server), &script).await;
    assert!(
        f.message().starts_with(
            "fetch failed: TLS handshake failed: the server does not speak TLS as expected (a plain HTTP server?) ("
        ),
        "{}",
        f.message()
    );
    assert_eq!(f.kind, Some(FetchFailureKind::Tls), "{}", f.record);
    assert_eq!(
        f.record["detail"],
        "TLS handshake failed: the server does not speak TLS as expected (a plain HTTP server?)"
    );
}

#[tokio::test]
async fn a_server_that_closes_during_the_handshake_fails_it() {
    // The ClientHello's first byte arrives, then the connection closes.
    let server = raw(|mut stream| async move {
        let _ = stream.shutdown().await;
    })
    .await;
    let script = compile(SCRIPT).await;
    let f = run_at(&https_base(&server), &script).await;
    assert!(
        f.message().starts_with(
            "fetch failed: TLS handshake failed: the server closed the connection during the handshake ("
        ) || f.message().starts_with(
            "fetch failed: TLS handshake failed: the connection was reset during the handshake ("
        ),
        "{}",
        f.message()
    );
    assert_eq!(f.kind, Some(FetchFailureKind::Tls), "{}", f.record);
    let detail = f.record["detail"].as_str().unwrap_or_default();
    assert!(
        f.message()
            .starts_with(&format!("fetch failed: {detail} (")),
        "{}: {}",
        f.message(),
        f.record
    );
}

/// A resolver that finds nothing: every request fails as a failed DNS
/// lookup would, before any connection (and without a query leaving the
/// machine). It is injected through the engine's outbound seam, which
/// receives each admitted request before the connector resolves it.
#[derive(Debug, Default)]
struct NoSuchHost {
    asked: std::sync::atomic::AtomicUsize,
}

impl Outbound for NoSuchHost {
    fn send<'a>(
        &'a self,
        request: http::Request<Bytes>,
        _client: &'a GuardedClient,
    ) -> OutboundFuture<'a> {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let host = request.uri().host().unwrap_or_default().to_string();
        Box::pin(async move {
            Err(FetchFailure::Dns(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("injected resolver: no address for {host}"),
            )))
        })
    }
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_a_dns_failure() {
    let resolver = Arc::new(NoSuchHost::default());
    let mut config = EngineConfig::default();
    config.max_concurrent_runs = 4;
    config.outbound = Some(resolver.clone());
    let engine = Engine::with_config(config).expect("engine");
    let script = engine.compile(SCRIPT).await.expect("compile");
    let base = "http://no-such-host.claimscript.test";
    let f = run_at(base, &script).await;
    assert_eq!(
        f.message(),
        "fetch failed: DNS lookup failed: injected resolver: no address for no-such-host.claimscript.test"
    );
    assert_eq!(f.kind, Some(FetchFailureKind::Dns), "{}", f.record);
    assert!(
        !f.record.to_string().contains("no-such-host"),
        "the record keeps no host name: {}",
        f.record
    );
    assert_eq!(resolver.asked.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn the_gzip_bomb_is_a_valid_gzip_of_zeros() {
    // The header, one fixed block, and the trailer: CRC-32 of the zeros and
    // their length (so a client that did inflate it would get 100 MB).
    let bomb = gzip_bomb(1 + 258 * 4);
    assert_eq!(&bomb[..3], &[0x1f, 0x8b, 8]);
    let n = bomb.len();
    assert_eq!(
        u32::from_le_bytes(bomb[n - 4..].try_into().expect("4")),
        1 + 258 * 4
    );
    assert_eq!(crc32_of_zeros(4), 0x2144_df1c);
}
