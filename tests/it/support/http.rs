//! HTTP for the tests' own servers (the stand-ins, the proxies).

/// One HTTP/1.1 request from a test server's connection: its head lines (request line first,
/// CRLF kept) and its Content-Length body; None at end of stream.
pub fn read_request(
    r: &mut impl std::io::BufRead,
) -> std::io::Result<Option<(Vec<String>, Vec<u8>)>> {
    let mut head = Vec::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        head.push(line);
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(Some((head, body)))
}
