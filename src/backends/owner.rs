//! Acting for another user as that user. When root scales, deletes, reads the logs of or sets
//! the adaptive policy of another user's local or batch cluster (`--all-users`, `-u`, `serve
//! --all-users`), the work runs in a child: daskctl itself, re-executed with the hidden verb
//! `__as-owner`, with that user's supplementary groups, gid and uid set before `exec` (as
//! `runuser` does) and their state root. The kernel then enforces what the work may touch:
//! their files opened, written and removed with their rights, their processes signalled and
//! their jobs submitted and cancelled with their rights, their workers started as them. The
//! child runs the very code the user's own daskctl runs (`lifecycle/as_owner.rs`) and answers
//! over a pipe: JSON lines, log lines as they come, the outcome last.
//!
//! Which backends act this way is theirs to say (`Backend::acting_owner`): those whose
//! resources are the user's processes, files and jobs on this machine. Cloud and Kubernetes
//! resources are acted on with the caller's own credentials, which their APIs judge.

use crate::backends::{LogRequest, LogSink, ScaleReport, ScaleRequest, User};
use crate::error::{Error, Result, exit};
use crate::model::Cluster;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// The hidden verb the child runs.
pub const VERB: &str = "__as-owner";

/// Whom to become for a cluster, and the state root their daskctl uses for it.
#[derive(Debug, Clone)]
pub struct Owner {
    pub user: User,
    pub root: PathBuf,
}

impl Owner {
    /// The owner of `c` when root acts on it for someone else: None for the caller's own
    /// cluster, or when this process cannot switch users. Their default state root.
    pub fn of(c: &Cluster, me: &User) -> Option<Owner> {
        if !can_switch() {
            return None;
        }
        let name = c.owner.as_deref()?;
        if name == me.name {
            return None;
        }
        let u = nix::unistd::User::from_name(name).ok()??;
        if u.uid.as_raw() == me.uid {
            return None;
        }
        Some(Owner {
            root: u.dir.join(".local/state/daskctl"),
            user: User {
                uid: u.uid.as_raw(),
                name: u.name,
            },
        })
    }
}

/// What the child is asked to do to its user's cluster `backend/name` (no name: to read its
/// state directories).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub backend: String,
    pub name: Option<String>,
    pub action: Action,
}

/// One of the user's local state directories as the user read it: its state and its policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnState {
    pub name: String,
    pub state: std::result::Result<
        Option<crate::backends::local::state::ClusterState>,
        crate::backends::local::state::Unusable,
    >,
    pub policy: std::result::Result<crate::policy::Policy, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    Delete {
        timeout_ms: u64,
    },
    Scale {
        target: u32,
        wait: bool,
        timeout_ms: u64,
        group: Option<String>,
        retire_first: Vec<String>,
    },
    Logs {
        scheduler_only: bool,
        worker: Option<String>,
        tail: Option<usize>,
        follow: bool,
    },
    /// Stores (or, with None, removes) the cluster's adaptive policy.
    Adapt {
        adapt: Option<crate::policy::Adapt>,
    },
    /// Ends the policy that sizes `group`, if one does (an explicit size was asked for).
    EndAdapt {
        group: Option<String>,
    },
    /// Reads the user's local state directories (under their state root), for root's listing.
    States,
    /// One `reconcile` pass over the cluster (`yes`: its policy may end it).
    Reconcile {
        yes: bool,
    },
}

/// One line of the child's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Reply {
    Line { source: String, line: String },
    Scaled(ScaleReport),
    Said(String),
    Ended(bool),
    States(Vec<OwnState>),
    Reconciled(Option<ActionWire>),
    Done,
    Failed { code: u8, message: String },
}

/// What the child answered last.
pub enum Outcome {
    Scaled(ScaleReport),
    Said(String),
    Ended(bool),
    States(Vec<OwnState>),
    Reconciled(Option<ActionWire>),
    Done,
}

/// Whether this process can act as another user (it runs as root).
pub fn can_switch() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Makes `cmd` run with `uid`, `gid` and `groups` (as `runuser` does).
fn become_user(
    cmd: &mut tokio::process::Command,
    groups: Vec<libc::gid_t>,
    gid: libc::gid_t,
    uid: libc::uid_t,
) {
    // SAFETY: setgroups, setresgid and setresuid are async-signal-safe system calls; nothing
    // else runs between fork and exec. Groups first, then gid, then uid (after which none of
    // the others would be allowed).
    unsafe {
        cmd.pre_exec(move || {
            let failed = |r: libc::c_int| {
                if r == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            };
            failed(libc::setgroups(groups.len(), groups.as_ptr()))?;
            failed(libc::setresgid(gid, gid, gid))?;
            failed(libc::setresuid(uid, uid, uid))
        });
    }
}

/// The text (its first `max` bytes) of a file a resource of user `name` names (a job's scheduler
/// file, its output, the script it runs): a claim of theirs, read with their rights only. The
/// caller's own: read here, a regular file of theirs, no link followed. Another user's, as
/// root: by `head` running as that user (their uid, gid and groups), so the kernel decides what
/// they may read; bounded in time (a FIFO never answers). Anyone else's: not read.
pub async fn read_as(name: &str, me: &User, path: &std::path::Path, max: u64) -> Option<String> {
    if name.is_empty() || name == me.name {
        let bytes = crate::safefile::read_head(path, Some(me.uid), max).ok()?;
        return Some(String::from_utf8_lossy(&bytes).into_owned());
    }
    if !can_switch() {
        return None;
    }
    let pw = nix::unistd::User::from_name(name).ok()??;
    let cname = std::ffi::CString::new(pw.name.clone()).ok()?;
    let groups: Vec<libc::gid_t> = nix::unistd::getgrouplist(&cname, pw.gid)
        .ok()?
        .into_iter()
        .map(|g| g.as_raw())
        .collect();
    let mut cmd = tokio::process::Command::new("head");
    cmd.arg("-c")
        .arg(max.to_string())
        .arg("--")
        .arg(path)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    become_user(&mut cmd, groups, pw.gid.as_raw(), pw.uid.as_raw());
    let out = tokio::time::timeout(Duration::from_secs(5), cmd.output())
        .await
        .ok()?
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `req` as `owner`; log lines go to `sink`.
pub async fn run(
    owner: &Owner,
    req: &Request,
    within: Option<Duration>,
    sink: Option<&mut dyn LogSink>,
) -> Result<Outcome> {
    let started = start(owner, req)?;
    answer(started, within, sink).await
}

/// A child started as its owner, its request not yet written.
pub struct Started {
    child: tokio::process::Child,
    request: Vec<u8>,
    user: String,
    backend: String,
}

/// Starts the child that runs `req` as `owner` (their groups, gid and uid; their state root).
/// Synchronous: a listing starts it before its own pass over /proc (`local/early.rs`), so its
/// exec overlaps that work.
pub fn start(owner: &Owner, req: &Request) -> Result<Started> {
    let (user, root) = (&owner.user, &owner.root);
    let fail =
        |m: String| Error::backend(&req.backend, format!("acting as user {}: {m}", user.name));
    let pw = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(user.uid))
        .ok()
        .flatten()
        .ok_or_else(|| fail("no such user".into()))?;
    let name = std::ffi::CString::new(pw.name.clone()).map_err(|e| fail(e.to_string()))?;
    let groups: Vec<libc::gid_t> = nix::unistd::getgrouplist(&name, pw.gid)
        .map_err(|e| fail(format!("their groups: {e}")))?
        .into_iter()
        .map(|g| g.as_raw())
        .collect();
    let (uid, gid) = (pw.uid.as_raw(), pw.gid.as_raw());
    let exe = std::env::current_exe().map_err(|e| fail(e.to_string()))?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg(VERB)
        .env_clear()
        .envs(std::env::vars_os().filter(|(k, _)| passed_on(&k.to_string_lossy())))
        .env("HOME", &pw.dir)
        .env("USER", &pw.name)
        .env("LOGNAME", &pw.name)
        .env("DASKCTL_STATE_DIR", root)
        .env("NO_COLOR", "1")
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    become_user(&mut cmd, groups, gid, uid);
    let child = cmd.spawn().map_err(|e| fail(e.to_string()))?;
    Ok(Started {
        child,
        request: serde_json::to_vec(req).expect("a request serialises"),
        user: user.name.clone(),
        backend: req.backend.clone(),
    })
}

/// Writes the request to the child `start` made and reads its answer: log lines to `sink`,
/// the outcome last, within `within`.
pub async fn answer(
    mut started: Started,
    within: Option<Duration>,
    sink: Option<&mut dyn LogSink>,
) -> Result<Outcome> {
    let (user, backend) = (&started.user, &started.backend);
    let fail = |m: String| Error::backend(backend, format!("acting as user {user}: {m}"));
    let child = &mut started.child;
    let mut stdin = child.stdin.take().expect("piped");
    stdin
        .write_all(&started.request)
        .await
        .map_err(|e| fail(e.to_string()))?;
    drop(stdin);
    let stdout = child.stdout.take().expect("piped");
    let answered = async {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let mut sink = sink;
        let mut outcome = None;
        while let Ok(Some(l)) = lines.next_line().await {
            match serde_json::from_str::<Reply>(&l) {
                Ok(Reply::Line { source, line }) => {
                    if let Some(s) = sink.as_deref_mut() {
                        s.line(&source, &line);
                    }
                }
                Ok(Reply::Scaled(r)) => outcome = Some(Ok(Outcome::Scaled(r))),
                Ok(Reply::Said(s)) => outcome = Some(Ok(Outcome::Said(s))),
                Ok(Reply::Ended(e)) => outcome = Some(Ok(Outcome::Ended(e))),
                Ok(Reply::States(v)) => outcome = Some(Ok(Outcome::States(v))),
                Ok(Reply::Reconciled(a)) => outcome = Some(Ok(Outcome::Reconciled(a))),
                Ok(Reply::Done) => outcome = Some(Ok(Outcome::Done)),
                Ok(Reply::Failed { code, message }) => {
                    outcome = Some(Err(error(backend, code, message)))
                }
                Err(e) => tracing::debug!("as user {user}: unreadable line ({e})"),
            }
        }
        outcome
    };
    let outcome = match within {
        Some(t) => tokio::time::timeout(t, answered).await.map_err(|_| {
            Error::Timeout(format!("acting as user {user}: no answer within {t:?}"))
        })?,
        None => answered.await,
    };
    let status = child.wait().await.map_err(|e| fail(e.to_string()))?;
    match outcome {
        Some(o) => o,
        None => {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use tokio::io::AsyncReadExt;
                let _ = e.read_to_string(&mut err).await;
            }
            Err(fail(format!(
                "no answer ({status}): {}",
                err.lines().next().unwrap_or("nothing said")
            )))
        }
    }
}

/// The environment the child keeps: daskctl's site settings (batch bin directories, probe
/// settings...), the locale and path; never the caller's own files (state, cache, config) or
/// per-user places (a batch backend's shared directory and interpreter): the child finds the
/// user's own, as their daskctl would (their config, their home).
fn passed_on(key: &str) -> bool {
    match key {
        "DASKCTL_STATE_DIR" | "DASKCTL_CACHE_DIR" | "DASKCTL_CONFIG" | "DASKCTL_PYTHON" => false,
        "PATH" | "LANG" | "LC_ALL" | "TZ" => true,
        k if k.ends_with("__SHARED_DIR") || k.ends_with("__PYTHON") => false,
        k => k.starts_with("DASKCTL_"),
    }
}

/// The error a child's exit code and message stand for.
pub fn error(backend: &str, code: u8, message: String) -> Error {
    match code {
        exit::USAGE => Error::Usage(message),
        exit::NOT_FOUND => Error::NotFound(message),
        exit::PARTIAL => Error::Partial(message),
        exit::REFUSED => Error::Refused(message),
        exit::INTERRUPTED => Error::Interrupted(message),
        _ => Error::Backend {
            backend: backend.into(),
            message,
        },
    }
}

/// `scale` of `c` as its owner.
pub async fn scale(o: &Owner, c: &Cluster, req: &ScaleRequest) -> Result<ScaleReport> {
    let action = Action::Scale {
        target: req.target,
        wait: req.wait,
        timeout_ms: req.timeout.as_millis() as u64,
        group: req.group.clone(),
        retire_first: req.retire_first.clone(),
    };
    let within = req.timeout + Duration::from_secs(60);
    match run(o, &request(c, action), Some(within), None).await? {
        Outcome::Scaled(r) => Ok(r),
        _ => Err(Error::backend(
            &c.backend,
            "the scale as its owner said nothing",
        )),
    }
}

/// `delete` of `c` as its owner.
pub async fn delete(o: &Owner, c: &Cluster, timeout: Duration) -> Result<()> {
    let action = Action::Delete {
        timeout_ms: timeout.as_millis() as u64,
    };
    let within = timeout + Duration::from_secs(60);
    run(o, &request(c, action), Some(within), None)
        .await
        .map(drop)
}

/// `logs` of `c` as its owner, into `sink`.
pub async fn logs(o: &Owner, c: &Cluster, req: &LogRequest, sink: &mut dyn LogSink) -> Result<()> {
    let action = Action::Logs {
        scheduler_only: req.scheduler_only,
        worker: req.worker.clone(),
        tail: req.tail,
        follow: req.follow,
    };
    // --follow runs until interrupted
    let within = (!req.follow).then_some(Duration::from_secs(120));
    run(o, &request(c, action), within, Some(sink))
        .await
        .map(drop)
}

/// Stores (None: removes) `c`'s adaptive policy as its owner; says who applies it.
pub async fn adapt(o: &Owner, c: &Cluster, adapt: Option<crate::policy::Adapt>) -> Result<String> {
    let within = Duration::from_secs(90);
    match run(o, &request(c, Action::Adapt { adapt }), Some(within), None).await? {
        Outcome::Said(s) => Ok(s),
        _ => Err(Error::backend(
            &c.backend,
            "the adapt as its owner said nothing",
        )),
    }
}

/// Ends the policy sizing `group` of `c` as its owner; whether one did.
pub async fn end_adapt(o: &Owner, c: &Cluster, group: Option<String>) -> Result<bool> {
    let within = Duration::from_secs(90);
    match run(
        o,
        &request(c, Action::EndAdapt { group }),
        Some(within),
        None,
    )
    .await?
    {
        Outcome::Ended(e) => Ok(e),
        _ => Err(Error::backend(
            &c.backend,
            "the adapt as its owner said nothing",
        )),
    }
}

/// What a reconcile pass as the owner did, as its child sends it back (`lifecycle/reconcile.rs`
/// makes it from its `Action` and back).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ActionWire {
    pub cluster: String,
    pub backend: String,
    pub workers: Option<u64>,
    pub target: Option<u64>,
    pub action: String,
    pub detail: String,
}

/// One reconcile pass over `c` as its owner; what it did (None: it has no policy).
pub async fn reconcile(o: &Owner, c: &Cluster, yes: bool) -> Result<Option<ActionWire>> {
    // a pass may delete the cluster (waiting until it is gone) or scale it
    let within = Duration::from_secs(300);
    match run(
        o,
        &request(c, Action::Reconcile { yes }),
        Some(within),
        None,
    )
    .await?
    {
        Outcome::Reconciled(a) => Ok(a),
        _ => Err(Error::backend(
            &c.backend,
            "the reconcile as its owner said nothing",
        )),
    }
}

/// The user's local state directories, read as them.
pub async fn states(o: &Owner, within: Duration) -> Result<Vec<OwnState>> {
    states_answered(start_states(o)?, within).await
}

/// Starts the child that reads `o`'s local state directories (`states_answered` reads them).
pub fn start_states(o: &Owner) -> Result<Started> {
    let req = Request {
        backend: "local".into(),
        name: None,
        action: Action::States,
    };
    start(o, &req)
}

/// What a child `start_states` started answers.
pub async fn states_answered(started: Started, within: Duration) -> Result<Vec<OwnState>> {
    match answer(started, Some(within), None).await? {
        Outcome::States(v) => Ok(v),
        _ => Err(Error::backend(
            "local",
            "reading the states as their owner said nothing",
        )),
    }
}

fn request(c: &Cluster, action: Action) -> Request {
    Request {
        backend: c.backend.clone(),
        name: Some(c.name.clone()),
        action,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_child_keeps_site_settings_not_the_callers_places() {
        for kept in [
            "DASKCTL_BACKENDS__PBS__BIN_DIR",
            "DASKCTL_PROBE_LOOPBACK_ONLY",
            "PATH",
        ] {
            assert!(passed_on(kept), "{kept}");
        }
        for dropped in [
            "DASKCTL_STATE_DIR",
            "DASKCTL_CONFIG",
            "DASKCTL_PYTHON",
            "DASKCTL_BACKENDS__SLURM__SHARED_DIR",
            "DASKCTL_BACKENDS__SGE__PYTHON",
            "HOME",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(!passed_on(dropped), "{dropped}");
        }
    }

    /// What a job of another user names is read with that user's rights: as root, their own
    /// file is read, and a file only root may read is not (whatever path they wrote). Needs
    /// root and the second user of scripts/testbeds/users.sh (DASKCTL_TEST_USERS).
    #[tokio::test]
    async fn another_users_claims_are_read_with_their_rights() {
        let Ok(Some(other)) = nix::unistd::User::from_name("daskctl-other") else {
            assert!(
                std::env::var_os("DASKCTL_TEST_USERS").is_none(),
                "DASKCTL_TEST_USERS is set but there is no user daskctl-other"
            );
            return;
        };
        if !can_switch() {
            return;
        }
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let theirs = dir.path().join("theirs.json");
        std::fs::write(&theirs, "{\"address\": \"tcp://127.0.0.1:1\"}").unwrap();
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o600)).unwrap();
        nix::unistd::chown(&theirs, Some(other.uid), Some(other.gid)).unwrap();
        let roots = dir.path().join("roots-secret");
        std::fs::write(&roots, "secret").unwrap();
        std::fs::set_permissions(&roots, std::fs::Permissions::from_mode(0o600)).unwrap();
        let me = User {
            uid: 0,
            name: "root".into(),
        };
        assert_eq!(
            read_as("daskctl-other", &me, &theirs, 1 << 10)
                .await
                .as_deref(),
            Some("{\"address\": \"tcp://127.0.0.1:1\"}")
        );
        assert_eq!(read_as("daskctl-other", &me, &roots, 1 << 10).await, None);
        // the caller's own: a file of theirs only, its first bytes
        assert_eq!(
            read_as("root", &me, &roots, 3).await.as_deref(),
            Some("sec")
        );
        assert_eq!(read_as("root", &me, &theirs, 1 << 10).await, None);
        assert_eq!(read_as("nosuchuser-x", &me, &theirs, 1 << 10).await, None);
    }
}
