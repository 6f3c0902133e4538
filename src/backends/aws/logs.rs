//! `logs`: each instance's console output (GetConsoleOutput, base64-decoded), where cloud-init
//! writes what the Dask processes print. `--follow` polls and prints only the new lines.

use super::Aws;
use super::client::map_err;
use crate::backends::{LogRequest, LogSink};
use crate::error::{Error, Result};
use crate::model::{Cluster, Resource, Role};
use aws_sdk_ec2::error::ProvideErrorMetadata;
use std::collections::BTreeMap;
use std::time::Duration;

const FOLLOW_EVERY: Duration = Duration::from_secs(5);

pub async fn logs(aws: &Aws, c: &Cluster, req: &LogRequest, sink: &mut dyn LogSink) -> Result<()> {
    let region = Aws::region_of(c)?;
    let client = aws.client(region).await;
    let chosen = select(c, req)?;
    let mut printed: BTreeMap<String, usize> = BTreeMap::new();
    // `Latest` gives the current console on Nitro instances; others refuse it and have only
    // what was buffered near their last state change (GetConsoleOutput, EC2 API reference)
    let mut latest: BTreeMap<String, bool> = BTreeMap::new();
    let mut said_empty: std::collections::BTreeSet<String> = Default::default();
    loop {
        for (label, r) in &chosen {
            let want_latest = *latest.get(&r.id).unwrap_or(&true);
            let asked = client
                .get_console_output()
                .instance_id(&r.id)
                .set_latest(want_latest.then_some(true))
                .send()
                .await;
            let out = match asked {
                Err(e)
                    if want_latest
                        && matches!(
                            e.code(),
                            Some(
                                "UnsupportedOperation"
                                    | "InvalidParameterValue"
                                    | "InvalidParameter"
                            )
                        ) =>
                {
                    latest.insert(r.id.clone(), false);
                    client
                        .get_console_output()
                        .instance_id(&r.id)
                        .send()
                        .await
                        .map_err(|e| map_err(region, "GetConsoleOutput", e))?
                }
                other => other.map_err(|e| map_err(region, "GetConsoleOutput", e))?,
            };
            let text = match out.output() {
                Some(b64) => aws_smithy_types::base64::decode(b64)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_else(|_| b64.to_string()),
                None => String::new(),
            };
            if text.trim().is_empty() && said_empty.insert(r.id.clone()) {
                tracing::warn!(
                    "aws: no console output from {} yet (EC2 makes it available some minutes after a boot or state change)",
                    r.id
                );
            }
            let lines: Vec<&str> = text.lines().collect();
            let done = printed
                .entry(r.id.clone())
                .or_insert_with(|| match req.tail {
                    Some(n) => lines.len().saturating_sub(n),
                    None => 0,
                });
            // the console keeps only its last 64 KB: start over when it rolled
            if *done > lines.len() {
                *done = 0;
            }
            for l in &lines[*done..] {
                sink.line(label, l);
            }
            *done = lines.len();
        }
        if !req.follow {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

fn select<'a>(c: &'a Cluster, req: &LogRequest) -> Result<Vec<(String, &'a Resource)>> {
    let live = |r: &&Resource| r.state != "terminated";
    let sched = c
        .resources
        .iter()
        .filter(live)
        .filter(|r| r.role == Role::Scheduler)
        .map(|r| ("scheduler".to_string(), r));
    let workers: Vec<&Resource> = c
        .resources
        .iter()
        .filter(live)
        .filter(|r| r.role == Role::Worker)
        .collect();
    if req.scheduler_only {
        return Ok(sched.collect());
    }
    if let Some(w) = &req.worker {
        let found = workers.iter().enumerate().find(|(i, r)| {
            r.id == *w || r.name.as_deref() == Some(w.as_str()) || i.to_string() == *w
        });
        return match found {
            Some((_, r)) => Ok(vec![(r.id.clone(), *r)]),
            None => Err(Error::NotFound(format!(
                "{} has no worker {w:?} (instance id, Name tag or number)",
                c.qualified()
            ))),
        };
    }
    let mut v: Vec<(String, &Resource)> = sched.collect();
    v.extend(workers.into_iter().map(|r| (r.id.clone(), r)));
    Ok(v)
}
