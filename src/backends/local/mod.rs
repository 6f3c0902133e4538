//! The local backend: Dask processes on this machine.

mod create;
mod delete;
pub mod discover;
pub mod handle;
mod logs;
pub mod procfs;
mod scale;
pub mod spawn;
pub mod state;

use super::{
    Availability, Backend, Capabilities, Context, CreateRequest, DeleteRequest, LogRequest,
    LogSink, Registration, ScaleReport, ScaleRequest,
};
use crate::error::Result;
use crate::model::Cluster;
use async_trait::async_trait;
use std::sync::Arc;

pub struct Local {
    pub(crate) ctx: Arc<Context>,
}

inventory::submit! {
    Registration { name: "local", default_enabled: true, build: |ctx| Arc::new(Local { ctx }) }
}

impl Local {
    /// `backends.local.scan = false` limits discovery to daskctl's own clusters.
    fn scan_enabled(&self) -> bool {
        self.ctx
            .config
            .backend_setting("local", "scan")
            .and_then(|v| v.as_bool())
            .unwrap_or(true)
    }
}

#[async_trait]
impl Backend for Local {
    fn name(&self) -> &'static str {
        "local"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            create: true,
            scale: true,
            logs: true,
            delete: true,
            finds: &["unknown (any Dask scheduler of yours on this machine)"],
            description: "Dask processes on this machine",
        }
    }

    fn availability(&self) -> Availability {
        if std::path::Path::new("/proc/self/stat").exists() {
            Availability::Ready
        } else {
            Availability::Missing("/proc is not mounted".into())
        }
    }

    async fn discover(&self) -> Result<Vec<Cluster>> {
        discover::discover(self).await
    }

    async fn from_name(&self, name: &str) -> Result<Option<Cluster>> {
        // names of every kind the local backend lists, checked before any path is formed
        if !discover::listed_name(name) {
            crate::names::validate(name)?;
        }
        discover::find(self, name).await
    }

    async fn create(&self, req: &CreateRequest) -> Result<Cluster> {
        create::create(self, req).await
    }

    async fn plan(&self, req: &CreateRequest) -> Result<super::Plan> {
        create::plan(self, req)
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

    fn max_workers(&self) -> u32 {
        self.ctx.config.max_workers("local", 64)
    }
}
