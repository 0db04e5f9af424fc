//! Scripted answers of an OpenAI-compatible chat completions endpoint, for the wiremock servers
//! the end-to-end tests start.

use serde_json::{json, Value};
use wiremock::{MockServer, ResponseTemplate};

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

/// `initializationOptions` with one model `name` at `server` (no streaming, no retries, 5 s
/// timeout, key from `TANDEM_E2E_KEY`) as the only model of `role`, and the cache off.
pub fn model_options(server: &MockServer, name: &str, role: &str) -> Value {
    json!({
        "models": {name: {"provider": "openai", "base_url": format!("{}/v1", server.uri()), "model": "m", "api_key_env": "TANDEM_E2E_KEY", "stream": false, "retries": 0, "timeout_secs": 5.0}},
        "roles": {role: [name]},
        "cache": {"enabled": false}
    })
}

/// The `tandem.toml` of `model_options`, with a `timeout_secs` limit.
pub fn model_toml(server: &MockServer, name: &str, role: &str, timeout_secs: f64) -> String {
    format!(
        "[models.{name}]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\n\
         api_key_env = \"TANDEM_E2E_KEY\"\nstream = false\nretries = 0\ntimeout_secs = {timeout_secs:.1}\n\n\
         [roles]\n{role} = [\"{name}\"]\n\n[cache]\nenabled = false\n",
        server.uri()
    )
}
