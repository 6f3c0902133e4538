//! Cluster names become job names, labels, tags, directory names and process environment, so
//! they are restricted to what every backend accepts (a DNS-1123 label).

use crate::error::{Error, Result};

pub const MAX_LEN: usize = 63;

pub fn validate(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::Usage(format!(
            "invalid cluster name {name:?}: {why}"
        )))
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > MAX_LEN {
        return bad(&format!("it is longer than {MAX_LEN} characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return bad(&format!(
            "character {c:?} is not allowed (use lowercase letters, digits and '-')"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return bad("it must start and end with a letter or digit");
    }
    Ok(())
}

/// Prefixes of the names daskctl gives clusters it did not create (`port-8786`, `pid-42`,
/// `jobqueue-35421`, `gateway-ab12`) and what an interrupted delete left (`removing-etl-4242`):
/// a cluster daskctl creates never takes one, so the kinds of names never collide.
pub const RESERVED_PREFIXES: &[&str] = &["port-", "pid-", "jobqueue-", "gateway-", "removing-"];

/// A name for a new cluster: `validate`, and none of the reserved prefixes.
pub fn validate_new(name: &str) -> Result<()> {
    validate(name)?;
    if let Some(p) = RESERVED_PREFIXES.iter().find(|p| name.starts_with(**p)) {
        return Err(Error::Usage(format!(
            "invalid cluster name {name:?}: the prefix {p:?} is reserved for clusters daskctl did not create"
        )));
    }
    Ok(())
}

/// The longest name a lookup accepts (a Kubernetes object name, a DNS subdomain).
const MAX_LOOKUP_LEN: usize = 253;

/// A cluster named on the command line (`NAME`, `BACKEND/NAME`, `kubernetes/NS/NAME`), checked
/// before anything is looked up or any file read: each part must be a name some backend gives
/// (letters, digits, `-`, `_`, `.`, starting with a letter or digit), so none can be a path
/// (`..`, `/abs`) or carry a shell or control character. Scheduler addresses (`tcp://...`)
/// are checked as addresses.
pub fn validate_query(query: &str) -> Result<()> {
    if query.starts_with("tcp://") || query.starts_with("tls://") {
        return crate::dask::Address::parse(query).map(|_| ());
    }
    let bad = |why: &str| {
        Err(Error::Usage(format!(
            "invalid cluster name {query:?}: {why} (see: daskctl list)"
        )))
    };
    if query.is_empty() {
        return bad("it is empty");
    }
    let parts: Vec<&str> = query.split('/').collect();
    if parts.len() > 3 {
        return bad(
            "too many '/'-separated parts (NAME, BACKEND/NAME or kubernetes/NAMESPACE/NAME)",
        );
    }
    for p in parts {
        if p.is_empty() || p.len() > MAX_LOOKUP_LEN {
            return bad("a part is empty or too long");
        }
        if let Some(c) = p
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return bad(&format!("character {c:?} is not allowed"));
        }
        if !p.starts_with(|c: char| c.is_ascii_alphanumeric()) || p.contains("..") {
            return bad("each part must start with a letter or digit and hold no '..'");
        }
    }
    Ok(())
}

/// A fresh name for `create` without `--name`: `dask-` and 8 hex digits.
pub fn generate() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mix = (nanos as u64) ^ ((std::process::id() as u64) << 32);
    format!(
        "dask-{:08x}",
        (mix.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
    )
}

/// Container image references: registry/name:tag@digest characters only (they reach user data
/// and pod specs).
pub fn check_image(image: &str) -> Result<()> {
    let ok = !image.is_empty()
        && image.len() <= 200
        && image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "./:@_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!("invalid container image {image:?}")))
    }
}

/// A new cluster instance id: 12 random hex digits. A name is reused (deleted, then created
/// again); an instance id is not: destructive steps re-check it under the cluster's lock, so
/// they never act on a cluster created under the same name after it was listed.
pub fn new_instance() -> String {
    let mut b = [0u8; 6];
    // the system's generator; a failure (never seen) falls back to time and pid, still unique
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64
            ^ u64::from(std::process::id()) << 32;
        b.copy_from_slice(&t.to_le_bytes()[..6]);
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether `s` has the shape of an instance id (what a marker or file may claim).
pub fn is_instance(s: &str) -> bool {
    (8..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_labels() {
        for n in ["a", "dask-1", "x".repeat(63).as_str(), "0abc"] {
            validate(n).unwrap();
        }
        validate(&generate()).unwrap();
    }

    #[test]
    fn lookups_accept_every_listed_name_and_no_path() {
        for q in [
            "etl",
            "local/etl",
            "port-8786",
            "kubernetes/team-a/etl",
            "aws/dask-1a2b3c4d",
            "jobqueue-35421",
            "tcp://127.0.0.1:8786",
            "my.cluster",
        ] {
            validate_query(q).unwrap();
        }
        for q in [
            "",
            "../../../victim",
            "/some/abs/dir",
            "local/../x",
            "..",
            ".hidden",
            "a b",
            "a\nb",
            "$(id)",
            "a/b/c/d",
            "local/",
            "tcp://nohost",
        ] {
            let e = validate_query(q).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{q:?}");
        }
        assert!(validate_new("port-1").is_err());
        assert!(validate_new("gateway-x").is_err());
        validate_new("portal").unwrap();
    }

    #[test]
    fn rejects_everything_else() {
        let long = "x".repeat(64);
        for n in [
            "", " ", "a b", "a/b", "a;rm -rf", "$(id)", "`x`", "A", "-a", "a-", "é", &long, "a\nb",
            "a.b", "a_b",
        ] {
            let e = validate(n).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{n:?}");
            assert!(!e.to_string().contains('\n') || n.contains('\n'));
        }
    }

    mod props {
        use super::super::*;
        use crate::arb;
        use proptest::prelude::*;

        proptest! {
            /// Whatever a lookup accepts can never be a path out of a directory.
            #[test]
            fn accepted_lookups_are_never_paths(t in arb::text(), p in "[./a-z-]{0,12}") {
                for q in [t.as_str(), p.as_str()] {
                    if validate_query(q).is_ok() && !q.contains("://") {
                        prop_assert!(!q.starts_with('/') && !q.contains("..") && !q.contains('\0'));
                        prop_assert!(q.split('/').all(|part| !part.is_empty() && part != "."));
                    }
                    if validate(q).is_ok() {
                        prop_assert!(!q.contains('/') && !q.contains('.'));
                    }
                }
            }
        }
    }

    #[test]
    fn instance_ids_are_fresh_and_checked() {
        let (a, b) = (new_instance(), new_instance());
        assert_ne!(a, b);
        assert!(is_instance(&a) && a.len() == 12);
        for bad in ["", "abc", "zzzzzzzzzzzz", "0123456789ab;dir=/"] {
            assert!(!is_instance(bad), "{bad}");
        }
    }
}
