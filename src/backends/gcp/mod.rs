//! Google Compute Engine: clusters whose scheduler and workers are instances, found by their
//! labels in every zone of the configured projects at once (`instances.aggregatedList`).
//! daskctl's own clusters and dask-cloudprovider's `GCPCluster`.

mod auth;
mod client;
mod create;
mod delete;
pub mod discover;
pub mod labels;
mod launch;
mod logs;
mod metadata;
mod policy;
mod scale;
mod settings;
pub mod startup;

use super::{
    Availability, Backend, Capabilities, Context, CreateRequest, DeleteRequest, LogRequest,
    LogSink, Registration, ScaleReport, ScaleRequest,
};
use crate::error::Result;
use crate::model::Cluster;
use async_trait::async_trait;
use client::Clients;
use settings::Settings;
use std::sync::Arc;
use tokio::sync::OnceCell;

#[derive(Clone)]
pub struct Gcp {
    pub(crate) ctx: Arc<Context>,
    pub(crate) settings: Settings,
    clients: Arc<OnceCell<Clients>>,
}

inventory::submit! {
    Registration {
        name: "gcp",
        default_enabled: true,
        build: |ctx| {
            // checked by `check_settings` before any backend is built
            let settings = Settings::load(&ctx.config).unwrap_or_default();
            Arc::new(Gcp { ctx, settings, clients: Arc::default() })
        },
        check_settings: |c| Settings::load(c).map(drop),
        settings_keys: crate::settings::keys::<(Settings,)>,
        create_flags: &["image", "ttl", "idle-timeout", "machine-type", "worker-machine-type", "zone", "spot"],
    }
}

impl Gcp {
    /// The Compute Engine clients, built once per run.
    pub(crate) async fn clients(&self) -> Result<Clients> {
        self.clients
            .get_or_try_init(|| client::build(&self.settings))
            .await
            .cloned()
    }

    pub(crate) async fn projects(&self) -> Result<Vec<String>> {
        auth::projects_anywhere(&self.settings).await
    }

    /// An owned handle on the backend (a reconcile lock outlives the call that took it).
    pub(crate) fn clone_handle(&self) -> Arc<Gcp> {
        Arc::new(self.clone())
    }
}

#[async_trait]
impl Backend for Gcp {
    fn pricing(&self) -> Option<&crate::pricing::Pricing> {
        Some(&self.ctx.config.pricing)
    }

    fn name(&self) -> &'static str {
        "gcp"
    }

    fn group_keys(&self) -> Option<&'static [&'static str]> {
        // an insert per worker: its own machine type
        Some(&["machine-type"])
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            create: true,
            scale: true,
            logs: true,
            delete: true,
            finds: &["dask-cloudprovider (GCPCluster)"],
            description: "Google Compute Engine instances, every zone of one or more projects",
        }
    }

    fn availability(&self) -> Availability {
        match auth::missing(&self.settings) {
            Some(why) => Availability::Missing(why),
            None => Availability::Ready,
        }
    }

    async fn discover(&self) -> Result<Vec<Cluster>> {
        discover::discover(self, None).await
    }

    async fn from_name(&self, name: &str) -> Result<Option<Cluster>> {
        Ok(discover::discover(self, Some(name))
            .await?
            .into_iter()
            .next())
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
        if c.origin != crate::model::Origin::Daskctl {
            return None;
        }
        policy::store(self, c).map(|s| Box::new(s) as Box<dyn crate::policy::PolicyStore + '_>)
    }

    fn stored_policy(&self, c: &Cluster) -> Option<Result<crate::policy::Policy>> {
        policy::stored(c)
    }

    fn max_workers(&self) -> u32 {
        self.settings.max_workers
    }
}
