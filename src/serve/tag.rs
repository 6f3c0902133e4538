//! The confirmation tag of an action: what the first step of `/api/act` showed ("delete
//! local/etl (running, 2 worker(s), scheduler ...)?") is what the second step may do, and only
//! for a few minutes. The tag is an HMAC, under a key drawn at start and never shown, of the
//! action, the cluster's handle, the target size, the scheduler address the question named and
//! the expiry; a tag for one action, cluster, size or a re-created cluster at another address
//! acts on nothing else, and an old one acts on nothing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a question stays answerable.
pub const LIFETIME: Duration = Duration::from_secs(300);

pub struct Tags {
    key: ring::hmac::Key,
}

/// What a tag is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound<'a> {
    pub action: &'a str,
    pub cluster: &'a str,
    pub workers: Option<u32>,
    pub address: Option<&'a str>,
}

impl Tags {
    pub fn new() -> crate::error::Result<Tags> {
        let secret = super::auth::random::<32>()?;
        Ok(Tags {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret),
        })
    }

    fn message(b: &Bound, expires: u64) -> Vec<u8> {
        // fields separated by NUL, which none of them can hold
        format!(
            "daskctl act\0{}\0{}\0{}\0{}\0{expires}",
            b.action,
            b.cluster,
            b.workers.map(|n| n.to_string()).unwrap_or_default(),
            b.address.unwrap_or_default()
        )
        .into_bytes()
    }

    /// A tag for `b`, valid until `now + LIFETIME`: `EXPIRY.HMAC`.
    pub fn issue(&self, b: &Bound, now: SystemTime) -> String {
        let expires = (now + LIFETIME)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mac = ring::hmac::sign(&self.key, &Self::message(b, expires));
        format!("{expires}.{}", super::auth::hex(mac.as_ref()))
    }

    /// Whether `tag` was issued for exactly `b` and has not expired at `now`.
    pub fn check(&self, tag: &str, b: &Bound, now: SystemTime) -> Result<(), &'static str> {
        let (expires, mac) = tag
            .split_once('.')
            .ok_or("the confirmation tag is malformed")?;
        let expires: u64 = expires
            .parse()
            .map_err(|_| "the confirmation tag is malformed")?;
        let mac = (0..mac.len())
            .step_by(2)
            .map(|i| {
                mac.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or("the confirmation tag is malformed")?;
        ring::hmac::verify(&self.key, &Self::message(b, expires), &mac)
            .map_err(|_| "the confirmation tag is not for this action on this cluster")?;
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        if now > expires {
            return Err("the question has expired: ask again");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_acts_only_on_what_it_was_issued_for_and_only_until_it_expires() {
        let tags = Tags::new().unwrap();
        let now = SystemTime::now();
        let b = Bound {
            action: "scale",
            cluster: "local/etl",
            workers: Some(2),
            address: Some("tcp://127.0.0.1:4000"),
        };
        let tag = tags.issue(&b, now);
        assert_eq!(tags.check(&tag, &b, now), Ok(()));
        assert_eq!(
            tags.check(&tag, &b, now + LIFETIME - Duration::from_secs(1)),
            Ok(())
        );
        assert!(
            tags.check(&tag, &b, now + LIFETIME + Duration::from_secs(2))
                .is_err()
        );
        for other in [
            Bound {
                action: "delete",
                workers: None,
                ..b.clone()
            },
            Bound {
                cluster: "local/etl2",
                ..b.clone()
            },
            Bound {
                workers: Some(200),
                ..b.clone()
            },
            Bound {
                address: Some("tcp://127.0.0.1:4001"),
                ..b.clone()
            },
        ] {
            assert!(tags.check(&tag, &other, now).is_err(), "{other:?}");
        }
        // a later expiry written into the tag breaks its MAC
        let (_, mac) = tag.split_once('.').unwrap();
        let later = format!("{}.{mac}", u64::MAX);
        assert!(tags.check(&later, &b, now).is_err());
        // another server's key: nothing
        assert!(Tags::new().unwrap().check(&tag, &b, now).is_err());
        assert!(tags.check("garbage", &b, now).is_err());
        assert!(tags.check("1.zz", &b, now).is_err());
    }
}
