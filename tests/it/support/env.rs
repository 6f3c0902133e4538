//! `Env`: one test's own daskctl state, cache and config, running the real binary; its
//! stand-in commands; and planting or reading local cluster state.

use super::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An isolated daskctl environment; everything it created is killed when it drops.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub extra: Vec<(String, String)>,
    /// Held for the whole test by tests that must not overlap others.
    pub lock: Option<nix::fcntl::Flock<std::fs::File>>,
    /// A test bed this environment talks to, kept running as long as it (the gcp stand-in).
    pub bed: Option<Box<dyn std::any::Any>>,
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
            bed: None,
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
        Env::standin(
            "htcondor",
            "condor",
            "tests/it/support/htcondor/condor_standin.py",
            &[
                "condor_submit",
                "condor_q",
                "condor_rm",
                "condor_history",
                "condor_suspend",
                "condor_continue",
            ],
        )
    }

    /// An environment for LSF through the stand-in commands in support/lsf (no LSF daemons can
    /// be installed here); the stand-in's queue is private to the test.
    pub fn lsf() -> Env {
        Env::standin(
            "lsf",
            "lsf",
            "tests/it/support/lsf/lsf_standin.py",
            &["bsub", "bjobs", "bkill"],
        )
    }

    /// An environment for Moab through the stand-in commands in support/moab (no Moab server
    /// can be installed here); the stand-in's queue is private to the test.
    pub fn moab() -> Env {
        Env::standin(
            "moab",
            "moab",
            "tests/it/support/moab/moab_standin.py",
            &["msub", "showq", "canceljob", "mjobctl", "jobscript"],
        )
    }

    /// An environment for `backend` run through a stand-in's `tools` (the commands of `script`,
    /// first on PATH), its queue in the test's directory under `system`
    /// (`SYSTEM_STANDIN_DIR`), the serial lock held.
    fn standin(backend: &str, system: &str, script: &str, tools: &[&str]) -> Env {
        let lock = serial();
        let mut e = Env::new();
        let shared = e.dir.path().join("shared");
        let queue = e.dir.path().join(system);
        e.lock = Some(lock);
        let bin = shim_commands(e.dir.path(), &format!("{system}-bin"), script, tools);
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let key = |k: &str| format!("DASKCTL_BACKENDS__{}__{k}", backend.to_uppercase());
        e.with("PATH", &path)
            .with(
                &format!("{}_STANDIN_DIR", system.to_uppercase()),
                queue.to_str().unwrap(),
            )
            .with(&key("PYTHON"), python().to_str().unwrap())
            .with(&key("HOST"), "127.0.0.1")
            .with(&key("SHARED_DIR"), shared.to_str().unwrap())
    }

    /// Runs one of the LSF stand-in commands with this environment (as `condor` does).
    pub fn lsf_cmd(&self, args: &[&str]) -> std::process::Output {
        self.condor(args)
    }

    /// Runs a command of this environment's PATH (the HTCondor or LSF stand-in's) with its
    /// variables.
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
            .with("DASKCTL_BACKENDS__LSF__ENABLED", "false")
            .with("DASKCTL_BACKENDS__MOAB__ENABLED", "false")
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
            // nor the developer's Dask configuration (a gateway of theirs): only the test's
            .env("DASK_ROOT_CONFIG", self.dir.path().join("dask-root"))
            .env("DASK_CONFIG", self.dir.path().join("dask"))
            // nor a Google account of theirs: Env::gcp() points at the stand-in
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env_remove("GOOGLE_CLOUD_PROJECT")
            .env_remove("CLOUDSDK_CORE_PROJECT")
            .env_remove("CLOUDSDK_COMPUTE_ZONE")
            .env_remove("CLOUDSDK_ACTIVE_CONFIG_NAME")
            .env_remove("GCE_METADATA_HOST")
            .env("CLOUDSDK_CONFIG", self.dir.path().join("gcloud"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DASK_GATEWAY")) {
            c.env_remove(k);
        }
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
        if self.extra.iter().any(|(k, _)| k == "LSF_STANDIN_DIR") {
            let o = self.lsf_cmd(&["bjobs", "-o", "jobid jobindex", "-json", "-u", "all"]);
            let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
            let ids: Vec<String> = doc["RECORDS"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(|j| j["JOBID"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if !ids.is_empty() {
                let mut argv = vec!["bkill"];
                argv.extend(ids.iter().map(String::as_str));
                let _ = self.lsf_cmd(&argv);
            }
        }
        if self.extra.iter().any(|(k, _)| k == "MOAB_STANDIN_DIR") {
            let o = self.condor(&["showq", "--xml"]);
            let xml = String::from_utf8_lossy(&o.stdout);
            let ids: Vec<&str> = xml
                .split("JobID=\"")
                .skip(1)
                .filter_map(|r| r.split('"').next())
                .collect();
            if !ids.is_empty() {
                let mut argv = vec!["canceljob"];
                argv.extend(ids);
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

/// A test script's commands (`tools`, symlinks to `script`, a path in the repository) in
/// `dir/NAME`, run by the test Python itself (its own `#!` line, if any, replaced): through
/// `/usr/bin/env python3` a pyenv shim costs seconds per call, longer than daskctl waits for a
/// queue to answer under load.
fn shim_commands(dir: &Path, name: &str, script: &str, tools: &[&str]) -> PathBuf {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    let bin = dir.join(name);
    std::fs::create_dir_all(&bin).unwrap();
    let text = std::fs::read_to_string(&src).unwrap();
    let body = match text.strip_prefix("#!") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
        None => &text,
    };
    let file = src.file_name().unwrap();
    let target = bin.join(file);
    std::fs::write(&target, format!("#!{}\n{body}", python().display())).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
    for tool in tools {
        symlink(file, bin.join(tool)).unwrap();
    }
    // what the stand-ins share, imported from beside them
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/standin_jobs.py");
    std::fs::copy(shared, bin.join("standin_jobs.py")).unwrap();
    bin
}

/// Writes a daskctl state in `dir` for cluster `name` whose scheduler and worker are the
/// (live) process `pid`, which daskctl never started.
pub fn plant_state(dir: &Path, name: &str, pid: i32) {
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let start = start_ticks(pid);
    let state = serde_json::json!({
        "name": name, "created": 1.0e9, "python": "python3", "host": "127.0.0.1", "threads": 1,
        "memory": null, "address": "tcp://127.0.0.1:9", "dashboard": null, "next_worker": 1,
        "scheduler": {"pid": pid, "start": start, "name": "scheduler", "log": "scheduler.log"},
        "workers": [{"pid": pid, "start": start, "name": format!("{name}-0"), "log": "w.log"}],
    });
    std::fs::write(dir.join("state.json"), state.to_string()).unwrap();
}

/// An executable shell script at `path`.
pub fn script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Points a local cluster's recorded Python (what new workers run) at `python`.
pub fn set_state_python(env: &Env, name: &str, python: &Path) {
    let p = env.state().join("local").join(name).join("state.json");
    let mut st: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    st["python"] = serde_json::Value::String(python.to_string_lossy().into_owned());
    std::fs::write(&p, st.to_string()).unwrap();
}

/// The address in a Dask scheduler file, once it is there.
pub fn scheduler_address(file: &Path) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    v["address"].as_str().map(str::to_string)
}
