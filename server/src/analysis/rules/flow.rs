//! Rules over the statements of one block: TDM007 (unreachable code after `return`, `raise`,
//! `break` or `continue` in the same block) and TDM008 (the same function defined twice in
//! one scope).
//!
//! TDM007 leaves alone a `yield` after `return` (the idiom that makes an empty generator).
//! Neither rule looks at test code, where dead code and redefinitions are nearly always
//! deliberate (CPython's grammar and tracing tests are made of them).
//! TDM008 only compares definitions that are statements of the same block, so definitions in
//! `if`/`else` or `try`/`except` alternatives are never compared; it leaves alone `@overload`
//! stubs, property setters/getters/deleters, `_`, any name that is used between the two
//! definitions (`f = cache(f)`, `@f.register`), and a first definition with a decorator other
//! than `staticmethod`/`classmethod`/`abstractmethod` (a decorator may register or call it, as
//! `@app.route` or `@atexit.register` do, so it is used).

use crate::analysis::parse::KindStr;
use std::collections::HashMap;

use tree_sitter::Node;

use super::{decorators, field, line_of, statements, Checker, Field, Rule};

pub(super) fn check_block(checker: &mut Checker<'_>, block: Node<'_>) {
    let want_unreachable = checker.on(Rule::Unreachable);
    let want_redefined = checker.on(Rule::Redefined);
    if (!want_unreachable && !want_redefined) || block.has_error() || checker.opts.test_file {
        return;
    }
    let stmts = statements(block);
    if want_unreachable {
        unreachable(checker, &stmts);
    }
    if want_redefined {
        redefined(checker, &stmts);
    }
}

fn unreachable(checker: &mut Checker<'_>, stmts: &[Node<'_>]) {
    let Some(i) = stmts.iter().position(|s| {
        matches!(
            s.kind_str(),
            "return_statement" | "raise_statement" | "break_statement" | "continue_statement"
        )
    }) else {
        return;
    };
    let rest = &stmts[i + 1..];
    let (Some(first), Some(last)) = (rest.first(), rest.last()) else {
        return;
    };
    if rest.iter().all(|s| is_yield(*s)) {
        return;
    }
    let keyword = stmts[i].kind_str().trim_end_matches("_statement");
    checker.report(
        Rule::Unreachable,
        format!(
            "Unreachable code: it follows the `{keyword}` on line {} in the same block, so it \
             never runs; remove it or move it before the `{keyword}`",
            line_of(stmts[i])
        ),
        first.start_byte()..last.end_byte(),
        None,
    );
}

fn is_yield(stmt: Node<'_>) -> bool {
    stmt.kind_str() == "expression_statement"
        && stmt.named_child(0).is_some_and(|e| e.kind_str() == "yield")
}

fn redefined(checker: &mut Checker<'_>, stmts: &[Node<'_>]) {
    // name -> (the statement, its function_definition), for the latest definition of each.
    let mut seen: HashMap<&str, (Node<'_>, Node<'_>)> = HashMap::new();
    for stmt in stmts {
        let def = match stmt.kind_str() {
            "function_definition" => *stmt,
            "decorated_definition" => match field(*stmt, Field::Definition) {
                Some(def) if def.kind_str() == "function_definition" => def,
                _ => continue,
            },
            _ => continue,
        };
        let Some(name_node) = field(def, Field::Name) else {
            continue;
        };
        let name = checker.text(name_node);
        if name == "_" {
            continue;
        }
        if let Some((earlier_stmt, earlier_def)) = seen.get(name).copied() {
            if !exempt(checker, name, earlier_stmt, *stmt, def) {
                checker.report(
                    Rule::Redefined,
                    format!(
                        "`{name}` is defined again here, replacing the definition on line {}, \
                         which is never used; rename one of them or remove the dead one",
                        line_of(earlier_def)
                    ),
                    name_node.byte_range(),
                    None,
                );
            }
        }
        seen.insert(name, (*stmt, def));
    }
}

fn exempt(
    checker: &Checker<'_>,
    name: &str,
    earlier: Node<'_>,
    later: Node<'_>,
    later_def: Node<'_>,
) -> bool {
    let overload = |stmt: Node<'_>| {
        stmt.kind_str() == "decorated_definition" && {
            let d = decorators(stmt, checker.source);
            d.overload || d.accessor
        }
    };
    if overload(earlier) || overload(later) || registered(checker, earlier) {
        return true;
    }
    // Used in between, the decorators of the later definition included: the first definition
    // was not dead.
    let between = checker
        .source
        .get(earlier.end_byte()..later_def.start_byte())
        .unwrap_or("");
    mentions(between, name)
}

/// Whether a definition has a decorator that may keep or call the function.
fn registered(checker: &Checker<'_>, stmt: Node<'_>) -> bool {
    if stmt.kind_str() != "decorated_definition" {
        return false;
    }
    let mut cursor = stmt.walk();
    let decorators: Vec<Node<'_>> = stmt
        .named_children(&mut cursor)
        .filter(|c| c.kind_str() == "decorator")
        .collect();
    decorators.into_iter().any(|d| {
        let name = super::decorator_name(d, checker.source);
        let last = name.rsplit('.').next().unwrap_or(name);
        !matches!(last, "staticmethod" | "classmethod" | "abstractmethod")
    })
}

/// Whether `text` holds `name` as a whole identifier.
fn mentions(text: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, flagged};

    #[test]
    fn statements_after_return_raise_break_continue_are_reported() {
        let source = "def check(self, sku):\n    if sku not in self.products:\n        return False\n    return self.available(sku) >= 1\n    logger.debug('stock check')\n    x = 1\n\nfor x in y:\n    if x:\n        break\n        print(x)\n    continue\n    # a comment\n    g()\nraise E\nh()\n";
        assert_eq!(
            flagged("TDM007", source),
            [
                "logger.debug('stock check')\n    x = 1",
                "print(x)",
                "g()",
                "h()"
            ]
        );
        let message = &findings("TDM007", source)[0].message;
        assert!(
            message.starts_with("Unreachable code: it follows the `return` on line 4"),
            "{message}"
        );
    }

    #[test]
    fn code_in_other_blocks_and_the_empty_generator_idiom_are_reachable() {
        let source = "def f(x):\n    if x:\n        return 1\n    else:\n        raise E\n    return 2\n\ndef empty():\n    return\n    yield\n\ndef g():\n    try:\n        return h()\n    finally:\n        cleanup()\n";
        assert!(flagged("TDM007", source).is_empty());
    }

    #[test]
    fn a_function_defined_twice_in_one_scope_is_reported() {
        let source = "def total(items):\n    return sum(items)\n\ndef total(items):\n    return 0\n\nclass C:\n    def m(self):\n        pass\n\n    @staticmethod\n    def m():\n        pass\n";
        assert_eq!(flagged("TDM008", source), ["total", "m"]);
        let message = &findings("TDM008", source)[0].message;
        assert!(
            message.contains("replacing the definition on line 1"),
            "{message}"
        );
    }

    #[test]
    fn overloads_accessors_alternatives_and_used_definitions_are_not_reported() {
        let source = "\
@overload
def f(x: int) -> int: ...
@overload
def f(x: str) -> str: ...
def f(x): return x

class C:
    @property
    def v(self): return self._v
    @v.setter
    def v(self, value): self._v = value

if PY3:
    def g(): pass
else:
    def g(): pass
try:
    def h(): pass
except ImportError:
    def h(): pass

def k(): pass
k = wrap(k)
def k(): pass

@atexit.register
def cleanup(): pass
def cleanup(): pass

@singledispatch
def show(x): pass
@show.register
def _(x: int): pass
@show.register
def _(x: str): pass

def outer():
    pass
def inner():
    def outer():
        pass
";
        assert!(flagged("TDM008", source).is_empty());
    }
}
