//! `list`/`describe`: DescribeInstances with tag filters and pagination, every region at once;
//! instances grouped into clusters by their tags; schedulers probed concurrently.

use super::Aws;
use super::client::map_err;
use super::tags::{self, Node};
use super::userdata::SCHEDULER_PORT;
use crate::dask::SchedulerInfo;
use crate::discovery::orphan::{SchedulerState, classify};
use crate::discovery::{fill_from_info, probe_failed};
use crate::error::Result;
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
        req = req.set_instance_ids(Some(ids.to_vec()));
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
        // daskctl clusters of other users are theirs to manage
        if n.origin == Origin::Daskctl && n.owner.as_deref().is_some_and(|o| o != me) {
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
    let groups: Vec<Vec<Node>> = groups.into_values().collect();
    let probes = join_all(groups.iter().map(|g| probe(aws, g))).await;
    Ok(groups
        .into_iter()
        .zip(probes)
        .map(|(g, p)| to_cluster(aws, g, p))
        .collect())
}

pub fn scheduler(nodes: &[Node]) -> Option<&Node> {
    nodes.iter().find(|n| n.role == Role::Scheduler)
}

/// The scheduler's address as this machine would reach it.
pub fn address(aws: &Aws, nodes: &[Node]) -> Option<String> {
    let s = scheduler(nodes)?;
    let ip = s.ip(aws.settings.use_private_ip)?;
    // dask-cloudprovider secures its clusters with TLS by default
    let scheme = match s.origin {
        Origin::DaskCloudprovider => aws
            .ctx
            .config
            .backend_str("aws", "cloudprovider_protocol")
            .unwrap_or_else(|| "tls".into()),
        _ => "tcp".into(),
    };
    Some(format!("{scheme}://{ip}:{SCHEDULER_PORT}"))
}

async fn probe(aws: &Aws, nodes: &[Node]) -> Option<Result<(SchedulerInfo, Option<f64>)>> {
    let s = scheduler(nodes)?;
    if s.state != "running" {
        return None;
    }
    let addr = address(aws, nodes)?;
    Some(aws.ctx.prober.status(&addr).await)
}

fn to_cluster(
    aws: &Aws,
    nodes: Vec<Node>,
    probe: Option<Result<(SchedulerInfo, Option<f64>)>>,
) -> Cluster {
    let first = &nodes[0];
    let mut c = Cluster::new(first.cluster.clone(), "aws", first.origin);
    c.owner = nodes.iter().find_map(|n| n.owner.clone());
    c.created = nodes.iter().filter_map(|n| n.launched).min();
    c.expires = nodes.iter().filter_map(|n| n.expires).min();
    c.address = address(aws, &nodes);
    for n in &nodes {
        c.resources.push(Resource {
            kind: "instance",
            id: n.id.clone(),
            role: n.role,
            state: n.state.clone(),
            name: n.name_tag.clone(),
        });
    }
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
    let now = SystemTime::now();
    let starting = sched.is_some_and(|s| {
        s.state == "pending"
            || s.launched
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age < aws.settings.startup_grace)
    });
    // the scheduler is an instance: whether it is gone is decided from the instance, never
    // from a probe (a running instance whose scheduler does not answer is `unknown`)
    let mut state = match sched {
        None => SchedulerState::Gone,
        Some(s) if !s.alive() => SchedulerState::Gone,
        Some(_) => SchedulerState::NotProbed,
    };
    match probe {
        Some(Ok((info, idle))) => {
            // the dashboard at the instance's address, not the one the scheduler binds
            if let (Some(port), Some(ip)) = (
                info.dashboard_port,
                sched.and_then(|s| s.ip(aws.settings.use_private_ip)),
            ) {
                c.dashboard = Some(format!("http://{ip}:{port}/status"));
            }
            fill_from_info(&mut c, &info, idle);
            state = SchedulerState::Answering {
                connected: c.workers.unwrap_or(0),
            };
        }
        Some(Err(_)) if !aws.ctx.prober.enabled() => state = SchedulerState::NotProbed,
        // refused before connecting (probe.loopback_only without a map): nothing is known
        Some(Err(e)) if e.probe_fault() == Some(crate::error::ProbeFault::Disabled) => {
            state = SchedulerState::NotProbed
        }
        Some(Err(e)) if first.origin == Origin::DaskCloudprovider => {
            // without the cluster's TLS credentials a silent scheduler proves nothing
            probe_failed(&mut c, &e);
            state = SchedulerState::Silent(e.to_string())
        }
        Some(Err(e)) if matches!(state, SchedulerState::Gone) => {
            probe_failed(&mut c, &e);
        }
        Some(Err(e)) => state = SchedulerState::Silent(probe_failed(&mut c, &e)),
        None => {}
    }
    let (mut status, mut reason) = match &state {
        SchedulerState::Gone => classify(&state, workers_alive, None),
        _ => classify(&state, workers_running, None),
    };
    if starting && matches!(state, SchedulerState::Silent(_) | SchedulerState::NotProbed) {
        status = Status::Pending;
        reason = Some("scheduler instance is starting".into());
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
    c.private.insert("region".into(), first.region.clone());
    c
}
