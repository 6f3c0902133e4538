//! Printing log files: the last N lines of each, then (with `--follow`) new lines as they come.
//! Shared by every backend whose logs are files. Logs are bytes: a line that is not UTF-8 is
//! printed with replacement characters, never dropped with the rest of the file.

use super::LogSink;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

/// The longest line printed whole; the rest of a longer one is dropped (a file without a newline
/// must not fill memory).
const MAX_LINE: u64 = 1 << 20;

/// Whether the processes or jobs writing the followed files still run, one answer per file
/// (asked every few seconds while following): `--follow` ends once every file's writer is gone
/// and its last lines are printed.
#[async_trait::async_trait]
pub trait Writers: Send + Sync {
    async fn alive(&self) -> Vec<bool>;
}

/// How often the writers are asked, in follow polls (250 ms each).
const ASK_WRITERS_EVERY: u32 = 8;

/// Prints each file (`label`, path): its last `tail` lines (all without), then, with `follow`,
/// new lines as they come, until every file's writer is gone (`writers`; none: until
/// interrupted). A file is read only when it is a regular file of `owner` (when given),
/// never through a link, a FIFO or a device (`safefile::open`): a log's path is often one a
/// user chose. Memory stays bounded by `tail` lines of at most `MAX_LINE` bytes.
pub async fn emit(
    files: &[(String, PathBuf)],
    owner: Option<u32>,
    tail: Option<usize>,
    follow: bool,
    writers: Option<&dyn Writers>,
    sink: &mut dyn LogSink,
) {
    let mut offsets = Vec::new();
    for (label, path) in files {
        let read = match crate::safefile::open(path, owner) {
            Ok(f) => print_lines(f, tail, label, sink),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => {
                tracing::warn!("{label}: log not read: {e}");
                0
            }
        };
        offsets.push(read);
    }
    if follow {
        self::follow(files, owner, &mut offsets, writers, sink).await;
    }
}

/// Prints the lines of `f` (the last `tail` of them); the number of bytes read.
fn print_lines(f: std::fs::File, tail: Option<usize>, label: &str, sink: &mut dyn LogSink) -> u64 {
    use std::io::BufRead;
    let mut r = std::io::BufReader::new(f);
    let mut kept: std::collections::VecDeque<String> = Default::default();
    let mut read = 0u64;
    loop {
        let mut line = Vec::new();
        let Ok(n) = r.by_ref().take(MAX_LINE).read_until(b'\n', &mut line) else {
            break;
        };
        if n == 0 {
            break;
        }
        read += n as u64;
        if line.last() != Some(&b'\n') && n as u64 == MAX_LINE {
            // the rest of an over-long line is skipped up to its end
            loop {
                let mut rest = Vec::new();
                match r.by_ref().take(MAX_LINE).read_until(b'\n', &mut rest) {
                    Ok(0) | Err(_) => break,
                    Ok(m) => {
                        read += m as u64;
                        if rest.last() == Some(&b'\n') {
                            break;
                        }
                    }
                }
            }
        }
        let text = String::from_utf8_lossy(&line);
        let text = text
            .trim_end_matches('\n')
            .trim_end_matches('\r')
            .to_string();
        match tail {
            None => sink.line(label, &text),
            Some(0) => {}
            Some(t) => {
                if kept.len() == t {
                    kept.pop_front();
                }
                kept.push_back(text);
            }
        }
    }
    for l in kept {
        sink.line(label, &l);
    }
    read
}

/// `tail -f` over several files: polls for growth until every file's writer is gone (or
/// interrupted). Bytes are kept until a whole line is there, so a character split across two
/// reads is decoded whole.
async fn follow(
    files: &[(String, PathBuf)],
    owner: Option<u32>,
    offsets: &mut [u64],
    writers: Option<&dyn Writers>,
    sink: &mut dyn LogSink,
) {
    let mut partial: Vec<Vec<u8>> = vec![Vec::new(); files.len()];
    let mut polls = 0u32;
    // a pass after the writers were seen gone prints what they wrote last, then it ends
    let mut last_pass = false;
    loop {
        for (i, (label, path)) in files.iter().enumerate() {
            let Ok(mut f) = crate::safefile::open(path, owner) else {
                continue;
            };
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len < offsets[i] {
                offsets[i] = 0; // truncated or rotated
            }
            if len == offsets[i] || f.seek(SeekFrom::Start(offsets[i])).is_err() {
                continue;
            }
            let mut buf = Vec::new();
            if let Ok(n) = f.take(MAX_LINE).read_to_end(&mut buf) {
                offsets[i] += n as u64;
                partial[i].extend_from_slice(&buf);
                while let Some(pos) = partial[i].iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = partial[i].drain(..=pos).collect();
                    let text = String::from_utf8_lossy(&line[..line.len() - 1]);
                    sink.line(label, text.trim_end_matches('\r'));
                }
                if partial[i].len() as u64 >= MAX_LINE {
                    let text = String::from_utf8_lossy(&partial[i]).into_owned();
                    sink.line(label, &text);
                    partial[i].clear();
                }
            }
        }
        if last_pass {
            for (i, (label, _)) in files.iter().enumerate() {
                if !partial[i].is_empty() {
                    sink.line(label, &String::from_utf8_lossy(&partial[i]));
                }
            }
            return;
        }
        polls += 1;
        if let Some(w) = writers
            && polls.is_multiple_of(ASK_WRITERS_EVERY)
            && !w.alive().await.iter().any(|a| *a)
        {
            last_pass = true;
            continue;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The scheduler's log and its workers' (those `req` selects among the cluster's known workers),
/// asked of the scheduler over the Dask protocol (`get_logs`, `worker_logs`).
pub async fn from_scheduler(
    comm: &mut crate::dask::Comm,
    c: &crate::model::Cluster,
    req: &super::LogRequest,
    sink: &mut dyn super::LogSink,
) -> crate::error::Result<()> {
    use crate::dask::client;
    if req.worker.is_none() {
        for l in client::scheduler_logs(comm, req.tail).await? {
            sink.line("scheduler", &l);
        }
    }
    if !req.scheduler_only {
        let workers: Vec<String> = c
            .worker_details
            .iter()
            .filter(|w| {
                req.worker
                    .as_ref()
                    .is_none_or(|x| *x == w.name || *x == w.address)
            })
            .map(|w| w.address.clone())
            .collect();
        if !workers.is_empty() {
            for (addr, lines) in client::worker_logs(comm, &workers, req.tail).await? {
                let label = c
                    .worker_details
                    .iter()
                    .find(|w| w.address == addr)
                    .map(|w| w.name.clone())
                    .unwrap_or(addr);
                for l in lines {
                    sink.line(&label, &l);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lines(Vec<String>);
    impl LogSink for Lines {
        fn line(&mut self, _source: &str, line: &str) {
            self.0.push(line.to_string());
        }
    }

    /// One byte that is not UTF-8 used to make the whole log print nothing.
    #[tokio::test]
    async fn a_non_utf8_byte_costs_one_character_not_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.log");
        std::fs::write(&p, b"first\nbad \xff byte\nlast\n").unwrap();
        let mut sink = Lines(Vec::new());
        emit(&[("w".into(), p)], None, None, false, None, &mut sink).await;
        assert_eq!(sink.0, ["first", "bad \u{fffd} byte", "last"]);
    }
}
