//! The user data cloud-init runs on first boot: start `dask scheduler` or `dask worker` from a
//! container image (installing Docker when the image lacks it), or from pip, as
//! dask-cloudprovider does; power the instance off when Dask exits (launched with
//! shutdown behaviour `terminate`, so nothing is left to bill), and at the TTL. Every value is
//! validated or single-quoted.

use crate::backends::jobqueue::script::quote;
use crate::error::{Error, Result};

pub const SCHEDULER_PORT: u16 = 8786;
pub const DASHBOARD_PORT: u16 = 8787;

/// How workers are launched; kept on the scheduler as a tag so `scale` needs no local state.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerSpec {
    pub instance_type: String,
    pub spot: bool,
    pub threads: Option<u32>,
    pub memory: Option<u64>,
    pub image: String,
    pub install: String,
    /// The worker group (None: the default group).
    pub group: Option<String>,
}

impl WorkerSpec {
    pub fn to_tag(&self) -> String {
        let mut v = format!(
            "type={};spot={};install={};image={}",
            self.instance_type, self.spot, self.install, self.image
        );
        if let Some(t) = self.threads {
            v.push_str(&format!(";threads={t}"));
        }
        if let Some(m) = self.memory {
            v.push_str(&format!(";memory={m}"));
        }
        if let Some(g) = &self.group {
            v.push_str(&format!(";group={g}"));
        }
        v
    }

    pub fn from_tag(v: &str) -> Option<WorkerSpec> {
        let get = |k: &str| {
            v.split(';')
                .filter_map(|p| p.split_once('='))
                .find(|(x, _)| *x == k)
                .map(|(_, y)| y.to_string())
        };
        Some(WorkerSpec {
            instance_type: get("type")?,
            spot: get("spot").as_deref() == Some("true"),
            threads: get("threads").and_then(|t| t.parse().ok()),
            memory: get("memory").and_then(|m| m.parse().ok()),
            image: get("image")?,
            install: get("install")?,
            group: get("group").filter(|g| crate::groups::validate(g).is_ok()),
        })
    }
}

pub use crate::names::check_image;

fn install_and_run(install: &str, image: &str, dask_args: &[String]) -> Result<String> {
    let args = dask_args.join(" ");
    match install {
        "docker" => {
            check_image(image)?;
            Ok(format!(
                "command -v docker >/dev/null || (curl -fsSL https://get.docker.com | sh)\n\
                 docker run --rm --net=host {} dask {args}\n",
                quote(image)
            ))
        }
        "pip" => Ok(format!(
            "python3 -m venv /opt/dask || (apt-get update && apt-get install -y python3-venv && python3 -m venv /opt/dask)\n\
             /opt/dask/bin/pip install -q 'dask[distributed]' bokeh\n\
             /opt/dask/bin/dask {args}\n"
        )),
        other => Err(Error::Usage(format!(
            "backends.aws.install must be \"docker\" or \"pip\", not {other:?}"
        ))),
    }
}

fn header(cluster: &str, role: &str, ttl_minutes: Option<u64>) -> String {
    let mut s = format!(
        "#!/bin/bash\n\
         # daskctl:v1 cluster={cluster} role={role}\n\
         exec > >(tee -a /var/log/daskctl.log) 2>&1\n\
         INSTANCE_ID=$(cat /var/lib/cloud/data/instance-id 2>/dev/null || hostname)\n"
    );
    if let Some(m) = ttl_minutes {
        s.push_str(&format!(
            "shutdown -h +{} 'daskctl: TTL reached'\n",
            m.max(1)
        ));
    }
    s
}

pub fn scheduler(
    cluster: &str,
    install: &str,
    image: &str,
    ttl_minutes: Option<u64>,
    idle_timeout: Option<u64>,
) -> Result<String> {
    let mut args = vec![
        "scheduler".to_string(),
        "--host 0.0.0.0".into(),
        format!("--port {SCHEDULER_PORT}"),
        format!("--dashboard-address :{DASHBOARD_PORT}"),
    ];
    // Dask's own idle timeout: the scheduler ends itself, the instance then powers off (and
    // terminates: InstanceInitiatedShutdownBehavior), the workers follow by their death timeout
    if let Some(t) = idle_timeout {
        args.push(format!("--idle-timeout {t}s"));
    }
    Ok(format!(
        "{}{}shutdown -h now\n",
        header(cluster, "scheduler", ttl_minutes),
        install_and_run(install, image, &args)?
    ))
}

pub fn worker(
    cluster: &str,
    scheduler_ip: &str,
    spec: &WorkerSpec,
    ttl_minutes: Option<u64>,
) -> Result<String> {
    let ip: std::net::IpAddr = scheduler_ip
        .parse()
        .map_err(|_| Error::Usage(format!("invalid scheduler address {scheduler_ip:?}")))?;
    let mut args = vec![
        "worker".to_string(),
        format!("tcp://{ip}:{SCHEDULER_PORT}"),
        "--name \"$INSTANCE_ID\"".into(),
        // a worker whose scheduler is gone for 10 minutes exits and powers its instance off
        "--death-timeout 600".into(),
    ];
    args.extend(crate::groups::script_worker_args(
        spec.threads,
        spec.memory,
        spec.group.as_deref(),
    )?);
    Ok(format!(
        "{}{}shutdown -h now\n",
        header(cluster, "worker", ttl_minutes),
        install_and_run(&spec.install, &spec.image, &args)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_round_trips_and_scripts_quote() {
        let s = WorkerSpec {
            instance_type: "t3.large".into(),
            spot: true,
            threads: Some(2),
            memory: Some(4 << 30),
            image: "ghcr.io/dask/dask:2026.1.0".into(),
            install: "docker".into(),
            group: None,
        };
        assert_eq!(WorkerSpec::from_tag(&s.to_tag()), Some(s.clone()));
        let g = WorkerSpec {
            group: Some("gpu".into()),
            threads: None,
            ..s.clone()
        };
        assert_eq!(WorkerSpec::from_tag(&g.to_tag()), Some(g.clone()));
        let w = worker("c1", "10.0.0.5", &g, None).unwrap();
        assert!(w.contains("--resources \"gpu=$(nproc)\""), "{w}");
        let w = worker("c1", "10.0.0.5", &s, Some(90)).unwrap();
        assert!(w.contains("dask worker tcp://10.0.0.5:8786 --name \"$INSTANCE_ID\""));
        assert!(w.contains("--nthreads 2 --memory-limit 4294967296"));
        assert!(w.contains("shutdown -h +90"));
        assert!(worker("c1", "10.0.0.5;reboot", &s, None).is_err());
        let bad = WorkerSpec {
            image: "x;reboot".into(),
            ..s
        };
        assert!(worker("c1", "10.0.0.5", &bad, None).is_err());
    }
}
