//! `delete`: cancel every job of the cluster, then wait until the queue no longer shows any of
//! them active; daskctl's shared directory goes last.

use super::{Dialect, JobQueue};
use crate::backends::DeleteRequest;
use crate::error::{Error, Result};
use crate::model::Cluster;
use std::time::{Duration, Instant};

pub async fn delete<D: Dialect>(q: &JobQueue<D>, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let ended: Vec<&str> = c
        .private
        .get("ended")
        .map(|s| s.split(',').collect())
        .unwrap_or_default();
    let ids: Vec<String> = c
        .resources
        .iter()
        .filter(|r| r.kind == "job" && !ended.contains(&r.id.as_str()))
        .map(|r| r.id.clone())
        .collect();
    cancel_and_wait(q, &ids, req.timeout).await?;
    if c.private.get("kind").map(String::as_str) == Some("daskctl")
        && let Some(dir) = c.private.get("dir")
    {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

pub async fn cancel_and_wait<D: Dialect>(
    q: &JobQueue<D>,
    ids: &[String],
    timeout: Duration,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let run = q.runner();
    run.run(&q.dialect.cancel(ids)).await?;
    let deadline = Instant::now() + timeout;
    loop {
        let left: Vec<String> = q
            .dialect
            .list(&run)
            .await?
            .into_iter()
            // completing jobs are still tearing down: wait for them too
            .filter(|j| j.state.active() && ids.contains(&j.id))
            .map(|j| j.id)
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!(
                "jobs still in the queue after cancel: {}",
                left.join(", ")
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
