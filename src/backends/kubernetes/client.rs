//! The Kubernetes client: kubeconfig (`KUBECONFIG`, `~/.kube/config`, `--context`) or the
//! in-cluster service account, and the mapping of API errors into the project's kinds.
//! Whether any configuration exists is decided from files and variables only, so `list`
//! skips the backend in microseconds where there is none.

use crate::error::{ApiFault, Error};
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::PathBuf;

pub const GROUP: &str = "kubernetes.dask.org";
pub const VERSION: &str = "v1";

fn kubeconfig_paths() -> Vec<PathBuf> {
    match std::env::var_os("KUBECONFIG") {
        Some(v) if !v.is_empty() => std::env::split_paths(&v).collect(),
        _ => dirs::home_dir()
            .map(|h| vec![h.join(".kube").join("config")])
            .unwrap_or_default(),
    }
}

fn in_cluster() -> bool {
    std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        && std::path::Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token").exists()
}

/// Why there is nothing to talk to, or None.
pub fn missing() -> Option<String> {
    if in_cluster() || kubeconfig_paths().iter().any(|p| p.is_file()) {
        None
    } else {
        Some("no kubeconfig (KUBECONFIG, ~/.kube/config) and not inside a cluster".into())
    }
}

/// A client and the namespace the context names (the default for `create`).
pub async fn connect(context: Option<&str>) -> Result<(kube::Client, String), Error> {
    let paths: Vec<PathBuf> = kubeconfig_paths()
        .into_iter()
        .filter(|p| p.is_file())
        .collect();
    let config = if paths.is_empty() && in_cluster() {
        kube::Config::incluster().map_err(|e| Error::backend("kubernetes", e.to_string()))?
    } else {
        let mut merged: Option<Kubeconfig> = None;
        for p in &paths {
            let k = Kubeconfig::read_from(p)
                .map_err(|e| Error::Usage(format!("kubernetes: {}: {e}", p.display())))?;
            merged = Some(match merged {
                None => k,
                Some(m) => m
                    .merge(k)
                    .map_err(|e| Error::Usage(format!("kubernetes: {e}")))?,
            });
        }
        let kc = merged.ok_or_else(|| Error::Usage("kubernetes: no kubeconfig".into()))?;
        let opts = KubeConfigOptions {
            context: context.map(str::to_string),
            ..Default::default()
        };
        kube::Config::from_custom_kubeconfig(kc, &opts)
            .await
            .map_err(|e| Error::Usage(format!("kubernetes: {e}")))?
    };
    let ns = config.default_namespace.clone();
    let client =
        kube::Client::try_from(config).map_err(|e| Error::backend("kubernetes", e.to_string()))?;
    Ok((client, ns))
}

/// The HTTP status of an API error, if it is one.
pub fn status(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

pub fn map_err(what: &str, e: kube::Error) -> Error {
    let (fault, code, message) = match &e {
        kube::Error::Api(s) => (
            match s.code {
                404 => ApiFault::NotFound,
                400 | 422 => ApiFault::Invalid,
                _ => ApiFault::Other,
            },
            Some(s.code.to_string()),
            format!("{what}: {} ({}): {}", s.reason, s.code, s.message),
        ),
        _ => (ApiFault::Other, None, format!("{what}: {e}")),
    };
    Error::Api {
        backend: "kubernetes",
        fault,
        code,
        message,
        source: Box::new(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit;

    #[test]
    fn api_errors_keep_their_kind_code_and_source() {
        let gone = kube::Error::Api(
            kube::core::Status::failure("daskclusters \"etl\" not found", "NotFound")
                .with_code(404)
                .boxed(),
        );
        let e = map_err("get etl", gone);
        assert_eq!(e.exit_code(), exit::NOT_FOUND);
        assert!(
            matches!(&e, Error::Api { fault: ApiFault::NotFound, code: Some(c), .. } if c == "404")
        );
        let source = std::error::Error::source(&e).expect("the kube error is kept");
        assert!(source.to_string().contains("not found"), "{source}");

        let invalid = kube::Error::Api(
            kube::core::Status::failure("spec.replicas: Invalid value", "Invalid")
                .with_code(422)
                .boxed(),
        );
        assert_eq!(map_err("patch", invalid).exit_code(), exit::USAGE);
    }
}
