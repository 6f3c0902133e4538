//! `create local`: a scheduler and N workers as detached processes, all-or-nothing.

use super::Local;
use super::discover;
use super::spawn::{self, ENV_CLUSTER, ENV_HOME, ENV_ROLE, Target};
use super::state::{ClusterState, StateDir};
use crate::backends::CreateRequest;
use crate::error::{Error, Result};
use crate::model::Cluster;
use std::process::Child;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub async fn create(b: &Local, req: &CreateRequest) -> Result<Cluster> {
    let python = spawn::find_python(
        req.options
            .get("python")
            .cloned()
            .or_else(|| b.ctx.config.backend_str("local", "python")),
    )?;
    let host = req
        .options
        .get("host")
        .cloned()
        .unwrap_or_else(|| "127.0.0.1".into());
    let dir = StateDir::new(&b.ctx.config.state_root(), &req.name);
    dir.create()?;
    let _lock = dir.lock()?;
    let mut children: Vec<Child> = Vec::new();
    match build(b, req, &dir, &python, &host, &mut children).await {
        Ok(()) => {
            drop(_lock);
            discover::from_state(b, &dir)
                .await?
                .ok_or_else(|| Error::backend("local", "cluster vanished right after creation"))
        }
        Err(e) => {
            // nothing half-created: stop what started, remove the state
            let targets: Vec<Target> = children
                .iter()
                .map(|c| Target {
                    pid: c.id() as i32,
                    start: None,
                    group: true,
                })
                .collect();
            spawn::stop(&targets, Duration::from_secs(10));
            for mut c in children {
                let _ = c.try_wait();
            }
            dir.remove()?;
            Err(e)
        }
    }
}

async fn build(
    b: &Local,
    req: &CreateRequest,
    dir: &StateDir,
    python: &str,
    host: &str,
    children: &mut Vec<Child>,
) -> Result<()> {
    let home = b.ctx.config.state_root().to_string_lossy().into_owned();
    let sched_markers = [
        (ENV_CLUSTER, req.name.as_str()),
        (ENV_ROLE, "scheduler"),
        (ENV_HOME, home.as_str()),
    ];
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
    let args: Vec<String> = [
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
    let s = spawn::spawn_dask(
        python,
        &args,
        &dir.logs(),
        "scheduler.log",
        &sched_markers,
        "scheduler",
    )?;
    let sched_proc = s.proc.clone();
    children.push(s.child);
    let deadline = Instant::now() + req.timeout;
    let (address, dashboard_port) = wait_scheduler_file(dir, children, deadline).await?;
    let dashboard = dashboard_port.map(|p| format!("http://{}:{p}/status", url_host(host)));
    let mut st = ClusterState {
        name: req.name.clone(),
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0),
        python: python.to_string(),
        host: host.to_string(),
        threads: req.threads.unwrap_or(1),
        memory: req.memory,
        scheduler: Some(sched_proc),
        address: Some(address.clone()),
        dashboard,
        workers: Vec::new(),
        next_worker: 0,
    };
    let procs = start_workers(b, dir, &mut st, req.workers)?;
    let names: Vec<String> = procs.iter().map(|s| s.proc.name.clone()).collect();
    for s in procs {
        st.workers.push(s.proc);
        children.push(s.child);
    }
    dir.save(&st)?;
    if b.ctx.prober.enabled() {
        super::scale::wait_for_workers(b, &address, req.workers as usize, deadline, Some(&names))
            .await
            .map_err(|e| {
                Error::backend(
                    "local",
                    format!(
                        "{e}; worker log: {}",
                        spawn::log_tail(
                            &dir.logs().join(format!(
                                "{}.log",
                                names.first().cloned().unwrap_or_default()
                            )),
                            3
                        )
                    ),
                )
            })?;
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

/// Starts `n` workers for the cluster in `st`, naming them `<cluster>-<k>`.
pub fn start_workers(
    b: &Local,
    dir: &StateDir,
    st: &mut ClusterState,
    n: u32,
) -> Result<Vec<spawn::Spawned>> {
    let home = b.ctx.config.state_root().to_string_lossy().into_owned();
    let address = st
        .address
        .clone()
        .ok_or_else(|| Error::backend("local", "cluster has no scheduler address"))?;
    let mut out = Vec::new();
    for _ in 0..n {
        let wname = format!("{}-{}", st.name, st.next_worker);
        st.next_worker += 1;
        let mut args: Vec<String> = vec![
            "worker".into(),
            address.clone(),
            "--name".into(),
            wname.clone(),
            "--nthreads".into(),
            st.threads.to_string(),
            "--host".into(),
            st.host.clone(),
            "--dashboard-address".into(),
            format!("{}:0", st.host),
            "--local-directory".into(),
            dir.path.join("work").to_string_lossy().into_owned(),
        ];
        if let Some(m) = st.memory {
            args.push("--memory-limit".into());
            args.push(m.to_string());
        }
        let markers = [
            (ENV_CLUSTER, st.name.as_str()),
            (ENV_ROLE, "worker"),
            (ENV_HOME, home.as_str()),
        ];
        let log = format!("{wname}.log");
        match spawn::spawn_dask(&st.python, &args, &dir.logs(), &log, &markers, &wname) {
            Ok(s) => out.push(s),
            Err(e) => {
                let targets: Vec<Target> = out
                    .iter()
                    .map(|s: &spawn::Spawned| Target {
                        pid: s.proc.pid,
                        start: Some(s.proc.start),
                        group: true,
                    })
                    .collect();
                spawn::stop(&targets, Duration::from_secs(10));
                return Err(e);
            }
        }
    }
    Ok(out)
}

async fn wait_scheduler_file(
    dir: &StateDir,
    children: &mut [Child],
    deadline: Instant,
) -> Result<(String, Option<u16>)> {
    let path = dir.scheduler_file();
    loop {
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(addr) = v.get("address").and_then(|a| a.as_str())
        {
            let dash = v
                .get("services")
                .and_then(|s| s.get("dashboard"))
                .and_then(|p| p.as_u64())
                .and_then(|p| u16::try_from(p).ok());
            return Ok((addr.to_string(), dash));
        }
        if let Some(c) = children.first_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            return Err(Error::backend(
                "local",
                format!(
                    "scheduler exited ({status}) before it was ready: {}",
                    spawn::log_tail(&dir.logs().join("scheduler.log"), 3)
                ),
            ));
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout("scheduler did not start in time".into()));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
