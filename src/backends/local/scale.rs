//! `scale`: up starts worker processes (also next to a scheduler daskctl did not start); down
//! retires workers through the scheduler first, then stops their processes. Runs under the
//! cluster's lock, re-reading the state inside it, so concurrent scales serialise.

use super::Local;
use super::create::start_workers;
use super::procfs;
use super::spawn::{self, Target};
use super::state::{ClusterState, StateDir};
use crate::backends::{ScaleReport, ScaleRequest};
use crate::dask::client;
use crate::error::{Error, Result};
use crate::model::Cluster;
use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub async fn scale(b: &Local, c: &Cluster, req: &ScaleRequest) -> Result<ScaleReport> {
    let address = c
        .address
        .clone()
        .ok_or_else(|| Error::backend("local", format!("{} has no scheduler address", c.name)))?;
    let own_scheduler = c.private.get("kind").map(String::as_str) == Some("daskctl");
    let dir = StateDir::new(&b.ctx.config.state_root(), &c.name);
    if !own_scheduler && !dir.exists() {
        // first time daskctl adds workers to this scheduler: a state dir for them
        let python = spawn::find_python(b.ctx.config.backend_str("local", "python"))?;
        dir.create()
            .or_else(|e| if dir.exists() { Ok(()) } else { Err(e) })?;
        let st = ClusterState {
            name: c.name.clone(),
            created: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            python,
            host: "127.0.0.1".into(),
            threads: 1,
            memory: None,
            scheduler: None,
            address: Some(address.clone()),
            dashboard: c.dashboard.clone(),
            workers: Vec::new(),
            next_worker: 0,
        };
        dir.save(&st)?;
    }
    let _lock = dir.lock()?;
    let mut st = dir.load()?;
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

    let mut comm = b.ctx.prober.connect(&address).await?;
    let info = match client::identity(&mut comm).await? {
        crate::dask::Identity::Scheduler(i) => i,
        _ => return Err(Error::Protocol(format!("{address} is not a scheduler"))),
    };
    let connected: HashSet<&str> = info.workers.iter().map(|w| w.name.as_str()).collect();
    let starting: Vec<String> = st
        .workers
        .iter()
        .filter(|w| !connected.contains(w.name.as_str()))
        .map(|w| w.name.clone())
        .collect();
    let before = (info.workers.len() + starting.len()) as u64;
    let target = req.target as u64;
    let mut report = ScaleReport::new(before, target);

    if target > before {
        let spawned = start_workers(b, &dir, &mut st, (target - before) as u32)?;
        for s in spawned {
            report.started.push(s.proc.name.clone());
            st.workers.push(s.proc);
        }
        dir.save(&st)?;
    } else if target < before {
        let mut k = (before - target) as usize;
        // victims: own workers still starting, then own connected ones (newest first), then others
        let mut own_victims: Vec<String> = Vec::new();
        for name in starting.iter().rev() {
            if k == 0 {
                break;
            }
            own_victims.push(name.clone());
            k -= 1;
        }
        let own_connected: Vec<String> = st
            .workers
            .iter()
            .rev()
            .filter(|w| connected.contains(w.name.as_str()))
            .map(|w| w.name.clone())
            .collect();
        let retire_own: Vec<String> = own_connected.into_iter().take(k).collect();
        k -= retire_own.len();
        if !retire_own.is_empty() {
            client::retire_workers(&mut comm, &retire_own, false).await?;
            own_victims.extend(retire_own);
        }
        if k > 0 {
            // workers daskctl did not start: the scheduler retires and closes them
            let own: HashSet<&str> = st.workers.iter().map(|w| w.name.as_str()).collect();
            let mut others: Vec<&str> = info
                .workers
                .iter()
                .map(|w| w.name.as_str())
                .filter(|n| !own.contains(n))
                .collect();
            others.reverse();
            let names: Vec<String> = others.into_iter().take(k).map(str::to_string).collect();
            // close_workers: the scheduler tells them to shut down (their nannies with them)
            client::retire_workers(&mut comm, &names, true).await?;
            report.stopped.extend(names);
        }
        let targets: Vec<Target> = st
            .workers
            .iter()
            .filter(|w| own_victims.contains(&w.name))
            .map(|w| Target {
                pid: w.pid,
                start: Some(w.start),
                group: true,
            })
            .collect();
        spawn::stop(&targets, Duration::from_secs(15));
        st.workers.retain(|w| !own_victims.contains(&w.name));
        dir.save(&st)?;
        report.stopped.extend(own_victims);
    }
    comm.close().await;
    drop(_lock);
    if req.wait {
        wait_for_workers(
            b,
            &address,
            req.target as usize,
            Instant::now() + req.timeout,
            None,
        )
        .await?;
    }
    Ok(report)
}

/// Polls the scheduler until exactly `n` workers are connected (and, if given, these names).
pub async fn wait_for_workers(
    b: &Local,
    address: &str,
    n: usize,
    deadline: Instant,
    names: Option<&[String]>,
) -> Result<()> {
    let mut last;
    loop {
        match b.ctx.prober.scheduler(address).await {
            Ok(info) => {
                let have: HashSet<&str> = info.workers.iter().map(|w| w.name.as_str()).collect();
                let named = names.is_none_or(|ns| ns.iter().all(|x| have.contains(x.as_str())));
                if info.workers.len() == n && named {
                    return Ok(());
                }
                last = format!("{} of {n} workers connected", info.workers.len());
            }
            Err(e) => last = e.to_string(),
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!(
                "workers not ready in time ({last})"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
