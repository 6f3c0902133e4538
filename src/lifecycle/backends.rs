use super::App;
use crate::backends::{self, Availability};
use crate::cli::{BackendsAction, Format};
use crate::config::Config;
use crate::error::Result;
use crate::printer::{render, table};
use serde::Serialize;

#[derive(Serialize)]
struct Row {
    name: &'static str,
    enabled: bool,
    available: bool,
    reason: Option<String>,
    capabilities: backends::Capabilities,
}

pub fn run(app: &App, action: Option<BackendsAction>) -> Result<()> {
    match action.unwrap_or(BackendsAction::List {
        output: Format::Table,
    }) {
        BackendsAction::List { output } => list(app, output),
        BackendsAction::Enable { name } => set(app, &name, true),
        BackendsAction::Disable { name } => set(app, &name, false),
    }
}

fn list(app: &App, output: Format) -> Result<()> {
    let rows: Vec<Row> = backends::registered()
        .into_iter()
        .map(|reg| {
            let b = (reg.build)(app.ctx.clone());
            let (available, reason) = match b.availability() {
                Availability::Ready => (true, None),
                Availability::Missing(why) => (false, Some(why)),
            };
            Row {
                name: reg.name,
                enabled: backends::is_enabled(&app.ctx, reg),
                available,
                reason,
                capabilities: b.capabilities(),
            }
        })
        .collect();
    match output {
        Format::Json => {
            app.out.json(&rows);
            return Ok(());
        }
        Format::Yaml => {
            app.out.yaml(&rows);
            return Ok(());
        }
        Format::Table => {}
    }
    let mut t = table(&["NAME", "ENABLED", "AVAILABLE", "CAN", "DESCRIPTION"]);
    let yn = |b: bool| if b { "yes" } else { "no" }.to_string();
    for r in &rows {
        let c = &r.capabilities;
        let can: Vec<&str> = [
            ("create", c.create),
            ("scale", c.scale),
            ("logs", c.logs),
            ("delete", c.delete),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| *n)
        .collect();
        let avail = match &r.reason {
            None => "yes".to_string(),
            Some(why) => format!("no: {why}"),
        };
        t.add_row(vec![
            r.name.to_string(),
            yn(r.enabled),
            avail,
            can.join(","),
            c.description.to_string(),
        ]);
    }
    app.out.data(&render(&t));
    Ok(())
}

fn set(app: &App, name: &str, enabled: bool) -> Result<()> {
    let reg = backends::lookup(name)?;
    let path = &app.ctx.config.path;
    Config::set_backend_enabled(path, reg.name, enabled)?;
    let word = if enabled { "enabled" } else { "disabled" };
    app.out.success(&format!(
        "backend {} {word} (in {})",
        reg.name,
        path.display()
    ));
    // the environment wins over the file: say so when it says otherwise
    let var = format!("DASKCTL_BACKENDS__{}__ENABLED", reg.name.to_uppercase());
    if let Ok(v) = std::env::var(&var)
        && v.trim().parse::<bool>().ok() != Some(enabled)
    {
        let now = if enabled { "disabled" } else { "enabled" };
        app.out.warn(&format!(
            "{var}={v} in the environment overrides the file: {} stays {now} while it is set",
            reg.name
        ));
    }
    Ok(())
}
