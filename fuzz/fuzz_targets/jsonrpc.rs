//! The whole language server in process, on hostile input: bytes go through the real transport
//! (`lsp::transport`: framing, malformed frames answered), tower-lsp-server, the panic guard and
//! the handlers, exactly as `tandem serve` runs them (`lsp::serve_on` on in-memory pipes).
//!
//! The input is a mix of raw bytes, frames of arbitrary bytes, arbitrary JSON-RPC messages and
//! well-shaped LSP messages on a few documents (open, change with ranges anywhere, close,
//! document symbols, code actions, call hierarchy, cancel, shutdown, exit), after an
//! `initialize` most of the time. Checked: no panic escapes (libFuzzer sees any), the session
//! ends within 20 s of the input's end (no hang), and every request read before `exit` gets a
//! response with its id (malformed frames with a usable id included).
//!
//! So that fuzzing cannot touch the machine, `workspace/executeCommand` (documentation, plans,
//! runs: model calls and file writes) is renamed to an unknown method, and the workspace
//! folders of `initialize` are removed (no project scan of the disk). Everything else is passed
//! through as the fuzzer wrote it.
#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tandem::lsp::transport::{check_message, encode_frame, read_frame, Frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};

#[derive(Debug, Arbitrary)]
struct Input {
    /// 0: no `initialize`; otherwise offer UTF-8 (odd) or only UTF-16 (even).
    init: u8,
    messages: Vec<Msg>,
}

#[derive(Debug, Arbitrary)]
enum Msg {
    Raw(Vec<u8>),
    Frame(Vec<u8>),
    Json {
        id: Option<Id>,
        method: Method,
        params: Option<J>,
    },
    Response {
        id: Id,
        error: bool,
        value: J,
    },
    Open {
        doc: u8,
        version: i32,
        text: String,
    },
    Change {
        doc: u8,
        version: i32,
        full: Option<String>,
        ranges: Vec<(u8, u8, u8, u8, String)>,
    },
    Close {
        doc: u8,
    },
    Symbols {
        id: u16,
        doc: u8,
    },
    CodeAction {
        id: u16,
        doc: u8,
        range: (u8, u8, u8, u8),
    },
    CallHierarchy {
        id: u16,
        doc: u8,
        line: u8,
        character: u8,
        direction: u8,
    },
    Cancel {
        id: u16,
    },
    Shutdown {
        id: u16,
    },
    Exit,
}

#[derive(Debug, Arbitrary)]
enum Id {
    Num(i64),
    Str(String),
    Other(J),
}

#[derive(Debug, Arbitrary)]
enum Method {
    Known(u8),
    Raw(String),
}

const METHODS: &[&str] = &[
    "initialize",
    "initialized",
    "shutdown",
    "exit",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didSave",
    "textDocument/didClose",
    "textDocument/documentSymbol",
    "textDocument/codeAction",
    "textDocument/prepareCallHierarchy",
    "callHierarchy/incomingCalls",
    "callHierarchy/outgoingCalls",
    "workspace/didChangeConfiguration",
    "workspace/didChangeWatchedFiles",
    "window/workDoneProgress/cancel",
    "$/cancelRequest",
    "$/setTrace",
    "textDocument/hover",
    "codeAction/resolve",
];

#[derive(Debug, Arbitrary)]
enum J {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn value(&self) -> Value {
        match self {
            J::Null => Value::Null,
            J::Bool(b) => json!(b),
            J::Int(i) => json!(i),
            J::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            J::Str(s) => json!(s),
            J::Arr(items) => Value::Array(items.iter().map(J::value).collect()),
            J::Obj(fields) => {
                Value::Object(fields.iter().map(|(k, v)| (k.clone(), v.value())).collect())
            }
        }
    }
}

fn uri(doc: u8) -> String {
    format!("file:///fuzz/doc{}.py", doc % 3)
}

fn pos(line: u8, character: u8) -> Value {
    json!({"line": line, "character": character})
}

fn message(msg: &Msg) -> Vec<u8> {
    let value = match msg {
        Msg::Raw(bytes) => return bytes.clone(),
        Msg::Frame(body) => return encode_frame(body),
        Msg::Json { id, method, params } => {
            let mut m = json!({"jsonrpc": "2.0"});
            m["method"] = match method {
                Method::Known(k) => json!(METHODS[*k as usize % METHODS.len()]),
                Method::Raw(s) => json!(s),
            };
            if let Some(id) = id {
                m["id"] = match id {
                    Id::Num(n) => json!(n),
                    Id::Str(s) => json!(s),
                    Id::Other(j) => j.value(),
                };
            }
            if let Some(p) = params {
                m["params"] = p.value();
            }
            m
        }
        Msg::Response { id, error, value } => {
            let id = match id {
                Id::Num(n) => json!(n),
                Id::Str(s) => json!(s),
                Id::Other(j) => j.value(),
            };
            if *error {
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32603, "message": "x", "data": value.value()}})
            } else {
                json!({"jsonrpc": "2.0", "id": id, "result": value.value()})
            }
        }
        Msg::Open { doc, version, text } => {
            json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": uri(*doc), "languageId": "python", "version": version, "text": text}}})
        }
        Msg::Change {
            doc,
            version,
            full,
            ranges,
        } => {
            let mut changes: Vec<Value> = ranges
                .iter()
                .take(8)
                .map(|(a, b, c, d, t)| json!({"range": {"start": pos(*a, *b), "end": pos(*c, *d)}, "text": t}))
                .collect();
            if let Some(full) = full {
                changes.insert(0, json!({"text": full}));
            }
            json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
                "params": {"textDocument": {"uri": uri(*doc), "version": version}, "contentChanges": changes}})
        }
        Msg::Close { doc } => json!({"jsonrpc": "2.0", "method": "textDocument/didClose",
            "params": {"textDocument": {"uri": uri(*doc)}}}),
        Msg::Symbols { id, doc } => {
            json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/documentSymbol",
            "params": {"textDocument": {"uri": uri(*doc)}}})
        }
        Msg::CodeAction {
            id,
            doc,
            range: (a, b, c, d),
        } => json!({"jsonrpc": "2.0", "id": id,
            "method": "textDocument/codeAction", "params": {"textDocument": {"uri": uri(*doc)},
            "range": {"start": pos(*a, *b), "end": pos(*c, *d)}, "context": {"diagnostics": []}}}),
        Msg::CallHierarchy {
            id,
            doc,
            line,
            character,
            direction,
        } => {
            let at = pos(*line, *character);
            let item = json!({"name": "f", "kind": 12, "uri": uri(*doc),
                "range": {"start": at, "end": at}, "selectionRange": {"start": at, "end": at},
                "data": "fuzz.f"});
            match direction % 3 {
                0 => {
                    json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/prepareCallHierarchy",
                    "params": {"textDocument": {"uri": uri(*doc)}, "position": at}})
                }
                1 => {
                    json!({"jsonrpc": "2.0", "id": id, "method": "callHierarchy/incomingCalls", "params": {"item": item}})
                }
                _ => {
                    json!({"jsonrpc": "2.0", "id": id, "method": "callHierarchy/outgoingCalls", "params": {"item": item}})
                }
            }
        }
        Msg::Cancel { id } => {
            json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": id}})
        }
        Msg::Shutdown { id } => json!({"jsonrpc": "2.0", "id": id, "method": "shutdown"}),
        Msg::Exit => json!({"jsonrpc": "2.0", "method": "exit"}),
    };
    encode_frame(value.to_string().as_bytes())
}

/// Renames what could reach the disk or the network and drops the workspace folders; every
/// other byte is passed through unchanged.
fn sanitize(body: &[u8]) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object_mut()?;
    match object.get("method").and_then(Value::as_str) {
        Some("workspace/executeCommand") => {
            object.insert("method".into(), json!("tandem/fuzzDenied"));
        }
        Some("initialize") => {
            let params = object.get_mut("params")?.as_object_mut()?;
            for key in ["rootUri", "rootPath", "workspaceFolders"] {
                params.remove(key);
            }
        }
        _ => return None,
    }
    Some(value.to_string().into_bytes())
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Splits `raw` into frames as the transport will, sanitising bodies; returns the bytes to send
/// and the ids that must be answered.
async fn prepare(raw: &[u8]) -> (Vec<u8>, Vec<Value>) {
    let mut out = Vec::new();
    let mut expected = Vec::new();
    let mut reader = BufReader::new(raw);
    let mut consumed = 0;
    loop {
        let frame = read_frame(&mut reader).await;
        let left = reader.get_ref().len() + reader.buffer().len();
        let this = &raw[consumed..raw.len() - left];
        consumed = raw.len() - left;
        let frame = match frame {
            Ok(Some(frame)) => frame,
            _ => {
                out.extend_from_slice(this);
                break;
            }
        };
        let body = match frame {
            Frame::BadHeader(_) => {
                out.extend_from_slice(this);
                continue;
            }
            Frame::Body(body) => match sanitize(&body) {
                Some(clean) => {
                    out.extend_from_slice(&encode_frame(&clean));
                    clean
                }
                None => {
                    out.extend_from_slice(this);
                    body
                }
            },
        };
        match check_message(&body) {
            Err(answer) => {
                if !answer["id"].is_null() {
                    expected.push(answer["id"].clone());
                }
            }
            Ok(()) => {
                let value: Value = serde_json::from_slice(&body).unwrap();
                if value["method"] == "exit" {
                    // The server reads nothing after `exit`.
                    break;
                }
                if value.get("method").is_some() && !value["id"].is_null() {
                    expected.push(value["id"].clone());
                }
            }
        }
    }
    (out, expected)
}

async fn session(raw: Vec<u8>) {
    let (bytes, expected) = prepare(&raw).await;
    if let Some(path) = std::env::var_os("TANDEM_FUZZ_DUMP") {
        // To look at a failing input: the bytes the server is sent.
        std::fs::write(path, &bytes).unwrap();
    }
    let (mut client_in, server_in) = tokio::io::duplex(1 << 16);
    let (server_out, mut client_out) = tokio::io::duplex(1 << 16);
    let writer = tokio::spawn(async move {
        let _ = client_in.write_all(&bytes).await;
        let _ = client_in.shutdown().await;
        // Keep the pipe open until the server is done, like an editor that never closes stdin.
        client_in
    });
    let reader = tokio::spawn(async move {
        let mut output = Vec::new();
        let _ = client_out.read_to_end(&mut output).await;
        output
    });
    tokio::time::timeout(
        Duration::from_secs(20),
        tandem::lsp::serve_on(server_in, server_out),
    )
    .await
    .expect("the server did not finish within 20 s of the end of its input");
    let output = tokio::time::timeout(Duration::from_secs(20), reader)
        .await
        .expect("the server's output did not end")
        .unwrap();
    drop(writer.await);

    // serde_json reads floats to within one unit in the last place, so a fractional id (not a
    // valid LSP id, but it must still be echoed) is compared by its first 12 digits.
    let key = |id: &Value| match id.as_f64() {
        Some(f) if !id.is_i64() && !id.is_u64() => format!("{f:.12e}"),
        _ => id.to_string(),
    };
    let mut answered = HashSet::new();
    let mut frames = BufReader::new(&output[..]);
    while let Ok(Some(frame)) = read_frame(&mut frames).await {
        let Frame::Body(body) = frame else {
            panic!("the server wrote a bad header");
        };
        let value: Value = serde_json::from_slice(&body).expect("the server wrote bad JSON");
        if value.get("method").is_none() {
            answered.insert(key(&value["id"]));
        }
    }
    for id in expected {
        assert!(
            answered.contains(&key(&id)),
            "request {id} got no answer; answered: {answered:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    // A recorded LSP session (the seeds) is sent as it is; anything else is read as structure.
    if data.starts_with(b"Content-Length") {
        runtime().block_on(session(data.to_vec()));
        return;
    }
    let Ok(input) = Input::arbitrary_take_rest(arbitrary::Unstructured::new(data)) else {
        return;
    };
    let mut raw = Vec::new();
    if input.init != 0 {
        let encodings = if input.init % 2 == 1 {
            json!(["utf-8", "utf-16"])
        } else {
            json!(["utf-16"])
        };
        let init = json!({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
            "capabilities": {"general": {"positionEncodings": encodings}}}});
        raw.extend(encode_frame(init.to_string().as_bytes()));
        raw.extend(encode_frame(
            br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        ));
    }
    for msg in input.messages.iter().take(64) {
        raw.extend(message(msg));
    }
    runtime().block_on(session(raw));
});
