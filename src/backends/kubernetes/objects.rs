//! The kinds daskctl reads and writes, as dynamic objects (one code path for built-in kinds and
//! the dask-kubernetes CRDs), the labels that tie them to clusters, and the objects `create`
//! makes.

use super::client::{GROUP, VERSION};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};

pub const CLUSTER_LABEL: &str = "dask.org/cluster-name";
pub const COMPONENT_LABEL: &str = "dask.org/component";
pub const WORKERGROUP_LABEL: &str = "dask.org/workergroup-name";
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const EXPIRES: &str = "daskctl.dev/expires";
pub const OWNER: &str = "daskctl.dev/owner";
/// On the scheduler Deployment: the cluster's autoscaling policy (JSON), see policy.rs.
pub const POLICY: &str = "daskctl.dev/policy";
pub const SCHEDULER_PORT: u16 = 8786;
pub const DASHBOARD_PORT: u16 = 8787;

fn res(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    let mut r = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    r.plural = plural.to_string();
    r
}

pub fn pods() -> ApiResource {
    res("", "v1", "Pod", "pods")
}
pub fn services() -> ApiResource {
    res("", "v1", "Service", "services")
}
pub fn deployments() -> ApiResource {
    res("apps", "v1", "Deployment", "deployments")
}
pub fn replica_sets() -> ApiResource {
    res("apps", "v1", "ReplicaSet", "replicasets")
}
pub fn dask_clusters() -> ApiResource {
    res(GROUP, VERSION, "DaskCluster", "daskclusters")
}
pub fn worker_groups() -> ApiResource {
    res(GROUP, VERSION, "DaskWorkerGroup", "daskworkergroups")
}
pub fn autoscalers() -> ApiResource {
    res(GROUP, VERSION, "DaskAutoscaler", "daskautoscalers")
}

pub fn label<'a>(o: &'a DynamicObject, k: &str) -> Option<&'a str> {
    o.metadata.labels.as_ref()?.get(k).map(String::as_str)
}

pub fn annotation<'a>(o: &'a DynamicObject, k: &str) -> Option<&'a str> {
    o.metadata.annotations.as_ref()?.get(k).map(String::as_str)
}

pub fn name(o: &DynamicObject) -> &str {
    o.metadata.name.as_deref().unwrap_or("")
}

pub fn namespace(o: &DynamicObject) -> &str {
    o.metadata.namespace.as_deref().unwrap_or("default")
}

pub fn path<'a>(o: &'a DynamicObject, keys: &[&str]) -> Option<&'a Value> {
    let mut v = &o.data;
    for k in keys {
        v = v.get(k)?;
    }
    Some(v)
}

/// What `create` makes: the Dask container's command line and resources.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub namespace: String,
    pub image: String,
    pub workers: u32,
    pub threads: Option<u32>,
    pub memory: Option<u64>,
    /// `cpu=2,memory=4Gi` style requests/limits for the worker container.
    pub resources: Option<Value>,
    pub owner: String,
    pub expires: Option<String>,
    /// `create --idle-timeout`, seconds: the operator's `DaskCluster.spec.idleTimeout` (its
    /// `daskcluster_autoshutdown` timer deletes the cluster once the scheduler idled that long).
    pub idle_timeout: Option<u64>,
    /// Worker groups beside the default one: a `DaskWorkerGroup` each (operator only).
    pub groups: Vec<crate::groups::GroupSpec>,
}

/// What a worker group takes on Kubernetes besides threads and memory: the worker container's
/// CPU and GPU (`nvidia.com/gpu`) requests and limits, and its image.
pub const GROUP_KEYS: &[&str] = &["cpu", "gpus", "image"];

impl Spec {
    fn labels(&self, component: &str) -> Value {
        json!({
            CLUSTER_LABEL: self.name,
            COMPONENT_LABEL: component,
            MANAGED_BY: "daskctl",
        })
    }

    fn annotations(&self) -> Value {
        let mut a = json!({ OWNER: self.owner });
        if let Some(e) = &self.expires {
            a[EXPIRES] = json!(e);
        }
        a
    }

    fn worker_args(&self, group: Option<&crate::groups::GroupSpec>) -> Vec<String> {
        let threads = group.and_then(|g| g.threads).or(self.threads);
        let memory = group.and_then(|g| g.memory).or(self.memory);
        let mut args = vec![
            "dask".to_string(),
            "worker".into(),
            format!(
                "tcp://{}-scheduler.{}.svc.cluster.local:{SCHEDULER_PORT}",
                self.name, self.namespace
            ),
            "--name".into(),
            "$(DASK_WORKER_NAME)".into(),
        ];
        if let Some(t) = threads {
            args.extend(["--nthreads".into(), t.to_string()]);
        }
        if let Some(m) = memory {
            args.extend(["--memory-limit".into(), m.to_string()]);
        }
        if let Some(g) = group {
            // tasks target the group with resources={GROUP: 1}
            args.extend([
                "--resources".into(),
                crate::groups::resource(&g.name, threads.unwrap_or(1)),
            ]);
        }
        args
    }

    /// The worker container. In daskctl's own Deployments a worker is named after its pod. In a
    /// DaskCluster the operator names it: it sets `DASK_WORKER_NAME` to the worker's own
    /// Deployment (`{group}-worker-{uuid}`) only when the container does not set it, and on
    /// scale-down deletes `Deployment(<retired worker's name>)` (dask-kubernetes
    /// `operator/controller/controller.py`, `build_worker_deployment_spec` and
    /// `daskworkergroup_replica_update`): a pod name there is a 404 retried forever.
    fn worker_container(&self, native: bool, group: Option<&crate::groups::GroupSpec>) -> Value {
        let image = group
            .and_then(|g| g.options.get("image"))
            .unwrap_or(&self.image);
        let mut c = json!({
            "name": "worker",
            "image": image,
            "args": self.worker_args(group),
        });
        if native {
            c["env"] = json!([{"name": "DASK_WORKER_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]);
        }
        match group.map(group_resources) {
            Some(Some(r)) => c["resources"] = r,
            _ => {
                if let Some(r) = &self.resources {
                    c["resources"] = r.clone();
                }
            }
        }
        c
    }

    /// The `DaskWorkerGroup`s of the groups beside the default one, as `KubeCluster.add_worker_group`
    /// makes them (`{cluster}-{group}`, `spec.cluster`); the operator adopts each into its
    /// DaskCluster (`daskworkergroup_create`), so they are deleted with it.
    pub fn worker_groups(&self) -> Vec<Value> {
        self.groups
            .iter()
            .map(|g| {
                json!({
                    "apiVersion": format!("{GROUP}/{VERSION}"),
                    "kind": "DaskWorkerGroup",
                    "metadata": {"name": format!("{}-{}", self.name, g.name), "namespace": self.namespace,
                                 "labels": {MANAGED_BY: "daskctl", CLUSTER_LABEL: self.name, COMPONENT_LABEL: "workergroup"},
                                 "annotations": self.annotations()},
                    "spec": {
                        "cluster": self.name,
                        "worker": {"replicas": g.workers, "spec": {"containers": [self.worker_container(false, Some(g))]}},
                    },
                })
            })
            .collect()
    }

    fn scheduler_container(&self) -> Value {
        json!({
            "name": "scheduler",
            "image": self.image,
            "args": ["dask", "scheduler", "--port", SCHEDULER_PORT.to_string(), "--dashboard-address", format!(":{DASHBOARD_PORT}")],
            "ports": [
                {"name": "tcp-comm", "containerPort": SCHEDULER_PORT, "protocol": "TCP"},
                {"name": "http-dashboard", "containerPort": DASHBOARD_PORT, "protocol": "TCP"},
            ],
        })
    }

    fn service_spec(&self) -> Value {
        json!({
            "selector": {CLUSTER_LABEL: self.name, COMPONENT_LABEL: "scheduler"},
            "ports": [
                {"name": "tcp-comm", "port": SCHEDULER_PORT, "targetPort": "tcp-comm", "protocol": "TCP"},
                {"name": "http-dashboard", "port": DASHBOARD_PORT, "targetPort": "http-dashboard", "protocol": "TCP"},
            ],
        })
    }

    /// A `DaskCluster` for the dask-kubernetes operator (its `kubernetes.dask.org/v1` schema).
    pub fn dask_cluster(&self) -> Value {
        let mut dc = json!({
            "apiVersion": format!("{GROUP}/{VERSION}"),
            "kind": "DaskCluster",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": {MANAGED_BY: "daskctl"}, "annotations": self.annotations()},
            "spec": {
                "worker": {"replicas": self.workers, "spec": {"containers": [self.worker_container(false, None)]}},
                "scheduler": {
                    "spec": {"containers": [self.scheduler_container()]},
                    "service": {"type": "ClusterIP", "selector": {CLUSTER_LABEL: self.name, COMPONENT_LABEL: "scheduler"}, "ports": self.service_spec()["ports"]},
                },
            },
        });
        if let Some(t) = self.idle_timeout {
            dc["spec"]["idleTimeout"] = json!(t);
        }
        dc
    }

    fn deployment(&self, component: &str, replicas: u32, container: Value) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": format!("{}-{component}", self.name), "namespace": self.namespace, "labels": self.labels(component), "annotations": self.annotations()},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {CLUSTER_LABEL: self.name, COMPONENT_LABEL: component}},
                "template": {"metadata": {"labels": self.labels(component)}, "spec": {"containers": [container]}},
            },
        })
    }

    /// Without the operator: scheduler Deployment and Service, worker Deployment.
    pub fn native(&self) -> Vec<(ApiResource, Value)> {
        vec![
            (
                deployments(),
                self.deployment("scheduler", 1, self.scheduler_container()),
            ),
            (
                services(),
                json!({
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": format!("{}-scheduler", self.name), "namespace": self.namespace, "labels": self.labels("scheduler")},
                    "spec": self.service_spec(),
                }),
            ),
            (deployments(), self.worker_deployment(None)),
        ]
        .into_iter()
        .chain(
            self.groups
                .iter()
                .map(|g| (deployments(), self.worker_deployment(Some(g)))),
        )
        .collect()
    }

    /// A worker Deployment of daskctl's own: `NAME-worker` for the default group,
    /// `NAME-worker-GROUP` for another. Each selects its own group's pods by
    /// `dask.org/workergroup-name` (selectors of two Deployments must not overlap, or their
    /// ReplicaSets fight over the pods).
    fn worker_deployment(&self, group: Option<&crate::groups::GroupSpec>) -> Value {
        let g = group.map_or(crate::groups::DEFAULT, |g| g.name.as_str());
        let name = match group {
            None => format!("{}-worker", self.name),
            Some(x) => format!("{}-worker-{}", self.name, x.name),
        };
        let mut labels = self.labels("worker");
        labels[WORKERGROUP_LABEL] = json!(g);
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": self.namespace, "labels": labels, "annotations": self.annotations()},
            "spec": {
                "replicas": group.map_or(self.workers, |x| x.workers),
                "selector": {"matchLabels": {CLUSTER_LABEL: self.name, COMPONENT_LABEL: "worker", WORKERGROUP_LABEL: g}},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [self.worker_container(true, group)]}},
            },
        })
    }
}

/// A group's container requests and limits from its `cpu`, `gpus` and memory; None when it
/// gives none (it keeps the cluster's `--resources`).
fn group_resources(g: &crate::groups::GroupSpec) -> Option<Value> {
    let cpu = g.options.get("cpu");
    let gpus = g.options.get("gpus");
    if cpu.is_none() && gpus.is_none() && g.memory.is_none() {
        return None;
    }
    let mut requests = json!({});
    if let Some(c) = cpu {
        requests["cpu"] = json!(c);
    }
    if let Some(m) = g.memory {
        requests["memory"] = json!(m.to_string());
    }
    let mut limits = requests.clone();
    if let Some(n) = gpus {
        limits["nvidia.com/gpu"] = json!(n);
    }
    Some(json!({"requests": requests, "limits": limits}))
}

/// A group's Kubernetes settings, checked: quantities the API server reads, an image.
pub fn check_group(g: &crate::groups::GroupSpec) -> Result<(), String> {
    if let Some(c) = g.options.get("cpu") {
        check_quantity(c).map_err(|e| format!("worker group {}: cpu: {e}", g.name))?;
    }
    if let Some(n) = g.options.get("gpus")
        && !n.parse::<u32>().is_ok_and(|n| (1..=64).contains(&n))
    {
        return Err(format!(
            "worker group {}: invalid gpus {n:?}: 1 to 64",
            g.name
        ));
    }
    if let Some(i) = g.options.get("image") {
        crate::names::check_image(i).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `cpu=2,memory=4Gi` -> requests and limits of the worker container.
pub fn parse_resources(s: &str) -> Result<Value, String> {
    let mut m = serde_json::Map::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("invalid --resources item {part:?}: expected NAME=QUANTITY"))?;
        let ok = |x: &str| {
            !x.is_empty()
                && x.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "./-_".contains(c))
        };
        if !ok(k) || !ok(v) {
            return Err(format!("invalid --resources item {part:?}"));
        }
        check_quantity(v).map_err(|why| format!("invalid --resources {k}={v}: {why}"))?;
        m.insert(k.to_string(), json!(v));
    }
    Ok(json!({"requests": m.clone(), "limits": m}))
}

/// A resource quantity as the API server parses it (apimachinery `resource.Quantity`:
/// `<signedNumber><suffix>`, suffix one of Ki Mi Gi Ti Pi Ei, m k M G T P E, or an exponent
/// `e<n>`), and not negative (a container's requests and limits must be `>= 0`). Checked before
/// anything is created: the DaskCluster CRD accepts any pod spec, and the operator would then
/// fail on it forever, leaving the cluster in phase `Created`.
pub fn check_quantity(q: &str) -> Result<(), String> {
    let (sign, rest) = match q.strip_prefix('-') {
        Some(r) => ('-', r),
        None => ('+', q.strip_prefix('+').unwrap_or(q)),
    };
    let n = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(n);
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let number_ok = digits > 0 && number.matches('.').count() <= 1;
    let exponent_ok = |e: &str| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    };
    let suffix_ok = matches!(
        suffix,
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "m" | "k" | "M" | "G" | "T" | "P" | "E"
    ) || suffix.strip_prefix(['e', 'E']).is_some_and(exponent_ok);
    if !(number_ok && suffix_ok) {
        return Err("not a Kubernetes quantity (examples: 2, 500m, 4Gi, 1.5)".into());
    }
    if sign == '-' && number.chars().any(|c| c.is_ascii_digit() && c != '0') {
        return Err("must be greater than or equal to 0".into());
    }
    Ok(())
}

/// A quantity's value (`500m` -> 0.5, `2` -> 2, `1e3` -> 1000, `1Ki` -> 1024); None for
/// anything `check_quantity` refuses.
pub fn quantity_value(q: &str) -> Option<f64> {
    check_quantity(q).ok()?;
    let n = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(n);
    let v: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e => 10f64.powi(e[1..].parse::<i32>().ok()?),
    };
    Some(v * scale)
}

/// The CPU a pod asks for: the sum of its containers' `resources.requests.cpu` (the API
/// server defaults a request to the limit when only the limit is given). None when no
/// container requests CPU (a best-effort pod holds no cores of its own).
pub fn pod_cpu(p: &DynamicObject) -> Option<f64> {
    let containers = path(p, &["spec", "containers"])?.as_array()?;
    let cpus: Vec<f64> = containers
        .iter()
        .filter_map(|c| {
            let r = c.get("resources")?;
            let q = r
                .pointer("/requests/cpu")
                .or_else(|| r.pointer("/limits/cpu"))?;
            match q {
                Value::String(s) => quantity_value(s),
                Value::Number(n) => n.as_f64(),
                _ => None,
            }
        })
        .collect();
    (!cpus.is_empty()).then(|| cpus.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_values() {
        assert_eq!(quantity_value("500m"), Some(0.5));
        assert_eq!(quantity_value("2"), Some(2.0));
        assert_eq!(quantity_value("1.5"), Some(1.5));
        assert_eq!(quantity_value("1e3"), Some(1000.0));
        assert_eq!(quantity_value("1Ki"), Some(1024.0));
        assert_eq!(quantity_value("two"), None);
    }

    #[test]
    fn quantities_as_the_api_server_reads_them() {
        for ok in [
            "2",
            "500m",
            "4Gi",
            "1.5",
            "0",
            "1e3",
            "+1",
            "128974848",
            "129e6",
            "123Mi",
        ] {
            check_quantity(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in ["-1", "-0.5", "1x", "", "Gi", "1..2", "1e", "2 Gi", "1GB"] {
            assert!(check_quantity(bad).is_err(), "{bad}");
        }
        assert!(parse_resources("cpu=-1").is_err());
        assert!(parse_resources("cpu=2,memory=4Gi").is_ok());
    }
}
