//! Per-cluster state directory: `<state_dir>/local/<name>/` holds `state.json` (spec, pids,
//! addresses), `scheduler.json` (Dask's scheduler file), `logs/` and a `lock` file that
//! serialises changes (two `scale` commands never interleave).

use crate::error::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proc {
    pub pid: i32,
    pub start: u64,
    /// Dask worker name, or "scheduler".
    pub name: String,
    /// Log file name inside `logs/`.
    pub log: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterState {
    pub name: String,
    /// Seconds since the epoch.
    pub created: f64,
    pub python: String,
    pub host: String,
    pub threads: u32,
    pub memory: Option<u64>,
    /// `None` for workers daskctl attached to a scheduler it did not start.
    pub scheduler: Option<Proc>,
    pub address: Option<String>,
    pub dashboard: Option<String>,
    pub workers: Vec<Proc>,
    pub next_worker: u32,
}

pub struct StateDir {
    pub path: PathBuf,
}

impl StateDir {
    pub fn root(state_root: &Path) -> PathBuf {
        state_root.join("local")
    }

    pub fn new(state_root: &Path, name: &str) -> StateDir {
        StateDir {
            path: Self::root(state_root).join(name),
        }
    }

    pub fn exists(&self) -> bool {
        self.path.join("state.json").is_file()
    }

    /// Creates the directory; fails if the cluster already exists.
    pub fn create(&self) -> Result<()> {
        let parent = self.path.parent().expect("has parent");
        std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
        match std::fs::create_dir(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Usage(format!(
                    "cluster local/{} already exists ({})",
                    self.name(),
                    self.path.display()
                )));
            }
            Err(e) => return Err(Error::io(format!("creating {}", self.path.display()), e)),
        }
        std::fs::create_dir(self.logs()).ctx(|| format!("creating {}", self.logs().display()))
    }

    pub fn name(&self) -> String {
        self.path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    }

    pub fn logs(&self) -> PathBuf {
        self.path.join("logs")
    }

    pub fn scheduler_file(&self) -> PathBuf {
        self.path.join("scheduler.json")
    }

    pub fn load(&self) -> Result<ClusterState> {
        let p = self.path.join("state.json");
        let text = std::fs::read_to_string(&p).ctx(|| format!("reading {}", p.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            Error::backend("local", format!("corrupt state file {}: {e}", p.display()))
        })
    }

    /// Atomic replace, so a reader never sees half a file.
    pub fn save(&self, s: &ClusterState) -> Result<()> {
        let p = self.path.join("state.json");
        let tmp = self.path.join("state.json.tmp");
        let text = serde_json::to_string_pretty(s).expect("serialisable");
        std::fs::write(&tmp, text).ctx(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &p).ctx(|| format!("writing {}", p.display()))
    }

    /// Exclusive lock held until the guard drops.
    pub fn lock(&self) -> Result<nix::fcntl::Flock<File>> {
        let p = self.path.join("lock");
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .ctx(|| format!("opening {}", p.display()))?;
        nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| Error::io(format!("locking {}", p.display()), e.into()))
    }

    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_dir_all(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io(format!("removing {}", self.path.display()), e))
            }
            _ => Ok(()),
        }
    }

    /// All state directories under the root, by name.
    pub fn all(state_root: &Path) -> Vec<StateDir> {
        let Ok(rd) = std::fs::read_dir(Self::root(state_root)) else {
            return Vec::new();
        };
        let mut v: Vec<StateDir> = rd
            .flatten()
            .filter(|e| e.path().join("state.json").is_file())
            .map(|e| StateDir { path: e.path() })
            .collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    }
}
