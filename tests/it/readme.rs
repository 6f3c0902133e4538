//! The README is the user's manual: its examples must keep working. Every `daskctl` command line
//! in its code blocks is checked by the real binary (`ARGS --help` is accepted only when every
//! flag exists and every value parses), every spec file in it is created with `--dry-run`, and
//! the examples a person starts with run for real against the local backend.

use crate::support::{Env, python};

const README: &str = include_str!("../../README.md");

/// The fenced code blocks: (info string, body).
fn blocks() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in README.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            match current.take() {
                Some(b) => out.push(b),
                None => current = Some((info.trim().to_string(), String::new())),
            }
            continue;
        }
        if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// Words of a shell command line: spaces split, single and double quotes group (no expansion).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Every daskctl command line in the README's plain and shell code blocks, as argv (without
/// `daskctl`): prompts, `sudo`, comments and redirections removed, continued lines joined,
/// several commands on one line (`;`, or side by side) taken apart.
fn commands() -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (info, body) in blocks() {
        if !matches!(info.as_str(), "" | "sh" | "console" | "bash") {
            continue;
        }
        let joined = body.replace("\\\n", " ");
        for line in joined.lines() {
            let line = line.trim().trim_start_matches("$ ");
            // a comment starts at " #" (none of the examples quote a '#')
            let line = line.split(" #").next().unwrap_or(line);
            for part in line.split(';') {
                let part = part.trim_start();
                if !part.starts_with("daskctl ") && !part.starts_with("sudo daskctl ") {
                    continue;
                }
                // "daskctl list     daskctl scale NAME 20": side by side in the synopsis
                for cmd in part.split("daskctl ").skip(1) {
                    let cmd = cmd.split('>').next().unwrap_or(cmd);
                    let cmd = cmd.split(" | ").next().unwrap_or(cmd);
                    out.push(words(cmd));
                }
            }
        }
    }
    out
}

#[test]
fn every_command_line_in_the_readme_parses() {
    let env = Env::new();
    let cmds = commands();
    assert!(cmds.len() >= 60, "{} command lines found", cmds.len());
    let mut bad = Vec::new();
    for argv in &cmds {
        let mut args: Vec<&str> = argv.iter().map(String::as_str).collect();
        args.push("--help");
        let o = env.run(&args);
        if o.code != 0 {
            bad.push(format!("daskctl {}: {}", argv.join(" "), o.stderr.trim()));
        }
    }
    assert!(
        bad.is_empty(),
        "README commands that do not parse:\n{}",
        bad.join("\n")
    );
}

/// The specs of the README's YAML blocks: a block that is one spec, or one spec per line.
fn specs() -> Vec<String> {
    let mut out = Vec::new();
    for (info, body) in blocks() {
        if info != "yaml" || !body.contains("backend:") {
            continue;
        }
        let lines: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.iter().all(|l| l.trim_start().starts_with('{')) {
            out.extend(lines.iter().map(|l| l.to_string()));
        } else {
            out.push(body);
        }
    }
    out
}

#[test]
fn every_spec_in_the_readme_creates_in_a_dry_run() {
    let env = Env::new();
    let specs = specs();
    assert!(specs.len() >= 9, "{} specs found", specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let backend = spec
            .split("backend:")
            .nth(1)
            .and_then(|r| r.split([',', '\n']).next())
            .map(str::trim)
            .expect("a backend")
            .to_string();
        let file = env.dir.path().join(format!("spec-{i}.yaml"));
        std::fs::write(&file, spec).unwrap();
        let var = format!("DASKCTL_BACKENDS__{}__ENABLED", backend.to_uppercase());
        let o = env.run_env(
            &[(var.as_str(), "true")],
            &["create", "-f", file.to_str().unwrap(), "--dry-run"],
        );
        assert_eq!(o.code, 0, "{spec}\n{}", o.stderr);
        assert!(o.stdout.contains("# dry run"), "{spec}: {}", o.stdout);
    }
}

/// The first examples a person runs, for real on the local backend: create, list, describe,
/// scale, logs, snippet, adapt, usage, delete.
#[test]
fn the_first_examples_run_on_the_local_backend() {
    let env = Env::new().without_batch();
    let py = python();
    let py = py.to_str().unwrap();
    for argv in [
        &[
            "create",
            "local",
            "--name",
            "etl",
            "--workers",
            "2",
            "--threads",
            "2",
            "--memory",
            "1GiB",
            "--python",
            py,
        ][..],
        &["list"],
        &["list", "-o", "wide"],
        &["list", "-o", "json", "-b", "local", "--timeout", "5"],
        &[
            "list",
            "--status",
            "running",
            "--sort-by",
            "age",
            "--no-headers",
        ],
        &["describe", "etl"],
        &["describe", "local/etl", "-o", "json"],
        &["scale", "etl", "3", "--wait"],
        &["logs", "etl", "--scheduler", "--tail", "50"],
        &["snippet", "etl"],
        &["adapt", "etl", "--minimum", "1", "--maximum", "3"],
        &["reconcile"],
        &["adapt", "etl", "--off"],
        &["usage"],
        &["cleanup", "--orphaned"],
        &["delete", "etl", "--yes"],
    ] {
        env.run(argv).ok();
    }
    // gone (other tests' Dask processes of this user may be listed meanwhile)
    assert!(env.find("etl").is_none(), "{:?}", env.list());
}
