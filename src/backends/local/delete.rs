//! `delete`: workers first (a nanny whose scheduler is gone lingers ~8 s), then the scheduler;
//! then a check that nothing is left. A scheduler living inside another program (a notebook
//! kernel's LocalCluster) is asked to terminate over the protocol; that program is never killed.

use super::Local;
use super::discover::private_pids;
use super::procfs;
use super::spawn::{self, Target};
use super::state::StateDir;
use crate::backends::DeleteRequest;
use crate::dask::client;
use crate::error::{Error, Result};
use crate::model::{Cluster, Role};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub async fn delete(b: &Local, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let dir = c.private.get("state_dir").map(|d| StateDir {
        path: PathBuf::from(d),
    });
    let _lock = match &dir {
        Some(d) if d.exists() => Some(d.lock()?),
        _ => None,
    };
    let state = dir.as_ref().and_then(|d| d.load().ok());
    let grace = req.timeout.min(Duration::from_secs(20));

    // 1. workers daskctl started
    let own_workers: Vec<Target> = state
        .iter()
        .flat_map(|s| s.workers.iter())
        .map(|w| Target {
            pid: w.pid,
            start: Some(w.start),
            group: true,
        })
        .collect();
    spawn::stop(&own_workers, grace);

    // 2. other `dask worker` processes of this cluster
    let cli_workers: Vec<Target> = private_pids(c, "worker_pids")
        .into_iter()
        .filter(|(_, _, cli)| *cli)
        .map(|(pid, start, _)| Target {
            pid,
            start: Some(start),
            group: false,
        })
        .collect();
    spawn::stop(&cli_workers, grace);

    // 3. the scheduler
    let mut embedded_port_check = None;
    if let Some(s) = state.as_ref().and_then(|s| s.scheduler.clone()) {
        spawn::stop(
            &[Target {
                pid: s.pid,
                start: Some(s.start),
                group: true,
            }],
            grace,
        );
    } else if let Some(addr) = &c.address {
        let sched = private_pids(c, "scheduler_pid").into_iter().next();
        if c.scheduler_alive()
            && b.ctx.prober.enabled()
            && let Err(e) = terminate(b, addr).await
        {
            // exited since discovery (another cleanup, its own program): nothing to terminate
            let exited = sched.is_some_and(|(pid, start, _)| !procfs::alive(pid, Some(start)));
            if !exited {
                return Err(e);
            }
        }
        match sched {
            Some((pid, start, true)) if !spawn::wait_dead(&[(pid, Some(start))], grace) => {
                let t = Target {
                    pid,
                    start: Some(start),
                    group: false,
                };
                spawn::stop(&[t], grace);
            }
            Some((_, _, true)) => {}
            Some(_) => embedded_port_check = Some(addr.clone()),
            None => {}
        }
    }

    // 4. workers that are not `dask worker` processes (a LocalCluster's worker subprocesses, a
    // dead kernel's leftovers): a terminated scheduler tells them to close; give them the time,
    // then stop those still there (they answered as Dask workers of this user)
    let rest: Vec<(i32, Option<u64>)> = private_pids(c, "worker_pids")
        .into_iter()
        .filter(|(_, _, cli)| !*cli)
        .map(|(pid, start, _)| (pid, Some(start)))
        .collect();
    if !spawn::wait_dead(&rest, grace / 2) {
        let targets: Vec<Target> = rest
            .iter()
            .map(|(pid, start)| Target {
                pid: *pid,
                start: *start,
                group: false,
            })
            .collect();
        spawn::stop(&targets, grace / 2);
    }

    // 5. nothing left?
    let left: Vec<String> = c
        .resources
        .iter()
        .filter(|r| r.kind == "process")
        .filter_map(|r| r.id.parse::<i32>().ok().map(|p| (p, r)))
        .filter(|(p, r)| {
            let start = state_start(&state, *p).or_else(|| pid_start(c, *p));
            // an embedded scheduler's process (a kernel) is not ours to stop
            !(r.role == Role::Scheduler && embedded_port_check.is_some())
                && procfs::alive(*p, start)
        })
        .map(|(p, _)| p.to_string())
        .collect();
    if !left.is_empty() {
        return Err(Error::backend(
            "local",
            format!("processes still running after delete: {}", left.join(", ")),
        ));
    }
    if let Some(addr) = embedded_port_check {
        wait_closed(b, &addr, Instant::now() + grace).await?;
    }
    if let Some(d) = dir {
        drop(_lock);
        d.remove()?;
    }
    Ok(())
}

async fn terminate(b: &Local, addr: &str) -> Result<()> {
    let mut comm = b.ctx.prober.connect(addr).await?;
    client::terminate(&mut comm).await
}

fn state_start(state: &Option<super::state::ClusterState>, pid: i32) -> Option<u64> {
    let s = state.as_ref()?;
    s.scheduler
        .iter()
        .chain(s.workers.iter())
        .find(|p| p.pid == pid)
        .map(|p| p.start)
}

fn pid_start(c: &Cluster, pid: i32) -> Option<u64> {
    private_pids(c, "scheduler_pid")
        .into_iter()
        .chain(private_pids(c, "worker_pids"))
        .find(|(p, _, _)| *p == pid)
        .map(|(_, s, _)| s)
}

async fn wait_closed(b: &Local, addr: &str, deadline: Instant) -> Result<()> {
    loop {
        if b.ctx.prober.scheduler(addr).await.is_err() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!(
                "scheduler {addr} still answers after terminate"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::{Context, User};
    use crate::config::Config;
    use crate::dask::Prober;
    use crate::model::{Origin, Resource, Status};
    use std::sync::Arc;

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
        });
        c.private
            .insert("scheduler_pid".into(), format!("{pid}:{start}:1"));
        let config = Config::default();
        let b = Local {
            ctx: Arc::new(Context {
                prober: Prober::new(&config.probe, false),
                config,
                user: User::current(),
            }),
        };
        let req = DeleteRequest {
            wait: true,
            timeout: Duration::from_secs(5),
        };
        delete(&b, &c, &req).await.unwrap();

        // the same cluster with its process still there is an error, not a silent success
        c.private.insert(
            "scheduler_pid".into(),
            format!(
                "{}:{}:0",
                std::process::id(),
                procfs::stat(std::process::id() as i32).unwrap().start
            ),
        );
        assert!(delete(&b, &c, &req).await.is_err());
    }
}
