//! Helpers for the fault and crash tests (`tests/tests/faults.rs`, `tests/tests/crash.rs`):
//! a model server on loopback that misbehaves in ways wiremock cannot play (a stall after the
//! headers, a reset in the middle of a stream, bytes that are not HTTP, a gigabyte streamed),
//! a workspace with a plan and a 5,000-line Python file, and an editor probe that measures
//! `documentSymbol` and `codeAction` while a run is failing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::{file_uri, tandem_binary, LspClient};

/// How the model server misbehaves, on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Reads the request and never answers (the connection stays open).
    Stall,
    /// Answers `200` with `text/event-stream` headers, then sends nothing more.
    StallAfterHeaders,
    /// Streams the start of an answer, then resets the connection (TCP RST).
    ResetMidStream,
    /// `429` (with `Retry-After: 0`) and `500` by turns.
    StatusStorm,
    /// Bytes that are not HTTP at all.
    Garbage,
    /// `200 application/json` whose body is not JSON.
    GarbageBody,
    /// A streamed answer of this many bytes, generated as it is sent (never buffered).
    Flood(u64),
}

/// A model server on loopback playing one `Fault`. Dropping it stops it and closes its
/// connections.
pub struct FaultServer {
    pub url: String,
    requests: Arc<AtomicUsize>,
    sent: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultServer {
    /// Starts the server on the current tokio runtime.
    pub async fn start(fault: Fault) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(AtomicU64::new(0));
        let (r, s) = (requests.clone(), sent.clone());
        let task = tokio::spawn(async move {
            // Dropped with the accept loop, which aborts every connection still open.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let (r, s) = (r.clone(), s.clone());
                connections.spawn(async move {
                    let _ = serve(stream, fault, &r, &s).await;
                });
            }
        });
        FaultServer {
            url,
            requests,
            sent,
            task,
        }
    }

    /// Requests read so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Response bytes written so far (what the client accepted into its socket).
    pub fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one HTTP request (headers and `Content-Length` body); false at end of input.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<bool> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(false);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let headers = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let length: usize = headers
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - header_end;
    while have < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(false);
        }
        have += n;
    }
    Ok(true)
}

/// One streamed event carrying `text`, in the OpenAI chat format.
fn delta_event(text: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
    )
}

const STREAM_HEADERS: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";

async fn write_counted(
    stream: &mut TcpStream,
    bytes: &[u8],
    sent: &AtomicU64,
) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await?;
    sent.fetch_add(bytes.len() as u64, Ordering::SeqCst);
    Ok(())
}

async fn serve(
    mut stream: TcpStream,
    fault: Fault,
    requests: &AtomicUsize,
    sent: &AtomicU64,
) -> std::io::Result<()> {
    if !read_request(&mut stream).await? {
        return Ok(());
    }
    let n = requests.fetch_add(1, Ordering::SeqCst);
    match fault {
        Fault::Stall => {
            // Hold the connection until the client gives up (or the server is dropped).
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
        }
        Fault::StallAfterHeaders => {
            write_counted(&mut stream, STREAM_HEADERS.as_bytes(), sent).await?;
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
        }
        Fault::ResetMidStream => {
            write_counted(&mut stream, STREAM_HEADERS.as_bytes(), sent).await?;
            let start = format!(
                "{}{}",
                delta_event("{\"operations\": [{\"op\": \"replace_symbol\", "),
                delta_event(
                    "\"path\": \"cart.py\", \"symbol\": \"Cart.add\", \"content\": \"def add("
                )
            );
            write_counted(&mut stream, start.as_bytes(), sent).await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
            // Closing with a zero linger sends RST instead of FIN.
            stream.set_zero_linger()?;
            drop(stream);
        }
        Fault::StatusStorm => {
            let (status, extra, message) = if n.is_multiple_of(2) {
                (
                    "429 Too Many Requests",
                    "retry-after: 0\r\n",
                    "slow down, rate limit",
                )
            } else {
                ("500 Internal Server Error", "", "the backend fell over")
            };
            let body = json!({"error": {"message": message}}).to_string();
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            write_counted(&mut stream, response.as_bytes(), sent).await?;
        }
        Fault::Garbage => {
            let mut rng = crate::Rng::new(0x9e37_79b9 + n as u64);
            let bytes: Vec<u8> = (0..4096).map(|_| rng.next_u64() as u8).collect();
            write_counted(&mut stream, &bytes, sent).await?;
        }
        Fault::GarbageBody => {
            let mut rng = crate::Rng::new(0x51ed_270b + n as u64);
            let body: Vec<u8> = (0..2048).map(|_| rng.next_u64() as u8).collect();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            write_counted(&mut stream, head.as_bytes(), sent).await?;
            write_counted(&mut stream, &body, sent).await?;
        }
        Fault::Flood(total) => {
            write_counted(&mut stream, STREAM_HEADERS.as_bytes(), sent).await?;
            // One 64 KiB block of events, sent again and again: the gigabyte is never held.
            let event = delta_event(&"x".repeat(960));
            let block = event.repeat((64 * 1024) / event.len());
            let mut written = 0u64;
            while written < total {
                write_counted(&mut stream, block.as_bytes(), sent).await?;
                written += block.len() as u64;
            }
            write_counted(&mut stream, b"data: [DONE]\n\n", sent).await?;
        }
    }
    Ok(())
}

/// The cart module the fault tests' plan changes.
pub const CART_PY: &str = "class Cart:\n    \"\"\"Lines of a cart.\"\"\"\n\n    def __init__(self):\n        self.lines = {}\n\n    def add(self, sku, qty=1):\n        \"\"\"Adds `qty` of `sku`.\"\"\"\n        self.lines[sku] = self.lines.get(sku, 0) + qty\n        return self.lines[sku]\n";

/// What the coder answers for the plan's one item (a valid edit of `Cart.add`).
pub const CART_ADD_FIXED: &str = "def add(self, sku, qty=1):\n    \"\"\"Adds `qty` of `sku`.\"\"\"\n    if qty <= 0:\n        raise ValueError(qty)\n    self.lines[sku] = self.lines.get(sku, 0) + qty\n    return self.lines[sku]\n";

/// A one-item plan `f1` on `cart.py`.
pub const FAULT_PLAN: &str = "# Plan `f1`\n\n## Request\n\nRefuse bad quantities\n\n## Summary\n\nRefuse quantities below one.\n\n\
## Estimate\n\n**small**: 1 item, 1 file, 4 lines of existing code touched, cyclomatic complexity 1; up to 2 attempts per item\n\n\
Planner: `plan`\n\n## Items\n\n\
- [x] **s1** modify `cart.py` — Refuse bad quantities\n  - symbols: `cart.Cart.add`\n  - depends on: none\n\n  Raise `ValueError` for quantities below one in `Cart.add`.\n";

/// A Python module of about `lines` lines: functions with docstrings, branches and calls.
pub fn big_python(lines: usize) -> String {
    let mut out = String::from("\"\"\"A large module for latency probes.\"\"\"\n\n");
    let mut i = 0;
    while out.lines().count() + 10 <= lines {
        out.push_str(&format!(
            "def step_{i}(value, limit=10):\n    \"\"\"Step {i}.\"\"\"\n    total = value\n    for k in range(limit):\n        if k % 3 == 0:\n            total += k\n        else:\n            total -= 1\n    return step_helper(total, {i})\n\n"
        ));
        i += 1;
    }
    out.push_str("def step_helper(total, n):\n    return total + n\n");
    while out.lines().count() < lines {
        out.push_str("# padding\n");
    }
    out
}

/// The `tandem.toml` of a fault workspace: the coder is the model server at `url`.
pub fn model_config(url: &str, stream: bool, retries: u32, timeout_secs: f64) -> String {
    format!(
        "[models.code]\nprovider = \"openai\"\nbase_url = \"{url}/v1\"\nmodel = \"m\"\n\
         api_key_env = \"TANDEM_E2E_KEY\"\nstream = {stream}\nretries = {retries}\n\
         retry_base_secs = 0.05\nretry_cap_secs = 0.2\ntimeout_secs = {timeout_secs:.1}\n\
         idle_timeout_secs = 1.0\nconnect_timeout_secs = 2.0\n\n\
         [roles]\ncoder = [\"code\"]\n\n[cache]\nenabled = false\n"
    )
}

/// A workspace with `cart.py`, the plan `f1`, a 5,000-line `big.py` and `config`.
pub fn fault_workspace(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let root = dir.path();
    std::fs::write(root.join("cart.py"), CART_PY).expect("write cart.py");
    std::fs::write(root.join("big.py"), big_python(5000)).expect("write big.py");
    std::fs::create_dir_all(root.join(".tandem/plans")).expect("plans folder");
    std::fs::write(root.join(".tandem/plans/f1.md"), FAULT_PLAN).expect("write the plan");
    std::fs::write(root.join("tandem.toml"), config).expect("write tandem.toml");
    dir
}

/// `tandem serve` in `root`, initialized as an editor that applies versioned edits.
pub fn start_editor(root: &Path) -> LspClient {
    let mut client = LspClient::start_in(root, &[("TANDEM_E2E_KEY", "k")]);
    client.initialize(
        json!({
            "workspace": {"workspaceEdit": {"documentChanges": true, "resourceOperations": ["create"]}, "applyEdit": true},
            "window": {"workDoneProgress": true}
        }),
        Some(root),
        Value::Null,
    );
    client
}

/// Latencies of editor requests measured during a fault, by method.
#[derive(Debug, Default, Clone)]
pub struct Latencies(pub Vec<(&'static str, Duration)>);

impl Latencies {
    /// Count, median, p99 and max in milliseconds of each method, on one line.
    pub fn summary(&self) -> String {
        let mut methods: Vec<&str> = self.0.iter().map(|(m, _)| *m).collect();
        methods.sort();
        methods.dedup();
        methods
            .iter()
            .map(|method| {
                let mut sorted: Vec<Duration> = self
                    .0
                    .iter()
                    .filter(|(m, _)| m == method)
                    .map(|(_, d)| *d)
                    .collect();
                sorted.sort();
                let at = |q: usize| sorted[((sorted.len() * q).div_ceil(100)).max(1) - 1];
                format!(
                    "{method} n={} median {:.0} ms p99 {:.0} ms max {:.0} ms",
                    sorted.len(),
                    at(50).as_secs_f64() * 1e3,
                    at(99).as_secs_f64() * 1e3,
                    sorted[sorted.len() - 1].as_secs_f64() * 1e3
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Panics unless every request of each method took less than its bound.
    pub fn assert_below(&self, bounds: &[(&str, Duration)], what: &str) {
        for (method, bound) in bounds {
            let worst = self
                .0
                .iter()
                .filter(|(m, _)| m == method)
                .map(|(_, d)| *d)
                .max();
            let Some(worst) = worst else {
                panic!("{what}: no {method} was measured");
            };
            assert!(
                worst < *bound,
                "{what}: a {method} took {worst:?} (bound {bound:?}); {}",
                self.summary()
            );
        }
    }
}

/// Sends `documentSymbol` and `codeAction` on `uri` once each, checks they answered, and
/// records how long each took. Returns the symbols.
pub fn probe_editor(client: &mut LspClient, uri: &str, latencies: &mut Latencies) -> Value {
    let started = Instant::now();
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    latencies.0.push(("documentSymbol", started.elapsed()));
    assert!(symbols["result"].is_array(), "documentSymbol: {symbols}");
    let range = json!({"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 4}});
    let started = Instant::now();
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": range, "context": {"diagnostics": []}}),
    );
    latencies.0.push(("codeAction", started.elapsed()));
    assert!(
        actions.get("error").is_none(),
        "codeAction failed: {actions}"
    );
    symbols
}

/// Probes the editor on `uri` every 25 ms until a message matching `done` arrives (it may
/// already be in the inbox), for at most `limit`.
pub fn probe_until(
    client: &mut LspClient,
    uri: &str,
    limit: Duration,
    latencies: &mut Latencies,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(i) = client.inbox.iter().position(&done) {
            return client.inbox.remove(i).expect("index is valid");
        }
        assert!(
            Instant::now() < deadline,
            "nothing matched within {limit:?}; inbox: {:?}; stderr: {}",
            client.inbox,
            client.stderr.lock().unwrap()
        );
        probe_editor(client, uri, latencies);
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Whether `m` is the final `window/showMessage` of a run (`run <id>: ...`).
pub fn is_run_message(m: &Value) -> bool {
    m["method"] == "window/showMessage"
        && m["params"]["message"]
            .as_str()
            .is_some_and(|s| s.starts_with("run "))
}

/// The run id at the start of a `run <id>: ...` or `run <id> ...` message.
pub fn run_id_of(message: &str) -> String {
    message
        .strip_prefix("run ")
        .and_then(|s| s.split([':', ' ']).next())
        .unwrap_or_else(|| panic!("no run id in {message:?}"))
        .to_string()
}

/// Runs `tandem ARGS` in `root` with the test key set; its output, or a panic with its
/// stderr if it failed and `must_succeed`.
pub fn tandem_in(root: &Path, args: &[&str], must_succeed: bool) -> std::process::Output {
    let out = Command::new(tandem_binary())
        .args(args)
        .current_dir(root)
        .env("TANDEM_E2E_KEY", "k")
        .output()
        .expect("run tandem");
    assert!(
        !must_succeed || out.status.success(),
        "tandem {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `tandem runs show ID --format json` in `root` (which also recovers runs of dead processes).
pub fn run_details(root: &Path, id: &str) -> Value {
    let out = tandem_in(root, &["runs", "show", id, "--format", "json"], true);
    serde_json::from_slice(&out.stdout).expect("runs show prints JSON")
}

/// The events of one kind in `run_details`.
pub fn run_events<'a>(details: &'a Value, kind: &str) -> Vec<&'a Value> {
    details["events"]
        .as_array()
        .map(|events| events.iter().filter(|e| e["kind"] == kind).collect())
        .unwrap_or_default()
}

/// `tandem runs --format json` in `root`: every run, newest first.
pub fn all_runs(root: &Path) -> Vec<Value> {
    let out = tandem_in(root, &["runs", "--limit", "1000", "--format", "json"], true);
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("runs prints JSON")
        .as_array()
        .cloned()
        .expect("runs --format json prints an array")
}

/// `PRAGMA integrity_check` of the workspace's run database.
pub fn integrity_check(root: &Path) -> String {
    let db = root.join(".tandem/tandem.db");
    let conn = rusqlite::Connection::open(&db).expect("open the run database");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
        .expect("integrity_check")
}

/// How many events of `kind` in the workspace's run database have a payload containing
/// `needle` (e.g. runs recovered from `pending`).
pub fn count_events(root: &Path, kind: &str, needle: &str) -> usize {
    let db = root.join(".tandem/tandem.db");
    let conn = rusqlite::Connection::open(&db).expect("open the run database");
    conn.query_row(
        "SELECT COUNT(*) FROM events WHERE kind = ?1 AND instr(payload, ?2) > 0",
        [kind, needle],
        |r| r.get::<_, i64>(0),
    )
    .expect("count events") as usize
}

/// The open-document URI of a file in `root`.
pub fn uri_in(root: &Path, name: &str) -> String {
    file_uri(&root.join(name))
}

/// Leftover temporary files of the headless writer (`.NAME.tandem-PID-N.tmp`) under `root`.
pub fn writer_temporaries(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != ".tandem" {
                    stack.push(path);
                }
            } else if name.contains(".tandem-") && name.ends_with(".tmp") {
                found.push(path);
            }
        }
    }
    found
}
