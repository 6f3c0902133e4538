//! `[pricing]`: what a core-hour costs by backend, and EC2 instances by type (the bundled
//! table in `ec2.rs`, overridable per type). Read with the config; `usage` applies it.

pub mod ec2;
pub mod gce;

use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `[pricing]`: every price in `currency` (default USD).
///
/// ```toml
/// [pricing]
/// currency = "USD"
/// core_hour = { slurm = 0.02, kubernetes = 0.045 }   # per core-hour, by backend
/// ec2 = { "m5.large" = 0.107 }                       # per hour, overrides the bundled table
/// ec2_spot = { "m5.large" = 0.035 }                  # spot instances (not bundled)
/// gce = { "n2-standard-4" = 0.21 }                   # Compute Engine, over the bundled table
/// gce_spot = { "n2-standard-4" = 0.05 }              # spot or preemptible (not bundled)
/// ```
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    pub currency: Option<String>,
    /// Price of one core for one hour, by backend name (HPC, Kubernetes, local). None: the
    /// backend's clusters show core-hours only.
    #[serde(default, deserialize_with = "prices")]
    pub core_hour: BTreeMap<String, f64>,
    /// Per hour by EC2 instance type (on demand), over the bundled table.
    #[serde(default, deserialize_with = "prices")]
    pub ec2: BTreeMap<String, f64>,
    /// Per hour by EC2 instance type for spot instances.
    #[serde(default, deserialize_with = "prices")]
    pub ec2_spot: BTreeMap<String, f64>,
    /// Per hour by Compute Engine machine type (on demand), over the bundled table.
    #[serde(default, deserialize_with = "prices")]
    pub gce: BTreeMap<String, f64>,
    /// Per hour by Compute Engine machine type for spot and preemptible instances.
    #[serde(default, deserialize_with = "prices")]
    pub gce_spot: BTreeMap<String, f64>,
}

/// Prices as numbers; from `DASKCTL_PRICING__...` variables `1` and `0` arrive as booleans
/// (the environment's words for on and off) and a price as text: both read as the number.
fn prices<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, f64>, D::Error> {
    let raw = BTreeMap::<String, toml::Value>::deserialize(d)?;
    raw.into_iter()
        .map(|(k, v)| {
            let n = match &v {
                toml::Value::Float(f) => Some(*f),
                toml::Value::Integer(i) => Some(*i as f64),
                toml::Value::Boolean(b) => Some(if *b { 1.0 } else { 0.0 }),
                toml::Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            n.map(|n| (k.clone(), n)).ok_or_else(|| {
                serde::de::Error::custom(format!("price of {k} must be a number, not {v}"))
            })
        })
        .collect()
}

impl Pricing {
    pub fn currency(&self) -> &str {
        self.currency.as_deref().unwrap_or("USD")
    }

    /// Refuses prices no one means: negative, NaN, infinite; a currency that is not a code.
    pub fn check(&self) -> Result<()> {
        let all = self
            .core_hour
            .iter()
            .map(|(k, v)| (format!("pricing.core_hour.{k}"), *v))
            .chain(
                self.ec2
                    .iter()
                    .map(|(k, v)| (format!("pricing.ec2.{k}"), *v)),
            )
            .chain(
                self.ec2_spot
                    .iter()
                    .map(|(k, v)| (format!("pricing.ec2_spot.{k}"), *v)),
            )
            .chain(
                self.gce
                    .iter()
                    .map(|(k, v)| (format!("pricing.gce.{k}"), *v)),
            )
            .chain(
                self.gce_spot
                    .iter()
                    .map(|(k, v)| (format!("pricing.gce_spot.{k}"), *v)),
            );
        for (key, v) in all {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::Usage(format!(
                    "{key} must be a price of 0 or more, not {v}"
                )));
            }
        }
        if let Some(c) = &self.currency
            && !(c.len() == 3 && c.chars().all(|x| x.is_ascii_uppercase()))
        {
            return Err(Error::Usage(format!(
                "pricing.currency must be a three-letter code such as USD or EUR, not {c:?}"
            )));
        }
        Ok(())
    }

    /// An EC2 instance's price per hour in `region`: configured, else (on demand, in USD, in
    /// the table's own region only: prices differ by region) the bundled table.
    pub fn ec2(&self, instance_type: &str, spot: bool, region: &str) -> Option<f64> {
        if spot {
            return self.ec2_spot.get(instance_type).copied();
        }
        self.ec2.get(instance_type).copied().or_else(|| {
            // the table is us-east-1's, in USD: elsewhere, or in another currency, only
            // configured prices count (a cost left unknown, never another region's)
            (self.currency() == "USD" && region == ec2::TABLE_REGION)
                .then(|| ec2::on_demand(instance_type))
                .flatten()
        })
    }

    /// Per hour for one Compute Engine instance of `machine_type` in `zone`: the configured
    /// price, else the bundled one where it applies (us-central1, USD, on demand).
    pub fn gce(&self, machine_type: &str, spot: bool, zone: &str) -> Option<f64> {
        if spot {
            return self.gce_spot.get(machine_type).copied();
        }
        self.gce.get(machine_type).copied().or_else(|| {
            (self.currency() == "USD" && gce::region_of(zone) == gce::TABLE_REGION)
                .then(|| gce::on_demand(machine_type))
                .flatten()
        })
    }
}
