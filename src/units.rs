//! Sizes and durations as people type them ("4GiB", "2h").

use crate::error::{Error, Result};
use std::time::{Duration, SystemTime};

/// Parses a byte size the way Dask does: "4GB" = 4e9, "4GiB" = 4*2^30, bare numbers are bytes.
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || Error::Usage(format!("invalid size {s:?} (examples: 512MiB, 4GB, 2GiB)"));
    let n: f64 = num.parse().map_err(|_| bad())?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0_f64.powi(4),
        _ => return Err(bad()),
    };
    let v = n * mult;
    if !v.is_finite() || !(1.0..=1e18).contains(&v) {
        return Err(bad());
    }
    Ok(v as u64)
}

/// A worker's memory (`--memory`, a group's `memory=`): a size, and at least 1 MiB. Dask reads a
/// bare number as bytes, so `--memory 4` would give each worker 4 bytes: surely meant in GiB.
pub fn parse_memory(s: &str) -> Result<u64> {
    let v = parse_size(s)?;
    if v < 1 << 20 {
        let t = s.trim();
        let hint = if t.chars().all(|c| c.is_ascii_digit() || c == '.') {
            format!("; a bare number is bytes: did you mean {t}GiB?")
        } else {
            String::new()
        };
        return Err(Error::Usage(format!(
            "invalid memory {s:?}: less than 1 MiB per worker{hint}"
        )));
    }
    Ok(v)
}

pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// The longest duration any flag, setting or variable accepts: a year. Beyond it a deadline
/// (`Instant::now() + d`) could overflow, and no Dask cluster waits that long for anything.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);

/// "30s", "2h", "1d", or plain seconds ("90", "0.5"); at most `MAX_DURATION`.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let t = s.trim();
    let d = match t.parse::<f64>() {
        Ok(secs) => return duration_from_secs(secs),
        Err(_) => humantime::parse_duration(t)
            .map_err(|_| Error::Usage(format!("invalid duration {s:?} (examples: 30s, 2h, 1d)")))?,
    };
    if d > MAX_DURATION {
        return Err(Error::Usage(format!(
            "duration {s:?} is longer than the maximum of 365 days"
        )));
    }
    Ok(d)
}

/// Validates a worker count against a backend's limit.
pub fn worker_count(n: i64, max: u32) -> Result<u32> {
    // a negative count is wrong whatever the backend's limit (which is not known yet when the
    // count is checked before any lookup): no bound is named that is not the real one
    if n < 0 {
        return Err(Error::Usage(format!(
            "invalid worker count {n}: must be 0 or more"
        )));
    }
    if n > max as i64 {
        return Err(Error::Usage(format!(
            "invalid worker count {n}: must be between 0 and {max}"
        )));
    }
    Ok(n as u32)
}

/// "3m", "2h", "5d" — the AGE column.
pub fn format_age(since: SystemTime) -> String {
    let secs = SystemTime::now()
        .duration_since(since)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// The latest time daskctl takes from a peer (the end of the year 9999, the limit of RFC 3339):
/// a scheduler claiming a later start or idle time is wrong, and it is ignored.
const LATEST_EPOCH_SECS: f64 = 253_402_300_799.0;

/// A duration given as a number of seconds (a TOML number, `--timeout 90`); at most
/// `MAX_DURATION`.
pub fn duration_from_secs(secs: f64) -> Result<Duration> {
    let d = Duration::try_from_secs_f64(secs)
        .map_err(|_| Error::Usage(format!("invalid duration {secs} (examples: 30s, 2h, 1d)")))?;
    if d > MAX_DURATION {
        return Err(Error::Usage(format!(
            "duration {secs}s is longer than the maximum of 365 days"
        )));
    }
    Ok(d)
}

/// A time given as seconds since the epoch (Dask's `time()`), if it is a plausible one.
pub fn epoch_secs(t: f64) -> Option<SystemTime> {
    if !(t.is_finite() && t > 0.0 && t <= LATEST_EPOCH_SECS) {
        return None;
    }
    SystemTime::UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(t).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4GiB").unwrap(), 4 << 30);
        assert_eq!(parse_size("4GB").unwrap(), 4_000_000_000);
        assert_eq!(parse_size("512 MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        let e = parse_memory("4").unwrap_err().to_string();
        assert!(e.contains("did you mean 4GiB?"), "{e}");
        assert_eq!(parse_memory("2GiB").unwrap(), 2 << 30);
        for bad in ["", "x", "-1GB", "4XB", "0"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(format_size(4 << 30), "4.0 GiB");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("365d").unwrap(), MAX_DURATION);
        for bad in [
            "soon",
            "-1",
            "NaN",
            "inf",
            "1e19",
            "1e20",
            "366d",
            "99999999999999999999s",
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{bad}: {e}");
        }
    }

    #[test]
    fn absurd_epoch_times_are_ignored() {
        for t in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300, 9.3e18, 2.6e11] {
            assert!(epoch_secs(t).is_none(), "{t}");
        }
        assert!(epoch_secs(1.7e9).is_some());
    }

    mod props {
        use super::super::*;
        use crate::arb;
        use proptest::prelude::*;

        proptest! {
            /// Sizes, durations and peers' times, any of them: a value or a usage error, and a
            /// duration never beyond the maximum (an `Instant` deadline cannot overflow).
            #[test]
            fn parsers_never_panic(t in arb::text(), f in any::<f64>(), n in any::<u64>()) {
                let _ = parse_size(&t);
                if let Ok(d) = parse_duration(&t) {
                    prop_assert!(d <= MAX_DURATION);
                }
                for s in [format!("{f}"), format!("{n}"), format!("{n}s"), format!("{n}d"), format!("{f}h")] {
                    if let Ok(d) = parse_duration(&s) {
                        prop_assert!(d <= MAX_DURATION);
                        let _ = std::time::Instant::now() + d;
                    }
                }
                let _ = duration_from_secs(f);
                if let Some(t) = epoch_secs(f) {
                    let _ = format_age(t);
                    let _ = humantime::format_rfc3339_seconds(t).to_string();
                }
                let _ = format_size(n);
            }
        }
    }
}
