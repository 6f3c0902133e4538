//! dask-gateway: clusters behind a gateway's HTTP API and TLS proxy, as analysis facilities
//! (Fermilab EAF, coffea-casa) hand them out. Users there see neither the jobs nor the pods
//! underneath; the gateway's API is what lists, creates, scales and stops them, and each
//! scheduler is reached through the gateway's proxy as dask-gateway's own client reaches it.
//!
//! Files: `settings.rs` and `endpoint.rs` (where the gateways are and how to authenticate),
//! `http.rs` (the REST client), `api.rs` (the JSON, typed), `discover.rs`, `verbs.rs`
//! (create, scale, logs, delete).

pub mod api;
pub mod discover;
pub mod endpoint;
pub mod http;
pub mod settings;
mod verbs;

use super::{
    Availability, Backend, Capabilities, Context, CreateRequest, DeleteRequest, LogRequest,
    LogSink, Registration, ScaleReport, ScaleRequest,
};
use crate::error::{Error, Result};
use crate::model::Cluster;
use async_trait::async_trait;
pub use discover::GatewayHandle;
use http::Api;
pub use settings::Settings;
use std::sync::Arc;

pub const BACKEND: &str = "gateway";

pub struct Gateway {
    pub(crate) ctx: Arc<Context>,
    pub(crate) settings: Settings,
    /// Every configured gateway's client, or why there is none.
    apis: std::result::Result<Vec<Arc<Api>>, String>,
}

inventory::submit! {
    Registration {
        name: BACKEND,
        default_enabled: true,
        build: |ctx| Arc::new(Gateway::new(ctx)),
        settings_keys: crate::settings::keys::<(Settings,)>,
        create_flags: &["option"],
        check_settings: |c| crate::settings::load::<Settings>(c, BACKEND).map(drop),
    }
}

impl Gateway {
    pub fn new(ctx: Arc<Context>) -> Gateway {
        // checked by `check_settings` before any backend is built
        let settings: Settings = crate::settings::load(&ctx.config, BACKEND).unwrap_or_default();
        let dask = crate::dask::daskconfig::DaskConfig::load();
        let timeout = ctx
            .config
            .timeout
            .unwrap_or(std::time::Duration::from_secs(10));
        let apis = endpoint::endpoints(&settings, &dask, &ctx.user.name)
            .and_then(|eps| {
                eps.into_iter()
                    .map(|e| Api::new(e, timeout).map(Arc::new))
                    .collect::<Result<Vec<_>>>()
            })
            .map_err(|e| e.to_string());
        Gateway {
            ctx,
            settings,
            apis,
        }
    }

    pub(crate) fn apis(&self) -> Result<&[Arc<Api>]> {
        self.apis
            .as_deref()
            .map_err(|why| Error::backend(BACKEND, why.clone()))
    }

    /// The gateway a cluster was found on.
    pub(crate) fn api_of<'a>(
        &'a self,
        c: &'a Cluster,
    ) -> Result<(&'a Arc<Api>, &'a GatewayHandle)> {
        let h = c.handle.get::<GatewayHandle>().ok_or_else(|| {
            Error::backend(
                BACKEND,
                format!("{} was not found on a gateway", c.qualified()),
            )
        })?;
        let api = self
            .apis()?
            .iter()
            .find(|a| a.endpoint.name == h.endpoint)
            .ok_or_else(|| Error::backend(BACKEND, format!("no gateway named {}", h.endpoint)))?;
        Ok((api, h))
    }
}

#[async_trait]
impl Backend for Gateway {
    fn pricing(&self) -> Option<&crate::pricing::Pricing> {
        Some(&self.ctx.config.pricing)
    }

    fn name(&self) -> &'static str {
        BACKEND
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            create: true,
            scale: true,
            logs: true,
            delete: true,
            finds: &["dask-gateway"],
            description: "dask-gateway servers (its REST API; schedulers through its TLS proxy)",
        }
    }

    fn availability(&self) -> Availability {
        match &self.apis {
            Ok(_) => Availability::Ready,
            Err(why) => Availability::Missing(why.clone()),
        }
    }

    async fn discover(&self) -> Result<Vec<Cluster>> {
        discover::discover(self).await
    }

    async fn from_name(&self, name: &str) -> Result<Option<Cluster>> {
        discover::find(self, name).await
    }

    async fn create(&self, req: &CreateRequest) -> Result<Cluster> {
        verbs::create(self, req).await
    }

    async fn plan(&self, req: &CreateRequest) -> Result<super::Plan> {
        verbs::plan(self, req)
    }

    async fn platform_adapt(
        &self,
        c: &Cluster,
        adapt: Option<crate::policy::Adapt>,
    ) -> Result<String> {
        verbs::adapt(self, c, adapt).await
    }

    async fn scale(&self, c: &Cluster, req: &ScaleRequest) -> Result<ScaleReport> {
        verbs::scale(self, c, req).await
    }

    async fn logs(&self, c: &Cluster, req: &LogRequest, sink: &mut dyn LogSink) -> Result<()> {
        verbs::logs(self, c, req, sink).await
    }

    async fn delete(&self, c: &Cluster, req: &DeleteRequest) -> Result<()> {
        verbs::delete(self, c, req).await
    }

    fn max_workers(&self) -> u32 {
        self.settings.max_workers
    }

    /// A gateway lists only the clusters of the user it authenticated: the caller's, as that
    /// gateway knows the caller (or, for htcdaskgateway workers left alone, as the batch
    /// system does).
    fn is_callers(&self, c: &Cluster, user: &str) -> bool {
        let Ok((api, _)) = self.api_of(c) else {
            return false;
        };
        c.owner
            .as_deref()
            .is_none_or(|o| o == api.endpoint.user || o == user)
    }
}
