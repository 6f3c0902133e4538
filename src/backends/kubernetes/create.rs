//! `create kubernetes`: a `DaskCluster` for the operator when its CRD is served; otherwise a
//! scheduler Deployment and Service and a worker Deployment, all labelled
//! `app.kubernetes.io/managed-by=daskctl` (removed again if any of them fails).

use super::Kubernetes;
use super::client::map_err;
use super::discover::{self, crd_served};
use super::objects::{self, Spec};
use crate::backends::CreateRequest;
use crate::error::{Error, Result};
use crate::model::Cluster;
use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use std::time::{Duration, Instant, SystemTime};

/// The objects' spec from the request, checked (no request made).
fn spec_of(k: &Kubernetes, req: &CreateRequest, ns: &str) -> Result<Spec> {
    check_name(&req.name)?;
    let opt = |key: &str| req.options.get(key).cloned();
    let image = opt("image").unwrap_or_else(|| k.settings.image.clone());
    crate::names::check_image(&image)?;
    let resources = opt("resources")
        .map(|r| objects::parse_resources(&r).map_err(Error::Usage))
        .transpose()?;
    Ok(Spec {
        name: req.name.clone(),
        namespace: ns.to_string(),
        image,
        workers: req.workers,
        threads: req.threads,
        memory: req.memory,
        resources,
        owner: k.ctx.user.name.clone(),
        expires: opt("ttl").and_then(|s| s.parse::<u64>().ok()).map(|s| {
            humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(s))
                .to_string()
        }),
        idle_timeout: opt("idle-timeout").and_then(|s| s.parse().ok()),
        groups: req.groups.clone(),
    })
}

/// Worker groups are checked before anything is made: a `DaskWorkerGroup` each with the
/// operator, a worker Deployment each without it.
fn check_groups(req: &CreateRequest) -> Result<()> {
    for g in &req.groups {
        objects::check_group(g).map_err(Error::Usage)?;
    }
    Ok(())
}

/// `--idle-timeout` is the operator's (`DaskCluster.spec.idleTimeout`): a scheduler Deployment
/// of daskctl's own would only be restarted by Kubernetes after ending itself.
fn idle_timeout_needs_the_operator(req: &CreateRequest, operator: bool) -> Result<()> {
    if req.options.contains_key("idle-timeout") && !operator {
        return Err(Error::Usage(
            "--idle-timeout needs the dask-kubernetes operator (DaskCluster.spec.idleTimeout): \
             without it, Kubernetes restarts a scheduler that ended itself"
                .into(),
        ));
    }
    Ok(())
}

/// `create --dry-run`: the `DaskCluster` (with `--native`: the Deployments and Service) as it
/// would be sent; no API server needed.
pub async fn plan(k: &Kubernetes, req: &CreateRequest) -> Result<crate::backends::Plan> {
    use crate::backends::{Plan, Step};
    let ns = k
        .default_namespace()
        .await
        .unwrap_or_else(|_| "default".into());
    let spec = spec_of(k, req, &ns)?;
    idle_timeout_needs_the_operator(req, !req.options.contains_key("native"))?;
    check_groups(req)?;
    let objects: Vec<serde_json::Value> = if req.options.contains_key("native") {
        spec.native().into_iter().map(|(_, v)| v).collect()
    } else {
        let mut v = vec![spec.dask_cluster()];
        v.extend(spec.worker_groups());
        v
    };
    let steps = objects
        .into_iter()
        .map(|o| {
            let what = format!(
                "create {} {} in namespace {ns}",
                o["kind"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap_or("")
            );
            let role = match o["metadata"]["labels"][objects::COMPONENT_LABEL].as_str() {
                Some("worker" | "workergroup") => "workers",
                Some(_) => "scheduler",
                None => "cluster",
            };
            Step {
                object: Some(o),
                ..Step::new(role, what)
            }
        })
        .collect();
    Ok(Plan {
        backend: "kubernetes".into(),
        name: req.name.clone(),
        dry_run: true,
        steps,
    })
}

pub async fn create(k: &Kubernetes, req: &CreateRequest) -> Result<Cluster> {
    let ns = k.default_namespace().await?;
    let spec = spec_of(k, req, &ns)?;
    if !discover::discover(k, Some((&req.name, Some(&ns))))
        .await?
        .is_empty()
    {
        return Err(Error::Usage(format!(
            "kubernetes/{ns}/{} already exists",
            req.name
        )));
    }
    let client = k.client().await?;
    let pp = PostParams::default();
    let operator = !req.options.contains_key("native") && crd_served(k).await?;
    idle_timeout_needs_the_operator(req, operator)?;
    check_groups(req)?;
    if operator {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &ns, &objects::dask_clusters());
        let obj: DynamicObject = serde_json::from_value(spec.dask_cluster())
            .map_err(|e| Error::backend("kubernetes", e.to_string()))?;
        api.create(&pp, &obj)
            .await
            .map_err(|e| map_err("creating the DaskCluster", e))?;
        let wgs: Api<DynamicObject> = Api::namespaced_with(client, &ns, &objects::worker_groups());
        for wg in spec.worker_groups() {
            let obj: DynamicObject = serde_json::from_value(wg)
                .map_err(|e| Error::backend("kubernetes", e.to_string()))?;
            if let Err(e) = wgs.create(&pp, &obj).await {
                // all or nothing: the DaskCluster goes, and what it adopted with it
                let _ = api.delete(&req.name, &DeleteParams::background()).await;
                return Err(map_err(
                    &format!("creating the DaskWorkerGroup {}", objects::name(&obj)),
                    e,
                ));
            }
        }
    } else {
        let mut made: Vec<(kube::api::ApiResource, String)> = Vec::new();
        for (ar, value) in spec.native() {
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
            let obj: DynamicObject = serde_json::from_value(value)
                .map_err(|e| Error::backend("kubernetes", e.to_string()))?;
            let name = objects::name(&obj).to_string();
            if let Err(e) = api.create(&pp, &obj).await {
                for (ar, n) in made.iter().rev() {
                    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, ar);
                    let _ = api.delete(n, &DeleteParams::background()).await;
                }
                return Err(map_err(&format!("creating {} {name}", ar.kind), e));
            }
            made.push((ar, name));
        }
    }
    req.progress.say("waiting for the scheduler pod");
    wait_for_scheduler(k, &ns, &req.name, Instant::now() + req.timeout).await?;
    discover::discover(k, Some((&req.name, Some(&ns))))
        .await?
        .pop()
        .ok_or_else(|| Error::backend("kubernetes", format!("{} vanished after create", req.name)))
}

/// Waits for Dask to answer when the scheduler's in-cluster address can be probed from here
/// (probe.map, e.g. to a port-forward); otherwise returns as soon as the objects exist.
async fn wait_for_scheduler(k: &Kubernetes, ns: &str, name: &str, deadline: Instant) -> Result<()> {
    let addr = discover::address(ns, name);
    if k.ctx.prober.target(&addr).is_err() {
        return Ok(());
    }
    let within = deadline.saturating_duration_since(Instant::now());
    crate::backends::until(within, Duration::from_millis(500), || async {
        k.ctx.prober.scheduler(&addr).await.ok()
    })
    .await
    .map(drop)
    .ok_or_else(|| {
        Error::Timeout(format!(
            "kubernetes/{ns}/{name}: created, but the scheduler at {addr} did not answer in time"
        ))
    })
}

/// The scheduler Service is `NAME-scheduler`, and a Service name is an RFC 1035 label: at most 63
/// characters, starting with a letter.
fn check_name(name: &str) -> Result<()> {
    const MAX: usize = 63 - "-scheduler".len();
    let why = if name.len() > MAX {
        format!("on Kubernetes it may have at most {MAX} characters")
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        "on Kubernetes it must start with a letter".to_string()
    } else {
        return Ok(());
    };
    Err(Error::Usage(format!(
        "invalid cluster name {name:?}: {why} (its scheduler Service is {name}-scheduler)"
    )))
}
