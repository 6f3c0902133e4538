//! EC2 instance types daskctl can price without asking anyone: vCPUs and the Linux on-demand
//! price per hour in US East (N. Virginia), in USD.
//!
//! Source: the AWS Price List (offer `AmazonEC2`, region us-east-1, operating system Linux,
//! tenancy Shared, pre-installed software NA, term OnDemand), the figures published on
//! <https://aws.amazon.com/ec2/pricing/on-demand/>, as of 2024-06 (`TABLE_DATE`). Other
//! regions and newer prices differ: `[pricing.ec2]` in the config overrides any type, and a
//! type not listed has no price unless configured. Spot prices move every hour and are not
//! bundled: `[pricing.ec2_spot]` sets them per type (without it a spot instance is unpriced).

pub const TABLE_DATE: &str = "2024-06";
pub const TABLE_REGION: &str = "us-east-1";

/// (instance type, vCPUs, USD per hour on demand)
const TABLE: &[(&str, u32, f64)] = &[
    ("t2.micro", 1, 0.0116),
    ("t2.small", 1, 0.023),
    ("t2.medium", 2, 0.0464),
    ("t2.large", 2, 0.0928),
    ("t3.nano", 2, 0.0052),
    ("t3.micro", 2, 0.0104),
    ("t3.small", 2, 0.0208),
    ("t3.medium", 2, 0.0416),
    ("t3.large", 2, 0.0832),
    ("t3.xlarge", 4, 0.1664),
    ("t3.2xlarge", 8, 0.3328),
    ("t4g.micro", 2, 0.0084),
    ("t4g.small", 2, 0.0168),
    ("t4g.medium", 2, 0.0336),
    ("t4g.large", 2, 0.0672),
    ("m5.large", 2, 0.096),
    ("m5.xlarge", 4, 0.192),
    ("m5.2xlarge", 8, 0.384),
    ("m5.4xlarge", 16, 0.768),
    ("m5.8xlarge", 32, 1.536),
    ("m5.12xlarge", 48, 2.304),
    ("m5.16xlarge", 64, 3.072),
    ("m5.24xlarge", 96, 4.608),
    ("m6i.large", 2, 0.096),
    ("m6i.xlarge", 4, 0.192),
    ("m6i.2xlarge", 8, 0.384),
    ("m6i.4xlarge", 16, 0.768),
    ("m6i.8xlarge", 32, 1.536),
    ("m6g.large", 2, 0.077),
    ("m6g.xlarge", 4, 0.154),
    ("m6g.2xlarge", 8, 0.308),
    ("c5.large", 2, 0.085),
    ("c5.xlarge", 4, 0.17),
    ("c5.2xlarge", 8, 0.34),
    ("c5.4xlarge", 16, 0.68),
    ("c5.9xlarge", 36, 1.53),
    ("c5.18xlarge", 72, 3.06),
    ("c6i.large", 2, 0.085),
    ("c6i.xlarge", 4, 0.17),
    ("c6i.2xlarge", 8, 0.34),
    ("c6g.large", 2, 0.068),
    ("c6g.xlarge", 4, 0.136),
    ("r5.large", 2, 0.126),
    ("r5.xlarge", 4, 0.252),
    ("r5.2xlarge", 8, 0.504),
    ("r5.4xlarge", 16, 1.008),
    ("r6i.large", 2, 0.126),
    ("r6i.xlarge", 4, 0.252),
    ("r6i.2xlarge", 8, 0.504),
];

/// vCPUs of a listed type.
pub fn vcpus(instance_type: &str) -> Option<u32> {
    TABLE
        .iter()
        .find(|(t, ..)| *t == instance_type)
        .map(|(_, v, _)| *v)
}

/// The bundled on-demand price (USD per hour) of a listed type.
pub fn on_demand(instance_type: &str) -> Option<f64> {
    TABLE
        .iter()
        .find(|(t, ..)| *t == instance_type)
        .map(|(.., p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_by_family_and_consistent() {
        // no type twice, and within a family the price per vCPU is the same (a typo shows up)
        let mut seen = std::collections::HashSet::new();
        for (t, v, p) in TABLE {
            assert!(seen.insert(*t), "{t} listed twice");
            let family = t.split('.').next().unwrap();
            let per_cpu = p / f64::from(*v);
            if !family.starts_with('t') {
                let (_, v0, p0) = TABLE
                    .iter()
                    .find(|(x, ..)| x.split('.').next() == Some(family))
                    .unwrap();
                let base = p0 / f64::from(*v0);
                assert!((per_cpu - base).abs() < 1e-9, "{t}: {per_cpu} vs {base}");
            }
        }
        assert_eq!(vcpus("m5.large"), Some(2));
        assert_eq!(on_demand("c5.xlarge"), Some(0.17));
        assert_eq!(on_demand("x9.huge"), None);
    }
}
