//! A finding of a check: a coded, located message about the source. Shared by every rule
//! family (the DOC docstring checks, the TDM review rules), so the command line, the
//! diagnostics and the benchmarks handle them all the same way.

use std::ops::Range;

use serde::Serialize;

/// How serious a finding is; the names follow the LSP diagnostic severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
            Severity::Hint => "hint",
        }
    }
}

/// One finding about one place of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's code, e.g. `DOC101` or `TDM001`.
    pub code: String,
    pub severity: Severity,
    /// One sentence, without a trailing newline.
    pub message: String,
    /// Byte range in the source the finding is about.
    pub range: Range<usize>,
}

impl Finding {
    pub fn new(
        code: impl Into<String>,
        severity: Severity,
        message: impl Into<String>,
        range: Range<usize>,
    ) -> Self {
        Finding {
            code: code.into(),
            severity,
            message: message.into(),
            range,
        }
    }
}

/// Which codes a run reports: `--select` and `--ignore` lists of codes or code prefixes
/// (`DOC`, `DOC1`, `DOC201`). An empty selection selects everything; an ignore wins over a
/// select.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeSelection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl CodeSelection {
    /// Reads comma-separated lists (repeated flags are joined by the caller). Codes are
    /// upper-cased; an entry that is not letters followed by digits is an error naming it.
    pub fn parse(select: &[String], ignore: &[String]) -> Result<Self, String> {
        fn split(list: &[String]) -> Result<Vec<String>, String> {
            let mut out = Vec::new();
            for item in list.iter().flat_map(|s| s.split(',')) {
                let code = item.trim().to_ascii_uppercase();
                if code.is_empty() {
                    continue;
                }
                let letters = code.bytes().take_while(u8::is_ascii_alphabetic).count();
                if letters == 0 || !code.bytes().skip(letters).all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "`{}` is not a rule code or prefix (like DOC, DOC1 or DOC201)",
                        item.trim()
                    ));
                }
                out.push(code);
            }
            Ok(out)
        }
        Ok(CodeSelection {
            select: split(select)?,
            ignore: split(ignore)?,
        })
    }

    pub fn is_selected(&self, code: &str) -> bool {
        let matches = |prefix: &String| code.starts_with(prefix.as_str());
        (self.select.is_empty() || self.select.iter().any(matches))
            && !self.ignore.iter().any(matches)
    }

    /// Whether any code starting with `family` (e.g. `DOC`) can be selected, so a run can skip
    /// a whole family of rules.
    pub fn wants_family(&self, family: &str) -> bool {
        let selected = self.select.is_empty()
            || self
                .select
                .iter()
                .any(|s| s.starts_with(family) || family.starts_with(s.as_str()));
        selected && !self.ignore.iter().any(|i| family.starts_with(i.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(select: &[&str], ignore: &[&str]) -> CodeSelection {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        CodeSelection::parse(&v(select), &v(ignore)).unwrap()
    }

    #[test]
    fn selection_by_prefix_with_ignore_winning() {
        let s = sel(&["DOC1,doc201"], &["DOC103"]);
        assert!(s.is_selected("DOC101"));
        assert!(s.is_selected("DOC201"));
        assert!(!s.is_selected("DOC103"));
        assert!(!s.is_selected("DOC202"));
        assert!(!s.is_selected("TDM001"));
        assert!(s.wants_family("DOC"));
        assert!(!s.wants_family("TDM"));
    }

    #[test]
    fn empty_selection_selects_everything() {
        let s = sel(&[], &[]);
        assert!(s.is_selected("DOC501") && s.is_selected("TDM001"));
        assert!(!sel(&[], &["DOC"]).wants_family("DOC"));
    }

    #[test]
    fn malformed_codes_are_errors_naming_them() {
        let err = CodeSelection::parse(&["DOC-1".into()], &[]).unwrap_err();
        assert!(err.contains("DOC-1"), "{err}");
        assert!(CodeSelection::parse(&["12".into()], &[]).is_err());
    }

    #[test]
    fn severities_serialize_in_lower_case() {
        let f = Finding::new("DOC101", Severity::Warning, "m", 0..1);
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["severity"], "warning");
    }
}
