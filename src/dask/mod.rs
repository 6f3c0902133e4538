//! A client of the Dask scheduler's TCP comm protocol.

pub mod client;
pub mod comm;
pub mod daskconfig;
pub mod frame;
pub mod probe;
pub mod tls;

pub use client::{Identity, SchedulerInfo};
pub use comm::{Address, Comm};
pub use probe::{Probe, Prober};
