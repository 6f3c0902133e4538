//! Reading LSF's queue: `bjobs -o FIELDS -json` (LSF 10.1: `{"COMMAND": "bjobs", "JOBS": N,
//! "RECORDS": [{"JOBID": "1234", "STAT": "RUN", ...}]}`, each field under its name in capitals,
//! every value a string, `""` or `-` when unset; a record with `ERROR` for a job id that is not
//! found) and, where `-json` is unknown, the same fields as `-noheader` lines split at a
//! delimiter. An array element is its own record: JOBINDEX > 0, JOB_NAME `NAME[INDEX]`.

use crate::backends::jobqueue::interest::Head;
use crate::backends::jobqueue::lenient::{self, Str};
use crate::backends::jobqueue::localtime::{local_time, month};
use crate::backends::jobqueue::{Interest, Job, JobState};
use crate::error::{Error, Result};
use std::time::SystemTime;

/// The fields asked for, in this order (bjobs -o field names).
pub const FIELDS: &str = "jobid jobindex stat user job_name job_description submit_time \
start_time output_file sub_cwd nreq_slot";

/// The text form's field separator (`-o "... delimiter='^'"`).
pub const DELIMITER: char = '^';

/// LSF's job states (bjobs, "Job states"): PEND, PSUSP (suspended while pending: `bsub -H`,
/// `bstop`), RUN, USUSP/SSUSP (suspended while running: they keep their slots), DONE, EXIT,
/// WAIT (a chunk job's member waiting), ZOMBI, UNKWN.
pub fn state(s: &str) -> JobState {
    match s {
        "PEND" | "WAIT" => JobState::Pending,
        "PSUSP" => JobState::Held,
        "RUN" | "USUSP" | "SSUSP" => JobState::Running,
        "DONE" => JobState::Finished,
        "EXIT" => JobState::Failed,
        _ => JobState::Unknown,
    }
}

/// `Dec  6 13:50`, `Dec  6 13:50:07`, with ` 2026` where LSB_DISPLAY_YEAR is set, and a trailing
/// ` L`/` E`/` A` flag on some fields; local time. Without a year: this year's, unless that is
/// more than a day ahead (then last year's: a job queued since December, read in January).
fn time(s: &str, now: SystemTime) -> Option<SystemTime> {
    let f: Vec<&str> = s.split_whitespace().collect();
    if f.len() < 3 {
        return None;
    }
    let m = month(f[0])?;
    let day: i32 = f[1].parse().ok()?;
    let hms: Vec<i32> = f[2]
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let (h, mi, sec) = match hms.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    let valid = (1..=31).contains(&day)
        && (0..24).contains(&h)
        && (0..60).contains(&mi)
        && (0..=60).contains(&sec);
    if !valid {
        return None;
    }
    if let Some(year) = f
        .get(3)
        .and_then(|y| y.parse::<i32>().ok())
        .filter(|y| (1970..=9999).contains(y))
    {
        return local_time(year, m, day, h, mi, sec);
    }
    let this_year = {
        let secs = now.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs() as libc::time_t;
        // SAFETY: localtime_r writes into the tm it is given and reads only `secs`
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        unsafe { libc::localtime_r(&secs, &mut tm) };
        tm.tm_year + 1900
    };
    let t = local_time(this_year, m, day, h, mi, sec)?;
    if t > now + std::time::Duration::from_secs(86_400) {
        local_time(this_year - 1, m, day, h, mi, sec)
    } else {
        Some(t)
    }
}

/// One record's fields, as printed.
#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "SCREAMING_SNAKE_CASE")]
struct Record<'a> {
    #[serde(borrow)]
    jobid: Str<'a>,
    #[serde(borrow)]
    jobindex: Str<'a>,
    #[serde(borrow)]
    stat: Str<'a>,
    #[serde(borrow)]
    user: Str<'a>,
    #[serde(borrow)]
    job_name: Str<'a>,
    #[serde(borrow)]
    job_description: Str<'a>,
    #[serde(borrow)]
    submit_time: Str<'a>,
    #[serde(borrow)]
    start_time: Str<'a>,
    #[serde(borrow)]
    output_file: Str<'a>,
    #[serde(borrow)]
    sub_cwd: Str<'a>,
    #[serde(borrow)]
    nreq_slot: Str<'a>,
    #[serde(borrow)]
    error: Str<'a>,
}

/// A field's value, unless unset (`-`, empty).
fn set(v: &str) -> Option<&str> {
    Some(v.trim()).filter(|v| !v.is_empty() && *v != "-")
}

/// The job name without an array element's `[INDEX]`.
fn base_name<'a>(name: &'a str, index: &str) -> &'a str {
    if index == "0" || index.is_empty() {
        return name;
    }
    name.strip_suffix(&format!("[{index}]")).unwrap_or(name)
}

struct Fields<'a> {
    id: &'a str,
    index: &'a str,
    stat: &'a str,
    user: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    submitted: &'a str,
    started: &'a str,
    output: Option<&'a str>,
    cwd: Option<&'a str>,
    slots: &'a str,
}

impl Fields<'_> {
    fn wanted(&self, keep: &Interest) -> bool {
        keep.wants(&Head {
            user: self.user,
            name: base_name(self.name, self.index),
            marker: self.description,
            ..Head::default()
        })
    }

    fn job(&self, now: SystemTime) -> Job {
        let indexed = !(self.index.is_empty() || self.index == "0");
        let id = if indexed {
            format!("{}[{}]", self.id, self.index)
        } else {
            self.id.to_string()
        };
        let st = state(self.stat);
        // %J and %I as bsub expands them in -o
        let output = self.output.map(|o| {
            let o = o
                .replace("%J", self.id)
                .replace("%I", if indexed { self.index } else { "0" });
            match self.cwd {
                Some(cwd) if !o.starts_with('/') => format!("{cwd}/{o}"),
                _ => o,
            }
        });
        Job {
            id: id.clone(),
            runtime_id: Some(id),
            name: base_name(self.name, self.index).to_string(),
            state: st,
            native_state: self.stat.to_string(),
            marker: self.description.map(str::to_string),
            user: self.user.to_string(),
            submitted: time(self.submitted, now),
            stdout: output,
            workdir: self.cwd.map(str::to_string),
            command: None,
            worker_name: None,
            cores: self.slots.trim().parse::<f64>().ok(),
            started: time(self.started, now).filter(|_| st == JobState::Running),
        }
    }
}

/// The jobs of `bjobs -o FIELDS -json` output that `keep` wants.
pub fn parse_json(out: &str, keep: &Interest) -> Result<Vec<Job>> {
    let now = SystemTime::now();
    let mut jobs = Vec::new();
    // records streamed one by one: a facility's 100,000 are never all in memory at once
    lenient::each_under(out, "RECORDS", |r: Record<'_>| {
        if r.error.some().is_some() {
            return; // "Job <ID> is not found"
        }
        let f = Fields {
            id: r.jobid.get().trim(),
            index: r.jobindex.get().trim(),
            stat: r.stat.get().trim(),
            user: r.user.get().trim(),
            name: r.job_name.get().trim(),
            description: set(r.job_description.get()),
            submitted: r.submit_time.get(),
            started: r.start_time.get(),
            output: set(r.output_file.get()),
            cwd: set(r.sub_cwd.get()),
            slots: r.nreq_slot.get(),
        };
        if !f.id.is_empty() && f.wanted(keep) {
            jobs.push(f.job(now));
        }
    })
    .map_err(|e| Error::backend("lsf", format!("bjobs -json: {e}")))?;
    Ok(jobs)
}

/// The jobs of `bjobs -o "FIELDS delimiter='^'" -noheader` output that `keep` wants ("No
/// unfinished job found" and other messages are not records).
pub fn parse_text(out: &str, keep: &Interest) -> Vec<Job> {
    let now = SystemTime::now();
    out.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(DELIMITER).collect();
            if f.len() != 11 || !f[0].trim().chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let fields = Fields {
                id: f[0].trim(),
                index: f[1].trim(),
                stat: f[2].trim(),
                user: f[3].trim(),
                name: f[4].trim(),
                description: set(f[5]),
                submitted: f[6],
                started: f[7],
                output: set(f[8]),
                cwd: set(f[9]),
                slots: f[10],
            };
            fields.wanted(keep).then(|| fields.job(now))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records as LSF 10.1 prints them for `bjobs -o "<FIELDS>" -json`: a daskctl worker array
    /// element, a dask-jobqueue worker, someone's pending job, an unknown id.
    const JSON: &str = r#"{
  "COMMAND":"bjobs",
  "JOBS":4,
  "RECORDS":[
    {"JOBID":"4711","JOBINDEX":"2","STAT":"RUN","USER":"ann","JOB_NAME":"etl-worker[2]",
     "JOB_DESCRIPTION":"daskctl:v1;cluster=etl;role=worker;dir=\/home\/ann\/.daskctl\/lsf\/etl",
     "SUBMIT_TIME":"Dec  6 13:50","START_TIME":"Dec  6 13:51 L",
     "OUTPUT_FILE":"\/home\/ann\/.daskctl\/lsf\/etl\/logs\/worker-%J_%I.out",
     "SUB_CWD":"\/home\/ann","NREQ_SLOT":"2"},
    {"JOBID":"4712","JOBINDEX":"0","STAT":"PEND","USER":"ann","JOB_NAME":"dask-worker",
     "JOB_DESCRIPTION":"","SUBMIT_TIME":"Dec  6 13:52 2026","START_TIME":"-",
     "OUTPUT_FILE":"logs\/worker-%J.out","SUB_CWD":"\/home\/ann\/w","NREQ_SLOT":"1"},
    {"JOBID":"4713","JOBINDEX":"0","STAT":"PEND","USER":"bob","JOB_NAME":"vasp",
     "JOB_DESCRIPTION":"-","SUBMIT_TIME":"Dec  6 13:52","START_TIME":"-",
     "OUTPUT_FILE":"","SUB_CWD":"\/home\/bob","NREQ_SLOT":"64"},
    {"ERROR":"Job <99> is not found"}
  ]
}"#;

    #[test]
    fn json_records() {
        let jobs = parse_json(JSON, &Interest::Everything).unwrap();
        assert_eq!(jobs.len(), 3);
        let w = &jobs[0];
        assert_eq!((w.id.as_str(), w.name.as_str()), ("4711[2]", "etl-worker"));
        assert_eq!(w.state, JobState::Running);
        assert!(
            w.marker
                .as_deref()
                .unwrap()
                .starts_with("daskctl:v1;cluster=etl")
        );
        assert_eq!(
            w.stdout.as_deref(),
            Some("/home/ann/.daskctl/lsf/etl/logs/worker-4711_2.out")
        );
        assert_eq!(w.cores, Some(2.0));
        assert!(w.started.is_some() && w.submitted.is_some());
        let q = &jobs[1];
        assert_eq!(q.id, "4712");
        assert_eq!(
            q.stdout.as_deref(),
            Some("/home/ann/w/logs/worker-4712.out")
        );
        assert_eq!((q.state, q.started), (JobState::Pending, None));
        assert_eq!(jobs[2].marker, None);
        let mine = parse_json(JSON, &Interest::mine("ann")).unwrap();
        let ids: Vec<&str> = mine.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(
            ids,
            ["4711[2]", "4712"],
            "bob's job and the unknown id are not"
        );
        assert!(parse_json("No unfinished job found", &Interest::Everything).is_err());
    }

    #[test]
    fn text_lines_and_times() {
        let line = |f: [&str; 11]| f.join("^");
        let out = [
            line([
                "4711",
                "2",
                "RUN",
                "ann",
                "etl-worker[2]",
                "daskctl:v1;cluster=etl;role=worker;dir=/d",
                "Dec  6 13:50",
                "Dec  6 13:51",
                "/d/logs/worker-%J_%I.out",
                "/d",
                "2",
            ]),
            "No unfinished job found".to_string(),
        ]
        .join("\n");
        let jobs = parse_text(&out, &Interest::mine("ann"));
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].stdout.as_deref(), Some("/d/logs/worker-4711_2.out"));
        let now = SystemTime::now();
        assert!(time("Jan  1 00:00 2026", now).is_some());
        assert!(
            time("Dec 31 23:59", now)
                .is_some_and(|t| t <= now + std::time::Duration::from_secs(86_400))
        );
        assert!(time("-", now).is_none() && time("Foo 1 10:00", now).is_none());
        assert_eq!(state("PSUSP"), JobState::Held);
    }

    mod props {
        use super::super::*;
        use super::JSON;
        use crate::arb;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn records_never_panic(a in arb::mutated(JSON), doc in arb::json(), line in ".*") {
                let _ = parse_json(&a, &Interest::Everything);
                let _ = parse_json(&doc.to_string(), &Interest::Everything);
                let _ = parse_text(&line, &Interest::Everything);
                let _ = parse_text(&a.replace(',', "^"), &Interest::Everything);
                let _ = time(&line, SystemTime::now());
            }
        }
    }
}
