//! The gateway's REST API over HTTP/1.1 (hyper's client, rustls with the system's roots for
//! https): each request carries the authentication header, and a failed one becomes an error
//! the user can act on, with the gateway's own message (its body is `{"error": ...}`).

use super::endpoint::Endpoint;
use crate::error::{Error, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

pub struct Api {
    pub endpoint: Endpoint,
    client: Client<Https, Full<Bytes>>,
    timeout: Duration,
}

/// A successful answer: its status and JSON body (`Null` when empty).
pub struct Reply {
    pub status: u16,
    pub json: serde_json::Value,
}

impl Api {
    pub fn new(endpoint: Endpoint, timeout: Duration) -> Result<Api> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| Error::io("loading the system's TLS roots", e))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(Api {
            endpoint,
            client,
            timeout,
        })
    }

    fn backend(&self) -> String {
        match self.endpoint.name.as_str() {
            "default" => "gateway".into(),
            n => format!("gateway {n}"),
        }
    }

    pub async fn get(&self, path: &str) -> Result<Reply> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Result<Reply> {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Result<Reply> {
        self.call(Method::DELETE, path, None).await
    }

    /// `path` is below the address (`/api/v1/clusters/`).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply> {
        let url = format!("{}{path}", self.endpoint.address);
        let shown = format!("{method} {url}");
        let mut req = Request::builder()
            .method(method)
            .uri(&url)
            .header("Authorization", self.endpoint.auth.header())
            .header("Accept", "application/json");
        let bytes = match body {
            Some(b) => {
                req = req.header("Content-Type", "application/json");
                Bytes::from(serde_json::to_vec(b).expect("serialisable"))
            }
            None => Bytes::new(),
        };
        let req = req
            .body(Full::new(bytes))
            .map_err(|e| Error::Usage(format!("{}: bad address {url:?}: {e}", self.backend())))?;
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| Error::Unavailable {
                    backend: self.backend(),
                    message: format!("cannot reach {url}: {}", chain(&e)),
                })?;
            let status = resp.status();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| Error::Unavailable {
                    backend: self.backend(),
                    message: format!("{shown}: the answer broke off: {e}"),
                })?;
            Ok::<_, Error>((status, body.to_bytes()))
        };
        let (status, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                Error::Timeout(format!(
                    "{}: {shown}: no answer within {}",
                    self.backend(),
                    humantime::format_duration(self.timeout)
                ))
            })??;
        let json: serde_json::Value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
        };
        if status.is_success() {
            return Ok(Reply {
                status: status.as_u16(),
                json,
            });
        }
        let said = json["error"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&bytes)
                    .trim()
                    .chars()
                    .take(200)
                    .collect()
            });
        Err(self.refused(status, &shown, &said))
    }

    fn refused(&self, status: StatusCode, shown: &str, said: &str) -> Error {
        let backend = self.backend();
        let e = &self.endpoint;
        match status.as_u16() {
            401 => Error::backend(
                &backend,
                format!(
                    "{} refused the {} credentials of user {:?} (401: {said}); check gateway.auth in Dask's config or backends.gateway",
                    e.address,
                    e.auth.kind(),
                    e.user
                ),
            ),
            403 => Error::Refused(format!("{backend}: {shown}: forbidden (403: {said})")),
            404 => Error::NotFound(format!("{backend}: {said}")),
            // the cluster's state forbids it now ("cluster is not running"): not the user's input
            409 => Error::backend(&backend, format!("{shown}: {said} (409)")),
            422 | 400 => Error::Usage(format!("{backend}: {said}")),
            s if s >= 500 => Error::Unavailable {
                backend,
                message: format!("{shown}: the gateway failed ({s}: {said})"),
            },
            s => Error::backend(&backend, format!("{shown}: {s}: {said}")),
        }
    }
}

/// An error with its causes on one line (hyper's own says only "client error (Connect)").
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}
