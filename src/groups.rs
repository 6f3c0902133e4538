//! Worker groups: sets of workers of one cluster that differ in size or placement (workers with
//! more memory, with GPUs, in another partition). `create --worker-group NAME:COUNT[:k=v,...]`
//! adds one beside the default group (what `--workers`, `--threads` and `--memory` describe);
//! `scale --group` sizes one; discovery rebuilds them from the resources (job markers and
//! names, the local state and the workers' names) and reports `groups: [{name, workers,
//! requested}]`.
//!
//! A group's workers carry its name in their Dask name (`CLUSTER-GROUP-N`, batch:
//! `CLUSTER-GROUP-JOBID`) and as a Dask resource `GROUP` worth their thread count, so tasks can
//! target them (`client.submit(f, resources={"gpu": 1})`) without running fewer at once.

use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// The group `--workers` sizes, and `scale` acts on without `--group`.
pub const DEFAULT: &str = "default";

/// The longest group name: it is part of job names, worker names and Dask resource names.
pub const MAX_LEN: usize = 20;

/// A group `create` makes.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    pub name: String,
    pub workers: u32,
    pub threads: Option<u32>,
    pub memory: Option<u64>,
    /// Backend settings of the group's workers (`partition`, `gpus`, ...) by key.
    pub options: BTreeMap<String, String>,
}

/// A group as discovery found it: its workers the scheduler has (or that run, where the
/// scheduler cannot be asked) and those asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupCount {
    pub name: String,
    pub workers: Option<u64>,
    pub requested: Option<u64>,
}

/// One worker instance of a cloud cluster, as `counts` needs it: its group (None: the
/// default one), the name Dask knows it by, whether it runs, whether it is alive (asked for).
pub struct Member<'a> {
    pub group: Option<&'a str>,
    pub name: &'a str,
    pub running: bool,
    pub alive: bool,
}

/// A cloud cluster's groups (the default one, then `names`): workers are the scheduler's
/// (`connected`, named after their instances) when it answered, else the running instances;
/// requested are the live ones (aws and gcp instances alike).
pub fn counts(
    mut names: Vec<String>,
    members: &[Member],
    answered: bool,
    connected: &[crate::model::WorkerDetail],
) -> Vec<GroupCount> {
    names.extend(members.iter().filter_map(|m| m.group.map(str::to_string)));
    names.sort();
    names.dedup();
    std::iter::once(DEFAULT.to_string())
        .chain(names)
        .map(|g| {
            let mine: Vec<&Member> = members
                .iter()
                .filter(|m| m.group.unwrap_or(DEFAULT) == g)
                .collect();
            let workers = if answered {
                connected
                    .iter()
                    .filter(|w| mine.iter().any(|m| m.name == w.name))
                    .count()
            } else {
                mine.iter().filter(|m| m.running).count()
            };
            GroupCount {
                workers: Some(workers as u64),
                requested: Some(mine.iter().filter(|m| m.alive).count() as u64),
                name: g,
            }
        })
        .collect()
}

/// A group name: a lowercase letter, then letters, digits or '-'; not `default`.
pub fn validate(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::Usage(format!(
            "invalid worker group {name:?}: {why}"
        )))
    };
    if name == DEFAULT {
        return bad("the default group is sized by --workers, --threads and --memory");
    }
    if name.is_empty() || name.len() > MAX_LEN {
        return bad(&format!("use 1 to {MAX_LEN} characters"));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase())
        || name.ends_with('-')
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return bad("use lowercase letters, digits and '-', starting with a letter");
    }
    Ok(())
}

/// `scale --group` / `adapt --group`: a group name, `default` included.
pub fn validate_target(name: &str) -> Result<()> {
    if name == DEFAULT {
        Ok(())
    } else {
        validate(name)
    }
}

impl GroupSpec {
    /// Parses `NAME:COUNT[:key=value,...]`; `keys` are the backend's group settings beside
    /// `threads` and `memory`. Every value is checked here, before anything is created.
    pub fn parse(s: &str, keys: &[&str], max_workers: u32) -> Result<GroupSpec> {
        let usage = || {
            Error::Usage(format!(
                "invalid --worker-group {s:?}: use NAME:COUNT[:key=value,...]"
            ))
        };
        let mut parts = s.splitn(3, ':');
        let name = parts.next().ok_or_else(usage)?;
        validate(name)?;
        let count = parts.next().ok_or_else(usage)?;
        let workers = count
            .parse::<i64>()
            .map_err(|_| usage())
            .and_then(|n| crate::units::worker_count(n, max_workers))?;
        let mut g = GroupSpec {
            name: name.to_string(),
            workers,
            threads: None,
            memory: None,
            options: BTreeMap::new(),
        };
        for kv in parts.next().into_iter().flat_map(|r| r.split(',')) {
            let (k, v) = kv.split_once('=').ok_or_else(usage)?;
            g.set(k, v, keys)?;
        }
        Ok(g)
    }

    /// Sets one setting of the group (`threads`, `memory`, or one of the backend's `keys`).
    pub fn set(&mut self, key: &str, value: &str, keys: &[&str]) -> Result<()> {
        let key = key.replace('_', "-");
        match key.as_str() {
            "threads" => {
                self.threads = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|t| (1..=1024).contains(t))
                        .ok_or_else(|| {
                            Error::Usage(format!(
                                "worker group {}: invalid threads {value:?} (1 to 1024)",
                                self.name
                            ))
                        })?,
                )
            }
            "memory" => self.memory = Some(crate::units::parse_memory(value)?),
            k if keys.contains(&k) => {
                if value.is_empty() {
                    return Err(Error::Usage(format!(
                        "worker group {}: {k} needs a value",
                        self.name
                    )));
                }
                // repeatable settings (job-extra) accumulate, one per line
                let v = self.options.entry(k.to_string()).or_default();
                if !v.is_empty() {
                    v.push('\n');
                }
                v.push_str(value);
            }
            k => {
                let mut allowed = vec!["threads", "memory"];
                allowed.extend(keys);
                return Err(Error::Usage(format!(
                    "worker group {}: unknown setting {k:?} (this backend takes: {})",
                    self.name,
                    allowed.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// Checks a request's groups: names unique, at most `max` workers in all.
pub fn check_all(groups: &[GroupSpec], default_workers: u32, max: u32) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for g in groups {
        if !seen.insert(g.name.as_str()) {
            return Err(Error::Usage(format!(
                "worker group {} is given twice",
                g.name
            )));
        }
    }
    let total: u64 = groups.iter().map(|g| g.workers as u64).sum::<u64>() + default_workers as u64;
    if total > max as u64 {
        return Err(Error::Usage(format!(
            "{total} workers in all groups: this backend takes at most {max}"
        )));
    }
    Ok(())
}

/// The group a Dask worker name says, among `known` groups: `CLUSTER-GROUP-SUFFIX` with a
/// known GROUP (the longest that fits), else the default group.
pub fn of_worker<'a>(cluster: &str, worker: &str, known: &'a [String]) -> &'a str {
    let Some(rest) = worker
        .strip_prefix(cluster)
        .and_then(|r| r.strip_prefix('-'))
    else {
        return DEFAULT;
    };
    known
        .iter()
        .filter(|g| {
            rest.strip_prefix(g.as_str())
                .is_some_and(|r| r.starts_with('-') && r.len() > 1)
        })
        .max_by_key(|g| g.len())
        .map(String::as_str)
        .unwrap_or(DEFAULT)
}

/// The group of a worker as its scheduler reports it: the group whose resource it carries
/// (every daskctl worker of a group is started with `--resources GROUP=THREADS`, whatever the
/// backend names it: an instance id on AWS, a pod name on Kubernetes), else by its name.
pub fn of_detail<'a>(
    cluster: &str,
    w: &crate::model::WorkerDetail,
    known: &'a [String],
) -> &'a str {
    known
        .iter()
        .find(|g| w.resources.iter().any(|r| r == *g))
        .map(String::as_str)
        .unwrap_or_else(|| of_worker(cluster, &w.name, known))
}

/// The Dask worker resource of a group (`--resources GROUP=THREADS`).
pub fn resource(group: &str, threads: u32) -> String {
    format!("{group}={}", threads.max(1))
}

/// A cloud worker's `dask worker` sizing, as words of its startup script: threads, memory
/// and, for a group, its resource. Tasks target the group with resources={GROUP: 1}, as many
/// at once as it has threads; without a thread count, its machine's cores (`$(nproc)`).
pub fn script_worker_args(
    threads: Option<u32>,
    memory: Option<u64>,
    group: Option<&str>,
) -> Result<Vec<String>> {
    let mut args = Vec::new();
    if let Some(t) = threads {
        args.push(format!("--nthreads {t}"));
    }
    if let Some(m) = memory {
        args.push(format!("--memory-limit {m}"));
    }
    if let Some(g) = group {
        validate(g)?;
        args.push(match threads {
            Some(t) => format!("--resources {}", resource(g, t)),
            None => format!("--resources \"{g}=$(nproc)\""),
        });
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_counts_by_group_from_the_scheduler_or_the_instances() {
        let m = |group, name, running, alive| Member {
            group,
            name,
            running,
            alive,
        };
        let members = [
            m(None, "w1", true, true),
            m(None, "w2", false, true),
            m(Some("gpu"), "g1", true, true),
            m(Some("gpu"), "g2", false, false),
        ];
        let row = |name: &str, w: u64, r: u64| GroupCount {
            name: name.into(),
            workers: Some(w),
            requested: Some(r),
        };
        // silent scheduler: the running instances; a spec group with none yet is listed
        assert_eq!(
            counts(vec!["big".into()], &members, false, &[]),
            [row("default", 1, 2), row("big", 0, 0), row("gpu", 1, 1)]
        );
        // answering: the workers it has, by instance name
        let w = |name: &str| crate::model::WorkerDetail {
            name: name.into(),
            address: String::new(),
            threads: 1,
            memory: 0,
            status: None,
            resources: Vec::new(),
        };
        assert_eq!(
            counts(Vec::new(), &members, true, &[w("w1"), w("w2"), w("other")]),
            [row("default", 2, 2), row("gpu", 0, 1)]
        );
    }

    #[test]
    fn parses_groups() {
        let keys = ["partition", "gpus", "job-extra"];
        let g = GroupSpec::parse(
            "gpu:2:threads=4,memory=8GiB,partition=gpu,gpus=1,job_extra=--qos=x,job-extra=-N",
            &keys,
            100,
        )
        .unwrap();
        assert_eq!(g.name, "gpu");
        assert_eq!(g.workers, 2);
        assert_eq!(g.threads, Some(4));
        assert_eq!(g.memory, Some(8 << 30));
        assert_eq!(g.options["partition"], "gpu");
        assert_eq!(g.options["job-extra"], "--qos=x\n-N");
        assert_eq!(GroupSpec::parse("big:0", &keys, 100).unwrap().workers, 0);
        for bad in [
            "gpu",
            "gpu:x",
            "gpu:-1",
            "gpu:101",
            "Gpu:1",
            "1gpu:1",
            "default:1",
            "gpu:1:zone=a",
            "gpu:1:threads=0",
            "gpu:1:partition",
            "gpu:1:partition=",
            "a-:1",
        ] {
            let e = GroupSpec::parse(bad, &keys, 100).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{bad}: {e}");
        }
        let e = GroupSpec::parse("gpu:1:zone=a", &keys, 100).unwrap_err();
        assert!(e.to_string().contains("threads, memory, partition"), "{e}");
    }

    #[test]
    fn totals_and_duplicates() {
        let g = |n: &str, w| GroupSpec::parse(&format!("{n}:{w}"), &[], 100).unwrap();
        assert!(check_all(&[g("a", 1), g("b", 2)], 2, 5).is_ok());
        assert!(check_all(&[g("a", 1), g("b", 3)], 2, 5).is_err());
        assert!(check_all(&[g("a", 1), g("a", 1)], 0, 5).is_err());
    }

    #[test]
    fn group_of_a_worker() {
        let known = vec!["gpu".to_string(), "gpu-big".to_string()];
        assert_eq!(of_worker("etl", "etl-gpu-3", &known), "gpu");
        assert_eq!(of_worker("etl", "etl-gpu-big-3", &known), "gpu-big");
        assert_eq!(of_worker("etl", "etl-3", &known), DEFAULT);
        assert_eq!(of_worker("etl", "etl-gpu", &known), DEFAULT);
        assert_eq!(of_worker("etl", "other-gpu-1", &known), DEFAULT);
        // named by its backend (an instance id, a pod): its resource says its group
        let w = |name: &str, resources: &[&str]| crate::model::WorkerDetail {
            name: name.into(),
            address: String::new(),
            threads: 1,
            memory: 0,
            status: None,
            resources: resources.iter().map(|r| r.to_string()).collect(),
        };
        assert_eq!(of_detail("etl", &w("i-0abc123", &["gpu"]), &known), "gpu");
        assert_eq!(
            of_detail("etl", &w("etl-worker-gpu-7f9c", &["gpu-big"]), &known),
            "gpu-big"
        );
        assert_eq!(of_detail("etl", &w("i-0abc124", &[]), &known), DEFAULT);
        assert_eq!(of_detail("etl", &w("etl-gpu-3", &[]), &known), "gpu");
    }
}
