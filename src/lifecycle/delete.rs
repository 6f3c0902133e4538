use super::App;
use super::confirm::confirm;
use crate::backends::DeleteRequest;
use crate::cli::DeleteArgs;
use crate::discovery::resolve;
use crate::error::Result;

pub async fn run(app: &App, a: DeleteArgs) -> Result<()> {
    let (backend, c) = resolve(&app.ctx, &a.name, app.deadline).await?;
    super::authorize(app, backend.as_ref(), &c, crate::discovery::Action::Delete)?;
    let workers = match (c.workers, c.requested_workers) {
        (Some(w), Some(r)) if r != w => format!("{w} of {r} worker(s)"),
        (Some(w), _) | (None, Some(w)) => format!("{w} worker(s)"),
        (None, None) => "workers unknown".into(),
    };
    let what = format!(
        "delete {}{} ({}, {workers}, scheduler {}, {} resource(s))",
        c.qualified(),
        super::whose(app, &c),
        c.status.as_str(),
        c.address.as_deref().unwrap_or("address unknown"),
        c.resources.len()
    );
    confirm(&what, a.yes)?;
    let req = DeleteRequest {
        wait: a.wait,
        timeout: a.timeout,
        progress: crate::progress::Progress::start(format!("delete {}", c.qualified())),
    };
    let deleted = backend.delete(&c, &req).await;
    req.progress.finish();
    deleted?;
    crate::discovery::cache::forget(&app.ctx.config.cache_root(), &c);
    app.out.success(&format!(
        "deleted {}{}",
        c.qualified(),
        super::whose(app, &c)
    ));
    Ok(())
}
