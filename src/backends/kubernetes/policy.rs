//! A native cluster's policy (one daskctl made of Deployments, no operator: the operator has
//! its own autoscaler, `adapt.rs`). The JSON is the `daskctl.dev/policy` annotation of its
//! scheduler Deployment, which discovery already reads, written with a JSON merge patch.
//!
//! The reconcile lock is a coordination.k8s.io/v1 Lease `daskctl-reconcile-NAME` in the
//! cluster's namespace, taken the way client-go's leader election takes one
//! (k8s.io/client-go/tools/leaderelection/leaderelection.go `tryAcquireOrRenew`): create it; if
//! it exists, someone else holds it until this daskctl has itself seen the same record
//! (the same `resourceVersion`) stay unrenewed for `leaseDurationSeconds` by its own clock:
//! as client-go judges expiry from its own observation time (`observedTime`), never from the
//! holder-written `renewTime` against a local clock that may differ. A reconcile pass is one
//! short process, so the observation (resourceVersion, first seen) is kept in the cache between
//! passes. Then it replaces it carrying the `resourceVersion` read, so that of two callers
//! taking over the same expired Lease, the API server lets one win (409 Conflict for the
//! other). Releasing deletes it under the `resourceVersion` this holder wrote (a precondition):
//! a holder that overran never deletes its successor's Lease.

use super::Kubernetes;
use super::client::{map_err, status};
use super::discover::{Kind, KubeHandle};
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::policy::{Policy, PolicyLock, PolicyStore};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;

use super::objects::POLICY as ANNOTATION;
/// Seconds a lock is honoured without being released (a reconcile pass takes seconds).
const LEASE_SECONDS: i32 = 600;

fn parse(json: &str) -> Result<Policy> {
    serde_json::from_str(json).map_err(|e| {
        Error::backend(
            "kubernetes",
            format!(
                "the scheduler Deployment's {ANNOTATION} annotation is not a daskctl policy: {e}"
            ),
        )
    })
}

/// The policy discovery read from the annotation, for a native cluster.
pub fn stored(c: &Cluster) -> Option<Result<Policy>> {
    let h = c.handle.get::<KubeHandle>()?;
    if h.kind != Kind::Native {
        return None;
    }
    h.scheduler_deployment.as_ref()?;
    Some(h.policy.as_deref().map_or(Ok(Policy::default()), parse))
}

pub fn store<'a>(k: &'a Kubernetes, c: &Cluster) -> Option<KubeStore<'a>> {
    let h = c.handle.get::<KubeHandle>()?;
    if h.kind != Kind::Native {
        return None;
    }
    Some(KubeStore {
        k,
        namespace: h.namespace.clone(),
        deployment: h.scheduler_deployment.clone()?,
        lease: format!("daskctl-reconcile-{}", c.name),
    })
}

pub struct KubeStore<'a> {
    k: &'a Kubernetes,
    namespace: String,
    deployment: String,
    lease: String,
}

/// Who holds a lock: this host and process.
fn holder() -> String {
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown-host".into());
    format!("daskctl@{host}/{}", std::process::id())
}

fn lease(name: &str, resource_version: Option<String>) -> Lease {
    let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
    Lease {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_string()),
            resource_version,
            labels: Some(
                [(
                    super::objects::MANAGED_BY.to_string(),
                    "daskctl".to_string(),
                )]
                .into(),
            ),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder()),
            lease_duration_seconds: Some(LEASE_SECONDS),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            ..Default::default()
        }),
    }
}

/// What this daskctl last saw of a Lease: its record (`resourceVersion`) and when, by its
/// own clock, it first saw that record.
#[derive(serde::Serialize, serde::Deserialize)]
struct Observed {
    resource_version: String,
    first_seen: u64,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Whether the Lease's holder let it run out: this daskctl has seen its current record stay
/// the same for `leaseDurationSeconds` by its own clock (client-go's `observedTime` rule),
/// the observation kept at `seen` between passes.
fn expired(l: &Lease, seen: &std::path::Path) -> bool {
    let rv = l.metadata.resource_version.clone().unwrap_or_default();
    let secs = l
        .spec
        .as_ref()
        .and_then(|s| s.lease_duration_seconds)
        .unwrap_or(LEASE_SECONDS)
        .max(0) as u64;
    let before: Option<Observed> = crate::safefile::read_to_string(
        seen,
        Some(nix::unistd::geteuid().as_raw()),
        crate::safefile::SMALL,
    )
    .ok()
    .and_then(|t| serde_json::from_str(&t).ok());
    match before {
        Some(o) if o.resource_version == rv => now_secs().saturating_sub(o.first_seen) >= secs,
        // a record not seen before: from now on it is watched
        _ => {
            let o = Observed {
                resource_version: rv,
                first_seen: now_secs(),
            };
            if let Some(dir) = seen.parent() {
                let _ = crate::safefile::create_private_dir(dir);
            }
            let _ = crate::safefile::write_atomic(
                seen,
                serde_json::to_string(&o).expect("serialises").as_bytes(),
            );
            false
        }
    }
}

#[async_trait::async_trait]
impl PolicyStore for KubeStore<'_> {
    async fn read(&self) -> Result<Policy> {
        let api: Api<DynamicObject> = Api::namespaced_with(
            self.k.client().await?,
            &self.namespace,
            &super::objects::deployments(),
        );
        let d = api
            .get(&self.deployment)
            .await
            .map_err(|e| map_err(&format!("reading Deployment {}", self.deployment), e))?;
        let text = d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION));
        text.map_or(Ok(Policy::default()), |t| parse(t))
    }

    async fn write(&self, p: &Policy) -> Result<()> {
        let api: Api<DynamicObject> = Api::namespaced_with(
            self.k.client().await?,
            &self.namespace,
            &super::objects::deployments(),
        );
        // merge patch: null removes the annotation
        let value = (*p != Policy::default())
            .then(|| serde_json::to_string(p).expect("a policy serialises"));
        let patch = json!({"metadata": {"annotations": {ANNOTATION: value}}});
        api.patch(
            &self.deployment,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .map_err(|e| map_err(&format!("annotating Deployment {}", self.deployment), e))?;
        Ok(())
    }

    async fn try_lock(&self) -> Result<Option<Box<dyn PolicyLock>>> {
        let api: Api<Lease> = Api::namespaced(self.k.client().await?, &self.namespace);
        let what = |op: &str| format!("{op} Lease {}", self.lease);
        match api
            .create(&PostParams::default(), &lease(&self.lease, None))
            .await
        {
            Ok(made) => return Ok(Some(self.held(api, made))),
            Err(e) if status(&e) == Some(409) => {}
            Err(e) => return Err(map_err(&what("creating"), e)),
        }
        let current = match api.get(&self.lease).await {
            Ok(l) => l,
            // released between the two calls: the next pass takes it
            Err(e) if status(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(map_err(&what("reading"), e)),
        };
        let seen = self
            .k
            .ctx
            .config
            .cache_root()
            .join("kubernetes-leases")
            .join(format!("{}.{}.json", self.namespace, self.lease));
        if !expired(&current, &seen) {
            return Ok(None);
        }
        tracing::info!("kubernetes: {}: taking over an expired Lease", self.lease);
        let taken = lease(&self.lease, current.metadata.resource_version.clone());
        match api
            .replace(&self.lease, &PostParams::default(), &taken)
            .await
        {
            Ok(made) => Ok(Some(self.held(api, made))),
            // another caller took it over first
            Err(e) if matches!(status(&e), Some(409 | 404)) => Ok(None),
            Err(e) => Err(map_err(&what("taking over"), e)),
        }
    }
}

impl KubeStore<'_> {
    fn held(&self, api: Api<Lease>, made: Lease) -> Box<dyn PolicyLock> {
        Box::new(KubeLock {
            api,
            name: self.lease.clone(),
            resource_version: made.metadata.resource_version,
        })
    }
}

struct KubeLock {
    api: Api<Lease>,
    name: String,
    /// The record this holder wrote: only that one is deleted.
    resource_version: Option<String>,
}

#[async_trait::async_trait]
impl PolicyLock for KubeLock {
    async fn release(self: Box<Self>) {
        let dp = DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                uid: None,
                resource_version: self.resource_version.clone(),
            }),
            ..DeleteParams::default()
        };
        match self.api.delete(&self.name, &dp).await {
            Ok(_) => {}
            Err(e) if status(&e) == Some(404) => {}
            // another holder took it over (this pass overran it): theirs now, left alone
            Err(e) if status(&e) == Some(409) => tracing::info!(
                "kubernetes: Lease {} was taken over meanwhile: left to its holder",
                self.name
            ),
            // it expires: the next reconcile takes it over
            Err(e) => tracing::warn!("kubernetes: Lease {} not deleted: {e}", self.name),
        }
    }
}
