//! What a batch system plugs into the shared job-queue verbs: a `Dialect`. What it is, is data
//! (`Facts`: its tools, job-id variable, how its submit command answers, its cancel command
//! and exit statuses, how a job's script is read back); what it does is eight methods: the job
//! script's directives (and any preamble), its output path, the submission (an argument vector
//! and any file beside the script), the queue (and, where kept, its history), and a job's log.
//! `submit`, `cancel` and `batch_script` are written once here over those.

use super::Interest;
use super::Job;
use super::JobSpec;
use super::runner::Runner;
use crate::backends::Availability;
use crate::error::{IoContext, Result};
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a batch system is, as data the shared verbs read.
#[derive(Debug)]
pub struct Facts {
    /// The backend's name (`[backends.NAME]`, `NAME/cluster`).
    pub name: &'static str,
    pub description: &'static str,
    /// Commands that must be on PATH (or in `bin_dir`) for the backend to be available.
    pub tools: &'static [&'static str],
    /// Shell expression for the running job's id, unique per array task (`${SLURM_JOB_ID}`).
    pub job_id_expr: &'static str,
    /// The job (or array) id from the submit command's output.
    pub parse_submit: fn(&str) -> Result<String>,
    /// Anything else the backend needs before it is asked, checked without running anything
    /// (Grid Engine's SGE_ROOT; PBS's qsub not being Grid Engine's).
    pub available: fn() -> Availability,
    /// The command that cancels jobs, given their ids (`scancel`, `qdel`, `condor_rm`).
    pub cancel: &'static str,
    /// argv that prints a job's batch script, `{id}` standing for the job id, where the system
    /// gives it back to its owner (`scontrol write batch_script {id} -`).
    pub script_argv: Option<&'static [&'static str]>,
    /// Whether workers are submitted as one array (else one submission per worker).
    pub arrays: bool,
    /// Whether a job's output file reaches its path only when the job ends (PBS copies `-o`
    /// back then): a running job's output cannot be read for what it says.
    pub output_at_end: bool,
    /// Whether jobs get nothing of the submitting environment (no PATH): the Python is then
    /// resolved to an absolute path on the submit host.
    pub absolute_python: bool,
    /// What to tell a user whose job died at once, when this system's jobs do not get the
    /// submitting environment (the default `python3` may then lack Dask on the nodes).
    pub environment_hint: Option<&'static str>,
    /// Exit statuses of the cancel command that mean the jobs are already gone (finished, or
    /// unknown to the server).
    pub cancel_gone: &'static [i32],
    /// Exit statuses that mean "not now" (a job in a state that cannot be cancelled yet):
    /// asked again a few times, then the queue is watched.
    pub cancel_busy: &'static [i32],
    /// Whether a cancel that fails without a word means the jobs were already gone (Slurm's
    /// `qdel` wrapper exits with the number of jobs it could not kill and says nothing of those
    /// already done or unknown, contribs/torque/qdel.pl); anything it says is still an error.
    pub cancel_silent_gone: bool,
}

impl Facts {
    /// Facts with the common defaults: arrays, output readable while the job runs, the
    /// submitting environment passed on, no special cancel statuses, no script given back.
    pub const fn new(
        name: &'static str,
        description: &'static str,
        tools: &'static [&'static str],
        job_id_expr: &'static str,
        parse_submit: fn(&str) -> Result<String>,
        cancel: &'static str,
    ) -> Facts {
        Facts {
            name,
            description,
            tools,
            job_id_expr,
            parse_submit,
            cancel,
            script_argv: None,
            available: ready,
            arrays: true,
            output_at_end: false,
            absolute_python: false,
            environment_hint: None,
            cancel_gone: &[],
            cancel_busy: &[],
            cancel_silent_gone: false,
        }
    }
}

/// `Facts::available` of a system that needs nothing more than its commands.
pub fn ready() -> Availability {
    Availability::Ready
}

/// One submission: a job script (as an array of `count` tasks when given).
#[derive(Debug, Clone, Copy)]
pub struct Submission<'a> {
    pub script: &'a Path,
    /// The script's text (HTCondor builds its submit description from its `# condor:` lines).
    pub text: &'a str,
    pub count: Option<u32>,
}

/// What a submission runs: the command, and the files it needs beside the script (HTCondor's
/// submit description), as (path, content). `create --dry-run` shows exactly this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitCall {
    pub argv: Vec<String>,
    pub files: Vec<(PathBuf, String)>,
    /// The script goes to the command's standard input (LSF reads `#BSUB` lines only from a
    /// script given as `bsub < script`; as an argument it is just the job's command).
    pub script_on_stdin: bool,
}

impl SubmitCall {
    pub fn argv(argv: Vec<String>) -> SubmitCall {
        SubmitCall {
            argv,
            files: Vec::new(),
            script_on_stdin: false,
        }
    }
}

#[async_trait]
pub trait Dialect: Send + Sync + 'static {
    fn facts(&self) -> &'static Facts;

    /// Directive lines (`#SBATCH ...`) for a job script.
    fn directives(&self, spec: &JobSpec) -> Vec<String>;

    /// Script lines before the Dask command (e.g. a job writing its own log file).
    fn preamble(&self, _logs: &Path, _role: &str) -> Vec<String> {
        Vec::new()
    }

    /// Output file pattern for a job of `role` in `logs` (the dialect's own placeholders).
    fn output_pattern(&self, logs: &Path, role: &str) -> String;

    /// The command (and files) that submit `job`; it prints the job id.
    fn submission(&self, job: &Submission) -> SubmitCall;

    /// The current user's jobs; every user's when `run.everyone`; only those `keep` wants
    /// (asked before a `Job` is built where the dialect can; `keep.named()`: one cluster's
    /// job names, for a system that filters by name itself).
    async fn list(&self, run: &Runner, keep: &Interest) -> Result<Vec<Job>>;

    /// Jobs that ended by themselves (not removed), where the system keeps a history: a
    /// cluster whose worker job ended is degraded, not silently smaller.
    async fn finished(&self, _run: &Runner) -> Result<Vec<Job>> {
        Ok(Vec::new())
    }

    /// Log path of a job; `cluster_dir` is daskctl's shared directory of the cluster, if any.
    /// By default the output path the queue shows.
    async fn log_path(
        &self,
        _run: &Runner,
        job: &Job,
        _cluster_dir: Option<&str>,
    ) -> Option<String> {
        job.stdout.clone()
    }
}

/// argv that prints job `id`'s batch script, where the system gives it back.
pub fn batch_script(facts: &Facts, id: &str) -> Option<Vec<String>> {
    facts
        .script_argv
        .map(|argv| argv.iter().map(|a| a.replace("{id}", id)).collect())
}

/// Submits `job`: writes the files it needs beside the script (an error if one cannot be
/// written), runs the command, and returns the job (or array) id.
pub async fn submit<D: Dialect + ?Sized>(
    d: &D,
    run: &Runner,
    job: &Submission<'_>,
) -> Result<String> {
    let call = d.submission(job);
    for (path, content) in &call.files {
        std::fs::write(path, content).ctx(|| format!("writing {}", path.display()))?;
    }
    let input = call.script_on_stdin.then_some(job.text);
    let o = run.run_with_input(&call.argv, input).await?;
    (d.facts().parse_submit)(&o.stdout)
}

/// Cancels `ids`: done when the command succeeds or says the jobs are already gone; asked
/// again (three times in all) while it says "not now". Whether they are gone is for the
/// caller to watch in the queue.
pub async fn cancel<D: Dialect + ?Sized>(d: &D, run: &Runner, ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let facts = d.facts();
    // every failure is looked at below: what it said, and what the queue says
    let accept: Vec<i32> = (1..=255).collect();
    let mut argv = vec![facts.cancel.to_string()];
    argv.extend(ids.iter().cloned());
    for attempt in 1..=3 {
        let o = run.accepting(&accept).run(&argv).await?;
        let known = o.code == 0
            || facts.cancel_gone.contains(&o.code)
            || facts.cancel_busy.contains(&o.code);
        if !known {
            let why = o.said();
            if why.is_none() && facts.cancel_silent_gone {
                return Ok(()); // nothing said: the jobs were gone already
            }
            // whatever words a system has for "no such job" (Moab's differ by release): the
            // queue says whether any of them is still there
            if none_left(d, run, ids).await {
                return Ok(());
            }
            return Err(crate::error::Error::backend(
                facts.name,
                format!(
                    "{} failed (exit status: {}): {}",
                    argv[0],
                    o.code,
                    why.unwrap_or("no message")
                ),
            ));
        }
        if !facts.cancel_busy.contains(&o.code) {
            return Ok(());
        }
        tracing::debug!(
            "{}: cancel: a job cannot be cancelled in its state yet (attempt {attempt})",
            facts.name
        );
        if attempt < 3 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    Ok(())
}

/// Whether the queue shows none of `ids` (nor an element of one of them) still there; false
/// when the queue cannot be read.
async fn none_left<D: Dialect + ?Sized>(d: &D, run: &Runner, ids: &[String]) -> bool {
    let Ok(jobs) = d.list(run, &Interest::Everything).await else {
        return false;
    };
    // erring toward "still there": an array's element (`12_3`, `12.3`, `12[3]`, PBS's
    // `123[4].srv` of `123[].srv`) counts as its array's
    let element_of = |listed: &str, id: &str| {
        let array = |s: &str| s.split_once('[').map(|(a, _)| a.to_string());
        listed == id
            || [".", "_", "["]
                .iter()
                .any(|sep| listed.starts_with(&format!("{id}{sep}")))
            || array(listed).is_some_and(|a| Some(a) == array(id))
    };
    !jobs
        .iter()
        .any(|j| j.state.active() && ids.iter().any(|id| element_of(&j.id, id)))
}

/// Reads a script and submits it.
pub async fn submit_script<D: Dialect + ?Sized>(
    dialect: &D,
    run: &Runner,
    script: &Path,
    count: Option<u32>,
) -> Result<String> {
    let text = std::fs::read_to_string(script).ctx(|| format!("reading {}", script.display()))?;
    submit(
        dialect,
        run,
        &Submission {
            script,
            text: &text,
            count,
        },
    )
    .await
}

/// Runs a parse of a queue's output on a blocking thread: a facility's queue takes tens of
/// milliseconds to read, during which the command's deadline (and serve's scrapes) must still
/// be heard on the runtime.
pub async fn off_thread<T: Send + 'static>(
    backend: &str,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        crate::error::Error::backend(backend, format!("reading the queue failed: {e}"))
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue's parse runs off the runtime thread: on the one-thread runtime every command but
    /// `serve` runs on, the backend's deadline (`fanout.rs`: a timeout around `discover`) still
    /// fires while a parse is under way, and other work (a serve scrape) goes on. The parse here
    /// is held until the test lets it go, so no machine is too fast for it.
    #[tokio::test(flavor = "current_thread")]
    async fn a_deadline_holds_during_a_parse() {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (done, finished) = tokio::sync::oneshot::channel();
        let parse = off_thread("test", move || {
            let _ = held.recv();
            let _ = done.send(());
            Ok(7)
        });
        let scrape = tokio::spawn(async { "answered" });
        let started = std::time::Instant::now();
        let r = tokio::time::timeout(Duration::from_millis(100), parse).await;
        assert!(r.is_err(), "the deadline fired during the parse");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(scrape.await.unwrap(), "answered");
        // the parse itself ends when its input does (here: when let go), on its own thread
        release.send(()).unwrap();
        finished.await.unwrap();
    }
}
