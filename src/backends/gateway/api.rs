//! The gateway's JSON, typed (dask_gateway_server/models.py `Cluster.to_dict`, options.py).

use super::endpoint::Secret;
use serde::Deserialize;

/// One cluster as `GET /api/v1/clusters/` reports it. The TLS key stays a `Secret`: it is used
/// for the probe and dropped, never printed, logged or written.
#[derive(Debug, Clone, Deserialize)]
pub struct ClusterReport {
    pub name: String,
    #[serde(default)]
    pub dashboard_route: Option<String>,
    /// PENDING, RUNNING, STOPPING, STOPPED or FAILED.
    pub status: String,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub start_time: Option<f64>,
    #[serde(default)]
    pub options: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub tls_cert: Option<String>,
    #[serde(default)]
    pub tls_key: Option<Secret>,
}

impl ClusterReport {
    /// Pending or running: a cluster. Stopping, stopped and failed ones are not listed.
    pub fn is_live(&self) -> bool {
        matches!(self.status.as_str(), "PENDING" | "RUNNING")
    }
}

/// `GET /api/v1/options`.
#[derive(Debug, Clone, Deserialize)]
pub struct OptionsReply {
    pub cluster_options: Vec<OptionField>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OptionField {
    pub field: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub default: serde_json::Value,
    pub spec: OptionSpec,
}

/// The field types dask-gateway defines (options.py `register_field_type`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum OptionSpec {
    String,
    Bool,
    Int {
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
    },
    Float {
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
    },
    Select {
        options: Vec<String>,
    },
    Mapping,
}

impl OptionField {
    /// A command-line value for this field, checked as options.py checks it.
    pub fn parse(&self, raw: &str) -> Result<serde_json::Value, String> {
        let f = &self.field;
        let range = |x: f64, min: &Option<f64>, max: &Option<f64>| {
            if let Some(m) = min
                && x < *m
            {
                return Err(format!("{f} must be >= {m}, got {raw}"));
            }
            if let Some(m) = max
                && x > *m
            {
                return Err(format!("{f} must be <= {m}, got {raw}"));
            }
            Ok(())
        };
        match &self.spec {
            OptionSpec::String => Ok(serde_json::Value::String(raw.to_string())),
            OptionSpec::Bool => match raw.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(true.into()),
                "false" | "no" | "0" => Ok(false.into()),
                _ => Err(format!("{f} must be true or false, got {raw:?}")),
            },
            OptionSpec::Int { min, max } => {
                let x: i64 = raw
                    .parse()
                    .map_err(|_| format!("{f} must be an integer, got {raw:?}"))?;
                range(x as f64, min, max)?;
                Ok(x.into())
            }
            OptionSpec::Float { min, max } => {
                let x: f64 = raw
                    .parse()
                    .ok()
                    .filter(|x: &f64| x.is_finite())
                    .ok_or_else(|| format!("{f} must be a number, got {raw:?}"))?;
                range(x, min, max)?;
                Ok(x.into())
            }
            OptionSpec::Select { options } => {
                if options.iter().any(|o| o == raw) {
                    Ok(serde_json::Value::String(raw.to_string()))
                } else {
                    Err(format!(
                        "{raw:?} is not a valid option for {f} (one of: {})",
                        options.join(", ")
                    ))
                }
            }
            OptionSpec::Mapping => serde_json::from_str::<serde_json::Map<_, _>>(raw)
                .map(serde_json::Value::Object)
                .map_err(|_| format!("{f} must be a JSON object, got {raw:?}")),
        }
    }

    /// `field (type, constraints, default)`, for the list of allowed options.
    pub fn describe(&self) -> String {
        let what = match &self.spec {
            OptionSpec::String => "text".to_string(),
            OptionSpec::Bool => "true/false".to_string(),
            OptionSpec::Int { min, max } | OptionSpec::Float { min, max } => {
                let kind = if matches!(self.spec, OptionSpec::Int { .. }) {
                    "integer"
                } else {
                    "number"
                };
                match (min, max) {
                    (Some(a), Some(b)) => format!("{kind} {a}..{b}"),
                    (Some(a), None) => format!("{kind} >= {a}"),
                    (None, Some(b)) => format!("{kind} <= {b}"),
                    (None, None) => kind.to_string(),
                }
            }
            OptionSpec::Select { options } => format!("one of {}", options.join("|")),
            OptionSpec::Mapping => "JSON object".to_string(),
        };
        format!("{} ({what}, default {})", self.field, self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked_as_the_gateway_checks_them() {
        let reply: OptionsReply = serde_json::from_str(
            r#"{"cluster_options": [
                {"field": "worker_cores", "label": "Worker cores", "default": 1, "spec": {"type": "int", "min": 1, "max": 2}},
                {"field": "worker_memory", "label": "Memory", "default": 0.5, "spec": {"type": "float", "min": 0.25, "max": 1.0}},
                {"field": "profile", "label": "Profile", "default": "small", "spec": {"type": "select", "options": ["small", "large"]}},
                {"field": "env", "label": "Env", "default": {}, "spec": {"type": "mapping"}}]}"#,
        )
        .unwrap();
        let f = |n: &str| reply.cluster_options.iter().find(|o| o.field == n).unwrap();
        assert_eq!(f("worker_cores").parse("2").unwrap(), 2);
        assert!(f("worker_cores").parse("3").unwrap_err().contains("<= 2"));
        assert!(f("worker_cores").parse("1.5").is_err());
        assert_eq!(f("worker_memory").parse("0.75").unwrap(), 0.75);
        assert!(
            f("profile")
                .parse("huge")
                .unwrap_err()
                .contains("small, large")
        );
        assert!(f("env").parse(r#"{"A": "1"}"#).is_ok());
        assert_eq!(
            f("worker_cores").describe(),
            "worker_cores (integer 1..2, default 1)"
        );
    }

    #[test]
    fn a_listing_keeps_the_key_secret() {
        let c: ClusterReport = serde_json::from_str(
            r#"{"name": "abc", "dashboard_route": "/clusters/abc/status", "status": "RUNNING",
                "start_time": 1796186465452, "stop_time": null, "options": {},
                "tls_cert": "CERT", "tls_key": "-----BEGIN PRIVATE KEY-----"}"#,
        )
        .unwrap();
        assert!(c.is_live());
        assert!(!format!("{c:?}").contains("PRIVATE"));
    }
}
