//! Which gateways to ask and how to authenticate, read where dask-gateway's Python client reads
//! them (dask_gateway/client.py `Gateway.__init__`, auth.py `get_auth`, gateway.yaml): Dask's
//! configuration (`gateway.address`, `gateway.public-address`, `gateway.proxy-address`,
//! `gateway.auth.type`, `gateway.auth.kwargs`), each value a template formatted with the
//! environment; `[backends.gateway]` overrides the default gateway and names further ones.

use super::settings::{EndpointSettings, Settings};
use crate::dask::Address;
use crate::dask::daskconfig::DaskConfig;
use crate::error::{Error, Result};

/// A secret (password, API token, a cluster's TLS key): kept in memory only; its `Debug` never
/// shows it, and it has no `Display` or `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The value, to put in a request header or a TLS configuration (never in a message).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// How requests authenticate (dask_gateway/auth.py).
#[derive(Debug, Clone)]
pub enum Auth {
    /// `Authorization: Basic` (BasicAuth: the user name defaults to the local user, the
    /// password to empty).
    Basic { username: String, password: Secret },
    /// `Authorization: jupyterhub TOKEN` (JupyterHubAuth: the token defaults to
    /// `JUPYTERHUB_API_TOKEN`).
    JupyterHub { token: Secret },
}

impl Auth {
    pub fn header(&self) -> String {
        use base64::Engine;
        match self {
            Auth::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
            Auth::JupyterHub { token } => format!("jupyterhub {}", token.expose()),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Auth::Basic { .. } => "basic",
            Auth::JupyterHub { .. } => "jupyterhub",
        }
    }
}

/// One gateway, resolved: where its API, browser-facing address and scheduler proxy are, and
/// how to authenticate.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `default` for the one Dask's configuration (or the top of `[backends.gateway]`) names;
    /// else its table name in `[backends.gateway.gateways]`.
    pub name: String,
    /// `http(s)://host[:port][/prefix]`, without a trailing '/'.
    pub address: String,
    pub public_address: String,
    /// The scheduler proxy (`gateway://host:port`).
    pub proxy: Address,
    pub auth: Auth,
    /// Whose clusters these are (the gateway's listing does not say): the basic user name, else
    /// `JUPYTERHUB_USER`, else the local user.
    pub user: String,
}

/// Every gateway configured; `Err` says why none can be used (shown by `daskctl backends`).
pub fn endpoints(
    settings: &Settings,
    dask: &DaskConfig,
    local_user: &str,
) -> Result<Vec<Endpoint>> {
    resolve_all(settings, dask, local_user, &|k: &str| std::env::var(k).ok())
}

fn resolve_all(
    settings: &Settings,
    dask: &DaskConfig,
    local_user: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Endpoint>> {
    let mut out = Vec::new();
    let from_dask = EndpointSettings {
        address: dask.get("gateway.address").map(str::to_string),
        public_address: dask.get("gateway.public-address").map(str::to_string),
        proxy_address: dask.get("gateway.proxy-address").map(str::to_string),
        auth: dask.get("gateway.auth.type").map(str::to_string),
        username: None,
        password_env: None,
    };
    let default = settings.top().over(&from_dask);
    if default.address.is_some() {
        out.push(resolve("default", &default, dask, local_user, env)?);
    }
    for (name, s) in &settings.gateways {
        let merged = s.over(&EndpointSettings::default());
        if merged.address.is_none() {
            return Err(Error::Usage(format!(
                "[backends.gateway.gateways.{name}] has no address"
            )));
        }
        out.push(resolve(name, &merged, dask, local_user, env)?);
    }
    if out.is_empty() {
        return Err(Error::Usage(
            "no gateway configured: set gateway.address in Dask's config (~/.config/dask/gateway.yaml or DASK_GATEWAY__ADDRESS) or backends.gateway.address".into(),
        ));
    }
    Ok(out)
}

fn resolve(
    name: &str,
    s: &EndpointSettings,
    dask: &DaskConfig,
    local_user: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Endpoint> {
    let t = |v: &str| format_template(v, env);
    let address = t(s.address.as_deref().unwrap_or_default())?
        .trim_end_matches('/')
        .to_string();
    let parsed = Url::parse(&address).ok_or_else(|| {
        Error::Usage(format!(
            "gateway {name}: address {address:?} is not an http:// or https:// URL"
        ))
    })?;
    let public_address = match &s.public_address {
        Some(p) => t(p)?.trim_end_matches('/').to_string(),
        None => address.clone(),
    };
    let proxy = proxy_address(s.proxy_address.as_deref().map(t).transpose()?, &parsed)
        .ok_or_else(|| {
            Error::Usage(format!(
                "gateway {name}: proxy address {:?} is not HOST:PORT, a port or gateway://HOST:PORT",
                s.proxy_address.as_deref().unwrap_or_default()
            ))
        })?;
    // auth kwargs apply to the gateway Dask's config describes
    let kwarg = |k: &str| {
        (name == "default")
            .then(|| auth_kwarg(dask, k))
            .flatten()
            .map(|v| t(&v))
            .transpose()
    };
    let kind = s.auth.as_deref().unwrap_or("basic");
    let auth = match kind {
        "basic" => {
            let username = match (&s.username, kwarg("username")?) {
                (Some(u), _) => u.clone(),
                (None, Some(u)) => u,
                (None, None) => local_user.to_string(),
            };
            let password = match &s.password_env {
                Some(var) => env(var).ok_or_else(|| {
                    Error::Usage(format!(
                        "gateway {name}: password_env names {var}, which is not set"
                    ))
                })?,
                None => kwarg("password")?.unwrap_or_default(),
            };
            Auth::Basic {
                username,
                password: Secret::new(password),
            }
        }
        "jupyterhub" => {
            let token = kwarg("api_token")?
                .or_else(|| env("JUPYTERHUB_API_TOKEN"))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "gateway {name}: jupyterhub authentication needs an API token: JUPYTERHUB_API_TOKEN or gateway.auth.kwargs.api_token"
                    ))
                })?;
            Auth::JupyterHub {
                token: Secret::new(token),
            }
        }
        "kerberos" => {
            return Err(Error::Usage(format!(
                "gateway {name}: kerberos authentication (SPNEGO through GSSAPI) is not built into daskctl; use the gateway's basic or jupyterhub authentication, or dask-gateway's Python client"
            )));
        }
        other => {
            return Err(Error::Usage(format!(
                "gateway {name}: authentication {other:?} is not one daskctl speaks (basic, jupyterhub)"
            )));
        }
    };
    let user = match &auth {
        Auth::Basic { username, .. } => username.clone(),
        Auth::JupyterHub { .. } => env("JUPYTERHUB_USER").unwrap_or_else(|| local_user.to_string()),
    };
    Ok(Endpoint {
        name: name.to_string(),
        address,
        public_address,
        proxy,
        auth,
        user,
    })
}

/// `gateway.auth.kwargs.KEY`, from the YAML files (flattened) or a `DASK_GATEWAY__AUTH__KWARGS`
/// variable holding a Python dict literal.
fn auth_kwarg(dask: &DaskConfig, key: &str) -> Option<String> {
    if let Some(v) = dask.get(&format!("gateway.auth.kwargs.{key}")) {
        return Some(v.to_string());
    }
    let literal = dask.get("gateway.auth.kwargs")?;
    let map: serde_yaml::Mapping = serde_yaml::from_str(literal).ok()?;
    map.into_iter().find_map(|(k, v)| {
        let k = k.as_str()?.to_ascii_lowercase().replace('-', "_");
        (k == key).then(|| v.as_str().map(str::to_string)).flatten()
    })
}

/// The scheduler proxy, as client.py derives it: the configured `proxy-address` (a port on the
/// API's host, `HOST:PORT` or `gateway://HOST:PORT`), else the API's own host and port.
fn proxy_address(configured: Option<String>, api: &Url) -> Option<Address> {
    let netloc = match configured {
        None => format!("{}:{}", api.host, api.port),
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}:{p}", api.host)
        }
        Some(p) => match p.split_once("://") {
            Some((_, rest)) => rest.trim_end_matches('/').to_string(),
            None => p,
        },
    };
    let a = Address::parse(&netloc).ok()?;
    Some(Address { tls: true, ..a })
}

/// Python's `str.format(**os.environ)`: `{NAME}` is the variable's value, `{{` and `}}` are
/// braces; an unknown variable is an error, as Python's KeyError is.
pub fn format_template(t: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let mut out = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let value = env(&name).ok_or_else(|| {
                    Error::Usage(format!(
                        "gateway setting {t:?} names the environment variable {name}, which is not set"
                    ))
                })?;
                out.push_str(&value);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Just what daskctl needs of an http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

impl Url {
    pub fn parse(s: &str) -> Option<Url> {
        let u: hyper::Uri = s.parse().ok()?;
        let https = match u.scheme_str()? {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        let host = u.host()?.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return None;
        }
        Some(Url {
            https,
            host: host.to_string(),
            port: u.port_u16().unwrap_or(if https { 443 } else { 80 }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "JUPYTERHUB_SERVICE_PREFIX" => Some("/user/alice/".into()),
            "JUPYTERHUB_API_TOKEN" => Some("tok".into()),
            _ => None,
        }
    }

    #[test]
    fn templates_are_formatted_with_the_environment() {
        let t = format_template("https://hub{JUPYTERHUB_SERVICE_PREFIX}gw {{x}}", &env).unwrap();
        assert_eq!(t, "https://hub/user/alice/gw {x}");
        assert!(format_template("{NOPE}", &env).is_err());
    }

    #[test]
    fn proxy_defaults_as_the_python_client() {
        let api = Url::parse("https://gw.example.org/services/dask-gateway").unwrap();
        assert_eq!(api.port, 443);
        let p = |c: Option<&str>| {
            proxy_address(c.map(str::to_string), &api)
                .unwrap()
                .to_string()
        };
        assert_eq!(p(None), "tls://gw.example.org:443");
        assert_eq!(p(Some("8786")), "tls://gw.example.org:8786");
        assert_eq!(
            p(Some("gateway://127.0.0.1:28786")),
            "tls://127.0.0.1:28786"
        );
        assert_eq!(p(Some("10.0.0.1:9000")), "tls://10.0.0.1:9000");
    }

    #[test]
    fn dask_config_and_named_gateways_make_endpoints() {
        let mut dask = DaskConfig::default();
        dask.apply_env(
            [
                (
                    "DASK_GATEWAY__ADDRESS",
                    "https://hub.example.org{JUPYTERHUB_SERVICE_PREFIX}gw",
                ),
                ("DASK_GATEWAY__PROXY_ADDRESS", "8786"),
                ("DASK_GATEWAY__AUTH__TYPE", "jupyterhub"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let mut settings = Settings::default();
        settings.gateways.insert(
            "eaf".into(),
            EndpointSettings {
                address: Some("http://127.0.0.1:28000".into()),
                username: Some("ann".into()),
                ..Default::default()
            },
        );
        let eps = resolve_all(&settings, &dask, "me", &env).unwrap();
        assert_eq!(eps.len(), 2);
        let d = &eps[0];
        assert_eq!(d.name, "default");
        assert_eq!(d.address, "https://hub.example.org/user/alice/gw");
        assert_eq!(d.proxy.to_string(), "tls://hub.example.org:8786");
        assert_eq!(d.auth.header(), "jupyterhub tok");
        let e = &eps[1];
        assert_eq!((e.name.as_str(), e.user.as_str()), ("eaf", "ann"));
        assert_eq!(e.proxy.to_string(), "tls://127.0.0.1:28000");

        // nothing configured: unavailable, saying what to set
        let none = resolve_all(&Settings::default(), &DaskConfig::default(), "me", &env);
        assert!(none.unwrap_err().to_string().contains("gateway.address"));
        // kerberos: the reason names what is missing
        let k = Settings {
            address: Some("http://127.0.0.1:1".into()),
            auth: Some("kerberos".into()),
            ..Default::default()
        };
        let e = resolve_all(&k, &DaskConfig::default(), "me", &env).unwrap_err();
        assert!(e.to_string().contains("kerberos"), "{e}");
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let a = Auth::Basic {
            username: "alice".into(),
            password: Secret::new("hunter2"),
        };
        assert!(!format!("{a:?}").contains("hunter2"));
        assert_eq!(a.header(), "Basic YWxpY2U6aHVudGVyMg==");
    }
}
