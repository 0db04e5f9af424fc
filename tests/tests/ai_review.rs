//! End-to-end: AI review through the real `tandem serve` (code actions, the `tandem.review`
//! command, diagnostics with source `tandem-review` that follow the code, the quick fix) and
//! through `tandem check --ai`, with the reviewer played by a scripted HTTP server on loopback,
//! including hostile answers.

use std::process::Command;

use serde_json::{json, Value};
use tandem_e2e::mock::{self, openai, openai_text};
use tandem_e2e::{file_uri, tandem_binary, LspClient};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

const APP: &str = "import os\n\n\ndef load(path):\n    data = open(path).read()\n    return eval(data)\n\n\ndef size(path):\n    return os.path.getsize(path)\n";

/// The cursor inside `load`, as an empty range (reviews the function there).
fn in_load() -> Value {
    json!({"start": {"line": 4, "character": 4}, "end": {"line": 4, "character": 4}})
}

fn model_options(server: &MockServer) -> Value {
    mock::model_options(server, "rev", "reviewer")
}

fn finding(start: u64, end: u64, category: &str, message: &str, replacement: Value) -> Value {
    json!({"start_line": start, "end_line": end, "severity": "warning", "category": category,
           "message": message, "replacement": replacement})
}

fn good_answer() -> Value {
    json!({"findings": [
        finding(6, 6, "security", "eval() on file content runs arbitrary code; parse it with ast.literal_eval.", json!("    return ast.literal_eval(data)")),
        finding(5, 5, "bug", "The file is never closed.", Value::Null),
    ]})
}

fn workspace(source: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.py");
    std::fs::write(&file, source).unwrap();
    (dir, file)
}

fn start(dir: &std::path::Path, options: Value) -> LspClient {
    let mut client = LspClient::start_in(dir, &[("TANDEM_E2E_KEY", "k")]);
    client.initialize(
        json!({"workspace": {"workspaceEdit": {"documentChanges": true}}}),
        Some(dir),
        options,
    );
    client
}

fn message(client: &mut LspClient) -> String {
    let shown = client.wait_for(|m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|s| s.contains("review"))
    });
    shown["params"]["message"].as_str().unwrap().to_string()
}

fn review_diagnostics(d: &Value) -> Vec<Value> {
    d["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["source"] == "tandem-review")
        .cloned()
        .collect()
}

/// The next publish of `uri` at `version` (any version when `None`) that satisfies `pred`.
fn published(
    client: &mut LspClient,
    uri: &str,
    version: Option<i64>,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let m = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && version.is_none_or(|v| m["params"]["version"] == v)
            && pred(&review_diagnostics(m))
    });
    review_diagnostics(&m)
}

fn run_review(client: &mut LspClient, uri: &str, range: Option<Value>) {
    let mut args = json!({"uri": uri});
    if let Some(range) = range {
        args["range"] = range;
    }
    let run = client.request(
        "workspace/executeCommand",
        json!({"command": "tandem.review", "arguments": [args]}),
    );
    assert!(run.get("error").is_none(), "{run}");
}

/// Applies the first text edit of a code action's edit (ASCII sources: UTF-8 = UTF-16).
fn apply(text: &str, edit: &Value) -> String {
    let e = &edit["documentChanges"][0]["edits"][0];
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let character = p["character"].as_u64().unwrap() as usize;
        text.split_inclusive('\n')
            .take(line)
            .map(str::len)
            .sum::<usize>()
            + character
    };
    let mut out = text.to_string();
    out.replace_range(
        offset(&e["range"]["start"])..offset(&e["range"]["end"]),
        e["newText"].as_str().unwrap(),
    );
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_good_answer_becomes_diagnostics_and_its_replacement_a_quick_fix() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(openai(&good_answer()))
        .mount(&server)
        .await;
    let (dir, file) = workspace(APP);
    let uri = file_uri(&file);
    let options = model_options(&server);
    let (titles, shown, diagnostics, fixes, fixed) = tokio::task::spawn_blocking(move || {
        let mut client = start(dir.path(), options);
        client.open(&uri, APP);
        let actions = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": in_load(), "context": {"diagnostics": []}}),
        );
        let list = actions["result"].as_array().unwrap().clone();
        let review = list
            .iter()
            .find(|a| a["title"] == "Review `load` with AI")
            .expect("review action")
            .clone();
        assert_eq!(review["kind"], "source.tandem.review");
        assert!(review.get("edit").is_none(), "a command, computed when picked");
        let titles: Vec<String> = list.iter().map(|a| a["title"].as_str().unwrap().to_string()).collect();
        let command = &review["command"];
        client.request(
            "workspace/executeCommand",
            json!({"command": command["command"], "arguments": command["arguments"]}),
        );
        let shown = message(&mut client);
        let diagnostics = published(&mut client, &uri, Some(1), |d| d.len() == 2);
        let eval = diagnostics.iter().find(|d| d["code"] == "AI002").unwrap().clone();
        let actions = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": eval["range"], "context": {"diagnostics": diagnostics, "only": ["quickfix"]}}),
        );
        let fixes = actions["result"].as_array().unwrap().clone();
        let fixed = apply(APP, &fixes[0]["edit"]);
        client.shutdown_and_exit();
        (titles, shown, diagnostics, fixes, fixed)
    })
    .await
    .unwrap();
    assert!(
        titles.contains(&"Review file with AI".to_string()),
        "{titles:?}"
    );
    assert!(
        shown
            .starts_with("AI review of `load` by model `rev`: 2 findings (1 with a suggested fix)"),
        "{shown}"
    );
    let eval = diagnostics.iter().find(|d| d["code"] == "AI002").unwrap();
    assert_eq!(
        eval["range"],
        json!({"start": {"line": 5, "character": 4}, "end": {"line": 5, "character": 21}})
    );
    assert_eq!(eval["severity"], 2);
    assert_eq!(
        eval["message"],
        "security: eval() on file content runs arbitrary code; parse it with ast.literal_eval."
    );
    let leak = diagnostics.iter().find(|d| d["code"] == "AI001").unwrap();
    assert_eq!(leak["range"]["start"]["line"], 4);
    assert_eq!(leak["message"], "bug: The file is never closed.");
    // Only the finding with a replacement has a quick fix, linked to it, on version 1.
    assert_eq!(fixes.len(), 1, "{fixes:?}");
    let fix = &fixes[0];
    assert_eq!(fix["kind"], "quickfix");
    assert!(fix["title"]
        .as_str()
        .unwrap()
        .starts_with("Apply suggested fix: eval()"));
    assert_eq!(fix["diagnostics"][0]["code"], "AI002");
    assert_eq!(
        fix["edit"]["documentChanges"][0]["textDocument"]["version"],
        1
    );
    assert_eq!(
        fixed,
        APP.replace("return eval(data)", "return ast.literal_eval(data)")
    );
    // The prompt shows the function with the file's line numbers.
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let prompt = body["messages"].to_string();
    assert!(prompt.contains("6 |     return eval(data)"), "{prompt}");
    assert!(prompt.contains("lines 4 to 6"), "{prompt}");
    assert!(
        !prompt.contains("getsize"),
        "only the function is sent: {prompt}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_answers_are_dropped_or_cleaned_and_the_rest_shown() {
    let server = MockServer::start().await;
    // First garbage (the model layer asks once more), then findings that point outside the
    // file and outside the function, a replacement that breaks the syntax and a huge message.
    Mock::given(method("POST"))
        .respond_with(openai_text("Sure! Here is my review: {findings: [oops"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let huge = format!("Danger\u{0007}!\n\n{}", "very ".repeat(2000));
    let hostile = json!({"findings": [
        finding(99, 120, "bug", "A line that does not exist.", Value::Null),
        finding(10, 10, "style", "Outside the reviewed function.", Value::Null),
        finding(5, 5, "bug", "Leaks a file handle.", json!("    data = open(path.read(\n")),
        finding(6, 6, "security", &huge, Value::Null),
    ]});
    Mock::given(method("POST"))
        .respond_with(openai(&hostile))
        .with_priority(2)
        .mount(&server)
        .await;
    let (dir, file) = workspace(APP);
    let uri = file_uri(&file);
    let options = model_options(&server);
    let (shown, diagnostics, fixes) = tokio::task::spawn_blocking(move || {
        let mut client = start(dir.path(), options);
        client.open(&uri, APP);
        run_review(&mut client, &uri, Some(in_load()));
        let shown = message(&mut client);
        let diagnostics = published(&mut client, &uri, Some(1), |d| !d.is_empty());
        let actions = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": in_load(), "context": {"diagnostics": diagnostics, "only": ["quickfix"]}}),
        );
        client.shutdown_and_exit();
        (shown, diagnostics, actions["result"].clone())
    })
    .await
    .unwrap();
    assert!(shown.contains("2 findings"), "{shown}");
    assert!(
        shown.contains("2 dropped (1 on lines outside the file, 1 outside the reviewed lines)"),
        "{shown}"
    );
    assert!(
        shown.contains("1 suggested replacement left out"),
        "{shown}"
    );
    assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
    let lines: Vec<u64> = diagnostics
        .iter()
        .map(|d| d["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![4, 5]);
    let long = diagnostics[1]["message"].as_str().unwrap();
    assert!(long.starts_with("security: Danger ! very very"), "{long}");
    assert!(
        long.chars().count() <= 420 && long.ends_with('…'),
        "{}",
        long.len()
    );
    assert_eq!(
        fixes,
        json!([]),
        "the replacement that breaks the syntax is not offered"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "asked once, repaired once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_follow_lines_moved_above_and_go_when_their_line_is_edited() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(openai(&good_answer()))
        .mount(&server)
        .await;
    let (dir, file) = workspace(APP);
    let uri = file_uri(&file);
    let options = model_options(&server);
    let (moved, edited) = tokio::task::spawn_blocking(move || {
        let mut client = start(dir.path(), options);
        client.open(&uri, APP);
        run_review(&mut client, &uri, None);
        message(&mut client);
        published(&mut client, &uri, Some(1), |d| d.len() == 2);
        // Two lines typed at the top: both findings move down by two.
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "# a\n# b\n"}]}),
        );
        let moved = published(&mut client, &uri, Some(2), |_| true);
        // The `eval` line (now line 7) is edited: its finding goes, the other stays.
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"range": {"start": {"line": 7, "character": 11}, "end": {"line": 7, "character": 15}}, "text": "safe_eval"}]}),
        );
        let edited = published(&mut client, &uri, Some(3), |_| true);
        client.shutdown_and_exit();
        (moved, edited)
    })
    .await
    .unwrap();
    let at = |d: &[Value], code: &str| {
        d.iter()
            .find(|x| x["code"] == code)
            .map(|x| x["range"]["start"]["line"].as_u64().unwrap())
    };
    assert_eq!(at(&moved, "AI002"), Some(7), "{moved:?}");
    assert_eq!(at(&moved, "AI001"), Some(6), "{moved:?}");
    assert_eq!(at(&edited, "AI002"), None, "{edited:?}");
    assert_eq!(at(&edited, "AI001"), Some(6), "{edited:?}");
}

#[test]
fn offline_the_command_answers_with_the_builtin_findings_and_says_a_model_goes_deeper() {
    // A docstring that names a parameter the function does not have: a DOC finding.
    let source = "def add(a, b):\n    \"\"\"Add.\n\n    Args:\n        a: A.\n        c: C.\n    \"\"\"\n    return a + b\n";
    let (dir, file) = workspace(source);
    let uri = file_uri(&file);
    let mut client = start(dir.path(), Value::Null);
    client.open(&uri, source);
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 7, "character": 4}, "end": {"line": 7, "character": 4}}, "context": {"diagnostics": [], "only": ["source"]}}),
    );
    let titles: Vec<&str> = actions["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"Review `add` with the built-in checks")
            && titles.contains(&"Review file with the built-in checks"),
        "{titles:?}"
    );
    run_review(
        &mut client,
        &uri,
        Some(json!({"start": {"line": 7, "character": 4}, "end": {"line": 7, "character": 4}})),
    );
    let shown = message(&mut client);
    assert!(
        shown.starts_with("Built-in review of `add`: ")
            && shown.contains("from the built-in checks")
            && shown.contains("a model gives a deeper review")
            && shown.contains("[roles] reviewer"),
        "{shown}"
    );
    assert!(!shown.contains(": 0 findings"), "{shown}");
    // The built-in findings are published once, as the live checks publish them (the publish
    // after the review, not the one after opening).
    client
        .inbox
        .retain(|m| m["method"] != "textDocument/publishDiagnostics");
    let after = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["code"] == "DOC103"))
    });
    let doc103: Vec<&Value> = after["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "DOC103")
        .collect();
    assert_eq!(doc103.len(), 1, "{after}");
    let missing = client.request(
        "workspace/executeCommand",
        json!({"command": "tandem.review", "arguments": []}),
    );
    assert_eq!(missing["error"]["code"], -32602, "{missing}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn tandem_check_ai_prints_model_findings_and_needs_a_model() {
    let (dir, file) = workspace(APP);
    let root = dir.path().to_path_buf();
    let offline = {
        let (root, file) = (root.clone(), file.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(tandem_binary())
                .args(["check", "--ai"])
                .arg(&file)
                .current_dir(&root)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    assert_eq!(offline.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&offline.stderr);
    assert!(stderr.contains("--ai needs a reviewer model"), "{stderr}");

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(openai(&good_answer()))
        .mount(&server)
        .await;
    std::fs::write(
        root.join("tandem.toml"),
        format!(
            "[models.rev]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\napi_key_env = \"TANDEM_E2E_KEY\"\nstream = false\nretries = 0\n\n[roles]\nreviewer = [\"rev\"]\n\n[cache]\nenabled = false\n",
            server.uri()
        ),
    )
    .unwrap();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(tandem_binary())
            .args(["check", "--ai", "app.py"])
            .current_dir(&root)
            .env("TANDEM_E2E_KEY", "k")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("app.py:5:5: AI001 bug: The file is never closed.\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("app.py:6:5: AI002 security: eval() on file content"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_review_of_an_older_version_is_published_where_the_code_is_now() {
    let server = MockServer::start().await;
    // The model takes a while; the user types a line at the top meanwhile.
    Mock::given(method("POST"))
        .respond_with(openai(&good_answer()).set_delay(std::time::Duration::from_millis(1500)))
        .mount(&server)
        .await;
    let (dir, file) = workspace(APP);
    let uri = file_uri(&file);
    let options = model_options(&server);
    let (shown, publishes) = tokio::task::spawn_blocking(move || {
        let mut client = start(dir.path(), options);
        client.open(&uri, APP);
        run_review(&mut client, &uri, None);
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "# typed\n"}]}),
        );
        let shown = message(&mut client);
        let current = published(&mut client, &uri, Some(2), |d| !d.is_empty());
        let mut publishes: Vec<Value> = client
            .inbox
            .iter()
            .filter(|m| m["method"] == "textDocument/publishDiagnostics")
            .cloned()
            .collect();
        publishes.push(json!({"params": {"diagnostics": current, "version": 2}}));
        client.shutdown_and_exit();
        (shown, publishes)
    })
    .await
    .unwrap();
    assert!(shown.contains("2 findings"), "{shown}");
    let mut seen = 0;
    for p in &publishes {
        for d in p["params"]["diagnostics"].as_array().unwrap() {
            if d["code"] == "AI002" {
                seen += 1;
                assert_eq!(
                    d["range"]["start"]["line"], 6,
                    "never at the old place: {p}"
                );
            }
        }
    }
    assert!(seen > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_review_shows_cancellable_progress_and_stops_when_cancelled() {
    let server = MockServer::start().await;
    // Slow rather than stalled: had the cancel not stopped the review, its findings would be
    // published after 2 s.
    Mock::given(method("POST"))
        .respond_with(openai(&good_answer()).set_delay(std::time::Duration::from_secs(2)))
        .mount(&server)
        .await;
    let (dir, file) = workspace(APP);
    let uri = file_uri(&file);
    let mut options = model_options(&server);
    options["models"]["rev"]["timeout_secs"] = json!(120.0);
    let (begin, shown, reviewed) = tokio::task::spawn_blocking(move || {
        let mut client = LspClient::start_in(dir.path(), &[("TANDEM_E2E_KEY", "k")]);
        client.initialize(
            json!({"window": {"workDoneProgress": true}}),
            Some(dir.path()),
            options,
        );
        client.open(&uri, APP);
        run_review(&mut client, &uri, Some(in_load()));
        let create = client.wait_for(|m| {
            m["method"] == "window/workDoneProgress/create"
                && m["params"]["token"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("tandem/review/"))
        });
        let token = create["params"]["token"].clone();
        client.send(&json!({"jsonrpc": "2.0", "id": create["id"], "result": null}));
        let begin = client.wait_for(|m| {
            m["method"] == "$/progress"
                && m["params"]["token"] == token
                && m["params"]["value"]["kind"] == "begin"
        });
        client.notify("window/workDoneProgress/cancel", json!({"token": token}));
        client.wait_for(|m| {
            m["method"] == "$/progress"
                && m["params"]["token"] == token
                && m["params"]["value"]["kind"] == "end"
        });
        let shown = client.wait_for(|m| m["method"] == "window/showMessage");
        // Wait past the model's answer, then read everything the server sent since.
        std::thread::sleep(std::time::Duration::from_secs(3));
        client.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        );
        let reviewed = client.inbox.iter().any(|m| {
            m["method"] == "textDocument/publishDiagnostics" && !review_diagnostics(m).is_empty()
        });
        client.shutdown_and_exit();
        (begin, shown, reviewed)
    })
    .await
    .unwrap();
    assert_eq!(begin["params"]["value"]["title"], "Reviewing");
    assert_eq!(begin["params"]["value"]["cancellable"], true);
    assert_eq!(shown["params"]["type"], 1, "{shown}");
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{shown}"
    );
    assert!(!reviewed, "nothing is published after a cancel");
}

#[test]
fn offline_the_review_names_the_live_rule_findings_without_publishing_them_twice() {
    let source =
        "\"\"\"M.\"\"\"\n\n\ndef check(x):\n    \"\"\"Check.\"\"\"\n    return x == None\n";
    let (dir, file) = workspace(source);
    let uri = file_uri(&file);
    let mut client = start(dir.path(), Value::Null);
    client.open(&uri, source);
    run_review(&mut client, &uri, None);
    let shown = message(&mut client);
    assert!(
        shown.starts_with("Built-in review of the file: ") && shown.contains("TDM004"),
        "{shown}"
    );
    client
        .inbox
        .retain(|m| m["method"] != "textDocument/publishDiagnostics");
    let after = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["code"] == "TDM004"))
    });
    let tdm004: Vec<&Value> = after["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "TDM004")
        .collect();
    assert_eq!(tdm004.len(), 1, "{after}");
    assert_eq!(tdm004[0]["source"], "tandem");
    assert!(review_diagnostics(&after).is_empty(), "{after}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
