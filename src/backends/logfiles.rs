//! Printing log files: the last N lines of each, then (with `--follow`) new lines as they come.
//! Shared by every backend whose logs are files.

use super::LogSink;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

pub async fn emit(
    files: &[(String, PathBuf)],
    tail: Option<usize>,
    follow: bool,
    sink: &mut dyn LogSink,
) {
    let mut offsets = Vec::new();
    for (label, path) in files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = tail.map(|n| lines.len().saturating_sub(n)).unwrap_or(0);
        for l in &lines[from..] {
            sink.line(label, l);
        }
        offsets.push(text.len() as u64);
    }
    if follow {
        self::follow(files, &mut offsets, sink).await;
    }
}

/// `tail -f` over several files: polls for growth until interrupted.
async fn follow(files: &[(String, PathBuf)], offsets: &mut [u64], sink: &mut dyn LogSink) {
    let mut partial: Vec<String> = vec![String::new(); files.len()];
    loop {
        for (i, (label, path)) in files.iter().enumerate() {
            let Ok(mut f) = std::fs::File::open(path) else {
                continue;
            };
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len < offsets[i] {
                offsets[i] = 0; // truncated or rotated
            }
            if len == offsets[i] || f.seek(SeekFrom::Start(offsets[i])).is_err() {
                continue;
            }
            let mut buf = String::new();
            if let Ok(n) = f.read_to_string(&mut buf) {
                offsets[i] += n as u64;
                partial[i].push_str(&buf);
                while let Some(pos) = partial[i].find('\n') {
                    let line: String = partial[i].drain(..=pos).collect();
                    sink.line(label, line.trim_end_matches('\n'));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
