//! The token, and where a browser keeps it.
//!
//! The API (`/api/*`, `/metrics`) needs `Authorization: Bearer TOKEN` on every request; nothing
//! else authenticates: no cookie, no query parameter. A cookie would be ambient for the whole
//! host (browsers send a host's cookies to every port of it, so any local listener the page
//! links to, a cluster's dashboard for one, would receive something that acts on serve). The
//! page instead keeps the token in `sessionStorage`, which belongs to this origin alone (scheme,
//! host *and port*), and sends it as the header from script. `/?token=T` (the address printed at
//! start, and older bookmarks) is answered with a redirect to `/#token=T`: a fragment never
//! leaves the browser, and the page moves it into `sessionStorage` and out of the address bar
//! and history before it asks for anything.
//!
//! None: 401 with `WWW-Authenticate: Bearer`; a wrong one: 403.

use super::Server;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The cookie older versions set (the token itself): cleared whenever a browser still sends it.
pub const LEGACY_COOKIE: &str = "daskctl_token";

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
            Err(_) => Ok(Token::Generated(hex(&random::<16>()?))),
        }
    }
}

/// `N` bytes from the operating system's generator.
pub fn random<const N: usize>() -> crate::error::Result<[u8; N]> {
    let mut b = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).map_err(|_| {
        crate::error::Error::io(
            "reading random bytes",
            std::io::Error::other("the system's generator failed"),
        )
    })?;
    Ok(b)
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Compares without stopping at the first difference (no timing hint of how much matched).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The token the request presents: only ever the Authorization header.
fn presented(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string())
}

/// `token=` in a query string, if any.
pub fn in_query(query: Option<&str>) -> Option<String> {
    query.and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "token")
            .map(|(_, v)| v.to_string())
    })
}

/// Whether the request still carries the cookie older versions set.
pub fn has_legacy_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .any(|(k, _)| k == LEGACY_COOKIE)
}

/// Middleware for the API routes.
pub async fn require(State(s): State<Arc<Server>>, req: Request, next: Next) -> Response {
    let Some(given) = presented(req.headers()) else {
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
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_authorization_header_carries_the_token() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; daskctl_token=c00k"),
        );
        assert_eq!(presented(&h), None, "a cookie never authenticates");
        assert!(has_legacy_cookie(&h));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer b3"));
        assert_eq!(presented(&h), Some("b3".into()));
        assert_eq!(in_query(Some("a=1&token=abc")), Some("abc".into()));
        assert_eq!(in_query(Some("a=1")), None);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
