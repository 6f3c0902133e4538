//! `delete`: cancel every job of the cluster, then wait until the queue no longer shows any of
//! them active; daskctl's shared directory goes last.

use super::{Dialect, JobQueue, Kind};
use crate::backends::DeleteRequest;
use crate::error::{Error, Result};
use crate::model::Cluster;
use std::time::Duration;

pub async fn delete<D: Dialect>(q: &JobQueue<D>, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let h = super::handle(c)?;
    // jobs that ended by themselves are shown, but there is nothing left to cancel
    let ids: Vec<String> = h.active().map(|(j, _)| j.id.clone()).collect();
    cancel_and_wait(q, &ids, req.timeout, &req.progress).await?;
    if h.kind == Kind::Daskctl
        && let Some(dir) = &h.dir
    {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
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
    q.dialect.cancel(&run, ids).await?;
    let gone =
        crate::backends::until_none_left(timeout, Duration::from_millis(200), progress, || async {
            let left: Vec<String> = q
                .dialect
                .list(&run)
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
