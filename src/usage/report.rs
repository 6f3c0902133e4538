//! `daskctl usage` (and `serve`'s `/api/usage`): core-hours and cost held by running, idle and
//! orphaned clusters, grouped by user, backend or status, with what `cleanup --orphaned` and
//! `cleanup --idle` would free.

use super::{Pricing, held, round};
use crate::model::{Cluster, Status};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, SystemTime};

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    #[default]
    User,
    Backend,
    Status,
}

/// What a set of clusters holds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Row {
    pub key: String,
    pub clusters: u64,
    /// Cores held now.
    pub cores: f64,
    pub core_hours: f64,
    /// The priced clusters' cost per hour and since `since` (null: none of them is priced).
    pub cost_per_hour: Option<f64>,
    pub cost: Option<f64>,
    /// Clusters holding cores that have no price (their cost is not in the sums).
    pub unpriced: u64,
}

impl Row {
    fn add(&mut self, c: &Cluster, pricing: &Pricing, now: SystemTime, since: Option<SystemTime>) {
        let h = held(&c.backend, &c.resources, pricing, now, since);
        self.clusters += 1;
        self.cores += h.cores;
        self.core_hours += h.core_hours;
        match h.per_hour.zip(h.cost) {
            Some((p, t)) => {
                self.cost_per_hour = Some(self.cost_per_hour.unwrap_or(0.0) + p);
                self.cost = Some(self.cost.unwrap_or(0.0) + t);
            }
            None if h.cores > 0.0 => self.unpriced += 1,
            None => {}
        }
    }

    fn rounded(mut self) -> Row {
        self.cores = round(self.cores, 3);
        self.core_hours = round(self.core_hours, 4);
        self.cost_per_hour = self.cost_per_hour.map(|v| round(v, 4));
        self.cost = self.cost.map(|v| round(v, 4));
        self
    }
}

/// Held by clusters in each state: `orphaned` is what `cleanup --orphaned` takes (orphaned or
/// stopped, or past its TTL), `idle` a scheduler idle at least `idle_after` (what
/// `cleanup --idle` takes), `busy` the rest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct States {
    pub busy: Row,
    pub idle: Row,
    pub orphaned: Row,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub by: By,
    /// Core-hours and cost counted from here (null: since each resource started).
    #[serde(serialize_with = "crate::model::rfc3339")]
    pub since: Option<SystemTime>,
    /// The idle time from which a cluster counts as idle (`cleanup --idle` with it).
    pub idle_after_seconds: u64,
    pub currency: String,
    pub rows: Vec<Row>,
    pub total: Row,
    pub states: States,
    pub warnings: Vec<String>,
}

/// Which state a cluster counts in.
pub fn state_of(c: &Cluster, idle_after: Duration, now: SystemTime) -> &'static str {
    let expired = c.expires.is_some_and(|t| t <= now);
    if expired || matches!(c.status, Status::Orphaned | Status::Stopped) {
        return "orphaned";
    }
    let idle = c
        .idle_since
        .and_then(|t| now.duration_since(t).ok())
        .is_some_and(|d| d >= idle_after);
    if idle { "idle" } else { "busy" }
}

pub fn build(
    clusters: &[Cluster],
    pricing: &Pricing,
    by: By,
    since: Option<SystemTime>,
    idle_after: Duration,
    now: SystemTime,
) -> Report {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut total = Row {
        key: "total".into(),
        ..Row::default()
    };
    let mut states = States::default();
    for c in clusters {
        let key = match by {
            By::User => c.owner.clone().unwrap_or_else(|| "-".into()),
            By::Backend => c.backend.clone(),
            By::Status => c.status.as_str().to_string(),
        };
        let row = rows.entry(key.clone()).or_insert_with(|| Row {
            key,
            ..Row::default()
        });
        row.add(c, pricing, now, since);
        total.add(c, pricing, now, since);
        let state = match state_of(c, idle_after, now) {
            "orphaned" => &mut states.orphaned,
            "idle" => &mut states.idle,
            _ => &mut states.busy,
        };
        state.add(c, pricing, now, since);
    }
    for (row, key) in [
        (&mut states.busy, "busy"),
        (&mut states.idle, "idle"),
        (&mut states.orphaned, "orphaned"),
    ] {
        row.key = key.into();
        *row = std::mem::take(row).rounded();
    }
    Report {
        by,
        since,
        idle_after_seconds: idle_after.as_secs(),
        currency: pricing.currency().to_string(),
        rows: rows.into_values().map(Row::rounded).collect(),
        total: total.rounded(),
        states,
        warnings: Vec::new(),
    }
}

fn money(v: Option<f64>, currency: &str) -> String {
    v.map_or("-".into(), |v| format!("{v:.2} {currency}"))
}

impl Report {
    pub fn table(&self) -> String {
        let by = match self.by {
            By::User => "USER",
            By::Backend => "BACKEND",
            By::Status => "STATUS",
        };
        let mut t = crate::printer::table(&[by, "CLUSTERS", "CORES", "CORE-H", "COST/H", "COST"]);
        let cells = |r: &Row| {
            vec![
                r.key.clone(),
                r.clusters.to_string(),
                super::format_cores(r.cores),
                super::format_core_hours(r.core_hours),
                money(r.cost_per_hour, &self.currency),
                money(r.cost, &self.currency),
            ]
        };
        for r in &self.rows {
            t.add_row(cells(r));
        }
        t.add_row(cells(&self.total));
        let mut s = crate::printer::render(&t);
        s.push('\n');
        let idle = humantime::format_duration(Duration::from_secs(self.idle_after_seconds));
        for (what, r) in [
            ("orphaned", &self.states.orphaned),
            ("idle", &self.states.idle),
            ("busy", &self.states.busy),
        ] {
            let _ = write!(
                s,
                "{what:<9} {} cluster(s), {} cores, {} core-hours, {}/h",
                r.clusters,
                super::format_cores(r.cores),
                super::format_core_hours(r.core_hours),
                money(r.cost_per_hour, &self.currency)
            );
            match what {
                "orphaned" => s.push_str("  <- cleanup --orphaned would free this"),
                "idle" => {
                    let _ = write!(s, "  <- cleanup --idle {idle} would free this");
                }
                _ => {}
            }
            s.push('\n');
        }
        if self.total.unpriced > 0 {
            let _ = writeln!(
                s,
                "{} cluster(s) hold cores without a price: set [pricing] in the config (README, \"usage: cores, core-hours and cost\")",
                self.total.unpriced
            );
        }
        s.trim_end().to_string()
    }

    pub fn csv(&self) -> String {
        let mut s = String::from(
            "group,key,clusters,cores,core_hours,cost_per_hour,cost,currency,unpriced\n",
        );
        let by = crate::model::word(self.by);
        let num = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        let mut line = |group: &str, r: &Row| {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{}",
                csv_field(group),
                csv_field(&r.key),
                r.clusters,
                r.cores,
                r.core_hours,
                num(r.cost_per_hour),
                num(r.cost),
                csv_field(&self.currency),
                r.unpriced
            );
        };
        for r in &self.rows {
            line(&by, r);
        }
        line("total", &self.total);
        for r in [&self.states.busy, &self.states.idle, &self.states.orphaned] {
            line("state", r);
        }
        s
    }

    /// Gauges for Prometheus (after the per-cluster ones `serve` exposes too).
    pub fn prom(&self, out: &mut String) {
        use crate::exposition::gauge;
        let states = [
            ("busy", &self.states.busy),
            ("idle", &self.states.idle),
            ("orphaned", &self.states.orphaned),
        ];
        gauge(
            out,
            "daskctl_usage_cores",
            "Cores held now by clusters in each state (orphaned: what cleanup --orphaned frees; idle: cleanup --idle).",
            states
                .iter()
                .map(|(k, r)| (format!("state=\"{k}\""), r.cores))
                .collect(),
        );
        gauge(
            out,
            "daskctl_usage_core_hours",
            "Core-hours held by clusters in each state, since their resources started.",
            states
                .iter()
                .map(|(k, r)| (format!("state=\"{k}\""), r.core_hours))
                .collect(),
        );
        gauge(
            out,
            "daskctl_usage_cost_per_hour",
            "What the priced clusters in each state cost per hour.",
            states
                .iter()
                .filter_map(|(k, r)| {
                    Some((
                        format!("state=\"{k}\",currency=\"{}\"", self.currency),
                        r.cost_per_hour?,
                    ))
                })
                .collect(),
        );
    }
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Resource, Role};

    fn cluster(
        name: &str,
        owner: &str,
        status: Status,
        cores: f64,
        secs: u64,
        now: SystemTime,
    ) -> Cluster {
        let mut c = Cluster::new(name, "slurm", Origin::Daskctl);
        c.owner = Some(owner.into());
        c.status = status;
        c.resources.push(Resource {
            kind: "job",
            id: name.into(),
            role: Role::Worker,
            state: "R".into(),
            cores: Some(cores),
            started: Some(now - Duration::from_secs(secs)),
            ..Default::default()
        });
        c
    }

    #[test]
    fn groups_and_states_add_up() {
        let now = SystemTime::now();
        let mut idle = cluster("b", "bob", Status::Running, 2.0, 3600, now);
        idle.idle_since = Some(now - Duration::from_secs(7200));
        let clusters = vec![
            cluster("a", "alice", Status::Running, 4.0, 7200, now),
            idle,
            cluster("c", "alice", Status::Orphaned, 8.0, 1800, now),
        ];
        let mut p = Pricing::default();
        p.core_hour.insert("slurm".into(), 0.1);
        let r = build(
            &clusters,
            &p,
            By::User,
            None,
            Duration::from_secs(1800),
            now,
        );
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[0].key, "alice");
        assert_eq!(r.rows[0].cores, 12.0);
        assert_eq!(r.rows[0].core_hours, 12.0);
        assert_eq!(r.rows[0].cost_per_hour, Some(1.2));
        assert_eq!(r.total.core_hours, 14.0);
        assert_eq!(r.states.orphaned.cores, 8.0);
        assert_eq!(r.states.idle.cores, 2.0);
        assert_eq!(r.states.busy.cores, 4.0);
        // from one hour ago only
        let r = build(
            &clusters,
            &p,
            By::Status,
            Some(now - Duration::from_secs(3600)),
            Duration::from_secs(1800),
            now,
        );
        assert_eq!(r.total.core_hours, 10.0);
        assert_eq!(
            r.rows.iter().map(|x| x.key.as_str()).collect::<Vec<_>>(),
            ["orphaned", "running"]
        );
        let csv = r.csv();
        assert!(csv.starts_with("group,key,"), "{csv}");
        assert!(csv.contains("\ntotal,total,3,14,10,1.4,1,USD,0\n"), "{csv}");
        // without prices: core-hours, and the clusters said to be unpriced
        let r = build(
            &clusters,
            &Pricing::default(),
            By::User,
            None,
            Duration::from_secs(1800),
            now,
        );
        assert_eq!(r.total.cost_per_hour, None);
        assert_eq!(r.total.unpriced, 3);
        assert!(r.table().contains("hold cores without a price"));
    }
}
