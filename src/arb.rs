//! Strategies for the property tests: what outside programs and peers can send daskctl
//! (queue listings, JSON, msgpack, free text), arbitrary and as small mutations of real samples.

use proptest::prelude::*;

/// Any text, with the characters parsers split on made likely.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,200}", "[ \\t\\n:=,;%\\[\\]{}\"<>/0-9a-zA-Z_.-]{0,300}",]
}

/// A real sample with a few bytes replaced, inserted or cut: inputs that almost parse.
pub fn mutated(sample: &'static str) -> impl Strategy<Value = String> {
    let len = sample.len().max(1);
    proptest::collection::vec((0..len, 0u8..4, any::<char>()), 1..8).prop_map(move |edits| {
        let mut s: Vec<char> = sample.chars().collect();
        for (pos, op, c) in edits {
            let i = pos.min(s.len());
            match op {
                0 if i < s.len() => s[i] = c,
                1 => s.insert(i, c),
                2 => s.truncate(i),
                _ if i < s.len() => {
                    s.remove(i);
                }
                _ => {}
            }
        }
        s.into_iter().collect()
    })
}

/// Arbitrary JSON documents (numbers huge, negative and fractional included).
pub fn json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Arbitrary msgpack values, as a Dask peer could send them.
pub fn msgpack() -> impl Strategy<Value = rmpv::Value> {
    use rmpv::Value;
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,16}".prop_map(|s| Value::from(s.as_str())),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(Value::Binary),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        "[a-z_]{1,12}".prop_map(|s| Value::from(s.as_str())),
                        inner.clone()
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(Value::Map),
        ]
    })
}
