//! The clusters the last discovery found, by name, backend and qualified name: shell completion
//! reads it without waiting on any backend, and name resolution asks the backend that last
//! listed a name first (one cheap `from_name` instead of every backend's discovery).

use crate::model::Cluster;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub const TTL: Duration = Duration::from_secs(300);

fn file(cache_root: &Path) -> PathBuf {
    cache_root.join("names.tsv")
}

/// What a discovery of only `backends` found replaces their rows; the others' rows stay.
pub fn store_backends(cache_root: &Path, clusters: &[Cluster], backends: &[String]) {
    let mut rows: Vec<(String, String, String)> = rows(cache_root)
        .into_iter()
        .filter(|r| !backends.contains(&r.0))
        .collect();
    rows.extend(
        clusters
            .iter()
            .map(|c| (c.backend.clone(), c.name.clone(), c.qualified())),
    );
    write_rows(cache_root, &rows);
}

/// Replaces the cache with these clusters (best effort: it is a convenience).
pub fn store(cache_root: &Path, clusters: &[Cluster]) {
    let rows: Vec<(String, String, String)> = clusters
        .iter()
        .map(|c| (c.backend.clone(), c.name.clone(), c.qualified()))
        .collect();
    write_rows(cache_root, &rows);
}

/// The disabled backends among `disabled` that had clusters when they were last listed, with
/// how many: from the cache (any age) the first time, remembered in `hidden.tsv` after, until
/// the backend is enabled again (`list` says they are hidden).
pub fn hidden(cache_root: &Path, disabled: &[&str]) -> Vec<(String, usize)> {
    let hidden_file = cache_root.join("hidden.tsv");
    let before: Vec<(String, usize)> = std::fs::read_to_string(&hidden_file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (b, n) = l.split_once('\t')?;
            Some((b.to_string(), n.parse().ok()?))
        })
        .collect();
    let cached = all_rows(cache_root);
    let out: Vec<(String, usize)> = disabled
        .iter()
        .filter_map(|b| {
            let seen = cached.iter().filter(|r| r.0 == *b).count();
            let n = if seen > 0 {
                seen
            } else {
                before.iter().find(|(x, _)| x == b).map_or(0, |(_, n)| *n)
            };
            (n > 0).then(|| (b.to_string(), n))
        })
        .collect();
    if out != before {
        let text: String = out.iter().map(|(b, n)| format!("{b}\t{n}\n")).collect();
        let _ = crate::backends::local::state::write_atomic(&hidden_file, text.as_bytes());
    }
    out
}

/// Whether the cache was written less than `TTL` ago.
pub fn is_fresh(cache_root: &Path) -> bool {
    std::fs::metadata(file(cache_root))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age < TTL)
}

/// `(backend, name, qualified)` rows of a fresh cache; nothing if it is older than `TTL`.
fn rows(cache_root: &Path) -> Vec<(String, String, String)> {
    if !is_fresh(cache_root) {
        return Vec::new();
    }
    all_rows(cache_root)
}

/// Names and qualified names the cache holds for `backend`, whatever its age (completion
/// offers them for a backend that did not answer in time).
pub fn names_of_any_age(cache_root: &Path, backend: &str) -> Vec<String> {
    all_rows(cache_root)
        .into_iter()
        .filter(|r| r.0 == backend)
        .flat_map(|(_, n, q)| [n, q])
        .collect()
}

/// Every row of the cache, whatever its age.
fn all_rows(cache_root: &Path) -> Vec<(String, String, String)> {
    std::fs::read_to_string(file(cache_root))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            Some((f.next()?.into(), f.next()?.into(), f.next()?.into()))
        })
        .collect()
}

/// Names and qualified names from a fresh cache, for completion.
pub fn load(cache_root: &Path) -> Vec<String> {
    let mut names: Vec<String> = rows(cache_root)
        .into_iter()
        .flat_map(|(_, n, q)| [n, q])
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The backends that listed a cluster called `name` last time, if the cache is fresh and has it.
pub fn backends_of(cache_root: &Path, name: &str) -> Vec<String> {
    let mut v: Vec<String> = rows(cache_root)
        .into_iter()
        .filter(|(_, n, _)| n == name)
        .map(|(b, _, _)| b)
        .collect();
    v.dedup();
    v
}

/// Names the last listings saw that are close to `name` (a typo's likely meaning), nearest
/// first: for "no cluster named ..." to suggest.
pub fn near(cache_root: &Path, name: &str) -> Vec<String> {
    let bare = name.rsplit('/').next().unwrap_or(name);
    let mut scored: Vec<(f64, String)> = all_rows(cache_root)
        .into_iter()
        .filter(|(_, n, _)| n != bare)
        .map(|(_, n, q)| {
            let score = strsim::jaro_winkler(bare, &n);
            (score, if name.contains('/') { q } else { n })
        })
        // clap's own threshold for "a similar subcommand exists"
        .filter(|(score, _)| *score > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<String> = Vec::new();
    for (_, n) in scored {
        if !out.contains(&n) && out.len() < 3 {
            out.push(n);
        }
    }
    out
}

/// Adds (or refreshes) one cluster, after `create`: the next command naming it finds it at once.
pub fn remember(cache_root: &Path, c: &Cluster) {
    let q = c.qualified();
    let mut rows: Vec<(String, String, String)> =
        rows(cache_root).into_iter().filter(|r| r.2 != q).collect();
    rows.push((c.backend.clone(), c.name.clone(), q));
    write_rows(cache_root, &rows);
}

/// Drops one cluster, after `delete` or `cleanup` removed it.
pub fn forget(cache_root: &Path, c: &Cluster) {
    let q = c.qualified();
    let before = rows(cache_root);
    let rows: Vec<(String, String, String)> = before.iter().filter(|r| r.2 != q).cloned().collect();
    if rows.len() != before.len() {
        write_rows(cache_root, &rows);
    }
}

/// Writes the rows (a reader sees the old file or the new, never a part), without fsync: a
/// cache lost to a crash is rebuilt by the next list, and two fsyncs per list cost more than
/// the listing. Unchanged rows are not rewritten; the file is only marked fresh.
fn write_rows(cache_root: &Path, rows: &[(String, String, String)]) {
    let text: String = rows
        .iter()
        .map(|(b, n, q)| format!("{b}\t{n}\t{q}\n"))
        .collect();
    let path = file(cache_root);
    if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes())
        && std::fs::File::options()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .and_then(|f| f.set_modified(SystemTime::now()))
            .is_ok()
    {
        return;
    }
    if crate::safefile::create_private_dir(cache_root).is_ok() {
        let _ = crate::safefile::replace(&path, text.as_bytes());
    }
}
