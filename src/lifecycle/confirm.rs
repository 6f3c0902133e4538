//! Interactive deletes confirm; without a terminal, only `--yes` proceeds.

use crate::error::{Error, Result};
use std::io::{BufRead, IsTerminal, Write};

pub fn confirm(question: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::Refused(format!(
            "{question}: refusing without --yes (no terminal to confirm on)"
        )));
    }
    eprint!("{question}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("reading answer", e))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::Declined("not confirmed: nothing was changed".into()))
    }
}
