//! Son of Grid Engine (and the Univa/Altair Grid Engines that kept its commands): `qsub -terse`,
//! arrays with `-t`, the marker in the job context (`-ac`), state from `qstat -xml`, `qdel`.
//! Only the dialect lives here; the verbs are the shared job-queue machinery.

mod queue;

use super::jobqueue::dialect::SubmitCall;
use super::jobqueue::runner::Runner;
use super::jobqueue::{Dialect, Facts, Interest, Job, JobQueue, JobSpec, Submission};
use super::{Availability, Registration};
use crate::error::{Error, Result};
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

pub struct Sge {
    user: String,
    /// Parallel environment for multi-core workers (`backends.sge.pe`); sites name their own.
    pe: Option<String>,
}

/// `[backends.sge]` beyond the batch settings every batch backend reads.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// The parallel environment multi-core workers ask for (`-pe PE CORES`).
    #[serde(deserialize_with = "crate::settings::lenient::string")]
    pe: Option<String>,
}

inventory::submit! {
    Registration {
        name: "sge",
        default_enabled: true,
        build: |ctx| {
            // checked by `check_settings` before any backend is built
            let (shared, own): (_, Settings) =
                crate::settings::load_parts(&ctx.config, "sge").unwrap_or_default();
            let dialect = Sge { user: ctx.user.name.clone(), pe: own.pe };
            Arc::new(JobQueue::new(ctx, dialect, shared))
        },
        settings_keys: crate::settings::keys::<(super::jobqueue::config::Settings, Settings)>,
        create_flags: super::QUEUE_FLAGS,
        check_settings: |c| {
            crate::settings::load_parts::<(super::jobqueue::config::Settings, Settings)>(c, "sge").map(drop)
        },
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

static FACTS: Facts = Facts {
    environment_hint: Some(
        "Grid Engine does not pass the submitting environment to jobs: --python or backends.sge.python sets the interpreter on the nodes",
    ),
    available,
    ..Facts::new(
        "sge",
        "Grid Engine batch jobs (qsub, qstat -xml, qdel)",
        &["qsub", "qstat", "qdel"],
        // array tasks share JOB_ID
        "${JOB_ID}.${SGE_TASK_ID}",
        parse_submit,
        "qdel",
    )
};

fn parse_submit(stdout: &str) -> Result<String> {
    // "12" or, for an array, "12.1-3:1"
    let id = stdout.trim().split('.').next().unwrap_or("").trim();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::backend(
            "sge",
            format!("unexpected qsub output {:?}", stdout.trim()),
        ));
    }
    Ok(id.to_string())
}

fn available() -> Availability {
    // Grid Engine's commands need SGE_ROOT (settings.sh sets it); without it `qsub` on
    // PATH is some other batch system's
    if std::env::var_os("SGE_ROOT").is_none() {
        return Availability::Missing("SGE_ROOT is not set".into());
    }
    Availability::Ready
}

#[async_trait]
impl Dialect for Sge {
    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn directives(&self, spec: &JobSpec) -> Vec<String> {
        let mut d = vec![
            format!("#$ -N {}", spec.job_name),
            format!("#$ -ac DASKCTL={}", spec.marker),
            format!("#$ -o {}", spec.output),
            "#$ -j y".to_string(),
            "#$ -S /bin/bash".to_string(),
        ];
        if let (Some(pe), true) = (&self.pe, spec.cores > 1) {
            d.push(format!("#$ -pe {pe} {}", spec.cores));
        }
        if let Some(t) = &spec.walltime {
            d.push(format!("#$ -l h_rt={t}"));
        }
        if let Some(q) = &spec.queue {
            d.push(format!("#$ -q {q}"));
        }
        if let Some(a) = &spec.account {
            d.push(format!("#$ -A {a}"));
        }
        if let Some(g) = spec.gpus {
            // Grid Engine has no built-in GPU resource: sites define a consumable, mostly `gpu`
            d.push(format!("#$ -l gpu={g}"));
        }
        d.extend(spec.extra.iter().map(|e| format!("#$ {e}")));
        d
    }

    fn submission(&self, job: &Submission) -> SubmitCall {
        let mut v = vec![s("qsub"), s("-terse")];
        if let Some(n) = job.count {
            v.push(s("-t"));
            v.push(format!("1-{}", n.max(1)));
        }
        v.push(job.script.to_string_lossy().into_owned());
        SubmitCall::argv(v)
    }

    async fn list(&self, run: &Runner, keep: &Interest) -> Result<Vec<Job>> {
        let o = run
            // `-u '*'` (an argument, no shell): every user's jobs
            .run(&[
                s("qstat"),
                s("-xml"),
                s("-u"),
                if run.everyone {
                    s("*")
                } else {
                    self.user.clone()
                },
            ])
            .await?;
        // by name and owner: the marker is only in the details asked for below, of these
        let keep = keep.clone();
        let mut jobs =
            super::jobqueue::dialect::off_thread("sge", move || queue::parse_xml(&o.stdout, &keep))
                .await?;
        if jobs.is_empty() {
            return Ok(jobs);
        }
        // the context (daskctl's marker) and output paths come from `qstat -j`
        let mut numbers: Vec<&str> = jobs
            .iter()
            .map(|j| j.id.split('.').next().unwrap_or(""))
            .collect();
        numbers.sort();
        numbers.dedup();
        let details = match run.run(&[s("qstat"), s("-j"), numbers.join(",")]).await {
            Ok(o) => queue::parse_details(&o.stdout),
            // a job that ended between the two calls makes qstat -j fail: ask once more
            Err(_) => {
                let o = run.run(&[s("qstat"), s("-j"), numbers.join(",")]).await;
                o.map(|o| queue::parse_details(&o.stdout))
                    .unwrap_or_default()
            }
        };
        queue::attach(&mut jobs, &details);
        Ok(jobs)
    }

    fn output_pattern(&self, logs: &Path, role: &str) -> String {
        let suffix = if role == "worker" {
            "$JOB_ID.$TASK_ID"
        } else {
            "$JOB_ID"
        };
        logs.join(format!("{role}-{suffix}.out"))
            .to_string_lossy()
            .into_owned()
    }
}
