//! Helpers for the hostile-input and security tests: the requests an editor sends about one
//! document, the server's peak memory, the CPU time of a command, and a workspace of planted
//! secrets.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
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

/// Runs `command` to its end like `Command::output` (no input), and also returns the CPU time
/// (user and system, all its threads) it used: unlike the time on the clock, that does not grow
/// when other programs load the machine, so a bound on it is not flaky. Read from
/// `/proc/<pid>/stat` once the process has exited but is not yet reaped; `None` where there is
/// no `/proc`.
pub fn output_with_cpu_time(command: &mut Command) -> (Output, Option<Duration>) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start the command");
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let stat = format!("/proc/{}/stat", child.id());
    let cpu = loop {
        let Ok(line) = std::fs::read_to_string(&stat) else {
            break None;
        };
        // The fields after the command name (in parentheses, it may hold spaces): the state
        // (field 3) first, utime and stime (fields 14 and 15) eleven and twelve later.
        let fields: Vec<&str> = line
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        if fields.first() == Some(&"Z") {
            let ticks: u64 = fields[11..13]
                .iter()
                .filter_map(|f| f.parse::<u64>().ok())
                .sum();
            // In clock ticks of USER_HZ, which Linux fixes at 100 per second for user space.
            break Some(Duration::from_millis(ticks * 10));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let status = child.wait().expect("wait for the command");
    let output = Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    (output, cpu)
}

/// Writes `bytes` to `root/relative`, creating folders.
pub fn write(root: &Path, relative: &str, bytes: impl AsRef<[u8]>) {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}
