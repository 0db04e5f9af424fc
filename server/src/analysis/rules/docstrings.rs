//! TDM012: a public function, method or class without a docstring. Public means: its name does
//! not start with `_` (so dunders are not public here either), it is not nested in a function,
//! and for a method, its class (and every class around it) is public. Test functions
//! (`test*`) and test classes (`Test*`) in test modules, `@overload` stubs, `@override`s
//! (the base documents them) and property setters/getters/deleters are left alone.
//!
//! The editor offers "Generate docstring" on this code (the documentation feature).

use tree_sitter::Node;

use super::{has_docstring, Checker, Ctx, Rule, Scope};

pub(super) fn check(checker: &mut Checker<'_>, def: Node<'_>, ctx: &Ctx) {
    if !checker.on(Rule::MissingDocstring) || !ctx.public || ctx.scope == Scope::Function {
        return;
    }
    let Some(name_node) = def.child_by_field_name("name") else {
        return;
    };
    let name = checker.text(name_node);
    if name.starts_with('_') || name.is_empty() {
        return;
    }
    let d = ctx.decorators;
    if d.overload || d.accessor || d.override_ {
        return;
    }
    let is_class = def.kind() == "class_definition";
    if checker.opts.test_file
        && ((is_class && name.starts_with("Test")) || (!is_class && name.starts_with("test")))
    {
        return;
    }
    if has_docstring(def) {
        return;
    }
    let what = match (is_class, ctx.class_name) {
        (true, _) => format!("class `{name}`"),
        (false, Some((start, end))) => {
            format!("method `{}.{name}`", checker.source.get(start..end).unwrap_or(""))
        }
        (false, None) => format!("function `{name}`"),
    };
    checker.report(
        Rule::MissingDocstring,
        format!(
            "Public {what} has no docstring: say what it is for, so that callers (and `help()`, \
             hovers and generated docs) need not read the code"
        ),
        name_node.byte_range(),
        None,
    );
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
    fn tests_in_test_modules_need_no_docstring() {
        let source = "def test_total():\n    assert 1\n\nclass TestCart:\n    def test_add(self):\n        pass\n\ndef helper():\n    pass\n";
        let opts = RuleOptions {
            test_file: true,
            ..RuleOptions::default()
        };
        let found: Vec<String> = findings_with("TDM012", source, opts)
            .into_iter()
            .map(|f| source[f.range].to_string())
            .collect();
        assert_eq!(found, ["helper"]);
        assert_eq!(flagged("TDM012", source).len(), 4);
    }
}
