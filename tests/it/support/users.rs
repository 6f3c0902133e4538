//! A second Unix user (`daskctl-other`, made by scripts/testbeds/users.sh) whose clusters
//! daskctl must neither show nor touch.

use super::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The second Unix user made by scripts/testbeds/users.sh, for tests that check daskctl never
/// touches another user's processes.
pub struct OtherUser {
    pub uid: u32,
    pub gid: u32,
    pub python: std::path::PathBuf,
    /// A directory the user owns, removed with it.
    pub dir: tempfile::TempDir,
}

impl OtherUser {
    /// The user, where the test bed made it (as root); elsewhere the test says it skips, and
    /// where scripts/test.sh made it (DASKCTL_TEST_USERS) its absence is a failure.
    pub fn get() -> Option<OtherUser> {
        let python = std::path::PathBuf::from("/opt/daskctl-other/venv/bin/python");
        let user = nix::unistd::User::from_name("daskctl-other").ok().flatten();
        let ready = nix::unistd::getuid().is_root() && python.exists() && user.is_some();
        if !ready {
            assert!(
                std::env::var_os("DASKCTL_TEST_USERS").is_none(),
                "DASKCTL_TEST_USERS is set but the second user is missing (scripts/testbeds/users.sh)"
            );
            eprintln!("skipping: no second user (as root: scripts/testbeds/users.sh)");
            return None;
        }
        let u = user.unwrap();
        let dir = tempfile::Builder::new()
            .prefix("daskctl-other-")
            .tempdir()
            .unwrap();
        nix::unistd::chown(dir.path(), Some(u.uid), Some(u.gid)).unwrap();
        Some(OtherUser {
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            python,
            dir,
        })
    }

    /// A command run as the user (setpriv execs it: the child is the process itself).
    pub fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .arg("--clear-groups")
            .arg("--")
            .arg(program)
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        c
    }

    /// A `dask scheduler` of the user's on 127.0.0.1; its address.
    pub fn scheduler(&self) -> (KillOnDrop, String) {
        let file = self.dir.path().join("scheduler.json");
        let f = file.to_str().unwrap();
        let child = self
            .command(
                &self.python,
                &[
                    "-m",
                    "dask",
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--dashboard-address",
                    "127.0.0.1:0",
                    "--scheduler-file",
                    f,
                ],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let child = KillOnDrop(child);
        let mut addr = String::new();
        wait_until(
            "the other user's scheduler",
            Duration::from_secs(60),
            || super::scheduler_address(&file).map(|a| addr = a).is_some(),
        );
        (child, addr)
    }

    pub fn worker(&self, addr: &str) -> KillOnDrop {
        KillOnDrop(
            self.command(
                &self.python,
                &[
                    "-m",
                    "dask",
                    "worker",
                    addr,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                ],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        )
    }

    /// A one-core `sleep 600` Slurm job of the user's named `job_name`, with `comment` (a
    /// daskctl marker, true or forged); its job id.
    pub fn sbatch_sleeper(&self, job_name: &str, comment: &str) -> String {
        let out = self
            .command(
                Path::new("sbatch"),
                &[
                    "--parsable",
                    &format!("--job-name={job_name}"),
                    &format!("--comment={comment}"),
                    "--cpus-per-task=1",
                    "--output=/dev/null",
                    "--wrap=sleep 600",
                ],
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// daskctl run as the user, with a state directory of theirs.
    pub fn daskctl(&self, args: &[&str]) -> super::Out {
        self.daskctl_with(&[], args)
    }

    /// `daskctl` as the user, with more environment (which may replace HOME and the rest).
    pub fn daskctl_with(&self, env: &[(&str, &str)], args: &[&str]) -> super::Out {
        let o = self
            .command(Path::new(env!("CARGO_BIN_EXE_daskctl")), args)
            .env("DASKCTL_STATE_DIR", self.state())
            .env("DASKCTL_CACHE_DIR", self.dir.path().join("cache"))
            .env("DASKCTL_CONFIG", self.dir.path().join("config.toml"))
            .env("DASKCTL_PYTHON", &self.python)
            .env("DASKCTL_PROBE_LOOPBACK_ONLY", "1")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        super::Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Their home directory (from the password database), where the daskctl root starts for
    /// them looks for their own settings and shared directories.
    pub fn home(&self) -> std::path::PathBuf {
        nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(self.uid))
            .unwrap()
            .unwrap()
            .dir
    }

    pub fn state(&self) -> std::path::PathBuf {
        self.dir.path().join("state")
    }
}

impl Drop for OtherUser {
    /// A test that failed half-way leaves nothing of the user's running: every process of
    /// theirs whose command line names this test's directory is killed.
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-KILL", "-u", &self.uid.to_string(), "-f"])
            .arg(self.dir.path())
            .status();
    }
}
