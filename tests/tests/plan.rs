//! End-to-end: planning through the real `tandem serve` (`tandem.plan`, the plan file under
//! `.tandem/plans/`, `window/showDocument`) and through `tandem plan`, with the planner played
//! by a scripted HTTP server on loopback (a valid plan, a hostile one) or by the offline
//! engine on `examples/shop`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use tandem_e2e::mock::{self, openai};
use tandem_e2e::{examples_shop, file_uri, tandem_binary, LspClient};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const CART: &str = "class Cart:\n    def __init__(self):\n        self.lines = {}\n\n    def add(self, sku, qty=1):\n        if qty <= 0:\n            raise ValueError(qty)\n        self.lines[sku] = self.lines.get(sku, 0) + qty\n        return self.lines[sku]\n";
const TEST: &str =
    "from cart import Cart\n\n\ndef test_add():\n    assert Cart().add(\"a\") == 1\n";

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cart.py"), CART).unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("tests/test_cart.py"), TEST).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "__pycache__" && entry.file_name() != ".tandem" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn shop_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("shop");
    copy_dir(&examples_shop(), &root);
    (dir, root)
}

fn start(dir: &Path, options: Value, env: &[(&str, &str)]) -> LspClient {
    let mut client = LspClient::start_in(dir, env);
    client.initialize(
        json!({"window": {"showDocument": {"support": true}, "workDoneProgress": true}}),
        Some(dir),
        options,
    );
    client
}

fn model_options(server: &MockServer) -> Value {
    mock::model_options(server, "plan", "planner")
}

fn message(client: &mut LspClient) -> Value {
    client.wait_for(|m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|s| !s.contains("config"))
    })
}

fn plan_files(root: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(root.join(".tandem/plans")) {
        Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Runs `tandem.plan`, answers `window/showDocument`, returns the shown path (if any) and
/// the message.
fn run_plan(
    client: &mut LspClient,
    args: Value,
    expect_document: bool,
) -> (Option<PathBuf>, Value) {
    let run = client.request(
        "workspace/executeCommand",
        json!({"command": "tandem.plan", "arguments": [args]}),
    );
    assert!(run.get("error").is_none(), "{run}");
    let shown = if expect_document {
        let request = client.wait_for(|m| m["method"] == "window/showDocument");
        client.send(&json!({"jsonrpc": "2.0", "id": request["id"], "result": {"success": true}}));
        let uri = request["params"]["uri"].as_str().unwrap().to_string();
        assert_eq!(request["params"]["takeFocus"], true);
        Some(PathBuf::from(uri.strip_prefix("file://").unwrap()))
    } else {
        None
    };
    (shown, message(client))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_plan_is_written_with_checkboxes_and_mermaid_and_opened() {
    let server = MockServer::start().await;
    let plan = json!({
        "summary": "Refuse quantities above 99 in `Cart.add` and test it.",
        "items": [
            {"id": "s2", "title": "Test the cap", "kind": "test", "file": "tests/test_cart.py",
             "symbols": [], "description": "Add test_add_refuses_100.", "depends_on": ["s1"]},
            {"id": "s1", "title": "Cap the quantity", "kind": "modify", "file": "./cart.py",
             "symbols": ["cart.Cart.add"], "description": "Raise ValueError when qty > 99.", "depends_on": []}
        ]
    });
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai(&plan))
        .mount(&server)
        .await;
    let dir = workspace();
    let root = dir.path().to_path_buf();
    let options = model_options(&server);
    let uri = file_uri(&root.join("cart.py"));
    let (shown, shown_message) = tokio::task::spawn_blocking(move || {
        let mut client = start(&root, options, &[("TANDEM_E2E_KEY", "k")]);
        let out = run_plan(
            &mut client,
            json!({"request": "Refuse more than 99 units", "uri": uri, "range": {"start": {"line": 5, "character": 8}, "end": {"line": 5, "character": 8}}}),
            true,
        );
        assert_eq!(client.shutdown_and_exit().code(), Some(0));
        out
    })
    .await
    .unwrap();
    let text = shown_message["params"]["message"].as_str().unwrap();
    assert_eq!(shown_message["params"]["type"], 3, "{shown_message}");
    assert!(text.contains("2 items"), "{text}");
    assert!(text.contains("by `plan`"), "{text}");
    let files = plan_files(dir.path());
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(
        std::fs::canonicalize(shown.unwrap()).unwrap(),
        std::fs::canonicalize(file).unwrap()
    );
    let id = file.file_stem().unwrap().to_str().unwrap();
    assert!(text.contains(&format!("plan {id}")), "{text}");
    let markdown = std::fs::read_to_string(file).unwrap();
    // Dependency order, normalised paths, checkboxes, the Mermaid graph.
    assert!(
        markdown.contains("- [x] **s1** modify `cart.py` — Cap the quantity\n  - symbols: `cart.Cart.add`\n  - depends on: none\n\n  Raise ValueError when qty > 99.\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "- [x] **s2** test `tests/test_cart.py` — Test the cap\n  - depends on: `s1`\n"
        ),
        "{markdown}"
    );
    assert!(markdown.find("**s1**").unwrap() < markdown.find("**s2**").unwrap());
    assert!(markdown.contains("```mermaid\ngraph TD\n"), "{markdown}");
    assert!(markdown.contains("n0 --> n1"), "{markdown}");
    assert!(markdown.contains("## Estimate\n\n**small**"), "{markdown}");
    // The prompt carried the request and the context of the place.
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let prompt = body["messages"].to_string();
    assert!(prompt.contains("Refuse more than 99 units"), "{prompt}");
    assert!(prompt.contains("def add(self, sku, qty=1)"), "{prompt}");
    assert!(prompt.contains("tests/test_cart.py"), "{prompt}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_plan_is_repaired_once_then_refused_and_nothing_is_written() {
    let server = MockServer::start().await;
    let hostile = json!({
        "summary": "Escape.",
        "items": [
            {"id": "a", "title": "Write outside", "kind": "create", "file": "../outside.py",
             "symbols": [], "description": "x", "depends_on": ["b"]},
            {"id": "b", "title": "Loop back", "kind": "modify", "file": "cart.py",
             "symbols": [], "description": "y", "depends_on": ["a"]}
        ]
    });
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai(&hostile))
        .mount(&server)
        .await;
    let dir = workspace();
    let root = dir.path().to_path_buf();
    let options = model_options(&server);
    let shown = tokio::task::spawn_blocking(move || {
        let mut client = start(&root, options, &[("TANDEM_E2E_KEY", "k")]);
        let (_, shown) = run_plan(&mut client, json!({"request": "Do it"}), false);
        assert_eq!(client.shutdown_and_exit().code(), Some(0));
        shown
    })
    .await
    .unwrap();
    let text = shown["params"]["message"].as_str().unwrap();
    assert_eq!(shown["params"]["type"], 1, "{shown}");
    assert!(text.contains("invalid after one repair round"), "{text}");
    assert!(
        text.contains("`../outside.py` leads outside the workspace"),
        "{text}"
    );
    assert!(text.contains("cycle: a → b → a"), "{text}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2, "one repair round");
    let repair: Value = serde_json::from_slice(&requests[1].body).unwrap();
    let feedback = repair["messages"].to_string();
    assert!(feedback.contains("That plan cannot be used"), "{feedback}");
    assert!(
        feedback.contains("leads outside the workspace"),
        "{feedback}"
    );
    assert!(plan_files(dir.path()).is_empty());
    assert!(!dir.path().parent().unwrap().join("outside.py").exists());
}

#[test]
fn the_offline_planner_on_the_shop_lists_callers_tests_and_says_a_model_plans() {
    let (_tmp, root) = shop_copy();
    let mut client = start(&root, Value::Null, &[]);
    let (shown, message) = run_plan(
        &mut client,
        json!({"request": "Make `Cart.add` refuse quantities above 99"}),
        true,
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
    assert_eq!(message["params"]["type"], 3, "{message}");
    assert!(
        message["params"]["message"]
            .as_str()
            .unwrap()
            .contains("by `builtin`"),
        "{message}"
    );
    let markdown = std::fs::read_to_string(shown.unwrap()).unwrap();
    assert!(markdown.contains("Planner: `builtin`"), "{markdown}");
    assert!(markdown.contains("a model writes real plans"), "{markdown}");
    assert!(
        markdown.contains("- [x] **a1** modify `src/shop/cart.py` — Change `Cart.add`"),
        "{markdown}"
    );
    assert!(markdown.contains("test `tests/test_cart.py`"), "{markdown}");
    assert!(
        markdown.contains("test `tests/test_orders.py`"),
        "{markdown}"
    );
    assert!(markdown.contains("(calls `Cart.add`)"), "{markdown}");
    assert!(
        markdown.contains("docs `src/shop/cart.py` — Update the docstrings of `Cart.add`"),
        "{markdown}"
    );
    assert!(markdown.contains("```mermaid"), "{markdown}");
}

#[test]
fn tandem_plan_on_the_shop_offline_prints_the_file_and_its_markdown() {
    let (_tmp, root) = shop_copy();
    let output = Command::new(tandem_binary())
        .args([
            "plan",
            "Make `Cart.add` refuse quantities above 99",
            "--focus",
            "src/shop/cart.py:27",
        ])
        .current_dir(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let first = stdout.lines().next().unwrap();
    assert!(
        first.contains(".tandem/plans/") && first.ends_with(".md"),
        "{stdout}"
    );
    let written = std::fs::read_to_string(first).unwrap();
    assert!(stdout.ends_with(&written), "{stdout}");
    assert!(written.contains("# Plan `"), "{written}");
    assert!(
        written.contains("- [x] **a1** modify `src/shop/cart.py`"),
        "{written}"
    );
    assert!(written.contains("tests/test_cart.py"), "{written}");
    assert!(written.contains("a model writes real plans"), "{written}");
    assert!(stderr.contains("by `builtin`"), "{stderr}");

    // A request that names nothing, with no focus: the offline planner says what to do.
    let output = Command::new(tandem_binary())
        .args(["plan", "make it faster"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("name them in backticks"), "{stderr}");

    // A focus line the file does not have is refused, and no plan is written.
    let output = Command::new(tandem_binary())
        .args(["plan", "make it faster", "--focus", "src/shop/cart.py:500"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--focus src/shop/cart.py: no line 500"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}
