//! Scripted answers of an OpenAI-compatible chat completions endpoint, for the wiremock servers
//! the end-to-end tests start.

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

/// A whole (not streamed) chat completion whose message is `content`.
pub fn openai_text(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "c", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
    }))
}

/// A chat completion whose message is the JSON `content` as text (a structured answer).
pub fn openai(content: &Value) -> ResponseTemplate {
    openai_text(&content.to_string())
}
