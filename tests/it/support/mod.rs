//! Test support: each test gets its own daskctl state, cache and config, runs the real binary,
//! and talks to real Dask processes from the project's Python environment.

#![allow(dead_code)]

pub mod aws;
pub mod beds;
pub mod env;
pub mod gateway;
pub mod gcp;
pub mod http;
#[cfg(feature = "kubernetes")]
pub mod kube;
pub mod nodes;
pub mod processes;
pub mod pty;
pub mod tls;
pub mod users;

pub use beds::*;
pub use env::*;
pub use http::*;
pub use processes::*;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Python with dask and distributed: `DASKCTL_TEST_PYTHON`, else the project's `.venv`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("DASKCTL_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        p.exists(),
        "no Python with distributed at {}: run scripts/setup-python.sh (or set DASKCTL_TEST_PYTHON)",
        p.display()
    );
    p
}

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// The error line, asserting it is a single line.
    pub fn one_line_error(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one line on stderr, got: {:?}",
            self.stderr
        );
        assert!(lines[0].starts_with("error: "), "{:?}", lines[0]);
        lines[0]
    }
}

/// Polls `cond` until it holds or the deadline passes.
pub fn wait_until(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Serialises tests that start Dask processes outside daskctl (every other test's `list` sees
/// those) or that clean up, so no test acts on another's processes.
pub fn serial() -> nix::fcntl::Flock<std::fs::File> {
    let f = std::fs::File::create(std::env::temp_dir().join("daskctl-it-serial.lock")).unwrap();
    nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .expect("flock")
}

/// Number of workers the scheduler reports for `name`.
pub fn workers(env: &Env, name: &str) -> u64 {
    env.describe(name)["workers"].as_u64().unwrap_or(0)
}

/// A loopback port free right now (the kernel's pick; released for the caller to bind).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    l.local_addr().expect("its address").port()
}

/// `[(name, workers, requested)]` of a cluster's worker groups, as `describe -o json` shows them.
pub fn group_counts(env: &Env, name: &str) -> Vec<(String, u64, u64)> {
    let d = env.describe(name);
    d["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("no groups: {d}"))
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_string(),
                g["workers"].as_u64().unwrap_or(0),
                g["requested"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// `[(name, requested)]` of a cluster's worker groups.
pub fn requested_by_group(env: &Env, name: &str) -> Vec<(String, u64)> {
    group_counts(env, name)
        .into_iter()
        .map(|(n, _, r)| (n, r))
        .collect()
}

/// Process ids of a cluster's resources in `role` (`scheduler`, `worker`), from its JSON.
pub fn pids_of(c: &serde_json::Value, role: &str) -> Vec<i32> {
    c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] == role)
        .map(|r| r["id"].as_str().unwrap().parse().unwrap())
        .collect()
}
