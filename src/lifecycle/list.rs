use super::App;
use crate::cli::{ListArgs, ListFormat, SortKey};
use crate::discovery::{cache, enabled_backends, fan_out};
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::printer::{render, table};
use crate::units::{format_age, format_size};

pub async fn run(app: &App, a: ListArgs) -> Result<()> {
    let backends = enabled_backends(&app.ctx, &a.backends)?;
    let mut out = fan_out(&backends, a.timeout.unwrap_or(app.deadline)).await;
    // every discovery refreshes the names completion offers: all of them, or those backends'
    if a.backends.is_empty() {
        say_what_is_hidden(app, backends.is_empty());
        cache::store(&app.ctx.config.cache_root(), &out.clusters);
    } else if out.warnings.is_empty() {
        cache::store_backends(&app.ctx.config.cache_root(), &out.clusters, &a.backends);
    }
    if !a.status.is_empty() {
        out.clusters.retain(|c| a.status.contains(&c.status));
    }
    if let Some(key) = a.sort_by {
        sort(&mut out.clusters, key);
    }
    let render = |t: &comfy_table::Table| {
        let text = render(t);
        if a.no_headers {
            // the first line is the header
            text.split_once('\n')
                .map(|(_, rows)| rows.to_string())
                .unwrap_or_default()
        } else {
            text
        }
    };
    match a.output {
        ListFormat::Json => app.out.json(&out.clusters),
        ListFormat::Yaml => app.out.yaml(&out.clusters),
        ListFormat::Name => {
            for c in &out.clusters {
                app.out.data(&c.qualified());
            }
        }
        ListFormat::Table | ListFormat::Wide if out.clusters.is_empty() => {
            if a.no_headers {
                // nothing on stdout, nothing on stderr: a script reads zero rows
            } else if a.status.is_empty() {
                app.out.info("No clusters found.")
            } else {
                app.out.info("No clusters with that status.")
            }
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

/// Clusters that may exist but are not listed: every backend disabled, or a disabled backend
/// that had clusters when it was last listed (said on stderr; the exit code is unchanged).
fn say_what_is_hidden(app: &App, none_enabled: bool) {
    if none_enabled {
        app.out
            .warn("every backend is disabled: nothing is listed (daskctl backends enable NAME)");
        return;
    }
    let disabled: Vec<&str> = crate::backends::registered()
        .into_iter()
        .filter(|r| !crate::backends::is_enabled(&app.ctx, r))
        .map(|r| r.name)
        .collect();
    for (b, n) in cache::hidden(&app.ctx.config.cache_root(), &disabled) {
        app.out.warn(&format!(
            "backend {b} is disabled and had {n} cluster(s) when last listed: they are not \
             shown (daskctl backends enable {b})"
        ));
    }
}

/// Orders clusters by `key`; ties by backend, then name.
fn sort(clusters: &mut [Cluster], key: SortKey) {
    use std::cmp::Reverse;
    clusters.sort_by(|x, y| {
        let tie = (&x.backend, &x.name).cmp(&(&y.backend, &y.name));
        let by = match key {
            SortKey::Name => x.name.cmp(&y.name),
            SortKey::Backend => x.backend.cmp(&y.backend),
            // oldest first; unknown ages last
            SortKey::Age => (x.created.is_none(), x.created).cmp(&(y.created.is_none(), y.created)),
            SortKey::Workers => {
                Reverse(x.workers.unwrap_or(0)).cmp(&Reverse(y.workers.unwrap_or(0)))
            }
            // idle longest (earliest idle_since) first; busy or unknown last
            SortKey::Idle => {
                (x.idle_since.is_none(), x.idle_since).cmp(&(y.idle_since.is_none(), y.idle_since))
            }
        };
        by.then(tie)
    });
}

pub fn list_table(clusters: &[Cluster], wide: bool) -> comfy_table::Table {
    let mut header = vec![
        "NAME", "BACKEND", "STATUS", "WORKERS", "THREADS", "MEMORY", "AGE", "IDLE", "ADDRESS",
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
            // the scheduler's idle clock: "-" when busy or not asked
            opt(c.idle_since.map(format_age)),
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
