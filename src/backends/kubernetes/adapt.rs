//! `adapt` on a dask-kubernetes operator cluster: the operator's own autoscaler, a
//! `DaskAutoscaler` named after the cluster (as `KubeCluster.adapt` writes it,
//! dask_kubernetes/operator/kubecluster/kubecluster.py `_adapt`: patched if it exists, else
//! created). The operator adopts it (deleted with the cluster) and every 5 s asks the scheduler
//! for its adaptive target and scales the default worker group. `--off` deletes it, as
//! `KubeCluster.scale` does before it sets a fixed size.

use super::Kubernetes;
use super::client::{map_err, status};
use super::discover::Kind;
use super::objects::{self, CLUSTER_LABEL, COMPONENT_LABEL};
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::policy::Adapt;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;

const BY: &str = "the dask-kubernetes operator (DaskAutoscaler)";

pub async fn adapt(k: &Kubernetes, c: &Cluster, adapt: Option<Adapt>) -> Result<String> {
    let ns = Kubernetes::namespace_of(c)?;
    if Kubernetes::handle(c)?.kind != Kind::Operator {
        return Err(Error::Usage(format!(
            "{} is not a dask-kubernetes operator cluster: only those have an autoscaler \
             (DaskAutoscaler); scale it instead",
            c.qualified()
        )));
    }
    let api: Api<DynamicObject> =
        Api::namespaced_with(k.client().await?, ns, &objects::autoscalers());
    let name = c.name.as_str();
    let Some(p) = adapt else {
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(e) if status(&e) == Some(404) => {}
            Err(e) => return Err(map_err(&format!("deleting DaskAutoscaler {name}"), e)),
        }
        return Ok(BY.into());
    };
    let patch = json!({"spec": {"minimum": p.minimum, "maximum": p.maximum}});
    match api
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => return Ok(BY.into()),
        Err(e) if status(&e) == Some(404) => {}
        Err(e) => return Err(map_err(&format!("patching DaskAutoscaler {name}"), e)),
    }
    let object = json!({
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskAutoscaler",
        "metadata": {"name": name, "labels": {CLUSTER_LABEL: name, COMPONENT_LABEL: "autoscaler"}},
        "spec": {"cluster": name, "minimum": p.minimum, "maximum": p.maximum},
    });
    let object: DynamicObject =
        serde_json::from_value(object).map_err(|e| Error::backend("kubernetes", e.to_string()))?;
    api.create(&PostParams::default(), &object)
        .await
        .map_err(|e| map_err(&format!("creating DaskAutoscaler {name}"), e))?;
    Ok(BY.into())
}
