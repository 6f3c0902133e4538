//! Spec files: `create -f` (daskctl's YAML and dask-ctl's), flags over the file, `apply -f`
//! creating or bringing a cluster to its spec, and a dask-ctl `SLURMCluster` spec giving the job
//! dask-jobqueue itself would submit.

use crate::support::{self, Env, python};
use std::collections::BTreeMap;
use std::process::Command;

fn write(env: &Env, file: &str, text: &str) -> String {
    let p = env.dir.path().join(file);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn create_from_a_daskctl_spec_with_flags_over_it() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    let port = support::free_port();
    let spec = write(
        &env,
        "etl.yaml",
        &format!(
            "name: specced\nbackend: local\nworkers: 2\nthreads: 2\nmemory: 1GiB\n\
             adapt: {{minimum: 1, maximum: 3}}\nscheduler: {{host: 127.0.0.1, port: {port}}}\n"
        ),
    );
    // --workers on the command line wins over the file's 2
    let o = env
        .run(&["create", "-f", &spec, "--workers", "1", "-o", "json"])
        .ok();
    let c = o.json();
    assert_eq!(
        (c["name"].as_str(), c["workers"].as_u64()),
        (Some("specced"), Some(1))
    );
    assert_eq!(c["threads"], 2, "threads come from the file: {c}");
    // what create prints shows the spec's policy (not "Adapt: -")
    assert_eq!(c["adapt"]["maximum"], 3, "{c}");
    assert_eq!(c["adapt_by"], "reconcile", "{c}");
    assert_eq!(c["memory"], 1u64 << 30);
    assert_eq!(
        c["address"],
        format!("tcp://127.0.0.1:{port}"),
        "the spec's scheduler section: {c}"
    );
    let d = env.describe("local/specced");
    assert_eq!(d["adapt"]["minimum"], 1, "the spec's policy is stored: {d}");
    assert_eq!(d["adapt"]["maximum"], 3);
    env.run(&["create", "slurm", "-f", &spec]).code(2);
    env.run(&["delete", "local/specced", "--yes"]).ok();
}

#[test]
fn bad_specs_are_one_line_errors_naming_the_key_and_create_nothing() {
    let env = Env::new()
        .without_batch()
        .with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    for (text, named) in [
        ("name: x\nbackend: local\nwrkers: 2\n", "wrkers"),
        (
            "name: x\nbackend: local\noptions: {partition: debug}\n",
            "options.partition",
        ),
        (
            "name: x\nbackend: local\nadapt: {minimum: 3, maximum: 1}\n",
            "--minimum 3",
        ),
        ("name: x\nbackend: nowhere\n", "nowhere"),
        (
            "name: x\nbackend: local\nscheduler: {dashboard: 8787}\n",
            "dashboard",
        ),
        (
            "name: x\nbackend: local\nscheduler: {instance_type: m5.large}\n",
            "scheduler.instance_type",
        ),
        (
            "name: x\nbackend: local\nidle_timeout: 5m\nscheduler: {idle_timeout: 10m}\n",
            "scheduler.idle_timeout",
        ),
        (
            "version: 1\nmodule: dask_jobqueue\nclass: SLURMCluster\nkwargs: {interface: ib0}\n",
            "kwargs.interface",
        ),
        (
            "version: 1\nmodule: distributed\nclass: LocalCluster\nkwargs: {processes: false}\n",
            "kwargs.processes",
        ),
        (
            "version: 1\nmodule: my_module\nclass: MyCluster\n",
            "my_module.MyCluster",
        ),
    ] {
        let spec = write(&env, "bad.yaml", text);
        let o = env.run(&["create", "-f", &spec]).code(2);
        assert!(o.one_line_error().contains(named), "{text}: {}", o.stderr);
    }
    env.run(&["create", "-f", "/nonexistent/spec.yaml"]).code(2);
    // daskctl's clusters of this test's state (the local backend also lists Dask processes
    // other tests run meanwhile)
    assert!(
        made(&env).is_empty(),
        "nothing may be created: {:?}",
        env.list()
    );
}

/// The clusters daskctl made with this environment's state.
fn made(env: &Env) -> Vec<serde_json::Value> {
    env.list()
        .into_iter()
        .filter(|c| c["origin"] == "daskctl")
        .collect()
}

#[test]
fn apply_creates_then_brings_the_cluster_to_its_spec() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    let spec = |workers: u32, adapt: &str| {
        write(
            &env,
            "app.yaml",
            &format!("name: applied\nbackend: local\nworkers: {workers}\n{adapt}"),
        )
    };
    let json = |o: support::Out| o.json();
    // a dry run says what it would do and does nothing
    let r = json(
        env.run(&["apply", "-f", &spec(1, ""), "--dry-run", "-o", "json"])
            .ok(),
    );
    assert_eq!(
        (r["created"].as_bool(), r["dry_run"].as_bool()),
        (Some(false), Some(true)),
        "{r}"
    );
    assert_eq!(r["changes"][0], "create", "{r}");
    assert!(
        made(&env).is_empty(),
        "a dry run created something: {:?}",
        env.list()
    );
    let r = json(env.run(&["apply", "-f", &spec(1, ""), "-o", "json"]).ok());
    assert_eq!(r["created"], true, "{r}");
    assert_eq!(support::workers(&env, "local/applied"), 1);
    let r = json(
        env.run(&["apply", "-f", &spec(2, ""), "--dry-run", "-o", "json"])
            .ok(),
    );
    assert_eq!(r["changes"][0], "would scale from 1 to 2 worker(s)", "{r}");
    assert_eq!(
        support::workers(&env, "local/applied"),
        1,
        "a dry run scaled"
    );
    let r = json(env.run(&["apply", "-f", &spec(2, ""), "-o", "json"]).ok());
    assert_eq!(r["created"], false);
    assert_eq!(r["changes"][0], "scaled from 1 to 2 worker(s)", "{r}");
    // nothing in the spec differs from what creation set: no note about it
    assert_eq!(r["notes"], serde_json::json!([]), "{r}");
    // threads only creation sets, and they differ: said, with the fix, and nothing else done
    let threads = write(
        &env,
        "threads.yaml",
        "name: applied\nbackend: local\nworkers: 2\nthreads: 3\n",
    );
    let r = json(env.run(&["apply", "-f", &threads, "-o", "json"]).ok());
    assert_eq!(r["changes"], serde_json::json!([]), "{r}");
    assert!(
        r["notes"][0].as_str().is_some_and(
            |n| n.starts_with("threads: the spec says 3 per worker, its workers run 1")
        ),
        "{r}"
    );
    support::wait_until("2 workers", std::time::Duration::from_secs(60), || {
        support::workers(&env, "local/applied") == 2
    });
    let r = json(env.run(&["apply", "-f", &spec(2, ""), "-o", "json"]).ok());
    assert_eq!(r["changes"], serde_json::json!([]), "{r}");
    let o = env.run(&["apply", "-f", &spec(2, "")]).ok();
    assert!(o.stderr.contains("no changes"), "{}", o.stderr);
    let r = json(
        env.run(&[
            "apply",
            "-f",
            &spec(2, "adapt: {minimum: 1, maximum: 4}\n"),
            "-o",
            "json",
        ])
        .ok(),
    );
    assert_eq!(r["changes"][0], "adapts between 1 and 4 worker(s)", "{r}");
    assert_eq!(env.describe("local/applied")["adapt"]["maximum"], 4);
    let r = json(env.run(&["apply", "-f", &spec(2, ""), "-o", "json"]).ok());
    assert_eq!(r["changes"][0], "no longer adapts", "{r}");
    assert!(env.describe("local/applied").get("adapt").is_none());
    // a spec without a name cannot be applied
    let nameless = write(&env, "nameless.yaml", "backend: local\nworkers: 1\n");
    env.run(&["apply", "-f", &nameless]).code(2);
    env.run(&["delete", "local/applied", "--yes"]).ok();
}

#[test]
fn dask_ctl_local_cluster_spec_creates_a_local_cluster() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    let spec = write(
        &env,
        "dask-cluster.yaml",
        "version: 1\nmodule: dask.distributed\nclass: LocalCluster\nkwargs:\n  name: fromctl\n  \
         n_workers: 2\n  threads-per-worker: 1\n",
    );
    env.run(&["create", "-f", &spec]).ok();
    assert_eq!(support::workers(&env, "local/fromctl"), 2);
    env.run(&["delete", "local/fromctl", "--yes"]).ok();
}

/// `#SBATCH` directives as option -> value, short and long spellings made one, without what
/// names or places the job (job name, comment, output).
fn directives(script: &str) -> BTreeMap<String, String> {
    let long = |o: &str| {
        match o {
            "-J" => "--job-name",
            "-p" => "--partition",
            "-A" => "--account",
            "-n" => "--ntasks",
            "-t" => "--time",
            o => o,
        }
        .to_string()
    };
    script
        .lines()
        .filter_map(|l| l.strip_prefix("#SBATCH "))
        .map(|d| match d.split_once([' ', '=']) {
            Some((o, v)) => (long(o), v.trim().to_string()),
            None => (long(d), String::new()),
        })
        .filter(|(o, _)| !["--job-name", "--comment", "--output"].contains(&o.as_str()))
        .collect()
}

/// Slurm's --mem value in MiB.
fn mib(v: &str) -> u64 {
    let (n, unit) = v.split_at(v.len() - 1);
    let n: u64 = n.parse().unwrap();
    match unit {
        "G" => n * 1024,
        "M" => n,
        "K" => n.div_ceil(1024),
        u => panic!("unit {u}"),
    }
}

#[test]
fn dask_ctl_slurm_cluster_spec_submits_what_dask_jobqueue_would() {
    let env = Env::new();
    let kwargs = "cores: 2\n  memory: 4GB\n  processes: 1\n  queue: debug\n  account: acct\n  \
                  walltime: '01:00:00'\n  job_extra_directives: ['--qos=high', '--exclusive']\n  \
                  n_workers: 3";
    let spec = write(
        &env,
        "jq.yaml",
        &format!("version: 1\nmodule: dask_jobqueue\nclass: SLURMCluster\nkwargs:\n  {kwargs}\n"),
    );
    let plan = env
        .run(&[
            "create",
            "-f",
            &spec,
            "--name",
            "jqspec",
            "--dry-run",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let workers = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["role"] == "workers")
        .unwrap_or_else(|| panic!("{plan}"));
    assert!(
        workers["what"].as_str().unwrap().contains("3 worker(s)"),
        "{workers}"
    );
    let ours = workers["files"][0]["content"].as_str().unwrap().to_string();
    // dask-jobqueue's own job script for the same keywords
    let code = "from dask_jobqueue.slurm import SLURMJob\n\
                print(SLURMJob(scheduler='tcp://127.0.0.1:1', name='w', cores=2, memory='4GB', \
                processes=1, queue='debug', account='acct', walltime='01:00:00', \
                job_extra_directives=['--qos=high', '--exclusive']).job_script())";
    let out = Command::new(python()).args(["-c", code]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = String::from_utf8(out.stdout).unwrap();
    let (mut a, mut b) = (directives(&ours), directives(&theirs));
    // memory: the same request; dask-jobqueue rounds up to whole GiB, daskctl to MiB
    let (ma, mb) = (
        mib(&a.remove("--mem").unwrap()),
        mib(&b.remove("--mem").unwrap()),
    );
    assert!(ma <= mb && mb - ma < 1024, "--mem {ma}M vs {mb}M");
    assert_eq!(a, b, "ours:\n{ours}\ndask-jobqueue's:\n{theirs}");
    // the worker: same threads and memory limit
    assert!(ours.contains("--nthreads 2") && theirs.contains("--nthreads 2"));
    assert!(ours.contains("--memory-limit 4000000000"), "{ours}");
    assert!(theirs.contains("--memory-limit 3.73GiB"), "{theirs}");
}
