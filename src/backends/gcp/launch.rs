//! One instance asked for, looked at, deleted: `instances.insert` with a `requestId` (a retried
//! insert is not a second instance), the zone operation waited on; `instances.get` asked again
//! while a just-inserted instance is not yet visible (the API is eventually consistent); a
//! delete verified by `instances.get` answering 404.

use super::client::{self, Clients, is_not_found, map_err};
use super::labels;
use super::settings::Settings;
use crate::error::{Error, Result};
use google_cloud_compute_v1::model::{
    AccessConfig, AttachedDisk, AttachedDiskInitializeParams, Instance, Metadata, NetworkInterface,
    Scheduling, access_config, metadata, scheduling,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a just-inserted instance may stay invisible to `instances.get`.
pub const VISIBLE_WITHIN: Duration = Duration::from_secs(30);

/// What one instance is launched with.
#[derive(Debug, Clone)]
pub struct Launch {
    pub name: String,
    pub machine_type: String,
    pub spot: bool,
    pub labels: Vec<(String, String)>,
    pub metadata: Vec<(String, String)>,
}

/// A UUID (v4 layout) for `requestId`, which the API requires to be one.
pub fn request_id() -> String {
    let hex: String = (0..3).map(|_| crate::names::new_instance()).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..15],
        &hex[15..18],
        &hex[18..30]
    )
}

pub fn body(s: &Settings, zone: &str, l: &Launch) -> Instance {
    let mut disk_init = AttachedDiskInitializeParams::default();
    disk_init.source_image = Some(s.source_image().to_string());
    let mut disk = AttachedDisk::default();
    disk.boot = Some(true);
    disk.auto_delete = Some(true);
    disk.initialize_params = Some(disk_init);
    let mut nic = NetworkInterface::default();
    let net = s.network();
    if net.contains("/subnetworks/") {
        nic.subnetwork = Some(net.to_string());
    } else {
        nic.network = Some(net.to_string());
    }
    if s.external_ip {
        let mut ac = AccessConfig::default();
        ac.name = Some("External NAT".into());
        ac.r#type = Some(access_config::Type::from("ONE_TO_ONE_NAT"));
        nic.access_configs = vec![ac];
    }
    let mut sched = Scheduling::default();
    if l.spot {
        // a reclaimed spot worker is deleted, never left stopped
        sched.provisioning_model = Some(scheduling::ProvisioningModel::from("SPOT"));
        sched.instance_termination_action =
            Some(scheduling::InstanceTerminationAction::from("DELETE"));
        sched.automatic_restart = Some(false);
    }
    let mut md = Metadata::default();
    md.items = l
        .metadata
        .iter()
        .map(|(k, v)| {
            let mut it = metadata::Items::default();
            it.key = Some(k.clone());
            it.value = Some(v.clone());
            it
        })
        .collect();
    let mut i = Instance::default();
    i.name = Some(l.name.clone());
    i.machine_type = Some(format!("zones/{zone}/machineTypes/{}", l.machine_type));
    i.disks = vec![disk];
    i.network_interfaces = vec![nic];
    i.labels = l.labels.iter().cloned().collect::<HashMap<_, _>>();
    i.metadata = Some(md);
    i.scheduling = Some(sched);
    i
}

/// Inserts one instance and waits for its operation.
pub async fn insert(
    s: &Settings,
    c: &Clients,
    project: &str,
    zone: &str,
    l: &Launch,
    deadline: Instant,
) -> Result<()> {
    let op = c
        .instances
        .insert()
        .set_project(project)
        .set_zone(zone)
        .set_request_id(request_id())
        .set_body(body(s, zone, l))
        .send()
        .await
        .map_err(|e| map_err(zone, &format!("instances.insert {}", l.name), e))?;
    client::wait(c, project, zone, op, deadline).await.map(drop)
}

/// The instance, or None once the API says it is not there.
pub async fn get(c: &Clients, project: &str, zone: &str, name: &str) -> Result<Option<Instance>> {
    match c
        .instances
        .get()
        .set_project(project)
        .set_zone(zone)
        .set_instance(name)
        .send()
        .await
        .map_err(|e| map_err(zone, &format!("instances.get {name}"), e))
    {
        Ok(i) => Ok(Some(i)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The instance just inserted, asked again while the API does not show it yet.
pub async fn get_visible(c: &Clients, project: &str, zone: &str, name: &str) -> Result<Instance> {
    let until = Instant::now() + VISIBLE_WITHIN;
    let mut pause = Duration::from_millis(100);
    loop {
        if let Some(i) = get(c, project, zone, name).await? {
            return Ok(i);
        }
        if Instant::now() >= until {
            return Err(Error::backend(
                "gcp",
                format!("{zone}/{name}: inserted, but not visible after {VISIBLE_WITHIN:?}"),
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// Deletes instances (all at once) and returns once each is verified gone (404); the names
/// of any still there, with why, make the error.
pub async fn delete_all(
    c: &Clients,
    project: &str,
    zone: &str,
    names: &[String],
    deadline: Instant,
) -> Result<()> {
    let one = |name: String| async move {
        let sent = c
            .instances
            .delete()
            .set_project(project)
            .set_zone(zone)
            .set_instance(name.clone())
            .set_request_id(request_id())
            .send()
            .await
            .map_err(|e| map_err(zone, &format!("instances.delete {name}"), e));
        match sent {
            // already gone
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err((name, e)),
            Ok(op) => {
                if let Err(e) = client::wait(c, project, zone, op, deadline).await
                    && !is_not_found(&e)
                {
                    return Err((name, e));
                }
            }
        }
        gone(c, project, zone, &name, deadline)
            .await
            .map_err(|e| (name, e))
    };
    let results = futures::future::join_all(names.iter().cloned().map(one)).await;
    let left: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.err())
        .map(|(n, e)| format!("{n} ({e})"))
        .collect();
    if left.is_empty() {
        Ok(())
    } else {
        Err(Error::backend(
            "gcp",
            format!("{zone}: not deleted: {}", left.join("; ")),
        ))
    }
}

/// Returns once `instances.get` says 404 (a done delete operation can precede it).
async fn gone(c: &Clients, project: &str, zone: &str, name: &str, deadline: Instant) -> Result<()> {
    let mut pause = Duration::from_millis(100);
    loop {
        if get(c, project, zone, name).await?.is_none() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!(
                "gcp: {zone}/{name}: still there after its delete"
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// A new worker's instance name: `CLUSTER-worker-XXXXXXXX`.
pub fn worker_name(cluster: &str) -> String {
    format!("{cluster}-worker-{}", &crate::names::new_instance()[..8])
}

/// daskctl's labels on every instance of `cluster`.
pub fn base_labels(cluster: &str, owner: &str, role: &str) -> Vec<(String, String)> {
    vec![
        (labels::CLUSTER.into(), cluster.to_string()),
        (labels::ROLE.into(), role.into()),
        (labels::OWNER.into(), labels::value(owner)),
        (labels::CREATOR.into(), "daskctl".into()),
    ]
}
