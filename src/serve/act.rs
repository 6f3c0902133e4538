//! `POST /api/act` (JSON, behind the token like the rest of the API): scale and delete from the
//! page, in two steps. The first (no `tag`) resolves the cluster, asks the one authorization
//! point every entry point asks (`discovery::authorize`) and answers what would happen with a
//! tag bound to exactly that (`tag.rs`); the second carries the tag and acts, through the same
//! backend calls as the command line, and reports only what happened (a delete is "deleted"
//! once the cluster is verified gone). Cross-site pages cannot take part: they cannot send the
//! Authorization header, nor a JSON body, without a CORS preflight serve never answers.

use super::Server;
use super::tag::Bound;
use crate::error::Error;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Act {
    cluster: String,
    action: String,
    #[serde(default)]
    workers: Option<u32>,
    /// The first step's answer, to act; absent, to ask.
    #[serde(default)]
    tag: Option<String>,
}

fn failed(code: StatusCode, why: impl std::fmt::Display) -> Response {
    (code, Json(serde_json::json!({ "failed": why.to_string() }))).into_response()
}

fn status_of(e: &Error) -> StatusCode {
    match e.exit_code() {
        crate::error::exit::USAGE => StatusCode::BAD_REQUEST,
        crate::error::exit::NOT_FOUND => StatusCode::NOT_FOUND,
        crate::error::exit::REFUSED => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The action, once its tag was checked: a scale (ending adaptive scaling, as on the command
/// line) or a delete; what was done, in words.
async fn perform(
    s: &Server,
    b: &dyn crate::backends::Backend,
    c: &crate::model::Cluster,
    workers: Option<u32>,
) -> crate::error::Result<String> {
    let qualified = c.qualified();
    match workers {
        Some(n) => {
            // as on the command line: an explicit size ends adaptive scaling
            crate::lifecycle::end_adapt_for_size(b, c, None).await?;
            let req = crate::backends::ScaleRequest {
                target: n,
                timeout: Duration::from_secs(120),
                ..Default::default()
            };
            b.scale(c, &req).await.map(|r| {
                format!(
                    "scaled {qualified} from {} to {} worker(s)",
                    r.before, r.target
                )
            })
        }
        None => {
            let req = crate::backends::DeleteRequest {
                wait: true,
                timeout: Duration::from_secs(120),
                progress: Default::default(),
            };
            b.delete(c, &req).await.map(|()| {
                crate::discovery::cache::forget(&s.ctx.config.cache_root(), c);
                format!("deleted {qualified}")
            })
        }
    }
}

pub async fn act(State(s): State<Arc<Server>>, Json(a): Json<Act>) -> Response {
    if s.opts.read_only {
        return failed(
            StatusCode::FORBIDDEN,
            "this server is read-only (--read-only)",
        );
    }
    let workers = match (a.action.as_str(), a.workers) {
        ("scale", Some(n)) => Some(n),
        ("scale", None) => return failed(StatusCode::BAD_REQUEST, "scale needs a worker count"),
        ("delete", None) => None,
        ("delete", Some(_)) => {
            return failed(StatusCode::BAD_REQUEST, "delete takes no worker count");
        }
        (other, _) => {
            return failed(
                StatusCode::BAD_REQUEST,
                format!("unknown action {:?}", crate::printer::clean(other)),
            );
        }
    };
    let (b, c) = match crate::discovery::resolve(&s.ctx, &a.cluster, s.opts.deadline).await {
        Ok(x) => x,
        Err(e) => return failed(status_of(&e), e),
    };
    let from = c.requested_workers.or(c.workers).unwrap_or(0);
    // the one decision every entry point makes: only the clusters the server was started for
    let action = match workers {
        Some(n) => crate::discovery::Action::Scale {
            from,
            to: u64::from(n),
        },
        None => crate::discovery::Action::Delete,
    };
    if let Err(why) = crate::discovery::authorize(&s.ctx, b.as_ref(), &c, action) {
        return failed(StatusCode::FORBIDDEN, why);
    }
    let qualified = c.qualified();
    let bound = Bound {
        action: &a.action,
        cluster: &qualified,
        workers,
        address: c.address.as_deref(),
    };
    let Some(tag) = a.tag else {
        let question = match workers {
            Some(n) => format!("scale {qualified} from {from} to {n} worker(s)"),
            None => format!(
                "delete {qualified} ({}, {} worker(s), scheduler {})",
                c.status.as_str(),
                c.workers.unwrap_or(0),
                c.address.as_deref().unwrap_or("address unknown")
            ),
        };
        let tag = s.tags.issue(&bound, std::time::SystemTime::now());
        return Json(serde_json::json!({
            "question": crate::printer::clean(&question),
            "tag": tag,
        }))
        .into_response();
    };
    if let Err(why) = s.tags.check(&tag, &bound, std::time::SystemTime::now()) {
        return failed(StatusCode::FORBIDDEN, why);
    }
    let done = perform(&s, b.as_ref(), &c, workers).await;
    // the page shows the cluster as it is now, not as the last interval saw it
    s.refresh().await;
    match done {
        Ok(msg) => Json(serde_json::json!({ "done": crate::printer::clean(&msg) })).into_response(),
        Err(e) => failed(status_of(&e), crate::printer::clean(&e.to_string())),
    }
}
