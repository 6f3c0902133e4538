//! The job-queue machinery shared by Slurm, PBS, SGE and HTCondor: job scripts, submission,
//! job arrays, cancel, queue parsing into `Job`s, grouping jobs into clusters, and the verbs.
//! A batch system plugs in with a `Dialect` (dialect.rs): what it is (`Facts`), its directives,
//! and how it submits, lists and cancels jobs.

pub mod config;
mod create;
mod delete;
pub mod dialect;
pub mod discover;
pub mod interest;
pub mod jobid;
pub mod lenient;
pub mod localtime;
pub mod lock;
pub mod logs;
pub mod markers;
pub mod mpi;
mod mpi_discover;
mod mpi_ended;
mod readback;
pub mod runner;
mod scale;
pub mod script;
mod shared_dir;
pub mod watch;

use super::{
    Availability, Backend, Capabilities, Context, CreateRequest, DeleteRequest, LogRequest,
    LogSink, ScaleReport, ScaleRequest,
};
use crate::error::{Error, Result};
use crate::model::Cluster;
use async_trait::async_trait;
pub use dialect::{Dialect, Facts, Submission};
pub use discover::{Kind, QueueHandle};
pub use interest::Interest;
use runner::Runner;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    Held,
    Running,
    Completing,
    Finished,
    Failed,
    Unknown,
}

impl JobState {
    /// Still in the queue or running: counts toward a cluster.
    pub fn active(self) -> bool {
        matches!(
            self,
            JobState::Pending | JobState::Held | JobState::Running | JobState::Completing
        )
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    /// The id that cancels exactly this job (an array task is addressed as `ARRAY_TASK`).
    pub id: String,
    /// The id the job itself sees in its job-id variable (what worker names are made of).
    pub runtime_id: Option<String>,
    pub name: String,
    pub state: JobState,
    /// The batch system's own word for the state (RUNNING, PD, r, ...).
    pub native_state: String,
    /// Where daskctl's marker lives (Slurm comment, PBS/SGE variable or context).
    pub marker: Option<String>,
    pub user: String,
    pub submitted: Option<SystemTime>,
    pub stdout: Option<String>,
    pub workdir: Option<String>,
    /// The command line, where the queue shows it (HTCondor's Cmd and Arguments).
    pub command: Option<String>,
    /// The Dask worker name the batch system records (HTCondor's DaskWorkerName).
    pub worker_name: Option<String>,
    /// CPUs the job asked for (Slurm's cpus, PBS Resource_List.ncpus, SGE slots, RequestCpus).
    pub cores: Option<f64>,
    /// When it started running (Slurm start_time, PBS stime, SGE JAT_start_time,
    /// HTCondor JobCurrentStartDate); read only for running jobs.
    pub started: Option<SystemTime>,
}

/// Per-job resources and placement, rendered into directives.
#[derive(Debug, Clone, Default)]
pub struct JobSpec {
    pub job_name: String,
    pub marker: String,
    pub output: String,
    pub walltime: Option<String>,
    pub queue: Option<String>,
    pub account: Option<String>,
    pub cores: u32,
    pub memory: Option<u64>,
    /// Raw extra directive arguments (`--job-extra`).
    pub extra: Vec<String>,
    /// GPUs per job (a worker group's `gpus`): Slurm `--gres=gpu:N`, PBS `ngpus`, Grid Engine
    /// `-l gpu=N` (a site's consumable), HTCondor `request_gpus`.
    pub gpus: Option<u32>,
}

/// What a worker group takes on a batch system besides threads and memory: where its jobs go
/// and what they ask for.
pub const GROUP_KEYS: &[&str] = &[
    "partition",
    "account",
    "walltime",
    "cores",
    "gpus",
    "job-extra",
];

/// The queue's record of a cluster this backend found.
pub fn handle(c: &Cluster) -> Result<&QueueHandle> {
    c.handle.get::<QueueHandle>().ok_or_else(|| {
        Error::backend(
            &c.backend,
            format!("{} was not found in the queue", c.qualified()),
        )
    })
}

/// A `--walltime` in seconds: `D-HH:MM:SS`, `HH:MM:SS`, `MM:SS` or seconds (Slurm's forms,
/// which PBS and Grid Engine take too); anything else is a usage error before submission.
pub fn walltime_secs(t: &str) -> Result<u64> {
    let bad = || {
        Error::Usage(format!(
            "invalid --walltime {t:?}: use HH:MM:SS, D-HH:MM:SS, MM:SS or seconds"
        ))
    };
    let (days, clock) = match t.split_once('-') {
        Some((d, rest)) => (d.parse::<u64>().map_err(|_| bad())?, rest),
        None => (0, t),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let secs = parts.iter().try_fold(0u64, |acc, p| {
        acc.checked_mul(60)?.checked_add(p.parse::<u64>().ok()?)
    });
    let total = secs
        .and_then(|s| days.checked_mul(86_400)?.checked_add(s))
        .ok_or_else(bad)?;
    if total == 0 || total > 365 * 86_400 {
        return Err(bad());
    }
    Ok(total)
}

/// A batch-system backend: the verbs written once over a `Dialect`.
pub struct JobQueue<D: Dialect> {
    pub ctx: Arc<Context>,
    pub dialect: D,
    pub settings: config::Settings,
}

impl<D: Dialect> JobQueue<D> {
    /// The backend for `[backends.NAME]`, its settings already checked by `check_settings`.
    pub fn new(ctx: Arc<Context>, dialect: D, settings: config::Settings) -> Self {
        JobQueue {
            ctx,
            dialect,
            settings,
        }
    }

    pub fn runner(&self) -> Runner {
        Runner {
            backend: self.dialect.facts().name,
            timeout: self.settings.command_timeout,
            bin_dir: self.bin_dir(),
            accept: Vec::new(),
            cwd: None,
            everyone: self.ctx.scope.beyond_me(),
            hold: None,
        }
    }

    /// The shared directory a daskctl marker names, if daskctl may use it: the caller's own
    /// job, and exactly where the caller's daskctl puts cluster `name` (`shared_dir/NAME`). A
    /// marker is written by whoever submitted the job; any other directory is a claim not acted
    /// on: nothing is read, written or removed there.
    pub fn claimed_dir(&self, user: &str, name: &str, dir: &str) -> Option<String> {
        let ours = user == self.ctx.user.name && Path::new(dir) == self.shared_dir().join(name);
        if !ours {
            tracing::debug!(
                "{}: job of {user} names {dir} for cluster {name}: not where daskctl puts it, ignored",
                self.dialect.facts().name
            );
        }
        ours.then(|| dir.to_string())
    }

    /// `bin_dir`: where this batch system's commands are (a site with several batch systems).
    pub fn bin_dir(&self) -> Option<PathBuf> {
        self.settings.bin_dir.clone()
    }

    /// Where scheduler files, job scripts and logs of daskctl's clusters go: a directory the
    /// login and compute nodes share (home, by default).
    pub fn shared_dir(&self) -> PathBuf {
        self.settings.shared_dir.clone().unwrap_or_else(|| {
            dirs::home_dir()
                .unwrap_or_else(std::env::temp_dir)
                .join(".daskctl")
                .join(self.dialect.facts().name)
        })
    }

    /// Python on the compute nodes.
    /// The Python the jobs run: `--python`, `backends.NAME.python`, `DASKCTL_PYTHON` (the
    /// Python a user named for Dask, which on a shared file system the nodes run too), python3.
    pub fn python(&self, req: &CreateRequest) -> String {
        req.options
            .get("python")
            .cloned()
            .or_else(|| self.settings.python.clone())
            .or_else(|| {
                std::env::var("DASKCTL_PYTHON")
                    .ok()
                    .filter(|p| !p.is_empty())
            })
            .unwrap_or_else(|| "python3".into())
    }

    /// Interface Dask listens on inside jobs (`--host`), if configured.
    pub fn host(&self, req: &CreateRequest) -> Option<String> {
        req.options
            .get("host")
            .cloned()
            .or_else(|| self.settings.host.clone())
    }

    /// `script_command`: how this site prints a job's script (e.g. `printjob -s {id}` for PBS
    /// administrators), as an argument vector with `{id}` replaced; never through a shell.
    pub fn script_command(&self, id: &str) -> Option<Vec<String>> {
        let t = self.settings.script_command.as_ref()?;
        Some(
            t.split_whitespace()
                .map(|w| w.replace("{id}", id))
                .collect(),
        )
    }

    /// Job names that mark dask-jobqueue workers.
    pub fn jobqueue_names(&self) -> Vec<String> {
        self.settings.jobqueue_names.clone()
    }

    /// The jobs a discovery keeps: those that may be Dask's, of the users in scope.
    pub fn dask_jobs(&self) -> Interest {
        self.interest(None)
    }

    /// The jobs of one cluster daskctl made, by their names.
    pub fn named_jobs(&self, names: Vec<String>) -> Interest {
        self.interest(Some(names))
    }

    fn interest(&self, named: Option<Vec<String>>) -> Interest {
        Interest::Dask(interest::DaskJobs {
            me: self.ctx.user.name.clone(),
            scope: self.ctx.scope.clone(),
            jobqueue_names: self.jobqueue_names(),
            named,
            // a job's script says whether it is a dask-mpi cluster, where scripts can be read
            mpi: readback::can_read_scripts(self),
        })
    }
}

#[async_trait]
impl<D: Dialect> Backend for JobQueue<D> {
    fn pricing(&self) -> Option<&crate::pricing::Pricing> {
        Some(&self.ctx.config.pricing)
    }

    /// As root, another user's jobs are submitted by a child that is that user (owner.rs).
    fn starts_as_caller(&self) -> bool {
        !crate::backends::owner::can_switch()
    }

    /// Another user's jobs are submitted, cancelled and read, and their shared directory
    /// changed, by a child that is that user: the batch system and the kernel judge it.
    fn acting_owner(&self, c: &Cluster) -> Option<crate::backends::owner::Owner> {
        crate::backends::owner::Owner::of(c, &self.ctx.user)
    }

    fn name(&self) -> &'static str {
        self.dialect.facts().name
    }

    /// daskctl's own clusters: their shared directory (seen from every login node).
    fn policy_dir(&self, c: &Cluster) -> Option<std::path::PathBuf> {
        let h = handle(c).ok()?;
        match (&h.kind, &h.dir) {
            (Kind::Daskctl, Some(d)) => Some(std::path::PathBuf::from(d)),
            _ => None,
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            create: true,
            scale: true,
            logs: true,
            delete: true,
            finds: &["dask-jobqueue", "dask-gateway"],
            description: self.dialect.facts().description,
        }
    }

    fn availability(&self) -> Availability {
        let bin = self.bin_dir();
        let missing = self.dialect.facts().tools.iter().find(|t| match &bin {
            Some(d) => !d.join(t).is_file(),
            None => !runner::on_path(t),
        });
        match (missing, &bin) {
            (None, Some(_)) => Availability::Ready,
            (None, None) => (self.dialect.facts().available)(),
            (Some(t), Some(d)) => {
                Availability::Missing(format!("{t} not found in {}", d.display()))
            }
            (Some(t), None) => Availability::Missing(format!("{t} not found on PATH")),
        }
    }

    async fn discover(&self) -> Result<Vec<Cluster>> {
        discover::discover(self).await
    }

    async fn from_name(&self, name: &str) -> Result<Option<Cluster>> {
        // clusters daskctl did not make are named from what discovery found
        if crate::names::RESERVED_PREFIXES
            .iter()
            .any(|p| name.starts_with(p))
            || crate::names::validate(name).is_err()
        {
            return Ok(self.discover().await?.into_iter().find(|c| c.name == name));
        }
        if let Some(c) = discover::find(self, name).await? {
            return Ok(Some(c));
        }
        // a dask-mpi job is named after itself: the whole queue is looked at for it
        Ok(self
            .discover()
            .await?
            .into_iter()
            .find(|c| c.name == name && c.origin == crate::model::Origin::DaskMpi))
    }

    async fn create(&self, req: &CreateRequest) -> Result<Cluster> {
        create::create(self, req).await
    }

    async fn plan(&self, req: &CreateRequest) -> Result<super::Plan> {
        create::plan(self, req)
    }

    async fn scale(&self, cluster: &Cluster, req: &ScaleRequest) -> Result<ScaleReport> {
        if let Some(o) = self.acting_owner(cluster) {
            return crate::backends::owner::scale(&o, cluster, req).await;
        }
        scale::scale(self, cluster, req).await
    }

    async fn logs(
        &self,
        cluster: &Cluster,
        req: &LogRequest,
        sink: &mut dyn LogSink,
    ) -> Result<()> {
        if let Some(o) = self.acting_owner(cluster) {
            return crate::backends::owner::logs(&o, cluster, req, sink).await;
        }
        logs::logs(self, cluster, req, sink).await
    }

    async fn delete(&self, cluster: &Cluster, req: &DeleteRequest) -> Result<()> {
        if let Some(o) = self.acting_owner(cluster) {
            return crate::backends::owner::delete(&o, cluster, req.timeout).await;
        }
        delete::delete(self, cluster, req).await
    }

    fn group_keys(&self) -> Option<&'static [&'static str]> {
        // where create takes no --partition (HTCondor), a group takes none either
        let queues = super::lookup(self.dialect.facts().name)
            .is_ok_and(|r| r.create_flags.contains(&"partition"));
        Some(if queues { GROUP_KEYS } else { &GROUP_KEYS[1..] })
    }

    fn max_workers(&self) -> u32 {
        self.settings.max_workers
    }
}
