//! The Kubernetes backend against the stand-in API server (support/kube.rs), or against a real
//! cluster when DASKCTL_TEST_KUBECONFIG names one (tests that need the stand-in's knobs are
//! then skipped). In-cluster scheduler addresses are only ever probed through `probe.map`.

use crate::support::kube::StandIn;
use crate::support::{DaskProc, Env, wait_until};
use serde_json::json;
use std::time::Duration;

fn pods(c: &serde_json::Value, role: &str) -> Vec<String> {
    c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "pod" && r["role"] == role)
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn standin() -> Option<(Env, StandIn)> {
    match Env::kube() {
        (env, Some(s)) => Some((env, s)),
        _ => {
            eprintln!("skipped: needs the stand-in API server (DASKCTL_TEST_KUBECONFIG is set)");
            None
        }
    }
}

#[test]
fn daskctl_cluster_without_the_operator() {
    let (env, standin) = Env::kube();
    let c = env
        .run(&[
            "create",
            "kubernetes",
            "--name",
            "k8s-life",
            "--workers",
            "2",
            "--namespace",
            "default",
            "--resources",
            "cpu=1,memory=2Gi",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(c["backend"], "kubernetes");
    assert_eq!(c["namespace"], "default");
    assert_eq!(c["origin"], "daskctl");
    let kinds: Vec<&str> = c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"deployment"), "{c}");
    let names = env.run(&["list", "-o", "name"]).ok().stdout;
    assert!(
        names.lines().any(|l| l == "kubernetes/default/k8s-life"),
        "{names}"
    );
    assert_eq!(
        env.describe("kubernetes/default/k8s-life")["name"],
        "k8s-life"
    );

    env.run(&["scale", "k8s-life", "3"]).ok();
    wait_until("3 worker pods", Duration::from_secs(120), || {
        pods(&env.describe("k8s-life"), "worker").len() == 3
    });
    let logs = env
        .run(&["logs", "k8s-life", "--scheduler", "--tail", "2"])
        .ok()
        .stdout;
    let sched = pods(&env.describe("k8s-life"), "scheduler");
    assert_eq!(sched.len(), 1);
    assert_eq!(logs.lines().count(), 2, "{logs}");
    if standin.is_some() {
        // the stand-in's log lines start with their pod's name; --tail keeps the last two
        assert_eq!(
            logs,
            format!(
                "{0}: distributed - INFO - line 4\n{0}: distributed - INFO - line 5\n",
                sched[0]
            )
        );
    }
    let all = env.run(&["logs", "k8s-life", "--tail", "1"]).ok().stdout;
    assert_eq!(all.lines().count(), 4, "scheduler and 3 workers: {all}");
    assert!(
        all.lines().next().unwrap().starts_with("[scheduler] "),
        "{all}"
    );

    env.run(&["delete", "k8s-life"]).code(5);
    env.run(&["delete", "kubernetes/default/k8s-life", "--yes", "--wait"])
        .ok();
    assert!(env.find("k8s-life").is_none());
    env.run(&["describe", "k8s-life"]).code(3);
}

#[test]
fn scale_down_retires_exactly_the_newest_workers() {
    let Some((env, s)) = standin() else { return };
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "k8s-down",
        "--workers",
        "3",
    ])
    .ok();
    let c = env.describe("k8s-down");
    let workers = pods(&c, "worker");
    assert_eq!(workers.len(), 3);
    // a real scheduler stands in for the pod's; workers are named after their pods
    let (_sched, real) = DaskProc::scheduler(&[]);
    env.map_probe(c["address"].as_str().unwrap(), &real);
    let _w: Vec<DaskProc> = workers
        .iter()
        .map(|p| DaskProc::worker(&real, &["--name", p]))
        .collect();
    wait_until("3 workers connected", Duration::from_secs(60), || {
        env.describe("k8s-down")["workers"] == 3
    });
    let mut by_age = workers.clone();
    by_age.sort_by_key(|p| {
        s.with(|st| {
            st.get("pods", "default", p).unwrap()["metadata"]["uid"]
                .as_str()
                .unwrap()
                .to_string()
        })
    });
    env.run(&["scale", "k8s-down", "1", "--wait", "--timeout", "60"])
        .ok();
    let d = env.describe("k8s-down");
    assert_eq!(d["workers"], 1, "{d}");
    assert_eq!(
        pods(&d, "worker"),
        vec![by_age[0].clone()],
        "the oldest pod stays"
    );
    // the scheduler itself reports the oldest worker alone (a probe may time out under load)
    wait_until(
        "the scheduler's worker list",
        Duration::from_secs(30),
        || {
            let w = env.describe("k8s-down")["worker_details"].clone();
            w.as_array().is_some_and(|a| a.len() == 1) && w[0]["name"] == by_age[0].as_str()
        },
    );
}

/// Operator clusters scale through their worker group (a 409 Conflict on the scale read again
/// and retried); a delete carries the DaskCluster's uid as its precondition.
#[test]
fn operator_clusters_scale_through_the_worker_group_and_conflicts_are_retried() {
    let Some((env, s)) = standin() else { return };
    s.with(|st| st.crd = true);
    let c = env
        .run(&[
            "create",
            "kubernetes",
            "--name",
            "op",
            "--workers",
            "2",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert!(
        c["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "daskcluster"),
        "{c}"
    );
    let dc = s
        .with(|st| st.get("daskclusters", "default", "op").cloned())
        .expect("DaskCluster");
    assert_eq!(dc["spec"]["worker"]["replicas"], 2);
    assert_eq!(
        dc["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "daskctl"
    );
    assert_eq!(pods(&c, "worker").len(), 2);
    // someone else updates the worker group twice while daskctl scales
    s.with(|st| st.conflicts = 2);
    env.run(&["scale", "op", "4"]).ok();
    assert_eq!(s.with(|st| st.conflicts_served), 2);
    let wg = s
        .with(|st| st.get("daskworkergroups", "default", "op-default").cloned())
        .unwrap();
    assert_eq!(wg["spec"]["worker"]["replicas"], 4);
    assert_eq!(pods(&env.describe("op"), "worker").len(), 4);
    // the cluster is deleted and created again (another uid) between this delete's listing and
    // its request: the API server refuses the uid precondition and the new one stays (issue 29)
    let before = env.describe("op")["instance"].clone();
    assert!(
        before.is_string(),
        "the DaskCluster's uid is its instance id"
    );
    s.with(|st| st.recreate_before_delete = Some(("daskclusters".into(), "op".into())));
    let o = env.run(&["delete", "op", "--yes"]).code(3);
    assert!(o.stderr.contains("created again"), "{}", o.stderr);
    let again = env.describe("op")["instance"].clone();
    assert!(again.is_string() && again != before, "{before} {again}");
    env.run(&["delete", "op", "--yes"]).ok();
    assert!(
        s.with(|st| st.names("pods").is_empty()),
        "the operator's pods cascade"
    );
    assert!(s.with(|st| st.names("daskworkergroups").is_empty()));
}

#[test]
fn operator_helm_orphans_ttl_and_rbac() {
    let Some((env, s)) = standin() else { return };
    s.with(|st| {
        st.crd = true;
        // a dask-kubernetes cluster made by someone's Python (KubeCluster), in team-a
        let dc = st
            .insert(
                "daskclusters",
                "team-a",
                json!({"metadata": {"name": "kc"}, "spec": {"worker": {"replicas": 1}}}),
            )
            .unwrap();
        let _ = dc;
        // a Dask Helm chart release "analysis" in team-a, named as dask/helm-chart names it
        // (templates/_helpers.tpl: fullname = RELEASE-dask unless the release name contains
        // "dask"), with a sidecar beside the scheduler (as a service mesh injects one)
        for comp in ["scheduler", "worker"] {
            let l = json!({"app": "dask", "component": comp, "release": "analysis"});
            let mut containers = json!([{"name": format!("analysis-dask-{comp}"),
                                         "args": [format!("dask-{comp}")]}]);
            if comp == "scheduler" {
                containers.as_array_mut().unwrap().push(json!({"name": "istio-proxy"}));
            }
            st.deployment("team-a", &format!("analysis-dask-{comp}"), l, 1, containers);
        }
        st.insert(
            "services",
            "team-a",
            json!({"metadata": {"name": "analysis-dask-scheduler",
                                "labels": {"app": "dask", "component": "scheduler", "release": "analysis"}},
                   "spec": {"selector": {"app": "dask", "component": "scheduler", "release": "analysis"},
                            "ports": [{"name": "analysis-dask-scheduler", "port": 8786, "targetPort": 8786},
                                      {"name": "analysis-dask-webui", "port": 80, "targetPort": 8787}]}}),
        )
        .unwrap();
        // workers of an operator cluster whose DaskCluster and scheduler are gone
        st.pod(
            "team-a",
            "lost-worker-1",
            json!({"dask.org/cluster-name": "lost", "dask.org/component": "worker"}),
            None,
        );
        // a cluster in a namespace RBAC forbids
        st.pod(
            "team-b",
            "hidden-scheduler",
            json!({"dask.org/cluster-name": "hidden", "dask.org/component": "scheduler"}),
            None,
        );
        st.forbidden = vec!["team-b".into()];
    });
    let o = env.run(&["list", "-b", "kubernetes", "-o", "json"]).ok();
    assert!(o.stderr.contains("team-b"), "{}", o.stderr);
    let listed = o.json();
    let by = |n: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .cloned()
    };
    assert_eq!(
        by("kc").expect("operator cluster")["origin"],
        "dask-kubernetes"
    );
    let helm = by("analysis").expect("helm release");
    assert_eq!(helm["namespace"], "team-a");
    assert_eq!(pods(&helm, "worker").len(), 1);
    // the scheduler's address is its chart-named Service's
    assert_eq!(
        helm["address"],
        "tcp://analysis-dask-scheduler.team-a.svc.cluster.local:8786"
    );
    // the scheduler pod has a sidecar: its log is the Dask container's
    let log = env
        .run(&["logs", "kubernetes/team-a/analysis", "--scheduler"])
        .ok()
        .stdout;
    assert!(log.contains("distributed"), "{log}");
    assert_eq!(by("lost").expect("orphan")["status"], "orphaned");
    assert!(by("hidden").is_none());

    // a Helm release scales through its worker Deployment
    env.run(&["scale", "kubernetes/team-a/analysis", "3"]).ok();
    let d = s
        .with(|st| {
            st.get("deployments", "team-a", "analysis-dask-worker")
                .cloned()
        })
        .unwrap();
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(pods(&env.describe("analysis"), "worker").len(), 3);

    // a daskctl cluster past its TTL; cleanup previews, then deletes it and the orphan
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "short",
        "--workers",
        "1",
        "--ttl",
        "1s",
    ])
    .ok();
    let preview = || env.cleanup_preview(&["--orphaned", "-b", "kubernetes"]);
    wait_until("TTL passed", Duration::from_secs(10), || {
        preview().contains(&"short".to_string())
    });
    assert_eq!(preview(), ["lost", "short"]);
    env.run(&[
        "cleanup",
        "--orphaned",
        "lost",
        "short",
        "-b",
        "kubernetes",
        "--yes",
    ])
    .ok();
    assert!(s.with(|st| st.get("pods", "team-a", "lost-worker-1").is_none()));
    assert!(s.with(|st| st.get("daskclusters", "default", "short").is_none()));
    assert!(s.with(|st| st.get("daskclusters", "team-a", "kc").is_some()));
}

#[test]
fn without_a_kubeconfig_the_backend_is_skipped() {
    let env = Env::new().with("DASKCTL_BACKENDS__LOCAL__ENABLED", "false");
    assert_eq!(
        env.run(&["list", "-b", "kubernetes", "-o", "json"])
            .ok()
            .json(),
        json!([])
    );
    let b = env.run(&["backends", "list", "-o", "json"]).ok().json();
    let k = b
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "kubernetes")
        .unwrap()
        .clone();
    assert!(k.to_string().contains("no kubeconfig"), "{k}");
}

struct KubeBed;

impl crate::conformance::Bed for KubeBed {
    fn backend(&self) -> &'static str {
        "kubernetes"
    }
    fn env(&self) -> Env {
        let (env, s) = Env::kube();
        // the stand-in lives as long as the test process; its thread keeps serving
        std::mem::forget(s);
        env
    }
    fn gone(&self, _env: &Env, _c: &serde_json::Value) -> bool {
        true
    }
}

#[test]
fn conformance_bad_input() {
    crate::conformance::bad_input(&KubeBed);
}

#[test]
fn namespaces_contexts_and_qualified_names() {
    let Some((env, _s)) = standin() else { return };
    env.run(&["create", "kubernetes", "--name", "twin", "--workers", "1"])
        .ok();
    // the context's namespace is where create puts a cluster
    let c = env
        .run(&[
            "create",
            "kubernetes",
            "--context",
            "standin-team-a",
            "--name",
            "twin",
            "--workers",
            "1",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(c["namespace"], "team-a");
    let all = env
        .run(&["list", "-b", "kubernetes", "-o", "name"])
        .ok()
        .stdout;
    assert_eq!(all, "kubernetes/default/twin\nkubernetes/team-a/twin\n");
    let one = env
        .run(&["list", "--namespace", "team-a", "-o", "name"])
        .ok()
        .stdout;
    assert_eq!(one, "kubernetes/team-a/twin\n");
    let o = env.run(&["describe", "twin"]).code(2);
    assert!(
        o.one_line_error().contains("ambiguous")
            && o.stderr.contains("kubernetes/default/twin")
            && o.stderr.contains("kubernetes/team-a/twin"),
        "{}",
        o.stderr
    );
    assert_eq!(
        env.describe("kubernetes/team-a/twin")["namespace"],
        "team-a"
    );
    assert_eq!(
        env.run(&["describe", "twin", "--namespace", "default", "-o", "json"])
            .ok()
            .json()["namespace"],
        "default"
    );
    let o = env
        .run(&["describe", "kubernetes/default/twin", "--context", "nope"])
        .code(2);
    assert!(o.stderr.contains("nope"), "{}", o.stderr);
}

#[test]
fn invalid_objects_are_refused_and_nothing_is_left() {
    let Some((env, s)) = standin() else { return };
    // a quantity the API server would refuse is refused before any request: a DaskCluster's
    // CRD accepts any pod spec, and the operator would fail on it forever
    let before = s.with(|st| st.requests);
    let o = env
        .run(&[
            "create",
            "kubernetes",
            "--name",
            "bad-q",
            "--workers",
            "1",
            "--resources",
            "cpu=-1",
        ])
        .code(2);
    assert!(
        o.one_line_error()
            .contains("must be greater than or equal to 0"),
        "{}",
        o.stderr
    );
    assert_eq!(s.with(|st| st.requests), before, "no request for bad input");
    // an admission webhook refuses the worker Deployment (422) after the scheduler's was made
    s.with(|st| st.refuse = vec!["bad-q-worker".into()]);
    let o = env
        .run(&["create", "kubernetes", "--name", "bad-q", "--workers", "1"])
        .code(2);
    assert!(
        o.one_line_error().contains("Invalid (422)") && o.stderr.contains("denied the request"),
        "{}",
        o.stderr
    );
    s.with(|st| {
        for kind in ["deployments", "services", "pods"] {
            assert!(
                st.names(kind).is_empty(),
                "{kind} left: {:?}",
                st.names(kind)
            );
        }
    });
    // names the scheduler Service cannot carry are refused before any request
    let before = s.with(|st| st.requests);
    for bad in ["a".repeat(54), "1abc".to_string()] {
        let o = env
            .run(&["create", "kubernetes", "--name", &bad, "--workers", "1"])
            .code(2);
        assert!(
            o.one_line_error().contains("invalid cluster name"),
            "{}",
            o.stderr
        );
    }
    assert_eq!(s.with(|st| st.requests), before);
}

#[test]
fn idle_operator_clusters_are_cleaned_up_and_logs_follow() {
    use std::io::BufRead;
    let Some((env, s)) = standin() else { return };
    s.with(|st| {
        st.crd = true;
        st.insert(
            "daskclusters",
            "team-a",
            json!({"metadata": {"name": "idle-kc"}, "spec": {"worker": {"replicas": 2}}}),
        )
        .unwrap();
    });
    let (_sched, real) = DaskProc::scheduler(&[]);
    env.map_probe(
        "tcp://idle-kc-scheduler.team-a.svc.cluster.local:8786",
        &real,
    );
    wait_until("idle clock", Duration::from_secs(30), || {
        !env.describe("idle-kc")["idle_since"].is_null()
    });

    // one worker's log, then a followed scheduler log that ends when its pod does
    let c = env.describe("idle-kc");
    let workers = pods(&c, "worker");
    let one = env
        .run(&["logs", "idle-kc", "--worker", &workers[1]])
        .ok()
        .stdout;
    assert_eq!(one.lines().count(), 5, "{one}");
    assert!(one.lines().all(|l| l.starts_with(&workers[1])), "{one}");
    // a pod whose container has not started has no log: alone an error, among others a warning
    s.with(|st| {
        st.patch(
            "pods",
            "team-a",
            &workers[0],
            &json!({"status": {"phase": "Pending"}}),
        )
    });
    let o = env
        .run(&["logs", "idle-kc", "--worker", &workers[0]])
        .code(2);
    assert!(o.stderr.contains("waiting to start"), "{}", o.stderr);
    let o = env.run(&["logs", "idle-kc", "--tail", "1"]).ok();
    assert_eq!(
        o.stdout.lines().count(),
        2,
        "scheduler and one worker: {}",
        o.stdout
    );
    assert!(o.stderr.contains(&workers[0]), "{}", o.stderr);
    s.with(|st| {
        st.patch(
            "pods",
            "team-a",
            &workers[0],
            &json!({"status": {"phase": "Running"}}),
        )
    });
    let sched = pods(&c, "scheduler").remove(0);
    let mut f = env
        .command(&["logs", "idle-kc", "--scheduler", "--tail", "1", "--follow"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(f.stdout.take().unwrap()).lines();
    assert!(lines.next().unwrap().unwrap().ends_with("line 5"));
    s.with(|st| st.log("team-a", &sched, "distributed.scheduler - INFO - new line"));
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "distributed.scheduler - INFO - new line"
    );
    s.with(|st| st.delete("pods", "team-a", &sched));
    assert!(lines.next().is_none(), "the stream ends with the pod");
    assert!(f.wait().unwrap().success());

    // the scheduler pod comes back (as the operator would recreate it) and is idle
    s.with(|st| {
        let dc = st
            .get("daskclusters", "team-a", "idle-kc")
            .cloned()
            .unwrap();
        let labels = json!({"dask.org/cluster-name": "idle-kc", "dask.org/component": "scheduler"});
        st.pod("team-a", &sched, labels, Some(&dc));
    });
    let picked = |idle: &str| env.cleanup_preview(&["--idle", idle, "-b", "kubernetes"]);
    assert!(picked("1h").is_empty());
    assert_eq!(picked("0s"), ["idle-kc"]);
    env.run(&[
        "cleanup",
        "--idle",
        "0s",
        "idle-kc",
        "-b",
        "kubernetes",
        "--yes",
    ])
    .ok();
    s.with(|st| {
        assert!(st.get("daskclusters", "team-a", "idle-kc").is_none());
        assert!(st.names("pods").is_empty(), "the operator's pods cascade");
    });
}

/// Not a test: bench/kubernetes.sh runs it to serve a stand-in holding 200 dask-kubernetes
/// clusters (DaskCluster, worker group, scheduler Service and pod, 2 worker pods each) in
/// namespace `bench`. It writes DIR/kubeconfig and serves until DIR/stop appears.
#[test]
#[ignore]
fn bench_standin_200_clusters() {
    let Ok(dir) = std::env::var("DASKCTL_BENCH_KUBE_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let s = StandIn::start();
    s.with(|st| {
        st.crd = true;
        st.insert("namespaces", "", json!({"metadata": {"name": "bench"}}))
            .unwrap();
        for i in 0..200 {
            st.insert(
                "daskclusters",
                "bench",
                json!({"metadata": {"name": format!("c{i:03}")}, "spec": {"worker": {"replicas": 2}}}),
            )
            .unwrap();
        }
    });
    let tmp = dir.join("kubeconfig.tmp");
    s.kubeconfig(&tmp);
    std::fs::rename(&tmp, dir.join("kubeconfig")).unwrap();
    let stop = dir.join("stop");
    wait_until(
        "bench/kubernetes.sh done",
        Duration::from_secs(3600),
        || stop.exists(),
    );
    let requests = s.with(|st| st.requests);
    std::fs::write(dir.join("requests"), requests.to_string()).unwrap();
}

/// The service-account files of a pod, written for one test and removed after it, with every
/// directory made for them.
struct ServiceAccount {
    dir: std::path::PathBuf,
    made: std::path::PathBuf,
}

impl ServiceAccount {
    const DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// None where the files cannot be written, or already exist (inside a real pod): their
    /// paths are fixed in every Kubernetes client, kube-rs included.
    fn install(ca: &std::path::Path, token: &str, namespace: &str) -> Option<ServiceAccount> {
        let dir = std::path::PathBuf::from(Self::DIR);
        let made = dir
            .ancestors()
            .take_while(|a| !a.exists())
            .last()
            .map(std::path::Path::to_path_buf);
        let Some(made) = made.filter(|_| std::fs::create_dir_all(&dir).is_ok()) else {
            eprintln!("skipped: {} exists or cannot be made", Self::DIR);
            return None;
        };
        let sa = ServiceAccount { dir, made };
        std::fs::copy(ca, sa.dir.join("ca.crt")).unwrap();
        sa.token(token);
        std::fs::write(sa.dir.join("namespace"), namespace).unwrap();
        Some(sa)
    }

    fn token(&self, token: &str) {
        std::fs::write(self.dir.join("token"), token).unwrap();
    }
}

impl Drop for ServiceAccount {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.made);
    }
}

/// Inside a pod there is no kubeconfig: the API server comes from KUBERNETES_SERVICE_HOST/PORT,
/// over HTTPS verified with the service account's CA, authenticated with its token, and its
/// namespace is where `create` puts clusters.
#[test]
fn in_cluster_configuration_from_the_service_account() {
    if std::env::var_os("DASKCTL_TEST_KUBECONFIG").is_some() {
        eprintln!("skipped: needs the stand-in API server (DASKCTL_TEST_KUBECONFIG is set)");
        return;
    }
    let pki = crate::support::tls::make("apiserver");
    let s = StandIn::start_tls(&pki);
    let Some(sa) = ServiceAccount::install(&pki.ca(), crate::support::kube::TOKEN, "team-a") else {
        return;
    };
    let port = s.url.rsplit(':').next().unwrap().to_string();
    let env = Env::kubernetes_only()
        .with("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .with("KUBERNETES_SERVICE_PORT", &port);

    let c = env
        .run(&[
            "create",
            "kubernetes",
            "--name",
            "in-pod",
            "--workers",
            "1",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(c["namespace"], "team-a", "{c}");
    s.with(|st| assert!(st.get("deployments", "team-a", "in-pod-worker").is_some()));
    let names = env.run(&["list", "-o", "name"]).ok().stdout;
    assert!(
        names.lines().any(|l| l == "kubernetes/team-a/in-pod"),
        "{names}"
    );

    // a token the API server does not accept: a one-line error, nothing listed
    sa.token("expired-token");
    let o = env.run(&["list", "-b", "kubernetes"]);
    assert_ne!(o.code, 0);
    assert!(
        o.stderr.contains("warning: kubernetes: ") && o.stderr.contains("Unauthorized (401)"),
        "{}",
        o.stderr
    );
    sa.token(crate::support::kube::TOKEN);
    env.run(&["delete", "kubernetes/team-a/in-pod", "--yes"])
        .ok();
    s.with(|st| assert!(st.get("deployments", "team-a", "in-pod-worker").is_none()));
}

/// The operator names each worker after its own Deployment and deletes `Deployment(<retired
/// worker>)` on scale-down: daskctl's DaskCluster lets it (no `DASK_WORKER_NAME` of its own), so
/// scale-down converges; nothing the operator copies daskctl's labels onto is counted twice.
/// A DaskCluster that names its workers after their pods (what daskctl used to make) never
/// converges on the stand-in, as on a real operator.
#[test]
fn operator_scale_down_converges_and_nothing_is_counted_twice() {
    let Some((env, s)) = standin() else { return };
    s.with(|st| st.crd = true);
    env.run(&["create", "kubernetes", "--name", "opdown", "--workers", "3"])
        .ok();
    let worker_deployments = |group: &str| {
        s.with(|st| {
            st.names("deployments")
                .into_iter()
                .filter(|n| n.starts_with(&format!("{group}-worker-")))
                .count()
        })
    };
    assert_eq!(worker_deployments("opdown-default"), 3);
    let dc = s.with(|st| {
        st.get("daskclusters", "default", "opdown")
            .cloned()
            .unwrap()
    });
    let env_vars = &dc["spec"]["worker"]["spec"]["containers"][0]["env"];
    assert!(
        env_vars
            .as_array()
            .is_none_or(|a| a.iter().all(|e| e["name"] != "DASK_WORKER_NAME")),
        "{dc}"
    );
    let c = env.describe("opdown");
    assert_eq!(c["requested_workers"], 3, "{c}");
    assert_eq!(pods(&c, "worker").len(), 3);
    assert_eq!(c["origin"], "daskctl");
    assert_eq!(
        env.list().iter().filter(|x| x["name"] == "opdown").count(),
        1,
        "listed once"
    );
    env.run(&["scale", "opdown", "1"]).ok();
    assert_eq!(worker_deployments("opdown-default"), 1);
    assert!(
        s.with(|st| st.operator_errors.is_empty()),
        "{:?}",
        s.with(|st| st.operator_errors.clone())
    );
    let c = env.describe("opdown");
    assert_eq!(c["requested_workers"], 1, "{c}");
    assert_eq!(pods(&c, "worker").len(), 1);

    // the old form: workers named after their pods
    s.with(|st| {
        let mut legacy = dc.clone();
        legacy["metadata"] = json!({"name": "legacy", "labels": {"app.kubernetes.io/managed-by": "daskctl"}});
        legacy["spec"]["worker"]["replicas"] = json!(2);
        legacy["spec"]["worker"]["spec"]["containers"][0]["env"] =
            json!([{"name": "DASK_WORKER_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]);
        legacy.as_object_mut().unwrap().remove("status");
        st.insert("daskclusters", "default", legacy).unwrap();
    });
    assert_eq!(worker_deployments("legacy-default"), 2);
    env.run(&["scale", "legacy", "1"]).ok();
    assert_eq!(
        worker_deployments("legacy-default"),
        2,
        "it never converges"
    );
    assert!(s.with(|st| st.operator_errors.iter().any(|e| e.contains("not found"))));
    env.run(&["delete", "opdown", "--yes"]).ok();
}

/// RBAC is per resource: cluster-wide `view` may list pods everywhere but not the operator's
/// DaskClusters (its chart aggregates no roles into `view`); those are then listed namespace by
/// namespace, and the rest stays cluster-wide.
#[test]
fn rbac_is_decided_per_resource() {
    let Some((env, s)) = standin() else { return };
    s.with(|st| {
        st.crd = true;
        st.insert(
            "daskclusters",
            "team-a",
            json!({"metadata": {"name": "kc"}, "spec": {"worker": {"replicas": 1}}}),
        )
        .unwrap();
        st.cluster_wide_forbidden = vec!["daskclusters".into(), "daskworkergroups".into()];
    });
    let o = env.run(&["list", "-b", "kubernetes", "-o", "json"]).ok();
    let kc = o
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "kc")
        .cloned()
        .unwrap_or_else(|| panic!("kc hidden: {}", o.stdout));
    assert_eq!(kc["origin"], "dask-kubernetes", "{kc}");
    assert_eq!(kc["requested_workers"], 1, "{kc}");
}

/// A DaskCluster whose pod spec the API server refuses stays in phase Created (the operator
/// fails and retries): after a minute it is reported as stuck, saying what to look at.
#[test]
fn a_daskcluster_stuck_in_created_says_so() {
    let Some((env, s)) = standin() else { return };
    s.with(|st| {
        st.crd = true;
        st.insert(
            "daskclusters",
            "default",
            json!({"metadata": {"name": "stuck"},
                   "spec": {"worker": {"replicas": 1, "spec": {"containers": [{"name": "worker"}]}},
                            "scheduler": {"spec": {"containers": [{"name": "scheduler",
                                              "resources": {"requests": {"cpu": "-1"}}}]}}}}),
        )
        .unwrap();
        st.patch(
            "daskclusters",
            "default",
            "stuck",
            &json!({"metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"}}),
        );
    });
    assert!(s.with(|st| !st.operator_errors.is_empty()));
    let c = env.describe("stuck");
    assert_eq!(c["status"], "pending", "{c}");
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("in phase Created for"),
        "{c}"
    );
}

/// Workers whose worker group was deleted with orphan propagation: their Deployments and
/// ReplicaSets live on, so deleting the pods alone would only get them recreated; delete removes
/// the owners.
#[test]
fn orphaned_operator_workers_are_deleted_with_their_owners() {
    let Some((env, s)) = standin() else { return };
    s.with(|st| {
        let labels = json!({"dask.org/cluster-name": "gone", "dask.org/component": "worker",
                            "dask.org/workergroup-name": "gone-default"});
        st.deployment(
            "default",
            "gone-default-worker-abc",
            labels,
            1,
            json!([{"name": "worker"}]),
        );
        // as the operator made it: owned by a DaskWorkerGroup that no longer exists
        st.patch(
            "deployments",
            "default",
            "gone-default-worker-abc",
            &json!({"metadata": {"ownerReferences": [{"apiVersion": "kubernetes.dask.org/v1",
                   "kind": "DaskWorkerGroup", "name": "gone-default",
                   "uid": "00000000-0000-0000-0000-999999999999", "controller": true}]}}),
        );
    });
    let c = env.describe("gone");
    assert_eq!(c["status"], "orphaned", "{c}");
    env.run(&["cleanup", "--orphaned", "gone", "-b", "kubernetes", "--yes"])
        .ok();
    s.with(|st| {
        assert!(st.names("pods").is_empty(), "{:?}", st.names("pods"));
        assert!(st.names("replicasets").is_empty());
        assert!(st.names("deployments").is_empty());
    });
}

/// `adapt` on an operator cluster writes the operator's own `DaskAutoscaler` (as
/// `KubeCluster.adapt` does), which the cluster adopts; new bounds patch it; an explicit scale
/// deletes it (as `KubeCluster.scale` does); it goes with the cluster. Clusters without the
/// operator have no autoscaler to use.
#[test]
fn adapt_on_operator_clusters_is_a_daskautoscaler() {
    let Some((env, s)) = standin() else { return };
    s.with(|st| st.crd = true);
    env.run(&["create", "kubernetes", "--name", "auto", "--workers", "1"])
        .ok();
    let o = env
        .run(&["adapt", "auto", "--minimum", "1", "--maximum", "5"])
        .ok();
    assert!(o.stderr.contains("DaskAutoscaler"), "{}", o.stderr);
    // the operator applies it: no "never applied" warning, and describe says who applies it
    assert!(!o.stderr.contains("never applied"), "{}", o.stderr);
    let text = env.run(&["describe", "auto"]).ok().stdout;
    assert!(
        text.contains("applied by its platform's autoscaler"),
        "{text}"
    );
    let a = s
        .with(|st| st.get("daskautoscalers", "default", "auto").cloned())
        .expect("a DaskAutoscaler");
    assert_eq!(
        a["spec"],
        json!({"cluster": "auto", "minimum": 1, "maximum": 5})
    );
    assert_eq!(a["metadata"]["ownerReferences"][0]["kind"], "DaskCluster");
    assert_eq!(env.describe("auto")["adapt"]["maximum"], 5);
    assert_eq!(env.describe("auto")["adapt_by"], "platform");
    // reconcile leaves it to the operator
    let r = env.run(&["reconcile", "-o", "json"]).ok().json();
    assert_eq!(r["actions"][0]["action"], "skipped", "{r}");
    env.run(&["adapt", "auto", "--minimum", "2", "--maximum", "6"])
        .ok();
    let b = s
        .with(|st| st.get("daskautoscalers", "default", "auto").cloned())
        .unwrap();
    assert_eq!(
        b["metadata"]["uid"], a["metadata"]["uid"],
        "patched, not replaced"
    );
    assert_eq!(b["spec"]["maximum"], 6);
    let o = env.run(&["scale", "auto", "3"]).ok();
    assert!(o.stderr.contains("no longer adapts"), "{}", o.stderr);
    assert!(s.with(|st| st.names("daskautoscalers").is_empty()));
    assert!(env.describe("auto").get("adapt").is_none());
    env.run(&["adapt", "auto", "--minimum", "0", "--maximum", "2"])
        .ok();
    env.run(&["delete", "auto", "--yes"]).ok();
    assert!(
        s.with(|st| st.names("daskautoscalers").is_empty()),
        "the autoscaler goes with its cluster"
    );
    // a cluster of plain Deployments keeps a daskctl policy instead (no DaskAutoscaler)
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "plain",
        "--workers",
        "1",
        "--native",
    ])
    .ok();
    let o = env
        .run(&["adapt", "plain", "--minimum", "1", "--maximum", "2"])
        .ok();
    assert!(o.stderr.contains("daskctl reconcile"), "{}", o.stderr);
    assert!(s.with(|st| st.names("daskautoscalers").is_empty()));
    env.run(&["delete", "plain", "--yes"]).ok();
}

/// A cluster daskctl made of plain Deployments keeps its policy in the `daskctl.dev/policy`
/// annotation of its scheduler Deployment, which every daskctl's discovery reads; `reconcile`
/// takes a Lease for each pass: it skips the cluster while another holder's Lease is current,
/// takes over one its holder let expire, grows the cluster under a real workload (through the
/// mapped scheduler), and deletes the Lease after the pass. A cluster of the same name in
/// another namespace does not make the pass ambiguous.
#[test]
fn native_clusters_keep_their_policy_in_an_annotation_and_lock_with_a_lease() {
    let Some((env, s)) = standin() else { return };
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "k8s-adapt",
        "--workers",
        "1",
        "--native",
    ])
    .ok();
    let c = env.describe("kubernetes/default/k8s-adapt");
    let (_sched, real) = DaskProc::scheduler(&[]);
    env.map_probe(c["address"].as_str().unwrap(), &real);
    let first = pods(&c, "worker");
    let _w = DaskProc::worker(&real, &["--name", &first[0]]);
    wait_until("the worker connected", Duration::from_secs(60), || {
        env.describe("kubernetes/default/k8s-adapt")["workers"] == 1
    });
    env.run(&["adapt", "k8s-adapt", "--minimum", "1", "--maximum", "3"])
        .ok();
    // a cluster of the same name in another namespace (without a policy): reconcile finds the
    // one it acts on again by its namespace too, never "ambiguous" (issue 30)
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "k8s-adapt",
        "--namespace",
        "team-b",
        "--workers",
        "0",
        "--native",
    ])
    .ok();
    let annotation = || {
        s.with(|st| {
            let d = st
                .names("deployments")
                .into_iter()
                .find(|n| n.starts_with("k8s-adapt") && n.contains("scheduler"))
                .expect("the scheduler Deployment");
            st.get("deployments", "default", &d).unwrap()["metadata"]["annotations"]
                ["daskctl.dev/policy"]
                .clone()
        })
    };
    assert!(
        annotation()
            .as_str()
            .unwrap_or_default()
            .contains("\"maximum\":3"),
        "{}",
        annotation()
    );
    assert_eq!(
        env.describe("kubernetes/default/k8s-adapt")["adapt"]["maximum"],
        3
    );

    let lease = "daskctl-reconcile-k8s-adapt";
    let now = humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string();
    s.with(|st| {
        st.insert(
            "leases",
            "default",
            json!({"metadata": {"name": lease}, "spec": {"holderIdentity": "daskctl@elsewhere/1",
                   "leaseDurationSeconds": 600, "renewTime": now}}),
        )
        .unwrap()
    });
    let _work = crate::adapt::workload(&real, 40, 2.0);
    let mine = || {
        crate::adapt::reconcile(&env)
            .into_iter()
            .find(|a| a["cluster"] == "k8s-adapt")
            .expect("an action for the cluster")
    };
    let a = mine();
    assert_eq!(a["action"], "skipped", "{a}");
    assert!(
        a["detail"].as_str().unwrap().contains("another daskctl"),
        "{a}"
    );
    // a renewTime long past proves nothing (the holder's clock may differ): still held
    s.with(|st| {
        st.patch(
            "leases",
            "default",
            lease,
            &json!({"spec": {"renewTime": "2000-01-01T00:00:00.000000Z", "leaseDurationSeconds": 1}}),
        )
    });
    let a = mine();
    assert_eq!(a["action"], "skipped", "{a}");
    // its holder stopped renewing it: once this daskctl has seen the same record unrenewed
    // for its leaseDurationSeconds by its own clock (client-go's observedTime), a pass takes
    // it over and acts
    let mut up = serde_json::Value::Null;
    wait_until("reconcile to scale up", Duration::from_secs(60), || {
        up = mine();
        up["action"] == "up"
    });
    // the count the pass chose follows the workload left when it ran (a slow machine reaches
    // it later, with fewer tasks left): within the bounds, above the one worker, and then
    // carried out
    let to: usize = up["detail"]
        .as_str()
        .and_then(|d| d.split(" to ").nth(1))
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {up}"));
    assert!((2..=3).contains(&to), "{up}");
    wait_until(
        &format!("{to} worker pods"),
        Duration::from_secs(60),
        || pods(&env.describe("kubernetes/default/k8s-adapt"), "worker").len() == to,
    );
    assert!(
        s.with(|st| st.names("leases").is_empty()),
        "the Lease is deleted after the pass"
    );
    // a pass that overran its Lease: another holder took it over meanwhile (a new record);
    // the release is refused by its resourceVersion precondition, the successor's stays
    s.with(|st| st.recreate_before_delete = Some(("leases".into(), lease.into())));
    let a = mine();
    assert_ne!(a["action"], "failed", "{a}");
    assert_eq!(
        s.with(|st| st.names("leases")),
        vec![lease.to_string()],
        "the successor's Lease is never deleted"
    );
    s.with(|st| st.delete("leases", "default", lease));
    env.run(&["adapt", "kubernetes/default/k8s-adapt", "--off"])
        .ok();
    assert!(annotation().is_null(), "{}", annotation());
    assert!(env.describe("kubernetes/default/k8s-adapt")["adapt"].is_null());
    env.run(&["delete", "kubernetes/default/k8s-adapt", "--yes"])
        .ok();
    env.run(&["delete", "kubernetes/team-b/k8s-adapt", "--yes"])
        .ok();
}

/// Without the operator, `--idle-timeout` is refused before anything is made (a scheduler
/// Deployment that ends itself is restarted); with it, it is the DaskCluster's idleTimeout.
#[test]
fn idle_timeout_is_the_operators() {
    let Some((env, s)) = standin() else { return };
    let o = env
        .run(&[
            "create",
            "kubernetes",
            "--name",
            "idle",
            "--idle-timeout",
            "5m",
        ])
        .code(2);
    assert!(
        o.stderr.contains("needs the dask-kubernetes operator"),
        "{}",
        o.stderr
    );
    assert!(s.with(|st| st.names("deployments").is_empty() && st.names("services").is_empty()));
    s.with(|st| st.crd = true);
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "idle",
        "--idle-timeout",
        "5m",
    ])
    .ok();
    let dc = s
        .with(|st| st.get("daskclusters", "default", "idle").cloned())
        .unwrap();
    assert_eq!(dc["spec"]["idleTimeout"], 300);
    env.run(&["delete", "idle", "--yes"]).ok();
}

/// Worker groups on an operator cluster: a `DaskWorkerGroup` each, as
/// `KubeCluster.add_worker_group` makes them (adopted by the DaskCluster, so deleted with it),
/// their own resources and Dask resource, counted per group and scaled on their own; refused
/// without the operator before anything is made.
#[test]
fn operator_worker_groups_are_daskworkergroups() {
    let Some((env, s)) = standin() else { return };
    s.with(|st| st.crd = true);
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "wgs",
        "--worker-group",
        "gpu:1:cpu=x",
    ])
    .code(2);
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "wgs",
        "--workers",
        "1",
        "--worker-group",
        "gpu:2:threads=4,memory=8GiB,cpu=4,gpus=1",
    ])
    .ok();
    let wg = s
        .with(|st| st.get("daskworkergroups", "default", "wgs-gpu").cloned())
        .expect("a DaskWorkerGroup wgs-gpu");
    assert_eq!(wg["spec"]["cluster"], "wgs");
    assert_eq!(wg["spec"]["worker"]["replicas"], 2);
    assert_eq!(wg["metadata"]["ownerReferences"][0]["kind"], "DaskCluster");
    let container = &wg["spec"]["worker"]["spec"]["containers"][0];
    assert_eq!(container["resources"]["limits"]["nvidia.com/gpu"], "1");
    assert_eq!(container["resources"]["requests"]["cpu"], "4");
    let args = container["args"].to_string();
    assert!(args.contains("\"--resources\",\"gpu=4\""), "{args}");
    assert!(args.contains("\"--nthreads\",\"4\""), "{args}");
    let groups = |env: &Env| crate::support::requested_by_group(env, "wgs");
    assert_eq!(groups(&env), vec![("default".into(), 1), ("gpu".into(), 2)]);
    assert_eq!(pods(&env.describe("wgs"), "worker").len(), 3);
    // the worker Deployments of each group, as the stand-in's API holds them
    let deployed = |group: &str| {
        s.with(|st| {
            st.names("deployments")
                .into_iter()
                .filter(|d| {
                    st.get("deployments", "default", d).is_some_and(|d| {
                        d["metadata"]["labels"]["dask.org/workergroup-name"]
                            == format!("wgs-{group}").as_str()
                    })
                })
                .count()
        })
    };
    env.run(&["scale", "wgs", "3", "--group", "gpu"]).ok();
    assert_eq!(groups(&env), vec![("default".into(), 1), ("gpu".into(), 3)]);
    // down: the operator would retire the scheduler's choice across the whole cluster (the
    // newest: a gpu worker); the default group's own worker goes, the gpu group keeps 3
    env.run(&["scale", "wgs", "0"]).ok();
    assert_eq!(groups(&env), vec![("default".into(), 0), ("gpu".into(), 3)]);
    assert_eq!((deployed("default"), deployed("gpu")), (0, 3));
    env.run(&["scale", "wgs", "1"]).ok();
    env.run(&["scale", "wgs", "2", "--group", "gpu"]).ok();
    assert_eq!((deployed("default"), deployed("gpu")), (1, 2));
    assert!(
        s.with(|st| st.operator_errors.is_empty()),
        "{:?}",
        s.with(|st| st.operator_errors.clone())
    );
    env.run(&["scale", "wgs", "1", "--group", "big"]).code(2);
    env.run(&["delete", "wgs", "--yes"]).ok();
    assert!(
        s.with(|st| st.names("daskworkergroups").is_empty()),
        "the groups go with their cluster"
    );
    assert!(s.with(|st| st.names("pods").is_empty()));
}

/// Without the operator, each worker group is a worker Deployment of its own
/// (`NAME-worker-GROUP`) whose selector takes only its group's pods (`dask.org/workergroup-name`),
/// so the ReplicaSets never fight over pods; groups are rebuilt from those Deployments, scaled
/// one at a time (a scale down retires only that group's workers), and deleted with the cluster.
#[test]
fn native_worker_groups_are_a_deployment_each() {
    let Some((env, s)) = standin() else { return };
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "nwg",
        "--native",
        "--worker-group",
        "gpu:1:cpu=x",
    ])
    .code(2);
    assert!(
        s.with(|st| st.names("deployments").is_empty()),
        "nothing made"
    );
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "nwg",
        "--native",
        "--workers",
        "1",
        "--worker-group",
        "gpu:2:threads=4,cpu=4,gpus=1,image=ghcr.io/dask/dask:2024.1.0",
    ])
    .ok();
    let d = s
        .with(|st| st.get("deployments", "default", "nwg-worker-gpu").cloned())
        .expect("a worker Deployment nwg-worker-gpu");
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(
        d["spec"]["selector"]["matchLabels"]["dask.org/workergroup-name"],
        "gpu"
    );
    let default = s
        .with(|st| st.get("deployments", "default", "nwg-worker").cloned())
        .unwrap();
    assert_eq!(
        default["spec"]["selector"]["matchLabels"]["dask.org/workergroup-name"], "default",
        "the selectors do not overlap"
    );
    let container = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "ghcr.io/dask/dask:2024.1.0");
    assert_eq!(container["resources"]["limits"]["nvidia.com/gpu"], "1");
    let args = container["args"].to_string();
    assert!(args.contains("\"--resources\",\"gpu=4\""), "{args}");
    let groups = |env: &Env| crate::support::group_counts(env, "nwg");
    assert_eq!(
        groups(&env),
        vec![("default".into(), 1, 1), ("gpu".into(), 2, 2)]
    );
    env.run(&["scale", "nwg", "3", "--group", "gpu"]).ok();
    wait_until("3 gpu pods", Duration::from_secs(60), || {
        groups(&env) == vec![("default".into(), 1, 1), ("gpu".into(), 3, 3)]
    });
    // down: only the gpu group's pods go
    let default_pods = |st: &crate::support::kube::State| {
        st.names("pods")
            .into_iter()
            .filter(|p| p.starts_with("nwg-worker-") && !p.starts_with("nwg-worker-gpu"))
            .collect::<Vec<_>>()
    };
    let before = s.with(|st| default_pods(st));
    env.run(&["scale", "nwg", "1", "--group", "gpu"]).ok();
    wait_until("1 gpu pod", Duration::from_secs(60), || {
        groups(&env) == vec![("default".into(), 1, 1), ("gpu".into(), 1, 1)]
    });
    assert_eq!(
        s.with(|st| default_pods(st)),
        before,
        "the default group kept its pod"
    );
    env.run(&["scale", "nwg", "1", "--group", "big"]).code(2);
    env.run(&["delete", "nwg", "--yes"]).ok();
    assert!(s.with(|st| st.names("deployments").is_empty()));
    assert!(s.with(|st| st.names("pods").is_empty()));
}

/// A native cluster another user made (its Deployments annotated with their name): hidden
/// without the flag, listed with its owner with `--all-users`, deleted by `delete -u OWNER`,
/// which says whose it was.
#[test]
fn another_owners_native_cluster_needs_the_flag() {
    let Some((env, s)) = standin() else { return };
    env.run(&[
        "create",
        "kubernetes",
        "--name",
        "k8s-theirs",
        "--workers",
        "1",
        "--native",
    ])
    .ok();
    let owner = serde_json::json!({"metadata": {"annotations": {"daskctl.dev/owner": "alice"}}});
    s.with(|st| {
        for d in st.names("deployments") {
            if d.starts_with("k8s-theirs") {
                st.patch("deployments", "default", &d, &owner).unwrap();
            }
        }
    });
    assert!(
        env.find("k8s-theirs").is_none(),
        "another owner's is not listed"
    );
    let all = env.run(&["list", "-o", "json", "--all-users"]).ok().json();
    let theirs = all
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "k8s-theirs")
        .unwrap_or_else(|| panic!("{all}"))
        .clone();
    assert_eq!(theirs["owner"], "alice");
    env.run(&["delete", "k8s-theirs", "--yes"]).code(3);
    let o = env
        .run(&["delete", "k8s-theirs", "-u", "alice", "--yes"])
        .ok();
    assert!(o.stderr.contains("(user alice's)"), "{}", o.stderr);
    assert!(
        s.with(|st| st.names("deployments"))
            .iter()
            .all(|d| !d.starts_with("k8s-theirs")),
        "its Deployments are gone"
    );
}
