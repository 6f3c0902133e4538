//! IBM Spectrum LSF (and OpenLava's compatible commands): `bsub < script` (LSF reads `#BSUB`
//! lines only from a script on its standard input), arrays as `-J "NAME[1-N]"`, the marker in
//! the job description (`-Jd`), state from `bjobs -o ... -json` (LSF 10.1 Fix Pack 2 and
//! later) with a `-noheader` text fallback for older releases, `bkill`. Only the dialect lives here; the verbs are the shared job-queue
//! machinery.
//!
//! IBM's pages followed: bsub (options, "Job <ID> is submitted to queue <Q>."), bsub -J (job
//! arrays), bjobs -o (field names, `delimiter=`), bjobs -json (`{"COMMAND", "JOBS",
//! "RECORDS"}`), bjobs -script, bkill, and the job environment (LSB_JOBID, LSB_JOBINDEX).

mod queue;

use super::Registration;
use super::jobqueue::dialect::{SubmitCall, off_thread};
use super::jobqueue::runner::Runner;
use super::jobqueue::{Dialect, Facts, Interest, Job, JobQueue, JobSpec, Submission};
use crate::error::{Error, Result};
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

pub struct Lsf;

inventory::submit! {
    Registration {
        name: "lsf",
        default_enabled: true,
        build: |ctx| {
            // checked by `check_settings` before any backend is built
            let (shared,): (super::jobqueue::config::Settings,) =
                crate::settings::load_parts(&ctx.config, "lsf").unwrap_or_default();
            Arc::new(JobQueue::new(ctx, Lsf, shared))
        },
        settings_keys: crate::settings::keys::<(super::jobqueue::config::Settings,)>,
        create_flags: super::QUEUE_FLAGS,
        check_settings: |c| {
            crate::settings::load_parts::<(super::jobqueue::config::Settings,)>(c, "lsf").map(drop)
        },
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

static FACTS: Facts = Facts {
    // bkill exits 255 when a job is unknown or already finished ("No matching job found",
    // "Job has already finished"); whether the jobs are gone is watched in the queue after
    cancel_gone: &[255],
    script_argv: Some(&["bjobs", "-script", "{id}"]),
    ..Facts::new(
        "lsf",
        "IBM Spectrum LSF batch jobs (bsub, bjobs -json, bkill)",
        &["bsub", "bjobs", "bkill"],
        // bjobs' own id of the job: `1234`, an array element `1234[3]` (LSB_JOBINDEX is 0
        // outside arrays)
        "${LSB_JOBID}$([ \"${LSB_JOBINDEX:-0}\" = 0 ] || printf '[%s]' \"$LSB_JOBINDEX\")",
        parse_submit,
        "bkill",
    )
};

/// `Job <1234> is submitted to queue <normal>.` (or `to default queue <normal>.`)
fn parse_submit(stdout: &str) -> Result<String> {
    let id = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Job <"))
        .and_then(|rest| rest.split_once('>'))
        .map(|(id, _)| id)
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()));
    id.map(str::to_string)
        .ok_or_else(|| Error::backend("lsf", format!("unexpected bsub output {:?}", stdout.trim())))
}

/// `-W` takes `[hours:]minutes`: a walltime `HH:MM:SS` rounded up to whole minutes.
fn walltime(t: &str) -> String {
    let parts: Vec<u64> = t.split(':').filter_map(|p| p.parse().ok()).collect();
    let secs = match parts.as_slice() {
        [h, m, s] => h * 3600 + m * 60 + s,
        [m, s] => m * 60 + s,
        [m] => m * 60,
        _ => return t.to_string(),
    };
    let minutes = secs.div_ceil(60);
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

#[async_trait]
impl Dialect for Lsf {
    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn directives(&self, spec: &JobSpec) -> Vec<String> {
        let mut d = vec![
            format!("#BSUB -J {}", spec.job_name),
            format!("#BSUB -Jd \"{}\"", spec.marker),
            format!("#BSUB -o {}", spec.output),
            format!("#BSUB -n {}", spec.cores.max(1)),
            // every core of a worker on one host
            "#BSUB -R \"span[hosts=1]\"".to_string(),
        ];
        if let Some(m) = spec.memory {
            let mb = m.div_ceil(1 << 20);
            d.push(format!("#BSUB -M {mb}MB"));
            d.push(format!("#BSUB -R \"rusage[mem={mb}MB]\""));
        }
        if let Some(t) = &spec.walltime {
            d.push(format!("#BSUB -W {}", walltime(t)));
        }
        if let Some(q) = &spec.queue {
            d.push(format!("#BSUB -q {q}"));
        }
        if let Some(a) = &spec.account {
            d.push(format!("#BSUB -P {a}"));
        }
        if let Some(g) = spec.gpus {
            d.push(format!("#BSUB -gpu \"num={g}\""));
        }
        d.extend(spec.extra.iter().map(|e| format!("#BSUB {e}")));
        d
    }

    fn output_pattern(&self, logs: &Path, role: &str) -> String {
        // %J: the job id, %I: the array index
        let suffix = if role == "worker" { "%J_%I" } else { "%J" };
        logs.join(format!("{role}-{suffix}.out"))
            .to_string_lossy()
            .into_owned()
    }

    fn submission(&self, job: &Submission) -> SubmitCall {
        let mut v = vec![s("bsub")];
        if let Some(n) = job.count {
            // the array's name on the command line overrides the script's -J
            let name = job
                .text
                .lines()
                .find_map(|l| l.strip_prefix("#BSUB -J "))
                .unwrap_or("dask-worker")
                .trim();
            v.push(s("-J"));
            v.push(format!("{name}[1-{}]", n.max(1)));
        }
        SubmitCall {
            script_on_stdin: true,
            ..SubmitCall::argv(v)
        }
    }

    async fn list(&self, run: &Runner, keep: &Interest) -> Result<Vec<Job>> {
        let everyone = || {
            if run.everyone {
                vec![s("-u"), s("all")]
            } else {
                Vec::new()
            }
        };
        let mut argv = vec![s("bjobs"), s("-o"), s(queue::FIELDS), s("-json")];
        argv.extend(everyone());
        let keep = keep.clone();
        match run.run(&argv).await {
            Ok(o) => off_thread("lsf", move || queue::parse_json(&o.stdout, &keep)).await,
            Err(e @ Error::Timeout(_)) => Err(e),
            // LSF before 10.1 Fix Pack 2: -o without -json; the same fields, one line each
            Err(_) => {
                let mut argv = vec![
                    s("bjobs"),
                    s("-o"),
                    format!("{} delimiter='{}'", queue::FIELDS, queue::DELIMITER),
                    s("-noheader"),
                ];
                argv.extend(everyone());
                let o = run.run(&argv).await?;
                off_thread("lsf", move || Ok(queue::parse_text(&o.stdout, &keep))).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_output_walltime_and_directives() {
        assert_eq!(
            parse_submit("Job <4711> is submitted to default queue <normal>.\n").unwrap(),
            "4711"
        );
        assert!(parse_submit("Bad resource requirement syntax. Job not submitted.").is_err());
        assert_eq!(walltime("01:30:00"), "1:30");
        assert_eq!(walltime("00:00:30"), "0:01");
        let spec = JobSpec {
            job_name: "etl-worker".into(),
            marker: "daskctl:v1;cluster=etl;role=worker;dir=/d".into(),
            output: "/d/logs/worker-%J_%I.out".into(),
            cores: 2,
            memory: Some(3 << 30),
            walltime: Some("02:00:00".into()),
            ..Default::default()
        };
        let d = Lsf.directives(&spec).join("\n");
        assert!(d.contains("#BSUB -Jd \"daskctl:v1;cluster=etl;role=worker;dir=/d\""));
        assert!(d.contains("#BSUB -M 3072MB") && d.contains("#BSUB -W 2:00"));
        let script = format!("#!/bin/bash\n{d}\nexec dask worker\n");
        let call = Lsf.submission(&Submission {
            script: Path::new("/d/worker.sh"),
            text: &script,
            count: Some(3),
        });
        assert_eq!(call.argv, ["bsub", "-J", "etl-worker[1-3]"]);
        assert!(call.script_on_stdin);
    }
}
