//! The PBS backend through Slurm's PBS command wrappers (Debian's slurm-wlm-torque) over the
//! real Slurm test bed. The formats those wrappers do not produce (PBS Pro's `-F json`,
//! Variable_List, subjobs) are covered by the fixtures in src/backends/pbs/queue.rs.

use crate::conformance::BatchBed;
use crate::support::{Env, pbs_up, slurm_jobs};

/// PBS jobs here are Slurm jobs underneath.
pub const PBS_BED: BatchBed = BatchBed {
    backend: "pbs",
    env: Env::pbs,
    available: pbs_up,
    queued: |_| slurm_jobs(""),
    hold: &["--partition", "hold"],
    cancel: |_, id| {
        std::process::Command::new(std::path::Path::new(crate::support::PBS_BIN).join("qdel"))
            .arg(id)
            .status()
            .unwrap();
    },
    says_start: false,
};

crate::conformance!(conformance_pbs, super::PBS_BED);

/// PBS Professional's code path end to end, through the OpenPBS-shaped shim over Slurm.
pub const PBSPRO_BED: BatchBed = BatchBed {
    backend: "pbs",
    env: Env::pbspro,
    available: crate::support::slurm_up,
    queued: |_| slurm_jobs(""),
    hold: &["--partition", "hold"],
    cancel: |env, id| {
        env.pbs_shim(&["qdel", id]);
    },
    says_start: true,
};

crate::conformance!(conformance_pbspro, super::PBSPRO_BED);
crate::batch_conformance!(batch_conformance_pbspro, super::PBSPRO_BED);
crate::batch_conformance!(batch_conformance_pbs, super::PBS_BED);

/// qsub refusing (an unknown queue) is a clear error, and nothing is left behind.
#[test]
fn refused_submission_leaves_nothing_behind() {
    if !pbs_up() {
        return;
    }
    let env = Env::pbs();
    let o = env
        .run(&[
            "create",
            "pbs",
            "--name",
            "badq",
            "--workers",
            "1",
            "--partition",
            "nosuchq",
        ])
        .code(1);
    let line = o.one_line_error();
    assert!(line.contains("qsub"), "{line}");
    assert!(slurm_jobs("badq").is_empty(), "{:?}", slurm_jobs("badq"));
    assert!(!env.shared().join("badq").exists());
}

/// A real dask-jobqueue PBSCluster through the wrappers. PBS gives scripts back only to sites
/// that say how (`script_command`); on this bed the jobs are Slurm jobs underneath, so
/// `scontrol write batch_script {id} -` prints them.
#[test]
fn dask_jobqueue_pbs_cluster() {
    if !pbs_up() {
        return;
    }
    let env = Env::pbs().with(
        "DASKCTL_BACKENDS__PBS__SCRIPT_COMMAND",
        "scontrol write batch_script {id} -",
    );
    let path = format!(
        "{}:{}",
        crate::support::PBS_BIN,
        std::env::var("PATH").unwrap_or_default()
    );
    let env = env.with("PATH", &path);
    let (py, addr) =
        crate::support::jobqueue_cluster(&env, "PBSCluster", "processes=1, walltime='00:10:00'");
    let name = format!("jobqueue-{}", addr.rsplit(':').next().unwrap());
    crate::support::wait_until(
        "PBSCluster with 2 workers",
        std::time::Duration::from_secs(90),
        || {
            env.find(&name)
                .is_some_and(|c| c["workers"] == 2 && c["backend"] == "pbs")
        },
    );
    assert_eq!(
        env.describe(&format!("pbs/{name}"))["origin"],
        "dask-jobqueue"
    );
    crate::support::scale_down_orphan_cleanup(&env, &format!("pbs/{name}"), py);
    assert!(
        slurm_jobs("dask-worker").is_empty(),
        "{:?}",
        slurm_jobs("dask-worker")
    );
}

/// PBSCluster workers queued (never started) whose Python process died: orphans.
#[test]
fn dask_jobqueue_queued_workers_of_a_dead_scheduler_are_orphans() {
    if !pbs_up() {
        return;
    }
    let path = format!(
        "{}:{}",
        crate::support::PBS_BIN,
        std::env::var("PATH").unwrap_or_default()
    );
    let env = Env::pbs()
        .with(
            "DASKCTL_BACKENDS__PBS__SCRIPT_COMMAND",
            "scontrol write batch_script {id} -",
        )
        .with("PATH", &path);
    crate::support::jobqueue_held_orphans(&env, "pbs", "PBSCluster", "processes=1, queue='hold'");
}

/// Slurm's qsub wrapper writes SCRIPT.oJOBID/.eJOBID files into the submitting directory:
/// daskctl submits from the cluster's own directory, so nothing lands where it was run.
#[test]
fn submissions_leave_nothing_in_the_working_directory() {
    if !pbs_up() {
        return;
    }
    let env = Env::pbs();
    env.run(&["create", "pbs", "--name", "cwd", "--workers", "1"])
        .ok();
    env.run(&["scale", "cwd", "2", "--wait", "--timeout", "90"])
        .ok();
    env.run(&["delete", "cwd", "--yes"]).ok();
    let stray: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".o") || n.contains(".e"))
        .collect();
    assert!(
        stray.is_empty(),
        "written to the working directory: {stray:?}"
    );
}

/// OpenPBS's qdel exit codes: 35 (job finished, in history) and 153 (unknown job) mean gone,
/// not failure; the shim answers them as qdel.c does.
#[test]
fn qdel_exit_codes_of_gone_jobs_are_not_failures() {
    if !crate::support::slurm_up() {
        return;
    }
    let env = Env::pbspro();
    env.run(&["create", "pbs", "--name", "gonejob", "--workers", "2"])
        .ok();
    let c = env.describe("gonejob");
    let worker = c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "worker")
        .and_then(|r| r["id"].as_str())
        .unwrap()
        .to_string();
    assert!(worker.contains('[') && worker.ends_with(".pbs"), "{worker}");
    // the worker job ends behind daskctl's back: its qdel then answers 168 while it exits,
    // 35 once it finished
    let o = env.pbs_shim(&["qdel", &worker]);
    assert!(o.status.success());
    crate::support::wait_until(
        "the job finished",
        std::time::Duration::from_secs(60),
        || env.pbs_shim(&["qdel", &worker]).status.code() == Some(35),
    );
    env.run(&["scale", "gonejob", "0"]).ok();
    env.run(&["delete", "gonejob", "--yes"]).ok();
    assert!(slurm_jobs("gonejob").is_empty());
}
