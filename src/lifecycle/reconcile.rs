//! `reconcile`: one idempotent pass over every cluster of yours with a stored policy (`adapt`),
//! safe from cron on several machines at once. Per cluster, under its policy lock (a cluster
//! another reconcile holds is skipped for this pass): look the cluster up again (what another
//! pass changed counts), ask its scheduler `adaptive_target` and, to come down,
//! `workers_to_close`, damp as Dask's `Adaptive` does (a worker is retired only after being
//! proposed `wait_count` passes in a row; the counts are stored with the cluster), then scale to
//! an absolute count within the bounds, so two passes never add up. A cluster past its TTL, idle
//! beyond its idle timeout, or ended by it is deleted (verified gone) with `--yes`; without it
//! the pass says which it would delete.

use super::App;
use super::cleanup::{patterns, selected};
use crate::backends::{Backend, DeleteRequest, ScaleRequest};
use crate::cli::{Format, ReconcileArgs};
use crate::dask::client;
use crate::dask::comm::Comm;
use crate::discovery::fanout::{enabled_backends, fan_out};
use crate::error::{Error, Result};
use crate::groups;
use crate::model::{Cluster, Status};
use crate::policy::Adapt;
use crate::printer::{render, table};
use crate::units::format_age;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// What one cluster's pass did.
#[derive(Debug, Serialize)]
struct Action {
    cluster: String,
    backend: String,
    /// Workers asked for (running and queued) before the pass.
    workers: Option<u64>,
    /// What the scheduler asked for, within the bounds.
    target: Option<u64>,
    /// up, down, same, skipped, would-delete, deleted, failed
    action: &'static str,
    detail: String,
}

use crate::backends::owner::ActionWire;

impl Action {
    fn wire(self) -> ActionWire {
        ActionWire {
            cluster: self.cluster,
            backend: self.backend,
            workers: self.workers,
            target: self.target,
            action: self.action.to_string(),
            detail: self.detail,
        }
    }

    fn from_wire(w: ActionWire) -> Action {
        let action = match w.action.as_str() {
            "up" => "up",
            "down" => "down",
            "same" => "same",
            "skipped" => "skipped",
            "would-delete" => "would-delete",
            "deleted" => "deleted",
            _ => "failed",
        };
        Action {
            cluster: w.cluster,
            backend: w.backend,
            workers: w.workers,
            target: w.target,
            action,
            detail: crate::printer::clean(&w.detail).into_owned(),
        }
    }

    fn of(c: &Cluster, action: &'static str) -> Action {
        Action {
            cluster: c.name.clone(),
            backend: c.backend.clone(),
            workers: None,
            target: None,
            action,
            detail: String::new(),
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    actions: Vec<Action>,
    warnings: Vec<String>,
}

pub async fn run(app: &App, a: ReconcileArgs) -> Result<()> {
    let patterns = patterns(&a.patterns)?;
    if a.watch && a.interval < Duration::from_secs(1) {
        return Err(Error::Usage(
            "--interval must be at least 1s (each pass asks every scheduler)".into(),
        ));
    }
    if !a.watch {
        return pass(app, &a, &patterns).await;
    }
    // registered before the first pass: Ctrl-C or SIGTERM during a pass lets the pass finish
    // (no scale is cut in half), then the watch ends with 0
    use tokio::signal::unix::{SignalKind, signal};
    let io = |e| Error::io("listening for Ctrl-C", e);
    let mut int = signal(SignalKind::interrupt()).map_err(io)?;
    let mut term = signal(SignalKind::terminate()).map_err(io)?;
    loop {
        // a failed pass is reported; the next one tries again
        if let Err(e) = pass(app, &a, &patterns).await {
            app.out.error(&e.to_string());
        }
        tokio::select! {
            _ = tokio::time::sleep(a.interval) => {}
            _ = int.recv() => return Ok(()),
            _ = term.recv() => return Ok(()),
        }
    }
}

async fn pass(app: &App, a: &ReconcileArgs, patterns: &[glob::Pattern]) -> Result<()> {
    let backends = enabled_backends(&app.ctx, &a.backends)?;
    let found = fan_out(&backends, a.timeout.unwrap_or(app.deadline)).await;
    let mut report = Report {
        actions: Vec::new(),
        warnings: found.warnings,
    };
    let now = SystemTime::now();
    for c in found.clusters.iter().filter(|c| selected(c, patterns)) {
        let Some(b) = backends.iter().find(|b| b.name() == c.backend) else {
            continue;
        };
        // only clusters this command may end and scale, whatever a backend listed
        if super::authorize(app, b.as_ref(), c, crate::discovery::Action::Configure).is_err() {
            continue;
        }
        // another user's local or batch cluster (root, --all-users / -u): judged and acted on
        // by a child that is its owner, which sees its policy and acts with their rights
        if let Some(o) = b.acting_owner(c) {
            match crate::backends::owner::reconcile(&o, c, a.yes).await {
                Ok(Some(w)) => report.actions.push(Action::from_wire(w)),
                Ok(None) => {}
                Err(e) => report.actions.push(Action {
                    detail: e.to_string(),
                    ..Action::of(c, "failed")
                }),
            }
            continue;
        }
        if let Some(act) = judge(app, b.as_ref(), c, a.yes, now).await {
            report.actions.push(act);
        }
    }
    print(app, a.output, &report);
    let failed = report
        .actions
        .iter()
        .filter(|x| x.action == "failed")
        .count();
    if failed > 0 || !report.warnings.is_empty() {
        return Err(Error::Partial(format!(
            "{failed} cluster(s) failed, {} backend(s) could not be listed",
            report.warnings.len()
        )));
    }
    Ok(())
}

/// One cluster's pass: ended by its policy (TTL, idle timeout), or sized by it; None when it
/// has no policy of daskctl's.
async fn judge(
    app: &App,
    b: &dyn Backend,
    c: &Cluster,
    yes: bool,
    now: SystemTime,
) -> Option<Action> {
    if let Some(why) = ended(c, now) {
        return Some(end(app, b, c, why, yes).await);
    }
    c.adapt.as_ref()?;
    if b.policy_store(c).is_none() {
        // bounds kept by the platform (the operator's DaskAutoscaler): it applies them
        return Some(Action {
            workers: c.requested_workers,
            detail: "the platform's own autoscaler sizes it".into(),
            ..Action::of(c, "skipped")
        });
    }
    Some(one(app, b, c).await)
}

/// One cluster's pass, in the child that is its owner (`__as-owner`): what it did, for the
/// parent's report.
pub(super) async fn judge_as_owner(
    app: &App,
    b: &dyn Backend,
    c: &Cluster,
    yes: bool,
) -> Option<ActionWire> {
    judge(app, b, c, yes, SystemTime::now())
        .await
        .map(Action::wire)
}

/// Why `c`'s own policy says it should be gone: its TTL ran out, or it has been idle longer
/// than its idle timeout (or Dask's own idle timeout ended it and leftovers remain).
fn ended(c: &Cluster, now: SystemTime) -> Option<String> {
    // another node's cluster is that node's to end (authorize refuses it anyway)
    if c.elsewhere {
        return None;
    }
    if let Some(t) = c.expires.filter(|t| *t <= now) {
        return Some(format!("its TTL expired {} ago", format_age(t)));
    }
    let limit = Duration::from_secs(c.idle_timeout?);
    let secs = |d: Duration| humantime::format_duration(Duration::from_secs(d.as_secs()));
    if c.status == Status::Stopped {
        return Some(format!(
            "stopped ({}) with an idle timeout of {}: its leftovers",
            c.reason.as_deref().unwrap_or("its scheduler is gone"),
            secs(limit)
        ));
    }
    let idle = c.idle_since.and_then(|t| now.duration_since(t).ok())?;
    (idle >= limit).then(|| {
        format!(
            "idle for {}, beyond its idle timeout of {}",
            secs(idle),
            secs(limit)
        )
    })
}

/// Deletes a cluster its policy ends (verified gone), or with no --yes says it would.
async fn end(app: &App, b: &dyn Backend, c: &Cluster, why: String, yes: bool) -> Action {
    let mut act = Action {
        workers: c.requested_workers.or(c.workers),
        ..Action::of(c, "would-delete")
    };
    if !yes {
        act.detail = format!("{why} (reconcile --yes deletes it)");
        return act;
    }
    let req = DeleteRequest {
        wait: true,
        timeout: Duration::from_secs(120),
        progress: Default::default(),
    };
    match b.delete(c, &req).await {
        Ok(()) => {
            crate::discovery::cache::forget(&app.ctx.config.cache_root(), c);
            act.action = "deleted";
            act.detail = why;
        }
        // another command (a second reconcile, another login node's) got there first, or it
        // was created again since it was listed: nothing of this pass's to delete
        Err(e @ (crate::error::Error::NotFound(_) | crate::error::Error::Replaced(_))) => {
            act.action = "skipped";
            act.detail = format!("{why}; {e}");
        }
        Err(e) => {
            act.action = "failed";
            act.detail = format!("{why}; deleting it failed: {e}");
        }
    }
    act
}

async fn one(app: &App, b: &dyn Backend, c: &Cluster) -> Action {
    let mut act = Action::of(c, "failed");
    match apply(app, b, c, &mut act).await {
        Ok((action, detail)) => {
            act.action = action;
            act.detail = detail;
        }
        Err(e) => act.detail = e.to_string(),
    }
    act
}

/// What one pass decided for one cluster.
#[derive(Debug, PartialEq)]
enum Decision {
    Same(String),
    Up(u64),
    Down { to: u64, retire: Vec<String> },
}

async fn apply(
    app: &App,
    b: &dyn Backend,
    seen: &Cluster,
    act: &mut Action,
) -> Result<(&'static str, String)> {
    let store = b
        .policy_store(seen)
        .ok_or_else(|| Error::Usage("no policy store".into()))?;
    let Some(lock) = store.try_lock().await? else {
        return Ok((
            "skipped",
            "another daskctl reconcile is acting on it".into(),
        ));
    };
    let done = locked(app, b, seen, store.as_ref(), act).await;
    lock.release().await;
    done
}

/// One pass over one cluster, its policy's lock held.
async fn locked(
    app: &App,
    b: &dyn Backend,
    seen: &Cluster,
    store: &dyn crate::policy::PolicyStore,
    act: &mut Action,
) -> Result<(&'static str, String)> {
    // under the lock, as it is now: another pass may have scaled it since discovery. Looked up
    // by its full handle (a namespace where names are per namespace), and only acted on when
    // it is still the cluster listed
    let again = match &seen.namespace {
        Some(ns) => format!("{ns}/{}", seen.name),
        None => seen.name.clone(),
    };
    let c = match b.from_name(&again).await {
        Ok(Some(c)) if not_the_same(seen, &c).is_none() => c,
        // another cluster of that name answered first (another region's), or the name is in
        // several places: the one listed, among all
        Ok(_) | Err(Error::Ambiguous { .. }) => {
            let all = b.discover().await?;
            let same = all
                .into_iter()
                .filter(|c| c.name == seen.name)
                .find(|c| not_the_same(seen, c).is_none());
            match same {
                Some(mut c) => {
                    crate::discovery::finish(b, &mut c);
                    c
                }
                None => {
                    return Ok((
                        "skipped",
                        "it is gone, or another cluster has its name".into(),
                    ));
                }
            }
        }
        Err(e) => return Err(e),
    };
    let mut policy = store.read().await?;
    let Some(adapt) = policy.adapt.clone() else {
        return Ok(("skipped", "its policy was removed".into()));
    };
    let address = match (&c.status, &c.address) {
        (Status::Running | Status::Degraded, Some(a)) => a.clone(),
        (s, _) => return Ok(("skipped", format!("{}: no scheduler to ask", s.as_str()))),
    };
    let mut comm = app.ctx.prober.connect(&address).await?;
    let decided = decide(&mut comm, &adapt, &mut policy.close_counts, &c, act).await;
    comm.close().await;
    let decision = decided?;
    // the damping state first: a scale that fails is tried again by the next pass; and when
    // the policy was last applied, which `describe` shows
    policy.applied = Some(
        SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs(),
    );
    store.write(&policy).await?;
    let (action, to, retire) = match decision {
        Decision::Same(why) => return Ok(("same", why)),
        Decision::Up(to) => ("up", to, Vec::new()),
        Decision::Down { to, retire } => ("down", to, retire),
    };
    let req = ScaleRequest {
        target: to as u32,
        wait: false,
        timeout: Duration::from_secs(120),
        retire_first: retire.clone(),
        group: adapt.group.clone(),
        progress: Default::default(),
    };
    let r = b.scale(&c, &req).await?;
    let mut detail = format!("scaled from {} to {to}", r.before);
    if !retire.is_empty() {
        detail.push_str(&format!("; retired {}", retire.join(", ")));
    }
    Ok((action, detail))
}

/// Why `now` (looked up again by name) is not the cluster `seen` listed, if it is not: another
/// namespace, owner or instance, or another scheduler job or machine (another region's cluster
/// of that name, one created again since).
fn not_the_same(seen: &Cluster, now: &Cluster) -> Option<String> {
    let scheduler = |c: &Cluster| {
        c.resources
            .iter()
            .find(|r| {
                r.role == crate::model::Role::Scheduler && matches!(r.kind, "job" | "instance")
            })
            .map(|r| r.id.clone())
    };
    let differs =
        |a: Option<String>, b: Option<String>| matches!((a, b), (Some(x), Some(y)) if x != y);
    if seen.namespace != now.namespace || seen.owner != now.owner {
        return Some(format!("{} is another cluster now", now.qualified()));
    }
    if differs(seen.instance.clone(), now.instance.clone())
        || differs(scheduler(seen), scheduler(now))
    {
        return Some(format!(
            "{} was deleted and created again since it was listed",
            now.qualified()
        ));
    }
    None
}

/// Dask's `AdaptiveCore.recommendations` (distributed/deploy/adaptive_core.py), with the
/// close counts kept in the policy instead of the process.
async fn decide(
    comm: &mut Comm,
    adapt: &Adapt,
    counts: &mut BTreeMap<String, u32>,
    c: &Cluster,
    act: &mut Action,
) -> Result<Decision> {
    let wanted = client::adaptive_target(comm, adapt.target_duration).await?;
    let group = adapt.group.as_deref().unwrap_or(groups::DEFAULT);
    let Scope {
        observed,
        plan,
        others,
    } = Scope::of(c, group)?;
    // the adaptive group takes what the scheduler wants beyond the other groups' workers
    let target = adapt.clamp(wanted.saturating_sub(others));
    act.workers = Some(plan);
    act.target = Some(target);
    if target == plan {
        counts.clear();
        return Ok(Decision::Same(format!("scheduler wants {wanted}")));
    }
    if target > plan {
        counts.clear();
        return Ok(Decision::Up(target));
    }
    // workers not arrived yet go first, as Dask's requested - observed
    let pending = plan - observed;
    let mut to_close: Vec<String> = (0..pending.min(plan - target))
        .map(|i| format!("(queued {i})"))
        .collect();
    if target < plan - to_close.len() as u64 {
        if c.groups.is_empty() {
            to_close.extend(client::workers_to_close(comm, target).await?);
        } else {
            // every worker in the scheduler's order of preference (idle and holding least
            // first: `workers_to_close` with nothing to keep), of which this group's first
            let k = (plan - to_close.len() as u64 - target) as usize;
            let known: Vec<String> = c.groups.iter().map(|g| g.name.clone()).collect();
            // a worker's group as its scheduler reports it (its group's resource), whatever
            // the backend names it (an instance id on AWS, a pod on Kubernetes)
            let group_of = |w: &str| match c.worker_details.iter().find(|d| d.name == w) {
                Some(d) => groups::of_detail(&c.name, d, &known),
                None => groups::of_worker(&c.name, w, &known),
            };
            let proposed = client::workers_to_close(comm, 0).await?;
            to_close.extend(
                proposed
                    .into_iter()
                    .filter(|w| group_of(w) == group)
                    .take(k),
            );
        }
    }
    let firmly = damp(counts, &to_close, adapt.wait_count);
    if firmly.is_empty() {
        let waited = counts.values().max().copied().unwrap_or(0);
        return Ok(Decision::Same(format!(
            "scheduler wants {wanted}: waiting ({waited} of {} passes)",
            adapt.wait_count
        )));
    }
    let to = plan.saturating_sub(firmly.len() as u64).max(target);
    let retire = firmly.into_iter().filter(|w| !w.starts_with('(')).collect();
    Ok(Decision::Down { to, retire })
}

/// The workers of the adaptive group and of the others.
struct Scope {
    /// The group's workers connected to the scheduler (the lookup just made under the lock).
    observed: u64,
    /// The group's workers planned: running and queued (a queued job is a worker on its way).
    plan: u64,
    /// The other groups' planned workers.
    others: u64,
}

impl Scope {
    fn of(c: &Cluster, group: &str) -> Result<Scope> {
        let planned = |workers: Option<u64>, requested: Option<u64>| {
            let w = workers.unwrap_or(0);
            (w, requested.unwrap_or(0).max(w))
        };
        if c.groups.is_empty() {
            if group != groups::DEFAULT {
                return Err(Error::Usage(format!(
                    "{} has no worker groups; its policy names group {group}",
                    c.qualified()
                )));
            }
            let (observed, plan) = planned(c.workers, c.requested_workers);
            return Ok(Scope {
                observed,
                plan,
                others: 0,
            });
        }
        let mut scope = None;
        let mut others = 0;
        for g in &c.groups {
            let (w, p) = planned(g.workers, g.requested);
            if g.name == group {
                scope = Some((w, p));
            } else {
                others += p;
            }
        }
        let (observed, plan) = scope.ok_or_else(|| {
            Error::Usage(format!(
                "{} has no worker group {group} (its policy names it)",
                c.qualified()
            ))
        })?;
        Ok(Scope {
            observed,
            plan,
            others,
        })
    }
}

/// Counts each proposed worker; those proposed `wait_count` times in a row are returned (and
/// forgotten), as are workers no longer proposed.
fn damp(counts: &mut BTreeMap<String, u32>, to_close: &[String], wait_count: u32) -> Vec<String> {
    let mut firmly = Vec::new();
    for w in to_close {
        let n = counts.entry(w.clone()).or_insert(0);
        *n += 1;
        if *n >= wait_count {
            firmly.push(w.clone());
        }
    }
    counts.retain(|w, _| to_close.contains(w) && !firmly.contains(w));
    firmly
}

fn print(app: &App, output: Format, report: &Report) {
    match output {
        Format::Json => app.out.json(report),
        Format::Yaml => app.out.yaml(report),
        Format::Table if report.actions.is_empty() => app
            .out
            .info("No cluster has a policy (set one with: daskctl adapt NAME, create --ttl)."),
        Format::Table => {
            let mut t = table(&["NAME", "BACKEND", "WORKERS", "TARGET", "ACTION", "DETAIL"]);
            let n = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
            for x in &report.actions {
                t.add_row(vec![
                    x.cluster.clone(),
                    x.backend.clone(),
                    n(x.workers),
                    n(x.target),
                    x.action.to_string(),
                    x.detail.clone(),
                ]);
            }
            app.out.data(&render(&t));
        }
    }
    for w in &report.warnings {
        app.out.warn(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damping_retires_only_after_wait_count_passes_in_a_row() {
        let mut counts = BTreeMap::new();
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(damp(&mut counts, &w(&["a", "b"]), 3).is_empty());
        assert!(damp(&mut counts, &w(&["a"]), 3).is_empty()); // b forgotten: not proposed
        assert_eq!(counts.get("b"), None);
        assert_eq!(damp(&mut counts, &w(&["a", "b"]), 3), w(&["a"]));
        assert_eq!(counts.get("a"), None, "retired workers are forgotten");
        assert_eq!(counts.get("b"), Some(&1));
        assert_eq!(damp(&mut counts, &w(&[]), 3), Vec::<String>::new());
        assert!(counts.is_empty());
    }
}
