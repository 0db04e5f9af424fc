//! End-to-end: hostile inputs (issue 9, item 9) through the real `tandem serve` and the
//! command line. Each input — a 50 MB file, a binary file named `.py`, invalid UTF-8, NUL
//! bytes, 10,000-deep nesting, a 1 MB single line, positions far past the end, unknown URIs,
//! requests before `initialize` — gets a clear answer (a result, an error with a message, or a
//! skipped-file report), nothing crashes, the server answers afterwards, and it all takes
//! bounded time.
//!
//! The 50 MB variants take a few seconds each in a debug build and are `#[ignore]`d:
//! `cargo test -p tandem-e2e --test hostile_inputs -- --ignored`.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tandem_e2e::hostile::{
    ask_everything, is_clear_answer, output_with_cpu_time, peak_rss_kib, write,
};
use tandem_e2e::{file_uri, tandem_binary, LspClient};

/// 10,000 levels of brackets, calls and unary operators, and a long left-deep chain.
fn deep_nesting() -> String {
    let n = 10_000;
    format!(
        "a = {}1{}\nb = {}0{}\nc = {}1\nd = 1{}\n\ndef f(x):\n    return x\n",
        "[".repeat(n),
        "]".repeat(n),
        "f(".repeat(n),
        ")".repeat(n),
        "-".repeat(n),
        " + 1".repeat(n),
    )
}

/// About 1 MB on one line: a list literal, then a function after it.
fn one_megabyte_line() -> String {
    let mut line = String::from("values = [");
    while line.len() < 1_000_000 {
        line.push_str("12345, ");
    }
    line.push_str("0]\n\ndef after(values):\n    return values\n");
    line
}

/// Text with NUL bytes inside a string, a comment and between statements.
fn with_nuls() -> String {
    "def f():\n    return 'a\0b'  # c\0d\n\0\0\nx = 1\n".to_string()
}

/// What a binary file named `.py` looks like when an editor decodes it lossily.
fn binary_bytes() -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    bytes.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    bytes
}

fn invalid_utf8_bytes() -> Vec<u8> {
    b"def f():\n    return '\xff\xfe\xc3('\n".to_vec()
}

/// `tandem args` in `root`, and the CPU time it used (`None` without `/proc`).
fn tandem_timed(root: &Path, args: &[&str]) -> (Output, Option<Duration>) {
    output_with_cpu_time(
        Command::new(tandem_binary())
            .args(args)
            .current_dir(root)
            .env("TANDEM_LOG", "warn"),
    )
}

/// Bounds the work a command line run did on hostile files. The CPU time is the measure: it
/// does not grow with the load of a shared machine, where the clock time of these runs
/// (a few seconds in a debug build) once went past 30 s on 2 busy cores. The clock time is
/// bounded only loosely, against a run that waits instead of working (and where there is no
/// `/proc` to read the CPU time from).
fn assert_bounded(label: &str, cpu: Option<Duration>, cpu_bound: Duration, clock: Duration) {
    eprintln!("{label}: {cpu:?} CPU, {clock:?} on the clock");
    if let Some(cpu) = cpu {
        assert!(
            cpu < cpu_bound,
            "{label}: {cpu:?} of CPU time, over {cpu_bound:?}"
        );
    }
    let clock_bound = Duration::from_secs(180);
    assert!(
        clock < clock_bound,
        "{label}: {clock:?}, over {clock_bound:?}"
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn assert_clear(label: &str, answers: &tandem_e2e::hostile::Answers, bound: Duration) {
    for (request, response) in answers.all() {
        assert!(
            is_clear_answer(response),
            "{label}: {request} gave no clear answer: {response}"
        );
    }
    assert!(
        answers.elapsed < bound,
        "{label}: answers took {:?}, over {bound:?}",
        answers.elapsed
    );
}

/// The server still answers an ordinary request.
fn assert_alive(client: &mut LspClient) {
    let uri = "file:///tmp/hostile-alive.py";
    client.open(uri, "def alive():\n    pass\n");
    let response = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(response["result"][0]["name"], "alive", "{response}");
}

#[test]
fn requests_before_initialize_get_server_not_initialized() {
    let mut client = LspClient::start();
    let doc = json!({"uri": "file:///tmp/early.py"});
    for (method, params) in [
        ("textDocument/documentSymbol", json!({"textDocument": doc})),
        (
            "textDocument/codeAction",
            json!({"textDocument": doc, "range": tandem_e2e::hostile::huge_range(), "context": {"diagnostics": []}}),
        ),
        (
            "textDocument/prepareCallHierarchy",
            json!({"textDocument": doc, "position": {"line": 0, "character": 0}}),
        ),
        (
            "workspace/executeCommand",
            json!({"command": "tandem.document", "arguments": [{"uri": "file:///tmp/early.py"}]}),
        ),
        ("shutdown", Value::Null),
    ] {
        let response = client.request(method, params);
        assert_eq!(response["error"]["code"], -32002, "{method}: {response}");
        assert!(
            response["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{response}"
        );
    }
    // Notifications before `initialize` are dropped, not fatal; then the session starts.
    client.open("file:///tmp/early.py", "def early():\n    pass\n");
    client.initialize(json!({}), None, Value::Null);
    assert_alive(&mut client);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn hostile_documents_get_clear_answers_and_the_server_keeps_answering() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "ok.py", "def ok():\n    return 1\n");
    let mut client = LspClient::start_in(root, &[]);
    client.initialize(
        json!({"general": {"positionEncodings": ["utf-16"]}}),
        Some(root),
        Value::Null,
    );
    let binary_text = String::from_utf8_lossy(&binary_bytes()).to_string();
    let invalid_text = String::from_utf8_lossy(&invalid_utf8_bytes()).to_string();
    let cases: Vec<(&str, String)> = vec![
        ("deep.py", deep_nesting()),
        ("long_line.py", one_megabyte_line()),
        ("nuls.py", with_nuls()),
        ("binary.py", binary_text),
        ("invalid.py", invalid_text),
        ("empty.py", String::new()),
    ];
    let far = json!({"line": 4_000_000_000u32, "character": 4_000_000_000u32});
    for (name, content) in &cases {
        let uri = file_uri(&root.join(name)).replace(".py", "-open.py");
        client.open(&uri, content);
        let answers = ask_everything(&mut client, &uri, far.clone());
        assert_clear(name, &answers, Duration::from_secs(15));
        // The documentation run started by the command ends with a message, whatever it did.
        if answers.document.get("result").is_some() {
            let outcome = client.wait_for(|m| m["method"] == "window/showMessage");
            assert!(
                outcome["params"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{name}: {outcome}"
            );
        }
        // Diagnostics arrive for the document, with its version.
        let published = client.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        assert_eq!(published["params"]["version"], 1, "{name}");
        // A change far past the end is clamped onto the end of the text.
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
                {"range": {"start": far, "end": far}, "text": "\ndef tail():\n    pass\n"}
            ]}),
        );
        let symbols = client.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        );
        assert!(is_clear_answer(&symbols), "{name}: {symbols}");
        // Appended after text that parses (the binary file's bytes may leave a bracket open).
        if *name != "binary.py" {
            let names = symbols["result"].to_string();
            assert!(names.contains("\"tail\""), "{name}: {symbols}");
        }
        client.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
        assert_alive(&mut client);
    }
    // The deep file's symbols are found despite the nesting.
    let deep_uri = "file:///tmp/hostile-deep.py";
    client.open(deep_uri, &deep_nesting());
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": deep_uri}}),
    );
    assert!(symbols["result"].to_string().contains("\"f\""), "{symbols}");
    let stderr = client.stderr.lock().unwrap().clone();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn unknown_and_malformed_uris_get_clear_errors() {
    let mut client = LspClient::start();
    client.initialize(json!({}), None, Value::Null);
    for uri in [
        "file:///nowhere/missing.py",
        "untitled:Untitled-1",
        "https://example.com/x.py",
        "file:///../../etc/passwd",
        "not a uri at all",
        "",
    ] {
        let answers = ask_everything(&mut client, uri, json!({"line": 0, "character": 0}));
        for (request, response) in answers.all() {
            assert!(is_clear_answer(response), "{uri}: {request}: {response}");
        }
        // documentSymbol on a document that is not open is an error, never an empty success.
        assert!(
            answers.symbols.get("error").is_some(),
            "{uri}: {}",
            answers.symbols
        );
        for command in ["tandem.review", "tandem.implement"] {
            let response = client.request(
                "workspace/executeCommand",
                json!({"command": command, "arguments": [{"uri": uri, "range": tandem_e2e::hostile::huge_range()}]}),
            );
            assert!(is_clear_answer(&response), "{uri}: {command}: {response}");
        }
        for method in ["callHierarchy/incomingCalls", "callHierarchy/outgoingCalls"] {
            let item = json!({"name": "f", "kind": 12, "uri": uri,
                "range": tandem_e2e::hostile::huge_range(), "selectionRange": tandem_e2e::hostile::huge_range(),
                "data": "no.such.node"});
            let response = client.request(method, json!({"item": item}));
            assert!(is_clear_answer(&response), "{uri}: {method}: {response}");
        }
    }
    assert_alive(&mut client);
    let stderr = client.stderr.lock().unwrap().clone();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// The hostile files on disk: the command line and the server's cold index report the ones
/// they cannot read and analyse the rest.
#[test]
fn hostile_files_on_disk_are_skipped_or_analysed_by_check_graph_and_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "pkg/__init__.py", "");
    write(
        root,
        "pkg/ok.py",
        "def ok():\n    return helper()\n\n\ndef helper():\n    return 1\n",
    );
    write(root, "pkg/binary.py", binary_bytes());
    write(root, "pkg/invalid.py", invalid_utf8_bytes());
    write(root, "pkg/nuls.py", with_nuls());
    write(root, "pkg/deep.py", deep_nesting());
    write(root, "pkg/long_line.py", one_megabyte_line());
    // Over the size limit without taking 50 MB of disk in CI (the limit is configurable).
    write(
        root,
        "tandem.toml",
        "[workspace]\nmax_file_size = 1500000\n",
    );
    write(root, "pkg/big.py", "x = 1\n".repeat(300_000));

    let started = Instant::now();
    let (check, check_cpu) = tandem_timed(root, &["check", "--format", "json", "."]);
    let check_err = text(&check.stderr);
    assert!(
        matches!(check.status.code(), Some(0 | 1)),
        "tandem check crashed: {check_err}"
    );
    let findings: Value = serde_json::from_slice(&check.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&check.stdout)));
    assert!(findings.is_array());
    for (file, reason) in [
        ("binary.py", "NUL bytes"),
        ("invalid.py", "UTF-8"),
        ("nuls.py", "NUL bytes"),
        ("big.py", "max_file_size"),
    ] {
        assert!(
            check_err
                .lines()
                .any(|l| l.contains("skipping") && l.contains(file) && l.contains(reason)),
            "{file}: {check_err}"
        );
    }
    assert!(!check_err.contains("panicked"), "{check_err}");

    let (graph, graph_cpu) = tandem_timed(root, &["graph", "--format", "pycg", "."]);
    let graph_err = text(&graph.stderr);
    assert_eq!(graph.status.code(), Some(0), "{graph_err}");
    let graph: Value = serde_json::from_slice(&graph.stdout).unwrap();
    assert_eq!(graph["pkg.ok.ok"], json!(["pkg.ok.helper"]), "{graph}");
    assert!(graph.get("pkg.long_line.after").is_some(), "{graph}");
    assert!(graph.get("pkg.deep.f").is_some(), "{graph}");
    assert!(graph_err.contains("binary.py"), "{graph_err}");
    // About 2 s of CPU in a debug build: a bound of 20 s still catches a quadratic walk of the
    // 10,000-deep nesting or the 1 MB line.
    assert_bounded(
        "check and graph",
        check_cpu.zip(graph_cpu).map(|(a, b)| a + b),
        Duration::from_secs(20),
        started.elapsed(),
    );

    // The server's cold index: the same files skipped, the editor told, the rest indexed.
    let mut client = LspClient::start_in(root, &[("TANDEM_LOG", "info")]);
    client.initialize(
        json!({"window": {"workDoneProgress": true}}),
        Some(root),
        Value::Null,
    );
    let end =
        client.wait_for(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    let message = end["params"]["value"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("4 left out (1 over workspace.max_file_size, 3 binary"),
        "{end}"
    );
    let ok = root.join("pkg/ok.py");
    let ok_text = std::fs::read_to_string(&ok).unwrap();
    let uri = file_uri(&ok);
    client.open(&uri, &ok_text);
    let prepared = client.request(
        "textDocument/prepareCallHierarchy",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 5}}),
    );
    let item = prepared["result"][0].clone();
    assert_eq!(item["name"], "ok", "{prepared}");
    let outgoing = client.request("callHierarchy/outgoingCalls", json!({"item": item}));
    assert_eq!(outgoing["result"][0]["to"]["name"], "helper", "{outgoing}");
    // The log names the files left out (stderr is read by another thread: give it a moment).
    let deadline = Instant::now() + Duration::from_secs(5);
    let stderr = loop {
        let stderr = client.stderr.lock().unwrap().clone();
        if stderr.contains("binary.py") || Instant::now() > deadline {
            break stderr;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(stderr.contains("binary.py"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// A 50 MB document: refused with a clear error naming the limit, in bounded time and memory,
/// and the server answers afterwards.
#[test]
#[ignore = "sends 50 MB through stdio; run with --ignored"]
fn a_fifty_megabyte_document_is_refused_in_bounded_time_and_memory() {
    let big = "x = 1\n".repeat(50 * 1024 * 1024 / 6);
    let mut client = LspClient::start();
    client.initialize(json!({}), None, Value::Null);
    let uri = "file:///tmp/hostile-big.py";
    let started = Instant::now();
    client.open(uri, &big);
    let answers = ask_everything(&mut client, uri, json!({"line": 8_000_000, "character": 0}));
    assert_clear("50 MB", &answers, Duration::from_secs(60));
    let symbols_error = answers.symbols["error"]["message"].as_str().unwrap_or("");
    assert!(
        symbols_error.contains("max_file_size"),
        "{}",
        answers.symbols
    );
    let shown = client.wait_for(|m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|s| s.contains("max_file_size"))
    });
    assert_eq!(shown["params"]["type"], 2, "a warning: {shown}");
    assert_alive(&mut client);
    let elapsed = started.elapsed();
    let peak = peak_rss_kib(client.pid()).unwrap_or(0);
    eprintln!(
        "50 MB document: answered in {elapsed:?}, peak RSS {} MiB",
        peak / 1024
    );
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    assert!(peak < 1024 * 1024, "peak RSS {} MiB", peak / 1024);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// A 50 MB file on disk: skipped by `tandem check`, `tandem graph` and the cold index at the
/// default limit (2,000,000 bytes), in bounded time.
#[test]
#[ignore = "writes 50 MB; run with --ignored"]
fn a_fifty_megabyte_file_on_disk_is_skipped_at_the_default_limit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "ok.py", "def ok():\n    return 1\n");
    write(root, "big.py", "x = 1\n".repeat(50 * 1024 * 1024 / 6));
    let started = Instant::now();
    let mut cpu = Some(Duration::ZERO);
    for args in [&["check", "."][..], &["graph", "--format", "pycg", "."]] {
        let (out, used) = tandem_timed(root, args);
        cpu = cpu.zip(used).map(|(a, b)| a + b);
        let stderr = text(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("big.py") && stderr.contains("over the limit of 2000000"),
            "{args:?}: {stderr}"
        );
    }
    assert_bounded(
        "check and graph of a 50 MB file",
        cpu,
        Duration::from_secs(20),
        started.elapsed(),
    );
}
