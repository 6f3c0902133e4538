//! Kubernetes: dask-kubernetes operator clusters (`DaskCluster`), clusters of the Dask Helm
//! chart, and daskctl's own (Deployments labelled `app.kubernetes.io/managed-by=daskctl`).
//! Names are unique per namespace: `kubernetes/NAMESPACE/NAME` is the qualified form.

mod adapt;
mod client;
mod create;
mod delete;
pub mod discover;
mod logs;
pub mod objects;
mod policy;
mod scale;

use super::{
    Availability, Backend, Capabilities, Context, CreateRequest, DeleteRequest, LogRequest,
    LogSink, Registration, ScaleReport, ScaleRequest,
};
use crate::error::{Error, Result};
use crate::model::Cluster;
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// `[backends.kubernetes]`; the README's table lists the same keys.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Default for `--context`.
    #[serde(deserialize_with = "crate::settings::lenient::string")]
    pub context: Option<String>,
    /// Default for `--namespace`: only this one; unset: every namespace you may list.
    #[serde(deserialize_with = "crate::settings::lenient::string")]
    pub namespace: Option<String>,
    /// Default for `--image`.
    pub image: String,
    /// The largest count create/scale accept.
    #[serde(deserialize_with = "crate::settings::lenient::count")]
    pub max_workers: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            context: None,
            namespace: None,
            image: "ghcr.io/dask/dask:latest".into(),
            max_workers: 1000,
        }
    }
}

pub struct Kubernetes {
    pub(crate) ctx: Arc<Context>,
    pub(crate) settings: Settings,
    conn: OnceCell<(kube::Client, String)>,
    warned: Mutex<Vec<String>>,
}

inventory::submit! {
    Registration {
        name: "kubernetes",
        default_enabled: true,
        build: |ctx| {
            // checked by `check_settings` before any backend is built
            let settings = crate::settings::load(&ctx.config, "kubernetes").unwrap_or_default();
            Arc::new(Kubernetes { ctx, settings, conn: OnceCell::new(), warned: Mutex::new(Vec::new()) })
        },
        check_settings: |c| crate::settings::load::<Settings>(c, "kubernetes").map(drop),
        settings_keys: crate::settings::keys::<(Settings,)>,
        create_flags: &["image", "ttl", "resources", "native", "idle-timeout"],
    }
}

impl Kubernetes {
    pub(crate) async fn client(&self) -> Result<kube::Client> {
        Ok(self
            .conn
            .get_or_try_init(|| client::connect(self.settings.context.as_deref()))
            .await?
            .0
            .clone())
    }

    pub(crate) async fn default_namespace(&self) -> Result<String> {
        if let Some(ns) = &self.settings.namespace {
            return Ok(ns.clone());
        }
        self.client().await?;
        Ok(self
            .conn
            .get()
            .map(|c| c.1.clone())
            .unwrap_or_else(|| "default".into()))
    }

    pub(crate) fn warn_once(&self, msg: &str) {
        let mut w = self.warned.lock().unwrap();
        if !w.iter().any(|x| x == msg) {
            tracing::warn!("{msg}");
            w.push(msg.to_string());
        }
    }

    /// The backend's record of a cluster it found.
    pub(crate) fn handle(c: &Cluster) -> Result<&discover::KubeHandle> {
        c.handle.get::<discover::KubeHandle>().ok_or_else(|| {
            Error::backend(
                "kubernetes",
                format!("{} was not found by the kubernetes backend", c.qualified()),
            )
        })
    }

    pub(crate) fn namespace_of(c: &Cluster) -> Result<&str> {
        c.namespace.as_deref().ok_or_else(|| {
            Error::backend("kubernetes", format!("{} has no namespace", c.qualified()))
        })
    }
}

#[async_trait]
impl Backend for Kubernetes {
    fn pricing(&self) -> Option<&crate::pricing::Pricing> {
        Some(&self.ctx.config.pricing)
    }

    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            create: true,
            scale: true,
            logs: true,
            delete: true,
            finds: &["dask-kubernetes (DaskCluster)", "Dask Helm chart"],
            description: "Kubernetes: operator DaskClusters, Helm and daskctl Deployments",
        }
    }

    fn availability(&self) -> Availability {
        match client::missing() {
            Some(why) => Availability::Missing(why),
            None => Availability::Ready,
        }
    }

    async fn discover(&self) -> Result<Vec<Cluster>> {
        discover::discover(self, None).await
    }

    /// `NAME` or `NAMESPACE/NAME` (from `kubernetes/NAMESPACE/NAME`).
    async fn from_name(&self, name: &str) -> Result<Option<Cluster>> {
        let (ns, n) = match name.split_once('/') {
            Some((ns, n)) => (Some(ns), n),
            None => (None, name),
        };
        let mut found = discover::discover(self, Some((n, ns))).await?;
        if found.len() > 1 {
            let names: Vec<String> = found.iter().map(|c| c.qualified()).collect();
            return Err(Error::ambiguous(name, &names));
        }
        Ok(found.pop())
    }

    async fn create(&self, req: &CreateRequest) -> Result<Cluster> {
        create::create(self, req).await
    }

    async fn plan(&self, req: &CreateRequest) -> Result<super::Plan> {
        create::plan(self, req).await
    }

    async fn scale(&self, cluster: &Cluster, req: &ScaleRequest) -> Result<ScaleReport> {
        scale::scale(self, cluster, req).await
    }

    async fn platform_adapt(
        &self,
        c: &Cluster,
        adapt: Option<crate::policy::Adapt>,
    ) -> Result<String> {
        adapt::adapt(self, c, adapt).await
    }

    async fn logs(
        &self,
        cluster: &Cluster,
        req: &LogRequest,
        sink: &mut dyn LogSink,
    ) -> Result<()> {
        logs::logs(self, cluster, req, sink).await
    }

    async fn delete(&self, cluster: &Cluster, req: &DeleteRequest) -> Result<()> {
        delete::delete(self, cluster, req).await
    }

    fn policy_store(&self, c: &Cluster) -> Option<Box<dyn crate::policy::PolicyStore + '_>> {
        policy::store(self, c).map(|s| Box::new(s) as Box<dyn crate::policy::PolicyStore + '_>)
    }

    fn stored_policy(&self, c: &Cluster) -> Option<Result<crate::policy::Policy>> {
        policy::stored(c)
    }

    fn group_keys(&self) -> Option<&'static [&'static str]> {
        // DaskWorkerGroups: with the operator only (create says so otherwise)
        Some(objects::GROUP_KEYS)
    }

    fn max_workers(&self) -> u32 {
        self.settings.max_workers
    }
}
