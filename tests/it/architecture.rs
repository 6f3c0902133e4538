//! ARCHITECTURE.md says the arrows point one way: the verbs (`lifecycle`, `serve`) use
//! discovery and the backends, which use the core, never the reverse. This reads every
//! `crate::MODULE` a file of `src/` names and fails on an arrow from a lower layer to a higher
//! one, and on files of one backend that use one another; and keeps functions short.

use std::collections::BTreeSet;
use std::path::Path;

/// Layers, lowest first; a module may use its own layer and those below.
const LAYERS: &[&[&str]] = &[
    &[
        "error",
        "exposition",
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
        "config", "pricing", "settings", "dask", "names", "groups", "model", "policy", "spec",
    ],
    &["backends"],
    &["discovery", "usage"],
    // the verbs, and the command line whose parsed arguments they take
    &["lifecycle", "serve", "cli", "complete"],
    &["compat", "lib", "main"],
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
        // a file's unit tests may use what is above it (they try a piece with its users)
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
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
fn arrows_point_down() {
    let mut new = Vec::new();
    let mut unknown = BTreeSet::new();
    for (from, to) in arrows() {
        let (Some(a), Some(b)) = (layer(&from), layer(&to)) else {
            unknown.insert(from.clone());
            continue;
        };
        if b > a {
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

/// The files of each backend folder that use one another (`super::FILE`,
/// `crate::backends::NAME::FILE`), outside unit tests; `mod.rs` (which declares them all) is
/// left out.
fn backend_cycles() -> Vec<Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/backends");
    let mut cycles = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap().flatten() {
        if !dir.path().is_dir() {
            continue;
        }
        let backend = dir.file_name().to_string_lossy().into_owned();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_suffix(".rs").map(str::to_string)
            })
            .filter(|n| n != "mod")
            .collect();
        names.sort();
        let edges: Vec<Vec<usize>> = names
            .iter()
            .map(|n| {
                let text = std::fs::read_to_string(dir.path().join(format!("{n}.rs"))).unwrap();
                let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
                names
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| *m != n)
                    .filter(|(_, m)| {
                        let uses = |prefix: &str| {
                            text.match_indices(&format!("{prefix}{m}")).any(|(i, s)| {
                                let next = text[i + s.len()..].chars().next();
                                !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                            })
                        };
                        uses("super::")
                            || uses(&format!("crate::backends::{backend}::"))
                            || grouped(text).iter().any(|g| g == *m)
                    })
                    .map(|(j, _)| j)
                    .collect()
            })
            .collect();
        // strongly connected components (Kosaraju): a component of more than one file is a cycle
        let n = names.len();
        let reach = |from: usize| {
            let mut seen = vec![false; n];
            let mut stack = vec![from];
            while let Some(x) = stack.pop() {
                if !std::mem::replace(&mut seen[x], true) {
                    stack.extend(edges[x].iter().copied());
                }
            }
            seen
        };
        let reaches: Vec<Vec<bool>> = (0..n).map(reach).collect();
        let mut done = vec![false; n];
        for a in 0..n {
            if done[a] {
                continue;
            }
            let comp: Vec<usize> = (0..n).filter(|&b| reaches[a][b] && reaches[b][a]).collect();
            for &b in &comp {
                done[b] = true;
            }
            if comp.len() > 1 {
                cycles.push(
                    comp.iter()
                        .map(|&i| format!("{backend}/{}", names[i]))
                        .collect(),
                );
            }
        }
    }
    cycles.sort();
    cycles
}

/// The first segments of `use super::{a, b::c, ...}` groups.
fn grouped(text: &str) -> Vec<String> {
    text.match_indices("super::{")
        .filter_map(|(i, s)| {
            let rest = &text[i + s.len()..];
            rest.find('}').map(|end| &rest[..end])
        })
        .flat_map(|g| g.split(','))
        .map(|p| p.trim().split("::").next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn no_cycles_between_the_files_of_a_backend() {
    let now = backend_cycles();
    assert!(
        now.is_empty(),
        "files of one backend that use one another: {now:?}; move what both need into a file \
         both use"
    );
}

/// The first line of a function: `fn NAME` after its qualifiers.
fn starts_a_function(line: &str) -> bool {
    let mut rest = line.trim_start();
    for q in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(q).unwrap_or(rest);
    }
    rest.starts_with("fn ")
}

/// Every function of `src/` longer than `max` lines (from its `fn` line to its closing
/// brace), as "file:line name (N lines)". Braces in char literals are not counted.
fn functions_over(max: usize) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut long = Vec::new();
    for f in all {
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            if !starts_a_function(lines[i]) {
                i += 1;
                continue;
            }
            let (mut depth, mut opened, mut end) = (0i64, false, None);
            for (j, l) in lines.iter().enumerate().skip(i) {
                let l = l.replace("'{'", "").replace("'}'", "");
                for c in l.chars() {
                    match c {
                        '{' => (depth, opened) = (depth + 1, true),
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                // a declaration without a body (a trait's)
                if !opened && l.trim_end().ends_with(';') {
                    break;
                }
                if opened && depth == 0 {
                    end = Some(j);
                    break;
                }
            }
            match end {
                Some(j) => {
                    if j - i + 1 > max {
                        let name = lines[i].trim();
                        long.push(format!(
                            "{}:{} {name} ({} lines)",
                            f.strip_prefix(&src).unwrap().display(),
                            i + 1,
                            j - i + 1
                        ));
                    }
                    i = j + 1;
                }
                None => i += 1,
            }
        }
    }
    long
}

/// ARCHITECTURE.md: small functions named for what they do. Split one that grows past this
/// along what it does.
#[test]
fn no_function_in_src_is_over_100_lines() {
    let long = functions_over(100);
    assert!(long.is_empty(), "functions over 100 lines: {long:#?}");
    // the count itself is checked: the longest functions are found
    assert!(!functions_over(60).is_empty());
}
