//! A stand-in Kubernetes API server, in the test process, for exactly what daskctl uses (no
//! API server can be installed on these machines). It follows the Kubernetes API reference
//! (https://kubernetes.io/docs/reference/using-api/api-concepts/ and the v1.30 API reference):
//! discovery (`/api`, `/apis`, `/apis/kubernetes.dask.org/v1`), list with `labelSelector`,
//! `limit`/`continue`, get, create (409 AlreadyExists, 422 Invalid), JSON merge patch and
//! replace with `resourceVersion` preconditions (409 Conflict), delete with owner-reference
//! cascade (the garbage collector), the `scale` subresource (autoscaling/v1 Scale), pod `log`
//! (`tailLines`), and `Status` objects for errors (404, 409, 422, 403).
//! It also plays the controllers a real cluster runs, as strictly as they behave:
//! - the Deployment controller owns one ReplicaSet per Deployment (`{deployment}-{hash}`, label
//!   `pod-template-hash`), and the ReplicaSet controller keeps `spec.replicas` Running pods
//!   (`{replicaset}-{suffix}`, owned by the ReplicaSet, containers from the template), deleting
//!   the lowest `controller.kubernetes.io/pod-deletion-cost`, then the newest, first;
//! - the dask-kubernetes operator, after dask/dask-kubernetes
//!   `dask_kubernetes/operator/controller/controller.py`: a DaskCluster goes to phase
//!   `Created`, then gets a scheduler Deployment and Service `{name}-scheduler` and a
//!   `{name}-default` DaskWorkerGroup (`daskcluster_create_components`), all carrying the
//!   DaskCluster's labels (`_get_labels`); phase `Pending`, then `Running` once the Service is
//!   there (`handle_scheduler_service_status`). A worker group runs each worker as its own
//!   Deployment `{group}-worker-{uuid}` (`build_worker_deployment_spec`: `DASK_WORKER_NAME` is
//!   set to that name only when the container does not set it), and scales down by retiring
//!   workers through the scheduler and deleting `Deployment(<retired worker name>)`
//!   (`daskworkergroup_replica_update`): a worker named otherwise is a 404 the operator retries
//!   forever (`operator_errors`), and the group never converges. A pod spec the API server
//!   refuses leaves the DaskCluster in phase `Created`.
//! - RBAC per resource: a resource may be listable cluster-wide or only in some namespaces.
//! - pod logs of a pod with several containers need `container` (400 otherwise).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct State {
    /// (plural, namespace, name) -> object
    objects: BTreeMap<(String, String, String), Value>,
    version: u64,
    pub crd: bool,
    /// Namespaces RBAC forbids; cluster-wide lists are then forbidden too.
    pub forbidden: Vec<String>,
    /// Resources (plurals) that may not be listed across namespaces (a `view` role without the
    /// operator's CRDs aggregated into it), though each namespace may be.
    pub cluster_wide_forbidden: Vec<String>,
    /// What the operator failed to do (it retries each on the next pass, as kopf does).
    pub operator_errors: Vec<String>,
    /// (plural, name): the next DELETE of it finds it deleted and created again (a new uid)
    /// just before, as another client would race daskctl between listing and acting.
    pub recreate_before_delete: Option<(String, String)>,
    /// Object names a validating admission webhook refuses (422, as a site policy does).
    pub refuse: Vec<String>,
    /// The next N scale updates answer 409 Conflict.
    pub conflicts: usize,
    pub conflicts_served: usize,
    pub requests: usize,
    seq: u64,
    /// (namespace, pod) -> the container's log lines so far
    logs: BTreeMap<(String, String), Vec<String>>,
}

pub struct StandIn {
    pub url: String,
    pub state: Arc<Shared>,
}

/// The token every request must bear (`Authorization: Bearer ...`), as the API server's token
/// authenticator requires; a kubeconfig from `StandIn::kubeconfig` carries it.
pub const TOKEN: &str = "standin-token";

/// The state and a condition variable that every change notifies (log followers wait on it).
#[derive(Default)]
pub struct Shared {
    state: Mutex<State>,
    changed: std::sync::Condvar,
}

fn kind_of(plural: &str) -> (&'static str, &'static str) {
    match plural {
        "pods" => ("Pod", "v1"),
        "services" => ("Service", "v1"),
        "namespaces" => ("Namespace", "v1"),
        "deployments" => ("Deployment", "apps/v1"),
        "replicasets" => ("ReplicaSet", "apps/v1"),
        "daskclusters" => ("DaskCluster", "kubernetes.dask.org/v1"),
        "daskworkergroups" => ("DaskWorkerGroup", "kubernetes.dask.org/v1"),
        "daskautoscalers" => ("DaskAutoscaler", "kubernetes.dask.org/v1"),
        "leases" => ("Lease", "coordination.k8s.io/v1"),
        _ => ("Unknown", "v1"),
    }
}

fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code}),
    )
}

fn not_found(plural: &str, name: &str) -> (u16, Value) {
    let (kind, api) = kind_of(plural);
    let group = api.split_once('/').map(|(g, _)| g).unwrap_or("");
    let what = if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    };
    let _ = kind;
    status(404, "NotFound", &format!("{what} \"{name}\" not found"))
}

fn merge(target: &mut Value, patch: &Value) {
    // RFC 7386 JSON merge patch
    if let Value::Object(p) = patch {
        if !target.is_object() {
            *target = json!({});
        }
        let t = target.as_object_mut().unwrap();
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    } else {
        *target = patch.clone();
    }
}

fn labels_match(o: &Value, selector: &str) -> bool {
    let labels = &o["metadata"]["labels"];
    selector.split(',').filter(|s| !s.is_empty()).all(|term| {
        if let Some((k, v)) = term.split_once("!=") {
            labels[k].as_str() != Some(v)
        } else if let Some((k, v)) = term.split_once('=') {
            labels[k.trim_end_matches('=')].as_str() == Some(v)
        } else if let Some(k) = term.strip_prefix('!') {
            labels.get(k).is_none()
        } else {
            labels.get(term).is_some()
        }
    })
}

fn query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The API server's validation of what daskctl sends (the API reference's field rules): a
/// Service's name is an RFC 1035 label (at most 63 characters, starting with a letter), and
/// resource quantities in a pod template may not be negative.
fn invalid(plural: &str, name: &str, o: &Value) -> Option<String> {
    if plural == "services"
        && (name.len() > 63 || !name.starts_with(|c: char| c.is_ascii_lowercase()))
    {
        return Some(format!(
            "metadata.name: Invalid value: \"{name}\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?'); must be no more than 63 characters"
        ));
    }
    if plural == "leases" {
        // kubernetes pkg/apis/coordination/validation/validation.go `ValidateLeaseSpec`
        if let Some(d) = o["spec"]["leaseDurationSeconds"].as_i64()
            && d <= 0
        {
            return Some(format!(
                "spec.leaseDurationSeconds: Invalid value: {d}: must be greater than 0"
            ));
        }
    }
    if plural == "daskautoscalers" {
        // the CRD's schema (dask_kubernetes/operator/customresources/daskautoscaler.yaml):
        // spec.cluster a string, spec.minimum and spec.maximum integers, all required
        let spec = &o["spec"];
        if !spec["cluster"].is_string() {
            return Some("spec.cluster: Required value".into());
        }
        for k in ["minimum", "maximum"] {
            if !spec[k].is_i64() && !spec[k].is_u64() {
                return Some(format!(
                    "spec.{k}: Invalid value: \"{}\": spec.{k} in body must be of type integer",
                    spec[k]
                ));
            }
        }
        return None;
    }
    let containers = match plural {
        "deployments" | "replicasets" => &o["spec"]["template"]["spec"]["containers"],
        "pods" => &o["spec"]["containers"],
        _ => return None,
    };
    let prefix = if plural == "pods" {
        "spec"
    } else {
        "spec.template.spec"
    };
    for (i, c) in containers.as_array().into_iter().flatten().enumerate() {
        for part in ["requests", "limits"] {
            if let Some(m) = c["resources"][part].as_object() {
                for (k, v) in m {
                    if v.as_str().is_some_and(|q| q.starts_with('-')) {
                        return Some(format!(
                            "{prefix}.containers[{i}].resources.{part}[{k}]: Invalid value: \"{}\": must be greater than or equal to 0",
                            v.as_str().unwrap()
                        ));
                    }
                }
            }
        }
    }
    None
}

impl State {
    fn bump(&mut self) -> String {
        self.version += 1;
        self.version.to_string()
    }

    fn now() -> String {
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
    }

    /// Stores a new object as the API server does on create, then lets the controllers act.
    pub fn insert(&mut self, plural: &str, ns: &str, o: Value) -> Result<Value, (u16, Value)> {
        let name = o["metadata"]["name"].as_str().unwrap_or("").to_string();
        self.put(plural, ns, o)?;
        self.reconcile();
        Ok(self.get(plural, ns, &name).cloned().unwrap_or(Value::Null))
    }

    fn put(&mut self, plural: &str, ns: &str, mut o: Value) -> Result<Value, (u16, Value)> {
        let name = o["metadata"]["name"].as_str().unwrap_or("").to_string();
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && !name.starts_with('-');
        let (kind, api) = kind_of(plural);
        if !valid {
            return Err(status(
                422,
                "Invalid",
                &format!(
                    "{kind}.{api} \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'"
                ),
            ));
        }
        if self.refuse.contains(&name) {
            return Err(status(
                422,
                "Invalid",
                &format!(
                    "admission webhook \"policy.example.org\" denied the request: {kind} {name} is not allowed"
                ),
            ));
        }
        if let Some(e) = invalid(plural, &name, &o) {
            return Err(status(
                422,
                "Invalid",
                &format!("{kind}.{api} \"{name}\" is invalid: {e}"),
            ));
        }
        let key = (plural.to_string(), ns.to_string(), name.clone());
        if self.objects.contains_key(&key) {
            let group = api
                .split_once('/')
                .map(|(g, _)| format!(".{g}"))
                .unwrap_or_default();
            return Err(status(
                409,
                "AlreadyExists",
                &format!("{plural}{group} \"{name}\" already exists"),
            ));
        }
        self.seq += 1;
        let rv = self.bump();
        let m = &mut o["metadata"];
        m["namespace"] = json!(ns);
        m["uid"] = json!(format!("00000000-0000-0000-0000-{:012}", self.seq));
        m["resourceVersion"] = json!(rv);
        m["creationTimestamp"] = json!(Self::now());
        m["generation"] = json!(1);
        o["kind"] = json!(kind);
        o["apiVersion"] = json!(api);
        if plural == "pods" {
            let lines = (1..=5)
                .map(|i| format!("{name}: distributed - INFO - line {i}"))
                .collect();
            self.logs.insert((ns.to_string(), name.clone()), lines);
        }
        // no reconcile here: controllers call put, and a nested pass would undo their work
        self.objects.insert(key, o.clone());
        Ok(o)
    }

    pub fn get(&self, plural: &str, ns: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(&(plural.to_string(), ns.to_string(), name.to_string()))
    }

    /// Changes an object as a JSON merge patch does (RFC 7386), then lets the controllers act.
    pub fn patch(&mut self, plural: &str, ns: &str, name: &str, patch: &Value) -> Option<Value> {
        let key = (plural.to_string(), ns.to_string(), name.to_string());
        let rv = self.bump();
        let o = self.objects.get_mut(&key)?;
        merge(o, patch);
        o["metadata"]["resourceVersion"] = json!(rv);
        let o = o.clone();
        self.reconcile();
        Some(o)
    }

    /// `PUT`: the object replaced as a whole, as the API server's update does
    /// (k8s.io/apiserver/pkg/registry/generic/registry/store.go `Update`): the body names the
    /// object (400 otherwise), a `resourceVersion` other than the stored one is a 409 Conflict,
    /// and what the server set (uid, creationTimestamp) is kept.
    pub fn replace(
        &mut self,
        plural: &str,
        ns: &str,
        name: &str,
        mut body: Value,
    ) -> Result<Value, (u16, Value)> {
        let key = (plural.to_string(), ns.to_string(), name.to_string());
        let Some(cur) = self.objects.get(&key).cloned() else {
            return Err(not_found(plural, name));
        };
        if body["metadata"]["name"].as_str() != Some(name) {
            return Err(status(
                400,
                "BadRequest",
                "the name of the object does not match the name on the URL",
            ));
        }
        if let Some(rv) = body["metadata"]["resourceVersion"].as_str()
            && Some(rv) != cur["metadata"]["resourceVersion"].as_str()
        {
            return Err(conflict(plural, name));
        }
        let (kind, api) = kind_of(plural);
        if let Some(e) = invalid(plural, name, &body) {
            return Err(status(
                422,
                "Invalid",
                &format!("{kind}.{api} \"{name}\" is invalid: {e}"),
            ));
        }
        for k in ["uid", "creationTimestamp", "namespace"] {
            body["metadata"][k] = cur["metadata"][k].clone();
        }
        body["kind"] = json!(kind);
        body["apiVersion"] = json!(api);
        body["metadata"]["resourceVersion"] = json!(self.bump());
        self.objects.insert(key, body.clone());
        self.reconcile();
        Ok(body)
    }

    /// The container of pod `name` writes a log line.
    pub fn log(&mut self, ns: &str, name: &str, line: &str) {
        if let Some(l) = self.logs.get_mut(&(ns.to_string(), name.to_string())) {
            l.push(line.to_string());
        }
    }

    /// Removes an object as `DELETE` does (a pod's container ends, its log followers finish).
    pub fn delete(&mut self, plural: &str, ns: &str, name: &str) -> Option<Value> {
        let gone = self.remove(plural, ns, name)?;
        self.reconcile();
        Some(gone)
    }

    pub fn names(&self, plural: &str) -> Vec<String> {
        self.objects
            .keys()
            .filter(|k| k.0 == plural)
            .map(|k| k.2.clone())
            .collect()
    }

    fn remove(&mut self, plural: &str, ns: &str, name: &str) -> Option<Value> {
        let o = self
            .objects
            .remove(&(plural.to_string(), ns.to_string(), name.to_string()))?;
        // the garbage collector: dependents go with their owner
        let uid = o["metadata"]["uid"].clone();
        let deps: Vec<(String, String, String)> = self
            .objects
            .iter()
            .filter(|(_, v)| {
                v["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|r| r["uid"] == uid))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for (p, n, x) in deps {
            self.remove(&p, &n, &x);
        }
        Some(o)
    }

    fn owner_ref(o: &Value) -> Value {
        json!([{"apiVersion": o["apiVersion"], "kind": o["kind"], "name": o["metadata"]["name"],
                "uid": o["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}])
    }

    /// Adds a pod in phase Running with one container (as a test would).
    pub fn pod(&mut self, ns: &str, name: &str, labels: Value, owner: Option<&Value>) {
        self.pod_with(ns, name, labels, json!([{"name": "dask"}]), owner);
    }

    fn pod_with(
        &mut self,
        ns: &str,
        name: &str,
        labels: Value,
        containers: Value,
        owner: Option<&Value>,
    ) {
        // the kubelet sets startTime when it takes the pod (pkg/kubelet/kubelet_pods.go,
        // generateAPIPodStatus: "if pod.Status.StartTime == nil ... StartTime = &now")
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let mut p = json!({"metadata": {"name": name, "labels": labels}, "spec": {"containers": containers},
                           "status": {"phase": "Running", "startTime": now}});
        if let Some(o) = owner {
            p["metadata"]["ownerReferences"] = Self::owner_ref(o);
        }
        let _ = self.put("pods", ns, p);
    }

    /// A Deployment as `kubectl create` makes one, which the controllers then run.
    pub fn deployment(
        &mut self,
        ns: &str,
        name: &str,
        labels: Value,
        replicas: u64,
        containers: Value,
    ) {
        let d = json!({"metadata": {"name": name, "labels": labels},
                       "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                                "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}}}});
        let _ = self.insert("deployments", ns, d);
    }

    /// Keeps `want` pods owned by `owner` with these labels: adds new ones, or removes the lowest
    /// deletion cost then the newest.
    fn keep_pods(&mut self, owner: &Value, ns: &str, labels: &Value, want: usize) {
        let uid = owner["metadata"]["uid"].clone();
        let mut mine: Vec<Value> = self
            .objects
            .iter()
            .filter(|(k, v)| {
                k.0 == "pods"
                    && k.1 == ns
                    && v["metadata"]["ownerReferences"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|r| r["uid"] == uid))
            })
            .map(|(_, v)| v.clone())
            .collect();
        while mine.len() < want {
            self.seq += 1;
            let name = format!(
                "{}-{:05x}",
                owner["metadata"]["name"].as_str().unwrap(),
                self.seq * 7919 % 0xfffff
            );
            let containers = owner["spec"]["template"]["spec"]["containers"].clone();
            let containers = if containers.is_array() {
                containers
            } else {
                json!([{"name": "dask"}])
            };
            self.pod_with(ns, &name, labels.clone(), containers, Some(owner));
            if let Some(p) = self.get("pods", ns, &name) {
                mine.push(p.clone());
            }
        }
        if mine.len() > want {
            let cost = |p: &Value| {
                p["metadata"]["annotations"]["controller.kubernetes.io/pod-deletion-cost"]
                    .as_str()
                    .and_then(|c| c.parse::<i64>().ok())
                    .unwrap_or(0)
            };
            let uidnum = |p: &Value| p["metadata"]["uid"].as_str().unwrap_or("").to_string();
            mine.sort_by_key(|p| (cost(p), std::cmp::Reverse(uidnum(p))));
            let extra = mine.len() - want;
            for p in mine.into_iter().take(extra) {
                let n = p["metadata"]["name"].as_str().unwrap().to_string();
                self.remove("pods", ns, &n);
            }
        }
    }

    /// What the controllers do after every change.
    fn reconcile(&mut self) {
        // what one controller makes (a worker group, a ReplicaSet) the next pass acts on:
        // DaskCluster -> Created -> components -> worker Deployments -> ReplicaSets -> pods
        for _ in 0..8 {
            self.reconcile_once();
        }
    }

    fn reconcile_once(&mut self) {
        let all: Vec<((String, String, String), Value)> = self
            .objects
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for ((plural, ns, name), o) in all {
            // an object deleted earlier in this pass (a dependent of one deleted) is gone
            if self.get(&plural, &ns, &name).is_none() {
                continue;
            }
            match plural.as_str() {
                "deployments" => self.deployment_controller(&ns, &name, &o),
                "replicasets" => {
                    let want = o["spec"]["replicas"].as_u64().unwrap_or(1) as usize;
                    let labels = o["spec"]["template"]["metadata"]["labels"].clone();
                    self.keep_pods(&o, &ns, &labels, want);
                    if let Some(r) =
                        self.objects
                            .get_mut(&(plural.clone(), ns.clone(), name.clone()))
                    {
                        r["status"] = json!({"replicas": want, "readyReplicas": want});
                    }
                }
                "daskclusters" => self.operator_cluster(&ns, &name, &o),
                "daskworkergroups" => self.operator_worker_group(&ns, &name, &o),
                "daskautoscalers" => self.operator_autoscaler(&ns, &name, &o),
                _ => {}
            }
        }
    }

    /// The Deployment controller: one ReplicaSet, owned by the Deployment, with its replicas
    /// and template (kubernetes/pkg/controller/deployment: `{name}-{pod-template-hash}`).
    fn deployment_controller(&mut self, ns: &str, name: &str, d: &Value) {
        let want = d["spec"]["replicas"].as_u64().unwrap_or(1);
        let uid = d["metadata"]["uid"].as_str().unwrap_or("0");
        let hash = format!(
            "{:x}",
            uid.bytes()
                .fold(5381u64, |h, b| h.wrapping_mul(33) ^ b as u64)
                % 0xffffffff
        );
        let rs_name = format!("{name}-{hash}");
        let mut template = d["spec"]["template"].clone();
        template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
        match self.get("replicasets", ns, &rs_name).cloned() {
            None => {
                let mut rs = json!({"metadata": {"name": rs_name, "labels": template["metadata"]["labels"].clone(),
                                                 "ownerReferences": Self::owner_ref(d)},
                                    "spec": {"replicas": want, "selector": d["spec"]["selector"].clone(), "template": template}});
                rs["metadata"]["annotations"] = d["metadata"]["annotations"].clone();
                let _ = self.put("replicasets", ns, rs);
            }
            Some(rs) if rs["spec"]["replicas"].as_u64() != Some(want) => {
                if let Some(r) =
                    self.objects
                        .get_mut(&("replicasets".into(), ns.into(), rs_name.clone()))
                {
                    r["spec"]["replicas"] = json!(want);
                }
            }
            Some(_) => {}
        }
        if let Some(x) = self
            .objects
            .get_mut(&("deployments".into(), ns.into(), name.into()))
        {
            x["status"] =
                json!({"replicas": want, "readyReplicas": want, "availableReplicas": want});
        }
    }

    /// The labels the operator copies from a DaskCluster onto what it makes (`_get_labels`).
    fn copied_labels(o: &Value, extra: Value) -> Value {
        let mut l = o["metadata"]["labels"].clone();
        if !l.is_object() {
            l = json!({});
        }
        merge(&mut l, &extra);
        l
    }

    /// `daskautoscaler_create` (controller.py): the cluster adopts its autoscaler, so deleting
    /// the cluster deletes it. The operator's 5-second timer that then asks the scheduler for
    /// `adaptive_target` and scales the default worker group is not played here: tests check
    /// the objects daskctl writes, not the operator's scaling.
    fn operator_autoscaler(&mut self, ns: &str, name: &str, a: &Value) {
        if a["metadata"]["ownerReferences"].is_array() {
            return;
        }
        let Some(cluster) = a["spec"]["cluster"].as_str() else {
            return;
        };
        let Some(dc) = self.get("daskclusters", ns, cluster).cloned() else {
            return;
        };
        if let Some(x) = self
            .objects
            .get_mut(&("daskautoscalers".into(), ns.into(), name.into()))
        {
            x["metadata"]["ownerReferences"] = Self::owner_ref(&dc);
        }
    }

    /// `daskcluster_create` and `daskcluster_create_components`.
    fn operator_cluster(&mut self, ns: &str, name: &str, dc: &Value) {
        let key = ("daskclusters".to_string(), ns.to_string(), name.to_string());
        let phase = dc["status"]["phase"].as_str().unwrap_or("").to_string();
        let set_phase = |st: &mut State, p: &str| {
            if let Some(c) = st.objects.get_mut(&key) {
                c["status"]["phase"] = json!(p);
            }
        };
        match phase.as_str() {
            "" => set_phase(self, "Created"),
            "Created" => {
                let sched = &dc["spec"]["scheduler"];
                let labels = Self::copied_labels(
                    dc,
                    json!({"dask.org/cluster-name": name, "dask.org/component": "scheduler"}),
                );
                let meta = json!({"name": format!("{name}-scheduler"), "labels": labels, "ownerReferences": Self::owner_ref(dc)});
                let deployment = json!({"metadata": meta,
                    "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                             "template": {"metadata": {"labels": labels}, "spec": sched["spec"].clone()}}});
                if self
                    .get("deployments", ns, &format!("{name}-scheduler"))
                    .is_none()
                    && let Err((_, e)) = self.put("deployments", ns, deployment)
                {
                    // the handler raises; kopf retries; the phase stays Created
                    self.operator_errors
                        .push(format!("DaskCluster {name}: {}", e["message"]));
                    return;
                }
                if self
                    .get("services", ns, &format!("{name}-scheduler"))
                    .is_none()
                {
                    let svc = json!({"metadata": meta, "spec": sched["service"].clone()});
                    let _ = self.put("services", ns, svc);
                }
                let wg = format!("{name}-default");
                if self.get("daskworkergroups", ns, &wg).is_none() {
                    let labels = Self::copied_labels(
                        dc,
                        json!({"dask.org/cluster-name": name, "dask.org/component": "workergroup"}),
                    );
                    let group = json!({"metadata": {"name": wg, "labels": labels, "ownerReferences": Self::owner_ref(dc)},
                                       "spec": {"cluster": name, "worker": dc["spec"]["worker"].clone()}});
                    let _ = self.put("daskworkergroups", ns, group);
                }
                set_phase(self, "Pending");
            }
            // a ClusterIP Service needs no load balancer: Running
            "Pending"
                if self
                    .get("services", ns, &format!("{name}-scheduler"))
                    .is_some() =>
            {
                set_phase(self, "Running")
            }
            _ => {}
        }
    }

    /// `daskworkergroup_replica_update`: one Deployment per worker; down retires through the
    /// scheduler and deletes `Deployment(<worker name>)`.
    fn operator_worker_group(&mut self, ns: &str, name: &str, wg: &Value) {
        let cluster = wg["spec"]["cluster"].as_str().unwrap_or("").to_string();
        let Some(dc) = self.get("daskclusters", ns, &cluster).cloned() else {
            return; // "No need to scale if cluster is deleted, pods will be cleaned up"
        };
        // `daskworkergroup_create`: `cluster.adopt(wg)`, so a worker group made beside the
        // cluster (KubeCluster.add_worker_group) is deleted with it
        if !wg["metadata"]["ownerReferences"].is_array()
            && let Some(x) =
                self.objects
                    .get_mut(&("daskworkergroups".into(), ns.into(), name.into()))
        {
            x["metadata"]["ownerReferences"] = Self::owner_ref(&dc);
        }
        let want = wg["spec"]["worker"]["replicas"].as_u64().unwrap_or(0) as usize;
        let mut current: Vec<Value> = self
            .objects
            .iter()
            .filter(|(k, v)| {
                k.0 == "deployments"
                    && k.1 == ns
                    && v["metadata"]["labels"]["dask.org/workergroup-name"] == name
            })
            .map(|(_, v)| v.clone())
            .collect();
        current.sort_by_key(|d| d["metadata"]["uid"].as_str().unwrap_or("").to_string());
        if current.len() < want {
            for _ in current.len()..want {
                self.seq += 1;
                let worker = format!(
                    "{name}-worker-{:010x}",
                    self.seq.wrapping_mul(0x9e3779b97f4a7c15) >> 24
                );
                let mut labels = wg["metadata"]["labels"].clone();
                if !labels.is_object() {
                    labels = json!({});
                }
                merge(&mut labels, &dc["metadata"]["labels"]);
                merge(
                    &mut labels,
                    &json!({"dask.org/cluster-name": cluster, "dask.org/workergroup-name": name, "dask.org/component": "worker"}),
                );
                let mut spec = wg["spec"]["worker"]["spec"].clone();
                for c in spec["containers"].as_array_mut().into_iter().flatten() {
                    let env = c["env"].as_array().cloned().unwrap_or_default();
                    let has = |n: &str| env.iter().any(|e| e["name"] == n);
                    let mut env2 = env.clone();
                    if !has("DASK_WORKER_NAME") {
                        env2.push(json!({"name": "DASK_WORKER_NAME", "value": worker}));
                    }
                    if !has("DASK_SCHEDULER_ADDRESS") {
                        env2.push(json!({"name": "DASK_SCHEDULER_ADDRESS", "value": format!("tcp://{cluster}-scheduler.{ns}.svc.cluster.local:8786")}));
                    }
                    c["env"] = json!(env2);
                }
                let d = json!({"metadata": {"name": worker, "labels": labels, "ownerReferences": Self::owner_ref(wg)},
                               "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                                        "template": {"metadata": {"labels": labels}, "spec": spec}}});
                if let Err((_, e)) = self.put("deployments", ns, d) {
                    self.operator_errors
                        .push(format!("DaskWorkerGroup {name}: {}", e["message"]));
                    return;
                }
            }
        } else if current.len() > want {
            // controller.py `daskworkergroup_replica_update` -> `retire_workers`: POST
            // /api/v1/retire_workers {"n": n} to the cluster's scheduler, which chooses among
            // ALL the cluster's workers (distributed's `workers_to_close` knows no groups: the
            // newest of the cluster, here), then deletes `Deployment(name)` for each name it
            // returns, whichever group that Deployment belongs to
            let n = current.len() - want;
            let mut all: Vec<Value> = self
                .objects
                .iter()
                .filter(|(k, v)| {
                    k.0 == "deployments"
                        && k.1 == ns
                        && v["metadata"]["labels"]["dask.org/cluster-name"] == cluster.as_str()
                        && v["metadata"]["labels"]["dask.org/component"] == "worker"
                })
                .map(|(_, v)| v.clone())
                .collect();
            all.sort_by_key(|d| d["metadata"]["uid"].as_str().unwrap_or("").to_string());
            let names: Vec<String> = all
                .iter()
                .rev()
                .take(n)
                .map(|d| self.dask_worker_name(ns, d))
                .collect();
            for w in names {
                if self.remove("deployments", ns, &w).is_none() {
                    self.operator_errors.push(format!(
                        "DaskWorkerGroup {name}: deployments \"{w}\" not found"
                    ));
                }
            }
        }
    }

    /// The name a worker's Dask process takes: `--name $(DASK_WORKER_NAME)`, from the container's
    /// environment (a value, or the pod's own name through a fieldRef).
    fn dask_worker_name(&self, ns: &str, d: &Value) -> String {
        let env = d["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let Some(e) = env.iter().find(|e| e["name"] == "DASK_WORKER_NAME") else {
            return d["metadata"]["name"].as_str().unwrap_or("").to_string();
        };
        if let Some(v) = e["value"].as_str() {
            return v.to_string();
        }
        // fieldRef metadata.name: the pod's name (the pod of this Deployment's ReplicaSet)
        let uid = &d["metadata"]["uid"];
        let rs_uid: Vec<Value> = self
            .objects
            .iter()
            .filter(|(k, v)| {
                k.0 == "replicasets"
                    && k.1 == ns
                    && v["metadata"]["ownerReferences"][0]["uid"] == *uid
            })
            .map(|(_, v)| v["metadata"]["uid"].clone())
            .collect();
        self.objects
            .iter()
            .find(|(k, v)| {
                k.0 == "pods"
                    && k.1 == ns
                    && rs_uid.contains(&v["metadata"]["ownerReferences"][0]["uid"])
            })
            .map(|(k, _)| k.2.clone())
            .unwrap_or_default()
    }
}

impl StandIn {
    pub fn start() -> StandIn {
        Self::serve_on(None)
    }

    /// Serving HTTPS with `pki`'s certificate (its SAN has IP 127.0.0.1), as a real API server
    /// does; what in-cluster configuration expects.
    pub fn start_tls(pki: &super::tls::Pki) -> StandIn {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(pki.cert())
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
        let key = PrivateKeyDer::from_pem_file(pki.key()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        Self::serve_on(Some(Arc::new(config)))
    }

    fn serve_on(tls: Option<Arc<rustls::ServerConfig>>) -> StandIn {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", l.local_addr().unwrap());
        let mut st = State::default();
        for ns in ["default", "team-a", "team-b"] {
            let _ = st.insert("namespaces", "", json!({"metadata": {"name": ns}}));
        }
        let state = Arc::new(Shared {
            state: Mutex::new(st),
            changed: Default::default(),
        });
        let s = state.clone();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let s = s.clone();
                let tls = tls.clone();
                std::thread::spawn(move || {
                    let _ = match tls {
                        Some(cfg) => rustls::ServerConnection::new(cfg)
                            .map_err(std::io::Error::other)
                            .and_then(|conn| serve(rustls::StreamOwned::new(conn, c), &s)),
                        None => serve(c, &s),
                    };
                });
            }
        });
        StandIn { url, state }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = f(&mut self.state.state.lock().unwrap());
        self.state.changed.notify_all();
        out
    }

    /// A kubeconfig pointing at this server, with contexts `standin` (namespace `default`, the
    /// current one) and `standin-team-a` (namespace `team-a`).
    pub fn kubeconfig(&self, path: &std::path::Path) {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: standin\n  cluster:\n    server: {}\nusers:\n- name: tester\n  user:\n    token: {TOKEN}\ncontexts:\n- name: standin\n  context:\n    cluster: standin\n    user: tester\n    namespace: default\n- name: standin-team-a\n  context:\n    cluster: standin\n    user: tester\n    namespace: team-a\ncurrent-context: standin\n",
            self.url
        );
        std::fs::write(path, text).unwrap();
    }
}

fn serve(c: impl Read + Write, shared: &Arc<Shared>) -> std::io::Result<()> {
    let mut r = BufReader::new(c);
    let bearer = format!("authorization: bearer {}", TOKEN.to_ascii_lowercase());
    while let Some((head, body)) = super::read_request(&mut r)? {
        let mut parts = head[0].split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let authenticated = head
            .iter()
            .any(|h| h.trim_end().to_ascii_lowercase() == bearer);
        let w = r.get_mut();
        let (code, ctype, out) = if !authenticated {
            // https://kubernetes.io/docs/reference/access-authn-authz/authentication/: a request
            // no authenticator accepts is answered 401 with a Status
            json_out(status(401, "Unauthorized", "Unauthorized"))
        } else {
            let mut st = shared.state.lock().unwrap();
            st.requests += 1;
            let reply = handle(&mut st, &method, &target, &body);
            shared.changed.notify_all();
            reply
        };
        if code == FOLLOW {
            follow(w, shared, &String::from_utf8_lossy(&out))?;
            continue;
        }
        write!(
            w,
            "HTTP/1.1 {code} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
            out.len()
        )?;
        w.write_all(&out)?;
    }
    Ok(())
}

/// handle()'s answer for a followed log: serve() streams it (the body names namespace and pod).
const FOLLOW: u16 = 0;

/// Streams a pod's log lines as they are written, in chunks, until the pod is gone (its
/// container ended), as the API server does for `log?follow=true`.
fn follow(w: &mut impl Write, shared: &Shared, what: &str) -> std::io::Result<()> {
    let (ns, pod, from) = {
        let mut p = what.splitn(3, '/');
        let ns = p.next().unwrap_or("").to_string();
        let pod = p.next().unwrap_or("").to_string();
        let from: usize = p.next().and_then(|x| x.parse().ok()).unwrap_or(0);
        (ns, pod, from)
    };
    write!(
        w,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    )?;
    let key = (ns.clone(), pod.clone());
    let mut sent = from;
    let mut st = shared.state.lock().unwrap();
    loop {
        let lines = st.logs.get(&key).cloned().unwrap_or_default();
        let alive = st.get("pods", &ns, &pod).is_some();
        if lines.len() > sent {
            let text: String = lines[sent..].iter().map(|l| format!("{l}\n")).collect();
            sent = lines.len();
            drop(st);
            write!(w, "{:x}\r\n{text}\r\n", text.len())?;
            w.flush()?;
            st = shared.state.lock().unwrap();
            continue;
        }
        if !alive {
            drop(st);
            write!(w, "0\r\n\r\n")?;
            return w.flush();
        }
        // a timeout only so a silent follower notices a closed connection eventually
        st = shared
            .changed
            .wait_timeout(st, std::time::Duration::from_secs(1))
            .unwrap()
            .0;
    }
}

fn json_out((code, v): (u16, Value)) -> (u16, &'static str, Vec<u8>) {
    (code, "application/json", serde_json::to_vec(&v).unwrap())
}

type Response = (u16, &'static str, Vec<u8>);

/// A request's target: `/api/v1/...` or `/apis/GROUP/VERSION/...`, namespaced or not, an
/// object's name and a subresource.
struct Target<'a> {
    ns: Option<&'a str>,
    plural: &'a str,
    name: Option<&'a str>,
    sub: Option<&'a str>,
}

fn handle(st: &mut State, method: &str, target: &str, body: &[u8]) -> Response {
    let (path, q) = target.split_once('?').unwrap_or((target, ""));
    let q = query(q);
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    if let Some(r) = discovery(st, &seg) {
        return json_out(r);
    }
    let t = match route(st, &seg) {
        Ok(t) => t,
        Err(r) => return json_out(r),
    };
    if let Some(r) = forbidden(st, method, &t) {
        return json_out(r);
    }
    let Target {
        ns,
        plural,
        name,
        sub,
    } = t;
    let nsv = ns.unwrap_or("");
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match (method, name, sub) {
        ("GET", None, _) => json_out(list(st, ns, plural, &q)),
        ("GET", Some(n), None) => match st.get(plural, nsv, n) {
            Some(o) => json_out((200, o.clone())),
            None => json_out(not_found(plural, n)),
        },
        ("GET", Some(n), Some("log")) if plural == "pods" => pod_log(st, nsv, n, &q),
        ("GET" | "PUT" | "PATCH", Some(n), Some("scale"))
            if matches!(plural, "deployments" | "daskworkergroups") =>
        {
            json_out(scale(st, method, plural, nsv, n, &body))
        }
        ("POST", None, _) => match st.insert(plural, nsv, body) {
            Ok(o) => json_out((201, o)),
            Err(e) => json_out(e),
        },
        ("PATCH", Some(n), None) => {
            let key = (plural.to_string(), nsv.to_string(), n.to_string());
            let Some(cur) = st.objects.get(&key).cloned() else {
                return json_out(not_found(plural, n));
            };
            if let Some(rv) = body["metadata"]["resourceVersion"].as_str()
                && Some(rv) != cur["metadata"]["resourceVersion"].as_str()
            {
                return json_out(conflict(plural, n));
            }
            let o = st.patch(plural, nsv, n, &body).expect("read above");
            json_out((200, o))
        }
        ("PUT", Some(n), None) => match st.replace(plural, nsv, n, body) {
            Ok(o) => json_out((200, o)),
            Err(e) => json_out(e),
        },
        ("DELETE", Some(n), None) => {
            // a race the test asked for: the object is deleted and created again (a new uid)
            // right before this request reaches it
            if st
                .recreate_before_delete
                .as_ref()
                .is_some_and(|(p, x)| p == plural && x == n)
            {
                st.recreate_before_delete = None;
                if let Some(old) = st.delete(plural, nsv, n) {
                    let mut again = old.clone();
                    for k in [
                        "uid",
                        "resourceVersion",
                        "creationTimestamp",
                        "deletionTimestamp",
                    ] {
                        if let Some(m) = again["metadata"].as_object_mut() {
                            m.remove(k);
                        }
                    }
                    let _ = st.insert(plural, nsv, again);
                }
            }
            // DeleteOptions.preconditions (apiserver registry/generic/registry/store.go:
            // `Delete` checks them against the stored object): 409 Conflict on a mismatch
            if let Some(cur) = st.get(plural, nsv, n) {
                let pre = &body["preconditions"];
                let differs = |k: &str| {
                    pre[k]
                        .as_str()
                        .is_some_and(|v| Some(v) != cur["metadata"][k].as_str())
                };
                if differs("uid") || differs("resourceVersion") {
                    return json_out(status(
                        409,
                        "Conflict",
                        &format!(
                            "Operation cannot be fulfilled on {plural} \"{n}\": Precondition failed: UID in precondition: {}, UID in object meta: {}",
                            pre["uid"].as_str().unwrap_or(""),
                            cur["metadata"]["uid"].as_str().unwrap_or("")
                        ),
                    ));
                }
            }
            match st.delete(plural, nsv, n) {
                Some(o) => json_out((200, o)),
                None => json_out(not_found(plural, n)),
            }
        }
        _ => json_out(status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )),
    }
}

/// "the object has been modified" (optimistic concurrency: a stale resourceVersion).
fn conflict(plural: &str, n: &str) -> (u16, Value) {
    status(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on {plural} \"{n}\": the object has been modified; please apply your changes to the latest version and try again"
        ),
    )
}

/// API discovery: `/api`, `/apis`, `/version` and each group version's resource list.
fn discovery(st: &State, seg: &[&str]) -> Option<(u16, Value)> {
    match seg {
        ["api"] => Some((
            200,
            json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}),
        )),
        ["apis"] => {
            let mut groups = vec![
                json!({"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}], "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}),
                json!({"name": "coordination.k8s.io", "versions": [{"groupVersion": "coordination.k8s.io/v1", "version": "v1"}], "preferredVersion": {"groupVersion": "coordination.k8s.io/v1", "version": "v1"}}),
            ];
            if st.crd {
                groups.push(json!({"name": "kubernetes.dask.org", "versions": [{"groupVersion": "kubernetes.dask.org/v1", "version": "v1"}], "preferredVersion": {"groupVersion": "kubernetes.dask.org/v1", "version": "v1"}}));
            }
            Some((
                200,
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
            ))
        }
        ["version"] => Some((
            200,
            json!({"major": "1", "minor": "30", "gitVersion": "v1.30.0", "platform": "linux/amd64"}),
        )),
        ["api", "v1"] => Some(resource_list(
            "v1",
            &[
                ("pods", "Pod", true),
                ("pods/log", "Pod", false),
                ("services", "Service", true),
                ("namespaces", "Namespace", true),
            ],
        )),
        ["apis", "apps", "v1"] => Some(resource_list(
            "apps/v1",
            &[
                ("deployments", "Deployment", true),
                ("deployments/scale", "Scale", false),
                ("replicasets", "ReplicaSet", true),
            ],
        )),
        ["apis", "coordination.k8s.io", "v1"] => Some(resource_list(
            "coordination.k8s.io/v1",
            &[("leases", "Lease", true)],
        )),
        ["apis", "kubernetes.dask.org", "v1"] if st.crd => Some(resource_list(
            "kubernetes.dask.org/v1",
            &[
                ("daskclusters", "DaskCluster", true),
                ("daskclusters/status", "DaskCluster", false),
                ("daskworkergroups", "DaskWorkerGroup", true),
                ("daskworkergroups/scale", "Scale", false),
                ("daskautoscalers", "DaskAutoscaler", true),
            ],
        )),
        _ => None,
    }
}

/// Where a request goes; 404 for a path the server does not serve.
fn route<'a>(st: &State, seg: &[&'a str]) -> Result<Target<'a>, (u16, Value)> {
    let missing = || {
        status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    };
    // /api/v1/... or /apis/G/V/...
    let rest: &[&str] = match seg {
        ["api", "v1", rest @ ..] => rest,
        ["apis", "apps", "v1", rest @ ..] => rest,
        // only Leases in this group (a plural of another group is the API server's 404)
        ["apis", "coordination.k8s.io", "v1", rest @ ..]
            if matches!(rest, ["namespaces", _, "leases", ..] | ["leases"]) =>
        {
            rest
        }
        ["apis", "kubernetes.dask.org", "v1", rest @ ..] if st.crd => rest,
        _ => return Err(missing()),
    };
    let t = |ns, plural, name, sub| Target {
        ns,
        plural,
        name,
        sub,
    };
    Ok(match *rest {
        ["namespaces"] => t(None, "namespaces", None, None),
        ["namespaces", n] => t(None, "namespaces", Some(n), None),
        ["namespaces", n, p] => t(Some(n), p, None, None),
        ["namespaces", n, p, x] => t(Some(n), p, Some(x), None),
        ["namespaces", n, p, x, s] => t(Some(n), p, Some(x), Some(s)),
        [p] => t(None, p, None, None),
        _ => return Err(missing()),
    })
}

/// RBAC: 403 in a forbidden namespace, and at the cluster scope when any namespace (or this
/// resource cluster-wide) is forbidden, with the API server's message.
fn forbidden(st: &State, method: &str, t: &Target) -> Option<(u16, Value)> {
    let Target {
        ns, plural, name, ..
    } = *t;
    let forbidden_ns = match ns {
        Some(n) => st.forbidden.iter().any(|f| f == n),
        None => {
            plural != "namespaces"
                && (!st.forbidden.is_empty()
                    || st.cluster_wide_forbidden.iter().any(|p| p == plural))
        }
    };
    if !forbidden_ns {
        return None;
    }
    let verb = match method {
        "GET" if name.is_none() => "list",
        "GET" => "get",
        "POST" => "create",
        "PATCH" => "patch",
        "PUT" => "update",
        _ => "delete",
    };
    let scope = match ns {
        Some(n) => format!("in the namespace \"{n}\""),
        None => "at the cluster scope".into(),
    };
    let group = kind_of(plural)
        .1
        .split_once('/')
        .map(|(g, _)| g)
        .unwrap_or("");
    Some(status(
        403,
        "Forbidden",
        &format!(
            "{plural} is forbidden: User \"tester\" cannot {verb} resource \"{plural}\" in API group \"{group}\" {scope}"
        ),
    ))
}

/// A list, filtered by label selector, in pages (`limit`, `continue`).
fn list(st: &State, ns: Option<&str>, plural: &str, q: &BTreeMap<String, String>) -> (u16, Value) {
    let sel = q.get("labelSelector").cloned().unwrap_or_default();
    let items: Vec<Value> = st
        .objects
        .iter()
        .filter(|(k, _)| k.0 == plural && ns.is_none_or(|n| k.1 == n))
        .filter(|(_, v)| labels_match(v, &sel))
        .map(|(_, v)| v.clone())
        .collect();
    let start: usize = q.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    let limit: usize = q
        .get("limit")
        .and_then(|c| c.parse().ok())
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(items.len());
    let mut meta = json!({"resourceVersion": st.version.to_string()});
    if end < items.len() {
        meta["continue"] = json!(end.to_string());
    }
    let (kind, api) = kind_of(plural);
    (
        200,
        json!({"kind": format!("{kind}List"), "apiVersion": api, "metadata": meta, "items": items[start..end]}),
    )
}

/// pods/log: refused while the container waits, a container required when there are several
/// (kubernetes/pkg/registry/core/pod/strategy.go, LogLocation), `tailLines`, `follow`.
fn pod_log(st: &State, nsv: &str, n: &str, q: &BTreeMap<String, String>) -> Response {
    let plural = "pods";
    match st.get(plural, nsv, n) {
        Some(p) if p["status"]["phase"] == "Pending" => json_out(status(
            400,
            "BadRequest",
            &format!("container \"dask\" in pod \"{n}\" is waiting to start: ContainerCreating"),
        )),
        // pods/log: "a container name must be specified for pod NAME, choose one of: [...]"
        // (kubernetes/pkg/registry/core/pod/strategy.go, LogLocation)
        Some(p)
            if p["spec"]["containers"]
                .as_array()
                .is_some_and(|c| c.len() > 1)
                && !q.contains_key("container") =>
        {
            let names: Vec<&str> = p["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c["name"].as_str())
                .collect();
            json_out(status(
                400,
                "BadRequest",
                &format!(
                    "a container name must be specified for pod {n}, choose one of: [{}]",
                    names.join(" ")
                ),
            ))
        }
        Some(p)
            if q.get("container").is_some_and(|c| {
                !p["spec"]["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|x| x["name"] == c.as_str())
            }) =>
        {
            json_out(status(
                400,
                "BadRequest",
                &format!("container {} is not valid for pod {n}", q["container"]),
            ))
        }
        Some(_) => {
            let lines = st
                .logs
                .get(&(nsv.to_string(), n.to_string()))
                .cloned()
                .unwrap_or_default();
            let tail: usize = q
                .get("tailLines")
                .and_then(|t| t.parse().ok())
                .unwrap_or(lines.len());
            let from = lines.len().saturating_sub(tail);
            if q.get("follow").is_some_and(|f| f == "true") {
                return (FOLLOW, "", format!("{nsv}/{n}/{from}").into_bytes());
            }
            let text: String = lines[from..].iter().map(|l| format!("{l}\n")).collect();
            (200, "text/plain", text.into_bytes())
        }
        None => json_out(not_found(plural, n)),
    }
}

/// The scale subresource of a Deployment or DaskWorkerGroup: GET reads it; PUT and PATCH set
/// `spec.replicas` (PUT with a stale resourceVersion, or an injected conflict, is a 409).
fn scale(
    st: &mut State,
    method: &str,
    plural: &str,
    nsv: &str,
    n: &str,
    body: &Value,
) -> (u16, Value) {
    let Some(o) = st.get(plural, nsv, n).cloned() else {
        return not_found(plural, n);
    };
    let path: &[&str] = if plural == "deployments" {
        &["spec", "replicas"]
    } else {
        &["spec", "worker", "replicas"]
    };
    let current = path.iter().fold(&o, |v, k| &v[*k]).as_u64().unwrap_or(0);
    if method != "GET" {
        if st.conflicts > 0 {
            st.conflicts -= 1;
            st.conflicts_served += 1;
            return conflict(plural, n);
        }
        if method == "PUT"
            && body["metadata"]["resourceVersion"]
                .as_str()
                .is_some_and(|rv| Some(rv) != o["metadata"]["resourceVersion"].as_str())
        {
            return conflict(plural, n);
        }
        let Some(want) = body["spec"]["replicas"].as_u64() else {
            return status(
                422,
                "Invalid",
                "Scale.autoscaling \"\" is invalid: spec.replicas: Required value",
            );
        };
        let rv = st.bump();
        let obj = st
            .objects
            .get_mut(&(plural.to_string(), nsv.to_string(), n.to_string()))
            .unwrap();
        let mut t = &mut *obj;
        for k in &path[..path.len() - 1] {
            t = &mut t[*k];
        }
        t[path[path.len() - 1]] = json!(want);
        obj["metadata"]["resourceVersion"] = json!(rv);
        st.reconcile();
        let o = st.get(plural, nsv, n).unwrap().clone();
        return (200, scale_of(&o, want));
    }
    (200, scale_of(&o, current))
}

/// An `APIResourceList`: (name, kind, whether it is a full resource or a subresource).
fn resource_list(group_version: &str, resources: &[(&str, &str, bool)]) -> (u16, Value) {
    let all = json!([
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch"
    ]);
    let sub = json!(["get", "patch", "update"]);
    let items: Vec<Value> = resources
        .iter()
        .map(|(name, kind, full)| {
            let singular = if *full {
                kind.to_lowercase()
            } else {
                String::new()
            };
            json!({"name": name, "singularName": singular, "namespaced": *name != "namespaces",
                   "kind": kind, "verbs": if *full { all.clone() } else { sub.clone() }})
        })
        .collect();
    (
        200,
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": items}),
    )
}

fn scale_of(o: &Value, replicas: u64) -> Value {
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
           "metadata": {"name": o["metadata"]["name"], "namespace": o["metadata"]["namespace"],
                        "uid": o["metadata"]["uid"], "resourceVersion": o["metadata"]["resourceVersion"],
                        "creationTimestamp": o["metadata"]["creationTimestamp"]},
           "spec": {"replicas": replicas}, "status": {"replicas": replicas}})
}

impl super::Env {
    /// An environment whose kubeconfig points at a fresh stand-in API server (or, with
    /// DASKCTL_TEST_KUBECONFIG, at a real cluster: then the stand-in is None).
    /// Only the kubernetes backend, and no kubeconfig yet: other tests' Dask processes and
    /// clouds stay out of its listings.
    pub fn kubernetes_only() -> super::Env {
        super::Env::new()
            .without_batch()
            .with("DASKCTL_BACKENDS__LOCAL__ENABLED", "false")
            .with("DASKCTL_BACKENDS__AWS__ENABLED", "false")
    }

    pub fn kube() -> (super::Env, Option<StandIn>) {
        let env = super::Env::kubernetes_only();
        if let Ok(real) = std::env::var("DASKCTL_TEST_KUBECONFIG") {
            return (env.with("KUBECONFIG", &real), None);
        }
        let s = StandIn::start();
        let path = env.dir.path().join("kubeconfig");
        s.kubeconfig(&path);
        (env, Some(s))
    }
}
