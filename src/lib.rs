//! daskctl: find, reconstruct, scale, show logs of and delete Dask clusters wherever they run.

#[cfg(test)]
pub mod arb;
pub mod backends;
pub mod cli;
pub mod compat;
pub mod complete;
pub mod config;
pub mod dask;
pub mod discovery;
pub mod error;
pub mod exposition;
pub mod groups;
pub mod host;
pub mod interrupt;
pub mod lifecycle;
pub mod lockfile;
pub mod model;
pub mod names;
pub mod policy;
pub mod pricing;
pub mod printer;
pub mod progress;
pub mod safefile;
pub mod serve;
pub mod settings;
pub mod spec;
pub mod subprocess;
pub mod units;
pub mod usage;

use backends::{Context, User};
use config::Config;
use dask::Prober;
use error::{Error, Result};
use lifecycle::App;
use printer::Printer;
use std::sync::Arc;
use std::time::Duration;

/// A command line clap refused: help and version print as clap prints them; anything else is
/// one line on stderr (the first of clap's message) and exit 2.
pub fn usage_error(e: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.use_stderr() {
                error::exit::USAGE
            } else {
                error::exit::OK
            }
        }
        _ => {
            let text = e.render().to_string();
            let mut lines = text.lines();
            let first = lines.next().unwrap_or("error: invalid arguments");
            let msg = first.strip_prefix("error: ").unwrap_or(first);
            // "the following required arguments were not provided:" names them on the next lines
            let named: Vec<&str> = if msg.ends_with(':') {
                lines
                    .take_while(|l| l.starts_with("  "))
                    .map(str::trim)
                    .collect()
            } else {
                Vec::new()
            };
            let msg = if named.is_empty() {
                msg.to_string()
            } else {
                format!("{} {}", msg, named.join(", "))
            };
            let help = corrections(&e);
            Printer.error(&format!("{msg}{help} (see --help)"));
            error::exit::USAGE
        }
    }
}

/// What clap knows that helps: the valid values, and the nearest subcommand, flag or value
/// (`; possible values: table, wide, ...; did you mean 'table'?`), on the one error line.
fn corrections(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let strings = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(v)) => v.clone(),
        _ => Vec::new(),
    };
    let mut out = String::new();
    let valid = strings(ContextKind::ValidValue);
    if !valid.is_empty() {
        out.push_str(&format!("; possible values: {}", valid.join(", ")));
    }
    let mut near: Vec<String> = Vec::new();
    for kind in [
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedArg,
        ContextKind::SuggestedValue,
    ] {
        for s in strings(kind) {
            if !near.contains(&s) {
                near.push(s);
            }
        }
    }
    if !near.is_empty() {
        let quoted: Vec<String> = near.iter().rev().map(|s| format!("'{s}'")).collect();
        out.push_str(&format!("; did you mean {}?", quoted.join(" or ")));
    }
    out
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: cli::Cli) -> u8 {
    init_tracing(cli.verbose);
    // kube's and the AWS SDK's TLS stacks bring a second rustls provider: pick ring, as ours
    let _ = rustls::crypto::ring::default_provider().install_default();
    let out = Printer;
    let verbose = cli.verbose;
    match run_inner(cli) {
        Ok(()) => error::exit::OK,
        Err(error::Error::Declined(msg)) => {
            out.info(&msg);
            error::exit::REFUSED
        }
        Err(e) => {
            out.error(&e.to_string());
            // -v: what the SDK or the system said underneath, one line per cause
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause.filter(|_| verbose > 0) {
                out.cause(&c.to_string());
                cause = c.source();
            }
            e.exit_code()
        }
    }
}

/// The cloud flags override the config file's (and `DASKCTL_*` variables') settings.
fn apply_cloud_flags(cloud: &cli::CloudArgs, config: &mut Config) {
    let text = |v: &String| toml::Value::String(v.clone());
    if !cloud.regions.is_empty() {
        let regions = cloud.regions.iter().map(text).collect();
        config.set_backend_value("aws", "regions", toml::Value::Array(regions));
    }
    if let Some(p) = &cloud.profile {
        config.set_backend_value("aws", "profile", text(p));
    }
    if !cloud.projects.is_empty() {
        let projects = cloud.projects.iter().map(text).collect();
        config.set_backend_value("gcp", "projects", toml::Value::Array(projects));
    }
    if let Some(c) = &cloud.context {
        config.set_backend_value("kubernetes", "context", text(c));
    }
    if let Some(ns) = &cloud.namespace {
        config.set_backend_value("kubernetes", "namespace", text(ns));
    }
    if cloud.all_namespaces
        && let Some(b) = config.backends.get_mut("kubernetes")
    {
        b.settings.remove("namespace");
    }
}

fn run_inner(cli: cli::Cli) -> Result<()> {
    let scope = cli
        .command
        .users()
        .map(|u| backends::Scope::new(u.all_users, &u.users))
        .unwrap_or_default();
    let (ctx, deadline) = context(cli.command.cloud(), cli.no_probe, scope)?;
    let app = App {
        ctx,
        out: Printer,
        deadline,
    };
    // serve answers requests while a discovery runs: two workers, so that a busy discovery
    // (thousands of jobs grouped into clusters) never holds up a scrape; one thread otherwise
    let mut builder = if matches!(cli.command, cli::Command::Serve(_)) {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        // the main thread's size: a discovery's futures are deep (a debug build's overflow
        // tokio's default 2 MiB)
        b.worker_threads(2).thread_stack_size(8 << 20);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let rt = builder
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    rt.block_on(lifecycle::dispatch(&app, cli.command))
}

/// What every command shares: the configuration (the cloud flags over it), the prober, the
/// caller; and the per-backend discovery deadline.
pub fn context(
    cloud: Option<&cli::CloudArgs>,
    no_probe: bool,
    scope: backends::Scope,
) -> Result<(Arc<backends::Context>, Duration)> {
    let mut config = Config::load()?;
    if let Some(cloud) = cloud {
        apply_cloud_flags(cloud, &mut config);
    }
    // every user's clusters: every namespace the credentials may list, unless one is named
    if scope.beyond_me()
        && cloud.is_none_or(|c| c.namespace.is_none())
        && let Some(b) = config.backends.get_mut("kubernetes")
    {
        b.settings.remove("namespace");
    }
    backends::check_settings(&config)?;
    config.pricing.check()?;
    if config.timeout.is_some_and(|t| t.is_zero()) {
        return Err(Error::Usage(
            "invalid config: timeout must be more than 0 (each backend's deadline; e.g. \"4s\")"
                .into(),
        ));
    }
    // `-u NAME` of a user this machine does not know: likely a typo. Cloud and gateway owners
    // are not Unix users (an AWS owner tag, a gateway login), so it is said, not refused
    if let backends::Scope::Users(users) = &scope {
        for u in users
            .iter()
            .filter(|u| !matches!(nix::unistd::User::from_name(u), Ok(Some(_))))
        {
            Printer.warn(&format!(
                "-u {u}: no such user on this machine; only cloud and gateway resources whose \
                 owner is {u:?} can match"
            ));
        }
    }
    let deadline = config.timeout.unwrap_or(Duration::from_secs(10));
    let prober = Prober::new(&config.probe, no_probe);
    let silence = backends::liveness::Silence::new(
        Some(config.state_root().join("silence.json")),
        config
            .probe
            .orphan_grace
            .unwrap_or(backends::liveness::DEFAULT_GRACE),
    );
    let ctx = Arc::new(Context {
        config,
        prober,
        user: User::current(),
        scope,
        silence,
    });
    Ok((ctx, deadline))
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DASKCTL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("daskctl={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .without_time()
        .with_target(false)
        .try_init();
}
