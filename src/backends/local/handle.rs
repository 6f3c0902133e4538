//! The local backend's typed record of a cluster it found (`Cluster::handle`): which processes
//! make it up and how each may be stopped. Built by discovery, used by scale, logs and delete.

use super::spawn::{Proof, Target};
use super::state::{ClusterState, StateDir, Unusable};

#[derive(Debug, Clone)]
pub struct LocalHandle {
    pub kind: Kind,
    /// The scheduler's process, when it runs on this machine as the user.
    pub scheduler: Option<Found>,
    /// Worker processes (the nanny, for a nanny-managed worker), recorded or found.
    pub workers: Vec<Found>,
    /// The scheduler lives (its process runs, or something listens at its address) but did
    /// not answer: nothing of the cluster may be stopped on the strength of that silence.
    pub silent: bool,
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// daskctl's own cluster. `state` is `None` when the state file is unusable (`unusable`
    /// says why) or not written yet; the processes then come from their markers.
    Own {
        dir: StateDir,
        state: Option<Box<ClusterState>>,
        unusable: Option<Unusable>,
    },
    /// daskctl's own processes whose state directory is gone.
    Rebuilt,
    /// What a delete interrupted while removing the state directory left: the directory,
    /// renamed out of the way (`StateDir::remove`); its processes were stopped before.
    Removing { tomb: super::state::Tomb },
    /// Not daskctl's: a scheduler found in /proc, or workers whose scheduler is elsewhere.
    /// `attached`: the state directory of workers daskctl added to it.
    Foreign { attached: Option<StateDir> },
}

/// One process of the cluster, as discovery found it.
#[derive(Debug, Clone)]
pub struct Found {
    pub pid: i32,
    pub start: u64,
    /// A `dask scheduler` / `dask worker` command (not a program hosting Dask).
    pub cli: bool,
    /// Started by daskctl for this cluster: its environment carries the markers.
    pub marked: bool,
    /// Stopped by a signal when discovery looked.
    pub stopped: bool,
    /// The Dask worker name, where known.
    pub name: Option<String>,
    /// The first words of its command line, for messages.
    pub cmd: String,
}

impl Found {
    /// How to stop it: marked processes must still carry `cluster`'s markers under `home`.
    pub fn target(&self, cluster: &str, home: &str) -> Target {
        Target {
            pid: self.pid,
            start: self.start,
            group: self.marked,
            proof: if self.marked {
                Proof::Marked {
                    cluster: cluster.to_string(),
                    home: home.to_string(),
                }
            } else {
                Proof::Found
            },
        }
    }
}

impl LocalHandle {
    pub fn state_dir(&self) -> Option<&StateDir> {
        match &self.kind {
            Kind::Own { dir, .. } => Some(dir),
            Kind::Foreign { attached } => attached.as_ref(),
            Kind::Rebuilt | Kind::Removing { .. } => None,
        }
    }

    /// Whether daskctl started the scheduler (its own cluster, with or without state).
    pub fn own_scheduler(&self) -> bool {
        matches!(self.kind, Kind::Own { .. } | Kind::Rebuilt)
    }
}

/// The local handle of a cluster the local backend found.
pub fn handle(c: &crate::model::Cluster) -> crate::error::Result<&LocalHandle> {
    c.handle.get::<LocalHandle>().ok_or_else(|| {
        crate::error::Error::backend(
            "local",
            format!("{} was not found by the local backend", c.name),
        )
    })
}
