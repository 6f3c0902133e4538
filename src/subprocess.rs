//! Helper commands (`squeue`, `sbatch`, a Python probe) run in a process group of their own,
//! and the whole group is killed when daskctl gives up on them (a deadline, Ctrl-C): killing
//! only the direct child, as `kill_on_drop` does, would leave what it started (a wrapper
//! script's `sleep`, a site's `squeue` shim and its own children) running after daskctl ends.
//! Only when daskctl itself is killed outright does a group outlive it (a submission in
//! flight then finishes and releases the cluster's lock: `jobqueue/lock.rs`).

/// Kills its process group when dropped.
pub struct GroupGuard {
    pgid: Option<i32>,
}

impl GroupGuard {
    /// For a child spawned with `process_group(0)` (its pid is its group's id).
    pub fn new(pid: Option<u32>) -> GroupGuard {
        GroupGuard {
            pgid: pid.map(|p| p as i32).filter(|p| *p > 1),
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(g) = self.pgid {
            // the group is this daskctl's own children's; gone already: nothing to do
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(g),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
