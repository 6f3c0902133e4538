//! The Grid Engine backend against the real Son of Grid Engine of scripts/testbeds/sge.sh.

use crate::conformance::BatchBed;
use crate::support::{Env, sge_jobs, sge_up};

pub const SGE_BED: BatchBed = BatchBed {
    backend: "sge",
    env: Env::sge,
    available: sge_up,
    queued: |_| sge_jobs(""),
    hold: &["--job-extra=-h"],
    cancel: |_, id| {
        std::process::Command::new("qdel")
            .arg(id)
            .env("SGE_ROOT", crate::support::SGE_ROOT)
            .env("SGE_CELL", "default")
            .status()
            .unwrap();
    },
    says_start: true,
};

crate::conformance!(conformance_sge, super::SGE_BED);
crate::batch_conformance!(batch_conformance_sge, super::SGE_BED);

/// qsub refusing (an unknown queue) is a clear error, and nothing is left behind.
#[test]
fn refused_submission_leaves_nothing_behind() {
    if !sge_up() {
        return;
    }
    let env = Env::sge();
    let o = env
        .run(&[
            "create",
            "sge",
            "--name",
            "badq",
            "--workers",
            "1",
            "--partition",
            "nosuch.q",
        ])
        .code(1);
    let line = o.one_line_error();
    assert!(line.contains("qsub") && line.contains("nosuch.q"), "{line}");
    assert!(sge_jobs("badq").is_empty(), "{:?}", sge_jobs("badq"));
    assert!(!env.shared().join("badq").exists());
}

/// A real dask-jobqueue SGECluster: Grid Engine does not give scripts back, so its workers are
/// tied to their scheduler through their own logs (the default NAME.oJOB file in the submit
/// directory); orphaned when the Python process dies, cleaned up.
#[test]
fn dask_jobqueue_sge_cluster() {
    if !sge_up() {
        return;
    }
    let env = Env::sge();
    let (py, addr) = crate::support::jobqueue_cluster(
        &env,
        "SGECluster",
        "processes=1, walltime='00:10:00', job_extra_directives=['-cwd']",
    );
    let name = format!("jobqueue-{}", addr.rsplit(':').next().unwrap());
    crate::support::wait_until(
        "SGECluster with 2 workers",
        std::time::Duration::from_secs(90),
        || {
            env.find(&name)
                .is_some_and(|c| c["workers"] == 2 && c["resources"].as_array().unwrap().len() == 2)
        },
    );
    let c = env.describe(&format!("sge/{name}"));
    assert_eq!(c["origin"], "dask-jobqueue");
    crate::support::scale_down_orphan_cleanup(&env, &format!("sge/{name}"), py);
    assert!(
        sge_jobs("dask-worker").is_empty(),
        "{:?}",
        sge_jobs("dask-worker")
    );
}
