//! The page: clusters from the snapshot as a server-rendered table (no script), filtered by
//! backend, status and owner, each with its dashboard link and, unless `--read-only`, scale and
//! delete forms. Acting takes two steps: the first POST shows what would happen and asks; the
//! second (`confirmed=yes`) acts through the same backend calls as the CLI and reports only
//! what happened (a delete waits until the cluster is verified gone).

use super::Server;
use crate::model::Cluster;
use crate::units::{format_age, format_size};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

/// HTML-escapes text for element content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `?backend=&status=&user=&done=`: the filters, and what the last action did.
#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    backend: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    done: String,
    #[serde(default)]
    failed: String,
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

fn options(name: &str, chosen: &str, values: &[String]) -> String {
    let mut o = format!("<select name=\"{name}\"><option value=\"\">any {name}</option>");
    for v in values {
        let sel = if v == chosen { " selected" } else { "" };
        o.push_str(&format!("<option{sel}>{}</option>", esc(v)));
    }
    o.push_str("</select>");
    o
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}\
th,td{padding:.3em .8em;text-align:left;border-bottom:1px solid #ddd}th{background:#f4f4f4}\
.running{color:#070}.orphaned,.degraded{color:#b00}.unknown{color:#a60}.note{padding:.5em;\
background:#eef}.failed{background:#fee}form.inline{display:inline}input[type=number]{width:4em}";

pub async fn index(State(s): State<Arc<Server>>, Query(f): Query<Filters>) -> Html<String> {
    let snap = s.snapshot();
    let distinct = |get: &dyn Fn(&Cluster) -> Option<String>| {
        let mut v: Vec<String> = snap.clusters.iter().filter_map(get).collect();
        v.sort();
        v.dedup();
        v
    };
    let backends: Vec<String> = snap.backends.iter().map(|(b, _)| b.clone()).collect();
    let statuses = distinct(&|c| Some(c.status.as_str().to_string()));
    let users = distinct(&|c| c.owner.clone());
    let csrf = s.opts.token.csrf();
    let mut h = String::new();
    h.push_str(&format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>daskctl</title>\
         <style>{STYLE}</style></head><body><h1>Dask clusters</h1>"
    ));
    let taken = snap
        .taken
        .map(|t| format!("listed {} ago", format_age(t)))
        .unwrap_or_else(|| "the first listing is under way".into());
    h.push_str(&format!("<p id=\"taken\">{}</p>", esc(&taken)));
    if !f.done.is_empty() {
        h.push_str(&format!(
            "<p class=\"note\" id=\"done\">{}</p>",
            esc(&f.done)
        ));
    }
    if !f.failed.is_empty() {
        h.push_str(&format!(
            "<p class=\"note failed\" id=\"failed\">{}</p>",
            esc(&f.failed)
        ));
    }
    for w in &snap.warnings {
        h.push_str(&format!("<p class=\"note failed\">{}</p>", esc(w)));
    }
    h.push_str(&format!(
        "<form method=\"get\" action=\"/\">{}{}{}<button>filter</button></form>",
        options("backend", &f.backend, &backends),
        options("status", &f.status, &statuses),
        options("user", &f.user, &users)
    ));
    let shown: Vec<&Cluster> = snap.clusters.iter().filter(|c| keep(&f, c)).collect();
    let usage = crate::usage::report::build(
        &snap.clusters,
        &s.ctx.config.pricing,
        crate::usage::report::By::User,
        None,
        std::time::Duration::from_secs(30 * 60),
        std::time::SystemTime::now(),
    );
    let o = &usage.states.orphaned;
    h.push_str(&format!(
        "<p id=\"usage\">{} cores held, {} core-hours; orphaned: {} cluster(s), \
         {} cores, {} core-hours (<a href=\"/api/usage\">usage</a>)</p>",
        crate::usage::format_cores(usage.total.cores),
        crate::usage::format_core_hours(usage.total.core_hours),
        o.clusters,
        crate::usage::format_cores(o.cores),
        crate::usage::format_core_hours(o.core_hours),
    ));
    h.push_str(&format!(
        "<table id=\"clusters\" data-count=\"{}\"><tr><th>name</th><th>backend</th>\
         <th>status</th><th>workers</th><th>threads</th><th>memory</th><th>age</th>\
         <th>idle</th><th>cores</th><th>core-hours</th><th>cost/h</th><th>owner</th>\
         <th>dashboard</th>{}</tr>",
        shown.len(),
        if s.opts.read_only {
            ""
        } else {
            "<th>actions</th>"
        }
    ));
    for c in &shown {
        let q = esc(&c.qualified());
        let cell = |v: Option<String>| esc(&v.unwrap_or_else(|| "-".into()));
        let workers = match (c.workers, c.requested_workers) {
            (Some(w), Some(r)) if r != w => format!("{w}/{r}"),
            (Some(w), _) => w.to_string(),
            (None, Some(r)) => format!("?/{r}"),
            (None, None) => "-".into(),
        };
        let dashboard = c
            .dashboard
            .as_deref()
            .map(|d| format!("<a href=\"{0}\">{0}</a>", esc(d)))
            .unwrap_or_else(|| "-".into());
        h.push_str(&format!(
            "<tr data-cluster=\"{q}\"><td>{}</td><td>{}</td><td class=\"{st}\">{st}</td>\
             <td class=\"workers\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"cores\">{}</td><td class=\"core-hours\">{}</td><td>{}</td>\
             <td>{}</td><td>{dashboard}</td>",
            esc(&c.name),
            esc(&c.backend),
            esc(&workers),
            cell(c.threads.map(|t| t.to_string())),
            cell(c.memory.filter(|m| *m > 0).map(format_size)),
            cell(c.created.map(format_age)),
            cell(c.idle_since.map(format_age)),
            cell(c.cores.map(crate::usage::format_cores)),
            cell(c.core_hours.map(crate::usage::format_core_hours)),
            cell(c.cost.as_ref().map(crate::usage::format_rate)),
            cell(c.owner.clone()),
            st = c.status.as_str(),
        ));
        if !s.opts.read_only {
            h.push_str(&format!(
                "<td><form class=\"inline\" method=\"post\" action=\"/act\">\
                 <input type=\"hidden\" name=\"cluster\" value=\"{q}\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"number\" name=\"workers\" min=\"0\" value=\"{}\">\
                 <button name=\"action\" value=\"scale\">scale</button>\
                 <button name=\"action\" value=\"delete\">delete</button></form></td>",
                c.requested_workers.or(c.workers).unwrap_or(0)
            ));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></body></html>");
    Html(h)
}

#[derive(Deserialize)]
pub struct Act {
    cluster: String,
    action: String,
    #[serde(default)]
    workers: Option<String>,
    csrf: String,
    #[serde(default)]
    confirmed: String,
}

fn back(key: &str, msg: &str) -> Response {
    let q: String = msg
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    Redirect::to(&format!("/?{key}={q}")).into_response()
}

pub async fn act(State(s): State<Arc<Server>>, Form(a): Form<Act>) -> Response {
    if s.opts.read_only {
        return (
            StatusCode::FORBIDDEN,
            "this server is read-only (--read-only)\n",
        )
            .into_response();
    }
    if !super::auth::same(&a.csrf, &s.opts.token.csrf()) {
        return (StatusCode::FORBIDDEN, "the form's tag is wrong\n").into_response();
    }
    let workers = match (a.action.as_str(), &a.workers) {
        ("scale", Some(w)) => match w.trim().parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => return back("failed", &format!("invalid worker count {w:?}")),
        },
        ("scale", None) => return back("failed", "scale needs a worker count"),
        ("delete", _) => None,
        (other, _) => return back("failed", &format!("unknown action {other:?}")),
    };
    let found = crate::discovery::resolve(&s.ctx, &a.cluster, s.opts.deadline).await;
    let (b, c) = match found {
        Ok(x) => x,
        Err(e) => return back("failed", &e.to_string()),
    };
    // the one decision every entry point makes (discovery::authorize): only the clusters the
    // server was started for, and never another user's grown by workers started as the server
    let action = match workers {
        Some(n) => crate::discovery::Action::Scale {
            from: c.requested_workers.or(c.workers).unwrap_or(0),
            to: u64::from(n),
        },
        None => crate::discovery::Action::Delete,
    };
    if let Err(why) = crate::discovery::authorize(&s.ctx, b.as_ref(), &c, action) {
        return back("failed", &why);
    }
    let what = match workers {
        Some(n) => format!(
            "scale {} from {} to {n} worker(s)",
            c.qualified(),
            c.requested_workers.or(c.workers).unwrap_or(0)
        ),
        None => format!(
            "delete {} ({}, {} worker(s), scheduler {})",
            c.qualified(),
            c.status.as_str(),
            c.workers.unwrap_or(0),
            c.address.as_deref().unwrap_or("address unknown")
        ),
    };
    if a.confirmed != "yes" {
        let csrf = s.opts.token.csrf();
        let n = workers.map(|n| n.to_string()).unwrap_or_default();
        return Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>daskctl: confirm</title>\
             <style>{STYLE}</style></head><body><p id=\"confirm\">{}?</p>\
             <form method=\"post\" action=\"/act\">\
             <input type=\"hidden\" name=\"cluster\" value=\"{}\">\
             <input type=\"hidden\" name=\"action\" value=\"{}\">\
             <input type=\"hidden\" name=\"workers\" value=\"{n}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button name=\"confirmed\" value=\"yes\">yes, {}</button> <a href=\"/\">no</a>\
             </form></body></html>",
            esc(&what),
            esc(&c.qualified()),
            esc(&a.action),
            esc(&a.action)
        ))
        .into_response();
    }
    let done = match workers {
        Some(n) => {
            // as on the command line: an explicit size ends adaptive scaling
            if c.adapt.is_some()
                && let Err(e) = crate::lifecycle::end_adapt(b.as_ref(), &c).await
            {
                return back("failed", &e.to_string());
            }
            let req = crate::backends::ScaleRequest {
                target: n,
                timeout: std::time::Duration::from_secs(120),
                ..Default::default()
            };
            b.scale(&c, &req).await.map(|r| {
                format!(
                    "scaled {} from {} to {} worker(s)",
                    c.qualified(),
                    r.before,
                    r.target
                )
            })
        }
        None => {
            let req = crate::backends::DeleteRequest {
                wait: true,
                timeout: std::time::Duration::from_secs(120),
                progress: Default::default(),
            };
            b.delete(&c, &req).await.map(|()| {
                crate::discovery::cache::forget(&s.ctx.config.cache_root(), &c);
                format!("deleted {}", c.qualified())
            })
        }
    };
    // the page shows the cluster as it is now, not as the last interval saw it
    s.refresh().await;
    match done {
        Ok(msg) => back("done", &msg),
        Err(e) => back("failed", &e.to_string()),
    }
}
