//! Data goes to stdout (tables or JSON), everything else to stderr. Colour only on a terminal
//! and never with NO_COLOR (anstream strips the styles otherwise).

use anstyle::{AnsiColor, Style};
use comfy_table::{ContentArrangement, Table, presets};

pub struct Printer;

const WARN: Style = AnsiColor::Yellow.on_default().bold();
const ERR: Style = AnsiColor::Red.on_default().bold();
const OK: Style = AnsiColor::Green.on_default();

/// `text` safe for a terminal: every control character but newline and tab (ESC, CR,
/// backspace, DEL, the C1 controls such as CSI) becomes U+FFFD. Names, reasons, addresses and
/// commands come from what users and backends wrote; printed raw, an escape sequence in a
/// `state.json` or a job name would drive the terminal of whoever runs daskctl (root's, for a
/// facility's `--all-users`).
pub fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && c != '\n' && c != '\t';
    if text.chars().any(bad) {
        text.chars()
            .map(|c| if bad(c) { '\u{fffd}' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

impl Printer {
    pub fn data(&self, text: &str) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", clean(text));
    }

    pub fn json<T: serde::Serialize>(&self, v: &T) {
        self.data(&serde_json::to_string_pretty(v).expect("serialisable"));
    }

    pub fn yaml<T: serde::Serialize>(&self, v: &T) {
        let text = serde_yaml::to_string(v).expect("serialisable");
        self.data(text.trim_end());
    }

    pub fn info(&self, msg: &str) {
        let msg = clean(msg);
        anstream::eprintln!("{msg}");
    }

    /// What is happening right now; only for a person watching a terminal.
    pub fn progress(&self, msg: &str) {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            let msg = clean(msg);
            anstream::eprintln!("{msg}");
        }
    }

    pub fn success(&self, msg: &str) {
        let msg = clean(msg);
        anstream::eprintln!("{OK}{msg}{OK:#}");
    }

    pub fn warn(&self, msg: &str) {
        let msg = clean(msg);
        anstream::eprintln!("{WARN}warning:{WARN:#} {msg}");
    }

    pub fn error(&self, msg: &str) {
        let msg = clean(msg);
        anstream::eprintln!("{ERR}error:{ERR:#} {msg}");
    }

    /// One cause under an error (`-v`).
    pub fn cause(&self, msg: &str) {
        anstream::eprintln!("  caused by: {}", clean(&msg.replace('\n', " ")));
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

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_never_reach_the_terminal() {
        let hostile = "name\x1b]0;pwned\x07\r\x08\u{9b}2J\x7f ok\tcol\nnext";
        let c = super::clean(hostile);
        assert!(
            !c.chars().any(|x| x.is_control() && x != '\n' && x != '\t'),
            "{c:?}"
        );
        assert!(c.contains("ok\tcol\nnext"));
        assert!(matches!(
            super::clean("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
