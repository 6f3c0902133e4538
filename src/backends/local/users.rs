//! Other users' local clusters, for administrators (`--all-users`, `-u USER`): root reads every
//! user's processes in /proc and their state directories. Each other user's clusters are found
//! and acted on through a view of the backend as that user (their uid, their state root), so
//! the code that lists, stops and verifies processes is the one that serves the caller, and a
//! process is only ever stopped after being verified as that user's.
//!
//! Their state roots: the one each of their daskctl processes names in its `DASKCTL_HOME`
//! marker, and the default `~/.local/state/daskctl` (dirs' `state_dir` for a user without
//! `XDG_STATE_HOME`), where it exists.

use super::Local;
use super::procfs;
use super::spawn::ENV_HOME;
use crate::backends::{Context, Scope, User};
use crate::model::Cluster;
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;

/// A user's state root under their home where nothing else is configured (dirs' `state_dir`
/// without `XDG_STATE_HOME`).
const DEFAULT_ROOT: &str = ".local/state/daskctl";

/// The backend as `user` with state under `root`, listing only that user's clusters.
pub fn view(b: &Local, user: User, root: PathBuf) -> Local {
    let mut config = b.ctx.config.clone();
    config.state_dir = Some(root);
    let ctx = Context {
        prober: crate::dask::Prober::new(&b.ctx.config.probe, !b.ctx.prober.enabled()),
        // silence is remembered for the caller's own listing only
        silence: crate::backends::liveness::Silence::new(None, b.ctx.silence.grace),
        config,
        user,
        scope: Scope::Mine,
    };
    Local {
        ctx: Arc::new(ctx),
        settings: b.settings.clone(),
        policies_read_by_owners: Default::default(),
        notes: Default::default(),
    }
}

fn user_of_uid(uid: u32) -> Option<User> {
    let u = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).ok()??;
    Some(User { uid, name: u.name })
}

fn home_of(uid: u32) -> Option<PathBuf> {
    let u = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).ok()??;
    Some(u.dir)
}

/// The (user, state root) pairs other than the caller's that the command's scope asks for:
/// users with Dask processes here, and named users (or, for `--all-users`, every account in
/// /etc/passwd) whose default state root exists.
/// `procs`: every user's Dask processes here (`procfs::scan_all`, the listing's one pass).
pub fn others(b: &Local, procs: &[procfs::ProcInfo]) -> Vec<(User, PathBuf)> {
    let me = &b.ctx.user;
    let scope = &b.ctx.scope;
    let wanted = |u: &User| u.uid != me.uid && scope.includes(&u.name, &me.name);
    // from their processes: theirs whatever directory it is
    let mut pairs: BTreeSet<(u32, PathBuf)> = BTreeSet::new();
    let default_root = |uid: u32| home_of(uid).map(|h| h.join(DEFAULT_ROOT));
    for (uid, home) in procfs::owners_in(procs, ENV_HOME) {
        let Some(u) = user_of_uid(uid) else { continue };
        if !wanted(&u) {
            continue;
        }
        if let Some(root) = home.map(PathBuf::from).or_else(|| default_root(uid)) {
            pairs.insert((uid, root));
        }
    }
    // (uid, home) of the accounts named
    let named: Vec<(u32, PathBuf)> = match scope {
        Scope::Mine => Vec::new(),
        Scope::Users(names) => names
            .iter()
            .filter_map(|n| nix::unistd::User::from_name(n).ok().flatten())
            .map(|u| (u.uid.as_raw(), u.dir))
            .collect(),
        Scope::Everyone => passwd_accounts(),
    };
    // their default state root, for clusters with nothing running (stopped, leftovers): only
    // if they own it
    for (uid, home) in named {
        let root = home.join(DEFAULT_ROOT);
        if uid != me.uid
            && root.join("local").is_dir()
            && std::fs::metadata(&root).is_ok_and(|m| m.uid() == uid)
        {
            pairs.insert((uid, root));
        }
    }
    pairs
        .into_iter()
        .filter_map(|(uid, root)| Some((user_of_uid(uid)?, root)))
        .collect()
}

/// Every account in /etc/passwd, with its home, from one read of the file (a lookup per
/// account would read it again each time; accounts only a directory service knows are found
/// through their running processes).
fn passwd_accounts() -> Vec<(u32, PathBuf)> {
    std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((f.get(2)?.parse().ok()?, PathBuf::from(f.get(5)?)))
        })
        .collect()
}

/// The view that acts on `c`: None for the caller's own cluster; for another user's, the
/// backend as them, with the state root the cluster was found under.
pub fn view_for(b: &Local, c: &Cluster) -> Option<Local> {
    let owner = c.owner.as_deref()?;
    if owner == b.ctx.user.name {
        return None;
    }
    let u = nix::unistd::User::from_name(owner).ok()??;
    let user = User {
        uid: u.uid.as_raw(),
        name: u.name,
    };
    let root = super::handle::handle(c)
        .ok()
        .and_then(|h| match &h.kind {
            super::handle::Kind::Own { dir, .. } => dir.path.parent()?.parent().map(PathBuf::from),
            _ => None,
        })
        .unwrap_or_else(|| u.dir.join(DEFAULT_ROOT));
    Some(view(b, user, root))
}
