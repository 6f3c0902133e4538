//! One integration test binary: it drives the real `daskctl` executable and the library
//! against real Dask processes.

mod adapt;
mod all_users;
mod architecture;
mod aws;
mod cli_contract;
mod conformance;
mod dask_mpi;
mod dry_run;
mod faults;
mod gateway;
mod gcp;
mod groups;
mod hostile;
mod htcondor;
#[cfg(feature = "kubernetes")]
mod kubernetes;
mod local;
mod login_nodes;
mod lsf;
mod moab;
mod pbs;
mod protocol;
mod races;
mod readme;
mod serve;
mod sge;
mod slurm;
mod spec;
mod support;
mod usage;
