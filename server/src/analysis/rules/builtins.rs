//! TDM009: a parameter, variable or loop variable named like a builtin. Inside its scope the
//! builtin is gone: `list(x)` calls the parameter, `id(obj)` fails with "'str' object is not
//! callable". Class attributes are not reported (they do not hide the builtin from methods),
//! nor are functions and classes named like builtins (APIs such as `gzip.open`).
//!
//! The list is the builtins a function body is likely to call; names that are also everyday
//! words and, measured on Django and the standard library, almost always used as such (`input`,
//! `type`, `format`, `filter`, `dir`, `object`, `next`, …) were left out because their findings
//! were noise (see `docs/rules.md`).

use crate::analysis::parse::KindStr;
use tree_sitter::Node;

use super::{field, Checker, Field, Rule};

/// The builtins TDM009 protects: the type constructors and functions a body is likely to call.
/// Left out because, measured on Django and the standard library, they are nearly always
/// ordinary words used on purpose (`input` in codec APIs, `type` in `__exit__`, `format`,
/// `filter`, `dir`, `object`, `next`, `map`, `vars`, `hash`, `open`, `range`, `zip`, …).
pub(super) const SHADOWED_BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "bool",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "dict",
    "divmod",
    "enumerate",
    "float",
    "frozenset",
    "getattr",
    "hasattr",
    "id",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "max",
    "min",
    "ord",
    "print",
    "repr",
    "reversed",
    "set",
    "setattr",
    "sorted",
    "str",
    "sum",
    "super",
    "tuple",
];

pub(super) fn check_parameters(checker: &mut Checker<'_>, def: Node<'_>) {
    if !checker.on(Rule::BuiltinShadowed) {
        return;
    }
    let Some(parameters) = field(def, Field::Parameters) else {
        return;
    };
    let mut cursor = parameters.walk();
    for param in parameters.named_children(&mut cursor) {
        let name = match param.kind_str() {
            "identifier" => Some(param),
            "default_parameter" | "typed_default_parameter" => field(param, Field::Name),
            "typed_parameter" | "list_splat_pattern" | "dictionary_splat_pattern" => {
                first_identifier(param)
            }
            _ => None,
        };
        // `abs=abs` binds the builtin itself, a deliberate speed-up of name lookup.
        let binds_itself = field(param, Field::Value)
            .zip(name)
            .is_some_and(|(v, n)| checker.text(v) == checker.text(n));
        if let Some(name) = name.filter(|n| n.kind_str() == "identifier" && !binds_itself) {
            report(checker, name, "Parameter");
        }
    }
}

/// The name of a `typed_parameter` or splat pattern (`*args`, `**kwargs`, `args: int`).
fn first_identifier(node: Node<'_>) -> Option<Node<'_>> {
    let first = node.named_child(0)?;
    match first.kind_str() {
        "identifier" => Some(first),
        "list_splat_pattern" | "dictionary_splat_pattern" => first.named_child(0),
        _ => None,
    }
}

/// Checks the names an assignment, `for` or `:=` binds (identifiers, also inside tuple and list
/// patterns; not attributes or subscripts). An assignment of something with the same name
/// (`list = list`, `repr = aRepr.repr`) re-exports on purpose and is left alone.
pub(super) fn check_target(
    checker: &mut Checker<'_>,
    target: Option<Node<'_>>,
    value: Option<Node<'_>>,
    what: &str,
) {
    if !checker.on(Rule::BuiltinShadowed) {
        return;
    }
    if let (Some(target), Some(value)) = (target, value) {
        let name = checker.text(target);
        let value = checker.text(value);
        if target.kind_str() == "identifier" && value.rsplit('.').next() == Some(name) {
            return;
        }
    }
    let mut stack: Vec<Node<'_>> = target.into_iter().collect();
    while let Some(node) = stack.pop() {
        match node.kind_str() {
            "identifier" => report(checker, node, what),
            "pattern_list"
            | "tuple_pattern"
            | "list_pattern"
            | "tuple"
            | "list"
            | "list_splat_pattern"
            | "parenthesized_expression" => {
                let mut cursor = node.walk();
                stack.extend(node.named_children(&mut cursor));
            }
            _ => {}
        }
    }
}

fn report(checker: &mut Checker<'_>, name: Node<'_>, what: &str) {
    let text = checker.text(name);
    if !SHADOWED_BUILTINS.contains(&text) {
        return;
    }
    checker.report(
        Rule::BuiltinShadowed,
        format!(
            "{what} `{text}` shadows the builtin `{text}()`: in this scope `{text}` no longer \
             means the builtin, which confuses readers and breaks code that calls it; rename it \
             (e.g. `{text}_`)"
        ),
        name.byte_range(),
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, flagged};

    #[test]
    fn parameters_variables_and_loop_variables_named_like_builtins_are_reported() {
        let source = "def lookup(self, id: str, *list, set=None, **dict):\n    max = 3\n    a, (str, b) = f()\n    for sum in x:\n        pass\n    if (len := 3):\n        pass\n";
        assert_eq!(
            flagged("TDM009", source),
            ["id", "list", "set", "dict", "max", "str", "sum", "len"]
        );
        let message = &findings("TDM009", source)[0].message;
        assert!(
            message.starts_with("Parameter `id` shadows the builtin `id()`"),
            "{message}"
        );
    }

    #[test]
    fn attributes_class_attributes_definitions_and_other_names_are_not_reported() {
        let source = "class Model:\n    id = AutoField()\n    type = 'x'\n\ndef open(path):\n    self.list = []\n    d['id'] = 1\n    ids = [id for id in x]\n    identifier = 2\n    return path\n\nclass list:\n    pass\n\nlist = list\nrepr = aRepr.repr\ndef _cmp(a, b, abs=abs):\n    pass\n\ndef read(input, format, type=None, filter=None):\n    next = dir = 1\n";
        assert!(flagged("TDM009", source).is_empty());
    }
}
