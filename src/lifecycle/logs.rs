use super::App;
use crate::backends::{LogRequest, LogSink};
use crate::cli::{LogFormat, LogsArgs};
use crate::discovery::resolve;
use crate::error::Result;
use std::io::Write;

struct Stdout {
    prefix: bool,
    json: bool,
    /// On a terminal, control characters in log lines are replaced (`printer::clean`): a log
    /// is text someone else's program wrote. A pipe gets the bytes as they are.
    terminal: bool,
}

impl LogSink for Stdout {
    fn line(&mut self, source: &str, line: &str) {
        let cleaned;
        let line = if self.terminal && !self.json {
            cleaned = crate::printer::clean(line);
            &*cleaned
        } else {
            line
        };
        let mut out = std::io::stdout().lock();
        let _ = if self.json {
            let record = serde_json::json!({ "source": source, "line": line });
            writeln!(out, "{record}")
        } else if self.prefix {
            writeln!(out, "[{source}] {line}")
        } else {
            writeln!(out, "{line}")
        };
        let _ = out.flush();
    }
}

pub async fn run(app: &App, a: LogsArgs) -> Result<()> {
    let (backend, c) = resolve(&app.ctx, &a.name, app.deadline).await?;
    let req = LogRequest {
        scheduler_only: a.scheduler,
        worker: a.worker.clone(),
        tail: a.tail,
        follow: a.follow,
    };
    let mut sink = Stdout {
        prefix: !a.scheduler && a.worker.is_none(),
        json: a.output == LogFormat::Json,
        terminal: std::io::IsTerminal::is_terminal(&std::io::stdout()),
    };
    backend.logs(&c, &req, &mut sink).await
}
