//! `delete`: terminate every instance of the cluster, wait until all are shutting down or
//! terminated, then remove the security group daskctl created for it (AWS refuses while the
//! instances' network interfaces still exist, so that is retried until the deadline).

use super::client::map_err;
use super::{Aws, launch};
use crate::backends::DeleteRequest;
use crate::error::{Error, Result};
use crate::model::{Cluster, Origin};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use std::time::{Duration, Instant};

pub async fn delete(aws: &Aws, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let region = Aws::region_of(c)?;
    let client = aws.client(region).await;
    let ids: Vec<String> = c
        .resources
        .iter()
        .filter(|r| r.kind == "instance" && r.state != "terminated")
        .map(|r| r.id.clone())
        .collect();
    launch::terminate(&client, region, &ids).await?;
    let groups = if c.origin == Origin::Daskctl {
        own_groups(aws, region, &c.name).await?
    } else {
        Vec::new()
    };
    // a group is held for minutes by instances shutting down: with a group to remove, wait
    // until they are terminated (EC2: DeleteSecurityGroup answers DependencyViolation before)
    let states: &[&str] = if req.wait || !groups.is_empty() {
        &["terminated"]
    } else {
        &["shutting-down", "terminated"]
    };
    // EC2 keeps shutting-down instances' network interfaces for minutes (DeleteSecurityGroup
    // answers DependencyViolation meanwhile): a group is worth waiting for
    let patience = if groups.is_empty() {
        req.timeout
    } else {
        req.timeout.max(aws.settings.group_patience)
    };
    launch::wait_for(aws, region, &ids, states, patience).await?;
    for g in groups {
        delete_group(&client, region, &g, Instant::now() + patience).await?;
    }
    Ok(())
}

/// Security groups daskctl made for this cluster (its tags, this user).
async fn own_groups(aws: &Aws, region: &str, name: &str) -> Result<Vec<String>> {
    let groups = super::discover::daskctl_groups(aws, region, Some(name)).await?;
    Ok(groups.into_iter().map(|(_, id, _)| id).collect())
}

/// Deletes a security group, retrying while instances still hold it until `deadline`.
pub async fn delete_group(
    client: &Client,
    region: &str,
    id: &str,
    deadline: Instant,
) -> Result<()> {
    let mut pause = Duration::from_secs(1);
    loop {
        match client.delete_security_group().group_id(id).send().await {
            Ok(_) => return Ok(()),
            Err(e) if e.code() == Some("InvalidGroup.NotFound") => return Ok(()),
            Err(e) if e.code() == Some("DependencyViolation") && Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
            }
            Err(e) => {
                return Err(match map_err(region, "DeleteSecurityGroup", e) {
                    Error::Backend { message, .. } => Error::backend(
                        "aws",
                        format!("instances terminated, but security group {id} remains: {message}"),
                    ),
                    other => other,
                });
            }
        }
    }
}
