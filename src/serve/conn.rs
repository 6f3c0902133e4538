//! Accepting connections, bounded: at most `MAX_CONNECTIONS` open at once (one more is closed
//! at once rather than queued, so a flood of idle sockets costs a file descriptor for a moment,
//! never memory or a task that waits forever), a TLS handshake within `HANDSHAKE`, and a
//! request's headers within `HEADER_READ` (hyper's `header_read_timeout`, which also bounds the
//! idle time between requests of a kept-alive connection). Half-open or idle connections are
//! therefore closed by the server, and serve answers again once they are, whoever holds them.
//! On Ctrl-C or SIGTERM nothing new is accepted and requests under way (a delete waiting for
//! its cluster to be gone) may finish within `DRAIN`.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;

pub const MAX_CONNECTIONS: usize = 256;
pub const HEADER_READ: Duration = Duration::from_secs(10);
pub const HANDSHAKE: Duration = Duration::from_secs(10);
const DRAIN: Duration = Duration::from_secs(150);

/// Serves `app` on `listener` (over TLS with `tls`) until `stop` completes.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    app: Router,
    stop: impl std::future::Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // out of descriptors and the like: as axum's own listener does
                    tracing::debug!("serve: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!("serve: {MAX_CONNECTIONS} connections open: closing {peer}'s");
            continue;
        };
        let (app, watcher) = (app.clone(), graceful.watcher());
        match &acceptor {
            None => {
                tokio::spawn(one(tcp, app, watcher, permit));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => one(tls, app, watcher, permit).await,
                        Ok(Err(e)) => tracing::debug!("serve: TLS handshake with {peer}: {e}"),
                        Err(_) => tracing::debug!("serve: TLS handshake with {peer} timed out"),
                    }
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("serve: requests still under way after {DRAIN:?}: stopping anyway");
    }
}

/// One connection, holding its permit until it is closed.
async fn one<IO>(io: IO, app: Router, watcher: Watcher, permit: OwnedSemaphorePermit)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ)
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!("serve: connection: {e}");
    }
    drop(permit);
}
