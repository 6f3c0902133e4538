//! `logs`: pod logs of the cluster's scheduler, one worker, or all, with `--tail` and
//! `--follow` (all followed pods interleaved as lines arrive).

use super::Kubernetes;
use super::client::{map_err, status};
use crate::backends::{LogRequest, LogSink};
use crate::error::{Error, Result};
use crate::model::{Cluster, Resource, Role};
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};

pub async fn logs(
    k: &Kubernetes,
    c: &Cluster,
    req: &LogRequest,
    sink: &mut dyn LogSink,
) -> Result<()> {
    let ns = Kubernetes::namespace_of(c)?;
    let api: Api<Pod> = Api::namespaced(k.client().await?, ns);
    let chosen = select(c, req)?;
    let h = Kubernetes::handle(c)?;
    // a pod with several containers (a sidecar) needs the Dask one named, else the API says 400
    let lp_for = |pod: &str| LogParams {
        tail_lines: req.tail.map(|n| n as i64),
        follow: req.follow,
        container: h.log_containers.get(pod).cloned(),
        ..Default::default()
    };
    // of several pods, one whose container has not started (400) is passed over with a warning
    let several = chosen.len() > 1;
    let skip = |pod: &str, e: kube::Error| -> Result<()> {
        if several && status(&e) == Some(400) {
            tracing::warn!("kubernetes: pod {pod} has no log yet: {e}");
            Ok(())
        } else {
            Err(map_err(&format!("logs of pod {pod}"), e))
        }
    };
    if !req.follow {
        for (label, r) in &chosen {
            match api.logs(&r.id, &lp_for(&r.id)).await {
                Ok(text) => text.lines().for_each(|l| sink.line(label, l)),
                Err(e) => skip(&r.id, e)?,
            }
        }
        return Ok(());
    }
    let mut streams = Vec::new();
    for (label, r) in chosen {
        match api.log_stream(&r.id, &lp_for(&r.id)).await {
            Ok(s) => streams.push(s.lines().map_ok(move |l| (label.clone(), l)).boxed()),
            Err(e) => skip(&r.id, e)?,
        }
    }
    let mut all = futures::stream::select_all(streams);
    while let Some(item) = all.next().await {
        match item {
            Ok((label, line)) => sink.line(&label, &line),
            Err(e) => return Err(Error::io("reading a log stream", e)),
        }
    }
    Ok(())
}

fn select<'a>(c: &'a Cluster, req: &LogRequest) -> Result<Vec<(String, &'a Resource)>> {
    let pods: Vec<&Resource> = c.resources.iter().filter(|r| r.kind == "pod").collect();
    let sched = pods
        .iter()
        .filter(|r| r.role == Role::Scheduler)
        .map(|r| ("scheduler".to_string(), *r));
    let workers: Vec<&Resource> = pods
        .iter()
        .copied()
        .filter(|r| r.role == Role::Worker)
        .collect();
    if req.scheduler_only {
        return Ok(sched.collect());
    }
    if let Some(w) = &req.worker {
        return workers
            .iter()
            .enumerate()
            .find(|(i, r)| r.id == *w || i.to_string() == *w)
            .map(|(_, r)| vec![(r.id.clone(), *r)])
            .ok_or_else(|| Error::NotFound(format!("{} has no worker pod {w:?}", c.qualified())));
    }
    let mut v: Vec<(String, &Resource)> = sched.collect();
    v.extend(workers.into_iter().map(|r| (r.id.clone(), r)));
    Ok(v)
}
