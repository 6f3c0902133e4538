//! Waiting on the queue with eyes open: `create` and `scale --wait` watch the jobs they
//! submitted and stop within seconds when those can no longer bring the cluster up (the
//! scheduler job ended, every worker job ended), with the tail of the job's own log, instead
//! of waiting out their timeout over jobs that are long gone.

use super::discover::QueueHandle;
use super::jobid::JobKey;
use super::{Dialect, JobQueue};
use crate::error::Result;
use crate::model::{Cluster, Role, Status};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

/// What a command submitted: the ids `sbatch`/`qsub`/`condor_submit` printed (an array's id
/// stands for all its tasks).
#[derive(Debug, Clone, Default)]
pub struct Submitted {
    pub scheduler: Option<String>,
    pub workers: Vec<String>,
}

impl Submitted {
    fn owns(sub: &str, job: &str) -> bool {
        JobKey::parse(sub).job == JobKey::parse(job).job
    }
}

/// Why a wait ended early: which of the submitted jobs ended.
#[derive(Debug)]
pub struct Ended {
    pub role: Role,
    pub job: String,
}

/// What the caller of `until_ready` makes of the cluster as discovery sees it.
pub enum Want {
    /// What it waits for is there.
    Ready,
    /// Not yet.
    Wait,
    /// It can no longer come (another scale changed the count, the scheduler is gone): why.
    Stop(String),
}

impl From<bool> for Want {
    fn from(ready: bool) -> Want {
        if ready { Want::Ready } else { Want::Wait }
    }
}

/// How a wait ended without what it waited for.
#[derive(Debug)]
pub enum Waited {
    /// One of the submitted jobs ended for good.
    Ended(Ended),
    /// The caller's `Want::Stop`, with its reason.
    Stopped(String),
    /// The deadline passed; the last state seen.
    TimedOut(String),
}

/// The outcome of one look at the cluster's jobs.
enum Look {
    Ready(Box<Cluster>),
    Over(Waited),
    Waiting(String),
}

fn look(c: Option<Cluster>, sub: &Submitted, want: impl Fn(&Cluster) -> Want) -> Look {
    // no job of the cluster is left in the queue: nothing can bring it up any more
    let Some(c) = c else {
        return Look::Over(Waited::Ended(match (&sub.scheduler, sub.workers.first()) {
            (Some(s), _) => Ended {
                role: Role::Scheduler,
                job: s.clone(),
            },
            (None, w) => Ended {
                role: Role::Worker,
                job: w.cloned().unwrap_or_default(),
            },
        }));
    };
    match want(&c) {
        Want::Ready => return Look::Ready(Box::new(c)),
        Want::Stop(why) => return Look::Over(Waited::Stopped(why)),
        Want::Wait => {}
    }
    let active: Vec<&str> = c
        .handle
        .get::<QueueHandle>()
        .map(|h| h.active().map(|(j, _)| j.id.as_str()).collect())
        .unwrap_or_default();
    let alive = |sub_id: &str| active.iter().any(|j| Submitted::owns(sub_id, j));
    if let Some(s) = &sub.scheduler
        && !alive(s)
    {
        return Look::Over(Waited::Ended(Ended {
            role: Role::Scheduler,
            job: s.clone(),
        }));
    }
    if !sub.workers.is_empty() && !sub.workers.iter().any(|w| alive(w)) {
        return Look::Over(Waited::Ended(Ended {
            role: Role::Worker,
            job: sub.workers[0].clone(),
        }));
    }
    Look::Waiting(format!(
        "{} ({})",
        c.status.as_str(),
        c.reason.clone().unwrap_or_default()
    ))
}

/// Polls discovery until `want` says cluster `name` is ready, or the wait is over: `want` says
/// it cannot come, one of the `sub`mitted jobs ended for good, or the deadline passed.
pub async fn until_ready<D: Dialect>(
    q: &JobQueue<D>,
    name: &str,
    sub: &Submitted,
    deadline: Instant,
    show: &Shown<'_>,
    want: impl Fn(&Cluster) -> Want,
) -> Result<std::result::Result<Cluster, Waited>> {
    let within = deadline.saturating_duration_since(Instant::now());
    let settled = crate::backends::until_settled(within, Duration::from_millis(250), || async {
        let c = super::discover::discover(q)
            .await?
            .into_iter()
            .find(|c| c.name == name);
        if let Some(c) = &c {
            show.progress.seen(seen(c, show, q.ctx.prober.enabled()));
        }
        Ok(match look(c, sub, &want) {
            Look::Ready(c) => ControlFlow::Break(Ok(*c)),
            Look::Over(w) => ControlFlow::Break(Err(w)),
            Look::Waiting(last) => ControlFlow::Continue(last),
        })
    })
    .await?;
    Ok(match settled {
        Ok(done) => done,
        Err(last) => Err(Waited::TimedOut(last)),
    })
}

/// What a wait shows on a terminal while it polls the queue.
pub struct Shown<'a> {
    pub progress: &'a crate::progress::Progress,
    /// Workers wanted (in `group`, or in all).
    pub wanted: u64,
    pub group: Option<&'a str>,
}

/// The scheduler's count of workers (of the group) and the group's worker jobs queued and
/// running.
fn seen(c: &Cluster, show: &Shown<'_>, probing: bool) -> crate::progress::Seen {
    let jobs: Vec<&super::Job> = c
        .handle
        .get::<QueueHandle>()
        .map(|h| {
            h.active()
                .filter(|(j, r)| {
                    *r == Role::Worker && show.group.is_none_or(|g| h.group_of(&j.id) == g)
                })
                .map(|(j, _)| j)
                .collect()
        })
        .unwrap_or_default();
    let running = jobs
        .iter()
        .filter(|j| j.state == super::JobState::Running)
        .count() as u64;
    let connected = match show.group {
        _ if !probing || c.silent.is_some() || c.address.is_none() => None,
        Some(g) => match c.groups.iter().find(|x| x.name == g) {
            Some(x) => x.workers,
            None => c.workers,
        },
        None => c.workers,
    };
    crate::progress::Seen {
        connected,
        wanted: show.wanted,
        queued: Some(jobs.len() as u64 - running),
        running: Some(running),
        units: "jobs",
    }
}

/// Whether a cluster runs with exactly `n` workers the scheduler itself counted.
pub fn running_with(c: &Cluster, n: u64) -> bool {
    // no address: the count is of running jobs, not of workers the scheduler has
    c.status == Status::Running && c.workers == Some(n) && c.address.is_some()
}

/// The last lines of the log an ended job of `role` left in the cluster's `logs/` directory
/// (the file naming its job id, else the newest of that role).
pub fn log_tail(dir: &Path, role: Role, job: &str, lines: usize) -> Option<String> {
    let prefix = match role {
        Role::Scheduler => "scheduler",
        _ => "worker",
    };
    // the log named after the job: its id as written (`Moab.12`), or its number (a PBS log
    // `worker-12.srv.log` of job `12.srv`, an array's `12_3`)
    let number = Some(JobKey::parse(job).job)
        .filter(|n| *n > 0)
        .map(|n| n.to_string())
        .unwrap_or_else(|| job.to_string());
    let mut candidates: Vec<(bool, std::time::SystemTime, std::path::PathBuf)> =
        std::fs::read_dir(dir.join("logs"))
            .ok()?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.starts_with(prefix) {
                    return None;
                }
                let modified = e.metadata().and_then(|m| m.modified()).ok()?;
                Some((
                    name.contains(job) || name.contains(&number),
                    modified,
                    e.path(),
                ))
            })
            .collect();
    candidates.sort();
    let (_, _, path) = candidates.pop()?;
    let bytes = crate::safefile::read_tail(&path, None, 64 << 10).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = all[all.len().saturating_sub(lines)..].join(" | ");
    Some(format!("{}: {tail}", path.display()))
}
