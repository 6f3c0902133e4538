//! The startup script Compute Engine's guest agent runs at boot (metadata `startup-script`,
//! <https://cloud.google.com/compute/docs/instances/startup-scripts/linux>; its output goes to
//! the serial console, which `logs` reads): `dask scheduler` or `dask worker` from a container
//! image with host networking, as dask-cloudprovider runs them. The instance powers off when
//! Dask exits (nothing runs to bill for but its disk; `cleanup --orphaned` deletes it), and at
//! the TTL. Every value is validated or single-quoted.

use super::labels::{self, Node};
use crate::backends::jobqueue::script::quote;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

pub const SCHEDULER_PORT: u16 = 8786;
pub const DASHBOARD_PORT: u16 = 8787;

/// How the workers of one group are launched; kept on the scheduler (metadata) so `scale`
/// needs no local state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSpec {
    pub machine_type: String,
    pub spot: bool,
    pub threads: Option<u32>,
    pub memory: Option<u64>,
    pub image: String,
    /// The worker group (None: the default group).
    pub group: Option<String>,
}

fn header(cluster: &str, role: &str, ttl_minutes: Option<u64>) -> String {
    let mut s = format!(
        "#!/bin/bash\n\
         # daskctl:v1 cluster={cluster} role={role}\n\
         NAME=$(hostname)\n\
         IP=$(hostname -I | cut -d' ' -f1)\n"
    );
    if let Some(m) = ttl_minutes {
        s.push_str(&format!(
            "shutdown -h +{} 'daskctl: TTL reached'\n",
            m.max(1)
        ));
    }
    s
}

fn run(image: &str, dask_args: &[String]) -> Result<String> {
    crate::names::check_image(image)?;
    Ok(format!(
        "docker run --rm --net=host {} dask {}\n",
        quote(image),
        dask_args.join(" ")
    ))
}

pub fn scheduler(
    image: &str,
    cluster: &str,
    ttl_minutes: Option<u64>,
    idle: Option<u64>,
) -> Result<String> {
    let mut args = vec![
        "scheduler".to_string(),
        "--host \"$IP\"".into(),
        format!("--port {SCHEDULER_PORT}"),
        format!("--dashboard-address \"$IP:{DASHBOARD_PORT}\""),
    ];
    if let Some(t) = idle {
        args.push(format!("--idle-timeout {t}s"));
    }
    Ok(format!(
        "{}{}shutdown -h now\n",
        header(cluster, "scheduler", ttl_minutes),
        run(image, &args)?
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
        // the instance name: what `scale` down retires and deletes
        "--name \"$NAME\"".into(),
        "--host \"$IP\"".into(),
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
        run(&spec.image, &args)?
    ))
}

/// The worker launch specs kept on the scheduler.
pub fn specs(sched: &Node) -> Result<Vec<WorkerSpec>> {
    let text = sched.metadata.get(labels::META_SPECS).ok_or_else(|| {
        Error::backend(
            "gcp",
            format!("{}: no {} metadata", sched.name, labels::META_SPECS),
        )
    })?;
    serde_json::from_str(text).map_err(|e| {
        Error::backend(
            "gcp",
            format!(
                "{}: {} is not daskctl's: {e}",
                sched.name,
                labels::META_SPECS
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_quote_and_refuse_what_they_cannot() {
        let s = WorkerSpec {
            machine_type: "e2-standard-2".into(),
            spot: false,
            threads: Some(2),
            memory: Some(4 << 30),
            image: "ghcr.io/dask/dask:2026.1.0".into(),
            group: None,
        };
        let w = worker("c1", "10.0.0.5", &s, Some(90)).unwrap();
        assert!(
            w.contains("dask worker tcp://10.0.0.5:8786 --name \"$NAME\""),
            "{w}"
        );
        assert!(w.contains("--nthreads 2 --memory-limit 4294967296"));
        assert!(w.contains("shutdown -h +90"));
        assert!(worker("c1", "10.0.0.5;reboot", &s, None).is_err());
        let bad = WorkerSpec {
            image: "x;reboot".into(),
            ..s
        };
        assert!(worker("c1", "10.0.0.5", &bad, None).is_err());
        let sc = scheduler("ghcr.io/dask/dask:latest", "c1", None, Some(600)).unwrap();
        assert!(
            sc.contains("dask scheduler --host \"$IP\" --port 8786"),
            "{sc}"
        );
        assert!(sc.contains("--idle-timeout 600s"));
    }
}
