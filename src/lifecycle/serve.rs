use super::App;
use crate::cli::ServeArgs;
use crate::error::{Error, Result};

pub async fn run(app: &App, a: ServeArgs) -> Result<()> {
    if a.interval < std::time::Duration::from_secs(1) {
        return Err(Error::Usage(
            "--interval must be at least 1s (each pass lists every backend)".into(),
        ));
    }
    let opts = crate::serve::Options {
        bind: a.bind,
        interval: a.interval,
        deadline: a.timeout.unwrap_or(app.deadline),
        read_only: a.read_only,
        token: crate::serve::Token::from_env()?,
        tls: a.tls_cert.zip(a.tls_key),
    };
    crate::serve::run(app.ctx.clone(), opts, &app.out).await
}
