//! `delete`: the DaskCluster (the operator's owner references cascade to everything else), or
//! the Deployments and Service of a Helm or daskctl cluster; then waits until they and the
//! cluster's pods are gone.

use super::Kubernetes;
use super::client::{map_err, status};
use super::discover::Kind;
use super::objects;
use crate::backends::DeleteRequest;
use crate::error::{Error, Result};
use crate::model::Cluster;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams};
use std::time::Duration;

pub async fn delete(k: &Kubernetes, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let ns = Kubernetes::namespace_of(c)?;
    let h = Kubernetes::handle(c)?;
    let client = k.client().await?;
    let has = |k: &str| c.resources.iter().any(|r| r.kind == k);
    let of = |k: &'static str| c.resources.iter().filter(move |r| r.kind == k);
    let mut targets: Vec<(ApiResource, String)> = Vec::new();
    if has("daskcluster") {
        targets.extend(of("daskcluster").map(|r| (objects::dask_clusters(), r.id.clone())));
    } else {
        // worker groups left without their DaskCluster, and the objects a DaskCluster would own
        targets.extend(of("daskworkergroup").map(|r| (objects::worker_groups(), r.id.clone())));
        if h.kind != Kind::Operator {
            targets.extend(of("deployment").map(|r| (objects::deployments(), r.id.clone())));
        }
        for s in services(k, ns, c, h.kind).await? {
            targets.push((objects::services(), s));
        }
    }
    // pods no controller owns (their controller is gone) go one by one
    for p in &h.bare_pods {
        targets.push((objects::pods(), p.clone()));
    }
    // pods whose ReplicaSet or Deployment outlived what made them (a worker group deleted with
    // orphan propagation): deleting the pod alone, its ReplicaSet would make a new one
    for r in of("pod") {
        if let Some(top) = top_owner(&client, ns, &r.id).await?
            && !targets.contains(&top)
        {
            targets.push(top);
        }
    }
    for (ar, name) in &targets {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, ar);
        // the object listed, not one created again under its name since: the API server checks
        // its uid (a 409 Conflict when it differs)
        let uid = h
            .uids
            .get(&format!("{}/{name}", ar.kind.to_lowercase()))
            .cloned();
        let dp = DeleteParams {
            preconditions: uid.clone().map(|uid| kube::api::Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
            ..DeleteParams::foreground()
        };
        match api.delete(name, &dp).await {
            Ok(_) => {}
            Err(e) if status(&e) == Some(404) => {}
            Err(e) if status(&e) == Some(409) && uid.is_some() => {
                return Err(Error::Replaced(format!(
                    "{} is not the cluster that was listed: its {} {name} was deleted and \
                     created again meanwhile (another uid); nothing more done",
                    c.qualified(),
                    ar.kind
                )));
            }
            Err(e) => return Err(map_err(&format!("deleting {} {name}", ar.kind), e)),
        }
    }
    // wait until the objects and the pods are gone
    let pods: Vec<(ApiResource, String)> = c
        .resources
        .iter()
        .filter(|r| r.kind == "pod")
        .map(|r| (objects::pods(), r.id.clone()))
        .collect();
    let gone = crate::backends::until_none_left(
        req.timeout,
        Duration::from_millis(250),
        &req.progress,
        || async {
            let mut left = Vec::new();
            for (ar, name) in targets.iter().chain(&pods) {
                let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, ar);
                match api.get_opt(name).await {
                    Ok(Some(_)) => left.push(format!("{} {name}", ar.kind)),
                    Ok(None) => {}
                    Err(e) => return Err(map_err(&format!("reading {} {name}", ar.kind), e)),
                }
            }
            Ok(left)
        },
    )
    .await?;
    gone.map_err(|left| {
        Error::Timeout(format!(
            "{}: still there after {}s: {}",
            c.qualified(),
            req.timeout.as_secs(),
            left.join(", ")
        ))
    })
}

/// The highest object that owns pod `name` through ReplicaSet and Deployment owner references
/// and is not itself owned by something that cascades (a DaskCluster or DaskWorkerGroup, a
/// Deployment of a live owner): what to delete so that nothing recreates the pod. `None` when
/// the pod is gone or its owner chain ends at something that is deleted with the cluster.
async fn top_owner(
    client: &kube::Client,
    ns: &str,
    pod: &str,
) -> Result<Option<(ApiResource, String)>> {
    let get = |ar: ApiResource, name: String| {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        async move {
            match api.get_opt(&name).await {
                Ok(o) => Ok(o),
                Err(e) => Err(map_err(&format!("reading {} {name}", ar.kind), e)),
            }
        }
    };
    let Some(mut cur) = get(objects::pods(), pod.to_string()).await? else {
        return Ok(None);
    };
    let mut top: Option<(ApiResource, String)> = None;
    loop {
        let owner = cur
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.controller == Some(true))
            .cloned();
        let Some(owner) = owner else {
            return Ok(top);
        };
        let (ar, dask) = match owner.kind.as_str() {
            "ReplicaSet" => (objects::replica_sets(), false),
            "Deployment" => (objects::deployments(), false),
            "DaskWorkerGroup" => (objects::worker_groups(), true),
            "DaskCluster" => (objects::dask_clusters(), true),
            _ => return Ok(top),
        };
        match get(ar.clone(), owner.name.clone()).await? {
            // a live DaskCluster or DaskWorkerGroup: deleted with its cluster, and it cascades
            Some(_) if dask => return Ok(None),
            Some(o) => {
                top = Some((ar, owner.name.clone()));
                cur = o;
            }
            // the owner is gone (deleted with orphan propagation): the highest left goes
            None => return Ok(top),
        }
    }
}

/// The cluster's scheduler Services: those labelled as the cluster's; for a Helm release also
/// `{name}-scheduler` when it carries `app=dask` (releases without a `release` label).
async fn services(k: &Kubernetes, ns: &str, c: &Cluster, kind: Kind) -> Result<Vec<String>> {
    let helm = kind == Kind::Helm;
    let selector = if helm {
        format!("app=dask,release={}", c.name)
    } else {
        format!("{}={}", objects::CLUSTER_LABEL, c.name)
    };
    let api: Api<DynamicObject> = Api::namespaced_with(k.client().await?, ns, &objects::services());
    let listed = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| map_err("listing services", e))?;
    let mut names: Vec<String> = listed
        .items
        .iter()
        .map(|s| objects::name(s).to_string())
        .collect();
    let conventional = format!("{}-scheduler", c.name);
    if helm && !names.contains(&conventional) {
        match api.get_opt(&conventional).await {
            Ok(Some(s)) if objects::label(&s, "app") == Some("dask") => names.push(conventional),
            Ok(_) => {}
            Err(e) => return Err(map_err("reading services", e)),
        }
    }
    Ok(names)
}
