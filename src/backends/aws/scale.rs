//! `scale`: up launches workers with the launch parameters of the newest worker (AMI, type,
//! subnet, groups, key, profile, spot) and its user data read back with
//! DescribeInstanceAttribute, or, when no worker is left, from the scheduler's worker spec: no
//! local state is needed. Down retires the chosen workers through the scheduler when it
//! answers, then terminates exactly those instances.

use super::Aws;
use super::client::map_err;
use super::discover::{self, nodes};
use super::launch::{self, Launch};
use super::tags::{self, Node};
use crate::backends::{ScaleReport, ScaleRequest, wait_for_workers};
use crate::error::{Error, Result};
use crate::model::{Cluster, Origin, Role};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{BlockDeviceMapping, EbsBlockDevice, InstanceAttributeName};
use std::time::{Instant, SystemTime};

pub async fn scale(aws: &Aws, c: &Cluster, req: &ScaleRequest) -> Result<ScaleReport> {
    let region = Aws::region_of(c)?;
    let client = aws.client(region).await;
    let ids: Vec<String> = c.resources.iter().map(|r| r.id.clone()).collect();
    let all = nodes(aws, region, &ids).await?;
    let group = req.group.as_deref();
    if group.is_some() && c.origin != Origin::Daskctl {
        return Err(Error::Usage(format!(
            "{} has no worker groups (only clusters daskctl created do)",
            c.qualified()
        )));
    }
    let alive = all
        .iter()
        .filter(|n| n.role == Role::Worker && n.alive())
        .count() as u64;
    // the group's workers; the others only count toward what the scheduler has
    let mut workers: Vec<&Node> = all
        .iter()
        .filter(|n| n.role == Role::Worker && n.alive() && n.group() == group)
        .collect();
    // oldest first, so the newest are the first to go and the model to copy
    workers.sort_by_key(|n| (n.launched, n.id.clone()));
    let before = workers.len() as u64;
    let target = req.target as u64;
    let mut report = ScaleReport::new(before, target);
    let mut shortfall = None;
    if target > before {
        let n = (target - before) as u32;
        let mut started = Vec::new();
        shortfall = match c.origin {
            Origin::DaskCloudprovider => {
                cloudprovider_up(&client, region, &workers, n, &mut started).await?
            }
            _ => {
                let up = Up {
                    all: &all,
                    workers: &workers,
                    group,
                    n,
                };
                daskctl_up(aws, &client, region, up, &mut started).await?
            }
        };
        report.started = started.iter().map(|id| format!("instance {id}")).collect();
    } else if target < before {
        let k = (before - target) as usize;
        let mut victims: Vec<&Node> = workers
            .iter()
            .rev()
            .filter(|n| n.state != "running")
            .take(k)
            .copied()
            .collect();
        let queued = victims.len();
        // running ones: those the scheduler proposed to close (`reconcile`; workers are named
        // by their instance id) first, then the newest
        let mut running: Vec<&Node> = workers
            .iter()
            .rev()
            .filter(|n| n.state == "running")
            .copied()
            .collect();
        running.sort_by_key(|n| !req.retire_first.contains(&n.id));
        victims.extend(running.into_iter().take(k - queued));
        retire(aws, c, &victims).await;
        let vids: Vec<String> = victims.iter().map(|n| n.id.clone()).collect();
        launch::terminate(&client, region, &vids).await?;
        launch::wait_for(
            aws,
            region,
            &vids,
            &["shutting-down", "terminated"],
            req.timeout,
        )
        .await?;
        report.stopped = vids.iter().map(|id| format!("instance {id}")).collect();
    }
    if let Some(short) = shortfall {
        // what started is kept: a partial success, saying how far it got
        return Err(Error::Partial(format!(
            "{}: scaled from {before} to {} of {target} worker(s): {short}",
            c.qualified(),
            before + report.started.len() as u64
        )));
    }
    if req.wait {
        let all = alive - before + target;
        wait_for_workers(
            aws,
            c,
            &c.name,
            all,
            Instant::now() + req.timeout,
            &req.progress,
        )
        .await?;
    }
    Ok(report)
}

/// The launch parameters of a running instance, root volume and public address included (a
/// dask-cloudprovider instance has a 40 GB gp3 root and launched through a network interface
/// asking for a public address: dask-cloudprovider `aws/ec2.py`, `EC2Instance.create_vm`).
async fn launch_like(client: &Client, region: &str, n: &Node) -> Result<Launch> {
    let mut l = Launch::of(n)?;
    if let (Some(dev), Some(vol)) = (&n.root_device, &n.root_volume) {
        let out = client
            .describe_volumes()
            .volume_ids(vol)
            .send()
            .await
            .map_err(|e| map_err(region, "DescribeVolumes", e))?;
        if let Some(v) = out.volumes().first() {
            let ebs = EbsBlockDevice::builder()
                .set_volume_size(v.size())
                .set_volume_type(v.volume_type().cloned())
                .delete_on_termination(true)
                .build();
            l.block_devices = Some(vec![
                BlockDeviceMapping::builder()
                    .device_name(dev)
                    .ebs(ebs)
                    .build(),
            ]);
        }
    }
    l.public_ip = Some(n.public_ip.is_some());
    Ok(l)
}

async fn user_data(client: &Client, region: &str, id: &str) -> Result<String> {
    let out = client
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::UserData)
        .send()
        .await
        .map_err(|e| map_err(region, "DescribeInstanceAttribute", e))?;
    let b64 = out.user_data().and_then(|v| v.value()).unwrap_or_default();
    let bytes = aws_smithy_types::base64::decode(b64)
        .map_err(|e| Error::backend("aws", format!("user data of {id} is not base64: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Tags a new worker copies: everything but the names AWS reserves for itself.
fn copy_tags(n: &Node) -> Vec<(String, String)> {
    n.tags
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !k.starts_with(tags::WORKER_SPEC))
        .cloned()
        .collect()
}

fn set_tag(t: &mut Vec<(String, String)>, key: &str, value: String) {
    t.retain(|(k, _)| k != key);
    t.push((key.to_string(), value));
}

/// What to launch: `n` workers of `group`, like the newest of `workers`, else from the
/// scheduler (one of `all`)'s launch spec for the group.
struct Up<'a> {
    all: &'a [Node],
    workers: &'a [&'a Node],
    group: Option<&'a str>,
    n: u32,
}

async fn daskctl_up(
    aws: &Aws,
    client: &Client,
    region: &str,
    up: Up<'_>,
    started: &mut Vec<String>,
) -> Result<Option<String>> {
    let Up {
        all,
        workers,
        group,
        n,
    } = up;
    let batch = aws.settings.launch_batch;
    if let Some(w) = workers.last() {
        let data = user_data(client, region, &w.id).await?;
        let l = Launch::of(w)?;
        let t = copy_tags(w);
        return launch::run_batches(client, region, &l, (n, batch), (&t, &data), started).await;
    }
    let sched = discover::scheduler(all)
        .filter(|s| s.alive())
        .ok_or_else(|| {
            Error::Usage("aws: no worker to copy and no running scheduler: nothing to scale".into())
        })?;
    let ttl_minutes = sched
        .expires
        .and_then(|t| t.duration_since(SystemTime::now()).ok())
        .map(|d| d.as_secs().div_ceil(60));
    let (data, spec) = launch::worker_user_data(sched, ttl_minutes, group)?;
    let mut l = Launch::of(sched)?;
    l.instance_type = spec.instance_type;
    l.spot = spec.spot;
    let mut t = copy_tags(sched);
    set_tag(&mut t, tags::ROLE, "worker".into());
    set_tag(
        &mut t,
        tags::NAME,
        format!("daskctl-{}-worker", sched.cluster),
    );
    if let Some(g) = group {
        set_tag(&mut t, tags::GROUP, g.to_string());
    }
    launch::run_batches(client, region, &l, (n, batch), (&t, &data), started).await
}

/// dask-cloudprovider names each worker (`dask-<uuid>-worker-<id>`) in its user data, and Dask
/// refuses two workers of one name: each new worker gets its own name, so one call each, with
/// the newest worker's launch parameters (root volume and network interface included).
async fn cloudprovider_up(
    client: &Client,
    region: &str,
    workers: &[&Node],
    n: u32,
    started: &mut Vec<String>,
) -> Result<Option<String>> {
    let w = workers.last().ok_or_else(|| {
        Error::Usage(
            "aws: a dask-cloudprovider cluster without workers cannot be scaled up from here: \
             its worker settings live in the Python process that made it"
                .into(),
        )
    })?;
    let data = user_data(client, region, &w.id).await?;
    let old = w.name_tag.clone().unwrap_or_default();
    let l = launch_like(client, region, w).await?;
    for i in 0..n {
        let name = format!("{}-worker-{}", w.cluster, unique_suffix(i));
        let data = if old.is_empty() {
            data.clone()
        } else {
            data.replace(&old, &name)
        };
        let mut t = copy_tags(w);
        set_tag(&mut t, tags::NAME, name);
        match launch::run(client, region, &l, 1, 1, &t, &data).await {
            Ok(got) => started.extend(got.ids),
            Err(e) if e.code().is_some_and(|c| launch::CAPACITY.contains(&c)) => {
                return Ok(Some(format!(
                    "{i} of {n} instance(s) started: {}: {}",
                    e.code().unwrap_or(""),
                    e.message().unwrap_or("")
                )));
            }
            Err(e) => return Err(map_err(region, "RunInstances", e)),
        }
    }
    Ok(None)
}

fn unique_suffix(i: u32) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{:08x}", nanos.wrapping_add(i.wrapping_mul(2654435761)))
}

/// Asks the scheduler to retire the workers of these instances (named by instance id, or by
/// their Name tag for dask-cloudprovider) so their data moves first; skipped when it is silent.
async fn retire(aws: &Aws, c: &Cluster, victims: &[&Node]) {
    let Some(addr) = &c.address else { return };
    let names: Vec<String> = c
        .worker_details
        .iter()
        .filter(|w| {
            victims
                .iter()
                .any(|v| w.name == v.id || v.name_tag.as_deref() == Some(w.name.as_str()))
        })
        .map(|w| w.name.clone())
        .collect();
    if names.is_empty() {
        return;
    }
    if let Err(e) = aws.ctx.prober.retire(addr, &names).await {
        tracing::warn!("aws: could not retire {}: {e}", names.join(", "));
    }
}
