//! TDM001: a mutable default argument. A default value is evaluated once, when `def` runs, so
//! a list, dict or set default is one object shared by every call: mutate it in one call and
//! the next call sees the change. Reported when the function mutates the parameter (a mutating
//! method such as `append` or `update`, an item assignment or deletion, `+=`) or lets it escape
//! (returns or yields it, stores it in an attribute or item), since only then can one call's
//! change reach another; a default that is only read (`cnf={}` passed on to be read) is safe.
//!
//! The fix makes the default `None` (adding `| None` to an annotation) and inserts
//! `if x is None:` / `x = <default>` as the first statement of the body, after a docstring, in
//! the body's indentation. A body on the `def` line gets no fix.

use crate::analysis::parse::KindStr;
use tree_sitter::Node;

use super::{excerpt, field, line_start, statements, Checker, Field, Rule};
use crate::analysis::finding::Fix;

/// Calls that build a fresh mutable container.
const MUTABLE_CONSTRUCTORS: &[&str] = &[
    "list",
    "dict",
    "set",
    "bytearray",
    "defaultdict",
    "OrderedDict",
    "deque",
    "Counter",
    "collections.defaultdict",
    "collections.OrderedDict",
    "collections.deque",
    "collections.Counter",
];

pub(super) fn check(checker: &mut Checker<'_>, def: Node<'_>) {
    if !checker.on(Rule::MutableDefault) {
        return;
    }
    let Some(parameters) = field(def, Field::Parameters) else {
        return;
    };
    let mut cursor = parameters.walk();
    for param in parameters.named_children(&mut cursor) {
        if !matches!(
            param.kind_str(),
            "default_parameter" | "typed_default_parameter"
        ) {
            continue;
        }
        let (Some(name), Some(value)) = (field(param, Field::Name), field(param, Field::Value))
        else {
            continue;
        };
        if !is_mutable(checker, value) {
            continue;
        }
        let name_text = checker.text(name);
        if !mutated_or_escapes(checker.source, def, name_text) {
            continue;
        }
        let value_text = checker.text(value);
        let message = format!(
            "Mutable default `{name_text}={}`: the default is created once, when the function is \
             defined, and shared by every call, so a change made in one call shows in the next; \
             default to `None` and create it in the body",
            excerpt(value_text, 30)
        );
        let fix = guard_fix(checker.source, def, param, name_text, value);
        checker.report(Rule::MutableDefault, message, value.byte_range(), fix);
    }
}

fn is_mutable(checker: &Checker<'_>, value: Node<'_>) -> bool {
    match value.kind_str() {
        "list"
        | "dictionary"
        | "set"
        | "list_comprehension"
        | "dictionary_comprehension"
        | "set_comprehension" => true,
        "call" => field(value, Field::Function)
            .is_some_and(|f| MUTABLE_CONSTRUCTORS.contains(&checker.text(f))),
        _ => false,
    }
}

/// Methods of lists, dicts, sets, deques and ordered dicts that change the object.
const MUTATING_METHODS: &[&str] = &[
    "append",
    "extend",
    "insert",
    "remove",
    "pop",
    "popitem",
    "clear",
    "update",
    "setdefault",
    "add",
    "discard",
    "sort",
    "reverse",
    "appendleft",
    "extendleft",
    "popleft",
    "rotate",
    "move_to_end",
    "difference_update",
    "intersection_update",
    "symmetric_difference_update",
    "__setitem__",
    "__delitem__",
];

/// Whether the body of `def` mutates `name` or lets it escape (see the module comment).
fn mutated_or_escapes(source: &str, def: Node<'_>, name: &str) -> bool {
    let Some(body) = field(def, Field::Body) else {
        return false;
    };
    let is_name = |n: Option<Node<'_>>| {
        n.is_some_and(|n| n.kind_str() == "identifier" && source.get(n.byte_range()) == Some(name))
    };
    let mut mutated = false;
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        let rebinding = match node.kind_str() {
            "assignment" | "named_expression" => {
                is_name(field(node, Field::Left).or_else(|| field(node, Field::Name)))
            }
            "for_statement" => is_name(field(node, Field::Left)),
            _ => false,
        };
        if rebinding {
            // `cnf = merge(cnf, kw)`: what is mutated later may be a new object.
            return false;
        }
        let found = match node.kind_str() {
            "call" => field(node, Field::Function).is_some_and(|f| {
                f.kind_str() == "attribute"
                    && is_name(field(f, Field::Object))
                    && field(f, Field::Attribute).is_some_and(|a| {
                        MUTATING_METHODS.contains(&source.get(a.byte_range()).unwrap_or(""))
                    })
            }),
            "assignment" | "augmented_assignment" => {
                let left = field(node, Field::Left);
                let right = field(node, Field::Right);
                let item_of_name = left.is_some_and(|l| {
                    l.kind_str() == "subscript" && is_name(field(l, Field::Value))
                });
                let in_place = node.kind_str() == "augmented_assignment" && is_name(left);
                let stored = is_name(right)
                    && left.is_some_and(|l| matches!(l.kind_str(), "attribute" | "subscript"));
                item_of_name || in_place || stored
            }
            "delete_statement" => {
                let mut cursor = node.walk();
                let targets: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                targets.into_iter().any(|t| {
                    let mut cursor = t.walk();
                    let items: Vec<Node<'_>> = if t.kind_str() == "expression_list" {
                        t.named_children(&mut cursor).collect()
                    } else {
                        vec![t]
                    };
                    items
                        .into_iter()
                        .any(|i| i.kind_str() == "subscript" && is_name(field(i, Field::Value)))
                })
            }
            "return_statement" | "yield" => {
                let mut cursor = node.walk();
                let values: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                values.into_iter().any(|v| {
                    is_name(Some(v)) || {
                        let mut cursor = v.walk();
                        let parts: Vec<Node<'_>> =
                            if matches!(v.kind_str(), "expression_list" | "tuple") {
                                v.named_children(&mut cursor).collect()
                            } else {
                                Vec::new()
                            };
                        parts.into_iter().any(|p| is_name(Some(p)))
                    }
                })
            }
            _ => false,
        };
        mutated |= found;
        let mut cursor = node.walk();
        stack.extend(
            node.named_children(&mut cursor)
                .filter(|c| c.child_count() > 0),
        );
    }
    mutated
}

fn guard_fix(
    source: &str,
    def: Node<'_>,
    param: Node<'_>,
    name: &str,
    value: Node<'_>,
) -> Option<Fix> {
    let body = field(def, Field::Body)?;
    let stmts = statements(body);
    let first = *stmts.first()?;
    // The body must start on a line of its own, indented with nothing else before it.
    let first_line = line_start(source, first.start_byte());
    let indent = source.get(first_line..first.start_byte())?;
    if !indent.chars().all(|c| c == ' ' || c == '\t') || first_line <= def.start_byte() {
        return None;
    }
    let newline = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let unit = if indent.contains('\t') { "\t" } else { "    " };
    let default = source.get(value.byte_range())?;
    let guard_lines = [
        format!("{indent}if {name} is None:"),
        format!("{indent}{unit}{name} = {default}"),
    ];
    let insertion = if is_docstring(first) {
        // After the docstring's line (a comment after it stays where it is); not when another
        // statement follows on that line.
        let after = &source[first.end_byte()..];
        let line_end = first.end_byte() + after.find(['\n', '\r']).unwrap_or(after.len());
        let rest = source[first.end_byte()..line_end].trim();
        if !(rest.is_empty() || rest.starts_with('#')) {
            return None;
        }
        (
            line_end..line_end,
            format!("{newline}{}", guard_lines.join(newline)),
        )
    } else {
        (
            first_line..first_line,
            format!("{}{newline}", guard_lines.join(newline)),
        )
    };
    let mut edits = vec![(value.byte_range(), "None".to_string()), insertion];
    if param.kind_str() == "typed_default_parameter" {
        let annotation = field(param, Field::Type)?;
        let text = source.get(annotation.byte_range())?;
        if text.starts_with(['"', '\'']) || text.contains('\n') {
            return None;
        }
        if !text.contains("None") && !text.contains("Optional") {
            edits.push((annotation.byte_range(), format!("{text} | None")));
        }
    }
    Some(Fix::new(
        format!("Default `{name}` to `None` and create the value in the body"),
        edits,
    ))
}

fn is_docstring(stmt: Node<'_>) -> bool {
    stmt.kind_str() == "expression_statement"
        && stmt.named_child_count() == 1
        && stmt
            .named_child(0)
            .is_some_and(|s| matches!(s.kind_str(), "string" | "concatenated_string"))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, fixed, flagged};

    #[test]
    fn list_dict_set_defaults_and_constructor_calls_are_reported() {
        let source = "def f(a=[], b={}, *, c={1}, d: list = [x for x in y], e=dict(), f=collections.deque()):\n    a.append(1)\n    b['k'] = 1\n    c.add(2)\n    d += [3]\n    self.e = e\n    return f\n";
        assert_eq!(
            flagged("TDM001", source),
            [
                "[]",
                "{}",
                "{1}",
                "[x for x in y]",
                "dict()",
                "collections.deque()"
            ]
        );
        let message = &findings("TDM001", source)[0].message;
        assert!(
            message.starts_with("Mutable default `a=[]`")
                && message.contains("shared by every call"),
            "{message}"
        );
    }

    #[test]
    fn immutable_defaults_and_lambdas_are_not_reported() {
        let source = "def f(a=(), b=None, c=frozenset(), d='x', e=0, f=tuple(), g=CONST):\n    a.append(1)\nh = lambda x=[]: x\n";
        assert!(flagged("TDM001", source).is_empty());
    }

    #[test]
    fn defaults_that_are_only_read_are_not_reported() {
        let source = "def configure(self, cnf={}, names=[]):\n    for n in names:\n        print(n, cnf.get(n))\n    self._options(cnf)\n    x = cnf['a']\n    return len(names)\n";
        assert!(flagged("TDM001", source).is_empty());
        let mutated_in_closure =
            "def f(seen=set()):\n    def g(x):\n        seen.add(x)\n    return g\n";
        assert_eq!(flagged("TDM001", mutated_in_closure), ["set()"]);
        let deleted = "def f(cache={}):\n    del cache['k']\n";
        assert_eq!(flagged("TDM001", deleted), ["{}"]);
        let returned = "def f(acc=[]):\n    return acc, 1\n";
        assert_eq!(flagged("TDM001", returned), ["[]"]);
        let rebound = "def f(cnf={}, **kw):\n    cnf = merge(cnf, kw)\n    del cnf['class']\n";
        assert!(flagged("TDM001", rebound).is_empty());
    }

    #[test]
    fn the_fix_defaults_to_none_and_guards_the_body() {
        let source = "def build(order, footer=[]):\n    lines = [order]\n    footer.append('x')\n    return lines + footer\n";
        assert_eq!(
            fixed("TDM001", source),
            "def build(order, footer=None):\n    if footer is None:\n        footer = []\n    lines = [order]\n    footer.append('x')\n    return lines + footer\n"
        );
    }

    #[test]
    fn the_guard_goes_after_the_docstring_and_the_annotation_allows_none() {
        let source = "class C:\n    def m(self, seen: set[str] = set()) -> None:\n        \"\"\"Doc.\"\"\"  # why\n        seen.add('a')\n";
        assert_eq!(
            fixed("TDM001", source),
            "class C:\n    def m(self, seen: set[str] | None = None) -> None:\n        \"\"\"Doc.\"\"\"  # why\n        if seen is None:\n            seen = set()\n        seen.add('a')\n"
        );
        let only_doc = "def f(x={'a': 1}):\n\t'''Doc.'''\n\treturn x\n";
        assert_eq!(
            fixed("TDM001", only_doc),
            "def f(x=None):\n\t'''Doc.'''\n\tif x is None:\n\t\tx = {'a': 1}\n\treturn x\n"
        );
    }

    #[test]
    fn windows_line_endings_are_kept() {
        let source = "def f(x=[]):\r\n    return x\r\n";
        assert_eq!(
            fixed("TDM001", source),
            "def f(x=None):\r\n    if x is None:\r\n        x = []\r\n    return x\r\n"
        );
    }

    #[test]
    fn one_line_bodies_get_no_fix() {
        let found = findings("TDM001", "def f(x=[]): return x\n");
        assert_eq!(found.len(), 1);
        assert!(found[0].fix.is_none());
        let found = findings("TDM001", "def f(x=[]):\n    '''d'''; return x\n");
        assert!(found[0].fix.is_none());
    }
}
