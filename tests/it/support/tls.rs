//! A throwaway CA and one certificate for both the scheduler and the client, made with the
//! openssl command line (argument vectors, no shell).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Pki {
    pub dir: tempfile::TempDir,
}

impl Pki {
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("node.pem")
    }
    pub fn key(&self) -> PathBuf {
        self.dir.path().join("node.key")
    }
    /// The certificate a client presents: the node's, or a separate one where made.
    pub fn client_cert(&self) -> PathBuf {
        let c = self.dir.path().join("client.pem");
        if c.exists() { c } else { self.cert() }
    }

    /// A Dask config directory (for `DASK_CONFIG`) whose client TLS settings use this PKI.
    pub fn dask_config_dir(&self) -> PathBuf {
        let d = self.dir.path().join("dask");
        std::fs::create_dir_all(&d).unwrap();
        let yaml = format!(
            "distributed:\n  comm:\n    tls:\n      ca-file: {}\n      client:\n        cert: {}\n        key: {}\n",
            self.ca().display(),
            self.client_cert().display(),
            self.key().display()
        );
        std::fs::write(d.join("tls.yaml"), yaml).unwrap();
        d
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl on PATH");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn make(cn: &str) -> Pki {
    make_with(cn, true)
}

/// A PKI whose node certificate is X.509 version 1 (no extensions): Dask's OpenSSL accepts it,
/// rustls does not.
pub fn make_v1(cn: &str) -> Pki {
    make_with(cn, false)
}

fn make_with(cn: &str, v3: bool) -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let subj = format!("/CN={cn}-ca");
    let mut a = vec!["req", "-x509"];
    a.extend(ec);
    a.extend([
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", &subj,
    ]);
    openssl(d, &a);
    let mut a = vec!["req"];
    a.extend(ec);
    a.extend([
        "-keyout",
        "node.key",
        "-out",
        "node.csr",
        "-subj",
        "/CN=dask-node",
    ]);
    openssl(d, &a);
    std::fs::write(
        d.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:dask-node,IP:127.0.0.1\n",
    )
    .unwrap();
    let mut a = vec![
        "x509",
        "-req",
        "-in",
        "node.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "node.pem",
        "-days",
        "2",
    ];
    if v3 {
        a.extend(["-extfile", "ext.cnf"]);
    }
    openssl(d, &a);
    if !v3 {
        // the client's certificate stays version 3: only the server's is the odd one
        let mut a = a.clone();
        let out = a.iter().position(|x| *x == "node.pem").unwrap();
        a[out] = "client.pem";
        a.extend(["-extfile", "ext.cnf"]);
        openssl(d, &a);
    }
    Pki { dir }
}
