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
    let reply = answer(app).await.unwrap_or_else(|e| failed(&e));
    say(&reply);
    Ok(())
}

/// The request `quick` read before the command line was parsed, for the full path.
static READ_AHEAD: std::sync::OnceLock<Request> = std::sync::OnceLock::new();

/// `daskctl __as-owner` asked for its user's local state directories, which a listing as root
/// waits on: answered before the command line is parsed, the runtime built or the context
/// made (those cost the waiting listing more than the answer itself; issue 31). Any other
/// request is kept for the full path. Some(exit code) when answered.
pub fn quick() -> Option<u8> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != super::as_owner_verb() || args.next().is_some() {
        return None;
    }
    let req = match read_request() {
        Ok(req) => req,
        Err(e) => {
            say(&failed(&e));
            return Some(crate::error::exit::OK);
        }
    };
    if !matches!(req.action, Action::States) {
        let _ = READ_AHEAD.set(req);
        return None;
    }
    let reply = crate::config::Config::load()
        .and_then(|c| states(&c.state_root()))
        .unwrap_or_else(|e| failed(&e));
    say(&reply);
    Some(crate::error::exit::OK)
}

fn states(root: &std::path::Path) -> Result<Reply> {
    let uid = nix::unistd::geteuid().as_raw();
    crate::backends::local::discover::own_states(root, uid).map(Reply::States)
}

fn failed(e: &Error) -> Reply {
    Reply::Failed {
        code: e.exit_code(),
        message: e.to_string(),
    }
}

/// The request on stdin.
fn read_request() -> Result<Request> {
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
    serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: not a request: {e}", super::as_owner_verb())))
}

async fn answer(app: &App) -> Result<Reply> {
    let req = match READ_AHEAD.get() {
        Some(req) => req.clone(),
        None => read_request()?,
    };
    if let Action::States = req.action {
        return states(&app.ctx.config.state_root());
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
