//! `delete`: terminate every instance of the cluster, wait until all are shutting down or
//! terminated, then remove the security group daskctl created for it (AWS refuses while the
//! instances' network interfaces still exist, so that is retried until the deadline).

use super::client::map_err;
use super::consistency::{GROUP_NOT_FOUND, eventually};
use super::{Aws, launch};
use crate::backends::DeleteRequest;
use crate::error::{Error, Result};
use crate::model::{Cluster, Origin};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use std::time::Instant;

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
        own_groups(aws, region, c).await?
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
    req.progress.say(&format!(
        "waiting for {} instance(s) to be {}",
        ids.len(),
        states.join(" or ")
    ));
    launch::wait_for(aws, region, &ids, states, patience).await?;
    for g in groups {
        delete_group(&client, region, &g, Instant::now() + patience).await?;
    }
    // a reconcile lock a daskctl that died left behind goes with the cluster
    if c.origin == Origin::Daskctl {
        super::policy::drop_locks(aws, &client, region, c).await?;
    }
    Ok(())
}

/// Security groups daskctl made for this cluster (its tags, its owner).
async fn own_groups(aws: &Aws, region: &str, c: &Cluster) -> Result<Vec<String>> {
    let owner = c.owner.as_deref().unwrap_or(&aws.ctx.user.name);
    let groups = super::discover::daskctl_groups(aws, region, Some(&c.name), Some(owner)).await?;
    Ok(groups.into_iter().map(|g| g.id).collect())
}

/// Deletes a security group, retrying while instances still hold it until `deadline`.
pub async fn delete_group(
    client: &Client,
    region: &str,
    id: &str,
    deadline: Instant,
) -> Result<()> {
    // instances on their way out still hold the group: DependencyViolation until they are gone
    let within = deadline.saturating_duration_since(Instant::now());
    let r = eventually(&["DependencyViolation"], within, || {
        client.delete_security_group().group_id(id).send()
    })
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(GROUP_NOT_FOUND) => Ok(()),
        Err(e) => {
            let mut err = map_err(region, "DeleteSecurityGroup", e);
            if let Error::Api { message, .. } = &mut err {
                *message =
                    format!("instances terminated, but security group {id} remains: {message}");
            }
            Err(err)
        }
    }
}
