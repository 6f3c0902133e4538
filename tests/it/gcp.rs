//! The gcp backend against the Compute Engine stand-in (`support/gce_standin.py`): the
//! conformance suite, a dask-cloudprovider `GCPCluster`'s instances as that library inserts
//! them, and the API's faults (quota, stockout, slow operations, eventual consistency). Every
//! instance runs its startup script here, so the schedulers and workers are real Dask.

use crate::conformance::Bed;
use crate::support::gcp::{PROJECT, ZONE};
use crate::support::{Env, wait_until};
use serde_json::json;
use std::time::Duration;

pub struct GcpBed;

impl Bed for GcpBed {
    fn backend(&self) -> &'static str {
        "gcp"
    }
    fn env(&self) -> Env {
        Env::gcp().expect("checked by available()")
    }
    fn available(&self) -> bool {
        crate::support::python().exists()
    }
    fn gone(&self, env: &Env, c: &serde_json::Value) -> bool {
        let left: Vec<String> = env
            .gce()
            .instances()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect();
        c["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !left.contains(&r["id"].as_str().unwrap().to_string()))
    }
    fn address_prefix(&self) -> &'static str {
        // each instance has a loopback address of its own (127.NET.10.x in us-central1-a)
        "tcp://127."
    }
}

crate::conformance!(conformance_gcp, super::GcpBed);

fn names(env: &Env) -> Vec<String> {
    let mut v: Vec<String> = env
        .gce()
        .instances()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn credentials_decide_availability_without_the_network() {
    let Some(env) = Env::gcp() else { return };
    let b = env.run(&["backends", "list", "-o", "json"]).ok().json();
    let gcp = b
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "gcp")
        .cloned()
        .unwrap();
    assert_eq!(gcp["available"], true, "{gcp}");
    // no credentials anywhere: skipped, nothing asked of anyone
    let bare = Env::new();
    let b = bare.run(&["backends", "list", "-o", "json"]).ok().json();
    let gcp = b
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "gcp")
        .cloned()
        .unwrap();
    assert_ne!(gcp["available"], true, "{gcp}");
    // a project comes from gcloud's active configuration when none is set
    let gcloud = env.dir.path().join("gcloud/configurations");
    std::fs::create_dir_all(&gcloud).unwrap();
    std::fs::write(
        gcloud.join("config_default"),
        format!("[core]\nproject = {PROJECT}\n"),
    )
    .unwrap();
    let o = env.run_env(
        &[("DASKCTL_BACKENDS__GCP__PROJECTS", "")],
        &["list", "-o", "json"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    // gcloud's user credentials were exchanged for a token at their token_uri, the stand-in
    let seen = env.gce().call("GET", "/standin/requests", &json!(null));
    assert!(
        seen.as_array().unwrap().iter().any(|r| r == "POST /token"),
        "{seen}"
    );
}

/// On a Compute Engine VM (here: `metadata = true` and `GCE_METADATA_HOST` at the stand-in's
/// metadata server), the VM's service account and project are used, as gcloud uses them.
#[test]
fn the_metadata_server_gives_token_and_project() {
    let Some(env) = Env::gcp() else { return };
    let host = format!("127.0.0.1:{}", env.gce().port);
    let vars = [
        ("DASKCTL_BACKENDS__GCP__CREDENTIALS_FILE", ""),
        ("DASKCTL_BACKENDS__GCP__PROJECTS", ""),
        ("DASKCTL_BACKENDS__GCP__METADATA", "true"),
        ("GCE_METADATA_HOST", host.as_str()),
    ];
    let o = env.run_env(
        &vars,
        &[
            "create",
            "gcp",
            "--name",
            "vm",
            "--workers",
            "0",
            "-o",
            "json",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let listed = env.run_env(&vars, &["list", "-o", "json"]).ok().json();
    assert_eq!(listed[0]["name"], "vm", "{listed}");
    let seen = env.gce().call("GET", "/standin/requests", &json!(null));
    let seen: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        seen.contains(&"GET /computeMetadata/v1/project/project-id"),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|r| r
                .starts_with("GET /computeMetadata/v1/instance/service-accounts/default/token")),
        "{seen:?}"
    );
    assert!(!seen.contains(&"POST /token"), "{seen:?}");
    env.run_env(&vars, &["delete", "vm", "--yes"]).ok();
}

/// dask-cloudprovider's `GCPCluster` inserts its instances with `googleapiclient`
/// (`dask_cloudprovider/gcp/instances.py`, `GCPInstance.create_gcp_config`): labels
/// `container_vm: dask-cloudprovider`, names `dask-{uuid8}-scheduler` and
/// `dask-{uuid8}-worker-{uuid8}`, a cloud-init `user-data` that runs Dask in Docker. Listed,
/// described with its workers, its logs read, and deleted, verified gone.
#[test]
fn a_gcpcluster_is_found_and_deleted() {
    let Some(env) = Env::gcp() else { return };
    let body = |name: &str, cmd: &str| {
        json!({
            "name": name,
            "machineType": format!("zones/{ZONE}/machineTypes/n1-standard-1"),
            "displayDevice": {"enableDisplay": false},
            "tags": {"items": ["http-server", "https-server"]},
            "disks": [{"kind": "compute#attachedDisk", "type": "PERSISTENT", "boot": true, "mode": "READ_WRITE",
                       "autoDelete": true, "deviceName": name,
                       "initializeParams": {"sourceImage": "projects/ubuntu-os-cloud/global/images/ubuntu-minimal-1804-bionic-v20201014",
                                            "diskType": format!("projects/{PROJECT}/zones/{ZONE}/diskTypes/pd-standard"), "diskSizeGb": "50"}}],
            "canIpForward": false,
            "networkInterfaces": [{"kind": "compute#networkInterface",
                                   "subnetwork": format!("projects/{PROJECT}/regions/us-central1/subnetworks/default")}],
            "serviceAccounts": [{"email": "default", "scopes": ["https://www.googleapis.com/auth/devstorage.read_write"]}],
            "metadata": {"items": [{"key": "google-logging-enabled", "value": "true"},
                                   {"key": "user-data", "value": cloud_init(cmd)}]},
            "labels": {"container_vm": "dask-cloudprovider"},
            "scheduling": {"preemptible": false, "onHostMaintenance": "TERMINATE", "automaticRestart": true},
            "deletionProtection": false,
        })
    };
    // its commands (`generic/vmcluster.py`): `set_env` carries the client's Dask config; the
    // scheduler binds every interface there, here (the stand-in's VMs share one network
    // namespace) the instance's own address, as `scheduler_options={"host": ...}` renders it
    let set_env = r#"env DASK_INTERNAL_INHERIT_CONFIG="e30=""#;
    env.gce().insert(body(
        "dask-1a2b3c4d-scheduler",
        &format!("{set_env} python -m distributed.cli.dask_scheduler --host $(hostname -I)"),
    ));
    let sched = wait_ip(&env, "dask-1a2b3c4d-scheduler");
    let spec = r#"{"cls": "distributed.Nanny", "opts": {"name": "dask-1a2b3c4d-worker-0badcafe"}}"#;
    env.gce().insert(body(
        "dask-1a2b3c4d-worker-0badcafe",
        &format!(
            "{set_env} python -m distributed.cli.dask_spec tcp://{sched}:8786 --spec ''{spec}''"
        ),
    ));
    wait_until(
        "the GCPCluster's worker joins",
        Duration::from_secs(90),
        || {
            env.find("dask-1a2b3c4d")
                .is_some_and(|c| c["workers"] == 1 && c["status"] == "running")
        },
    );
    let c = env.describe("gcp/dask-1a2b3c4d");
    assert_eq!(c["origin"], "dask-cloudprovider", "{c}");
    assert_eq!(c["address"], format!("tcp://{sched}:8786"));
    assert_eq!(c["resources"].as_array().unwrap().len(), 2, "{c}");
    // n1-standard-1: one vCPU each, priced from the bundled us-central1 table
    assert_eq!(c["cores"], 2.0, "{c}");
    let logs = env
        .run(&["logs", "dask-1a2b3c4d", "--scheduler"])
        .ok()
        .stdout;
    assert!(logs.contains("Scheduler at"), "{logs}");
    // a GCPCluster grows from Python; here it only shrinks
    let o = env.run(&["scale", "dask-1a2b3c4d", "2"]).code(2);
    assert!(o.stderr.contains("GCPCluster"), "{}", o.stderr);
    env.run(&["delete", "dask-1a2b3c4d", "--yes"]).ok();
    assert!(names(&env).is_empty(), "{:?}", names(&env));
    env.run(&["describe", "dask-1a2b3c4d"]).code(3);
}

/// dask-cloudprovider's `generic/cloud-init.yaml.j2` as it renders without bootstrapping
/// (`bootstrap=False`: the image already has Docker), with `auto_shutdown`.
fn cloud_init(command: &str) -> String {
    format!(
        "#cloud-config\n\n\nruncmd:\n  \n\n  \n\n  \n\n  # Run container\n  - 'docker run --net=host  daskdev/dask:latest {command}'\n\n  \n  # Shutdown when command is done\n  - shutdown -h now\n  \n"
    )
}

/// The internal address of an instance another client inserted, once the API shows it.
fn wait_ip(env: &Env, name: &str) -> String {
    let mut ip = String::new();
    wait_until(&format!("{name} running"), Duration::from_secs(30), || {
        env.gce().instances().iter().any(|i| {
            let ok = i["name"] == name && i["status"] == "RUNNING";
            if ok {
                ip = i["networkInterfaces"][0]["networkIP"]
                    .as_str()
                    .unwrap()
                    .to_string();
            }
            ok
        })
    });
    ip
}

/// Quota and stockout are Compute Engine's own words, and nothing is left unseen: a scheduler
/// that cannot be had leaves nothing; workers that cannot all be had leave a working cluster,
/// reported as partial with the API's error; a scale up short of its target says so too.
#[test]
fn quota_and_stockout_are_reported_exactly() {
    let Some(env) = Env::gcp() else { return };
    // no room at all in the zone: create fails with the API's code, nothing is left
    env.gce().faults(json!({"stockout_zones": [ZONE]}));
    let o = env
        .run(&[
            "create",
            "gcp",
            "--name",
            "stock",
            "--workers",
            "1",
            "-o",
            "json",
        ])
        .code(1);
    assert!(
        o.stderr.contains("ZONE_RESOURCE_POOL_EXHAUSTED"),
        "{}",
        o.stderr
    );
    assert!(names(&env).is_empty(), "{:?}", names(&env));
    assert!(env.find("stock").is_none());

    // room for the scheduler and one worker (2 + 2 vCPUs of e2-standard-2, quota 4)
    env.gce()
        .faults(json!({"stockout_zones": [], "cpu_quota": 4}));
    let o = env
        .run(&[
            "create",
            "gcp",
            "--name",
            "quota",
            "--workers",
            "2",
            "-o",
            "json",
        ])
        .code(4);
    assert!(o.stderr.contains("QUOTA_EXCEEDED"), "{}", o.stderr);
    assert!(
        o.stderr.contains("Limit: 4.0 in region us-central1"),
        "{}",
        o.stderr
    );
    assert_eq!(names(&env).len(), 2, "{:?}", names(&env));
    wait_until("its one worker joins", Duration::from_secs(90), || {
        env.find("quota").is_some_and(|c| c["workers"] == 1)
    });
    // every instance there is listed
    let c = env.describe("quota");
    let listed: Vec<&str> = c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), names(&env).len(), "{c}");
    let o = env.run(&["scale", "quota", "3"]).code(4);
    assert!(o.stderr.contains("QUOTA_EXCEEDED"), "{}", o.stderr);
    assert!(o.stderr.contains("scaled from 1 to 1 of 3"), "{}", o.stderr);
    env.run(&["delete", "quota", "--yes"]).ok();
    assert!(names(&env).is_empty(), "{:?}", names(&env));
}

/// Slow operations are waited on; an instance the API does not show yet right after its
/// insert is asked for again; many instances come back over several pages.
#[test]
fn slow_operations_late_visibility_and_pages() {
    let Some(env) = Env::gcp() else { return };
    let env = env.with("DASKCTL_BACKENDS__GCP__PAGE_SIZE", "1");
    env.gce()
        .faults(json!({"op_delay": 2.0, "visibility_delay": 2.0}));
    let c = env
        .run(&[
            "create",
            "gcp",
            "--name",
            "slow",
            "--workers",
            "2",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(c["resources"].as_array().unwrap().len(), 3, "{c}");
    wait_until("2 workers", Duration::from_secs(90), || {
        env.find("slow").is_some_and(|c| c["workers"] == 2)
    });
    let seen = env.gce().call("GET", "/standin/requests", &json!(null));
    let pages = seen
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.as_str().unwrap().ends_with("/aggregated/instances"))
        .count();
    assert!(pages >= 3, "{seen}");
    env.run(&["delete", "slow", "--yes"]).ok();
    assert!(names(&env).is_empty(), "{:?}", names(&env));
}

/// The metadata items of an instance, by key.
fn metadata(env: &Env, name: &str) -> std::collections::BTreeMap<String, String> {
    let i = env
        .gce()
        .instances()
        .into_iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no instance {name}"));
    i["metadata"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_string(),
                i["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// `reconcile` skips the cluster while another daskctl holds its lock (the scheduler's
/// `daskctl-lock` metadata item), takes over a lock past its time, grows the cluster under a
/// real workload, and releases the lock.
#[test]
fn reconcile_locks_with_the_metadata_fingerprint() {
    let Some(env) = Env::gcp() else { return };
    let c = env
        .run(&[
            "create",
            "gcp",
            "--name",
            "lck",
            "--workers",
            "1",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let address = c["address"].as_str().unwrap().to_string();
    env.run(&["adapt", "lck", "--minimum", "1", "--maximum", "3"])
        .ok();
    let set_lock = |value: &str| {
        env.gce().call(
            "POST",
            "/standin/metadata",
            &json!({"zone": ZONE, "instance": "lck-scheduler", "key": "daskctl-lock", "value": value}),
        );
    };
    // another daskctl holds it until 2999
    set_lock("other 32503680000");
    let _work = crate::adapt::workload(&address, 40, 2.0);
    let mine = |actions: Vec<serde_json::Value>| {
        actions
            .into_iter()
            .find(|a| a["cluster"] == "lck")
            .expect("an action for the cluster")
    };
    let a = mine(crate::adapt::reconcile(&env));
    assert_eq!(a["action"], "skipped", "{a}");
    assert!(
        a["detail"].as_str().unwrap().contains("another daskctl"),
        "{a}"
    );
    // its holder died long ago: taken over
    set_lock("other 946684800");
    wait_until("reconcile to scale up", Duration::from_secs(60), || {
        mine(crate::adapt::reconcile(&env))["action"] == "up"
    });
    assert!(
        !metadata(&env, "lck-scheduler").contains_key("daskctl-lock"),
        "the lock is released"
    );
    env.run(&["delete", "lck", "--yes"]).ok();
    assert!(names(&env).is_empty());
}

/// The adaptive policy is kept in the scheduler's metadata, written with its fingerprint.
#[test]
fn the_policy_lives_on_the_scheduler() {
    let Some(env) = Env::gcp() else { return };
    env.run(&[
        "create",
        "gcp",
        "--name",
        "pol",
        "--workers",
        "1",
        "--ttl",
        "2h",
        "-o",
        "json",
    ])
    .ok();
    env.run(&["adapt", "pol", "--minimum", "1", "--maximum", "3"])
        .ok();
    let sched = env
        .gce()
        .instances()
        .into_iter()
        .find(|i| i["name"] == "pol-scheduler")
        .unwrap();
    let items = sched["metadata"]["items"].as_array().unwrap();
    let policy = items
        .iter()
        .find(|i| i["key"] == "daskctl-policy")
        .expect("daskctl-policy metadata");
    assert!(
        policy["value"].as_str().unwrap().contains("\"maximum\":3"),
        "{policy}"
    );
    assert!(items.iter().any(|i| i["key"] == "daskctl-expires"));
    let d = env.describe("pol");
    assert!(d["expires"].as_str().unwrap().ends_with('Z'), "{d}");
    env.run(&["delete", "pol", "--yes"]).ok();
    assert!(names(&env).is_empty());
}

/// Another user's daskctl cluster (its owner label and metadata) is theirs: not listed without
/// `--all-users`, listed with it under its owner. A scheduler instance that powered off leaves
/// its workers orphaned, as the API says (TERMINATED), and `cleanup --orphaned` deletes them.
#[test]
fn owners_and_orphans_are_the_apis_word() {
    let Some(env) = Env::gcp() else { return };
    env.run(&[
        "create",
        "gcp",
        "--name",
        "mine",
        "--workers",
        "1",
        "-o",
        "json",
    ])
    .ok();
    let theirs = json!({
        "name": "theirs-scheduler",
        "machineType": format!("zones/{ZONE}/machineTypes/e2-small"),
        "disks": [{"boot": true, "autoDelete": true, "initializeParams": {"sourceImage": "projects/cos-cloud/global/images/family/cos-stable"}}],
        "networkInterfaces": [{"network": "global/networks/default"}],
        "labels": {"daskctl-cluster": "theirs", "daskctl-role": "scheduler", "daskctl-owner": "alice"},
        "metadata": {"items": [{"key": "daskctl-owner", "value": "alice"}]},
    });
    env.gce().insert(theirs);
    wait_until("their instance", Duration::from_secs(30), || {
        names(&env).contains(&"theirs-scheduler".to_string())
    });
    let plain: Vec<String> = env
        .list()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(plain, ["mine"]);
    let all = env.run(&["list", "--all-users", "-o", "json"]).ok().json();
    let t = all
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "theirs")
        .cloned()
        .unwrap_or_else(|| panic!("{all}"));
    assert_eq!(t["owner"], "alice");

    // the scheduler's Dask ends: its startup script powers the instance off
    let ip = env.describe("mine")["address"]
        .as_str()
        .unwrap()
        .to_string();
    let pid = std::process::Command::new("pgrep")
        .args([
            "-f",
            &format!(
                "scheduler --host {}",
                ip.trim_start_matches("tcp://").trim_end_matches(":8786")
            ),
        ])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&pid.stdout).trim().to_string();
    assert!(!pid.is_empty(), "no scheduler process for {ip}");
    for p in pid.lines() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(p.parse().unwrap()),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    wait_until("the cluster orphaned", Duration::from_secs(60), || {
        env.find("mine").is_some_and(|c| c["status"] == "orphaned")
    });
    let preview = env.cleanup_preview(&["--orphaned"]);
    assert!(preview.iter().any(|l| l.contains("mine")), "{preview:?}");
    assert!(names(&env).iter().any(|n| n.starts_with("mine-")));
    env.run(&["cleanup", "--orphaned", "--yes"]).ok();
    assert_eq!(names(&env), ["theirs-scheduler"]);
}

/// Google's own client reads the stand-in: gcloud (where it is installed), pointed at it with
/// `api_endpoint_overrides/compute` and a token from its token endpoint, lists daskctl's
/// instances with their labels, filters on them and deletes one, waiting on the zone operation
/// as it does against Google; daskctl then sees the worker gone.
#[test]
fn gcloud_reads_what_daskctl_made() {
    let Ok(gcloud) = which_gcloud() else {
        eprintln!("skipped: no gcloud on PATH");
        return;
    };
    let Some(env) = Env::gcp() else { return };
    env.run(&[
        "create",
        "gcp",
        "--name",
        "gc",
        "--workers",
        "1",
        "-o",
        "json",
    ])
    .ok();
    let token = env.gce().call(
        "POST",
        "/token",
        &json!({"grant_type": "refresh_token", "refresh_token": "standin-refresh"}),
    );
    let token_file = env.dir.path().join("gcloud-token");
    std::fs::write(&token_file, token["access_token"].as_str().unwrap()).unwrap();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(&gcloud)
            .args(args)
            .args(["--project", PROJECT, "--access-token-file"])
            .arg(&token_file)
            // only the stand-in is ever asked: no metadata server, update check or reporting
            .env("CLOUDSDK_CONFIG", env.dir.path().join("gcloud-config"))
            .env(
                "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE",
                format!("{}/compute/v1/", env.gce().url()),
            )
            .env("CLOUDSDK_CORE_DISABLE_USAGE_REPORTING", "true")
            .env("CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK", "true")
            .env("CLOUDSDK_CORE_CHECK_GCE_METADATA", "false")
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "gcloud {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let listed: serde_json::Value =
        serde_json::from_str(&run(&["compute", "instances", "list", "--format=json"])).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed
            .iter()
            .all(|i| i["labels"]["daskctl-cluster"] == "gc")
    );
    let worker = run(&[
        "compute",
        "instances",
        "list",
        "--filter=labels.daskctl-role=worker",
        "--format=value(name)",
    ]);
    let worker = worker.trim();
    assert!(worker.starts_with("gc-worker-"), "{worker}");
    run(&[
        "compute",
        "instances",
        "delete",
        worker,
        "--zone",
        ZONE,
        "--quiet",
    ]);
    let c = env.describe("gc");
    assert_eq!(c["requested_workers"], 0, "{c}");
    assert_eq!(c["resources"].as_array().unwrap().len(), 1, "{c}");
    env.run(&["delete", "gc", "--yes"]).ok();
}

fn which_gcloud() -> std::io::Result<std::path::PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("gcloud"))
        .find(|p| p.is_file())
        .ok_or_else(|| std::io::Error::other("no gcloud"))
}

/// Spot workers (`--spot`: the SPOT provisioning model, deleted when reclaimed) are priced only
/// where `[pricing.gce_spot]` says; the scheduler, on demand, from the bundled table.
#[test]
fn spot_workers_are_priced_only_as_configured() {
    let Some(env) = Env::gcp() else { return };
    env.run(&[
        "create",
        "gcp",
        "--name",
        "sp",
        "--workers",
        "1",
        "--spot",
        "-o",
        "json",
    ])
    .ok();
    let worker = env
        .gce()
        .instances()
        .into_iter()
        .find(|i| i["name"].as_str().unwrap().starts_with("sp-worker-"))
        .unwrap();
    assert_eq!(
        worker["scheduling"]["provisioningModel"], "SPOT",
        "{worker}"
    );
    assert_eq!(worker["scheduling"]["instanceTerminationAction"], "DELETE");
    let cost = |c: &serde_json::Value, role: &str| {
        c["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["role"] == role)
            .unwrap()
            .get("hourly_cost")
            .cloned()
    };
    let c = env.describe("sp");
    assert_eq!(cost(&c, "scheduler"), Some(json!(0.067006)), "{c}");
    assert_eq!(cost(&c, "worker"), None, "unpriced, never guessed: {c}");
    std::fs::write(
        env.config(),
        "[pricing.gce_spot]\n\"e2-standard-2\" = 0.02\n",
    )
    .unwrap();
    let c = env.describe("sp");
    assert_eq!(cost(&c, "worker"), Some(json!(0.02)), "{c}");
    env.run(&["delete", "sp", "--yes"]).ok();
}
