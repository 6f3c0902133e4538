//! daskctl on a pseudo-terminal, as a person runs it: what needs a terminal (prompts, `list
//! --watch` redrawing in place, progress) is tested through a real pty, with Ctrl-C typed into
//! it so the terminal's line discipline sends SIGINT as it would.

use super::Env;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Pty {
    child: Child,
    master: std::fs::File,
    /// Everything the program wrote to the terminal so far (stdout and stderr interleaved).
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Env {
    /// Runs daskctl ARGS on a new terminal (see `Pty::spawn`).
    pub fn pty(&self, args: &[&str]) -> Pty {
        Pty::spawn(self.command(args))
    }

    /// An interactive `program ARGS` (a shell) on a new terminal, with this test's daskctl
    /// environment and the daskctl under test first on PATH.
    pub fn shell_pty(&self, program: &str, args: &[&str]) -> Pty {
        let daskctl = self.command(&[]);
        let mut c = std::process::Command::new(program);
        for (k, v) in daskctl.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_daskctl"))
            .parent()
            .unwrap();
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        c.args(args)
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("TERM", "xterm");
        Pty::spawn(c)
    }
}

impl Pty {
    /// Runs `c` with stdin, stdout and stderr on a new terminal (120x40), as the session
    /// leader with it as its controlling terminal.
    pub fn spawn(mut c: std::process::Command) -> Pty {
        let size = nix::pty::Winsize {
            ws_row: 40,
            ws_col: 120,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let p = nix::pty::openpty(Some(&size), None).expect("openpty");
        let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup pty"));
        c.stdin(slave(&p.slave))
            .stdout(slave(&p.slave))
            .stderr(slave(&p.slave));
        // SAFETY: setsid and ioctl are async-signal-safe; nothing else runs between fork and exec
        unsafe {
            c.pre_exec(|| {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                if libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = c
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {:?} on a pty: {e}", c.get_program()));
        // only the child holds the terminal now: reading the master ends (EIO) when it exits
        drop(p.slave);
        let master = std::fs::File::from(p.master);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (mut reader, sink) = (master.try_clone().expect("dup master"), seen.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            child,
            master,
            seen,
        }
    }

    /// Everything shown so far, as text.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Waits until `ready` holds for what was shown, up to `timeout`; the text shown.
    pub fn expect(&self, what: &str, timeout: Duration, ready: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if ready(&s) {
                return s;
            }
            assert!(
                Instant::now() < end,
                "timed out after {timeout:?} waiting for {what}; the terminal shows:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `text` appears on the terminal.
    pub fn expect_text(&self, text: &str, timeout: Duration) -> String {
        self.expect(&format!("{text:?}"), timeout, |s| s.contains(text))
    }

    /// Types `text` (a line needs its "\n").
    pub fn send(&mut self, text: &str) {
        self.master.write_all(text.as_bytes()).expect("write pty");
    }

    /// Types Ctrl-C: the terminal sends SIGINT to the foreground process group.
    pub fn ctrl_c(&mut self) {
        self.send("\x03");
    }

    /// Waits for the exit, up to `timeout` (then kills it and fails); the exit code and all
    /// that was shown.
    pub fn wait(mut self, timeout: Duration) -> (i32, String) {
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().expect("wait daskctl") {
                // what it wrote just before exiting may still be in flight from the master:
                // read until the terminal closes (processes it started and left running may
                // hold it open; then what arrived within 2 s)
                let closed = Instant::now() + Duration::from_secs(2);
                while Arc::strong_count(&self.seen) > 1 && Instant::now() < closed {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return (st.code().unwrap_or(-1), self.screen());
            }
            if Instant::now() >= end {
                let _ = self.child.kill();
                panic!(
                    "daskctl did not exit within {timeout:?}; the terminal shows:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
