//! `list`/`describe`: DescribeInstances with tag filters and pagination, every region at once;
//! instances grouped into clusters by their tags; schedulers probed concurrently.

use super::Aws;
use super::client::map_err;
use super::tags::{self, Node};
use super::userdata::SCHEDULER_PORT;
use crate::backends::status::{SchedulerState, classify, instance_scheduler_state};
use crate::dask::Probe;
use crate::error::Result;
use crate::model::Handle;
use crate::model::{Cluster, Origin, Resource, Role, Status};
use aws_sdk_ec2::types::Filter;
use futures::future::join_all;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// Every live (not terminated) Dask instance in one region; `ids` narrows to those instances.
pub async fn nodes(aws: &Aws, region: &str, ids: &[String]) -> Result<Vec<Node>> {
    let client = aws.client(region).await;
    let mut req = client.describe_instances();
    if ids.is_empty() {
        req = req
            .filters(
                Filter::builder()
                    .name("tag-key")
                    .values(tags::CLUSTER)
                    .values(tags::CP_CLUSTER)
                    .build(),
            )
            .filters(
                Filter::builder()
                    .name("instance-state-name")
                    .set_values(Some(
                        ["pending", "running", "stopping", "stopped", "shutting-down"]
                            .map(String::from)
                            .to_vec(),
                    ))
                    .build(),
            )
            .max_results(aws.settings.page_size as i32);
    } else {
        // instances just started may not be visible yet: asked again for a bounded time
        let mut out = Vec::new();
        for chunk in ids.chunks(1000) {
            let page = super::consistency::eventually(
                &[super::consistency::INSTANCE_NOT_FOUND],
                super::consistency::VISIBLE_WITHIN,
                || {
                    client
                        .describe_instances()
                        .set_instance_ids(Some(chunk.to_vec()))
                        .send()
                },
            )
            .await
            .map_err(|e| map_err(region, "DescribeInstances", e))?;
            for r in page.reservations() {
                out.extend(r.instances().iter().filter_map(|i| Node::parse(region, i)));
            }
        }
        return Ok(out);
    }
    let mut pages = req.into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| map_err(region, "DescribeInstances", e))?;
        for r in page.reservations() {
            for i in r.instances() {
                if let Some(n) = Node::parse(region, i) {
                    out.push(n);
                }
            }
        }
    }
    Ok(out)
}

/// Clusters in every region, or only the one called `name`.
pub async fn discover(aws: &Aws, name: Option<&str>) -> Result<Vec<Cluster>> {
    let regions = aws.regions().await?;
    let found = join_all(regions.iter().map(|r| nodes(aws, r, &[]))).await;
    let mut all = Vec::new();
    let mut failures = Vec::new();
    for (r, f) in regions.iter().zip(found) {
        match f {
            Ok(n) => all.extend(n),
            Err(e) => failures.push((r.clone(), e)),
        }
    }
    if !failures.is_empty() {
        if failures.len() == regions.len() {
            return Err(failures.remove(0).1);
        }
        for (r, e) in &failures {
            tracing::warn!("aws: region {r} skipped: {e}");
        }
    }
    let me = &aws.ctx.user.name;
    let mut groups: BTreeMap<(String, String), Vec<Node>> = BTreeMap::new();
    for n in all {
        // daskctl clusters of other users are theirs to manage (unless the command names them)
        if n.origin == Origin::Daskctl
            && n.owner
                .as_deref()
                .is_some_and(|o| !aws.ctx.scope.includes(o, me))
        {
            continue;
        }
        if name.is_some_and(|x| x != n.cluster) {
            continue;
        }
        groups
            .entry((n.region.clone(), n.cluster.clone()))
            .or_default()
            .push(n);
    }
    let with_instances: std::collections::BTreeSet<(String, String)> =
        groups.keys().cloned().collect();
    let groups: Vec<Vec<Node>> = groups.into_values().collect();
    let probes = join_all(groups.iter().map(|g| probe(aws, g))).await;
    let mut clusters: Vec<Cluster> = groups
        .into_iter()
        .zip(probes)
        .map(|(g, p)| to_cluster(aws, g, p))
        .collect();
    let leftovers = join_all(regions.iter().map(|r| leftover_groups(aws, r))).await;
    for (r, found) in regions.iter().zip(leftovers) {
        match found {
            Ok(gs) => {
                for g in gs {
                    if name.is_some_and(|x| x != g.cluster)
                        || with_instances.contains(&(r.clone(), g.cluster.clone()))
                    {
                        continue;
                    }
                    clusters.push(group_cluster(aws, r, g));
                }
            }
            Err(e) => tracing::warn!("aws: region {r}: security groups not listed: {e}"),
        }
    }
    Ok(clusters)
}

/// Why a running scheduler instance does not answer, as far as can be told from here: the
/// security group daskctl makes admits only the cluster's own instances unless
/// `backends.aws.ingress_cidr` says who else, so from outside the VPC a healthy scheduler is
/// silent (a timeout), and that says nothing about whether it lives.
fn silent_why(aws: &Aws, sched: Option<&Node>, address: Option<&str>, e: &str) -> String {
    let own_group = sched.and_then(|s| {
        s.group_names
            .iter()
            .find(|g| g.starts_with("daskctl-"))
            .cloned()
    });
    let mapped = address.is_some_and(|a| aws.ctx.config.probe.map.contains_key(a));
    match own_group {
        Some(g) if aws.settings.ingress_cidr.is_none() && !mapped => format!(
            "not reachable from here: the cluster's security group {g} admits only the cluster's own instances; set backends.aws.ingress_cidr (your address) or use probe.map ({e})"
        ),
        _ => format!("does not answer: {e}"),
    }
}

/// Security groups daskctl made (its tags, this user) whose cluster has no instance left: a
/// `stopped` cluster of just that group (DeleteSecurityGroup failed, or was never reached),
/// which `delete` and `cleanup --orphaned` remove.
async fn leftover_groups(aws: &Aws, region: &str) -> Result<Vec<Group>> {
    let me = &aws.ctx.user.name;
    // every owner's with --all-users / -u (then kept to the users it names)
    let owner = (!aws.ctx.scope.beyond_me()).then_some(me.as_str());
    let mut groups = daskctl_groups(aws, region, None, owner).await?;
    groups.retain(|g| aws.ctx.scope.includes(g.owner.as_deref().unwrap_or(me), me));
    Ok(groups)
}

/// A security group daskctl made.
pub(crate) struct Group {
    pub cluster: String,
    pub id: String,
    pub name: Option<String>,
    /// Its `daskctl:owner` tag.
    pub owner: Option<String>,
}

/// Security groups daskctl made (its tags), of one cluster or of all, of one owner or of any.
pub(crate) async fn daskctl_groups(
    aws: &Aws,
    region: &str,
    cluster: Option<&str>,
    owner: Option<&str>,
) -> Result<Vec<Group>> {
    Ok(tagged_groups(aws, region, tags::CLUSTER, cluster, owner)
        .await?
        .iter()
        .filter_map(|g| {
            let tag = |k: &str| {
                g.tags()
                    .iter()
                    .find(|t| t.key() == Some(k))
                    .and_then(|t| t.value())
                    .map(str::to_string)
            };
            Some(Group {
                cluster: tag(tags::CLUSTER)?,
                id: g.group_id()?.to_string(),
                name: g.group_name().map(str::to_string),
                owner: tag(tags::OWNER),
            })
        })
        .collect())
}

/// Security groups carrying tag `key` (with `value`, or any), of `owner` (or any owner's):
/// daskctl's cluster groups (`daskctl:cluster`) and reconcile locks (`daskctl:lock`).
pub(crate) async fn tagged_groups(
    aws: &Aws,
    region: &str,
    key: &str,
    value: Option<&str>,
    owner: Option<&str>,
) -> Result<Vec<aws_sdk_ec2::types::SecurityGroup>> {
    let client = aws.client(region).await;
    let by_key = match value {
        Some(v) => Filter::builder().name(format!("tag:{key}")).values(v),
        None => Filter::builder().name("tag-key").values(key),
    };
    let mut ask = client.describe_security_groups().filters(by_key.build());
    if let Some(o) = owner {
        ask = ask.filters(
            Filter::builder()
                .name(format!("tag:{}", tags::OWNER))
                .values(o)
                .build(),
        );
    }
    let out = ask
        .send()
        .await
        .map_err(|e| map_err(region, "DescribeSecurityGroups", e))?;
    Ok(out.security_groups().to_vec())
}

fn group_cluster(aws: &Aws, region: &str, g: Group) -> Cluster {
    let (id, name) = (g.id, g.name);
    let mut c = Cluster::new(g.cluster, "aws", Origin::Daskctl);
    c.owner = g.owner.or_else(|| Some(aws.ctx.user.name.clone()));
    c.status = Status::Stopped;
    c.reason = Some("no instance is left, only its security group".into());
    c.workers = Some(0);
    c.resources.push(Resource {
        kind: "security-group",
        id,
        role: Role::Other,
        state: "available".into(),
        name,
        ..Default::default()
    });
    c.handle = Handle::new(AwsHandle {
        region: region.to_string(),
        scheduler: None,
    });
    c
}

/// A daskctl cluster's worker groups: the default one, those the scheduler has launch specs
/// for and those its instances carry (`groups::counts`; workers named by instance id).
fn group_counts(c: &Cluster, nodes: &[Node], answered: bool) -> Vec<crate::groups::GroupCount> {
    let mut names: Vec<String> = scheduler(nodes).map(Node::spec_groups).unwrap_or_default();
    names.extend(nodes.iter().filter_map(|n| n.group().map(str::to_string)));
    let members: Vec<crate::groups::Member> = nodes
        .iter()
        .filter(|n| n.role == Role::Worker)
        .map(|n| crate::groups::Member {
            group: n.group(),
            name: &n.id,
            running: n.state == "running",
            alive: n.alive(),
        })
        .collect();
    crate::groups::counts(names, &members, answered, &c.worker_details)
}

pub fn scheduler(nodes: &[Node]) -> Option<&Node> {
    nodes.iter().find(|n| n.role == Role::Scheduler)
}

/// The scheduler's address as this machine would reach it.
/// What the AWS backend needs to act on a cluster it found (`Cluster::handle`).
#[derive(Debug, Clone)]
pub struct AwsHandle {
    /// The region its instances (and security group) are in.
    pub region: String,
    /// Its scheduler instance (alive), where a daskctl policy is kept in tags.
    pub scheduler: Option<SchedulerRef>,
}

#[derive(Debug, Clone)]
pub struct SchedulerRef {
    pub instance: String,
    pub vpc: Option<String>,
    /// The policy JSON its `daskctl:policy:N` tags held when discovered.
    pub policy: Option<String>,
}

pub fn address(aws: &Aws, nodes: &[Node]) -> Option<String> {
    let s = scheduler(nodes)?;
    let ip = s.ip(aws.settings.use_private_ip)?;
    // dask-cloudprovider secures its clusters with TLS by default
    let scheme = match s.origin {
        Origin::DaskCloudprovider => aws.settings.cloudprovider_protocol.scheme(),
        _ => "tcp",
    };
    Some(format!("{scheme}://{ip}:{SCHEDULER_PORT}"))
}

async fn probe(aws: &Aws, nodes: &[Node]) -> Option<Probe> {
    let s = scheduler(nodes)?;
    if s.state != "running" {
        return None;
    }
    let addr = address(aws, nodes)?;
    Some(aws.ctx.prober.status(&addr).await)
}

/// One instance as a resource of its cluster: what it holds while alive, what it costs.
fn resource(aws: &Aws, n: &Node) -> Resource {
    Resource {
        kind: "instance",
        id: n.id.clone(),
        role: n.role,
        state: n.state.clone(),
        name: n.name_tag.clone(),
        // a stopped instance holds no vCPUs (its volumes are not counted)
        cores: n
            .alive()
            .then(|| {
                n.vcpus
                    .or_else(|| crate::pricing::ec2::vcpus(&n.instance_type))
            })
            .flatten()
            .map(f64::from),
        started: n.launched.filter(|_| n.state == "running"),
        hourly_cost: aws
            .ctx
            .config
            .pricing
            .ec2(&n.instance_type, n.spot, &n.region),
    }
}

/// The scheduler's state from its instance and the probe's outcome; what it said fills `c`.
fn scheduler_state(
    aws: &Aws,
    c: &mut Cluster,
    sched: Option<&Node>,
    origin: Origin,
    probe: Option<Probe>,
) -> SchedulerState {
    let address = c.address.clone();
    instance_scheduler_state(
        c,
        sched.map(Node::alive),
        sched.and_then(|s| s.ip(aws.settings.use_private_ip)),
        probe,
        |why| match origin {
            // without the cluster's TLS credentials a silent scheduler proves nothing
            Origin::DaskCloudprovider => why.to_string(),
            _ => silent_why(aws, sched, address.as_deref(), why),
        },
    )
}

fn to_cluster(aws: &Aws, nodes: Vec<Node>, probe: Option<Probe>) -> Cluster {
    let first = &nodes[0];
    let mut c = Cluster::new(first.cluster.clone(), "aws", first.origin);
    c.owner = nodes.iter().find_map(|n| n.owner.clone());
    c.created = nodes.iter().filter_map(|n| n.launched).min();
    c.expires = nodes.iter().filter_map(|n| n.expires).min();
    c.address = address(aws, &nodes);
    c.resources = nodes.iter().map(|n| resource(aws, n)).collect();
    let workers_alive = nodes
        .iter()
        .filter(|n| n.role == Role::Worker && n.alive())
        .count() as u64;
    let workers_running = nodes
        .iter()
        .filter(|n| n.role == Role::Worker && n.state == "running")
        .count() as u64;
    c.requested_workers = Some(workers_alive);
    let sched = scheduler(&nodes);
    let answered = matches!(probe, Some(Probe::Answered { .. }));
    let now = SystemTime::now();
    let starting = sched.is_some_and(|s| {
        s.state == "pending"
            || s.launched
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age < aws.settings.startup_grace)
    });
    let state = scheduler_state(aws, &mut c, sched, first.origin, probe);
    let (mut status, mut reason) = match &state {
        SchedulerState::Gone => classify(&state, workers_alive, None),
        _ => classify(&state, workers_running, None),
    };
    if starting && matches!(state, SchedulerState::Silent(_) | SchedulerState::NotProbed) {
        status = Status::Pending;
        reason = Some("scheduler instance is starting".into());
    }
    if first.origin == Origin::DaskCloudprovider && nodes.iter().any(|n| n.role == Role::Other) {
        // dask-cloudprovider names its instances with CreateTags after they launch
        status = Status::Pending;
        reason = Some("instances are still being tagged by dask-cloudprovider".into());
    }
    if nodes
        .iter()
        .all(|n| n.state == "stopped" || n.state == "stopping")
    {
        status = Status::Stopped;
        reason = Some("all instances are stopped".into());
    } else if nodes.iter().all(|n| n.state == "shutting-down") {
        status = Status::Stopping;
        reason = Some("all instances are shutting down".into());
    }
    if c.workers.is_none() {
        c.workers = Some(workers_running);
    }
    c.status = status;
    c.reason = reason;
    if c.origin == Origin::Daskctl {
        c.groups = group_counts(&c, &nodes, answered);
    }
    c.handle = Handle::new(AwsHandle {
        region: first.region.clone(),
        scheduler: scheduler(&nodes)
            .filter(|s| s.alive())
            .map(|s| SchedulerRef {
                instance: s.id.clone(),
                vpc: s.vpc_id.clone(),
                policy: super::tags::joined(&s.tags),
            }),
    });
    c
}
