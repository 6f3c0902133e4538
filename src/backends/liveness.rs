//! What a failed probe says about a scheduler the backend cannot see as a process, job, pod or
//! instance. A failed probe alone never makes a cluster orphaned:
//!
//! - nothing listens at the address (connection refused, or no listening socket on this machine
//!   when the address is this machine's): the scheduler is gone;
//! - something listens on this machine: it lives (a frozen or busy scheduler), status `unknown`;
//! - a remote address that does not answer: `unknown` until it has been silent for longer than
//!   `probe.orphan_grace` (default 5 minutes), as Kubernetes and Slurm wait before declaring a
//!   node dead. The first silent time is remembered across runs (`STATE_DIR/silence.json`), so
//!   a cron job every few minutes sees the grace run out.

use super::local::procfs;
use crate::backends::Context;
use crate::backends::status::SchedulerState;
use crate::dask::{Address, Probe};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

pub const DEFAULT_GRACE: Duration = Duration::from_secs(300);

/// The scheduler's state after `address` was probed with this outcome (an answer is
/// `Answering`, and ends any silence).
pub fn after_probe(ctx: &Context, address: &str, probe: &Probe) -> SchedulerState {
    let why = match probe {
        Probe::Answered { info, .. } => {
            ctx.silence.forget(address);
            return SchedulerState::Answering {
                connected: info.workers.len() as u64,
            };
        }
        Probe::Disabled { .. } => return SchedulerState::NotProbed,
        Probe::Refused { why } => {
            ctx.silence.forget(address);
            return SchedulerState::Unreachable(format!("nothing listens at {address}: {why}"));
        }
        Probe::Failed { why, .. } => why,
    };
    if let Ok(a) = Address::parse(address)
        && is_this_machine(&a.host)
    {
        ctx.silence.forget(address);
        return match listener(&a) {
            Some(inode) => SchedulerState::Silent(match stopped_owner(ctx.user.uid, inode) {
                Some(pid) => stopped_reason(pid),
                None => {
                    format!("{address} is listening on this machine but does not answer: {why}")
                }
            }),
            None => {
                SchedulerState::Unreachable(format!("nothing listens at {address} on this machine"))
            }
        };
    }
    after_silence(ctx, address, why)
}

/// A remote scheduler that did not answer (`why`): silent (`unknown`) until it has been so for
/// the grace period, then gone.
pub fn after_silence(ctx: &Context, address: &str, why: &str) -> SchedulerState {
    let since = ctx.silence.since(address);
    let silent = SystemTime::now().duration_since(since).unwrap_or_default();
    let grace = ctx.silence.grace;
    let for_how_long = humantime::format_duration(Duration::from_secs(silent.as_secs()));
    if silent >= grace {
        SchedulerState::Unreachable(format!(
            "silent for {for_how_long}, longer than the grace period of {} ({why})",
            humantime::format_duration(grace)
        ))
    } else {
        SchedulerState::Silent(format!(
            "not answering for {for_how_long} ({why}); orphaned only after {} of silence",
            humantime::format_duration(grace)
        ))
    }
}

/// The reason shown for a scheduler whose process is stopped by a signal.
pub fn stopped_reason(pid: i32) -> String {
    format!(
        "scheduler process {pid} is stopped by a signal (state T); resume it with: kill -CONT {pid}"
    )
}

/// Whether a host name or address is one of this machine's own.
pub fn is_this_machine(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) => {
            ip.is_loopback()
                || nix::ifaddrs::getifaddrs().is_ok_and(|mut addrs| {
                    addrs.any(|a| a.address.and_then(|s| sock_ip(&s)) == Some(ip))
                })
        }
        Err(_) => nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .is_some_and(|h| h == host || h.split('.').next() == Some(host)),
    }
}

fn sock_ip(s: &nix::sys::socket::SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = s.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    s.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

/// The inode of a socket listening where `a` points, on this machine.
fn listener(a: &Address) -> Option<u64> {
    let want: Option<IpAddr> = a.host.parse().ok();
    super::local::listeners::all()
        .into_iter()
        .find(|(_, (ip, port))| {
            *port == a.port
                && (ip.is_unspecified()
                    || want.is_none_or(|w| {
                        procfs::reach(*ip) == w || (w.is_loopback() && ip.is_loopback())
                    }))
        })
        .map(|(inode, _)| inode)
}

/// One of the user's processes that holds socket `inode` and is stopped by a signal.
fn stopped_owner(uid: u32, inode: u64) -> Option<i32> {
    procfs::scan(uid)
        .into_iter()
        .find(|p| p.stopped() && procfs::socket_inodes(p.pid).contains(&inode))
        .map(|p| p.pid)
}

/// When each remote scheduler address was first seen silent, kept in a small JSON file. Two
/// daskctl runs writing at once can lose an entry; that only restarts its grace period (the
/// safe direction), so the file needs no lock.
pub struct Silence {
    path: Option<PathBuf>,
    pub grace: Duration,
    seen: Mutex<Option<BTreeMap<String, f64>>>,
}

/// Entries older than this are dropped: the address is long gone or was reused.
const FORGET_AFTER: f64 = 30.0 * 86_400.0;

impl Silence {
    pub fn new(path: Option<PathBuf>, grace: Duration) -> Silence {
        Silence {
            path,
            grace,
            seen: Mutex::new(None),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, f64>) -> (T, bool)) -> T {
        let mut guard = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let map = guard.get_or_insert_with(|| self.load());
        let (out, changed) = f(map);
        if changed {
            self.store(map);
        }
        out
    }

    /// Since when `address` has been silent; now, for an address not seen silent before.
    pub fn since(&self, address: &str) -> SystemTime {
        let now = epoch(SystemTime::now());
        let first = self.with(|m| match m.get(address) {
            Some(t) if *t <= now => (*t, false),
            _ => {
                m.insert(address.to_string(), now);
                (now, true)
            }
        });
        crate::units::epoch_secs(first).unwrap_or_else(SystemTime::now)
    }

    /// `address` answered, or is known gone: its silence is over.
    pub fn forget(&self, address: &str) {
        self.with(|m| ((), m.remove(address).is_some()));
    }

    fn load(&self) -> BTreeMap<String, f64> {
        let Some(p) = &self.path else {
            return BTreeMap::new();
        };
        let now = epoch(SystemTime::now());
        crate::safefile::read(p, None, crate::safefile::SMALL)
            .ok()
            .and_then(|b| serde_json::from_slice::<BTreeMap<String, f64>>(&b).ok())
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, t)| t.is_finite() && *t <= now && now - *t < FORGET_AFTER)
            .collect()
    }

    fn store(&self, m: &BTreeMap<String, f64>) {
        let Some(p) = &self.path else { return };
        let text = serde_json::to_vec(m).expect("serialisable");
        if let Err(e) = crate::backends::local::state::write_atomic(p, &text) {
            tracing::warn!("cannot remember silent schedulers in {}: {e}", p.display());
        }
    }
}

fn epoch(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_remembered_across_runs_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("silence.json");
        let a = Silence::new(Some(p.clone()), DEFAULT_GRACE);
        let first = a.since("tcp://10.9.9.9:8786");
        // a later run (a new process) sees the same first-silent time
        let b = Silence::new(Some(p.clone()), DEFAULT_GRACE);
        let again = b.since("tcp://10.9.9.9:8786");
        let gap = again
            .duration_since(first)
            .or_else(|e| Ok::<_, ()>(e.duration()))
            .unwrap();
        assert!(gap < Duration::from_millis(1), "{gap:?}");
        b.forget("tcp://10.9.9.9:8786");
        let c = Silence::new(Some(p), DEFAULT_GRACE);
        assert!(c.since("tcp://10.9.9.9:8786") > first);
    }

    #[test]
    fn loopback_and_own_addresses_are_this_machine() {
        assert!(is_this_machine("127.0.0.1"));
        assert!(is_this_machine("::1"));
        assert!(is_this_machine("localhost"));
        assert!(!is_this_machine("192.0.2.1"), "TEST-NET-1 is nobody's");
    }
}
