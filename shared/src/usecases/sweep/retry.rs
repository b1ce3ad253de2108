//! Retries of a DEP call that failed without a verdict: 429 and 5xx, timeouts, connection failures.

use std::time::Duration;

use crate::dep::DepError;

/// Exponential backoff for DEP calls during a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first one.
    pub retries: u32,
    /// Delay before the first retry; each further retry doubles it.
    pub base_delay: Duration,
    /// Maximum of one delay, also of a delay that Apple requests with `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Runs `call` until it succeeds, fails with an error worth no retry, or the retries are
    /// spent; returns the last result.
    pub async fn run<T, F, Fut>(&self, mut call: F) -> Result<T, DepError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, DepError>>,
    {
        let mut attempt = 0;
        loop {
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if attempt >= self.retries || !is_retryable(&error) {
                return Err(error);
            }

            let delay = self.delay(attempt, &error);
            tracing::info!(attempt = attempt + 1, delay_ms = delay.as_millis(), error = error.label(), "retrying the DEP call");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Returns the delay before retry number `attempt + 1`: Apple's `Retry-After` when it
    /// sent one, the doubled base delay otherwise, at most `max_delay`.
    fn delay(&self, attempt: u32, error: &DepError) -> Duration {
        let backoff = self.base_delay.saturating_mul(2u32.saturating_pow(attempt));
        let requested = match error {
            DepError::RateLimited { retry_after: Some(seconds) } => Duration::from_secs(*seconds),
            _ => backoff,
        };
        requested.min(self.max_delay)
    }
}

/// Returns whether a retry may succeed: rate limited, unavailable or timed out.
fn is_retryable(error: &DepError) -> bool {
    matches!(error, DepError::RateLimited { .. } | DepError::Unavailable { .. })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn fast() -> RetryPolicy {
        RetryPolicy {
            retries: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        }
    }

    async fn calls_until(policy: RetryPolicy, failures: u32, error: DepError) -> (u32, Result<(), DepError>) {
        let calls = AtomicU32::new(0);

        let result = policy
            .run(|| {
                let call = calls.fetch_add(1, Ordering::SeqCst);
                let error = error.clone();
                async move { if call < failures { Err(error) } else { Ok(()) } }
            })
            .await;

        (calls.load(Ordering::SeqCst), result)
    }

    #[tokio::test]
    async fn retry_cases() {
        let unavailable = DepError::Unavailable { reason: "503".to_owned() };
        let limited = DepError::RateLimited { retry_after: Some(1) };
        let cases = [
            ("success at once", 0, unavailable.clone(), 1, true),
            ("two 503 then success", 2, unavailable.clone(), 3, true),
            ("429 then success", 1, limited, 2, true),
            ("503 beyond the retries", 10, unavailable, 4, false),
            ("rejection is final", 10, DepError::TokenRejected, 1, false),
            ("protocol error is final", 10, DepError::Protocol { reason: "400".to_owned() }, 1, false),
        ];

        for (label, failures, error, expected_calls, succeeds) in cases {
            let (calls, result) = calls_until(fast(), failures, error).await;

            assert_eq!(calls, expected_calls, "{label}: calls");
            assert_eq!(result.is_ok(), succeeds, "{label}: result");
        }
    }

    #[test]
    fn delay_doubles_up_to_max() {
        let policy = RetryPolicy {
            retries: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
        };
        let unavailable = DepError::Unavailable { reason: "503".to_owned() };

        let delays: Vec<u64> = (0..4).map(|attempt| policy.delay(attempt, &unavailable).as_secs()).collect();

        assert_eq!(delays, vec![1, 2, 4, 5]);
    }

    #[test]
    fn delay_follows_retry_after_within_max() {
        let policy = RetryPolicy::default();
        let cases = [("short", 7, 7), ("beyond max", 3_600, 30)];

        for (label, seconds, expected) in cases {
            let delay = policy.delay(0, &DepError::RateLimited { retry_after: Some(seconds) });

            assert_eq!(delay.as_secs(), expected, "{label}");
        }
    }
}
