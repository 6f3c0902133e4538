//! The marker daskctl puts on every job it submits (Slurm `--comment`, PBS/SGE variables), so a
//! cluster can be found and rebuilt from the queue alone:
//! `daskctl:v1;cluster=NAME;role=scheduler|worker[;group=GROUP][;id=INSTANCE];dir=SHARED_DIR`
//! (dir last: it may hold '='; no group: the default group, as markers written before groups
//! existed; no id: a cluster made before instance ids).
//! Semicolons, because SGE's `-ac` and PBS's `-v` split their lists on commas.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub cluster: String,
    pub role: String,
    /// A worker group beside the default one.
    pub group: Option<String>,
    /// The cluster's instance id (`names::new_instance`), the same on all its jobs.
    pub instance: Option<String>,
    pub dir: String,
}

pub const PREFIX: &str = "daskctl:v1;";

impl Marker {
    pub fn encode(&self) -> String {
        let group = self
            .group
            .as_ref()
            .map(|g| format!("group={g};"))
            .unwrap_or_default();
        let id = self
            .instance
            .as_ref()
            .map(|i| format!("id={i};"))
            .unwrap_or_default();
        format!(
            "{PREFIX}cluster={};role={};{group}{id}dir={}",
            self.cluster, self.role, self.dir
        )
    }

    pub fn decode(s: &str) -> Option<Marker> {
        let rest = s.trim().strip_prefix(PREFIX)?;
        let (cluster, rest) = rest.strip_prefix("cluster=")?.split_once(';')?;
        let (role, rest) = rest.strip_prefix("role=")?.split_once(';')?;
        let (group, rest) = match rest.strip_prefix("group=") {
            Some(r) => {
                let (g, rest) = r.split_once(';')?;
                crate::groups::validate(g).ok()?;
                (Some(g.to_string()), rest)
            }
            None => (None, rest),
        };
        let (instance, rest) = match rest.strip_prefix("id=") {
            Some(r) => {
                let (i, rest) = r.split_once(';')?;
                crate::names::is_instance(i).then_some(())?;
                (Some(i.to_string()), rest)
            }
            None => (None, rest),
        };
        let dir = rest.strip_prefix("dir=")?;
        crate::names::validate(cluster).ok()?;
        Some(Marker {
            cluster: cluster.into(),
            role: role.into(),
            group,
            instance,
            dir: dir.into(),
        })
    }
}

/// The instance id a cluster directory records (`DIR/instance`, written by create), if it
/// has the shape of one.
pub fn dir_instance(dir: &std::path::Path) -> Option<String> {
    let text = crate::safefile::read_to_string(
        &dir.join("instance"),
        Some(nix::unistd::geteuid().as_raw()),
        64,
    )
    .ok()?;
    let id = text.trim();
    crate::names::is_instance(id).then(|| id.to_string())
}

/// A character that may not appear in anything written into a job script: it would end a
/// directive argument or mean something to the shell.
pub fn unsafe_in_script(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '`' | '$' | ';')
}

/// Values written into job scripts and markers (commas too: markers are comma-free lists).
pub fn check_value(what: &str, v: &str) -> crate::error::Result<()> {
    if v.is_empty() || v.chars().any(|c| unsafe_in_script(c) || c == ',') {
        return Err(crate::error::Error::Usage(format!(
            "invalid {what} {v:?}: no whitespace, quotes, commas, '$', '`', ';' or backslashes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let m = Marker {
            cluster: "etl".into(),
            role: "worker".into(),
            group: None,
            instance: None,
            dir: "/home/u/.daskctl/a=b".into(),
        };
        assert_eq!(Marker::decode(&m.encode()), Some(m.clone()));
        let i = Marker {
            instance: Some("0123456789ab".into()),
            group: Some("gpu".into()),
            ..m.clone()
        };
        assert_eq!(
            i.encode(),
            "daskctl:v1;cluster=etl;role=worker;group=gpu;id=0123456789ab;dir=/home/u/.daskctl/a=b"
        );
        assert_eq!(Marker::decode(&i.encode()), Some(i));
        assert_eq!(
            Marker::decode("daskctl:v1;cluster=etl;role=worker;id=not-hex!;dir=/x"),
            None
        );
        let g = Marker {
            group: Some("gpu".into()),
            ..m
        };
        assert_eq!(
            g.encode(),
            "daskctl:v1;cluster=etl;role=worker;group=gpu;dir=/home/u/.daskctl/a=b"
        );
        assert_eq!(Marker::decode(&g.encode()), Some(g));
        assert_eq!(
            Marker::decode("daskctl:v1;cluster=etl;role=worker;group=Bad;dir=/x"),
            None
        );
        assert_eq!(Marker::decode("dask-worker"), None);
        assert_eq!(
            Marker::decode("daskctl:v1;cluster=Bad Name;role=worker;dir=/x"),
            None
        );
    }
}
