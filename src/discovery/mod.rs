//! Finding clusters across backends: concurrent fan-out with per-backend deadlines, name
//! resolution, status classification, and the name cache used by shell completion.

pub mod cache;
pub mod fanout;
pub mod orphan;
pub mod resolve;

pub use fanout::{Outcome, enabled_backends, fan_out};
pub use resolve::resolve;
