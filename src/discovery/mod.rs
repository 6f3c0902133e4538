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
    crate::policy::attach(b, c);
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

/// Whether the caller may act on `c`: their own, or one whose owner the command names. The
/// error says whose it is and how an administrator acts on it.
pub fn may_act(
    ctx: &crate::backends::Context,
    b: &dyn crate::backends::Backend,
    c: &crate::model::Cluster,
) -> std::result::Result<(), String> {
    match &c.owner {
        Some(o) if !in_scope(ctx, b, c) => Err(format!(
            "{} belongs to user {o}; daskctl acts on another user's cluster only when the \
             command names them (--all-users or -u {o}, with the rights to act on it)",
            c.qualified()
        )),
        _ => Ok(()),
    }
}
