//! `delete`: delete every instance of the cluster at once, wait for each zone operation, and
//! say deleted only once `instances.get` answers 404 for each (their boot disks go with them:
//! daskctl and dask-cloudprovider both launch with `autoDelete`).

use super::discover::GcpHandle;
use super::{Gcp, launch};
use crate::backends::DeleteRequest;
use crate::error::{Error, Result};
use crate::model::Cluster;
use std::time::Instant;

pub async fn delete(g: &Gcp, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let h = c
        .handle
        .get::<GcpHandle>()
        .ok_or_else(|| Error::backend("gcp", format!("{} has no zone", c.qualified())))?;
    let names: Vec<String> = h.nodes.iter().map(|n| n.name.clone()).collect();
    let cl = g.clients().await?;
    req.progress.say(&format!(
        "deleting {} instance(s) in {}",
        names.len(),
        h.zone
    ));
    launch::delete_all(
        &cl,
        &h.project,
        &h.zone,
        &names,
        Instant::now() + req.timeout,
    )
    .await
}
