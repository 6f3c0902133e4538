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

    /// A Dask config directory (for `DASK_CONFIG`) whose client TLS settings use this PKI.
    pub fn dask_config_dir(&self) -> PathBuf {
        let d = self.dir.path().join("dask");
        std::fs::create_dir_all(&d).unwrap();
        let yaml = format!(
            "distributed:\n  comm:\n    tls:\n      ca-file: {}\n      client:\n        cert: {}\n        key: {}\n",
            self.ca().display(),
            self.cert().display(),
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
    openssl(
        d,
        &[
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
            "-extfile",
            "ext.cnf",
        ],
    );
    Pki { dir }
}
