//! `delete`: the DaskCluster (the operator's owner references cascade to everything else), or
//! the Deployments and Service of a Helm or daskctl cluster; then waits until they and the
//! cluster's pods are gone.

use super::Kubernetes;
use super::client::{map_err, status};
use super::objects;
use crate::backends::DeleteRequest;
use crate::error::{Error, Result};
use crate::model::Cluster;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams};
use std::time::{Duration, Instant};

pub async fn delete(k: &Kubernetes, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let ns = Kubernetes::namespace_of(c)?;
    let client = k.client().await?;
    let kind = c.private.get("kind").map(String::as_str).unwrap_or("");
    let has = |k: &str| c.resources.iter().any(|r| r.kind == k);
    let of = |k: &'static str| c.resources.iter().filter(move |r| r.kind == k);
    let mut targets: Vec<(ApiResource, String)> = Vec::new();
    if has("daskcluster") {
        targets.extend(of("daskcluster").map(|r| (objects::dask_clusters(), r.id.clone())));
    } else {
        // worker groups left without their DaskCluster, and the objects a DaskCluster would own
        targets.extend(of("daskworkergroup").map(|r| (objects::worker_groups(), r.id.clone())));
        if kind != "operator" {
            targets.extend(of("deployment").map(|r| (objects::deployments(), r.id.clone())));
        }
        for s in services(k, ns, c, kind).await? {
            targets.push((objects::services(), s));
        }
    }
    // pods no controller owns (their controller is gone) go one by one
    let bare = c.private.get("bare_pods").map(String::as_str).unwrap_or("");
    for p in bare.split(',').filter(|p| !p.is_empty()) {
        targets.push((objects::pods(), p.to_string()));
    }
    let dp = DeleteParams::foreground();
    for (ar, name) in &targets {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, ar);
        match api.delete(name, &dp).await {
            Ok(_) => {}
            Err(e) if status(&e) == Some(404) => {}
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
    let deadline = Instant::now() + req.timeout;
    let mut pause = Duration::from_millis(100);
    loop {
        let mut left = Vec::new();
        for (ar, name) in targets.iter().chain(&pods) {
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, ar);
            match api.get_opt(name).await {
                Ok(Some(_)) => left.push(format!("{} {name}", ar.kind)),
                Ok(None) => {}
                Err(e) => return Err(map_err(&format!("reading {} {name}", ar.kind), e)),
            }
        }
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!(
                "{}: still there after {}s: {}",
                c.qualified(),
                req.timeout.as_secs(),
                left.join(", ")
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// The cluster's scheduler Services: those labelled as the cluster's; for a Helm release also
/// `{name}-scheduler` when it carries `app=dask` (releases without a `release` label).
async fn services(k: &Kubernetes, ns: &str, c: &Cluster, kind: &str) -> Result<Vec<String>> {
    let helm = kind == "helm";
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
