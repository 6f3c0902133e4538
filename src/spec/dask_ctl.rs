//! dask-ctl's spec files (`version: 1`, `module`, `class`, `args`, `kwargs`; dask_ctl/spec.py)
//! for the cluster classes daskctl can stand in for, their keyword arguments translated to a
//! daskctl `Spec`. A keyword daskctl does not map is an error naming it: a spec never silently
//! makes a different cluster than its class would.

use super::{Scalar, Spec};
use serde_yaml::Value;
use std::collections::BTreeMap;

/// What a class's keyword becomes.
enum To {
    Workers,
    Threads,
    Memory,
    Name,
    /// A `create` flag of the backend.
    Flag(&'static str),
    /// dask-jobqueue's `cores`: the job's cores, and the threads of its one worker.
    Cores,
    /// dask-jobqueue's `processes` / LocalCluster's: only what daskctl runs (one worker per job,
    /// worker processes).
    Processes,
    /// `scheduler_options: {host: ...}` (only the host).
    SchedulerOptions,
    /// KubeCluster's `namespace`: where the cluster is made.
    Namespace,
    /// EC2Cluster's `region`.
    Region,
    /// Accepted, no effect on what is created (`asynchronous`, `silence_logs`).
    Ignored,
}

const JOBQUEUE: &[(&str, To)] = &[
    ("n_workers", To::Workers),
    ("cores", To::Cores),
    ("memory", To::Memory),
    ("processes", To::Processes),
    ("queue", To::Flag("partition")),
    ("account", To::Flag("account")),
    ("project", To::Flag("account")),
    ("walltime", To::Flag("walltime")),
    ("job_extra_directives", To::Flag("job-extra")),
    ("job_extra", To::Flag("job-extra")),
    ("python", To::Flag("python")),
    ("job_name", To::Name),
    ("scheduler_options", To::SchedulerOptions),
    ("asynchronous", To::Ignored),
    ("silence_logs", To::Ignored),
];

const LOCAL: &[(&str, To)] = &[
    ("n_workers", To::Workers),
    ("threads_per_worker", To::Threads),
    ("memory_limit", To::Memory),
    ("processes", To::Processes),
    ("scheduler_port", To::Flag("scheduler-port")),
    ("host", To::Flag("host")),
    ("name", To::Name),
    ("asynchronous", To::Ignored),
    ("silence_logs", To::Ignored),
];

const KUBE: &[(&str, To)] = &[
    ("name", To::Name),
    ("n_workers", To::Workers),
    ("image", To::Flag("image")),
    ("namespace", To::Namespace),
    ("asynchronous", To::Ignored),
];

const EC2: &[(&str, To)] = &[
    ("n_workers", To::Workers),
    ("instance_type", To::Flag("instance-type")),
    ("scheduler_instance_type", To::Flag("instance-type")),
    ("worker_instance_type", To::Flag("worker-instance-type")),
    ("ami", To::Flag("ami")),
    ("subnet_id", To::Flag("subnet")),
    ("security_groups", To::Flag("security-group")),
    ("key_name", To::Flag("key-name")),
    ("docker_image", To::Flag("image")),
    ("region", To::Region),
    ("asynchronous", To::Ignored),
];

/// The backend and keyword table of a module and class.
fn class(module: &str, class: &str) -> Option<(&'static str, &'static [(&'static str, To)])> {
    let jobqueue = |b| Some((b, JOBQUEUE));
    match (module, class) {
        ("distributed" | "dask.distributed" | "distributed.deploy.local", "LocalCluster") => {
            Some(("local", LOCAL))
        }
        ("dask_jobqueue" | "dask_jobqueue.slurm", "SLURMCluster") => jobqueue("slurm"),
        ("dask_jobqueue" | "dask_jobqueue.pbs", "PBSCluster") => jobqueue("pbs"),
        ("dask_jobqueue" | "dask_jobqueue.sge", "SGECluster") => jobqueue("sge"),
        ("dask_jobqueue" | "dask_jobqueue.htcondor", "HTCondorCluster") => jobqueue("htcondor"),
        ("dask_kubernetes" | "dask_kubernetes.operator", "KubeCluster") => {
            Some(("kubernetes", KUBE))
        }
        ("dask_cloudprovider.aws" | "dask_cloudprovider.aws.ec2", "EC2Cluster") => {
            Some(("aws", EC2))
        }
        _ => None,
    }
}

fn text(key: &str, v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(format!("kwargs.{key}: expected a string or a number")),
    }
}

fn int(key: &str, v: &Value) -> Result<i64, String> {
    v.as_i64()
        .ok_or_else(|| format!("kwargs.{key}: expected a whole number"))
}

pub fn translate(v: &Value) -> Result<Spec, String> {
    let top = v.as_mapping().ok_or("a dask-ctl spec is a mapping")?;
    for key in top.keys() {
        let k = key.as_str().unwrap_or("");
        if !["version", "module", "class", "args", "kwargs"].contains(&k) {
            return Err(format!("unknown key {k:?} in a dask-ctl spec"));
        }
    }
    if v.get("version").and_then(Value::as_i64) != Some(1) {
        return Err("only dask-ctl spec version 1 is known".into());
    }
    let module = v.get("module").and_then(Value::as_str).unwrap_or("");
    let class_name = v.get("class").and_then(Value::as_str).unwrap_or("");
    let (backend, table) = class(module, class_name).ok_or_else(|| {
        format!(
            "{module}.{class_name}: not a cluster class daskctl can create (LocalCluster, \
             SLURMCluster, PBSCluster, SGECluster, HTCondorCluster, KubeCluster, EC2Cluster)"
        )
    })?;
    if v.get("args")
        .and_then(Value::as_sequence)
        .is_some_and(|a| !a.is_empty())
    {
        return Err("args: positional arguments are not mapped; use kwargs".into());
    }
    let mut spec = Spec {
        backend: backend.into(),
        ..Spec::default()
    };
    let empty = serde_yaml::Mapping::new();
    let kwargs = match v.get("kwargs") {
        None | Some(Value::Null) => &empty,
        Some(k) => k.as_mapping().ok_or("kwargs: expected a mapping")?,
    };
    // dask-ctl replaces '-' by '_' in keyword names (dask_ctl/lifecycle.py)
    let kwargs: BTreeMap<String, &Value> = kwargs
        .iter()
        .map(|(k, v)| (k.as_str().unwrap_or("").replace('-', "_"), v))
        .collect();
    let mut cores = None;
    for (key, value) in &kwargs {
        let Some((_, to)) = table.iter().find(|(k, _)| k == key) else {
            return Err(format!(
                "kwargs.{key}: {class_name}'s {key} is not mapped by daskctl (it maps: {})",
                table.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            ));
        };
        apply(&mut spec, &mut cores, key, value, to)?;
    }
    if let Some(c) = cores {
        spec.threads.get_or_insert(c);
        if !["local", "kubernetes", "aws"].contains(&backend) {
            spec.options.insert("cores".into(), Value::from(c));
        }
    }
    Ok(spec)
}

fn apply(
    spec: &mut Spec,
    cores: &mut Option<i64>,
    key: &str,
    value: &Value,
    to: &To,
) -> Result<(), String> {
    match to {
        To::Workers => spec.workers = Some(int(key, value)?),
        To::Threads => spec.threads = Some(int(key, value)?),
        To::Memory => spec.memory = Some(Scalar::Text(text(key, value)?)),
        To::Name => spec.name = Some(text(key, value)?),
        To::Cores => *cores = Some(int(key, value)?),
        To::Processes => match value {
            // LocalCluster(processes=True), dask-jobqueue processes=1: one worker per process/job
            Value::Bool(true) => {}
            Value::Number(n) if n.as_i64() == Some(1) => {}
            _ => {
                return Err(format!(
                    "kwargs.{key}: {value:?} is not mapped: daskctl runs each worker in its own \
                     process (and one per batch job); use processes: 1"
                ));
            }
        },
        To::SchedulerOptions => {
            let m = value
                .as_mapping()
                .ok_or_else(|| format!("kwargs.{key}: expected a mapping"))?;
            for (k, v) in m {
                match k.as_str() {
                    Some("host") => {
                        spec.options
                            .insert("host".into(), Value::from(text(key, v)?));
                    }
                    other => {
                        return Err(format!(
                            "kwargs.{key}.{}: not mapped (only host is)",
                            other.unwrap_or("?")
                        ));
                    }
                }
            }
        }
        To::Namespace => spec.namespace = Some(text(key, value)?),
        To::Region => spec.region = Some(text(key, value)?),
        To::Flag(flag) => {
            spec.options.insert(flag.replace('-', "_"), value.clone());
        }
        To::Ignored => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> Result<Spec, String> {
        translate(&serde_yaml::from_str(yaml).unwrap())
    }

    #[test]
    fn slurm_cluster_kwargs_become_create_flags() {
        let s = spec(
            "version: 1\nmodule: dask_jobqueue\nclass: SLURMCluster\nkwargs:\n  cores: 2\n  \
             memory: 4GB\n  processes: 1\n  queue: debug\n  walltime: '01:00:00'\n  \
             job_extra_directives: ['--qos=high']\n  n_workers: 3\n",
        )
        .unwrap();
        assert_eq!(s.backend, "slurm");
        assert_eq!((s.workers, s.threads), (Some(3), Some(2)));
        assert_eq!(s.options["partition"], Value::from("debug"));
        assert_eq!(s.options["cores"], Value::from(2));
        let flags = crate::backends::lookup("slurm").unwrap().create_flags;
        let a = crate::lifecycle::spec_args::of_spec(&s, flags).unwrap();
        assert_eq!(a.partition.as_deref(), Some("debug"));
        assert_eq!(a.job_extra, vec!["--qos=high".to_string()]);
        assert_eq!(a.memory.as_deref(), Some("4GB"));
    }

    #[test]
    fn what_is_not_mapped_is_named() {
        let e = spec(
            "version: 1\nmodule: dask_jobqueue\nclass: SLURMCluster\nkwargs: {interface: ib0}",
        )
        .unwrap_err();
        assert!(e.contains("kwargs.interface"), "{e}");
        let e =
            spec("version: 1\nmodule: dask_jobqueue\nclass: SLURMCluster\nkwargs: {processes: 4}")
                .unwrap_err();
        assert!(e.contains("kwargs.processes"), "{e}");
        let e = spec("version: 1\nmodule: foo\nclass: Bar").unwrap_err();
        assert!(e.contains("foo.Bar"), "{e}");
        let e =
            spec("version: 1\nmodule: distributed\nclass: LocalCluster\nargs: [2]").unwrap_err();
        assert!(e.contains("args"), "{e}");
        let e = spec("version: 1\nmodule: distributed\nclass: LocalCluster\nextra: 1").unwrap_err();
        assert!(e.contains("extra"), "{e}");
        let local = spec(
            "version: 1\nmodule: dask.distributed\nclass: LocalCluster\nkwargs:\n  n_workers: 2\n  \
             threads-per-worker: 3\n  memory_limit: 1GiB",
        )
        .unwrap();
        assert_eq!(
            (local.backend.as_str(), local.workers, local.threads),
            ("local", Some(2), Some(3))
        );
    }

    #[test]
    fn namespace_and_region_are_where_the_cluster_is_made() {
        let k = spec(
            "version: 1\nmodule: dask_kubernetes.operator\nclass: KubeCluster\nkwargs: {name: x, namespace: team-a}",
        )
        .unwrap();
        assert_eq!(k.namespace.as_deref(), Some("team-a"));
        let flags = crate::backends::lookup("local").unwrap().create_flags;
        let a = crate::lifecycle::spec_args::of_spec(&k, flags).unwrap();
        assert_eq!(a.cloud.namespace.as_deref(), Some("team-a"));
        let e = spec(
            "version: 1\nmodule: dask_cloudprovider.aws\nclass: EC2Cluster\nkwargs: {region: eu-west-1}",
        )
        .unwrap();
        assert_eq!(e.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            crate::lifecycle::spec_args::of_spec(&e, &[])
                .unwrap()
                .cloud
                .regions,
            vec!["eu-west-1".to_string()]
        );
    }
}
