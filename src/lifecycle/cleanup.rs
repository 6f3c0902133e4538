//! `cleanup`: select clusters by orphaned / idle / age (all given criteria must hold) and
//! optionally by name pattern, show what would be deleted and why, and delete only with `--yes`.

use super::App;
use super::list::opt;
use crate::backends::{Backend, DeleteRequest};
use crate::cli::{CleanupArgs, Format};
use crate::discovery::{enabled_backends, fan_out};
use crate::error::{Error, Result};
use crate::model::{Cluster, Status};
use crate::printer::{render, table};
use crate::units::format_age;
use serde::Serialize;
use std::time::{Duration, SystemTime};

#[derive(Serialize)]
struct Action {
    cluster: String,
    backend: String,
    status: &'static str,
    reasons: Vec<String>,
    /// would-delete, deleted, failed
    action: &'static str,
    error: Option<String>,
    /// Whose it is.
    owner: Option<String>,
    /// Cores it held, and what they cost per hour (null: no price), when looked at.
    cores: f64,
    cost_per_hour: Option<f64>,
}

/// What the deleted clusters held (in a preview: what deleting them would free).
#[derive(Serialize, Default)]
struct Freed {
    clusters: u64,
    cores: f64,
    /// Per hour, of the priced ones; null when none is priced.
    cost_per_hour: Option<f64>,
    currency: String,
    /// Clusters freed that hold cores without a price.
    unpriced: u64,
}

/// A cluster a criterion could not be checked for: listed, so nothing is silently passed over.
#[derive(Serialize)]
struct Skipped {
    cluster: String,
    backend: String,
    why: String,
}

#[derive(Serialize)]
struct Report {
    dry_run: bool,
    actions: Vec<Action>,
    freed: Freed,
    /// Clusters that may match but whose age or idleness the backend cannot know.
    skipped: Vec<Skipped>,
    warnings: Vec<String>,
}

/// Why a cluster that passes every other criterion cannot be judged on `--older-than` or
/// `--idle`: its backend does not know its age, or its scheduler's idle clock was not read.
fn unjudgeable(c: &Cluster, a: &CleanupArgs) -> Option<String> {
    let others = CleanupArgs {
        idle: None,
        older_than: None,
        patterns: Vec::new(),
        backends: Vec::new(),
        cloud: Default::default(),
        users: Default::default(),
        ..*a
    };
    reasons(c, &others, SystemTime::now())?;
    if a.older_than.is_some() && c.created.is_none() {
        return Some("its age is unknown (no creation or start time)".into());
    }
    None
}

pub fn reasons(c: &Cluster, a: &CleanupArgs, now: SystemTime) -> Option<Vec<String>> {
    // another node's cluster is that node's to judge, by any criterion
    if c.elsewhere {
        return None;
    }
    let mut why = Vec::new();
    if a.orphaned {
        match c.expires {
            Some(t) if t <= now => why.push(format!("TTL expired {} ago", format_age(t))),
            _ if matches!(c.status, Status::Orphaned | Status::Stopped) => why.push(format!(
                "{}: {}",
                c.status.as_str(),
                c.reason.clone().unwrap_or_default()
            )),
            _ => return None,
        }
    }
    if let Some(min) = a.idle {
        let idle = c.idle_since.and_then(|t| now.duration_since(t).ok())?;
        if idle < min {
            return None;
        }
        why.push(format!(
            "idle for {}",
            humantime::format_duration(Duration::from_secs(idle.as_secs()))
        ));
    }
    if let Some(min) = a.older_than {
        let age = c.created.and_then(|t| now.duration_since(t).ok())?;
        if age < min {
            return None;
        }
        why.push(format!("created {} ago", format_age(c.created?)));
    }
    Some(why)
}

pub(super) fn patterns(given: &[String]) -> Result<Vec<glob::Pattern>> {
    given
        .iter()
        .map(|p| {
            glob::Pattern::new(p)
                .map_err(|e| Error::Usage(format!("bad cluster name pattern {p:?}: {e}")))
        })
        .collect()
}

/// No pattern selects everything; otherwise the name or the qualified name must match one.
pub(super) fn selected(c: &Cluster, patterns: &[glob::Pattern]) -> bool {
    if patterns.is_empty() {
        return true;
    }
    let qualified = c.qualified();
    patterns
        .iter()
        .any(|p| p.matches(&c.name) || p.matches(&qualified))
}

/// The deletion proposed for `c`, with what it holds (cores, cost per hour).
fn proposed(app: &App, c: &Cluster, reasons: Vec<String>, now: SystemTime) -> Action {
    let held = crate::usage::held(&c.backend, &c.resources, &app.ctx.config.pricing, now, None);
    Action {
        cluster: c.name.clone(),
        backend: c.backend.clone(),
        status: c.status.as_str(),
        reasons,
        action: "would-delete",
        error: None,
        owner: c.owner.clone(),
        cores: crate::usage::round(held.cores, 3),
        cost_per_hour: held.per_hour.map(|p| crate::usage::round(p, 4)),
    }
}

/// Someone may still be using it: said before it goes (and in the preview).
async fn warn_of_clients(app: &App, c: &Cluster, deleting: bool) {
    let n = super::describe::clients(app, c)
        .await
        .map_or(0, |v| v.len());
    if n > 0 {
        app.out.warn(&format!(
            "{} has {n} client(s) connected: {}",
            c.qualified(),
            if deleting {
                "deleting it ends their work"
            } else {
                "deleting it would end their work"
            }
        ));
    }
}

impl Freed {
    /// Counts what a deletion (done or proposed) frees.
    fn add(&mut self, act: &Action) {
        if !matches!(act.action, "deleted" | "would-delete") {
            return;
        }
        self.clusters += 1;
        self.cores += act.cores;
        match act.cost_per_hour {
            Some(p) => self.cost_per_hour = Some(self.cost_per_hour.unwrap_or(0.0) + p),
            None if act.cores > 0.0 => self.unpriced += 1,
            None => {}
        }
    }
}

pub async fn run(app: &App, a: CleanupArgs) -> Result<()> {
    if !a.orphaned && a.idle.is_none() && a.older_than.is_none() {
        return Err(Error::Usage(
            "cleanup needs at least one of --orphaned, --idle DURATION, --older-than DURATION"
                .into(),
        ));
    }
    let patterns = patterns(&a.patterns)?;
    let backends = enabled_backends(&app.ctx, &a.backends)?;
    let found = fan_out(&backends, a.timeout.unwrap_or(app.deadline)).await;
    let now = SystemTime::now();
    let mut report = Report {
        dry_run: !a.yes,
        actions: Vec::new(),
        freed: Freed {
            currency: app.ctx.config.pricing.currency().to_string(),
            ..Freed::default()
        },
        skipped: Vec::new(),
        warnings: found.warnings.clone(),
    };
    for c in &found.clusters {
        // only the clusters in scope (the caller's, or --all-users / -u), whatever a backend
        // returned
        let b = backends.iter().find(|b| b.name() == c.backend);
        if !b.is_some_and(|b| crate::discovery::in_scope(&app.ctx, b.as_ref(), c))
            || !selected(c, &patterns)
        {
            continue;
        }
        let Some(reasons) = reasons(c, &a, now) else {
            if let Some(why) = unjudgeable(c, &a) {
                report.skipped.push(Skipped {
                    cluster: c.name.clone(),
                    backend: c.backend.clone(),
                    why,
                });
            }
            continue;
        };
        let mut act = proposed(app, c, reasons, now);
        warn_of_clients(app, c, a.yes).await;
        if a.yes {
            let b = backends
                .iter()
                .find(|b| b.name() == c.backend)
                .expect("cluster from a queried backend");
            delete(app, b.as_ref(), c, &mut act).await;
        }
        report.freed.add(&act);
        report.actions.push(act);
    }
    print(app, &a, &report);
    for w in &found.warnings {
        app.out.warn(w);
    }
    let failed = report
        .actions
        .iter()
        .filter(|x| x.action == "failed")
        .count();
    if failed > 0 {
        return Err(Error::Partial(format!(
            "{failed} cluster(s) could not be deleted"
        )));
    }
    if !found.warnings.is_empty() {
        return Err(Error::Partial(format!(
            "{} backend(s) could not be listed",
            found.warnings.len()
        )));
    }
    Ok(())
}

/// Deletes one cluster, waiting until it is verified gone; the action says what happened.
async fn delete(app: &App, b: &dyn Backend, c: &Cluster, act: &mut Action) {
    let req = DeleteRequest {
        wait: true,
        timeout: Duration::from_secs(60),
        progress: Default::default(),
    };
    if let Err(why) = crate::discovery::authorize(&app.ctx, b, c, crate::discovery::Action::Delete)
    {
        act.action = "failed";
        act.error = Some(why);
        return;
    }
    match b.delete(c, &req).await {
        Ok(()) => {
            act.action = "deleted";
            crate::discovery::cache::forget(&app.ctx.config.cache_root(), c);
        }
        // deleted and created again since it was listed (the new one is not judged here), or
        // deleted meanwhile by another command
        Err(e @ (crate::error::Error::Replaced(_) | crate::error::Error::NotFound(_))) => {
            act.action = "skipped";
            act.error = Some(e.to_string());
        }
        Err(e) => {
            act.action = "failed";
            act.error = Some(e.to_string());
        }
    }
}

fn print(app: &App, a: &CleanupArgs, report: &Report) {
    let skipped = || {
        for x in &report.skipped {
            app.out
                .info(&format!("skipped {}/{}: {}", x.backend, x.cluster, x.why));
        }
    };
    match a.output {
        Format::Json => app.out.json(report),
        Format::Yaml => app.out.yaml(report),
        Format::Table if report.actions.is_empty() => {
            app.out.info("Nothing to clean up.");
            skipped();
        }
        Format::Table => {
            let mut t = table(&[
                "NAME", "BACKEND", "OWNER", "STATUS", "CORES", "ACTION", "WHY",
            ]);
            for x in &report.actions {
                let what = match &x.error {
                    Some(e) => format!("failed: {e}"),
                    None => x.action.to_string(),
                };
                t.add_row(vec![
                    x.cluster.clone(),
                    x.backend.clone(),
                    opt(x.owner.clone()),
                    x.status.to_string(),
                    crate::usage::format_cores(x.cores),
                    what,
                    opt(Some(x.reasons.join("; "))),
                ]);
            }
            app.out.data(&render(&t));
            let f = &report.freed;
            let cost = f
                .cost_per_hour
                .map(|p| format!(", {p:.2} {}/h", f.currency))
                .unwrap_or_default();
            let unpriced = if f.unpriced > 0 {
                format!(" ({} without a price)", f.unpriced)
            } else {
                String::new()
            };
            app.out.info(&format!(
                "{} {} cluster(s), {} cores{cost}{unpriced}.",
                if a.yes { "Freed:" } else { "Would free:" },
                f.clusters,
                crate::usage::format_cores(f.cores),
            ));
            skipped();
            if !a.yes {
                app.out
                    .info("Preview only: run again with --yes to delete.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;

    fn args(orphaned: bool, idle: Option<u64>, older: Option<u64>) -> CleanupArgs {
        CleanupArgs {
            patterns: vec![],
            orphaned,
            idle: idle.map(Duration::from_secs),
            older_than: older.map(Duration::from_secs),
            yes: false,
            backends: vec![],
            output: Format::Table,
            timeout: None,
            cloud: Default::default(),
            users: Default::default(),
        }
    }

    #[test]
    fn criteria_combine_with_and() {
        let now = SystemTime::now();
        let mut c = Cluster::new("x", "local", Origin::Daskctl);
        c.status = Status::Orphaned;
        c.created = Some(now - Duration::from_secs(3 * 3600));
        assert!(reasons(&c, &args(true, None, Some(7200)), now).is_some());
        assert!(reasons(&c, &args(true, None, Some(4 * 3600)), now).is_none());
        assert!(
            reasons(&c, &args(false, Some(60), None), now).is_none(),
            "idle unknown: not idle"
        );
        c.idle_since = Some(now - Duration::from_secs(120));
        assert_eq!(
            reasons(&c, &args(false, Some(60), None), now).unwrap(),
            vec!["idle for 2m".to_string()]
        );
        c.status = Status::Running;
        assert!(reasons(&c, &args(true, Some(60), None), now).is_none());
    }

    #[test]
    fn patterns_match_name_or_qualified_name() {
        let mut c = Cluster::new("ci-7", "kubernetes", Origin::Daskctl);
        c.namespace = Some("team-a".into());
        let sel = |p: &[&str]| {
            let given: Vec<String> = p.iter().map(|s| s.to_string()).collect();
            selected(&c, &patterns(&given).unwrap())
        };
        assert!(sel(&[]));
        assert!(sel(&["ci-*"]));
        assert!(sel(&["nightly-*", "ci-?"]));
        assert!(sel(&["kubernetes/team-a/*"]));
        assert!(!sel(&["kubernetes/team-b/*"]));
        assert!(!sel(&["ci"]));
        assert!(matches!(patterns(&["[".to_string()]), Err(Error::Usage(_))));
    }
}
