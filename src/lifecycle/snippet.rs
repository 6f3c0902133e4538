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
    app.out.data(&snippet(&addr, &DaskConfig::load()));
    Ok(())
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
