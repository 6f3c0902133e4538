use super::{App, worker_count};
use crate::backends::ScaleRequest;
use crate::cli::ScaleArgs;
use crate::discovery::{Action, resolve};
use crate::error::Result;

pub async fn run(app: &App, a: ScaleArgs) -> Result<()> {
    // a negative count fails before any lookup; the limit is the backend's (`max_workers`)
    worker_count(a.workers, u32::MAX)?;
    if let Some(g) = &a.group {
        crate::groups::validate_target(g)?;
    }
    let (backend, c) = resolve(&app.ctx, &a.name, app.deadline).await?;
    let target = worker_count(a.workers, backend.max_workers())?;
    let from = c.requested_workers.or(c.workers).unwrap_or(0);
    let to = u64::from(target);
    super::authorize(app, backend.as_ref(), &c, Action::Scale { from, to })?;
    let theirs = super::whose(app, &c);
    if let Some(g) = &a.group
        && g != crate::groups::DEFAULT
        && !c.groups.iter().any(|x| &x.name == g)
    {
        return Err(crate::error::Error::Usage(format!(
            "{} has no worker group {g}{}",
            c.qualified(),
            super::adapt::group_list(&c)
        )));
    }
    let group = a.group.clone().filter(|g| g != crate::groups::DEFAULT);
    if super::end_adapt_for_size(backend.as_ref(), &c, group.clone()).await? {
        app.out.warn(&format!(
            "{} no longer adapts: scale sets a fixed size (daskctl adapt turns it back on)",
            c.qualified()
        ));
    }
    let req = ScaleRequest {
        target,
        wait: a.wait,
        timeout: a.timeout,
        retire_first: Vec::new(),
        group: group.clone(),
        progress: if a.wait {
            crate::progress::Progress::start(format!("scale {} to {target}", c.qualified()))
        } else {
            Default::default()
        },
    };
    let scaled = backend.scale(&c, &req).await;
    req.progress.finish();
    let r = scaled?;
    let what = match &group {
        Some(g) => format!("{}{theirs} (group {g})", c.qualified()),
        None => format!("{}{theirs}", c.qualified()),
    };
    let mut msg = match &r.note {
        // the service chose another count (a gateway's cap): it says which in the note
        Some(_) => format!(
            "asked to scale {what} from {} to {} worker(s)",
            r.before, r.target
        ),
        None => format!("scaled {what} from {} to {} worker(s)", r.before, r.target),
    };
    if !r.started.is_empty() {
        msg.push_str(&format!("; started {}", r.started.join(", ")));
    }
    if !r.stopped.is_empty() {
        msg.push_str(&format!("; stopped {}", r.stopped.join(", ")));
    }
    app.out.success(&msg);
    if let Some(note) = &r.note {
        app.out.warn(note);
    }
    Ok(())
}
