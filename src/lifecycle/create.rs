use super::{App, worker_count};
use crate::backends::{self, CreateRequest};
use crate::cli::{CreateArgs, Format};
use crate::error::{Error, Result};
use crate::policy::Adapt;
use crate::progress::Progress;
use crate::units::parse_memory;

pub async fn run(app: &App, a: CreateArgs) -> Result<()> {
    let (a, adapt) = with_spec(a)?;
    let created = create(app, &a, adapt.clone(), true).await?;
    if let (Some(c), Some(p)) = (created, adapt) {
        app.out.success(&format!(
            "{} adapts between {} and {} worker(s) (daskctl reconcile)",
            c.qualified(),
            p.minimum,
            p.maximum
        ));
    }
    Ok(())
}

/// `-f FILE`: the spec's arguments under the command line's (flags given win), and the spec's
/// adaptive bounds; all checked before anything is created.
pub(super) fn with_spec(a: CreateArgs) -> Result<(CreateArgs, Option<Adapt>)> {
    let Some(path) = a.file.clone() else {
        return Ok((a, None));
    };
    let spec = crate::spec::load(&path)?;
    if let Some(b) = a.backend.as_deref().filter(|b| *b != spec.backend) {
        return Err(Error::Usage(format!(
            "backend {b} on the command line, {} in {}",
            spec.backend,
            path.display()
        )));
    }
    let reg = backends::lookup(&spec.backend)?;
    let from_file = super::spec_args::of_spec(&spec, reg.create_flags)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    // the cluster's adaptive bounds, or one group's: one policy per cluster
    let mut adaptive = spec.adapt.map(|x| (None, x)).into_iter().chain(
        spec.worker_groups
            .iter()
            .filter_map(|g| g.adapt.map(|x| (Some(g.name.clone()), x))),
    );
    let adapt = match (adaptive.next(), adaptive.next()) {
        (_, Some(_)) => {
            return Err(Error::Usage(format!(
                "{}: adapt is given more than once (the cluster and its groups): one group adapts",
                path.display()
            )));
        }
        (Some((group, x)), None) => {
            let mut p = super::adapt::bounds(x.minimum, x.maximum)?;
            p.group = group;
            Some(p)
        }
        (None, None) => None,
    };
    Ok((super::spec_args::merge(a, from_file), adapt))
}

/// An adaptive policy given at creation: its maximum a valid worker count, its group made.
fn check_adapt(p: &Adapt, max: u32, groups: &[crate::groups::GroupSpec]) -> Result<()> {
    worker_count(p.maximum as i64, max)?;
    match p
        .group
        .as_ref()
        .filter(|g| !groups.iter().any(|x| &x.name == *g))
    {
        Some(g) => Err(Error::Usage(format!(
            "adapt names worker group {g}, which is not made"
        ))),
        None => Ok(()),
    }
}

/// `--threads`: between 1 and 1024.
fn thread_count(t: i64) -> Result<u32> {
    if (1..=1024).contains(&t) {
        Ok(t as u32)
    } else {
        Err(Error::Usage(format!(
            "invalid thread count {t}: must be between 1 and 1024"
        )))
    }
}

/// TTL and idle timeout kept with the cluster for reconcile, where the backend keeps a
/// policy (aws and kubernetes keep the TTL in tags and labels themselves).
async fn keep_ttl_and_idle_timeout(
    backend: &dyn crate::backends::Backend,
    c: &crate::model::Cluster,
    a: &CreateArgs,
) -> Result<()> {
    let Some(store) = backend.policy_store(c) else {
        return Ok(());
    };
    if a.ttl.is_none() && a.idle_timeout.is_none() {
        return Ok(());
    }
    let expires = a.ttl.and_then(|t| {
        (std::time::SystemTime::now() + t)
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
    });
    super::adapt::update(store.as_ref(), c, |p| {
        p.expires = expires.map(|d| d.as_secs());
        p.idle_timeout = a.idle_timeout.map(|d| d.as_secs());
    })
    .await
}

/// Creates the cluster `a` describes (None for a dry run, which only prints) and stores its
/// adaptive policy; `show`: print the new cluster (`apply` prints its own report instead).
pub(super) async fn create(
    app: &App,
    a: &CreateArgs,
    adapt: Option<Adapt>,
    show: bool,
) -> Result<Option<crate::model::Cluster>> {
    // everything is validated before anything is created
    let (reg, backend) = usable_backend(app, a)?;
    let name = match &a.name {
        Some(n) => n.clone(),
        None => crate::names::generate(),
    };
    crate::names::validate_new(&name)?;
    let workers = worker_count(a.workers.unwrap_or(2), backend.max_workers())?;
    let groups = worker_groups(reg.name, backend.as_ref(), a, workers)?;
    if let Some(p) = &adapt {
        check_adapt(p, backend.max_workers(), &groups)?;
    }
    let threads = a.threads.map(thread_count).transpose()?;
    let memory = a.memory.as_deref().map(parse_memory).transpose()?;
    let req = CreateRequest {
        name,
        named: a.name.is_some(),
        workers,
        threads,
        memory,
        options: backend_options(reg, a)?,
        timeout: a.timeout,
        groups,
        progress: Default::default(),
    };
    if a.dry_run {
        let mut plan = backend.plan(&req).await?;
        for step in &mut plan.steps {
            if let Some(o) = &mut step.object {
                redact(o);
            }
        }
        match a.output {
            Format::Json => app.out.json(&plan),
            Format::Yaml => app.out.yaml(&plan),
            Format::Table => app.out.data(&plan_text(&plan)),
        }
        return Ok(None);
    }
    let mut req = req;
    req.progress = Progress::start(format!(
        "create {}/{} with {} worker(s)",
        reg.name, req.name, workers
    ));
    let made = backend.create(&req).await;
    req.progress.finish();
    let mut c = made?;
    if let Some(p) = backend.pricing() {
        crate::usage::account(&mut c, p, std::time::SystemTime::now());
    }
    crate::discovery::cache::remember(&app.ctx.config.cache_root(), &c);
    keep_ttl_and_idle_timeout(backend.as_ref(), &c, a).await?;
    if adapt.is_some() {
        // the policy is stored where discovery reads it: look the new cluster up
        let (b, found) = crate::discovery::resolve(&app.ctx, &c.qualified(), app.deadline).await?;
        let by = if b.policy_store(&found).is_some() {
            crate::model::AdaptBy::Reconcile
        } else {
            crate::model::AdaptBy::Platform
        };
        super::adapt::store(b.as_ref(), &found, adapt.clone()).await?;
        // what is printed below shows it, as describe will
        c.adapt = adapt;
        c.adapt_by = Some(by);
    }
    if !show {
        return Ok(Some(c));
    }
    match a.output {
        Format::Json => app.out.json(&c),
        Format::Yaml => app.out.yaml(&c),
        Format::Table => app.out.data(&super::describe::describe_text(&c)),
    }
    app.out.success(&format!("created {}", c.qualified()));
    Ok(Some(c))
}

/// `--worker-group`s, parsed and checked against what the backend's groups take.
fn worker_groups(
    backend: &str,
    b: &dyn backends::Backend,
    a: &CreateArgs,
    default_workers: u32,
) -> Result<Vec<crate::groups::GroupSpec>> {
    if a.worker_groups.is_empty() {
        return Ok(Vec::new());
    }
    let Some(keys) = b.group_keys() else {
        return Err(Error::Usage(format!(
            "the {backend} backend makes no worker groups (local and the batch backends do)"
        )));
    };
    let groups = a
        .worker_groups
        .iter()
        .map(|g| crate::groups::GroupSpec::parse(g, keys, b.max_workers()))
        .collect::<Result<Vec<_>>>()?;
    crate::groups::check_all(&groups, default_workers, b.max_workers())?;
    Ok(groups)
}

/// The backend named, enabled, able to create, and (unless a dry run) usable here.
fn usable_backend(
    app: &App,
    a: &CreateArgs,
) -> Result<(
    &'static backends::Registration,
    std::sync::Arc<dyn backends::Backend>,
)> {
    let name = a.backend.as_deref().unwrap_or_default();
    let reg = backends::lookup(name)?;
    if !backends::is_enabled(&app.ctx, reg) {
        return Err(Error::Usage(format!(
            "backend {} is disabled; enable it with: daskctl backends enable {}",
            reg.name, reg.name
        )));
    }
    let backend = (reg.build)(app.ctx.clone());
    // a dry run needs neither the backend's tools nor its credentials
    if !a.dry_run
        && let crate::backends::Availability::Missing(why) = backend.availability()
    {
        return Err(Error::backend(reg.name, format!("not usable here: {why}")));
    }
    if !backend.capabilities().create {
        return Err(Error::Usage(format!(
            "backend {} cannot create clusters",
            reg.name
        )));
    }
    Ok((reg, backend))
}

/// The backend flags given, by name; a flag the backend does not take is a usage error that
/// names the backends that do.
fn backend_options(
    reg: &backends::Registration,
    a: &CreateArgs,
) -> Result<std::collections::BTreeMap<String, String>> {
    let yes = |b: bool| b.then(|| "true".to_string());
    // the cloud flags are global (list and cleanup take them for every backend), but a create
    // goes to one backend: a flag it would ignore is refused, never silently dropped
    let c = &a.cloud;
    for (flag, given, takes) in [
        ("namespace", c.namespace.is_some(), "kubernetes"),
        ("context", c.context.is_some(), "kubernetes"),
        ("all-namespaces", c.all_namespaces, "kubernetes"),
        ("region", !c.regions.is_empty(), "aws"),
        ("profile", c.profile.is_some(), "aws"),
        ("project", !c.projects.is_empty(), "gcp"),
    ] {
        if given && reg.name != takes {
            return Err(Error::Usage(format!(
                "--{flag} does not apply to the {} backend; it is for: {takes}",
                reg.name
            )));
        }
    }
    if a.idle_timeout.is_some_and(|d| d.as_secs() == 0) {
        return Err(Error::Usage(
            "--idle-timeout must be at least 1s (Dask's scheduler counts whole seconds)".into(),
        ));
    }
    let flags = [
        ("python", a.python.clone()),
        ("host", a.host.clone()),
        ("scheduler-port", a.scheduler_port.map(|p| p.to_string())),
        ("partition", a.partition.clone()),
        ("account", a.account.clone()),
        ("walltime", a.walltime.clone()),
        ("cores", a.cores.map(|c| c.to_string())),
        ("instance-type", a.instance_type.clone()),
        ("worker-instance-type", a.worker_instance_type.clone()),
        ("machine-type", a.machine_type.clone()),
        ("worker-machine-type", a.worker_machine_type.clone()),
        ("zone", a.zone.clone()),
        ("ami", a.ami.clone()),
        ("subnet", a.subnet.clone()),
        ("key-name", a.key_name.clone()),
        ("image", a.image.clone()),
        ("resources", a.resources.clone()),
        ("spot", yes(a.spot)),
        ("keep-failed", yes(a.keep_failed)),
        ("native", yes(a.native)),
        ("ttl", a.ttl.map(|d| d.as_secs().to_string())),
        (
            "idle-timeout",
            a.idle_timeout.map(|d| d.as_secs().to_string()),
        ),
        (
            "job-extra",
            (!a.job_extra.is_empty()).then(|| a.job_extra.join("\n")),
        ),
        (
            "security-group",
            (!a.security_group.is_empty()).then(|| a.security_group.join("\n")),
        ),
        (
            "option",
            (!a.options.is_empty()).then(|| a.options.join("\n")),
        ),
    ];
    let options: std::collections::BTreeMap<String, String> = flags
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), v?)))
        .collect();
    if let Some(flag) = options
        .keys()
        .find(|k| !reg.create_flags.contains(&k.as_str()))
    {
        let takers: Vec<&str> = backends::registered()
            .into_iter()
            .filter(|r| r.create_flags.contains(&flag.as_str()))
            .map(|r| r.name)
            .collect();
        return Err(Error::Usage(format!(
            "--{flag} does not apply to the {} backend; it is for: {}",
            reg.name,
            takers.join(", ")
        )));
    }
    Ok(options)
}

/// A dry run for people: each step, the command it would run, the files it would write, the
/// objects it would send (as YAML).
fn plan_text(p: &crate::backends::Plan) -> String {
    let mut out = format!(
        "# dry run: create {}/{} would do this (nothing was submitted)\n",
        p.backend, p.name
    );
    for s in &p.steps {
        out.push_str(&format!("\n## {}: {}\n", s.role, s.what));
        for f in &s.files {
            out.push_str(&format!("--- {} ---\n{}", f.path, f.content));
            if !f.content.ends_with('\n') {
                out.push('\n');
            }
        }
        if let Some(argv) = &s.argv {
            let input = s
                .stdin
                .as_ref()
                .map(|f| format!(" < {}", shell_words(std::slice::from_ref(f))))
                .unwrap_or_default();
            out.push_str(&format!("$ {}{input}\n", shell_words(argv)));
        }
        if let Some(o) = &s.object {
            out.push_str(&serde_yaml::to_string(o).unwrap_or_default());
        }
    }
    out.trim_end().to_string()
}

/// An argument vector shown the way a shell would take it (for reading; never run).
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Secrets never reach the screen: values of keys that name one are replaced.
fn redact(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let k = k.to_ascii_lowercase();
                if [
                    "password",
                    "token",
                    "secret",
                    "private_key",
                    "privatekey",
                    "tls_key",
                ]
                .iter()
                .any(|s| k.contains(s))
                    && x.is_string()
                {
                    *x = serde_json::Value::String("<redacted>".into());
                } else {
                    redact(x);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_from_a_dry_run() {
        let mut v = serde_json::json!({"auth": {"password": "hunter2", "api_token": "t0k",
            "tls_key": "-----BEGIN", "kind": "basic"}, "list": [{"Secret": "s"}]});
        redact(&mut v);
        let text = v.to_string();
        for secret in ["hunter2", "t0k", "-----BEGIN", "\"s\""] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("basic"));
        assert_eq!(
            shell_words(&["a b".into(), "x".into(), "it's".into()]),
            "'a b' x 'it'\\''s'"
        );
    }
}
