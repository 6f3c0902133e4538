//! `adapt NAME --minimum N --maximum M` / `adapt NAME --off`: stores the cluster's adaptive
//! policy where its backend keeps the cluster's markers (`policy.json`), for `reconcile` to
//! apply from any machine. Changing the bounds resets the damping state.

use super::{App, worker_count};
use crate::backends::{Backend, until_settled};
use crate::cli::AdaptArgs;
use crate::discovery::resolve;
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::policy::{Adapt, PolicyStore};
use std::ops::ControlFlow;
use std::time::Duration;

pub async fn run(app: &App, a: AdaptArgs) -> Result<()> {
    // bounds are checked before any lookup
    let adapt = match (a.off, a.minimum, a.maximum) {
        (true, _, _) => None,
        (false, Some(lo), Some(hi)) => {
            let mut p = bounds(lo, hi)?;
            if let Some(g) = &a.group {
                crate::groups::validate_target(g)?;
                p.group = Some(g.clone()).filter(|g| g != crate::groups::DEFAULT);
            }
            Some(p)
        }
        _ => {
            return Err(Error::Usage(
                "give --minimum and --maximum, or --off".into(),
            ));
        }
    };
    let (backend, c) = resolve(&app.ctx, &a.name, a.timeout.unwrap_or(app.deadline)).await?;
    super::authorize(
        app,
        backend.as_ref(),
        &c,
        crate::discovery::Action::Configure,
    )?;
    let by = store(backend.as_ref(), &c, adapt.clone()).await?;
    // bounds nothing applies are a promise nobody keeps: say so unless a reconcile pass has
    // been applying this cluster's policy (the new bounds then take effect at its next pass)
    let kept_by_reconcile =
        backend.policy_store(&c).is_some() || backend.acting_owner(&c).is_some();
    let never_applied = kept_by_reconcile && c.adapt_applied.is_none();
    app.out.success(&match &adapt {
        Some(p) => format!(
            "{} adapts between {} and {} worker(s){}; {by} applies it",
            c.qualified(),
            p.minimum,
            p.maximum,
            p.group
                .as_ref()
                .map(|g| format!(" in group {g}"))
                .unwrap_or_default()
        ),
        None => format!(
            "{} no longer adapts; it keeps its current size",
            c.qualified()
        ),
    });
    if adapt.is_some() && never_applied {
        app.out.warn(&format!("{}: {NEVER_APPLIED}", c.qualified()));
    }
    Ok(())
}

/// Adaptive bounds as given (`--minimum`/`--maximum`, a spec's `adapt`): counts, minimum not
/// above maximum. The backend's own limit is checked where the backend is known (`store`).
pub(super) fn bounds(minimum: i64, maximum: i64) -> Result<Adapt> {
    Adapt::new(
        worker_count(minimum, u32::MAX)?,
        worker_count(maximum, u32::MAX)?,
    )
}

/// A policy no reconcile pass has applied yet.
pub(super) const NEVER_APPLIED: &str = "never applied: its size changes only once `daskctl reconcile` runs (schedule it: cron, \
     or reconcile --watch)";

/// ` (its groups: a, b)`, or nothing for a cluster without groups.
pub(super) fn group_list(c: &Cluster) -> String {
    if c.groups.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = c.groups.iter().map(|g| g.name.as_str()).collect();
    format!(" (its groups: {})", names.join(", "))
}

/// Stores (or, with None, removes) `c`'s adaptive policy (resetting the damping state), or
/// hands it to the platform's own autoscaler; says who applies it.
pub(super) async fn store(b: &dyn Backend, c: &Cluster, adapt: Option<Adapt>) -> Result<String> {
    if let Some(p) = &adapt {
        worker_count(p.maximum as i64, b.max_workers())?;
        if let Some(g) = &p.group
            && !c.groups.iter().any(|x| &x.name == g)
        {
            return Err(Error::Usage(format!(
                "{} has no worker group {g}{}",
                c.qualified(),
                group_list(c)
            )));
        }
    }
    // another user's policy file is written by a child that is that user (owner.rs)
    if let Some(o) = b.acting_owner(c) {
        return crate::backends::owner::adapt(&o, c, adapt).await;
    }
    let Some(store) = b.policy_store(c) else {
        if adapt.as_ref().is_some_and(|p| p.group.is_some()) {
            return Err(Error::Usage(format!(
                "{}: its platform's autoscaler sizes the default group only",
                c.qualified()
            )));
        }
        return b.platform_adapt(c, adapt).await;
    };
    update(store.as_ref(), c, |policy| {
        policy.adapt = adapt;
        policy.close_counts.clear();
        // new bounds (or none) have not been applied by anything yet
        policy.applied = None;
    })
    .await?;
    Ok("`daskctl reconcile` (cron, or reconcile --watch)".into())
}

/// Changes the policy `store` keeps for `c` under its lock.
pub(super) async fn update(
    store: &dyn PolicyStore,
    c: &Cluster,
    change: impl FnOnce(&mut crate::policy::Policy),
) -> Result<()> {
    // a reconcile holds the lock for one pass over the cluster: wait for it, briefly
    let lock = until_settled(
        Duration::from_secs(30),
        Duration::from_millis(200),
        || async {
            Ok(match store.try_lock().await? {
                Some(l) => ControlFlow::Break(l),
                None => ControlFlow::Continue(()),
            })
        },
    )
    .await?
    .map_err(|()| {
        Error::Timeout(format!(
            "{}: a daskctl reconcile kept its policy locked for 30s",
            c.qualified()
        ))
    })?;
    let changed = async {
        let mut policy = store.read().await?;
        change(&mut policy);
        store.write(&policy).await
    }
    .await;
    lock.release().await;
    changed
}
