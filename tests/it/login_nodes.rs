//! Several login nodes over one home (issue 29): two sibling-namespace nodes
//! (scripts/testbeds/login-nodes.sh), each with its own hostname, processes and loopback, over
//! one state directory. A local cluster that runs on login2 is, from login1, listed with its
//! host and `unknown`, never `stopped`; login1's cron cleanup, reconcile (its TTL long past)
//! and delete leave it running; login2 itself sees it running and deletes it.

use crate::support::nodes::LoginNode;
use crate::support::{Env, wait_until};
use std::time::{Duration, SystemTime};

fn listed(out: &crate::support::Out, name: &str) -> serde_json::Value {
    let all: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", out.stdout, out.stderr));
    all.as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} not listed: {all}"))
}

#[test]
fn another_nodes_cluster_is_listed_with_its_host_and_left_to_it() {
    let Some(login1) = LoginNode::start("login1") else {
        return;
    };
    let Some(login2) = LoginNode::start("login2") else {
        return;
    };
    let env = Env::new().without_batch();
    let o = login2.daskctl(
        &env,
        &[
            "create",
            "local",
            "--name",
            "shared",
            "--workers",
            "1",
            "--ttl",
            "1s",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let state = env.state().join("local/shared");
    // from login2: its own, running, with its host
    let here = listed(&login2.daskctl(&env, &["list", "-o", "json"]), "shared");
    assert_eq!(here["status"], "running", "{here}");
    assert_eq!(here["host"], login2.name.as_str(), "{here}");

    // from login1: the same files, none of its processes; its TTL runs out meanwhile
    let mut there = serde_json::Value::Null;
    wait_until(
        "its TTL over, seen from login1",
        Duration::from_secs(30),
        || {
            there = listed(&login1.daskctl(&env, &["list", "-o", "json"]), "shared");
            there["expires"]
                .as_str()
                .and_then(|t| humantime::parse_rfc3339(t).ok())
                .is_some_and(|t| t < SystemTime::now())
        },
    );
    assert_eq!(there["status"], "unknown", "{there}");
    assert_eq!(there["host"], login2.name.as_str(), "{there}");
    assert!(
        there["reason"].as_str().unwrap().contains(&login2.name),
        "{there}"
    );
    let wide = login1.daskctl(&env, &["list", "-o", "wide"]);
    assert!(
        wide.stdout.contains("HOST") && wide.stdout.contains(&login2.name),
        "{}",
        wide.stdout
    );
    // the README's cron line, and reconcile, on login1: nothing of login2's is touched
    let o = login1.daskctl(
        &env,
        &[
            "cleanup",
            "--orphaned",
            "--older-than",
            "0s",
            "--yes",
            "-o",
            "json",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stdout.contains("\"shared\""), "{}", o.stdout);
    let o = login1.daskctl(&env, &["reconcile", "--yes", "-o", "json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stdout.contains("\"shared\""), "{}", o.stdout);
    // a delete or scale from login1 names the host to run on, and does nothing
    for args in [
        &["delete", "shared", "--yes"][..],
        &["scale", "shared", "0"][..],
    ] {
        let o = login1.daskctl(&env, args);
        assert_eq!(o.code, 5, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains(&login2.name), "{}", o.stderr);
    }
    assert!(state.join("state.json").exists(), "its state is intact");
    let here = listed(&login2.daskctl(&env, &["list", "-o", "json"]), "shared");
    assert_eq!(here["status"], "running", "{here}");
    assert_eq!(here["workers"], 1, "{here}");

    // login2 judges its own: deleted there, verified gone
    let o = login2.daskctl(&env, &["delete", "shared", "--yes"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!state.exists());
}
