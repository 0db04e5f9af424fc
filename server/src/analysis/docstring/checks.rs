//! The DOC checks: whether each docstring says what the code does, with pydoclint's codes and
//! meanings (DOC101-DOC105 arguments, DOC201-DOC203 returns, DOC402-DOC405 yields,
//! DOC501-DOC503 raises) and Tandem's own DOC701 (a backticked call target the code does not
//! call and the project does not define).
//!
//! The rules, and where they knowingly differ from pydoclint, are in `docs/docstring-rules.md`.
//! Findings sit on the function's name, on the line pydoclint reports (the `def` line).

use crate::analysis::parse::KindStr;
use std::collections::HashSet;
use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::facts::{
    function_facts_at, yield_type_of_annotation, DefinitionPlace, FunctionFacts, ParamFact,
};
use super::parse::{parse_docstring, DocstringStyle, ParsedDocstring, SectionKind};
use crate::analysis::finding::{Finding, Severity};
use crate::analysis::outline::may_hold_definitions;

/// The options, named and defaulted as pydoclint's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocCheckOptions {
    /// The style docstrings are read in; `None` detects it per docstring.
    pub style: Option<DocstringStyle>,
    /// Signatures carry type hints (only DOC105 depends on it here).
    pub arg_type_hints_in_signature: bool,
    /// Docstrings carry argument types (only DOC105 depends on it here).
    pub arg_type_hints_in_docstring: bool,
    /// DOC104 (argument order) is reported.
    pub check_arg_order: bool,
    /// Docstrings with only a summary and description are not checked.
    pub skip_checking_short_docstrings: bool,
    /// DOC501-DOC503 are not reported.
    pub skip_checking_raises: bool,
    /// An `__init__` may have its own docstring, checked instead of the class's.
    pub allow_init_docstring: bool,
    /// DOC203 (and the return half of DOC405) compare types with the annotation.
    pub check_return_types: bool,
    /// DOC404 (and the yield half of DOC405) compare types with the annotation.
    pub check_yield_types: bool,
    /// `_` and `__` parameters need no documentation.
    pub ignore_underscore_args: bool,
    /// `_private` parameters need no documentation.
    pub ignore_private_args: bool,
}

impl Default for DocCheckOptions {
    fn default() -> Self {
        DocCheckOptions {
            style: None,
            arg_type_hints_in_signature: true,
            arg_type_hints_in_docstring: true,
            check_arg_order: true,
            skip_checking_short_docstrings: true,
            skip_checking_raises: false,
            allow_init_docstring: false,
            check_return_types: true,
            check_yield_types: true,
            ignore_underscore_args: true,
            ignore_private_args: false,
        }
    }
}

/// A name a docstring mentions in backticks as a call target, not yet checked against the
/// project's definitions (which may come from other files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// The name without backticks or `()`, e.g. `Cart.add`.
    pub name: String,
    /// The finding to report if the project does not define the name.
    pub finding: Finding,
}

/// Runs the DOC checks on every function and method of `source` (which `tree` was parsed
/// from). `known(name)` says whether the project defines a function, method or class of that
/// name (a bare name like `add` or a dotted one like `Cart.add`).
pub fn check_source(
    source: &str,
    tree: &Tree,
    opts: &DocCheckOptions,
    known: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    let (mut findings, mentions) = check_source_deferred(source, tree, opts);
    findings.extend(resolve_mentions(mentions, known));
    findings.sort_by(|a, b| (a.range.start, &a.code).cmp(&(b.range.start, &b.code)));
    findings
}

/// The DOC701 findings of the mentions whose names the project does not define.
pub fn resolve_mentions(mentions: Vec<Mention>, known: &dyn Fn(&str) -> bool) -> Vec<Finding> {
    mentions
        .into_iter()
        .filter(|m| !is_mention_known(&m.name, known))
        .map(|m| m.finding)
        .collect()
}

/// Whether the project defines the name a mention gives (dotted or by its last part).
pub fn is_mention_known(name: &str, known: &dyn Fn(&str) -> bool) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    known(name) || known(last)
}

/// Like `check_source`, but returns the DOC701 candidates separately, for a caller that learns
/// the project's names while checking its files.
pub fn check_source_deferred(
    source: &str,
    tree: &Tree,
    opts: &DocCheckOptions,
) -> (Vec<Finding>, Vec<Mention>) {
    check_subtree_deferred(tree.root_node(), source, opts)
}

/// `check_source_deferred` for the functions inside `root` only (the oracle checks one symbol
/// of a file this way instead of the whole file).
pub fn check_subtree_deferred(
    root: tree_sitter::Node<'_>,
    source: &str,
    opts: &DocCheckOptions,
) -> (Vec<Finding>, Vec<Mention>) {
    let mut findings = Vec::new();
    let mut mentions = Vec::new();
    // Each node with its place: the class whose body holds it directly (for blocks, the class
    // they are the body of) and the `decorated_definition` around it, so that no check has to
    // look up parents. The root's own place is read from its parents once.
    let mut stack = vec![(root, place_of(root))];
    while let Some((node, place)) = stack.pop() {
        let kind = node.kind_str();
        if kind == "function_definition" {
            check_function(node, place, source, opts, &mut findings, &mut mentions);
        }
        let mut cursor = node.walk();
        let start = stack.len();
        stack.extend(
            node.named_children(&mut cursor)
                .filter(|c| may_hold_definitions(*c))
                .map(|c| {
                    let child = c.kind_str();
                    let class = match kind {
                        "class_definition" if child == "block" => Some(node),
                        "block" | "decorated_definition"
                            if matches!(child, "function_definition" | "decorated_definition") =>
                        {
                            place.class
                        }
                        _ => None,
                    };
                    let decorated = (kind == "decorated_definition").then_some(node);
                    (c, DefinitionPlace { decorated, class })
                }),
        );
        stack[start..].reverse();
    }
    (findings, mentions)
}

/// The place of a node the walk starts at, from its parents: the `decorated_definition`
/// around it, and for a function the class whose body holds it directly.
fn place_of(node: Node<'_>) -> DefinitionPlace<'_> {
    let decorated = node
        .parent()
        .filter(|p| p.kind_str() == "decorated_definition");
    let class = matches!(
        node.kind_str(),
        "function_definition" | "decorated_definition"
    )
    .then(|| decorated.unwrap_or(node).parent())
    .flatten()
    .filter(|holder| holder.kind_str() == "block")
    .and_then(|block| block.parent())
    .filter(|c| c.kind_str() == "class_definition");
    DefinitionPlace { decorated, class }
}

/// The source text of a node, empty when the tree does not match the source.
fn slice<'s>(node: Node<'_>, source: &'s str) -> &'s str {
    source.get(node.byte_range()).unwrap_or("")
}

/// The docstring literal of a `function_definition` or `class_definition`: the content's byte
/// range (between the quotes) and its text. Bytes and f-strings are not docstrings.
pub fn docstring_content(def: Node<'_>, source: &str) -> Option<Range<usize>> {
    let body = def.child_by_field_name("body")?;
    let mut cursor = body.walk();
    let first = body.named_children(&mut cursor).find(|c| !c.is_extra())?;
    if first.kind_str() != "expression_statement" || first.named_child_count() != 1 {
        return None;
    }
    let string = first.named_child(0)?;
    if string.kind_str() != "string" {
        return None;
    }
    let mut cursor = string.walk();
    let children: Vec<Node<'_>> = string.children(&mut cursor).collect();
    let start = children.iter().find(|c| c.kind_str() == "string_start")?;
    let end = children
        .iter()
        .rev()
        .find(|c| c.kind_str() == "string_end")?;
    let prefix = slice(*start, source).trim_end_matches(['"', '\'']);
    if !prefix.chars().all(|c| matches!(c, 'r' | 'R' | 'u' | 'U')) {
        return None;
    }
    (start.end_byte() <= end.start_byte()).then(|| start.end_byte()..end.start_byte())
}

fn check_function(
    def: Node<'_>,
    place: DefinitionPlace<'_>,
    source: &str,
    opts: &DocCheckOptions,
    findings: &mut Vec<Finding>,
    mentions: &mut Vec<Mention>,
) {
    let Some(name_node) = def.child_by_field_name("name") else {
        return;
    };
    let name = slice(name_node, source);
    let class = place.class;
    let is_constructor = name == "__init__" && class.is_some();
    if is_constructor && class.is_some_and(|c| !is_last_init(c, def, source)) {
        return;
    }
    let own = docstring_content(def, source);
    let content_range = match (is_constructor, own.clone()) {
        (true, Some(own)) if opts.allow_init_docstring => Some(own),
        (true, _) => class.and_then(|c| docstring_content(c, source)),
        (false, own) => own,
    };
    let Some(content_range) = content_range else {
        return;
    };
    let content = source.get(content_range.clone()).unwrap_or("");
    if content.trim().is_empty() {
        return;
    }
    let doc = parse_docstring(content, opts.style);
    if opts.skip_checking_short_docstrings && doc.is_short() {
        return;
    }
    let facts = function_facts_at(def, source, class.is_some(), Some(place));
    let label = match class.and_then(|c| c.child_by_field_name("name")) {
        Some(class_name) => format!("Method `{}.{}`", slice(class_name, source), name),
        None => format!("Function `{name}`"),
    };
    let mut report = Report {
        findings,
        range: name_node.byte_range(),
        label,
    };
    check_arguments(&facts, &doc, opts, &mut report);
    let has_return_statement = facts.return_statements.any;
    if !is_constructor {
        if facts.yields.is_some() && has_return_statement {
            check_return_and_yield(&facts, &doc, opts, &mut report);
        } else {
            check_returns(&facts, &doc, opts, &mut report);
            check_yields(&facts, &doc, opts, &mut report);
        }
    }
    if !opts.skip_checking_raises {
        check_raises(&facts, &doc, &mut report);
    }
    // Mentions are only taken from a function's own docstring.
    if own == Some(content_range.clone()) {
        mentions.extend(backticked_call_targets(
            content,
            content_range.start,
            &facts,
            &report.label,
        ));
    }
}

/// Whether `def` is the last `__init__` of the class body (earlier ones are overloads).
fn is_last_init(class: Node<'_>, def: Node<'_>, source: &str) -> bool {
    let Some(body) = class.child_by_field_name("body") else {
        return true;
    };
    let mut cursor = body.walk();
    let last = body
        .named_children(&mut cursor)
        .map(|c| super::facts::definition_of(c))
        .filter(|c| {
            c.kind_str() == "function_definition"
                && c.child_by_field_name("name")
                    .is_some_and(|n| slice(n, source) == "__init__")
        })
        .last();
    last.is_none_or(|l| l.id() == def.id())
}

struct Report<'a> {
    findings: &'a mut Vec<Finding>,
    range: Range<usize>,
    label: String,
}

impl Report<'_> {
    fn add(&mut self, code: &str, message: impl AsRef<str>) {
        self.findings.push(Finding::new(
            code,
            Severity::Warning,
            format!("{}: {}", self.label, message.as_ref()),
            self.range.clone(),
        ));
    }
}

fn is_underscore_only(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b == b'_')
}

/// The parameters the docstring must document, by the options.
fn documented_params<'f>(facts: &'f FunctionFacts, opts: &DocCheckOptions) -> Vec<&'f ParamFact> {
    facts
        .params
        .iter()
        .filter(|p| {
            let n = p.name.as_str();
            if is_underscore_only(n) {
                return !opts.ignore_underscore_args;
            }
            let private = n.starts_with('_') && !(n.starts_with("__") && n.ends_with("__"));
            !(private && opts.ignore_private_args)
        })
        .collect()
}

/// Compares type texts the way pydoclint does: quotes of either kind are the same, and line
/// breaks, spaces around them and comments do not count.
fn same_type(a: &str, b: &str) -> bool {
    let normal = |s: &str| -> String {
        let s = s.split('#').next().unwrap_or("");
        let s = s.trim().trim_matches('`');
        s.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| if c == '\'' { '"' } else { c })
            .collect()
    };
    normal(a) == normal(b)
}

fn strip_quotes(s: &str) -> String {
    s.trim()
        .trim_matches('`')
        .chars()
        .filter(|c| *c != '"' && *c != '\'')
        .collect()
}

fn check_arguments(
    facts: &FunctionFacts,
    doc: &ParsedDocstring,
    opts: &DocCheckOptions,
    report: &mut Report<'_>,
) {
    let func: Vec<(String, Option<&str>)> = documented_params(facts, opts)
        .into_iter()
        .map(|p| (p.documented_name(), p.annotation.as_deref()))
        .collect();
    let documented: Vec<(String, Option<&str>)> = doc
        .entries(SectionKind::Args)
        .map(|e| (e.name.replace('\\', ""), e.type_text.as_deref()))
        .collect();
    if func.is_empty() && documented.is_empty() {
        return;
    }
    if documented.len() < func.len() {
        report.add(
            "DOC101",
            "Docstring contains fewer arguments than in function signature.",
        );
    } else if documented.len() > func.len() {
        report.add(
            "DOC102",
            "Docstring contains more arguments than in function signature.",
        );
    }
    let func_names: Vec<&str> = func.iter().map(|(n, _)| n.as_str()).collect();
    let doc_names: Vec<&str> = documented.iter().map(|(n, _)| n.as_str()).collect();
    let func_set: HashSet<&str> = func_names.iter().copied().collect();
    let doc_set: HashSet<&str> = doc_names.iter().copied().collect();
    let same_multiset = {
        let mut a = func_names.clone();
        let mut b = doc_names.clone();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    };
    if !same_multiset {
        let mut missing: Vec<&str> = func_names
            .iter()
            .copied()
            .filter(|n| !doc_set.contains(n))
            .collect();
        let mut extra: Vec<&str> = doc_names
            .iter()
            .copied()
            .filter(|n| !func_set.contains(n))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        extra.sort_unstable();
        extra.dedup();
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!(
                "arguments in the function signature but not in the docstring: {}.",
                backticked(&missing)
            ));
        }
        if !extra.is_empty() {
            parts.push(format!(
                "arguments in the docstring but not in the function signature: {}.",
                backticked(&extra)
            ));
        }
        if parts.is_empty() {
            parts.push("an argument is documented more than once.".into());
        }
        report.add(
            "DOC103",
            format!(
                "Docstring arguments are different from function arguments; {}",
                parts.join(" ")
            ),
        );
        return;
    }
    if func_names != doc_names {
        if opts.check_arg_order {
            report.add(
                "DOC104",
                format!(
                    "Arguments are the same in the docstring and the function signature, but are in a different order (signature order: {}).",
                    backticked(&func_names)
                ),
            );
        }
        return;
    }
    if opts.arg_type_hints_in_signature && opts.arg_type_hints_in_docstring {
        let mismatched: Vec<String> = func
            .iter()
            .zip(&documented)
            .filter(|((_, a), (_, d))| !same_type(a.unwrap_or(""), d.unwrap_or("")))
            .map(|((n, a), (_, d))| {
                format!(
                    "`{n}` is `{}` in the signature, `{}` in the docstring",
                    a.unwrap_or(""),
                    d.unwrap_or("")
                )
            })
            .collect();
        if !mismatched.is_empty() {
            report.add(
                "DOC105",
                format!(
                    "Argument names match, but type hints in these args do not match: {}.",
                    mismatched.join("; ")
                ),
            );
        }
    }
}

fn backticked(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How the return annotation reads for the checks.
struct Annotation<'a> {
    text: Option<&'a str>,
    /// `Generator[...]` or `AsyncGenerator[...]`.
    generator: bool,
    /// `Iterator`, `Iterable` and their async variants.
    iterator: bool,
    nothing: bool,
}

fn annotation_of(facts: &FunctionFacts) -> Annotation<'_> {
    let text = facts.return_annotation.as_deref().map(str::trim);
    let head = text
        .map(|t| t.split('[').next().unwrap_or(t).trim())
        .map(|h| h.rsplit('.').next().unwrap_or(h))
        .unwrap_or("");
    Annotation {
        text,
        generator: matches!(head, "Generator" | "AsyncGenerator"),
        iterator: matches!(
            head,
            "Iterator" | "Iterable" | "AsyncIterator" | "AsyncIterable"
        ),
        nothing: text.is_some_and(|t| {
            let t = strip_quotes(t);
            t == "None" || t == "NoReturn"
        }),
    }
}

/// pydoclint's test for `@property`: the outermost decorator is exactly `property`.
fn is_property(facts: &FunctionFacts) -> bool {
    facts.decorators.first().is_some_and(|d| d == "property")
}

/// A placeholder body that says nothing about returns, yields or raises: an abstract method
/// (outermost decorator exactly `abstractmethod`, as pydoclint reads it).
fn has_placeholder_body(facts: &FunctionFacts) -> bool {
    facts
        .decorators
        .first()
        .is_some_and(|d| d == "abstractmethod")
}

/// The R of `Generator[Y, S, R]`.
fn generator_return_type(annotation: &str) -> Option<String> {
    let inner = annotation.trim();
    let open = inner.find('[')?;
    let inner = inner.get(open + 1..inner.len().checked_sub(1)?)?;
    let mut depth = 0i32;
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(inner[start..].trim());
    parts.get(2).map(|s| s.to_string())
}

/// The parts of a `tuple[...]`/`Tuple[...]` annotation, for numpy's one-entry-per-element
/// Returns.
fn tuple_parts(annotation: &str) -> Option<Vec<String>> {
    let a = annotation.trim();
    let inner = a
        .strip_prefix("tuple[")
        .or_else(|| a.strip_prefix("Tuple["))?
        .strip_suffix(']')?;
    if inner.trim_end().ends_with("...") {
        return None;
    }
    let mut depth = 0i32;
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(inner[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = inner[start..].trim();
    if !last.is_empty() {
        parts.push(last.to_string());
    }
    Some(parts)
}

/// DOC203: the Returns section's types against the annotation. Without an annotation there is
/// nothing to compare (pydoclint reports that case; see docs/docstring-rules.md).
fn check_return_types(annotation: Option<&str>, doc: &ParsedDocstring, report: &mut Report<'_>) {
    let Some(annotation) = annotation.map(strip_quotes) else {
        return;
    };
    let types: Vec<String> = doc
        .entries(SectionKind::Returns)
        .map(|e| strip_quotes(e.type_text.as_deref().unwrap_or("")))
        .collect();
    let ok = match doc.style {
        DocstringStyle::Numpy => {
            (types.len() == 1 && same_type(&types[0], &annotation))
                || tuple_parts(&annotation).is_some_and(|parts| {
                    parts.len() == types.len()
                        && parts.iter().zip(&types).all(|(a, t)| same_type(a, t))
                })
        }
        _ => types.first().is_some_and(|t| same_type(t, &annotation)),
    };
    if !ok {
        report.add(
            "DOC203",
            format!(
                "return type(s) in docstring not consistent with the return annotation `{annotation}` (docstring: {}).",
                if types.is_empty() {
                    "no type".to_string()
                } else {
                    types.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
                }
            ),
        );
    }
}

fn check_returns(
    facts: &FunctionFacts,
    doc: &ParsedDocstring,
    opts: &DocCheckOptions,
    report: &mut Report<'_>,
) {
    let anno = annotation_of(facts);
    let has_return_statement = facts.return_statements.any;
    let has_section = doc.has(SectionKind::Returns);
    let only_yields = facts.yields.is_some() && !has_return_statement;
    let placeholder = has_placeholder_body(facts);
    let yields_without_returning =
        only_yields || (placeholder && doc.has(SectionKind::Yields) && !has_return_statement);
    let exempt = has_section || is_property(facts) || (yields_without_returning && anno.iterator);
    if !exempt
        && (has_return_statement || (anno.text.is_some() && !anno.generator))
        && !anno.nothing
    {
        report.add("DOC201", "does not have a return section in docstring");
    }
    if has_section && !(has_return_statement || anno.text.is_some()) && !placeholder {
        report.add(
            "DOC202",
            "has a return section in docstring, but there are no return statements or annotations",
        );
    }
    if opts.check_return_types {
        if !has_section && (anno.nothing || anno.generator || anno.iterator || is_property(facts)) {
            return;
        }
        if !has_section && anno.text.is_none() {
            return;
        }
        check_return_types(anno.text, doc, report);
    }
}

fn check_yields(
    facts: &FunctionFacts,
    doc: &ParsedDocstring,
    opts: &DocCheckOptions,
    report: &mut Report<'_>,
) {
    let anno = annotation_of(facts);
    let has_section = doc.has(SectionKind::Yields);
    let has_yield = facts.yields.is_some();
    let yield_type = if anno.generator || anno.iterator {
        anno.text.and_then(yield_type_of_annotation)
    } else {
        None
    };
    let yields_nothing = yield_type.as_deref() == Some("None");
    if !has_section && has_yield && !yields_nothing {
        report.add(
            "DOC402",
            "has \"yield\" statements, but the docstring does not have a \"Yields\" section",
        );
    }
    if has_section && !has_placeholder_body(facts) && !has_yield {
        report.add(
            "DOC403",
            "has a \"Yields\" section in the docstring, but there are no \"yield\" statements",
        );
    }
    if has_yield && opts.check_yield_types {
        check_yield_types(yield_type.as_deref(), has_section, doc, report);
    }
}

/// DOC404: the Yields section's type against the annotation's yield type; a generator without
/// a Yields section is reported too (as pydoclint does), unless it yields `None`.
fn check_yield_types(
    yield_type: Option<&str>,
    has_section: bool,
    doc: &ParsedDocstring,
    report: &mut Report<'_>,
) {
    let documented = doc
        .entries(SectionKind::Yields)
        .next()
        .map(|e| strip_quotes(e.type_text.as_deref().unwrap_or("")));
    match (has_section, yield_type) {
        (true, Some(expected)) => {
            if !documented.as_deref().is_some_and(|d| same_type(d, expected)) {
                report.add(
                    "DOC404",
                    format!(
                        "yield type(s) in docstring not consistent with the return annotation: it yields `{expected}`, the docstring says `{}`.",
                        documented.unwrap_or_default()
                    ),
                );
            }
        }
        (true, None) => {}
        (false, Some("None")) => {}
        (false, _) => report.add(
            "DOC404",
            "yield type(s) in docstring not consistent with the return annotation: the docstring has no \"Yields\" section.",
        ),
    }
}

/// A function that both returns and yields: pydoclint wants a `Generator[Y, S, R]` annotation
/// to check the two sections against.
fn check_return_and_yield(
    facts: &FunctionFacts,
    doc: &ParsedDocstring,
    opts: &DocCheckOptions,
    report: &mut Report<'_>,
) {
    let anno = annotation_of(facts);
    let bare = facts.return_statements.bare;
    if !doc.has(SectionKind::Returns) {
        let skipped = doc.is_short() && opts.skip_checking_short_docstrings;
        if !(skipped || bare) {
            let to_document = if anno.generator {
                anno.text.and_then(generator_return_type)
            } else {
                anno.text.map(str::to_string)
            };
            if !to_document
                .as_deref()
                .is_some_and(|t| matches!(strip_quotes(t).as_str(), "None" | "NoReturn"))
            {
                report.add("DOC201", "does not have a return section in docstring");
            }
        }
    } else if opts.check_return_types {
        if anno.generator {
            let r = anno.text.and_then(generator_return_type);
            check_return_types(r.as_deref().or(Some("")), doc, report);
        } else {
            report.add(
                "DOC405",
                "has both \"return\" and \"yield\" statements; annotate it `Generator[Y, S, R]` so the \"Returns\" and \"Yields\" sections can be checked",
            );
        }
    } else if !anno.generator {
        report.add(
            "DOC405",
            "has both \"return\" and \"yield\" statements; annotate it `Generator[Y, S, R]` so the \"Returns\" and \"Yields\" sections can be checked",
        );
    }
    if !doc.has(SectionKind::Yields) {
        if !opts.skip_checking_short_docstrings {
            report.add(
                "DOC402",
                "has \"yield\" statements, but the docstring does not have a \"Yields\" section",
            );
        }
    } else if opts.check_yield_types {
        if anno.generator || anno.iterator {
            let y = anno.text.and_then(yield_type_of_annotation);
            check_yield_types(y.as_deref(), true, doc, report);
        } else {
            report.add(
                "DOC405",
                "has both \"return\" and \"yield\" statements; annotate it `Generator[Y, S, R]` so the \"Returns\" and \"Yields\" sections can be checked",
            );
        }
    } else if !bare {
        report.add(
            "DOC405",
            "has both \"return\" and \"yield\" statements; annotate it `Generator[Y, S, R]` so the \"Returns\" and \"Yields\" sections can be checked",
        );
    }
}

/// The exception names a Raises section lists.
fn documented_raises(doc: &ParsedDocstring) -> Vec<String> {
    doc.entries(SectionKind::Raises)
        .flat_map(|e| {
            // Numpy keys and sphinx names may list several: `KeyError, ValueError`.
            e.name
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|n| !n.is_empty())
                .map(|n| n.trim_matches('`').trim_start_matches('~').to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Whether a documented exception name stands for a raised one: equal, or a prefix of it as
/// pydoclint allows (`a.b.Error` for `a.b.Error.sub`), or the same last segment (`Error` for
/// `mod.Error`).
fn raise_matches(documented: &str, raised: &str) -> bool {
    let last = |s: &str| s.rsplit('.').next().unwrap_or(s).to_string();
    documented == raised || raised.starts_with(documented) || last(documented) == last(raised)
}

fn check_raises(facts: &FunctionFacts, doc: &ParsedDocstring, report: &mut Report<'_>) {
    let has_section = doc.has(SectionKind::Raises);
    let has_raise_statement =
        !facts.raises.is_empty() || !facts.caught_raises.is_empty() || facts.has_unnamed_raise;
    if !facts.raises.is_empty() && !has_section {
        report.add(
            "DOC501",
            format!(
                "raises {} but the docstring does not have a \"Raises\" section",
                backticked(&facts.raises.iter().map(String::as_str).collect::<Vec<_>>())
            ),
        );
    }
    if has_section && !has_raise_statement && !has_placeholder_body(facts) {
        report.add(
            "DOC502",
            "has a \"Raises\" section in the docstring, but there are not \"raise\" statements in the body",
        );
    }
    if !has_raise_statement {
        return;
    }
    let documented = documented_raises(doc);
    let mut missing: Vec<&str> = facts
        .raises
        .iter()
        .filter(|r| !documented.iter().any(|d| raise_matches(d, r)))
        .map(String::as_str)
        .collect();
    let mut extra: Vec<&str> = if facts.has_unnamed_raise {
        Vec::new()
    } else {
        documented
            .iter()
            .filter(|d| {
                !facts
                    .raises
                    .iter()
                    .chain(&facts.caught_raises)
                    .any(|r| raise_matches(d, r))
            })
            .map(String::as_str)
            .collect()
    };
    missing.sort_unstable();
    extra.sort_unstable();
    extra.dedup();
    if missing.is_empty() && extra.is_empty() {
        return;
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!(
            "raised but not documented: {}",
            backticked(&missing)
        ));
    }
    if !extra.is_empty() {
        parts.push(format!("documented but not raised: {}", backticked(&extra)));
    }
    report.add(
        "DOC503",
        format!(
            "exceptions in the \"Raises\" section in the docstring do not match those in the function body ({}).",
            parts.join("; ")
        ),
    );
}

/// Names no project needs to define: builtins commonly named in docstrings.
const BUILTIN_CALLABLES: &[&str] = &[
    "print",
    "len",
    "str",
    "int",
    "float",
    "bool",
    "list",
    "dict",
    "set",
    "tuple",
    "bytes",
    "repr",
    "open",
    "iter",
    "next",
    "range",
    "super",
    "type",
    "isinstance",
    "issubclass",
    "getattr",
    "setattr",
    "hasattr",
    "delattr",
    "callable",
    "sorted",
    "reversed",
    "map",
    "filter",
    "zip",
    "enumerate",
    "min",
    "max",
    "sum",
    "any",
    "all",
    "hash",
    "id",
    "format",
    "object",
    "vars",
    "dir",
    "eval",
    "exec",
    "compile",
    "abs",
    "round",
    "divmod",
    "pow",
    "chr",
    "ord",
    "frozenset",
    "property",
    "staticmethod",
    "classmethod",
    "Exception",
];

/// Call targets a docstring names in backticks: `` `name()` ``, ``` ``name()`` ```, or a
/// dotted `` `obj.name` ``, that the function does not call and that are not its parameters,
/// builtins or the function itself; as DOC701 findings on the mention, pending the project's
/// definitions.
fn backticked_call_targets(
    content: &str,
    offset: usize,
    facts: &FunctionFacts,
    label: &str,
) -> Vec<Mention> {
    let mut mentions = Vec::new();
    let bytes = content.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let ticks = if bytes.get(i + 1) == Some(&b'`') {
            2
        } else {
            1
        };
        let start = i + ticks;
        let closing = if ticks == 2 { "``" } else { "`" };
        let Some(len) = content.get(start..).and_then(|rest| rest.find(closing)) else {
            break;
        };
        let end = start + len;
        let inner = &content[start..end];
        i = end + ticks;
        // A role such as :func:`name` or a reference `name`_ is Sphinx markup; still a name.
        let called = inner.ends_with("()");
        let name = inner.trim_end_matches("()").trim_start_matches('~');
        let is_dotted_name = !name.is_empty()
            && name.split('.').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && !part.as_bytes()[0].is_ascii_digit()
            });
        if !is_dotted_name || !(called || name.contains('.')) {
            continue;
        }
        let last = name.rsplit('.').next().unwrap_or(name);
        let first = name.split('.').next().unwrap_or(name);
        let is_called = facts.calls.iter().any(|c| {
            c == name || c.rsplit('.').next() == Some(last) || c.ends_with(&format!(".{name}"))
        });
        let is_param = facts.params.iter().any(|p| p.name == first);
        if is_called || is_param || BUILTIN_CALLABLES.contains(&name) {
            continue;
        }
        mentions.push(Mention {
            name: name.to_string(),
            finding: Finding::new(
                "DOC701",
                Severity::Warning,
                format!(
                    "{label}: docstring mentions `{name}`, which the code does not call and the project does not define"
                ),
                offset + start..offset + end,
            ),
        });
    }
    mentions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::parse::parse_str;

    /// Checking one definition's subtree finds exactly what checking the whole file finds
    /// inside it: the root's place (its class, its decorators) is read from its parents.
    #[test]
    fn a_subtree_check_agrees_with_the_whole_file() {
        let source = "class Box:\n    \"\"\"A box.\n\n    Args:\n        size: The size.\n    \"\"\"\n\n    def __init__(self, size, colour):\n        self.size = size\n\n    @staticmethod\n    def make(a, b):\n        \"\"\"Make one.\n\n        Args:\n            a: A.\n        \"\"\"\n        return a\n\n    @property\n    def area(self):\n        \"\"\"The area.\n\n        Returns:\n            int: The area.\n        \"\"\"\n        return 1\n\n\ndef free(x, y):\n    \"\"\"Free.\n\n    Args:\n        x: X.\n    \"\"\"\n    if x:\n        def inner(z):\n            \"\"\"Inner.\"\"\"\n            return z\n    return y\n";
        let tree = parse_str(source, None);
        let opts = DocCheckOptions {
            skip_checking_short_docstrings: false,
            ..DocCheckOptions::default()
        };
        let (all, _) = check_source_deferred(source, &tree, &opts);
        assert!(all.len() >= 3, "{all:?}");
        let mut stack = vec![tree.root_node()];
        let mut checked = 0;
        while let Some(node) = stack.pop() {
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
            if !matches!(
                node.kind_str(),
                "function_definition" | "class_definition" | "decorated_definition"
            ) {
                continue;
            }
            checked += 1;
            let range = node.byte_range();
            let key = |f: &Finding| {
                (
                    f.code.to_string(),
                    f.range.start,
                    f.range.end,
                    f.message.clone(),
                )
            };
            let mut whole: Vec<_> = all
                .iter()
                .filter(|f| range.contains(&f.range.start))
                .map(key)
                .collect();
            let (sub, _) = check_subtree_deferred(node, source, &opts);
            let mut sub: Vec<_> = sub.iter().map(key).collect();
            whole.sort();
            sub.sort();
            assert_eq!(sub, whole, "{}", &source[range]);
        }
        assert!(checked >= 7);
    }

    fn opts(style: DocstringStyle) -> DocCheckOptions {
        DocCheckOptions {
            style: Some(style),
            arg_type_hints_in_docstring: false,
            skip_checking_short_docstrings: false,
            ..DocCheckOptions::default()
        }
    }

    fn run_with(source: &str, o: &DocCheckOptions, known: &dyn Fn(&str) -> bool) -> Vec<String> {
        let tree = parse_str(source, None);
        check_source(source, &tree, o, known)
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    /// The codes reported on `source` (google style, pydoclint's benchmark options).
    fn codes(source: &str) -> Vec<String> {
        run_with(source, &opts(DocstringStyle::Google), &|_| true)
    }

    fn numpy(source: &str) -> Vec<String> {
        run_with(source, &opts(DocstringStyle::Numpy), &|_| true)
    }

    fn sphinx(source: &str) -> Vec<String> {
        run_with(source, &opts(DocstringStyle::Sphinx), &|_| true)
    }

    // Arguments.

    #[test]
    fn a_complete_google_docstring_passes() {
        let source = r#"
def f(a, *args, b=1, **kwargs):
    """Do.

    Args:
        a: A.
        *args: More.
        b: B.
        **kwargs: Options.

    Returns:
        The result.

    Raises:
        ValueError: When bad.
    """
    if a:
        raise ValueError(a)
    return a
"#;
        assert!(codes(source).is_empty(), "{:?}", codes(source));
    }

    #[test]
    fn doc101_and_doc103_for_an_undocumented_argument() {
        let source = "def f(a, b):\n    \"\"\"Do.\n\n    Args:\n        a: A.\n    \"\"\"\n";
        assert_eq!(codes(source), ["DOC101", "DOC103"]);
    }

    #[test]
    fn doc102_and_doc103_for_an_argument_that_does_not_exist() {
        let source =
            "def f(a):\n    \"\"\"Do.\n\n    Args:\n        a: A.\n        b: B.\n    \"\"\"\n";
        assert_eq!(codes(source), ["DOC102", "DOC103"]);
    }

    #[test]
    fn doc103_for_a_renamed_argument() {
        let source = "def f(a):\n    \"\"\"Do.\n\n    Args:\n        x: A.\n    \"\"\"\n";
        assert_eq!(codes(source), ["DOC103"]);
    }

    #[test]
    fn doc104_for_arguments_out_of_order_in_signature_order() {
        let source =
            "def f(a, b):\n    \"\"\"Do.\n\n    Args:\n        b: B.\n        a: A.\n    \"\"\"\n";
        assert_eq!(codes(source), ["DOC104"]);
        let keyword_only_after_args = "def f(a, *args, b):\n    \"\"\"Do.\n\n    Args:\n        a: A.\n        *args: More.\n        b: B.\n    \"\"\"\n";
        assert!(codes(keyword_only_after_args).is_empty());
    }

    #[test]
    fn doc105_compares_types_only_when_both_sides_carry_them() {
        let source =
            "def f(a: int):\n    \"\"\"Do.\n\n    Args:\n        a (str): A.\n    \"\"\"\n";
        assert!(codes(source).is_empty());
        let both = DocCheckOptions {
            arg_type_hints_in_docstring: true,
            ..opts(DocstringStyle::Google)
        };
        assert_eq!(run_with(source, &both, &|_| true), ["DOC105"]);
        let same = "def f(a: dict[str, int]):\n    \"\"\"Do.\n\n    Args:\n        a (dict[str,int]): A.\n    \"\"\"\n";
        assert!(run_with(same, &both, &|_| true).is_empty());
    }

    #[test]
    fn self_cls_and_underscore_arguments_need_no_documentation() {
        let source = r#"
class C:
    def m(self, _, x):
        """Do.

        Args:
            x: X.
        """

    @staticmethod
    def s(x):
        """Do.

        Args:
            x: X.
        """
"#;
        assert!(codes(source).is_empty(), "{:?}", codes(source));
    }

    #[test]
    fn init_is_checked_against_the_class_docstring() {
        let source = r#"
class C:
    """A thing.

    Args:
        a: A.
    """

    def __init__(self, a, b):
        self.a = a
"#;
        assert_eq!(codes(source), ["DOC101", "DOC103"]);
    }

    #[test]
    fn only_the_last_init_is_checked() {
        let source = r#"
class C:
    """A thing.

    Args:
        a: A.
    """

    @overload
    def __init__(self, a: int, b: int): ...
    def __init__(self, a):
        self.a = a
"#;
        assert!(codes(source).is_empty());
    }

    #[test]
    fn functions_without_docstrings_are_not_checked_and_short_ones_by_option() {
        assert!(codes("def f(a):\n    return a\n").is_empty());
        let short = "def f(a):\n    \"\"\"Do.\"\"\"\n    return a\n";
        assert_eq!(codes(short), ["DOC101", "DOC103", "DOC201"]);
        let skip = DocCheckOptions {
            skip_checking_short_docstrings: true,
            ..opts(DocstringStyle::Google)
        };
        assert!(run_with(short, &skip, &|_| true).is_empty());
    }

    // Returns.

    #[test]
    fn doc201_for_any_return_statement_even_bare() {
        assert_eq!(
            codes("def f():\n    \"\"\"Do.\"\"\"\n    return 1\n"),
            ["DOC201"]
        );
        assert_eq!(
            codes("def f(x):\n    \"\"\"Do.\n\n    Args:\n        x: X.\n    \"\"\"\n    if x:\n        return\n    g()\n"),
            ["DOC201"]
        );
        assert!(codes("def f() -> None:\n    \"\"\"Do.\"\"\"\n    return None\n").is_empty());
        assert!(codes("def f():\n    \"\"\"Do.\"\"\"\n    g()\n").is_empty());
    }

    #[test]
    fn doc201_and_doc203_for_an_annotated_function_without_returns() {
        assert_eq!(
            codes("def f() -> int:\n    \"\"\"Do.\"\"\"\n    pass\n"),
            ["DOC201", "DOC203"]
        );
    }

    #[test]
    fn properties_need_no_returns() {
        let source = "class C:\n    @property\n    def p(self):\n        \"\"\"The p.\"\"\"\n        return 1\n";
        assert!(codes(source).is_empty());
    }

    #[test]
    fn doc202_for_returns_without_a_return() {
        let source =
            "def f():\n    \"\"\"Do.\n\n    Returns:\n        int: One.\n    \"\"\"\n    g()\n";
        assert_eq!(codes(source), ["DOC202"]);
        let abstract_ = "class C:\n    @abstractmethod\n    def f(self):\n        \"\"\"Do.\n\n        Returns:\n            int: One.\n        \"\"\"\n";
        assert!(codes(abstract_).is_empty());
    }

    #[test]
    fn doc203_compares_the_returns_type_with_the_annotation() {
        let good = "def f() -> int:\n    \"\"\"Do.\n\n    Returns:\n        int: One.\n    \"\"\"\n    return 1\n";
        assert!(codes(good).is_empty());
        let bad = "def f() -> int:\n    \"\"\"Do.\n\n    Returns:\n        str: One.\n    \"\"\"\n    return 1\n";
        assert_eq!(codes(bad), ["DOC203"]);
        let unannotated = "def f():\n    \"\"\"Do.\n\n    Returns:\n        str: One.\n    \"\"\"\n    return 1\n";
        assert!(codes(unannotated).is_empty());
        let numpy_tuple = "def f() -> tuple[int, str]:\n    \"\"\"Do.\n\n    Returns\n    -------\n    int\n        One.\n    str\n        Two.\n    \"\"\"\n    return 1, 'a'\n";
        assert!(numpy(numpy_tuple).is_empty());
    }

    // Yields.

    #[test]
    fn doc402_and_doc404_for_a_generator_without_yields() {
        let source = "def f():\n    \"\"\"Do.\"\"\"\n    yield 1\n";
        assert_eq!(codes(source), ["DOC402", "DOC404"]);
        let yields_none = "def f() -> Iterator[None]:\n    \"\"\"Do.\"\"\"\n    yield\n";
        assert!(codes(yields_none).is_empty());
    }

    #[test]
    fn doc403_for_yields_without_a_yield() {
        let source = "def f():\n    \"\"\"Do.\n\n    Yields:\n        int: Numbers.\n    \"\"\"\n    return [1]\n";
        assert_eq!(codes(source), ["DOC201", "DOC403"]);
    }

    #[test]
    fn doc404_compares_the_yield_type_with_the_annotation() {
        let good = "def f() -> Iterator[int]:\n    \"\"\"Do.\n\n    Yields:\n        int: Numbers.\n    \"\"\"\n    yield 1\n";
        assert!(codes(good).is_empty());
        let bad = "def f() -> Iterator[int]:\n    \"\"\"Do.\n\n    Yields:\n        str: Numbers.\n    \"\"\"\n    yield 1\n";
        assert_eq!(codes(bad), ["DOC404"]);
        let unannotated =
            "def f():\n    \"\"\"Do.\n\n    Yields:\n        Numbers.\n    \"\"\"\n    yield 1\n";
        assert!(codes(unannotated).is_empty());
    }

    #[test]
    fn doc405_for_return_and_yield_without_a_generator_annotation() {
        let source = "def f():\n    \"\"\"Do.\n\n    Returns:\n        int: Count.\n\n    Yields:\n        int: Items.\n    \"\"\"\n    yield 1\n    return 2\n";
        assert_eq!(codes(source), ["DOC405", "DOC405"]);
        let annotated = "def f() -> Generator[int, None, str]:\n    \"\"\"Do.\n\n    Returns:\n        str: Done.\n\n    Yields:\n        int: Items.\n    \"\"\"\n    yield 1\n    return 'x'\n";
        assert!(codes(annotated).is_empty());
        let missing = "def f():\n    \"\"\"Do.\"\"\"\n    yield 1\n    return 2\n";
        assert_eq!(codes(missing), ["DOC201", "DOC402"]);
    }

    // Raises.

    #[test]
    fn doc501_and_doc503_for_an_undocumented_raise() {
        let source = "def f():\n    \"\"\"Do.\"\"\"\n    raise ValueError('x')\n";
        assert_eq!(codes(source), ["DOC501", "DOC503"]);
    }

    #[test]
    fn doc502_for_raises_without_a_raise() {
        let source = "def f():\n    \"\"\"Do.\n\n    Raises:\n        ValueError: Never.\n    \"\"\"\n    g()\n";
        assert_eq!(codes(source), ["DOC502"]);
    }

    #[test]
    fn doc503_for_the_wrong_exceptions() {
        let source = "def f():\n    \"\"\"Do.\n\n    Raises:\n        KeyError: Never.\n    \"\"\"\n    raise ValueError\n";
        assert_eq!(codes(source), ["DOC503"]);
        let dotted = "def f():\n    \"\"\"Do.\n\n    Raises:\n        mod.Error: Sometimes.\n    \"\"\"\n    raise mod.Error('x')\n";
        assert!(codes(dotted).is_empty());
    }

    #[test]
    fn caught_exceptions_need_not_be_documented_but_may_be() {
        let body = "    try:\n        raise ValueError\n    except ValueError:\n        pass\n";
        let without = format!("def f():\n    \"\"\"Do.\"\"\"\n{body}");
        assert!(codes(&without).is_empty());
        let with = format!(
            "def f():\n    \"\"\"Do.\n\n    Raises:\n        ValueError: Internally.\n    \"\"\"\n{body}"
        );
        assert!(codes(&with).is_empty());
    }

    #[test]
    fn raising_an_unknown_variable_requires_nothing_and_allows_anything() {
        let source = "def f(error):\n    \"\"\"Do.\n\n    Args:\n        error: E.\n    \"\"\"\n    raise error\n";
        assert!(codes(source).is_empty());
        let documented = "def f(error):\n    \"\"\"Do.\n\n    Args:\n        error: E.\n\n    Raises:\n        KeyError: Passed in.\n    \"\"\"\n    raise error\n";
        assert!(codes(documented).is_empty());
    }

    #[test]
    fn reraises_are_documented_as_the_caught_exception() {
        let source = "def f():\n    \"\"\"Do.\n\n    Raises:\n        KeyError: Passed on.\n    \"\"\"\n    try:\n        g()\n    except KeyError:\n        raise\n";
        assert!(codes(source).is_empty());
    }

    // The three styles.

    #[test]
    fn numpy_docstrings() {
        let good = r#"
def f(a, *args):
    """Do.

    Parameters
    ----------
    a
        A.
    *args
        More.

    Returns
    -------
    int
        One.

    Raises
    ------
    KeyError
        When missing.
    """
    if a:
        raise KeyError(a)
    return 1
"#;
        assert!(numpy(good).is_empty(), "{:?}", numpy(good));
        let missing = "def f(a):\n    \"\"\"Do.\n\n    Parameters\n    ----------\n    b\n        B.\n    \"\"\"\n    return a\n";
        assert_eq!(numpy(missing), ["DOC103", "DOC201"]);
    }

    #[test]
    fn sphinx_docstrings() {
        let good = r#"
def f(a, b):
    """Do.

    :param a: A.
    :param b: B.
    :returns: One.
    :raises KeyError: When missing.
    """
    if a:
        raise KeyError(a)
    return 1
"#;
        assert!(sphinx(good).is_empty(), "{:?}", sphinx(good));
        let bad = "def f(a):\n    \"\"\"Do.\n\n    :param b: B.\n    :raises KeyError: Never.\n    \"\"\"\n";
        assert_eq!(sphinx(bad), ["DOC103", "DOC502"]);
    }

    // DOC701.

    #[test]
    fn doc701_for_a_mentioned_call_target_neither_called_nor_defined() {
        let source = "def f(items):\n    \"\"\"Sort with `helper()` and `items.sort`, then `save()`; see `Cart.total`.\n\n    Args:\n        items: Items.\n    \"\"\"\n    helper(items)\n";
        let tree = parse_str(source, None);
        let known = |name: &str| name == "Cart.total";
        let findings = check_source(source, &tree, &opts(DocstringStyle::Google), &known);
        let doc701: Vec<&str> = findings
            .iter()
            .filter(|f| f.code == "DOC701")
            .map(|f| &source[f.range.clone()])
            .collect();
        assert_eq!(doc701, ["save()"]);
        assert!(
            findings[0].message.contains("`save`"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn findings_sit_on_the_function_name() {
        let source = "@dec\ndef f(a):\n    \"\"\"Do.\"\"\"\n";
        let tree = parse_str(source, None);
        let findings = check_source(source, &tree, &opts(DocstringStyle::Google), &|_| true);
        assert_eq!(&source[findings[0].range.clone()], "f");
        assert!(findings[0].message.starts_with("Function `f`: "));
    }

    #[test]
    fn broken_code_and_odd_docstrings_do_not_panic() {
        for source in [
            "def f(:\n    \"\"\"Do.\n\n    Args:\n",
            "class C:\n    def __init__(self, a\n",
            "def f():\n    b\"\"\"bytes\"\"\"\n",
            "def f():\n    f\"\"\"{x}\"\"\"\n    return 1\n",
            "def f():\n    \"\"\"``\"\"\"\n",
            "def f():\n    \"\"\"`\n",
        ] {
            let tree = parse_str(source, None);
            for style in [
                DocstringStyle::Google,
                DocstringStyle::Numpy,
                DocstringStyle::Sphinx,
            ] {
                check_source(source, &tree, &opts(style), &|_| false);
            }
        }
    }
}
