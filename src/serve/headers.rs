//! Headers on every answer, the 401s and 403s included: the page runs only its own script and
//! style and is never framed (CSP `default-src 'self'`, `frame-ancestors 'none'`,
//! `X-Frame-Options`), never tells another site where it came from (`Referrer-Policy`), is
//! never sniffed into another type, and is never cached (answers hold clusters and questions).
//! A cookie older versions set is cleared (`Secure` when served over TLS, as anything set there).

use super::Server;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                       form-action 'self'; object-src 'none'";

pub async fn secure(State(s): State<Arc<Server>>, req: Request, next: Next) -> Response {
    let legacy = super::auth::has_legacy_cookie(req.headers());
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if s.opts.tls.is_some() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if legacy {
        let secure = if s.opts.tls.is_some() { "; Secure" } else { "" };
        let clear = format!(
            "{}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict{secure}",
            super::auth::LEGACY_COOKIE
        );
        if let Ok(v) = HeaderValue::from_str(&clear) {
            h.append(header::SET_COOKIE, v);
        }
    }
    r
}
