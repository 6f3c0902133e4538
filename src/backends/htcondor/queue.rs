//! `condor_q -json`: a JSON array of job ClassAds, or nothing at all when the queue is empty
//! (HTCondor manual, condor_q `-json`). JobStatus codes: 1 Idle, 2 Running, 3 Removed,
//! 4 Completed, 5 Held, 6 Transferring Output, 7 Suspended.

use crate::backends::jobqueue::interest::Head;
use crate::backends::jobqueue::lenient::{self, Float, Num, Str};
use crate::backends::jobqueue::{Interest, Job, JobState};
use crate::error::{Error, Result};

/// A job's state as `condor_q` shows it. Removed (3) in the queue is a job marked for removal
/// whose processes are still being killed (condor_rm returns before that): still there.
/// Suspended (7) keeps its slot: it holds the allocation like a running job.
pub fn state(code: u64) -> (JobState, &'static str) {
    match code {
        1 => (JobState::Pending, "Idle"),
        2 => (JobState::Running, "Running"),
        3 => (JobState::Completing, "Removed"),
        4 => (JobState::Finished, "Completed"),
        5 => (JobState::Held, "Held"),
        6 => (JobState::Completing, "TransferringOutput"),
        7 => (JobState::Running, "Suspended"),
        _ => (JobState::Unknown, "Unknown"),
    }
}

/// How a job in `condor_history` ended, if by itself: Completed (4), or removed by its own
/// `periodic_remove` (a walltime), whose RemoveReason is "The job attribute PeriodicRemove
/// expression '...' evaluated to TRUE" (htcondor src/condor_unit_tests/OTEST_UserPolicy.cpp);
/// `None` for jobs someone removed with condor_rm ("via condor_rm", condor_rm.V6/rm.cpp).
pub fn ended_by_itself(ad_status: u64, remove_reason: Option<&str>) -> Option<&'static str> {
    match (ad_status, remove_reason) {
        (4, _) => Some("Completed"),
        (3, Some(r)) if r.starts_with("The job attribute PeriodicRemove") => {
            Some("RemovedByWalltime")
        }
        _ => None,
    }
}

/// The job ClassAd attributes daskctl reads: `condor_q -attributes` asks for these only (the
/// HTCondor manual, condor_q: "Limiting the number of attributes increases the efficiency of
/// the query"), so a pool's 100,000 ads of ~100 attributes each come as a few hundred bytes a
/// job.
pub const ATTRIBUTES: &str = "ClusterId,ProcId,JobStatus,Owner,QDate,Cmd,Arguments,Args,Out,Err,\
Iwd,JobBatchName,DaskctlMarker,DaskWorkerName,RequestCpus,JobCurrentStartDate,RemoveReason";

/// One job ad, with what is read of it (see `ATTRIBUTES`); strings borrowed from the output.
#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct Ad<'a> {
    cluster_id: Num,
    proc_id: Num,
    job_status: Num,
    #[serde(borrow)]
    owner: Str<'a>,
    #[serde(rename = "QDate")]
    q_date: Num,
    #[serde(borrow)]
    cmd: Str<'a>,
    #[serde(borrow)]
    arguments: Str<'a>,
    #[serde(borrow)]
    args: Str<'a>,
    #[serde(borrow)]
    out: Str<'a>,
    #[serde(borrow)]
    err: Str<'a>,
    #[serde(borrow)]
    iwd: Str<'a>,
    #[serde(borrow)]
    job_batch_name: Str<'a>,
    #[serde(borrow)]
    daskctl_marker: Str<'a>,
    #[serde(borrow)]
    dask_worker_name: Str<'a>,
    request_cpus: Float,
    job_current_start_date: Num,
    #[serde(borrow)]
    remove_reason: Str<'a>,
}

/// Each job ad of `condor_q`/`condor_history -json` output, as it is read; an empty output is
/// an empty queue (condor_q prints nothing at all then).
fn each_ad<'a>(out: &'a str, what: &str, each: impl FnMut(Ad<'a>)) -> Result<()> {
    if out.trim().is_empty() {
        return Ok(());
    }
    lenient::each_of(out, each)
        .map_err(|e| Error::backend("htcondor", format!("{what} -json: {e}")))
}

/// `condor_history -json`: the jobs that ended by themselves, as `Finished`.
pub fn parse_history(out: &str) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    each_ad(out, "condor_history", |ad| {
        let status = ad.job_status.0.unwrap_or(0);
        if let Some(native) = ended_by_itself(status, ad.remove_reason.some())
            && let Some(mut j) = job(&ad)
        {
            j.state = JobState::Finished;
            j.native_state = native.to_string();
            jobs.push(j);
        }
    })?;
    Ok(jobs)
}

/// The jobs of `condor_q -json` output that `keep` wants.
pub fn parse_json(out: &str, keep: &Interest) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    each_ad(out, "condor_q", |ad| {
        let wanted = keep.wants(&Head {
            user: ad.owner.get(),
            name: ad.job_batch_name.get(),
            marker: ad.daskctl_marker.some(),
            command: Some(ad.cmd.get())
                .into_iter()
                .chain(ad.arguments.some().or(ad.args.some()))
                .find(|c| c.contains("htcdask-worker")),
            has_worker_name: ad.dask_worker_name.some().is_some(),
        });
        if wanted {
            jobs.extend(job(&ad));
        }
    })?;
    Ok(jobs)
}

fn job(ad: &Ad<'_>) -> Option<Job> {
    let id = format!("{}.{}", ad.cluster_id.0?, ad.proc_id.0?);
    let (st, native) = state(ad.job_status.0.unwrap_or(0));
    let owned = |s: &Str<'_>| s.some().map(str::to_string);
    let command = match (ad.cmd.some(), ad.arguments.some().or(ad.args.some())) {
        (Some(c), Some(a)) => Some(format!("{c} {a}")),
        (c, a) => c.or(a).map(str::to_string),
    };
    // an absurd time from the queue is no time (never a panic)
    let at = |n: Num| n.0.and_then(|t| crate::units::epoch_secs(t as f64));
    Some(Job {
        id: id.clone(),
        runtime_id: Some(id),
        name: ad.job_batch_name.get().to_string(),
        state: st,
        native_state: native.to_string(),
        marker: owned(&ad.daskctl_marker),
        user: ad.owner.get().to_string(),
        submitted: at(ad.q_date),
        // Out and Err are shown as submitted: relative ones are relative to Iwd
        stdout: ad
            .err
            .some()
            .filter(|p| *p != "/dev/null")
            .or(ad.out.some())
            .map(|p| match ad.iwd.some() {
                Some(iwd) if !p.starts_with('/') => format!("{iwd}/{p}"),
                _ => p.to_string(),
            }),
        workdir: owned(&ad.iwd),
        command,
        worker_name: owned(&ad.dask_worker_name),
        cores: ad.request_cpus.0,
        // set by the schedd when the job's shadow starts (condor_schedd.V6/qmgmt)
        started: at(ad.job_current_start_date).filter(|_| st == JobState::Running),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job ad as `condor_q -json` prints it (attribute names from the HTCondor manual's job
    /// ClassAd attributes), for a dask-jobqueue HTCondorCluster worker.
    const ADS: &str = r#"[
      {"MyType": "Job", "ClusterId": 42, "ProcId": 0, "JobStatus": 2, "Owner": "ann", "QDate": 1795308396,
       "Cmd": "/bin/sh", "Arguments": "-c '/opt/py/bin/python -m distributed.cli.dask_worker tcp://10.0.0.5:35421 --name dummy-name --nthreads 1'",
       "Out": "worker.out", "Err": "worker.err", "Iwd": "/home/ann", "JobBatchName": "HTCondorCluster-0",
       "DaskWorkerName": "htcondor--42.0--", "JobId": "42.0",
       "RequestCpus": 2, "JobCurrentStartDate": 1795308400},
      {"MyType": "Job", "ClusterId": 43, "ProcId": 1, "JobStatus": 5, "Owner": "ann", "QDate": 1795308400,
       "Cmd": "/d/worker.sh", "Arguments": "", "Out": "/d/logs/worker-43.1.log", "Err": "/d/logs/worker-43.1.log",
       "JobBatchName": "etl-worker", "DaskctlMarker": "daskctl:v1;cluster=etl;role=worker;dir=/d"}
    ]"#;

    #[test]
    fn ads() {
        let jobs = parse_json(ADS, &Interest::Everything).unwrap();
        assert_eq!(jobs[0].id, "42.0");
        assert_eq!(jobs[0].state, JobState::Running);
        assert_eq!(jobs[0].worker_name.as_deref(), Some("htcondor--42.0--"));
        assert!(
            jobs[0]
                .command
                .as_deref()
                .unwrap()
                .contains("tcp://10.0.0.5:35421")
        );
        assert_eq!(jobs[0].cores, Some(2.0));
        assert_eq!(
            jobs[0].started,
            Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_308_400))
        );
        assert_eq!(jobs[1].state, JobState::Held);
        assert_eq!(jobs[1].started, None);
        assert_eq!(
            jobs[1].marker.as_deref(),
            Some("daskctl:v1;cluster=etl;role=worker;dir=/d")
        );
        assert_eq!(parse_json("", &Interest::Everything).unwrap().len(), 0);
        assert!(parse_json("[{", &Interest::Everything).is_err());
    }

    #[test]
    fn only_the_jobs_a_listing_wants_are_built_and_expressions_read_as_absent() {
        let keep = Interest::mine("ann");
        let queue = r#"[
          {"ClusterId": 7, "ProcId": 0, "JobStatus": 1, "Owner": "ann", "JobBatchName": "vasp",
           "Cmd": "/bin/vasp", "RequestCpus": "/Expr(ifThenElse(x, 1, 2))/"},
          {"ClusterId": 8, "ProcId": 0, "JobStatus": 1, "Owner": "bob", "JobBatchName": "etl-worker"},
          {"ClusterId": 9, "ProcId": 3, "JobStatus": 1, "Owner": "ann", "Cmd": "/bin/sh",
           "Arguments": "-c 'htcdask-worker --x'", "RequestCpus": "/Expr(ifThenElse(x, 1, 2))/"}
        ]"#;
        let jobs = parse_json(queue, &keep).unwrap();
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        assert_eq!((jobs[0].id.as_str(), jobs[0].cores), ("9.3", None));
        assert_eq!(parse_json(queue, &Interest::Everything).unwrap().len(), 3);
    }

    mod props {
        use super::super::*;
        use super::ADS;
        use crate::arb;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn ads_never_panic(a in arb::mutated(ADS), doc in arb::json(), code in any::<u64>()) {
                let _ = parse_json(&a, &Interest::Everything);
                let _ = parse_json(&doc.to_string(), &Interest::Everything);
                let _ = state(code);
            }
        }
    }
}
