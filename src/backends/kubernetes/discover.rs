//! `list`/`describe`: DaskClusters (when the operator's CRD is served) with their worker groups,
//! Deployments of the Dask Helm chart (`app=dask`) and daskctl's own, and their pods, in every
//! namespace (one cluster-wide list per kind; where that is forbidden, namespace by namespace,
//! skipping the ones RBAC forbids with a warning).

use super::Kubernetes;
use super::client::{GROUP, map_err, status};
use super::objects::{
    self as o, CLUSTER_LABEL, COMPONENT_LABEL, EXPIRES, MANAGED_BY, WORKERGROUP_LABEL,
};
use crate::backends::status::{SchedulerState, classify};
use crate::dask::Probe;
use crate::error::Result;
use crate::model::{Cluster, Handle, Origin, Resource, Role, Status};
use futures::future::join_all;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use std::collections::BTreeMap;

/// Everything Dask-related seen in the scope.
#[derive(Default)]
pub struct Seen {
    pub clusters: Vec<DynamicObject>,
    pub groups: Vec<DynamicObject>,
    /// The operator's DaskAutoscalers (`cluster.adapt()`, `daskctl adapt`).
    pub autoscalers: Vec<DynamicObject>,
    pub deployments: Vec<DynamicObject>,
    pub pods: Vec<DynamicObject>,
    /// Scheduler Services of Helm releases (`app=dask,component=scheduler`).
    pub helm_services: Vec<DynamicObject>,
    pub crd: bool,
}

pub async fn crd_served(k: &Kubernetes) -> Result<bool> {
    let client = k.client().await?;
    match kube::discovery::group(&client, GROUP).await {
        Ok(_) => Ok(true),
        Err(e) if status(&e) == Some(404) => Ok(false),
        Err(kube::Error::Discovery(_)) => Ok(false),
        Err(e) => Err(map_err("discovering the dask API group", e)),
    }
}

async fn list_in(
    k: &Kubernetes,
    ar: &ApiResource,
    ns: Option<&str>,
    selector: &str,
) -> std::result::Result<Vec<DynamicObject>, kube::Error> {
    let client = k
        .client()
        .await
        .map_err(|e| kube::Error::Service(e.to_string().into()))?;
    let api: Api<DynamicObject> = match ns {
        Some(n) => Api::namespaced_with(client, n, ar),
        None => Api::all_with(client, ar),
    };
    let mut lp = ListParams::default().limit(500);
    if !selector.is_empty() {
        lp = lp.labels(selector);
    }
    let mut out = Vec::new();
    loop {
        let page = api.list(&lp).await?;
        let next = page.metadata.continue_.clone().filter(|c| !c.is_empty());
        out.extend(page.items);
        match next {
            Some(c) => lp = lp.continue_token(&c),
            None => return Ok(out),
        }
    }
}

fn one_line(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} ({})", s.message, s.reason),
        _ => e.to_string(),
    }
}

/// Where one run looks: RBAC is decided per resource (a user with cluster-wide `view` may list
/// pods everywhere but not `daskclusters`: the operator's chart aggregates no roles into
/// `view`), so each kind is listed across namespaces where that is allowed, else namespace by
/// namespace; the namespaces are read once, when first needed.
struct Where<'a> {
    k: &'a Kubernetes,
    namespaces: tokio::sync::OnceCell<Vec<String>>,
}

impl Where<'_> {
    async fn namespaces(&self) -> Result<&Vec<String>> {
        self.namespaces
            .get_or_try_init(|| async {
                let ns_res =
                    ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk("", "v1", "Namespace"));
                match list_in(self.k, &ns_res, None, "").await {
                    Ok(v) => Ok(v.iter().map(|n| o::name(n).to_string()).collect()),
                    Err(e) if status(&e) == Some(403) => {
                        Ok(vec![self.k.default_namespace().await?])
                    }
                    Err(e) => Err(map_err("listing namespaces", e)),
                }
            })
            .await
    }

    /// One kind: in the namespace asked for, else across namespaces, else in each namespace
    /// (those RBAC forbids are skipped with one warning).
    async fn list(&self, ar: &ApiResource, selector: &str) -> Result<Vec<DynamicObject>> {
        if let Some(ns) = &self.k.settings.namespace {
            return self.each(ar, selector, std::slice::from_ref(ns)).await;
        }
        match list_in(self.k, ar, None, selector).await {
            Ok(v) => Ok(v),
            Err(e) if status(&e) == Some(403) => {
                tracing::debug!("kubernetes: {} not listable across namespaces", ar.plural);
                let nss = self.namespaces().await?.clone();
                self.each(ar, selector, &nss).await
            }
            Err(e) => Err(map_err(&format!("listing {}", ar.plural), e)),
        }
    }

    async fn each(
        &self,
        ar: &ApiResource,
        selector: &str,
        nss: &[String],
    ) -> Result<Vec<DynamicObject>> {
        let r = join_all(nss.iter().map(|n| list_in(self.k, ar, Some(n), selector))).await;
        let mut out = Vec::new();
        for (n, x) in nss.iter().zip(r) {
            match x {
                Ok(v) => out.extend(v),
                Err(e) if status(&e) == Some(403) => {
                    self.k.warn_once(&format!(
                        "kubernetes: {} in namespace {n} skipped: {}",
                        ar.plural,
                        one_line(&e)
                    ));
                }
                Err(e) if status(&e) == Some(404) => {}
                Err(e) => return Err(map_err(&format!("listing {} in {n}", ar.plural), e)),
            }
        }
        Ok(out)
    }
}

pub async fn seen(k: &Kubernetes) -> Result<Seen> {
    // a bad kubeconfig or context is the user's to fix: its error as it is, before any list
    k.client().await?;
    let at = Where {
        k,
        namespaces: tokio::sync::OnceCell::new(),
    };
    let crd = crd_served(k).await?;
    let (dc, wg, dep, pod, svc) = (
        o::dask_clusters(),
        o::worker_groups(),
        o::deployments(),
        o::pods(),
        o::services(),
    );
    let own_sel = format!("{MANAGED_BY}=daskctl");
    let (clusters, groups, autoscalers) = if crd {
        let asc = o::autoscalers();
        let (a, b, c) = futures::join!(at.list(&dc, ""), at.list(&wg, ""), at.list(&asc, ""));
        (a?, b?, c?)
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let (helm, own, pods, helm_pods, helm_services) = futures::join!(
        at.list(&dep, "app=dask"),
        at.list(&dep, &own_sel),
        at.list(&pod, CLUSTER_LABEL),
        at.list(&pod, "app=dask"),
        at.list(&svc, "app=dask,component=scheduler"),
    );
    let mut deployments = helm?;
    deployments.extend(own?);
    let mut pods = pods?;
    pods.extend(helm_pods?);
    Ok(Seen {
        clusters,
        groups,
        autoscalers,
        deployments,
        pods,
        helm_services: helm_services?,
        crd,
    })
}

/// The kubernetes backend's typed record of a cluster (`Cluster::handle`).
#[derive(Debug, Clone)]
pub struct KubeHandle {
    pub kind: Kind,
    pub namespace: String,
    /// Pods nothing owns any more (their controller is gone): deleted one by one.
    pub bare_pods: Vec<String>,
    /// For pods with several containers (a sidecar), the one running Dask: logs name it.
    pub log_containers: BTreeMap<String, String>,
    /// A native cluster's scheduler Deployment, where its daskctl policy is kept.
    pub scheduler_deployment: Option<String>,
    /// The policy JSON its `daskctl.dev/policy` annotation held when discovered.
    pub policy: Option<String>,
    /// `KIND/NAME` -> the object's uid when discovered (DaskCluster, worker groups,
    /// Deployments): deletes carry it as a precondition, so an object deleted and created
    /// again under the name since is refused by the API server, never deleted.
    pub uids: BTreeMap<String, String>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Kind {
    Operator,
    Helm,
    Native,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Operator => "operator",
            Kind::Helm => "helm",
            Kind::Native => "daskctl",
        }
    }
}

/// One cluster's objects.
#[derive(Default)]
struct Group {
    cluster: Option<DynamicObject>,
    groups: Vec<DynamicObject>,
    autoscaler: Option<DynamicObject>,
    deployments: Vec<DynamicObject>,
    pods: Vec<DynamicObject>,
    /// The scheduler Service of a Helm release.
    service: Option<DynamicObject>,
}

fn helm_release(o: &DynamicObject) -> String {
    o::label(o, "release")
        .or_else(|| o::label(o, "app.kubernetes.io/instance"))
        .map(str::to_string)
        .unwrap_or_else(|| {
            let n = o::name(o);
            n.rsplit_once('-')
                .map(|(a, _)| a.to_string())
                .unwrap_or_else(|| n.to_string())
        })
}

fn key_of(
    o: &DynamicObject,
    operator_names: &[(String, String)],
) -> Option<(String, String, Kind)> {
    let ns = o::namespace(o).to_string();
    if let Some(c) = o::label(o, CLUSTER_LABEL) {
        // the operator copies the DaskCluster's labels (daskctl's managed-by included) onto
        // what it makes: what a DaskCluster or DaskWorkerGroup owns is the operator's
        let operator_owned = o
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|r| matches!(r.kind.as_str(), "DaskCluster" | "DaskWorkerGroup"));
        let kind = if operator_owned || operator_names.iter().any(|(n, x)| *n == ns && x == c) {
            Kind::Operator
        } else if o::label(o, MANAGED_BY) == Some("daskctl") {
            Kind::Native
        } else {
            // pods of an operator cluster whose DaskCluster is gone (or not visible)
            Kind::Operator
        };
        return Some((ns, c.to_string(), kind));
    }
    if o::label(o, "app") == Some("dask") {
        return Some((ns, helm_release(o), Kind::Helm));
    }
    None
}

pub async fn discover(k: &Kubernetes, only: Option<(&str, Option<&str>)>) -> Result<Vec<Cluster>> {
    let s = seen(k).await?;
    let operator_names: Vec<(String, String)> = s
        .clusters
        .iter()
        .map(|c| (o::namespace(c).to_string(), o::name(c).to_string()))
        .collect();
    let mut groups: BTreeMap<(String, String, Kind), Group> = BTreeMap::new();
    for c in s.clusters {
        let key = (
            o::namespace(&c).to_string(),
            o::name(&c).to_string(),
            Kind::Operator,
        );
        groups.entry(key).or_default().cluster = Some(c);
    }
    for g in s.groups {
        let c = o::path(&g, &["spec", "cluster"])
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .or_else(|| o::label(&g, CLUSTER_LABEL).map(str::to_string));
        if let Some(c) = c {
            let key = (o::namespace(&g).to_string(), c, Kind::Operator);
            groups.entry(key).or_default().groups.push(g);
        }
    }
    for a in s.autoscalers {
        if let Some(c) = o::path(&a, &["spec", "cluster"]).and_then(|v| v.as_str()) {
            let key = (o::namespace(&a).to_string(), c.to_string(), Kind::Operator);
            // only beside a DaskCluster: an autoscaler alone is not a cluster
            if let Some(g) = groups.get_mut(&key) {
                g.autoscaler = Some(a);
            }
        }
    }
    for d in s.deployments {
        if let Some(key) = key_of(&d, &operator_names) {
            groups.entry(key).or_default().deployments.push(d);
        }
    }
    for svc in s.helm_services {
        let key = (
            o::namespace(&svc).to_string(),
            helm_release(&svc),
            Kind::Helm,
        );
        if let Some(g) = groups.get_mut(&key) {
            g.service = Some(svc);
        }
    }
    let mut seen_pods = std::collections::BTreeSet::new();
    for p in s.pods {
        if !seen_pods.insert((o::namespace(&p).to_string(), o::name(&p).to_string())) {
            continue;
        }
        if let Some(key) = key_of(&p, &operator_names) {
            groups.entry(key).or_default().pods.push(p);
        }
    }
    let me = &k.ctx.user.name;
    let mut wanted: Vec<((String, String, Kind), Group)> = groups
        .into_iter()
        .filter(|((ns, n, _), _)| match only {
            Some((name, ns_q)) => n == name && ns_q.is_none_or(|q| q == ns),
            None => true,
        })
        .collect();
    // daskctl's own clusters of other users are theirs to manage (unless the command names
    // them: --all-users, -u)
    wanted.retain(|((_, _, kind), g)| {
        *kind != Kind::Native
            || g.deployments
                .iter()
                .filter_map(|d| o::annotation(d, o::OWNER))
                .all(|o| k.ctx.scope.includes(o, me))
    });
    let probes = join_all(
        wanted
            .iter()
            .map(|((ns, n, _), g)| probe(k, address_of(ns, n, g), g)),
    )
    .await;
    Ok(wanted
        .into_iter()
        .zip(probes)
        .map(|(((ns, n, kind), g), p)| to_cluster(k, ns, n, kind, g, p))
        .collect())
}

/// The scheduler Service's in-cluster address where it is named `{cluster}-scheduler` (the
/// operator's `SCHEDULER_NAME_TEMPLATE`, daskctl's own).
pub fn address(ns: &str, cluster: &str) -> String {
    format!(
        "tcp://{cluster}-scheduler.{ns}.svc.cluster.local:{}",
        o::SCHEDULER_PORT
    )
}

/// A cluster's scheduler address: a Helm release's from the Service its chart labels select
/// (dask/helm-chart names it `{{ dask.fullname }}-scheduler`, where fullname is `RELEASE-dask`
/// unless the release name contains "dask"), with the port that reaches 8786.
fn address_of(ns: &str, name: &str, g: &Group) -> String {
    let Some(svc) = &g.service else {
        return address(ns, name);
    };
    let ports = o::path(svc, &["spec", "ports"]).and_then(|p| p.as_array());
    let port = ports
        .and_then(|ps| {
            ps.iter()
                .find(|p| p["targetPort"].as_u64() == Some(o::SCHEDULER_PORT as u64))
                .or_else(|| ps.first())
        })
        .and_then(|p| p["port"].as_u64())
        .unwrap_or(o::SCHEDULER_PORT as u64);
    format!("tcp://{}.{ns}.svc.cluster.local:{port}", o::name(svc))
}

fn role_of(p: &DynamicObject) -> Role {
    match o::label(p, COMPONENT_LABEL).or_else(|| o::label(p, "component")) {
        Some("scheduler") => Role::Scheduler,
        Some("worker") => Role::Worker,
        _ => Role::Other,
    }
}

fn phase(p: &DynamicObject) -> String {
    if p.metadata.deletion_timestamp.is_some() {
        return "Terminating".into();
    }
    o::path(p, &["status", "phase"])
        .and_then(|v| v.as_str())
        .unwrap_or("Unknown")
        .to_string()
}

async fn probe(k: &Kubernetes, addr: String, g: &Group) -> Option<Probe> {
    let sched_running = g
        .pods
        .iter()
        .any(|p| role_of(p) == Role::Scheduler && phase(p) == "Running");
    if !sched_running {
        return None;
    }
    Some(k.ctx.prober.status(&addr).await)
}

fn to_cluster(
    k: &Kubernetes,
    ns: String,
    name: String,
    kind: Kind,
    g: Group,
    probe: Option<Probe>,
) -> Cluster {
    let mut c = Cluster::new(name.clone(), "kubernetes", origin_of(kind, &g));
    c.namespace = Some(ns.clone());
    c.address = Some(address_of(&ns, &name, &g));
    let owner_obj = g.cluster.iter().chain(&g.deployments);
    c.owner = owner_obj
        .clone()
        .find_map(|x| o::annotation(x, o::OWNER).map(str::to_string));
    c.expires = owner_obj
        .clone()
        .find_map(|x| o::annotation(x, EXPIRES))
        .and_then(|v| humantime::parse_rfc3339_weak(v).ok());
    c.created = g
        .cluster
        .iter()
        .chain(&g.deployments)
        .chain(&g.pods)
        .filter_map(|x| x.metadata.creation_timestamp.as_ref())
        .map(|t| std::time::SystemTime::from(t.0))
        .min();
    c.resources = resources_of(&g);
    c.requested_workers = Some(requested_of(kind, &g));
    c.adapt = g.autoscaler.as_ref().and_then(autoscaler_bounds);
    c.adapt_by = c.adapt.is_some().then_some(crate::model::AdaptBy::Platform);
    let answered = matches!(probe, Some(Probe::Answered { .. }));
    classify_cluster(k, &mut c, &g, probe);
    match kind {
        Kind::Operator => c.groups = group_counts(&c, &g, answered),
        Kind::Native => c.groups = native_group_counts(&c, &g, answered),
        Kind::Helm => {}
    }
    c.handle = handle_of(kind, ns, &g);
    // the top object's uid: what the cluster is, whatever its name (a DaskCluster, else the
    // scheduler Deployment)
    c.instance = g
        .cluster
        .as_ref()
        .or_else(|| {
            g.deployments
                .iter()
                .find(|d| o::label(d, COMPONENT_LABEL) == Some("scheduler"))
        })
        .and_then(|x| x.metadata.uid.clone());
    c
}

/// An operator cluster's DaskWorkerGroups (`{cluster}-{group}`; `{cluster}-default` first):
/// replicas asked for, and workers the scheduler has by their names (the operator names them
/// `{worker group}-worker-{id}`), else running worker pods of the group.
fn group_counts(c: &Cluster, g: &Group, answered: bool) -> Vec<crate::groups::GroupCount> {
    let prefix = format!("{}-", c.name);
    let name_of = |wg: &DynamicObject| {
        let n = o::name(wg);
        n.strip_prefix(&prefix).unwrap_or(n).to_string()
    };
    let mut wgs: Vec<&DynamicObject> = g.groups.iter().collect();
    wgs.sort_by_key(|wg| (name_of(wg) != crate::groups::DEFAULT, name_of(wg)));
    let known: Vec<String> = wgs
        .iter()
        .map(|wg| name_of(wg))
        .filter(|n| n != crate::groups::DEFAULT)
        .collect();
    wgs.iter()
        .map(|wg| {
            let name = name_of(wg);
            let workers = if answered {
                c.worker_details
                    .iter()
                    .filter(|w| crate::groups::of_detail(&c.name, w, &known) == name)
                    .count()
            } else {
                g.pods
                    .iter()
                    .filter(|p| {
                        o::label(p, "dask.org/workergroup-name") == Some(o::name(wg))
                            && phase(p) == "Running"
                    })
                    .count()
            };
            crate::groups::GroupCount {
                workers: Some(workers as u64),
                requested: o::path(wg, &["spec", "worker", "replicas"]).and_then(|v| v.as_u64()),
                name,
            }
        })
        .collect()
}

/// A native cluster's worker Deployments, one per group (`dask.org/workergroup-name`; the
/// default one first): replicas asked for, and the workers the scheduler has among the group's
/// pods (workers are named after their pods), else its running pods. None for a cluster made
/// before groups (its worker Deployment carries no group label).
fn native_group_counts(c: &Cluster, g: &Group, answered: bool) -> Vec<crate::groups::GroupCount> {
    let mut deployments: Vec<(&str, &DynamicObject)> = g
        .deployments
        .iter()
        .filter(|d| component(d) == Some("worker"))
        .filter_map(|d| Some((o::label(d, WORKERGROUP_LABEL)?, d)))
        .collect();
    deployments.sort_by_key(|(name, _)| (*name != crate::groups::DEFAULT, *name));
    deployments
        .into_iter()
        .map(|(name, d)| {
            let pods: Vec<&DynamicObject> = g
                .pods
                .iter()
                .filter(|p| o::label(p, WORKERGROUP_LABEL) == Some(name))
                .collect();
            let workers = if answered {
                c.worker_details
                    .iter()
                    .filter(|w| pods.iter().any(|p| o::name(p) == w.name))
                    .count()
            } else {
                pods.iter().filter(|p| phase(p) == "Running").count()
            };
            crate::groups::GroupCount {
                name: name.to_string(),
                workers: Some(workers as u64),
                requested: o::path(d, &["spec", "replicas"]).and_then(|v| v.as_u64()),
            }
        })
        .collect()
}

/// A DaskAutoscaler's bounds (its CRD requires both).
fn autoscaler_bounds(a: &DynamicObject) -> Option<crate::policy::Adapt> {
    let n = |k| o::path(a, &["spec", k]).and_then(|v| v.as_u64());
    crate::policy::Adapt::new(n("minimum")? as u32, n("maximum")? as u32).ok()
}

fn origin_of(kind: Kind, g: &Group) -> Origin {
    match kind {
        Kind::Operator
            if g.cluster.as_ref().and_then(|c| o::label(c, MANAGED_BY)) == Some("daskctl") =>
        {
            Origin::Daskctl
        }
        Kind::Operator => Origin::DaskKubernetes,
        Kind::Helm => Origin::Unknown,
        Kind::Native => Origin::Daskctl,
    }
}

/// The DaskCluster, worker groups, Deployments and pods, as `resources`.
fn resources_of(g: &Group) -> Vec<Resource> {
    let mut out = Vec::new();
    if let Some(dc) = &g.cluster {
        out.push(Resource {
            kind: "daskcluster",
            id: o::name(dc).to_string(),
            role: Role::Other,
            state: o::path(dc, &["status", "phase"])
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string(),
            name: None,
            ..Default::default()
        });
    }
    for wg in &g.groups {
        out.push(Resource {
            kind: "daskworkergroup",
            id: o::name(wg).to_string(),
            role: Role::Worker,
            state: o::path(wg, &["spec", "worker", "replicas"])
                .map(|v| format!("replicas={v}"))
                .unwrap_or_default(),
            name: None,
            ..Default::default()
        });
    }
    for d in &g.deployments {
        let role = match component(d) {
            Some("scheduler") => Role::Scheduler,
            Some("worker") => Role::Worker,
            _ => Role::Other,
        };
        out.push(Resource {
            kind: "deployment",
            id: o::name(d).to_string(),
            role,
            state: format!(
                "{}/{}",
                o::path(d, &["status", "readyReplicas"])
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0),
                o::path(d, &["spec", "replicas"])
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0)
            ),
            name: None,
            ..Default::default()
        });
    }
    for p in &g.pods {
        out.push(Resource {
            kind: "pod",
            id: o::name(p).to_string(),
            role: role_of(p),
            state: phase(p),
            name: None,
            // held from the kubelet's start until the pod ends (Succeeded/Failed free it)
            cores: matches!(phase(p).as_str(), "Pending" | "Running")
                .then(|| o::pod_cpu(p))
                .flatten(),
            started: (phase(p) == "Running")
                .then(|| o::path(p, &["status", "startTime"])?.as_str())
                .flatten()
                .and_then(|t| humantime::parse_rfc3339_weak(t).ok()),
            ..Default::default()
        });
    }
    out
}

fn component(d: &DynamicObject) -> Option<&str> {
    o::label(d, COMPONENT_LABEL).or_else(|| o::label(d, "component"))
}

/// Workers asked for. An operator cluster asks through its worker groups; its per-worker
/// Deployments (one replica each) are how the operator runs them, not more workers.
fn requested_of(kind: Kind, g: &Group) -> u64 {
    let group_replicas = g
        .groups
        .iter()
        .filter_map(|wg| o::path(wg, &["spec", "worker", "replicas"]).and_then(|v| v.as_u64()));
    let deployment_replicas = g
        .deployments
        .iter()
        .filter(|d| component(d) == Some("worker"))
        .filter_map(|d| o::path(d, &["spec", "replicas"]).and_then(|v| v.as_u64()));
    if kind == Kind::Operator && !g.groups.is_empty() {
        group_replicas.sum()
    } else {
        group_replicas.chain(deployment_replicas).sum()
    }
}

/// Status, reason and worker count, from the pods and the scheduler's answer (or silence).
fn classify_cluster(_k: &Kubernetes, c: &mut Cluster, g: &Group, probe: Option<Probe>) {
    let count = |r: Role, phases: &[&str]| {
        g.pods
            .iter()
            .filter(|p| role_of(p) == r && phases.contains(&phase(p).as_str()))
            .count() as u64
    };
    let running = |r: Role| count(r, &["Running"]);
    let alive = |r: Role| count(r, &["Running", "Pending"]);
    let workers_running = running(Role::Worker);
    let has_scheduler_object = g.cluster.is_some()
        || g.deployments
            .iter()
            .any(|d| component(d) == Some("scheduler"));
    // the scheduler is a pod: whether it is gone is decided from the pod, never from a probe
    // (a running scheduler pod that does not answer is `unknown`)
    let sched_running = running(Role::Scheduler) > 0;
    let mut state = if sched_running || alive(Role::Scheduler) > 0 || has_scheduler_object {
        SchedulerState::NotProbed
    } else {
        SchedulerState::Gone
    };
    match probe {
        Some(Probe::Answered { info, idle }) => {
            crate::backends::status::fill_from_info(c, &info, idle);
            state = SchedulerState::Answering {
                connected: c.workers.unwrap_or(0),
            };
        }
        Some(Probe::Disabled { .. }) | None => {}
        Some(p) => {
            let why = crate::backends::status::probe_failed(c, p.why().unwrap_or_default());
            if sched_running {
                state = SchedulerState::Silent(why);
            }
        }
    }
    let (mut status, mut reason) = match &state {
        SchedulerState::Gone => classify(&state, alive(Role::Worker), None),
        _ => classify(&state, workers_running, None),
    };
    if matches!(state, SchedulerState::NotProbed) && !sched_running {
        status = Status::Pending;
        reason = Some("scheduler pod is not running yet".into());
    }
    if let Some(dc) = &g.cluster
        && let Some(ph) = o::path(dc, &["status", "phase"]).and_then(|v| v.as_str())
        && matches!(ph, "Pending" | "Created")
        && matches!(status, Status::Running | Status::Pending)
    {
        status = Status::Pending;
        let age = c
            .created
            .and_then(|t| std::time::SystemTime::now().duration_since(t).ok())
            .unwrap_or_default();
        // the operator leaves phase Created only once it made the scheduler; a pod spec the
        // API server refuses keeps it there for good (its handler fails and is retried)
        reason = Some(if ph == "Created" && age > STUCK && !sched_running {
            format!(
                "the DaskCluster has been in phase Created for {}: the operator has not made its scheduler (is the dask-kubernetes operator running? kubectl describe daskcluster {} -n {} shows why)",
                humantime::format_duration(std::time::Duration::from_secs(age.as_secs())),
                c.name,
                c.namespace.as_deref().unwrap_or_default(),
            )
        } else {
            format!("DaskCluster phase is {ph}")
        });
    }
    if c.workers.is_none() {
        c.workers = Some(workers_running);
    }
    c.status = status;
    c.reason = reason;
}

/// What delete, scale and logs need: the kind, the namespace, pods no controller owns, and
/// the container Dask runs in, per pod.
fn handle_of(kind: Kind, namespace: String, g: &Group) -> Handle {
    let bare_pods = g
        .pods
        .iter()
        .filter(|p| {
            p.metadata
                .owner_references
                .as_ref()
                .is_none_or(Vec::is_empty)
        })
        .map(|p| o::name(p).to_string())
        .collect();
    let log_containers = g
        .pods
        .iter()
        .filter_map(|p| dask_container(p).map(|c| (o::name(p).to_string(), c)))
        .collect();
    let scheduler = (kind == Kind::Native)
        .then(|| {
            g.deployments
                .iter()
                .find(|d| o::label(d, COMPONENT_LABEL) == Some("scheduler"))
        })
        .flatten();
    let uids = g
        .cluster
        .iter()
        .map(|x| ("daskcluster", x))
        .chain(g.groups.iter().map(|x| ("daskworkergroup", x)))
        .chain(g.deployments.iter().map(|x| ("deployment", x)))
        .filter_map(|(k, x)| Some((format!("{k}/{}", o::name(x)), x.metadata.uid.clone()?)))
        .collect();
    Handle::new(KubeHandle {
        kind,
        namespace,
        bare_pods,
        log_containers,
        uids,
        scheduler_deployment: scheduler.map(|d| o::name(d).to_string()),
        policy: scheduler.and_then(|d| {
            d.metadata
                .annotations
                .as_ref()?
                .get(super::objects::POLICY)
                .cloned()
        }),
    })
}

/// How long a DaskCluster may stay in phase Created before it is reported as stuck.
const STUCK: std::time::Duration = std::time::Duration::from_secs(60);

/// The container running Dask in a pod with several (a sidecar beside it): the one named as
/// daskctl, the operator or the chart name theirs, else the first whose command runs Dask.
/// `None` for a pod with one container (the log API needs no name then).
fn dask_container(p: &DynamicObject) -> Option<String> {
    let cs = o::path(p, &["spec", "containers"])?.as_array()?;
    if cs.len() < 2 {
        return None;
    }
    let name = |c: &serde_json::Value| c["name"].as_str().map(str::to_string);
    let runs_dask = |c: &serde_json::Value| {
        ["command", "args"].iter().any(|k| {
            c[*k].as_array().is_some_and(|a| {
                a.iter()
                    .filter_map(|x| x.as_str())
                    .any(|x| x.contains("dask"))
            })
        })
    };
    cs.iter()
        .find(|c| {
            c["name"].as_str().is_some_and(|n| {
                matches!(n, "worker" | "scheduler" | "dask-container" | "dask")
                    || n.ends_with("-scheduler")
                    || n.ends_with("-worker")
            })
        })
        .or_else(|| cs.iter().find(|c| runs_dask(c)))
        .or_else(|| cs.first())
        .and_then(name)
}
