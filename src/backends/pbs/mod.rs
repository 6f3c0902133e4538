//! PBS: OpenPBS / PBS Professional and Torque. `qsub` (arrays `-J` on PBS Pro/OpenPBS, `-t` on
//! Torque), `qdel`, state from `qstat -f -F json` where the server has it, else the `qstat -f`
//! text both families print. Only the dialect lives here.

mod queue;

use super::jobqueue::dialect::SubmitCall;
use super::jobqueue::runner::Runner;
use super::jobqueue::{Dialect, Facts, Interest, Job, JobQueue, JobSpec, Submission};
use super::{Availability, Registration};
use crate::error::{Error, Result};
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub enum Flavor {
    /// OpenPBS and PBS Professional: `-J` arrays, `select` resources.
    #[serde(rename = "pbspro", alias = "openpbs")]
    Pro,
    /// Torque: `-t` arrays, `nodes:ppn` resources.
    #[serde(rename = "torque")]
    Torque,
}

/// `[backends.pbs]` beyond the batch settings every batch backend reads.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// `pbspro` (OpenPBS, PBS Professional) or `torque`; default: `pbspro` where
    /// `/etc/pbs.conf` or `PBS_EXEC` exists.
    flavor: Option<Flavor>,
    /// false: one `qsub` per worker (for servers whose `qstat` hides subjobs).
    arrays: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            flavor: None,
            arrays: true,
        }
    }
}

static FACTS: Facts = Facts {
    // PBS copies -o files back only when the job ends
    output_at_end: true,
    // OpenPBS's qdel exits with the PBSE_ error code modulo 256 (openpbs src/cmds/qdel.c):
    // 15001 unknown job id -> 153, 15139 job finished (kept in history) -> 35
    cancel_gone: &[153, 35],
    // 15016 PBSE_BADSTATE, request invalid for the job's state (a subjob exiting) -> 168
    cancel_busy: &[168],
    // Slurm's qdel wrapper: exit status = jobs not killed, silent for those already done
    cancel_silent_gone: true,
    available,
    ..Facts::new(
        "pbs",
        "PBS Pro / OpenPBS / Torque batch jobs (qsub, qstat -f, qdel)",
        &["qsub", "qstat", "qdel"],
        // unique per subjob ("123[4].server"); Slurm's PBS wrappers set only SLURM_JOB_ID
        "${PBS_JOBID:-${SLURM_JOB_ID}}",
        parse_submit,
        "qdel",
    )
};

/// `backends.pbs.arrays = false`: one job per worker.
static FACTS_NO_ARRAYS: Facts = Facts {
    arrays: false,
    ..FACTS
};

pub struct Pbs {
    flavor: Flavor,
    arrays: bool,
    user: String,
    /// Remembers which `qstat` form this server understands (each failed probe costs a call).
    format_file: std::path::PathBuf,
}

inventory::submit! {
    Registration {
        name: "pbs",
        default_enabled: true,
        build: |ctx| {
            // checked by `check_settings` before any backend is built
            let (shared, own): (_, Settings) =
                crate::settings::load_parts(&ctx.config, "pbs").unwrap_or_default();
            let flavor = match own.flavor {
                Some(f) => f,
                None if Path::new("/etc/pbs.conf").exists() || std::env::var_os("PBS_EXEC").is_some() => Flavor::Pro,
                None => Flavor::Torque,
            };
            let format_file = ctx.config.cache_root().join("pbs-qstat-format");
            let dialect = Pbs { flavor, arrays: own.arrays, user: ctx.user.name.clone(), format_file };
            Arc::new(JobQueue::new(ctx, dialect, shared))
        },
        settings_keys: crate::settings::keys::<(super::jobqueue::config::Settings, Settings)>,
        create_flags: super::QUEUE_FLAGS,
        check_settings: |c| {
            crate::settings::load_parts::<(super::jobqueue::config::Settings, Settings)>(c, "pbs").map(drop)
        },
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

fn parse_submit(stdout: &str) -> Result<String> {
    // "123.server", "123[].server" for an array, a bare "123" from some wrappers
    let id = stdout.trim();
    if id.is_empty()
        || id.contains(char::is_whitespace)
        || !id.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(Error::backend(
            "pbs",
            format!("unexpected qsub output {id:?}"),
        ));
    }
    Ok(id.to_string())
}

fn available() -> Availability {
    // Grid Engine ships commands of the same names
    let sge_qsub = std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("qsub"))
                .find(|q| q.is_file())
        })
        .and_then(|q| std::fs::canonicalize(q).ok())
        .is_some_and(|q| q.to_string_lossy().contains("gridengine"));
    if std::env::var_os("SGE_ROOT").is_some() || sge_qsub {
        return Availability::Missing(
            "qsub here is Grid Engine's; set backends.pbs.bin_dir to PBS's commands".into(),
        );
    }
    Availability::Ready
}

#[async_trait]
impl Dialect for Pbs {
    fn facts(&self) -> &'static Facts {
        if self.arrays {
            &FACTS
        } else {
            &FACTS_NO_ARRAYS
        }
    }

    fn directives(&self, spec: &JobSpec) -> Vec<String> {
        let mut d = vec![
            format!("#PBS -N {}", spec.job_name),
            format!("#PBS -v DASKCTL={}", spec.marker),
            format!("#PBS -o {}", spec.output),
            "#PBS -j oe".to_string(),
        ];
        match self.flavor {
            Flavor::Pro => {
                let mut sel = format!("#PBS -l select=1:ncpus={}", spec.cores.max(1));
                if let Some(m) = spec.memory {
                    sel.push_str(&format!(":mem={}mb", m.div_ceil(1 << 20)));
                }
                if let Some(g) = spec.gpus {
                    sel.push_str(&format!(":ngpus={g}"));
                }
                d.push(sel);
            }
            Flavor::Torque => d.extend(super::jobqueue::script::torque_resources(spec)),
        }
        d.extend(super::jobqueue::script::pbs_limits(spec));
        d
    }

    fn submission(&self, job: &Submission) -> SubmitCall {
        let mut v = vec![s("qsub")];
        match (job.count, self.flavor) {
            (Some(n), Flavor::Pro) if n >= 2 => v.extend([s("-J"), format!("0-{}", n - 1)]),
            (Some(n), Flavor::Torque) => v.extend([s("-t"), format!("0-{}", n.saturating_sub(1))]),
            _ => {}
        }
        v.push(job.script.to_string_lossy().into_owned());
        SubmitCall::argv(v)
    }

    async fn list(&self, run: &Runner, keep: &Interest) -> Result<Vec<Job>> {
        // newest servers: JSON with subjobs; then the text format with subjobs; then plain
        let attempts: [(Vec<String>, bool); 3] = [
            (vec![s("qstat"), s("-f"), s("-F"), s("json"), s("-t")], true),
            (vec![s("qstat"), s("-f"), s("-t")], false),
            (vec![s("qstat"), s("-f")], false),
        ];
        let known: usize = std::fs::read_to_string(&self.format_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        let order: Vec<usize> = std::iter::once(known.min(2))
            .chain((0..3).filter(|i| *i != known.min(2)))
            .collect();
        let mut last = None;
        for i in order {
            let (argv, json) = &attempts[i];
            // 153 ("unknown job id"): what Slurm's wrapper says for an empty queue
            let parsed = match run.accepting(&[153]).run(argv).await {
                Ok(o) => {
                    let (keep, json) = (keep.clone(), *json);
                    super::jobqueue::dialect::off_thread("pbs", move || {
                        if json {
                            queue::parse_json(&o.stdout, &keep)
                        } else {
                            Ok(queue::parse_text(&o.stdout, &keep))
                        }
                    })
                    .await
                }
                Err(e) => Err(e),
            };
            match parsed {
                Ok(jobs) => {
                    if i != known {
                        let _ = std::fs::create_dir_all(
                            self.format_file.parent().expect("in the cache dir"),
                        );
                        let _ = std::fs::write(&self.format_file, i.to_string());
                    }
                    return Ok(jobs
                        .into_iter()
                        // qstat shows every user's jobs: the caller's only, unless asked
                        .filter(|j| run.everyone || j.user.is_empty() || j.user == self.user)
                        .collect());
                }
                Err(e @ Error::Timeout(_)) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    async fn log_path(
        &self,
        _run: &Runner,
        job: &Job,
        cluster_dir: Option<&str>,
    ) -> Option<String> {
        // the job writes its own log (see `preamble`)
        super::jobqueue::logs::own_log_path(job, cluster_dir)
    }

    fn output_pattern(&self, logs: &Path, role: &str) -> String {
        // PBS copies -o files back only when the job ends; the live log is written by the job
        logs.join(format!("{role}.pbs-output"))
            .to_string_lossy()
            .into_owned()
    }

    fn preamble(&self, logs: &Path, role: &str) -> Vec<String> {
        super::jobqueue::logs::own_log_preamble(logs, role, FACTS.job_id_expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pbs(flavor: Flavor) -> Pbs {
        Pbs {
            flavor,
            arrays: true,
            user: "ann".into(),
            format_file: "/nonexistent".into(),
        }
    }

    fn runner(bin_dir: &Path) -> Runner {
        Runner {
            backend: "pbs",
            timeout: std::time::Duration::from_secs(30),
            bin_dir: Some(bin_dir.to_path_buf()),
            accept: Vec::new(),
            cwd: None,
            everyone: false,
            hold: None,
        }
    }

    /// A qdel that fails without a word (Slurm's wrapper, for jobs already done or unknown:
    /// contribs/torque/qdel.pl counts them in its exit status and prints nothing) has nothing
    /// left to cancel; one that says why it failed is an error with its words. With the Slurm
    /// bed up (DASKCTL_TEST_PBS), the real wrapper is asked about a job that has finished.
    #[tokio::test]
    async fn a_silent_failing_qdel_means_gone_and_a_said_failure_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let qdel = dir.path().join("qdel");
        let write = |body: &str| {
            std::fs::write(&qdel, format!("#!/bin/sh\n{body}\n")).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&qdel, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        let ids = ["5".to_string(), "6".to_string()];
        write("exit 2");
        crate::backends::jobqueue::dialect::cancel(&pbs(Flavor::Torque), &runner(dir.path()), &ids)
            .await
            .unwrap();
        write("echo 'qdel: Kill job error on job id 5: Access/permission denied'; exit 1");
        let e = crate::backends::jobqueue::dialect::cancel(
            &pbs(Flavor::Torque),
            &runner(dir.path()),
            &ids,
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains("Access/permission denied"), "{e}");
        let wrappers = Path::new("/opt/slurm-torque/usr/bin");
        if std::env::var_os("DASKCTL_TEST_PBS").is_none() || !wrappers.join("qdel").exists() {
            return;
        }
        let out = std::process::Command::new("sbatch")
            .args(["--parsable", "--wrap", "true"])
            .output()
            .unwrap();
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(out.status.success() && !id.is_empty(), "{out:?}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::process::Command::new("squeue")
            .args(["-h", "-j", &id, "-o", "%i"])
            .output()
            .is_ok_and(|o| !String::from_utf8_lossy(&o.stdout).trim().is_empty())
        {
            assert!(
                std::time::Instant::now() < deadline,
                "job {id} did not finish"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let direct = std::process::Command::new(wrappers.join("qdel"))
            .arg(&id)
            .output()
            .unwrap();
        assert_eq!(direct.status.code(), Some(1), "{direct:?}");
        crate::backends::jobqueue::dialect::cancel(&pbs(Flavor::Torque), &runner(wrappers), &[id])
            .await
            .unwrap();
    }

    /// Arrays: `-J` on OpenPBS/PBS Pro (a one-task array is a plain job there), `-t` on Torque;
    /// ids as each prints them, ordered by job then subjob number.
    #[test]
    fn arrays_and_ids_of_both_families() {
        let argv = |flavor, count| {
            pbs(flavor)
                .submission(&Submission {
                    script: Path::new("/d/worker.sh"),
                    text: "",
                    count,
                })
                .argv
        };
        assert_eq!(argv(Flavor::Pro, Some(10))[1..3], ["-J", "0-9"]);
        assert_eq!(argv(Flavor::Pro, Some(1)).len(), 2);
        assert_eq!(argv(Flavor::Torque, Some(10))[1..3], ["-t", "0-9"]);
        for id in ["123.pbs01", "123[].pbs01", "5"] {
            assert_eq!(parse_submit(&format!("{id}\n")).unwrap(), id);
        }
        assert!(parse_submit("qsub: Unknown queue").is_err());
        let mut ids = vec!["123[10].pbs01", "123[2].pbs01", "99.pbs01", "123[].pbs01"];
        ids.sort_by_key(|i| crate::backends::jobqueue::jobid::JobKey::parse(i));
        assert_eq!(
            ids,
            ["99.pbs01", "123[].pbs01", "123[2].pbs01", "123[10].pbs01"]
        );
        assert_eq!(pbs(Flavor::Pro).facts().cancel_gone, [153, 35]);
        assert_eq!(pbs(Flavor::Pro).facts().cancel_busy, [168]);
        let mut no_arrays = pbs(Flavor::Pro);
        no_arrays.arrays = false;
        assert!(!no_arrays.facts().arrays && pbs(Flavor::Pro).facts().arrays);
    }
}
