//! Every code `tandem check` can report, with its name, one-line description and default
//! severity: the built-in review rules (TDM), the two rules of the project pass (TDM020,
//! TDM021, which need the whole project's call graph) and the docstring checks (DOC). The
//! command line's SARIF output and the editor's diagnostics read their descriptions here.

use crate::analysis::finding::Severity;

/// One rule as documented in `docs/rules.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    pub code: &'static str,
    /// A kebab-case name, stable like the code.
    pub name: &'static str,
    /// What the rule reports, in one sentence fragment.
    pub summary: &'static str,
    pub severity: Severity,
}

const fn rule(
    code: &'static str,
    name: &'static str,
    summary: &'static str,
    severity: Severity,
) -> RuleInfo {
    RuleInfo {
        code,
        name,
        summary,
        severity,
    }
}

use Severity::{Information, Warning};

/// The rules, in code order.
#[rustfmt::skip]
pub const RULES: &[RuleInfo] = &[
    rule("TDM001", "mutable-default-argument", "A list, dict or set as a parameter's default value is shared by every call", Warning),
    rule("TDM002", "bare-except", "A bare `except:` also catches KeyboardInterrupt and SystemExit", Warning),
    rule("TDM003", "exception-swallowed", "An `except` clause that only does `pass` hides the error", Warning),
    rule("TDM004", "comparison-to-singleton", "`== None`, `!= None`, `== True` or `== False` instead of `is` or a truth test", Warning),
    rule("TDM005", "assert-on-tuple", "`assert (condition, message)` asserts a non-empty tuple, which is always true", Warning),
    rule("TDM006", "f-string-without-placeholders", "An f-string with no `{…}` placeholder", Warning),
    rule("TDM007", "unreachable-code", "Statements after `return`, `raise`, `break` or `continue` in the same block", Warning),
    rule("TDM008", "function-redefined", "A function or method defined twice in the same scope; the first definition is lost", Warning),
    rule("TDM009", "builtin-shadowed", "A parameter or variable named like a builtin (`list`, `id`, `type`, …)", Warning),
    rule("TDM010", "too-complex", "A function whose cyclomatic complexity exceeds `review.max_complexity`", Information),
    rule("TDM011", "too-many-statements", "A function with more statements than `review.max_statements`", Information),
    rule("TDM012", "missing-docstring", "A public function, method or class without a docstring", Information),
    rule("TDM013", "hidden-unicode", "Invisible Unicode (tag characters, bidirectional controls, zero-width characters) that makes code read differently from how it runs or hides text", Warning),
    rule("TDM020", "unused-symbol", "A function, method or class that nothing in the project calls or references", Information),
    rule("TDM021", "call-arguments-mismatch", "A call to a project function with arguments its signature cannot accept", Warning),
    rule("DOC101", "docstring-missing-arguments", "The docstring documents fewer arguments than the signature has", Warning),
    rule("DOC102", "docstring-extra-arguments", "The docstring documents more arguments than the signature has", Warning),
    rule("DOC103", "docstring-argument-names", "The docstring's argument names differ from the signature's", Warning),
    rule("DOC104", "docstring-argument-order", "The docstring lists the arguments in another order than the signature", Warning),
    rule("DOC105", "docstring-argument-types", "Argument types in the docstring differ from the annotations", Warning),
    rule("DOC201", "docstring-missing-returns", "No Returns section although the function returns a value", Warning),
    rule("DOC202", "docstring-extra-returns", "A Returns section although the function returns nothing", Warning),
    rule("DOC203", "docstring-return-type", "The Returns type differs from the return annotation", Warning),
    rule("DOC402", "docstring-missing-yields", "No Yields section although the function yields", Warning),
    rule("DOC403", "docstring-extra-yields", "A Yields section although the function does not yield", Warning),
    rule("DOC404", "docstring-yield-type", "The Yields type differs from the annotation, or no Yields section", Warning),
    rule("DOC405", "docstring-return-and-yield", "Both `return` and `yield` without a `Generator[Y, S, R]` annotation", Warning),
    rule("DOC501", "docstring-missing-raises", "No Raises section although exceptions escape the function", Warning),
    rule("DOC502", "docstring-extra-raises", "A Raises section although nothing is raised", Warning),
    rule("DOC503", "docstring-raises-differ", "The Raises section's exceptions differ from those raised", Warning),
    rule("DOC701", "docstring-unknown-call-target", "The docstring names a call target the function does not call and the project does not define", Warning),
];

/// Where the rules are documented, relative to the repository root; each rule has an anchor
/// named after its code in lower case (`docs/rules.md#tdm001`).
pub const RULES_DOC: &str = "docs/rules.md";

/// The rule with this code.
pub fn rule_info(code: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.code == code)
}

/// The documentation link of a code: `docs/rules.md#tdm001`.
pub fn help_uri(code: &str) -> String {
    format!("{RULES_DOC}#{}", code.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_sorted_within_each_family() {
        for pair in RULES.windows(2) {
            let (a, b) = (pair[0].code, pair[1].code);
            if a[..3] == b[..3] {
                assert!(a < b, "{a} before {b}");
            }
        }
    }

    /// Every code has an anchor in docs/rules.md, which SARIF's helpUri points at.
    #[test]
    fn every_rule_is_documented_with_an_anchor() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md");
        let doc = std::fs::read_to_string(path).expect("read docs/rules.md");
        for rule in RULES {
            let anchor = format!("<a id=\"{}\"></a>", rule.code.to_ascii_lowercase());
            assert!(doc.contains(&anchor), "docs/rules.md lacks {anchor}");
        }
    }
}
