//! Advisory locks on files (`flock`): the per-cluster lock of the local state directory and of
//! a batch cluster's shared directory, and the reconcile lock beside a policy.
//!
//! A lock file is opened without following a symbolic link (a link planted where the lock goes
//! must not make daskctl create or truncate the file it points at), with mode 0600 when created,
//! and close-on-exec: a child daskctl starts does not keep it, except a helper that is meant to
//! (`Runner::holding`), whose lifetime then bounds the lock's.

use crate::error::{Error, IoContext, Result};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// A held lock; released when dropped (and when every process sharing its open file, such as
/// a submission helper that inherited it, has ended).
pub type Held = Flock<File>;

/// The lock at `path` if no one else holds it.
pub fn try_lock(path: &Path) -> Result<Option<Held>> {
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ctx(|| format!("opening {}", path.display()))?;
    match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
        Ok(l) => Ok(Some(l)),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(unsupported(path, e, fs_kind(path))
            .unwrap_or_else(|| Error::io(format!("locking {}", path.display()), e.into()))),
    }
}

/// Whether a command holds the lock at `path` now; a lock file that does not exist is not
/// created (false).
pub fn is_held(path: &Path) -> bool {
    let Ok(f) = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    else {
        return false;
    };
    matches!(
        Flock::lock(f, FlockArg::LockExclusiveNonblock),
        Err((_, nix::errno::Errno::EWOULDBLOCK))
    )
}

/// The file system a path is on, by its magic number (statfs(2)), where it matters to locks.
fn fs_kind(path: &Path) -> Option<&'static str> {
    let st = nix::sys::statfs::statfs(path).ok()?;
    // the magic numbers of linux/magic.h and Lustre's lustre_user.h
    Some(match st.filesystem_type().0 as u64 {
        0x6969 => "NFS",
        0x0BD0_0BD0 => "Lustre",
        0xFF53_4D42 | 0xFE53_4D42 => "CIFS/SMB",
        0x6573_5546 => "FUSE",
        0x4750_4653 => "GPFS",
        _ => return None,
    })
}

/// A file system where flock(2) does not work (NFS without its lock manager, Lustre mounted
/// without `flock`, which answers ENOSYS, or with `localflock`, node-local only): an error that
/// names the file system and the fix, instead of an errno.
fn unsupported(path: &Path, e: nix::errno::Errno, fs: Option<&str>) -> Option<Error> {
    use nix::errno::Errno;
    if !matches!(
        e,
        Errno::ENOLCK | Errno::ENOSYS | Errno::EOPNOTSUPP | Errno::EINVAL
    ) {
        return None;
    }
    let fs = fs.unwrap_or("this file system");
    Some(Error::Usage(format!(
        "cannot lock {}: {fs} does not support flock(2) here ({e}); daskctl locks a cluster so \
         that two commands never change it at once. Mount it with working locks (NFS: run its \
         lock manager, rpc.statd/lockd; Lustre: the `flock` mount option, not `localflock`, \
         which locks per node), or put daskctl's state and shared directories on a file system \
         that has them (DASKCTL_STATE_DIR, backends.NAME.shared_dir)",
        path.display()
    )))
}

/// The lock at `path`, waiting (without blocking the runtime) while another holds it, until
/// `within` has passed; then `busy()` is the error.
pub async fn lock(path: &Path, within: Duration, busy: impl FnOnce() -> Error) -> Result<Held> {
    let deadline = tokio::time::Instant::now() + within;
    let mut said = false;
    loop {
        if let Some(l) = try_lock(path)? {
            return Ok(l);
        }
        if !said {
            tracing::debug!("{}: held by another command; waiting", path.display());
            said = true;
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(busy());
        }
        tokio::time::sleep(Duration::from_millis(20).min(deadline - now)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_not_taken_twice_and_is_free_once_dropped() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("lock");
        let held = try_lock(&p).unwrap().expect("free");
        assert!(try_lock(&p).unwrap().is_none());
        drop(held);
        assert!(try_lock(&p).unwrap().is_some());
    }

    #[test]
    fn a_link_where_the_lock_goes_is_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("victim");
        std::os::unix::fs::symlink(&target, d.path().join("lock")).unwrap();
        assert!(try_lock(&d.path().join("lock")).is_err());
        assert!(!target.exists(), "the link's target was created");
    }

    #[tokio::test]
    async fn waiting_ends_with_the_callers_error() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("lock");
        let _held = try_lock(&p).unwrap().unwrap();
        let e = lock(&p, Duration::from_millis(60), || {
            Error::Timeout("busy".into())
        })
        .await
        .unwrap_err();
        assert!(e.to_string().contains("busy"), "{e}");
    }

    #[test]
    fn a_file_system_without_flock_is_named_with_the_fix() {
        let p = Path::new("/lustre/home/u/.daskctl/slurm/etl/lock");
        let e = unsupported(p, nix::errno::Errno::ENOSYS, Some("Lustre")).unwrap();
        let msg = e.to_string();
        assert!(msg.contains("Lustre") && msg.contains("flock") && msg.contains("localflock"));
        assert_eq!(e.exit_code(), crate::error::exit::USAGE);
        assert!(unsupported(p, nix::errno::Errno::EACCES, None).is_none());
        // this machine's own /tmp has working locks: a lock is simply taken
        let d = tempfile::tempdir().unwrap();
        assert!(try_lock(&d.path().join("lock")).unwrap().is_some());
    }
}
