//! The fault matrix: faults injected through the real binary, each test asserting that nothing
//! is lost (a live process always shows in `list`), nothing leaks (what daskctl started is
//! gone after `delete`/`cleanup`), every report is true ("deleted" means gone; a live
//! scheduler is never `orphaned`), and nothing panics or hangs.

use crate::support::processes::FaultServer;
use crate::support::{self, DaskProc, Env, alive, wait_until};
use std::time::Duration;

const HANG: Duration = Duration::from_secs(90);

fn port(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap()
}

fn reason(c: &serde_json::Value) -> String {
    c["reason"].as_str().unwrap_or_default().to_string()
}

fn worker_pids(c: &serde_json::Value) -> Vec<i32> {
    c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] == "worker")
        .map(|r| r["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

fn resource_pids(c: &serde_json::Value) -> Vec<i32> {
    c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Every process daskctl started for `name` is among the cluster's resources, or descends from
/// one that is (a nanny's worker child, and a worker's own helpers such as multiprocessing's
/// resource tracker, inherit the markers and are represented by their ancestor). A worker child
/// whose nanny was just killed exits by itself within moments (it watches its parent): the
/// listing is taken again until it settles, and a process still running and unlisted after
/// 20 seconds fails the test.
fn nothing_hidden(env: &Env, name: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let c = env
            .find(name)
            .unwrap_or_else(|| panic!("{name} hidden while {:?} run", env.marked_pids(name)));
        let listed = resource_pids(&c);
        let hidden: Vec<i32> = env
            .marked_pids(name)
            .into_iter()
            .filter(|&pid| {
                let mut ancestor = pid;
                while ancestor > 1 && !listed.contains(&ancestor) {
                    ancestor = support::ppid(ancestor);
                }
                !listed.contains(&ancestor) && alive(pid)
            })
            .collect();
        if hidden.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "processes {hidden:?} of {name} are not listed: {c}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn actions(report: &serde_json::Value) -> Vec<String> {
    report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{}:{}",
                a["cluster"].as_str().unwrap(),
                a["action"].as_str().unwrap()
            )
        })
        .collect()
}

/// A hand-started scheduler with two workers, frozen with SIGSTOP: `unknown` (never
/// `orphaned`), and `cleanup --orphaned --yes` leaves its workers alone; resumed, it runs on
/// with both.
#[test]
fn paused_foreign_scheduler_is_unknown_and_keeps_its_workers() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    let (sched, addr) = DaskProc::scheduler(&[]);
    let w1 = DaskProc::worker(&addr, &[]);
    let w2 = DaskProc::worker(&addr, &[]);
    let name = format!("port-{}", port(&addr));
    wait_until("2 workers", Duration::from_secs(60), || {
        env.find(&name).is_some_and(|c| c["workers"] == 2)
    });
    support::signal(sched.pid(), "STOP");
    let c = env.describe(&name);
    assert_eq!(c["status"], "unknown", "{c}");
    assert!(
        reason(&c).contains(&format!("kill -CONT {}", sched.pid())),
        "{c}"
    );
    assert_eq!(worker_pids(&c).len(), 2, "{c}");
    assert!(!c["created"].is_null(), "age from the process: {c}");
    let done = env
        .run(&["cleanup", "--orphaned", &name, "--yes", "-o", "json"])
        .ok()
        .json();
    assert!(actions(&done).is_empty(), "{done}");
    assert!(alive(w1.pid()) && alive(w2.pid()), "a worker was killed");
    support::signal(sched.pid(), "CONT");
    wait_until("resumed with both workers", Duration::from_secs(60), || {
        env.find(&name)
            .is_some_and(|c| c["status"] == "running" && c["workers"] == 2)
    });
}

/// A frozen `dask scheduler` among healthy ones, and a Dask-shaped process that never answers:
/// all are listed (the frozen and the silent one `unknown`, saying why) within a short deadline.
#[test]
fn frozen_and_silent_schedulers_are_listed_within_the_deadline() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    let (_healthy, healthy_addr) = DaskProc::scheduler(&[]);
    let (frozen, frozen_addr) = DaskProc::scheduler(&[]);
    let silent = FaultServer::start("silent", &["dask", "scheduler"]);
    support::signal(frozen.pid(), "STOP");
    let out = env
        .run_bounded(
            &["list", "-b", "local", "--timeout", "2", "-o", "json"],
            HANG,
        )
        .ok();
    let all = out.json();
    let get = |p: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == format!("port-{p}"))
            .cloned()
            .unwrap_or_else(|| panic!("port-{p} hidden: {all}"))
    };
    assert_eq!(get(port(&healthy_addr))["status"], "running");
    let f = get(port(&frozen_addr));
    assert_eq!(f["status"], "unknown", "{f}");
    assert!(reason(&f).contains("stopped by a signal"), "{f}");
    let s = get(&silent.port.to_string());
    assert_eq!(s["status"], "unknown", "{s}");
    assert!(reason(&s).contains("does not answer"), "{s}");
    support::signal(frozen.pid(), "CONT");
}

/// A TLS scheduler whose certificate is X.509 version 1 works for Dask (OpenSSL) but cannot be
/// verified by daskctl (rustls): it is listed as `unknown`, saying exactly that.
#[test]
fn tls_scheduler_with_a_v1_certificate_is_listed_with_the_reason() {
    let _g = support::serial();
    let pki = crate::support::tls::make_v1("v1");
    let (_s, addr) = DaskProc::tls_scheduler(&pki);
    let env = Env::new()
        .without_batch()
        .with("DASK_CONFIG", pki.dask_config_dir().to_str().unwrap());
    let name = format!("port-{}", port(&addr));
    let c = env
        .find(&name)
        .unwrap_or_else(|| panic!("v1 TLS scheduler hidden: {:?}", env.list()));
    assert_eq!(c["status"], "unknown", "{c}");
    assert!(reason(&c).contains("X.509 version 1"), "{c}");
}

/// daskctl's own cluster with its scheduler frozen: `unknown`, kept by `cleanup --orphaned`,
/// running again once continued.
#[test]
fn own_paused_scheduler_is_unknown_and_kept() {
    let env = Env::new().without_batch();
    env.run(&["create", "local", "--name", "own-frozen", "--workers", "2"])
        .ok();
    let sched = env.state_json("own-frozen").unwrap()["scheduler"]["pid"]
        .as_i64()
        .unwrap() as i32;
    support::signal(sched, "STOP");
    let c = env.describe("own-frozen");
    assert_eq!(c["status"], "unknown", "{c}");
    assert!(reason(&c).contains("kill -CONT"), "{c}");
    let done = env
        .run(&["cleanup", "--orphaned", "own-frozen", "--yes", "-o", "json"])
        .ok()
        .json();
    assert!(actions(&done).is_empty(), "{done}");
    env.run(&["scale", "own-frozen", "3"]).code(1);
    assert_eq!(
        env.state_json("own-frozen").unwrap()["workers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    support::signal(sched, "CONT");
    wait_until("running again", Duration::from_secs(60), || {
        env.find("own-frozen")
            .is_some_and(|c| c["status"] == "running" && c["workers"] == 2)
    });
    env.run(&["delete", "own-frozen", "--yes"]).ok();
    assert!(env.marked_pids("own-frozen").is_empty());
}

/// `delete` of a frozen hand-started scheduler stops it for real (SIGCONT, SIGTERM, SIGKILL)
/// and its worker; "deleted" is said only when both are gone.
#[test]
fn frozen_foreign_scheduler_is_deleted_for_real() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    let (sched, addr) = DaskProc::scheduler(&[]);
    let w = DaskProc::worker(&addr, &[]);
    let name = format!("port-{}", port(&addr));
    wait_until("worker joined", Duration::from_secs(60), || {
        env.find(&name).is_some_and(|c| c["workers"] == 1)
    });
    support::signal(sched.pid(), "STOP");
    let o = env.run(&["delete", &name, "--yes"]).ok();
    assert!(o.stderr.contains("deleted"), "{}", o.stderr);
    assert!(!alive(sched.pid()), "scheduler still runs after 'deleted'");
    assert!(!alive(w.pid()), "worker still runs after 'deleted'");
    assert!(env.find(&name).is_none());
}

/// A scheduler inside a program (a paused notebook) that does not answer: `delete` touches
/// nothing, says so with exit 4, and the cluster stays listed; resumed, it still has its worker.
#[test]
fn silent_scheduler_inside_a_program_is_not_deleted() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    let (py, addr) = support::python_cluster(
        &env,
        "from distributed import LocalCluster\nimport time\nc = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host='127.0.0.1', dashboard_address='127.0.0.1:0')\nprint(c.scheduler_address, flush=True)\ntime.sleep(600)\n",
    );
    let name = format!("port-{}", port(&addr));
    wait_until(
        "LocalCluster with its worker",
        Duration::from_secs(60),
        || env.find(&name).is_some_and(|c| c["workers"] == 1),
    );
    let program = py.id() as i32;
    support::signal(program, "STOP");
    let c = env.describe(&name);
    assert_eq!(c["status"], "unknown", "{c}");
    let workers = worker_pids(&c);
    assert_eq!(workers.len(), 1, "{c}");
    let o = env.run(&["delete", &name, "--yes"]).code(4);
    assert!(o.stderr.contains("was not deleted"), "{}", o.stderr);
    assert!(alive(program) && workers.iter().all(|p| alive(*p)));
    assert!(env.find(&name).is_some(), "hidden after a failed delete");
    let done = env
        .run(&[
            "cleanup",
            "--orphaned",
            "--older-than",
            "0s",
            &name,
            "--yes",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert!(actions(&done).is_empty(), "{done}");
    support::signal(program, "CONT");
    wait_until(
        "running again with its worker",
        Duration::from_secs(60),
        || {
            env.find(&name)
                .is_some_and(|c| c["status"] == "running" && c["workers"] == 1)
        },
    );
}

/// Servers that misbehave in every way found while fuzzing: none makes daskctl panic or hang,
/// the Dask-shaped ones stay listed (`unknown`), absurd times are ignored, and cleanup leaves
/// them all alone.
#[test]
fn misbehaving_servers_never_panic_hang_or_hide() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    let modes = [
        "silent",
        "garbage",
        "huge-header",
        "wrapping-lengths",
        "truncated-msgpack",
        "bad-msgpack",
        "deep-msgpack",
        "http",
        "close",
        "one-byte-per-second",
        "not-a-map",
        "absurd-times",
        "huge-times",
    ];
    let servers: Vec<(&str, FaultServer)> = modes
        .iter()
        .map(|m| (*m, FaultServer::start(m, &["dask", "scheduler"])))
        .collect();
    let list = env
        .run_bounded(
            &["list", "-b", "local", "--timeout", "5", "-o", "json"],
            HANG,
        )
        .ok()
        .json();
    for (mode, s) in &servers {
        let c = list
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == format!("port-{}", s.port))
            .unwrap_or_else(|| panic!("{mode} server hidden: {list}"));
        if mode.ends_with("-times") {
            assert_eq!(c["status"], "running", "{mode}: {c}");
            assert!(
                c["idle_since"].is_null(),
                "{mode}: absurd idle time taken: {c}"
            );
            assert!(
                c["created"].as_str().is_some_and(|t| t < "2100"),
                "{mode}: absurd start taken: {c}"
            );
        } else {
            assert_eq!(c["status"], "unknown", "{mode}: {c}");
        }
        let addr = format!("tcp://127.0.0.1:{}", s.port);
        let o = env.run_bounded(&["describe", &addr, "-o", "json"], HANG);
        assert!(
            o.code == 0 || o.code == 1,
            "{mode}: describe exit {}: {}",
            o.code,
            o.stderr
        );
        let o = env.run_bounded(&["snippet", &addr], HANG);
        assert!(
            o.code == 0 || o.code == 1,
            "{mode}: snippet exit {}: {}",
            o.code,
            o.stderr
        );
    }
    let mut argv = vec![
        "cleanup",
        "--orphaned",
        "--older-than",
        "0s",
        "--yes",
        "-o",
        "json",
    ];
    let names: Vec<String> = servers
        .iter()
        .map(|(_, s)| format!("port-{}", s.port))
        .collect();
    argv.extend(names.iter().map(String::as_str));
    let done = env.run_bounded(&argv, HANG).ok().json();
    assert!(actions(&done).is_empty(), "{done}");
    for (mode, s) in &servers {
        assert!(alive(s.pid()), "{mode} server was killed");
    }
}

/// Names that look like paths never reach the file system: exit 2 before any file is read,
/// and the planted directory and the process its state names survive.
#[test]
fn path_like_names_are_refused_before_any_file_is_read() {
    let env = Env::new().without_batch();
    let mut sleeper = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let victim = env.dir.path().join("victim");
    support::plant_state(&victim, "victim", sleeper.id() as i32);
    let abs = victim.to_str().unwrap().to_string();
    let up = "../../../victim".to_string();
    for name in [&up, &abs, &"local/../x".to_string(), &"..".to_string()] {
        for argv in [
            vec!["delete", name, "--yes"],
            vec!["describe", name],
            vec!["scale", name, "3"],
            vec!["logs", name],
            vec!["snippet", name],
        ] {
            let o = env.run(&argv).code(2);
            o.one_line_error();
        }
    }
    assert!(victim.join("state.json").is_file(), "planted state removed");
    assert!(
        alive(sleeper.id() as i32),
        "the process a planted state named was killed"
    );
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

/// A state file naming a process daskctl did not start (same user, no markers): it is never
/// signalled, and delete says the cluster is not gone.
#[test]
fn planted_state_never_gets_a_process_killed() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    let mut sleeper = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let pid = sleeper.id() as i32;
    support::plant_state(&env.state().join("local/planted"), "planted", pid);
    let c = env.describe("planted");
    assert_ne!(c["status"], "orphaned", "{c}");
    env.run(&["delete", "planted", "--yes"]).code(1);
    env.run(&[
        "cleanup",
        "--orphaned",
        "--older-than",
        "0s",
        "planted",
        "--yes",
    ]);
    assert!(alive(pid), "a process the state named was killed");
    assert!(
        env.find("planted").is_some(),
        "hidden after a failed delete"
    );
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

/// Truncated, garbage or missing state, or a missing state directory: the cluster is rebuilt
/// from its processes (saying so), describe works, scale keeps it whole (unique worker names,
/// its scheduler kept), and delete stops everything.
#[test]
fn corrupt_truncated_and_missing_state_are_rebuilt_and_deletable() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    for case in ["truncated", "garbage", "no-file", "no-dir"] {
        let name = format!("st-{case}");
        env.run(&["create", "local", "--name", &name, "--workers", "1"])
            .ok();
        let dir = env.state().join("local").join(&name);
        let file = dir.join("state.json");
        match case {
            "truncated" => {
                let text = std::fs::read(&file).unwrap();
                std::fs::write(&file, &text[..text.len() / 2]).unwrap();
            }
            "garbage" => std::fs::write(&file, b"\x00\xffnot json").unwrap(),
            "no-file" => std::fs::remove_file(&file).unwrap(),
            _ => std::fs::remove_dir_all(&dir).unwrap(),
        }
        let c = env.describe(&name);
        assert_eq!(c["status"], "running", "{case}: {c}");
        assert!(reason(&c).contains("rebuilt"), "{case}: {c}");
        nothing_hidden(&env, &name);
        env.run(&["scale", &name, "2", "--wait", "--timeout", "60"])
            .ok();
        let c = env.describe(&name);
        assert_eq!(c["workers"], 2, "{case}: {c}");
        let names: Vec<&str> = c["worker_details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            vec![format!("{name}-0"), format!("{name}-1")],
            "{case}"
        );
        let st = env.state_json(&name).expect("a state written by scale");
        assert!(
            st["scheduler"]["pid"].is_i64(),
            "{case}: rebuilt state lost its scheduler"
        );
        env.run(&["delete", &name, "--yes"]).ok();
        assert!(env.marked_pids(&name).is_empty(), "{case}: processes left");
        assert!(!dir.exists(), "{case}: state left");
    }
}

/// A state root that cannot be read is an error (exit 4, a warning), never an empty list; an
/// empty or relative state directory setting is a usage error.
#[test]
fn unreadable_state_root_is_an_error_not_an_empty_list() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    std::fs::create_dir_all(env.state()).unwrap();
    std::fs::write(env.state().join("local"), b"not a directory").unwrap();
    let o = env.run(&["list", "-b", "local"]).code(4);
    assert!(
        o.stderr.contains("cannot read the state directory"),
        "{}",
        o.stderr
    );
    for bad in ["", "relative"] {
        let o = env
            .command(&["list"])
            .env("DASKCTL_STATE_DIR", bad)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
}

/// The moments of a `create` at which it is interrupted, as its write-ahead state shows them.
/// A moment of a command, and how its state file shows that it has been reached.
type Moment = (&'static str, fn(&serde_json::Value) -> bool);

fn create_moments() -> Vec<Moment> {
    vec![
        ("state written", |_| true),
        ("scheduler recorded", |s| s["scheduler"].is_object()),
        ("scheduler address known", |s| s["address"].is_string()),
        ("a worker recorded", |s| {
            s["workers"].as_array().is_some_and(|w| !w.is_empty())
        }),
        ("all workers recorded", |s| {
            s["workers"].as_array().is_some_and(|w| w.len() == 3)
        }),
    ]
}

/// Ctrl-C at each moment of `create`: exit 130 and nothing left (no process, no state).
#[test]
fn interrupted_create_leaves_nothing_behind() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    for (i, (moment, reached)) in create_moments().into_iter().enumerate() {
        let name = format!("int-create-{i}");
        let r = env.start(&["create", "local", "--name", &name, "--workers", "3"]);
        wait_until(moment, Duration::from_secs(60), || {
            env.state_json(&name).is_some_and(|s| reached(&s))
        });
        r.signal("INT");
        let o = r.finish();
        if o.code == 0 {
            // it finished first: a whole cluster, which delete removes
            env.run(&["delete", &name, "--yes"]).ok();
        } else {
            assert_eq!(o.code, 130, "{moment}: {}", o.stderr);
            assert!(
                o.stderr.contains("stopped and removed"),
                "{moment}: {}",
                o.stderr
            );
        }
        assert!(
            env.marked_pids(&name).is_empty(),
            "{moment}: processes left"
        );
        assert!(env.state_json(&name).is_none(), "{moment}: state left");
    }
}

/// SIGKILL at each moment of `create`: the cluster is listed (nothing hidden) as an interrupted
/// create, and `cleanup --orphaned` removes all of it.
#[test]
fn killed_create_is_found_and_cleaned_up() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    for (i, (moment, reached)) in create_moments().into_iter().enumerate() {
        let name = format!("kill-create-{i}");
        let r = env.start(&["create", "local", "--name", &name, "--workers", "3"]);
        wait_until(moment, Duration::from_secs(60), || {
            env.state_json(&name).is_some_and(|s| reached(&s))
        });
        r.signal("KILL");
        r.finish();
        nothing_hidden(&env, &name);
        let c = env.describe(&name);
        assert_eq!(c["status"], "orphaned", "{moment}: {c}");
        let done = env
            .run(&["cleanup", "--orphaned", &name, "--yes", "-o", "json"])
            .ok()
            .json();
        assert_eq!(actions(&done), vec![format!("{name}:deleted")], "{moment}");
        assert!(
            env.marked_pids(&name).is_empty(),
            "{moment}: processes left"
        );
        assert!(env.find(&name).is_none(), "{moment}: still listed");
    }
}

/// The twin of the killed create for `scale` up: SIGKILL at each moment of a scale from one
/// worker to four (a new worker recorded, all recorded); whatever it started is listed, and
/// `delete` removes all of it: "deleted" only when no process carrying the
/// cluster's markers is left, however late a nanny's worker process appeared.
#[test]
fn killed_scale_up_is_found_and_deleted() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    let moments: Vec<Moment> = vec![
        ("a new worker recorded", |s| {
            s["workers"].as_array().is_some_and(|w| w.len() >= 2)
        }),
        ("all new workers recorded", |s| {
            s["workers"].as_array().is_some_and(|w| w.len() >= 4)
        }),
    ];
    for (i, (moment, reached)) in moments.into_iter().enumerate() {
        let name = format!("kill-scale-{i}");
        env.run(&["create", "local", "--name", &name, "--workers", "1"])
            .ok();
        let r = env.start(&["scale", &name, "4", "--wait"]);
        wait_until(moment, Duration::from_secs(60), || {
            env.state_json(&name).is_some_and(|s| reached(&s))
        });
        r.signal("KILL");
        r.finish();
        nothing_hidden(&env, &name);
        env.run(&["delete", &name, "--yes"]).ok();
        assert!(
            env.marked_pids(&name).is_empty(),
            "{moment}: processes left"
        );
        assert!(env.find(&name).is_none(), "{moment}: still listed");
    }
}

/// Ctrl-C during `scale --wait` up stops exactly the workers it started; SIGKILL leaves them
/// listed (recorded or not) and `delete` stops them all.
#[test]
fn interrupted_scale_up_stops_or_shows_what_it_started() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    env.run(&["create", "local", "--name", "int-scale", "--workers", "1"])
        .ok();
    let first = worker_pids(&env.describe("int-scale"));
    let r = env.start(&["scale", "int-scale", "4", "--wait"]);
    wait_until("a new worker recorded", Duration::from_secs(60), || {
        env.state_json("int-scale")
            .is_some_and(|s| s["workers"].as_array().unwrap().len() >= 2)
    });
    r.signal("INT");
    let o = r.finish();
    if o.code != 0 {
        assert_eq!(o.code, 130, "{}", o.stderr);
        let st = env.state_json("int-scale").unwrap();
        assert_eq!(st["workers"].as_array().unwrap().len(), 1, "{st}");
        wait_until("back to one worker", Duration::from_secs(60), || {
            support::workers(&env, "int-scale") == 1
        });
        assert!(
            first.iter().all(|p| alive(*p)),
            "the original worker was stopped"
        );
    }
    nothing_hidden(&env, "int-scale");

    let r = env.start(&["scale", "int-scale", "6", "--wait"]);
    wait_until("new workers started", Duration::from_secs(60), || {
        env.state_json("int-scale")
            .is_some_and(|s| s["workers"].as_array().unwrap().len() >= 3)
    });
    r.signal("KILL");
    r.finish();
    nothing_hidden(&env, "int-scale");
    env.run(&["delete", "int-scale", "--yes"]).ok();
    assert!(env.marked_pids("int-scale").is_empty(), "processes left");
}

/// SIGKILL and Ctrl-C during `scale` down and during `delete`: what still runs stays listed,
/// and a second `delete` removes it.
#[test]
fn interrupted_scale_down_and_delete_leave_nothing_hidden() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    for (sig, verb) in [
        ("KILL", "down"),
        ("KILL", "delete"),
        ("INT", "down"),
        ("INT", "delete"),
    ] {
        let name = format!("{}-{verb}", sig.to_lowercase());
        let argv = match verb {
            "down" => vec!["scale", name.as_str(), "1"],
            _ => vec!["delete", name.as_str(), "--yes"],
        };
        let name = name.as_str();
        env.run(&["create", "local", "--name", name, "--workers", "3"])
            .ok();
        let before = env.marked_pids(name);
        let r = env.start(&argv);
        wait_until("a process stopped", Duration::from_secs(60), || {
            before.iter().any(|p| !alive(*p))
        });
        r.signal(sig);
        let o = r.finish();
        assert!(o.code != 101, "{name}: panicked: {}", o.stderr);
        if !env.marked_pids(name).is_empty() {
            nothing_hidden(&env, name);
        }
        if env.find(name).is_some() {
            env.run(&["delete", name, "--yes"]).ok();
        }
        assert!(env.marked_pids(name).is_empty(), "{name}: processes left");
        assert!(env.state_json(name).is_none(), "{name}: state left");
    }
}

/// A nanny's worker child outlives its nanny and its scheduler (both SIGKILLed) and its state
/// directory (removed): its command line names no scheduler and, stopped, it answers nothing.
/// It is still listed at once, under the cluster its markers name, as `orphaned`; `delete`
/// stops it and says so only once it is gone.
#[test]
fn a_worker_child_left_without_nanny_scheduler_or_state_is_listed_and_deleted() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    let name = "left-child";
    env.run(&["create", "local", "--name", name, "--workers", "1"])
        .ok();
    let st = env.state_json(name).unwrap();
    let pid = |v: &serde_json::Value| v["pid"].as_i64().unwrap() as i32;
    let (sched, nanny) = (pid(&st["scheduler"]), pid(&st["workers"][0]));
    let mut children = Vec::new();
    wait_until("the nanny's worker process", HANG, || {
        children = env
            .marked_pids(name)
            .into_iter()
            .filter(|p| support::ppid(*p) == nanny)
            .collect();
        !children.is_empty()
    });
    for c in &children {
        support::signal(*c, "STOP");
    }
    support::signal(nanny, "KILL");
    support::signal(sched, "KILL");
    std::fs::remove_dir_all(env.state().join("local").join(name)).unwrap();
    wait_until("nanny and scheduler gone", HANG, || {
        !alive(nanny) && !alive(sched)
    });

    let c = env.find(name).expect("the worker child is listed");
    assert_eq!(c["status"], "orphaned", "{c}");
    let listed = resource_pids(&c);
    assert!(
        children.iter().all(|p| listed.contains(p)),
        "{children:?} in {c}"
    );

    env.run(&["delete", name, "--yes"]).ok();
    assert!(children.iter().all(|p| !alive(*p)), "{children:?} survived");
    assert!(env.find(name).is_none());
}

/// `scale --wait` ends with the reason, long before its timeout, when a new worker exits
/// (its log's last lines in the error) and when the cluster is deleted meanwhile.
#[test]
fn scale_wait_stops_when_workers_die_or_the_cluster_goes() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    env.run(&["create", "local", "--name", "wait-dies", "--workers", "1"])
        .ok();
    // new workers of this cluster run a "Python" that fails at once
    let fail = env.dir.path().join("failing-python");
    support::script(
        &fail,
        "#!/bin/sh\necho 'no module named dask (test)' >&2\nexit 1\n",
    );
    support::set_state_python(&env, "wait-dies", &fail);
    let o = env
        .run_bounded(
            &["scale", "wait-dies", "3", "--wait", "--timeout", "300"],
            HANG,
        )
        .code(1);
    assert!(o.stderr.contains("exited before joining"), "{}", o.stderr);
    assert!(
        o.stderr.contains("no module named dask (test)"),
        "{}",
        o.stderr
    );

    // new workers that never join, and a delete meanwhile
    let hang = env.dir.path().join("hanging-python");
    support::script(&hang, "#!/bin/sh\nexec sleep 600\n");
    support::set_state_python(&env, "wait-dies", &hang);
    let r = env.start(&["scale", "wait-dies", "2", "--wait", "--timeout", "300"]);
    wait_until("the new worker recorded", Duration::from_secs(60), || {
        env.state_json("wait-dies")
            .is_some_and(|s| s["workers"].as_array().unwrap().len() == 2)
    });
    env.run(&["delete", "wait-dies", "--yes"]).ok();
    let deadline = std::time::Instant::now() + HANG;
    let mut r = r;
    while r.child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "scale --wait hung after delete"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = r.finish();
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("deleted while waiting"), "{}", o.stderr);
    assert!(env.marked_pids("wait-dies").is_empty());
}

/// Absurd durations on flags and in the environment are usage errors (they used to overflow
/// and panic); a name with a reserved prefix is refused before anything starts.
#[test]
fn absurd_durations_and_reserved_names_are_usage_errors() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    for argv in [
        vec!["list", "--timeout", "1e20"],
        vec!["cleanup", "--older-than", "1e19", "--orphaned"],
        vec!["create", "local", "--timeout", "99999999999999999999"],
        vec!["scale", "x", "1", "--timeout", "366d"],
        vec!["create", "local", "--name", "port-8786"],
    ] {
        env.run(&argv).code(2).one_line_error();
    }
    for (k, v) in [
        ("DASKCTL_TIMEOUT", "1e19"),
        ("DASKCTL_PROBE__TIMEOUT", "1e20"),
    ] {
        let o = env.command(&["list"]).env(k, v).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{k}={v}");
    }
    assert!(env.state_dirs().is_empty());
}

/// Another Unix user's clusters, hand-started or made by their daskctl in their own state
/// directory: root's daskctl never lists, scales or deletes them, and its cleanup (even pointed
/// at their state directory) leaves their processes running.
#[test]
fn another_users_clusters_are_never_listed_scaled_or_deleted() {
    let Some(other) = support::users::OtherUser::get() else {
        return;
    };
    let _g = support::serial();
    let (sched, addr) = other.scheduler();
    let w = other.worker(&addr);
    let name = format!("port-{}", port(&addr));
    let o = other.daskctl(&["create", "local", "--name", "theirs", "--workers", "1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let theirs = other.daskctl(&["describe", "theirs", "-o", "json"]);
    let theirs: serde_json::Value = serde_json::from_str(&theirs.stdout).unwrap();
    assert_eq!(theirs["owner"], "daskctl-other");
    let their_pids = resource_pids(&theirs);

    for env in [
        Env::new().without_batch(),
        Env::new()
            .without_batch()
            .with("DASKCTL_STATE_DIR", other.state().to_str().unwrap()),
    ] {
        let listed: Vec<String> = env
            .list()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        assert!(
            !listed.contains(&name) && !listed.contains(&"theirs".to_string()),
            "{listed:?}"
        );
        env.run(&["delete", &name, "--yes"]).code(3);
        env.run(&["delete", "theirs", "--yes"]).code(3);
        env.run(&["scale", "theirs", "3"]).code(3);
        env.run(&["cleanup", "--orphaned", "--older-than", "0s", "--yes"]);
        env.run(&["cleanup", "--older-than", "0s", "--yes"]);
        env.run(&["cleanup", "--idle", "0s", "--yes"]);
    }
    assert!(
        alive(sched.id() as i32) && alive(w.id() as i32),
        "their scheduler or worker was killed"
    );
    assert!(
        their_pids.iter().all(|p| alive(*p)),
        "their daskctl cluster was touched"
    );
    let o = other.daskctl(&["delete", "theirs", "--yes"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

/// A `scale --wait` whose target another `scale` changed meanwhile ends at once, saying so,
/// instead of waiting for a count that is no longer asked for.
#[test]
fn scale_wait_ends_when_another_scale_changes_the_target() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    env.run(&["create", "local", "--name", "retarget", "--workers", "1"])
        .ok();
    // new workers that never join: the first scale waits for them
    let hang = env.dir.path().join("hanging-python");
    support::script(&hang, "#!/bin/sh\nexec sleep 600\n");
    support::set_state_python(&env, "retarget", &hang);
    let r = env.start(&["scale", "retarget", "3", "--wait", "--timeout", "300"]);
    wait_until(
        "the first scale's workers recorded",
        Duration::from_secs(60),
        || {
            env.state_json("retarget")
                .is_some_and(|s| s["workers"].as_array().unwrap().len() == 3)
        },
    );
    env.run(&["scale", "retarget", "1"]).ok();
    let o = r.finish();
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("another scale of local/retarget asked for 1 worker(s) meanwhile"),
        "{}",
        o.stderr
    );
    env.run(&["delete", "retarget", "--yes"]).ok();
    assert!(env.marked_pids("retarget").is_empty());
}
