//! Ctrl-C, SIGTERM and SIGHUP during a command that starts things (`create`, `scale`): once
//! installed, they no longer kill daskctl outright; the command notices, stops what it had
//! started, and exits with 130 (`error::exit::INTERRUPTED`).

use crate::error::{Error, Result};
use tokio::signal::unix::{Signal, SignalKind, signal};

pub struct Interrupts {
    int: Signal,
    term: Signal,
    hup: Signal,
}

impl Interrupts {
    /// Takes over the signals; call it before anything is started.
    pub fn install() -> Result<Interrupts> {
        let on =
            |k: SignalKind| signal(k).map_err(|e| Error::io("installing the signal handlers", e));
        Ok(Interrupts {
            int: on(SignalKind::interrupt())?,
            term: on(SignalKind::terminate())?,
            hup: on(SignalKind::hangup())?,
        })
    }

    /// Waits for the next interrupt; its name.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT (Ctrl-C)",
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
        }
    }

    /// Runs `work` unless an interrupt comes first: then `work` is dropped where it stands
    /// and the result is `Error::Interrupted` naming `what` and the signal.
    pub async fn guard<T>(
        &mut self,
        what: &str,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        tokio::select! {
            r = work => r,
            sig = self.recv() => Err(Error::Interrupted(format!("{what} interrupted by {sig}"))),
        }
    }
}
