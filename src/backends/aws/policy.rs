//! An AWS cluster's policy (`daskctl adapt`, `create --ttl/--idle-timeout`), kept where
//! discovery already reads the cluster: tags on its scheduler instance. The JSON is cut into
//! `daskctl:policy:0`, `:1`, ... of at most 256 characters each (EC2's limit for a tag value).
//!
//! The reconcile lock is a security group named `daskctl-lock-OWNER-CLUSTER` in the
//! scheduler's VPC: EC2 creates a group of one name per VPC for one caller only (the others get
//! `InvalidGroup.Duplicate`), so two daskctl on two machines never both hold it. Releasing
//! deletes it; it carries `daskctl:expires`, and a lock past that time (left by a daskctl that
//! died mid-pass) is broken by the next caller. It has no `daskctl:cluster` tag: it is never
//! taken for a cluster's leftover group.

use super::client::map_err;
use super::discover::AwsHandle;
use super::{Aws, tags};
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::policy::{Policy, PolicyLock, PolicyStore};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag};
use std::time::{Duration, SystemTime};

use super::tags::{POLICY_PREFIX as PREFIX, joined};
/// On a lock group: the cluster it locks.
pub const LOCK: &str = "daskctl:lock";
const CHUNK: usize = 256;
/// EC2 allows 50 tags per resource; daskctl's own use about ten.
const MAX_CHUNKS: usize = 16;
/// How long a lock is honoured without being released (a reconcile pass takes seconds).
const LOCK_TTL: Duration = Duration::from_secs(600);

/// `p` as `daskctl:policy:N` tags; none for the default policy. The tags hold
/// `CHUNK * MAX_CHUNKS` characters: Dask's damping counts of a scale down proposing a few
/// hundred workers (instance ids) would not fit, and every write would fail, so the cluster
/// would never shrink. The counts of the workers nearest to retirement are kept, as many as
/// fit; the others count again from the next pass (their retirement waits, the others' not).
pub fn chunks(p: &Policy) -> Result<Vec<(String, String)>> {
    if *p == Policy::default() {
        return Ok(Vec::new());
    }
    let fits = |p: &Policy| {
        serde_json::to_string(p)
            .expect("a policy serialises")
            .chars()
            .count()
            <= CHUNK * MAX_CHUNKS
    };
    let mut p = p.clone();
    if !fits(&p) && !p.close_counts.is_empty() {
        let mut by: Vec<(String, u32)> = std::mem::take(&mut p.close_counts).into_iter().collect();
        // nearest to retirement first
        by.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        // the most counts that fit (binary search over how many are kept)
        let (mut lo, mut hi) = (0usize, by.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            p.close_counts = by[..mid].iter().cloned().collect();
            if fits(&p) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        p.close_counts = by[..lo].iter().cloned().collect();
        tracing::debug!(
            "aws: damping counts of {} worker(s) kept of {} (the tags hold {} characters)",
            lo,
            by.len(),
            CHUNK * MAX_CHUNKS
        );
    }
    let json = serde_json::to_string(&p).expect("a policy serialises");
    let chars: Vec<char> = json.chars().collect();
    let out: Vec<(String, String)> = chars
        .chunks(CHUNK)
        .enumerate()
        .map(|(i, c)| (format!("{PREFIX}{i}"), c.iter().collect()))
        .collect();
    if out.len() > MAX_CHUNKS {
        return Err(Error::Usage(format!(
            "the policy is {} characters, more than the {} its tags can hold",
            chars.len(),
            CHUNK * MAX_CHUNKS
        )));
    }
    Ok(out)
}

fn parse(json: &str) -> Result<Policy> {
    serde_json::from_str(json).map_err(|e| {
        Error::backend(
            "aws",
            format!("the scheduler's daskctl:policy tags are not a daskctl policy: {e}"),
        )
    })
}

/// The policy discovery read from the scheduler's tags.
pub fn stored(c: &Cluster) -> Option<Result<Policy>> {
    let s = c.handle.get::<AwsHandle>()?.scheduler.as_ref()?;
    Some(s.policy.as_deref().map_or(Ok(Policy::default()), parse))
}

/// The store of a cluster whose scheduler instance is alive and the caller's.
pub fn store<'a>(aws: &'a Aws, c: &Cluster) -> Option<TagStore<'a>> {
    let h = c.handle.get::<AwsHandle>()?;
    let s = h.scheduler.as_ref()?;
    Some(TagStore {
        aws,
        region: h.region.clone(),
        instance: s.instance.clone(),
        vpc: s.vpc.clone(),
        lock_name: format!("daskctl-lock-{}-{}", aws.ctx.user.name, c.name),
        cluster: c.name.clone(),
    })
}

pub struct TagStore<'a> {
    aws: &'a Aws,
    region: String,
    instance: String,
    vpc: Option<String>,
    lock_name: String,
    cluster: String,
}

impl TagStore<'_> {
    /// The scheduler's `daskctl:policy:N` tags as they are now.
    async fn current(&self, client: &Client) -> Result<Vec<(String, String)>> {
        let out = client
            .describe_tags()
            .filters(
                Filter::builder()
                    .name("resource-id")
                    .values(&self.instance)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| map_err(&self.region, "DescribeTags", e))?;
        Ok(out
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .filter(|(k, _)| k.starts_with(PREFIX))
            .collect())
    }

    /// Creates the lock group; `Ok(None)` when another holds it.
    async fn create_lock(&self, client: &Client) -> Result<Option<String>> {
        let expires = humantime::format_rfc3339_seconds(SystemTime::now() + LOCK_TTL).to_string();
        let base = vec![
            (LOCK.to_string(), self.cluster.clone()),
            (tags::OWNER.to_string(), self.aws.ctx.user.name.clone()),
            (tags::EXPIRES.to_string(), expires),
        ];
        let mut req = client
            .create_security_group()
            .group_name(&self.lock_name)
            .description(format!(
                "daskctl reconcile lock of cluster {} (no rules; deleted after each pass)",
                self.cluster
            ))
            .tag_specifications(tags::spec(ResourceType::SecurityGroup, &base));
        if let Some(v) = &self.vpc {
            req = req.vpc_id(v);
        }
        match req.send().await {
            Ok(out) => Ok(out.group_id().map(str::to_string)),
            Err(e) if e.code() == Some("InvalidGroup.Duplicate") => Ok(None),
            Err(e) => Err(map_err(&self.region, "CreateSecurityGroup", e)),
        }
    }

    /// Deletes a lock group held past its expiry; whether one was deleted.
    async fn break_expired(&self, client: &Client) -> Result<bool> {
        let mut req = client.describe_security_groups().filters(
            Filter::builder()
                .name("group-name")
                .values(&self.lock_name)
                .build(),
        );
        if let Some(v) = &self.vpc {
            req = req.filters(Filter::builder().name("vpc-id").values(v).build());
        }
        let out = req
            .send()
            .await
            .map_err(|e| map_err(&self.region, "DescribeSecurityGroups", e))?;
        for g in out.security_groups() {
            let expires = g
                .tags()
                .iter()
                .find(|t| t.key() == Some(tags::EXPIRES))
                .and_then(|t| t.value())
                .and_then(|v| humantime::parse_rfc3339_weak(v).ok());
            if expires.is_some_and(|t| t < SystemTime::now())
                && let Some(id) = g.group_id()
            {
                tracing::info!("aws: {}: breaking an expired reconcile lock", self.cluster);
                let _ = client.delete_security_group().group_id(id).send().await;
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[async_trait::async_trait]
impl PolicyStore for TagStore<'_> {
    async fn read(&self) -> Result<Policy> {
        let client = self.aws.client(&self.region).await;
        let tags = self.current(&client).await?;
        joined(&tags).map_or(Ok(Policy::default()), |j| parse(&j))
    }

    async fn write(&self, p: &Policy) -> Result<()> {
        let client = self.aws.client(&self.region).await;
        let new = chunks(p)?;
        let old = self.current(&client).await?;
        if !new.is_empty() {
            let mut req = client.create_tags().resources(&self.instance);
            for (k, v) in &new {
                req = req.tags(Tag::builder().key(k).value(v).build());
            }
            req.send()
                .await
                .map_err(|e| map_err(&self.region, "CreateTags", e))?;
        }
        // chunks the new policy no longer fills
        let stale: Vec<&String> = old
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !new.iter().any(|(n, _)| n == *k))
            .collect();
        if !stale.is_empty() {
            let mut req = client.delete_tags().resources(&self.instance);
            for k in stale {
                req = req.tags(Tag::builder().key(k).build());
            }
            req.send()
                .await
                .map_err(|e| map_err(&self.region, "DeleteTags", e))?;
        }
        Ok(())
    }

    async fn try_lock(&self) -> Result<Option<Box<dyn PolicyLock>>> {
        let client = self.aws.client(&self.region).await;
        let mut id = self.create_lock(&client).await?;
        if id.is_none() && self.break_expired(&client).await? {
            id = self.create_lock(&client).await?;
        }
        Ok(id.map(|group| {
            Box::new(AwsLock {
                client,
                region: self.region.clone(),
                group,
            }) as Box<dyn PolicyLock>
        }))
    }
}

struct AwsLock {
    client: Client,
    region: String,
    group: String,
}

#[async_trait::async_trait]
impl PolicyLock for AwsLock {
    async fn release(self: Box<Self>) {
        // a group made a moment ago may not be visible yet (EC2's eventual consistency:
        // InvalidGroup.NotFound right after CreateSecurityGroup): asked again with backoff,
        // else the lock would stand until it expires
        let deleted = super::consistency::eventually(
            &[super::consistency::GROUP_NOT_FOUND],
            super::consistency::VISIBLE_WITHIN,
            || {
                self.client
                    .delete_security_group()
                    .group_id(&self.group)
                    .send()
            },
        )
        .await;
        if let Err(e) = deleted {
            // it expires: the next reconcile breaks it
            tracing::warn!(
                "aws: {}: reconcile lock {} not deleted: {}",
                self.region,
                self.group,
                map_err(&self.region, "DeleteSecurityGroup", e)
            );
        }
    }
}

/// Deletes the reconcile lock groups of cluster `c` (its owner's), after `delete`.
pub async fn drop_locks(aws: &Aws, client: &Client, region: &str, c: &Cluster) -> Result<()> {
    let owner = c.owner.as_deref().unwrap_or(&aws.ctx.user.name);
    let locks =
        super::discover::tagged_groups(aws, region, LOCK, Some(&c.name), Some(owner)).await?;
    for id in locks.iter().filter_map(|g| g.group_id()) {
        match client.delete_security_group().group_id(id).send().await {
            Err(e) if e.code() != Some(super::consistency::GROUP_NOT_FOUND) => {
                return Err(map_err(region, "DeleteSecurityGroup", e));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_policy_round_trips_through_chunks() {
        let mut p = Policy {
            adapt: Some(crate::policy::Adapt::new(1, 40).unwrap()),
            ..Policy::default()
        };
        for i in 0..30 {
            p.close_counts.insert(format!("i-0123456789abcdef{i}"), 2);
        }
        let tags = chunks(&p).unwrap();
        assert!(tags.len() > 1, "{tags:?}");
        assert!(tags.iter().all(|(_, v)| v.chars().count() <= CHUNK));
        // out of order, among other tags
        let mut shuffled = tags.clone();
        shuffled.reverse();
        shuffled.push(("Name".into(), "x".into()));
        assert_eq!(parse(&joined(&shuffled).unwrap()).unwrap(), p);
        assert!(chunks(&Policy::default()).unwrap().is_empty());
        assert_eq!(joined(&[("Name".into(), "x".into())]), None);
    }

    #[test]
    fn damping_counts_of_hundreds_of_workers_are_trimmed_to_what_the_tags_hold() {
        let mut p = Policy {
            adapt: Some(crate::policy::Adapt {
                minimum: 0,
                maximum: 400,
                group: None,
                wait_count: 3,
                target_duration: 5.0,
            }),
            ..Default::default()
        };
        for i in 0..300u32 {
            // instance ids; every tenth proposed twice already
            p.close_counts
                .insert(format!("i-0{i:016x}"), if i % 10 == 0 { 2 } else { 1 });
        }
        let tags = chunks(&p).expect("it fits once trimmed");
        assert!(tags.len() <= MAX_CHUNKS);
        let back = parse(&joined(&tags).unwrap()).unwrap();
        assert_eq!(back.adapt, p.adapt);
        assert!(back.close_counts.len() > 100, "{}", back.close_counts.len());
        assert!(back.close_counts.len() < 300);
        // those nearest to retirement are all kept
        assert_eq!(back.close_counts.values().filter(|c| **c == 2).count(), 30);
    }
}
