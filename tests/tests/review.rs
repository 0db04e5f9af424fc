//! End-to-end: review diagnostics through the real `tandem serve`.

use std::time::Duration;

use serde_json::{json, Value};
use tandem_e2e::hostile::write;
use tandem_e2e::{examples_shop, file_uri, LspClient};

fn diagnostics_with(client: &mut LspClient, uri: &str, code: &str) -> Vec<Value> {
    // The project rules need the cold index: generous for a loaded machine.
    let published = client.wait_for_within(Duration::from_secs(60), |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["code"] == code))
    });
    published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .clone()
}

/// A server on `examples/shop` with its file `relative` open: the client, the file's URI and text.
fn open_in_shop(relative: &str) -> (LspClient, String, String) {
    let shop = examples_shop();
    let mut client = LspClient::start_in(&shop, &[]);
    client.initialize(json!({}), Some(&shop), Value::Null);
    let path = shop.join(relative);
    let uri = file_uri(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    client.open(&uri, &text);
    (client, uri, text)
}

#[test]
fn project_rules_arrive_once_the_index_is_built() {
    let shop = examples_shop();
    let mut client = LspClient::start_in(&shop, &[]);
    client.initialize(json!({}), Some(&shop), Value::Null);
    let orders = shop.join("src/shop/orders.py");
    let utils = shop.join("src/shop/utils.py");
    let (orders_uri, utils_uri) = (file_uri(&orders), file_uri(&utils));
    client.open(&orders_uri, &std::fs::read_to_string(&orders).unwrap());
    client.open(&utils_uri, &std::fs::read_to_string(&utils).unwrap());
    let found = diagnostics_with(&mut client, &orders_uri, "TDM021");
    let call = found.iter().find(|d| d["code"] == "TDM021").unwrap();
    assert_eq!(call["range"]["start"]["line"], 123, "{call}");
    assert!(
        call["message"]
            .as_str()
            .unwrap()
            .contains("missing `quantity`"),
        "{call}"
    );
    assert_eq!(call["severity"], 1);
    let found = diagnostics_with(&mut client, &utils_uri, "TDM020");
    let unused: Vec<&str> = found
        .iter()
        .filter(|d| d["code"] == "TDM020")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(unused.len(), 1, "{unused:?}");
    assert!(unused[0].contains("`slugify`"), "{unused:?}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn project_rules_follow_an_edit_once_the_index_has_the_new_text() {
    let (mut client, uri, text) = open_in_shop("src/shop/utils.py");
    diagnostics_with(&mut client, &uri, "TDM020");
    // Typing a new function, a keystroke at a time: the index re-analyses the document once
    // the typing pauses, and the diagnostics of the last version carry the project rules.
    let added = "\n\ndef orphan_helper():\n    return 1\n";
    let end_line = text.lines().count() as u32;
    let mut version = 1;
    for (i, ch) in added.char_indices() {
        version += 1;
        let (line, character) = added[..i].chars().fold((end_line, 0u32), |(l, c), x| {
            if x == '\n' {
                (l + 1, 0)
            } else {
                (l, c + 1)
            }
        });
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": {"start": {"line": line, "character": character}, "end": {"line": line, "character": character}}, "text": ch.to_string()}]}),
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The first publish of the last version may come before the index has its text (then
    // without the project rules); the server publishes that version again once it has. Wait
    // for that one, however long a loaded machine takes, rather than for the first.
    let published = client.wait_for_within(Duration::from_secs(60), |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri.as_str()
            && m["params"]["version"] == json!(version)
            && messages_of(m, "TDM020")
                .iter()
                .any(|m| m.contains("`orphan_helper`"))
    });
    let unused = messages_of(&published, "TDM020");
    assert_eq!(unused.len(), 2, "{unused:?}");
    assert!(
        unused.iter().any(|m| m.contains("`orphan_helper`")),
        "{unused:?}"
    );
    assert!(unused.iter().any(|m| m.contains("`slugify`")), "{unused:?}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// The messages of the findings with `code` in a publishDiagnostics.
fn messages_of<'a>(published: &'a Value, code: &str) -> Vec<&'a str> {
    published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .map(|d| d["message"].as_str().unwrap())
        .collect()
}

/// The first publishDiagnostics of `uri` that reports `name` unused (TDM020), which must be
/// of the document's first version: no edit was needed to get it.
fn wait_for_unused(client: &mut LspClient, uri: &str, name: &str) -> Value {
    let published = client.wait_for_within(Duration::from_secs(60), |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && messages_of(m, "TDM020").iter().any(|m| m.contains(name))
    });
    assert_eq!(published["params"]["version"], 1, "{published}");
    published
}

#[test]
fn project_rules_reach_a_file_created_after_the_index_was_built_without_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let core = "def used():\n    return 1\n\n\ndef main():\n    return used()\n";
    for (file, text) in [("pkg/__init__.py", ""), ("pkg/core.py", core)] {
        write(root, file, text);
    }
    let mut client = LspClient::start_in(root, &[]);
    client.initialize(
        json!({"window": {"workDoneProgress": true}}),
        Some(root),
        Value::Null,
    );
    client.wait_for(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    // Files that appear on disk after the index was built, each opened and never edited: one
    // the editor reports no watcher event for, one it reports as created after opening it (the
    // server leaves an open document's file on disk alone: the editor's text is the truth).
    let fresh = "from pkg.core import used\n\n\ndef fresh_orphan():\n    return used(1)\n";
    write(root, "pkg/fresh.py", fresh);
    let fresh_uri = file_uri(&root.join("pkg/fresh.py"));
    client.open(&fresh_uri, fresh);
    let published = wait_for_unused(&mut client, &fresh_uri, "`fresh_orphan`");
    let calls = messages_of(&published, "TDM021");
    assert_eq!(calls.len(), 1, "{published}");
    assert!(calls[0].contains("`used`"), "{calls:?}");

    let watched = "def watched_orphan():\n    return 2\n";
    write(root, "pkg/watched.py", watched);
    let watched_uri = file_uri(&root.join("pkg/watched.py"));
    client.open(&watched_uri, watched);
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": watched_uri, "type": 1}]}),
    );
    wait_for_unused(&mut client, &watched_uri, "`watched_orphan`");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn built_in_rules_arrive_as_diagnostics_with_their_quick_fixes() {
    let (mut client, uri, text) = open_in_shop("src/shop/models.py");
    let found = diagnostics_with(&mut client, &uri, "TDM004");
    let d = found
        .iter()
        .find(|d| d["code"] == "TDM004")
        .unwrap()
        .clone();
    assert_eq!(d["source"], "tandem");
    assert_eq!(d["range"]["start"]["line"], 68, "{d}");
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d], "only": ["quickfix"]}}),
    );
    let fix = actions["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "quickfix" && a["diagnostics"][0]["code"] == "TDM004")
        .expect("a quick fix")
        .clone();
    let change = &fix["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["version"], 1);
    let line = text.lines().nth(68).unwrap();
    assert!(line.contains("== None"), "{line}");
    // Apply the edits to that line (they are on one line).
    let mut fixed = line.to_string();
    let mut edits: Vec<&Value> = change["edits"].as_array().unwrap().iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e["range"]["start"]["character"].as_u64().unwrap()));
    for e in edits {
        assert_eq!(e["range"]["start"]["line"], 68);
        let (a, b) = (
            e["range"]["start"]["character"].as_u64().unwrap() as usize,
            e["range"]["end"]["character"].as_u64().unwrap() as usize,
        );
        fixed.replace_range(a..b, e["newText"].as_str().unwrap());
    }
    assert!(
        fixed.contains("is None") && !fixed.contains("== None"),
        "{fixed}"
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
