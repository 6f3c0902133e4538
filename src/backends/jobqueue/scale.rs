//! `scale`: one worker per job. Up submits ONE array of the cluster's own worker script (read
//! back from the queue, or daskctl's copy in the shared directory); down cancels queued jobs
//! first, then retires running workers through the scheduler and cancels exactly their jobs,
//! newest first. Queued jobs count as requested workers.

use super::delete::cancel_and_wait;
use super::jobid::JobKey;
use super::watch::{self, Submitted, Waited, Want};
use super::{Dialect, Job, JobQueue, JobState, Kind, QueueHandle, script};
use crate::backends::{ScaleReport, ScaleRequest};
use crate::error::{Error, IoContext, Result};
use crate::model::{Cluster, Role, Status};
use std::path::PathBuf;

/// What a scale of this cluster cannot do: a dask-gateway cluster is scaled through the
/// gateway, a dask-mpi job's size is fixed, only daskctl's clusters have groups.
fn refused(c: &Cluster, h: &QueueHandle, req: &ScaleRequest) -> Result<()> {
    if h.kind == Kind::Gateway {
        return Err(Error::Usage(format!(
            "{} is managed by dask-gateway: scale it through the gateway",
            c.qualified()
        )));
    }
    if h.kind == Kind::DaskMpi {
        return Err(Error::Usage(format!(
            "{} is a dask-mpi job: its workers are the ranks of one MPI job, whose size is \
             fixed when it is submitted; to change it, delete it and submit the job again with \
             another rank count (mpirun -np), or add workers that join its scheduler with a \
             second job running `dask-mpi --no-scheduler --scheduler-file F`",
            c.qualified()
        )));
    }
    if let Some(g) = req.group.as_deref()
        && h.kind != Kind::Daskctl
    {
        return Err(Error::Usage(format!(
            "{} has no worker group {g}: only clusters daskctl created have groups",
            c.qualified()
        )));
    }
    Ok(())
}

pub async fn scale<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    req: &ScaleRequest,
) -> Result<ScaleReport> {
    let h = super::handle(c)?;
    refused(c, h, req)?;
    let group = req.group.as_deref();
    // the instance listed, still (its directory says): a cluster created again under the name
    // is another one
    if let (Kind::Daskctl, Some(d)) = (h.kind, &h.dir) {
        super::delete::still_the_same(
            c,
            h.instance.as_deref(),
            super::markers::dir_instance(std::path::Path::new(d)),
        )?;
    }
    let in_group = |j: &Job| h.group_of(&j.id) == group.unwrap_or(crate::groups::DEFAULT);
    // the group's worker jobs as discovery just saw them, oldest first (array tasks by number)
    let mut workers: Vec<&Job> = h
        .active()
        .filter(|(j, r)| *r == Role::Worker && j.state != JobState::Completing && in_group(j))
        .map(|(j, _)| j)
        .collect();
    workers.sort_by_key(|j| (j.submitted, JobKey::parse(&j.id)));
    let before = workers.len() as u64;
    let target = req.target as u64;
    let mut report = ScaleReport::new(before, target);
    let mut sub = Submitted::default();
    // the count asked for, where every daskctl sees it: a `scale --wait` under way learns that
    // another scale changed it (the queue alone cannot tell that from jobs that ended)
    if let (Kind::Daskctl, Some(d)) = (h.kind, &h.dir) {
        let _ = crate::backends::local::state::write_atomic(
            &asked_file(std::path::Path::new(d), group),
            target.to_string().as_bytes(),
        );
    }

    if target > before {
        let n = (target - before) as u32;
        let (started, ids) = scale_up(q, c, h, group, &workers, n, req).await?;
        report.started.push(started);
        sub.workers = ids;
    } else if target < before {
        let k = (before - target) as usize;
        let vids = scale_down(q, c, h, &workers, k, req).await?;
        report.stopped = vids.iter().map(|id| format!("job {id}")).collect();
    }
    if req.wait {
        wait(q, c, target, &sub, req).await?;
    }
    Ok(report)
}

/// Submits `n` more workers of the cluster's own worker script (of `group`), as one array where
/// the system has arrays: what was started, and the ids the submission printed.
async fn scale_up<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    h: &QueueHandle,
    group: Option<&str>,
    workers: &[&Job],
    n: u32,
    req: &ScaleRequest,
) -> Result<(String, Vec<String>)> {
    let text = worker_script(q, c, h, group, workers).await?;
    let text = if h.kind == Kind::Daskctl {
        text
    } else {
        script::uniquify_worker_name(&text, q.dialect.facts().job_id_expr)
    };
    let dir = match (h.kind, &h.dir) {
        (Kind::Daskctl, Some(d)) => PathBuf::from(d),
        _ => q
            .ctx
            .config
            .cache_root()
            .join(format!("{}-submit", q.dialect.facts().name)),
    };
    std::fs::create_dir_all(&dir).ctx(|| format!("creating {}", dir.display()))?;
    let path = dir.join(match group {
        Some(g) => format!("{}-scale-worker-{g}.sh", c.name),
        None => format!("{}-scale-worker.sh", c.name),
    });
    super::create::write(&path, &text)?;
    // held while submitting, by the submission too (lock.rs)
    let own_dir = h.dir.as_deref().map(std::path::Path::new);
    let lock = super::lock::take(q, &c.name, own_dir, req.timeout).await?;
    let run = q.runner().in_dir(&dir).holding(&lock);
    let ids = super::create::submit_workers(q, &run, &path, n)
        .await
        .map_err(|(e, _)| e)?;
    drop(lock);
    let started = if q.dialect.facts().arrays {
        format!("{n} job(s) in array {}", ids.join(","))
    } else {
        format!("jobs {}", ids.join(", "))
    };
    Ok((started, ids))
}

/// Takes `k` workers away, newest first: queued jobs before running ones, running ones (those
/// the scheduler proposed first) retired through the scheduler, then their jobs cancelled.
async fn scale_down<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    h: &QueueHandle,
    workers: &[&Job],
    k: usize,
    req: &ScaleRequest,
) -> Result<Vec<String>> {
    // newest first: queued ones before running ones
    let mut victims: Vec<&Job> = workers
        .iter()
        .rev()
        .copied()
        .filter(|j| j.state != JobState::Running)
        .take(k)
        .collect();
    let queued = victims.len();
    let mut candidates: Vec<&Job> = workers
        .iter()
        .rev()
        .copied()
        .filter(|j| j.state == JobState::Running)
        .collect();
    // stable: the workers the scheduler proposed first, newest first within each part
    candidates.sort_by_key(|j| !runs_one_of(h, j, &req.retire_first));
    victims.extend(candidates.into_iter().take(k - queued));
    let running: Vec<&Job> = victims
        .iter()
        .copied()
        .filter(|j| j.state == JobState::Running)
        .collect();
    if !running.is_empty()
        && let Some(addr) = &c.address
    {
        retire(q, c, h, addr, &running).await?;
    }
    let vids: Vec<String> = victims.iter().map(|j| j.id.clone()).collect();
    cancel_and_wait(q, &vids, req.timeout, &req.progress).await?;
    Ok(vids)
}

/// The worker script to submit again: daskctl's own copy of the group's, else one read back
/// from the queue.
async fn worker_script<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    h: &QueueHandle,
    group: Option<&str>,
    workers: &[&Job],
) -> Result<String> {
    let file = super::script::script_file(group);
    if let Some(dir) = &h.dir
        && let Ok(s) = std::fs::read_to_string(PathBuf::from(dir).join(&file))
    {
        return Ok(s);
    }
    if let Some(g) = group {
        // a group's script is only daskctl's copy: another group's job is not one of it
        return Err(Error::backend(
            q.dialect.facts().name,
            format!(
                "{}: worker group {g} has no script ({file}) in its shared directory",
                c.qualified()
            ),
        ));
    }
    let run = q.runner();
    for j in workers.iter().rev() {
        if let Some(argv) = super::dialect::batch_script(q.dialect.facts(), &j.id)
            && let Ok(o) = run.run(&argv).await
            && !o.stdout.trim().is_empty()
        {
            return Ok(o.stdout);
        }
    }
    Err(Error::backend(
        q.dialect.facts().name,
        format!(
            "no worker script of {} can be read back from the queue",
            c.qualified()
        ),
    ))
}

/// Whether job `j` runs one of the Dask workers `names`.
fn runs_one_of(h: &QueueHandle, j: &Job, names: &[String]) -> bool {
    names.iter().any(|n| worker_of(h, j, n))
}

/// Whether Dask worker `name` (one the scheduler knows) runs in job `j`: daskctl's workers are
/// named after their job (`NAME-JOBID`), dask-jobqueue's are read from their scripts.
fn worker_of(h: &QueueHandle, j: &Job, name: &str) -> bool {
    j.runtime_id
        .as_ref()
        .is_some_and(|r| name.ends_with(&format!("-{r}")))
        || h.worker_names
            .iter()
            .any(|(n, id)| n == name && *id == j.id)
}

/// Retires the Dask workers running in these jobs, so their data moves before the jobs end.
async fn retire<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    h: &QueueHandle,
    addr: &str,
    jobs: &[&Job],
) -> Result<()> {
    let names: Vec<String> = c
        .worker_details
        .iter()
        .filter(|w| jobs.iter().any(|j| worker_of(h, j, &w.name)))
        .map(|w| w.name.clone())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    q.ctx.prober.retire(addr, &names).await?;
    Ok(())
}

/// The file in a daskctl cluster's shared directory that holds the worker count last asked for
/// (of a group, or of the default one).
fn asked_file(dir: &std::path::Path, group: Option<&str>) -> PathBuf {
    dir.join(format!("asked-{}", group.unwrap_or(crate::groups::DEFAULT)))
}

/// A scale whose worker jobs ended without joining: the last lines of their log, and what
/// this system's jobs may lack.
fn ended_without_joining<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    sub: &Submitted,
    ended: &watch::Ended,
) -> Error {
    let dir = super::handle(c).ok().and_then(|h| h.dir.clone());
    let tail = dir
        .and_then(|d| watch::log_tail(std::path::Path::new(&d), Role::Worker, &ended.job, 5))
        .map(|t| format!("; the last log ends with: {t}"))
        .unwrap_or_default();
    let hint = q
        .dialect
        .facts()
        .environment_hint
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    Error::backend(
        q.dialect.facts().name,
        format!(
            "{}: the worker job(s) {} this scale submitted ended without joining{tail}{hint}",
            c.qualified(),
            sub.workers.join(", ")
        ),
    )
}

/// Waits until the scheduler counts `target` workers and the queue holds that many; ends early
/// when the jobs this scale submitted all ended without joining, the cluster is gone or lost
/// its scheduler, or another scale asked for another count meanwhile.
async fn wait<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    target: u64,
    sub: &Submitted,
    req: &ScaleRequest,
) -> Result<()> {
    let probing = q.ctx.prober.enabled();
    let group = req.group.as_deref().unwrap_or(crate::groups::DEFAULT);
    // why the wait ends before `target` can be reached: another scale asked for another count
    // (recorded in the shared directory), or the scheduler is gone
    let asked = super::handle(c)
        .ok()
        .filter(|h| h.kind == Kind::Daskctl)
        .and_then(|h| h.dir.clone())
        .map(|d| asked_file(std::path::Path::new(&d), req.group.as_deref()));
    let group_words = req
        .group
        .as_deref()
        .map(|g| format!(" of group {g}"))
        .unwrap_or_default();
    let reached = |x: &Cluster| {
        // the group's counts, where the cluster has groups
        let (workers, requested) = match x.groups.iter().find(|g| g.name == group) {
            Some(g) => (g.workers, g.requested),
            None => (x.workers, x.requested_workers),
        };
        let requested = requested.unwrap_or(0);
        let why = if matches!(x.status, Status::Orphaned | Status::Stopped) {
            Some(format!(
                "{} lost its scheduler while waiting ({})",
                c.qualified(),
                x.reason.as_deref().unwrap_or(x.status.as_str())
            ))
        } else {
            asked
                .as_ref()
                .and_then(|f| std::fs::read_to_string(f).ok())
                .and_then(|t| t.trim().parse::<u64>().ok())
                .filter(|n| *n != target)
                .map(|n| {
                    format!(
                        "another scale of {} asked for {n} worker(s){group_words} meanwhile: \
                         this wait for {target} ends",
                        c.qualified()
                    )
                })
        };
        if let Some(why) = why {
            return Want::Stop(why);
        }
        // running jobs are not workers the scheduler has
        let have = if x.silent.is_some() {
            0
        } else if x.address.is_some() && probing {
            workers.unwrap_or(0)
        } else {
            requested
        };
        Want::from(have == target && requested == target)
    };
    let deadline = tokio::time::Instant::now() + req.timeout;
    let show = watch::Shown {
        progress: &req.progress,
        wanted: target,
        group: req.group.as_deref(),
    };
    match watch::until_ready(q, &c.name, sub, deadline, &show, reached).await? {
        Ok(_) => Ok(()),
        Err(Waited::Stopped(why)) => Err(Error::backend(q.dialect.facts().name, why)),
        Err(Waited::Ended(ended)) if sub.workers.is_empty() => Err(Error::backend(
            q.dialect.facts().name,
            format!(
                "{} is gone (job {} left the queue) while waiting for {target} worker(s)",
                c.qualified(),
                ended.job
            ),
        )),
        Err(Waited::Ended(ended)) => Err(ended_without_joining(q, c, sub, &ended)),
        Err(Waited::TimedOut(last)) => Err(Error::Timeout(format!(
            "{}: not {target} workers after waiting: {last}",
            c.qualified()
        ))),
    }
}
