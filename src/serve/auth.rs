//! The token every request needs: `Authorization: Bearer TOKEN`, or `?token=TOKEN` once (the
//! response then sets an HttpOnly, SameSite=Strict cookie that carries it after), or that
//! cookie. None: 401 with `WWW-Authenticate: Bearer`; a wrong one: 403. Forms that act also
//! carry a tag derived from the token (`csrf`), which another site cannot know.

use super::Server;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub const COOKIE: &str = "daskctl_token";

/// The server's token: given (`DASKCTL_SERVE_TOKEN`) or generated at start (and printed once,
/// the only way to learn it).
#[derive(Clone)]
pub enum Token {
    Given(String),
    Generated(String),
}

impl Token {
    pub fn value(&self) -> &str {
        match self {
            Token::Given(t) | Token::Generated(t) => t,
        }
    }

    /// `DASKCTL_SERVE_TOKEN` if set (at least 16 characters), else 32 random hex digits.
    pub fn from_env() -> crate::error::Result<Token> {
        match std::env::var("DASKCTL_SERVE_TOKEN") {
            Ok(t) if t.len() >= 16 && t.chars().all(|c| c.is_ascii_graphic()) => {
                Ok(Token::Given(t))
            }
            Ok(_) => Err(crate::error::Error::Usage(
                "DASKCTL_SERVE_TOKEN must be at least 16 printable characters, no spaces".into(),
            )),
            Err(_) => {
                let mut bytes = [0u8; 16];
                let mut f = std::fs::File::open("/dev/urandom")
                    .map_err(|e| crate::error::Error::io("opening /dev/urandom", e))?;
                std::io::Read::read_exact(&mut f, &mut bytes)
                    .map_err(|e| crate::error::Error::io("reading /dev/urandom", e))?;
                Ok(Token::Generated(hex(&bytes)))
            }
        }
    }

    /// What a form that acts must carry: HMAC-SHA256(token, "daskctl serve form"), in hex.
    pub fn csrf(&self) -> String {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.value().as_bytes());
        hex(ring::hmac::sign(&key, b"daskctl serve form").as_ref())
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Compares without stopping at the first difference (no timing hint of how much matched).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// What the request presents: from the Authorization header, the query, or the cookie.
fn presented(headers: &HeaderMap, query: Option<&str>) -> (Option<String>, bool) {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return (Some(v.trim().to_string()), false);
    }
    let from_query = query.and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "token")
            .map(|(_, v)| v.to_string())
    });
    if from_query.is_some() {
        return (from_query, true);
    }
    let from_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string());
    (from_cookie, false)
}

pub async fn require(State(s): State<Arc<Server>>, req: Request, next: Next) -> Response {
    let (given, in_query) = presented(req.headers(), req.uri().query());
    let Some(given) = given else {
        let mut r = (StatusCode::UNAUTHORIZED, "a token is required\n").into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"daskctl\""),
        );
        return r;
    };
    if !same(&given, s.opts.token.value()) {
        return (StatusCode::FORBIDDEN, "wrong token\n").into_response();
    }
    let mut r = next.run(req).await;
    if in_query {
        let cookie = format!("{COOKIE}={given}; HttpOnly; SameSite=Strict; Path=/");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_the_header_the_query_or_the_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h, None), (None, false));
        assert_eq!(
            presented(&h, Some("a=1&token=abc")),
            (Some("abc".into()), true)
        );
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; daskctl_token=c00k"),
        );
        assert_eq!(presented(&h, None), (Some("c00k".into()), false));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer b3"));
        assert_eq!(presented(&h, Some("token=q")), (Some("b3".into()), false));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
