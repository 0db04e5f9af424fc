//! What the project rules read from the tree of one file, in one walk: every scope with the
//! names it binds and how (a `def`, an import, an alias, a constructor call, a parameter, or
//! something else), every call whose callee is a name or a dotted path (with the shape of its
//! arguments), and the attribute names the file assigns (`x.name = …`). Names are borrowed
//! from the text, so the facts cost no allocation per name; the tree is not kept.
//!
//! This is all TDM021 needs to resolve calls statically (see `resolve.rs`): no call-graph facts
//! and no points-to solve.

use crate::analysis::parse::KindStr;
use std::borrow::Cow;
use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::{call_shape_of, CallShape};
use crate::analysis::callgraph::resolve_relative;

/// A scope of the module: the module itself (scope 0), a class body, a function, a lambda or
/// a comprehension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScopeKind {
    Module,
    Class,
    Function,
    /// A lambda or a comprehension: binds its parameters or loop variables only.
    Inner,
}

/// How a name is bound, when the syntax tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Binding<'t> {
    /// `def name` or `class name` in this scope: the start byte of the definition's name.
    Def(usize),
    /// `import a.b` (module `a`), `import a.b as c` (module `a.b`), `from m import x`
    /// (module `m`, absolute, attribute `x`).
    Import {
        module: Cow<'t, str>,
        attr: Option<&'t str>,
    },
    /// `name = a.b.c`: the dotted path, as written.
    Alias(&'t str),
    /// `name = a.b.C(…)`: the result of calling the dotted path, as written.
    Instance(&'t str),
    /// A parameter of the function: its position and, when annotated with a plain (possibly
    /// quoted) dotted name, the annotation.
    Param {
        index: u32,
        annotation: Option<&'t str>,
    },
    /// Anything else (a loop variable, an augmented assignment, `global`, …).
    Unknown,
}

#[derive(Debug, Clone)]
pub(crate) struct Scope<'t> {
    pub kind: ScopeKind,
    /// The enclosing scope (`u32::MAX` for the module).
    pub parent: u32,
    /// For a class or function: the start byte of its name, which identifies its outline
    /// symbol.
    pub name_start: usize,
    /// Names bound here, sorted by name (stable: in source order within a name).
    pub bindings: Vec<(&'t str, Binding<'t>)>,
}

impl<'t> Scope<'t> {
    /// Every binding of `name` in this scope.
    pub fn bindings_of(&self, name: &str) -> &[(&'t str, Binding<'t>)] {
        let start = self.bindings.partition_point(|(n, _)| *n < name);
        let end = start + self.bindings[start..].partition_point(|(n, _)| *n == name);
        &self.bindings[start..end]
    }
}

/// What is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Callee<'t> {
    /// A name or a dotted path of names (`f`, `self.m`, `pkg.mod.f`), as written.
    Path(&'t str),
    /// `super().name`.
    Super(&'t str),
}

#[derive(Debug, Clone)]
pub(crate) struct Call<'t> {
    pub range: Range<usize>,
    /// The scope the call is made in.
    pub scope: u32,
    pub callee: Callee<'t>,
    pub shape: CallShape,
}

/// The facts of one file for the project rules.
#[derive(Debug, Clone, Default)]
pub struct FileFacts<'t> {
    pub(crate) scopes: Vec<Scope<'t>>,
    pub(crate) calls: Vec<Call<'t>>,
    /// Attribute names assigned or deleted anywhere (`x.name = …`, `del x.name`), sorted.
    pub(crate) assigned_attrs: Vec<&'t str>,
    /// The absolute names of the modules imported with `from m import *`.
    pub(crate) star_imports: Vec<Cow<'t, str>>,
}

/// The node kinds and fields the walk looks at, by id (comparing ids is cheaper than names).
struct Kinds {
    call: u16,
    function_definition: u16,
    class_definition: u16,
    lambda: u16,
    comprehensions: [u16; 4],
    import_statement: u16,
    import_from_statement: u16,
    assignment: u16,
    augmented_assignment: u16,
    for_statement: u16,
    for_in_clause: u16,
    as_pattern_target: u16,
    except_clause: u16,
    named_expression: u16,
    global_statement: u16,
    nonlocal_statement: u16,
    delete_statement: u16,
    case_pattern: u16,
    identifier: u16,
    attribute: u16,
    dotted_name: u16,
    aliased_import: u16,
    relative_import: u16,
    import_prefix: u16,
    wildcard_import: u16,
    argument_list: u16,
    string: u16,
    f_name: u16,
    f_body: u16,
    f_parameters: u16,
    f_left: u16,
    f_right: u16,
    f_function: u16,
    f_object: u16,
    f_attribute: u16,
    f_arguments: u16,
    f_module_name: u16,
    f_alias: u16,
    f_type: u16,
}

impl Kinds {
    fn get() -> &'static Kinds {
        static KINDS: std::sync::OnceLock<Kinds> = std::sync::OnceLock::new();
        KINDS.get_or_init(|| {
            let language = crate::analysis::parse::python_language();
            let k = |name: &str| language.id_for_node_kind(name, true);
            let f = |name: &str| {
                language
                    .field_id_for_name(name)
                    .map_or(0, std::num::NonZeroU16::get)
            };
            Kinds {
                call: k("call"),
                function_definition: k("function_definition"),
                class_definition: k("class_definition"),
                lambda: k("lambda"),
                comprehensions: [
                    k("list_comprehension"),
                    k("set_comprehension"),
                    k("dictionary_comprehension"),
                    k("generator_expression"),
                ],
                import_statement: k("import_statement"),
                import_from_statement: k("import_from_statement"),
                assignment: k("assignment"),
                augmented_assignment: k("augmented_assignment"),
                for_statement: k("for_statement"),
                for_in_clause: k("for_in_clause"),
                as_pattern_target: k("as_pattern_target"),
                except_clause: k("except_clause"),
                named_expression: k("named_expression"),
                global_statement: k("global_statement"),
                nonlocal_statement: k("nonlocal_statement"),
                delete_statement: k("delete_statement"),
                case_pattern: k("case_pattern"),
                identifier: k("identifier"),
                attribute: k("attribute"),
                dotted_name: k("dotted_name"),
                aliased_import: k("aliased_import"),
                relative_import: k("relative_import"),
                import_prefix: k("import_prefix"),
                wildcard_import: k("wildcard_import"),
                argument_list: k("argument_list"),
                string: k("string"),
                f_name: f("name"),
                f_body: f("body"),
                f_parameters: f("parameters"),
                f_left: f("left"),
                f_right: f("right"),
                f_function: f("function"),
                f_object: f("object"),
                f_attribute: f("attribute"),
                f_arguments: f("arguments"),
                f_module_name: f("module_name"),
                f_alias: f("alias"),
                f_type: f("type"),
            }
        })
    }
}

/// The walk that reads a file's facts, as an observer of a walk over its tree (`file_facts`
/// drives one alone; `tandem check` lets the built-in rules' walk drive it, so that the tree is
/// walked once for both).
pub struct FactsWalk<'t, 'k> {
    text: &'t str,
    module: &'k str,
    is_package: bool,
    k: &'k Kinds,
    facts: FileFacts<'t>,
    /// The scopes being walked: (the node whose subtree the scope covers, the scope).
    stack: Vec<(usize, u32)>,
    /// Scopes waiting for their body node to be entered: (body node id, scope).
    pending: Vec<(usize, u32)>,
}

/// The facts of `text` (module `module`, a package's `__init__.py` when `is_package`), which
/// `tree` was parsed from.
pub fn file_facts<'t>(text: &'t str, tree: &Tree, module: &str, is_package: bool) -> FileFacts<'t> {
    let mut walk = FactsWalk::new(text, tree, module, is_package);
    crate::analysis::rules::walk_tree(tree.root_node(), &mut walk);
    walk.finish()
}

impl<'t, 'k> FactsWalk<'t, 'k> {
    pub fn new(text: &'t str, tree: &Tree, module: &'k str, is_package: bool) -> Self {
        FactsWalk {
            text,
            module,
            is_package,
            k: Kinds::get(),
            facts: FileFacts {
                scopes: vec![Scope {
                    kind: ScopeKind::Module,
                    parent: u32::MAX,
                    name_start: 0,
                    bindings: Vec::new(),
                }],
                ..FileFacts::default()
            },
            stack: vec![(tree.root_node().id(), 0)],
            pending: Vec::new(),
        }
    }

    /// The facts, once the walk is over.
    pub fn finish(self) -> FileFacts<'t> {
        let mut facts = self.facts;
        for scope in &mut facts.scopes {
            scope.bindings.sort_by(|a, b| a.0.cmp(b.0));
        }
        facts.assigned_attrs.sort_unstable();
        facts.assigned_attrs.dedup();
        facts
    }
}

impl crate::analysis::rules::WalkObserver for FactsWalk<'_, '_> {
    fn enter(&mut self, node: Node<'_>) {
        self.visit(node);
    }

    fn leave(&mut self, node: Node<'_>) {
        if self.stack.len() > 1 && self.stack.last().is_some_and(|(id, _)| *id == node.id()) {
            self.stack.pop();
        }
    }
}

impl<'t> FactsWalk<'t, '_> {
    fn text(&self, node: Node<'_>) -> &'t str {
        self.text.get(node.byte_range()).unwrap_or("")
    }

    fn scope(&self) -> u32 {
        self.stack.last().map_or(0, |(_, s)| *s)
    }

    fn bind(&mut self, scope: u32, name: &'t str, binding: Binding<'t>) {
        if !name.is_empty() {
            self.facts.scopes[scope as usize]
                .bindings
                .push((name, binding));
        }
    }

    fn new_scope(&mut self, kind: ScopeKind, name_start: usize) -> u32 {
        let id = self.facts.scopes.len() as u32;
        self.facts.scopes.push(Scope {
            kind,
            parent: self.scope(),
            name_start,
            bindings: Vec::new(),
        });
        id
    }

    fn visit(&mut self, node: Node<'_>) {
        if let Some(i) = self.pending.iter().rposition(|(id, _)| *id == node.id()) {
            let (_, scope) = self.pending.swap_remove(i);
            self.stack.push((node.id(), scope));
        }
        let k = self.k;
        let kind = node.kind_id();
        let scope = self.scope();
        if kind == k.call {
            self.call(node, scope);
        } else if kind == k.function_definition || kind == k.class_definition {
            let Some(name) = node.child_by_field_id(k.f_name) else {
                return;
            };
            self.bind(scope, self.text(name), Binding::Def(name.start_byte()));
            let is_class = kind == k.class_definition;
            let inner = self.new_scope(
                if is_class {
                    ScopeKind::Class
                } else {
                    ScopeKind::Function
                },
                name.start_byte(),
            );
            if !is_class {
                if let Some(parameters) = node.child_by_field_id(k.f_parameters) {
                    self.parameters(parameters, inner);
                }
            }
            if let Some(body) = node.child_by_field_id(k.f_body) {
                self.pending.push((body.id(), inner));
            }
        } else if kind == k.lambda || k.comprehensions.contains(&kind) {
            let inner = self.new_scope(ScopeKind::Inner, node.start_byte());
            self.stack.push((node.id(), inner));
            if kind == k.lambda {
                if let Some(parameters) = node.child_by_field_id(k.f_parameters) {
                    self.parameters(parameters, inner);
                }
            }
        } else if kind == k.import_statement {
            self.import(node, scope);
        } else if kind == k.import_from_statement {
            self.import_from(node, scope);
        } else if kind == k.assignment {
            let left = node.child_by_field_id(k.f_left);
            let right = node.child_by_field_id(k.f_right);
            match (left, right) {
                (Some(l), Some(r)) if l.kind_id() == k.identifier => {
                    let binding = self.value_binding(r);
                    self.bind(scope, self.text(l), binding);
                }
                (Some(l), Some(_)) => self.targets(l, scope),
                // An annotation alone binds nothing.
                _ => {}
            }
        } else if kind == k.augmented_assignment
            || kind == k.for_statement
            || kind == k.for_in_clause
        {
            if let Some(left) = node.child_by_field_id(k.f_left) {
                self.targets(left, scope);
            }
        } else if kind == k.as_pattern_target || kind == k.delete_statement {
            let mut c = node.walk();
            for child in node.named_children(&mut c) {
                self.targets(child, scope);
            }
        } else if kind == k.except_clause {
            if let Some(alias) = node.child_by_field_id(k.f_alias) {
                self.targets(alias, scope);
            }
        } else if kind == k.named_expression {
            if let Some(name) = node.child_by_field_id(k.f_name) {
                self.targets(name, scope);
            }
        } else if kind == k.global_statement || kind == k.nonlocal_statement {
            // The names are bound elsewhere, by code the walk cannot follow: unknown both here
            // and in every enclosing scope.
            let mut c = node.walk();
            let names: Vec<&'t str> = node
                .named_children(&mut c)
                .filter(|n| n.kind_id() == k.identifier)
                .map(|n| self.text(n))
                .collect();
            let mut s = scope;
            while s != u32::MAX {
                for name in &names {
                    self.bind(s, name, Binding::Unknown);
                }
                s = self.facts.scopes[s as usize].parent;
            }
        } else if kind == k.case_pattern {
            self.identifiers(node, scope);
        }
    }

    /// Binds every name a target (pattern, tuple, starred name) binds as unknown, and records
    /// the attribute names it assigns.
    fn targets(&mut self, target: Node<'_>, scope: u32) {
        let k = self.k;
        let mut stack = vec![target];
        while let Some(n) = stack.pop() {
            let kind = n.kind_id();
            if kind == k.identifier {
                self.bind(scope, self.text(n), Binding::Unknown);
            } else if kind == k.attribute {
                if let Some(attr) = n.child_by_field_id(k.f_attribute) {
                    self.facts.assigned_attrs.push(self.text(attr));
                }
            } else if n.kind_str() != "subscript" {
                let mut c = n.walk();
                stack.extend(n.named_children(&mut c));
            }
        }
    }

    /// Binds every identifier under `node` as unknown (match patterns: captures).
    fn identifiers(&mut self, node: Node<'_>, scope: u32) {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if n.kind_id() == self.k.identifier {
                self.bind(scope, self.text(n), Binding::Unknown);
            } else {
                let mut c = n.walk();
                stack.extend(n.named_children(&mut c));
            }
        }
    }

    /// What `name = value` binds the name to.
    fn value_binding(&self, value: Node<'_>) -> Binding<'t> {
        let k = self.k;
        if dotted(value, k) {
            return Binding::Alias(self.text(value));
        }
        if value.kind_id() == k.call {
            if let Some(function) = value.child_by_field_id(k.f_function) {
                if dotted(function, k) {
                    return Binding::Instance(self.text(function));
                }
            }
        }
        Binding::Unknown
    }

    fn parameters(&mut self, parameters: Node<'_>, scope: u32) {
        let k = self.k;
        let mut c = parameters.walk();
        for (index, p) in (0u32..).zip(parameters.named_children(&mut c)) {
            let (name, annotation) = if p.kind_id() == k.identifier {
                (Some(p), None)
            } else {
                let name = p
                    .child_by_field_id(k.f_name)
                    .or_else(|| p.named_child(0))
                    .map(|n| match n.kind_str() {
                        "list_splat_pattern" | "dictionary_splat_pattern" => {
                            n.named_child(0).unwrap_or(n)
                        }
                        _ => n,
                    })
                    .filter(|n| n.kind_id() == k.identifier);
                let annotation = p.child_by_field_id(k.f_type).and_then(|t| {
                    let text = self.text(t);
                    let inner = t.named_child(0).unwrap_or(t);
                    let plain = dotted(inner, k)
                        || (inner.kind_id() == k.string
                            && text
                                .trim_matches(|c| c == '"' || c == '\'')
                                .split('.')
                                .all(is_identifier));
                    plain.then(|| text.trim_matches(|c| c == '"' || c == '\''))
                });
                (name, annotation)
            };
            match name {
                Some(name) => {
                    self.bind(scope, self.text(name), Binding::Param { index, annotation });
                }
                None => self.identifiers(p, scope),
            }
        }
    }

    fn import(&mut self, node: Node<'_>, scope: u32) {
        let k = self.k;
        let mut c = node.walk();
        for name in node.children_by_field_name("name", &mut c) {
            if name.kind_id() == k.aliased_import {
                let (Some(module), Some(alias)) = (
                    name.child_by_field_id(k.f_name),
                    name.child_by_field_id(k.f_alias),
                ) else {
                    continue;
                };
                let binding = Binding::Import {
                    module: clean_dotted(self.text(module)),
                    attr: None,
                };
                self.bind(scope, self.text(alias), binding);
            } else {
                let full = self.text(name);
                let top = full.split('.').next().unwrap_or(full).trim();
                let binding = Binding::Import {
                    module: Cow::Borrowed(top),
                    attr: None,
                };
                self.bind(scope, top, binding);
            }
        }
    }

    fn import_from(&mut self, node: Node<'_>, scope: u32) {
        let k = self.k;
        let Some(module) = node
            .child_by_field_id(k.f_module_name)
            .and_then(|m| self.absolute_module(m))
        else {
            return;
        };
        let mut c = node.walk();
        for child in node.named_children(&mut c) {
            if child.kind_id() == k.wildcard_import {
                self.facts.star_imports.push(module.clone());
            }
        }
        let mut c = node.walk();
        for name in node.children_by_field_name("name", &mut c) {
            let (attr, bound) = if name.kind_id() == k.aliased_import {
                match (
                    name.child_by_field_id(k.f_name),
                    name.child_by_field_id(k.f_alias),
                ) {
                    (Some(n), Some(a)) => (self.text(n), self.text(a)),
                    _ => continue,
                }
            } else {
                (self.text(name), self.text(name))
            };
            let binding = Binding::Import {
                module: module.clone(),
                attr: Some(attr),
            };
            self.bind(scope, bound, binding);
        }
    }

    /// The absolute name of the module an import names (`..a.b` resolved against this one).
    fn absolute_module(&self, node: Node<'_>) -> Option<Cow<'t, str>> {
        let k = self.k;
        if node.kind_id() != k.relative_import {
            return Some(clean_dotted(self.text(node)));
        }
        let mut dots = 0;
        let mut rest = "";
        let mut c = node.walk();
        for child in node.named_children(&mut c) {
            if child.kind_id() == k.import_prefix {
                dots = self.text(child).chars().filter(|&c| c == '.').count();
            } else if child.kind_id() == k.dotted_name {
                rest = self.text(child);
            }
        }
        if dots == 0 {
            return None;
        }
        // An import above the top package names nothing (where the call graph would stop at
        // the top).
        let depth = self.module.split('.').filter(|s| !s.is_empty()).count();
        let up = if self.is_package { dots - 1 } else { dots };
        if up > depth {
            return None;
        }
        Some(Cow::Owned(resolve_relative(
            self.module,
            self.is_package,
            dots,
            &clean_dotted(rest),
        )))
    }

    fn call(&mut self, node: Node<'_>, scope: u32) {
        let k = self.k;
        let Some(function) = node.child_by_field_id(k.f_function) else {
            return;
        };
        let callee = if dotted(function, k) {
            Callee::Path(self.text(function))
        } else if function.kind_id() == k.attribute {
            // `super().name(…)`
            let (Some(object), Some(attr)) = (
                function.child_by_field_id(k.f_object),
                function.child_by_field_id(k.f_attribute),
            ) else {
                return;
            };
            let is_super = object.kind_id() == k.call
                && object
                    .child_by_field_id(k.f_function)
                    .is_some_and(|f| self.text(f) == "super")
                && object
                    .child_by_field_id(k.f_arguments)
                    .is_some_and(|a| a.kind_id() == k.argument_list && a.named_child_count() == 0);
            if !is_super {
                return;
            }
            Callee::Super(self.text(attr))
        } else {
            return;
        };
        let Some(shape) = call_shape_of(node, self.text) else {
            return;
        };
        self.facts.calls.push(Call {
            range: node.byte_range(),
            scope,
            callee,
            shape,
        });
    }
}

/// A name or a chain of attributes on a name (`a`, `a.b.c`).
fn dotted(node: Node<'_>, k: &Kinds) -> bool {
    let mut n = node;
    loop {
        let kind = n.kind_id();
        if kind == k.identifier {
            return true;
        }
        if kind != k.attribute {
            return false;
        }
        match n.child_by_field_id(k.f_object) {
            Some(object) => n = object,
            None => return false,
        }
    }
}

/// A dotted name as written without the spaces, comments and line continuations Python
/// allows between its parts.
fn clean_dotted(text: &str) -> Cow<'_, str> {
    if text
        .bytes()
        .all(|b| b == b'.' || b == b'_' || b.is_ascii_alphanumeric())
    {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(
            text.split('.')
                .map(|p| p.trim_matches(|c: char| c.is_whitespace() || c == '\\'))
                .collect::<Vec<_>>()
                .join("."),
        )
    }
}

/// The parts of a dotted path as written (`self . m` → `self`, `m`), or `None` when a part is
/// not a plain identifier (a comment between the parts, say).
pub(crate) fn path_parts(text: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = text
        .split('.')
        .map(|p| p.trim_matches(|c: char| c.is_whitespace() || c == '\\'))
        .collect();
    parts.iter().all(|p| is_identifier(p)).then_some(parts)
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::parse::parse_str;
    use crate::analysis::rules::{check_file_observed, RuleOptions};

    /// `tandem check` reads the facts in the rules' walk: they must be those of a walk alone,
    /// with every rule selected and with none.
    #[test]
    fn facts_read_in_the_rules_walk_are_those_of_a_walk_alone() {
        let text = r#"
import os.path as p
from . import sibling
from .pkg import thing as other

class Base:
    def m(self, a, b=1):
        return helper(a, key=b)

class Child(Base):
    def m(self, a, b=2):
        x = Base()
        x.attr = [y for y in range(3) if (z := y)]
        f = lambda q: q.method(1, *a)
        try:
            super().m(a)
        except ValueError as e:
            del x.attr
        for i, (j, k) in enumerate(a):
            global G
        match a:
            case [first, *rest]:
                pass
        return f"{helper(a)!r}" + p.join("a", "b")

def helper(a, *, key=None):
    return sibling.run(a, key)
"#;
        let tree = parse_str(text, None);
        let alone = format!("{:?}", file_facts(text, &tree, "pkg.mod", false));
        assert!(alone.contains("Super(\"m\")"), "{alone}");
        for select in ["TDM", "TDM02"] {
            let opts = RuleOptions {
                selection: crate::analysis::finding::CodeSelection::parse(
                    &[select.to_string()],
                    &[],
                )
                .unwrap(),
                ..RuleOptions::default()
            };
            let mut walk = FactsWalk::new(text, &tree, "pkg.mod", false);
            check_file_observed(text, &tree, &opts, &mut walk);
            assert_eq!(format!("{:?}", walk.finish()), alone, "--select {select}");
        }
    }
}
