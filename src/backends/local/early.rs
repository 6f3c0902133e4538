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
//!
//! Their schedulers are asked early too. The child's answer names each scheduler's address,
//! and asking it only then put a second round trip on the listing's critical path. So the
//! endpoints the last listing asked (`local-schedulers.tsv`: uid, pid, start, endpoint) are
//! asked as soon as the /proc pass shows the same process (pid, start time, owner) marked as a
//! scheduler and listening on that endpoint: kernel facts, never the file's word. An early
//! answer stands only where the state the child then reads names that very process and an
//! address it listens on at that endpoint (`discover::probe_theirs`); else it is dropped unused.

use super::Local;
use super::procfs::{self, ProcInfo};
use super::spawn::ENV_ROLE;
use crate::backends::User;
use crate::backends::owner::{self, OwnState};
use crate::dask::Probe;
use crate::error::Result;
use futures::FutureExt;
use futures::future::RemoteHandle;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest a child may take to read its user's state directories.
pub const WITHIN: Duration = Duration::from_secs(30);

/// A child's answer: the user's state directories, as they read them.
pub type States = RemoteHandle<Result<Vec<OwnState>>>;

/// A scheduler's status, asked before the state that names it was read.
pub type Asked = RemoteHandle<Probe>;

/// One scheduler a listing asked as root for another user: the process (pid, start time) and
/// the endpoint of it that was asked (`tcp://IP:PORT`, a socket it listened on).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub uid: u32,
    pub pid: i32,
    pub start: u64,
    pub endpoint: String,
}

/// What was started early for one user's view.
#[derive(Default)]
pub struct Ahead {
    /// Their child's answer: their state directories.
    pub states: Option<States>,
    /// Their schedulers, asked.
    pub asked: Vec<(Endpoint, Asked)>,
}

/// The children started, and the schedulers asked, before the listing knew whom it needs.
#[derive(Default)]
pub struct Early {
    started: Vec<(u32, PathBuf, States)>,
    /// The cache file's lines as read at the start (what `remember` compares against).
    pub hints: Vec<(User, PathBuf)>,
    /// The endpoints the last listing asked, as read at the start.
    pub endpoints: Vec<Endpoint>,
    asked: Vec<(Endpoint, Asked)>,
}

impl Early {
    /// A child for each (user, state root) the last listing read that the command's scope
    /// takes in; none unless this process can act as other users.
    pub fn start(b: &Local) -> Early {
        if !owner::can_switch() {
            return Early::default();
        }
        let me = &b.ctx.user;
        let cache_root = b.ctx.config.cache_root();
        let hints = hints(&cache_root, me.uid);
        let started = hints
            .iter()
            .filter(|(u, _)| u.uid != me.uid && b.ctx.scope.includes(&u.name, &me.name))
            .map(|(u, root)| (u.uid, root.clone(), read_ahead(u.clone(), root.clone())))
            .collect();
        Early {
            started,
            hints,
            endpoints: endpoints(&cache_root, me.uid),
            asked: Vec::new(),
        }
    }

    /// Asks, now, each scheduler the last listing asked for a user whose child was started
    /// here, where the /proc pass `all` shows that very process (pid, start time, owner),
    /// marked a scheduler, running, and listening on that endpoint.
    pub fn ask_ahead(&mut self, b: &Local, all: &[ProcInfo]) {
        for e in &self.endpoints {
            let ours = self.started.iter().any(|(uid, _, _)| *uid == e.uid);
            let live = all.iter().any(|p| {
                p.pid == e.pid
                    && p.start == e.start
                    && p.uid == e.uid
                    && !p.stopped()
                    && p.marker(ENV_ROLE) == Some("scheduler")
                    && p.listening
                        .iter()
                        .any(|(ip, port)| endpoint_of(false, *ip, *port) == e.endpoint)
            });
            if ours && live {
                let (ctx, target) = (b.ctx.clone(), e.endpoint.clone());
                let (work, asked) = async move { ctx.prober.status(&target).await }.remote_handle();
                tokio::spawn(work);
                self.asked.push((e.clone(), asked));
            }
        }
    }

    /// What was started for `uid` under `root`: their child's answer, their schedulers asked.
    pub fn take(&mut self, uid: u32, root: &Path) -> Ahead {
        let states = self
            .started
            .iter()
            .position(|(u, r, _)| *u == uid && r == root)
            .map(|i| self.started.swap_remove(i).2);
        let (asked, rest) = std::mem::take(&mut self.asked)
            .into_iter()
            .partition(|(e, _)| e.uid == uid);
        self.asked = rest;
        Ahead { states, asked }
    }
}

/// Starts reading `user`'s state directories under `root` as them: the child is spawned now,
/// before the caller goes on to read /proc; its answer is awaited with the listing.
fn read_ahead(user: User, root: PathBuf) -> States {
    let started = owner::start_states(&owner::Owner { user, root });
    let (work, handle) =
        async move { owner::states_answered(started?, WITHIN).await }.remote_handle();
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
    keep(&cache_root, &file(&cache_root), &text);
}

/// Writes one of these cache files (in the caller's private cache directory), without fsync.
fn keep(cache_root: &Path, file: &Path, text: &str) {
    if crate::safefile::create_private_dir(cache_root).is_ok() {
        let _ = crate::safefile::replace(file, text.as_bytes());
    }
}

fn endpoints_file(cache_root: &Path) -> PathBuf {
    cache_root.join("local-schedulers.tsv")
}

/// The address to ask a socket listening on `ip`:`port` at (`tls`: with TLS).
pub fn endpoint_of(tls: bool, ip: std::net::IpAddr, port: u16) -> String {
    let scheme = if tls { "tls" } else { "tcp" };
    match procfs::reach(ip) {
        std::net::IpAddr::V6(v6) => format!("{scheme}://[{v6}]:{port}"),
        v4 => format!("{scheme}://{v4}:{port}"),
    }
}

/// `uid<TAB>pid<TAB>start<TAB>endpoint` lines of the caller's own cache file.
fn endpoints(cache_root: &Path, me: u32) -> Vec<Endpoint> {
    let text = crate::safefile::read_to_string(&endpoints_file(cache_root), Some(me), 1 << 16)
        .unwrap_or_default();
    text.lines().filter_map(endpoint_line).collect()
}

fn endpoint_line(line: &str) -> Option<Endpoint> {
    let mut f = line.split('\t');
    let e = Endpoint {
        uid: f.next()?.parse().ok()?,
        pid: f.next()?.parse().ok()?,
        start: f.next()?.parse().ok()?,
        endpoint: f.next()?.to_string(),
    };
    (f.next().is_none() && e.endpoint.starts_with("tcp://")).then_some(e)
}

/// Keeps the endpoints this listing asked (`asked`) for the next one, and those of the users
/// it did not read (`read`) whose process still runs (`all`); written only when it changes,
/// without fsync (a cache).
pub fn remember_endpoints(
    b: &Local,
    before: &[Endpoint],
    asked: &[Endpoint],
    read: &[u32],
    all: &[ProcInfo],
) {
    if !owner::can_switch() {
        return;
    }
    let runs = |e: &Endpoint| {
        all.iter()
            .any(|p| p.pid == e.pid && p.start == e.start && p.uid == e.uid)
    };
    let mut after: Vec<Endpoint> = before
        .iter()
        .filter(|e| !read.contains(&e.uid) && runs(e))
        .chain(asked)
        .cloned()
        .collect();
    after.sort();
    after.dedup();
    if after == before {
        return;
    }
    let text: String = after
        .iter()
        .map(|e| format!("{}\t{}\t{}\t{}\n", e.uid, e.pid, e.start, e.endpoint))
        .collect();
    let cache_root = b.ctx.config.cache_root();
    keep(&cache_root, &endpoints_file(&cache_root), &text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_line_is_a_tcp_endpoint_of_a_process() {
        let e = endpoint_line("1001\t4242\t777\ttcp://127.0.0.1:8786").unwrap();
        assert_eq!((e.uid, e.pid, e.start), (1001, 4242, 777));
        assert_eq!(e.endpoint, "tcp://127.0.0.1:8786");
        for bad in [
            "",
            "1001\t4242\t777",
            "x\t4242\t777\ttcp://127.0.0.1:1",
            "1001\t4242\t777\ttls://127.0.0.1:1",
            "1001\t4242\t777\ttcp://127.0.0.1:1\textra",
        ] {
            assert!(endpoint_line(bad).is_none(), "{bad:?}");
        }
        let v6 = "::1".parse().unwrap();
        assert_eq!(endpoint_of(false, v6, 9), "tcp://[::1]:9");
        let any = "0.0.0.0".parse().unwrap();
        assert_eq!(endpoint_of(true, any, 9), "tls://127.0.0.1:9");
    }

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
