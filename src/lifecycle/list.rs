use super::App;
use crate::cli::{ListArgs, ListFormat};
use crate::discovery::{cache, enabled_backends, fan_out};
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::printer::{render, table};
use crate::units::{format_age, format_size};

pub async fn run(app: &App, a: ListArgs) -> Result<()> {
    let backends = enabled_backends(&app.ctx, &a.backends)?;
    let out = fan_out(&backends, a.timeout.unwrap_or(app.deadline)).await;
    if a.backends.is_empty() {
        cache::store(&app.ctx.config.cache_root(), &out.clusters);
    }
    match a.output {
        ListFormat::Json => app.out.json(&out.clusters),
        ListFormat::Yaml => app.out.yaml(&out.clusters),
        ListFormat::Name => {
            for c in &out.clusters {
                app.out.data(&c.qualified());
            }
        }
        ListFormat::Table | ListFormat::Wide if out.clusters.is_empty() => {
            app.out.info("No clusters found.")
        }
        ListFormat::Table => app.out.data(&render(&list_table(&out.clusters, false))),
        ListFormat::Wide => app.out.data(&render(&list_table(&out.clusters, true))),
    }
    for w in &out.warnings {
        app.out.warn(w);
    }
    if out.warnings.is_empty() {
        Ok(())
    } else {
        Err(Error::Partial(format!(
            "{} backend(s) could not be listed",
            out.warnings.len()
        )))
    }
}

pub fn list_table(clusters: &[Cluster], wide: bool) -> comfy_table::Table {
    let mut header = vec![
        "NAME", "BACKEND", "STATUS", "WORKERS", "THREADS", "MEMORY", "AGE", "ADDRESS",
    ];
    if wide {
        header.extend(["ORIGIN", "OWNER", "DASHBOARD", "RESOURCES", "REASON"]);
    }
    let mut t = table(&header);
    for c in clusters {
        let mut row = vec![
            c.name.clone(),
            c.backend.clone(),
            c.status.as_str().to_string(),
            workers_cell(c),
            opt(c.threads.map(|t| t.to_string())),
            opt(c.memory.filter(|m| *m > 0).map(format_size)),
            opt(c.created.map(format_age)),
            opt(c.address.clone()),
        ];
        if wide {
            row.extend([
                serde_json::to_value(c.origin)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                opt(c.owner.clone()),
                opt(c.dashboard.clone()),
                c.resources
                    .iter()
                    .map(|r| format!("{}:{}", r.kind, r.id))
                    .collect::<Vec<_>>()
                    .join(","),
                opt(c.reason.clone()),
            ]);
        }
        t.add_row(row);
    }
    t
}

fn workers_cell(c: &Cluster) -> String {
    match (c.workers, c.requested_workers) {
        (Some(w), Some(r)) if r != w => format!("{w}/{r}"),
        (Some(w), _) => w.to_string(),
        (None, Some(r)) => format!("?/{r}"),
        (None, None) => "-".into(),
    }
}

pub fn opt(s: Option<String>) -> String {
    s.unwrap_or_else(|| "-".into())
}
