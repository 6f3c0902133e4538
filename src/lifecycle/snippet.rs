use super::App;
use crate::cli::SnippetArgs;
use crate::dask::daskconfig::DaskConfig;
use crate::discovery::resolve;
use crate::error::{Error, Result};

pub async fn run(app: &App, a: SnippetArgs) -> Result<()> {
    let (_, c) = resolve(&app.ctx, &a.name, app.deadline).await?;
    let addr = c.address.clone().ok_or_else(|| {
        Error::NotFound(format!("{} has no scheduler address yet", c.qualified()))
    })?;
    if let Some(g) = addr.strip_prefix("gateway://") {
        app.out.data(&gateway_snippet(&c, g));
        return Ok(());
    }
    app.out.data(&snippet(&addr, &DaskConfig::load()));
    Ok(())
}

/// A gateway's cluster is reached through dask-gateway's client (its proxy needs the cluster's
/// own credentials, which the client fetches): the gateway and proxy addresses, the
/// authentication from Dask's configuration as usual.
fn gateway_snippet(c: &crate::model::Cluster, proxied: &str) -> String {
    let proxy = proxied.split('/').next().unwrap_or(proxied);
    let api = c
        .resources
        .iter()
        .find(|r| r.kind == "gateway-cluster")
        .and_then(|r| r.name.clone())
        .unwrap_or_default();
    format!(
        "from dask_gateway import Gateway\n\ngateway = Gateway({}, proxy_address={})\ncluster = gateway.connect({})\nclient = cluster.get_client()\n",
        py(&api),
        py(&format!("gateway://{proxy}")),
        py(&c.name)
    )
}

fn py(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

pub fn snippet(addr: &str, cfg: &DaskConfig) -> String {
    if addr.starts_with("tls://") {
        let get = |k: &str| cfg.get(k).map(py).unwrap_or_else(|| "None".into());
        format!(
            "from dask.distributed import Client, Security\n\nsecurity = Security(\n    tls_ca_file={},\n    tls_client_cert={},\n    tls_client_key={},\n    require_encryption=True,\n)\nclient = Client({}, security=security)\n",
            get("distributed.comm.tls.ca-file"),
            get("distributed.comm.tls.client.cert"),
            get("distributed.comm.tls.client.key"),
            py(addr)
        )
    } else {
        format!(
            "from dask.distributed import Client\n\nclient = Client({})\n",
            py(addr)
        )
    }
}
