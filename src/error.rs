//! One error type for the whole program; every backend maps its failures into it.
//! Each kind carries the process exit code that `main` returns.

use std::process::ExitCode;

/// Exit codes; documented in the README ("Exit codes").
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NOT_FOUND: u8 = 3;
    pub const PARTIAL: u8 = 4;
    pub const REFUSED: u8 = 5;
    /// Ctrl-C or SIGTERM (128 + SIGINT, as shells report it): what the command had started
    /// was stopped again.
    pub const INTERRUPTED: u8 = 130;
}

/// How reaching a Dask server failed. Status classification depends on it: nothing listening
/// (`Refused`) means the scheduler is gone; a timeout only that it did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeFault {
    /// Probing is off (`--no-probe`), or the address is beyond what `loopback_only` allows.
    Disabled,
    /// Connection refused: nothing listens at the address.
    Refused,
    /// The network could not reach the host (no route, unknown host, ...).
    Unreachable,
    /// No connection, greeting or reply within the deadline.
    Timeout,
    /// The TLS handshake failed (certificate, versions, ...).
    Tls,
    /// The port speaks TLS and daskctl spoke plain TCP to it.
    SpeaksTls,
    /// Something answered that is not a Dask server (HTTP, garbage, an implausible frame).
    NotDask,
    /// The peer closed or reset the connection.
    Closed,
}

/// What a cloud or cluster API (EC2, the Kubernetes API server) said of a call that failed;
/// it decides the exit code, so nothing reads the message to find out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiFault {
    /// The object is not there (EC2 `*.NotFound`, Kubernetes 404).
    NotFound,
    /// The request was invalid: the user's input (EC2 `InvalidParameter*`, Kubernetes 400/422).
    Invalid,
    /// Anything else: permissions, throttling, a server error, the network.
    Other,
}

/// The error an SDK returned, kept as the `source` of daskctl's own.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input from the user: names, counts, flags, config.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NotFound(String),
    /// The cluster listed is gone and another has its name (its instance id differs, checked
    /// under its lock right before a destructive step): nothing was done (exit 3).
    #[error("{0}")]
    Replaced(String),
    /// A name that matches more than one cluster; the candidates in their qualified form.
    #[error("cluster name {query:?} is ambiguous; use one of: {}", candidates.join(", "))]
    Ambiguous {
        query: String,
        candidates: Vec<String>,
    },
    /// Some of the work succeeded and some failed (one backend of many, one cluster of many).
    #[error("{0}")]
    Partial(String),
    /// There was no terminal to ask and no `--yes`.
    #[error("{0}")]
    Refused(String),
    /// The person asked said no: an answer, not an error (printed as it is, exit 5).
    #[error("{0}")]
    Declined(String),
    /// The peer did not speak the Dask protocol, or answered with an error.
    #[error("{0}")]
    Protocol(String),
    #[error("{0}")]
    Timeout(String),
    /// Reaching a Dask server failed; `fault` says how.
    #[error("{message}")]
    Probe { fault: ProbeFault, message: String },
    /// The command was interrupted (Ctrl-C, SIGTERM) and rolled back what it had started.
    #[error("{0}")]
    Interrupted(String),
    /// A backend's tool or API failed.
    #[error("{backend}: {message}")]
    Backend { backend: String, message: String },
    /// A cloud or cluster API call failed; `source` is the SDK's error, `code` the API's own
    /// error code when it gave one.
    #[error("{backend}: {message}")]
    Api {
        backend: &'static str,
        fault: ApiFault,
        code: Option<String>,
        message: String,
        #[source]
        source: BoxError,
    },
    /// The backend's service itself cannot answer (a Slurm controller down, an API server
    /// unreachable): asking again in another form would only wait again.
    #[error("{backend}: {message}")]
    Unavailable { backend: String, message: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Ambiguous { .. } => exit::USAGE,
            Error::NotFound(_)
            | Error::Replaced(_)
            | Error::Api {
                fault: ApiFault::NotFound,
                ..
            } => exit::NOT_FOUND,
            Error::Api {
                fault: ApiFault::Invalid,
                ..
            } => exit::USAGE,
            Error::Partial(_) => exit::PARTIAL,
            Error::Refused(_) | Error::Declined(_) => exit::REFUSED,
            Error::Interrupted(_) => exit::INTERRUPTED,
            _ => exit::FAILURE,
        }
    }

    /// The cluster `qualified` listed (instance `was`) was deleted and created again under its
    /// name (instance `is`) before a destructive step: nothing is done to the new one.
    pub fn replaced(qualified: &str, was: &str, is: &str) -> Self {
        Error::Replaced(format!(
            "{qualified} is not the cluster that was listed (instance {was}): it was deleted and \
             created again (instance {is}) meanwhile; nothing done"
        ))
    }

    /// Another command deleted the cluster while this one waited for its lock.
    pub fn deleted_meanwhile(qualified: &str) -> Self {
        Error::NotFound(format!(
            "{qualified} was deleted meanwhile, by another command"
        ))
    }

    pub fn backend(backend: &str, message: impl Into<String>) -> Self {
        Error::Backend {
            backend: backend.to_string(),
            message: message.into(),
        }
    }

    /// A name matching several clusters; the candidates sorted.
    pub fn ambiguous(query: &str, candidates: &[String]) -> Self {
        let mut candidates = candidates.to_vec();
        candidates.sort();
        Error::Ambiguous {
            query: query.to_string(),
            candidates,
        }
    }

    pub fn probe(fault: ProbeFault, message: impl Into<String>) -> Self {
        Error::Probe {
            fault,
            message: message.into(),
        }
    }

    /// How a probe failed, if this is a probe failure.
    pub fn probe_fault(&self) -> Option<ProbeFault> {
        match self {
            Error::Probe { fault, .. } => Some(*fault),
            _ => None,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<Error> for ExitCode {
    fn from(e: Error) -> Self {
        ExitCode::from(e.exit_code())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach a context string to I/O results.
pub trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(context(), e))
    }
}
