//! `[backends.slurm]`, `[backends.pbs]`, `[backends.sge]`, `[backends.htcondor]`: the settings
//! every batch backend reads from its own section (each dialect adds its own struct).

use crate::settings::lenient;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Python with distributed on the compute nodes (`--python` per cluster).
    #[serde(deserialize_with = "lenient::string")]
    pub python: Option<String>,
    /// A directory login and compute nodes share; default `~/.daskctl/BACKEND`.
    pub shared_dir: Option<PathBuf>,
    /// Interface Dask listens on inside jobs (`--host`).
    #[serde(deserialize_with = "lenient::string")]
    pub host: Option<String>,
    /// Job names of dask-jobqueue workers.
    #[serde(deserialize_with = "lenient::list")]
    pub jobqueue_names: Vec<String>,
    /// Deadline of each submit/queue/cancel command.
    #[serde(deserialize_with = "lenient::duration")]
    pub command_timeout: Duration,
    /// The largest count create/scale accept.
    #[serde(deserialize_with = "lenient::count")]
    pub max_workers: u32,
    /// Where the batch system's commands are (a site with several batch systems).
    pub bin_dir: Option<PathBuf>,
    /// How this site prints a job's script, `{id}` replaced (e.g. `printjob -s {id}`).
    #[serde(deserialize_with = "lenient::string")]
    pub script_command: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            python: None,
            shared_dir: None,
            host: None,
            jobqueue_names: vec!["dask-worker".into()],
            command_timeout: Duration::from_secs(30),
            max_workers: 1000,
            bin_dir: None,
            script_command: None,
        }
    }
}
