//! End-to-end: running plans in the editor (`tandem.executePlan`, `tandem.cancelRun`,
//! `tandem.implement`) through the real `tandem serve`, with the coder played by a scripted
//! HTTP server on loopback: the one `workspace/applyEdit` with `documentChanges` carrying the
//! open document's version, a rejected edit recorded in the run, the "Implement `load_csv`
//! with AI" action on the shop's stub, and cancelling a run whose model stalls.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use tandem_e2e::faults::start_editor;
use tandem_e2e::mock::{model_toml, openai};
use tandem_e2e::{examples_shop, file_uri, tandem_binary, LspClient};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const CART: &str = "class Cart:\n    def __init__(self):\n        self.lines = {}\n\n    def add(self, sku, qty=1):\n        if qty <= 0:\n            raise ValueError(qty)\n        self.lines[sku] = self.lines.get(sku, 0) + qty\n        return self.lines[sku]\n";

const NEW_ADD: &str = "def add(self, sku, qty=1):\n    if qty <= 0 or qty > 99:\n        raise ValueError(qty)\n    self.lines[sku] = self.lines.get(sku, 0) + qty\n    return self.lines[sku]\n";

const PLAN: &str = "# Plan `p1`\n\n## Request\n\nCap quantities\n\n## Summary\n\nCap quantities at 99.\n\n\
## Estimate\n\n**small**: 1 item, 1 file, 9 lines of existing code touched, cyclomatic complexity 2; up to 2 attempts per item\n\n\
Planner: `plan`\n\n## Items\n\n\
- [x] **s1** modify `cart.py` — Cap the quantity\n  - symbols: `cart.Cart.add`\n  - depends on: none\n\n  Refuse quantities above 99 in `Cart.add`.\n";

fn workspace(server: &MockServer, timeout: f64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("cart.py"), CART).unwrap();
    std::fs::create_dir_all(root.join(".tandem/plans")).unwrap();
    std::fs::write(root.join(".tandem/plans/p1.md"), PLAN).unwrap();
    std::fs::write(
        root.join("tandem.toml"),
        model_toml(server, "code", "coder", timeout),
    )
    .unwrap();
    dir
}

fn edits(ops: Value) -> Value {
    json!({"operations": ops, "notes": null})
}

async fn coder(server: &MockServer, answer: Value, delay: Option<Duration>) {
    let mut response = openai(&answer);
    if let Some(d) = delay {
        response = response.set_delay(d);
    }
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(response)
        .mount(server)
        .await;
}

/// Applies the text edits of one `TextDocumentEdit` (ASCII sources: UTF-8 and UTF-16 agree).
fn apply(text: &str, change: &Value) -> String {
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let character = p["character"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + character
    };
    let mut edits: Vec<(usize, usize, String)> = change["edits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (s, e, t) in edits {
        out.replace_range(s..e, &t);
    }
    out
}

fn is_apply(m: &Value) -> bool {
    m["method"] == "workspace/applyEdit"
}

fn answer(client: &mut LspClient, request: &Value, applied: bool) {
    client.send(&json!({"jsonrpc": "2.0", "id": request["id"], "result": {"applied": applied}}));
}

fn message(client: &mut LspClient) -> String {
    let m = client.wait_for(|m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|s| s.starts_with("run "))
    });
    m["params"]["message"].as_str().unwrap().to_string()
}

fn execute(client: &mut LspClient, command: &str, argument: Value) {
    let response = client.request(
        "workspace/executeCommand",
        json!({"command": command, "arguments": [argument]}),
    );
    assert!(response.get("error").is_none(), "{response}");
}

/// `execute`, then the `workspace/applyEdit` the command sends (before or after its response).
fn execute_until_edit(client: &mut LspClient, command: &str, argument: Value) -> Value {
    let (response, edit) =
        client.execute_until_edit(json!({"command": command, "arguments": [argument]}));
    assert!(response.get("error").is_none(), "{response}");
    edit
}

#[tokio::test(flavor = "multi_thread")]
async fn execute_plan_sends_one_versioned_edit_of_the_open_document() {
    let server = MockServer::start().await;
    coder(
        &server,
        edits(json!([{"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": NEW_ADD}])),
        None,
    )
    .await;
    let dir = workspace(&server, 10.0);
    let uri = file_uri(&dir.path().join("cart.py"));
    let root = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut client = start_editor(&root);
        client.open(&uri, CART);
        // The same text at a later version: the edit must carry this one.
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 5}, "contentChanges": [{"text": CART}]}),
        );
        let request =
            execute_until_edit(&mut client, "tandem.executePlan", json!({"planId": "p1"}));
        let changes = request["params"]["edit"]["documentChanges"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(changes.len(), 1, "{request}");
        assert_eq!(changes[0]["textDocument"]["uri"], json!(uri));
        assert_eq!(changes[0]["textDocument"]["version"], json!(5));
        assert_eq!(
            apply(CART, &changes[0]),
            CART.replace("if qty <= 0:", "if qty <= 0 or qty > 99:")
        );
        answer(&mut client, &request, true);
        let shown = message(&mut client);
        assert!(shown.contains("applied changes to cart.py"), "{shown}");
        // The editor applies; the server writes nothing itself.
        assert_eq!(std::fs::read_to_string(root.join("cart.py")).unwrap(), CART);
        client.shutdown_and_exit();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_edit_is_recorded_and_nothing_is_applied() {
    let server = MockServer::start().await;
    coder(
        &server,
        edits(json!([{"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": NEW_ADD}])),
        None,
    )
    .await;
    let dir = workspace(&server, 10.0);
    let root = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut client = start_editor(&root);
        let request =
            execute_until_edit(&mut client, "tandem.executePlan", json!({"planId": "p1"}));
        // Not open in the editor: a null version, checked against the disk.
        let change = &request["params"]["edit"]["documentChanges"][0];
        assert_eq!(change["textDocument"]["version"], Value::Null, "{request}");
        answer(&mut client, &request, false);
        let shown = message(&mut client);
        assert!(shown.contains("nothing was applied"), "{shown}");
        let run_id = shown
            .strip_prefix("run ")
            .and_then(|s| s.split(':').next())
            .unwrap()
            .to_string();
        client.shutdown_and_exit();
        let out = Command::new(tandem_binary())
            .args(["runs", "show", &run_id, "--format", "json"])
            .current_dir(&root)
            .output()
            .unwrap();
        let details: Value = serde_json::from_slice(&out.stdout).unwrap();
        let applies: Vec<&Value> = details["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "apply")
            .collect();
        assert_eq!(applies.len(), 1, "{details}");
        assert_eq!(applies[0]["payload"]["applied"], json!(false));
        assert_eq!(std::fs::read_to_string(root.join("cart.py")).unwrap(), CART);
    })
    .await
    .unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn implement_fills_the_shops_stub_with_a_versioned_edit() {
    let shop = examples_shop();
    let source = std::fs::read_to_string(shop.join("src/shop/inventory.py")).unwrap();
    let start_at = source.find("    def load_csv").unwrap();
    let stub_at = source[start_at..]
        .find("        raise NotImplementedError\n")
        .unwrap()
        + start_at;
    let stub_end = stub_at + "        raise NotImplementedError\n".len();
    let body = "        import csv\n        from decimal import Decimal, InvalidOperation\n\n        count = 0\n        with open(path, newline=\"\", encoding=\"utf-8\") as handle:\n            for row in csv.DictReader(handle):\n                try:\n                    price = Decimal(row[\"price\"])\n                    quantity = int(row[\"quantity\"])\n                except (InvalidOperation, ValueError):\n                    raise ValueError(f\"malformed row: {row}\") from None\n                product = Product(row[\"sku\"], row[\"name\"], price, row[\"category\"])\n                self.add_product(product, quantity)\n                count += 1\n        return count\n";
    let method_text = format!("{}{body}", &source[start_at..stub_at]);
    let content: String = method_text
        .split_inclusive('\n')
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect();
    let expected = format!("{}{body}{}", &source[..stub_at], &source[stub_end..]);

    let server = MockServer::start().await;
    coder(
        &server,
        edits(json!([{"op": "replace_symbol", "path": "src/shop/inventory.py", "symbol": "Inventory.load_csv", "content": content}])),
        None,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&shop, dir.path());
    std::fs::write(
        dir.path().join("tandem.toml"),
        model_toml(&server, "code", "coder", 10.0),
    )
    .unwrap();
    let root = dir.path().to_path_buf();
    let file = root.join("src/shop/inventory.py");
    let uri = file_uri(&file);
    tokio::task::spawn_blocking(move || {
        let mut client = start_editor(&root);
        client.open(&uri, &source);
        let line = source[..stub_at].matches('\n').count();
        let range = json!({"start": {"line": line, "character": 8}, "end": {"line": line, "character": 8}});
        let actions = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range, "context": {"diagnostics": [], "only": ["refactor.rewrite"]}}),
        );
        let action = actions["result"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["title"] == "Implement `load_csv` with AI")
            .unwrap_or_else(|| panic!("{actions}"))
            .clone();
        assert_eq!(action["command"]["command"], "tandem.implement");
        let request = execute_until_edit(&mut client, "tandem.implement", action["command"]["arguments"][0].clone());
        let change = &request["params"]["edit"]["documentChanges"][0];
        assert_eq!(change["textDocument"]["version"], json!(1), "{request}");
        assert_eq!(apply(&source, change), expected);
        answer(&mut client, &request, true);
        let shown = message(&mut client);
        assert!(
            shown.contains("applied changes to src/shop/inventory.py"),
            "{shown}"
        );
        client.shutdown_and_exit();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_run_stops_a_stalled_model_and_applies_nothing() {
    let server = MockServer::start().await;
    coder(
        &server,
        edits(json!([{"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": NEW_ADD}])),
        // Slow rather than stalled: had the cancel not stopped the run, the answer would
        // arrive after 2 s and its edit would be sent.
        Some(Duration::from_secs(2)),
    )
    .await;
    let dir = workspace(&server, 120.0);
    let root = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut client = start_editor(&root);
        execute(&mut client, "tandem.executePlan", json!({"planId": "p1"}));
        let begin = client.wait_for(|m| {
            m["method"] == "$/progress"
                && m["params"]["value"]["kind"] == "begin"
                && m["params"]["value"]["title"] == "Running plan p1"
        });
        let note = begin["params"]["value"]["message"].as_str().unwrap();
        let run_id = note
            .strip_prefix("run ")
            .and_then(|s| s.split(':').next())
            .unwrap_or_else(|| panic!("{begin}"))
            .to_string();
        // Let the model call start.
        client.wait_for(|m| {
            m["method"] == "$/progress"
                && m["params"]["value"]["kind"] == "report"
                && m["params"]["value"]["message"]
                    .as_str()
                    .is_some_and(|s| s.contains("attempt 1"))
        });
        let started = std::time::Instant::now();
        execute(&mut client, "tandem.cancelRun", json!({"runId": run_id}));
        let shown = message(&mut client);
        assert!(shown.contains("cancelled; nothing was applied"), "{shown}");
        assert!(started.elapsed() < Duration::from_secs(20));
        // Wait past the model's answer, then read everything the server sent since.
        std::thread::sleep(Duration::from_secs(3));
        execute(&mut client, "tandem.runs", json!({}));
        assert!(!client.inbox.iter().any(is_apply));
        client.shutdown_and_exit();
        let out = Command::new(tandem_binary())
            .args(["runs", "show", &run_id, "--format", "json"])
            .current_dir(&root)
            .output()
            .unwrap();
        let details: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(details["status"], "cancelled", "{details}");
        assert_eq!(std::fs::read_to_string(root.join("cart.py")).unwrap(), CART);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_run_finishes_a_failed_run_and_creates_files_with_create_file() {
    let server = MockServer::start().await;
    let broken = edits(
        json!([{"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": "def add(self, sku, qty=1:\n    return 1\n"}]),
    );
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai(&broken))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    coder(
        &server,
        edits(json!([
            {"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": NEW_ADD},
            {"op": "create_file", "path": "limits.py", "content": "LIMIT = 99\n"}
        ])),
        None,
    )
    .await;
    let dir = workspace(&server, 10.0);
    let root = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut client = start_editor(&root);
        execute(&mut client, "tandem.executePlan", json!({"planId": "p1"}));
        let shown = message(&mut client);
        assert!(shown.contains(": failed; no changes"), "{shown}");
        let run_id = shown
            .strip_prefix("run ")
            .and_then(|s| s.split(':').next())
            .unwrap()
            .to_string();
        let request = execute_until_edit(&mut client, "tandem.resumeRun", json!({"runId": run_id}));
        let changes = request["params"]["edit"]["documentChanges"]
            .as_array()
            .unwrap()
            .clone();
        let create = changes
            .iter()
            .position(|c| c["kind"] == "create")
            .unwrap_or_else(|| panic!("{request}"));
        assert!(changes[create]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/limits.py"));
        assert_eq!(
            changes[create + 1]["textDocument"]["uri"],
            changes[create]["uri"]
        );
        assert_eq!(apply("", &changes[create + 1]), "LIMIT = 99\n");
        answer(&mut client, &request, true);
        let shown = message(&mut client);
        assert!(
            shown.starts_with(&format!("run {run_id}: succeeded; applied")),
            "{shown}"
        );
        client.shutdown_and_exit();
    })
    .await
    .unwrap();
}
