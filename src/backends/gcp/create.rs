//! `create`: the scheduler instance first (its internal address goes into the workers' startup
//! scripts), then every worker at once. Nothing half-created is left unsaid: a scheduler that
//! cannot be had (quota, stockout) rolls back and reports Compute Engine's own error; workers
//! that cannot all be had leave a working cluster with fewer, reported as partial (exit 4)
//! with each error as the API said it.

use super::labels;
use super::launch::{self, Launch};
use super::startup::{self, WorkerSpec};
use super::{Gcp, discover};
use crate::backends::CreateRequest;
use crate::error::{Error, Result};
use crate::model::Cluster;
use std::time::{Duration, Instant, SystemTime};

/// What one create asks for, checked before anything is made.
pub struct Request {
    pub project: String,
    pub zone: String,
    pub machine_type: String,
    pub image: String,
    /// The default group's launch, then each worker group's.
    pub specs: Vec<(WorkerSpec, u32)>,
    pub ttl: Option<u64>,
    pub idle: Option<u64>,
}

/// Instance names are `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters
/// (<https://cloud.google.com/compute/docs/naming-resources>): a cluster's name leaves room
/// for `-worker-XXXXXXXX`.
pub fn check_name(name: &str) -> Result<()> {
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) || name.len() > 47 {
        return Err(Error::Usage(format!(
            "gcp: cluster name {name:?} must start with a letter and be at most 47 characters (its instances are NAME-worker-XXXXXXXX)"
        )));
    }
    Ok(())
}

fn machine_type_ok(t: &str) -> Result<()> {
    if t.is_empty()
        || t.len() > 63
        || !t
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Error::Usage(format!("gcp: {t:?} is not a machine type")));
    }
    Ok(())
}

pub fn request(g: &Gcp, req: &CreateRequest) -> Result<Request> {
    check_name(&req.name)?;
    let s = &g.settings;
    let opt = |k: &str| req.options.get(k).cloned();
    let zone = opt("zone")
        .or_else(|| super::auth::default_zone(s))
        .ok_or_else(|| {
            Error::Usage("gcp: no zone: pass --zone, set backends.gcp.zone or `gcloud config set compute/zone`".into())
        })?;
    if zone.is_empty()
        || !zone
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Error::Usage(format!("gcp: {zone:?} is not a zone")));
    }
    let image = opt("image").unwrap_or_else(|| s.image().to_string());
    crate::names::check_image(&image)?;
    let machine_type = opt("machine-type").unwrap_or_else(|| s.machine_type().to_string());
    machine_type_ok(&machine_type)?;
    let default = WorkerSpec {
        machine_type: opt("worker-machine-type")
            .or_else(|| s.worker_machine_type.clone())
            .unwrap_or_else(|| machine_type.clone()),
        spot: opt("spot").is_some(),
        threads: req.threads,
        memory: req.memory,
        image: image.clone(),
        group: None,
    };
    let mut specs = vec![(default.clone(), req.workers)];
    for gr in &req.groups {
        let spec = WorkerSpec {
            machine_type: gr
                .options
                .get("machine-type")
                .cloned()
                .unwrap_or_else(|| default.machine_type.clone()),
            threads: gr.threads.or(req.threads),
            memory: gr.memory.or(req.memory),
            group: Some(gr.name.clone()),
            ..default.clone()
        };
        specs.push((spec, gr.workers));
    }
    for (spec, _) in &specs {
        machine_type_ok(&spec.machine_type)?;
    }
    // a dry run needs no project; `create` asks for it (an error without one)
    let project = super::auth::projects(s)
        .ok()
        .and_then(|p| p.into_iter().next())
        .unwrap_or_default();
    Ok(Request {
        project,
        zone,
        machine_type,
        image,
        specs,
        ttl: opt("ttl").and_then(|t| t.parse().ok()),
        idle: opt("idle-timeout").and_then(|t| t.parse().ok()),
    })
}

/// The scheduler's launch: its labels, its startup script, the workers' launch specs and the
/// owner's name and expiry in its metadata.
fn scheduler_launch(g: &Gcp, name: &str, r: &Request) -> Result<Launch> {
    let ttl_minutes = r.ttl.map(|t| t.div_ceil(60));
    let specs: Vec<&WorkerSpec> = r.specs.iter().map(|(s, _)| s).collect();
    let mut metadata = vec![
        (
            labels::STARTUP.to_string(),
            startup::scheduler(&r.image, name, ttl_minutes, r.idle)?,
        ),
        (labels::META_OWNER.into(), g.ctx.user.name.clone()),
        (
            labels::META_SPECS.into(),
            serde_json::to_string(&specs).expect("specs serialise"),
        ),
    ];
    if let Some(secs) = r.ttl {
        let at = SystemTime::now() + Duration::from_secs(secs);
        metadata.push((
            labels::META_EXPIRES.into(),
            humantime::format_rfc3339_seconds(at).to_string(),
        ));
    }
    Ok(Launch {
        name: format!("{name}-scheduler"),
        machine_type: r.machine_type.clone(),
        spot: false,
        labels: launch::base_labels(name, &g.ctx.user.name, "scheduler"),
        metadata,
    })
}

/// One worker's launch.
pub fn worker_launch(
    cluster: &str,
    scheduler_ip: &str,
    spec: &WorkerSpec,
    expires: Option<&str>,
    owner: &str,
) -> Result<Launch> {
    let ttl_minutes = expires.and_then(labels::rfc3339).map(|at| {
        at.duration_since(SystemTime::now())
            .unwrap_or_default()
            .as_secs()
            .div_ceil(60)
    });
    let mut l = launch::base_labels(cluster, owner, "worker");
    if let Some(gr) = &spec.group {
        l.push((labels::GROUP.into(), gr.clone()));
    }
    let mut metadata = vec![
        (
            labels::STARTUP.to_string(),
            startup::worker(cluster, scheduler_ip, spec, ttl_minutes)?,
        ),
        (labels::META_OWNER.into(), owner.to_string()),
    ];
    if let Some(e) = expires {
        metadata.push((labels::META_EXPIRES.into(), e.to_string()));
    }
    Ok(Launch {
        name: launch::worker_name(cluster),
        machine_type: spec.machine_type.clone(),
        spot: spec.spot,
        labels: l,
        metadata,
    })
}

pub async fn create(g: &Gcp, req: &CreateRequest) -> Result<Cluster> {
    let mut r = request(g, req)?;
    r.project = g.projects().await?.remove(0);
    if !discover::discover(g, Some(&req.name)).await?.is_empty() {
        return Err(Error::Usage(format!("gcp/{} already exists", req.name)));
    }
    let c = g.clients().await?;
    let deadline = Instant::now() + req.timeout;
    let sched = scheduler_launch(g, &req.name, &r)?;
    req.progress.say("inserting the scheduler instance");
    if let Err(e) = launch::insert(&g.settings, &c, &r.project, &r.zone, &sched, deadline).await {
        // an insert whose operation failed may still have left the instance
        return Err(roll_back(g, &r, std::slice::from_ref(&sched.name), e).await);
    }
    let ip = match scheduler_ip(g, &r, &sched.name).await {
        Ok(ip) => ip,
        Err(e) => return Err(roll_back(g, &r, std::slice::from_ref(&sched.name), e).await),
    };
    let expires = sched
        .metadata
        .iter()
        .find(|(k, _)| k == labels::META_EXPIRES)
        .map(|(_, v)| v.clone());
    let mut launches = Vec::new();
    for (spec, n) in &r.specs {
        for _ in 0..*n {
            launches.push(worker_launch(
                &req.name,
                &ip,
                spec,
                expires.as_deref(),
                &g.ctx.user.name,
            )?);
        }
    }
    req.progress
        .say(&format!("inserting {} worker instance(s)", launches.len()));
    let results = futures::future::join_all(
        launches
            .iter()
            .map(|l| launch::insert(&g.settings, &c, &r.project, &r.zone, l, deadline)),
    )
    .await;
    let failed: Vec<String> = launches
        .iter()
        .zip(&results)
        .filter_map(|(l, res)| res.as_ref().err().map(|e| format!("{}: {e}", l.name)))
        .collect();
    // the API may not list an instance right after its insert is done: the cluster is
    // reported once every worker made is visible
    let made: Vec<&str> = launches
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_ok())
        .map(|(l, _)| l.name.as_str())
        .collect();
    futures::future::try_join_all(
        made.iter()
            .map(|n| launch::get_visible(&c, &r.project, &r.zone, n)),
    )
    .await?;
    let cluster = wait_answering(g, &req.name, deadline, req).await?;
    if failed.is_empty() {
        return Ok(cluster);
    }
    let made = launches.len() - failed.len();
    Err(Error::Partial(format!(
        "created gcp/{} with {made} of {} worker(s); Compute Engine refused the others: {}; scale it later (daskctl scale {} {})",
        req.name,
        launches.len(),
        failed.join("; "),
        req.name,
        launches.len()
    )))
}

/// The scheduler's internal address, once `instances.get` shows it.
async fn scheduler_ip(g: &Gcp, r: &Request, name: &str) -> Result<String> {
    let c = g.clients().await?;
    let i = launch::get_visible(&c, &r.project, &r.zone, name).await?;
    i.network_interfaces
        .first()
        .and_then(|n| n.network_ip.clone())
        .ok_or_else(|| Error::backend("gcp", format!("{}/{name} has no internal address", r.zone)))
}

/// Deletes what a failed create made; the create's own error, and what could not be removed.
async fn roll_back(g: &Gcp, r: &Request, names: &[String], e: Error) -> Error {
    let Ok(c) = g.clients().await else { return e };
    let deadline = Instant::now() + Duration::from_secs(300);
    match launch::delete_all(&c, &r.project, &r.zone, names, deadline).await {
        Ok(()) => e,
        Err(left) => Error::backend("gcp", format!("{e}; and rolling back: {left}")),
    }
}

/// The cluster once its scheduler answers (when this machine can reach it), else as listed.
async fn wait_answering(
    g: &Gcp,
    name: &str,
    deadline: Instant,
    req: &CreateRequest,
) -> Result<Cluster> {
    let lookup = || async {
        discover::discover(g, Some(name))
            .await?
            .pop()
            .ok_or_else(|| Error::backend("gcp", format!("{name} vanished after create")))
    };
    let c = lookup().await?;
    let Some(addr) = c.address.clone().filter(|a| g.ctx.prober.target(a).is_ok()) else {
        return Ok(c);
    };
    req.progress.say("waiting for the scheduler to answer");
    let within = deadline.saturating_duration_since(Instant::now());
    crate::backends::until(within, Duration::from_millis(500), || async {
        g.ctx.prober.scheduler(&addr).await.ok()
    })
    .await
    .ok_or_else(|| {
        Error::Timeout(format!(
            "gcp/{name}: instances run but the scheduler at {addr} did not answer in time (see daskctl logs gcp/{name})"
        ))
    })?;
    lookup().await
}

pub async fn plan(g: &Gcp, req: &CreateRequest) -> Result<crate::backends::Plan> {
    use crate::backends::{Plan, PlanFile, Step};
    let mut r = request(g, req)?;
    if r.project.is_empty() {
        r.project = "<the default project>".into();
    }
    let sched = scheduler_launch(g, &req.name, &r)?;
    let obj = |l: &Launch| {
        let mut b = serde_json::to_value(launch::body(&g.settings, &r.zone, l)).unwrap_or_default();
        // the startup script is shown as a file of its own
        if let Some(items) = b
            .pointer_mut("/metadata/items")
            .and_then(|v| v.as_array_mut())
        {
            items.retain(|i| i["key"] != labels::STARTUP);
        }
        serde_json::json!({"project": r.project, "zone": r.zone, "instance": b})
    };
    let file = |l: &Launch| PlanFile {
        path: format!("startup-script ({})", l.name),
        content: l
            .metadata
            .iter()
            .find(|(k, _)| k == labels::STARTUP)
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
    };
    let mut steps = vec![Step {
        object: Some(obj(&sched)),
        files: vec![file(&sched)],
        ..Step::new("scheduler", "instances.insert: the scheduler instance")
    }];
    for (spec, n) in r.specs.iter().filter(|(_, n)| *n > 0) {
        // the workers' script names the scheduler's internal address, known once it runs
        let mut l = worker_launch(&req.name, "0.0.0.0", spec, None, &g.ctx.user.name)?;
        l.name = format!("{}-worker-<8 hex digits>", req.name);
        for (k, v) in l.metadata.iter_mut() {
            if k == labels::STARTUP {
                *v = v.replace(
                    "tcp://0.0.0.0:",
                    "tcp://<the scheduler's internal address>:",
                );
            }
        }
        let of = spec
            .group
            .as_ref()
            .map(|gr| format!(" of group {gr}"))
            .unwrap_or_default();
        steps.push(Step {
            object: Some(obj(&l)),
            files: vec![file(&l)],
            ..Step::new(
                "workers",
                format!("instances.insert: {n} worker instance(s){of}, at once"),
            )
        });
    }
    Ok(Plan {
        backend: "gcp".into(),
        name: req.name.clone(),
        dry_run: true,
        steps,
    })
}
