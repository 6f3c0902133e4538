//! `delete`: cancel every job of the cluster, then wait until the queue no longer shows any of
//! them active; daskctl's shared directory goes last.

use super::{Dialect, JobQueue, Kind, QueueHandle};
use crate::backends::DeleteRequest;
use crate::error::{Error, Result};
use crate::model::Cluster;
use std::path::Path;
use std::time::Duration;

pub async fn delete<D: Dialect>(q: &JobQueue<D>, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let h = super::handle(c)?;
    let dir = h.dir.as_deref().map(Path::new);
    // no create or scale of this cluster is submitting while the lock is held (lock.rs): the
    // queue now shows every job it will ever have, including those a killed command's
    // submission added after discovery looked
    let gone = || Error::deleted_meanwhile(&c.qualified());
    let _lock = match super::lock::take(q, &c.name, dir, req.timeout).await {
        // its directory removed while this command waited for its lock
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(gone());
        }
        r => r?,
    };
    // it may have been deleted and created again since it was listed: under its lock, the
    // directory must still be the listed instance's
    if h.kind == Kind::Daskctl {
        let now = dir.and_then(super::markers::dir_instance);
        // listed with its instance, which is no longer there: its directory was removed (and
        // perhaps made again by a create that has not written its instance yet)
        if h.instance.is_some() && dir.is_some() && now.is_none() {
            return Err(gone());
        }
        still_the_same(c, h.instance.as_deref(), now)?;
    }
    // jobs that ended by themselves are shown, but there is nothing left to cancel
    let mut ids: Vec<String> = h.active().map(|(j, _)| j.id.clone()).collect();
    let now = jobs_now(q, c, h).await?;
    // its directory gone and none of its jobs in the queue: another command deleted it while
    // this one waited for its lock (a second reconcile, another login node's cleanup)
    if h.kind == Kind::Daskctl && dir.is_some_and(|d| !d.exists()) && now.is_empty() {
        return Err(gone());
    }
    for id in now {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    cancel_and_wait(q, &ids, req.timeout, &req.progress).await?;
    // a dask-mpi job gone from the queue is no longer listed as one that ended
    if h.kind == Kind::DaskMpi {
        let listed: Vec<String> = h.jobs.iter().map(|(j, _)| j.id.clone()).collect();
        super::mpi_ended::forget(q, &listed);
    }
    if h.kind == Kind::Daskctl
        && let Some(dir) = dir
    {
        super::shared_dir::remove(dir);
    }
    Ok(())
}

/// Whether the cluster as it is now (`now`, its instance id) is the one listed (`listed`).
/// Clusters made before instance ids have none: their name is all there is.
pub(super) fn still_the_same(c: &Cluster, listed: Option<&str>, now: Option<String>) -> Result<()> {
    match (listed, now) {
        (Some(was), Some(is)) if was != is => Err(Error::replaced(&c.qualified(), was, &is)),
        _ => Ok(()),
    }
}

/// The cluster's active jobs as the queue shows them now: the same name and owner (for the
/// caller's own daskctl cluster, only the jobs of that name are listed).
async fn jobs_now<D: Dialect>(
    q: &JobQueue<D>,
    c: &Cluster,
    h: &QueueHandle,
) -> Result<Vec<String>> {
    let now = if h.kind == Kind::Daskctl && !q.ctx.scope.beyond_me() {
        super::discover::find(q, &c.name).await?
    } else {
        super::discover::discover(q)
            .await?
            .into_iter()
            .find(|x| x.name == c.name && x.owner == c.owner)
    };
    let Some(now) = now else {
        return Ok(Vec::new());
    };
    let hn = super::handle(&now)?;
    // another instance under the name (its directory gone, its jobs new): not the listed one's
    if h.kind == Kind::Daskctl {
        still_the_same(c, h.instance.as_deref(), hn.instance.clone())?;
    }
    Ok(hn.active().map(|(j, _)| j.id.clone()).collect())
}

pub async fn cancel_and_wait<D: Dialect>(
    q: &JobQueue<D>,
    ids: &[String],
    timeout: Duration,
    progress: &crate::progress::Progress,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let run = q.runner();
    super::dialect::cancel(&q.dialect, &run, ids).await?;
    let gone =
        crate::backends::until_none_left(timeout, Duration::from_millis(200), progress, || async {
            let left: Vec<String> = q
                .dialect
                .list(&run, &super::Interest::Everything)
                .await?
                .into_iter()
                // completing jobs are still tearing down: wait for them too
                .filter(|j| j.state.active() && ids.contains(&j.id))
                .map(|j| j.id)
                .collect();
            Ok(left)
        })
        .await?;
    gone.map_err(|left| {
        Error::Timeout(format!(
            "jobs still in the queue after cancel: {}",
            left.join(", ")
        ))
    })
}
