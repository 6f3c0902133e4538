//! `serve --tls-cert FILE --tls-key FILE`: HTTPS with rustls (the TLS stack daskctl already
//! carries for Dask's comm). Handshakes run in each connection's own task, bounded in time
//! (`conn.rs`), so a client that stalls in one never holds up the others. The key is read once
//! into memory and never printed, logged or written anywhere.

use crate::error::{Error, Result};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

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
