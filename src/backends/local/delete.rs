//! `delete`: workers first (a nanny whose scheduler is gone lingers ~8 s), then the scheduler;
//! then a check that nothing is left, and only then is the state removed. "Deleted" means
//! verified gone.
//!
//! - A `dask scheduler` process of the user's (daskctl's own or not) is terminated: over the
//!   protocol when it answers, else SIGCONT + SIGTERM, then SIGKILL after a grace period.
//! - A scheduler living inside another program (a notebook kernel's LocalCluster) is asked to
//!   terminate over the protocol; that program is never signalled. When it does not answer,
//!   nothing of the cluster is touched and the delete fails (exit 4): a paused notebook keeps
//!   its workers.
//! - Only processes that still are what discovery saw (same start time, the user's, and for
//!   daskctl's own the cluster's markers) are ever signalled.

use super::Local;
use super::discover::Scan;
use super::handle::handle;
use super::handle::{Kind, LocalHandle};
use super::procfs;
use super::spawn::{self, ENV_ROLE, Proof, Target};
use crate::backends::DeleteRequest;
use crate::dask::client;
use crate::error::{Error, ProbeFault, Result};
use crate::model::{Cluster, Status};
use std::time::Duration;

/// The instance id of the state the cluster was listed with.
fn listed_instance(h: &super::handle::LocalHandle) -> Option<String> {
    match &h.kind {
        super::handle::Kind::Own {
            state: Some(st), ..
        } => st.instance.clone(),
        _ => None,
    }
}

pub async fn delete(b: &Local, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let h = handle(c)?;
    // what an interrupted delete left: its processes were stopped before; the files go
    if let super::handle::Kind::Removing { tomb } = &h.kind {
        return tomb.remove(req.timeout).await;
    }
    let home = b.ctx.config.state_root().to_string_lossy().into_owned();
    let uid = b.ctx.user.uid;
    let grace = req.timeout.min(Duration::from_secs(20));
    let sched = h.scheduler.clone();
    let signalable_sched = sched.as_ref().is_some_and(|s| s.cli || s.marked);
    if h.silent && !signalable_sched {
        return Err(silent_scheduler(c, sched.as_ref()));
    }
    let dir = h.state_dir().cloned();
    let gone = || Error::deleted_meanwhile(&c.qualified());
    let _lock = match &dir {
        Some(d) if d.exists() => match d.lock(req.timeout).await {
            // removed while this command waited for its lock
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Err(gone());
            }
            Err(e) => return Err(e),
            // the lock of a directory renamed away by the delete that held it
            Ok(_) if !d.exists() => return Err(gone()),
            Ok(l) => Some(l),
        },
        _ => None,
    };
    // it may have been deleted and created again since it was listed: under its lock, its
    // state must still be the listed instance's (a new one shares its name and markers)
    if let (Some(d), Some(was)) = (&dir, listed_instance(h))
        && let Ok(Some(now)) = d.load()
        && let Some(is) = now.instance.filter(|is| *is != was)
    {
        return Err(Error::replaced(&c.qualified(), &was, &is));
    }
    let workers = current_workers(b, c, h, &home).await?;

    // 1. a scheduler daskctl did not start is asked to close (it closes its workers too)
    let embedded_port_check = close_scheduler(b, c, h, signalable_sched).await?;

    // 2. workers: `dask worker` commands and daskctl's own at once; the others (a
    // LocalCluster's worker subprocesses) were told to close by their scheduler: given the
    // time, then stopped if still there (they answered as Dask workers of this user)
    let (cli, rest): (Vec<Target>, Vec<Target>) = workers
        .into_iter()
        .partition(|t| t.group || is_cli_worker(t));
    let mut left = spawn::stop(&cli, uid, grace).await;
    let rest_refs: Vec<&Target> = rest.iter().collect();
    if !spawn::wait_dead(&rest_refs, grace / 2).await {
        left.extend(spawn::stop(&rest, uid, grace / 2).await);
    }

    // 3. the scheduler process, when it is a `dask scheduler` command (daskctl's or not)
    if let Some(s) = sched.as_ref().filter(|_| signalable_sched) {
        left.extend(spawn::stop(&[s.target(&c.name, &home)], uid, grace).await);
    }

    // 4. daskctl's own: nothing carrying the cluster's markers may outlive the delete, however
    // late it appeared (a worker an interrupted create or scale was starting, a nanny's worker
    // process started while its nanny was told to close). The lock held here means no daskctl
    // command is starting one: markers now only pass from a marked process to its children.
    if let Some(name) = marked_name(c, h) {
        let markers = vec![
            (spawn::ENV_CLUSTER.to_string(), name),
            (spawn::ENV_HOME.to_string(), home.clone()),
        ];
        left.extend(spawn::sweep(uid, markers, grace, grace + Duration::from_secs(5)).await);
    }

    // 5. nothing left?
    if !left.is_empty() {
        left.sort();
        left.dedup();
        return Err(Error::backend(
            "local",
            format!(
                "{}: processes still running after delete: {}",
                c.qualified(),
                left.iter()
                    .map(|p| still_running(*p))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if let Some(addr) = embedded_port_check {
        wait_closed(b, &addr, grace).await?;
    }
    if let Some(d) = dir {
        d.remove()?;
    }
    Ok(())
}

/// A scheduler daskctl did not start, asked to close (it closes its workers too): the address
/// whose port must then be seen closed, when no process of it can be signalled.
async fn close_scheduler(
    b: &Local,
    c: &Cluster,
    h: &super::handle::LocalHandle,
    signalable_sched: bool,
) -> Result<Option<String>> {
    let sched = h.scheduler.as_ref();
    let mut embedded_port_check = None;
    let judged_gone = matches!(c.status, Status::Orphaned | Status::Stopped);
    if !h.own_scheduler()
        && !h.silent
        && !judged_gone
        && b.ctx.prober.enabled()
        && let Some(addr) = &c.address
    {
        match terminate(b, addr).await {
            Ok(()) => {
                if !signalable_sched {
                    embedded_port_check = Some(addr.clone());
                }
            }
            // exited since discovery (another cleanup, its own program): nothing to close
            Err(e) if e.probe_fault() == Some(ProbeFault::Refused) => {}
            Err(_) if sched.is_some_and(|s| !procfs::alive(s.pid, Some(s.start))) => {}
            Err(e) if signalable_sched => {
                tracing::info!("{addr}: terminate failed ({e}); stopping its process")
            }
            Err(e) => return Err(e),
        }
    }
    Ok(embedded_port_check)
}

/// Why a cluster whose scheduler lives but does not answer, inside a program daskctl never
/// stops, is not deleted.
fn silent_scheduler(c: &Cluster, sched: Option<&super::handle::Found>) -> Error {
    let where_ = match sched {
        Some(s) => format!("inside program {} ({})", s.pid, s.cmd),
        None => format!(
            "at {}",
            c.address.as_deref().unwrap_or("an unknown address")
        ),
    };
    Error::Partial(format!(
        "{} was not deleted: its scheduler {where_} lives but does not answer ({}); daskctl never stops a program hosting a scheduler, and leaves its workers alone",
        c.qualified(),
        c.reason.as_deref().unwrap_or("no answer")
    ))
}

/// A process that outlived the delete, as `ps` would show it: what it is and its state (a
/// process in `D`, uninterruptible sleep, is beyond any signal until its I/O returns).
fn still_running(pid: i32) -> String {
    let (state, parent) = procfs::stat(pid).map_or(('?', 0), |s| (s.state, s.ppid));
    let cmd = procfs::cmdline(pid)
        .into_iter()
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    crate::printer::clean(&format!("{pid} (state {state}, parent {parent}: {cmd})")).into_owned()
}

fn is_cli_worker(t: &Target) -> bool {
    let cmd = std::fs::read(format!("/proc/{}/cmdline", t.pid)).unwrap_or_default();
    let args: Vec<String> = cmd
        .split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    procfs::is_cli(&args, "worker")
}

/// The cluster's workers as they are now: those discovery saw, plus daskctl's own recorded or
/// marked since (a `scale` that ran meanwhile, a worker started but not yet recorded).
async fn current_workers(
    b: &Local,
    c: &Cluster,
    h: &LocalHandle,
    home: &str,
) -> Result<Vec<Target>> {
    let mut out: Vec<Target> = h.workers.iter().map(|w| w.target(&c.name, home)).collect();
    let Some(name) = marked_name(c, h) else {
        return Ok(out);
    };
    let scan = Scan::take(b).await?;
    let proof = Proof::Marked {
        cluster: name.clone(),
        home: home.to_string(),
    };
    let mut add = |pid: i32, start: u64| {
        if !out.iter().any(|t| t.pid == pid) {
            out.push(Target {
                pid,
                start,
                group: true,
                proof: proof.clone(),
            });
        }
    };
    for p in scan.marked(&name) {
        if p.marker(ENV_ROLE) == Some("worker") {
            add(p.pid, p.start);
        }
    }
    if let Some((_, Ok(Some(st)))) = scan.dirs.iter().find(|(d, _)| d.name() == name) {
        for w in &st.workers {
            add(w.pid, w.start);
        }
    }
    Ok(out)
}

/// The name daskctl's own processes of this cluster carry in their markers (None: a cluster
/// daskctl started nothing for).
fn marked_name(c: &Cluster, h: &LocalHandle) -> Option<String> {
    match &h.kind {
        Kind::Own { dir, .. } => Some(dir.name().to_string()),
        Kind::Foreign {
            attached: Some(dir),
        } => Some(dir.name().to_string()),
        Kind::Rebuilt => Some(c.name.clone()),
        Kind::Foreign { attached: None } | Kind::Removing { .. } => None,
    }
}

async fn terminate(b: &Local, addr: &str) -> Result<()> {
    let mut comm = b.ctx.prober.connect(addr).await?;
    client::terminate(&mut comm).await
}

/// Waits until nothing answers at `addr` any more (a scheduler inside a program closing).
async fn wait_closed(b: &Local, addr: &str, within: Duration) -> Result<()> {
    let closed = crate::backends::until(within, Duration::from_millis(100), || async {
        b.ctx.prober.scheduler(addr).await.is_err().then_some(())
    })
    .await;
    closed.ok_or_else(|| Error::Timeout(format!("scheduler {addr} still answers after terminate")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::local::handle::Found;
    use crate::backends::{Context, User};
    use crate::config::Config;
    use crate::dask::Prober;
    use crate::model::{Handle, Origin, Resource, Role};
    use std::sync::Arc;

    fn ctx() -> Arc<Context> {
        let config = Config::default();
        Arc::new(Context {
            prober: Prober::new(&config.probe, false),
            silence: crate::backends::liveness::Silence::new(None, Duration::from_secs(300)),
            scope: Default::default(),
            config,
            user: User::current(),
        })
    }

    /// A foreign scheduler found running, whose process exits before `delete` reaches it (a
    /// race with another cleanup): deleting it succeeds, as there is nothing left to stop.
    #[tokio::test]
    async fn scheduler_that_exited_since_discovery_counts_as_deleted() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let start = procfs::stat(pid).unwrap().start;
        child.kill().unwrap();
        child.wait().unwrap();
        // a port nothing listens on
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut c = Cluster::new(format!("port-{port}"), "local", Origin::Unknown);
        c.status = Status::Running;
        c.address = Some(format!("tcp://127.0.0.1:{port}"));
        c.resources.push(Resource {
            kind: "process",
            id: pid.to_string(),
            role: Role::Scheduler,
            state: "running".into(),
            name: None,
            ..Default::default()
        });
        c.handle = Handle::new(LocalHandle {
            kind: Kind::Foreign { attached: None },
            scheduler: Some(Found {
                pid,
                start,
                cli: true,
                marked: false,
                stopped: false,
                name: None,
                cmd: "dask scheduler".into(),
            }),
            workers: vec![],
            silent: false,
        });
        let (b, req) = local_and_request();
        delete(&b, &c, &req).await.unwrap();
    }

    fn local_and_request() -> (Local, DeleteRequest) {
        let b = Local {
            ctx: ctx(),
            settings: Default::default(),
            policies_read_by_owners: Default::default(),
            notes: Default::default(),
        };
        let req = DeleteRequest {
            wait: true,
            timeout: Duration::from_secs(5),
            progress: Default::default(),
        };
        (b, req)
    }

    /// A scheduler inside a program that does not answer: nothing is touched, and the delete
    /// says it was not done (exit 4).
    #[tokio::test]
    async fn silent_embedded_scheduler_is_not_deleted() {
        let mut c = Cluster::new("port-1", "local", Origin::Unknown);
        c.status = Status::Unknown;
        c.address = Some("tcp://127.0.0.1:1".into());
        c.handle = Handle::new(LocalHandle {
            kind: Kind::Foreign { attached: None },
            scheduler: Some(Found {
                pid: std::process::id() as i32,
                start: procfs::stat(std::process::id() as i32).unwrap().start,
                cli: false,
                marked: false,
                stopped: true,
                name: None,
                cmd: "python notebook.py".into(),
            }),
            workers: vec![],
            silent: true,
        });
        let (b, req) = local_and_request();
        let e = delete(&b, &c, &req).await.unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit::PARTIAL, "{e}");
        assert!(e.to_string().contains("was not deleted"), "{e}");
    }
}
