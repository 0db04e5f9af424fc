//! TDM012: a public function, method or class without a docstring. Public means: its name does
//! not start with `_` (so dunders are not public here either), it is not nested in a function,
//! and for a method, its class (and every class around it) is public. Test functions
//! (`test*`), test classes (`Test*`) and fixtures (`@pytest.fixture`) in test modules,
//! `@overload` stubs, `@override`s and property setters/getters/deleters are left alone, and so
//! are methods that override a method documented in a base class defined in the same file
//! (`help()` and hovers show the inherited docstring, as `inspect.getdoc` does).
//!
//! The editor offers "Generate docstring" on this code (the documentation feature).

use crate::analysis::parse::KindStr;
use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::{field, has_docstring, statements, Checker, Ctx, Field, Rule, Scope};
use crate::analysis::finding::Finding;

/// What TDM012 learns about the classes of a file, to leave documented overrides alone.
#[derive(Debug, Default)]
pub(super) struct ClassFacts<'s> {
    /// Class name -> the last names of its bases (`models.Model` -> `Model`).
    bases: HashMap<&'s str, Vec<&'s str>>,
    /// Class name -> its methods that have a docstring.
    documented: HashMap<&'s str, HashSet<&'s str>>,
    /// Methods without a docstring: class name, method name, the finding.
    pending: Vec<(&'s str, &'s str, Finding)>,
}

pub(super) fn check<'s>(checker: &mut Checker<'s>, def: Node<'_>, ctx: &Ctx) {
    if !checker.on(Rule::MissingDocstring) || !ctx.public || ctx.scope == Scope::Function {
        return;
    }
    let Some(name_node) = field(def, Field::Name) else {
        return;
    };
    let name = checker.text(name_node);
    if name.starts_with('_') || name.is_empty() {
        return;
    }
    let is_class = def.kind_str() == "class_definition";
    if is_class {
        learn_class(checker, def, name);
    }
    let d = ctx.decorators;
    if d.overload || d.accessor || d.override_ {
        return;
    }
    if checker.opts.test_file
        && ((is_class && name.starts_with("Test"))
            || (!is_class && (name.starts_with("test") || d.fixture)))
    {
        return;
    }
    if has_docstring(def) {
        return;
    }
    let class = ctx
        .class_name
        .map(|(start, end)| checker.source.get(start..end).unwrap_or(""));
    let what = match (is_class, class) {
        (true, _) => format!("class `{name}`"),
        (false, Some(class)) => format!("method `{class}.{name}`"),
        (false, None) => format!("function `{name}`"),
    };
    let message = format!(
        "Public {what} has no docstring: say what it is for, so that callers (and `help()`, \
         hovers and generated docs) need not read the code"
    );
    match class {
        Some(class) if !is_class => {
            let finding = Finding::new(
                Rule::MissingDocstring.code(),
                Rule::MissingDocstring.severity(),
                message,
                name_node.byte_range(),
            );
            checker.classes.pending.push((class, name, finding));
        }
        _ => checker.report(
            Rule::MissingDocstring,
            message,
            name_node.byte_range(),
            None,
        ),
    }
}

/// Records a class's bases and documented methods.
fn learn_class<'s>(checker: &mut Checker<'s>, class: Node<'_>, name: &'s str) {
    let source = checker.source;
    let mut bases = Vec::new();
    if let Some(list) = field(class, Field::Superclasses) {
        let mut cursor = list.walk();
        for base in list.named_children(&mut cursor) {
            if matches!(base.kind_str(), "identifier" | "attribute") {
                let text = source.get(base.byte_range()).unwrap_or("");
                bases.push(text.rsplit('.').next().unwrap_or(text));
            }
        }
    }
    let mut documented = HashSet::new();
    if let Some(body) = field(class, Field::Body) {
        for stmt in statements(body) {
            let def = match stmt.kind_str() {
                "decorated_definition" => field(stmt, Field::Definition),
                "function_definition" => Some(stmt),
                _ => None,
            };
            let Some(def) = def.filter(|d| d.kind_str() == "function_definition") else {
                continue;
            };
            if has_docstring(def) {
                if let Some(n) = field(def, Field::Name) {
                    documented.insert(source.get(n.byte_range()).unwrap_or(""));
                }
            }
        }
    }
    checker.classes.bases.insert(name, bases);
    checker.classes.documented.insert(name, documented);
}

/// Reports the methods without a docstring that do not override a documented method of a
/// base class defined in the file.
pub(super) fn finish(checker: &mut Checker<'_>) {
    let facts = std::mem::take(&mut checker.classes);
    for (class, method, finding) in facts.pending {
        if !inherits_docstring(&facts.bases, &facts.documented, class, method) {
            checker.findings.push(finding);
        }
    }
}

fn inherits_docstring(
    bases: &HashMap<&str, Vec<&str>>,
    documented: &HashMap<&str, HashSet<&str>>,
    class: &str,
    method: &str,
) -> bool {
    let mut seen: HashSet<&str> = HashSet::from([class]);
    let mut todo: Vec<&str> = bases.get(class).cloned().unwrap_or_default();
    while let Some(base) = todo.pop() {
        if !seen.insert(base) {
            continue;
        }
        if documented.get(base).is_some_and(|m| m.contains(method)) {
            return true;
        }
        todo.extend(bases.get(base).into_iter().flatten());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, findings_with, flagged};
    use super::super::RuleOptions;

    #[test]
    fn public_functions_classes_and_methods_without_docstrings_are_reported() {
        let source = "def f():\n    pass\n\nclass Cart:\n    def add(self):\n        return 1\n\n    class Line:\n        def total(self): ...\n\n@decorator\nasync def g():\n    return 2\n";
        assert_eq!(
            flagged("TDM012", source),
            ["f", "Cart", "add", "Line", "total", "g"]
        );
        let messages: Vec<String> = findings("TDM012", source)
            .into_iter()
            .map(|f| f.message)
            .collect();
        assert!(messages[0].starts_with("Public function `f` has no docstring"));
        assert!(messages[1].starts_with("Public class `Cart` has no docstring"));
        assert!(messages[2].starts_with("Public method `Cart.add` has no docstring"));
        assert!(messages[4].starts_with("Public method `Line.total`"));
    }

    #[test]
    fn documented_private_nested_and_special_definitions_are_not_reported() {
        let source = "\
def f():
    \"\"\"Documented.\"\"\"

def _private():
    def nested():
        pass

class _Hidden:
    def public_looking(self):
        pass

class Shown:
    '''Documented.'''

    def __init__(self):
        pass

    @property
    def value(self):
        '''The value.'''
        return 1

    @value.setter
    def value(self, v):
        pass

    @overload
    def m(self, x: int) -> int: ...

    @typing.override
    def run(self):
        pass
";
        assert!(flagged("TDM012", source).is_empty());
    }

    #[test]
    fn overrides_of_methods_documented_in_a_base_class_of_the_file_are_not_reported() {
        let source = "\
class Rule:
    \"Base.\"

    def apply(self):
        \"Return the discount.\"

    def describe(self):
        return ''

class Percent(Rule):
    \"Percent.\"

    def apply(self):
        return 1

    def describe(self):
        return 'p'

class Bulk(pricing.Percent):
    \"Bulk.\"

    def apply(self):
        return 2

    def other(self):
        return 3
";
        assert_eq!(flagged("TDM012", source), ["describe", "describe", "other"]);
    }

    #[test]
    fn tests_and_fixtures_in_test_modules_need_no_docstring() {
        let source = "def test_total():\n    assert 1\n\nclass TestCart:\n    def test_add(self):\n        pass\n\n@pytest.fixture\ndef cart():\n    return 1\n\ndef helper():\n    pass\n";
        let opts = RuleOptions {
            test_file: true,
            ..RuleOptions::default()
        };
        let found: Vec<String> = findings_with("TDM012", source, opts)
            .into_iter()
            .map(|f| source[f.range].to_string())
            .collect();
        assert_eq!(found, ["helper"]);
        assert_eq!(flagged("TDM012", source).len(), 5);
    }
}
