//! A cluster's sizing policy, stored with the cluster so that any daskctl on any machine sees
//! and enforces it (`daskctl adapt`, `daskctl reconcile`): `policy.json` in the directory the
//! backend keeps for the cluster (the local state directory, the batch systems' shared
//! directory). Beside the bounds it holds Dask's damping state (how many consecutive passes each
//! worker was proposed for retirement), so the damping survives the process that computed it.
//! `policy.lock` serialises reconcilers: one acts, the others skip the cluster for that pass.

use crate::error::{Error, IoContext, Result};
use nix::fcntl::Flock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Adaptive bounds, as `cluster.adapt(minimum=, maximum=)` takes them; the rest are Dask's
/// `distributed.adaptive` defaults (wait-count 3, target-duration 5s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adapt {
    pub minimum: u32,
    pub maximum: u32,
    /// The worker group that adapts (the bounds are its own; the other groups keep their
    /// size); None: the default group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Passes a worker must be proposed for retirement in a row before it is retired.
    #[serde(default = "default_wait_count")]
    pub wait_count: u32,
    /// Seconds the scheduler's queued work should take (`adaptive_target`'s target_duration).
    #[serde(default = "default_target_duration")]
    pub target_duration: f64,
}

fn default_wait_count() -> u32 {
    3
}

fn default_target_duration() -> f64 {
    5.0
}

impl Adapt {
    pub fn new(minimum: u32, maximum: u32) -> Result<Adapt> {
        if minimum > maximum {
            return Err(Error::Usage(format!(
                "--minimum {minimum} is more than --maximum {maximum}"
            )));
        }
        Ok(Adapt {
            minimum,
            maximum,
            group: None,
            wait_count: default_wait_count(),
            target_duration: default_target_duration(),
        })
    }

    pub fn clamp(&self, n: u64) -> u64 {
        n.clamp(self.minimum as u64, self.maximum as u64)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapt: Option<Adapt>,
    /// Dask's Adaptive damping: worker -> passes in a row it was proposed for retirement.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub close_counts: BTreeMap<String, u32>,
    /// `create --ttl`: when the cluster's time to live runs out (seconds since the epoch);
    /// `reconcile --yes` deletes it then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
    /// `create --idle-timeout`, seconds: `reconcile --yes` deletes the cluster idle that long
    /// (or ended by Dask's own idle timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,
    /// When a `reconcile` pass last applied `adapt` (seconds since the epoch): bounds nobody
    /// applies are shown as such, never as active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<u64>,
}

/// Where a backend keeps a cluster's policy: a file beside the cluster's other state (local,
/// batch), tags on its scheduler instance (aws). Reconcilers serialise through its lock.
#[async_trait::async_trait]
pub trait PolicyStore: Send + Sync {
    /// The policy stored now (none stored: the default, no policy).
    async fn read(&self) -> Result<Policy>;
    /// Stores `p`; the default policy removes what was stored.
    async fn write(&self, p: &Policy) -> Result<()>;
    /// The cluster's reconcile lock, if no other daskctl holds it.
    async fn try_lock(&self) -> Result<Option<Box<dyn PolicyLock>>>;
}

/// A held reconcile lock. `release` gives it back at once; a lock that is dropped instead (a
/// daskctl that died) is given back when it expires, as the store defines.
#[async_trait::async_trait]
pub trait PolicyLock: Send {
    async fn release(self: Box<Self>);
}

#[async_trait::async_trait]
impl PolicyStore for PolicyFile {
    async fn read(&self) -> Result<Policy> {
        PolicyFile::read(self)
    }

    async fn write(&self, p: &Policy) -> Result<()> {
        PolicyFile::write(self, p)
    }

    async fn try_lock(&self) -> Result<Option<Box<dyn PolicyLock>>> {
        Ok(PolicyFile::try_lock(self)?.map(|l| Box::new(FileLock(l)) as Box<dyn PolicyLock>))
    }
}

/// `policy.lock` held with flock(2): the kernel releases it when the process ends.
struct FileLock(#[allow(dead_code)] Flock<File>);

#[async_trait::async_trait]
impl PolicyLock for FileLock {
    async fn release(self: Box<Self>) {}
}

/// `policy.json` and `policy.lock` in a cluster's directory.
pub struct PolicyFile {
    dir: PathBuf,
}

impl PolicyFile {
    pub fn in_dir(dir: &Path) -> PolicyFile {
        PolicyFile {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.join("policy.json")
    }

    /// The stored policy; none stored is the default (no policy).
    pub fn read(&self) -> Result<Policy> {
        let path = self.path();
        match crate::safefile::read_to_string(&path, None, crate::safefile::SMALL) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                Error::io(
                    format!("{}: not a daskctl policy", path.display()),
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Policy::default()),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Stores `p` atomically (write, fsync, rename); an empty policy removes the file.
    pub fn write(&self, p: &Policy) -> Result<()> {
        let path = self.path();
        if *p == Policy::default() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::io(format!("removing {}", path.display()), e))
                }
                _ => Ok(()),
            };
        }
        let text = serde_json::to_string_pretty(p).expect("a policy serialises");
        crate::safefile::write_atomic(&path, text.as_bytes())
            .ctx(|| format!("writing {}", path.display()))
    }

    /// The cluster's reconcile lock, if no other daskctl holds it (released on drop).
    pub fn try_lock(&self) -> Result<Option<Flock<File>>> {
        crate::lockfile::try_lock(&self.dir.join("policy.lock"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_lock_and_empty_removes() {
        let d = tempfile::tempdir().unwrap();
        let f = PolicyFile::in_dir(d.path());
        assert_eq!(f.read().unwrap(), Policy::default());
        let mut p = Policy {
            adapt: Some(Adapt::new(1, 4).unwrap()),
            ..Policy::default()
        };
        p.close_counts.insert("w-1".into(), 2);
        f.write(&p).unwrap();
        assert_eq!(f.read().unwrap(), p);
        let held = f.try_lock().unwrap();
        assert!(held.is_some());
        assert!(
            f.try_lock().unwrap().is_none(),
            "a second reconciler must not get it"
        );
        drop(held);
        assert!(f.try_lock().unwrap().is_some());
        f.write(&Policy::default()).unwrap();
        assert!(!d.path().join("policy.json").exists());
        assert!(Adapt::new(3, 2).is_err());
        std::fs::write(
            d.path().join("policy.json"),
            r#"{"adapt":{"minimum":1,"maximum":2,"x":1}}"#,
        )
        .unwrap();
        assert!(f.read().is_err(), "unknown keys are errors");
    }
}
