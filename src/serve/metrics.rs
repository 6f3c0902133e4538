//! `/metrics`: the snapshot in the Prometheus text exposition format (version 0.0.4): one gauge
//! per cluster and quantity, labelled `backend`, `name`, `owner`, `status`, `origin`; cluster
//! counts by status; each backend up or not at the last discovery.

use super::{Server, Snapshot};
use crate::exposition::esc;
use crate::exposition::gauge;
use crate::model::{Cluster, Status};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::Arc;
use std::time::SystemTime;

pub async fn metrics(State(s): State<Arc<Server>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&s.snapshot(), SystemTime::now()),
    )
}

/// The cluster's name, with its namespace where it has one (two namespaces may each have one
/// of a name: their series must differ).
fn name_of(c: &Cluster) -> String {
    match &c.namespace {
        Some(ns) => format!("{ns}/{}", c.name),
        None => c.name.clone(),
    }
}

fn labels(c: &Cluster) -> String {
    let origin = crate::model::word(c.origin);
    format!(
        "backend=\"{}\",name=\"{}\",owner=\"{}\",status=\"{}\",origin=\"{}\"",
        esc(&c.backend),
        esc(&name_of(c)),
        esc(c.owner.as_deref().unwrap_or("")),
        c.status.as_str(),
        esc(&origin)
    )
}

const STATUSES: [Status; 7] = [
    Status::Pending,
    Status::Running,
    Status::Degraded,
    Status::Orphaned,
    Status::Stopping,
    Status::Stopped,
    Status::Unknown,
];

pub fn render(snap: &Snapshot, now: SystemTime) -> String {
    let mut out = String::new();
    let mut gauge =
        |name: &str, help: &str, rows: Vec<(String, f64)>| gauge(&mut out, name, help, rows);
    let per = |f: &dyn Fn(&Cluster) -> Option<f64>| -> Vec<(String, f64)> {
        snap.clusters
            .iter()
            .filter_map(|c| Some((labels(c), f(c)?)))
            .collect()
    };
    gauge(
        "daskctl_cluster_workers",
        "Workers the scheduler has (workers asked for when it does not answer).",
        per(&|c| c.workers.or(c.requested_workers).map(|w| w as f64)),
    );
    gauge(
        "daskctl_cluster_threads",
        "Threads of the cluster's workers.",
        per(&|c| c.threads.map(|t| t as f64)),
    );
    gauge(
        "daskctl_cluster_memory_bytes",
        "Memory limit of the cluster's workers, in bytes.",
        per(&|c| c.memory.map(|m| m as f64)),
    );
    gauge(
        "daskctl_cluster_cores",
        "Cores the cluster's jobs, pods, instances or processes asked for (running and waiting).",
        per(&|c| c.cores),
    );
    gauge(
        "daskctl_cluster_core_hours_total",
        "Core-hours held by the resources the cluster runs now, each since it started (a resource that ends leaves the sum).",
        per(&|c| c.core_hours),
    );
    let priced = |f: fn(&crate::model::Cost) -> f64| -> Vec<(String, f64)> {
        snap.clusters
            .iter()
            .filter_map(|c| {
                let cost = c.cost.as_ref()?;
                Some((
                    format!("{},currency=\"{}\"", labels(c), esc(&cost.currency)),
                    f(cost),
                ))
            })
            .collect()
    };
    gauge(
        "daskctl_cluster_cost_per_hour",
        "What the resources the cluster holds now cost per hour ([pricing] in the config).",
        priced(|c| c.per_hour),
    );
    gauge(
        "daskctl_cluster_cost_total",
        "What the resources the cluster holds now have cost since they started.",
        priced(|c| c.total),
    );
    gauge(
        "daskctl_cluster_idle_seconds",
        "Seconds the scheduler has had nothing to do (0 while busy).",
        per(&|c| {
            // only clusters whose scheduler answered: idle_since None then means busy
            if c.status != Status::Running && c.status != Status::Degraded {
                return None;
            }
            Some(
                c.idle_since
                    .and_then(|t| now.duration_since(t).ok())
                    .map_or(0.0, |d| d.as_secs_f64().floor()),
            )
        }),
    );
    totals(&mut out, snap, now);
    out
}

/// The gauges of the whole snapshot: clusters by status, backends up, the snapshot's age.
fn totals(out: &mut String, snap: &Snapshot, now: SystemTime) {
    gauge(
        out,
        "daskctl_clusters",
        "Clusters by status.",
        STATUSES
            .iter()
            .map(|s| {
                let n = snap.clusters.iter().filter(|c| c.status == *s).count();
                (format!("status=\"{}\"", s.as_str()), n as f64)
            })
            .collect(),
    );
    gauge(
        out,
        "daskctl_backend_up",
        "1 if the backend's last discovery succeeded, 0 if it failed or did not answer in time.",
        snap.backends
            .iter()
            .map(|(b, up)| {
                (
                    format!("backend=\"{}\"", esc(b)),
                    if *up { 1.0 } else { 0.0 },
                )
            })
            .collect(),
    );
    // (taken a moment after `now` was read: 0, not "none yet")
    let age = snap.taken.map_or(-1.0, |t| {
        now.duration_since(t)
            .map_or(0.0, |d| d.as_secs_f64().floor())
    });
    gauge(
        out,
        "daskctl_snapshot_age_seconds",
        "Seconds since the discovery these figures come from (-1: none yet).",
        vec![(String::new(), age)],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;

    #[test]
    fn clusters_become_labelled_gauges() {
        let mut c = Cluster::new("e\"tl", "local", Origin::Daskctl);
        c.status = Status::Running;
        c.workers = Some(2);
        c.threads = Some(4);
        c.owner = Some("ann".into());
        let now = SystemTime::now();
        c.idle_since = Some(now - std::time::Duration::from_secs(90));
        let snap = Snapshot {
            clusters: vec![c],
            backends: vec![("local".into(), true), ("slurm".into(), false)],
            warnings: vec![],
            taken: Some(now),
        };
        let text = render(&snap, now);
        let l = r#"backend="local",name="e\"tl",owner="ann",status="running",origin="daskctl""#;
        assert!(
            text.contains(&format!("daskctl_cluster_workers{{{l}}} 2\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("daskctl_cluster_threads{{{l}}} 4\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("daskctl_cluster_idle_seconds{{{l}}} 90\n")),
            "{text}"
        );
        assert!(
            !text.contains("daskctl_cluster_memory_bytes{"),
            "no memory known: {text}"
        );
        assert!(
            text.contains("daskctl_clusters{status=\"running\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("daskctl_clusters{status=\"orphaned\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("daskctl_backend_up{backend=\"slurm\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE daskctl_cluster_workers gauge\n"),
            "{text}"
        );
    }
}
