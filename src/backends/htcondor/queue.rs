//! `condor_q -json`: a JSON array of job ClassAds, or nothing at all when the queue is empty
//! (HTCondor manual, condor_q `-json`). JobStatus codes: 1 Idle, 2 Running, 3 Removed,
//! 4 Completed, 5 Held, 6 Transferring Output, 7 Suspended.

use crate::backends::jobqueue::{Job, JobState};
use crate::error::{Error, Result};
use serde_json::Value;
use std::time::{Duration, UNIX_EPOCH};

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

/// `condor_history -json`: the jobs that ended by themselves, as `Finished`.
pub fn parse_history(out: &str) -> Result<Vec<Job>> {
    if out.trim().is_empty() {
        return Ok(Vec::new());
    }
    let ads: Vec<Value> = serde_json::from_str(out)
        .map_err(|e| Error::backend("htcondor", format!("condor_history -json: {e}")))?;
    let jobs = parse_json(out)?;
    Ok(jobs
        .into_iter()
        .zip(ads.iter().filter(|ad| {
            ad.get("ClusterId").and_then(Value::as_u64).is_some()
                && ad.get("ProcId").and_then(Value::as_u64).is_some()
        }))
        .filter_map(|(mut j, ad)| {
            let status = ad.get("JobStatus").and_then(Value::as_u64).unwrap_or(0);
            let why = ad.get("RemoveReason").and_then(Value::as_str);
            let native = ended_by_itself(status, why)?;
            j.state = JobState::Finished;
            j.native_state = native.to_string();
            Some(j)
        })
        .collect())
}

pub fn parse_json(out: &str) -> Result<Vec<Job>> {
    if out.trim().is_empty() {
        return Ok(Vec::new());
    }
    let ads: Vec<Value> = serde_json::from_str(out)
        .map_err(|e| Error::backend("htcondor", format!("condor_q -json: {e}")))?;
    let text = |ad: &Value, k: &str| ad.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(ads
        .iter()
        .filter_map(|ad| {
            let cluster = ad.get("ClusterId")?.as_u64()?;
            let proc = ad.get("ProcId")?.as_u64()?;
            let id = format!("{cluster}.{proc}");
            let (st, native) = state(ad.get("JobStatus").and_then(Value::as_u64).unwrap_or(0));
            let command = match (
                text(ad, "Cmd"),
                text(ad, "Arguments").or_else(|| text(ad, "Args")),
            ) {
                (Some(c), Some(a)) => Some(format!("{c} {a}")),
                (c, a) => c.or(a),
            };
            Some(Job {
                id: id.clone(),
                runtime_id: Some(id),
                name: text(ad, "JobBatchName").unwrap_or_default(),
                state: st,
                native_state: native.to_string(),
                marker: text(ad, "DaskctlMarker"),
                user: text(ad, "Owner").unwrap_or_default(),
                submitted: ad
                    .get("QDate")
                    .and_then(Value::as_u64)
                    .map(|t| UNIX_EPOCH + Duration::from_secs(t)),
                // Out and Err are shown as submitted: relative ones are relative to Iwd
                stdout: text(ad, "Err")
                    .filter(|p| p != "/dev/null")
                    .or_else(|| text(ad, "Out"))
                    .map(|p| match text(ad, "Iwd") {
                        Some(iwd) if !p.starts_with('/') => format!("{iwd}/{p}"),
                        _ => p,
                    }),
                workdir: text(ad, "Iwd"),
                command,
                worker_name: text(ad, "DaskWorkerName"),
                cores: ad.get("RequestCpus").and_then(Value::as_f64),
                // set by the schedd when the job's shadow starts (condor_schedd.V6/qmgmt)
                started: ad
                    .get("JobCurrentStartDate")
                    .and_then(Value::as_u64)
                    .filter(|_| st == JobState::Running)
                    .map(|t| UNIX_EPOCH + Duration::from_secs(t)),
            })
        })
        .collect())
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
        let jobs = parse_json(ADS).unwrap();
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
            Some(UNIX_EPOCH + Duration::from_secs(1_795_308_400))
        );
        assert_eq!(jobs[1].state, JobState::Held);
        assert_eq!(jobs[1].started, None);
        assert_eq!(
            jobs[1].marker.as_deref(),
            Some("daskctl:v1;cluster=etl;role=worker;dir=/d")
        );
        assert_eq!(parse_json("").unwrap().len(), 0);
        assert!(parse_json("[{").is_err());
    }

    mod props {
        use super::super::*;
        use super::ADS;
        use crate::arb;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn ads_never_panic(a in arb::mutated(ADS), doc in arb::json(), code in any::<u64>()) {
                let _ = parse_json(&a);
                let _ = parse_json(&doc.to_string());
                let _ = state(code);
            }
        }
    }
}
