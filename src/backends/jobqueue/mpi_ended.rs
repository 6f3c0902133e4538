//! dask-mpi jobs that ended. A dask-mpi cluster is one batch job and no other record of it
//! exists: once the queue stops showing the job, nothing would be left to list. Each dask-mpi
//! job found is remembered (one small file in the caller's cache); a remembered job the queue no
//! longer shows as queued or running ended, and is listed `stopped` (its output still readable
//! with `logs`) until `delete` or `cleanup` forgets it, or a day after it was first seen gone.
//!
//! The queue is the authority: a job is judged ended only from a listing that was read
//! successfully and would have kept the job (same users in scope, scripts readable), never from
//! a listing that did not look for it.

use super::{Dialect, Job, JobQueue, JobState, interest::Head};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long an ended dask-mpi job stays listed after a listing first saw it gone.
pub const KEPT_FOR: Duration = Duration::from_secs(24 * 3600);

/// What is remembered of a dask-mpi job (as the queue showed it while it was active).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Record {
    pub id: String,
    pub job_name: String,
    /// The cluster's name as listed.
    pub cluster: String,
    pub user: String,
    pub stdout: Option<String>,
    pub workdir: Option<String>,
    pub submitted: Option<u64>,
    pub workers: Option<u64>,
    /// When a listing first saw the job gone (seconds since the epoch).
    pub gone_since: Option<u64>,
}

impl Record {
    pub fn of(job: &Job, cluster: &str, workers: Option<u64>) -> Record {
        Record {
            id: job.id.clone(),
            job_name: job.name.clone(),
            cluster: cluster.to_string(),
            user: job.user.clone(),
            stdout: job.stdout.clone(),
            workdir: job.workdir.clone(),
            submitted: job.submitted.map(secs),
            workers,
            gone_since: None,
        }
    }

    /// The job as it is now: ended, no longer in the queue.
    pub fn ended_job(&self) -> Job {
        Job {
            id: self.id.clone(),
            runtime_id: None,
            name: self.job_name.clone(),
            state: JobState::Finished,
            native_state: "ended".into(),
            marker: None,
            user: self.user.clone(),
            submitted: self.submitted.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
            stdout: self.stdout.clone(),
            workdir: self.workdir.clone(),
            command: None,
            worker_name: None,
            cores: None,
            started: None,
        }
    }

    /// A job's file: its id and submit time (an id a batch system reuses is another job).
    fn file_name(&self) -> String {
        let id: String = self
            .id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        format!("{id}-{}.json", self.submitted.unwrap_or(0))
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Where the caller remembers this backend's dask-mpi jobs.
fn dir<D: Dialect>(q: &JobQueue<D>) -> PathBuf {
    q.ctx
        .config
        .cache_root()
        .join(format!("{}-mpi-jobs", q.dialect.facts().name))
}

/// Remembers dask-mpi jobs found active (a job already remembered costs one `stat`).
pub(super) fn remember<D: Dialect>(q: &JobQueue<D>, found: &[Record]) {
    if found.is_empty() {
        return;
    }
    let dir = dir(q);
    let _ = std::fs::create_dir_all(&dir);
    for r in found {
        let path = dir.join(r.file_name());
        if path.exists() {
            continue;
        }
        if let Ok(bytes) = serde_json::to_vec(r) {
            let _ = crate::safefile::write_atomic(&path, &bytes);
        }
    }
}

/// Forgets jobs (`delete` and `cleanup` of their clusters, once the queue shows them gone).
pub(super) fn forget<D: Dialect>(q: &JobQueue<D>, ids: &[String]) {
    for (path, r) in read_all(&dir(q), q.ctx.user.uid) {
        if ids.contains(&r.id) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The remembered jobs that ended: not among `active` (the ids of the jobs the listing shows
/// queued or running), of a user and name the listing (`keep`) looked for. Those first seen gone
/// now are stamped; those gone for longer than `KEPT_FOR` are forgotten.
pub(super) fn ended<D: Dialect>(
    q: &JobQueue<D>,
    active: &HashSet<String>,
    keep: &super::Interest,
) -> Vec<Record> {
    ended_in(&dir(q), q.ctx.user.uid, active, keep, SystemTime::now())
}

fn ended_in(
    dir: &Path,
    me: u32,
    active: &HashSet<String>,
    keep: &super::Interest,
    now: SystemTime,
) -> Vec<Record> {
    let mut out = Vec::new();
    for (path, mut r) in read_all(dir, me) {
        let looked_for = keep.wants(&Head {
            user: &r.user,
            name: &r.job_name,
            ..Default::default()
        });
        if active.contains(&r.id) || !looked_for {
            continue;
        }
        match r.gone_since {
            None => {
                r.gone_since = Some(secs(now));
                if let Ok(bytes) = serde_json::to_vec(&r) {
                    let _ = crate::safefile::write_atomic(&path, &bytes);
                }
            }
            Some(t) if secs(now).saturating_sub(t) > KEPT_FOR.as_secs() => {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            Some(_) => {}
        }
        out.push(r);
    }
    out
}

/// Every record in `dir` (files of the caller's only; a malformed one is skipped).
fn read_all(dir: &Path, me: u32) -> Vec<(PathBuf, Record)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| {
            let text = crate::safefile::read_to_string(&p, Some(me), 64 << 10).ok()?;
            let r = serde_json::from_str(&text).ok()?;
            Some((p, r))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::Scope;
    use crate::backends::jobqueue::interest::{DaskJobs, Interest};

    fn record(id: &str, user: &str) -> Record {
        Record {
            id: id.into(),
            job_name: "analysis".into(),
            cluster: "analysis".into(),
            user: user.into(),
            stdout: Some(format!("/home/{user}/slurm-{id}.out")),
            workdir: None,
            submitted: Some(1_800_000_000),
            workers: Some(2),
            gone_since: None,
        }
    }

    fn keep(scope: Scope) -> Interest {
        Interest::Dask(DaskJobs {
            me: "ann".into(),
            scope,
            jobqueue_names: Vec::new(),
            named: None,
            mpi: true,
        })
    }

    fn write(dir: &Path, r: &Record) {
        std::fs::write(dir.join(r.file_name()), serde_json::to_vec(r).unwrap()).unwrap();
    }

    #[test]
    fn a_job_gone_from_a_listing_that_looked_for_it_ended_and_is_kept_a_day() {
        let d = tempfile::tempdir().unwrap();
        let me = nix::unistd::getuid().as_raw();
        write(d.path(), &record("7", "ann"));
        write(d.path(), &record("8", "ann"));
        // another user's, remembered by an earlier `--all-users` listing
        let mut bobs = record("9", "bob");
        bobs.job_name = "run-mpi".into();
        write(d.path(), &bobs);
        let t0 = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        let active: HashSet<String> = ["8".to_string()].into_iter().collect();

        // 8 still runs; bob's was not looked for: neither ended
        let e = ended_in(d.path(), me, &active, &keep(Scope::Mine), t0);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].id, "7");
        assert_eq!(e[0].gone_since, Some(1_900_000_000));
        assert_eq!(e[0].ended_job().state, JobState::Finished);
        // with every user in scope, bob's (named for MPI, so looked for) ended too; 7 keeps its
        // first stamp
        let later = t0 + Duration::from_secs(60);
        let e = ended_in(d.path(), me, &active, &keep(Scope::Everyone), later);
        let ids: Vec<(&str, Option<u64>)> =
            e.iter().map(|r| (r.id.as_str(), r.gone_since)).collect();
        assert!(ids.contains(&("7", Some(1_900_000_000))), "{ids:?}");
        assert!(ids.contains(&("9", Some(1_900_000_060))), "{ids:?}");

        // a day after it was first seen gone it is forgotten
        let e = ended_in(d.path(), me, &active, &keep(Scope::Mine), t0 + KEPT_FOR);
        assert_eq!(e.len(), 1);
        let e = ended_in(
            d.path(),
            me,
            &active,
            &keep(Scope::Mine),
            t0 + KEPT_FOR + Duration::from_secs(1),
        );
        assert!(e.is_empty(), "{e:?}");
        assert!(!d.path().join(record("7", "ann").file_name()).exists());
        // the one still running is untouched
        assert_eq!(read_all(d.path(), me).len(), 2);
    }

    #[test]
    fn a_listing_without_scripts_judges_nothing() {
        let d = tempfile::tempdir().unwrap();
        let me = nix::unistd::getuid().as_raw();
        write(d.path(), &record("7", "ann"));
        let blind = Interest::Dask(DaskJobs {
            me: "ann".into(),
            scope: Scope::Mine,
            jobqueue_names: Vec::new(),
            named: None,
            mpi: false,
        });
        let now = SystemTime::now();
        assert!(ended_in(d.path(), me, &HashSet::new(), &blind, now).is_empty());
        assert_eq!(read_all(d.path(), me)[0].1.gone_since, None);
    }
}
