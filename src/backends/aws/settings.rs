//! `[backends.aws]` settings, and whether credentials exist at all, decided from the
//! environment and files only: the instance-metadata endpoint is never consulted unless
//! `imds = true` (on EC2 with an instance role), so `list` skips the backend in milliseconds.

use crate::config::Config;
use crate::units::parse_duration;
use std::path::PathBuf;
use std::time::Duration;

const B: &str = "aws";

#[derive(Debug, Clone)]
pub struct Settings {
    /// `--region` or `regions`; empty: the environment's or the profile's one region.
    pub regions: Vec<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub imds: bool,
    pub max_attempts: u32,
    /// DescribeInstances page size (5 to 1000).
    pub page_size: u32,
    pub ami: Option<String>,
    pub instance_type: String,
    pub worker_instance_type: Option<String>,
    pub image: String,
    /// "docker" (run `image`) or "pip" (install dask with pip on the image's python3).
    pub install: String,
    pub subnet: Option<String>,
    pub security_groups: Vec<String>,
    pub key_name: Option<String>,
    pub iam_instance_profile: Option<String>,
    /// Who may reach the scheduler and dashboard from outside the cluster's own group.
    pub ingress_cidr: Option<String>,
    /// Probe schedulers at their private address instead of the public one.
    pub use_private_ip: bool,
    /// How long a new scheduler instance may stay silent before it counts as orphaned.
    pub startup_grace: Duration,
    pub max_workers: u32,
    /// Workers asked for in one RunInstances call (each takes what EC2 can start).
    pub launch_batch: u32,
    /// How long a security group may stay held by instances shutting down before delete and
    /// roll-back give up on it (and report it: cleanup finds it by its tags).
    pub group_patience: Duration,
}

impl Settings {
    pub fn load(c: &Config) -> Settings {
        let s = |k: &str| c.backend_str(B, k);
        let list = |k: &str| -> Vec<String> {
            match c.backend_setting(B, k) {
                Some(toml::Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                Some(toml::Value::String(v)) => v
                    .split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect(),
                _ => Vec::new(),
            }
        };
        let flag = |k: &str| {
            c.backend_setting(B, k)
                .and_then(|v| v.as_bool())
                .unwrap_or(false)
        };
        Settings {
            regions: list("regions"),
            profile: s("profile").or_else(|| std::env::var("AWS_PROFILE").ok()),
            endpoint_url: s("endpoint_url"),
            imds: flag("imds"),
            max_attempts: c.backend_u32(B, "max_attempts").unwrap_or(5),
            page_size: c.backend_u32(B, "page_size").unwrap_or(1000).clamp(5, 1000),
            ami: s("ami"),
            instance_type: s("instance_type").unwrap_or_else(|| "t3.medium".into()),
            worker_instance_type: s("worker_instance_type"),
            image: s("image").unwrap_or_else(|| "ghcr.io/dask/dask:latest".into()),
            install: s("install").unwrap_or_else(|| "docker".into()),
            subnet: s("subnet"),
            security_groups: list("security_groups"),
            key_name: s("key_name"),
            iam_instance_profile: s("iam_instance_profile"),
            ingress_cidr: s("ingress_cidr"),
            use_private_ip: flag("use_private_ip"),
            startup_grace: s("startup_grace")
                .and_then(|v| parse_duration(&v).ok())
                .unwrap_or(Duration::from_secs(600)),
            max_workers: c.max_workers(B, 1000),
            launch_batch: c
                .backend_u32(B, "launch_batch")
                .unwrap_or(50)
                .clamp(1, 1000),
            group_patience: s("group_patience")
                .and_then(|v| parse_duration(&v).ok())
                .unwrap_or(Duration::from_secs(600)),
        }
    }

    /// Why no credentials can be had without asking the network, or None when some source
    /// (variables, profile files, web identity, container endpoint, or allowed IMDS) exists.
    pub fn missing_credentials(&self) -> Option<String> {
        let var = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        if self.imds
            || (var("AWS_ACCESS_KEY_ID") && var("AWS_SECRET_ACCESS_KEY"))
            || var("AWS_WEB_IDENTITY_TOKEN_FILE")
            || var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            || var("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            || profile_files().iter().any(|p| p.is_file())
        {
            return None;
        }
        Some(
            "no AWS credentials (AWS_ACCESS_KEY_ID, ~/.aws/credentials or ~/.aws/config); \
             instance metadata is only used with backends.aws.imds = true"
                .into(),
        )
    }
}

/// The shared config and credentials files, where the SDK looks for them.
fn profile_files() -> Vec<PathBuf> {
    let home = dirs::home_dir().unwrap_or_default();
    let pick = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".aws").join(default))
    };
    vec![
        pick("AWS_CONFIG_FILE", "config"),
        pick("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    ]
}
