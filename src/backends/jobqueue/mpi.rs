//! dask-mpi clusters: one batch job whose MPI ranks are the scheduler (rank 0) and the workers.
//! Two ways to start one (dask-mpi's cli.py and initialize.py):
//! - the command line, `mpirun -np N dask-mpi --scheduler-file F ...`: rank 0 the scheduler, the
//!   N - 1 others workers (with the default `--exclusive-workers`); the address is in F;
//! - a Python script calling `dask_mpi.initialize()`, `mpirun -np N python script.py`: rank 0 the
//!   scheduler, rank 1 the script's own code (the client), N - 2 workers; the address only in
//!   the scheduler's log ("Scheduler at: tcp://..."), which goes to the job's output.
//!
//! A job is recognised from its batch script (and, for `initialize`, the Python script its
//! launcher line runs). What those name (files, paths) are claims of the job's owner, read only
//! as that owner (`owner::read_as`).

use std::path::{Path, PathBuf};

/// How the cluster was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `dask-mpi` on the command line: workers are ranks - 1.
    Cli,
    /// `dask_mpi.initialize()` in a Python script: workers are ranks - 2.
    Initialize,
}

/// What a batch script says of its dask-mpi cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpiJob {
    pub style: Style,
    /// MPI ranks: the launcher's `-n`/`-np`, else the job's own task count directives.
    pub ranks: Option<u32>,
    /// `--scheduler-file` of the command line, as written (relative to the job's directory).
    pub scheduler_file: Option<String>,
}

impl MpiJob {
    /// Workers the ranks make.
    pub fn expected_workers(&self) -> Option<u64> {
        let others = match self.style {
            Style::Cli => 1,
            Style::Initialize => 2,
        };
        self.ranks.map(|r| u64::from(r.saturating_sub(others)))
    }
}

const LAUNCHERS: &[&str] = &["mpirun", "mpiexec", "srun", "orterun", "aprun", "jsrun"];

fn base(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// The words of a script line, quotes around them removed (no expansion: a word is a claim
/// to look at, never a command to run).
fn words(line: &str) -> Vec<String> {
    line.split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_string())
        .collect()
}

/// The value of an option in `words` (`-np 4`, `--np=4`).
fn option<'a>(words: &'a [String], names: &[&str]) -> Option<&'a str> {
    words.iter().enumerate().find_map(|(i, w)| {
        names.iter().find_map(|n| {
            if w == n {
                words.get(i + 1).map(String::as_str)
            } else {
                w.strip_prefix(n)?.strip_prefix('=')
            }
        })
    })
}

/// Ranks the job asks for in its directives: Slurm `--ntasks`/`-n`, LSF `-n`, Grid Engine's
/// parallel environment slots (`-pe NAME N`), PBS `mpiprocs=` or `nodes=A:ppn=B`.
fn directive_ranks(script: &str) -> Option<u32> {
    for line in script.lines() {
        let l = line.trim();
        let w = if let Some(rest) = l.strip_prefix("#SBATCH") {
            words(rest)
        } else if let Some(rest) = l.strip_prefix("#BSUB") {
            words(rest)
        } else if let Some(rest) = l.strip_prefix("#$") {
            let w = words(rest);
            if let Some(n) = option(&w, &["-pe"]).and_then(|_| {
                let i = w.iter().position(|x| x == "-pe")?;
                w.get(i + 2)?.split('-').next_back()?.parse().ok()
            }) {
                return Some(n);
            }
            continue;
        } else if let Some(rest) = l.strip_prefix("#PBS") {
            let text = rest.replace([',', ':'], " ");
            if let Some(n) = text
                .split_whitespace()
                .find_map(|p| p.strip_prefix("mpiprocs=")?.parse().ok())
            {
                return Some(n);
            }
            let num = |key: &str| {
                text.split_whitespace()
                    .find_map(|p| p.strip_prefix(key)?.parse::<u32>().ok())
            };
            if let (Some(nodes), Some(ppn)) = (num("nodes="), num("ppn=")) {
                return Some(nodes * ppn);
            }
            continue;
        } else {
            continue;
        };
        if let Some(n) = option(&w, &["--ntasks", "-n"]).and_then(|v| v.parse().ok()) {
            return Some(n);
        }
    }
    None
}

/// What a batch script says of a dask-mpi cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A dask-mpi cluster.
    Mpi(MpiJob),
    /// An MPI launch of a Python script: a dask-mpi cluster if the script calls
    /// `dask_mpi.initialize` (`is_initialize` of its text).
    PythonScript { path: PathBuf, ranks: Option<u32> },
}

/// What a batch script starts, as far as dask-mpi goes. `dir`: the job's working directory,
/// where relative paths of its launcher line are.
pub fn recognize(script: &str, dir: Option<&Path>) -> Option<Seen> {
    for line in script.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let w = words(l);
        let launcher = w.iter().position(|x| LAUNCHERS.contains(&base(x)));
        let ranks = launcher
            .and_then(|i| option(&w[i..], &["-np", "--np", "-n", "--ntasks"]))
            .and_then(|v| v.parse().ok())
            .or_else(|| directive_ranks(script));
        if let Some(i) = w.iter().position(|x| base(x) == "dask-mpi") {
            return Some(Seen::Mpi(MpiJob {
                style: Style::Cli,
                ranks,
                scheduler_file: option(&w[i..], &["--scheduler-file"]).map(str::to_string),
            }));
        }
        // `mpirun ... python script.py`: the script decides
        let Some(i) = launcher else { continue };
        let Some(py) = w[i..].iter().find(|x| x.ends_with(".py")) else {
            continue;
        };
        let path = match dir {
            Some(d) if !py.starts_with('/') => d.join(py),
            _ => PathBuf::from(py),
        };
        return Some(Seen::PythonScript { path, ranks });
    }
    None
}

/// Whether a Python script starts a dask-mpi cluster (`dask_mpi.initialize`).
pub fn is_initialize(text: &str) -> bool {
    text.contains("dask_mpi") && text.contains("initialize")
}

/// The scheduler's address in a job's output: its last "Scheduler at:" line (an output opened
/// for appending holds earlier runs' first).
pub fn address_in_output(text: &str) -> Option<String> {
    text.lines()
        .rev()
        .filter_map(|l| l.split_once("Scheduler at:").map(|(_, a)| a.trim()))
        .find(|a| super::script::scheduler_address(a).is_some())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mpi(s: &str) -> MpiJob {
        match recognize(s, None) {
            Some(Seen::Mpi(j)) => j,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_command_line_style() {
        let s = "#!/bin/bash\n#SBATCH -n 6\nmodule load openmpi\nmpirun -np 4 dask-mpi --scheduler-file=$HOME/sched.json --nthreads 1\n";
        let j = mpi(s);
        assert_eq!(j.style, Style::Cli);
        assert_eq!(j.ranks, Some(4));
        assert_eq!(j.scheduler_file.as_deref(), Some("$HOME/sched.json"));
        assert_eq!(j.expected_workers(), Some(3));
        // no -np: the job's tasks
        let j = mpi(
            "#!/bin/bash\n#SBATCH --ntasks=5\nsrun /opt/venv/bin/dask-mpi --scheduler-file s.json\n",
        );
        assert_eq!(
            (j.ranks, j.scheduler_file.as_deref()),
            (Some(5), Some("s.json"))
        );
        assert_eq!(
            directive_ranks("#PBS -l select=2:ncpus=4:mpiprocs=4\n"),
            Some(4)
        );
        assert_eq!(directive_ranks("#PBS -l nodes=2:ppn=8\n"), Some(16));
        assert_eq!(directive_ranks("#$ -pe mpi 12\n"), Some(12));
        assert_eq!(directive_ranks("#BSUB -n 3\n"), Some(3));
    }

    #[test]
    fn the_initialize_style_is_decided_by_the_python_script() {
        let s = "#!/bin/bash\n#SBATCH -n 4\nmpirun python analysis.py --input x\n";
        let dir = Path::new("/home/ann/work");
        assert_eq!(
            recognize(s, Some(dir)),
            Some(Seen::PythonScript {
                path: dir.join("analysis.py"),
                ranks: Some(4)
            })
        );
        assert!(is_initialize(
            "from dask_mpi import initialize\ninitialize()\n"
        ));
        assert!(!is_initialize("import numpy\n"));
        let j = MpiJob {
            style: Style::Initialize,
            ranks: Some(4),
            scheduler_file: None,
        };
        assert_eq!(j.expected_workers(), Some(2));
        // not an MPI launch, not dask-mpi: nothing
        assert_eq!(
            recognize("#!/bin/sh\npython analysis.py\n", Some(dir)),
            None
        );
        assert_eq!(recognize("#!/bin/sh\n# dask-mpi later\necho\n", None), None);
    }

    #[test]
    fn the_address_is_the_last_the_scheduler_logged() {
        let out = "2026-12-06 distributed.scheduler - INFO -   Scheduler at:     tcp://10.0.0.5:40123\nnoise\n2026-12-06 distributed.scheduler - INFO -   Scheduler at:   tcp://10.0.0.6:40999\n";
        assert_eq!(
            address_in_output(out).as_deref(),
            Some("tcp://10.0.0.6:40999")
        );
        assert_eq!(address_in_output("Scheduler at: nowhere"), None);
    }
}
