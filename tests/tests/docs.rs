//! End-to-end: documentation through the real `tandem serve` (code actions, the
//! `tandem.document` command, versioned `workspace/applyEdit` with one retry) and through
//! `tandem doc`, with the documenter played by a scripted HTTP server on loopback, including
//! answers that are wrong about the code.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use tandem_e2e::mock::{self, openai};
use tandem_e2e::{file_uri, tandem_binary, LspClient};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const SOURCE: &str = "import os\n\n\ndef get_user_by_id(user_id: int, strict=False) -> dict:\n    if not user_id:\n        raise ValueError(\"no id\")\n    return {}\n";

fn workspace(source: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.py");
    std::fs::write(&file, source).unwrap();
    (dir, file)
}

fn start(dir: &Path, options: Value, env: &[(&str, &str)]) -> LspClient {
    let mut client = LspClient::start_in(dir, env);
    client.initialize(
        json!({"workspace": {"workspaceEdit": {"documentChanges": true}, "applyEdit": true}}),
        Some(dir),
        options,
    );
    client
}

/// A workspace holding `users.py` with `source`, a server without a model started in it,
/// and the file open; the folder lives as long as the first element.
fn open_offline(source: &str) -> (tempfile::TempDir, String, LspClient) {
    let (dir, file) = workspace(source);
    let uri = file_uri(&file);
    let mut client = start(dir.path(), Value::Null, &[]);
    client.open(&uri, source);
    (dir, uri, client)
}

/// Applies the LSP text edits of a `workspace/applyEdit` request to `text` (UTF-8 positions
/// are fine here: the sources are ASCII).
fn apply(text: &str, request: &Value) -> String {
    let change = &request["params"]["edit"]["documentChanges"][0];
    let mut edits: Vec<(usize, usize, String)> = change["edits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let offset = |p: &Value| {
                let line = p["line"].as_u64().unwrap() as usize;
                let character = p["character"].as_u64().unwrap() as usize;
                let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
                start + character
            };
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (start, end, new_text) in edits {
        out.replace_range(start..end, &new_text);
    }
    out
}

fn answer(client: &mut LspClient, request: &Value, applied: bool) {
    client.send(&json!({"jsonrpc": "2.0", "id": request["id"], "result": {"applied": applied}}));
}

fn is_apply(m: &Value) -> bool {
    m["method"] == "workspace/applyEdit"
}

/// The `tandem.document` command's parameters for the symbol around `line` (column 4: inside
/// a function's body).
fn document_at(uri: &str, line: u32) -> Value {
    let at = json!({"line": line, "character": 4});
    json!({"command": "tandem.document", "arguments": [{"uri": uri, "range": {"start": at, "end": at}}]})
}

/// The next `window/showMessage`, checked to contain `needle`.
fn message_saying(client: &mut LspClient, needle: &str) -> Value {
    let shown = message(client);
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains(needle),
        "{shown}"
    );
    shown
}

fn message(client: &mut LspClient) -> Value {
    client.wait_for(|m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|s| !s.contains("config"))
    })
}

#[test]
fn code_actions_offer_generate_and_the_command_applies_a_versioned_edit() {
    let (_dir, uri, mut client) = open_offline(SOURCE);
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 4, "character": 4}, "end": {"line": 4, "character": 4}}, "context": {"diagnostics": []}}),
    );
    let list = actions["result"].as_array().expect("actions");
    let titles: Vec<&str> = list.iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert!(
        titles.contains(&"Generate docstring for `get_user_by_id`"),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Document all undocumented symbols in file"),
        "{titles:?}"
    );
    let generate = list
        .iter()
        .find(|a| a["title"] == "Generate docstring for `get_user_by_id`")
        .unwrap();
    assert_eq!(generate["kind"], "refactor.rewrite");
    // The action carries a command, not an edit: nothing is computed while the menu opens.
    assert!(generate.get("edit").is_none());
    let command = &generate["command"];
    let (run, request) = client.execute_until_edit(
        json!({"command": command["command"], "arguments": command["arguments"]}),
    );
    assert!(run.get("error").is_none(), "{run}");
    let change = &request["params"]["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["uri"], uri);
    assert_eq!(change["textDocument"]["version"], 1);
    let new_text = apply(SOURCE, &request);
    assert_eq!(
        new_text,
        "import os\n\n\ndef get_user_by_id(user_id: int, strict=False) -> dict:\n    \"\"\"Get user by id.\n\n    Args:\n        user_id (int): The user id.\n        strict (bool): Whether strict is enabled. Defaults to `False`.\n\n    Returns:\n        dict: The user by id.\n\n    Raises:\n        ValueError: If a value error occurs.\n    \"\"\"\n    if not user_id:\n        raise ValueError(\"no id\")\n    return {}\n"
    );
    answer(&mut client, &request, true);
    message_saying(&mut client, "documented 1 symbol");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_rejected_edit_is_recomputed_once_on_the_new_text() {
    let (_dir, uri, mut client) = open_offline(SOURCE);
    let (_, first) = client
        .execute_until_edit(json!({"command": "tandem.document", "arguments": [{"uri": uri}]}));
    assert_eq!(
        first["params"]["edit"]["documentChanges"][0]["textDocument"]["version"],
        1
    );
    // The user typed a line at the top meanwhile; the editor rejects the stale edit.
    let typed = format!("# note\n{SOURCE}");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "# note\n"}]}),
    );
    answer(&mut client, &first, false);
    let second = client.wait_for(is_apply);
    assert_eq!(
        second["params"]["edit"]["documentChanges"][0]["textDocument"]["version"],
        2
    );
    let new_text = apply(&typed, &second);
    // The comment belongs to the first statement, so the module docstring goes above it.
    assert!(
        new_text.starts_with("\"\"\"Users: `get_user_by_id`.\"\"\"\n\n# note\nimport os\n"),
        "{new_text}"
    );
    assert!(
        new_text.contains("    \"\"\"Get user by id.\n"),
        "{new_text}"
    );
    answer(&mut client, &second, true);
    message_saying(&mut client, "documented 2 symbols");

    // Rejected twice: the user is told, and nothing else is sent.
    let (_, a) = client.execute_until_edit(document_at(&uri, 5));
    answer(&mut client, &a, false);
    let b = client.wait_for(is_apply);
    answer(&mut client, &b, false);
    let shown = message_saying(&mut client, "not applied");
    assert_eq!(shown["params"]["type"], 1, "{shown}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

const TWO: &str = "def first(a):\n    return a\n\n\ndef second(b):\n    return b\n";

/// A `didChange` that inserts `text` at the top of the document.
fn type_at_top(client: &mut LspClient, uri: &str, version: i64, text: &str) {
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": text}]}),
    );
}

#[test]
fn a_recomputation_documents_the_same_function_where_typing_moved_it() {
    let (_dir, uri, mut client) = open_offline(TWO);
    // Asked about `first` (line 1 is its body).
    let (_, first) = client.execute_until_edit(document_at(&uri, 1));
    assert!(apply(TWO, &first).contains("def first(a):\n    \"\"\""));
    // Four lines typed above: line 1 is now the body of `zero`; the edit is rejected.
    let added = "def zero(c):\n    return c\n\n\n";
    type_at_top(&mut client, &uri, 2, added);
    answer(&mut client, &first, false);
    let second = client.wait_for(is_apply);
    assert_eq!(
        second["params"]["edit"]["documentChanges"][0]["textDocument"]["version"],
        2
    );
    let new_text = apply(&format!("{added}{TWO}"), &second);
    assert!(
        new_text.starts_with("def zero(c):\n    return c\n\n\ndef first(a):\n    \"\"\""),
        "{new_text}"
    );
    assert_eq!(new_text.matches("\"\"\"").count(), 2, "{new_text}");
    answer(&mut client, &second, true);
    message_saying(&mut client, "documented 1 symbol");

    // The function was deleted meanwhile: nothing is sent again, and the user is told why.
    let (_, third) = client.execute_until_edit(document_at(&uri, 5));
    assert!(apply(&format!("{added}{TWO}"), &third).contains("def first(a):\n    \"\"\""));
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": "def second(b):\n    return b\n"}]}),
    );
    answer(&mut client, &third, false);
    let shown = message_saying(&mut client, "`first` is no longer in the document");
    assert_eq!(shown["params"]["type"], 1, "{shown}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_change_right_after_the_command_does_not_change_what_is_documented() {
    let (_dir, uri, mut client) = open_offline(TWO);
    // The command, then at once a change: the range was given in version 1, where it names
    // `first`; in version 2 the same line is the body of `zero`.
    client.send(&json!({"jsonrpc": "2.0", "id": 900, "method": "workspace/executeCommand", "params": document_at(&uri, 1)}));
    let added = "def zero(c):\n    return c\n\n\n";
    type_at_top(&mut client, &uri, 2, added);
    // Whether the edit is first computed on version 1 (and rejected) or the change lands
    // while it is computed, the edit that is applied is on version 2 and documents `first`.
    let mut edit = client.wait_for(is_apply);
    if edit["params"]["edit"]["documentChanges"][0]["textDocument"]["version"] == 1 {
        assert!(apply(TWO, &edit).contains("def first(a):\n    \"\"\""));
        answer(&mut client, &edit, false);
        edit = client.wait_for(is_apply);
    }
    assert_eq!(
        edit["params"]["edit"]["documentChanges"][0]["textDocument"]["version"],
        2
    );
    let new_text = apply(&format!("{added}{TWO}"), &edit);
    assert!(new_text.contains("def first(a):\n    \"\"\""), "{new_text}");
    assert!(
        new_text.starts_with("def zero(c):\n    return c\n"),
        "{new_text}"
    );
    assert_eq!(new_text.matches("\"\"\"").count(), 2, "{new_text}");
    answer(&mut client, &edit, true);
    message(&mut client);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn bad_command_arguments_are_clear_errors() {
    let (dir, file) = workspace(SOURCE);
    let mut client = start(dir.path(), Value::Null, &[]);
    let missing = client.request(
        "workspace/executeCommand",
        json!({"command": "tandem.document", "arguments": []}),
    );
    assert_eq!(missing["error"]["code"], -32602, "{missing}");
    let unopened = client.request(
        "workspace/executeCommand",
        json!({"command": "tandem.document", "arguments": [{"uri": file_uri(&file)}]}),
    );
    assert!(
        unopened["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not open"),
        "{unopened}"
    );
    let unknown = client.request(
        "workspace/executeCommand",
        json!({"command": "tandem.nope"}),
    );
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown command"),
        "{unknown}"
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

fn model_options(server: &MockServer) -> Value {
    mock::model_options(server, "doc", "documenter")
}

const ADD: &str = "def add(a, b):\n    return a + b\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_model_docstring_that_passes_the_oracle_is_applied() {
    let server = MockServer::start().await;
    let good = json!({"docstrings": [{"symbol": "calc.add", "docstring": "Add two numbers.\n\nArgs:\n    a: The first number.\n    b: The second number.\n\nReturns:\n    The sum of `a` and `b`."}]});
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai(&good))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calc.py");
    std::fs::write(&file, ADD).unwrap();
    let uri = file_uri(&file);
    let options = model_options(&server);
    let result = tokio::task::spawn_blocking(move || {
        let mut client = start(dir.path(), options, &[("TANDEM_E2E_KEY", "k")]);
        client.open(&uri, ADD);
        let (_, request) = client.execute_until_edit(document_at(&uri, 1));
        let text = apply(ADD, &request);
        answer(&mut client, &request, true);
        let shown = message(&mut client);
        client.shutdown_and_exit();
        (text, shown, dir)
    })
    .await
    .unwrap();
    assert_eq!(
        result.0,
        "def add(a, b):\n    \"\"\"Add two numbers.\n\n    Args:\n        a: The first number.\n        b: The second number.\n\n    Returns:\n        The sum of `a` and `b`.\n    \"\"\"\n    return a + b\n"
    );
    assert!(
        !result.1["params"]["message"]
            .as_str()
            .unwrap()
            .contains("built-in"),
        "{}",
        result.1
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_that_invents_parameters_is_repaired_once_then_replaced_by_the_builtin() {
    let server = MockServer::start().await;
    // Hostile: an invented parameter, an invented exception and a made-up helper, twice.
    let bad = json!({"docstrings": [{"symbol": "calc.add", "docstring": "Add using `numpy.add`.\n\nArgs:\n    a: A.\n    b: B.\n    c: C.\n\nReturns:\n    The sum.\n\nRaises:\n    OverflowError: Sometimes."}]});
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai(&bad))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calc.py");
    std::fs::write(&file, ADD).unwrap();
    let uri = file_uri(&file);
    let options = model_options(&server);
    let (text, shown) = tokio::task::spawn_blocking(move || {
        let mut client = start(dir.path(), options, &[("TANDEM_E2E_KEY", "k")]);
        client.open(&uri, ADD);
        let (_, request) = client.execute_until_edit(document_at(&uri, 0));
        let text = apply(ADD, &request);
        answer(&mut client, &request, true);
        let shown = message(&mut client);
        client.shutdown_and_exit();
        (text, shown)
    })
    .await
    .unwrap();
    assert_eq!(
        text,
        "def add(a, b):\n    \"\"\"Add.\n\n    Args:\n        a: The a.\n        b: The b.\n\n    Returns:\n        The result.\n    \"\"\"\n    return a + b\n"
    );
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains("built-in"),
        "{shown}"
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2, "asked once, repaired once");
    let repair: Value = serde_json::from_slice(&requests[1].body).unwrap();
    let feedback = repair["messages"].as_array().unwrap().last().unwrap()["content"].to_string();
    assert!(
        feedback.contains("DOC102") && feedback.contains("numpy.add"),
        "{feedback}"
    );
}

#[test]
fn tandem_doc_prints_a_diff_checks_and_writes() {
    let (dir, file) = workspace(SOURCE);
    let run = |args: &[&str]| {
        Command::new(tandem_binary())
            .args(args)
            .arg(&file)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let diff = run(&["doc"]);
    assert!(diff.status.success());
    let out = String::from_utf8(diff.stdout).unwrap();
    assert!(out.starts_with("--- a/users.py\n+++ b/users.py\n@@ -1,7 +1,21 @@\n+\"\"\"Users: `get_user_by_id`.\"\"\"\n+\n import os\n"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        SOURCE,
        "a diff writes nothing"
    );
    let check = run(&["doc", "--check"]);
    assert_eq!(check.status.code(), Some(1));
    let numpy = run(&["doc", "--style", "numpy"]);
    assert!(String::from_utf8(numpy.stdout)
        .unwrap()
        .contains("+    Parameters\n+    ----------\n+    user_id : int\n"));
    let write = run(&["doc", "--write"]);
    assert!(write.status.success());
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("    \"\"\"Get user by id.\n"), "{written}");
    let again = run(&["doc", "--check"]);
    assert_eq!(again.status.code(), Some(0), "nothing left to document");
    let bad = Command::new(tandem_binary())
        .args(["doc", "--write", "--check", "x.py"])
        .output()
        .unwrap();
    assert_eq!(
        bad.status.code(),
        Some(2),
        "conflicting modes are a usage error"
    );
}

#[test]
fn doc_diagnostics_arrive_with_their_version_and_the_quick_fix_keeps_human_text() {
    let shop = tandem_e2e::examples_shop();
    let cart = shop.join("src/shop/cart.py");
    let text = std::fs::read_to_string(&cart).unwrap();
    let uri = file_uri(&cart);
    let mut client = start(&shop, Value::Null, &[]);
    client.open(&uri, &text);
    let published = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
    });
    assert_eq!(published["params"]["version"], 1);
    let diagnostics = published["params"]["diagnostics"].as_array().unwrap();
    let wrong: Vec<&Value> = diagnostics
        .iter()
        .filter(|d| d["code"] == "DOC102" || d["code"] == "DOC103")
        .collect();
    assert!(!wrong.is_empty(), "{diagnostics:?}");
    let d = wrong[0];
    assert_eq!(d["source"], "tandem");
    assert!(d["message"].as_str().unwrap().contains("add"), "{d}");
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": wrong, "only": ["quickfix"]}}),
    );
    let fix = actions["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Update docstring to match signature")
        .expect("quick fix")
        .clone();
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["diagnostics"][0]["code"], wrong[0]["code"]);
    let request = json!({"params": {"edit": fix["edit"]}});
    assert_eq!(
        fix["edit"]["documentChanges"][0]["textDocument"]["version"],
        1
    );
    let fixed = apply(&text, &request);
    let start = fixed.find("    def add(").unwrap();
    let end = fixed[start..].find("        if quantity").unwrap() + start;
    assert_eq!(
        &fixed[start..end],
        "    def add(self, product: Product, quantity: int = 1) -> LineItem:\n        \"\"\"Add units of a product, merging with an existing line for it.\n\n        Args:\n            product (Product): What to add.\n            quantity (int): How many units to add.\n\n        Returns:\n            LineItem: The updated line item.\n\n        Raises:\n            CartError: If ``quantity`` is not positive.\n        \"\"\"\n"
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn twin_mode_applies_what_both_drafts_say_and_reports_the_disagreement() {
    use wiremock::matchers::body_string_contains;
    let server = MockServer::start().await;
    let draft = |ty: &str| json!({"docstrings": [{"symbol": "calc.add", "docstring": format!("Add two numbers.\n\nArgs:\n    a ({ty}): The first number.\n    b: The second number.\n\nReturns:\n    The sum.")}]});
    Mock::given(method("POST"))
        .and(body_string_contains("\"temperature\":0.2"))
        .respond_with(openai(&draft("int")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("\"temperature\":0.8"))
        .respond_with(openai(&draft("str")))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calc.py");
    std::fs::write(&file, ADD).unwrap();
    let uri = file_uri(&file);
    let mut options = model_options(&server);
    options["docs"] = json!({"streams": 2});
    let (text, note) = tokio::task::spawn_blocking(move || {
        let mut client = start(dir.path(), options, &[("TANDEM_E2E_KEY", "k")]);
        client.open(&uri, ADD);
        let (_, request) = client.execute_until_edit(document_at(&uri, 0));
        let text = apply(ADD, &request);
        answer(&mut client, &request, true);
        message(&mut client);
        // The editor applies the edit and tells the server.
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text}]}),
        );
        let published = client.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["version"] == 2
                && m["params"]["diagnostics"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|d| d["code"] == "TWIN"))
        });
        client.shutdown_and_exit();
        let note = published["params"]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == "TWIN")
            .unwrap()
            .clone();
        (text, note)
    })
    .await
    .unwrap();
    // The disputed type is left out (the code has no annotation); the agreed words stay.
    assert_eq!(
        text,
        "def add(a, b):\n    \"\"\"Add two numbers.\n\n    Args:\n        a: The first number.\n        b: The second number.\n\n    Returns:\n        The sum.\n    \"\"\"\n    return a + b\n"
    );
    assert_eq!(note["severity"], 3, "{note}");
    let message = note["message"].as_str().unwrap();
    assert!(
        message.contains("docstring of `add` needs review") && message.contains("`int` vs `str`"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_file_run_reports_progress_and_can_be_cancelled() {
    let server = MockServer::start().await;
    // The model is slow (2 s); the user gives up before it answers. Had the cancel not stopped
    // the run, the answer would arrive and a docstring edit would follow.
    Mock::given(method("POST"))
        .respond_with(
            openai(&json!({"docstrings": []})).set_delay(std::time::Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calc.py");
    std::fs::write(&file, ADD).unwrap();
    let uri = file_uri(&file);
    let mut options = model_options(&server);
    options["models"]["doc"]["timeout_secs"] = json!(120.0);
    let (shown, applied) = tokio::task::spawn_blocking(move || {
        let mut client = LspClient::start_in(dir.path(), &[("TANDEM_E2E_KEY", "k")]);
        client.initialize(
            json!({"window": {"workDoneProgress": true}, "workspace": {"workspaceEdit": {"documentChanges": true}}}),
            Some(dir.path()),
            options,
        );
        client.open(&uri, ADD);
        client.request("workspace/executeCommand", json!({"command": "tandem.document", "arguments": [{"uri": uri}]}));
        let create = client.wait_for(|m| {
            m["method"] == "window/workDoneProgress/create"
                && m["params"]["token"].as_str().is_some_and(|t| t.starts_with("tandem/document/"))
        });
        let token = create["params"]["token"].clone();
        client.send(&json!({"jsonrpc": "2.0", "id": create["id"], "result": null}));
        let begin = client.wait_for(|m| m["method"] == "$/progress" && m["params"]["token"] == token && m["params"]["value"]["kind"] == "begin");
        assert_eq!(begin["params"]["value"]["title"], "Documenting");
        assert_eq!(begin["params"]["value"]["cancellable"], true);
        client.notify("window/workDoneProgress/cancel", json!({"token": token}));
        let end = client.wait_for(|m| m["method"] == "$/progress" && m["params"]["token"] == token && m["params"]["value"]["kind"] == "end");
        assert!(
            end["params"]["value"]["message"].as_str().unwrap_or("").contains("cancelled"),
            "{end}"
        );
        let shown = message(&mut client);
        // Wait past the model's answer and its repair round (2 s each), then read everything the
        // server sent since.
        std::thread::sleep(std::time::Duration::from_secs(5));
        client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": uri}}));
        let applied = client.inbox.iter().any(|m| m["method"] == "workspace/applyEdit");
        client.shutdown_and_exit();
        (shown, applied)
    })
    .await
    .unwrap();
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{shown}"
    );
    assert!(!applied, "nothing is applied after a cancel");
}

#[tokio::test(flavor = "multi_thread")]
async fn prompts_carry_callee_docs_caller_usage_and_the_profile() {
    let server = MockServer::start().await;
    let answer = json!({"docstrings": [{"symbol": "app.total", "docstring": "Total the prices.\n\nArgs:\n    items: The prices.\n\nReturns:\n    The total."}]});
    Mock::given(method("POST"))
        .respond_with(openai(&answer))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pricing.py"),
        "def base(x):\n    \"\"\"Compute the base price of one item.\"\"\"\n    return x * 2\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("app.py"), "\"\"\"App.\"\"\"\nfrom pricing import base\n\n\ndef total(items):\n    return sum(base(i) for i in items)\n").unwrap();
    std::fs::write(
        dir.path().join("main.py"),
        "\"\"\"Main.\"\"\"\nfrom app import total\n\nprint(total([1, 2]))\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tandem.toml"),
        format!(
            "[models.doc]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\napi_key_env = \"TANDEM_E2E_KEY\"\nstream = false\nretries = 0\n\n[roles]\ndocumenter = [\"doc\"]\n\n[cache]\nenabled = false\n",
            server.uri()
        ),
    )
    .unwrap();
    let root = dir.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(tandem_binary())
            .args(["doc", "app.py"])
            .current_dir(&root)
            .env("TANDEM_E2E_KEY", "k")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("+    \"\"\"Total the prices."), "{stdout}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let prompt = body["messages"].to_string();
    assert!(
        prompt.contains("`pricing.base`: Compute the base price of one item."),
        "{prompt}"
    );
    assert!(
        prompt.contains("main.py:4: print(total([1, 2]))"),
        "{prompt}"
    );
    assert!(prompt.contains("def total(items)"), "{prompt}");
}
