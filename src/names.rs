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
}
