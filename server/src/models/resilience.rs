//! Retries with exponential backoff and jitter, `Retry-After`, and a circuit breaker per
//! model.
//!
//! What is retried: connection errors (including a stream that broke before any of the answer
//! arrived) and the statuses 408, 409, 429 and 5xx. What is not: 400, 401, 403, 404 and other
//! client errors (retrying cannot fix them), timeouts of the whole request (the time budget is
//! spent), malformed answers, and anything after the first streamed token (the caller has
//! already shown part of the answer, so a retry would not be silent).

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

use crate::session::config::ModelConfig;

use super::http::Failure;

/// How a model's failed requests are retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RetryPolicy {
    pub retries: u32,
    pub base: Duration,
    pub cap: Duration,
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    pub fn from_config(config: &ModelConfig) -> Self {
        RetryPolicy {
            retries: config.retries,
            base: secs(config.retry_base_secs),
            cap: secs(config.retry_cap_secs),
            max_retry_after: secs(config.max_retry_after_secs),
        }
    }

    /// No retries at all (`tandem models --check` reports the first failure as it is).
    pub fn none(self) -> Self {
        RetryPolicy { retries: 0, ..self }
    }

    /// The delay before retry `attempt` (0 for the first retry): the exponential step
    /// `base * 2^attempt`, capped, of which the second half is random ("equal jitter"), so
    /// that clients that failed together do not retry together, yet each waits at least half
    /// the step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let step = self
            .base
            .checked_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.cap)
            .min(self.cap);
        let half = step / 2;
        let jitter = if half.is_zero() {
            Duration::ZERO
        } else {
            half.mul_f64(rand::random_range(0.0..=1.0))
        };
        half + jitter
    }
}

/// Converts validated configuration seconds; anything unusable (validation rejects it) is 0.
pub(crate) fn secs(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::ZERO)
}

/// Statuses worth retrying: the server timed out, conflicted, limited us, or failed.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || (500..=599).contains(&status)
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    RetryAfter(Duration),
    GiveUp,
}

/// Whether attempt number `attempt` (0 for the first request) is followed by another.
pub(crate) fn decide(failure: &Failure, attempt: u32, policy: &RetryPolicy) -> Decision {
    let retry_left = attempt < policy.retries;
    match failure {
        Failure::Connect { .. } | Failure::Broken { .. } if retry_left => {
            Decision::RetryAfter(policy.backoff(attempt))
        }
        Failure::Status {
            status,
            retry_after,
            ..
        } if retryable_status(*status) && retry_left => match retry_after {
            // A wait longer than we are prepared to give fails at once, with the wait in the
            // message, rather than holding the user for an hour.
            Some(wait) if *wait > policy.max_retry_after => Decision::GiveUp,
            Some(wait) => Decision::RetryAfter(*wait),
            None => Decision::RetryAfter(policy.backoff(attempt)),
        },
        _ => Decision::GiveUp,
    }
}

/// The wait a response asks for: `retry-after-ms` (OpenAI's, in milliseconds), else
/// `Retry-After` in seconds or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Duration::try_from_secs_f64(ms / 1000.0).ok();
        }
    }
    let value = header("retry-after")?;
    if let Ok(s) = value.parse::<f64>() {
        return (s.is_finite() && s >= 0.0)
            .then(|| Duration::try_from_secs_f64(s).ok())
            .flatten();
    }
    let date = parse_http_date(value)?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only date form servers send today.
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let (_, rest) = text.split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u64 + 1;
    let year: u64 = year.parse().ok()?;
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(1..=31).contains(&day) || year < 1970 || *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), for years from 1970.
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    let secs = days * 86_400 + h * 3600 + m * 60 + s;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// The state of a model's circuit, for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Requests go through; this many failed in a row so far.
    Closed { failures: u32 },
    /// Requests are refused for this long still.
    Open { retry_in: Duration },
    /// One trial request decides whether the circuit closes again.
    HalfOpen,
}

#[derive(Debug)]
enum Circuit {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// Opens after `threshold` consecutive failed requests, so that a role's chain moves on to
/// its next model without waiting for timeouts; after `open_for` it lets one request through
/// (half-open), which closes it on success and opens it again on failure.
#[derive(Debug)]
pub(crate) struct CircuitBreaker {
    threshold: u32,
    open_for: Duration,
    state: Mutex<Circuit>,
}

/// Permission to send a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permit {
    Normal,
    /// The half-open trial; report its outcome, or give it back if it was abandoned.
    Trial,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        CircuitBreaker {
            threshold: threshold.max(1),
            open_for,
            state: Mutex::new(Circuit::Closed { failures: 0 }),
        }
    }

    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Circuit> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A permit, or how long until one may be had.
    pub fn try_acquire(&self) -> Result<Permit, Duration> {
        let mut state = self.lock();
        match *state {
            Circuit::Closed { .. } => Ok(Permit::Normal),
            Circuit::Open { until } => {
                let now = Instant::now();
                if now < until {
                    Err(until - now)
                } else {
                    *state = Circuit::HalfOpen { probing: true };
                    Ok(Permit::Trial)
                }
            }
            // Another request is the trial; the rest wait for its outcome.
            Circuit::HalfOpen { probing: true } => Err(Duration::ZERO),
            Circuit::HalfOpen { probing: false } => {
                *state = Circuit::HalfOpen { probing: true };
                Ok(Permit::Trial)
            }
        }
    }

    pub fn on_success(&self) {
        *self.lock() = Circuit::Closed { failures: 0 };
    }

    pub fn on_failure(&self) {
        let mut state = self.lock();
        let open = Circuit::Open {
            until: Instant::now() + self.open_for,
        };
        *state = match *state {
            Circuit::Closed { failures } if failures + 1 < self.threshold => Circuit::Closed {
                failures: failures + 1,
            },
            _ => open,
        };
    }

    /// The request was cancelled: it says nothing about the model, so a trial is given back.
    pub fn on_abandoned(&self, permit: Permit) {
        if permit == Permit::Trial {
            let mut state = self.lock();
            if matches!(*state, Circuit::HalfOpen { probing: true }) {
                *state = Circuit::HalfOpen { probing: false };
            }
        }
    }

    pub fn state(&self) -> CircuitState {
        match *self.lock() {
            Circuit::Closed { failures } => CircuitState::Closed { failures },
            Circuit::Open { until } => {
                let now = Instant::now();
                if now < until {
                    CircuitState::Open {
                        retry_in: until - now,
                    }
                } else {
                    CircuitState::HalfOpen
                }
            }
            Circuit::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            retries: 2,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = policy();
        for _ in 0..50 {
            let first = p.backoff(0);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
            let third = p.backoff(2);
            assert!(third >= Duration::from_secs(1) && third <= Duration::from_secs(2));
            let late = p.backoff(40);
            assert!(late >= Duration::from_secs(4) && late <= Duration::from_secs(8));
        }
    }

    fn status(status: u16, retry_after: Option<u64>) -> Failure {
        Failure::Status {
            status,
            retry_after: retry_after.map(Duration::from_secs),
            message: String::new(),
        }
    }

    #[test]
    fn what_is_retried() {
        let p = policy();
        for s in [408, 409, 429, 500, 502, 503, 529] {
            assert!(
                matches!(decide(&status(s, None), 0, &p), Decision::RetryAfter(_)),
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 422] {
            assert_eq!(decide(&status(s, None), 0, &p), Decision::GiveUp, "{s}");
        }
        let refused = Failure::Connect {
            message: "refused".into(),
            timed_out: false,
        };
        assert!(matches!(decide(&refused, 1, &p), Decision::RetryAfter(_)));
        assert_eq!(
            decide(&refused, 2, &p),
            Decision::GiveUp,
            "retries are spent"
        );
        let timeout = Failure::Timeout {
            stage: super::super::error::TimeoutStage::Request,
            after: Duration::from_secs(1),
        };
        assert_eq!(decide(&timeout, 0, &p), Decision::GiveUp);
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_limit() {
        let p = policy();
        assert_eq!(
            decide(&status(429, Some(1)), 0, &p),
            Decision::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(decide(&status(429, Some(3600)), 0, &p), Decision::GiveUp);
        assert_eq!(decide(&status(503, Some(61)), 0, &p), Decision::GiveUp);
    }

    #[test]
    fn retry_after_headers() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_millis(1500)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:50:07 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
        h.insert("retry-after", HeaderValue::from_static("-5"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(UNIX_EPOCH)
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(UNIX_EPOCH + Duration::from_secs(951_825_600))
        );
        assert_eq!(parse_http_date("Tue, 29 Foo 2000 12:00:00 GMT"), None);
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn circuit_opens_half_opens_and_closes() {
        let c = CircuitBreaker::new(3, Duration::from_millis(50));
        for _ in 0..2 {
            assert_eq!(c.try_acquire(), Ok(Permit::Normal));
            c.on_failure();
        }
        assert_eq!(c.state(), CircuitState::Closed { failures: 2 });
        c.on_failure();
        assert!(matches!(c.state(), CircuitState::Open { .. }));
        assert!(c.try_acquire().is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(c.try_acquire(), Ok(Permit::Trial));
        // Only one trial at a time.
        assert!(c.try_acquire().is_err());
        // A failed trial opens it again at once.
        c.on_failure();
        assert!(c.try_acquire().is_err());
        std::thread::sleep(Duration::from_millis(60));
        let trial = c.try_acquire().expect("trial");
        c.on_abandoned(trial);
        assert_eq!(
            c.try_acquire(),
            Ok(Permit::Trial),
            "an abandoned trial is given back"
        );
        c.on_success();
        assert_eq!(c.state(), CircuitState::Closed { failures: 0 });
        // A success resets the count of consecutive failures.
        c.on_failure();
        c.on_success();
        c.on_failure();
        assert_eq!(c.state(), CircuitState::Closed { failures: 1 });
    }
}
