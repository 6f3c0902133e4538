//! The page. `/` is a static shell (no data, no token needed) whose script (`assets/app.js`,
//! same origin, the only script the CSP lets run) keeps the token in `sessionStorage` and asks
//! `/api/view` with it: the clusters of the snapshot as rows already formatted here, filtered
//! by backend, status and owner, each with its dashboard link when that link is safe to follow
//! (`safe_dashboard`) and, unless `--read-only`, scale and delete buttons that go through
//! `/api/act` (`act.rs`). The script writes text only (`textContent`), never markup.

use super::Server;
use crate::model::Cluster;
use crate::units::{format_age, format_size};
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `?backend=&status=&user=`: the filters.
#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    backend: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    user: String,
}

fn keep(f: &Filters, c: &Cluster) -> bool {
    (f.backend.is_empty() || c.backend == f.backend)
        && (f.status.is_empty() || c.status.as_str() == f.status)
        && (f.user.is_empty() || c.owner.as_deref() == Some(f.user.as_str()))
}

pub async fn api_clusters(State(s): State<Arc<Server>>) -> Response {
    Json(s.snapshot().clusters.clone()).into_response()
}

/// `/api/usage?by=user|backend|status&since=24h&idle=30m`: `daskctl usage -o json`'s report.
#[derive(Deserialize, Default)]
pub struct UsageQuery {
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    idle: Option<String>,
}

pub async fn api_usage(State(s): State<Arc<Server>>, Query(q): Query<UsageQuery>) -> Response {
    let bad = |m: String| (StatusCode::BAD_REQUEST, format!("{m}\n")).into_response();
    let by = match q.by.as_deref() {
        None => crate::usage::report::By::User,
        // the words `usage --by` takes
        Some(b) => match <crate::usage::report::By as clap::ValueEnum>::from_str(b, false) {
            Ok(b) => b,
            Err(_) => return bad(format!("by must be user, backend or status, not {b:?}")),
        },
    };
    let duration = |v: &Option<String>, default: Option<std::time::Duration>| match v {
        None => Ok(default),
        Some(v) => crate::units::parse_duration(v).map(Some),
    };
    let since = match duration(&q.since, None) {
        Ok(d) => d,
        Err(e) => return bad(format!("since: {e}")),
    };
    let idle = match duration(&q.idle, Some(std::time::Duration::from_secs(1800))) {
        Ok(d) => d.unwrap_or_default(),
        Err(e) => return bad(format!("idle: {e}")),
    };
    let snap = s.snapshot();
    let now = std::time::SystemTime::now();
    let mut rep = crate::usage::report::build(
        &snap.clusters,
        &s.ctx.config.pricing,
        by,
        since.map(|d| now - d),
        idle,
        now,
    );
    rep.warnings = snap.warnings.clone();
    Json(rep).into_response()
}

const SHELL: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

/// `/`: the shell. `/?token=T` is sent on to `/#token=T` (the other filters kept): the token
/// leaves the query, which servers, proxies and history keep, for the fragment, which stays in
/// the browser and which the script removes.
pub async fn shell(uri: Uri) -> Response {
    let Some(token) = super::auth::in_query(uri.query()) else {
        return Html(SHELL).into_response();
    };
    let rest: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.starts_with("token=") && !kv.is_empty())
        .collect();
    let query = if rest.is_empty() {
        String::new()
    } else {
        format!("?{}", rest.join("&"))
    };
    // the token goes back only as the browser sent it, and only when it is a token's shape
    if !token.bytes().all(|b| b.is_ascii_graphic() && b != b'#') {
        return (StatusCode::BAD_REQUEST, "a malformed token\n").into_response();
    }
    Redirect::to(&format!("/{query}#token={token}")).into_response()
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// A dashboard link the page may show: `http(s)` to the scheduler's own host. A link is a
/// claim read from the user's resources (a local cluster's `state.json`, a job's output): a
/// `javascript:` URL, or one to another host, is not shown.
pub fn safe_dashboard(c: &Cluster) -> Option<String> {
    let link: Uri = c.dashboard.as_deref()?.parse().ok()?;
    if !matches!(link.scheme_str(), Some("http" | "https")) {
        return None;
    }
    let scheduler: Uri = c.address.as_deref()?.parse().ok()?;
    let (a, b) = (link.host()?, scheduler.host()?);
    a.eq_ignore_ascii_case(b).then(|| link.to_string())
}

/// The choices of one filter.
#[derive(Serialize)]
struct Choice {
    chosen: String,
    values: Vec<String>,
}

/// One row of the table, formatted.
#[derive(Serialize)]
struct Row {
    cluster: String,
    name: String,
    backend: String,
    status: &'static str,
    workers: String,
    threads: String,
    memory: String,
    age: String,
    idle: String,
    cores: String,
    core_hours: String,
    cost: String,
    owner: String,
    dashboard: Option<String>,
    /// What the scale box starts at.
    size: u64,
}

#[derive(Serialize)]
struct View {
    taken: String,
    warnings: Vec<String>,
    read_only: bool,
    usage: String,
    backend: Choice,
    status: Choice,
    user: Choice,
    rows: Vec<Row>,
}

/// `/api/view`: what the page shows.
pub async fn view(State(s): State<Arc<Server>>, Query(f): Query<Filters>) -> Response {
    let snap = s.snapshot();
    let distinct = |get: &dyn Fn(&Cluster) -> Option<String>| {
        let mut v: Vec<String> = snap.clusters.iter().filter_map(get).collect();
        v.sort();
        v.dedup();
        v
    };
    let usage = crate::usage::report::build(
        &snap.clusters,
        &s.ctx.config.pricing,
        crate::usage::report::By::User,
        None,
        std::time::Duration::from_secs(30 * 60),
        std::time::SystemTime::now(),
    );
    let o = &usage.states.orphaned;
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let rows = snap
        .clusters
        .iter()
        .filter(|c| keep(&f, c))
        .map(|c| Row {
            cluster: c.qualified(),
            name: c.name.clone(),
            backend: c.backend.clone(),
            status: c.status.as_str(),
            workers: match (c.workers, c.requested_workers) {
                (Some(w), Some(r)) if r != w => format!("{w}/{r}"),
                (Some(w), _) => w.to_string(),
                (None, Some(r)) => format!("?/{r}"),
                (None, None) => "-".into(),
            },
            threads: dash(c.threads.map(|t| t.to_string())),
            memory: dash(c.memory.filter(|m| *m > 0).map(format_size)),
            age: dash(c.created.map(format_age)),
            idle: dash(c.idle_since.map(format_age)),
            cores: dash(c.cores.map(crate::usage::format_cores)),
            core_hours: dash(c.core_hours.map(crate::usage::format_core_hours)),
            cost: dash(c.cost.as_ref().map(crate::usage::format_rate)),
            owner: dash(c.owner.clone()),
            dashboard: safe_dashboard(c),
            size: c.requested_workers.or(c.workers).unwrap_or(0),
        })
        .collect();
    Json(View {
        taken: snap
            .taken
            .map(|t| format!("listed {} ago", format_age(t)))
            .unwrap_or_else(|| "the first listing is under way".into()),
        warnings: snap.warnings.clone(),
        read_only: s.opts.read_only,
        usage: format!(
            "{} cores held, {} core-hours; orphaned: {} cluster(s), {} cores, {} core-hours",
            crate::usage::format_cores(usage.total.cores),
            crate::usage::format_core_hours(usage.total.core_hours),
            o.clusters,
            crate::usage::format_cores(o.cores),
            crate::usage::format_core_hours(o.core_hours),
        ),
        backend: Choice {
            chosen: f.backend.clone(),
            values: snap.backends.iter().map(|(b, _)| b.clone()).collect(),
        },
        status: Choice {
            chosen: f.status.clone(),
            values: distinct(&|c| Some(c.status.as_str().to_string())),
        },
        user: Choice {
            chosen: f.user.clone(),
            values: distinct(&|c| c.owner.clone()),
        },
        rows,
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_links_to_the_schedulers_host_are_shown() {
        let at = |address: &str, dashboard: &str| {
            let mut c = Cluster::new("c", "local", crate::model::Origin::Daskctl);
            c.address = Some(address.into());
            c.dashboard = Some(dashboard.into());
            c
        };
        let shown = |c: &Cluster| safe_dashboard(c);
        assert_eq!(
            shown(&at("tcp://127.0.0.1:4000", "http://127.0.0.1:8787/status")).as_deref(),
            Some("http://127.0.0.1:8787/status")
        );
        assert!(shown(&at("tls://node1:4000", "https://NODE1:8787/status")).is_some());
        assert!(shown(&at("tcp://[::1]:4000", "http://[::1]:8787/")).is_some());
        for bad in [
            "javascript:alert(1)",
            "JavaScript://127.0.0.1/%0aalert(1)",
            "data:text/html,hi",
            "http://127.0.0.2:8787/status",
            "http://evil.example/status",
            "file:///etc/passwd",
            "//127.0.0.1:8787/",
            "http://127.0.0.1@evil.example/",
        ] {
            assert_eq!(shown(&at("tcp://127.0.0.1:4000", bad)), None, "{bad}");
        }
        let mut no_address = at("x", "http://127.0.0.1:8787/");
        no_address.address = None;
        assert_eq!(shown(&no_address), None);
    }
}
