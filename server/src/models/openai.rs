//! OpenAI-compatible chat completions (`POST {base_url}/chat/completions`): OpenAI itself and
//! the servers that imitate it (Ollama's `/v1`, vLLM, llama.cpp's server, LM Studio,
//! OpenRouter...).
//!
//! The schema goes as `response_format: {type: "json_schema", json_schema: {name, strict:
//! true, schema}}`. Servers that do not know that form answer 400 (or 422); the router then
//! sends the request again with the schema written into the system prompt and remembers to do
//! so for that model. The same goes for the other parts not every endpoint takes: OpenAI's
//! reasoning models want `max_completion_tokens` instead of `max_tokens` and only their
//! default temperature, and some servers do not know `stream_options`.

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde_json::{json, Value};

use super::provider::{
    role_name, system_with_schema, Adaptation, Decoded, Finish, Provider, StreamDecoder,
    StreamFault, StreamStep, Structured, TokenCounts, WireRequest,
};
use super::sse::SseEvent;

#[derive(Debug, Default)]
pub(crate) struct OpenAi;

impl Provider for OpenAi {
    fn kind(&self) -> &'static str {
        "openai"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.openai.com/v1"
    }

    fn path(&self) -> &'static str {
        "chat/completions"
    }

    fn headers(&self, key: Option<&str>) -> Result<HeaderMap, String> {
        let mut headers = HeaderMap::new();
        if let Some(key) = key {
            let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| "the key holds characters that cannot go in a header".to_string())?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(headers)
    }

    fn body(&self, request: &WireRequest<'_>) -> Value {
        let mut messages = vec![json!({
            "role": "system",
            "content": system_with_schema(request, false),
        })];
        messages.extend(
            request
                .messages
                .iter()
                .map(|m| json!({"role": role_name(m.role), "content": m.content})),
        );
        let quirks = request.quirks;
        let mut body = json!({
            "model": request.model,
            "messages": messages,
            "stream": request.stream,
        });
        let budget_key = if quirks.max_completion_tokens {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body[budget_key] = json!(request.max_output_tokens);
        if let Some(t) = request.temperature.filter(|_| !quirks.no_temperature) {
            body["temperature"] = json!(round_temperature(t));
        }
        if request.stream && !quirks.no_stream_options {
            // Without this, usage is not reported for streamed answers.
            body["stream_options"] = json!({"include_usage": true});
        }
        if request.structured() == Structured::Native {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema.name(),
                    "description": request.schema.description(),
                    "strict": true,
                    "schema": request.schema.schema(),
                },
            });
        }
        body
    }

    fn decode(&self, body: &Value) -> Result<Decoded, String> {
        if let Some(error) = body.get("error").filter(|e| !e.is_null()) {
            return Err(super::provider::error_message(&error_envelope(error)));
        }
        let choice = body
            .pointer("/choices/0")
            .ok_or("the answer has no `choices`")?;
        let message = choice.get("message");
        let text = message
            .and_then(|m| m.get("content"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let refusal = message
            .and_then(|m| m.get("refusal"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let finish_reason = choice.get("finish_reason").and_then(Value::as_str);
        Ok(Decoded {
            text,
            finish: finish_of(finish_reason, refusal),
            usage: usage_of(body.get("usage")),
        })
    }

    fn stream_decoder(&self) -> Box<dyn StreamDecoder> {
        Box::<OpenAiStream>::default()
    }

    fn adaptation_for(&self, status: u16, message: &str) -> Option<Adaptation> {
        if !matches!(status, 400 | 422) {
            return None;
        }
        let m = message.to_ascii_lowercase();
        let mentions = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
        // Checked first: OpenAI's message names `max_tokens` too ("Use 'max_completion_tokens'
        // instead").
        if m.contains("max_completion_tokens") {
            Some(Adaptation::MaxCompletionTokens)
        } else if m.contains("stream_options") {
            Some(Adaptation::NoStreamOptions)
        } else if m.contains("temperature")
            && mentions(&[
                "unsupported",
                "not supported",
                "does not support",
                "only the default",
            ])
        {
            Some(Adaptation::NoTemperature)
        } else if mentions(&[
            "response_format",
            "json_schema",
            "structured output",
            "response format",
        ]) {
            Some(Adaptation::SchemaInPrompt)
        } else {
            None
        }
    }
}

/// f32 temperatures such as 0.2 would be sent as 0.20000000298023224.
fn round_temperature(t: f32) -> f64 {
    (f64::from(t) * 1000.0).round() / 1000.0
}

fn error_envelope(error: &Value) -> String {
    json!({ "error": error }).to_string()
}

fn finish_of(reason: Option<&str>, refusal: &str) -> Finish {
    match reason {
        Some("length") => Finish::Truncated,
        Some("content_filter") => {
            Finish::Refused("the provider's content filter stopped the answer".to_string())
        }
        _ if !refusal.trim().is_empty() => Finish::Refused(refusal.trim().to_string()),
        _ => Finish::Complete,
    }
}

fn usage_of(usage: Option<&Value>) -> Option<TokenCounts> {
    let usage = usage.filter(|u| u.is_object())?;
    Some(TokenCounts {
        input: usage.get("prompt_tokens").and_then(Value::as_u64)?,
        output: usage
            .get("completion_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    })
}

#[derive(Debug, Default)]
struct OpenAiStream {
    text: String,
    refusal: String,
    finish_reason: Option<String>,
    usage: Option<TokenCounts>,
    done: bool,
}

impl StreamDecoder for OpenAiStream {
    fn event(&mut self, event: &SseEvent) -> Result<StreamStep, StreamFault> {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(StreamStep::Done);
        }
        if data.is_empty() {
            return Ok(StreamStep::Continue);
        }
        let value: Value = serde_json::from_str(data)
            .map_err(|e| StreamFault::Malformed(format!("a streamed event is not JSON ({e})")))?;
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            return Err(StreamFault::Server(super::provider::error_message(
                &error_envelope(error),
            )));
        }
        if let Some(usage) = usage_of(value.get("usage")) {
            self.usage = Some(usage);
        }
        let Some(choice) = value.pointer("/choices/0") else {
            return Ok(StreamStep::Continue);
        };
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_string());
        }
        let delta = choice.get("delta");
        if let Some(refusal) = delta.and_then(|d| d.get("refusal")).and_then(Value::as_str) {
            self.refusal.push_str(refusal);
        }
        match delta.and_then(|d| d.get("content")).and_then(Value::as_str) {
            Some(text) if !text.is_empty() => {
                self.text.push_str(text);
                Ok(StreamStep::Text(text.to_string()))
            }
            _ => Ok(StreamStep::Continue),
        }
    }

    fn finish(self: Box<Self>) -> Result<Decoded, StreamFault> {
        // `[DONE]` or a finish reason marks a complete answer; a stream that just stops was
        // cut (usage may come after the finish reason, so either is accepted).
        if !self.done && self.finish_reason.is_none() {
            return Err(StreamFault::Incomplete(
                "the stream ended before the answer was complete".to_string(),
            ));
        }
        Ok(Decoded {
            finish: finish_of(self.finish_reason.as_deref(), &self.refusal),
            text: self.text,
            usage: self.usage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::provider::Quirks;
    use crate::models::schema::SchemaName;
    use crate::models::{Message, MessageRole};

    fn wire(messages: &[Message], quirks: Quirks, stream: bool) -> WireRequest<'_> {
        WireRequest {
            model: "gpt-x",
            system: "You plan.",
            messages,
            schema: SchemaName::Plan,
            max_output_tokens: 1000,
            temperature: Some(0.2),
            quirks,
            stream,
        }
    }

    fn prompt() -> Vec<Message> {
        vec![Message {
            role: MessageRole::User,
            content: "Plan it".into(),
        }]
    }

    #[test]
    fn body_carries_the_schema_as_response_format() {
        let messages = prompt();
        let body = OpenAi.body(&wire(&messages, Quirks::default(), true));
        assert_eq!(body["model"], "gpt-x");
        assert_eq!(body["max_tokens"], 1000);
        assert_eq!(body["temperature"], 0.2);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(
            body["response_format"]["json_schema"]["name"],
            "tandem_plan"
        );
        assert_eq!(body["response_format"]["json_schema"]["strict"], true);
        assert_eq!(
            &body["response_format"]["json_schema"]["schema"],
            SchemaName::Plan.schema()
        );
        assert_eq!(body["messages"][0]["role"], "system");
        assert!(body["messages"][0]["content"]
            .as_str()
            .unwrap_or_default()
            .starts_with("You plan."));
        assert_eq!(body["messages"][1]["content"], "Plan it");
    }

    #[test]
    fn adapted_bodies_leave_out_what_the_endpoint_refused() {
        let messages = prompt();
        let quirks = Quirks::default()
            .with(Adaptation::SchemaInPrompt)
            .with(Adaptation::MaxCompletionTokens)
            .with(Adaptation::NoTemperature)
            .with(Adaptation::NoStreamOptions);
        let body = OpenAi.body(&wire(&messages, quirks, true));
        assert!(body.get("response_format").is_none());
        assert!(body.get("stream_options").is_none());
        assert!(body.get("temperature").is_none());
        assert!(body.get("max_tokens").is_none());
        assert_eq!(body["max_completion_tokens"], 1000);
        let system = body["messages"][0]["content"].as_str().unwrap_or_default();
        assert!(system.contains("\"depends_on\""), "{system}");
    }

    #[test]
    fn whole_answers_are_decoded() {
        let body = json!({
            "choices": [{"message": {"content": "{\"a\":1}"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 3}
        });
        let decoded = OpenAi.decode(&body).expect("decodes");
        assert_eq!(decoded.text, "{\"a\":1}");
        assert_eq!(decoded.finish, Finish::Complete);
        assert_eq!(
            decoded.usage,
            Some(TokenCounts {
                input: 12,
                output: 3
            })
        );
        let cut = json!({"choices": [{"message": {"content": "{"}, "finish_reason": "length"}]});
        assert_eq!(
            OpenAi.decode(&cut).expect("decodes").finish,
            Finish::Truncated
        );
        let refused = json!({"choices": [{"message": {"content": null, "refusal": "No."}, "finish_reason": "stop"}]});
        assert_eq!(
            OpenAi.decode(&refused).expect("decodes").finish,
            Finish::Refused("No.".into())
        );
        assert!(OpenAi
            .decode(&json!({"error": {"message": "boom"}}))
            .is_err());
        assert!(OpenAi.decode(&json!({"id": 1})).is_err());
    }

    fn event(data: &str) -> SseEvent {
        SseEvent {
            event: None,
            data: data.to_string(),
        }
    }

    #[test]
    fn streams_are_decoded() {
        let mut d = OpenAi.stream_decoder();
        assert_eq!(
            d.event(&event(r#"{"choices":[{"delta":{"role":"assistant"}}]}"#)),
            Ok(StreamStep::Continue)
        );
        assert_eq!(
            d.event(&event(r#"{"choices":[{"delta":{"content":"{\"a\""}}]}"#)),
            Ok(StreamStep::Text("{\"a\"".into()))
        );
        d.event(&event(
            r#"{"choices":[{"delta":{"content":":1}"},"finish_reason":"stop"}]}"#,
        ))
        .expect("event");
        d.event(&event(
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
        ))
        .expect("event");
        assert_eq!(d.event(&event("[DONE]")), Ok(StreamStep::Done));
        let decoded = d.finish().expect("complete");
        assert_eq!(decoded.text, "{\"a\":1}");
        assert_eq!(
            decoded.usage,
            Some(TokenCounts {
                input: 5,
                output: 2
            })
        );

        let mut cut = OpenAi.stream_decoder();
        cut.event(&event(r#"{"choices":[{"delta":{"content":"{"}}]}"#))
            .expect("event");
        assert!(matches!(cut.finish(), Err(StreamFault::Incomplete(_))));

        let mut broken = OpenAi.stream_decoder();
        assert!(matches!(
            broken.event(&event("not json")),
            Err(StreamFault::Malformed(_))
        ));
        assert_eq!(
            broken.event(&event(r#"{"error":{"message":"overloaded"}}"#)),
            Err(StreamFault::Server("overloaded".into()))
        );
    }

    #[test]
    fn refusals_are_recognised() {
        let cases = [
            (
                400,
                "response_format json_schema is not supported",
                Some(Adaptation::SchemaInPrompt),
            ),
            (
                422,
                "Unknown field: response_format",
                Some(Adaptation::SchemaInPrompt),
            ),
            (
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use \
                 'max_completion_tokens' instead.",
                Some(Adaptation::MaxCompletionTokens),
            ),
            (
                400,
                "Unsupported value: 'temperature' does not support 0.2 with this model. Only the \
                 default (1) value is supported.",
                Some(Adaptation::NoTemperature),
            ),
            (
                400,
                "Unrecognized request argument supplied: stream_options",
                Some(Adaptation::NoStreamOptions),
            ),
            (400, "max_tokens is too large", None),
            (400, "temperature must be at most 2", None),
            (500, "response_format", None),
        ];
        for (status, message, expected) in cases {
            assert_eq!(
                OpenAi.adaptation_for(status, message),
                expected,
                "{message}"
            );
        }
    }
}
