use super::App;
use super::list::opt;
use crate::cli::{DescribeArgs, Format};
use crate::discovery::resolve;
use crate::error::Result;
use crate::model::{Cluster, word};
use crate::printer::{render, table};
use crate::units::{format_age, format_size};

pub async fn run(app: &App, a: DescribeArgs) -> Result<()> {
    let (_, mut c) = resolve(&app.ctx, &a.name, a.timeout.unwrap_or(app.deadline)).await?;
    c.clients = clients(app, &c).await;
    crate::discovery::cache::remember(&app.ctx.config.cache_root(), &c);
    match a.output {
        Format::Json => app.out.json(&c),
        Format::Yaml => app.out.yaml(&c),
        Format::Table => app.out.data(&describe_text(&c)),
    }
    Ok(())
}

/// The clients attached to a cluster's scheduler, where it answers (None: not asked, or it
/// did not say).
pub(super) async fn clients(app: &App, c: &Cluster) -> Option<Vec<String>> {
    let addr = c.address.as_deref()?;
    if c.silent.is_some() || !(addr.starts_with("tcp://") || addr.starts_with("tls://")) {
        return None;
    }
    match app.ctx.prober.clients(addr).await {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::info!("{}: its clients could not be asked: {e}", c.qualified());
            None
        }
    }
}

/// A time with how long ago it was.
fn when(t: Option<std::time::SystemTime>) -> Option<String> {
    t.map(|t| {
        format!(
            "{} ({} ago)",
            humantime::format_rfc3339_seconds(t),
            format_age(t)
        )
    })
}

/// The adaptive policy, with who applies it.
fn adapt_text(c: &Cluster) -> Option<String> {
    let a = c.adapt.as_ref()?;
    let group = a
        .group
        .as_ref()
        .map(|g| format!(" in group {g}"))
        .unwrap_or_default();
    let applied = match (c.adapt_by, c.adapt_applied) {
        (Some(crate::model::AdaptBy::Platform), _) => {
            "applied by its platform's autoscaler".to_string()
        }
        (_, Some(t)) => format!("applied by daskctl reconcile {} ago", format_age(t)),
        (_, None) => super::adapt::NEVER_APPLIED.to_string(),
    };
    Some(format!(
        "{} to {} workers{group} ({applied})",
        a.minimum, a.maximum
    ))
}

pub fn describe_text(c: &Cluster) -> String {
    let fields = [
        ("Name", c.name.clone()),
        ("Backend", c.backend.clone()),
        ("Origin", word(c.origin)),
        ("Status", c.status.as_str().to_string()),
        ("Reason", opt(c.reason.clone())),
        ("Address", opt(c.address.clone())),
        ("Dashboard", opt(c.dashboard.clone())),
        ("Workers", opt(c.workers.map(|w| w.to_string()))),
        ("Requested", opt(c.requested_workers.map(|w| w.to_string()))),
        ("Adapt", opt(adapt_text(c))),
        ("Threads", opt(c.threads.map(|t| t.to_string()))),
        ("Memory", opt(c.memory.map(format_size))),
        ("Created", opt(when(c.created))),
        ("Idle since", opt(when(c.idle_since))),
        (
            "Clients",
            opt(c.clients.as_ref().map(|v| match v.len() {
                0 => "none connected".to_string(),
                n => format!("{n} connected ({})", v.join(", ")),
            })),
        ),
        ("Owner", opt(c.owner.clone())),
        ("Cores", opt(c.cores.map(crate::usage::format_cores))),
        (
            "Core-hours",
            opt(c.core_hours.map(crate::usage::format_core_hours)),
        ),
        ("Cost", opt(c.cost.as_ref().map(crate::usage::format_cost))),
    ];
    let mut s: String = fields
        .iter()
        .map(|(k, v)| format!("{:<12}{v}\n", format!("{k}:")))
        .collect();
    tables(c, &mut s);
    s.trim_end().to_string()
}

/// The worker groups, resources and connected workers, each a table where there are any.
fn tables(c: &Cluster, s: &mut String) {
    let mut section = |title: &str, t: comfy_table::Table| {
        s.push_str(&format!("\n{title}:\n"));
        s.push_str(&render(&t));
        s.push('\n');
    };
    if !c.groups.is_empty() {
        let mut t = table(&["GROUP", "WORKERS", "REQUESTED"]);
        for g in &c.groups {
            let n = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
            t.add_row(vec![g.name.clone(), n(g.workers), n(g.requested)]);
        }
        section("Worker groups", t);
    }
    if !c.resources.is_empty() {
        let mut t = table(&["ROLE", "KIND", "ID", "STATE", "CORES", "STARTED", "NAME"]);
        for r in &c.resources {
            t.add_row(vec![
                word(r.role),
                r.kind.to_string(),
                r.id.clone(),
                r.state.clone(),
                opt(r.cores.map(crate::usage::format_cores)),
                opt(when(r.started)),
                opt(r.name.clone()),
            ]);
        }
        section("Resources", t);
    }
    if !c.worker_details.is_empty() {
        let mut t = table(&["WORKER", "ADDRESS", "THREADS", "MEMORY", "STATUS"]);
        for w in &c.worker_details {
            t.add_row(vec![
                w.name.clone(),
                w.address.clone(),
                w.threads.to_string(),
                format_size(w.memory),
                opt(w.status.clone()),
            ]);
        }
        section("Connected workers", t);
    }
}
