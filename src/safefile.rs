//! Files in trees another user may control (their state, policies, logs, scheduler files):
//! opened without following a symbolic link at the last component, without blocking on a FIFO
//! or device, only when they are regular files (of the expected owner, when one is expected),
//! and read up to a cap. Written atomically through a temporary file that is created
//! exclusively (never an existing file or link) under an unpredictable name, mode 0600, then
//! renamed over the target (a rename replaces a link, it never writes through it).
//!
//! A file that fails these checks reads as an error of kind `InvalidData` (or the open's own
//! error), never as a hang or as someone else's bytes.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The cap for small structured files: state, policies, scheduler and kernel connection files.
pub const SMALL: u64 = 1 << 20;

fn refused(path: &Path, why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("{}: {why}; not read", path.display()),
    )
}

/// Opens `path` for reading if it is a regular file (owned by `owner`, when given): no link
/// followed at the last component, no wait on a FIFO or device.
pub fn open(path: &Path, owner: Option<u32>) -> std::io::Result<File> {
    let f = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => refused(path, "a symbolic link"),
            _ => e,
        })?;
    let m = f.metadata()?;
    if !m.file_type().is_file() {
        return Err(refused(path, "not a regular file"));
    }
    if let Some(uid) = owner
        && m.uid() != uid
    {
        return Err(refused(
            path,
            &format!("owned by uid {}, not {uid}", m.uid()),
        ));
    }
    Ok(f)
}

/// The whole of a regular file of at most `max` bytes (see `open`).
pub fn read(path: &Path, owner: Option<u32>, max: u64) -> std::io::Result<Vec<u8>> {
    let f = open(path, owner)?;
    let mut bytes = Vec::new();
    f.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(refused(path, &format!("larger than {max} bytes")));
    }
    Ok(bytes)
}

/// The first `max` bytes (at most) of a regular file (see `open`): the head of a growing log.
pub fn read_head(path: &Path, owner: Option<u32>, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path, owner)?.take(max).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The last `max` bytes (at most) of a regular file (see `open`): the tail of a log.
pub fn read_tail(path: &Path, owner: Option<u32>, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let mut f = open(path, owner)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(max)))?;
    let mut bytes = Vec::new();
    f.take(max).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `read` as text (invalid UTF-8 is an error of kind `InvalidData`).
pub fn read_to_string(path: &Path, owner: Option<u32>, max: u64) -> std::io::Result<String> {
    String::from_utf8(read(path, owner, max)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Replaces `path` with `bytes` atomically: a reader sees the old file or the new one, even
/// after a crash. The new file keeps the mode of the regular file it replaces, else 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, bytes, 0o600)
}

/// Replaces `path` with `bytes` so that a reader sees the old file or the new one, without
/// the fsyncs of `write_atomic`: for caches, which may be lost to a crash but never read torn.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let (tmp, mut f) = exclusive_temp(dir, &name)?;
    let mut write = || -> std::io::Result<()> {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
        std::fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// `write_atomic`, a new file getting mode `new_mode` (a file meant for another reader, such
/// as node_exporter's textfile collector).
pub fn write_atomic_with(path: &Path, bytes: &[u8], new_mode: u32) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mode = std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.file_type().is_file())
        .map_or(new_mode, |m| m.permissions().mode() & 0o7777);
    let (tmp, mut f) = exclusive_temp(dir, &name)?;
    let mut write = || -> std::io::Result<()> {
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// A new file `.NAME.RANDOM.tmp` in `dir`, created exclusively (O_EXCL: never an existing
/// file, never through a link) with mode 0600.
fn exclusive_temp(dir: &Path, name: &str) -> std::io::Result<(std::path::PathBuf, File)> {
    let mut last = None;
    for _ in 0..8 {
        let tmp = dir.join(format!(".{name}.{:016x}.tmp", random()));
        match File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.expect("eight tries"))
}

/// 64 unpredictable bits (the kernel's random source).
fn random() -> u64 {
    let mut b = [0u8; 8];
    // getrandom(2) fills 8 bytes at once or fails; the time is a fallback that still differs
    // per call
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n == 8 {
        u64::from_ne_bytes(b)
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id())
    }
}

/// Creates `dir` and any missing parents with mode 0700 (an existing directory is left as is).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_devices_and_large_files_are_not_read() {
        let d = tempfile::tempdir().unwrap();
        let secret = d.path().join("secret");
        std::fs::write(&secret, "root only").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        assert!(read(&link, None, SMALL).is_err());
        let fifo = d.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        // would block forever with a plain open
        assert!(read(&fifo, None, SMALL).is_err());
        assert!(read(Path::new("/dev/zero"), None, SMALL).is_err());
        let big = d.path().join("big");
        std::fs::write(&big, vec![b'x'; 100]).unwrap();
        assert!(read(&big, None, 99).is_err());
        assert_eq!(read(&big, None, 100).unwrap().len(), 100);
        let me = nix::unistd::getuid().as_raw();
        assert!(read(&big, Some(me), 100).is_ok());
        assert!(read(&big, Some(me + 1), 100).is_err());
    }

    #[test]
    fn atomic_writes_never_go_through_a_planted_link_and_keep_the_mode() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        let target = d.path().join("state.json");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_atomic(&target, b"{}").unwrap();
        assert!(!victim.exists(), "written through the link");
        assert!(std::fs::symlink_metadata(&target).unwrap().is_file());
        assert_eq!(
            std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&target, b"{\"a\":1}").unwrap();
        assert_eq!(
            std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"{\"a\":1}");
        let left: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
