//! One HTTP attempt at a model: send the request, read the answer whole or as a stream, under
//! the request timeout, the idle timeout and the caller's cancellation.
//!
//! This is the only place that touches reqwest's errors, and it keeps their URLs out: a
//! reqwest error prints the request URL, which could carry credentials, so errors are
//! rendered with `without_url` and scrubbed before they leave.

use std::time::{Duration, SystemTime};

use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use tokio_util::sync::CancellationToken;

use crate::session::config::ModelConfig;

use super::error::TimeoutStage;
use super::provider::{Decoded, LearnedQuirks, Provider, StreamFault, StreamStep};
use super::redact::Redactor;
use super::resilience::{retry_after, secs, CircuitBreaker, RetryPolicy};
use super::sse::SseParser;

/// An error body is read up to this size; the message is all we want from it.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// An answer larger than this is refused, whole or streamed: no answer we ask for comes near
/// it, and a broken or hostile server must not make us read (and keep) without end.
const MAX_ANSWER_BODY: usize = 32 * 1024 * 1024;

/// Why one attempt failed, before it is turned into a `ModelError` for the caller.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    Cancelled,
    /// Connecting or sending failed, or the connection dropped before an answer started.
    Connect {
        message: String,
        timed_out: bool,
    },
    Timeout {
        stage: TimeoutStage,
        after: Duration,
    },
    /// The server answered with an error status.
    Status {
        status: u16,
        retry_after: Option<Duration>,
        message: String,
    },
    /// The answer's body broke off or the server reported an error in the stream.
    Broken {
        message: String,
    },
    /// The answer is not in the provider's format.
    Protocol {
        message: String,
    },
}

/// The answer went past `limit` bytes; reading stopped there.
fn too_large(limit: usize, streamed: bool) -> Failure {
    let what = if streamed {
        "the streamed answer"
    } else {
        "the answer"
    };
    Failure::Protocol {
        message: format!(
            "{what} is larger than {} MB; reading stopped there",
            limit >> 20
        ),
    }
}

/// A configured model with everything needed to call it.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// The name in `[models]`.
    pub name: String,
    pub config: ModelConfig,
    pub provider: Box<dyn Provider>,
    pub url: reqwest::Url,
    pub client: reqwest::Client,
    /// Authentication headers (marked sensitive), or why there are none.
    pub headers: Result<HeaderMap, KeyProblem>,
    pub policy: RetryPolicy,
    pub circuit: CircuitBreaker,
    /// What the endpoint turned out not to take (the native structured output,
    /// `max_tokens`...): later requests are adapted from the start.
    pub quirks: LearnedQuirks,
    pub redactor: Redactor,
}

/// Why a model cannot be called at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyProblem {
    Missing { variable: String },
    Invalid { variable: String },
}

impl Endpoint {
    pub fn request_timeout(&self) -> Duration {
        secs(self.config.timeout_secs)
    }

    pub fn idle_timeout(&self) -> Duration {
        secs(self.config.idle_timeout_secs)
    }

    pub fn connect_timeout(&self) -> Duration {
        secs(self.config.connect_timeout_secs)
    }

    /// `host:port` of the endpoint, for messages (never the path or query).
    pub fn host(&self) -> String {
        match (self.url.host_str(), self.url.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            _ => "the server".to_string(),
        }
    }

    /// One attempt: `body` is the provider's JSON request. Streamed text goes to `on_text` as
    /// it arrives.
    pub async fn send_once(
        &self,
        body: &[u8],
        cancel: &CancellationToken,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Decoded, Failure> {
        let timeout = self.request_timeout();
        let work = self.send_and_read(body, on_text);
        // Dropping the request future closes the connection, which is how a cancelled or
        // timed-out request is aborted at once.
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(Failure::Cancelled),
            result = tokio::time::timeout(timeout, work) => result.unwrap_or(Err(Failure::Timeout {
                stage: TimeoutStage::Request,
                after: timeout,
            })),
        }
    }

    async fn send_and_read(
        &self,
        body: &[u8],
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Decoded, Failure> {
        let headers = match &self.headers {
            Ok(headers) => headers.clone(),
            // The router checks the key before calling; this is only a safety net.
            Err(_) => {
                return Err(Failure::Protocol {
                    message: "the model has no usable key".to_string(),
                })
            }
        };
        let response = self
            .client
            .post(self.url.clone())
            .headers(headers)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| self.request_failure(&e))?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = retry_after(response.headers(), SystemTime::now());
            // An error body that cannot be read still leaves the status to report.
            let body = self
                .read_limited(response, MAX_ERROR_BODY)
                .await
                .unwrap_or_default();
            let message = super::provider::error_message(&String::from_utf8_lossy(&body));
            return Err(Failure::Status {
                status: status.as_u16(),
                retry_after,
                message: self.redactor.scrub_message(&message),
            });
        }
        let is_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
        if is_stream {
            return self.read_stream(response, on_text).await;
        }
        let bytes = self.read_limited(response, MAX_ANSWER_BODY).await?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| Failure::Protocol {
                message: format!("the answer is not JSON ({e})"),
            })?;
        let decoded = self
            .provider
            .decode(&value)
            .map_err(|m| Failure::Protocol {
                message: self.redactor.scrub_message(&m),
            })?;
        if !decoded.text.is_empty() {
            on_text(&decoded.text);
        }
        Ok(decoded)
    }

    /// Reads a body up to `limit` bytes, with the idle timeout between chunks.
    async fn read_limited(
        &self,
        response: reqwest::Response,
        limit: usize,
    ) -> Result<Vec<u8>, Failure> {
        let idle = self.idle_timeout();
        let mut stream = response.bytes_stream();
        let mut out = Vec::new();
        loop {
            match tokio::time::timeout(idle, stream.next()).await {
                Err(_) => {
                    return Err(Failure::Timeout {
                        stage: TimeoutStage::Idle,
                        after: idle,
                    })
                }
                Ok(None) => return Ok(out),
                Ok(Some(Err(e))) => {
                    return Err(Failure::Broken {
                        message: self.error_text(&e),
                    })
                }
                Ok(Some(Ok(chunk))) => {
                    if out.len() + chunk.len() > limit {
                        return Err(too_large(limit, false));
                    }
                    out.extend_from_slice(&chunk);
                }
            }
        }
    }

    async fn read_stream(
        &self,
        response: reqwest::Response,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Decoded, Failure> {
        let idle = self.idle_timeout();
        let mut stream = response.bytes_stream();
        let mut parser = SseParser::new();
        let mut decoder = self.provider.stream_decoder();
        let mut received = 0usize;
        let fault = |fault: StreamFault, redactor: &Redactor| match fault {
            StreamFault::Server(m) => Failure::Broken {
                message: format!("the server reported: {}", redactor.scrub_message(&m)),
            },
            StreamFault::Incomplete(m) => Failure::Broken { message: m },
            StreamFault::Malformed(m) => Failure::Protocol {
                message: redactor.scrub_message(&m),
            },
        };
        'read: loop {
            let chunk = match tokio::time::timeout(idle, stream.next()).await {
                Err(_) => {
                    return Err(Failure::Timeout {
                        stage: TimeoutStage::Idle,
                        after: idle,
                    })
                }
                Ok(None) => {
                    if let Some(event) = parser.finish() {
                        match decoder.event(&event) {
                            Ok(StreamStep::Text(text)) => on_text(&text),
                            Ok(_) => {}
                            Err(f) => return Err(fault(f, &self.redactor)),
                        }
                    }
                    break 'read;
                }
                Ok(Some(Err(e))) => {
                    return Err(Failure::Broken {
                        message: self.error_text(&e),
                    })
                }
                Ok(Some(Ok(chunk))) => chunk,
            };
            received += chunk.len();
            if received > MAX_ANSWER_BODY {
                return Err(too_large(MAX_ANSWER_BODY, true));
            }
            let events = parser
                .push(&chunk)
                .map_err(|e| Failure::Protocol { message: e.0 })?;
            for event in events {
                match decoder.event(&event) {
                    Ok(StreamStep::Text(text)) => on_text(&text),
                    Ok(StreamStep::Continue) => {}
                    Ok(StreamStep::Done) => break 'read,
                    Err(f) => return Err(fault(f, &self.redactor)),
                }
            }
        }
        decoder.finish().map_err(|f| fault(f, &self.redactor))
    }

    fn request_failure(&self, e: &reqwest::Error) -> Failure {
        let message = self.error_text(e);
        if e.is_connect() {
            Failure::Connect {
                message: format!("{}: {message}", self.host()),
                timed_out: e.is_timeout(),
            }
        } else if e.is_timeout() {
            Failure::Timeout {
                stage: TimeoutStage::Request,
                after: self.request_timeout(),
            }
        } else {
            // The request could not be sent whole, or the connection closed before the answer
            // began: worth a retry, like a refused connection.
            Failure::Connect {
                message: format!("{}: {message}", self.host()),
                timed_out: false,
            }
        }
    }

    /// The error and its causes on one line, without the URL and scrubbed.
    fn error_text(&self, e: &reqwest::Error) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
        // reqwest's own Display names the URL; its kind is all we keep of it, and for connect
        // errors not even that (the caller says "cannot connect").
        let top = if e.is_connect() {
            None
        } else if e.is_body() || e.is_decode() {
            Some("the answer's body failed")
        } else if e.is_request() {
            Some("the request failed")
        } else {
            Some("the HTTP exchange failed")
        };
        parts.extend(top.map(str::to_string));
        while let Some(cause) = source {
            let text = cause.to_string();
            // hyper's wrapper ("client error (Connect)") says nothing its causes do not.
            let generic = text.starts_with("client error (");
            if !text.is_empty() && !generic && !parts.iter().any(|p| p == &text) {
                parts.push(text);
            }
            source = cause.source();
        }
        if parts.is_empty() {
            parts.push("no further detail".to_string());
        }
        self.redactor.scrub_message(&parts.join(": "))
    }
}
