//! Other users' state directories read ahead. Root lists another user's local clusters only
//! after reading their state as them, in a child (`owner::states`), and knows whom to ask only
//! after the pass over /proc. Starting that child afterwards put its exec and its answer on the
//! listing's critical path (issue 31: `--all-users` 1.7-1.9x plain list with one other user's
//! cluster). So the users whose state the last listing read, kept in the caller's cache
//! (`local-owners.tsv`), get their child at the start, while /proc is read; a child that turns
//! out not to be needed is dropped, and with it killed (`kill_on_drop`).
//!
//! The file is a hint, never an authority: the /proc pass and the accounts still decide whose
//! clusters are listed (`users::others`), and a child started from a stale line only reads that
//! user's own state as that user.

use super::Local;
use crate::backends::User;
use crate::backends::owner::{self, OwnState};
use crate::error::Result;
use futures::FutureExt;
use futures::future::RemoteHandle;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest a child may take to read its user's state directories.
pub const WITHIN: Duration = Duration::from_secs(30);

/// A child's answer: the user's state directories, as they read them.
pub type States = RemoteHandle<Result<Vec<OwnState>>>;

/// The children started before the listing knew whom it needs.
#[derive(Default)]
pub struct Early {
    started: Vec<(u32, PathBuf, States)>,
    /// The cache file's lines as read at the start (what `remember` compares against).
    pub hints: Vec<(User, PathBuf)>,
}

impl Early {
    /// A child for each (user, state root) the last listing read that the command's scope
    /// takes in; none unless this process can act as other users.
    pub fn start(b: &Local) -> Early {
        if !owner::can_switch() {
            return Early::default();
        }
        let me = &b.ctx.user;
        let hints = hints(&b.ctx.config.cache_root(), me.uid);
        let started = hints
            .iter()
            .filter(|(u, _)| u.uid != me.uid && b.ctx.scope.includes(&u.name, &me.name))
            .map(|(u, root)| (u.uid, root.clone(), read_ahead(u.clone(), root.clone())))
            .collect();
        Early { started, hints }
    }

    /// The answer of the child started for `uid` under `root`, if one was.
    pub fn take(&mut self, uid: u32, root: &Path) -> Option<States> {
        let i = self
            .started
            .iter()
            .position(|(u, r, _)| *u == uid && r == root)?;
        Some(self.started.swap_remove(i).2)
    }
}

/// Starts reading `user`'s state directories under `root` as them.
fn read_ahead(user: User, root: PathBuf) -> States {
    let (work, handle) = async move {
        let o = owner::Owner { user, root };
        owner::states(&o, WITHIN).await
    }
    .remote_handle();
    tokio::spawn(work);
    handle
}

fn file(cache_root: &Path) -> PathBuf {
    cache_root.join("local-owners.tsv")
}

/// `uid<TAB>name<TAB>root` lines of the caller's own cache file (no link followed).
fn hints(cache_root: &Path, me: u32) -> Vec<(User, PathBuf)> {
    let text =
        crate::safefile::read_to_string(&file(cache_root), Some(me), 1 << 16).unwrap_or_default();
    text.lines().filter_map(hint).collect()
}

fn hint(line: &str) -> Option<(User, PathBuf)> {
    let mut f = line.splitn(3, '\t');
    let uid = f.next()?.parse().ok()?;
    let name = f.next().filter(|n| !n.is_empty())?.to_string();
    let root = PathBuf::from(f.next()?);
    root.is_absolute().then_some((User { uid, name }, root))
}

/// Keeps the pairs this listing read for the next one: those of the users in its scope are
/// replaced, the others' kept. `before`: the file's lines as `Early::start` read them. Written
/// only when it changes, without fsync (a cache).
pub fn remember(b: &Local, before: &[(User, PathBuf)], read: &[(User, PathBuf)]) {
    if !owner::can_switch() {
        return;
    }
    let me = &b.ctx.user;
    let cache_root = b.ctx.config.cache_root();
    let mut after: Vec<(User, PathBuf)> = before
        .iter()
        .filter(|(u, _)| !b.ctx.scope.includes(&u.name, &me.name))
        .cloned()
        .chain(read.iter().cloned())
        .collect();
    after.sort_by(|a, b| (a.0.uid, &a.1).cmp(&(b.0.uid, &b.1)));
    let same = |x: &[(User, PathBuf)], y: &[(User, PathBuf)]| {
        x.len() == y.len()
            && x.iter()
                .zip(y)
                .all(|(a, b)| a.0.uid == b.0.uid && a.0.name == b.0.name && a.1 == b.1)
    };
    if same(before, &after) {
        return;
    }
    let text: String = after
        .iter()
        .filter(|(u, r)| !u.name.contains(['\t', '\n']) && !r.to_string_lossy().contains('\n'))
        .map(|(u, r)| format!("{}\t{}\t{}\n", u.uid, u.name, r.display()))
        .collect();
    if crate::safefile::create_private_dir(&cache_root).is_ok() {
        let _ = crate::safefile::replace(&file(&cache_root), text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_names_a_user_and_an_absolute_root() {
        let (u, r) = hint("1001\talice\t/home/alice/.local/state/daskctl").unwrap();
        assert_eq!((u.uid, u.name.as_str()), (1001, "alice"));
        assert_eq!(r, PathBuf::from("/home/alice/.local/state/daskctl"));
        // a root with a tab in it is kept whole
        assert_eq!(hint("7\tb\t/x\ty").unwrap().1, PathBuf::from("/x\ty"));
        for bad in [
            "",
            "x\talice\t/r",
            "1001\t\t/r",
            "1001\talice\trelative",
            "1001\talice",
        ] {
            assert!(hint(bad).is_none(), "{bad:?}");
        }
    }
}
