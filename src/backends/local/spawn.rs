//! Starting Dask processes that outlive daskctl, and stopping them.

use super::procfs;
use super::state::Proc;
use crate::error::{Error, IoContext, Result};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Markers in the environment of every process daskctl starts; /proc discovery reads them.
pub const ENV_CLUSTER: &str = "DASKCTL_CLUSTER";
pub const ENV_ROLE: &str = "DASKCTL_ROLE";
pub const ENV_HOME: &str = "DASKCTL_HOME";

/// Finds the Python to run Dask with and checks that it can import `distributed`.
pub fn find_python(configured: Option<String>) -> Result<String> {
    let python = match configured {
        Some(p) => p,
        None => which("python3").ok_or_else(|| {
            Error::Usage(
                "no python3 on PATH; set --python, DASKCTL_PYTHON or backends.local.python".into(),
            )
        })?,
    };
    let probe = Command::new(&python)
        .args([
            "-c",
            "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('distributed') else 3)",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match probe {
        Err(e) => Err(Error::Usage(format!(
            "cannot run Python {python:?}: {e}; set --python, DASKCTL_PYTHON or backends.local.python"
        ))),
        Ok(s) if s.code() == Some(3) => Err(Error::Usage(format!(
            "Python {python:?} cannot import distributed; install it with: {python} -m pip install 'dask[distributed]'"
        ))),
        Ok(s) if !s.success() => Err(Error::Usage(format!(
            "Python {python:?} does not run (exit {s})"
        ))),
        Ok(_) => Ok(python),
    }
}

fn which(prog: &str) -> Option<String> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(prog))
        .find(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
}

pub struct Spawned {
    pub proc: Proc,
    pub child: Child,
}

/// Starts `python -m dask <args>` in its own session (it survives daskctl and the terminal),
/// output to `logs/<log>`, with the cluster's markers in its environment.
pub fn spawn_dask(
    python: &str,
    args: &[String],
    logs: &Path,
    log: &str,
    markers: &[(&str, &str)],
    name: &str,
) -> Result<Spawned> {
    let path: PathBuf = logs.join(log);
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ctx(|| format!("opening {}", path.display()))?;
    let err = out.try_clone().ctx(|| "duplicating log handle".into())?;
    let mut cmd = Command::new(python);
    cmd.arg("-m").arg("dask").args(args);
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    for (k, v) in markers {
        cmd.env(k, v);
    }
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    let child = cmd
        .spawn()
        .ctx(|| format!("starting {python} -m dask {}", args.join(" ")))?;
    let pid = child.id() as i32;
    let start = procfs::stat(pid).map(|s| s.start).unwrap_or(0);
    Ok(Spawned {
        proc: Proc {
            pid,
            start,
            name: name.to_string(),
            log: log.to_string(),
        },
        child,
    })
}

/// A process to stop. `group`: daskctl started it as a session leader, so the signal goes to
/// its whole group (the nanny and its worker); other processes get a plain kill.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub pid: i32,
    pub start: Option<u64>,
    pub group: bool,
}

/// SIGTERM, then waits until every process is gone; SIGKILL after `grace`. Returns the pids
/// that had to be killed.
pub fn stop(targets: &[Target], grace: Duration) -> Vec<i32> {
    let live: Vec<Target> = targets
        .iter()
        .copied()
        .filter(|t| procfs::alive(t.pid, t.start))
        .collect();
    for t in &live {
        signal(t, Signal::SIGTERM);
        // a stopped process cannot act on SIGTERM until it is continued
        signal(t, Signal::SIGCONT);
    }
    let pids: Vec<(i32, Option<u64>)> = live.iter().map(|t| (t.pid, t.start)).collect();
    let mut killed = Vec::new();
    if !wait_dead(&pids, grace) {
        for t in &live {
            if procfs::alive(t.pid, t.start) {
                signal(t, Signal::SIGKILL);
                killed.push(t.pid);
            }
        }
        wait_dead(&pids, Duration::from_secs(5));
    }
    killed
}

fn signal(t: &Target, sig: Signal) {
    let pid = Pid::from_raw(t.pid);
    if t.group && killpg(pid, sig).is_ok() {
        return;
    }
    let _ = nix::sys::signal::kill(pid, sig);
}

/// Polls until all processes are dead or the deadline passes.
pub fn wait_dead(procs: &[(i32, Option<u64>)], within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if procs.iter().all(|(p, s)| !procfs::alive(*p, *s)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The last `n` lines of a log file, for error messages.
pub fn log_tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}
