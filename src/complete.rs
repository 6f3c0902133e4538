//! Dynamic shell completion: clap_complete's engine (`COMPLETE=SHELL daskctl -- WORDS...`)
//! completes verbs, flags and enums from the command definition, and calls these functions for
//! the values only daskctl knows: cluster names, backend names, worker names. Each TAB runs
//! the binary once, so every shell (bash, zsh, fish, powershell, elvish) gets the same answers.
//!
//! Cluster names come from the names cache every discovery refreshes; when it is stale, a
//! discovery bounded by `STALE_BUDGET` (no probes) refreshes it, and a backend that does not
//! answer in time contributes the names it had. Completion never waits longer than that.

use crate::backends::{self, Backend};
use crate::discovery::cache;
use clap_complete::engine::CompletionCandidate;
use std::ffi::OsStr;
use std::sync::Arc;
use std::time::Duration;

/// The longest a completion waits on backends (a person is waiting at the prompt).
pub const STALE_BUDGET: Duration = Duration::from_millis(300);

/// The environment variable that turns a run into a completion request.
pub const VAR: &str = "COMPLETE";

/// The shells daskctl completes in, as clap_complete's engine names them.
pub fn shell_name(shell: clap_complete::Shell) -> &'static str {
    match shell {
        clap_complete::Shell::Bash => "bash",
        clap_complete::Shell::Zsh => "zsh",
        clap_complete::Shell::Fish => "fish",
        clap_complete::Shell::PowerShell => "powershell",
        clap_complete::Shell::Elvish => "elvish",
        _ => "bash",
    }
}

/// The script a shell sources once: it calls `daskctl` (found on PATH) on every TAB.
pub fn registration(shell: clap_complete::Shell) -> String {
    let shells = clap_complete::env::Shells::builtins();
    let completer = shells
        .completer(shell_name(shell))
        .expect("a built-in shell");
    let mut buf = Vec::new();
    completer
        .write_registration(VAR, "daskctl", "daskctl", "daskctl", &mut buf)
        .expect("writing to memory");
    String::from_utf8(buf).expect("utf-8")
}

/// Answers a completion request and exits, if this run is one (`COMPLETE` set); else returns.
pub fn serve_if_asked() {
    use clap::CommandFactory;
    clap_complete::CompleteEnv::with_factory(crate::cli::Cli::command)
        .var(VAR)
        .bin("daskctl")
        .completer("daskctl")
        .complete();
}

fn starts_with(current: &OsStr) -> impl Fn(&str) -> bool + '_ {
    move |s: &str| s.starts_with(current.to_str().unwrap_or(""))
}

/// `names` that extend what was typed, sorted, each once.
fn candidates(mut names: Vec<String>, current: &OsStr) -> Vec<CompletionCandidate> {
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| starts_with(current)(n))
        .map(CompletionCandidate::new)
        .collect()
}

/// A runtime for one completion's lookups (None: completion offers nothing).
fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()
}

/// Backend names, each with what it is.
pub fn backend_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let ctx = crate::context(None, true, Default::default())
        .ok()
        .map(|(c, _)| c);
    backends::registered()
        .into_iter()
        .filter(|r| starts_with(current)(r.name))
        .map(|r| {
            let about = ctx
                .as_ref()
                .map(|ctx| (r.build)(ctx.clone()).capabilities().description);
            CompletionCandidate::new(r.name).help(about.map(Into::into))
        })
        .collect()
}

/// Cluster names and BACKEND/NAME forms: from a fresh cache, else from a bounded discovery.
pub fn cluster_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let Ok((ctx, _)) = crate::context(None, true, Default::default()) else {
        return Vec::new();
    };
    let root = ctx.config.cache_root();
    let names = if cache::is_fresh(&root) {
        cache::load(&root)
    } else {
        bounded_discovery(&ctx)
    };
    candidates(names, current)
}

/// Every enabled backend's discovery at once, each cut off at `STALE_BUDGET`: the names of
/// those that answered (stored in the cache for the next TAB), and the cached ones of the others.
fn bounded_discovery(ctx: &Arc<backends::Context>) -> Vec<String> {
    let Some(rt) = runtime() else {
        return Vec::new();
    };
    let root = ctx.config.cache_root();
    let enabled = crate::discovery::enabled_backends(ctx, &[]).unwrap_or_default();
    let answers: Vec<(String, Option<Vec<crate::model::Cluster>>)> = rt.block_on(
        futures::future::join_all(enabled.iter().map(|b: &Arc<dyn Backend>| async move {
            let found = tokio::time::timeout(STALE_BUDGET, b.discover()).await;
            (b.name().to_string(), found.ok().and_then(|r| r.ok()))
        })),
    );
    let mut names = Vec::new();
    let mut answered = Vec::new();
    let mut found = Vec::new();
    for (backend, clusters) in answers {
        match clusters {
            Some(v) => {
                answered.push(backend);
                found.extend(v);
            }
            None => names.extend(cache::names_of_any_age(&root, &backend)),
        }
    }
    cache::store_backends(&root, &found, &answered);
    names.extend(found.iter().flat_map(|c| [c.name.clone(), c.qualified()]));
    names
}

/// `logs NAME --worker <TAB>`: the workers of NAME (the scheduler's names for them, the ids of
/// their jobs, pods or instances, the names of local worker processes), from one lookup bounded
/// by a second.
pub fn worker_names(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(name) = logs_cluster_on_command_line() else {
        return Vec::new();
    };
    let Ok((ctx, _)) = crate::context(None, true, Default::default()) else {
        return Vec::new();
    };
    let Some(rt) = runtime() else {
        return Vec::new();
    };
    let lookup = crate::discovery::resolve::resolve(&ctx, &name, Duration::from_secs(1));
    let Ok(Ok((_, c))) =
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(1), lookup).await })
    else {
        return Vec::new();
    };
    let mut names: Vec<String> = c.worker_details.iter().map(|w| w.name.clone()).collect();
    for r in c
        .resources
        .iter()
        .filter(|r| r.role == crate::model::Role::Worker)
    {
        // a local worker is named, not numbered by its pid; a job, pod or instance by its id
        match r.kind {
            "process" => names.extend(r.name.clone()),
            _ => names.push(r.id.clone()),
        }
    }
    candidates(names, current)
}

/// The cluster a `logs` command line being completed names: the words after `--` without the
/// one being completed (and its `--worker`) parse as a whole `logs` command.
fn logs_cluster_on_command_line() -> Option<String> {
    use clap::Parser;
    let args: Vec<String> = std::env::args().collect();
    let start = args.iter().position(|a| a == "--")? + 1;
    let mut words = args[start..].to_vec();
    words.pop();
    if words.last().is_some_and(|w| w == "--worker") {
        words.pop();
    }
    match crate::cli::Cli::try_parse_from(words).ok()?.command {
        crate::cli::Command::Logs(a) => Some(a.name),
        _ => None,
    }
}
