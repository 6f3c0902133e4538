//! dask-ctl's command lines, accepted as they were written. dask-ctl's package installed a
//! `daskctl` console script (`daskctl cluster list`, `daskctl discovery list`; dask_ctl/cli.py):
//! scripts and habits made with it keep working here, translated to daskctl's verbs before
//! parsing.
//!
//! | dask-ctl                         | daskctl                      |
//! |----------------------------------|------------------------------|
//! | `cluster list [DISCOVERY]`       | `list [-b DISCOVERY]`        |
//! | `cluster create -f FILE`         | `create -f FILE`             |
//! | `cluster scale NAME N`           | `scale NAME N`               |
//! | `cluster delete NAME`            | `delete NAME --yes` (dask-ctl deleted without asking) |
//! | `cluster snippet NAME`           | `snippet NAME`               |
//! | `cluster version`                | `--version`                  |
//! | `discovery list`                 | `backends`                   |
//! | `discovery enable/disable NAME`  | `backends enable/disable NAME` |

use std::ffi::OsString;

/// `argv` with a dask-ctl command line rewritten to daskctl's; any other command line as it is.
pub fn translate(argv: Vec<OsString>) -> Vec<OsString> {
    let words: Vec<&str> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_str().unwrap_or(""))
        .collect();
    let (group, verb, rest) = match words.as_slice() {
        [g @ ("cluster" | "discovery"), v, rest @ ..] => (*g, *v, rest),
        _ => return argv,
    };
    let mut out: Vec<String> = Vec::new();
    match (group, verb) {
        ("cluster", "list") => {
            out.push("list".into());
            if let [discovery] = rest {
                out.extend(["-b".into(), discovery.to_string()]);
            } else {
                out.extend(rest.iter().map(|s| s.to_string()));
            }
        }
        ("cluster", "create" | "scale" | "snippet") => {
            out.push(verb.into());
            out.extend(rest.iter().map(|s| s.to_string()));
        }
        ("cluster", "delete") => {
            out.push("delete".into());
            out.extend(rest.iter().map(|s| s.to_string()));
            if !rest.contains(&"--yes") {
                out.push("--yes".into());
            }
        }
        ("cluster", "version") => out.push("--version".into()),
        ("discovery", "list") => out.push("backends".into()),
        ("discovery", "enable" | "disable") => {
            out.extend(["backends".into(), verb.into()]);
            out.extend(rest.iter().map(|s| s.to_string()));
        }
        _ => return argv,
    }
    std::iter::once(argv[0].clone())
        .chain(out.into_iter().map(OsString::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(line: &str) -> String {
        let argv = line.split_whitespace().map(OsString::from).collect();
        let out: Vec<String> = translate(argv)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        out.join(" ")
    }

    #[test]
    fn dask_ctl_lines_become_daskctl_verbs() {
        assert_eq!(t("daskctl cluster list"), "daskctl list");
        assert_eq!(t("daskctl cluster list slurm"), "daskctl list -b slurm");
        assert_eq!(t("daskctl cluster scale etl 3"), "daskctl scale etl 3");
        assert_eq!(t("daskctl cluster delete etl"), "daskctl delete etl --yes");
        assert_eq!(
            t("daskctl cluster create -f a.yaml"),
            "daskctl create -f a.yaml"
        );
        assert_eq!(t("daskctl cluster snippet etl"), "daskctl snippet etl");
        assert_eq!(t("daskctl cluster version"), "daskctl --version");
        assert_eq!(t("daskctl discovery list"), "daskctl backends");
        assert_eq!(
            t("daskctl discovery disable local"),
            "daskctl backends disable local"
        );
        // daskctl's own lines, and a cluster named "cluster", are left alone
        assert_eq!(t("daskctl list"), "daskctl list");
        assert_eq!(t("daskctl scale cluster 3"), "daskctl scale cluster 3");
        assert_eq!(t("daskctl cluster nosuch"), "daskctl cluster nosuch");
    }
}
