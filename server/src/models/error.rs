//! What can go wrong with a model, as a type callers branch on.
//!
//! Every message names the model (by its name in `[models]`) and, where the user can fix
//! something, the setting to change. Messages never contain an API key or a URL's query:
//! server messages pass through `Redactor::scrub_message` before they get here.

use std::time::Duration;

use super::schema::SchemaName;
use super::Role;

/// One model a role tried, and why it did not answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub model: String,
    pub error: ModelError,
}

/// Where a request ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutStage {
    /// Connecting (`connect_timeout_secs`).
    Connect,
    /// The whole request (`timeout_secs`).
    Request,
    /// Waiting for the next part of a streamed answer (`idle_timeout_secs`).
    Idle,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The offline engine cannot serve this role; `setting` is the key to change.
    #[error("{hint}")]
    Offline {
        role: Role,
        setting: String,
        hint: String,
    },
    /// No model of the role's chain answered; each attempt says why.
    #[error("no model could serve the {role}: {}", render_attempts(tried))]
    Unavailable { role: Role, tried: Vec<Attempt> },
    /// The request carries the text of a file that must stay out of prompts (a secret file,
    /// or one `.gitignore`/`.tandemignore` excludes); no model was asked.
    #[error("`{path}` is not sent to a model: {reason}")]
    ExcludedSource { path: String, reason: String },
    /// The caller cancelled (the editor, or Ctrl-C).
    #[error("the request was cancelled")]
    Cancelled,
    /// The model's key variable is not set.
    #[error(
        "model `{model}`: environment variable `{variable}` is not set \
         (models.{model}.api_key_env names it)"
    )]
    MissingKey { model: String, variable: String },
    /// The model failed too often lately and is skipped until `retry_in` has passed.
    #[error(
        "model `{model}`: paused after {failures} consecutive failures; it is tried again in {}",
        seconds(*retry_in)
    )]
    CircuitOpen {
        model: String,
        failures: u32,
        retry_in: Duration,
    },
    /// The prompt plus the answer's budget do not fit the model's context.
    #[error(
        "model `{model}`: the request needs about {needed} tokens (prompt and answer), more than \
         its context of {available} (models.{model}.context_tokens)"
    )]
    ContextTooSmall {
        model: String,
        needed: u64,
        available: u64,
    },
    /// 401: the key is wrong or missing.
    #[error(
        "model `{model}`: the API key was rejected (401){}{}",
        key_hint(model, variable),
        detail(message)
    )]
    Auth {
        model: String,
        variable: Option<String>,
        message: String,
    },
    /// 403: the key is valid but may not use this model or endpoint.
    #[error(
        "model `{model}`: the key has no access to this model (403){}",
        detail(message)
    )]
    Forbidden { model: String, message: String },
    /// 404 about the model: the server does not serve a model of that name.
    #[error(
        "model `{model}`: the server does not know the model `{name}` (404); check \
         models.{model}.model{}",
        detail(message)
    )]
    UnknownModel {
        model: String,
        name: String,
        message: String,
    },
    /// 404 about the path: the base URL is wrong.
    #[error(
        "model `{model}`: the endpoint was not found (404); check models.{model}.base_url{}",
        detail(message)
    )]
    EndpointNotFound { model: String, message: String },
    /// 429 that retries did not get past, or whose `Retry-After` is longer than we wait.
    #[error("model `{model}`: rate limited (429){}{}", wait_hint(*retry_after, *max_wait), detail(message))]
    RateLimited {
        model: String,
        retry_after: Option<Duration>,
        max_wait: Duration,
        message: String,
    },
    #[error("model `{model}`: {}", timeout_text(model, *stage, *after))]
    Timeout {
        model: String,
        stage: TimeoutStage,
        after: Duration,
    },
    /// The server could not be reached (after retries).
    #[error("model `{model}`: cannot connect: {message}")]
    Connection { model: String, message: String },
    /// Any other HTTP error status.
    #[error("model `{model}`: the server answered {status}{}", detail(message))]
    Http {
        model: String,
        status: u16,
        message: String,
    },
    /// A streamed answer broke off. After part of it had arrived (`received_chars > 0`) it is
    /// not retried silently, nor passed on to the next model of the chain.
    #[error("model `{model}`: {}", interrupted_text(*received_chars, message))]
    StreamInterrupted {
        model: String,
        received_chars: usize,
        message: String,
    },
    /// The answer hit the output limit (`finish_reason: length`, `stop_reason: max_tokens`).
    #[error(
        "model `{model}`: the answer was cut off at the output limit of {max_output_tokens} \
         tokens and was not used; raise models.{model}.max_output_tokens or ask for less"
    )]
    Truncated {
        model: String,
        max_output_tokens: u64,
    },
    /// The model or the provider's filter declined to answer.
    #[error("model `{model}`: the model declined to answer{}", detail(message))]
    Refused { model: String, message: String },
    /// The answer did not match the schema, even after the repair round.
    #[error(
        "model `{model}`: the answer does not match {schema} even after a repair round: {}",
        render_errors(errors)
    )]
    InvalidOutput {
        model: String,
        schema: SchemaName,
        errors: Vec<String>,
    },
    /// The server's answer is not the format its provider speaks.
    #[error("model `{model}`: the server's answer could not be read: {message}")]
    Protocol { model: String, message: String },
}

impl ModelError {
    /// The model the error is about, if it is about one.
    pub fn model(&self) -> Option<&str> {
        use ModelError::*;
        match self {
            Offline { .. } | Unavailable { .. } | ExcludedSource { .. } | Cancelled => None,
            MissingKey { model, .. }
            | CircuitOpen { model, .. }
            | ContextTooSmall { model, .. }
            | Auth { model, .. }
            | Forbidden { model, .. }
            | UnknownModel { model, .. }
            | EndpointNotFound { model, .. }
            | RateLimited { model, .. }
            | Timeout { model, .. }
            | Connection { model, .. }
            | Http { model, .. }
            | StreamInterrupted { model, .. }
            | Truncated { model, .. }
            | Refused { model, .. }
            | InvalidOutput { model, .. }
            | Protocol { model, .. } => Some(model),
        }
    }

    /// Whether the error says the endpoint is unwell (as opposed to the answer's content, a
    /// setting, or the caller), and so counts towards opening the model's circuit.
    pub(crate) fn is_endpoint_failure(&self) -> bool {
        use ModelError::*;
        matches!(
            self,
            Auth { .. }
                | Forbidden { .. }
                | UnknownModel { .. }
                | EndpointNotFound { .. }
                | RateLimited { .. }
                | Timeout { .. }
                | Connection { .. }
                | Http { .. }
                | StreamInterrupted { .. }
                | Protocol { .. }
        )
    }
}

fn render_attempts(tried: &[Attempt]) -> String {
    if tried.is_empty() {
        return "its chain is empty".to_string();
    }
    tried
        .iter()
        .map(|a| a.error.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn render_errors(errors: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = errors
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if errors.len() > SHOWN {
        text.push_str(&format!(" (and {} more)", errors.len() - SHOWN));
    }
    text
}

fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

fn interrupted_text(received_chars: usize, message: &str) -> String {
    if received_chars == 0 {
        format!("the answer broke off before it began ({message})")
    } else {
        format!(
            "the answer broke off after {received_chars} characters ({message}); it was not \
             retried, since part of it had already been shown"
        )
    }
}

fn key_hint(model: &str, variable: &Option<String>) -> String {
    match variable {
        Some(v) => format!("; check the key in `{v}`"),
        None => format!("; the endpoint wants a key: set models.{model}.api_key_env"),
    }
}

fn wait_hint(retry_after: Option<Duration>, max_wait: Duration) -> String {
    match retry_after {
        Some(wait) if wait > max_wait => format!(
            "; the server asks to wait {}, longer than the {} Tandem waits \
             (max_retry_after_secs)",
            seconds(wait),
            seconds(max_wait)
        ),
        _ => " and retries did not get through".to_string(),
    }
}

fn timeout_text(model: &str, stage: TimeoutStage, after: Duration) -> String {
    match stage {
        TimeoutStage::Connect => format!(
            "could not connect within {} (models.{model}.connect_timeout_secs)",
            seconds(after)
        ),
        TimeoutStage::Request => format!(
            "no complete answer within {} (models.{model}.timeout_secs)",
            seconds(after)
        ),
        TimeoutStage::Idle => format!(
            "the answer stalled: nothing arrived for {} (models.{model}.idle_timeout_secs)",
            seconds(after)
        ),
    }
}

/// "3 s", "0.5 s", "1 h".
pub(crate) fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 3600.0 && s % 3600.0 == 0.0 {
        format!("{} h", s / 3600.0)
    } else if s >= 10.0 || s.fract() == 0.0 {
        format!("{} s", s.round())
    } else {
        format!("{:.1} s", s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_model_and_the_setting() {
        let e = ModelError::RateLimited {
            model: "claude".into(),
            retry_after: Some(Duration::from_secs(3600)),
            max_wait: Duration::from_secs(60),
            message: "slow down".into(),
        };
        assert_eq!(
            e.to_string(),
            "model `claude`: rate limited (429); the server asks to wait 1 h, longer than the \
             60 s Tandem waits (max_retry_after_secs): slow down"
        );
        let e = ModelError::Timeout {
            model: "local".into(),
            stage: TimeoutStage::Idle,
            after: Duration::from_millis(500),
        };
        assert_eq!(
            e.to_string(),
            "model `local`: the answer stalled: nothing arrived for 0.5 s \
             (models.local.idle_timeout_secs)"
        );
        let e = ModelError::Unavailable {
            role: Role::Planner,
            tried: vec![
                Attempt {
                    model: "a".into(),
                    error: ModelError::MissingKey {
                        model: "a".into(),
                        variable: "A_KEY".into(),
                    },
                },
                Attempt {
                    model: "b".into(),
                    error: ModelError::ContextTooSmall {
                        model: "b".into(),
                        needed: 9000,
                        available: 8192,
                    },
                },
            ],
        };
        let text = e.to_string();
        assert!(
            text.starts_with("no model could serve the planner: model `a`: "),
            "{text}"
        );
        assert!(
            text.contains("; model `b`: the request needs about 9000 tokens"),
            "{text}"
        );
        assert!(!text.ends_with('.'), "{text}");
    }

    #[test]
    fn seconds_read_naturally() {
        assert_eq!(seconds(Duration::from_secs(3)), "3 s");
        assert_eq!(seconds(Duration::from_millis(300)), "0.3 s");
        assert_eq!(seconds(Duration::from_secs(90)), "90 s");
        assert_eq!(seconds(Duration::from_secs(7200)), "2 h");
    }
}
