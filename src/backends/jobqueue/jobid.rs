//! Job ids as the batch systems write them, ordered by submission: Slurm `3` and array tasks
//! `3_1`, Grid Engine `12.3` (job 12, task 3), PBS `123.server`, `123[4].server` and the array
//! parent `123[]`, HTCondor `42.0` (cluster 42, proc 0), Moab `Moab.12`. Sorting them as integers gave every
//! array task 0, so scale-down could cancel older tasks instead of the newest.

use std::cmp::Ordering;

/// The parts of a job id that order it: the job (or array) number, then the task number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobKey {
    pub job: u64,
    /// Task of an array (`None` for a plain job or an array's parent).
    pub task: Option<u64>,
    /// The id as written: the last tie-breaker, so the order is total.
    pub raw: String,
}

impl JobKey {
    pub fn parse(id: &str) -> JobKey {
        let digits = |s: &str| -> (Option<u64>, usize) {
            let n = s.bytes().take_while(u8::is_ascii_digit).count();
            (s[..n].parse().ok(), n)
        };
        // Moab names jobs `Moab.12` (its server's name, then the number)
        let numbered = match id.split_once('.') {
            Some((prefix, n))
                if !prefix.is_empty()
                    && prefix.bytes().all(|b| b.is_ascii_alphabetic())
                    && n.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                n
            }
            _ => id,
        };
        let (job, n) = digits(numbered);
        let rest = &numbered[n..];
        let task = if let Some(t) = rest.strip_prefix('_').or_else(|| rest.strip_prefix('[')) {
            digits(t).0
        } else if let Some(t) = rest.strip_prefix('.') {
            // `12.3` is a task (SGE) or a proc (HTCondor); `123.server` is PBS's server suffix
            match digits(t) {
                (Some(v), len) if len == t.len() => Some(v),
                _ => None,
            }
        } else {
            None
        };
        JobKey {
            job: job.unwrap_or(0),
            task,
            raw: id.to_string(),
        }
    }
}

impl Ord for JobKey {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.job, self.task, &self.raw).cmp(&(other.job, other.task, &other.raw))
    }
}

impl PartialOrd for JobKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(ids: &[&str]) -> Vec<String> {
        let mut keys: Vec<JobKey> = ids.iter().map(|i| JobKey::parse(i)).collect();
        keys.sort();
        keys.into_iter().map(|k| k.raw).collect()
    }

    #[test]
    fn array_tasks_and_server_ids_sort_by_number() {
        assert_eq!(
            sorted(&["3_10", "3_2", "3_1", "2"]),
            ["2", "3_1", "3_2", "3_10"]
        );
        assert_eq!(sorted(&["12.10", "12.3", "9.1"]), ["9.1", "12.3", "12.10"]);
        assert_eq!(
            sorted(&["123[10].srv", "123[2].srv", "123[].srv", "99.srv"]),
            ["99.srv", "123[].srv", "123[2].srv", "123[10].srv"]
        );
        assert_eq!(sorted(&["42.1", "42.0", "41.5"]), ["41.5", "42.0", "42.1"]);
        assert_eq!(JobKey::parse("123.pbs01").task, None);
        assert_eq!(JobKey::parse("garbage").job, 0);
        // Moab's ids: the server's name, then the number
        assert_eq!(
            sorted(&["Moab.10", "Moab.9", "Moab.100"]),
            ["Moab.9", "Moab.10", "Moab.100"]
        );
        assert_eq!(
            (JobKey::parse("Moab.12").job, JobKey::parse("Moab.12").task),
            (12, None)
        );
        assert_eq!(JobKey::parse("Moab.x").job, 0);
    }
}
