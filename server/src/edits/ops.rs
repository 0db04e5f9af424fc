//! The `tandem_edits` operations and their resolution into concrete per-file edits.
//!
//! Operations apply in order, each to the text the previous ones left, so several operations
//! on one file compose. Symbols are looked up in the outline of that evolving text, never by
//! line number. The set is all-or-nothing: the first operation that cannot apply fails the
//! whole set, and the error names the operation's index, its path and the reason, in words a
//! model can act on in a repair round.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::paths::WorkspacePath;
use super::{content_hash, TextEdit};
use crate::analysis::outline::{outline, Symbol};
use crate::analysis::parse::parse_str;
use crate::session::workspace::SourceRoots;

/// One operation of a `tandem_edits` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum EditOp {
    /// Create a file with this whole content; the file must not exist.
    CreateFile { path: String, content: String },
    /// Replace a function, method or class (decorators included), re-indented to its place.
    ReplaceSymbol {
        path: String,
        symbol: String,
        content: String,
    },
    /// Insert source after a symbol's last line, separated by blank lines, at its indentation.
    InsertAfterSymbol {
        path: String,
        symbol: String,
        content: String,
    },
    /// Replace text that occurs exactly once in the file.
    ReplaceText {
        path: String,
        search: String,
        replace: String,
    },
}

impl EditOp {
    /// The path as the model wrote it.
    pub fn path(&self) -> &str {
        match self {
            EditOp::CreateFile { path, .. }
            | EditOp::ReplaceSymbol { path, .. }
            | EditOp::InsertAfterSymbol { path, .. }
            | EditOp::ReplaceText { path, .. } => path,
        }
    }

    /// The operation's name in the schema (`create_file`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            EditOp::CreateFile { .. } => "create_file",
            EditOp::ReplaceSymbol { .. } => "replace_symbol",
            EditOp::InsertAfterSymbol { .. } => "insert_after_symbol",
            EditOp::ReplaceText { .. } => "replace_text",
        }
    }
}

/// A whole `tandem_edits` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditSet {
    pub operations: Vec<EditOp>,
    #[serde(default)]
    pub notes: Option<String>,
}

impl EditSet {
    /// Reads an answer that already passed the `tandem_edits` schema.
    pub fn from_value(value: &serde_json::Value) -> Result<EditSet, serde_json::Error> {
        EditSet::deserialize(value)
    }
}

/// Where the resolver gets a file's current text: the disk headless, the editor's buffers
/// (falling back to the disk) in the language server.
pub trait FileTexts {
    /// The file's text, `Ok(None)` if it does not exist.
    fn text(&self, path: &WorkspacePath) -> Result<Option<String>, String>;
}

/// Reads files from the disk.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiskTexts;

impl FileTexts for DiskTexts {
    fn text(&self, path: &WorkspacePath) -> Result<Option<String>, String> {
        match std::fs::read(path.absolute()) {
            Ok(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| "is not valid UTF-8".to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) if path.absolute().is_dir() => Err(format!("is a folder ({e})")),
            Err(e) => Err(format!("cannot be read: {e}")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Create,
    Modify,
}

/// What the operations do to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub path: WorkspacePath,
    pub kind: ChangeKind,
    /// `content_hash` of `original`; `None` for a file to create.
    pub original_hash: Option<u64>,
    /// The text the edits were computed from; `None` for a file to create.
    pub original: Option<String>,
    pub new_text: String,
    /// Sorted, non-overlapping edits of `original` (of the empty text for a new file) that
    /// give `new_text`, line-granular so an editor keeps markers in untouched lines.
    pub edits: Vec<TextEdit>,
    /// The indices of the operations that touched this file.
    pub operations: Vec<usize>,
}

/// The result of resolving an edit set: one change per file, in the order the files were
/// first touched. Files whose text ends up unchanged are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResolvedEdits {
    pub files: Vec<FileChange>,
}

impl ResolvedEdits {
    /// A unified diff of every change (`/dev/null` as the old side of a new file).
    pub fn diff(&self) -> String {
        let mut out = String::new();
        for file in &self.files {
            let path = file.path.relative();
            let original = file.original.as_deref().unwrap_or("");
            let diff = super::diff::unified_diff(path, original, &file.edits);
            if file.kind == ChangeKind::Create {
                out.push_str(&diff.replacen(&format!("--- a/{path}\n"), "--- /dev/null\n", 1));
            } else {
                out.push_str(&diff);
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// An operation that could not be applied; the whole set fails with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    /// The operation's index in `operations` (0-based, as in `$.operations[i]`).
    pub index: usize,
    pub op: &'static str,
    pub path: String,
    pub reason: String,
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$.operations[{}] ({} on `{}`): {}; no operation was applied",
            self.index,
            self.op,
            self.path.escape_debug(),
            self.reason
        )
    }
}

impl std::error::Error for EditError {}

/// One file's evolving state while the operations apply.
struct Working {
    path: WorkspacePath,
    kind: ChangeKind,
    original: Option<String>,
    text: String,
    operations: Vec<usize>,
}

/// Applies `operations` in order to the files' texts and returns the per-file changes, or the
/// first failure. Paths are checked with `WorkspacePath::resolve` (inside the root, not
/// protected); symbols are found by qualified name relative to the file's module, by the
/// module-qualified name, or by an unambiguous ending such as `Class.method`.
pub fn resolve_edits(
    root: &Path,
    operations: &[EditOp],
    texts: &dyn FileTexts,
) -> Result<ResolvedEdits, EditError> {
    let roots = SourceRoots::for_workspace(&[root.to_path_buf()]);
    let mut files: Vec<Working> = Vec::new();
    let mut by_path: HashMap<PathBuf, usize> = HashMap::new();
    for (index, op) in operations.iter().enumerate() {
        let fail = |reason: String| EditError {
            index,
            op: op.name(),
            path: op.path().to_string(),
            reason,
        };
        let path = WorkspacePath::resolve(root, op.path()).map_err(|e| fail(e.to_string()))?;
        let slot = match by_path.get(path.absolute()) {
            Some(&i) => Some(i),
            None if matches!(op, EditOp::CreateFile { .. }) => None,
            None => {
                let text = texts
                    .text(&path)
                    .map_err(|e| fail(format!("`{path}` {e}")))?
                    .ok_or_else(|| {
                        fail(format!(
                            "`{path}` does not exist; create it with create_file"
                        ))
                    })?;
                by_path.insert(path.absolute().to_path_buf(), files.len());
                files.push(Working {
                    path: path.clone(),
                    kind: ChangeKind::Modify,
                    original: Some(text.clone()),
                    text,
                    operations: Vec::new(),
                });
                Some(files.len() - 1)
            }
        };
        match op {
            EditOp::CreateFile { content, .. } => {
                if let Some(i) = slot {
                    let how = match files[i].kind {
                        ChangeKind::Create => "is already created by an earlier operation",
                        ChangeKind::Modify => "already exists",
                    };
                    return Err(fail(format!(
                        "`{path}` {how}; change it with replace_text or replace_symbol"
                    )));
                }
                match texts.text(&path) {
                    Ok(None) => {}
                    Ok(Some(_)) => {
                        return Err(fail(format!(
                            "`{path}` already exists; change it with replace_text or replace_symbol"
                        )))
                    }
                    Err(e) => return Err(fail(format!("`{path}` {e}"))),
                }
                by_path.insert(path.absolute().to_path_buf(), files.len());
                files.push(Working {
                    path: path.clone(),
                    kind: ChangeKind::Create,
                    original: None,
                    text: content.clone(),
                    operations: vec![index],
                });
            }
            EditOp::ReplaceSymbol {
                symbol, content, ..
            } => {
                let file = &mut files[slot.expect("an existing file has a slot")];
                let module = roots.module_of(file.path.absolute()).name;
                file.text = replace_symbol(&file.text, &module, symbol, content).map_err(fail)?;
                file.operations.push(index);
            }
            EditOp::InsertAfterSymbol {
                symbol, content, ..
            } => {
                let file = &mut files[slot.expect("an existing file has a slot")];
                let module = roots.module_of(file.path.absolute()).name;
                file.text =
                    insert_after_symbol(&file.text, &module, symbol, content).map_err(fail)?;
                file.operations.push(index);
            }
            EditOp::ReplaceText {
                search, replace, ..
            } => {
                let file = &mut files[slot.expect("an existing file has a slot")];
                file.text = replace_text(&file.text, search, replace)
                    .map_err(|e| fail(format!("{e} in `{}`", file.path)))?;
                file.operations.push(index);
            }
        }
    }
    let files = files
        .into_iter()
        .filter(|f| f.original.as_deref() != Some(f.text.as_str()))
        .map(|f| {
            let edits = match &f.original {
                Some(original) => line_edits(original, &f.text),
                None => vec![TextEdit {
                    range: 0..0,
                    new_text: f.text.clone(),
                }],
            };
            FileChange {
                original_hash: f.original.as_ref().map(|t| content_hash(t.as_bytes())),
                path: f.path,
                kind: f.kind,
                original: f.original,
                new_text: f.text,
                edits,
                operations: f.operations,
            }
        })
        .collect();
    Ok(ResolvedEdits { files })
}

/// Every symbol of the outline, depth first.
fn all_symbols(symbols: &[Symbol]) -> Vec<&Symbol> {
    let mut out = Vec::new();
    let mut stack: Vec<&Symbol> = symbols.iter().rev().collect();
    while let Some(s) = stack.pop() {
        out.push(s);
        stack.extend(s.children.iter().rev());
    }
    out
}

fn line_number(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// Finds `wanted` among the symbols of `text` (qualified names relative to the module).
fn find_symbol<'o>(
    symbols: &'o [Symbol],
    text: &str,
    module: &str,
    wanted: &str,
) -> Result<&'o Symbol, String> {
    let all = all_symbols(symbols);
    let wanted = wanted.trim();
    let pick = |found: Vec<&'o Symbol>| -> Option<Result<&'o Symbol, String>> {
        match found.len() {
            0 => None,
            1 => Some(Ok(found[0])),
            n => {
                let lines: Vec<String> = found
                    .iter()
                    .map(|s| line_number(text, s.range.start).to_string())
                    .collect();
                Some(Err(format!(
                    "symbol `{wanted}` is ambiguous: {n} definitions match (lines {}); use replace_text",
                    lines.join(", ")
                )))
            }
        }
    };
    // The name relative to the module, or the module-qualified name.
    let relative = match wanted
        .strip_prefix(module)
        .and_then(|r| r.strip_prefix('.'))
    {
        Some(rest) if !module.is_empty() => rest,
        _ => wanted,
    };
    let exact: Vec<&Symbol> = all
        .iter()
        .copied()
        .filter(|s| s.qualified_name == relative)
        .collect();
    if let Some(found) = pick(exact) {
        return found;
    }
    // A differently spelled module prefix (`src.shop.cart.Cart.total` for `shop.cart`).
    let mut prefixed: Vec<&Symbol> = all
        .iter()
        .copied()
        .filter(|s| {
            wanted
                .strip_suffix(s.qualified_name.as_str())
                .and_then(|p| p.strip_suffix('.'))
                .is_some_and(|prefix| {
                    module.is_empty()
                        || prefix.ends_with(&format!(".{module}"))
                        || module.ends_with(&format!(".{prefix}"))
                })
        })
        .collect();
    if let Some(longest) = prefixed.iter().map(|s| s.qualified_name.len()).max() {
        prefixed.retain(|s| s.qualified_name.len() == longest);
        if let Some(found) = pick(prefixed) {
            return found;
        }
    }
    // An unambiguous ending (`total`, `Cart.total` for a nested class).
    let suffix = format!(".{wanted}");
    let ending: Vec<&Symbol> = all
        .iter()
        .copied()
        .filter(|s| s.qualified_name.ends_with(&suffix))
        .collect();
    if let Some(found) = pick(ending) {
        return found;
    }
    let mut known: Vec<&str> = all.iter().map(|s| s.qualified_name.as_str()).collect();
    let more = known.len().saturating_sub(20);
    known.truncate(20);
    let known = if known.is_empty() {
        "the file defines no functions or classes".to_string()
    } else if more > 0 {
        format!("defined here: {} and {more} more", known.join(", "))
    } else {
        format!("defined here: {}", known.join(", "))
    };
    Err(format!("symbol `{wanted}` not found ({known})"))
}

fn parse_symbols(text: &str) -> Vec<Symbol> {
    let tree = parse_str(text, None);
    outline(&tree, text, "").symbols
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The offset of the line break that ends the line holding `offset` (`\r\n` counts from its
/// `\r`), or the end of the text.
fn line_break(text: &str, offset: usize) -> usize {
    match text[offset..].find('\n') {
        Some(i) if i > 0 && text.as_bytes()[offset + i - 1] == b'\r' => offset + i - 1,
        Some(i) => offset + i,
        None => text.len(),
    }
}

/// The file's line ending, as its first line break has it.
fn newline_of(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// `content` with its common indentation replaced by `indent`, leading and trailing blank
/// lines dropped, and lines joined with `newline`. Blank lines carry no indentation. The first
/// line comes without `indent`, since it goes where the old definition started.
fn reindent(content: &str, indent: &str, newline: &str) -> String {
    let content = content.replace("\r\n", "\n");
    let lines: Vec<&str> = content.lines().collect();
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    let (Some(first), Some(last)) = (first, last) else {
        return String::new();
    };
    let lines = &lines[first..=last];
    let leading = |l: &str| l.len() - l.trim_start_matches([' ', '\t']).len();
    let common = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| &l[..leading(l)])
        .reduce(|a, b| {
            let n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
            &a[..n]
        })
        .unwrap_or("");
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str(newline);
        }
        if line.trim().is_empty() {
            continue;
        }
        if i > 0 {
            out.push_str(indent);
        }
        out.push_str(&line[common.len()..]);
    }
    out
}

/// The whitespace before a definition on its first line.
fn indentation_at(text: &str, start: usize) -> &str {
    let line = &text[line_start(text, start)..start];
    let ws = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..ws]
}

fn replace_symbol(text: &str, module: &str, symbol: &str, content: &str) -> Result<String, String> {
    if content.trim().is_empty() {
        return Err("`content` is empty; to delete code use replace_text".to_string());
    }
    let symbols = parse_symbols(text);
    let found = find_symbol(&symbols, text, module, symbol)?;
    let range = found.range.clone();
    let indent = indentation_at(text, range.start);
    let replacement = reindent(content, indent, newline_of(text));
    Ok(format!(
        "{}{}{}",
        &text[..range.start],
        replacement,
        &text[range.end..]
    ))
}

fn insert_after_symbol(
    text: &str,
    module: &str,
    symbol: &str,
    content: &str,
) -> Result<String, String> {
    if content.trim().is_empty() {
        return Err("`content` is empty".to_string());
    }
    let symbols = parse_symbols(text);
    let found = find_symbol(&symbols, text, module, symbol)?;
    let range = found.range.clone();
    let indent = indentation_at(text, range.start);
    let newline = newline_of(text);
    // The definition's last line: a range ending just after a line break ends on the line
    // before it.
    let last = if range.end > range.start && text.as_bytes()[range.end - 1] == b'\n' {
        line_start(text, range.end - 1)
    } else {
        range.end
    };
    let at = line_break(text, last.max(range.start));
    // PEP 8: two blank lines around top-level definitions, one around methods.
    let blank_lines = if indent.is_empty() { 2 } else { 1 };
    let mut insert = newline.repeat(blank_lines + 1);
    insert.push_str(indent);
    insert.push_str(&reindent(content, indent, newline));
    Ok(format!("{}{}{}", &text[..at], insert, &text[at..]))
}

/// Byte offsets where `needle` starts in `haystack`, overlapping occurrences included.
fn occurrences(haystack: &str, needle: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = haystack[from..].find(needle) {
        found.push(from + i);
        let step = haystack[from + i..]
            .chars()
            .next()
            .map_or(1, char::len_utf8);
        from += i + step;
        if from > haystack.len() {
            break;
        }
    }
    found
}

fn replace_text(text: &str, search: &str, replace: &str) -> Result<String, String> {
    if search.is_empty() {
        return Err("`search` is empty".to_string());
    }
    let mut search = search.to_string();
    let mut replace = replace.to_string();
    let mut found = occurrences(text, &search);
    // Models write `\n`; a file with Windows line endings still matches.
    if found.is_empty() && newline_of(text) == "\r\n" && search.contains('\n') {
        let crlf = |s: &str| s.replace("\r\n", "\n").replace('\n', "\r\n");
        search = crlf(&search);
        replace = crlf(&replace);
        found = occurrences(text, &search);
    }
    match found.as_slice() {
        [at] => Ok(format!(
            "{}{}{}",
            &text[..*at],
            replace,
            &text[at + search.len()..]
        )),
        [] => Err("`search` text does not occur".to_string()),
        many => {
            let lines: Vec<String> = many
                .iter()
                .take(10)
                .map(|&at| line_number(text, at).to_string())
                .collect();
            Err(format!(
                "`search` text occurs {} times (lines {}), it must occur exactly once; include more surrounding text",
                many.len(),
                lines.join(", ")
            ))
        }
    }
}

/// Line-granular edits from `old` to `new`: the common first and last lines are kept, the
/// lines in between are matched with a longest common subsequence (when the product of their
/// counts is small enough), and each run of differing lines becomes one edit.
pub fn line_edits(old: &str, new: &str) -> Vec<TextEdit> {
    if old == new {
        return Vec::new();
    }
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let prefix = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = old_lines[prefix..]
        .iter()
        .rev()
        .zip(new_lines[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_mid = &old_lines[prefix..old_lines.len() - suffix];
    let new_mid = &new_lines[prefix..new_lines.len() - suffix];
    let old_start: usize = old_lines[..prefix].iter().map(|l| l.len()).sum();
    let new_start: usize = new_lines[..prefix].iter().map(|l| l.len()).sum();
    // Pairs of matching (old, new) line indices within the middle, in order.
    let matches: Vec<(usize, usize)> = if old_mid.len().saturating_mul(new_mid.len()) <= 4_000_000 {
        lcs(old_mid, new_mid)
    } else {
        Vec::new()
    };
    let mut edits = Vec::new();
    let (mut oi, mut ni) = (0usize, 0usize);
    let (mut o_off, mut n_off) = (old_start, new_start);
    let sentinel = (old_mid.len(), new_mid.len());
    for &(om, nm) in matches.iter().chain(std::iter::once(&sentinel)) {
        if om > oi || nm > ni {
            let o_len: usize = old_mid[oi..om].iter().map(|l| l.len()).sum();
            let n_len: usize = new_mid[ni..nm].iter().map(|l| l.len()).sum();
            edits.push(TextEdit {
                range: o_off..o_off + o_len,
                new_text: new[n_off..n_off + n_len].to_string(),
            });
            o_off += o_len;
            n_off += n_len;
        }
        if (om, nm) != sentinel {
            o_off += old_mid[om].len();
            n_off += new_mid[nm].len();
        }
        oi = om + 1;
        ni = nm + 1;
    }
    edits
}

fn lcs(a: &[&str], b: &[&str]) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    // table[i][j]: the LCS length of a[i..] and b[j..].
    let mut table = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[at(i, j)] = if a[i] == b[j] {
                table[at(i + 1, j + 1)] + 1
            } else {
                table[at(i + 1, j)].max(table[at(i, j + 1)])
            };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            out.push((i, j));
            i += 1;
            j += 1;
        } else if table[at(i + 1, j)] >= table[at(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply_text_edits(old: &str, edits: &[TextEdit]) -> String {
        let mut out = String::new();
        let mut at = 0;
        for e in edits {
            assert!(e.range.start >= at, "edits overlap or are unsorted");
            out.push_str(&old[at..e.range.start]);
            out.push_str(&e.new_text);
            at = e.range.end;
        }
        out.push_str(&old[at..]);
        out
    }

    fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    fn ops(value: serde_json::Value) -> Vec<EditOp> {
        EditSet::from_value(&value).unwrap().operations
    }

    fn resolve(
        dir: &tempfile::TempDir,
        value: serde_json::Value,
    ) -> Result<ResolvedEdits, EditError> {
        resolve_edits(dir.path(), &ops(value), &DiskTexts)
    }

    const CART: &str = "\
from decimal import Decimal


class Cart:
    def __init__(self):
        self.items = []

    @property
    def total(self):
        return 0

    def add(self, item):
        self.items.append(item)


def helper():
    pass
";

    #[test]
    fn parses_the_schema_shape() {
        let set = EditSet::from_value(&serde_json::json!({
            "operations": [
                {"op": "create_file", "path": "a.py", "content": "x = 1\n"},
                {"op": "replace_symbol", "path": "a.py", "symbol": "f", "content": "def f(): pass"},
                {"op": "insert_after_symbol", "path": "a.py", "symbol": "f", "content": "def g(): pass"},
                {"op": "replace_text", "path": "a.py", "search": "x", "replace": "y"}
            ],
            "notes": null
        }))
        .unwrap();
        assert_eq!(set.operations.len(), 4);
        assert_eq!(set.operations[2].name(), "insert_after_symbol");
        assert_eq!(set.notes, None);
        assert!(EditSet::from_value(
            &serde_json::json!({"operations": [{"op": "delete", "path": "a"}]})
        )
        .is_err());
    }

    #[test]
    fn replace_symbol_keeps_indentation_and_decorators_go_with_it() {
        let dir = workspace(&[("src/shop/cart.py", CART)]);
        let got = resolve(
            &dir,
            serde_json::json!({"operations": [{
                "op": "replace_symbol", "path": "src/shop/cart.py", "symbol": "shop.cart.Cart.total",
                "content": "@property\ndef total(self) -> Decimal:\n    return sum(self.items, Decimal(0))\n"
            }], "notes": null}),
        )
        .unwrap();
        let file = &got.files[0];
        assert_eq!(file.kind, ChangeKind::Modify);
        assert_eq!(file.original_hash, Some(content_hash(CART.as_bytes())));
        assert!(file.new_text.contains(
            "\n    @property\n    def total(self) -> Decimal:\n        return sum(self.items, Decimal(0))\n\n    def add"
        ), "{}", file.new_text);
        assert_eq!(file.new_text.matches("@property").count(), 1);
        assert_eq!(apply_text_edits(CART, &file.edits), file.new_text);
        assert_eq!(file.edits.len(), 1, "{:?}", file.edits);
    }

    #[test]
    fn symbols_are_found_by_every_reasonable_spelling() {
        let symbols = parse_symbols(CART);
        for name in [
            "Cart.add",
            "shop.cart.Cart.add",
            "src.shop.cart.Cart.add",
            "add",
        ] {
            let s = find_symbol(&symbols, CART, "shop.cart", name).unwrap();
            assert_eq!(s.qualified_name, "Cart.add", "{name}");
        }
        let e = find_symbol(&symbols, CART, "shop.cart", "Cart.remove").unwrap_err();
        assert!(
            e.starts_with("symbol `Cart.remove` not found (defined here: Cart, Cart.__init__"),
            "{e}"
        );
        let e = find_symbol(&symbols, CART, "shop.cart", "other.mod.helper").unwrap_err();
        assert!(e.contains("not found"), "{e}");
        let twice = "class A:\n    @property\n    def x(self): ...\n    @x.setter\n    def x(self, v): ...\n";
        let symbols = parse_symbols(twice);
        let e = find_symbol(&symbols, twice, "", "A.x").unwrap_err();
        assert_eq!(
            e,
            "symbol `A.x` is ambiguous: 2 definitions match (lines 2, 4); use replace_text"
        );
    }

    #[test]
    fn insert_after_symbol_uses_blank_lines_and_indentation() {
        let dir = workspace(&[("cart.py", CART)]);
        let got = resolve(
            &dir,
            serde_json::json!({"operations": [
                {"op": "insert_after_symbol", "path": "cart.py", "symbol": "Cart.total",
                 "content": "def count(self):\n    return len(self.items)\n"},
                {"op": "insert_after_symbol", "path": "cart.py", "symbol": "helper",
                 "content": "def other():\n    pass"}
            ], "notes": null}),
        )
        .unwrap();
        let text = &got.files[0].new_text;
        assert!(text.contains("        return 0\n\n    def count(self):\n        return len(self.items)\n\n    def add"), "{text}");
        assert!(
            text.ends_with("def helper():\n    pass\n\n\ndef other():\n    pass\n"),
            "{text}"
        );
        assert_eq!(got.files[0].operations, vec![0, 1]);
        assert_eq!(apply_text_edits(CART, &got.files[0].edits), *text);
        assert_eq!(got.files[0].edits.len(), 2, "{:?}", got.files[0].edits);
    }

    #[test]
    fn operations_compose_and_survive_line_shifts() {
        let dir = workspace(&[("cart.py", CART)]);
        let got = resolve(
            &dir,
            serde_json::json!({"operations": [
                {"op": "replace_text", "path": "cart.py", "search": "from decimal import Decimal\n",
                 "replace": "from decimal import Decimal\nfrom typing import Iterable\nimport os\n"},
                {"op": "replace_symbol", "path": "cart.py", "symbol": "helper",
                 "content": "def helper():\n    return 1\n"}
            ], "notes": null}),
        )
        .unwrap();
        let text = &got.files[0].new_text;
        assert!(text
            .starts_with("from decimal import Decimal\nfrom typing import Iterable\nimport os\n"));
        assert!(text.ends_with("def helper():\n    return 1\n"), "{text}");
        assert_eq!(apply_text_edits(CART, &got.files[0].edits), *text);
    }

    #[test]
    fn replace_text_needs_exactly_one_match() {
        let dir = workspace(&[("a.py", "x = 1\nx = 1\n")]);
        let e = resolve(&dir, serde_json::json!({"operations": [
            {"op": "replace_text", "path": "a.py", "search": "x = 1", "replace": "y"}], "notes": null}))
        .unwrap_err();
        assert_eq!(e.index, 0);
        assert_eq!(
            e.to_string(),
            "$.operations[0] (replace_text on `a.py`): `search` text occurs 2 times (lines 1, 2), it must occur exactly once; include more surrounding text in `a.py`; no operation was applied"
        );
        let e = resolve(
            &dir,
            serde_json::json!({"operations": [
            {"op": "replace_text", "path": "a.py", "search": "z", "replace": "y"}], "notes": null}),
        )
        .unwrap_err();
        assert!(e.reason.contains("does not occur"));
        // Overlapping occurrences count as ambiguous too.
        assert_eq!(occurrences("aaa", "aa"), vec![0, 1]);
    }

    #[test]
    fn windows_line_endings_are_kept() {
        let dir = workspace(&[("w.py", "def f():\r\n    return 1\r\n")]);
        let got = resolve(&dir, serde_json::json!({"operations": [
            {"op": "replace_text", "path": "w.py", "search": "def f():\n    return 1", "replace": "def f():\n    return 2"},
            {"op": "insert_after_symbol", "path": "w.py", "symbol": "f", "content": "def g():\n    pass\n"}
        ], "notes": null}))
        .unwrap();
        assert_eq!(
            got.files[0].new_text,
            "def f():\r\n    return 2\r\n\r\n\r\ndef g():\r\n    pass\r\n"
        );
    }

    #[test]
    fn the_set_is_all_or_nothing_and_names_the_failing_operation() {
        let dir = workspace(&[
            ("a.py", "def f():\n    pass\n"),
            ("pyproject.toml", "[project]\n"),
        ]);
        let cases = [
            (
                serde_json::json!({"op": "create_file", "path": "a.py", "content": ""}),
                "`a.py` already exists",
            ),
            (
                serde_json::json!({"op": "replace_text", "path": "b.py", "search": "x", "replace": "y"}),
                "`b.py` does not exist",
            ),
            (
                serde_json::json!({"op": "replace_text", "path": "../a.py", "search": "x", "replace": "y"}),
                "leads outside the workspace",
            ),
            (
                serde_json::json!({"op": "replace_text", "path": "pyproject.toml", "search": "[project]", "replace": "[tool.x]"}),
                "is protected",
            ),
            (
                serde_json::json!({"op": "replace_symbol", "path": "a.py", "symbol": "g", "content": "def g(): pass"}),
                "symbol `g` not found",
            ),
            (
                serde_json::json!({"op": "create_file", "path": "new.py", "content": ""}),
                "`new.py` is already created",
            ),
        ];
        for (bad, reason) in cases {
            let e = resolve(
                &dir,
                serde_json::json!({"operations": [
                {"op": "create_file", "path": "new.py", "content": "x = 1\n"},
                bad,
            ], "notes": null}),
            )
            .unwrap_err();
            assert_eq!(e.index, 1);
            assert!(
                e.reason.contains(reason),
                "{} does not contain {reason}",
                e.reason
            );
        }
        assert!(!dir.path().join("new.py").exists());
    }

    #[test]
    fn created_files_can_be_edited_later_in_the_set_and_diff_shows_them() {
        let dir = workspace(&[]);
        let got = resolve(&dir, serde_json::json!({"operations": [
            {"op": "create_file", "path": "pkg/new.py", "content": "def f():\n    pass\n"},
            {"op": "insert_after_symbol", "path": "pkg/new.py", "symbol": "f", "content": "def g():\n    pass\n"}
        ], "notes": null}))
        .unwrap();
        assert_eq!(got.files.len(), 1);
        assert_eq!(got.files[0].kind, ChangeKind::Create);
        assert_eq!(got.files[0].original_hash, None);
        assert_eq!(
            got.files[0].new_text,
            "def f():\n    pass\n\n\ndef g():\n    pass\n"
        );
        let diff = got.diff();
        assert!(
            diff.starts_with("--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1,6 @@\n+def f():\n"),
            "{diff}"
        );
    }

    #[test]
    fn unchanged_files_are_left_out() {
        let dir = workspace(&[("a.py", "x = 1\n")]);
        let got = resolve(&dir, serde_json::json!({"operations": [
            {"op": "replace_text", "path": "a.py", "search": "x = 1", "replace": "x = 1"}], "notes": null}))
        .unwrap();
        assert!(got.is_empty());
    }

    #[test]
    fn line_edits_reproduce_the_new_text() {
        let cases = [
            ("a\nb\nc\n", "a\nB\nc\n"),
            ("a\nb\nc\n", "x\na\nb\nc\ny\n"),
            ("a\nb\nc", "a\nb\nc\n"),
            ("", "new\n"),
            ("a\n", ""),
            ("1\n2\n3\n4\n5\n6\n", "1\nx\n3\n4\ny\n6\n"),
        ];
        for (old, new) in cases {
            let edits = line_edits(old, new);
            assert_eq!(apply_text_edits(old, &edits), new, "{old:?} -> {new:?}");
        }
        assert_eq!(
            line_edits("1\n2\n3\n4\n5\n6\n", "1\nx\n3\n4\ny\n6\n").len(),
            2
        );
    }

    proptest::proptest! {
        #[test]
        fn line_edits_always_reproduce(old in "[ab\n]{0,30}", new in "[ab\n]{0,30}") {
            let edits = line_edits(&old, &new);
            proptest::prop_assert_eq!(apply_text_edits(&old, &edits), new);
        }
    }
}
