//! Finding clusters across backends: concurrent fan-out with per-backend deadlines, name
//! resolution and the name cache used by shell completion.

pub mod cache;
pub mod fanout;
pub mod resolve;

pub use fanout::{Outcome, enabled_backends, fan_out};
pub use resolve::resolve;

/// What every cluster a backend returns gets before a verb sees it: the policy its backend
/// stores for it, and its cores, core-hours and cost (`crate::usage`).
pub fn finish(b: &dyn crate::backends::Backend, c: &mut crate::model::Cluster) {
    attach_policy(b, c);
    if let Some(p) = b.pricing() {
        crate::usage::account(c, p, std::time::SystemTime::now());
    }
}

/// Whether `c` is in the command's scope: the caller's (as its backend knows the caller), or
/// an owner `--all-users` / `-u` names.
pub fn in_scope(
    ctx: &crate::backends::Context,
    b: &dyn crate::backends::Backend,
    c: &crate::model::Cluster,
) -> bool {
    b.is_callers(c, &ctx.user.name)
        || c.owner
            .as_deref()
            .is_some_and(|o| ctx.scope.includes(o, &ctx.user.name))
}

/// Only the clusters in the command's scope, whatever the backends returned.
pub fn keep_in_scope(
    ctx: &crate::backends::Context,
    backends: &[std::sync::Arc<dyn crate::backends::Backend>],
    clusters: &mut Vec<crate::model::Cluster>,
) {
    clusters.retain(|c| {
        backends
            .iter()
            .find(|b| b.name() == c.backend)
            .is_some_and(|b| in_scope(ctx, b.as_ref(), c))
    });
}

/// What a command asks to do to a cluster, for `authorize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `delete`, `cleanup`, a reconcile's end of a cluster (TTL, idle)
    Delete,
    /// `scale` (an explicit size or a reconcile's decision) from `from` workers to `to`
    Scale { from: u64, to: u64 },
    /// `adapt`, `apply`: a policy or spec stored with the cluster, which later scales it
    Configure,
}

/// The one decision whether the caller may do `action` to `c`. Every entry point that changes
/// a cluster calls it: the CLI verbs (and through them the Python API and the Jupyter
/// handlers, which run the CLI), `serve`'s forms and `reconcile`. The refusal says why.
///
/// - Another user's cluster: only when the command names its owner (`--all-users`, `-u`).
/// - Never a change that would run that user's code as the caller: on backends whose new
///   workers the caller's own process starts (local processes, batch submissions), scaling up
///   another user's cluster, or storing a policy that scales it later, is refused. Their
///   workers would run their tasks (and, locally, the interpreter their state names) with the
///   caller's rights: as root, for a facility's cron or `serve --all-users`.
pub fn authorize(
    ctx: &crate::backends::Context,
    b: &dyn crate::backends::Backend,
    c: &crate::model::Cluster,
    action: Action,
) -> std::result::Result<(), String> {
    // another node's (a login node sharing this home): only its own daskctl sees its
    // processes, so only it may act
    if c.elsewhere {
        return Err(format!(
            "{} runs on {}: run daskctl there (this machine cannot see its processes)",
            c.qualified(),
            c.host.as_deref().unwrap_or("another host")
        ));
    }
    let theirs = match &c.owner {
        Some(o) if *o != ctx.user.name => Some(o),
        _ => None,
    };
    let Some(o) = theirs else {
        return Ok(());
    };
    if !in_scope(ctx, b, c) {
        return Err(format!(
            "{} belongs to user {o}; daskctl acts on another user's cluster only when the \
             command names them (--all-users or -u {o}, with the rights to act on it)",
            c.qualified()
        ));
    }
    let grows = match action {
        Action::Delete => false,
        Action::Scale { from, to } => to > from,
        Action::Configure => true,
    };
    if grows && b.starts_as_caller() {
        let what = match action {
            Action::Configure => "its policy would start its new workers",
            _ => "scaling it up would start its new workers",
        };
        return Err(format!(
            "{} (user {o}'s): {what} as you ({}); its owner scales it up, or an \
             administrator scales it down or deletes it",
            c.qualified(),
            ctx.user.name
        ));
    }
    Ok(())
}

/// Fills `c.adapt` from the policy its backend stores for it (a policy that cannot be read is
/// reported and leaves the cluster without one).
fn attach_policy(b: &dyn crate::backends::Backend, c: &mut crate::model::Cluster) {
    if let Some(stored) = b.stored_policy(c) {
        match stored {
            Ok(p) => {
                c.adapt_applied = p
                    .applied
                    .filter(|_| p.adapt.is_some())
                    .and_then(|s| crate::units::epoch_secs(s as f64));
                c.adapt_by = p
                    .adapt
                    .is_some()
                    .then_some(crate::model::AdaptBy::Reconcile);
                c.adapt = p.adapt;
                if c.expires.is_none() {
                    c.expires = p.expires.and_then(|s| crate::units::epoch_secs(s as f64));
                }
                c.idle_timeout = c.idle_timeout.or(p.idle_timeout);
            }
            Err(e) => tracing::warn!("{}: {e}", c.qualified()),
        }
    }
}
