//! `usage`: what the clusters hold (cores, core-hours, cost), grouped by user, backend or
//! status, with what `cleanup --orphaned` and `cleanup --idle` would free; Prometheus text for
//! node_exporter's textfile collector with `-o prom` or `--textfile`.

use super::App;
use crate::cli::{UsageArgs, UsageFormat};
use crate::discovery::{enabled_backends, fan_out};
use crate::error::{Error, IoContext, Result};
use crate::serve::Snapshot;
use crate::usage::report;
use std::time::SystemTime;

pub async fn run(app: &App, a: UsageArgs) -> Result<()> {
    let backends = enabled_backends(&app.ctx, &a.backends)?;
    let mut found = fan_out(&backends, a.timeout.unwrap_or(app.deadline)).await;
    // only the clusters in scope (the caller's, or --all-users / -u), whatever a backend returned
    crate::discovery::keep_in_scope(&app.ctx, &backends, &mut found.clusters);
    let now = SystemTime::now();
    let since = a.since.map(|d| now - d);
    let mut rep = report::build(
        &found.clusters,
        &app.ctx.config.pricing,
        a.by,
        since,
        a.idle,
        now,
    );
    rep.warnings = found.warnings.clone();
    let warnings = found.warnings.clone();
    let prom = || {
        let mut text = crate::serve::metrics::render(&Snapshot::of(&backends, found), now);
        rep.prom(&mut text);
        text
    };
    match (&a.textfile, a.output) {
        (Some(path), _) => write_atomically(path, &prom())?,
        (None, UsageFormat::Prom) => app.out.data(prom().trim_end()),
        (None, UsageFormat::Json) => app.out.json(&rep),
        (None, UsageFormat::Csv) => app.out.data(rep.csv().trim_end()),
        (None, UsageFormat::Table) => app.out.data(&rep.table()),
    }
    for w in &warnings {
        app.out.warn(w);
    }
    if !warnings.is_empty() {
        return Err(Error::Partial(format!(
            "{} backend(s) could not be listed: their clusters are not counted",
            warnings.len()
        )));
    }
    Ok(())
}

/// node_exporter's textfile collector reads `*.prom` files at any moment: written beside the
/// target and renamed over it, so a scrape never sees half a file.
fn write_atomically(path: &std::path::Path, text: &str) -> Result<()> {
    if path.file_name().is_none() {
        return Err(Error::Usage(format!(
            "--textfile {}: not a file name",
            path.display()
        )));
    }
    // readable by the collector, which runs as its own user
    crate::safefile::write_atomic_with(path, text.as_bytes(), 0o644)
        .ctx(|| format!("writing {}", path.display()))
}
