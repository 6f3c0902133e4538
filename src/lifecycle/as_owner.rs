//! `daskctl __as-owner` (hidden): the child root starts to act on another user's local or batch
//! cluster as that user (`backends/owner.rs`). It reads one request from stdin, finds the
//! cluster by name as the user it runs as (their state root, their jobs), acts through the same
//! backend a user's own daskctl uses, and answers with JSON lines on stdout: log lines as they
//! come, the outcome last. It always exits 0; the outcome says what happened.

use super::App;
use crate::backends::owner::{Action, Reply, Request};
use crate::backends::{DeleteRequest, LogRequest, LogSink, ScaleRequest};
use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::time::Duration;

struct Lines;

impl LogSink for Lines {
    fn line(&mut self, source: &str, line: &str) {
        say(&Reply::Line {
            source: source.to_string(),
            line: line.to_string(),
        });
    }
}

fn say(r: &Reply) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string(r).expect("a reply serialises")
    );
    let _ = out.flush();
}

pub async fn run(app: &App) -> Result<()> {
    let reply = match answer(app).await {
        Ok(r) => r,
        Err(e) => Reply::Failed {
            code: e.exit_code(),
            message: e.to_string(),
        },
    };
    say(&reply);
    Ok(())
}

async fn answer(app: &App) -> Result<Reply> {
    let mut text = String::new();
    std::io::stdin()
        .take(1 << 20)
        .read_to_string(&mut text)
        .map_err(|e| {
            Error::Usage(format!(
                "{}: reading the request: {e}",
                super::as_owner_verb()
            ))
        })?;
    let req: Request = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: not a request: {e}", super::as_owner_verb())))?;
    if let Action::States = req.action {
        return Ok(Reply::States(crate::backends::local::discover::own_states(
            &app.ctx,
        )?));
    }
    let b = (crate::backends::lookup(&req.backend)?.build)(app.ctx.clone());
    let Some(name) = &req.name else {
        return Err(Error::Usage(format!(
            "{}: the request names no cluster",
            super::as_owner_verb()
        )));
    };
    let mut c = b.from_name(name).await?.ok_or_else(|| {
        Error::NotFound(format!("no cluster {}/{name} of this user", req.backend))
    })?;
    // what every verb's lookup gives a cluster: its stored policy, its usage
    crate::discovery::finish(b.as_ref(), &mut c);
    match req.action {
        Action::Delete { timeout_ms } => {
            let req = DeleteRequest {
                wait: true,
                timeout: Duration::from_millis(timeout_ms),
                progress: Default::default(),
            };
            b.delete(&c, &req).await.map(|()| Reply::Done)
        }
        Action::Scale {
            target,
            wait,
            timeout_ms,
            group,
            retire_first,
        } => {
            let req = ScaleRequest {
                target,
                wait,
                timeout: Duration::from_millis(timeout_ms),
                retire_first,
                group,
                progress: Default::default(),
            };
            b.scale(&c, &req).await.map(Reply::Scaled)
        }
        Action::Logs {
            scheduler_only,
            worker,
            tail,
            follow,
        } => {
            let req = LogRequest {
                scheduler_only,
                worker,
                tail,
                follow,
            };
            b.logs(&c, &req, &mut Lines).await.map(|()| Reply::Done)
        }
        Action::Adapt { adapt } => super::adapt::store(b.as_ref(), &c, adapt)
            .await
            .map(Reply::Said),
        Action::EndAdapt { group } => super::end_adapt_for_size(b.as_ref(), &c, group)
            .await
            .map(Reply::Ended),
        Action::States => unreachable!("answered above"),
        Action::Reconcile { yes } => Ok(Reply::Reconciled(
            super::reconcile::judge_as_owner(app, b.as_ref(), &c, yes).await,
        )),
    }
}
