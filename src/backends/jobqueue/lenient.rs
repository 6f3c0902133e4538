//! Fields of a queue's JSON output, read leniently and without copying: a facility's queue is
//! 100,000 records of which a listing reads a dozen fields, so each record is a typed struct of
//! these (every other field skipped unparsed), strings borrowed from the output where they have
//! no escapes. A field of an unexpected type reads as absent, never as a failed listing: Slurm
//! wraps numbers in `{"set", "number"}` from 23.02 on, HTCondor prints an unevaluated ClassAd
//! expression as a `"/Expr(...)/"` string where a number usually is.

use serde::Deserialize;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use std::borrow::Cow;
use std::marker::PhantomData;

/// Hands each element of a JSON array to `each` as it is read, keeping none: a queue of
/// 100,000 records never exists as a vector of them, only as the few a listing keeps.
pub struct EachOf<'f, T, F> {
    each: &'f mut F,
    element: PhantomData<fn() -> T>,
}

impl<'f, T, F> EachOf<'f, T, F> {
    pub fn new(each: &'f mut F) -> Self {
        EachOf {
            each,
            element: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> DeserializeSeed<'de> for EachOf<'_, T, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> Visitor<'de> for EachOf<'_, T, F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(x) = seq.next_element::<T>()? {
            (self.each)(x);
        }
        Ok(())
    }
}

/// `each` of every element of the JSON array `json` (the whole text must be that array).
pub fn each_of<'de, T: Deserialize<'de>>(
    json: &'de str,
    mut each: impl FnMut(T),
) -> serde_json::Result<()> {
    let mut de = serde_json::Deserializer::from_str(json);
    EachOf::new(&mut each).deserialize(&mut de)?;
    de.end()
}

/// A whole number, plain or wrapped (`{"set": true, "number": 4}`; not set: none).
#[derive(Debug, Default, Clone, Copy)]
pub struct Num(pub Option<u64>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Plain(u64),
            Wrapped {
                set: Option<bool>,
                number: Option<u64>,
            },
            Other(serde::de::IgnoredAny),
        }
        Ok(Num(match Repr::deserialize(d)? {
            Repr::Plain(n) => Some(n),
            Repr::Wrapped { set, number } if set != Some(false) => number,
            _ => None,
        }))
    }
}

/// A number that may have a fraction (HTCondor's RequestCpus); anything else: none.
#[derive(Debug, Default, Clone, Copy)]
pub struct Float(pub Option<f64>);

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Plain(f64),
            Other(serde::de::IgnoredAny),
        }
        Ok(Float(match Repr::deserialize(d)? {
            Repr::Plain(n) => Some(n),
            Repr::Other(_) => None,
        }))
    }
}

/// A string, or the first of a list of them (Slurm's `job_state` from 23.02 on); anything
/// else: empty.
#[derive(Debug, Default, Clone)]
pub struct Str<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr<'a> {
            One(#[serde(borrow)] Cow<'a, str>),
            Many(#[serde(borrow)] Vec<Cow<'a, str>>),
            Other(serde::de::IgnoredAny),
        }
        Ok(Str(match Repr::deserialize(d)? {
            Repr::One(s) => s,
            Repr::Many(mut v) if !v.is_empty() => v.swap_remove(0),
            _ => Cow::Borrowed(""),
        }))
    }
}

impl Str<'_> {
    pub fn get(&self) -> &str {
        &self.0
    }

    /// The string, unless empty.
    pub fn some(&self) -> Option<&str> {
        Some(self.get()).filter(|s| !s.is_empty())
    }
}

/// `each` of every element of the array under `key` of the JSON object `json`, the object's
/// other members skipped unparsed; whether the key was there.
pub fn each_under<'de, T: Deserialize<'de>>(
    json: &'de str,
    key: &str,
    mut each: impl FnMut(T),
) -> serde_json::Result<bool> {
    struct Under<'k, 'f, T, F> {
        key: &'k str,
        each: &'f mut F,
        element: PhantomData<fn() -> T>,
    }
    impl<'de, T: Deserialize<'de>, F: FnMut(T)> Visitor<'de> for Under<'_, '_, T, F> {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "an object with {:?}", self.key)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let mut found = false;
            while let Some(k) = map.next_key::<Cow<'de, str>>()? {
                if k == self.key {
                    map.next_value_seed(EachOf::new(&mut *self.each))?;
                    found = true;
                } else {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    let found = serde::Deserializer::deserialize_map(
        &mut de,
        Under {
            key,
            each: &mut each,
            element: PhantomData,
        },
    )?;
    de.end()?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Rec<'a> {
        #[serde(borrow)]
        s: Str<'a>,
        n: Num,
        f: Float,
    }

    #[test]
    fn each_element_is_handed_over_in_order_and_a_broken_array_is_an_error() {
        let mut seen = Vec::new();
        each_of(r#"[{"n": 1}, {"n": "x"}, {"n": 3}]"#, |r: Only| {
            seen.push(r.n.0)
        })
        .unwrap();
        assert_eq!(seen, [Some(1), None, Some(3)]);
        assert!(each_of(r#"[{"n": 1}"#, |_: Only| ()).is_err());
        assert!(each_of(r#"{"n": 1}"#, |_: Only| ()).is_err());
        assert!(each_of(r#"[] x"#, |_: Only| ()).is_err());
    }

    #[test]
    fn the_array_under_a_key_is_streamed_and_the_rest_skipped() {
        let mut seen = Vec::new();
        let doc = r#"{"A": {"x": [1, 2]}, "RECORDS": [{"n": 5}, {"n": 6}], "Z": 1}"#;
        assert!(each_under(doc, "RECORDS", |r: Only| seen.push(r.n.0)).unwrap());
        assert_eq!(seen, [Some(5), Some(6)]);
        assert!(!each_under(r#"{"JOBS": 0}"#, "RECORDS", |_: Only| ()).unwrap());
        assert!(each_under(r#"[1]"#, "RECORDS", |_: Only| ()).is_err());
    }

    #[derive(Deserialize)]
    struct Only {
        n: Num,
    }

    #[test]
    fn odd_types_read_as_absent_and_plain_strings_are_borrowed() {
        let r: Rec =
            serde_json::from_str(r#"{"s": "abc", "n": {"set": true, "number": 4}, "f": 1.5}"#)
                .unwrap();
        assert!(matches!(r.s.0, Cow::Borrowed("abc")));
        assert_eq!((r.n.0, r.f.0), (Some(4), Some(1.5)));
        let r: Rec = serde_json::from_str(
            r#"{"s": ["RUNNING", "X"], "n": {"set": false, "number": 0}, "f": "/Expr(ifThenElse(a,1,2))/"}"#,
        )
        .unwrap();
        assert_eq!((r.s.get(), r.n.0, r.f.0), ("RUNNING", None, None));
        let r: Rec = serde_json::from_str(r#"{"s": {"a": 1}, "n": "x", "f": null}"#).unwrap();
        assert_eq!((r.s.some(), r.n.0, r.f.0), (None, None, None));
    }
}
