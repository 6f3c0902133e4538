//! The AWS test bed: moto's EC2 API on 127.0.0.1 (scripts/testbeds/moto.sh, started by
//! scripts/test.sh, which sets DASKCTL_TEST_AWS to its URL), reset before each test, and
//! `ec2_ops.py` (boto3) to act on it directly and read back what daskctl did.

use super::{Env, serial};
use std::path::PathBuf;
use std::process::Command;

/// An AMI from moto's catalogue (its AMI validation is on in the test bed).
pub const AMI: &str = "ami-12c6146b";

pub fn endpoint() -> Option<String> {
    match std::env::var("DASKCTL_TEST_AWS") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!("skipped: DASKCTL_TEST_AWS is not set (scripts/test.sh starts moto)");
            None
        }
    }
}

fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("DASKCTL_TEST_MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv-moto/bin/python"))
}

impl Env {
    /// An environment pointed at a freshly reset moto, holding the serial lock (moto's state is
    /// shared by every test). None, with a message, when the test bed is not running.
    pub fn aws() -> Option<Env> {
        let url = endpoint()?;
        let lock = serial();
        let mut e = Env::new()
            .with("AWS_ACCESS_KEY_ID", "testing")
            .with("AWS_SECRET_ACCESS_KEY", "testing")
            .with("AWS_REGION", "us-east-1")
            .with("AWS_ENDPOINT_URL", &url)
            .with("DASKCTL_BACKENDS__AWS__MAX_ATTEMPTS", "2")
            // only this backend: other tests' Dask processes stay out of its listings
            .with("DASKCTL_BACKENDS__LOCAL__ENABLED", "false")
            .with("DASKCTL_BACKENDS__KUBERNETES__ENABLED", "false")
            .without_batch();
        e.lock = Some(lock);
        e.ec2(&["reset"]);
        Some(e)
    }

    /// Runs one operation of ec2_ops.py against moto; its JSON answer.
    pub fn ec2(&self, args: &[&str]) -> serde_json::Value {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/ec2_ops.py");
        let mut c = Command::new(python());
        c.arg(script).args(args);
        for (k, v) in &self.extra {
            if k.starts_with("AWS_") {
                c.env(k, v);
            }
        }
        let o = c.output().expect("run ec2_ops.py");
        assert!(
            o.status.success(),
            "ec2_ops {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).expect("ec2_ops json")
    }

    /// Makes daskctl connect to `to` whenever a backend reports the scheduler at `from`.
    pub fn map_probe(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.config()).unwrap_or_default();
        let mut t: toml::Table = toml::from_str(&text).expect("config");
        let probe = t
            .entry("probe")
            .or_insert_with(|| toml::Value::Table(Default::default()));
        let map = probe
            .as_table_mut()
            .unwrap()
            .entry("map")
            .or_insert_with(|| toml::Value::Table(Default::default()));
        map.as_table_mut()
            .unwrap()
            .insert(from.into(), toml::Value::String(to.into()));
        std::fs::write(self.config(), toml::to_string(&t).unwrap()).expect("write config");
    }
}

/// An HTTP proxy in front of moto that answers the next N requests the way EC2 does when a
/// caller is throttled: status 503 and the Query API error document with code
/// RequestLimitExceeded (EC2 API reference, "Error codes" and "Query API request rate").
pub struct Throttler {
    pub url: String,
    pending: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    done: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

const THROTTLED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>";

impl Throttler {
    pub fn start(upstream: &str, first: usize) -> Throttler {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let up = upstream.trim_start_matches("http://").to_string();
        let pending = Arc::new(AtomicUsize::new(first));
        let done = Arc::new(AtomicUsize::new(0));
        let (p, d) = (pending.clone(), done.clone());
        std::thread::spawn(move || {
            for conn in l.incoming().flatten() {
                let (p, d, up) = (p.clone(), d.clone(), up.clone());
                std::thread::spawn(move || {
                    let throttle = || {
                        let t = p
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                        if t {
                            d.fetch_add(1, Ordering::SeqCst);
                        }
                        t
                    };
                    let _ = serve(conn, &up, throttle);
                });
            }
        });
        Throttler { url, pending, done }
    }

    pub fn throttled(&self) -> usize {
        self.done.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn throttle_next(&self, n: usize) {
        self.pending.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A fault the proxy injects: requests of `action` answer the EC2 error `code` (status 400,
/// the Query API error document) `times` times, once `armed_by` (if any) has passed through
/// and after letting `skip` of them through. What real EC2 does and moto never does: the
/// eventual consistency of new instances and groups, groups held by shutting-down instances,
/// capacity errors.
#[derive(Clone)]
pub struct Rule {
    pub action: &'static str,
    pub code: &'static str,
    pub times: usize,
    pub skip: usize,
    pub armed_by: Option<&'static str>,
}

impl Rule {
    pub fn new(action: &'static str, code: &'static str, times: usize) -> Rule {
        Rule {
            action,
            code,
            times,
            skip: 0,
            armed_by: None,
        }
    }
    pub fn after(self, action: &'static str) -> Rule {
        Rule {
            armed_by: Some(action),
            ..self
        }
    }
    pub fn skipping(self, n: usize) -> Rule {
        Rule { skip: n, ..self }
    }
}

#[derive(Default)]
struct Faults {
    rules: Vec<Rule>,
    seen: Vec<String>,
    injected: Vec<String>,
}

/// An HTTP proxy in front of moto that injects `Rule`s; `injected()` lists what it answered.
pub struct FaultProxy {
    pub url: String,
    faults: std::sync::Arc<std::sync::Mutex<Faults>>,
}

impl FaultProxy {
    pub fn start(upstream: &str, rules: Vec<Rule>) -> FaultProxy {
        use std::sync::{Arc, Mutex};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let up = upstream.trim_start_matches("http://").to_string();
        let faults = Arc::new(Mutex::new(Faults {
            rules,
            ..Default::default()
        }));
        let f = faults.clone();
        std::thread::spawn(move || {
            for conn in l.incoming().flatten() {
                let (f, up) = (f.clone(), up.clone());
                std::thread::spawn(move || {
                    let _ = serve_with(conn, &up, |body| decide(&f, body));
                });
            }
        });
        FaultProxy { url, faults }
    }

    pub fn injected(&self) -> Vec<String> {
        self.faults.lock().unwrap().injected.clone()
    }

    /// No more faults from here on.
    pub fn clear(&self) {
        self.faults.lock().unwrap().rules.clear();
    }
}

/// The action of a Query API request (`Action=RunInstances&...`).
fn action_of(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or("")
        .to_string()
}

fn decide(f: &std::sync::Mutex<Faults>, body: &[u8]) -> Option<(u16, String)> {
    let action = action_of(body);
    let mut f = f.lock().unwrap();
    let seen = f.seen.clone();
    let mut out = None;
    for r in f.rules.iter_mut() {
        if r.action != action || r.times == 0 {
            continue;
        }
        if r.armed_by.is_some_and(|a| !seen.iter().any(|s| s == a)) {
            continue;
        }
        if r.skip > 0 {
            r.skip -= 1;
            break;
        }
        r.times -= 1;
        out = Some((400, r.code.to_string()));
        break;
    }
    match &out {
        Some((_, code)) => f.injected.push(format!("{action}:{code}")),
        None => f.seen.push(action),
    }
    out
}

/// One request per connection (answered with `Connection: close`).
fn serve(
    c: std::net::TcpStream,
    upstream: &str,
    throttle: impl FnOnce() -> bool,
) -> std::io::Result<()> {
    use std::io::BufReader;
    let mut r = BufReader::new(c.try_clone()?);
    let Some((mut head, body)) = super::read_request(&mut r)? else {
        return Ok(());
    };
    head.retain(|h| !h.to_ascii_lowercase().starts_with("connection:"));
    forward(c, upstream, head, body, throttle)
}

/// One request per connection; `fault` may answer it with an EC2 error instead of moto.
fn serve_with(
    c: std::net::TcpStream,
    upstream: &str,
    fault: impl FnOnce(&[u8]) -> Option<(u16, String)>,
) -> std::io::Result<()> {
    use std::io::{BufReader, Write};
    let mut r = BufReader::new(c.try_clone()?);
    let Some((mut head, body)) = super::read_request(&mut r)? else {
        return Ok(());
    };
    head.retain(|h| !h.to_ascii_lowercase().starts_with("connection:"));
    if let Some((status, code)) = fault(&body) {
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>injected by the test proxy</Message></Error></Errors><RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
        );
        let mut c = c;
        write!(
            c,
            "HTTP/1.1 {status} Bad Request\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{doc}",
            doc.len()
        )?;
        return Ok(());
    }
    forward(c, upstream, head, body, || false)
}

fn forward(
    mut c: std::net::TcpStream,
    upstream: &str,
    head: Vec<String>,
    body: Vec<u8>,
    throttle: impl FnOnce() -> bool,
) -> std::io::Result<()> {
    use std::io::{Read, Write};
    if throttle() {
        write!(
            c,
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{THROTTLED}",
            THROTTLED.len()
        )?;
        return Ok(());
    }
    let mut u = std::net::TcpStream::connect(upstream)?;
    for h in &head {
        u.write_all(h.as_bytes())?;
    }
    u.write_all(b"Connection: close\r\n\r\n")?;
    u.write_all(&body)?;
    let mut answer = Vec::new();
    u.read_to_end(&mut answer)?;
    c.write_all(&answer)?;
    Ok(())
}
