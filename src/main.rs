use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // a TAB in a shell: answer it and exit (nothing else runs)
    daskctl::complete::serve_if_asked();
    let cli = match daskctl::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(daskctl::usage_error(e)),
    };
    ExitCode::from(daskctl::run(cli))
}
