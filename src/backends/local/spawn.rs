//! Starting Dask processes that outlive daskctl, and stopping them: only processes that are
//! verifiably the ones meant (same start time, the user's own, and, for daskctl's own, this
//! cluster's markers in their environment).

use super::procfs;
use super::state::Proc;
use crate::error::{Error, IoContext, Result};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Markers in the environment of every process daskctl starts; /proc discovery reads them.
pub const ENV_CLUSTER: &str = "DASKCTL_CLUSTER";
pub const ENV_ROLE: &str = "DASKCTL_ROLE";
pub const ENV_HOME: &str = "DASKCTL_HOME";
/// The worker's Dask name (a process found before the state recorded it still has one).
pub const ENV_WORKER: &str = "DASKCTL_WORKER";
/// The daskctl command that started it: an interrupted command stops exactly its own.
pub const ENV_OP: &str = "DASKCTL_OP";

/// An id for this daskctl command, carried by every process it starts.
pub fn op_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}-{nanos:08x}", std::process::id())
}

/// Finds the Python to run Dask with and checks that it can import `distributed`.
pub async fn find_python(configured: Option<String>) -> Result<String> {
    let python = match configured {
        Some(p) => p,
        None => which("python3").ok_or_else(|| {
            Error::Usage(
                "no python3 on PATH; set --python, DASKCTL_PYTHON or backends.local.python".into(),
            )
        })?,
    };
    let mut probe = tokio::process::Command::new(&python)
        .args([
            "-c",
            "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('distributed') else 3)",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            Error::Usage(format!(
                "cannot run Python {python:?}: {e}; set --python, DASKCTL_PYTHON or backends.local.python"
            ))
        })?;
    // a wrapper's children go with it when the probe is given up on
    let _group = crate::subprocess::GroupGuard::new(probe.id());
    let probe = probe.wait();
    let status = tokio::time::timeout(Duration::from_secs(60), probe)
        .await
        .map_err(|_| {
            Error::Usage(format!(
                "Python {python:?} did not start within 60s; set --python, DASKCTL_PYTHON or backends.local.python"
            ))
        })?;
    match status {
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
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
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
            group: None,
        },
        child,
    })
}

/// What makes a process one daskctl may signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// daskctl started it for this cluster: its environment carries these markers.
    Marked { cluster: String, home: String },
    /// Found by discovery as the user's Dask process; its start time identifies it.
    Found,
}

/// A process to stop. `group`: daskctl started it as a session leader, so the signal goes to
/// the verified members of its group too (the nanny and its worker); others get a plain kill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub pid: i32,
    pub start: u64,
    pub group: bool,
    pub proof: Proof,
}

impl Target {
    /// Whether the process is still there and still the one meant: same start time, run by
    /// `uid`, and (for daskctl's own) carrying its cluster's markers.
    pub fn verified(&self, uid: u32) -> bool {
        if procfs::live(self.pid, Some(self.start)).is_none() || procfs::uid(self.pid) != Some(uid)
        {
            return false;
        }
        match &self.proof {
            Proof::Found => true,
            Proof::Marked { cluster, home } => {
                let m = procfs::markers(self.pid);
                m.get(ENV_CLUSTER) == Some(cluster) && m.get(ENV_HOME) == Some(home)
            }
        }
    }

    fn alive(&self) -> bool {
        procfs::alive(self.pid, Some(self.start))
    }
}

/// SIGTERM (and SIGCONT, so a stopped process can act on it), then waits until every process
/// is gone; SIGKILL after `grace`. Processes that cannot be verified are never signalled.
/// Returns the pids still alive at the end (that it signalled or was asked to stop).
pub async fn stop(targets: &[Target], uid: u32, grace: Duration) -> Vec<i32> {
    let live: Vec<&Target> = targets.iter().filter(|t| t.verified(uid)).collect();
    for t in &live {
        signal(t, uid, &[Signal::SIGTERM, Signal::SIGCONT]);
    }
    if !wait_dead(&live, grace).await {
        for t in live.iter().filter(|t| t.verified(uid)) {
            signal(t, uid, &[Signal::SIGKILL]);
        }
        wait_dead(&live, Duration::from_secs(5)).await;
    }
    targets
        .iter()
        .filter(|t| t.alive())
        .map(|t| t.pid)
        .collect()
}

/// Stops every process of `uid` that carries `markers` until none is left: the one barrier
/// behind "deleted" for daskctl's own processes. A scan is a moment, and a cluster's processes
/// keep appearing after it: a nanny that is told to close while it starts its worker process
/// starts it anyway, and that child lives (importing Dask, before it watches its parent) for
/// seconds after its nanny is gone. So the scan is repeated until it finds nothing: each process
/// gets SIGTERM (and SIGCONT) when first seen and SIGKILL once it has outlived `grace`, each
/// verified right before its signal (same start time, still `uid`'s, still marked), one by one,
/// never by group. No new marked process can appear once none is left: markers are inherited
/// from a marked parent, or set by a daskctl command that holds the cluster's lock until its
/// children have run `exec` (the caller holds it, or the command is gone). Returns the pids
/// still alive when `within` has passed.
pub async fn sweep(
    uid: u32,
    markers: Vec<(String, String)>,
    grace: Duration,
    within: Duration,
) -> Vec<i32> {
    let deadline = tokio::time::Instant::now() + within;
    let mut first_seen: std::collections::HashMap<(i32, u64), tokio::time::Instant> =
        Default::default();
    loop {
        let want = markers.clone();
        let found = tokio::task::spawn_blocking(move || procfs::with_markers(uid, &want))
            .await
            .unwrap_or_default();
        if found.is_empty() {
            return Vec::new();
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return found.into_iter().map(|(pid, _)| pid).collect();
        }
        for (pid, start) in found {
            if !still_marked(pid, start, uid, &markers) {
                continue;
            }
            let pid_ = Pid::from_raw(pid);
            match first_seen.get(&(pid, start)) {
                None => {
                    first_seen.insert((pid, start), now);
                    let _ = nix::sys::signal::kill(pid_, Signal::SIGTERM);
                    let _ = nix::sys::signal::kill(pid_, Signal::SIGCONT);
                }
                Some(t) if now.duration_since(*t) >= grace => {
                    let _ = nix::sys::signal::kill(pid_, Signal::SIGKILL);
                }
                Some(_) => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(25).min(deadline - now)).await;
    }
}

/// The process `pid` started at `start` is alive, `uid`'s, and still carries `markers`.
fn still_marked(pid: i32, start: u64, uid: u32, markers: &[(String, String)]) -> bool {
    procfs::alive(pid, Some(start))
        && procfs::uid(pid) == Some(uid)
        && procfs::carries(pid, markers)
}

/// Sends `sigs` to `t` and, when it leads its own process group (daskctl started it as a session
/// leader: a nanny and its worker process), each member of that group that is verified as it
/// is: `uid`'s, and for daskctl's own, carrying the cluster's markers. One by one, never
/// `killpg`: a group can hold another user's process (a setuid program a task ran), and root
/// must not signal it on the strength of the leader's owner.
fn signal(t: &Target, uid: u32, sigs: &[Signal]) {
    let pid = Pid::from_raw(t.pid);
    let leads = t.group && nix::unistd::getpgid(Some(pid)).is_ok_and(|g| g == pid);
    let members = if leads {
        procfs::group_members(t.pid)
    } else {
        Vec::new()
    };
    for sig in sigs {
        let _ = nix::sys::signal::kill(pid, *sig);
    }
    for (m, start) in members.into_iter().filter(|(m, _)| *m != t.pid) {
        let member = Target {
            pid: m,
            start,
            group: false,
            proof: t.proof.clone(),
        };
        if member.verified(uid) {
            for sig in sigs {
                let _ = nix::sys::signal::kill(Pid::from_raw(m), *sig);
            }
        } else {
            tracing::debug!(
                "{m}: in the group of {} but not verified; not signalled",
                t.pid
            );
        }
    }
}

/// Waits until all targets are dead or `within` has passed; whether they all are.
pub async fn wait_dead(targets: &[&Target], within: Duration) -> bool {
    crate::backends::until(within, Duration::from_millis(25), || async {
        targets.iter().all(|t| !t.alive()).then_some(())
    })
    .await
    .is_some()
}

/// The last `n` lines of a log file, for error messages.
/// What a worker's log says when it met a scheduler of another version of distributed: a
/// handshake key one side lacks (`KeyError: 'nanny-plugins'` from a scheduler older than the
/// worker), or distributed's own "Mismatched versions" warning. The reason, with the fix.
pub fn version_hint(log: &Path) -> String {
    let bytes = crate::safefile::read_tail(log, None, 64 << 10).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let handshake = text.lines().any(|l| {
        l.contains("KeyError: 'nanny-plugins'")
            || l.contains("KeyError: 'worker-plugins'")
            || l.contains("Mismatched versions")
    });
    if !handshake {
        return String::new();
    }
    " (the scheduler runs another version of distributed than the workers' Python: start \
     workers with the scheduler's own Python, --python /path/to/its/python)"
        .to_string()
}

pub fn log_tail(path: &Path, n: usize) -> String {
    let bytes = crate::safefile::read_tail(path, None, 64 << 10).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The end of a real worker log: distributed 2026.8 against a `dask scheduler` of
    /// distributed 2023.5.0 (`daskctl scale port-8899 1`).
    #[test]
    fn a_worker_of_another_distributed_than_its_scheduler_is_told_apart() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("w.log");
        std::fs::write(
            &log,
            "2026-12-06 10:55:17,560 - distributed.dask_worker - INFO - End worker\n\
             Traceback (most recent call last):\n  File \"distributed/nanny.py\", line 347, in \
             start_unsafe\n    for name, plugin in msg[\"nanny-plugins\"].items():\n\
             KeyError: 'nanny-plugins'\n",
        )
        .unwrap();
        assert!(version_hint(&log).contains("another version of distributed"));
        std::fs::write(&log, "OSError: [Errno 98] Address already in use\n").unwrap();
        assert_eq!(version_hint(&log), "");
    }

    /// A marked process that, told to stop, starts a child before it exits (as a nanny told to
    /// close while it starts its worker process does): the child carries the markers too.
    /// Returned once its trap is set (it says so on stdout).
    fn parent_that_leaves_a_child(marker: &str) -> (Child, u64) {
        use std::io::BufRead;
        let mut child = Command::new("sh")
            .args([
                "-c",
                "trap 'sleep 60 & exit 0' TERM; echo ready; while :; do sleep 0.02; done",
            ])
            .env(ENV_CLUSTER, marker)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        let start = procfs::stat(child.id() as i32).unwrap().start;
        (child, start)
    }

    /// A process group holding another user's process (as a setuid program a task ran would):
    /// stopping its leader stops the caller's members and never signals the other user's.
    /// Root only: it takes a second uid.
    #[tokio::test]
    async fn a_group_member_of_another_user_is_never_signalled() {
        if !nix::unistd::getuid().is_root() {
            eprintln!("skipping: needs root for a second uid");
            return;
        }
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "sleep 60 & setpriv --reuid=65534 --regid=65534 --clear-groups sleep 60 & wait",
        ])
        .stdin(Stdio::null());
        // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid()
                    .map(|_| ())
                    .map_err(std::io::Error::from)
            });
        }
        let mut leader = cmd.spawn().unwrap();
        let lpid = leader.id() as i32;
        let uid_of = |m: &(i32, u64)| procfs::uid(m.0);
        let members = crate::backends::until(
            Duration::from_secs(20),
            Duration::from_millis(10),
            || async {
                let m = procfs::group_members(lpid);
                let theirs = m.iter().find(|x| uid_of(x) == Some(65534)).copied();
                let mine = m
                    .iter()
                    .find(|x| {
                        x.0 != lpid
                            && uid_of(x) == Some(0)
                            && procfs::cmdline(x.0).first().is_some_and(|c| c == "sleep")
                    })
                    .copied();
                theirs.zip(mine)
            },
        )
        .await;
        let (theirs, mine) = members.expect("both members started");
        let t = Target {
            pid: lpid,
            start: procfs::stat(lpid).unwrap().start,
            group: true,
            proof: Proof::Found,
        };
        assert!(stop(&[t], 0, Duration::from_secs(5)).await.is_empty());
        leader.wait().unwrap();
        let mine_gone = crate::backends::until(
            Duration::from_secs(10),
            Duration::from_millis(10),
            || async { (!procfs::alive(mine.0, Some(mine.1))).then_some(()) },
        )
        .await;
        let theirs_alive = procfs::alive(theirs.0, Some(theirs.1));
        let _ = nix::sys::signal::kill(Pid::from_raw(theirs.0), Signal::SIGKILL);
        assert!(
            mine_gone.is_some(),
            "the caller's member of the group was not stopped"
        );
        assert!(
            theirs_alive,
            "another user's process in the group was signalled"
        );
    }

    fn marked(marker: &str) -> Vec<(String, String)> {
        vec![(ENV_CLUSTER.to_string(), marker.to_string())]
    }

    #[tokio::test]
    async fn sweep_stops_what_appears_after_the_first_signal() {
        let marker = format!("sweep-{}", std::process::id());
        let uid = nix::unistd::getuid().as_raw();
        let (mut parent, _) = parent_that_leaves_a_child(&marker);
        let left = sweep(
            uid,
            marked(&marker),
            Duration::from_secs(5),
            Duration::from_secs(20),
        )
        .await;
        parent.wait().unwrap();
        assert_eq!(left, Vec::<i32>::new());
        assert!(procfs::with_markers(uid, &marked(&marker)).is_empty());
    }

    /// The same parent stopped by pid alone: it is gone, its child is not (what `sweep` is for).
    #[tokio::test]
    async fn stopping_the_parent_alone_leaves_its_late_child() {
        let marker = format!("late-{}", std::process::id());
        let uid = nix::unistd::getuid().as_raw();
        let (mut parent, start) = parent_that_leaves_a_child(&marker);
        let t = Target {
            pid: parent.id() as i32,
            start,
            group: false,
            proof: Proof::Found,
        };
        assert!(stop(&[t], uid, Duration::from_secs(5)).await.is_empty());
        parent.wait().unwrap();
        let late = procfs::with_markers(uid, &marked(&marker));
        assert_eq!(late.len(), 1, "{late:?}");
        assert!(
            sweep(
                uid,
                marked(&marker),
                Duration::from_secs(5),
                Duration::from_secs(20)
            )
            .await
            .is_empty()
        );
    }
}
