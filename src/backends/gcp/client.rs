//! The Compute Engine clients (instances, zone operations), one pair per run, on Google's own
//! Rust client (`google-cloud-compute-v1`): its retry policy for transient errors, its paging,
//! the endpoint a private network or a stand-in needs. Every error is mapped here into the
//! project's error kinds, with Compute Engine's reason (`notFound`, `quotaExceeded`, ...) or
//! operation error code (`QUOTA_EXCEEDED`, `ZONE_RESOURCE_POOL_EXHAUSTED`) in the message.
//! Mutations return zone operations, waited on with `zoneOperations.wait` until DONE
//! (<https://cloud.google.com/compute/docs/api/how-tos/api-requests-responses#handling_api_responses>).

use super::settings::Settings;
use crate::error::{ApiFault, Error, Result};
use google_cloud_compute_v1::client::{Instances, ZoneOperations};
use google_cloud_compute_v1::model::Operation;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Clients {
    pub instances: Instances,
    pub operations: ZoneOperations,
}

pub async fn build(s: &Settings) -> Result<Clients> {
    let creds = super::auth::credentials(s)?;
    let fail = |e: google_cloud_gax::client_builder::Error| {
        Error::backend("gcp", format!("the Compute Engine client: {e}"))
    };
    let mut ib = Instances::builder().with_credentials(creds.clone());
    let mut ob = ZoneOperations::builder().with_credentials(creds);
    if let Some(e) = &s.endpoint {
        ib = ib.with_endpoint(e.clone());
        ob = ob.with_endpoint(e.clone());
    }
    Ok(Clients {
        instances: ib.build().await.map_err(fail)?,
        operations: ob.build().await.map_err(fail)?,
    })
}

/// `zones/us-central1-a` or a full URL as `us-central1-a`.
pub fn last_segment(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// Compute Engine's reason in an HTTP error's body (`{"error":{"errors":[{"reason":..}]}}`).
fn reason(e: &google_cloud_gax::error::Error) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(e.http_payload()?).ok()?;
    let first = body.pointer("/error/errors/0/reason")?;
    first.as_str().map(str::to_string)
}

/// Maps a client error of `op` (in `where_`, a project or zone) into the project's kinds.
pub fn map_err(where_: &str, op: &str, e: google_cloud_gax::error::Error) -> Error {
    if e.is_timeout() {
        return Error::Timeout(format!("gcp: {where_}: {op}: no answer in time"));
    }
    let http = e.http_status_code();
    let code = reason(&e);
    let message = match e.status() {
        Some(s) => s.message.clone(),
        None => e.to_string().replace('\n', " "),
    };
    let fault = match http {
        Some(404) => ApiFault::NotFound,
        Some(400) => ApiFault::Invalid,
        _ => ApiFault::Other,
    };
    let said = match (&code, http) {
        (Some(c), _) => format!("{where_}: {op}: {c}: {message}"),
        (None, Some(h)) => format!("{where_}: {op}: HTTP {h}: {message}"),
        (None, None) => format!("{where_}: {op}: {message}"),
    };
    Error::Api {
        backend: "gcp",
        fault,
        code,
        message: said,
        source: Box::new(e),
    }
}

pub fn is_not_found(e: &Error) -> bool {
    matches!(
        e,
        Error::Api {
            fault: ApiFault::NotFound,
            ..
        }
    )
}

/// The failure a finished operation reports, if any: every error code and message it lists
/// (`QUOTA_EXCEEDED: Quota 'CPUS' exceeded. Limit: 24.0 in region us-central1.`).
pub fn operation_error(op: &Operation) -> Option<Error> {
    let errs = &op.error.as_ref()?.errors;
    if errs.is_empty() {
        return None;
    }
    let code = errs[0].code.clone();
    let said: Vec<String> = errs
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e.code.as_deref().unwrap_or("ERROR"),
                e.message.as_deref().unwrap_or("no message")
            )
        })
        .collect();
    let target = op.target_link.as_deref().map(last_segment).unwrap_or("?");
    let fault = match code.as_deref() {
        Some("RESOURCE_NOT_FOUND") => ApiFault::NotFound,
        Some("INVALID_FIELD_VALUE" | "INVALID_USAGE" | "BAD_REQUEST") => ApiFault::Invalid,
        _ => ApiFault::Other,
    };
    Some(Error::Api {
        backend: "gcp",
        fault,
        code,
        message: format!(
            "{target}: {}: {}",
            op.operation_type.as_deref().unwrap_or("operation"),
            said.join("; ")
        ),
        source: "the zone operation failed".into(),
    })
}

/// Waits until the zone operation `op` is DONE (zoneOperations.wait returns after at most two
/// minutes, or when it is done); its own error, if it failed; a timeout at `deadline`.
pub async fn wait(
    c: &Clients,
    project: &str,
    zone: &str,
    mut op: Operation,
    deadline: Instant,
) -> Result<Operation> {
    loop {
        if op.status.as_ref().and_then(|s| s.name()) == Some("DONE") {
            return match operation_error(&op) {
                Some(e) => Err(e),
                None => Ok(op),
            };
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Timeout(format!(
                "gcp: {zone}: operation {} on {} not done in time",
                op.name.as_deref().unwrap_or("?"),
                op.target_link.as_deref().map(last_segment).unwrap_or("?")
            )));
        }
        let name = op.name.clone().unwrap_or_default();
        let waited = c
            .operations
            .wait()
            .set_project(project)
            .set_zone(zone)
            .set_operation(name);
        op = match tokio::time::timeout(left.min(Duration::from_secs(150)), waited.send()).await {
            Ok(r) => r.map_err(|e| map_err(zone, "zoneOperations.wait", e))?,
            Err(_) => continue,
        };
    }
}
