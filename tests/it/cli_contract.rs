//! The command-line contract: exit codes, one-line errors, config persistence, completions.
//! Most of these need no Dask process: a state directory whose processes are dead stands for a
//! cluster (it lists as `stopped`).

use crate::support::{Env, python};
use std::time::{Duration, Instant};

/// A daskctl state entry whose processes do not exist.
fn dead_cluster(env: &Env, name: &str) {
    let dir = env.state().join("local").join(name);
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::write(dir.join("logs/scheduler.log"), "line one\nline two\n").unwrap();
    let state = serde_json::json!({
        "name": name, "created": 1.0e9, "python": "python3", "host": "127.0.0.1", "threads": 1,
        "memory": null, "address": "tcp://127.0.0.1:9", "dashboard": null, "next_worker": 1,
        "scheduler": {"pid": 999_999, "start": 1, "name": "scheduler", "log": "scheduler.log"},
        "workers": [{"pid": 999_998, "start": 1, "name": format!("{name}-0"), "log": format!("{name}-0.log")}],
    });
    std::fs::write(dir.join("state.json"), state.to_string()).unwrap();
}

/// Only daskctl's own state, not the other tests' processes, nor their batch jobs (the queue
/// is shared by every test of the user running at the same time).
fn own_only() -> Env {
    Env::new()
        .without_batch()
        .with("DASKCTL_BACKENDS__LOCAL__SCAN", "false")
}

#[test]
fn help_and_version() {
    let env = Env::new();
    let h = env.run(&["--help"]).ok().stdout;
    for verb in [
        "list",
        "describe",
        "create",
        "scale",
        "logs",
        "delete",
        "cleanup",
        "snippet",
        "backends",
        "completions",
    ] {
        assert!(h.contains(verb), "{verb} missing from help");
    }
    assert!(h.contains("Exit codes"));
    assert!(env.run(&["--version"]).ok().stdout.starts_with("daskctl "));
    env.run(&["list", "--output", "xml"]).code(2);
}

#[test]
fn list_json_schema_and_empty() {
    let env = own_only();
    assert_eq!(
        env.run(&["list", "-o", "json"]).ok().json(),
        serde_json::json!([])
    );
    let o = env.run(&["list"]).ok();
    assert!(o.stdout.is_empty() && o.stderr.contains("No clusters found"));
    dead_cluster(&env, "ghost");
    let v = env.list();
    assert_eq!(v.len(), 1);
    let c = &v[0];
    assert_eq!(c["name"], "ghost");
    assert_eq!(c["backend"], "local");
    assert_eq!(c["origin"], "daskctl");
    assert_eq!(c["status"], "stopped");
    assert_eq!(c["created"], "2001-09-09T01:46:40Z");
    assert_eq!(c["workers"], 0);
    assert_eq!(c["resources"].as_array().unwrap().len(), 2);
    assert_eq!(c["resources"][0]["state"], "dead");
    assert!(c["memory"].is_null() && c["idle_since"].is_null());
    let wide = env.run(&["list", "-o", "wide"]).ok().stdout;
    assert!(
        wide.contains("REASON") && wide.contains("no scheduler or worker is running"),
        "{wide}"
    );
}

#[test]
fn unknown_things_are_one_line_errors() {
    let env = own_only();
    let o = env.run(&["create", "nosuch", "--name", "a"]).code(2);
    assert!(
        o.one_line_error().contains(
            "registered backends: aws, gateway, gcp, htcondor, kubernetes, local, lsf, moab, pbs, sge, slurm"
        ),
        "{}",
        o.stderr
    );
    env.run(&["list", "-b", "nosuch"]).code(2).one_line_error();
    // BACKEND/NAME with a backend that does not exist: a usage error, not a lookup
    for verb in [
        &["describe", "nosuch/etl"][..],
        &["scale", "nosuch/etl", "2"],
    ] {
        let o = env.run(verb).code(2);
        assert!(
            o.one_line_error().contains("unknown backend \"nosuch\""),
            "{}",
            o.stderr
        );
    }
    for verb in [
        &["describe", "nope"][..],
        &["scale", "nope", "1"],
        &["logs", "nope"],
        &["delete", "nope", "--yes"],
        &["snippet", "nope"],
        &["describe", "local/nope"],
    ] {
        let o = env.run(verb).code(3);
        assert!(
            o.one_line_error().contains("no cluster named"),
            "{}",
            o.stderr
        );
    }
    let o = env.run(&["cleanup"]).code(2);
    assert!(o.one_line_error().contains("--orphaned"));
    // a missing argument is named on the one line
    let o = env.run(&["adapt", "x"]).code(2);
    assert!(
        o.one_line_error()
            .contains("--minimum <MINIMUM>, --maximum <MAXIMUM>"),
        "{}",
        o.stderr
    );
    let o = env.run(&["create"]).code(2);
    assert!(o.one_line_error().contains("<BACKEND>"), "{}", o.stderr);
    for (flag, value) in [
        ("--threads", "0"),
        ("--memory", "lots"),
        ("--timeout", "soon"),
    ] {
        env.run(&["create", "local", "--name", "a", flag, value])
            .code(2);
    }
    assert!(env.state_dirs().is_empty());
}

/// A typo gets what clap knows (the nearest subcommand, flag or value; the valid values) and a
/// misspelt cluster name the nearest names the last listing saw, on the one error line.
#[test]
fn typos_are_corrected_on_the_one_line() {
    let env = own_only();
    for (argv, says) in [
        (&["lst"][..], "did you mean 'list'"),
        (&["scael", "x", "1"], "did you mean 'scale'"),
        (&["list", "--stauts", "running"], "did you mean '--status'?"),
        (
            &["list", "-o", "tabel"],
            "possible values: table, wide, json, yaml, name; did you mean 'table'?",
        ),
        (&["list", "--status", "runing"], "did you mean 'running'?"),
    ] {
        let o = env.run(argv).code(2);
        let line = o.one_line_error();
        assert!(line.contains(says), "{argv:?}: {line}");
        assert!(line.ends_with("(see --help)"), "{line}");
    }
    env.run(&["create", "local", "--name", "etl", "--workers", "0"])
        .ok();
    env.run(&["list"]).ok();
    let o = env.run(&["scale", "etll", "3"]).code(3);
    assert!(
        o.one_line_error()
            .contains("no cluster named \"etll\"; did you mean \"etl\"?"),
        "{}",
        o.stderr
    );
    // nothing near: no guess
    let o = env.run(&["describe", "zzzzzz"]).code(3);
    assert!(!o.one_line_error().contains("did you mean"), "{}", o.stderr);
    env.run(&["delete", "etl", "--yes"]).ok();
}

/// What the README promises of input, kept: each of these is a one-line usage error (exit 2)
/// that says what was wrong, and nothing is created.
#[test]
fn bad_input_is_refused_with_what_was_wrong() {
    let env = own_only();
    for (vars, argv, says) in [
        (
            &[("DASKCTL_TIMEOUT", "0")][..],
            &["list"][..],
            "timeout must be more than 0",
        ),
        (
            &[],
            &["create", "local", "--name", "m", "--memory", "4"],
            "a bare number is bytes: did you mean 4GiB?",
        ),
        (&[], &["scale", "x", "-1"], "must be 0 or more"),
        (
            &[],
            &["create", "local", "--name", "m", "--namespace", "a"],
            "--namespace does not apply to the local backend; it is for: kubernetes",
        ),
        (
            &[("DASKCTL_BACKENDS__SLURM__ENABLED", "true")],
            &[
                "create",
                "slurm",
                "--name",
                "m",
                "--namespace",
                "team-a",
                "--dry-run",
            ],
            "--namespace does not apply to the slurm backend",
        ),
        (
            &[],
            &["create", "local", "--name", "m", "--region", "us-east-1"],
            "--region does not apply to the local backend; it is for: aws",
        ),
    ] {
        let o = env.run_env(vars, argv).code(2);
        let line = o.one_line_error();
        assert!(line.contains(says), "{argv:?}: {line}");
    }
    // an unknown -u user is said (it may still be a cloud owner's name)
    let o = env.run(&["list", "-u", "nosuchuser"]).ok();
    assert!(
        o.stderr
            .contains("warning: -u nosuchuser: no such user on this machine"),
        "{}",
        o.stderr
    );
    // DASKCTL_TIMEOUT=1 is one second (an environment "1" is also read as true)
    env.run_env(&[("DASKCTL_TIMEOUT", "1")], &["list"]).ok();
    // a config file that is not text: malformed, exit 2
    std::fs::write(env.config(), [0xff, 0xfe, 0x00, 0x81]).unwrap();
    let o = env.run(&["list"]).code(2);
    assert!(
        o.one_line_error().contains("not a text file"),
        "{}",
        o.stderr
    );
    // `local = false` stays off when a variable of local's is set
    std::fs::write(env.config(), "[backends]\nlocal = false\n").unwrap();
    let o = env
        .run_env(
            &[("DASKCTL_BACKENDS__LOCAL__PYTHON", "/usr/bin/python3")],
            &["list", "-b", "local"],
        )
        .code(2);
    assert!(o.one_line_error().contains("disabled"), "{}", o.stderr);
    assert!(env.state_dirs().is_empty());
}

#[test]
fn malformed_config_is_a_one_line_usage_error() {
    let env = own_only();
    for text in [
        "timeout = ",
        "[backends.local\n",
        "nonsense_key = 3",
        "[probe]\ntimeout = \"later\"",
    ] {
        std::fs::write(env.config(), text).unwrap();
        let o = env.run(&["list"]).code(2);
        assert!(o.one_line_error().contains("config"), "{}", o.stderr);
    }
}

/// A misspelt backend setting is never silently ignored: it is named, with its section and the
/// key that was meant, in the file and in a variable alike; nothing runs.
#[test]
fn misspelt_settings_name_the_key_and_the_closest_one() {
    let env = own_only();
    for (text, key, meant) in [
        ("[backends.slurm]\npyhton = \"/x\"\n", "pyhton", "python"),
        (
            "[backends.aws]\nregion = \"us-east-1\"\n",
            "region",
            "regions",
        ),
        (
            "[backends.kubernetes]\nnamspace = \"a\"\n",
            "namspace",
            "namespace",
        ),
        (
            "[backends.pbs]\nsqueue_format = \"text\"\n",
            "squeue_format",
            "",
        ),
        ("[backends.slurmm]\n", "slurmm", "slurm"),
    ] {
        std::fs::write(env.config(), text).unwrap();
        for verb in [&["list"][..], &["create", "local", "--name", "typo"]] {
            let o = env.run(verb).code(2);
            let line = o.one_line_error();
            assert!(line.contains(key) && line.contains(meant), "{text}: {line}");
        }
    }
    std::fs::write(env.config(), "[backends.local]\nmax_workers = \"many\"\n").unwrap();
    assert!(env.run(&["list"]).code(2).one_line_error().contains("many"));
    std::fs::write(env.config(), "").unwrap();
    let o = env
        .run_env(&[("DASKCTL_BACKENDS__LOCAL__SCANN", "false")], &["list"])
        .code(2);
    let line = o.one_line_error();
    assert!(
        line.contains("DASKCTL_BACKENDS__LOCAL__SCANN") && line.contains("\"scan\""),
        "{line}"
    );
    env.run_env(&[("DASKCTL_BACKENDS__LOCAL__SCAN", "false")], &["list"])
        .code(0);
    assert!(env.state_dirs().is_empty(), "nothing was created");
}

#[test]
fn missing_or_unusable_python_creates_nothing() {
    let env = own_only().with("DASKCTL_PYTHON", "/nonexistent/python3");
    let o = env.run(&["create", "local", "--name", "nopy"]).code(2);
    assert!(
        o.one_line_error().contains("cannot run Python"),
        "{}",
        o.stderr
    );
    assert!(env.state_dirs().is_empty());

    // a Python without distributed: the error says how to install it
    let venv = tempfile::tempdir().unwrap();
    let st = std::process::Command::new(python())
        .args(["-m", "venv", "--without-pip", venv.path().to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());
    let bare = venv.path().join("bin/python");
    let o = env
        .run(&[
            "create",
            "local",
            "--name",
            "nodist",
            "--python",
            bare.to_str().unwrap(),
        ])
        .code(2);
    let line = o.one_line_error();
    assert!(
        line.contains("cannot import distributed") && line.contains("-m pip install"),
        "{line}"
    );
    assert!(env.state_dirs().is_empty());
}

#[test]
fn existing_name_is_refused_before_anything_starts() {
    let env = own_only();
    dead_cluster(&env, "taken");
    let o = env.run(&["create", "local", "--name", "taken"]).code(2);
    assert!(o.one_line_error().contains("already exists"));
}

#[test]
fn backends_enable_disable_persist_and_disabled_is_never_queried() {
    let env = own_only();
    dead_cluster(&env, "seen");
    let local = |env: &Env| {
        let b = env.run(&["backends", "list", "-o", "json"]).ok().json();
        b.as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "local")
            .cloned()
            .expect("local registered")
    };
    assert_eq!(local(&env)["enabled"], true);
    assert_eq!(local(&env)["capabilities"]["create"], true);

    assert_eq!(env.list().len(), 1, "the last discovery saw it");
    env.run(&["backends", "disable", "local"]).ok();
    let text = std::fs::read_to_string(env.config()).unwrap();
    assert!(text.contains("enabled = false"), "{text}");
    assert_eq!(local(&env)["enabled"], false);
    // what is hidden is said, on every listing until the backend is enabled again
    for _ in 0..2 {
        let o = env.run(&["list", "-o", "json"]).ok();
        assert_eq!(o.json(), serde_json::json!([]));
        assert!(
            o.stderr
                .contains("backend local is disabled and had 1 cluster(s) when last listed"),
            "{}",
            o.stderr
        );
    }
    env.run(&["list", "-b", "local"]).code(2);
    env.run(&["describe", "seen"]).code(3);
    env.run(&["create", "local", "--name", "x"]).code(2);
    // the environment overrides the file
    let o = env
        .command(&["list", "-o", "json"])
        .env("DASKCTL_BACKENDS__LOCAL__ENABLED", "true")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["name"], "seen");

    // enabling it in the file while the environment disables it: said, not hidden
    let o = env.run_env(
        &[("DASKCTL_BACKENDS__LOCAL__ENABLED", "false")],
        &["backends", "enable", "local"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains(
            "DASKCTL_BACKENDS__LOCAL__ENABLED=false in the environment overrides the file"
        ),
        "{}",
        o.stderr
    );
    env.run(&["backends", "enable", "local"]).ok();
    assert!(
        !env.run(&["backends", "enable", "local"])
            .ok()
            .stderr
            .contains("overrides")
    );
    assert_eq!(env.list()[0]["name"], "seen");
    assert!(!env.run(&["list"]).ok().stderr.contains("disabled"));
    // every backend off: said, not an empty table alone
    let all_off: Vec<(String, String)> = ["local", "aws", "gcp", "kubernetes", "gateway"]
        .iter()
        .map(|b| {
            (
                format!("DASKCTL_BACKENDS__{}__ENABLED", b.to_uppercase()),
                "false".into(),
            )
        })
        .collect();
    let vars: Vec<(&str, &str)> = all_off
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let o = env.run_env(&vars, &["list"]);
    assert!(
        o.stderr.contains("every backend is disabled"),
        "{}",
        o.stderr
    );
    let o = env.run(&["backends", "disable", "nosuch"]).code(2);
    assert!(o.one_line_error().contains("registered backends"));
}

/// What the shell hook asks on a TAB, as bash's asks it (`COMPLETE=bash daskctl -- WORDS`, the
/// last word the one being completed); the candidates, one per line.
fn complete(env: &Env, words: &[&str]) -> Vec<String> {
    let mut argv = vec!["--", "daskctl"];
    argv.extend(words);
    let o = env
        .command(&argv)
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", words.len().to_string())
        .env("_CLAP_IFS", "\n")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Ages the names cache past its freshness.
fn age_names_cache(env: &Env) {
    let file = env.dir.path().join("cache/names.tsv");
    let ok = std::process::Command::new("touch")
        .args(["-d", "10 minutes ago"])
        .arg(&file)
        .status()
        .unwrap()
        .success();
    assert!(ok, "touch {}", file.display());
}

/// `completions SHELL` prints the hook of clap_complete's dynamic engine (the shipped copies
/// match); verbs and flags come from the command definition, backend names from the registry,
/// cluster names from the cache every discovery refreshes, or from a bounded discovery when
/// it is stale, worker names from a lookup of the cluster on the command line.
#[test]
fn completions_are_dynamic_and_names_come_from_the_cache() {
    let env = own_only();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [
        ("bash", "daskctl.bash"),
        ("zsh", "_daskctl"),
        ("fish", "daskctl.fish"),
        ("powershell", "_daskctl.ps1"),
        ("elvish", "daskctl.elv"),
    ] {
        let out = env.run(&["completions", shell]).ok().stdout;
        assert!(
            out.contains("COMPLETE") && out.contains("daskctl"),
            "{shell}: {out}"
        );
        let shipped = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        assert_eq!(
            out, shipped,
            "completions/{file} is stale: regenerate with scripts/completions.sh"
        );
    }
    let verbs = complete(&env, &[""]);
    assert!(verbs.contains(&"list".to_string()), "{verbs:?}");
    assert!(!verbs.iter().any(|v| v.starts_with("__")), "{verbs:?}");
    assert_eq!(complete(&env, &["list", "-b", "lo"]), vec!["local"]);
    assert_eq!(complete(&env, &["create", "sl"]), vec!["slurm"]);
    assert_eq!(
        complete(&env, &["backends", "disable", "htc"]),
        vec!["htcondor"]
    );
    assert_eq!(
        complete(&env, &["list", "--status", "orph"]),
        vec!["orphaned"]
    );
    // nothing cached, nothing found: no names
    assert!(complete(&env, &["describe", "ca"]).is_empty());
    dead_cluster(&env, "cached");
    env.run(&["list"]).ok();
    assert_eq!(complete(&env, &["describe", "ca"]), vec!["cached"]);
    assert_eq!(complete(&env, &["delete", "local/"]), vec!["local/cached"]);
    assert_eq!(
        complete(&env, &["logs", "cached", "--worker", ""]),
        vec!["cached-0"]
    );
    // a filtered list refreshes the cache too
    dead_cluster(&env, "later");
    env.run(&["list", "-b", "local"]).ok();
    assert_eq!(complete(&env, &["scale", "la"]), vec!["later"]);
    // a stale cache: a bounded discovery answers instead, and refreshes the cache
    std::fs::remove_dir_all(env.state().join("local/cached")).unwrap();
    dead_cluster(&env, "newer");
    age_names_cache(&env);
    let names = complete(&env, &["describe", ""]);
    let names: Vec<&String> = names.iter().filter(|n| !n.starts_with('-')).collect();
    assert_eq!(names, ["later", "local/later", "local/newer", "newer"]);
    let cached = std::fs::read_to_string(env.dir.path().join("cache/names.tsv")).unwrap();
    assert!(
        cached.contains("newer") && !cached.contains("cached"),
        "{cached}"
    );
}

/// Cluster names complete in real interactive bash, zsh and fish sessions, hooked as the
/// README says: `daskctl describe fre<TAB>` becomes the name, and the command then runs.
#[test]
fn names_complete_in_real_shells() {
    let env = own_only();
    dead_cluster(&env, "fresh-one");
    env.run(&["list"]).ok();
    for (shell, args, hook) in [
        (
            "bash",
            &["--norc", "--noprofile", "-i"][..],
            "source <(daskctl completions bash)",
        ),
        (
            "zsh",
            &["-f", "-i"][..],
            "autoload -Uz compinit && compinit -u && source <(daskctl completions zsh)",
        ),
        (
            "fish",
            &["--no-config", "-i"][..],
            "daskctl completions fish | source",
        ),
    ] {
        let mut t = env.shell_pty(shell, args);
        // the shell's answer, not the echo of what was typed
        let answer = match shell {
            "fish" => "echo hooked-(math 6 \\* 7)",
            _ => "echo hooked-$((6*7))",
        };
        t.send(&format!("{hook}; {answer}\n"));
        t.expect_text("hooked-42", Duration::from_secs(30));
        t.send("daskctl describe fre\t");
        t.expect_text("fresh-one", Duration::from_secs(30));
        t.send("\n");
        // describe ran on the completed name (the typed "fre" names no cluster)
        t.expect_text("no scheduler or worker is running", Duration::from_secs(30));
        t.send("exit\n");
        let (_, screen) = t.wait(Duration::from_secs(30));
        assert!(!screen.contains("no cluster"), "{shell}: {screen}");
    }
}

#[test]
fn cleanup_previews_by_default_and_acts_with_yes() {
    let env = own_only();
    dead_cluster(&env, "left");
    let o = env.run(&["cleanup", "--orphaned"]).ok();
    assert!(
        o.stdout.contains("left") && o.stdout.contains("would-delete"),
        "{}",
        o.stdout
    );
    assert_eq!(env.state_dirs(), vec!["left".to_string()]);
    // logs of a dead cluster are still readable
    let logs = env
        .run(&["logs", "left", "--scheduler", "--tail", "1"])
        .ok()
        .stdout;
    assert_eq!(logs, "line two\n");
    // -o json: one {"source", "line"} object per line (what the Python package reads)
    let lines = env.run(&["logs", "left", "-o", "json"]).ok().stdout;
    let records: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(
        records,
        vec![
            serde_json::json!({"source": "scheduler", "line": "line one"}),
            serde_json::json!({"source": "scheduler", "line": "line two"}),
        ]
    );
    let o = env
        .run(&["cleanup", "--orphaned", "--yes", "-o", "json"])
        .ok()
        .json();
    assert_eq!(o["dry_run"], false);
    assert_eq!(o["actions"][0]["action"], "deleted");
    assert!(
        o["actions"][0]["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("stopped")
    );
    assert!(env.state_dirs().is_empty());
}

#[test]
fn scheduler_address_that_is_not_dask_is_a_one_line_error() {
    let env = own_only();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = l.local_addr().unwrap().port();
    drop(l);
    let o = env
        .run(&["describe", &format!("tcp://127.0.0.1:{closed}")])
        .code(1);
    assert!(
        o.one_line_error().contains("cannot connect"),
        "{}",
        o.stderr
    );
    // an HTTP server is not Dask
    let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = http.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut s in http.incoming().flatten() {
            let mut buf = [0u8; 256];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let o = env
        .run(&["describe", &format!("tcp://127.0.0.1:{port}")])
        .code(1);
    assert!(o.one_line_error().contains("not a Dask"), "{}", o.stderr);
    env.run(&["scale", "tcp://nonsense", "1"])
        .code(2)
        .one_line_error();
}

/// On a terminal, delete asks; "n" keeps the cluster (exit 5), "y" deletes it.
#[test]
fn delete_asks_on_a_terminal() {
    let env = own_only();
    dead_cluster(&env, "asked");
    for (answer, code, left) in [("n\n", 5, true), ("y\n", 0, false)] {
        let mut t = env.pty(&["delete", "asked"]);
        t.expect_text("[y/N]", Duration::from_secs(30));
        t.send(answer);
        let (exit, text) = t.wait(Duration::from_secs(60));
        assert!(
            text.contains("delete local/asked"),
            "no question asked: {text}"
        );
        assert_eq!(exit, code, "{text}");
        assert_eq!(env.state_dirs().contains(&"asked".to_string()), left);
        // the question shows what would go; no is an answer, not an error
        assert!(
            text.contains("worker(s), scheduler tcp://127.0.0.1:9"),
            "{text}"
        );
        if left {
            assert!(text.contains("nothing was changed"), "{text}");
            assert!(!text.contains("error"), "{text}");
        }
    }
}

/// `list --watch` on a terminal: every listing replaces the last one in place (cursor home,
/// screen cleared) under a line saying how often; a cluster that appears meanwhile is in a
/// later listing; Ctrl-C ends it with 0.
#[test]
fn list_watch_redraws_in_place_until_ctrl_c() {
    let env = own_only();
    dead_cluster(&env, "watched-one");
    let mut t = env.pty(&["list", "--watch", "--interval", "500ms", "-b", "local"]);
    t.expect_text("watched-one", Duration::from_secs(30));
    dead_cluster(&env, "watched-two");
    const CLEAR: &str = "\x1b[H\x1b[2J";
    let last_frame = |s: &str| s.rsplit(CLEAR).next().unwrap_or_default().to_string();
    let s = t.expect(
        "a listing with both clusters",
        Duration::from_secs(30),
        |s| last_frame(s).contains("watched-two") && last_frame(s).contains("watched-one"),
    );
    assert!(s.matches(CLEAR).count() >= 2, "not redrawn in place: {s:?}");
    let frame = last_frame(&s);
    assert!(frame.starts_with("Every 500ms: daskctl list"), "{frame:?}");
    assert!(frame.contains("NAME"), "{frame:?}");
    t.ctrl_c();
    let (code, screen) = t.wait(Duration::from_secs(30));
    assert_eq!(code, 0, "{screen}");
}

/// `list --watch` piped: one listing after another, json one line each, nothing meant for a
/// terminal; SIGINT ends it with 0, and so does a reader that goes away (`| head -2`).
#[test]
fn list_watch_piped_streams_listings() {
    use std::io::BufRead;
    let env = own_only();
    dead_cluster(&env, "streamed");
    let argv = [
        "list",
        "-w",
        "--interval",
        "500ms",
        "-b",
        "local",
        "-o",
        "json",
    ];
    for stop in ["signal", "reader gone"] {
        let mut c = env
            .command(&argv)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(c.stdout.take().unwrap()).lines();
        for _ in 0..2 {
            let line = lines.next().expect("a listing").unwrap();
            assert!(!line.contains('\x1b'), "{line:?}");
            let v: serde_json::Value = serde_json::from_str(&line).expect("one JSON per line");
            assert_eq!(v[0]["name"], "streamed", "{line}");
        }
        if stop == "signal" {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGINT,
            )
            .unwrap();
        } else {
            drop(lines);
        }
        let end = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(st) = c.try_wait().unwrap() {
                break st;
            }
            assert!(Instant::now() < end, "list --watch did not end on {stop}");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(status.code(), Some(0), "{stop}");
    }
    // --interval belongs to --watch
    env.run(&["list", "--interval", "1s"]).code(2);
    env.run(&["list", "-w", "--interval", "10ms"]).code(2);
}

/// A batch backend whose commands are absent is skipped without a word, and says why.
#[test]
fn backends_without_their_tools_are_skipped_quietly() {
    let empty = tempfile::tempdir().unwrap();
    // the batch backends enabled, none of their tools on PATH (so no shared queue either)
    let env = Env::new()
        .with("DASKCTL_BACKENDS__LOCAL__SCAN", "false")
        .with("PATH", empty.path().to_str().unwrap());
    let b = env.run(&["backends", "list", "-o", "json"]).ok().json();
    let slurm = b
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "slurm")
        .unwrap();
    assert_eq!(slurm["available"], false);
    assert_eq!(slurm["reason"], "sbatch not found on PATH");
    let o = env.run(&["list"]).ok();
    assert!(!o.stderr.contains("warning"), "{}", o.stderr);
    let o = env.run(&["create", "slurm", "--name", "x"]).code(1);
    assert!(o.one_line_error().contains("sbatch"), "{}", o.stderr);
    let o = env.run(&["describe", "slurm/x"]).code(1);
    assert!(
        o.one_line_error()
            .contains("slurm: not usable here: sbatch not found"),
        "{}",
        o.stderr
    );
}

/// `list --status`, `--sort-by`, `--no-headers` and the IDLE column, on a running cluster and two
/// stopped ones.
#[test]
fn list_filters_sorts_and_drops_the_header() {
    let _g = crate::support::serial();
    let env = own_only();
    dead_cluster(&env, "zz-stopped");
    dead_cluster(&env, "aa-stopped");
    env.run(&["create", "local", "--name", "mm-running", "--workers", "1"])
        .ok();
    let names = |args: &[&str]| -> Vec<String> {
        let mut argv = vec!["list", "-b", "local", "-o", "name"];
        argv.extend(args);
        env.run(&argv)
            .ok()
            .stdout
            .lines()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        names(&["--sort-by", "name"]),
        vec!["local/aa-stopped", "local/mm-running", "local/zz-stopped"]
    );
    assert_eq!(names(&["--sort-by", "workers"])[0], "local/mm-running");
    assert_eq!(names(&["--status", "running"]), vec!["local/mm-running"]);
    assert_eq!(
        names(&[
            "--status",
            "stopped",
            "--status",
            "running",
            "--sort-by",
            "name"
        ])
        .len(),
        3
    );
    let o = env
        .run(&["list", "-b", "local", "--status", "orphaned"])
        .ok();
    assert!(o.stdout.is_empty());
    assert!(
        o.stderr.contains("No clusters with that status"),
        "{}",
        o.stderr
    );
    env.run(&["list", "--status", "gone"]).code(2);
    env.run(&["list", "--sort-by", "size"]).code(2);

    let table = env
        .run(&["list", "-b", "local", "--sort-by", "name"])
        .ok()
        .stdout;
    let header = table.lines().next().unwrap();
    assert!(header.contains("IDLE"), "{header}");
    let rows = env
        .run(&["list", "-b", "local", "--sort-by", "name", "--no-headers"])
        .ok()
        .stdout;
    assert_eq!(rows.lines().count(), 3, "{rows}");
    assert!(rows.starts_with("aa-stopped"), "{rows}");
    assert!(!rows.contains("NAME"), "{rows}");
    // -v: what discovery did, per backend, with its time; the probe and its outcome
    let o = env.run(&["-v", "list", "-b", "local"]).ok();
    assert!(o.stderr.contains("local: 3 cluster(s) in "), "{}", o.stderr);
    assert!(o.stderr.contains(": answered in "), "{}", o.stderr);
    env.run(&["delete", "local/mm-running", "--yes"]).ok();
}
