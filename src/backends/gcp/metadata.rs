//! The metadata server of a Compute Engine VM, for what gcloud also reads there: the project
//! (`/computeMetadata/v1/project/project-id`, with the `Metadata-Flavor: Google` header it
//! requires, <https://cloud.google.com/compute/docs/metadata/predefined-metadata-keys>). Asked
//! only where `auth::missing` allows it (on Compute Engine, or `metadata = true`), at
//! `GCE_METADATA_HOST` when set (as Google's auth libraries do), within two seconds.

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

const WITHIN: Duration = Duration::from_secs(2);

fn root() -> String {
    match std::env::var("GCE_METADATA_HOST") {
        Ok(h) if !h.is_empty() => format!("http://{h}"),
        _ => "http://metadata.google.internal".into(),
    }
}

/// The VM's project, or None when the server does not say.
pub async fn project_id() -> Option<String> {
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let req = hyper::Request::get(format!("{}/computeMetadata/v1/project/project-id", root()))
        .header("Metadata-Flavor", "Google")
        .body(Empty::new())
        .ok()?;
    let asked = async {
        let resp = client.request(req).await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let body = resp.into_body().collect().await.ok()?.to_bytes();
        let p = String::from_utf8(body.to_vec()).ok()?.trim().to_string();
        // a project id: lowercase letters, digits and hyphens (domain-scoped ones have `:`)
        p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.:".contains(&b))
            .then_some(p)
            .filter(|p| !p.is_empty())
    };
    tokio::time::timeout(WITHIN, asked).await.ok()?
}
