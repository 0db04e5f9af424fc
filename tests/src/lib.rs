//! Helpers for end-to-end tests: find (or build) the real `tandem` binary and talk to it over
//! stdio as an editor would.
//!
//! `CARGO_BIN_EXE_tandem` exists only inside the `tandem` package, so this crate looks for the
//! binary next to its own test executable (`target/<profile>/tandem`, which `cargo test
//! --workspace` builds because the `tandem` package has integration tests). If it is missing or
//! older than the server's sources, it is built into `target/e2e-bin` with the same cargo
//! (a separate target directory, because the outer cargo holds the lock on the main one).
//! `TANDEM_BIN` overrides all of this.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

pub mod faults;
pub mod hostile;
pub mod mock;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

pub fn examples_shop() -> PathBuf {
    workspace_root().join("examples/shop")
}

fn newest_mtime(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(m) = entry.metadata().and_then(|m| m.modified()) {
                newest = newest.max(m);
            }
        }
    }
    newest
}

/// The path of the `tandem` binary to test.
pub fn tandem_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(path) = std::env::var("TANDEM_BIN") {
            return PathBuf::from(path);
        }
        let exe_name = format!("tandem{}", std::env::consts::EXE_SUFFIX);
        let root = workspace_root();
        let sources = newest_mtime(&root.join("server/src"))
            .max(newest_mtime(&root.join("server/Cargo.toml")));
        // target/<profile>/deps/<test-exe> -> target/<profile>/tandem
        let beside = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent()?.parent().map(|p| p.join(&exe_name)));
        if let Some(bin) = beside {
            let fresh = bin
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|m| m >= sources);
            if fresh {
                return bin;
            }
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let target_dir = root.join("target/e2e-bin");
        let status = Command::new(cargo)
            .args(["build", "-p", "tandem", "--bin", "tandem", "--target-dir"])
            .arg(&target_dir)
            .current_dir(&root)
            .status()
            .expect("cannot run cargo to build tandem");
        assert!(status.success(), "building tandem failed");
        target_dir.join("debug").join(exe_name)
    })
    .clone()
}

/// A running `tandem serve` and the client half of its stdio.
pub struct LspClient {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    /// Notifications and requests from the server not yet taken by a test.
    pub inbox: VecDeque<Value>,
    next_id: i64,
    pub stderr: Arc<Mutex<String>>,
}

pub const TIMEOUT: Duration = Duration::from_secs(20);

impl LspClient {
    /// Starts the server with `dir` as working directory and extra environment.
    pub fn start_in(dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_with(dir, &[], env)
    }

    /// Starts the server with global options before `serve` (such as `--log-file FILE`).
    pub fn start_with(dir: &Path, options: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(tandem_binary());
        command
            .args(options)
            .arg("serve")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("cannot start tandem serve");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(body) = read_frame(&mut reader) {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    Err(e) => panic!(
                        "server wrote invalid JSON: {e}: {}",
                        String::from_utf8_lossy(&body)
                    ),
                }
            }
        });
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        LspClient {
            child,
            stdin: Some(stdin),
            messages: rx,
            inbox: VecDeque::new(),
            next_id: 1,
            stderr: log,
        }
    }

    pub fn start() -> Self {
        Self::start_in(&std::env::temp_dir(), &[])
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).expect("write to server");
        stdin.flush().expect("flush to server");
    }

    pub fn send(&mut self, message: &Value) {
        let body = message.to_string();
        self.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns the whole response message (with `result` or `error`).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(|m| m.get("id") == Some(&json!(id)) && m.get("method").is_none())
    }

    /// Sends `workspace/executeCommand` and waits both for its response and for the
    /// `workspace/applyEdit` the command makes the server send, in whichever order they come:
    /// the server sends the edit from a task of its own, which may run before the command's
    /// response is written, and `request` would answer an edit that came first with null.
    /// Returns (response, edit request); the edit is left for the caller to answer.
    pub fn execute_until_edit(&mut self, params: Value) -> (Value, Value) {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": "workspace/executeCommand", "params": params}));
        let is_response = |m: &Value| m.get("id") == Some(&json!(id)) && m.get("method").is_none();
        let is_edit = |m: &Value| m["method"] == "workspace/applyEdit";
        let first = self.wait_for(|m| is_response(m) || is_edit(m));
        if is_edit(&first) {
            (self.wait_for(is_response), first)
        } else {
            (first, self.wait_for(is_edit))
        }
    }

    /// Waits for a message matching `pred` (a matching request from the server is left for the
    /// caller to answer); other messages go to the inbox, and other requests from the server are
    /// answered with a null result.
    pub fn wait_for(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for_within(TIMEOUT, pred)
    }

    /// `wait_for` with its own timeout, for what may take longer than `TIMEOUT` on a loaded
    /// machine.
    pub fn wait_for_within(&mut self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.inbox.iter().position(&pred) {
            return self.inbox.remove(i).expect("index is valid");
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) => {
                    if pred(&message) {
                        return message;
                    }
                    if message.get("method").is_some() && message.get("id").is_some() {
                        let id = message["id"].clone();
                        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
                    }
                    self.inbox.push_back(message);
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no matching message within {timeout:?}; inbox: {:?}; stderr: {}",
                    self.inbox,
                    self.stderr.lock().unwrap()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "server closed its output; stderr: {}",
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    /// The next message from the server within `timeout` (the inbox first), answering nothing:
    /// for callers that run their own loop and answer the server's requests themselves.
    pub fn next_message(&mut self, timeout: Duration) -> Option<Value> {
        if let Some(message) = self.inbox.pop_front() {
            return Some(message);
        }
        match self.messages.recv_timeout(timeout) {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!(
                "server closed its output; stderr: {}",
                self.stderr.lock().unwrap()
            ),
        }
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A fresh id for a request the caller sends with `send` and waits for itself.
    pub fn next_request_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// `initialize` with the given client capabilities and options, then `initialized`.
    pub fn initialize(
        &mut self,
        capabilities: Value,
        root: Option<&Path>,
        options: Value,
    ) -> Value {
        let root_uri = root.map(file_uri);
        let folders = root_uri
            .as_ref()
            .map(|u| json!([{"uri": u, "name": "root"}]));
        let response = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "workspaceFolders": folders,
                "capabilities": capabilities,
                "initializationOptions": options,
                "clientInfo": {"name": "tandem-e2e"}
            }),
        );
        assert!(
            response.get("result").is_some(),
            "initialize failed: {response}"
        );
        self.notify("initialized", json!({}));
        response
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        );
    }

    /// `shutdown` then `exit`; returns the process's exit status.
    pub fn shutdown_and_exit(mut self) -> ExitStatus {
        let response = self.request("shutdown", Value::Null);
        assert!(
            response.get("error").is_none(),
            "shutdown failed: {response}"
        );
        self.notify("exit", Value::Null);
        self.wait_exit()
    }

    pub fn wait_exit(mut self) -> ExitStatus {
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for tandem") {
                return status;
            }
            assert!(Instant::now() < deadline, "tandem did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_frame(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

pub fn file_uri(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", path.display())
}

/// A reference implementation of LSP positions, independent of the server's: the client side
/// of the edit tests. Lines end at `\n`, `\r\n` or `\r`.
pub fn lsp_position(text: &str, offset: usize, utf16: bool) -> (u32, u32) {
    let before = &text[..offset];
    let mut line = 0u32;
    let mut line_start = 0usize;
    let bytes = before.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'\r' => {
                if i + 1 < text.len() && text.as_bytes()[i + 1] == b'\n' {
                    // The `\n` that follows ends the line.
                } else {
                    line += 1;
                    line_start = i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let segment = &text[line_start..offset];
    let character = if utf16 {
        segment.encode_utf16().count()
    } else {
        segment.len()
    };
    (line, character as u32)
}

/// A small deterministic random generator (xorshift64*), so failures replay exactly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}
