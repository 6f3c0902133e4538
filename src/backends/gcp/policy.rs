//! A Compute Engine cluster's policy (`daskctl adapt`, `create --ttl/--idle-timeout`), kept
//! where discovery already reads the cluster: the `daskctl-policy` metadata item of its
//! scheduler instance.
//!
//! The reconcile lock is the `daskctl-lock` item of the same metadata. `instances.setMetadata`
//! takes the fingerprint of the metadata it replaces and refuses (412 `conditionNotMet`) when
//! another caller changed it since
//! (<https://cloud.google.com/compute/docs/metadata/setting-custom-metadata#set-custom-metadata>):
//! of two daskctl on two machines that both saw no lock, only one sets it. The item says who
//! holds it and until when; a lock past that time (a daskctl that died mid-pass) is taken over
//! by the next caller, the same way.

use super::client::{self, map_err};
use super::discover::GcpHandle;
use super::labels::{META_LOCK, META_POLICY};
use super::{Gcp, launch};
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::policy::{Policy, PolicyLock, PolicyStore};
use google_cloud_compute_v1::model::{Metadata, metadata};
use std::time::{Duration, Instant, SystemTime};

/// How long a lock is honoured without being released (a reconcile pass takes seconds).
const LOCK_TTL: Duration = Duration::from_secs(600);
/// Read-modify-write rounds a policy write makes while others change the metadata.
const ROUNDS: usize = 8;

fn parse(json: &str) -> Result<Policy> {
    serde_json::from_str(json).map_err(|e| {
        Error::backend(
            "gcp",
            format!("the scheduler's {META_POLICY} metadata is not a daskctl policy: {e}"),
        )
    })
}

/// The policy discovery read from the scheduler's metadata.
pub fn stored(c: &Cluster) -> Option<Result<Policy>> {
    let s = c.handle.get::<GcpHandle>()?.scheduler()?;
    Some(
        s.metadata
            .get(META_POLICY)
            .map_or(Ok(Policy::default()), |j| parse(j)),
    )
}

/// The store of a daskctl cluster whose scheduler instance is alive.
pub fn store<'a>(g: &'a Gcp, c: &Cluster) -> Option<MetadataStore<'a>> {
    let h = c.handle.get::<GcpHandle>()?;
    let s = h.scheduler().filter(|s| s.alive())?;
    Some(MetadataStore {
        g,
        project: h.project.clone(),
        zone: h.zone.clone(),
        instance: s.name.clone(),
    })
}

pub struct MetadataStore<'a> {
    g: &'a Gcp,
    project: String,
    zone: String,
    instance: String,
}

fn conflict(e: &Error) -> bool {
    matches!(e, Error::Api { code: Some(c), .. } if c == "conditionNotMet")
}

impl MetadataStore<'_> {
    /// The scheduler's metadata now, with its fingerprint.
    async fn current(&self) -> Result<Metadata> {
        let c = self.g.clients().await?;
        let i = launch::get(&c, &self.project, &self.zone, &self.instance)
            .await?
            .ok_or_else(|| {
                Error::NotFound(format!("{}/{}: no longer there", self.zone, self.instance))
            })?;
        Ok(i.metadata.unwrap_or_default())
    }

    fn item(m: &Metadata, key: &str) -> Option<String> {
        m.items
            .iter()
            .find(|i| i.key.as_deref() == Some(key))
            .map(|i| i.value.clone().unwrap_or_default())
    }

    /// Replaces the metadata `m` was read as, with `key` set (or removed): a 412 if it changed.
    async fn swap(&self, mut m: Metadata, key: &str, value: Option<String>) -> Result<()> {
        m.items.retain(|i| i.key.as_deref() != Some(key));
        if let Some(v) = value {
            let mut it = metadata::Items::default();
            it.key = Some(key.to_string());
            it.value = Some(v);
            m.items.push(it);
        }
        let c = self.g.clients().await?;
        let op = c
            .instances
            .set_metadata()
            .set_project(&self.project)
            .set_zone(&self.zone)
            .set_instance(&self.instance)
            .set_request_id(launch::request_id())
            .set_body(m)
            .send()
            .await
            .map_err(|e| {
                map_err(
                    &self.zone,
                    &format!("instances.setMetadata {}", self.instance),
                    e,
                )
            })?;
        let deadline = Instant::now() + Duration::from_secs(120);
        client::wait(&c, &self.project, &self.zone, op, deadline)
            .await
            .map(drop)
    }
}

#[async_trait::async_trait]
impl PolicyStore for MetadataStore<'_> {
    async fn read(&self) -> Result<Policy> {
        Self::item(&self.current().await?, META_POLICY).map_or(Ok(Policy::default()), |j| parse(&j))
    }

    async fn write(&self, p: &Policy) -> Result<()> {
        let value = (*p != Policy::default())
            .then(|| serde_json::to_string(p).expect("a policy serialises"));
        for _ in 0..ROUNDS {
            match self
                .swap(self.current().await?, META_POLICY, value.clone())
                .await
            {
                Err(e) if conflict(&e) => continue,
                other => return other,
            }
        }
        Err(Error::backend(
            "gcp",
            format!(
                "{}: its metadata kept changing; the policy was not written",
                self.instance
            ),
        ))
    }

    async fn try_lock(&self) -> Result<Option<Box<dyn PolicyLock>>> {
        let m = self.current().await?;
        let now = SystemTime::now();
        if let Some(held) = Self::item(&m, META_LOCK)
            && lock_until(&held).is_some_and(|until| until > now)
        {
            return Ok(None);
        }
        let token = crate::names::new_instance();
        let until = now + LOCK_TTL;
        let secs = until
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        match self
            .swap(m, META_LOCK, Some(format!("{token} {secs}")))
            .await
        {
            Ok(()) => Ok(Some(Box::new(MetadataLock {
                project: self.project.clone(),
                zone: self.zone.clone(),
                instance: self.instance.clone(),
                token,
                g: self.g.clone_handle(),
            }))),
            // another caller changed the metadata first: they hold it, or will
            Err(e) if conflict(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The time a lock item (`TOKEN EPOCH-SECONDS`) holds until.
fn lock_until(v: &str) -> Option<SystemTime> {
    let secs: u64 = v.split_whitespace().nth(1)?.parse().ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

struct MetadataLock {
    project: String,
    zone: String,
    instance: String,
    token: String,
    g: std::sync::Arc<Gcp>,
}

#[async_trait::async_trait]
impl PolicyLock for MetadataLock {
    async fn release(self: Box<Self>) {
        let store = MetadataStore {
            g: &self.g,
            project: self.project.clone(),
            zone: self.zone.clone(),
            instance: self.instance.clone(),
        };
        for _ in 0..ROUNDS {
            let Ok(m) = store.current().await else { return };
            // ours only: a lock taken over after it expired is its new holder's
            if !MetadataStore::item(&m, META_LOCK).is_some_and(|v| v.starts_with(&self.token)) {
                return;
            }
            match store.swap(m, META_LOCK, None).await {
                Err(e) if conflict(&e) => continue,
                Err(e) => {
                    tracing::warn!(
                        "gcp: {}: the reconcile lock was not released: {e}",
                        self.instance
                    );
                    return;
                }
                Ok(()) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_lock_item_says_until_when() {
        let t = super::lock_until("abc 1796594400").unwrap();
        assert_eq!(
            t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            1796594400
        );
        assert!(super::lock_until("abc").is_none());
    }
}
