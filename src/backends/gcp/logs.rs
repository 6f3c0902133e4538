//! `logs`: each instance's serial console (`instances.getSerialPortOutput`, port 1), where the
//! guest agent writes the startup script's output. The API returns the console from `start`
//! and the offset to ask from next (`next`); the console keeps its last 1 MB, so a `start`
//! that has rolled off answers from the oldest byte kept
//! (<https://cloud.google.com/compute/docs/reference/rest/v1/instances/getSerialPortOutput>).

use super::Gcp;
use super::client::map_err;
use super::discover::GcpHandle;
use crate::backends::{LogRequest, LogSink};
use crate::error::{Error, Result};
use crate::model::{Cluster, Role};
use std::collections::BTreeMap;
use std::time::Duration;

const FOLLOW_EVERY: Duration = Duration::from_secs(2);

pub async fn logs(g: &Gcp, c: &Cluster, req: &LogRequest, sink: &mut dyn LogSink) -> Result<()> {
    let h = c
        .handle
        .get::<GcpHandle>()
        .ok_or_else(|| Error::backend("gcp", format!("{} has no zone", c.qualified())))?;
    let chosen = select(c, h, req)?;
    let cl = g.clients().await?;
    let mut next: BTreeMap<String, i64> = BTreeMap::new();
    loop {
        for (label, name) in &chosen {
            let out = cl
                .instances
                .get_serial_port_output()
                .set_project(&h.project)
                .set_zone(&h.zone)
                .set_instance(name)
                .set_port(1)
                .set_start(*next.get(name).unwrap_or(&0))
                .send()
                .await
                .map_err(|e| {
                    map_err(&h.zone, &format!("instances.getSerialPortOutput {name}"), e)
                })?;
            let text = out.contents.unwrap_or_default();
            let mut lines: Vec<&str> = text.lines().collect();
            if !next.contains_key(name)
                && let Some(n) = req.tail
            {
                lines = lines.split_off(lines.len().saturating_sub(n));
            }
            for l in lines {
                sink.line(label, l);
            }
            next.insert(name.clone(), out.next.unwrap_or(0));
        }
        if !req.follow {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// (label, instance name) of the instances asked for: the scheduler first.
fn select(c: &Cluster, h: &GcpHandle, req: &LogRequest) -> Result<Vec<(String, String)>> {
    let live: Vec<_> = h.nodes.iter().filter(|n| n.alive()).collect();
    let sched = live
        .iter()
        .filter(|n| n.role == Role::Scheduler)
        .map(|n| ("scheduler".to_string(), n.name.clone()));
    let workers: Vec<_> = live.iter().filter(|n| n.role == Role::Worker).collect();
    if req.scheduler_only {
        return Ok(sched.collect());
    }
    if let Some(w) = &req.worker {
        let found = workers
            .iter()
            .enumerate()
            .find(|(i, n)| n.name == *w || i.to_string() == *w);
        return match found {
            Some((_, n)) => Ok(vec![(n.name.clone(), n.name.clone())]),
            None => Err(Error::NotFound(format!(
                "{} has no worker {w:?} (instance name or number)",
                c.qualified()
            ))),
        };
    }
    let mut v: Vec<(String, String)> = sched.collect();
    v.extend(workers.iter().map(|n| (n.name.clone(), n.name.clone())));
    Ok(v)
}
