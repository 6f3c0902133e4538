//! Slurm: `sbatch` / `squeue` / `scancel` / `scontrol`. Only the dialect lives here; the verbs
//! are the shared job-queue machinery.

mod queue;

use super::Registration;
use super::jobqueue::dialect::{SubmitCall, off_thread};
use super::jobqueue::runner::Runner;
use super::jobqueue::{Dialect, Facts, Interest, Job, JobQueue, JobSpec, Submission};
use crate::error::{Error, Result};
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

/// Which `squeue` output to read (`backends.slurm.squeue_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Format {
    /// The text format (20-40 ms on Slurm 22.05, where `--json` takes 120-180 ms), with output
    /// paths (`-O ... StdOut`); JSON only where squeue has no `-O StdOut` and a dask-gateway job
    /// needs its output path.
    #[default]
    Auto,
    /// Text only (for an squeue whose JSON is broken).
    Text,
    /// JSON first, text where it fails.
    Json,
}

pub struct Slurm {
    format: Format,
}

static FACTS: Facts = Facts {
    script_argv: Some(&["scontrol", "write", "batch_script", "{id}", "-"]),
    ..Facts::new(
        "slurm",
        "Slurm batch jobs (sbatch, squeue, scancel)",
        &["sbatch", "squeue", "scancel"],
        "${SLURM_JOB_ID}",
        parse_submit,
        "scancel",
    )
};

/// `[backends.slurm]` beyond the batch settings every batch backend reads.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// `auto` (text, JSON where needed), `text`, or `json`.
    squeue_format: Format,
}

inventory::submit! {
    Registration {
        name: "slurm",
        default_enabled: true,
        build: |ctx| {
            // checked by `check_settings` before any backend is built
            let (shared, own): (_, Settings) =
                crate::settings::load_parts(&ctx.config, "slurm").unwrap_or_default();
            Arc::new(JobQueue::new(ctx, Slurm { format: own.squeue_format }, shared))
        },
        settings_keys: crate::settings::keys::<(super::jobqueue::config::Settings, Settings)>,
        create_flags: super::QUEUE_FLAGS,
        check_settings: |c| {
            crate::settings::load_parts::<(super::jobqueue::config::Settings, Settings)>(c, "slurm").map(drop)
        },
    }
}

impl Slurm {
    /// The text format: `-O` with output paths, else (an squeue without `StdOut`) `-o`.
    async fn text(
        &self,
        run: &Runner,
        names: Option<&[String]>,
        keep: &Interest,
    ) -> Result<(Vec<Job>, queue::Text)> {
        let long = queue::Text::Long;
        let o = run
            .run(&queue::text_argv(names, run.everyone, long))
            .await?;
        // an squeue that lacks a field says so on stderr, prints nothing and exits 0 (22.05.8)
        if !o.stderr.contains("Invalid job format specification") {
            return Ok((parse(o.stdout, long, keep).await?, long));
        }
        tracing::debug!("squeue -O: {}; using -o", o.stderr.trim());
        let short = queue::Text::Short;
        let o = run
            .run(&queue::text_argv(names, run.everyone, short))
            .await?;
        Ok((parse(o.stdout, short, keep).await?, short))
    }

    async fn json(&self, run: &Runner, keep: &Interest) -> Result<Vec<Job>> {
        // without --me squeue shows every user's jobs (slurm.conf PrivateData may hide them)
        let argv = if run.everyone {
            vec![s("squeue"), s("--json")]
        } else {
            vec![s("squeue"), s("--me"), s("--json")]
        };
        let json = run.run(&argv).await;
        let parsed = match json {
            Ok(o) => {
                let keep = keep.clone();
                off_thread("slurm", move || queue::parse_json(&o.stdout, &keep)).await
            }
            Err(e) => Err(e),
        };
        match parsed {
            Ok(jobs) => Ok(jobs),
            // a hung controller hangs the text form too, and a down one makes each squeue retry
            // for seconds: do not ask twice
            Err(e @ Error::Timeout(_)) => Err(e),
            Err(e @ Error::Unavailable { .. }) => Err(e),
            // no JSON support in this squeue: the text format
            Err(json_err) => {
                tracing::debug!("squeue --json: {json_err}; using the text format");
                Ok(self.text(run, None, keep).await?.0)
            }
        }
    }
}

/// Parses on a blocking thread: a queue of 100,000 jobs takes tens of milliseconds, during
/// which the command's deadline (and serve's scrapes) must still be heard.
async fn parse(stdout: String, text: queue::Text, keep: &Interest) -> Result<Vec<Job>> {
    let keep = keep.clone();
    off_thread("slurm", move || queue::parse_text(&stdout, text, &keep)).await
}

fn s(v: &str) -> String {
    v.to_string()
}

fn parse_submit(stdout: &str) -> Result<String> {
    // `--parsable` prints "id" or "id;cluster"
    let id = stdout.trim().split(';').next().unwrap_or("").trim();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::backend(
            "slurm",
            format!("unexpected sbatch output {:?}", stdout.trim()),
        ));
    }
    Ok(id.to_string())
}

#[async_trait]
impl Dialect for Slurm {
    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn directives(&self, spec: &JobSpec) -> Vec<String> {
        let mut d = vec![
            format!("#SBATCH --job-name={}", spec.job_name),
            format!("#SBATCH --comment={}", spec.marker),
            format!("#SBATCH --output={}", spec.output),
            "#SBATCH --ntasks=1".to_string(),
            format!("#SBATCH --cpus-per-task={}", spec.cores.max(1)),
        ];
        if let Some(m) = spec.memory {
            d.push(format!("#SBATCH --mem={}M", m.div_ceil(1 << 20)));
        }
        if let Some(t) = &spec.walltime {
            d.push(format!("#SBATCH --time={t}"));
        }
        if let Some(p) = &spec.queue {
            d.push(format!("#SBATCH --partition={p}"));
        }
        if let Some(a) = &spec.account {
            d.push(format!("#SBATCH --account={a}"));
        }
        if let Some(g) = spec.gpus {
            d.push(format!("#SBATCH --gres=gpu:{g}"));
        }
        d.extend(spec.extra.iter().map(|e| format!("#SBATCH {e}")));
        d
    }

    fn submission(&self, job: &Submission) -> SubmitCall {
        let mut v = vec![s("sbatch"), s("--parsable")];
        if let Some(n) = job.count {
            v.push(format!("--array=0-{}", n.saturating_sub(1)));
        }
        v.push(job.script.to_string_lossy().into_owned());
        SubmitCall::argv(v)
    }

    async fn list(&self, run: &Runner, keep: &Interest) -> Result<Vec<Job>> {
        match self.format {
            Format::Json => self.json(run, keep).await,
            // one cluster's jobs (`keep.named()`): squeue filters by name itself, and needs no
            // JSON for them
            Format::Text => Ok(self.text(run, keep.named(), keep).await?.0),
            Format::Auto if keep.named().is_some() => {
                Ok(self.text(run, keep.named(), keep).await?.0)
            }
            Format::Auto => {
                let (jobs, text) = self.text(run, None, keep).await?;
                // dask-gateway's jobs are told apart by their output path: an squeue whose text
                // format cannot show it (no -O StdOut) leaves JSON
                if text == queue::Text::Short
                    && jobs.iter().any(|j| j.name == "dask-gateway")
                    && let Ok(full) = self.json(run, keep).await
                {
                    return Ok(full);
                }
                Ok(jobs)
            }
        }
    }

    async fn log_path(
        &self,
        run: &Runner,
        job: &Job,
        _cluster_dir: Option<&str>,
    ) -> Option<String> {
        let o = run
            .run(&[s("scontrol"), s("show"), s("job"), job.id.clone()])
            .await
            .ok()?;
        queue::scontrol_field(&o.stdout, "StdOut").or_else(|| job.stdout.clone())
    }

    fn output_pattern(&self, logs: &Path, role: &str) -> String {
        // %j: the job's own id, unique per array task
        logs.join(format!("{role}-%j.out"))
            .to_string_lossy()
            .into_owned()
    }
}
