//! Adaptive scaling that outlives the terminal: `adapt` stores the policy with the cluster and
//! `reconcile`, run as cron would (a new process each pass), grows the cluster under a real
//! workload from a Python client and shrinks it to the minimum when the work ends, with Dask's
//! damping; two reconciles at once never add up; a held lock makes a pass skip the cluster.

use crate::support::{self, Env, python, slurm_up, wait_until};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Submits `tasks` sleeps of `secs` seconds from a real `distributed.Client` and waits for them.
pub(crate) fn workload(address: &str, tasks: u32, secs: f64) -> support::KillOnDrop {
    let code = format!(
        "import time\nfrom distributed import Client\nc = Client({address:?})\n\
         c.gather(c.map(time.sleep, [{secs}] * {tasks}, pure=False))\n"
    );
    let child = Command::new(python())
        .args(["-c", &code])
        .stdout(Stdio::null())
        .spawn()
        .expect("start the workload");
    support::KillOnDrop(child)
}

/// One reconcile pass, as cron runs it; its JSON actions.
pub(crate) fn reconcile(env: &Env) -> Vec<serde_json::Value> {
    let o = env.run(&["reconcile", "-o", "json"]).ok();
    o.json()["actions"].as_array().cloned().unwrap_or_default()
}

fn requested(env: &Env, name: &str) -> u64 {
    let d = env.describe(name);
    d["requested_workers"]
        .as_u64()
        .or(d["workers"].as_u64())
        .unwrap_or(0)
}

/// The whole story on one backend: bounds 1..3 on a 1-worker cluster.
fn adapts_under_load(env: &Env, backend: &str, name: &str) {
    let qualified = format!("{backend}/{name}");
    env.run(&[
        "create",
        backend,
        "--name",
        name,
        "--workers",
        "1",
        "--timeout",
        "180",
    ])
    .ok();
    // bounds are checked before anything is stored
    env.run(&["adapt", &qualified, "--minimum", "3", "--maximum", "2"])
        .code(2);
    env.run(&["adapt", &qualified, "--minimum", "1"]).code(2);
    let stored = env
        .run(&["adapt", &qualified, "--minimum", "1", "--maximum", "3"])
        .ok();
    // bounds nothing applies yet: adapt itself warns
    assert!(
        stored.stderr.contains("warning:") && stored.stderr.contains("never applied"),
        "{}",
        stored.stderr
    );
    let c = env.describe(&qualified);
    assert_eq!(c["adapt_by"], "reconcile", "{c}");
    assert_eq!(
        c["adapt"]["maximum"], 3,
        "the policy is listed with the cluster"
    );
    // nothing applied it yet, and everything says so
    assert!(c["adapt_applied"].is_null(), "{c}");
    let text = env.run(&["describe", &qualified]).ok().stdout;
    assert!(
        text.contains("never applied: its size changes only once `daskctl reconcile` runs"),
        "{text}"
    );
    // no work: nothing to do
    let a = reconcile(env);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0]["action"], "same", "{a:?}");
    assert!(env.describe(&qualified)["adapt_applied"].is_string());
    let text = env.run(&["describe", &qualified]).ok().stdout;
    assert!(text.contains("applied by daskctl reconcile"), "{text}");
    // bounds changed once a reconcile applies them: no warning
    let again = env
        .run(&["adapt", &qualified, "--minimum", "1", "--maximum", "3"])
        .ok();
    assert!(!again.stderr.contains("warning:"), "{}", again.stderr);
    reconcile(env);

    let address = env.describe(&qualified)["address"]
        .as_str()
        .unwrap()
        .to_string();
    let mut work = workload(&address, 150, 0.4);
    // two passes at once: absolute targets under a lock never add up to more than the maximum
    // passes run until the policy's maximum is asked for: the first may ask for less (Dask's
    // target follows the tasks the scheduler has seen so far, and the workload is still
    // submitting them)
    let mut grew = false;
    wait_until(
        "reconcile to scale up to 3",
        Duration::from_secs(90),
        || {
            let (x, y) = (
                env.start(&["reconcile", "-o", "json"]),
                env.start(&["reconcile", "-o", "json"]),
            );
            let (x, y) = (x.finish(), y.finish());
            for o in [&x, &y] {
                assert!(o.code == 0, "reconcile failed: {}", o.stderr);
                let actions = o.json()["actions"].clone();
                grew |= actions.to_string().contains("\"up\"");
            }
            let n = requested(env, &qualified);
            assert!(n <= 3, "over-scaled to {n}");
            grew && n == 3
        },
    );
    // the two new worker jobs may queue behind other tests' jobs on a shared bed
    wait_until("3 workers connected", Duration::from_secs(300), || {
        support::workers(env, &qualified) == 3
    });
    assert_eq!(requested(env, &qualified), 3);
    // the work ends: down to the minimum, only after the damping passes
    wait_until("the workload to finish", Duration::from_secs(120), || {
        work.0.try_wait().unwrap().is_some()
    });
    let mut passes = 0;
    wait_until(
        "reconcile to shrink to the minimum",
        Duration::from_secs(120),
        || {
            passes += 1;
            let a = reconcile(env);
            assert!(a[0]["action"] != "failed", "{a:?}");
            requested(env, &qualified) == 1
        },
    );
    assert!(
        passes >= 3,
        "retired after {passes} pass(es), before Dask's wait-count of 3"
    );
    wait_until("1 worker connected", Duration::from_secs(60), || {
        support::workers(env, &qualified) == 1
    });

    // another daskctl holding the cluster's lock: this pass skips it
    let dir = match backend {
        "local" => env.state().join("local").join(name),
        _ => env.dir.path().join("shared").join(name),
    };
    let f = std::fs::File::create(dir.join("policy.lock")).unwrap();
    let held = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive).unwrap();
    let a = reconcile(env);
    assert_eq!(a[0]["action"], "skipped", "{a:?}");
    drop(held);

    // an explicit scale ends adaptive scaling, as with Dask's own clusters
    let o = env.run(&["scale", &qualified, "2"]).ok();
    assert!(o.stderr.contains("no longer adapts"), "{}", o.stderr);
    assert!(env.describe(&qualified).get("adapt").is_none());
    env.run(&["adapt", &qualified, "--minimum", "1", "--maximum", "2"])
        .ok();
    env.run(&["adapt", &qualified, "--off"]).ok();
    assert!(env.describe(&qualified).get("adapt").is_none());
    assert!(reconcile(env).is_empty());
    env.run(&["delete", &qualified, "--yes", "--wait"]).ok();
}

#[test]
fn local_cluster_adapts_to_a_real_workload() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    adapts_under_load(&env, "local", "adaptive");
}

#[test]
fn slurm_cluster_adapts_to_a_real_workload() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    adapts_under_load(&env, "slurm", "adaptive");
}

#[test]
fn adapt_refuses_clusters_it_cannot_keep_a_policy_for() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    env.run(&["adapt", "no-such", "--minimum", "1", "--maximum", "2"])
        .code(3);
    env.run(&["adapt", "x", "--off", "--minimum", "1"]).code(2);
    env.run(&["reconcile", "--watch", "--interval", "0s"])
        .code(2);
    let (_sched, addr) = support::DaskProc::scheduler(&[]);
    let port = addr.rsplit(':').next().unwrap();
    let o = env
        .run(&[
            "adapt",
            &format!("local/port-{port}"),
            "--minimum",
            "0",
            "--maximum",
            "2",
        ])
        .code(2);
    assert!(
        o.stderr.contains("cannot keep an adaptive policy"),
        "{}",
        o.stderr
    );
}

/// `create --idle-timeout`: Dask's own idle timeout ends the cluster with no daskctl running.
#[test]
fn local_idle_timeout_ends_the_cluster_by_itself() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    env.run(&["create", "local", "--name", "idler", "--idle-timeout", "0s"])
        .code(2);
    env.run(&[
        "create",
        "local",
        "--name",
        "idler",
        "--workers",
        "1",
        "--idle-timeout",
        "2s",
    ])
    .ok();
    assert!(!env.marked_pids("idler").is_empty());
    // nobody runs daskctl now: the scheduler closes itself, its worker follows
    wait_until(
        "the idle cluster to end itself",
        Duration::from_secs(90),
        || env.marked_pids("idler").is_empty(),
    );
    let d = env.describe("local/idler");
    assert_eq!(d["status"], "stopped", "{d}");
    let log = env.run(&["logs", "local/idler", "--scheduler"]).ok().stdout;
    assert!(log.contains("idle"), "{log}");
    env.run(&["delete", "local/idler", "--yes"]).ok();
}

#[test]
fn slurm_idle_timeout_ends_the_scheduler_job_and_workers_follow() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    let plan = env
        .run(&[
            "create",
            "slurm",
            "--name",
            "idle",
            "--idle-timeout",
            "30s",
            "--dry-run",
        ])
        .ok()
        .stdout;
    assert!(plan.contains("--idle-timeout 30s"), "{plan}");
    assert!(plan.contains("--death-timeout"), "{plan}");
    env.run(&[
        "create",
        "slurm",
        "--name",
        "idle",
        "--workers",
        "1",
        "--idle-timeout",
        "3s",
        "--timeout",
        "180",
    ])
    .ok();
    let scheduler_job = |env: &Env| {
        env.describe("slurm/idle")["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["role"] == "scheduler" && r["state"] == "running")
    };
    // create returned: the scheduler ran; nobody runs daskctl now
    wait_until(
        "the scheduler job to end itself",
        Duration::from_secs(90),
        || env.find("idle").is_none_or(|_| !scheduler_job(&env)),
    );
    env.run(&["delete", "slurm/idle", "--yes", "--wait"]).ok();
}

/// `reconcile --watch` keeps applying policies until interrupted; Ctrl-C ends it with 0.
#[test]
fn reconcile_watch_applies_policies_until_interrupted() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    env.run(&["create", "local", "--name", "watched", "--workers", "1"])
        .ok();
    let watch = env.start(&["reconcile", "--watch", "--interval", "1s"]);
    // a policy set while it runs is picked up by a later pass: the minimum is 2
    env.run(&["adapt", "watched", "--minimum", "2", "--maximum", "2"])
        .ok();
    wait_until(
        "the watch to apply the minimum",
        Duration::from_secs(60),
        || requested(&env, "local/watched") == 2,
    );
    watch.signal("INT");
    let o = watch.finish();
    assert_eq!(o.code, 0, "{}", o.stderr);
    env.run(&["delete", "local/watched", "--yes"]).ok();
}

/// The `reconcile` actions on cluster `name`.
fn actions_on(env: &Env, args: &[&str], name: &str) -> Vec<serde_json::Value> {
    let mut argv = vec!["reconcile", "-o", "json"];
    argv.extend(args);
    let o = env.run(&argv).ok();
    o.json()["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["cluster"] == name)
        .cloned()
        .collect()
}

/// `create --ttl` on a backend that keeps the policy with the cluster: reconcile says it would
/// delete it once the TTL ran out, and deletes it (verified gone) only with --yes.
fn ttl_ends_the_cluster(env: &Env, backend: &str, name: &str, alive: impl Fn(&Env) -> bool) {
    let q = format!("{backend}/{name}");
    env.run(&[
        "create",
        backend,
        "--name",
        name,
        "--workers",
        "1",
        "--ttl",
        "2s",
        "--timeout",
        "180",
    ])
    .ok();
    let d = env.describe(&q);
    assert!(d["expires"].is_string(), "the TTL is listed: {d}");
    assert!(
        actions_on(env, &[], name).is_empty(),
        "not expired yet: nothing to do"
    );
    let mut a = Vec::new();
    wait_until("the TTL to run out", Duration::from_secs(30), || {
        a = actions_on(env, &[], name);
        !a.is_empty()
    });
    assert_eq!(a[0]["action"], "would-delete", "{a:?}");
    assert!(
        a[0]["detail"].as_str().unwrap().contains("TTL expired"),
        "{a:?}"
    );
    assert!(alive(env), "without --yes nothing is deleted");
    let a = actions_on(env, &["--yes"], name);
    assert_eq!(a[0]["action"], "deleted", "{a:?}");
    assert!(!alive(env), "deleted means gone");
    env.run(&["describe", &q]).code(3);
}

#[test]
fn local_ttl_is_enforced_by_reconcile_yes() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    ttl_ends_the_cluster(&env, "local", "short-lived", |e| {
        !e.marked_pids("short-lived").is_empty()
    });
}

#[test]
fn slurm_ttl_is_enforced_by_reconcile_yes() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    ttl_ends_the_cluster(&env, "slurm", "short-lived", |_| {
        !support::slurm_jobs("short-lived-").is_empty()
    });
}

/// A cluster Dask's own idle timeout ended leaves its state behind: reconcile --yes removes it.
#[test]
fn reconcile_removes_what_an_idle_timeout_left() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    env.run(&[
        "create",
        "local",
        "--name",
        "idle-left",
        "--workers",
        "1",
        "--idle-timeout",
        "2s",
    ])
    .ok();
    assert_eq!(env.describe("local/idle-left")["idle_timeout"], 2);
    wait_until(
        "the idle cluster to end itself",
        Duration::from_secs(90),
        || env.marked_pids("idle-left").is_empty(),
    );
    let a = actions_on(&env, &[], "idle-left");
    assert_eq!(a[0]["action"], "would-delete", "{a:?}");
    assert!(
        a[0]["detail"]
            .as_str()
            .unwrap()
            .contains("idle timeout of 2s"),
        "{a:?}"
    );
    assert!(env.state_dirs().contains(&"idle-left".to_string()));
    let a = actions_on(&env, &["--yes"], "idle-left");
    assert_eq!(a[0]["action"], "deleted", "{a:?}");
    assert!(!env.state_dirs().contains(&"idle-left".to_string()));
}
