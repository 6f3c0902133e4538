//! ARCHITECTURE.md says the arrows point one way: the verbs (`lifecycle`, `serve`) use
//! discovery and the backends, which use the core, never the reverse. This reads every
//! `crate::MODULE` a file of `src/` names and fails on an arrow from a lower layer to a higher
//! one that is not in `KNOWN` (the arrows issue 33 is to remove: the list only shrinks).

use std::collections::BTreeSet;
use std::path::Path;

/// Layers, lowest first; a module may use its own layer and those below.
const LAYERS: &[&[&str]] = &[
    &[
        "error",
        "units",
        "host",
        "subprocess",
        "safefile",
        "lockfile",
        "printer",
        "progress",
        "interrupt",
        "arb",
    ],
    &[
        "config", "settings", "dask", "names", "groups", "model", "policy", "spec",
    ],
    &["backends"],
    &["discovery", "usage"],
    // the verbs, and the command line whose parsed arguments they take
    &["lifecycle", "serve", "cli", "complete"],
    &["compat", "lib", "main"],
];

/// Upward arrows that exist today (from, to), to be removed (issue 33); none may be added.
const KNOWN: &[(&str, &str)] = &[
    ("backends", "lifecycle"), // owner.rs: the reconcile wire type of `__as-owner`
    ("backends", "usage"),     // Backend::pricing returns usage::Pricing
    ("config", "backends"),
    ("config", "usage"),     // [pricing] lives in usage
    ("groups", "lifecycle"), // worker_count
    ("policy", "backends"),
    ("spec", "backends"),
    ("spec", "cli"),    // a spec becomes CreateArgs
    ("usage", "serve"), // report.rs writes with serve::metrics
];

fn layer(m: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&m))
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The arrows (from the file's top-level module, to each `crate::MODULE` it names).
fn arrows() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut out = BTreeSet::new();
    for f in all {
        let rel = f.strip_prefix(&src).unwrap();
        let from = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.match_indices("crate::") {
            let to: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !to.is_empty() && to != from && layer(&to).is_some() {
                out.insert((from.clone(), to));
            }
        }
    }
    out
}

#[test]
fn arrows_point_down_except_the_known_ones() {
    let mut new = Vec::new();
    let mut unknown = BTreeSet::new();
    for (from, to) in arrows() {
        let (Some(a), Some(b)) = (layer(&from), layer(&to)) else {
            unknown.insert(from.clone());
            continue;
        };
        if b > a && !KNOWN.contains(&(from.as_str(), to.as_str())) {
            new.push(format!("{from} -> {to}"));
        }
    }
    assert!(
        unknown.is_empty(),
        "modules with no layer: {unknown:?} (add them to LAYERS)"
    );
    assert!(
        new.is_empty(),
        "arrows from a lower layer to a higher one: {new:?}; move the shared piece down instead"
    );
}

/// The known list only shrinks: an arrow that no longer exists is taken off it.
#[test]
fn every_known_upward_arrow_still_exists() {
    let now = arrows();
    let gone: Vec<_> = KNOWN
        .iter()
        .filter(|(a, b)| !now.contains(&(a.to_string(), b.to_string())))
        .collect();
    assert!(
        gone.is_empty(),
        "remove from KNOWN (they are gone): {gone:?}"
    );
}
