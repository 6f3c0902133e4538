//! The PBS backend through Slurm's PBS command wrappers (Debian's slurm-wlm-torque) over the
//! real Slurm test bed. The formats those wrappers do not produce (PBS Pro's `-F json`,
//! Variable_List, subjobs) are covered by the fixtures in src/backends/pbs/queue.rs.

use crate::conformance::Bed;
use crate::support::{Env, pbs_up, slurm_jobs};

pub struct PbsBed;

impl Bed for PbsBed {
    fn backend(&self) -> &'static str {
        "pbs"
    }
    fn env(&self) -> Env {
        Env::pbs()
    }
    fn create_flags(&self) -> Vec<String> {
        vec!["--walltime".into(), "00:20:00".into()]
    }
    fn gone(&self, _env: &Env, c: &serde_json::Value) -> bool {
        // PBS jobs here are Slurm jobs underneath
        let active = slurm_jobs("");
        c["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !active.contains(&r["id"].as_str().unwrap().to_string()))
    }
    fn available(&self) -> bool {
        pbs_up()
    }
}

crate::conformance!(conformance_pbs, super::PbsBed);

/// qsub refusing (an unknown queue) is a clear error, and nothing is left behind.
#[test]
fn refused_submission_leaves_nothing_behind() {
    if !pbs_up() {
        return;
    }
    let env = Env::pbs();
    let o = env
        .run(&[
            "create",
            "pbs",
            "--name",
            "badq",
            "--workers",
            "1",
            "--partition",
            "nosuchq",
        ])
        .code(1);
    let line = o.one_line_error();
    assert!(line.contains("qsub"), "{line}");
    assert!(slurm_jobs("badq").is_empty(), "{:?}", slurm_jobs("badq"));
    assert!(!env.shared().join("badq").exists());
}
