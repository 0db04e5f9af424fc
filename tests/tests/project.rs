//! End-to-end: the project index in the server — indexing progress, file watching, call
//! hierarchy over the example project, and the index following edits.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tandem_e2e::{examples_shop, file_uri, LspClient};

fn position_of(text: &str, needle: &str, skip: usize) -> (u32, u32) {
    let offset = text.find(needle).expect("needle in text") + skip;
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .encode_utf16()
        .count() as u32;
    (line, column)
}

fn start_on_shop() -> LspClient {
    let root = examples_shop();
    let mut client = LspClient::start_in(&root, &[]);
    client.initialize(
        json!({
            "window": {"workDoneProgress": true},
            "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}
        }),
        Some(&root),
        Value::Null,
    );
    // Indexing reports progress and ends; the file watcher is registered after it.
    let end =
        client.wait_for(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    assert!(
        end["params"]["value"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Indexed"),
        "{end}"
    );
    let registration = client.wait_for(|m| {
        m["method"] == "client/registerCapability"
            && m["params"]["registrations"][0]["method"] == "workspace/didChangeWatchedFiles"
    });
    client.send(&json!({"jsonrpc": "2.0", "id": registration["id"], "result": null}));
    client
}

#[test]
fn indexing_reports_progress_with_file_counts() {
    let root = examples_shop();
    let mut client = LspClient::start_in(&root, &[]);
    client.initialize(
        json!({"window": {"workDoneProgress": true}}),
        Some(&root),
        Value::Null,
    );
    let create = client.wait_for(|m| m["method"] == "window/workDoneProgress/create");
    let token = create["params"]["token"].clone();
    client.send(&json!({"jsonrpc": "2.0", "id": create["id"], "result": null}));
    let begin =
        client.wait_for(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "begin");
    assert_eq!(begin["params"]["token"], token);
    assert_eq!(begin["params"]["value"]["title"], "Indexing");
    let report = client
        .wait_for(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "report");
    let message = report["params"]["value"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Indexing ") && message.ends_with(" files"),
        "{message}"
    );
    client.wait_for(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn call_hierarchy_across_modules() {
    let root = examples_shop();
    let mut client = start_on_shop();
    let cart = root.join("src/shop/cart.py");
    let cart_uri = file_uri(&cart);
    let text = std::fs::read_to_string(&cart).unwrap();
    client.open(&cart_uri, &text);

    // On a call: the item is the function called.
    let (line, character) = position_of(&text, "price_items(self.items", 2);
    let prepared = client.request(
        "textDocument/prepareCallHierarchy",
        json!({"textDocument": {"uri": cart_uri}, "position": {"line": line, "character": character}}),
    );
    let item = prepared["result"][0].clone();
    assert_eq!(item["detail"], "shop.pricing.price_items", "{prepared}");
    assert!(item["uri"]
        .as_str()
        .unwrap()
        .ends_with("src/shop/pricing.py"));

    let incoming = client.request("callHierarchy/incomingCalls", json!({"item": item}));
    let calls = incoming["result"].as_array().expect("incoming calls");
    let from_total = calls
        .iter()
        .find(|c| c["from"]["detail"] == "shop.cart.Cart.total")
        .unwrap_or_else(|| panic!("Cart.total calls price_items: {incoming}"));
    assert_eq!(
        from_total["fromRanges"][0]["start"]["line"], line,
        "{from_total}"
    );

    // On a definition's name: the definition itself, and what it calls.
    let (line, character) = position_of(&text, "def total", 5);
    let prepared = client.request(
        "textDocument/prepareCallHierarchy",
        json!({"textDocument": {"uri": cart_uri}, "position": {"line": line, "character": character}}),
    );
    let total = prepared["result"][0].clone();
    assert_eq!(total["detail"], "shop.cart.Cart.total", "{prepared}");
    assert_eq!(total["kind"], 6, "a method");
    let outgoing = client.request("callHierarchy/outgoingCalls", json!({"item": total}));
    let callees: Vec<&str> = outgoing["result"]
        .as_array()
        .expect("outgoing calls")
        .iter()
        .map(|c| c["to"]["detail"].as_str().unwrap())
        .collect();
    assert!(callees.contains(&"shop.pricing.price_items"), "{callees:?}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn the_index_follows_edits_in_the_editor() {
    let root = examples_shop();
    let mut client = start_on_shop();
    let pricing = root.join("src/shop/pricing.py");
    let cart = root.join("src/shop/cart.py");
    let cart_uri = file_uri(&cart);
    let text = std::fs::read_to_string(&cart).unwrap();
    client.open(&cart_uri, &text);
    let lines = text.lines().count() as u32;
    // Append a new function that calls price_items, as a user would type it.
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": cart_uri, "version": 2},
            "contentChanges": [{
                "range": {"start": {"line": lines, "character": 0}, "end": {"line": lines, "character": 0}},
                "text": "\n\ndef quick_total(items):\n    return price_items(items, [])\n"
            }]
        }),
    );
    let pricing_text = std::fs::read_to_string(&pricing).unwrap();
    let (line, character) = position_of(&pricing_text, "def price_items", 5);
    let pricing_uri = file_uri(&pricing);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let prepared = client.request(
            "textDocument/prepareCallHierarchy",
            json!({"textDocument": {"uri": pricing_uri}, "position": {"line": line, "character": character}}),
        );
        let item = prepared["result"][0].clone();
        let incoming = client.request("callHierarchy/incomingCalls", json!({"item": item}));
        let callers: Vec<String> = incoming["result"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| c["from"]["detail"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        if callers.iter().any(|c| c == "shop.cart.quick_total") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new caller never appeared: {callers:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn call_hierarchy_outside_the_index_is_invalid_params() {
    let mut client = LspClient::start();
    client.initialize(json!({}), None, Value::Null);
    client.open("file:///tmp/loose.py", "def f():\n    pass\n");
    let response = client.request(
        "textDocument/prepareCallHierarchy",
        json!({"textDocument": {"uri": "file:///tmp/loose.py"}, "position": {"line": 0, "character": 4}}),
    );
    assert_eq!(response["error"]["code"], -32602, "{response}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
