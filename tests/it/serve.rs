//! `daskctl serve` through the real binary: the token (401 without, 403 wrong; bearer, query
//! then cookie), `/api/clusters` and `/metrics` from the background discovery of a real local
//! cluster, and scale and delete through the page's two-step forms acting on it. (The page in
//! a real Chromium: python/tests/test_serve.py.)

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
    if !body.is_empty() {
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
    let running = crate::support::Running {
        child: c.spawn().expect("start serve"),
    };
    wait_until("serve to listen", Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (running, port)
}

/// The value of a form's hidden `csrf` input on a page.
fn csrf(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with csrf")
        + 19;
    page[at..].split('"').next().unwrap().to_string()
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
    let r = http(port, "GET", "/?token=wrong", &[], "");
    assert_eq!(r.status, 403);
    // ?token= once: the answer sets the cookie, and the cookie alone is enough after
    let r = http(port, "GET", &format!("/?token={TOKEN}"), &[], "");
    assert_eq!(r.status, 200);
    let cookie = r
        .head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .expect("a cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let r = http(port, "GET", "/api/clusters", &[("Cookie", &pair)], "");
    assert_eq!(r.status, 200);

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

    // scale from the page: the first post asks, the second acts
    let page = get(port, "/").body;
    assert!(page.contains("data-cluster=\"local/served\""), "{page}");
    let tag = csrf(&page);
    let (k, v) = bearer();
    let form = format!("cluster=local%2Fserved&action=scale&workers=2&csrf={tag}");
    let r = http(port, "POST", "/act", &[(k, &v)], &form);
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("scale local/served from 1 to 2 worker(s)?"),
        "{}",
        r.body
    );
    assert_eq!(
        env.describe("served")["requested_workers"],
        1,
        "nothing done yet"
    );
    let r = http(
        port,
        "POST",
        "/act",
        &[(k, &v)],
        &format!("{form}&confirmed=yes"),
    );
    assert_eq!(r.status, 303, "{}", r.head);
    assert!(
        r.head.contains("location: /?done=scaled%20local%2Fserved"),
        "{}",
        r.head
    );
    assert_eq!(env.describe("served")["requested_workers"], 2);
    // a form without the tag another site cannot know is refused
    let r = http(
        port,
        "POST",
        "/act",
        &[(k, &v)],
        "cluster=local%2Fserved&action=delete&csrf=forged&confirmed=yes",
    );
    assert_eq!(r.status, 403);
    // delete: done only once it is gone
    let form = format!("cluster=local%2Fserved&action=delete&csrf={tag}&confirmed=yes");
    let r = http(port, "POST", "/act", &[(k, &v)], &form);
    assert!(
        r.head.contains("location: /?done=deleted%20local%2Fserved"),
        "{}",
        r.head
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
    let page = get(port, "/").body;
    assert!(!page.contains("action=\"/act\""), "{page}");
    let (k, v) = bearer();
    let r = http(
        port,
        "POST",
        "/act",
        &[(k, &v)],
        "cluster=local%2Fx&action=delete&csrf=x&confirmed=yes",
    );
    assert_eq!(r.status, 403);
    assert!(r.body.contains("read-only"), "{}", r.body);
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
    assert!(fetch("/", "wrong-token").starts_with("403"));
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
    let tag = csrf(&get(all_port, "/").body);
    let (k, v) = bearer();
    let form = format!("cluster=local%2Fserved&action=scale&workers=2&csrf={tag}&confirmed=yes");
    let r = http(all_port, "POST", "/act", &[(k, &v)], &form);
    assert!(r.head.contains("done=scaled"), "{}", r.head);
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
