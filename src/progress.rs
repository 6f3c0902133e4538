//! What a wait is at, for a person watching a terminal: one line on stderr that redraws itself
//! (indicatif), with the workers connected and wanted, the jobs queued and running, what is
//! left to go, and the time elapsed. Nothing at all when stderr is not a terminal, so piped
//! and scripted runs print exactly what they did before.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// A handle the waits update; cloning it shares the line. `Progress::default()` shows nothing.
#[derive(Clone, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
    /// What is being waited for ("create local/etl").
    what: String,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("shown", &self.bar.is_some())
            .field("what", &self.what)
            .finish()
    }
}

/// What a wait saw in its last poll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// Workers the scheduler counts (None: not asked, or it did not answer).
    pub connected: Option<u64>,
    pub wanted: u64,
    /// Batch jobs (or pods, instances) waiting to start, and started.
    pub queued: Option<u64>,
    pub running: Option<u64>,
    /// What `queued` and `running` count: jobs (the default), pods, instances.
    pub units: &'static str,
}

impl Progress {
    /// A line for `what`, shown only on a terminal.
    pub fn start(what: impl Into<String>) -> Progress {
        let what = what.into();
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None, what };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"),
        );
        bar.set_message(format!("{what}: starting"));
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar: Some(bar),
            what,
        }
    }

    pub fn shown(&self) -> bool {
        self.bar.is_some()
    }

    /// The counts of the last poll.
    pub fn seen(&self, s: Seen) {
        self.say(&describe(&s));
    }

    /// Anything else worth a glance ("waiting for the scheduler", "3 resources left").
    pub fn say(&self, state: &str) {
        if let Some(b) = &self.bar {
            b.set_message(format!("{}: {state}", self.what));
        }
    }

    /// Removes the line (the command then prints its result).
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// "3/8 workers connected, 4 jobs queued, 1 running".
pub fn describe(s: &Seen) -> String {
    let mut out = match s.connected {
        Some(c) => format!("{c}/{} workers connected", s.wanted),
        None => format!("waiting for {} worker(s)", s.wanted),
    };
    let units = if s.units.is_empty() { "jobs" } else { s.units };
    match (s.queued, s.running) {
        (Some(q), Some(r)) => out.push_str(&format!(", {q} {units} queued, {r} running")),
        (None, Some(r)) => out.push_str(&format!(", {r} running")),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_words() {
        let s = Seen {
            connected: Some(3),
            wanted: 8,
            queued: Some(4),
            running: Some(1),
            units: "",
        };
        assert_eq!(
            describe(&s),
            "3/8 workers connected, 4 jobs queued, 1 running"
        );
        let s = Seen {
            connected: None,
            wanted: 2,
            ..Seen::default()
        };
        assert_eq!(describe(&s), "waiting for 2 worker(s)");
    }

    #[test]
    fn off_the_terminal_nothing_is_drawn() {
        // the unit tests' stderr is captured, not a terminal
        let p = Progress::start("create local/x");
        assert!(!p.shown());
        p.seen(Seen::default());
        p.finish();
    }
}
