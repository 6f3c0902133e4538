//! What daskctl asks of a Dask server: identity, idleness, retiring workers, logs, terminate.
//! Handler names and arguments follow distributed/scheduler.py (`Scheduler.handlers`).

use super::comm::Comm;
use super::frame::{get, get_f64, get_str, get_u64};
use crate::error::{Error, ProbeFault, Result};
use crate::model::WorkerDetail;
use rmpv::Value;

#[derive(Debug, Clone)]
pub struct SchedulerInfo {
    pub id: String,
    pub address: String,
    pub dashboard_port: Option<u16>,
    pub started: Option<f64>,
    pub workers: Vec<WorkerDetail>,
    pub total_threads: u64,
    pub total_memory: u64,
}

/// What a listening Dask server is.
#[derive(Debug, Clone)]
pub enum Identity {
    Scheduler(SchedulerInfo),
    /// A worker, and the scheduler it belongs to.
    Worker {
        scheduler: String,
        id: String,
    },
    /// A nanny or another Dask server.
    Other(String),
}

pub async fn identity(comm: &mut Comm) -> Result<Identity> {
    let v = comm.rpc("identity", vec![]).await?;
    let kind = get_str(&v, "type")
        .ok_or_else(|| Error::probe(ProbeFault::NotDask, "identity reply without type"))?;
    match kind.as_str() {
        "Scheduler" => Ok(Identity::Scheduler(parse_scheduler(&v))),
        "Worker" => Ok(Identity::Worker {
            scheduler: get_str(&v, "scheduler").unwrap_or_default(),
            id: get_str(&v, "id").unwrap_or_default(),
        }),
        // subclasses of Scheduler (e.g. dask-gateway's) still answer like one
        _ if get(&v, "workers").is_some() && get(&v, "n_workers").is_some() => {
            Ok(Identity::Scheduler(parse_scheduler(&v)))
        }
        other => Ok(Identity::Other(other.to_string())),
    }
}

fn parse_scheduler(v: &Value) -> SchedulerInfo {
    let mut workers: Vec<WorkerDetail> = get(v, "workers")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .map(|(addr, w)| WorkerDetail {
                    name: get_str(w, "name").unwrap_or_default(),
                    address: addr.as_str().unwrap_or_default().to_string(),
                    threads: get_u64(w, "nthreads").unwrap_or(0),
                    memory: get_u64(w, "memory_limit").unwrap_or(0),
                    status: get_str(w, "status"),
                    resources: get(w, "resources")
                        .and_then(Value::as_map)
                        .map(|r| {
                            r.iter()
                                .filter_map(|(k, _)| k.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    workers.sort_by(|a, b| a.name.cmp(&b.name));
    SchedulerInfo {
        id: get_str(v, "id").unwrap_or_default(),
        address: get_str(v, "address").unwrap_or_default(),
        dashboard_port: get(v, "services")
            .and_then(|s| get_u64(s, "dashboard"))
            .and_then(|p| u16::try_from(p).ok()),
        started: get_f64(v, "started"),
        total_threads: get_u64(v, "total_threads").unwrap_or(0),
        total_memory: get_u64(v, "total_memory").unwrap_or(0),
        workers,
    }
}

/// The clients connected to the scheduler, from its event log (`Scheduler.add_client` and
/// `remove_client` log `add-client` / `remove-client` under the topic "all"; the scheduler's
/// own "fire-and-forget" client logs nothing).
pub async fn clients(comm: &mut Comm) -> Result<Vec<String>> {
    let v = comm.rpc("events", vec![("topic", "all".into())]).await?;
    let events = v
        .as_array()
        .ok_or_else(|| Error::Protocol(format!("events answered {v}, not a list")))?;
    let mut connected: Vec<String> = Vec::new();
    for e in events {
        // (time, {"action": ..., "client": ...})
        let Some(msg) = e.as_array().and_then(|t| t.get(1)) else {
            continue;
        };
        let (Some(action), Some(client)) = (get_str(msg, "action"), get_str(msg, "client")) else {
            continue;
        };
        match action.as_str() {
            "add-client" if !connected.contains(&client) => connected.push(client),
            "remove-client" => connected.retain(|c| *c != client),
            _ => {}
        }
    }
    Ok(connected)
}

/// Seconds since the epoch at which the scheduler became idle, `None` while it has work.
pub async fn idle_since(comm: &mut Comm) -> Result<Option<f64>> {
    let v = comm.rpc("check_idle", vec![]).await?;
    Ok(v.as_f64().or_else(|| v.as_i64().map(|i| i as f64)))
}

/// How many workers the scheduler wants for its queued work (`Scheduler.adaptive_target`,
/// what Dask's `Adaptive` asks every interval).
pub async fn adaptive_target(comm: &mut Comm, target_duration: f64) -> Result<u64> {
    let v = comm
        .rpc(
            "adaptive_target",
            vec![("target_duration", target_duration.into())],
        )
        .await?;
    v.as_u64()
        .ok_or_else(|| Error::Protocol(format!("adaptive_target answered {v}, not a count")))
}

/// The workers the scheduler would retire to come down to `target` (`Scheduler.
/// workers_to_close` by name, as `Adaptive.workers_to_close` asks).
pub async fn workers_to_close(comm: &mut Comm, target: u64) -> Result<Vec<String>> {
    let v = comm
        .rpc(
            "workers_to_close",
            vec![("target", target.into()), ("attribute", "name".into())],
        )
        .await?;
    let names = v
        .as_array()
        .ok_or_else(|| Error::Protocol(format!("workers_to_close answered {v}, not a list")))?;
    // worker names may be numbers (`dask worker --name 3`)
    Ok(names
        .iter()
        .map(|n| match n.as_str() {
            Some(s) => s.to_string(),
            None => n.to_string(),
        })
        .collect())
}

/// Retires workers by name (moving their data elsewhere first); returns the addresses retired.
pub async fn retire_workers(comm: &mut Comm, names: &[String], close: bool) -> Result<Vec<String>> {
    let names = Value::Array(names.iter().map(|n| Value::from(n.as_str())).collect());
    let v = comm
        .rpc(
            "retire_workers",
            vec![("names", names), ("close_workers", close.into())],
        )
        .await?;
    Ok(v.as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, _)| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// Asks the scheduler to close itself (`terminate` handler = `Scheduler.close`).
pub async fn terminate(comm: &mut Comm) -> Result<()> {
    comm.rpc_may_close("terminate", vec![]).await
}

/// The scheduler's recent log records, oldest first, as "LEVEL message" lines.
pub async fn scheduler_logs(comm: &mut Comm, n: Option<usize>) -> Result<Vec<String>> {
    let args = n
        .map(|n| vec![("n", Value::from(n as u64))])
        .unwrap_or_default();
    let v = comm.rpc("logs", args).await?;
    Ok(log_lines(&v))
}

/// Recent log records of the given workers (by address).
pub async fn worker_logs(
    comm: &mut Comm,
    workers: &[String],
    n: Option<usize>,
) -> Result<Vec<(String, Vec<String>)>> {
    let mut args = vec![(
        "workers",
        Value::Array(workers.iter().map(|w| Value::from(w.as_str())).collect()),
    )];
    if let Some(n) = n {
        args.push(("n", Value::from(n as u64)));
    }
    let v = comm.rpc("worker_logs", args).await?;
    Ok(v.as_map()
        .map(|m| {
            m.iter()
                .map(|(k, l)| (k.as_str().unwrap_or_default().to_string(), log_lines(l)))
                .collect()
        })
        .unwrap_or_default())
}

/// Log records come newest first as (level, message) pairs.
fn log_lines(v: &Value) -> Vec<String> {
    let mut lines: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|rec| {
                    let r = rec.as_array()?;
                    let msg = r.last()?.as_str()?;
                    Some(msg.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    lines.reverse();
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arb;
    use proptest::prelude::*;

    proptest! {
        /// Any reply a peer sends to identity, idleness or logs: read, never a panic.
        #[test]
        fn any_reply_is_read_without_panic(v in arb::msgpack(), w in arb::msgpack()) {
            let s = parse_scheduler(&v);
            prop_assert!(s.workers.len() <= 64);
            let _ = log_lines(&v);
            let with_workers = crate::dask::frame::map(vec![
                ("type", "Scheduler".into()),
                ("workers", rmpv::Value::Map(vec![("tcp://a:1".into(), w.clone())])),
                ("started", v.clone()),
                ("services", crate::dask::frame::map(vec![("dashboard", w)])),
            ]);
            let s = parse_scheduler(&with_workers);
            if let Some(t) = s.started {
                let _ = crate::units::epoch_secs(t);
            }
        }
    }
}
