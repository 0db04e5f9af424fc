//! The oracle: static analysis decides whether a docstring may be applied.
//!
//! A candidate docstring is put in place on a copy of the text and the file's DOC checks run on
//! the result (the same checks as `tandem check --select DOC`), restricted to the symbol; on
//! top of that, every name in backticks must be a parameter, something the code calls, a name
//! the project defines, a builtin or a literal. A docstring with any violation is not applied.

use tree_sitter::Tree;

use crate::analysis::docstring::checks::{
    check_source_deferred, check_subtree_deferred, DocCheckOptions,
};
use crate::analysis::docstring::placement::docstring_edit;
use crate::analysis::docstring::render::DocstringStyle;
use crate::analysis::finding::Finding;
use crate::analysis::parse::parse_str;

use super::document::{DocTarget, TargetFacts};

/// What the oracle reads from the file before any candidate: the same for every symbol of one
/// version of the text, so a run over a whole file computes it once.
pub struct OracleBase {
    /// The DOC findings of the file as it is (Tandem's options for `style`).
    findings: Vec<Finding>,
    /// The names and qualified names the file defines.
    names: std::collections::HashSet<String>,
}

impl OracleBase {
    pub fn new(source: &str, tree: &Tree, style: DocstringStyle) -> OracleBase {
        let (findings, _) = check_source_deferred(source, tree, &oracle_options(style));
        let local = crate::analysis::outline::outline(tree, source, "");
        let mut names = std::collections::HashSet::new();
        let mut stack: Vec<&crate::analysis::outline::Symbol> = local.symbols.iter().collect();
        while let Some(s) = stack.pop() {
            names.insert(s.name.clone());
            names.insert(s.qualified_name.clone());
            stack.extend(&s.children);
        }
        OracleBase { findings, names }
    }
}

/// Why `text` may not become `target`'s docstring; empty when it may.
pub fn violations(
    source: &str,
    tree: &Tree,
    target: &DocTarget,
    text: &str,
    style: DocstringStyle,
    known: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<String> {
    let base = OracleBase::new(source, tree, style);
    violations_with(&base, source, tree, target, text, style, known)
}

/// `violations` with the file's findings and names computed once (`base` must come from the
/// same `source` and `style`).
pub fn violations_with(
    base: &OracleBase,
    source: &str,
    tree: &Tree,
    target: &DocTarget,
    text: &str,
    style: DocstringStyle,
    known: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<String> {
    let mut out = Vec::new();
    if text.trim().is_empty() {
        out.push("the docstring is empty".to_string());
        return out;
    }
    let edit = match docstring_edit(source, tree, target.placement, text) {
        Ok(edit) => edit,
        Err(e) => return vec![e.to_string()],
    };
    let mut candidate = source.to_string();
    candidate.replace_range(edit.range.clone(), &edit.new_text);
    // Re-parsed incrementally: only the symbol's part of the tree is new.
    let mut edited = tree.clone();
    edited.edit(&input_edit(
        source,
        &candidate,
        edit.range.clone(),
        edit.new_text.len(),
    ));
    let new_tree = parse_str(&candidate, Some(&edited));
    if new_tree.root_node().has_error() && !tree.root_node().has_error() {
        out.push("the docstring breaks the file's syntax".to_string());
        return out;
    }
    let shift = edit.new_text.len() as isize - edit.range.len() as isize;
    let end = (target.range.end as isize + shift).max(0) as usize;
    let symbol_range = target.range.start..end.min(candidate.len());
    // Only what the new docstring causes counts: findings the symbol's members had before
    // (for a class, its methods' own docstrings) are not the candidate's fault.
    let before: Vec<String> = in_range(&base.findings, target.range.clone())
        .map(|f| format!("{}: {}", f.code, f.message))
        .collect();
    // pydoclint's rule (which the checks follow) wants a Returns section for a bare `return`
    // too; Tandem writes Returns only when a value is returned, so that finding is not held
    // against a docstring of a function that returns nothing (docs/docstring-rules.md).
    let returns_nothing = matches!(&target.facts, TargetFacts::Function(f) if f.returns.is_none());
    out.extend(
        doc_check_findings(&candidate, &new_tree, symbol_range, style)
            .iter()
            .filter(|f| !(returns_nothing && f.code == "DOC201"))
            .map(|f| format!("{}: {}", f.code, f.message))
            .filter(|m| !before.contains(m)),
    );
    // Names the file itself defines count as the project's.
    let known_here = |name: &str| base.names.contains(name) || known(name);
    out.extend(unknown_backtick_names(target, text, &known_here));
    out
}

/// The findings that start inside `range`.
fn in_range(findings: &[Finding], range: std::ops::Range<usize>) -> impl Iterator<Item = &Finding> {
    findings.iter().filter(move |f| {
        f.range.start >= range.start && f.range.start < range.end.max(range.start + 1)
    })
}

/// Tree-sitter's description of replacing `range` of `before` with `new_len` bytes, giving
/// `after`.
fn input_edit(
    before: &str,
    after: &str,
    range: std::ops::Range<usize>,
    new_len: usize,
) -> tree_sitter::InputEdit {
    let point = |text: &str, offset: usize| {
        let head = &text.as_bytes()[..offset];
        let row = head.iter().filter(|&&b| b == b'\n').count();
        let column = offset - head.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        tree_sitter::Point::new(row, column)
    };
    let new_end = range.start + new_len;
    tree_sitter::InputEdit {
        start_byte: range.start,
        old_end_byte: range.end,
        new_end_byte: new_end,
        start_position: point(before, range.start),
        old_end_position: point(before, range.end),
        new_end_position: point(after, new_end),
    }
}

/// Names in backticks that the code does not justify.
pub fn unknown_backtick_names(
    target: &DocTarget,
    text: &str,
    known: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<String> {
    let mut allowed: Vec<String> = Vec::new();
    match &target.facts {
        TargetFacts::Function(f) => {
            for p in &f.params {
                allowed.push(p.name.clone());
                if let Some(d) = &p.default {
                    allowed.push(d.clone());
                }
            }
            for c in &f.calls {
                allowed.push(c.clone());
                if let Some(last) = c.rsplit('.').next() {
                    allowed.push(last.to_string());
                }
            }
            allowed.extend(f.raises.iter().cloned());
            allowed.extend(f.caught_raises.iter().cloned());
            allowed.extend(f.unnamed_raises.iter().cloned());
        }
        TargetFacts::Class(c) => {
            for p in &c.init_params {
                allowed.push(p.name.clone());
                if let Some(d) = &p.default {
                    allowed.push(d.clone());
                }
            }
            allowed.extend(c.attributes.iter().map(|a| a.name.clone()));
        }
        TargetFacts::Module => {}
    }
    allowed.push(target.name.clone());
    let mut out = Vec::new();
    for name in backticked(text) {
        let bare = name.trim_end_matches("()");
        if !looks_like_a_name(bare) {
            continue;
        }
        let ok = if let Some((head, _)) = bare.split_once('.') {
            // A dotted name: something called under that name, an attribute of a parameter
            // or of `self`, or a project name.
            known(bare)
                || allowed
                    .iter()
                    .any(|a| a == bare || a.ends_with(&format!(".{bare}")))
                || head == "self"
                || head == "cls"
                || allowed.iter().any(|a| a == head)
        } else {
            allowed
                .iter()
                .any(|a| a == bare || a.rsplit('.').next() == Some(bare))
                || known(bare)
                || is_builtin_or_keyword(bare)
        };
        if !ok {
            out.push(format!(
                "`{bare}` is neither a parameter, nor something `{}` calls, nor a name of the project",
                target.name
            ));
        }
    }
    out
}

/// The spans between single backticks (double backticks, reST literals, count too).
fn backticked(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let after = rest[start..].trim_start_matches('`');
        let Some(end) = after.find('`') else { break };
        out.push(after[..end].trim());
        rest = after[end..].trim_start_matches('`');
    }
    out
}

/// A dotted identifier (what a name reference looks like), not an expression or a literal.
fn looks_like_a_name(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_')
        })
}

fn is_builtin_or_keyword(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "None",
        "True",
        "False",
        "self",
        "cls",
        "int",
        "str",
        "float",
        "bool",
        "bytes",
        "list",
        "dict",
        "set",
        "tuple",
        "frozenset",
        "object",
        "type",
        "len",
        "print",
        "range",
        "open",
        "iter",
        "next",
        "map",
        "filter",
        "zip",
        "sorted",
        "sum",
        "min",
        "max",
        "any",
        "all",
        "isinstance",
        "getattr",
        "setattr",
        "hasattr",
        "repr",
        "hash",
        "id",
        "super",
        "property",
        "staticmethod",
        "classmethod",
        "Exception",
        "ValueError",
        "TypeError",
        "KeyError",
        "IndexError",
        "RuntimeError",
        "AttributeError",
        "NotImplementedError",
        "OSError",
        "StopIteration",
        "await",
        "async",
        "yield",
        "return",
        "raise",
        "lambda",
    ];
    NAMES.contains(&name)
}

/// A model's docstring text without the quotes, `r` prefix or indentation it may carry.
pub fn clean_model_text(text: &str) -> String {
    let mut t = text.trim();
    for prefix in ["r\"\"\"", "R\"\"\"", "\"\"\"", "r'''", "'''"] {
        if let Some(inner) = t.strip_prefix(prefix) {
            t = inner;
            break;
        }
    }
    for suffix in ["\"\"\"", "'''"] {
        if let Some(inner) = t.strip_suffix(suffix) {
            t = inner;
            break;
        }
    }
    // Dedent every line after the first by their common indentation, as `inspect.cleandoc`.
    let lines: Vec<&str> = t.trim_matches('\n').lines().collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.trim().to_string()
            } else if l.trim().is_empty() {
                String::new()
            } else {
                l.get(indent..)
                    .unwrap_or(l.trim_start())
                    .trim_end()
                    .to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The facts in words, for the prompt.
pub fn facts_summary(target: &DocTarget) -> String {
    match &target.facts {
        TargetFacts::Module => "- a module: summarise what it defines".to_string(),
        TargetFacts::Class(c) => {
            let params: Vec<String> = c.init_params.iter().map(|p| p.documented_name()).collect();
            let attrs: Vec<&str> = c.attributes.iter().map(|a| a.name.as_str()).collect();
            format!(
                "- constructor parameters (document them in the class docstring): {}\n- public attributes: {}",
                list_or_none(&params),
                list_or_none(&attrs)
            )
        }
        TargetFacts::Function(f) => {
            let params: Vec<String> = f
                .params
                .iter()
                .map(|p| match p.type_text() {
                    Some(t) => format!("{} ({t})", p.documented_name()),
                    None => p.documented_name(),
                })
                .collect();
            let mut s = format!("- parameters, in order: {}\n", list_or_none(&params));
            match &f.returns {
                Some(r) => s.push_str(&format!(
                    "- returns a value{}\n",
                    r.type_text()
                        .map(|t| format!(" of type {t}"))
                        .unwrap_or_default()
                )),
                None => s.push_str("- returns nothing: no Returns section\n"),
            }
            match &f.yields {
                Some(y) => s.push_str(&format!(
                    "- a generator{}: a Yields section\n",
                    y.annotation
                        .as_deref()
                        .map(|t| format!(" yielding {t}"))
                        .unwrap_or_default()
                )),
                None => s.push_str("- not a generator: no Yields section\n"),
            }
            let mut raises: Vec<&str> = f.raises.iter().map(String::as_str).collect();
            for c in &f.caught_raises {
                if !raises.contains(&c.as_str()) {
                    raises.push(c);
                }
            }
            s.push_str(&format!("- raises: {}", list_or_none(&raises)));
            s
        }
    }
}

fn list_or_none<T: AsRef<str>>(items: &[T]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items
            .iter()
            .map(|i| i.as_ref().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Twin mode: reconciles two drafts that each passed the checks. What both say is kept (draft
/// `a`'s wording); where they disagree on a fact (a parameter's type, the returned or yielded
/// type, which exceptions are listed), the built-in engine's version of that part, which comes
/// from the code alone, is used instead, and the disagreement is returned as a note for an
/// Information diagnostic.
pub fn reconcile(
    a: &str,
    b: &str,
    builtin: &str,
    name: &str,
    style: DocstringStyle,
) -> (String, Vec<String>) {
    use crate::analysis::docstring::parse::{parse_docstring, SectionKind};
    let pa = parse_docstring(a, Some(style));
    let pb = parse_docstring(b, Some(style));
    let pbuiltin = parse_docstring(builtin, Some(style));
    let norm = |t: &Option<String>| {
        t.as_deref()
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let mut notes = Vec::new();
    let mut replace_types: Vec<(SectionKind, String)> = Vec::new();
    for ea in pa.entries(SectionKind::Args) {
        if let Some(eb) = pb.entries(SectionKind::Args).find(|e| e.name == ea.name) {
            if norm(&ea.type_text) != norm(&eb.type_text) {
                notes.push(format!(
                    "the type of `{}` ({} vs {})",
                    ea.name,
                    shown(&ea.type_text),
                    shown(&eb.type_text)
                ));
                replace_types.push((SectionKind::Args, ea.name.clone()));
            }
        }
    }
    for (kind, what) in [
        (SectionKind::Returns, "the returned type"),
        (SectionKind::Yields, "the yielded type"),
    ] {
        let ta = pa.entries(kind).next().map(|e| e.type_text.clone());
        let tb = pb.entries(kind).next().map(|e| e.type_text.clone());
        if let (Some(ta), Some(tb)) = (ta, tb) {
            if norm(&ta) != norm(&tb) {
                notes.push(format!("{what} ({} vs {})", shown(&ta), shown(&tb)));
                replace_types.push((kind, String::new()));
            }
        }
    }
    let names = |p: &crate::analysis::docstring::parse::ParsedDocstring| {
        let mut n: Vec<String> = p
            .entries(SectionKind::Raises)
            .map(|e| e.name.clone())
            .collect();
        n.sort();
        n
    };
    let raises_differ = names(&pa) != names(&pb);
    if raises_differ {
        notes.push(format!(
            "the exceptions raised ({} vs {})",
            list_or_none(&names(&pa)),
            list_or_none(&names(&pb))
        ));
    }
    if notes.is_empty() {
        return (a.to_string(), Vec::new());
    }
    // Draft `a` with the disputed facts taken from the code.
    let mut model = crate::analysis::docstring::generate::model_from_parsed(&pa, a);
    let builtin_type = |kind: SectionKind, name: &str| {
        pbuiltin
            .entries(kind)
            .find(|e| kind != SectionKind::Args || e.name == name)
            .and_then(|e| e.type_text.clone())
    };
    for (kind, entry) in &replace_types {
        match kind {
            SectionKind::Args => {
                if let Some(p) = model.params.iter_mut().find(|p| &p.name == entry) {
                    p.type_ = builtin_type(SectionKind::Args, entry);
                }
            }
            SectionKind::Returns => {
                if let Some(r) = model.returns.as_mut() {
                    r.type_ = builtin_type(SectionKind::Returns, "");
                }
            }
            SectionKind::Yields => {
                if let Some(y) = model.yields.as_mut() {
                    y.type_ = builtin_type(SectionKind::Yields, "");
                }
            }
            _ => {}
        }
    }
    if raises_differ {
        let from_a = |n: &str| {
            pa.entries(SectionKind::Raises)
                .find(|e| e.name == n)
                .map(|e| e.description.clone())
        };
        model.raises = pbuiltin
            .entries(SectionKind::Raises)
            .map(|e| crate::analysis::docstring::render::DocRaise {
                name: e.name.clone(),
                description: from_a(&e.name).unwrap_or_else(|| e.description.clone()),
            })
            .collect();
    }
    let text = crate::analysis::docstring::render::render(&model, style);
    let note = format!(
        "docstring of `{name}` needs review: the two drafts disagree on {}",
        notes.join("; ")
    );
    (text, vec![note])
}

fn shown(t: &Option<String>) -> String {
    match t {
        Some(t) => format!("`{t}`"),
        None => "no type".to_string(),
    }
}

/// The DOC findings (Tandem's own options: signature order, short docstrings checked, no
/// argument types compared) whose position lies in `range`: the symbol's own docstring and,
/// for a class, what its `__init__` requires of it.
pub fn doc_check_findings(
    source: &str,
    tree: &Tree,
    range: std::ops::Range<usize>,
    style: DocstringStyle,
) -> Vec<Finding> {
    // Only the smallest subtree holding the range is checked: findings are kept by position
    // inside the range, and every function whose findings land there lies inside it.
    let root = tree.root_node();
    let mut node = root
        .descendant_for_byte_range(range.start, range.end)
        .unwrap_or(root);
    while node.start_byte() > range.start || node.end_byte() < range.end {
        match node.parent() {
            Some(p) => node = p,
            None => break,
        }
    }
    let (findings, _) = check_subtree_deferred(node, source, &oracle_options(style));
    in_range(&findings, range).cloned().collect()
}

/// The options the oracle checks with.
pub fn oracle_options(style: DocstringStyle) -> DocCheckOptions {
    DocCheckOptions {
        style: Some(style),
        arg_type_hints_in_docstring: false,
        skip_checking_short_docstrings: false,
        ..DocCheckOptions::default()
    }
}
