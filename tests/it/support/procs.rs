//! Processes for the fault tests: misbehaving servers, daskctl runs to interrupt, and what
//! /proc says about the processes daskctl started.

use super::{Env, KillOnDrop, alive, python, wait_until};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

    pub fn finish(self) -> super::Out {
        let o = self.child.wait_with_output().expect("wait daskctl");
        super::Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
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

/// Writes a daskctl state in `dir` for cluster `name` whose scheduler and worker are the
/// (live) process `pid`, which daskctl never started.
pub fn plant_state(dir: &Path, name: &str, pid: i32) {
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let start = start_ticks(pid);
    let state = serde_json::json!({
        "name": name, "created": 1.0e9, "python": "python3", "host": "127.0.0.1", "threads": 1,
        "memory": null, "address": "tcp://127.0.0.1:9", "dashboard": null, "next_worker": 1,
        "scheduler": {"pid": pid, "start": start, "name": "scheduler", "log": "scheduler.log"},
        "workers": [{"pid": pid, "start": start, "name": format!("{name}-0"), "log": "w.log"}],
    });
    std::fs::write(dir.join("state.json"), state.to_string()).unwrap();
}

/// An executable shell script at `path`.
pub fn script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Points a local cluster's recorded Python (what new workers run) at `python`.
pub fn set_state_python(env: &Env, name: &str, python: &Path) {
    let p = env.state().join("local").join(name).join("state.json");
    let mut st: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    st["python"] = serde_json::Value::String(python.to_string_lossy().into_owned());
    std::fs::write(&p, st.to_string()).unwrap();
}

/// The second Unix user made by scripts/testbeds/users.sh, for tests that check daskctl never
/// touches another user's processes.
pub struct OtherUser {
    pub uid: u32,
    pub gid: u32,
    pub python: std::path::PathBuf,
    /// A directory the user owns, removed with it.
    pub dir: tempfile::TempDir,
}

impl OtherUser {
    /// The user, where the test bed made it (as root); elsewhere the test says it skips, and
    /// where scripts/test.sh made it (DASKCTL_TEST_USERS) its absence is a failure.
    pub fn get() -> Option<OtherUser> {
        let python = std::path::PathBuf::from("/opt/daskctl-other/venv/bin/python");
        let user = nix::unistd::User::from_name("daskctl-other").ok().flatten();
        let ready = nix::unistd::getuid().is_root() && python.exists() && user.is_some();
        if !ready {
            assert!(
                std::env::var_os("DASKCTL_TEST_USERS").is_none(),
                "DASKCTL_TEST_USERS is set but the second user is missing (scripts/testbeds/users.sh)"
            );
            eprintln!("skipping: no second user (as root: scripts/testbeds/users.sh)");
            return None;
        }
        let u = user.unwrap();
        let dir = tempfile::Builder::new()
            .prefix("daskctl-other-")
            .tempdir()
            .unwrap();
        nix::unistd::chown(dir.path(), Some(u.uid), Some(u.gid)).unwrap();
        Some(OtherUser {
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            python,
            dir,
        })
    }

    /// A command run as the user (setpriv execs it: the child is the process itself).
    pub fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .arg("--clear-groups")
            .arg("--")
            .arg(program)
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        c
    }

    /// A `dask scheduler` of the user's on 127.0.0.1; its address.
    pub fn scheduler(&self) -> (KillOnDrop, String) {
        let file = self.dir.path().join("scheduler.json");
        let f = file.to_str().unwrap();
        let child = self
            .command(
                &self.python,
                &[
                    "-m",
                    "dask",
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--dashboard-address",
                    "127.0.0.1:0",
                    "--scheduler-file",
                    f,
                ],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let child = KillOnDrop(child);
        let mut addr = String::new();
        wait_until(
            "the other user's scheduler",
            Duration::from_secs(60),
            || {
                super::procs::scheduler_address(&file)
                    .map(|a| addr = a)
                    .is_some()
            },
        );
        (child, addr)
    }

    pub fn worker(&self, addr: &str) -> KillOnDrop {
        KillOnDrop(
            self.command(
                &self.python,
                &[
                    "-m",
                    "dask",
                    "worker",
                    addr,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                ],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        )
    }

    /// daskctl run as the user, with a state directory of theirs.
    pub fn daskctl(&self, args: &[&str]) -> super::Out {
        let o = self
            .command(Path::new(env!("CARGO_BIN_EXE_daskctl")), args)
            .env("DASKCTL_STATE_DIR", self.state())
            .env("DASKCTL_CACHE_DIR", self.dir.path().join("cache"))
            .env("DASKCTL_CONFIG", self.dir.path().join("config.toml"))
            .env("DASKCTL_PYTHON", &self.python)
            .env("DASKCTL_PROBE_LOOPBACK_ONLY", "1")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        super::Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    pub fn state(&self) -> std::path::PathBuf {
        self.dir.path().join("state")
    }
}

/// The address in a Dask scheduler file, once it is there.
pub fn scheduler_address(file: &Path) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    v["address"].as_str().map(str::to_string)
}
