//! Reading Grid Engine's queue: `qstat -xml` (one `job_list` per running task, one per range of
//! pending tasks: `<tasks>4-10:1</tasks>`) and `qstat -j ID,...` for context and output paths.

use crate::backends::jobqueue::interest::Head;
use crate::backends::jobqueue::{Interest, Job, JobState};
use crate::error::{Error, Result};
use quick_xml::events::Event;
use std::borrow::Cow;
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

/// The fields of one `job_list` element that are read, as the output has them (borrowed
/// unless unescaped).
#[derive(Default)]
struct Record<'a> {
    number: Cow<'a, str>,
    name: Cow<'a, str>,
    owner: Cow<'a, str>,
    state: Cow<'a, str>,
    submitted: Cow<'a, str>,
    started: Cow<'a, str>,
    slots: Cow<'a, str>,
    tasks: Cow<'a, str>,
}

impl<'a> Record<'a> {
    fn field(&mut self, tag: &str) -> Option<&mut Cow<'a, str>> {
        Some(match tag {
            "JB_job_number" => &mut self.number,
            "JB_name" => &mut self.name,
            "JB_owner" => &mut self.owner,
            "state" => &mut self.state,
            "JB_submission_time" => &mut self.submitted,
            "JAT_start_time" => &mut self.started,
            "slots" => &mut self.slots,
            "tasks" => &mut self.tasks,
            _ => return None,
        })
    }
}

/// The jobs of `qstat -xml` output that `keep` wants: each `job_list` is read into a
/// `Record` of borrowed text and asked about by owner and name before any `Job` (or a pending
/// range's tasks) is built.
pub fn parse_xml(xml: &str, keep: &Interest) -> Result<Vec<Job>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut cur: Option<Record<'_>> = None;
    // the field of `cur` the text being read belongs to
    let mut in_field = false;
    let mut tag = String::new();
    loop {
        match reader.read_event() {
            Err(e) => return Err(Error::backend("sge", format!("qstat -xml: {e}"))),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                if AsRef::<str>::as_ref(&e.name()) == "job_list" {
                    cur = Some(Record::default());
                } else {
                    tag.clear();
                    tag.push_str(e.name().as_ref());
                    in_field = true;
                }
            }
            Ok(Event::Text(t)) => {
                if let (true, Some(r)) = (in_field, cur.as_mut())
                    && let Some(f) = r.field(&tag)
                {
                    append(f, t.into_inner());
                }
            }
            // `&amp;` and the like come as events of their own (quick-xml 0.38 and later)
            Ok(Event::GeneralRef(e)) => {
                if let (true, Some(r)) = (in_field, cur.as_mut())
                    && let Some(f) = r.field(&tag)
                {
                    let resolved = match e.resolve_char_ref() {
                        Ok(Some(c)) => Some(Cow::Owned(c.to_string())),
                        _ => quick_xml::escape::resolve_predefined_entity(&e).map(Cow::Borrowed),
                    };
                    append(f, resolved.unwrap_or_default());
                }
            }
            Ok(Event::End(e)) => {
                if AsRef::<str>::as_ref(&e.name()) == "job_list"
                    && let Some(r) = cur.take()
                    && keep.wants(&Head {
                        user: r.owner.trim(),
                        name: r.name.trim(),
                        ..Head::default()
                    })
                {
                    jobs_of(&r, &mut out);
                }
                in_field = false;
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Text of a field, borrowed while it is one piece.
fn append<'a>(f: &mut Cow<'a, str>, text: Cow<'a, str>) {
    if f.is_empty() {
        *f = text;
    } else {
        f.to_mut().push_str(&text);
    }
}

fn jobs_of(r: &Record<'_>, out: &mut Vec<Job>) {
    let number = r.number.trim();
    let native = r.state.trim();
    let running = state(native) == JobState::Running;
    let base = Job {
        id: number.to_string(),
        runtime_id: Some(number.to_string()),
        name: r.name.trim().to_string(),
        state: state(native),
        native_state: native.to_string(),
        marker: None,
        user: r.owner.trim().to_string(),
        submitted: time(&r.submitted).or_else(|| time(&r.started)),
        stdout: None,
        workdir: None,
        command: None,
        worker_name: None,
        cores: r.slots.trim().parse::<f64>().ok(),
        started: time(&r.started).filter(|_| running),
    };
    let spec = r.tasks.trim();
    if spec.is_empty() {
        out.push(base);
        return;
    }
    out.extend(tasks(spec).into_iter().map(|t| {
        let mut j = base.clone();
        j.id = format!("{number}.{t}");
        j.runtime_id = Some(j.id.clone());
        j
    }));
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
        let mut jobs = parse_xml(XML, &Interest::Everything).unwrap();
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
        assert!(
            parse_xml("<job_info><job_list>", &Interest::Everything).is_ok()
                || parse_xml("<a></b>", &Interest::Everything).is_err()
        );
    }

    #[test]
    fn only_the_jobs_a_listing_wants_are_built() {
        let queue = "<job_info><queue_info>\
            <job_list state=\"running\"><JB_job_number>5</JB_job_number><JB_name>gmx</JB_name><JB_owner>ann</JB_owner><state>r</state></job_list>\
            <job_list state=\"pending\"><JB_job_number>6</JB_job_number><JB_name>etl-worker</JB_name><JB_owner>ann</JB_owner><state>qw</state><tasks>1-3:1</tasks></job_list>\
            <job_list state=\"pending\"><JB_job_number>7</JB_job_number><JB_name>etl-worker</JB_name><JB_owner>bob</JB_owner><state>qw</state><tasks>1-100000:1</tasks></job_list>\
            <job_list state=\"pending\"><JB_job_number>8</JB_job_number><JB_name>a&amp;b-scheduler</JB_name><JB_owner>ann</JB_owner><state>qw</state></job_list>\
            </queue_info></job_info>";
        let jobs = parse_xml(queue, &Interest::mine("ann")).unwrap();
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, ["6.1", "6.2", "6.3", "8"]);
        assert_eq!(jobs[3].name, "a&b-scheduler");
        assert_eq!(
            parse_xml(queue, &Interest::Everything).unwrap().len(),
            100_005
        );
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
                let _ = parse_xml(&x, &Interest::Everything);
                let _ = parse_xml(&t, &Interest::Everything);
                let details = parse_details(&d);
                let _ = parse_details(&t);
                if let Ok(mut jobs) = parse_xml(XML, &Interest::Everything) {
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
