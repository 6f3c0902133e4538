//! EC2 is eventually consistent: right after RunInstances, DescribeInstances and
//! TerminateInstances may answer `InvalidInstanceID.NotFound`, and right after
//! CreateSecurityGroup, calls naming the group `InvalidGroup.NotFound` (EC2 API reference,
//! "Eventual consistency in the Amazon EC2 API": "use an exponential backoff retry strategy").
//! moto never does; the tests inject it with a proxy. Such an answer means "not visible yet",
//! for a bounded time, as the SDKs' `InstanceExists` waiter treats it.

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How long a resource just made may stay invisible before the answer is believed.
pub const VISIBLE_WITHIN: Duration = Duration::from_secs(60);

pub const INSTANCE_NOT_FOUND: &str = "InvalidInstanceID.NotFound";
pub const GROUP_NOT_FOUND: &str = "InvalidGroup.NotFound";

/// Calls `call` until it answers with anything but one of `codes`, backing off from 250 ms to
/// 4 s, for at most `within`; the last answer is returned either way.
pub async fn eventually<T, E, R, F, Fut>(
    codes: &[&str],
    within: Duration,
    mut call: F,
) -> Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
{
    let deadline = Instant::now() + within;
    let mut pause = Duration::from_millis(250);
    loop {
        match call().await {
            Err(e)
                if e.code().is_some_and(|c| codes.contains(&c))
                    && Instant::now() + pause < deadline =>
            {
                tracing::debug!(
                    "aws: {}: not visible yet, asking again",
                    e.code().unwrap_or("")
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(4));
            }
            other => return other,
        }
    }
}
