//! A stand-in Kubernetes API server, in the test process, for exactly what daskctl uses (no
//! API server can be installed on these machines). It follows the Kubernetes API reference
//! (https://kubernetes.io/docs/reference/using-api/api-concepts/ and the v1.30 API reference):
//! discovery (`/api`, `/apis`, `/apis/kubernetes.dask.org/v1`), list with `labelSelector`,
//! `limit`/`continue`, get, create (409 AlreadyExists, 422 Invalid), JSON merge patch and
//! replace with `resourceVersion` preconditions (409 Conflict), delete with owner-reference
//! cascade (the garbage collector), the `scale` subresource (autoscaling/v1 Scale), pod `log`
//! (`tailLines`), and `Status` objects for errors (404, 409, 422, 403).
//! It also plays the controllers a real cluster runs: a Deployment keeps `spec.replicas`
//! Running pods (deleting the lowest `controller.kubernetes.io/pod-deletion-cost`, then the
//! newest, first), and the dask-kubernetes operator turns a DaskCluster into a scheduler pod,
//! Service and a `{name}-default` DaskWorkerGroup whose replicas are worker pods.

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
        "daskclusters" => ("DaskCluster", "kubernetes.dask.org/v1"),
        "daskworkergroups" => ("DaskWorkerGroup", "kubernetes.dask.org/v1"),
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
    let containers = match plural {
        "deployments" => &o["spec"]["template"]["spec"]["containers"],
        "pods" => &o["spec"]["containers"],
        _ => return None,
    };
    let prefix = if plural == "deployments" {
        "spec.template.spec"
    } else {
        "spec"
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

    /// Adds a pod in phase Running (as a test or a controller would).
    pub fn pod(&mut self, ns: &str, name: &str, labels: Value, owner: Option<&Value>) {
        let mut p = json!({"metadata": {"name": name, "labels": labels}, "spec": {"containers": [{"name": "dask"}]},
                           "status": {"phase": "Running"}});
        if let Some(o) = owner {
            p["metadata"]["ownerReferences"] = Self::owner_ref(o);
        }
        let _ = self.put("pods", ns, p);
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
            self.pod(ns, &name, labels.clone(), Some(owner));
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
        // objects one controller makes (a worker group) are acted on by the next pass
        for _ in 0..3 {
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
            match plural.as_str() {
                "deployments" => {
                    let want = o["spec"]["replicas"].as_u64().unwrap_or(1) as usize;
                    let labels = o["spec"]["template"]["metadata"]["labels"].clone();
                    self.keep_pods(&o, &ns, &labels, want);
                    if let Some(d) =
                        self.objects
                            .get_mut(&(plural.clone(), ns.clone(), name.clone()))
                    {
                        d["status"] = json!({"replicas": want, "readyReplicas": want, "availableReplicas": want});
                    }
                }
                "daskclusters" => {
                    let wg = format!("{name}-default");
                    if self.get("daskworkergroups", &ns, &wg).is_none()
                        && o["status"]["phase"].is_null()
                    {
                        let group = json!({"metadata": {"name": wg, "labels": {"dask.org/cluster-name": name},
                                                        "ownerReferences": Self::owner_ref(&o)},
                                           "spec": {"cluster": name, "worker": o["spec"]["worker"].clone()}});
                        let _ = self.put("daskworkergroups", &ns, group);
                        let sched = json!({"metadata": {"name": format!("{name}-scheduler"), "labels": {"dask.org/cluster-name": name, "dask.org/component": "scheduler"},
                                                        "ownerReferences": Self::owner_ref(&o)},
                                           "spec": {"selector": {"dask.org/cluster-name": name, "dask.org/component": "scheduler"}, "ports": [{"port": 8786}]}});
                        let _ = self.put("services", &ns, sched);
                        let labels = json!({"dask.org/cluster-name": name, "dask.org/component": "scheduler"});
                        self.pod(&ns, &format!("{name}-scheduler"), labels, Some(&o));
                        if let Some(c) =
                            self.objects
                                .get_mut(&(plural.clone(), ns.clone(), name.clone()))
                        {
                            c["status"] = json!({"phase": "Running"});
                        }
                    }
                }
                "daskworkergroups" => {
                    let want = o["spec"]["worker"]["replicas"].as_u64().unwrap_or(0) as usize;
                    let cluster = o["spec"]["cluster"].as_str().unwrap_or("").to_string();
                    let labels = json!({"dask.org/cluster-name": cluster, "dask.org/component": "worker", "dask.org/workergroup-name": name});
                    self.keep_pods(&o, &ns, &labels, want);
                }
                _ => {}
            }
        }
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

fn handle(st: &mut State, method: &str, target: &str, body: &[u8]) -> (u16, &'static str, Vec<u8>) {
    let (path, q) = target.split_once('?').unwrap_or((target, ""));
    let q = query(q);
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    match seg.as_slice() {
        ["api"] => {
            return json_out((
                200,
                json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}),
            ));
        }
        ["apis"] => {
            let mut groups = vec![
                json!({"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}], "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}),
            ];
            if st.crd {
                groups.push(json!({"name": "kubernetes.dask.org", "versions": [{"groupVersion": "kubernetes.dask.org/v1", "version": "v1"}], "preferredVersion": {"groupVersion": "kubernetes.dask.org/v1", "version": "v1"}}));
            }
            return json_out((
                200,
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
            ));
        }
        ["version"] => {
            return json_out((
                200,
                json!({"major": "1", "minor": "30", "gitVersion": "v1.30.0", "platform": "linux/amd64"}),
            ));
        }
        ["api", "v1"] => {
            return json_out(resource_list(
                "v1",
                &[
                    ("pods", "Pod", true),
                    ("pods/log", "Pod", false),
                    ("services", "Service", true),
                    ("namespaces", "Namespace", true),
                ],
            ));
        }
        ["apis", "apps", "v1"] => {
            return json_out(resource_list(
                "apps/v1",
                &[
                    ("deployments", "Deployment", true),
                    ("deployments/scale", "Scale", false),
                ],
            ));
        }
        ["apis", "kubernetes.dask.org", "v1"] if st.crd => {
            return json_out(resource_list(
                "kubernetes.dask.org/v1",
                &[
                    ("daskclusters", "DaskCluster", true),
                    ("daskclusters/status", "DaskCluster", false),
                    ("daskworkergroups", "DaskWorkerGroup", true),
                    ("daskworkergroups/scale", "Scale", false),
                ],
            ));
        }
        _ => {}
    }
    // /api/v1/... or /apis/G/V/...
    let rest: &[&str] = match seg.as_slice() {
        ["api", "v1", rest @ ..] => rest,
        ["apis", "apps", "v1", rest @ ..] => rest,
        ["apis", "kubernetes.dask.org", "v1", rest @ ..] if st.crd => rest,
        _ => {
            return json_out(status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ));
        }
    };
    let (ns, plural, name, sub): (Option<&str>, &str, Option<&str>, Option<&str>) = match rest {
        ["namespaces"] => (None, "namespaces", None, None),
        ["namespaces", n] => (None, "namespaces", Some(n), None),
        ["namespaces", n, p] => (Some(n), p, None, None),
        ["namespaces", n, p, x] => (Some(n), p, Some(x), None),
        ["namespaces", n, p, x, s] => (Some(n), p, Some(x), Some(s)),
        [p] => (None, p, None, None),
        _ => {
            return json_out(status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ));
        }
    };
    let forbidden_ns = match ns {
        Some(n) => st.forbidden.iter().any(|f| f == n),
        None => plural != "namespaces" && !st.forbidden.is_empty(),
    };
    if forbidden_ns {
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
        return json_out(status(
            403,
            "Forbidden",
            &format!(
                "{plural} is forbidden: User \"tester\" cannot {verb} resource \"{plural}\" in API group \"{group}\" {scope}"
            ),
        ));
    }
    let nsv = ns.unwrap_or("");
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match (method, name, sub) {
        ("GET", None, _) => {
            let sel = q.get("labelSelector").cloned().unwrap_or_default();
            let items: Vec<Value> = st
                .objects
                .iter()
                .filter(|(k, _)| k.0 == plural && (ns.is_none() || k.1 == nsv))
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
            json_out((
                200,
                json!({"kind": format!("{kind}List"), "apiVersion": api, "metadata": meta, "items": items[start..end]}),
            ))
        }
        ("GET", Some(n), None) => match st.get(plural, nsv, n) {
            Some(o) => json_out((200, o.clone())),
            None => json_out(not_found(plural, n)),
        },
        ("GET", Some(n), Some("log")) if plural == "pods" => match st.get(plural, nsv, n) {
            Some(p) if p["status"]["phase"] == "Pending" => json_out(status(
                400,
                "BadRequest",
                &format!(
                    "container \"dask\" in pod \"{n}\" is waiting to start: ContainerCreating"
                ),
            )),
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
        },
        ("GET" | "PUT" | "PATCH", Some(n), Some("scale"))
            if matches!(plural, "deployments" | "daskworkergroups") =>
        {
            let Some(o) = st.get(plural, nsv, n).cloned() else {
                return json_out(not_found(plural, n));
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
                    return json_out(status(
                        409,
                        "Conflict",
                        &format!(
                            "Operation cannot be fulfilled on {plural} \"{n}\": the object has been modified; please apply your changes to the latest version and try again"
                        ),
                    ));
                }
                if method == "PUT"
                    && body["metadata"]["resourceVersion"]
                        .as_str()
                        .is_some_and(|rv| Some(rv) != o["metadata"]["resourceVersion"].as_str())
                {
                    return json_out(status(
                        409,
                        "Conflict",
                        &format!(
                            "Operation cannot be fulfilled on {plural} \"{n}\": the object has been modified; please apply your changes to the latest version and try again"
                        ),
                    ));
                }
                let Some(want) = body["spec"]["replicas"].as_u64() else {
                    return json_out(status(
                        422,
                        "Invalid",
                        "Scale.autoscaling \"\" is invalid: spec.replicas: Required value",
                    ));
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
                return json_out((200, scale_of(&o, want)));
            }
            json_out((200, scale_of(&o, current)))
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
                return json_out(status(
                    409,
                    "Conflict",
                    &format!(
                        "Operation cannot be fulfilled on {plural} \"{n}\": the object has been modified; please apply your changes to the latest version and try again"
                    ),
                ));
            }
            let o = st.patch(plural, nsv, n, &body).expect("read above");
            json_out((200, o))
        }
        ("DELETE", Some(n), None) => match st.delete(plural, nsv, n) {
            Some(o) => json_out((200, o)),
            None => json_out(not_found(plural, n)),
        },
        _ => json_out(status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )),
    }
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
