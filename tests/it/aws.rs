//! The AWS EC2 backend against moto's EC2 API. moto's instances run nothing and their
//! addresses are not ours: schedulers are probed only through `probe.map`, pointed at real
//! loopback Dask schedulers the tests start (workers named after their instances, as the
//! user data names them), so the Dask protocol is still exercised.

use crate::support::aws::AMI;
use crate::support::{DaskProc, Env, wait_until};
use std::collections::BTreeSet;
use std::time::Duration;

fn ids(c: &serde_json::Value, role: &str) -> Vec<String> {
    c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["role"] == role)
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn create(env: &Env, name: &str, workers: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "create",
        "aws",
        "--name",
        name,
        "--workers",
        workers,
        "--ami",
        AMI,
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    env.run(&args).ok().json()
}

#[test]
fn lifecycle_with_a_mapped_scheduler() {
    let Some(env) = Env::aws() else { return };
    let c = create(
        &env,
        "ec2-life",
        "2",
        &[
            "--instance-type",
            "t3.small",
            "--worker-instance-type",
            "t3.large",
            "--threads",
            "2",
            "--ttl",
            "8h",
        ],
    );
    assert_eq!(c["backend"], "aws");
    assert_eq!(c["origin"], "daskctl");
    // instances run, Dask cannot be asked from here: the scheduler is still starting
    assert_eq!(c["status"], "pending", "{c}");
    assert!(c["expires"].as_str().unwrap().ends_with('Z'));
    let sched = ids(&c, "scheduler");
    let workers = ids(&c, "worker");
    assert_eq!((sched.len(), workers.len()), (1, 2), "{c}");
    let address = c["address"].as_str().unwrap().to_string();
    assert!(address.starts_with("tcp://") && address.ends_with(":8786"));

    // markers set at launch; scheduler and worker user data; the cluster's own group
    let s = env.ec2(&["describe", &sched[0]]);
    let tags = &s["tags"];
    assert_eq!(tags["daskctl:cluster"], "ec2-life");
    assert_eq!(tags["daskctl:role"], "scheduler");
    assert!(tags["daskctl:owner"].as_str().is_some());
    assert!(
        tags["daskctl:creator"]
            .as_str()
            .unwrap()
            .starts_with("daskctl/")
    );
    assert!(tags["daskctl:expires"].as_str().is_some());
    assert_eq!(s["type"], "t3.small");
    assert!(s["user_data"].as_str().unwrap().contains("dask scheduler"));
    let w = env.ec2(&["describe", &workers[0]]);
    assert_eq!(w["type"], "t3.large");
    assert_eq!(w["tags"]["daskctl:role"], "worker");
    let wdata = w["user_data"].as_str().unwrap();
    assert!(
        wdata.contains(&format!("tcp://{}:8786", s["private_ip"].as_str().unwrap())),
        "{wdata}"
    );
    assert!(wdata.contains("--nthreads 2"), "{wdata}");
    let groups = env.ec2(&["groups"]);
    let group = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["tags"]["daskctl:cluster"] == "ec2-life")
        .expect("security group for the cluster")
        .clone();
    assert_eq!(s["groups"], serde_json::json!([group["id"]]));

    // a real scheduler stands in for the instance's; workers carry their instance ids
    let (_sched, real) = DaskProc::scheduler(&[]);
    env.map_probe(&address, &real);
    let _w: Vec<DaskProc> = workers
        .iter()
        .map(|id| DaskProc::worker(&real, &["--name", id, "--nthreads", "2"]))
        .collect();
    wait_until("2 workers connected", Duration::from_secs(60), || {
        env.describe("ec2-life")["workers"] == 2
    });
    let d = env.describe("aws/ec2-life");
    assert_eq!(d["status"], "running", "{d}");
    assert_eq!(d["threads"], 4);
    assert!(d["dashboard"].as_str().unwrap().ends_with("/status"));
    let listed = env.find("ec2-life").expect("listed");
    assert_eq!(listed["address"], address.as_str());

    // scale up: one more worker launched like the others, read back from AWS alone
    env.run(&["scale", "ec2-life", "3"]).ok();
    let after = env.describe("ec2-life");
    let new: Vec<String> = ids(&after, "worker")
        .into_iter()
        .filter(|i| !workers.contains(i))
        .collect();
    assert_eq!(new.len(), 1, "{after}");
    let n = env.ec2(&["describe", &new[0]]);
    for key in ["type", "ami", "subnet", "groups", "user_data", "spot"] {
        assert_eq!(n[key], w[key], "{key} differs");
    }
    assert_eq!(n["tags"]["daskctl:cluster"], "ec2-life");
    let _w3 = DaskProc::worker(&real, &["--name", &new[0], "--nthreads", "2"]);
    wait_until("3 workers connected", Duration::from_secs(60), || {
        env.describe("ec2-life")["workers"] == 3
    });

    // scale down: the newest two retire through the scheduler, then exactly they terminate
    env.run(&["scale", "ec2-life", "1", "--wait", "--timeout", "60"])
        .ok();
    let d = env.describe("ec2-life");
    assert_eq!(d["workers"], 1, "{d}");
    let left = ids(&d, "worker");
    assert_eq!(left.len(), 1, "{d}");
    let all: BTreeSet<String> = workers.iter().chain(&new).cloned().collect();
    for id in &all {
        let state = env.ec2(&["describe", id])["state"].clone();
        if *id == left[0] {
            assert_eq!(state, "running");
        } else {
            assert_eq!(state, "terminated", "{id}");
        }
    }
    assert_eq!(d["worker_details"][0]["name"], left[0].as_str());

    // logs: each instance's console output, labelled
    let logs = env.run(&["logs", "ec2-life"]).ok().stdout;
    assert!(
        logs.lines()
            .any(|l| l.starts_with("[scheduler] ") && l.contains("Linux version")),
        "{logs}"
    );
    assert!(logs.contains(&format!("[{}] ", left[0])), "{logs}");
    let tail = env
        .run(&["logs", "ec2-life", "--scheduler", "--tail", "2"])
        .ok()
        .stdout;
    assert_eq!(tail.lines().count(), 2, "{tail}");

    // delete: refused without --yes, then every instance and the group go
    env.run(&["delete", "ec2-life"]).code(5);
    env.run(&["delete", "ec2-life", "--yes", "--wait"]).ok();
    assert_eq!(env.ec2(&["describe", &sched[0]])["state"], "terminated");
    assert_eq!(env.ec2(&["describe", &left[0]])["state"], "terminated");
    assert!(
        env.ec2(&["groups"])
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["id"] != group["id"])
    );
    assert!(env.find("ec2-life").is_none());
    env.run(&["describe", "ec2-life"]).code(3);
}

#[test]
fn scale_up_from_zero_uses_the_schedulers_spec() {
    let Some(env) = Env::aws() else { return };
    let c = create(&env, "ec2-zero", "0", &["--spot", "--memory", "2GiB"]);
    assert!(ids(&c, "worker").is_empty());
    let o = env.run(&["scale", "ec2-zero", "2"]).ok();
    assert!(o.stderr.contains("from 0 to 2"), "{}", o.stderr);
    let d = env.describe("ec2-zero");
    let w = ids(&d, "worker");
    assert_eq!(w.len(), 2);
    let s = env.ec2(&["describe", &ids(&d, "scheduler")[0]]);
    let x = env.ec2(&["describe", &w[0]]);
    assert!(x["spot"].as_bool().unwrap(), "{x}");
    assert_eq!(x["ami"], s["ami"]);
    assert_eq!(x["subnet"], s["subnet"]);
    assert_eq!(x["groups"], s["groups"]);
    assert_eq!(x["tags"]["daskctl:role"], "worker");
    assert!(x["tags"].get("daskctl:worker").is_none());
    assert!(
        x["user_data"]
            .as_str()
            .unwrap()
            .contains("--memory-limit 2147483648")
    );
    env.run(&["delete", "ec2-zero", "--yes"]).ok();
}

#[test]
fn cloudprovider_clusters_orphans_stopped_and_ttl() {
    let Some(env) = Env::aws() else { return };
    // dask-cloudprovider's EC2Cluster, made the way it makes them
    let cp = env.ec2(&["cloudprovider", "us-east-1", "5b1a2c3d", "2"]);
    env.ec2(&["plain"]);
    let c = env
        .find("dask-5b1a2c3d")
        .expect("dask-cloudprovider cluster listed");
    assert_eq!(c["origin"], "dask-cloudprovider");
    assert_eq!(
        ids(&c, "scheduler"),
        vec![cp["scheduler"].as_str().unwrap()]
    );
    assert_eq!(ids(&c, "worker").len(), 2);
    assert!(c["address"].as_str().unwrap().starts_with("tls://"));
    // instances without Dask markers are nobody's cluster
    assert_eq!(
        env.run(&["list", "-b", "aws", "-o", "name"])
            .ok()
            .stdout
            .lines()
            .count(),
        1
    );

    // scaled up, a new worker launches as dask-cloudprovider's do: the newest worker's 40 GB
    // gp3 root volume and a public address (dask_cloudprovider/aws/ec2.py)
    env.run(&["scale", "aws/dask-5b1a2c3d", "3"]).ok();
    let c = env.describe("aws/dask-5b1a2c3d");
    let new: Vec<String> = ids(&c, "worker")
        .into_iter()
        .filter(|i| !cp.as_object().unwrap().values().any(|v| v == i))
        .collect();
    assert_eq!(new.len(), 1, "{c}");
    let d = env.ec2(&["describe", &new[0]]);
    assert_eq!(
        d["root_volume"],
        serde_json::json!({"size": 40, "type": "gp3"}),
        "{d}"
    );
    assert!(d["public_ip"].is_string(), "{d}");
    assert_eq!(d["tags"]["Dask Cluster"], "5b1a2c3d");
    env.ec2(&["terminate", &new[0]]);

    // its scheduler instance terminated: the workers are orphans
    env.ec2(&["terminate", cp["scheduler"].as_str().unwrap()]);
    let c = env.describe("aws/dask-5b1a2c3d");
    assert_eq!(c["status"], "orphaned", "{c}");

    // a daskctl cluster with every instance stopped; one whose TTL is over
    let stopped = create(&env, "ec2-stopped", "1", &[]);
    let mut all = ids(&stopped, "scheduler");
    all.extend(ids(&stopped, "worker"));
    let mut args = vec!["stop"];
    args.extend(all.iter().map(String::as_str));
    env.ec2(&args);
    assert_eq!(env.describe("ec2-stopped")["status"], "stopped");
    create(&env, "ec2-ttl", "1", &["--ttl", "1s"]);
    let fresh = create(&env, "ec2-fresh", "1", &["--ttl", "8h"]);

    // cleanup previews, then deletes exactly those three
    wait_until("TTL passed", Duration::from_secs(10), || {
        env.cleanup_preview(&["--orphaned", "-b", "aws"])
            .contains(&"ec2-ttl".to_string())
    });
    let p = env
        .run(&["cleanup", "--orphaned", "-b", "aws", "-o", "json"])
        .ok()
        .json();
    assert_eq!(p["dry_run"], true);
    let names: BTreeSet<&str> = p["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["cluster"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["dask-5b1a2c3d", "ec2-stopped", "ec2-ttl"]),
        "{p}"
    );
    assert!(p.to_string().contains("TTL expired"));
    assert_eq!(
        env.ec2(&["describe", cp["worker-00000000"].as_str().unwrap()])["state"],
        "running"
    );
    env.run(&["cleanup", "--orphaned", "-b", "aws", "--yes"])
        .ok();
    for id in [cp["worker-00000000"].as_str().unwrap(), &all[0], &all[1]] {
        assert_eq!(env.ec2(&["describe", id])["state"], "terminated", "{id}");
    }
    let left: Vec<String> = env
        .list()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, vec!["ec2-fresh".to_string()]);
    assert_eq!(env.describe("ec2-fresh")["resources"], fresh["resources"]);
}

/// A running scheduler instance whose scheduler does not answer is `unknown`, never
/// `orphaned`, however long the silence: whether it is gone is decided from the instance.
#[test]
fn a_silent_running_scheduler_is_never_orphaned() {
    let Some(env) = Env::aws() else { return };
    let c = create(&env, "ec2-silent", "1", &[]);
    let address = c["address"].as_str().unwrap();
    // the scheduler is mapped to a loopback port where nothing listens
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    env.map_probe(address, &format!("tcp://127.0.0.1:{dead}"));
    assert_eq!(env.describe("ec2-silent")["status"], "pending");
    let env = env.with("DASKCTL_BACKENDS__AWS__STARTUP_GRACE", "0s");
    let d = env.describe("ec2-silent");
    assert_eq!(d["status"], "unknown", "{d}");
    assert!(d["reason"].as_str().unwrap().contains("does not answer"));
    let done = env
        .run(&["cleanup", "--orphaned", "ec2-silent", "--yes", "-o", "json"])
        .ok()
        .json();
    assert_eq!(done["actions"], serde_json::json!([]), "{done}");
    assert_eq!(env.describe("ec2-silent")["status"], "unknown");
}

#[test]
fn bad_input_leaves_nothing_behind() {
    let Some(env) = Env::aws() else { return };
    // a bad worker type fails after the scheduler started: it is terminated, the group removed
    let o = env
        .run(&[
            "create",
            "aws",
            "--name",
            "ec2-bad",
            "--workers",
            "2",
            "--ami",
            AMI,
            "--worker-instance-type",
            "t9.nonsense",
        ])
        .code(2);
    assert!(
        o.one_line_error().contains("InvalidInstanceType")
            || o.stderr.contains("InvalidParameterValue"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("RunInstances"), "{}", o.stderr);
    assert_eq!(env.ec2(&["live"]), serde_json::json!([]));
    assert_eq!(env.ec2(&["groups"]), serde_json::json!([]));
    for (flag, value, code) in [
        ("--ami", "ami-00000000", "InvalidAMIID"),
        ("--subnet", "subnet-00000000", "InvalidSubnetID"),
    ] {
        let mut args = vec!["create", "aws", "--name", "ec2-bad", "--workers", "1"];
        if flag != "--ami" {
            args.extend(["--ami", AMI]);
        }
        args.extend([flag, value]);
        let o = env.run(&args).code(2);
        assert!(o.one_line_error().contains(code), "{}", o.stderr);
        assert_eq!(env.ec2(&["live"]), serde_json::json!([]));
        assert_eq!(env.ec2(&["groups"]), serde_json::json!([]));
    }
    // flags of other backends, and a shell-unsafe image, are refused before any call
    env.run(&["create", "aws", "--name", "x", "--partition", "p"])
        .code(2);
    let o = env
        .run(&[
            "create", "aws", "--name", "x", "--ami", AMI, "--image", "a;reboot",
        ])
        .code(2);
    assert!(o.one_line_error().contains("invalid container image"));
    assert_eq!(env.ec2(&["live"]), serde_json::json!([]));
}

#[test]
fn regions_are_queried_together() {
    let Some(env) = Env::aws() else { return };
    create(&env, "ec2-east", "1", &[]);
    env.run(&[
        "create",
        "aws",
        "--region",
        "eu-west-1",
        "--name",
        "ec2-west",
        "--workers",
        "1",
        "--ami",
        AMI,
    ])
    .ok();
    let both = env
        .run(&[
            "list",
            "-b",
            "aws",
            "--region",
            "us-east-1,eu-west-1",
            "-o",
            "name",
        ])
        .ok()
        .stdout;
    assert_eq!(both.lines().count(), 2, "{both}");
    let east = env.run(&["list", "-b", "aws", "-o", "name"]).ok().stdout;
    assert_eq!(east.trim(), "aws/ec2-east");
    // a verb finds the cluster in its region
    env.run(&[
        "delete",
        "ec2-west",
        "--region",
        "us-east-1,eu-west-1",
        "--yes",
    ])
    .ok();
    assert_eq!(env.ec2(&["live", "eu-west-1"]), serde_json::json!([]));
}

#[test]
fn without_credentials_the_backend_is_skipped_without_asking_the_network() {
    // no variables, no profile files (Env isolates both); the metadata endpoint is pointed at
    // a listener of ours to prove it is never asked
    let imds = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    imds.set_nonblocking(true).unwrap();
    let env = Env::new()
        .with("DASKCTL_BACKENDS__LOCAL__ENABLED", "false")
        .with("AWS_EC2_METADATA_DISABLED", "false")
        .with(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            &format!("http://{}", imds.local_addr().unwrap()),
        );
    let o = env.run(&["list", "-b", "aws", "-o", "json"]).ok();
    assert_eq!(o.json(), serde_json::json!([]));
    let b = env.run(&["backends", "list", "-o", "json"]).ok().json();
    let aws = b
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "aws")
        .unwrap()
        .clone();
    assert!(aws.to_string().contains("no AWS credentials"), "{aws}");
    assert!(
        imds.accept().is_err(),
        "the instance-metadata endpoint was contacted"
    );
}

#[test]
fn throttling_is_retried() {
    let Some(env) = Env::aws() else { return };
    let url = crate::support::aws::endpoint().unwrap();
    let proxy = crate::support::aws::Throttler::start(&url, 2);
    let env = env
        .with("AWS_ENDPOINT_URL", &proxy.url)
        .with("DASKCTL_BACKENDS__AWS__MAX_ATTEMPTS", "4");
    create(&env, "ec2-retry", "1", &[]);
    assert!(proxy.throttled() >= 2);
    let env = env.with("DASKCTL_BACKENDS__AWS__MAX_ATTEMPTS", "1");
    proxy.throttle_next(1);
    let before = proxy.throttled();
    let o = env.run(&["list", "-b", "aws"]).code(4);
    assert_eq!(proxy.throttled(), before + 1);
    assert!(o.stderr.contains("RequestLimitExceeded"), "{}", o.stderr);
}

/// The conformance suite's input checks. Its lifecycle half needs instances that run Dask,
/// which moto's do not: `lifecycle_with_a_mapped_scheduler` covers it for EC2.
struct AwsBed;

impl crate::conformance::Bed for AwsBed {
    fn backend(&self) -> &'static str {
        "aws"
    }
    fn env(&self) -> Env {
        Env::aws().expect("moto test bed")
    }
    fn gone(&self, env: &Env, c: &serde_json::Value) -> bool {
        ids(c, "scheduler")
            .iter()
            .chain(&ids(c, "worker"))
            .all(|id| env.ec2(&["describe", id])["state"] == "terminated")
    }
    fn available(&self) -> bool {
        crate::support::aws::endpoint().is_some()
    }
}

#[test]
fn conformance_bad_input() {
    crate::conformance::bad_input(&AwsBed);
}

/// What real EC2 does and moto does not, injected by a proxy: new instances and groups invisible
/// for a moment (InvalidInstanceID.NotFound, InvalidGroup.NotFound) are waited out, by create
/// and by its roll-back; security groups held by shutting-down instances (DependencyViolation)
/// are waited for, and one that cannot be removed is reported and left findable.
#[test]
fn eventual_consistency_and_groups_held_by_instances() {
    use crate::support::aws::{FaultProxy, Rule};
    let Some(env) = Env::aws() else { return };
    let url = crate::support::aws::endpoint().unwrap();
    let proxy = FaultProxy::start(
        &url,
        vec![
            Rule::new("AuthorizeSecurityGroupIngress", "InvalidGroup.NotFound", 1)
                .after("CreateSecurityGroup"),
            Rule::new("DescribeInstances", "InvalidInstanceID.NotFound", 2).after("RunInstances"),
            Rule::new("TerminateInstances", "InvalidInstanceID.NotFound", 1).after("RunInstances"),
            Rule::new("DeleteSecurityGroup", "DependencyViolation", 2),
        ],
    );
    let env = env.with("AWS_ENDPOINT_URL", &proxy.url);
    // a bad worker type fails after the scheduler and the group were made: the roll-back
    // waits out TerminateInstances' NotFound and the group's DependencyViolation
    env.run(&[
        "create",
        "aws",
        "--name",
        "ec2-ec",
        "--workers",
        "1",
        "--ami",
        AMI,
        "--worker-instance-type",
        "t9.nonsense",
    ])
    .code(2);
    assert_eq!(env.ec2(&["live"]), serde_json::json!([]));
    assert_eq!(env.ec2(&["groups"]), serde_json::json!([]));
    let injected = proxy.injected();
    for fault in [
        "AuthorizeSecurityGroupIngress:InvalidGroup.NotFound",
        "DescribeInstances:InvalidInstanceID.NotFound",
        "TerminateInstances:InvalidInstanceID.NotFound",
        "DeleteSecurityGroup:DependencyViolation",
    ] {
        assert!(
            injected.iter().any(|i| i == fault),
            "{fault} not exercised: {injected:?}"
        );
    }
    // the group carries its owner's name: two users' clusters of one name do not collide
    create(&env, "ec2-ec", "1", &[]);
    let groups = env.ec2(&["groups"]);
    let me = std::env::var("USER").unwrap_or_else(|_| "root".into());
    assert_eq!(
        groups[0]["name"],
        format!("daskctl-{me}-ec2-ec"),
        "{groups}"
    );
    proxy.clear();

    // a group EC2 will not let go of: delete says so (exit 1), and the group stays findable
    let stuck = FaultProxy::start(
        &url,
        vec![Rule::new(
            "DeleteSecurityGroup",
            "DependencyViolation",
            1000,
        )],
    );
    let o = env
        .run_env(
            &[
                ("AWS_ENDPOINT_URL", &stuck.url),
                ("DASKCTL_BACKENDS__AWS__GROUP_PATIENCE", "2s"),
            ],
            &["delete", "ec2-ec", "--yes"],
        )
        .code(1);
    assert!(o.stderr.contains("remains"), "{}", o.stderr);
    assert_eq!(env.ec2(&["live"]), serde_json::json!([]));
    let c = env.describe("ec2-ec");
    assert_eq!(c["status"], "stopped", "{c}");
    assert_eq!(c["resources"][0]["kind"], "security-group", "{c}");
    env.run(&["cleanup", "--orphaned", "ec2-ec", "-b", "aws", "--yes"])
        .ok();
    assert_eq!(env.ec2(&["groups"]), serde_json::json!([]));
}

/// Capacity (InsufficientInstanceCapacity) for some workers: what started is kept and the
/// shortfall reported (exit 4), on create and on scale.
#[test]
fn capacity_shortfalls_keep_what_started() {
    use crate::support::aws::{FaultProxy, Rule};
    let Some(env) = Env::aws() else { return };
    let url = crate::support::aws::endpoint().unwrap();
    // the scheduler and the first batch of two launch; then EC2 is out of capacity
    let proxy = FaultProxy::start(
        &url,
        vec![Rule::new("RunInstances", "InsufficientInstanceCapacity", 1000).skipping(2)],
    );
    let env = env
        .with("AWS_ENDPOINT_URL", &proxy.url)
        .with("DASKCTL_BACKENDS__AWS__LAUNCH_BATCH", "2");
    let o = env
        .run(&[
            "create",
            "aws",
            "--name",
            "ec2-ice",
            "--workers",
            "5",
            "--ami",
            AMI,
        ])
        .code(4);
    assert!(o.stderr.contains("2 of 5"), "{}", o.stderr);
    let c = env.describe("ec2-ice");
    assert_eq!(ids(&c, "worker").len(), 2, "{c}");
    assert_eq!(ids(&c, "scheduler").len(), 1);
    let o = env.run(&["scale", "ec2-ice", "4"]).code(4);
    assert!(
        o.stderr.contains("of 4 worker(s)") && o.stderr.contains("InsufficientInstanceCapacity"),
        "{}",
        o.stderr
    );
    proxy.clear();
    env.run(&["scale", "ec2-ice", "4"]).ok();
    assert_eq!(ids(&env.describe("ec2-ice"), "worker").len(), 4);
    env.run(&["delete", "ec2-ice", "--yes"]).ok();
    assert_eq!(env.ec2(&["live"]), serde_json::json!([]));
}

/// Worker groups on EC2: one launch per group with its instance type, the group as a tag and a
/// Dask resource in the user data, the scheduler keeping each group's launch spec so a group
/// scales from zero; groups counted from the instances and scaled on their own.
#[test]
fn worker_groups_are_one_launch_each() {
    let Some(env) = Env::aws() else { return };
    env.run(&[
        "create",
        "aws",
        "--name",
        "ec2-g",
        "--ami",
        AMI,
        "--worker-group",
        "big:1:gpus=1",
    ])
    .code(2);
    create(
        &env,
        "ec2-g",
        "1",
        &[
            "--instance-type",
            "t3.small",
            "--worker-group",
            "big:2:instance-type=m5.large,threads=4",
        ],
    );
    let groups = |env: &Env| crate::support::requested_by_group(env, "ec2-g");
    assert_eq!(groups(&env), vec![("default".into(), 1), ("big".into(), 2)]);
    let d = env.describe("ec2-g");
    let mut types = BTreeSet::new();
    for id in ids(&d, "worker") {
        let x = env.ec2(&["describe", &id]);
        types.insert(x["type"].as_str().unwrap_or_default().to_string());
        if x["tags"]["daskctl:group"] == "big" {
            assert_eq!(x["type"], "m5.large", "{x}");
            let data = x["user_data"].as_str().unwrap();
            assert!(data.contains("--nthreads 4"), "{data}");
            assert!(data.contains("--resources big=4"), "{data}");
        } else {
            assert_eq!(x["type"], "t3.small", "{x}");
            assert!(!x["user_data"].as_str().unwrap().contains("--resources"));
        }
    }
    assert_eq!(types.len(), 2, "{types:?}");
    // the group down to zero and back up: from the scheduler's launch spec of the group
    env.run(&["scale", "ec2-g", "0", "--group", "big"]).ok();
    assert_eq!(groups(&env), vec![("default".into(), 1), ("big".into(), 0)]);
    env.run(&["scale", "ec2-g", "1", "--group", "big"]).ok();
    assert_eq!(groups(&env), vec![("default".into(), 1), ("big".into(), 1)]);
    let d = env.describe("ec2-g");
    let big: Vec<serde_json::Value> = ids(&d, "worker")
        .iter()
        .map(|id| env.ec2(&["describe", id]))
        .filter(|x| x["tags"]["daskctl:group"] == "big")
        .collect();
    assert_eq!(big.len(), 1);
    assert_eq!(big[0]["type"], "m5.large");
    assert!(big[0]["tags"].get("daskctl:worker:big").is_none());
    env.run(&["scale", "ec2-g", "2"]).ok();
    assert_eq!(groups(&env), vec![("default".into(), 2), ("big".into(), 1)]);
    env.run(&["scale", "ec2-g", "1", "--group", "gpu"]).code(2);
    env.run(&["delete", "ec2-g", "--yes"]).ok();
}

/// `adapt` on an AWS cluster keeps the policy in tags on its scheduler instance, where every
/// daskctl's discovery reads it; `reconcile` skips the cluster while another daskctl holds its
/// lock (a security group of one name per VPC), breaks a lock past its expiry, grows the
/// cluster under a real workload (through the mapped scheduler), and releases the lock.
#[test]
fn adapt_keeps_its_policy_in_tags_and_reconcile_locks_with_a_group() {
    let Some(env) = Env::aws() else { return };
    let c = create(&env, "ec2-adapt", "1", &[]);
    let sched = ids(&c, "scheduler");
    let first = ids(&c, "worker");
    let address = c["address"].as_str().unwrap().to_string();
    let (_sched, real) = DaskProc::scheduler(&[]);
    env.map_probe(&address, &real);
    let _w = DaskProc::worker(&real, &["--name", &first[0], "--nthreads", "1"]);
    wait_until("the worker connected", Duration::from_secs(60), || {
        env.describe("ec2-adapt")["workers"] == 1
    });
    env.run(&["adapt", "ec2-adapt", "--minimum", "1", "--maximum", "3"])
        .ok();
    let s = env.ec2(&["describe", &sched[0]]);
    let policy = s["tags"]["daskctl:policy:0"].as_str().unwrap_or_default();
    assert!(policy.contains("\"maximum\":3"), "{s}");
    assert_eq!(env.describe("ec2-adapt")["adapt"]["maximum"], 3);

    let owner = s["tags"]["daskctl:owner"].as_str().unwrap().to_string();
    let vpc = s["vpc"].as_str().unwrap().to_string();
    let held = env.ec2(&["lock", "ec2-adapt", &owner, "2999-01-01T00:00:00Z", &vpc]);
    let _work = crate::adapt::workload(&real, 40, 2.0);
    let mine = |actions: Vec<serde_json::Value>| {
        actions
            .into_iter()
            .find(|a| a["cluster"] == "ec2-adapt")
            .expect("an action for the cluster")
    };
    let a = mine(crate::adapt::reconcile(&env));
    assert_eq!(a["action"], "skipped", "{a}");
    assert!(
        a["detail"].as_str().unwrap().contains("another daskctl"),
        "{a}"
    );
    // the holder died long ago: its lock expired, the next pass breaks it and acts
    env.ec2(&["unlock", held["id"].as_str().unwrap()]);
    env.ec2(&["lock", "ec2-adapt", &owner, "2000-01-01T00:00:00Z", &vpc]);
    wait_until("reconcile to scale up", Duration::from_secs(60), || {
        mine(crate::adapt::reconcile(&env))["action"] == "up"
    });
    let d = env.describe("ec2-adapt");
    assert_eq!(ids(&d, "worker").len(), 3, "{d}");
    let locks: Vec<serde_json::Value> = env
        .ec2(&["groups"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["tags"]["daskctl:lock"] == "ec2-adapt")
        .cloned()
        .collect();
    assert!(locks.is_empty(), "the lock is released: {locks:?}");
    // off: the tags go
    env.run(&["adapt", "ec2-adapt", "--off"]).ok();
    let s = env.ec2(&["describe", &sched[0]]);
    assert!(s["tags"].get("daskctl:policy:0").is_none(), "{s}");
    assert!(env.describe("ec2-adapt")["adapt"].is_null());
    env.run(&["delete", "ec2-adapt", "--yes", "--wait"]).ok();
}

/// Another user's cluster in the same account (its instances and group tagged with their
/// name): hidden without the flag, listed with owner, vCPUs and an on-demand price with it,
/// and deleted (instances and group verified gone) by `delete -u OWNER`.
#[test]
fn another_owners_cluster_needs_the_flag() {
    let Some(env) = Env::aws() else { return };
    let c = create(&env, "ec2-theirs", "1", &["--instance-type", "t3.small"]);
    assert_eq!(
        c["cores"], 4.0,
        "t3.small: 2 vCPUs each, scheduler and worker: {c}"
    );
    env.ec2(&["set-owner", "ec2-theirs", "alice"]);
    assert!(
        env.find("ec2-theirs").is_none(),
        "another owner's is not listed"
    );
    env.run(&["delete", "ec2-theirs", "--yes"]).code(3);
    let all = env.run(&["list", "-o", "json", "--all-users"]).ok().json();
    let theirs = all
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ec2-theirs")
        .unwrap_or_else(|| panic!("{all}"))
        .clone();
    assert_eq!(theirs["owner"], "alice");
    // the bundled us-east-1 on-demand price of t3.small, twice
    assert_eq!(theirs["cost"]["per_hour"], 0.0416, "{theirs}");
    assert_eq!(theirs["cost"]["currency"], "USD");
    let deleted = env
        .run(&["delete", "ec2-theirs", "-u", "alice", "--yes"])
        .ok();
    assert!(
        deleted.stderr.contains("(user alice's)"),
        "{}",
        deleted.stderr
    );
    assert_eq!(env.ec2(&["live"]), serde_json::json!([]));
    assert_eq!(env.ec2(&["groups"]), serde_json::json!([]));
}

/// `adapt --group` on AWS, whose workers are named by their instance ids (issue 30): an idle
/// group worker the scheduler proposes to close is known as the group's by its Dask resource
/// (`--resources big=1`, as the user data starts it), and after Dask's damping passes the
/// group is scaled down, retiring that instance; the default group keeps its worker.
#[test]
fn adapt_group_shrinks_workers_named_by_instance_id() {
    let Some(env) = Env::aws() else { return };
    let c = create(&env, "ec2-ag", "1", &["--worker-group", "big:1:threads=1"]);
    let address = c["address"].as_str().unwrap().to_string();
    let (_sched, real) = DaskProc::scheduler(&[]);
    env.map_probe(&address, &real);
    let d = env.describe("ec2-ag");
    let mut workers = Vec::new();
    let mut big_id = String::new();
    for id in ids(&d, "worker") {
        let x = env.ec2(&["describe", &id]);
        let mut args = vec!["--name", id.as_str(), "--nthreads", "1"];
        if x["tags"]["daskctl:group"] == "big" {
            big_id = id.clone();
            args.extend(["--resources", "big=1"]);
        }
        workers.push(DaskProc::worker(&real, &args));
    }
    assert!(!big_id.is_empty(), "{d}");
    wait_until("both workers connected", Duration::from_secs(60), || {
        env.describe("ec2-ag")["workers"] == 2
    });
    env.run(&[
        "adapt",
        "ec2-ag",
        "--group",
        "big",
        "--minimum",
        "0",
        "--maximum",
        "2",
    ])
    .ok();
    let mut down = serde_json::Value::Null;
    wait_until(
        "reconcile to shrink the group",
        Duration::from_secs(90),
        || {
            down = crate::adapt::reconcile(&env)
                .into_iter()
                .find(|a| a["cluster"] == "ec2-ag")
                .expect("an action for the cluster");
            down["action"] == "down"
        },
    );
    assert!(
        down["detail"].as_str().unwrap().contains(&big_id),
        "the group's own worker is retired: {down}"
    );
    let groups = crate::support::requested_by_group(&env, "ec2-ag");
    assert_eq!(groups, vec![("default".into(), 1), ("big".into(), 0)]);
    env.run(&["delete", "ec2-ag", "--yes", "--wait"]).ok();
}

/// Releasing reconcile's lock right after taking it meets EC2's eventual consistency
/// (DeleteSecurityGroup answering InvalidGroup.NotFound for a group just made, injected by the
/// proxy): the release asks again until the group is gone, instead of leaving the lock to
/// stand until it expires (issue 30, row 6).
#[test]
fn the_reconcile_lock_is_released_through_eventual_consistency() {
    use crate::support::aws::{FaultProxy, Rule};
    let Some(env) = Env::aws() else { return };
    create(&env, "ec2-rel", "1", &[]);
    env.run(&["adapt", "ec2-rel", "--minimum", "1", "--maximum", "2"])
        .ok();
    let url = crate::support::aws::endpoint().unwrap();
    let proxy = FaultProxy::start(
        &url,
        vec![Rule::new("DeleteSecurityGroup", "InvalidGroup.NotFound", 2)],
    );
    let o = env
        .run_env(
            &[("AWS_ENDPOINT_URL", &proxy.url)],
            &["reconcile", "-o", "json"],
        )
        .ok()
        .json();
    assert!(
        o["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["cluster"] == "ec2-rel"),
        "{o}"
    );
    assert_eq!(
        proxy.injected(),
        vec!["DeleteSecurityGroup:InvalidGroup.NotFound".to_string(); 2],
        "the release met the not-yet-visible group twice"
    );
    let locks: Vec<serde_json::Value> = env
        .ec2(&["groups"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["tags"]["daskctl:lock"] == "ec2-rel")
        .cloned()
        .collect();
    assert!(locks.is_empty(), "the lock is released: {locks:?}");
    env.run(&["delete", "ec2-rel", "--yes", "--wait"]).ok();
}

/// A scale-down that proposes 200 workers at once (issue 30, row 5): the damping count of each
/// proposed worker cannot all fit in EC2's tags (at most 50 per instance, 256 characters each;
/// the policy keeps 16): every reconcile pass still writes its policy (the counts nearest to
/// retirement kept), and the cluster does shrink. 200 real Dask workers, named by their
/// instance ids, run in one Python process against a real scheduler.
#[test]
fn a_scale_down_proposing_200_workers_keeps_its_policy_and_shrinks() {
    let Some(env) = Env::aws() else { return };
    let c = create(&env, "ec2-many", "200", &[]);
    let address = c["address"].as_str().unwrap().to_string();
    let (_sched, real) = DaskProc::scheduler(&[]);
    env.map_probe(&address, &real);
    let workers = ids(&env.describe("ec2-many"), "worker");
    assert_eq!(workers.len(), 200);
    let _host = WorkerHost::start(&real, &workers);
    wait_until("200 workers connected", Duration::from_secs(240), || {
        env.describe("ec2-many")["workers"] == 200
    });
    env.run(&["adapt", "ec2-many", "--minimum", "0", "--maximum", "200"])
        .ok();
    // idle: the scheduler proposes every worker; the third pass in a row retires them
    let mut passes = Vec::new();
    wait_until("reconcile to shrink it", Duration::from_secs(240), || {
        let a = crate::adapt::reconcile(&env)
            .into_iter()
            .find(|a| a["cluster"] == "ec2-many")
            .expect("an action for the cluster");
        assert_ne!(a["action"], "failed", "a pass failed: {a}");
        passes.push(a.clone());
        a["action"] == "down"
    });
    let down = passes.last().unwrap();
    assert!(passes.len() >= 3, "retired before its damping: {passes:?}");
    // the counts were written and read back between passes (the policy write did not fail)
    for (i, p) in passes[passes.len() - 3..passes.len() - 1]
        .iter()
        .enumerate()
    {
        let waiting = format!("waiting ({} of 3 passes)", i + 1);
        assert!(
            p["detail"].as_str().unwrap().contains(&waiting),
            "{passes:?}"
        );
    }
    let left = env.describe("ec2-many")["requested_workers"]
        .as_u64()
        .unwrap();
    assert!(left < 200, "nothing retired: {down}");
    env.run(&["delete", "ec2-many", "--yes", "--wait"]).ok();
}

/// One Python process running a Dask worker per name, all connected to `scheduler`.
struct WorkerHost {
    /// killed (with its workers) when the host is dropped
    _process: crate::support::KillOnDrop,
}

impl WorkerHost {
    fn start(scheduler: &str, names: &[String]) -> WorkerHost {
        let script = "import asyncio, sys\n\
            from distributed import Worker\n\
            async def main():\n\
            \x20   ws = [Worker(sys.argv[1], name=n, nthreads=1, host='127.0.0.1', dashboard=False)\n\
            \x20         for n in sys.argv[2:]]\n\
            \x20   await asyncio.gather(*ws)\n\
            \x20   await asyncio.Event().wait()\n\
            asyncio.run(main())\n";
        let child = std::process::Command::new(crate::support::python())
            .arg("-c")
            .arg(script)
            .arg(scheduler)
            .args(names)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the worker host");
        WorkerHost {
            _process: crate::support::KillOnDrop(child),
        }
    }
}
