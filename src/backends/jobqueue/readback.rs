//! Jobs' batch scripts read back from the batch system (`Facts::script_argv`, or the site's
//! `script_command`) and kept in the cache: a script never changes, and the submit time tells a
//! job from an earlier one of the same id. dask-jobqueue workers and dask-mpi jobs are known by
//! their scripts.

use super::{Dialect, Job, JobQueue};
use std::path::{Path, PathBuf};

/// Where a job's script is kept once read (scripts never change; the submit time tells a
/// job from an earlier one of the same id).
fn script_cache_file(cache: &Path, j: &Job) -> PathBuf {
    let stamp = j
        .submitted
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    cache.join(format!("{}-{stamp}", j.id))
}

/// Where something learnt from a job's script is kept beside it (`what`: what it is).
pub(super) fn beside_script(cache: &Path, j: &Job, what: &str) -> PathBuf {
    let mut p = script_cache_file(cache, j).into_os_string();
    p.push(".");
    p.push(what);
    p.into()
}

/// A job's script as read before, if it was.
pub(super) fn cached_script(cache: &Path, j: &Job) -> Option<String> {
    std::fs::read_to_string(script_cache_file(cache, j)).ok()
}

/// Whether this system (or the site's `script_command`) gives a job's script back.
pub(super) fn can_read_scripts<D: Dialect>(q: &JobQueue<D>) -> bool {
    q.dialect.facts().script_argv.is_some() || q.script_command("").is_some()
}

/// The directory where the scripts read back are kept.
pub(super) fn script_cache<D: Dialect>(q: &JobQueue<D>) -> PathBuf {
    q.ctx
        .config
        .cache_root()
        .join(format!("{}-scripts", q.dialect.facts().name))
}

/// A job's script from the batch system (or the site's `script_command`), kept in `cache`.
pub(super) async fn read_script<D: Dialect>(
    q: &JobQueue<D>,
    run: &super::runner::Runner,
    cache: &Path,
    j: &Job,
) -> Option<String> {
    let argv = super::dialect::batch_script(q.dialect.facts(), &j.id)
        .or_else(|| q.script_command(&j.id))?;
    match run.run(&argv).await {
        Ok(o) => {
            let _ = std::fs::create_dir_all(cache);
            let _ = std::fs::write(script_cache_file(cache, j), &o.stdout);
            Some(o.stdout)
        }
        Err(e) => {
            tracing::debug!(
                "{}: no batch script for job {}: {e}",
                q.dialect.facts().name,
                j.id
            );
            None
        }
    }
}
