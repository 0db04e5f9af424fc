//! The names a module uses, as opposed to the names it defines, read from a tree-sitter tree.
//!
//! A reference is one identifier in a position where Python looks a name up: a bare name in
//! an expression, the attribute after a dot, a name imported from a module, a decorator, a
//! base class or a name in an annotation. Names in binding positions (the name after `def` or
//! `class`, parameters, assignment and loop targets, `as` aliases, match captures, type
//! parameters) are definitions and are left out.
//!
//! Nothing is resolved here: `obj.save()` yields a reference to `save` without knowing which
//! `save` it is. Ranges are byte ranges into the source the tree was parsed from.

use crate::analysis::parse::{KindStr, KindTable};
use std::num::NonZeroU16;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use tree_sitter::{Language, Tree};

use crate::analysis::flat::{FNode as Node, FlatTree};

/// How a name is used where it is referenced.
///
/// A name after a dot is always an `Attribute`, whatever the expression it is part of does
/// (`save` in `obj.save()`, `route` in `@app.route("/")`); the other kinds are for names
/// Python looks up in scope, which is what tells a consumer whether an import or a local
/// definition can be what the name means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    /// A bare name whose value is read: `x` in `print(x)`, `obj` in `obj.attr`.
    Name,
    /// A bare name that is called: `f` in `f(x)`.
    Call,
    /// The name after a dot: `attr` in `obj.attr`, `save` in `obj.save()`, `Model` in
    /// `class C(models.Model)`, `Optional` in `x: typing.Optional[int]`.
    Attribute,
    /// A module named by an import: `a.b` in `import a.b` or `from a.b import c`, `..pkg` in
    /// `from ..pkg import c`. The name is the whole dotted path, leading dots included.
    Module,
    /// A name imported from a module: `c` in `from a.b import c` or `from a.b import c as d`,
    /// and `*` in `from a.b import *`, which imports every public name.
    Import,
    /// A bare name used as a decorator: `property` in `@property`, `cache` in
    /// `@cache(maxsize=2)`.
    Decorator,
    /// A bare name used as a base class: `Base` in `class C(Base)`, `Generic` in
    /// `class C(Generic[T])`.
    BaseClass,
    /// A bare name in a type annotation, including names inside string annotations:
    /// `Item` in `def f(x: "list[Item]") -> Item`.
    Annotation,
}

/// One use of a name, as `References` hands it out: the name is borrowed from the module's
/// text (or, for a `Module` reference written with whitespace, from the references).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference<'a> {
    pub name: &'a str,
    pub range: Range<usize>,
    pub kind: RefKind,
}

/// The references of one module, in document order. Compact because a project has millions
/// of them: 8 bytes each (see `Item`), the name being read from the module's text, which the
/// references share rather than copy.
#[derive(Clone, Default)]
pub struct References {
    text: Arc<str>,
    items: ReferenceItems,
}

/// The references of a module without its text, as the index keeps them (it keeps the text
/// packed, see `stored_text`): `with_text` makes them `References` again. Cloning shares.
#[derive(Clone, Default)]
pub struct ReferenceItems {
    items: Arc<[Item]>,
    /// The names of the `Module` references whose source text is not the name (`a . b`),
    /// by item index, sorted.
    respelled: Arc<[(u32, Box<str>)]>,
}

impl std::fmt::Debug for ReferenceItems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReferenceItems")
            .field("len", &self.len())
            .finish()
    }
}

impl ReferenceItems {
    /// The references, reading their names from `text`, which must be the text they were
    /// found in (a name outside it reads as empty).
    pub fn with_text(&self, text: Arc<str>) -> References {
        References {
            text,
            items: self.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A reference as stored: where its name starts, and its length and kind packed in one word
/// (length above `KIND_BITS` bits of kind): 8 bytes rather than 12 (a `u32` range and the
/// kind). The standard library's analysed state went from 204 to 199 MiB with it (the
/// `analysed:` line of `TANDEM_BENCH_MEMORY_STAGES=1 tandem-bench index-memory-child DIR DIR`,
/// two interleaved runs each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Item {
    start: u32,
    len_kind: u32,
}

const KIND_BITS: u32 = 3;

/// Every kind, at the index of its discriminant (`RefKind as u32`).
const KINDS: [RefKind; 1 << KIND_BITS] = [
    RefKind::Name,
    RefKind::Call,
    RefKind::Attribute,
    RefKind::Module,
    RefKind::Import,
    RefKind::Decorator,
    RefKind::BaseClass,
    RefKind::Annotation,
];

impl Item {
    /// None for a name of `2^29` bytes or more, which no `Item` can hold.
    fn new(start: u32, end: u32, kind: RefKind) -> Option<Item> {
        let len = end.checked_sub(start)?;
        (len < 1 << (32 - KIND_BITS)).then_some(Item {
            start,
            len_kind: len << KIND_BITS | kind as u32,
        })
    }

    fn range(self) -> Range<usize> {
        let start = self.start as usize;
        start..start + (self.len_kind >> KIND_BITS) as usize
    }

    fn kind(self) -> RefKind {
        KINDS[(self.len_kind & ((1 << KIND_BITS) - 1)) as usize]
    }
}

impl References {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The reference at `index` (in document order), if there is one.
    pub fn get(&self, index: usize) -> Option<Reference<'_>> {
        let items = &self.items;
        let item = items.items.get(index)?;
        let (range, kind) = (item.range(), item.kind());
        let respelled = &items.respelled;
        let name = if kind == RefKind::Module && !respelled.is_empty() {
            match respelled.binary_search_by_key(&(index as u32), |(i, _)| *i) {
                Ok(at) => &*respelled[at].1,
                Err(_) => self.text.get(range.clone()).unwrap_or(""),
            }
        } else {
            self.text.get(range.clone()).unwrap_or("")
        };
        Some(Reference { name, range, kind })
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Reference<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i).expect("an index below len"))
    }

    /// The text the ranges point into.
    pub fn text(&self) -> &Arc<str> {
        &self.text
    }

    /// The references without their text (sharing, not copying, them).
    pub fn items(&self) -> &ReferenceItems {
        &self.items
    }
}

impl<'a> IntoIterator for &'a References {
    type Item = Reference<'a>;
    type IntoIter = Box<dyn ExactSizeIterator<Item = Reference<'a>> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl std::fmt::Debug for References {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for References {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for References {}

impl Serialize for References {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// The references of the module `tree` was parsed from, in document order.
pub fn references(tree: &Tree, source: &str) -> References {
    references_in(tree, &Arc::from(source))
}

/// Like `references`, sharing `text` (the source `tree` was parsed from) rather than copying it.
pub fn references_in(tree: &Tree, text: &Arc<str>) -> References {
    references_of_flat(&FlatTree::new(tree), text)
}

/// Like `references_in`, from a flat copy of the tree (`analyze_tree` makes one for all its
/// walks).
pub(crate) fn references_of_flat(tree: &FlatTree, text: &Arc<str>) -> References {
    static FIELDS: OnceLock<Fields> = OnceLock::new();
    let root = tree.root();
    let mut collector = Collector {
        source: text,
        fields: *FIELDS.get_or_init(|| Fields::new(&crate::analysis::parse::python_language())),
        out: Vec::new(),
        respelled: Vec::new(),
        children: Vec::new(),
        scratch: Vec::new(),
        fielded: Vec::new(),
    };
    collector.walk(root);
    References {
        text: text.clone(),
        items: ReferenceItems {
            items: collector.out.into(),
            respelled: collector.respelled.into(),
        },
    }
}

/// How the identifiers of the node being visited are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// An expression whose value is read.
    Read,
    /// A type annotation: every name in it is an `Annotation` reference.
    Annotation,
    /// Like `Annotation`, but inside `Literal[...]`, whose strings are values, not names.
    LiteralAnnotation,
    /// A binding target: bare names are being defined, while the object an attribute target
    /// hangs off and everything in a subscript target is read.
    Target,
    /// The expression naming a decorator, base class or callee: its last name gets the kind.
    Head(RefKind),
    /// The parameter list of a function or lambda.
    Parameters,
    /// Type parameters (`[T: Bound, *Ts]`) and the name of a `type` alias: names are defined,
    /// bounds and constraints are annotations.
    TypeParameters,
    /// A `match` case pattern: lone names capture (define), dotted names are read.
    Pattern,
    /// The arguments of `Annotated[T, x, ...]`: the first is an annotation, the rest are
    /// values.
    AnnotatedArguments,
    /// The identifier after the dot of an attribute.
    AttributeName,
}

impl Role {
    /// Whether a bare identifier read in this role is a reference, rather than a name being
    /// defined.
    fn records_names(self) -> bool {
        !matches!(
            self,
            Role::Target | Role::Parameters | Role::TypeParameters | Role::Pattern
        )
    }
}

/// The ids of the grammar fields the walk reads, looked up once rather than by
/// name on every node (see `outline::Fields`). A missing name gets id 0, which no child has.
#[derive(Clone, Copy)]
struct Fields {
    alias: u16,
    attribute: u16,
    function: u16,
    key: u16,
    left: u16,
    module_name: u16,
    name: u16,
    object: u16,
    parameters: u16,
    return_type: u16,
    superclasses: u16,
    type_: u16,
    type_parameters: u16,
    value: u16,
}

impl Fields {
    fn new(language: &Language) -> Self {
        let id = |name: &str| language.field_id_for_name(name).map_or(0, NonZeroU16::get);
        Fields {
            alias: id("alias"),
            attribute: id("attribute"),
            function: id("function"),
            key: id("key"),
            left: id("left"),
            module_name: id("module_name"),
            name: id("name"),
            object: id("object"),
            parameters: id("parameters"),
            return_type: id("return_type"),
            superclasses: id("superclasses"),
            type_: id("type"),
            type_parameters: id("type_parameters"),
            value: id("value"),
        }
    }
}

/// The node kinds the walk tells apart, read from a table by kind id rather than by comparing
/// kind names: the walk asks for the kind of every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Other,
    Identifier,
    Comment,
    String,
    StringContent,
    FunctionDefinition,
    ClassDefinition,
    Decorator,
    /// `parameters` and `lambda_parameters`.
    ParameterList,
    Lambda,
    /// `typed_parameter`, `default_parameter` and `typed_default_parameter`.
    Parameter,
    /// `list_splat_pattern`, `dictionary_splat_pattern` and `tuple_pattern`.
    ParameterPattern,
    Assignment,
    /// `for_statement` and `for_in_clause`.
    ForLoop,
    NamedExpression,
    AsPattern,
    AsPatternTarget,
    ExceptClause,
    KeywordArgument,
    ListSplat,
    DictionarySplat,
    Call,
    Attribute,
    Subscript,
    GenericType,
    TypeParameter,
    ImportStatement,
    ImportFromStatement,
    AliasedImport,
    WildcardImport,
    /// `from __future__ import`, `global` and `nonlocal`: no references.
    Declaration,
    TypeAliasStatement,
    ConstrainedType,
    CaseClause,
    CasePattern,
    DottedName,
    ClassPattern,
    KeywordPattern,
    DictPattern,
    /// `splat_pattern` and `splat_type`.
    Splat,
    /// A type annotation (`type`).
    Type,
    LineContinuation,
}

impl Kind {
    fn of_name(name: &str) -> Kind {
        match name {
            "identifier" => Kind::Identifier,
            "comment" => Kind::Comment,
            "string" => Kind::String,
            "string_content" => Kind::StringContent,
            "function_definition" => Kind::FunctionDefinition,
            "class_definition" => Kind::ClassDefinition,
            "decorator" => Kind::Decorator,
            "parameters" | "lambda_parameters" => Kind::ParameterList,
            "lambda" => Kind::Lambda,
            "typed_parameter" | "default_parameter" | "typed_default_parameter" => Kind::Parameter,
            "list_splat_pattern" | "dictionary_splat_pattern" | "tuple_pattern" => {
                Kind::ParameterPattern
            }
            "assignment" => Kind::Assignment,
            "for_statement" | "for_in_clause" => Kind::ForLoop,
            "named_expression" => Kind::NamedExpression,
            "as_pattern" => Kind::AsPattern,
            "as_pattern_target" => Kind::AsPatternTarget,
            "except_clause" => Kind::ExceptClause,
            "keyword_argument" => Kind::KeywordArgument,
            "list_splat" => Kind::ListSplat,
            "dictionary_splat" => Kind::DictionarySplat,
            "call" => Kind::Call,
            "attribute" => Kind::Attribute,
            "subscript" => Kind::Subscript,
            "generic_type" => Kind::GenericType,
            "type_parameter" => Kind::TypeParameter,
            "import_statement" => Kind::ImportStatement,
            "import_from_statement" => Kind::ImportFromStatement,
            "aliased_import" => Kind::AliasedImport,
            "wildcard_import" => Kind::WildcardImport,
            "future_import_statement" | "global_statement" | "nonlocal_statement" => {
                Kind::Declaration
            }
            "type_alias_statement" => Kind::TypeAliasStatement,
            "constrained_type" => Kind::ConstrainedType,
            "case_clause" => Kind::CaseClause,
            "case_pattern" => Kind::CasePattern,
            "dotted_name" => Kind::DottedName,
            "class_pattern" => Kind::ClassPattern,
            "keyword_pattern" => Kind::KeywordPattern,
            "dict_pattern" => Kind::DictPattern,
            "splat_pattern" | "splat_type" => Kind::Splat,
            "type" => Kind::Type,
            "line_continuation" => Kind::LineContinuation,
            _ => Kind::Other,
        }
    }
}

impl Kind {
    /// Whether the roles of a node's children depend on the fields they fill (a `Parameter`'s
    /// do too, in a parameter list).
    fn roles_depend_on_fields(self) -> bool {
        use Kind::*;
        matches!(
            self,
            FunctionDefinition | ClassDefinition | Lambda | Assignment | ForLoop | NamedExpression
        ) || matches!(
            self,
            AsPattern | ExceptClause | KeywordArgument | Call | Attribute | Subscript
        ) || matches!(self, ImportFromStatement | TypeAliasStatement | DictPattern)
    }
}

fn kind_of(node: Node<'_>) -> Kind {
    static KINDS: OnceLock<KindTable<Kind>> = OnceLock::new();
    KINDS
        .get_or_init(|| KindTable::new(Kind::of_name))
        .get(node)
}

/// One child of the node being visited, with the field it fills (0 for none, or when the
/// visit does not look at fields) and its place among the named children.
#[derive(Clone, Copy)]
struct Child<'t> {
    node: Node<'t>,
    field: u16,
    named_index: usize,
}

/// The nodes still to be visited, last first, with their roles and kinds, and where the
/// children of the node being visited begin.
struct Queue<'t> {
    nodes: Vec<(Node<'t>, Role, Kind, bool)>,
    start: usize,
    /// Whether the node being visited is without syntax errors, as are the queued nodes
    /// whose last field is true.
    clean: bool,
}

struct Collector<'s, 't> {
    source: &'s str,
    fields: Fields,
    out: Vec<Item>,
    /// See `References::respelled`.
    respelled: Vec<(u32, Box<str>)>,
    /// Scratch space for the children of the node being visited, reused to avoid allocating.
    children: Vec<Child<'t>>,
    /// More scratch space, for `named_children`.
    scratch: Vec<Node<'t>>,
    /// And for `load_with_fields`.
    fielded: Vec<(Node<'t>, u16)>,
}

impl<'t> Collector<'_, 't> {
    /// Visits the tree with an explicit stack rather than recursion, because the nesting
    /// depth of expressions is controlled by the input. Children are pushed in reverse so
    /// that they are popped, and references found, in document order.
    fn walk(&mut self, root: Node<'t>) {
        let mut queue = Queue {
            nodes: Vec::with_capacity(64),
            start: 0,
            clean: false,
        };
        self.queue(&mut queue, root, Role::Read);
        while let Some((node, role, kind, clean)) = queue.nodes.pop() {
            if kind == Kind::Identifier {
                self.identifier(node, role);
                continue;
            }
            queue.start = queue.nodes.len();
            queue.clean = clean;
            self.visit(node, kind, role, &mut queue);
            queue.nodes[queue.start..].reverse();
        }
    }

    /// Queues `node` to be visited with `role`, unless the visit would find nothing: an
    /// identifier in a binding position, a leaf that is not an identifier, a comment, or a
    /// string that cannot hold an expression. Skipping those here saves most of the walk's
    /// work, since they are most of the tree. An identifier is recorded at once when no
    /// earlier sibling is waiting to be visited, which keeps the references in order.
    fn queue(&mut self, queue: &mut Queue<'t>, node: Node<'t>, role: Role) {
        match kind_of(node) {
            Kind::Identifier if !role.records_names() => {}
            Kind::Identifier if queue.nodes.len() == queue.start => self.identifier(node, role),
            Kind::Identifier => queue.nodes.push((node, role, Kind::Identifier, true)),
            _ if node.child_count() == 0 => {}
            Kind::Comment if node.is_extra() => {}
            kind => {
                // Within a node without a syntax error, every node is without one.
                let clean = queue.clean || !node.has_error();
                let plain_string = kind == Kind::String
                    && clean
                    && role != Role::Annotation
                    && self.is_plain_string(node);
                if !plain_string {
                    queue.nodes.push((node, role, kind, clean));
                }
            }
        }
    }

    /// Whether a string node without a syntax error holds only text and escapes: no
    /// interpolation, which only f- and t-strings have, as their prefix says.
    fn is_plain_string(&self, string: Node<'t>) -> bool {
        let Some(text) = self.source.as_bytes().get(string.start_byte()..) else {
            return false;
        };
        text.iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .all(|b| !matches!(b, b'f' | b'F' | b't' | b'T'))
    }

    /// Fills `self.children` with the named children of `node` and the fields they fill, as
    /// a cursor reads them.
    fn load_with_fields(&mut self, node: Node<'t>) {
        let mut fielded = std::mem::take(&mut self.fielded);
        fielded.clear();
        fielded.extend(
            node.children()
                .filter(|c| c.is_named())
                .map(|c| (c, c.field_id())),
        );
        fill(&mut self.children, fielded.iter().copied());
        self.fielded = fielded;
    }

    /// Fills `self.children` with the named children of `node`, without their fields.
    fn load(&mut self, node: Node<'t>) {
        let children = self.named_children(node);
        fill(&mut self.children, children.iter().map(|&c| (c, 0)));
        self.scratch = children;
    }

    /// The named children of `node`, as a cursor reads them, in the scratch vector, which the
    /// caller is to give back.
    fn named_children(&mut self, node: Node<'t>) -> Vec<Node<'t>> {
        let mut children = std::mem::take(&mut self.scratch);
        children.clear();
        children.extend(node.children().filter(|c| c.is_named()));
        children
    }

    /// Decides the role of each child of `node` and queues it, or records references
    /// directly for the few forms that are not simply walked.
    fn visit(&mut self, node: Node<'t>, kind: Kind, role: Role, queue: &mut Queue<'t>) {
        let f = self.fields;
        // The role of every child that no rule below singles out.
        let inherited = match role {
            Role::Head(_) | Role::Parameters => Role::Read,
            other => other,
        };
        let with_fields = match kind {
            _ if kind.roles_depend_on_fields() => true,
            Kind::Parameter if role == Role::Parameters => true,
            Kind::String if role == Role::Annotation => {
                self.string_annotation(node);
                return;
            }
            Kind::Declaration => return,
            Kind::Splat if role != Role::Annotation => return,
            Kind::ImportStatement => {
                let children = self.named_children(node);
                for &child in &children {
                    self.imported_module(child, f);
                }
                self.scratch = children;
                return;
            }
            Kind::Decorator
            | Kind::ParameterList
            | Kind::AsPatternTarget
            | Kind::GenericType
            | Kind::CaseClause
            | Kind::DottedName
            | Kind::ClassPattern
            | Kind::KeywordPattern => false,
            Kind::ParameterPattern if role == Role::Parameters => false,
            Kind::TypeParameter if role == Role::AnnotatedArguments => false,
            Kind::ConstrainedType if role == Role::TypeParameters => false,
            _ => {
                let children = self.named_children(node);
                for &child in &children {
                    self.queue(queue, child, inherited);
                }
                self.scratch = children;
                return;
            }
        };
        if with_fields {
            self.load_with_fields(node);
        } else {
            self.load(node);
        }
        let children = std::mem::take(&mut self.children);
        match kind {
            Kind::FunctionDefinition => {
                for c in &children {
                    let child_role = match c.field {
                        x if x == f.name => continue,
                        x if x == f.type_parameters => Role::TypeParameters,
                        x if x == f.parameters => Role::Parameters,
                        x if x == f.return_type => Role::Annotation,
                        _ => Role::Read,
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::ClassDefinition => {
                for c in &children {
                    match c.field {
                        x if x == f.name => {}
                        x if x == f.type_parameters => {
                            self.queue(queue, c.node, Role::TypeParameters)
                        }
                        x if x == f.superclasses => self.superclasses(c.node, queue),
                        _ => self.queue(queue, c.node, Role::Read),
                    }
                }
            }
            Kind::Decorator => {
                for c in &children {
                    self.queue(queue, c.node, Role::Head(RefKind::Decorator));
                }
            }
            Kind::ParameterList => {
                for c in &children {
                    self.queue(queue, c.node, Role::Parameters);
                }
            }
            Kind::Lambda => {
                for c in &children {
                    let child_role = if c.field == f.parameters {
                        Role::Parameters
                    } else {
                        Role::Read
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::Parameter => {
                for c in &children {
                    let child_role = match c.field {
                        x if x == f.type_ => Role::Annotation,
                        x if x == f.value => Role::Read,
                        // The name, or the `*args` pattern of a typed parameter.
                        _ => Role::Target,
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::ParameterPattern | Kind::AsPatternTarget => {
                for c in &children {
                    self.queue(queue, c.node, Role::Target);
                }
            }
            Kind::Assignment => {
                for c in &children {
                    let child_role = match c.field {
                        x if x == f.left => Role::Target,
                        x if x == f.type_ => Role::Annotation,
                        _ => Role::Read,
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::ForLoop => {
                for c in &children {
                    let child_role = if c.field == f.left {
                        Role::Target
                    } else {
                        Role::Read
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::NamedExpression => {
                for c in &children {
                    let child_role = if c.field == f.name {
                        Role::Target
                    } else {
                        Role::Read
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            // `with x as y`, `except E as e` and `case P as p`: the alias is bound (in a case,
            // the alias is a bare identifier after the pattern rather than an `alias` field).
            Kind::AsPattern => {
                for c in &children {
                    let child_role = if c.field == f.alias
                        || (c.named_index > 0 && kind_of(c.node) == Kind::Identifier)
                    {
                        Role::Target
                    } else {
                        inherited
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::ExceptClause => {
                for c in &children {
                    let child_role = if c.field == f.alias {
                        Role::Target
                    } else {
                        Role::Read
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::KeywordArgument => {
                // The keyword names a parameter of the callee, not a variable in scope.
                for c in &children {
                    if c.field != f.name {
                        self.queue(queue, c.node, Role::Read);
                    }
                }
            }
            Kind::Call => {
                for c in &children {
                    let child_role = match (c.field, role) {
                        (x, Role::Head(RefKind::Decorator)) if x == f.function => {
                            Role::Head(RefKind::Decorator)
                        }
                        (x, _) if x == f.function => Role::Head(RefKind::Call),
                        _ => Role::Read,
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::Attribute => self.attribute(&children, role, queue),
            Kind::Subscript => {
                let form = self.annotation_form(role, &children);
                for c in &children {
                    let child_role = if c.field == f.value {
                        match role {
                            Role::Annotation | Role::LiteralAnnotation => role,
                            // `Generic[T]` as a base: `Generic` is the base class.
                            Role::Head(RefKind::BaseClass) => role,
                            _ => Role::Read,
                        }
                    } else {
                        match role {
                            Role::Annotation => form.argument_role(c.named_index.saturating_sub(1)),
                            Role::LiteralAnnotation => role,
                            _ => Role::Read,
                        }
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            // `list[Item]` in an annotation; the arguments are in one `type_parameter`.
            Kind::GenericType => {
                let form = self.annotation_form(role, &children);
                for c in &children {
                    let child_role = match (kind_of(c.node), form) {
                        (Kind::TypeParameter, AnnotationForm::Literal) => Role::LiteralAnnotation,
                        (Kind::TypeParameter, AnnotationForm::Annotated) => {
                            Role::AnnotatedArguments
                        }
                        _ => inherited,
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::TypeParameter => {
                for c in &children {
                    let child_role = AnnotationForm::Annotated.argument_role(c.named_index);
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::ImportFromStatement => {
                for c in &children {
                    match c.field {
                        x if x == f.module_name => self.module(c.node),
                        x if x == f.name => self.imported_name(c.node, f),
                        _ if kind_of(c.node) == Kind::WildcardImport => {
                            self.push(c.node.byte_range(), RefKind::Import);
                        }
                        _ => {}
                    }
                }
            }
            Kind::TypeAliasStatement => {
                for c in &children {
                    let child_role = if c.field == f.left {
                        Role::TypeParameters
                    } else {
                        Role::Annotation
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            // `T: Bound` or `T: (A, B)`: the first part names the parameter.
            Kind::ConstrainedType => {
                for c in &children {
                    let child_role = if c.named_index == 0 {
                        Role::TypeParameters
                    } else {
                        Role::Annotation
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::CaseClause => {
                for c in &children {
                    let child_role = if kind_of(c.node) == Kind::CasePattern {
                        Role::Pattern
                    } else {
                        Role::Read
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            Kind::DottedName => self.dotted_name(&children, role),
            // `Point(x=0)`: the class is read and the sub-patterns are patterns.
            Kind::ClassPattern => {
                for c in &children {
                    let child_role = if kind_of(c.node) == Kind::DottedName {
                        Role::Read
                    } else {
                        Role::Pattern
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            // `x=0` inside a class pattern: `x` names an attribute of the matched object.
            Kind::KeywordPattern => {
                for c in &children {
                    if c.named_index > 0 {
                        self.queue(queue, c.node, Role::Pattern);
                    }
                }
            }
            Kind::DictPattern => {
                for c in &children {
                    let child_role = if c.field == f.key {
                        Role::Read
                    } else {
                        Role::Pattern
                    };
                    self.queue(queue, c.node, child_role);
                }
            }
            _ => {
                for c in &children {
                    self.queue(queue, c.node, inherited);
                }
            }
        }
        self.children = children;
    }

    /// Whether a subscript or generic type in an annotation is `Literal[...]` or
    /// `Annotated[...]`, whose arguments are not all types.
    fn annotation_form(&self, role: Role, children: &[Child<'t>]) -> AnnotationForm {
        if role != Role::Annotation {
            return AnnotationForm::Plain;
        }
        let Some(first) = children.first() else {
            return AnnotationForm::Plain;
        };
        match last_name(first.node, self.source, self.fields) {
            "Literal" => AnnotationForm::Literal,
            "Annotated" => AnnotationForm::Annotated,
            _ => AnnotationForm::Plain,
        }
    }

    fn identifier(&mut self, node: Node<'t>, role: Role) {
        let kind = match role {
            Role::Read => RefKind::Name,
            Role::Annotation | Role::LiteralAnnotation => RefKind::Annotation,
            Role::Head(kind) => kind,
            Role::Target | Role::Parameters | Role::TypeParameters | Role::Pattern => return,
            Role::AnnotatedArguments => RefKind::Annotation,
            Role::AttributeName => RefKind::Attribute,
        };
        self.push(node.byte_range(), kind);
    }

    /// `obj.attr`: `attr` is an attribute reference (unless it is being assigned, which
    /// defines it); the object is read, or is part of the annotation it is in.
    fn attribute(&mut self, children: &[Child<'t>], role: Role, queue: &mut Queue<'t>) {
        let f = self.fields;
        for c in children {
            if c.field == f.object {
                let object_role = match role {
                    Role::Annotation | Role::LiteralAnnotation => role,
                    _ => Role::Read,
                };
                self.queue(queue, c.node, object_role);
            } else if c.field == f.attribute {
                if role != Role::Target {
                    // Queued rather than recorded now, so that it is found after the object
                    // and references stay in document order.
                    self.queue(queue, c.node, Role::AttributeName);
                }
            } else {
                self.queue(queue, c.node, Role::Read);
            }
        }
    }

    /// The base classes and keywords (`metaclass=M`) of a class definition.
    fn superclasses(&mut self, arguments: Node<'t>, queue: &mut Queue<'t>) {
        // Queued in document order like every other child: the caller reverses them all.
        let children = self.named_children(arguments);
        for &argument in &children {
            let role = match kind_of(argument) {
                Kind::KeywordArgument | Kind::ListSplat | Kind::DictionarySplat | Kind::Comment => {
                    Role::Read
                }
                _ => Role::Head(RefKind::BaseClass),
            };
            self.queue(queue, argument, role);
        }
        self.scratch = children;
    }

    /// A dotted name outside imports: in a pattern, a lone name is a capture and a dotted
    /// one (`Color.RED`) is a value read from its first part; elsewhere it is read.
    fn dotted_name(&mut self, children: &[Child<'t>], role: Role) {
        let identifiers = children
            .iter()
            .filter(|c| kind_of(c.node) == Kind::Identifier);
        if role == Role::Pattern && children.len() < 2 {
            return;
        }
        if role == Role::Target {
            return;
        }
        for (i, c) in identifiers.enumerate() {
            let kind = match role {
                Role::Annotation | Role::LiteralAnnotation => RefKind::Annotation,
                _ if i == 0 => RefKind::Name,
                _ => RefKind::Attribute,
            };
            self.push(c.node.byte_range(), kind);
        }
    }

    /// `a.b` or `a.b as c` in `import a.b, a.b as c`.
    fn imported_module(&mut self, node: Node<'t>, f: Fields) {
        match kind_of(node) {
            Kind::DottedName => self.module(node),
            Kind::AliasedImport => {
                if let Some(name) = node.child_by_field_id(f.name) {
                    self.module(name);
                }
            }
            _ => {}
        }
    }

    /// The module path of an import, as one `Module` reference with whitespace removed (a
    /// dotted name may legally be written `a . b`).
    fn module(&mut self, node: Node<'t>) {
        let range = node.byte_range();
        let text = self.source.get(range.clone()).unwrap_or("");
        if node.has_error() || !text.contains(|c: char| !c.is_whitespace()) {
            return;
        }
        if text.contains(char::is_whitespace) {
            let name: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let index = self.out.len() as u32;
            if self.push(range, RefKind::Module) {
                self.respelled.push((index, name.into_boxed_str()));
            }
        } else {
            self.push(range, RefKind::Module);
        }
    }

    /// `c` or `c as d` in `from a import c, c as d`.
    fn imported_name(&mut self, node: Node<'t>, f: Fields) {
        let dotted = match kind_of(node) {
            Kind::DottedName => Some(node),
            Kind::AliasedImport => node.child_by_field_id(f.name),
            _ => None,
        };
        let Some(dotted) = dotted else { return };
        let children = self.named_children(dotted);
        for &identifier in &children {
            if kind_of(identifier) == Kind::Identifier {
                self.push(identifier.byte_range(), RefKind::Import);
            }
        }
        self.scratch = children;
    }

    /// The names in a string used as an annotation (`"list[Item]"`), which type checkers
    /// read as code. Keywords and literals such as `None` are not names.
    fn string_annotation(&mut self, string: Node<'t>) {
        let children = self.named_children(string);
        for &part in &children {
            if kind_of(part) != Kind::StringContent {
                continue;
            }
            let Some(text) = self.source.get(part.byte_range()) else {
                continue;
            };
            let base = part.start_byte();
            for (start, word) in identifiers_in(text) {
                if is_keyword(word) {
                    continue;
                }
                let after_dot = text[..start].trim_end().ends_with('.');
                let kind = if after_dot {
                    RefKind::Attribute
                } else {
                    RefKind::Annotation
                };
                self.push(base + start..base + start + word.len(), kind);
            }
        }
        self.scratch = children;
    }

    /// Records a reference whose name is the source text of `range`; false if there is
    /// none (an empty range, or a file too large for `u32` offsets or an `Item`).
    fn push(&mut self, range: Range<usize>, kind: RefKind) -> bool {
        if range.is_empty() || self.source.get(range.clone()).is_none() {
            return false;
        }
        let (Ok(start), Ok(end)) = (u32::try_from(range.start), u32::try_from(range.end)) else {
            return false;
        };
        let Some(item) = Item::new(start, end, kind) else {
            return false;
        };
        self.out.push(item);
        true
    }
}

/// What the arguments of a subscripted annotation are.
#[derive(Clone, Copy)]
enum AnnotationForm {
    /// `list[Item]`: all types.
    Plain,
    /// `Literal["a", 1]`: all values, and its strings are not forward references.
    Literal,
    /// `Annotated[int, Field(gt=0)]`: a type, then values.
    Annotated,
}

impl AnnotationForm {
    /// The role of the argument at `index` (0 for the first).
    fn argument_role(self, index: usize) -> Role {
        match self {
            AnnotationForm::Plain => Role::Annotation,
            AnnotationForm::Literal => Role::LiteralAnnotation,
            AnnotationForm::Annotated if index == 0 => Role::Annotation,
            AnnotationForm::Annotated => Role::Read,
        }
    }
}

/// Replaces `children` with these children and their fields, numbered in order.
fn fill<'t>(children: &mut Vec<Child<'t>>, from: impl Iterator<Item = (Node<'t>, u16)>) {
    children.clear();
    children.extend(from.enumerate().map(|(named_index, (node, field))| Child {
        node,
        field,
        named_index,
    }));
}

/// The last name of a dotted expression: `Literal` for `typing.Literal` or `Literal`.
fn last_name<'s>(node: Node<'_>, source: &'s str, f: Fields) -> &'s str {
    let name = match node.kind_str() {
        "attribute" => node.child_by_field_id(f.attribute),
        "identifier" => Some(node),
        _ => None,
    };
    name.and_then(|n| source.get(n.byte_range())).unwrap_or("")
}

/// The identifier-shaped words of `text` with their byte offsets. Words that start with a
/// digit are numbers, not names.
fn identifiers_in(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || loop {
        let (start, c) = chars.next()?;
        if !(c == '_' || c.is_alphabetic()) {
            if c.is_numeric() {
                // Skip the rest of a number so that `1e5` does not yield `e5`.
                while chars.next_if(|(_, c)| c.is_alphanumeric()).is_some() {}
            }
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some((at, c)) = chars.next_if(|(_, c)| *c == '_' || c.is_alphanumeric()) {
            end = at + c.len_utf8();
        }
        return Some((start, &text[start..end]));
    })
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "None"
            | "True"
            | "False"
            | "and"
            | "or"
            | "not"
            | "in"
            | "is"
            | "if"
            | "else"
            | "lambda"
            | "await"
    )
}

#[cfg(test)]
mod tests {
    use super::RefKind::{Annotation, Attribute, BaseClass, Call, Decorator, Import, Module, Name};
    use super::*;
    use crate::analysis::parse::parse_str;

    #[test]
    fn an_item_keeps_its_range_and_every_kind_in_eight_bytes() {
        assert_eq!(std::mem::size_of::<Item>(), 8);
        for (i, &kind) in KINDS.iter().enumerate() {
            assert_eq!(kind as usize, i);
            let item = Item::new(7, 19, kind).unwrap();
            assert_eq!((item.range(), item.kind()), (7..19, kind));
        }
        let longest = (1u32 << (32 - KIND_BITS)) - 1;
        let item = Item::new(u32::MAX - longest, u32::MAX, Annotation).unwrap();
        assert_eq!(item.range().len(), longest as usize);
        assert_eq!(item.kind(), Annotation);
        assert_eq!(Item::new(0, longest + 1, Name), None);
        assert_eq!(Item::new(5, 4, Name), None);
    }

    /// The references of `source` as `(name, kind)` pairs, which read better in assertions
    /// than whole structs. Also checks that every range holds the name it reports (for
    /// `Module` references, the name without whitespace) and that they come in order.
    fn refs(source: &str) -> Vec<(String, RefKind)> {
        let tree = parse_str(source, None);
        let all = references(&tree, source);
        let found: Vec<Reference> = all.iter().collect();
        for pair in found.windows(2) {
            assert!(
                pair[0].range.start <= pair[1].range.start,
                "out of order: {pair:?}"
            );
        }
        for r in &found {
            let text = source.get(r.range.clone()).expect("a valid range");
            let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            assert_eq!(text, r.name, "{r:?}");
        }
        found
            .into_iter()
            .map(|r| (r.name.to_string(), r.kind))
            .collect()
    }

    fn pairs(expected: &[(&str, RefKind)]) -> Vec<(String, RefKind)> {
        expected.iter().map(|(n, k)| (n.to_string(), *k)).collect()
    }

    #[test]
    fn names_calls_and_attributes_in_expressions() {
        assert_eq!(
            refs("total = price(item) + cart.discount\n"),
            pairs(&[
                ("price", Call),
                ("item", Name),
                ("cart", Name),
                ("discount", Attribute)
            ])
        );
        assert_eq!(
            refs("self.lines.get(product.sku).quantity\n"),
            pairs(&[
                ("self", Name),
                ("lines", Attribute),
                ("get", Attribute),
                ("product", Name),
                ("sku", Attribute),
                ("quantity", Attribute),
            ])
        );
    }

    #[test]
    fn definitions_are_not_references() {
        let source = "\
def add(self, product, quantity=1, *args, key: int = 0, **kwargs):
    pass

class Cart:
    pass

lambda a, b=default: a
";
        assert_eq!(
            refs(source),
            pairs(&[("int", Annotation), ("default", Name), ("a", Name)])
        );
    }

    #[test]
    fn assignment_targets_are_definitions_but_what_they_hang_off_is_read() {
        assert_eq!(refs("x = y\n"), pairs(&[("y", Name)]));
        assert_eq!(refs("a = b = c\n"), pairs(&[("c", Name)]));
        assert_eq!(refs("first, *rest = items\n"), pairs(&[("items", Name)]));
        assert_eq!(refs("self.total = 0\n"), pairs(&[("self", Name)]));
        assert_eq!(
            refs("lines[sku] = line\n"),
            pairs(&[("lines", Name), ("sku", Name), ("line", Name)])
        );
        assert_eq!(
            refs("count: int = start\n"),
            pairs(&[("int", Annotation), ("start", Name)])
        );
        // An augmented assignment reads its target before writing it.
        assert_eq!(
            refs("line.quantity += n\n"),
            pairs(&[("line", Name), ("quantity", Attribute), ("n", Name)])
        );
    }

    #[test]
    fn loop_comprehension_walrus_with_and_except_targets_are_definitions() {
        let source = "\
for i, item in enumerate(items):
    pass
squares = [n * n for n in numbers if n]
if (m := match(text)):
    pass
with open(path) as handle, lock:
    pass
try:
    pass
except (KeyError, ValueError) as error:
    raise Wrapped(error)
";
        assert_eq!(
            refs(source),
            pairs(&[
                ("enumerate", Call),
                ("items", Name),
                ("n", Name),
                ("n", Name),
                ("numbers", Name),
                ("n", Name),
                ("match", Call),
                ("text", Name),
                ("open", Call),
                ("path", Name),
                ("lock", Name),
                ("KeyError", Name),
                ("ValueError", Name),
                ("Wrapped", Call),
                ("error", Name),
            ])
        );
    }

    #[test]
    fn keyword_argument_names_are_not_references() {
        assert_eq!(
            refs("build(name=value, *args, **options)\n"),
            pairs(&[
                ("build", Call),
                ("value", Name),
                ("args", Name),
                ("options", Name)
            ])
        );
    }

    #[test]
    fn imports() {
        let source = "\
import os
import os.path as osp, json
from shop.models import Product, Customer as Buyer
from . import utils
from ..pricing import price_items
from .errors import *
";
        assert_eq!(
            refs(source),
            pairs(&[
                ("os", Module),
                ("os.path", Module),
                ("json", Module),
                ("shop.models", Module),
                ("Product", Import),
                ("Customer", Import),
                (".", Module),
                ("utils", Import),
                ("..pricing", Module),
                ("price_items", Import),
                (".errors", Module),
                ("*", Import),
            ])
        );
        // `from __future__` imports are compiler switches, not names.
        assert_eq!(refs("from __future__ import annotations\n"), pairs(&[]));
    }

    #[test]
    fn decorators() {
        let source = "\
@property
@cache(maxsize=LIMIT)
@app.route(\"/\", methods=METHODS)
@functools.lru_cache(maxsize=2)
@name.setter
def f():
    pass
";
        assert_eq!(
            refs(source),
            pairs(&[
                ("property", Decorator),
                ("cache", Decorator),
                ("LIMIT", Name),
                ("app", Name),
                ("route", Attribute),
                ("METHODS", Name),
                ("functools", Name),
                ("lru_cache", Attribute),
                ("name", Name),
                ("setter", Attribute),
            ])
        );
    }

    #[test]
    fn base_classes_and_class_keywords() {
        let source = "\
class Order(models.Model, Generic[T], Mixin, metaclass=Meta):
    pass
";
        assert_eq!(
            refs(source),
            pairs(&[
                ("models", Name),
                ("Model", Attribute),
                ("Generic", BaseClass),
                ("T", Name),
                ("Mixin", BaseClass),
                ("Meta", Name),
            ])
        );
        assert_eq!(
            refs("class Point(namedtuple('Point', 'x y')):\n    pass\n"),
            pairs(&[("namedtuple", Call)])
        );
    }

    #[test]
    fn annotations_including_strings() {
        let source = "\
def add(self, product: \"Product\", qty: int | None = None) -> list[LineItem]:
    pass

def fetch(url: typing.Optional[\"urls.Url\"]) -> 'dict[str, Item]':
    pass
";
        assert_eq!(
            refs(source),
            pairs(&[
                ("Product", Annotation),
                ("int", Annotation),
                ("list", Annotation),
                ("LineItem", Annotation),
                ("typing", Annotation),
                ("Optional", Attribute),
                ("urls", Annotation),
                ("Url", Attribute),
                ("dict", Annotation),
                ("str", Annotation),
                ("Item", Annotation),
            ])
        );
    }

    #[test]
    fn literal_and_annotated_arguments_are_values() {
        let source = "\
def f(mode: Literal[\"read only\", Mode.FAST], size: Annotated[int, Field(gt=0), \"a note\"]):
    pass
";
        assert_eq!(
            refs(source),
            pairs(&[
                ("Literal", Annotation),
                ("Mode", Annotation),
                ("FAST", Attribute),
                ("Annotated", Annotation),
                ("int", Annotation),
                ("Field", Call),
            ])
        );
        assert_eq!(
            refs("x: typing.Literal['a b'] = 'a b'\n"),
            pairs(&[("typing", Annotation), ("Literal", Attribute)])
        );
    }

    #[test]
    fn type_parameters_and_aliases() {
        let source = "\
def first[T: Sized, *Ts, **P](items: list[T]) -> T:
    pass

class Box[T](Base[T]):
    pass

type Pair[K] = tuple[K, Value]
";
        assert_eq!(
            refs(source),
            pairs(&[
                ("Sized", Annotation),
                ("list", Annotation),
                ("T", Annotation),
                ("T", Annotation),
                ("Base", BaseClass),
                ("T", Name),
                ("tuple", Annotation),
                ("K", Annotation),
                ("Value", Annotation),
            ])
        );
    }

    #[test]
    fn match_patterns_capture_lone_names_and_read_dotted_ones() {
        let source = "\
match command:
    case Point(x=0, y=y_value) as point if point.ok:
        pass
    case Color.RED | [first, *rest] | {KEY: value, **extra}:
        pass
    case other:
        pass
";
        assert_eq!(
            refs(source),
            pairs(&[
                ("command", Name),
                ("Point", Name),
                ("point", Name),
                ("ok", Attribute),
                ("Color", Name),
                ("RED", Attribute),
                ("KEY", Name),
            ])
        );
    }

    #[test]
    fn global_and_nonlocal_declare_rather_than_use() {
        assert_eq!(
            refs("def f():\n    global counter\n    counter = 1\n"),
            pairs(&[])
        );
    }

    #[test]
    fn f_strings_and_nested_functions() {
        let source = "\
def outer(items):
    def inner(x):
        return f\"{x.name!r:>{width}}\"
    return map(inner, items)
";
        assert_eq!(
            refs(source),
            pairs(&[
                ("x", Name),
                ("name", Attribute),
                ("width", Name),
                ("map", Call),
                ("inner", Name),
                ("items", Name),
            ])
        );
    }

    #[test]
    fn ranges_point_at_the_names_in_non_ascii_source() {
        let source = "prix = calculer(café, \"😀\", 名字.属性)\n";
        let tree = parse_str(source, None);
        let all = references(&tree, source);
        let found: Vec<Reference> = all.iter().collect();
        let names: Vec<&str> = found.iter().map(|r| &source[r.range.clone()]).collect();
        assert_eq!(names, ["calculer", "café", "名字", "属性"]);
    }

    #[test]
    fn broken_code_still_yields_the_references_around_the_error() {
        let found = refs("def f(:\n    return helper(x)\n\nvalue = other.thing\n");
        assert!(found.contains(&("helper".to_string(), Call)), "{found:?}");
        assert!(
            found.contains(&("thing".to_string(), Attribute)),
            "{found:?}"
        );

        for source in [
            "}}}{{ )))",
            "@@@@",
            "def",
            "class A(:",
            "from . import",
            "x: '",
            "\u{0}😀",
        ] {
            let _ = refs(source);
        }
    }

    #[test]
    fn every_prefix_of_a_file_is_handled() {
        let source = "\
from .models import Product as P
@app.route('/x')
class Cart(Base[T], metaclass=M):
    def add(self, p: 'P', *a: int, **k) -> None:
        self.items[p.sku] = [q for q in k.values() if q]
        match p:
            case P(sku=s) if s: pass
";
        let mut end = 0;
        while end <= source.len() {
            let _ = refs(&source[..end]);
            end += source[end..].chars().next().map_or(1, char::len_utf8);
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let depth = 5_000;
        let source = format!("x = {}y{}\n", "(".repeat(depth), ")".repeat(depth));
        assert_eq!(refs(&source), pairs(&[("y", Name)]));
        let chain = format!("x = a{}\n", ".b".repeat(depth));
        assert_eq!(refs(&chain).len(), depth + 1);
    }
}

/// Hashes of every walk's output (references and outline) for every file under
/// `WALK_EQ_DIRS`, and for a damaged copy (first half) of every fifth, written to
/// `WALK_EQ_OUT` and compared with `WALK_EQ_BASELINE` (an earlier build's `WALK_EQ_OUT`): run
/// on two builds to show that a change to the walks changed nothing they produce.
#[cfg(test)]
mod walk_equality {
    use std::fmt::Write as _;
    use std::hash::{Hash, Hasher};

    fn hash_of(text: &str) -> u64 {
        let tree = crate::analysis::parse::parse_str(text, None);
        let refs = crate::analysis::references::references(&tree, text);
        let outline = crate::analysis::outline::outline(&tree, text, "m");
        // The outline read from a flat copy of the tree is the same as read from the tree.
        let flat = crate::analysis::flat::FlatTree::new(&tree);
        assert_eq!(
            crate::analysis::outline::outline_of_flat(&tree, &flat, text, "m"),
            outline
        );
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for r in refs.iter() {
            (r.name, r.range.start, r.range.end, r.kind as u8).hash(&mut h);
        }
        format!("{outline:?}").hash(&mut h);
        h.finish()
    }

    #[test]
    #[ignore = "compares the walks' output between builds; run by hand"]
    fn walk_equality() {
        let Ok(dirs) = std::env::var("WALK_EQ_DIRS") else {
            return;
        };
        let roots: Vec<std::path::PathBuf> = dirs.split(':').map(Into::into).collect();
        let config = crate::session::config::WorkspaceConfig {
            exclude: vec!["site-packages/".into()],
            ..Default::default()
        };
        let files = crate::session::workspace::discover_python_files(&roots, &config).files;
        let mut out = String::new();
        for (i, path) in files.iter().enumerate() {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let _ = writeln!(out, "{}\t{:016x}", path.display(), hash_of(&text));
            if i % 5 == 0 {
                let mut end = text.len() / 2;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                let _ = writeln!(
                    out,
                    "{}#half\t{:016x}",
                    path.display(),
                    hash_of(&text[..end])
                );
            }
        }
        if let Ok(path) = std::env::var("WALK_EQ_OUT") {
            std::fs::write(path, &out).expect("WALK_EQ_OUT is writable");
        }
        if let Ok(path) = std::env::var("WALK_EQ_BASELINE") {
            let before = std::fs::read_to_string(&path).expect("WALK_EQ_BASELINE is readable");
            let first = before.lines().zip(out.lines()).find(|(a, b)| a != b);
            assert!(
                before.lines().eq(out.lines()),
                "walks differ from {path}: {first:?}"
            );
        }
    }
}
