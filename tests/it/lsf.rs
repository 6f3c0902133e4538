//! The LSF backend through the stand-in commands of support/lsf (see the module comment there:
//! IBM's documented formats, jobs run as real local processes). The backend code is the same
//! that runs against real LSF.

use crate::conformance::BatchBed;
use crate::support::{self, Env, wait_until};
use std::time::Duration;

fn queued(env: &Env) -> Vec<String> {
    // the text form, which every LSF release prints (the 9.1 one has no -json)
    let o = env.lsf_cmd(&["bjobs", "-o", "jobid jobindex", "-noheader"]);
    assert!(o.status.success(), "bjobs: {o:?}");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let (id, index) = l.trim().split_once(' ')?;
            Some(format!("{id}[{}]", index.trim()))
        })
        .collect()
}

pub const LSF_BED: BatchBed = BatchBed {
    backend: "lsf",
    env: Env::lsf,
    available: || true,
    queued,
    hold: &["--job-extra=-H"],
    cancel: |env, id| {
        env.lsf_cmd(&["bkill", id]);
    },
    says_start: true,
};

crate::conformance!(conformance_lsf, super::LSF_BED);
crate::batch_conformance!(batch_conformance_lsf, super::LSF_BED);

/// A real dask-jobqueue LSFCluster (`bsub < script` through the stand-in, as its `use_stdin`
/// default does): its `dask-worker` jobs are found with the scheduler address from the script
/// `bjobs -script` gives back, orphaned when its Python process dies, cleaned up.
#[test]
fn dask_jobqueue_lsf_cluster() {
    let env = Env::lsf();
    let (py, addr) = support::jobqueue_cluster(&env, "LSFCluster", "walltime='00:10'");
    let name = format!("jobqueue-{}", addr.rsplit(':').next().unwrap());
    wait_until("LSFCluster with 2 workers", Duration::from_secs(90), || {
        env.find(&name).is_some_and(|c| c["workers"] == 2)
    });
    let c = env.describe(&format!("lsf/{name}"));
    assert_eq!(c["origin"], "dask-jobqueue");
    assert_eq!(c["status"], "running");
    assert_eq!(c["resources"].as_array().unwrap().len(), 2, "{c}");
    crate::support::scale_down_orphan_cleanup(&env, &format!("lsf/{name}"), py);
    wait_until("no job left", Duration::from_secs(30), || {
        queued(&env).is_empty()
    });
}

/// bsub refusing the submission (a queue that does not exist): one line with its words, and
/// nothing left behind.
#[test]
fn refused_submission_leaves_nothing_behind() {
    let env = Env::lsf();
    let o = env
        .run(&[
            "create",
            "lsf",
            "--name",
            "badq",
            "--workers",
            "1",
            "--partition",
            "nosuchqueue",
        ])
        .code(1);
    let line = o.one_line_error();
    assert!(line.contains("No such queue"), "{line}");
    assert!(queued(&env).is_empty(), "{:?}", queued(&env));
    assert!(!env.shared().join("badq").exists());
}

/// `create --dry-run` shows the script going to bsub's standard input, as LSF needs it for its
/// `#BSUB` lines, and the array on the command line.
#[test]
fn dry_run_shows_bsub_reading_the_script() {
    let env = Env::lsf();
    let o = env
        .run(&[
            "create",
            "lsf",
            "--name",
            "plan",
            "--workers",
            "3",
            "--dry-run",
        ])
        .ok();
    assert!(
        o.stdout.contains("#BSUB -Jd \"daskctl:v1;cluster=plan;"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("$ bsub -J 'plan-worker[1-3]' < "),
        "{}",
        o.stdout
    );
    assert!(queued(&env).is_empty());
}

/// An LSF without `bjobs -json` (before 10.1 Fix Pack 2): the same fields are read from
/// `-noheader` lines, and the cluster is listed, described and deleted as on a newer one.
#[test]
fn an_lsf_without_json_is_read_from_text() {
    let env = Env::lsf().with("LSF_STANDIN_VERSION", "9.1");
    env.run(&["create", "lsf", "--name", "old", "--workers", "1"])
        .ok();
    let c = env.describe("lsf/old");
    assert_eq!(
        (c["status"].as_str(), c["workers"].as_u64()),
        (Some("running"), Some(1)),
        "{c}"
    );
    assert!(
        c["resources"][0]["id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{c}"
    );
    env.run(&["delete", "lsf/old", "--yes"]).ok();
    wait_until("no job left", Duration::from_secs(30), || {
        queued(&env).is_empty()
    });
}
