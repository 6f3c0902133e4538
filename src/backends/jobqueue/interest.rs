//! Which queued jobs a listing keeps. A facility's queue holds tens of thousands of jobs, nearly
//! none of them Dask's: a dialect asks `wants` with the fields it has just split out of a line
//! (borrowed, nothing allocated) and builds a `Job` only for the few it keeps.

use crate::backends::Scope;

/// What a listing is for.
#[derive(Debug, Clone)]
pub enum Interest {
    /// Every job (a cancel waiting for its own ids, `logs --follow` watching its jobs).
    Everything,
    /// The jobs that may belong to a Dask cluster, of the users in scope.
    Dask(DaskJobs),
}

#[derive(Debug, Clone)]
pub struct DaskJobs {
    pub me: String,
    pub scope: Scope,
    /// Job names of dask-jobqueue workers (`backends.NAME.jobqueue_names`).
    pub jobqueue_names: Vec<String>,
    /// Only jobs of these names (one cluster's, `from_name`): a system that filters by job name
    /// itself (`squeue --name`) is asked to, the others' listings are filtered here.
    pub named: Option<Vec<String>>,
    /// Whether jobs that may be dask-mpi clusters are kept too (where their scripts can be
    /// read): every job of the caller's, and others' named for MPI.
    pub mpi: bool,
}

/// What a job is, as far as it matters here; fields as the queue printed them.
#[derive(Debug, Default, Clone, Copy)]
pub struct Head<'a> {
    pub user: &'a str,
    pub name: &'a str,
    /// daskctl's marker where the system keeps it (Slurm's comment, a PBS/SGE variable)
    pub marker: Option<&'a str>,
    /// the job's command line, where the queue shows it (HTCondor)
    pub command: Option<&'a str>,
    /// a Dask worker name the queue shows (HTCondor's dask-jobqueue jobs)
    pub has_worker_name: bool,
}

impl Interest {
    /// Whether a job with this head may be part of a Dask cluster this listing is for. A
    /// superset of what discovery places (discover.rs `place`): a job not kept here is nobody's
    /// cluster.
    pub fn wants(&self, h: &Head<'_>) -> bool {
        let Interest::Dask(d) = self else {
            return true;
        };
        if !h.user.is_empty() && !d.scope.includes(h.user, &d.me) {
            return false;
        }
        let name = h.name;
        if let Some(named) = &d.named {
            return named.iter().any(|n| n == name);
        }
        // the caller's own jobs, any of which may be a dask-mpi cluster (its script says); with
        // `--all-users`, other users' jobs named for MPI
        (d.mpi && (h.user.is_empty() || h.user == d.me || contains_ignoring_case(name, "mpi")))
            // daskctl's marker, or its job names (CLUSTER-scheduler, CLUSTER-worker[-GROUP])
            || h.marker.is_some_and(|m| m.trim_start().starts_with(super::markers::PREFIX))
            || name.ends_with("-scheduler")
            || name.ends_with("-worker")
            || name.contains("-worker-")
            // dask-gateway's jobs, htcdaskgateway's workers
            || name == "dask-gateway"
            || name.starts_with("htcdask-worker")
            || h.command.is_some_and(|c| c.contains("htcdask-worker"))
            // dask-jobqueue's workers
            || h.has_worker_name
            || d.jobqueue_names.iter().any(|n| n == name)
    }
}

/// Whether `s` contains the ASCII word `w` (lowercase), in any case, without allocating.
fn contains_ignoring_case(s: &str, w: &str) -> bool {
    s.as_bytes()
        .windows(w.len())
        .any(|x| x.eq_ignore_ascii_case(w.as_bytes()))
}

impl Interest {
    /// The job names a listing is restricted to, if it is.
    pub fn named(&self) -> Option<&[String]> {
        match self {
            Interest::Dask(d) => d.named.as_deref(),
            Interest::Everything => None,
        }
    }

    /// The Dask jobs of `me` only, as a plain `list` asks (for tests of the dialects' parsers).
    #[cfg(test)]
    pub fn mine(me: &str) -> Interest {
        Interest::Dask(DaskJobs {
            me: me.into(),
            scope: Scope::Mine,
            jobqueue_names: Vec::new(),
            named: None,
            mpi: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dask(scope: Scope) -> Interest {
        Interest::Dask(DaskJobs {
            me: "ann".into(),
            scope,
            jobqueue_names: vec!["dask-worker".into()],
            named: None,
            mpi: false,
        })
    }

    fn head<'a>(user: &'a str, name: &'a str, marker: Option<&'a str>) -> Head<'a> {
        Head {
            user,
            name,
            marker,
            ..Head::default()
        }
    }

    #[test]
    fn dask_jobs_of_users_in_scope_are_kept_and_the_rest_is_not() {
        let mine = dask(Scope::Mine);
        for name in [
            "etl-scheduler",
            "etl-worker",
            "etl-worker-gpu",
            "dask-gateway",
            "htcdask-worker_12_0",
            "dask-worker",
        ] {
            assert!(mine.wants(&head("ann", name, None)), "{name}");
            assert!(!mine.wants(&head("bob", name, None)), "{name} of bob");
        }
        assert!(mine.wants(&head(
            "ann",
            "x",
            Some("daskctl:v1;cluster=a;role=worker;dir=/d")
        )));
        assert!(!mine.wants(&head("ann", "vasp", Some("(null)"))));
        assert!(!mine.wants(&head("ann", "vasp", None)));
        let everyone = dask(Scope::Everyone);
        assert!(everyone.wants(&head("bob", "etl-worker", None)));
        assert!(!everyone.wants(&head("bob", "gromacs", None)));
        assert!(!everyone.wants(&head("bob", "Dask-MPI-run", None)));
        // where scripts can be read: the caller's other jobs (any may be a dask-mpi cluster)
        // and others' named for MPI
        let with = |scope| match dask(scope) {
            Interest::Dask(d) => Interest::Dask(DaskJobs { mpi: true, ..d }),
            i => i,
        };
        assert!(with(Scope::Mine).wants(&head("ann", "vasp", None)));
        assert!(!with(Scope::Mine).wants(&head("bob", "vasp", None)));
        assert!(with(Scope::Everyone).wants(&head("bob", "Dask-MPI-run", None)));
        assert!(!with(Scope::Everyone).wants(&head("bob", "gromacs", None)));
        assert!(Interest::Everything.wants(&head("bob", "gromacs", None)));
    }
}
