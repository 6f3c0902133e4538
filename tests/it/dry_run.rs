//! `create --dry-run` on every backend: exactly what would be submitted, nothing submitted, and
//! neither the backend's tools nor its credentials needed.

use crate::support::Env;

/// An environment with none of the batch tools on PATH, no kubeconfig and no AWS credentials.
fn bare() -> Env {
    Env::new().with("PATH", "/usr/bin:/bin")
}

fn plan(env: &Env, args: &[&str]) -> serde_json::Value {
    let mut argv = vec!["create"];
    argv.extend_from_slice(args);
    argv.extend(["--dry-run", "-o", "json"]);
    let p = env.run(&argv).ok().json();
    assert_eq!(p["dry_run"], true, "{p}");
    p
}

fn file<'a>(step: &'a serde_json::Value, suffix: &str) -> &'a str {
    step["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(suffix))
        .and_then(|f| f["content"].as_str())
        .unwrap_or_else(|| panic!("no {suffix} in {step}"))
}

#[test]
fn batch_job_scripts_and_submissions_without_the_tools() {
    let env = bare();
    let py = crate::support::python();
    let py = py.to_str().unwrap();
    for (backend, directive, submit) in [
        ("slurm", "#SBATCH --partition=short", "sbatch"),
        ("pbs", "#PBS -q short", "qsub"),
        ("sge", "#$ -q short", "qsub"),
        ("lsf", "#BSUB -q short", "bsub"),
        ("moab", "#PBS -q short", "msub"),
        (
            "htcondor",
            "# condor: stream_output = true",
            "condor_submit",
        ),
    ] {
        // HTCondor has no partitions: --partition is refused there (see below)
        let mut args = vec![backend, "--name", "dry", "--workers", "3", "--python", py];
        if backend != "htcondor" {
            args.extend(["--partition", "short"]);
        }
        let p = plan(&env, &args);
        let steps = p["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 2, "{p}");
        let (sched, workers) = (&steps[0], &steps[1]);
        assert_eq!(sched["argv"][0], submit, "{p}");
        let script = file(workers, "worker.sh");
        assert!(
            script.contains("cluster=dry;role=worker"),
            "{backend}: {script}"
        );
        assert!(
            script.contains(py) && script.contains("dask worker"),
            "{script}"
        );
        if backend != "htcondor" {
            assert!(script.contains(directive), "{backend}: {script}");
        }
        if backend == "htcondor" {
            let sub = file(workers, "worker.sub");
            assert!(
                sub.contains("stream_output = true") && sub.ends_with("queue 3\n"),
                "{sub}"
            );
        }
        if backend == "slurm" {
            assert_eq!(workers["argv"][2], "--array=0-2", "{p}");
        }
        assert!(!env.shared().exists() && !env.dir.path().join(".daskctl").exists());
        // the table form, for people
        let t = env
            .run(&[
                "create",
                backend,
                "--name",
                "dry",
                "--workers",
                "3",
                "--python",
                py,
                "--dry-run",
            ])
            .ok()
            .stdout;
        assert!(t.starts_with("# dry run:") && t.contains("$ "), "{t}");
    }
}

#[test]
fn kubernetes_objects_without_an_api_server() {
    let env = bare();
    let p = plan(
        &env,
        &[
            "kubernetes",
            "--name",
            "dry",
            "--workers",
            "2",
            "--resources",
            "cpu=1",
        ],
    );
    let steps = p["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    let dc = &steps[0]["object"];
    assert_eq!(dc["kind"], "DaskCluster");
    assert_eq!(dc["spec"]["worker"]["replicas"], 2);
    assert_eq!(
        dc["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "daskctl"
    );
    let p = plan(
        &env,
        &["kubernetes", "--name", "dry", "--workers", "2", "--native"],
    );
    let kinds: Vec<&str> = p["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["object"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Deployment", "Service", "Deployment"]);
    let yaml = env
        .run(&[
            "create",
            "kubernetes",
            "--name",
            "dry",
            "--dry-run",
            "-o",
            "yaml",
        ])
        .ok()
        .stdout;
    let v: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(v["steps"][0]["object"]["kind"], "DaskCluster");
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "dry",
        "--resources",
        "cpu=-1",
        "--dry-run",
    ])
    .code(2);
}

#[test]
fn aws_launch_parameters_and_user_data_without_credentials() {
    let env = bare().with("AWS_REGION", "eu-west-1");
    let p = plan(
        &env,
        &[
            "aws",
            "--name",
            "dry",
            "--workers",
            "4",
            "--ami",
            "ami-0123456789abcdef0",
            "--spot",
            "--ttl",
            "2h",
        ],
    );
    let steps = p["steps"].as_array().unwrap();
    let roles: Vec<&str> = steps.iter().map(|s| s["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["security-group", "scheduler", "workers"], "{p}");
    let w = &steps[2]["object"];
    assert_eq!(w["ImageId"], "ami-0123456789abcdef0");
    assert_eq!(w["MinCount"], 4);
    assert_eq!(w["Spot"], true);
    assert_eq!(w["Region"], "eu-west-1");
    assert_eq!(w["Tags"]["daskctl:cluster"], "dry");
    assert!(w["Tags"]["daskctl:expires"].is_string());
    let data = file(&steps[2], "user data (workers)");
    assert!(
        data.contains("dask worker tcp://<the scheduler's private address>:8786"),
        "{data}"
    );
}

#[test]
fn gcp_instances_and_startup_scripts_without_credentials() {
    let env = bare();
    let p = plan(
        &env,
        &[
            "gcp",
            "--name",
            "dry",
            "--workers",
            "3",
            "--zone",
            "europe-west1-b",
            "--machine-type",
            "n2-standard-4",
            "--spot",
            "--worker-group",
            "big:1:machine-type=n2-standard-8",
        ],
    );
    let steps = p["steps"].as_array().unwrap();
    let roles: Vec<&str> = steps.iter().map(|s| s["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["scheduler", "workers", "workers"], "{p}");
    let s = &steps[0]["object"];
    assert_eq!(s["zone"], "europe-west1-b");
    assert_eq!(
        s["instance"]["machineType"],
        "zones/europe-west1-b/machineTypes/n2-standard-4"
    );
    assert_eq!(s["instance"]["labels"]["daskctl-cluster"], "dry");
    assert_eq!(s["instance"]["labels"]["daskctl-role"], "scheduler");
    let w = &steps[1]["object"]["instance"];
    assert_eq!(w["scheduling"]["provisioningModel"], "SPOT", "{w}");
    assert_eq!(w["scheduling"]["instanceTerminationAction"], "DELETE");
    let big = &steps[2]["object"]["instance"];
    assert_eq!(big["labels"]["daskctl-group"], "big");
    assert!(
        big["machineType"]
            .as_str()
            .unwrap()
            .ends_with("/n2-standard-8")
    );
    let script = file(&steps[1], "-worker-<8 hex digits>)");
    assert!(
        script.contains("dask worker tcp://<the scheduler's internal address>:8786"),
        "{script}"
    );
    // a name Compute Engine could not take for its instances is refused first
    let o = env
        .run(&[
            "create",
            "gcp",
            "--name",
            "9lives",
            "--dry-run",
            "--zone",
            "x-1-a",
        ])
        .code(2);
    assert!(
        o.stderr.contains("must start with a letter"),
        "{}",
        o.stderr
    );
}

#[test]
fn local_commands_and_nothing_started() {
    let env = bare();
    let p = plan(
        &env,
        &["local", "--name", "dry", "--workers", "2", "--threads", "2"],
    );
    let argv: Vec<&str> = p["steps"][0]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(&argv[1..4], ["-m", "dask", "scheduler"]);
    let w = p["steps"][1]["argv"].to_string();
    assert!(
        w.contains("\"--nthreads\",\"2\"") && w.contains("dry-0"),
        "{w}"
    );
    assert!(env.state_dirs().is_empty(), "a dry run created state");
}

/// A flag the backend does not take is a usage error naming the backends that do, before
/// anything is planned or created; `create --help` says which backends read each flag.
#[test]
fn flags_a_backend_does_not_take_name_the_ones_that_do() {
    let env = bare();
    for (backend, flag, takers) in [
        (
            "htcondor",
            &["--partition", "short"][..],
            "lsf, moab, pbs, sge, slurm",
        ),
        (
            "local",
            &["--walltime", "01:00:00"],
            "htcondor, lsf, moab, pbs, sge, slurm",
        ),
        ("slurm", &["--instance-type", "m5.large"], "aws"),
        ("aws", &["--resources", "cpu=1"], "kubernetes"),
        ("kubernetes", &["--scheduler-port", "8786"], "local"),
    ] {
        let mut args = vec!["create", backend, "--name", "flags", "--dry-run"];
        args.extend(flag);
        let o = env.run(&args).code(2);
        let line = o.one_line_error();
        assert!(
            line.contains(flag[0]) && line.ends_with(takers),
            "{backend} {flag:?}: {line}"
        );
    }
    let help = env.run(&["create", "--help"]).ok().stdout;
    for (flag, takers) in [
        ("--partition", "[slurm, pbs, sge]"),
        ("--walltime", "[slurm, pbs, sge, htcondor]"),
        ("--account", "[slurm, pbs, sge, htcondor]"),
        ("--instance-type", "[aws]"),
    ] {
        let line = help
            .lines()
            .skip_while(|l| !l.trim_start().starts_with(flag))
            .take(3)
            .flat_map(str::split_whitespace)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(line.contains(takers), "{flag}: {line}");
    }
}

/// The cloud backends' flags are on the verbs that discover or create clusters, and nowhere
/// else: `backends` and `completions` neither show nor take them.
#[test]
fn cloud_flags_are_only_on_the_verbs_that_use_them() {
    let env = bare();
    for verb in [
        "list", "describe", "create", "scale", "logs", "delete", "cleanup", "snippet",
    ] {
        let help = env.run(&[verb, "--help"]).ok().stdout;
        for flag in ["--region", "--profile", "--context", "--namespace"] {
            assert!(help.contains(flag), "{verb} --help lacks {flag}");
        }
    }
    for verb in [&["backends", "--help"][..], &["completions", "--help"]] {
        let help = env.run(verb).ok().stdout;
        assert!(
            !help.contains("--region") && !help.contains("--context"),
            "{help}"
        );
    }
    let o = env.run(&["backends", "--region", "us-east-1"]).code(2);
    assert!(o.stderr.contains("--region"), "{}", o.stderr);
}

/// `--idle-timeout` where the cluster can end itself: Dask's scheduler flag on the AWS
/// scheduler instance (which then powers off and terminates), the operator's
/// `DaskCluster.spec.idleTimeout` on Kubernetes; plain Deployments would restart the scheduler,
/// so there it is refused.
#[test]
fn idle_timeout_on_the_cloud_backends() {
    let env = bare().with("AWS_REGION", "eu-west-1");
    let p = plan(
        &env,
        &[
            "aws",
            "--name",
            "idle",
            "--ami",
            "ami-0123456789abcdef0",
            "--idle-timeout",
            "10m",
        ],
    );
    let steps = p["steps"].as_array().unwrap();
    let s = steps.iter().find(|s| s["role"] == "scheduler").unwrap();
    let data = file(s, "user data (scheduler)");
    assert!(data.contains("--idle-timeout 600s"), "{data}");
    assert_eq!(
        s["object"]["InstanceInitiatedShutdownBehavior"],
        "terminate"
    );

    let p = plan(
        &env,
        &["kubernetes", "--name", "idle", "--idle-timeout", "10m"],
    );
    let dc = &p["steps"][0]["object"];
    assert_eq!(dc["kind"], "DaskCluster");
    assert_eq!(dc["spec"]["idleTimeout"], 600, "{dc}");
    let o = env
        .run(&[
            "create",
            "kubernetes",
            "--name",
            "idle",
            "--native",
            "--idle-timeout",
            "10m",
            "--dry-run",
        ])
        .code(2);
    assert!(
        o.stderr.contains("needs the dask-kubernetes operator"),
        "{}",
        o.stderr
    );
}
