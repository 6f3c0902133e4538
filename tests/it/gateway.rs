//! The gateway backend against a real dask-gateway server (scripts/testbeds/gateway.sh): its
//! local backend runs each cluster's scheduler and workers as processes here, behind the real
//! API and the real TLS proxy. Each test is its own gateway user.

use crate::conformance::Bed;
use crate::support::gateway::{
    GW_HTTP, GW_PASSWORD, GatewayUser, gateway_env, gateway_status, gateway_up,
};
use crate::support::{self, Env, alive, wait_until};
use std::time::Duration;

/// The conformance suite's bed: one gateway user; clusters named by the gateway, listed with
/// their `gateway://` address and one resource (the gateway's cluster).
pub struct GatewayBed;

impl Bed for GatewayBed {
    fn backend(&self) -> &'static str {
        "gateway"
    }
    fn env(&self) -> Env {
        let mut env = gateway_env("gw-conformance", GW_PASSWORD);
        env.lock = Some(crate::support::serial());
        env
    }
    fn gone(&self, _env: &Env, c: &serde_json::Value) -> bool {
        let name = c["name"].as_str().unwrap();
        gateway_status("gw-conformance", name)
            .is_none_or(|s| matches!(s.as_str(), "STOPPED" | "FAILED"))
    }
    fn available(&self) -> bool {
        gateway_up()
    }
    fn named(&self) -> bool {
        false
    }
    fn origin(&self) -> &'static str {
        "dask-gateway"
    }
    fn address_prefix(&self) -> &'static str {
        "gateway://127.0.0.1:28786/"
    }
    fn resources(&self, _workers: usize) -> usize {
        1
    }
    /// Its one resource, the gateway's cluster, changes size over its life and the gateway
    /// keeps no history of it: no start time to count core-hours from (issue 30, row 12).
    fn says_start(&self) -> bool {
        false
    }
}

crate::conformance!(conformance_gateway, super::GatewayBed);

fn gw_list(g: &GatewayUser) -> Vec<serde_json::Value> {
    g.env
        .run(&["list", "-b", "gateway", "-o", "json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .clone()
}

fn gw_find(g: &GatewayUser, name: &str) -> Option<serde_json::Value> {
    gw_list(g).into_iter().find(|c| c["name"] == name)
}

/// A cluster made by dask-gateway's Python client and scaled to 2 is listed with 2 workers
/// counted by its scheduler (probed through the proxy), scaled, its logs read, and deleted.
#[test]
fn python_client_clusters_are_listed_scaled_logged_and_deleted() {
    if !gateway_up() {
        return;
    }
    let g = GatewayUser::new("gw-lifecycle");
    let name = g.python_cluster(2);
    let c = gw_find(&g, &name).expect("listed");
    assert_eq!(c["backend"], "gateway");
    assert_eq!(c["origin"], "dask-gateway");
    assert_eq!(c["status"], "running", "{c}");
    assert_eq!(c["workers"], 2, "{c}");
    assert_eq!(c["threads"], 2, "{c}");
    assert_eq!(c["owner"], "gw-lifecycle");
    assert_eq!(
        c["dashboard"],
        format!("{GW_HTTP}/clusters/{name}/status").as_str()
    );
    assert_eq!(
        c["address"],
        format!("gateway://127.0.0.1:28786/{name}").as_str()
    );
    assert!(
        c["idle_since"].is_string(),
        "the scheduler's idle clock: {c}"
    );

    let d = g.env.describe(&format!("gateway/{name}"));
    assert_eq!(d["workers"], 2);

    g.env
        .run(&["scale", &name, "1", "--wait", "--timeout", "120"])
        .ok();
    assert_eq!(gw_find(&g, &name).unwrap()["workers"], 1);
    let o = g
        .env
        .run(&["scale", &name, "3", "--wait", "--timeout", "120"])
        .ok();
    assert!(o.stderr.contains("scaled gateway/"), "{}", o.stderr);
    assert_eq!(gw_find(&g, &name).unwrap()["workers"], 3);

    // past the gateway's cap: its own message is passed on, and nothing is waited for
    let o = g.env.run(&["scale", &name, "9", "--wait"]).ok();
    assert!(
        o.stderr.contains("exceed resource limit of 5 workers"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("scaled gateway/"), "{}", o.stderr);

    let logs = g.env.run(&["logs", &name, "--scheduler"]).ok();
    assert!(
        logs.stdout.contains("distributed.scheduler"),
        "{}",
        logs.stdout
    );
    let all = g.env.run(&["logs", &name, "--tail", "5"]).ok();
    assert!(all.stdout.contains("distributed.worker"), "{}", all.stdout);

    g.env.run(&["delete", &name, "--yes"]).ok();
    assert!(g.live().is_empty(), "the gateway still runs it");
    assert!(gw_find(&g, &name).is_none());
}

/// A cluster `daskctl create gateway` makes (options checked, scaled) is one the Python client
/// sees and connects to.
#[test]
fn created_clusters_are_seen_by_the_python_client() {
    if !gateway_up() {
        return;
    }
    let g = GatewayUser::new("gw-create");
    let c = g
        .env
        .run(&[
            "create",
            "gateway",
            "--workers",
            "1",
            "--option",
            "profile=large",
            "--option",
            "worker_cores=2",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let name = c["name"].as_str().unwrap().to_string();
    assert_eq!(c["status"], "running", "{c}");
    assert_eq!(g.live(), std::slice::from_ref(&name));
    let seen = g.py(&format!(
        "c = gw.connect({name:?})\ncl = c.get_client()\ncl.wait_for_workers(1, timeout=120)\nprint(json.dumps([c.name, len(cl.scheduler_info()['workers']), gw.get_cluster({name:?}).options['profile']]))\ncl.close()"
    ));
    let seen: serde_json::Value = serde_json::from_str(&seen).unwrap();
    assert_eq!(seen, serde_json::json!([name, 1, "large"]));
    // its threads are the option's cores, as the scheduler counts them
    wait_until("the worker counted", Duration::from_secs(60), || {
        gw_find(&g, &name).is_some_and(|c| c["threads"] == 2)
    });
    g.env
        .run(&["delete", &format!("gateway/{name}"), "--yes"])
        .ok();
    assert!(g.live().is_empty());
}

/// Options are checked against the gateway's before anything is made: an unknown key, a value
/// out of range and a name (the gateway names clusters) are usage errors listing what is
/// allowed, and nothing is created.
#[test]
fn bad_options_are_usage_errors_and_create_nothing() {
    if !gateway_up() {
        return;
    }
    let g = GatewayUser::new("gw-options");
    for (args, says) in [
        (
            &["--option", "nope=1"][..],
            "unknown gateway option \"nope\"",
        ),
        (&["--option", "worker_cores=3"], "worker_cores must be <= 2"),
        (
            &["--option", "profile=huge"],
            "not a valid option for profile",
        ),
        (&["--option", "worker_cores"], "use KEY=VALUE"),
        (&["--name", "mine"], "names its clusters itself"),
    ] {
        let mut argv = vec!["create", "gateway"];
        argv.extend(args);
        let o = g.env.run(&argv).code(2);
        let line = o.one_line_error();
        assert!(line.contains(says), "{args:?}: {line}");
        if args[0] == "--option" && args[1] != "worker_cores" {
            assert!(
                line.contains("allowed: worker_cores (integer 1..2"),
                "{line}"
            );
        }
    }
    assert!(g.live().is_empty(), "nothing created");
}

/// Two users of one gateway: one never sees, scales nor deletes the other's clusters.
#[test]
fn users_never_see_or_touch_each_others_clusters() {
    if !gateway_up() {
        return;
    }
    let alice = GatewayUser::new("gw-alice");
    let name = alice.python_cluster(1);
    let bob = GatewayUser::beside("gw-bob", GW_PASSWORD);
    assert!(gw_find(&bob, &name).is_none());
    bob.env
        .run(&["scale", &format!("gateway/{name}"), "2"])
        .code(3);
    bob.env
        .run(&["delete", &format!("gateway/{name}"), "--yes"])
        .code(3);
    bob.env
        .run(&["cleanup", "-b", "gateway", "--older-than", "0s", "--yes"])
        .ok();
    assert_eq!(alice.live(), std::slice::from_ref(&name));
    assert_eq!(gw_find(&alice, &name).unwrap()["workers"], 1);
}

/// A gateway that is down, answers 500, or refuses the password: a warning (exit 4) that says
/// which and why, and the other backends are still listed.
#[test]
fn a_failing_gateway_warns_and_hides_nothing_else() {
    if !gateway_up() {
        return;
    }
    let env = Env::new().without_batch();
    env.run(&["create", "local", "--name", "beside-gw", "--workers", "0"])
        .ok();
    let server = support::http::Stub::start(500, r#"{"error": "database is locked"}"#);
    let cases = [
        (
            "http://127.0.0.1:1".to_string(),
            "cannot reach http://127.0.0.1:1",
        ),
        (server.url(), "the gateway failed (500: database is locked)"),
    ];
    for (address, says) in cases {
        let o = env
            .run_env(
                &[("DASK_GATEWAY__ADDRESS", address.as_str())],
                &["list", "-o", "json"],
            )
            .code(4);
        assert!(o.stderr.contains(says), "{address}: {}", o.stderr);
        assert!(o.stderr.contains("warning: gateway"), "{}", o.stderr);
        let listed = o.json();
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "beside-gw"),
            "{listed}"
        );
    }
    env.run(&["delete", "beside-gw", "--yes"]).ok();

    let wrong = GatewayUser::with_password("gw-wrong", "not-the-password");
    let o = wrong.env.run(&["list", "-b", "gateway"]).code(4);
    assert!(
        o.stderr
            .contains("refused the basic credentials of user \"gw-wrong\"")
            && o.stderr.contains("401"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("not-the-password"), "{}", o.stderr);
}

/// Without an address the backend is unavailable (skipped, the reason in `backends`); with
/// kerberos it says what is missing; with jupyterhub it sends the token as the client does.
#[test]
fn configuration_and_authentication_as_the_python_client() {
    let env = Env::new().without_batch();
    let o = env.run(&["backends"]).ok().stdout;
    let gw = o.lines().find(|l| l.starts_with("gateway ")).unwrap();
    assert!(gw.contains("no: no gateway configured"), "{gw}");
    // skipped without a word by list
    let o = env.run(&["list"]).ok();
    assert!(!o.stderr.contains("gateway"), "{}", o.stderr);

    let kerberos = [
        ("DASK_GATEWAY__ADDRESS", "http://127.0.0.1:9"),
        ("DASK_GATEWAY__AUTH__TYPE", "kerberos"),
    ];
    let o = env.run_env(&kerberos, &["backends"]).ok();
    assert!(o.stdout.contains("kerberos authentication"), "{}", o.stdout);

    let server = support::http::Stub::start(200, "{}");
    let hub = [
        ("DASK_GATEWAY__ADDRESS", server.url()),
        ("DASK_GATEWAY__AUTH__TYPE", "jupyterhub".to_string()),
        ("JUPYTERHUB_API_TOKEN", "hub-token-123".to_string()),
    ];
    let hub: Vec<(&str, &str)> = hub.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.run_env(&hub, &["list", "-b", "gateway"]).ok();
    let seen = server.requests();
    assert!(
        seen.iter().any(|r| r.contains("GET /api/v1/clusters/ ")
            && r.to_ascii_lowercase()
                .contains("authorization: jupyterhub hub-token-123")),
        "{seen:?}"
    );
}

/// The gateway's listing carries each cluster's private TLS key: it is never printed (any
/// output, any verbosity) nor written anywhere under daskctl's directories.
#[test]
fn tls_keys_are_never_printed_logged_or_written() {
    if !gateway_up() {
        return;
    }
    let g = GatewayUser::new("gw-secrets");
    let name = g.python_cluster(1);
    let mut seen = String::new();
    for args in [
        &["-vv", "list", "-b", "gateway", "-o", "json"][..],
        &["-vv", "describe", &name, "-o", "json"],
        &["-vv", "describe", &name],
        &["-vv", "logs", &name, "--scheduler"],
        &["-vv", "scale", &name, "1"],
    ] {
        let o = g.env.run(args).ok();
        seen.push_str(&o.stdout);
        seen.push_str(&o.stderr);
    }
    assert!(seen.contains(&name));
    assert!(!seen.contains("PRIVATE KEY"), "a key was printed");
    for e in walk(g.env.dir.path()) {
        let text = std::fs::read(&e).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&text).contains("PRIVATE KEY"),
            "a key was written to {}",
            e.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `orphaned` is the gateway's word (issue 30): a cluster it reports running whose scheduler
/// does not answer from here (stopped by a signal; or the proxy pointed at a closed port, as a
/// firewall or an in-cluster proxy name would leave it) is `unknown`, however long it is
/// silent (orphan grace 0), and `cleanup --orphaned --yes` leaves it running. The gateway
/// itself judges it (it fails clusters whose heartbeats stop).
#[test]
fn a_cluster_the_gateway_runs_is_never_orphaned_by_this_machines_silence() {
    if !gateway_up() {
        return;
    }
    let g = GatewayUser::new("gw-silent");
    let name = g.python_cluster(1);
    let pid = g.scheduler_pid(&name).expect("the scheduler process");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let unreachable_proxy = format!("127.0.0.1:{closed_port}");
    let cases: [(&str, Vec<(&str, &str)>); 2] = [
        (
            "a stopped scheduler",
            vec![("DASKCTL_PROBE__ORPHAN_GRACE", "0s")],
        ),
        (
            "a proxy this machine cannot reach",
            vec![
                ("DASKCTL_PROBE__ORPHAN_GRACE", "0s"),
                (
                    "DASKCTL_BACKENDS__GATEWAY__PROXY_ADDRESS",
                    unreachable_proxy.as_str(),
                ),
            ],
        ),
    ];
    for (what, vars) in &cases {
        if *what == "a stopped scheduler" {
            support::signal(pid, "STOP");
        }
        let o = g
            .env
            .run_env(vars, &["list", "-b", "gateway", "-o", "json"])
            .ok()
            .json();
        let c = o
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{what}: {o}"))
            .clone();
        assert_eq!(c["status"], "unknown", "{what}: {c}");
        assert!(
            c["reason"].as_str().unwrap().contains("reports it running"),
            "{what}: {c}"
        );
        let report = g
            .env
            .run_env(
                vars,
                &[
                    "cleanup",
                    "--orphaned",
                    "-b",
                    "gateway",
                    "--yes",
                    "-o",
                    "json",
                ],
            )
            .ok()
            .json();
        assert_eq!(report["actions"], serde_json::json!([]), "{what}: {report}");
        assert_eq!(
            gateway_status("gw-silent", &name).as_deref(),
            Some("RUNNING"),
            "{what}"
        );
        assert!(alive(pid), "{what}: the scheduler was stopped");
        if *what == "a stopped scheduler" {
            support::signal(pid, "CONT");
        }
    }
    g.env.run(&["delete", &name, "--yes"]).ok();
    assert!(g.live().is_empty());
}

/// htcdaskgateway: a gateway cluster whose workers are HTCondor jobs (the stand-in runs them)
/// started as htcdaskgateway's `scale_batch_workers` starts them: `start.sh CLUSTER
/// htcdask-worker_$(Cluster)_$(Process)`, the worker reaching the scheduler through the proxy
/// with the cluster's credentials and `--scheduler-sni daskgateway-CLUSTER`. One cluster is
/// listed (the gateway's, its worker jobs among its resources, the worker counted by its
/// scheduler), and delete removes both. Workers whose gateway cluster the gateway named on
/// their command line reports stopped are orphans, under that cluster's name, and cleanup
/// removes them; workers whose command names another proxy are `unknown` and never removed
/// (issue 30: `orphaned` is the serving gateway's word).
#[test]
fn htcdaskgateway_workers_are_one_cluster_with_their_gateway_cluster() {
    if !gateway_up() {
        return;
    }
    let env = Env::htcondor().with("DASKCTL_BACKENDS__LOCAL__ENABLED", "false");
    let user = "gw-htc";
    crate::support::gateway::configure(&env, user, GW_PASSWORD);
    let py = |code: &str| crate::support::gateway::py_as(user, code);
    py("[gw.stop_cluster(r.name) for r in gw.list_clusters()]");
    let submit = |name: &str, proxy_port: u16| {
        let creds = env.dir.path().join(format!("creds-{name}"));
        std::fs::create_dir_all(&creds).unwrap();
        if proxy_port == 28786 {
            py(&format!(
                "s = gw.connect({name:?}).security\nopen({:?}, 'w').write(s.tls_cert)\nopen({:?}, 'w').write(s.tls_key)",
                creds.join("dask.crt"),
                creds.join("dask.pem")
            ));
        } else {
            // another gateway's cluster: no credentials of this one's
            std::fs::write(creds.join("dask.crt"), "").unwrap();
            std::fs::write(creds.join("dask.pem"), "").unwrap();
        }
        let dask = crate::support::python().with_file_name("dask");
        let start = creds.join("start.sh");
        crate::support::script(
            &start,
            &format!(
                "#!/bin/sh\ncd {c}\nexec {dask} worker --name $2 --tls-ca-file dask.crt --tls-cert dask.crt --tls-key dask.pem --scheduler-sni daskgateway-$1 --nthreads 1 --no-nanny $3\n",
                c = creds.display(),
                dask = dask.display()
            ),
        );
        let sub = creds.join("htcdask_submitfile.jdl");
        std::fs::write(
            &sub,
            format!(
                "executable = {}\narguments = {name} htcdask-worker_$(Cluster)_$(Process) tls://127.0.0.1:{proxy_port}\noutput = {}/w.out\nerror = {}/w.err\nqueue 1\n",
                start.display(),
                creds.display(),
                creds.display()
            ),
        )
        .unwrap();
        let o = env.condor(&["condor_submit", sub.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let queued = || {
        let o = env.condor(&["condor_q", "-json"]);
        serde_json::from_slice::<Vec<serde_json::Value>>(&o.stdout)
            .unwrap_or_default()
            .len()
    };

    let name = py("c = gw.new_cluster(shutdown_on_close=False)\nprint(c.name)");
    submit(&name, 28786);
    wait_until(
        "the HTCondor worker joined",
        Duration::from_secs(120),
        || env.find(&name).is_some_and(|c| c["workers"] == 1),
    );
    let all = env.list();
    assert_eq!(all.len(), 1, "one cluster: {all:?}");
    let c = &all[0];
    assert_eq!(c["backend"], "gateway", "{c}");
    let jobs: Vec<&serde_json::Value> = c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "job")
        .collect();
    assert_eq!(jobs.len(), 1, "{c}");
    env.run(&["delete", &name, "--yes"]).ok();
    assert_eq!(queued(), 0, "the worker jobs are removed too");
    assert!(gateway_status(user, &name).is_none_or(|s| s == "STOPPED"));

    // the gateway cluster goes (the Python client stops it): the gateway says so when asked
    // (its get_cluster: STOPPED), so its HTCondor workers are orphans, under its name
    let name = py("c = gw.new_cluster(shutdown_on_close=False)\nprint(c.name)");
    submit(&name, 28786);
    wait_until("the worker job listed", Duration::from_secs(60), || {
        queued() == 1
    });
    py(&format!("gw.stop_cluster({name:?})"));
    let c = env
        .find(&name)
        .expect("listed under its gateway cluster's name");
    assert_eq!(c["status"], "orphaned", "{c}");
    assert!(
        c["reason"].as_str().unwrap().contains("reports cluster"),
        "{c}"
    );
    assert_eq!(
        env.cleanup_preview(&["--orphaned"]),
        std::slice::from_ref(&name)
    );
    env.run(&["cleanup", "--orphaned", "--yes"]).ok();
    assert_eq!(queued(), 0);
    assert!(env.find(&name).is_none());

    // workers whose command names another proxy: another gateway's to judge, never removed
    let other = "0123456789abcdef0123456789abcdef";
    submit(other, 1);
    wait_until(
        "the other gateway's worker job listed",
        Duration::from_secs(60),
        || queued() == 1,
    );
    let c = env
        .find(other)
        .expect("listed under its gateway cluster's name");
    assert_eq!(c["status"], "unknown", "{c}");
    assert!(
        c["reason"].as_str().unwrap().contains("no configured"),
        "{c}"
    );
    assert!(env.cleanup_preview(&["--orphaned"]).is_empty());
    env.run(&["cleanup", "--orphaned", "--yes"]).ok();
    assert_eq!(queued(), 1, "another gateway's worker was removed");
    env.condor(&["condor_rm", "-all"]);
}

/// `adapt` on a gateway cluster turns on dask-gateway's own adaptive scaling (it runs in the
/// cluster's scheduler, outliving any client): the real gateway brings the cluster to the
/// minimum; `--off` turns it off and a fixed size holds again.
#[test]
fn adapt_uses_the_gateways_own_adaptive_scaling() {
    if !gateway_up() {
        return;
    }
    let g = GatewayUser::new("gw-adapt");
    let c = g
        .env
        .run(&["create", "gateway", "--workers", "0", "-o", "json"])
        .ok()
        .json();
    let q = format!("gateway/{}", c["name"].as_str().unwrap());
    let o = g
        .env
        .run(&["adapt", &q, "--minimum", "1", "--maximum", "2"])
        .ok();
    assert!(o.stderr.contains("the gateway's scheduler"), "{}", o.stderr);
    wait_until(
        "the gateway to adapt up to the minimum",
        Duration::from_secs(120),
        || g.env.describe(&q)["workers"] == 1,
    );
    g.env.run(&["adapt", &q, "--off"]).ok();
    g.env
        .run(&["scale", &q, "0", "--wait", "--timeout", "120"])
        .ok();
    assert_eq!(g.env.describe(&q)["workers"], 0);
    g.env.run(&["delete", &q, "--yes"]).ok();
    assert!(g.live().is_empty());
}

/// The gateway refuses to scale a cluster it has not started (dask_gateway_server
/// `routes.py::handle_scale_cluster` answers 409 when `backends/base.py::
/// forward_message_to_scheduler` says "cluster NAME is not running"): the refusal of a cluster's
/// state, exit 1 with the gateway's words, not a usage error. The bed's `start=gated` option
/// keeps the scheduler from starting until the test opens its gate.
#[test]
fn scaling_a_cluster_the_gateway_has_not_started_is_refused_with_its_words() {
    if !gateway_up() {
        return;
    }
    let g = GatewayUser::new("gw-pending");
    let name = g.py("print(gw.submit(start='gated'))");
    let q = format!("gateway/{name}");
    let gate = Gate(crate::support::gateway::gw_run().join("gates").join(&name));
    wait_until(
        "the cluster listed pending",
        Duration::from_secs(30),
        || gw_find(&g, &name).is_some_and(|c| c["status"] == "pending"),
    );
    let o = g.env.run(&["scale", &q, "2"]).code(1);
    let line = o.one_line_error();
    assert!(
        line.contains(&format!("cluster {name} is not running")) && line.contains("409"),
        "{line}"
    );
    // opened: it starts, and the same scale is done
    gate.open();
    wait_until("the cluster running", Duration::from_secs(60), || {
        gw_find(&g, &name).is_some_and(|c| c["status"] == "running")
    });
    g.env
        .run(&["scale", &q, "1", "--wait", "--timeout", "120"])
        .ok();
    g.env.run(&["delete", &q, "--yes"]).ok();
    assert!(g.live().is_empty());
}

/// The gate of a `start=gated` cluster; opened at the latest when the test ends, so that a
/// failed test leaves no scheduler waiting.
struct Gate(std::path::PathBuf);

impl Gate {
    fn open(&self) {
        std::fs::write(&self.0, "").unwrap();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.0, "");
    }
}
