//! create, scale, logs and delete through the gateway's API (dask-gateway-server routes.py),
//! as the Python client does them (dask_gateway/client.py `_submit`, `_scale_cluster`,
//! `_stop_cluster`).

use super::api::{OptionField, OptionsReply};
use super::discover::{self, GatewayHandle};
use super::http::Api;
use super::{BACKEND, Gateway};
use crate::backends::{
    CreateRequest, DeleteRequest, LogRequest, LogSink, Plan, ScaleReport, ScaleRequest, Step,
    until_settled, wait_for_workers,
};
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::policy::Adapt;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The gateway clusters are created on: the default one, else the first named.
fn target(g: &Gateway) -> Result<&Arc<Api>> {
    let apis = g.apis()?;
    Ok(apis
        .iter()
        .find(|a| a.endpoint.name == "default")
        .unwrap_or(&apis[0]))
}

/// `--option KEY=VALUE` lines, checked against the gateway's options: an unknown key or a bad
/// value is a usage error listing what is allowed.
fn checked_options(
    raw: Option<&String>,
    allowed: &[OptionField],
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let listing = || {
        let all: Vec<String> = allowed.iter().map(OptionField::describe).collect();
        if all.is_empty() {
            "this gateway takes no options".to_string()
        } else {
            format!("allowed: {}", all.join("; "))
        }
    };
    let mut out = serde_json::Map::new();
    for line in raw
        .map(|r| r.lines().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let Some((key, value)) = line.split_once('=') else {
            return Err(Error::Usage(format!(
                "invalid --option {line:?}: use KEY=VALUE; {}",
                listing()
            )));
        };
        let key = key.trim();
        let field = allowed.iter().find(|f| f.field == key).ok_or_else(|| {
            Error::Usage(format!("unknown gateway option {key:?}; {}", listing()))
        })?;
        let v = field.parse(value.trim()).map_err(|why| {
            Error::Usage(format!("invalid --option {line:?}: {why}; {}", listing()))
        })?;
        out.insert(key.to_string(), v);
    }
    Ok(out)
}

async fn options_of(api: &Api) -> Result<Vec<OptionField>> {
    let r = api.get("/api/v1/options").await?;
    let reply: OptionsReply = serde_json::from_value(r.json)
        .map_err(|e| Error::backend(BACKEND, format!("unexpected options listing: {e}")))?;
    Ok(reply.cluster_options)
}

fn refuse_name(req: &CreateRequest) -> Result<()> {
    if req.named {
        return Err(Error::Usage(
            "the gateway names its clusters itself: create gateway takes no --name".into(),
        ));
    }
    Ok(())
}

pub fn plan(g: &Gateway, req: &CreateRequest) -> Result<Plan> {
    refuse_name(req)?;
    let raw: Vec<&str> = req
        .options
        .get("option")
        .map(|o| o.lines().collect())
        .unwrap_or_default();
    let address = g
        .apis()
        .ok()
        .and_then(|_| target(g).ok())
        .map(|a| a.endpoint.address.clone())
        .unwrap_or_else(|| "(no gateway configured)".into());
    let mut steps = vec![Step {
        object: Some(serde_json::json!({
            "POST": format!("{address}/api/v1/clusters/"),
            "cluster_options": raw,
        })),
        ..Step::new(
            "cluster",
            "ask the gateway for a cluster (options checked against GET /api/v1/options first)",
        )
    }];
    if req.workers > 0 {
        steps.push(Step {
            object: Some(serde_json::json!({
                "POST": format!("{address}/api/v1/clusters/NAME/scale"),
                "count": req.workers,
            })),
            ..Step::new(
                "workers",
                format!("scale it to {} worker(s) once it runs", req.workers),
            )
        });
    }
    Ok(Plan {
        backend: BACKEND.into(),
        name: "(named by the gateway)".into(),
        dry_run: true,
        steps,
    })
}

pub async fn create(g: &Gateway, req: &CreateRequest) -> Result<Cluster> {
    refuse_name(req)?;
    let api = target(g)?;
    let allowed = options_of(api).await?;
    let options = checked_options(req.options.get("option"), &allowed)?;
    let body = serde_json::json!({ "cluster_options": options });
    let r = api.post("/api/v1/clusters/", &body).await?;
    let name = r.json["name"]
        .as_str()
        .ok_or_else(|| Error::backend(BACKEND, "the gateway created a cluster without a name"))?
        .to_string();
    // all or nothing: a cluster that does not come up, or cannot be scaled, is stopped again
    match started(g, api, &name, req).await {
        Ok(c) => Ok(c),
        Err(e) => {
            let _ = api.delete(&format!("/api/v1/clusters/{name}")).await;
            Err(e)
        }
    }
}

async fn started(g: &Gateway, api: &Api, name: &str, req: &CreateRequest) -> Result<Cluster> {
    let path = format!("/api/v1/clusters/{name}");
    let waited = until_settled(req.timeout, Duration::from_millis(250), || async {
        let r = api.get(&path).await?;
        let status = r.json["status"].as_str().unwrap_or_default().to_string();
        match status.as_str() {
            "RUNNING" => Ok(ControlFlow::Break(())),
            "PENDING" => Ok(ControlFlow::Continue(status)),
            _ => Err(Error::backend(
                BACKEND,
                format!("cluster {name} did not start: the gateway reports it {status}"),
            )),
        }
    })
    .await?;
    waited.map_err(|status| {
        Error::Timeout(format!(
            "cluster {name} is still {status} after {}",
            humantime::format_duration(req.timeout)
        ))
    })?;
    if req.workers > 0 {
        scale_to(api, name, req.workers).await?;
    }
    discover::find(g, name)
        .await?
        .ok_or_else(|| Error::backend(BACKEND, format!("cluster {name} vanished after starting")))
}

/// `POST .../scale`; the gateway's note when it capped the count.
async fn scale_to(api: &Api, name: &str, n: u32) -> Result<Option<String>> {
    let body = serde_json::json!({ "count": n });
    let r = api
        .post(&format!("/api/v1/clusters/{name}/scale"), &body)
        .await?;
    let ok = r.json["ok"].as_bool().unwrap_or(true);
    Ok(r.json["msg"]
        .as_str()
        .filter(|m| !ok && !m.is_empty())
        .map(str::to_string))
}

pub async fn scale(g: &Gateway, c: &Cluster, req: &ScaleRequest) -> Result<ScaleReport> {
    let (api, h) = g.api_of(c)?;
    if h.report.is_none() {
        return Err(Error::backend(
            BACKEND,
            format!(
                "{}: the gateway runs no such cluster; delete its workers",
                c.qualified()
            ),
        ));
    }
    let deadline = Instant::now() + req.timeout;
    let before = c.workers.unwrap_or(0);
    let note = scale_to(api, &c.name, req.target).await?;
    let mut report = ScaleReport::new(before, req.target as u64);
    match note {
        // capped: the count the gateway chose is not known here, so nothing is waited for
        Some(n) => report.note = Some(format!("the gateway says: {n}")),
        None if req.wait => {
            let lookup = c.name.clone();
            wait_for_workers(g, c, &lookup, req.target as u64, deadline, &req.progress).await?;
        }
        None => {}
    }
    Ok(report)
}

/// dask-gateway's own adaptive scaling (POST /api/v1/clusters/NAME/adapt, dask_gateway_server
/// routes.py): it runs in the cluster's scheduler, which outlives any client. `active: false`
/// turns it off; an explicit scale turns it off too (scheduler_preload.py).
pub async fn adapt(g: &Gateway, c: &Cluster, adapt: Option<Adapt>) -> Result<String> {
    let (api, h) = g.api_of(c)?;
    if h.report.is_none() {
        return Err(Error::backend(
            BACKEND,
            format!("{}: the gateway runs no such cluster", c.qualified()),
        ));
    }
    let body = match adapt {
        Some(p) => serde_json::json!({"minimum": p.minimum, "maximum": p.maximum, "active": true}),
        None => serde_json::json!({"active": false}),
    };
    let r = api
        .post(&format!("/api/v1/clusters/{}/adapt", c.name), &body)
        .await?;
    let ok = r.json["ok"].as_bool().unwrap_or(true);
    Ok(
        match r.json["msg"].as_str().filter(|m| !ok && !m.is_empty()) {
            // capped by the gateway's cluster_max_workers: it says to what
            Some(m) => format!("the gateway's scheduler (which says: {m})"),
            None => "the gateway's scheduler".into(),
        },
    )
}

pub async fn logs(
    g: &Gateway,
    c: &Cluster,
    req: &LogRequest,
    sink: &mut dyn LogSink,
) -> Result<()> {
    let (api, h) = g.api_of(c)?;
    let mut comm = connect(g, api, h).await?;
    let r = crate::backends::logfiles::from_scheduler(&mut comm, c, req, sink).await;
    comm.close().await;
    r
}

async fn connect(g: &Gateway, api: &Api, h: &GatewayHandle) -> Result<crate::dask::Comm> {
    let Some(r) = &h.report else {
        return Err(Error::backend(
            BACKEND,
            "the gateway runs no such cluster: only its HTCondor workers are left (see: daskctl logs htcondor/...)",
        ));
    };
    if r.status != "RUNNING" {
        return Err(Error::backend(
            BACKEND,
            format!(
                "cluster {} is {}: its scheduler is not up yet",
                r.name,
                r.status.to_lowercase()
            ),
        ));
    }
    g.ctx
        .prober
        .connect_gateway(&api.endpoint.proxy, &r.name, h.tls()?)
        .await
}

/// `DELETE`, then wait until the gateway reports the cluster stopped (or no longer knows it);
/// then its htcdaskgateway HTCondor workers, as `cluster.shutdown()` does in htcdaskgateway.
pub async fn delete(g: &Gateway, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let (api, h) = g.api_of(c)?;
    if h.report.is_some() {
        stop(api, c, req).await?;
    }
    if !h.workers.is_empty() {
        let htcondor = crate::backends::lookup("htcondor")?;
        let b = (htcondor.build)(g.ctx.clone());
        for w in &h.workers {
            b.delete(w, req).await?;
        }
    }
    Ok(())
}

async fn stop(api: &Api, c: &Cluster, req: &DeleteRequest) -> Result<()> {
    let path = format!("/api/v1/clusters/{}", c.name);
    match api.delete(&path).await {
        Ok(_) | Err(Error::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    let waited = until_settled(req.timeout, Duration::from_millis(250), || async {
        match api.get(&path).await {
            Err(Error::NotFound(_)) => Ok(ControlFlow::Break(())),
            Err(e) => Err(e),
            Ok(r) => {
                let status = r.json["status"].as_str().unwrap_or_default().to_string();
                if matches!(status.as_str(), "STOPPED" | "FAILED") {
                    Ok(ControlFlow::Break(()))
                } else {
                    Ok(ControlFlow::Continue(status))
                }
            }
        }
    })
    .await?;
    waited.map_err(|status| {
        Error::Timeout(format!(
            "{}: the gateway still reports it {} after {}",
            c.qualified(),
            status.to_lowercase(),
            humantime::format_duration(req.timeout)
        ))
    })
}
