//! Reading an existing docstring in the google, numpy or sphinx style: its summary, its
//! description, and its sections with their entries.
//!
//! The input is the string literal's content as written in the source (between the quotes,
//! indentation included), so that every range points into the source once the content's start
//! offset is added: a quick fix can then add, remove or reorder entries while keeping the
//! descriptions people wrote byte for byte. Lines end at `\n` (a `\r` before it is not part of
//! the line). Any input parses; nothing here panics.

use std::ops::Range;

use crate::context::profile::detect_docstring_style;
pub use crate::context::profile::DocstringStyle;

/// A docstring read into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedDocstring {
    /// The style the sections were read in (given, or detected; google when nothing shows).
    pub style: DocstringStyle,
    /// The first line of text, trimmed.
    pub summary: String,
    /// The text between the summary and the first section, trimmed, lines joined with `\n`.
    pub description: String,
    pub sections: Vec<Section>,
}

impl ParsedDocstring {
    /// The first section of `kind`.
    pub fn section(&self, kind: SectionKind) -> Option<&Section> {
        self.sections.iter().find(|s| s.kind == kind)
    }

    /// Every entry of every section of `kind`, in order.
    pub fn entries(&self, kind: SectionKind) -> impl Iterator<Item = &Entry> {
        self.sections
            .iter()
            .filter(move |s| s.kind == kind)
            .flat_map(|s| s.entries.iter())
    }

    /// Whether the docstring has a section of `kind` (for sphinx, a field of that kind).
    pub fn has(&self, kind: SectionKind) -> bool {
        self.sections.iter().any(|s| s.kind == kind)
    }

    /// Only a summary and description: no sections at all.
    pub fn is_short(&self) -> bool {
        self.sections.is_empty()
    }
}

/// What a section documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// `Args`, `Arguments`, `Parameters`, `Params`; sphinx `:param:`/`:type:`.
    Args,
    /// `Returns`, `Return`; sphinx `:returns:`/`:rtype:`.
    Returns,
    /// `Yields`, `Yield`; sphinx `:yields:`/`:ytype:`.
    Yields,
    /// `Raises`, `Raise`, `Exceptions`; sphinx `:raises X:`.
    Raises,
    /// `Attributes`; sphinx `:ivar:`/`:cvar:`/`:var:`.
    Attributes,
    /// Anything else (`Examples`, `Notes`, `See Also`, `Keyword Args`...), kept verbatim.
    Other,
}

/// One section of a docstring. For sphinx, each kind of field forms one section made of the
/// fields of that kind, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub kind: SectionKind,
    /// The title as written (`Args`, `Parameters`), or the sphinx field name (`param`).
    pub title: String,
    /// The header line(s) (for numpy the title and its underline), in content bytes; for
    /// sphinx, the first field's range.
    pub header_range: Range<usize>,
    /// The whole section, header included, up to the end of its last non-blank line.
    pub range: Range<usize>,
    pub entries: Vec<Entry>,
    /// The section's body lines without the header, dedented, joined with `\n`.
    pub text: String,
}

/// One entry of a section: a parameter, a return value, an exception or an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The parameter or attribute name (`x`, `*args`), or the exception name of a Raises
    /// entry; empty for a return value or yield without a name.
    pub name: String,
    /// The type as written, if any (`int`, `list of str, optional`).
    pub type_text: Option<String>,
    /// The description, continuation lines dedented and joined with `\n`.
    pub description: String,
    /// The entry's lines: from the start of its first line (indentation included) to the end
    /// of its last non-blank line.
    pub range: Range<usize>,
    /// The name as written, if the entry has one.
    pub name_range: Option<Range<usize>>,
    /// 0-based line of the entry's first line, counted in the content.
    pub line: usize,
}

/// One line of the content with its place.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    /// The line without its indentation and without `\r`.
    text: &'a str,
    /// Offset of the line's first byte.
    start: usize,
    /// Offset after the line's last byte (before `\r\n`/`\n`).
    end: usize,
    /// Indentation in columns (tabs to the next multiple of 8).
    indent: usize,
    number: usize,
}

impl Line<'_> {
    fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// Offset of the first non-blank character.
    fn text_start(&self) -> usize {
        self.end - self.text.len()
    }
}

fn lines_of(content: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (number, raw) in content.split('\n').enumerate() {
        let without_cr = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = without_cr.trim_start();
        let mut indent = 0;
        for c in without_cr[..without_cr.len() - trimmed.len()].chars() {
            indent = if c == '\t' {
                (indent / 8 + 1) * 8
            } else {
                indent + 1
            };
        }
        let trimmed_end = trimmed.trim_end();
        lines.push(Line {
            text: trimmed_end,
            start,
            end: start + (without_cr.len() - trimmed.len()) + trimmed_end.len(),
            indent,
            number,
        });
        start += raw.len() + 1;
    }
    lines
}

/// Parses the content of a docstring literal in `style`, or in the style it shows when `style`
/// is `None` (google when it shows none).
pub fn parse_docstring(content: &str, style: Option<DocstringStyle>) -> ParsedDocstring {
    let style = style
        .or_else(|| detect_docstring_style(content))
        .unwrap_or(DocstringStyle::Google);
    let lines = lines_of(content);
    // The first line follows the quotes; the margin is that of the other lines, as
    // `inspect.cleandoc` computes it.
    let margin = lines
        .iter()
        .skip(1)
        .filter(|l| !l.is_blank())
        .map(|l| l.indent)
        .min()
        .unwrap_or(0);
    let headers = match style {
        DocstringStyle::Google => google_headers(&lines, margin),
        DocstringStyle::Numpy => numpy_headers(&lines),
        DocstringStyle::Sphinx => sphinx_headers(&lines),
    };
    let first_section_line = headers.first().map_or(lines.len(), |h| h.line);
    let (summary, description) = summary_and_description(&lines[..first_section_line]);
    let sections = match style {
        DocstringStyle::Sphinx => sphinx_sections(content, &lines, &headers),
        _ => headers
            .iter()
            .enumerate()
            .map(|(i, header)| {
                let end = headers.get(i + 1).map_or(lines.len(), |h| h.line);
                block_section(content, &lines, header, end, style)
            })
            .collect(),
    };
    ParsedDocstring {
        style,
        summary,
        description,
        sections,
    }
}

fn summary_and_description(lines: &[Line<'_>]) -> (String, String) {
    let mut text_lines = lines.iter().skip_while(|l| l.is_blank());
    let summary = text_lines
        .next()
        .map_or(String::new(), |l| l.text.to_string());
    let rest: Vec<&Line<'_>> = text_lines.collect();
    (summary, dedent_join(&rest))
}

/// The lines' text, dedented by their smallest indentation, blank lines at both ends dropped.
fn dedent_join(lines: &[&Line<'_>]) -> String {
    let start = lines
        .iter()
        .position(|l| !l.is_blank())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.is_blank())
        .map_or(start, |e| e + 1);
    let lines = &lines[start..end.max(start)];
    let margin = lines
        .iter()
        .filter(|l| !l.is_blank())
        .map(|l| l.indent)
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !line.is_blank() {
            out.extend(std::iter::repeat_n(' ', line.indent.saturating_sub(margin)));
            out.push_str(line.text);
        }
    }
    out
}

/// Where a section starts.
#[derive(Debug, Clone)]
struct Header {
    line: usize,
    /// Lines the header takes (2 for numpy's title and underline).
    height: usize,
    title: String,
    kind: SectionKind,
}

fn kind_of_title(title: &str) -> SectionKind {
    match title.to_ascii_lowercase().as_str() {
        "args" | "arguments" | "parameters" | "params" | "parameter" | "param" | "arg"
        | "argument" => SectionKind::Args,
        "returns" | "return" => SectionKind::Returns,
        "yields" | "yield" => SectionKind::Yields,
        "raises" | "raise" | "exceptions" | "except" | "exception" => SectionKind::Raises,
        "attributes" | "attribute" => SectionKind::Attributes,
        _ => SectionKind::Other,
    }
}

const GOOGLE_TITLES: &[&str] = &[
    "Args",
    "Arguments",
    "Parameters",
    "Params",
    "Keyword Args",
    "Keyword Arguments",
    "Other Parameters",
    "Raises",
    "Exceptions",
    "Except",
    "Attributes",
    "Example",
    "Examples",
    "Note",
    "Notes",
    "Returns",
    "Return",
    "Yields",
    "Yield",
    "See Also",
    "Todo",
    "Warning",
    "Warnings",
    "References",
    "Methods",
];

/// Google headers: a known title and a colon alone on a line at the docstring's margin (or the
/// first line's column).
fn google_headers(lines: &[Line<'_>], margin: usize) -> Vec<Header> {
    let mut headers = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let indent_ok = if i == 0 { true } else { line.indent <= margin };
        let Some(title) = line.text.strip_suffix(':') else {
            continue;
        };
        let title = title.trim_end();
        if indent_ok && GOOGLE_TITLES.iter().any(|t| t.eq_ignore_ascii_case(title)) {
            headers.push(Header {
                line: i,
                height: 1,
                title: title.to_string(),
                kind: kind_of_title(title),
            });
        }
    }
    headers
}

const NUMPY_TITLES: &[&str] = &[
    "Parameters",
    "Params",
    "Arguments",
    "Args",
    "Other Parameters",
    "Other Params",
    "Receives",
    "Receive",
    "Raises",
    "Raise",
    "Warns",
    "Warn",
    "Attributes",
    "Attribute",
    "Returns",
    "Return",
    "Yields",
    "Yield",
    "Examples",
    "Example",
    "Warnings",
    "Warning",
    "See Also",
    "Related",
    "Notes",
    "Note",
    "References",
    "Reference",
    "Methods",
];

/// Numpy headers: a known title alone on a line, underlined by a line of three or more dashes.
fn numpy_headers(lines: &[Line<'_>]) -> Vec<Header> {
    let mut headers = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(next) = lines.get(i + 1) else {
            break;
        };
        let underlined = next.text.len() >= 3 && next.text.bytes().all(|b| b == b'-');
        if underlined && NUMPY_TITLES.contains(&line.text) {
            // "Other Parameters" documents parameters too, but pydoclint ignores it.
            let kind = match line.text {
                "Other Parameters" | "Other Params" | "Receives" | "Receive" | "Warns" | "Warn" => {
                    SectionKind::Other
                }
                t => kind_of_title(t),
            };
            headers.push(Header {
                line: i,
                height: 2,
                title: line.text.to_string(),
                kind,
            });
        }
    }
    headers
}

/// The section from `header` up to (not including) line `end`, its entries read the google or
/// numpy way.
fn block_section(
    content: &str,
    lines: &[Line<'_>],
    header: &Header,
    end: usize,
    style: DocstringStyle,
) -> Section {
    let header_line = &lines[header.line];
    let header_last = &lines[(header.line + header.height - 1).min(lines.len() - 1)];
    let body: Vec<&Line<'_>> = lines
        .get(header.line + header.height..end)
        .unwrap_or(&[])
        .iter()
        .collect();
    let last = body
        .iter()
        .rev()
        .find(|l| !l.is_blank())
        .map_or(header_last.end, |l| l.end);
    let entries = match header.kind {
        SectionKind::Other => Vec::new(),
        kind => match style {
            DocstringStyle::Numpy => numpy_entries(content, &body, kind),
            _ => google_entries(content, &body, kind),
        },
    };
    Section {
        kind: header.kind,
        title: header.title.clone(),
        header_range: header_line.text_start()..header_last.end,
        range: header_line.start..last,
        entries,
        text: dedent_join(&body),
    }
}

/// Groups the body into entries: a line at the entries' indentation starts one, deeper or
/// blank lines continue it.
fn group_entries<'l, 'a>(body: &'l [&'l Line<'a>]) -> Vec<(&'l Line<'a>, Vec<&'l Line<'a>>)> {
    let Some(entry_indent) = body
        .iter()
        .filter(|l| !l.is_blank())
        .map(|l| l.indent)
        .min()
    else {
        return Vec::new();
    };
    let mut groups: Vec<(&Line<'a>, Vec<&Line<'a>>)> = Vec::new();
    for line in body {
        if line.is_blank() {
            if let Some((_, rest)) = groups.last_mut() {
                rest.push(line);
            }
            continue;
        }
        if line.indent <= entry_indent {
            groups.push((line, Vec::new()));
        } else if let Some((_, rest)) = groups.last_mut() {
            rest.push(line);
        }
    }
    groups
}

fn entry_range(first: &Line<'_>, rest: &[&Line<'_>]) -> Range<usize> {
    let end = rest
        .iter()
        .rev()
        .find(|l| !l.is_blank())
        .map_or(first.end, |l| l.end);
    first.start..end
}

/// Description from the text after the key on the first line and the continuation lines.
fn description(first: &str, rest: &[&Line<'_>]) -> String {
    let more = dedent_join(rest);
    match (first.trim().is_empty(), more.is_empty()) {
        (true, _) => more,
        (false, true) => first.trim().to_string(),
        (false, false) => format!("{}\n{}", first.trim(), more),
    }
}

/// Google entries: `name (type): text`, `name: text`; for Returns and Yields, `type: text` or
/// just text; for Raises, `Error: text`.
fn google_entries(content: &str, body: &[&Line<'_>], kind: SectionKind) -> Vec<Entry> {
    let _ = content;
    let mut entries = Vec::new();
    for (first, rest) in group_entries(body) {
        let text = first.text;
        let text_start = first.text_start();
        let range = entry_range(first, &rest);
        let entry = match kind {
            SectionKind::Returns | SectionKind::Yields => {
                // `int: The count.` names a type; a colon inside brackets or after a space
                // (`The count: see above`) does not.
                match google_key(text) {
                    Some((key, after)) if looks_like_a_type(key) => Entry {
                        name: String::new(),
                        type_text: Some(key.to_string()),
                        description: description(after, &rest),
                        range,
                        name_range: None,
                        line: first.number,
                    },
                    _ => Entry {
                        name: String::new(),
                        type_text: None,
                        description: description(text, &rest),
                        range,
                        name_range: None,
                        line: first.number,
                    },
                }
            }
            _ => {
                let (key, after) = google_key(text).unwrap_or((text, ""));
                let (name, type_text) = match key.find('(') {
                    Some(open) if key.ends_with(')') => (
                        key[..open].trim_end(),
                        Some(key[open + 1..key.len() - 1].trim().to_string()),
                    ),
                    _ => (key, None),
                };
                Entry {
                    name: name.to_string(),
                    type_text,
                    description: description(after, &rest),
                    range,
                    name_range: Some(text_start..text_start + name.len()),
                    line: first.number,
                }
            }
        };
        entries.push(entry);
    }
    entries
}

/// Whether the text before a Returns/Yields colon is a type (`int`, `int | None`,
/// `dict[str, int]`) rather than prose (`The count`): words may only be joined by `|`, `,` or
/// brackets, never stand side by side.
fn looks_like_a_type(key: &str) -> bool {
    if key.is_empty() || key.contains('[') {
        return !key.is_empty();
    }
    let mut previous_was_word = false;
    for token in key.split_whitespace() {
        let is_word = token
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
        if is_word && previous_was_word {
            return false;
        }
        previous_was_word = is_word;
    }
    true
}

/// Splits `key: rest` at the first colon outside brackets, if there is one.
fn google_key(text: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            ':' if depth <= 0 => return Some((text[..i].trim_end(), &text[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Numpy entries: a key line `name : type` (or `type` alone for Returns/Yields, `Error` for
/// Raises) at the section's indentation, the description indented below it. `a, b : int`
/// documents two parameters.
fn numpy_entries(content: &str, body: &[&Line<'_>], kind: SectionKind) -> Vec<Entry> {
    let _ = content;
    let mut entries = Vec::new();
    for (first, rest) in group_entries(body) {
        let text = first.text;
        let text_start = first.text_start();
        let range = entry_range(first, &rest);
        let description = description("", &rest);
        let (key, type_text) = match text.find(" :").or_else(|| {
            // `name: type` without the space before the colon also reads as a key.
            text.find(':').filter(|&i| !text[..i].contains(' '))
        }) {
            Some(i) => {
                let after = text[i..].trim_start_matches([' ', ':']).trim();
                (
                    text[..i].trim_end(),
                    (!after.is_empty()).then(|| after.to_string()),
                )
            }
            None => (text, None),
        };
        match kind {
            SectionKind::Returns | SectionKind::Yields => {
                let (name, type_text) = match type_text {
                    Some(t) => (key.to_string(), Some(t)),
                    None => (String::new(), Some(key.to_string())),
                };
                let name_range = (!name.is_empty()).then(|| text_start..text_start + name.len());
                entries.push(Entry {
                    name,
                    type_text,
                    description,
                    range,
                    name_range,
                    line: first.number,
                });
            }
            SectionKind::Raises => entries.push(Entry {
                name: text.to_string(),
                type_text: None,
                description,
                range,
                name_range: Some(text_start..first.end),
                line: first.number,
            }),
            _ => {
                let mut offset = 0;
                for part in key.split(',') {
                    let lead = part.len() - part.trim_start().len();
                    let name = part.trim();
                    let start = text_start + offset + lead;
                    offset += part.len() + 1;
                    if name.is_empty() {
                        continue;
                    }
                    entries.push(Entry {
                        name: name.to_string(),
                        type_text: type_text.clone(),
                        description: description.clone(),
                        range: range.clone(),
                        name_range: Some(start..start + name.len()),
                        line: first.number,
                    });
                }
            }
        }
    }
    entries
}

/// A sphinx field line: `:name args: text`.
struct Field<'a> {
    name: &'a str,
    args: &'a str,
    after: &'a str,
    /// Offset of `args` in the content.
    args_start: usize,
}

fn sphinx_field<'a>(line: &Line<'a>) -> Option<Field<'a>> {
    let rest = line.text.strip_prefix(':')?;
    let close = rest.find(':')?;
    let inner = &rest[..close];
    let name_len = inner.find(char::is_whitespace).unwrap_or(inner.len());
    let name = &inner[..name_len];
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let args_raw = &inner[name_len..];
    let args = args_raw.trim();
    let lead = args_raw.len() - args_raw.trim_start().len();
    Some(Field {
        name,
        args,
        after: &rest[close + 1..],
        args_start: line.text_start() + 1 + name_len + lead,
    })
}

fn sphinx_kind(name: &str) -> Option<SectionKind> {
    Some(match name {
        "param" | "parameter" | "arg" | "argument" | "key" | "keyword" | "type" => {
            SectionKind::Args
        }
        "returns" | "return" | "rtype" => SectionKind::Returns,
        "yields" | "yield" | "ytype" => SectionKind::Yields,
        "raises" | "raise" | "except" | "exception" => SectionKind::Raises,
        "ivar" | "cvar" | "var" | "vartype" => SectionKind::Attributes,
        _ => SectionKind::Other,
    })
}

fn sphinx_headers(lines: &[Line<'_>]) -> Vec<Header> {
    let margin_of_fields = lines
        .iter()
        .filter(|l| sphinx_field(l).is_some())
        .map(|l| l.indent)
        .min();
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let field = sphinx_field(line)?;
            (Some(line.indent) == margin_of_fields).then(|| Header {
                line: i,
                height: 1,
                title: field.name.to_string(),
                kind: sphinx_kind(field.name).unwrap_or(SectionKind::Other),
            })
        })
        .collect()
}

/// Sphinx fields grouped into one section per kind, in the order kinds first appear. `:type x:`
/// and `:rtype:` give types to the entries they belong to rather than entries of their own.
fn sphinx_sections(content: &str, lines: &[Line<'_>], headers: &[Header]) -> Vec<Section> {
    let _ = content;
    let mut sections: Vec<Section> = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        let end = headers.get(i + 1).map_or(lines.len(), |h| h.line);
        let first = &lines[header.line];
        let Some(field) = sphinx_field(first) else {
            continue;
        };
        let rest: Vec<&Line<'_>> = lines
            .get(header.line + 1..end)
            .unwrap_or(&[])
            .iter()
            .filter(|l| l.is_blank() || l.indent > first.indent)
            .collect();
        let range = entry_range(first, &rest);
        let description = description(field.after, &rest);
        let index = match sections
            .iter()
            .position(|s| s.kind == header.kind && header.kind != SectionKind::Other)
        {
            Some(index) => index,
            None => {
                sections.push(Section {
                    kind: header.kind,
                    title: field.name.to_string(),
                    header_range: first.text_start()..first.end,
                    range: range.clone(),
                    entries: Vec::new(),
                    text: String::new(),
                });
                sections.len() - 1
            }
        };
        let section = &mut sections[index];
        section.range = section.range.start.min(range.start)..section.range.end.max(range.end);
        if !section.text.is_empty() {
            section.text.push('\n');
        }
        section.text.push_str(first.text);
        if header.kind == SectionKind::Other {
            continue;
        }
        // The last word of the arguments is the name (`:param int x:`), what comes before it
        // the type; for raises the arguments are the exception names.
        let args = field.args;
        let (type_part, name) = match args.rfind(char::is_whitespace) {
            Some(i) => (Some(args[..i].trim()), args[i..].trim()),
            None => (None, args),
        };
        let name_start = field.args_start + args.len() - name.len();
        match field.name {
            "type" | "vartype" => {
                if let Some(entry) = section.entries.iter_mut().find(|e| e.name == name) {
                    entry.type_text = Some(description.clone());
                }
            }
            "rtype" | "ytype" => match section.entries.last_mut() {
                Some(entry) if entry.type_text.is_none() => {
                    entry.type_text = Some(description.clone());
                }
                _ => section.entries.push(Entry {
                    name: String::new(),
                    type_text: Some(description.clone()),
                    description: String::new(),
                    range,
                    name_range: None,
                    line: first.number,
                }),
            },
            "returns" | "return" | "yields" | "yield" => {
                match section.entries.last_mut() {
                    // `:rtype:` written before `:returns:`.
                    Some(entry) if entry.description.is_empty() && entry.name.is_empty() => {
                        entry.description = description;
                        entry.range =
                            entry.range.start.min(range.start)..entry.range.end.max(range.end);
                    }
                    _ => section.entries.push(Entry {
                        name: String::new(),
                        type_text: None,
                        description,
                        range,
                        name_range: None,
                        line: first.number,
                    }),
                }
            }
            "raises" | "raise" | "except" | "exception" => {
                let names: Vec<&str> = args
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|n| !n.is_empty())
                    .collect();
                for n in names {
                    let start = field.args_start + (n.as_ptr() as usize - args.as_ptr() as usize);
                    section.entries.push(Entry {
                        name: n.to_string(),
                        type_text: None,
                        description: description.clone(),
                        range: range.clone(),
                        name_range: Some(start..start + n.len()),
                        line: first.number,
                    });
                }
            }
            _ => {
                if name.is_empty() {
                    continue;
                }
                section.entries.push(Entry {
                    name: name.to_string(),
                    type_text: type_part.filter(|t| !t.is_empty()).map(str::to_string),
                    description,
                    range,
                    name_range: Some(name_start..name_start + name.len()),
                    line: first.number,
                });
            }
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(doc: &ParsedDocstring, kind: SectionKind) -> Vec<String> {
        doc.entries(kind).map(|e| e.name.clone()).collect()
    }

    fn types(doc: &ParsedDocstring, kind: SectionKind) -> Vec<Option<String>> {
        doc.entries(kind).map(|e| e.type_text.clone()).collect()
    }

    const GOOGLE: &str = "Fetch rows.

    Reads the table in pages.

    Args:
        table (str): The table's name.
        limit: How many rows,
            at most.
        *args: Extra columns.

    Returns:
        list[Row]: The rows.

    Raises:
        KeyError: If the table is missing.
        db.Error: On connection trouble.

    Examples:
        >>> fetch('t')
    ";

    #[test]
    fn google_sections_entries_names_types_and_descriptions() {
        let doc = parse_docstring(GOOGLE, None);
        assert_eq!(doc.style, DocstringStyle::Google);
        assert_eq!(doc.summary, "Fetch rows.");
        assert_eq!(doc.description, "Reads the table in pages.");
        assert_eq!(names(&doc, SectionKind::Args), ["table", "limit", "*args"]);
        assert_eq!(
            types(&doc, SectionKind::Args),
            [Some("str".to_string()), None, None]
        );
        let limit = doc.entries(SectionKind::Args).nth(1).unwrap();
        assert_eq!(limit.description, "How many rows,\nat most.");
        assert_eq!(
            types(&doc, SectionKind::Returns),
            [Some("list[Row]".to_string())]
        );
        assert_eq!(names(&doc, SectionKind::Raises), ["KeyError", "db.Error"]);
        let kinds: Vec<_> = doc.sections.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                SectionKind::Args,
                SectionKind::Returns,
                SectionKind::Raises,
                SectionKind::Other
            ]
        );
        assert_eq!(doc.sections[3].title, "Examples");
        assert_eq!(doc.sections[3].text, ">>> fetch('t')");
    }

    #[test]
    fn ranges_point_into_the_content_so_entries_can_be_moved_verbatim() {
        let doc = parse_docstring(GOOGLE, None);
        let limit = doc.entries(SectionKind::Args).nth(1).unwrap();
        assert_eq!(
            &GOOGLE[limit.range.clone()],
            "        limit: How many rows,\n            at most."
        );
        assert_eq!(&GOOGLE[limit.name_range.clone().unwrap()], "limit");
        assert_eq!(limit.line, 6);
        let args = doc.section(SectionKind::Args).unwrap();
        assert_eq!(&GOOGLE[args.header_range.clone()], "Args:");
        assert!(GOOGLE[args.range.clone()].ends_with("*args: Extra columns."));
    }

    #[test]
    fn google_returns_with_a_union_type() {
        let doc = parse_docstring("Do.\n\nReturns:\n    int | None: The count.\n", None);
        let entries: Vec<_> = doc.entries(SectionKind::Returns).collect();
        assert_eq!(entries[0].type_text.as_deref(), Some("int | None"));
    }

    #[test]
    fn google_returns_without_a_type_is_one_untyped_entry() {
        let doc = parse_docstring("Do.\n\nReturns:\n    The count: see above.\n", None);
        let entries: Vec<_> = doc.entries(SectionKind::Returns).collect();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].type_text, None);
        assert_eq!(entries[0].description, "The count: see above.");
    }

    const NUMPY: &str = "Fetch rows.

    Parameters
    ----------
    table : str
        The table's name.
    limit, offset : int, optional
        Paging.
    **kwargs
        Options.

    Returns
    -------
    rows : list of Row
        The rows.

    Yields
    ------
    Row

    Raises
    ------
    KeyError
        If the table is missing.
    ";

    #[test]
    fn numpy_sections_and_entries() {
        let doc = parse_docstring(NUMPY, None);
        assert_eq!(doc.style, DocstringStyle::Numpy);
        assert_eq!(
            names(&doc, SectionKind::Args),
            ["table", "limit", "offset", "**kwargs"]
        );
        assert_eq!(
            types(&doc, SectionKind::Args),
            [
                Some("str".to_string()),
                Some("int, optional".to_string()),
                Some("int, optional".to_string()),
                None
            ]
        );
        let ret: Vec<_> = doc.entries(SectionKind::Returns).collect();
        assert_eq!(ret[0].name, "rows");
        assert_eq!(ret[0].type_text.as_deref(), Some("list of Row"));
        assert_eq!(types(&doc, SectionKind::Yields), [Some("Row".to_string())]);
        assert_eq!(names(&doc, SectionKind::Raises), ["KeyError"]);
        let offset = doc.entries(SectionKind::Args).nth(2).unwrap();
        assert_eq!(&NUMPY[offset.name_range.clone().unwrap()], "offset");
    }

    #[test]
    fn numpy_titles_need_their_underline() {
        let doc = parse_docstring(
            "Do.\n\nReturns\nthe value, not a section.\n",
            Some(DocstringStyle::Numpy),
        );
        assert!(doc.sections.is_empty());
        assert!(doc.is_short());
    }

    const SPHINX: &str = "Fetch rows.

    :param str table: The table's name.
    :param limit: How many rows,
        at most.
    :type limit: int
    :returns: The rows.
    :rtype: list[Row]
    :raises KeyError: If the table is missing.
    ";

    #[test]
    fn sphinx_fields_become_sections_by_kind() {
        let doc = parse_docstring(SPHINX, None);
        assert_eq!(doc.style, DocstringStyle::Sphinx);
        assert_eq!(names(&doc, SectionKind::Args), ["table", "limit"]);
        assert_eq!(
            types(&doc, SectionKind::Args),
            [Some("str".to_string()), Some("int".to_string())]
        );
        let limit = doc.entries(SectionKind::Args).nth(1).unwrap();
        assert_eq!(limit.description, "How many rows,\nat most.");
        assert_eq!(&SPHINX[limit.name_range.clone().unwrap()], "limit");
        assert_eq!(
            types(&doc, SectionKind::Returns),
            [Some("list[Row]".to_string())]
        );
        assert_eq!(names(&doc, SectionKind::Raises), ["KeyError"]);
    }

    #[test]
    fn a_docstring_without_sections_is_short_and_auto_reads_as_google() {
        let doc = parse_docstring("Return the thing.\n\n    More words here.\n    ", None);
        assert!(doc.is_short());
        assert_eq!(doc.style, DocstringStyle::Google);
        assert_eq!(doc.summary, "Return the thing.");
        assert_eq!(doc.description, "More words here.");
    }

    #[test]
    fn crlf_and_tabs_are_read_like_lf_and_spaces() {
        let doc = parse_docstring("Do.\r\n\r\n\tArgs:\r\n\t\tx: The x.\r\n\t", None);
        assert_eq!(names(&doc, SectionKind::Args), ["x"]);
        let x = doc.entries(SectionKind::Args).next().unwrap();
        assert_eq!(x.description, "The x.");
    }

    #[test]
    fn empty_and_odd_inputs() {
        for input in [
            "",
            "\n",
            ":",
            "Args:",
            "Returns\n---",
            ":param:",
            ":raises:",
            "::\n::",
            "\r",
            "é\n\té",
        ] {
            for style in [
                None,
                Some(DocstringStyle::Google),
                Some(DocstringStyle::Numpy),
                Some(DocstringStyle::Sphinx),
            ] {
                let doc = parse_docstring(input, style);
                for s in &doc.sections {
                    assert!(input.get(s.range.clone()).is_some(), "{input:?}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_ranges_stay_inside(
            input in "(Args:|Returns:|Parameters\n----------|:param x:|:raises E:|:rtype:| |\t|\r|\n|x|é|:|-|\\(|\\)|\\[|,){0,60}"
        ) {
            for style in [None, Some(DocstringStyle::Google), Some(DocstringStyle::Numpy), Some(DocstringStyle::Sphinx)] {
                let doc = parse_docstring(&input, style);
                for s in &doc.sections {
                    prop_assert!(input.get(s.range.clone()).is_some());
                    prop_assert!(input.get(s.header_range.clone()).is_some());
                    for e in &s.entries {
                        prop_assert!(input.get(e.range.clone()).is_some());
                        if let Some(r) = &e.name_range {
                            prop_assert!(input.get(r.clone()).is_some());
                        }
                    }
                }
            }
        }

        #[test]
        fn never_panics_on_any_string(input in "\\PC{0,80}") {
            for style in [None, Some(DocstringStyle::Google), Some(DocstringStyle::Numpy), Some(DocstringStyle::Sphinx)] {
                parse_docstring(&input, style);
            }
        }
    }
}
