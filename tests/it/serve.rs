//! `daskctl serve` through the real binary: the token (401 without, 403 wrong; only ever the
//! Authorization header: `?token=` is redirected to the fragment, a cookie authenticates
//! nothing), the headers on every answer, `/api/clusters`, `/api/view` and `/metrics` from the
//! background discovery of a real local cluster, scale and delete through `/api/act`'s two steps
//! (a tag bound to the question), forged dashboard links, and a flood of half-open connections.
//! (The page in a real Chromium, and what a neighbour's port receives: python/tests/test_serve.py.)

use crate::support::{self, Env, wait_until};
use std::io::{Read, Write};
use std::time::Duration;

const TOKEN: &str = "serve-test-token-0123456789";

struct Reply {
    status: u16,
    head: String,
    body: String,
}

/// One HTTP/1.1 request to 127.0.0.1:`port` (the connection closed after it).
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to serve");
    s.set_read_timeout(Some(Duration::from_secs(180))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn bearer() -> (&'static str, String) {
    ("Authorization", format!("Bearer {TOKEN}"))
}

fn get(port: u16, path: &str) -> Reply {
    let (k, v) = bearer();
    http(port, "GET", path, &[(k, &v)], "")
}

fn started(env: &Env, extra: &[&str]) -> (crate::support::Running, u16) {
    let port = support::free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut args = vec!["serve", "--bind", &bind, "--interval", "1s"];
    args.extend(extra);
    let mut c = env.command(&args);
    c.env("DASKCTL_SERVE_TOKEN", TOKEN)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut running = crate::support::Running {
        child: c.spawn().expect("start serve"),
    };
    wait_until("serve to listen", Duration::from_secs(30), || {
        // a serve that ended will never listen: say why
        if let Ok(Some(status)) = running.child.try_wait() {
            let mut err = String::new();
            use std::io::Read;
            let _ = running
                .child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err);
            panic!("serve ended ({status}) before listening: {err}");
        }
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (running, port)
}

/// `POST /api/act` with the token and a JSON body; the answer's status and JSON.
fn act(port: u16, body: serde_json::Value) -> (u16, serde_json::Value) {
    let (k, v) = bearer();
    let r = http(
        port,
        "POST",
        "/api/act",
        &[(k, &v), ("Content-Type", "application/json")],
        &body.to_string(),
    );
    let json =
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {} {}", r.head, r.body));
    (r.status, json)
}

/// The value of a response header (names are lower-case in what serve sends).
fn header<'a>(r: &'a Reply, name: &str) -> Option<&'a str> {
    r.head
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

/// What every answer carries, whatever its status.
fn assert_hardened(r: &Reply) {
    let csp = header(r, "content-security-policy").unwrap_or_else(|| panic!("{}", r.head));
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(header(r, "x-frame-options"), Some("DENY"), "{}", r.head);
    assert_eq!(
        header(r, "referrer-policy"),
        Some("no-referrer"),
        "{}",
        r.head
    );
    assert_eq!(
        header(r, "x-content-type-options"),
        Some("nosniff"),
        "{}",
        r.head
    );
    assert_eq!(header(r, "cache-control"), Some("no-store"), "{}", r.head);
}

#[test]
fn serve_requires_the_token_and_serves_the_snapshot() {
    let _g = support::serial();
    let env = Env::new().without_batch();
    env.run(&["create", "local", "--name", "served", "--workers", "1"])
        .ok();
    let (mut server, port) = started(&env, &[]);

    let r = http(port, "GET", "/api/clusters", &[], "");
    assert_eq!(r.status, 401, "{}", r.head);
    assert!(r.head.contains("www-authenticate: Bearer"), "{}", r.head);
    let r = http(
        port,
        "GET",
        "/metrics",
        &[("Authorization", "Bearer not-the-token-at-all")],
        "",
    );
    assert_eq!(r.status, 403);
    for r in [&r, &http(port, "GET", "/api/clusters", &[], "")] {
        assert_hardened(r);
    }
    // the page itself is a static shell: no token needed, no data in it
    let shell = http(port, "GET", "/", &[], "");
    assert_eq!(shell.status, 200);
    assert_hardened(&shell);
    assert!(
        shell.body.contains("<script src=\"/app.js\""),
        "{}",
        shell.body
    );
    assert!(!shell.body.contains("served"), "{}", shell.body);
    let script = http(port, "GET", "/app.js", &[], "");
    assert!(
        header(&script, "content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        script.body.contains("sessionStorage"),
        "the page keeps the token per origin"
    );
    // ?token= is sent on to the fragment (which never leaves the browser), filters kept, and
    // nothing is set: no cookie
    let r = http(
        port,
        "GET",
        &format!("/?status=running&token={TOKEN}"),
        &[],
        "",
    );
    assert_eq!(r.status, 303, "{}", r.head);
    assert_eq!(
        header(&r, "location"),
        Some(format!("/?status=running#token={TOKEN}").as_str())
    );
    assert!(header(&r, "set-cookie").is_none(), "{}", r.head);
    // the cookie older versions set authenticates nothing, and is cleared
    let r = http(
        port,
        "GET",
        "/api/clusters",
        &[("Cookie", &format!("daskctl_token={TOKEN}"))],
        "",
    );
    assert_eq!(r.status, 401, "{}", r.head);
    let cleared = header(&r, "set-cookie").expect("the old cookie cleared");
    assert!(
        cleared.starts_with("daskctl_token=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    // nor does the token in the query of an API route
    let r = http(
        port,
        "GET",
        &format!("/api/clusters?token={TOKEN}"),
        &[],
        "",
    );
    assert_eq!(r.status, 401);

    // the background discovery finds the cluster; requests read its snapshot
    wait_until(
        "the cluster in /api/clusters",
        Duration::from_secs(60),
        || {
            let v: serde_json::Value =
                serde_json::from_str(&get(port, "/api/clusters").body).unwrap();
            v.as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "served" && c["workers"] == 1)
        },
    );
    let m = get(port, "/metrics");
    assert!(m.head.contains("text/plain; version=0.0.4"), "{}", m.head);
    let owner = env.describe("served")["owner"]
        .as_str()
        .unwrap()
        .to_string();
    let labels = format!(
        "backend=\"local\",name=\"served\",owner=\"{owner}\",status=\"running\",origin=\"daskctl\""
    );
    assert!(
        m.body
            .contains(&format!("daskctl_cluster_workers{{{labels}}} 1\n")),
        "{}",
        m.body
    );
    assert!(
        m.body.contains("daskctl_backend_up{backend=\"local\"} 1\n"),
        "{}",
        m.body
    );
    assert!(
        m.body.contains("daskctl_clusters{status=\"running\"} "),
        "{}",
        m.body
    );

    // the page's view: the row, formatted, with its dashboard (http, the scheduler's host)
    let view: serde_json::Value = serde_json::from_str(&get(port, "/api/view").body).unwrap();
    let row = view["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cluster"] == "local/served")
        .unwrap_or_else(|| panic!("{view}"))
        .clone();
    assert_eq!(row["status"], "running");
    assert_eq!(row["workers"], "1");
    assert!(
        row["dashboard"].as_str().unwrap().starts_with("http://"),
        "{row}"
    );
    let filtered: serde_json::Value =
        serde_json::from_str(&get(port, "/api/view?status=orphaned").body).unwrap();
    assert_eq!(filtered["rows"], serde_json::json!([]), "{filtered}");

    // scale: the first step asks and answers a tag, the second acts with it
    let ask = serde_json::json!({"cluster": "local/served", "action": "scale", "workers": 2});
    let (status, q) = act(port, ask.clone());
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["question"], "scale local/served from 1 to 2 worker(s)");
    assert_eq!(
        env.describe("served")["requested_workers"],
        1,
        "nothing done yet"
    );
    let tag = q["tag"].as_str().unwrap().to_string();
    // the tag acts on nothing but what was asked: another size, another action, a forgery
    for (other, what) in [
        (
            serde_json::json!({"cluster": "local/served", "action": "scale", "workers": 9, "tag": tag}),
            "another size",
        ),
        (
            serde_json::json!({"cluster": "local/served", "action": "delete", "tag": tag}),
            "another action",
        ),
        (
            serde_json::json!({"cluster": "local/served", "action": "scale", "workers": 2, "tag": "1.00"}),
            "a forged tag",
        ),
    ] {
        let (status, r) = act(port, other);
        assert_eq!(status, 403, "{what}: {r}");
        assert!(r["failed"].is_string(), "{r}");
    }
    assert_eq!(env.describe("served")["requested_workers"], 1);
    let mut go = ask.clone();
    go["tag"] = tag.clone().into();
    let (status, r) = act(port, go);
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["done"], "scaled local/served from 1 to 2 worker(s)");
    assert_eq!(env.describe("served")["requested_workers"], 2);
    // a form posted the old way, or from another site, reaches nothing
    let (k, v) = bearer();
    let r = http(
        port,
        "POST",
        "/act",
        &[(k, &v)],
        "cluster=local%2Fserved&action=delete",
    );
    assert_eq!(r.status, 404);
    let r = http(
        port,
        "POST",
        "/api/act",
        &[(k, &v)],
        "cluster=local%2Fserved&action=delete",
    );
    assert_eq!(r.status, 415, "a form body is not JSON: {}", r.head);

    // a dashboard link is a claim from the user's state.json: a javascript: one is not shown
    let state = env.state().join("local/served/state.json");
    let mut st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    st["dashboard"] = "javascript:alert(document.domain)".into();
    let tmp = state.with_extension("edit");
    std::fs::write(&tmp, st.to_string()).unwrap();
    std::fs::rename(&tmp, &state).unwrap();
    wait_until(
        "the forged link in the snapshot",
        Duration::from_secs(60),
        || get(port, "/api/clusters").body.contains("javascript:alert"),
    );
    let view = get(port, "/api/view").body;
    assert!(!view.contains("javascript:"), "{view}");

    // delete: done only once it is gone
    let ask = serde_json::json!({"cluster": "local/served", "action": "delete"});
    let (_, q) = act(port, ask.clone());
    assert!(
        q["question"]
            .as_str()
            .unwrap()
            .starts_with("delete local/served (running, 2 worker(s)"),
        "{q}"
    );
    let mut go = ask;
    go["tag"] = q["tag"].clone();
    let (status, r) = act(port, go);
    assert_eq!(
        (status, &r["done"]),
        (200, &"deleted local/served".into()),
        "{r}"
    );
    assert!(env.find("served").is_none());
    assert!(env.state_dirs().is_empty());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn read_only_serve_has_no_actions() {
    let env = Env::new()
        .without_batch()
        .with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    let (mut server, port) = started(&env, &["--read-only"]);
    let view: serde_json::Value = serde_json::from_str(&get(port, "/api/view").body).unwrap();
    assert_eq!(view["read_only"], true, "{view}");
    let (status, r) = act(
        port,
        serde_json::json!({"cluster": "local/x", "action": "delete"}),
    );
    assert_eq!(status, 403);
    assert!(r["failed"].as_str().unwrap().contains("read-only"), "{r}");
    let _ = server.child.kill();
    let _ = server.child.wait();
    // a taken address is a usage error, and a short token is refused
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let o = env
        .run_env(
            &[("DASKCTL_SERVE_TOKEN", TOKEN)],
            &["serve", "--bind", &bind],
        )
        .code(2);
    assert!(
        o.one_line_error().contains("already in use"),
        "{}",
        o.stderr
    );
    let o = env
        .run_env(
            &[("DASKCTL_SERVE_TOKEN", "short")],
            &["serve", "--bind", "127.0.0.1:0"],
        )
        .code(2);
    assert!(
        o.one_line_error().contains("DASKCTL_SERVE_TOKEN"),
        "{}",
        o.stderr
    );
}

/// `--tls-cert/--tls-key`: HTTPS a verifying client (Python's ssl, the CA given) reaches with
/// the token; plain HTTP on that port gets no page; the key never appears in what serve says;
/// a key that is not one is a usage error before anything listens.
#[test]
fn serve_over_tls() {
    let pki = support::tls::make("serve");
    let env = Env::new().without_batch();
    let (cert, key) = (pki.cert(), pki.key());
    let (mut running, port) = started(
        &env,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let fetch = |path: &str, token: &str| {
        let script = "import ssl, sys, urllib.request, urllib.error\n\
            ctx = ssl.create_default_context(cafile=sys.argv[1])\n\
            req = urllib.request.Request(sys.argv[2], headers={'Authorization': 'Bearer ' + sys.argv[3]})\n\
            try:\n    r = urllib.request.urlopen(req, context=ctx, timeout=60)\n    print(r.status); print(r.read().decode())\n\
            except urllib.error.HTTPError as e:\n    print(e.code)\n";
        let o = std::process::Command::new(support::python())
            .args([
                "-c",
                script,
                pki.ca().to_str().unwrap(),
                &format!("https://127.0.0.1:{port}{path}"),
                token,
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let mut metrics = String::new();
    wait_until("a snapshot over HTTPS", Duration::from_secs(60), || {
        metrics = fetch("/metrics", TOKEN);
        metrics.starts_with("200")
            && metrics.contains("daskctl_snapshot_age_seconds{} ")
            && !metrics.contains("daskctl_snapshot_age_seconds{} -1")
    });
    assert!(
        metrics.contains("daskctl_backend_up{backend=\"local\"} 1"),
        "{metrics}"
    );
    assert!(fetch("/api/usage", TOKEN).starts_with("200"));
    assert!(fetch("/api/view", "wrong-token").starts_with("403"));
    // plain HTTP to the TLS port: no page, no token check, nothing but a failed handshake
    let plain = std::panic::catch_unwind(|| get(port, "/metrics"));
    assert!(plain.is_err() || plain.unwrap().status == 0);
    running.child.kill().unwrap();
    running.child.wait().unwrap();
    let mut said = String::new();
    running
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    assert!(
        said.contains(&format!("https://127.0.0.1:{port}/")),
        "{said}"
    );
    let key_text = std::fs::read_to_string(&key).unwrap();
    let key_body = key_text.lines().nth(1).unwrap();
    assert!(!said.contains(key_body), "the key is never printed");

    // a certificate given as the key: refused at once, naming the file, not its content
    let o = env
        .run(&[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            cert.to_str().unwrap(),
        ])
        .code(2);
    assert!(o.stderr.contains("no PEM private key"), "{}", o.stderr);
    env.run(&["serve", "--tls-cert", cert.to_str().unwrap()])
        .code(2);
}

/// `serve --all-users` (an administrator's): another user's cluster is in the snapshot, page
/// and metrics with its owner; without the flag it is not.
#[test]
fn serve_all_users_shows_other_users_clusters() {
    let Some(other) = support::users::OtherUser::get() else {
        return;
    };
    let _g = support::serial();
    let o = other.daskctl(&["create", "local", "--name", "served", "--workers", "1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let env = Env::new().without_batch();
    let (_all, all_port) = started(&env, &["--all-users"]);
    let (_mine, my_port) = started(&env, &[]);
    let mut body = String::new();
    wait_until(
        "their cluster in the snapshot",
        Duration::from_secs(60),
        || {
            body = get(all_port, "/api/clusters").body;
            body.contains("\"served\"")
        },
    );
    let clusters: serde_json::Value = serde_json::from_str(&body).unwrap();
    let theirs = clusters
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "served")
        .unwrap();
    assert_eq!(theirs["owner"], "daskctl-other");
    let metrics = get(all_port, "/metrics").body;
    assert!(
        metrics.contains("name=\"served\",owner=\"daskctl-other\""),
        "{metrics}"
    );
    wait_until(
        "a snapshot without the flag",
        Duration::from_secs(60),
        || {
            !get(my_port, "/metrics")
                .body
                .contains("daskctl_snapshot_age_seconds{} -1")
        },
    );
    assert!(!get(my_port, "/api/clusters").body.contains("\"served\""));

    // the page's scale form goes through the same decision as `scale` (discovery::authorize)
    // and the same child acting as the cluster's owner: their new worker runs as them, never
    // as the server's root
    let mut ask = serde_json::json!({"cluster": "local/served", "action": "scale", "workers": 2});
    let (_, q) = act(all_port, ask.clone());
    ask["tag"] = q["tag"].clone();
    let (status, r) = act(all_port, ask);
    assert_eq!(status, 200, "{r}");
    assert!(r["done"].as_str().unwrap().starts_with("scaled"), "{r}");
    let now = env
        .run(&["describe", "served", "-o", "json", "--all-users"])
        .ok()
        .json();
    assert_eq!(now["requested_workers"], 2, "{now}");
    let as_root = support::pids_with_env(0, "DASKCTL_CLUSTER=served");
    assert!(
        as_root.is_empty(),
        "a worker of theirs runs as root: {as_root:?}"
    );
    let theirs = support::pids_with_env(other.uid, "DASKCTL_CLUSTER=served");
    assert!(
        theirs.len() >= 3,
        "scheduler and two workers of theirs: {theirs:?}"
    );
    let o = other.daskctl(&["delete", "served", "--yes"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

/// 1,100 connections that never finish their headers neither stop serve nor hold it for long
/// (the cap closes those beyond it at once, the header-read timeout the others), and each is
/// closed by the server; a request with the token is answered again afterwards.
#[test]
fn half_open_connections_are_closed_and_serve_answers_after() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
    let env = Env::new()
        .without_batch()
        .with("DASKCTL_BACKENDS__LOCAL__SCAN", "false");
    let (_server, port) = started(&env, &[]);
    assert_eq!(get(port, "/metrics").status, 200);
    let mut held: Vec<std::net::TcpStream> = (0..1100)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
            // headers begun, never finished
            let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            s
        })
        .collect();
    for (i, s) in held.iter_mut().enumerate() {
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut rest = Vec::new();
        match s.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("connection {i} still open after 60 s: {e}"),
        }
    }
    drop(held);
    let r = get(port, "/metrics");
    assert_eq!(r.status, 200, "{}", r.head);
}
