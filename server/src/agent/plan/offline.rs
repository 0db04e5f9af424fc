//! The offline planner: without a planner model, an impact plan from static analysis. It finds
//! the definitions and files the request names (names in backticks, dotted names, names that
//! look like code — `CamelCase`, `snake_case` — matching project symbols, and file paths), the
//! callers the change affects (call graph), the tests that exercise them, and the docs to
//! update (docstrings of the changed symbols, documentation files that mention them), in
//! dependency order. It says plainly that a model writes real plans: it cannot know what the
//! change is, only what it touches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::analysis::display::render_signature;
use crate::analysis::index::ProjectIndex;
use crate::analysis::outline::{Symbol, SymbolKind};

/// Per file of callers: the caller symbols, the call-site lines, the ids of the items they
/// wait for.
type CallerFile = (BTreeSet<String>, Vec<String>, BTreeSet<String>);

/// A definition of the project.
#[derive(Debug, Clone)]
struct Definition {
    qualified: String,
    /// `Class.method`, or the name.
    display: String,
    name: String,
    kind: SymbolKind,
    path: PathBuf,
    rel: String,
    start: usize,
    signature: Option<String>,
    documented: bool,
}

fn definitions(index: &ProjectIndex, display: &dyn Fn(&Path) -> String) -> Vec<Definition> {
    let mut out = Vec::new();
    let mut files: Vec<_> = index.files().collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    for (path, file) in files {
        let rel = display(path);
        let outline = file.outline();
        let mut stack: Vec<(&Symbol, Option<&Symbol>)> =
            outline.symbols.iter().rev().map(|s| (s, None)).collect();
        while let Some((s, parent)) = stack.pop() {
            let display_name = match parent {
                Some(p) if p.kind == SymbolKind::Class => format!("{}.{}", p.name, s.name),
                _ => s.name.clone(),
            };
            out.push(Definition {
                qualified: s.qualified_name.clone(),
                display: display_name,
                name: s.name.clone(),
                kind: s.kind,
                path: path.to_path_buf(),
                rel: rel.clone(),
                start: s.range.start,
                signature: s.signature.as_ref().map(render_signature),
                documented: s.docstring.is_some(),
            });
            stack.extend(s.children.iter().rev().map(|c| (c, Some(s))));
        }
    }
    out
}

/// The names and paths a request mentions: backticked spans, and words that look like code.
fn mentions(request: &str) -> (Vec<String>, Vec<String>) {
    let mut names = Vec::new();
    let mut paths = Vec::new();
    let mut push = |token: &str, strong: bool| {
        let token = token
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '_')
            .trim_end_matches("()");
        if token.is_empty() {
            return;
        }
        if token.contains('/') || token.ends_with(".py") {
            paths.push(token.to_string());
            return;
        }
        let is_code = token
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
        let looks_like_code = strong
            || token.contains('.')
            || token.contains('_')
            || token.chars().any(|c| c.is_uppercase());
        if is_code && looks_like_code && !names.iter().any(|n| n == token) {
            names.push(token.to_string());
        }
    };
    let mut rest = request;
    let mut plain = String::new();
    while let Some(open) = rest.find('`') {
        plain.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('`') {
            Some(close) => {
                let span = after[..close].trim();
                // `Cart.add(product, 2)` names `Cart.add`.
                let head = span.split('(').next().unwrap_or(span);
                push(head, true);
                rest = &after[close + 1..];
            }
            None => {
                rest = after;
            }
        }
    }
    plain.push_str(rest);
    for word in plain.split(|c: char| c.is_whitespace() || ",;:()[]{}\"'!?".contains(c)) {
        push(word, false);
    }
    (names, paths)
}

fn matches_name(definition: &Definition, name: &str) -> bool {
    definition.qualified == name
        || definition.qualified.ends_with(&format!(".{name}"))
        || (!name.contains('.') && definition.name == name)
}

/// The definitions the request names (or the focus, when it names none).
fn targets(
    request: &str,
    definitions: &[Definition],
    index: &ProjectIndex,
    display: &dyn Fn(&Path) -> String,
    focus: Option<&str>,
) -> (Vec<Definition>, Vec<String>) {
    let (names, paths) = mentions(request);
    let mut found: Vec<Definition> = Vec::new();
    for name in &names {
        for d in definitions.iter().filter(|d| matches_name(d, name)) {
            if !found.iter().any(|f| f.qualified == d.qualified) {
                found.push(d.clone());
            }
        }
    }
    // A method and its class both named: the method is meant, the class only locates it.
    let methods_of: BTreeSet<String> = found
        .iter()
        .filter(|d| d.kind == SymbolKind::Method)
        .filter_map(|d| d.qualified.rsplit_once('.').map(|(c, _)| c.to_string()))
        .collect();
    found.retain(|d| !methods_of.contains(&d.qualified));
    let mut files: Vec<String> = Vec::new();
    let mut all: Vec<String> = index.files().map(|(p, _)| display(p)).collect();
    all.sort();
    for p in &paths {
        if let Some(rel) = all
            .iter()
            .find(|r| *r == p || r.ends_with(&format!("/{p}")))
        {
            if !files.contains(rel) {
                files.push(rel.clone());
            }
        }
    }
    // Module names (`shop.cart`) name their file.
    for name in &names {
        if let Some(path) = index.path_of_module(name) {
            let rel = display(path);
            if !files.contains(&rel) && !found.iter().any(|d| d.rel == rel) {
                files.push(rel);
            }
        }
    }
    if found.is_empty() && files.is_empty() {
        if let Some(focus) = focus {
            if let Some(d) = definitions.iter().find(|d| d.qualified == focus) {
                found.push(d.clone());
            } else if all.iter().any(|r| r == focus) {
                files.push(focus.to_string());
            }
        }
    }
    files.retain(|f| !found.iter().any(|d| &d.rel == f));
    (found, files)
}

/// Where the request's first named definition is: its file and 1-based line, for the
/// planner's context when the request comes without a place.
pub fn named_places(
    request: &str,
    index: &ProjectIndex,
    display: &dyn Fn(&Path) -> String,
) -> Vec<(PathBuf, Option<usize>)> {
    let definitions = definitions(index, display);
    let (found, _) = targets(request, &definitions, index, display, None);
    found
        .iter()
        .filter_map(|d| {
            let text = index.file(&d.path)?.text();
            let line = text[..d.start.min(text.len())].matches('\n').count() + 1;
            Some((d.path.clone(), Some(line)))
        })
        .collect()
}

fn is_test_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    rel.ends_with(".py")
        && (rel.split('/').any(|c| c == "tests" || c == "test")
            || name.starts_with("test_")
            || name.ends_with("_test.py"))
}

/// Whether `text` has `word` with no identifier character on either side.
fn word_lines(text: &str, word: &str) -> Vec<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            line.match_indices(word).any(|(i, _)| {
                let before = line[..i].chars().next_back();
                let after = line[i + word.len()..].chars().next();
                !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
            })
        })
        .map(|(n, _)| n + 1)
        .collect()
}

fn line_of(text: &str, offset: usize) -> (usize, &str) {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    (
        text[..start].matches('\n').count() + 1,
        text[start..end].trim(),
    )
}

fn code_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

const NO_TARGETS: &str = "the offline planner found no definition or file of the project named \
in the request; name them in backticks (e.g. `Cart.add`) or give a file path, or configure a \
planner model: define it under [models.<name>] and set [roles] planner = [\"<name>\"] in \
tandem.toml (see docs/models.md)";

/// The impact plan of `request` as a `tandem_plan` value, or why there is none. `focus` is the
/// qualified name of the symbol (or the workspace-relative file) the request is about, used
/// when the request names nothing itself.
pub fn impact_plan(
    request: &str,
    index: &ProjectIndex,
    display: &dyn Fn(&Path) -> String,
    focus: Option<&str>,
    doc_files: &[(String, String)],
) -> Result<Value, String> {
    let definitions = definitions(index, display);
    let (targets, target_files) = targets(request, &definitions, index, display, focus);
    if targets.is_empty() && target_files.is_empty() {
        return Err(NO_TARGETS.to_string());
    }
    let graph = index.solved_graph();
    let request_line = request.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut items: Vec<Value> = Vec::new();
    let mut next_id = 0;
    let mut new_id = || {
        next_id += 1;
        format!("a{next_id}")
    };

    // 1. The named definitions, one item per file.
    let mut by_file: BTreeMap<String, Vec<&Definition>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for d in &targets {
        if !by_file.contains_key(&d.rel) {
            order.push(d.rel.clone());
        }
        by_file.entry(d.rel.clone()).or_default().push(d);
    }
    // The id of the item that changes each file, and of each target's item.
    let mut file_item: BTreeMap<String, String> = BTreeMap::new();
    let mut changed_ids: Vec<String> = Vec::new();
    for rel in &order {
        let defs = &by_file[rel];
        let id = new_id();
        let displays: Vec<String> = defs.iter().map(|d| d.display.clone()).collect();
        let mut description = format!(
            "Change {} as the request says: {request_line}\n\nNow:",
            code_list(&displays)
        );
        for d in defs {
            let signature = d.signature.as_deref().unwrap_or("");
            description.push_str(&format!(
                "\n- `{}{signature}` ({})",
                d.qualified,
                match d.kind {
                    SymbolKind::Class => "class",
                    SymbolKind::Method => "method",
                    SymbolKind::Function => "function",
                }
            ));
        }
        items.push(json!({
            "id": id,
            "title": format!("Change {}", code_list(&displays)),
            "kind": "modify",
            "file": rel,
            "symbols": defs.iter().map(|d| d.qualified.clone()).collect::<Vec<_>>(),
            "description": description,
            "depends_on": [],
        }));
        file_item.insert(rel.clone(), id.clone());
        changed_ids.push(id);
    }
    for rel in &target_files {
        let id = new_id();
        items.push(json!({
            "id": id,
            "title": format!("Change `{rel}`"),
            "kind": "modify",
            "file": rel,
            "symbols": [],
            "description": format!("Change this file as the request says: {request_line}"),
            "depends_on": [],
        }));
        file_item.insert(rel.clone(), id.clone());
        changed_ids.push(id);
    }

    // 2. Callers in other files (test files are the tests' items).
    let target_names: BTreeSet<&str> = targets.iter().map(|d| d.qualified.as_str()).collect();
    let mut callers: BTreeMap<String, CallerFile> = BTreeMap::new();
    let mut calls_by_test_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in &targets {
        for site in graph.callers_of(&d.qualified) {
            if target_names.contains(site.caller) {
                continue;
            }
            let Some(path) = index.path_of_module(site.module) else {
                continue;
            };
            let Some(file) = index.file(path) else {
                continue;
            };
            let rel = display(path);
            let text = file.text();
            let (line, code) = line_of(&text, site.range.start);
            let entry = format!("{rel}:{line}: {code} (calls `{}`)", d.display);
            if is_test_file(&rel) {
                calls_by_test_file.entry(rel).or_default().push(entry);
                continue;
            }
            if rel == d.rel {
                // The same file is changed by the definition's item; it adapts its callers.
                continue;
            }
            let e = callers.entry(rel).or_default();
            if *site.caller != *site.module {
                e.0.insert(site.caller.to_string());
            }
            if !e.1.contains(&entry) {
                e.1.push(entry);
            }
            if let Some(id) = file_item.get(&d.rel) {
                e.2.insert(id.clone());
            }
        }
    }
    let mut caller_ids = Vec::new();
    for (rel, (symbols, sites, deps)) in &callers {
        let id = new_id();
        let names: Vec<String> = targets.iter().map(|d| d.display.clone()).collect();
        items.push(json!({
            "id": id,
            "title": format!("Adapt the callers in `{rel}`"),
            "kind": "modify",
            "file": rel,
            "symbols": symbols.iter().collect::<Vec<_>>(),
            "description": format!(
                "These calls use {} and must follow the change (arguments, return value, exceptions):\n{}",
                code_list(&names),
                sites.iter().map(|s| format!("- {s}")).collect::<Vec<_>>().join("\n")
            ),
            "depends_on": deps.iter().collect::<Vec<_>>(),
        }));
        caller_ids.push(id);
    }

    // 3. Tests: test files that call a target, or mention its name.
    let mut all_changes: Vec<String> = changed_ids.clone();
    all_changes.extend(caller_ids.iter().cloned());
    let mut test_files: BTreeMap<String, Vec<String>> = calls_by_test_file;
    let mut indexed: Vec<(String, Arc<str>)> = index
        .files()
        .filter(|(p, _)| is_test_file(&display(p)))
        .map(|(p, f)| (display(p), f.text()))
        .collect();
    indexed.sort();
    for (rel, text) in &indexed {
        for d in &targets {
            // A method is recognised by `.name(` next to its class's name in the file.
            let found: Vec<usize> = match d.kind {
                SymbolKind::Method => {
                    let class = d.display.split('.').next().unwrap_or("");
                    if word_lines(text, class).is_empty() {
                        Vec::new()
                    } else {
                        text.lines()
                            .enumerate()
                            .filter(|(_, l)| l.contains(&format!(".{}(", d.name)))
                            .map(|(n, _)| n + 1)
                            .collect()
                    }
                }
                _ => word_lines(text, &d.name),
            };
            if found.is_empty() {
                continue;
            }
            let lines: Vec<String> = found.iter().take(8).map(|n| n.to_string()).collect();
            let entry = format!("`{}` at lines {}", d.display, lines.join(", "));
            let e = test_files.entry(rel.clone()).or_default();
            // The call graph's call sites say more than the mentions; keep them alone.
            let calls = format!("(calls `{}`)", d.display);
            if !e.iter().any(|u| u.ends_with(&calls)) && !e.contains(&entry) {
                e.push(entry);
            }
        }
    }
    let names: Vec<String> = targets.iter().map(|d| d.display.clone()).collect();
    let what = if names.is_empty() {
        code_list(&target_files)
    } else {
        code_list(&names)
    };
    if test_files.is_empty() {
        let module = targets
            .first()
            .map(|d| d.rel.clone())
            .or_else(|| target_files.first().cloned())
            .unwrap_or_default();
        let stem = module
            .rsplit('/')
            .next()
            .unwrap_or("")
            .trim_end_matches(".py")
            .to_string();
        let has_tests_dir = indexed.iter().any(|(r, _)| r.starts_with("tests/"));
        let file = if has_tests_dir {
            format!("tests/test_{stem}.py")
        } else {
            format!("test_{stem}.py")
        };
        items.push(json!({
            "id": new_id(),
            "title": format!("Test {what}"),
            "kind": "test",
            "file": file,
            "symbols": [],
            "description": format!("No test exercises {what} yet: write pytest tests of the changed behaviour."),
            "depends_on": all_changes,
        }));
    } else {
        for (rel, uses) in &test_files {
            items.push(json!({
                "id": new_id(),
                "title": format!("Update the tests in `{rel}`"),
                "kind": "test",
                "file": rel,
                "symbols": [],
                "description": format!(
                    "These tests exercise what changes; update them and add a test of the new behaviour (pytest):\n{}",
                    uses.iter().map(|u| format!("- {u}")).collect::<Vec<_>>().join("\n")
                ),
                "depends_on": all_changes,
            }));
        }
    }

    // 4. Docs: the docstrings of the changed definitions, and documentation files that
    //    mention them.
    for rel in &order {
        let defs = &by_file[rel];
        let displays: Vec<String> = defs.iter().map(|d| d.display.clone()).collect();
        let documented = defs.iter().filter(|d| d.documented).count();
        items.push(json!({
            "id": new_id(),
            "title": format!("Update the docstrings of {}", code_list(&displays)),
            "kind": "docs",
            "file": rel,
            "symbols": defs.iter().map(|d| d.qualified.clone()).collect::<Vec<_>>(),
            "description": format!(
                "Make the docstrings ({documented} of {} exist) say what the changed code does: arguments, return value, exceptions (`tandem check --select DOC {rel}` finds mismatches).",
                defs.len()
            ),
            "depends_on": [file_item[rel].clone()],
        }));
    }
    for (rel, text) in doc_files {
        let mut uses = Vec::new();
        for d in &targets {
            // A method is looked for as `Class.method`; a class or function by its name.
            let word = if d.kind == SymbolKind::Method {
                d.display.clone()
            } else {
                d.name.clone()
            };
            let lines = word_lines(text, &word);
            if !lines.is_empty() {
                let lines: Vec<String> = lines.iter().take(8).map(|n| n.to_string()).collect();
                uses.push(format!("`{word}` at lines {}", lines.join(", ")));
            }
        }
        if uses.is_empty() {
            continue;
        }
        items.push(json!({
            "id": new_id(),
            "title": format!("Update `{rel}`"),
            "kind": "docs",
            "file": rel,
            "symbols": [],
            "description": format!(
                "This documentation mentions what changes; make it match:\n{}",
                uses.iter().map(|u| format!("- {u}")).collect::<Vec<_>>().join("\n")
            ),
            "depends_on": all_changes,
        }));
    }

    let call_sites: usize = callers.values().map(|c| c.1.len()).sum();
    let summary =
        format!(
        "Impact of the request on {what}: {} definition{} changed in {} file{}, {call_sites} call \
         site{} in {} other file{}, tests and docs to update. This plan comes from static \
         analysis (the offline planner): it lists what the change touches, not how to make \
         it; a model writes real plans (set [roles] planner in tandem.toml, see \
         docs/models.md).",
        targets.len(),
        if targets.len() == 1 { "" } else { "s" },
        order.len() + target_files.len(),
        if order.len() + target_files.len() == 1 { "" } else { "s" },
        if call_sites == 1 { "" } else { "s" },
        callers.len(),
        if callers.len() == 1 { "" } else { "s" },
    );
    Ok(json!({ "summary": summary, "items": items }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::index::analyze_file;

    fn index(files: &[(&str, &str, &str)]) -> ProjectIndex {
        let mut index = ProjectIndex::new();
        for (path, module, text) in files {
            index.insert(PathBuf::from(path), analyze_file(module, false, text));
        }
        index.graph();
        index
    }

    fn display(p: &Path) -> String {
        p.display().to_string()
    }

    #[test]
    fn mentions_find_code_names_and_paths() {
        let (names, paths) =
            mentions("Make `Cart.add(product, 2)` refuse big quantities; see shop/cart.py and PriceBreakdown, not the add word.");
        // `Make` is a candidate too; it only counts if the project defines a `Make`.
        assert_eq!(names, ["Cart.add", "Make", "PriceBreakdown"]);
        assert_eq!(paths, ["shop/cart.py"]);
    }

    #[test]
    fn the_impact_plan_lists_callers_tests_and_docs_in_order() {
        let cart = "class Cart:\n    def add(self, item, qty=1):\n        \"\"\"Add.\"\"\"\n        return qty\n";
        let app = "from cart import Cart\n\ndef fill(items):\n    c = Cart()\n    for i in items:\n        c.add(i)\n    return c\n";
        let test =
            "from cart import Cart\n\ndef test_add():\n    c = Cart()\n    assert c.add(1) == 1\n";
        let idx = index(&[
            ("cart.py", "cart", cart),
            ("app.py", "app", app),
            ("tests/test_cart.py", "tests.test_cart", test),
        ]);
        let docs = vec![(
            "README.md".to_string(),
            "Use `Cart.add` to add things.\n".to_string(),
        )];
        let value =
            impact_plan("Make `Cart.add` refuse zero", &idx, &display, None, &docs).unwrap();
        assert!(crate::models::SchemaName::Plan.validate(&value).is_ok());
        let items = value["items"].as_array().unwrap();
        let row = |i: &Value| {
            format!(
                "{} {} {} <- {}",
                i["id"].as_str().unwrap(),
                i["kind"].as_str().unwrap(),
                i["file"].as_str().unwrap(),
                i["depends_on"]
            )
        };
        let rows: Vec<String> = items.iter().map(row).collect();
        assert_eq!(
            rows,
            [
                "a1 modify cart.py <- []",
                "a2 modify app.py <- [\"a1\"]",
                "a3 test tests/test_cart.py <- [\"a1\",\"a2\"]",
                "a4 docs cart.py <- [\"a1\"]",
                "a5 docs README.md <- [\"a1\",\"a2\"]",
            ]
        );
        assert_eq!(items[1]["symbols"], json!(["app.fill"]));
        assert!(items[1]["description"]
            .as_str()
            .unwrap()
            .contains("app.py:6: c.add(i) (calls `Cart.add`)"));
        assert!(value["summary"]
            .as_str()
            .unwrap()
            .contains("a model writes real plans"));
    }

    #[test]
    fn nothing_named_is_an_error_that_says_what_to_do() {
        let idx = index(&[("m.py", "m", "def f():\n    pass\n")]);
        let err = impact_plan("make it faster", &idx, &display, None, &[]).unwrap_err();
        assert!(err.contains("name them in backticks"), "{err}");
        // With a focus, the focus is the target.
        let value = impact_plan("make it faster", &idx, &display, Some("m.f"), &[]).unwrap();
        assert_eq!(value["items"][0]["symbols"], json!(["m.f"]));
    }
}
