//! `daskctl usage` and what `cleanup` frees, through the binary on real local clusters priced
//! per core-hour from the environment (`DASKCTL_PRICING__CORE_HOUR__LOCAL`).

use crate::support::{self, Env, alive, wait_until};
use std::time::Duration;

#[test]
fn usage_counts_what_runs_and_what_cleanup_would_free() {
    let _g = support::serial();
    let env = Env::new()
        .without_batch()
        .with("DASKCTL_BACKENDS__LOCAL__SCAN", "false")
        .with("DASKCTL_PRICING__CORE_HOUR__LOCAL", "0.25");
    for (name, workers) in [("use-busy", "2"), ("use-lost", "1")] {
        env.run(&[
            "create",
            "local",
            "--name",
            name,
            "--workers",
            workers,
            "--threads",
            "1",
        ])
        .ok();
    }
    // use-lost loses its scheduler: its worker (stopped, so it stays) is an orphan
    let lost = env.describe("use-lost");
    let sched = support::pids_of(&lost, "scheduler")[0];
    let worker = support::pids_of(&lost, "worker")[0];
    support::signal_group(worker, "STOP");
    support::kill_group(sched);
    wait_until("scheduler dead", Duration::from_secs(10), || !alive(sched));

    let busy = env.describe("use-busy");
    assert_eq!(
        busy["cores"], 3.0,
        "a scheduler and two one-thread workers: {busy}"
    );
    assert_eq!(busy["cost"]["per_hour"], 0.75, "{busy}");
    assert_eq!(busy["cost"]["currency"], "USD");

    let r = env
        .run(&["usage", "-o", "json", "--by", "status", "--idle", "1h"])
        .ok()
        .json();
    assert_eq!(r["states"]["orphaned"]["clusters"], 1, "{r}");
    assert_eq!(r["states"]["orphaned"]["cores"], 1.0, "{r}");
    assert_eq!(r["states"]["orphaned"]["cost_per_hour"], 0.25, "{r}");
    assert_eq!(r["states"]["busy"]["cores"], 3.0, "{r}");
    assert_eq!(r["total"]["cost_per_hour"], 1.0, "{r}");
    let keys: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["orphaned", "running"], "{r}");

    let csv = env.run(&["usage", "-o", "csv"]).ok().stdout;
    assert!(csv.starts_with("group,key,clusters,cores,"), "{csv}");
    assert!(csv.contains("\ntotal,total,2,4,"), "{csv}");

    // the textfile: written whole, nothing else left beside it
    let dir = env.dir.path().join("textfile");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("daskctl.prom");
    env.run(&["usage", "--textfile", file.to_str().unwrap()])
        .ok();
    let prom = std::fs::read_to_string(&file).unwrap();
    assert!(
        prom.lines()
            .any(|l| l.starts_with("daskctl_cluster_core_hours_total{")
                && l.contains("name=\"use-busy\"")),
        "{prom}"
    );
    assert!(
        prom.contains("daskctl_usage_cores{state=\"orphaned\"} 1\n"),
        "{prom}"
    );
    assert!(prom.contains("daskctl_cluster_cost_per_hour{"), "{prom}");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["daskctl.prom"]);

    // cleanup says what it would free, then what it freed
    let preview = env.run(&["cleanup", "--orphaned"]).ok();
    assert!(
        preview
            .stderr
            .contains("Would free: 1 cluster(s), 1 cores, 0.25 USD/h."),
        "{}",
        preview.stderr
    );
    let done = env
        .run(&["cleanup", "--orphaned", "--yes", "-o", "json"])
        .ok()
        .json();
    assert_eq!(done["freed"]["cores"], 1.0, "{done}");
    assert_eq!(done["freed"]["cost_per_hour"], 0.25, "{done}");
    assert!(!alive(worker));

    // a price no one means is refused before anything is asked
    let bad = env
        .run_env(&[("DASKCTL_PRICING__CORE_HOUR__LOCAL", "-1")], &["usage"])
        .code(2);
    assert!(
        bad.stderr.contains("pricing.core_hour.local"),
        "{}",
        bad.stderr
    );
    env.run(&["delete", "use-busy", "--yes"]).ok();
}
