use crate::backends::{self, Availability, Backend, Context};
use crate::error::{Error, Result};
use crate::model::Cluster;
use futures::future::join_all;
use std::sync::Arc;
use std::time::Duration;

/// What a fan-out found; `warnings` has one line per backend that failed or timed out.
#[derive(Default)]
pub struct Outcome {
    pub clusters: Vec<Cluster>,
    pub warnings: Vec<String>,
}

/// The backends to query: all enabled ones, or those named (which must exist and be enabled).
pub fn enabled_backends(ctx: &Arc<Context>, only: &[String]) -> Result<Vec<Arc<dyn Backend>>> {
    let mut out = Vec::new();
    if only.is_empty() {
        for reg in backends::registered() {
            if backends::is_enabled(ctx, reg) {
                out.push((reg.build)(ctx.clone()));
            }
        }
        return Ok(out);
    }
    for name in only {
        let reg = backends::lookup(name)?;
        if !backends::is_enabled(ctx, reg) {
            return Err(Error::Usage(format!(
                "backend {name} is disabled; enable it with: daskctl backends enable {name}"
            )));
        }
        out.push((reg.build)(ctx.clone()));
    }
    Ok(out)
}

/// Runs `discover` on every backend at once, each under `deadline`. A backend whose tools or
/// credentials are missing is skipped without a word; one that fails or is slow yields a
/// warning and never hides what the others found.
pub async fn fan_out(backends: &[Arc<dyn Backend>], deadline: Duration) -> Outcome {
    let results = join_all(backends.iter().map(|b| async move {
        match b.availability() {
            Availability::Missing(why) => {
                tracing::info!("{}: skipped ({why})", b.name());
                Ok(Vec::new())
            }
            Availability::Ready => {
                let started = std::time::Instant::now();
                let r = tokio::time::timeout(deadline, budgeted(deadline, b.discover())).await;
                // -v: what each backend's discovery found, and how long it took
                tracing::info!(
                    "{}: {} in {} ms",
                    b.name(),
                    match &r {
                        Ok(Ok(v)) => format!("{} cluster(s)", v.len()),
                        Ok(Err(_)) => "failed".into(),
                        Err(_) => "no answer".into(),
                    },
                    started.elapsed().as_millis()
                );
                match r {
                    Ok(Ok(mut v)) => {
                        for c in &mut v {
                            super::finish(b.as_ref(), c);
                        }
                        Ok(v)
                    }
                    Ok(Err(e)) => {
                        // backend errors already name their backend
                        let m = e.to_string();
                        let named = m.starts_with(&format!("{}: ", b.name()));
                        Err(if named {
                            m
                        } else {
                            format!("{}: {m}", b.name())
                        })
                    }
                    Err(_) => Err(format!(
                        "{}: no answer within {}",
                        b.name(),
                        humantime::format_duration(deadline)
                    )),
                }
            }
        }
    }))
    .await;
    let mut out = Outcome::default();
    for r in results {
        match r {
            Ok(v) => out.clusters.extend(v),
            Err(w) => out.warnings.push(w),
        }
    }
    merge(&mut out.clusters);
    out.clusters
        .sort_by(|a, b| (&a.backend, &a.name).cmp(&(&b.backend, &b.name)));
    out
}

/// Runs a backend's discovery with its scheduler probes bounded to most of `deadline`: a
/// silent scheduler then costs one probe deadline, and the backend still has time to report
/// everything it found (the silent one as `unknown`) instead of being cut off as a whole.
pub async fn budgeted<F: std::future::Future>(deadline: Duration, f: F) -> F::Output {
    let until = tokio::time::Instant::now() + deadline.mul_f64(0.8);
    crate::dask::probe::within_budget(until, f).await
}

/// One cluster seen by two backends (the local scan finds the Python process that holds a
/// dask-jobqueue scheduler, or a batch job's scheduler on this very node; the batch backend
/// finds the jobs): the backend that knows its origin keeps it.
fn merge(clusters: &mut Vec<Cluster>) {
    use crate::model::Origin;
    // htcdaskgateway's HTCondor workers, shown with the gateway cluster they serve (the gateway
    // backend attached them), are not shown again on their own
    let attached: std::collections::HashSet<String> = clusters
        .iter()
        .filter(|c| c.backend == "gateway")
        .flat_map(|c| c.resources.iter().filter(|r| r.kind == "job"))
        .map(|r| r.id.clone())
        .collect();
    clusters.retain(|c| {
        !(c.backend == "htcondor"
            && !c.resources.is_empty()
            && c.resources
                .iter()
                .all(|r| r.kind == "job" && attached.contains(&r.id)))
    });
    let known: Vec<(String, String)> = clusters
        .iter()
        .filter(|c| c.origin != Origin::Unknown)
        .filter_map(|c| c.address.clone().map(|a| (a, c.backend.clone())))
        .collect();
    clusters.retain(|c| {
        c.origin != Origin::Unknown
            || !c
                .address
                .as_ref()
                .is_some_and(|a| known.iter().any(|(k, b)| k == a && *b != c.backend))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::fake::Fake;

    #[tokio::test(start_paused = true)]
    async fn slow_and_failing_backends_warn_and_do_not_hide_others() {
        let bs: Vec<Arc<dyn Backend>> = vec![
            Arc::new(Fake::new("good", "ok")),
            Arc::new(Fake::new("slow", "slow")),
            Arc::new(Fake::new("bad", "fail")),
            Arc::new(Fake::new("absent", "missing")),
        ];
        let start = tokio::time::Instant::now();
        let out = fan_out(&bs, Duration::from_secs(5)).await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(5),
            "bounded by the deadline"
        );
        assert_eq!(out.clusters.len(), 1);
        assert_eq!(out.clusters[0].backend, "good");
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
        assert!(
            out.warnings
                .iter()
                .any(|w| w.starts_with("slow: no answer within 5s"))
        );
        assert!(
            out.warnings
                .iter()
                .any(|w| w == "bad: squeue: command failed")
        );
    }
}
