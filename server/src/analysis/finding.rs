//! A finding of a check: a coded, located message about the source. Shared by every rule
//! family (the DOC docstring checks, the TDM review rules), so the command line, the
//! diagnostics and the benchmarks handle them all the same way.
//!
//! Also here, because every family honours them: `# noqa` comments ([`apply_noqa`]) and
//! selection by code prefix ([`CodeSelection`]).

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// How serious a finding is; the names follow the LSP diagnostic severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    /// A mechanical fix, when there is one (the editor offers it as a quick fix). Not part of
    /// the printed findings.
    #[serde(skip)]
    pub fix: Option<Fix>,
}

/// A mechanical fix: edits to the same source the finding was computed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, as a code action title ("Replace `== None` with `is None`").
    pub title: String,
    /// Byte ranges of the source and their replacements, sorted by start and not overlapping.
    pub edits: Vec<(Range<usize>, String)>,
}

impl Fix {
    pub fn new(title: impl Into<String>, mut edits: Vec<(Range<usize>, String)>) -> Self {
        edits.sort_by_key(|(range, _)| (range.start, range.end));
        Fix {
            title: title.into(),
            edits,
        }
    }

    /// The source with the edits applied, or `None` when an edit is out of range, not on
    /// character boundaries, or overlaps the one before.
    pub fn apply(&self, source: &str) -> Option<String> {
        let mut out = String::with_capacity(source.len() + 64);
        let mut at = 0;
        for (range, text) in &self.edits {
            if range.start < at || range.end < range.start {
                return None;
            }
            out.push_str(source.get(at..range.start)?);
            source.get(range.clone())?;
            out.push_str(text);
            at = range.end;
        }
        out.push_str(source.get(at..)?);
        Some(out)
    }
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
            fix: None,
        }
    }

    /// The same finding with a fix attached.
    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
}

/// Removes the findings that a `# noqa` comment on their first line suppresses: a bare
/// `# noqa` suppresses every finding on the line, `# noqa: TDM001,DOC101` those codes only
/// (comma- or space-separated, any case). Codes of other tools in the list (`E501`) are
/// ignored, so they do not turn the comment into a blanket one.
pub fn apply_noqa(source: &str, findings: &mut Vec<Finding>) {
    if findings.is_empty() || !contains_noqa(source.as_bytes()) {
        return;
    }
    findings.retain(|f| !noqa_suppresses(line_at(source, f.range.start), &f.code));
}

fn contains_noqa(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|w| w.eq_ignore_ascii_case(b"noqa"))
}

/// The line of `source` that holds byte `offset`, without its line break.
fn line_at(source: &str, offset: usize) -> &str {
    let bytes = source.as_bytes();
    let offset = offset.min(bytes.len());
    let start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
        .map_or(0, |i| i + 1);
    let end = bytes[offset..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |i| offset + i);
    source.get(start..end).unwrap_or("")
}

/// Whether `line` carries a `# noqa` comment that covers `code`.
pub fn noqa_suppresses(line: &str, code: &str) -> bool {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(hash) = bytes[from..].iter().position(|&b| b == b'#') {
        let mut i = from + hash + 1;
        from = i;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if !bytes
            .get(i..i + 4)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"noqa"))
        {
            continue;
        }
        i += 4;
        match bytes.get(i) {
            None => return true,
            Some(b':') => {}
            Some(b) if b.is_ascii_alphanumeric() || *b == b'_' => continue,
            Some(_) => return true,
        }
        // `# noqa: CODE, CODE`: the codes run until something that is not a code.
        let mut codes = Vec::new();
        let rest = &line[i + 1..];
        for token in rest.split(|c: char| c == ',' || c.is_whitespace()) {
            if token.is_empty() {
                continue;
            }
            let letters = token.bytes().take_while(u8::is_ascii_alphabetic).count();
            let digits = token.len() - letters;
            if letters == 0
                || digits == 0
                || !token.bytes().skip(letters).all(|b| b.is_ascii_digit())
            {
                break;
            }
            codes.push(token);
        }
        // `# noqa:` followed by no code at all reads as a blanket `# noqa`, as in ruff.
        return codes.is_empty() || codes.iter().any(|c| c.eq_ignore_ascii_case(code));
    }
    false
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

    #[test]
    fn a_fix_is_not_serialized() {
        let plain = Finding::new("TDM002", Severity::Warning, "m", 0..6);
        let fixed = plain
            .clone()
            .with_fix(Fix::new("t", vec![(0..6, "except Exception".into())]));
        assert_eq!(
            serde_json::to_value(&plain).unwrap(),
            serde_json::to_value(&fixed).unwrap()
        );
    }

    #[test]
    fn fixes_apply_sorted_edits_and_refuse_overlaps() {
        let fix = Fix::new("t", vec![(4..5, "B".into()), (0..1, "a".into())]);
        assert_eq!(fix.apply("x = b").as_deref(), Some("a = B"));
        let overlapping = Fix::new("t", vec![(0..3, "".into()), (2..4, "".into())]);
        assert_eq!(overlapping.apply("abcdef"), None);
        assert_eq!(Fix::new("t", vec![(9..10, "".into())]).apply("abc"), None);
    }

    #[test]
    fn noqa_comments_suppress_all_or_listed_codes() {
        assert!(noqa_suppresses("x == None  # noqa", "TDM004"));
        assert!(noqa_suppresses("x == None  #NOQA", "TDM004"));
        assert!(noqa_suppresses(
            "x == None  # noqa: TDM001,TDM004",
            "TDM004"
        ));
        assert!(noqa_suppresses("x == None  # noqa:TDM001 tdm004", "TDM004"));
        assert!(noqa_suppresses("def f(a):  # noqa: DOC101", "DOC101"));
        assert!(!noqa_suppresses("x == None  # noqa: TDM001", "TDM004"));
        assert!(!noqa_suppresses("x == None  # noqa: E501", "TDM004"));
        assert!(!noqa_suppresses("x == None  # noqanda", "TDM004"));
        assert!(!noqa_suppresses("x == None  # see noqa", "TDM004"));
        assert!(!noqa_suppresses("x == None", "TDM004"));
        // An explanation after the codes does not widen them.
        assert!(noqa_suppresses(
            "f()  # noqa: TDM004 because legacy",
            "TDM004"
        ));
        assert!(!noqa_suppresses(
            "f()  # noqa: TDM004 because legacy",
            "TDM001"
        ));
    }

    #[test]
    fn apply_noqa_reads_the_first_line_of_each_finding() {
        let source = "a = 1  # noqa: TDM009\nb = 2\nc = 3  # noqa\n";
        let mut findings = vec![
            Finding::new("TDM009", Severity::Warning, "m", 0..1),
            Finding::new("TDM004", Severity::Warning, "m", 0..1),
            Finding::new("TDM009", Severity::Warning, "m", 22..23),
            Finding::new("TDM009", Severity::Warning, "m", 28..29),
        ];
        apply_noqa(source, &mut findings);
        let left: Vec<(&str, usize)> = findings
            .iter()
            .map(|f| (f.code.as_str(), f.range.start))
            .collect();
        assert_eq!(left, vec![("TDM004", 0), ("TDM009", 22)]);
    }
}
