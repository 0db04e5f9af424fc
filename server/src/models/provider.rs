//! What differs between providers: the request body, the headers, and how answers (whole or
//! streamed) and errors are read. Everything else (sending, timeouts, retries, validation) is
//! shared, so a provider is a few pure functions and easy to test without a network.

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::schema::SchemaName;
use super::sse::SseEvent;
use super::{Message, MessageRole};

/// How the schema reaches the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Structured {
    /// The provider's own mechanism: `response_format` for OpenAI, a forced tool for
    /// Anthropic.
    Native,
    /// The schema written into the system prompt, for endpoints that reject the native form.
    Instruction,
}

/// A change to the request that an endpoint turned out to need, learnt from its error answer
/// and kept for the rest of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Adaptation {
    /// The schema goes in the prompt instead of `response_format`.
    SchemaInPrompt,
    /// `max_completion_tokens` instead of `max_tokens` (OpenAI's reasoning models).
    MaxCompletionTokens,
    /// No `temperature` (models that only take their default).
    NoTemperature,
    /// No `stream_options` (servers that do not know it).
    NoStreamOptions,
}

/// The adaptations in force for an endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Quirks {
    pub schema_in_prompt: bool,
    pub max_completion_tokens: bool,
    pub no_temperature: bool,
    pub no_stream_options: bool,
}

impl Quirks {
    fn flag(&mut self, adaptation: Adaptation) -> &mut bool {
        match adaptation {
            Adaptation::SchemaInPrompt => &mut self.schema_in_prompt,
            Adaptation::MaxCompletionTokens => &mut self.max_completion_tokens,
            Adaptation::NoTemperature => &mut self.no_temperature,
            Adaptation::NoStreamOptions => &mut self.no_stream_options,
        }
    }

    pub fn has(mut self, adaptation: Adaptation) -> bool {
        *self.flag(adaptation)
    }

    pub fn with(mut self, adaptation: Adaptation) -> Self {
        *self.flag(adaptation) = true;
        self
    }
}

/// An endpoint's learnt quirks, shared by its concurrent requests.
#[derive(Debug, Default)]
pub(crate) struct LearnedQuirks(std::sync::Mutex<Quirks>);

impl LearnedQuirks {
    pub fn get(&self) -> Quirks {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, adaptation: Adaptation) {
        let mut quirks = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *quirks = quirks.with(adaptation);
    }
}

/// A request as providers see it: already redacted and rendered.
#[derive(Debug, Clone)]
pub(crate) struct WireRequest<'a> {
    pub model: &'a str,
    pub system: &'a str,
    pub messages: &'a [Message],
    pub schema: SchemaName,
    pub max_output_tokens: u64,
    pub temperature: Option<f32>,
    pub quirks: Quirks,
    pub stream: bool,
}

impl WireRequest<'_> {
    pub fn structured(&self) -> Structured {
        if self.quirks.schema_in_prompt {
            Structured::Instruction
        } else {
            Structured::Native
        }
    }
}

/// Token counts a server reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TokenCounts {
    pub input: u64,
    pub output: u64,
}

/// How an answer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finish {
    Complete,
    /// The output limit was reached; the text is incomplete.
    Truncated,
    /// The model or a filter declined, with the reason given.
    Refused(String),
}

/// A whole answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decoded {
    /// The JSON text (Anthropic's tool input, serialized) or the prose holding it.
    pub text: String,
    pub finish: Finish,
    pub usage: Option<TokenCounts>,
}

/// What one streamed event contributed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StreamStep {
    /// Part of the answer, to show as progress.
    Text(String),
    /// Nothing visible (metadata, keep-alive).
    Continue,
    /// The stream is complete; nothing after this matters.
    Done,
}

/// Why a stream could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StreamFault {
    /// The server reported an error in the stream (e.g. Anthropic's `overloaded_error`).
    Server(String),
    /// The stream is not in the provider's format.
    Malformed(String),
    /// The stream ended before the answer was complete.
    Incomplete(String),
}

pub(crate) trait StreamDecoder: Send {
    fn event(&mut self, event: &SseEvent) -> Result<StreamStep, StreamFault>;
    /// The whole answer, once the stream has ended (or said it is done).
    fn finish(self: Box<Self>) -> Result<Decoded, StreamFault>;
}

pub(crate) trait Provider: Send + Sync + std::fmt::Debug {
    /// `openai` or `anthropic`, as in the configuration.
    fn kind(&self) -> &'static str;
    /// The public endpoint, used when `base_url` is not set.
    fn default_base_url(&self) -> &'static str;
    /// The path after the base URL.
    fn path(&self) -> &'static str;
    /// Authentication and version headers. The key's header is marked sensitive so that it
    /// is never printed by `Debug`.
    fn headers(&self, key: Option<&str>) -> Result<HeaderMap, String>;
    fn body(&self, request: &WireRequest<'_>) -> Value;
    /// Reads a whole (not streamed) answer.
    fn decode(&self, body: &Value) -> Result<Decoded, String>;
    fn stream_decoder(&self) -> Box<dyn StreamDecoder>;
    /// The adaptation an error answer asks for (the endpoint does not take the native
    /// structured output, or `max_tokens`, ...), so that the request is sent again adapted.
    fn adaptation_for(&self, _status: u16, _message: &str) -> Option<Adaptation> {
        None
    }
}

/// The message of an error body in the usual shapes (`{"error": {"message": ...}}`,
/// `{"error": "..."}`, `{"message": ...}`, `{"detail": ...}`), else the body's text.
pub(crate) fn error_message(body: &str) -> String {
    let text = body.trim();
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let candidates = [
            value.pointer("/error/message"),
            value.get("error").filter(|e| e.is_string()),
            value.get("message"),
            value.get("detail"),
        ];
        if let Some(found) = candidates.into_iter().flatten().next() {
            return match found {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
        }
    }
    text.to_string()
}

/// The system prompt with the instruction that fits the way the schema is sent.
pub(crate) fn system_with_schema(request: &WireRequest<'_>, via_tool: bool) -> String {
    let name = request.schema.name();
    let instruction = match (request.structured(), via_tool) {
        (Structured::Native, true) => {
            format!("Answer by calling the tool `{name}` with arguments that match its schema.")
        }
        (Structured::Native, false) => {
            format!("Answer with one JSON object that matches the JSON Schema `{name}`.")
        }
        (Structured::Instruction, _) => format!(
            "Answer with one JSON object and nothing else: no prose, no code fences. It must \
             match this JSON Schema (`{name}`):\n{}",
            serde_json::to_string_pretty(request.schema.schema()).unwrap_or_default()
        ),
    };
    if request.system.trim().is_empty() {
        instruction
    } else {
        format!("{}\n\n{instruction}", request.system.trim_end())
    }
}

pub(crate) fn role_name(role: MessageRole) -> &'static str {
    match role {
        MessageRole::User => "user",
        MessageRole::Assistant => "assistant",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_in_usual_shapes() {
        assert_eq!(
            error_message(r#"{"error": {"message": "bad key", "type": "x"}}"#),
            "bad key"
        );
        assert_eq!(
            error_message(r#"{"error": "model not found"}"#),
            "model not found"
        );
        assert_eq!(error_message(r#"{"detail": "nope"}"#), "nope");
        assert_eq!(error_message("404 page not found\n"), "404 page not found");
    }
}
