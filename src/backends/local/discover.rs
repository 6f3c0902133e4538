//! Local discovery: daskctl's own clusters from their state directories, plus every other Dask
//! scheduler (and stray worker) of the current user on this machine, found from the listening
//! sockets of the user's Python processes in /proc and confirmed with the protocol handshake.
//!
//! Nothing Dask-shaped is dropped: a scheduler process that cannot be asked (stopped by a
//! signal, silent, TLS that fails) is listed as `unknown` with the reason, and processes
//! daskctl started carry markers in their environment, so a cluster whose state was lost,
//! corrupted or never finished (an interrupted `create`) is rebuilt from them.

use super::Local;
use super::early::{Ahead, Asked, Early, Endpoint};
use super::handle::{Found, Kind, LocalHandle};
use super::procfs::{self, ProcInfo};
use super::spawn::{ENV_CLUSTER, ENV_HOME, ENV_ROLE, ENV_WORKER};
use super::state::{ClusterState, Phase, StateDir, Unusable};
use crate::backends::liveness::{after_probe, stopped_reason};
use crate::backends::owner;
use crate::backends::status::fill_from_info;
use crate::backends::status::{SchedulerState, classify};
use crate::dask::{Address, Identity, Probe};
use crate::error::ProbeFault;
use crate::error::{Error, Result};
use crate::model::{Cluster, Handle, Origin, Resource, Role, Status};
use crate::units::epoch_secs;
use futures::future::join_all;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

pub const BACKEND: &str = "local";
type Loaded = std::result::Result<Option<ClusterState>, Unusable>;
/// What a process said on one of its ports.
type Said = (Address, Result<(Identity, Option<f64>)>);

/// One look at this machine: the user's state directories and Dask-like processes.
pub struct Scan {
    pub home: String,
    pub dirs: Vec<(StateDir, Loaded)>,
    pub procs: Vec<ProcInfo>,
    /// The policies of the clusters, where the owner's child read them (another user's
    /// clusters, as root): cluster name -> policy or why it could not be read.
    pub policies: BTreeMap<String, std::result::Result<crate::policy::Policy, String>>,
    /// State directories an interrupted delete left half-removed (the caller's own).
    pub tombs: Vec<super::state::Tomb>,
    /// Clusters of this user's that daskctl started under another state root: by root, their
    /// names (not listed here; `list` says they exist).
    pub other_roots: BTreeMap<String, Vec<String>>,
    /// Whose processes these are; and whether root reads them for that other user, whose
    /// state is then their claim (`probe_own` checks it against the kernel's facts).
    pub uid: u32,
    pub for_other: bool,
    /// Their schedulers, asked before their state was read (`early.rs`).
    pub asked: std::sync::Mutex<Vec<(Endpoint, Asked)>>,
    /// The endpoints asked for that other user (for the next listing to ask early).
    pub probed: std::sync::Mutex<Vec<Endpoint>>,
}

impl Scan {
    pub async fn take(b: &Local) -> Result<Scan> {
        Scan::take_from(b, None, Ahead::default()).await
    }

    /// `all`: every user's processes as one pass over /proc read them (a listing of several
    /// users' clusters); None: this user's, read now. `early`: what was started for another
    /// user before (`early.rs`): the child reading their state, their schedulers asked.
    pub async fn take_from(
        b: &Local,
        all: Option<Arc<Vec<ProcInfo>>>,
        early: Ahead,
    ) -> Result<Scan> {
        let root = b.ctx.config.state_root();
        let uid = b.ctx.user.uid;
        // another user's state, as root: read by a child that is them (owner.rs); root itself
        // reads only /proc
        let for_other = uid != nix::unistd::geteuid().as_raw() && owner::can_switch();
        let by_owner = if for_other {
            let o = owner::Owner {
                user: b.ctx.user.clone(),
                root: root.clone(),
            };
            let states = match early.states {
                Some(answer) => answer.await,
                None => owner::states(&o, super::early::WITHIN).await,
            };
            match states {
                Ok(states) => Some(states),
                // their processes are still listed (from their markers), never hidden
                Err(e) => {
                    tracing::warn!("local: state of user {}: {e}", b.ctx.user.name);
                    Some(Vec::new())
                }
            }
        } else {
            None
        };
        let mut scan = tokio::task::spawn_blocking(move || Scan::read(&root, uid, by_owner, all))
            .await
            .map_err(|e| Error::backend(BACKEND, format!("scanning /proc: {e}")))??;
        scan.asked = std::sync::Mutex::new(early.asked);
        Ok(scan)
    }

    fn read(
        root: &std::path::Path,
        uid: u32,
        by_owner: Option<Vec<owner::OwnState>>,
        all: Option<Arc<Vec<ProcInfo>>>,
    ) -> Result<Scan> {
        let home = root.to_string_lossy().into_owned();
        let for_other = by_owner.is_some();
        let mut policies = BTreeMap::new();
        let tombs = match by_owner {
            None => super::state::Tomb::all(root, uid),
            Some(_) => Vec::new(),
        };
        let dirs = match by_owner {
            None => own_dirs(root, uid)?,
            Some(states) => {
                let mut dirs = Vec::new();
                for s in states {
                    // the name is the child's word: checked before a path is formed from it
                    let Ok(d) = StateDir::new(root, &s.name) else {
                        continue;
                    };
                    policies.insert(s.name, s.policy);
                    dirs.push((d, s.state));
                }
                dirs
            }
        };
        let theirs: Vec<ProcInfo> = match all {
            Some(all) => all.iter().filter(|p| p.uid == uid).cloned().collect(),
            None => procfs::scan(uid),
        };
        let other_roots = under_other_roots(&theirs, &home);
        let procs = theirs
            .into_iter()
            // another daskctl state root (another configuration) manages it
            .filter(|p| p.marker(ENV_HOME).is_none_or(|h| h == home))
            .collect();
        Ok(Scan {
            home,
            dirs,
            procs,
            policies,
            tombs,
            other_roots,
            uid,
            for_other,
            asked: Default::default(),
            probed: Default::default(),
        })
    }

    /// Processes daskctl started for cluster `name` under this state root. Their children
    /// inherit the markers (a nanny's worker process): those are left out, the one daskctl
    /// started stands for them.
    pub fn marked<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a ProcInfo> + 'a {
        let is_marked =
            move |p: &ProcInfo| p.marker(ENV_HOME).is_some() && p.marker(ENV_CLUSTER) == Some(name);
        self.procs.iter().filter(move |p| {
            is_marked(p) && !self.procs.iter().any(|q| q.pid == p.ppid && is_marked(q))
        })
    }
}

/// The state directories under `root` that `uid` owns, each with its state.
fn own_dirs(root: &std::path::Path, uid: u32) -> Result<Vec<(StateDir, Loaded)>> {
    let mut dirs = Vec::new();
    for d in StateDir::all(root)? {
        // another user's cluster (a state directory pointed at theirs) is not ours to show
        if d.owner_uid() != Some(uid) {
            tracing::debug!("{}: owned by another user, skipped", d.path.display());
            continue;
        }
        let loaded = d.load();
        dirs.push((d, loaded));
    }
    Ok(dirs)
}

/// This user's state directories with their states and policies, as `__as-owner` answers
/// root's listing (`owner::states`).
pub fn own_states(root: &std::path::Path, uid: u32) -> Result<Vec<owner::OwnState>> {
    Ok(own_dirs(root, uid)?
        .into_iter()
        .map(|(d, state)| owner::OwnState {
            name: d.name().to_string(),
            state,
            policy: crate::policy::PolicyFile::in_dir(&d.path)
                .read()
                .map_err(|e| e.to_string()),
        })
        .collect())
}

/// A state that describes a cluster daskctl made (not only workers it attached elsewhere).
fn is_own(st: &ClusterState) -> bool {
    st.scheduler.is_some() || st.phase == Phase::Creating
}

pub async fn discover(b: &Local) -> Result<Vec<Cluster>> {
    // several users' clusters: one pass over /proc serves them all, while the users the last
    // listing found have their state read
    let mut early = Early::default();
    let all = if b.ctx.scope.beyond_me() {
        // the pass starts first: the children's start (their groups, fork and exec) overlaps it
        let pass = tokio::task::spawn_blocking(procfs::scan_all);
        early = Early::start(b);
        let procs = pass
            .await
            .map_err(|e| Error::backend(BACKEND, format!("scanning /proc: {e}")))?;
        early.ask_ahead(b, &procs);
        Some(Arc::new(procs))
    } else {
        None
    };
    // other users' (`--all-users`, `-u`), each through a view of the backend as them, looked
    // at while the caller's own are read and probed (their owner's child and their probes
    // overlap the caller's)
    let own = async {
        let scan = Scan::take_from(b, all.clone(), Ahead::default()).await?;
        b.remember_notes(other_roots_notes(&scan.other_roots));
        Ok::<_, Error>(build(b, &scan).await)
    };
    let (found, theirs) = tokio::join!(own, others_clusters(b, all.clone(), early));
    let mut found = found?;
    // a user's processes daskctl did not start are in each of their views (every state root
    // of theirs): listed once
    let mut seen = HashSet::new();
    for c in theirs? {
        if seen.insert((c.owner.clone(), c.name.clone(), c.address.clone())) {
            found.push(c);
        }
    }
    found.iter_mut().for_each(finish);
    Ok(found)
}

/// Other users' clusters (none unless `all`, every user's processes, was read): each user's
/// through a view of the backend as them, all at once, in the order of `users::others`.
async fn others_clusters(
    b: &Local,
    all: Option<Arc<Vec<ProcInfo>>>,
    mut early: Early,
) -> Result<Vec<Cluster>> {
    let Some(all) = all else {
        return Ok(Vec::new());
    };
    let others = tokio::task::spawn_blocking({
        let b = b.clone();
        let all = all.clone();
        let before = std::mem::take(&mut early.hints);
        move || {
            let others = super::users::others(&b, &all);
            super::early::remember(&b, &before, &others);
            others
        }
    })
    .await
    .unwrap_or_default();
    let read: Vec<u32> = others.iter().map(|(u, _)| u.uid).collect();
    let per_user = join_all(others.into_iter().map(|(user, root)| {
        let all = all.clone();
        let ahead = early.take(user.uid, &root);
        async move {
            let theirs = super::users::view(b, user, root);
            let scan = Scan::take_from(&theirs, Some(all), ahead).await?;
            b.policies_read_by_owners
                .lock()
                .expect("not poisoned")
                .extend(
                    scan.policies
                        .iter()
                        .map(|(n, p)| ((theirs.ctx.user.name.clone(), n.clone()), p.clone())),
                );
            let clusters = build(&theirs, &scan).await;
            let probed = std::mem::take(&mut *scan.probed.lock().expect("not poisoned"));
            Ok::<_, Error>((clusters, probed))
        }
    }))
    .await;
    let mut out = Vec::new();
    let mut asked = Vec::new();
    for r in per_user {
        let (clusters, probed) = r?;
        out.extend(clusters);
        asked.extend(probed);
    }
    super::early::remember_endpoints(b, &early.endpoints, &asked, &read, &all);
    Ok(out)
}

/// What every local cluster gets last: the cores of a hosted one, and its host (this one,
/// unless it runs on another node).
fn finish(c: &mut Cluster) {
    hosted_cores(c);
    if c.host.is_none() {
        c.host = Some(crate::host::Node::this().hostname.clone());
    }
}

/// A cluster hosted inside a Python program (a `LocalCluster` in a notebook) has no `dask
/// worker` commands to read cores from: its program holds the threads its scheduler reports.
fn hosted_cores(c: &mut Cluster) {
    if c.resources.iter().any(|r| r.cores.is_some()) {
        return;
    }
    let Some(threads) = c.threads.filter(|t| *t > 0) else {
        return;
    };
    if let Some(r) = c
        .resources
        .iter_mut()
        .find(|r| r.kind == "process" && r.state == "running")
    {
        r.cores = Some(threads as f64);
    }
}

/// One cluster by name: daskctl's own from its state without probing anything else.
pub async fn find(b: &Local, name: &str) -> Result<Option<Cluster>> {
    let scan = Scan::take(b).await?;
    let own = scan
        .dirs
        .iter()
        .find(|(d, l)| d.name() == name && matches!(l, Ok(Some(st)) if is_own(st)));
    if let Some((dir, Ok(Some(st)))) = own {
        let probed = probe_own(b, &scan, st).await;
        return Ok(Some(own_cluster(b, &scan, dir, st, probed)));
    }
    let mut found = build(b, &scan).await.into_iter().find(|c| c.name == name);
    found.iter_mut().for_each(finish);
    if found.is_none() && b.ctx.scope.beyond_me() {
        // another user's, where the command names them
        return Ok(discover(b).await?.into_iter().find(|c| c.name == name));
    }
    Ok(found)
}

async fn build(b: &Local, scan: &Scan) -> Vec<Cluster> {
    let dirs = Dirs::of(scan);
    // processes of a usable own or attached state are known without asking; with
    // `scan = false` only daskctl's own processes are looked at
    let looked_at =
        |p: &&ProcInfo| !dirs.knows(p) && (b.scan_enabled() || p.marker(ENV_HOME).is_some());
    // every probe at once: own schedulers, and each listening port of the other processes
    // that can answer (a stopped process cannot; it is not asked)
    let own_probes = join_all(dirs.own.iter().map(|(_, st)| probe_own(b, scan, st)));
    let sniffable: Vec<&ProcInfo> = scan
        .procs
        .iter()
        .filter(|p| !p.stopped())
        .filter(looked_at)
        .collect();
    let (own_probed, answers) = futures::join!(own_probes, sniff_all(b, &sniffable));

    let mut clusters: Vec<Cluster> = dirs
        .own
        .iter()
        .zip(own_probed)
        .map(|((d, st), p)| own_cluster(b, scan, d, st, p))
        .collect();
    clusters.extend(scan.tombs.iter().map(|t| tomb_cluster(b, t)));
    let stopped = scan.procs.iter().filter(|p| p.stopped()).filter(looked_at);
    let (mut schedulers, workers) = identify(b, scan, &sniffable, &answers, stopped);
    let mut claimed = join_workers(scan, &mut schedulers, &workers, &dirs.attached);
    clusters.append(&mut schedulers);

    // state directories that could not be used, and whose scheduler was not found running
    for (dir, loaded) in &scan.dirs {
        let unusable = match loaded {
            Err(u) => Some(u.clone()),
            Ok(None) => None,
            Ok(Some(_)) => continue,
        };
        if clusters.iter().any(|c| c.name == dir.name()) {
            continue;
        }
        clusters.push(broken_cluster(
            b,
            scan,
            dir,
            unusable,
            &workers,
            &mut claimed,
        ));
    }
    for s in strays(b, scan, &clusters, &workers, &claimed, &dirs.attached).await {
        // the same scheduler reached at another of this machine's addresses (one listening
        // on every interface, its workers joined through 127.0.0.1): its workers are that
        // cluster's, never a second cluster
        let same = s.scheduler_id.as_ref().and_then(|id| {
            clusters
                .iter_mut()
                .find(|c| c.scheduler_id.as_ref() == Some(id))
        });
        match same {
            Some(c) => absorb(c, s),
            None => clusters.push(s),
        }
    }
    clusters.extend(leftovers(b, scan, &clusters, &workers, &mut claimed));
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    clusters
}

/// The usable state directories: daskctl's own clusters, and workers it attached elsewhere.
struct Dirs<'a> {
    own: Vec<(&'a StateDir, &'a ClusterState)>,
    attached: Vec<(&'a StateDir, &'a ClusterState)>,
}

impl<'a> Dirs<'a> {
    fn of(scan: &'a Scan) -> Dirs<'a> {
        let (own, attached) = scan
            .dirs
            .iter()
            .filter_map(|(d, l)| match l {
                Ok(Some(st)) => Some((d, st)),
                _ => None,
            })
            .partition(|(_, st)| is_own(st));
        Dirs { own, attached }
    }

    /// A process of one of these clusters: known from the state, not asked.
    fn knows(&self, p: &ProcInfo) -> bool {
        p.marker(ENV_CLUSTER)
            .filter(|_| p.marker(ENV_HOME).is_some())
            .is_some_and(|n| {
                self.own
                    .iter()
                    .chain(&self.attached)
                    .any(|(d, _)| d.name() == n)
            })
    }
}

/// What each process said on each of its listening ports.
async fn sniff_all(b: &Local, procs: &[&ProcInfo]) -> BTreeMap<i32, Vec<Said>> {
    let candidates: Vec<(i32, Address)> = procs
        .iter()
        .flat_map(|p| {
            p.listening.iter().map(move |(ip, port)| {
                let a = Address {
                    tls: false,
                    host: procfs::reach(*ip).to_string(),
                    port: *port,
                };
                (p.pid, a)
            })
        })
        .collect();
    // -v: the ports of your Python processes that are asked whether they are Dask
    tracing::info!(
        "local: {} process(es) of yours, {} listening port(s) sniffed{}",
        procs.len(),
        candidates.len(),
        if candidates.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                candidates
                    .iter()
                    .map(|(pid, a)| format!("{}:{} (pid {pid})", a.host, a.port))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let sniffed = join_all(candidates.iter().map(|(_, a)| b.ctx.prober.sniff(a))).await;
    let mut answers: BTreeMap<i32, Vec<Said>> = BTreeMap::new();
    for ((pid, a), r) in candidates.into_iter().zip(sniffed) {
        answers.entry(pid).or_default().push((a, r));
    }
    answers
}

/// From what the processes said (or, stopped, their command lines): the schedulers, each a
/// cluster, and the workers with the scheduler address each belongs to.
fn identify<'a>(
    b: &Local,
    scan: &Scan,
    sniffable: &[&'a ProcInfo],
    answers: &BTreeMap<i32, Vec<Said>>,
    stopped: impl Iterator<Item = &'a ProcInfo>,
) -> (Vec<Cluster>, Vec<(&'a ProcInfo, String)>) {
    let mut schedulers: Vec<Cluster> = Vec::new();
    let mut workers: Vec<(&ProcInfo, String)> = Vec::new();
    for p in sniffable {
        let said = answers.get(&p.pid).map(Vec::as_slice).unwrap_or(&[]);
        let sched = said.iter().find_map(|(_, r)| match r {
            Ok((Identity::Scheduler(info), idle)) => Some((info, *idle)),
            _ => None,
        });
        if let Some((info, idle)) = sched {
            let probed = Probe::Answered {
                info: info.clone(),
                idle,
            };
            schedulers.push(scheduler_cluster(b, scan, p, &info.address, probed));
            continue;
        }
        let worker_of = said.iter().find_map(|(_, r)| match r {
            Ok((Identity::Worker { scheduler, .. }, _)) => Some(scheduler.clone()),
            // a nanny does not say its scheduler; its command line does (a nanny still waiting
            // to register is how a worker whose scheduler is gone looks)
            Ok((Identity::Other(kind), _))
                if kind == "Nanny" || kind == crate::dask::probe::STARTING =>
            {
                p.scheduler_arg()
            }
            _ => None,
        });
        if let Some(s) = worker_of {
            workers.push((p, s));
        } else if dask_scheduler_shaped(p) {
            // a scheduler process that did not say so: list it, with why
            let (addr, why) = unanswered(p, said);
            schedulers.push(scheduler_cluster(b, scan, p, &addr, why));
        } else if p.marker(ENV_ROLE) == Some("worker")
            && let Some(s) = p.scheduler_arg()
        {
            workers.push((p, s));
        }
    }
    // stopped processes were not asked: the Dask-shaped ones are listed all the same
    for p in stopped {
        if dask_scheduler_shaped(p) {
            let (addr, _) = unanswered(p, &[]);
            let why = Probe::failed(stopped_reason(p.pid));
            schedulers.push(scheduler_cluster(b, scan, p, &addr, why));
        } else if (p.is_cli("worker") || p.marker(ENV_ROLE) == Some("worker"))
            && let Some(s) = p.scheduler_arg()
        {
            workers.push((p, s));
        }
    }
    (schedulers, workers)
}

/// Workers join their scheduler's cluster: by marker for daskctl's own, else by address; and
/// workers daskctl attached to a scheduler found here join it too. The workers claimed.
fn join_workers(
    scan: &Scan,
    schedulers: &mut [Cluster],
    workers: &[(&ProcInfo, String)],
    attached: &[(&StateDir, &ClusterState)],
) -> HashSet<i32> {
    let mut claimed: HashSet<i32> = HashSet::new();
    for c in schedulers.iter_mut() {
        for (wp, sched) in workers {
            let marked_here = wp.marker(ENV_CLUSTER) == Some(c.name.as_str())
                && wp.marker(ENV_HOME).is_some()
                && c.origin == Origin::Daskctl;
            let by_address = c
                .address
                .as_deref()
                .is_some_and(|a| same_scheduler(a, sched));
            if marked_here || by_address {
                add_worker(c, scan, wp);
                claimed.insert(wp.pid);
            }
        }
        for (dir, st) in attached {
            if st
                .address
                .as_deref()
                .zip(c.address.as_deref())
                .is_some_and(|(a, b)| same_scheduler(a, b))
            {
                add_attached(c, scan, dir, st);
            }
        }
    }
    claimed
}

/// Workers (found, or attached by daskctl) whose scheduler was not found on this machine,
/// one cluster per scheduler address, each address probed.
async fn strays(
    b: &Local,
    scan: &Scan,
    listed: &[Cluster],
    workers: &[(&ProcInfo, String)],
    claimed: &HashSet<i32>,
    attached: &[(&StateDir, &ClusterState)],
) -> Vec<Cluster> {
    let mut strays: BTreeMap<String, Vec<&ProcInfo>> = BTreeMap::new();
    for (wp, sched) in workers {
        if !claimed.contains(&wp.pid) {
            strays.entry(sched.clone()).or_default().push(wp);
        }
    }
    let stray_attached: Vec<&(&StateDir, &ClusterState)> = attached
        .iter()
        .filter(|(_, st)| {
            !listed.iter().any(|c| {
                c.address
                    .as_deref()
                    .zip(st.address.as_deref())
                    .is_some_and(|(a, b)| same_scheduler(a, b))
            })
        })
        .collect();
    for (_, st) in &stray_attached {
        if let Some(a) = &st.address {
            strays.entry(a.clone()).or_default();
        }
    }
    let remote = join_all(strays.keys().map(|a| b.ctx.prober.status(a))).await;
    strays
        .iter()
        .zip(remote)
        .map(|((addr, wps), probed)| stray_cluster(b, scan, addr, wps, &stray_attached, probed))
        .collect()
}

/// daskctl's processes that nothing above listed, with their state directory gone: a nanny's
/// worker child whose nanny was killed (its command line names no scheduler, and on its way
/// out it may not answer). Listed under the cluster their markers name, never hidden.
fn leftovers(
    b: &Local,
    scan: &Scan,
    listed: &[Cluster],
    workers: &[(&ProcInfo, String)],
    claimed: &mut HashSet<i32>,
) -> Vec<Cluster> {
    let shown: HashSet<String> = listed
        .iter()
        .flat_map(|c| c.resources.iter().map(|r| r.id.clone()))
        .collect();
    let names: std::collections::BTreeSet<&str> = scan
        .procs
        .iter()
        .filter(|p| p.marker(ENV_HOME).is_some() && !shown.contains(&p.pid.to_string()))
        .filter_map(|p| p.marker(ENV_CLUSTER))
        .filter(|n| !listed.iter().any(|c| c.name == *n))
        .collect();
    let root = b.ctx.config.state_root();
    names
        .into_iter()
        .filter_map(|n| StateDir::new(&root, n).ok())
        .filter(|d| scan.marked(d.name()).next().is_some())
        .map(|d| broken_cluster(b, scan, &d, None, workers, claimed))
        .collect()
}

/// The status probe of a daskctl scheduler that runs and is not stopped.
async fn probe_own(b: &Local, scan: &Scan, st: &ClusterState) -> Probe {
    // its address is another machine's loopback, or a port there: asked from there only
    if let Some(n) = st.elsewhere() {
        return Probe::failed(format!("it runs on {}", n.hostname));
    }
    let sched = own_scheduler(scan, st);
    match (&st.address, sched) {
        (_, Some(s)) if s.stopped => Probe::failed(stopped_reason(s.pid)),
        (Some(a), Some(s)) if scan.for_other => probe_theirs(b, scan, &s, a).await,
        (Some(a), Some(_)) => b.ctx.prober.status(a).await,
        (None, Some(_)) => Probe::failed("the scheduler has not written its address yet"),
        (_, None) => Probe::failed("scheduler not running"),
    }
}

/// Another user's scheduler, as root: their state's address is their claim, asked only at a
/// socket the kernel says their scheduler process listens on at that port (never where the
/// claim's host points), and answered early where that endpoint was asked (`early.rs`).
async fn probe_theirs(b: &Local, scan: &Scan, s: &Found, address: &str) -> Probe {
    let Some(endpoint) = listened_at(scan, s.pid, address) else {
        return Probe::failed(format!(
            "{address} is not an address its scheduler process (pid {}) listens on",
            s.pid
        ));
    };
    let e = Endpoint {
        uid: scan.uid,
        pid: s.pid,
        start: s.start,
        endpoint,
    };
    scan.probed.lock().expect("not poisoned").push(e.clone());
    let early = {
        let mut asked = scan.asked.lock().expect("not poisoned");
        asked
            .iter()
            .position(|(a, _)| *a == e)
            .map(|i| asked.swap_remove(i).1)
    };
    match early {
        Some(answer) => answer.await,
        None => b.ctx.prober.status(&e.endpoint).await,
    }
}

/// The endpoint at which process `pid` of the scan listens on the port of `address` (the
/// address's own IP where it listens there too); None if it does not listen on that port.
fn listened_at(scan: &Scan, pid: i32, address: &str) -> Option<String> {
    let a = Address::parse(address).ok()?;
    let p = scan.procs.iter().find(|p| p.pid == pid)?;
    let on_port = || p.listening.iter().filter(|(_, port)| *port == a.port);
    let claimed: Option<std::net::IpAddr> = a.host.parse().ok();
    let (ip, port) = on_port()
        .find(|(ip, _)| Some(procfs::reach(*ip)) == claimed)
        .or_else(|| on_port().next())?;
    Some(super::early::endpoint_of(a.tls, *ip, *port))
}

/// The scheduler process of a daskctl cluster: the recorded one if it lives, else one that
/// carries the cluster's markers (started before the state could record it). Another user's
/// recorded pid is their claim: it stands only for a process of theirs this scan found.
fn own_scheduler(scan: &Scan, st: &ClusterState) -> Option<Found> {
    if let Some(s) = &st.scheduler
        && let Some(stat) = procfs::live(s.pid, Some(s.start))
        && (!scan.for_other
            || scan
                .procs
                .iter()
                .any(|p| p.pid == s.pid && p.start == s.start))
    {
        return Some(Found {
            pid: s.pid,
            start: s.start,
            cli: true,
            marked: true,
            stopped: stat.stopped(),
            name: Some("scheduler".into()),
            cmd: "dask scheduler".into(),
        });
    }
    scan.marked(&st.name)
        .find(|p| p.marker(ENV_ROLE) == Some("scheduler"))
        .map(|p| found(p, true))
}

fn found(p: &ProcInfo, marked: bool) -> Found {
    Found {
        pid: p.pid,
        start: p.start,
        cli: p.is_cli("scheduler") || p.is_cli("worker"),
        marked,
        stopped: p.stopped(),
        name: p
            .marker(ENV_WORKER)
            .map(str::to_string)
            .or_else(|| p.arg("--name").map(str::to_string)),
        cmd: p.short_cmd(),
    }
}

fn proc_resource(f: &Found, role: Role, alive: bool) -> Resource {
    let state = match (alive, f.stopped) {
        (false, _) => "dead",
        (true, true) => "stopped",
        (true, false) => "running",
    };
    Resource {
        kind: "process",
        id: f.pid.to_string(),
        role,
        state: state.to_string(),
        name: f.name.clone().or_else(|| Some(f.cmd.clone())),
        cores: alive
            .then(|| procfs::cores_of(&procfs::cmdline(f.pid)))
            .flatten(),
        started: alive.then(|| procfs::started_at(f.start)).flatten(),
        ..Default::default()
    }
}

/// The scheduler's process: live as the scan found it, else as the state recorded it (dead).
fn scheduler_resource(sched: Option<&Found>, st: &ClusterState) -> Option<Resource> {
    if let Some(s) = sched {
        return Some(proc_resource(s, Role::Scheduler, true));
    }
    let s = st.scheduler.as_ref()?;
    let dead = Found {
        pid: s.pid,
        start: s.start,
        cli: true,
        marked: true,
        stopped: false,
        name: Some("scheduler".into()),
        cmd: "dask scheduler".into(),
    };
    Some(proc_resource(&dead, Role::Scheduler, false))
}

/// The cluster's worker processes, recorded and marked, as resources of `c`; the live ones
/// and how many live.
fn own_workers(c: &mut Cluster, scan: &Scan, st: &ClusterState) -> (Vec<Found>, u64) {
    let mut workers: Vec<Found> = Vec::new();
    let mut alive = 0u64;
    for w in &st.workers {
        let stat = procfs::live(w.pid, Some(w.start));
        let f = Found {
            pid: w.pid,
            start: w.start,
            cli: true,
            marked: true,
            stopped: stat.is_some_and(|s| s.stopped()),
            name: Some(w.name.clone()),
            cmd: "dask worker".into(),
        };
        alive += stat.is_some() as u64;
        c.resources
            .push(proc_resource(&f, Role::Worker, stat.is_some()));
        if stat.is_some() {
            workers.push(f);
        }
    }
    let recorded: HashSet<i32> = st.workers.iter().map(|w| w.pid).collect();
    for p in scan.marked(&st.name) {
        if p.marker(ENV_ROLE) == Some("worker") && !recorded.contains(&p.pid) {
            let f = found(p, true);
            alive += 1;
            c.resources.push(proc_resource(&f, Role::Worker, true));
            workers.push(f);
        }
    }
    (workers, alive)
}

/// A cluster whose create has not finished: pending while its creator lives, else orphaned.
fn being_created(st: &ClusterState) -> (Status, Option<String>) {
    match st.creator {
        Some(cr) if procfs::alive(cr.pid, Some(cr.start)) => (
            Status::Pending,
            Some(format!("being created by daskctl (process {})", cr.pid)),
        ),
        _ => (
            Status::Orphaned,
            Some(format!(
                "its create was interrupted; remove it with: daskctl delete local/{}",
                st.name
            )),
        ),
    }
}

/// daskctl's own cluster from its (usable) state, with any worker started but not yet
/// recorded (an interrupted `scale`) found by its markers.
fn own_cluster(
    b: &Local,
    scan: &Scan,
    dir: &StateDir,
    st: &ClusterState,
    probed: Probe,
) -> Cluster {
    let mut c = Cluster::new(st.name.clone(), BACKEND, Origin::Daskctl);
    c.created = epoch_secs(st.created);
    c.owner = Some(b.ctx.user.name.clone());
    c.address = st.address.clone();
    c.dashboard = st.dashboard.clone();
    c.idle_timeout = st.idle_timeout;
    c.instance = st.instance.clone();
    if let Some(node) = st.elsewhere() {
        return elsewhere_cluster(c, dir, st, node);
    }
    c.host = Some(crate::host::Node::this().hostname.clone());
    let sched = own_scheduler(scan, st);
    c.resources.extend(scheduler_resource(sched.as_ref(), st));
    let (workers, alive) = own_workers(&mut c, scan, st);
    let expected = (st.workers.len() as u64).max(alive);
    // every group's: the default one's and the others'
    let others: u64 = st
        .groups
        .iter()
        .filter_map(|g| g.requested)
        .map(u64::from)
        .sum();
    c.requested_workers = Some(st.requested.map_or(expected, |r| u64::from(r) + others));
    let state = match (&sched, probed) {
        (None, _) => SchedulerState::Gone,
        (Some(_), Probe::Answered { info, idle }) => {
            fill_from_info(&mut c, &info, idle);
            SchedulerState::Answering {
                connected: info.workers.len() as u64,
            }
        }
        (Some(_), Probe::Disabled { .. }) => SchedulerState::NotProbed,
        (Some(_), p) => SchedulerState::Silent(p.why().unwrap_or_default().to_string()),
    };
    if c.workers.is_none() {
        c.workers = Some(alive);
        c.threads = Some(alive * st.threads as u64);
        c.memory = st.memory.map(|m| m.saturating_mul(alive));
    }
    let answered = matches!(state, SchedulerState::Answering { .. });
    c.groups = group_counts(st, &c, &workers, answered);
    (c.status, c.reason) = match st.phase {
        Phase::Creating => being_created(st),
        _ => classify(&state, alive, Some(expected)),
    };
    c.handle = Handle::new(LocalHandle {
        kind: Kind::Own {
            dir: dir.clone(),
            state: Some(Box::new(st.clone())),
            unusable: None,
        },
        scheduler: sched,
        workers,
        silent: matches!(state, SchedulerState::Silent(_)),
    });
    c
}

/// What an interrupted delete left: `stopped` (cleanup --orphaned and delete finish it), or
/// `stopping` while a delete still removes it.
fn tomb_cluster(b: &Local, t: &super::state::Tomb) -> Cluster {
    let mut c = Cluster::new(t.listed_name(), BACKEND, Origin::Daskctl);
    c.owner = Some(b.ctx.user.name.clone());
    c.created = std::fs::symlink_metadata(&t.path)
        .and_then(|m| m.modified())
        .ok();
    c.workers = Some(0);
    (c.status, c.reason) = if t.being_removed() {
        (
            Status::Stopping,
            Some(format!("a delete is removing {}", t.path.display())),
        )
    } else {
        (
            Status::Stopped,
            Some(format!(
                "a delete of {} was interrupted while removing its state ({}); cleanup \
                 --orphaned or delete finishes it",
                t.cluster,
                t.path.display()
            )),
        )
    };
    c.handle = Handle::new(LocalHandle {
        kind: Kind::Removing { tomb: t.clone() },
        scheduler: None,
        workers: Vec::new(),
        silent: false,
    });
    c
}

/// A cluster of this state root that another node runs (a login node sharing this home): its
/// recorded processes are that node's, which this one cannot see, so nothing about them is
/// judged here. Listed `unknown` with its host; every verb that would act refuses
/// (`discovery::authorize`), and cleanup and reconcile leave it to that node.
fn elsewhere_cluster(
    mut c: Cluster,
    dir: &StateDir,
    st: &ClusterState,
    node: &crate::host::Node,
) -> Cluster {
    c.host = Some(node.hostname.clone());
    c.elsewhere = true;
    c.status = Status::Unknown;
    c.reason = Some(format!(
        "it runs on {}, which shares this state directory: ask daskctl there",
        node.hostname
    ));
    let procs = st.scheduler.iter().map(|p| (p, Role::Scheduler));
    for (p, role) in procs.chain(st.workers.iter().map(|p| (p, Role::Worker))) {
        c.resources.push(Resource {
            kind: "process",
            id: p.pid.to_string(),
            role,
            state: format!("on {}", node.hostname),
            name: Some(p.name.clone()),
            ..Default::default()
        });
    }
    c.requested_workers = st.requested.map(u64::from);
    c.handle = Handle::new(LocalHandle {
        kind: Kind::Own {
            dir: dir.clone(),
            state: Some(Box::new(st.clone())),
            unusable: None,
        },
        scheduler: None,
        workers: Vec::new(),
        silent: true,
    });
    c
}

/// Each group's workers (the scheduler's, when it answered; else the running processes) and
/// how many were asked for.
fn group_counts(
    st: &ClusterState,
    c: &Cluster,
    alive: &[Found],
    answered: bool,
) -> Vec<crate::groups::GroupCount> {
    st.group_names()
        .into_iter()
        .map(|g| {
            let workers = if answered {
                c.worker_details
                    .iter()
                    .filter(|w| st.group_of(&w.name) == g)
                    .count()
            } else {
                alive
                    .iter()
                    .filter(|f| f.name.as_deref().is_some_and(|n| st.group_of(n) == g))
                    .count()
            };
            let requested = match st.groups.iter().find(|x| x.name == g) {
                Some(x) => x.requested,
                None => st.requested,
            };
            crate::groups::GroupCount {
                workers: Some(workers as u64),
                requested: requested.map(u64::from),
                name: g,
            }
        })
        .collect()
}

/// Whether a process is a Dask scheduler by its command line or daskctl's marker: such a
/// process is listed even when it cannot be asked.
fn dask_scheduler_shaped(p: &ProcInfo) -> bool {
    p.is_cli("scheduler") || p.marker(ENV_ROLE) == Some("scheduler")
}

/// The address of a scheduler process that did not answer, and why it did not: from its
/// scheduler file, else its `--port`, 8786, or a port that is not its dashboard's.
fn unanswered(p: &ProcInfo, said: &[Said]) -> (String, Probe) {
    let tls =
        p.arg("--protocol") == Some("tls") || p.cmdline.iter().any(|a| a.starts_with("--tls-"));
    let from_file = p
        .arg("--scheduler-file")
        .and_then(|f| procfs::scheduler_file_address(f, p.uid));
    let dashboard: Option<u16> = p
        .arg("--dashboard-address")
        .and_then(|d| d.rsplit(':').next())
        .and_then(|x| x.parse().ok());
    let wanted: Option<u16> = p
        .arg("--port")
        .and_then(|x| x.parse().ok())
        .filter(|x| *x != 0);
    let port = from_file
        .as_deref()
        .and_then(|a| Address::parse(a).ok())
        .map(|a| a.port)
        .or_else(|| {
            p.listening
                .iter()
                .map(|(_, port)| *port)
                .find(|x| Some(*x) == wanted)
        })
        .or_else(|| {
            p.listening
                .iter()
                .map(|(_, port)| *port)
                .find(|x| *x == 8786)
        })
        .or_else(|| {
            p.listening
                .iter()
                .map(|(_, port)| *port)
                .find(|x| Some(*x) != dashboard)
        })
        .or(wanted);
    let host = p
        .listening
        .iter()
        .find(|(_, x)| Some(*x) == port)
        .map(|(ip, _)| procfs::reach(*ip).to_string())
        .unwrap_or_else(|| "127.0.0.1".into());
    let addr = match (from_file, port) {
        (Some(a), _) => a,
        (None, Some(port)) => Address { tls, host, port }.to_string(),
        (None, None) => String::new(),
    };
    let why = said
        .iter()
        .find(|(a, _)| Some(a.port) == port)
        .and_then(|(_, r)| r.as_ref().err())
        .map(|e| match e.probe_fault() {
            Some(ProbeFault::Disabled) => Probe::Disabled { why: e.to_string() },
            _ => Probe::failed(format!("scheduler process {} does not answer: {e}", p.pid)),
        })
        .unwrap_or_else(|| {
            Probe::failed(match port {
                Some(_) => format!("scheduler process {} does not answer", p.pid),
                None => format!("scheduler process {} listens on no port yet", p.pid),
            })
        });
    (addr, why)
}

/// A cluster around a scheduler process found in /proc (answering or not). Processes daskctl
/// started whose state is gone or unusable keep their cluster's name.
fn scheduler_cluster(
    b: &Local,
    scan: &Scan,
    p: &ProcInfo,
    address: &str,
    probed: Probe,
) -> Cluster {
    let lost = p
        .marker(ENV_CLUSTER)
        .filter(|_| p.marker(ENV_HOME).is_some());
    let name = match lost {
        Some(n) => n.to_string(),
        None if !address.is_empty() => name_for(address),
        None => format!("pid-{}", p.pid),
    };
    let mut c = Cluster::new(
        name.clone(),
        BACKEND,
        if lost.is_some() {
            Origin::Daskctl
        } else {
            Origin::Unknown
        },
    );
    c.owner = Some(b.ctx.user.name.clone());
    if !address.is_empty() {
        c.address = Some(address.to_string());
    }
    let f = found(p, lost.is_some());
    c.resources.push(proc_resource(&f, Role::Scheduler, true));
    let dir = lost.and_then(|n| scan.dirs.iter().find(|(d, _)| d.name() == n));
    let (state, mut reason) = match probed {
        Probe::Answered { info, idle } => {
            fill_from_info(&mut c, &info, idle);
            let st = SchedulerState::Answering {
                connected: info.workers.len() as u64,
            };
            (st, None)
        }
        Probe::Disabled { .. } => (SchedulerState::NotProbed, None),
        failed => {
            let why = failed.why().unwrap_or_default().to_string();
            (SchedulerState::Silent(why.clone()), Some(why))
        }
    };
    if c.created.is_none() {
        c.created = procfs::started_at(p.start);
    }
    let (status, r) = classify(&state, 0, None);
    c.status = status;
    reason = reason.or(r);
    if lost.is_some() {
        let how = match dir {
            Some((_, Err(u))) => format!("{u}; rebuilt from the processes"),
            Some((_, Ok(None))) => "its state file is missing; rebuilt from the processes".into(),
            _ => "daskctl state directory is missing; rebuilt from the processes".into(),
        };
        reason = Some(match reason {
            Some(r) => format!("{how}; {r}"),
            None => how,
        });
    }
    c.reason = reason;
    let kind = match dir {
        Some((d, Err(u))) => Kind::Own {
            dir: d.clone(),
            state: None,
            unusable: Some(u.clone()),
        },
        Some((d, Ok(None))) => Kind::Own {
            dir: d.clone(),
            state: None,
            unusable: None,
        },
        _ if lost.is_some() => Kind::Rebuilt,
        _ => Kind::Foreign { attached: None },
    };
    c.handle = Handle::new(LocalHandle {
        kind,
        scheduler: Some(f),
        workers: Vec::new(),
        silent: matches!(state, SchedulerState::Silent(_)),
    });
    c
}

/// Adds a found worker process; a worker spawned by a nanny is represented by the nanny.
fn add_worker(c: &mut Cluster, scan: &Scan, wp: &ProcInfo) {
    let top = scan
        .procs
        .iter()
        .find(|p| p.pid == wp.ppid && p.is_cli("worker"))
        .unwrap_or(wp);
    if c.resources.iter().any(|r| r.id == top.pid.to_string()) {
        return;
    }
    let marked = top.marker(ENV_CLUSTER) == Some(c.name.as_str()) && top.marker(ENV_HOME).is_some();
    let f = found(top, marked);
    c.resources.push(proc_resource(&f, Role::Worker, true));
    with_handle(c, |h| h.workers.push(f));
    refresh_alive_workers(c);
}

/// Workers daskctl started next to a scheduler it did not start (`scale` on `port-N`).
fn add_attached(c: &mut Cluster, scan: &Scan, dir: &StateDir, st: &ClusterState) {
    let recorded: HashSet<i32> = st.workers.iter().map(|w| w.pid).collect();
    let mut more: Vec<Found> = Vec::new();
    for w in &st.workers {
        if let Some(stat) = procfs::live(w.pid, Some(w.start)) {
            more.push(Found {
                pid: w.pid,
                start: w.start,
                cli: true,
                marked: true,
                stopped: stat.stopped(),
                name: Some(w.name.clone()),
                cmd: "dask worker".into(),
            });
        }
    }
    for p in scan.marked(dir.name()) {
        if !recorded.contains(&p.pid) {
            more.push(found(p, true));
        }
    }
    for f in more {
        if c.resources.iter().any(|r| r.id == f.pid.to_string()) {
            // found by its answer already: now known as daskctl's
            with_handle(c, |h| {
                if let Some(x) = h.workers.iter_mut().find(|x| x.pid == f.pid) {
                    x.marked = true;
                }
            });
            continue;
        }
        c.resources.push(proc_resource(&f, Role::Worker, true));
        with_handle(c, |h| h.workers.push(f));
    }
    with_handle(c, |h| {
        if let Kind::Foreign { attached } = &mut h.kind {
            *attached = Some(dir.clone());
        }
    });
}

/// Changes the cluster's `LocalHandle` (handles are shared values: copy, change, replace).
fn with_handle(c: &mut Cluster, f: impl FnOnce(&mut LocalHandle)) {
    let mut h = c
        .handle
        .get::<LocalHandle>()
        .cloned()
        .unwrap_or(LocalHandle {
            kind: Kind::Foreign { attached: None },
            scheduler: None,
            workers: Vec::new(),
            silent: false,
        });
    f(&mut h);
    c.handle = Handle::new(h);
}

/// A scheduler that does not answer has no worker count of its own: the processes say it.
fn refresh_alive_workers(c: &mut Cluster) {
    if c.status == Status::Unknown {
        let n = c
            .resources
            .iter()
            .filter(|r| r.role == Role::Worker && r.state != "dead")
            .count() as u64;
        c.workers = Some(n);
    }
}

/// A state directory whose state is unusable or missing and whose scheduler was not found:
/// its marked workers, or nothing but the directory.
fn broken_cluster(
    b: &Local,
    scan: &Scan,
    dir: &StateDir,
    unusable: Option<Unusable>,
    workers: &[(&ProcInfo, String)],
    claimed: &mut HashSet<i32>,
) -> Cluster {
    let mut c = Cluster::new(dir.name().to_string(), BACKEND, Origin::Daskctl);
    c.owner = Some(b.ctx.user.name.clone());
    c.created = std::fs::metadata(&dir.path).and_then(|m| m.modified()).ok();
    let mut found_workers = Vec::new();
    let marked: Vec<&ProcInfo> = scan.marked(dir.name()).collect();
    if c.created.is_none() {
        c.created = marked
            .iter()
            .filter_map(|p| procfs::started_at(p.start))
            .min();
    }
    for p in marked {
        let f = found(p, true);
        c.resources.push(proc_resource(&f, Role::Worker, true));
        found_workers.push(f);
        claimed.insert(p.pid);
        if c.address.is_none() {
            c.address = workers
                .iter()
                .find(|(w, _)| w.pid == p.pid)
                .map(|(_, a)| a.clone())
                .or_else(|| p.scheduler_arg());
        }
    }
    let alive = found_workers.len() as u64;
    c.workers = Some(alive);
    let what = match &unusable {
        Some(u) => format!("{u}"),
        None if dir.exists() => "no state file".into(),
        None => "its state directory is gone".into(),
    };
    (c.status, c.reason) = if alive > 0 {
        (
            Status::Orphaned,
            Some(format!(
                "{what}; no scheduler runs; {alive} worker(s) left running"
            )),
        )
    } else {
        (Status::Stopped, Some(format!("{what}; nothing runs")))
    };
    c.handle = Handle::new(LocalHandle {
        kind: Kind::Own {
            dir: dir.clone(),
            state: None,
            unusable,
        },
        scheduler: None,
        workers: found_workers,
        silent: false,
    });
    c
}

/// Workers whose scheduler is not a process of the user's on this machine: it may be elsewhere
/// (answering), alive but silent (`unknown`), or gone (`orphaned`): see `liveness`.
fn stray_cluster(
    b: &Local,
    scan: &Scan,
    addr: &str,
    wps: &[&ProcInfo],
    attached: &[&(&StateDir, &ClusterState)],
    probed: Probe,
) -> Cluster {
    let mut c = Cluster::new(name_for(addr), BACKEND, Origin::Unknown);
    c.address = Some(addr.to_string());
    c.owner = Some(b.ctx.user.name.clone());
    c.handle = Handle::new(LocalHandle {
        kind: Kind::Foreign { attached: None },
        scheduler: None,
        workers: Vec::new(),
        silent: false,
    });
    for wp in wps {
        add_worker(&mut c, scan, wp);
    }
    for (dir, st) in attached {
        if st.address.as_deref() == Some(addr) {
            add_attached(&mut c, scan, dir, st);
        }
    }
    let alive = c
        .resources
        .iter()
        .filter(|r| r.role == Role::Worker && r.state != "dead")
        .count() as u64;
    c.created = wps.iter().filter_map(|p| procfs::started_at(p.start)).min();
    if let Probe::Answered { info, idle } = &probed {
        fill_from_info(&mut c, info, *idle);
    }
    let sched = after_probe(&b.ctx, addr, &probed);
    let (status, reason) = classify(&sched, alive, None);
    c.status = status;
    c.reason = reason;
    if c.workers.is_none() {
        c.workers = Some(alive);
    }
    let silent = matches!(sched, SchedulerState::Silent(_));
    with_handle(&mut c, |h| h.silent = silent);
    c
}

/// Moves the workers of `stray` (found under another address of the same scheduler) into `c`.
fn absorb(c: &mut Cluster, stray: Cluster) {
    let known: HashSet<String> = c.resources.iter().map(|r| r.id.clone()).collect();
    c.resources.extend(
        stray
            .resources
            .into_iter()
            .filter(|r| !known.contains(&r.id)),
    );
    let theirs: Vec<Found> = stray
        .handle
        .get::<LocalHandle>()
        .map(|h| h.workers.clone())
        .unwrap_or_default();
    with_handle(c, |h| {
        for w in theirs {
            if !h.workers.iter().any(|x| x.pid == w.pid) {
                h.workers.push(w);
            }
        }
    });
}

/// Whether `name` is one the local backend gives clusters it did not create (`port-N`,
/// `pid-N`): those never name a state directory.
pub fn listed_name(name: &str) -> bool {
    let numbered = ["port-", "pid-"].iter().any(|p| {
        name.strip_prefix(p).is_some_and(|n| {
            !n.is_empty() && n.len() <= 10 && n.bytes().all(|c| c.is_ascii_digit())
        })
    });
    // `removing-NAME-PID`: what an interrupted delete left
    let removing = name
        .strip_prefix("removing-")
        .and_then(|r| r.rsplit_once('-'))
        .is_some_and(|(n, pid)| {
            crate::names::validate(n).is_ok()
                && !pid.is_empty()
                && pid.len() <= 10
                && pid.bytes().all(|c| c.is_ascii_digit())
        });
    numbered || removing
}

/// Name of a cluster daskctl did not create: its scheduler's port (`port-8786`).
pub fn name_for(address: &str) -> String {
    match Address::parse(address) {
        Ok(a) => format!("port-{}", a.port),
        Err(_) => "unknown".into(),
    }
}

fn same_scheduler(a: &str, b: &str) -> bool {
    match (Address::parse(a), Address::parse(b)) {
        (Ok(x), Ok(y)) => {
            x.port == y.port && (x.host == y.host || (x.is_loopback() && y.is_loopback()))
        }
        _ => a == b,
    }
}

/// Schedulers daskctl started under another state directory (another `DASKCTL_STATE_DIR` or
/// config) among a user's processes `procs`, whose own state root is `home`: by state
/// directory, their cluster names. This daskctl does not list them (that state directory
/// manages them); `list` says they exist.
fn under_other_roots(procs: &[ProcInfo], home: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in procs {
        let (Some(h), Some(name)) = (p.marker(ENV_HOME), p.marker(ENV_CLUSTER)) else {
            continue;
        };
        // the scheduler daskctl started, not a child that inherited its markers
        let top = !procs
            .iter()
            .any(|q| q.pid == p.ppid && q.marker(ENV_HOME) == Some(h));
        if h != home && top && p.marker(ENV_ROLE) == Some("scheduler") {
            out.entry(h.to_string()).or_default().push(name.to_string());
        }
    }
    for names in out.values_mut() {
        names.sort();
        names.dedup();
    }
    out
}

/// What `list` says of them: one line per state directory (the exit code is unchanged).
fn other_roots_notes(roots: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    const SHOWN: usize = 5;
    roots
        .iter()
        .map(|(dir, names)| {
            let mut list = names[..names.len().min(SHOWN)].join(", ");
            if names.len() > SHOWN {
                list.push_str(&format!(" and {} more", names.len() - SHOWN));
            }
            format!(
                "note: {} local cluster(s) of another state directory run here and are not \
                 listed: {list} (DASKCTL_STATE_DIR={dir} daskctl list shows them)",
                names.len()
            )
        })
        .collect()
}
