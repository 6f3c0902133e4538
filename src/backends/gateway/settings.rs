//! `[backends.gateway]`: the default gateway's settings (each overrides what Dask's own
//! configuration says), and further gateways by name in `[backends.gateway.gateways.NAME]`.

use std::collections::BTreeMap;

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The gateway's address (default: Dask's `gateway.address`).
    #[serde(deserialize_with = "crate::settings::lenient::string")]
    pub address: Option<String>,
    /// Its address as a browser reaches it, for dashboard links (default: Dask's
    /// `gateway.public-address`, else `address`).
    #[serde(deserialize_with = "crate::settings::lenient::string")]
    pub public_address: Option<String>,
    /// Its scheduler proxy: a port, `HOST:PORT` or `gateway://HOST:PORT` (default: Dask's
    /// `gateway.proxy-address`, else `address`'s host and port).
    #[serde(deserialize_with = "crate::settings::lenient::string")]
    pub proxy_address: Option<String>,
    /// `basic` or `jupyterhub` (default: Dask's `gateway.auth.type`, else `basic`).
    #[serde(deserialize_with = "crate::settings::lenient::string")]
    pub auth: Option<String>,
    /// The basic-auth user name (default: Dask's `gateway.auth.kwargs.username`, else yours).
    #[serde(deserialize_with = "crate::settings::lenient::string")]
    pub username: Option<String>,
    /// The environment variable holding the basic-auth password (default: Dask's
    /// `gateway.auth.kwargs.password`); never the password itself.
    #[serde(deserialize_with = "crate::settings::lenient::string")]
    pub password_env: Option<String>,
    /// Further gateways, each a table with the keys above.
    pub gateways: BTreeMap<String, EndpointSettings>,
    /// The largest count create/scale accept.
    #[serde(deserialize_with = "crate::settings::lenient::count")]
    pub max_workers: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            address: None,
            public_address: None,
            proxy_address: None,
            auth: None,
            username: None,
            password_env: None,
            gateways: BTreeMap::new(),
            max_workers: 1000,
        }
    }
}

impl Settings {
    /// The default gateway's own keys.
    pub fn top(&self) -> EndpointSettings {
        EndpointSettings {
            address: self.address.clone(),
            public_address: self.public_address.clone(),
            proxy_address: self.proxy_address.clone(),
            auth: self.auth.clone(),
            username: self.username.clone(),
            password_env: self.password_env.clone(),
        }
    }
}

/// One gateway's connection settings.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EndpointSettings {
    pub address: Option<String>,
    pub public_address: Option<String>,
    pub proxy_address: Option<String>,
    pub auth: Option<String>,
    pub username: Option<String>,
    pub password_env: Option<String>,
}

impl EndpointSettings {
    /// These settings, each missing one taken from `under`.
    pub fn over(&self, under: &EndpointSettings) -> EndpointSettings {
        let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
        EndpointSettings {
            address: pick(&self.address, &under.address),
            public_address: pick(&self.public_address, &under.public_address),
            proxy_address: pick(&self.proxy_address, &under.proxy_address),
            auth: pick(&self.auth, &under.auth),
            username: pick(&self.username, &under.username),
            password_env: pick(&self.password_env, &under.password_env),
        }
    }
}
