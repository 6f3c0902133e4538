//! `logs`: the log files daskctl's processes write, or, for schedulers daskctl did not start,
//! the recent log records the scheduler and its workers keep in memory (`logs`/`worker_logs`).

use super::Local;
use crate::backends::{LogRequest, LogSink};
use crate::error::{Error, Result};
use crate::model::Cluster;
use std::path::PathBuf;

pub async fn logs(b: &Local, c: &Cluster, req: &LogRequest, sink: &mut dyn LogSink) -> Result<()> {
    let h = super::handle::handle(c)?;
    let files = h
        .state_dir()
        .map(|d| log_files(&d.logs()))
        .unwrap_or_default();
    let own = h.own_scheduler() && h.state_dir().is_some();
    let mut files = files;
    if !own {
        // scheduler (and foreign workers) from memory; daskctl-attached workers from files
        remote_logs(b, c, req, sink).await?;
        files.retain(|(label, _)| label != "scheduler");
        if req.scheduler_only {
            files.clear();
        }
    }
    let selected = select(files, req, own)?;
    // the user's own files, written by their processes
    let owner = Some(b.ctx.user.uid);
    let writers = Procs(
        selected
            .iter()
            .map(|(label, _)| writer_of(h, label))
            .collect(),
    );
    crate::backends::logfiles::emit(&selected, owner, req.tail, req.follow, Some(&writers), sink)
        .await;
    Ok(())
}

/// The process writing the log labelled `label` (the scheduler, or a worker by its name), by
/// pid and start time; None: none known to run (a retired worker's log).
fn writer_of(h: &super::handle::LocalHandle, label: &str) -> Option<(i32, u64)> {
    let f = if label == "scheduler" {
        h.scheduler.as_ref()
    } else {
        h.workers.iter().find(|w| w.name.as_deref() == Some(label))
    }?;
    Some((f.pid, f.start))
}

/// The processes writing the followed logs: `--follow` ends when all are gone.
struct Procs(Vec<Option<(i32, u64)>>);

#[async_trait::async_trait]
impl crate::backends::logfiles::Writers for Procs {
    async fn alive(&self) -> Vec<bool> {
        self.0
            .iter()
            .map(|w| w.is_some_and(|(pid, start)| super::procfs::alive(pid, Some(start))))
            .collect()
    }
}

fn log_files(dir: &std::path::Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(String, PathBuf)> = rd
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let stem = p.file_name()?.to_str()?.strip_suffix(".log")?.to_string();
            Some((stem, p))
        })
        .collect();
    // scheduler first, then workers in start order
    v.sort_by_key(|(l, _)| {
        (
            l != "scheduler",
            l.rsplit('-').next().and_then(|n| n.parse::<u64>().ok()),
            l.clone(),
        )
    });
    v
}

fn select(
    files: Vec<(String, PathBuf)>,
    req: &LogRequest,
    own: bool,
) -> Result<Vec<(String, PathBuf)>> {
    if req.scheduler_only {
        return Ok(files
            .into_iter()
            .filter(|(l, _)| l == "scheduler")
            .collect());
    }
    let Some(w) = &req.worker else {
        return Ok(files);
    };
    let hit: Vec<_> = files
        .iter()
        .filter(|(l, _)| l != "scheduler" && (l == w || l.rsplit('-').next() == Some(w.as_str())))
        .cloned()
        .collect();
    if hit.is_empty() && own {
        let names: Vec<&str> = files
            .iter()
            .map(|(l, _)| l.as_str())
            .filter(|l| *l != "scheduler")
            .collect();
        return Err(Error::NotFound(format!(
            "no worker {w:?}; workers: {}",
            names.join(", ")
        )));
    }
    Ok(hit)
}

async fn remote_logs(
    b: &Local,
    c: &Cluster,
    req: &LogRequest,
    sink: &mut dyn LogSink,
) -> Result<()> {
    let Some(address) = &c.address else {
        return Ok(());
    };
    let mut comm = match b.ctx.prober.connect(address).await {
        Ok(comm) => comm,
        Err(e) => {
            return Err(Error::backend(
                "local",
                format!(
                    "no log files for {} and its scheduler does not answer: {e}",
                    c.name
                ),
            ));
        }
    };
    let r = crate::backends::logfiles::from_scheduler(&mut comm, c, req, sink).await;
    comm.close().await;
    r
}
