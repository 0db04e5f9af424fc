//! TDM006: an f-string without placeholders. Either the `f` is noise or, more often, the
//! `{name}` that was meant to be there is missing. An implicit concatenation
//! (`f"a" "b{c}"`) is judged as a whole, as pyflakes does: one placeholder anywhere is enough.
//!
//! Left alone: the empty `f""`, f-strings that spell braces (`{{`, `}}`) or named escapes
//! (`\N{…}`), where the braces show formatting was on the author's mind, and f-strings passed
//! to a unittest assertion, where the literal is usually the subject of the test (CPython's
//! f-string tests are full of all three).
//!
//! The fix drops the `f`/`F` from the prefix (keeping `r`).

use crate::analysis::parse::KindStr;
use tree_sitter::Node;

use super::{Checker, Rule};
use crate::analysis::finding::Fix;

/// Checks one string, or the parts of one implicit concatenation.
pub(super) fn check(checker: &mut Checker<'_>, parts: &[Node<'_>]) {
    if !checker.on(Rule::FStringWithoutPlaceholders) {
        return;
    }
    let mut empty_fstrings = Vec::new();
    for part in parts {
        let Some((start, end)) = delimiters(*part) else {
            return;
        };
        let prefix = checker.text(start).trim_end_matches(['"', '\'']);
        if !prefix.contains(['f', 'F']) {
            continue;
        }
        if has_interpolation(*part) {
            return;
        }
        let content = checker
            .source
            .get(start.end_byte()..end.start_byte())
            .unwrap_or("");
        if content.is_empty()
            || content.contains("{{")
            || content.contains("}}")
            || content.contains("\\N{")
        {
            continue;
        }
        empty_fstrings.push((*part, start, end, prefix));
    }
    for (part, start, end, prefix) in empty_fstrings {
        let quotes = &checker.text(start)[prefix.len()..];
        let new_prefix: String = prefix.chars().filter(|c| !matches!(c, 'f' | 'F')).collect();
        let content_range = start.end_byte()..end.start_byte();
        let content = checker.source.get(content_range.clone()).unwrap_or("");
        let mut edits = vec![(start.byte_range(), format!("{new_prefix}{quotes}"))];
        if content.contains("{{") || content.contains("}}") {
            edits.push((content_range, content.replace("{{", "{").replace("}}", "}")));
        }
        checker.report(
            Rule::FStringWithoutPlaceholders,
            "f-string without placeholders: the `f` does nothing, or the `{…}` meant to be \
             here is missing; remove the `f` prefix or add the placeholder"
                .to_string(),
            part.byte_range(),
            Some(Fix::new("Remove the `f` prefix", edits)),
        );
    }
}

fn delimiters(string: Node<'_>) -> Option<(Node<'_>, Node<'_>)> {
    let start = string.child(0).filter(|c| c.kind_str() == "string_start")?;
    let end = string
        .child(string.child_count().checked_sub(1)?)
        .filter(|c| c.kind_str() == "string_end")?;
    Some((start, end))
}

fn has_interpolation(string: Node<'_>) -> bool {
    let mut cursor = string.walk();
    let found = string
        .children(&mut cursor)
        .any(|c| c.kind_str() == "interpolation");
    found
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, fixed, flagged};

    #[test]
    fn f_strings_without_placeholders_are_reported() {
        let source = "print(f\"Checkout complete.\")\nx = F'a' + rf'\\d'\n";
        assert_eq!(
            flagged("TDM006", source),
            ["f\"Checkout complete.\"", "F'a'", "rf'\\d'"]
        );
        assert!(findings("TDM006", source)[0]
            .message
            .contains("placeholders"));
    }

    #[test]
    fn f_strings_with_placeholders_and_plain_strings_are_not_reported() {
        let source = "a = f'{x}'\nb = f'{x!r:>{w}}'\nc = 'plain {x}'\nd = b'bytes'\ne = (f'a: ' f'{x}')\ng = (f'a' 'b' f'{c}')\nh = f''\ni = f'{{}}'\nj = f'\\N{DASH}'\nself.assertEqual(f'a', 'a')\n";
        assert!(flagged("TDM006", source).is_empty());
    }

    #[test]
    fn a_concatenation_without_any_placeholder_reports_its_f_parts() {
        let source = "msg = (f'one ' 'two ' f'three')\n";
        assert_eq!(flagged("TDM006", source), ["f'one '", "f'three'"]);
    }

    #[test]
    fn the_fix_drops_the_f_and_unescapes_braces() {
        assert_eq!(fixed("TDM006", "print(f\"done.\")\n"), "print(\"done.\")\n");
        assert_eq!(fixed("TDM006", "p = Rf'\\d+'\n"), "p = R'\\d+'\n");
        assert_eq!(
            fixed("TDM006", "s = f\"\"\"a\nb\"\"\"\n"),
            "s = \"\"\"a\nb\"\"\"\n"
        );
    }
}
