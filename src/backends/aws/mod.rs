//! AWS EC2: clusters whose scheduler and workers are instances, found by their tags in every
//! configured region at once. daskctl's own clusters and dask-cloudprovider's EC2Cluster.

mod client;
pub mod consistency;
mod create;
mod delete;
mod discover;
mod launch;
mod logs;
mod policy;
mod scale;
mod settings;
pub mod tags;
pub mod userdata;

use super::{
    Availability, Backend, Capabilities, Context, CreateRequest, DeleteRequest, LogRequest,
    LogSink, Registration, ScaleReport, ScaleRequest,
};
use crate::error::{Error, Result};
use crate::model::Cluster;
use async_trait::async_trait;
use aws_sdk_ec2::Client;
use settings::Settings;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Mutex;

pub struct Aws {
    pub(crate) ctx: Arc<Context>,
    pub(crate) settings: Settings,
    clients: Mutex<BTreeMap<String, Client>>,
}

inventory::submit! {
    Registration {
        name: "aws",
        default_enabled: true,
        build: |ctx| {
            // checked by `check_settings` before any backend is built
            let settings = Settings::load(&ctx.config).unwrap_or_default();
            Arc::new(Aws { ctx, settings, clients: Mutex::new(BTreeMap::new()) })
        },
        check_settings: |c| Settings::load(c).map(drop),
        settings_keys: crate::settings::keys::<(Settings,)>,
        create_flags: &["image", "ttl", "idle-timeout", "instance-type", "worker-instance-type", "ami", "subnet", "key-name", "security-group", "spot"],
    }
}

impl Aws {
    pub(crate) async fn client(&self, region: &str) -> Client {
        let mut m = self.clients.lock().await;
        if let Some(c) = m.get(region) {
            return c.clone();
        }
        let c = client::build(&self.settings, region).await;
        m.insert(region.to_string(), c.clone());
        c
    }

    /// The regions this run queries: `--region`/`regions`, else the one default region.
    pub(crate) async fn regions(&self) -> Result<Vec<String>> {
        if !self.settings.regions.is_empty() {
            return Ok(self.settings.regions.clone());
        }
        match client::default_region(&self.settings).await {
            Some(r) => Ok(vec![r]),
            None => Err(Error::Usage(
                "aws: no region: pass --region, set backends.aws.regions or AWS_REGION".into(),
            )),
        }
    }

    /// The region a cluster lives in (discovery records it).
    pub(crate) fn region_of(c: &Cluster) -> Result<&str> {
        c.handle
            .get::<discover::AwsHandle>()
            .map(|h| h.region.as_str())
            .ok_or_else(|| Error::backend("aws", format!("{} has no region", c.qualified())))
    }
}

#[async_trait]
impl Backend for Aws {
    fn pricing(&self) -> Option<&crate::pricing::Pricing> {
        Some(&self.ctx.config.pricing)
    }

    fn name(&self) -> &'static str {
        "aws"
    }

    fn group_keys(&self) -> Option<&'static [&'static str]> {
        // a launch per group: its own instance type
        Some(&["instance-type"])
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            create: true,
            scale: true,
            logs: true,
            delete: true,
            finds: &["dask-cloudprovider (EC2Cluster)"],
            description: "AWS EC2 instances, in one or more regions",
        }
    }

    fn availability(&self) -> Availability {
        match self.settings.missing_credentials() {
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
        policy::store(self, c).map(|s| Box::new(s) as Box<dyn crate::policy::PolicyStore + '_>)
    }

    fn stored_policy(&self, c: &Cluster) -> Option<Result<crate::policy::Policy>> {
        policy::stored(c)
    }

    fn max_workers(&self) -> u32 {
        self.settings.max_workers
    }
}
