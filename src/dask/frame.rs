//! Frame layout of distributed's TCP comm (distributed/comm/tcp.py, protocol/utils.py):
//!
//! ```text
//! u64 LE  nosplit     bytes that follow in one piece (prelude + the first frames)
//! u64 LE  n_frames    \
//! u64 LE  len[i] ...   > the prelude
//! bytes   frames       frames that fit in `nosplit`; the rest follow one by one
//! ```
//! The first frame is the msgpack-encoded message; later frames carry serialized payloads
//! referenced from it as `{"__Serialized__": i}` / `{"__Pickled__": i}`, which daskctl never needs.

use crate::error::{Error, ProbeFault, Result};
use rmpv::Value;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Control messages are small; anything beyond this is not a reply daskctl asked for.
pub const MAX_MESSAGE: u64 = 64 << 20;
const MAX_FRAMES: u64 = 4096;

pub fn encode(msg: &Value) -> Vec<u8> {
    let mut body = Vec::with_capacity(64);
    rmpv::encode::write_value(&mut body, msg).expect("writing to a Vec cannot fail");
    let mut out = Vec::with_capacity(24 + body.len());
    out.extend_from_slice(&(16 + body.len() as u64).to_le_bytes());
    out.extend_from_slice(&1u64.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn not_dask(why: &str) -> Error {
    Error::probe(ProbeFault::NotDask, format!("not a Dask comm: {why}"))
}

/// Reads one message and returns its frames.
pub async fn read_frames<R: AsyncRead + Unpin>(r: &mut R) -> Result<Vec<Vec<u8>>> {
    let nosplit = read_u64(r).await?;
    // 0x15 0x03 = a TLS alert record: a TLS server refusing our plain-text bytes
    if nosplit.to_le_bytes()[..2] == [0x15, 0x03] {
        return Err(Error::probe(
            ProbeFault::SpeaksTls,
            "not a Dask comm: a TLS record (the port speaks TLS)",
        ));
    }
    if !(8..=MAX_MESSAGE).contains(&nosplit) {
        return Err(not_dask(&format!("implausible message size {nosplit}")));
    }
    let buf = read_exact_growing(r, nosplit).await?;
    let n = u64::from_le_bytes(buf[..8].try_into().unwrap());
    if n == 0 || n > MAX_FRAMES || 8 * (1 + n) > nosplit {
        return Err(not_dask(&format!("implausible frame count {n}")));
    }
    let lengths: Vec<u64> = (0..n as usize)
        .map(|i| u64::from_le_bytes(buf[8 + 8 * i..16 + 8 * i].try_into().unwrap()))
        .collect();
    // any peer can send these numbers: their sum may wrap, so it is added with a check
    let total = lengths
        .iter()
        .try_fold(0u64, |acc, &l| acc.checked_add(l))
        .filter(|t| *t <= MAX_MESSAGE);
    if total.is_none() {
        return Err(not_dask("frames too large"));
    }
    let mut frames = Vec::with_capacity(lengths.len());
    let mut pos = 8 * (1 + n as usize);
    for &len in &lengths {
        // each length is at most MAX_MESSAGE (their sum is), so this fits and cannot wrap
        let len = len as usize;
        if pos < buf.len() {
            let end = pos
                .checked_add(len)
                .filter(|e| *e <= buf.len())
                .ok_or_else(|| not_dask("frame overruns its message"))?;
            frames.push(buf[pos..end].to_vec());
            pos = end;
        } else {
            frames.push(read_exact_growing(r, len as u64).await?);
        }
    }
    Ok(frames)
}

/// Reads exactly `n` bytes into a buffer that grows as they arrive: a peer that announces 64 MiB
/// and sends nothing costs no 64 MiB allocation.
async fn read_exact_growing<R: AsyncRead + Unpin>(r: &mut R, n: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n.min(64 << 10) as usize);
    (&mut *r)
        .take(n)
        .read_to_end(&mut buf)
        .await
        .map_err(closed)?;
    if (buf.len() as u64) < n {
        return Err(closed(std::io::ErrorKind::UnexpectedEof.into()));
    }
    Ok(buf)
}

pub fn decode(frames: &[Vec<u8>]) -> Result<Value> {
    let first = frames.first().ok_or_else(|| not_dask("no frames"))?;
    let mut cur = &first[..];
    rmpv::decode::read_value(&mut cur).map_err(|e| not_dask(&format!("bad msgpack: {e}")))
}

async fn read_u64<R: AsyncRead + Unpin>(r: &mut R) -> Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b).await.map_err(closed)?;
    Ok(u64::from_le_bytes(b))
}

fn closed(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        Error::probe(ProbeFault::Closed, "connection closed by peer")
    } else {
        Error::probe(ProbeFault::Closed, format!("connection lost: {e}"))
    }
}

/// Looks up a string key in a msgpack map.
pub fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

pub fn get_u64(v: &Value, key: &str) -> Option<u64> {
    let x = get(v, key)?;
    x.as_u64()
        .or_else(|| x.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

pub fn get_f64(v: &Value, key: &str) -> Option<f64> {
    let x = get(v, key)?;
    x.as_f64().or_else(|| x.as_i64().map(|i| i as f64))
}

pub fn get_str(v: &Value, key: &str) -> Option<String> {
    match get(v, key)? {
        Value::String(s) => s.as_str().map(str::to_string),
        Value::Nil => None,
        other => Some(other.to_string()),
    }
}

/// Builds a msgpack map from string keys.
pub fn map(pairs: Vec<(&str, Value)>) -> Value {
    Value::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn roundtrip() {
        let msg = map(vec![("op", "identity".into()), ("reply", true.into())]);
        let bytes = encode(&msg);
        let frames = read_frames(&mut &bytes[..]).await.unwrap();
        assert_eq!(decode(&frames).unwrap(), msg);
    }

    /// A message whose second frame is sent outside the `nosplit` block, as distributed does
    /// for large uncompressed buffers.
    #[tokio::test]
    async fn split_frames() {
        let body = encode(&Value::from("x"));
        let f0 = &body[24..];
        let f1 = vec![7u8; 100];
        let mut m = Vec::new();
        m.extend_from_slice(&(24 + f0.len() as u64).to_le_bytes());
        m.extend_from_slice(&2u64.to_le_bytes());
        m.extend_from_slice(&(f0.len() as u64).to_le_bytes());
        m.extend_from_slice(&(f1.len() as u64).to_le_bytes());
        m.extend_from_slice(f0);
        m.extend_from_slice(&f1);
        let frames = read_frames(&mut &m[..]).await.unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1], f1);
        assert_eq!(decode(&frames).unwrap(), Value::from("x"));
    }

    #[tokio::test]
    async fn garbage_is_an_error_not_a_panic() {
        let inputs: Vec<Vec<u8>> = vec![
            b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
            vec![0xff; 8],
            vec![0; 8],
            [
                16u64.to_le_bytes(),
                9999u64.to_le_bytes(),
                0u64.to_le_bytes(),
            ]
            .concat(),
            [
                16u64.to_le_bytes(),
                1u64.to_le_bytes(),
                100u64.to_le_bytes(),
            ]
            .concat(),
            vec![1, 2, 3],
        ];
        for i in inputs {
            assert!(read_frames(&mut &i[..]).await.is_err());
        }
    }

    mod props {
        use super::super::*;
        use crate::arb;
        use proptest::prelude::*;

        fn read(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(read_frames(&mut &bytes[..]))
        }

        proptest! {
            /// Any bytes from a peer: frames or an error, never a panic.
            #[test]
            fn any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                if let Ok(frames) = read(&bytes) {
                    let _ = decode(&frames);
                }
            }

            /// A plausible header with any frame lengths (their sum once wrapped past 2^64).
            #[test]
            fn any_lengths(lens in proptest::collection::vec(any::<u64>(), 1..6), tail in proptest::collection::vec(any::<u8>(), 0..64)) {
                let n = lens.len() as u64;
                let mut m = Vec::new();
                m.extend_from_slice(&(8 + 8 * n + tail.len() as u64).to_le_bytes());
                m.extend_from_slice(&n.to_le_bytes());
                for l in &lens {
                    m.extend_from_slice(&l.to_le_bytes());
                }
                m.extend_from_slice(&tail);
                let _ = read(&m);
            }

            /// What daskctl encodes, it reads back as the same message.
            #[test]
            fn roundtrip(v in arb::msgpack()) {
                let bytes = encode(&v);
                let frames = read(&bytes).unwrap();
                let back = decode(&frames).unwrap();
                prop_assert_eq!(encode(&back), bytes);
            }

            #[test]
            fn any_msgpack_body(body in proptest::collection::vec(any::<u8>(), 0..256)) {
                let _ = decode(&[body]);
            }
        }
    }
}
