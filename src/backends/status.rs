//! Status classification shared by all backends: from what is known of the scheduler and of
//! the workers, decide running / pending / degraded / orphaned / stopped / unknown, and why;
//! and what a scheduler's own answer (or silence) adds to a cluster.

use crate::dask::{Address, SchedulerInfo};
use crate::model::{Cluster, Status};
use crate::units::epoch_secs;

#[derive(Debug, Clone, PartialEq)]
pub enum SchedulerState {
    /// Answered the protocol: the number of workers it has connected.
    Answering { connected: u64 },
    /// Its process runs but it does not answer.
    Silent(String),
    /// Its process is known to be gone (or it never existed).
    Gone,
    /// No process information and no answer (remote, unreachable).
    Unreachable(String),
    /// Probes are disabled; the process runs.
    NotProbed,
}

/// `alive`: worker processes/jobs running; `expected`: how many the cluster should have (its
/// record), when the backend keeps one.
pub fn classify(
    sched: &SchedulerState,
    alive: u64,
    expected: Option<u64>,
) -> (Status, Option<String>) {
    match sched {
        SchedulerState::Gone if alive > 0 => (
            Status::Orphaned,
            Some(format!("scheduler is gone; {alive} worker(s) left running")),
        ),
        SchedulerState::Gone => (
            Status::Stopped,
            Some("no scheduler or worker is running".into()),
        ),
        SchedulerState::Unreachable(why) if alive > 0 => (
            Status::Orphaned,
            Some(format!(
                "scheduler does not answer ({why}); {alive} worker(s) left"
            )),
        ),
        SchedulerState::Unreachable(why) => (
            Status::Stopped,
            Some(format!("scheduler does not answer ({why})")),
        ),
        SchedulerState::Silent(why) => (
            Status::Unknown,
            Some(format!("scheduler runs but does not answer: {why}")),
        ),
        SchedulerState::NotProbed => match expected {
            Some(e) if alive < e => (
                Status::Degraded,
                Some(format!("{alive} of {e} worker processes running")),
            ),
            _ => (Status::Running, None),
        },
        SchedulerState::Answering { connected } => match expected {
            Some(e) if alive < e => (
                Status::Degraded,
                Some(format!("{} of {e} worker processes exited", e - alive)),
            ),
            _ if *connected < alive => (
                Status::Pending,
                Some(format!("{connected} of {alive} workers connected")),
            ),
            _ => (Status::Running, None),
        },
    }
}

/// A cloud scheduler's state: its instance (`alive`; None: there is none) decides whether it is
/// gone, the API's word and never a probe's; the probe, what it said, which fills `c`, its
/// dashboard at `ip` (the instance's address, not the one the scheduler binds). `silent`: why
/// a live instance's scheduler that did not answer is `unknown`, from the probe's reason.
pub fn instance_scheduler_state(
    c: &mut Cluster,
    alive: Option<bool>,
    ip: Option<&str>,
    probe: Option<crate::dask::Probe>,
    silent: impl FnOnce(&str) -> String,
) -> SchedulerState {
    use crate::dask::Probe;
    let mut state = match alive {
        Some(true) => SchedulerState::NotProbed,
        _ => SchedulerState::Gone,
    };
    match probe {
        Some(Probe::Answered { info, idle }) => {
            if let (Some(port), Some(ip)) = (info.dashboard_port, ip) {
                c.dashboard = Some(format!("http://{ip}:{port}/status"));
            }
            fill_from_info(c, &info, idle);
            state = SchedulerState::Answering {
                connected: c.workers.unwrap_or(0),
            };
        }
        // refused before connecting (--no-probe, or probe.loopback_only without a map)
        Some(Probe::Disabled { .. }) => state = SchedulerState::NotProbed,
        Some(p) => {
            let why = probe_failed(c, p.why().unwrap_or_default());
            if state != SchedulerState::Gone {
                state = SchedulerState::Silent(silent(&why));
            }
        }
        None => {}
    }
    state
}

/// Marks a cluster whose scheduler was asked and did not answer (`Cluster::silent`: its worker
/// count is then the backend's own); the reason, for its state.
pub fn probe_failed(c: &mut Cluster, why: &str) -> String {
    c.silent = Some(why.to_string());
    why.to_string()
}

/// Fills what a scheduler's own answer tells: workers, threads, memory, idleness, worker details,
/// and the address, creation time and dashboard where the backend did not know them already.
pub fn fill_from_info(c: &mut Cluster, info: &SchedulerInfo, idle: Option<f64>) {
    if !info.id.is_empty() {
        c.scheduler_id = Some(info.id.clone());
    }
    c.workers = Some(info.workers.len() as u64);
    c.threads = Some(info.total_threads);
    c.memory = Some(info.total_memory);
    c.idle_since = idle.and_then(epoch_secs);
    if c.address.is_none() && !info.address.is_empty() {
        c.address = Some(info.address.clone());
    }
    if c.created.is_none() {
        c.created = info.started.and_then(epoch_secs);
    }
    if c.dashboard.is_none()
        && let (Some(port), Ok(a)) = (info.dashboard_port, Address::parse(&info.address))
    {
        let host = if a.host.contains(':') {
            format!("[{}]", a.host)
        } else {
            a.host
        };
        c.dashboard = Some(format!("http://{host}:{port}/status"));
    }
    c.worker_details = info.workers.clone();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instance decides gone; a probe what it said; a silent live one is `unknown` with
    /// the backend's reason, and a failed probe is noted on the cluster either way.
    #[test]
    fn a_cloud_scheduler_is_gone_by_its_instance_and_silent_by_its_probe() {
        use crate::dask::Probe;
        let failed = || {
            Some(Probe::Failed {
                fault: None,
                why: "timeout".into(),
            })
        };
        let disabled = || {
            Some(Probe::Disabled {
                why: "--no-probe".into(),
            })
        };
        let state = |alive, probe| {
            let mut c = Cluster::new("c", "aws", crate::model::Origin::Daskctl);
            let s = instance_scheduler_state(&mut c, alive, Some("10.0.0.1"), probe, |w| {
                format!("says {w}")
            });
            (s, c.silent)
        };
        let silent = Some("timeout".to_string());
        assert_eq!(state(None, None), (SchedulerState::Gone, None));
        assert_eq!(
            state(Some(false), failed()),
            (SchedulerState::Gone, silent.clone())
        );
        assert_eq!(
            state(Some(true), failed()),
            (SchedulerState::Silent("says timeout".into()), silent)
        );
        assert_eq!(state(Some(true), None), (SchedulerState::NotProbed, None));
        assert_eq!(
            state(Some(true), disabled()),
            (SchedulerState::NotProbed, None)
        );
    }

    #[test]
    fn table() {
        let a = |c| SchedulerState::Answering { connected: c };
        assert_eq!(classify(&a(2), 2, Some(2)).0, Status::Running);
        assert_eq!(classify(&a(1), 2, Some(2)).0, Status::Pending);
        assert_eq!(classify(&a(1), 1, Some(2)).0, Status::Degraded);
        assert_eq!(classify(&a(3), 0, None).0, Status::Running);
        assert_eq!(
            classify(&SchedulerState::Gone, 2, Some(2)).0,
            Status::Orphaned
        );
        assert_eq!(
            classify(&SchedulerState::Gone, 0, Some(2)).0,
            Status::Stopped
        );
        assert_eq!(
            classify(&SchedulerState::Unreachable("x".into()), 1, None).0,
            Status::Orphaned
        );
        assert_eq!(
            classify(&SchedulerState::Silent("x".into()), 1, None).0,
            Status::Unknown
        );
        assert_eq!(
            classify(&SchedulerState::NotProbed, 2, Some(2)).0,
            Status::Running
        );
    }
}
