//! A hostile neighbour (issue 28): a real second Unix user plants traps in everything of theirs
//! that root reads or writes when it acts for every user (`--all-users`, `-u`): links to
//! root-only files, FIFOs and `/dev/zero` where daskctl reads, forged job markers, escape
//! sequences in their state. Root's commands must end in time, never read, create, change or
//! remove a root file on the user's word, and never print a control character.

use crate::support::{self, Env, users::OtherUser, wait_until};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A root-only directory (0700) with a secret file: what the traps point at.
struct Canary {
    dir: tempfile::TempDir,
    text: String,
}

impl Canary {
    fn new() -> Canary {
        let dir = tempfile::Builder::new()
            .prefix("daskctl-canary-")
            .tempdir()
            .unwrap();
        // root's alone: tempfile makes directories with the umask's mode (0755 here)
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let text = format!("ROOT-ONLY-{}", std::process::id());
        std::fs::write(dir.path().join("secret"), &text).unwrap();
        Canary { dir, text }
    }

    fn secret(&self) -> PathBuf {
        self.dir.path().join("secret")
    }

    /// A path in the root-only directory that must never come to exist.
    fn absent(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Nothing in the directory changed: the secret as it was, no other file.
    fn untouched(&self) {
        let names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["secret"], "root created files in its own directory");
        assert_eq!(std::fs::read_to_string(self.secret()).unwrap(), self.text);
    }

    /// Nothing daskctl printed holds the secret.
    fn unread(&self, out: &support::Out) {
        assert!(
            !out.stdout.contains(&self.text) && !out.stderr.contains(&self.text),
            "root printed its secret on the user's word:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
}

/// Runs root's daskctl, failing the test on a hang; nothing it prints is a control character.
fn root(env: &Env, args: &[&str]) -> support::Out {
    let o = env.run_bounded(args, Duration::from_secs(90));
    for (what, text) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{args:?}: a control character on {what}: {text:?}"
        );
    }
    o
}

/// A process of the user's that looks like Dask and names files on its command line.
fn decoy(other: &OtherUser, args: &[&str]) -> support::KillOnDrop {
    let mut argv = vec!["-c", "import time; time.sleep(600)"];
    argv.extend_from_slice(args);
    support::KillOnDrop(
        other
            .command(&other.python, &argv)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Files named on the user's command lines (`--scheduler-file`, a kernel's `-f`) that are a
/// FIFO, `/dev/zero` or a link to a root file: root's `list`, `usage` and `cleanup` preview over
/// every user end in time and never read them; the user's own daskctl, which does read its own
/// scheduler files, refuses them too rather than hang.
#[test]
fn files_named_on_their_command_lines_never_hang_or_leak() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let _g = support::serial();
    let canary = Canary::new();
    let fifo = other.dir.path().join("fifo");
    let made = other
        .command(Path::new("mkfifo"), &[fifo.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(made.success());
    let link = other.dir.path().join("link.json");
    let linked = other
        .command(
            Path::new("ln"),
            &[
                "-s",
                canary.secret().to_str().unwrap(),
                link.to_str().unwrap(),
            ],
        )
        .status()
        .unwrap();
    assert!(linked.success());
    let f = fifo.to_str().unwrap();
    let l = link.to_str().unwrap();
    let _decoys = [
        decoy(&other, &["dask", "worker", "--scheduler-file", f, "-f", f]),
        decoy(
            &other,
            &[
                "dask",
                "worker",
                "--scheduler-file",
                "/dev/zero",
                "-f",
                "/dev/zero",
            ],
        ),
        decoy(&other, &["dask", "worker", "--scheduler-file", l, "-f", l]),
    ];
    // the decoys run (as Dask-looking processes of theirs) before anything is asked
    wait_until("the decoys", Duration::from_secs(30), || {
        std::process::Command::new("pgrep")
            .args(["-u", &other.uid.to_string(), "-f", "scheduler-file"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).lines().count() >= 3)
    });
    let env = Env::new().without_batch();
    for args in [
        vec!["list", "-b", "local", "--all-users", "-o", "json"],
        vec!["usage", "-b", "local", "--all-users"],
        vec!["cleanup", "-b", "local", "--orphaned", "--all-users"],
        vec!["list", "-b", "local", "-u", "daskctl-other", "-o", "wide"],
    ] {
        let o = root(&env, &args);
        canary.unread(&o);
    }
    canary.untouched();
    // the user's own daskctl reads their scheduler files, and refuses these
    let mut own = other
        .command(
            Path::new(env!("CARGO_BIN_EXE_daskctl")),
            &["list", "-b", "local", "-o", "json"],
        )
        .env("DASKCTL_STATE_DIR", other.state())
        .env("DASKCTL_CACHE_DIR", other.dir.path().join("cache"))
        .env("DASKCTL_CONFIG", other.dir.path().join("config.toml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ended = None;
    wait_until("their own list to end", Duration::from_secs(90), || {
        ended = own.try_wait().unwrap();
        ended.is_some()
    });
    assert!(ended.unwrap().success());
}

/// Links planted in their local cluster's state directory (its lock, its scheduler log) and a
/// FIFO as its policy, an escape sequence as its dashboard: root's `describe`, `logs`, `scale`
/// down, `adapt`, `delete` and `reconcile` for them end in time, print neither the secret nor a
/// control character, and create nothing in root's directory.
#[test]
fn traps_in_their_state_directory_never_turn_root_against_itself() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let _g = support::serial();
    let canary = Canary::new();
    let name = format!("trap-{}", std::process::id());
    let o = other.daskctl(&["create", "local", "--name", &name, "--workers", "2"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let dir = other.state().join("local").join(&name);
    // as the user: a hostile neighbour plants these in their own tree
    let plant = |script: &str| {
        let s = other
            .command(&other.python, &["-c", script])
            .status()
            .unwrap();
        assert!(s.success(), "{script}");
    };
    let d = dir.to_str().unwrap().to_string();
    // their interpreter, as their state names it: a script that records who runs it
    let fake = other.dir.path().join("fake-python");
    let uids = other.dir.path().join("uids");
    plant(&format!(
        "import os, json\n\
         d = {d:?}\n\
         os.remove(d + '/logs/scheduler.log')\n\
         os.symlink({secret:?}, d + '/logs/scheduler.log')\n\
         os.mkfifo(d + '/policy.json')\n\
         p = d + '/state.json'\n\
         s = json.load(open(p))\n\
         s['dashboard'] = 'http://127.0.0.1:1/\\x1b]0;pwned\\x07\\x1b[2J'\n\
         s['python'] = {fake:?}\n\
         json.dump(s, open(p + '.new', 'w'))\n\
         os.replace(p + '.new', p)\n\
         open({fake:?}, 'w').write('#!/bin/sh\\nid -u >> {uids}\\nexec {python} \"$@\"\\n')\n\
         os.chmod({fake:?}, 0o755)\n",
        secret = canary.secret().to_str().unwrap(),
        fake = fake.to_str().unwrap(),
        uids = uids.to_str().unwrap(),
        python = other.python.to_str().unwrap(),
    ));
    let env = Env::new().without_batch();
    let u = ["-u", "daskctl-other"];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter().chain(u.iter()).map(|s| s.to_string()).collect()
    };
    for args in [
        with(&["describe", &name]),
        with(&["logs", &name]),
        with(&["list", "-b", "local", "-o", "wide"]),
        with(&["scale", &name, "1", "--timeout", "60"]),
        // up again: the new worker starts through their interpreter, as them
        with(&["scale", &name, "2", "--timeout", "60"]),
        with(&["reconcile", "-b", "local"]),
        with(&["usage", "-b", "local"]),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = root(&env, &args);
        canary.unread(&o);
    }
    canary.untouched();
    let ran_as = std::fs::read_to_string(&uids).unwrap_or_default();
    assert!(
        !ran_as.is_empty() && ran_as.lines().all(|u| u == other.uid.to_string()),
        "their interpreter ran as {ran_as:?}"
    );
    // root acted as them: nothing in their tree is root's
    let mut stack = vec![other.state()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            assert_eq!(m.uid(), other.uid, "{} is not theirs", e.path().display());
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    // their lock, now a link into root's directory: a delete refuses to follow it
    plant(&format!(
        "import os\nd = {d:?}\nos.remove(d + '/lock')\nos.symlink({target:?}, d + '/lock')\n",
        target = canary.absent("created-by-lock").to_str().unwrap(),
    ));
    let o = root(&env, &["delete", &name, "-u", "daskctl-other", "--yes"]);
    canary.unread(&o);
    canary.untouched();
    // whatever root did, the user can still remove their own cluster
    let _ = std::fs::remove_file(dir.join("lock"));
    let _ = std::fs::remove_file(dir.join("policy.json"));
    other.daskctl(&["delete", &name, "--yes"]);
}

/// Job markers are claims: a Slurm job of theirs whose marker names a root directory as its
/// cluster's shared directory makes root's `scale` and `delete` neither write nor remove there
/// (the delete cancels the job, verified gone, and leaves the directory alone).
#[test]
fn a_forged_marker_directory_is_never_acted_on() {
    if !support::slurm_up() {
        return;
    }
    let Some(other) = OtherUser::get() else {
        return;
    };
    let canary = Canary::new();
    let name = format!("evil{}", std::process::id());
    let marker = format!(
        "daskctl:v1;cluster={name};role=worker;dir={}",
        canary.dir.path().display()
    );
    other.sbatch_sleeper(&format!("{name}-worker"), &marker);
    let env = Env::slurm();
    let q = format!("slurm/{name}");
    let u = ["-u", "daskctl-other"];
    // one worker asked for one: nothing to submit or cancel, but a scale records the count
    // asked for in the cluster's directory, the one the marker names
    let mut scale = vec!["scale", q.as_str(), "1", "--timeout", "60"];
    scale.extend(u);
    root(&env, &scale);
    canary.untouched();
    let mut delete = vec!["delete", q.as_str(), "--yes"];
    delete.extend(u);
    root(&env, &delete).ok();
    canary.untouched();
    assert!(support::slurm_jobs(&format!("{name}-")).is_empty());
}

/// Their default state root leads, through a link of theirs, into a directory only root may
/// enter, where a cluster of theirs waits (a state directory they own, which root can read):
/// root's `list --all-users` reads every user's state as that user, so it cannot follow them
/// there; the planted cluster is not listed, and the listing says why their state is missing.
#[test]
fn their_state_is_read_as_them_never_through_roots_rights() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let _g = support::serial();
    let canary = Canary::new();
    let ghost = format!("ghost{}", std::process::id());
    // root's directory (0700), holding a cluster directory and state file that are theirs
    let planted = canary.dir.path().join("local").join(&ghost);
    std::fs::create_dir_all(planted.join("logs")).unwrap();
    let state = serde_json::json!({
        "name": ghost, "created": 1.0, "python": "/bin/false", "host": "127.0.0.1",
        "threads": 1, "memory": null,
        "scheduler": {"pid": 4_000_000, "start": 1, "name": "scheduler", "log": "logs/scheduler.log"},
        "address": "tcp://127.0.0.1:1", "dashboard": null, "workers": [], "next_worker": 0
    });
    std::fs::write(planted.join("state.json"), state.to_string()).unwrap();
    for p in [
        canary.dir.path().join("local"),
        planted.clone(),
        planted.join("logs"),
        planted.join("state.json"),
    ] {
        nix::unistd::chown(
            &p,
            Some(nix::unistd::Uid::from_raw(other.uid)),
            Some(nix::unistd::Gid::from_raw(other.gid)),
        )
        .unwrap();
    }
    // their default state root, whose `local` is a link into root's directory
    let root_dir = other.home().join(".local/state/daskctl");
    struct Remove(PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    // whatever an earlier run or a benchmark of theirs left there goes first
    let _ = std::fs::remove_dir_all(other.home().join(".local"));
    let _remove = Remove(other.home().join(".local"));
    let s = other
        .command(
            &other.python,
            &[
                "-c",
                &format!(
                    "import os\nos.makedirs({r:?}, exist_ok=True)\nos.symlink({t:?}, {r:?} + '/local')\n",
                    r = root_dir.to_str().unwrap(),
                    t = canary.dir.path().join("local").to_str().unwrap(),
                ),
            ],
        )
        .status()
        .unwrap();
    assert!(s.success());
    let env = Env::new().without_batch();
    let o = root(
        &env,
        &["list", "-b", "local", "-o", "json", "-u", "daskctl-other"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        !o.stdout.contains(&ghost),
        "root followed their link into its own directory: {}\n{}",
        o.stdout,
        o.stderr
    );
    assert!(o.stderr.contains("daskctl-other"), "{}", o.stderr);
}

/// Their state's scheduler address is a claim: one naming a port of root's (here a listener
/// this test holds) is never connected to by root's listing. The cluster is still listed, not
/// running, with the reason. A forged line in root's early-ask cache (`local-schedulers.tsv`)
/// naming that port for their scheduler process is not asked either, and is dropped.
#[test]
fn their_claimed_scheduler_address_is_asked_only_where_their_process_listens() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let _g = support::serial();
    let name = format!("claim-{}", std::process::id());
    let o = other.daskctl(&["create", "local", "--name", &name, "--workers", "1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let env = Env::new().without_batch();
    let list = || {
        let all = root(
            &env,
            &["list", "-b", "local", "-u", "daskctl-other", "-o", "json"],
        );
        assert_eq!(all.code, 0, "{}", all.stderr);
        let all: serde_json::Value = serde_json::from_str(&all.stdout).unwrap();
        all.as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} hidden: {all}"))
            .clone()
    };
    let listed = list();
    assert_eq!(listed["status"], "running", "{listed}");
    let real = listed["address"].as_str().unwrap().to_string();
    let cache = env.dir.path().join("cache/local-schedulers.tsv");
    let asked = std::fs::read_to_string(&cache).unwrap();
    let line = asked
        .lines()
        .find(|l| l.starts_with(&format!("{}\t", other.uid)) && l.ends_with(&real))
        .unwrap_or_else(|| panic!("{real} not kept: {asked:?}"))
        .to_string();

    // root's own port, named by their state and by a forged line of root's cache
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let port = trap.local_addr().unwrap().port();
    let forged = line.replace(&real, &format!("tcp://127.0.0.1:{port}"));
    std::fs::write(&cache, format!("{forged}\n{line}\n")).unwrap();
    let dir = other.state().join("local").join(&name);
    let s = other
        .command(
            &other.python,
            &[
                "-c",
                &format!(
                    "import json, os\np = {p:?}\ns = json.load(open(p))\n\
                     s['address'] = 'tcp://127.0.0.1:{port}'\n\
                     json.dump(s, open(p + '.new', 'w'))\nos.replace(p + '.new', p)\n",
                    p = dir.join("state.json").to_str().unwrap()
                ),
            ],
        )
        .status()
        .unwrap();
    assert!(s.success());
    let listed = list();
    assert_ne!(listed["status"], "running", "{listed}");
    let reason = listed["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("is not an address its scheduler process"),
        "{listed}"
    );
    // the listing has ended: a connection it made would be waiting to be accepted
    match trap.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("root connected to the port their state named: {other:?}"),
    }
    let kept = std::fs::read_to_string(&cache).unwrap();
    assert!(!kept.contains(&format!(":{port}")), "{kept:?}");
    other.daskctl(&["delete", &name, "--yes"]);
}
