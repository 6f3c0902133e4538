//! `condor_q -json`: a JSON array of job ClassAds, or nothing at all when the queue is empty
//! (HTCondor manual, condor_q `-json`). JobStatus codes: 1 Idle, 2 Running, 3 Removed,
//! 4 Completed, 5 Held, 6 Transferring Output, 7 Suspended.

use crate::backends::jobqueue::{Job, JobState};
use crate::error::{Error, Result};
use serde_json::Value;
use std::time::{Duration, UNIX_EPOCH};

pub fn state(code: u64) -> (JobState, &'static str) {
    match code {
        1 => (JobState::Pending, "Idle"),
        2 => (JobState::Running, "Running"),
        3 => (JobState::Finished, "Removed"),
        4 => (JobState::Finished, "Completed"),
        5 => (JobState::Held, "Held"),
        6 => (JobState::Completing, "TransferringOutput"),
        7 => (JobState::Held, "Suspended"),
        _ => (JobState::Unknown, "Unknown"),
    }
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
                stdout: text(ad, "Err")
                    .filter(|p| p != "/dev/null")
                    .or_else(|| text(ad, "Out")),
                workdir: text(ad, "Iwd"),
                command,
                worker_name: text(ad, "DaskWorkerName"),
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
       "DaskWorkerName": "htcondor--42.0--", "JobId": "42.0"},
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
        assert_eq!(jobs[1].state, JobState::Held);
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
