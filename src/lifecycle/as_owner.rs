//! `daskctl __as-owner` (hidden): the child root starts to act on another user's local cluster
//! as that user (`backends/local/owner.rs`). It reads one request from stdin, finds the cluster
//! by name under its state root as the user it runs as, acts through the same local backend a
//! user's own daskctl uses, and answers with JSON lines on stdout: log lines as they come, the
//! outcome last. It always exits 0; the outcome says what happened.

use super::App;
use crate::backends::local::owner::{Reply, Request};
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
    let b = (crate::backends::lookup("local")?.build)(app.ctx.clone());
    let name = match &req {
        Request::Delete { name, .. } | Request::Scale { name, .. } | Request::Logs { name, .. } => {
            name
        }
    };
    let c = b
        .from_name(name)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no cluster local/{name} of this user")))?;
    match req {
        Request::Delete { timeout_ms, .. } => {
            let req = DeleteRequest {
                wait: true,
                timeout: Duration::from_millis(timeout_ms),
                progress: Default::default(),
            };
            b.delete(&c, &req).await.map(|()| Reply::Done)
        }
        Request::Scale {
            target,
            wait,
            timeout_ms,
            group,
            retire_first,
            ..
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
        Request::Logs {
            scheduler_only,
            worker,
            tail,
            follow,
            ..
        } => {
            let req = LogRequest {
                scheduler_only,
                worker,
                tail,
                follow,
            };
            b.logs(&c, &req, &mut Lines).await.map(|()| Reply::Done)
        }
    }
}
