//! The local backend against real `dask scheduler` / `dask worker` processes.

use crate::conformance::Bed;
use crate::support::{self, DaskProc, Env, alive, tls, wait_until};
use std::time::Duration;

pub struct LocalBed;

impl Bed for LocalBed {
    fn backend(&self) -> &'static str {
        "local"
    }
    fn env(&self) -> Env {
        Env::new()
    }
    fn gone(&self, _env: &Env, c: &serde_json::Value) -> bool {
        c["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !alive(r["id"].as_str().unwrap().parse().unwrap()))
    }
}

crate::conformance!(conformance_local, super::LocalBed);

#[test]
fn processes_outlive_daskctl_and_delete_stops_them_all() {
    let env = Env::new();
    let c = env
        .run(&[
            "create",
            "local",
            "--name",
            "outlive",
            "--workers",
            "2",
            "--threads",
            "2",
            "--memory",
            "512MiB",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(c["threads"], 4);
    assert_eq!(c["memory"], 2 * 512 * 1024 * 1024);
    let pids: Vec<i32> = env.pids("outlive");
    assert_eq!(pids.len(), 3);
    // daskctl has exited; its processes have not
    assert!(pids.iter().all(|p| alive(*p)));
    assert!(
        env.state()
            .join("local/outlive/logs/scheduler.log")
            .is_file()
    );
    env.run(&["delete", "outlive", "--yes"]).ok();
    assert!(pids.iter().all(|p| !alive(*p)), "a process survived delete");
    assert!(
        env.state_dirs().is_empty(),
        "state left: {:?}",
        env.state_dirs()
    );
}

#[test]
fn concurrent_scales_serialise_and_leave_a_consistent_cluster() {
    let env = Env::new();
    env.run(&["create", "local", "--name", "race", "--workers", "1"])
        .ok();
    let a = env.command(&["scale", "race", "4"]).output().unwrap();
    let b = env
        .command(&["scale", "race", "2"])
        .spawn()
        .unwrap()
        .wait_with_output()
        .unwrap();
    assert!(a.status.success() && b.status.success());
    // now both orders at once
    let mut x = env.command(&["scale", "race", "3"]).spawn().unwrap();
    let mut y = env.command(&["scale", "race", "1"]).spawn().unwrap();
    assert!(x.wait().unwrap().success() && y.wait().unwrap().success());
    let pids = env.pids("race");
    let live_workers = pids.len() - 1;
    assert!(
        live_workers == 3 || live_workers == 1,
        "state has {live_workers} workers"
    );
    wait_until(
        "scheduler to agree with the state",
        Duration::from_secs(60),
        || support::workers(&env, "race") == live_workers as u64,
    );
    assert!(pids.iter().all(|p| alive(*p)), "state lists a dead process");
    let d = env.describe("race");
    assert_eq!(d["status"], "running", "{d}");
}

#[test]
fn foreign_scheduler_is_found_scaled_and_deleted() {
    let _g = support::serial();
    let env = Env::new();
    let (sched, addr) = DaskProc::scheduler(&[]);
    let port = addr.rsplit(':').next().unwrap();
    let name = format!("port-{port}");
    let c = env
        .find(&name)
        .unwrap_or_else(|| panic!("{name} not listed: {:?}", env.list()));
    assert_eq!(c["origin"], "unknown");
    assert_eq!(c["status"], "running");
    assert_eq!(c["address"], addr.as_str());
    assert_eq!(support::pids_of(&c, "scheduler"), vec![sched.pid()]);

    // scale up attaches `dask worker` processes to it; down retires them
    env.run(&["scale", &name, "2", "--wait", "--timeout", "90"])
        .ok();
    let c = env.describe(&name);
    assert_eq!(c["workers"], 2);
    assert_eq!(support::pids_of(&c, "worker").len(), 2, "{c}");
    let logs = env.run(&["logs", &name, "--scheduler"]).ok().stdout;
    assert!(logs.contains("Register worker"), "{logs}");
    env.run(&["scale", &name, "1", "--wait"]).ok();
    assert_eq!(env.describe(&name)["workers"], 1);

    let workers = support::pids_of(&env.describe(&name), "worker");
    env.run(&["delete", &name, "--yes"]).ok();
    assert!(!alive(sched.pid()), "scheduler survived");
    assert!(workers.iter().all(|p| !alive(*p)));
    assert!(env.find(&name).is_none());
}

/// One scheduler, one cluster (issue 29): a scheduler listening on every interface, whose
/// address says this machine's own address, and a worker that joined it through 127.0.0.1 are
/// listed as one cluster (found by the scheduler's identity, not by the address each names);
/// deleting it stops both.
#[test]
fn a_scheduler_reached_at_two_addresses_is_one_cluster() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    let (sched, addr) = DaskProc::scheduler(&["--host", "0.0.0.0"]);
    let port = addr.rsplit(':').next().unwrap().to_string();
    let worker = DaskProc::worker(&format!("tcp://127.0.0.1:{port}"), &[]);
    let name = format!("port-{port}");
    let mut listed = Vec::new();
    wait_until("the worker joined", Duration::from_secs(60), || {
        listed = env
            .list()
            .into_iter()
            .filter(|c| c["name"] == name.as_str())
            .collect();
        listed.len() == 1 && support::pids_of(&listed[0], "worker").contains(&worker.pid())
    });
    let c = &listed[0];
    assert_eq!(support::pids_of(c, "scheduler"), vec![sched.pid()], "{c}");
    env.run(&["delete", &name, "--yes"]).ok();
    assert!(!alive(sched.pid()), "scheduler survived");
    wait_until("the worker gone", Duration::from_secs(30), || {
        !alive(worker.pid())
    });
    assert!(env.find(&name).is_none());
}

/// Workers whose scheduler vanished without closing their connections (a frozen or crashed
/// host): stopped here with SIGSTOP so they cannot notice, then the scheduler is killed.
#[test]
fn orphaned_workers_are_shown_and_cleaned_up() {
    let _g = support::serial();
    let env = Env::new();
    env.run(&["create", "local", "--name", "orph", "--workers", "2"])
        .ok();
    let c = env.describe("orph");
    let sched = support::pids_of(&c, "scheduler")[0];
    let workers = support::pids_of(&c, "worker");
    for w in &workers {
        support::signal_group(*w, "STOP");
    }
    support::kill_group(sched);
    wait_until("scheduler dead", Duration::from_secs(10), || !alive(sched));
    let c = env.describe("orph");
    assert_eq!(c["status"], "orphaned", "{c}");
    assert!(c["reason"].as_str().unwrap().contains("scheduler is gone"));

    let preview = env
        .run(&["cleanup", "--orphaned", "-o", "json"])
        .ok()
        .json();
    assert_eq!(preview["dry_run"], true);
    let act = preview["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["cluster"] == "orph")
        .cloned()
        .expect("in preview");
    assert_eq!(act["action"], "would-delete");
    assert!(workers.iter().all(|p| alive(*p)), "preview must not act");
    assert!(env.state_dirs().contains(&"orph".to_string()));

    let done = env
        .run(&["cleanup", "--orphaned", "orph", "--yes", "-o", "json"])
        .ok()
        .json();
    let act = done["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["cluster"] == "orph")
        .cloned()
        .unwrap();
    assert_eq!(act["action"], "deleted", "{done}");
    assert!(workers.iter().all(|p| !alive(*p)));
    assert!(env.find("orph").is_none());
}

#[test]
fn dead_cluster_is_stopped_and_older_than_filters() {
    let _g = support::serial();
    let env = Env::new();
    env.run(&["create", "local", "--name", "dead", "--workers", "1"])
        .ok();
    for p in env.pids("dead") {
        support::kill_group(p);
    }
    wait_until("all dead", Duration::from_secs(10), || {
        env.pids("dead").iter().all(|p| !alive(*p))
    });
    let c = env.describe("dead");
    assert_eq!(c["status"], "stopped");
    // too young for --older-than 1h: not selected
    let o = env
        .run(&[
            "cleanup",
            "--orphaned",
            "--older-than",
            "1h",
            "dead",
            "--yes",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert!(
        o["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["cluster"] != "dead"),
        "{o}"
    );
    let table = env.run(&["cleanup", "--orphaned"]).ok();
    assert!(table.stdout.contains("would-delete"), "{}", table.stdout);
    assert!(table.stderr.contains("--yes"));
    env.run(&[
        "cleanup",
        "--orphaned",
        "--older-than",
        "0s",
        "dead",
        "--yes",
    ])
    .ok();
    assert!(env.state_dirs().is_empty());
}

/// The common HPC orphan: a worker that starts after its scheduler is gone keeps trying to
/// connect for its death timeout.
#[test]
fn foreign_worker_without_scheduler_is_an_orphan() {
    let _g = support::serial();
    let env = Env::new();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let addr = format!("tcp://127.0.0.1:{port}");
    let name = format!("port-{port}");
    let w = DaskProc::worker(&addr, &["--death-timeout", "600"]);
    wait_until("orphan listed", Duration::from_secs(60), || {
        env.find(&name)
            .is_some_and(|c| !c["resources"].as_array().unwrap().is_empty())
    });
    let c = env.find(&name).unwrap();
    assert_eq!(c["status"], "orphaned", "{c}");
    assert_eq!(c["origin"], "unknown");
    assert_eq!(
        support::pids_of(&c, "worker"),
        vec![w.pid()],
        "the nanny stands for its worker"
    );
    let preview = env.run(&["cleanup", "--orphaned"]).ok().stdout;
    assert!(
        preview.contains(&name) && preview.contains("would-delete"),
        "{preview}"
    );
    assert!(alive(w.pid()));
    env.run(&["cleanup", "--orphaned", &name, "--yes"]).ok();
    wait_until("worker stopped", Duration::from_secs(20), || {
        !alive(w.pid())
    });
    assert!(env.find(&name).is_none());
}

#[test]
fn cluster_with_lost_state_is_rebuilt_from_its_processes() {
    let _g = support::serial();
    let env = Env::new();
    env.run(&["create", "local", "--name", "lost", "--workers", "1"])
        .ok();
    let pids = env.pids("lost");
    std::fs::remove_dir_all(env.state().join("local/lost")).unwrap();
    let c = env.find("lost").expect("rebuilt from /proc markers");
    assert_eq!(c["origin"], "daskctl");
    assert_eq!(c["workers"], 1);
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("state directory is missing")
    );
    env.run(&["delete", "lost", "--yes"]).ok();
    assert!(pids.iter().all(|p| !alive(*p)));
}

#[test]
fn tls_scheduler_found_with_dask_tls_config() {
    let _g = support::serial();
    let pki = tls::make("cli");
    let ca = pki.ca();
    let (_s, addr) = DaskProc::tls_scheduler(&pki);
    let env = Env::new().with("DASK_CONFIG", pki.dask_config_dir().to_str().unwrap());
    let name = format!("port-{}", addr.rsplit(':').next().unwrap());
    let c = env
        .find(&name)
        .unwrap_or_else(|| panic!("TLS scheduler not found: {:?}", env.list()));
    assert_eq!(c["address"], addr.as_str());
    assert_eq!(c["status"], "running");
    let snip = env.run(&["snippet", &name]).ok().stdout;
    assert!(
        snip.contains("Security(") && snip.contains(ca.to_str().unwrap()),
        "{snip}"
    );
    // without the client certificate it cannot be asked; a `dask scheduler` process is listed
    // all the same, as unknown, saying why
    let bare = Env::new();
    let c = bare
        .find(&name)
        .unwrap_or_else(|| panic!("TLS scheduler hidden: {:?}", bare.list()));
    assert_eq!(c["status"], "unknown", "{c}");
    let why = c["reason"].as_str().unwrap();
    assert!(why.contains("TLS"), "{why}");
}

#[test]
fn no_probe_reports_from_processes_only() {
    let env = Env::new();
    env.run(&["create", "local", "--name", "noprobe", "--workers", "1"])
        .ok();
    let c = env
        .run(&["--no-probe", "describe", "noprobe", "-o", "json"])
        .ok()
        .json();
    assert_eq!(c["status"], "running");
    assert_eq!(c["workers"], 1);
    assert!(
        c["worker_details"].is_null(),
        "no scheduler data without probes"
    );
}

/// A LocalCluster living inside a Python program (as in a notebook kernel): found from the
/// program's listening sockets, deleted over the protocol, and the program itself survives.
#[test]
fn local_cluster_inside_a_python_program() {
    let _g = support::serial();
    let env = Env::new();
    let (mut py, addr) = support::python_cluster(
        &env,
        "from distributed import LocalCluster\nimport time\nc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host='127.0.0.1', dashboard_address='127.0.0.1:0')\nprint(c.scheduler_address, flush=True)\ntime.sleep(600)\n",
    );
    let name = format!("port-{}", addr.rsplit(':').next().unwrap());
    wait_until(
        "LocalCluster with 2 workers",
        Duration::from_secs(60),
        || env.find(&name).is_some_and(|c| c["workers"] == 2),
    );
    let c = env.describe(&name);
    assert_eq!(c["origin"], "unknown");
    assert_eq!(support::pids_of(&c, "scheduler"), vec![py.id() as i32]);
    env.run(&["delete", &name, "--yes"]).ok();
    assert!(env.find(&name).is_none(), "still listed after delete");
    assert!(
        alive(py.id() as i32),
        "the program that held the LocalCluster must not be killed"
    );
    let _ = py.kill();
    let _ = py.wait();
}

/// `cleanup --idle` uses the scheduler's own idle clock (check_idle).
#[test]
fn cleanup_idle_uses_the_schedulers_clock() {
    let _g = support::serial();
    let env = Env::new();
    env.run(&["create", "local", "--name", "idler", "--workers", "1"])
        .ok();
    wait_until("idle clock", Duration::from_secs(30), || {
        !env.describe("idler")["idle_since"].is_null()
    });
    let long = env
        .run(&["cleanup", "--idle", "1h", "-o", "json"])
        .ok()
        .json();
    assert!(
        long["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["cluster"] != "idler"),
        "{long}"
    );
    let now = env
        .run(&["cleanup", "--idle", "0s", "-o", "json"])
        .ok()
        .json();
    let act = now["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["cluster"] == "idler")
        .cloned()
        .expect("idle cluster selected");
    assert_eq!(act["action"], "would-delete");
    assert!(act["reasons"][0].as_str().unwrap().starts_with("idle for"));
    assert!(
        env.cleanup_preview(&["--idle", "0s", "idle", "local/idl?r-*", "nightly-*"])
            .iter()
            .all(|n| n != "idler"),
        "patterns that do not match leave it out"
    );
    assert_eq!(
        env.cleanup_preview(&["--idle", "0s", "local/idl?r"]),
        vec!["idler".to_string()]
    );
    env.run(&["cleanup", "--idle", "0s", "["]).code(2);
    let pids = env.pids("idler");
    // only its own cluster: other tests' schedulers are idle too
    env.run(&["cleanup", "--idle", "0s", "idler", "--yes"]).ok();
    assert!(pids.iter().all(|p| !alive(*p)));
}

/// `logs --follow` prints lines written after it started.
#[test]
fn logs_follow_streams_new_lines() {
    use std::io::BufRead;
    let env = Env::new();
    env.run(&["create", "local", "--name", "follow", "--workers", "1"])
        .ok();
    let mut f = env
        .command(&["logs", "follow", "--scheduler", "--tail", "0", "--follow"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = f.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    // a new worker makes the scheduler log its registration
    env.run(&["scale", "follow", "2", "--wait"]).ok();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("Register worker")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "no new line followed: {seen:?}");
        if let Ok(l) = rx.recv_timeout(left) {
            seen.push(l);
        }
    }
    let _ = f.kill();
    let _ = f.wait();
}

/// `--scheduler-port` that is taken: exit 2 naming who holds it (a process; a cluster of
/// yours), nothing created, no Python traceback.
#[test]
fn a_taken_scheduler_port_is_named_before_anything_starts() {
    let _g = crate::support::serial();
    let env = Env::new().without_batch();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let o = env
        .run(&[
            "create",
            "local",
            "--name",
            "clash",
            "--scheduler-port",
            &port,
        ])
        .code(2);
    let line = o.one_line_error();
    assert!(
        line.contains(&format!("port {port} is already in use"))
            && line.contains(&format!("process {}", std::process::id())),
        "{line}"
    );
    drop(held);
    env.run(&[
        "create",
        "local",
        "--name",
        "first",
        "--workers",
        "0",
        "--scheduler-port",
        &port,
    ])
    .ok();
    let o = env
        .run(&[
            "create",
            "local",
            "--name",
            "second",
            "--scheduler-port",
            &port,
        ])
        .code(2);
    assert!(
        o.one_line_error().contains("by local/first"),
        "{}",
        o.stderr
    );
    assert_eq!(
        env.state_dirs(),
        vec!["first".to_string()],
        "nothing else made"
    );
    env.run(&["delete", "local/first", "--yes"]).ok();
}

/// Without `--memory`, the workers share the machine's memory as `LocalCluster` shares it
/// (Dask's own `memory_limit()` split among them), instead of each claiming all of it.
#[test]
fn local_workers_share_the_machines_memory_by_default() {
    let _g = crate::support::serial();
    let env = Env::new().without_batch();
    let total: u64 = std::process::Command::new(crate::support::python())
        .args([
            "-c",
            "from distributed.system import MEMORY_LIMIT; print(MEMORY_LIMIT)",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().parse().unwrap())
        .unwrap();
    let c = env
        .run(&[
            "create",
            "local",
            "--name",
            "shared-mem",
            "--workers",
            "2",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let per_worker: Vec<u64> = c["worker_details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["memory"].as_u64().unwrap())
        .collect();
    assert_eq!(per_worker.len(), 2, "{c}");
    for m in &per_worker {
        assert_eq!(*m, total / 2, "each worker gets half of {total}: {c}");
    }
    assert_eq!(c["memory"], total / 2 * 2);
    env.run(&["delete", "local/shared-mem", "--yes"]).ok();
}

/// `describe` shows the clients connected to the scheduler; `cleanup` warns before it would
/// delete a cluster someone is still using.
#[test]
fn describe_shows_clients_and_cleanup_warns_about_them() {
    let _g = crate::support::serial();
    let env = Env::new().without_batch();
    env.run(&["create", "local", "--name", "used", "--workers", "1"])
        .ok();
    assert_eq!(env.describe("local/used")["clients"], serde_json::json!([]));
    let address = env.describe("local/used")["address"]
        .as_str()
        .unwrap()
        .to_string();
    // a real Client that stays connected until killed
    let code = format!(
        "import sys, time\nfrom distributed import Client\nc = Client({address:?})\n\
         print('connected', flush=True)\ntime.sleep(600)\n"
    );
    let mut child = std::process::Command::new(crate::support::python())
        .args(["-c", &code])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "connected");
    let _client = support::KillOnDrop(child);
    let d = env.describe("local/used");
    assert_eq!(d["clients"].as_array().unwrap().len(), 1, "{d}");
    let text = env.run(&["describe", "local/used"]).ok().stdout;
    assert!(text.contains("Clients:    1 connected (Client-"), "{text}");
    let o = env.run(&["cleanup", "--older-than", "0s"]).ok();
    assert!(
        o.stderr
            .contains("local/used has 1 client(s) connected: deleting it would end their work"),
        "{}",
        o.stderr
    );
    drop(_client);
    wait_until("the client to be gone", Duration::from_secs(30), || {
        env.describe("local/used")["clients"] == serde_json::json!([])
    });
    env.run(&["delete", "local/used", "--yes"]).ok();
}

/// On a terminal, `create` and `delete --wait` show what they wait for on one line that
/// redraws itself and is cleared when done; piped, none of it is printed.
#[test]
fn progress_on_a_terminal_only() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    let t = env.pty(&["create", "local", "--name", "shown", "--workers", "2"]);
    let (code, screen) = t.wait(Duration::from_secs(120));
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("create local/shown with 2 worker(s): waiting for the scheduler"),
        "{screen}"
    );
    assert!(screen.contains("/2 workers connected"), "{screen}");
    // the line is cleared before the result is printed
    assert!(screen.contains("\x1b[2K"), "{screen:?}");
    let o = env
        .run(&["create", "local", "--name", "piped", "--workers", "1"])
        .ok();
    assert!(!o.stderr.contains("waiting for"), "{}", o.stderr);
    assert!(!o.stderr.contains('\x1b'), "{:?}", o.stderr);
    let t = env.pty(&["delete", "shown", "--yes", "--wait"]);
    let (code, screen) = t.wait(Duration::from_secs(120));
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("deleted local/shown"), "{screen}");
    env.run(&["delete", "piped", "--yes"]).ok();
}

/// A cluster daskctl started under another state directory is not listed (that directory
/// manages it), but `list` says on stderr that it runs here, and where to look.
#[test]
fn clusters_of_another_state_directory_are_mentioned() {
    let _g = support::serial();
    let mine = Env::new().without_batch();
    let theirs = Env::new().without_batch();
    theirs
        .run(&["create", "local", "--name", "elsewhere", "--workers", "0"])
        .ok();
    let o = mine.run(&["list", "-o", "name"]).ok();
    assert!(!o.stdout.contains("elsewhere"), "{}", o.stdout);
    let note = o
        .stderr
        .lines()
        .find(|l| l.contains(&theirs.state().display().to_string()))
        .unwrap_or_else(|| panic!("no note naming the other state directory: {}", o.stderr));
    assert!(note.starts_with("note: "), "{note}");
    assert!(note.contains("elsewhere"), "{note}");
    // the other directory lists it, and says nothing of its own
    let o = theirs.run(&["list", "-o", "name"]).ok();
    assert!(o.stdout.contains("local/elsewhere"), "{}", o.stdout);
    assert!(
        !o.stderr.contains(&theirs.state().display().to_string()),
        "{}",
        o.stderr
    );
    theirs.run(&["delete", "elsewhere", "--yes"]).ok();
}

/// `logs --follow` ends when what it follows is gone: a retired worker's follow ends after
/// the scale down (the other worker's goes on), and the rest end with the cluster's delete.
#[test]
fn logs_follow_ends_when_its_writers_are_gone() {
    let env = Env::new().without_batch();
    env.run(&["create", "local", "--name", "followed", "--workers", "2"])
        .ok();
    let mut follows: Vec<_> = ["followed-0", "followed-1"]
        .iter()
        .map(|w| env.start(&["logs", "followed", "--worker", w, "--follow"]))
        .collect();
    let mut all = env.start(&["logs", "followed", "--follow"]);
    env.run(&["scale", "followed", "1"]).ok();
    let kept = env.describe("followed")["worker_details"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let retired = usize::from(kept == "followed-0");
    let mut ended = None;
    wait_until(
        "the retired worker's follow ends",
        Duration::from_secs(30),
        || {
            ended = follows[retired].child.try_wait().unwrap();
            ended.is_some()
        },
    );
    assert!(ended.unwrap().success());
    assert!(
        follows[1 - retired].child.try_wait().unwrap().is_none(),
        "the follow of {kept}, which runs on, ended"
    );
    env.run(&["delete", "followed", "--yes"]).ok();
    for r in [&mut follows[1 - retired], &mut all] {
        let mut status = None;
        wait_until(
            "a follow ends with the cluster",
            Duration::from_secs(30),
            || {
                status = r.child.try_wait().unwrap();
                status.is_some()
            },
        );
        assert!(status.unwrap().success());
    }
}
