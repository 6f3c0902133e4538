//! The cluster record every backend produces and every verb consumes. Its JSON form is the
//! `list -o json` contract documented in the README.

use serde::{Serialize, Serializer};
use std::any::Any;
use std::sync::Arc;
use std::time::SystemTime;

/// The word a unit enum serialises to (`Origin::DaskMpi` is "dask-mpi"): what the JSON says,
/// also in tables, metrics labels and CSV.
pub fn word<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    Daskctl,
    DaskJobqueue,
    DaskKubernetes,
    DaskCloudprovider,
    DaskGateway,
    DaskMpi,
    Unknown,
}

/// What applies a cluster's adaptive policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AdaptBy {
    /// `daskctl reconcile` (cron, or `reconcile --watch`), from the policy daskctl keeps
    Reconcile,
    /// the platform's own autoscaler (the Dask operator's DaskAutoscaler)
    Platform,
}

/// (A `clap::ValueEnum` too: `list --status` takes the same words the JSON shows.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Resources requested, scheduler or workers not up yet.
    Pending,
    Running,
    /// Scheduler up but some workers it should have are gone.
    Degraded,
    /// Workers (or other resources) whose scheduler is gone or does not answer.
    Orphaned,
    Stopping,
    /// Nothing runs any more; only leftovers (state, stopped machines) remain.
    Stopped,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Degraded => "degraded",
            Status::Orphaned => "orphaned",
            Status::Stopping => "stopping",
            Status::Stopped => "stopped",
            Status::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Scheduler,
    Worker,
    #[default]
    Other,
}

/// One process, job, pod or instance that is part of a cluster.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Resource {
    /// process, job, pod, instance, ...
    pub kind: &'static str,
    pub id: String,
    pub role: Role,
    /// Backend-native state (e.g. "running", "dead", "R", "PENDING").
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Cores it asked for, set only while it holds them or waits for them (not once it ended):
    /// the job's CPUs, the pod's CPU request, the instance's vCPUs, a process's threads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cores: Option<f64>,
    /// Since when it holds them (job start, pod start, instance launch, process start); set
    /// only while it runs. Core-hours are counted from here.
    #[serde(serialize_with = "rfc3339", skip_serializing_if = "Option::is_none")]
    pub started: Option<SystemTime>,
    /// What it costs per hour while it runs, where the backend prices it itself (an EC2
    /// instance type); otherwise cores x the configured price per core-hour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hourly_cost: Option<f64>,
}

/// What a cluster costs (`[pricing]` in the config, EC2's bundled table).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cost {
    pub currency: String,
    /// What the resources it holds now cost per hour.
    pub per_hour: f64,
    /// What they have cost since they started.
    pub total: f64,
}

/// A worker as its scheduler reports it.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerDetail {
    pub name: String,
    pub address: String,
    pub threads: u64,
    pub memory: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The names of its Dask resources (`--resources GPU=1`): a worker daskctl started for a
    /// group carries the group's (`groups::resource`).
    #[serde(skip)]
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub name: String,
    pub backend: String,
    /// Kubernetes namespace (names are unique per namespace there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub origin: Origin,
    pub status: Status,
    pub address: Option<String>,
    pub dashboard: Option<String>,
    /// Workers connected to the scheduler (or, where the scheduler cannot be asked, running).
    pub workers: Option<u64>,
    pub threads: Option<u64>,
    /// Total worker memory limit in bytes.
    pub memory: Option<u64>,
    #[serde(serialize_with = "rfc3339")]
    pub created: Option<SystemTime>,
    pub owner: Option<String>,
    /// daskctl's instance id of a cluster it made (gcp: its scheduler instance's id): a name is
    /// reused, an instance id is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The machine it runs on, where that is one machine (local clusters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The scheduler's own id (its identity reply), when it answered: one scheduler is one
    /// cluster, whatever address it was reached at.
    #[serde(skip)]
    pub scheduler_id: Option<String>,
    /// It runs on another node than this one (a login node sharing this home): listed here,
    /// judged and acted on only there (`crate::host`).
    #[serde(skip)]
    pub elsewhere: bool,
    pub resources: Vec<Resource>,
    /// Workers asked for (running plus pending), where the backend knows it.
    pub requested_workers: Option<u64>,
    /// Since when the scheduler reports having nothing to do; null when busy or unknown.
    #[serde(serialize_with = "rfc3339")]
    pub idle_since: Option<SystemTime>,
    /// Why the status is what it is, when it is not plainly running.
    pub reason: Option<String>,
    /// When its time to live (`--ttl`) runs out; `cleanup --orphaned` takes it after that.
    #[serde(serialize_with = "rfc3339", skip_serializing_if = "Option::is_none")]
    pub expires: Option<SystemTime>,
    /// `create --idle-timeout`, seconds, where the backend keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub worker_details: Vec<WorkerDetail>,
    /// The clients connected to its scheduler (`describe` asks; `list` does not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<Vec<String>>,
    /// Its worker groups, the default one first, where the backend makes groups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<crate::groups::GroupCount>,
    /// Cores its resources asked for (running and waiting), where the backend knows them.
    pub cores: Option<f64>,
    /// Cores x hours held by the resources that run now, since each started.
    pub core_hours: Option<f64>,
    /// Its cost, where a price is known for everything it holds (`[pricing]`).
    pub cost: Option<Cost>,
    /// Its adaptive policy (`daskctl adapt`), stored with the cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapt: Option<crate::policy::Adapt>,
    /// When a `daskctl reconcile` pass last applied that policy; absent with a policy: never
    /// (nothing applies it: schedule `daskctl reconcile`).
    #[serde(serialize_with = "rfc3339", skip_serializing_if = "Option::is_none")]
    pub adapt_applied: Option<SystemTime>,
    /// Who applies `adapt`: `daskctl reconcile`, or the platform's own autoscaler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapt_by: Option<AdaptBy>,
    /// Why the scheduler, asked, did not answer (never printed; the reason says it): the worker
    /// count is then the backend's own (running jobs, pods, instances), not the scheduler's.
    #[serde(skip)]
    pub silent: Option<String>,
    /// The backend's own typed record of the cluster (never printed): what it needs to act on it.
    #[serde(skip)]
    pub handle: Handle,
}

/// A value of the backend's own type, carried with the cluster from discovery to the verbs
/// (a typed extension, as arrow-rs object_store's `Extensions`): `c.handle.get::<T>()`.
#[derive(Clone, Default)]
pub struct Handle(Option<Arc<dyn Any + Send + Sync>>);

impl Handle {
    pub fn new<T: Any + Send + Sync>(value: T) -> Handle {
        Handle(Some(Arc::new(value)))
    }

    pub fn get<T: Any>(&self) -> Option<&T> {
        self.0.as_deref()?.downcast_ref()
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Handle(..)"
        } else {
            "Handle(None)"
        })
    }
}

impl Cluster {
    pub fn new(name: impl Into<String>, backend: &str, origin: Origin) -> Self {
        Cluster {
            name: name.into(),
            backend: backend.to_string(),
            namespace: None,
            origin,
            status: Status::Unknown,
            address: None,
            dashboard: None,
            workers: None,
            threads: None,
            memory: None,
            created: None,
            owner: None,
            instance: None,
            host: None,
            scheduler_id: None,
            elsewhere: false,
            resources: Vec::new(),
            requested_workers: None,
            idle_since: None,
            reason: None,
            expires: None,
            idle_timeout: None,
            worker_details: Vec::new(),
            clients: None,
            groups: Vec::new(),
            cores: None,
            core_hours: None,
            cost: None,
            adapt: None,
            adapt_applied: None,
            adapt_by: None,
            silent: None,
            handle: Handle::default(),
        }
    }

    /// `backend/name`, the unambiguous form.
    pub fn qualified(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.backend, self.name),
            None => format!("{}/{}", self.backend, self.name),
        }
    }

    pub fn scheduler_alive(&self) -> bool {
        self.resources
            .iter()
            .any(|r| r.role == Role::Scheduler && r.state == "running")
    }
}

pub fn rfc3339<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&humantime::format_rfc3339_seconds(*t).to_string()),
        None => s.serialize_none(),
    }
}
