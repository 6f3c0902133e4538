//! Slurm: `sbatch` / `squeue` / `scancel` / `scontrol`. Only the dialect lives here; the verbs
//! are the shared job-queue machinery.

mod queue;

use super::Registration;
use super::jobqueue::dialect::SubmitCall;
use super::jobqueue::runner::Runner;
use super::jobqueue::{Dialect, Facts, Job, JobQueue, JobSpec, Submission};
use crate::error::{Error, Result};
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

/// Which `squeue` output to read (`backends.slurm.squeue_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Format {
    /// The text format (20-40 ms on Slurm 22.05, where `--json` takes 120-180 ms), and JSON
    /// only when a job needs what text cannot say (dask-gateway's jobs: their output path).
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

static FACTS: Facts = Facts::new(
    "slurm",
    "Slurm batch jobs (sbatch, squeue, scancel)",
    &["sbatch", "squeue", "scancel"],
    "${SLURM_JOB_ID}",
);

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
    async fn text(&self, run: &Runner, names: Option<&[String]>) -> Result<Vec<Job>> {
        let o = run.run(&queue::text_argv(names, run.everyone)).await?;
        queue::parse_text(&o.stdout)
    }

    async fn json(&self, run: &Runner) -> Result<Vec<Job>> {
        // without --me squeue shows every user's jobs (slurm.conf PrivateData may hide them)
        let argv = if run.everyone {
            vec![s("squeue"), s("--json")]
        } else {
            vec![s("squeue"), s("--me"), s("--json")]
        };
        let json = run.run(&argv).await;
        match json.and_then(|o| queue::parse_json(&o.stdout)) {
            Ok(jobs) => Ok(jobs),
            // a hung controller hangs the text form too, and a down one makes each squeue retry
            // for seconds: do not ask twice
            Err(e @ Error::Timeout(_)) => Err(e),
            Err(e @ Error::Unavailable { .. }) => Err(e),
            // no JSON support in this squeue: the text format
            Err(json_err) => {
                tracing::debug!("squeue --json: {json_err}; using the text format");
                self.text(run, None).await
            }
        }
    }
}

fn s(v: &str) -> String {
    v.to_string()
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

    fn parse_submit(&self, stdout: &str) -> Result<String> {
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

    async fn list(&self, run: &Runner) -> Result<Vec<Job>> {
        match self.format {
            Format::Json => self.json(run).await,
            Format::Text => self.text(run, None).await,
            Format::Auto => {
                let jobs = self.text(run, None).await?;
                // dask-gateway's jobs are told apart by their output path: only JSON has it
                if jobs.iter().any(|j| j.name == "dask-gateway")
                    && let Ok(full) = self.json(run).await
                {
                    return Ok(full);
                }
                Ok(jobs)
            }
        }
    }

    async fn list_named(&self, run: &Runner, names: &[String]) -> Option<Result<Vec<Job>>> {
        match self.format {
            Format::Json => None,
            _ => Some(self.text(run, Some(names)).await),
        }
    }

    fn cancel_argv(&self, ids: &[String]) -> Vec<String> {
        let mut v = vec![s("scancel")];
        v.extend(ids.iter().cloned());
        v
    }

    fn batch_script(&self, id: &str) -> Option<Vec<String>> {
        Some(vec![
            s("scontrol"),
            s("write"),
            s("batch_script"),
            id.to_string(),
            s("-"),
        ])
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
