//! `daskctl completions SHELL`: the script that hooks daskctl's dynamic completion into a
//! shell (`crate::complete` answers each TAB). The same as `COMPLETE=SHELL daskctl` prints.

use super::App;
use crate::error::Result;
use clap_complete::Shell;

pub fn run(app: &App, shell: Shell) -> Result<()> {
    app.out
        .data(crate::complete::registration(shell).trim_end());
    Ok(())
}
