//! Finding clusters across backends: concurrent fan-out with per-backend deadlines, name
//! resolution and the name cache used by shell completion.

pub mod cache;
pub mod fanout;
pub mod resolve;

pub use fanout::{Outcome, enabled_backends, fan_out};
pub use resolve::resolve;

/// What every cluster a backend returns gets before a verb sees it: the policy its backend
/// stores for it, and its cores, core-hours and cost (`crate::usage`).
pub fn finish(b: &dyn crate::backends::Backend, c: &mut crate::model::Cluster) {
    crate::policy::attach(b, c);
    if let Some(p) = b.pricing() {
        crate::usage::account(c, p, std::time::SystemTime::now());
    }
}
