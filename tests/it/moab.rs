//! The Moab backend through the stand-in commands of support/moab (see the module comment
//! there: Adaptive Computing's documented commands, showq's XML as Moab's source writes it, jobs
//! run as real local processes with Torque's stage-out at the end). The backend code is the
//! same that runs against a real Moab.

use crate::conformance::BatchBed;
use crate::support::{self, Env, wait_until};
use std::time::Duration;

fn queued(env: &Env) -> Vec<String> {
    let o = env.condor(&["showq", "--xml"]);
    assert!(o.status.success(), "showq: {o:?}");
    String::from_utf8_lossy(&o.stdout)
        .split("JobID=\"")
        .skip(1)
        .filter_map(|r| r.split('"').next().map(str::to_string))
        .collect()
}

pub const MOAB_BED: BatchBed = BatchBed {
    backend: "moab",
    env: Env::moab,
    available: || true,
    queued,
    // msub -h: a user hold, the job stays blocked
    hold: &["--job-extra=-h"],
    cancel: |env, id| {
        env.condor(&["canceljob", id]);
    },
    says_start: true,
};

crate::conformance!(conformance_moab, super::MOAB_BED);
crate::batch_conformance!(batch_conformance_moab, super::MOAB_BED);

/// A real dask-jobqueue MoabCluster (msub and canceljob through the stand-in): its
/// `dask-worker` jobs are found with the scheduler address from the script the site's helper
/// gives back (`backends.moab.script_command`), orphaned when its Python process dies, cleaned
/// up.
#[test]
fn dask_jobqueue_moab_cluster() {
    let env = Env::moab().with("DASKCTL_BACKENDS__MOAB__SCRIPT_COMMAND", "jobscript {id}");
    let (py, addr) = support::jobqueue_cluster(&env, "MoabCluster", "walltime='00:10:00'");
    let name = format!("jobqueue-{}", addr.rsplit(':').next().unwrap());
    wait_until(
        "MoabCluster with 2 workers",
        Duration::from_secs(90),
        || env.find(&name).is_some_and(|c| c["workers"] == 2),
    );
    let c = env.describe(&format!("moab/{name}"));
    assert_eq!(c["origin"], "dask-jobqueue");
    assert_eq!(c["status"], "running");
    assert_eq!(c["resources"].as_array().unwrap().len(), 2, "{c}");
    crate::support::scale_down_orphan_cleanup(&env, &format!("moab/{name}"), py);
    wait_until("no job left", Duration::from_secs(30), || {
        queued(&env).is_empty()
    });
}

/// msub refusing the submission (a class that does not exist): one line with its words, and
/// nothing left behind.
#[test]
fn refused_submission_leaves_nothing_behind() {
    let env = Env::moab();
    let o = env
        .run(&[
            "create",
            "moab",
            "--name",
            "badq",
            "--workers",
            "1",
            "--partition",
            "nosuchclass",
        ])
        .code(1);
    let line = o.one_line_error();
    assert!(line.contains("cannot locate class"), "{line}");
    assert!(queued(&env).is_empty(), "{:?}", queued(&env));
    assert!(!env.shared().join("badq").exists());
}
