use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(daskctl::run(daskctl::cli::Cli::parse()))
}
