//! The plan file, `.tandem/plans/<id>.md`: a plan rendered as Markdown a person can read and
//! edit, and the parser that reads it back, edits included.
//!
//! ```markdown
//! # Plan `20250114-153012`
//!
//! ## Request
//! …
//! ## Summary
//! …
//! ## Estimate
//! **medium**: 3 items, …
//!
//! Planner: `builtin`
//!
//! ## Items
//! - [x] **a1** modify `src/shop/cart.py` — Validate the quantity
//!   - symbols: `shop.cart.Cart.add`
//!   - depends on: none
//!
//!   What to do, indented by two spaces.
//!
//! ## Dependencies
//! ```mermaid …
//! ```
//!
//! The parser is tolerant where a person edits: an unchecked item is kept but skipped when the
//! plan runs, titles and descriptions are taken as written, deleted items are gone (and
//! dependencies on them are dropped with a warning), a line at the margin right after a
//! description continues it. What it cannot read (an item line of the wrong shape, an unknown
//! kind, a refused path, a duplicate id, a cycle) is an error naming the line. The Mermaid graph
//! is derived, so edits to it are ignored.

use std::collections::HashSet;
use std::fmt::Write as _;

use super::estimate::{Estimate, PlanSize};
use super::validate::{find_cycle, normalize_path};
use super::{Plan, PlanItem, PlanItemKind};

const EDIT_HINT: &str = "<!-- Edit this plan to change what runs: uncheck an item to skip it, edit a title or a description (indented by two spaces) to change what the coder is asked, delete an item to drop it. -->";

/// A plan file that cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", problems.join("; "))]
pub struct PlanFileError {
    pub problems: Vec<String>,
}

/// A plan read from its file, with what the parser tolerated.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedPlan {
    pub plan: Plan,
    pub warnings: Vec<String>,
}

/// The plan as its Markdown file.
pub fn render_plan(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Plan `{}`\n", plan.id);
    let _ = writeln!(out, "## Request\n\n{}\n", escape_block(&plan.request));
    let _ = writeln!(out, "## Summary\n\n{}\n", escape_block(&plan.summary));
    let _ = writeln!(out, "## Estimate\n\n{}\n", plan.estimate.render());
    let _ = writeln!(out, "Planner: `{}`\n", plan.planner);
    let _ = writeln!(out, "## Items\n\n{EDIT_HINT}\n");
    for item in &plan.items {
        let _ = writeln!(
            out,
            "- [{}] **{}** {} `{}` — {}",
            if item.enabled { "x" } else { " " },
            item.id,
            item.kind.as_str(),
            item.file,
            one_line(&item.title)
        );
        if !item.symbols.is_empty() {
            let symbols: Vec<String> = item.symbols.iter().map(|s| format!("`{s}`")).collect();
            let _ = writeln!(out, "  - symbols: {}", symbols.join(", "));
        }
        let deps = if item.depends_on.is_empty() {
            "none".to_string()
        } else {
            item.depends_on
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "  - depends on: {deps}");
        if !item.description.trim().is_empty() {
            out.push('\n');
            for line in item.description.trim().lines() {
                if line.trim().is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Dependencies\n\n```mermaid\n{}```", mermaid(plan));
    out
}

/// The dependency graph in Mermaid: an arrow from each item to the items that wait for it;
/// skipped items dashed.
pub fn mermaid(plan: &Plan) -> String {
    let mut out = String::from("graph TD\n");
    let node = |id: &str| {
        plan.items
            .iter()
            .position(|i| i.id == id)
            .map(|n| format!("n{n}"))
    };
    for (n, item) in plan.items.iter().enumerate() {
        let label = format!("{}: {}", item.id, one_line(&item.title))
            .replace('"', "#quot;")
            .replace(['[', ']'], "");
        let _ = writeln!(out, "  n{n}[\"{label}\"]");
    }
    for item in &plan.items {
        for dep in &item.depends_on {
            if let (Some(from), Some(to)) = (node(dep), node(&item.id)) {
                let _ = writeln!(out, "  {from} --> {to}");
            }
        }
    }
    for (n, item) in plan.items.iter().enumerate() {
        if !item.enabled {
            let _ = writeln!(out, "  style n{n} stroke-dasharray: 5 5");
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A free-text block: a line starting with `#` would read as a heading, so it is escaped.
fn escape_block(text: &str) -> String {
    text.trim()
        .lines()
        .map(|l| {
            if l.starts_with('#') {
                format!("\\{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn unescape_block(lines: &[&str]) -> String {
    let text = lines
        .iter()
        .map(|l| {
            l.strip_prefix('\\')
                .filter(|r| r.starts_with('#'))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n");
    text.trim().to_string()
}

/// Reads a plan file, edits included.
pub fn parse_plan(text: &str) -> Result<ParsedPlan, PlanFileError> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let lines: Vec<&str> = text.lines().collect();

    let mut id = None;
    // (heading, first line index of the body, end)
    let mut sections: Vec<(String, usize, usize)> = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if let Some(title) = line.strip_prefix("# ") {
            if id.is_none() {
                id = title
                    .trim()
                    .strip_prefix("Plan")
                    .map(|r| r.trim().trim_matches('`').trim().to_string())
                    .filter(|r| !r.is_empty());
            }
        } else if let Some(heading) = line.strip_prefix("## ") {
            if let Some(last) = sections.last_mut() {
                last.2 = n;
            }
            sections.push((heading.trim().to_ascii_lowercase(), n + 1, lines.len()));
        }
    }
    let id = id.unwrap_or_else(|| {
        problems.push("line 1: the plan has no `# Plan <id>` heading".to_string());
        String::new()
    });
    let section = |name: &str| {
        sections
            .iter()
            .find(|(h, _, _)| h == name)
            .map(|&(_, start, end)| &lines[start..end])
    };
    let request = section("request").map(unescape_block).unwrap_or_default();
    let summary = section("summary").map(unescape_block).unwrap_or_default();
    let mut planner = String::new();
    let mut estimate = None;
    if let Some(body) = section("estimate") {
        for line in body {
            if let Some(p) = line.trim().strip_prefix("Planner:") {
                planner = p.trim().trim_matches('`').to_string();
            } else if line.trim().starts_with("**") {
                estimate = Estimate::parse(line);
            }
        }
    }
    let items_start = sections
        .iter()
        .find(|(h, _, _)| h == "items")
        .map(|&(_, start, end)| (start, end));
    let mut items: Vec<PlanItem> = Vec::new();
    match items_start {
        None => problems.push("the plan has no `## Items` section".to_string()),
        Some((start, end)) => {
            parse_items(&lines, start, end, &mut items, &mut problems, &mut warnings)
        }
    }

    // Ids, dependencies and cycles.
    let mut seen = HashSet::new();
    for item in &items {
        if !seen.insert(item.id.clone()) {
            problems.push(format!(
                "the id `{}` is used by more than one item",
                item.id
            ));
        }
    }
    let ids: HashSet<String> = items.iter().map(|i| i.id.clone()).collect();
    for item in &mut items {
        let before = std::mem::take(&mut item.depends_on);
        for dep in before {
            if ids.contains(&dep) && dep != item.id {
                if !item.depends_on.contains(&dep) {
                    item.depends_on.push(dep);
                }
            } else {
                warnings.push(format!(
                    "item `{}` depended on `{dep}`, which is not in the plan (deleted?); the dependency is dropped",
                    item.id
                ));
            }
        }
    }
    if problems.is_empty() {
        if let Some(cycle) = find_cycle(&items) {
            problems.push(format!(
                "the dependencies form a cycle: {}",
                cycle.join(" → ")
            ));
        }
    }
    if !problems.is_empty() {
        return Err(PlanFileError { problems });
    }
    let estimate = match estimate {
        Some(e) => e,
        None => {
            warnings.push("the estimate could not be read; a default one is used".to_string());
            Estimate {
                size: PlanSize::Medium,
                items: items.len(),
                files: items.iter().map(|i| &i.file).collect::<HashSet<_>>().len(),
                lines: 0,
                complexity: 0,
                iterations: PlanSize::Medium.iterations(),
            }
        }
    };
    Ok(ParsedPlan {
        plan: Plan {
            id,
            request,
            summary,
            planner,
            estimate,
            items,
        },
        warnings,
    })
}

/// The item list between `start` and `end` (line indexes).
fn parse_items(
    lines: &[&str],
    start: usize,
    end: usize,
    items: &mut Vec<PlanItem>,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    // The item being read, whether its description started, the description's lines.
    let mut current: Option<(PlanItem, bool, Vec<String>)> = None;
    let mut previous_blank = true;
    let mut in_comment = false;
    let finish = |current: &mut Option<(PlanItem, bool, Vec<String>)>,
                  items: &mut Vec<PlanItem>| {
        if let Some((mut item, _, description)) = current.take() {
            item.description = description.join("\n").trim().to_string();
            items.push(item);
        }
    };
    for (n, &line) in lines.iter().enumerate().take(end).skip(start) {
        let number = n + 1;
        if in_comment || line.trim_start().starts_with("<!--") {
            in_comment = !line.contains("-->");
            continue;
        }
        if line.starts_with("- [") {
            finish(&mut current, items);
            match parse_item_line(line) {
                Ok(item) => current = Some((item, false, Vec::new())),
                Err(why) => problems.push(format!("line {number}: {why}")),
            }
            previous_blank = false;
            continue;
        }
        let blank = line.trim().is_empty();
        let Some((item, started, description)) = current.as_mut() else {
            if !blank {
                warnings.push(format!("line {number}: text outside any item is ignored"));
            }
            previous_blank = blank;
            continue;
        };
        let trimmed = line.trim();
        let lower = trimmed.to_ascii_lowercase();
        if !*started && line.starts_with(' ') && lower.starts_with("- symbols:") {
            item.symbols = list(&trimmed["- symbols:".len()..]);
        } else if !*started && line.starts_with(' ') && lower.starts_with("- depends on:") {
            item.depends_on = list(&trimmed["- depends on:".len()..])
                .into_iter()
                .filter(|d| !d.eq_ignore_ascii_case("none"))
                .collect();
        } else if blank {
            if *started {
                description.push(String::new());
            }
        } else if line.starts_with(' ') || line.starts_with('\t') || !previous_blank {
            // Indented, or a lazy continuation line right after the text above.
            *started = true;
            let dedented = line
                .strip_prefix("  ")
                .or_else(|| line.strip_prefix('\t'))
                .unwrap_or(line);
            description.push(dedented.trim_end().to_string());
        } else {
            warnings.push(format!(
                "line {number}: text at the margin after a blank line is not part of item `{}` \
                 (indent it by two spaces); it is ignored",
                item.id
            ));
        }
        previous_blank = blank;
    }
    finish(&mut current, items);
}

/// `- [x] **a1** modify `src/x.py` — Title`.
fn parse_item_line(line: &str) -> Result<PlanItem, String> {
    const SHAPE: &str = "an item line must look like `- [x] **id** kind `file` — title`";
    let rest = line.strip_prefix("- [").ok_or(SHAPE)?;
    let (mark, rest) = rest.split_once(']').ok_or(SHAPE)?;
    let enabled = match mark.trim() {
        "x" | "X" => true,
        "" => false,
        other => return Err(format!("`[{other}]` is not a checkbox; use `[x]` or `[ ]`")),
    };
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("**").ok_or(SHAPE)?;
    let (id, rest) = rest.split_once("**").ok_or(SHAPE)?;
    let id = id.trim().to_string();
    if id.is_empty() {
        return Err("the item has an empty id".to_string());
    }
    let rest = rest.trim_start();
    let (kind, rest) = rest.split_once(char::is_whitespace).ok_or(SHAPE)?;
    let kind = PlanItemKind::parse(kind).ok_or_else(|| {
        format!("item `{id}`: `{kind}` is not a kind; use create, modify, test or docs")
    })?;
    let rest = rest.trim_start();
    let (file, rest) = if let Some(r) = rest.strip_prefix('`') {
        r.split_once('`').ok_or(SHAPE)?
    } else {
        rest.split_once(char::is_whitespace).unwrap_or((rest, ""))
    };
    let file = normalize_path(file).map_err(|why| format!("item `{id}`: {why}"))?;
    let rest = rest.trim_start();
    let title = ["—", "--", "-", ":"]
        .iter()
        .find_map(|sep| rest.strip_prefix(sep))
        .unwrap_or(rest)
        .trim()
        .to_string();
    if title.is_empty() {
        return Err(format!("item `{id}` has no title after its file"));
    }
    Ok(PlanItem {
        id,
        title,
        kind,
        file,
        symbols: Vec::new(),
        description: String::new(),
        depends_on: Vec::new(),
        enabled,
    })
}

/// A comma-separated list of names, backticks optional.
fn list(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(|s| s.trim().trim_matches('`').trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Plan {
        let item = |id: &str, kind, file: &str, deps: &[&str], description: &str| PlanItem {
            id: id.to_string(),
            title: format!("Do {id}"),
            kind,
            file: file.to_string(),
            symbols: if kind == PlanItemKind::Modify {
                vec!["shop.cart.Cart.add".to_string()]
            } else {
                Vec::new()
            },
            description: description.to_string(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            enabled: true,
        };
        Plan {
            id: "20250114-153012".to_string(),
            request: "Make `Cart.add` refuse\n# more than 99 units".to_string(),
            summary: "Cap quantities.".to_string(),
            planner: "builtin".to_string(),
            estimate: Estimate {
                size: PlanSize::Medium,
                items: 3,
                files: 3,
                lines: 12,
                complexity: 3,
                iterations: 3,
            },
            items: vec![
                item(
                    "a1",
                    PlanItemKind::Modify,
                    "src/shop/cart.py",
                    &[],
                    "Raise `CartError` above 99.\n\nKeep the message style.",
                ),
                item(
                    "a2",
                    PlanItemKind::Test,
                    "tests/test_cart.py",
                    &["a1"],
                    "Test 100 \"units\".",
                ),
                item("a3", PlanItemKind::Docs, "README.md", &["a1", "a2"], ""),
            ],
        }
    }

    #[test]
    fn render_then_parse_gives_the_same_plan() {
        let plan = sample();
        let text = render_plan(&plan);
        assert!(text.contains("- [x] **a1** modify `src/shop/cart.py` — Do a1\n  - symbols: `shop.cart.Cart.add`\n  - depends on: none\n\n  Raise `CartError` above 99.\n\n  Keep the message style.\n"), "{text}");
        assert!(
            text.contains("```mermaid\ngraph TD\n  n0[\"a1: Do a1\"]\n"),
            "{text}"
        );
        assert!(
            text.contains("  n0 --> n1\n  n0 --> n2\n  n1 --> n2\n"),
            "{text}"
        );
        assert!(text.contains("\\# more than 99 units"), "{text}");
        let parsed = parse_plan(&text).unwrap();
        assert_eq!(parsed.warnings, Vec::<String>::new());
        assert_eq!(parsed.plan, plan);
        // And once more: rendering is stable.
        assert_eq!(render_plan(&parsed.plan), text);
    }

    #[test]
    fn user_edits_change_the_plan() {
        let text = render_plan(&sample());
        // Uncheck a2, rewrite a1's description and title, delete a3's... no: delete a1.
        let edited = text
            .replace("- [x] **a2**", "- [ ] **a2**")
            .replace("— Do a2", "— Test the cap")
            .replace(
                "  Test 100 \"units\".",
                "  Test 100 and 1000 units.\nBoth must raise.",
            );
        let parsed = parse_plan(&edited).unwrap();
        let a2 = &parsed.plan.items[1];
        assert!(!a2.enabled);
        assert_eq!(a2.title, "Test the cap");
        assert_eq!(a2.description, "Test 100 and 1000 units.\nBoth must raise.");

        // Deleting an item drops it and the dependencies on it, with a warning.
        let start = text.find("- [x] **a1**").unwrap();
        let end = text.find("- [x] **a2**").unwrap();
        let mut deleted = text.clone();
        deleted.replace_range(start..end, "");
        let parsed = parse_plan(&deleted).unwrap();
        let ids: Vec<&str> = parsed.plan.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a2", "a3"]);
        assert_eq!(parsed.plan.items[1].depends_on, ["a2"]);
        assert_eq!(parsed.warnings.len(), 2, "{:?}", parsed.warnings);
        assert!(parsed.warnings[0].contains("depended on `a1`"));

        // What runs: a2 is skipped, so a3 runs without waiting for it.
        let parsed = parse_plan(&text.replace("- [x] **a2**", "- [ ] **a2**")).unwrap();
        let (run, notes) = parsed.plan.runnable();
        let ids: Vec<&str> = run.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a1", "a3"]);
        assert_eq!(run[1].depends_on, ["a1"]);
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn malformed_parts_are_reported_with_their_lines() {
        let text = render_plan(&sample());
        let bad = text
            .replace("- [x] **a1** modify", "- [y] **a1** modify")
            .replace("**a2** test", "**a2** refactor")
            .replace("`README.md`", "`../README.md`");
        let err = parse_plan(&bad).unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(err.problems[0].starts_with("line "), "{err}");
        assert!(err.problems[0].contains("`[y]` is not a checkbox"), "{err}");
        assert!(
            err.problems[1].contains("`refactor` is not a kind"),
            "{err}"
        );
        assert!(
            err.problems[2].contains("leads outside the workspace"),
            "{err}"
        );

        let cycle = text.replace("  - depends on: none", "  - depends on: `a3`");
        let err = parse_plan(&cycle).unwrap_err();
        assert!(err.to_string().contains("cycle: a1 → a3 → a1"), "{err}");

        let err = parse_plan("hello\n").unwrap_err();
        assert!(
            err.to_string().contains("no `# Plan <id>` heading"),
            "{err}"
        );
        assert!(err.to_string().contains("no `## Items` section"), "{err}");
    }
}
