//! Cores, core-hours and cost: what a cluster holds and has held, priced from `[pricing]` in
//! the config (a price per core-hour per backend; EC2 instance types from the bundled table in
//! `pricing/ec2.rs`, overridable per type).
//!
//! Backends say what each resource asks for (`Resource::cores`), since when it holds it
//! (`Resource::started`, only while it runs) and, where they price it themselves, what it costs
//! per hour (`Resource::hourly_cost`). Everything else is computed here, once, for every
//! backend: `account` fills a cluster's `cores`, `core_hours` and `cost`.

pub mod report;

pub use crate::pricing::Pricing;

use crate::model::{Cluster, Cost, Resource};
use std::time::SystemTime;

/// What a set of resources holds, counted from `since` (None: from when each started).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Held {
    /// Cores asked for by resources that hold or wait for them.
    pub requested: f64,
    /// Cores held now (resources that run).
    pub cores: f64,
    pub core_hours: f64,
    /// None when something held has no price.
    pub per_hour: Option<f64>,
    pub cost: Option<f64>,
    /// Whether any resource said how many cores it asks for.
    pub known: bool,
}

fn hours(from: SystemTime, now: SystemTime) -> f64 {
    now.duration_since(from)
        .map(|d| d.as_secs_f64() / 3600.0)
        .unwrap_or(0.0)
}

/// What `resources` of a `backend` cluster hold at `now`, counted from `since`.
pub fn held(
    backend: &str,
    resources: &[Resource],
    pricing: &Pricing,
    now: SystemTime,
    since: Option<SystemTime>,
) -> Held {
    let core_price = pricing.core_hour.get(backend).copied();
    let mut h = Held {
        per_hour: Some(0.0),
        cost: Some(0.0),
        ..Held::default()
    };
    let mut priced = false;
    for r in resources {
        let Some(cores) = r.cores else { continue };
        h.known = true;
        h.requested += cores;
        let Some(started) = r.started else { continue };
        let from = since.map_or(started, |s| s.max(started));
        let t = hours(from, now);
        h.cores += cores;
        h.core_hours += cores * t;
        let price = r.hourly_cost.or(core_price.map(|p| p * cores));
        priced |= price.is_some();
        match price {
            Some(p) => {
                h.per_hour = h.per_hour.map(|x| x + p);
                h.cost = h.cost.map(|x| x + p * t);
            }
            None => {
                h.per_hour = None;
                h.cost = None;
            }
        }
    }
    // nothing running: free, if this backend has prices at all; else unpriced
    let has_prices =
        priced || core_price.is_some() || resources.iter().any(|r| r.hourly_cost.is_some());
    if !has_prices {
        h.per_hour = None;
        h.cost = None;
    }
    h
}

/// Fills a cluster's `cores`, `core_hours` and `cost` from its resources.
pub fn account(c: &mut Cluster, pricing: &Pricing, now: SystemTime) {
    let h = held(&c.backend, &c.resources, pricing, now, None);
    if !h.known {
        return;
    }
    c.cores = Some(round(h.requested, 3));
    c.core_hours = Some(round(h.core_hours, 4));
    c.cost = h.per_hour.zip(h.cost).map(|(per_hour, total)| Cost {
        currency: pricing.currency().to_string(),
        per_hour: round(per_hour, 4),
        total: round(total, 4),
    });
}

/// `4`, `0.5`, `12.25`: cores as a person reads them.
pub fn format_cores(v: f64) -> String {
    let r = round(v, 2);
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r}")
    }
}

/// Core-hours with one decimal (two below one).
pub fn format_core_hours(v: f64) -> String {
    if v < 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

/// `0.19 USD/h` (the rate), or with the total: `0.19 USD/h, 4.56 USD so far`.
pub fn format_rate(c: &Cost) -> String {
    format!("{:.2} {}/h", c.per_hour, c.currency)
}

pub fn format_cost(c: &Cost) -> String {
    format!(
        "{:.2} {}/h, {:.2} {} so far",
        c.per_hour, c.currency, c.total, c.currency
    )
}

pub fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Role};
    use std::time::Duration;

    fn res(cores: f64, started_secs_ago: Option<u64>, now: SystemTime) -> Resource {
        Resource {
            kind: "job",
            id: "1".into(),
            role: Role::Worker,
            state: "R".into(),
            cores: Some(cores),
            started: started_secs_ago.map(|s| now - Duration::from_secs(s)),
            ..Default::default()
        }
    }

    #[test]
    fn core_hours_come_from_start_times() {
        let now = SystemTime::now();
        let mut c = Cluster::new("x", "slurm", Origin::Daskctl);
        // 4 cores for 2 h, 2 cores for 30 min, 8 cores queued (asked for, not held)
        c.resources = vec![
            res(4.0, Some(7200), now),
            res(2.0, Some(1800), now),
            res(8.0, None, now),
        ];
        account(&mut c, &Pricing::default(), now);
        assert_eq!(c.cores, Some(14.0));
        assert_eq!(c.core_hours, Some(9.0));
        assert_eq!(c.cost, None, "no price configured: core-hours only");

        let mut p = Pricing::default();
        p.core_hour.insert("slurm".into(), 0.5);
        account(&mut c, &p, now);
        assert_eq!(
            c.cost,
            Some(Cost {
                currency: "USD".into(),
                per_hour: 3.0,
                total: 4.5
            })
        );
        // counted since 1 h ago: 4 cores x 1 h + 2 cores x 0.5 h
        let h = held(
            "slurm",
            &c.resources,
            &p,
            now,
            Some(now - Duration::from_secs(3600)),
        );
        assert_eq!(h.core_hours, 5.0);
        assert_eq!(h.cores, 6.0);
    }

    #[test]
    fn an_unpriced_resource_leaves_the_cost_unknown() {
        let now = SystemTime::now();
        let mut a = res(2.0, Some(3600), now);
        a.hourly_cost = Some(0.096);
        let b = res(2.0, Some(3600), now);
        let h = held("aws", &[a.clone(), b], &Pricing::default(), now, None);
        assert_eq!(h.per_hour, None, "a partial cost would understate it");
        let h = held("aws", &[a], &Pricing::default(), now, None);
        assert_eq!(h.per_hour, Some(0.096));
        assert!((h.cost.unwrap() - 0.096).abs() < 1e-9);
    }

    #[test]
    fn ec2_prices_come_from_config_then_the_table_in_usd_only() {
        let mut p = Pricing::default();
        let east = "us-east-1";
        assert_eq!(p.ec2("m5.large", false, east), Some(0.096));
        assert_eq!(
            p.ec2("m5.large", false, "eu-west-1"),
            None,
            "the us-east-1 table is not another region's price"
        );
        assert_eq!(p.ec2("m5.large", true, east), None, "spot is never guessed");
        p.ec2.insert("m5.large".into(), 0.107);
        p.ec2_spot.insert("m5.large".into(), 0.04);
        assert_eq!(p.ec2("m5.large", false, east), Some(0.107));
        assert_eq!(p.ec2("m5.large", false, "eu-west-1"), Some(0.107));
        assert_eq!(p.ec2("m5.large", true, east), Some(0.04));
        p.currency = Some("EUR".into());
        assert_eq!(p.ec2("c5.large", false, east), None);
        assert!(p.check().is_ok());
        p.core_hour.insert("slurm".into(), -1.0);
        assert!(p.check().is_err());
        p.core_hour.clear();
        p.currency = Some("euro".into());
        assert!(p.check().is_err());
    }
}
