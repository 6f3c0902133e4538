//! Moab Workload Manager (Adaptive Computing), usually in front of Torque: `msub SCRIPT` (Moab
//! reads the PBS directives Torque jobs carry, `#PBS`), state from `showq --xml`, `canceljob`.
//! Only the dialect lives here; the verbs are the shared job-queue machinery.
//!
//! Followed: Adaptive Computing's Moab Workload Manager reference (msub: "Upon successful
//! submission, msub prints the job ID"; showq `--xml`, `-w user=`; canceljob JOBID...; the job
//! environment, MOAB_JOBID and, under Torque, PBS_JOBID) and, for what `showq --xml` prints,
//! Moab's own source (MUIQueueShow.c, MJobXML.c `MJobBaseToXML`); dask-jobqueue's MoabJob
//! (msub, canceljob, PBS directives).
//!
//! showq shows no job variables, so daskctl's jobs are known by their names with the
//! cluster's scripts in the shared directory (as on Slurm's PBS wrappers); no `DASKCTL`
//! variable is set, so the PBS backend, reading the same jobs through Torque's qstat, does not
//! list them a second time. Workers are one job
//! each (Moab's arrays are left out: their element ids and `showq` rows differ across
//! releases). Torque copies output back only when a job ends: jobs write their own logs.

mod queue;

use super::Registration;
use super::jobqueue::dialect::{SubmitCall, off_thread};
use super::jobqueue::runner::Runner;
use super::jobqueue::{Dialect, Facts, Interest, Job, JobQueue, JobSpec, Submission};
use crate::error::{Error, Result};
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

pub struct Moab {
    user: String,
}

inventory::submit! {
    Registration {
        name: "moab",
        default_enabled: true,
        build: |ctx| {
            // checked by `check_settings` before any backend is built
            let (shared,): (super::jobqueue::config::Settings,) =
                crate::settings::load_parts(&ctx.config, "moab").unwrap_or_default();
            let dialect = Moab { user: ctx.user.name.clone() };
            Arc::new(JobQueue::new(ctx, dialect, shared))
        },
        settings_keys: crate::settings::keys::<(super::jobqueue::config::Settings,)>,
        create_flags: super::QUEUE_FLAGS,
        check_settings: |c| {
            crate::settings::load_parts::<(super::jobqueue::config::Settings,)>(c, "moab").map(drop)
        },
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

static FACTS: Facts = Facts {
    arrays: false,
    // Torque copies -o files back only when the job ends
    output_at_end: true,
    ..Facts::new(
        "moab",
        "Moab Workload Manager batch jobs (msub, showq --xml, canceljob)",
        &["msub", "showq", "canceljob"],
        // Moab's id of the job (what showq and canceljob take); Torque's where Moab's is unset
        "${MOAB_JOBID:-${PBS_JOBID}}",
        parse_submit,
        "canceljob",
    )
};

/// msub prints the job id (`Moab.123`, or `123` where the Moab server names jobs by number),
/// after an empty line on some releases.
fn parse_submit(stdout: &str) -> Result<String> {
    let id = stdout
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .filter(|id| {
            !id.contains(char::is_whitespace)
                && id.chars().any(|c| c.is_ascii_digit())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        });
    id.map(str::to_string).ok_or_else(|| {
        Error::backend(
            "moab",
            format!("unexpected msub output {:?}", stdout.trim()),
        )
    })
}

#[async_trait]
impl Dialect for Moab {
    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn directives(&self, spec: &JobSpec) -> Vec<String> {
        let mut d = vec![
            format!("#PBS -N {}", spec.job_name),
            format!("#PBS -o {}", spec.output),
            "#PBS -j oe".to_string(),
        ];
        // Moab hands the job to Torque, which reads them as it reads PBS's
        d.extend(super::jobqueue::script::torque_resources(spec));
        d.extend(super::jobqueue::script::pbs_limits(spec));
        // for a person reading the script (showq shows no variables to carry it)
        d.push(format!("# {}", spec.marker));
        d
    }

    fn preamble(&self, logs: &Path, role: &str) -> Vec<String> {
        super::jobqueue::logs::own_log_preamble(logs, role, FACTS.job_id_expr)
    }

    fn output_pattern(&self, logs: &Path, role: &str) -> String {
        // copied back when the job ends; the live log is the one the job writes (`preamble`)
        logs.join(format!("{role}.moab-output"))
            .to_string_lossy()
            .into_owned()
    }

    fn submission(&self, job: &Submission) -> SubmitCall {
        SubmitCall::argv(vec![s("msub"), job.script.to_string_lossy().into_owned()])
    }

    async fn list(&self, run: &Runner, keep: &Interest) -> Result<Vec<Job>> {
        let mut argv = vec![s("showq"), s("--xml")];
        if !run.everyone {
            // showq's constraint on the job's user (MUIQueueShow: `-w user=NAME`)
            argv.extend([s("-w"), format!("user={}", self.user)]);
        }
        let o = run.run(&argv).await?;
        let keep = keep.clone();
        let jobs = off_thread("moab", move || queue::parse(&o.stdout, &keep)).await?;
        Ok(jobs
            .into_iter()
            .filter(|j| run.everyone || j.user.is_empty() || j.user == self.user)
            .collect())
    }

    async fn log_path(
        &self,
        _run: &Runner,
        job: &Job,
        cluster_dir: Option<&str>,
    ) -> Option<String> {
        super::jobqueue::logs::own_log_path(job, cluster_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// canceljob on a job that left the queue in the meantime: "invalid job specified", exit
    /// 1. The queue, asked then, decides: none of the ids there is done; one still there keeps
    /// the error with canceljob's words.
    #[tokio::test]
    async fn a_failed_cancel_is_judged_by_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let tool = |name: &str, body: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        tool(
            "canceljob",
            "echo 'ERROR:    invalid job specified (Moab.12)'; exit 1",
        );
        let run = Runner {
            backend: "moab",
            timeout: std::time::Duration::from_secs(30),
            bin_dir: Some(dir.path().to_path_buf()),
            accept: Vec::new(),
            cwd: None,
            everyone: false,
            hold: None,
        };
        let moab = Moab { user: "ann".into() };
        let ids = ["Moab.12".to_string()];
        let cancel = || super::super::jobqueue::dialect::cancel(&moab, &run, &ids);
        tool("showq", "echo '<Data><Object>queue</Object></Data>'");
        cancel().await.unwrap();
        tool(
            "showq",
            r#"echo '<Data><queue option="active"><job JobID="Moab.12" JobName="etl-worker" State="Running" User="ann"></job></queue></Data>'"#,
        );
        let e = cancel().await.unwrap_err().to_string();
        assert!(e.contains("invalid job specified"), "{e}");
        // a queue that cannot be read is no proof either
        tool(
            "showq",
            "echo 'ERROR:    cannot connect to Moab server'; exit 1",
        );
        assert!(cancel().await.is_err());
    }

    #[test]
    fn submit_output_and_directives() {
        assert_eq!(parse_submit("\nMoab.4711\n").unwrap(), "Moab.4711");
        assert_eq!(parse_submit("4711\n").unwrap(), "4711");
        assert!(parse_submit("ERROR:    cannot submit job - invalid QOS").is_err());
        assert!(parse_submit("").is_err());
        let spec = JobSpec {
            job_name: "etl-worker".into(),
            marker: "daskctl:v1;cluster=etl;role=worker;dir=/d".into(),
            output: "/d/logs/worker.moab-output".into(),
            cores: 2,
            memory: Some(3 << 30),
            walltime: Some("02:00:00".into()),
            queue: Some("batch".into()),
            ..Default::default()
        };
        let d = Moab { user: "ann".into() }.directives(&spec).join("\n");
        for line in [
            "#PBS -N etl-worker",
            "#PBS -l nodes=1:ppn=2",
            "#PBS -l mem=3072mb",
            "#PBS -l walltime=02:00:00",
            "#PBS -q batch",
        ] {
            assert!(d.contains(line), "{line} in {d}");
        }
        let call = Moab { user: "ann".into() }.submission(&Submission {
            script: Path::new("/d/worker.sh"),
            text: "",
            count: None,
        });
        assert_eq!(call.argv, ["msub", "/d/worker.sh"]);
        assert!(!FACTS.arrays && FACTS.output_at_end);
    }
}
