//! Reading /proc: liveness (zombies count as dead), start times (to survive PID reuse), the
//! user's Python processes and the TCP ports they listen on.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub state: char,
    pub ppid: i32,
    /// Clock ticks after boot (field 22).
    pub start: u64,
}

pub fn stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may contain spaces and parentheses: the fields start after the last ')'
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
    })
}

/// Alive = exists, is not a zombie, and (when known) is the same process that was started.
pub fn alive(pid: i32, start: Option<u64>) -> bool {
    match stat(pid) {
        Some(s) => !matches!(s.state, 'Z' | 'X' | 'x') && start.is_none_or(|t| t == s.start),
        None => false,
    }
}

#[derive(Debug, Clone)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub start: u64,
    pub cmdline: Vec<String>,
    /// DASKCTL_* variables of the process, if readable.
    pub markers: HashMap<String, String>,
    pub listening: Vec<(IpAddr, u16)>,
}

impl ProcInfo {
    pub fn marker(&self, k: &str) -> Option<&str> {
        self.markers.get(k).map(String::as_str)
    }

    /// A standalone `dask scheduler` process (safe to signal), as opposed to a scheduler living
    /// inside a notebook kernel or script.
    pub fn is_cli(&self, role: &str) -> bool {
        let joined = self.cmdline.join(" ");
        joined.contains(&format!("dask {role}"))
            || joined.contains(&format!("dask-{role}"))
            || joined.contains(&format!("dask_{role}"))
    }

    /// The scheduler a `dask worker` command line names: `dask worker ADDRESS` or
    /// `--scheduler-file FILE` (read for its address).
    pub fn scheduler_arg(&self) -> Option<String> {
        let args = &self.cmdline;
        for (i, a) in args.iter().enumerate() {
            let file = if a == "--scheduler-file" {
                args.get(i + 1).map(String::as_str)
            } else {
                a.strip_prefix("--scheduler-file=")
            };
            if let Some(f) = file {
                let text = std::fs::read_to_string(f).ok()?;
                let v: serde_json::Value = serde_json::from_str(&text).ok()?;
                return v.get("address")?.as_str().map(str::to_string);
            }
        }
        args.iter()
            .find(|a| a.starts_with("tcp://") || a.starts_with("tls://"))
            .cloned()
    }

    pub fn is_python_or_dask(&self) -> bool {
        self.cmdline.iter().take(3).any(|a| {
            let base = a.rsplit('/').next().unwrap_or(a);
            base.contains("python") || base.starts_with("dask")
        })
    }

    /// Ports a Jupyter kernel uses for ZeroMQ (never Dask), from its connection file.
    fn kernel_ports(&self) -> HashSet<u16> {
        let mut out = HashSet::new();
        let Some(i) = self.cmdline.iter().position(|a| a == "-f") else {
            return out;
        };
        let Some(path) = self.cmdline.get(i + 1) else {
            return out;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
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
            if let Some(p) = v.get(k).and_then(|p| p.as_u64()) {
                out.insert(p as u16);
            }
        }
        out
    }
}

/// Python and dask processes of `uid`, with their listening TCP sockets.
pub fn scan(uid: u32) -> Vec<ProcInfo> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut procs = Vec::new();
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        match e.metadata() {
            Ok(m) if m.uid() == uid => {}
            _ => continue,
        }
        let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmdline: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        let Some(st) = stat(pid) else { continue };
        if matches!(st.state, 'Z' | 'X') {
            continue;
        }
        let p = ProcInfo {
            pid,
            ppid: st.ppid,
            start: st.start,
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
    let listeners = listening_inodes();
    for p in &mut procs {
        p.markers = markers(p.pid);
        let skip = p.kernel_ports();
        let Ok(fds) = std::fs::read_dir(format!("/proc/{}/fd", p.pid)) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let t = target.to_string_lossy();
            let Some(inode) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) else {
                continue;
            };
            if let Some(addr) = inode.parse::<u64>().ok().and_then(|i| listeners.get(&i))
                && !skip.contains(&addr.1)
                && !p.listening.contains(addr)
            {
                p.listening.push(*addr);
            }
        }
    }
    procs
}

fn markers(pid: i32) -> HashMap<String, String> {
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

/// inode -> listening address, from /proc/net/tcp and tcp6 (state 0A = LISTEN).
fn listening_inodes() -> HashMap<u64, (IpAddr, u16)> {
    let mut out = HashMap::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != "0A" {
                continue;
            }
            let Some((ip, port)) = parse_addr(f[1], v6) else {
                continue;
            };
            if let Ok(inode) = f[9].parse::<u64>() {
                out.insert(inode, (ip, port));
            }
        }
    }
    out
}

fn parse_addr(s: &str, v6: bool) -> Option<(IpAddr, u16)> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = if v6 {
        let mut b = [0u8; 16];
        for (i, word) in (0..4).map(|i| &ip[8 * i..8 * i + 8]).enumerate() {
            let w = u32::from_str_radix(word, 16).ok()?;
            b[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
        IpAddr::V6(Ipv6Addr::from(b))
    } else {
        let w = u32::from_str_radix(ip, 16).ok()?;
        IpAddr::V4(Ipv4Addr::from(w.to_le_bytes()))
    };
    Some((ip, port))
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
    fn parses_proc_net_addresses() {
        assert_eq!(
            parse_addr("0100007F:1F90", false),
            Some((IpAddr::V4(Ipv4Addr::LOCALHOST), 8080))
        );
        assert_eq!(
            parse_addr("00000000000000000000000001000000:0050", true),
            Some((IpAddr::V6(Ipv6Addr::LOCALHOST), 80))
        );
    }

    #[test]
    fn own_process_is_alive_and_reuse_is_detected() {
        let me = std::process::id() as i32;
        let s = stat(me).unwrap();
        assert!(alive(me, Some(s.start)));
        assert!(!alive(me, Some(s.start + 1)));
        assert!(!alive(i32::MAX, None));
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
