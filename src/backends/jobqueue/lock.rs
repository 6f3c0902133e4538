//! A batch cluster's lock. `create` and `scale` hold it while they submit, and so does every
//! submission command they run (it inherits the lock: `Runner::holding`), so a submission in
//! flight when daskctl is killed still holds it until the batch system has answered. `delete`
//! takes it before its last look at the queue: once it holds it, every job that will ever be
//! submitted under the cluster's name is in the queue, and none can appear after the delete
//! has reported "deleted".
//!
//! daskctl's own clusters keep the lock in their shared directory (`DIR/lock`); others
//! (dask-jobqueue's, clusters daskctl found) in the user's cache, by backend and name.

use super::{Dialect, JobQueue};
use crate::error::{Error, IoContext, Result};
use crate::lockfile::Held;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the lock of cluster `name` is: in `dir` (daskctl's shared directory, when it exists),
/// else in the cache.
pub fn path<D: Dialect>(q: &JobQueue<D>, name: &str, dir: Option<&Path>) -> PathBuf {
    match dir.filter(|d| d.is_dir()) {
        Some(d) => d.join("lock"),
        None => q
            .ctx
            .config
            .cache_root()
            .join(format!("{}-locks", q.dialect.facts().name))
            .join(format!("{name}.lock")),
    }
}

/// Takes the lock of cluster `name`, waiting up to `within` for a command that holds it.
pub async fn take<D: Dialect>(
    q: &JobQueue<D>,
    name: &str,
    dir: Option<&Path>,
    within: Duration,
) -> Result<Held> {
    let p = path(q, name, dir);
    // the cache's lock directory is made when missing; a cluster's own directory never is (it
    // is gone when a delete removed it meanwhile, and the caller hears NotFound)
    if let Some(parent) = p.parent()
        && dir.is_none_or(|d| d != parent)
    {
        crate::safefile::create_private_dir(parent)
            .ctx(|| format!("creating {}", parent.display()))?;
    }
    let backend = q.dialect.facts().name;
    crate::lockfile::lock(&p, within, || {
        Error::Timeout(format!(
            "another daskctl command is submitting jobs for {backend}/{name} (lock {} held)",
            p.display()
        ))
    })
    .await
}
