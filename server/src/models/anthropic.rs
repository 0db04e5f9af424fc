//! The Anthropic Messages API (`POST {base_url}/messages`, version `2023-06-01`).
//!
//! The schema goes as a tool whose `input_schema` it is, and `tool_choice` forces the model to
//! call that tool, so the answer is the tool's input: JSON that Anthropic has already parsed.
//! Streamed, it arrives as `input_json_delta` fragments that only make sense once complete.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use super::provider::{
    error_message, role_name, system_with_schema, Decoded, Finish, Provider, StreamDecoder,
    StreamFault, StreamStep, Structured, TokenCounts, WireRequest,
};
use super::sse::SseEvent;

const API_VERSION: &str = "2023-06-01";

#[derive(Debug, Default)]
pub(crate) struct Anthropic;

impl Provider for Anthropic {
    fn kind(&self) -> &'static str {
        "anthropic"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.anthropic.com/v1"
    }

    fn path(&self) -> &'static str {
        "messages"
    }

    fn headers(&self, key: Option<&str>) -> Result<HeaderMap, String> {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(API_VERSION),
        );
        if let Some(key) = key {
            let mut value = HeaderValue::from_str(key)
                .map_err(|_| "the key holds characters that cannot go in a header".to_string())?;
            value.set_sensitive(true);
            headers.insert(HeaderName::from_static("x-api-key"), value);
        }
        Ok(headers)
    }

    fn body(&self, request: &WireRequest<'_>) -> Value {
        let via_tool = request.structured() == Structured::Native;
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| json!({"role": role_name(m.role), "content": m.content}))
            .collect();
        let mut body = json!({
            "model": request.model,
            "max_tokens": request.max_output_tokens,
            "system": system_with_schema(request, via_tool),
            "messages": messages,
            "stream": request.stream,
        });
        if let Some(t) = request.temperature {
            body["temperature"] = json!((f64::from(t) * 1000.0).round() / 1000.0);
        }
        if via_tool {
            let name = request.schema.name();
            body["tools"] = json!([{
                "name": name,
                "description": request.schema.description(),
                "input_schema": request.schema.schema(),
            }]);
            body["tool_choice"] = json!({"type": "tool", "name": name});
        }
        body
    }

    fn decode(&self, body: &Value) -> Result<Decoded, String> {
        if body.get("type").and_then(Value::as_str) == Some("error") {
            return Err(error_message(&body.to_string()));
        }
        let content = body
            .get("content")
            .and_then(Value::as_array)
            .ok_or("the answer has no `content`")?;
        let tool_input = content
            .iter()
            .find(|block| block.get("type").and_then(Value::as_str) == Some("tool_use"))
            .and_then(|block| block.get("input"));
        let text = match tool_input {
            Some(input) => input.to_string(),
            None => content
                .iter()
                .filter_map(|block| block.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
        };
        Ok(Decoded {
            text,
            finish: finish_of(body.get("stop_reason").and_then(Value::as_str)),
            usage: body.get("usage").map(|u| TokenCounts {
                input: input_tokens(u),
                output: u.get("output_tokens").and_then(Value::as_u64).unwrap_or(0),
            }),
        })
    }

    fn stream_decoder(&self) -> Box<dyn StreamDecoder> {
        Box::<AnthropicStream>::default()
    }
}

/// Input tokens, including those read from or written to Anthropic's prompt cache, which are
/// counted separately.
fn input_tokens(usage: &Value) -> u64 {
    [
        "input_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    ]
    .iter()
    .filter_map(|k| usage.get(k).and_then(Value::as_u64))
    .sum()
}

fn finish_of(stop_reason: Option<&str>) -> Finish {
    match stop_reason {
        Some("max_tokens") => Finish::Truncated,
        Some("refusal") => Finish::Refused("the model declined to answer".to_string()),
        _ => Finish::Complete,
    }
}

#[derive(Debug, Default)]
struct Block {
    tool: bool,
    text: String,
}

#[derive(Debug, Default)]
struct AnthropicStream {
    blocks: BTreeMap<u64, Block>,
    stop_reason: Option<String>,
    usage: Option<TokenCounts>,
    stopped: bool,
}

impl StreamDecoder for AnthropicStream {
    fn event(&mut self, event: &SseEvent) -> Result<StreamStep, StreamFault> {
        let value: Value = serde_json::from_str(event.data.trim())
            .map_err(|e| StreamFault::Malformed(format!("a streamed event is not JSON ({e})")))?;
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .or(event.event.as_deref())
            .unwrap_or_default();
        let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
        match kind {
            "message_start" => {
                if let Some(usage) = value.pointer("/message/usage") {
                    self.usage = Some(TokenCounts {
                        input: input_tokens(usage),
                        output: usage
                            .get("output_tokens")
                            .and_then(Value::as_u64)
                            .unwrap_or(0),
                    });
                }
                Ok(StreamStep::Continue)
            }
            "content_block_start" => {
                let block = value.get("content_block");
                let tool =
                    block.and_then(|b| b.get("type")).and_then(Value::as_str) == Some("tool_use");
                let text = block
                    .and_then(|b| b.get("text"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                self.blocks.insert(
                    index,
                    Block {
                        tool,
                        text: text.clone(),
                    },
                );
                Ok(if text.is_empty() {
                    StreamStep::Continue
                } else {
                    StreamStep::Text(text)
                })
            }
            "content_block_delta" => {
                let delta = value.get("delta");
                let piece = match delta.and_then(|d| d.get("type")).and_then(Value::as_str) {
                    Some("input_json_delta") => delta.and_then(|d| d.get("partial_json")),
                    Some("text_delta") => delta.and_then(|d| d.get("text")),
                    // Thinking and signatures are not part of the answer.
                    _ => None,
                };
                match piece.and_then(Value::as_str) {
                    Some(piece) if !piece.is_empty() => {
                        self.blocks.entry(index).or_default().text.push_str(piece);
                        Ok(StreamStep::Text(piece.to_string()))
                    }
                    _ => Ok(StreamStep::Continue),
                }
            }
            "message_delta" => {
                if let Some(reason) = value.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop_reason = Some(reason.to_string());
                }
                // `output_tokens` here is the running total.
                if let Some(output) = value
                    .pointer("/usage/output_tokens")
                    .and_then(Value::as_u64)
                {
                    let usage = self.usage.get_or_insert_with(TokenCounts::default);
                    usage.output = output;
                }
                Ok(StreamStep::Continue)
            }
            "message_stop" => {
                self.stopped = true;
                Ok(StreamStep::Done)
            }
            "error" => Err(StreamFault::Server(error_message(&value.to_string()))),
            // `ping`, `content_block_stop` and event types added later.
            _ => Ok(StreamStep::Continue),
        }
    }

    fn finish(self: Box<Self>) -> Result<Decoded, StreamFault> {
        if !self.stopped {
            return Err(StreamFault::Incomplete(
                "the stream ended before `message_stop`".to_string(),
            ));
        }
        let tool = self.blocks.values().find(|b| b.tool);
        let text = match tool {
            // A tool called without arguments streams no fragments at all.
            Some(block) if block.text.trim().is_empty() => "{}".to_string(),
            Some(block) => block.text.clone(),
            None => self
                .blocks
                .values()
                .map(|b| b.text.as_str())
                .collect::<Vec<_>>()
                .join(""),
        };
        Ok(Decoded {
            text,
            finish: finish_of(self.stop_reason.as_deref()),
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

    #[test]
    fn body_sends_the_schema_as_a_forced_tool() {
        let messages = vec![Message {
            role: MessageRole::User,
            content: "Review".into(),
        }];
        let wire = WireRequest {
            model: "claude-x",
            system: "You review.",
            messages: &messages,
            schema: SchemaName::Review,
            max_output_tokens: 2000,
            temperature: None,
            quirks: Quirks::default(),
            stream: true,
        };
        let body = Anthropic.body(&wire);
        assert_eq!(body["tools"][0]["name"], "tandem_review");
        assert_eq!(
            &body["tools"][0]["input_schema"],
            SchemaName::Review.schema()
        );
        assert_eq!(
            body["tool_choice"],
            json!({"type": "tool", "name": "tandem_review"})
        );
        assert_eq!(body["max_tokens"], 2000);
        assert_eq!(body["messages"][0]["role"], "user");
        assert!(body["system"]
            .as_str()
            .unwrap_or_default()
            .starts_with("You review."));
        let headers = Anthropic.headers(Some("k-123")).expect("headers");
        assert_eq!(headers["anthropic-version"], API_VERSION);
        assert!(headers["x-api-key"].is_sensitive());
        assert!(!format!("{headers:?}").contains("k-123"));
    }

    #[test]
    fn whole_answers_are_decoded() {
        let body = json!({
            "content": [{"type": "text", "text": "Here"}, {"type": "tool_use", "name": "tandem_verdict", "input": {"score": 1, "issues": []}}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 20, "cache_read_input_tokens": 5, "output_tokens": 7}
        });
        let decoded = Anthropic.decode(&body).expect("decodes");
        assert_eq!(
            serde_json::from_str::<Value>(&decoded.text).ok(),
            Some(json!({"score": 1, "issues": []}))
        );
        assert_eq!(
            decoded.usage,
            Some(TokenCounts {
                input: 25,
                output: 7
            })
        );
        let cut = json!({"content": [], "stop_reason": "max_tokens"});
        assert_eq!(
            Anthropic.decode(&cut).expect("decodes").finish,
            Finish::Truncated
        );
    }

    fn event(data: Value) -> SseEvent {
        SseEvent {
            event: data.get("type").and_then(Value::as_str).map(str::to_string),
            data: data.to_string(),
        }
    }

    #[test]
    fn streams_assemble_the_tool_input() {
        let mut d = Anthropic.stream_decoder();
        let events = [
            json!({"type": "message_start", "message": {"usage": {"input_tokens": 30, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t", "name": "tandem_verdict", "input": {}}}),
            json!({"type": "ping"}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"score\": 0.5, "}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "\"issues\": []}"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 15}}),
        ];
        for e in events {
            d.event(&event(e)).expect("event");
        }
        assert_eq!(
            d.event(&event(json!({"type": "message_stop"}))),
            Ok(StreamStep::Done)
        );
        let decoded = d.finish().expect("complete");
        assert_eq!(decoded.text, "{\"score\": 0.5, \"issues\": []}");
        assert_eq!(
            decoded.usage,
            Some(TokenCounts {
                input: 30,
                output: 15
            })
        );

        let mut cut = Anthropic.stream_decoder();
        cut.event(&event(json!({"type": "message_start", "message": {}})))
            .expect("event");
        assert!(matches!(cut.finish(), Err(StreamFault::Incomplete(_))));

        let mut failing = Anthropic.stream_decoder();
        assert_eq!(
            failing.event(&event(json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))),
            Err(StreamFault::Server("Overloaded".into()))
        );
    }
}
