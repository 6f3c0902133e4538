//! The tags that make an instance part of a Dask cluster: daskctl's own markers (set at launch
//! with TagSpecifications) and dask-cloudprovider's EC2Cluster tags (`Dask Cluster=<uuid>`,
//! `createdBy=dask-cloudprovider`, names `dask-<uuid>-scheduler` / `dask-<uuid>-worker-*`).

use crate::model::{Origin, Role};
use aws_sdk_ec2::types::{Instance, ResourceType, Tag, TagSpecification};
use std::time::SystemTime;

pub const CLUSTER: &str = "daskctl:cluster";
pub const ROLE: &str = "daskctl:role";
pub const OWNER: &str = "daskctl:owner";
pub const CREATOR: &str = "daskctl:creator";
pub const EXPIRES: &str = "daskctl:expires";
/// On the scheduler: how to launch workers when none is left to copy (see `userdata::WorkerSpec`).
pub const WORKER_SPEC: &str = "daskctl:worker";
/// On a worker of a worker group beside the default one: the group.
pub const GROUP: &str = "daskctl:group";

/// Tags `daskctl:policy:0`, `:1`, ...: a cluster's autoscaling policy as JSON in chunks
/// (a tag value holds 256 characters), on its scheduler.
pub const POLICY_PREFIX: &str = "daskctl:policy:";

/// The policy JSON the `daskctl:policy:N` tags hold, joined in order; None without them.
pub fn joined(tags: &[(String, String)]) -> Option<String> {
    let mut parts: Vec<(usize, &str)> = tags
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(POLICY_PREFIX)?.parse().ok()?, v.as_str())))
        .collect();
    if parts.is_empty() {
        return None;
    }
    parts.sort();
    Some(parts.into_iter().map(|(_, v)| v).collect())
}

/// The scheduler's launch spec tag of a worker group (`daskctl:worker` for the default one).
pub fn worker_spec_key(group: Option<&str>) -> String {
    match group {
        None => WORKER_SPEC.to_string(),
        Some(g) => format!("{WORKER_SPEC}:{g}"),
    }
}
pub const CP_CLUSTER: &str = "Dask Cluster";
pub const NAME: &str = "Name";

/// One EC2 instance that belongs to a Dask cluster.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub region: String,
    /// daskctl's cluster name, or `dask-<uuid>` for dask-cloudprovider.
    pub cluster: String,
    pub origin: Origin,
    pub role: Role,
    pub owner: Option<String>,
    /// pending, running, stopping, stopped, shutting-down, terminated
    pub state: String,
    pub launched: Option<SystemTime>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub name_tag: Option<String>,
    pub expires: Option<SystemTime>,
    pub instance_type: String,
    /// vCPUs as EC2 reports them (CpuOptions: cores x threads per core).
    pub vcpus: Option<u32>,
    pub image_id: Option<String>,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub security_groups: Vec<String>,
    /// The names of those groups (`daskctl-OWNER-NAME` for one daskctl made).
    pub group_names: Vec<String>,
    pub key_name: Option<String>,
    pub iam_profile_arn: Option<String>,
    pub spot: bool,
    pub tags: Vec<(String, String)>,
    /// The root device and its EBS volume (what a copy of the instance launches with).
    pub root_device: Option<String>,
    pub root_volume: Option<String>,
}

impl Node {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Its worker group (None: the default group).
    pub fn group(&self) -> Option<&str> {
        self.tag(GROUP)
    }

    /// The worker groups the scheduler has launch specs for (`daskctl:worker:GROUP`).
    pub fn spec_groups(&self) -> Vec<String> {
        let prefix = format!("{WORKER_SPEC}:");
        self.tags
            .iter()
            .filter_map(|(k, _)| k.strip_prefix(&prefix))
            .filter(|g| crate::groups::validate(g).is_ok())
            .map(str::to_string)
            .collect()
    }

    pub fn alive(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "running")
    }

    /// The address the scheduler listens on, as seen from here.
    pub fn ip(&self, private: bool) -> Option<&str> {
        if private {
            self.private_ip.as_deref()
        } else {
            self.public_ip.as_deref().or(self.private_ip.as_deref())
        }
    }

    pub fn parse(region: &str, i: &Instance) -> Option<Node> {
        let tags: Vec<(String, String)> = i
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect();
        let get = |k: &str| tags.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
        let name_tag = get(NAME);
        let (cluster, origin, role) = if let Some(c) = get(CLUSTER) {
            let role = match get(ROLE).as_deref() {
                Some("scheduler") => Role::Scheduler,
                Some("worker") => Role::Worker,
                _ => Role::Other,
            };
            (c, Origin::Daskctl, role)
        } else if let Some(uuid) = get(CP_CLUSTER) {
            // `dask-<uuid>-scheduler` today, `dask-scheduler-<uuid>` in early releases; the Name
            // comes with a CreateTags call after launch, so it may not be there yet
            let role = match name_tag.as_deref() {
                Some(n) if n.contains("scheduler") => Role::Scheduler,
                Some(_) => Role::Worker,
                None => Role::Other,
            };
            (format!("dask-{uuid}"), Origin::DaskCloudprovider, role)
        } else {
            return None;
        };
        let state = i
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string())
            .unwrap_or_else(|| "unknown".into());
        Some(Node {
            id: i.instance_id()?.to_string(),
            region: region.to_string(),
            cluster,
            origin,
            role,
            owner: get(OWNER),
            state,
            launched: i.launch_time().and_then(|t| SystemTime::try_from(*t).ok()),
            private_ip: i.private_ip_address().map(str::to_string),
            public_ip: i.public_ip_address().map(str::to_string),
            expires: get(EXPIRES).and_then(|v| humantime::parse_rfc3339_weak(&v).ok()),
            name_tag,
            instance_type: i
                .instance_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            vcpus: i.cpu_options().and_then(|o| {
                let n = o.core_count()? * o.threads_per_core().unwrap_or(1);
                u32::try_from(n).ok().filter(|n| *n > 0)
            }),
            image_id: i.image_id().map(str::to_string),
            subnet_id: i.subnet_id().map(str::to_string),
            vpc_id: i.vpc_id().map(str::to_string),
            security_groups: i
                .security_groups()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_string))
                .collect(),
            group_names: i
                .security_groups()
                .iter()
                .filter_map(|g| g.group_name().map(str::to_string))
                .collect(),
            key_name: i.key_name().map(str::to_string),
            iam_profile_arn: i
                .iam_instance_profile()
                .and_then(|p| p.arn())
                .map(str::to_string),
            spot: i.instance_lifecycle().is_some_and(|l| l.as_str() == "spot"),
            tags,
            root_device: i.root_device_name().map(str::to_string),
            root_volume: i
                .block_device_mappings()
                .iter()
                .find(|m| m.device_name() == i.root_device_name())
                .and_then(|m| m.ebs())
                .and_then(|e| e.volume_id())
                .map(str::to_string),
        })
    }
}

/// EC2 takes tag values of at most 256 characters (keys 128): checked before anything is
/// launched, so a long image name in the worker spec is a usage error, not a failed launch.
pub fn check_values(tags: &[(String, String)]) -> crate::error::Result<()> {
    for (k, v) in tags {
        if k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(crate::error::Error::Usage(format!(
                "aws: tag {k} would be {} characters long; EC2 allows 256 (a shorter --image?)",
                v.chars().count()
            )));
        }
    }
    Ok(())
}

pub fn spec(kind: ResourceType, tags: &[(String, String)]) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(kind);
    for (k, v) in tags {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.build()
}
