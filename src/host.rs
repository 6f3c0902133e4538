//! Which machine this is. Login nodes of a facility share home directories, so a local
//! cluster's state may be read from a machine that cannot see its processes (they run on
//! another node, in another process table, behind another loopback). Local state records the
//! node that made it; a cluster of another node is listed with its host and left to that
//! node's daskctl: never judged stopped or orphaned from here (its pids mean nothing here),
//! never probed at its loopback address (that would reach this machine's), never acted on.
//!
//! A node is its hostname together with its machine id (`/etc/machine-id`, systemd's and
//! D-Bus's stable id; the kernel's boot id where there is none): two machines cloned from one
//! image share a machine id but not a hostname, and one hostname reused by a rebuilt machine
//! comes with a new machine id. Either differing makes another node (a machine renamed in
//! place then sees its old clusters as another node's: shown, never destroyed).

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub hostname: String,
    pub machine_id: String,
}

impl Node {
    /// This machine, as its kernel (hostname, in this UTS namespace) and files say.
    pub fn this() -> &'static Node {
        static THIS: OnceLock<Node> = OnceLock::new();
        THIS.get_or_init(|| Node {
            hostname: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            machine_id: [
                "/etc/machine-id",
                "/var/lib/dbus/machine-id",
                "/proc/sys/kernel/random/boot_id",
            ]
            .iter()
            .find_map(|p| {
                let id = std::fs::read_to_string(p).ok()?.trim().to_string();
                (!id.is_empty()).then_some(id)
            })
            .unwrap_or_default(),
        })
    }

    pub fn is_this(&self) -> bool {
        self == Node::this()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_its_hostname_and_machine_id() {
        let this = Node::this().clone();
        assert!(!this.hostname.is_empty());
        assert!(this.is_this());
        let renamed = Node {
            hostname: format!("{}-other", this.hostname),
            ..this.clone()
        };
        assert!(!renamed.is_this(), "a clone of this image on another node");
        let rebuilt = Node {
            machine_id: "0".repeat(32),
            ..this
        };
        assert!(!rebuilt.is_this(), "a rebuilt machine under the same name");
    }
}
