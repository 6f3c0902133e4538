//! Data goes to stdout (tables or JSON), everything else to stderr. Colour only on a terminal
//! and never with NO_COLOR (anstream strips the styles otherwise).

use anstyle::{AnsiColor, Style};
use comfy_table::{ContentArrangement, Table, presets};

pub struct Printer;

const WARN: Style = AnsiColor::Yellow.on_default().bold();
const ERR: Style = AnsiColor::Red.on_default().bold();
const OK: Style = AnsiColor::Green.on_default();

impl Printer {
    pub fn data(&self, text: &str) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
    }

    pub fn json<T: serde::Serialize>(&self, v: &T) {
        self.data(&serde_json::to_string_pretty(v).expect("serialisable"));
    }

    pub fn yaml<T: serde::Serialize>(&self, v: &T) {
        let text = serde_yaml::to_string(v).expect("serialisable");
        self.data(text.trim_end());
    }

    pub fn info(&self, msg: &str) {
        anstream::eprintln!("{msg}");
    }

    /// What is happening right now; only for a person watching a terminal.
    pub fn progress(&self, msg: &str) {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            anstream::eprintln!("{msg}");
        }
    }

    pub fn success(&self, msg: &str) {
        anstream::eprintln!("{OK}{msg}{OK:#}");
    }

    pub fn warn(&self, msg: &str) {
        anstream::eprintln!("{WARN}warning:{WARN:#} {msg}");
    }

    pub fn error(&self, msg: &str) {
        anstream::eprintln!("{ERR}error:{ERR:#} {msg}");
    }

    /// One cause under an error (`-v`).
    pub fn cause(&self, msg: &str) {
        anstream::eprintln!("  caused by: {}", msg.replace('\n', " "));
    }
}

/// A borderless table like kubectl's.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    for col in t.column_iter_mut() {
        col.set_padding((0, 3));
    }
    t
}

pub fn render(t: &Table) -> String {
    t.lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
