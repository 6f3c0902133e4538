//! Reading Moab's queue: `showq --xml`. What Moab prints is what its source writes
//! (MUIQueueShow.c, MJobXML.c `MJobBaseToXML`):
//!
//! ```text
//! <Data><Object>queue</Object><cluster time=".." LocalUpProcs=".." .../>
//!   <queue option="active" count="1"><job JobID="Moab.12" JobName="etl-worker" DRMJID="12.srv"
//!     State="Running" User="ann" Group="ann" Class="batch" StartTime="1764000000"
//!     SubmissionTime="1763999990" ReqAWDuration="3600" ReqProcs="2" MasterHost="n1"
//!     AWDuration="10" .../></queue>
//!   <queue option="eligible" count="..">..</queue><queue option="blocked" count="..">..</queue>
//! </Data>
//! ```
//!
//! Every attribute of a job is on its `<job>` element; times are epoch seconds (0: not yet);
//! `JobName` is absent for a job without one. A job's state word comes from `MJobState`
//! (Idle, Starting, Running, Suspended, Hold, UserHold, SystemHold, BatchHold, Deferred, Blocked,
//! NotQueued, Staged, Canceling, Ending, Completed, Removed, Vacated, ...).

use crate::backends::jobqueue::interest::Head;
use crate::backends::jobqueue::{Interest, Job, JobState};
use crate::error::{Error, Result};
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use std::borrow::Cow;

/// Moab's job states (MJobState) as the shared layer counts them.
pub fn state(s: &str) -> JobState {
    match s {
        "Idle" | "Staged" | "Blocked" | "NotQueued" | "Migrated" => JobState::Pending,
        "Hold" | "UserHold" | "SystemHold" | "BatchHold" | "Deferred" => JobState::Held,
        "Starting" | "Running" | "Suspended" => JobState::Running,
        "Canceling" | "Ending" => JobState::Completing,
        "Completed" => JobState::Finished,
        "Removed" | "Vacated" | "SubmitErr" => JobState::Failed,
        _ => JobState::Unknown,
    }
}

/// The attributes of one `<job>` read here, as printed.
#[derive(Default)]
struct Record<'a> {
    id: Cow<'a, str>,
    name: Cow<'a, str>,
    state: Cow<'a, str>,
    user: Cow<'a, str>,
    submitted: Cow<'a, str>,
    started: Cow<'a, str>,
    procs: Cow<'a, str>,
}

fn record<'e>(e: &'e BytesStart<'_>) -> Result<Record<'e>> {
    let mut r = Record::default();
    for a in e.attributes() {
        let a = a.map_err(|e| Error::backend("moab", format!("showq --xml: {e}")))?;
        let slot = match AsRef::<str>::as_ref(&a.key) {
            "JobID" => &mut r.id,
            "JobName" => &mut r.name,
            "State" => &mut r.state,
            "User" => &mut r.user,
            "SubmissionTime" => &mut r.submitted,
            "StartTime" => &mut r.started,
            "ReqProcs" => &mut r.procs,
            _ => continue,
        };
        *slot = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| Error::backend("moab", format!("showq --xml: {e}")))?;
    }
    Ok(r)
}

/// Epoch seconds, 0 meaning "not yet".
fn time(s: &str) -> Option<std::time::SystemTime> {
    crate::units::epoch_secs(s.trim().parse().ok()?)
}

impl Record<'_> {
    fn job(&self) -> Job {
        let st = state(&self.state);
        Job {
            id: self.id.to_string(),
            // MOAB_JOBID in the job's environment: the same id
            runtime_id: Some(self.id.to_string()),
            name: self.name.to_string(),
            state: st,
            native_state: self.state.to_string(),
            // showq shows no job variables: daskctl's jobs are known by their names
            marker: None,
            user: self.user.to_string(),
            submitted: time(&self.submitted),
            stdout: None,
            workdir: None,
            command: None,
            worker_name: None,
            cores: self.procs.trim().parse::<f64>().ok(),
            started: time(&self.started).filter(|_| st == JobState::Running),
        }
    }
}

/// The jobs of `showq --xml` output that `keep` wants, in the order printed.
pub fn parse(xml: &str, keep: &Interest) -> Result<Vec<Job>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut jobs = Vec::new();
    let mut seen_data = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => match AsRef::<str>::as_ref(&e.name()) {
                "Data" => seen_data = true,
                "job" => {
                    let r = record(&e)?;
                    if r.id.is_empty() {
                        continue;
                    }
                    let head = Head {
                        user: &r.user,
                        name: &r.name,
                        ..Head::default()
                    };
                    if keep.wants(&head) {
                        jobs.push(r.job());
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(Error::backend("moab", format!("showq --xml: {e}"))),
        }
    }
    if !seen_data {
        // an error message instead of the document ("ERROR:  cannot connect to Moab server")
        let said = xml.trim();
        return Err(Error::backend(
            "moab",
            format!(
                "showq --xml printed no queue{}",
                if said.is_empty() {
                    String::new()
                } else {
                    format!(": {}", said.lines().next().unwrap_or_default())
                }
            ),
        ));
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::Scope;
    use crate::backends::jobqueue::interest::DaskJobs;

    /// As Moab prints it (attribute order of MJobBaseToXML): a running daskctl worker, an
    /// eligible dask-jobqueue worker, a held job, someone else's unrelated job, and a name with
    /// an entity.
    const XML: &str = r#"<Data><Object>queue</Object><cluster LocalActiveNodes="1" LocalAllocProcs="3" LocalConfigNodes="4" LocalIdleNodes="3" LocalIdleProcs="13" LocalUpNodes="4" LocalUpProcs="16" RemoteActiveNodes="0" RemoteAllocProcs="0" RemoteConfigNodes="0" RemoteIdleNodes="0" RemoteIdleProcs="0" RemoteUpNodes="0" RemoteUpProcs="0" time="1765030000"></cluster><queue count="2" option="active"><job AWDuration="12" Class="batch" DRMJID="12.srv" Group="ann" JobID="Moab.12" JobName="etl-worker" MasterHost="n1" PAL="base" ReqAWDuration="3600" ReqProcs="2" RsvStartTime="1765029988" RunPriority="1" StartPriority="1" StartTime="1765029988" StatPSDed="24" StatPSUtl="1.2" State="Running" SubmissionTime="1765029980" SuspendDuration="0" User="ann"></job><job AWDuration="3" Class="batch" JobID="Moab.13" JobName="etl&amp;co-scheduler" ReqAWDuration="3600" ReqProcs="1" StartTime="1765029990" State="Starting" SubmissionTime="1765029985" SuspendDuration="0" User="ann"></job></queue><queue count="1" option="eligible"><job Class="batch" JobID="Moab.14" JobName="dask-worker" ReqAWDuration="1800" ReqProcs="4" StartTime="0" State="Idle" SubmissionTime="1765029999" SuspendDuration="0" User="ann"></job></queue><queue count="2" option="blocked"><job Class="batch" HoldReason="User" JobID="Moab.15" JobName="etl-worker" ReqProcs="2" StartTime="0" State="UserHold" SubmissionTime="1765029999" SuspendDuration="0" User="ann"></job><job Class="batch" JobID="Moab.16" JobName="lammps" ReqProcs="64" StartTime="0" State="Idle" SubmissionTime="1765020000" SuspendDuration="0" User="bob"></job></queue></Data>"#;

    fn dask(me: &str, scope: Scope) -> Interest {
        Interest::Dask(DaskJobs {
            me: me.into(),
            scope,
            jobqueue_names: vec!["dask-worker".into()],
            named: None,
            mpi: false,
        })
    }

    #[test]
    fn jobs_of_every_queue_section_with_states_and_times() {
        let jobs = parse(XML, &Interest::Everything).unwrap();
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, ["Moab.12", "Moab.13", "Moab.14", "Moab.15", "Moab.16"]);
        let states: Vec<JobState> = jobs.iter().map(|j| j.state).collect();
        assert_eq!(
            states,
            [
                JobState::Running,
                JobState::Running,
                JobState::Pending,
                JobState::Held,
                JobState::Pending
            ]
        );
        assert_eq!(jobs[1].name, "etl&co-scheduler");
        assert_eq!(jobs[0].cores, Some(2.0));
        assert_eq!(jobs[0].runtime_id.as_deref(), Some("Moab.12"));
        let secs = |t: Option<std::time::SystemTime>| {
            t.map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
        };
        assert_eq!(secs(jobs[0].submitted), Some(1_765_029_980));
        assert_eq!(secs(jobs[0].started), Some(1_765_029_988));
        // StartTime 0: not started
        assert_eq!(jobs[2].started, None);
    }

    #[test]
    fn only_what_the_listing_wants() {
        let mine: Vec<String> = parse(XML, &dask("ann", Scope::Mine))
            .unwrap()
            .into_iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(mine, ["Moab.12", "Moab.13", "Moab.14", "Moab.15"]);
        let everyone = parse(XML, &dask("root", Scope::Everyone)).unwrap();
        assert!(everyone.iter().all(|j| j.name != "lammps"));
    }

    #[test]
    fn an_error_instead_of_a_queue_is_an_error() {
        let e = parse(
            "ERROR:    cannot connect to Moab server 'head':42559\n",
            &Interest::Everything,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("cannot connect to Moab server"), "{e}");
        assert!(parse("<Data><job JobID=\"1\"", &Interest::Everything).is_err());
        assert!(
            parse("<Data><Object>queue</Object></Data>", &Interest::Everything)
                .unwrap()
                .is_empty()
        );
    }

    mod props {
        use super::super::*;
        use super::XML;
        use crate::arb;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn documents_never_panic(a in arb::mutated(XML), line in ".*") {
                let _ = parse(&a, &Interest::Everything);
                let _ = parse(&line, &Interest::Everything);
                let _ = time(&line);
                let _ = state(&line);
            }
        }
    }
}
