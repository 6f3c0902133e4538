//! Reading Slurm's queue: `squeue --json` (22.05 and later; newer releases wrap numbers as
//! `{"set", "infinite", "number"}` and give `job_state` as a list) and, where JSON is not
//! available, a `squeue -o` text format with one line per array task.

use crate::backends::jobqueue::interest::Head;
use crate::backends::jobqueue::lenient::{EachOf, Num, Str};
use crate::backends::jobqueue::{Interest, Job, JobState};
use crate::error::{Error, Result};
use serde_json::Value;
use std::time::SystemTime;

pub fn state(s: &str) -> JobState {
    match s {
        "PENDING" | "CONFIGURING" | "REQUEUED" | "REQUEUE_FED" | "REQUEUE_HOLD" | "RESIZING" => {
            JobState::Pending
        }
        "RUNNING" => JobState::Running,
        "SUSPENDED" | "STOPPED" => JobState::Held,
        "COMPLETING" | "SIGNALING" | "STAGE_OUT" => JobState::Completing,
        "COMPLETED" => JobState::Finished,
        "CANCELLED" | "FAILED" | "TIMEOUT" | "NODE_FAIL" | "PREEMPTED" | "OUT_OF_MEMORY"
        | "BOOT_FAIL" | "DEADLINE" | "SPECIAL_EXIT" | "REVOKED" => JobState::Failed,
        _ => JobState::Unknown,
    }
}

/// Expands the placeholders of an output path that squeue reports unexpanded.
fn expand(
    pattern: &str,
    job_id: &str,
    array_id: &str,
    task: &str,
    name: &str,
    user: &str,
) -> String {
    let mut out = String::new();
    let mut it = pattern.chars().peekable();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // optional zero-padding width, e.g. %4a
        let mut width = String::new();
        while let Some(d) = it.peek().filter(|d| d.is_ascii_digit()) {
            width.push(*d);
            it.next();
        }
        // sbatch(1), "filename pattern": "The maximal number is 10, if a value greater than
        // 10 is used the result is padding up to 10 characters" (and a width from a job's
        // StdOut must never reach format! unbounded)
        let w: usize = width
            .parse::<usize>()
            .map_or(if width.is_empty() { 0 } else { 10 }, |w| w.min(10));
        let val = match it.next() {
            Some('j') => job_id.to_string(),
            Some('A') => array_id.to_string(),
            Some('a') => task.to_string(),
            Some('x') => name.to_string(),
            Some('u') => user.to_string(),
            Some('%') => "%".to_string(),
            Some(other) => format!("%{width}{other}"),
            None => "%".to_string(),
        };
        out.push_str(&format!("{val:0>w$}"));
    }
    out
}

/// Task ids of an array range like "0,2-5%4".
fn tasks(range: &str) -> Vec<u64> {
    let range = range.split('%').next().unwrap_or("");
    let mut v = Vec::new();
    for part in range.split(',').filter(|p| !p.is_empty()) {
        let part = part.split(':').next().unwrap_or(part);
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) {
                    v.extend(a..=b.min(a.saturating_add(100_000)));
                }
            }
            None => v.extend(part.parse::<u64>().ok()),
        }
    }
    v
}

/// `squeue --json`: the document's `errors`, and each of its `jobs` handed to `each` as it is
/// read (with only what is read of a job: the other ~100 fields are skipped unparsed, strings
/// borrowed from the output where they can be). A queue of 100,000 jobs costs its own text and
/// the jobs kept, not a tree or a vector of every record.
struct JsonDoc<'f, F> {
    each: &'f mut F,
}

/// What the document said besides its jobs.
#[derive(Default)]
struct JsonOutcome {
    errors: Vec<Value>,
    had_jobs: bool,
}

impl<'de, F: FnMut(JsonJob<'de>)> serde::de::Visitor<'de> for JsonDoc<'_, F> {
    type Value = JsonOutcome;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an squeue --json document")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<JsonOutcome, A::Error> {
        let mut out = JsonOutcome::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "errors" => {
                    out.errors = map.next_value::<Option<Vec<Value>>>()?.unwrap_or_default()
                }
                "jobs" => {
                    map.next_value_seed(EachOf::new(&mut *self.each))?;
                    out.had_jobs = true;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct JsonJob<'a> {
    job_id: Num,
    array_job_id: Num,
    array_task_id: Num,
    #[serde(borrow)]
    name: Str<'a>,
    #[serde(borrow)]
    user_name: Str<'a>,
    #[serde(borrow)]
    job_state: Str<'a>,
    #[serde(borrow)]
    state_reason: Str<'a>,
    #[serde(borrow)]
    comment: Str<'a>,
    submit_time: Num,
    start_time: Num,
    #[serde(borrow)]
    current_working_directory: Str<'a>,
    cpus: Num,
    #[serde(borrow)]
    standard_output: Str<'a>,
    #[serde(borrow)]
    array_task_string: Str<'a>,
}

fn error_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// The jobs of `squeue --json` output that `keep` wants.
pub fn parse_json(stdout: &str, keep: &Interest) -> Result<Vec<Job>> {
    let mut out = Vec::new();
    let mut each = |j: JsonJob<'_>| {
        let head = Head {
            user: j.user_name.get(),
            name: j.name.get(),
            marker: j.comment.some(),
            ..Head::default()
        };
        if keep.wants(&head) {
            json_job(&j, &mut out);
        }
    };
    let mut de = serde_json::Deserializer::from_str(stdout);
    let doc = serde::Deserializer::deserialize_map(&mut de, JsonDoc { each: &mut each })
        .and_then(|doc| de.end().map(|()| doc))
        .map_err(|e| Error::backend("slurm", format!("squeue --json: {e}")))?;
    // with the controller down, squeue --json exits 0 and reports the failure here
    if let Some(e) = doc.errors.first() {
        let what = [
            error_text(e.get("source")),
            error_text(e.get("description")),
            error_text(e.get("error")),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
        return Err(Error::Unavailable {
            backend: "slurm".into(),
            message: format!(
                "cannot load jobs from the Slurm controller (squeue --json: {what}); check: scontrol ping"
            ),
        });
    }
    if !doc.had_jobs {
        return Err(Error::backend("slurm", "squeue --json: no jobs array"));
    }
    Ok(out)
}

/// The jobs one JSON record stands for (a queued array's tasks: one each).
fn json_job(j: &JsonJob<'_>, out: &mut Vec<Job>) {
    let job_id = j.job_id.0.map(|n| n.to_string()).unwrap_or_default();
    let array_id = j.array_job_id.0.filter(|n| *n != 0).map(|n| n.to_string());
    let task = j.array_task_id.0;
    let (name, user) = (j.name.get(), j.user_name.get());
    let native = j.job_state.get().to_string();
    let mut st = state(&native);
    if st == JobState::Pending && j.state_reason.get().contains("Held") {
        st = JobState::Held;
    }
    let base = Job {
        id: job_id.clone(),
        runtime_id: Some(job_id.clone()),
        name: name.to_string(),
        state: st,
        native_state: native,
        marker: Some(j.comment.get().to_string()).filter(|c| !c.is_empty()),
        user: user.to_string(),
        submitted: j
            .submit_time
            .0
            .and_then(|t| crate::units::epoch_secs(t as f64)),
        stdout: None,
        workdir: Some(j.current_working_directory.get().to_string()).filter(|c| !c.is_empty()),
        command: None,
        worker_name: None,
        cores: j.cpus.0.map(|n| n as f64),
        started: j
            .start_time
            .0
            .filter(|_| st == JobState::Running)
            .and_then(|t| crate::units::epoch_secs(t as f64)),
    };
    let pattern = j.standard_output.get();
    let pending_range = j.array_task_string.get();
    match (&array_id, task) {
        // an array's tasks that are still queued together: one job per task
        (Some(a), None) if !pending_range.is_empty() => {
            for t in tasks(pending_range) {
                let mut x = base.clone();
                x.id = format!("{a}_{t}");
                x.runtime_id = None;
                x.stdout = Some(expand(pattern, &x.id, a, &t.to_string(), name, user))
                    .filter(|p| !p.is_empty());
                out.push(x);
            }
        }
        (Some(a), Some(t)) => {
            let mut x = base;
            x.id = format!("{a}_{t}");
            x.stdout = Some(expand(pattern, &job_id, a, &t.to_string(), name, user))
                .filter(|p| !p.is_empty());
            out.push(x);
        }
        _ => {
            let mut x = base;
            x.stdout = Some(expand(pattern, &job_id, &job_id, "4294967294", name, user))
                .filter(|p| !p.is_empty());
            out.push(x);
        }
    }
}

/// `squeue -o` fields (`%i` array task id, `%A` runtime id, `%j` name, `%T` state, `%u` user,
/// `%V` submitted, `%Z` work dir, `%r` reason, `%C` cpus, `%S` start, `%k` comment), split by
/// the unit separator; the comment goes last (it may hold anything).
const FIELDS: &str = "%i\x1f%A\x1f%j\x1f%T\x1f%u\x1f%V\x1f%Z\x1f%r\x1f%C\x1f%S\x1f%k";

/// The same fields through `squeue -O` (`--Format`; `JobID` is `%A`, each array task's own id
/// once it runs, the array's before), which also has `StdOut` (the output path,
/// unexpanded, as JSON's `standard_output`): what tells dask-gateway's scheduler jobs from its
/// workers. Size 0 prints a field whole (no padding, no truncation, as on 22.05.8); the suffix
/// is the separator.
const LONG_FIELDS: &str = "JobArrayID:0\x1f,JobID:0\x1f,Name:0\x1f,State:0\x1f,UserName:0\x1f,SubmitTime:0\x1f,WorkDir:0\x1f,Reason:0\x1f,NumCPUs:0\x1f,StartTime:0\x1f,StdOut:0\x1f,Comment:0";

/// Which text format to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// `-O` with `StdOut` (Slurm 20.11 and later)
    Long,
    /// `-o`, for an squeue without it
    Short,
}

/// One line per array task (`-r`); `names`: only jobs with these names (`--name`, filtered by
/// slurmctld).
pub fn text_argv(names: Option<&[String]>, everyone: bool, text: Text) -> Vec<String> {
    let (flag, fields) = match text {
        Text::Long => ("-O", LONG_FIELDS),
        Text::Short => ("-o", FIELDS),
    };
    let mut v: Vec<String> = ["squeue", "--me", "-h", "-r", flag, fields]
        .iter()
        .filter(|a| !(everyone && **a == "--me"))
        .map(|s| s.to_string())
        .collect();
    if let Some(n) = names {
        v.push(format!("--name={}", n.join(",")));
    }
    v
}

/// The jobs of `squeue` text output that `keep` wants. A line is split into borrowed fields
/// and only a kept job is built: on a facility's queue that is a few in a thousand.
pub fn parse_text(stdout: &str, text: Text, keep: &Interest) -> Result<Vec<Job>> {
    let n = match text {
        Text::Long => 12,
        Text::Short => 11,
    };
    let mut out = Vec::new();
    let mut f: [&str; 12] = [""; 12];
    for line in stdout.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let mut got = 0;
        for (i, x) in line.splitn(n, '\x1f').enumerate() {
            f[i] = x.trim();
            got = i + 1;
        }
        if got < n {
            return Err(Error::backend(
                "slurm",
                format!("unexpected squeue line {line:?}"),
            ));
        }
        let (stdout_path, comment) = match text {
            Text::Long => (f[10], f[11]),
            Text::Short => ("", f[10]),
        };
        let comment = Some(comment).filter(|c| !c.is_empty() && *c != "(null)");
        let head = Head {
            user: f[4],
            name: f[2],
            marker: comment,
            ..Head::default()
        };
        if !keep.wants(&head) {
            continue;
        }
        out.push(text_job(&f, stdout_path, comment));
    }
    Ok(out)
}

/// A job from the fields of one line.
fn text_job(f: &[&str; 12], stdout_path: &str, comment: Option<&str>) -> Job {
    let native = f[3].to_string();
    let mut st = state(&native);
    if st == JobState::Pending && f[7].contains("Held") {
        st = JobState::Held;
    }
    // a queued array task has no id of its own yet: %A is then the array's id
    let runtime = if f[0].contains('_') && matches!(st, JobState::Pending | JobState::Held) {
        None
    } else {
        Some(f[1].to_string())
    };
    let (name, user) = (f[2], f[4]);
    let stdout = Some(stdout_path)
        .filter(|p| !p.is_empty() && *p != "(null)")
        .map(|p| {
            let (array, task) = f[0].split_once('_').unwrap_or((f[1], "4294967294"));
            let job_id = runtime.as_deref().unwrap_or(f[0]);
            expand(p, job_id, array, task, name, user)
        });
    Job {
        id: f[0].to_string(),
        runtime_id: runtime,
        name: name.to_string(),
        state: st,
        native_state: native,
        marker: comment.map(str::to_string),
        user: user.to_string(),
        submitted: parse_local_time(f[5]),
        stdout,
        workdir: Some(f[6].to_string()).filter(|c| !c.is_empty()),
        command: None,
        worker_name: None,
        cores: f[8].parse::<f64>().ok(),
        // StartTime of a pending job is its expected start, or N/A
        started: parse_local_time(f[9]).filter(|_| st == JobState::Running),
    }
}

/// squeue prints times as local `YYYY-MM-DDTHH:MM:SS`; close enough for ages when read as UTC
/// on the UTC machines batch systems usually run on.
fn parse_local_time(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(s).ok()
}

/// `Key=Value` from `scontrol show job` output.
pub fn scontrol_field(out: &str, key: &str) -> Option<String> {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
        .filter(|v| !v.is_empty() && v != "(null)")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from `squeue --me --json` of Slurm 22.05.8 (trimmed to the fields read).
    const JSON_2205: &str = r#"{"meta":{"Slurm":{"release":"22.05.8"}},"jobs":[
      {"job_id":4,"array_job_id":3,"array_task_id":1,"array_task_string":"","name":"etl-worker","job_state":"RUNNING","state_reason":"None","comment":"daskctl:v1;cluster=etl;role=worker;dir=/h/.daskctl/slurm/etl","user_name":"ann","submit_time":1795308396,"standard_output":"/h/logs/worker-%j.out","current_working_directory":"/h"},
      {"job_id":3,"array_job_id":3,"array_task_id":null,"array_task_string":"0,2-3","name":"etl-worker","job_state":"PENDING","state_reason":"JobHeldUser","comment":"","user_name":"ann","submit_time":1795308396,"standard_output":"/h/w-%A_%a.out","current_working_directory":"/h"},
      {"job_id":9,"array_job_id":0,"array_task_id":null,"array_task_string":"","name":"dask-worker","job_state":"PENDING","state_reason":"Priority","comment":"","user_name":"ann","submit_time":1795308400,"standard_output":"/h/slurm-%j.out","current_working_directory":"/h"}]}"#;

    /// The shape of Slurm 23.02+ (numbers wrapped, state as a list).
    const JSON_2302: &str = r#"{"jobs":[{"job_id":{"set":true,"infinite":false,"number":77},"array_job_id":{"set":true,"infinite":false,"number":0},"array_task_id":{"set":false,"infinite":false,"number":0},"array_task_string":"","name":"x-scheduler","job_state":["RUNNING"],"state_reason":"None","comment":"","user_name":"ann","submit_time":{"set":true,"infinite":false,"number":1795308396},"standard_output":"/h/s-%j.out","current_working_directory":"/h"}]}"#;

    #[test]
    fn json_22_05_with_pending_array() {
        let jobs = parse_json(JSON_2205, &Interest::Everything).unwrap();
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, ["3_1", "3_0", "3_2", "3_3", "9"]);
        assert_eq!(jobs[0].runtime_id.as_deref(), Some("4"));
        assert_eq!(jobs[0].stdout.as_deref(), Some("/h/logs/worker-4.out"));
        assert_eq!(jobs[0].state, JobState::Running);
        assert!(jobs[0].marker.as_deref().unwrap().contains("cluster=etl"));
        assert_eq!(jobs[1].state, JobState::Held);
        assert_eq!(jobs[1].runtime_id, None);
        assert_eq!(jobs[2].stdout.as_deref(), Some("/h/w-3_2.out"));
        assert_eq!(jobs[4].state, JobState::Pending);
        assert_eq!(jobs[4].stdout.as_deref(), Some("/h/slurm-9.out"));
    }

    /// What Slurm 22.05 prints (exit 0) when slurmctld is down.
    #[test]
    fn json_errors_are_errors() {
        let out = r#"{"meta":{},"errors":[{"description":"Failed while looking for jobs","error_number":-1,"error":"Unspecified error","source":"slurm_load_jobs"}],"jobs":[]}"#;
        let e = parse_json(out, &Interest::Everything)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("slurm_load_jobs: Failed while looking for jobs"),
            "{e}"
        );
        assert!(e.contains("Slurm controller"), "{e}");
    }

    #[test]
    fn json_23_02_shape() {
        let jobs = parse_json(JSON_2302, &Interest::Everything).unwrap();
        assert_eq!(jobs[0].id, "77");
        assert_eq!(jobs[0].state, JobState::Running);
        assert_eq!(jobs[0].stdout.as_deref(), Some("/h/s-77.out"));
        assert!(jobs[0].submitted.is_some());
    }

    #[test]
    fn text_format() {
        let out = "3_1\x1f4\x1fetl-worker\x1fRUNNING\x1fann\x1f2026-11-22T00:46:36\x1f/h\x1fNone\x1f4\x1f2026-11-22T00:47:00\x1fdaskctl:v1;cluster=etl;role=worker;dir=/d\n3_2\x1f3\x1fetl-worker\x1fPENDING\x1fann\x1f2026-11-22T00:46:36\x1f/h\x1fJobHeldUser\x1f2\x1fN/A\x1f(null)\n";
        let jobs = parse_text(out, Text::Short, &Interest::Everything).unwrap();
        assert_eq!(jobs[0].cores, Some(4.0));
        assert_eq!(jobs[0].started, parse_local_time("2026-11-22T00:47:00"));
        assert!(jobs[0].started.is_some());
        assert_eq!(jobs[1].cores, Some(2.0));
        assert_eq!(jobs[1].started, None, "a pending job holds nothing yet");
        assert_eq!(jobs[0].runtime_id.as_deref(), Some("4"));
        assert_eq!(jobs[1].state, JobState::Held);
        assert_eq!(jobs[1].runtime_id, None);
        assert_eq!(jobs[1].marker, None);
        assert!(parse_text("garbage", Text::Short, &Interest::Everything).is_err());
        assert!(parse_text("garbage", Text::Long, &Interest::Everything).is_err());
    }

    /// `squeue -h -r -O LONG_FIELDS` of Slurm 22.05.8 (a dask-gateway array, a plain job of
    /// another user), captured with `|` for the separator.
    const LONG_2205: &str = "1536_0|1536|dask-gateway|RUNNING|root|2026-12-06T10:00:31|/tmp/dg/c0ffee|None|1|2026-12-06T10:00:32|/tmp/dg/c0ffee/dask-scheduler-%j-%x.log|(null)\n\
        1537|1537|vasp|PENDING|bob|2026-12-06T10:00:31|/home/bob|Priority|64|N/A|/home/bob/slurm-%j.out|(null)\n\
        1538|1538|etl-worker|RUNNING|ann|2026-12-06T10:00:31|/h|None|2|2026-12-06T10:00:40|/h/logs/worker-%j.out|daskctl:v1;cluster=etl;role=worker;dir=/d\n";

    #[test]
    fn long_text_format_has_output_paths_and_keeps_only_dask_jobs() {
        let out = LONG_2205.replace('|', "\x1f");
        let all = parse_text(&out, Text::Long, &Interest::Everything).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[0].stdout.as_deref(),
            Some("/tmp/dg/c0ffee/dask-scheduler-1536-dask-gateway.log")
        );
        assert_eq!(all[0].workdir.as_deref(), Some("/tmp/dg/c0ffee"));
        assert_eq!(all[1].stdout.as_deref(), Some("/home/bob/slurm-1537.out"));
        assert_eq!(all[1].marker, None);
        assert!(all[2].marker.as_deref().unwrap().starts_with("daskctl:v1;"));
        let dask = Interest::Dask(crate::backends::jobqueue::interest::DaskJobs {
            me: "ann".into(),
            scope: crate::backends::Scope::Everyone,
            jobqueue_names: vec!["dask-worker".into()],
            named: None,
            mpi: false,
        });
        let kept = parse_text(&out, Text::Long, &dask).unwrap();
        let ids: Vec<&str> = kept.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, ["1536_0", "1538"]);
    }

    /// One real queue (bench/records: a daskctl cluster, a dask-gateway cluster, a
    /// dask-jobqueue worker, an array, a plain job on Slurm 22.05.8) read both ways: the text
    /// format says what JSON says of the active jobs (JSON also shows jobs that just ended, and
    /// no output path for a job left with Slurm's default one, which `-O StdOut` spells out).
    #[test]
    fn text_and_json_of_one_real_queue_agree() {
        let text = include_str!("../../../bench/records/slurm-22.05.8-O.txt").replace('|', "\x1f");
        let json = include_str!("../../../bench/records/slurm-22.05.8.json");
        let key = |j: &Job| {
            (
                j.id.clone(),
                j.runtime_id.clone(),
                j.name.clone(),
                j.state,
                j.user.clone(),
                j.marker.clone(),
                j.workdir.clone(),
                j.cores,
            )
        };
        let text = parse_text(&text, Text::Long, &Interest::Everything).unwrap();
        let mut json = parse_json(json, &Interest::Everything).unwrap();
        json.retain(|j| j.state.active());
        let mut a: Vec<_> = text.iter().map(key).collect();
        let mut b: Vec<_> = json.iter().map(key).collect();
        a.sort_by(|x, y| x.0.cmp(&y.0));
        b.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(a.len(), 11);
        assert_eq!(a, b);
        let mut paths = 0;
        for j in &json {
            if let Some(p) = &j.stdout {
                let t = text.iter().find(|t| t.id == j.id).unwrap();
                assert_eq!(t.stdout.as_ref(), Some(p), "{}", j.id);
                paths += 1;
            }
        }
        assert_eq!(paths, 5, "the gateway's two jobs and daskctl's three");
    }

    #[test]
    fn helpers() {
        assert_eq!(tasks("0,2-3%2"), vec![0, 2, 3]);
        assert_eq!(
            expand("/l/%x-%4a.%%", "1", "1", "7", "n", "u"),
            "/l/n-0007.%"
        );
        assert_eq!(
            scontrol_field("   StdOut=/tmp/h-3_1.out\n StdErr=(null)", "StdOut").as_deref(),
            Some("/tmp/h-3_1.out")
        );
        assert_eq!(scontrol_field("StdErr=(null)", "StdErr"), None);
    }

    mod props {
        use super::super::*;
        use super::{JSON_2205, JSON_2302};
        use crate::arb;
        use proptest::prelude::*;

        const TEXT: &str = "3_1\x1f4\x1fetl-worker\x1fRUNNING\x1fann\x1f2026-11-22T00:46:36\x1f/h\x1fNone\x1f1\x1f2026-11-22T00:47:00\x1fdaskctl:v1;cluster=etl;role=worker;dir=/d\n";

        proptest! {
            /// squeue's output, any of it: parsed or refused, never a panic.
            #[test]
            fn json_never_panics(doc in arb::json(), a in arb::mutated(JSON_2205), b in arb::mutated(JSON_2302)) {
                let _ = parse_json(&doc.to_string(), &Interest::Everything);
                let _ = parse_json(&a, &Interest::Everything);
                let _ = parse_json(&b, &Interest::Everything);
            }

            #[test]
            fn text_never_panics(t in arb::text(), m in arb::mutated(TEXT)) {
                for text in [Text::Long, Text::Short] {
                    let _ = parse_text(&t, text, &Interest::Everything);
                    let _ = parse_text(&m, text, &Interest::Everything);
                }
                let _ = scontrol_field(&t, "StdOut");
            }

            /// Output paths with any placeholders and widths (`%70000j` once panicked).
            #[test]
            fn output_patterns_never_panic(p in "[%0-9a-zA-Z/_.-]{0,40}", width in any::<u64>()) {
                let _ = expand(&p, "1", "1", "2", "n", "u");
                let big = format!("/l/%{width}j.out");
                let out = expand(&big, "7", "7", "0", "n", "u");
                prop_assert!(out.len() < 64, "{}", out);
            }

            #[test]
            fn array_ranges_never_panic(r in "[0-9,%:-]{0,40}", a in any::<u64>(), b in any::<u64>()) {
                let _ = tasks(&r);
                let range = format!("{a}-{b}");
                prop_assert!(tasks(&range).len() <= 100_001);
            }
        }
    }
}
