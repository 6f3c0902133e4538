//! `list`/`describe`: each gateway's `GET /api/v1/clusters/` (pending and running clusters;
//! stopped and failed ones are not clusters any more), each running scheduler probed through
//! the gateway's proxy with the cluster's own credentials, so workers, threads, memory and
//! idleness come from the scheduler itself.
//!
//! The scheduler runs where the gateway put it, out of sight, and the gateway is the authority
//! on it: it marks a cluster FAILED once its heartbeats stop (`cluster_heartbeat_timeout`, 30 s
//! by default: dask_gateway_server/backends/db_base.py `_check_timeouts`). A cluster the gateway
//! reports RUNNING whose scheduler does not answer from here is therefore `unknown`, however
//! long it stays silent: what is silent is this machine's way to it (a firewall, an in-cluster
//! proxy name, TLS), never the cluster. `orphaned` is the gateway's word alone.

use super::api::ClusterReport;
use super::http::Api;
use super::{BACKEND, Gateway};
use crate::backends::status::{SchedulerState, classify, fill_from_info, probe_failed};
use crate::dask::{Address, Probe};
use crate::error::{Error, Result};
use crate::model::{Cluster, Handle, Origin, Resource, Role, Status};
use futures::future::join_all;
use std::sync::Arc;

/// The gateway's record of a cluster: which gateway, its report (with the TLS credentials, in
/// memory only, to reach the scheduler; none for htcdaskgateway workers whose cluster the
/// gateway no longer runs), and the HTCondor worker jobs htcdaskgateway attached to it.
#[derive(Debug, Clone)]
pub struct GatewayHandle {
    pub endpoint: String,
    pub report: Option<ClusterReport>,
    /// The htcondor backend's clusters of those worker jobs (what `delete` removes with it).
    pub workers: Vec<Cluster>,
}

impl GatewayHandle {
    /// The client TLS configuration for this cluster's scheduler: its own certificate as CA and
    /// client certificate, its key (dask_gateway/client.py `GatewaySecurity`).
    pub fn tls(&self) -> Result<Arc<rustls::ClientConfig>> {
        let Some(r) = &self.report else {
            return Err(Error::backend(BACKEND, "the gateway runs no such cluster"));
        };
        let (Some(cert), Some(key)) = (&r.tls_cert, &r.tls_key) else {
            return Err(Error::backend(
                BACKEND,
                format!("the gateway gave no TLS credentials for {}", r.name),
            ));
        };
        crate::dask::tls::build(
            cert.as_bytes(),
            cert.as_bytes(),
            key.expose().as_bytes(),
            true,
        )
    }
}

pub async fn discover(g: &Gateway) -> Result<Vec<Cluster>> {
    let apis = g.apis()?;
    let (found, workers) = futures::join!(
        join_all(apis.iter().map(|a| from_gateway(g, a, None))),
        htcondor_workers(g)
    );
    let mut out = Vec::new();
    let mut failed = Vec::new();
    for (a, r) in apis.iter().zip(found) {
        match r {
            Ok(v) => out.extend(v),
            Err(e) => failed.push((a, e)),
        }
    }
    // one gateway down never hides what the others report
    if failed.len() == apis.len()
        && let Some((_, e)) = failed.pop()
    {
        return Err(e);
    }
    for (a, e) in failed {
        tracing::warn!("gateway {}: {e}", a.endpoint.name);
    }
    let verdicts = verdicts(apis, &out, &workers).await;
    attach(&mut out, workers, &verdicts, apis);
    Ok(out)
}

/// What the gateway that served them says of the clusters of worker jobs no listing showed:
/// by cluster name, its status and why.
type Verdicts = std::collections::BTreeMap<String, (Status, String)>;

async fn verdicts(apis: &[Arc<Api>], listed: &[Cluster], workers: &[Cluster]) -> Verdicts {
    let mut missing: Vec<(String, Option<Address>)> = workers
        .iter()
        .filter_map(|w| {
            let name = gateway_cluster_of(w)?;
            (!listed.iter().any(|c| c.name == name)).then(|| {
                let proxy = w.address.as_deref().and_then(|a| Address::parse(a).ok());
                (name.to_string(), proxy)
            })
        })
        .collect();
    missing.sort_by(|a, b| a.0.cmp(&b.0));
    missing.dedup_by(|a, b| a.0 == b.0);
    let asked = join_all(
        missing
            .iter()
            .map(|(name, proxy)| verdict(apis, name, proxy.as_ref())),
    )
    .await;
    missing.into_iter().map(|(n, _)| n).zip(asked).collect()
}

/// The gateway whose proxy the workers' command names, asked for the cluster by name (its
/// `get_cluster` answers 404 for a cluster it does not know, 403 for another user's:
/// dask_gateway_server/routes.py): `orphaned` only on its word that the cluster is gone.
async fn verdict(apis: &[Arc<Api>], name: &str, proxy: Option<&Address>) -> (Status, String) {
    let served_by = apis.iter().find(|a| {
        proxy.is_some_and(|p| {
            p.host.eq_ignore_ascii_case(&a.endpoint.proxy.host) && p.port == a.endpoint.proxy.port
        })
    });
    let Some(a) = served_by else {
        return (
            Status::Unknown,
            format!(
                "its HTCondor workers serve gateway cluster {name} at {}, a proxy no configured \
                 gateway serves: that gateway judges it",
                proxy.map_or("an unknown address".to_string(), |p| p.to_string())
            ),
        );
    };
    let gw = &a.endpoint.name;
    match a.get(&format!("/api/v1/clusters/{name}")).await {
        Ok(r) => match parse(r.json) {
            Ok(r) if r.is_live() => (
                Status::Unknown,
                format!("gateway {gw} reports {name} {}", r.status.to_lowercase()),
            ),
            Ok(r) => (
                Status::Orphaned,
                format!(
                    "gateway {gw} reports cluster {name} {}; its HTCondor worker jobs are left",
                    r.status.to_lowercase()
                ),
            ),
            Err(e) => (Status::Unknown, format!("gateway {gw}: {e}")),
        },
        Err(Error::NotFound(_)) => (
            Status::Orphaned,
            format!("gateway {gw} knows no cluster {name}; its HTCondor worker jobs are left"),
        ),
        Err(Error::Refused(_)) => (
            Status::Unknown,
            format!("cluster {name} is another user's on gateway {gw} (only its owner may see it)"),
        ),
        Err(e) => (
            Status::Unknown,
            format!("gateway {gw} could not be asked about {name}: {e}"),
        ),
    }
}

/// One cluster by name: asked of each gateway directly.
pub async fn find(g: &Gateway, name: &str) -> Result<Option<Cluster>> {
    let workers: Vec<Cluster> = htcondor_workers(g)
        .await
        .into_iter()
        .filter(|w| gateway_cluster_of(w) == Some(name))
        .collect();
    let mut out = Vec::new();
    let apis = g.apis()?;
    for a in apis {
        out = from_gateway(g, a, Some(name)).await?;
        if !out.is_empty() {
            break;
        }
    }
    let verdicts = verdicts(apis, &out, &workers).await;
    attach(&mut out, workers, &verdicts, apis);
    Ok(out.pop())
}

/// htcdaskgateway's HTCondor worker jobs, by the gateway cluster they serve, from the htcondor
/// backend where it is enabled and usable here.
async fn htcondor_workers(g: &Gateway) -> Vec<Cluster> {
    let Ok(reg) = crate::backends::lookup("htcondor") else {
        return Vec::new();
    };
    if !crate::backends::is_enabled(&g.ctx, reg) {
        return Vec::new();
    }
    let b = (reg.build)(g.ctx.clone());
    if !matches!(b.availability(), crate::backends::Availability::Ready) {
        return Vec::new();
    }
    match b.discover().await {
        Ok(v) => v
            .into_iter()
            .filter(|c| gateway_cluster_of(c).is_some())
            .collect(),
        Err(e) => {
            tracing::warn!("gateway: htcdaskgateway workers not known ({e})");
            Vec::new()
        }
    }
}

/// The dask-gateway cluster an htcondor cluster's htcdaskgateway workers serve.
pub fn gateway_cluster_of(c: &Cluster) -> Option<&str> {
    c.handle
        .get::<crate::backends::jobqueue::QueueHandle>()?
        .gateway_cluster
        .as_deref()
}

/// Puts each group of HTCondor worker jobs with the gateway cluster it serves (its jobs among
/// the cluster's resources, `delete` removing them too). Workers whose cluster no listing
/// showed are listed under its name with what the gateway that served them says (`verdicts`):
/// `orphaned` only on its word, `unknown` otherwise.
fn attach(
    clusters: &mut Vec<Cluster>,
    workers: Vec<Cluster>,
    verdicts: &Verdicts,
    apis: &[Arc<Api>],
) {
    for w in workers {
        let Some(name) = gateway_cluster_of(&w).map(str::to_string) else {
            continue;
        };
        let jobs: Vec<Resource> = w
            .resources
            .iter()
            .map(|r| Resource {
                name: Some(format!("htcondor {}", r.name.clone().unwrap_or_default())),
                ..r.clone()
            })
            .collect();
        if let Some(c) = clusters.iter_mut().find(|c| c.name == name) {
            let mut h = c.handle.get::<GatewayHandle>().cloned().expect("ours");
            c.resources.extend(jobs);
            h.workers.push(w);
            c.handle = Handle::new(h);
            continue;
        }
        let Some(first) = apis.first() else { return };
        let (status, why) = verdicts
            .get(&name)
            .cloned()
            .unwrap_or((Status::Unknown, "no gateway was asked about it".to_string()));
        let mut c = Cluster::new(name.clone(), BACKEND, Origin::DaskGateway);
        c.owner = w.owner.clone();
        c.created = w.created;
        c.workers = Some(0);
        c.status = status;
        c.reason = Some(why);
        c.resources = jobs;
        c.handle = Handle::new(GatewayHandle {
            endpoint: first.endpoint.name.clone(),
            report: None,
            workers: vec![w],
        });
        clusters.push(c);
    }
}

async fn from_gateway(g: &Gateway, api: &Api, only: Option<&str>) -> Result<Vec<Cluster>> {
    let reports: Vec<ClusterReport> = match only {
        Some(name) => match api.get(&format!("/api/v1/clusters/{name}")).await {
            Ok(r) => vec![parse(r.json)?],
            // another user's cluster (403) is as invisible here as in the listing
            Err(Error::NotFound(_) | Error::Refused(_)) => Vec::new(),
            Err(e) => return Err(e),
        },
        None => {
            let r = api.get("/api/v1/clusters/").await?;
            let map: std::collections::BTreeMap<String, serde_json::Value> =
                serde_json::from_value(r.json).map_err(|e| bad_reply(&e))?;
            map.into_values().map(parse).collect::<Result<_>>()?
        }
    };
    let live: Vec<ClusterReport> = reports.into_iter().filter(|r| r.is_live()).collect();
    let probes = join_all(live.iter().map(|r| probe(g, api, r))).await;
    Ok(live
        .into_iter()
        .zip(probes)
        .map(|(r, p)| to_cluster(g, api, r, p))
        .collect())
}

fn parse(v: serde_json::Value) -> Result<ClusterReport> {
    serde_json::from_value(v).map_err(|e| bad_reply(&e))
}

fn bad_reply(e: &dyn std::fmt::Display) -> Error {
    Error::backend(BACKEND, format!("unexpected cluster listing: {e}"))
}

async fn probe(g: &Gateway, api: &Api, r: &ClusterReport) -> Option<Probe> {
    if r.status != "RUNNING" {
        return None;
    }
    let handle = GatewayHandle {
        endpoint: api.endpoint.name.clone(),
        report: Some(r.clone()),
        workers: Vec::new(),
    };
    Some(match handle.tls() {
        Ok(tls) => {
            g.ctx
                .prober
                .gateway_status(&api.endpoint.proxy, &r.name, tls)
                .await
        }
        Err(e) => Probe::failed(e.to_string()),
    })
}

/// What a gateway cluster holds, on its one resource: `worker_cores` x workers plus
/// `scheduler_cores` where the gateway's cluster options carry them (the names of
/// dask-gateway's ClusterConfig, which most deployments expose as options), else the threads
/// its scheduler reports. Core-hours are not counted (see below).
fn held_cores(c: &mut Cluster, r: &ClusterReport) {
    let opt = |k: &str| r.options.get(k).and_then(serde_json::Value::as_f64);
    let workers = c.workers.or(c.requested_workers);
    let cores = match (opt("worker_cores"), workers) {
        (Some(per), Some(n)) => Some(per * n as f64 + opt("scheduler_cores").unwrap_or(1.0)),
        _ => c.threads.map(|t| t as f64),
    };
    if let Some(res) = c.resources.iter_mut().find(|x| x.kind == "gateway-cluster") {
        res.cores = cores.filter(|_| matches!(r.status.as_str(), "RUNNING" | "PENDING"));
        // no start time: its size changed over its life and the gateway keeps no history of
        // it, so today's cores times its age would be a guess: its core-hours stay unknown
        res.started = None;
    }
}

/// `gateway://HOST:PORT/NAME`, the address dask-gateway's client connects to.
pub fn address(proxy: &Address, name: &str) -> String {
    format!("gateway://{}:{}/{name}", proxy.host, proxy.port)
}

fn to_cluster(g: &Gateway, api: &Api, r: ClusterReport, probe: Option<Probe>) -> Cluster {
    let ep = &api.endpoint;
    let mut c = Cluster::new(r.name.clone(), BACKEND, Origin::DaskGateway);
    c.owner = Some(ep.user.clone());
    c.created = r
        .start_time
        .filter(|t| t.is_finite() && *t > 0.0)
        .and_then(|ms| crate::units::epoch_secs(ms / 1000.0));
    c.dashboard = r
        .dashboard_route
        .as_ref()
        .map(|route| format!("{}{route}", ep.public_address));
    c.resources.push(Resource {
        kind: "gateway-cluster",
        id: r.name.clone(),
        role: Role::Scheduler,
        state: r.status.to_lowercase(),
        name: Some(ep.address.clone()),
        ..Default::default()
    });
    if r.status == "RUNNING" {
        c.address = Some(address(&ep.proxy, &r.name));
    }
    let state = match probe {
        None => SchedulerState::NotProbed,
        Some(Probe::Answered { info, idle }) => {
            let dashboard = c.dashboard.take();
            fill_from_info(&mut c, &info, idle);
            // the gateway's address, not the one the scheduler binds behind it
            c.address = Some(address(&ep.proxy, &r.name));
            c.dashboard = dashboard;
            if let Some(a) = &c.address {
                g.ctx.silence.forget(a);
            }
            SchedulerState::Answering {
                connected: info.workers.len() as u64,
            }
        }
        Some(Probe::Disabled { .. }) => SchedulerState::NotProbed,
        Some(p) => {
            let why = probe_failed(&mut c, p.why().unwrap_or_default());
            SchedulerState::Silent(why)
        }
    };
    let workers = c.workers.unwrap_or(0);
    (c.status, c.reason) = match (&state, r.status.as_str()) {
        (_, "PENDING") => (Status::Pending, Some("the gateway is starting it".into())),
        // the gateway says it runs: unreachable from here is this machine's problem
        (SchedulerState::Silent(why), _) => (
            Status::Unknown,
            Some(format!(
                "the gateway reports it running, but its scheduler cannot be reached from \
                 here through the gateway's proxy ({why})"
            )),
        ),
        (SchedulerState::NotProbed, _) => (Status::Running, None),
        _ => classify(&state, workers, None),
    };
    held_cores(&mut c, &r);
    c.handle = Handle::new(GatewayHandle {
        endpoint: ep.name.clone(),
        report: Some(r),
        workers: Vec::new(),
    });
    c
}
