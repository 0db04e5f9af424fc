//! The command line, run as a user would run it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn tandem() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
}

/// The standard output of `tandem ARGS` run in `dir`, which must succeed.
fn stdout_of(args: &[&str], dir: &Path) -> Vec<u8> {
    let out = tandem().args(args).current_dir(dir).output().unwrap();
    assert_success(&out);
    out.stdout
}

fn shop() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/shop")
}

/// Runs `tandem` with `args` in the example project.
fn in_shop(args: &[&str]) -> std::process::Output {
    tandem().args(args).current_dir(shop()).output().unwrap()
}

fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    let out = in_shop(&["symbols", "src"]);
    assert_success(&out);
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
    let out = in_shop(&["symbols", "src/shop/cart.py", "--format", "json"]);
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
    let out = in_shop(&["symbols", "no/such/file.py"]);
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
    let out = in_shop(&["graph", "src", "--format", "pycg"]);
    assert_success(&out);
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
    let out = in_shop(&[
        "graph",
        "src",
        "--format",
        "dot",
        "--focus",
        "Cart.total",
        "--depth",
        "1",
    ]);
    assert_success(&out);
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph calls {"), "{dot}");
    assert!(
        dot.contains("\"shop.cart.Cart.total\" -> \"shop.pricing.price_items\";"),
        "{dot}"
    );
    let out = in_shop(&[
        "graph",
        "src",
        "--format",
        "mermaid",
        "--focus",
        "price_items",
    ]);
    let mermaid = String::from_utf8_lossy(&out.stdout);
    assert!(mermaid.starts_with("flowchart LR"), "{mermaid}");
    assert!(mermaid.contains("shop.pricing.price_items"), "{mermaid}");
}

/// PyCG's format lists every caller: a node of the focus whose calls all lead outside it (here
/// a class whose body calls a function, focused with depth 0) is listed with no callees.
#[test]
fn graph_focus_lists_callers_whose_callees_are_outside_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pkg")).unwrap();
    std::fs::write(dir.path().join("pkg/__init__.py"), "").unwrap();
    std::fs::write(
        dir.path().join("pkg/main.py"),
        "def helper():\n    pass\n\n\nclass Config:\n    helper()\n",
    )
    .unwrap();
    let graph = |focus: &[&str]| -> serde_json::Value {
        let args = [&["graph", "pkg", "--format", "pycg"], focus].concat();
        serde_json::from_slice(&stdout_of(&args, dir.path())).unwrap()
    };
    assert_eq!(
        graph(&[])["pkg.main.Config"],
        serde_json::json!(["pkg.main.helper"])
    );
    assert_eq!(
        graph(&["--focus", "Config", "--depth", "0"]),
        serde_json::json!({"pkg.main.Config": []})
    );
}

#[test]
fn graph_json_has_locations_and_call_sites() {
    let out = in_shop(&["graph", "src/shop", "--format", "json"]);
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
    let out = in_shop(&["graph", "src", "--focus", "no_such_thing"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_thing"));
}

#[test]
fn context_has_its_layers_in_priority_order() {
    let out = in_shop(&["context", "src/shop/cart.py:88", "--budget", "3000"]);
    assert_success(&out);
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
fn context_refuses_a_line_the_file_does_not_have() {
    for target in [
        "src/shop/cart.py:0",
        "src/shop/cart.py:103",
        "src/shop/cart.py:5000",
    ] {
        let out = in_shop(&["context", target]);
        assert_eq!(out.status.code(), Some(1), "{target}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("src/shop/cart.py: no line"), "{err}");
        assert!(err.contains("the file has 101"), "{err}");
        assert!(out.stdout.is_empty(), "{target}");
    }
    // The last line is still a line, and so is the empty one after the final newline,
    // where an editor's cursor can be (the module is the focus there).
    let out = in_shop(&["context", "src/shop/cart.py:101"]);
    assert_success(&out);
    let out = in_shop(&["context", "src/shop/cart.py:102"]);
    assert_success(&out);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# Focus: shop.cart ("));
}

#[test]
fn a_short_budget_cuts_the_lower_layers_first() {
    let run = |budget: &str| {
        let out = in_shop(&["context", "src/shop/cart.py:88", "--budget", budget]);
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
        .args(["check", "--select", "DOC", "--style", "numpy", "m.py"])
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

/// A module with one finding of most built-in rules, a DOC finding, and `# noqa` comments.
const REVIEWED: &str = "\
def build(order, footer=[]):
    \"\"\"Build.

    Args:
        order: The order.
    \"\"\"
    footer.append(order)
    if order == None:
        return footer
    return footer
    print(f\"done\")


def quiet(a):  # noqa
    try:
        a.run()
    except:
        pass


def partly(list):  # noqa: TDM012
    return list
";

fn run_check(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = tandem()
        .arg("check")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `path:line:col: CODE` of each printed line.
fn places(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.splitn(5, ' ').take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn check_runs_the_review_rules_and_the_doc_checks_together_honouring_noqa() {
    let scratch = Scratch::new("check-review", &[("m.py", REVIEWED)]);
    let (code, out, err) = run_check(&scratch.0, &["m.py"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        places(&out),
        [
            "m.py:1:5: DOC101",
            "m.py:1:5: DOC103",
            "m.py:1:5: DOC201",
            // Nothing in this one-file project calls `build` or `partly` (the project pass).
            "m.py:1:5: TDM020",
            "m.py:1:25: TDM001",
            "m.py:8:8: TDM004",
            "m.py:11:5: TDM007",
            "m.py:11:11: TDM006",
            // `quiet` carries a blanket `# noqa` on its def line, which covers only that line:
            // its bare except (line 17) is still reported.
            "m.py:17:5: TDM002",
            "m.py:17:5: TDM003",
            "m.py:21:5: TDM020",
            "m.py:21:12: TDM009",
        ],
        "{out}"
    );
    assert!(
        out.contains("m.py:8:8: TDM004 Comparison `order == None`"),
        "{out}"
    );
}

#[test]
fn check_select_and_ignore_come_from_review_config_and_the_command_line_replaces_them() {
    let scratch = Scratch::new("check-review-config", &[("m.py", REVIEWED)]);
    std::fs::write(
        scratch.0.join("tandem.toml"),
        "[review]\nselect = [\"TDM\"]\nignore = [\"TDM00\", \"TDM02\"]\n",
    )
    .unwrap();
    let (code, out, _) = run_check(&scratch.0, &["m.py"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out, _) = run_check(
        &scratch.0,
        &["--ignore", "TDM001,TDM002,TDM003,TDM02", "m.py"],
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        places(&out),
        [
            "m.py:8:8: TDM004",
            "m.py:11:5: TDM007",
            "m.py:11:11: TDM006",
            "m.py:21:12: TDM009"
        ]
    );
    // A command-line select replaces the configured one; the configured ignore still applies.
    let (code, out, _) = run_check(&scratch.0, &["--select", "DOC,TDM001", "m.py"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        places(&out),
        ["m.py:1:5: DOC101", "m.py:1:5: DOC103", "m.py:1:5: DOC201"]
    );
    // A command-line ignore replaces the configured one.
    let (code, out, _) = run_check(
        &scratch.0,
        &["--select", "DOC,TDM001", "--ignore", "DOC", "m.py"],
    );
    assert_eq!(code, Some(1));
    assert_eq!(places(&out), ["m.py:1:25: TDM001"]);

    std::fs::write(
        scratch.0.join("tandem.toml"),
        "[review]\nselect = [\"TDM-1\"]\n",
    )
    .unwrap();
    let (code, _, err) = run_check(&scratch.0, &["m.py"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("review.select") && err.contains("TDM-1"),
        "{err}"
    );
}

#[test]
fn check_json_keeps_its_shape_with_review_findings() {
    let scratch = Scratch::new("check-review-json", &[("m.py", REVIEWED)]);
    let (code, out, _) = run_check(
        &scratch.0,
        &["--select", "TDM004", "--format", "json", "m.py"],
    );
    assert_eq!(code, Some(1));
    let findings: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &findings[0];
    let keys: Vec<&String> = f.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "code",
            "column",
            "end_column",
            "end_line",
            "line",
            "message",
            "path",
            "severity"
        ]
    );
    assert_eq!(f["code"], "TDM004");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(8), Some(8))
    );
    assert_eq!(
        (f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(8), Some(21))
    );
    assert_eq!(f["severity"], "warning");
}

/// Checks the properties SARIF 2.1.0 requires (and the values it allows) on the objects
/// `tandem check --format sarif` writes: sarifLog (version, runs), run (tool), tool (driver),
/// toolComponent (name), reportingDescriptor (id), result (message), message (text),
/// physicalLocation/artifactLocation (uri), region (1-based lines and columns).
fn assert_valid_sarif(log: &serde_json::Value) {
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    for run in runs {
        let driver = &run["tool"]["driver"];
        assert!(driver["name"].is_string(), "tool.driver.name is required");
        assert!(matches!(
            run["columnKind"].as_str(),
            Some("unicodeCodePoints" | "utf16CodeUnits")
        ));
        let rules = driver["rules"].as_array().expect("rules");
        for rule in rules {
            assert!(rule["id"].is_string(), "reportingDescriptor.id is required");
            assert!(rule["shortDescription"]["text"].is_string());
            let help = rule["helpUri"].as_str().unwrap();
            let anchor = rule["id"].as_str().unwrap().to_ascii_lowercase();
            assert_eq!(help, format!("docs/rules.md#{anchor}"));
        }
        for result in run["results"].as_array().expect("results") {
            assert!(
                result["message"]["text"].is_string(),
                "result.message is required"
            );
            assert!(matches!(
                result["level"].as_str(),
                Some("none" | "note" | "warning" | "error")
            ));
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            for location in result["locations"].as_array().unwrap() {
                let physical = &location["physicalLocation"];
                assert!(physical["artifactLocation"]["uri"].is_string());
                let region = &physical["region"];
                let n = |k: &str| region[k].as_u64().unwrap();
                assert!(n("startLine") >= 1 && n("startColumn") >= 1);
                assert!(n("endLine") >= n("startLine"));
            }
        }
    }
}

#[test]
fn check_writes_sarif_2_1_0_for_code_scanning() {
    let scratch = Scratch::new("check-sarif", &[("m.py", REVIEWED)]);
    let (code, out, _) = run_check(&scratch.0, &["--format", "sarif", "m.py"]);
    assert_eq!(code, Some(1));
    let log: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid_sarif(&log);
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    // The ten file findings and two TDM020 (nothing calls `build` or `partly`).
    assert_eq!(results.len(), 12);
    let tdm004 = results.iter().find(|r| r["ruleId"] == "TDM004").unwrap();
    assert_eq!(tdm004["level"], "warning");
    let location = &tdm004["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "m.py");
    assert_eq!(location["region"]["startLine"], 8);
    assert_eq!(location["region"]["startColumn"], 8);
    let ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"TDM001") && ids.contains(&"DOC101") && ids.contains(&"TDM020"));
    // A clean run is still a valid log, with no results.
    let (code, out, _) = run_check(
        &scratch.0,
        &["--format", "sarif", "--select", "TDM005", "m.py"],
    );
    assert_eq!(code, Some(0));
    let log: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid_sarif(&log);
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
}

/// Every planted bug of the example project that a built-in rule covers is found, and nothing
/// else but the missing docstrings (also planted) is reported.
#[test]
fn check_finds_the_planted_bugs_of_the_example_project() {
    let (code, out, err) = run_check(
        &shop(),
        &["--select", "TDM", "--ignore", "TDM012", "--no-cache", "."],
    );
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        places(&out),
        [
            "src/shop/cli.py:49:5: TDM002",
            "src/shop/cli.py:111:11: TDM006",
            "src/shop/inventory.py:31:22: TDM009",
            "src/shop/inventory.py:55:9: TDM007",
            "src/shop/models.py:69:12: TDM004",
            // `cancel_order` (which holds the restock bug) and the stub `estimate_delivery`
            // are not called anywhere yet; `slugify` is dead code.
            "src/shop/orders.py:116:5: TDM020",
            "src/shop/orders.py:121:5: TDM003",
            "src/shop/orders.py:124:9: TDM021",
            "src/shop/orders.py:128:53: TDM001",
            "src/shop/orders.py:149:5: TDM020",
            "src/shop/utils.py:72:5: TDM020",
        ],
        "{out}"
    );
    let (_, out, _) = run_check(&shop(), &["--select", "TDM012", "."]);
    let missing = places(&out);
    assert_eq!(missing.len(), 42, "{out}");
    assert!(missing.iter().all(|p| p.starts_with("src/shop/")), "{out}");
    assert!(missing.contains(&"src/shop/orders.py:116:5: TDM012".to_string()));
}

/// The `tandem check` cache: a re-run over unchanged files gives the same findings from the
/// cache; a changed file gives its new findings (never the stored ones), including the
/// project findings that depend on another file; `--no-cache` neither reads nor writes it.
#[test]
fn check_cache_never_gives_stale_findings() {
    let scratch = Scratch::new(
        "check-cache",
        &[
            ("lib.py", "def helper(a, b):\n    return a + b\n"),
            ("app.py", "from lib import helper\n\nhelper(1, 2)\n"),
        ],
    );
    let cache = scratch.0.join(".tandem/cache/check");
    let (code, cold, err) = run_check(&scratch.0, &["--select", "TDM", "--no-cache", "."]);
    assert!(matches!(code, Some(0 | 1)), "{err}");
    assert!(!cache.exists(), "--no-cache wrote a cache");
    let (_, first, _) = run_check(&scratch.0, &["--select", "TDM", "."]);
    assert_eq!(first, cold);
    assert!(cache.is_dir(), "no cache written");
    let (_, warm, _) = run_check(&scratch.0, &["--select", "TDM", "."]);
    assert_eq!(warm, cold);
    assert!(!warm.contains("TDM021"), "{warm}");

    // Another file's change turns a good call into a bad one (a project finding) and adds a
    // per-file finding.
    std::fs::write(
        scratch.0.join("lib.py"),
        "def helper(a, b, c):\n    return a + b + c\n\ndef other(x=[]):\n    return x\n",
    )
    .unwrap();
    let (_, changed, _) = run_check(&scratch.0, &["--select", "TDM", "."]);
    let (_, changed_cold, _) = run_check(&scratch.0, &["--select", "TDM", "--no-cache", "."]);
    assert_eq!(changed, changed_cold);
    assert!(changed.contains("app.py:3:1: TDM021"), "{changed}");
    assert!(
        changed
            .lines()
            .any(|l| l.starts_with("lib.py:4:") && l.contains("TDM001")),
        "{changed}"
    );

    // A damaged cache file is ignored.
    let mut damaged = 0;
    for entry in std::fs::read_dir(&cache).unwrap().flatten() {
        std::fs::write(entry.path(), "{ damaged").unwrap();
        damaged += 1;
    }
    assert!(
        damaged > 0,
        "no cache file to damage in {}",
        cache.display()
    );
    let (_, after_damage, err) = run_check(&scratch.0, &["--select", "TDM", "."]);
    assert_eq!(after_damage, changed_cold, "{err}");
}
