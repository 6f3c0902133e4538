//! A connection to a Dask server: TCP or TLS, the handshake, request/reply.
//!
//! Handshake (distributed/comm/core.py `Listener.on_connection` / `connect`): the listening side
//! writes `{"compression", "python", "pickle-protocol"}` as soon as it accepts, then reads the
//! same from the connecting side. Requests are `{"op": ..., "reply": true, ...}` maps; the reply
//! is one message. `{"op": "close", "reply": false}` ends the conversation politely.

use super::frame::{self, get, map};
use crate::error::{Error, ProbeFault, Result};
use rmpv::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl Address {
    pub fn parse(s: &str) -> Result<Address> {
        let bad = || {
            Error::Usage(format!(
                "invalid scheduler address {s:?} (expected tcp://HOST:PORT or tls://HOST:PORT)"
            ))
        };
        let (tls, rest) = if let Some(r) = s.strip_prefix("tls://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("tcp://") {
            (false, r)
        } else if s.contains("://") {
            return Err(bad());
        } else {
            (false, s)
        };
        let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad());
        }
        let port = port.trim_end_matches('/').parse().map_err(|_| bad())?;
        Ok(Address {
            tls,
            host: host.to_string(),
            port,
        })
    }

    pub fn is_loopback(&self) -> bool {
        match self.host.parse::<std::net::IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => self.host == "localhost",
        }
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "tls" } else { "tcp" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub connect: Duration,
    /// For the server's greeting: a Dask server sends it at once, anything else stays silent.
    pub greeting: Duration,
    pub reply: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            connect: Duration::from_secs(3),
            greeting: Duration::from_secs(3),
            reply: Duration::from_secs(10),
        }
    }
}

pub struct Comm {
    io: Box<dyn Io>,
    peer: String,
    deadlines: Deadlines,
}

impl Comm {
    pub async fn connect(
        addr: &Address,
        tls: Option<Arc<rustls::ClientConfig>>,
        deadlines: Deadlines,
    ) -> Result<Comm> {
        Comm::connect_named(addr, tls, None, deadlines).await
    }

    /// `connect`, with TLS's server name (SNI) set to `server_name` instead of the host: a
    /// dask-gateway proxy routes on it (`daskgateway-CLUSTER`).
    pub async fn connect_named(
        addr: &Address,
        tls: Option<Arc<rustls::ClientConfig>>,
        server_name: Option<&str>,
        deadlines: Deadlines,
    ) -> Result<Comm> {
        let peer = addr.to_string();
        let target = (addr.host.as_str(), addr.port);
        let tcp = timeout(deadlines.connect, TcpStream::connect(target))
            .await
            .map_err(|_| {
                Error::probe(
                    ProbeFault::Timeout,
                    format!(
                        "connecting to {peer}: no answer within {:?}",
                        deadlines.connect
                    ),
                )
            })?
            .map_err(|e| {
                let fault = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    ProbeFault::Refused
                } else {
                    ProbeFault::Unreachable
                };
                Error::probe(fault, format!("cannot connect to {peer}: {e}"))
            })?;
        tcp.set_nodelay(true).ok();
        let io: Box<dyn Io> = if addr.tls {
            let cfg = tls.ok_or_else(|| {
                Error::probe(
                    ProbeFault::Tls,
                    format!("{peer} uses TLS but no Dask TLS configuration was found"),
                )
            })?;
            let host = server_name.unwrap_or(&addr.host).to_string();
            let name = rustls::pki_types::ServerName::try_from(host)
                .map_err(|e| Error::Usage(format!("bad host in {peer}: {e}")))?;
            let conn = tokio_rustls::TlsConnector::from(cfg);
            let stream = timeout(deadlines.connect, conn.connect(name, tcp))
                .await
                .map_err(|_| {
                    Error::probe(
                        ProbeFault::Timeout,
                        format!("TLS handshake with {peer} timed out"),
                    )
                })?
                .map_err(|e| {
                    Error::probe(
                        ProbeFault::Tls,
                        format!("TLS handshake with {peer} failed: {e}"),
                    )
                })?;
            Box::new(stream)
        } else {
            Box::new(tcp)
        };
        let mut comm = Comm {
            io,
            peer,
            deadlines,
        };
        comm.handshake().await?;
        Ok(comm)
    }

    /// Writes our half first: a Dask server does not mind the order, while anything else
    /// (HTTP, ZeroMQ, a TLS port spoken to in plain text) answers the unexpected bytes with an
    /// error or a close at once instead of waiting out the greeting deadline.
    async fn handshake(&mut self) -> Result<()> {
        let ours = map(vec![
            ("compression", Value::Nil),
            ("python", Value::Array(vec![3.into(), 11.into(), 0.into()])),
            // distributed takes the minimum of both sides; 5 is what every supported Python has
            ("pickle-protocol", 5.into()),
            // Dask ignores extra handshake keys; an HTTP server (every dashboard) waits for a
            // blank line before judging a request, and this gives it one: it answers 400 at
            // once instead of holding the probe until its deadline.
            ("daskctl", "\r\n\r\n".into()),
        ]);
        self.write(&ours).await?;
        let greeting = self
            .read_within(self.deadlines.greeting, "greeting")
            .await?;
        if get(&greeting, "pickle-protocol").is_none() && get(&greeting, "compression").is_none() {
            return Err(Error::probe(
                ProbeFault::NotDask,
                format!("{} is not a Dask server (unexpected greeting)", self.peer),
            ));
        }
        Ok(())
    }

    async fn read_within(&mut self, d: Duration, what: &str) -> Result<Value> {
        let frames = timeout(d, frame::read_frames(&mut self.io))
            .await
            .map_err(|_| {
                Error::probe(
                    ProbeFault::Timeout,
                    format!(
                        "{}: no {what} within {d:?} (is it a Dask scheduler?)",
                        self.peer
                    ),
                )
            })?
            .map_err(|e| match e {
                Error::Probe { fault, message } => {
                    Error::probe(fault, format!("{}: {message}", self.peer))
                }
                other => other,
            })?;
        frame::decode(&frames).map_err(|e| match e {
            Error::Probe { fault, message } => {
                Error::probe(fault, format!("{}: {message}", self.peer))
            }
            other => other,
        })
    }

    pub async fn write(&mut self, msg: &Value) -> Result<()> {
        let bytes = frame::encode(msg);
        timeout(self.deadlines.reply, async {
            self.io.write_all(&bytes).await?;
            self.io.flush().await
        })
        .await
        .map_err(|_| {
            Error::probe(
                ProbeFault::Timeout,
                format!("{}: write timed out", self.peer),
            )
        })?
        .map_err(|e| {
            Error::probe(
                ProbeFault::Closed,
                format!("{}: write failed: {e}", self.peer),
            )
        })
    }

    /// Sends `{"op": op, "reply": true, ..args}` and returns the reply; a Dask error reply
    /// (`{"status": "uncaught-error", "exception_text": ...}`) becomes `Error::Protocol`.
    pub async fn rpc(&mut self, op: &str, args: Vec<(&str, Value)>) -> Result<Value> {
        let mut pairs = vec![("op", Value::from(op)), ("reply", Value::from(true))];
        pairs.extend(args);
        self.write(&map(pairs)).await?;
        let reply = self
            .read_within(self.deadlines.reply, &format!("reply to {op}"))
            .await?;
        if let Some(status) = get(&reply, "status").and_then(Value::as_str)
            && (status == "uncaught-error" || status == "error")
        {
            let text =
                frame::get_str(&reply, "exception_text").unwrap_or_else(|| status.to_string());
            return Err(Error::Protocol(format!(
                "{}: {op} failed: {text}",
                self.peer
            )));
        }
        Ok(reply)
    }

    /// Like `rpc` for ops after which the server may close the connection (terminate).
    pub async fn rpc_may_close(&mut self, op: &str, args: Vec<(&str, Value)>) -> Result<()> {
        match self.rpc(op, args).await {
            Ok(_) => Ok(()),
            Err(e) if e.probe_fault() == Some(ProbeFault::Closed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn close(mut self) {
        let bye = map(vec![("op", "close".into()), ("reply", false.into())]);
        let _ = timeout(Duration::from_millis(200), async {
            let _ = self.write(&bye).await;
            let _ = self.io.shutdown().await;
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let a = Address::parse("tcp://127.0.0.1:8786").unwrap();
        assert!(!a.tls && a.port == 8786 && a.is_loopback());
        let a = Address::parse("tls://[::1]:9000").unwrap();
        assert!(a.tls && a.host == "::1");
        assert_eq!(a.to_string(), "tls://[::1]:9000");
        assert_eq!(
            Address::parse("localhost:1").unwrap().to_string(),
            "tcp://localhost:1"
        );
        for bad in [
            "",
            "tcp://",
            "ucx://a:1",
            "tcp://a",
            "tcp://a:x",
            "tcp://:1",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
        assert!(!Address::parse("tcp://10.0.0.1:1").unwrap().is_loopback());
    }
}
