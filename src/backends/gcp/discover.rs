//! `list`/`describe`: `instances.aggregatedList` of every configured project, every zone in one
//! call, filtered by labels and followed page by page (`nextPageToken`); instances grouped into
//! clusters; schedulers probed concurrently. The API is the authority on the instances: a
//! running scheduler instance that does not answer is `unknown`, never `orphaned`.

use super::Gcp;
use super::client::map_err;
use super::labels::{self, Node};
use super::startup::SCHEDULER_PORT;
use crate::backends::status::{SchedulerState, classify, instance_scheduler_state};
use crate::dask::Probe;
use crate::error::Result;
use crate::model::{Cluster, Handle, Origin, Resource, Role, Status};
use futures::future::join_all;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// Every Dask instance of one project (all zones), daskctl's and dask-cloudprovider's.
pub async fn nodes(g: &Gcp, project: &str) -> Result<Vec<Node>> {
    let c = g.clients().await?;
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = c
            .instances
            .aggregated_list()
            .set_project(project)
            .set_filter(labels::filter())
            .set_max_results(g.settings.page_size)
            .set_or_clear_page_token(token.take())
            .send()
            .await
            .map_err(|e| map_err(project, "instances.aggregatedList", e))?;
        for scoped in page.items.values() {
            out.extend(
                scoped
                    .instances
                    .iter()
                    .filter_map(|i| Node::parse(project, i)),
            );
        }
        for zone in &page.unreachables {
            tracing::warn!("gcp: {project}: {zone} could not be listed (unreachable)");
        }
        match page.next_page_token.filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

/// Clusters in every project, or only the one called `name`.
pub async fn discover(g: &Gcp, name: Option<&str>) -> Result<Vec<Cluster>> {
    let projects = g.projects().await?;
    let found = join_all(projects.iter().map(|p| nodes(g, p))).await;
    let mut all = Vec::new();
    let mut failures = Vec::new();
    for (p, f) in projects.iter().zip(found) {
        match f {
            Ok(n) => all.extend(n),
            Err(e) => failures.push((p.clone(), e)),
        }
    }
    if !failures.is_empty() {
        if failures.len() == projects.len() {
            return Err(failures.remove(0).1);
        }
        for (p, e) in &failures {
            tracing::warn!("gcp: project {p} skipped: {e}");
        }
    }
    let me = &g.ctx.user.name;
    let mut groups: BTreeMap<(String, String, String), Vec<Node>> = BTreeMap::new();
    for n in all {
        // daskctl clusters of other users are theirs to manage (unless the command names them)
        if n.origin == Origin::Daskctl
            && n.owner
                .as_deref()
                .is_some_and(|o| !g.ctx.scope.includes(o, me))
        {
            continue;
        }
        if name.is_some_and(|x| x != n.cluster) {
            continue;
        }
        groups
            .entry((n.project.clone(), n.zone.clone(), n.cluster.clone()))
            .or_default()
            .push(n);
    }
    let groups: Vec<Vec<Node>> = groups.into_values().collect();
    let probes = join_all(groups.iter().map(|n| probe(g, n))).await;
    Ok(groups
        .into_iter()
        .zip(probes)
        .map(|(n, p)| to_cluster(g, n, p))
        .collect())
}

pub fn scheduler(nodes: &[Node]) -> Option<&Node> {
    nodes.iter().find(|n| n.role == Role::Scheduler)
}

/// The scheduler's address as this machine reaches it.
pub fn address(g: &Gcp, nodes: &[Node]) -> Option<String> {
    let s = scheduler(nodes)?;
    let ip = s.ip(g.settings.external_ip)?;
    let scheme = match s.origin {
        Origin::DaskCloudprovider => g.settings.cloudprovider_scheme(),
        _ => "tcp",
    };
    Some(format!("{scheme}://{ip}:{SCHEDULER_PORT}"))
}

async fn probe(g: &Gcp, nodes: &[Node]) -> Option<Probe> {
    let s = scheduler(nodes)?;
    if s.status != "RUNNING" {
        return None;
    }
    Some(g.ctx.prober.status(&address(g, nodes)?).await)
}

/// What the backend needs to act on a cluster it found (`Cluster::handle`).
#[derive(Debug, Clone)]
pub struct GcpHandle {
    pub project: String,
    pub zone: String,
    /// Its instances as listed.
    pub nodes: Vec<Node>,
}

impl GcpHandle {
    pub fn scheduler(&self) -> Option<&Node> {
        scheduler(&self.nodes)
    }
}

fn resource(g: &Gcp, n: &Node) -> Resource {
    Resource {
        kind: "instance",
        id: n.name.clone(),
        role: n.role,
        state: n.status.to_ascii_lowercase(),
        name: Some(format!("{}/{}", n.zone, n.name)),
        // a stopped instance holds no vCPUs (its disk is not counted)
        cores: n
            .alive()
            .then(|| crate::pricing::gce::vcpus(&n.machine_type))
            .flatten()
            .map(f64::from),
        started: n.started.or(n.created).filter(|_| n.status == "RUNNING"),
        hourly_cost: g.ctx.config.pricing.gce(&n.machine_type, n.spot, &n.zone),
    }
}

/// The scheduler's state from its instance and the probe; what it said fills `c`.
fn scheduler_state(
    g: &Gcp,
    c: &mut Cluster,
    sched: Option<&Node>,
    probe: Option<Probe>,
) -> SchedulerState {
    instance_scheduler_state(
        c,
        sched.map(Node::alive),
        sched.and_then(|s| s.ip(g.settings.external_ip)),
        probe,
        |why| format!("does not answer: {why}"),
    )
}

fn to_cluster(g: &Gcp, nodes: Vec<Node>, probe: Option<Probe>) -> Cluster {
    let first = &nodes[0];
    let mut c = Cluster::new(first.cluster.clone(), "gcp", first.origin);
    c.owner = nodes.iter().find_map(|n| n.owner.clone());
    c.created = nodes.iter().filter_map(|n| n.created).min();
    c.expires = nodes.iter().filter_map(|n| n.expires).min();
    c.address = address(g, &nodes);
    // the scheduler instance's unique id: a cluster deleted and created again under its name
    // (the same instance names) is told apart before anything destructive is done to it
    c.instance = scheduler(&nodes).map(|s| s.id.clone());
    c.resources = nodes.iter().map(|n| resource(g, n)).collect();
    let workers = |f: &dyn Fn(&Node) -> bool| {
        nodes
            .iter()
            .filter(|n| n.role == Role::Worker && f(n))
            .count() as u64
    };
    let (alive, running) = (workers(&Node::alive), workers(&|n| n.status == "RUNNING"));
    c.requested_workers = Some(alive);
    let sched = scheduler(&nodes);
    let answered = matches!(probe, Some(Probe::Answered { .. }));
    let now = SystemTime::now();
    let starting = sched.is_some_and(|s| {
        s.starting()
            || s.created
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age < g.settings.startup_grace)
    });
    let state = scheduler_state(g, &mut c, sched, probe);
    let (mut status, mut reason) = match &state {
        SchedulerState::Gone => classify(&state, alive, None),
        _ => classify(&state, running, None),
    };
    if starting && matches!(state, SchedulerState::Silent(_) | SchedulerState::NotProbed) {
        status = Status::Pending;
        reason = Some("scheduler instance is starting".into());
    }
    if nodes.iter().all(|n| !n.alive()) {
        status = Status::Stopped;
        reason = Some("all instances are stopped (TERMINATED); their disks remain".into());
    }
    if c.workers.is_none() {
        c.workers = Some(running);
    }
    c.status = status;
    c.reason = reason;
    if c.origin == Origin::Daskctl {
        c.groups = group_counts(&c, &nodes, answered);
    }
    c.handle = Handle::new(GcpHandle {
        project: first.project.clone(),
        zone: first.zone.clone(),
        nodes,
    });
    c
}

/// A daskctl cluster's worker groups: the default one, those its scheduler has specs for and
/// those its instances carry (`groups::counts`; workers named after their instances).
pub fn group_counts(c: &Cluster, nodes: &[Node], answered: bool) -> Vec<crate::groups::GroupCount> {
    let mut names: Vec<String> = scheduler(nodes)
        .and_then(|s| super::startup::specs(s).ok())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| s.group)
        .collect();
    names.extend(nodes.iter().filter_map(|n| n.group.clone()));
    let members: Vec<crate::groups::Member> = nodes
        .iter()
        .filter(|n| n.role == Role::Worker)
        .map(|n| crate::groups::Member {
            group: n.group.as_deref(),
            name: &n.name,
            running: n.status == "RUNNING",
            alive: n.alive(),
        })
        .collect();
    crate::groups::counts(names, &members, answered, &c.worker_details)
}
