//! Local discovery: daskctl's own clusters from their state directories, plus every other Dask
//! scheduler (and stray worker) of the current user on this machine, found from the listening
//! sockets of the user's Python processes in /proc and confirmed with the protocol handshake.

use super::Local;
use super::procfs::{self, ProcInfo};
use super::spawn::{ENV_CLUSTER, ENV_HOME};
use super::state::{ClusterState, StateDir};
use crate::dask::{Address, Identity, SchedulerInfo};
use crate::discovery::fill_from_info;
use crate::discovery::orphan::{SchedulerState, classify};
use crate::error::Result;
use crate::model::{Cluster, Origin, Resource, Role};
use crate::units::epoch_secs;
use futures::future::join_all;
use std::collections::{BTreeMap, HashSet};

pub const BACKEND: &str = "local";
type Probed = Result<(SchedulerInfo, Option<f64>)>;

pub async fn discover(b: &Local) -> Result<Vec<Cluster>> {
    let root = b.ctx.config.state_root();
    let home = root.to_string_lossy().into_owned();
    let dirs = StateDir::all(&root);
    let mut states: Vec<(StateDir, ClusterState)> = Vec::new();
    for d in dirs {
        match d.load() {
            Ok(s) => states.push((d, s)),
            Err(e) => tracing::warn!("{e}"),
        }
    }
    let known: HashSet<String> = states.iter().map(|(_, s)| s.name.clone()).collect();

    let procs: Vec<ProcInfo> = if b.scan_enabled() {
        procfs::scan(b.ctx.user.uid)
            .into_iter()
            .filter(|p| match (p.marker(ENV_HOME), p.marker(ENV_CLUSTER)) {
                // another daskctl state root (another configuration) manages it
                (Some(h), _) if h != home => false,
                (Some(_), Some(c)) => !known.contains(c),
                _ => true,
            })
            .collect()
    } else {
        Vec::new()
    };

    // every probe at once: own schedulers, and each listening port of the scanned processes
    let own = join_all(states.iter().map(|(_, s)| probe_state(b, s)));
    let candidates: Vec<(usize, Address)> = procs
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            p.listening.iter().map(move |(ip, port)| {
                let host = procfs::reach(*ip).to_string();
                (
                    i,
                    Address {
                        tls: false,
                        host,
                        port: *port,
                    },
                )
            })
        })
        .collect();
    let sniffed = join_all(candidates.iter().map(|(_, a)| b.ctx.prober.sniff(a)));
    let (own, sniffed) = futures::join!(own, sniffed);

    let mut clusters = Vec::new();
    let mut attached: Vec<(&StateDir, &ClusterState)> = Vec::new();
    for ((dir, st), probed) in states.iter().zip(own) {
        if st.scheduler.is_some() {
            clusters.push(state_cluster(b, dir, st, probed));
        } else {
            attached.push((dir, st));
        }
    }

    let mut schedulers: Vec<(&ProcInfo, SchedulerInfo, Option<f64>)> = Vec::new();
    let mut workers: Vec<(&ProcInfo, String)> = Vec::new();
    for ((i, _), r) in candidates.iter().zip(sniffed) {
        match r {
            Ok((Identity::Scheduler(info), idle)) => schedulers.push((&procs[*i], info, idle)),
            Ok((Identity::Worker { scheduler, .. }, _)) => workers.push((&procs[*i], scheduler)),
            // a nanny does not say its scheduler; its command line does (a nanny still waiting
            // to register is how a worker whose scheduler is gone looks)
            Ok((Identity::Other(kind), _))
                if kind == "Nanny" || kind == crate::dask::probe::STARTING =>
            {
                if let Some(s) = procs[*i].scheduler_arg() {
                    workers.push((&procs[*i], s));
                }
            }
            _ => {}
        }
    }

    let mut claimed_workers: HashSet<i32> = HashSet::new();
    let mut claimed_attached: HashSet<String> = HashSet::new();
    for (p, info, idle) in &schedulers {
        let mut c = foreign_cluster(b, p, info, *idle);
        for (wp, sched) in &workers {
            if same_scheduler(sched, &info.address) {
                add_worker_proc(&mut c, &procs, wp);
                claimed_workers.insert(wp.pid);
            }
        }
        for (dir, st) in &attached {
            if st
                .address
                .as_deref()
                .is_some_and(|a| same_scheduler(a, &info.address))
            {
                add_attached(&mut c, dir, st);
                claimed_attached.insert(st.name.clone());
            }
        }
        clusters.push(c);
    }

    // workers (found or attached by daskctl) whose scheduler was not found on this machine
    let mut strays: BTreeMap<String, Vec<&ProcInfo>> = BTreeMap::new();
    for (wp, sched) in &workers {
        if !claimed_workers.contains(&wp.pid)
            && !clusters.iter().any(|c| {
                c.address
                    .as_deref()
                    .is_some_and(|a| same_scheduler(a, sched))
            })
        {
            strays.entry(sched.clone()).or_default().push(wp);
        }
    }
    let stray_attached: Vec<_> = attached
        .iter()
        .filter(|(_, st)| !claimed_attached.contains(&st.name))
        .collect();
    for (_, st) in &stray_attached {
        if let Some(a) = &st.address {
            strays.entry(a.clone()).or_default();
        }
    }
    let remote = join_all(strays.keys().map(|a| b.ctx.prober.status(a))).await;
    for ((addr, wps), probed) in strays.iter().zip(remote) {
        let mut c = Cluster::new(name_for(addr), BACKEND, Origin::Unknown);
        c.address = Some(addr.clone());
        c.owner = Some(b.ctx.user.name.clone());
        c.private.insert("kind".into(), "foreign".into());
        for wp in wps {
            add_worker_proc(&mut c, &procs, wp);
        }
        for (dir, st) in &stray_attached {
            if st.address.as_deref() == Some(addr.as_str()) {
                add_attached(&mut c, dir, st);
            }
        }
        let alive = c
            .resources
            .iter()
            .filter(|r| r.role == Role::Worker && r.state == "running")
            .count() as u64;
        let sched = match probed {
            Ok((info, idle)) => {
                fill_from_info(&mut c, &info, idle);
                SchedulerState::Answering {
                    connected: info.workers.len() as u64,
                }
            }
            Err(e) if b.ctx.prober.enabled() => SchedulerState::Unreachable(e.to_string()),
            Err(_) => SchedulerState::NotProbed,
        };
        let (status, reason) = classify(&sched, alive, None);
        c.status = status;
        c.reason = reason;
        if c.workers.is_none() {
            c.workers = Some(alive);
        }
        clusters.push(c);
    }
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(clusters)
}

/// One daskctl cluster from its state directory alone (no /proc scan): `from_name`'s fast path.
pub async fn from_state(b: &Local, dir: &StateDir) -> Result<Option<Cluster>> {
    let st = dir.load()?;
    if st.scheduler.is_none() {
        return Ok(None); // attached workers belong to a foreign cluster: full discovery
    }
    let probed = probe_state(b, &st).await;
    Ok(Some(state_cluster(b, dir, &st, probed)))
}

async fn probe_state(b: &Local, st: &ClusterState) -> Probed {
    let alive = st
        .scheduler
        .as_ref()
        .is_none_or(|s| procfs::alive(s.pid, Some(s.start)));
    match (&st.address, alive) {
        (Some(a), true) => b.ctx.prober.status(a).await,
        _ => Err(crate::error::Error::NotFound(
            "scheduler not running".into(),
        )),
    }
}

fn proc_resource(pid: i32, role: Role, alive: bool, name: Option<String>) -> Resource {
    Resource {
        kind: "process",
        id: pid.to_string(),
        role,
        state: if alive { "running" } else { "dead" }.to_string(),
        name,
    }
}

fn state_cluster(b: &Local, dir: &StateDir, st: &ClusterState, probed: Probed) -> Cluster {
    let mut c = Cluster::new(st.name.clone(), BACKEND, Origin::Daskctl);
    c.created = epoch_secs(st.created);
    c.owner = Some(b.ctx.user.name.clone());
    c.address = st.address.clone();
    c.dashboard = st.dashboard.clone();
    c.private.insert("kind".into(), "daskctl".into());
    c.private
        .insert("state_dir".into(), dir.path.to_string_lossy().into_owned());
    let sched_alive = st
        .scheduler
        .as_ref()
        .is_some_and(|s| procfs::alive(s.pid, Some(s.start)));
    if let Some(s) = &st.scheduler {
        c.resources.push(proc_resource(
            s.pid,
            Role::Scheduler,
            sched_alive,
            Some("scheduler".into()),
        ));
    }
    let mut alive = 0u64;
    for w in &st.workers {
        let a = procfs::alive(w.pid, Some(w.start));
        alive += a as u64;
        c.resources
            .push(proc_resource(w.pid, Role::Worker, a, Some(w.name.clone())));
    }
    c.requested_workers = Some(st.workers.len() as u64);
    let sched = if !sched_alive {
        SchedulerState::Gone
    } else {
        match probed {
            Ok((info, idle)) => {
                fill_from_info(&mut c, &info, idle);
                SchedulerState::Answering {
                    connected: info.workers.len() as u64,
                }
            }
            Err(_) if !b.ctx.prober.enabled() => SchedulerState::NotProbed,
            Err(e) => SchedulerState::Silent(e.to_string()),
        }
    };
    if c.workers.is_none() {
        c.workers = Some(alive);
        c.threads = Some(alive * st.threads as u64);
        c.memory = st.memory.map(|m| m * alive);
    }
    let (status, reason) = classify(&sched, alive, Some(st.workers.len() as u64));
    c.status = status;
    c.reason = reason;
    c
}

fn foreign_cluster(b: &Local, p: &ProcInfo, info: &SchedulerInfo, idle: Option<f64>) -> Cluster {
    let lost = p
        .marker(ENV_CLUSTER)
        .filter(|_| p.marker(ENV_HOME).is_some());
    let (name, origin) = match lost {
        Some(n) => (n.to_string(), Origin::Daskctl),
        None => (name_for(&info.address), Origin::Unknown),
    };
    let mut c = Cluster::new(name, BACKEND, origin);
    c.owner = Some(b.ctx.user.name.clone());
    fill_from_info(&mut c, info, idle);
    c.resources.push(proc_resource(
        p.pid,
        Role::Scheduler,
        true,
        Some(short_cmd(p)),
    ));
    c.private.insert("kind".into(), "foreign".into());
    c.private.insert(
        "scheduler_pid".into(),
        format!("{}:{}:{}", p.pid, p.start, p.is_cli("scheduler") as u8),
    );
    let (status, reason) = classify(
        &SchedulerState::Answering {
            connected: info.workers.len() as u64,
        },
        0,
        None,
    );
    c.status = status;
    c.reason = if origin == Origin::Daskctl {
        Some("daskctl state directory is missing; rebuilt from the processes".into())
    } else {
        reason
    };
    c
}

/// Adds a found worker process; a worker spawned by a nanny is represented by the nanny.
fn add_worker_proc(c: &mut Cluster, all: &[ProcInfo], wp: &ProcInfo) {
    let top = all
        .iter()
        .find(|p| p.pid == wp.ppid && p.is_cli("worker"))
        .unwrap_or(wp);
    if c.resources.iter().any(|r| r.id == top.pid.to_string()) {
        return;
    }
    c.resources.push(proc_resource(
        top.pid,
        Role::Worker,
        true,
        Some(short_cmd(top)),
    ));
    let entry = c.private.entry("worker_pids".into()).or_default();
    if !entry.is_empty() {
        entry.push(',');
    }
    entry.push_str(&format!(
        "{}:{}:{}",
        top.pid,
        top.start,
        top.is_cli("worker") as u8
    ));
}

fn add_attached(c: &mut Cluster, dir: &StateDir, st: &ClusterState) {
    for w in &st.workers {
        if c.resources.iter().any(|r| r.id == w.pid.to_string()) {
            continue;
        }
        let a = procfs::alive(w.pid, Some(w.start));
        c.resources
            .push(proc_resource(w.pid, Role::Worker, a, Some(w.name.clone())));
    }
    c.private
        .insert("state_dir".into(), dir.path.to_string_lossy().into_owned());
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

fn short_cmd(p: &ProcInfo) -> String {
    let args: Vec<&str> = p
        .cmdline
        .iter()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .take(3)
        .collect();
    args.join(" ")
}

/// `(pid, start, is_cli)` triples stored in `private`.
pub fn private_pids(c: &Cluster, key: &str) -> Vec<(i32, u64, bool)> {
    c.private
        .get(key)
        .map(|s| {
            s.split(',')
                .filter_map(|t| {
                    let mut it = t.split(':');
                    Some((
                        it.next()?.parse().ok()?,
                        it.next()?.parse().ok()?,
                        it.next()? == "1",
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}
