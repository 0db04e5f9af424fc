//! A scripted OpenAI-compatible model server on loopback for the benchmarks: every chat
//! completion is answered after a fixed delay, whole or streamed as server-sent events (one
//! chunk every `chunk_gap`), with the answer computed from the request body. Plain threads and
//! `std::net`, one connection per request (`Connection: close`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

/// How the server answers.
#[derive(Clone)]
pub struct Script {
    /// Time between the end of the request and the first byte of the answer.
    pub delay: Duration,
    /// For streamed requests: the answer is cut into this many chunks...
    pub chunks: usize,
    /// ...sent this far apart.
    pub chunk_gap: Duration,
    /// The assistant message's content for a request body.
    pub answer: Arc<dyn Fn(&Value) -> String + Send + Sync>,
}

/// Counters of what the server did, readable while it runs.
#[derive(Default)]
pub struct Counters {
    pub requests: AtomicUsize,
    pub streamed_chunks: AtomicUsize,
    pub answered: AtomicUsize,
}

pub struct ModelServer {
    /// `http://127.0.0.1:PORT/v1`
    pub base_url: String,
    pub counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
}

impl ModelServer {
    pub fn start(script: Script) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (counters.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (script, counters) = (script.clone(), c.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &script, &counters);
                });
            }
        });
        ModelServer {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            counters,
            stop,
        }
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so that it sees the flag.
        if let Some(addr) = self
            .base_url
            .strip_prefix("http://")
            .and_then(|r| r.strip_suffix("/v1"))
        {
            let _ = TcpStream::connect(addr);
        }
    }
}

fn serve(stream: TcpStream, script: &Script, counters: &Counters) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    counters.requests.fetch_add(1, Ordering::Relaxed);
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let content = (script.answer)(&request);
    std::thread::sleep(script.delay);
    let mut out = stream;
    if request["stream"].as_bool() == Some(true) {
        out.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
        )?;
        let chars: Vec<char> = content.chars().collect();
        let per = chars.len().div_ceil(script.chunks.max(1)).max(1);
        for piece in chars.chunks(per) {
            let piece: String = piece.iter().collect();
            let event = json!({"id": "b", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]});
            out.write_all(format!("data: {event}\n\n").as_bytes())?;
            out.flush()?;
            counters.streamed_chunks.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(script.chunk_gap);
        }
        let end = json!({"id": "b", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}});
        out.write_all(format!("data: {end}\n\ndata: [DONE]\n\n").as_bytes())?;
    } else {
        let answer = json!({
            "id": "b", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
        })
        .to_string();
        out.write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            )
            .as_bytes(),
        )?;
    }
    out.flush()?;
    counters.answered.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// A documenter that always answers with the built-in draft its prompt carries (which passes
/// the checks), so that every target costs exactly one model request.
pub fn echo_builtin_docstring(request: &Value) -> String {
    let prompt = request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    let symbol = prompt
        .split_once("docstring of `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(s, _)| s)
        .unwrap_or("");
    let draft = prompt
        .rsplit_once("to improve on (keep its structure, write real descriptions):\n")
        .map(|(_, d)| d.trim_end())
        .unwrap_or("");
    json!({"docstrings": [{"symbol": symbol, "docstring": draft}]}).to_string()
}
