//! A cluster's worker processes as `create` and `scale` both start them: fresh names, `dask
//! worker` arguments, each recorded in the state as soon as it runs; waiting until the
//! scheduler has them (or until that can no longer happen); and stopping what one command
//! started when it is interrupted.

use super::Local;
use super::procfs;
use super::spawn::{self, ENV_CLUSTER, ENV_HOME, ENV_OP, ENV_ROLE, ENV_WORKER};
use super::state::{ClusterState, GroupState, StateDir};
use crate::error::{Error, Result};
use std::collections::HashSet;
use std::time::Duration;
use tokio::time::Instant;

/// Stops every process this command (`op`) started for `cluster`, and whatever those started
/// meanwhile (`spawn::sweep`); the pids still alive after.
pub async fn stop_op(b: &Local, cluster: &str, op: &str) -> Vec<i32> {
    let home = b.ctx.config.state_root().to_string_lossy().into_owned();
    let markers = vec![
        (ENV_CLUSTER.to_string(), cluster.to_string()),
        (ENV_HOME.to_string(), home),
        (ENV_OP.to_string(), op.to_string()),
    ];
    spawn::sweep(
        b.ctx.user.uid,
        markers,
        Duration::from_secs(10),
        Duration::from_secs(15),
    )
    .await
}

/// `dask worker` arguments of worker `wname` of group `group` (None: the default group) of the
/// cluster in `st`.
pub fn worker_args(
    st: &ClusterState,
    group: Option<&GroupState>,
    dir: &StateDir,
    address: &str,
    wname: &str,
) -> Vec<String> {
    let (threads, memory) = match group {
        Some(g) => (g.threads, g.memory),
        None => (st.threads, st.memory),
    };
    let mut args: Vec<String> = vec![
        "worker".into(),
        address.to_string(),
        "--name".into(),
        wname.to_string(),
        "--nthreads".into(),
        threads.to_string(),
        "--host".into(),
        st.host.clone(),
        "--dashboard-address".into(),
        format!("{}:0", st.host),
        "--local-directory".into(),
        dir.path.join("work").to_string_lossy().into_owned(),
    ];
    if let Some(m) = memory {
        args.push("--memory-limit".into());
        args.push(m.to_string());
    }
    if let Some(g) = group {
        // tasks target the group with resources={GROUP: 1}; as many at once as it has threads
        args.extend([
            "--resources".into(),
            crate::groups::resource(&g.name, g.threads),
        ]);
    }
    if st.idle_timeout.is_some() {
        // the scheduler may end itself: its workers then follow within a minute
        args.extend(["--death-timeout".into(), "60".into()]);
    }
    args
}

/// The next `n` worker names of `group` (`<cluster>-<k>`, `<cluster>-<group>-<k>`) that neither
/// the state nor the scheduler (`taken`) already uses.
fn fresh_names(
    st: &mut ClusterState,
    group: Option<&str>,
    taken: &HashSet<String>,
    n: u32,
) -> Result<Vec<String>> {
    let mut used: HashSet<String> = st.workers.iter().map(|w| w.name.clone()).collect();
    used.extend(taken.iter().cloned());
    let (prefix, next) = match group {
        None => (st.name.clone(), &mut st.next_worker),
        Some(g) => {
            st.group(g)?;
            let prefix = format!("{}-{g}", st.name);
            let gs = st.groups.iter_mut().find(|x| x.name == g).expect("checked");
            (prefix, &mut gs.next_worker)
        }
    };
    let mut out = Vec::new();
    while out.len() < n as usize {
        let name = format!("{prefix}-{next}");
        *next = next.saturating_add(1);
        if used.insert(name.clone()) {
            out.push(name);
        }
    }
    Ok(out)
}

/// Starts `n` workers of `group` (None: the default group) for the cluster in `st`, recording
/// each in the state as soon as it runs; their names are unique against `taken` (the
/// scheduler's own list). Returns the names.
pub fn start_workers(
    b: &Local,
    dir: &StateDir,
    st: &mut ClusterState,
    group: Option<&str>,
    n: u32,
    taken: &HashSet<String>,
    op: &str,
) -> Result<Vec<String>> {
    let home = b.ctx.config.state_root().to_string_lossy().into_owned();
    let address = st
        .address
        .clone()
        .ok_or_else(|| Error::backend("local", "cluster has no scheduler address"))?;
    let names = fresh_names(st, group, taken, n)?;
    let shape = group.map(|g| st.group(g).cloned()).transpose()?;
    for wname in &names {
        let args = worker_args(st, shape.as_ref(), dir, &address, wname);
        let markers = [
            (ENV_CLUSTER, st.name.as_str()),
            (ENV_ROLE, "worker"),
            (ENV_HOME, home.as_str()),
            (ENV_WORKER, wname.as_str()),
            (ENV_OP, op),
        ];
        let log = format!("{wname}.log");
        let mut s = spawn::spawn_dask(&st.python, &args, &dir.logs(), &log, &markers, wname)?;
        // the child is not waited for: it outlives daskctl (reaped by init)
        drop(s.child);
        s.proc.group = group.map(str::to_string);
        st.workers.push(s.proc);
        dir.save(st)?;
    }
    Ok(names)
}

/// Polls the scheduler until exactly `n` workers are connected, these `names` among them.
/// Stops early, with the reason, when that can no longer happen: the cluster was deleted, its
/// scheduler exited, or one of the new workers exited (its log's last lines are in the error).
/// What `wait_for_workers` waits for.
pub struct Wanted<'a> {
    pub address: &'a str,
    /// Workers the scheduler must have.
    pub n: usize,
    pub deadline: Instant,
    /// Workers just started, which must be among them.
    pub names: &'a [String],
    /// The caller holds the cluster's lock (no delete can run meanwhile).
    pub holding_lock: bool,
    /// The count this wait is for, by group (None: the default group), as the state records
    /// it: another `scale` that records another one meanwhile ends the wait.
    pub asked: Option<(Option<String>, u32)>,
    /// The line on the terminal this wait updates.
    pub progress: &'a crate::progress::Progress,
}

fn deleted_while_waiting(name: &str) -> Error {
    Error::backend(
        "local",
        format!("local/{name} was deleted while waiting for its workers"),
    )
}

/// Another scale recorded another count for the group: this wait's target is gone.
fn retargeted(dir: &StateDir, name: &str, asked: Option<&(Option<String>, u32)>) -> Option<Error> {
    let (group, n) = asked?;
    let now = dir.load().ok()??;
    let recorded = match group {
        None => now.requested,
        Some(g) => now.group(g).ok().and_then(|x| x.requested),
    };
    recorded.filter(|r| r != n).map(|r| {
        Error::backend(
            "local",
            format!(
                "another scale of local/{name} asked for {r} worker(s) meanwhile: this wait for {n} ends"
            ),
        )
    })
}

/// Why the wait is over because a process of the cluster exited: the scheduler, or one of the
/// workers started (unless a delete or another scale stopped it).
async fn exited(
    dir: &StateDir,
    st: &ClusterState,
    names: &[String],
    holding_lock: bool,
    retargeted: &(dyn Fn() -> Option<Error> + Sync),
) -> Option<Error> {
    let deleted = || deleted_while_waiting(&st.name);
    if let Some(s) = &st.scheduler
        && !procfs::alive(s.pid, Some(s.start))
    {
        return Some(Error::backend(
            "local",
            format!(
                "the scheduler of local/{} exited while waiting for its workers: {}",
                st.name,
                spawn::log_tail(&dir.logs().join(&s.log), 3)
            ),
        ));
    }
    for w in st.workers.iter().filter(|w| names.contains(&w.name)) {
        if !procfs::alive(w.pid, Some(w.start)) {
            // a delete stops workers first and holds the cluster's lock meanwhile:
            // once it is free, a cluster that is gone was deleted, not failing
            if !holding_lock {
                let _ = dir.lock(Duration::from_secs(60)).await;
                if !dir.path.join("state.json").exists() {
                    return Some(deleted());
                }
                // a scale down meanwhile stops workers still starting first
                if let Some(e) = retargeted() {
                    return Some(e);
                }
            }
            let log = dir.logs().join(&w.log);
            return Some(Error::backend(
                "local",
                format!(
                    "worker {} exited before joining: {}{}",
                    w.name,
                    spawn::log_tail(&log, 3),
                    spawn::version_hint(&log)
                ),
            ));
        }
    }
    None
}

pub async fn wait_for_workers(
    b: &Local,
    dir: &StateDir,
    st: &ClusterState,
    w: Wanted<'_>,
) -> Result<()> {
    let Wanted {
        address,
        n,
        deadline,
        names,
        holding_lock,
        asked,
        progress,
    } = w;
    let deleted = || deleted_while_waiting(&st.name);
    let last = std::sync::Mutex::new(String::from("not asked yet"));
    let within = deadline.saturating_duration_since(Instant::now());
    let retargeted = || retargeted(dir, &st.name, asked.as_ref());
    let retargeted = &retargeted;
    let done = crate::backends::until(within, Duration::from_millis(100), || {
        let last = &last;
        async move {
            if !dir.exists() {
                return Some(Err(deleted()));
            }
            if let Some(e) = retargeted() {
                return Some(Err(e));
            }
            if let Some(e) = exited(dir, st, names, holding_lock, retargeted).await {
                return Some(Err(e));
            }
            match b.ctx.prober.scheduler(address).await {
                Ok(info) => {
                    let have: HashSet<&str> =
                        info.workers.iter().map(|w| w.name.as_str()).collect();
                    if info.workers.len() == n && names.iter().all(|x| have.contains(x.as_str())) {
                        return Some(Ok(()));
                    }
                    progress.seen(crate::progress::Seen {
                        connected: Some(info.workers.len() as u64),
                        wanted: n as u64,
                        ..Default::default()
                    });
                    *last.lock().unwrap() =
                        format!("{} of {n} workers connected", info.workers.len());
                }
                Err(e) => *last.lock().unwrap() = e.to_string(),
            }
            None
        }
    })
    .await;
    done.unwrap_or_else(|| {
        Err(Error::Timeout(format!(
            "workers not ready in time ({})",
            last.lock().unwrap()
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_names_skip_those_taken() {
        let mut st: ClusterState = serde_json::from_str(
            r#"{"name":"c","created":1,"python":"p","host":"h","threads":1,"memory":null,
                "scheduler":null,"address":null,"dashboard":null,"workers":[],"next_worker":0}"#,
        )
        .unwrap();
        let taken: HashSet<String> = ["c-0".to_string(), "c-2".to_string()].into();
        assert_eq!(
            fresh_names(&mut st, None, &taken, 2).unwrap(),
            vec!["c-1", "c-3"]
        );
        assert_eq!(st.next_worker, 4);
        st.groups.push(GroupState {
            name: "gpu".into(),
            threads: 2,
            memory: None,
            requested: Some(1),
            next_worker: 0,
        });
        let taken: HashSet<String> = ["c-gpu-0".to_string()].into();
        assert_eq!(
            fresh_names(&mut st, Some("gpu"), &taken, 1).unwrap(),
            vec!["c-gpu-1"]
        );
        assert_eq!(st.next_worker, 4, "the default group's count is its own");
        assert!(fresh_names(&mut st, Some("big"), &taken, 1).is_err());
    }
}
