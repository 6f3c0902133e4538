//! Just enough of Dask's configuration system to find the TLS settings the user's own Dask
//! processes use: YAML files in /etc/dask, ~/.config/dask and $DASK_CONFIG (later wins), then
//! `DASK_*` variables with `__` between levels (as dask/config.py `collect_env` does).
//! Keys compare with '-' and '_' as equal, like Dask's `canonical_name`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Clone)]
pub struct DaskConfig {
    values: BTreeMap<String, String>,
}

impl DaskConfig {
    pub fn load() -> DaskConfig {
        let mut dirs: Vec<PathBuf> = vec![
            std::env::var_os("DASK_ROOT_CONFIG")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/etc/dask")),
        ];
        if let Some(home) = dirs::home_dir() {
            dirs.push(home.join(".config").join("dask"));
        }
        if let Some(d) = std::env::var_os("DASK_CONFIG") {
            dirs.push(PathBuf::from(d));
        }
        let mut cfg = DaskConfig::default();
        for d in dirs {
            cfg.read_dir(&d);
        }
        cfg.apply_env(std::env::vars());
        cfg
    }

    fn read_dir(&mut self, dir: &Path) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            // DASK_CONFIG may also name a single file
            if dir.is_file() {
                self.read_file(dir);
            }
            return;
        };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect();
        files.sort();
        for f in files {
            self.read_file(&f);
        }
    }

    fn read_file(&mut self, f: &Path) {
        let Ok(text) = std::fs::read_to_string(f) else {
            return;
        };
        match serde_yaml::from_str::<serde_yaml::Value>(&text) {
            Ok(v) => flatten("", &v, &mut self.values),
            Err(e) => tracing::warn!("ignoring unreadable Dask config {}: {e}", f.display()),
        }
    }

    pub fn apply_env(&mut self, vars: impl Iterator<Item = (String, String)>) {
        for (k, v) in vars {
            let Some(rest) = k.strip_prefix("DASK_") else {
                continue;
            };
            let key = rest
                .split("__")
                .map(canonical)
                .collect::<Vec<_>>()
                .join(".");
            self.values.insert(key, unquote(&v));
        }
    }

    /// `get("distributed.comm.tls.ca-file")`; `None` for missing or null.
    pub fn get(&self, key: &str) -> Option<&str> {
        let k = key.split('.').map(canonical).collect::<Vec<_>>().join(".");
        self.values
            .get(&k)
            .map(String::as_str)
            .filter(|v| !v.is_empty() && *v != "None" && *v != "null")
    }
}

fn canonical(s: &str) -> String {
    s.to_ascii_lowercase().replace('_', "-")
}

/// Dask parses variable values with `ast.literal_eval`; for the strings we need that means
/// stripping one pair of quotes.
fn unquote(v: &str) -> String {
    let t = v.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return t[1..t.len() - 1].to_string();
        }
    }
    t.to_string()
}

fn flatten(prefix: &str, v: &serde_yaml::Value, out: &mut BTreeMap<String, String>) {
    use serde_yaml::Value as Y;
    match v {
        Y::Mapping(m) => {
            for (k, val) in m {
                let key = match k {
                    Y::String(s) => canonical(s),
                    other => canonical(&serde_yaml::to_string(other).unwrap_or_default()),
                };
                let full = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&full, val, out);
            }
        }
        Y::Null => {
            out.remove(prefix);
        }
        Y::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        Y::Bool(b) => {
            out.insert(prefix.to_string(), b.to_string());
        }
        Y::Number(n) => {
            out.insert(prefix.to_string(), n.to_string());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_then_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dask.yaml"),
            "distributed:\n  comm:\n    tls:\n      ca_file: /a/ca.pem\n      client:\n        cert: /a/c.pem\n        key: null\n",
        )
        .unwrap();
        let mut c = DaskConfig::default();
        c.read_dir(dir.path());
        assert_eq!(c.get("distributed.comm.tls.ca-file"), Some("/a/ca.pem"));
        assert_eq!(c.get("distributed.comm.tls.client.key"), None);
        c.apply_env(
            [(
                "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT".to_string(),
                "'/b/c.pem'".to_string(),
            )]
            .into_iter(),
        );
        assert_eq!(c.get("distributed.comm.tls.client.cert"), Some("/b/c.pem"));
    }
}
