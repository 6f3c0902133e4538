//! daskctl: find, reconstruct, scale, show logs of and delete Dask clusters wherever they run.

pub mod backends;
pub mod cli;
pub mod config;
pub mod dask;
pub mod discovery;
pub mod error;
pub mod lifecycle;
pub mod model;
pub mod names;
pub mod printer;
pub mod units;

use backends::{Context, User};
use config::Config;
use dask::Prober;
use error::{Error, Result};
use lifecycle::App;
use printer::Printer;
use std::sync::Arc;
use std::time::Duration;

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: cli::Cli) -> u8 {
    init_tracing(cli.verbose);
    // kube's and the AWS SDK's TLS stacks bring a second rustls provider: pick ring, as ours
    let _ = rustls::crypto::ring::default_provider().install_default();
    let out = Printer { quiet: false };
    match run_inner(cli) {
        Ok(()) => error::exit::OK,
        Err(e) => {
            out.error(&e.to_string());
            e.exit_code()
        }
    }
}

fn run_inner(cli: cli::Cli) -> Result<()> {
    let mut config = Config::load()?;
    if !cli.regions.is_empty() {
        let regions = cli.regions.iter().cloned().map(toml::Value::String);
        config.set_backend_value("aws", "regions", toml::Value::Array(regions.collect()));
    }
    if let Some(c) = &cli.context {
        config.set_backend_value("kubernetes", "context", toml::Value::String(c.clone()));
    }
    if let Some(ns) = &cli.namespace {
        config.set_backend_value("kubernetes", "namespace", toml::Value::String(ns.clone()));
    }
    if cli.all_namespaces
        && let Some(b) = config.backends.get_mut("kubernetes")
    {
        b.settings.remove("namespace");
    }
    if let Some(p) = &cli.profile {
        config.set_backend_value("aws", "profile", toml::Value::String(p.clone()));
    }
    let deadline = config.timeout.unwrap_or(Duration::from_secs(10));
    let prober = Prober::new(&config.probe, cli.no_probe);
    let ctx = Arc::new(Context {
        config,
        prober,
        user: User::current(),
    });
    let app = App {
        ctx,
        out: Printer { quiet: false },
        deadline,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    rt.block_on(lifecycle::dispatch(&app, cli.command))
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
