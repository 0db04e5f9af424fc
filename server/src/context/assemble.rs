//! The context block a model request about one place carries, in layers by priority: the focus
//! symbol's full source, its callers and callees (signatures, docstring summaries, call sites),
//! the project profile, then the repo map. When the budget is short the lower layers are cut
//! first: a layer gets what the layers above it left, is cut at whole lines or entries, and the
//! repo map takes whatever remains.

use std::collections::BTreeMap;
use std::path::Path;

use crate::analysis::callgraph::{CallGraph, CallSite};
use crate::analysis::display::render_signature;
use crate::analysis::index::{FileAnalysis, ProjectIndex};
use crate::analysis::outline::{Outline, Symbol};
use crate::context::profile::ProjectProfile;
use crate::context::repomap::{Focus, RepoMap};
use crate::context::tokens::estimate_tokens;
use crate::session::position::LineIndex;

/// Where the request is about.
pub struct ContextFocus<'a> {
    /// The file as the index knows it.
    pub path: &'a Path,
    /// The file's workspace-relative path, as prompts show it.
    pub display_path: &'a str,
    /// A 1-based line: the innermost function or class around it is the focus; `None` (or a
    /// line outside any definition) makes the module the focus.
    pub line: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextLayer {
    pub title: &'static str,
    pub text: String,
    pub tokens: usize,
    /// Cut to fit the budget (an empty text means it did not fit at all).
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextBlock {
    /// The focus's call-graph node name (`shop.cart.Cart.total`, or the module's name).
    pub focus: String,
    pub layers: Vec<ContextLayer>,
    pub budget: usize,
}

impl ContextBlock {
    pub fn tokens(&self) -> usize {
        self.layers.iter().map(|l| l.tokens).sum()
    }

    /// The block exactly as a request carries it.
    pub fn render(&self) -> String {
        self.layers
            .iter()
            .filter(|l| !l.text.is_empty())
            .map(|l| l.text.trim_end().to_string())
            .collect::<Vec<_>>()
            .join("\n\n")
            + "\n"
    }
}

/// Builds the block for `focus` within `budget` tokens. `display` turns an indexed path into
/// the workspace-relative path prompts show.
pub fn assemble(
    index: &mut ProjectIndex,
    profile: &ProjectProfile,
    map: &RepoMap,
    focus: &ContextFocus<'_>,
    budget: usize,
    display: &dyn Fn(&Path) -> String,
) -> Option<ContextBlock> {
    let file = index.file(focus.path)?.clone();
    let outline = file.outline();
    let symbol = focus
        .line
        .and_then(|line| symbol_at_line(&file, &outline, line));
    let (node, focus_text) = match symbol {
        Some(s) => (
            s.qualified_name.clone(),
            focus_source(
                &file,
                focus.display_path,
                &s.qualified_name,
                s.range.clone(),
            ),
        ),
        None => (
            file.module.clone(),
            focus_source(&file, focus.display_path, &file.module, 0..file.bytes),
        ),
    };
    index.graph();
    let index = &*index;
    let graph = index.solved_graph();
    let calls = calls_layer(index, graph, &node, display);

    let mut left = budget;
    let mut layers = Vec::new();
    for (title, text) in [
        ("focus", focus_text),
        ("callers and callees", calls),
        (
            "project profile",
            format!("# Project\n{}", profile.render()),
        ),
    ] {
        let layer = fit(title, &text, left);
        left -= layer.tokens;
        layers.push(layer);
    }
    let map_focus = Focus {
        path: Some(focus.display_path.to_string()),
        symbol: symbol.map(|s| s.qualified_name.clone()),
    };
    // The heading costs tokens too; the map gets what is left after it.
    let heading = "# Repository map\n";
    let map_text = if left > estimate_tokens(heading) {
        let body = map.render_excluding(
            &map_focus,
            left - estimate_tokens(heading),
            &[focus.display_path],
        );
        if body.trim().is_empty() {
            String::new()
        } else {
            format!("{heading}{body}")
        }
    } else {
        String::new()
    };
    let tokens = estimate_tokens(&map_text);
    layers.push(ContextLayer {
        title: "repository map",
        truncated: map_text.is_empty(),
        text: map_text,
        tokens,
    });
    Some(ContextBlock {
        focus: node,
        layers,
        budget,
    })
}

/// Keeps whole lines of `text` while they fit in `budget` tokens.
fn fit(title: &'static str, text: &str, budget: usize) -> ContextLayer {
    let total = estimate_tokens(text);
    if total <= budget {
        return ContextLayer {
            title,
            text: text.to_string(),
            tokens: total,
            truncated: false,
        };
    }
    let marker = "[… cut to fit the token budget]\n";
    let room = budget.saturating_sub(estimate_tokens(marker));
    let mut kept = String::new();
    let mut used = 0;
    for line in text.split_inclusive('\n') {
        let cost = estimate_tokens(line);
        if used + cost > room {
            break;
        }
        kept.push_str(line);
        used += cost;
    }
    if kept.is_empty() {
        return ContextLayer {
            title,
            text: String::new(),
            tokens: 0,
            truncated: true,
        };
    }
    if !kept.ends_with('\n') {
        kept.push('\n');
    }
    kept.push_str(marker);
    let tokens = estimate_tokens(&kept);
    ContextLayer {
        title,
        text: kept,
        tokens,
        truncated: true,
    }
}

/// The innermost definition containing the line (1-based), looking past leading whitespace.
fn symbol_at_line<'o>(
    file: &FileAnalysis,
    outline: &'o Outline,
    line: usize,
) -> Option<&'o Symbol> {
    let text = file.text();
    let start = line_start(&text, line)?;
    let rest = &text[start..];
    let offset = start + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
    outline.symbols_at(offset).last().copied()
}

/// The byte offset where a 1-based line starts.
fn line_start(text: &str, line: usize) -> Option<usize> {
    let index = LineIndex::new(text);
    (line >= 1 && line <= index.line_count()).then(|| index.line_start(line - 1))
}

/// The 1-based line of an offset.
fn line_number(text: &str, offset: usize) -> usize {
    LineIndex::new(text).human_line_column(offset).0
}

fn focus_source(
    file: &FileAnalysis,
    path: &str,
    name: &str,
    range: std::ops::Range<usize>,
) -> String {
    let text = file.text();
    let start = line_start(&text, line_number(&text, range.start)).unwrap_or(0);
    let end = range.end.min(text.len());
    let source = text.get(start..end).unwrap_or_default();
    format!(
        "# Focus: {name} ({path}:{}-{})\n```python\n{}\n```\n",
        line_number(&text, range.start),
        line_number(&text, end),
        source.trim_end()
    )
}

/// Finds a symbol of an outline by its qualified name.
fn find_symbol<'a>(symbols: &'a [Symbol], name: &str) -> Option<&'a Symbol> {
    let mut level = symbols;
    loop {
        let next = level.iter().find(|s| {
            name == s.qualified_name || name.starts_with(&format!("{}.", s.qualified_name))
        })?;
        if next.qualified_name == name {
            return Some(next);
        }
        level = &next.children;
    }
}

/// One line describing a node: its signature and where it is, then its docstring's summary.
fn describe(
    index: &ProjectIndex,
    graph: &CallGraph,
    node: &str,
    display: &dyn Fn(&Path) -> String,
) -> String {
    let Some(module) = graph.node(node).and_then(|n| n.module) else {
        return format!("- {node} (outside the project)\n");
    };
    let Some(path) = index.path_of_module(module) else {
        return format!("- {node}\n");
    };
    let Some(file) = index.file(path) else {
        return format!("- {node}\n");
    };
    let outline = file.outline();
    let symbol = find_symbol(&outline.symbols, node);
    let signature = symbol
        .and_then(|s| s.signature.as_ref())
        .map(render_signature)
        .unwrap_or_default();
    let line = symbol
        .map(|s| line_number(&file.text(), s.name_range.start))
        .unwrap_or(1);
    let mut out = format!("- {node}{signature} — {}:{line}\n", display(path));
    if let Some(summary) = symbol
        .and_then(|s| s.docstring.as_ref())
        .and_then(|d| d.text.lines().find(|l| !l.trim().is_empty()))
    {
        out.push_str(&format!("    \"{}\"\n", summary.trim()));
    }
    out
}

/// The call site's line of code, trimmed, with its line number.
fn site_line(
    index: &ProjectIndex,
    site: &CallSite,
    display: &dyn Fn(&Path) -> String,
) -> Option<String> {
    let path = index.path_of_module(site.module)?;
    let file = index.file(path)?;
    let text = file.text();
    let line = line_number(&text, site.range.start);
    let start = line_start(&text, line)?;
    let text = text[start..].lines().next()?.trim();
    Some(format!("    at {}:{line}: `{text}`\n", display(path)))
}

fn group<'a>(
    sites: Vec<CallSite<'a>>,
    key: fn(&CallSite<'a>) -> &'a str,
) -> BTreeMap<String, Vec<CallSite<'a>>> {
    let mut grouped: BTreeMap<String, Vec<CallSite<'a>>> = BTreeMap::new();
    for site in sites {
        grouped
            .entry(key(&site).to_string())
            .or_default()
            .push(site);
    }
    grouped
}

fn calls_layer(
    index: &ProjectIndex,
    graph: &CallGraph,
    node: &str,
    display: &dyn Fn(&Path) -> String,
) -> String {
    let mut out = String::new();
    let mut callers = graph.callers_of(node);
    let init = format!("{node}.__init__");
    callers.extend(graph.callers_of(&init));
    let callers = group(callers, |s| s.caller);
    if !callers.is_empty() {
        out.push_str(&format!("# Called by ({})\n", callers.len()));
        for (caller, sites) in &callers {
            out.push_str(&describe(index, graph, caller, display));
            for site in sites.iter().take(3) {
                out.push_str(&site_line(index, site, display).unwrap_or_default());
            }
        }
    }
    let callees = group(graph.callees_of(node), |s| s.callee);
    if !callees.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("# Calls ({})\n", callees.len()));
        for (callee, sites) in &callees {
            out.push_str(&describe(index, graph, callee, display));
            for site in sites.iter().take(3) {
                out.push_str(&site_line(index, site, display).unwrap_or_default());
            }
        }
    }
    out
}
