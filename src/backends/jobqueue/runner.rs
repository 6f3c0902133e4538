//! Runs the batch system's tools: argument vectors only (never a shell), a deadline on every
//! call, and failures that carry the tool's own first error line.

use crate::error::{Error, Result};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// Exit status (-1 when killed by a signal).
    pub code: i32,
}

impl Output {
    /// The tool's first words: the first non-empty line of its stderr, else of its stdout.
    pub fn said(&self) -> Option<&str> {
        self.stderr
            .lines()
            .chain(self.stdout.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
    }
}

#[derive(Clone)]
pub struct Runner {
    pub backend: &'static str,
    pub timeout: Duration,
    /// Where the batch system's commands are, when not (first) on PATH.
    pub bin_dir: Option<std::path::PathBuf>,
    /// Exit statuses besides 0 that are not failures for this call.
    pub accept: Vec<i32>,
    /// The directory the command runs in (daskctl's own, by default).
    pub cwd: Option<std::path::PathBuf>,
    /// List every user's jobs (`--all-users`, `-u`), not only the caller's.
    pub everyone: bool,
    /// A lock the command inherits and so holds until it ends (`holding`).
    pub hold: Option<std::os::fd::RawFd>,
}

impl Runner {
    /// The same runner, also accepting these exit statuses.
    pub fn accepting(&self, codes: &[i32]) -> Runner {
        Runner {
            accept: codes.to_vec(),
            ..self.clone()
        }
    }

    /// The same runner, its commands inheriting `lock`: a submission keeps the cluster's lock
    /// for as long as it runs, even when daskctl itself is killed meanwhile, so that a `delete`
    /// that takes the lock sees every job that will ever be submitted under it. The caller
    /// keeps `lock` held while it uses the runner.
    pub fn holding(&self, lock: &crate::lockfile::Held) -> Runner {
        use std::os::fd::AsRawFd;
        Runner {
            hold: Some(lock.as_raw_fd()),
            ..self.clone()
        }
    }

    /// The same runner, running its commands in `dir` (submissions: what a batch system
    /// writes to the submitting directory lands there).
    pub fn in_dir(&self, dir: &std::path::Path) -> Runner {
        Runner {
            cwd: Some(dir.to_path_buf()),
            ..self.clone()
        }
    }
}

impl Runner {
    pub async fn run(&self, argv: &[String]) -> Result<Output> {
        self.run_with_input(argv, None).await
    }

    pub async fn run_with_input(&self, argv: &[String], input: Option<&str>) -> Result<Output> {
        let (prog, args) = argv.split_first().expect("non-empty argv");
        let mut cmd = match &self.bin_dir {
            Some(d) if !prog.contains('/') => Command::new(d.join(prog)),
            _ => Command::new(prog),
        };
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        cmd.args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(fd) = self.hold {
            // SAFETY: fcntl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let flags = libc::fcntl(fd, libc::F_GETFD);
                    if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let started = std::time::Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::backend(self.backend, format!("cannot run {prog}: {e}")))?;
        // whatever happens from here (a deadline, Ctrl-C, its end), nothing it started stays
        let _group = crate::subprocess::GroupGuard::new(child.id());
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            use tokio::io::AsyncWriteExt;
            stdin.write_all(text.as_bytes()).await.ok();
        }
        let out = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| {
                Error::Timeout(format!(
                    "{}: {prog} did not finish within {:?}",
                    self.backend, self.timeout
                ))
            })?
            .map_err(|e| Error::backend(self.backend, format!("{prog}: {e}")))?;
        // -vv: every command run, with its exit status and duration
        tracing::debug!(
            "{}: ran {} ({}, {} ms)",
            self.backend,
            argv.join(" "),
            out.status,
            started.elapsed().as_millis()
        );
        let o = Output {
            // a facility's queue listing is tens of megabytes: not copied when it is UTF-8
            stdout: String::from_utf8(out.stdout)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        };
        if out.status.success() || self.accept.contains(&o.code) {
            Ok(o)
        } else {
            let why = o.said().unwrap_or("no message").to_string();
            Err(Error::backend(
                self.backend,
                format!("{prog} failed ({}): {why}", out.status),
            ))
        }
    }
}

/// Whether a program is on PATH (no subprocess: availability checks must take microseconds).
pub fn on_path(prog: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
}

/// The absolute path of a program on PATH.
pub fn which(prog: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
}
