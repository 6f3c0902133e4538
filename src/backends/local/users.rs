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
use std::collections::BTreeMap;
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

/// The accounts of this machine as one read of /etc/passwd gives them (a lookup per account
/// would read the file again each time, and ask every other NSS module); an account only a
/// directory service knows is looked up on its own, once asked for.
struct Accounts(Vec<(User, PathBuf)>);

impl Accounts {
    fn read() -> Accounts {
        let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        Accounts(text.lines().filter_map(passwd_line).collect())
    }

    fn by_uid(&self, uid: u32) -> Option<(User, PathBuf)> {
        if let Some(a) = self.0.iter().find(|(u, _)| u.uid == uid) {
            return Some(a.clone());
        }
        let u = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).ok()??;
        Some((User { uid, name: u.name }, u.dir))
    }

    fn by_name(&self, name: &str) -> Option<(User, PathBuf)> {
        if let Some(a) = self.0.iter().find(|(u, _)| u.name == name) {
            return Some(a.clone());
        }
        let u = nix::unistd::User::from_name(name).ok()??;
        let user = User {
            uid: u.uid.as_raw(),
            name: u.name,
        };
        Some((user, u.dir))
    }
}

/// `name:x:uid:gid:gecos:home:shell` as (user, home).
fn passwd_line(l: &str) -> Option<(User, PathBuf)> {
    let f: Vec<&str> = l.split(':').collect();
    let user = User {
        uid: f.get(2)?.parse().ok()?,
        name: f.first().filter(|n| !n.is_empty())?.to_string(),
    };
    Some((user, PathBuf::from(f.get(5)?)))
}

/// The (user, state root) pairs other than the caller's that the command's scope asks for:
/// users with Dask processes here, and named users (or, for `--all-users`, every account in
/// /etc/passwd) whose default state root exists.
/// `procs`: every user's Dask processes here (`procfs::scan_all`, the listing's one pass).
pub fn others(b: &Local, procs: &[procfs::ProcInfo]) -> Vec<(User, PathBuf)> {
    let me = &b.ctx.user;
    let scope = &b.ctx.scope;
    let accounts = Accounts::read();
    let wanted = |u: &User| u.uid != me.uid && scope.includes(&u.name, &me.name);
    // from their processes: theirs whatever directory it is
    let mut pairs: BTreeMap<(u32, PathBuf), User> = BTreeMap::new();
    for (uid, root) in procfs::owners_in(procs, ENV_HOME) {
        let Some((u, home)) = accounts.by_uid(uid) else {
            continue;
        };
        if wanted(&u) {
            let root = root.map_or_else(|| home.join(DEFAULT_ROOT), PathBuf::from);
            pairs.insert((uid, root), u);
        }
    }
    // the accounts named
    let named: Vec<(User, PathBuf)> = match scope {
        Scope::Mine => Vec::new(),
        Scope::Users(names) => names.iter().filter_map(|n| accounts.by_name(n)).collect(),
        Scope::Everyone => accounts.0.clone(),
    };
    // their default state root, for clusters with nothing running (stopped, leftovers): only
    // if they own it
    for (u, home) in named {
        let root = home.join(DEFAULT_ROOT);
        if u.uid != me.uid
            && root.join("local").is_dir()
            && std::fs::metadata(&root).is_ok_and(|m| m.uid() == u.uid)
        {
            pairs.insert((u.uid, root), u);
        }
    }
    pairs.into_iter().map(|((_, root), u)| (u, root)).collect()
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
