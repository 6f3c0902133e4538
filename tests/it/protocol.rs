//! The Rust Dask client against real schedulers from PyPI, plain and TLS, and against ports
//! that are not Dask at all.

use crate::support::{self, DaskProc, tls};
use daskctl::dask::client::{self, Identity};
use daskctl::dask::comm::Deadlines;
use daskctl::dask::{Address, Comm};
use std::io::Write;
use std::time::{Duration, Instant};

fn quick() -> Deadlines {
    Deadlines {
        connect: Duration::from_secs(2),
        greeting: Duration::from_secs(2),
        reply: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn identity_idle_retire_and_terminate_on_a_real_scheduler() {
    let _g = support::serial();
    let (mut sched, addr) = DaskProc::scheduler(&[]);
    let _w = DaskProc::worker(&addr, &["--name", "w-proto", "--memory-limit", "1GiB"]);
    let a = Address::parse(&addr).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let info = loop {
        let mut c = Comm::connect(&a, None, quick()).await.unwrap();
        let id = client::identity(&mut c).await.unwrap();
        c.close().await;
        match id {
            Identity::Scheduler(i) if i.workers.len() == 1 => break i,
            Identity::Scheduler(_) => {}
            other => panic!("not a scheduler: {other:?}"),
        }
        assert!(Instant::now() < deadline, "worker never connected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(info.address, addr);
    assert_eq!(info.workers[0].name, "w-proto");
    assert_eq!(info.workers[0].threads, 1);
    assert_eq!(info.workers[0].memory, 1 << 30);
    assert_eq!(info.total_threads, 1);
    assert!(info.dashboard_port.is_some());
    assert!(info.started.unwrap() > 1.7e9);

    let mut c = Comm::connect(&a, None, quick()).await.unwrap();
    // an idle scheduler reports since when (its own periodic check keeps this current)
    let idle = client::idle_since(&mut c).await.unwrap();
    assert!(idle.is_some_and(|t| t > 1.7e9), "{idle:?}");
    // the worker's own identity names its scheduler
    let waddr = info.workers[0].address.clone();
    let mut wc = Comm::connect(&Address::parse(&waddr).unwrap(), None, quick())
        .await
        .unwrap();
    match client::identity(&mut wc).await.unwrap() {
        Identity::Worker { scheduler, .. } => assert_eq!(scheduler, addr),
        other => panic!("{other:?}"),
    }
    wc.close().await;
    let retired = client::retire_workers(&mut c, &["w-proto".to_string()], true)
        .await
        .unwrap();
    assert_eq!(retired, vec![waddr]);
    let logs = client::scheduler_logs(&mut c, Some(50)).await.unwrap();
    assert!(logs.iter().any(|l| l.contains("Retire")), "{logs:?}");
    client::terminate(&mut c).await.unwrap();
    let status = sched.child.wait().unwrap();
    assert!(
        status.success(),
        "scheduler did not exit cleanly after terminate: {status}"
    );
}

#[tokio::test]
async fn tls_scheduler_with_throwaway_ca() {
    let pki = tls::make("proto");
    let (ca, cert, key) = (pki.ca(), pki.cert(), pki.key());
    let (_sched, addr) = DaskProc::tls_scheduler(&pki);
    assert!(addr.starts_with("tls://"), "{addr}");
    let a = Address::parse(&addr).unwrap();
    let read = |p: &std::path::Path| std::fs::read(p).unwrap();
    let cfg = daskctl::dask::tls::build(&read(&ca), &read(&cert), &read(&key), true).unwrap();
    let mut c = Comm::connect(&a, Some(cfg), quick()).await.unwrap();
    match client::identity(&mut c).await.unwrap() {
        Identity::Scheduler(i) => assert_eq!(i.address, addr),
        other => panic!("{other:?}"),
    }
    c.close().await;

    // another CA: the chain does not verify
    let other = tls::make("other");
    let bad = daskctl::dask::tls::build(
        &read(&other.ca()),
        &read(&other.cert()),
        &read(&other.key()),
        true,
    )
    .unwrap();
    let e = Comm::connect(&a, Some(bad), quick())
        .await
        .err()
        .expect("must fail");
    assert!(e.to_string().contains("TLS handshake"), "{e}");

    // plain TCP to a TLS port is an error, not a hang
    let plain = Address {
        tls: false,
        ..a.clone()
    };
    let t = Instant::now();
    assert!(Comm::connect(&plain, None, quick()).await.is_err());
    assert!(t.elapsed() < Duration::from_secs(5));
}

/// Servers that are not Dask: each must give an error within the deadlines, never a hang.
#[tokio::test]
async fn non_dask_ports_are_errors_not_hangs() {
    use std::net::TcpListener;
    // 1. nothing listening
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = l.local_addr().unwrap().port();
    drop(l);
    // 2. accepts and stays silent; 3. answers like HTTP; 4. sends a huge bogus length
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    let bogus = TcpListener::bind("127.0.0.1:0").unwrap();
    let ports = [
        silent.local_addr().unwrap().port(),
        http.local_addr().unwrap().port(),
        bogus.local_addr().unwrap().port(),
    ];
    std::thread::spawn(move || {
        let mut keep = Vec::new();
        for s in silent.incoming().take(1).flatten() {
            keep.push(s);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    std::thread::spawn(move || {
        for mut s in http.incoming().take(1).flatten() {
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    std::thread::spawn(move || {
        for mut s in bogus.incoming().take(1).flatten() {
            let _ = s.write_all(&u64::MAX.to_le_bytes());
            std::thread::sleep(Duration::from_secs(30));
        }
    });
    let short = Deadlines {
        connect: Duration::from_secs(1),
        greeting: Duration::from_secs(1),
        reply: Duration::from_secs(1),
    };
    for (port, what) in [
        (closed, "refused"),
        (ports[0], "silent"),
        (ports[1], "http"),
        (ports[2], "bogus"),
    ] {
        let a = Address::parse(&format!("tcp://127.0.0.1:{port}")).unwrap();
        let t = Instant::now();
        let r = Comm::connect(&a, None, short).await;
        assert!(r.is_err(), "{what} port accepted as Dask");
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "{what} took {:?}",
            t.elapsed()
        );
    }
}
