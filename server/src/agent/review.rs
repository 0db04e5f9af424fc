//! "Review this": the reviewer model reads a function, a class, a selection or a whole file,
//! with its callers, callees and the project profile, and answers `tandem_review` findings.
//!
//! The answer is untrusted. Each finding must point at lines of the file and inside the
//! reviewed lines, carry a non-empty message (cleaned and cut to a bounded length), and a
//! suggested replacement is kept only when the file still parses with it applied. Findings
//! that fail are dropped and counted; when a non-empty answer loses every finding, the model
//! is asked once more with the reasons. Without a reviewer model (or when the model fails) the
//! built-in engine answers with the built-in findings for the reviewed lines, labelled as such.
//!
//! A finding remembers the text of its lines, so that it can follow the code as the user edits
//! ([`reanchor`]): lines moved above it move it along, an edit to its own lines removes it.

use std::collections::HashSet;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use tree_sitter::Tree;

use crate::agent::document::DocContext;
use crate::analysis::finding::{Finding, Fix, Severity};
use crate::analysis::outline::{outline, Symbol};
use crate::analysis::parse::{parse_str, syntax_errors};
use crate::models::schema::SchemaName;
use crate::models::{Message, ModelError, ModelRequest, ModelRouter, Role, StreamEvent};

/// The longest message kept, in characters; longer ones are cut at a word.
pub const MAX_MESSAGE_CHARS: usize = 400;
/// The most findings kept from one answer.
pub const MAX_FINDINGS: usize = 50;
/// The longest suggested replacement kept, in bytes.
pub const MAX_REPLACEMENT_BYTES: usize = 20_000;
/// Every AI review code starts with this (`AI001` … `AI005`, one per category).
pub const CODE_FAMILY: &str = "AI";

/// What a finding is about, as the schema names it; each has its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Bug,
    Security,
    Performance,
    Maintainability,
    Style,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Bug,
        Category::Security,
        Category::Performance,
        Category::Maintainability,
        Category::Style,
    ];

    pub fn parse(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Bug => "bug",
            Category::Security => "security",
            Category::Performance => "performance",
            Category::Maintainability => "maintainability",
            Category::Style => "style",
        }
    }

    /// The finding code of the category.
    pub fn code(self) -> &'static str {
        match self {
            Category::Bug => "AI001",
            Category::Security => "AI002",
            Category::Performance => "AI003",
            Category::Maintainability => "AI004",
            Category::Style => "AI005",
        }
    }
}

/// The file being reviewed, as one version of its text.
#[derive(Debug, Clone)]
pub struct ReviewFile {
    /// Workspace-relative where possible; shown in prompts and messages.
    pub path: PathBuf,
    pub module: String,
    pub source: Arc<str>,
}

/// What to review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewScope {
    /// The whole file.
    File,
    /// The lines this byte range touches (a selection).
    Range(Range<usize>),
    /// The innermost function or class at this byte offset (the whole file outside any).
    Symbol(usize),
}

/// The reviewed part of the file, resolved from a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewTarget {
    /// For people: "`Cart.add`", "lines 3-9", "the file".
    pub label: String,
    /// The function or class reviewed, when it is one.
    pub qualified_name: Option<String>,
    /// 0-based, inclusive.
    pub first_line: usize,
    /// 0-based, inclusive.
    pub last_line: usize,
    /// The definitions whose callers and callees the prompt shows.
    pub symbols: Vec<String>,
}

impl ReviewTarget {
    pub fn is_file(&self) -> bool {
        self.label == "the file"
    }
}

/// One finding of a review, anchored by the text of its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewFinding {
    /// Code (`AI001`…, or the built-in code), severity, message (prefixed with the category,
    /// or `built-in` for built-in findings) and byte range in the text it was anchored to.
    pub finding: Finding,
    /// `None` for built-in findings.
    pub category: Option<Category>,
    /// 0-based first line in the text it was anchored to.
    pub start_line: usize,
    /// The text of its lines, without line endings; it is dropped when they change.
    pub lines: Vec<String>,
    /// The new text of all of its lines (line endings included), checked to parse.
    pub replacement: Option<String>,
}

impl ReviewFinding {
    pub fn is_builtin(&self) -> bool {
        self.category.is_none()
    }

    /// 0-based last line.
    pub fn end_line(&self) -> usize {
        self.start_line + self.lines.len().max(1) - 1
    }
}

/// Findings of an answer that were not kept, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dropped {
    pub outside_file: usize,
    pub outside_range: usize,
    pub malformed: usize,
    pub duplicates: usize,
    pub too_many: usize,
    /// Findings kept without their replacement (it broke the syntax, did nothing or was too
    /// long).
    pub replacements: usize,
    /// Messages cut to [`MAX_MESSAGE_CHARS`].
    pub cut_messages: usize,
}

impl Dropped {
    /// How many findings were dropped (replacements and cut messages are not).
    pub fn findings(&self) -> usize {
        self.outside_file + self.outside_range + self.malformed + self.duplicates + self.too_many
    }

    /// "2 on lines outside the file, 1 outside the reviewed lines", or empty.
    pub fn describe(&self) -> String {
        let parts = [
            (self.outside_file, "on lines outside the file"),
            (self.outside_range, "outside the reviewed lines"),
            (
                self.malformed,
                "without a usable message, severity or category",
            ),
            (self.duplicates, "repeated"),
            (self.too_many, "beyond the first 50"),
        ];
        parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, why)| format!("{n} {why}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Who answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reviewer {
    Model {
        model: String,
        repaired: bool,
    },
    /// No reviewer model is configured: the built-in findings.
    Builtin,
    /// The reviewer model failed; the built-in findings instead.
    BuiltinAfterModel {
        reason: String,
    },
}

/// The result of a review, anchored to the text it was computed on.
#[derive(Debug, Clone)]
pub struct ReviewOutcome {
    pub target: ReviewTarget,
    pub findings: Vec<ReviewFinding>,
    pub dropped: Dropped,
    pub reviewer: Reviewer,
}

impl ReviewOutcome {
    /// What to tell the user, in one line.
    pub fn summary(&self) -> String {
        let n = self.findings.len();
        let findings = format!("{n} finding{}", if n == 1 { "" } else { "s" });
        let mut codes: Vec<&str> = Vec::new();
        for f in &self.findings {
            if !codes.contains(&f.finding.code.as_str()) {
                codes.push(&f.finding.code);
            }
        }
        let codes = if codes.is_empty() {
            String::new()
        } else {
            format!(" ({})", codes.join(", "))
        };
        match &self.reviewer {
            Reviewer::Model { model, repaired } => {
                let fixes = self
                    .findings
                    .iter()
                    .filter(|f| f.replacement.is_some())
                    .count();
                let mut s = format!(
                    "AI review of {} by model `{model}`: {findings}",
                    self.target.label
                );
                if fixes > 0 {
                    s.push_str(&format!(" ({fixes} with a suggested fix)"));
                }
                let dropped = self.dropped.describe();
                if !dropped.is_empty() {
                    s.push_str(&format!(
                        "; {} dropped ({dropped})",
                        self.dropped.findings()
                    ));
                }
                if self.dropped.replacements > 0 {
                    s.push_str(&format!(
                        "; {} suggested replacement{} left out (the file would not parse, or it changed nothing)",
                        self.dropped.replacements,
                        if self.dropped.replacements == 1 { "" } else { "s" }
                    ));
                }
                if *repaired {
                    s.push_str("; the model was asked twice");
                }
                s
            }
            Reviewer::Builtin => format!(
                "Built-in review of {}: {findings} from the built-in checks{codes}. No reviewer model is \
                 configured; a model gives a deeper review: define one under [models.<name>] and \
                 set [roles] reviewer = [\"<name>\"] in tandem.toml (see docs/review.md)",
                self.target.label
            ),
            Reviewer::BuiltinAfterModel { reason } => format!(
                "The reviewer model failed ({reason}); built-in review of {} instead: {findings} \
                 from the built-in checks{codes}",
                self.target.label
            ),
        }
    }
}

/// Why a review gave nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("the review was cancelled")]
    Cancelled,
    #[error("{0}")]
    Failed(String),
}

/// Line starts of a text (lines end at `\n`, `\r\n` or `\r`, as in `session::position`).
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
        }
        Lines { text, starts }
    }

    /// Lines of the file: a final line break does not start another line.
    pub fn count(&self) -> usize {
        if self.starts.len() > 1 && *self.starts.last().unwrap_or(&0) == self.text.len() {
            self.starts.len() - 1
        } else {
            self.starts.len()
        }
    }

    pub fn start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.text.len())
    }

    /// The end of the line's content (before its line break).
    pub fn content_end(&self, line: usize) -> usize {
        let Some(&next) = self.starts.get(line + 1) else {
            return self.text.len();
        };
        let bytes = self.text.as_bytes();
        let mut end = next;
        if end > 0 && bytes[end - 1] == b'\n' {
            end -= 1;
        }
        if end > 0 && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        end.max(self.start(line))
    }

    /// The line's text without its line break.
    pub fn text(&self, line: usize) -> &'a str {
        self.text
            .get(self.start(line)..self.content_end(line))
            .unwrap_or("")
    }

    /// The 0-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1) - 1
    }

    fn all(&self) -> Vec<&'a str> {
        (0..self.count()).map(|l| self.text(l)).collect()
    }
}

/// The reviewed lines of `scope`.
pub fn resolve_target(file: &ReviewFile, tree: &Tree, scope: &ReviewScope) -> ReviewTarget {
    let source: &str = &file.source;
    let lines = Lines::new(source);
    let last = lines.count().saturating_sub(1);
    let outline = outline(tree, source, &file.module);
    let whole = |symbols: Vec<String>| ReviewTarget {
        label: "the file".to_string(),
        qualified_name: None,
        first_line: 0,
        last_line: last,
        symbols,
    };
    let overlapping = |first: usize, last: usize| -> Vec<String> {
        outline
            .symbols
            .iter()
            .flat_map(|s| std::iter::once(s).chain(s.children.iter()))
            .filter(|s| {
                lines.line_of(s.range.start) <= last
                    && lines.line_of(s.range.end.saturating_sub(1)) >= first
            })
            .map(|s| s.qualified_name.clone())
            .take(12)
            .collect()
    };
    match scope {
        ReviewScope::File => whole(overlapping(0, last)),
        ReviewScope::Range(range) => {
            let first = lines.line_of(range.start.min(source.len()));
            let end = range.end.min(source.len()).max(range.start);
            // A selection that ends at the start of a line does not take that line.
            let mut last_line = lines.line_of(end);
            if last_line > first && lines.start(last_line) == end {
                last_line -= 1;
            }
            let last_line = last_line.min(last).max(first);
            ReviewTarget {
                label: if first == last_line {
                    format!("line {}", first + 1)
                } else {
                    format!("lines {}-{}", first + 1, last_line + 1)
                },
                qualified_name: None,
                first_line: first,
                last_line,
                symbols: overlapping(first, last_line),
            }
        }
        ReviewScope::Symbol(offset) => match innermost(&outline.symbols, *offset) {
            Some(symbol) => {
                let first = lines.line_of(symbol.range.start);
                let last_line =
                    lines.line_of(symbol.range.end.saturating_sub(1).max(symbol.range.start));
                let shown = symbol
                    .qualified_name
                    .strip_prefix(&format!("{}.", file.module))
                    .unwrap_or(&symbol.qualified_name);
                ReviewTarget {
                    label: format!("`{shown}`"),
                    qualified_name: Some(symbol.qualified_name.clone()),
                    first_line: first,
                    last_line: last_line.max(first),
                    symbols: vec![symbol.qualified_name.clone()],
                }
            }
            None => whole(overlapping(0, last)),
        },
    }
}

/// The innermost function or class around `offset`.
pub fn innermost(symbols: &[Symbol], offset: usize) -> Option<&Symbol> {
    let symbol = symbols
        .iter()
        .find(|s| s.range.start <= offset && offset < s.range.end)?;
    innermost(&symbol.children, offset).or(Some(symbol))
}

/// Reviews `file`: the reviewer model when one answers, else the built-in findings.
/// `builtin` are the built-in checks' findings for the whole file (those in the reviewed lines
/// are the offline answer, and the model is told not to repeat them).
pub async fn review(
    file: &ReviewFile,
    scope: &ReviewScope,
    router: &ModelRouter,
    context: &DocContext,
    builtin: &[Finding],
    cancel: CancellationToken,
) -> Result<ReviewOutcome, ReviewError> {
    let source: &str = &file.source;
    let tree = parse_str(source, None);
    let target = resolve_target(file, &tree, scope);
    let builtin_here = builtin_findings_in(source, &target, builtin);
    let prompt = build_prompt(file, &target, context, &builtin_here);
    let mut request = ModelRequest::new(SchemaName::Review, SYSTEM_PROMPT, prompt)
        .with_source(file.path.clone())
        .with_temperature(0.1)
        .with_facts(BuiltinReview(
            builtin_here.iter().map(builtin_answer_item).collect(),
        ));
    let builtin_outcome = |reviewer: Reviewer| ReviewOutcome {
        target: target.clone(),
        findings: builtin_here.clone(),
        dropped: Dropped::default(),
        reviewer,
    };
    for round in 0..2 {
        let answer = router
            .complete(
                Role::Reviewer,
                request.clone(),
                cancel.clone(),
                |_: StreamEvent| {},
            )
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(ModelError::Cancelled) => return Err(ReviewError::Cancelled),
            // No engine answers the role at all: the built-in findings are still the answer.
            Err(ModelError::Offline { .. }) if round == 0 => {
                return Ok(builtin_outcome(Reviewer::Builtin))
            }
            Err(e) => {
                return Ok(builtin_outcome(Reviewer::BuiltinAfterModel {
                    reason: e.to_string(),
                }))
            }
        };
        if answer.model == crate::session::config::BUILTIN_MODEL {
            let reviewer = if round == 0 && answer.skipped.is_empty() {
                Reviewer::Builtin
            } else {
                Reviewer::BuiltinAfterModel {
                    reason: answer
                        .skipped
                        .iter()
                        .map(|a| format!("model `{}`: {}", a.model, a.error))
                        .collect::<Vec<_>>()
                        .join("; "),
                }
            };
            return Ok(builtin_outcome(reviewer));
        }
        let (findings, dropped) = validate(&answer.value, source, &tree, &target);
        let asked = answer.value["findings"].as_array().map_or(0, |a| a.len());
        if round == 0 && asked > 0 && findings.is_empty() {
            request = request
                .with_message(Message::assistant(answer.value.to_string()))
                .with_message(Message::user(format!(
                    "None of those findings could be used: {}. Findings must name lines {} to {} \
                     (the numbers at the left of the code) and carry a message. Answer again.",
                    dropped.describe(),
                    target.first_line + 1,
                    target.last_line + 1
                )));
            continue;
        }
        return Ok(ReviewOutcome {
            target,
            findings,
            dropped,
            reviewer: Reviewer::Model {
                model: answer.model,
                repaired: round > 0,
            },
        });
    }
    Err(ReviewError::Failed("no usable review".to_string()))
}

const SYSTEM_PROMPT: &str = "You are a careful senior Python reviewer. You report only problems \
a good reviewer would raise: bugs, security issues, performance problems, and maintainability or \
style problems worth a comment. You never invent problems; an empty list of findings is a good \
answer for good code. Every finding names lines of the code shown, using the line numbers at the \
left of each line.";

fn build_prompt(
    file: &ReviewFile,
    target: &ReviewTarget,
    context: &DocContext,
    builtin: &[ReviewFinding],
) -> String {
    let source: &str = &file.source;
    let lines = Lines::new(source);
    let (first, last) = (target.first_line + 1, target.last_line + 1);
    let mut p = format!(
        "Review {} in {} (lines {first} to {last}).\n\n\
         Each finding names `start_line` and `end_line` between {first} and {last}, a severity, a \
         category and a message of one or two sentences saying what is wrong and why. When the \
         fix is local, `replacement` is the complete new text of exactly those lines, indented as \
         in the file, and the file must still be valid Python with it; otherwise null.\n\n```python\n",
        target.label,
        file.path.display()
    );
    let width = (last).to_string().len();
    for line in target.first_line..=target.last_line.min(lines.count().saturating_sub(1)) {
        p.push_str(&format!("{:>width$} | {}\n", line + 1, lines.text(line)));
    }
    p.push_str("```\n");
    let mut calls = Vec::new();
    let mut usage = Vec::new();
    for symbol in &target.symbols {
        if let Some(callees) = context.callees.get(symbol) {
            for c in callees.iter().take(12) {
                let doc = context
                    .known_docs
                    .get(c)
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                let line = format!("- `{c}`{doc}");
                if !calls.contains(&line) {
                    calls.push(line);
                }
            }
        }
        if let Some(sites) = context.caller_usage.get(symbol) {
            usage.extend(sites.iter().take(8).map(|s| format!("- {s}")));
        }
    }
    if !calls.is_empty() {
        p.push_str("\nWhat it calls:\n");
        p.push_str(&calls.into_iter().take(30).collect::<Vec<_>>().join("\n"));
        p.push('\n');
    }
    if !usage.is_empty() {
        p.push_str("\nHow callers use it:\n");
        p.push_str(&usage.into_iter().take(30).collect::<Vec<_>>().join("\n"));
        p.push('\n');
    }
    if !context.profile.is_empty() {
        p.push_str("\nProject profile:\n");
        p.push_str(&context.profile);
        p.push('\n');
    }
    if !builtin.is_empty() {
        p.push_str("\nThe built-in checks already report these; do not repeat them:\n");
        for f in builtin.iter().take(30) {
            p.push_str(&format!(
                "- line {}: {} {}\n",
                f.start_line + 1,
                f.finding.code,
                f.finding.message.trim_start_matches("built-in: ")
            ));
        }
    }
    p
}

/// Validates a `tandem_review` answer against the file and the reviewed lines. The answer has
/// passed the schema, but nothing else about it is trusted.
pub fn validate(
    value: &Value,
    source: &str,
    tree: &Tree,
    target: &ReviewTarget,
) -> (Vec<ReviewFinding>, Dropped) {
    let lines = Lines::new(source);
    let count = lines.count();
    let errors_before = syntax_errors(tree).len();
    let mut dropped = Dropped::default();
    let mut out: Vec<ReviewFinding> = Vec::new();
    let mut seen: HashSet<(usize, usize, String)> = HashSet::new();
    let items = value["findings"].as_array().cloned().unwrap_or_default();
    for item in &items {
        let line = |key: &str| item[key].as_u64().map(|n| n as usize);
        let (Some(start), Some(end)) = (line("start_line"), line("end_line")) else {
            dropped.outside_file += 1;
            continue;
        };
        if start == 0 || end == 0 || start > count || end > count {
            dropped.outside_file += 1;
            continue;
        }
        let (start, end) = (start - 1, end - 1);
        if start > end || start < target.first_line || end > target.last_line {
            dropped.outside_range += 1;
            continue;
        }
        let severity = match item["severity"].as_str() {
            Some("error") => Severity::Error,
            Some("warning") => Severity::Warning,
            Some("info") => Severity::Information,
            Some("hint") => Severity::Hint,
            _ => {
                dropped.malformed += 1;
                continue;
            }
        };
        let Some(category) = item["category"].as_str().and_then(Category::parse) else {
            dropped.malformed += 1;
            continue;
        };
        let (message, cut) = clean_message(item["message"].as_str().unwrap_or(""));
        if message.is_empty() {
            dropped.malformed += 1;
            continue;
        }
        if !seen.insert((start, end, message.clone())) {
            dropped.duplicates += 1;
            continue;
        }
        if out.len() >= MAX_FINDINGS {
            dropped.too_many += 1;
            continue;
        }
        if cut {
            dropped.cut_messages += 1;
        }
        let replacement = match item["replacement"].as_str() {
            Some(text) => {
                let kept =
                    checked_replacement_text(source, &lines, start, end, text, errors_before);
                if kept.is_none() {
                    dropped.replacements += 1;
                }
                kept
            }
            None => None,
        };
        let range = lines_range(&lines, start, end);
        let mut finding = Finding::new(
            category.code(),
            severity,
            format!("{}: {message}", category.as_str()),
            range,
        );
        if let Some(text) = &replacement {
            finding = finding.with_fix(Fix::new(
                fix_title(&message),
                vec![(full_lines(&lines, start, end), text.clone())],
            ));
        }
        out.push(ReviewFinding {
            finding,
            category: Some(category),
            start_line: start,
            lines: (start..=end).map(|l| lines.text(l).to_string()).collect(),
            replacement,
        });
    }
    (out, dropped)
}

/// "Apply suggested fix: <the message, cut to 60 characters>".
fn fix_title(message: &str) -> String {
    let mut title: String = message.chars().take(60).collect();
    if message.chars().count() > 60 {
        title.push('…');
    }
    format!("Apply suggested fix: {title}")
}

/// The message on one line, control characters out, whitespace collapsed, at most
/// [`MAX_MESSAGE_CHARS`] characters (cut at a word, with an ellipsis); and whether it was cut.
fn clean_message(raw: &str) -> (String, bool) {
    let words: Vec<&str> = raw
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = String::new();
    for w in &words {
        let extra = w.chars().count() + usize::from(!out.is_empty());
        if out.chars().count() + extra > MAX_MESSAGE_CHARS - 1 {
            if out.is_empty() {
                out = w.chars().take(MAX_MESSAGE_CHARS - 1).collect();
            }
            out.push('…');
            return (out, true);
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    (out, false)
}

/// The byte range a finding on lines `start..=end` shows: from the first non-blank character
/// to the end of the last line's content.
fn lines_range(lines: &Lines<'_>, start: usize, end: usize) -> Range<usize> {
    let text = lines.text(start);
    let indent = text.len() - text.trim_start().len();
    let from = lines.start(start) + if text.trim().is_empty() { 0 } else { indent };
    from..lines.content_end(end).max(from)
}

/// The bytes of lines `start..=end` with their last line break.
fn full_lines(lines: &Lines<'_>, start: usize, end: usize) -> Range<usize> {
    lines.start(start)..lines.start(end + 1)
}

/// `text` as the replacement of lines `start..=end`: with the file's line endings, a final
/// line break when the lines had one, the lines' indentation when the model left it out; kept
/// only when it changes something and the file still parses with it (no more syntax errors
/// than before).
fn checked_replacement_text(
    source: &str,
    lines: &Lines<'_>,
    start: usize,
    end: usize,
    text: &str,
    errors_before: usize,
) -> Option<String> {
    if text.len() > MAX_REPLACEMENT_BYTES || text.contains('\0') {
        return None;
    }
    let range = full_lines(lines, start, end);
    let original = &source[range.clone()];
    let eol = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut body: Vec<String> = text
        .trim_end_matches(['\n', '\r'])
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect();
    let indent_of = |l: &str| l.len() - l.trim_start().len();
    let original_indent = (start..=end)
        .map(|l| lines.text(l))
        .filter(|l| !l.trim().is_empty())
        .map(|l| &l[..indent_of(l)])
        .min_by_key(|i| i.len())
        .unwrap_or("");
    let replacement_indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    if replacement_indent == 0 && !original_indent.is_empty() {
        for l in body.iter_mut().filter(|l| !l.trim().is_empty()) {
            l.insert_str(0, original_indent);
        }
    }
    let mut new_text = body.join(eol);
    if original.ends_with('\n') || original.ends_with('\r') || text.is_empty() {
        new_text.push_str(eol);
    }
    if text.trim().is_empty() {
        // Deleting the lines is a replacement too.
        new_text.clear();
    }
    if new_text == original {
        return None;
    }
    still_parses(source, range, &new_text, errors_before).then_some(new_text)
}

/// Whether `source` with `range` replaced by `text` has no more syntax errors than `before`.
pub fn still_parses(source: &str, range: Range<usize>, text: &str, before: usize) -> bool {
    let mut changed = String::with_capacity(source.len() + text.len());
    changed.push_str(&source[..range.start]);
    changed.push_str(text);
    changed.push_str(&source[range.end..]);
    syntax_errors(&parse_str(&changed, None)).len() <= before
}

/// The edit of a finding's replacement on `source` (the text the finding is anchored to):
/// its lines, with their line break, and the new text; `None` when the finding has no
/// replacement, its lines are not there any more, or the file would not parse with it.
pub fn replacement_edit(source: &str, finding: &ReviewFinding) -> Option<(Range<usize>, String)> {
    let text = finding.replacement.as_ref()?;
    let lines = Lines::new(source);
    let end = finding.end_line();
    if end >= lines.count() {
        return None;
    }
    let here = (finding.start_line..=end).all(|l| {
        finding
            .lines
            .get(l - finding.start_line)
            .is_some_and(|t| t == lines.text(l))
    });
    if !here {
        return None;
    }
    let range = full_lines(&lines, finding.start_line, end);
    let before = syntax_errors(&parse_str(source, None)).len();
    still_parses(source, range.clone(), text, before).then(|| (range, text.clone()))
}

/// The built-in findings that start in the reviewed lines, as review findings labelled
/// `built-in`.
pub fn builtin_findings_in(
    source: &str,
    target: &ReviewTarget,
    builtin: &[Finding],
) -> Vec<ReviewFinding> {
    let lines = Lines::new(source);
    let mut out: Vec<ReviewFinding> = builtin
        .iter()
        .filter(|f| f.range.start <= source.len() && f.range.end <= source.len())
        .filter_map(|f| {
            let start = lines.line_of(f.range.start);
            let mut end = lines.line_of(f.range.end);
            if end > start && lines.start(end) == f.range.end {
                end -= 1;
            }
            if start < target.first_line || start > target.last_line {
                return None;
            }
            let mut finding = f.clone();
            finding.message = format!("built-in: {}", f.message);
            // A rule's fix may edit outside the finding's lines, where re-anchoring cannot
            // follow it; the live rules offer their fixes themselves.
            finding.fix = None;
            Some(ReviewFinding {
                finding,
                category: None,
                start_line: start,
                lines: (start..=end).map(|l| lines.text(l).to_string()).collect(),
                replacement: None,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (a.finding.range.start, &a.finding.code).cmp(&(b.finding.range.start, &b.finding.code))
    });
    out.dedup_by(|a, b| a.finding == b.finding);
    out
}

/// Re-anchors findings computed on `old` to `new`. A finding whose lines are untouched keeps
/// them (moved along when lines were added or removed above); a finding whose lines were
/// edited, deleted or split is dropped.
///
/// The texts are compared line by line: the common prefix and suffix are unchanged, the lines
/// between them changed. A finding in the prefix stays, one in the suffix moves by the change
/// in line count, one that touches the boundary of the changed lines is gone (an edit reached
/// its lines), and one wholly inside them (edits above and below it in one go) is looked for
/// by its text among the changed lines, nearest to where it was.
pub fn reanchor(old: &str, new: &str, findings: &[ReviewFinding]) -> Vec<ReviewFinding> {
    if old == new {
        return findings.to_vec();
    }
    let (old_lines, new_lines) = (Lines::new(old), Lines::new(new));
    let (a, b) = (old_lines.all(), new_lines.all());
    let max = a.len().min(b.len());
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max - prefix)
        .take_while(|(x, y)| x == y)
        .count();
    let (old_changed_end, new_changed_end) = (a.len() - suffix, b.len() - suffix);
    let mut out = Vec::new();
    for f in findings {
        let n = f.lines.len().max(1);
        let (s, e) = (f.start_line, f.start_line + n);
        let matches_at = |p: usize| {
            p + n <= b.len()
                && f.lines
                    .iter()
                    .enumerate()
                    .all(|(i, t)| b[p + i] == t.as_str())
        };
        let at = if e <= prefix {
            Some(s)
        } else if s >= old_changed_end {
            Some(s + new_changed_end - old_changed_end)
        } else if s >= prefix && e <= old_changed_end {
            (prefix..new_changed_end.saturating_sub(n - 1).max(prefix))
                .filter(|&p| p + n <= new_changed_end && matches_at(p))
                .min_by_key(|&p| p.abs_diff(s))
        } else {
            None
        };
        let Some(p) = at.filter(|&p| matches_at(p)) else {
            continue;
        };
        // The range keeps its place within its lines.
        let old_start = old_lines.start(s);
        let old_end_line = old_lines.start(e - 1);
        let start_offset = f.finding.range.start.saturating_sub(old_start);
        let end_offset = f.finding.range.end.saturating_sub(old_end_line);
        let start = (new_lines.start(p) + start_offset).min(new_lines.content_end(p));
        let end = (new_lines.start(p + n - 1) + end_offset)
            .min(new_lines.content_end(p + n - 1))
            .max(start);
        let mut moved = f.clone();
        moved.start_line = p;
        moved.finding.range = start..end;
        // The fix replaces the finding's whole lines: it moves with them.
        if let (Some(fix), Some(text)) = (&f.finding.fix, &f.replacement) {
            let lines = new_lines.start(p)..new_lines.start(p + n);
            moved.finding.fix = Some(Fix::new(fix.title.clone(), vec![(lines, text.clone())]));
        }
        out.push(moved);
    }
    out
}

/// The built-in findings of a request, attached as facts so that the reviewer's offline engine
/// can answer without a model: `tandem_review` items.
#[derive(Debug, Clone)]
pub struct BuiltinReview(pub Vec<Value>);

fn builtin_answer_item(f: &ReviewFinding) -> Value {
    let category = if f.finding.code == crate::analysis::project_rules::BAD_CALL {
        "bug"
    } else {
        "maintainability"
    };
    json!({
        "start_line": f.start_line + 1,
        "end_line": f.end_line() + 1,
        "severity": match f.finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "info",
            Severity::Hint => "hint",
        },
        "category": category,
        "message": format!("{} {}", f.finding.code, f.finding.message),
        "replacement": Value::Null,
    })
}

/// The reviewer's offline engine: answers with the built-in findings attached to the request.
/// The review engine uses those findings themselves (with their own codes) when the answer
/// comes from `builtin`; the answer exists so that the router treats the role like any other.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinReviewer;

impl crate::models::builtin::OfflineEngine for BuiltinReviewer {
    fn answer(&self, request: &ModelRequest) -> Result<Value, ModelError> {
        let facts = request
            .facts
            .as_ref()
            .and_then(|f| f.downcast_ref::<BuiltinReview>())
            .ok_or_else(|| crate::models::builtin::Unserved::error(Role::Reviewer))?;
        Ok(json!({ "findings": facts.0 }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "import os\n\n\ndef load(path):\n    data = open(path).read()\n    return eval(data)\n\n\ndef size(path):\n    return os.path.getsize(path)\n";

    fn file(source: &str) -> ReviewFile {
        ReviewFile {
            path: PathBuf::from("m.py"),
            module: "m".to_string(),
            source: Arc::from(source),
        }
    }

    fn target_of(source: &str, scope: ReviewScope) -> (Tree, ReviewTarget) {
        let tree = parse_str(source, None);
        let target = resolve_target(&file(source), &tree, &scope);
        (tree, target)
    }

    fn item(start: u64, end: u64, message: &str, replacement: Value) -> Value {
        json!({"start_line": start, "end_line": end, "severity": "warning", "category": "security",
               "message": message, "replacement": replacement})
    }

    #[test]
    fn scopes_resolve_to_lines() {
        let (_, t) = target_of(SRC, ReviewScope::Symbol(SRC.find("eval").unwrap()));
        assert_eq!((t.first_line, t.last_line), (3, 5));
        assert_eq!(t.label, "`load`");
        assert_eq!(t.qualified_name.as_deref(), Some("m.load"));
        let (_, t) = target_of(SRC, ReviewScope::Symbol(0));
        assert!(t.is_file());
        assert_eq!((t.first_line, t.last_line), (0, 9));
        assert_eq!(t.symbols, vec!["m.load", "m.size"]);
        let start = SRC.find("def size").unwrap();
        let (_, t) = target_of(SRC, ReviewScope::Range(start..SRC.len()));
        assert_eq!(
            (t.first_line, t.last_line, t.label.as_str()),
            (8, 9, "lines 9-10")
        );
    }

    #[test]
    fn findings_outside_the_file_or_the_range_are_dropped_and_counted() {
        let (tree, t) = target_of(SRC, ReviewScope::Symbol(SRC.find("eval").unwrap()));
        let answer = json!({"findings": [
            item(6, 6, "eval on file content runs arbitrary code", Value::Null),
            item(40, 41, "no such line", Value::Null),
            item(9, 10, "outside the function", Value::Null),
            item(6, 5, "inverted", Value::Null),
            item(6, 6, "   ", Value::Null),
            item(6, 6, "eval on file content runs arbitrary code", Value::Null),
        ]});
        let (found, dropped) = validate(&answer, SRC, &tree, &t);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.finding.code, "AI002");
        assert_eq!(f.finding.severity, Severity::Warning);
        assert_eq!(
            f.finding.message,
            "security: eval on file content runs arbitrary code"
        );
        assert_eq!(&SRC[f.finding.range.clone()], "return eval(data)");
        assert_eq!(f.lines, vec!["    return eval(data)"]);
        assert_eq!(
            dropped,
            Dropped {
                outside_file: 1,
                outside_range: 2,
                malformed: 1,
                duplicates: 1,
                ..Dropped::default()
            }
        );
        assert_eq!(
            dropped.describe(),
            "1 on lines outside the file, 2 outside the reviewed lines, 1 without a usable message, severity or category, 1 repeated"
        );
    }

    #[test]
    fn huge_messages_are_cut_and_control_characters_removed() {
        let (tree, t) = target_of(SRC, ReviewScope::File);
        let huge = format!("first\u{1b}[31m line\n\n{}", "word ".repeat(1000));
        let (found, dropped) = validate(
            &json!({"findings": [item(5, 5, &huge, Value::Null)]}),
            SRC,
            &tree,
            &t,
        );
        let m = &found[0].finding.message;
        assert!(
            m.chars().count() <= MAX_MESSAGE_CHARS + "security: ".len(),
            "{}",
            m.len()
        );
        assert!(m.starts_with("security: first [31m line word"), "{m}");
        assert!(m.ends_with('…'));
        assert!(!m.contains('\n') && !m.contains('\u{1b}'));
        assert_eq!(dropped.cut_messages, 1);
    }

    #[test]
    fn a_replacement_is_kept_only_when_the_file_still_parses() {
        let (tree, t) = target_of(SRC, ReviewScope::File);
        let answer = json!({"findings": [
            item(6, 6, "use ast.literal_eval", json!("    return ast.literal_eval(data)")),
            item(5, 5, "breaks syntax", json!("    data = open(path.read(\n")),
            item(10, 10, "unindented but fine", json!("return os.stat(path).st_size")),
            item(4, 4, "no change", json!("def load(path):\n")),
        ]});
        let (found, dropped) = validate(&answer, SRC, &tree, &t);
        assert_eq!(found.len(), 4);
        assert_eq!(
            found[0].replacement.as_deref(),
            Some("    return ast.literal_eval(data)\n")
        );
        assert_eq!(found[1].replacement, None);
        assert_eq!(
            found[2].replacement.as_deref(),
            Some("    return os.stat(path).st_size\n"),
            "the lines' indentation is restored"
        );
        assert_eq!(found[3].replacement, None);
        assert_eq!(dropped.replacements, 2);
        let fix = found[0].finding.fix.as_ref().expect("a fix");
        assert_eq!(fix.title, "Apply suggested fix: use ast.literal_eval");
        assert!(found[1].finding.fix.is_none());
        let moved = reanchor(SRC, &format!("# x\n{SRC}"), &found[..1]);
        let moved_fix = moved[0].finding.fix.as_ref().unwrap();
        assert_eq!(moved_fix.edits[0].0.start, fix.edits[0].0.start + 4);
        let (range, text) = replacement_edit(SRC, &found[0]).unwrap();
        assert_eq!(fix.apply(SRC).unwrap(), {
            let mut s = SRC.to_string();
            s.replace_range(range.clone(), &text);
            s
        });
        let mut fixed = SRC.to_string();
        fixed.replace_range(range, &text);
        assert!(
            fixed.contains("    data = open(path).read()\n    return ast.literal_eval(data)\n\n")
        );
    }

    #[test]
    fn crlf_files_get_crlf_replacements() {
        let src = SRC.replace('\n', "\r\n");
        let (tree, t) = target_of(&src, ReviewScope::File);
        let answer = json!({"findings": [item(5, 6, "m", json!("    with open(path) as f:\n        return f.read()\n"))]});
        let (found, _) = validate(&answer, &src, &tree, &t);
        assert_eq!(
            found[0].replacement.as_deref(),
            Some("    with open(path) as f:\r\n        return f.read()\r\n")
        );
        assert_eq!(
            found[0].lines,
            vec!["    data = open(path).read()", "    return eval(data)"]
        );
    }

    fn finding_on(source: &str, line: usize) -> ReviewFinding {
        let (tree, t) = target_of(source, ReviewScope::File);
        let answer =
            json!({"findings": [item(line as u64 + 1, line as u64 + 1, "m", Value::Null)]});
        validate(&answer, source, &tree, &t).0.remove(0)
    }

    #[test]
    fn reanchoring_follows_lines_moved_above() {
        let f = finding_on(SRC, 5);
        let new = format!("# header\n# more\n{SRC}");
        let moved = reanchor(SRC, &new, std::slice::from_ref(&f));
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].start_line, 7);
        assert_eq!(&new[moved[0].finding.range.clone()], "return eval(data)");
        // Lines removed above.
        let new = SRC.replacen("import os\n\n", "", 1);
        let moved = reanchor(SRC, &new, std::slice::from_ref(&f));
        assert_eq!(moved[0].start_line, 3);
        // An edit below leaves it where it is.
        let new = SRC.replace("getsize", "getsize  # bytes");
        assert_eq!(reanchor(SRC, &new, &[f])[0].start_line, 5);
    }

    #[test]
    fn reanchoring_drops_findings_whose_lines_were_edited_or_deleted() {
        let f = finding_on(SRC, 5);
        let edited = SRC.replace("eval(data)", "eval(data, {})");
        assert!(reanchor(SRC, &edited, std::slice::from_ref(&f)).is_empty());
        let deleted = SRC.replace("    return eval(data)\n", "");
        assert!(reanchor(SRC, &deleted, std::slice::from_ref(&f)).is_empty());
        // A line inserted inside a two-line finding splits it: gone.
        let two = {
            let (tree, t) = target_of(SRC, ReviewScope::File);
            validate(
                &json!({"findings": [item(5, 6, "m", Value::Null)]}),
                SRC,
                &tree,
                &t,
            )
            .0
            .remove(0)
        };
        let split = SRC.replace("read()\n", "read()\n    print(data)\n");
        assert!(reanchor(SRC, &split, &[two]).is_empty());
    }

    #[test]
    fn reanchoring_with_duplicate_lines_keeps_the_right_one() {
        let src = "def a():\n    return 1\n\n\ndef b():\n    return 1\n";
        let f = finding_on(src, 5);
        // A line above both: the finding stays on the second `return 1`.
        let new = format!("import x\n{src}");
        let moved = reanchor(src, &new, std::slice::from_ref(&f));
        assert_eq!(moved[0].start_line, 6);
        // Its own line edited: it does not jump to the identical line of `a`.
        let edited = src.replace("def b():\n    return 1", "def b():\n    return 2");
        assert!(reanchor(src, &edited, std::slice::from_ref(&f)).is_empty());
        // Edits above and below at once: found by its text among the changed lines.
        let both = format!("import x\n{src}# end\n");
        let moved = reanchor(src, &both, &[f]);
        assert_eq!(moved[0].start_line, 6);
    }

    #[test]
    fn builtin_findings_are_labelled_and_limited_to_the_reviewed_lines() {
        let (_, t) = target_of(SRC, ReviewScope::Symbol(SRC.find("eval").unwrap()));
        let inside = Finding::new(
            "DOC101",
            Severity::Warning,
            "undocumented",
            SRC.find("load").unwrap()..SRC.find("load").unwrap() + 4,
        );
        let outside = Finding::new(
            "TDM020",
            Severity::Warning,
            "unused",
            SRC.find("size").unwrap()..SRC.find("size").unwrap() + 4,
        );
        let found = builtin_findings_in(SRC, &t, &[inside, outside]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].finding.code, "DOC101");
        assert_eq!(found[0].finding.message, "built-in: undocumented");
        assert!(found[0].is_builtin());
        let value = json!({"findings": [builtin_answer_item(&found[0])]});
        assert!(SchemaName::Review.validate(&value).is_ok());
    }

    #[tokio::test]
    async fn offline_the_builtin_engine_answers_with_the_builtin_findings() {
        let router = ModelRouter::offline(None);
        crate::agent::register_offline_engines(&router);
        let start = SRC.find("load").unwrap();
        let builtin = vec![Finding::new(
            "DOC101",
            Severity::Warning,
            "undocumented",
            start..start + 4,
        )];
        let outcome = review(
            &file(SRC),
            &ReviewScope::Symbol(SRC.find("eval").unwrap()),
            &router,
            &DocContext::default(),
            &builtin,
            CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(outcome.reviewer, Reviewer::Builtin);
        assert_eq!(outcome.findings.len(), 1);
        let summary = outcome.summary();
        assert!(
            summary.starts_with(
                "Built-in review of `load`: 1 finding from the built-in checks (DOC101)."
            ),
            "{summary}"
        );
        assert!(
            summary.contains("a model gives a deeper review"),
            "{summary}"
        );
    }
}
