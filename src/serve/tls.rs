//! `serve --tls-cert FILE --tls-key FILE`: HTTPS with rustls (the TLS stack daskctl already
//! carries for Dask's comm). Handshakes run in their own tasks, bounded in time, so a client
//! that stalls in one never holds up the others; only finished handshakes reach axum, through
//! the `Listener` trait axum's `serve` takes. The key is read once into memory and never
//! printed, logged or written anywhere.

use crate::error::{Error, Result};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client gets to finish its handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// The server's TLS settings from a PEM certificate chain and its PEM private key.
pub fn config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>> {
    let read = |p: &Path, what: &str| {
        std::fs::read(p).map_err(|e| Error::Usage(format!("--tls-{what} {}: {e}", p.display())))
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(cert, "cert")?)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::Usage(format!("--tls-cert {}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(Error::Usage(format!(
            "--tls-cert {}: no PEM certificate in it",
            cert.display()
        )));
    }
    // the error names the file, never its content
    let key = PrivateKeyDer::from_pem_slice(&read(key, "key")?).map_err(|_| {
        Error::Usage(format!(
            "--tls-key {}: no PEM private key in it (PKCS#8, PKCS#1 or SEC1)",
            key.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut c = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Usage(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| Error::Usage(format!("--tls-cert/--tls-key: {e}")))?;
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(c))
}

/// Accepted connections whose handshake finished.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let accepting = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        // out of descriptors and the like: as axum's own listener does
                        tracing::debug!("serve: accept: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!("serve: TLS handshake with {peer}: {e}"),
                        Err(_) => tracing::debug!("serve: TLS handshake with {peer} timed out"),
                    }
                });
            }
        });
        Ok(TlsListener {
            rx,
            local,
            accepting,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            // the accepting task ended (it never does on its own): no more connections
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
