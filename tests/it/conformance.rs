//! The behaviour every backend with a test bed must show, written once. Each backend adds a
//! `Bed` and instantiates the suite with `conformance!`.

use crate::support::{Env, wait_until};
use std::time::Duration;

pub trait Bed {
    fn backend(&self) -> &'static str;
    /// A fresh, isolated environment configured for this backend's test bed.
    fn env(&self) -> Env;
    /// Backend flags `create` needs on this bed.
    fn create_flags(&self) -> Vec<String> {
        Vec::new()
    }
    /// Whether the resources a cluster listed are really gone.
    fn gone(&self, env: &Env, cluster: &serde_json::Value) -> bool;
    /// Whether the test bed runs here; a bed that cannot run explains why (and the suite skips).
    fn available(&self) -> bool {
        true
    }
    /// Whether `create` takes `--name` (a gateway names its clusters itself).
    fn named(&self) -> bool {
        true
    }
    /// The origin of the clusters `create` makes.
    fn origin(&self) -> &'static str {
        "daskctl"
    }
    /// How the scheduler addresses it lists begin.
    fn address_prefix(&self) -> &'static str {
        "tcp://127.0.0.1:"
    }
    /// How many resources a cluster with `workers` workers lists.
    fn resources(&self, workers: usize) -> usize {
        workers + 1
    }
    /// Whether its running resources say when they started (core-hours count from there).
    fn says_start(&self) -> bool {
        true
    }
}

/// A batch system's test bed: everything but the names is the same for all of them.
pub struct BatchBed {
    pub backend: &'static str,
    pub env: fn() -> Env,
    pub available: fn() -> bool,
    /// Ids of the jobs still in the queue.
    pub queued: fn(&Env) -> Vec<String>,
    /// `create` flags that keep every job queued (never started): a DOWN partition, a hold.
    pub hold: &'static [&'static str],
    /// Cancels one job with the batch system's own tool.
    pub cancel: fn(&Env, &str),
    /// Whether its queue shows when a job started (Slurm's Torque wrappers' qstat does not:
    /// no `stime`).
    pub says_start: bool,
}

impl Bed for BatchBed {
    fn backend(&self) -> &'static str {
        self.backend
    }
    fn env(&self) -> Env {
        (self.env)()
    }
    fn create_flags(&self) -> Vec<String> {
        vec!["--walltime".into(), "00:20:00".into()]
    }
    fn gone(&self, env: &Env, c: &serde_json::Value) -> bool {
        let left = (self.queued)(env);
        c["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !left.contains(&r["id"].as_str().unwrap().to_string()))
    }
    fn available(&self) -> bool {
        (self.available)()
    }
    fn says_start(&self) -> bool {
        self.says_start
    }
}

fn create(bed: &dyn Bed, env: &Env, name: &str, workers: u32) -> serde_json::Value {
    let mut args = vec!["create".to_string(), bed.backend().into()];
    if bed.named() {
        args.extend(["--name".into(), name.into()]);
    }
    args.extend([
        "--workers".into(),
        workers.to_string(),
        "-o".into(),
        "json".into(),
    ]);
    args.extend(bed.create_flags());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.run(&args).ok().json()
}

pub fn lifecycle(bed: &dyn Bed) {
    if !bed.available() {
        return;
    }
    let env = bed.env();
    let c = create(bed, &env, &format!("conf-{}", bed.backend()), 2);
    let name = c["name"].as_str().unwrap().to_string();
    if bed.named() {
        assert_eq!(name, format!("conf-{}", bed.backend()));
    }
    let q = format!("{}/{name}", bed.backend());
    assert_eq!(c["backend"], bed.backend());
    assert_eq!(c["origin"], bed.origin());
    // the scheduler counts what create asked for (a gateway scales once the cluster runs)
    wait_until("2 workers connected", Duration::from_secs(90), || {
        env.describe(&q)["workers"] == 2
    });
    let c = env.describe(&q);
    assert_eq!(c["status"], "running", "{c}");
    assert!(c["threads"].as_u64().unwrap() >= 2);
    assert!(c["memory"].as_u64().unwrap() > 0);
    assert!(
        c["address"]
            .as_str()
            .unwrap()
            .starts_with(bed.address_prefix()),
        "{c}"
    );
    assert!(c["created"].as_str().unwrap().ends_with('Z'));
    assert!(c["owner"].as_str().is_some());
    assert_eq!(
        c["resources"].as_array().unwrap().len(),
        bed.resources(2),
        "{c}"
    );
    // what it holds: the cores its jobs, processes or cluster asked for, and core-hours from
    // when its running resources started (read from the real queue or process table)
    assert!(c["cores"].as_f64().unwrap() >= 2.0, "{c}");
    assert!(c["core_hours"].as_f64().unwrap() >= 0.0, "{c}");
    if bed.says_start() {
        let started: Vec<&serde_json::Value> = c["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r.get("started"))
            .collect();
        assert!(!started.is_empty(), "no resource says when it started: {c}");
        for t in started {
            let t = humantime::parse_rfc3339(t.as_str().unwrap()).unwrap();
            let age = std::time::SystemTime::now()
                .duration_since(t)
                .unwrap_or_default();
            assert!(age < Duration::from_secs(3600), "started {t:?}: {c}");
        }
    }

    // listed with the documented schema, by short and by qualified name
    let listed = env.find(&name).expect("listed");
    for key in [
        "name",
        "backend",
        "origin",
        "status",
        "address",
        "dashboard",
        "workers",
        "threads",
        "memory",
        "created",
        "owner",
        "resources",
    ] {
        assert!(listed.get(key).is_some(), "missing {key} in {listed}");
    }
    assert_eq!(listed["address"], c["address"]);
    let names = env.run(&["list", "-o", "name"]).ok().stdout;
    assert!(names.lines().any(|l| l == q), "{names}");
    assert_eq!(env.describe(&q)["name"], name.as_str());
    let table = env.run(&["list"]).ok().stdout;
    assert!(table.lines().next().unwrap().starts_with("NAME"), "{table}");
    assert!(table.contains(&name));

    // scale up and down, waiting on the scheduler's own count
    env.run(&["scale", &name, "3", "--wait", "--timeout", "90"])
        .ok();
    assert_eq!(env.describe(&name)["workers"], 3);
    env.run(&["scale", &q, "1", "--wait", "--timeout", "90"])
        .ok();
    let d = env.describe(&name);
    assert_eq!(d["workers"], 1);
    assert_eq!(d["status"], "running", "{d}");

    // logs
    let logs = env
        .run(&["logs", &name, "--scheduler", "--tail", "5"])
        .ok()
        .stdout;
    let n = logs.lines().count();
    assert!((1..=5).contains(&n), "{logs}");
    assert!(logs.contains("distributed."), "{logs}");
    let all = env.run(&["logs", &name]).ok().stdout;
    assert!(all.lines().any(|l| l.starts_with("[scheduler] ")), "{all}");
    assert!(
        all.lines()
            .any(|l| l.starts_with('[') && !l.starts_with("[scheduler]")),
        "no worker log: {all}"
    );

    // one worker's log, by the name describe shows for it
    let worker = env.describe(&name)["worker_details"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let one = env.run(&["logs", &name, "--worker", &worker]).ok().stdout;
    assert!(
        one.contains("distributed."),
        "logs --worker {worker}: {one}"
    );

    // and by number: the first worker, as `logs --worker 0` reads it on the local backend
    if matches!(
        bed.backend(),
        "local" | "slurm" | "pbs" | "sge" | "htcondor" | "lsf" | "moab"
    ) {
        let first = env.run(&["logs", &name, "--worker", "0"]).ok().stdout;
        assert!(first.contains("distributed."), "logs --worker 0: {first}");
    }

    // a count beyond the backend's limit is a usage error, after the lookup
    let o = env.run(&["scale", &name, "100000"]).code(2);
    assert!(o.one_line_error().contains("worker count"), "{}", o.stderr);

    // snippet connects to the listed cluster
    let snip = env.run(&["snippet", &name]).ok().stdout;
    let address = c["address"].as_str().unwrap();
    let proxied = address
        .strip_prefix("gateway://")
        .map(|a| a.split('/').next().unwrap());
    match proxied {
        Some(proxy) => assert!(snip.contains(proxy) && snip.contains(&name), "{snip}"),
        None => assert!(snip.contains(address), "{snip}"),
    }

    // deleting without a terminal and without --yes is refused, and nothing happens
    let refused = env.run(&["delete", &name]).code(5);
    assert!(refused.one_line_error().contains("--yes"));
    assert_eq!(env.describe(&name)["status"], "running");

    let before = env.describe(&name);
    env.run(&["delete", &name, "--yes", "--wait"]).ok();
    wait_until("resources gone", Duration::from_secs(60), || {
        bed.gone(&env, &before)
    });
    assert!(env.find(&name).is_none(), "still listed after delete");
    env.run(&["describe", &name]).code(3);
}

pub fn bad_input(bed: &dyn Bed) {
    if !bed.available() {
        return;
    }
    let env = bed.env();
    for bad in [
        "",
        "has space",
        "a/b",
        "x;touch /tmp/pwned",
        "$(id)",
        "UPPER",
        &"x".repeat(64),
    ] {
        let o = env
            .run(&["create", bed.backend(), "--name", bad, "--workers", "1"])
            .code(2);
        assert!(
            o.one_line_error().contains("invalid cluster name"),
            "{}",
            o.stderr
        );
    }
    assert!(!std::path::Path::new("/tmp/pwned").exists());
    for n in ["-1", "100000"] {
        let o = env
            .run(&["create", bed.backend(), "--name", "ok", "--workers", n])
            .code(2);
        assert!(o.one_line_error().contains("worker count"), "{}", o.stderr);
    }
    // a negative count fails before any lookup; a large one only against the backend's limit
    let o = env.run(&["scale", "ok", "-1"]).code(2);
    assert!(o.one_line_error().contains("worker count"), "{}", o.stderr);
    env.run(&["scale", "ok", "100000"]).code(3);
    assert!(
        env.list().iter().all(|c| c["name"] != "ok"),
        "nothing may be created"
    );
    env.run(&["scale", &format!("{}/no-such-cluster", bed.backend()), "1"])
        .code(3);
    env.run(&["logs", "no-such-cluster"]).code(3);
}

/// The id of the cluster's job of `role` (its first, for workers).
fn job_of(c: &serde_json::Value, role: &str) -> String {
    c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == role)
        .and_then(|r| r["id"].as_str())
        .unwrap_or_else(|| panic!("no {role} job: {c}"))
        .to_string()
}

/// Worker jobs still queued whose scheduler is gone will start and hold an allocation: the
/// cluster is `orphaned` (not `stopped`), its reason counts them, and `cleanup --orphaned`
/// takes them.
pub fn queued_orphans(bed: &BatchBed) {
    if !bed.available() {
        return;
    }
    let env = bed.env();
    let name = format!("qorph-{}", bed.backend());
    let mut argv = vec![
        "create",
        bed.backend(),
        "--name",
        &name,
        "--workers",
        "3",
        "--timeout",
        "2",
    ];
    argv.extend(bed.hold);
    let o = env.run(&argv).code(1);
    assert!(o.stderr.contains("stay queued"), "{}", o.stderr);
    let c = env.describe(&name);
    (bed.cancel)(&env, &job_of(&c, "scheduler"));
    wait_until("the scheduler job gone", Duration::from_secs(60), || {
        env.describe(&name)["status"] == "orphaned"
    });
    let c = env.describe(&name);
    let reason = c["reason"].as_str().unwrap();
    assert!(reason.contains("3 worker job(s) queued, 0 running"), "{c}");
    let done = env
        .run(&[
            "cleanup",
            "--orphaned",
            &name,
            "--yes",
            "-o",
            "json",
            "-b",
            bed.backend(),
        ])
        .ok()
        .json();
    assert_eq!(done["actions"][0]["action"], "deleted", "{done}");
    wait_until("queued jobs gone", Duration::from_secs(60), || {
        bed.gone(&env, &c)
    });
    env.run(&["describe", &name]).code(3);
}

/// A Python without Dask on the nodes: `create` stops within seconds of the scheduler job's
/// end (not at its timeout), says what the job said, cancels what is left and removes the
/// shared directory (kept with `--keep-failed`); `scale --wait` likewise stops when the worker
/// jobs it submitted end without joining.
pub fn fails_fast(bed: &BatchBed) {
    if !bed.available() {
        return;
    }
    let env = bed.env();
    let hang = Duration::from_secs(120);
    for keep in [false, true] {
        let name = format!("ff{}-{}", keep as u8, bed.backend());
        let mut argv = vec![
            "create",
            bed.backend(),
            "--name",
            &name,
            "--workers",
            "2",
            "--python",
            "/usr/bin/python3",
            "--timeout",
            "600",
        ];
        if keep {
            argv.push("--keep-failed");
        }
        let o = env.run_bounded(&argv, hang).code(1);
        assert!(
            o.stderr.contains("ended before the cluster was ready"),
            "{}",
            o.stderr
        );
        assert!(o.stderr.contains("No module named"), "{}", o.stderr);
        assert!(!o.stderr.contains("stay queued"), "{}", o.stderr);
        assert_eq!(env.shared().join(&name).exists(), keep, "{}", o.stderr);
        match env.find(&name) {
            None => assert!(!keep),
            // what --keep-failed kept is a cluster of its own, stopped, with no job: listed
            // (never unseen), and removed by delete
            Some(c) => {
                assert!(keep, "jobs left: {c}");
                assert_eq!(c["status"], "stopped", "{c}");
                assert_eq!(c["resources"], serde_json::json!([]), "{c}");
                env.run(&["delete", &name, "--yes"]).ok();
                assert!(!env.shared().join(&name).exists());
            }
        }
        if bed.backend() == "sge" {
            assert!(o.stderr.contains("backends.sge.python"), "{}", o.stderr);
        }
    }

    let name = format!("ffscale-{}", bed.backend());
    env.run(&["create", bed.backend(), "--name", &name, "--workers", "1"])
        .ok();
    // new workers of this cluster run a Python without Dask
    let script = env.shared().join(&name).join("worker.sh");
    let text = std::fs::read_to_string(&script).unwrap();
    let python = crate::support::python();
    let broken = text.replace(python.to_str().unwrap(), "/usr/bin/python3");
    assert_ne!(broken, text, "the worker script names the Python");
    std::fs::write(&script, broken).unwrap();
    let o = env
        .run_bounded(&["scale", &name, "3", "--wait", "--timeout", "600"], hang)
        .code(1);
    assert!(o.stderr.contains("ended without joining"), "{}", o.stderr);
    assert!(o.stderr.contains("No module named"), "{}", o.stderr);
    env.run(&["delete", &name, "--yes"]).ok();
}

/// The suites only batch systems run.
#[macro_export]
macro_rules! batch_conformance {
    ($modname:ident, $bed:expr) => {
        mod $modname {
            #[test]
            fn queued_orphans() {
                $crate::conformance::queued_orphans(&$bed);
            }
            #[test]
            fn fails_fast() {
                $crate::conformance::fails_fast(&$bed);
            }
        }
    };
}

#[macro_export]
macro_rules! conformance {
    ($modname:ident, $bed:expr) => {
        mod $modname {
            #[test]
            fn lifecycle() {
                $crate::conformance::lifecycle(&$bed);
            }
            #[test]
            fn bad_input() {
                $crate::conformance::bad_input(&$bed);
            }
        }
    };
}
