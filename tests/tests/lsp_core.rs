//! End-to-end: the real `tandem serve` over stdio — lifecycle, encodings, document sync,
//! malformed input, unknown documents, configuration problems.

use serde_json::{json, Value};
use tandem_e2e::{examples_shop, file_uri, lsp_position, LspClient, Rng};

fn utf8_caps() -> Value {
    json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}})
}

#[test]
fn initialize_shutdown_exit_gives_exit_code_zero() {
    let mut client = LspClient::start();
    let response = client.initialize(utf8_caps(), None, Value::Null);
    let caps = &response["result"]["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-8");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["documentSymbolProvider"], true);
    assert_eq!(response["result"]["serverInfo"]["name"], "tandem");
    let status = client.shutdown_and_exit();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn utf16_is_chosen_when_utf8_is_not_offered() {
    let mut client = LspClient::start();
    let response = client.initialize(json!({}), None, Value::Null);
    assert_eq!(
        response["result"]["capabilities"]["positionEncoding"],
        "utf-16"
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn exit_without_shutdown_gives_exit_code_one() {
    let mut client = LspClient::start();
    client.initialize(json!({}), None, Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit().code(), Some(1));
}

#[test]
fn malformed_messages_get_errors_and_the_next_request_is_answered() {
    let mut client = LspClient::start();
    client.initialize(json!({}), None, Value::Null);

    client.send_raw(b"Content-Length: 9\r\n\r\n{\"broken\"");
    let parse_error = client.wait_for(|m| m["error"]["code"] == -32700);
    assert_eq!(parse_error["id"], Value::Null);

    client.send(&json!({"jsonrpc": "2.0", "id": 99, "params": {}}));
    let invalid = client.wait_for(|m| m["error"]["code"] == -32600);
    assert_eq!(invalid["id"], 99);

    client.send_raw(b"X-Nothing: here\r\n\r\n");
    client.wait_for(|m| m["error"]["code"] == -32700 && m["id"].is_null());

    // Not valid UTF-8 inside the JSON body.
    client.send_raw(b"Content-Length: 4\r\n\r\n\"\xff\xfe\"");
    client.wait_for(|m| m["error"]["code"] == -32700);

    // Wrong parameters for a known method: an error for that request only.
    let response = client.request("textDocument/documentSymbol", json!({"textDocument": 5}));
    assert_eq!(response["error"]["code"], -32602, "{response}");

    client.open("file:///tmp/ok.py", "def ok():\n    pass\n");
    let response = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": "file:///tmp/ok.py"}}),
    );
    assert_eq!(response["result"][0]["name"], "ok", "{response}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn requests_for_unknown_documents_get_invalid_params() {
    let mut client = LspClient::start();
    client.initialize(json!({}), None, Value::Null);
    let response = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": "file:///nowhere/x.py"}}),
    );
    assert_eq!(response["error"]["code"], -32602);
    assert!(response["error"]["message"]
        .as_str()
        .unwrap()
        .contains("file:///nowhere/x.py"));
    // Changes and closes for unknown documents are ignored, not fatal.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": "file:///nowhere/x.py", "version": 2}, "contentChanges": [{"text": "x"}]}),
    );
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": "file:///nowhere/x.py"}}),
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn document_symbols_of_the_example_project() {
    let root = examples_shop();
    let path = root.join("src/shop/cart.py");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = file_uri(&path);
    let mut client = LspClient::start_in(&root, &[]);
    client.initialize(utf8_caps(), Some(&root), Value::Null);
    client.open(&uri, &text);
    let response = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let symbols = response["result"].as_array().expect("symbols");
    let cart = symbols
        .iter()
        .find(|s| s["name"] == "Cart")
        .expect("class Cart");
    assert_eq!(cart["kind"], 5, "class");
    let methods: Vec<&str> = cart["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(
        methods.contains(&"add") && methods.contains(&"total"),
        "{methods:?}"
    );
    let add = cart["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "add")
        .unwrap();
    assert_eq!(add["kind"], 6, "method");
    assert!(
        add["detail"].as_str().unwrap().starts_with("(self"),
        "{}",
        add["detail"]
    );
    // The selection range is exactly the name in the text.
    let sel = &add["selectionRange"];
    let line = text
        .lines()
        .nth(sel["start"]["line"].as_u64().unwrap() as usize)
        .unwrap();
    let (a, b) = (
        sel["start"]["character"].as_u64().unwrap() as usize,
        sel["end"]["character"].as_u64().unwrap() as usize,
    );
    assert_eq!(&line[a..b], "add");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// Pieces the random edits insert: multi-byte characters, line breaks of every kind, and
/// Python definitions, so that the symbols (names and ranges) depend on every part of the text.
const PIECES: &[&str] = &[
    "x",
    "é",
    "😀",
    "中文",
    "👩\u{200d}💻",
    "e\u{301}",
    "\n",
    "\r\n",
    " ",
    "(",
    ")",
    ":",
    "def gé😀(a, b):\n    return a\n",
    "class K中:\n    def m(self): ...\n",
    "\n\ndef z():\n    pass\n",
    "    ",
    "async def w(*a, **k):\n    yield 1\n",
];

fn random_edit(rng: &mut Rng, text: &str) -> (usize, usize, String) {
    let boundaries: Vec<usize> = (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    let a = boundaries[rng.below(boundaries.len())];
    let b = if rng.below(3) == 0 {
        a
    } else {
        let span = boundaries
            .iter()
            .copied()
            .filter(|&x| x >= a && x <= a + 12)
            .collect::<Vec<_>>();
        span[rng.below(span.len())]
    };
    let insert = if rng.below(4) == 0 {
        String::new()
    } else {
        PIECES[rng.below(PIECES.len())].to_string()
    };
    (a, b, insert)
}

/// Splitting a `\r\n` pair would leave a text the two sides may count differently; clients
/// never do it, so neither do the random edits.
fn splits_crlf(text: &str, offset: usize) -> bool {
    offset > 0 && offset < text.len() && &text.as_bytes()[offset - 1..=offset] == b"\r\n"
}

fn symbols(client: &mut LspClient, uri: &str) -> Value {
    let response = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(response.get("result").is_some(), "{response}");
    response["result"].clone()
}

fn random_edits_keep_server_and_client_in_step(utf16: bool, seed: u64) {
    let caps = if utf16 { json!({}) } else { utf8_caps() };
    let mut client = LspClient::start();
    client.initialize(caps, None, Value::Null);
    let uri = "file:///tmp/edited.py";
    let mut text = String::from(
        "def start(x):\n    return 'é'\n\nclass Base:\n    def run(self):\n        pass\n",
    );
    client.open(uri, &text);
    let mut rng = Rng::new(seed);
    let mut version = 1;
    for step in 1..=1000 {
        let (a, b, insert) = random_edit(&mut rng, &text);
        if splits_crlf(&text, a) || splits_crlf(&text, b) {
            continue;
        }
        let start = lsp_position(&text, a, utf16);
        let end = lsp_position(&text, b, utf16);
        version += 1;
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{
                    "range": {"start": {"line": start.0, "character": start.1},
                              "end": {"line": end.0, "character": end.1}},
                    "text": insert
                }]
            }),
        );
        text.replace_range(a..b, &insert);
        if step % 100 == 0 {
            // The edited document must give exactly what a fresh document with the client's
            // text gives: same names, kinds, details and ranges for every symbol.
            let fresh = format!("file:///tmp/fresh-{seed}-{step}.py");
            client.open(&fresh, &text);
            let edited_symbols = symbols(&mut client, uri);
            let fresh_symbols = symbols(&mut client, &fresh);
            assert_eq!(
                edited_symbols, fresh_symbols,
                "diverged after {step} edits; text: {text:?}"
            );
            client.notify(
                "textDocument/didClose",
                json!({"textDocument": {"uri": fresh}}),
            );
        }
    }
    // The final text has definitions in it, so the comparison above was not of empty lists.
    let final_symbols = symbols(&mut client, uri);
    assert!(
        final_symbols.as_array().is_some_and(|s| !s.is_empty()),
        "{text:?}"
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_thousand_random_utf16_edits_keep_the_document_in_step() {
    random_edits_keep_server_and_client_in_step(true, 0x5eed_0001);
}

#[test]
fn a_thousand_random_utf8_edits_keep_the_document_in_step() {
    random_edits_keep_server_and_client_in_step(false, 0x5eed_0002);
}

#[test]
fn edits_past_the_end_are_clamped_not_fatal() {
    let mut client = LspClient::start();
    client.initialize(json!({}), None, Value::Null);
    let uri = "file:///tmp/clamp.py";
    client.open(uri, "def a():\n    pass\n");
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [
                {"range": {"start": {"line": 50, "character": 9}, "end": {"line": 90, "character": 0}},
                 "text": "def b():\n    pass\n"},
                {"range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 400}},
                 "text": "renamed():"}
            ]
        }),
    );
    let expected = "def renamed():\n    pass\ndef b():\n    pass\n";
    client.open("file:///tmp/clamp-fresh.py", expected);
    let edited = symbols(&mut client, uri);
    let fresh = symbols(&mut client, "file:///tmp/clamp-fresh.py");
    assert_eq!(edited, fresh);
    let names: Vec<&str> = edited
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["renamed", "b"]);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn stale_versions_are_dropped_and_logged() {
    let mut client = LspClient::start();
    client.initialize(json!({}), None, Value::Null);
    let uri = "file:///tmp/stale.py";
    client.open(uri, "def a():\n    pass\n");
    let change = |version: i32, text: &str| json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]});
    client.notify(
        "textDocument/didChange",
        change(3, "def three():\n    pass\n"),
    );
    client.notify(
        "textDocument/didChange",
        change(2, "def two():\n    pass\n"),
    );
    let result = symbols(&mut client, uri);
    assert_eq!(result[0]["name"], "three");
    let stderr = client.stderr.clone();
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
    let log = stderr.lock().unwrap().clone();
    assert!(
        log.contains("dropping out-of-order change") && log.contains("version 2 arrived after 3"),
        "{log}"
    );
}

#[test]
fn configuration_problems_are_shown_and_defaults_apply() {
    let dir = std::env::temp_dir().join(format!("tandem-e2e-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tandem.toml"), "[workspace]\nexlude = [\"x\"]\n").unwrap();
    let mut client = LspClient::start_in(&dir, &[]);
    client.initialize(json!({}), Some(&dir), Value::Null);
    let message = client.wait_for(|m| m["method"] == "window/showMessage");
    let text = message["params"]["message"].as_str().unwrap();
    assert!(text.contains("workspace.exlude"), "{text}");
    assert_eq!(message["params"]["type"], 2, "a warning");

    // A bad value from the editor's settings is an error message; the server goes on.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"tandem": {"workspace": {"max_file_size": "big"}}}}),
    );
    let message = client.wait_for(|m| m["method"] == "window/showMessage");
    assert_eq!(message["params"]["type"], 1, "an error: {message}");
    assert!(message["params"]["message"]
        .as_str()
        .unwrap()
        .contains("max_file_size"));
    client.open("file:///tmp/after.py", "def after():\n    pass\n");
    assert_eq!(
        symbols(&mut client, "file:///tmp/after.py")[0]["name"],
        "after"
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn settings_are_pulled_when_the_client_sends_none() {
    let mut client = LspClient::start();
    client.initialize(
        json!({"workspace": {"configuration": true}}),
        None,
        Value::Null,
    );
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    let request = client.wait_for(|m| m["method"] == "workspace/configuration");
    assert_eq!(request["params"]["items"][0]["section"], "tandem");
    client.send(&json!({
        "jsonrpc": "2.0",
        "id": request["id"],
        "result": [{"workspace": {"max_file_size": "big"}}]
    }));
    let message = client.wait_for(|m| m["method"] == "window/showMessage");
    assert_eq!(message["params"]["type"], 1, "{message}");
    assert!(message["params"]["message"]
        .as_str()
        .unwrap()
        .contains("max_file_size"));
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
