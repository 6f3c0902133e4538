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
}

/// A batch system's test bed: everything but the names is the same for all of them.
pub struct BatchBed {
    pub backend: &'static str,
    pub env: fn() -> Env,
    pub available: fn() -> bool,
    /// Ids of the jobs still in the queue.
    pub queued: fn(&Env) -> Vec<String>,
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
}

fn create(bed: &dyn Bed, env: &Env, name: &str, workers: u32) -> serde_json::Value {
    let mut args = vec![
        "create".to_string(),
        bed.backend().into(),
        "--name".into(),
        name.into(),
        "--workers".into(),
        workers.to_string(),
        "-o".into(),
        "json".into(),
    ];
    args.extend(bed.create_flags());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.run(&args).ok().json()
}

pub fn lifecycle(bed: &dyn Bed) {
    if !bed.available() {
        return;
    }
    let env = bed.env();
    let name = format!("conf-{}", bed.backend());
    let q = format!("{}/{name}", bed.backend());
    let c = create(bed, &env, &name, 2);
    assert_eq!(c["name"], name.as_str());
    assert_eq!(c["backend"], bed.backend());
    assert_eq!(c["origin"], "daskctl");
    assert_eq!(c["status"], "running", "{c}");
    assert_eq!(c["workers"], 2);
    assert!(c["threads"].as_u64().unwrap() >= 2);
    assert!(c["memory"].as_u64().unwrap() > 0);
    assert!(
        c["address"]
            .as_str()
            .unwrap()
            .starts_with("tcp://127.0.0.1:")
    );
    assert!(c["created"].as_str().unwrap().ends_with('Z'));
    assert!(c["owner"].as_str().is_some());
    assert_eq!(c["resources"].as_array().unwrap().len(), 3, "{c}");

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

    // snippet connects to the listed address
    let snip = env.run(&["snippet", &name]).ok().stdout;
    assert!(snip.contains(c["address"].as_str().unwrap()), "{snip}");

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
        let o = env.run(&["scale", "ok", n]).code(2);
        assert!(o.one_line_error().contains("worker count"), "{}", o.stderr);
    }
    assert!(
        env.list().iter().all(|c| c["name"] != "ok"),
        "nothing may be created"
    );
    env.run(&["scale", &format!("{}/no-such-cluster", bed.backend()), "1"])
        .code(3);
    env.run(&["logs", "no-such-cluster"]).code(3);
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
