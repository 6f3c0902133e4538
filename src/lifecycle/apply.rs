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
    /// `--dry-run`: the changes are what apply would make; nothing was made
    dry_run: bool,
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
        dry_run: a.dry_run,
        changes: Vec::new(),
        notes: Vec::new(),
    };
    match found {
        None => {
            if !a.dry_run {
                super::create::create(app, &args, adapt.clone(), false).await?;
            }
            report.created = !a.dry_run;
            report
                .changes
                .push(if a.dry_run { "create" } else { "created" }.into());
            if adapt.is_some() {
                report.changes.push(adapt_change(adapt.as_ref()));
            }
        }
        Some((b, c)) => bring_to_spec(app, &a, &args, adapt, b.as_ref(), &c, &mut report).await?,
    }
    print(app, &a, &report);
    Ok(())
}

/// Brings an existing cluster to its spec: its adaptive policy, then each group's size.
async fn bring_to_spec(
    app: &App,
    a: &ApplyArgs,
    args: &CreateArgs,
    adapt: Option<Adapt>,
    b: &dyn crate::backends::Backend,
    c: &crate::model::Cluster,
    report: &mut Applied,
) -> Result<()> {
    super::authorize(app, b, c, crate::discovery::Action::Configure)?;
    let wanted = args
        .workers
        .map(|w| super::worker_count(w, b.max_workers()))
        .transpose()?;
    let same_bounds = |x: Option<&Adapt>, y: Option<&Adapt>| {
        x.map(|p| (p.minimum, p.maximum, &p.group)) == y.map(|p| (p.minimum, p.maximum, &p.group))
    };
    if !same_bounds(c.adapt.as_ref(), adapt.as_ref()) {
        if !a.dry_run {
            super::adapt::store(b, c, adapt.clone()).await?;
        }
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
        size_group(a, c, b, adapt.as_ref(), group, wanted, report).await?;
    }
    report.notes.extend(set_at_creation(args, c)?);
    Ok(())
}

/// Scales one group (`None`: the default one) to the spec's size, unless it adapts or is not in
/// the cluster (a note then); under `--dry-run` says what it would do.
async fn size_group(
    a: &ApplyArgs,
    c: &crate::model::Cluster,
    b: &dyn crate::backends::Backend,
    adapt: Option<&Adapt>,
    group: Option<String>,
    wanted: Option<u32>,
    report: &mut Applied,
) -> Result<()> {
    let Some(w) = wanted else { return Ok(()) };
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
                    return Ok(());
                }
            }
        }
    }
    .unwrap_or(0);
    if adapt.as_ref().is_some_and(|p| p.group == group) {
        report
            .notes
            .push(format!("{label}: it adapts; reconcile sizes it"));
        return Ok(());
    }
    if u64::from(w) == has {
        return Ok(());
    }
    if a.dry_run {
        report.changes.push(match &group {
            Some(g) => format!("would scale group {g} from {has} to {w} worker(s)"),
            None => format!("would scale from {has} to {w} worker(s)"),
        });
        return Ok(());
    }
    let req = ScaleRequest {
        target: w,
        timeout: a.timeout,
        group: group.clone(),
        ..ScaleRequest::default()
    };
    let r = b.scale(c, &req).await?;
    report.changes.push(match &group {
        Some(g) => format!("scaled group {g} from {} to {w} worker(s)", r.before),
        None => format!("scaled from {} to {w} worker(s)", r.before),
    });
    Ok(())
}

/// What the spec says that only creation sets and that differs from the running cluster (its
/// workers' threads and memory as the scheduler reports them, its idle timeout): one note
/// each, none when they agree or cannot be compared.
fn set_at_creation(args: &CreateArgs, c: &crate::model::Cluster) -> Result<Vec<String>> {
    let fix = "set at creation: delete the cluster and apply again to change it";
    let mut notes = Vec::new();
    let first = c.worker_details.first();
    if let (Some(t), Some(w)) = (args.threads, first)
        && t as u64 != w.threads
    {
        notes.push(format!(
            "threads: the spec says {t} per worker, its workers run {}; {fix}",
            w.threads
        ));
    }
    if let (Some(m), Some(w)) = (args.memory.as_deref(), first) {
        let m = crate::units::parse_memory(m)?;
        // Dask reports the limit it was given, rounded: a difference beyond 1% is a different one
        if (m as f64 - w.memory as f64).abs() > m as f64 * 0.01 {
            notes.push(format!(
                "memory: the spec says {} per worker, its workers have {}; {fix}",
                crate::units::format_size(m),
                crate::units::format_size(w.memory)
            ));
        }
    }
    if let (Some(want), Some(has)) = (args.idle_timeout, c.idle_timeout)
        && want.as_secs() != has
    {
        notes.push(format!(
            "idle timeout: the spec says {}, the cluster has {}; {fix}",
            humantime::format_duration(want),
            humantime::format_duration(std::time::Duration::from_secs(has))
        ));
    }
    Ok(notes)
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
                if r.dry_run {
                    app.out
                        .info(&format!("{} (dry run, nothing changed): {c}", r.cluster));
                } else {
                    app.out.success(&format!("{}: {c}", r.cluster));
                }
            }
            for n in &r.notes {
                app.out.info(&format!("{}: {n}", r.cluster));
            }
        }
    }
}
