//! HTCondor: submit descriptions (not shell scripts) through `condor_submit`, many workers with
//! `queue N`, daskctl's marker as a custom ClassAd attribute (`+DaskctlMarker`), state from
//! `condor_q -json`, `condor_rm`. The job script daskctl keeps carries its submit commands as
//! `# condor: ` lines, so a script read back can be submitted again as it was.

mod queue;

use super::Registration;
use super::jobqueue::dialect::SubmitCall;
use super::jobqueue::runner::Runner;
use super::jobqueue::{Dialect, Facts, Interest, Job, JobQueue, JobSpec, Submission};
use crate::error::{Error, Result};
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

pub struct HtCondor;

inventory::submit! {
    Registration {
        name: "htcondor",
        default_enabled: true,
        build: |ctx| {
            // checked by `check_settings` before any backend is built
            let shared = crate::settings::load(&ctx.config, "htcondor").unwrap_or_default();
            Arc::new(JobQueue::new(ctx, HtCondor, shared))
        },
        check_settings: |c| crate::settings::load::<super::jobqueue::config::Settings>(c, "htcondor").map(drop),
        settings_keys: crate::settings::keys::<(super::jobqueue::config::Settings,)>,
        create_flags: super::BATCH_FLAGS,
    }
}

const PREFIX: &str = "# condor: ";

fn s(v: &str) -> String {
    v.to_string()
}

/// The submit description for a daskctl job script: its `# condor:` lines, then `queue N`.
pub fn submit_description(script: &Path, text: &str, count: u32) -> String {
    let mut d = format!("universe = vanilla\nexecutable = {}\n", script.display());
    for line in text.lines().filter_map(|l| l.strip_prefix(PREFIX)) {
        d.push_str(line);
        d.push('\n');
    }
    d.push_str(&format!("queue {}\n", count.max(1)));
    d
}

static FACTS: Facts = Facts {
    absolute_python: true,
    // condor_rm exits 1 when a job is no longer in the queue ("Couldn't find/remove all jobs
    // matching ...", src/condor_tools/tool.cpp: `return had_error ? 1 : 0`): a worker that
    // ended by itself meanwhile (htcdaskgateway's, once its scheduler stopped). Not trusted
    // either way: the queue is watched until the jobs are gone, as for every batch system.
    cancel_gone: &[1],
    environment_hint: Some(
        "HTCondor jobs do not inherit the submitting environment: --python or backends.htcondor.python sets the interpreter on the nodes",
    ),
    ..Facts::new(
        "htcondor",
        "HTCondor jobs (condor_submit, condor_q -json, condor_rm)",
        &["condor_submit", "condor_q", "condor_rm"],
        "${DASKCTL_JOB_ID}",
        parse_submit,
        "condor_rm",
    )
};

fn parse_submit(stdout: &str) -> Result<String> {
    // -terse: "C.0 - C.N"
    let first = stdout.split_whitespace().next().unwrap_or("");
    match first.split_once('.') {
        Some((c, _)) if !c.is_empty() && c.chars().all(|x| x.is_ascii_digit()) => Ok(c.to_string()),
        _ => Err(Error::backend(
            "htcondor",
            format!("unexpected condor_submit output {:?}", stdout.trim()),
        )),
    }
}

#[async_trait]
impl Dialect for HtCondor {
    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn directives(&self, spec: &JobSpec) -> Vec<String> {
        let mut d = vec![
            format!("{PREFIX}batch_name = {}", spec.job_name),
            format!("{PREFIX}+DaskctlMarker = \"{}\"", spec.marker),
            // Dask logs to stderr: both streams to one file, streamed back as written (by
            // default output is copied back only when the job ends: logs would be empty while
            // it runs; dask-jobqueue streams for the same reason)
            format!("{PREFIX}output = {}", spec.output),
            format!("{PREFIX}stream_output = true"),
            format!("{PREFIX}stream_error = true"),
            format!("{PREFIX}error = {}", spec.output),
            format!("{PREFIX}request_cpus = {}", spec.cores.max(1)),
            format!("{PREFIX}environment = \"DASKCTL_JOB_ID=$(Cluster).$(Process)\""),
        ];
        if let Some(m) = spec.memory {
            // with its unit: some pools require one (condor_submit: M = MiB)
            d.push(format!("{PREFIX}request_memory = {}M", m.div_ceil(1 << 20)));
        }
        if let Some(a) = &spec.account {
            d.push(format!("{PREFIX}accounting_group = {a}"));
        }
        if let Some(g) = spec.gpus {
            d.push(format!("{PREFIX}request_gpus = {g}"));
        }
        if let Some(t) = &spec.walltime
            && let Ok(secs) = super::jobqueue::walltime_secs(t)
        {
            d.push(format!("{PREFIX}periodic_remove = (JobStatus == 2) && (time() - EnteredCurrentStatus > {secs})"));
        }
        d.extend(spec.extra.iter().map(|e| format!("{PREFIX}{e}")));
        d
    }

    fn submission(&self, job: &Submission) -> SubmitCall {
        // the description beside the script, from its `# condor:` lines (`queue N`: an array)
        let description = job.script.with_extension("sub");
        SubmitCall {
            argv: vec![
                s("condor_submit"),
                s("-terse"),
                description.to_string_lossy().into_owned(),
            ],
            files: vec![(
                description,
                submit_description(job.script, job.text, job.count.unwrap_or(1)),
            )],
            script_on_stdin: false,
        }
    }

    async fn list(&self, run: &Runner, keep: &Interest) -> Result<Vec<Job>> {
        // condor_q shows the caller's jobs; -allusers every user's (HTCondor 8.5.x and later)
        let mut argv = vec![
            s("condor_q"),
            s("-json"),
            s("-attributes"),
            s(queue::ATTRIBUTES),
        ];
        if run.everyone {
            argv.push(s("-allusers"));
        }
        let o = run.run(&argv).await?;
        let keep = keep.clone();
        super::jobqueue::dialect::off_thread("htcondor", move || {
            queue::parse_json(&o.stdout, &keep)
        })
        .await
    }

    async fn finished(&self, run: &Runner) -> Result<Vec<Job>> {
        // condor_history is newest first across every user, and -limit counts what it shows:
        // only the user's marked jobs, or on a busy submit host daskctl's fall outside the bound
        let user = nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_default();
        let constraint = if run.everyone {
            "DaskctlMarker =!= undefined".to_string()
        } else {
            format!("DaskctlMarker =!= undefined && Owner == \"{user}\"")
        };
        let o = run
            .run(&[
                s("condor_history"),
                s("-json"),
                s("-attributes"),
                s(queue::ATTRIBUTES),
                s("-constraint"),
                constraint,
                s("-limit"),
                s("1000"),
            ])
            .await?;
        // ended by themselves (Completed, or removed by their walltime): not jobs daskctl
        // removed, which are no failures of the cluster
        queue::parse_history(&o.stdout)
    }

    fn output_pattern(&self, logs: &Path, role: &str) -> String {
        logs.join(format!("{role}-$(Cluster).$(Process).log"))
            .to_string_lossy()
            .into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_from_script() {
        let spec = JobSpec {
            job_name: "etl-worker".into(),
            marker: "daskctl:v1;cluster=etl;role=worker;dir=/d".into(),
            output: "/d/logs/w.log".into(),
            cores: 2,
            memory: Some(1 << 30),
            walltime: Some("01:00:00".into()),
            ..Default::default()
        };
        let script = HtCondor.directives(&spec).join("\n") + "\nexec python -m dask worker\n";
        let d = submit_description(Path::new("/d/worker.sh"), &script, 3);
        assert!(
            d.starts_with("universe = vanilla\nexecutable = /d/worker.sh\n"),
            "{d}"
        );
        assert!(d.contains("+DaskctlMarker = \"daskctl:v1;cluster=etl;role=worker;dir=/d\"\n"));
        assert!(d.contains("request_memory = 1024M\n"));
        assert!(d.contains("stream_output = true\n") && d.contains("stream_error = true\n"));
        assert!(d.contains("time() - EnteredCurrentStatus > 3600"));
        assert!(d.ends_with("queue 3\n"));
        assert_eq!(parse_submit("12.0 - 12.2\n").unwrap(), "12");
        assert!(parse_submit("ERROR: blah").is_err());
    }
}
