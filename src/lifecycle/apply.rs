//! `apply -f FILE`: creates the cluster the spec names if it does not exist, else brings it to
//! the spec: its worker count (unless it adapts: then `reconcile` sizes it) and its adaptive
//! policy, set or cleared. Says what it changed. What only creation sets (threads, memory,
//! backend options, idle timeout) is not changed on a running cluster, and it says so.

use super::App;
use crate::backends::ScaleRequest;
use crate::cli::{ApplyArgs, CreateArgs};
use crate::discovery::resolve;
use crate::error::{Error, Result};
use crate::groups::GroupSpec;
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
            super::create::create(app, &args, adapt.clone(), false).await?;
            report.created = true;
            report.changes.push("created".into());
            if adapt.is_some() {
                report.changes.push(adapt_change(adapt.as_ref()));
            }
        }
        Some((b, c)) => {
            super::authorize(app, b.as_ref(), &c, crate::discovery::Action::Configure)?;
            let wanted = args
                .workers
                .map(|w| super::worker_count(w, b.max_workers()))
                .transpose()?;
            let same_bounds = |x: Option<&Adapt>, y: Option<&Adapt>| {
                x.map(|p| (p.minimum, p.maximum, &p.group))
                    == y.map(|p| (p.minimum, p.maximum, &p.group))
            };
            if !same_bounds(c.adapt.as_ref(), adapt.as_ref()) {
                super::adapt::store(b.as_ref(), &c, adapt.clone()).await?;
                report.changes.push(adapt_change(adapt.as_ref()));
            }
            let groups: Vec<GroupSpec> = match b.group_keys() {
                Some(keys) => args
                    .worker_groups
                    .iter()
                    .map(|g| GroupSpec::parse(g, keys, b.max_workers()))
                    .collect::<Result<_>>()?,
                None if args.worker_groups.is_empty() => Vec::new(),
                None => {
                    return Err(Error::Usage(format!(
                        "the {} backend makes no worker groups",
                        b.name()
                    )));
                }
            };
            // the default group, then each of the spec's: its size, unless it adapts
            let mut sizes = vec![(None, wanted)];
            sizes.extend(
                groups
                    .iter()
                    .map(|g| (Some(g.name.clone()), Some(g.workers))),
            );
            for (group, wanted) in sizes {
                let Some(w) = wanted else { continue };
                let label = group
                    .as_ref()
                    .map(|g| format!("group {g}"))
                    .unwrap_or_else(|| "workers".into());
                let has = match &group {
                    None if c.groups.is_empty() => c.requested_workers.or(c.workers),
                    _ => {
                        let name = group.as_deref().unwrap_or(crate::groups::DEFAULT);
                        match c.groups.iter().find(|x| x.name == name) {
                            Some(x) => x.requested.or(x.workers),
                            None => {
                                report.notes.push(format!(
                                    "{label}: not in the cluster (groups are made at creation)"
                                ));
                                continue;
                            }
                        }
                    }
                }
                .unwrap_or(0);
                if adapt.as_ref().is_some_and(|p| p.group == group) {
                    report
                        .notes
                        .push(format!("{label}: it adapts; reconcile sizes it"));
                    continue;
                }
                if u64::from(w) == has {
                    continue;
                }
                let req = ScaleRequest {
                    target: w,
                    timeout: a.timeout,
                    group: group.clone(),
                    ..ScaleRequest::default()
                };
                let r = b.scale(&c, &req).await?;
                report.changes.push(match &group {
                    Some(g) => format!("scaled group {g} from {} to {w} worker(s)", r.before),
                    None => format!("scaled from {} to {w} worker(s)", r.before),
                });
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

fn adapt_change(adapt: Option<&Adapt>) -> String {
    match adapt {
        Some(p) => format!(
            "adapts between {} and {} worker(s){}",
            p.minimum,
            p.maximum,
            p.group
                .as_ref()
                .map(|g| format!(" in group {g}"))
                .unwrap_or_default()
        ),
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
