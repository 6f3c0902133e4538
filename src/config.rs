//! `~/.config/daskctl/config.toml` (or `$DASKCTL_CONFIG`), overlaid with `DASKCTL_*` variables.
//!
//! Every key can be overridden from the environment: `DASKCTL_<SECTION>__<KEY>`, with `__`
//! between levels, e.g. `DASKCTL_BACKENDS__LOCAL__ENABLED=false`, `DASKCTL_PROBE__TIMEOUT=2s`.
//! A few common ones have short aliases (see `ALIASES`).

use crate::error::{Error, IoContext, Result};
use crate::units::parse_duration;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const ALIASES: &[(&str, &[&str])] = &[
    ("DASKCTL_PYTHON", &["backends", "local", "python"]),
    ("DASKCTL_STATE_DIR", &["state_dir"]),
    ("DASKCTL_CACHE_DIR", &["cache_dir"]),
    ("DASKCTL_TIMEOUT", &["timeout"]),
    ("DASKCTL_NO_PROBE", &["probe", "disabled"]),
    ("DASKCTL_PROBE_LOOPBACK_ONLY", &["probe", "loopback_only"]),
];

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Per-backend discovery deadline.
    #[serde(default, deserialize_with = "de_duration_opt")]
    pub timeout: Option<Duration>,
    pub state_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    #[serde(default)]
    pub probe: ProbeConfig,
    #[serde(default)]
    pub backends: BTreeMap<String, BackendConfig>,
    /// Prices for core-hours and cost (`crate::pricing`, applied by `usage`).
    #[serde(default)]
    pub pricing: crate::pricing::Pricing,
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProbeConfig {
    /// Never connect to schedulers (same as `--no-probe`).
    #[serde(default)]
    pub disabled: bool,
    /// Refuse to connect anywhere but 127.0.0.0/8 and ::1 (after `map`).
    #[serde(default)]
    pub loopback_only: bool,
    #[serde(default, deserialize_with = "de_duration_opt")]
    pub timeout: Option<Duration>,
    /// How long a listening port found in /proc gets to greet like a Dask server.
    #[serde(default, deserialize_with = "de_duration_opt")]
    pub sniff_timeout: Option<Duration>,
    /// Scheduler address as the backend reports it -> address to connect to instead.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// How long a remote scheduler must stay silent before its workers count as orphaned.
    #[serde(default, deserialize_with = "de_duration_opt")]
    pub orphan_grace: Option<Duration>,
}

/// Settings of one backend; `enabled` is common, the rest is read by the backend itself into
/// its own typed settings (`crate::settings::load`), which refuses keys it does not know.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct BackendConfig {
    pub enabled: Option<bool>,
    #[serde(flatten)]
    pub settings: BTreeMap<String, toml::Value>,
}

impl Config {
    pub fn default_path() -> PathBuf {
        if let Some(p) = std::env::var_os("DASKCTL_CONFIG") {
            return PathBuf::from(p);
        }
        dirs::config_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("daskctl")
            .join("config.toml")
    }

    pub fn load() -> Result<Config> {
        let path = Self::default_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            // a file that is not text is a malformed config, like any other (exit 2)
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(Error::Usage(format!(
                    "invalid config {}: not a text file (a TOML file is UTF-8 text)",
                    path.display()
                )));
            }
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        };
        Self::from_parts(&text, &path, std::env::vars())
    }

    pub fn from_parts(
        text: &str,
        path: &Path,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Config> {
        let mut tree: toml::Table = toml::from_str(text).map_err(|e| {
            Error::Usage(format!(
                "malformed config {}: {}",
                path.display(),
                one_line(&e.to_string())
            ))
        })?;
        // `[backends] local = false` is `[backends.local] enabled = false`: made a table before
        // any DASKCTL_BACKENDS__LOCAL__* variable is merged in (which would replace the boolean
        // with a table and so silently enable the backend again)
        if let Some(toml::Value::Table(b)) = tree.get_mut("backends") {
            for (_, v) in b.iter_mut() {
                if let toml::Value::Boolean(on) = *v {
                    let mut t = toml::Table::new();
                    t.insert("enabled".into(), toml::Value::Boolean(on));
                    *v = toml::Value::Table(t);
                }
            }
        }
        for (key, value) in env {
            let Some(keys) = env_key(&key) else { continue };
            set_path(&mut tree, &keys, parse_env_value(&value));
        }
        let mut cfg: Config = toml::Value::Table(tree).try_into().map_err(|e| {
            Error::Usage(format!(
                "invalid config {} (or DASKCTL_* variable): {}",
                path.display(),
                one_line(&e.to_string())
            ))
        })?;
        cfg.path = path.to_path_buf();
        for (key, dir) in [("state_dir", &cfg.state_dir), ("cache_dir", &cfg.cache_dir)] {
            // an empty or relative directory would put state wherever daskctl happens to run
            if let Some(d) = dir
                && !d.is_absolute()
            {
                return Err(Error::Usage(format!(
                    "{key} must be an absolute path, not {:?} (config {} or DASKCTL_{})",
                    d.display().to_string(),
                    path.display(),
                    key.to_ascii_uppercase()
                )));
            }
        }
        Ok(cfg)
    }

    pub fn backend_enabled(&self, name: &str, default: bool) -> bool {
        self.backends
            .get(name)
            .and_then(|b| b.enabled)
            .unwrap_or(default)
    }

    /// Sets one backend setting for this run (command-line flags such as `--region`).
    pub fn set_backend_value(&mut self, backend: &str, key: &str, value: toml::Value) {
        self.backends
            .entry(backend.to_string())
            .or_default()
            .settings
            .insert(key.to_string(), value);
    }

    pub fn state_root(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(|| {
            dirs::state_dir()
                .or_else(dirs::data_local_dir)
                .unwrap_or_else(std::env::temp_dir)
                .join("daskctl")
        })
    }

    pub fn cache_root(&self) -> PathBuf {
        self.cache_dir.clone().unwrap_or_else(|| {
            dirs::cache_dir()
                .unwrap_or_else(std::env::temp_dir)
                .join("daskctl")
        })
    }

    /// Persist `backends.<name>.enabled`, keeping the rest of the file (comments included).
    pub fn set_backend_enabled(path: &Path, name: &str, enabled: bool) -> Result<()> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        };
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            Error::Usage(format!(
                "malformed config {}: {}",
                path.display(),
                one_line(&e.to_string())
            ))
        })?;
        let backends = doc
            .entry("backends")
            .or_insert(toml_edit::table())
            .as_table_mut()
            .ok_or_else(|| {
                Error::Usage(format!("{}: 'backends' is not a table", path.display()))
            })?;
        backends.set_implicit(true);
        let entry = backends
            .entry(name)
            .or_insert(toml_edit::table())
            .as_table_mut()
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{}: 'backends.{name}' is not a table",
                    path.display()
                ))
            })?;
        entry["enabled"] = toml_edit::value(enabled);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::safefile::create_private_dir(dir)
                .ctx(|| format!("creating {}", dir.display()))?;
        }
        // the file keeps its mode; a new one is the user's alone (0600)
        crate::safefile::write_atomic(path, doc.to_string().as_bytes())
            .ctx(|| format!("writing {}", path.display()))
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn env_key(var: &str) -> Option<Vec<String>> {
    if let Some((_, path)) = ALIASES.iter().find(|(a, _)| *a == var) {
        return Some(path.iter().map(|s| s.to_string()).collect());
    }
    let rest = var.strip_prefix("DASKCTL_")?;
    if !rest.contains("__") {
        return None; // DASKCTL_CONFIG and the like are not config keys
    }
    Some(rest.split("__").map(|s| s.to_ascii_lowercase()).collect())
}

fn parse_env_value(v: &str) -> toml::Value {
    match v {
        "1" | "true" | "yes" | "on" => return toml::Value::Boolean(true),
        "0" | "false" | "no" | "off" => return toml::Value::Boolean(false),
        _ => {}
    }
    if let Ok(i) = v.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if v.contains('.')
        && let Ok(f) = v.parse::<f64>()
    {
        return toml::Value::Float(f);
    }
    toml::Value::String(v.to_string())
}

fn set_path(tree: &mut toml::Table, keys: &[String], value: toml::Value) {
    let (last, parents) = keys.split_last().expect("non-empty key");
    let mut t = tree;
    for k in parents {
        let entry = t
            .entry(k.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
        if !entry.is_table() {
            *entry = toml::Value::Table(Default::default());
        }
        t = entry.as_table_mut().expect("table");
    }
    t.insert(last.clone(), value);
}

pub(crate) fn de_duration_opt<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    // a visitor of its own, not an untagged enum: its errors say what was wrong with the value
    // ("0: must be more than 0"), not "data did not match any variant"
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Option<Duration>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a duration: seconds, or text such as \"4s\" or \"2m\"")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
        fn visit_f64<E: serde::de::Error>(self, s: f64) -> Result<Self::Value, E> {
            crate::units::duration_from_secs(s)
                .map(Some)
                .map_err(|e| E::custom(e.to_string()))
        }
        // DASKCTL_TIMEOUT=0 or =1 arrives as a boolean (parse_env_value): it meant seconds
        fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Self::Value, E> {
            self.visit_u64(u64::from(b))
        }
        fn visit_i64<E: serde::de::Error>(self, s: i64) -> Result<Self::Value, E> {
            self.visit_f64(s as f64)
        }
        fn visit_u64<E: serde::de::Error>(self, s: u64) -> Result<Self::Value, E> {
            self.visit_f64(s as f64)
        }
        fn visit_str<E: serde::de::Error>(self, t: &str) -> Result<Self::Value, E> {
            parse_duration(t)
                .map(Some)
                .map_err(|e| E::custom(e.to_string()))
        }
    }
    d.deserialize_option(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(v: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn a_backend_switched_off_in_short_stays_off_whatever_its_variables() {
        let c = Config::from_parts(
            "[backends]\nlocal = false\nslurm = true\n",
            Path::new("/c.toml"),
            env(&[("DASKCTL_BACKENDS__LOCAL__PYTHON", "/x/python")]),
        )
        .unwrap();
        assert!(!c.backend_enabled("local", true));
        assert!(c.backend_enabled("slurm", false));
        assert_eq!(
            c.backends["local"].settings.get("python"),
            Some(&toml::Value::String("/x/python".into()))
        );
    }

    #[test]
    fn file_then_env() {
        let text = "timeout = \"3s\"\n[backends.local]\nenabled = true\npython = \"/x/python\"\n";
        let c = Config::from_parts(
            text,
            Path::new("c.toml"),
            env(&[
                ("DASKCTL_BACKENDS__LOCAL__ENABLED", "false"),
                ("DASKCTL_PROBE__MAP__tcp://a:1", "tcp://127.0.0.1:2"),
                ("DASKCTL_NO_PROBE", "1"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        assert_eq!(c.timeout, Some(Duration::from_secs(3)));
        assert!(!c.backend_enabled("local", true));
        let local: crate::backends::local::Settings = crate::settings::load(&c, "local").unwrap();
        assert_eq!(local.python.as_deref(), Some("/x/python"));
        assert!(c.probe.disabled);
        assert_eq!(c.probe.map.get("tcp://a:1").unwrap(), "tcp://127.0.0.1:2");
    }

    #[test]
    fn malformed_is_one_line_usage_error() {
        for text in [
            "timeout = ",
            "[backends\n",
            "unknown_key = 1",
            "timeout = \"soon\"",
        ] {
            let e = Config::from_parts(text, Path::new("c.toml"), env(&[])).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{text}");
            assert!(!e.to_string().contains('\n'), "{e}");
        }
    }

    #[test]
    fn empty_or_relative_state_dir_is_an_error() {
        for v in ["", "relative/dir", "."] {
            let e = Config::from_parts("", Path::new("c.toml"), env(&[("DASKCTL_STATE_DIR", v)]))
                .unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{v:?}: {e}");
        }
        for v in ["1e20", "99999999999999999"] {
            let e = Config::from_parts("", Path::new("c.toml"), env(&[("DASKCTL_TIMEOUT", v)]))
                .unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{v:?}: {e}");
        }
    }

    #[test]
    fn enable_disable_persists_and_keeps_comments() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/config.toml");
        Config::set_backend_enabled(&p, "local", false).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let with_comment = format!("# mine\n{text}");
        std::fs::write(&p, with_comment).unwrap();
        Config::set_backend_enabled(&p, "local", true).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("# mine"));
        let c = Config::from_parts(&text, &p, env(&[])).unwrap();
        assert!(c.backend_enabled("local", false));
    }
}
