//! `create` on a batch system: the scheduler is a batch job too (the cluster does not depend on
//! the machine that made it) and publishes its address in a scheduler file in the shared
//! directory; the workers are ONE job array. All-or-nothing: a refused submission cancels what
//! was already submitted and removes the directory.

use super::markers::{Marker, check_value, unsafe_in_script};
use super::script::{Script, quote};
use super::script::{script_file, worker_job_name};
use super::watch::{self, Submitted, Waited};
use super::{Dialect, JobQueue, JobSpec};
use crate::backends::CreateRequest;
use crate::error::{Error, IoContext, Result};
use crate::model::Cluster;
use std::path::Path;
use std::time::Duration;

/// What `create` writes and submits, checked and rendered (nothing written, nothing run):
/// `create` then submits it, `create --dry-run` shows it.
pub struct Prepared {
    pub dir: std::path::PathBuf,
    /// The new cluster's instance id, in every job's marker and in `DIR/instance`.
    pub instance: String,
    pub scheduler: String,
    /// The default group's worker script, then each worker group's.
    pub workers: Vec<WorkerScript>,
}

/// One worker group's job script and how many jobs of it to submit.
pub struct WorkerScript {
    pub group: Option<String>,
    pub count: u32,
    pub text: String,
}

impl WorkerScript {
    pub fn file(&self) -> String {
        script_file(self.group.as_deref())
    }
}

pub fn prepare<D: Dialect>(q: &JobQueue<D>, req: &CreateRequest) -> Result<Prepared> {
    let inputs = Inputs::checked(q, req)?;
    let dir = q.shared_dir().join(&req.name);
    check_value("shared directory", &dir.to_string_lossy())?;
    let instance = crate::names::new_instance();
    let logs = dir.join("logs");
    let spec = |role: &str, group: Option<&str>, inputs: &Inputs, cores, memory| JobSpec {
        job_name: match role {
            "worker" => worker_job_name(&req.name, group),
            _ => format!("{}-{role}", req.name),
        },
        marker: Marker {
            cluster: req.name.clone(),
            role: role.into(),
            group: group.map(str::to_string),
            instance: Some(instance.clone()),
            dir: dir.to_string_lossy().into_owned(),
        }
        .encode(),
        // every group's workers log as `worker-<job id>`: job ids are unique
        output: q.dialect.output_pattern(&logs, role),
        walltime: inputs.walltime.clone(),
        queue: inputs.partition.clone(),
        account: inputs.account.clone(),
        cores,
        memory,
        extra: inputs.extra.clone(),
        gpus: if role == "worker" { inputs.gpus } else { None },
    };
    let facts = q.dialect.facts();
    let (sched_cmd, worker_cmd) = inputs.commands(&dir, &req.name, None, facts, req.memory);
    let sched_script = Script {
        directives: q
            .dialect
            .directives(&spec("scheduler", None, &inputs, 1, None)),
        preamble: q.dialect.preamble(&logs, "scheduler"),
        command: sched_cmd,
    };
    let worker_script = |group: Option<&str>, inputs: &Inputs, memory, command| Script {
        directives: q
            .dialect
            .directives(&spec("worker", group, inputs, inputs.cores, memory)),
        preamble: q.dialect.preamble(&logs, "worker"),
        command,
    };
    let mut workers = vec![WorkerScript {
        group: None,
        count: req.workers,
        text: worker_script(None, &inputs, req.memory, worker_cmd).render(),
    }];
    for g in &req.groups {
        let greq = group_request(req, g);
        let gin = Inputs::checked(q, &greq)?;
        let (_, cmd) = gin.commands(&dir, &req.name, Some(&g.name), facts, greq.memory);
        workers.push(WorkerScript {
            group: Some(g.name.clone()),
            count: g.workers,
            text: worker_script(Some(&g.name), &gin, greq.memory, cmd).render(),
        });
    }
    Ok(Prepared {
        dir,
        instance,
        scheduler: sched_script.render(),
        workers,
    })
}

/// A worker group's request: the cluster's settings, overridden by the group's own (its
/// `job-extra` adds to the cluster's; its threads, without its own cores, set the cores).
fn group_request(req: &CreateRequest, g: &crate::groups::GroupSpec) -> CreateRequest {
    let mut r = req.clone();
    r.groups.clear();
    r.workers = g.workers;
    if g.threads.is_some() {
        r.threads = g.threads;
        r.options.remove("cores");
    }
    r.memory = g.memory.or(req.memory);
    for (k, v) in &g.options {
        match (k.as_str(), r.options.get_mut(k)) {
            ("job-extra", Some(extra)) => {
                extra.push('\n');
                extra.push_str(v);
            }
            _ => {
                r.options.insert(k.clone(), v.clone());
            }
        }
    }
    r
}

/// The request's batch inputs, each checked before anything is written or submitted.
struct Inputs {
    /// `--job-extra`: one directive argument per line.
    extra: Vec<String>,
    partition: Option<String>,
    account: Option<String>,
    walltime: Option<String>,
    /// A worker group's `gpus`.
    gpus: Option<u32>,
    cores: u32,
    threads: u32,
    python: String,
    host: Option<String>,
    /// `--idle-timeout`, seconds
    idle_timeout: Option<String>,
}

impl Inputs {
    fn checked<D: Dialect>(q: &JobQueue<D>, req: &CreateRequest) -> Result<Inputs> {
        let opt = |k: &str| req.options.get(k).cloned();
        for key in ["partition", "account", "walltime"] {
            if let Some(v) = opt(key) {
                check_value(key, &v)?;
            }
        }
        if let Some(w) = opt("walltime") {
            super::walltime_secs(&w)?;
        }
        let gpus = match opt("gpus") {
            Some(g) => Some(
                g.parse::<u32>()
                    .ok()
                    .filter(|g| (1..=64).contains(g))
                    .ok_or_else(|| Error::Usage(format!("invalid gpus {g:?}: 1 to 64")))?,
            ),
            None => None,
        };
        let extra: Vec<String> = opt("job-extra")
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default();
        for e in &extra {
            if e.is_empty() || e.chars().any(unsafe_in_script) {
                return Err(Error::Usage(format!(
                    "invalid --job-extra {e:?}: one directive argument, no whitespace, quotes or shell characters"
                )));
            }
        }
        let cores: u32 = match opt("cores") {
            Some(c) => c
                .parse()
                .ok()
                .filter(|c| (1..=1024).contains(c))
                .ok_or_else(|| Error::Usage(format!("invalid --cores {c:?}")))?,
            None => req.threads.unwrap_or(1),
        };
        let facts = q.dialect.facts();
        let python = q.python(req);
        // jobs that get nothing of the submitting environment (HTCondor) run the Python named
        // by its path: resolved here, where PATH is the user's
        let python = if facts.absolute_python && !python.contains('/') {
            super::runner::which(&python).ok_or_else(|| {
                let hint = facts
                    .environment_hint
                    .unwrap_or("set --python to an absolute path");
                Error::Usage(format!("{python} is not on PATH here; {hint}"))
            })?
        } else {
            python
        };
        let host = q.host(req);
        if let Some(h) = &host {
            check_value("host", h)?;
        }
        Ok(Inputs {
            extra,
            partition: opt("partition"),
            account: opt("account"),
            walltime: opt("walltime"),
            gpus,
            cores,
            threads: req.threads.unwrap_or(cores),
            python,
            host,
            idle_timeout: opt("idle-timeout"),
        })
    }

    /// The scheduler's and a group's workers' Dask command lines (quoted for the job script).
    fn commands(
        &self,
        dir: &Path,
        name: &str,
        group: Option<&str>,
        facts: &super::Facts,
        memory: Option<u64>,
    ) -> (Vec<String>, Vec<String>) {
        let sched_file = quote(&dir.join("scheduler.json").to_string_lossy());
        let dask = |verb: &str| {
            let python = quote(&self.python);
            let file = sched_file.clone();
            vec![
                python,
                "-m".into(),
                "dask".into(),
                verb.into(),
                "--scheduler-file".into(),
                file,
            ]
        };
        let mut sched = dask("scheduler");
        sched.extend(["--port".into(), "0".into()]);
        // Dask's own idle timeout: the scheduler job ends itself even if no daskctl ever runs
        // again; the workers follow by their --death-timeout, and their jobs end
        if let Some(t) = &self.idle_timeout {
            sched.extend(["--idle-timeout".into(), format!("{t}s")]);
        }
        let mut worker = dask("worker");
        let prefix = match group {
            Some(g) => format!("{name}-{g}"),
            None => name.to_string(),
        };
        worker.extend([
            "--name".into(),
            format!("\"{prefix}-{}\"", facts.job_id_expr),
            "--nthreads".into(),
            self.threads.to_string(),
            // a worker whose scheduler never comes (or went away) gives its allocation back
            "--death-timeout".into(),
            "300".into(),
        ]);
        if let Some(m) = memory {
            worker.extend(["--memory-limit".into(), m.to_string()]);
        }
        if let Some(g) = group {
            // tasks target the group with resources={GROUP: 1}; as many at once as it has threads
            worker.extend([
                "--resources".into(),
                crate::groups::resource(g, self.threads),
            ]);
        }
        match &self.host {
            Some(h) => {
                for cmd in [&mut sched, &mut worker] {
                    cmd.extend([
                        "--host".into(),
                        h.clone(),
                        "--dashboard-address".into(),
                        format!("{h}:0"),
                    ]);
                }
            }
            None => sched.extend(["--dashboard-address".into(), ":0".into()]),
        }
        (sched, worker)
    }
}

/// Makes the cluster's directory, exclusively, and takes its lock: of two creates of one name
/// exactly one makes it (mkdir(2) is atomic, on NFS too); the other fails with nothing made.
/// A directory that exists is another create's, or a leftover (`cleanup --orphaned` and
/// `delete` remove it). The lock is held while the create submits (lock.rs).
async fn claim_dir<D: Dialect>(
    q: &JobQueue<D>,
    name: &str,
    dir: &std::path::Path,
) -> Result<crate::lockfile::Held> {
    use std::os::unix::fs::DirBuilderExt;
    let parent = dir.parent().expect("a cluster directory has a parent");
    crate::safefile::create_private_dir(parent).ctx(|| format!("creating {}", parent.display()))?;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let backend = q.dialect.facts().name;
            return Err(Error::Usage(format!(
                "cluster {backend}/{name} already exists ({} is there: another create's, or \
                 what a cluster left; daskctl delete {backend}/{name} removes it)",
                dir.display()
            )));
        }
        Err(e) => return Err(Error::io(format!("creating {}", dir.display()), e)),
    }
    // nobody else can hold it yet: the directory is not a cluster's until `instance` exists
    super::lock::take(q, name, Some(dir), Duration::from_secs(10)).await
}

pub async fn create<D: Dialect>(q: &JobQueue<D>, req: &CreateRequest) -> Result<Cluster> {
    let Prepared {
        dir,
        instance,
        scheduler,
        workers: scripts,
    } = prepare(q, req)?;
    let existing = super::discover::discover(q).await?;
    if existing.iter().any(|c| c.name == req.name) {
        return Err(Error::Usage(format!(
            "cluster {}/{} already exists",
            q.dialect.facts().name,
            req.name
        )));
    }
    let lock = claim_dir(q, &req.name, &dir).await?;
    if let Err(e) = fill(&dir, &instance, &scheduler, &scripts) {
        // ours alone: made above
        super::shared_dir::remove(&dir);
        return Err(e);
    }

    // submissions run in the cluster's directory: what a batch system writes to the
    // submitting directory (Slurm's qsub wrapper: SCRIPT.oJOBID) stays with the cluster
    let run = q.runner().in_dir(&dir).holding(&lock);
    let undo_dir = dir.clone();
    let undo = |ids: Vec<String>| {
        let dir = undo_dir.clone();
        async move {
            if !ids.is_empty() {
                let _ = super::dialect::cancel(&q.dialect, &q.runner(), &ids).await;
            }
            super::shared_dir::remove(&dir);
        }
    };
    let sched_id = match super::dialect::submit_script(
        &q.dialect,
        &run,
        &dir.join("scheduler.sh"),
        None,
    )
    .await
    {
        Ok(id) => id,
        Err(e) => {
            undo(vec![]).await;
            return Err(e);
        }
    };
    // one array per group; a refused one cancels every job already submitted
    let mut workers = Vec::new();
    for w in scripts.iter().filter(|w| w.count > 0) {
        match submit_workers(q, &run, &dir.join(w.file()), w.count).await {
            Ok(ids) => workers.extend(ids),
            Err((e, ids)) => {
                workers.extend(ids);
                workers.push(sched_id);
                undo(workers).await;
                return Err(e);
            }
        }
    }
    // everything is in the queue: a delete from now on sees it all
    drop(lock);
    let sub = Submitted {
        scheduler: Some(sched_id),
        workers,
    };
    let n = scripts.iter().map(|w| w.count as u64).sum();
    until_running(q, req, &dir, &sub, n).await
}

/// The cluster's directory filled: its logs directory (the cluster's alone), the scripts, and
/// last its instance (with it, the directory is a cluster's: discover.rs::leftovers).
fn fill(dir: &Path, instance: &str, scheduler: &str, scripts: &[WorkerScript]) -> Result<()> {
    let logs = dir.join("logs");
    // the cluster's alone (0700): its scripts and logs are nobody else's to read
    crate::safefile::create_private_dir(&logs).ctx(|| format!("creating {}", logs.display()))?;
    write(&dir.join("scheduler.sh"), scheduler)?;
    for w in scripts {
        write(&dir.join(w.file()), &w.text)?;
    }
    // the lock is already held
    write(&dir.join("instance"), &format!("{instance}\n"))
}

/// Waits until the scheduler and `n` workers run; stops early when a submitted job ended.
async fn until_running<D: Dialect>(
    q: &JobQueue<D>,
    req: &CreateRequest,
    dir: &Path,
    sub: &Submitted,
    n: u64,
) -> Result<Cluster> {
    let deadline = tokio::time::Instant::now() + req.timeout;
    let show = watch::Shown {
        progress: &req.progress,
        wanted: n,
        group: None,
    };
    match watch::until_ready(q, &req.name, sub, deadline, &show, |c| {
        watch::running_with(c, n).into()
    })
    .await?
    {
        Ok(c) => Ok(c),
        Err(Waited::Ended(ended)) => Err(failed(q, req, dir, ended).await),
        // create asks for no stop of its own
        Err(Waited::Stopped(why)) => Err(Error::backend(q.dialect.facts().name, why)),
        Err(Waited::TimedOut(last)) => Err(Error::Timeout(format!(
            "{}/{} is not ready in time: {last}; its jobs stay queued (daskctl delete {} removes them)",
            q.dialect.facts().name,
            req.name,
            req.name
        ))),
    }
}

/// A create whose scheduler job (or every worker job) ended: the job's own last words, what
/// is left cancelled, the directory removed unless `--keep-failed`.
async fn failed<D: Dialect>(
    q: &JobQueue<D>,
    req: &CreateRequest,
    dir: &Path,
    ended: watch::Ended,
) -> Error {
    let what = match ended.role {
        crate::model::Role::Scheduler => "the scheduler job",
        _ => "every worker job",
    };
    let tail = watch::log_tail(dir, ended.role, &ended.job, 5)
        .map(|t| format!("; its log ends with: {t}"))
        .unwrap_or_else(|| "; it left no log".into());
    let left: Vec<String> = super::discover::discover(q)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.name == req.name)
        .filter_map(|c| c.handle.get::<super::QueueHandle>().cloned())
        .flat_map(|h| h.active().map(|(j, _)| j.id.clone()).collect::<Vec<_>>())
        .collect();
    let cancelled = if left.is_empty() {
        String::new()
    } else {
        match super::delete::cancel_and_wait(q, &left, Duration::from_secs(60), &Default::default())
            .await
        {
            Ok(()) => format!("; cancelled {}", left.join(", ")),
            Err(e) => format!("; cancelling {} failed: {e}", left.join(", ")),
        }
    };
    let kept = if req.options.contains_key("keep-failed") {
        format!("; kept {} (--keep-failed)", dir.display())
    } else {
        super::shared_dir::remove(dir);
        String::new()
    };
    let name = q.dialect.facts().name;
    // the job's Python has no Dask: say which Python ran and how to choose another
    let no_dask = ["No module named dask", "No module named distributed"]
        .iter()
        .any(|m| tail.contains(m));
    let hint = if no_dask {
        format!(
            " (the jobs ran {:?}, which has no Dask: give --python /path/to/python, or set \
             backends.{name}.python; it must be a Python the compute nodes can run)",
            q.python(req)
        )
    } else {
        q.dialect
            .facts()
            .environment_hint
            .map(|h| format!(" ({h})"))
            .unwrap_or_default()
    };
    Error::backend(
        q.dialect.facts().name,
        format!(
            "{}/{}: {what} ({}) ended before the cluster was ready{tail}{hint}{cancelled}{kept}",
            q.dialect.facts().name,
            req.name,
            ended.job
        ),
    )
}

/// Submits `n` workers: one array, or one job each where the system has no usable arrays,
/// with `run` (its directory and the lock it holds). On failure, the ids already submitted come
/// back with the error.
pub async fn submit_workers<D: Dialect>(
    q: &JobQueue<D>,
    run: &super::runner::Runner,
    script: &Path,
    n: u32,
) -> std::result::Result<Vec<String>, (Error, Vec<String>)> {
    let (calls, count) = if q.dialect.facts().arrays {
        (1, Some(n))
    } else {
        (n, None)
    };
    let mut ids = Vec::new();
    for _ in 0..calls {
        match super::dialect::submit_script(&q.dialect, run, script, count).await {
            Ok(id) => ids.push(id),
            Err(e) => return Err((e, ids)),
        }
    }
    Ok(ids)
}

/// `create --dry-run`: the scripts and the submissions, as `create` would make them.
pub fn plan<D: Dialect>(q: &JobQueue<D>, req: &CreateRequest) -> Result<crate::backends::Plan> {
    use crate::backends::{Plan, PlanFile, Step};
    let p = prepare(q, req)?;
    let step = |role: &str, file: &str, text: &str, count: Option<u32>, what: String| {
        let script = p.dir.join(file);
        let call = q.dialect.submission(&super::Submission {
            script: &script,
            text,
            count,
        });
        let mut files = vec![PlanFile {
            path: script.to_string_lossy().into_owned(),
            content: text.to_string(),
        }];
        files.extend(call.files.into_iter().map(|(path, content)| PlanFile {
            path: path.to_string_lossy().into_owned(),
            content,
        }));
        Step {
            argv: Some(call.argv),
            stdin: call
                .script_on_stdin
                .then(|| script.to_string_lossy().into_owned()),
            files,
            ..Step::new(role, what)
        }
    };
    let mut steps = vec![step(
        "scheduler",
        "scheduler.sh",
        &p.scheduler,
        None,
        "the scheduler, as one batch job".into(),
    )];
    for w in p.workers.iter().filter(|w| w.count > 0) {
        let (calls, count) = if q.dialect.facts().arrays {
            (1, Some(w.count))
        } else {
            (w.count, None)
        };
        let of = w
            .group
            .as_ref()
            .map(|g| format!(" of group {g}"))
            .unwrap_or_default();
        let what = if calls == 1 {
            format!("{} worker(s){of}, as one job array", w.count)
        } else {
            format!(
                "{} worker(s){of}, one job each ({calls} submissions)",
                w.count
            )
        };
        steps.push(step("workers", &w.file(), &w.text, count, what));
    }
    Ok(Plan {
        backend: q.dialect.facts().name.to_string(),
        name: req.name.clone(),
        dry_run: true,
        steps,
    })
}

/// Job scripts are executable: on HTCondor the script is the job's executable.
pub fn write(p: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(p, text).ctx(|| format!("writing {}", p.display()))?;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
        .ctx(|| format!("chmod {}", p.display()))
}
