//! End-to-end: the model layer against real HTTP servers on loopback (wiremock, and a raw TCP
//! server for what wiremock cannot do: a stream that stalls or whose connection drops), with
//! scripted answers including wrong and hostile ones. Assertions look at what the servers
//! received as well as at what the router returned.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tandem::models::{
    ModelError, ModelRequest, ModelRouter, Role, SchemaName, StreamEvent, TimeoutStage, UsageLedger,
};
use tandem::session::config::{Config, ModelConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The key every test model uses, read through the router's key source, never from the
/// process environment (which tests running in parallel must not change).
const KEY_VAR: &str = "TANDEM_TEST_KEY";
const KEY: &str = "sk-test-SECRETKEY0123456789abcdefXYZ";

fn keys(var: &str) -> Option<String> {
    (var == KEY_VAR).then(|| KEY.to_string())
}

/// A model on `server` with short timeouts and backoff, so the suite stays fast.
fn model(server_uri: &str, provider: &str) -> ModelConfig {
    ModelConfig {
        provider: provider.to_string(),
        base_url: Some(format!("{server_uri}/v1")),
        model: "test-model".to_string(),
        api_key_env: Some(KEY_VAR.to_string()),
        context_tokens: 32_768,
        max_output_tokens: 1_000,
        timeout_secs: 5.0,
        connect_timeout_secs: 2.0,
        idle_timeout_secs: 2.0,
        stream: false,
        retries: 2,
        retry_base_secs: 0.01,
        retry_cap_secs: 0.05,
        max_retry_after_secs: 60.0,
        circuit_failures: 3,
        circuit_open_secs: 30.0,
    }
}

/// Every role uses `chain`; the cache is off unless a workspace root is given.
fn config(models: Vec<(&str, ModelConfig)>, chain: &[&str]) -> Config {
    let mut config = Config::default();
    for (name, model) in models {
        config.models.insert(name.to_string(), model);
    }
    let chain: Vec<String> = chain.iter().map(|s| s.to_string()).collect();
    config.roles.planner = chain.clone();
    config.roles.coder = chain.clone();
    config.roles.reviewer = chain.clone();
    config.roles.documenter = chain;
    config
}

fn router(config: &Config, root: Option<&Path>) -> ModelRouter {
    ModelRouter::from_config_with_keys(config, root, keys).expect("valid configuration")
}

fn one_model(server: &MockServer, provider: &str) -> ModelRouter {
    router(
        &config(vec![("m", model(&server.uri(), provider))], &["m"]),
        None,
    )
}

fn verdict_request() -> ModelRequest {
    ModelRequest::new(
        SchemaName::Verdict,
        "You judge code.",
        "How good is `def f(): pass`?",
    )
}

const VERDICT: &str = r#"{"score": 0.8, "issues": ["f does nothing"]}"#;

fn verdict_value() -> Value {
    json!({"score": 0.8, "issues": ["f does nothing"]})
}

async fn ask(
    router: &ModelRouter,
    request: ModelRequest,
) -> Result<tandem::models::ModelAnswer, ModelError> {
    router
        .complete(Role::Reviewer, request, CancellationToken::new(), |_| {})
        .await
}

/// An OpenAI chat completion whose message content is `content`.
fn openai_answer(content: &str, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": finish
        }],
        "usage": {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51}
    })
}

fn openai_ok(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(openai_answer(content, "stop"))
}

/// An SSE body of `data:` events.
fn sse(events: &[Value], done: bool) -> String {
    let mut body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    body
}

fn openai_chunk(content: &str, finish: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]
    })
}

fn event_stream(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

fn chat() -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(path("/v1/chat/completions"))
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r: &Request| r.body_json::<Value>().expect("JSON request body"))
        .collect()
}

async fn request_count(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

fn collect_events() -> (
    Arc<Mutex<Vec<StreamEvent>>>,
    impl Fn(StreamEvent) + Send + Sync,
) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    (events, move |e| sink.lock().expect("events").push(e))
}

#[tokio::test]
async fn openai_answer_is_validated_and_the_schema_is_sent_as_response_format() {
    let server = MockServer::start().await;
    chat()
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(openai_ok(VERDICT))
        .mount(&server)
        .await;
    let router = one_model(&server, "openai");
    let answer = ask(&router, verdict_request()).await.expect("answer");
    assert_eq!(answer.value, verdict_value());
    assert_eq!(answer.model, "m");
    assert!(!answer.cached && !answer.repaired);
    assert_eq!(
        (answer.usage.input_tokens, answer.usage.output_tokens),
        (42, 9)
    );
    assert_eq!(answer.usage.requests, 1);
    assert!(answer.prompt_tokens > 0);

    let sent = &bodies(&server).await[0];
    assert_eq!(sent["model"], "test-model");
    assert_eq!(sent["max_tokens"], 1000);
    assert_eq!(sent["stream"], false);
    let format = &sent["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "tandem_verdict");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(
        &format["json_schema"]["schema"],
        SchemaName::Verdict.schema()
    );
    assert_eq!(sent["messages"][0]["role"], "system");
    assert_eq!(
        sent["messages"][1]["content"],
        "How good is `def f(): pass`?"
    );
}

#[tokio::test]
async fn openai_streaming_reports_progress_and_usage() {
    let server = MockServer::start().await;
    let pieces = ["{\"score\": 0.8, ", "\"issues\": [\"f does ", "nothing\"]}"];
    let mut events: Vec<Value> = pieces.iter().map(|p| openai_chunk(p, None)).collect();
    events.push(openai_chunk("", Some("stop")));
    events.push(json!({"choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 12}}));
    chat()
        .respond_with(event_stream(sse(&events, true)))
        .mount(&server)
        .await;
    let mut m = model(&server.uri(), "openai");
    m.stream = true;
    let router = router(&config(vec![("m", m)], &["m"]), None);
    let (events, on_progress) = collect_events();
    let answer = router
        .complete(
            Role::Reviewer,
            verdict_request(),
            CancellationToken::new(),
            on_progress,
        )
        .await
        .expect("answer");
    assert_eq!(answer.value, verdict_value());
    assert_eq!(
        (answer.usage.input_tokens, answer.usage.output_tokens),
        (30, 12)
    );

    let texts: Vec<(String, usize)> = events
        .lock()
        .expect("events")
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Text {
                delta, received, ..
            } => Some((delta.clone(), *received)),
            _ => None,
        })
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[0].0, pieces[0]);
    assert_eq!(texts[2].1, pieces.concat().chars().count());

    let sent = &bodies(&server).await[0];
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"]["include_usage"], true);
}

fn anthropic_events(json_pieces: &[&str], stop_reason: &str) -> String {
    let mut events = vec![
        json!({"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 55, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "tandem_verdict", "input": {}}}),
        json!({"type": "ping"}),
    ];
    for piece in json_pieces {
        events.push(json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": piece}}));
    }
    events.push(json!({"type": "content_block_stop", "index": 0}));
    events.push(json!({"type": "message_delta", "delta": {"stop_reason": stop_reason}, "usage": {"output_tokens": 21}}));
    events.push(json!({"type": "message_stop"}));
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")))
        .collect()
}

fn messages_endpoint() -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(path("/v1/messages"))
}

#[tokio::test]
async fn anthropic_streaming_sends_the_schema_as_a_tool_and_assembles_its_input() {
    let server = MockServer::start().await;
    messages_endpoint()
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(event_stream(anthropic_events(
            &["{\"score\": 0.8, \"iss", "ues\": [\"f does nothing\"]}"],
            "tool_use",
        )))
        .mount(&server)
        .await;
    let mut m = model(&server.uri(), "anthropic");
    m.stream = true;
    let router = router(&config(vec![("claude", m)], &["claude"]), None);
    let (events, on_progress) = collect_events();
    let answer = router
        .complete(
            Role::Reviewer,
            verdict_request(),
            CancellationToken::new(),
            on_progress,
        )
        .await
        .expect("answer");
    assert_eq!(answer.value, verdict_value());
    assert_eq!(
        (answer.usage.input_tokens, answer.usage.output_tokens),
        (55, 21)
    );
    let streamed = events
        .lock()
        .expect("events")
        .iter()
        .filter(|e| matches!(e, StreamEvent::Text { .. }))
        .count();
    assert_eq!(streamed, 2);

    let sent = &bodies(&server).await[0];
    assert_eq!(sent["tools"][0]["name"], "tandem_verdict");
    assert_eq!(
        &sent["tools"][0]["input_schema"],
        SchemaName::Verdict.schema()
    );
    assert_eq!(
        sent["tool_choice"],
        json!({"type": "tool", "name": "tandem_verdict"})
    );
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["messages"][0]["role"], "user");
    assert!(sent.get("response_format").is_none());
}

#[tokio::test]
async fn anthropic_whole_answer_and_its_truncation() {
    let server = MockServer::start().await;
    messages_endpoint()
        .and(body_string_contains("first question"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_1", "type": "message", "role": "assistant",
            "content": [{"type": "tool_use", "id": "t", "name": "tandem_verdict", "input": verdict_value()}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 10, "output_tokens": 5}
        })))
        .mount(&server)
        .await;
    messages_endpoint()
        .and(body_string_contains("second question"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_2", "type": "message", "role": "assistant",
            "content": [{"type": "tool_use", "id": "t", "name": "tandem_verdict", "input": {"score": 0.5}}],
            "stop_reason": "max_tokens",
            "usage": {"input_tokens": 10, "output_tokens": 1000}
        })))
        .mount(&server)
        .await;
    let router = one_model(&server, "anthropic");
    let answer = ask(
        &router,
        ModelRequest::new(SchemaName::Verdict, "", "first question"),
    )
    .await
    .expect("answer");
    assert_eq!(answer.value, verdict_value());
    let err = ask(
        &router,
        ModelRequest::new(SchemaName::Verdict, "", "second question"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::Truncated {
                max_output_tokens: 1000,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn rate_limit_with_retry_after_1_waits_at_least_a_second() {
    let server = MockServer::start().await;
    chat()
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"error": {"message": "Rate limit reached"}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    chat().respond_with(openai_ok(VERDICT)).mount(&server).await;
    let router = one_model(&server, "openai");
    let (events, on_progress) = collect_events();
    let start = Instant::now();
    let answer = router
        .complete(
            Role::Reviewer,
            verdict_request(),
            CancellationToken::new(),
            on_progress,
        )
        .await
        .expect("answer after the retry");
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(answer.value, verdict_value());
    assert_eq!(request_count(&server).await, 2);
    assert_eq!(answer.usage.requests, 2);
    let retry = events
        .lock()
        .expect("events")
        .iter()
        .find_map(|e| match e {
            StreamEvent::Retrying { delay, reason, .. } => Some((*delay, reason.clone())),
            _ => None,
        })
        .expect("a retry was reported");
    assert_eq!(retry.0, Duration::from_secs(1));
    assert!(retry.1.contains("429"), "{}", retry.1);
}

#[tokio::test]
async fn rate_limit_with_retry_after_3600_fails_at_once() {
    let server = MockServer::start().await;
    chat()
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3600")
                .set_body_json(json!({"error": {"message": "Daily quota exceeded"}})),
        )
        .mount(&server)
        .await;
    let router = one_model(&server, "openai");
    let start = Instant::now();
    let err = ask(&router, verdict_request()).await.unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(request_count(&server).await, 1);
    match &err {
        ModelError::RateLimited { retry_after, .. } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(3600)))
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("1 h") && text.contains("Daily quota exceeded"),
        "{text}"
    );
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let server = MockServer::start().await;
    chat()
        .respond_with(ResponseTemplate::new(500).set_body_string("internal error"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    chat().respond_with(openai_ok(VERDICT)).mount(&server).await;
    let router = one_model(&server, "openai");
    let answer = ask(&router, verdict_request()).await.expect("answer");
    assert_eq!(answer.value, verdict_value());
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn persistent_server_errors_give_up_after_the_retries() {
    let server = MockServer::start().await;
    chat()
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"error": {"message": "overloaded"}})),
        )
        .mount(&server)
        .await;
    let router = one_model(&server, "openai");
    let err = ask(&router, verdict_request()).await.unwrap_err();
    assert!(
        matches!(err, ModelError::Http { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(
        request_count(&server).await,
        3,
        "one request and two retries"
    );
}

#[tokio::test]
async fn a_stalled_server_times_out() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai_ok(VERDICT).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let mut m = model(&server.uri(), "openai");
    m.timeout_secs = 0.5;
    let router = router(&config(vec![("m", m)], &["m"]), None);
    let start = Instant::now();
    let err = ask(&router, verdict_request()).await.unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(
        matches!(
            err,
            ModelError::Timeout {
                stage: TimeoutStage::Request,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("models.m.timeout_secs"), "{err}");
    // A timed-out request is not retried: its time budget is spent.
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn a_stream_cut_in_the_middle_is_not_retried_silently() {
    let server = MockServer::start().await;
    // Part of the answer, then the body ends: no finish reason and no [DONE].
    let events = [
        openai_chunk("{\"score\": 0.8, ", None),
        openai_chunk("\"issues\": [", None),
    ];
    chat()
        .respond_with(event_stream(sse(&events, false)))
        .mount(&server)
        .await;
    let mut m = model(&server.uri(), "openai");
    m.stream = true;
    let router = router(&config(vec![("m", m)], &["m"]), None);
    let err = ask(&router, verdict_request()).await.unwrap_err();
    match &err {
        ModelError::StreamInterrupted { received_chars, .. } => {
            assert_eq!(*received_chars, "{\"score\": 0.8, \"issues\": [".len())
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(request_count(&server).await, 1);
}

/// A minimal HTTP server on loopback that answers every request with `head` (status line and
/// headers, chunked), then `first` as one chunk, then either holds the connection open or
/// drops it without ending the body. Returns its base URL and the number of requests.
async fn raw_stream_server(first: String, then_drop: bool) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let first = first.clone();
            tokio::spawn(async move {
                // Read the request head and body so the client is not reset while sending.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                let l = l.to_ascii_lowercase();
                                l.strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                if !first.is_empty() {
                    let chunk = format!("{:x}\r\n{first}\r\n", first.len());
                    let _ = socket.write_all(chunk.as_bytes()).await;
                }
                let _ = socket.flush().await;
                if then_drop {
                    // Dropping the socket ends the connection in the middle of the body.
                    return;
                }
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    (format!("http://{address}"), count)
}

fn streaming_model(base: &str) -> ModelConfig {
    let mut m = model(base, "openai");
    m.stream = true;
    m.idle_timeout_secs = 0.3;
    m
}

#[tokio::test]
async fn a_connection_dropped_mid_stream_is_reported_not_retried() {
    let first = sse(&[openai_chunk("{\"score\": ", None)], false);
    let (base, count) = raw_stream_server(first, true).await;
    let router = router(&config(vec![("m", streaming_model(&base))], &["m"]), None);
    let err = ask(&router, verdict_request()).await.unwrap_err();
    assert!(
        matches!(err, ModelError::StreamInterrupted { received_chars, .. } if received_chars > 0),
        "{err:?}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_idle_stream_times_out() {
    // Part of the answer, then silence: interrupted after the first token, not retried.
    let first = sse(&[openai_chunk("{\"score\": ", None)], false);
    let (base, count) = raw_stream_server(first, false).await;
    let router = router(&config(vec![("m", streaming_model(&base))], &["m"]), None);
    let start = Instant::now();
    let err = ask(&router, verdict_request()).await.unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    match &err {
        ModelError::StreamInterrupted { message, .. } => {
            assert!(message.contains("nothing arrived for 0.3 s"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(count.load(Ordering::SeqCst), 1);

    // Headers, then nothing at all: an idle timeout before any answer.
    let (base, _) = raw_stream_server(String::new(), false).await;
    let router = router_for(&base);
    let err = ask(&router, verdict_request()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::Timeout {
                stage: TimeoutStage::Idle,
                ..
            }
        ),
        "{err:?}"
    );
}

fn router_for(base: &str) -> ModelRouter {
    router(&config(vec![("m", streaming_model(base))], &["m"]), None)
}

#[tokio::test]
async fn fenced_json_is_accepted() {
    let server = MockServer::start().await;
    let content = format!("Here is my verdict:\n\n```json\n{VERDICT}\n```\n");
    chat()
        .respond_with(openai_ok(&content))
        .mount(&server)
        .await;
    let answer = ask(&one_model(&server, "openai"), verdict_request())
        .await
        .expect("answer");
    assert_eq!(answer.value, verdict_value());
    assert!(!answer.repaired);
}

#[tokio::test]
async fn json_with_trailing_prose_is_accepted() {
    let server = MockServer::start().await;
    let content = format!("{VERDICT}\n\nLet me know if you want more detail on {{this}}!");
    chat()
        .respond_with(openai_ok(&content))
        .mount(&server)
        .await;
    let answer = ask(&one_model(&server, "openai"), verdict_request())
        .await
        .expect("answer");
    assert_eq!(answer.value, verdict_value());
}

#[tokio::test]
async fn invalid_json_then_a_valid_repair() {
    let server = MockServer::start().await;
    let wrong = r#"{"score": "high", "issues": [], "confidence": 1}"#;
    chat()
        .respond_with(openai_ok(wrong))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    chat().respond_with(openai_ok(VERDICT)).mount(&server).await;
    let router = one_model(&server, "openai");
    let (events, on_progress) = collect_events();
    let answer = router
        .complete(
            Role::Reviewer,
            verdict_request(),
            CancellationToken::new(),
            on_progress,
        )
        .await
        .expect("repaired answer");
    assert_eq!(answer.value, verdict_value());
    assert!(answer.repaired);
    assert_eq!((answer.usage.input_tokens, answer.usage.requests), (84, 2));
    assert!(events
        .lock()
        .expect("events")
        .iter()
        .any(|e| matches!(e, StreamEvent::Repairing { .. })));

    // The repair round quotes the wrong answer and feeds the validation errors back.
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    let messages = sent[1]["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(messages[2]["content"], wrong);
    let feedback = messages[3]["content"].as_str().expect("feedback");
    assert!(
        feedback.contains("$: unexpected property `confidence`"),
        "{feedback}"
    );
    assert!(
        feedback.contains("$.score: expected a number, found a string"),
        "{feedback}"
    );
}

#[tokio::test]
async fn invalid_output_twice_is_a_typed_error() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai_ok("I think the code is fine."))
        .mount(&server)
        .await;
    let err = ask(&one_model(&server, "openai"), verdict_request())
        .await
        .unwrap_err();
    match &err {
        ModelError::InvalidOutput { schema, errors, .. } => {
            assert_eq!(*schema, SchemaName::Verdict);
            assert!(errors[0].contains("no complete JSON object"), "{errors:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        request_count(&server).await,
        2,
        "one answer and one repair round"
    );
}

#[tokio::test]
async fn a_truncated_answer_is_an_error_and_never_parsed() {
    let server = MockServer::start().await;
    // The text happens to be valid JSON, but the answer was cut: it must not be used.
    chat()
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(openai_answer(r#"{"score": 0.1, "issues": []}"#, "length")),
        )
        .mount(&server)
        .await;
    let err = ask(&one_model(&server, "openai"), verdict_request())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::Truncated {
                max_output_tokens: 1000,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        request_count(&server).await,
        1,
        "no repair round for a cut answer"
    );
}

#[tokio::test]
async fn unauthorized_is_not_retried_and_never_shows_the_key() {
    let server = MockServer::start().await;
    // A hostile server echoes the key in its error message.
    chat()
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": format!("Incorrect API key provided: {KEY}. See https://x.example/keys?key={KEY}")}
        })))
        .mount(&server)
        .await;
    let err = ask(&one_model(&server, "openai"), verdict_request())
        .await
        .unwrap_err();
    assert!(matches!(err, ModelError::Auth { .. }), "{err:?}");
    let text = err.to_string();
    assert!(!text.contains(KEY), "{text}");
    assert!(!text.contains("?key"), "{text}");
    assert!(text.contains("401") && text.contains(KEY_VAR), "{text}");
    assert!(!format!("{err:?}").contains(KEY));
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn forbidden_unknown_model_and_wrong_endpoint_have_their_own_messages() {
    let server = MockServer::start().await;
    chat()
        .and(body_string_contains("forbidden please"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"error": {"message": "Project does not have access"}})),
        )
        .mount(&server)
        .await;
    chat()
        .and(body_string_contains("unknown please"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"message": "model \"test-model\" not found, try pulling it first"}
        })))
        .mount(&server)
        .await;
    let router = one_model(&server, "openai");
    let forbidden = ask(
        &router,
        ModelRequest::new(SchemaName::Verdict, "", "forbidden please"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(forbidden, ModelError::Forbidden { .. }),
        "{forbidden:?}"
    );
    assert!(forbidden.to_string().contains("no access"), "{forbidden}");
    let unknown = ask(
        &router,
        ModelRequest::new(SchemaName::Verdict, "", "unknown please"),
    )
    .await
    .unwrap_err();
    match &unknown {
        ModelError::UnknownModel { name, .. } => assert_eq!(name, "test-model"),
        other => panic!("{other:?}"),
    }
    assert!(unknown.to_string().contains("models.m.model"), "{unknown}");
    assert_eq!(request_count(&server).await, 2, "no retries on 403 and 404");

    // A base URL without `/v1` hits a path the server does not have.
    let mut m = model(&server.uri(), "openai");
    m.base_url = Some(server.uri());
    let wrong_path = router_with(m);
    let err = ask(&wrong_path, verdict_request()).await.unwrap_err();
    assert!(
        matches!(err, ModelError::EndpointNotFound { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("models.m.base_url"), "{err}");
}

fn router_with(m: ModelConfig) -> ModelRouter {
    router(&config(vec![("m", m)], &["m"]), None)
}

#[tokio::test]
async fn fallback_to_the_second_model_after_the_first_circuit_opens() {
    let broken = MockServer::start().await;
    chat()
        .respond_with(ResponseTemplate::new(500))
        .mount(&broken)
        .await;
    let good = MockServer::start().await;
    chat().respond_with(openai_ok(VERDICT)).mount(&good).await;
    let mut first = model(&broken.uri(), "openai");
    first.retries = 0;
    first.circuit_open_secs = 0.5;
    let router = router(
        &config(
            vec![("first", first), ("second", model(&good.uri(), "openai"))],
            &["first", "second"],
        ),
        None,
    );
    // Three failures in a row: each request falls back to the second model.
    for _ in 0..3 {
        let answer = ask(&router, verdict_request())
            .await
            .expect("fallback answer");
        assert_eq!(answer.model, "second");
        assert!(matches!(
            answer.skipped[0].error,
            ModelError::Http { status: 500, .. }
        ));
    }
    assert_eq!(request_count(&broken).await, 3);
    // The circuit is open now: the first model is skipped without a request.
    let answer = ask(&router, verdict_request()).await.expect("answer");
    assert_eq!(answer.model, "second");
    assert!(
        matches!(
            answer.skipped[0].error,
            ModelError::CircuitOpen { failures: 3, .. }
        ),
        "{:?}",
        answer.skipped
    );
    assert_eq!(request_count(&broken).await, 3);
    // After the open time, one trial request goes through (and fails again).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let answer = ask(&router, verdict_request()).await.expect("answer");
    assert_eq!(answer.model, "second");
    assert_eq!(request_count(&broken).await, 4);
    let info = router.models();
    assert!(matches!(
        info[0].circuit,
        tandem::models::CircuitState::Open { .. }
    ));
}

#[tokio::test]
async fn size_routing_skips_models_too_small_for_the_request() {
    let small = MockServer::start().await;
    let big = MockServer::start().await;
    chat().respond_with(openai_ok(VERDICT)).mount(&small).await;
    chat().respond_with(openai_ok(VERDICT)).mount(&big).await;
    let mut small_model = model(&small.uri(), "openai");
    small_model.context_tokens = 2_000;
    small_model.max_output_tokens = 500;
    let router = router(
        &config(
            vec![("small", small_model), ("big", model(&big.uri(), "openai"))],
            &["small", "big"],
        ),
        None,
    );
    // A small request fits the small model.
    let answer = ask(&router, verdict_request()).await.expect("answer");
    assert_eq!(answer.model, "small");
    // A big one goes to the big model without touching the small one.
    let code = "def f(x):\n    return x * 2  # doubles\n".repeat(300);
    let request = ModelRequest::new(SchemaName::Verdict, "", format!("Judge:\n{code}"));
    let answer = ask(&router, request).await.expect("answer");
    assert_eq!(answer.model, "big");
    assert!(answer.prompt_tokens > 2_000, "{}", answer.prompt_tokens);
    match &answer.skipped[0].error {
        ModelError::ContextTooSmall {
            needed, available, ..
        } => {
            assert_eq!(*available, 2_000);
            assert!(*needed > 2_000);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(request_count(&small).await, 1);
    // An output budget above a model's maximum is capped at it, so the small model serves.
    let request = verdict_request().with_max_output_tokens(1_900);
    let answer = ask(&router, request).await.expect("answer");
    assert_eq!(answer.model, "small");
}

#[tokio::test]
async fn when_no_model_can_serve_the_error_lists_what_was_tried() {
    let server = MockServer::start().await;
    chat()
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let mut no_key = model(&server.uri(), "anthropic");
    no_key.api_key_env = Some("TANDEM_TEST_UNSET_KEY".to_string());
    let mut tiny = model(&server.uri(), "openai");
    tiny.context_tokens = 100;
    tiny.max_output_tokens = 50;
    let router = router(
        &config(
            vec![
                ("nokey", no_key),
                ("tiny", tiny),
                ("rejected", model(&server.uri(), "openai")),
            ],
            &["nokey", "tiny", "rejected", "builtin"],
        ),
        None,
    );
    let err = ask(&router, verdict_request()).await.unwrap_err();
    let ModelError::Unavailable { role, tried } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*role, Role::Reviewer);
    let models: Vec<&str> = tried.iter().map(|a| a.model.as_str()).collect();
    assert_eq!(models, ["nokey", "tiny", "rejected", "builtin"]);
    assert!(matches!(tried[0].error, ModelError::MissingKey { .. }));
    assert!(matches!(tried[1].error, ModelError::ContextTooSmall { .. }));
    assert!(matches!(tried[2].error, ModelError::Auth { .. }));
    assert!(matches!(tried[3].error, ModelError::Offline { .. }));
    let text = err.to_string();
    assert!(
        text.starts_with("no model could serve the reviewer: "),
        "{text}"
    );
    assert!(
        text.contains("TANDEM_TEST_UNSET_KEY") && text.contains("[roles] reviewer"),
        "{text}"
    );
}

#[tokio::test]
async fn cancellation_mid_request_aborts_at_once() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai_ok(VERDICT).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let router = one_model(&server, "openai");
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let start = Instant::now();
    let err = router
        .complete(Role::Reviewer, verdict_request(), cancel, |_| {})
        .await
        .unwrap_err();
    assert_eq!(err, ModelError::Cancelled);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(request_count(&server).await, 1, "the request was under way");
    // A cancelled request says nothing about the model: its circuit stays closed.
    assert_eq!(
        router.models()[0].circuit,
        tandem::models::CircuitState::Closed { failures: 0 }
    );
}

#[tokio::test]
async fn cancellation_during_a_retry_wait_is_immediate() {
    let server = MockServer::start().await;
    chat()
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
        .mount(&server)
        .await;
    let router = one_model(&server, "openai");
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let start = Instant::now();
    let err = router
        .complete(Role::Reviewer, verdict_request(), cancel, |_| {})
        .await
        .unwrap_err();
    assert_eq!(err, ModelError::Cancelled);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "tandem-models-e2e-{name}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_secret_in_the_workspace_never_reaches_the_server() {
    let workspace = TempDir::new("secrets");
    let aws = "AKIAIOSFODNN7EXAMPLE";
    let db = "hunter2-db-password";
    let env_key = "sk-proj-ENVFILEKEY0123456789abcdef";
    let ignored_secret = "IGNORED-FILE-CONTENT-xyz";
    workspace.write(".gitignore", "local_settings.py\n");
    workspace.write(".tandemignore", "fixtures/\n");
    let files = [
        (".env", format!("OPENAI_API_KEY={env_key}\n")),
        (
            "deploy/server.pem",
            "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n".to_string(),
        ),
        ("local_settings.py", format!("NOTE = '{ignored_secret}'\n")),
        ("fixtures/data.py", format!("X = '{ignored_secret}'\n")),
        (
            "app/settings.py",
            format!("AWS_ACCESS_KEY_ID = \"{aws}\"\nDB_PASSWORD = \"{db}\"\nDEBUG = True\n"),
        ),
    ];
    let mut request = ModelRequest::new(
        SchemaName::Verdict,
        "Review the settings.",
        format!("Also, my key is {KEY} and the token is ghp_0123456789abcdefghijABCDEFGHIJ012345."),
    );
    for (rel, text) in &files {
        let path = workspace.write(rel, text);
        request = request.with_file(path, text.clone());
    }

    let server = MockServer::start().await;
    chat().respond_with(openai_ok(VERDICT)).mount(&server).await;
    let mut m = model(&server.uri(), "openai");
    m.stream = true;
    let router = router(&config(vec![("m", m)], &["m"]), Some(&workspace.0));
    let answer = ask(&router, request).await.expect("answer");
    let excluded: Vec<String> = answer
        .excluded_files
        .iter()
        .map(|(p, _)| {
            p.strip_prefix(&workspace.0)
                .unwrap_or(p)
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        excluded,
        [
            ".env",
            "deploy/server.pem",
            "local_settings.py",
            "fixtures/data.py"
        ]
    );
    assert!(answer.redactions >= 4, "{}", answer.redactions);

    let received = server.received_requests().await.unwrap_or_default();
    let body = String::from_utf8_lossy(&received[0].body).into_owned();
    for secret in [
        aws,
        db,
        env_key,
        ignored_secret,
        KEY,
        "ghp_0123456789",
        "BEGIN PRIVATE KEY",
    ] {
        assert!(
            !body.contains(secret),
            "`{secret}` reached the server: {body}"
        );
    }
    // The allowed file is there, with its secrets replaced.
    assert!(body.contains("app/settings.py"), "{body}");
    assert!(body.contains(r#"DB_PASSWORD = \"[REDACTED]\""#), "{body}");
    assert!(body.contains("DEBUG = True"), "{body}");
}

#[tokio::test]
async fn the_same_request_twice_costs_one_call() {
    let workspace = TempDir::new("cache");
    let server = MockServer::start().await;
    chat().respond_with(openai_ok(VERDICT)).mount(&server).await;
    let cfg = config(vec![("m", model(&server.uri(), "openai"))], &["m"]);
    let router = router(&cfg, Some(&workspace.0));
    let ledger = UsageLedger::new();
    let run = router.with_ledger(ledger.clone());
    let first = ask(&run, verdict_request()).await.expect("answer");
    let second = ask(&run, verdict_request()).await.expect("answer");
    assert!(!first.cached && second.cached);
    assert_eq!(second.value, first.value);
    assert_eq!(request_count(&server).await, 1);
    assert!(workspace.0.join(".tandem/cache/models").is_dir());
    // A new router (a new session) reads the cache from disk.
    let again = ask(&router_with_root(&cfg, &workspace.0), verdict_request())
        .await
        .expect("answer");
    assert!(again.cached);
    assert_eq!(request_count(&server).await, 1);
    // A different request is a miss.
    let other = verdict_request().with_temperature(0.7);
    assert!(!ask(&run, other).await.expect("answer").cached);
    assert_eq!(request_count(&server).await, 2);
    // Usage per run: two calls, one from the cache.
    let total = ledger.total();
    assert_eq!(
        (total.requests, total.cached, total.input_tokens),
        (2, 1, 84)
    );

    // `cache = false`: every request is sent.
    let mut uncached = cfg.clone();
    uncached.cache.enabled = false;
    let router = router_with_root(&uncached, &workspace.0);
    ask(&router, verdict_request()).await.expect("answer");
    ask(&router, verdict_request()).await.expect("answer");
    assert_eq!(request_count(&server).await, 4);
}

fn router_with_root(config: &Config, root: &Path) -> ModelRouter {
    router(config, Some(root))
}

#[tokio::test]
async fn an_endpoint_that_rejects_json_schema_gets_it_in_the_prompt() {
    let server = MockServer::start().await;
    chat()
        .and(body_string_contains("response_format"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": "Unrecognized request argument supplied: response_format"}
        })))
        .mount(&server)
        .await;
    chat().respond_with(openai_ok(VERDICT)).mount(&server).await;
    let router = one_model(&server, "openai");
    let answer = ask(&router, verdict_request()).await.expect("answer");
    assert_eq!(answer.value, verdict_value());
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2);
    assert!(sent[1].get("response_format").is_none());
    let system = sent[1]["messages"][0]["content"].as_str().expect("system");
    assert!(
        system.contains("JSON Schema") && system.contains("\"score\""),
        "{system}"
    );
    // The model is remembered: the next request goes straight to the prompt form.
    ask(&router, ModelRequest::new(SchemaName::Verdict, "", "again"))
        .await
        .expect("answer");
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 3);
    assert!(sent[2].get("response_format").is_none());
}

#[tokio::test]
async fn a_reasoning_model_gets_max_completion_tokens_and_no_temperature() {
    let server = MockServer::start().await;
    // What OpenAI answers for its reasoning models.
    chat()
        .and(body_string_contains("\"max_tokens\""))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"
        }})))
        .mount(&server)
        .await;
    chat()
        .and(body_string_contains("\"temperature\""))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.",
            "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"
        }})))
        .mount(&server)
        .await;
    chat().respond_with(openai_ok(VERDICT)).mount(&server).await;
    let router = one_model(&server, "openai");
    let answer = ask(&router, verdict_request().with_temperature(0.2))
        .await
        .expect("answer");
    assert_eq!(answer.value, verdict_value());
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 3, "two refusals, then the adapted request");
    let last = &sent[2];
    assert_eq!(last["max_completion_tokens"], 1000);
    assert!(last.get("max_tokens").is_none() && last.get("temperature").is_none());
    assert_eq!(last["response_format"]["type"], "json_schema");
    // Remembered: the next request is adapted from the start.
    ask(&router, verdict_request().with_temperature(0.2))
        .await
        .expect("answer");
    assert_eq!(request_count(&server).await, 4);
    // A refusal is not an outage: the circuit stays closed.
    assert_eq!(
        router.models()[0].circuit,
        tandem::models::CircuitState::Closed { failures: 0 }
    );
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    // Bind and drop a listener to find a port with nobody behind it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port();
    let router = router_with(model(&format!("http://127.0.0.1:{port}"), "openai"));
    let (events, on_progress) = collect_events();
    let err = router
        .complete(
            Role::Reviewer,
            verdict_request(),
            CancellationToken::new(),
            on_progress,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ModelError::Connection { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    let retries = events
        .lock()
        .expect("events")
        .iter()
        .filter(|e| matches!(e, StreamEvent::Retrying { .. }))
        .count();
    assert_eq!(retries, 2);
}

#[tokio::test]
async fn hostile_answers_are_typed_errors() {
    let server = MockServer::start().await;
    chat()
        .and(body_string_contains("garbage please"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>surprise</html>"))
        .mount(&server)
        .await;
    chat()
        .and(body_string_contains("bad stream please"))
        .respond_with(event_stream("data: {not json\n\n".to_string()))
        .mount(&server)
        .await;
    chat()
        .and(body_string_contains("nested please"))
        .respond_with(openai_ok(&"[".repeat(100_000)))
        .mount(&server)
        .await;
    chat()
        .and(body_string_contains("refuse please"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"message": {"content": null, "refusal": "I can't help with that."}, "finish_reason": "stop"}]
        })))
        .mount(&server)
        .await;
    let router = one_model(&server, "openai");
    let err = ask(
        &router,
        ModelRequest::new(SchemaName::Verdict, "", "garbage please"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ModelError::Protocol { .. }), "{err:?}");
    let err = ask(
        &router,
        ModelRequest::new(SchemaName::Verdict, "", "bad stream please"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ModelError::Protocol { .. }), "{err:?}");
    let err = ask(
        &router,
        ModelRequest::new(SchemaName::Verdict, "", "nested please"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ModelError::InvalidOutput { .. }), "{err:?}");
    let err = ask(
        &router,
        ModelRequest::new(SchemaName::Verdict, "", "refuse please"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ModelError::Refused { message, .. } if message.contains("can't help")),
        "{err:?}"
    );
}

#[tokio::test]
async fn check_model_reports_latency_or_the_exact_failure() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai_ok(r#"{"score": 1, "issues": []}"#))
        .mount(&server)
        .await;
    let broken = MockServer::start().await;
    chat()
        .respond_with(ResponseTemplate::new(500).set_body_string("down"))
        .mount(&broken)
        .await;
    let router = router(
        &config(
            vec![
                ("good", model(&server.uri(), "openai")),
                ("bad", model(&broken.uri(), "openai")),
            ],
            &["good"],
        ),
        None,
    );
    let report = router
        .check_model("good", CancellationToken::new())
        .await
        .expect("check");
    assert!(report.latency > Duration::ZERO);
    assert_eq!(report.usage.input_tokens, 42);
    let err = router
        .check_model("bad", CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ModelError::Http { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(request_count(&broken).await, 1, "a check is not retried");
}

/// A `MakeWriter` that appends everything to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_during_a_401_do_not_contain_the_key() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test's runtime runs on this thread only, so the subscriber sees every task.
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    chat()
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": format!("invalid key {KEY}")}
        })))
        .mount(&server)
        .await;
    let mut fallback = model(&server.uri(), "openai");
    fallback.model = "other".to_string();
    let router = router(
        &config(
            vec![("m", model(&server.uri(), "openai")), ("n", fallback)],
            &["m", "n", "builtin"],
        ),
        None,
    );
    tracing::info!(?router, "router built");
    let err = ask(&router, verdict_request()).await.unwrap_err();
    tracing::warn!("request failed: {err} / {err:?}");

    let logs = String::from_utf8_lossy(&captured.0.lock().expect("log buffer")).into_owned();
    assert!(logs.contains("401"), "the failure was logged: {logs}");
    assert!(!logs.contains(KEY), "the key leaked into the logs: {logs}");
    assert!(
        !logs.contains("SECRETKEY"),
        "part of the key leaked: {logs}"
    );
}
