//! One file per verb. Each takes the parsed arguments and the `App`, prints data to stdout
//! and messages to stderr, and returns a typed error that carries the exit code.

mod adapt;
mod apply;
pub mod as_owner;
mod backends;
mod cleanup;
mod completions;
mod confirm;
mod create;
mod delete;
mod describe;
mod list;
mod logs;
pub mod reconcile;
mod scale;
mod serve;
mod snippet;
pub mod spec_args;
mod usage;

use crate::backends::Context;
use crate::cli::Command;
use crate::error::Result;
use crate::printer::Printer;
use std::sync::Arc;
use std::time::Duration;

pub struct App {
    pub ctx: Arc<Context>,
    pub out: Printer,
    /// Per-backend discovery deadline.
    pub deadline: Duration,
}

pub async fn dispatch(app: &App, command: Command) -> Result<()> {
    match command {
        Command::List(a) => list::run(app, a).await,
        Command::Describe(a) => describe::run(app, a).await,
        Command::Create(a) => create::run(app, *a).await,
        Command::Scale(a) => scale::run(app, a).await,
        Command::Logs(a) => logs::run(app, a).await,
        Command::Delete(a) => delete::run(app, a).await,
        Command::Cleanup(a) => cleanup::run(app, a).await,
        Command::Snippet(a) => snippet::run(app, a).await,
        Command::Adapt(a) => adapt::run(app, a).await,
        Command::Reconcile(a) => reconcile::run(app, a).await,
        Command::Apply(a) => apply::run(app, a).await,
        Command::Serve(a) => serve::run(app, a).await,
        Command::Usage(a) => usage::run(app, a).await,
        Command::Backends { action } => backends::run(app, action),
        Command::Completions { shell } => completions::run(app, shell),
        Command::AsOwner => as_owner::run(app).await,
    }
}

/// Whether the command may do `action` to `c` (`discovery::authorize`, the one decision for
/// every entry point): a refusal is exit 5.
pub fn authorize(
    app: &App,
    b: &dyn crate::backends::Backend,
    c: &crate::model::Cluster,
    action: crate::discovery::Action,
) -> Result<()> {
    crate::discovery::authorize(&app.ctx, b, c, action).map_err(crate::error::Error::Refused)
}

/// " (user bob's)" for another user's cluster, for confirmations and reports; empty for the
/// caller's own.
pub fn whose(app: &App, c: &crate::model::Cluster) -> String {
    match &c.owner {
        Some(o) if *o != app.ctx.user.name => format!(" (user {o}'s)"),
        _ => String::new(),
    }
}

/// What an explicit size does to adaptive scaling, as Dask's own clusters do
/// (`KubeCluster.scale`, dask-gateway's `scale`): it ends the policy that sizes `group` (its
/// stored policy, or the platform's autoscaler), else the next reconcile would undo it. Whether
/// one was ended. Another user's cluster, which root acts on as them, is asked as them: only
/// they read their policy (root's listing does not).
pub async fn end_adapt_for_size(
    b: &dyn crate::backends::Backend,
    c: &crate::model::Cluster,
    group: Option<String>,
) -> Result<bool> {
    if let Some(o) = b.acting_owner(c) {
        return crate::backends::owner::end_adapt(&o, c, group).await;
    }
    if c.adapt.as_ref().is_none_or(|p| p.group != group) {
        return Ok(false);
    }
    adapt::store(b, c, None).await.map(|_| true)
}

pub use crate::units::worker_count;

/// The hidden verb a child acting as another user runs.
pub fn as_owner_verb() -> &'static str {
    crate::backends::owner::VERB
}
