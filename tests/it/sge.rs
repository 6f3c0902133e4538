//! The Grid Engine backend against the real Son of Grid Engine of scripts/testbeds/sge.sh.

use crate::conformance::Bed;
use crate::support::{Env, sge_jobs, sge_up};

pub struct SgeBed;

impl Bed for SgeBed {
    fn backend(&self) -> &'static str {
        "sge"
    }
    fn env(&self) -> Env {
        Env::sge()
    }
    fn create_flags(&self) -> Vec<String> {
        vec!["--walltime".into(), "00:20:00".into()]
    }
    fn gone(&self, _env: &Env, c: &serde_json::Value) -> bool {
        let active = sge_jobs("");
        c["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !active.contains(&r["id"].as_str().unwrap().to_string()))
    }
    fn available(&self) -> bool {
        sge_up()
    }
}

crate::conformance!(conformance_sge, super::SgeBed);

/// qsub refusing (an unknown queue) is a clear error, and nothing is left behind.
#[test]
fn refused_submission_leaves_nothing_behind() {
    if !sge_up() {
        return;
    }
    let env = Env::sge();
    let o = env
        .run(&[
            "create",
            "sge",
            "--name",
            "badq",
            "--workers",
            "1",
            "--partition",
            "nosuch.q",
        ])
        .code(1);
    let line = o.one_line_error();
    assert!(line.contains("qsub") && line.contains("nosuch.q"), "{line}");
    assert!(sge_jobs("badq").is_empty(), "{:?}", sge_jobs("badq"));
    assert!(!env.shared().join("badq").exists());
}
