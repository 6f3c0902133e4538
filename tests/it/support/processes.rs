//! Processes tests start or watch: real Dask schedulers and workers started by hand, Python
//! programs holding clusters, misbehaving servers, daskctl runs to interrupt, signals, and what
//! /proc says about them.

use super::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn signal_group(pid: i32, sig: &str) {
    let st = Command::new("kill")
        .args([&format!("-{sig}"), "--", &format!("-{pid}")])
        .status()
        .unwrap();
    assert!(st.success(), "kill -{sig} -{pid}");
}

/// Signals one process (not its group).
pub fn signal(pid: i32, sig: &str) {
    let st = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success(), "kill -{sig} {pid}");
}

pub fn kill_group(pid: i32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// Alive and not a zombie.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            let state = s[s.rfind(')').unwrap() + 2..].chars().next().unwrap();
            state != 'Z' && state != 'X'
        }
        Err(_) => false,
    }
}

/// A Dask process the test starts by hand (not through daskctl): a "foreign" scheduler or worker.
pub struct DaskProc {
    pub child: Child,
    pub dir: tempfile::TempDir,
}

impl DaskProc {
    pub fn scheduler(extra: &[&str]) -> (DaskProc, String) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("scheduler.json");
        let mut args = vec![
            "-m",
            "dask",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--dashboard-address",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        let child = spawn(
            &args,
            &["--scheduler-file", file.to_str().unwrap()],
            dir.path(),
        );
        let mut p = DaskProc { child, dir };
        let mut addr = String::new();
        wait_until("scheduler file", Duration::from_secs(60), || {
            if let Ok(Some(s)) = p.child.try_wait() {
                panic!(
                    "scheduler exited {s}: {}",
                    std::fs::read_to_string(p.dir.path().join("log")).unwrap_or_default()
                );
            }
            std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v["address"].as_str().map(|a| addr = a.to_string()))
                .is_some()
        });
        (p, addr)
    }

    /// A scheduler that speaks only TLS, with the throwaway PKI's certificate.
    pub fn tls_scheduler(pki: &tls::Pki) -> (DaskProc, String) {
        let (ca, cert, key) = (pki.ca(), pki.cert(), pki.key());
        let args = [
            "--protocol",
            "tls",
            "--tls-ca-file",
            ca.to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ];
        DaskProc::scheduler(&args)
    }

    pub fn worker(scheduler: &str, extra: &[&str]) -> DaskProc {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec![
            "-m",
            "dask",
            "worker",
            scheduler,
            "--host",
            "127.0.0.1",
            "--nthreads",
            "1",
            "--dashboard-address",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        let child = spawn(&args, &[], dir.path());
        DaskProc { child, dir }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

fn spawn(args: &[&str], more: &[&str], dir: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    let log = std::fs::File::create(dir.join("log")).unwrap();
    let mut c = Command::new(python());
    c.args(args)
        .args(more)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    c.process_group(0);
    // a worker whose scheduler is absent keeps trying (as a queued HPC worker job in effect does)
    c.env("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "600s");
    c.spawn().expect("start dask")
}

impl Drop for DaskProc {
    fn drop(&mut self) {
        kill_group(self.pid());
        let _ = self.child.wait();
    }
}

/// Runs Python `code` (with this environment, in its directory) that prints a scheduler address
/// on its first line and keeps its cluster alive; returns the process and the address.
pub fn python_cluster(env: &Env, code: &str) -> (KillOnDrop, String) {
    let mut cmd = Command::new(python());
    cmd.args(["-c", code])
        .current_dir(env.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in &env.extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    (KillOnDrop(child), line.trim().to_string())
}

/// A child process killed when the test ends, also when it fails half-way (a Python program
/// holding a cluster would otherwise outlive the test and show up in later tests' listings).
pub struct KillOnDrop(pub Child);

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `fault_server.py` process answering as `mode` says, on 127.0.0.1; `tag` words go on its
/// command line only (`["dask", "scheduler"]` makes it look like a scheduler).
pub struct FaultServer {
    pub child: KillOnDrop,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl FaultServer {
    pub fn start(mode: &str, tag: &[&str]) -> FaultServer {
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/fault_server.py");
        let mut c = Command::new(python());
        c.arg(&script)
            .arg(mode)
            .arg(&port_file)
            .args(tag)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = KillOnDrop(c.spawn().expect("fault server"));
        let mut port = 0;
        wait_until("fault server port", Duration::from_secs(30), || {
            if let Ok(Some(s)) = child.try_wait() {
                panic!("fault server {mode} exited: {s}");
            }
            std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .map(|p| port = p)
                .is_some()
        });
        FaultServer {
            child,
            port,
            _dir: dir,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

/// A daskctl run in the background, to be interrupted.
pub struct Running {
    pub child: Child,
}

impl Env {
    pub fn start(&self, args: &[&str]) -> Running {
        let child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start daskctl");
        Running { child }
    }

    /// Runs daskctl and fails the test if it has not ended within `within` (a hang).
    pub fn run_bounded(&self, args: &[&str], within: Duration) -> super::Out {
        let mut r = self.start(args);
        let deadline = Instant::now() + within;
        loop {
            if let Some(_s) = r.child.try_wait().unwrap() {
                return r.finish();
            }
            if Instant::now() >= deadline {
                let _ = r.child.kill();
                let out = r.finish();
                panic!(
                    "daskctl {args:?} hung for {within:?}\nstdout: {}\nstderr: {}",
                    out.stdout, out.stderr
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The processes daskctl started for cluster `name` under this environment's state root
    /// (their environment carries the markers), children of those included.
    pub fn marked_pids(&self, name: &str) -> Vec<i32> {
        let home = self.state().to_string_lossy().into_owned();
        let mut out = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
                continue;
            };
            let vars: Vec<&[u8]> = env.split(|b| *b == 0).collect();
            let has = |kv: String| vars.contains(&kv.as_bytes());
            if has(format!("DASKCTL_CLUSTER={name}"))
                && has(format!("DASKCTL_HOME={home}"))
                && alive(pid)
            {
                out.push(pid);
            }
        }
        out.sort();
        out
    }

    /// The state file of a local cluster, parsed, if there is one that parses.
    pub fn state_json(&self, name: &str) -> Option<serde_json::Value> {
        let p = self.state().join("local").join(name).join("state.json");
        serde_json::from_slice(&std::fs::read(p).ok()?).ok()
    }
}

impl Running {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: &str) {
        super::signal(self.pid(), sig);
    }

    pub fn finish(mut self) -> super::Out {
        use std::io::Read;
        let stderr = self.child.stderr.take();
        let reader = std::thread::spawn(move || {
            let mut b = Vec::new();
            if let Some(mut e) = stderr {
                let _ = e.read_to_end(&mut b);
            }
            b
        });
        let mut stdout = Vec::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_end(&mut stdout);
        }
        let stderr = reader.join().expect("stderr reader");
        let status = self.child.wait().expect("wait daskctl");
        super::Out {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

/// A test that ends (or fails) with the command still running stops it: a `serve` a test
/// started must not outlive it (a leaked one is probed by every later discovery on the machine).
impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The parent of a process (0 when it is gone).
pub fn ppid(pid: i32) -> i32 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s[s.rfind(')')? + 2..]
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// A process's start time in clock ticks after boot (field 22 of /proc/PID/stat).
pub fn start_ticks(pid: i32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    s[s.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap()
}

/// Live processes of `uid` whose environment holds the entry `kv` (`KEY=value`).
pub fn pids_with_env(uid: u32, kv: &str) -> Vec<i32> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if !e.metadata().is_ok_and(|m| m.uid() == uid) {
            continue;
        }
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|v| v == kv.as_bytes()) && alive(pid) {
            out.push(pid);
        }
    }
    out
}
