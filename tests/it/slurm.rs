//! The Slurm backend against the real single-node Slurm of scripts/testbeds/slurm.sh.

use crate::conformance::BatchBed;
use crate::support::{self, Env, slurm_jobs, slurm_up, wait_until};
use std::process::Command;
use std::time::Duration;

pub const SLURM_BED: BatchBed = BatchBed {
    backend: "slurm",
    env: Env::slurm,
    available: slurm_up,
    queued: |_| slurm_jobs(""),
    hold: &["--partition", "hold"],
    cancel: |_, id| {
        Command::new("scancel").arg(id).status().unwrap();
    },
    says_start: true,
};

crate::conformance!(conformance_slurm, super::SLURM_BED);
crate::batch_conformance!(batch_conformance_slurm, super::SLURM_BED);

/// A real dask-jobqueue SLURMCluster in a Python process: found by its workers' batch scripts,
/// scaled with its own worker script, orphaned when the process dies, cleaned up.
#[test]
fn dask_jobqueue_cluster_found_scaled_orphaned_and_cleaned() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    let logs = env.dir.path().join("jqlogs");
    let kwargs = format!(
        "processes=1, walltime='00:10:00', log_directory={:?}",
        logs.to_str().unwrap()
    );
    let (mut py, addr) = support::jobqueue_cluster(&env, "SLURMCluster", &kwargs);
    let name = format!("jobqueue-{}", addr.rsplit(':').next().unwrap());
    wait_until(
        "jobqueue cluster with 2 workers",
        Duration::from_secs(90),
        || env.find(&name).is_some_and(|c| c["workers"] == 2),
    );
    let c = env.describe(&format!("slurm/{name}"));
    assert_eq!(c["origin"], "dask-jobqueue");
    assert_eq!(c["status"], "running");
    assert_eq!(c["address"], addr.as_str());
    assert_eq!(c["resources"].as_array().unwrap().len(), 2);
    // its scheduler runs in a local Python process too: listed once, by the backend that knows it
    assert!(
        env.list()
            .iter()
            .all(|x| x["address"] != addr.as_str() || x["backend"] == "slurm")
    );

    env.run(&["scale", &name, "3", "--wait", "--timeout", "90"])
        .ok();
    assert_eq!(env.describe(&name)["workers"], 3);
    env.run(&["scale", &name, "2", "--wait", "--timeout", "90"])
        .ok();
    assert_eq!(env.describe(&name)["workers"], 2);

    let _ = py.kill();
    let _ = py.wait();
    let c = env.describe(&name);
    assert_eq!(c["status"], "orphaned", "{c}");
    let jobs: Vec<String> = c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let preview = env
        .run(&["cleanup", "--orphaned", "-o", "json"])
        .ok()
        .json();
    assert!(
        preview["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["cluster"] == name.as_str() && a["action"] == "would-delete")
    );
    assert!(
        jobs.iter().all(|j| slurm_jobs("dask-worker").contains(j)),
        "preview must not cancel"
    );
    env.run(&["cleanup", "--orphaned", &name, "--yes"]).ok();
    let left = slurm_jobs("dask-worker");
    assert!(
        jobs.iter().all(|j| !left.contains(j)),
        "jobs left: {left:?}"
    );
}

/// sbatch refusing a submission: a clear error, and nothing left in the queue or on disk. The
/// worker array asking for more CPUs than the node has is refused after the scheduler job was
/// accepted: that scheduler job must be cancelled.
#[test]
fn refused_submissions_leave_nothing_behind() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    for (name, flags, says) in [
        ("badpart", vec!["--partition", "nosuch"], "partition"),
        ("toobig", vec!["--cores", "64"], "sbatch"),
    ] {
        let mut args = vec!["create", "slurm", "--name", name, "--workers", "1"];
        args.extend(flags);
        let o = env.run(&args).code(1);
        let line = o.one_line_error();
        assert!(line.to_lowercase().contains(says), "{line}");
        assert!(
            slurm_jobs(name).is_empty(),
            "jobs of {name} left: {:?}",
            slurm_jobs(name)
        );
        assert!(!env.shared().join(name).exists(), "{name}: shared dir left");
    }
    // a walltime no batch system reads is refused before anything is submitted
    for bad in ["nonsense", "1:2:3:4", "0", "400-00:00:00"] {
        let o = env
            .run(&["create", "slurm", "--name", "badtime", "--walltime", bad])
            .code(2);
        assert!(
            o.one_line_error().contains("walltime"),
            "{bad}: {}",
            o.stderr
        );
    }
    assert!(slurm_jobs("badtime").is_empty());
    assert!(!env.shared().join("badtime").exists());
    // shell metacharacters never reach a script
    let o = env
        .run(&[
            "create",
            "slurm",
            "--name",
            "meta",
            "--job-extra=--comment=$(touch /tmp/daskctl-pwned)",
        ])
        .code(2);
    assert!(o.one_line_error().contains("job-extra"));
    assert!(slurm_jobs("meta").is_empty());
}

fn slurmctld_pid() -> i32 {
    std::fs::read_to_string("/run/slurmctld.pid")
        .expect("slurmctld pid file")
        .trim()
        .parse()
        .unwrap()
}

fn restart_slurm() {
    let st = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/testbeds/slurm.sh"
    ))
    .arg("start")
    .status()
    .unwrap();
    assert!(st.success(), "restarting the Slurm test bed");
}

/// Puts the controller back however the test ends.
struct Restore(i32);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
        restart_slurm();
    }
}

/// A hung controller makes squeue hang: `list` warns about slurm, still lists the other
/// backends, and returns within its deadline. A dead controller is a clear error.
#[test]
fn hung_or_dead_controller_is_a_backend_failure_not_a_hang() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    env.run(&["create", "local", "--name", "beside", "--workers", "0"])
        .ok();
    let pid = slurmctld_pid();
    let _restore = Restore(pid);
    support::signal(pid, "STOP");
    let t = std::time::Instant::now();
    let o = env.run(&["list", "-o", "json", "--timeout", "2"]);
    support::signal(pid, "CONT");
    let o = o.code(4);
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    assert!(
        o.stderr.contains("warning: slurm: no answer within 2s"),
        "{}",
        o.stderr
    );
    assert!(
        o.json()
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "beside"),
        "local clusters still listed"
    );

    // dead controller
    support::signal(pid, "TERM");
    wait_until("slurmctld gone", Duration::from_secs(20), || {
        !support::alive(pid)
    });
    let o = env
        .run(&[
            "create",
            "slurm",
            "--name",
            "nocontroller",
            "--workers",
            "1",
        ])
        .code(1);
    let line = o.one_line_error().to_string();
    assert!(
        line.contains("slurm") && line.to_lowercase().contains("controller"),
        "{line}"
    );
    let l = env.run(&["list"]).code(4);
    assert!(
        l.stderr.contains("warning: slurm:") && l.stderr.contains("controller"),
        "{}",
        l.stderr
    );
    assert!(!env.shared().join("nocontroller").exists());
}

/// The text format (the default: it is the fastest) finds the same clusters as the JSON
/// format, held array tasks included, against the real squeue.
/// A job Python without Dask (the system's python3 here) fails the create with the Python the
/// jobs ran and how to choose another, and leaves nothing queued.
#[test]
fn a_job_python_without_dask_is_named_with_the_fix() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    let o = env
        .run(&[
            "create",
            "slurm",
            "--name",
            "nodask",
            "--workers",
            "1",
            "--python",
            "/usr/bin/python3",
        ])
        .code(1);
    let line = o.one_line_error();
    assert!(
        line.contains("No module named")
            && line.contains("\"/usr/bin/python3\", which has no Dask")
            && line.contains("backends.slurm.python"),
        "{line}"
    );
    assert!(slurm_jobs("nodask-").is_empty());
    assert!(!env.shared().join("nodask").exists());
}

#[test]
fn text_format_sees_what_json_sees() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    // the scheduler queues in the DOWN partition "hold": nothing runs, all stays pending
    let o = env.run(&[
        "create",
        "slurm",
        "--name",
        "fmt",
        "--workers",
        "3",
        "--partition",
        "hold",
        "--timeout",
        "1",
    ]);
    assert_eq!(
        o.code, 1,
        "create cannot become ready in a DOWN partition: {}",
        o.stderr
    );
    assert!(o.stderr.contains("stay queued"), "{}", o.stderr);
    let text = env.describe("slurm/fmt");
    let json_env = Env::new()
        .with("DASKCTL_BACKENDS__SLURM__SQUEUE_FORMAT", "json")
        .with("DASKCTL_BACKENDS__LOCAL__ENABLED", "false");
    let json = json_env.describe("slurm/fmt");
    for c in [&json, &text] {
        assert_eq!(c["status"], "pending", "{c}");
        assert_eq!(c["requested_workers"], 3);
        assert_eq!(c["resources"].as_array().unwrap().len(), 4);
    }
    let ids = |c: &serde_json::Value| {
        let mut v: Vec<String> = c["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&json), ids(&text));
    // pending workers count as requested: scaling to 1 cancels two queued tasks
    env.run(&["scale", "fmt", "1"]).ok();
    assert_eq!(env.describe("fmt")["requested_workers"], 1);
    env.run(&["delete", "fmt", "--yes"]).ok();
    assert!(slurm_jobs("fmt-").is_empty());
}

/// Jobs as dask-gateway's Slurm backend submits them (dask_gateway_server/backends/jobqueue/
/// slurm.py: `sbatch --parsable --job-name=dask-gateway --chdir=STAGING/CLUSTER
/// --output=STAGING/CLUSTER/dask-scheduler-CLUSTER.log ...`, the script on stdin), held so
/// nothing runs: listed as one dask-gateway cluster, refused by scale, removed by delete.
#[test]
fn dask_gateway_jobs_are_one_cluster() {
    if !slurm_up() {
        return;
    }
    gateway_jobs_are_one_cluster(&Env::slurm(), "4f6c2a9e1b7d4c0a8e3f5b6d7c8e9f00", &[]);
}

/// The same with an squeue whose `-O` lacks `StdOut` (as squeue 22.05 answers an unknown
/// field: the error on stderr, nothing on stdout, exit 0): daskctl falls back to `-o`, and the
/// gateway's jobs are told apart through `--json`.
#[test]
fn dask_gateway_jobs_are_one_cluster_where_squeue_has_no_stdout_field() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    let real = support::which("squeue").unwrap();
    let script = format!(
        "#!/bin/sh\ncase \"$*\" in\n  *-O*StdOut*) echo 'squeue: error: Invalid job format specification: StdOut' >&2; exit 0 ;;\nesac\nexec '{}' \"$@\"\n",
        real.display()
    );
    let bin = support::slurm_bin_with(&env, "old-bin", "squeue", &script);
    gateway_jobs_are_one_cluster(
        &env,
        "5a7d3b0f2c8e4d1b9f4a6c7e8d9fa011",
        &[("DASKCTL_BACKENDS__SLURM__BIN_DIR", bin.to_str().unwrap())],
    );
}

fn gateway_jobs_are_one_cluster(env: &Env, id: &str, vars: &[(&str, &str)]) {
    let staging = env.dir.path().join("gateway").join(id);
    std::fs::create_dir_all(&staging).unwrap();
    for (log, cmd) in [
        (format!("dask-scheduler-{id}.log"), "dask-gateway-scheduler"),
        ("dask-worker-w1.log".to_string(), "dask-gateway-worker"),
    ] {
        let mut child = Command::new("sbatch")
            .args([
                "--parsable",
                "--hold",
                "--job-name=dask-gateway",
                &format!("--chdir={}", staging.display()),
                &format!("--output={}", staging.join(&log).display()),
                "--cpus-per-task=1",
                "--mem=1K",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("#!/bin/sh\n{cmd}\n").as_bytes())
            .unwrap();
        assert!(child.wait_with_output().unwrap().status.success());
    }
    let name = format!("gateway-{}", &id[..12]);
    let listed = env.run_env(vars, &["list", "-o", "json"]).ok().json();
    let c = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name.as_str())
        .unwrap_or_else(|| panic!("{name} not listed: {listed}"))
        .clone();
    assert_eq!(c["origin"], "dask-gateway");
    assert_eq!(c["backend"], "slurm");
    let roles: Vec<&str> = c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"scheduler") && roles.contains(&"worker"),
        "{roles:?}"
    );
    assert!(
        env.run_env(vars, &["scale", &name, "3"])
            .code(2)
            .one_line_error()
            .contains("dask-gateway")
    );
    env.run_env(vars, &["delete", &name, "--yes"]).ok();
    // none of its jobs is left (the other test's gateway jobs may be queued meanwhile)
    let dirs = Command::new("squeue")
        .args(["-h", "-n", "dask-gateway", "-o", "%Z"])
        .output()
        .unwrap();
    let dirs = String::from_utf8_lossy(&dirs.stdout);
    assert!(!dirs.contains(id), "{dirs}");
}

/// A SLURMCluster whose Python process was killed left held worker jobs: orphans, not
/// `stopped` (they would start and consume allocation).
#[test]
fn dask_jobqueue_queued_workers_of_a_dead_scheduler_are_orphans() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    support::jobqueue_held_orphans(&env, "slurm", "SLURMCluster", "processes=1, queue='hold'");
}

/// `-vv` lists every command a backend ran, with its exit status and duration.
#[test]
fn very_verbose_shows_the_commands_run() {
    if !crate::support::slurm_up() {
        return;
    }
    let env = Env::slurm();
    let o = env.run(&["-vv", "list", "-b", "slurm"]).ok();
    assert!(o.stderr.contains("slurm: ran squeue --me"), "{}", o.stderr);
    assert!(o.stderr.contains("(exit status: 0, "), "{}", o.stderr);
    let o = env.run(&["list", "-b", "slurm"]).ok();
    assert!(
        !o.stderr.contains("ran squeue"),
        "only with -vv: {}",
        o.stderr
    );
}

/// A directory of Slurm's commands in which `sbatch`, for a worker array, first says it has
/// been entered (`GATE/entered`) and waits until the test opens the gate (`GATE/open`): a
/// submission held in flight for as long as a test needs.
fn gated_sbatch(env: &Env, gate: &std::path::Path) -> std::path::PathBuf {
    // only the worker array's submission waits
    let script = support::gated(gate, "sbatch", "*--array*");
    support::slurm_bin_with(env, "gated-bin", "sbatch", &script)
}

/// Issue 36's batch window: `create` (or `scale` up) killed while its worker submission is in
/// flight. The submission goes on and adds jobs after the kill; `delete` must see them. The
/// submission inherits the cluster's lock and holds it until sbatch has answered, and delete
/// takes the lock before its last look at the queue: it waits (its -vv output says so) while
/// the submission is held, then cancels the late jobs with the others. Afterwards nothing of
/// the cluster is in the queue and its directory is gone.
#[test]
fn delete_after_a_killed_submission_sees_the_jobs_in_flight() {
    if !slurm_up() {
        return;
    }
    for verb in ["create", "scale"] {
        let env = Env::slurm();
        let gate = env.dir.path().join("gate");
        std::fs::create_dir_all(&gate).unwrap();
        let bin = gated_sbatch(&env, &gate);
        let env = env.with("DASKCTL_BACKENDS__SLURM__BIN_DIR", bin.to_str().unwrap());
        let name = format!("inflight-{verb}-{}", std::process::id());
        let r = if verb == "create" {
            env.start(&["create", "slurm", "--name", &name, "--workers", "2"])
        } else {
            // no worker array at creation: the scale's is the one held
            env.run(&["create", "slurm", "--name", &name, "--workers", "0"])
                .ok();
            env.start(&["scale", &name, "2"])
        };
        wait_until(
            &format!("{verb}: the worker submission in flight"),
            Duration::from_secs(60),
            || gate.join("entered").exists(),
        );
        r.signal("KILL");
        r.finish();
        // daskctl is gone, its submission still holds the cluster's lock
        let lock = env.dir.path().join("shared").join(&name).join("lock");
        let f = std::fs::File::open(&lock).unwrap();
        assert!(
            nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock).is_err(),
            "{verb}: the submission in flight does not hold the lock"
        );
        let err = env.dir.path().join("delete.err");
        let mut d = env
            .command(&["-vv", "delete", &name, "--yes"])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        wait_until(
            &format!("{verb}: delete waiting for the lock"),
            Duration::from_secs(60),
            || std::fs::read_to_string(&err).is_ok_and(|t| t.contains("held by another command")),
        );
        std::fs::write(gate.join("open"), "").unwrap();
        let status = d.wait().unwrap();
        let said = std::fs::read_to_string(&err).unwrap();
        assert!(status.success(), "{verb}: {said}");
        let left = slurm_jobs(&format!("{name}-"));
        assert!(
            left.is_empty(),
            "{verb}: jobs left after delete: {left:?}\n{said}"
        );
        assert!(
            !env.dir.path().join("shared").join(&name).exists(),
            "{verb}"
        );
    }
}
