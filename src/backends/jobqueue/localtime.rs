//! Times the batch tools print in the server's local time, without a zone (PBS's ctime() form,
//! LSF's `Dec  6 13:50`): read as mktime(3) reads them.

use std::time::SystemTime;

/// The month of `Jan`..`Dec`, from 0.
pub fn month(name: &str) -> Option<i32> {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == name)
    .map(|m| m as i32)
}

/// A local wall-clock time as an instant (mktime(3), the zone from TZ or /etc/localtime).
pub fn local_time(year: i32, month0: i32, day: i32, h: i32, m: i32, s: i32) -> Option<SystemTime> {
    // SAFETY: an all-zero tm is a valid value; mktime reads it and writes it back
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_year = year - 1900;
    tm.tm_mon = month0;
    tm.tm_mday = day;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = s;
    tm.tm_isdst = -1; // let the zone's rules say whether summer time applies
    // SAFETY: tm is initialised; mktime has no other preconditions
    let t = unsafe { libc::mktime(&mut tm) };
    (t >= 0)
        .then(|| SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(t as u64)))
        .flatten()
}
