//! Job scripts: a shebang, the dialect's directives, and one `exec` of Dask. Every value that
//! reaches a script is either validated (names, paths) or single-quoted for the shell.

/// POSIX single quoting: safe for any string.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The worker script of a group in the cluster's shared directory (`worker.sh` for the default).
pub fn script_file(group: Option<&str>) -> String {
    match group {
        None => "worker.sh".into(),
        Some(g) => format!("worker-{g}.sh"),
    }
}

/// The job name of a group's workers: `CLUSTER-worker`, `CLUSTER-worker-GROUP`.
pub fn worker_job_name(cluster: &str, group: Option<&str>) -> String {
    match group {
        None => format!("{cluster}-worker"),
        Some(g) => format!("{cluster}-worker-{g}"),
    }
}

pub struct Script {
    pub directives: Vec<String>,
    pub preamble: Vec<String>,
    /// Already-quoted shell words; `$VAR` references allowed where the renderer put them.
    pub command: Vec<String>,
}

impl Script {
    pub fn render(&self) -> String {
        let mut s = String::from("#!/usr/bin/env bash\n");
        for d in &self.directives {
            s.push_str(d);
            s.push('\n');
        }
        s.push('\n');
        for l in &self.preamble {
            s.push_str(l);
            s.push('\n');
        }
        s.push_str("exec ");
        s.push_str(&self.command.join(" "));
        s.push('\n');
        s
    }
}

/// The scheduler address a worker script names (dask-jobqueue puts it on the worker command line).
pub fn scheduler_address(script: &str) -> Option<String> {
    script
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .find(|w| (w.starts_with("tcp://") || w.starts_with("tls://")) && w.len() > 6)
        .map(str::to_string)
}

/// What a dask worker's own log says of its scheduler and name ("Waiting to connect to:",
/// "Registered to:", "Worker name:" lines), as a one-line stand-in for its script. `text` is
/// the log's head (the start-up banner is at the top), read by the caller as the job's owner.
pub fn from_worker_log(text: &str) -> Option<String> {
    let after = |key: &str| {
        text.lines()
            .find_map(|l| l.split_once(key).map(|(_, v)| v.trim().to_string()))
            .filter(|v| !v.is_empty())
    };
    let addr = after("Registered to:").or_else(|| after("Waiting to connect to:"))?;
    scheduler_address(&addr)?;
    Some(match after("Worker name:") {
        Some(n) => format!("{addr} --name {n}"),
        None => addr,
    })
}

/// The value of `--name` on the Dask worker line of a script.
pub fn worker_name(script: &str) -> Option<String> {
    let words: Vec<&str> = script.split_whitespace().collect();
    words
        .iter()
        .position(|w| *w == "--name")
        .and_then(|i| words.get(i + 1))
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_string())
}

/// Makes a resubmitted worker script give each new worker a unique name: `--name X` becomes
/// `--name X-<job id>` (`job_id` is a shell expression such as `${SLURM_JOB_ID}`).
pub fn uniquify_worker_name(script: &str, job_id: &str) -> String {
    let mut out = Vec::new();
    for line in script.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        match words.iter().position(|w| *w == "--name") {
            Some(i) if i + 1 < words.len() && !line.trim_start().starts_with('#') => {
                let mut w: Vec<String> = words.iter().map(|s| s.to_string()).collect();
                let base = w[i + 1].trim_matches(|c| c == '"' || c == '\'').to_string();
                w[i + 1] = format!("\"{base}-{job_id}\"");
                out.push(w.join(" "));
            }
            _ => out.push(line.to_string()),
        }
    }
    out.join("\n") + "\n"
}

/// `#PBS` resource lines in Torque's form (PBS's Torque flavour, and Moab in front of Torque):
/// one node with the job's cores (and GPUs), its memory.
pub fn torque_resources(spec: &super::JobSpec) -> Vec<String> {
    let gpus = spec.gpus.map(|g| format!(":gpus={g}")).unwrap_or_default();
    let mut d = vec![format!("#PBS -l nodes=1:ppn={}{gpus}", spec.cores.max(1))];
    if let Some(m) = spec.memory {
        d.push(format!("#PBS -l mem={}mb", m.div_ceil(1 << 20)));
    }
    d
}

/// `#PBS` lines every PBS family and Moab read alike: walltime, queue, account, then the
/// `--job-extra` lines.
pub fn pbs_limits(spec: &super::JobSpec) -> Vec<String> {
    let mut d = Vec::new();
    if let Some(t) = &spec.walltime {
        d.push(format!("#PBS -l walltime={t}"));
    }
    if let Some(q) = &spec.queue {
        d.push(format!("#PBS -q {q}"));
    }
    if let Some(a) = &spec.account {
        d.push(format!("#PBS -A {a}"));
    }
    d.extend(spec.extra.iter().map(|e| format!("#PBS {e}")));
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("/usr/bin/python3"), "/usr/bin/python3");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("x'; rm -rf / #"), "'x'\\''; rm -rf / #'");
        assert_eq!(quote(""), "''");
    }

    /// The script dask-jobqueue 0.9 renders for SLURMCluster (captured from `job_script()`).
    const JOBQUEUE: &str = "#!/usr/bin/env bash\n\n#SBATCH -J dask-worker\n#SBATCH -n 1\n#SBATCH --cpus-per-task=1\n#SBATCH --mem=954M\n#SBATCH -t 00:10:00\n\n/opt/py/bin/python -m distributed.cli.dask_worker tcp://127.0.0.1:35421 --name SLURMCluster-3 --nthreads 1 --memory-limit 0.93GiB --nanny --death-timeout 60 --host 127.0.0.1\n";

    #[test]
    fn worker_log() {
        // the banner distributed 2026.8 prints (captured from a real worker)
        let log = "2026-11-22 01:29:21,440 - distributed.worker - INFO -       Start worker at:      tcp://127.0.0.1:41301\n2026-11-22 01:29:21,441 - distributed.worker - INFO -          Worker name:               SGECluster-3\n2026-11-22 01:29:21,441 - distributed.worker - INFO - Waiting to connect to:      tcp://127.0.0.1:36571\n";
        let s = from_worker_log(log).unwrap();
        assert_eq!(
            scheduler_address(&s).as_deref(),
            Some("tcp://127.0.0.1:36571")
        );
        assert_eq!(worker_name(&s).as_deref(), Some("SGECluster-3"));
        assert_eq!(from_worker_log("a log without its banner\n"), None);
    }

    #[test]
    fn jobqueue_scripts() {
        assert_eq!(
            scheduler_address(JOBQUEUE).as_deref(),
            Some("tcp://127.0.0.1:35421")
        );
        assert_eq!(worker_name(JOBQUEUE).as_deref(), Some("SLURMCluster-3"));
        let u = uniquify_worker_name(JOBQUEUE, "${SLURM_JOB_ID}");
        assert!(
            u.contains("--name \"SLURMCluster-3-${SLURM_JOB_ID}\" --nthreads 1"),
            "{u}"
        );
        assert!(u.contains("#SBATCH -J dask-worker"));
    }
}
