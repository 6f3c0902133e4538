//! `scale`: the scale subresource of the cluster's DaskWorkerGroup (`{name}-default`, as
//! dask-kubernetes names it; the operator retires workers through the scheduler itself) or of
//! the worker Deployment (Helm, daskctl). For Deployments, scale down first retires the newest
//! workers through the scheduler and marks their pods as the cheapest to delete
//! (`controller.kubernetes.io/pod-deletion-cost`), so exactly those go. Updates carry the
//! resourceVersion read; a 409 Conflict is read again and retried.

use super::Kubernetes;
use super::client::{map_err, status};
use super::discover::Kind;
use super::objects::{self, COMPONENT_LABEL};
use crate::backends::{ScaleReport, ScaleRequest, wait_for_workers};
use crate::error::{Error, Result};
use crate::model::{Cluster, Role};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;
use std::time::Instant;

const CONFLICT_RETRIES: usize = 5;

/// The object whose replicas are the group's workers: an operator cluster's DaskWorkerGroup,
/// a grouped daskctl cluster's per-group Deployment, else the worker Deployment.
fn scaled_object(
    c: &Cluster,
    kind: Kind,
    group: Option<&str>,
) -> Result<(kube::api::ApiResource, String)> {
    Ok(match kind {
        Kind::Operator => (
            objects::worker_groups(),
            format!("{}-{}", c.name, group.unwrap_or(crate::groups::DEFAULT)),
        ),
        // daskctl's own with groups: one worker Deployment per group
        Kind::Native if !c.groups.is_empty() => (
            objects::deployments(),
            match group {
                None => format!("{}-worker", c.name),
                Some(g) => format!("{}-worker-{g}", c.name),
            },
        ),
        _ => {
            let d = c
                .resources
                .iter()
                .find(|r| r.kind == "deployment" && r.role == Role::Worker)
                .ok_or_else(|| {
                    Error::backend(
                        "kubernetes",
                        format!("{} has no worker Deployment", c.qualified()),
                    )
                })?;
            (objects::deployments(), d.id.clone())
        }
    })
}

pub async fn scale(k: &Kubernetes, c: &Cluster, req: &ScaleRequest) -> Result<ScaleReport> {
    let ns = Kubernetes::namespace_of(c)?;
    let kind = Kubernetes::handle(c)?.kind;
    let group = req.group.as_deref();
    if group.is_some() && c.groups.is_empty() {
        return Err(Error::Usage(format!(
            "{} has no worker groups (operator clusters, and daskctl's own made with \
             --worker-group, do)",
            c.qualified()
        )));
    }
    let (ar, target_name) = scaled_object(c, kind, group)?;
    let client = k.client().await?;
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
    let total = c.requested_workers.unwrap_or(0);
    // the group's own count, where the cluster reports its groups
    let before = match c
        .groups
        .iter()
        .find(|g| g.name == group.unwrap_or(crate::groups::DEFAULT))
    {
        Some(g) => g.requested.unwrap_or(0),
        None => total,
    };
    let target = req.target as u64;
    if target < before && kind == Kind::Operator && c.groups.len() > 1 {
        // the operator would retire `n` workers chosen by the scheduler across the whole
        // cluster and delete their Deployments, whichever group they are in (controller.py
        // `daskworkergroup_replica_update` -> `retire_workers`: POST /api/v1/retire_workers
        // {"n"}): this group's own are retired and removed here, so when the count is set
        // the operator finds nothing left to do
        retire_in_group(
            k,
            c,
            ns,
            &target_name,
            (before - target) as usize,
            &req.retire_first,
        )
        .await?;
    }
    if target < before && ar.kind == "Deployment" {
        // a group's own pods only, where the cluster has groups
        let of_group = (!c.groups.is_empty()).then(|| group.unwrap_or(crate::groups::DEFAULT));
        let victims = Victims {
            n: (before - target) as usize,
            first: &req.retire_first,
            group: of_group,
        };
        retire_newest(k, c, ns, victims).await;
    }
    set_replicas(&api, &ar, &target_name, req.target).await?;
    let mut report = ScaleReport::new(before, target);
    if target > before {
        report
            .started
            .push(format!("{} {target_name} to {target}", ar.kind));
    } else if target < before {
        report
            .stopped
            .push(format!("{} {target_name} to {target}", ar.kind));
    }
    if req.wait {
        let lookup = format!("{}/{}", Kubernetes::namespace_of(c)?, c.name);
        // the scheduler counts every group's workers
        let all = total.saturating_sub(before) + target;
        wait_for_workers(
            k,
            c,
            &lookup,
            all,
            Instant::now() + req.timeout,
            &req.progress,
        )
        .await?;
    }
    Ok(report)
}

/// Reads the scale subresource and writes it back with the new count under its
/// resourceVersion; on 409 Conflict, reads again.
async fn set_replicas(
    api: &Api<DynamicObject>,
    ar: &ApiResource,
    name: &str,
    n: u32,
) -> Result<()> {
    let what = format!("scaling {} {name}", ar.kind);
    for attempt in 0.. {
        let mut s = api.get_scale(name).await.map_err(|e| map_err(&what, e))?;
        s.spec.get_or_insert_with(Default::default).replicas = Some(n as i32);
        match api.replace_scale(name, &PostParams::default(), &s).await {
            Ok(_) => return Ok(()),
            Err(e) if status(&e) == Some(409) && attempt < CONFLICT_RETRIES => {
                tracing::debug!("{what}: conflict, reading it again");
            }
            Err(e) => return Err(map_err(&what, e)),
        }
    }
    unreachable!()
}

/// Which worker pods a scale down removes.
struct Victims<'a> {
    n: usize,
    /// Workers the scheduler proposed to close: before the others.
    first: &'a [String],
    /// Only pods of this worker group (`dask.org/workergroup-name`).
    group: Option<&'a str>,
}

/// Retires `n` workers of the operator's worker group `group` (those the scheduler proposed,
/// then the newest) through the scheduler, and deletes their Deployments (each named as its
/// Dask worker: `build_worker_deployment_spec`).
async fn retire_in_group(
    k: &Kubernetes,
    c: &Cluster,
    ns: &str,
    group: &str,
    n: usize,
    first: &[String],
) -> Result<()> {
    let client = k.client().await?;
    let deployments: Api<DynamicObject> = Api::namespaced_with(client, ns, &objects::deployments());
    let lp =
        kube::api::ListParams::default().labels(&format!("{}={group}", objects::WORKERGROUP_LABEL));
    let mut ds = deployments
        .list(&lp)
        .await
        .map_err(|e| map_err("listing worker Deployments", e))?
        .items;
    ds.sort_by_key(|d| d.metadata.creation_timestamp.as_ref().map(|t| t.0));
    ds.reverse();
    ds.sort_by_key(|d| !first.iter().any(|f| f == objects::name(d)));
    let victims: Vec<String> = ds
        .iter()
        .take(n)
        .map(|d| objects::name(d).to_string())
        .collect();
    if let Some(addr) = &c.address
        && !victims.is_empty()
        && let Err(e) = k.ctx.prober.retire(addr, &victims).await
    {
        tracing::warn!("kubernetes: could not retire {}: {e}", victims.join(", "));
    }
    for v in &victims {
        match deployments
            .delete(v, &kube::api::DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(e) if status(&e) == Some(404) => {}
            Err(e) => return Err(map_err(&format!("deleting Deployment {v}"), e)),
        }
    }
    Ok(())
}

/// Retires `n` worker pods' workers (those the scheduler proposed, then the newest) and makes
/// their pods the ones a Deployment deletes first. Skipped (the Deployment picks) when the
/// scheduler does not answer.
async fn retire_newest(k: &Kubernetes, c: &Cluster, ns: &str, v: Victims<'_>) {
    let Victims { n, first, group } = v;
    let Some(addr) = &c.address else { return };
    let Ok(client) = k.client().await else { return };
    let pods: Api<DynamicObject> = Api::namespaced_with(client, ns, &objects::pods());
    let mut workers: Vec<DynamicObject> = Vec::new();
    for r in c
        .resources
        .iter()
        .filter(|r| r.kind == "pod" && r.role == Role::Worker)
    {
        if let Ok(p) = pods.get(&r.id).await {
            workers.push(p);
        }
    }
    // newest first, the proposed ones before them (a stable sort keeps the age order)
    workers.sort_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0));
    workers.reverse();
    workers.sort_by_key(|p| !first.iter().any(|f| f == objects::name(p)));
    let victims: Vec<String> = workers
        .iter()
        .filter(|p| {
            objects::label(p, COMPONENT_LABEL).is_some() || objects::label(p, "component").is_some()
        })
        .filter(|p| group.is_none_or(|g| objects::label(p, objects::WORKERGROUP_LABEL) == Some(g)))
        .take(n)
        .map(|p| objects::name(p).to_string())
        .collect();
    for v in &victims {
        let patch = json!({"metadata": {"annotations": {"controller.kubernetes.io/pod-deletion-cost": "-1000"}}});
        let _ = pods
            .patch(v, &PatchParams::default(), &Patch::Merge(&patch))
            .await;
    }
    let names: Vec<String> = c
        .worker_details
        .iter()
        .filter(|w| victims.contains(&w.name))
        .map(|w| w.name.clone())
        .collect();
    if names.is_empty() {
        return;
    }
    if let Err(e) = k.ctx.prober.retire(addr, &names).await {
        tracing::warn!("kubernetes: could not retire {}: {e}", names.join(", "));
    }
}
