//! The `Backend` trait every place Dask runs implements, and the registry (`inventory`) that
//! collects them. Each backend lives in its own folder whose `mod.rs` registers it and holds its
//! typed settings: `local/`, `kubernetes/` and `aws/` have a file per verb besides; the batch
//! systems (`slurm/`, `pbs/`, `sge/`, `htcondor/`) are a `jobqueue::Dialect` each (`mod.rs`)
//! with their queue parser (`queue.rs`), and `jobqueue/` does the verbs for all of them.
//! Shared layers: `status` (classification), `liveness` (what a failed probe means),
//! `logfiles`. ARCHITECTURE.md says where a new backend goes.

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(test)]
pub mod fake;
pub mod gateway;
#[cfg(feature = "gcp")]
pub mod gcp;
pub mod htcondor;
pub mod jobqueue;
#[cfg(feature = "kubernetes")]
pub mod kubernetes;
pub mod liveness;
pub mod local;
pub mod logfiles;
pub mod lsf;
pub mod moab;
pub mod owner;
pub mod pbs;
pub mod sge;
pub mod slurm;
pub mod status;

use crate::config::Config;
use crate::dask::Prober;
use crate::error::{Error, Result};
use crate::model::Cluster;
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

/// What a backend can do, shown by `daskctl backends`.
#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    pub create: bool,
    pub scale: bool,
    pub logs: bool,
    pub delete: bool,
    /// Origins of the clusters it finds besides its own.
    pub finds: &'static [&'static str],
    pub description: &'static str,
}

/// Whether a backend can be queried right now; decided without any network or subprocess.
#[derive(Debug, Clone)]
pub enum Availability {
    Ready,
    /// Tools or credentials are absent: skipped silently by `list`.
    Missing(String),
}

#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    pub name: String,
    /// Whether the name was given (`--name`) rather than generated: a backend whose service
    /// names clusters itself (dask-gateway) refuses a given one.
    pub named: bool,
    pub workers: u32,
    pub threads: Option<u32>,
    pub memory: Option<u64>,
    /// Backend flags (`--python`, `--partition`, ...) by long name.
    pub options: BTreeMap<String, String>,
    pub timeout: Duration,
    /// Worker groups beside the default one (`--worker-group`), checked against the backend's
    /// `group_keys`.
    pub groups: Vec<crate::groups::GroupSpec>,
    /// The line the waits update on a terminal.
    pub progress: crate::progress::Progress,
}

#[derive(Debug, Clone, Default)]
pub struct ScaleRequest {
    pub target: u32,
    pub wait: bool,
    pub timeout: Duration,
    /// Workers (Dask names) to retire before any other when scaling down: the ones the
    /// scheduler proposed (`workers_to_close`) during `reconcile`.
    pub retire_first: Vec<String>,
    /// The worker group to scale (`--group`); None: the default group.
    pub group: Option<String>,
    /// The line the waits update on a terminal.
    pub progress: crate::progress::Progress,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ScaleReport {
    pub before: u64,
    pub target: u64,
    pub started: Vec<String>,
    pub stopped: Vec<String>,
    /// What the backend's service said of the request (a gateway capping the count).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ScaleReport {
    pub fn new(before: u64, target: u64) -> Self {
        ScaleReport {
            before,
            target,
            started: Vec::new(),
            stopped: Vec::new(),
            note: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct LogRequest {
    pub scheduler_only: bool,
    pub worker: Option<String>,
    pub tail: Option<usize>,
    pub follow: bool,
}

/// Receives log lines as a backend produces them (so `--follow` can stream).
pub trait LogSink: Send {
    fn line(&mut self, source: &str, line: &str);
}

#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub wait: bool,
    pub timeout: Duration,
    /// The line the waits update on a terminal.
    pub progress: crate::progress::Progress,
}

/// What `create --dry-run` shows: every submission as it would be made, nothing submitted.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub backend: String,
    pub name: String,
    pub dry_run: bool,
    pub steps: Vec<Step>,
}

/// One thing `create` would do.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// scheduler, workers, security-group, ...
    pub role: String,
    /// What it would do, in words.
    pub what: String,
    /// The command it would run (a batch tool, a local process), as an argument vector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    /// The file the command reads on its standard input (LSF's `bsub < script`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
    /// Files it would write first: job scripts, submit descriptions, user data.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<PlanFile>,
    /// The API object or call (a Kubernetes object, EC2 RunInstances parameters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanFile {
    pub path: String,
    pub content: String,
}

impl Step {
    pub fn new(role: &str, what: impl Into<String>) -> Step {
        Step {
            role: role.to_string(),
            what: what.into(),
            argv: None,
            stdin: None,
            files: Vec::new(),
            object: None,
        }
    }
}

#[async_trait]
pub trait Backend: Send + Sync {
    fn name(&self) -> &'static str;
    fn capabilities(&self) -> Capabilities;
    fn availability(&self) -> Availability;

    /// Every cluster this backend can see that belongs to the current user.
    async fn discover(&self) -> Result<Vec<Cluster>>;

    /// One cluster by name; backends with a cheaper lookup than full discovery override this.
    #[allow(clippy::wrong_self_convention)] // the verb the design names: rebuild a handle from a name
    async fn from_name(&self, name: &str) -> Result<Option<Cluster>> {
        Ok(self.discover().await?.into_iter().find(|c| c.name == name))
    }

    async fn create(&self, req: &CreateRequest) -> Result<Cluster>;

    /// What `create` would submit, without submitting (nor needing the backend's tools or
    /// credentials): `create --dry-run`.
    async fn plan(&self, _req: &CreateRequest) -> Result<Plan> {
        Err(Error::Usage(format!(
            "backend {} has no dry run",
            self.name()
        )))
    }
    async fn scale(&self, cluster: &Cluster, req: &ScaleRequest) -> Result<ScaleReport>;
    async fn logs(&self, cluster: &Cluster, req: &LogRequest, sink: &mut dyn LogSink)
    -> Result<()>;
    async fn delete(&self, cluster: &Cluster, req: &DeleteRequest) -> Result<()>;

    /// The settings a worker group takes besides `threads` and `memory` (`partition`, `gpus`,
    /// ...); None: the backend makes no worker groups (`--worker-group`, `scale --group` are
    /// refused before anything is done).
    fn group_keys(&self) -> Option<&'static [&'static str]> {
        None
    }

    /// The largest worker count `scale`/`create` accept.
    fn max_workers(&self) -> u32 {
        10_000
    }

    /// What the last `discover` found worth telling a person beside its clusters (`list`
    /// prints each line on stderr; the exit code is unchanged).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// The directory where this cluster's policy (`policy.json`, `daskctl adapt`) is stored:
    /// one discovery already reads, so every daskctl sees it. None: the backend cannot store one
    /// for this cluster.
    fn policy_dir(&self, _c: &Cluster) -> Option<std::path::PathBuf> {
        None
    }

    /// Where this cluster's policy is kept and locked: `policy.json` in `policy_dir`, unless the
    /// backend keeps it elsewhere (aws: tags). None: no daskctl policy for this cluster.
    fn policy_store(&self, c: &Cluster) -> Option<Box<dyn crate::policy::PolicyStore + '_>> {
        self.policy_dir(c).map(|d| {
            Box::new(crate::policy::PolicyFile::in_dir(&d)) as Box<dyn crate::policy::PolicyStore>
        })
    }

    /// The policy discovery saw for `c`, read without waiting on anything (a file, or tags
    /// discovery already fetched). None: the backend keeps none for it.
    fn stored_policy(&self, c: &Cluster) -> Option<Result<crate::policy::Policy>> {
        self.policy_dir(c)
            .map(|d| crate::policy::PolicyFile::in_dir(&d).read())
    }

    /// Turns the platform's own autoscaler on (`Some`) or off for `c`, where the backend has one
    /// and keeps no daskctl policy (`policy_dir` is None): dask-gateway's adapt, the
    /// dask-kubernetes operator's `DaskAutoscaler`. Says who applies it.
    async fn platform_adapt(
        &self,
        c: &Cluster,
        _adapt: Option<crate::policy::Adapt>,
    ) -> Result<String> {
        Err(Error::Usage(format!(
            "{} cannot keep an adaptive policy: only clusters daskctl created on the local, \
             batch, aws and gcp backends (with a running scheduler), dask-kubernetes operator \
             clusters and dask-gateway clusters can",
            c.qualified()
        )))
    }

    /// Whom root becomes to act on `c` (`owner.rs`): on backends whose resources are their
    /// user's own processes, files and jobs on this machine, another user's cluster is acted on
    /// by a child that is that user. None: act as the caller (with the caller's credentials).
    fn acting_owner(&self, _c: &Cluster) -> Option<owner::Owner> {
        None
    }

    /// Whether what it starts runs as the caller (processes, batch jobs): scaling up another
    /// user's cluster would then run their workers as the administrator, and is refused.
    fn starts_as_caller(&self) -> bool {
        false
    }

    /// The prices its clusters are accounted with (`[pricing]`); None: core-hours only.
    fn pricing(&self) -> Option<&crate::pricing::Pricing> {
        None
    }

    /// Whether `c` is the caller's: its owner is the caller's user name (`user`), or the
    /// backend's own account of the caller (a gateway's user) for backends that have one.
    fn is_callers(&self, c: &Cluster, user: &str) -> bool {
        c.owner.as_deref().is_none_or(|o| o == user)
    }
}

/// `scale --wait` where discovery reports the scheduler's worker count: polls `from_name(lookup)`
/// until the cluster has `target` workers or the deadline passes. A count made while the
/// scheduler did not answer (pods or instances running) is not taken for the scheduler's.
/// Ends early when the cluster is no longer listed or has lost its scheduler (orphaned,
/// stopped), or when its requested count, once at `target`, moves away from it (another scale
/// asked for another size, or workers ended).
pub async fn wait_for_workers(
    b: &dyn Backend,
    c: &Cluster,
    lookup: &str,
    target: u64,
    deadline: std::time::Instant,
    progress: &crate::progress::Progress,
) -> Result<()> {
    let within = deadline.saturating_duration_since(std::time::Instant::now());
    let requested_reached = std::sync::atomic::AtomicBool::new(false);
    let waited = until_settled(within, Duration::from_millis(500), || async {
        let Some(now) = b.from_name(lookup).await? else {
            return Err(Error::backend(
                b.name(),
                format!(
                    "{} is gone (no longer listed) while waiting for {target} worker(s)",
                    c.qualified()
                ),
            ));
        };
        progress.seen(seen_resources(&now, target));
        if matches!(
            now.status,
            crate::model::Status::Orphaned | crate::model::Status::Stopped
        ) {
            return Err(Error::backend(
                b.name(),
                format!(
                    "{} lost its scheduler while waiting for {target} worker(s) ({})",
                    c.qualified(),
                    now.reason.as_deref().unwrap_or(now.status.as_str())
                ),
            ));
        }
        if let Some(r) = now.requested_workers {
            use std::sync::atomic::Ordering::Relaxed;
            if r == target {
                requested_reached.store(true, Relaxed);
            } else if requested_reached.load(Relaxed) {
                return Err(Error::backend(
                    b.name(),
                    format!(
                        "{} now asks for {r} worker(s), not {target}: another scale changed \
                         it, or workers ended; this wait ends",
                        c.qualified()
                    ),
                ));
            }
        }
        let silent = now.silent.clone();
        let have = now.workers;
        Ok(if have == Some(target) && silent.is_none() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue((silent, have))
        })
    })
    .await?;
    waited.map_err(|(silent, have)| {
        Error::Timeout(match silent {
            Some(why) => format!(
                "{}: the scheduler did not answer while waiting for {target} worker(s): {why}",
                c.qualified()
            ),
            None => format!(
                "{} has {} worker(s), not {target}, after waiting",
                c.qualified(),
                have.unwrap_or(0)
            ),
        })
    })
}

/// What a wait shows of a cluster whose workers are pods or instances: the scheduler's count,
/// and its worker resources running and not yet running.
pub fn seen_resources(c: &Cluster, wanted: u64) -> crate::progress::Seen {
    let workers: Vec<&crate::model::Resource> = c
        .resources
        .iter()
        .filter(|r| r.role == crate::model::Role::Worker)
        .collect();
    let running = workers
        .iter()
        .filter(|r| r.state.eq_ignore_ascii_case("running"))
        .count() as u64;
    let units = match workers.first().map(|r| r.kind) {
        Some("pod") => "pods",
        Some("instance") => "instances",
        _ => "jobs",
    };
    crate::progress::Seen {
        connected: c
            .workers
            .filter(|_| c.silent.is_none() && c.address.is_some()),
        wanted,
        queued: (!workers.is_empty()).then(|| workers.len() as u64 - running),
        running: (!workers.is_empty()).then_some(running),
        units,
    }
}

/// Shared by all backends during one invocation.
pub struct Context {
    pub config: Config,
    pub prober: Prober,
    pub user: User,
    /// Whose clusters this command sees and may act on (`--all-users`, `-u USER`).
    pub scope: Scope,
    /// Since when remote schedulers have been silent (remembered across runs).
    pub silence: liveness::Silence,
}

/// Whose clusters: the caller's (the default), every user's (`--all-users`) or these users'
/// (`-u USER`, repeatable) besides the caller's. Backends list accordingly (root's /proc, squeue
/// without `--me`, `qstat -u '*'`, `condor_q -allusers`, instances of any owner); verbs act on
/// another user's cluster only when the scope names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    Mine,
    Everyone,
    Users(Vec<String>),
}

impl Scope {
    pub fn new(all: bool, users: &[String]) -> Scope {
        match (all, users.is_empty()) {
            (true, _) => Scope::Everyone,
            (false, true) => Scope::Mine,
            (false, false) => Scope::Users(users.to_vec()),
        }
    }

    /// Whether `owner`'s clusters are in it (`me`: the caller).
    pub fn includes(&self, owner: &str, me: &str) -> bool {
        match self {
            Scope::Mine => owner == me,
            Scope::Everyone => true,
            Scope::Users(u) => owner == me || u.iter().any(|x| x == owner),
        }
    }

    /// Whether backends must list beyond the caller's own resources.
    pub fn beyond_me(&self) -> bool {
        !matches!(self, Scope::Mine)
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub uid: u32,
    pub name: String,
}

impl User {
    pub fn current() -> User {
        let uid = nix::unistd::getuid();
        let name = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name)
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| uid.to_string());
        User {
            uid: uid.as_raw(),
            name,
        }
    }
}

pub struct Registration {
    pub name: &'static str,
    /// Whether the backend is on when the config says nothing.
    pub default_enabled: bool,
    pub build: fn(Arc<Context>) -> Arc<dyn Backend>,
    /// Reads the backend's `[backends.NAME]` section into its settings struct: a misspelt
    /// key or a wrong value is a usage error before any backend is built.
    pub check_settings: fn(&Config) -> Result<()>,
    /// The keys of that section (the README's settings tables list the same).
    pub settings_keys: fn() -> Vec<&'static str>,
    /// The backend flags `create` takes for it (long names); any other is a usage error that
    /// names the backends that do take it.
    pub create_flags: &'static [&'static str],
}

/// `create` flags every batch backend takes.
pub const BATCH_FLAGS: &[&str] = &[
    "python",
    "host",
    "account",
    "walltime",
    "cores",
    "job-extra",
    "keep-failed",
    "idle-timeout",
    "ttl",
];

/// Batch flags plus `--partition` (a Slurm partition, a PBS or Grid Engine queue).
pub const QUEUE_FLAGS: &[&str] = &[
    "python",
    "host",
    "partition",
    "account",
    "walltime",
    "cores",
    "job-extra",
    "keep-failed",
    "idle-timeout",
    "ttl",
];

inventory::collect!(Registration);

pub fn registered() -> Vec<&'static Registration> {
    let mut v: Vec<_> = inventory::iter::<Registration>.into_iter().collect();
    v.sort_by_key(|r| r.name);
    v
}

pub fn registered_names() -> Vec<&'static str> {
    registered().into_iter().map(|r| r.name).collect()
}

pub fn lookup(name: &str) -> Result<&'static Registration> {
    registered()
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| {
            Error::Usage(format!(
                "unknown backend {name:?}; registered backends: {}",
                registered_names().join(", ")
            ))
        })
}

/// Every registered backend's settings, typed; `[backends.X]` for an X no build of daskctl
/// knows is an error naming the closest backend.
pub fn check_settings(config: &Config) -> Result<()> {
    const ANY_BUILD: &[&str] = &[
        "aws",
        "gateway",
        "gcp",
        "htcondor",
        "kubernetes",
        "local",
        "lsf",
        "moab",
        "pbs",
        "sge",
        "slurm",
    ];
    for name in config.backends.keys() {
        if !ANY_BUILD.contains(&name.as_str()) {
            let close = ANY_BUILD
                .iter()
                .max_by(|a, b| {
                    strsim::jaro_winkler(name, a).total_cmp(&strsim::jaro_winkler(name, b))
                })
                .filter(|b| strsim::jaro_winkler(name, b) > 0.7)
                .map(|b| format!("; did you mean [backends.{b}]?"))
                .unwrap_or_default();
            return Err(Error::Usage(format!(
                "unknown backend section [backends.{name}] in config {}{close}",
                config.path.display()
            )));
        }
    }
    for reg in registered() {
        (reg.check_settings)(config)?;
    }
    Ok(())
}

pub fn is_enabled(ctx: &Context, reg: &Registration) -> bool {
    ctx.config.backend_enabled(reg.name, reg.default_enabled)
}

/// Polls `probe` every `every` until it yields a value or `within` has passed: the one wait
/// of the program (as kube-runtime's `await_condition` is one combinator). The probe runs at
/// least once, and once more at the deadline.
pub async fn until<T, F, Fut>(within: Duration, every: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return Some(v);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return None;
        }
        tokio::time::sleep(every.min(deadline - now)).await;
    }
}

/// `until` for a probe that can fail and that tells what it saw: an error ends the wait at once;
/// `Break(v)` is the value waited for; at the deadline, `Err(last)` is what was seen last.
pub async fn until_settled<T, S, F, Fut>(
    within: Duration,
    every: Duration,
    mut probe: F,
) -> Result<std::result::Result<T, S>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<ControlFlow<T, S>>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let seen = match probe().await? {
            ControlFlow::Break(v) => return Ok(Ok(v)),
            ControlFlow::Continue(seen) => seen,
        };
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(Err(seen));
        }
        tokio::time::sleep(every.min(deadline - now)).await;
    }
}

/// `until_settled` for "wait until nothing is left": the probe lists what is still there; at the
/// deadline, `Err(left)` is what was still there last.
pub async fn until_none_left<F, Fut>(
    within: Duration,
    every: Duration,
    progress: &crate::progress::Progress,
    mut left: F,
) -> Result<std::result::Result<(), Vec<String>>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<String>>>,
{
    until_settled(within, every, || {
        let f = left();
        async move {
            let left = f.await?;
            progress.say(&format!("{} left: {}", left.len(), left.join(", ")));
            Ok(if left.is_empty() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(left)
            })
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::fake::Fake;
    use super::*;
    use crate::model::Origin;

    fn cluster(workers: u64, answered: bool) -> Cluster {
        let mut c = Cluster::new("c", "fake", Origin::Daskctl);
        c.workers = Some(workers);
        if !answered {
            c.silent = Some("timed out".into());
        }
        c
    }

    /// Every key a backend reads is in the README's settings tables for its section, and every
    /// key there is one the backend reads.
    #[test]
    fn readme_tables_match_the_settings() {
        let readme = include_str!("../../README.md");
        let paragraphs: Vec<&str> = readme.split("\n\n").collect();
        for reg in registered() {
            let section = format!("`[backends.{}]`", reg.name);
            let mut documented: Vec<&str> = Vec::new();
            for (i, p) in paragraphs.iter().enumerate() {
                if !(p.starts_with("Settings") && p.contains(&section)) {
                    continue;
                }
                let table = paragraphs.get(i + 1).copied().unwrap_or("");
                documented.extend(table.lines().filter_map(|l| {
                    l.strip_prefix("| `")
                        .and_then(|r| r.split_once('`'))
                        .map(|(k, _)| k)
                }));
            }
            let mut expected = (reg.settings_keys)();
            expected.sort();
            documented.sort();
            assert_eq!(documented, expected, "README settings of {}", reg.name);
        }
    }

    /// Pods or instances running are not workers the scheduler has: `scale --wait` goes on
    /// waiting while the scheduler does not answer, and says so when time runs out.
    #[tokio::test(start_paused = true)]
    async fn waiting_takes_only_the_schedulers_count() {
        let c = cluster(0, true);
        let deadline = std::time::Instant::now() + Duration::from_secs(3600);
        let b = Fake::scripted(
            "fake",
            vec![cluster(3, false), cluster(2, true), cluster(3, true)],
        );
        wait_for_workers(&b, &c, "c", 3, deadline, &Default::default())
            .await
            .unwrap();
        assert_eq!(
            b.script.lock().unwrap().len(),
            1,
            "the silent count of 3 was not taken"
        );

        let b = Fake::scripted("fake", vec![cluster(3, false)]);
        let soon = std::time::Instant::now() + Duration::from_millis(10);
        let e = wait_for_workers(&b, &c, "c", 3, soon, &Default::default())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("did not answer"), "{e}");
    }

    /// A wait ends, saying why, when what it waits for can no longer come: the cluster is no
    /// longer listed, its scheduler is gone, or its requested count left the target.
    #[tokio::test(start_paused = true)]
    async fn waiting_ends_early_when_the_target_cannot_come() {
        let c = cluster(0, true);
        let deadline = std::time::Instant::now() + Duration::from_secs(3600);
        let c = &c;
        let wait = |b: Fake| async move {
            wait_for_workers(&b, c, "c", 3, deadline, &Default::default())
                .await
                .unwrap_err()
                .to_string()
        };
        let other = Cluster::new("other", "fake", Origin::Daskctl);
        let e = wait(Fake::scripted("fake", vec![other])).await;
        assert!(e.contains("is gone (no longer listed)"), "{e}");

        let mut orphaned = cluster(1, false);
        orphaned.status = crate::model::Status::Orphaned;
        orphaned.reason = Some("scheduler pod gone".into());
        let e = wait(Fake::scripted("fake", vec![orphaned])).await;
        assert!(e.contains("lost its scheduler"), "{e}");
        assert!(e.contains("scheduler pod gone"), "{e}");

        let asked = |requested: u64| {
            let mut x = cluster(1, true);
            x.requested_workers = Some(requested);
            x
        };
        // asked 3 (not there yet), then another scale asked 5
        let e = wait(Fake::scripted("fake", vec![asked(3), asked(5)])).await;
        assert!(e.contains("now asks for 5 worker(s), not 3"), "{e}");
        // never at 3 yet: a count on its way is not a retarget (times out instead)
        let soon = std::time::Instant::now() + Duration::from_secs(5);
        let b = Fake::scripted("fake", vec![asked(2)]);
        let e = wait_for_workers(&b, c, "c", 3, soon, &Default::default())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("not 3, after waiting"), "{e}");
    }
}
