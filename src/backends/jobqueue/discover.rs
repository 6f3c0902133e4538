//! From the queue to clusters: daskctl's jobs by their marker, dask-jobqueue workers by the
//! scheduler address in their batch script, dask-gateway jobs by their staging directory.
//! Schedulers are probed concurrently; a cluster whose scheduler is gone or silent is orphaned.

use super::markers::Marker;
use super::{Dialect, Job, JobQueue, JobState, script};
use crate::backends::status::{SchedulerState, classify};
use crate::dask::Probe;
use crate::error::Result;
use crate::model::{Cluster, Handle, Origin, Resource, Role, Status};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Who made a cluster of jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Daskctl,
    Jobqueue,
    Gateway,
    /// A dask-mpi job: scheduler and workers are the ranks of one MPI job.
    DaskMpi,
}

/// The job-queue backends' typed record of a cluster (`Cluster::handle`): its jobs with their
/// states, as the queue showed them.
#[derive(Debug, Clone)]
pub struct QueueHandle {
    pub kind: Kind,
    /// daskctl's shared directory of the cluster.
    pub dir: Option<String>,
    /// Active jobs, and worker jobs that ended by themselves (state `Finished`).
    pub jobs: Vec<(Job, Role)>,
    /// Dask worker name -> job id (dask-jobqueue scripts name their worker).
    pub worker_names: Vec<(String, String)>,
    /// htcdaskgateway workers: the dask-gateway cluster they serve, where their command says.
    pub gateway_cluster: Option<String>,
    /// Worker job id -> its worker group, for jobs of a group beside the default one.
    pub job_groups: BTreeMap<String, String>,
    /// daskctl's instance id of the cluster (its jobs' markers, its directory's `instance`).
    pub instance: Option<String>,
}

impl QueueHandle {
    /// The worker group of job `id` (`default` unless its marker or name says another).
    pub fn group_of(&self, id: &str) -> &str {
        self.job_groups
            .get(id)
            .map_or(crate::groups::DEFAULT, String::as_str)
    }

    /// Jobs still in the queue or running (what there is to cancel).
    pub fn active(&self) -> impl Iterator<Item = &(Job, Role)> {
        self.jobs.iter().filter(|(j, _)| j.state.active())
    }
}

struct Group {
    name: String,
    kind: Kind,
    jobs: Vec<(Job, Role)>,
    address: Option<String>,
    dir: Option<String>,
    /// Dask worker name -> job id (dask-jobqueue scripts name their worker).
    worker_names: Vec<(String, String)>,
    gateway_cluster: Option<String>,
    job_groups: BTreeMap<String, String>,
    instance: Option<String>,
    /// A directory of daskctl's with no job (`leftover`): whether a create holds its lock.
    leftover: Option<Leftover>,
    /// A dask-mpi job's workers by its ranks.
    mpi_workers: Option<u64>,
}

/// A cluster directory of the caller's that no job of the queue belongs to.
#[derive(Debug, Clone, Copy)]
struct Leftover {
    /// A create holds its lock: it is being made, its jobs not submitted yet.
    being_created: bool,
    modified: Option<std::time::SystemTime>,
}

impl Group {
    fn new(name: &str, kind: Kind, address: Option<String>, dir: Option<String>) -> Group {
        Group {
            name: name.to_string(),
            kind,
            jobs: Vec::new(),
            address,
            dir,
            worker_names: Vec::new(),
            gateway_cluster: None,
            job_groups: BTreeMap::new(),
            instance: None,
            leftover: None,
            mpi_workers: None,
        }
    }
}

pub async fn discover<D: Dialect>(q: &JobQueue<D>) -> Result<Vec<Cluster>> {
    let jobs = q.dialect.list(&q.runner(), &q.dask_jobs()).await?;
    from_jobs(q, jobs, None).await
}

/// One cluster daskctl made, by name: only its jobs are asked for where the batch system can
/// filter by job name (`squeue --name`), and no dask-jobqueue script is read.
pub async fn find<D: Dialect>(q: &JobQueue<D>, name: &str) -> Result<Option<Cluster>> {
    let run = q.runner();
    let mut names = vec![format!("{name}-scheduler"), format!("{name}-worker")];
    // worker groups' jobs are named CLUSTER-worker-GROUP: the groups are the scripts beside
    names.extend(
        dir_groups(&q.shared_dir().join(name))
            .iter()
            .map(|g| super::script::worker_job_name(name, Some(g))),
    );
    let jobs = q.dialect.list(&run, &q.named_jobs(names)).await?;
    Ok(from_jobs(q, jobs, Some(name))
        .await?
        .into_iter()
        .find(|c| c.name == name))
}

/// Clusters from a queue listing; `only`: just daskctl's cluster of that name.
async fn from_jobs<D: Dialect>(
    q: &JobQueue<D>,
    listed: Vec<Job>,
    only: Option<&str>,
) -> Result<Vec<Cluster>> {
    let run = q.runner();
    let me = &q.ctx.user.name;
    // the caller's jobs, or the users the command names (`--all-users`, `-u`)
    let mine = |j: &Job| j.user.is_empty() || q.ctx.scope.includes(&j.user, me);
    // daskctl's worker jobs that ended by themselves, for clusters that still have active jobs
    let ended: Vec<(Job, Marker)> = q
        .dialect
        .finished(&run)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(mine)
        .filter_map(|j| j.marker.as_deref().and_then(Marker::decode).map(|m| (j, m)))
        .filter(|(_, m)| m.role == "worker")
        .collect();
    let mut groups = Groups::default();
    let jq_names = q.jobqueue_names();
    let mut jobqueue_jobs = Vec::new();
    let mut other_jobs = Vec::new();
    // what the queue shows queued or running: a remembered dask-mpi job not among them ended
    let active: HashSet<String> = listed
        .iter()
        .filter(|j| j.state.active())
        .map(|j| j.id.clone())
        .collect();
    for j in listed.into_iter().filter(|j| j.state.active() && mine(j)) {
        match place(q, &j, only) {
            Place::In(key, new, role) => groups.add(key, new, j, role, None),
            Place::InGroup(key, new, wg) => groups.add(key, new, j, Role::Worker, Some(wg)),
            Place::Skip => {}
            Place::Jobqueue if jq_names.contains(&j.name) || j.worker_name.is_some() => {
                jobqueue_jobs.push(j)
            }
            // any other job may be a dask-mpi cluster: its batch script says
            Place::Jobqueue => other_jobs.push(j),
        }
    }
    add_jobqueue_workers(q, &run, &mut groups, jobqueue_jobs).await;
    for found in super::mpi_discover::find(q, &run, other_jobs).await {
        groups.add_mpi(found);
    }
    if only.is_none() {
        groups.add_ended_mpi(super::mpi_ended::ended(q, &active, &q.dask_jobs()));
    }
    for (j, m) in ended {
        let key = GroupKey::new(&j.user, Kind::Daskctl, &m.cluster);
        if let Some(g) = groups.0.get_mut(&key) {
            if let Some(wg) = m.group {
                g.job_groups.insert(j.id.clone(), wg);
            }
            g.jobs.push((j, Role::Worker));
        }
    }
    groups.add_leftovers(leftovers(q, only), me);
    groups.read_daskctl_addresses();
    let probes = futures::future::join_all(groups.0.values().map(|g| async {
        match &g.address {
            Some(a) if g.kind != Kind::Gateway => Some(q.ctx.prober.status(a).await),
            _ => None,
        }
    }))
    .await;
    Ok(groups
        .0
        .into_values()
        .zip(probes)
        .map(|(g, p)| to_cluster(q, g, p))
        .collect())
}

/// The caller's cluster directories under the shared directory (`only`: that one), each
/// with whether a create holds its lock. A directory is a cluster's once it has its
/// `instance` (written by create with the lock held) or its scheduler script.
fn leftovers<D: Dialect>(q: &JobQueue<D>, only: Option<&str>) -> Vec<(String, PathBuf, Leftover)> {
    use std::os::unix::fs::MetadataExt;
    let shared = q.shared_dir();
    let names: Vec<String> = match only {
        Some(n) => vec![n.to_string()],
        None => std::fs::read_dir(&shared)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let me = q.ctx.user.uid;
    // the same listing shows the tombs interrupted deletes left (never cluster names)
    if only.is_none() {
        super::shared_dir::sweep(&shared, &names, me);
    }
    names
        .into_iter()
        .filter(|n| crate::names::validate(n).is_ok())
        .filter_map(|n| {
            let dir = shared.join(&n);
            // a link or another user's directory is nobody's cluster here
            let m = std::fs::symlink_metadata(&dir).ok()?;
            if !m.is_dir() || m.uid() != me {
                return None;
            }
            if !dir.join("instance").is_file() && !dir.join("scheduler.sh").is_file() {
                return None;
            }
            let being_created = matches!(crate::lockfile::try_lock(&dir.join("lock")), Ok(None));
            let leftover = Leftover {
                being_created,
                modified: m.modified().ok(),
            };
            Some((n, dir, leftover))
        })
        .collect()
}

/// Which cluster a job belongs to: daskctl's (by marker, or by name), dask-gateway's (by its
/// working directory), htcdaskgateway's (by the scheduler on its command line); a possible
/// dask-jobqueue worker (its batch script says); or none.
fn place<D: Dialect>(q: &JobQueue<D>, j: &Job, only: Option<&str>) -> Place {
    let marker = j
        .marker
        .as_deref()
        .and_then(Marker::decode)
        .or_else(|| name_marker(q, j));
    if let Some(m) = marker {
        if only.is_some_and(|n| n != m.cluster) {
            return Place::Skip;
        }
        let role = if m.role == "scheduler" {
            Role::Scheduler
        } else {
            Role::Worker
        };
        let dir = q.claimed_dir(&j.user, &m.cluster, &m.dir);
        let mut new = Group::new(&m.cluster, Kind::Daskctl, None, dir);
        new.instance = m.instance.clone();
        let key = GroupKey::new(&j.user, Kind::Daskctl, &m.cluster);
        return match m.group {
            Some(wg) if role == Role::Worker => Place::InGroup(key, new, wg),
            _ => Place::In(key, new, role),
        };
    }
    if only.is_some() {
        return Place::Skip;
    }
    if j.name == "dask-gateway" {
        let Some(cluster) = j
            .workdir
            .as_deref()
            .and_then(|w| Path::new(w).file_name())
            .map(|n| n.to_string_lossy().into_owned())
        else {
            return Place::Skip;
        };
        let scheduler = j
            .stdout
            .as_deref()
            .is_some_and(|o| o.contains("dask-scheduler-"));
        let role = if scheduler {
            Role::Scheduler
        } else {
            Role::Worker
        };
        let name = format!("gateway-{}", short(&cluster));
        let new = Group::new(&name, Kind::Gateway, None, None);
        return Place::In(GroupKey::new(&j.user, Kind::Gateway, &cluster), new, role);
    }
    if let Some(hw) = htcdask_worker(j) {
        // htcdaskgateway-style workers: their scheduler sits behind a gateway; grouped by the
        // gateway cluster they serve where the command says, else by the scheduler address
        let (id, name) = match (&hw.cluster, &hw.address) {
            (Some(c), _) => (c.clone(), format!("gateway-{}", short(c))),
            (None, Some(a)) => (a.clone(), format!("gateway-{}", port_of(a))),
            (None, None) => return Place::Skip,
        };
        let mut new = Group::new(&name, Kind::Gateway, hw.address.clone(), None);
        new.gateway_cluster = hw.cluster;
        return Place::In(
            GroupKey::new(&j.user, Kind::Gateway, &id),
            new,
            Role::Worker,
        );
    }
    Place::Jobqueue
}

/// dask-jobqueue workers: the scheduler lives in the user's Python process; its address is in
/// each worker's batch script (fetched once per job and cached: scripts never change).
async fn add_jobqueue_workers<D: Dialect>(
    q: &JobQueue<D>,
    run: &super::runner::Runner,
    groups: &mut Groups,
    jobs: Vec<Job>,
) {
    let cache = super::readback::script_cache(q);
    let scripts: Vec<(Job, Option<String>)> = stream::iter(jobs)
        .map(|j| {
            let run = run.clone();
            let cache = cache.clone();
            async move {
                let s = fetch_script(q, &run, &cache, &j).await;
                (j, s)
            }
        })
        // a bound: slurmctld serves each scontrol as one RPC
        .buffer_unordered(32)
        .collect()
        .await;
    for (j, s) in scripts {
        let Some(s) = s else { continue };
        let Some(addr) = script::scheduler_address(&s) else {
            continue;
        };
        let name = format!("jobqueue-{}", port_of(&addr));
        let worker = j.worker_name.clone().or_else(|| script::worker_name(&s));
        let key = GroupKey::new(&j.user, Kind::Jobqueue, &addr);
        let new = Group::new(&name, Kind::Jobqueue, Some(addr.clone()), None);
        let g = groups.0.entry(key).or_insert(new);
        if let Some(w) = worker {
            g.worker_names.push((w, j.id.clone()));
        }
        g.jobs.push((j, Role::Worker));
    }
}

/// What an htcdaskgateway worker job says of its cluster.
struct HtcdaskWorker {
    /// The dask-gateway cluster: `--scheduler-sni daskgateway-NAME`, or the argument before
    /// the worker's own name (`start.sh NAME htcdask-worker_$(Cluster)_$(Process)`).
    cluster: Option<String>,
    address: Option<String>,
}

/// An htcdaskgateway worker: its batch name, or a word of its command, starts with
/// `htcdask-worker` (htcdaskgateway's `scale_batch_workers` names them so).
fn htcdask_worker(j: &Job) -> Option<HtcdaskWorker> {
    let command = j.command.as_deref().unwrap_or_default();
    let words: Vec<&str> = command
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .filter(|w| !w.is_empty())
        .collect();
    let named = words.iter().position(|w| w.starts_with("htcdask-worker"));
    if !j.name.starts_with("htcdask-worker") && named.is_none() {
        return None;
    }
    let sni = words
        .iter()
        .find_map(|w| w.strip_prefix("daskgateway-"))
        .map(str::to_string);
    let before_name = named
        .filter(|i| *i > 0)
        .map(|i| words[i - 1])
        .filter(|w| !w.starts_with('-') && !w.contains('/') && !w.contains("://"))
        .map(str::to_string);
    Some(HtcdaskWorker {
        cluster: sni.or(before_name),
        address: script::scheduler_address(command),
    })
}

fn port_of(addr: &str) -> u16 {
    crate::dask::Address::parse(addr)
        .map(|a| a.port)
        .unwrap_or(0)
}

/// Where a job goes.
enum Place {
    /// Into the group of this key (made from the given one if it is the first job there).
    In(GroupKey, Group, Role),
    /// A worker of a worker group (beside the default one) of a daskctl cluster.
    InGroup(GroupKey, Group, String),
    /// A job that may be a dask-jobqueue worker: its batch script decides.
    Jobqueue,
    Skip,
}

/// What jobs are grouped by: the kind of cluster and what identifies it there (daskctl's
/// cluster name, dask-gateway's cluster directory, a scheduler address).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct GroupKey {
    /// Whose jobs (two users may each have a cluster of a name).
    user: String,
    kind: Kind,
    id: String,
}

impl GroupKey {
    fn new(user: &str, kind: Kind, id: &str) -> GroupKey {
        GroupKey {
            user: user.to_string(),
            kind,
            id: id.to_string(),
        }
    }
}

#[derive(Default)]
struct Groups(BTreeMap<GroupKey, Group>);

impl Groups {
    /// A dask-mpi job's cluster: the job holds its scheduler (and its workers).
    fn add_mpi(&mut self, f: super::mpi_discover::Found) {
        let key = GroupKey::new(&f.job.user, Kind::DaskMpi, &f.job.id);
        let mut g = Group::new(&f.name, Kind::DaskMpi, f.address, None);
        g.mpi_workers = f.workers;
        self.add(key, g, f.job, Role::Scheduler, None);
    }

    /// The caller's cluster directories that no job belongs to: being created, or leftovers.
    fn add_leftovers(&mut self, dirs: Vec<(String, PathBuf, Leftover)>, me: &str) {
        for (name, dir, leftover) in dirs {
            let has_jobs = self.0.iter().any(|(k, g)| {
                k.kind == Kind::Daskctl && g.name == name && (k.user == me || k.user.is_empty())
            });
            if has_jobs {
                continue;
            }
            let mut g = Group::new(
                &name,
                Kind::Daskctl,
                None,
                Some(dir.to_string_lossy().into_owned()),
            );
            g.instance = super::markers::dir_instance(&dir);
            g.leftover = Some(leftover);
            self.0.insert(GroupKey::new(me, Kind::Daskctl, &name), g);
        }
    }

    /// daskctl schedulers publish their address in the shared directory.
    fn read_daskctl_addresses(&mut self) {
        for g in self.0.values_mut().filter(|g| g.kind == Kind::Daskctl) {
            let running = g
                .jobs
                .iter()
                .any(|(j, r)| *r == Role::Scheduler && j.state == JobState::Running);
            if running {
                g.address = g
                    .dir
                    .as_deref()
                    .and_then(|d| read_scheduler_file(&PathBuf::from(d).join("scheduler.json")));
            }
        }
    }

    /// dask-mpi jobs that ended: listed stopped, with their output. One whose name another
    /// cluster of its owner's has (the same job script run again) is named with its job id.
    fn add_ended_mpi(&mut self, ended: Vec<super::mpi_ended::Record>) {
        let mut names: BTreeMap<(String, String), usize> = BTreeMap::new();
        let listed = self.0.iter().map(|(k, g)| (k.user.clone(), g.name.clone()));
        let remembered = ended.iter().map(|r| (r.user.clone(), r.cluster.clone()));
        for n in listed.chain(remembered) {
            *names.entry(n).or_default() += 1;
        }
        for r in ended {
            let job = r.ended_job();
            let name = if names[&(r.user.clone(), r.cluster.clone())] > 1 {
                super::mpi_discover::cluster_name(&job, true)
            } else {
                r.cluster.clone()
            };
            let key = GroupKey::new(&r.user, Kind::DaskMpi, &r.id);
            let mut g = Group::new(&name, Kind::DaskMpi, None, None);
            g.mpi_workers = r.workers;
            self.add(key, g, job, Role::Scheduler, None);
        }
    }

    pub(super) fn add(
        &mut self,
        key: GroupKey,
        new: Group,
        job: Job,
        role: Role,
        wg: Option<String>,
    ) {
        let instance = new.instance.clone();
        let g = self.0.entry(key).or_insert(new);
        // the scheduler's marker names the instance, whatever a worker's said
        if g.instance.is_none() || role == Role::Scheduler {
            g.instance = instance.or(g.instance.take());
        }
        if let Some(wg) = wg {
            g.job_groups.insert(job.id.clone(), wg);
        }
        g.jobs.push((job, role));
    }
}

/// Where a batch system drops job variables (Slurm's PBS wrappers show none), daskctl's jobs
/// are still known by their name, `CLUSTER-scheduler` / `CLUSTER-worker` /
/// `CLUSTER-worker-GROUP`, together with the cluster's scripts in the shared directory.
fn name_marker<D: Dialect>(q: &JobQueue<D>, j: &Job) -> Option<Marker> {
    let (cluster, role, group) = match j.name.rsplit_once('-')? {
        (c, r @ ("scheduler" | "worker")) => (c, r, None),
        _ => {
            let (c, g) = j.name.rsplit_once("-worker-")?;
            crate::groups::validate(g).ok()?;
            (c, "worker", Some(g.to_string()))
        }
    };
    crate::names::validate(cluster).ok()?;
    let dir = q.shared_dir().join(cluster);
    let script = super::script::script_file(group.as_deref());
    (dir.join("worker.sh").is_file() && dir.join(script).is_file()).then(|| Marker {
        cluster: cluster.to_string(),
        role: role.to_string(),
        group,
        instance: super::markers::dir_instance(&dir),
        dir: dir.to_string_lossy().into_owned(),
    })
}

/// The worker groups of a daskctl cluster by the scripts in its shared directory
/// (`worker-GROUP.sh`): a group scaled to zero is still one.
pub fn dir_groups(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let g = n.strip_prefix("worker-")?.strip_suffix(".sh")?.to_string();
            crate::groups::validate(&g).ok().map(|()| g)
        })
        .collect();
    v.sort();
    v
}

fn short(id: &str) -> String {
    id.chars().take(12).collect()
}

fn read_scheduler_file(p: &Path) -> Option<String> {
    let text = crate::safefile::read_to_string(p, None, crate::safefile::SMALL).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("address")?.as_str().map(str::to_string)
}

async fn fetch_script<D: Dialect>(
    q: &JobQueue<D>,
    run: &super::runner::Runner,
    cache: &Path,
    j: &Job,
) -> Option<String> {
    // where the queue shows the command line (HTCondor), that is the script
    if let Some(c) = j
        .command
        .as_ref()
        .filter(|c| script::scheduler_address(c).is_some())
    {
        return Some(c.clone());
    }
    if let Some(s) = super::readback::cached_script(cache, j) {
        return Some(s);
    }
    if !super::readback::can_read_scripts(q) {
        // no way to read the script back: a running worker's own log names its scheduler
        if q.dialect.facts().output_at_end {
            tracing::info!(
                "{}: dask-jobqueue job {}: its script cannot be read back (set backends.{}.script_command, e.g. \"printjob -s {{id}}\" where allowed) and its output file is written only when it ends: it cannot be tied to its scheduler yet",
                q.dialect.facts().name,
                j.id,
                q.dialect.facts().name
            );
        }
        // the path is the job owner's claim: read as them (root never opens it with its rights)
        let log = j.stdout.as_deref()?;
        let head =
            crate::backends::owner::read_as(&j.user, &q.ctx.user, Path::new(log), 64 << 10).await?;
        return script::from_worker_log(&head);
    }
    super::readback::read_script(q, run, cache, j).await
}

fn to_cluster<D: Dialect>(q: &JobQueue<D>, g: Group, probe: Option<Probe>) -> Cluster {
    let origin = match g.kind {
        Kind::Daskctl => Origin::Daskctl,
        Kind::Jobqueue => Origin::DaskJobqueue,
        Kind::Gateway => Origin::DaskGateway,
        Kind::DaskMpi => Origin::DaskMpi,
    };
    let mut c = Cluster::new(g.name.clone(), q.dialect.facts().name, origin);
    // whose jobs they are (a job the queue shows without a user is the caller's)
    c.owner = g
        .jobs
        .iter()
        .map(|(j, _)| j.user.clone())
        .find(|u| !u.is_empty())
        .or_else(|| Some(q.ctx.user.name.clone()));
    c.address = g.address.clone();
    c.created = g.jobs.iter().filter_map(|(j, _)| j.submitted).min();
    c.instance = g.instance.clone();
    if let Some(l) = g.leftover {
        return leftover_cluster(c, g, l);
    }
    for (j, role) in &g.jobs {
        c.resources.push(Resource {
            kind: "job",
            id: j.id.clone(),
            role: *role,
            state: j.native_state.clone(),
            name: Some(j.name.clone()),
            // what it asks for while queued or running; held only while it runs
            cores: j.cores.filter(|_| j.state.active()),
            started: j.started.filter(|_| j.state == JobState::Running),
            ..Default::default()
        });
    }
    let workers = |state: fn(&JobState) -> bool| {
        g.jobs
            .iter()
            .filter(|(j, r)| *r == Role::Worker && state(&j.state))
            .count() as u64
    };
    let counts = WorkerJobs {
        active: workers(|s| s.active()),
        running: workers(|s| *s == JobState::Running),
    };
    c.requested_workers = Some(counts.active);
    if g.kind == Kind::DaskMpi && scheduler_job(&g).is_some_and(JobState::active) {
        // its ranks, while the job is queued or runs
        c.requested_workers = g.mpi_workers;
    }
    let sched = scheduler_state(q, &mut c, &g, probe);
    if g.kind == Kind::Daskctl {
        let answered = matches!(sched, SchedulerState::Answering { .. });
        c.groups = group_counts(&g, &c, answered);
    }
    let (status, reason) = status_of(&g, &c, &sched, counts);
    if c.workers.is_none() {
        c.workers = Some(counts.running);
    }
    c.status = status;
    c.reason = reason;
    c.handle = Handle::new(handle_of(g));
    c
}

fn handle_of(g: Group) -> QueueHandle {
    QueueHandle {
        kind: g.kind,
        dir: g.dir,
        jobs: g.jobs,
        worker_names: g.worker_names,
        gateway_cluster: g.gateway_cluster,
        job_groups: g.job_groups,
        instance: g.instance,
    }
}

/// A directory of daskctl's with no job in the queue: a cluster being created (its create
/// holds the lock), or what a cluster left behind (stopped: `cleanup --orphaned` and `delete`
/// remove it; `create` of its name refuses until then).
fn leftover_cluster(mut c: Cluster, g: Group, l: Leftover) -> Cluster {
    c.created = l.modified;
    c.workers = Some(0);
    c.requested_workers = Some(0);
    let dir = g.dir.clone().unwrap_or_default();
    (c.status, c.reason) = if l.being_created {
        (
            Status::Pending,
            Some("being created: its jobs are being submitted".into()),
        )
    } else {
        (
            Status::Stopped,
            Some(format!(
                "no job of it is queued or running; its directory {dir} remains"
            )),
        )
    };
    c.handle = Handle::new(handle_of(g));
    c
}

/// A daskctl cluster's worker groups: the default one, those with scripts in its directory and
/// those its jobs name. Workers: the scheduler's (by their names), else the running jobs.
fn group_counts(g: &Group, c: &Cluster, answered: bool) -> Vec<crate::groups::GroupCount> {
    let mut names: Vec<String> = g
        .dir
        .as_deref()
        .map(|d| dir_groups(Path::new(d)))
        .unwrap_or_default();
    names.extend(g.job_groups.values().cloned());
    names.sort();
    names.dedup();
    let group_of = |id: &str| {
        g.job_groups
            .get(id)
            .map_or(crate::groups::DEFAULT, String::as_str)
    };
    std::iter::once(crate::groups::DEFAULT.to_string())
        .chain(names.iter().cloned())
        .map(|name| {
            let jobs = |state: fn(&JobState) -> bool| {
                g.jobs
                    .iter()
                    .filter(|(j, r)| {
                        *r == Role::Worker && state(&j.state) && group_of(&j.id) == name
                    })
                    .count() as u64
            };
            let workers = if answered {
                c.worker_details
                    .iter()
                    .filter(|w| crate::groups::of_detail(&c.name, w, &names) == name)
                    .count() as u64
            } else {
                jobs(|s| *s == JobState::Running)
            };
            crate::groups::GroupCount {
                workers: Some(workers),
                requested: Some(jobs(|s| s.active())),
                name,
            }
        })
        .collect()
}

/// Worker jobs in the queue (pending, held, running, completing) and running.
#[derive(Clone, Copy)]
struct WorkerJobs {
    active: u64,
    running: u64,
}

fn scheduler_job(g: &Group) -> Option<JobState> {
    g.jobs
        .iter()
        .find(|(_, r)| *r == Role::Scheduler)
        .map(|(j, _)| j.state)
}

/// The scheduler's state from its job (if it is one) and the probe's outcome; what the
/// scheduler said fills the cluster.
fn scheduler_state<D: Dialect>(
    q: &JobQueue<D>,
    c: &mut Cluster,
    g: &Group,
    probe: Option<Probe>,
) -> SchedulerState {
    // daskctl's and dask-gateway's schedulers are jobs: none in the queue, none running;
    // htcdaskgateway's workers have the gateway's scheduler, not a job here
    let gone = scheduler_job(g).is_none()
        && match g.kind {
            Kind::Daskctl => true,
            // htcdaskgateway workers: their scheduler is the gateway's (the gateway backend
            // says whether it lives); dask-gateway's batch jobs: the scheduler is a job here
            Kind::Gateway => g.address.is_none() && g.gateway_cluster.is_none(),
            Kind::Jobqueue => false,
            Kind::DaskMpi => true,
        };
    let unprobed = if gone {
        SchedulerState::Gone
    } else {
        SchedulerState::NotProbed
    };
    match probe {
        Some(Probe::Answered { info, idle }) => {
            crate::backends::status::fill_from_info(c, &info, idle);
            SchedulerState::Answering {
                connected: c.workers.unwrap_or(0),
            }
        }
        Some(Probe::Disabled { .. }) => SchedulerState::NotProbed,
        Some(p) => {
            let why = crate::backends::status::probe_failed(c, p.why().unwrap_or_default());
            match (g.kind, &g.address) {
                // the scheduler is a job here: it lives as long as the job runs
                (Kind::Daskctl | Kind::DaskMpi, _) => SchedulerState::Silent(why),
                // in someone's Python process: gone only when the network says so for sure
                (_, Some(addr)) => crate::backends::liveness::after_probe(&q.ctx, addr, &p),
                (_, None) => SchedulerState::Silent(why),
            }
        }
        None => unprobed,
    }
}

/// A dask-mpi job's status: its one job's state, then what its scheduler says (a job that runs
/// but whose scheduler does not answer is `unknown`, as a daskctl scheduler job's is).
fn mpi_status(g: &Group, c: &Cluster, sched: &SchedulerState) -> (Status, Option<String>) {
    let connected = c.workers.unwrap_or(0);
    match scheduler_job(g) {
        Some(JobState::Pending | JobState::Held) => {
            (Status::Pending, Some("the MPI job is queued".into()))
        }
        Some(JobState::Finished | JobState::Failed) => (
            Status::Stopped,
            Some("the MPI job ended (the queue no longer shows it); its output stays readable with `logs`".into()),
        ),
        Some(JobState::Completing) => (Status::Stopping, Some("the MPI job is ending".into())),
        _ if c.address.is_none() => (
            Status::Pending,
            Some("scheduler is starting (its address is not in the job's output yet)".into()),
        ),
        _ => match sched {
            SchedulerState::Answering { .. } => match g.mpi_workers {
                Some(e) if connected < e => (
                    Status::Degraded,
                    Some(format!("{connected} of {e} worker ranks connected")),
                ),
                _ => (Status::Running, None),
            },
            other => classify(other, 0, None),
        },
    }
}

/// Status and reason: queued worker jobs whose scheduler is gone will start and hold an
/// allocation (orphans); a daskctl scheduler job still queued or starting is pending; ended
/// worker jobs make a running cluster degraded.
fn status_of(
    g: &Group,
    c: &Cluster,
    sched: &SchedulerState,
    workers: WorkerJobs,
) -> (Status, Option<String>) {
    if g.kind == Kind::DaskMpi {
        return mpi_status(g, c, sched);
    }
    let queued = workers.active - workers.running;
    let (mut status, mut reason) = match sched {
        SchedulerState::Gone | SchedulerState::Unreachable(_) => {
            let why = match sched {
                SchedulerState::Unreachable(w) => format!("scheduler is gone ({w})"),
                _ => "scheduler is gone".to_string(),
            };
            if workers.active > 0 {
                let running = workers.running;
                let why = format!("{why}; {queued} worker job(s) queued, {running} running");
                (Status::Orphaned, Some(why))
            } else {
                let why = format!("{why}; no worker job runs or is queued");
                (Status::Stopped, Some(why))
            }
        }
        _ => classify(sched, workers.running, None),
    };
    if g.kind == Kind::Daskctl {
        match scheduler_job(g) {
            Some(JobState::Pending | JobState::Held) => {
                status = Status::Pending;
                reason = Some("scheduler job is queued".into());
            }
            Some(JobState::Running) if c.address.is_none() => {
                status = Status::Pending;
                reason = Some("scheduler is starting".into());
            }
            // exiting (PBS `E`, Slurm `CG`): whatever its workers do, it is going
            Some(JobState::Completing) => {
                status = Status::Stopping;
                reason = Some("the scheduler job is ending".into());
            }
            _ => {}
        }
    }
    let ended = g
        .jobs
        .iter()
        .filter(|(j, _)| j.state == JobState::Finished)
        .count();
    if ended > 0 && status == Status::Running {
        status = Status::Degraded;
        reason = Some(format!("{ended} worker job(s) ended"));
    }
    if g.jobs.iter().all(|(j, _)| j.state == JobState::Completing) {
        status = Status::Stopping;
        reason = Some("all jobs are completing".into());
    }
    (status, reason)
}
