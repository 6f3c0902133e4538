//! How daskctl reaches schedulers: with deadlines, through the configured address map, never
//! when probing is disabled, and (when `loopback_only`) never beyond 127.0.0.0/8 and ::1.

use super::client::{self, Identity, SchedulerInfo};
use super::comm::{Address, Comm, Deadlines};
use super::daskconfig::DaskConfig;
use crate::config::ProbeConfig;
use crate::error::{Error, ProbeFault, Result};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

tokio::task_local! {
    /// When the discovery this probe belongs to must be done: a probe never outlives it, so a
    /// silent scheduler costs at most the rest of the budget, and the backend still reports
    /// what it found instead of being cut off as a whole.
    static BUDGET: Instant;
}

/// Runs `f` with every probe inside it bounded by `until`.
pub async fn within_budget<F: Future>(until: Instant, f: F) -> F::Output {
    BUDGET.scope(until, f).await
}

/// What asking a scheduler for its state came to. Status classification reads this, never an
/// error's text: only `Refused` says nothing listens; `Failed` says only that no answer came.
#[derive(Debug, Clone)]
pub enum Probe {
    /// It answered the Dask protocol as a scheduler.
    Answered {
        info: SchedulerInfo,
        idle: Option<f64>,
    },
    /// Connection refused: nothing listens at the address.
    Refused { why: String },
    /// Not asked: probes are off (`--no-probe`), or the address is beyond `probe.loopback_only`.
    Disabled { why: String },
    /// Asked, and no scheduler answered: a timeout, a TLS failure, a peer that is not a Dask
    /// scheduler, a closed connection, a stopped process.
    Failed {
        fault: Option<ProbeFault>,
        why: String,
    },
}

impl Probe {
    /// A failure that is not one of the prober's own (a stopped process, no port yet).
    pub fn failed(why: impl Into<String>) -> Probe {
        Probe::Failed {
            fault: None,
            why: why.into(),
        }
    }

    /// Why there is no answer; `None` when it answered.
    pub fn why(&self) -> Option<&str> {
        match self {
            Probe::Answered { .. } => None,
            Probe::Refused { why } | Probe::Disabled { why } | Probe::Failed { why, .. } => {
                Some(why)
            }
        }
    }
}

impl From<Result<(SchedulerInfo, Option<f64>)>> for Probe {
    fn from(r: Result<(SchedulerInfo, Option<f64>)>) -> Probe {
        match r {
            Ok((info, idle)) => Probe::Answered { info, idle },
            Err(e) => {
                let why = e.to_string();
                match e.probe_fault() {
                    Some(ProbeFault::Refused) => Probe::Refused { why },
                    Some(ProbeFault::Disabled) => Probe::Disabled { why },
                    fault => Probe::Failed { fault, why },
                }
            }
        }
    }
}

/// `Identity::Other` of a Dask server that completed the handshake but is still starting.
pub const STARTING: &str = "starting";

pub struct Prober {
    disabled: bool,
    loopback_only: bool,
    map: BTreeMap<String, String>,
    deadlines: Deadlines,
    sniff: Duration,
    tls: OnceLock<std::result::Result<Arc<rustls::ClientConfig>, String>>,
}

impl Prober {
    pub fn new(cfg: &ProbeConfig, disabled: bool) -> Prober {
        let t = cfg.timeout.unwrap_or(Duration::from_secs(3));
        Prober {
            disabled: disabled || cfg.disabled,
            loopback_only: cfg.loopback_only,
            map: cfg.map.clone(),
            deadlines: Deadlines {
                connect: t,
                greeting: t,
                reply: t.max(Duration::from_secs(5)),
            },
            sniff: cfg.sniff_timeout.unwrap_or(Duration::from_millis(500)),
            tls: OnceLock::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.disabled
    }

    /// The address daskctl would connect to for `reported`, or why it will not.
    pub fn target(&self, reported: &str) -> Result<Address> {
        if self.disabled {
            return Err(Error::probe(
                ProbeFault::Disabled,
                "scheduler probes are disabled (--no-probe)",
            ));
        }
        let mapped = self
            .map
            .get(reported)
            .map(String::as_str)
            .unwrap_or(reported);
        let addr = Address::parse(mapped)?;
        if self.loopback_only && !addr.is_loopback() {
            return Err(Error::probe(
                ProbeFault::Disabled,
                format!(
                    "not probing {mapped}: probes are limited to loopback (probe.loopback_only); map it with probe.map"
                ),
            ));
        }
        Ok(addr)
    }

    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>> {
        self.tls
            .get_or_init(|| {
                super::tls::client_config(&DaskConfig::load()).map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| Error::probe(ProbeFault::Tls, e))
    }

    /// `d` cut to what is left of the discovery budget, if one is set; an error once it is spent.
    fn bounded(&self, d: Deadlines) -> Result<Deadlines> {
        let Ok(left) = BUDGET.try_with(|until| until.saturating_duration_since(Instant::now()))
        else {
            return Ok(d);
        };
        if left.is_zero() {
            return Err(Error::probe(
                ProbeFault::Timeout,
                "not probed: the discovery deadline was reached",
            ));
        }
        Ok(Deadlines {
            connect: d.connect.min(left),
            greeting: d.greeting.min(left),
            reply: d.reply.min(left),
        })
    }

    pub async fn connect(&self, reported: &str) -> Result<Comm> {
        let addr = self.target(reported)?;
        let tls = if addr.tls {
            Some(self.tls_config()?)
        } else {
            None
        };
        Comm::connect(&addr, tls, self.bounded(self.deadlines)?).await
    }

    /// Identity of a scheduler; an error if it is not one.
    pub async fn scheduler(&self, reported: &str) -> Result<SchedulerInfo> {
        let mut comm = self.connect(reported).await?;
        let id = client::identity(&mut comm).await;
        comm.close().await;
        match id? {
            Identity::Scheduler(s) => Ok(s),
            Identity::Worker { .. } => Err(Error::Protocol(format!(
                "{reported} is a Dask worker, not a scheduler"
            ))),
            Identity::Other(t) => Err(Error::Protocol(format!(
                "{reported} is a Dask {t}, not a scheduler"
            ))),
        }
    }

    /// Asks the scheduler to retire these workers (their data moves first) and close them.
    pub async fn retire(&self, reported: &str, names: &[String]) -> Result<Vec<String>> {
        let mut comm = self.connect(reported).await?;
        let r = client::retire_workers(&mut comm, names, true).await;
        comm.close().await;
        r
    }

    /// The clients connected to the scheduler at `reported`.
    pub async fn clients(&self, reported: &str) -> Result<Vec<String>> {
        let mut comm = self.connect(reported).await?;
        let r = client::clients(&mut comm).await;
        comm.close().await;
        r
    }

    /// Scheduler identity plus idleness, as `list` shows it.
    pub async fn status(&self, reported: &str) -> Probe {
        let started = std::time::Instant::now();
        let p: Probe = match self.connect(reported).await {
            Ok(comm) => ask_status(comm, reported).await.into(),
            Err(e) => Err(e).into(),
        };
        // -v: every probe and its outcome
        let ms = started.elapsed().as_millis();
        match p.why() {
            None => tracing::info!("probe {reported}: answered in {ms} ms"),
            Some(why) => tracing::info!("probe {reported}: {why} ({ms} ms)"),
        }
        p
    }

    /// A scheduler behind a dask-gateway proxy, connected as dask-gateway's client does
    /// (dask_gateway/comm.py `GatewayConnector`): TLS to the proxy with the server name
    /// `daskgateway-CLUSTER`, the cluster's own certificate as CA and client certificate.
    pub async fn connect_gateway(
        &self,
        proxy: &Address,
        cluster: &str,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Comm> {
        let shown = format!("gateway://{}:{}/{cluster}", proxy.host, proxy.port);
        if self.disabled {
            return Err(Error::probe(
                ProbeFault::Disabled,
                "scheduler probes are disabled (--no-probe)",
            ));
        }
        if self.loopback_only && !proxy.is_loopback() {
            return Err(Error::probe(
                ProbeFault::Disabled,
                format!(
                    "not probing {shown}: probes are limited to loopback (probe.loopback_only)"
                ),
            ));
        }
        let addr = Address {
            tls: true,
            ..proxy.clone()
        };
        let sni = format!("daskgateway-{cluster}");
        let deadlines = self.bounded(self.deadlines)?;
        Comm::connect_named(&addr, Some(tls), Some(&sni), deadlines)
            .await
            .map_err(|e| match e {
                Error::Probe { fault, message } => Error::Probe {
                    fault,
                    message: message.replace(&addr.to_string(), &shown),
                },
                other => other,
            })
    }

    /// `status` for a scheduler behind a dask-gateway proxy.
    pub async fn gateway_status(
        &self,
        proxy: &Address,
        cluster: &str,
        tls: Arc<rustls::ClientConfig>,
    ) -> Probe {
        match self.connect_gateway(proxy, cluster, tls).await {
            Ok(comm) => ask_status(comm, cluster).await.into(),
            Err(e) => Err(e).into(),
        }
    }

    /// Identifies whatever Dask server listens at a port found on this machine. A port that
    /// does not complete the plain handshake within the sniff deadline is not a plain Dask
    /// server; TLS is tried next when Dask's TLS settings exist.
    pub async fn sniff(&self, addr: &Address) -> Result<(Identity, Option<f64>)> {
        if self.disabled {
            return Err(Error::probe(ProbeFault::Disabled, "probes disabled"));
        }
        if self.loopback_only && !addr.is_loopback() {
            return Err(Error::probe(ProbeFault::Disabled, "not loopback"));
        }
        let quick = self.bounded(Deadlines {
            connect: self.sniff,
            greeting: self.sniff,
            // a server still starting (a nanny waiting for its scheduler) completes the handshake
            // but answers nothing until its start-up finishes (`await self` in `handle_comm`)
            reply: self.sniff.max(Duration::from_secs(1)),
        })?;
        let plain = Address {
            tls: false,
            ..addr.clone()
        };
        let mut comm = match Comm::connect(&plain, None, quick).await {
            Ok(c) => c,
            // a TLS port resets, closes or alerts on plain bytes: then TLS, if Dask has settings
            Err(plain_err) if looks_like_tls(&plain_err) => match self.tls_config() {
                Ok(cfg) => {
                    let tls_addr = Address {
                        tls: true,
                        ..addr.clone()
                    };
                    Comm::connect(&tls_addr, Some(cfg), quick)
                        .await
                        .inspect_err(|e| {
                            tracing::debug!("{addr}: not Dask ({plain_err}; over TLS: {e})")
                        })?
                }
                Err(tls_err) => {
                    tracing::debug!("{addr}: not Dask ({plain_err})");
                    return Err(Error::probe(
                        ProbeFault::Tls,
                        format!(
                            "{addr} does not take plain TCP ({plain_err}); if it speaks TLS, daskctl needs Dask's TLS client settings: {tls_err}"
                        ),
                    ));
                }
            },
            Err(e) => {
                tracing::debug!("{addr}: not Dask ({e})");
                return Err(e);
            }
        };
        let r = async {
            let id = match client::identity(&mut comm).await {
                Err(e) if e.probe_fault() == Some(ProbeFault::Timeout) => {
                    return Ok((Identity::Other(STARTING.into()), None));
                }
                other => other?,
            };
            let idle = match id {
                Identity::Scheduler(_) => client::idle_since(&mut comm).await.unwrap_or(None),
                _ => None,
            };
            Ok((id, idle))
        }
        .await;
        comm.close().await;
        r
    }
}

/// A TLS port resets, closes, alerts or stays silent when spoken to in plain text.
fn looks_like_tls(e: &Error) -> bool {
    matches!(
        e.probe_fault(),
        Some(ProbeFault::SpeaksTls | ProbeFault::Closed | ProbeFault::Timeout)
    )
}

/// Identity and idleness of the scheduler at the other end of `comm`.
async fn ask_status(mut comm: Comm, reported: &str) -> Result<(SchedulerInfo, Option<f64>)> {
    let r = async {
        let id = match client::identity(&mut comm).await? {
            Identity::Scheduler(s) => s,
            _ => {
                return Err(Error::Protocol(format!(
                    "{reported} is not a Dask scheduler"
                )));
            }
        };
        let idle = client::idle_since(&mut comm).await.unwrap_or(None);
        Ok((id, idle))
    }
    .await;
    comm.close().await;
    r
}
