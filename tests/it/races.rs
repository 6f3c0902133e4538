//! Names are not identities (issue 29), on a real Slurm: creates of one name at once (exactly
//! one wins, the others leave nothing), a cluster's leftover directory (a `stopped` cluster
//! that blocks its name until `cleanup --orphaned` removes it), and `cleanup` racing a delete
//! and create of the same name (the new cluster, another instance, is skipped, never deleted).

use crate::support::{self, Env, slurm_jobs, slurm_up, wait_until};
use std::time::Duration;

fn cluster(env: &Env, name: &str) -> Option<serde_json::Value> {
    let all = env.run(&["list", "-b", "slurm", "-o", "json"]).ok().json();
    all.as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
}

/// The id of the cluster's scheduler job.
fn scheduler_job(env: &Env, name: &str) -> String {
    let c = cluster(env, name).unwrap_or_else(|| panic!("{name} not listed"));
    c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "scheduler")
        .and_then(|r| r["id"].as_str())
        .unwrap_or_else(|| panic!("no scheduler job: {c}"))
        .to_string()
}

fn scancel(id: &str) {
    let s = std::process::Command::new("scancel")
        .arg(id)
        .status()
        .unwrap();
    assert!(s.success());
}

#[test]
fn creates_of_one_name_at_once_make_exactly_one_cluster() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    let name = format!("twin{}", std::process::id());
    let runs: Vec<_> = (0..4)
        .map(|_| env.start(&["create", "slurm", "--name", &name, "--workers", "1"]))
        .collect();
    let outs: Vec<_> = runs.into_iter().map(|r| r.finish()).collect();
    let won: Vec<_> = outs.iter().filter(|o| o.code == 0).collect();
    assert_eq!(won.len(), 1, "{outs:#?}");
    for lost in outs.iter().filter(|o| o.code != 0) {
        assert_eq!(lost.code, 2, "{}", lost.stderr);
        assert!(lost.stderr.contains("already exists"), "{}", lost.stderr);
    }
    // one scheduler job and one worker job: the winner's
    let jobs = slurm_jobs(&format!("{name}-"));
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    let c = cluster(&env, &name).unwrap();
    assert!(c["instance"].is_string(), "{c}");
    env.run(&["delete", &name, "--yes"]).ok();
    assert!(slurm_jobs(&format!("{name}-")).is_empty());
}

#[test]
fn a_leftover_directory_is_a_stopped_cluster_that_cleanup_removes() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    let name = format!("left{}", std::process::id());
    env.run(&["create", "slurm", "--name", &name, "--workers", "0"])
        .ok();
    let dir = env.dir.path().join("shared").join(&name);
    // its scheduler job ends by itself (cancelled outside daskctl): the directory stays
    scancel(&scheduler_job(&env, &name));
    let mut c = serde_json::Value::Null;
    wait_until(
        "its job gone, the leftover listed",
        Duration::from_secs(60),
        || {
            c = cluster(&env, &name).expect("the leftover is listed");
            c["status"] == "stopped"
        },
    );
    assert!(dir.is_dir());
    assert!(c["resources"].as_array().unwrap().is_empty(), "{c}");
    assert!(c["reason"].as_str().unwrap().contains("remains"), "{c}");
    // its name stays taken until it is removed
    let o = env.run(&["create", "slurm", "--name", &name, "--workers", "0"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("already exists"), "{}", o.stderr);
    let report = env
        .run(&[
            "cleanup",
            "--orphaned",
            "--yes",
            "-b",
            "slurm",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let act = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["cluster"] == name.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(act["action"], "deleted", "{act}");
    assert!(!dir.exists());
    assert!(cluster(&env, &name).is_none());
}

/// A `scancel` that waits, once it has said so, until the test opens its gate.
fn gated_scancel(env: &Env, gate: &std::path::Path) -> std::path::PathBuf {
    let script = support::gated(gate, "scancel", "*");
    support::slurm_bin_with(env, "gated-bin", "scancel", &script)
}

/// `cleanup --orphaned --yes` lists an orphan (`a…`, whose cancel the test holds) and a
/// leftover (`z…`); while it is held, `z…` is deleted and created again (another instance).
/// When cleanup reaches `z…` it takes its lock, finds another instance there, and skips it
/// saying so: the new cluster's job and directory are untouched.
#[test]
fn cleanup_never_deletes_a_cluster_created_again_after_it_listed() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    let gate = env.dir.path().join("gate");
    std::fs::create_dir_all(&gate).unwrap();
    let held = gated_scancel(&env, &gate);
    let real = support::which("sbatch")
        .expect("sbatch")
        .parent()
        .unwrap()
        .to_path_buf();
    let real_bin = [("DASKCTL_BACKENDS__SLURM__BIN_DIR", real.to_str().unwrap())];
    let pid = std::process::id();
    let (slow, twin) = (format!("a{pid}"), format!("z{pid}"));
    // an orphan: a worker job whose scheduler job is gone
    env.run(&["create", "slurm", "--name", &slow, "--workers", "1"])
        .ok();
    scancel(&scheduler_job(&env, &slow));
    // a leftover: a directory whose jobs are gone
    env.run(&["create", "slurm", "--name", &twin, "--workers", "0"])
        .ok();
    scancel(&scheduler_job(&env, &twin));
    wait_until("both judged", Duration::from_secs(60), || {
        cluster(&env, &slow).is_some_and(|c| c["status"] == "orphaned")
            && cluster(&env, &twin).is_some_and(|c| c["status"] == "stopped")
    });
    let old = cluster(&env, &twin).unwrap()["instance"].clone();

    let cleanup = support::Running {
        child: env
            .command(&[
                "cleanup",
                "--orphaned",
                "--yes",
                "-b",
                "slurm",
                "-o",
                "json",
            ])
            .env("DASKCTL_BACKENDS__SLURM__BIN_DIR", &held)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    };
    wait_until(
        "cleanup cancelling the orphan",
        Duration::from_secs(60),
        || gate.join("entered").exists(),
    );
    // meanwhile: the leftover is deleted and its name created again
    env.run_env(&real_bin, &["delete", &twin, "--yes"]).ok();
    env.run_env(
        &real_bin,
        &["create", "slurm", "--name", &twin, "--workers", "0"],
    )
    .ok();
    let new = cluster(&env, &twin).expect("created again");
    assert_ne!(new["instance"], old, "{new}");
    std::fs::write(gate.join("open"), "").unwrap();
    let out = cleanup.finish();
    let report: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", out.stdout, out.stderr));
    let action = |n: &str| {
        report["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["cluster"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n}: {report}"))
    };
    assert_eq!(action(&slow)["action"], "deleted", "{report}");
    let skipped = action(&twin);
    assert_eq!(skipped["action"], "skipped", "{skipped}");
    assert!(
        skipped["error"].as_str().unwrap().contains("created again"),
        "{skipped}"
    );
    // the new one is whole: its scheduler job and its directory
    let now = cluster(&env, &twin).expect("the new one is listed");
    assert_eq!(now["instance"], new["instance"]);
    assert_eq!(slurm_jobs(&format!("{twin}-")).len(), 1);
    assert!(
        env.dir
            .path()
            .join("shared")
            .join(&twin)
            .join("instance")
            .is_file()
    );
    env.run_env(&real_bin, &["delete", &twin, "--yes"]).ok();
}

/// A name in two backends, of which the names cache (the last listing) knew only one:
/// `delete NAME` asks every backend, says the name is ambiguous, and deletes nothing.
#[test]
fn the_names_cache_never_decides_that_a_name_is_unambiguous() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    let name = format!("amb{}", std::process::id());
    env.run(&["create", "local", "--name", &name, "--workers", "0"])
        .ok();
    env.run(&["list"]).ok();
    // created where the cache does not hear of it
    let elsewhere = env.dir.path().join("other-cache");
    let cache = [("DASKCTL_CACHE_DIR", elsewhere.to_str().unwrap())];
    env.run_env(
        &cache,
        &["create", "slurm", "--name", &name, "--workers", "0"],
    )
    .ok();
    let o = env.run(&["delete", &name, "--yes"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("ambiguous"), "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("local/{name}")) && o.stderr.contains(&format!("slurm/{name}"))
    );
    assert_eq!(slurm_jobs(&format!("{name}-")).len(), 1, "nothing deleted");
    assert!(env.find(&name).is_some(), "nothing deleted");
    env.run(&["delete", &format!("slurm/{name}"), "--yes"]).ok();
    env.run(&["delete", &format!("local/{name}"), "--yes"]).ok();
}

/// What a delete killed while it removed a state directory leaves (the directory renamed out
/// of the way, `.NAME.removing.PID`, then partly removed: here a 4 MiB file remains) is listed,
/// `stopped`, as `removing-NAME-PID`, and `cleanup --orphaned --yes` finishes it.
#[test]
fn an_interrupted_delete_is_listed_and_finished_by_cleanup() {
    let env = Env::new().without_batch();
    env.run(&["create", "local", "--name", "big", "--workers", "0"])
        .ok();
    let pids = env.pids("big");
    assert!(!pids.is_empty());
    // the delete's first steps: the processes stopped, the directory renamed out of the way
    for p in &pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*p),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    wait_until("its processes gone", Duration::from_secs(30), || {
        pids.iter().all(|p| !support::alive(*p))
    });
    let local = env.state().join("local");
    let tomb = local.join(".big.removing.4000000");
    std::fs::rename(local.join("big"), &tomb).unwrap();
    std::fs::write(tomb.join("logs/scheduler.log"), vec![b'x'; 4 << 20]).unwrap();
    let c = env
        .find("removing-big-4000000")
        .expect("the half-deleted state is listed");
    assert_eq!(c["status"], "stopped", "{c}");
    assert!(c["reason"].as_str().unwrap().contains("interrupted"), "{c}");
    let report = env
        .run(&[
            "cleanup",
            "--orphaned",
            "--yes",
            "-b",
            "local",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert!(
        report["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["cluster"] == "removing-big-4000000" && a["action"] == "deleted"),
        "{report}"
    );
    assert!(!tomb.exists());
    assert!(env.find("removing-big-4000000").is_none());
}

/// Two deletes of one cluster at once: one deletes it (exit 0); the other says it was gone
/// (exit 3), never an I/O error about its lock file.
#[test]
fn two_deletes_at_once_one_deletes_the_other_finds_it_gone() {
    let env = Env::new().without_batch();
    env.run(&["create", "local", "--name", "once", "--workers", "2"])
        .ok();
    let runs: Vec<_> = (0..2)
        .map(|_| env.start(&["delete", "once", "--yes"]))
        .collect();
    let mut outs: Vec<_> = runs.into_iter().map(|r| r.finish()).collect();
    outs.sort_by_key(|o| o.code);
    assert_eq!(outs[0].code, 0, "{outs:#?}");
    assert_eq!(outs[1].code, 3, "{outs:#?}");
    assert!(
        !outs[1].stderr.contains("No such file"),
        "{}",
        outs[1].stderr
    );
    assert!(env.find("once").is_none());
    assert!(env.marked_pids("once").is_empty());
}

/// A site's `squeue` that hangs (a wrapper script waiting on a `sleep` of its own): at the
/// listing's deadline daskctl gives up and kills the wrapper's whole process group, so
/// nothing it started outlives the command.
#[test]
fn a_helper_past_its_deadline_is_killed_with_its_children() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    let mark = format!("DASKCTL_TEST_HELPER={}", std::process::id());
    let bin = support::slurm_bin_with(&env, "slow-bin", "squeue", "#!/bin/sh\nsleep 600\n");
    let (k, v) = mark.split_once('=').unwrap();
    let o = env.run_env(
        &[
            ("DASKCTL_BACKENDS__SLURM__BIN_DIR", bin.to_str().unwrap()),
            (k, v),
        ],
        &["list", "-b", "slurm", "--timeout", "2"],
    );
    assert_eq!(o.code, 4, "the backend's deadline passed: {}", o.stderr);
    // every process that inherited the mark (the wrapper and its sleep) is gone
    let left = support::pids_with_env(0, &mark);
    assert!(left.is_empty(), "left running: {left:?}");
}

/// A tmpfs mounted over a test's state directory (root), unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(at: &std::path::Path, size: &str) -> Option<SmallDisk> {
        if !nix::unistd::getuid().is_root() {
            eprintln!("skipping: mounting a tmpfs needs root");
            return None;
        }
        std::fs::create_dir_all(at).unwrap();
        let s = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .unwrap();
        assert!(s.success());
        Some(SmallDisk(at.to_path_buf()))
    }

    /// Fills it: a file grown until the disk says it is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let p = self.0.join("filler");
        let mut f = std::fs::File::create(&p).unwrap();
        let block = vec![0u8; 64 << 10];
        while f.write_all(&block).is_ok() {}
        let _ = f.write_all(&[0u8; 1024]);
        p
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Scale down on a full disk: the count asked for cannot be recorded, so nothing is stopped
/// (the scale fails first, saying why); with room again, the same scale works.
#[test]
fn scale_down_on_a_full_disk_stops_nothing() {
    let env = Env::new().without_batch();
    let Some(disk) = SmallDisk::mount(&env.state(), "8m") else {
        return;
    };
    env.run(&["create", "local", "--name", "full", "--workers", "2"])
        .ok();
    let before = env.describe("full");
    assert_eq!(before["workers"], 2, "{before}");
    let filler = disk.fill();
    let o = env.run(&["scale", "full", "1"]);
    assert_ne!(o.code, 0, "{}", o.stdout);
    assert!(o.stderr.contains("No space left"), "{}", o.stderr);
    let now = env.describe("full");
    assert_eq!(now["workers"], 2, "nothing stopped: {now}");
    std::fs::remove_file(filler).unwrap();
    env.run(&["scale", "full", "1"]).ok();
    assert_eq!(env.describe("full")["requested_workers"], 1);
    env.run(&["delete", "full", "--yes"]).ok();
}

/// Local creates of one name at once: exactly one makes the cluster; the others fail saying it
/// exists and leave nothing (no process, no second state).
#[test]
fn local_creates_of_one_name_at_once_make_exactly_one_cluster() {
    let env = Env::new().without_batch();
    let runs: Vec<_> = (0..3)
        .map(|_| env.start(&["create", "local", "--name", "twin", "--workers", "1"]))
        .collect();
    let outs: Vec<_> = runs.into_iter().map(|r| r.finish()).collect();
    let won = outs.iter().filter(|o| o.code == 0).count();
    assert_eq!(won, 1, "{outs:#?}");
    for lost in outs.iter().filter(|o| o.code != 0) {
        assert_eq!(lost.code, 2, "{}", lost.stderr);
        assert!(lost.stderr.contains("already exists"), "{}", lost.stderr);
    }
    let c = env.describe("twin");
    assert_eq!(c["workers"], 1, "{c}");
    assert_eq!(support::pids_of(&c, "worker").len(), 1, "{c}");
    // every process carrying its markers was started by one command, the winner
    let marked = env.marked_pids("twin");
    let ops: std::collections::BTreeSet<String> = marked
        .iter()
        .filter_map(|p| {
            let env = std::fs::read(format!("/proc/{p}/environ")).ok()?;
            env.split(|b| *b == 0)
                .find_map(|kv| kv.strip_prefix(b"DASKCTL_OP="))
                .map(|v| String::from_utf8_lossy(v).into_owned())
        })
        .collect();
    assert_eq!(
        ops.len(),
        1,
        "processes of several creates: {marked:?} {ops:?}"
    );
    env.run(&["delete", "twin", "--yes"]).ok();
    assert!(env.marked_pids("twin").is_empty());
}

/// Two reconciles at once (cron on two login nodes) over a Slurm cluster whose TTL has run
/// out: the cluster is deleted once; the other pass says it was gone, and neither fails.
#[test]
fn two_reconciles_end_a_cluster_once_and_neither_fails() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    let name = format!("ttl{}", std::process::id());
    env.run(&[
        "create",
        "slurm",
        "--name",
        &name,
        "--workers",
        "1",
        "--ttl",
        "1s",
    ])
    .ok();
    wait_until("its TTL over", Duration::from_secs(30), || {
        cluster(&env, &name)
            .and_then(|c| c["expires"].as_str().map(str::to_string))
            .and_then(|t| humantime::parse_rfc3339(&t).ok())
            .is_some_and(|t| t < std::time::SystemTime::now())
    });
    let runs: Vec<_> = (0..2)
        .map(|_| env.start(&["reconcile", "--yes", "-b", "slurm", "-o", "json"]))
        .collect();
    let outs: Vec<_> = runs.into_iter().map(|r| r.finish()).collect();
    let mut deleted = 0;
    for o in &outs {
        assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
        let report: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
        for a in report["actions"].as_array().unwrap() {
            if a["cluster"] == name.as_str() {
                assert_ne!(a["action"], "failed", "{a}");
                deleted += usize::from(a["action"] == "deleted");
            }
        }
    }
    assert_eq!(deleted, 1, "{outs:#?}");
    assert!(slurm_jobs(&format!("{name}-")).is_empty());
    assert!(cluster(&env, &name).is_none());
}
