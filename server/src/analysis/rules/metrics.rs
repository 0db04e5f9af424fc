//! TDM010 (function too complex) and TDM011 (function too long), counted the way ruff counts
//! C901 (mccabe) and PLR0915 (pylint's too-many-statements), so the numbers compare:
//!
//! - complexity: 1, plus 1 per `if`, `elif`, `for`, `while`, `except` clause, `try … else`,
//!   `match` case (less one when the last case is a catch-all), and per nested function (with
//!   its own complexity added); boolean operators and comprehensions do not count;
//! - statements: every statement in the body, nested blocks included, except that `return`
//!   and `for` headers count 0, `if`/`elif`/`else`, `while`, `with`, `match` and `try` headers
//!   count 1, `try … else` 1 more, `finally` 2, several `except` clauses 1 more, each `except`
//!   1, a nested function 1 plus its statements, a nested class 1 (its body nothing).
//!
//! Counting happens during the one walk: each statement adds to the function the walk's
//! context names, and at the end nested functions add their totals to their parents.

use crate::analysis::parse::KindStr;
use tree_sitter::Node;

use super::{field, Checker, Ctx, Field, FunctionMetrics, Rule};

/// Registers a function definition; returns its index when TDM010 or TDM011 is on.
pub(super) fn enter_function(checker: &mut Checker<'_>, def: Node<'_>, ctx: &Ctx) -> Option<usize> {
    if !checker.on(Rule::TooComplex) && !checker.on(Rule::TooManyStatements) {
        return None;
    }
    let name = field(def, Field::Name)?;
    checker.functions.push(FunctionMetrics {
        name: name.byte_range(),
        complexity: 1,
        statements: 0,
        complexity_parent: ctx.complexity_of,
        statements_parent: ctx.statements_of,
    });
    Some(checker.functions.len() - 1)
}

/// Adds what `node` contributes to the enclosing function's counters.
pub(super) fn count(checker: &mut Checker<'_>, node: Node<'_>, kind: &str, ctx: &Ctx) {
    if ctx.complexity_of.is_none() && ctx.statements_of.is_none() {
        return;
    }
    let (complexity, statements) = match kind {
        "if_statement" => {
            let (elifs, elses) = count_clauses(node, "elif_clause", "else_clause");
            (1 + elifs, 1 + elifs + elses)
        }
        "for_statement" => (1, 0),
        "while_statement" => (1, 1),
        "try_statement" => {
            let mut handlers = 0;
            let mut has_else = false;
            let mut has_finally = false;
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                match child.kind_str() {
                    "except_clause" | "except_group_clause" => handlers += 1,
                    "else_clause" => has_else = true,
                    "finally_clause" => has_finally = true,
                    _ => {}
                }
            }
            let complexity = handlers + usize::from(has_else);
            let statements = 1
                + usize::from(has_else)
                + 2 * usize::from(has_finally)
                + usize::from(handlers > 1)
                + handlers;
            (complexity, statements)
        }
        "match_statement" => (match_complexity(node), 1),
        "with_statement" => (0, 1),
        "class_definition" => (0, 1),
        // A nested function adds its totals when the walk is done; a decorated definition is
        // counted through its definition; `return` counts nothing, as in pylint.
        "function_definition" | "decorated_definition" | "return_statement" => (0, 0),
        "expression_statement"
        | "pass_statement"
        | "break_statement"
        | "continue_statement"
        | "raise_statement"
        | "import_statement"
        | "import_from_statement"
        | "future_import_statement"
        | "global_statement"
        | "nonlocal_statement"
        | "delete_statement"
        | "assert_statement"
        | "print_statement"
        | "exec_statement"
        | "type_alias_statement" => (0, 1),
        _ => return,
    };
    if let Some(f) = ctx.complexity_of {
        checker.functions[f].complexity += complexity;
    }
    if let Some(f) = ctx.statements_of {
        checker.functions[f].statements += statements;
    }
}

fn count_clauses(node: Node<'_>, a: &str, b: &str) -> (usize, usize) {
    let (mut n_a, mut n_b) = (0, 0);
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        if child.kind_str() == a {
            n_a += 1;
        } else if child.kind_str() == b {
            n_b += 1;
        }
    }
    (n_a, n_b)
}

/// One per case, less one when the last case is an unguarded catch-all (`case _:`,
/// `case name:`), which is like an `else`.
fn match_complexity(node: Node<'_>) -> usize {
    let Some(body) = field(node, Field::Body) else {
        return 0;
    };
    let mut cursor = body.walk();
    let cases: Vec<Node<'_>> = body
        .named_children(&mut cursor)
        .filter(|c| c.kind_str() == "case_clause")
        .collect();
    let catch_all = cases.last().is_some_and(|last| {
        field(*last, Field::Guard).is_none() && {
            let mut cursor = last.walk();
            let patterns: Vec<Node<'_>> = last
                .named_children(&mut cursor)
                .filter(|c| c.kind_str() == "case_pattern")
                .collect();
            patterns.len() == 1 && is_irrefutable(patterns[0])
        }
    });
    cases.len() - usize::from(catch_all)
}

/// `_`, a bare capture name, or an or-pattern with such an alternative.
fn is_irrefutable(pattern: Node<'_>) -> bool {
    match pattern.kind_str() {
        "case_pattern" => match pattern.named_child(0) {
            None => true,
            Some(inner) => pattern.named_child_count() == 1 && is_irrefutable(inner),
        },
        "dotted_name" => pattern.named_child_count() == 1,
        "union_pattern" => {
            let mut cursor = pattern.walk();
            let alternatives: Vec<Node<'_>> = pattern.children(&mut cursor).collect();
            alternatives
                .iter()
                .any(|c| c.kind_str() == "_" || (c.is_named() && is_irrefutable(*c)))
        }
        _ => false,
    }
}

/// Adds nested functions' totals to their parents and reports those over the limits.
pub(super) fn report(checker: &mut Checker<'_>) {
    let functions = &mut checker.functions;
    for i in (0..functions.len()).rev() {
        let (complexity, statements) = (functions[i].complexity, functions[i].statements);
        if let Some(p) = functions[i].complexity_parent {
            functions[p].complexity += complexity;
        }
        if let Some(p) = functions[i].statements_parent {
            functions[p].statements += statements + 1;
        }
    }
    let functions = std::mem::take(&mut checker.functions);
    let (max_complexity, max_statements) =
        (checker.opts.max_complexity, checker.opts.max_statements);
    for f in functions {
        let name = checker.source.get(f.name.clone()).unwrap_or("");
        if checker.on(Rule::TooComplex) && f.complexity > max_complexity {
            checker.report(
                Rule::TooComplex,
                format!(
                    "`{name}` is too complex: cyclomatic complexity {} (limit {max_complexity}); \
                     each branch is a path to understand and test, so split it into smaller functions",
                    f.complexity
                ),
                f.name.clone(),
                None,
            );
        }
        if checker.on(Rule::TooManyStatements) && f.statements > max_statements {
            checker.report(
                Rule::TooManyStatements,
                format!(
                    "`{name}` is too long: {} statements (limit {max_statements}); \
                     long functions do several things, so extract the parts into functions",
                    f.statements
                ),
                f.name,
                None,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::findings_with;
    use super::super::RuleOptions;

    /// The complexity TDM010 computes for the first function of `source`.
    fn complexity(source: &str) -> usize {
        let opts = RuleOptions {
            max_complexity: 0,
            ..RuleOptions::default()
        };
        let found = findings_with("TDM010", source, opts);
        let message = &found.first().expect("a finding").message;
        let n = message.split("complexity ").nth(1).unwrap();
        n.split(' ').next().unwrap().parse().unwrap()
    }

    fn statements(source: &str) -> usize {
        let opts = RuleOptions {
            max_statements: 0,
            ..RuleOptions::default()
        };
        let found = findings_with("TDM011", source, opts);
        let message = &found.first().map(|f| f.message.clone()).unwrap_or_default();
        message
            .split(": ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .map_or(0, |n| n.parse().unwrap())
    }

    // Cases and numbers from ruff's C901 tests (each function's complexity as ruff reports it).
    #[test]
    fn complexity_counts_like_mccabe_in_ruff() {
        assert_eq!(complexity("def f():\n    pass\n"), 1);
        assert_eq!(complexity("def f(n):\n    k = n + 4\n    return k\n"), 1);
        let if_elif_else = "def f(n):\n    if n > 3:\n        return 1\n    elif n > 4:\n        return 2\n    else:\n        return 3\n";
        assert_eq!(complexity(if_elif_else), 3);
        let nested_ifs = "def f(n):\n    if n > 3:\n        if n > 4:\n            return 1\n        else:\n            return 2\n    else:\n        return 3\n";
        assert_eq!(complexity(nested_ifs), 3);
        assert_eq!(
            complexity("def f():\n    for i in x:\n        print(i)\n"),
            2
        );
        assert_eq!(
            complexity(
                "def f():\n    for i in x:\n        print(i)\n    else:\n        print(None)\n"
            ),
            2
        );
        let nested =
            "def f():\n    def a():\n        def b():\n            pass\n        b()\n    a()\n";
        assert_eq!(complexity(nested), 3);
        let try_else = "def f():\n    try:\n        print(1)\n    except TypeA:\n        print(2)\n    except TypeB:\n        print(3)\n    else:\n        print(4)\n";
        assert_eq!(complexity(try_else), 4);
        let try_finally = "def f():\n    try:\n        try:\n            print(1)\n        finally:\n            print(2)\n    finally:\n        print(3)\n";
        assert_eq!(complexity(try_finally), 1);
        let asyncs = "async def f(a, b, c):\n    await w(a)\n    if await b:\n        pass\n    async with c:\n        pass\n    async for x in a:\n        pass\n";
        assert_eq!(complexity(asyncs), 3);
        let with = "def f():\n    with lock:\n        if foo:\n            print('bar')\n";
        assert_eq!(complexity(with), 2);
        let in_finally =
            "def f():\n    try:\n        pass\n    finally:\n        if res:\n            g()\n";
        assert_eq!(complexity(in_finally), 2);
        // Boolean operators, conditional expressions and comprehensions do not count.
        assert_eq!(
            complexity("def f(a, b):\n    return [x for x in a if x] or (a if b else b and a)\n"),
            1
        );
    }

    #[test]
    fn complexity_of_a_method_includes_classes_nested_in_it() {
        let source = "class Class:\n    def handle(self, *args, **options):\n        if args:\n            return\n\n        class ServiceProvider:\n            def a(self):\n                pass\n\n            def b(self, data):\n                if not args:\n                    pass\n\n        class Logger:\n            def c(*args, **kwargs):\n                pass\n\n            def error(self, message):\n                pass\n\n            def info(self, message):\n                pass\n\n            def exception(self):\n                pass\n\n        return ServiceProvider(Logger())\n";
        assert_eq!(complexity(source), 9);
    }

    #[test]
    fn match_cases_count_except_a_final_catch_all() {
        let two = "def f():\n    match s:\n        case 2:\n            pass\n        case _:\n            pass\n";
        assert_eq!(complexity(two), 2);
        let three = "def f():\n    match s:\n        case 2:\n            pass\n        case 3:\n            pass\n        case x:\n            pass\n";
        assert_eq!(complexity(three), 3);
        let or_all = "def f():\n    match s:\n        case 2:\n            pass\n        case 5 | _:\n            pass\n";
        assert_eq!(complexity(or_all), 2);
        let guarded = "def f():\n    match s:\n        case 2:\n            pass\n        case _ if s:\n            pass\n";
        assert_eq!(complexity(guarded), 3);
    }

    // Cases and numbers from ruff's PLR0915 tests (which count the `def` itself as one
    // statement of the module; the function's own count is one less).
    #[test]
    fn statements_count_like_pylint_in_ruff() {
        assert_eq!(statements("def f():\n    pass\n"), 1);
        assert_eq!(
            statements("def f():\n    if a:\n        print()\n    else:\n        print()\n"),
            4
        );
        assert_eq!(
            statements("def f():\n    if a:\n        print()\n    else:\n        if a:\n            print()\n"),
            5
        );
        assert_eq!(
            statements("def f():\n    if a:\n        print()\n    elif a == 2:\n        print()\n    elif a == 3:\n        print()\n    else:\n        print()\n"),
            8
        );
        let many = "async def f():\n    a = 1\n    b = 2\n    c = 3\n    await some_other_func()\n    if a == 1:\n        print('hello')\n    else:\n        other_func()\n    count = 1\n    while True:\n        count += 1\n        if count > 20:\n            break;\n\n    with open(f):\n        with open(e):\n            a -= 1\n            import time\n            pass\n";
        assert_eq!(statements(many), 18);
        assert_eq!(
            statements("def f():\n    for i in range(10):\n        pass\n"),
            1
        );
        assert_eq!(
            statements("def f():\n    for i in x:\n        print()\n    else:\n        print()\n"),
            2
        );
        let nested_def =
            "def f():\n    def g():\n        print()\n        print()\n\n    print()\n";
        assert_eq!(statements(nested_def), 4);
        let nested_class = "def f():\n    class A:\n        def __init__(self):\n            pass\n\n        def f(self):\n            pass\n\n    print()\n";
        assert_eq!(statements(nested_class), 2);
        assert_eq!(statements("def f():\n    return\n"), 0);
        assert_eq!(
            statements(
                "def f():\n    try:\n        print()\n    except Exception:\n        raise\n"
            ),
            4
        );
        assert_eq!(
            statements("def f():\n    try:\n        print()\n    except ValueError:\n        pass\n    else:\n        print()\n"),
            6
        );
        assert_eq!(
            statements("def f():\n    try:\n        print()\n    except ValueError:\n        pass\n    else:\n        print()\n    finally:\n        pass\n"),
            9
        );
        assert_eq!(
            statements("def f():\n    try:\n        print()\n    except ValueError:\n        pass\n    except Exception:\n        raise\n"),
            7
        );
        assert_eq!(
            statements("def f():\n    try:\n        print()\n    except:\n        pass\n    except:\n        pass\n    finally:\n        print()\n"),
            10
        );
        assert_eq!(
            statements("def f():\n    for i in range(10):\n        yield i\n"),
            1
        );
    }

    #[test]
    fn functions_within_the_limits_are_not_reported() {
        let source = "def f(a):\n    if a:\n        return 1\n    return 2\n";
        assert!(findings_with("TDM010", source, RuleOptions::default()).is_empty());
        assert!(findings_with("TDM011", source, RuleOptions::default()).is_empty());
        let opts = RuleOptions {
            max_complexity: 1,
            ..RuleOptions::default()
        };
        let found = findings_with("TDM010", source, opts);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("complexity 2 (limit 1)"),
            "{}",
            found[0].message
        );
    }
}
