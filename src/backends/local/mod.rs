//! The local backend: Dask processes on this machine.

mod create;
mod delete;
pub mod discover;
mod early;
pub mod handle;
pub mod listeners;
mod logs;
pub mod procfs;
mod scale;
pub mod spawn;
pub mod state;
mod users;
mod workers;

use super::{
    Availability, Backend, Capabilities, Context, CreateRequest, DeleteRequest, LogRequest,
    LogSink, Registration, ScaleReport, ScaleRequest, owner,
};
use crate::error::Result;
use crate::model::Cluster;
use async_trait::async_trait;
use std::sync::Arc;

#[derive(Clone)]
pub struct Local {
    pub(crate) ctx: Arc<Context>,
    pub(crate) settings: Settings,
    /// Other users' policies, as their owners' children read them during discovery (root's
    /// `--all-users`): (owner, cluster) -> the policy or why it could not be read.
    pub(crate) policies_read_by_owners: Arc<std::sync::Mutex<OwnersPolicies>>,
    /// What the last discovery found to tell (`Backend::notes`).
    pub(crate) notes: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Local {
    pub(crate) fn remember_notes(&self, notes: Vec<String>) {
        if let Ok(mut n) = self.notes.lock() {
            *n = notes;
        }
    }
}

type OwnersPolicies =
    std::collections::HashMap<(String, String), std::result::Result<crate::policy::Policy, String>>;

/// `[backends.local]`; the README's table lists the same keys.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Python with distributed (`--python` per cluster); default: `python3` on PATH.
    #[serde(deserialize_with = "crate::settings::lenient::string")]
    pub python: Option<String>,
    /// Look for schedulers daskctl did not start (/proc); false: daskctl's own clusters only.
    pub scan: bool,
    /// The largest count create/scale accept.
    #[serde(deserialize_with = "crate::settings::lenient::count")]
    pub max_workers: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            python: None,
            scan: true,
            max_workers: 64,
        }
    }
}

inventory::submit! {
    Registration {
        name: "local",
        default_enabled: true,
        build: |ctx| {
            // checked by `check_settings` before any backend is built
            let settings = crate::settings::load(&ctx.config, "local").unwrap_or_default();
            Arc::new(Local {
                ctx,
                settings,
                policies_read_by_owners: Default::default(),
                notes: Default::default(),
            })
        },
        check_settings: |c| crate::settings::load::<Settings>(c, "local").map(drop),
        settings_keys: crate::settings::keys::<(Settings,)>,
        create_flags: &["python", "host", "scheduler-port", "idle-timeout", "ttl"],
    }
}

/// Another node's cluster: that node's daskctl acts on it (`crate::host`).
fn refuse_elsewhere(c: &Cluster) -> Result<()> {
    if c.elsewhere {
        return Err(crate::error::Error::Refused(format!(
            "{} runs on {}: run daskctl there",
            c.qualified(),
            c.host.as_deref().unwrap_or("another host")
        )));
    }
    Ok(())
}

impl Local {
    /// `backends.local.scan = false` limits discovery to daskctl's own clusters.
    fn scan_enabled(&self) -> bool {
        self.settings.scan
    }
}

#[async_trait]
impl Backend for Local {
    fn pricing(&self) -> Option<&crate::pricing::Pricing> {
        Some(&self.ctx.config.pricing)
    }

    fn notes(&self) -> Vec<String> {
        self.notes.lock().map(|n| n.clone()).unwrap_or_default()
    }

    /// As root, another user's workers are started by a child that is that user
    /// (owner.rs); any other caller's would be theirs.
    fn starts_as_caller(&self) -> bool {
        !owner::can_switch()
    }

    /// Another user's policy, as root: what their child read, never the file itself.
    fn stored_policy(&self, c: &Cluster) -> Option<Result<crate::policy::Policy>> {
        if self.acting_owner(c).is_some() {
            let key = (c.owner.clone()?, c.name.clone());
            let read = self
                .policies_read_by_owners
                .lock()
                .ok()?
                .get(&key)
                .cloned()?;
            return Some(read.map_err(|e| crate::error::Error::backend("local", e)));
        }
        self.policy_dir(c)
            .map(|d| crate::policy::PolicyFile::in_dir(&d).read())
    }

    fn acting_owner(&self, c: &Cluster) -> Option<owner::Owner> {
        if !owner::can_switch() {
            return None;
        }
        // the state root the cluster was found under
        let theirs = users::view_for(self, c)?;
        Some(owner::Owner {
            user: theirs.ctx.user.clone(),
            root: theirs.ctx.config.state_root(),
        })
    }

    fn name(&self) -> &'static str {
        "local"
    }

    /// daskctl's own clusters: their state directory.
    fn policy_dir(&self, c: &Cluster) -> Option<std::path::PathBuf> {
        match &handle::handle(c).ok()?.kind {
            handle::Kind::Own { dir, .. } => Some(dir.path.clone()),
            _ => None,
        }
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
        refuse_elsewhere(cluster)?;
        if let Some(o) = self.acting_owner(cluster) {
            return owner::scale(&o, cluster, req).await;
        }
        match users::view_for(self, cluster) {
            Some(theirs) => scale::scale(&theirs, cluster, req).await,
            None => scale::scale(self, cluster, req).await,
        }
    }

    async fn logs(
        &self,
        cluster: &Cluster,
        req: &LogRequest,
        sink: &mut dyn LogSink,
    ) -> Result<()> {
        if let Some(o) = self.acting_owner(cluster) {
            return owner::logs(&o, cluster, req, sink).await;
        }
        match users::view_for(self, cluster) {
            Some(theirs) => logs::logs(&theirs, cluster, req, sink).await,
            None => logs::logs(self, cluster, req, sink).await,
        }
    }

    async fn delete(&self, cluster: &Cluster, req: &DeleteRequest) -> Result<()> {
        refuse_elsewhere(cluster)?;
        if let Some(o) = self.acting_owner(cluster) {
            return owner::delete(&o, cluster, req.timeout).await;
        }
        match users::view_for(self, cluster) {
            Some(theirs) => delete::delete(&theirs, cluster, req).await,
            None => delete::delete(self, cluster, req).await,
        }
    }

    fn group_keys(&self) -> Option<&'static [&'static str]> {
        // a local group differs only in threads and memory
        Some(&[])
    }

    fn max_workers(&self) -> u32 {
        self.settings.max_workers
    }
}
