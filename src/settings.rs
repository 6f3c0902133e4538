//! Typed backend settings: each backend's `[backends.NAME]` section is deserialised into the
//! backend's own struct (`deny_unknown_fields`, defaults in its `Default`), as OpenDAL's
//! `config.rs` files do. A key no backend struct has, in the file or in a `DASKCTL_BACKENDS__*`
//! variable, is a usage error that names it, its section and the closest valid key.

use crate::config::Config;
use crate::error::{Error, Result};
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use std::time::Duration;

/// The keys of every section besides the backend's own fields.
const COMMON: &[&str] = &["enabled"];

/// The field names of a struct, as serde sees them (no values needed).
pub fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Introspect(&mut fields));
    fields
}

/// The keys of a section read into `P` (one struct, or a tuple of them).
pub fn keys<P: Parts>() -> Vec<&'static str> {
    P::fields()
}

/// `[backends.NAME]` (without `enabled`) as `T`.
pub fn load<T: DeserializeOwned + Default>(config: &Config, backend: &str) -> Result<T> {
    let (t,) = load_parts::<(T,)>(config, backend)?;
    Ok(t)
}

/// A section split across several structs (a batch backend's shared settings and its own),
/// each with `deny_unknown_fields`; a key none of them has is an error.
pub fn load_parts<P: Parts>(config: &Config, backend: &str) -> Result<P> {
    let table: toml::Table = match config.backends.get(backend) {
        Some(b) => b.settings.clone().into_iter().collect(),
        None => toml::Table::new(),
    };
    let valid = P::fields();
    for key in table.keys() {
        if !valid.contains(&key.as_str()) && !COMMON.contains(&key.as_str()) {
            return Err(unknown_key(config, backend, key, &valid));
        }
    }
    P::parse(backend, &table, config)
}

fn unknown_key(config: &Config, backend: &str, key: &str, valid: &[&str]) -> Error {
    let closest = valid
        .iter()
        .chain(COMMON)
        .map(|v| (strsim::jaro_winkler(key, v), *v))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| format!("; did you mean {v:?}?"))
        .unwrap_or_else(|| format!("; valid keys: {}", valid.join(", ")));
    Error::Usage(format!(
        "unknown setting {key:?} in [backends.{backend}] (config {} or DASKCTL_BACKENDS__{}__{}){closest}",
        config.path.display(),
        backend.to_ascii_uppercase(),
        key.to_ascii_uppercase(),
    ))
}

fn part<T: DeserializeOwned>(backend: &str, table: &toml::Table, config: &Config) -> Result<T> {
    let fields = fields_of::<T>();
    let mine: toml::Table = table
        .iter()
        .filter(|(k, _)| fields.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    toml::Value::Table(mine).try_into().map_err(|e| {
        Error::Usage(format!(
            "invalid setting in [backends.{backend}] (config {}): {}",
            config.path.display(),
            e.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ))
    })
}

/// One or more settings structs read from one section.
pub trait Parts: Sized {
    fn fields() -> Vec<&'static str>;
    fn parse(backend: &str, table: &toml::Table, config: &Config) -> Result<Self>;
}

impl<A: DeserializeOwned> Parts for (A,) {
    fn fields() -> Vec<&'static str> {
        fields_of::<A>().to_vec()
    }
    fn parse(backend: &str, table: &toml::Table, config: &Config) -> Result<Self> {
        Ok((part(backend, table, config)?,))
    }
}

impl<A: DeserializeOwned, B: DeserializeOwned> Parts for (A, B) {
    fn fields() -> Vec<&'static str> {
        [fields_of::<A>(), fields_of::<B>()].concat()
    }
    fn parse(backend: &str, table: &toml::Table, config: &Config) -> Result<Self> {
        Ok((part(backend, table, config)?, part(backend, table, config)?))
    }
}

/// A deserializer that only records the field names a struct asks for.
struct Introspect<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for Introspect<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Values as they arrive from the file or from `DASKCTL_*` variables (where `1` is a boolean
/// and `30` an integer): each reader takes the forms a person would write.
pub mod lenient {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Bool(bool),
        Int(i64),
        Float(f64),
        Text(String),
    }

    /// A count: `8`, `"8"`, or (from a variable) `1`/`0` read as booleans.
    pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        match Scalar::deserialize(d)? {
            Scalar::Bool(b) => Ok(u32::from(b)),
            Scalar::Int(i) => {
                u32::try_from(i).map_err(|_| de::Error::custom(format!("{i} is not a count")))
            }
            Scalar::Text(t) => t
                .trim()
                .parse()
                .map_err(|_| de::Error::custom(format!("{t:?} is not a count"))),
            Scalar::Float(f) => Err(de::Error::custom(format!("{f} is not a count"))),
        }
    }

    /// A string that a variable may have turned into a number.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Some(match Scalar::deserialize(d)? {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Text(t) => t,
        }))
    }

    /// A list: an array, or one comma-separated string (`DASKCTL_..=a,b`).
    pub fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            List(Vec<String>),
            Text(String),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::List(v) => v,
            Raw::Text(t) => t
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }

    /// A duration: `"30s"`, `"2h"`, or seconds.
    pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        crate::config::de_duration_opt(d)?.ok_or_else(|| de::Error::custom("a duration"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::path::Path;

    #[derive(Debug, Deserialize, Default, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Shared {
        #[serde(deserialize_with = "lenient::string")]
        python: Option<String>,
        #[serde(deserialize_with = "lenient::count")]
        max_workers: u32,
    }

    #[derive(Debug, Deserialize, Default, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Own {
        #[serde(deserialize_with = "lenient::list")]
        regions: Vec<String>,
    }

    fn config(text: &str, env: &[(&str, &str)]) -> Config {
        let env = env.iter().map(|(a, b)| (a.to_string(), b.to_string()));
        Config::from_parts(
            text,
            Path::new("c.toml"),
            env.collect::<Vec<_>>().into_iter(),
        )
        .unwrap()
    }

    #[test]
    fn fields_are_read_from_the_struct() {
        assert_eq!(fields_of::<Shared>(), &["python", "max_workers"]);
    }

    #[test]
    fn parts_share_one_section() {
        let c = config(
            "[backends.x]\nenabled = true\npython = \"/p\"\nregions = \"a, b\"\n",
            &[("DASKCTL_BACKENDS__X__MAX_WORKERS", "1")],
        );
        let (s, o) = load_parts::<(Shared, Own)>(&c, "x").unwrap();
        assert_eq!(s.python.as_deref(), Some("/p"));
        assert_eq!(s.max_workers, 1);
        assert_eq!(o.regions, ["a", "b"]);
    }

    #[test]
    fn misspelt_key_names_the_closest() {
        let c = config("[backends.x]\npyhton = \"/p\"\n", &[]);
        let e = load_parts::<(Shared, Own)>(&c, "x").unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e}");
        let m = e.to_string();
        assert!(
            m.contains("\"pyhton\"") && m.contains("[backends.x]"),
            "{m}"
        );
        assert!(m.contains("did you mean \"python\""), "{m}");
        let c = config("", &[("DASKCTL_BACKENDS__X__REGION", "a")]);
        let m = load::<Own>(&c, "x").unwrap_err().to_string();
        assert!(
            m.contains("DASKCTL_BACKENDS__X__REGION") && m.contains("\"regions\""),
            "{m}"
        );
    }

    #[test]
    fn wrong_type_is_a_usage_error() {
        let c = config("[backends.x]\nmax_workers = \"many\"\n", &[]);
        let e = load::<Shared>(&c, "x").unwrap_err();
        assert!(
            matches!(e, Error::Usage(_)) && e.to_string().contains("many"),
            "{e}"
        );
    }
}
