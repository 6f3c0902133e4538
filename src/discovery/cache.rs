//! The names of the clusters the last discovery found, for shell completion: completion reads
//! this file and never waits on a backend.

use crate::model::Cluster;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub const TTL: Duration = Duration::from_secs(300);

fn file(cache_root: &Path) -> PathBuf {
    cache_root.join("names")
}

/// Replaces the cache with these clusters (best effort: completion is a convenience).
pub fn store(cache_root: &Path, clusters: &[Cluster]) {
    let mut text = String::new();
    for c in clusters {
        text.push_str(&c.name);
        text.push('\n');
        text.push_str(&c.qualified());
        text.push('\n');
    }
    let _ = std::fs::create_dir_all(cache_root);
    let tmp = cache_root.join("names.tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, file(cache_root));
    }
}

/// Names from a fresh cache; nothing if it is older than `TTL`.
pub fn load(cache_root: &Path) -> Vec<String> {
    let p = file(cache_root);
    let fresh = std::fs::metadata(&p)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age < TTL);
    if !fresh {
        return Vec::new();
    }
    let mut names: Vec<String> = std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}
