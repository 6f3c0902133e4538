//! `--all-users` and `-u USER`: an administrator (root) sees every user's clusters with their
//! owner, acts on another user's only when the command names them, and says whose. Real Unix
//! users (scripts/testbeds/users.sh makes `daskctl-other`), real Dask processes, real Slurm.

use crate::support::{self, Env, alive, wait_until};
use std::time::Duration;

fn named<'a>(list: &'a [serde_json::Value], name: &str) -> Option<&'a serde_json::Value> {
    list.iter().find(|c| c["name"] == name)
}

fn pids(c: &serde_json::Value) -> Vec<i32> {
    c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "process" && r["state"] == "running")
        .map(|r| r["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Root's `--all-users` lists another user's local clusters (daskctl's and a plain scheduler)
/// with their owner, cores and core-hours; deleting one needs the flag and says whose; scaling
/// it up happens as its owner (their new worker never runs as root); `cleanup --all-users
/// --yes` deletes it, verified gone, and reports the owner and the cores freed.
#[test]
fn root_sees_and_acts_on_another_users_local_clusters_only_when_asked() {
    let Some(other) = support::users::OtherUser::get() else {
        return;
    };
    let _g = support::serial();
    // a name no earlier run (one that failed half-way) left behind
    let theirs_name = format!("au-{}", std::process::id());
    let theirs_name = theirs_name.as_str();
    let (sched, addr) = other.scheduler();
    let _w = other.worker(&addr);
    let plain = format!("port-{}", addr.rsplit(':').next().unwrap());
    let o = other.daskctl(&[
        "create",
        "local",
        "--name",
        theirs_name,
        "--workers",
        "2",
        "--threads",
        "1",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let env = Env::new().without_batch();

    // without the flag: not listed, not deletable
    assert!(named(&env.list(), theirs_name).is_none());
    let refused = env.run(&["delete", theirs_name, "--yes"]).code(3);
    assert!(
        refused.stderr.contains("no cluster named"),
        "{}",
        refused.stderr
    );

    // with it: listed with owner, cores and core-hours (the worker's plain scheduler too)
    for flag in [vec!["--all-users"], vec!["-u", "daskctl-other"]] {
        let mut args = vec!["list", "-o", "json", "-b", "local"];
        args.extend(flag.iter().copied());
        let all = env.run(&args).ok().json();
        let all = all.as_array().unwrap();
        let theirs = named(all, theirs_name).unwrap_or_else(|| panic!("{flag:?}: {all:?}"));
        assert_eq!(theirs["owner"], "daskctl-other");
        assert_eq!(theirs["status"], "running", "{theirs}");
        // a scheduler (1) and two one-thread workers
        assert_eq!(theirs["cores"], 3.0, "{theirs}");
        assert!(theirs["core_hours"].as_f64().unwrap() >= 0.0);
        let p = named(all, &plain).unwrap_or_else(|| panic!("{plain}: {all:?}"));
        assert_eq!(p["owner"], "daskctl-other");
        // found under each of their state roots, listed once
        assert_eq!(
            all.iter().filter(|c| c["name"] == plain).count(),
            1,
            "{all:?}"
        );
    }
    // whose state the listing read is kept for the next one to read ahead (early.rs): a hint,
    // never an authority. Stale lines (a root they do not use, a user that does not exist)
    // change nothing listed and are replaced by what the listing read.
    let hints = env.dir.path().join("cache/local-owners.tsv");
    let kept = std::fs::read_to_string(&hints).unwrap();
    let their_line = format!("{}\tdaskctl-other\t", other.uid);
    assert!(kept.lines().any(|l| l.starts_with(&their_line)), "{kept}");
    std::fs::write(
        &hints,
        format!("{their_line}/nonexistent/state\n4000000\tnobody-here\t/x\n{kept}"),
    )
    .unwrap();
    let again = env
        .run(&["list", "-o", "json", "-b", "local", "--all-users"])
        .ok()
        .json();
    let again = again.as_array().unwrap();
    assert_eq!(
        again.iter().filter(|c| c["name"] == theirs_name).count(),
        1,
        "{again:?}"
    );
    assert!(named(again, &plain).is_some(), "{again:?}");
    assert_eq!(std::fs::read_to_string(&hints).unwrap(), kept);
    let theirs = env
        .run(&["describe", theirs_name, "-o", "json", "--all-users"])
        .ok()
        .json();
    let their_pids = pids(&theirs);
    assert_eq!(their_pids.len(), 3, "{theirs}");

    // naming the cluster is not enough: the command must name its owner (without, another
    // user's local clusters are not even looked at)
    env.run(&["delete", &format!("local/{theirs_name}"), "--yes"])
        .code(3);
    // root scales it up as its owner (a child with their uid, gid and groups): the new worker
    // is theirs, nothing of it runs as root; and back down, as them too
    let marker = format!("DASKCTL_CLUSTER={theirs_name}");
    let before = support::pids_with_env(other.uid, &marker).len();
    env.run(&["scale", theirs_name, "3", "--all-users", "--wait"])
        .ok();
    assert!(
        support::pids_with_env(other.uid, &marker).len() > before,
        "no new worker of theirs"
    );
    assert_eq!(support::pids_with_env(0, &marker), Vec::<i32>::new());
    env.run(&["scale", theirs_name, "2", "--all-users", "--wait"])
        .ok();
    let theirs = env
        .run(&["describe", theirs_name, "-o", "json", "--all-users"])
        .ok()
        .json();
    assert_eq!(theirs["workers"], 2, "{theirs}");
    let their_pids = pids(&theirs);
    assert_eq!(their_pids.len(), 3, "{theirs}");

    // usage groups by owner
    let usage = env
        .run(&["usage", "--all-users", "-b", "local", "-o", "json"])
        .ok()
        .json();
    let row = usage["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "daskctl-other")
        .unwrap_or_else(|| panic!("{usage}"))
        .clone();
    assert!(row["clusters"].as_u64().unwrap() >= 2, "{usage}");
    assert!(row["cores"].as_f64().unwrap() >= 3.0, "{usage}");

    // a preview names the owner; --yes deletes it, verified gone, and says what it freed
    let preview = env
        .run(&[
            "cleanup",
            theirs_name,
            "--older-than",
            "0s",
            "-u",
            "daskctl-other",
        ])
        .ok();
    assert!(
        preview.stdout.contains("daskctl-other"),
        "{}",
        preview.stdout
    );
    assert!(
        preview.stderr.contains("Would free: 1 cluster(s), 3 cores"),
        "{}",
        preview.stderr
    );
    assert!(
        their_pids.iter().all(|p| alive(*p)),
        "a preview deletes nothing"
    );
    let done = env
        .run(&[
            "cleanup",
            theirs_name,
            "--older-than",
            "0s",
            "--all-users",
            "--yes",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let act = &done["actions"][0];
    assert_eq!(act["action"], "deleted", "{done}");
    assert_eq!(act["owner"], "daskctl-other");
    assert_eq!(done["freed"]["cores"], 3.0, "{done}");
    wait_until("their processes gone", Duration::from_secs(30), || {
        their_pids.iter().all(|p| !alive(*p))
    });
    assert!(
        !other.state().join("local").join(theirs_name).exists(),
        "their state directory is removed with the cluster"
    );
    let gone = other.daskctl(&["list", "-o", "json"]);
    assert!(
        !gone.stdout.contains(&format!("\"{theirs_name}\"")),
        "{}",
        gone.stdout
    );

    // the plain scheduler: deleted by name with -u, the confirmation saying whose
    let deleted = env
        .run(&["delete", &plain, "-u", "daskctl-other", "--yes"])
        .ok();
    assert!(
        deleted.stderr.contains("(user daskctl-other's)"),
        "{}",
        deleted.stderr
    );
    wait_until("their scheduler stopped", Duration::from_secs(30), || {
        !alive(sched.id() as i32)
    });
}

/// Another user's daskctl jobs in a real Slurm queue: hidden without the flag, listed with
/// their owner (and their cores) with it, cancelled and verified gone by `delete -u`.
#[test]
fn root_sees_another_users_slurm_jobs_only_when_asked() {
    if !support::slurm_up() {
        return;
    }
    let Some(other) = support::users::OtherUser::get() else {
        return;
    };
    let dir = other.dir.path().to_str().unwrap().to_string();
    let marker = format!("daskctl:v1;cluster=theirs;role=worker;dir={dir}/shared");
    let job = other.sbatch_sleeper("theirs-worker", &marker);
    let env = Env::new();
    let mine = env.run(&["list", "-b", "slurm", "-o", "json"]).ok().json();
    assert!(
        named(mine.as_array().unwrap(), "theirs").is_none(),
        "{mine}"
    );
    let all = env
        .run(&["list", "-b", "slurm", "-o", "json", "--all-users"])
        .ok()
        .json();
    let theirs = named(all.as_array().unwrap(), "theirs")
        .unwrap_or_else(|| panic!("{all}"))
        .clone();
    assert_eq!(theirs["owner"], "daskctl-other");
    assert_eq!(theirs["cores"], 1.0, "{theirs}");
    env.run(&["delete", "slurm/theirs", "--yes"]).code(3);
    env.run(&["delete", "slurm/theirs", "--yes", "-u", "daskctl-other"])
        .ok();
    let q = std::process::Command::new("squeue")
        .args(["-h", "-j", &job, "-o", "%T"])
        .output()
        .unwrap();
    let state = String::from_utf8_lossy(&q.stdout).trim().to_string();
    assert!(
        state.is_empty() || state == "CANCELLED" || state == "COMPLETING",
        "job {job} is {state}"
    );
}

/// The same on a real Grid Engine: another user's job carrying a daskctl context is listed
/// only with `-u` (qstat -u '*'), with its owner and slots, and `delete -u` removes it.
#[test]
fn root_sees_another_users_sge_jobs_only_when_asked() {
    if !support::sge_up() {
        return;
    }
    let Some(other) = support::users::OtherUser::get() else {
        return;
    };
    let env = Env::sge();
    let dir = other.dir.path().to_str().unwrap().to_string();
    let context = format!("DASKCTL=daskctl:v1;cluster=sgetheirs;role=worker;dir={dir}/shared");
    let qsub = std::path::Path::new("/usr/bin/qsub");
    let out = other
        .command(
            qsub,
            &[
                "-terse",
                "-N",
                "sgetheirs-worker",
                "-ac",
                &context,
                "-o",
                "/dev/null",
                "-j",
                "y",
                "-b",
                "y",
                "sleep",
                "600",
            ],
        )
        .env("SGE_ROOT", support::SGE_ROOT)
        .env("SGE_CELL", "default")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mine = env.run(&["list", "-b", "sge", "-o", "json"]).ok().json();
    assert!(
        named(mine.as_array().unwrap(), "sgetheirs").is_none(),
        "{mine}"
    );
    let all = env
        .run(&["list", "-b", "sge", "-o", "json", "-u", "daskctl-other"])
        .ok()
        .json();
    let theirs = named(all.as_array().unwrap(), "sgetheirs")
        .unwrap_or_else(|| panic!("{all}"))
        .clone();
    assert_eq!(theirs["owner"], "daskctl-other");
    assert_eq!(theirs["cores"], 1.0, "{theirs}");
    env.run(&["delete", "sge/sgetheirs", "--yes", "--all-users"])
        .ok();
    wait_until("their job gone", Duration::from_secs(60), || {
        support::sge_jobs("sgetheirs").is_empty()
    });
}

/// Every path under `dir` (itself included) whose owner is not `uid`.
fn not_owned_by(dir: &std::path::Path, uid: u32) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if m.uid() != uid {
            out.push(format!("{} (uid {})", p.display(), m.uid()));
        }
        if m.is_dir() {
            todo.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
        }
    }
    out
}

/// The users of the queued and running Slurm jobs whose names start with `prefix`.
fn slurm_job_users(prefix: &str) -> Vec<String> {
    let o = std::process::Command::new("squeue")
        .args(["-h", "-r", "-t", "PD,R,S,CG", "-o", "%u %j"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, job)| job.starts_with(prefix))
        .map(|(user, _)| user.to_string())
        .collect()
}

/// Root scales another user's real Slurm cluster (which they created with their own daskctl,
/// under their home) up, ends its adaptive policy, and deletes it, all with `-u`: the worker
/// jobs root's scale submits are theirs (Slurm's user column), nothing in their shared
/// directory is ever root's, and the delete cancels their jobs and removes the directory as
/// them (it is gone, and so are the jobs).
#[test]
fn root_acts_on_another_users_slurm_cluster_as_that_user() {
    if !support::slurm_up() {
        return;
    }
    let Some(other) = support::users::OtherUser::get() else {
        return;
    };
    // the serial lock, held for the whole test
    let env = Env::slurm();
    let name = format!("asthem{}", std::process::id());
    let home = other.home();
    let python = other.python.to_str().unwrap().to_string();
    let theirs = [
        ("HOME", home.to_str().unwrap()),
        ("DASKCTL_BACKENDS__SLURM__PYTHON", python.as_str()),
        ("DASKCTL_BACKENDS__SLURM__HOST", "127.0.0.1"),
    ];
    let shared = home.join(".daskctl/slurm").join(&name);
    // whatever happens below, their cluster does not outlive the test
    struct Cleanup<'a>(
        &'a support::users::OtherUser,
        Vec<(&'a str, &'a str)>,
        String,
    );
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            self.0
                .daskctl_with(&self.1, &["delete", &format!("slurm/{}", self.2), "--yes"]);
        }
    }
    let _cleanup = Cleanup(&other, theirs.to_vec(), name.clone());
    let o = other.daskctl_with(
        &theirs,
        &[
            "create",
            "slurm",
            "--name",
            &name,
            "--workers",
            "1",
            "--timeout",
            "180",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = other.daskctl_with(
        &theirs,
        &[
            "adapt",
            &format!("slurm/{name}"),
            "--minimum",
            "1",
            "--maximum",
            "3",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(shared.join("policy.json").exists());

    let q = format!("slurm/{name}");
    let scaled = env
        .run(&["scale", &q, "2", "-u", "daskctl-other", "--timeout", "180"])
        .ok();
    assert!(
        scaled.stderr.contains("no longer adapts"),
        "{}",
        scaled.stderr
    );
    let users = slurm_job_users(&name);
    assert!(users.len() >= 3, "scheduler and two workers: {users:?}");
    assert!(
        users.iter().all(|u| u == "daskctl-other"),
        "every job is theirs: {users:?}"
    );
    assert!(!shared.join("policy.json").exists(), "the policy is ended");
    let foreign = not_owned_by(&shared, other.uid);
    assert!(
        foreign.is_empty(),
        "root's files in their tree: {foreign:?}"
    );

    env.run(&["delete", &q, "--yes", "-u", "daskctl-other"])
        .ok();
    assert!(slurm_job_users(&name).is_empty());
    assert!(!shared.exists(), "{} is left", shared.display());
}

/// `reconcile --all-users` (a facility's service account, root): another user's local cluster
/// whose TTL ran out is judged and deleted by a child that is its owner (their policy read and
/// their processes stopped with their rights); without the flag it is not touched.
#[test]
fn root_reconciles_another_users_cluster_as_that_user() {
    let Some(other) = support::users::OtherUser::get() else {
        return;
    };
    let _g = support::serial();
    let name = format!("ttl-theirs-{}", std::process::id());
    let o = other.daskctl(&[
        "create",
        "local",
        "--name",
        &name,
        "--workers",
        "1",
        "--ttl",
        "1s",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let env = Env::new().without_batch();
    let theirs = |env: &Env| {
        env.run(&["list", "-b", "local", "-o", "json", "-u", "daskctl-other"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name.as_str())
            .cloned()
    };
    wait_until(
        "their TTL over, seen by root",
        Duration::from_secs(30),
        || {
            theirs(&env)
                .and_then(|c| c["expires"].as_str().map(str::to_string))
                .and_then(|t| humantime::parse_rfc3339(&t).ok())
                .is_some_and(|t| t < std::time::SystemTime::now())
        },
    );
    let mine = env
        .run(&["reconcile", "--yes", "-b", "local", "-o", "json"])
        .ok()
        .json();
    assert!(!mine.to_string().contains(&name), "{mine}");
    assert!(theirs(&env).is_some());
    let all = env
        .run(&[
            "reconcile",
            "--yes",
            "-b",
            "local",
            "-o",
            "json",
            "--all-users",
        ])
        .ok()
        .json();
    let act = all["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["cluster"] == name.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{all}"));
    assert_eq!(act["action"], "deleted", "{act}");
    assert!(theirs(&env).is_none());
    assert!(support::pids_with_env(other.uid, &format!("DASKCTL_CLUSTER={name}")).is_empty());
    assert!(support::pids_with_env(0, &format!("DASKCTL_CLUSTER={name}")).is_empty());
}
