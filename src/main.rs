use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // a TAB in a shell: answer it and exit (nothing else runs)
    daskctl::complete::serve_if_asked();
    // root's listing waits on its children's answers (`__as-owner`): the quickest first
    if let Some(code) = daskctl::lifecycle::as_owner::quick() {
        return ExitCode::from(code);
    }
    // dask-ctl's command lines (`daskctl cluster list`) as daskctl's verbs
    let argv = daskctl::compat::translate(std::env::args_os().collect());
    let cli = match daskctl::cli::Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(daskctl::usage_error(e)),
    };
    ExitCode::from(daskctl::run(cli))
}
