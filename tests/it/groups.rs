//! Worker groups: `create --worker-group`, groups rebuilt from the resources and shown per
//! group, `scale --group`, a task sent to a group by its Dask resource, `adapt --group` sizing
//! one group while the others keep theirs, spec files with groups, and bad groups refused
//! before anything is created. On the local backend and real Slurm (and Slurm's PBS wrappers,
//! where jobs are known by their names alone).

use crate::support::{self, Env, group_counts as groups, pbs_up, python, slurm_up, wait_until};
use std::process::Command;
use std::time::Duration;

fn g(name: &str, workers: u64, requested: u64) -> (String, u64, u64) {
    (name.to_string(), workers, requested)
}

/// The Dask worker that ran a task asking for `resources={group: 1}`, from a real Client.
fn ran_on(address: &str, group: &str) -> String {
    let code = format!(
        "from distributed import Client, get_worker\nc = Client({address:?}, timeout=30)\n\
         print(c.submit(lambda: get_worker().name, resources={{{group:?}: 1}}, pure=False)\
         .result(timeout=60))\n"
    );
    let o = Command::new(python()).args(["-c", &code]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// The story every backend that makes groups tells: a default group of 1 and a group `big` of
/// 1 with 2 threads; each scaled on its own; a task sent to `big` runs there.
fn groups_scale_separately(env: &Env, backend: &str, name: &str) {
    let q = format!("{backend}/{name}");
    env.run(&[
        "create",
        backend,
        "--name",
        name,
        "--workers",
        "1",
        "--worker-group",
        "big:1:threads=2",
        "--timeout",
        "180",
    ])
    .ok();
    assert_eq!(groups(env, &q), vec![g("default", 1, 1), g("big", 1, 1)]);
    let d = env.describe(&q);
    let big: Vec<&serde_json::Value> = d["worker_details"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| {
            w["name"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{name}-big-"))
        })
        .collect();
    assert_eq!(big.len(), 1, "the group is in its worker's name: {d}");
    assert_eq!(big[0]["threads"], 2, "the group's own threads: {d}");
    let address = d["address"].as_str().unwrap().to_string();
    let ran = ran_on(&address, "big");
    assert!(
        ran.starts_with(&format!("{name}-big-")),
        "a task asking for the group's resource ran on {ran}"
    );
    let text = env.run(&["describe", &q]).ok().stdout;
    assert!(text.contains("Worker groups:"), "{text}");

    // one group grows, the other shrinks: each on its own
    env.run(&[
        "scale",
        &q,
        "2",
        "--group",
        "big",
        "--wait",
        "--timeout",
        "180",
    ])
    .ok();
    assert_eq!(groups(env, &q), vec![g("default", 1, 1), g("big", 2, 2)]);
    env.run(&[
        "scale",
        &q,
        "0",
        "--group",
        "default",
        "--wait",
        "--timeout",
        "180",
    ])
    .ok();
    assert_eq!(groups(env, &q), vec![g("default", 0, 0), g("big", 2, 2)]);
    // without --group: the default group
    env.run(&["scale", &q, "1", "--wait", "--timeout", "180"])
        .ok();
    assert_eq!(groups(env, &q), vec![g("default", 1, 1), g("big", 2, 2)]);
    assert_eq!(support::workers(env, &q), 3);

    // a group that is not there, or a bad name (refused before any lookup)
    let o = env.run(&["scale", &q, "1", "--group", "gpu"]).code(2);
    assert!(o.stderr.contains("no worker group gpu"), "{}", o.stderr);
    env.run(&["scale", "no-such-cluster", "1", "--group", "Bad"])
        .code(2);

    // one group adapts, the others keep their size: no work, so big goes to its minimum
    env.run(&[
        "adapt",
        &q,
        "--minimum",
        "1",
        "--maximum",
        "2",
        "--group",
        "gpu",
    ])
    .code(2);
    env.run(&[
        "adapt",
        &q,
        "--minimum",
        "1",
        "--maximum",
        "2",
        "--group",
        "big",
    ])
    .ok();
    assert_eq!(env.describe(&q)["adapt"]["group"], "big");
    let mut passes = 0;
    wait_until("big to adapt down to 1", Duration::from_secs(120), || {
        passes += 1;
        let o = env.run(&["reconcile", "-o", "json"]).ok();
        let a = o.json()["actions"].clone();
        assert_ne!(a[0]["action"], "failed", "{a}");
        groups(env, &q)[1].2 == 1
    });
    assert!(
        passes >= 3,
        "retired after {passes} pass(es): Dask's damping"
    );
    wait_until(
        "big's retired worker to leave",
        Duration::from_secs(60),
        || groups(env, &q) == vec![g("default", 1, 1), g("big", 1, 1)],
    );
    // an explicit scale of another group leaves the policy alone
    env.run(&["scale", &q, "2"]).ok();
    assert_eq!(env.describe(&q)["adapt"]["group"], "big");
    env.run(&["delete", &q, "--yes", "--wait"]).ok();
}

#[test]
fn local_groups_are_made_scaled_and_adapt_separately() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    groups_scale_separately(&env, "local", "grouped");
}

#[test]
fn slurm_groups_are_one_array_each_and_scale_separately() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    groups_scale_separately(&env, "slurm", "grouped");
}

/// Slurm's PBS wrappers show no job variables: the groups come from the job names
/// (`CLUSTER-worker-GROUP`) and the scripts in the shared directory.
#[test]
fn pbs_groups_are_found_by_job_name() {
    if !pbs_up() {
        return;
    }
    let env = Env::pbs();
    env.run(&[
        "create",
        "pbs",
        "--name",
        "pgroups",
        "--workers",
        "1",
        "--worker-group",
        "big:1:threads=2",
        "--timeout",
        "180",
    ])
    .ok();
    assert_eq!(
        groups(&env, "pbs/pgroups"),
        vec![g("default", 1, 1), g("big", 1, 1)]
    );
    env.run(&[
        "scale",
        "pbs/pgroups",
        "0",
        "--group",
        "big",
        "--wait",
        "--timeout",
        "120",
    ])
    .ok();
    assert_eq!(
        groups(&env, "pbs/pgroups"),
        vec![g("default", 1, 1), g("big", 0, 0)],
        "a group scaled to zero is still one (its script stays)"
    );
    env.run(&["delete", "pbs/pgroups", "--yes", "--wait"]).ok();
}

#[test]
fn group_job_scripts_carry_their_resources_and_markers() {
    let env = Env::slurm();
    let o = env
        .run(&[
            "create",
            "slurm",
            "--name",
            "gplan",
            "--workers",
            "1",
            "--partition",
            "debug",
            "--job-extra=--qos=normal",
            "--worker-group",
            "gpu:2:threads=4,memory=8GiB,gpus=1,partition=gpu,job-extra=--constraint=a100",
            "--dry-run",
            "-o",
            "json",
        ])
        .ok();
    let plan = o.json();
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(
        steps.len(),
        3,
        "scheduler, default workers, gpu workers: {plan}"
    );
    let gpu = &steps[2];
    assert!(
        gpu["what"]
            .as_str()
            .unwrap()
            .contains("2 worker(s) of group gpu")
    );
    assert!(gpu["argv"].to_string().contains("--array=0-1"), "{gpu}");
    let script = gpu["files"][0]["content"].as_str().unwrap();
    assert!(
        gpu["files"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("/gplan/worker-gpu.sh")
    );
    for line in [
        "#SBATCH --job-name=gplan-worker-gpu",
        "role=worker;group=gpu;id=",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --mem=8192M",
        "#SBATCH --partition=gpu",
        "#SBATCH --gres=gpu:1",
        // the cluster's extra directive, then the group's
        "#SBATCH --qos=normal\n#SBATCH --constraint=a100",
        "--name \"gplan-gpu-${SLURM_JOB_ID}\" --nthreads 4",
        "--memory-limit 8589934592 --resources gpu=4",
    ] {
        assert!(script.contains(line), "{line:?} not in:\n{script}");
    }
    let default = steps[1]["files"][0]["content"].as_str().unwrap();
    assert!(default.contains("#SBATCH --partition=debug"), "{default}");
    assert!(!default.contains("gres"), "{default}");
    assert!(!default.contains("--resources"), "{default}");
}

#[test]
fn bad_groups_are_refused_before_anything_is_created() {
    // the batch backends enabled (their dry runs need no tools); local's scan off
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    for (args, says) in [
        (vec!["local", "--worker-group", "gpu"], "NAME:COUNT"),
        (vec!["local", "--worker-group", "gpu:x"], "NAME:COUNT"),
        (
            vec!["local", "--worker-group", "default:1"],
            "default group",
        ),
        (vec!["local", "--worker-group", "GPU:1"], "lowercase"),
        (
            vec!["local", "--worker-group", "gpu:1:gpus=1"],
            "unknown setting \"gpus\"",
        ),
        (
            vec!["local", "--worker-group", "gpu:1:threads=0"],
            "invalid threads",
        ),
        (
            vec!["local", "--worker-group", "a:1", "--worker-group", "a:2"],
            "given twice",
        ),
        (
            vec!["gateway", "--worker-group", "a:1", "--dry-run"],
            "makes no worker groups",
        ),
        (
            vec!["slurm", "--worker-group", "a:1:partition=a;b", "--dry-run"],
            "invalid partition",
        ),
        (
            vec!["slurm", "--worker-group", "a:1:gpus=0", "--dry-run"],
            "invalid gpus",
        ),
    ] {
        let mut argv = vec!["create"];
        argv.extend(&args);
        argv.extend(["--name", "bad-groups"]);
        let o = env.run(&argv).code(2);
        assert!(o.one_line_error().contains(says), "{args:?}: {}", o.stderr);
    }
    assert!(env.state_dirs().is_empty(), "nothing was created");
}

#[test]
fn spec_groups_create_and_apply_brings_each_group_to_its_size() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    let path = env.dir.path().join("groups.yaml");
    let spec = |big: u32| {
        format!(
            "name: specgroups\nbackend: local\nworkers: 1\n\
             worker_groups:\n  - {{name: big, workers: {big}, threads: 2}}\n"
        )
    };
    std::fs::write(&path, spec(1)).unwrap();
    let p = path.to_string_lossy().to_string();
    env.run(&["apply", "-f", &p]).ok();
    assert_eq!(
        groups(&env, "local/specgroups"),
        vec![g("default", 1, 1), g("big", 1, 1)]
    );
    std::fs::write(&path, spec(2)).unwrap();
    let o = env.run(&["apply", "-f", &p, "-o", "json"]).ok();
    let changes = o.json()["changes"].to_string();
    assert!(
        changes.contains("scaled group big from 1 to 2"),
        "{changes}"
    );
    wait_until("big to have 2 workers", Duration::from_secs(60), || {
        groups(&env, "local/specgroups")[1] == g("big", 2, 2)
    });
    // one adaptive group per spec
    std::fs::write(
        &path,
        "name: specgroups\nbackend: local\nadapt: {minimum: 0, maximum: 1}\n\
         worker_groups:\n  - {name: big, workers: 1, adapt: {minimum: 1, maximum: 2}}\n",
    )
    .unwrap();
    let o = env.run(&["apply", "-f", &p]).code(2);
    assert!(o.stderr.contains("more than once"), "{}", o.stderr);
    std::fs::write(
        &path,
        "name: specgroups\nbackend: local\n\
         worker_groups:\n  - {name: big, workers: 1, adapt: {minimum: 1, maximum: 2}}\n",
    )
    .unwrap();
    let o = env.run(&["apply", "-f", &p, "-o", "json"]).ok();
    assert!(
        o.json()["notes"]
            .to_string()
            .contains("group big: it adapts"),
        "{}",
        o.stdout
    );
    assert_eq!(env.describe("local/specgroups")["adapt"]["group"], "big");
    std::fs::write(
        &path,
        "name: specgroups\nbackend: local\nworker_groups:\n  - {name: big, wrkers: 1}\n",
    )
    .unwrap();
    let o = env.run(&["apply", "-f", &p]).code(2);
    assert!(o.stderr.contains("wrkers"), "{}", o.stderr);
    env.run(&["delete", "local/specgroups", "--yes", "--wait"])
        .ok();
}

/// `scale --wait` on a terminal shows the group's workers connected and jobs queued and
/// running, and ends, saying why, when another scale changes the group's count meanwhile. The
/// group's jobs wait for their `--begin` time an hour away, so only that change can end it.
#[test]
fn scale_wait_shows_progress_and_ends_when_another_scale_retargets() {
    if !slurm_up() {
        return;
    }
    let env = Env::slurm();
    env.run(&[
        "create",
        "slurm",
        "--name",
        "retarget",
        "--workers",
        "0",
        "--worker-group",
        "late:0:job-extra=--begin=now+1hour",
        "--timeout",
        "180",
    ])
    .ok();
    let t = env.pty(&[
        "scale",
        "slurm/retarget",
        "2",
        "--group",
        "late",
        "--wait",
        "--timeout",
        "600",
    ]);
    t.expect_text(
        "0/2 workers connected, 2 jobs queued, 0 running",
        Duration::from_secs(120),
    );
    env.run(&["scale", "slurm/retarget", "1", "--group", "late"])
        .ok();
    let (code, screen) = t.wait(Duration::from_secs(120));
    assert_eq!(code, 1, "{screen}");
    assert!(
        screen.contains(
            "another scale of slurm/retarget asked for 1 worker(s) of group late meanwhile: \
             this wait for 2 ends"
        ),
        "{screen}"
    );
    assert_eq!(
        groups(&env, "slurm/retarget"),
        vec![g("default", 0, 0), g("late", 0, 1)]
    );
    env.run(&["delete", "slurm/retarget", "--yes", "--wait"])
        .ok();
}
