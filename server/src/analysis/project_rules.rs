//! The review rules that need the whole project, read from the index (TDM021 also from its
//! call graph):
//!
//! - TDM020: a function, method or class whose name nothing in the project uses (not
//!   exported in `__all__` or re-exported by a package's `__init__.py`, not a test, not a
//!   dunder, not decorated, not an entry point named in `pyproject.toml`; public methods of
//!   public classes count as used, since code outside the project may call them).
//! - TDM021: a call to a project function whose number or names of arguments its signature
//!   cannot accept.
//!
//! Pure: the index holds every text and outline these rules read.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::analysis::parse::KindStr;

use crate::analysis::callgraph::{CallSite, NodeKind};
use crate::analysis::finding::{Finding, Severity};
use crate::analysis::index::ProjectIndex;
use crate::analysis::outline::{
    may_hold_definitions, Outline, Parameter, ParameterKind, Symbol, SymbolKind,
};
use crate::analysis::parse::parse_str;
use rayon::prelude::*;

mod facts;
mod resolve;

pub use facts::{file_facts, FactsWalk, FileFacts};
pub use resolve::{Project, ProjectFile};

pub const UNUSED: &str = "TDM020";
pub const BAD_CALL: &str = "TDM021";

/// Whether a path is a test file (the built-in rules' definition).
pub fn is_test_path(path: &Path) -> bool {
    crate::analysis::rules::is_test_path(&path.to_string_lossy())
}

/// What the whole project says about which names are used, for TDM020. Built in one pass
/// over every file; the editor keeps one and rebuilds it when the index has moved on.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// The identifier-like words of every text that name a definition TDM020 may report
    /// (one not exempt by its kind, name, decorators or class), counted: a name
    /// mentioned anywhere besides its definitions (in a string such as a dotted path in
    /// settings, a `getattr` name, a comment) may be used in ways no analysis can see, so it
    /// is not reported.
    words: FxHashMap<String, usize>,
    /// How many definitions have each name.
    definitions: FxHashMap<String, usize>,
    /// String literals that start names built at run time.
    prefixes: FxHashSet<String>,
}

impl Usage {
    pub fn of(index: &ProjectIndex) -> Usage {
        let unpacked = unpacked_files(index, None);
        let files: Vec<(&Path, &Outline, &str)> =
            unpacked.iter().map(|(p, o, t)| (*p, o, &**t)).collect();
        Usage::of_files(&files)
    }

    /// The usage facts of these files (path, outline, text).
    pub fn of_files(files: &[(&Path, &Outline, &str)]) -> Usage {
        let mut definitions: FxHashMap<&str, usize> = FxHashMap::default();
        for (_, outline, _) in files {
            for s in outline.all_symbols() {
                *definitions.entry(s.name.as_str()).or_default() += 1;
            }
        }
        // Only the words that name a definition TDM020 may report are ever asked about: count
        // those, without building a map of every word of the project. Every use of a name in
        // code is such a word too, so the words decide alone: a name used anywhere besides its
        // definitions is counted more often than it is defined.
        let candidates: FxHashSet<&str> = files
            .par_iter()
            .filter(|(path, _, _)| !is_test_path(path))
            .flat_map_iter(|(_, outline, _)| {
                judged_symbols(outline)
                    .filter(|&(symbol, parent)| !always_exempt(symbol, parent))
                    .map(|(symbol, _)| symbol.name.as_str())
            })
            .collect();
        let (words, prefixes) = files
            .par_iter()
            .fold(
                || {
                    (
                        FxHashMap::<&str, usize>::default(),
                        FxHashSet::<&str>::default(),
                    )
                },
                |(mut words, mut prefixes), (_, _, text)| {
                    count_words(text, &candidates, &mut words);
                    dynamic_prefixes(text, &mut prefixes);
                    (words, prefixes)
                },
            )
            .reduce(
                || (FxHashMap::default(), FxHashSet::default()),
                |(mut w1, mut p1), (w2, p2)| {
                    for (k, v) in w2 {
                        *w1.entry(k).or_default() += v;
                    }
                    p1.extend(p2);
                    (w1, p1)
                },
            );
        Usage {
            words: words.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            definitions: definitions
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            prefixes: prefixes.into_iter().map(str::to_string).collect(),
        }
    }
}

/// The definitions of a file TDM020 judges, each with the class it is in: the top-level ones
/// and, recursively, those in class bodies (not those nested in functions).
fn judged_symbols(outline: &Outline) -> impl Iterator<Item = (&Symbol, Option<&Symbol>)> {
    let mut stack: Vec<(&Symbol, Option<&Symbol>)> =
        outline.symbols.iter().map(|s| (s, None)).collect();
    std::iter::from_fn(move || {
        let (symbol, parent) = stack.pop()?;
        if symbol.kind == SymbolKind::Class {
            stack.extend(symbol.children.iter().map(|c| (c, Some(symbol))));
        }
        Some((symbol, parent))
    })
}

/// Whether TDM020 leaves a definition alone whatever the project says: dunders, tests,
/// decorated definitions, public methods of public classes, methods of decorated or
/// protocol-like classes, and subclasses.
fn always_exempt(symbol: &Symbol, parent: Option<&Symbol>) -> bool {
    let name = symbol.name.as_str();
    name.starts_with("__") && name.ends_with("__")
        || name.starts_with("test")
        || name.starts_with("Test")
        || !symbol.decorators.is_empty()
        || (parent.is_some_and(|p| !p.name.starts_with('_')) && !name.starts_with('_'))
        || parent.is_some_and(|p| !p.decorators.is_empty() || is_protocol_like(p))
        // A subclass is usually found by its framework (app configs, middleware, plugins
        // registered by base class or by dotted path in settings).
        || (symbol.kind == SymbolKind::Class && symbol.bases.iter().any(|b| b != "object"))
}

/// TDM020 for every file of the index. `entry_points` are the `module:function` values of
/// `[project.scripts]` and similar tables.
pub fn unused_definitions(
    index: &ProjectIndex,
    entry_points: &[String],
) -> Vec<(PathBuf, Finding)> {
    unused_definitions_in(index, &Usage::of(index), entry_points, None)
}

/// TDM020 for the files of the index (only `only` when given), with `usage` built from the
/// same index (or a slightly older one: usage changes slowly).
pub fn unused_definitions_in(
    index: &ProjectIndex,
    usage: &Usage,
    entry_points: &[String],
    only: Option<&Path>,
) -> Vec<(PathBuf, Finding)> {
    let unpacked = unpacked_files(index, only);
    unused_definitions_of(
        unpacked.iter().map(|(p, o, t)| (*p, o, &**t)),
        usage,
        entry_points,
    )
}

/// The index's files (only `only`, when given) with their outlines and texts unpacked (the
/// index keeps them packed), for the readers of (path, outline, text) lists.
fn unpacked_files<'i>(
    index: &'i ProjectIndex,
    only: Option<&Path>,
) -> Vec<(&'i Path, Outline, Arc<str>)> {
    index
        .files()
        .filter(|(p, _)| only.is_none_or(|o| o == *p))
        .map(|(p, f)| (p, f.outline(), f.text()))
        .collect()
}

/// TDM020 for these files (path, outline, text), with `usage` built from the whole project;
/// the files are judged in parallel.
pub fn unused_definitions_of<'f>(
    files: impl Iterator<Item = (&'f Path, &'f Outline, &'f str)>,
    usage: &Usage,
    entry_points: &[String],
) -> Vec<(PathBuf, Finding)> {
    let entry: HashSet<&str> = entry_points
        .iter()
        .filter_map(|e| e.split_once(':').map(|(_, f)| f.trim()))
        .map(|f| f.split('.').next().unwrap_or(f))
        .collect();
    let files: Vec<_> = files.filter(|(path, _, _)| !is_test_path(path)).collect();
    files
        .par_iter()
        .flat_map_iter(|&(path, outline, text)| {
            unused_in_file(outline, text, usage, &entry)
                .into_iter()
                .map(move |finding| (path.to_path_buf(), finding))
        })
        .collect()
}

/// TDM020 for one file that is not a test.
fn unused_in_file(
    outline: &Outline,
    text: &str,
    usage: &Usage,
    entry: &HashSet<&str>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let exported = dunder_all(text);
    for (symbol, parent) in judged_symbols(outline) {
        let name = symbol.name.as_str();
        if always_exempt(symbol, parent)
            || exported.iter().any(|e| e == name)
            || entry.contains(name)
        {
            continue;
        }
        if usage.words.get(name).copied().unwrap_or(0)
            > usage.definitions.get(name).copied().unwrap_or(0)
        {
            continue;
        }
        // Looked up by a built name: `getattr(self, "end_" + tag)`, `f"_get_{name}"`.
        if name
            .char_indices()
            .filter(|&(i, c)| c == '_' && i > 0)
            .any(|(i, _)| usage.prefixes.contains(&name[..=i]))
        {
            continue;
        }
        let what = match symbol.kind {
            SymbolKind::Class => "class",
            SymbolKind::Method => "method",
            SymbolKind::Function => "function",
        };
        out.push(Finding::new(
            UNUSED,
            Severity::Warning,
            format!(
                "{what} `{name}` is never called or referenced in the project; remove it, or export it in `__all__` if it is an interface"
            ),
            symbol.name_range.clone(),
        ));
    }
    out
}

/// String literals that are the start of a name built at run time: a quoted identifier
/// ending in `_` and followed by the closing quote, `{` (f-strings) or `%` (`"_get_%s"`).
fn dynamic_prefixes<'t>(text: &'t str, out: &mut FxHashSet<&'t str>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' || bytes[i] == b'\'' {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() && (bytes[j] == b'_' || bytes[j].is_ascii_alphanumeric()) {
                j += 1;
            }
            if j > start + 1
                && bytes[j - 1] == b'_'
                && j < bytes.len()
                && matches!(bytes[j], b'"' | b'\'' | b'{' | b'%')
            {
                out.insert(&text[start..j]);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
}

/// What a byte is to a word: a letter or `_` (starts or continues one), a digit (continues
/// one), the first byte of a character beyond ASCII (decoded to tell), or none of these.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WordByte {
    Letter,
    Digit,
    Wide,
    Other,
}

const WORD_BYTES: [WordByte; 256] = {
    let mut table = [WordByte::Other; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if c >= 0x80 {
            WordByte::Wide
        } else if c == b'_' || c.is_ascii_alphabetic() {
            WordByte::Letter
        } else if c.is_ascii_digit() {
            WordByte::Digit
        } else {
            WordByte::Other
        };
        b += 1;
    }
    table
};

/// Counts the identifier-like words of `text` that are in `names` (identifiers may hold
/// letters and digits beyond ASCII, as Python's do). This reads every byte of the project,
/// so ASCII goes through a table and only other characters are decoded.
fn count_words<'t>(text: &'t str, names: &FxHashSet<&str>, words: &mut FxHashMap<&'t str, usize>) {
    let bytes = text.as_bytes();
    // The character at `i` beyond ASCII: its length and whether it is a letter, or a letter or
    // a digit.
    let wide = |i: usize| -> (usize, bool, bool) {
        match text[i..].chars().next() {
            Some(c) => (c.len_utf8(), c.is_alphabetic(), c.is_alphanumeric()),
            None => (1, false, false),
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        match WORD_BYTES[bytes[i] as usize] {
            WordByte::Letter => i += 1,
            WordByte::Wide => {
                let (len, letter, _) = wide(i);
                i += len;
                if !letter {
                    continue;
                }
            }
            WordByte::Digit | WordByte::Other => {
                i += 1;
                continue;
            }
        }
        while i < bytes.len() {
            match WORD_BYTES[bytes[i] as usize] {
                WordByte::Letter | WordByte::Digit => i += 1,
                WordByte::Wide => match wide(i) {
                    (len, _, true) => i += len,
                    _ => break,
                },
                WordByte::Other => break,
            }
        }
        let w = &text[start..i];
        if names.contains(w) {
            *words.entry(w).or_default() += 1;
        }
    }
}

/// Classes whose methods are called by a framework by name (protocols, visitors): an abstract
/// base or a base named like one.
fn is_protocol_like(class: &Symbol) -> bool {
    class.bases.iter().any(|b| {
        let last = b.rsplit('.').next().unwrap_or(b);
        matches!(last, "Protocol" | "ABC" | "NodeVisitor" | "NodeTransformer")
            || b.starts_with("metaclass")
    })
}

/// The names listed in a module's `__all__` (string literals on `__all__` lines and the
/// bracketed lines after them).
fn dunder_all(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("__all__") {
            inside = true;
        }
        if inside {
            let mut rest = line;
            while let Some(q) = rest.find(['"', '\'']) {
                let quote = &rest[q..q + 1];
                let after = &rest[q + 1..];
                match after.find(quote) {
                    Some(end) => {
                        out.push(after[..end].to_string());
                        rest = &after[end + 1..];
                    }
                    None => break,
                }
            }
            if line.contains(']')
                || line.contains(')')
                || (!line.contains('[') && !line.contains('('))
            {
                inside = trimmed.ends_with('\\') || trimmed.ends_with(',');
            }
        }
    }
    out
}

/// How a call passes its arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CallShape {
    positional: usize,
    keywords: Vec<String>,
    /// `*x` or `**x` in the call: the count is unknown.
    unpacks: bool,
    /// The text before the argument list, e.g. `self.inventory.restock`.
    callee_text: String,
    /// The first argument is `self`: a method called through its class (or a variable
    /// holding the class) with the instance passed explicitly.
    first_is_self: bool,
}

/// The argument list of the call expression in `text` (a call site's range), parsed alone.
fn call_shape(text: &str) -> Option<CallShape> {
    let tree = parse_str(text, None);
    let root = tree.root_node();
    let statement = root.named_child(0)?;
    let call = statement.named_child(0)?;
    if call.kind_str() != "call" || root.has_error() {
        return None;
    }
    call_shape_of(call, text)
}

/// The argument list of a `call` node of a tree of `text`.
fn call_shape_of(call: tree_sitter::Node<'_>, text: &str) -> Option<CallShape> {
    if call.kind_str() != "call" || call.has_error() {
        return None;
    }
    let function = call.child_by_field_name("function")?;
    let arguments = call.child_by_field_name("arguments")?;
    if arguments.kind_str() != "argument_list" {
        return None; // A generator argument: `f(x for x in y)` is one positional.
    }
    let mut shape = CallShape {
        callee_text: text.get(function.byte_range())?.to_string(),
        ..CallShape::default()
    };
    let mut cursor = arguments.walk();
    for arg in arguments.named_children(&mut cursor) {
        if shape.positional == 0 && shape.keywords.is_empty() {
            shape.first_is_self = text.get(arg.byte_range()) == Some("self");
        }
        match arg.kind_str() {
            "comment" | "line_continuation" => {}
            "keyword_argument" => {
                let name = arg.child_by_field_name("name")?;
                shape
                    .keywords
                    .push(text.get(name.byte_range())?.to_string());
            }
            "list_splat" | "dictionary_splat" => shape.unpacks = true,
            _ => shape.positional += 1,
        }
    }
    Some(shape)
}

/// What TDM021 reads from the tree of one file: the shape of every call's arguments and the
/// calls through annotated parameters. Taken while the file's tree is at hand (`tandem check`
/// parses each file once), so that the project pass parses nothing again.
#[derive(Debug, Clone, Default)]
pub struct FileCalls {
    /// By the call's byte range; `None` for a call whose shape cannot be read.
    shapes: HashMap<(usize, usize), Option<CallShape>>,
    annotated: Vec<AnnotatedCall>,
}

/// A call `p.m(...)` in a function with a parameter `p` annotated with a class name.
#[derive(Debug, Clone)]
struct AnnotatedCall {
    range: Range<usize>,
    shape: CallShape,
    /// The annotation of the receiver parameter, without quotes.
    annotation: String,
    method: String,
}

impl FileCalls {
    /// The calls of `text`, which `tree` was parsed from.
    pub fn of(text: &str, tree: &tree_sitter::Tree) -> FileCalls {
        let mut calls = FileCalls::default();
        let mut cursor = tree.walk();
        'walk: loop {
            let node = cursor.node();
            if node.kind_str() == "call" {
                calls.shapes.insert(
                    (node.start_byte(), node.end_byte()),
                    call_shape_of(node, text),
                );
            }
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    break 'walk;
                }
            }
        }
        calls.annotated = annotated_calls_of(text, tree);
        calls
    }

    /// The shape of the call at `range` when the file's tree had a call there.
    fn shape(&self, range: &Range<usize>) -> Option<Option<&CallShape>> {
        self.shapes
            .get(&(range.start, range.end))
            .map(Option::as_ref)
    }
}

/// Why a call of that shape cannot bind to `params` (already without a bound `self`/`cls`).
fn binding_error(params: &[Parameter], call: &CallShape) -> Option<String> {
    let positional_slots = params
        .iter()
        .filter(|p| {
            matches!(
                p.kind,
                ParameterKind::PositionalOnly | ParameterKind::Normal
            )
        })
        .count();
    let var_positional = params
        .iter()
        .any(|p| p.kind == ParameterKind::VarPositional);
    let var_keyword = params.iter().any(|p| p.kind == ParameterKind::VarKeyword);
    if call.positional > positional_slots && !var_positional {
        return Some(format!(
            "{} positional argument{} given, at most {positional_slots} accepted",
            call.positional,
            if call.positional == 1 { "" } else { "s" }
        ));
    }
    let mut bound: Vec<&str> = params
        .iter()
        .filter(|p| {
            matches!(
                p.kind,
                ParameterKind::PositionalOnly | ParameterKind::Normal
            )
        })
        .take(call.positional)
        .map(|p| p.name.as_str())
        .collect();
    for k in &call.keywords {
        match params.iter().find(|p| &p.name == k) {
            // With `**kwargs`, a keyword named like a positional-only parameter lands there.
            Some(p) if p.kind == ParameterKind::PositionalOnly => {
                if !var_keyword {
                    return Some(format!("`{k}` is positional-only"));
                }
            }
            Some(p)
                if matches!(
                    p.kind,
                    ParameterKind::VarPositional | ParameterKind::VarKeyword
                ) =>
            {
                if !var_keyword {
                    return Some(format!("no parameter named `{k}`"));
                }
            }
            Some(_) => {
                if bound.contains(&k.as_str()) {
                    return Some(format!("`{k}` is given twice"));
                }
                bound.push(k);
            }
            None if var_keyword => {}
            None => return Some(format!("no parameter named `{k}`")),
        }
    }
    if call.unpacks {
        return None;
    }
    let missing: Vec<&str> = params
        .iter()
        .filter(|p| {
            p.default.is_none()
                && !matches!(
                    p.kind,
                    ParameterKind::VarPositional | ParameterKind::VarKeyword
                )
                && !bound.contains(&p.name.as_str())
        })
        .map(|p| p.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "missing {}",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    None
}

/// Calls through parameters annotated with a project class (`def f(inv: Inventory): …
/// inv.restock(x)`): the annotation says what the receiver is even where no value reaches the
/// parameter (a function nothing calls yet), which the call graph cannot see. Returns the call
/// range, its shape, and the method called.
fn annotated_calls<'i>(
    calls: &[AnnotatedCall],
    classes: &HashMap<&str, &'i Symbol>,
) -> Vec<(Range<usize>, CallShape, &'i Symbol)> {
    let mut out = Vec::new();
    for call in calls {
        let Some(class) = classes.get(call.annotation.as_str()) else {
            continue;
        };
        let mut methods = class.children.iter().filter(|m| m.name == call.method);
        if let (Some(method), None) = (methods.next(), methods.next()) {
            out.push((call.range.clone(), call.shape.clone(), method));
        }
    }
    out
}

/// The calls `p.m(...)` through parameters `p` with an annotation, in the functions of `tree`
/// (whether the annotation names a project class is decided later, across the project).
fn annotated_calls_of(text: &str, tree: &tree_sitter::Tree) -> Vec<AnnotatedCall> {
    let mut out = Vec::new();
    // Functions are found among statements only: expressions are not descended into.
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        if node.kind_str() == "function_definition" {
            annotated_calls_in(node, text, &mut out);
        }
        let is_root = cursor.depth() == 0;
        if (is_root || may_hold_definitions(node)) && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    out
}

/// The calls of `function`'s own body through its parameters annotated with a class name.
fn annotated_calls_in(function: tree_sitter::Node<'_>, text: &str, out: &mut Vec<AnnotatedCall>) {
    let Some(parameters) = function.child_by_field_name("parameters") else {
        return;
    };
    let mut typed: Vec<(&str, &str)> = Vec::new();
    let mut c = parameters.walk();
    for p in parameters.named_children(&mut c) {
        if !matches!(p.kind_str(), "typed_parameter" | "typed_default_parameter") {
            continue;
        }
        let name = p
            .child_by_field_name("name")
            .or_else(|| p.named_child(0))
            .and_then(|n| text.get(n.byte_range()));
        let annotation = p
            .child_by_field_name("type")
            .and_then(|t| text.get(t.byte_range()))
            .map(|t| t.trim_matches(|c| c == '"' || c == '\''));
        if let (Some(name), Some(annotation)) = (name, annotation) {
            typed.push((name, annotation));
        }
    }
    if typed.is_empty() {
        return;
    }
    let Some(body) = function.child_by_field_name("body") else {
        return;
    };
    let mut cursor = body.walk();
    'walk: loop {
        let n = cursor.node();
        if n.kind_str() == "call" {
            if let Some(call) = annotated_call(n, text, &typed) {
                out.push(call);
            }
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node() == body {
                break 'walk;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
}

/// `call` as a method call on one of the `typed` parameters, with its shape.
fn annotated_call(
    call: tree_sitter::Node<'_>,
    text: &str,
    typed: &[(&str, &str)],
) -> Option<AnnotatedCall> {
    let function = call.child_by_field_name("function")?;
    if function.kind_str() != "attribute" {
        return None;
    }
    let receiver = text.get(function.child_by_field_name("object")?.byte_range())?;
    let method = text.get(function.child_by_field_name("attribute")?.byte_range())?;
    let (_, annotation) = typed.iter().find(|(p, _)| *p == receiver)?;
    Some(AnnotatedCall {
        range: call.byte_range(),
        shape: call_shape_of(call, text)?,
        annotation: annotation.to_string(),
        method: method.to_string(),
    })
}

/// TDM021 for the files of a statically resolved project (only the file at index `only` of
/// `project.files()` when given): every call that resolves to exactly one project function,
/// method or constructor, judged against its signature.
pub fn bad_calls_in(project: &Project<'_>, only: Option<usize>) -> Vec<(PathBuf, Finding)> {
    let files = project.files();
    (0..files.len())
        .into_par_iter()
        .filter(|&i| only.is_none_or(|o| o == i))
        .flat_map_iter(|i| {
            let file = &files[i];
            let mut out = Vec::new();
            // Tests call things wrongly on purpose, inside `assertRaises`/`pytest.raises`.
            if is_test_path(file.path) {
                return out;
            }
            for call in &file.facts.calls {
                let Some(target) = project.target(i as u32, call.scope, &call.callee) else {
                    continue;
                };
                if let Some(message) = judge(&target, &call.shape) {
                    out.push((
                        file.path.to_path_buf(),
                        Finding::new(BAD_CALL, Severity::Error, message, call.range.clone()),
                    ));
                }
            }
            out
        })
        .collect()
}

/// The constructor signature of a class without `__init__`: `(self)`.
fn no_init_signature() -> crate::analysis::outline::Signature {
    crate::analysis::outline::Signature {
        parameters: vec![Parameter {
            name: "self".to_string(),
            kind: ParameterKind::Normal,
            annotation: None,
            default: None,
            range: 0..0,
        }],
        returns: None,
    }
}

/// The message of a call of that shape to `target` when its signature cannot accept it.
fn judge(target: &resolve::Target<'_>, call: &CallShape) -> Option<String> {
    let no_init = no_init_signature();
    let (name, signature) = match target.function {
        Some(function) => (function.name.as_str(), function.signature.as_ref()?),
        None => ("__init__", &no_init),
    };
    if let Some(function) = target.function {
        // Decorators other than these may change the signature.
        if function
            .decorators
            .iter()
            .any(|d| !matches!(d.as_str(), "staticmethod" | "classmethod"))
        {
            return None;
        }
    }
    // Special methods other than the constructor are called implicitly, with their own
    // conventions.
    if name.starts_with("__") && name != "__init__" {
        return None;
    }
    let mut params: &[Parameter] = &signature.parameters;
    if target.bound {
        match params.first().map(|p| p.kind) {
            Some(ParameterKind::PositionalOnly | ParameterKind::Normal) => params = &params[1..],
            // `def m(*args)` takes self in args.
            Some(ParameterKind::VarPositional) => {}
            _ => return None,
        }
    }
    let why = binding_error(params, call)?;
    let shown = crate::analysis::display::render_signature(signature);
    let shown_name = target.class_name.unwrap_or(name);
    Some(format!(
        "call to `{shown_name}` that its signature `{name}{shown}` cannot accept: {why}"
    ))
}

/// The outline symbol a call-graph node names, in the outlines of the index's files.
fn symbol_of<'o>(
    index: &ProjectIndex,
    outlines: &'o HashMap<&Path, Outline>,
    module: &str,
    range: &Range<usize>,
) -> Option<&'o Symbol> {
    let outline = outlines.get(index.path_of_module(module)?)?;
    outline.all_symbols().find(|s| &s.range == range)
}

/// What TDM021 needs to know of every file's definitions: which names are classes, and which
/// qualified names are defined more than once (platform alternatives under `if`/`else`,
/// where the graph cannot know which one runs). Built from names alone, so it stays true
/// while the index's `names_generation` stays: the editor keeps one across edits that rename
/// nothing. Before, every publish unpacked every outline of the project and walked them all:
/// 18-20 ms for `django.db.models.query` in Django, 103-114 ms for `argparse` in the
/// standard library (the same measurement on the code before). With the symbols kept,
/// 1.7-1.8 and 1.1-1.6 ms; building them costs 7.5-8.6 and 61-84 ms, paid only when a name
/// changes (`corpus_measurement` below; the machine was noisy).
#[derive(Debug, Clone, Default)]
pub struct ProjectSymbols {
    /// Class names, with how many classes have each and the file of (one of) them: a
    /// receiver naming a class makes a method call unbound, whatever its case, and a
    /// parameter annotated with a name only one class has is an instance of that class.
    classes: HashMap<String, (usize, PathBuf)>,
    ambiguous: HashSet<String>,
}

impl ProjectSymbols {
    pub fn of(index: &ProjectIndex) -> ProjectSymbols {
        let mut out = ProjectSymbols::default();
        let mut seen: HashSet<String> = HashSet::new();
        for (path, file) in index.files() {
            for s in file.outline().all_symbols() {
                if s.kind == SymbolKind::Class {
                    out.classes
                        .entry(s.name.clone())
                        .or_insert_with(|| (0, path.to_path_buf()))
                        .0 += 1;
                }
                if !seen.insert(s.qualified_name.clone()) {
                    out.ambiguous.insert(s.qualified_name.clone());
                }
            }
        }
        out
    }

    fn is_class(&self, name: &str) -> bool {
        self.classes.contains_key(name)
    }

    /// The file of the one class named `name`, if exactly one has that name.
    fn only_class(&self, name: &str) -> Option<&Path> {
        match self.classes.get(name) {
            Some((1, path)) => Some(path),
            _ => None,
        }
    }
}

/// The one class named `name` in `outline`.
fn class_named<'o>(outline: &'o Outline, name: &str) -> Option<&'o Symbol> {
    outline
        .all_symbols()
        .find(|s| s.kind == SymbolKind::Class && s.name == name)
}

/// TDM021 for the call sites in `module` (every module when `None`).
pub fn bad_calls(index: &ProjectIndex, module: Option<&str>) -> Vec<(PathBuf, Finding)> {
    bad_calls_with(index, module, &|_| None)
}

/// Like [`bad_calls`], reading the calls of a file from `calls` when it has them (taken from
/// the file's tree while it was at hand) instead of parsing the file's calls again.
pub fn bad_calls_with<'c>(
    index: &ProjectIndex,
    module: Option<&str>,
    calls: &dyn Fn(&Path) -> Option<&'c FileCalls>,
) -> Vec<(PathBuf, Finding)> {
    bad_calls_using(index, &ProjectSymbols::of(index), module, calls)
}

/// Like [`bad_calls_with`], with the project's symbols built already (from this index, or
/// from one with the same `names_generation`).
pub fn bad_calls_using<'c>(
    index: &ProjectIndex,
    symbols: &ProjectSymbols,
    module: Option<&str>,
    calls: &dyn Fn(&Path) -> Option<&'c FileCalls>,
) -> Vec<(PathBuf, Finding)> {
    let graph = index.solved_graph();
    let all: Vec<CallSite> = match module {
        Some(m) => graph.module_call_sites(m).collect(),
        None => graph.call_sites().collect(),
    };
    // The calls through annotated parameters, file by file (parsed again where `calls` does
    // not have them).
    let mut annotated_by_file: Vec<(&Path, &str, Vec<AnnotatedCall>)> = Vec::new();
    for (path, file) in index.files() {
        if module.is_some_and(|m| m != file.module) || is_test_path(path) {
            continue;
        }
        let annotated = match calls(path) {
            Some(calls) => calls.annotated.clone(),
            None => {
                let text = file.text();
                annotated_calls_of(&text, &parse_str(&text, None))
            }
        };
        annotated_by_file.push((path, &file.module, annotated));
    }
    // Only the outlines the judgement reads are unpacked (the index keeps them packed): the
    // callees' files and those of the classes named by annotations.
    let mut needed: HashSet<&Path> = HashSet::new();
    for site in &all {
        if let Some(path) = graph
            .node(site.callee)
            .and_then(|node| node.module)
            .and_then(|m| index.path_of_module(m))
        {
            needed.insert(path);
        }
    }
    for (_, _, annotated) in &annotated_by_file {
        for call in annotated {
            if let Some(path) = symbols.only_class(&call.annotation) {
                needed.insert(path);
            }
        }
    }
    let outlines: HashMap<&Path, Outline> = needed
        .into_iter()
        .filter_map(|p| Some((p, index.file(p)?.outline())))
        .collect();
    // The classes annotations name, where only one class has the name.
    let mut by_class_name: HashMap<&str, &Symbol> = HashMap::new();
    for (_, _, annotated) in &annotated_by_file {
        for call in annotated {
            let name = call.annotation.as_str();
            if by_class_name.contains_key(name) {
                continue;
            }
            if let Some(class) = symbols
                .only_class(name)
                .and_then(|p| outlines.get(p))
                .and_then(|o| class_named(o, name))
            {
                by_class_name.insert(name, class);
            }
        }
    }
    let mut out = Vec::new();
    let mut judged: HashSet<(String, usize)> = HashSet::new();
    let mut previous: Option<(&str, Range<usize>)> = None;
    let mut caller_text: Option<(&str, Arc<str>)> = None;
    for (i, site) in all.iter().enumerate() {
        // A site resolved to several callees (dynamic dispatch) is not judged.
        let same = |o: &&CallSite| o.module == site.module && o.range == site.range;
        let several = all[..i].iter().rev().take_while(same).count()
            + all[i + 1..].iter().take_while(same).count()
            > 0;
        if several {
            continue;
        }
        if previous
            .as_ref()
            .is_some_and(|(m, r)| *m == site.module && *r == site.range)
        {
            continue;
        }
        previous = Some((site.module, site.range.clone()));
        let Some(node) = graph.node(site.callee) else {
            continue;
        };
        let (Some(callee_module), Some(range)) = (node.module, &node.range) else {
            continue;
        };
        if !matches!(
            node.kind,
            NodeKind::Function | NodeKind::Method | NodeKind::Class
        ) {
            continue;
        }
        let Some(caller_path) = index.path_of_module(site.module) else {
            continue;
        };
        // Tests call things wrongly on purpose, inside `assertRaises`/`pytest.raises`.
        if is_test_path(caller_path) {
            continue;
        }
        let Some(caller) = index.file(caller_path) else {
            continue;
        };
        let call = match calls(caller_path).and_then(|c| c.shape(&site.range)) {
            Some(Some(shape)) => shape.clone(),
            Some(None) => continue,
            None => {
                // Sites come module by module: each caller's text is unpacked once.
                if caller_text.as_ref().is_none_or(|(m, _)| *m != site.module) {
                    caller_text = Some((site.module, caller.text()));
                }
                let text = caller_text.as_ref().map_or("", |(_, t)| &**t);
                let Some(shape) = text.get(site.range.clone()).and_then(call_shape) else {
                    continue;
                };
                shape
            }
        };
        let Some(symbol) = symbol_of(index, &outlines, callee_module, range) else {
            continue;
        };
        if symbols.ambiguous.contains(symbol.qualified_name.as_str()) {
            continue;
        }
        let no_init = no_init_signature();
        let (target, signature) = match symbol.kind {
            SymbolKind::Class => {
                let init = symbol.children.iter().rfind(|c| c.name == "__init__");
                match init.and_then(|i| i.signature.as_ref().map(|s| (i, s))) {
                    Some((i, s)) if i.decorators.is_empty() => (i, s),
                    Some(_) => continue,
                    // Without `__init__` and without bases, the constructor takes nothing;
                    // with bases, a base's `__init__` decides.
                    None if symbol.bases.iter().all(|b| b == "object") => (symbol, &no_init),
                    None => continue,
                }
            }
            _ => match &symbol.signature {
                Some(s) => (symbol, s),
                None => continue,
            },
        };
        // Decorators other than these may change the signature.
        let decorators: Vec<&str> = target.decorators.iter().map(|d| d.as_str()).collect();
        if decorators
            .iter()
            .any(|d| !matches!(*d, "staticmethod" | "classmethod"))
        {
            continue;
        }
        let mut params: &[Parameter] = &signature.parameters;
        let is_static = decorators.contains(&"staticmethod");
        // Special methods other than the constructor are called implicitly, with their own
        // conventions.
        if target.name.starts_with("__") && target.name != "__init__" {
            continue;
        }
        // Only calls whose binding is certain from the text are judged: a plain function by
        // its name or through its module, a constructor by the class's name, a method through
        // a plain variable (`self.m(...)`, `inventory.restock(...)`). Anything else (through a
        // class, a call result, a subscript, a bare name holding a bound or unbound method)
        // may bind differently than it looks, and is left alone.
        let receiver = call.callee_text.rsplit_once('.').map(|(r, _)| r);
        let last = call
            .callee_text
            .rsplit('.')
            .next()
            .unwrap_or(&call.callee_text);
        let plain_variable = |r: &str| {
            r.trim_start_matches('_')
                .chars()
                .next()
                .is_some_and(char::is_lowercase)
                && r.chars().all(|c| c.is_alphanumeric() || c == '_')
        };
        // Called under another name (an alias such as `check = self.check_sizeof`), a function
        // may be a bound method.
        if symbol.kind != SymbolKind::Class && target.name != "__init__" && last != symbol.name {
            continue;
        }
        let bound = match symbol.kind {
            SymbolKind::Class => true,
            SymbolKind::Method if target.name == "__init__" => {
                let class_name = symbol.qualified_name.rsplit('.').nth(1).unwrap_or("");
                if last != class_name {
                    continue;
                }
                true
            }
            SymbolKind::Method if symbol.name == "__new__" => continue,
            SymbolKind::Method if is_static || decorators.contains(&"classmethod") => continue,
            SymbolKind::Method => {
                let selfish = signature.parameters.first().is_some_and(|p| {
                    matches!(
                        p.name.as_str(),
                        "self" | "cls" | "mcs" | "mcls" | "metacls" | "klass"
                    )
                });
                let names_a_class = receiver
                    .map(|r| r.rsplit('.').next().unwrap_or(r))
                    .is_some_and(|r| symbols.is_class(r));
                let explicit_self = call.first_is_self && receiver != Some("self");
                if !selfish
                    || !receiver.is_some_and(plain_variable)
                    || names_a_class
                    || explicit_self
                {
                    continue;
                }
                true
            }
            SymbolKind::Function => {
                let module_last = callee_module.rsplit('.').next().unwrap_or(callee_module);
                let nested = symbol.qualified_name != format!("{callee_module}.{}", symbol.name);
                if nested || receiver.is_some_and(|r| r != module_last) {
                    continue;
                }
                if signature
                    .parameters
                    .first()
                    .is_some_and(|p| p.name == "self" || p.name == "cls")
                {
                    continue;
                }
                false
            }
        };
        if bound {
            if params.first().is_some_and(|p| {
                matches!(
                    p.kind,
                    ParameterKind::PositionalOnly | ParameterKind::Normal
                )
            }) {
                params = &params[1..];
            } else if params
                .first()
                .is_some_and(|p| p.kind == ParameterKind::VarPositional)
            {
                // `def m(*args)` takes self in args.
            } else {
                continue;
            }
        }
        judged.insert((site.module.to_string(), site.range.start));
        if let Some(why) = binding_error(params, &call) {
            let shown = crate::analysis::display::render_signature(signature);
            let shown_name = if target.name == "__init__" && !call.callee_text.ends_with("__init__")
            {
                symbol
                    .qualified_name
                    .rsplit('.')
                    .nth(1)
                    .unwrap_or("__init__")
                    .to_string()
            } else {
                symbol.name.clone()
            };
            out.push((
                caller_path.to_path_buf(),
                Finding::new(
                    BAD_CALL,
                    Severity::Error,
                    format!(
                        "call to `{shown_name}` that its signature `{}{shown}` cannot accept: {why}",
                        symbol.name
                    ),
                    site.range.clone(),
                ),
            ));
        }
    }
    for (path, file_module, annotated) in &annotated_by_file {
        let path = *path;
        for (range, call, method) in annotated_calls(annotated, &by_class_name) {
            if judged.contains(&(file_module.to_string(), range.start)) {
                continue;
            }
            let Some(signature) = &method.signature else {
                continue;
            };
            let selfish = signature
                .parameters
                .first()
                .is_some_and(|p| p.name == "self");
            if !method.decorators.is_empty() || !selfish || method.name.starts_with("__") {
                continue;
            }
            if let Some(why) = binding_error(&signature.parameters[1..], &call) {
                let shown = crate::analysis::display::render_signature(signature);
                out.push((
                    path.to_path_buf(),
                    Finding::new(
                        BAD_CALL,
                        Severity::Error,
                        format!(
                            "call to `{}` that its signature `{}{shown}` cannot accept: {why}",
                            method.name, method.name
                        ),
                        range,
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::index::analyze_file;

    fn index(files: &[(&str, &str)]) -> ProjectIndex {
        let mut index = ProjectIndex::new();
        for (name, text) in files {
            let module = name.trim_end_matches(".py");
            index.insert(
                PathBuf::from(format!("/p/{name}")),
                analyze_file(module, false, text),
            );
        }
        index.graph();
        index
    }

    fn codes(found: &[(PathBuf, Finding)]) -> Vec<String> {
        found.iter().map(|(_, f)| f.message.clone()).collect()
    }

    /// Calls with wrong arguments among right ones, in one module.
    const WRONG_CALLS: &str = "class Inv:\n    def restock(self, sku, quantity):\n        pass\n\ndef f(a, b=1, *, c):\n    pass\n\ndef g(a, /, b):\n    pass\n\ninv = Inv()\ninv.restock('x')\ninv.restock('x', 1)\nf(1, c=2)\nf(1, 2, 3)\nf(1, d=2, c=1)\nf(*xs)\ng(a=1, b=2)\nInv.restock(inv, 'x', 2)\ninv.restock('x',\\\n  2)\nklass = Inv\nklass.restock(self, 'x', 2)\nInv(1)\n\nclass P:\n    def __init__(self, x):\n        self.x = x\n\nclass Q(P):\n    def __init__(self):\n        super().__init__(1)\n        P.__init__(self, 2)\n\nP(1)\nP()\nQ()\n";

    /// The findings on [`WRONG_CALLS`]: `Inv(1)` (a class without `__init__` and without bases
    /// takes no arguments) only when `no_arguments_class` is expected.
    fn assert_wrong_calls(found: &[(PathBuf, Finding)], no_arguments_class: bool) {
        let mut expected = vec![
            ("`restock`", "missing `quantity`"),
            ("`f`", "3 positional arguments given, at most 2 accepted"),
            ("`f`", "no parameter named `d`"),
            ("`g`", "`a` is positional-only"),
        ];
        if no_arguments_class {
            expected.push((
                "call to `Inv`",
                "1 positional argument given, at most 0 accepted",
            ));
        }
        expected.push(("call to `P`", "missing `x`"));
        let messages: Vec<&str> = found.iter().map(|(_, f)| f.message.as_str()).collect();
        assert_eq!(messages.len(), expected.len(), "{messages:#?}");
        for (m, (name, end)) in messages.iter().zip(&expected) {
            assert!(m.contains(name) && m.ends_with(end), "{m}");
        }
        assert!(found.iter().all(|(_, f)| f.code == BAD_CALL));
    }

    #[test]
    fn wrong_argument_counts_and_names_are_found() {
        let idx = index(&[("m.py", WRONG_CALLS)]);
        assert_wrong_calls(&bad_calls(&idx, None), false);
    }

    #[test]
    fn calls_through_annotated_parameters_are_checked_even_when_nothing_calls_the_function() {
        let idx = index(&[
            ("inv.py", "class Inventory:\n    def restock(self, sku, quantity):\n        pass\n"),
            ("orders.py", "from inv import Inventory\n\ndef cancel(inventory: Inventory, sku):\n    inventory.restock(sku)\n    inventory.restock(sku, 1)\n"),
        ]);
        let found = bad_calls(&idx, None);
        assert_eq!(found.len(), 1, "{:?}", codes(&found));
        assert!(found[0].1.message.ends_with("missing `quantity`"));
        assert!(found[0].0.ends_with("orders.py"));
    }

    /// Functions nested in methods, `if` blocks and decorated definitions are found (the walk
    /// looks for functions among statements only), and calls nested in expressions of their
    /// bodies are read.
    #[test]
    fn annotated_calls_of_nested_functions_are_checked() {
        let idx = index(&[
            ("inv.py", "class Inventory:\n    def restock(self, sku, quantity):\n        pass\n"),
            ("orders.py", "from inv import Inventory\n\nclass A:\n    def m(self):\n        if True:\n            @staticmethod\n            def inner(inv: Inventory, sku):\n                return [inv.restock(sku) for _ in range(2)]\n        return inner\n"),
        ]);
        let found = bad_calls(&idx, None);
        assert_eq!(found.len(), 1, "{:?}", codes(&found));
        assert!(found[0].1.message.ends_with("missing `quantity`"));
    }

    /// `tandem check` reads each file's calls from the tree it parsed once; the findings are
    /// those of parsing the calls again.
    #[test]
    fn calls_from_the_files_trees_give_the_same_findings_as_parsing_them_again() {
        let files = [
            ("inv.py", "class Inventory:\n    def restock(self, sku, quantity):\n        pass\n\ndef f(a, b=1, *, c):\n    pass\n\nf(1, 2, 3)\nf(1, d=2, c=1)\nf(*xs)\nInventory().restock('x')\n"),
            ("orders.py", "from inv import Inventory\n\ndef cancel(inventory: Inventory, sku):\n    inventory.restock(sku)\n    inventory.restock(sku, 1)\n"),
        ];
        let idx = index(&files);
        let calls: HashMap<PathBuf, FileCalls> = files
            .iter()
            .map(|(name, text)| {
                let tree = parse_str(text, None);
                (
                    PathBuf::from(format!("/p/{name}")),
                    FileCalls::of(text, &tree),
                )
            })
            .collect();
        let parsed = bad_calls(&idx, None);
        let from_trees = bad_calls_with(&idx, None, &|p: &Path| calls.get(p));
        assert_eq!(parsed.len(), 3, "{:?}", codes(&parsed));
        assert_eq!(parsed, from_trees);
    }

    /// TDM021 as `tandem check` computes it: every file parsed once, calls resolved
    /// statically. `files` are (path under the project, text); `pkg/__init__.py` is package
    /// `pkg`.
    fn static_findings(files: &[(&str, &str)]) -> Vec<(PathBuf, Finding)> {
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|(name, _)| PathBuf::from(format!("/p/{name}")))
            .collect();
        let modules: Vec<(String, bool)> = files
            .iter()
            .map(|(name, _)| {
                let dotted = name.trim_end_matches(".py").replace('/', ".");
                match dotted.strip_suffix(".__init__") {
                    Some(package) => (package.to_string(), true),
                    None => (dotted, false),
                }
            })
            .collect();
        let trees: Vec<tree_sitter::Tree> = files
            .iter()
            .map(|(_, text)| parse_str(text, None))
            .collect();
        let outlines: Vec<Outline> = files
            .iter()
            .zip(&trees)
            .zip(&modules)
            .map(|(((_, text), tree), (module, _))| {
                crate::analysis::outline::outline(tree, text, module)
            })
            .collect();
        let facts: Vec<FileFacts<'_>> = files
            .iter()
            .zip(&trees)
            .zip(&modules)
            .map(|(((_, text), tree), (module, package))| file_facts(text, tree, module, *package))
            .collect();
        let project = Project::new(
            (0..files.len())
                .map(|i| ProjectFile {
                    path: &paths[i],
                    module: &modules[i].0,
                    outline: &outlines[i],
                    facts: &facts[i],
                })
                .collect(),
        );
        let mut found = bad_calls_in(&project, None);
        found.sort_by_key(|(p, f)| (p.clone(), f.range.start));
        found
    }

    fn messages(found: &[(PathBuf, Finding)]) -> Vec<&str> {
        found.iter().map(|(_, f)| f.message.as_str()).collect()
    }

    #[test]
    fn statically_resolved_calls_with_wrong_arguments_are_found() {
        assert_wrong_calls(&static_findings(&[("m.py", WRONG_CALLS)]), true);
    }

    /// Imports (relative ones, re-exports through a package's `__init__.py`, aliases) and
    /// module attributes lead to the function across modules.
    #[test]
    fn calls_are_resolved_through_imports_and_re_exports() {
        let found = static_findings(&[
            ("pkg/__init__.py", "from .impl import make as build\n"),
            ("pkg/impl.py", "def make(a, b):\n    pass\n"),
            ("pkg/use.py", "from . import impl\nfrom .impl import make\n\nimpl.make(1)\nmake(1, 2)\n"),
            ("app.py", "import pkg.impl\nfrom pkg import build\nimport pkg.impl as i\n\nbuild(1, 2, 3)\npkg.impl.make(b=2)\ni.make(1, 2)\n"),
        ]);
        let m = messages(&found);
        assert_eq!(m.len(), 3, "{m:#?}");
        assert!(
            found[0].0.ends_with("app.py")
                && m[0].ends_with("3 positional arguments given, at most 2 accepted")
        );
        assert!(m[1].ends_with("missing `a`"), "{}", m[1]);
        assert!(found[2].0.ends_with("use.py") && m[2].ends_with("missing `b`"));
    }

    /// Methods are found through the static method resolution order: inherited
    /// constructors, `self.m(...)`, `super().m(...)`, instances bound once to a constructor
    /// call and parameters annotated with a project class.
    #[test]
    fn methods_are_resolved_through_the_class_hierarchy() {
        let found = static_findings(&[
            ("base.py", "class Base:\n    def __init__(self, x):\n        pass\n    def step(self, n):\n        pass\n    def run(self):\n        self.step()\n"),
            ("child.py", "from base import Base\n\nclass Child(Base):\n    def __init__(self):\n        super().__init__()\n\n    def go(self):\n        super().step(1, 2)\n\ndef use(b: Base):\n    b.step()\n    c = Child()\n    c.step(n=1, m=2)\n\nBase()\n"),
        ]);
        let m = messages(&found);
        assert_eq!(m.len(), 6, "{m:#?}");
        assert!(
            found[0].0.ends_with("base.py") && m[0].ends_with("missing `n`"),
            "{}",
            m[0]
        );
        assert!(
            m[1].contains("`__init__`") && m[1].ends_with("missing `x`"),
            "{}",
            m[1]
        );
        assert!(
            m[2].ends_with("2 positional arguments given, at most 1 accepted"),
            "{}",
            m[2]
        );
        assert!(m[3].ends_with("missing `n`"), "{}", m[3]);
        assert!(m[4].ends_with("no parameter named `m`"), "{}", m[4]);
        assert!(
            m[5].contains("call to `Base`") && m[5].ends_with("missing `x`"),
            "{}",
            m[5]
        );
    }

    /// Calls whose target is not certain are left alone.
    #[test]
    fn calls_with_more_than_one_possible_target_are_not_judged() {
        let found = static_findings(&[(
            "m.py",
            concat!(
                // A subclass overrides the method `self.m()` may reach.
                "class A:\n    def m(self, x):\n        pass\n    def run(self):\n        self.m()\n\n",
                "class B(A):\n    def m(self):\n        pass\n\n",
                // Defined twice (platform alternatives).
                "if flag:\n    def f(a):\n        pass\nelse:\n    def f(a, b):\n        pass\nf(1, 2, 3)\n\n",
                // Rebound, or decorated.
                "def g(a):\n    pass\ng = wrap(g)\ng()\n\n@decorate\ndef h(a):\n    pass\nh()\n\n",
                // An attribute assigned somewhere may replace the method.
                "class C:\n    def n(self, a):\n        pass\nc = C()\nc.n = print\nc.n()\n\n",
                // A class with a metaclass, a decorated class, a base outside the project
                // before the attribute.
                "class D(metaclass=Meta):\n    def __init__(self, a):\n        pass\nD()\n",
                "@dataclass\nclass E:\n    a: int\nE()\n",
                "class F(External):\n    pass\nF(1)\n",
                // A local that is not bound once to a constructor, a parameter without an
                // annotation.
                "def k(p):\n    x = A()\n    x = other()\n    x.m()\n    p.m()\n",
            ),
        )]);
        assert!(found.is_empty(), "{:#?}", messages(&found));
    }

    #[test]
    fn unused_definitions_skip_what_may_be_used_from_outside() {
        let idx = index(&[
            (
                "m.py",
                "__all__ = ['exported']\n\ndef exported():\n    pass\n\ndef used():\n    pass\n\ndef unused():\n    pass\n\ndef _private_unused():\n    pass\n\n@app.route('/')\ndef view():\n    pass\n\nclass Public:\n    def method(self):\n        pass\n    def _helper(self):\n        pass\n    def __repr__(self):\n        return ''\n\nclass _Hidden:\n    def visible(self):\n        pass\n\nused()\nPublic()\nx = _Hidden\n\ndef main():\n    pass\n",
            ),
            ("test_m.py", "def test_it():\n    pass\n\ndef helper_in_tests():\n    pass\n"),
        ]);
        let found = unused_definitions(&idx, &["m:main".to_string()]);
        let mut names: Vec<String> = found
            .iter()
            .map(|(_, f)| f.message.split('`').nth(1).unwrap().to_string())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec!["_helper", "_private_unused", "unused", "visible"]
        );
    }

    /// TDM020 used to ask the call graph as a last filter; on Django and the standard library
    /// that filter never changed a finding, because every call the graph resolves goes
    /// through the callee's name somewhere (a call, an alias, an import, a callback), which the
    /// name filters already see. The graph does see callers of each function here; TDM020,
    /// which no longer reads the graph, reports none of them.
    #[test]
    fn the_name_filters_cover_every_caller_the_call_graph_finds() {
        let mut idx = index(&[
            (
                "lib.py",
                "def _aliased():\n    pass\n\ndef _callback():\n    pass\n\ndef _through_variable():\n    pass\n\nclass _Worker:\n    def _step(self):\n        pass\n    def run(self):\n        self._step()\n\ndef _register(f):\n    f()\n\n_register(_callback)\nfn = _through_variable\nfn()\n_Worker().run()\n",
            ),
            ("app.py", "from lib import _aliased as go\n\ngo()\n"),
        ]);
        let graph = idx.graph();
        for called in [
            "lib._aliased",
            "lib._callback",
            "lib._through_variable",
            "lib._Worker._step",
        ] {
            assert!(
                !graph.callers_of(called).is_empty(),
                "the graph sees a caller of {called}"
            );
        }
        let found = unused_definitions(&idx, &[]);
        assert!(found.is_empty(), "{:?}", codes(&found));
    }

    #[test]
    fn names_built_at_run_time_are_not_reported() {
        let idx = index(&[(
            "m.py",
            "class P:\n    def _end_dict(self):\n        pass\n    def handle(self, tag):\n        getattr(self, '_end_' + tag)()\n\nP().handle('dict')\n",
        )]);
        assert!(unused_definitions(&idx, &[]).is_empty());
    }

    #[test]
    fn all_lists_over_several_lines() {
        assert_eq!(
            dunder_all("__all__ = [\n    'a',\n    \"b\",\n]\nx = 'c'\n"),
            vec!["a", "b"]
        );
        assert_eq!(dunder_all("__all__ = ('a', 'b')\n"), vec!["a", "b"]);
    }
}

/// What a TDM021 pass over one module costs on a corpus, the figures `ProjectSymbols` cites:
/// `TDM021_CORPUS=DIR [TDM021_ROOT=DIR] TDM021_MODULE=NAME cargo test --release -p tandem
/// --lib tdm021_pass_on_a_corpus -- --ignored --nocapture` (`site-packages` left out).
#[cfg(test)]
mod corpus_measurement {
    use super::*;

    #[test]
    #[ignore = "measures a corpus; run by hand"]
    fn tdm021_pass_on_a_corpus() {
        let (Ok(dir), Ok(module)) = (
            std::env::var("TDM021_CORPUS"),
            std::env::var("TDM021_MODULE"),
        ) else {
            println!("set TDM021_CORPUS to a directory and TDM021_MODULE to a module in it");
            return;
        };
        let root = std::env::var("TDM021_ROOT").unwrap_or_else(|_| dir.clone());
        let config = crate::session::config::WorkspaceConfig {
            exclude: vec!["site-packages/".into()],
            ..Default::default()
        };
        let files =
            crate::session::workspace::discover_python_files(&[PathBuf::from(dir)], &config).files;
        let roots = crate::session::workspace::SourceRoots::for_workspace(&[PathBuf::from(root)]);
        let (index, _) = crate::session::indexer::build_index_of_files(
            &roots,
            files,
            Vec::new(),
            &config,
            &|_, _| {},
        );
        let path = index
            .path_of_module(&module)
            .expect("the module")
            .to_path_buf();
        let text = index.file(&path).expect("its file").text();
        let calls = FileCalls::of(&text, &parse_str(&text, None));
        let calls = |p: &Path| (p == path).then_some(&calls);
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let symbols = ProjectSymbols::of(&index);
            let build = started.elapsed();
            let started = std::time::Instant::now();
            let kept = bad_calls_using(&index, &symbols, Some(&module), &calls).len();
            let using = started.elapsed();
            let started = std::time::Instant::now();
            let fresh = bad_calls_with(&index, Some(&module), &calls).len();
            assert_eq!(kept, fresh);
            println!(
                "{module}: with kept symbols {:.2} ms, building them {:.1} ms, bad_calls_with (both) {:.1} ms ({kept} findings)",
                using.as_secs_f64() * 1e3,
                build.as_secs_f64() * 1e3,
                started.elapsed().as_secs_f64() * 1e3,
            );
        }
    }
}
