//! Removing a cluster's shared directory as one step.
//!
//! `remove_dir_all` unlinks a directory's files one by one, the lock file among them, before the
//! directory itself. A second command polling that lock (a second reconcile's delete) would
//! create a fresh `DIR/lock` in the half-removed directory, take it, see a directory that still
//! exists and go on deleting a cluster that is already gone (and the first command's `rmdir`
//! then fails, leaving the directory behind). So the directory is first renamed, atomically, to
//! a tomb (`.NAME.removing.PID`, a name no cluster can have): from that moment `DIR/lock` cannot
//! be opened, and a waiting command learns that the cluster was deleted meanwhile. The tomb is
//! then removed; a tomb whose deleting command died is removed by the next discovery.

use std::path::Path;
use std::time::{Duration, SystemTime};

const TOMB: &str = ".removing.";

/// Removes the cluster directory `dir` (its lock held by the caller), renaming it away first.
pub fn remove(dir: &Path) {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return;
    };
    let tomb = parent.join(format!(
        ".{}{TOMB}{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    match std::fs::rename(dir, &tomb) {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&tomb);
        }
        // already gone: nothing to remove
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("renaming {} to remove it: {e}", dir.display()),
    }
}

/// Whether a directory entry under the shared directory is a tomb of `remove`.
pub fn is_tomb(file_name: &str) -> bool {
    file_name.starts_with('.') && file_name.contains(TOMB)
}

/// Removes tombs among `entries` (names under `shared`, as discovery listed them) that an
/// interrupted delete left: the caller's own, not locked by a delete still removing them, and
/// untouched for a while (a delete that runs removes its tomb within moments of making it).
pub fn sweep(shared: &Path, entries: &[String], uid: u32) {
    use std::os::unix::fs::MetadataExt;
    const STALE: Duration = Duration::from_secs(600);
    for name in entries.iter().filter(|n| is_tomb(n)) {
        let path = shared.join(name);
        let Ok(m) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let changed = SystemTime::UNIX_EPOCH + Duration::from_secs(m.ctime().max(0) as u64);
        let stale = SystemTime::now()
            .duration_since(changed)
            .is_ok_and(|age| age >= STALE);
        if m.is_dir() && m.uid() == uid && stale && !crate::lockfile::is_held(&path.join("lock")) {
            tracing::debug!("removing {}, left by an interrupted delete", path.display());
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_directory_cannot_be_locked_again_by_a_waiting_command() {
        let shared = tempfile::tempdir().unwrap();
        let dir = shared.path().join("etl");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("instance"), "x\n").unwrap();
        let held = crate::lockfile::try_lock(&dir.join("lock"))
            .unwrap()
            .unwrap();
        remove(&dir);
        // what a second delete polling the lock does next: it finds nothing to lock
        let again = crate::lockfile::try_lock(&dir.join("lock"));
        assert!(again.is_err(), "a lock was made in a removed directory");
        assert!(!dir.exists());
        drop(held);
        let left: Vec<_> = std::fs::read_dir(shared.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn tombs_are_not_cluster_names() {
        assert!(is_tomb(".etl.removing.42"));
        assert!(crate::names::validate(".etl.removing.42").is_err());
        assert!(!is_tomb("etl"));
    }

    #[test]
    fn a_fresh_or_locked_tomb_is_left_to_its_delete() {
        let shared = tempfile::tempdir().unwrap();
        let tomb = shared.path().join(".etl.removing.1");
        std::fs::create_dir(&tomb).unwrap();
        let uid = nix::unistd::geteuid().as_raw();
        sweep(shared.path(), &[".etl.removing.1".to_string()], uid);
        assert!(tomb.exists(), "a tomb made a moment ago was removed");
    }
}
