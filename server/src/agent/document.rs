//! "Document this": docstrings for one symbol or a whole file, from the built-in engine or the
//! documenter model, always validated against the code before they become edits.
//!
//! The flow: `plan_targets` picks the symbols (the one at a place, or every undocumented one in
//! the file) and computes, from static analysis alone, the facts their docstrings must respect
//! and the built-in engine's docstring. Without a documenter model that is the answer. With
//! one, symbols are asked for callee-first (a function's prompt then carries the fresh
//! docstrings of what it calls), independent ones concurrently; each answer is checked by the
//! oracle (`oracle.rs`), repaired once with the violations as feedback, and otherwise replaced
//! by the built-in docstring. In twin mode two drafts are compared section by section. The
//! result is a set of non-overlapping edits, computed on one version of the text, that the
//! caller applies all at once.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tree_sitter::{Node, Tree};

use crate::analysis::docstring::facts::{class_facts, function_facts, ClassFacts, FunctionFacts};
use crate::analysis::docstring::generate::{
    class_model, function_model, is_exception_class, merge_with_existing, module_model,
};
use crate::analysis::docstring::placement::{docstring_edit, DocEdit, Placement};
use crate::analysis::docstring::render::{render, DocModel, DocstringStyle};
use crate::analysis::outline::{outline, Outline, Symbol, SymbolKind};
use crate::analysis::parse::parse_str;
use crate::models::schema::SchemaName;
use crate::models::{Message, ModelError, ModelRequest, ModelRouter, Role, StreamEvent};

use super::oracle;

/// How documentation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocSettings {
    pub style: DocstringStyle,
    /// Symbols asked for at once (`docs.concurrency`).
    pub concurrency: usize,
    /// 1, or 2 for twin mode (`docs.streams`).
    pub streams: u8,
}

impl Default for DocSettings {
    fn default() -> Self {
        DocSettings {
            style: DocstringStyle::Google,
            concurrency: 4,
            streams: 1,
        }
    }
}

/// The file being documented, as one version of its text.
#[derive(Debug, Clone)]
pub struct DocFile {
    /// Workspace-relative where possible; shown in prompts and messages.
    pub path: PathBuf,
    pub module: String,
    pub source: Arc<str>,
}

/// Which symbols to document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocScope {
    /// Every undocumented symbol of the file, the module included.
    File,
    /// The innermost function or class at this byte offset (the module outside any), whether
    /// it has a docstring or not (an existing one is rewritten).
    At(usize),
    /// The module's own docstring, whether it has one or not.
    Module,
}

/// What a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Module,
    Class,
    Function,
    Method,
}

/// The facts a target's docstring must respect.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a few per file; boxing would buy nothing
pub enum TargetFacts {
    Module,
    Class(ClassFacts),
    Function(Box<FunctionFacts>),
}

/// A symbol to document, with everything the engines need.
#[derive(Debug, Clone)]
pub struct DocTarget {
    pub qualified_name: String,
    pub name: String,
    pub kind: TargetKind,
    /// The definition (decorators included); the whole file for the module.
    pub range: Range<usize>,
    /// The name after `def`/`class`; the file's first byte for the module.
    pub name_range: Range<usize>,
    pub placement: Placement,
    pub facts: TargetFacts,
    /// The docstring it has now.
    pub existing: Option<String>,
    /// The built-in engine's docstring (text, no quotes).
    pub builtin: String,
}

/// Where a docstring came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    Model {
        model: String,
        repaired: bool,
    },
    /// The model's answer failed validation (twice) or the model failed; the built-in one
    /// was used instead.
    BuiltinAfterModel {
        reason: String,
    },
}

/// One documented symbol.
#[derive(Debug, Clone)]
pub struct Documented {
    pub qualified_name: String,
    pub name_range: Range<usize>,
    pub text: String,
    pub origin: Origin,
    /// Twin mode: what the two drafts disagreed on (shown as Information diagnostics).
    pub disagreements: Vec<String>,
}

/// The result of a documentation run: edits on the text it was given.
#[derive(Debug, Clone, Default)]
pub struct DocOutcome {
    /// Sorted by position, non-overlapping; apply them all or none.
    pub edits: Vec<DocEdit>,
    pub documented: Vec<Documented>,
    /// Symbols that got no docstring, and why (e.g. a syntax error in their header).
    pub skipped: Vec<(String, String)>,
}

impl DocOutcome {
    /// Why the built-in docstring was used instead of the model's, each reason once, in order
    /// (the model's error, or its answer failing the checks, or a cancellation).
    pub fn fallback_reasons(&self) -> Vec<&str> {
        let mut reasons: Vec<&str> = Vec::new();
        for d in &self.documented {
            if let Origin::BuiltinAfterModel { reason } = &d.origin {
                if !reasons.contains(&reason.as_str()) {
                    reasons.push(reason);
                }
            }
        }
        reasons
    }
}

/// What the project knows around the file, for prompts and validation. Built by the caller
/// from the index; everything is optional.
#[derive(Debug, Clone, Default)]
pub struct DocContext {
    /// Call-graph callees of each symbol (qualified names).
    pub callees: HashMap<String, Vec<String>>,
    /// How callers use each symbol: a few call-site lines, `path:line: code`.
    pub caller_usage: HashMap<String, Vec<String>>,
    /// Docstring summaries of symbols outside the file, by qualified name.
    pub known_docs: HashMap<String, String>,
    /// Names defined in the project, simple and qualified.
    pub project_names: HashSet<String>,
    /// The project profile, rendered.
    pub profile: String,
}

impl DocContext {
    /// The context of `module` from the project index: call-graph callees of its definitions,
    /// how callers use them (up to 8 call sites each, `path:line: code`), the docstring
    /// summaries of everything they call outside the file, and the project's names.
    pub fn from_index(
        index: &crate::analysis::index::ProjectIndex,
        module: &str,
        display: &dyn Fn(&std::path::Path) -> String,
    ) -> DocContext {
        let graph = index.solved_graph();
        let mut context = DocContext::default();
        let mut docs: HashMap<String, String> = HashMap::new();
        for (_, file) in index.files() {
            let outline = file.outline();
            let mut stack: Vec<&Symbol> = outline.symbols.iter().collect();
            while let Some(s) = stack.pop() {
                context.project_names.insert(s.name.clone());
                context.project_names.insert(s.qualified_name.clone());
                if let Some(d) = &s.docstring {
                    if let Some(first) = d.text.lines().next() {
                        docs.insert(s.qualified_name.clone(), first.to_string());
                    }
                }
                stack.extend(&s.children);
            }
        }
        let Some(path) = index.path_of_module(module) else {
            return context;
        };
        let Some(file) = index.file(path) else {
            return context;
        };
        let outline = file.outline();
        let mut stack: Vec<&Symbol> = outline.symbols.iter().collect();
        while let Some(s) = stack.pop() {
            let name = s.qualified_name.as_str();
            let callees: Vec<String> = graph
                .callees_of(name)
                .iter()
                .map(|c| c.callee.to_string())
                .collect();
            for c in &callees {
                if let Some(d) = docs.get(c) {
                    context.known_docs.insert(c.clone(), d.clone());
                }
            }
            context.callees.insert(name.to_string(), callees);
            let usage: Vec<String> = graph
                .callers_of(name)
                .iter()
                .take(8)
                .filter_map(|site| {
                    let caller_path = index.path_of_module(site.module)?;
                    let caller = index.file(caller_path)?;
                    let text = caller.text();
                    let text: &str = &text;
                    let start = text[..site.range.start.min(text.len())]
                        .rfind('\n')
                        .map_or(0, |i| i + 1);
                    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
                    let line = text[..start].matches('\n').count() + 1;
                    Some(format!(
                        "{}:{line}: {}",
                        display(caller_path),
                        text[start..end].trim()
                    ))
                })
                .collect();
            context.caller_usage.insert(name.to_string(), usage);
            stack.extend(&s.children);
        }
        context
    }
}

/// Why nothing could be documented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    #[error("nothing to document: {0}")]
    Nothing(String),
    #[error("{0}")]
    Placement(String),
    #[error("the documentation run was cancelled")]
    Cancelled,
}

/// Progress of a run, for `$/progress` or the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocProgress {
    pub done: usize,
    pub total: usize,
    pub symbol: String,
}

/// Picks the symbols to document and computes their facts and built-in docstrings.
pub fn plan_targets(
    file: &DocFile,
    tree: &Tree,
    scope: &DocScope,
    style: DocstringStyle,
) -> Vec<DocTarget> {
    let source: &str = &file.source;
    let outline = outline(tree, source, &file.module);
    let mut targets = Vec::new();
    match scope {
        DocScope::File => {
            // After a syntax error tree-sitter may misread what follows (a class that ends
            // early turns its methods into functions), so a whole-file run stops there.
            let first_error = crate::analysis::parse::syntax_errors(tree)
                .first()
                .map(|e| e.start);
            let mut stack: Vec<(&Symbol, Option<&Symbol>)> =
                outline.symbols.iter().rev().map(|s| (s, None)).collect();
            while let Some((symbol, parent)) = stack.pop() {
                if first_error.is_some_and(|e| symbol.range.end > e) {
                    continue;
                }
                if symbol.docstring.is_none() && wants_docstring(symbol, parent) {
                    if let Some(t) = symbol_target(source, tree, symbol, parent, style) {
                        targets.push(t);
                    }
                }
                // Functions nested in functions are implementation details; classes' members
                // are documented.
                if symbol.kind == SymbolKind::Class {
                    for child in symbol.children.iter().rev() {
                        stack.push((child, Some(symbol)));
                    }
                }
            }
            if outline.docstring.is_none() && !source.trim().is_empty() {
                let module = module_target(file, &outline, style, &targets);
                targets.insert(0, module);
            }
        }
        DocScope::At(offset) => match innermost(&outline.symbols, *offset, None) {
            Some((symbol, parent)) => {
                if let Some(t) = symbol_target(source, tree, symbol, parent, style) {
                    targets.push(t);
                }
            }
            None => targets.push(module_target(file, &outline, style, &[])),
        },
        DocScope::Module => targets.push(module_target(file, &outline, style, &[])),
    }
    targets
}

/// Whole-file runs skip what would be noise or wrong: `__init__` when its class documents the
/// constructor (the class has, or is getting, a docstring), `@overload` signatures, property
/// setters and deleters.
fn wants_docstring(symbol: &Symbol, parent: Option<&Symbol>) -> bool {
    if symbol.kind != SymbolKind::Class {
        if symbol.name == "__init__" && parent.is_some() {
            return false;
        }
        if symbol.decorators.iter().any(|d| {
            let head = d.split('(').next().unwrap_or(d);
            head == "overload"
                || head.ends_with(".overload")
                || head.ends_with(".setter")
                || head.ends_with(".deleter")
        }) {
            return false;
        }
    }
    true
}

/// What `DocScope::At` documents, named so that a later version of the text can be asked for
/// the same thing: the user asked about `Cart.add`, and after lines were typed above it the
/// same offset may be inside another function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocAnchor {
    Module,
    /// The `occurrence`-th symbol (from 0, in the order of the text) with this qualified
    /// name: a name defined twice (`if`/`else` branches, `@overload`) is told apart by order.
    Symbol {
        qualified_name: String,
        occurrence: usize,
    },
}

impl DocAnchor {
    /// What `DocScope::At(offset)` documents in `outline`.
    pub fn at(outline: &Outline, offset: usize) -> DocAnchor {
        let Some((target, _)) = innermost(&outline.symbols, offset, None) else {
            return DocAnchor::Module;
        };
        let occurrence = outline
            .all_symbols()
            .take_while(|s| !std::ptr::eq(*s, target))
            .filter(|s| s.qualified_name == target.qualified_name)
            .count();
        DocAnchor::Symbol {
            qualified_name: target.qualified_name.clone(),
            occurrence,
        }
    }

    /// The scope that documents this target in `outline` (of a later text), or `None` when the
    /// text no longer has it.
    pub fn scope_in(&self, outline: &Outline) -> Option<DocScope> {
        match self {
            DocAnchor::Module => Some(DocScope::Module),
            DocAnchor::Symbol {
                qualified_name,
                occurrence,
            } => outline
                .all_symbols()
                .filter(|s| &s.qualified_name == qualified_name)
                .nth(*occurrence)
                // The name is inside the symbol and inside none of its children.
                .map(|s| DocScope::At(s.name_range.start)),
        }
    }
}

impl std::fmt::Display for DocAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DocAnchor::Module => f.write_str("the module"),
            DocAnchor::Symbol { qualified_name, .. } => write!(f, "`{qualified_name}`"),
        }
    }
}

fn innermost<'o>(
    symbols: &'o [Symbol],
    offset: usize,
    parent: Option<&'o Symbol>,
) -> Option<(&'o Symbol, Option<&'o Symbol>)> {
    for symbol in symbols {
        if symbol.range.start <= offset && offset < symbol.range.end.max(symbol.range.start + 1) {
            return innermost(&symbol.children, offset, Some(symbol)).or(Some((symbol, parent)));
        }
    }
    None
}

fn module_target(
    file: &DocFile,
    outline: &Outline,
    style: DocstringStyle,
    planned: &[DocTarget],
) -> DocTarget {
    let summary_of = |qualified: &str| {
        planned
            .iter()
            .find(|t| t.qualified_name == qualified)
            .and_then(|t| t.builtin.lines().next().map(str::to_string))
    };
    DocTarget {
        qualified_name: file.module.clone(),
        name: file.module.rsplit('.').next().unwrap_or("").to_string(),
        kind: TargetKind::Module,
        range: 0..file.source.len(),
        name_range: 0..0,
        placement: Placement::Module,
        facts: TargetFacts::Module,
        existing: outline.docstring.as_ref().map(|d| d.text.clone()),
        builtin: render(&module_model(outline, &summary_of), style),
    }
}

fn symbol_target(
    source: &str,
    tree: &Tree,
    symbol: &Symbol,
    parent: Option<&Symbol>,
    style: DocstringStyle,
) -> Option<DocTarget> {
    let node = definition_node(tree, symbol)?;
    let (kind, facts, model): (TargetKind, TargetFacts, DocModel) = match symbol.kind {
        SymbolKind::Class => {
            let facts = class_facts(node, source);
            // The class docstring documents the constructor, raises included.
            let init = symbol
                .children
                .iter()
                .rfind(|c| c.name == "__init__")
                .and_then(|c| definition_node(tree, c))
                .map(|n| function_facts(n, source, true));
            let model = class_model(
                &symbol.name,
                is_exception_class(symbol),
                &facts,
                init.as_ref(),
            );
            (TargetKind::Class, TargetFacts::Class(facts), model)
        }
        SymbolKind::Function | SymbolKind::Method => {
            let is_method = symbol.kind == SymbolKind::Method;
            let facts = function_facts(node, source, is_method);
            let class = parent
                .filter(|p| p.kind == SymbolKind::Class && is_method)
                .map(|p| p.name.as_str());
            let model = function_model(&symbol.name, class, &facts);
            let kind = if is_method {
                TargetKind::Method
            } else {
                TargetKind::Function
            };
            (kind, TargetFacts::Function(Box::new(facts)), model)
        }
    };
    Some(DocTarget {
        qualified_name: symbol.qualified_name.clone(),
        name: symbol.name.clone(),
        kind,
        range: symbol.range.clone(),
        name_range: symbol.name_range.clone(),
        placement: Placement::Definition {
            start: symbol.range.start,
            end: symbol.range.end,
        },
        facts,
        existing: symbol.docstring.as_ref().map(|d| d.text.clone()),
        // An existing docstring is updated, not replaced: its human-written parts stay, in
        // its own style.
        builtin: match &symbol.docstring {
            Some(doc) => {
                let (merged, own_style) = merge_with_existing(&doc.text, &model, None);
                render(&merged, own_style)
            }
            None => render(&model, style),
        },
    })
}

/// The `function_definition`/`class_definition` node of an outline symbol.
fn definition_node<'t>(tree: &'t Tree, symbol: &Symbol) -> Option<Node<'t>> {
    let node = tree
        .root_node()
        .descendant_for_byte_range(symbol.name_range.start, symbol.name_range.end)?;
    let def = node.parent()?;
    matches!(def.kind(), "function_definition" | "class_definition").then_some(def)
}

/// The majority style of the docstrings in `outlines` (`None` when none shows a style).
pub fn majority_style<'o>(outlines: impl Iterator<Item = &'o Outline>) -> Option<DocstringStyle> {
    use crate::context::profile::detect_docstring_style;
    let mut counts = [0usize; 3];
    for o in outlines {
        let mut stack: Vec<&Symbol> = o.symbols.iter().collect();
        let mut docs: Vec<&str> = o.docstring.iter().map(|d| d.text.as_str()).collect();
        while let Some(s) = stack.pop() {
            if let Some(d) = &s.docstring {
                docs.push(&d.text);
            }
            stack.extend(&s.children);
        }
        for d in docs {
            match detect_docstring_style(d) {
                Some(DocstringStyle::Google) => counts[0] += 1,
                Some(DocstringStyle::Numpy) => counts[1] += 1,
                Some(DocstringStyle::Sphinx) => counts[2] += 1,
                None => {}
            }
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))?;
    (counts[best] > 0).then_some(
        [
            DocstringStyle::Google,
            DocstringStyle::Numpy,
            DocstringStyle::Sphinx,
        ][best],
    )
}

/// Documents `file` with the built-in engine only. Synchronous and fast: no model, no I/O.
pub fn document_offline(
    file: &DocFile,
    scope: &DocScope,
    settings: &DocSettings,
) -> Result<DocOutcome, DocError> {
    let tree = parse_str(&file.source, None);
    let targets = plan_targets(file, &tree, scope, settings.style);
    if targets.is_empty() {
        return Err(DocError::Nothing(format!(
            "every symbol of {} already has a docstring",
            file.path.display()
        )));
    }
    let results = targets
        .iter()
        .map(|t| (t.builtin.clone(), Origin::Builtin, Vec::new()))
        .collect();
    let mut outcome = assemble(file, &tree, &targets, results)?;
    note_syntax_error(file, &tree, scope, &mut outcome);
    Ok(outcome)
}

/// Says where a whole-file run stopped because of a syntax error.
fn note_syntax_error(file: &DocFile, tree: &Tree, scope: &DocScope, outcome: &mut DocOutcome) {
    if *scope != DocScope::File {
        return;
    }
    if let Some(error) = crate::analysis::parse::syntax_errors(tree).first() {
        let line = file.source[..error.start.min(file.source.len())]
            .matches('\n')
            .count()
            + 1;
        outcome.skipped.push((
            format!("{} from line {line}", file.path.display()),
            format!("syntax error at line {line}; definitions from there on were not documented"),
        ));
    }
}

/// Turns chosen texts into edits, all on the same text.
fn assemble(
    file: &DocFile,
    tree: &Tree,
    targets: &[DocTarget],
    results: Vec<(String, Origin, Vec<String>)>,
) -> Result<DocOutcome, DocError> {
    let mut outcome = DocOutcome::default();
    for (target, (text, origin, disagreements)) in targets.iter().zip(results) {
        match docstring_edit(&file.source, tree, target.placement, &text) {
            Ok(edit) => {
                outcome.edits.push(edit);
                outcome.documented.push(Documented {
                    qualified_name: target.qualified_name.clone(),
                    name_range: target.name_range.clone(),
                    text,
                    origin,
                    disagreements,
                });
            }
            Err(e) => outcome
                .skipped
                .push((target.qualified_name.clone(), e.to_string())),
        }
    }
    outcome.edits.sort_by_key(|e| (e.range.start, e.range.end));
    for pair in outcome.edits.windows(2) {
        if pair[0].range.end > pair[1].range.start {
            return Err(DocError::Placement(format!(
                "two docstring edits overlap at byte {} of {}",
                pair[1].range.start,
                file.path.display()
            )));
        }
    }
    if outcome.edits.is_empty() {
        let why = outcome
            .skipped
            .first()
            .map(|(s, e)| format!("{s}: {e}"))
            .unwrap_or_else(|| "no symbol".to_string());
        return Err(DocError::Placement(why));
    }
    Ok(outcome)
}

/// The callee-first order of `targets` (indexes): a symbol comes after the symbols of the file
/// it calls; cycles are broken in source order. Also returns, per target, the targets it must
/// wait for (its callees that come before it).
pub fn callee_first(
    targets: &[DocTarget],
    callees_of: &dyn Fn(&DocTarget) -> Vec<String>,
) -> (Vec<usize>, Vec<Vec<usize>>) {
    let by_name: HashMap<&str, usize> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.qualified_name.as_str(), i))
        .collect();
    let deps: Vec<Vec<usize>> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut d: Vec<usize> = callees_of(t)
                .iter()
                .filter_map(|c| by_name.get(c.as_str()).copied())
                .filter(|&j| j != i)
                .collect();
            d.sort_unstable();
            d.dedup();
            d
        })
        .collect();
    // Kahn's algorithm; when only cycles remain, the earliest remaining target (in source
    // order) goes next.
    let mut source_order: Vec<usize> = (0..targets.len()).collect();
    source_order.sort_by_key(|&i| (targets[i].range.start, i));
    let mut done = vec![false; targets.len()];
    let mut order = Vec::with_capacity(targets.len());
    while order.len() < targets.len() {
        let next = source_order
            .iter()
            .copied()
            .find(|&i| !done[i] && deps[i].iter().all(|&d| done[d]))
            .or_else(|| source_order.iter().copied().find(|&i| !done[i]));
        let Some(i) = next else { break };
        done[i] = true;
        order.push(i);
    }
    let position: HashMap<usize, usize> = order.iter().enumerate().map(|(p, &i)| (i, p)).collect();
    let waits = deps
        .iter()
        .enumerate()
        .map(|(i, d)| {
            d.iter()
                .copied()
                .filter(|j| position[j] < position[&i])
                .collect()
        })
        .collect();
    (order, waits)
}

/// A chosen docstring text, where it came from, and twin-mode disagreements.
type Drafted = (String, Origin, Vec<String>);

/// Callees of a target inside its own file, read from its calls without the call graph:
/// `f(...)` is the module-level `f`, `self.m(...)`/`cls.m(...)` the method `m` of the same
/// class, `C(...)` the class `C`.
pub fn local_callees(target: &DocTarget, module: &str) -> Vec<String> {
    let TargetFacts::Function(facts) = &target.facts else {
        return Vec::new();
    };
    let class_prefix = match target.kind {
        TargetKind::Method => target
            .qualified_name
            .rsplit_once('.')
            .map(|(c, _)| c.to_string()),
        _ => None,
    };
    facts
        .calls
        .iter()
        .filter_map(|call| {
            if let Some(rest) = call
                .strip_prefix("self.")
                .or_else(|| call.strip_prefix("cls."))
            {
                return class_prefix.as_ref().map(|c| format!("{c}.{rest}"));
            }
            let prefix = if module.is_empty() {
                String::new()
            } else {
                format!("{module}.")
            };
            Some(format!("{prefix}{call}"))
        })
        .collect()
}

/// Documents `file` with the documenter role of `router`: callee-first, `settings.concurrency`
/// at a time, each answer validated; the built-in docstring wherever the model's fails.
pub async fn document_with_model(
    file: &DocFile,
    scope: &DocScope,
    settings: &DocSettings,
    router: &ModelRouter,
    context: &DocContext,
    cancel: CancellationToken,
    progress: &(dyn Fn(DocProgress) + Send + Sync),
) -> Result<DocOutcome, DocError> {
    let tree = parse_str(&file.source, None);
    let targets = plan_targets(file, &tree, scope, settings.style);
    if targets.is_empty() {
        return Err(DocError::Nothing(format!(
            "every symbol of {} already has a docstring",
            file.path.display()
        )));
    }
    let base = oracle::OracleBase::new(&file.source, &tree, settings.style);
    let callees_of = |t: &DocTarget| -> Vec<String> {
        match context.callees.get(&t.qualified_name) {
            Some(c) => c.clone(),
            None => local_callees(t, &file.module),
        }
    };
    let (order, waits) = callee_first(&targets, &callees_of);
    let total = targets.len();
    let finished: Mutex<Vec<Option<Drafted>>> = Mutex::new(vec![None; total]);
    let fresh_docs: Mutex<HashMap<String, String>> = Mutex::new(HashMap::new());
    let semaphore = tokio::sync::Semaphore::new(settings.concurrency.max(1));
    let notify = tokio::sync::Notify::new();

    let one = |i: usize| {
        let target = &targets[i];
        let finished = &finished;
        let fresh_docs = &fresh_docs;
        let semaphore = &semaphore;
        let notify = &notify;
        let waits = &waits[i];
        let cancel = cancel.clone();
        let tree = &tree;
        let base = &base;
        let callees = callees_of(target);
        async move {
            // Wait for the callees in this file, so that the prompt carries their new docs.
            loop {
                let ready = {
                    let f = finished.lock().unwrap_or_else(|e| e.into_inner());
                    waits.iter().all(|&j| f[j].is_some())
                };
                if ready || cancel.is_cancelled() {
                    break;
                }
                let notified = notify.notified();
                let ready = {
                    let f = finished.lock().unwrap_or_else(|e| e.into_inner());
                    waits.iter().all(|&j| f[j].is_some())
                };
                if ready {
                    break;
                }
                tokio::select! {
                    _ = notified => {}
                    _ = cancel.cancelled() => break,
                }
            }
            let _permit = semaphore.acquire().await;
            let callee_docs: Vec<(String, String)> = {
                let fresh = fresh_docs.lock().unwrap_or_else(|e| e.into_inner());
                callees
                    .iter()
                    .filter_map(|c| {
                        fresh
                            .get(c)
                            .or_else(|| context.known_docs.get(c))
                            .map(|d| (c.clone(), d.clone()))
                    })
                    .collect()
            };
            let result = if cancel.is_cancelled() {
                (
                    target.builtin.clone(),
                    Origin::BuiltinAfterModel {
                        reason: "cancelled".to_string(),
                    },
                    Vec::new(),
                )
            } else {
                ask_documenter(
                    file,
                    tree,
                    base,
                    target,
                    settings,
                    router,
                    context,
                    &callee_docs,
                    &cancel,
                )
                .await
            };
            fresh_docs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(target.qualified_name.clone(), result.0.clone());
            let done = {
                let mut f = finished.lock().unwrap_or_else(|e| e.into_inner());
                f[i] = Some(result);
                f.iter().filter(|r| r.is_some()).count()
            };
            notify.notify_waiters();
            progress(DocProgress {
                done,
                total,
                symbol: target.qualified_name.clone(),
            });
        }
    };
    futures::future::join_all(order.iter().map(|&i| one(i))).await;
    if cancel.is_cancelled() {
        return Err(DocError::Cancelled);
    }
    let results = finished
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .zip(&targets)
        .map(|(r, t)| r.unwrap_or_else(|| (t.builtin.clone(), Origin::Builtin, Vec::new())))
        .collect();
    let mut outcome = assemble(file, &tree, &targets, results)?;
    note_syntax_error(file, &tree, scope, &mut outcome);
    Ok(outcome)
}

const SYSTEM_PROMPT: &str = "You write Python docstrings. Answer only with the JSON object the \
schema describes: for each symbol asked for, its qualified name and the docstring's text \
without quotes and without indentation. Follow the requested style exactly. Document exactly \
the parameters of the signature, in order (never self or cls); a Returns section only if the \
function returns a value; a Yields section only for generators; a Raises section listing only \
the exceptions the facts list. Do not invent parameters, exceptions, behaviour or names: put a \
name in backticks only if it is a parameter, something the code calls, or a name of the \
project. The first line is a one-sentence summary in the imperative mood ending with a period.";

/// Asks the documenter for one target; validates, repairs once, falls back to the built-in
/// docstring. In twin mode asks twice and reconciles.
#[allow(clippy::too_many_arguments)]
async fn ask_documenter(
    file: &DocFile,
    tree: &Tree,
    base: &oracle::OracleBase,
    target: &DocTarget,
    settings: &DocSettings,
    router: &ModelRouter,
    context: &DocContext,
    callee_docs: &[(String, String)],
    cancel: &CancellationToken,
) -> (String, Origin, Vec<String>) {
    let prompt = build_prompt(file, target, settings.style, context, callee_docs);
    let known = |name: &str| context.project_names.contains(name);
    let first = draft(
        file, tree, base, target, settings, router, &prompt, 0.2, &known, cancel,
    )
    .await;
    if settings.streams < 2 {
        return match first {
            Ok((text, origin)) => (text, origin, Vec::new()),
            Err(reason) => (
                target.builtin.clone(),
                Origin::BuiltinAfterModel { reason },
                Vec::new(),
            ),
        };
    }
    let second = draft(
        file, tree, base, target, settings, router, &prompt, 0.8, &known, cancel,
    )
    .await;
    match (first, second) {
        (Ok((a, origin)), Ok((b, _))) => {
            let (text, disagreements) =
                oracle::reconcile(&a, &b, &target.builtin, target.name.as_str(), settings.style);
            (text, origin, disagreements)
        }
        (Ok((a, origin)), Err(reason)) | (Err(reason), Ok((a, origin))) => (
            a,
            origin,
            vec![format!(
                "docstring of `{}` needs review: only one of the two drafts passed the checks ({reason})",
                target.name
            )],
        ),
        (Err(reason), Err(_)) => (
            target.builtin.clone(),
            Origin::BuiltinAfterModel { reason },
            Vec::new(),
        ),
    }
}

/// One validated draft from the model: asked, checked, repaired once.
#[allow(clippy::too_many_arguments)]
async fn draft(
    file: &DocFile,
    tree: &Tree,
    base: &oracle::OracleBase,
    target: &DocTarget,
    settings: &DocSettings,
    router: &ModelRouter,
    prompt: &str,
    temperature: f32,
    known: &(dyn Fn(&str) -> bool + Sync),
    cancel: &CancellationToken,
) -> Result<(String, Origin), String> {
    let mut request = ModelRequest::new(SchemaName::Docstrings, SYSTEM_PROMPT, prompt)
        .with_source(file.path.clone())
        .with_temperature(temperature)
        .with_facts(BuiltinDocstrings(vec![(
            target.qualified_name.clone(),
            target.builtin.clone(),
        )]));
    for round in 0..2 {
        let answer = router
            .complete(
                Role::Documenter,
                request.clone(),
                cancel.clone(),
                |_: StreamEvent| {},
            )
            .await
            .map_err(|e: ModelError| e.to_string())?;
        if answer.model == crate::session::config::BUILTIN_MODEL {
            return Ok((target.builtin.clone(), Origin::Builtin));
        }
        let text = match pick_docstring(&answer.value, &target.qualified_name, &target.name) {
            Some(text) => text,
            None => {
                let v = vec![format!(
                    "the answer has no docstring for `{}`",
                    target.qualified_name
                )];
                if round == 0 {
                    request = repair_request(request, &answer.value, &v);
                    continue;
                }
                return Err(v.join("; "));
            }
        };
        let violations = oracle::violations_with(
            base,
            &file.source,
            tree,
            target,
            &text,
            settings.style,
            known,
        );
        if violations.is_empty() {
            return Ok((
                text,
                Origin::Model {
                    model: answer.model,
                    repaired: round > 0,
                },
            ));
        }
        if round == 0 {
            request = repair_request(request, &answer.value, &violations);
            continue;
        }
        return Err(format!(
            "the model's docstring failed the checks twice: {}",
            violations.join("; ")
        ));
    }
    Err("no valid docstring".to_string())
}

fn repair_request(request: ModelRequest, answer: &Value, violations: &[String]) -> ModelRequest {
    request
        .with_message(Message::assistant(answer.to_string()))
        .with_message(Message::user(format!(
            "That docstring is wrong about the code:\n- {}\nAnswer again with a corrected docstring.",
            violations.join("\n- ")
        )))
}

/// The docstring for `qualified` in an answer (by qualified name, else by simple name, else
/// the only one), cleaned of quotes and indentation a model may have added.
fn pick_docstring(value: &Value, qualified: &str, name: &str) -> Option<String> {
    let items = value.get("docstrings")?.as_array()?;
    let text_of = |item: &Value| {
        item.get("docstring")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let found = items
        .iter()
        .find(|i| i.get("symbol").and_then(Value::as_str) == Some(qualified))
        .or_else(|| {
            items.iter().find(|i| {
                i.get("symbol")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.rsplit('.').next() == Some(name))
            })
        })
        .or_else(|| (items.len() == 1).then(|| &items[0]))?;
    let text = oracle::clean_model_text(&text_of(found)?);
    (!text.trim().is_empty()).then_some(text)
}

fn build_prompt(
    file: &DocFile,
    target: &DocTarget,
    style: DocstringStyle,
    context: &DocContext,
    callee_docs: &[(String, String)],
) -> String {
    let source: &str = &file.source;
    let code = source.get(target.range.clone()).unwrap_or("");
    let mut p = format!(
        "Write the {} docstring of `{}` ({}) in {}, {} style.\n\n",
        match target.kind {
            TargetKind::Module => "module",
            TargetKind::Class => "class",
            TargetKind::Function => "function",
            TargetKind::Method => "method",
        },
        target.qualified_name,
        file.path.display(),
        style.as_str(),
        style.as_str()
    );
    if target.kind == TargetKind::Module {
        p.push_str("The module's definitions (outline):\n");
        p.push_str(&target.builtin);
        p.push_str("\n\n");
    } else {
        p.push_str("```python\n");
        p.push_str(code);
        p.push_str("\n```\n\n");
    }
    p.push_str("Facts from static analysis (the docstring must agree with them):\n");
    p.push_str(&oracle::facts_summary(target));
    p.push('\n');
    if !callee_docs.is_empty() {
        p.push_str("\nWhat it calls, with their docstrings:\n");
        for (name, doc) in callee_docs {
            let first = doc.lines().next().unwrap_or("");
            p.push_str(&format!("- `{name}`: {first}\n"));
        }
    }
    if let Some(usage) = context.caller_usage.get(&target.qualified_name) {
        if !usage.is_empty() {
            p.push_str("\nHow callers use it:\n");
            for u in usage.iter().take(8) {
                p.push_str(&format!("- {u}\n"));
            }
        }
    }
    if !context.profile.is_empty() {
        p.push_str("\nProject profile:\n");
        p.push_str(&context.profile);
        p.push('\n');
    }
    p.push_str("\nA docstring written from the facts alone, to improve on (keep its structure, write real descriptions):\n");
    p.push_str(&target.builtin);
    p.push('\n');
    p
}

/// The built-in docstrings of a request, attached as facts so that the offline engine (the
/// `builtin` entry of the documenter's chain) can answer without a model.
#[derive(Debug, Clone)]
pub struct BuiltinDocstrings(pub Vec<(String, String)>);

/// The documenter's offline engine: answers with the built-in docstrings attached to the
/// request.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinDocumenter;

impl crate::models::builtin::OfflineEngine for BuiltinDocumenter {
    fn answer(&self, request: &ModelRequest) -> Result<Value, ModelError> {
        let facts = request
            .facts
            .as_ref()
            .and_then(|f| f.downcast_ref::<BuiltinDocstrings>())
            .ok_or_else(|| crate::models::builtin::Unserved::error(Role::Documenter))?;
        Ok(serde_json::json!({
            "docstrings": facts.0.iter().map(|(symbol, docstring)| serde_json::json!({
                "symbol": symbol,
                "docstring": docstring,
            })).collect::<Vec<_>>()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(source: &str) -> DocFile {
        DocFile {
            path: PathBuf::from("m.py"),
            module: "m".to_string(),
            source: Arc::from(source),
        }
    }

    fn apply(source: &str, edits: &[DocEdit]) -> String {
        let mut out = source.to_string();
        for e in edits.iter().rev() {
            out.replace_range(e.range.clone(), &e.new_text);
        }
        out
    }

    #[test]
    fn a_whole_file_run_documents_every_undocumented_symbol() {
        let src = "import os\n\n\nclass Cart:\n    def __init__(self, owner):\n        self.owner = owner\n\n    def add(self, item, qty=1):\n        \"\"\"Add.\"\"\"\n        return qty\n\n    def total(self):\n        return 0\n\n\ndef helper(x):\n    def inner():\n        pass\n    return inner\n";
        let f = file(src);
        let outcome = document_offline(&f, &DocScope::File, &DocSettings::default()).unwrap();
        let names: Vec<&str> = outcome
            .documented
            .iter()
            .map(|d| d.qualified_name.as_str())
            .collect();
        // The module, the class, `total` and `helper`; not `__init__` (the class documents
        // it), not the documented `add`, not the nested `inner`.
        assert_eq!(names, vec!["m", "m.Cart", "m.Cart.total", "m.helper"]);
        let out = apply(src, &outcome.edits);
        let tree = parse_str(&out, None);
        assert!(!tree.root_node().has_error(), "{out}");
        assert!(out.starts_with("\"\"\"M: `Cart` and `helper`.\n\n- `Cart`: A cart.\n- `helper`: Return the helper.\n\"\"\"\n\nimport os\n"), "{out}");
        assert!(
            out.contains(
                "class Cart:\n    \"\"\"A cart.\n\n    Args:\n        owner: The owner.\n"
            ),
            "{out}"
        );
        assert!(out.contains("    def total(self):\n        \"\"\"Return the total.\n\n        Returns:\n            int: The total.\n        \"\"\"\n        return 0\n"), "{out}");
    }

    #[test]
    fn an_anchor_finds_the_same_symbol_in_a_later_text() {
        let outline_of = |src: &str| outline(&parse_str(src, None), src, "m");
        let src = "def f():\n    return 1\n\n\nclass A:\n    def f(self):\n        return 2\n";
        let before = outline_of(src);
        let inner = DocAnchor::at(&before, src.find("return 2").unwrap());
        assert_eq!(
            inner,
            DocAnchor::Symbol {
                qualified_name: "m.A.f".into(),
                occurrence: 0
            }
        );
        assert_eq!(
            DocAnchor::at(&before, 0).scope_in(&before),
            Some(DocScope::At(4))
        );
        // Lines typed above: the old offset is now in another function; the anchor is not.
        let later = format!("def g():\n    return 0\n\n\n{src}");
        let after = outline_of(&later);
        let Some(DocScope::At(offset)) = inner.scope_in(&after) else {
            panic!("m.A.f is still there");
        };
        assert_eq!(DocAnchor::at(&after, offset), inner);
        assert_eq!(&later[offset..offset + 1], "f");
        assert!(later[..offset].ends_with("    def "));
        // Gone, or the module outside every symbol.
        assert_eq!(inner.scope_in(&outline_of("def f():\n    pass\n")), None);
        let module = DocAnchor::at(&outline_of("x = 1\n\ndef f():\n    pass\n"), 0);
        assert_eq!(module, DocAnchor::Module);
        assert_eq!(module.scope_in(&after), Some(DocScope::Module));
    }

    #[test]
    fn a_name_defined_twice_is_told_apart_by_order() {
        let src = "if X:\n    def f():\n        return 1\nelse:\n    def f():\n        return 2\n";
        let outline_of = |src: &str| outline(&parse_str(src, None), src, "m");
        let second = DocAnchor::at(&outline_of(src), src.find("return 2").unwrap());
        assert_eq!(
            second,
            DocAnchor::Symbol {
                qualified_name: "m.f".into(),
                occurrence: 1
            }
        );
        let later = format!("import os\n{src}");
        let Some(DocScope::At(offset)) = second.scope_in(&outline_of(&later)) else {
            panic!("the second f is still there");
        };
        assert!(
            later[offset..].starts_with("f():\n        return 2"),
            "{offset}"
        );
    }

    #[test]
    fn the_module_scope_documents_the_module_even_when_a_definition_starts_the_file() {
        let outcome = document_offline(
            &file("def f():\n    return 1\n"),
            &DocScope::Module,
            &DocSettings::default(),
        )
        .unwrap();
        assert_eq!(outcome.documented.len(), 1);
        assert_eq!(outcome.documented[0].qualified_name, "m");
    }

    #[test]
    fn a_place_picks_the_innermost_symbol_even_when_documented() {
        let src = "class A:\n    def m(self):\n        \"\"\"Old.\"\"\"\n        return 1\n";
        let offset = src.find("return").unwrap();
        let outcome =
            document_offline(&file(src), &DocScope::At(offset), &DocSettings::default()).unwrap();
        assert_eq!(outcome.documented[0].qualified_name, "m.A.m");
        assert_eq!(outcome.edits.len(), 1);
        // Outside every symbol: the module.
        let outcome =
            document_offline(&file("x = 1\n"), &DocScope::At(0), &DocSettings::default()).unwrap();
        assert_eq!(outcome.documented[0].qualified_name, "m");
    }

    #[test]
    fn fallback_reasons_name_each_reason_once() {
        let documented = |name: &str, origin: Origin| Documented {
            qualified_name: name.to_string(),
            name_range: 0..0,
            text: String::new(),
            origin,
            disagreements: Vec::new(),
        };
        let failed = || Origin::BuiltinAfterModel {
            reason: "model `doc`: the server answered 500".to_string(),
        };
        let outcome = DocOutcome {
            documented: vec![
                documented("a", failed()),
                documented("b", Origin::Builtin),
                documented("c", failed()),
                documented(
                    "d",
                    Origin::BuiltinAfterModel {
                        reason: "cancelled".to_string(),
                    },
                ),
            ],
            ..DocOutcome::default()
        };
        assert_eq!(
            outcome.fallback_reasons(),
            vec!["model `doc`: the server answered 500", "cancelled"]
        );
        assert!(DocOutcome::default().fallback_reasons().is_empty());
    }

    #[test]
    fn nothing_to_do_is_an_error_that_says_so() {
        let src = "\"\"\"M.\"\"\"\n\ndef f():\n    \"\"\"F.\"\"\"\n";
        let err = document_offline(&file(src), &DocScope::File, &DocSettings::default());
        assert!(matches!(err, Err(DocError::Nothing(_))));
    }

    #[test]
    fn callee_first_order_breaks_cycles_in_source_order() {
        let src = "def a():\n    b()\n\ndef b():\n    c()\n\ndef c():\n    pass\n\ndef d():\n    e()\n\ndef e():\n    d()\n";
        let f = file(src);
        let tree = parse_str(src, None);
        let targets: Vec<DocTarget> =
            plan_targets(&f, &tree, &DocScope::File, DocstringStyle::Google)
                .into_iter()
                .filter(|t| t.kind != TargetKind::Module)
                .collect();
        let (order, waits) = callee_first(&targets, &|t| local_callees(t, "m"));
        let names: Vec<&str> = order.iter().map(|&i| targets[i].name.as_str()).collect();
        assert_eq!(names, vec!["c", "b", "a", "d", "e"]);
        // `a` waits for `b`; `d` waits for nothing (the cycle is broken at it); `e` for `d`.
        let idx = |n: &str| targets.iter().position(|t| t.name == n).unwrap();
        assert_eq!(waits[idx("a")], vec![idx("b")]);
        assert!(waits[idx("d")].is_empty());
        assert_eq!(waits[idx("e")], vec![idx("d")]);
    }

    /// The built-in engine's docstrings pass the oracle, in every style, on varied code.
    #[test]
    fn builtin_docstrings_pass_the_oracle() {
        let src = r#"
import os

class Store(dict):
    kind: str = "x"

    def __init__(self, path: str, *, strict=False, **opts):
        self.path = path
        if not path:
            raise ValueError("no path")

    def get_item(self, key, default=None) -> int | None:
        try:
            return self[key]
        except KeyError:
            raise LookupError(key)

    def is_open(self) -> bool:
        return True

    @property
    def size(self) -> int:
        return len(self)

    def iter_keys(self):
        for k in self:
            yield k

    @staticmethod
    def make(a, /, b, *args, c=1, **kw):
        return a

    async def fetch(self, url):
        try:
            raise TimeoutError
        except TimeoutError:
            return None

def helper(x, _=None):
    if x:
        return
    os.remove(x)

def one(): return 1
"#;
        for style in [
            DocstringStyle::Google,
            DocstringStyle::Numpy,
            DocstringStyle::Sphinx,
        ] {
            let f = file(src);
            let tree = parse_str(src, None);
            let targets = plan_targets(&f, &tree, &DocScope::File, style);
            assert!(targets.len() >= 10, "{}", targets.len());
            for t in &targets {
                let v = oracle::violations(src, &tree, t, &t.builtin, style, &|_| false);
                assert!(
                    v.is_empty(),
                    "{} ({}): {v:?}\n{}",
                    t.qualified_name,
                    style.as_str(),
                    t.builtin
                );
            }
        }
    }

    #[test]
    fn the_oracle_rejects_invented_parameters_returns_and_names() {
        let src = "def add(a, b):\n    return a + b\n";
        let f = file(src);
        let tree = parse_str(src, None);
        let t = plan_targets(&f, &tree, &DocScope::At(0), DocstringStyle::Google).remove(0);
        let ok =
            "Add two numbers.\n\nArgs:\n    a: First.\n    b: Second.\n\nReturns:\n    The sum.";
        assert!(
            oracle::violations(src, &tree, &t, ok, DocstringStyle::Google, &|_| false).is_empty()
        );
        let invented =
            "Add.\n\nArgs:\n    a: First.\n    b: Second.\n    c: Third.\n\nReturns:\n    The sum.";
        let v = oracle::violations(src, &tree, &t, invented, DocstringStyle::Google, &|_| false);
        assert!(v.iter().any(|m| m.starts_with("DOC102")), "{v:?}");
        let no_returns = "Add.\n\nArgs:\n    a: First.\n    b: Second.";
        let v = oracle::violations(src, &tree, &t, no_returns, DocstringStyle::Google, &|_| {
            false
        });
        assert!(v.iter().any(|m| m.starts_with("DOC201")), "{v:?}");
        let name = "Add with `numpy.add`.\n\nArgs:\n    a: First.\n    b: Second.\n\nReturns:\n    The sum.";
        let v = oracle::violations(src, &tree, &t, name, DocstringStyle::Google, &|_| false);
        assert!(v.iter().any(|m| m.contains("numpy.add")), "{v:?}");
        let raises = "Add.\n\nArgs:\n    a: First.\n    b: Second.\n\nReturns:\n    The sum.\n\nRaises:\n    KeyError: Never.";
        let v = oracle::violations(src, &tree, &t, raises, DocstringStyle::Google, &|_| false);
        assert!(v.iter().any(|m| m.starts_with("DOC502")), "{v:?}");
    }

    /// The oracle checks a candidate on an incrementally re-parsed copy, walking only the
    /// symbol's subtree: a class's `__init__` must still count, and a symbol after multi-byte
    /// text and other definitions must be found at its shifted place.
    #[test]
    fn the_oracle_checks_a_class_with_its_init_after_other_code() {
        let src = "\"\"\"Café ☕ module.\"\"\"\n\ndef first(x):\n    return x\n\n\nclass Box:\n    def __init__(self, size, *, label=\"é\"):\n        self.size = size\n\n\ndef last(a, b):\n    return a\n";
        let f = file(src);
        let tree = parse_str(src, None);
        let targets = plan_targets(&f, &tree, &DocScope::File, DocstringStyle::Google);
        let class = targets.iter().find(|t| t.name == "Box").expect("Box");
        let base = oracle::OracleBase::new(src, &tree, DocstringStyle::Google);
        let check = |t: &DocTarget, text: &str| {
            oracle::violations_with(&base, src, &tree, t, text, DocstringStyle::Google, &|_| {
                false
            })
        };
        assert!(
            check(class, &class.builtin).is_empty(),
            "{:?}",
            check(class, &class.builtin)
        );
        let invented =
            "A box.\n\nArgs:\n    size: The size.\n    label: The label.\n    colour: Invented.";
        let v = check(class, invented);
        assert!(v.iter().any(|m| m.starts_with("DOC102")), "{v:?}");
        let last = targets.iter().find(|t| t.name == "last").expect("last");
        assert!(check(last, &last.builtin).is_empty());
        let v = check(last, "Take two.\n\nArgs:\n    a: A.\n\nReturns:\n    A.");
        assert!(v.iter().any(|m| m.starts_with("DOC101")), "{v:?}");
    }

    #[test]
    fn a_whole_file_run_stops_at_a_syntax_error() {
        // Valid Python that tree-sitter misreads: the class ends early, so `h` would look
        // like a function and get `self` documented.
        let src = "class A:\n    def f(self):\n        def g():\n            (bar.\n        baz)\n        return g\n\n    def h(self, x):\n        return x\n\ndef early():\n    pass\n";
        let outcome = document_offline(&file(src), &DocScope::File, &DocSettings::default());
        let outcome = outcome.unwrap();
        assert!(
            outcome.documented.iter().all(|d| !d.text.contains("self")),
            "{:?}",
            outcome.documented
        );
        assert!(outcome.documented.iter().all(|d| d.qualified_name != "m.h"));
        assert!(
            outcome
                .skipped
                .iter()
                .any(|(_, why)| why.contains("syntax error at line")),
            "{:?}",
            outcome.skipped
        );
    }
}
