//! The outline of a Python module: its classes, functions and methods with their signatures,
//! decorators, docstrings and body shapes, read from a tree-sitter tree.
//!
//! All ranges are byte ranges into the source the tree was parsed from; converting them to
//! line and column is the job of `session::position`.

use crate::analysis::children::Children;
use crate::analysis::flat::{FNode, FlatTree};
use crate::analysis::parse::{KindId, KindStr, KindTable};
use std::borrow::Cow;
use std::num::NonZeroU16;
use std::ops::Range;
use std::sync::OnceLock;

use serde::Serialize;
use tree_sitter::{Language, Node, Tree};

use crate::analysis::parse::syntax_errors;

/// What a symbol of the outline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolKind {
    Class,
    /// A function at module level or nested in another function.
    Function,
    /// A function defined directly in a class body.
    Method,
}

/// How a parameter binds arguments, in the order Python requires them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterKind {
    /// Before a `/` marker.
    PositionalOnly,
    /// Positional or keyword.
    Normal,
    /// `*args`.
    VarPositional,
    /// After `*` or `*args`.
    KeywordOnly,
    /// `**kwargs`.
    VarKeyword,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parameter {
    /// The name without `*` or `**`.
    pub name: String,
    pub kind: ParameterKind,
    /// The annotation's source text, e.g. `dict[str, int] | None`.
    pub annotation: Option<String>,
    /// The default value's source text, e.g. `None` or `"utf-8"`.
    pub default: Option<String>,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    pub parameters: Vec<Parameter>,
    /// The return annotation's source text.
    pub returns: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Docstring {
    /// The string's value with quotes and prefix removed and indentation cleaned as
    /// `inspect.cleandoc` does. Escape sequences are kept as written.
    pub text: String,
    /// The range of the string literal, quotes and prefix included.
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Symbol {
    pub name: String,
    /// Dotted path from the module, e.g. `shop.cart.Cart.add`; nested functions use their
    /// enclosing function's path (`pkg.mod.outer.inner`).
    pub qualified_name: String,
    pub kind: SymbolKind,
    pub is_async: bool,
    /// The whole definition, decorators included.
    pub range: Range<usize>,
    /// The identifier after `def` or `class`.
    pub name_range: Range<usize>,
    /// Present for functions and methods.
    pub signature: Option<Signature>,
    /// For classes, the base-class and keyword arguments as written (`Base`, `metaclass=M`).
    pub bases: Vec<String>,
    /// Each decorator's expression text without the `@`, e.g. `functools.lru_cache(maxsize=2)`.
    pub decorators: Vec<String>,
    pub docstring: Option<Docstring>,
    /// The block after the colon (for a one-line `def f(): return 1`, the statement after it).
    pub body_range: Range<usize>,
    /// The body is only `pass`, `...`, `raise NotImplementedError[(...)]` or a docstring,
    /// optionally a docstring followed by one of the others.
    pub is_stub: bool,
    pub children: Vec<Symbol>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outline {
    /// The dotted module name the outline was built for (may be empty).
    pub module: String,
    pub docstring: Option<Docstring>,
    pub symbols: Vec<Symbol>,
    /// Byte ranges of syntax errors; the outline still holds whatever could be read.
    pub syntax_errors: Vec<Range<usize>>,
}

impl Outline {
    /// The innermost class or function whose definition contains `offset`, with the chain of
    /// enclosing symbols (outermost first, the innermost last).
    pub fn symbols_at(&self, offset: usize) -> Vec<&Symbol> {
        let mut chain = Vec::new();
        let mut level = &self.symbols;
        while let Some(symbol) = level
            .iter()
            .find(|s| s.range.start <= offset && offset < s.range.end.max(s.range.start + 1))
        {
            chain.push(symbol);
            level = &symbol.children;
        }
        chain
    }

    /// Every symbol, nested ones included, in document order (each before its children).
    pub fn all_symbols(&self) -> impl Iterator<Item = &Symbol> {
        let mut stack: Vec<&Symbol> = self.symbols.iter().rev().collect();
        std::iter::from_fn(move || {
            let symbol = stack.pop()?;
            stack.extend(symbol.children.iter().rev());
            Some(symbol)
        })
    }
}

/// How deeply definitions may nest before the outline stops listing them.
///
/// `Symbol` is a recursive type, so dropping, comparing or serializing it recurses once per
/// level; capping the depth keeps hostile input from overflowing the stack there. CPython
/// itself refuses more than 100 levels of indentation, so no real program is cut short.
pub const MAX_SYMBOL_DEPTH: usize = 100;

/// Builds the outline of `source`, which `tree` was parsed from. `module` prefixes qualified
/// names (pass `""` for none).
pub fn outline(tree: &Tree, source: &str, module: &str) -> Outline {
    // Read through tree-sitter's API: the walk stays at the statement level, so a flat copy of
    // the whole tree would cost more than it saves (documentSymbol answers from this).
    build(tree, tree.root_node(), source, module)
}

/// `outline`, reading `flat`, a flat copy of `tree` (`analyze_tree` makes one for all its
/// walks).
pub(crate) fn outline_of_flat(tree: &Tree, flat: &FlatTree, source: &str, module: &str) -> Outline {
    build(tree, flat.root(), source, module)
}

fn build<N: OutlineNode>(tree: &Tree, root: N, source: &str, module: &str) -> Outline {
    static FIELDS: OnceLock<Fields> = OnceLock::new();
    let fields = *FIELDS.get_or_init(|| Fields::new(&crate::analysis::parse::python_language()));
    let docstring = first_statement(root).and_then(|stmt| docstring(stmt, source));
    let mut builder = Builder {
        source,
        module,
        fields,
        scratch: Vec::new(),
        pending: Vec::new(),
    };
    builder.walk(root);
    Outline {
        module: module.to_string(),
        docstring,
        symbols: builder.into_symbols(),
        syntax_errors: syntax_errors(tree),
    }
}

/// What the outline reads of a node: tree-sitter's own (an editor's document, outlined alone)
/// and those of a flat copy (`analyze_tree`, which makes one for three walks) alike.
pub(crate) trait OutlineNode: Copy + KindId {
    fn id(&self) -> usize;
    fn byte_range(&self) -> Range<usize>;
    fn end_byte(&self) -> usize;
    fn is_extra(&self) -> bool;
    fn is_error(&self) -> bool;
    fn has_error(&self) -> bool;
    fn child(&self, i: usize) -> Option<Self>;
    fn named_child(&self, i: usize) -> Option<Self>;
    fn named_child_count(&self) -> usize;
    fn child_by_field_id(&self, field: u16) -> Option<Self>;
    /// Appends the children (named ones only when `named_only`), as a cursor visits them.
    fn children_into(&self, named_only: bool, out: &mut Vec<Self>);

    /// The named children, as a cursor visits them.
    fn named_kids(&self) -> Vec<Self> {
        let mut out = Vec::new();
        self.children_into(true, &mut out);
        out
    }
}

/// Forwards the methods both node types have under the same names.
macro_rules! forward_outline_node {
    ($ty:ty) => {
        fn id(&self) -> usize {
            <$ty>::id(self)
        }
        fn byte_range(&self) -> Range<usize> {
            <$ty>::byte_range(self)
        }
        fn end_byte(&self) -> usize {
            <$ty>::end_byte(self)
        }
        fn is_extra(&self) -> bool {
            <$ty>::is_extra(self)
        }
        fn is_error(&self) -> bool {
            <$ty>::is_error(self)
        }
        fn has_error(&self) -> bool {
            <$ty>::has_error(self)
        }
        fn named_child_count(&self) -> usize {
            <$ty>::named_child_count(self)
        }
        fn child_by_field_id(&self, field: u16) -> Option<Self> {
            <$ty>::child_by_field_id(self, field)
        }
    };
}

impl OutlineNode for FNode<'_> {
    forward_outline_node!(FNode<'_>);
    fn child(&self, i: usize) -> Option<Self> {
        FNode::child(self, i)
    }
    fn named_child(&self, i: usize) -> Option<Self> {
        FNode::named_child(self, i)
    }
    fn children_into(&self, named_only: bool, out: &mut Vec<Self>) {
        out.extend(self.children().filter(|c| !named_only || c.is_named()));
    }
}

impl OutlineNode for Node<'_> {
    forward_outline_node!(Node<'_>);
    fn child(&self, i: usize) -> Option<Self> {
        u32::try_from(i).ok().and_then(|i| Node::child(self, i))
    }
    fn named_child(&self, i: usize) -> Option<Self> {
        u32::try_from(i)
            .ok()
            .and_then(|i| Node::named_child(self, i))
    }
    fn children_into(&self, named_only: bool, out: &mut Vec<Self>) {
        thread_local! {
            // Its buffers are reused from one listing to the next.
            static KIDS: std::cell::RefCell<Children> = std::cell::RefCell::default();
        }
        KIDS.with(|kids| kids.borrow_mut().append(*self, named_only, 0, out));
    }
}

/// The ids of the grammar fields the outline reads.
///
/// Looking a child up by field name scans the grammar's table of field names on every call,
/// which showed up in profiles; the ids are looked up once instead. A name the
/// grammar lacked would get id 0, for which tree-sitter finds no child.
#[derive(Clone, Copy)]
struct Fields {
    body: u16,
    cause: u16,
    definition: u16,
    function: u16,
    name: u16,
    parameters: u16,
    return_type: u16,
    superclasses: u16,
    type_: u16,
    value: u16,
}

impl Fields {
    fn new(language: &Language) -> Self {
        let id = |name: &str| language.field_id_for_name(name).map_or(0, NonZeroU16::get);
        Fields {
            body: id("body"),
            cause: id("cause"),
            definition: id("definition"),
            function: id("function"),
            name: id("name"),
            parameters: id("parameters"),
            return_type: id("return_type"),
            superclasses: id("superclasses"),
            type_: id("type"),
            value: id("value"),
        }
    }
}

/// A symbol whose children are still being found, with where it hangs in the tree.
struct Pending {
    symbol: Symbol,
    /// Index of the enclosing symbol in `Builder::pending`, if any.
    parent: Option<usize>,
    /// 0 for module-level symbols.
    depth: usize,
}

/// A node still to be searched for definitions, and the symbol definitions in it belong to.
struct Frame<N> {
    node: N,
    parent: Option<usize>,
}

struct Builder<'s, N> {
    source: &'s str,
    module: &'s str,
    fields: Fields,
    /// The children `push_children` reads (a buffer kept between calls).
    scratch: Vec<N>,
    /// Symbols in document (pre-)order, so every parent comes before its children.
    pending: Vec<Pending>,
}

impl<N: OutlineNode> Builder<'_, N> {
    /// Searches the tree for definitions with an explicit stack rather than recursion, because
    /// the nesting depth of statements is controlled by the input.
    fn walk(&mut self, root: N) {
        let mut stack = vec![Frame {
            node: root,
            parent: None,
        }];
        while let Some(Frame { node, parent }) = stack.pop() {
            match statement_kind(node) {
                StatementKind::Definition => {
                    self.definition(node, node, parent, &mut stack);
                }
                StatementKind::DecoratedDefinition => {
                    match node.child_by_field_id(self.fields.definition) {
                        Some(definition) => self.definition(definition, node, parent, &mut stack),
                        None => self.push_children(node, parent, &mut stack),
                    }
                }
                _ => self.push_children(node, parent, &mut stack),
            }
        }
    }

    /// Queues the children of `node` that may hold definitions, in an order that pops them
    /// in document order, which keeps `pending` in document order.
    fn push_children(&mut self, node: N, parent: Option<usize>, stack: &mut Vec<Frame<N>>) {
        let start = stack.len();
        // `may_hold_definitions`, asking the children for errors only when there is one:
        // within a node without a syntax error, no child has one.
        let clean = !node.has_error();
        let mut children = std::mem::take(&mut self.scratch);
        // Without an error, only named children can be statements.
        node.children_into(clean, &mut children);
        for &child in &children {
            if statement_kind(child) != StatementKind::Other || (!clean && child.has_error()) {
                stack.push(Frame {
                    node: child,
                    parent,
                });
            }
        }
        children.clear();
        self.scratch = children;
        stack[start..].reverse();
    }

    /// Records the class or function `definition`; `outer` is the `decorated_definition`
    /// around it, or `definition` itself when it has no decorators.
    fn definition(
        &mut self,
        definition: N,
        outer: N,
        parent: Option<usize>,
        stack: &mut Vec<Frame<N>>,
    ) {
        let depth = parent.map_or(0, |p| self.pending[p].depth + 1);
        if depth >= MAX_SYMBOL_DEPTH {
            return;
        }
        let source = self.source;
        let fields = self.fields;
        let name_node = definition.child_by_field_id(fields.name);
        let name = name_node.map_or("", |n| text(n, source));
        if name.is_empty() {
            // Error recovery can produce a definition without a name. It is not a symbol,
            // but whatever it contains still belongs to the enclosing one.
            self.push_children(definition, parent, stack);
            return;
        }

        let is_class = definition.kind_str() == "class_definition";
        let parent_symbol = parent.map(|p| &self.pending[p].symbol);
        let kind = match parent_symbol {
            _ if is_class => SymbolKind::Class,
            Some(p) if p.kind == SymbolKind::Class => SymbolKind::Method,
            _ => SymbolKind::Function,
        };
        // Joined at exact capacity (`format!` may leave up to half of the string unused):
        // a project has tens of thousands of these.
        let qualified_name = match parent_symbol {
            Some(p) => dotted(&p.qualified_name, name),
            None if self.module.is_empty() => name.to_string(),
            None => dotted(self.module, name),
        };
        let is_async = definition.child(0).is_some_and(|c| c.kind_str() == "async");

        let decorators = if outer.id() == definition.id() {
            Vec::new()
        } else {
            outer
                .named_kids()
                .into_iter()
                .filter(|c| c.kind_str() == "decorator")
                .map(|d| decorator_text(d, source).to_string())
                .collect()
        };

        let signature = if is_class {
            None
        } else {
            Some(Signature {
                parameters: definition
                    .child_by_field_id(fields.parameters)
                    .map(|p| parameters(p, source, fields))
                    .unwrap_or_default(),
                returns: definition
                    .child_by_field_id(fields.return_type)
                    .map(|r| text(r, source).to_string()),
            })
        };

        let superclasses = if is_class {
            definition.child_by_field_id(fields.superclasses)
        } else {
            None
        };
        let bases = match superclasses {
            Some(arguments) => arguments
                .named_kids()
                .into_iter()
                .filter(|c| !c.is_extra() && !c.is_error())
                .map(|c| text(c, source).to_string())
                .collect(),
            _ => Vec::new(),
        };

        let body = definition.child_by_field_id(fields.body);
        let (docstring, is_stub, body_range) = match body {
            Some(block) => {
                let docstring = first_statement(block).and_then(|stmt| docstring(stmt, source));
                let is_stub = is_stub_body(block, docstring.is_some(), source, fields);
                (docstring, is_stub, block.byte_range())
            }
            None => (None, false, definition.end_byte()..definition.end_byte()),
        };

        let index = self.pending.len();
        self.pending.push(Pending {
            symbol: Symbol {
                name: name.to_string(),
                qualified_name,
                kind,
                is_async,
                range: outer.byte_range(),
                name_range: name_node.map_or(0..0, |n| n.byte_range()),
                signature,
                bases,
                decorators,
                docstring,
                body_range,
                is_stub,
                children: Vec::new(),
            },
            parent,
            depth,
        });

        // Nested definitions live in the body. Broken code elsewhere in the definition (in the
        // parameters, say) may also hide definitions inside `ERROR` nodes, so those parts are
        // searched too; without an error anywhere in the definition, the body is all there is.
        if !definition.has_error() {
            if let Some(body) = body {
                stack.push(Frame {
                    node: body,
                    parent: Some(index),
                });
            }
            return;
        }
        let start = stack.len();
        let mut children = Vec::new();
        definition.children_into(false, &mut children);
        for child in children {
            let is_body = body.is_some_and(|b| b.id() == child.id());
            if is_body || child.has_error() {
                stack.push(Frame {
                    node: child,
                    parent: Some(index),
                });
            }
        }
        stack[start..].reverse();
    }

    /// Assembles the flat, pre-ordered list of symbols into trees without recursion.
    ///
    /// Walking the list backwards meets every child before its parent, so each symbol can be
    /// moved into its parent's `children` as soon as it is reached; children arrive last
    /// first, hence the reversals.
    fn into_symbols(mut self) -> Vec<Symbol> {
        let mut roots = Vec::new();
        while let Some(Pending {
            mut symbol, parent, ..
        }) = self.pending.pop()
        {
            symbol.children.reverse();
            symbol.children.shrink_to_fit();
            match parent.and_then(|p| self.pending.get_mut(p)) {
                Some(parent) => parent.symbol.children.push(symbol),
                None => roots.push(symbol),
            }
        }
        roots.reverse();
        roots.shrink_to_fit();
        roots
    }
}

/// `prefix.name`, allocated at its exact length.
fn dotted(prefix: &str, name: &str) -> String {
    let mut joined = String::with_capacity(prefix.len() + 1 + name.len());
    joined.push_str(prefix);
    joined.push('.');
    joined.push_str(name);
    joined
}

/// Whether definitions may be found inside `node`: it is a definition, a compound statement,
/// a clause or a block, or broken code that tree-sitter may have wrapped around definitions.
/// Everything else (simple statements, expressions, comments) is skipped without a look
/// inside, which keeps the walk to the statement level of the tree. Shared by every walk that
/// looks for definitions (the DOC checks, the project rules).
pub fn may_hold_definitions(node: tree_sitter::Node<'_>) -> bool {
    statement_kind(node) != StatementKind::Other || node.has_error()
}

/// The kinds of node the search for definitions tells apart, read from a table by kind id
/// because the search asks it of every statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatementKind {
    /// `function_definition` and `class_definition`.
    Definition,
    DecoratedDefinition,
    /// A compound statement, a clause or a block.
    Holder,
    Other,
}

fn statement_kind(node: impl KindId) -> StatementKind {
    static KINDS: OnceLock<KindTable<StatementKind>> = OnceLock::new();
    let kinds = KINDS.get_or_init(|| {
        KindTable::new(|name| match name {
            "function_definition" | "class_definition" => StatementKind::Definition,
            "decorated_definition" => StatementKind::DecoratedDefinition,
            "block"
            | "if_statement"
            | "elif_clause"
            | "else_clause"
            | "for_statement"
            | "while_statement"
            | "try_statement"
            | "except_clause"
            | "except_group_clause"
            | "finally_clause"
            | "with_statement"
            | "match_statement"
            | "case_clause" => StatementKind::Holder,
            _ => StatementKind::Other,
        })
    });
    kinds.get(node)
}

/// The source text of `node`. Slicing with `get` rather than indexing means a tree that does
/// not match `source` yields empty text instead of a panic.
fn text(node: impl OutlineNode, source: &str) -> &str {
    source.get(node.byte_range()).unwrap_or("")
}

/// The expression of a decorator, without the `@` and any trailing comment.
fn decorator_text(decorator: impl OutlineNode, source: &str) -> &str {
    match decorator.named_child(0) {
        Some(expression) if !expression.is_extra() => text(expression, source),
        _ => text(decorator, source).trim_start_matches('@').trim(),
    }
}

/// The first statement of a block or module, skipping comments.
fn first_statement<N: OutlineNode>(block: N) -> Option<N> {
    block.named_kids().into_iter().find(|c| !c.is_extra())
}

/// Reads the parameters of a function from its `parameters` node.
fn parameters(parameters: impl OutlineNode, source: &str, fields: Fields) -> Vec<Parameter> {
    let mut out: Vec<Parameter> = Vec::new();
    // Set by a bare `*` or by `*args`: every later named parameter is keyword-only.
    let mut keyword_only = false;
    for node in parameters.named_kids() {
        let field = |id: u16| node.child_by_field_id(id).map(|n| text(n, source));
        let (name, kind, annotation, default) = match node.kind_str() {
            // A tuple pattern is Python 2's `def f((a, b)):`, kept whole as the name.
            "identifier" | "tuple_pattern" => {
                (text(node, source), ParameterKind::Normal, None, None)
            }
            "list_splat_pattern" | "dictionary_splat_pattern" => {
                let (name, kind) = splat(node, source);
                (name, kind, None, None)
            }
            "typed_parameter" => {
                let (name, kind) = match node.named_child(0) {
                    Some(inner) if inner.kind_str() == "identifier" => {
                        (text(inner, source), ParameterKind::Normal)
                    }
                    Some(inner) => splat(inner, source),
                    None => ("", ParameterKind::Normal),
                };
                (name, kind, field(fields.type_), None)
            }
            "default_parameter" => (
                field(fields.name).unwrap_or(""),
                ParameterKind::Normal,
                None,
                field(fields.value),
            ),
            "typed_default_parameter" => (
                field(fields.name).unwrap_or(""),
                ParameterKind::Normal,
                field(fields.type_),
                field(fields.value),
            ),
            "keyword_separator" => {
                keyword_only = true;
                continue;
            }
            "positional_separator" => {
                for parameter in &mut out {
                    if parameter.kind == ParameterKind::Normal {
                        parameter.kind = ParameterKind::PositionalOnly;
                    }
                }
                continue;
            }
            // Comments, and broken parameters inside `ERROR` nodes.
            _ => continue,
        };
        let kind = match kind {
            ParameterKind::Normal if keyword_only => ParameterKind::KeywordOnly,
            ParameterKind::VarPositional => {
                keyword_only = true;
                kind
            }
            _ => kind,
        };
        out.push(Parameter {
            name: name.to_string(),
            kind,
            annotation: annotation.map(str::to_string),
            default: default.map(str::to_string),
            range: node.byte_range(),
        });
    }
    out.shrink_to_fit();
    out
}

/// The name and kind of a `*args` or `**kwargs` pattern. The name is the text after the
/// stars, which also covers the (legal) space in `* args`.
fn splat(node: impl OutlineNode, source: &str) -> (&str, ParameterKind) {
    let name = text(node, source);
    let kind = if node.kind_str() == "dictionary_splat_pattern" {
        ParameterKind::VarKeyword
    } else {
        ParameterKind::VarPositional
    };
    (name.trim_start_matches('*').trim_start(), kind)
}

/// The docstring `statement` holds, when it is an expression statement made of one string
/// literal (or of implicitly concatenated literals) that is neither bytes nor an f-string.
fn docstring(statement: impl OutlineNode, source: &str) -> Option<Docstring> {
    if statement.kind_str() != "expression_statement" || statement.named_child_count() != 1 {
        return None;
    }
    let literal = statement.named_child(0)?;
    let raw: Cow<'_, str> = match literal.kind_str() {
        "string" => Cow::Borrowed(string_value(literal, source)?),
        "concatenated_string" => {
            let mut joined = String::new();
            for part in literal.named_kids() {
                if part.is_extra() {
                    continue;
                }
                if part.kind_str() != "string" {
                    return None;
                }
                joined.push_str(string_value(part, source)?);
            }
            Cow::Owned(joined)
        }
        _ => return None,
    };
    Some(Docstring {
        text: clean_docstring(&raw),
        range: literal.byte_range(),
    })
}

/// The text between the quotes of a `string` node, or `None` when its prefix makes it
/// something other than a `str` (bytes, f-strings, t-strings).
fn string_value(string: impl OutlineNode, source: &str) -> Option<&str> {
    let literal = text(string, source);
    let opening_len = literal.find(['"', '\''])?;
    let prefix = &literal[..opening_len];
    if !prefix.chars().all(|c| matches!(c, 'r' | 'R' | 'u' | 'U')) {
        return None;
    }
    let after_prefix = &literal[opening_len..];
    let quote = ["\"\"\"", "'''", "\"", "'"]
        .into_iter()
        .find(|q| after_prefix.starts_with(q))?;
    let inner = &after_prefix[quote.len()..];
    // An unterminated string (a syntax error) has no closing quote to strip.
    Some(inner.strip_suffix(quote).unwrap_or(inner))
}

/// Cleans a docstring's indentation the way `inspect.cleandoc` does: tabs expanded to 8
/// columns, the first line's leading whitespace removed, the common indentation of the other
/// lines removed, and blank lines at both ends dropped. Unlike `cleandoc`, lines of only
/// whitespace count as blank at the ends too, and `\r\n` line ends read as `\n` (Python's own
/// reading of the source normalizes them before the docstring exists).
fn clean_docstring(raw: &str) -> String {
    let expanded: Cow<'_, str> = if raw.contains('\t') {
        Cow::Owned(expand_tabs(raw))
    } else {
        Cow::Borrowed(raw)
    };
    let lines: Vec<&str> = expanded
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();

    let margin = lines
        .iter()
        .skip(1)
        .filter_map(|line| {
            let indent = line.chars().take_while(|c| c.is_whitespace()).count();
            (line.chars().nth(indent).is_some()).then_some(indent)
        })
        .min();

    let mut cleaned: Vec<&str> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            cleaned.push(line.trim_start());
        } else if let Some(margin) = margin {
            cleaned.push(
                line.char_indices()
                    .nth(margin)
                    .map_or("", |(at, _)| &line[at..]),
            );
        } else {
            cleaned.push(line);
        }
    }

    let is_blank = |line: &&str| line.trim().is_empty();
    let start = cleaned
        .iter()
        .position(|l| !is_blank(l))
        .unwrap_or(cleaned.len());
    let end = cleaned
        .iter()
        .rposition(|l| !is_blank(l))
        .map_or(start, |e| e + 1);
    cleaned[start..end.max(start)].join("\n")
}

/// Python's `str.expandtabs(8)`: a tab moves to the next multiple of 8 columns, and line
/// breaks reset the column.
fn expand_tabs(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut column = 0usize;
    for c in text.chars() {
        match c {
            '\t' => {
                let spaces = 8 - column % 8;
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            '\n' | '\r' => {
                out.push(c);
                column = 0;
            }
            _ => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

/// Whether a body holds nothing but a docstring and placeholder statements (`pass`, `...`,
/// `raise NotImplementedError`). An empty body, which only broken code has, is not a stub.
fn is_stub_body(
    block: impl OutlineNode,
    has_docstring: bool,
    source: &str,
    fields: Fields,
) -> bool {
    let named = block.named_kids();
    let mut statements = named.into_iter().filter(|c| !c.is_extra());
    let mut any = false;
    if has_docstring {
        statements.next();
        any = true;
    }
    for statement in statements {
        if !is_placeholder(statement, source, fields) {
            return false;
        }
        any = true;
    }
    any
}

/// `pass`, `...`, `raise NotImplementedError` or `raise NotImplementedError(...)`.
fn is_placeholder(statement: impl OutlineNode, source: &str, fields: Fields) -> bool {
    match statement.kind_str() {
        "pass_statement" => true,
        "expression_statement" => {
            statement.named_child_count() == 1
                && statement
                    .named_child(0)
                    .is_some_and(|e| e.kind_str() == "ellipsis")
        }
        "raise_statement" => {
            if statement.child_by_field_id(fields.cause).is_some() {
                return false;
            }
            let raised = match statement.named_child(0) {
                Some(call) if call.kind_str() == "call" => call.child_by_field_id(fields.function),
                other => other,
            };
            raised.is_some_and(|r| {
                r.kind_str() == "identifier" && text(r, source) == "NotImplementedError"
            })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {

    use super::ParameterKind::{KeywordOnly, Normal, PositionalOnly, VarKeyword, VarPositional};
    use super::*;
    use crate::analysis::parse::parse_str;

    fn outline_of(source: &str) -> Outline {
        outline_in(source, "")
    }

    fn outline_in(source: &str, module: &str) -> Outline {
        let tree = parse_str(source, None);
        outline(&tree, source, module)
    }

    /// The symbol at a dotted path of names, e.g. `Cart.add`.
    fn find<'o>(outline: &'o Outline, path: &str) -> &'o Symbol {
        let mut symbols = &outline.symbols;
        let mut found = None;
        for name in path.split('.') {
            let symbol = symbols
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("no symbol {name} on the way to {path}"));
            symbols = &symbol.children;
            found = Some(symbol);
        }
        found.expect("a non-empty path")
    }

    fn names(symbols: &[Symbol]) -> Vec<&str> {
        symbols.iter().map(|s| s.name.as_str()).collect()
    }

    fn slice<'s>(source: &'s str, range: &Range<usize>) -> &'s str {
        &source[range.clone()]
    }

    /// Parameters as `(name, kind, annotation, default)`, which reads better than whole
    /// structs in assertions.
    fn params(symbol: &Symbol) -> Vec<(&str, ParameterKind, Option<&str>, Option<&str>)> {
        symbol
            .signature
            .as_ref()
            .expect("a function has a signature")
            .parameters
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.kind,
                    p.annotation.as_deref(),
                    p.default.as_deref(),
                )
            })
            .collect()
    }

    fn returns(symbol: &Symbol) -> Option<&str> {
        symbol.signature.as_ref().and_then(|s| s.returns.as_deref())
    }

    fn doc(symbol: &Symbol) -> Option<&str> {
        symbol.docstring.as_ref().map(|d| d.text.as_str())
    }

    #[test]
    fn all_symbols_lists_nested_symbols_in_document_order() {
        let source = "class A:\n    def m(self):\n        def inner():\n            pass\n\n    def n(self):\n        pass\n\ndef f():\n    pass\n";
        let outline = outline(&parse_str(source, None), source, "pkg");
        let names: Vec<&str> = outline
            .all_symbols()
            .map(|s| s.qualified_name.as_str())
            .collect();
        assert_eq!(
            names,
            ["pkg.A", "pkg.A.m", "pkg.A.m.inner", "pkg.A.n", "pkg.f"]
        );
    }

    /// Every range in the outline lies inside the source and on character boundaries.
    fn assert_ranges_valid(outline: &Outline, source: &str) {
        let check = |range: &Range<usize>| {
            assert!(
                range.start <= range.end && range.end <= source.len(),
                "{range:?}"
            );
            assert!(source.get(range.clone()).is_some(), "{range:?}");
        };
        outline.syntax_errors.iter().for_each(check);
        if let Some(d) = &outline.docstring {
            check(&d.range);
        }
        let mut stack: Vec<&Symbol> = outline.symbols.iter().collect();
        while let Some(symbol) = stack.pop() {
            check(&symbol.range);
            check(&symbol.name_range);
            check(&symbol.body_range);
            if let Some(d) = &symbol.docstring {
                check(&d.range);
            }
            for p in symbol.signature.iter().flat_map(|s| &s.parameters) {
                check(&p.range);
            }
            stack.extend(&symbol.children);
        }
    }

    // Symbols, kinds and nesting.

    #[test]
    fn lists_module_level_classes_and_functions_in_order() {
        let source = "\
import os

def first():
    pass

class Second:
    pass

x = 1

async def third():
    pass
";
        let outline = outline_of(source);
        assert_eq!(names(&outline.symbols), ["first", "Second", "third"]);
        assert_eq!(outline.symbols[0].kind, SymbolKind::Function);
        assert_eq!(outline.symbols[1].kind, SymbolKind::Class);
        assert_eq!(outline.symbols[2].kind, SymbolKind::Function);
        assert!(outline.syntax_errors.is_empty());
        assert_eq!(outline.module, "");
    }

    #[test]
    fn defs_in_class_bodies_are_methods_and_defs_in_functions_are_nested_functions() {
        let source = "\
class Cart:
    def add(self, item):
        def check(x):
            return x
        return check(item)

    class Line:
        def total(self):
            pass

def outer():
    def inner():
        class Local:
            def method(self):
                pass
    return inner
";
        let outline = outline_of(source);
        assert_eq!(names(&outline.symbols), ["Cart", "outer"]);
        assert_eq!(names(&find(&outline, "Cart").children), ["add", "Line"]);
        assert_eq!(find(&outline, "Cart.add").kind, SymbolKind::Method);
        assert_eq!(find(&outline, "Cart.add.check").kind, SymbolKind::Function);
        assert_eq!(find(&outline, "Cart.Line").kind, SymbolKind::Class);
        assert_eq!(find(&outline, "Cart.Line.total").kind, SymbolKind::Method);
        assert_eq!(find(&outline, "outer.inner").kind, SymbolKind::Function);
        assert_eq!(find(&outline, "outer.inner.Local").kind, SymbolKind::Class);
        assert_eq!(
            find(&outline, "outer.inner.Local.method").kind,
            SymbolKind::Method
        );
    }

    #[test]
    fn qualified_names_follow_the_module_and_the_nesting() {
        let source = "\
class Cart:
    def add(self):
        pass

def outer():
    def inner():
        pass
";
        let with_module = outline_in(source, "shop.cart");
        assert_eq!(with_module.module, "shop.cart");
        assert_eq!(find(&with_module, "Cart").qualified_name, "shop.cart.Cart");
        assert_eq!(
            find(&with_module, "Cart.add").qualified_name,
            "shop.cart.Cart.add"
        );
        assert_eq!(
            find(&with_module, "outer.inner").qualified_name,
            "shop.cart.outer.inner"
        );

        let without_module = outline_of(source);
        assert_eq!(find(&without_module, "Cart").qualified_name, "Cart");
        assert_eq!(find(&without_module, "Cart.add").qualified_name, "Cart.add");
        assert_eq!(
            find(&without_module, "outer.inner").qualified_name,
            "outer.inner"
        );
    }

    #[test]
    fn ranges_cover_the_definition_name_and_body() {
        let source = "def f(x):\n    y = x\n    return y\n\nz = 1\n";
        let outline = outline_of(source);
        let f = find(&outline, "f");
        assert_eq!(
            slice(source, &f.range),
            "def f(x):\n    y = x\n    return y"
        );
        assert_eq!(slice(source, &f.name_range), "f");
        assert_eq!(slice(source, &f.body_range), "y = x\n    return y");
    }

    #[test]
    fn async_functions_and_methods() {
        let source = "\
async def fetch(url):
    pass

class Client:
    async def get(self):
        pass

    def close(self):
        pass

    @retry
    async def post(self):
        pass
";
        let outline = outline_of(source);
        assert!(find(&outline, "fetch").is_async);
        assert_eq!(find(&outline, "Client.get").kind, SymbolKind::Method);
        assert!(find(&outline, "Client.get").is_async);
        assert!(!find(&outline, "Client.close").is_async);
        assert!(!find(&outline, "Client").is_async);
        let post = find(&outline, "Client.post");
        assert!(post.is_async);
        assert_eq!(post.decorators, ["retry"]);
        assert!(slice(source, &post.range).starts_with("@retry\n    async def post"));
    }

    // Decorators.

    #[test]
    fn decorators_simple_with_arguments_dotted_and_stacked() {
        let source = "\
@staticmethod
def simple():
    pass

@functools.lru_cache(maxsize=2)
def with_args():
    pass

@app.route(\"/items\", methods=[\"GET\"])  # a comment
@login_required
@a.b.c
def stacked():
    pass

class Model:
    @property
    def name(self):
        return 1

    @name.setter
    def name(self, value):
        pass
";
        let outline = outline_of(source);
        assert_eq!(find(&outline, "simple").decorators, ["staticmethod"]);
        assert_eq!(
            find(&outline, "with_args").decorators,
            ["functools.lru_cache(maxsize=2)"]
        );
        let stacked = find(&outline, "stacked");
        assert_eq!(
            stacked.decorators,
            [
                "app.route(\"/items\", methods=[\"GET\"])",
                "login_required",
                "a.b.c"
            ]
        );
        assert!(slice(source, &stacked.range).starts_with("@app.route("));
        assert!(slice(source, &stacked.range).ends_with("pass"));
        assert_eq!(slice(source, &stacked.name_range), "stacked");

        let model = find(&outline, "Model");
        assert_eq!(names(&model.children), ["name", "name"]);
        assert_eq!(model.children[0].decorators, ["property"]);
        assert_eq!(model.children[1].decorators, ["name.setter"]);
        assert!(model.children.iter().all(|m| m.kind == SymbolKind::Method));
    }

    #[test]
    fn decorated_classes() {
        let source = "@dataclass(frozen=True)\nclass Point:\n    x: int\n";
        let outline = outline_of(source);
        let point = find(&outline, "Point");
        assert_eq!(point.decorators, ["dataclass(frozen=True)"]);
        assert_eq!(point.range.start, 0);
        assert!(point.children.is_empty());
    }

    #[test]
    fn undecorated_definitions_have_no_decorators() {
        let outline = outline_of("def f():\n    pass\n");
        assert!(find(&outline, "f").decorators.is_empty());
    }

    // One-line definitions.

    #[test]
    fn one_line_definitions() {
        let source = "def f(): return 1\nclass E(Exception): pass\ndef g(x): x += 1; return x\n";
        let outline = outline_of(source);
        let f = find(&outline, "f");
        assert_eq!(slice(source, &f.body_range), "return 1");
        assert_eq!(slice(source, &f.range), "def f(): return 1");
        assert!(!f.is_stub);

        let e = find(&outline, "E");
        assert_eq!(e.bases, ["Exception"]);
        assert_eq!(slice(source, &e.body_range), "pass");
        assert!(e.is_stub);

        let g = find(&outline, "g");
        assert!(slice(source, &g.body_range).starts_with("x += 1; return x"));
    }

    // Signatures.

    #[test]
    fn every_parameter_kind() {
        let source = "def f(a, b=1, /, c: int = 2, *, d, e: str = \"x\", **kw): pass\n";
        let outline = outline_of(source);
        assert_eq!(
            params(find(&outline, "f")),
            [
                ("a", PositionalOnly, None, None),
                ("b", PositionalOnly, None, Some("1")),
                ("c", Normal, Some("int"), Some("2")),
                ("d", KeywordOnly, None, None),
                ("e", KeywordOnly, Some("str"), Some("\"x\"")),
                ("kw", VarKeyword, None, None),
            ]
        );
    }

    #[test]
    fn star_args_make_later_parameters_keyword_only_and_may_be_typed() {
        let source = "\
def f(a, *args, b, c=3, **kwargs): pass
def g(*args: int, **kw: str): pass
def h(x: list[int], /, *, y: dict[str, int] | None = None): pass
";
        let outline = outline_of(source);
        assert_eq!(
            params(find(&outline, "f")),
            [
                ("a", Normal, None, None),
                ("args", VarPositional, None, None),
                ("b", KeywordOnly, None, None),
                ("c", KeywordOnly, None, Some("3")),
                ("kwargs", VarKeyword, None, None),
            ]
        );
        assert_eq!(
            params(find(&outline, "g")),
            [
                ("args", VarPositional, Some("int"), None),
                ("kw", VarKeyword, Some("str"), None),
            ]
        );
        assert_eq!(
            params(find(&outline, "h")),
            [
                ("x", PositionalOnly, Some("list[int]"), None),
                (
                    "y",
                    KeywordOnly,
                    Some("dict[str, int] | None"),
                    Some("None")
                ),
            ]
        );
    }

    #[test]
    fn parameter_ranges_cover_the_whole_parameter() {
        let source = "def f(self, x: int = 3, *rest, **kw): pass\n";
        let outline = outline_of(source);
        let signature = find(&outline, "f").signature.as_ref().expect("a signature");
        let texts: Vec<&str> = signature
            .parameters
            .iter()
            .map(|p| slice(source, &p.range))
            .collect();
        assert_eq!(texts, ["self", "x: int = 3", "*rest", "**kw"]);
    }

    #[test]
    fn self_and_cls_are_kept_as_ordinary_parameters() {
        let source = "\
class A:
    def m(self, x): pass
    @classmethod
    def c(cls): pass
    @staticmethod
    def s(): pass
";
        let outline = outline_of(source);
        assert_eq!(
            params(find(&outline, "A.m")),
            [("self", Normal, None, None), ("x", Normal, None, None)]
        );
        assert_eq!(params(find(&outline, "A.c")), [("cls", Normal, None, None)]);
        assert!(params(find(&outline, "A.s")).is_empty());
    }

    #[test]
    fn multi_line_signatures_with_comments_and_a_trailing_comma() {
        let source = "\
def connect(
    host: str,  # where to connect
    port: int = 5432,
    # the rest are optional
    *,
    timeout: float = 1.5,
    **options,
) -> Connection:
    pass
";
        let outline = outline_of(source);
        let connect = find(&outline, "connect");
        assert_eq!(
            params(connect),
            [
                ("host", Normal, Some("str"), None),
                ("port", Normal, Some("int"), Some("5432")),
                ("timeout", KeywordOnly, Some("float"), Some("1.5")),
                ("options", VarKeyword, None, None),
            ]
        );
        assert_eq!(returns(connect), Some("Connection"));
        assert!(outline.syntax_errors.is_empty());
    }

    #[test]
    fn return_annotations() {
        let source = "\
def a() -> int: pass
def b() -> dict[str, list[int]] | None: pass
def c(): pass
async def d() -> \"Forward\": pass
";
        let outline = outline_of(source);
        assert_eq!(returns(find(&outline, "a")), Some("int"));
        assert_eq!(
            returns(find(&outline, "b")),
            Some("dict[str, list[int]] | None")
        );
        assert_eq!(returns(find(&outline, "c")), None);
        assert_eq!(returns(find(&outline, "d")), Some("\"Forward\""));
    }

    #[test]
    fn classes_have_no_signature_and_functions_without_parameters_have_an_empty_one() {
        let outline = outline_of("class A: pass\ndef f(): pass\n");
        assert_eq!(find(&outline, "A").signature, None);
        assert_eq!(
            find(&outline, "f").signature,
            Some(Signature {
                parameters: Vec::new(),
                returns: None
            })
        );
    }

    // Lambdas.

    #[test]
    fn a_lambda_default_is_kept_as_text() {
        let outline = outline_of("def f(key=lambda x: x, *, cmp=lambda a, b: a < b): pass\n");
        assert_eq!(
            params(find(&outline, "f")),
            [
                ("key", Normal, None, Some("lambda x: x")),
                ("cmp", KeywordOnly, None, Some("lambda a, b: a < b")),
            ]
        );
    }

    #[test]
    fn lambdas_never_produce_symbols() {
        let source = "\
sq = lambda x: x * x

class A:
    key = lambda self: 1

    def m(self):
        f = lambda y: y
        return sorted([], key=lambda z: z)

def g():
    return lambda: None
";
        let outline = outline_of(source);
        assert_eq!(names(&outline.symbols), ["A", "g"]);
        assert_eq!(names(&find(&outline, "A").children), ["m"]);
        assert!(find(&outline, "A.m").children.is_empty());
        assert!(find(&outline, "g").children.is_empty());
    }

    // Class bases.

    #[test]
    fn class_bases_and_keywords_as_written() {
        let source = "\
class A(Base, Generic[T], metaclass=ABCMeta): pass
class B: pass
class C(): pass
class D(
    Base,  # comment
    mixins.Json,
): pass
";
        let outline = outline_of(source);
        assert_eq!(
            find(&outline, "A").bases,
            ["Base", "Generic[T]", "metaclass=ABCMeta"]
        );
        assert!(find(&outline, "B").bases.is_empty());
        assert!(find(&outline, "C").bases.is_empty());
        assert_eq!(find(&outline, "D").bases, ["Base", "mixins.Json"]);
        assert!(find(&outline, "A").signature.is_none());
    }

    // Docstrings.

    #[test]
    fn docstrings_in_every_quote_style() {
        let source = "\
def triple():
    \"\"\"Triple double.\"\"\"

def single_triple():
    '''Triple single.'''

def double():
    \"Double.\"

def single():
    'Single.'

def raw():
    r\"\"\"Raw \\d+.\"\"\"

def unicode():
    u'Unicode.'

def upper_raw():
    R'''Upper raw.'''
";
        let outline = outline_of(source);
        assert_eq!(doc(find(&outline, "triple")), Some("Triple double."));
        assert_eq!(doc(find(&outline, "single_triple")), Some("Triple single."));
        assert_eq!(doc(find(&outline, "double")), Some("Double."));
        assert_eq!(doc(find(&outline, "single")), Some("Single."));
        assert_eq!(doc(find(&outline, "raw")), Some("Raw \\d+."));
        assert_eq!(doc(find(&outline, "unicode")), Some("Unicode."));
        assert_eq!(doc(find(&outline, "upper_raw")), Some("Upper raw."));
    }

    #[test]
    fn docstring_range_covers_the_literal_with_prefix_and_quotes() {
        let source = "def f():\n    r'''Doc.'''\n    return 1\n";
        let outline = outline_of(source);
        let docstring = find(&outline, "f").docstring.as_ref().expect("a docstring");
        assert_eq!(slice(source, &docstring.range), "r'''Doc.'''");
    }

    #[test]
    fn multi_line_docstrings_are_cleaned_like_cleandoc() {
        let source = "\
class Cart:
    \"\"\"A shopping cart.

    Holds items:
        - apples
        - pears

    \"\"\"

    def add(self):
        \"\"\"
        Adds an item.
          Indented more.
        \"\"\"
";
        let outline = outline_of(source);
        assert_eq!(
            doc(find(&outline, "Cart")),
            Some("A shopping cart.\n\nHolds items:\n    - apples\n    - pears")
        );
        assert_eq!(
            doc(find(&outline, "Cart.add")),
            Some("Adds an item.\n  Indented more.")
        );
    }

    #[test]
    fn docstring_tabs_expand_to_eight_columns() {
        let source = "def f():\n\t\"\"\"First.\n\n\tSecond.\n\t    Third.\n\t\"\"\"\n";
        let outline = outline_of(source);
        assert_eq!(
            doc(find(&outline, "f")),
            Some("First.\n\nSecond.\n    Third.")
        );
    }

    #[test]
    fn escape_sequences_are_kept_as_written() {
        let outline = outline_of("def f():\n    \"\"\"Tab\\there\\n.\"\"\"\n");
        assert_eq!(doc(find(&outline, "f")), Some("Tab\\there\\n."));
    }

    #[test]
    fn concatenated_strings_are_joined_into_one_docstring() {
        let source = "def f():\n    \"Part one, \" 'part two.'\n    pass\n";
        let outline = outline_of(source);
        let f = find(&outline, "f");
        assert_eq!(doc(f), Some("Part one, part two."));
        assert_eq!(
            slice(source, &f.docstring.as_ref().expect("a docstring").range),
            "\"Part one, \" 'part two.'"
        );
        assert!(f.is_stub);
    }

    #[test]
    fn f_strings_bytes_and_non_leading_strings_are_not_docstrings() {
        let source = "\
def f_string():
    f\"\"\"Not {a} docstring.\"\"\"

def bytes_literal():
    b\"\"\"Not a docstring.\"\"\"

def raw_bytes():
    rb'Not a docstring.'

def mixed():
    'Part' f'{x}'

def late():
    x = 1
    \"\"\"Not a docstring.\"\"\"

def call():
    \"\"\"Not a docstring.\"\"\".strip()

def nothing():
    pass
";
        let outline = outline_of(source);
        for name in [
            "f_string",
            "bytes_literal",
            "raw_bytes",
            "mixed",
            "late",
            "call",
            "nothing",
        ] {
            assert_eq!(doc(find(&outline, name)), None, "{name}");
        }
    }

    #[test]
    fn docstring_followed_by_a_comment() {
        let source = "def f():\n    \"\"\"Doc.\"\"\"  # note\n    pass\n";
        let outline = outline_of(source);
        assert_eq!(doc(find(&outline, "f")), Some("Doc."));
        assert!(find(&outline, "f").is_stub);
    }

    #[test]
    fn module_docstring_may_follow_comments() {
        let source = "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n\"\"\"The module.\n\n   Details.\n\"\"\"\nimport os\n";
        let outline = outline_of(source);
        let docstring = outline.docstring.as_ref().expect("a module docstring");
        assert_eq!(docstring.text, "The module.\n\nDetails.");
        assert!(slice(source, &docstring.range).starts_with("\"\"\"The module."));
    }

    #[test]
    fn no_module_docstring_when_code_comes_first() {
        assert_eq!(outline_of("import os\n\"\"\"Late.\"\"\"\n").docstring, None);
        assert_eq!(outline_of("").docstring, None);
        assert_eq!(outline_of("# only a comment\n").docstring, None);
        assert_eq!(outline_of("def f():\n    \"\"\"F.\"\"\"\n").docstring, None);
    }

    #[test]
    fn clean_docstring_matches_cleandoc() {
        assert_eq!(clean_docstring("Summary."), "Summary.");
        assert_eq!(clean_docstring("   Summary.   "), "Summary.   ");
        assert_eq!(
            clean_docstring("\n\n  Summary.\n  Body.\n\n"),
            "Summary.\nBody."
        );
        assert_eq!(
            clean_docstring("Summary.\n    a\n      b\n    "),
            "Summary.\na\n  b"
        );
        assert_eq!(clean_docstring("A\n\tB"), "A\nB");
        assert_eq!(clean_docstring("A\r\n    B\r\n"), "A\nB");
        assert_eq!(clean_docstring(""), "");
        assert_eq!(clean_docstring("   \n  \n"), "");
        assert_eq!(clean_docstring("é\n  ü😀\n   ß"), "é\nü😀\n ß");
    }

    // Stubs.

    #[test]
    fn stub_bodies() {
        let source = "\
def passes():
    pass

def ellipsis(): ...

def raises():
    raise NotImplementedError

def raises_call():
    raise NotImplementedError(\"subclasses implement this\")

def doc_only():
    \"\"\"Only a docstring.\"\"\"

def doc_and_pass():
    \"\"\"Docstring.\"\"\"
    pass

def doc_and_ellipsis():
    '''Docstring.'''
    # a comment
    ...

class Protocol:
    def method(self) -> int: ...
";
        let outline = outline_of(source);
        for name in [
            "passes",
            "ellipsis",
            "raises",
            "raises_call",
            "doc_only",
            "doc_and_pass",
            "doc_and_ellipsis",
            "Protocol.method",
        ] {
            assert!(find(&outline, name).is_stub, "{name} is a stub");
        }
        // A class whose body is a method is not a stub.
        assert!(!find(&outline, "Protocol").is_stub);
    }

    #[test]
    fn bodies_with_real_statements_are_not_stubs() {
        let source = "\
def returns():
    return 1

def doc_and_return():
    \"\"\"Docstring.\"\"\"
    return 1

def other_error():
    raise ValueError

def chained():
    raise NotImplementedError from None

def pass_then_code():
    pass
    x = 1

def two_docstrings():
    \"\"\"One.\"\"\"
    \"\"\"Two.\"\"\"

def f_string_only():
    f\"{x}\"

def attribute_error():
    raise errors.NotImplementedError
";
        let outline = outline_of(source);
        for symbol in &outline.symbols {
            assert!(!symbol.is_stub, "{} is not a stub", symbol.name);
        }
        assert_eq!(outline.symbols.len(), 8);
    }

    // Line endings and non-ASCII text.

    #[test]
    fn crlf_source() {
        let source = "\"\"\"Module.\r\n\r\n    More.\r\n\"\"\"\r\nclass A(B):\r\n    \"\"\"Doc.\r\n\r\n    Body.\r\n    \"\"\"\r\n\r\n    def m(self, x: int = 1) -> str:\r\n        return x\r\n";
        let outline = outline_of(source);
        assert!(outline.syntax_errors.is_empty());
        assert_eq!(
            outline.docstring.as_ref().map(|d| d.text.as_str()),
            Some("Module.\n\nMore.")
        );
        let a = find(&outline, "A");
        assert_eq!(doc(a), Some("Doc.\n\nBody."));
        assert_eq!(a.bases, ["B"]);
        let m = find(&outline, "A.m");
        assert_eq!(m.kind, SymbolKind::Method);
        assert_eq!(slice(source, &m.name_range), "m");
        assert_eq!(returns(m), Some("str"));
        assert_eq!(slice(source, &m.body_range), "return x");
        assert_ranges_valid(&outline, source);
    }

    #[test]
    fn unicode_in_strings_and_identifiers() {
        let source = "\
\"\"\"模块 😀.\"\"\"

class Café:
    \"\"\"Ünïcödé 文档 🎉.\"\"\"

    def 计算(self, 名字: str = \"😀\") -> \"値\":
        return 名字

def émoji(x=\"🐍🐍\"):
    pass
";
        let outline = outline_of(source);
        assert_eq!(
            outline.docstring.as_ref().map(|d| d.text.as_str()),
            Some("模块 😀.")
        );
        let cafe = find(&outline, "Café");
        assert_eq!(doc(cafe), Some("Ünïcödé 文档 🎉."));
        assert_eq!(cafe.qualified_name, "Café");
        let method = find(&outline, "Café.计算");
        assert_eq!(method.qualified_name, "Café.计算");
        assert_eq!(slice(source, &method.name_range), "计算");
        assert_eq!(
            params(method),
            [
                ("self", ParameterKind::Normal, None, None),
                ("名字", ParameterKind::Normal, Some("str"), Some("\"😀\"")),
            ]
        );
        assert_eq!(returns(method), Some("\"値\""));
        assert_eq!(
            params(find(&outline, "émoji")),
            [("x", ParameterKind::Normal, None, Some("\"🐍🐍\""))]
        );
        assert_ranges_valid(&outline, source);
    }

    // Definitions inside compound statements.

    #[test]
    fn definitions_in_conditional_and_guarded_blocks_stay_at_their_level() {
        let source = "\
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from a import B

    class Checked:
        pass
else:
    def fallback():
        pass

try:
    from fast import speedup
except ImportError:
    def speedup(x):
        return x
finally:
    def cleanup():
        pass

with open('f') as f:
    def in_with():
        pass

for i in range(3):
    def in_for():
        pass

while False:
    def in_while():
        pass

class Config:
    if sys.version_info >= (3, 11):
        def modern(self):
            pass
    elif True:
        def middle(self):
            pass
    try:
        import tomllib
    except ImportError:
        def fallback(self):
            pass

def function():
    if x:
        def nested():
            pass
";
        let outline = outline_of(source);
        assert_eq!(
            names(&outline.symbols),
            [
                "Checked", "fallback", "speedup", "cleanup", "in_with", "in_for", "in_while",
                "Config", "function"
            ]
        );
        assert_eq!(
            names(&find(&outline, "Config").children),
            ["modern", "middle", "fallback"]
        );
        assert!(find(&outline, "Config")
            .children
            .iter()
            .all(|m| m.kind == SymbolKind::Method));
        assert_eq!(
            find(&outline, "Config.fallback").qualified_name,
            "Config.fallback"
        );
        assert_eq!(find(&outline, "function.nested").kind, SymbolKind::Function);
    }

    #[test]
    fn definitions_in_match_cases() {
        let source = "\
match command:
    case \"go\":
        def handler():
            pass
    case _:
        class Other:
            pass
";
        let outline = outline_of(source);
        assert_eq!(names(&outline.symbols), ["handler", "Other"]);
    }

    // Syntax errors.

    #[test]
    fn a_broken_definition_does_not_hide_the_next_one() {
        let source = "def f(:\n    pass\n\ndef g(): pass\n";
        let outline = outline_of(source);
        assert!(!outline.syntax_errors.is_empty());
        assert!(outline.symbols.iter().any(|s| s.name == "g"));
        let g = find(&outline, "g");
        assert!(g.is_stub);
        assert_eq!(g.kind, SymbolKind::Function);
        assert_ranges_valid(&outline, source);
    }

    #[test]
    fn an_unterminated_string() {
        let source = "def f():\n    \"\"\"Never closed.\n    return 1\n\ndef g():\n    pass\n";
        let outline = outline_of(source);
        assert!(!outline.syntax_errors.is_empty());
        assert_ranges_valid(&outline, source);

        let source = "x = 'abc\ndef g(): pass\n";
        let outline = outline_of(source);
        assert!(!outline.syntax_errors.is_empty());
        assert!(outline.symbols.iter().any(|s| s.name == "g"));
        assert_ranges_valid(&outline, source);
    }

    #[test]
    fn a_file_of_garbage() {
        for source in [
            "}}}{{ ))) garbage ((( @@@ \n",
            "@@@@",
            "def",
            "class",
            "def (",
            "@decorator\n",
            "\u{0}\u{1}\u{feff}😀",
            "\"\"\"",
        ] {
            let outline = outline_of(source);
            assert!(!outline.syntax_errors.is_empty(), "{source:?}");
            assert!(outline.symbols.is_empty(), "{source:?}");
            assert_ranges_valid(&outline, source);
        }

        // What can be recovered still is.
        let source = "class A(:\n  def\n";
        let outline = outline_of(source);
        assert!(!outline.syntax_errors.is_empty());
        assert_eq!(names(&outline.symbols), ["A"]);
        assert_ranges_valid(&outline, source);
    }

    #[test]
    fn definitions_inside_error_nodes_are_still_found() {
        let source = "\
class A:
    def ok(self):
        pass
    x = = 1
    def after(self):
        pass
)
def tail():
    pass
";
        let outline = outline_of(source);
        assert!(!outline.syntax_errors.is_empty());
        assert_eq!(names(&outline.symbols), ["A", "tail"]);
        assert_eq!(names(&find(&outline, "A").children), ["ok", "after"]);
        assert_ranges_valid(&outline, source);

        // A stray clause makes tree-sitter wrap the definition itself in an `ERROR` node.
        for source in [
            "else:\n    def f(x): pass\n",
            "except:\n    def f(x): pass\n",
        ] {
            let outline = outline_of(source);
            assert!(!outline.syntax_errors.is_empty(), "{source:?}");
            assert_eq!(names(&outline.symbols), ["f"], "{source:?}");
            assert_eq!(
                params(find(&outline, "f")),
                [("x", ParameterKind::Normal, None, None)]
            );
        }
    }

    #[test]
    fn every_prefix_of_a_file_outlines_without_panicking() {
        let source = "\
\"\"\"Module 😀.\"\"\"
import os

@decorator(arg=1)
class Cart(Base, metaclass=M):
    '''Cart.

    Body.
    '''
    def add(self, item: 'Item', /, *args: int, key=lambda x: x, **kw) -> None:
        def inner(): return 1
        return inner()

    async def total(self) -> float: ...

if TYPE_CHECKING:
    def checked(): pass
";
        let mut end = 0;
        while end <= source.len() {
            let prefix = &source[..end];
            let outline = outline_in(prefix, "m");
            assert_ranges_valid(&outline, prefix);
            end += source[end..].chars().next().map_or(1, char::len_utf8);
        }
    }

    // Depth and size.

    #[test]
    fn deeply_nested_parentheses_do_not_overflow_the_stack() {
        let depth = 5_000;
        let source = format!(
            "x = {}1{}\ndef after(): pass\n",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        let outline = outline_of(&source);
        assert_eq!(names(&outline.symbols), ["after"]);

        let unbalanced = format!("def f():\n    return {}\n", "(".repeat(depth));
        let outline = outline_of(&unbalanced);
        assert!(!outline.syntax_errors.is_empty());
        assert_ranges_valid(&outline, &unbalanced);
    }

    #[test]
    fn deeply_nested_blocks_do_not_overflow_the_stack() {
        let depth = 5_000;
        let mut source = String::new();
        for level in 0..depth {
            source.push_str(&" ".repeat(level));
            source.push_str("if x:\n");
        }
        source.push_str(&" ".repeat(depth));
        source.push_str("def deep(): pass\n");
        source.push_str("def top(): pass\n");
        let outline = outline_of(&source);
        assert_eq!(names(&outline.symbols), ["deep", "top"]);
    }

    #[test]
    fn nesting_of_definitions_is_capped() {
        let depth = MAX_SYMBOL_DEPTH + 50;
        let mut source = String::new();
        for level in 0..depth {
            source.push_str(&" ".repeat(level));
            source.push_str(&format!("def f{level}():\n"));
        }
        source.push_str(&" ".repeat(depth));
        source.push_str("pass\n");
        let outline = outline_of(&source);
        let mut levels = 0;
        let mut symbols = &outline.symbols;
        while let Some(symbol) = symbols.first() {
            assert_eq!(symbol.name, format!("f{levels}"));
            levels += 1;
            symbols = &symbol.children;
        }
        assert_eq!(levels, MAX_SYMBOL_DEPTH);
    }

    #[test]
    fn a_large_file() {
        let mut source = String::from("\"\"\"Big module.\"\"\"\n");
        for i in 0..500 {
            source.push_str(&format!(
                "@decorator\nclass C{i}(Base):\n    \"\"\"Class {i}.\"\"\"\n\n    def m(self, a: int, *, b=2) -> int:\n        return a + b\n\n"
            ));
        }
        let outline = outline_of(&source);
        assert_eq!(outline.symbols.len(), 500);
        assert!(outline.symbols.iter().all(|c| c.children.len() == 1));
        assert_eq!(find(&outline, "C499.m").qualified_name, "C499.m");
        assert_eq!(doc(find(&outline, "C250")), Some("Class 250."));
    }

    /// A module shaped like real code: classes with decorated, documented methods, module
    /// functions, comments and control flow, about `lines` lines long.
    fn realistic_module(lines: usize) -> String {
        let mut source = String::from("\"\"\"A generated module.\"\"\"\n\nimport os\n\n");
        let mut count = source.matches('\n').count();
        let mut i = 0;
        while count < lines {
            let chunk = format!(
                "\
# Section {i}.
@dataclass(frozen=True)
class Model{i}(Base, Generic[T], metaclass=Meta):
    \"\"\"Model number {i}.

    It has a longer description.
    \"\"\"

    name: str = \"model\"

    @property
    def value(self) -> int:
        \"\"\"The value.\"\"\"
        return self._value

    async def fetch(self, url: str, /, *args: int, timeout: float = 1.0, **kw) -> bytes:
        if not url:
            raise ValueError(\"no url\")
        for attempt in range(3):
            try:
                return await get(url, timeout=timeout)
            except OSError:
                continue
        raise NotImplementedError

    def stub(self): ...


def helper_{i}(items, key=lambda item: item.name):
    def inner(x):
        return key(x)
    return sorted(items, key=inner)


"
            );
            count += chunk.matches('\n').count();
            source.push_str(&chunk);
            i += 1;
        }
        source
    }

    /// Speed is measured by `tandem-bench editing`, not here; this checks that a large module
    /// is outlined completely.
    #[test]
    fn a_five_thousand_line_module_is_outlined_completely() {
        let source = realistic_module(5_000);
        let tree = parse_str(&source, None);
        let outline = outline(&tree, &source, "pkg.generated");
        let helpers = source.matches("\ndef helper_").count();
        let top_level_functions = outline
            .symbols
            .iter()
            .filter(|s| s.kind == SymbolKind::Function)
            .count();
        assert!(helpers > 50);
        assert_eq!(top_level_functions, helpers);
        assert!(outline.syntax_errors.is_empty());
    }
}
