//! What marks an instance as part of a Dask cluster, and an instance as discovery reads it.
//!
//! daskctl's own instances carry labels (filterable by `aggregatedList`; keys and values are
//! lowercase letters, digits, `-` and `_`, at most 63 characters:
//! <https://cloud.google.com/compute/docs/labeling-resources#requirements>) and metadata items
//! for what labels cannot hold (the owner's exact name, the expiry time, the worker launch
//! specs, the adaptive policy). dask-cloudprovider's `GCPCluster`
//! (`dask_cloudprovider/gcp/instances.py`) labels its instances `container_vm:
//! dask-cloudprovider` (its config's `instance_labels`) and names them
//! `dask-{uuid[:8]}-scheduler` and `dask-{uuid[:8]}-worker-{uuid[:8]}` (`generic/vmcluster.py`).

use crate::model::{Origin, Role};
use google_cloud_compute_v1::model::Instance;
use std::collections::BTreeMap;
use std::time::SystemTime;

pub const CLUSTER: &str = "daskctl-cluster";
pub const ROLE: &str = "daskctl-role";
pub const GROUP: &str = "daskctl-group";
pub const OWNER: &str = "daskctl-owner";
pub const CREATOR: &str = "daskctl-creator";
/// dask-cloudprovider's label and value.
pub const CP_LABEL: &str = "container_vm";
pub const CP_VALUE: &str = "dask-cloudprovider";

/// Metadata keys (values up to 256 KB each).
pub const META_OWNER: &str = "daskctl-owner";
pub const META_EXPIRES: &str = "daskctl-expires";
pub const META_SPECS: &str = "daskctl-worker-specs";
pub const META_POLICY: &str = "daskctl-policy";
pub const META_LOCK: &str = "daskctl-lock";
pub const STARTUP: &str = "startup-script";

/// The filter `aggregatedList` is given: daskctl's instances and dask-cloudprovider's
/// (<https://cloud.google.com/compute/docs/reference/rest/v1/instances/aggregatedList>, `filter`).
pub fn filter() -> String {
    format!("(labels.{CLUSTER}:*) OR (labels.{CP_LABEL} = \"{CP_VALUE}\")")
}

/// `s` as a label value: lowercase, other characters as `_`, at most 63.
pub fn value(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '_') => c,
            _ => '_',
        })
        .take(63)
        .collect()
}

/// One Dask instance.
#[derive(Debug, Clone)]
pub struct Node {
    pub project: String,
    pub zone: String,
    pub name: String,
    pub id: String,
    pub cluster: String,
    pub role: Role,
    pub origin: Origin,
    pub group: Option<String>,
    /// The owner's name (metadata), else the owner label.
    pub owner: Option<String>,
    /// RUNNING, PROVISIONING, STAGING, STOPPING, TERMINATED, SUSPENDED...
    pub status: String,
    pub machine_type: String,
    pub spot: bool,
    pub internal_ip: Option<String>,
    pub external_ip: Option<String>,
    pub created: Option<SystemTime>,
    pub started: Option<SystemTime>,
    pub expires: Option<SystemTime>,
    /// daskctl's metadata items.
    pub metadata: BTreeMap<String, String>,
}

impl Node {
    pub fn parse(project: &str, i: &Instance) -> Option<Node> {
        let name = i.name.clone()?;
        let label = |k: &str| i.labels.get(k).cloned();
        let (cluster, role, origin, group) = if let Some(c) = label(CLUSTER) {
            let role = match label(ROLE).as_deref() {
                Some("scheduler") => Role::Scheduler,
                Some("worker") => Role::Worker,
                _ => Role::Other,
            };
            (c, role, Origin::Daskctl, label(GROUP))
        } else if label(CP_LABEL).as_deref() == Some(CP_VALUE) {
            let (c, role) = cloudprovider_name(&name)?;
            (c, role, Origin::DaskCloudprovider, None)
        } else {
            return None;
        };
        let metadata: BTreeMap<String, String> = i
            .metadata
            .iter()
            .flat_map(|m| &m.items)
            .filter_map(|it| {
                let k = it.key.clone()?;
                k.starts_with("daskctl-")
                    .then(|| (k, it.value.clone().unwrap_or_default()))
            })
            .collect();
        let nic = i.network_interfaces.first();
        let sched = i.scheduling.as_ref();
        Some(Node {
            project: project.to_string(),
            zone: i
                .zone
                .as_deref()
                .map(super::client::last_segment)
                .unwrap_or_default()
                .to_string(),
            id: i.id.map(|n| n.to_string()).unwrap_or_else(|| name.clone()),
            name,
            cluster,
            role,
            origin,
            group,
            owner: metadata.get(META_OWNER).cloned().or_else(|| label(OWNER)),
            status: i
                .status
                .as_ref()
                .and_then(|s| s.name())
                .unwrap_or("UNKNOWN")
                .to_string(),
            machine_type: i
                .machine_type
                .as_deref()
                .map(super::client::last_segment)
                .unwrap_or_default()
                .to_string(),
            spot: sched.is_some_and(|s| {
                s.preemptible == Some(true)
                    || s.provisioning_model.as_ref().and_then(|m| m.name()) == Some("SPOT")
            }),
            internal_ip: nic.and_then(|n| n.network_ip.clone()),
            external_ip: nic
                .and_then(|n| n.access_configs.first())
                .and_then(|a| a.nat_ip.clone()),
            created: i.creation_timestamp.as_deref().and_then(rfc3339),
            started: i.last_start_timestamp.as_deref().and_then(rfc3339),
            expires: metadata.get(META_EXPIRES).and_then(|t| rfc3339(t)),
            metadata,
        })
    }

    /// Holds its vCPUs (and bills them): not stopped, suspended or being deleted.
    pub fn alive(&self) -> bool {
        !matches!(
            self.status.as_str(),
            "TERMINATED" | "STOPPED" | "SUSPENDED" | "SUSPENDING" | "STOPPING"
        )
    }

    /// Starting up: asked for, not yet running.
    pub fn starting(&self) -> bool {
        matches!(self.status.as_str(), "PROVISIONING" | "STAGING" | "PENDING")
    }

    /// The address this machine reaches it at.
    pub fn ip(&self, external: bool) -> Option<&str> {
        if external {
            self.external_ip.as_deref().or(self.internal_ip.as_deref())
        } else {
            self.internal_ip.as_deref()
        }
    }
}

/// `dask-1a2b3c4d-scheduler` → (`dask-1a2b3c4d`, scheduler); `...-worker-XXXXXXXX` → worker.
pub fn cloudprovider_name(name: &str) -> Option<(String, Role)> {
    let hex8 = |s: &str| s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let rest = name.strip_prefix("dask-")?;
    let (id, tail) = rest.split_once('-')?;
    if !hex8(id) {
        return None;
    }
    let cluster = format!("dask-{id}");
    if tail == "scheduler" {
        return Some((cluster, Role::Scheduler));
    }
    let w = tail.strip_prefix("worker-")?;
    hex8(w).then_some((cluster, Role::Worker))
}

/// Compute Engine's timestamps: RFC 3339 with an offset (`2026-12-06T14:03:12.345-08:00`),
/// or in UTC (`...Z`, as daskctl writes its expiry).
pub fn rfc3339(s: &str) -> Option<SystemTime> {
    let Some((local, sign, off)) = split_offset(s) else {
        return humantime::parse_rfc3339_weak(s.trim_end_matches('Z')).ok();
    };
    let t = humantime::parse_rfc3339_weak(local).ok()?;
    let (h, m) = off.split_once(':')?;
    let secs = h.parse::<u64>().ok()? * 3600 + m.parse::<u64>().ok()? * 60;
    let d = std::time::Duration::from_secs(secs);
    // local = UTC + offset
    if sign == '+' {
        t.checked_sub(d)
    } else {
        t.checked_add(d)
    }
}

/// A trailing `±HH:MM` after the time: (the local time, its sign, the offset).
fn split_offset(s: &str) -> Option<(&str, char, &str)> {
    let t = s.find('T')?;
    let i = s[t..].rfind(['+', '-'])? + t;
    let off = &s[i + 1..];
    (off.len() == 5 && off.as_bytes()[2] == b':').then(|| (&s[..i], s.as_bytes()[i] as char, off))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn cloudprovider_names_and_timestamps() {
        assert_eq!(
            cloudprovider_name("dask-1a2b3c4d-scheduler"),
            Some(("dask-1a2b3c4d".into(), Role::Scheduler))
        );
        assert_eq!(
            cloudprovider_name("dask-1a2b3c4d-worker-deadbeef"),
            Some(("dask-1a2b3c4d".into(), Role::Worker))
        );
        for bad in [
            "dask-1a2b3c4-scheduler",
            "dask-1a2b3c4d-worker-x",
            "web-1a2b3c4d-scheduler",
        ] {
            assert_eq!(cloudprovider_name(bad), None, "{bad}");
        }
        let at = |s| rfc3339(s).unwrap().duration_since(UNIX_EPOCH).unwrap();
        let z = at("2026-12-06T22:00:00Z");
        assert_eq!(at("2026-12-06T14:00:00.000-08:00"), z);
        assert_eq!(at("2026-12-07T00:00:00+02:00"), z);
        assert_eq!(z, Duration::from_secs(1796594400));
        assert_eq!(value("Alice.Smith@X"), "alice_smith_x");
    }
}
