//! `logs`: each job's output file (where the batch system put it), scheduler first.

use super::{Dialect, JobQueue};
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
    let run = q.runner();
    let jobs = q.dialect.list(&run).await?;
    let mut files = Vec::new();
    let mut roles: Vec<&crate::model::Resource> =
        c.resources.iter().filter(|r| r.kind == "job").collect();
    roles.sort_by_key(|r| r.role != Role::Scheduler);
    for r in roles {
        if req.scheduler_only && r.role != Role::Scheduler {
            continue;
        }
        if let Some(w) = &req.worker {
            let worker_name = format!("{}-{}", c.name, r.id);
            if r.role != Role::Worker || (r.id != *w && worker_name != *w) {
                continue;
            }
        }
        let Some(job) = jobs.iter().find(|j| j.id == r.id) else {
            continue;
        };
        let dir = c.private.get("dir").map(String::as_str);
        if let Some(p) = q.dialect.log_path(&run, job, dir).await {
            let label = if r.role == Role::Scheduler {
                "scheduler".to_string()
            } else {
                format!("worker {}", r.id)
            };
            files.push((label, PathBuf::from(p)));
        }
    }
    if files.is_empty() {
        return Err(Error::NotFound(match &req.worker {
            Some(w) => format!("no worker job {w:?} with a log in {}", c.qualified()),
            None => format!("no job of {} has a log file yet", c.qualified()),
        }));
    }
    crate::backends::logfiles::emit(&files, req.tail, req.follow, sink).await;
    Ok(())
}
