//! Editor latency on a 5,000-line file, alone and under load: the release `tandem serve` over
//! stdio; each probe types one character into the file and times `codeAction` and
//! `documentSymbol` at that place and the `publishDiagnostics` for that version (the debounce
//! subtracted). Under load, four "Document file" runs stream their answers from a scripted
//! model server (restarted as they end, so four are always going) and the client types 50
//! edits per second into a second open 5,000-line file, all through the same connection.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tandem_e2e::{file_uri, LspClient};

use crate::editing::generate_module;
use crate::model_server::{echo_builtin_docstring, ModelServer, Script};
use crate::{ms, summarize};

const DEBOUNCE: Duration = Duration::from_millis(150);
const TYPING_GAP: Duration = Duration::from_millis(20);
const AI_RUNS: usize = 4;

/// A place where a space can be typed at the end of a line and deleted again.
struct Spot {
    line: u32,
    len: u32,
    typed: bool,
}

fn spots(text: &str) -> Vec<Spot> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("total = ") && l.is_ascii())
        .map(|(i, l)| Spot {
            line: i as u32,
            len: l.len() as u32,
            typed: false,
        })
        .collect()
}

/// The change that types (or deletes again) a space at the end of `spot`'s line.
fn toggle(spot: &mut Spot) -> Value {
    let change = if spot.typed {
        json!({"range": {"start": {"line": spot.line, "character": spot.len}, "end": {"line": spot.line, "character": spot.len + 1}}, "text": ""})
    } else {
        json!({"range": {"start": {"line": spot.line, "character": spot.len}, "end": {"line": spot.line, "character": spot.len}}, "text": " "})
    };
    spot.typed = !spot.typed;
    change
}

struct Typing {
    uri: String,
    spots: Vec<Spot>,
    next: usize,
    version: i64,
    due: Instant,
    sent: usize,
}

/// The client side: one connection, its own loop, answering the server's requests.
struct Driver {
    client: LspClient,
    typing: Option<Typing>,
    /// Files documented by the load, round robin, and how many runs were asked for / began /
    /// ended.
    ai_files: Vec<String>,
    runs_asked: usize,
    runs_begun: usize,
    runs_ended: usize,
    documenting: HashSet<String>,
    load: bool,
    /// The last `publishDiagnostics` version seen for the probed file, and when.
    probe_uri: String,
    published: Option<(i64, Instant)>,
}

impl Driver {
    /// Handles whatever arrives and types on schedule until `done` says so or `limit` passes.
    fn pump_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&Value) -> bool,
    ) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            self.type_if_due();
            self.keep_runs_going();
            let wait = match &self.typing {
                Some(t) => t.due.saturating_duration_since(Instant::now()),
                None => deadline - now,
            }
            .min(deadline.saturating_duration_since(Instant::now()));
            let Some(message) = self.client.next_message(wait) else {
                continue;
            };
            let at = Instant::now();
            self.handle(&message);
            if done(&message) {
                return Some(at);
            }
        }
    }

    fn type_if_due(&mut self) {
        let Some(t) = self.typing.as_mut() else {
            return;
        };
        if Instant::now() < t.due {
            return;
        }
        let i = t.next % t.spots.len();
        let change = toggle(&mut t.spots[i]);
        if !t.spots[i].typed {
            t.next += 1;
        }
        t.version += 1;
        t.due += TYPING_GAP;
        t.sent += 1;
        let (uri, version) = (t.uri.clone(), t.version);
        self.client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
        );
    }

    fn keep_runs_going(&mut self) {
        if !self.load {
            return;
        }
        let going = self.runs_asked - self.runs_ended;
        for _ in going..AI_RUNS {
            let uri = self.ai_files[self.runs_asked % self.ai_files.len()].clone();
            self.runs_asked += 1;
            let id = self.client.next_request_id();
            self.client.send(&json!({"jsonrpc": "2.0", "id": id, "method": "workspace/executeCommand", "params": {"command": "tandem.document", "arguments": [{"uri": uri}]}}));
        }
    }

    fn handle(&mut self, message: &Value) {
        let method = message["method"].as_str().unwrap_or("");
        if message.get("id").is_some() && !method.is_empty() {
            let result = match method {
                "workspace/applyEdit" => json!({"applied": true}),
                "workspace/configuration" => json!([null]),
                _ => Value::Null,
            };
            let id = message["id"].clone();
            self.client
                .send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
            return;
        }
        match method {
            "$/progress" => {
                let token = message["params"]["token"].to_string();
                let value = &message["params"]["value"];
                match value["kind"].as_str() {
                    Some("begin") if value["title"] == "Documenting" => {
                        self.runs_begun += 1;
                        self.documenting.insert(token);
                    }
                    Some("end") if self.documenting.remove(&token) => self.runs_ended += 1,
                    _ => {}
                }
            }
            "window/showMessage" => {
                // A run that ended without progress (refused at once) counts as ended.
                let text = message["params"]["message"].as_str().unwrap_or("");
                if text.contains("ocument") && self.runs_asked > self.runs_begun + self.runs_ended {
                    self.runs_ended += 1;
                }
            }
            "textDocument/publishDiagnostics"
                if message["params"]["uri"] == self.probe_uri.as_str() =>
            {
                if let Some(v) = message["params"]["version"].as_i64() {
                    self.published = Some((v, Instant::now()));
                }
            }
            _ => {}
        }
    }

    /// Sends a request and waits for its answer while the loop goes on; the time it took.
    fn timed_request(&mut self, method: &str, params: Value) -> Duration {
        let id = self.client.next_request_id();
        let sent = Instant::now();
        self.client
            .send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let at = self
            .pump_until(Duration::from_secs(30), |m| {
                m.get("id") == Some(&json!(id)) && m.get("method").is_none()
            })
            .unwrap_or_else(|| panic!("no answer to {method} within 30 s"));
        at - sent
    }
}

struct Samples {
    /// CPU time the server used during the probes (all threads).
    server_cpu: Duration,
    diagnostics: Vec<Duration>,
    code_action: Vec<Duration>,
    symbols: Vec<Duration>,
}

/// The probed file's typing places and its current version.
struct Probe {
    spots: Vec<Spot>,
    version: i64,
}

/// CPU time (user + system, all threads) the process `pid` has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_nanos(ticks * 1_000_000_000 / hz)
}

fn measure(driver: &mut Driver, probes: usize, probe: &mut Probe) -> Samples {
    let cpu_before = cpu_time(driver.client.pid());
    let spots = &mut probe.spots;
    let mut samples = Samples {
        server_cpu: Duration::ZERO,
        diagnostics: Vec::new(),
        code_action: Vec::new(),
        symbols: Vec::new(),
    };
    let uri = driver.probe_uri.clone();
    for k in 0..probes {
        let i = (k * 7919) % spots.len();
        let change = toggle(&mut spots[i]);
        let line = spots[i].line;
        probe.version += 1;
        let version = probe.version;
        driver.client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
        );
        let edited = Instant::now();
        samples.code_action.push(driver.timed_request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 4}}, "context": {"diagnostics": []}}),
        ));
        samples.symbols.push(driver.timed_request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        ));
        let at = loop {
            if let Some((v, at)) = driver.published {
                if v == version {
                    break at;
                }
            }
            let probe_uri = uri.clone();
            driver
                .pump_until(Duration::from_secs(30), |m| {
                    m["method"] == "textDocument/publishDiagnostics"
                        && m["params"]["uri"] == probe_uri.as_str()
                        && m["params"]["version"] == json!(version)
                })
                .unwrap_or_else(|| panic!("no diagnostics for version {version} within 30 s"));
        };
        samples
            .diagnostics
            .push((at - edited).saturating_sub(DEBOUNCE));
        driver.pump_until(Duration::from_millis(50), |_| false);
    }
    samples.server_cpu = cpu_time(driver.client.pid()).saturating_sub(cpu_before);
    samples
}

fn setup(dir: &Path, server: &ModelServer) -> (String, String, Vec<String>) {
    let big = generate_module(5000);
    std::fs::write(dir.join("big.py"), &big).expect("write big.py");
    std::fs::write(dir.join("typing_target.py"), &big).expect("write typing_target.py");
    let mut ai = Vec::new();
    for k in 0..AI_RUNS {
        let name = format!("pipeline_{k}.py");
        std::fs::write(
            dir.join(&name),
            crate::docfile::generate_calling_module(300),
        )
        .expect("write a pipeline module");
        ai.push(name);
    }
    std::fs::write(
        dir.join("tandem.toml"),
        format!(
            "[models.doc]\nprovider = \"openai\"\nbase_url = \"{}\"\nmodel = \"m\"\napi_key_env = \"TANDEM_BENCH_KEY\"\nstream = true\nretries = 0\ntimeout_secs = 60.0\ncontext_tokens = 65536\n\n[roles]\ndocumenter = [\"doc\"]\n\n[cache]\nenabled = false\n\n[docs]\nconcurrency = 2\nstyle = \"google\"\n",
            server.base_url
        ),
    )
    .expect("write tandem.toml");
    (big, file_uri(&dir.join("big.py")), ai)
}

fn row(what: &str, samples: Vec<Duration>, target: &str) -> (String, Duration) {
    let s = summarize(samples);
    (
        format!(
            "| {what} | {} | {} | {} | {} | {target} |",
            s.n,
            ms(s.p50),
            ms(s.p99),
            ms(s.max)
        ),
        s.p99,
    )
}

pub fn run(args: &[String]) {
    let probes = crate::flag(args, "--probes")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100usize);
    let Some(tandem) = crate::tandem_binary() else {
        return;
    };
    std::env::set_var("TANDEM_BIN", &tandem);
    let server = ModelServer::start(Script {
        delay: Duration::from_millis(50),
        chunks: 20,
        chunk_gap: Duration::from_millis(25),
        answer: Arc::new(echo_builtin_docstring),
    });
    let dir = std::env::temp_dir().join(format!("tandem-bench-latency-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (big, big_uri, ai) = setup(&dir, &server);

    let mut client = LspClient::start_in(&dir, &[("TANDEM_BENCH_KEY", "bench")]);
    client.initialize(
        json!({"window": {"workDoneProgress": true}, "workspace": {"applyEdit": true, "workspaceEdit": {"documentChanges": true}}, "general": {"positionEncodings": ["utf-16"]}}),
        Some(&dir),
        Value::Null,
    );
    client.open(&big_uri, &big);
    let typing_uri = file_uri(&dir.join("typing_target.py"));
    client.open(&typing_uri, &big);
    let ai_uris: Vec<String> = ai.iter().map(|n| file_uri(&dir.join(n))).collect();
    for (uri, name) in ai_uris.iter().zip(&ai) {
        let text = std::fs::read_to_string(dir.join(name)).expect("read a pipeline module");
        client.open(uri, &text);
    }
    let mut driver = Driver {
        client,
        typing: None,
        ai_files: ai_uris,
        runs_asked: 0,
        runs_begun: 0,
        runs_ended: 0,
        documenting: HashSet::new(),
        load: false,
        probe_uri: big_uri.clone(),
        published: None,
    };
    // The first diagnostics of the file (and the cold index) before measuring.
    driver
        .pump_until(Duration::from_secs(60), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == big_uri.as_str()
        })
        .expect("first diagnostics of big.py");
    driver.pump_until(Duration::from_secs(2), |_| false);
    let mut probe = Probe {
        spots: spots(&big),
        version: 1,
    };
    let alone = measure(&mut driver, probes, &mut probe);

    // Under load: start the runs and the typing, let them get going, then measure again.
    driver.load = true;
    driver.typing = Some(Typing {
        uri: typing_uri,
        spots: spots(&big),
        next: 0,
        version: 1,
        due: Instant::now(),
        sent: 0,
    });
    driver.pump_until(Duration::from_secs(3), |_| false);
    let before = (
        server.counters.requests.load(Ordering::Relaxed),
        server.counters.streamed_chunks.load(Ordering::Relaxed),
        driver.typing.as_ref().map_or(0, |t| t.sent),
        Instant::now(),
        driver.runs_begun,
    );
    let loaded = measure(&mut driver, probes, &mut probe);
    let window = before.3.elapsed();
    let requests = server.counters.requests.load(Ordering::Relaxed) - before.0;
    let chunks = server.counters.streamed_chunks.load(Ordering::Relaxed) - before.1;
    let typed = driver.typing.as_ref().map_or(0, |t| t.sent) - before.2;
    let going_at_end = driver.runs_asked - driver.runs_ended;
    driver.load = false;
    driver.typing = None;
    let _ = std::fs::remove_dir_all(&dir);

    println!("Release `tandem serve` over stdio, {probes} probes per table, {} lines in the probed file.", big.lines().count());
    println!();
    println!(
        "Alone (the server used {} of CPU per probe):",
        ms(alone.server_cpu / probes as u32)
    );
    println!();
    println!("| measure | n | p50 | p99 | max | target |");
    println!("|---|---|---|---|---|---|");
    let (d, d_alone) = row(
        "didChange → publishDiagnostics (debounce subtracted)",
        alone.diagnostics,
        "p99 < 30 ms",
    );
    println!("{d}");
    println!("{}", row("codeAction", alone.code_action, "").0);
    println!("{}", row("documentSymbol", alone.symbols, "").0);
    println!();
    println!(
        "Under load (the server used {} of CPU per probe, the load included): during the {:.1} s of these probes the model server received {requests} requests and streamed {chunks} chunks ({} \"Document file\" runs begun in all, {going_at_end} still going at the end), and the client typed {typed} edits into the second file ({:.1} per second):",
        ms(loaded.server_cpu / probes as u32),
        window.as_secs_f64(),
        driver.runs_begun,
        typed as f64 / window.as_secs_f64()
    );
    println!();
    println!("| measure | n | p50 | p99 | max | target |");
    println!("|---|---|---|---|---|---|");
    let (d, d_loaded) = row(
        "didChange → publishDiagnostics (debounce subtracted)",
        loaded.diagnostics,
        "p99 < 30 ms",
    );
    println!("{d}");
    let (c, c_loaded) = row("codeAction", loaded.code_action, "");
    println!("{c}");
    let (s, s_loaded) = row("documentSymbol", loaded.symbols, "");
    println!("{s}");
    println!();
    crate::target(
        6,
        "edit → diagnostics p99, 5,000-line file in a workspace, alone",
        &ms(d_alone),
        "< 30 ms",
        Some(d_alone < Duration::from_millis(30)),
    );
    crate::target(
        9,
        "edit → diagnostics p99 under load (4 streaming runs, 50 edits/s)",
        &ms(d_loaded),
        "< 30 ms",
        Some(d_loaded < Duration::from_millis(30)),
    );
    crate::target(
        9,
        "codeAction / documentSymbol p99 under load",
        &format!("{} / {}", ms(c_loaded), ms(s_loaded)),
        "reported",
        None,
    );
}
