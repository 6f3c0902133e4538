//! `[backends.gcp]` settings, and whether credentials exist at all, decided from the environment
//! and files only (`auth.rs`): the metadata server is consulted only on a Compute Engine VM or
//! with `metadata = true`, so `list` skips the backend in microseconds elsewhere.

use crate::config::Config;
use crate::error::Result;
use crate::settings::lenient;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[backends.gcp]`; the README's table lists the same keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Projects searched (every zone of each); empty: the one project gcloud would use.
    #[serde(deserialize_with = "lenient::list")]
    pub projects: Vec<String>,
    /// The zone `create` uses (`--zone`); else gcloud's `compute/zone`.
    #[serde(deserialize_with = "lenient::string")]
    pub zone: Option<String>,
    /// The Compute Engine API root (a private endpoint, or a stand-in on loopback).
    #[serde(deserialize_with = "lenient::string")]
    pub endpoint: Option<String>,
    /// A credentials file (service account key or gcloud user credentials) instead of
    /// Application Default Credentials.
    #[serde(deserialize_with = "lenient::string")]
    pub credentials_file: Option<String>,
    /// Use the metadata server for credentials even where this is not a Compute Engine VM.
    pub metadata: bool,
    /// aggregatedList page size (1 to 500).
    #[serde(deserialize_with = "lenient::count")]
    pub page_size: u32,
    /// Default for `--machine-type` (the scheduler's, and the workers' unless
    /// `worker_machine_type`).
    #[serde(deserialize_with = "lenient::string")]
    pub machine_type: Option<String>,
    /// Default for `--worker-machine-type`.
    #[serde(deserialize_with = "lenient::string")]
    pub worker_machine_type: Option<String>,
    /// The boot disk image (Container-Optimized OS has Docker).
    #[serde(deserialize_with = "lenient::string")]
    pub source_image: Option<String>,
    /// The container image Dask runs from.
    #[serde(deserialize_with = "lenient::string")]
    pub image: Option<String>,
    /// The VPC network (or `projects/P/regions/R/subnetworks/S`).
    #[serde(deserialize_with = "lenient::string")]
    pub network: Option<String>,
    /// Give instances an external address, and probe schedulers there.
    pub external_ip: bool,
    /// How long a new scheduler instance may stay silent before it counts as orphaned.
    #[serde(deserialize_with = "lenient::duration")]
    pub startup_grace: Duration,
    /// The largest count create/scale accept.
    #[serde(deserialize_with = "lenient::count")]
    pub max_workers: u32,
    /// Scheme of dask-cloudprovider schedulers (`tcp` unless its `security` was turned on).
    #[serde(deserialize_with = "lenient::string")]
    pub cloudprovider_protocol: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            projects: Vec::new(),
            zone: None,
            endpoint: None,
            credentials_file: None,
            metadata: false,
            page_size: 500,
            machine_type: None,
            worker_machine_type: None,
            source_image: None,
            image: None,
            network: None,
            external_ip: false,
            startup_grace: Duration::from_secs(600),
            max_workers: 1000,
            cloudprovider_protocol: None,
        }
    }
}

impl Settings {
    pub fn load(c: &Config) -> Result<Settings> {
        let mut s: Settings = crate::settings::load(c, "gcp")?;
        s.page_size = s.page_size.clamp(1, 500);
        Ok(s)
    }

    pub fn machine_type(&self) -> &str {
        self.machine_type.as_deref().unwrap_or("e2-standard-2")
    }

    pub fn image(&self) -> &str {
        self.image.as_deref().unwrap_or("ghcr.io/dask/dask:latest")
    }

    pub fn source_image(&self) -> &str {
        self.source_image
            .as_deref()
            .unwrap_or("projects/cos-cloud/global/images/family/cos-stable")
    }

    pub fn network(&self) -> &str {
        self.network.as_deref().unwrap_or("global/networks/default")
    }

    pub fn cloudprovider_scheme(&self) -> &str {
        match self.cloudprovider_protocol.as_deref() {
            Some("tls") => "tls",
            _ => "tcp",
        }
    }

    pub fn credentials_path(&self) -> Option<PathBuf> {
        // an empty value (a variable set to "") means none
        self.credentials_file
            .as_ref()
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_reach_the_typed_settings() {
        let env = [
            ("DASKCTL_BACKENDS__GCP__PROJECTS", "a-1,b-2"),
            ("DASKCTL_BACKENDS__GCP__ZONE", "us-central1-a"),
            ("DASKCTL_BACKENDS__GCP__PAGE_SIZE", "9000"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()));
        let c = Config::from_parts("", std::path::Path::new("c.toml"), env.into_iter()).unwrap();
        let s = Settings::load(&c).unwrap();
        assert_eq!(s.projects, ["a-1", "b-2"]);
        assert_eq!(s.zone.as_deref(), Some("us-central1-a"));
        assert_eq!(s.page_size, 500);
    }
}
