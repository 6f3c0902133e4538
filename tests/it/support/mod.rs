//! Test support: each test gets its own daskctl state, cache and config, runs the real binary,
//! and talks to real Dask processes from the project's Python environment.

#![allow(dead_code)]

pub mod aws;
#[cfg(feature = "kubernetes")]
pub mod kube;
pub mod procs;
pub mod tls;

pub use procs::{plant_state, ppid, script, set_state_python};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Python with dask and distributed: `DASKCTL_TEST_PYTHON`, else the project's `.venv`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("DASKCTL_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        p.exists(),
        "no Python with distributed at {}: run scripts/setup-python.sh (or set DASKCTL_TEST_PYTHON)",
        p.display()
    );
    p
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// The error line, asserting it is a single line.
    pub fn one_line_error(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one line on stderr, got: {:?}",
            self.stderr
        );
        assert!(lines[0].starts_with("error: "), "{:?}", lines[0]);
        lines[0]
    }
}

/// An isolated daskctl environment; everything it created is killed when it drops.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub extra: Vec<(String, String)>,
    /// Held for the whole test by tests that must not overlap others.
    pub lock: Option<nix::fcntl::Flock<std::fs::File>>,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("daskctl-it-")
            .tempdir()
            .expect("tempdir");
        Env {
            dir,
            extra: Vec::new(),
            lock: None,
        }
    }

    /// An environment for the Slurm test bed: jobs run the project's Python, Dask binds to
    /// loopback, scheduler files go to a per-test shared directory. Holds the serial lock.
    pub fn slurm() -> Env {
        let lock = serial();
        let mut e = Env::new();
        let shared = e.dir.path().join("shared");
        e.lock = Some(lock);
        e.with(
            "DASKCTL_BACKENDS__SLURM__PYTHON",
            python().to_str().unwrap(),
        )
        .with("DASKCTL_BACKENDS__SLURM__HOST", "127.0.0.1")
        .with(
            "DASKCTL_BACKENDS__SLURM__SHARED_DIR",
            shared.to_str().unwrap(),
        )
    }

    /// An environment for PBS through Slurm's qsub/qstat/qdel wrappers (scripts/testbeds/pbs.sh):
    /// Torque syntax, one job per worker (the wrappers' qstat does not show array tasks).
    pub fn pbs() -> Env {
        let lock = serial();
        let mut e = Env::new();
        let shared = e.dir.path().join("shared");
        e.lock = Some(lock);
        e.with("DASKCTL_BACKENDS__PBS__BIN_DIR", PBS_BIN)
            .with("DASKCTL_BACKENDS__PBS__FLAVOR", "torque")
            .with("DASKCTL_BACKENDS__PBS__ARRAYS", "false")
            .with("DASKCTL_BACKENDS__PBS__PYTHON", python().to_str().unwrap())
            .with("DASKCTL_BACKENDS__PBS__HOST", "127.0.0.1")
            .with(
                "DASKCTL_BACKENDS__PBS__SHARED_DIR",
                shared.to_str().unwrap(),
            )
    }

    /// An environment for PBS Professional's code path (JSON `qstat -f -F json -t`, `-J` arrays,
    /// `ID[INDEX].SERVER` ids, OpenPBS's qdel exit codes) through the OpenPBS-shaped shim over the
    /// Slurm test bed (support/pbspro/pbs_shim.py).
    pub fn pbspro() -> Env {
        let lock = serial();
        let mut e = Env::new();
        let shared = e.dir.path().join("shared");
        e.lock = Some(lock);
        let bin = shim_commands(
            e.dir.path(),
            "pbs-bin",
            "tests/it/support/pbspro/pbs_shim.py",
            &["qsub", "qstat", "qdel"],
        );
        let state = e.dir.path().join("pbs-shim");
        e.with("DASKCTL_BACKENDS__PBS__BIN_DIR", bin.to_str().unwrap())
            .with("DASKCTL_BACKENDS__PBS__FLAVOR", "pbspro")
            .with("DASKCTL_BACKENDS__PBS__ARRAYS", "true")
            .with("DASKCTL_BACKENDS__PBS__PYTHON", python().to_str().unwrap())
            .with("DASKCTL_BACKENDS__PBS__HOST", "127.0.0.1")
            .with(
                "DASKCTL_BACKENDS__PBS__SHARED_DIR",
                shared.to_str().unwrap(),
            )
            .with("PBS_SHIM_DIR", state.to_str().unwrap())
            .with("DASKCTL_BACKENDS__SLURM__ENABLED", "false")
    }

    /// Runs one of the PBS shim's commands with this environment.
    pub fn pbs_shim(&self, args: &[&str]) -> std::process::Output {
        let bin = self.dir.path().join("pbs-bin");
        let mut c = Command::new(bin.join(args[0]));
        c.args(&args[1..]);
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        c.output().expect("shim command")
    }

    /// An environment for HTCondor through the stand-in commands in support/htcondor (no
    /// HTCondor daemons can be installed here); the stand-in's queue is private to the test.
    pub fn htcondor() -> Env {
        let lock = serial();
        let mut e = Env::new();
        let shared = e.dir.path().join("shared");
        let queue = e.dir.path().join("condor");
        e.lock = Some(lock);
        let bin = condor_commands(e.dir.path());
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        e.with("PATH", &path)
            .with("CONDOR_STANDIN_DIR", queue.to_str().unwrap())
            .with(
                "DASKCTL_BACKENDS__HTCONDOR__PYTHON",
                python().to_str().unwrap(),
            )
            .with("DASKCTL_BACKENDS__HTCONDOR__HOST", "127.0.0.1")
            .with(
                "DASKCTL_BACKENDS__HTCONDOR__SHARED_DIR",
                shared.to_str().unwrap(),
            )
    }

    /// Runs one of the HTCondor stand-in commands with this environment.
    pub fn condor(&self, args: &[&str]) -> std::process::Output {
        let mut c = Command::new(args[0]);
        c.args(&args[1..]);
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        c.output().expect("stand-in command")
    }

    /// An environment for the Grid Engine test bed (scripts/testbeds/sge.sh).
    pub fn sge() -> Env {
        let lock = serial();
        let mut e = Env::new();
        let shared = e.dir.path().join("shared");
        e.lock = Some(lock);
        e.with("SGE_ROOT", SGE_ROOT)
            .with("SGE_CELL", "default")
            .with("DASKCTL_BACKENDS__SGE__PYTHON", python().to_str().unwrap())
            .with("DASKCTL_BACKENDS__SGE__HOST", "127.0.0.1")
            .with(
                "DASKCTL_BACKENDS__SGE__SHARED_DIR",
                shared.to_str().unwrap(),
            )
    }

    pub fn shared(&self) -> PathBuf {
        self.dir.path().join("shared")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    /// Leaves the batch backends out, for tests of another backend (with local beside it).
    pub fn without_batch(self) -> Env {
        self.with("DASKCTL_BACKENDS__SLURM__ENABLED", "false")
            .with("DASKCTL_BACKENDS__PBS__ENABLED", "false")
            .with("DASKCTL_BACKENDS__SGE__ENABLED", "false")
            .with("DASKCTL_BACKENDS__HTCONDOR__ENABLED", "false")
    }

    pub fn with(mut self, k: &str, v: &str) -> Env {
        self.extra.push((k.into(), v.into()));
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_daskctl"));
        // in the test's own directory: what batch systems write to the submission directory
        // (Slurm's qsub wrapper puts `SCRIPT.oJOBID` there) stays out of the source tree
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("DASKCTL_BACKENDS__LOCAL__ENABLED")
            .env("DASKCTL_STATE_DIR", self.state())
            .env("DASKCTL_CACHE_DIR", self.dir.path().join("cache"))
            .env("DASKCTL_CONFIG", self.config())
            .env("DASKCTL_PYTHON", python())
            // no AWS account of the developer's is ever used: Env::aws() points at moto
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_CONFIG_FILE", self.dir.path().join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // nor a Kubernetes cluster of theirs: Env::kube() points at the stand-in
            .env("KUBECONFIG", self.dir.path().join("kubeconfig"))
            .env_remove("KUBERNETES_SERVICE_HOST")
            // nothing in the tests may connect beyond loopback
            .env("DASKCTL_PROBE_LOOPBACK_ONLY", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        c
    }

    /// `run` with these variables set for this one command.
    pub fn run_env(&self, vars: &[(&str, &str)], args: &[&str]) -> Out {
        let mut c = self.command(args);
        for (k, v) in vars {
            c.env(k, v);
        }
        let o = c.output().expect("run daskctl");
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Out {
        let o = self.command(args).output().expect("run daskctl");
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// The clusters a `cleanup ARGS` preview (no `--yes`) would delete, sorted.
    pub fn cleanup_preview(&self, args: &[&str]) -> Vec<String> {
        let mut argv = vec!["cleanup"];
        argv.extend_from_slice(args);
        argv.extend(["-o", "json"]);
        let p = self.run(&argv).ok().json();
        assert_eq!(p["dry_run"], true, "{p}");
        let mut names: Vec<String> = p["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["cluster"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    }

    pub fn list(&self) -> Vec<serde_json::Value> {
        self.run(&["list", "-o", "json"])
            .ok()
            .json()
            .as_array()
            .cloned()
            .expect("array")
    }

    pub fn find(&self, name: &str) -> Option<serde_json::Value> {
        self.list().into_iter().find(|c| c["name"] == name)
    }

    pub fn describe(&self, name: &str) -> serde_json::Value {
        self.run(&["describe", name, "-o", "json"]).ok().json()
    }

    /// State directories of clusters daskctl keeps here.
    pub fn state_dirs(&self) -> Vec<String> {
        std::fs::read_dir(self.state().join("local"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn pids(&self, name: &str) -> Vec<i32> {
        let p = self.state().join("local").join(name).join("state.json");
        let Ok(text) = std::fs::read_to_string(p) else {
            return Vec::new();
        };
        let v: serde_json::Value = serde_json::from_str(&text).expect("state json");
        let mut out: Vec<i32> = v["workers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["pid"].as_i64().unwrap() as i32)
            .collect();
        if let Some(s) = v["scheduler"]["pid"].as_i64() {
            out.push(s as i32);
        }
        out
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for name in self.state_dirs() {
            for pid in self.pids(&name) {
                kill_group(pid);
            }
        }
        if self.extra.iter().any(|(k, _)| k == "CONDOR_STANDIN_DIR") {
            let o = self.condor(&["condor_q", "-json"]);
            let ads: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap_or_default();
            let ids: Vec<String> = ads
                .iter()
                .map(|a| format!("{}.{}", a["ClusterId"], a["ProcId"]))
                .collect();
            if !ids.is_empty() {
                let mut argv = vec!["condor_rm"];
                argv.extend(ids.iter().map(String::as_str));
                let _ = self.condor(&argv);
            }
        }
        if self.extra.iter().any(|(k, _)| k == "SGE_ROOT") {
            let _ = Command::new("qdel")
                .env("SGE_ROOT", SGE_ROOT)
                .env("SGE_CELL", "default")
                .args([
                    "-u",
                    &std::env::var("USER").unwrap_or_else(|_| "root".into()),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        // jobs submitted through the PBS shim (their Slurm comment carries no marker)
        if let Some((_, dir)) = self.extra.iter().find(|(k, _)| k == "PBS_SHIM_DIR")
            && let Ok(text) = std::fs::read_to_string(Path::new(dir).join("jobs.json"))
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
        {
            let ids: Vec<String> = v
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .collect();
            if !ids.is_empty() {
                let _ = Command::new("scancel")
                    .args(&ids)
                    .stderr(Stdio::null())
                    .status();
            }
        }
        // batch jobs whose marker points into this test's shared directory
        let shared = self.shared().to_string_lossy().into_owned();
        if let Ok(o) = Command::new("squeue")
            .args(["--me", "-h", "-r", "-o", "%i %k"])
            .output()
        {
            let ids: Vec<String> = String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| l.contains(&format!("dir={shared}/")))
                .filter_map(|l| l.split_whitespace().next().map(str::to_string))
                .collect();
            if !ids.is_empty() {
                let _ = Command::new("scancel").args(&ids).status();
            }
        }
    }
}

pub const SGE_ROOT: &str = "/var/lib/gridengine";
pub const PBS_BIN: &str = "/opt/slurm-torque/usr/bin";

/// Whether the PBS wrappers and the Slurm under them are there (DASKCTL_TEST_PBS: must be).
pub fn pbs_up() -> bool {
    let up = std::path::Path::new(PBS_BIN).join("qsub").is_file() && slurm_up();
    if !up {
        assert!(
            std::env::var_os("DASKCTL_TEST_PBS").is_none(),
            "DASKCTL_TEST_PBS is set but the PBS wrappers are missing"
        );
        eprintln!("skipping: no PBS commands here (as root: scripts/testbeds/pbs.sh install)");
    }
    up
}

/// Whether the Grid Engine test bed is up (as `slurm_up`, with DASKCTL_TEST_SGE).
pub fn sge_up() -> bool {
    let up = Command::new("qstat")
        .env("SGE_ROOT", SGE_ROOT)
        .env("SGE_CELL", "default")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && std::path::Path::new(SGE_ROOT)
            .join("default/common/act_qmaster")
            .exists();
    if !up {
        assert!(
            std::env::var_os("DASKCTL_TEST_SGE").is_none(),
            "DASKCTL_TEST_SGE is set but Grid Engine does not answer (scripts/testbeds/sge.sh start)"
        );
        eprintln!(
            "skipping: no Grid Engine on this machine (as root: scripts/testbeds/sge.sh start)"
        );
    }
    up
}

/// Grid Engine jobs (number.task) in the queue, any state, whose name starts with the prefix.
pub fn sge_jobs(name_prefix: &str) -> Vec<String> {
    let o = Command::new("qstat")
        .env("SGE_ROOT", SGE_ROOT)
        .env("SGE_CELL", "default")
        .output()
        .expect("qstat");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip(2)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // job-ID prior name user state date time [queue] slots [ja-task-ID]
            (f.len() >= 7 && f[2].starts_with(&name_prefix[..name_prefix.len().min(10)])).then(
                || {
                    let task = if f.len() >= 10 || (f.len() == 9 && !f[7].contains('@')) {
                        f.last().copied()
                    } else {
                        None
                    };
                    match task {
                        Some(t) => format!("{}.{t}", f[0]),
                        None => f[0].to_string(),
                    }
                },
            )
        })
        .collect()
}

/// Whether the Slurm test bed is up. Where `scripts/test.sh` started it (DASKCTL_TEST_SLURM=1)
/// its absence is a failure; elsewhere the Slurm tests say why they skip.
pub fn slurm_up() -> bool {
    let up = Command::new("sinfo")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !up {
        assert!(
            std::env::var_os("DASKCTL_TEST_SLURM").is_none(),
            "DASKCTL_TEST_SLURM is set but Slurm does not answer (scripts/testbeds/slurm.sh start)"
        );
        eprintln!("skipping: no Slurm on this machine (as root: scripts/testbeds/slurm.sh start)");
    }
    up
}

/// Job ids in the queue (any state still listed) whose name is `name`.
pub fn slurm_jobs(name_prefix: &str) -> Vec<String> {
    let o = Command::new("squeue")
        .args(["--me", "-h", "-r", "-t", "PD,R,S", "-o", "%i %j"])
        .output()
        .expect("squeue");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|n| n.starts_with(name_prefix))
        })
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

pub fn signal_group(pid: i32, sig: &str) {
    let st = Command::new("kill")
        .args([&format!("-{sig}"), "--", &format!("-{pid}")])
        .status()
        .unwrap();
    assert!(st.success(), "kill -{sig} -{pid}");
}

/// Signals one process (not its group).
pub fn signal(pid: i32, sig: &str) {
    let st = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success(), "kill -{sig} {pid}");
}

pub fn kill_group(pid: i32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// Alive and not a zombie.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            let state = s[s.rfind(')').unwrap() + 2..].chars().next().unwrap();
            state != 'Z' && state != 'X'
        }
        Err(_) => false,
    }
}

/// Polls `cond` until it holds or the deadline passes.
pub fn wait_until(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Dask process the test starts by hand (not through daskctl): a "foreign" scheduler or worker.
pub struct DaskProc {
    pub child: Child,
    pub dir: tempfile::TempDir,
}

impl DaskProc {
    pub fn scheduler(extra: &[&str]) -> (DaskProc, String) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("scheduler.json");
        let mut args = vec![
            "-m",
            "dask",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--dashboard-address",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        let child = spawn(
            &args,
            &["--scheduler-file", file.to_str().unwrap()],
            dir.path(),
        );
        let mut p = DaskProc { child, dir };
        let mut addr = String::new();
        wait_until("scheduler file", Duration::from_secs(60), || {
            if let Ok(Some(s)) = p.child.try_wait() {
                panic!(
                    "scheduler exited {s}: {}",
                    std::fs::read_to_string(p.dir.path().join("log")).unwrap_or_default()
                );
            }
            std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v["address"].as_str().map(|a| addr = a.to_string()))
                .is_some()
        });
        (p, addr)
    }

    /// A scheduler that speaks only TLS, with the throwaway PKI's certificate.
    pub fn tls_scheduler(pki: &tls::Pki) -> (DaskProc, String) {
        let (ca, cert, key) = (pki.ca(), pki.cert(), pki.key());
        let args = [
            "--protocol",
            "tls",
            "--tls-ca-file",
            ca.to_str().unwrap(),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ];
        DaskProc::scheduler(&args)
    }

    pub fn worker(scheduler: &str, extra: &[&str]) -> DaskProc {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec![
            "-m",
            "dask",
            "worker",
            scheduler,
            "--host",
            "127.0.0.1",
            "--nthreads",
            "1",
            "--dashboard-address",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        let child = spawn(&args, &[], dir.path());
        DaskProc { child, dir }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

fn spawn(args: &[&str], more: &[&str], dir: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    let log = std::fs::File::create(dir.join("log")).unwrap();
    let mut c = Command::new(python());
    c.args(args)
        .args(more)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    c.process_group(0);
    // a worker whose scheduler is absent keeps trying (as a queued HPC worker job in effect does)
    c.env("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "600s");
    c.spawn().expect("start dask")
}

impl Drop for DaskProc {
    fn drop(&mut self) {
        kill_group(self.pid());
        let _ = self.child.wait();
    }
}

/// Starts a real dask-jobqueue cluster (`class` from dask_jobqueue, scaled to 2) in a Python
/// process with this environment; returns the process and its scheduler address.
pub fn jobqueue_cluster(env: &Env, class: &str, kwargs: &str) -> (KillOnDrop, String) {
    python_cluster(
        env,
        &format!(
            "import time\nfrom dask_jobqueue import {class}\nc = {class}(cores=1, memory='1GB', {kwargs}, scheduler_options={{'host': '127.0.0.1', 'dashboard_address': '127.0.0.1:0'}}, worker_extra_args=['--host', '127.0.0.1'])\nc.scale(2)\nprint(c.scheduler_address, flush=True)\ntime.sleep(600)\n"
        ),
    )
}

/// The second half of every dask-jobqueue test: scale down through daskctl, lose the Python
/// process that held the scheduler, see the cluster orphaned, clean it up.
pub fn scale_down_orphan_cleanup(env: &Env, qualified: &str, mut py: KillOnDrop) {
    env.run(&["scale", qualified, "1", "--wait", "--timeout", "60"])
        .ok();
    assert_eq!(env.describe(qualified)["workers"], 1);
    let _ = py.kill();
    let _ = py.wait();
    assert_eq!(env.describe(qualified)["status"], "orphaned");
    let backend = qualified.split('/').next().expect("BACKEND/NAME");
    env.run(&["cleanup", "--orphaned", qualified, "--yes", "-b", backend])
        .ok();
    env.run(&["describe", qualified]).code(3);
}

/// A dask-jobqueue cluster whose worker jobs never start (`held` kwargs), and whose Python
/// process dies: its queued workers are `orphaned`, counted in the reason, and cleaned up.
pub fn jobqueue_held_orphans(env: &Env, backend: &str, class: &str, held: &str) {
    let (mut py, addr) = jobqueue_cluster(env, class, held);
    let name = format!("{backend}/jobqueue-{}", addr.rsplit(':').next().unwrap());
    wait_until("2 queued worker jobs", Duration::from_secs(90), || {
        env.find(name.split('/').nth(1).unwrap())
            .is_some_and(|c| c["requested_workers"] == 2)
    });
    let _ = py.kill();
    let _ = py.wait();
    wait_until("orphaned", Duration::from_secs(60), || {
        env.describe(&name)["status"] == "orphaned"
    });
    let c = env.describe(&name);
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("2 worker job(s) queued, 0 running"),
        "{c}"
    );
    env.run(&["cleanup", "--orphaned", &name, "--yes", "-b", backend])
        .ok();
    env.run(&["describe", &name]).code(3);
}

/// Runs Python `code` (with this environment, in its directory) that prints a scheduler address
/// on its first line and keeps its cluster alive; returns the process and the address.
pub fn python_cluster(env: &Env, code: &str) -> (KillOnDrop, String) {
    let mut cmd = Command::new(python());
    cmd.args(["-c", code])
        .current_dir(env.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in &env.extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    (KillOnDrop(child), line.trim().to_string())
}

/// A child process killed when the test ends, also when it fails half-way (a Python program
/// holding a cluster would otherwise outlive the test and show up in later tests' listings).
pub struct KillOnDrop(pub Child);

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A test script's commands (`tools`, symlinks to it) in `dir/NAME`, run by the test Python.
fn shim_commands(dir: &Path, name: &str, script: &str, tools: &[&str]) -> PathBuf {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    let bin = dir.join(name);
    std::fs::create_dir_all(&bin).unwrap();
    let text = std::fs::read_to_string(&src).unwrap();
    let file = src.file_name().unwrap();
    let target = bin.join(file);
    std::fs::write(&target, format!("#!{}\n{text}", python().display())).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
    for tool in tools {
        symlink(file, bin.join(tool)).unwrap();
    }
    bin
}

/// The HTCondor stand-in's commands in `dir/condor-bin`, run by the test Python itself: through
/// `/usr/bin/env python3` a pyenv shim costs seconds per call, longer than daskctl waits for a
/// queue to answer under load.
fn condor_commands(dir: &Path) -> PathBuf {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/htcondor");
    let bin = dir.join("condor-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let text = std::fs::read_to_string(src.join("condor_standin.py")).unwrap();
    let body = text.split_once('\n').map_or("", |(_, rest)| rest);
    let script = bin.join("condor_standin.py");
    std::fs::write(&script, format!("#!{}\n{body}", python().display())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    for tool in [
        "condor_submit",
        "condor_q",
        "condor_rm",
        "condor_history",
        "condor_suspend",
        "condor_continue",
    ] {
        symlink("condor_standin.py", bin.join(tool)).unwrap();
    }
    bin
}

/// Serialises tests that start Dask processes outside daskctl (every other test's `list` sees
/// those) or that clean up, so no test acts on another's processes.
pub fn serial() -> nix::fcntl::Flock<std::fs::File> {
    let f = std::fs::File::create(std::env::temp_dir().join("daskctl-it-serial.lock")).unwrap();
    nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .expect("flock")
}

/// Number of workers the scheduler reports for `name`.
pub fn workers(env: &Env, name: &str) -> u64 {
    env.describe(name)["workers"].as_u64().unwrap_or(0)
}

/// One HTTP/1.1 request from a test server's connection: its head lines (request line first,
/// CRLF kept) and its Content-Length body; None at end of stream.
pub fn read_request(
    r: &mut impl std::io::BufRead,
) -> std::io::Result<Option<(Vec<String>, Vec<u8>)>> {
    let mut head = Vec::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        head.push(line);
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(Some((head, body)))
}
