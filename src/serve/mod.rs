//! `daskctl serve`: a small HTTP server over the latest discovery. A background task lists every
//! enabled backend each `--interval`, under the per-backend deadlines, and swaps the snapshot in;
//! requests only read the snapshot, so a slow backend never blocks the page or a scrape.
//!
//! Routes: `/`, `/app.js`, `/app.css` the page's static shell (no data, no token: `page.rs`);
//! behind the token (`auth.rs`, only ever the Authorization header) `/api/view` what the page
//! shows, `/api/clusters` the `list -o json` schema, `/api/usage`, `/metrics` Prometheus text
//! (`metrics.rs`), `POST /api/act` scale and delete (two steps: the first asks and answers a
//! tag bound to the question, the second acts: `act.rs`, `tag.rs`). Every answer carries the
//! headers of `headers.rs`; connections are bounded in number and time (`conn.rs`).

mod act;
mod auth;
mod conn;
mod headers;
pub mod metrics;
mod page;
mod tag;
mod tls;

use crate::backends::Context;
use crate::discovery::{enabled_backends, fan_out};
use crate::error::{Error, Result};
use crate::model::Cluster;
use axum::Router;
use axum::routing::{get, post};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

pub use auth::Token;

/// What the server was started with.
pub struct Options {
    pub bind: std::net::SocketAddr,
    pub interval: Duration,
    pub deadline: Duration,
    pub read_only: bool,
    pub token: Token,
    /// HTTPS with this certificate chain and key (PEM files).
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// The latest discovery.
#[derive(Clone, Default)]
pub struct Snapshot {
    pub clusters: Vec<Cluster>,
    /// Each enabled backend that could be asked: whether its last discovery succeeded.
    pub backends: Vec<(String, bool)>,
    pub warnings: Vec<String>,
    /// When it was taken (None: not yet).
    pub taken: Option<SystemTime>,
}

pub struct Server {
    pub ctx: Arc<Context>,
    pub opts: Options,
    pub snapshot: RwLock<Arc<Snapshot>>,
    /// What binds a confirmation to its question (a key drawn at start).
    pub tags: tag::Tags,
}

impl Server {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().expect("not poisoned").clone()
    }

    /// One discovery of every enabled backend, swapped in whole.
    pub async fn refresh(&self) {
        let backends = match enabled_backends(&self.ctx, &[]) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("serve: {e}");
                return;
            }
        };
        let mut out = fan_out(&backends, self.opts.deadline).await;
        crate::discovery::keep_in_scope(&self.ctx, &backends, &mut out.clusters);
        let snap = Snapshot::of(&backends, out);
        *self.snapshot.write().expect("not poisoned") = Arc::new(snap);
    }
}

impl Snapshot {
    /// What a discovery of `backends` found, taken now.
    pub fn of(
        backends: &[Arc<dyn crate::backends::Backend>],
        out: crate::discovery::Outcome,
    ) -> Snapshot {
        let up = backends
            .iter()
            .filter(|b| matches!(b.availability(), crate::backends::Availability::Ready))
            .map(|b| {
                let failed = out
                    .warnings
                    .iter()
                    .any(|w| w.starts_with(&format!("{}:", b.name())));
                (b.name().to_string(), !failed)
            })
            .collect();
        Snapshot {
            clusters: out.clusters,
            backends: up,
            warnings: out.warnings,
            taken: Some(SystemTime::now()),
        }
    }
}

pub fn router(server: Arc<Server>) -> Router {
    let api = Router::new()
        .route("/api/view", get(page::view))
        .route("/api/act", post(act::act))
        .route("/api/clusters", get(page::api_clusters))
        .route("/api/usage", get(page::api_usage))
        .route("/metrics", get(metrics::metrics))
        .layer(axum::middleware::from_fn_with_state(
            server.clone(),
            auth::require,
        ));
    Router::new()
        .route("/", get(page::shell))
        .route("/app.js", get(page::script))
        .route("/app.css", get(page::style))
        .merge(api)
        .layer(axum::middleware::from_fn_with_state(
            server.clone(),
            headers::secure,
        ))
        .with_state(server)
}

/// Returns the memory a discovery freed to the system: the allocator keeps the pages of a large
/// queue's listing otherwise, and serve's resident size would stay at its peak for good.
fn give_back_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free heap pages; no pointer is touched
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Serves until Ctrl-C or SIGTERM; discovery runs in the background meanwhile.
pub async fn run(ctx: Arc<Context>, opts: Options, out: &crate::printer::Printer) -> Result<()> {
    // the certificate and key are checked before anything listens
    let tls = match &opts.tls {
        Some((cert, key)) => Some(tls::config(cert, key)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(opts.bind)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => Error::Usage(format!(
                "--bind {}: the address is already in use",
                opts.bind
            )),
            _ => Error::io(format!("listening on {}", opts.bind), e),
        })?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::io("reading the bound address", e))?;
    if !local.ip().is_loopback() && tls.is_none() {
        out.warn(&format!(
            "serving on {local}, beyond this machine, over plain HTTP: the token crosses the \
             network unencrypted"
        ));
    }
    let server = Arc::new(Server {
        ctx,
        opts,
        snapshot: RwLock::new(Arc::new(Snapshot::default())),
        tags: tag::Tags::new()?,
    });
    let scheme = if tls.is_some() { "https" } else { "http" };
    match &server.opts.token {
        Token::Generated(t) => out.info(&format!(
            "daskctl serve: {scheme}://{local}/#token={t} (the page keeps the token for its \
             tab; scripts send it as Authorization: Bearer)"
        )),
        Token::Given(_) => out.info(&format!(
            "daskctl serve: {scheme}://{local}/ (the page asks for the token in \
             DASKCTL_SERVE_TOKEN; scripts send it as Authorization: Bearer)"
        )),
    }
    let background = {
        let s = server.clone();
        tokio::spawn(async move {
            loop {
                s.refresh().await;
                give_back_memory();
                tokio::time::sleep(s.opts.interval).await;
            }
        })
    };
    use tokio::signal::unix::{SignalKind, signal};
    let io = |e| Error::io("listening for Ctrl-C", e);
    let mut int = signal(SignalKind::interrupt()).map_err(io)?;
    let mut term = signal(SignalKind::terminate()).map_err(io)?;
    let stop = async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    };
    conn::serve(listener, tls, router(server), stop).await;
    background.abort();
    Ok(())
}
