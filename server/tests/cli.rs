//! The command line, run as a user would run it.

use std::path::PathBuf;
use std::process::Command;

fn tandem() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
}

fn shop() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/shop")
}

#[test]
fn version_and_help_work() {
    let out = tandem().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tandem "));
    let out = tandem().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("serve") && help.contains("symbols"), "{help}");
}

#[test]
fn symbols_prints_the_outline_of_the_example_project() {
    let out = tandem()
        .args(["symbols", "src"])
        .current_dir(shop())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let cart_line = text
        .lines()
        .find(|l| l.contains("class shop.cart.Cart"))
        .expect(&text);
    assert!(cart_line.starts_with("src/shop/cart.py:"), "{cart_line}");
    assert!(
        text.lines()
            .any(|l| l.contains("def shop.cart.Cart.add(self")),
        "{text}"
    );
}

#[test]
fn symbols_as_json_is_valid_and_has_one_based_lines() {
    let out = tandem()
        .args(["symbols", "src/shop/cart.py", "--format", "json"])
        .current_dir(shop())
        .output()
        .unwrap();
    assert!(out.status.success());
    let files: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &files[0];
    assert_eq!(file["path"], "src/shop/cart.py");
    assert_eq!(file["module"], "shop.cart");
    let cart = file["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Cart")
        .unwrap();
    assert!(cart["line"].as_u64().unwrap() >= 1);
    assert_eq!(cart["kind"], "class");
}

#[test]
fn a_missing_path_is_one_clear_error() {
    let out = tandem()
        .args(["symbols", "no/such/file.py"])
        .current_dir(shop())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("no/such/file.py"), "{err}");
}

#[test]
fn an_unknown_command_is_a_usage_error() {
    let out = tandem().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn serve_accepts_stdio_flag_and_exits_one_without_shutdown() {
    // With no input at all the client never asked for shutdown.
    let out = tandem()
        .args(["serve", "--stdio"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn graph_in_pycg_format_links_modules() {
    let out = tandem()
        .args(["graph", "src", "--format", "pycg"])
        .current_dir(shop())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let graph: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let callees = graph["shop.cart.Cart.total"]
        .as_array()
        .expect("Cart.total is a node");
    assert!(
        callees.iter().any(|c| c == "shop.pricing.price_items"),
        "{callees:?}"
    );
}

#[test]
fn graph_with_focus_as_dot_and_mermaid() {
    let out = tandem()
        .args([
            "graph",
            "src",
            "--format",
            "dot",
            "--focus",
            "Cart.total",
            "--depth",
            "1",
        ])
        .current_dir(shop())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph calls {"), "{dot}");
    assert!(
        dot.contains("\"shop.cart.Cart.total\" -> \"shop.pricing.price_items\";"),
        "{dot}"
    );
    let out = tandem()
        .args([
            "graph",
            "src",
            "--format",
            "mermaid",
            "--focus",
            "price_items",
        ])
        .current_dir(shop())
        .output()
        .unwrap();
    let mermaid = String::from_utf8_lossy(&out.stdout);
    assert!(mermaid.starts_with("flowchart LR"), "{mermaid}");
    assert!(mermaid.contains("shop.pricing.price_items"), "{mermaid}");
}

#[test]
fn graph_json_has_locations_and_call_sites() {
    let out = tandem()
        .args(["graph", "src/shop", "--format", "json"])
        .current_dir(shop())
        .output()
        .unwrap();
    assert!(out.status.success());
    let graph: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let node = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "shop.cart.Cart")
        .expect("Cart");
    assert_eq!(node["kind"], "class");
    assert_eq!(node["path"], "src/shop/cart.py");
    let edge = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["caller"] == "shop.cart.Cart.total" && e["callee"] == "shop.pricing.price_items"
        })
        .expect("the edge");
    assert_eq!(edge["sites"][0]["path"], "src/shop/cart.py");
    assert!(edge["sites"][0]["line"].as_u64().unwrap() > 1);
}

#[test]
fn graph_focus_that_matches_nothing_is_an_error() {
    let out = tandem()
        .args(["graph", "src", "--focus", "no_such_thing"])
        .current_dir(shop())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_thing"));
}

#[test]
fn context_has_its_layers_in_priority_order() {
    let out = tandem()
        .args(["context", "src/shop/cart.py:88", "--budget", "3000"])
        .current_dir(shop())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let focus = text.find("# Focus: shop.cart.Cart.total").expect(&text);
    let callers = text.find("# Called by").expect(&text);
    let callees = text.find("# Calls").expect(&text);
    let profile = text.find("# Project").expect(&text);
    let map = text.find("# Repository map").expect(&text);
    assert!(focus < callers && callers < callees && callees < profile && profile < map);
    assert!(
        text.contains("shop.pricing.price_items("),
        "the callee's signature: {text}"
    );
    assert!(text.contains("Docstrings: Google style"), "{text}");
    // The focus file is not repeated in the map.
    assert!(!text[map..].contains("src/shop/cart.py:"), "{text}");
}

#[test]
fn a_short_budget_cuts_the_lower_layers_first() {
    let run = |budget: &str| {
        let out = tandem()
            .args(["context", "src/shop/cart.py:88", "--budget", budget])
            .current_dir(shop())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let small = run("200");
    assert!(small.contains("# Focus: shop.cart.Cart.total"), "{small}");
    assert!(!small.contains("# Repository map"), "{small}");
    let tiny = run("40");
    assert!(!tiny.contains("# Project"), "{tiny}");
    assert!(tiny.len() < small.len());
}

/// A scratch folder with the given Python files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("tandem-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // A marker so that the workspace root is the scratch folder itself.
        std::fs::write(dir.join("tandem.toml"), "").unwrap();
        for (path, text) in files {
            std::fs::write(dir.join(path), text).unwrap();
        }
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const UNDOCUMENTED_ARG: &str =
    "def f(a, b):\n    \"\"\"Do.\n\n    Args:\n        a: A.\n    \"\"\"\n";

#[test]
fn check_reports_doc_findings_as_json_and_exits_1() {
    let scratch = Scratch::new("check-json", &[("m.py", UNDOCUMENTED_ARG)]);
    let out = tandem()
        .args(["check", "--select", "DOC", "--format", "json", "m.py"])
        .current_dir(&scratch.0)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["DOC101", "DOC103"]);
    let first = &findings[0];
    assert_eq!(first["path"], "m.py");
    assert_eq!(first["line"], 1);
    assert_eq!(first["column"], 5);
    assert_eq!(first["end_line"], 1);
    assert_eq!(first["end_column"], 6);
    assert_eq!(first["severity"], "warning");
    assert!(first["message"]
        .as_str()
        .unwrap()
        .starts_with("Function `f`"));
}

#[test]
fn check_prints_text_lines_and_honours_select_and_ignore() {
    let scratch = Scratch::new("check-text", &[("m.py", UNDOCUMENTED_ARG)]);
    let out = tandem()
        .args(["check", "--select", "DOC1", "--ignore", "DOC103", "."])
        .current_dir(&scratch.0)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        "m.py:1:5: DOC101 Function `f`: Docstring contains fewer arguments than in function signature."
    );
}

#[test]
fn check_exits_0_without_findings_and_2_on_usage_errors() {
    let scratch = Scratch::new(
        "check-clean",
        &[(
            "m.py",
            "def f(a):\n    \"\"\"Do.\n\n    Args:\n        a: A.\n    \"\"\"\n",
        )],
    );
    let out = tandem()
        .args(["check", "--select", "DOC", "m.py"])
        .current_dir(&scratch.0)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty());
    let bad = tandem()
        .args(["check", "--select", "DOC-1", "m.py"])
        .current_dir(&scratch.0)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("DOC-1"));
    let missing = tandem()
        .args(["check", "nowhere.py"])
        .current_dir(&scratch.0)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn check_style_comes_from_the_configuration() {
    let numpy_doc = "def f(a):\n    \"\"\"Do.\n\n    Parameters\n    ----------\n    a\n        A.\n    \"\"\"\n";
    let scratch = Scratch::new("check-style", &[("m.py", numpy_doc)]);
    std::fs::write(
        scratch.0.join("tandem.toml"),
        "[docs]\nstyle = \"google\"\n",
    )
    .unwrap();
    let google = tandem()
        .args(["check", "--skip-checking-short-docstrings", "false", "m.py"])
        .current_dir(&scratch.0)
        .output()
        .unwrap();
    assert_eq!(
        google.status.code(),
        Some(1),
        "read as google, the numpy section is no section"
    );
    let numpy = tandem()
        .args(["check", "--style", "numpy", "m.py"])
        .current_dir(&scratch.0)
        .output()
        .unwrap();
    assert_eq!(
        numpy.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&numpy.stdout)
    );
}
