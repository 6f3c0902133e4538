//! The batch test beds (real Slurm, Slurm's PBS wrappers, real Grid Engine): whether they are
//! up, their queues, and real dask-jobqueue clusters run against them.

use super::*;
use std::process::{Command, Stdio};
use std::time::Duration;

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

/// Where `prog` is on PATH.
pub fn which(prog: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(prog))
            .find(|p| p.is_file())
    })
}

/// A directory of Slurm's commands (for `backends.slurm.bin_dir`) in which `tool` is the
/// shell `script` given and every other command is the real one: a site's wrapper, or a
/// command the test holds at a gate.
pub fn slurm_bin_with(env: &super::Env, dir: &str, tool: &str, script: &str) -> std::path::PathBuf {
    let bin = env.dir.path().join(dir);
    std::fs::create_dir_all(&bin).unwrap();
    for other in ["squeue", "sbatch", "scancel", "scontrol", "sacct", "sinfo"] {
        if other != tool
            && let Some(real) = which(other)
        {
            std::os::unix::fs::symlink(real, bin.join(other)).unwrap();
        }
    }
    let path = bin.join(tool);
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// A shell script that marks `GATE/entered`, waits (at most two minutes) until `GATE/open`
/// exists, then runs the real `tool` with its arguments; `only_if` (a `case` pattern over the
/// arguments) limits the wait to the calls that match.
pub fn gated(gate: &std::path::Path, tool: &str, only_if: &str) -> String {
    let real = which(tool).unwrap_or_else(|| panic!("{tool} not on PATH"));
    format!(
        "#!/bin/sh\ncase \"$*\" in\n  {only_if})\n    : > '{g}/entered'\n    i=0\n    while [ ! -e '{g}/open' ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done ;;\nesac\nexec '{real}' \"$@\"\n",
        g = gate.display(),
        real = real.display()
    )
}
