//! Login nodes over one home, on one machine (scripts/testbeds/login-nodes.sh): sibling UTS,
//! PID, network and mount namespaces, each with its own hostname, processes and loopback, over
//! the same files. daskctl runs inside a node with a test's whole environment (its state
//! directory is then shared by every node, as a home directory is on a login-node pool).

use super::*;
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/testbeds/login-nodes.sh")
}

pub struct LoginNode {
    pub name: String,
}

impl LoginNode {
    /// A node of its own (its name is its hostname), stopped with every process in it when
    /// dropped. None where namespaces cannot be made (not root): the test says it skips, and
    /// where scripts/test.sh asked for them (DASKCTL_TEST_NODES) that is a failure.
    pub fn start(name: &str) -> Option<LoginNode> {
        let root = nix::unistd::getuid().is_root();
        if !root {
            assert!(
                std::env::var_os("DASKCTL_TEST_NODES").is_none(),
                "DASKCTL_TEST_NODES is set but login nodes need root"
            );
            eprintln!("skipping: login nodes need root (unshare)");
            return None;
        }
        let name = format!("{name}-{}", std::process::id());
        let o = Command::new(script())
            .args(["start", &name])
            .output()
            .expect("login-nodes.sh");
        assert!(
            o.status.success(),
            "starting {name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Some(LoginNode { name })
    }

    /// daskctl inside this node, with everything `env.command` would give it.
    pub fn daskctl(&self, env: &Env, args: &[&str]) -> Out {
        let inner = env.command(args);
        let mut c = Command::new(script());
        c.arg("run")
            .arg(&self.name)
            .arg(inner.get_program())
            .args(inner.get_args());
        for (k, v) in inner.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some(d) = inner.get_current_dir() {
            c.current_dir(d);
        }
        let o = c.output().expect("daskctl in a login node");
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Drop for LoginNode {
    fn drop(&mut self) {
        let _ = Command::new(script()).args(["stop", &self.name]).status();
    }
}
