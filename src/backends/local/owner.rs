//! Acting for another user as that user. When root scales, deletes or reads the logs of
//! another user's local cluster (`--all-users`, `-u`, `serve --all-users`), the work runs in a
//! child: daskctl itself, re-executed with the hidden verb `__as-owner`, with that user's
//! supplementary groups, gid and uid set before `exec` (as `runuser` does) and their state root.
//! The kernel then enforces what the work may touch: their files opened, written and removed
//! with their rights, their processes signalled with their rights, their workers started as
//! them. The child runs the very code the user's own daskctl runs (`lifecycle/as_owner.rs`) and
//! answers over a pipe: JSON lines, log lines as they come, the outcome last.

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

/// What the child is asked to do to its user's cluster `name`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    Delete {
        name: String,
        timeout_ms: u64,
    },
    Scale {
        name: String,
        target: u32,
        wait: bool,
        timeout_ms: u64,
        group: Option<String>,
        retire_first: Vec<String>,
    },
    Logs {
        name: String,
        scheduler_only: bool,
        worker: Option<String>,
        tail: Option<usize>,
        follow: bool,
    },
}

/// One line of the child's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Reply {
    Line { source: String, line: String },
    Scaled(ScaleReport),
    Done,
    Failed { code: u8, message: String },
}

/// Whether this process can act as another user (it runs as root).
pub fn can_switch() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs `req` as `user` with state under `root`; log lines go to `sink`.
pub async fn run(
    user: &User,
    root: PathBuf,
    req: &Request,
    within: Option<Duration>,
    sink: Option<&mut dyn LogSink>,
) -> Result<Option<ScaleReport>> {
    let fail = |m: String| Error::backend("local", format!("acting as user {}: {m}", user.name));
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
        .env("DASKCTL_STATE_DIR", &root)
        .env("NO_COLOR", "1")
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
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
    let mut child = cmd.spawn().map_err(|e| fail(e.to_string()))?;
    let mut stdin = child.stdin.take().expect("piped");
    let text = serde_json::to_vec(req).expect("a request serialises");
    stdin
        .write_all(&text)
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
                Ok(Reply::Scaled(r)) => outcome = Some(Ok(Some(r))),
                Ok(Reply::Done) => outcome = Some(Ok(None)),
                Ok(Reply::Failed { code, message }) => outcome = Some(Err(error(code, message))),
                Err(e) => tracing::debug!("as user {}: unreadable line ({e})", user.name),
            }
        }
        outcome
    };
    let outcome = match within {
        Some(t) => tokio::time::timeout(t, answered).await.map_err(|_| {
            Error::Timeout(format!(
                "acting as user {}: no answer within {t:?}",
                user.name
            ))
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

/// The environment the child keeps: daskctl's settings (not the files that are the caller's:
/// state, cache, config), and the locale and path.
fn passed_on(key: &str) -> bool {
    match key {
        "DASKCTL_STATE_DIR" | "DASKCTL_CACHE_DIR" | "DASKCTL_CONFIG" => false,
        "PATH" | "LANG" | "LC_ALL" | "TZ" => true,
        k => k.starts_with("DASKCTL_"),
    }
}

/// The error a child's exit code and message stand for.
pub fn error(code: u8, message: String) -> Error {
    match code {
        exit::USAGE => Error::Usage(message),
        exit::NOT_FOUND => Error::NotFound(message),
        exit::PARTIAL => Error::Partial(message),
        exit::REFUSED => Error::Refused(message),
        exit::INTERRUPTED => Error::Interrupted(message),
        _ => Error::Backend {
            backend: "local".into(),
            message,
        },
    }
}

/// The request for `scale` of `c`.
pub fn scale_request(c: &Cluster, req: &ScaleRequest) -> Request {
    Request::Scale {
        name: c.name.clone(),
        target: req.target,
        wait: req.wait,
        timeout_ms: req.timeout.as_millis() as u64,
        group: req.group.clone(),
        retire_first: req.retire_first.clone(),
    }
}

/// The request for `logs` of `c`.
pub fn logs_request(c: &Cluster, req: &LogRequest) -> Request {
    Request::Logs {
        name: c.name.clone(),
        scheduler_only: req.scheduler_only,
        worker: req.worker.clone(),
        tail: req.tail,
        follow: req.follow,
    }
}
