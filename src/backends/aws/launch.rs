//! What `create` and `scale` share: RunInstances with everything tagged at launch,
//! TerminateInstances, and waiting for instances to reach a state.

use super::client::map_err;
use super::discover::nodes;
use super::tags::{self, Node};
use super::{Aws, consistency, userdata};
use crate::error::{Error, Result};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    BlockDeviceMapping, IamInstanceProfileSpecification, InstanceMarketOptionsRequest,
    InstanceNetworkInterfaceSpecification, InstanceType, MarketType, ResourceType,
    ShutdownBehavior,
};
use std::ops::ControlFlow;
use std::time::Duration;

/// Launch parameters of one kind of instance; `scale` reads them back from a running one.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub ami: String,
    pub instance_type: String,
    pub subnet: Option<String>,
    pub security_groups: Vec<String>,
    pub key_name: Option<String>,
    pub iam_profile_arn: Option<String>,
    pub spot: bool,
    /// Root volume and the like (dask-cloudprovider gives its instances a 40 GB gp3 root).
    pub block_devices: Option<Vec<BlockDeviceMapping>>,
    /// Launch through a network interface asking for (or refusing) a public address.
    pub public_ip: Option<bool>,
}

impl Launch {
    /// The parameters an existing instance was launched with.
    pub fn of(n: &Node) -> Result<Launch> {
        Ok(Launch {
            ami: n.image_id.clone().ok_or_else(|| {
                Error::backend("aws", format!("instance {} shows no image id", n.id))
            })?,
            instance_type: n.instance_type.clone(),
            subnet: n.subnet_id.clone(),
            security_groups: n.security_groups.clone(),
            key_name: n.key_name.clone(),
            iam_profile_arn: n.iam_profile_arn.clone(),
            spot: n.spot,
            block_devices: None,
            public_ip: None,
        })
    }
}

/// What one RunInstances started: the ids come from the response itself (a launch's tags may
/// not be readable yet), the nodes where they are.
#[derive(Debug, Default)]
pub struct Launched {
    pub ids: Vec<String>,
    pub nodes: Vec<Node>,
}

/// Capacity errors: EC2 could not start (more) instances of this kind now. Instances already
/// started are kept; the shortfall is reported (EC2 API reference, "Error codes").
pub const CAPACITY: &[&str] = &[
    "InsufficientInstanceCapacity",
    "InstanceLimitExceeded",
    "VcpuLimitExceeded",
    "MaxSpotInstanceCountExceeded",
    "SpotMaxPriceTooLow",
];

/// Starts between `min` and `max` instances in one call (EC2 starts as many as it can up to
/// `max`, or fails when not even `min` fit).
pub async fn run(
    client: &Client,
    region: &str,
    l: &Launch,
    min: u32,
    max: u32,
    tag_list: &[(String, String)],
    user_data: &str,
) -> std::result::Result<
    Launched,
    aws_sdk_ec2::error::SdkError<aws_sdk_ec2::operation::run_instances::RunInstancesError>,
> {
    let mut req = client
        .run_instances()
        .image_id(&l.ami)
        .instance_type(InstanceType::from(l.instance_type.as_str()))
        .min_count(min as i32)
        .max_count(max as i32)
        .user_data(aws_smithy_types::base64::encode(user_data))
        .instance_initiated_shutdown_behavior(ShutdownBehavior::Terminate)
        .tag_specifications(tags::spec(ResourceType::Instance, tag_list))
        .tag_specifications(tags::spec(ResourceType::Volume, tag_list))
        .set_key_name(l.key_name.clone())
        .set_block_device_mappings(l.block_devices.clone());
    if l.public_ip.is_some() {
        // dask-cloudprovider launches through one network interface that asks for a public
        // address: subnet and groups then go on the interface
        req = req.network_interfaces(
            InstanceNetworkInterfaceSpecification::builder()
                .device_index(0)
                .set_associate_public_ip_address(l.public_ip)
                .set_subnet_id(l.subnet.clone())
                .set_groups(Some(l.security_groups.clone()).filter(|g| !g.is_empty()))
                .build(),
        );
    } else {
        req = req.set_subnet_id(l.subnet.clone());
        if !l.security_groups.is_empty() {
            req = req.set_security_group_ids(Some(l.security_groups.clone()));
        }
    }
    if let Some(arn) = &l.iam_profile_arn {
        req = req.iam_instance_profile(IamInstanceProfileSpecification::builder().arn(arn).build());
    }
    if l.spot {
        req = req.instance_market_options(
            InstanceMarketOptionsRequest::builder()
                .market_type(MarketType::Spot)
                .build(),
        );
    }
    let out = req.send().await?;
    Ok(Launched {
        ids: out
            .instances()
            .iter()
            .filter_map(|i| i.instance_id().map(str::to_string))
            .collect(),
        nodes: out
            .instances()
            .iter()
            .filter_map(|i| Node::parse(region, i))
            .collect(),
    })
}

/// Starts exactly one instance, or fails.
pub async fn run_one(
    client: &Client,
    region: &str,
    l: &Launch,
    tag_list: &[(String, String)],
    user_data: &str,
) -> Result<Launched> {
    run(client, region, l, 1, 1, tag_list, user_data)
        .await
        .map_err(|e| map_err(region, "RunInstances", e))
}

/// `n` instances in calls of at most `batch`; a batch EC2 lacks capacity for is asked again for
/// as many as it can start (MinCount 1); when not even one fits, the ones started are kept and
/// the shortfall returned with the error's words.
pub async fn run_batches(
    client: &Client,
    region: &str,
    l: &Launch,
    (n, batch): (u32, u32),
    (tag_list, user_data): (&[(String, String)], &str),
    started: &mut Vec<String>,
) -> Result<Option<String>> {
    let mut left = n;
    while left > 0 {
        let size = left.min(batch.max(1));
        // the whole batch at once; when EC2 lacks capacity for it, whatever it can start
        let mut got = run(client, region, l, size, size, tag_list, user_data).await;
        if matches!(&got, Err(e) if e.code().is_some_and(|c| CAPACITY.contains(&c))) && size > 1 {
            got = run(client, region, l, 1, size, tag_list, user_data).await;
        }
        match got {
            Ok(got) => {
                left -= (got.ids.len() as u32).min(left);
                started.extend(got.ids);
            }
            Err(e) if e.code().is_some_and(|c| CAPACITY.contains(&c)) => {
                return Ok(Some(format!(
                    "{} of {n} instance(s) started: {}: {}",
                    n - left,
                    e.code().unwrap_or(""),
                    e.message().unwrap_or("")
                )));
            }
            Err(e) => return Err(map_err(region, "RunInstances", e)),
        }
    }
    Ok(None)
}

pub async fn terminate(client: &Client, region: &str, ids: &[String]) -> Result<()> {
    for chunk in ids.chunks(1000) {
        // instances just started may not be visible to TerminateInstances yet
        consistency::eventually(
            &[consistency::INSTANCE_NOT_FOUND],
            consistency::VISIBLE_WITHIN,
            || {
                client
                    .terminate_instances()
                    .set_instance_ids(Some(chunk.to_vec()))
                    .send()
            },
        )
        .await
        .map_err(|e| map_err(region, "TerminateInstances", e))?;
    }
    Ok(())
}

/// Polls until every instance is in one of `states` (instances no longer listed count too).
pub async fn wait_for(
    aws: &Aws,
    region: &str,
    ids: &[String],
    states: &[&str],
    timeout: Duration,
) -> Result<Vec<Node>> {
    let settled = crate::backends::until_settled(timeout, Duration::from_secs(1), || async {
        let now = nodes(aws, region, ids).await?;
        let left: Vec<String> = now
            .iter()
            .filter(|n| !states.contains(&n.state.as_str()))
            .map(|n| format!("{} ({})", n.id, n.state))
            .collect();
        Ok(if left.is_empty() {
            ControlFlow::Break(now)
        } else {
            ControlFlow::Continue(left)
        })
    })
    .await?;
    settled.map_err(|left| {
        Error::Timeout(format!(
            "aws: instances not {} after {}s: {}",
            states.join("/"),
            timeout.as_secs(),
            left.join(", ")
        ))
    })
}

/// Worker user data for a cluster: rendered from the scheduler's worker spec tag.
pub fn worker_user_data(
    sched: &Node,
    ttl_minutes: Option<u64>,
    group: Option<&str>,
) -> Result<(String, userdata::WorkerSpec)> {
    let spec = sched
        .tag(&tags::worker_spec_key(group))
        .and_then(userdata::WorkerSpec::from_tag)
        .ok_or_else(|| {
            Error::backend(
                "aws",
                format!(
                    "scheduler {} carries no worker launch spec{}",
                    sched.id,
                    group.map(|g| format!(" for group {g}")).unwrap_or_default()
                ),
            )
        })?;
    let ip = sched.private_ip.as_deref().ok_or_else(|| {
        Error::backend(
            "aws",
            format!("scheduler {} has no private address", sched.id),
        )
    })?;
    Ok((
        userdata::worker(&sched.cluster, ip, &spec, ttl_minutes)?,
        spec,
    ))
}
