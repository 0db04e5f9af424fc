//! TDM004 (comparison with `None`, `True` or `False` using `==`/`!=`) and TDM005 (`assert` on a
//! tuple).
//!
//! `x == None` calls `x.__eq__`, which a class may define to say anything (NumPy arrays and
//! ORM columns return objects, not booleans); `x is None` asks the question meant. `x == True`
//! is also true for `1` and false for other truthy values; `if x:` or `x is True` says which is
//! meant. `assert (cond, "message")` asserts a two-element tuple, which is always true, so the
//! assertion never fails.
//!
//! Comparisons passed to a unittest assertion (`self.assertFalse(tz == None)`) are left alone:
//! there the comparison is usually the subject of the test (does `__eq__` handle `None`?).

use crate::analysis::parse::KindStr;
use tree_sitter::Node;

use super::{excerpt, Checker, Ctx, Rule};
use crate::analysis::finding::Fix;

pub(super) fn check_singleton(checker: &mut Checker<'_>, comparison: Node<'_>, ctx: &Ctx) {
    if !checker.on(Rule::SingletonComparison) || ctx.in_assertion_call {
        return;
    }
    let mut cursor = comparison.walk();
    let children: Vec<Node<'_>> = comparison
        .children(&mut cursor)
        .filter(|c| !c.is_extra())
        .collect();
    let operators = children.iter().filter(|c| !c.is_named()).count();
    for (i, op) in children.iter().enumerate() {
        let negated = match op.kind_str() {
            "==" => false,
            "!=" => true,
            _ => continue,
        };
        let (Some(left), Some(right)) = (
            children[..i].iter().rev().find(|c| c.is_named()),
            children[i + 1..].iter().find(|c| c.is_named()),
        ) else {
            continue;
        };
        let singleton = [*right, *left]
            .into_iter()
            .find(|n| matches!(n.kind_str(), "none" | "true" | "false"));
        let Some(singleton) = singleton else {
            continue;
        };
        let other = if singleton == *right { *left } else { *right };
        let op_text = if negated { "!=" } else { "==" };
        let other_text = excerpt(checker.text(other), 30);
        let (message, fix) = match singleton.kind_str() {
            "none" => {
                let replacement = if negated { "is not" } else { "is" };
                let fix = (operators == 1).then(|| {
                    Fix::new(
                        format!("Replace `{op_text} None` with `{replacement} None`"),
                        vec![(op.byte_range(), replacement.to_string())],
                    )
                });
                (
                    format!(
                        "Comparison `{other_text} {op_text} None` calls `__eq__`, which a class can \
                         define to return anything; use `{replacement} None`"
                    ),
                    fix,
                )
            }
            kind => {
                let value = if kind == "true" { "True" } else { "False" };
                let truth = if (kind == "true") != negated {
                    format!("if {other_text}:")
                } else {
                    format!("if not {other_text}:")
                };
                (
                    format!(
                        "Comparison `{other_text} {op_text} {value}` is also true for values equal \
                         to {value} such as {}; test the truth value (`{truth}`) or use `is` when \
                         only the bool will do",
                        if value == "True" { "`1`" } else { "`0`" }
                    ),
                    None,
                )
            }
        };
        let range = left.start_byte()..right.end_byte();
        checker.report(Rule::SingletonComparison, message, range, fix);
    }
}

pub(super) fn check_assert(checker: &mut Checker<'_>, assert: Node<'_>) {
    if !checker.on(Rule::AssertOnTuple) {
        return;
    }
    let Some(test) = assert.named_child(0) else {
        return;
    };
    if test.kind_str() == "tuple" && test.named_child_count() > 0 {
        checker.report(
            Rule::AssertOnTuple,
            "`assert` on a non-empty tuple is always true, so this assertion never fails; drop \
             the parentheses: `assert condition, \"message\"`"
                .to_string(),
            test.byte_range(),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, fixed, flagged};

    #[test]
    fn equality_with_none_true_or_false_is_reported_either_way_round() {
        let source =
            "a = x == None\nb = None != x\nc = y == True\nd = z != False\ne = 1 < x == None\n";
        assert_eq!(
            flagged("TDM004", source),
            [
                "x == None",
                "None != x",
                "y == True",
                "z != False",
                "x == None"
            ]
        );
        let found = findings("TDM004", source);
        assert!(
            found[0].message.contains("use `is None`"),
            "{}",
            found[0].message
        );
        assert!(found[1].message.contains("use `is not None`"));
        assert!(found[2].message.contains("`if y:`"), "{}", found[2].message);
        assert!(found[3].message.contains("`if z:`"), "{}", found[3].message);
        // Chains get no fix: the operator's neighbours would change meaning.
        assert!(found[4].fix.is_none());
    }

    #[test]
    fn identity_tests_and_other_comparisons_are_not_reported() {
        let source = "a = x is None\nb = x is not None\nc = x == 0\nd = x == 'None'\ne = x in (None, True)\nf = None\nself.assertFalse(tz == None)\n";
        assert!(flagged("TDM004", source).is_empty());
    }

    #[test]
    fn the_fix_uses_is_and_is_not() {
        assert_eq!(
            fixed("TDM004", "if self.email == None:\n    pass\n"),
            "if self.email is None:\n    pass\n"
        );
        assert_eq!(
            fixed("TDM004", "ok = value != None\n"),
            "ok = value is not None\n"
        );
        assert!(findings("TDM004", "ok = x == True\n")[0].fix.is_none());
    }

    #[test]
    fn assert_on_a_tuple_is_reported() {
        let source = "assert (x > 0, 'x must be positive')\nassert (x,)\n";
        assert_eq!(
            flagged("TDM005", source),
            ["(x > 0, 'x must be positive')", "(x,)"]
        );
    }

    #[test]
    fn ordinary_asserts_are_not_reported() {
        let source = "assert x > 0, 'x must be positive'\nassert (x > 0)\nassert ()\nassert (\n    x\n), 'm'\n";
        assert!(flagged("TDM005", source).is_empty());
    }
}
