//! `[backends.aws]` settings, and whether credentials exist at all, decided from the
//! environment and files only: the instance-metadata endpoint is never consulted unless
//! `imds = true` (on EC2 with an instance role), so `list` skips the backend in milliseconds.

use crate::config::Config;
use crate::error::Result;
use crate::settings::lenient;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[backends.aws]`; the README's table lists the same keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `--region` or `regions`; empty: the environment's or the profile's one region.
    #[serde(deserialize_with = "lenient::list")]
    pub regions: Vec<String>,
    /// The shared-config profile (`--profile`, `AWS_PROFILE`).
    #[serde(deserialize_with = "lenient::string")]
    pub profile: Option<String>,
    /// An EC2 endpoint (an emulator such as moto); `AWS_ENDPOINT_URL` too.
    #[serde(deserialize_with = "lenient::string")]
    pub endpoint_url: Option<String>,
    /// Allow the instance-metadata endpoint for credentials and region.
    pub imds: bool,
    /// SDK attempts per call, throttling included.
    #[serde(deserialize_with = "lenient::count")]
    pub max_attempts: u32,
    /// DescribeInstances page size (5 to 1000).
    #[serde(deserialize_with = "lenient::count")]
    pub page_size: u32,
    /// Default for `--ami`.
    #[serde(deserialize_with = "lenient::string")]
    pub ami: Option<String>,
    /// Default for `--instance-type`.
    #[serde(deserialize_with = "lenient::string")]
    pub instance_type: Option<String>,
    /// Default for `--worker-instance-type`.
    #[serde(deserialize_with = "lenient::string")]
    pub worker_instance_type: Option<String>,
    /// Container image Dask runs from.
    #[serde(deserialize_with = "lenient::string")]
    pub image: Option<String>,
    /// "docker" (run `image`) or "pip" (install dask with pip on the image's python3).
    pub install: Install,
    /// Default for `--subnet`.
    #[serde(deserialize_with = "lenient::string")]
    pub subnet: Option<String>,
    /// Default for `--security-group`.
    #[serde(deserialize_with = "lenient::list")]
    pub security_groups: Vec<String>,
    /// Default for `--key-name`.
    #[serde(deserialize_with = "lenient::string")]
    pub key_name: Option<String>,
    /// Default for `--iam-instance-profile`.
    #[serde(deserialize_with = "lenient::string")]
    pub iam_instance_profile: Option<String>,
    /// Who may reach the scheduler and dashboard from outside the cluster's own group.
    #[serde(deserialize_with = "lenient::string")]
    pub ingress_cidr: Option<String>,
    /// Probe schedulers at their private address instead of the public one.
    pub use_private_ip: bool,
    /// How long a new scheduler instance may stay silent before it counts as orphaned.
    #[serde(deserialize_with = "lenient::duration")]
    pub startup_grace: Duration,
    /// The largest count create/scale accept.
    #[serde(deserialize_with = "lenient::count")]
    pub max_workers: u32,
    /// Scheme of dask-cloudprovider schedulers (`tls` by default, as it secures them).
    pub cloudprovider_protocol: Protocol,
    /// Workers asked for in one RunInstances call (each takes what EC2 can start).
    #[serde(deserialize_with = "lenient::count")]
    pub launch_batch: u32,
    /// How long a security group may stay held by instances shutting down before delete and
    /// roll-back give up on it (and report it: cleanup finds it by its tags).
    #[serde(deserialize_with = "lenient::duration")]
    pub group_patience: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Install {
    Docker,
    Pip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Tls,
}

impl Install {
    pub fn as_str(self) -> &'static str {
        match self {
            Install::Docker => "docker",
            Install::Pip => "pip",
        }
    }
}

impl Protocol {
    pub fn scheme(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Tls => "tls",
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            regions: Vec::new(),
            profile: None,
            endpoint_url: None,
            imds: false,
            max_attempts: 5,
            page_size: 1000,
            ami: None,
            instance_type: None,
            worker_instance_type: None,
            image: None,
            install: Install::Docker,
            subnet: None,
            security_groups: Vec::new(),
            key_name: None,
            iam_instance_profile: None,
            ingress_cidr: None,
            use_private_ip: false,
            startup_grace: Duration::from_secs(600),
            max_workers: 1000,
            cloudprovider_protocol: Protocol::Tls,
            launch_batch: 50,
            group_patience: Duration::from_secs(600),
        }
    }
}

impl Settings {
    pub fn load(c: &Config) -> Result<Settings> {
        let mut s: Settings = crate::settings::load(c, "aws")?;
        if s.profile.is_none() {
            s.profile = std::env::var("AWS_PROFILE").ok();
        }
        s.page_size = s.page_size.clamp(5, 1000);
        s.launch_batch = s.launch_batch.clamp(1, 1000);
        Ok(s)
    }

    pub fn instance_type(&self) -> &str {
        self.instance_type.as_deref().unwrap_or("t3.medium")
    }

    pub fn image(&self) -> &str {
        self.image.as_deref().unwrap_or("ghcr.io/dask/dask:latest")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_reach_the_typed_settings() {
        let env = [
            ("DASKCTL_BACKENDS__AWS__GROUP_PATIENCE", "2s"),
            ("DASKCTL_BACKENDS__AWS__MAX_ATTEMPTS", "1"),
            ("DASKCTL_BACKENDS__AWS__STARTUP_GRACE", "0s"),
            ("DASKCTL_BACKENDS__AWS__REGIONS", "us-east-1,eu-west-1"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()));
        let c = Config::from_parts("", std::path::Path::new("c.toml"), env.into_iter()).unwrap();
        let s = Settings::load(&c).unwrap();
        assert_eq!(s.group_patience, Duration::from_secs(2));
        assert_eq!(s.max_attempts, 1);
        assert_eq!(s.startup_grace, Duration::ZERO);
        assert_eq!(s.regions, ["us-east-1", "eu-west-1"]);
    }
}
