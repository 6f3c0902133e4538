//! Per-cluster state directory: `<state_dir>/local/<name>/` holds `state.json` (spec, pids,
//! addresses), `scheduler.json` (Dask's scheduler file), `logs/` and a `lock` file that
//! serialises changes (two `scale` commands never interleave).
//!
//! The state is written ahead: `create` writes it before it starts anything and records each
//! process as soon as it runs, so an interrupted command leaves a cluster that `list`, `delete`
//! and `cleanup` see. Writes are atomic (write, fsync, rename, fsync the directory). Nothing in
//! a state file is trusted on its own: a process it names is only signalled if it runs as the
//! user and carries this cluster's markers in its environment (see `spawn::verified`).

use crate::error::{Error, IoContext, Result};
use nix::fcntl::Flock;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Proc {
    pub pid: i32,
    pub start: u64,
    /// Dask worker name, or "scheduler".
    pub name: String,
    /// Log file name inside `logs/`.
    pub log: String,
    /// Its worker group; None: the default group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// A worker group beside the default one (`create --worker-group`): its workers' shape and
/// how many were asked for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupState {
    pub name: String,
    pub threads: u32,
    pub memory: Option<u64>,
    pub requested: Option<u32>,
    pub next_worker: u32,
}

/// Where a cluster is in its life, as far as daskctl's own commands go.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// `create` is starting it (the daskctl process in `creator`).
    Creating,
    #[default]
    Ready,
}

/// A process of daskctl's own (the one running `create`), by pid and start time.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Creator {
    pub pid: i32,
    pub start: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterState {
    pub name: String,
    /// Seconds since the epoch.
    pub created: f64,
    pub python: String,
    pub host: String,
    pub threads: u32,
    pub memory: Option<u64>,
    /// `None` for workers daskctl attached to a scheduler it did not start, and while `create`
    /// has not started the scheduler yet.
    pub scheduler: Option<Proc>,
    pub address: Option<String>,
    pub dashboard: Option<String>,
    pub workers: Vec<Proc>,
    pub next_worker: u32,
    #[serde(default)]
    pub phase: Phase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<Creator>,
    /// Workers asked for by the last create or scale (what `degraded` compares with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<u32>,
    /// `create --idle-timeout`, seconds: the scheduler ends itself after that long idle, and
    /// the workers (started with a death timeout) follow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,
    /// Worker groups beside the default one (whose shape is `threads`, `memory`, `requested`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupState>,
    /// The node that runs it (`crate::host`); none in states older than the field: this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<crate::host::Node>,
    /// Its instance id (`names::new_instance`): a name is reused, an instance id is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

impl ClusterState {
    /// The other node it runs on, if it is not this one.
    pub fn elsewhere(&self) -> Option<&crate::host::Node> {
        self.node.as_ref().filter(|n| !n.is_this())
    }
}

impl ClusterState {
    /// Every group's name, the default one first.
    pub fn group_names(&self) -> Vec<String> {
        std::iter::once(crate::groups::DEFAULT.to_string())
            .chain(self.groups.iter().map(|g| g.name.clone()))
            .collect()
    }

    /// The group Dask worker `name` belongs to: as recorded, else as its name says.
    pub fn group_of<'a>(&'a self, name: &str) -> &'a str {
        if let Some(g) = self
            .workers
            .iter()
            .find(|w| w.name == name)
            .and_then(|w| w.group.as_deref())
        {
            return g;
        }
        let known: Vec<String> = self.groups.iter().map(|g| g.name.clone()).collect();
        match crate::groups::of_worker(&self.name, name, &known) {
            crate::groups::DEFAULT => crate::groups::DEFAULT,
            g => self
                .groups
                .iter()
                .find(|x| x.name == g)
                .map_or(crate::groups::DEFAULT, |x| x.name.as_str()),
        }
    }

    /// A group beside the default one, by name; a usage error naming the groups if absent.
    pub fn group(&self, name: &str) -> crate::error::Result<&GroupState> {
        self.groups.iter().find(|g| g.name == name).ok_or_else(|| {
            crate::error::Error::Usage(format!(
                "local/{} has no worker group {name} (its groups: {})",
                self.name,
                self.group_names().join(", ")
            ))
        })
    }
}

/// Why a state file could not be used.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Unusable {
    /// Truncated, garbage, or not this cluster's: rebuilt from the processes.
    Corrupt(String),
    /// The file exists but cannot be read (permissions, I/O).
    Unreadable(String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Corrupt(w) | Unusable::Unreadable(w) => f.write_str(w),
        }
    }
}

#[derive(Debug, Clone)]
pub struct StateDir {
    pub path: PathBuf,
    name: String,
}

impl StateDir {
    pub fn root(state_root: &Path) -> PathBuf {
        state_root.join("local")
    }

    /// The state directory of cluster `name`; an invalid name (`..`, `/abs`, ...) is a usage
    /// error, so no path outside the state root is ever formed.
    pub fn new(state_root: &Path, name: &str) -> Result<StateDir> {
        crate::names::validate(name)?;
        Ok(StateDir {
            path: Self::root(state_root).join(name),
            name: name.to_string(),
        })
    }

    pub fn exists(&self) -> bool {
        self.path.is_dir()
    }

    /// Creates the directory; fails if the cluster already exists.
    pub fn create(&self) -> Result<()> {
        let parent = self.path.parent().expect("has parent");
        crate::safefile::create_private_dir(parent)
            .ctx(|| format!("creating {}", parent.display()))?;
        let private = |p: &Path| {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().mode(0o700).create(p)
        };
        match private(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Usage(format!(
                    "cluster local/{} already exists ({}); remove it with: daskctl delete local/{}",
                    self.name,
                    self.path.display(),
                    self.name
                )));
            }
            Err(e) => return Err(Error::io(format!("creating {}", self.path.display()), e)),
        }
        private(&self.logs()).ctx(|| format!("creating {}", self.logs().display()))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn logs(&self) -> PathBuf {
        self.path.join("logs")
    }

    pub fn scheduler_file(&self) -> PathBuf {
        self.path.join("scheduler.json")
    }

    fn state_file(&self) -> PathBuf {
        self.path.join("state.json")
    }

    /// The user id owning the directory (whose cluster it is).
    pub fn owner_uid(&self) -> Option<u32> {
        std::fs::metadata(&self.path).ok().map(|m| m.uid())
    }

    /// The state, checked: it must parse, name this cluster, and name only plausible processes.
    /// `Ok(None)`: no state file (yet).
    pub fn load(&self) -> std::result::Result<Option<ClusterState>, Unusable> {
        let p = self.state_file();
        // the directory's owner wrote it; a link, FIFO or device there is not read
        let bytes = match crate::safefile::read(&p, self.owner_uid(), crate::safefile::SMALL) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Unusable::Unreadable(format!(
                    "cannot read {}: {e}",
                    p.display()
                )));
            }
        };
        let st: ClusterState = serde_json::from_slice(&bytes)
            .map_err(|e| Unusable::Corrupt(format!("{} is corrupt: {e}", p.display())))?;
        if st.name != self.name {
            return Err(Unusable::Corrupt(format!(
                "{} names another cluster ({:?})",
                p.display(),
                st.name
            )));
        }
        // pid 0 and -1 address process groups and every process: never from a file
        if let Some(bad) = st
            .scheduler
            .iter()
            .chain(&st.workers)
            .find(|x| x.pid <= 1 || x.name.is_empty())
        {
            return Err(Unusable::Corrupt(format!(
                "{} lists an impossible process ({})",
                p.display(),
                bad.pid
            )));
        }
        Ok(Some(st))
    }

    /// Atomic replace, so a reader never sees half a file, even after a crash.
    pub fn save(&self, s: &ClusterState) -> Result<()> {
        let text = serde_json::to_vec_pretty(s).expect("serialisable");
        write_atomic(&self.state_file(), &text)
    }

    /// Exclusive lock held until the guard drops; waits for another daskctl holding it, without
    /// blocking the runtime, until `within` has passed.
    pub async fn lock(&self, within: Duration) -> Result<Flock<File>> {
        let p = self.path.join("lock");
        crate::lockfile::lock(&p, within, || {
            Error::Timeout(format!(
                "another daskctl command is changing local/{} (lock {} held)",
                self.name,
                p.display()
            ))
        })
        .await
    }

    /// Removes the directory: renamed out of the way first (one atomic step), so a command
    /// waiting on the cluster that opens its lock file meanwhile finds no directory, instead of
    /// making a new file in one being emptied.
    pub fn remove(&self) -> Result<()> {
        let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        let parent = self.path.parent().unwrap_or(Path::new("."));
        // a leading dot: never a cluster name, so discovery passes over a half-removed one
        let tomb = parent.join(format!(".{}.removing.{}", self.name, std::process::id()));
        let doomed = match std::fs::rename(&self.path, &tomb) {
            Ok(()) => tomb,
            Err(e) if gone(&e) => return Ok(()),
            Err(_) => self.path.clone(),
        };
        match std::fs::remove_dir_all(&doomed) {
            Err(e) if !gone(&e) => Err(Error::io(format!("removing {}", self.path.display()), e)),
            _ => Ok(()),
        }
    }

    /// Every cluster directory under the root whose name is a valid cluster name. A root that
    /// exists but cannot be read is an error: clusters would be hidden.
    pub fn all(state_root: &Path) -> Result<Vec<StateDir>> {
        let root = Self::root(state_root);
        let rd = match std::fs::read_dir(&root) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::backend(
                    "local",
                    format!("cannot read the state directory {}: {e}", root.display()),
                ));
            }
        };
        let mut v = Vec::new();
        for e in rd {
            let e = e.ctx(|| format!("reading {}", root.display()))?;
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            match crate::names::validate(&name) {
                Ok(()) => v.push(StateDir {
                    path: e.path(),
                    name,
                }),
                Err(_) => tracing::debug!("{}: not a cluster directory", e.path().display()),
            }
        }
        v.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(v)
    }
}

/// A state directory a delete renamed out of the way (`.NAME.removing.PID`) and did not
/// finish removing (daskctl was killed meanwhile).
#[derive(Debug, Clone)]
pub struct Tomb {
    pub cluster: String,
    pub pid: u32,
    pub path: PathBuf,
}

impl Tomb {
    /// The name it is listed under: `removing-NAME-PID` (a reserved prefix).
    pub fn listed_name(&self) -> String {
        format!("removing-{}-{}", self.cluster, self.pid)
    }

    /// Whether a delete removes it now (it holds the lock inside it).
    pub fn being_removed(&self) -> bool {
        matches!(crate::lockfile::try_lock(&self.path.join("lock")), Ok(None))
    }

    /// Every one under the root that `uid` owns.
    pub fn all(state_root: &Path, uid: u32) -> Vec<Tomb> {
        let root = StateDir::root(state_root);
        let Ok(rd) = std::fs::read_dir(&root) else {
            return Vec::new();
        };
        let mut v: Vec<Tomb> = rd
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                let (cluster, pid) = n.strip_prefix('.')?.rsplit_once(".removing.")?;
                crate::names::validate(cluster).ok()?;
                let pid = pid.parse().ok()?;
                let m = std::fs::symlink_metadata(e.path()).ok()?;
                (m.is_dir() && m.uid() == uid).then(|| Tomb {
                    cluster: cluster.to_string(),
                    pid,
                    path: e.path(),
                })
            })
            .collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    }

    /// Finishes the removal, holding its lock (a delete still at it is waited for).
    pub async fn remove(&self, within: Duration) -> Result<()> {
        let lock = self.path.join("lock");
        let held = crate::lockfile::lock(&lock, within, || {
            Error::Timeout(format!(
                "{}: another delete is removing it",
                self.path.display()
            ))
        })
        .await;
        match held {
            Ok(_held) => match std::fs::remove_dir_all(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::io(format!("removing {}", self.path.display()), e))
                }
                _ => Ok(()),
            },
            // removed meanwhile by the delete that was at it
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// Writes `bytes` to `path` so that a reader sees the old or the new content, never a part:
/// a temporary file in the same directory, fsync, rename over, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::safefile::create_private_dir(dir).ctx(|| format!("creating {}", dir.display()))?;
    crate::safefile::write_atomic(path, bytes).ctx(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(name: &str) -> ClusterState {
        ClusterState {
            name: name.into(),
            created: 1.0,
            python: "python3".into(),
            host: "127.0.0.1".into(),
            threads: 1,
            memory: None,
            scheduler: None,
            address: None,
            dashboard: None,
            workers: vec![],
            next_worker: 0,
            phase: Phase::Ready,
            creator: None,
            requested: None,
            idle_timeout: None,
            groups: vec![],
            node: None,
            instance: None,
        }
    }

    #[test]
    fn path_like_names_never_form_a_path() {
        let root = Path::new("/tmp/x");
        for bad in ["../../victim", "/abs/dir", "a/b", "..", ".", ""] {
            assert!(StateDir::new(root, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn state_is_checked_before_it_is_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let d = StateDir::new(dir.path(), "c").unwrap();
        d.create().unwrap();
        assert!(matches!(d.load(), Ok(None)));
        d.save(&state("c")).unwrap();
        assert!(d.load().unwrap().is_some());
        d.save(&state("other")).unwrap();
        assert!(matches!(d.load(), Err(Unusable::Corrupt(_))));
        let mut s = state("c");
        s.workers.push(Proc {
            pid: -1,
            start: 0,
            name: "w".into(),
            log: "w.log".into(),
            group: None,
        });
        d.save(&s).unwrap();
        assert!(matches!(d.load(), Err(Unusable::Corrupt(_))), "pid -1");
        std::fs::write(d.path.join("state.json"), b"{\"name\": \"c\", \"crea").unwrap();
        assert!(matches!(d.load(), Err(Unusable::Corrupt(_))), "truncated");
    }
}
