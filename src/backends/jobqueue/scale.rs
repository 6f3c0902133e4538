//! `scale`: one worker per job. Up submits ONE array of the cluster's own worker script (read
//! back from the queue, or daskctl's copy in the shared directory); down cancels queued jobs
//! first, then retires running workers through the scheduler and cancels exactly their jobs.
//! Queued jobs count as requested workers.

use super::delete::cancel_and_wait;
use super::{Dialect, JobQueue, JobState, script};
use crate::backends::{ScaleReport, ScaleRequest};
use crate::error::{Error, IoContext, Result};
use crate::model::{Cluster, Role};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub async fn scale<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    req: &ScaleRequest,
) -> Result<ScaleReport> {
    let kind = c.private.get("kind").map(String::as_str).unwrap_or("");
    if kind == "gateway" {
        return Err(Error::Usage(format!(
            "{} is managed by dask-gateway: scale it through the gateway",
            c.qualified()
        )));
    }
    let run = q.runner();
    let ids: Vec<&str> = c
        .resources
        .iter()
        .filter(|r| r.role == Role::Worker)
        .map(|r| r.id.as_str())
        .collect();
    let target = req.target as u64;
    // discovery just counted the active worker jobs: scaling up needs no second listing
    let counted = c
        .requested_workers
        .filter(|n| target > *n && kind == "daskctl");
    let mut workers: Vec<super::Job> = match counted {
        Some(_) => Vec::new(),
        None => q
            .dialect
            .list(&run)
            .await?
            .into_iter()
            .filter(|j| j.state.active() && ids.contains(&j.id.as_str()))
            .collect(),
    };
    // newest last
    workers.sort_by_key(|j| (j.submitted, j.id.parse::<u64>().unwrap_or(0)));
    let before = if workers.is_empty() {
        c.requested_workers.unwrap_or(0)
    } else {
        workers.len() as u64
    };
    let mut report = ScaleReport::new(before, target);

    if target > before {
        let text = worker_script(q, c, &workers).await?;
        let text = if kind == "daskctl" {
            text
        } else {
            script::uniquify_worker_name(&text, q.dialect.job_id_expr())
        };
        let dir = q
            .ctx
            .config
            .cache_root()
            .join(format!("{}-submit", q.dialect.name()));
        std::fs::create_dir_all(&dir).ctx(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{}-worker.sh", c.name));
        super::create::write(&path, &text)?;
        let n = (target - before) as u32;
        let ids = super::create::submit_workers(q, &path, n)
            .await
            .map_err(|(e, _)| e)?;
        report.started.push(if q.dialect.arrays() {
            format!("{n} job(s) in array {}", ids.join(","))
        } else {
            format!("jobs {}", ids.join(", "))
        });
    } else if target < before {
        let k = (before - target) as usize;
        let mut victims: Vec<&super::Job> = workers
            .iter()
            .rev()
            .filter(|j| j.state != JobState::Running)
            .take(k)
            .collect();
        let queued = victims.len();
        victims.extend(
            workers
                .iter()
                .rev()
                .filter(|j| j.state == JobState::Running)
                .take(k - queued),
        );
        let running: Vec<&super::Job> = victims
            .iter()
            .copied()
            .filter(|j| j.state == JobState::Running)
            .collect();
        if !running.is_empty()
            && let Some(addr) = &c.address
        {
            retire(q, c, addr, &running).await?;
        }
        let vids: Vec<String> = victims.iter().map(|j| j.id.clone()).collect();
        cancel_and_wait(q, &vids, req.timeout).await?;
        report.stopped = vids.iter().map(|id| format!("job {id}")).collect();
    }
    if req.wait {
        wait(q, c, target, Instant::now() + req.timeout).await?;
    }
    Ok(report)
}

/// The worker script to submit again: daskctl's own copy, else one read back from the queue.
async fn worker_script<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    workers: &[super::Job],
) -> Result<String> {
    if let Some(dir) = c.private.get("dir")
        && let Ok(s) = std::fs::read_to_string(PathBuf::from(dir).join("worker.sh"))
    {
        return Ok(s);
    }
    let run = q.runner();
    for j in workers.iter().rev() {
        if let Some(argv) = q.dialect.batch_script(&j.id)
            && let Ok(o) = run.run(&argv).await
            && !o.stdout.trim().is_empty()
        {
            return Ok(o.stdout);
        }
    }
    Err(Error::backend(
        q.dialect.name(),
        format!(
            "no worker script of {} can be read back from the queue",
            c.qualified()
        ),
    ))
}

/// Retires the Dask workers running in these jobs, so their data moves before the jobs end.
async fn retire<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    addr: &str,
    jobs: &[&super::Job],
) -> Result<()> {
    let mapped: Vec<(String, String)> = c
        .private
        .get("worker_names")
        .map(|s| {
            s.lines()
                .filter_map(|l| {
                    l.split_once('=')
                        .map(|(n, id)| (n.to_string(), id.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let names: Vec<String> = c
        .worker_details
        .iter()
        .filter(|w| {
            jobs.iter().any(|j| {
                j.runtime_id
                    .as_ref()
                    .is_some_and(|r| w.name.ends_with(&format!("-{r}")))
                    || mapped.iter().any(|(n, id)| *n == w.name && *id == j.id)
            })
        })
        .map(|w| w.name.clone())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    q.ctx.prober.retire(addr, &names).await?;
    Ok(())
}

async fn wait<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    target: u64,
    deadline: Instant,
) -> Result<()> {
    loop {
        let now = super::discover::discover(q)
            .await?
            .into_iter()
            .find(|x| x.name == c.name);
        let (have, wanted) = match &now {
            // running jobs are not workers the scheduler has
            Some(x) if x.private.contains_key(crate::discovery::PROBE_FAILED) => {
                (0, x.requested_workers.unwrap_or(0))
            }
            Some(x) if x.address.is_some() && q.ctx.prober.enabled() => {
                (x.workers.unwrap_or(0), x.requested_workers.unwrap_or(0))
            }
            Some(x) => (
                x.requested_workers.unwrap_or(0),
                x.requested_workers.unwrap_or(0),
            ),
            None => (0, 0),
        };
        if have == target && wanted == target {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!(
                "{}: {have} of {target} workers after waiting",
                c.qualified()
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
