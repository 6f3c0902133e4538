//! Reading Grid Engine's queue: `qstat -xml` (one `job_list` per running task, one per range of
//! pending tasks: `<tasks>4-10:1</tasks>`) and `qstat -j ID,...` for context and output paths.

use crate::backends::jobqueue::{Job, JobState};
use crate::error::{Error, Result};
use quick_xml::events::Event;
use std::collections::HashMap;
use std::time::SystemTime;

/// Grid Engine state letters: r running, t transferring, qw queued, h hold, s/S/T suspended,
/// d deletion, E error, R restarted.
pub fn state(s: &str) -> JobState {
    if s.contains('d') {
        JobState::Completing
    } else if s.contains('E') {
        JobState::Failed
    } else if s.contains('h') || s.contains('s') || s.contains('S') || s.contains('T') {
        JobState::Held
    } else if s.contains('r') || s.contains('t') || s.contains('R') {
        JobState::Running
    } else if s.contains('q') || s.contains('w') {
        JobState::Pending
    } else {
        JobState::Unknown
    }
}

fn time(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(s.trim()).ok()
}

/// Task ids of "1-3:1", "5", "1,4-6:1".
fn tasks(spec: &str) -> Vec<u64> {
    let mut v = Vec::new();
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let (range, step) = part.split_once(':').unwrap_or((part, "1"));
        let step: u64 = step.parse().unwrap_or(1).max(1);
        match range.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) {
                    v.extend((a..=b.min(a + 100_000)).step_by(step as usize));
                }
            }
            None => v.extend(range.parse::<u64>().ok()),
        }
    }
    v
}

pub fn parse_xml(xml: &str) -> Result<Vec<Job>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut cur: Option<HashMap<String, String>> = None;
    let mut field = String::new();
    loop {
        match reader.read_event() {
            Err(e) => return Err(Error::backend("sge", format!("qstat -xml: {e}"))),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                let name = AsRef::<str>::as_ref(&e.name()).to_string();
                if name == "job_list" {
                    cur = Some(HashMap::new());
                } else {
                    field = name;
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(m) = cur.as_mut() {
                    let raw = t.into_inner();
                    let text = quick_xml::escape::unescape(&raw)
                        .map(|c| c.into_owned())
                        .unwrap_or_else(|_| raw.into_owned());
                    m.entry(field.clone()).or_default().push_str(&text);
                }
            }
            Ok(Event::End(e)) => {
                if AsRef::<str>::as_ref(&e.name()) == "job_list"
                    && let Some(m) = cur.take()
                {
                    out.extend(jobs_of(&m));
                }
                field.clear();
            }
            _ => {}
        }
    }
    Ok(out)
}

fn jobs_of(m: &HashMap<String, String>) -> Vec<Job> {
    let get = |k: &str| m.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let number = get("JB_job_number");
    let native = get("state");
    let running = state(&native) == JobState::Running;
    let base = Job {
        id: number.clone(),
        runtime_id: Some(number.clone()),
        name: get("JB_name"),
        state: state(&native),
        native_state: native,
        marker: None,
        user: get("JB_owner"),
        submitted: time(&get("JB_submission_time")).or_else(|| time(&get("JAT_start_time"))),
        stdout: None,
        workdir: None,
        command: None,
        worker_name: None,
        cores: get("slots").parse::<f64>().ok(),
        started: time(&get("JAT_start_time")).filter(|_| running),
    };
    let spec = get("tasks");
    if spec.is_empty() {
        return vec![base];
    }
    tasks(&spec)
        .into_iter()
        .map(|t| {
            let mut j = base.clone();
            j.id = format!("{number}.{t}");
            j.runtime_id = Some(j.id.clone());
            j
        })
        .collect()
}

#[derive(Debug, Default, Clone)]
pub struct Detail {
    pub context: HashMap<String, String>,
    pub stdout: Option<String>,
    pub cwd: Option<String>,
}

/// `qstat -j` text: blocks of `key:   value` lines, one block per job.
pub fn parse_details(text: &str) -> HashMap<String, Detail> {
    let mut out: HashMap<String, Detail> = HashMap::new();
    let mut number = String::new();
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim() {
            "job_number" => {
                number = v.to_string();
                out.entry(number.clone()).or_default();
            }
            "context" => {
                let d = out.entry(number.clone()).or_default();
                for pair in v.split(',') {
                    if let Some((ck, cv)) = pair.split_once('=') {
                        d.context.insert(ck.to_string(), cv.to_string());
                    }
                }
            }
            // NONE:NONE:/path (host:path pairs; the path is last)
            "stdout_path_list" => {
                out.entry(number.clone()).or_default().stdout =
                    v.rsplit(':').next().map(str::to_string);
            }
            "cwd" => out.entry(number.clone()).or_default().cwd = Some(v.to_string()),
            _ => {}
        }
    }
    out
}

pub fn attach(jobs: &mut [Job], details: &HashMap<String, Detail>) {
    for j in jobs {
        let (number, task) = match j.id.split_once('.') {
            Some((n, t)) => (n.to_string(), t.to_string()),
            None => (j.id.clone(), "undefined".to_string()),
        };
        let Some(d) = details.get(&number) else {
            continue;
        };
        j.marker = d.context.get("DASKCTL").cloned();
        j.workdir = d.cwd.clone();
        j.stdout = match &d.stdout {
            Some(p) => Some(
                p.replace("$JOB_ID", &number)
                    .replace("$TASK_ID", &task)
                    .replace("$JOB_NAME", &j.name)
                    .replace("$USER", &j.user),
            ),
            // no -o: Grid Engine writes NAME.oJOB[.TASK] in the job's working directory
            // (the submit directory with -cwd, else the home directory)
            None => {
                let dir = d
                    .cwd
                    .clone()
                    .or_else(|| dirs::home_dir().map(|h| h.to_string_lossy().into_owned()));
                let suffix = if task == "undefined" {
                    String::new()
                } else {
                    format!(".{task}")
                };
                dir.map(|dir| format!("{dir}/{}.o{number}{suffix}", j.name))
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From `qstat -xml -u root` of Son of Grid Engine 8.1.9 (Debian bookworm): one running task
    /// and a held range of pending tasks of the same array.
    const XML: &str = r#"<?xml version='1.0'?>
<job_info  xmlns:xsd="http://arc.liv.ac.uk/repos/darcs/sge/source/dist/util/resources/schemas/qstat/qstat.xsd">
  <queue_info>
    <job_list state="running">
      <JB_job_number>7</JB_job_number>
      <JAT_prio>0.50000</JAT_prio>
      <JB_name>etl-worker</JB_name>
      <JB_owner>root</JB_owner>
      <state>r</state>
      <JAT_start_time>2026-11-22T01:14:47</JAT_start_time>
      <queue_name>all.q@vm</queue_name>
      <slots>1</slots>
      <tasks>1</tasks>
    </job_list>
  </queue_info>
  <job_info>
    <job_list state="pending">
      <JB_job_number>7</JB_job_number>
      <JAT_prio>0.00000</JAT_prio>
      <JB_name>etl-worker</JB_name>
      <JB_owner>root</JB_owner>
      <state>hqw</state>
      <JB_submission_time>2026-11-22T01:15:44</JB_submission_time>
      <queue_name></queue_name>
      <slots>1</slots>
      <tasks>2-4:1</tasks>
    </job_list>
    <job_list state="pending">
      <JB_job_number>8</JB_job_number>
      <JB_name>etl-scheduler</JB_name>
      <JB_owner>root</JB_owner>
      <state>qw</state>
      <JB_submission_time>2026-11-22T01:15:44</JB_submission_time>
      <slots>1</slots>
    </job_list>
  </job_info>
</job_info>"#;

    /// From `qstat -j 7` of the same system (trimmed).
    const DETAILS: &str = "==============================================================\njob_number:                 7\nsubmission_time:            Sun Nov 22 01:15:44 2026\nowner:                      root\ncwd:                        /home/ann\nstdout_path_list:           NONE:NONE:/d/logs/worker-$JOB_ID.$TASK_ID.out\ncontext:                    DASKCTL=daskctl:v1;cluster=etl;role=worker;dir=/d\n";

    #[test]
    fn xml_and_details() {
        let mut jobs = parse_xml(XML).unwrap();
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, ["7.1", "7.2", "7.3", "7.4", "8"]);
        assert_eq!(jobs[0].state, JobState::Running);
        assert_eq!(jobs[1].state, JobState::Held);
        assert_eq!(jobs[4].state, JobState::Pending);
        assert!(jobs[4].submitted.is_some());
        assert_eq!(jobs[0].cores, Some(1.0));
        assert!(
            jobs[0].started.is_some(),
            "JAT_start_time of the running task"
        );
        assert_eq!(jobs[1].started, None);
        attach(&mut jobs, &parse_details(DETAILS));
        assert_eq!(
            jobs[0].marker.as_deref(),
            Some("daskctl:v1;cluster=etl;role=worker;dir=/d")
        );
        assert_eq!(jobs[2].stdout.as_deref(), Some("/d/logs/worker-7.3.out"));
        assert_eq!(jobs[4].marker, None);
        assert!(parse_xml("<job_info><job_list>").is_ok() || parse_xml("<a></b>").is_err());
    }

    #[test]
    fn states() {
        assert_eq!(state("dr"), JobState::Completing);
        assert_eq!(state("Eqw"), JobState::Failed);
        assert_eq!(state("t"), JobState::Running);
        assert_eq!(tasks("1,4-8:2"), vec![1, 4, 6, 8]);
    }

    mod props {
        use super::super::*;
        use super::{DETAILS, XML};
        use crate::arb;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn xml_and_details_never_panic(x in arb::mutated(XML), d in arb::mutated(DETAILS), t in arb::text()) {
                let _ = parse_xml(&x);
                let _ = parse_xml(&t);
                let details = parse_details(&d);
                let _ = parse_details(&t);
                if let Ok(mut jobs) = parse_xml(XML) {
                    attach(&mut jobs, &details);
                }
            }

            #[test]
            fn task_ranges_never_panic(r in "[0-9,:-]{0,40}", t in arb::text()) {
                let _ = tasks(&r);
                let _ = tasks(&t);
                let _ = time(&t);
            }
        }
    }
}
