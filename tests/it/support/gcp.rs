//! The Compute Engine test bed: `gce_standin.py`, a stand-in of the Compute Engine v1 API (no
//! emulator exists; its docstring lists what it imitates, after the REST reference), one per
//! test on a port of its own, that runs each instance's startup script here with the test
//! venv's Dask, so real schedulers and workers answer at the instances' 127.x addresses.
//! daskctl reaches it exactly as it reaches Google: gcloud user credentials (`authorized_user`,
//! its refresh token exchanged at the stand-in's `/token`) and `backends.gcp.endpoint`.

use super::Env;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PROJECT: &str = "test-project";
pub const ZONE: &str = "us-central1-a";

pub struct GceStandIn {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for GceStandIn {
    fn drop(&mut self) {
        // SIGTERM: it stops every instance's processes before it exits
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }
}

impl GceStandIn {
    /// A fresh stand-in; None (the test skips) without the test Python that runs Dask.
    pub fn start() -> Option<GceStandIn> {
        let python = super::python();
        if !python.exists() {
            eprintln!("skipped: no test Python with Dask ({})", python.display());
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port");
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/gce_standin.py");
        let child = Command::new(&python)
            .arg(script)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--dir")
            .arg(dir.path())
            .arg("--python")
            .arg(&python)
            .stdin(Stdio::piped())
            .spawn()
            .expect("start gce_standin.py");
        let until = Instant::now() + Duration::from_secs(30);
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                break p.trim().parse().unwrap();
            }
            assert!(Instant::now() < until, "gce_standin.py did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        Some(GceStandIn { child, port, dir })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One request to the stand-in's control API; its JSON answer.
    pub fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let data = body.to_string();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{data}",
            data.len()
        )
        .unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut rest = String::new();
        r.read_to_string(&mut rest).unwrap();
        serde_json::from_str(&rest).unwrap_or(Value::Null)
    }

    pub fn faults(&self, f: Value) {
        self.call("POST", "/standin/faults", &f);
    }

    /// Every instance the stand-in holds, as the API shows it.
    pub fn instances(&self) -> Vec<Value> {
        self.call("GET", "/standin/instances", &Value::Null)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Inserts an instance as another client would (dask-cloudprovider's body).
    pub fn insert(&self, instance: Value) -> Value {
        self.call(
            "POST",
            "/standin/insert",
            &serde_json::json!({"project": PROJECT, "zone": ZONE, "instance": instance}),
        )
    }

    /// gcloud's user credentials (`authorized_user`), refreshed at the stand-in.
    fn credentials(&self) -> PathBuf {
        let path = self.dir.path().join("adc.json");
        let creds = serde_json::json!({
            "type": "authorized_user",
            "client_id": "standin-client.apps.googleusercontent.com",
            "client_secret": "standin-secret",
            "refresh_token": "standin-refresh",
            "token_uri": format!("{}/token", self.url()),
        });
        std::fs::write(&path, creds.to_string()).unwrap();
        path
    }
}

impl Env {
    /// An environment whose gcp backend talks to a fresh stand-in, and only that backend;
    /// None (skip) without one.
    pub fn gcp() -> Option<Env> {
        let s = GceStandIn::start()?;
        let creds = s.credentials();
        let mut e = Env::new()
            .with(
                "DASKCTL_BACKENDS__GCP__CREDENTIALS_FILE",
                creds.to_str().unwrap(),
            )
            .with("DASKCTL_BACKENDS__GCP__ENDPOINT", &s.url())
            .with("DASKCTL_BACKENDS__GCP__PROJECTS", PROJECT)
            .with("DASKCTL_BACKENDS__GCP__ZONE", ZONE)
            .with("DASKCTL_BACKENDS__LOCAL__ENABLED", "false")
            .with("DASKCTL_BACKENDS__KUBERNETES__ENABLED", "false")
            .with("DASKCTL_BACKENDS__AWS__ENABLED", "false")
            .with("DASKCTL_BACKENDS__GATEWAY__ENABLED", "false")
            .without_batch();
        e.bed = Some(Box::new(s));
        Some(e)
    }

    /// The stand-in of an `Env::gcp()`.
    pub fn gce(&self) -> &GceStandIn {
        self.bed
            .as_ref()
            .and_then(|b| b.downcast_ref::<GceStandIn>())
            .expect("an Env::gcp()")
    }
}
