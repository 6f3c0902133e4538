//! Compute Engine machine types daskctl can price without asking anyone: vCPUs and the Linux
//! on-demand price per hour in us-central1 (Iowa), in USD.
//!
//! Source: the Compute Engine price list (<https://cloud.google.com/compute/vm-instance-pricing>,
//! predefined machine types, on-demand, us-central1), as of 2024-06 (`TABLE_DATE`); a machine
//! type's price is its vCPUs and memory at the family's rates, so within a family and shape the
//! price per vCPU is one figure (the test checks it). Other regions and newer prices differ:
//! `[pricing.gce]` in the config overrides any type, and a type not listed has no price unless
//! configured. Spot prices move and are not bundled: `[pricing.gce_spot]` sets them per type
//! (without it a spot or preemptible instance is unpriced). GPU machine types (a2, g2) include
//! their attached GPUs.

pub const TABLE_DATE: &str = "2024-06";
pub const TABLE_REGION: &str = "us-central1";

/// (machine type, vCPUs, USD per hour on demand)
const TABLE: &[(&str, u32, f64)] = &[
    ("e2-micro", 2, 0.008376),
    ("e2-small", 2, 0.016751),
    ("e2-medium", 2, 0.033503),
    ("e2-standard-2", 2, 0.067006),
    ("e2-standard-4", 4, 0.134012),
    ("e2-standard-8", 8, 0.268024),
    ("e2-standard-16", 16, 0.536048),
    ("e2-standard-32", 32, 1.072096),
    ("e2-highmem-2", 2, 0.090372),
    ("e2-highmem-4", 4, 0.180744),
    ("e2-highmem-8", 8, 0.361488),
    ("e2-highmem-16", 16, 0.722976),
    ("e2-highcpu-2", 2, 0.049468),
    ("e2-highcpu-4", 4, 0.098936),
    ("e2-highcpu-8", 8, 0.197872),
    ("e2-highcpu-16", 16, 0.395744),
    ("e2-highcpu-32", 32, 0.791488),
    ("n1-standard-1", 1, 0.0475),
    ("n1-standard-2", 2, 0.095),
    ("n1-standard-4", 4, 0.19),
    ("n1-standard-8", 8, 0.38),
    ("n1-standard-16", 16, 0.76),
    ("n1-standard-32", 32, 1.52),
    ("n1-standard-64", 64, 3.04),
    ("n1-standard-96", 96, 4.56),
    ("n1-highmem-2", 2, 0.1184),
    ("n1-highmem-4", 4, 0.2368),
    ("n1-highmem-8", 8, 0.4736),
    ("n1-highmem-16", 16, 0.9472),
    ("n1-highcpu-2", 2, 0.0709),
    ("n1-highcpu-4", 4, 0.1418),
    ("n1-highcpu-8", 8, 0.2836),
    ("n1-highcpu-16", 16, 0.5672),
    ("n2-standard-2", 2, 0.097118),
    ("n2-standard-4", 4, 0.194236),
    ("n2-standard-8", 8, 0.388472),
    ("n2-standard-16", 16, 0.776944),
    ("n2-standard-32", 32, 1.553888),
    ("n2-standard-48", 48, 2.330832),
    ("n2-standard-64", 64, 3.107776),
    ("n2-standard-80", 80, 3.88472),
    ("n2-standard-96", 96, 4.661664),
    ("n2-standard-128", 128, 6.215552),
    ("n2-highmem-2", 2, 0.131014),
    ("n2-highmem-4", 4, 0.262028),
    ("n2-highmem-8", 8, 0.524056),
    ("n2-highmem-16", 16, 1.048112),
    ("n2-highcpu-2", 2, 0.071696),
    ("n2-highcpu-4", 4, 0.143392),
    ("n2-highcpu-8", 8, 0.286784),
    ("n2-highcpu-16", 16, 0.573568),
    ("n2-highcpu-32", 32, 1.147136),
    ("n2d-standard-2", 2, 0.084492),
    ("n2d-standard-4", 4, 0.168984),
    ("n2d-standard-8", 8, 0.337968),
    ("n2d-standard-16", 16, 0.675936),
    ("n2d-standard-32", 32, 1.351872),
    ("n4-standard-2", 2, 0.09483),
    ("n4-standard-4", 4, 0.18966),
    ("n4-standard-8", 8, 0.37932),
    ("t2d-standard-1", 1, 0.042246),
    ("t2d-standard-2", 2, 0.084492),
    ("t2d-standard-4", 4, 0.168984),
    ("t2d-standard-8", 8, 0.337968),
    ("c2-standard-4", 4, 0.2088),
    ("c2-standard-8", 8, 0.4176),
    ("c2-standard-16", 16, 0.8352),
    ("c2-standard-30", 30, 1.566),
    ("c2-standard-60", 60, 3.132),
    ("c2d-standard-2", 2, 0.090798),
    ("c2d-standard-4", 4, 0.181596),
    ("c2d-standard-8", 8, 0.363192),
    ("c2d-standard-16", 16, 0.726384),
    ("c3-standard-4", 4, 0.201608),
    ("c3-standard-8", 8, 0.403216),
    ("c3-standard-22", 22, 1.108844),
    ("c3-standard-44", 44, 2.217688),
    ("a2-highgpu-1g", 12, 3.673385),
    ("g2-standard-4", 4, 0.70683),
];

/// vCPUs of a listed type.
pub fn vcpus(machine_type: &str) -> Option<u32> {
    TABLE
        .iter()
        .find(|(t, ..)| *t == machine_type)
        .map(|(_, v, _)| *v)
}

/// The bundled on-demand price (USD per hour) of a listed type.
pub fn on_demand(machine_type: &str) -> Option<f64> {
    TABLE
        .iter()
        .find(|(t, ..)| *t == machine_type)
        .map(|(.., p)| *p)
}

/// The region of a zone (`us-central1-a` → `us-central1`).
pub fn region_of(zone: &str) -> &str {
    zone.rsplit_once('-').map_or(zone, |(r, _)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_price_per_vcpu_within_a_family_and_shape() {
        let mut seen = std::collections::HashSet::new();
        // the family and shape of a type: all but its size (`n2-standard`)
        let shape = |t: &str| t.rsplit_once('-').map_or(t, |(s, _)| s).to_string();
        for (t, v, p) in TABLE {
            assert!(seen.insert(*t), "{t} listed twice");
            // shared-core e2 types are priced as fractions of a core
            if ["e2-micro", "e2-small", "e2-medium"].contains(t) {
                continue;
            }
            let (_, v0, p0) = TABLE.iter().find(|(x, ..)| shape(x) == shape(t)).unwrap();
            let (a, b) = (p / f64::from(*v), p0 / f64::from(*v0));
            assert!((a - b).abs() / b < 1e-6, "{t}: {a} vs {b}");
        }
        assert_eq!(vcpus("n2-standard-8"), Some(8));
        assert_eq!(on_demand("e2-standard-2"), Some(0.067006));
        assert_eq!(on_demand("z9-huge"), None);
        assert_eq!(region_of("us-central1-a"), "us-central1");
    }
}
