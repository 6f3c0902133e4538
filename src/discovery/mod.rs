//! Finding clusters across backends: concurrent fan-out with per-backend deadlines, name
//! resolution and the name cache used by shell completion.

pub mod cache;
pub mod fanout;
pub mod resolve;

pub use fanout::{Outcome, enabled_backends, fan_out};
pub use resolve::resolve;
