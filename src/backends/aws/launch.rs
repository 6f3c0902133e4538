//! What `create` and `scale` share: RunInstances with everything tagged at launch,
//! TerminateInstances, and waiting for instances to reach a state.

use super::client::map_err;
use super::discover::nodes;
use super::tags::{self, Node};
use super::{Aws, userdata};
use crate::error::{Error, Result};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    IamInstanceProfileSpecification, InstanceMarketOptionsRequest, InstanceType, MarketType,
    ResourceType, ShutdownBehavior,
};
use std::time::{Duration, Instant};

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
        })
    }
}

/// Starts exactly `count` instances (MinCount = MaxCount: all or none) in one call.
pub async fn run(
    client: &Client,
    region: &str,
    l: &Launch,
    count: u32,
    tag_list: &[(String, String)],
    user_data: &str,
) -> Result<Vec<Node>> {
    let mut req = client
        .run_instances()
        .image_id(&l.ami)
        .instance_type(InstanceType::from(l.instance_type.as_str()))
        .min_count(count as i32)
        .max_count(count as i32)
        .user_data(aws_smithy_types::base64::encode(user_data))
        .instance_initiated_shutdown_behavior(ShutdownBehavior::Terminate)
        .tag_specifications(tags::spec(ResourceType::Instance, tag_list))
        .tag_specifications(tags::spec(ResourceType::Volume, tag_list))
        .set_subnet_id(l.subnet.clone())
        .set_key_name(l.key_name.clone());
    if !l.security_groups.is_empty() {
        req = req.set_security_group_ids(Some(l.security_groups.clone()));
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
    let out = req
        .send()
        .await
        .map_err(|e| map_err(region, "RunInstances", e))?;
    Ok(out
        .instances()
        .iter()
        .filter_map(|i| Node::parse(region, i))
        .collect())
}

pub async fn terminate(client: &Client, region: &str, ids: &[String]) -> Result<()> {
    for chunk in ids.chunks(1000) {
        client
            .terminate_instances()
            .set_instance_ids(Some(chunk.to_vec()))
            .send()
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
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(250);
    loop {
        let now = nodes(aws, region, ids).await?;
        if now.iter().all(|n| states.contains(&n.state.as_str())) {
            return Ok(now);
        }
        if Instant::now() + pause > deadline {
            let left: Vec<String> = now
                .iter()
                .filter(|n| !states.contains(&n.state.as_str()))
                .map(|n| format!("{} ({})", n.id, n.state))
                .collect();
            return Err(Error::Timeout(format!(
                "aws: instances not {} after {}s: {}",
                states.join("/"),
                timeout.as_secs(),
                left.join(", ")
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// Worker user data for a cluster: rendered from the scheduler's worker spec tag.
pub fn worker_user_data(
    sched: &Node,
    ttl_minutes: Option<u64>,
) -> Result<(String, userdata::WorkerSpec)> {
    let spec = sched
        .tag(tags::WORKER_SPEC)
        .and_then(userdata::WorkerSpec::from_tag)
        .ok_or_else(|| {
            Error::backend(
                "aws",
                format!("scheduler {} carries no worker launch spec", sched.id),
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
