//! Finding clusters across backends: concurrent fan-out with per-backend deadlines, name
//! resolution, status classification, and the name cache used by shell completion.

pub mod cache;
pub mod fanout;
pub mod orphan;
pub mod resolve;

pub use fanout::{Outcome, enabled_backends, fan_out};
pub use resolve::resolve;

use crate::dask::{Address, SchedulerInfo};
use crate::model::Cluster;
use crate::units::epoch_secs;

/// Set in `Cluster::private` when the scheduler was asked but did not answer: the worker count is
/// then the backend's own (running jobs, pods, instances), which may not match the scheduler's.
pub const PROBE_FAILED: &str = "probe_failed";

/// Marks a cluster whose scheduler was asked and did not answer; the reason, for its state.
pub fn probe_failed(c: &mut Cluster, e: &crate::error::Error) -> String {
    c.private.insert(PROBE_FAILED.into(), e.to_string());
    e.to_string()
}

/// Fills what a scheduler's own answer tells: workers, threads, memory, idleness, worker details,
/// and the address, creation time and dashboard where the backend did not know them already.
pub fn fill_from_info(c: &mut Cluster, info: &SchedulerInfo, idle: Option<f64>) {
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
