//! End-to-end: `tandem run PLAN` with the coder played by a scripted HTTP server on loopback:
//! the diff printed, `--apply` writing it, a syntax error retried with the error as feedback,
//! paths a model may not write refused with nothing written, an unchecked item skipped, the
//! attempts in `tandem runs show`, and the offline coder failing clearly.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};
use tandem_e2e::faults::tandem_in;
use tandem_e2e::mock::{model_toml, openai};
use tandem_e2e::tandem_binary;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const CART: &str = "class Cart:\n    def __init__(self):\n        self.lines = {}\n\n    def add(self, sku, qty=1):\n        if qty <= 0:\n            raise ValueError(qty)\n        self.lines[sku] = self.lines.get(sku, 0) + qty\n        return self.lines[sku]\n";

const NEW_ADD: &str = "def add(self, sku, qty=1):\n    if qty <= 0 or qty > 99:\n        raise ValueError(qty)\n    self.lines[sku] = self.lines.get(sku, 0) + qty\n    return self.lines[sku]\n";

fn plan_text(second_checked: bool) -> String {
    format!(
        "# Plan `p1`\n\n## Request\n\nCap quantities\n\n## Summary\n\nCap quantities at 99.\n\n\
## Estimate\n\n**small**: 2 items, 2 files, 9 lines of existing code touched, cyclomatic complexity 2; up to 2 attempts per item\n\n\
Planner: `plan`\n\n## Items\n\n\
- [x] **s1** modify `cart.py` — Cap the quantity\n  - symbols: `cart.Cart.add`\n  - depends on: none\n\n  Refuse quantities above 99 in `Cart.add`.\n\n\
- [{}] **s2** test `tests/test_cart.py` — Test the cap\n  - depends on: `s1`\n\n  Add a test.\n",
        if second_checked { "x" } else { " " }
    )
}

fn workspace(server: &MockServer, second_checked: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("cart.py"), CART).unwrap();
    std::fs::create_dir_all(root.join(".tandem/plans")).unwrap();
    std::fs::write(root.join(".tandem/plans/p1.md"), plan_text(second_checked)).unwrap();
    std::fs::write(
        root.join("tandem.toml"),
        model_toml(server, "code", "coder", 5.0),
    )
    .unwrap();
    dir
}

fn edits(ops: Value) -> Value {
    json!({"operations": ops, "notes": null})
}

/// The command line in `root` with the test API key, whatever its exit status.
fn tandem(root: &Path, args: &[&str]) -> Output {
    tandem_in(root, args, false)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_diff_is_printed_and_written_only_with_apply() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai(&edits(json!([
            {"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": NEW_ADD}
        ]))))
        .expect(2)
        .mount(&server)
        .await;
    let dir = workspace(&server, false);
    let root = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking({
        let root = root.clone();
        move || tandem(&root, &["run", "p1"])
    })
    .await
    .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("--- a/cart.py\n+++ b/cart.py\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-        if qty <= 0:\n+        if qty <= 0 or qty > 99:\n"),
        "{stdout}"
    );
    assert!(stderr.contains("skipped (unchecked): s2"), "{stderr}");
    assert_eq!(std::fs::read_to_string(root.join("cart.py")).unwrap(), CART);

    // By path, with --apply: written.
    let out = tokio::task::spawn_blocking({
        let root = root.clone();
        move || tandem(&root, &["run", ".tandem/plans/p1.md", "--apply"])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(root.join("cart.py")).unwrap();
    assert!(
        written.contains("        if qty <= 0 or qty > 99:\n"),
        "{written}"
    );
    assert!(!root.join("tests/test_cart.py").exists());

    let out = tandem(&root, &["runs"]);
    assert!(
        text(&out.stdout).contains("execute  succeeded"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_syntax_error_goes_back_as_feedback_then_the_fix_is_accepted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai(&edits(json!([
            {"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": "def add(self, sku, qty=1:\n    return 1\n"}
        ]))))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai(&edits(json!([
            {"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": NEW_ADD}
        ]))))
        .mount(&server)
        .await;
    let dir = workspace(&server, false);
    let root = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking({
        let root = root.clone();
        move || tandem(&root, &["run", "p1", "--apply"])
    })
    .await
    .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("attempt 2"), "{stderr}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let second = String::from_utf8_lossy(&requests[1].body).to_string();
    assert!(second.contains("new syntax error at line 5"), "{second}");
    assert!(
        second.contains("def add(self, sku, qty=1:"),
        "the first answer is in the history"
    );
    let written = std::fs::read_to_string(root.join("cart.py")).unwrap();
    assert!(written.contains("qty > 99"), "{written}");

    let out = tandem(&root, &["runs"]);
    let listing = text(&out.stdout);
    let id = listing
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let out = tandem(&root, &["runs", "show", &id]);
    let shown = text(&out.stdout);
    assert!(shown.contains("s1 #1: failed"), "{shown}");
    assert!(shown.contains("new syntax error"), "{shown}");
    assert!(shown.contains("s1 #2: succeeded"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn paths_out_of_the_workspace_are_refused_and_nothing_is_written() {
    let outside = tempfile::tempdir().unwrap();
    let outside_file = outside.path().join("abs.py");
    let cases: Vec<(String, String)> = vec![
        ("../outside.py".to_string(), "../outside.py".to_string()),
        (
            outside_file.display().to_string(),
            outside_file.display().to_string(),
        ),
        ("out/x.py".to_string(), "out/x.py".to_string()),
    ];
    for (target, named) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(openai(&edits(json!([
                {"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": NEW_ADD},
                {"op": "create_file", "path": target, "content": "x = 1\n"}
            ]))))
            .expect(1)
            .mount(&server)
            .await;
        let dir = workspace(&server, false);
        let root = dir.path().to_path_buf();
        std::os::unix::fs::symlink(outside.path(), root.join("out")).unwrap();
        let out = tokio::task::spawn_blocking({
            let root = root.clone();
            move || tandem(&root, &["run", "p1", "--apply"])
        })
        .await
        .unwrap();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("refused"), "{stderr}");
        assert!(stderr.contains(&named), "{named}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert_eq!(std::fs::read_to_string(root.join("cart.py")).unwrap(), CART);
        assert!(!dir.path().parent().unwrap().join("outside.py").exists());
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checked_dependent_item_runs_after_its_dependency() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(wiremock::matchers::body_string_contains("The step `s1`"))
        .respond_with(openai(&edits(json!([
            {"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": NEW_ADD}
        ]))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(wiremock::matchers::body_string_contains("The step `s2`"))
        .respond_with(openai(&edits(json!([
            {"op": "create_file", "path": "tests/test_cart.py", "content": "import pytest\n\nfrom cart import Cart\n\n\ndef test_cap():\n    with pytest.raises(ValueError):\n        Cart().add(\"a\", 100)\n"}
        ]))))
        .expect(1)
        .mount(&server)
        .await;
    let dir = workspace(&server, true);
    let root = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking({
        let root = root.clone();
        move || tandem(&root, &["run", "p1"])
    })
    .await
    .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("--- /dev/null\n+++ b/tests/test_cart.py\n"),
        "{stdout}"
    );
    assert!(stdout.contains("+++ b/cart.py"), "{stdout}");
    // The test item saw the first item's change.
    let requests = server.received_requests().await.unwrap();
    let second = requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).to_string())
        .find(|b| b.contains("The step `s2`"))
        .unwrap();
    assert!(
        second.contains("tests/test_cart.py` does not exist yet"),
        "{second}"
    );
}

#[test]
fn offline_the_run_fails_saying_a_model_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("cart.py"), CART).unwrap();
    std::fs::create_dir_all(root.join(".tandem/plans")).unwrap();
    std::fs::write(root.join(".tandem/plans/p1.md"), plan_text(false)).unwrap();
    let out = tandem(root, &["run", "p1", "--apply"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("writing code needs a model"), "{stderr}");
    assert_eq!(std::fs::read_to_string(root.join("cart.py")).unwrap(), CART);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_test_command_goes_back_as_feedback() {
    let server = MockServer::start().await;
    let weak = "def add(self, sku, qty=1):\n    if qty <= 0 or qty > 100:\n        raise ValueError(qty)\n    self.lines[sku] = self.lines.get(sku, 0) + qty\n    return self.lines[sku]\n";
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai(&edits(json!([
            {"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": weak}
        ]))))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai(&edits(json!([
            {"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": NEW_ADD}
        ]))))
        .mount(&server)
        .await;
    let dir = workspace(&server, false);
    let root = dir.path().to_path_buf();
    let mut config = std::fs::read_to_string(root.join("tandem.toml")).unwrap();
    config.push_str(
        "\n[run]\ntest_command = \"grep -q 'qty > 99' cart.py || (echo cap missing; exit 3)\"\n",
    );
    std::fs::write(root.join("tandem.toml"), config).unwrap();
    let out = tokio::task::spawn_blocking({
        let root = root.clone();
        move || tandem(&root, &["run", "p1"])
    })
    .await
    .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let second = String::from_utf8_lossy(&requests[1].body).to_string();
    assert!(second.contains("the test command"), "{second}");
    assert!(second.contains("cap missing"), "{second}");
    assert!(text(&out.stdout).contains("qty > 99"));
    // The scratch copy is gone and the workspace untouched.
    assert_eq!(std::fs::read_to_string(root.join("cart.py")).unwrap(), CART);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_run_is_resumed_and_only_its_pending_items_run() {
    let server = MockServer::start().await;
    // s1 succeeds; s2 fails twice (syntax errors), so the run fails.
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(wiremock::matchers::body_string_contains("The step `s1`"))
        .respond_with(openai(&edits(json!([
            {"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": NEW_ADD}
        ]))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(wiremock::matchers::body_string_contains("The step `s2`"))
        .respond_with(openai(&edits(json!([
            {"op": "create_file", "path": "tests/test_cart.py", "content": "def test_x(:\n"}
        ]))))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(wiremock::matchers::body_string_contains("The step `s2`"))
        .respond_with(openai(&edits(json!([
            {"op": "create_file", "path": "tests/test_cart.py", "content": "def test_x():\n    assert True\n"}
        ]))))
        .mount(&server)
        .await;
    let dir = workspace(&server, true);
    let root = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking({
        let root = root.clone();
        move || tandem(&root, &["run", "p1", "--apply"])
    })
    .await
    .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("s2: failed"), "{stderr}");
    // The succeeded item was written.
    assert!(std::fs::read_to_string(root.join("cart.py"))
        .unwrap()
        .contains("qty > 99"));
    let id = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("tandem: run ")
                .and_then(|r| r.split_whitespace().next())
        })
        .unwrap()
        .to_string();

    let out = tokio::task::spawn_blocking({
        let root = root.clone();
        let id = id.clone();
        move || tandem(&root, &["run", "--resume", &id, "--apply"])
    })
    .await
    .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("resuming run {id}: s2")),
        "{stderr}"
    );
    assert!(root.join("tests/test_cart.py").exists());
    let shown = text(&tandem(&root, &["runs", "show", &id]).stdout);
    assert!(shown.contains("s2 #3: succeeded"), "{shown}");
}

/// `kill -9` in the middle of a run (the coder stalls), then: the run is `interrupted` when the
/// store is opened again, nothing was written, and `--resume` finishes it.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_mid_way_is_interrupted_and_resumes_to_done() {
    let stalled = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(openai(&edits(json!([]))).set_delay(std::time::Duration::from_secs(120)))
        .mount(&stalled)
        .await;
    let dir = workspace(&stalled, false);
    let root = dir.path().to_path_buf();
    let mut child = Command::new(tandem_binary())
        .args(["run", "p1", "--apply"])
        .current_dir(&root)
        .env("TANDEM_E2E_KEY", "k")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is recorded as running (the model request is then in flight).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let id = loop {
        let out = tandem(&root, &["runs", "--format", "json"]);
        let listed: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let running = listed
            .as_array()
            .and_then(|runs| runs.iter().find(|r| r["status"] == "running"))
            .and_then(|r| r["id"].as_str().map(str::to_string));
        if let Some(id) = running {
            if !stalled
                .received_requests()
                .await
                .unwrap_or_default()
                .is_empty()
            {
                break id;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(std::fs::read_to_string(root.join("cart.py")).unwrap(), CART);

    let out = tandem(&root, &["runs", "show", &id, "--format", "json"]);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["status"], "interrupted", "{shown}");
    assert_eq!(shown["pending_items"], json!(["s1"]), "{shown}");

    // The model answers now; the run is resumed and finished.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(openai(&edits(json!([
            {"op": "replace_symbol", "path": "cart.py", "symbol": "Cart.add", "content": NEW_ADD}
        ]))))
        .mount(&server)
        .await;
    let toml = std::fs::read_to_string(root.join("tandem.toml"))
        .unwrap()
        .replace(&stalled.uri(), &server.uri());
    std::fs::write(root.join("tandem.toml"), toml).unwrap();
    let out = tokio::task::spawn_blocking({
        let root = root.clone();
        let id = id.clone();
        move || tandem(&root, &["run", "--resume", &id, "--apply"])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(root.join("cart.py"))
        .unwrap()
        .contains("qty > 99"));
    let out = tandem(&root, &["runs", "show", &id, "--format", "json"]);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["status"], "succeeded", "{shown}");
}
