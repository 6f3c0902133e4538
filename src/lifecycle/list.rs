use super::App;
use crate::cli::{ListArgs, ListFormat, SortKey};
use crate::discovery::{cache, enabled_backends, fan_out};
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::printer::{render, table};
use crate::units::{format_age, format_size};
use std::time::Duration;

pub async fn run(app: &App, a: ListArgs) -> Result<()> {
    if a.watch {
        return watch(app, &a).await;
    }
    let (clusters, warnings) = discover(app, &a, true).await?;
    match listing(&a, &clusters) {
        Listing::Data(text) => app.out.data(&text),
        Listing::Note(note) => app.out.info(note),
        Listing::Nothing => {}
    }
    for w in &warnings {
        app.out.warn(w);
    }
    if warnings.is_empty() {
        Ok(())
    } else {
        Err(Error::Partial(format!(
            "{} backend(s) could not be listed",
            warnings.len()
        )))
    }
}

/// One discovery as `list` does it: the clusters shown (filtered, sorted) and the warnings
/// of the backends that could not be listed.
async fn discover(app: &App, a: &ListArgs, notes: bool) -> Result<(Vec<Cluster>, Vec<String>)> {
    let backends = enabled_backends(&app.ctx, &a.backends)?;
    let mut out = fan_out(&backends, a.timeout.unwrap_or(app.deadline)).await;
    crate::discovery::keep_in_scope(&app.ctx, &backends, &mut out.clusters);
    if notes {
        for note in backends.iter().flat_map(|b| b.notes()) {
            app.out.info(&note);
        }
    }
    // every discovery refreshes the names completion offers: all of them, or those backends'
    if a.backends.is_empty() {
        if notes {
            say_what_is_hidden(app, backends.is_empty());
        }
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
    Ok((out.clusters, out.warnings))
}

/// What one listing prints: data for stdout, or a note for a person when there is no row.
enum Listing {
    Data(String),
    Note(&'static str),
    Nothing,
}

fn listing(a: &ListArgs, clusters: &[Cluster]) -> Listing {
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
    let yaml = || serde_yaml::to_string(clusters).expect("serialisable");
    match a.output {
        // with --watch, one compact line per listing (a stream jq reads); else pretty
        ListFormat::Json if a.watch => {
            Listing::Data(serde_json::to_string(clusters).expect("serialisable"))
        }
        ListFormat::Json => {
            Listing::Data(serde_json::to_string_pretty(clusters).expect("serialisable"))
        }
        ListFormat::Yaml if a.watch => Listing::Data(format!("---\n{}", yaml().trim_end())),
        ListFormat::Yaml => Listing::Data(yaml().trim_end().to_string()),
        ListFormat::Name if clusters.is_empty() => Listing::Nothing,
        ListFormat::Name => Listing::Data(
            clusters
                .iter()
                .map(Cluster::qualified)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        // nothing on stdout, nothing on stderr: a script reads zero rows
        ListFormat::Table | ListFormat::Wide if clusters.is_empty() && a.no_headers => {
            Listing::Nothing
        }
        ListFormat::Table | ListFormat::Wide if clusters.is_empty() => {
            Listing::Note(if a.status.is_empty() {
                "No clusters found."
            } else {
                "No clusters with that status."
            })
        }
        ListFormat::Table => Listing::Data(render(&list_table(clusters, false))),
        ListFormat::Wide => Listing::Data(render(&list_table(clusters, true))),
    }
}

/// `list --watch`: a listing every interval until Ctrl-C or SIGTERM (exit 0), or until stdout
/// is closed (`| head`). On a terminal each listing replaces the last one on the screen, with
/// the time it was taken; otherwise listings follow one another, tables separated by a blank
/// line. A backend that fails is warned about in that listing and tried again in the next.
async fn watch(app: &App, a: &ListArgs) -> Result<()> {
    use std::io::{IsTerminal, Write};
    use tokio::signal::unix::{SignalKind, signal};
    if a.interval < Duration::from_millis(500) {
        return Err(Error::Usage("--interval must be at least 500ms".into()));
    }
    let io = |e| Error::io("listening for Ctrl-C", e);
    let mut int = signal(SignalKind::interrupt()).map_err(io)?;
    let mut term = signal(SignalKind::terminate()).map_err(io)?;
    let tty = std::io::stdout().is_terminal();
    // a table was printed before: the next one is set apart by a blank line
    let mut shown = false;
    let mut first = true;
    loop {
        let found = tokio::select! {
            // what may be hidden is said once, before the first listing
            r = discover(app, a, first) => r?,
            _ = int.recv() => return Ok(()),
            _ = term.recv() => return Ok(()),
        };
        let (clusters, warnings) = found;
        first = false;
        let mut frame = String::new();
        if tty {
            // home, clear the screen: the new listing replaces the old one in place
            frame.push_str("\x1b[H\x1b[2J");
            frame.push_str(&format!(
                "Every {}: daskctl list    {}\n\n",
                humantime::format_duration(a.interval),
                humantime::format_rfc3339_seconds(std::time::SystemTime::now())
            ));
        }
        match listing(a, &clusters) {
            Listing::Data(text) => {
                if shown && !tty && matches!(a.output, ListFormat::Table | ListFormat::Wide) {
                    frame.push('\n');
                }
                shown = true;
                frame.push_str(&format!("{text}\n"));
            }
            // on a terminal the note is part of the screen; piped, it stays on stderr
            Listing::Note(note) if tty => frame.push_str(&format!("{note}\n")),
            Listing::Note(note) => app.out.info(note),
            Listing::Nothing => {}
        }
        let mut out = std::io::stdout().lock();
        if out
            .write_all(frame.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            // the reader went away (`| head`): nothing more to show
            return Ok(());
        }
        drop(out);
        for w in &warnings {
            app.out.warn(w);
        }
        tokio::select! {
            _ = tokio::time::sleep(a.interval) => {}
            _ = int.recv() => return Ok(()),
            _ = term.recv() => return Ok(()),
        }
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
        header.extend([
            "ORIGIN",
            "OWNER",
            "HOST",
            "CORES",
            "CORE-H",
            "COST/H",
            "DASHBOARD",
            "RESOURCES",
            "REASON",
        ]);
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
                crate::model::word(c.origin),
                opt(c.owner.clone()),
                opt(c.host.clone()),
                opt(c.cores.map(crate::usage::format_cores)),
                opt(c.core_hours.map(crate::usage::format_core_hours)),
                opt(c.cost.as_ref().map(crate::usage::format_rate)),
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
