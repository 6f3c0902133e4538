//! The Prometheus text exposition format (version 0.0.4), as `serve`'s `/metrics` and
//! `usage --textfile` (node_exporter's textfile collector) write it: gauge families and escaped
//! label values.

use std::fmt::Write;

/// A label value escaped as the format asks: backslash, double quote and newline.
pub fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One gauge family: its HELP and TYPE lines, then a sample per (labels, value).
pub fn gauge(out: &mut String, name: &str, help: &str, rows: Vec<(String, f64)>) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (l, v) in rows {
        let _ = writeln!(out, "{name}{{{l}}} {v}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_values_are_escaped_and_gauges_have_help_and_type() {
        assert_eq!(super::esc("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let mut out = String::new();
        super::gauge(&mut out, "x", "What x is.", vec![("a=\"1\"".into(), 2.5)]);
        assert_eq!(out, "# HELP x What x is.\n# TYPE x gauge\nx{a=\"1\"} 2.5\n");
    }
}
