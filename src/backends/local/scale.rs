//! `scale`: up starts worker processes (also next to a scheduler daskctl did not start); down
//! retires workers through the scheduler first, then stops their processes. Runs under the
//! cluster's lock, re-reading the state inside it, so concurrent scales serialise.
//!
//! A cluster whose state was lost or corrupted gets a state rebuilt from its processes (the
//! scheduler included) before anything is added. New worker names are unique against the
//! scheduler's own list. Each started worker is recorded at once; Ctrl-C stops the workers this
//! command started.

use super::Local;
use super::handle::{Kind, LocalHandle, handle};
use super::procfs;
use super::spawn::{self, Proof, Target};
use super::state::{ClusterState, Phase, Proc, StateDir};
use super::workers::{Wanted, start_workers, stop_op, wait_for_workers};
use crate::backends::{ScaleReport, ScaleRequest};
use crate::dask::client;
use crate::dask::{Comm, SchedulerInfo};
use crate::error::{Error, Result};
use crate::interrupt::Interrupts;
use crate::model::Cluster;
use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

pub async fn scale(b: &Local, c: &Cluster, req: &ScaleRequest) -> Result<ScaleReport> {
    let h = handle(c)?;
    let address = c
        .address
        .clone()
        .ok_or_else(|| Error::backend("local", format!("{} has no scheduler address", c.name)))?;
    if h.silent || h.scheduler.as_ref().is_some_and(|s| s.stopped) {
        return Err(Error::backend(
            "local",
            format!(
                "the scheduler of {} does not answer ({}); nothing was changed",
                c.name,
                c.reason.as_deref().unwrap_or("no reason given")
            ),
        ));
    }
    let mut interrupts = Interrupts::install()?;
    let op = spawn::op_id();
    let dir = state_dir_for(b, c, h).await?;
    let lock = dir.lock(req.timeout).await?;
    let mut st = live_state(&dir, c)?;
    let group = req.group.as_deref();
    if let Some(g) = group {
        st.group(g)?;
    }

    let mut comm = b.ctx.prober.connect(&address).await?;
    let all = Seen::ask(&mut comm, &address, &st).await?;
    // the group's workers are scaled; the others only count toward what the scheduler has
    let total = all.count();
    let seen = all.of_group(&st, group.unwrap_or(crate::groups::DEFAULT));
    let before = seen.count();
    let target = req.target as u64;
    let mut report = ScaleReport::new(before, target);
    let mut started: Vec<String> = Vec::new();
    let what = format!("scale of {}", c.qualified());

    if target > before {
        let n = (target - before) as u32;
        let up = interrupts
            .guard(&what, async {
                start_workers(b, &dir, &mut st, group, n, &all.connected, &op)
            })
            .await;
        match up {
            Ok(names) => started = names,
            Err(e @ Error::Interrupted(_)) => {
                drop(lock);
                return Err(rolled_back(b, c, &dir, &op, e).await);
            }
            Err(e) => return Err(e),
        }
        report.started = started.clone();
    } else if target < before {
        let k = (before - target) as usize;
        let down = interrupts
            .guard(
                &what,
                stop_workers(b, &dir, &mut st, &mut comm, &seen, k, req),
            )
            .await;
        match down {
            Ok(stopped) => report.stopped = stopped,
            Err(e @ Error::Interrupted(_)) => {
                // what was retired so far is stopped; the state lists what still runs
                prune(&dir);
                return Err(Error::Interrupted(format!(
                    "{e}: the workers stopped so far are gone, the others run on"
                )));
            }
            Err(e) => return Err(e),
        }
    }
    comm.close().await;
    if target > before {
        set_requested(&mut st, group, req.target);
        dir.save(&st)?;
    }
    // the lock is not held while waiting: a delete meanwhile is seen, not blocked
    drop(lock);
    if req.wait {
        let wanted = Wanted {
            address: &address,
            n: (total - before + target) as usize,
            deadline: Instant::now() + req.timeout,
            names: &started,
            holding_lock: false,
            asked: Some((req.group.clone(), req.target)),
            progress: &req.progress,
        };
        let waited = interrupts
            .guard(&what, wait_for_workers(b, &dir, &st, wanted))
            .await;
        match waited {
            Err(e @ Error::Interrupted(_)) => return Err(rolled_back(b, c, &dir, &op, e).await),
            other => other?,
        }
    }
    Ok(report)
}

/// The cluster's state, with its scheduler running and only the workers that still run.
fn live_state(dir: &StateDir, c: &Cluster) -> Result<ClusterState> {
    let mut st = dir
        .load()
        .map_err(|u| Error::backend("local", u.to_string()))?
        .ok_or_else(|| Error::NotFound(format!("{} was deleted meanwhile", c.qualified())))?;
    // the instance listed, still: a cluster created again under the name is another one
    if let (Some(was), Some(is)) = (&c.instance, &st.instance)
        && was != is
    {
        return Err(Error::replaced(&c.qualified(), was, is));
    }
    if let Some(s) = &st.scheduler
        && !procfs::alive(s.pid, Some(s.start))
    {
        return Err(Error::backend(
            "local",
            format!(
                "the scheduler of {} is not running; delete or clean it up",
                c.name
            ),
        ));
    }
    st.workers.retain(|w| procfs::alive(w.pid, Some(w.start)));
    Ok(st)
}

/// The scheduler's view of the workers, beside the state's.
struct Seen {
    info: SchedulerInfo,
    /// Names of the connected workers.
    connected: HashSet<String>,
    /// daskctl's workers that run but have not connected yet.
    starting: Vec<String>,
}

impl Seen {
    async fn ask(comm: &mut Comm, address: &str, st: &ClusterState) -> Result<Seen> {
        let info = match client::identity(comm).await? {
            crate::dask::Identity::Scheduler(i) => i,
            _ => return Err(Error::Protocol(format!("{address} is not a scheduler"))),
        };
        let connected: HashSet<String> = info.workers.iter().map(|w| w.name.clone()).collect();
        let starting = st
            .workers
            .iter()
            .filter(|w| !connected.contains(&w.name))
            .map(|w| w.name.clone())
            .collect();
        Ok(Seen {
            info,
            connected,
            starting,
        })
    }

    /// Only the workers of `group`.
    fn of_group(&self, st: &ClusterState, group: &str) -> Seen {
        let mut info = self.info.clone();
        info.workers.retain(|w| st.group_of(&w.name) == group);
        Seen {
            connected: info.workers.iter().map(|w| w.name.clone()).collect(),
            starting: self
                .starting
                .iter()
                .filter(|n| st.group_of(n) == group)
                .cloned()
                .collect(),
            info,
        }
    }

    /// Workers connected or on their way.
    fn count(&self) -> u64 {
        (self.info.workers.len() + self.starting.len()) as u64
    }
}

/// Stops `k` workers: daskctl's own still starting first, then its connected ones (those in
/// `retire_first`, then newest first; retired so their data moves), then workers daskctl did not
/// start (the scheduler retires and closes them). The names stopped.
async fn stop_workers(
    b: &Local,
    dir: &StateDir,
    st: &mut ClusterState,
    comm: &mut Comm,
    seen: &Seen,
    mut k: usize,
    req: &ScaleRequest,
) -> Result<Vec<String>> {
    let target = req.target;
    // the intent first: a state that cannot be written (a full disk) fails the scale before
    // any worker is stopped, and a scale interrupted halfway is still recorded as asked
    set_requested(st, req.group.as_deref(), target);
    dir.save(st)?;
    let mut stopped = Vec::new();
    let mut own_victims: Vec<String> = seen.starting.iter().rev().take(k).cloned().collect();
    k -= own_victims.len();
    let mut connected: Vec<&String> = st
        .workers
        .iter()
        .rev()
        .map(|w| &w.name)
        .filter(|n| seen.connected.contains(*n))
        .collect();
    // stable: the scheduler's choice first, newest first within each part
    connected.sort_by_key(|n| !req.retire_first.contains(n));
    let retire_own: Vec<String> = connected.into_iter().take(k).cloned().collect();
    k -= retire_own.len();
    if !retire_own.is_empty() {
        client::retire_workers(comm, &retire_own, false).await?;
        own_victims.extend(retire_own);
    }
    if k > 0 {
        let own: HashSet<&str> = st.workers.iter().map(|w| w.name.as_str()).collect();
        let names: Vec<String> = seen
            .info
            .workers
            .iter()
            .rev()
            .map(|w| w.name.clone())
            .filter(|n| !own.contains(n.as_str()))
            .take(k)
            .collect();
        // close_workers: the scheduler tells them to shut down (their nannies with them)
        client::retire_workers(comm, &names, true).await?;
        stopped.extend(names);
    }
    let home = b.ctx.config.state_root().to_string_lossy().into_owned();
    let targets: Vec<Target> = st
        .workers
        .iter()
        .filter(|w| own_victims.contains(&w.name))
        .map(|w| Target {
            pid: w.pid,
            start: w.start,
            group: true,
            proof: Proof::Marked {
                cluster: st.name.clone(),
                home: home.clone(),
            },
        })
        .collect();
    let left = spawn::stop(&targets, b.ctx.user.uid, Duration::from_secs(15)).await;
    st.workers
        .retain(|w| !own_victims.contains(&w.name) || left.contains(&w.pid));
    // the stopped workers' pids, dropped (discovery prunes dead ones if this write fails)
    dir.save(st)?;
    stopped.extend(own_victims);
    if !left.is_empty() {
        return Err(Error::backend(
            "local",
            format!("retired workers still running after being stopped: {left:?}"),
        ));
    }
    Ok(stopped)
}

/// Records how many workers `group` (None: the default group) was asked for.
fn set_requested(st: &mut ClusterState, group: Option<&str>, n: u32) {
    match group {
        None => st.requested = Some(n),
        Some(g) => {
            if let Some(x) = st.groups.iter_mut().find(|x| x.name == g) {
                x.requested = Some(n);
            }
        }
    }
}

/// After Ctrl-C: stops the workers this command (`op`) started and drops them from the state.
async fn rolled_back(b: &Local, c: &Cluster, dir: &StateDir, op: &str, e: Error) -> Error {
    let left = stop_op(b, &c.name, op).await;
    if let Ok(_lock) = dir.lock(Duration::from_secs(10)).await {
        prune(dir);
    }
    Error::Interrupted(if left.is_empty() {
        format!("{e}: the workers it had started were stopped")
    } else {
        format!("{e}: workers it started are still running: {left:?}")
    })
}

/// Drops from the state the workers that no longer run (after an interrupted scale).
fn prune(dir: &StateDir) {
    if let Ok(Some(mut st)) = dir.load() {
        st.workers.retain(|w| procfs::alive(w.pid, Some(w.start)));
        let _ = dir.save(&st);
    }
}

/// The state directory where this cluster's workers are recorded, made (or rebuilt from the
/// processes) when there is none that can be used.
async fn state_dir_for(b: &Local, c: &Cluster, h: &LocalHandle) -> Result<StateDir> {
    let root = b.ctx.config.state_root();
    match &h.kind {
        Kind::Removing { tomb } => Err(Error::Usage(format!(
            "{} is what an interrupted delete left ({}): it cannot be scaled; delete it",
            c.qualified(),
            tomb.path.display()
        ))),
        Kind::Own {
            dir,
            state: Some(_),
            ..
        } => Ok(dir.clone()),
        Kind::Own { dir, .. } => {
            // unusable or missing state: keep the old file for a look, write one rebuilt
            let old = dir.path.join("state.json");
            if old.exists() {
                let _ = std::fs::rename(&old, dir.path.join("state.json.unusable"));
            }
            std::fs::create_dir_all(dir.logs()).ok();
            dir.save(&rebuilt_state(b, c, h).await?)?;
            Ok(dir.clone())
        }
        Kind::Rebuilt => {
            let dir = StateDir::new(&root, &c.name)?;
            dir.create()?;
            dir.save(&rebuilt_state(b, c, h).await?)?;
            Ok(dir)
        }
        Kind::Foreign { attached: Some(d) } => Ok(d.clone()),
        Kind::Foreign { attached: None } => {
            // first time daskctl adds workers to this scheduler: a state dir for them
            let python = spawn::find_python(b.settings.python.clone()).await?;
            let dir = StateDir::new(&root, &c.name)?;
            dir.create()
                .or_else(|e| if dir.exists() { Ok(()) } else { Err(e) })?;
            if matches!(dir.load(), Ok(None)) {
                dir.save(&ClusterState {
                    name: c.name.clone(),
                    created: now(),
                    python,
                    host: "127.0.0.1".into(),
                    threads: 1,
                    memory: None,
                    scheduler: None,
                    address: c.address.clone(),
                    dashboard: c.dashboard.clone(),
                    workers: Vec::new(),
                    next_worker: 0,
                    idle_timeout: None,
                    phase: Phase::Ready,
                    creator: None,
                    requested: None,
                    groups: Vec::new(),
                    node: Some(crate::host::Node::this().clone()),
                    instance: Some(crate::names::new_instance()),
                })?;
            }
            Ok(dir)
        }
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A state for a daskctl cluster whose state is gone, from its processes: the scheduler (so
/// the rebuilt cluster keeps it), the workers with their names, the Python they run.
async fn rebuilt_state(b: &Local, c: &Cluster, h: &LocalHandle) -> Result<ClusterState> {
    let sched = h.scheduler.as_ref().ok_or_else(|| {
        Error::backend(
            "local",
            format!(
                "{}: no scheduler process to rebuild the state around",
                c.name
            ),
        )
    })?;
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", sched.pid)).unwrap_or_default();
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    let python = match args.first() {
        Some(p) if p.contains("python") => p.clone(),
        _ => spawn::find_python(b.settings.python.clone()).await?,
    };
    let host = c
        .address
        .as_deref()
        .and_then(|a| crate::dask::Address::parse(a).ok())
        .map(|a| a.host)
        .unwrap_or_else(|| "127.0.0.1".into());
    let mut workers = Vec::new();
    let mut next = 0u32;
    for (i, w) in h.workers.iter().enumerate() {
        let name = w
            .name
            .clone()
            .unwrap_or_else(|| format!("{}-found-{i}", c.name));
        if let Some(k) = name
            .strip_prefix(&format!("{}-", c.name))
            .and_then(|k| k.parse::<u32>().ok())
        {
            next = next.max(k.saturating_add(1));
        }
        workers.push(Proc {
            pid: w.pid,
            start: w.start,
            log: format!("{name}.log"),
            name,
            group: None,
        });
    }
    let created = c
        .created
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or_else(now, |d| d.as_secs_f64());
    Ok(ClusterState {
        name: c.name.clone(),
        created,
        python,
        host,
        threads: 1,
        memory: None,
        scheduler: Some(Proc {
            pid: sched.pid,
            start: sched.start,
            name: "scheduler".into(),
            log: "scheduler.log".into(),
            group: None,
        }),
        address: c.address.clone(),
        dashboard: c.dashboard.clone(),
        workers,
        next_worker: next,
        phase: Phase::Ready,
        creator: None,
        requested: None,
        idle_timeout: None,
        groups: Vec::new(),
        node: Some(crate::host::Node::this().clone()),
        instance: Some(crate::names::new_instance()),
    })
}
