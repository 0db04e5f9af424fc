//! TDM002 (bare `except:`) and TDM003 (an exception swallowed by `except …: pass`).
//!
//! A bare `except:` also catches `KeyboardInterrupt` and `SystemExit`, so Ctrl-C and
//! `sys.exit()` stop working inside the `try`; one that ends in a bare `raise` only cleans up
//! and is not reported. An `except` clause whose body is only `pass` or `...` makes failures
//! invisible; a comment in the clause says it is deliberate, and then it is not reported.

use tree_sitter::Node;

use super::{statements, Checker, Rule};
use crate::analysis::finding::Fix;

pub(super) fn check(checker: &mut Checker<'_>, clause: Node<'_>) {
    let mut cursor = clause.walk();
    let children: Vec<Node<'_>> = clause.children(&mut cursor).collect();
    let Some(keyword) = children.first().filter(|k| k.kind() == "except") else {
        return;
    };
    let value = clause.child_by_field_name("value");
    let Some(block) = children.iter().rev().find(|c| c.kind() == "block") else {
        return;
    };
    let body = statements(*block);
    let header_end = value.map_or(keyword.end_byte(), |v| v.end_byte());

    if value.is_none() && checker.on(Rule::BareExcept) && !ends_in_bare_raise(&body) {
        checker.report(
            Rule::BareExcept,
            "Bare `except:` also catches KeyboardInterrupt and SystemExit, so Ctrl-C and \
             `sys.exit()` stop working here; catch `Exception` or something narrower"
                .to_string(),
            keyword.byte_range(),
            Some(Fix::new(
                "Catch `Exception` instead",
                vec![(keyword.byte_range(), "except Exception".to_string())],
            )),
        );
    }

    if checker.on(Rule::ExceptionSwallowed)
        && !body.is_empty()
        && body.iter().all(|s| is_placeholder(checker, *s))
        && !has_comment(clause)
        && !has_comment(*block)
    {
        let header = checker
            .source
            .get(keyword.start_byte()..header_end)
            .unwrap_or("except");
        let header = super::excerpt(header, 40);
        checker.report(
            Rule::ExceptionSwallowed,
            format!(
                "`{header}: pass` swallows the exception: the failure leaves no trace; handle it, \
                 log it, or say in a comment why it is safe to ignore"
            ),
            keyword.start_byte()..header_end,
            None,
        );
    }
}

fn ends_in_bare_raise(body: &[Node<'_>]) -> bool {
    body.last()
        .is_some_and(|s| s.kind() == "raise_statement" && s.named_child_count() == 0)
}

/// `pass` or `...`.
fn is_placeholder(checker: &Checker<'_>, stmt: Node<'_>) -> bool {
    match stmt.kind() {
        "pass_statement" => true,
        "expression_statement" => checker.text(stmt).trim() == "...",
        _ => false,
    }
}

fn has_comment(node: Node<'_>) -> bool {
    let mut cursor = node.walk();
    let found = node.children(&mut cursor).any(|c| c.kind() == "comment");
    found
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, fixed, flagged};

    #[test]
    fn a_bare_except_is_reported_with_a_fix() {
        let source = "try:\n    x = int(s)\nexcept:\n    x = 1\n";
        assert_eq!(flagged("TDM002", source), ["except"]);
        assert!(findings("TDM002", source)[0].message.contains("KeyboardInterrupt"));
        assert_eq!(
            fixed("TDM002", source),
            "try:\n    x = int(s)\nexcept Exception:\n    x = 1\n"
        );
    }

    #[test]
    fn typed_excepts_and_cleanup_that_reraises_are_not_bare_excepts() {
        let source = "try:\n    f()\nexcept ValueError:\n    g()\nexcept* OSError:\n    g()\n";
        assert!(flagged("TDM002", source).is_empty());
        let cleanup = "try:\n    f()\nexcept:\n    rollback()\n    raise\n";
        assert!(flagged("TDM002", cleanup).is_empty());
    }

    #[test]
    fn except_with_only_pass_or_ellipsis_is_reported() {
        let source = "try:\n    f()\nexcept PaymentError:\n    pass\ntry:\n    f()\nexcept (A, B) as e:\n    ...\n";
        assert_eq!(
            flagged("TDM003", source),
            ["except PaymentError", "except (A, B) as e"]
        );
        let message = &findings("TDM003", source)[0].message;
        assert!(
            message.starts_with("`except PaymentError: pass` swallows the exception"),
            "{message}"
        );
        // A bare `except: pass` is both bare and swallowed.
        let codes: Vec<String> = findings("TDM00", "try:\n    f()\nexcept:\n    pass\n")
            .into_iter()
            .map(|f| f.code)
            .collect();
        assert_eq!(codes, ["TDM002", "TDM003"]);
    }

    #[test]
    fn handled_or_explained_exceptions_are_not_reported() {
        let handled = "try:\n    f()\nexcept KeyError:\n    log()\n";
        let explained = "try:\n    f()\nexcept KeyError:\n    # Missing keys are fine here.\n    pass\n";
        let inline = "try:\n    f()\nexcept KeyError:  # already gone\n    pass\n";
        let trailing = "try:\n    f()\nexcept KeyError:\n    pass  # already gone\n";
        for source in [handled, explained, inline, trailing] {
            assert!(flagged("TDM003", source).is_empty(), "{source}");
        }
    }
}
