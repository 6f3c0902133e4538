//! Reading /proc: liveness (zombies count as dead), start times (to survive PID reuse), owners,
//! the user's Python processes, their daskctl markers and the TCP ports they listen on.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub state: char,
    pub ppid: i32,
    /// The process group (field 5).
    pub pgrp: i32,
    /// Clock ticks after boot (field 22).
    pub start: u64,
}

impl Stat {
    /// Stopped by a signal (SIGSTOP, SIGTSTP: state T) or by a debugger (t): it cannot answer
    /// anything until continued, yet it lives.
    pub fn stopped(&self) -> bool {
        matches!(self.state, 'T' | 't')
    }
}

pub fn stat(pid: i32) -> Option<Stat> {
    if pid <= 0 {
        return None;
    }
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may contain spaces and parentheses: the fields start after the last ')'
    let rest = text.get(text.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
    })
}

/// The live process `pid`, if it is the one that started at `start` (when known).
pub fn live(pid: i32, start: Option<u64>) -> Option<Stat> {
    stat(pid).filter(|s| !matches!(s.state, 'Z' | 'X' | 'x') && start.is_none_or(|t| t == s.start))
}

/// Alive = exists, is not a zombie, and (when known) is the same process that was started.
pub fn alive(pid: i32, start: Option<u64>) -> bool {
    live(pid, start).is_some()
}

/// The user id a process runs as (the owner of its /proc entry).
pub fn uid(pid: i32) -> Option<u32> {
    std::fs::metadata(format!("/proc/{pid}"))
        .ok()
        .map(|m| m.uid())
}

pub fn is_python_or_dask(cmdline: &[String]) -> bool {
    cmdline.iter().take(3).any(|a| {
        let base = a.rsplit('/').next().unwrap_or(a);
        // daskctl itself is no Dask process (it would make every scan read the sockets)
        base.contains("python") || (base.starts_with("dask") && !base.starts_with("daskctl"))
    })
}

/// Every user with Python or Dask processes in `procs` (a `scan_all`), with the state root
/// each daskctl process names (marker `home`; None for processes daskctl did not start).
pub fn owners_in(procs: &[ProcInfo], home: &str) -> Vec<(u32, Option<String>)> {
    let mut out: Vec<(u32, Option<String>)> = procs
        .iter()
        .map(|p| (p.uid, p.marker(home).map(str::to_string)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The value of `--flag VALUE` or `--flag=VALUE` on a command line.
pub fn arg<'a>(cmdline: &'a [String], flag: &str) -> Option<&'a str> {
    let eq = format!("{flag}=");
    cmdline.iter().enumerate().find_map(|(i, a)| {
        if a == flag {
            cmdline.get(i + 1).map(String::as_str)
        } else {
            a.strip_prefix(&eq)
        }
    })
}

/// The command line of `pid` (empty when it cannot be read).
pub fn cmdline(pid: i32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The threads a `dask worker` command runs (its cores): `--nthreads` x `--nworkers`, with
/// dask's defaults (distributed/cli/dask_worker.py: one worker process; `nthreads` 0 or absent
/// means the CPUs this process may use divided among the worker processes). `dask scheduler`
/// holds one. None for anything else (a Python program hosting Dask says it through its
/// scheduler's thread count instead).
pub fn cores_of(cmdline: &[String]) -> Option<f64> {
    if is_cli(cmdline, "scheduler") {
        return Some(1.0);
    }
    if !is_cli(cmdline, "worker") {
        return None;
    }
    let arg = |flag: &str| arg(cmdline, flag);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    // `--nworkers auto` (and -1) is dask's "as many as CPUs"; `--nprocs` its old name
    let workers = match arg("--nworkers").or_else(|| arg("--nprocs")) {
        None => 1,
        Some("auto") => cpus,
        Some(n) => match n.parse::<i64>() {
            Ok(n) if n > 0 => n as u64,
            Ok(n) if n < 0 => (cpus as i64 + 1 + n).max(1) as u64,
            _ => 1,
        },
    };
    let threads = arg("--nthreads")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|t| *t > 0)
        .unwrap_or_else(|| (cpus / workers).max(1));
    Some((threads * workers) as f64)
}

/// When a process started, from its start time in clock ticks after boot.
pub fn started_at(start_ticks: u64) -> Option<SystemTime> {
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|t| *t > 0)? as u64;
    let btime: u64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let secs = btime.checked_add(start_ticks / ticks)?;
    let frac = Duration::from_millis((start_ticks % ticks) * 1000 / ticks);
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs) + frac)
}

#[derive(Debug, Clone)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub start: u64,
    pub state: char,
    pub uid: u32,
    pub cmdline: Vec<String>,
    /// DASKCTL_* variables of the process, if readable.
    pub markers: HashMap<String, String>,
    pub listening: Vec<(IpAddr, u16)>,
}

impl ProcInfo {
    pub fn marker(&self, k: &str) -> Option<&str> {
        self.markers.get(k).map(String::as_str)
    }

    pub fn stopped(&self) -> bool {
        matches!(self.state, 'T' | 't')
    }

    /// A standalone `dask scheduler` process (safe to signal), as opposed to a scheduler living
    /// inside a notebook kernel or script.
    pub fn is_cli(&self, role: &str) -> bool {
        is_cli(&self.cmdline, role)
    }

    /// The value of `--flag VALUE` or `--flag=VALUE` on the command line.
    pub fn arg(&self, flag: &str) -> Option<&str> {
        arg(&self.cmdline, flag)
    }

    /// The scheduler a `dask worker` command line names: `dask worker ADDRESS` or
    /// `--scheduler-file FILE` (read for its address).
    pub fn scheduler_arg(&self) -> Option<String> {
        if let Some(f) = self.arg("--scheduler-file") {
            return scheduler_file_address(f, self.uid);
        }
        self.cmdline
            .iter()
            .find(|a| a.starts_with("tcp://") || a.starts_with("tls://"))
            .cloned()
    }

    pub fn is_python_or_dask(&self) -> bool {
        is_python_or_dask(&self.cmdline)
    }

    /// The first words of the command line, for people (`python -m dask`).
    pub fn short_cmd(&self) -> String {
        let args: Vec<&str> = self
            .cmdline
            .iter()
            .map(|a| a.rsplit('/').next().unwrap_or(a))
            .take(4)
            .collect();
        args.join(" ")
    }

    /// Ports a Jupyter kernel uses for ZeroMQ (never Dask), from its connection file.
    fn kernel_ports(&self) -> HashSet<u16> {
        let mut out = HashSet::new();
        let Some(path) = self.arg("-f") else {
            return out;
        };
        let Some(text) = named_file(path, self.uid) else {
            return out;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            return out;
        };
        for k in [
            "shell_port",
            "iopub_port",
            "stdin_port",
            "control_port",
            "hb_port",
        ] {
            if let Some(p) = v
                .get(k)
                .and_then(|p| p.as_u64())
                .and_then(|p| u16::try_from(p).ok())
            {
                out.insert(p);
            }
        }
        out
    }
}

pub fn is_cli(cmdline: &[String], role: &str) -> bool {
    let joined = cmdline.join(" ");
    joined.contains(&format!("dask {role}"))
        || joined.contains(&format!("dask-{role}"))
        || joined.contains(&format!("dask_{role}"))
}

/// A small file named on the command line of a process of `owner`: read only when daskctl
/// runs as that user (never with root's rights a path another user chose), only a regular
/// file of theirs, and at most `safefile::SMALL` bytes (no FIFO, `/dev/zero` or link).
fn named_file(path: &str, owner: u32) -> Option<String> {
    if nix::unistd::geteuid().as_raw() != owner {
        tracing::debug!("{path}: named by a process of uid {owner}; not read as another user");
        return None;
    }
    crate::safefile::read_to_string(Path::new(path), Some(owner), crate::safefile::SMALL).ok()
}

/// The `address` in a Dask scheduler file named by a process of `owner` (see `named_file`).
pub fn scheduler_file_address(path: &str, owner: u32) -> Option<String> {
    let text = named_file(path, owner)?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("address")?.as_str().map(str::to_string)
}

/// Python and dask processes of `uid` (zombies left out), with their markers and listening TCP
/// sockets.
pub fn scan(uid: u32) -> Vec<ProcInfo> {
    scan_where(|u| u == uid)
}

/// Python and dask processes of every user (other users' markers and sockets are readable to
/// root only), in one pass over /proc and one read of the listening sockets: what a listing
/// of several users' clusters shares.
pub fn scan_all() -> Vec<ProcInfo> {
    scan_where(|_| true)
}

fn scan_where(owned_by: impl Fn(u32) -> bool) -> Vec<ProcInfo> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut procs = Vec::new();
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let uid = match e.metadata() {
            Ok(m) if owned_by(m.uid()) => m.uid(),
            _ => continue,
        };
        let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmdline: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        let Some(st) = stat(pid) else { continue };
        if matches!(st.state, 'Z' | 'X' | 'x') {
            continue;
        }
        let p = ProcInfo {
            pid,
            ppid: st.ppid,
            start: st.start,
            state: st.state,
            uid,
            cmdline,
            markers: HashMap::new(),
            listening: Vec::new(),
        };
        if p.is_python_or_dask() {
            procs.push(p);
        }
    }
    if procs.is_empty() {
        return procs;
    }
    let listeners = super::listeners::all();
    for p in &mut procs {
        p.markers = markers(p.pid);
        let skip = p.kernel_ports();
        for inode in socket_inodes(p.pid) {
            if let Some(addr) = listeners.get(&inode)
                && !skip.contains(&addr.1)
                && !p.listening.contains(addr)
            {
                p.listening.push(*addr);
            }
        }
    }
    procs
}

/// The socket inodes a process holds open (only readable for one's own processes, or as root).
pub fn socket_inodes(pid: i32) -> Vec<u64> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    fds.flatten()
        .filter_map(|fd| {
            let target = std::fs::read_link(fd.path()).ok()?;
            let t = target.to_string_lossy();
            t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect()
}

/// Every live process of `uid` whose environment carries all of `want` (exact `KEY=value`
/// entries), whatever it runs: a nanny's worker process, a worker's subprocess and a child
/// daskctl forked that has not yet run `exec` all inherit the markers. Returned as
/// `(pid, start)`, the start time identifying the process for the signal that follows.
pub fn with_markers(uid: u32, want: &[(String, String)]) -> Vec<(i32, u64)> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if !e.metadata().is_ok_and(|m| m.uid() == uid) {
            continue;
        }
        if carries(pid, want)
            && let Some(st) = live(pid, None)
        {
            out.push((pid, st.start));
        }
    }
    out
}

/// Whether the environment of `pid` carries every one of the `want` markers (`DASKCTL_*`).
pub fn carries(pid: i32, want: &[(String, String)]) -> bool {
    let m = markers(pid);
    want.iter().all(|(k, v)| m.get(k) == Some(v))
}

/// The live members of process group `pgrp`, with their start times.
pub fn group_members(pgrp: i32) -> Vec<(i32, u64)> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            live(pid, None)
                .filter(|s| s.pgrp == pgrp)
                .map(|s| (pid, s.start))
        })
        .collect()
}

/// The DASKCTL_* variables in a process's environment (empty when it cannot be read).
pub fn markers(pid: i32) -> HashMap<String, String> {
    let Ok(raw) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return HashMap::new();
    };
    raw.split(|b| *b == 0)
        .filter(|s| s.starts_with(b"DASKCTL_"))
        .filter_map(|s| {
            let s = String::from_utf8_lossy(s);
            let (k, v) = s.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// The memory this machine gives its processes, as Dask's `distributed.system.memory_limit`
/// computes it: total memory, lowered by a cgroup limit (v1 hard and soft, v2 max, high, low)
/// and the RSS rlimit.
pub fn memory_limit() -> Option<u64> {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())?
        .saturating_mul(1024);
    let cgroups = [
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes",
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory.high",
        "/sys/fs/cgroup/memory.low",
    ];
    let mut limit = cgroups
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok())
        .filter(|l| *l > 0)
        .fold(total, u64::min);
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given
    if unsafe { libc::getrlimit(libc::RLIMIT_RSS, &mut rl) } == 0
        && rl.rlim_max != libc::RLIM_INFINITY
        && rl.rlim_max > 0
    {
        limit = limit.min(rl.rlim_max);
    }
    Some(limit)
}

/// Where to connect to reach a socket listening on `ip` from this machine.
pub fn reach(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v) if v.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v) if v.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(v) => v.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_reuse_is_detected() {
        let me = std::process::id() as i32;
        let s = stat(me).unwrap();
        assert!(alive(me, Some(s.start)));
        assert!(!alive(me, Some(s.start + 1)));
        assert!(!alive(i32::MAX, None));
        assert!(!alive(0, None) && !alive(-1, None), "no pid 0 or -1");
        let started = started_at(s.start).unwrap();
        let age = SystemTime::now().duration_since(started).unwrap();
        assert!(age < Duration::from_secs(24 * 3600), "{age:?}");
    }

    #[test]
    fn zombie_is_dead() {
        let child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        // not reaped: it becomes a zombie once it exits
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while stat(pid).map(|s| s.state) != Some('Z') {
            assert!(std::time::Instant::now() < deadline, "child never exited");
            std::thread::yield_now();
        }
        assert!(!alive(pid, None));
        drop(child);
    }
}
