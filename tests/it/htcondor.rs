//! The HTCondor backend through the stand-in commands of support/htcondor (see the module
//! comment there: the HTCondor manual's formats, jobs run as real local processes). The backend
//! code is the same that runs against real HTCondor.

use crate::conformance::BatchBed;
use crate::support::{self, Env, wait_until};
use std::time::Duration;

fn queued(env: &Env) -> Vec<String> {
    let o = env.condor(&["condor_q", "-json"]);
    let ads: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap_or_default();
    ads.iter()
        .map(|a| format!("{}.{}", a["ClusterId"], a["ProcId"]))
        .collect()
}

pub const HTCONDOR_BED: BatchBed = BatchBed {
    backend: "htcondor",
    env: Env::htcondor,
    available: || true,
    queued,
    hold: &["--job-extra=hold=true"],
    cancel: |env, id| {
        env.condor(&["condor_rm", id]);
    },
    says_start: true,
};

crate::conformance!(conformance_htcondor, super::HTCONDOR_BED);
crate::batch_conformance!(batch_conformance_htcondor, super::HTCONDOR_BED);

/// A real dask-jobqueue HTCondorCluster (its condor_submit/condor_rm are the stand-in's):
/// found by DaskWorkerName with the scheduler address from the job's Arguments, orphaned when
/// its Python process dies, cleaned up.
#[test]
fn dask_jobqueue_htcondor_cluster() {
    let env = Env::htcondor();
    let (py, addr) = support::jobqueue_cluster(&env, "HTCondorCluster", "disk='1GB'");
    let name = format!("jobqueue-{}", addr.rsplit(':').next().unwrap());
    wait_until(
        "HTCondorCluster with 2 workers",
        Duration::from_secs(90),
        || env.find(&name).is_some_and(|c| c["workers"] == 2),
    );
    let c = env.describe(&format!("htcondor/{name}"));
    assert_eq!(c["origin"], "dask-jobqueue");
    assert_eq!(c["status"], "running");
    assert_eq!(c["resources"].as_array().unwrap().len(), 2);
    // scaling down retires the worker named in the job ad, then removes exactly that job
    crate::support::scale_down_orphan_cleanup(&env, &format!("htcondor/{name}"), py);
    assert!(queued(&env).is_empty(), "{:?}", queued(&env));
}

/// Workers submitted the way htcdaskgateway clients do (batch name htcdask-worker..., the
/// gateway's scheduler address in the arguments), held so nothing runs: one dask-gateway cluster.
#[test]
fn htcdask_gateway_workers_are_one_cluster() {
    let env = Env::htcondor();
    let sub = env.dir.path().join("g.sub");
    std::fs::write(
        &sub,
        "executable = /bin/sh\narguments = \"-c 'dask worker tls://gateway.example:8786 --name htcdask-worker-$(Cluster).$(Process)'\"\nbatch_name = htcdask-worker-alice\nhold = true\nqueue 2\n",
    )
    .unwrap();
    let o = env.condor(&["condor_submit", sub.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c = env
        .find("gateway-8786")
        .unwrap_or_else(|| panic!("not listed: {:?}", env.list()));
    assert_eq!(c["origin"], "dask-gateway");
    assert_eq!(c["requested_workers"], 2);
    env.run(&["delete", "gateway-8786", "--yes"]).ok();
    assert!(queued(&env).is_empty());
}

/// condor_submit refusing the description: a clear error, nothing left.
#[test]
fn refused_submission_leaves_nothing_behind() {
    let env = Env::htcondor();
    let o = env
        .run(&[
            "create",
            "htcondor",
            "--name",
            "bad",
            "--workers",
            "1",
            "--job-extra=nonsense",
        ])
        .code(1);
    assert!(o.one_line_error().contains("condor_submit"), "{}", o.stderr);
    assert!(queued(&env).is_empty(), "{:?}", queued(&env));
    assert!(!env.shared().join("bad").exists());
}

/// A worker job that ends by itself (here: its process is killed) leaves the queue for
/// condor_history; the cluster shows it and is degraded, and delete still works.
#[test]
fn ended_worker_job_degrades_the_cluster() {
    let env = Env::htcondor();
    env.run(&["create", "htcondor", "--name", "ends", "--workers", "2"])
        .ok();
    let c = env.describe("ends");
    let worker = c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "worker")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // the stand-in keeps each job's process id in its state
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.dir.path().join("condor/jobs.json")).unwrap(),
    )
    .unwrap();
    let pid = state["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| format!("{}.{}", a["ClusterId"], a["ProcId"]) == worker)
        .unwrap()["_pid"]
        .as_i64()
        .unwrap();
    support::kill_group(pid as i32);
    wait_until(
        "the ended job to leave the queue",
        Duration::from_secs(30),
        || !queued(&env).contains(&worker),
    );
    let c = env.describe("ends");
    assert_eq!(c["status"], "degraded", "{c}");
    assert_eq!(c["reason"], "1 worker job(s) ended");
    let ended = c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == worker.as_str())
        .cloned()
        .expect("ended job still shown");
    assert_eq!(ended["state"], "Completed");
    assert_eq!(c["requested_workers"], 1);
    env.run(&["delete", "ends", "--yes"]).ok();
    assert!(queued(&env).is_empty());
    env.run(&["describe", "ends"]).code(3);
}

/// HTCondorCluster workers held in the queue whose Python process died: orphans.
#[test]
fn dask_jobqueue_queued_workers_of_a_dead_scheduler_are_orphans() {
    let env = Env::htcondor();
    support::jobqueue_held_orphans(
        &env,
        "htcondor",
        "HTCondorCluster",
        "disk='1GB', job_extra_directives={'hold': 'true'}",
    );
}

/// Processes whose command line names this directory (a cluster's jobs name its shared
/// directory in their scheduler-file argument).
fn processes_under(dir: &std::path::Path) -> Vec<i32> {
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
                && support::alive(*pid)
        })
        .collect()
}

/// Jobs get nothing of the submitting environment (no PATH): the default `python3` is resolved
/// on the submit host to the Python with Dask the user has there, and named by its path.
#[test]
fn python_is_resolved_to_an_absolute_path_on_the_submit_host() {
    let env = Env::htcondor();
    let venv_bin = support::python().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}:{}",
        venv_bin.display(),
        env.dir.path().join("condor-bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = env
        .with("PATH", &path)
        .with("DASKCTL_BACKENDS__HTCONDOR__PYTHON", "python3");
    env.run(&["create", "htcondor", "--name", "abspy", "--workers", "1"])
        .ok();
    let script = std::fs::read_to_string(env.shared().join("abspy/worker.sh")).unwrap();
    assert!(
        script.contains(&venv_bin.join("python3").display().to_string()),
        "{script}"
    );
    env.run(&["delete", "abspy", "--yes"]).ok();
    assert!(processes_under(&env.shared().join("abspy")).is_empty());
}

/// A worker removed by its walltime (`periodic_remove`: JobStatus 3 with that RemoveReason)
/// degrades its cluster instead of vanishing, and is found in a history crowded by other
/// users' newer jobs; condor_rm returns before the processes are gone, and delete waits for
/// them before it removes the shared directory.
#[test]
fn walltime_removals_degrade_and_history_is_asked_for_ours() {
    let env = Env::htcondor();
    env.run(&["create", "htcondor", "--name", "wall", "--workers", "1"])
        .ok();
    let dir = env.shared().join("wall");
    let script = dir.join("worker.sh");
    let text = std::fs::read_to_string(&script).unwrap();
    let short = text
        .lines()
        .map(|l| {
            if l.contains("periodic_remove") {
                "# condor: periodic_remove = (JobStatus == 2) && (time() - EnteredCurrentStatus > 2)".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let short = if short.contains("periodic_remove") {
        short
    } else {
        short.replace(
            "# condor: batch_name",
            "# condor: periodic_remove = (JobStatus == 2) && (time() - EnteredCurrentStatus > 2)\n# condor: batch_name",
        )
    };
    std::fs::write(&script, short).unwrap();
    env.run(&["scale", "wall", "2"]).ok();
    wait_until("the walltime removal", Duration::from_secs(60), || {
        env.describe("wall")["status"] == "degraded"
    });
    let c = env.describe("wall");
    assert!(c["reason"].as_str().unwrap().contains("ended"), "{c}");
    assert!(
        c["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["state"] == "RemovedByWalltime"),
        "{c}"
    );
    // 1,500 newer jobs of other users in the history: ours are still asked for and found
    env.condor(&["condor_standin.py", "--foreign-history", "1500"]);
    assert_eq!(env.describe("wall")["status"], "degraded");

    env.run(&["delete", "wall", "--yes"]).ok();
    assert!(
        processes_under(&dir).is_empty(),
        "processes outlived delete"
    );
    assert!(!dir.exists());
}

/// Suspended jobs (condor_suspend: JobStatus 7) hold their slot: shown as such, still counted.
#[test]
fn suspended_jobs_are_shown_as_the_queue_says() {
    let env = Env::htcondor();
    let c = env
        .run(&[
            "create",
            "htcondor",
            "--name",
            "susp",
            "--workers",
            "1",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let worker = c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "worker")
        .and_then(|r| r["id"].as_str())
        .unwrap()
        .to_string();
    env.condor(&["condor_suspend", &worker]);
    let d = env.describe("susp");
    let w = d["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == worker.as_str())
        .cloned()
        .unwrap();
    assert_eq!(w["state"], "Suspended", "{d}");
    assert_eq!(d["requested_workers"], 1, "{d}");
    env.condor(&["condor_continue", &worker]);
    env.run(&["delete", "susp", "--yes"]).ok();
}
