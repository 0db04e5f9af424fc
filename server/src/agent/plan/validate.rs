//! Validation of a plan, which comes from a model and is not trusted: paths stay inside the
//! workspace and out of the folders Tandem and editors own, `modify` items name files that
//! exist, ids are unique, dependencies name items of the plan and form no cycle. Valid plans
//! are put in dependency order.
//!
//! The path check here is lexical (no file system); the executor checks every path again with
//! the symlink-aware containment of `edits::paths` before anything is written.

use std::collections::{HashMap, HashSet};

use super::{PlanItem, PlanItemKind};
use crate::edits::paths::protected_part;

/// `path` normalised to a workspace-relative path with `/` separators (`./a//b` → `a/b`,
/// `a/../b` → `b`), or why it is refused.
pub fn normalize_path(path: &str) -> Result<String, String> {
    let raw = path.trim();
    if raw.is_empty() {
        return Err("the path is empty".to_string());
    }
    if raw.contains('\0') {
        return Err(format!("`{}` contains a NUL byte", raw.escape_debug()));
    }
    let unified = raw.replace('\\', "/");
    let bytes = unified.as_bytes();
    if unified.starts_with('/') {
        return Err(format!(
            "`{raw}` is absolute; paths must be workspace-relative"
        ));
    }
    if unified.starts_with('~') {
        return Err(format!(
            "`{raw}` names a home folder; paths must be workspace-relative"
        ));
    }
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Err(format!(
            "`{raw}` has a drive letter; paths must be workspace-relative"
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in unified.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("`{raw}` leads outside the workspace"));
                }
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(format!("`{raw}` names the workspace itself, not a file"));
    }
    let joined = parts.join("/");
    // The same places, compared the same way (without regard to case), as the executor's
    // writes refuse: a plan that names one could never be carried out.
    if let Some(what) = protected_part(&joined) {
        return Err(format!(
            "`{raw}` is protected ({what} is never changed by a plan)"
        ));
    }
    Ok(joined)
}

/// Checks `items` and returns them normalised (paths) and in dependency order (the given
/// order where dependencies allow), or every problem found, one sentence each, written to be
/// fed back to the model. `file_exists` says whether a workspace-relative file exists (in the
/// index, or on disk for files the index does not hold).
pub fn validate_items(
    items: &[PlanItem],
    file_exists: &dyn Fn(&str) -> bool,
) -> Result<Vec<PlanItem>, Vec<String>> {
    let mut problems = Vec::new();
    let mut out: Vec<PlanItem> = Vec::with_capacity(items.len());
    let mut seen: HashSet<&str> = HashSet::new();
    if items.is_empty() {
        problems.push("the plan has no items".to_string());
    }
    for item in items {
        let id = item.id.trim();
        if id.is_empty() {
            problems.push(format!("item \"{}\" has an empty id", item.title));
        } else if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            problems.push(format!(
                "item id `{id}` may only hold letters, digits, `-`, `_` and `.`"
            ));
        } else if !seen.insert(id) {
            problems.push(format!("the id `{id}` is used by more than one item"));
        }
        let mut item = item.clone();
        item.id = id.to_string();
        match normalize_path(&item.file) {
            Ok(path) => {
                if item.kind == PlanItemKind::Modify && !file_exists(&path) {
                    problems.push(format!(
                        "item `{id}` modifies `{path}`, which does not exist in the workspace \
                         (use kind `create` for a new file)"
                    ));
                }
                item.file = path;
            }
            Err(why) => problems.push(format!("item `{id}`: {why}")),
        }
        if item.title.trim().is_empty() {
            problems.push(format!("item `{id}` has an empty title"));
        }
        out.push(item);
    }
    let ids: HashSet<&str> = out.iter().map(|i| i.id.as_str()).collect();
    for item in &out {
        for dep in &item.depends_on {
            if dep == &item.id {
                problems.push(format!("item `{}` depends on itself", item.id));
            } else if !ids.contains(dep.as_str()) {
                problems.push(format!(
                    "item `{}` depends on `{dep}`, which is not an item of the plan",
                    item.id
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(&out) {
        problems.push(describe_cycle(&out, &cycle));
    }
    if problems.is_empty() {
        Ok(dependency_order(out))
    } else {
        Err(problems)
    }
}

/// A dependency cycle as the ids along it, the first repeated at the end (`a → b → a`).
pub fn find_cycle(items: &[PlanItem]) -> Option<Vec<String>> {
    let index: HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.id.as_str(), i))
        .collect();
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state = vec![0u8; items.len()];
    for start in 0..items.len() {
        if state[start] != 0 {
            continue;
        }
        // An explicit stack of (item, next dependency to look at), with the path alongside.
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let deps = &items[node].depends_on;
            if *next < deps.len() {
                let dep = &deps[*next];
                *next += 1;
                let Some(&d) = index.get(dep.as_str()) else {
                    continue;
                };
                match state[d] {
                    0 => {
                        state[d] = 1;
                        stack.push((d, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|&(n, _)| n == d).unwrap_or(0);
                        let mut cycle: Vec<String> = stack[from..]
                            .iter()
                            .map(|&(n, _)| items[n].id.clone())
                            .collect();
                        cycle.push(items[d].id.clone());
                        return Some(cycle);
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    None
}

fn describe_cycle(items: &[PlanItem], cycle: &[String]) -> String {
    let titles: Vec<String> = cycle[..cycle.len().saturating_sub(1)]
        .iter()
        .filter_map(|id| items.iter().find(|i| &i.id == id))
        .map(|i| format!("`{}` {}", i.id, i.title))
        .collect();
    format!(
        "the dependencies form a cycle: {} ({}); every item may only depend on items that can \
         be done before it",
        cycle.join(" → "),
        titles.join("; ")
    )
}

/// Stable topological order: an item comes after its dependencies and otherwise keeps its
/// place. Assumes no cycle and only known ids (unknown ones are ignored).
pub fn dependency_order(items: Vec<PlanItem>) -> Vec<PlanItem> {
    let index: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.id.clone(), i))
        .collect();
    let mut done = vec![false; items.len()];
    let mut order = Vec::with_capacity(items.len());
    while order.len() < items.len() {
        let next = (0..items.len()).find(|&i| {
            !done[i]
                && items[i]
                    .depends_on
                    .iter()
                    .all(|d| index.get(d).is_none_or(|&j| done[j] || j == i))
        });
        // A cycle (not expected here): keep the rest in their order.
        let Some(i) = next.or_else(|| (0..items.len()).find(|&i| !done[i])) else {
            break;
        };
        done[i] = true;
        order.push(i);
    }
    let mut slots: Vec<Option<PlanItem>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, kind: PlanItemKind, file: &str, deps: &[&str]) -> PlanItem {
        PlanItem {
            id: id.to_string(),
            title: format!("title {id}"),
            kind,
            file: file.to_string(),
            symbols: Vec::new(),
            description: String::new(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            enabled: true,
        }
    }

    fn exists(path: &str) -> bool {
        path == "src/shop/cart.py"
    }

    #[test]
    fn paths_are_normalised_or_refused() {
        assert_eq!(
            normalize_path("./src//shop/cart.py").unwrap(),
            "src/shop/cart.py"
        );
        assert_eq!(normalize_path("src\\shop\\..\\x.py").unwrap(), "src/x.py");
        for bad in [
            "../outside.py",
            "src/../../outside.py",
            "/etc/passwd",
            "~/x.py",
            "C:\\x.py",
            ".git/config",
            ".tandem/plans/x.md",
            ".vscode/settings.json",
            ".idea/x.xml",
            "tandem.toml",
            // Case-insensitive file systems: these are the same places.
            ".GIT/config",
            ".Git/hooks/x",
            "./.TANDEM/plans/x.md",
            ".VSCode/settings.json",
            "Tandem.TOML",
            // At any depth, and the other places the executor never writes.
            "sub/.git/config",
            "pyproject.toml",
            "conf/.env",
            "a\0b",
            "",
            ".",
        ] {
            assert!(normalize_path(bad).is_err(), "{bad:?} accepted");
        }
        let why = normalize_path("../outside.py").unwrap_err();
        assert!(why.contains("outside the workspace"), "{why}");
        let why = normalize_path(".GIT/hooks/x").unwrap_err();
        assert!(
            why.contains("`.GIT/hooks/x` is protected") && why.contains("`.git/`"),
            "{why}"
        );
        // Names that only contain a protected one are fine.
        assert_eq!(
            normalize_path("gitx/.gitignore").unwrap(),
            "gitx/.gitignore"
        );
        assert_eq!(
            normalize_path("src/my.git/x.py").unwrap(),
            "src/my.git/x.py"
        );
    }

    #[test]
    fn escaping_paths_and_missing_files_are_reported() {
        let items = vec![
            item("a", PlanItemKind::Create, "../outside.py", &[]),
            item("b", PlanItemKind::Modify, "src/shop/nope.py", &[]),
            item("c", PlanItemKind::Modify, "src/shop/cart.py", &[]),
            item("d", PlanItemKind::Create, "src/shop/new.py", &[]),
        ];
        let problems = validate_items(&items, &exists).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("item `a`: `../outside.py` leads outside"));
        assert!(problems[1].contains("`src/shop/nope.py`, which does not exist"));
    }

    #[test]
    fn unknown_dependencies_and_duplicate_ids_are_reported() {
        let items = vec![
            item("a", PlanItemKind::Create, "x.py", &["zz"]),
            item("a", PlanItemKind::Create, "y.py", &[]),
            item("b", PlanItemKind::Create, "y.py", &["b"]),
        ];
        let problems = validate_items(&items, &exists).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("`a` is used by more than one")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("depends on `zz`, which is not")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("`b` depends on itself")),
            "{problems:?}"
        );
    }

    #[test]
    fn cycles_are_reported_with_their_items() {
        let items = vec![
            item("s1", PlanItemKind::Create, "x.py", &[]),
            item("a", PlanItemKind::Create, "x.py", &["b"]),
            item("b", PlanItemKind::Create, "y.py", &["c"]),
            item("c", PlanItemKind::Create, "z.py", &["a", "s1"]),
        ];
        let problems = validate_items(&items, &exists).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("a → b → c → a (`a` title a; `b` title b; `c` title c)"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn valid_plans_come_back_in_dependency_order() {
        let items = vec![
            item("t", PlanItemKind::Test, "tests/test_x.py", &["m"]),
            item("m", PlanItemKind::Modify, "src/shop/cart.py", &[]),
            item("d", PlanItemKind::Docs, "README.md", &[]),
        ];
        let ordered = validate_items(&items, &exists).unwrap();
        let ids: Vec<&str> = ordered.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["m", "t", "d"]);
    }
}
