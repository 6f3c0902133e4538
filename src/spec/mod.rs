//! Cluster spec files (`create -f`, `apply -f`): daskctl's own YAML, or a dask-ctl spec
//! (`version: 1`, `module`, `class`, `args`, `kwargs`) for the cluster classes daskctl can map
//! (`dask_ctl.rs`). A spec becomes the same arguments the command line gives (`create_argv`,
//! parsed and merged under the command line's by `lifecycle::spec_args`), plus what only a
//! spec says (`adapt`).
//!
//! ```yaml
//! name: etl
//! backend: slurm
//! workers: 4
//! threads: 2
//! memory: 4GiB
//! idle_timeout: 30m
//! scheduler: {host: ib0}
//! options: {partition: short, walltime: "01:00:00", job_extra: ["--qos=high"]}
//! adapt: {minimum: 1, maximum: 10}
//! worker_groups:
//!   - {name: gpu, workers: 1, threads: 4, options: {partition: gpu, gpus: 1}}
//! ```

mod dask_ctl;

use crate::error::{Error, Result};
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// daskctl's spec. Unknown keys are errors naming the key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: Option<String>,
    pub backend: String,
    pub workers: Option<i64>,
    /// Threads per worker.
    pub threads: Option<i64>,
    /// Memory limit per worker: `4GiB`, `4GB`, or bytes.
    pub memory: Option<Scalar>,
    /// Dask's scheduler idle timeout (`create --idle-timeout`), e.g. `30m`.
    pub idle_timeout: Option<String>,
    /// `create --ttl`, e.g. `8h`.
    pub ttl: Option<String>,
    /// Kubernetes: the namespace to create in (`--namespace`).
    pub namespace: Option<String>,
    /// AWS: the region to create in (`--region`).
    pub region: Option<String>,
    /// Backend flags of `create` by long name (`partition`, `job_extra`, `instance_type`, ...).
    #[serde(default)]
    pub options: BTreeMap<String, Value>,
    /// Where and how the scheduler runs.
    pub scheduler: Option<SchedulerSpec>,
    pub adapt: Option<AdaptSpec>,
    /// Groups of workers beside the default one (`create --worker-group`).
    #[serde(default)]
    pub worker_groups: Vec<GroupSpecFile>,
}

/// The scheduler's options: each is a `create` flag of the backends that take it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerSpec {
    /// `--scheduler-port` (local).
    pub port: Option<u16>,
    /// `--host`: the interface it listens on (local and batch backends).
    pub host: Option<String>,
    /// `--idle-timeout`: Dask's own idle timeout of the scheduler (as the top-level key).
    pub idle_timeout: Option<String>,
    /// `--instance-type` (aws): the scheduler's instance type.
    pub instance_type: Option<String>,
}

impl SchedulerSpec {
    /// `(spec key, create flag, value)` of each option given.
    fn flags(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut v = Vec::new();
        if let Some(p) = self.port {
            v.push(("port", "scheduler-port", p.to_string()));
        }
        if let Some(h) = &self.host {
            v.push(("host", "host", h.clone()));
        }
        if let Some(t) = &self.idle_timeout {
            v.push(("idle_timeout", "idle-timeout", t.clone()));
        }
        if let Some(t) = &self.instance_type {
            v.push(("instance_type", "instance-type", t.clone()));
        }
        v
    }
}

/// One worker group of a spec.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpecFile {
    pub name: String,
    #[serde(default)]
    pub workers: u32,
    pub threads: Option<u32>,
    pub memory: Option<Scalar>,
    /// The group's backend settings (`partition`, `gpus`, `job_extra`, ...).
    #[serde(default)]
    pub options: BTreeMap<String, Value>,
    /// This group adapts (the others keep their size); at most one adaptive group per spec.
    pub adapt: Option<AdaptSpec>,
}

impl GroupSpecFile {
    /// The group as `--worker-group NAME:COUNT[:k=v,...]` (checked where the backend is known).
    fn flag(&self) -> Result<String> {
        let mut kv: Vec<String> = Vec::new();
        if let Some(t) = self.threads {
            kv.push(format!("threads={t}"));
        }
        if let Some(m) = &self.memory {
            kv.push(format!("memory={}", m.text()));
        }
        for (k, v) in &self.options {
            let key = format!("worker_groups.{}.options.{k}", self.name);
            let values = match v {
                Value::Sequence(items) => items.iter().map(|i| scalar(&key, i)).collect(),
                v => vec![scalar(&key, v)],
            };
            for v in values {
                let v = v?;
                if v.contains(',') {
                    return Err(Error::Usage(format!("{key}: no commas in a value")));
                }
                kv.push(format!("{k}={v}"));
            }
        }
        let mut s = format!("{}:{}", self.name, self.workers);
        if !kv.is_empty() {
            s.push(':');
            s.push_str(&kv.join(","));
        }
        Ok(s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdaptSpec {
    pub minimum: i64,
    pub maximum: i64,
}

/// A YAML scalar written as a string or a number (`memory: 4GiB`, `memory: 4000000000`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Int(u64),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Int(n) => n.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
}

/// Reads a spec file: daskctl's, or dask-ctl's (it has `version`), translated.
pub fn load(path: &Path) -> Result<Spec> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read spec {}: {e}", path.display())))?;
    let bad = |e: &dyn std::fmt::Display| Error::Usage(format!("{}: {e}", path.display()));
    let value: Value = serde_yaml::from_str(&text).map_err(|e| bad(&e))?;
    if value.get("version").is_some() {
        return dask_ctl::translate(&value).map_err(|e| bad(&e));
    }
    serde_yaml::from_value(value).map_err(|e| bad(&e))
}

impl Spec {
    /// The spec as `create`'s command line (the backend, then `--flag=value` arguments), which
    /// the verb parses with the same flags as the command line's. Every option must be a
    /// `create` flag of its backend.
    pub fn create_argv(&self, flags: &[&str]) -> Result<Vec<String>> {
        let mut argv = vec![self.backend.clone()];
        let mut flag = |k: &str, v: String| argv.push(format!("--{k}={v}"));
        if let Some(n) = &self.name {
            flag("name", n.clone());
        }
        if let Some(w) = self.workers {
            flag("workers", w.to_string());
        }
        if let Some(t) = self.threads {
            flag("threads", t.to_string());
        }
        if let Some(m) = &self.memory {
            flag("memory", m.text());
        }
        if let Some(t) = &self.idle_timeout {
            flag("idle-timeout", t.clone());
        }
        if let Some(t) = &self.ttl {
            flag("ttl", t.clone());
        }
        if let Some(n) = &self.namespace {
            flag("namespace", n.clone());
        }
        if let Some(r) = &self.region {
            flag("region", r.clone());
        }
        for g in &self.worker_groups {
            flag("worker-group", g.flag()?);
        }
        for (key, name, value) in self.scheduler.iter().flat_map(SchedulerSpec::flags) {
            let twice = match name {
                "idle-timeout" => self.idle_timeout.is_some(),
                _ => self.options.contains_key(&name.replace('-', "_")),
            };
            if twice {
                return Err(Error::Usage(format!(
                    "scheduler.{key}: also given elsewhere in the spec; give it once"
                )));
            }
            // checked as an option is: each belongs to some backends only
            if !flags.contains(&name) && name != "idle-timeout" {
                return Err(Error::Usage(format!(
                    "scheduler.{key}: the {} backend does not take it (--{name})",
                    self.backend
                )));
            }
            flag(name, value);
        }
        for (key, value) in &self.options {
            let name = key.replace('_', "-");
            if !flags.contains(&name.as_str()) {
                return Err(Error::Usage(format!(
                    "options.{key}: not a create flag of the {} backend (it takes: {})",
                    self.backend,
                    flags.join(", ")
                )));
            }
            match value {
                Value::Bool(true) => argv.push(format!("--{name}")),
                Value::Bool(false) | Value::Null => {}
                Value::Sequence(items) => {
                    for i in items {
                        argv.push(format!("--{name}={}", scalar(key, i)?));
                    }
                }
                Value::Mapping(m) => {
                    // gateway cluster options: options: {option: {worker_cores: 2}}
                    for (k, v) in m {
                        argv.push(format!("--{name}={}={}", scalar(key, k)?, scalar(key, v)?));
                    }
                }
                v => argv.push(format!("--{name}={}", scalar(key, v)?)),
            }
        }
        Ok(argv)
    }
}

fn scalar(key: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(Error::Usage(format!(
            "{}: expected a value, a list or a map of values",
            if key.contains('.') {
                key.to_string()
            } else {
                format!("options.{key}")
            }
        ))),
    }
}
