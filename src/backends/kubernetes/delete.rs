//! `delete`: the DaskCluster (the operator's owner references cascade to everything else), or
//! the Deployments and Service of a Helm or daskctl cluster; then waits until they and the
//! cluster's pods are gone.

use super::Kubernetes;
use super::client::{map_err, status};
use super::objects;
use crate::backends::DeleteRequest;
use crate::error::{Error, Result};
use crate::model::Cluster;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject};
use std::time::{Duration, Instant};

pub async fn delete(k: &Kubernetes, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let ns = Kubernetes::namespace_of(c)?;
    let client = k.client().await?;
    let mut targets: Vec<(ApiResource, String)> = Vec::new();
    for r in &c.resources {
        match r.kind {
            "daskcluster" => targets.push((objects::dask_clusters(), r.id.clone())),
            "deployment" if c.private.get("kind").map(String::as_str) != Some("operator") => {
                targets.push((objects::deployments(), r.id.clone()))
            }
            _ => {}
        }
    }
    if c.private.get("kind").map(String::as_str) != Some("operator") {
        targets.push((objects::services(), format!("{}-scheduler", c.name)));
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
