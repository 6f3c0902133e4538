//! `scale`: up inserts workers from the launch spec kept on the scheduler (its metadata), so no
//! local state is needed; down retires the chosen workers through the scheduler (their data
//! moves first) and deletes their instances, verified gone. A worker group scales on its own.

use super::discover::{self, GcpHandle};
use super::labels::{self, Node};
use super::startup;
use super::{Gcp, create, launch};
use crate::backends::{ScaleReport, ScaleRequest, wait_for_workers};
use crate::error::{Error, Result};
use crate::model::{Cluster, Origin, Role};
use std::time::Instant;

pub async fn scale(g: &Gcp, c: &Cluster, req: &ScaleRequest) -> Result<ScaleReport> {
    // the instances as the API shows them now
    let now = discover::discover(g, Some(&c.name))
        .await?
        .into_iter()
        .find(|x| x.handle.get::<GcpHandle>().is_some())
        .ok_or_else(|| Error::NotFound(format!("{} is no longer listed", c.qualified())))?;
    let h = now.handle.get::<GcpHandle>().expect("found with a handle");
    let group = req.group.as_deref();
    if group.is_some() && c.origin != Origin::Daskctl {
        return Err(Error::Usage(format!(
            "{} has no worker groups (only clusters daskctl created do)",
            c.qualified()
        )));
    }
    let alive = h
        .nodes
        .iter()
        .filter(|n| n.role == Role::Worker && n.alive())
        .count() as u64;
    let mut workers: Vec<&Node> = h
        .nodes
        .iter()
        .filter(|n| n.role == Role::Worker && n.alive() && n.group.as_deref() == group)
        .collect();
    // oldest first: the newest are the first to go
    workers.sort_by_key(|n| (n.created, n.name.clone()));
    let before = workers.len() as u64;
    let target = req.target as u64;
    let mut report = ScaleReport::new(before, target);
    let deadline = Instant::now() + req.timeout;
    if target > before {
        let (started, failed) = up(g, c, h, group, (target - before) as usize, deadline).await?;
        report.started = started.iter().map(|n| format!("instance {n}")).collect();
        if !failed.is_empty() {
            return Err(Error::Partial(format!(
                "{}: scaled from {before} to {} of {target} worker(s); Compute Engine refused the others: {}",
                c.qualified(),
                before + started.len() as u64,
                failed.join("; ")
            )));
        }
    } else if target < before {
        let k = (before - target) as usize;
        // not yet running first, then those the scheduler proposed to close, then the newest
        let mut victims: Vec<&Node> = workers.iter().rev().copied().collect();
        victims.sort_by_key(|n| (n.status == "RUNNING", !req.retire_first.contains(&n.name)));
        victims.truncate(k);
        retire(g, &now, &victims).await;
        let names: Vec<String> = victims.iter().map(|n| n.name.clone()).collect();
        let cl = g.clients().await?;
        launch::delete_all(&cl, &h.project, &h.zone, &names, deadline).await?;
        report.stopped = names.iter().map(|n| format!("instance {n}")).collect();
    }
    if req.wait {
        let all = alive - before + target;
        wait_for_workers(g, c, &c.name, all, deadline, &req.progress).await?;
    }
    Ok(report)
}

/// Inserts `n` workers of `group`: the names started, and each refusal as the API said it.
async fn up(
    g: &Gcp,
    c: &Cluster,
    h: &GcpHandle,
    group: Option<&str>,
    n: usize,
    deadline: Instant,
) -> Result<(Vec<String>, Vec<String>)> {
    if c.origin != Origin::Daskctl {
        return Err(Error::Usage(format!(
            "{}: a dask-cloudprovider cluster grows from its GCPCluster (cluster.scale); daskctl scales it down only",
            c.qualified()
        )));
    }
    let sched = h.scheduler().filter(|s| s.alive()).ok_or_else(|| {
        Error::backend(
            "gcp",
            format!("{}: no scheduler instance to join", c.qualified()),
        )
    })?;
    let ip = sched.internal_ip.clone().ok_or_else(|| {
        Error::backend(
            "gcp",
            format!("{}: the scheduler has no address yet", c.qualified()),
        )
    })?;
    let spec = startup::specs(sched)?
        .into_iter()
        .find(|s| s.group.as_deref() == group)
        .ok_or_else(|| match group {
            Some(gr) => Error::Usage(format!("{}: no worker group {gr}", c.qualified())),
            None => Error::backend(
                "gcp",
                format!("{}: no worker launch spec on its scheduler", c.qualified()),
            ),
        })?;
    let owner = sched
        .owner
        .clone()
        .unwrap_or_else(|| g.ctx.user.name.clone());
    let expires = sched.metadata.get(labels::META_EXPIRES).cloned();
    let launches = (0..n)
        .map(|_| create::worker_launch(&c.name, &ip, &spec, expires.as_deref(), &owner))
        .collect::<Result<Vec<_>>>()?;
    let cl = g.clients().await?;
    let results = futures::future::join_all(
        launches
            .iter()
            .map(|l| launch::insert(&g.settings, &cl, &h.project, &h.zone, l, deadline)),
    )
    .await;
    let mut started = Vec::new();
    let mut failed = Vec::new();
    for (l, r) in launches.iter().zip(results) {
        match r {
            Ok(()) => started.push(l.name.clone()),
            Err(e) => failed.push(format!("{}: {e}", l.name)),
        }
    }
    // listed from now on (the API may not show an instance right after its insert)
    futures::future::try_join_all(
        started
            .iter()
            .map(|n| launch::get_visible(&cl, &h.project, &h.zone, n)),
    )
    .await?;
    Ok((started, failed))
}

/// Asks the scheduler to retire these workers (named after their instances) so their data
/// moves first; skipped when it is silent.
async fn retire(g: &Gcp, c: &Cluster, victims: &[&Node]) {
    let Some(addr) = &c.address else { return };
    let names: Vec<String> = c
        .worker_details
        .iter()
        .filter(|w| victims.iter().any(|v| w.name == v.name))
        .map(|w| w.name.clone())
        .collect();
    if names.is_empty() {
        return;
    }
    if let Err(e) = g.ctx.prober.retire(addr, &names).await {
        tracing::warn!("gcp: could not retire {}: {e}", names.join(", "));
    }
}
