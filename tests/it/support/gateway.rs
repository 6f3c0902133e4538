//! The real dask-gateway server (scripts/testbeds/gateway.sh): whether it is up, a test
//! environment whose Dask configuration points at it as one gateway user, and that user's
//! Python client (`dask_gateway.Gateway`) for what the tests do outside daskctl.

use super::*;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;

pub const GW_HTTP: &str = "http://127.0.0.1:28000";
pub const GW_PROXY: &str = "gateway://127.0.0.1:28786";
pub const GW_PASSWORD: &str = "testpw";

/// The gateway bed's run directory (scripts/testbeds/gateway.sh: GATEWAY_RUN).
pub fn gw_run() -> std::path::PathBuf {
    std::env::var_os("GATEWAY_RUN")
        .map(Into::into)
        .unwrap_or_else(|| "/tmp/daskctl-gateway".into())
}

/// The gateway's own Python environment (dask-gateway's client is installed there).
pub fn gateway_python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    root.join(".venv-gateway/bin/python")
}

/// Whether the gateway answers its health check. Where `scripts/test.sh` started it
/// (DASKCTL_TEST_GATEWAY=1) its absence is a failure; elsewhere the tests say why they skip.
pub fn gateway_up() -> bool {
    let up = std::net::TcpStream::connect("127.0.0.1:28000").is_ok_and(|mut s| {
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let _ = s.write_all(b"GET /api/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200")
    });
    if !up {
        assert!(
            std::env::var_os("DASKCTL_TEST_GATEWAY").is_none(),
            "DASKCTL_TEST_GATEWAY is set but the gateway does not answer (scripts/testbeds/gateway.sh start)"
        );
        eprintln!("skipping: no dask-gateway server (scripts/testbeds/gateway.sh start)");
    }
    up
}

/// One gateway user's view: a daskctl environment configured as a notebook image would
/// configure dask-gateway's client (Dask's `gateway:` settings, nothing of daskctl's), and
/// that user's Python client. Every cluster of the user is stopped when it drops.
pub struct GatewayUser {
    pub env: Env,
    pub user: String,
}

impl GatewayUser {
    pub fn new(user: &str) -> GatewayUser {
        GatewayUser::with_password(user, GW_PASSWORD)
    }

    pub fn with_password(user: &str, password: &str) -> GatewayUser {
        let mut g = GatewayUser::beside(user, password);
        g.env.lock = Some(serial());
        g
    }

    /// A second user in a test that already holds the serial lock (through its first user).
    pub fn beside(user: &str, password: &str) -> GatewayUser {
        let g = GatewayUser {
            env: gateway_env(user, password),
            user: user.to_string(),
        };
        g.stop_all();
        g
    }

    /// Runs Python with `gw`, this user's `dask_gateway.Gateway`; its stdout.
    pub fn py(&self, code: &str) -> String {
        py_as(&self.user, code)
    }

    /// A cluster made by the Python client that outlives the Python process, scaled to `n`
    /// workers and waited for; its name.
    pub fn python_cluster(&self, n: u32) -> String {
        self.py(&format!(
            "c = gw.new_cluster(shutdown_on_close=False)\nc.scale({n})\ncl = c.get_client()\ncl.wait_for_workers({n}, timeout=120)\ncl.close()\nprint(c.name)"
        ))
    }

    /// The names of this user's clusters the gateway reports running or pending.
    pub fn live(&self) -> Vec<String> {
        let out = self.py(
            "print(json.dumps(sorted(r.name for r in gw.list_clusters() if r.status.name in ('PENDING', 'RUNNING'))))",
        );
        serde_json::from_str(&out).unwrap()
    }

    pub fn stop_all(&self) {
        self.py("[gw.stop_cluster(r.name) for r in gw.list_clusters()]");
    }

    /// The scheduler process of one of the gateway's clusters (its environment names it).
    pub fn scheduler_pid(&self, cluster: &str) -> Option<i32> {
        let want = format!("DASK_GATEWAY_CLUSTER_NAME={cluster}");
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let has = environ.split(|b| *b == 0).any(|kv| kv == want.as_bytes());
            let sched = cmd.split(|b| *b == 0).any(|a| a == b"scheduler");
            (has && sched).then_some(pid)
        })
    }
}

/// A daskctl environment configured as a notebook image configures dask-gateway's client
/// (Dask's `gateway:` settings, nothing of daskctl's), as `user`.
pub fn gateway_env(user: &str, password: &str) -> Env {
    let env = Env::new().without_batch();
    configure(&env, user, password);
    env
}

/// Dask's `gateway:` settings in `env`, as `user`.
pub fn configure(env: &Env, user: &str, password: &str) {
    let dask = env.dir.path().join("dask");
    std::fs::create_dir_all(&dask).unwrap();
    std::fs::write(
            dask.join("gateway.yaml"),
            format!(
                "gateway:\n  address: {GW_HTTP}\n  proxy-address: {GW_PROXY}\n  auth:\n    type: basic\n    kwargs:\n      username: {user}\n      password: {password}\n"
            ),
        )
        .unwrap();
}

/// Runs Python with `gw`, `user`'s `dask_gateway.Gateway`; its stdout.
pub fn py_as(user: &str, code: &str) -> String {
    let prelude = format!(
        "import json, sys, warnings\nwarnings.filterwarnings('ignore')\nfrom dask_gateway import Gateway, BasicAuth\ngw = Gateway({GW_HTTP:?}, proxy_address={GW_PROXY:?}, auth=BasicAuth({user:?}, {GW_PASSWORD:?}))\n"
    );
    let o = Command::new(gateway_python())
        .arg("-c")
        .arg(format!("{prelude}{code}"))
        .output()
        .expect("run the gateway's Python");
    assert!(
        o.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// What the gateway reports of `user`'s cluster `name`: its status, or None when it no longer
/// knows it.
pub fn gateway_status(user: &str, name: &str) -> Option<String> {
    let out = py_as(
        user,
        &format!(
            "try:\n    print(gw.get_cluster({name:?}).status.name)\nexcept ValueError:\n    print('GONE')"
        ),
    );
    (out != "GONE").then_some(out)
}

impl Drop for GatewayUser {
    fn drop(&mut self) {
        // also when the test failed: a cluster left running would hold the gateway's processes
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.stop_all()));
    }
}
