//! `NAME` or `BACKEND/NAME` (a backend may accept more segments, e.g. `NAMESPACE/NAME`).

use super::fanout::enabled_backends;
use crate::backends::{Availability, Backend, Context};
use crate::error::{Error, Result};
use crate::model::Cluster;
use futures::future::join_all;
use std::sync::Arc;
use std::time::Duration;

pub async fn resolve(
    ctx: &Arc<Context>,
    query: &str,
    deadline: Duration,
) -> Result<(Arc<dyn Backend>, Cluster)> {
    let (b, mut c) = lookup(ctx, query, deadline).await?;
    super::finish(b.as_ref(), &mut c);
    Ok((b, c))
}

async fn lookup(
    ctx: &Arc<Context>,
    query: &str,
    deadline: Duration,
) -> Result<(Arc<dyn Backend>, Cluster)> {
    // before any lookup and any file read: a path-like name never reaches a backend
    crate::names::validate_query(query)?;
    if query.starts_with("tcp://") || query.starts_with("tls://") {
        return by_address(ctx, query, deadline).await;
    }
    // every enabled backend is asked, at once: the names cache (what the last listing saw)
    // never decides that a name is unambiguous, since another backend may have it since
    let registered = crate::backends::registered_names();
    // `BACKEND/NAME` with a backend that does not exist: a usage error naming the ones that do
    if let Some((b, _)) = query.split_once('/') {
        crate::backends::lookup(b)?;
    }
    let explicit = query
        .split_once('/')
        .is_some_and(|(b, _)| registered.contains(&b));
    let (backends, name) = match query.split_once('/') {
        Some((b, rest)) if registered.contains(&b) => {
            (enabled_backends(ctx, &[b.to_string()])?, rest)
        }
        _ => (enabled_backends(ctx, &[])?, query),
    };
    let lookups = join_all(backends.iter().map(|b| async move {
        if let Availability::Missing(why) = b.availability() {
            // asked for by name: say why it cannot answer; otherwise it simply has nothing
            let r = if explicit {
                Err(Error::backend(b.name(), format!("not usable here: {why}")))
            } else {
                Ok(None)
            };
            return (b.clone(), r);
        }
        let r = match tokio::time::timeout(
            deadline,
            super::fanout::budgeted(deadline, b.from_name(name)),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout(format!(
                "{}: no answer within {deadline:?}",
                b.name()
            ))),
        };
        (b.clone(), r)
    }))
    .await;
    let mut hits = Vec::new();
    let mut failures = Vec::new();
    // candidates a backend found several of (e.g. one name in two namespaces)
    let mut several = Vec::new();
    for (b, r) in lookups {
        match r {
            Ok(Some(c)) => hits.push((b, c)),
            Ok(None) => {}
            Err(Error::Ambiguous { candidates, .. }) => several.extend(candidates),
            // one backend asked for by name: its own error, as it is
            Err(e) if explicit => return Err(e),
            Err(e) => failures.push(format!("{}: {e}", b.name())),
        }
    }
    for f in &failures {
        tracing::warn!("{f}");
    }
    if !several.is_empty() {
        several.extend(hits.iter().map(|(_, c)| c.qualified()));
        return Err(Error::ambiguous(query, &several));
    }
    match hits.len() {
        1 => Ok(hits.pop().expect("one")),
        0 if !failures.is_empty() => Err(Error::Partial(format!(
            "no cluster named {query:?} found, and some backends failed: {}",
            failures.join("; ")
        ))),
        0 => {
            let near = super::cache::near(&ctx.config.cache_root(), query);
            let hint = if near.is_empty() {
                String::new()
            } else {
                let quoted: Vec<String> = near.iter().map(|n| format!("{n:?}")).collect();
                format!("; did you mean {}?", quoted.join(" or "))
            };
            Err(Error::NotFound(format!(
                "no cluster named {query:?}{hint} (see: daskctl list)"
            )))
        }
        _ => Err(Error::ambiguous(
            query,
            &hits.iter().map(|(_, c)| c.qualified()).collect::<Vec<_>>(),
        )),
    }
}

/// A scheduler address instead of a name: the cluster some backend lists at that address. An
/// address where no Dask scheduler answers is an error saying why.
async fn by_address(
    ctx: &Arc<Context>,
    addr: &str,
    deadline: Duration,
) -> Result<(Arc<dyn Backend>, Cluster)> {
    let wanted = crate::dask::Address::parse(addr)?;
    let backends = enabled_backends(ctx, &[])?;
    let found = super::fan_out(&backends, deadline).await;
    let hit = found.clusters.into_iter().find(|c| {
        c.address
            .as_deref()
            .and_then(|a| crate::dask::Address::parse(a).ok())
            .is_some_and(|a| {
                a.port == wanted.port
                    && (a.host == wanted.host || (a.is_loopback() && wanted.is_loopback()))
            })
    });
    if let Some(c) = hit {
        let b = backends
            .into_iter()
            .find(|b| b.name() == c.backend)
            .expect("from a queried backend");
        return Ok((b, c));
    }
    ctx.prober.scheduler(addr).await?;
    Err(Error::NotFound(format!(
        "{addr} is a Dask scheduler, but no enabled backend manages it"
    )))
}

#[cfg(test)]
mod tests {
    use crate::error::Error;

    #[test]
    fn ambiguity_lists_candidates() {
        let e = Error::ambiguous("x", &["local/x".into(), "slurm/x".into()]);
        assert_eq!(e.exit_code(), crate::error::exit::USAGE);
        assert!(e.to_string().contains("local/x, slurm/x"));
    }
}
