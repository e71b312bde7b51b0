//! Listening: the accept loop (plain or TLS), graceful shutdown, the file
//! watcher, and signals.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::error::ServeError;
use crate::routes;
use crate::service::Service;

/// How often the OCI scripts' polls are checked.
const REGISTRY_TICK: Duration = Duration::from_millis(250);
/// How long a TLS handshake may take.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A running service: its listeners, its watcher, and the way to stop it.
#[derive(Debug)]
pub struct Server {
    service: Service,
    local_addr: SocketAddr,
    diagnostic_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Service {
    /// The API as an axum [`Router`], to mount in an embedder's own server.
    pub fn router(&self) -> Router {
        routes::router(self.app.clone())
    }

    /// Health and metrics only, without authentication, for a diagnostic
    /// listener.
    pub fn diagnostic_router(&self) -> Router {
        routes::diagnostic_router(self.app.clone())
    }

    /// Listen on the configured addresses (port 0 picks a free one) and
    /// serve until [`Server::shutdown`].
    pub async fn bind(self) -> Result<Server, ServeError> {
        let config = self.config();
        let grace = config.limits.shutdown_grace;
        let (stop, stopped) = watch::channel(false);
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| ServeError::io(format!("cannot listen on {}", config.listen), e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| ServeError::io("cannot read the listen address", e))?;
        let tls = match &self.app.tls {
            Some(resolver) => Some(TlsAcceptor::from(Arc::new(resolver.server_config()?))),
            None => None,
        };
        let mut tasks = vec![tokio::spawn(accept_loop(
            listener,
            self.router(),
            tls,
            stopped.clone(),
            grace,
        ))];
        let mut diagnostic_addr = None;
        if let Some(addr) = config.diagnostic_listen {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| ServeError::io(format!("cannot listen on {addr}"), e))?;
            diagnostic_addr = Some(
                listener
                    .local_addr()
                    .map_err(|e| ServeError::io("cannot read the listen address", e))?,
            );
            tasks.push(tokio::spawn(accept_loop(
                listener,
                self.diagnostic_router(),
                None,
                stopped.clone(),
                grace,
            )));
        }
        if config.scripts.values().any(|s| s.oci.is_some()) {
            let service = self.clone();
            let mut stopped = stopped.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    service.poll_registries().await;
                    tokio::select! {
                        () = tokio::time::sleep(REGISTRY_TICK) => {}
                        _ = stopped.changed() => break,
                    }
                }
            }));
        }
        if let Some(interval) = config.watch_interval {
            let service = self.clone();
            let mut stopped = stopped.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(interval) => {
                            let _ = service.reload_if_changed().await;
                        }
                        _ = stopped.changed() => break,
                    }
                }
            }));
        }
        tracing::info!(
            addr = %local_addr,
            tls = self.app.tls.is_some(),
            "claims service listening"
        );
        Ok(Server {
            service: self,
            local_addr,
            diagnostic_addr,
            stop,
            tasks,
        })
    }
}

impl Server {
    /// The API's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The diagnostic listener's address, when there is one.
    pub fn diagnostic_addr(&self) -> Option<SocketAddr> {
        self.diagnostic_addr
    }

    /// The service.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Stop accepting connections, let requests in flight finish within the
    /// grace period (`shutdown_grace_ms`), and sync the audit log.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.service.flush_audit();
        tracing::info!("claims service stopped");
    }

    /// Serve until SIGTERM or SIGINT, then shut down gracefully; SIGHUP
    /// reloads the config, the scripts and the TLS certificate.
    pub async fn run_until_signal(self) -> Result<(), ServeError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind: SignalKind, name: &str| {
                signal(kind).map_err(|e| ServeError::io(format!("cannot handle {name}"), e))
            };
            let mut term = listen(SignalKind::terminate(), "SIGTERM")?;
            let mut int = listen(SignalKind::interrupt(), "SIGINT")?;
            let mut hup = listen(SignalKind::hangup(), "SIGHUP")?;
            loop {
                tokio::select! {
                    _ = term.recv() => break,
                    _ = int.recv() => break,
                    _ = hup.recv() => {
                        tracing::info!("SIGHUP: reloading");
                        if let Err(e) = self.service.reload().await {
                            tracing::error!(error = %e, "reload failed");
                        }
                    }
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: no new connections, finishing requests in flight");
        self.shutdown().await;
        Ok(())
    }
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    mut stopped: watch::Receiver<bool>,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => {
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    let _ = watcher.watch(conn).await;
                }
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    let Ok(Ok(stream)) = handshake else {
                        return;
                    };
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    let _ = watcher.watch(conn).await;
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_ms = grace.as_millis() as u64, "requests still in flight after the grace period were cut off");
        }
    }
}
