//! `logs`: each job's output file (where the batch system put it), scheduler first.

use super::{Dialect, Job, JobQueue};
use crate::backends::{LogRequest, LogSink};
use crate::error::{Error, Result};
use crate::model::{Cluster, Role};
use std::path::PathBuf;

pub async fn logs<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    req: &LogRequest,
    sink: &mut dyn LogSink,
) -> Result<()> {
    let h = super::handle(c)?;
    let run = q.runner();
    let mut jobs: Vec<&(Job, Role)> = h.jobs.iter().collect();
    jobs.sort_by_key(|(j, r)| (*r != Role::Scheduler, super::jobid::JobKey::parse(&j.id)));
    // `--worker N`: a worker by name or job id, else the N-th worker job (0-based, in job order,
    // as the local backend numbers NAME-0, NAME-1, ...)
    let by_number = req.worker.as_deref().and_then(|w| {
        let named = jobs
            .iter()
            .any(|(j, r)| *r == Role::Worker && is_worker(c, h, j, w));
        let n: usize = w.parse().ok().filter(|_| !named)?;
        jobs.iter()
            .filter(|(_, r)| *r == Role::Worker)
            .nth(n)
            .map(|(j, _)| j.id.clone())
    });
    let mut files = Vec::new();
    let mut ids = Vec::new();
    for (job, role) in jobs {
        if req.scheduler_only && *role != Role::Scheduler {
            continue;
        }
        if let Some(w) = &req.worker
            && (*role != Role::Worker
                || !(is_worker(c, h, job, w) || by_number.as_deref() == Some(job.id.as_str())))
        {
            continue;
        }
        if let Some(p) = q.dialect.log_path(&run, job, h.dir.as_deref()).await {
            let label = if *role == Role::Scheduler {
                "scheduler".to_string()
            } else {
                format!("worker {}", job.id)
            };
            files.push((label, PathBuf::from(p)));
            ids.push(job.id.clone());
        }
    }
    if files.is_empty() {
        return Err(Error::NotFound(match &req.worker {
            Some(w) => format!("no worker job {w:?} with a log in {}", c.qualified()),
            None => format!("no job of {} has a log file yet", c.qualified()),
        }));
    }
    // the job's output is its owner's file: a path in someone else's hands (root's, another
    // user's) is not read, whatever the job says
    let owner = h
        .jobs
        .first()
        .and_then(|(j, _)| nix::unistd::User::from_name(&j.user).ok().flatten())
        .map_or(q.ctx.user.uid, |u| u.uid.as_raw());
    let writers = Jobs { q, ids };
    crate::backends::logfiles::emit(
        &files,
        Some(owner),
        req.tail,
        req.follow,
        Some(&writers),
        sink,
    )
    .await;
    Ok(())
}

/// The jobs writing the followed logs, asked of the queue: `--follow` ends when none is in it.
struct Jobs<'a, D: Dialect> {
    q: &'a JobQueue<D>,
    ids: Vec<String>,
}

#[async_trait::async_trait]
impl<D: Dialect> crate::backends::logfiles::Writers for Jobs<'_, D> {
    async fn alive(&self) -> Vec<bool> {
        match self
            .q
            .dialect
            .list(&self.q.runner(), &super::Interest::Everything)
            .await
        {
            Ok(jobs) => self
                .ids
                .iter()
                .map(|id| jobs.iter().any(|j| &j.id == id && j.state.active()))
                .collect(),
            // the queue cannot say: keep following
            Err(_) => vec![true; self.ids.len()],
        }
    }
}

/// Whether `w` names this worker job: the Dask worker's name (`describe` shows it; daskctl names
/// its workers after the job's runtime id, `NAME-$SLURM_JOB_ID`), the runtime id, or the job id.
fn is_worker(c: &Cluster, h: &super::QueueHandle, job: &Job, w: &str) -> bool {
    let runtime = job.runtime_id.as_deref().unwrap_or(&job.id);
    w == job.id
        || w == runtime
        || w == format!("{}-{runtime}", c.name)
        || job.worker_name.as_deref() == Some(w)
        || h.worker_names
            .iter()
            .any(|(name, id)| name == w && *id == job.id)
}

/// For systems that copy a job's output back only when it ends (PBS, Moab over Torque): the
/// script line that makes a job write its own log, `<logs>/<role>-<job id>.log`, readable while
/// it runs.
pub fn own_log_preamble(logs: &std::path::Path, role: &str, job_id_expr: &str) -> Vec<String> {
    let log = super::script::quote(&logs.to_string_lossy());
    vec![format!("exec >>{log}/{role}-\"{job_id_expr}\".log 2>&1")]
}

/// Where a job started with `own_log_preamble` writes: its marker's directory (or the cluster's
/// shared directory), its role, the id it saw; else the output path the queue shows.
pub fn own_log_path(job: &Job, cluster_dir: Option<&str>) -> Option<String> {
    let m = job
        .marker
        .as_deref()
        .and_then(super::markers::Marker::decode);
    // CLUSTER-scheduler, CLUSTER-worker, CLUSTER-worker-GROUP: every worker logs as one
    let role = if job.name.ends_with("-scheduler") {
        "scheduler"
    } else {
        "worker"
    }
    .to_string();
    let (dir, role) = match (m, cluster_dir) {
        (Some(m), _) => (m.dir, m.role),
        (None, Some(d)) => (d.to_string(), role),
        (None, None) => return job.stdout.clone(),
    };
    let id = job.runtime_id.clone().unwrap_or_else(|| job.id.clone());
    Some(format!("{dir}/logs/{role}-{id}.log"))
}
