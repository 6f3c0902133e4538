//! Finding dask-mpi clusters among the queue's other jobs (see `mpi.rs` for what a dask-mpi job
//! is): each candidate's batch script, read back once and kept (as dask-jobqueue's are), says
//! whether it starts one; its scheduler's address comes from its scheduler file, else from its
//! output, both read as the job's owner.

use super::jobid::JobKey;
use super::mpi::{self, MpiJob, Seen, Style};
use super::mpi_ended::Record;
use super::readback::{cached_script, can_read_scripts, read_script, script_cache};
use super::{Dialect, Job, JobQueue};
use futures::stream::{self, StreamExt};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Scripts not read before that one listing reads at most (a user's first `list` after
/// submitting hundreds of jobs reads the rest on the next ones).
const NEW_SCRIPTS_PER_LISTING: usize = 64;

/// What is read of a job's output or a Python script: the scheduler logs its address at start.
const HEAD: u64 = 256 << 10;

/// A dask-mpi job found, with what its cluster is made of.
pub(super) struct Found {
    pub job: Job,
    /// The cluster's name: the job's.
    pub name: String,
    pub address: Option<String>,
    /// Workers its ranks make.
    pub workers: Option<u64>,
}

/// The dask-mpi clusters among `jobs` (jobs no other kind of cluster claimed).
pub(super) async fn find<D: Dialect>(
    q: &JobQueue<D>,
    run: &super::runner::Runner,
    jobs: Vec<Job>,
) -> Vec<Found> {
    if !can_read_scripts(q) {
        return Vec::new();
    }
    let cache = script_cache(q);
    // one MPI job, not an array's element (dask-mpi jobs are never arrays)
    let mut new = 0;
    let jobs: Vec<(Job, Option<String>)> = jobs
        .into_iter()
        .filter(|j| JobKey::parse(&j.id).task.is_none() && !j.id.contains('['))
        .filter_map(|j| match cached_script(&cache, &j) {
            Some(s) => Some((j, Some(s))),
            None if new < NEW_SCRIPTS_PER_LISTING => {
                new += 1;
                Some((j, None))
            }
            None => None,
        })
        .collect();
    let found: Vec<(Job, MpiJob, Option<String>)> = stream::iter(jobs)
        .map(|(j, cached)| {
            let cache = cache.clone();
            async move {
                let script = match cached {
                    Some(s) => s,
                    None => read_script(q, run, &cache, &j).await?,
                };
                let m = recognized(q, &j, &script, &cache).await?;
                let address = address(q, &j, &m).await;
                Some((j, m, address))
            }
        })
        // a bound: slurmctld serves each scontrol as one RPC
        .buffer_unordered(16)
        .filter_map(|x| async move { x })
        .collect()
        .await;
    // named after the job; two of one name (`dask-mpi` is a common one) by the job id too
    let mut names: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (j, _, _) in &found {
        *names.entry((j.user.clone(), j.name.clone())).or_default() += 1;
    }
    let found: Vec<Found> = found
        .into_iter()
        .map(|(job, m, address)| {
            let shared = names[&(job.user.clone(), job.name.clone())] > 1;
            Found {
                name: cluster_name(&job, shared),
                address,
                workers: m.expected_workers(),
                job,
            }
        })
        .collect();
    // remembered, to be listed stopped once the queue no longer shows them
    let records: Vec<Record> = found
        .iter()
        .map(|f| Record::of(&f.job, &f.name, f.workers))
        .collect();
    super::mpi_ended::remember(q, &records);
    found
}

/// A daskctl cluster name from the job's: its name when that is one, else `mpi-ID`.
pub(super) fn cluster_name(j: &Job, with_id: bool) -> String {
    let id: String =
        j.id.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
    let named = if with_id {
        format!("{}-{id}", j.name)
    } else {
        j.name.clone()
    };
    if crate::names::validate(&named).is_ok() {
        named
    } else {
        format!("mpi-{id}")
    }
}

/// The dask-mpi cluster a job's script starts, if any: a Python script its launcher runs is
/// read (as the job's owner) to see whether it calls `dask_mpi.initialize`.
async fn recognized<D: Dialect>(
    q: &JobQueue<D>,
    j: &Job,
    script: &str,
    cache: &Path,
) -> Option<MpiJob> {
    match mpi::recognize(script, j.workdir.as_deref().map(Path::new))? {
        Seen::Mpi(m) => Some(m),
        Seen::PythonScript { path, ranks } => {
            calls_initialize(q, j, &path, cache)
                .await
                .then_some(MpiJob {
                    style: Style::Initialize,
                    ranks,
                    scheduler_file: None,
                })
        }
    }
}

/// Whether the Python script a job runs calls `dask_mpi.initialize`. Once the job runs, its
/// script has been read by its ranks: the verdict is kept beside the batch script, so a job
/// that is not dask-mpi's costs no read (as root for another user, no child) on later listings.
async fn calls_initialize<D: Dialect>(q: &JobQueue<D>, j: &Job, path: &Path, cache: &Path) -> bool {
    let kept = super::readback::beside_script(cache, j, "initialize");
    match std::fs::read(&kept).ok().as_deref() {
        Some(b"yes") => return true,
        Some(b"no") => return false,
        _ => {}
    }
    let Some(text) = read_as_owner(q, j, path).await else {
        return false;
    };
    let yes = mpi::is_initialize(&text);
    if j.state == super::JobState::Running {
        let _ = std::fs::write(&kept, if yes { "yes" } else { "no" });
    }
    yes
}

/// The scheduler's address: the scheduler file of the command line, else the last address
/// the scheduler logged to the job's output.
async fn address<D: Dialect>(q: &JobQueue<D>, j: &Job, m: &MpiJob) -> Option<String> {
    if !matches!(j.state, super::JobState::Running) {
        return None;
    }
    if let Some(path) = m.scheduler_file.as_deref().and_then(|f| resolve(j, f)) {
        let text = read_as_owner(q, j, &path).await;
        let addr = text
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v.get("address")?.as_str().map(str::to_string))
            .filter(|a| super::script::scheduler_address(a).is_some());
        if addr.is_some() {
            return addr;
        }
    }
    let out = j.stdout.as_deref()?;
    let text = read_as_owner(q, j, Path::new(out)).await?;
    mpi::address_in_output(&text)
}

/// A path as the job's shell would see it: `~`, `$HOME` and `${HOME}` are the owner's home,
/// a relative path is in the job's working directory; any other variable cannot be known.
fn resolve(j: &Job, path: &str) -> Option<PathBuf> {
    let home = || {
        nix::unistd::User::from_name(&j.user)
            .ok()
            .flatten()
            .map(|u| u.dir)
    };
    for prefix in ["~/", "$HOME/", "${HOME}/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            return Some(home()?.join(rest));
        }
    }
    if path.contains('$') {
        return None;
    }
    let p = PathBuf::from(path);
    if p.is_absolute() {
        Some(p)
    } else {
        Some(PathBuf::from(j.workdir.as_deref()?).join(p))
    }
}

async fn read_as_owner<D: Dialect>(q: &JobQueue<D>, j: &Job, path: &Path) -> Option<String> {
    crate::backends::owner::read_as(&j.user, &q.ctx.user, path, HEAD).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::jobqueue::JobState;

    fn job(id: &str, name: &str) -> Job {
        Job {
            id: id.into(),
            runtime_id: None,
            name: name.into(),
            state: JobState::Running,
            native_state: "R".into(),
            marker: None,
            user: "ann".into(),
            submitted: None,
            stdout: None,
            workdir: Some("/home/ann/run".into()),
            command: None,
            worker_name: None,
            cores: None,
            started: None,
        }
    }

    #[test]
    fn names_and_paths() {
        assert_eq!(cluster_name(&job("12", "dask-mpi"), false), "dask-mpi");
        assert_eq!(cluster_name(&job("12", "dask-mpi"), true), "dask-mpi-12");
        assert_eq!(cluster_name(&job("12", "run.sh"), false), "mpi-12");
        assert_eq!(
            resolve(&job("1", "x"), "sched.json"),
            Some(PathBuf::from("/home/ann/run/sched.json"))
        );
        assert_eq!(
            resolve(&job("1", "x"), "/s/f.json"),
            Some(PathBuf::from("/s/f.json"))
        );
        assert_eq!(resolve(&job("1", "x"), "$SCRATCH/f.json"), None);
    }
}
