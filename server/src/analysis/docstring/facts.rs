//! What the code says a docstring must contain: for a function, its documentable parameters,
//! whether it returns or yields a value and of which type, the exceptions it lets escape and the
//! names it calls; for a class, its constructor's parameters and its public attributes.
//!
//! The facts are read from the tree-sitter tree alone (no imports are resolved), so they are
//! what the source shows. `docs/docstring-rules.md` says how they map to docstring sections and
//! where pydoclint reads the same code differently; the checks (`checks.rs`) and the generator
//! (`render.rs`) both take their rules from there.
//!
//! Walks use explicit stacks, never recursion, because nesting depth is controlled by the input.

use crate::analysis::parse::KindStr;
use tree_sitter::Node;

use crate::analysis::outline::ParameterKind;

/// What a docstring of a function or method must document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionFacts {
    /// The parameters to document, in signature order, without the `self`/`cls` of a method
    /// (its first parameter, unless it is a `@staticmethod`). `*args` and `**kwargs` are
    /// included with their kind; their `name` is the bare identifier (no stars).
    pub params: Vec<ParamFact>,
    /// Present iff the function returns a value: a `return expr` (not `return` alone and not
    /// `return None`) outside nested definitions and lambdas, or a return annotation other than
    /// `None`/`NoReturn`/`Never` (and, for generators, other than a `Generator`/`Iterator`
    /// annotation, which documents the yields).
    pub returns: Option<ReturnFact>,
    /// The `return` statements of the body (outside nested definitions), which pydoclint counts
    /// even when they return nothing.
    pub return_statements: ReturnStatements,
    /// Present iff the function is a generator: a `yield` or `yield from` outside nested
    /// definitions and lambdas.
    pub yields: Option<YieldFact>,
    /// Exceptions raised in the body and not caught there, deduplicated, in order of first
    /// occurrence. `raise X(...)`, `raise X` and `raise mod.X(...)` give the dotted name as
    /// written; a bare `raise` (or `raise e` with `e` bound by `except ... as e`) inside
    /// `except A` or `except (A, B)` re-raises `A` (and `B`); `raise exc` where `exc` is a
    /// local variable assigned `Cls(...)` gives `Cls`. A raise whose exception cannot be named
    /// (`raise exc` of a parameter, a bare `raise` under a bare `except:`) sets
    /// `has_unnamed_raise` instead.
    pub raises: Vec<String>,
    /// Exceptions raised and caught by an enclosing `try` of the same function, deduplicated.
    /// Not part of the contract, but a docstring may list them without being wrong, and
    /// pydoclint requires them (see `docs/docstring-rules.md`).
    pub caught_raises: Vec<String>,
    /// A `raise` outside nested definitions whose exception cannot be named.
    pub has_unnamed_raise: bool,
    /// What those raises raise, as written (`exc`, `self.error_class`, `errors[0]`), each
    /// once: the docstring can say where the exception comes from even when its class is
    /// not known statically.
    pub unnamed_raises: Vec<String>,
    /// The return annotation as written, e.g. `Iterator[int]`.
    pub return_annotation: Option<String>,
    /// Each decorator's expression text without the `@`, outermost first.
    pub decorators: Vec<String>,
    /// Decorated with `property`, `cached_property` (any module prefix) or `<name>.setter`,
    /// `.getter`, `.deleter`.
    pub is_property: bool,
    /// Decorated with `abstractmethod` (any module prefix, e.g. `abc.abstractmethod`).
    pub is_abstract: bool,
    /// Decorated with `overload` (any module prefix).
    pub is_overload: bool,
    /// The body holds only a docstring and `pass`, `...` or `raise NotImplementedError`.
    pub is_stub: bool,
    /// Dotted names called anywhere in the body (`f`, `self.save`, `os.path.join`), nested
    /// functions and lambdas included, deduplicated, in order of first occurrence. Calls of
    /// calls (`f()()`) and subscripts (`a[0]()`) are left out.
    pub calls: Vec<String>,
}

/// A parameter as a docstring documents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamFact {
    /// The identifier, without `*` or `**`.
    pub name: String,
    pub kind: ParameterKind,
    /// The annotation as written.
    pub annotation: Option<String>,
    /// The default value as written.
    pub default: Option<String>,
    /// The type of a literal default: `int`, `float`, `complex`, `str`, `bytes`, `bool`,
    /// `list`, `dict`, `tuple` or `set`. `None` defaults infer nothing.
    pub inferred_type: Option<String>,
}

impl ParamFact {
    /// The name with the stars a docstring writes for `*args` and `**kwargs`.
    pub fn documented_name(&self) -> String {
        match self.kind {
            ParameterKind::VarPositional => format!("*{}", self.name),
            ParameterKind::VarKeyword => format!("**{}", self.name),
            _ => self.name.clone(),
        }
    }

    /// The annotation, else the inferred type.
    pub fn type_text(&self) -> Option<&str> {
        self.annotation.as_deref().or(self.inferred_type.as_deref())
    }
}

/// The value a function returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnFact {
    /// The return annotation as written (for a generator that also returns, the `R` of
    /// `Generator[Y, S, R]`).
    pub annotation: Option<String>,
    /// The type of the literal values returned (`bool` for `return True` ... `return False`,
    /// `int | None` when some returns are `None`), when every valued return is a literal.
    pub inferred_type: Option<String>,
}

impl ReturnFact {
    /// The annotation, else the inferred type.
    pub fn type_text(&self) -> Option<&str> {
        self.annotation.as_deref().or(self.inferred_type.as_deref())
    }
}

/// The `return` statements of a function body, outside nested definitions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReturnStatements {
    /// Any `return` statement at all.
    pub any: bool,
    /// A bare `return`.
    pub bare: bool,
    /// A `return` with an expression (`return None` included).
    pub valued: bool,
}

/// What a generator yields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YieldFact {
    /// The yield type from a `Generator[Y, ...]`, `Iterator[Y]`, `Iterable[Y]` (or async
    /// variant) return annotation.
    pub annotation: Option<String>,
    /// Whether the generator has a `yield` statement (`yield x` on its own line), as opposed to
    /// only yield expressions (`x = yield`); pydoclint only sees the former.
    pub has_yield_statement: bool,
}

/// What a class docstring documents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassFacts {
    /// The parameters of the class's (last) `__init__`, without `self`; empty without one.
    pub init_params: Vec<ParamFact>,
    /// Public attributes (no leading underscore), in source order, each once: class-level
    /// annotations and assignments, then `self.x = ...` / `self.x: T = ...` in `__init__`.
    pub attributes: Vec<AttributeFact>,
}

/// A public attribute of a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeFact {
    pub name: String,
    /// The annotation as written (`x: int = 0`, `self.x: int = 0`).
    pub annotation: Option<String>,
    /// The type of a literal value, or the annotation of the `__init__` parameter assigned
    /// (`self.x = x`).
    pub inferred_type: Option<String>,
}

fn text<'s>(node: Node<'_>, source: &'s str) -> &'s str {
    source.get(node.byte_range()).unwrap_or("")
}

/// The `function_definition` or `class_definition` inside a `decorated_definition`, or the
/// node itself.
pub fn definition_of(node: Node<'_>) -> Node<'_> {
    if node.kind_str() == "decorated_definition" {
        node.child_by_field_name("definition").unwrap_or(node)
    } else {
        node
    }
}

/// The name of the class whose body defines `def` directly.
fn enclosing_class_name(def: Node<'_>, source: &str) -> Option<String> {
    let mut outer = def;
    if let Some(p) = def
        .parent()
        .filter(|p| p.kind_str() == "decorated_definition")
    {
        outer = p;
    }
    let class = outer
        .parent()
        .filter(|p| p.kind_str() == "block")?
        .parent()
        .filter(|p| p.kind_str() == "class_definition")?;
    let name = class.child_by_field_name("name")?;
    Some(text(name, source).to_string())
}

/// The decorators of a definition: the `decorated_definition` is its parent.
fn decorators_of(def: Node<'_>, source: &str) -> Vec<String> {
    decorators_in(
        def.parent()
            .filter(|p| p.kind_str() == "decorated_definition"),
        source,
    )
}

/// The decorators of a `decorated_definition` (none without one).
fn decorators_in(parent: Option<Node<'_>>, source: &str) -> Vec<String> {
    let Some(parent) = parent else {
        return Vec::new();
    };
    let mut cursor = parent.walk();
    parent
        .named_children(&mut cursor)
        .filter(|c| c.kind_str() == "decorator")
        .map(
            |d| match d.named_children(&mut d.walk()).find(|c| !c.is_extra()) {
                Some(expression) => text(expression, source).to_string(),
                None => text(d, source).trim_start_matches('@').trim().to_string(),
            },
        )
        .collect()
}

/// The last segment of a dotted decorator without call arguments: `functools.wraps(f)` gives
/// `wraps`, `x.setter` gives `setter`.
fn decorator_name(decorator: &str) -> &str {
    let head = decorator.split('(').next().unwrap_or("").trim();
    head.rsplit('.').next().unwrap_or(head)
}

/// Facts of the function `def_node` (a `function_definition`, or a `decorated_definition`
/// around one) in `source`. `is_method` says the function is defined directly in a class
/// body, so that its first parameter is `self`/`cls` unless it is a `@staticmethod`.
pub fn function_facts(def_node: Node<'_>, source: &str, is_method: bool) -> FunctionFacts {
    function_facts_at(def_node, source, is_method, None)
}

/// Where a `function_definition` stands, when the caller's walk knows it: `parent()` costs a
/// walk down from the root in tree-sitter, which adds up over every function of a large file.
#[derive(Debug, Clone, Copy)]
pub struct DefinitionPlace<'t> {
    /// The `decorated_definition` around the definition, if any.
    pub decorated: Option<Node<'t>>,
    /// The class whose body defines it directly, if any.
    pub class: Option<Node<'t>>,
}

/// Like [`function_facts`], with the definition's place given (else looked up via parents).
pub fn function_facts_at(
    def_node: Node<'_>,
    source: &str,
    is_method: bool,
    place: Option<DefinitionPlace<'_>>,
) -> FunctionFacts {
    let def = definition_of(def_node);
    let decorators = match place {
        Some(place) => decorators_in(place.decorated, source),
        None => decorators_of(def, source),
    };
    let names: Vec<&str> = decorators.iter().map(|d| decorator_name(d)).collect();
    let is_static = names.contains(&"staticmethod");
    let is_property = names.iter().any(|n| {
        matches!(
            *n,
            "property" | "cached_property" | "setter" | "getter" | "deleter"
        )
    });
    let is_abstract = names.contains(&"abstractmethod");
    let is_overload = names.contains(&"overload");

    let mut params = def
        .child_by_field_name("parameters")
        .map(|p| parameters(p, source))
        .unwrap_or_default();
    if is_method && !is_static && !params.is_empty() {
        let first = &params[0];
        if matches!(
            first.kind,
            ParameterKind::Normal | ParameterKind::PositionalOnly
        ) {
            params.remove(0);
        }
    }

    let return_annotation = def
        .child_by_field_name("return_type")
        .map(|r| text(r, source).to_string());
    let body = def.child_by_field_name("body");
    let mut walk = BodyWalk {
        own_class: is_method
            .then(|| match place {
                Some(place) => place
                    .class
                    .and_then(|c| c.child_by_field_name("name"))
                    .map(|n| text(n, source).to_string()),
                None => enclosing_class_name(def, source),
            })
            .flatten(),
        ..BodyWalk::default()
    };
    if let Some(body) = body {
        walk.run(body, source, &params);
    }

    let yields = walk.has_yield.then(|| YieldFact {
        annotation: return_annotation
            .as_deref()
            .and_then(yield_type_of_annotation),
        has_yield_statement: walk.has_yield_statement,
    });
    let returns = return_fact(
        return_annotation.as_deref(),
        &walk,
        yields.is_some(),
        is_overload,
    );
    let is_stub = body.is_some_and(|b| is_stub_body(b, source));

    FunctionFacts {
        params,
        returns,
        return_statements: walk.returns,
        yields,
        raises: walk.raises,
        caught_raises: walk.caught,
        has_unnamed_raise: walk.unnamed_raise,
        unnamed_raises: walk.unnamed_raises,
        return_annotation,
        decorators,
        is_property,
        is_abstract,
        is_overload,
        is_stub,
        calls: walk.calls,
    }
}

fn return_fact(
    annotation: Option<&str>,
    walk: &BodyWalk,
    is_generator: bool,
    is_overload: bool,
) -> Option<ReturnFact> {
    let annotation = annotation.map(str::trim);
    let annotated_nothing = annotation.is_some_and(is_nothing_annotation);
    if annotated_nothing {
        return None;
    }
    let annotated = match annotation {
        None => None,
        Some(a) if is_generator => match generator_annotation(a) {
            // Only the R of Generator[Y, S, R] is returned; Iterator/Iterable return nothing.
            Some((GeneratorKind::Generator, args)) => args
                .get(2)
                .map(|r| r.to_string())
                .filter(|r| !is_nothing_annotation(r)),
            Some(_) => None,
            None => Some(a.to_string()),
        },
        Some(a) => Some(a.to_string()),
    };
    let valued = !walk.value_types.is_empty();
    if annotated.is_none() && !valued {
        return None;
    }
    if annotated.is_none() && is_overload {
        return None;
    }
    Some(ReturnFact {
        annotation: annotated,
        inferred_type: infer_union(&walk.value_types, walk.returns_none),
    })
}

/// `None`, `NoReturn` and `Never` (any module prefix) say a function returns nothing.
fn is_nothing_annotation(annotation: &str) -> bool {
    let a = annotation.trim();
    let last = a.rsplit('.').next().unwrap_or(a);
    matches!(a, "None" | "'None'" | "\"None\"") || matches!(last, "NoReturn" | "Never")
}

/// The type of the returned literals: one type, or `T | None` when some returns are `None`.
/// Anything not a literal (or several literal types) infers nothing.
fn infer_union(types: &[Option<&'static str>], returns_none: bool) -> Option<String> {
    let mut found: Option<&str> = None;
    for t in types {
        let t = (*t)?;
        match found {
            None => found = Some(t),
            Some(f) if f == t => {}
            Some(_) => return None,
        }
    }
    let t = found?;
    Some(if returns_none {
        format!("{t} | None")
    } else {
        t.to_string()
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GeneratorKind {
    Generator,
    Iterator,
}

/// `Generator[Y, S, R]`, `AsyncGenerator[Y, S]`, `Iterator[Y]`, `Iterable[Y]` and their async
/// variants (any module prefix), with the subscript's arguments split at top-level commas.
fn generator_annotation(annotation: &str) -> Option<(GeneratorKind, Vec<&str>)> {
    let a = annotation.trim();
    let (head, args) = match a.find('[') {
        Some(open) if a.ends_with(']') => (&a[..open], split_top_level(&a[open + 1..a.len() - 1])),
        _ => (a, Vec::new()),
    };
    let name = head.trim().rsplit('.').next().unwrap_or(head);
    let kind = match name {
        "Generator" | "AsyncGenerator" => GeneratorKind::Generator,
        "Iterator" | "Iterable" | "AsyncIterator" | "AsyncIterable" => GeneratorKind::Iterator,
        _ => return None,
    };
    Some((kind, args))
}

/// The yield type of a generator-like return annotation (`Iterator[int]` gives `int`).
pub fn yield_type_of_annotation(annotation: &str) -> Option<String> {
    let (_, args) = generator_annotation(annotation)?;
    args.first().map(|y| y.to_string())
}

/// Splits `a, b[c, d], e` at commas outside brackets, trimming each part.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        parts.push(last);
    }
    parts
}

/// The parameters of a `parameters` node, in signature order.
fn parameters(node: Node<'_>, source: &str) -> Vec<ParamFact> {
    let mut out: Vec<ParamFact> = Vec::new();
    let mut keyword_only = false;
    let mut cursor = node.walk();
    for p in node.named_children(&mut cursor) {
        let field = |name: &str| p.child_by_field_name(name);
        let (name, kind, annotation, default) = match p.kind_str() {
            "identifier" => (text(p, source), ParameterKind::Normal, None, None),
            "list_splat_pattern" | "dictionary_splat_pattern" => {
                let (name, kind) = splat(p, source);
                (name, kind, None, None)
            }
            "typed_parameter" => {
                let (name, kind) = match p.named_child(0) {
                    Some(inner) if inner.kind_str() == "identifier" => {
                        (text(inner, source), ParameterKind::Normal)
                    }
                    Some(inner) => splat(inner, source),
                    None => ("", ParameterKind::Normal),
                };
                (name, kind, field("type"), None)
            }
            "default_parameter" => (
                field("name").map_or("", |n| text(n, source)),
                ParameterKind::Normal,
                None,
                field("value"),
            ),
            "typed_default_parameter" => (
                field("name").map_or("", |n| text(n, source)),
                ParameterKind::Normal,
                field("type"),
                field("value"),
            ),
            "keyword_separator" => {
                keyword_only = true;
                continue;
            }
            "positional_separator" => {
                for param in &mut out {
                    if param.kind == ParameterKind::Normal {
                        param.kind = ParameterKind::PositionalOnly;
                    }
                }
                continue;
            }
            _ => continue,
        };
        if name.is_empty() {
            continue;
        }
        let kind = match kind {
            ParameterKind::Normal if keyword_only => ParameterKind::KeywordOnly,
            ParameterKind::VarPositional => {
                keyword_only = true;
                kind
            }
            _ => kind,
        };
        out.push(ParamFact {
            name: name.to_string(),
            kind,
            annotation: annotation.map(|a| text(a, source).to_string()),
            default: default.map(|d| text(d, source).to_string()),
            inferred_type: default
                .and_then(|d| literal_type(d, source))
                .map(str::to_string),
        });
    }
    out
}

fn splat<'s>(node: Node<'_>, source: &'s str) -> (&'s str, ParameterKind) {
    let kind = if node.kind_str() == "dictionary_splat_pattern" {
        ParameterKind::VarKeyword
    } else {
        ParameterKind::VarPositional
    };
    (
        text(node, source).trim_start_matches('*').trim_start(),
        kind,
    )
}

/// The type of a literal expression; `None` for `None` and non-literals.
fn literal_type(node: Node<'_>, source: &str) -> Option<&'static str> {
    Some(match node.kind_str() {
        "integer" => "int",
        "float" => {
            if text(node, source).ends_with(['j', 'J']) {
                "complex"
            } else {
                "float"
            }
        }
        "true" | "false" => "bool",
        "string" => {
            let t = text(node, source);
            let prefix: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect::<String>()
                .to_ascii_lowercase();
            if prefix.contains('b') {
                "bytes"
            } else {
                "str"
            }
        }
        "concatenated_string" => {
            let first = node.named_child(0)?;
            literal_type(first, source)?
        }
        "list" | "list_comprehension" => "list",
        "dictionary" | "dictionary_comprehension" => "dict",
        "tuple" => "tuple",
        "set" | "set_comprehension" => "set",
        "unary_operator" => {
            let operand = node.child_by_field_name("argument")?;
            match literal_type(operand, source)? {
                t @ ("int" | "float" | "complex") => t,
                _ => return None,
            }
        }
        "parenthesized_expression" => literal_type(node.named_child(0)?, source)?,
        _ => return None,
    })
}

/// An `except` clause around the code being walked: what it catches.
#[derive(Debug, Clone)]
struct Handler {
    /// The exception names as written; empty for a bare `except:`.
    types: Vec<String>,
    /// The `as` name.
    alias: Option<String>,
}

/// A `try` whose body encloses the code being walked.
#[derive(Debug, Clone)]
struct TryScope {
    /// The exception names its handlers catch; `None` for a bare `except:`.
    catches: Vec<Option<String>>,
    parent: Option<usize>,
}

#[derive(Clone, Copy)]
struct Frame<'t> {
    node: Node<'t>,
    /// Index into `BodyWalk::tries` of the innermost enclosing `try` body.
    try_scope: Option<usize>,
    /// Index into `BodyWalk::handlers` of the innermost enclosing `except` clause.
    handler: Option<usize>,
    /// Inside a nested `def`/`class`/`lambda`: only calls are collected there.
    nested: bool,
}

#[derive(Default)]
struct BodyWalk {
    /// The class a method belongs to: `raise type(self)(...)`, `raise self.__class__(...)` and
    /// `raise cls(...)` raise it.
    own_class: Option<String>,
    returns: ReturnStatements,
    /// The literal type of each valued return (`None` for a non-literal), `return None`
    /// excluded.
    value_types: Vec<Option<&'static str>>,
    returns_none: bool,
    has_yield: bool,
    has_yield_statement: bool,
    raises: Vec<String>,
    caught: Vec<String>,
    unnamed_raise: bool,
    unnamed_raises: Vec<String>,
    calls: Vec<String>,
    tries: Vec<TryScope>,
    handlers: Vec<Handler>,
    /// Local variables assigned `Cls(...)`: `(name, Cls)`, latest last.
    exception_variables: Vec<(String, String)>,
}

impl BodyWalk {
    fn run(&mut self, body: Node<'_>, source: &str, params: &[ParamFact]) {
        let mut stack = vec![Frame {
            node: body,
            try_scope: None,
            handler: None,
            nested: false,
        }];
        while let Some(frame) = stack.pop() {
            let node = frame.node;
            let mut child_frame = frame;
            match node.kind_str() {
                "function_definition" | "class_definition" | "lambda" => {
                    child_frame.nested = true;
                }
                "call" => {
                    if let Some(name) = node
                        .child_by_field_name("function")
                        .and_then(|f| dotted_name(f, source))
                    {
                        push_unique(&mut self.calls, name);
                    }
                }
                _ => {}
            }
            if !frame.nested {
                match node.kind_str() {
                    "return_statement" => self.return_statement(node, source),
                    "yield" => {
                        self.has_yield = true;
                        if node
                            .parent()
                            .is_some_and(|p| p.kind_str() == "expression_statement")
                        {
                            self.has_yield_statement = true;
                        }
                    }
                    "raise_statement" => self.raise_statement(frame, source, params),
                    "assignment" => self.remember_exception_variable(node, source),
                    "try_statement" => {
                        self.push_try(node, frame, source, &mut stack);
                        continue;
                    }
                    _ => {}
                }
            }
            let start = stack.len();
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                stack.push(Frame {
                    node: child,
                    ..child_frame
                });
            }
            stack[start..].reverse();
        }
    }

    /// Queues the parts of a `try` statement: its body inside a new try scope, each `except`
    /// clause with its handler, `else` and `finally` as they are.
    fn push_try<'t>(
        &mut self,
        node: Node<'t>,
        frame: Frame<'t>,
        source: &str,
        stack: &mut Vec<Frame<'t>>,
    ) {
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
        let mut catches = Vec::new();
        let mut clause_handlers = Vec::new();
        for child in &children {
            if matches!(child.kind_str(), "except_clause" | "except_group_clause") {
                let handler = except_handler(*child, source);
                if handler.types.is_empty() {
                    catches.push(None);
                } else {
                    catches.extend(handler.types.iter().cloned().map(Some));
                }
                self.handlers.push(handler);
                clause_handlers.push(Some(self.handlers.len() - 1));
            } else {
                clause_handlers.push(None);
            }
        }
        self.tries.push(TryScope {
            catches,
            parent: frame.try_scope,
        });
        let scope = self.tries.len() - 1;
        let body = node.child_by_field_name("body");
        let start = stack.len();
        for (child, handler) in children.iter().zip(clause_handlers) {
            let is_body = body.is_some_and(|b| b.id() == child.id());
            stack.push(Frame {
                node: *child,
                try_scope: if is_body {
                    Some(scope)
                } else {
                    frame.try_scope
                },
                handler: handler.or(frame.handler),
                nested: frame.nested,
            });
        }
        stack[start..].reverse();
    }

    fn return_statement(&mut self, node: Node<'_>, source: &str) {
        self.returns.any = true;
        match node
            .named_children(&mut node.walk())
            .find(|c| !c.is_extra())
        {
            None => self.returns.bare = true,
            Some(value) => {
                self.returns.valued = true;
                if value.kind_str() == "none" {
                    self.returns_none = true;
                } else {
                    self.value_types.push(literal_type(value, source));
                }
            }
        }
    }

    fn remember_exception_variable(&mut self, node: Node<'_>, source: &str) {
        let (Some(left), Some(right)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            return;
        };
        if left.kind_str() != "identifier" {
            return;
        }
        let name = text(left, source).to_string();
        let class = match right.kind_str() {
            "call" => right
                .child_by_field_name("function")
                .and_then(|f| dotted_name(f, source)),
            _ => None,
        };
        self.exception_variables.retain(|(n, _)| *n != name);
        if let Some(class) = class {
            self.exception_variables.push((name, class));
        }
    }

    fn raise_statement(&mut self, frame: Frame<'_>, source: &str, params: &[ParamFact]) {
        let node = frame.node;
        let handler = frame.handler.map(|h| self.handlers[h].clone());
        let exception = node.named_children(&mut node.walk()).find(|c| {
            !c.is_extra() && Some(c.id()) != node.child_by_field_name("cause").map(|n| n.id())
        });
        let names: Vec<String> = match exception {
            None => match &handler {
                Some(h) if !h.types.is_empty() => h.types.clone(),
                _ => Vec::new(),
            },
            Some(e)
                if e.kind_str() == "call"
                    && self.own_class.is_some()
                    && e.child_by_field_name("function")
                        .and_then(|f| source.get(f.byte_range()))
                        .is_some_and(|f| {
                            matches!(f, "type(self)" | "self.__class__" | "cls" | "type(cls)")
                        }) =>
            {
                self.own_class.iter().cloned().collect()
            }
            Some(e) => {
                let target = if e.kind_str() == "call" {
                    e.child_by_field_name("function")
                } else {
                    Some(e)
                };
                match target.and_then(|t| dotted_name(t, source)) {
                    Some(name) if e.kind_str() != "call" && !name.contains('.') => {
                        if let Some(h) = handler.as_ref().filter(|h| {
                            h.alias.as_deref() == Some(name.as_str()) && !h.types.is_empty()
                        }) {
                            h.types.clone()
                        } else if let Some((_, class)) = self
                            .exception_variables
                            .iter()
                            .rev()
                            .find(|(n, _)| *n == name)
                        {
                            vec![class.clone()]
                        } else if params.iter().any(|p| p.name == name)
                            || handler
                                .as_ref()
                                .is_some_and(|h| h.alias.as_deref() == Some(&name))
                            || !looks_like_class(&name)
                        {
                            Vec::new()
                        } else {
                            vec![name]
                        }
                    }
                    Some(name) => vec![name],
                    None => Vec::new(),
                }
            }
        };
        if names.is_empty() {
            self.unnamed_raise = true;
            let written = exception.and_then(|e| {
                let target = if e.kind_str() == "call" {
                    e.child_by_field_name("function").unwrap_or(e)
                } else {
                    e
                };
                source.get(target.byte_range())
            });
            if let Some(written) = written.filter(|w| w.len() <= 60 && !w.contains('\n')) {
                push_unique(&mut self.unnamed_raises, written.to_string());
            }
        }
        for name in names {
            if self.is_caught(&name, frame.try_scope) {
                push_unique(&mut self.caught, name);
            } else {
                push_unique(&mut self.raises, name);
            }
        }
    }

    /// Whether an enclosing `try` of this function catches `name`.
    fn is_caught(&self, name: &str, mut scope: Option<usize>) -> bool {
        while let Some(s) = scope {
            let t = &self.tries[s];
            if t.catches.iter().any(|c| match c {
                None => true,
                Some(caught) => catches(caught, name),
            }) {
                return true;
            }
            scope = t.parent;
        }
        false
    }
}

/// Whether an unresolved bare name raised looks like an exception class rather than a
/// variable holding an exception: it starts with an upper-case letter.
fn looks_like_class(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// Whether `except caught` catches a raised `name`: the same name (or the same last segment),
/// `BaseException`, `Exception` for anything but the few `BaseException`-only classes, or a
/// built-in base class of a built-in exception (`LookupError` catches `KeyError`).
pub fn catches(caught: &str, name: &str) -> bool {
    let last = |s: &str| s.rsplit('.').next().unwrap_or(s).to_string();
    let (caught, name) = (last(caught), last(name));
    if caught == name || caught == "BaseException" {
        return true;
    }
    if caught == "Exception" {
        return !matches!(
            name.as_str(),
            "KeyboardInterrupt" | "SystemExit" | "GeneratorExit" | "BaseExceptionGroup"
        );
    }
    let mut current = name.as_str();
    while let Some(parent) = builtin_parent(current) {
        if parent == caught {
            return true;
        }
        current = parent;
    }
    false
}

/// The base class of a built-in exception, up to (not including) `Exception`.
fn builtin_parent(name: &str) -> Option<&'static str> {
    Some(match name {
        "KeyError" | "IndexError" => "LookupError",
        "ZeroDivisionError" | "OverflowError" | "FloatingPointError" => "ArithmeticError",
        "UnicodeError" => "ValueError",
        "UnicodeDecodeError" | "UnicodeEncodeError" | "UnicodeTranslateError" => "UnicodeError",
        "ModuleNotFoundError" => "ImportError",
        "NotImplementedError" | "RecursionError" => "RuntimeError",
        "UnboundLocalError" => "NameError",
        "IndentationError" => "SyntaxError",
        "TabError" => "IndentationError",
        "FileNotFoundError" | "FileExistsError" | "PermissionError" | "IsADirectoryError"
        | "NotADirectoryError" | "TimeoutError" | "InterruptedError" | "ChildProcessError"
        | "ProcessLookupError" | "BlockingIOError" | "ConnectionError" | "IOError"
        | "EnvironmentError" => "OSError",
        "BrokenPipeError"
        | "ConnectionAbortedError"
        | "ConnectionRefusedError"
        | "ConnectionResetError" => "ConnectionError",
        "DeprecationWarning"
        | "UserWarning"
        | "RuntimeWarning"
        | "FutureWarning"
        | "PendingDeprecationWarning"
        | "SyntaxWarning"
        | "ImportWarning"
        | "UnicodeWarning"
        | "BytesWarning"
        | "ResourceWarning"
        | "EncodingWarning" => "Warning",
        _ => return None,
    })
}

/// The `except` clause's caught names (`except (A, mod.B) as e` gives `A`, `mod.B`) and alias.
fn except_handler(clause: Node<'_>, source: &str) -> Handler {
    let mut types = Vec::new();
    let mut alias = clause
        .child_by_field_name("alias")
        .map(|a| text(a, source).to_string());
    let mut cursor = clause.walk();
    let mut values: Vec<Node<'_>> = clause
        .children_by_field_name("value", &mut cursor)
        .collect();
    if values.is_empty() {
        // Older grammars put the expression (or an `as_pattern`) directly in the clause.
        let mut cursor = clause.walk();
        values = clause
            .named_children(&mut cursor)
            .filter(|c| !c.is_extra() && c.kind_str() != "block")
            .collect();
    }
    for value in values {
        let mut value = value;
        if value.kind_str() == "as_pattern" {
            if let Some(target) = value.child_by_field_name("alias") {
                alias = Some(text(target, source).trim().to_string());
            }
            match value.named_child(0) {
                Some(v) => value = v,
                None => continue,
            }
        }
        let mut stack = vec![value];
        while let Some(v) = stack.pop() {
            match v.kind_str() {
                "tuple" | "parenthesized_expression" | "expression_list" => {
                    let mut c = v.walk();
                    let children: Vec<Node<'_>> = v.named_children(&mut c).collect();
                    stack.extend(children.into_iter().rev());
                }
                _ => {
                    if let Some(name) = dotted_name(v, source) {
                        types.push(name);
                    }
                }
            }
        }
    }
    Handler { types, alias }
}

/// `a`, `a.b.c` as written (whitespace removed), or `None` for anything else.
pub fn dotted_name(node: Node<'_>, source: &str) -> Option<String> {
    match node.kind_str() {
        "identifier" => Some(text(node, source).to_string()),
        "attribute" => {
            let object = node.child_by_field_name("object")?;
            let attribute = node.child_by_field_name("attribute")?;
            let mut name = dotted_name(object, source)?;
            name.push('.');
            name.push_str(text(attribute, source));
            Some(name)
        }
        _ => None,
    }
}

fn push_unique(list: &mut Vec<String>, name: String) {
    if !list.contains(&name) {
        list.push(name);
    }
}

/// A body of only a docstring and `pass`, `...` or `raise NotImplementedError[(...)]`.
fn is_stub_body(block: Node<'_>, source: &str) -> bool {
    let mut cursor = block.walk();
    let mut any = false;
    for (i, statement) in block
        .named_children(&mut cursor)
        .filter(|c| !c.is_extra())
        .enumerate()
    {
        any = true;
        let ok = match statement.kind_str() {
            "pass_statement" => true,
            "expression_statement" => statement.named_child(0).is_some_and(|e| {
                e.kind_str() == "ellipsis"
                    || (i == 0 && matches!(e.kind_str(), "string" | "concatenated_string"))
            }),
            "raise_statement" => statement.named_child(0).is_some_and(|e| {
                let target = if e.kind_str() == "call" {
                    e.child_by_field_name("function")
                } else {
                    Some(e)
                };
                target.is_some_and(|t| text(t, source) == "NotImplementedError")
            }),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    any
}

/// Facts of the class `class_node` (a `class_definition`, or a `decorated_definition` around
/// one) in `source`.
pub fn class_facts(class_node: Node<'_>, source: &str) -> ClassFacts {
    let class = definition_of(class_node);
    let mut facts = ClassFacts::default();
    let Some(body) = class.child_by_field_name("body") else {
        return facts;
    };
    let mut init: Option<Node<'_>> = None;
    let mut cursor = body.walk();
    for statement in body.named_children(&mut cursor) {
        let def = definition_of(statement);
        match def.kind_str() {
            "function_definition" => {
                let name = def.child_by_field_name("name").map(|n| text(n, source));
                if name == Some("__init__") {
                    init = Some(def);
                }
            }
            "expression_statement" => {
                for assignment in assignments_in(statement) {
                    class_attribute(assignment, source, &mut facts.attributes);
                }
            }
            _ => {}
        }
    }
    if let Some(init) = init {
        facts.init_params = function_facts(init, source, true).params;
        if let Some(init_body) = init.child_by_field_name("body") {
            init_attributes(init_body, source, &facts.init_params, &mut facts.attributes);
        }
    }
    facts
}

/// The assignments of an expression statement, chained ones (`a = b = 1`) included.
fn assignments_in(statement: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut cursor = statement.walk();
    let mut next: Option<Node<'_>> = statement
        .named_children(&mut cursor)
        .find(|c| c.kind_str() == "assignment");
    while let Some(a) = next {
        out.push(a);
        next = a
            .child_by_field_name("right")
            .filter(|r| r.kind_str() == "assignment");
    }
    out
}

/// The value at the end of a chain of assignments.
fn assigned_value(assignment: Node<'_>) -> Option<Node<'_>> {
    let mut right = assignment.child_by_field_name("right")?;
    while right.kind_str() == "assignment" {
        right = right.child_by_field_name("right")?;
    }
    Some(right)
}

fn add_attribute(attributes: &mut Vec<AttributeFact>, attribute: AttributeFact) {
    if attribute.name.starts_with('_') {
        return;
    }
    match attributes.iter_mut().find(|a| a.name == attribute.name) {
        Some(existing) => {
            if existing.annotation.is_none() {
                existing.annotation = attribute.annotation;
            }
            if existing.inferred_type.is_none() {
                existing.inferred_type = attribute.inferred_type;
            }
        }
        None => attributes.push(attribute),
    }
}

fn class_attribute(assignment: Node<'_>, source: &str, attributes: &mut Vec<AttributeFact>) {
    let Some(left) = assignment.child_by_field_name("left") else {
        return;
    };
    let annotation = assignment
        .child_by_field_name("type")
        .map(|t| text(t, source).to_string());
    let inferred = assigned_value(assignment)
        .and_then(|v| literal_type(v, source))
        .map(str::to_string);
    let targets: Vec<Node<'_>> = match left.kind_str() {
        "identifier" => vec![left],
        "pattern_list" | "tuple_pattern" => {
            let mut c = left.walk();
            left.named_children(&mut c)
                .filter(|n| n.kind_str() == "identifier")
                .collect()
        }
        _ => Vec::new(),
    };
    let single = targets.len() == 1;
    for target in targets {
        add_attribute(
            attributes,
            AttributeFact {
                name: text(target, source).to_string(),
                annotation: annotation.clone(),
                inferred_type: if single { inferred.clone() } else { None },
            },
        );
    }
}

/// `self.x = ...` and `self.x: T = ...` anywhere in `__init__` (nested definitions excluded).
fn init_attributes(
    body: Node<'_>,
    source: &str,
    params: &[ParamFact],
    attributes: &mut Vec<AttributeFact>,
) {
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        match node.kind_str() {
            "function_definition" | "class_definition" | "lambda" => continue,
            "assignment" => {
                if let Some(left) = node.child_by_field_name("left") {
                    let is_self = left.kind_str() == "attribute"
                        && left
                            .child_by_field_name("object")
                            .is_some_and(|o| text(o, source) == "self");
                    if is_self {
                        let name = left
                            .child_by_field_name("attribute")
                            .map_or("", |a| text(a, source));
                        let value = assigned_value(node);
                        let inferred = value.and_then(|v| {
                            literal_type(v, source).map(str::to_string).or_else(|| {
                                (v.kind_str() == "identifier")
                                    .then(|| text(v, source))
                                    .and_then(|n| params.iter().find(|p| p.name == n))
                                    .and_then(|p| p.type_text().map(str::to_string))
                            })
                        });
                        add_attribute(
                            attributes,
                            AttributeFact {
                                name: name.to_string(),
                                annotation: node
                                    .child_by_field_name("type")
                                    .map(|t| text(t, source).to_string()),
                                inferred_type: inferred,
                            },
                        );
                    }
                }
            }
            _ => {}
        }
        let start = stack.len();
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
        stack[start..].reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::parse::parse_str;
    use tree_sitter::Tree;

    /// The first definition named `name` in `source` (searching the whole tree).
    fn find_def<'t>(tree: &'t Tree, source: &str, name: &str) -> Node<'t> {
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            if matches!(node.kind_str(), "function_definition" | "class_definition")
                && node
                    .child_by_field_name("name")
                    .is_some_and(|n| text(n, source) == name)
            {
                return node;
            }
            let mut cursor = node.walk();
            let children: Vec<_> = node.named_children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
        panic!("no definition {name}")
    }

    fn facts_of(source: &str, name: &str, is_method: bool) -> FunctionFacts {
        let tree = parse_str(source, None);
        function_facts(find_def(&tree, source, name), source, is_method)
    }

    fn facts(source: &str) -> FunctionFacts {
        facts_of(source, "f", false)
    }

    fn param_names(f: &FunctionFacts) -> Vec<String> {
        f.params.iter().map(|p| p.documented_name()).collect()
    }

    // Parameters.

    #[test]
    fn parameters_in_signature_order_with_stars_and_kinds() {
        let f = facts("def f(a, /, b: int, *args, c=1, **kwargs): pass\n");
        assert_eq!(param_names(&f), ["a", "b", "*args", "c", "**kwargs"]);
        let kinds: Vec<_> = f.params.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [
                ParameterKind::PositionalOnly,
                ParameterKind::Normal,
                ParameterKind::VarPositional,
                ParameterKind::KeywordOnly,
                ParameterKind::VarKeyword
            ]
        );
        assert_eq!(f.params[1].annotation.as_deref(), Some("int"));
        assert_eq!(f.params[3].default.as_deref(), Some("1"));
    }

    #[test]
    fn methods_drop_self_and_cls_but_static_methods_keep_their_first_parameter() {
        let source = "\
class C:
    def m(self, x): pass
    @classmethod
    def c(cls, y): pass
    @staticmethod
    def s(z): pass
";
        assert_eq!(param_names(&facts_of(source, "m", true)), ["x"]);
        assert_eq!(param_names(&facts_of(source, "c", true)), ["y"]);
        assert_eq!(param_names(&facts_of(source, "s", true)), ["z"]);
        assert_eq!(param_names(&facts_of(source, "m", false)), ["self", "x"]);
    }

    #[test]
    fn a_method_with_only_star_args_keeps_them() {
        assert_eq!(
            param_names(&facts_of("def f(*args): pass\n", "f", true)),
            ["*args"]
        );
    }

    #[test]
    fn types_are_inferred_from_literal_defaults_only() {
        let f = facts(
            "def f(a=1, b=1.5, c='x', d=b'x', e=True, g=[], h={}, i=(), j={1}, k=None, \
             l=-2, m=CONST, n: str = 'y'): pass\n",
        );
        let inferred: Vec<Option<&str>> = f
            .params
            .iter()
            .map(|p| p.inferred_type.as_deref())
            .collect();
        assert_eq!(
            inferred,
            [
                Some("int"),
                Some("float"),
                Some("str"),
                Some("bytes"),
                Some("bool"),
                Some("list"),
                Some("dict"),
                Some("tuple"),
                Some("set"),
                None,
                Some("int"),
                None,
                Some("str"),
            ]
        );
        assert_eq!(f.params[12].type_text(), Some("str"));
    }

    // Returns.

    #[test]
    fn returning_a_value_needs_returns_but_bare_return_and_return_none_do_not() {
        assert!(facts("def f():\n    return 1\n").returns.is_some());
        let bare = facts("def f(x):\n    if x:\n        return\n    print(x)\n");
        assert!(bare.returns.is_none());
        assert!(bare.return_statements.any && bare.return_statements.bare);
        let none = facts("def f():\n    return None\n");
        assert!(none.returns.is_none());
        assert!(none.return_statements.valued);
        assert!(facts("def f():\n    pass\n").returns.is_none());
    }

    #[test]
    fn return_annotations_decide_unless_they_say_nothing() {
        let f = facts("def f() -> int:\n    ...\n");
        assert_eq!(f.returns.unwrap().annotation.as_deref(), Some("int"));
        assert!(facts("def f() -> None:\n    return None\n")
            .returns
            .is_none());
        assert!(facts("def f() -> NoReturn:\n    raise E\n")
            .returns
            .is_none());
        assert!(facts("def f() -> typing.NoReturn:\n    raise E\n")
            .returns
            .is_none());
    }

    #[test]
    fn return_types_are_inferred_from_literal_values() {
        let f = facts("def f(x):\n    if x:\n        return True\n    return False\n");
        assert_eq!(f.returns.unwrap().inferred_type.as_deref(), Some("bool"));
        let f = facts("def f(x):\n    if x:\n        return 'a'\n    return None\n");
        assert_eq!(
            f.returns.unwrap().inferred_type.as_deref(),
            Some("str | None")
        );
        let f = facts("def f(x):\n    if x:\n        return 1\n    return 'a'\n");
        assert_eq!(f.returns.unwrap().inferred_type, None);
        let f = facts("def f(x):\n    return x\n");
        assert_eq!(f.returns.unwrap().inferred_type, None);
    }

    #[test]
    fn returns_in_nested_functions_classes_and_lambdas_do_not_count() {
        let f = facts(
            "def f():\n    def g():\n        return 1\n    class C:\n        def m(self):\n            return 2\n    h = lambda: 3\n",
        );
        assert!(f.returns.is_none());
        assert!(!f.return_statements.any);
    }

    // Yields.

    #[test]
    fn generators_yield_and_take_the_yield_type_from_the_annotation() {
        let f = facts("def f() -> Iterator[int]:\n    yield 1\n");
        let y = f.yields.unwrap();
        assert_eq!(y.annotation.as_deref(), Some("int"));
        assert!(y.has_yield_statement);
        assert!(
            f.returns.is_none(),
            "an Iterator annotation is not a return value"
        );
        let f = facts("def f() -> typing.Generator[str, None, None]:\n    yield from g()\n");
        assert_eq!(f.yields.unwrap().annotation.as_deref(), Some("str"));
        assert!(f.returns.is_none());
    }

    #[test]
    fn a_generator_that_also_returns_documents_the_generators_return_type() {
        let f = facts("def f() -> Generator[int, None, str]:\n    yield 1\n    return 'x'\n");
        assert_eq!(f.returns.unwrap().annotation.as_deref(), Some("str"));
        let f = facts("def f():\n    yield 1\n    return 2\n");
        assert!(f.yields.is_some() && f.returns.is_some());
    }

    #[test]
    fn yield_expressions_make_a_generator_but_not_a_yield_statement() {
        let f = facts("def f():\n    x = yield\n");
        assert!(!f.yields.unwrap().has_yield_statement);
    }

    #[test]
    fn yields_in_nested_functions_and_lambdas_do_not_count() {
        assert!(
            facts("def f():\n    def g():\n        yield 1\n    return g\n")
                .yields
                .is_none()
        );
        assert!(facts("def f():\n    g = lambda: (yield)\n")
            .yields
            .is_none());
    }

    // Raises.

    #[test]
    fn raised_exceptions_as_written_deduplicated_in_first_occurrence_order() {
        let f = facts(
            "def f(x):\n    if x:\n        raise ValueError('x')\n    if x > 1:\n        raise mod.Err\n    raise ValueError\n",
        );
        assert_eq!(f.raises, ["ValueError", "mod.Err"]);
        assert!(!f.has_unnamed_raise);
    }

    #[test]
    fn raise_from_names_the_raised_exception_not_the_cause() {
        let f = facts("def f():\n    try:\n        g()\n    except KeyError as e:\n        raise LookupError('x') from e\n");
        assert_eq!(f.raises, ["LookupError"]);
    }

    #[test]
    fn exceptions_caught_in_the_same_function_are_not_raised() {
        let f = facts(
            "def f():\n    try:\n        raise ValueError('a')\n    except ValueError:\n        pass\n",
        );
        assert!(f.raises.is_empty());
        assert_eq!(f.caught_raises, ["ValueError"]);
        let by_base = facts(
            "def f():\n    try:\n        raise KeyError('a')\n    except (LookupError, TypeError):\n        pass\n",
        );
        assert!(by_base.raises.is_empty());
        let by_exception = facts(
            "def f():\n    try:\n        raise MyError\n    except Exception:\n        pass\n",
        );
        assert!(by_exception.raises.is_empty());
        let bare = facts("def f():\n    try:\n        raise MyError\n    except:\n        pass\n");
        assert!(bare.raises.is_empty());
    }

    #[test]
    fn raises_in_handlers_else_and_finally_escape_their_own_try() {
        let f = facts(
            "def f():\n    try:\n        g()\n    except ValueError:\n        raise ValueError('again')\n    else:\n        raise TypeError\n    finally:\n        raise OSError\n",
        );
        assert_eq!(f.raises, ["ValueError", "TypeError", "OSError"]);
    }

    #[test]
    fn an_outer_try_catches_what_an_inner_handler_raises() {
        let f = facts(
            "def f():\n    try:\n        try:\n            g()\n        except KeyError:\n            raise ValueError\n    except ValueError:\n        pass\n",
        );
        assert!(f.raises.is_empty());
    }

    #[test]
    fn bare_raise_and_raise_of_the_alias_re_raise_the_caught_exceptions() {
        let f = facts("def f():\n    try:\n        g()\n    except KeyError:\n        raise\n");
        assert_eq!(f.raises, ["KeyError"]);
        let f = facts(
            "def f():\n    try:\n        g()\n    except (KeyError, mod.Err) as e:\n        log(e)\n        raise e\n",
        );
        assert_eq!(f.raises, ["KeyError", "mod.Err"]);
    }

    #[test]
    fn a_bare_raise_under_a_bare_except_cannot_be_named() {
        let f = facts("def f():\n    try:\n        g()\n    except:\n        raise\n");
        assert!(f.raises.is_empty());
        assert!(f.has_unnamed_raise);
    }

    #[test]
    fn raising_a_variable_names_its_class_when_assigned_a_call_here() {
        let f = facts("def f():\n    exc = ValueError('x')\n    raise exc\n");
        assert_eq!(f.raises, ["ValueError"]);
        let f = facts("def f(error):\n    raise error\n");
        assert!(f.raises.is_empty());
        assert!(f.has_unnamed_raise);
        let f = facts("def f():\n    exc = get_error()\n    raise exc\n");
        assert_eq!(f.raises, ["get_error"]);
        let f = facts("def f():\n    raise exc_value\n");
        assert!(f.raises.is_empty() && f.has_unnamed_raise);
    }

    #[test]
    fn raises_in_nested_functions_do_not_count() {
        let f = facts("def f():\n    def g():\n        raise ValueError\n    return g\n");
        assert!(f.raises.is_empty());
        assert!(!f.has_unnamed_raise);
    }

    // Decorators, stubs and calls.

    #[test]
    fn decorators_mark_properties_abstract_methods_and_overloads() {
        let source = "\
class C:
    @property
    def a(self): return 1
    @functools.cached_property
    def b(self): return 1
    @a.setter
    def a(self, v): pass
    @abc.abstractmethod
    def c(self): ...
    @typing.overload
    def d(self, x: int) -> int: ...
";
        assert!(facts_of(source, "a", true).is_property);
        assert!(facts_of(source, "b", true).is_property);
        let c = facts_of(source, "c", true);
        assert!(c.is_abstract && c.is_stub && !c.is_property);
        let d = facts_of(source, "d", true);
        assert!(d.is_overload);
        assert_eq!(d.decorators, ["typing.overload"]);
    }

    #[test]
    fn calls_are_dotted_names_deduplicated_nested_ones_included() {
        let f = facts(
            "def f(self):\n    self.save()\n    os.path.join(a, b)\n    self.save()\n    g = lambda: helper()\n    items[0]()\n    make()()\n",
        );
        assert_eq!(f.calls, ["self.save", "os.path.join", "helper", "make"]);
    }

    #[test]
    fn decorated_definitions_are_accepted_as_the_node() {
        let source = "@dec\ndef f(x):\n    return x\n";
        let tree = parse_str(source, None);
        let decorated = tree.root_node().named_child(0).unwrap();
        assert_eq!(decorated.kind_str(), "decorated_definition");
        let f = function_facts(decorated, source, false);
        assert_eq!(param_names(&f), ["x"]);
        assert_eq!(f.decorators, ["dec"]);
    }

    // Classes.

    #[test]
    fn class_facts_read_the_last_init_and_public_attributes_in_source_order() {
        let source = "\
class C:
    kind: str = 'a'
    count = 0
    _private = 1
    def __init__(self, a: int, b='x'):
        self.a = a
        self.b = b
        self._hidden = 1
        self.kind = 'b'
        if a:
            self.c: list = []
        def inner():
            self.d = 1
";
        let tree = parse_str(source, None);
        let c = class_facts(find_def(&tree, source, "C"), source);
        let names: Vec<_> = c.init_params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let attrs: Vec<(&str, Option<&str>, Option<&str>)> = c
            .attributes
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.annotation.as_deref(),
                    a.inferred_type.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            attrs,
            [
                ("kind", Some("str"), Some("str")),
                ("count", None, Some("int")),
                ("a", None, Some("int")),
                ("b", None, Some("str")),
                ("c", Some("list"), Some("list")),
            ]
        );
    }

    #[test]
    fn broken_code_gives_facts_without_panicking() {
        for source in [
            "def f(:\n    raise\n",
            "def f(x, *, ):\n    return (\n",
            "class C(\n    def __init__(self, a):\n        self.\n",
            "def f():\n    try:\n        raise\n    except (\n",
        ] {
            let tree = parse_str(source, None);
            let mut stack = vec![tree.root_node()];
            while let Some(node) = stack.pop() {
                match node.kind_str() {
                    "function_definition" => {
                        function_facts(node, source, false);
                    }
                    "class_definition" => {
                        class_facts(node, source);
                    }
                    _ => {}
                }
                let mut cursor = node.walk();
                stack.extend(node.named_children(&mut cursor));
            }
        }
    }

    #[test]
    fn raising_an_instance_of_the_own_class_names_it() {
        let src = "class Money(Exception):\n    def bad(self):\n        raise type(self)(\"x\")\n    @classmethod\n    def make(cls):\n        raise cls()\n";
        let tree = crate::analysis::parse::parse_str(src, None);
        let class = tree.root_node().named_child(0).unwrap();
        let body = class.child_by_field_name("body").unwrap();
        let bad = body.named_child(0).unwrap();
        let f = function_facts(bad, src, true);
        assert_eq!(f.raises, vec!["Money"]);
        assert!(!f.has_unnamed_raise);
        let make = body.named_child(1).unwrap();
        assert_eq!(function_facts(make, src, true).raises, vec!["Money"]);
    }
}
