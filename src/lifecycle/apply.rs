//! `apply -f FILE`: creates the cluster the spec names if it does not exist, else brings it to
//! the spec: its worker count (unless it adapts: then `reconcile` sizes it) and its adaptive
//! policy, set or cleared. Says what it changed. What only creation sets (threads, memory,
//! backend options, idle timeout) is not changed on a running cluster, and it says so.

use super::App;
use crate::backends::ScaleRequest;
use crate::cli::{ApplyArgs, CreateArgs};
use crate::discovery::resolve;
use crate::error::{Error, Result};
use crate::policy::Adapt;
use serde::Serialize;

#[derive(Serialize)]
struct Applied {
    cluster: String,
    created: bool,
    changes: Vec<String>,
    notes: Vec<String>,
}

pub async fn run(app: &App, a: ApplyArgs) -> Result<()> {
    let given = CreateArgs {
        file: Some(a.file.clone()),
        timeout: a.timeout,
        output: a.output,
        cloud: a.cloud.clone(),
        ..CreateArgs::default()
    };
    let (args, adapt) = super::create::with_spec(given)?;
    let (Some(backend), Some(name)) = (args.backend.clone(), args.name.clone()) else {
        return Err(Error::Usage(format!(
            "{}: apply needs the cluster's name in the spec",
            a.file.display()
        )));
    };
    crate::names::validate_new(&name)?;
    let qualified = format!("{backend}/{name}");
    let found = match resolve(&app.ctx, &qualified, app.deadline).await {
        Ok(hit) => Some(hit),
        Err(Error::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let mut report = Applied {
        cluster: qualified.clone(),
        created: false,
        changes: Vec::new(),
        notes: Vec::new(),
    };
    match found {
        None => {
            super::create::create(app, &args, adapt, false).await?;
            report.created = true;
            report.changes.push("created".into());
            if adapt.is_some() {
                report.changes.push(adapt_change(adapt));
            }
        }
        Some((b, c)) => {
            super::own(app, b.as_ref(), &c)?;
            let wanted = args
                .workers
                .map(|w| super::worker_count(w, b.max_workers()))
                .transpose()?;
            let same_bounds = |x: Option<Adapt>, y: Option<Adapt>| {
                x.map(|p| (p.minimum, p.maximum)) == y.map(|p| (p.minimum, p.maximum))
            };
            if !same_bounds(c.adapt, adapt) {
                super::adapt::store(b.as_ref(), &c, adapt).await?;
                report.changes.push(adapt_change(adapt));
            }
            let has = c.requested_workers.or(c.workers).unwrap_or(0);
            match (wanted, adapt) {
                (Some(_), Some(_)) => report
                    .notes
                    .push("workers: the cluster adapts; reconcile sizes it".into()),
                (Some(w), None) if u64::from(w) != has => {
                    let req = ScaleRequest {
                        target: w,
                        timeout: a.timeout,
                        ..ScaleRequest::default()
                    };
                    let r = b.scale(&c, &req).await?;
                    report
                        .changes
                        .push(format!("scaled from {} to {w} worker(s)", r.before));
                }
                _ => {}
            }
            report.notes.push(
                "threads, memory, backend options and the idle timeout apply at creation: \
                 delete the cluster and apply again to change them"
                    .into(),
            );
        }
    }
    print(app, &a, &report);
    Ok(())
}

fn adapt_change(adapt: Option<Adapt>) -> String {
    match adapt {
        Some(p) => format!("adapts between {} and {} worker(s)", p.minimum, p.maximum),
        None => "no longer adapts".into(),
    }
}

fn print(app: &App, a: &ApplyArgs, r: &Applied) {
    use crate::cli::Format;
    match a.output {
        Format::Json => app.out.json(r),
        Format::Yaml => app.out.yaml(r),
        Format::Table => {
            if r.changes.is_empty() {
                app.out.success(&format!("{}: no changes", r.cluster));
            }
            for c in &r.changes {
                app.out.success(&format!("{}: {c}", r.cluster));
            }
            for n in &r.notes {
                app.out.info(&format!("{}: {n}", r.cluster));
            }
        }
    }
}
