//! EC2 clients per region: the standard credential chain without the instance-metadata step
//! (unless `imds = true`), profiles, `AWS_ENDPOINT_URL` for emulators, the SDK's standard retry
//! with backoff for throttling and transient errors, and deadlines. Every SDK error is mapped
//! into the project's error kinds here, with the AWS error code in the message.

use super::settings::Settings;
use crate::error::{ApiFault, Error};
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::time::Duration;

pub async fn build(s: &Settings, region: &str) -> Client {
    // the SDK's HTTPS client: rustls on ring, the one TLS stack of the whole binary
    let http = {
        use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
        aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https()
    };
    // the credential providers that call out (STS, SSO, ECS, IMDS) use the same client
    let providers = aws_config::provider_config::ProviderConfig::default()
        .with_http_client(http.clone())
        .with_region(Some(Region::new(region.to_string())));
    let mut creds = CredentialsProviderChain::first_try(
        "Environment",
        aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
    );
    let mut profile =
        aws_config::profile::ProfileFileCredentialsProvider::builder().configure(&providers);
    if let Some(p) = &s.profile {
        profile = profile.profile_name(p);
    }
    creds = creds
        .or_else("Profile", profile.build())
        .or_else(
            "WebIdentityToken",
            aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
                .configure(&providers)
                .build(),
        )
        .or_else(
            "EcsContainer",
            aws_config::ecs::EcsCredentialsProvider::builder()
                .configure(&providers)
                .build(),
        );
    if s.imds {
        creds = creds.or_else(
            "Ec2InstanceMetadata",
            aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                .configure(&providers)
                .build(),
        );
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .region(Region::new(region.to_string()))
        .credentials_provider(creds)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(s.max_attempts.max(1))
                .with_initial_backoff(Duration::from_millis(200)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .operation_timeout(Duration::from_secs(120))
                .build(),
        );
    if let Some(p) = &s.profile {
        loader = loader.profile_name(p);
    }
    if let Some(u) = &s.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    Client::new(&loader.load().await)
}

/// The one region to use when none is given: the environment's, else the profile's.
pub async fn default_region(s: &Settings) -> Option<String> {
    for k in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Ok(r) = std::env::var(k)
            && !r.is_empty()
        {
            return Some(r);
        }
    }
    let mut p = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(name) = &s.profile {
        p = p.profile_name(name);
    }
    use aws_config::meta::region::ProvideRegion;
    if let Some(r) = p.build().region().await {
        return Some(r.to_string());
    }
    if s.imds {
        return aws_config::imds::region::ImdsRegionProvider::builder()
            .build()
            .region()
            .await
            .map(|r| r.to_string());
    }
    None
}

/// Codes that mean the request itself was wrong (bad AMI, type, subnet, group, key...).
fn is_input_error(code: &str) -> bool {
    code.starts_with("InvalidAMIID")
        || code.starts_with("InvalidSubnetID")
        || code.starts_with("InvalidGroup")
        || code.starts_with("InvalidKeyPair")
        || code.starts_with("InvalidParameter")
        || code.starts_with("InvalidInstanceType")
        || code == "Unsupported"
        || code == "MissingParameter"
}

/// Maps an SDK error of operation `op` in `region` into the project's error kinds.
pub fn map_err<E, R>(region: &str, op: &str, e: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = e.code().map(str::to_string);
    let (fault, message) = match (&code, &e) {
        (Some(code), _) => {
            let fault = if is_input_error(code) {
                ApiFault::Invalid
            } else if code.ends_with(".NotFound") {
                ApiFault::NotFound
            } else {
                ApiFault::Other
            };
            let message = e.message().unwrap_or("no message");
            (fault, format!("{region}: {op}: {code}: {message}"))
        }
        (None, SdkError::TimeoutError(_)) => {
            return Error::Timeout(format!("aws: {region}: {op}: no answer in time"));
        }
        (None, _) => (
            ApiFault::Other,
            format!("{region}: {op}: {}", one_line(&DisplayErrorContext(&e))),
        ),
    };
    Error::Api {
        backend: "aws",
        fault,
        code,
        message,
        source: Box::new(e),
    }
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().replace('\n', " ")
}
