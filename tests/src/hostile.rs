//! Helpers for the hostile-input and security tests: the requests an editor sends about one
//! document, the server's peak memory, and a workspace of planted secrets.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::LspClient;

/// The answers the server gave about one document, each a whole response (`result` or
/// `error`), and how long they took together.
#[derive(Debug)]
pub struct Answers {
    pub symbols: Value,
    pub code_actions: Value,
    pub call_hierarchy: Value,
    pub document: Value,
    pub elapsed: Duration,
}

impl Answers {
    /// Every answer, labelled, for assertions over all of them.
    pub fn all(&self) -> [(&'static str, &Value); 4] {
        [
            ("documentSymbol", &self.symbols),
            ("codeAction", &self.code_actions),
            ("prepareCallHierarchy", &self.call_hierarchy),
            ("tandem.document", &self.document),
        ]
    }
}

/// A range from the start of the document to a place far past its end.
pub fn huge_range() -> Value {
    json!({"start": {"line": 0, "character": 0}, "end": {"line": 4_000_000_000u32, "character": 4_000_000_000u32}})
}

/// Sends the requests an editor sends about `uri` (documentSymbol, codeAction over a range
/// reaching far past the end, prepareCallHierarchy at `position`, the `tandem.document`
/// command) and returns the answers.
pub fn ask_everything(client: &mut LspClient, uri: &str, position: Value) -> Answers {
    let started = Instant::now();
    let doc = json!({"uri": uri});
    let symbols = client.request("textDocument/documentSymbol", json!({"textDocument": doc}));
    let code_actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": doc, "range": huge_range(), "context": {"diagnostics": []}}),
    );
    let call_hierarchy = client.request(
        "textDocument/prepareCallHierarchy",
        json!({"textDocument": doc, "position": position}),
    );
    let document = client.request(
        "workspace/executeCommand",
        json!({"command": "tandem.document", "arguments": [{"uri": uri, "range": huge_range()}]}),
    );
    Answers {
        symbols,
        code_actions,
        call_hierarchy,
        document,
        elapsed: started.elapsed(),
    }
}

/// Whether a response is a clear answer: a result, or an error with a code other than
/// "internal error" (a caught panic) and a non-empty message.
pub fn is_clear_answer(response: &Value) -> bool {
    if response.get("result").is_some() {
        return true;
    }
    let error = &response["error"];
    error["code"].as_i64().is_some_and(|c| c != -32603)
        && error["message"].as_str().is_some_and(|m| !m.is_empty())
}

/// The peak resident memory of a process in kibibytes (`VmHWM`), on Linux.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Writes `bytes` to `root/relative`, creating folders.
pub fn write(root: &Path, relative: &str, bytes: impl AsRef<[u8]>) {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}
