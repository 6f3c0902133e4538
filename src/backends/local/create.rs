//! `create local`: a scheduler and N workers as detached processes, all-or-nothing.
//!
//! The state is written before anything starts and records each process as soon as it runs;
//! every process carries the cluster's markers and this command's id (`DASKCTL_OP`). On failure
//! or Ctrl-C everything this command started is stopped and the directory removed; after a
//! SIGKILL, discovery shows the cluster as an interrupted create that `delete` and
//! `cleanup --orphaned` remove.

use super::Local;
use super::discover;
use super::procfs;
use super::spawn::{self, ENV_CLUSTER, ENV_HOME, ENV_OP, ENV_ROLE};
use super::state::{ClusterState, Creator, GroupState, Phase, StateDir};
use super::workers::{Wanted, start_workers, stop_op, wait_for_workers, worker_args};
use crate::backends::CreateRequest;
use crate::error::{Error, Result};
use crate::interrupt::Interrupts;
use crate::model::Cluster;
use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

pub async fn create(b: &Local, req: &CreateRequest) -> Result<Cluster> {
    let python = spawn::find_python(chosen_python(b, req)).await?;
    let host = chosen_host(req);
    port_free(b, &host, req.options.get("scheduler-port"))?;
    let dir = StateDir::new(&b.ctx.config.state_root(), &req.name)?;
    let mut interrupts = Interrupts::install()?;
    let op = spawn::op_id();
    dir.create()?;
    let lock = match dir.lock(Duration::from_secs(5)).await {
        Ok(l) => l,
        Err(e) => {
            dir.remove()?;
            return Err(e);
        }
    };
    let me = std::process::id() as i32;
    let mut st = planned_state(req, python, host);
    st.created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    st.creator = procfs::stat(me).map(|s| Creator {
        pid: me,
        start: s.start,
    });
    // written ahead: the cluster is visible before any of its processes exists
    if let Err(e) = dir.save(&st) {
        drop(lock);
        dir.remove()?;
        return Err(e);
    }
    let what = format!("create of local/{}", req.name);
    let built = interrupts
        .guard(&what, build(b, req, &dir, &mut st, &op))
        .await;
    let done = match built {
        Ok(()) => {
            st.phase = Phase::Ready;
            st.creator = None;
            dir.save(&st)
        }
        Err(e) => Err(e),
    };
    if let Err(e) = done {
        // nothing half-created: stop what this command started, remove the state
        let left = stop_op(b, &req.name, &op).await;
        drop(lock);
        if !left.is_empty() {
            return Err(Error::backend(
                "local",
                format!(
                    "{e}; and processes it started are still running: {} (daskctl delete local/{} stops them)",
                    join(&left),
                    req.name
                ),
            ));
        }
        dir.remove()?;
        return Err(match e {
            Error::Interrupted(m) => Error::Interrupted(format!(
                "{m}: everything it had started was stopped and removed"
            )),
            other => other,
        });
    }
    drop(lock);
    discover::find(b, &req.name)
        .await?
        .ok_or_else(|| Error::backend("local", "cluster vanished right after creation"))
}

/// `--scheduler-port` already taken on this machine: a usage error saying by whom (a cluster
/// of yours, or a process), before anything is made, rather than a scheduler that dies with
/// Python's traceback.
fn port_free(b: &Local, host: &str, port: Option<&String>) -> Result<()> {
    let Some(port) = port.and_then(|p| p.parse::<u16>().ok()).filter(|p| *p != 0) else {
        return Ok(());
    };
    let wanted: Option<std::net::IpAddr> = host.parse().ok();
    let clash = |(ip, p): &(std::net::IpAddr, u16)| {
        *p == port && (ip.is_unspecified() || wanted.is_none_or(|w| w.is_unspecified() || w == *ip))
    };
    let inodes: Vec<u64> = super::listeners::all()
        .into_iter()
        .filter(|(_, a)| clash(a))
        .map(|(inode, _)| inode)
        .collect();
    if inodes.is_empty() {
        return Ok(());
    }
    // whose socket: one of your processes holds it open (others' fds cannot be read)
    let pids = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok());
    let owner = pids.into_iter().find(|pid| {
        procfs::socket_inodes(*pid)
            .iter()
            .any(|i| inodes.contains(i))
    });
    let by = match owner {
        Some(pid) => {
            let cluster = procfs::scan(b.ctx.user.uid)
                .into_iter()
                .find(|p| p.pid == pid)
                .and_then(|p| p.marker(ENV_CLUSTER).map(str::to_string));
            match cluster {
                Some(c) => format!("local/{c} (process {pid})"),
                None => {
                    let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                    let cmd: String = String::from_utf8_lossy(&cmd)
                        .replace('\0', " ")
                        .trim()
                        .chars()
                        .take(80)
                        .collect();
                    format!("process {pid} ({cmd})")
                }
            }
        }
        None => "a process of another user".into(),
    };
    Err(Error::Usage(format!(
        "port {port} is already in use on this machine by {by}: choose another --scheduler-port, \
         or leave it out for any free port"
    )))
}

fn join(pids: &[i32]) -> String {
    pids.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn build(
    b: &Local,
    req: &CreateRequest,
    dir: &StateDir,
    st: &mut ClusterState,
    op: &str,
) -> Result<()> {
    let home = b.ctx.config.state_root().to_string_lossy().into_owned();
    let sched_markers = [
        (ENV_CLUSTER, req.name.as_str()),
        (ENV_ROLE, "scheduler"),
        (ENV_HOME, home.as_str()),
        (ENV_OP, op),
    ];
    let args = scheduler_args(req, &st.host, dir);
    let s = spawn::spawn_dask(
        &st.python,
        &args,
        &dir.logs(),
        "scheduler.log",
        &sched_markers,
        "scheduler",
    )?;
    // the child is not waited for: it outlives daskctl (reaped by init); an exit shows as a
    // zombie, which counts as dead
    drop(s.child);
    let sched = s.proc.clone();
    st.scheduler = Some(s.proc);
    dir.save(st)?;
    let deadline = Instant::now() + req.timeout;
    req.progress.say("waiting for the scheduler");
    let (address, dashboard_port) = wait_scheduler_file(dir, &sched, deadline).await?;
    st.dashboard = dashboard_port.map(|p| format!("http://{}:{p}/status", url_host(&st.host)));
    st.address = Some(address.clone());
    dir.save(st)?;
    let mut names = start_workers(b, dir, st, None, req.workers, &HashSet::new(), op)?;
    for g in &req.groups {
        names.extend(start_workers(
            b,
            dir,
            st,
            Some(&g.name),
            g.workers,
            &HashSet::new(),
            op,
        )?);
    }
    if b.ctx.prober.enabled() {
        let wanted = Wanted {
            address: &address,
            n: names.len(),
            deadline,
            names: &names,
            holding_lock: true,
            asked: None,
            progress: &req.progress,
        };
        wait_for_workers(b, dir, st, wanted).await?;
    }
    Ok(())
}

fn url_host(host: &str) -> String {
    match host {
        "0.0.0.0" | "" => "127.0.0.1".into(),
        h if h.contains(':') => format!("[{h}]"),
        h => h.into(),
    }
}

/// `dask scheduler` arguments of a new cluster.
fn scheduler_args(req: &CreateRequest, host: &str, dir: &StateDir) -> Vec<String> {
    let port = req
        .options
        .get("scheduler-port")
        .cloned()
        .unwrap_or_else(|| "0".into());
    let dash = req
        .options
        .get("dashboard-address")
        .cloned()
        .unwrap_or_else(|| format!("{host}:0"));
    let mut args: Vec<String> = [
        "scheduler",
        "--host",
        host,
        "--port",
        &port,
        "--dashboard-address",
        &dash,
        "--scheduler-file",
        &dir.scheduler_file().to_string_lossy(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Dask's own idle timeout: the cluster ends itself even if no daskctl ever runs again
    if let Some(t) = req.options.get("idle-timeout") {
        args.extend(["--idle-timeout".into(), format!("{t}s")]);
    }
    args
}

/// `--python`, else `backends.local.python` (`DASKCTL_PYTHON`); None: look for python3.
fn chosen_python(b: &Local, req: &CreateRequest) -> Option<String> {
    req.options
        .get("python")
        .cloned()
        .or_else(|| b.settings.python.clone())
}

/// `--host`, else loopback: a local cluster is not reachable from elsewhere unless asked.
fn chosen_host(req: &CreateRequest) -> String {
    req.options
        .get("host")
        .cloned()
        .unwrap_or_else(|| "127.0.0.1".into())
}

/// The state of a cluster about to be created: nothing started yet.
fn planned_state(req: &CreateRequest, python: String, host: String) -> ClusterState {
    // no --memory: the machine's memory shared among the workers, as LocalCluster shares it
    // (`parse_memory_limit("auto", 1, n_workers)`), not each worker claiming all of it
    let all: u64 =
        u64::from(req.workers) + req.groups.iter().map(|g| u64::from(g.workers)).sum::<u64>();
    let share = (all > 0)
        .then(procfs::memory_limit)
        .flatten()
        .map(|m| m / all);
    let memory = req.memory.or(share);
    ClusterState {
        name: req.name.clone(),
        created: 0.0,
        python,
        host,
        threads: req.threads.unwrap_or(1),
        memory,
        scheduler: None,
        address: None,
        dashboard: None,
        workers: Vec::new(),
        next_worker: 0,
        phase: Phase::Creating,
        creator: None,
        requested: Some(req.workers),
        node: Some(crate::host::Node::this().clone()),
        instance: Some(crate::names::new_instance()),
        idle_timeout: req.options.get("idle-timeout").and_then(|t| t.parse().ok()),
        groups: req
            .groups
            .iter()
            .map(|g| GroupState {
                name: g.name.clone(),
                // the cluster's shape unless the group gives its own
                threads: g.threads.or(req.threads).unwrap_or(1),
                memory: g.memory.or(memory),
                requested: Some(g.workers),
                next_worker: 0,
            })
            .collect(),
    }
}

/// `create --dry-run`: the processes `create` would start, and where.
pub fn plan(b: &Local, req: &CreateRequest) -> Result<crate::backends::Plan> {
    use crate::backends::{Plan, Step};
    let python = chosen_python(b, req).unwrap_or_else(|| "python3".into());
    let host = chosen_host(req);
    let dir = StateDir::new(&b.ctx.config.state_root(), &req.name)?;
    let st = planned_state(req, python.clone(), host.clone());
    let argv = |args: Vec<String>| {
        let mut v = vec![python.clone(), "-m".into(), "dask".into()];
        v.extend(args);
        v
    };
    let mut steps = vec![Step {
        argv: Some(argv(scheduler_args(req, &host, &dir))),
        ..Step::new(
            "scheduler",
            format!(
                "the scheduler, a detached process; state in {}",
                dir.path.display()
            ),
        )
    }];
    let mut shapes: Vec<(Option<&GroupState>, u32, String)> =
        vec![(None, req.workers, req.name.clone())];
    for g in &st.groups {
        let n = g.requested.unwrap_or(0);
        shapes.push((Some(g), n, format!("{}-{}", req.name, g.name)));
    }
    for (group, n, prefix) in shapes.into_iter().filter(|(_, n, _)| *n > 0) {
        let first = format!("{prefix}-0");
        let of = group
            .map(|g| format!(" of group {}", g.name))
            .unwrap_or_default();
        steps.push(Step {
            argv: Some(argv(worker_args(
                &st,
                group,
                &dir,
                "<the scheduler's address>",
                &first,
            ))),
            ..Step::new(
                "workers",
                format!(
                    "{n} `dask worker` process(es){of}, named {prefix}-0 to {prefix}-{}",
                    n - 1
                ),
            )
        });
    }
    Ok(Plan {
        backend: "local".into(),
        name: req.name.clone(),
        dry_run: true,
        steps,
    })
}

async fn wait_scheduler_file(
    dir: &StateDir,
    sched: &super::state::Proc,
    deadline: Instant,
) -> Result<(String, Option<u16>)> {
    let path = dir.scheduler_file();
    let within = deadline.saturating_duration_since(Instant::now());
    let found = crate::backends::until(within, Duration::from_millis(25), || async {
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(addr) = v.get("address").and_then(|a| a.as_str())
        {
            let dash = v
                .get("services")
                .and_then(|s| s.get("dashboard"))
                .and_then(|p| p.as_u64())
                .and_then(|p| u16::try_from(p).ok());
            return Some(Ok((addr.to_string(), dash)));
        }
        if !procfs::alive(sched.pid, Some(sched.start)) {
            return Some(Err(Error::backend(
                "local",
                format!(
                    "scheduler exited before it was ready: {}",
                    spawn::log_tail(&dir.logs().join("scheduler.log"), 3)
                ),
            )));
        }
        None
    })
    .await;
    found.unwrap_or_else(|| {
        Err(Error::Timeout(format!(
            "scheduler did not start in time: {}",
            spawn::log_tail(&dir.logs().join("scheduler.log"), 3)
        )))
    })
}
