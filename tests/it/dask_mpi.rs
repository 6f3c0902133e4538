//! dask-mpi clusters on the real Slurm of scripts/testbeds/slurm.sh, launched by real Open MPI
//! (`mpirun`, Debian's openmpi-bin) with dask-mpi and mpi4py from PyPI in the test venv: both
//! launch styles found from the job's script, named after the job, probed, their logs read from
//! the job's output; scale refused; delete cancels the job; a job whose scheduler died while it
//! runs is `unknown`, as a daskctl scheduler job's would be; an ended job is no cluster.

use crate::support::{Env, python, slurm_jobs, slurm_up, wait_until};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Whether MPI and dask-mpi are here (and, for the Slurm tests, Slurm). Where `scripts/test.sh` installed them (DASKCTL_TEST_MPI=1)
/// their absence is a failure.
fn mpi_here() -> bool {
    slurm_up() && mpi_tools()
}

/// Whether mpirun and dask-mpi are here.
pub fn mpi_tools() -> bool {
    let mpirun = Command::new("mpirun")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let dask_mpi = Command::new(python())
        .args(["-c", "import dask_mpi, mpi4py"])
        .status()
        .is_ok_and(|s| s.success());
    if !(mpirun && dask_mpi) {
        assert!(
            std::env::var_os("DASKCTL_TEST_MPI").is_none(),
            "DASKCTL_TEST_MPI is set but mpirun ({mpirun}) or dask-mpi ({dask_mpi}) is missing"
        );
        eprintln!(
            "skipping: no mpirun or dask-mpi here (apt-get install openmpi-bin; pip install dask-mpi mpi4py)"
        );
        return false;
    }
    true
}

/// Submits `body` as a batch script named `name` with `ranks` tasks; its output in `dir`.
fn sbatch(dir: &Path, name: &str, ranks: u32, body: &str) -> String {
    let script = dir.join(format!("{name}.sh"));
    let out = dir.join(format!("{name}.out"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/bash\n#SBATCH -J {name}\n#SBATCH -n {ranks}\n#SBATCH -o {}\n\
             export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,tcp\n{body}\n",
            out.display()
        ),
    )
    .unwrap();
    let o = Command::new("sbatch")
        .arg("--parsable")
        .arg("--chdir")
        .arg(dir)
        .arg(&script)
        .output()
        .unwrap();
    assert!(o.status.success(), "sbatch: {o:?}");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Cancels the job when the test ends, passed or not.
struct Cancel(String);

impl Drop for Cancel {
    fn drop(&mut self) {
        let _ = Command::new("scancel").arg(&self.0).status();
    }
}

fn bin(tool: &str) -> String {
    python()
        .parent()
        .unwrap()
        .join(tool)
        .to_string_lossy()
        .into_owned()
}

/// `mpirun -np 3 dask-mpi --scheduler-file F`: the scheduler on rank 0, two workers; the
/// address from the scheduler file.
#[test]
fn the_command_line_style_is_found_refuses_scale_and_is_deleted() {
    if !mpi_here() {
        return;
    }
    let env = Env::slurm();
    let dir = env.dir.path();
    let name = format!("mpicli{}", std::process::id());
    let id = sbatch(
        dir,
        &name,
        3,
        &format!(
            "mpirun -np 3 {} --scheduler-file sched.json --scheduler-port 0 --no-dashboard \
             --interface lo --nthreads 1 --memory-limit 300MB",
            bin("dask-mpi")
        ),
    );
    let _cancel = Cancel(id.clone());
    let qualified = format!("slurm/{name}");
    wait_until(
        "the dask-mpi cluster with 2 workers",
        Duration::from_secs(120),
        || env.find(&name).is_some_and(|c| c["workers"] == 2),
    );
    let c = env.describe(&qualified);
    assert_eq!(c["origin"], "dask-mpi", "{c}");
    assert_eq!(c["status"], "running", "{c}");
    assert_eq!(c["requested_workers"], 2, "{c}");
    let sched: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sched.json")).unwrap()).unwrap();
    assert_eq!(c["address"], sched["address"], "{c}");
    assert_eq!(c["resources"][0]["id"], id.as_str(), "{c}");

    let o = env.run(&["scale", &qualified, "4"]).code(2);
    let line = o.one_line_error();
    assert!(
        line.contains("dask-mpi") && line.contains("fixed"),
        "{line}"
    );

    let logs = env.run(&["logs", &qualified]).ok().stdout;
    assert!(logs.contains("Scheduler at:"), "{logs}");

    env.run(&["delete", &qualified, "--yes"]).ok();
    assert!(slurm_jobs(&name).is_empty(), "{:?}", slurm_jobs(&name));
    env.run(&["describe", &qualified]).code(3);
}

/// `mpirun -np 4 python script.py` calling `dask_mpi.initialize()`: the scheduler on rank 0,
/// the script on rank 1, two workers; the address from the job's output. The script then shuts
/// the scheduler down and goes on: the job runs with no scheduler, which is `unknown`. When the
/// job ends it is listed `stopped` until deleted.
#[test]
fn the_initialize_style_and_a_scheduler_that_died_in_a_running_job() {
    if !mpi_here() {
        return;
    }
    let env = Env::slurm();
    let dir = env.dir.path();
    let name = format!("mpiinit{}", std::process::id());
    let flag = dir.join("shut-down-now");
    std::fs::write(
        dir.join("analysis.py"),
        format!(
            "import os, time\n\
             from dask_mpi import initialize\n\
             initialize(interface='lo', dashboard=False, nthreads=1, memory_limit='300MB', exit=False)\n\
             from distributed import Client\n\
             import mpi4py.MPI as MPI\n\
             if MPI.COMM_WORLD.Get_rank() == 1:\n\
             \x20   client = Client()\n\
             \x20   client.wait_for_workers(2)\n\
             \x20   while not os.path.exists({flag:?}):\n\
             \x20       time.sleep(0.2)\n\
             \x20   client.shutdown()\n\
             \x20   time.sleep(600)\n",
            flag = flag.to_str().unwrap()
        ),
    )
    .unwrap();
    let id = sbatch(
        dir,
        &name,
        4,
        &format!("mpirun -np 4 {} analysis.py", python().display()),
    );
    let _cancel = Cancel(id.clone());
    let qualified = format!("slurm/{name}");
    wait_until(
        "the dask-mpi cluster with 2 workers",
        Duration::from_secs(120),
        || {
            env.find(&name)
                .is_some_and(|c| c["workers"] == 2 && c["status"] == "running")
        },
    );
    let c = env.describe(&qualified);
    assert_eq!(c["origin"], "dask-mpi", "{c}");
    assert_eq!(c["requested_workers"], 2, "{c}");
    assert!(
        c["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("tcp://127.0.0.1:")),
        "{c}"
    );

    // what its Python script is was learnt once the job ran: later listings do not read it
    // again (the ranks have it open; the file can go)
    std::fs::rename(dir.join("analysis.py"), dir.join("analysis.py.read")).unwrap();
    assert_eq!(env.describe(&qualified)["origin"], "dask-mpi");

    // the scheduler goes, the job (its rank 1) runs on
    std::fs::write(&flag, "").unwrap();
    wait_until(
        "the scheduler gone from a running job",
        Duration::from_secs(60),
        || env.describe(&qualified)["status"] == "unknown",
    );
    let c = env.describe(&qualified);
    assert!(
        c["reason"]
            .as_str()
            .is_some_and(|r| r.contains("does not answer")),
        "{c}"
    );
    assert_eq!(slurm_jobs(&name), std::slice::from_ref(&id));

    // it ends (its owner cancels it): the queue no longer shows it, daskctl lists it stopped
    // with its output, until it is deleted (forgotten: nothing was left to cancel)
    Command::new("scancel").arg(&id).status().unwrap();
    wait_until(
        "the job gone from the queue",
        Duration::from_secs(60),
        || slurm_jobs(&name).is_empty(),
    );
    wait_until(
        "the ended job listed stopped",
        Duration::from_secs(30),
        || env.find(&name).is_some_and(|c| c["status"] == "stopped"),
    );
    let c = env.describe(&qualified);
    assert_eq!(c["origin"], "dask-mpi", "{c}");
    assert_eq!(c["requested_workers"], 0, "{c}");
    assert!(
        c["reason"].as_str().is_some_and(|r| r.contains("ended")),
        "{c}"
    );
    assert_eq!(c["resources"][0]["id"], id.as_str(), "{c}");
    let logs = env.run(&["logs", &qualified]).ok().stdout;
    assert!(logs.contains("Scheduler at:"), "{logs}");
    // cleanup's preview names it among what it would remove, and removes nothing
    let preview = env
        .run(&["cleanup", "--orphaned", "-b", "slurm"])
        .ok()
        .stdout;
    assert!(preview.contains(&name), "{preview}");
    assert_eq!(env.describe(&qualified)["status"], "stopped");
    let o = env.run(&["delete", &qualified, "--yes"]).ok();
    assert!(
        o.stdout.contains("deleted") || o.stderr.contains("deleted"),
        "{o:?}"
    );
    env.run(&["describe", &qualified]).code(3);
    assert!(env.find(&name).is_none());
}

/// On LSF (its stand-in: each job a local process), a dask-mpi job submitted with `bsub <`:
/// found through the script `bjobs -script` gives back, its ranks from `mpirun -np`, deleted
/// with bkill.
#[test]
fn a_dask_mpi_job_on_lsf() {
    if !mpi_tools() {
        return;
    }
    let env = Env::lsf();
    let dir = env.dir.path();
    let script = format!(
        "#!/bin/bash\n#BSUB -J dask-mpi\n#BSUB -n 3\n#BSUB -o {out}\n\
         export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,tcp\n\
         mpirun --oversubscribe -np 3 {dask_mpi} --scheduler-file {dir}/sched.json --scheduler-port 0 \
         --no-dashboard --interface lo --nthreads 1 --memory-limit 300MB\n",
        out = dir.join("mpi.out").display(),
        dask_mpi = bin("dask-mpi"),
        dir = dir.display(),
    );
    let mut bsub = Command::new("bsub");
    for (k, v) in &env.extra {
        bsub.env(k, v);
    }
    let mut child = bsub
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "bsub: {o:?}");
    wait_until(
        "the dask-mpi cluster with 2 workers",
        Duration::from_secs(120),
        || env.find("dask-mpi").is_some_and(|c| c["workers"] == 2),
    );
    let c = env.describe("lsf/dask-mpi");
    assert_eq!(
        (c["origin"].as_str(), c["requested_workers"].as_u64()),
        (Some("dask-mpi"), Some(2)),
        "{c}"
    );
    env.run(&["delete", "lsf/dask-mpi", "--yes"]).ok();
    env.run(&["describe", "lsf/dask-mpi"]).code(3);
}

/// The command-line style as a batch job of `tool` (`qsub` of PBS or Grid Engine, with the
/// environment `envs`), found through the site's `script_command`; deleted by daskctl.
fn command_line_job_through_a_site_script_command(
    env: &Env,
    backend: &str,
    qsub: &str,
    directives: &str,
    envs: &[(&str, &str)],
) {
    let dir = env.dir.path();
    let name = format!("mpi{backend}{}", std::process::id());
    let script = dir.join(format!("{name}.sh"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/bash\n{directives}\n\
             export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,tcp\n\
             mpirun --oversubscribe -np 3 {} --scheduler-file {}/sched.json --scheduler-port 0 \
             --no-dashboard --interface lo --nthreads 1 --memory-limit 300MB\n",
            bin("dask-mpi"),
            dir.display()
        )
        .replace("NAME", &name),
    )
    .unwrap();
    let o = Command::new(qsub)
        .envs(envs.iter().copied())
        .current_dir(dir)
        .arg(&script)
        .output()
        .unwrap();
    assert!(o.status.success(), "{qsub}: {o:?}");
    let qualified = format!("{backend}/{name}");
    wait_until(
        "the dask-mpi cluster with 2 workers",
        Duration::from_secs(120),
        || env.find(&name).is_some_and(|c| c["workers"] == 2),
    );
    let c = env.describe(&qualified);
    assert_eq!(
        (c["origin"].as_str(), c["requested_workers"].as_u64()),
        (Some("dask-mpi"), Some(2)),
        "{c}"
    );
    env.run(&["delete", &qualified, "--yes"]).ok();
    env.run(&["describe", &qualified]).code(3);
}

/// On PBS (Slurm's Torque wrappers): `qsub` of a script with `#PBS` lines; Torque has no way
/// to print a job's script, so the site's `script_command` does (here Slurm's, under the
/// wrappers).
#[test]
fn a_dask_mpi_job_on_pbs() {
    if !(crate::support::beds::pbs_up() && mpi_tools()) {
        return;
    }
    let env = Env::pbs().with(
        "DASKCTL_BACKENDS__PBS__SCRIPT_COMMAND",
        "scontrol write batch_script {id} -",
    );
    let qsub = format!("{}/qsub", crate::support::beds::PBS_BIN);
    command_line_job_through_a_site_script_command(
        &env,
        "pbs",
        &qsub,
        "#PBS -N NAME\n#PBS -l nodes=1:ppn=3",
        &[],
    );
}

/// On Grid Engine: `qsub` of a script with `#$` lines. Grid Engine keeps a queued job's script
/// in the qmaster's spool and a running one's in its execution host's (`execd_spool_dir/HOST/
/// job_scripts/ID`); the site's `script_command` prints the latter here (one host, aliased to
/// localhost by scripts/testbeds/sge.sh, its spool readable by root).
#[test]
fn a_dask_mpi_job_on_grid_engine() {
    if !(crate::support::beds::sge_up() && mpi_tools()) {
        return;
    }
    let env = Env::sge().with(
        "DASKCTL_BACKENDS__SGE__SCRIPT_COMMAND",
        "cat /var/spool/gridengine/execd/localhost/job_scripts/{id}",
    );
    command_line_job_through_a_site_script_command(
        &env,
        "sge",
        "qsub",
        "#$ -N NAME\n#$ -cwd\n#$ -j y",
        &[
            ("SGE_ROOT", crate::support::beds::SGE_ROOT),
            ("SGE_CELL", "default"),
        ],
    );
}
