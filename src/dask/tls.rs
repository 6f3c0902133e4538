//! TLS for `tls://` schedulers, configured the way Dask configures its own clients
//! (distributed/security.py): CA from `distributed.comm.tls.ca-file`, client certificate and key
//! from `distributed.comm.tls.client.{cert,key}` (the key may be appended to the cert file;
//! each may be a path or inline PEM). Dask dedicates a CA to the cluster and addresses are
//! usually IPs, so it verifies the chain but not the host name (`check_hostname = False`);
//! daskctl does the same.

use super::daskconfig::DaskConfig;
use crate::error::{Error, Result};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::sync::Arc;

pub fn client_config(cfg: &DaskConfig) -> Result<Arc<ClientConfig>> {
    let missing = |what: &str, key: &str| {
        Error::Usage(format!(
            "tls:// scheduler but no {what} configured: set {key} in Dask's config (~/.config/dask/*.yaml) or DASK_{}",
            key.to_ascii_uppercase()
                .replace('.', "__")
                .replace('-', "_")
        ))
    };
    let ca = cfg
        .get("distributed.comm.tls.ca-file")
        .ok_or_else(|| missing("CA", "distributed.comm.tls.ca-file"))?;
    let cert = cfg
        .get("distributed.comm.tls.client.cert")
        .ok_or_else(|| missing("client certificate", "distributed.comm.tls.client.cert"))?;
    let key = cfg.get("distributed.comm.tls.client.key").unwrap_or(cert);
    let min12 = cfg.get("distributed.comm.tls.min-version") != Some("1.3");
    build(&pem(ca)?, &pem(cert)?, &pem(key)?, min12)
}

fn pem(path_or_inline: &str) -> Result<Vec<u8>> {
    if path_or_inline.contains('\n') {
        return Ok(path_or_inline.as_bytes().to_vec());
    }
    std::fs::read(path_or_inline).map_err(|e| Error::io(format!("reading {path_or_inline}"), e))
}

pub fn build(ca: &[u8], cert: &[u8], key: &[u8], allow_tls12: bool) -> Result<Arc<ClientConfig>> {
    let bad = |what: &str, e: &dyn std::fmt::Display| Error::Usage(format!("TLS {what}: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca) {
        roots
            .add(c.map_err(|e| bad("CA", &e))?)
            .map_err(|e| bad("CA", &e))?;
    }
    if roots.is_empty() {
        return Err(Error::Usage("TLS CA: no certificate found".into()));
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad("client certificate", &e))?;
    if chain.is_empty() {
        return Err(Error::Usage("TLS client certificate: none found".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| bad("client key", &e))?;
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| bad("CA", &e))?;
    let versions: &[&rustls::SupportedProtocolVersion] = if allow_tls12 {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13]
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| bad("versions", &e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
        .with_client_auth_cert(chain, key)
        .map_err(|e| match e {
            ref v1 if is_v1(v1) => Error::Usage(format!(
                "TLS client certificate (distributed.comm.tls.client.cert): {}",
                X509_V1.replace("the scheduler's certificate", "it")
            )),
            e => bad("client certificate/key", &e),
        })?;
    Ok(Arc::new(config))
}

/// What a scheduler with an X.509 version 1 certificate (what `openssl x509 -req` makes without
/// extensions) is told: Dask's OpenSSL accepts it, webpki by design does not.
pub const X509_V1: &str = "the scheduler's certificate is X.509 version 1, which Dask accepts through OpenSSL but daskctl's TLS library (rustls) cannot verify; reissue it as version 3 (e.g. openssl x509 -req ... -extfile with basicConstraints/keyUsage)";

/// Whether webpki refused a certificate for being X.509 version 1.
fn is_v1(e: &rustls::Error) -> bool {
    matches!(e, rustls::Error::InvalidCertificate(CertificateError::Other(o))
        if o.0.downcast_ref::<webpki::Error>() == Some(&webpki::Error::UnsupportedCertVersion))
}

/// Full chain verification, minus the host-name check (see the module comment).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            Err(e) if is_v1(&e) => Err(rustls::Error::General(X509_V1.into())),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
