//! The listening TCP sockets of this network namespace, by inode, as `ss -ltn` reads them:
//! one netlink `sock_diag` dump per family asking the kernel for sockets in state LISTEN only.
//! Reading `/proc/net/tcp{,6}` instead makes the kernel walk its whole established-connections
//! hash table (262,144 buckets on a large machine) for every read: milliseconds each time. That
//! file is still the fallback where netlink is not allowed (a seccomp profile, an old kernel).

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_sock_diag::{
    SockDiagMessage,
    constants::{AF_INET, AF_INET6, IPPROTO_TCP},
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags},
};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// inode -> the address a socket listens on.
pub type Listeners = HashMap<u64, (IpAddr, u16)>;

/// Every listening TCP socket here, whoever owns it.
pub fn all() -> Listeners {
    match by_netlink() {
        Ok(l) => l,
        Err(e) => {
            tracing::debug!("sock_diag: {e}; reading /proc/net/tcp");
            listening_sockets_from_proc()
        }
    }
}

fn by_netlink() -> std::io::Result<Listeners> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let mut out = HashMap::new();
    for (family, id) in [
        (AF_INET, SocketId::new_v4()),
        (AF_INET6, SocketId::new_v6()),
    ] {
        dump(&socket, family, id, &mut out)?;
    }
    Ok(out)
}

fn bad(what: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

/// Asks for one family's listening TCP sockets and reads the answer to its end.
fn dump(socket: &Socket, family: u8, id: SocketId, out: &mut Listeners) -> std::io::Result<()> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut request = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::LISTEN,
            socket_id: id,
        })
        .into(),
    );
    request.finalize();
    let mut buf = vec![0; request.buffer_len()];
    request.serialize(&mut buf);
    socket.send(&buf, 0)?;
    let mut received = vec![0u8; 64 * 1024];
    loop {
        let size = socket.recv(&mut &mut received[..], 0)?;
        let mut offset = 0;
        while offset < size {
            let m = <NetlinkMessage<SockDiagMessage>>::deserialize(&received[offset..size])
                .map_err(bad)?;
            match m.payload {
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) => {
                    let h = &r.header;
                    out.insert(
                        u64::from(h.inode),
                        (h.socket_id.source_address, h.socket_id.source_port),
                    );
                }
                NetlinkPayload::Done(_) => return Ok(()),
                NetlinkPayload::Error(e) => return Err(bad(format!("{e:?}"))),
                _ => {}
            }
            let len = m.header.length as usize;
            if len == 0 {
                break;
            }
            offset += len;
        }
    }
}

/// Listening sockets from /proc/net/tcp and tcp6 (state 0A = LISTEN): where netlink is refused.
pub fn listening_sockets_from_proc() -> HashMap<u64, (IpAddr, u16)> {
    let mut out = HashMap::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != "0A" {
                continue;
            }
            let Some((ip, port)) = parse_addr(f[1], v6) else {
                continue;
            };
            if let Ok(inode) = f[9].parse::<u64>() {
                out.insert(inode, (ip, port));
            }
        }
    }
    out
}

fn parse_addr(s: &str, v6: bool) -> Option<(IpAddr, u16)> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = if v6 {
        if ip.len() != 32 {
            return None;
        }
        let mut b = [0u8; 16];
        for (i, word) in (0..4).map(|i| &ip[8 * i..8 * i + 8]).enumerate() {
            let w = u32::from_str_radix(word, 16).ok()?;
            b[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
        IpAddr::V6(Ipv6Addr::from(b))
    } else {
        let w = u32::from_str_radix(ip, 16).ok()?;
        IpAddr::V4(Ipv4Addr::from(w.to_le_bytes()))
    };
    Some((ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's two ways of telling agree on a socket this test listens on.
    #[test]
    fn netlink_and_proc_see_the_same_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let Ok(by_nl) = by_netlink() else {
            eprintln!("netlink sock_diag is not allowed here; skipped");
            return;
        };
        let by_proc = super::listening_sockets_from_proc();
        let find = |m: &Listeners| m.iter().find(|(_, a)| a.1 == port).map(|(i, a)| (*i, *a));
        let a = find(&by_nl).expect("listed by netlink");
        assert_eq!(Some(a), find(&by_proc));
        assert_eq!(a.1.0, "127.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn parses_proc_net_addresses() {
        assert_eq!(
            parse_addr("0100007F:1F90", false),
            Some((IpAddr::V4(Ipv4Addr::LOCALHOST), 8080))
        );
        assert_eq!(
            parse_addr("00000000000000000000000001000000:0050", true),
            Some((IpAddr::V6(Ipv6Addr::LOCALHOST), 80))
        );
        assert_eq!(parse_addr("0100:0050", true), None);
    }
}
