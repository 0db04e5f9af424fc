//! Placing a docstring in the source, byte for byte.
//!
//! PEP 257: a docstring is the first statement of a module, class or function body. The edit
//! computed here puts it there in the body's own indentation (tabs or spaces, whatever the body
//! uses), with the file's line ending, and changes nothing else: a block body gets one inserted
//! line run after the header line (so comments after the colon or before the first statement
//! stay where they are); a one-line body (`def f(): return 1`) is split after the colon; an
//! existing docstring literal is replaced in place. The literal gets an `r` prefix when the text
//! holds backslashes, and another quote style when it holds `"""`.

use crate::analysis::parse::KindStr;
use std::ops::Range;

use tree_sitter::{Node, Tree};

/// A single text edit on the source: replace `range` (bytes) with `new_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocEdit {
    pub range: Range<usize>,
    pub new_text: String,
    /// Where the docstring literal starts in the edited text (for tests and round trips).
    pub literal_offset: usize,
}

/// What gets the docstring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The module's first statement.
    Module,
    /// The function or class whose definition (decorators included, as in
    /// `outline::Symbol::range`) spans this byte range.
    Definition { start: usize, end: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementError {
    /// No function or class definition spans the given range.
    NoDefinition,
    /// The definition holds a syntax error, so where its body starts is not certain.
    SyntaxError,
}

impl std::fmt::Display for PlacementError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlacementError::NoDefinition => write!(f, "no function or class definition there"),
            PlacementError::SyntaxError => write!(
                f,
                "the definition has a syntax error; fix it before adding a docstring"
            ),
        }
    }
}

impl std::error::Error for PlacementError {}

/// The edit that gives `target` the docstring `content` (the docstring's text as it should
/// read, lines separated by `\n`, without indentation or quotes). An existing docstring is
/// replaced; otherwise one is inserted.
pub fn docstring_edit(
    source: &str,
    tree: &Tree,
    target: Placement,
    content: &str,
) -> Result<DocEdit, PlacementError> {
    let eol = line_ending(source);
    match target {
        Placement::Module => Ok(module_edit(source, tree, content, eol)),
        Placement::Definition { start, end } => {
            let definition =
                find_definition(tree, start, end).ok_or(PlacementError::NoDefinition)?;
            definition_edit(source, definition, content, eol)
        }
    }
}

/// The function or class definition spanning `start..end` (decorators included), if any.
fn find_definition(tree: &Tree, start: usize, end: usize) -> Option<Node<'_>> {
    let mut node = tree
        .root_node()
        .descendant_for_byte_range(start, end.max(start))?;
    loop {
        match node.kind_str() {
            "function_definition" | "class_definition" => {
                let outer = match node.parent() {
                    Some(p) if p.kind_str() == "decorated_definition" => p,
                    _ => node,
                };
                if outer.start_byte() <= start && outer.end_byte() >= end {
                    return Some(node);
                }
            }
            "decorated_definition" => {
                if let Some(inner) = node.child_by_field_name("definition") {
                    if node.start_byte() <= start && node.end_byte() >= end {
                        return Some(inner);
                    }
                }
            }
            _ => {}
        }
        node = node.parent()?;
    }
}

fn definition_edit(
    source: &str,
    definition: Node<'_>,
    content: &str,
    eol: &str,
) -> Result<DocEdit, PlacementError> {
    let body = definition
        .child_by_field_name("body")
        .ok_or(PlacementError::SyntaxError)?;
    // The header (up to the colon) must be sound; errors further down the body do not move
    // where the body starts.
    let mut cursor = definition.walk();
    let colon = definition
        .children(&mut cursor)
        .filter(|c| c.kind_str() == ":" && c.end_byte() <= body.start_byte())
        .last()
        .ok_or(PlacementError::SyntaxError)?;
    if header_has_error(definition, body) || colon.is_missing() {
        return Err(PlacementError::SyntaxError);
    }
    let first = first_statement(body);

    // An existing docstring is replaced where it stands.
    if let Some(literal) = first.and_then(docstring_literal) {
        let indent = line_indent(source, line_start(source, literal.start_byte()));
        let text = literal_text(content, indent, eol);
        return Ok(DocEdit {
            range: literal.byte_range(),
            new_text: text,
            literal_offset: literal.start_byte(),
        });
    }

    let header_line_start = line_start(source, definition.start_byte());
    let header_indent = line_indent(source, header_line_start);
    let same_line = !source[colon.end_byte()..body.start_byte()].contains('\n');
    if same_line {
        // `def f(): return 1` becomes `def f():` / docstring / `return 1`, each body line one
        // indentation unit deeper than the header.
        let indent = format!("{header_indent}{}", indent_unit(source, header_indent));
        let literal = literal_text(content, &indent, eol);
        let new_text = format!("{eol}{indent}{literal}{eol}{indent}");
        let literal_offset = colon.end_byte() + eol.len() + indent.len();
        return Ok(DocEdit {
            range: colon.end_byte()..body.start_byte(),
            new_text,
            literal_offset,
        });
    }

    // A block body: insert whole lines right after the header's last line (the one holding
    // the colon, with any comment after it), in the first statement's indentation.
    let insert_at = match source[colon.end_byte()..].find('\n') {
        Some(i) => colon.end_byte() + i + 1,
        None => source.len(),
    };
    let indent = match first {
        Some(statement) => line_indent(source, line_start(source, statement.start_byte())),
        None => line_indent(source, line_start(source, body.start_byte())),
    };
    let indent = if indent.len() > header_indent.len() && indent.starts_with(header_indent) {
        indent.to_string()
    } else {
        format!("{header_indent}{}", indent_unit(source, header_indent))
    };
    let literal = literal_text(content, &indent, eol);
    Ok(DocEdit {
        range: insert_at..insert_at,
        new_text: format!("{indent}{literal}{eol}"),
        literal_offset: insert_at + indent.len(),
    })
}

/// Whether anything between the definition's start and its body is a syntax error.
fn header_has_error(definition: Node<'_>, body: Node<'_>) -> bool {
    let mut cursor = definition.walk();
    let found = definition
        .children(&mut cursor)
        .take_while(|c| c.start_byte() < body.start_byte())
        .any(|c| c.is_error() || c.is_missing() || c.has_error());
    found
}

fn module_edit(source: &str, tree: &Tree, content: &str, eol: &str) -> DocEdit {
    let root = tree.root_node();
    if let Some(literal) = first_statement(root).and_then(docstring_literal) {
        return DocEdit {
            range: literal.byte_range(),
            new_text: literal_text(content, "", eol),
            literal_offset: literal.start_byte(),
        };
    }
    // After a shebang and an encoding line, which must stay first; after a leading block of
    // comments (a licence header) when a blank line separates it from the code.
    let mut at = 0;
    for (line_no, line) in source.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        let special = (line_no == 0 && line.starts_with("#!"))
            || (line_no < 2 && trimmed.starts_with('#') && trimmed.contains("coding"));
        if !special {
            break;
        }
        at += line.len();
    }
    let mut comment_end = at;
    let mut saw_comment = false;
    let mut ends_with_blank = false;
    for line in source[at..].split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            saw_comment = true;
            ends_with_blank = false;
        } else if trimmed.is_empty() && saw_comment && line.ends_with('\n') {
            ends_with_blank = true;
        } else {
            break;
        }
        comment_end += line.len();
    }
    if saw_comment && ends_with_blank {
        at = comment_end;
    }
    let literal = literal_text(content, "", eol);
    let rest = &source[at..];
    let needs_break_before = at > 0 && !source[..at].ends_with('\n');
    let mut new_text = String::new();
    if needs_break_before {
        new_text.push_str(eol);
    }
    let literal_offset = at + new_text.len();
    new_text.push_str(&literal);
    new_text.push_str(eol);
    // A blank line between the docstring and the code that follows it.
    let next_line_blank = rest.is_empty()
        || rest
            .split_inclusive('\n')
            .next()
            .is_some_and(|l| l.trim().is_empty());
    if !next_line_blank {
        new_text.push_str(eol);
    }
    DocEdit {
        range: at..at,
        new_text,
        literal_offset,
    }
}

/// The first statement of a block or module, skipping comments.
fn first_statement(block: Node<'_>) -> Option<Node<'_>> {
    let mut cursor = block.walk();
    let first = block
        .named_children(&mut cursor)
        .find(|c| !c.is_extra() && c.kind_str() != "comment");
    first
}

/// The string literal of `statement` when it is a docstring (a lone string or concatenated
/// string expression; not bytes or f-strings).
fn docstring_literal(statement: Node<'_>) -> Option<Node<'_>> {
    if statement.kind_str() != "expression_statement" || statement.named_child_count() != 1 {
        return None;
    }
    let literal = statement.named_child(0)?;
    match literal.kind_str() {
        "string" | "concatenated_string" => Some(literal),
        _ => None,
    }
}

/// `\r\n` when the file's first line ends with it, else `\n`.
pub fn line_ending(source: &str) -> &'static str {
    match source.find('\n') {
        Some(i) if i > 0 && source.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

fn line_start(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1)
}

/// The whitespace at the start of the line that begins at `start`.
fn line_indent(source: &str, start: usize) -> &str {
    let line = &source[start..];
    let len = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..len]
}

/// One level of indentation as the file writes it: a tab when the header is indented with
/// tabs or most indented lines start with one, else the most common step between a line
/// ending in `:` and the next line, else four spaces.
pub fn indent_unit(source: &str, header_indent: &str) -> String {
    if header_indent.contains('\t') {
        return "\t".to_string();
    }
    let mut tabs = 0usize;
    let mut spaces = 0usize;
    let mut steps: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut previous: Option<(usize, bool)> = None;
    for line in source.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        if indent.starts_with('\t') {
            tabs += 1;
        } else if !indent.is_empty() {
            spaces += 1;
        }
        let width = indent.len();
        if let Some((prev_width, opens)) = previous {
            if opens && width > prev_width && !indent.contains('\t') {
                *steps.entry(width - prev_width).or_default() += 1;
            }
        }
        previous = Some((width, line.trim_end().ends_with(':')));
    }
    if tabs > spaces {
        return "\t".to_string();
    }
    let step = steps
        .into_iter()
        .max_by_key(|&(step, count)| (count, std::cmp::Reverse(step)))
        .map_or(4, |(step, _)| step);
    " ".repeat(step.clamp(1, 8))
}

/// The docstring literal for `content`: quotes, prefix, and every line after the first in
/// `indent`. One line stays on one line; several lines end with the closing quotes on a line
/// of their own. Blank lines carry no trailing whitespace.
pub fn literal_text(content: &str, indent: &str, eol: &str) -> String {
    let content = content.trim_matches(|c| c == '\n' || c == '\r');
    let has_backslash = content.contains('\\');
    // Python source cannot hold a NUL byte, even inside a string: it is written as an escape.
    // With both quote styles in the text, every `"` is escaped: escaping only `"""` would
    // leave `\""` and a following `"` to close the literal.
    let escaped = content.contains('\0') || (content.contains("\"\"\"") && content.contains("'''"));
    let (quote, body): (&str, std::borrow::Cow<'_, str>) = if escaped {
        (
            "\"\"\"",
            content
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\0', "\\x00")
                .into(),
        )
    } else if !content.contains("\"\"\"") {
        ("\"\"\"", content.into())
    } else {
        ("'''", content.into())
    };
    let prefix = if has_backslash && !escaped { "r" } else { "" };
    let lines: Vec<&str> = body.split('\n').map(|l| l.trim_end()).collect();
    let quote_char = quote.chars().next().unwrap_or('"');
    let mut out = String::with_capacity(body.len() + 16);
    out.push_str(prefix);
    out.push_str(quote);
    // A last character that is the quote or a backslash would join the closing quotes.
    if lines.len() == 1 && !lines[0].ends_with([quote_char, '\\']) {
        out.push_str(lines[0]);
        out.push_str(quote);
        return out;
    }
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str(eol);
            if !line.is_empty() {
                out.push_str(indent);
            }
        }
        out.push_str(line);
    }
    out.push_str(eol);
    out.push_str(indent);
    out.push_str(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::outline::{outline, Symbol};
    use crate::analysis::parse::parse_str;

    fn apply(source: &str, edit: &DocEdit) -> String {
        let mut out = source.to_string();
        out.replace_range(edit.range.clone(), &edit.new_text);
        out
    }

    fn find<'o>(symbols: &'o [Symbol], name: &str) -> Option<&'o Symbol> {
        for s in symbols {
            if s.name == name {
                return Some(s);
            }
            if let Some(found) = find(&s.children, name) {
                return Some(found);
            }
        }
        None
    }

    /// Documents `name` in `source` and returns the new text, after checking that it parses
    /// cleanly and that the outline now reads `content` as that symbol's docstring.
    fn document(source: &str, name: &str, content: &str) -> String {
        let tree = parse_str(source, None);
        let target = if name.is_empty() {
            Placement::Module
        } else {
            let o = outline(&tree, source, "");
            let s = find(&o.symbols, name).expect("symbol");
            Placement::Definition {
                start: s.range.start,
                end: s.range.end,
            }
        };
        let edit = docstring_edit(source, &tree, target, content).expect("edit");
        let out = apply(source, &edit);
        let new_tree = parse_str(&out, None);
        assert!(!new_tree.root_node().has_error(), "does not parse:\n{out}");
        let o = outline(&new_tree, &out, "");
        let doc = if name.is_empty() {
            o.docstring.clone()
        } else {
            find(&o.symbols, name).and_then(|s| s.docstring.clone())
        };
        let doc = doc.unwrap_or_else(|| panic!("no docstring for {name} in:\n{out}"));
        assert_eq!(doc.text, content.trim());
        assert_eq!(doc.range.start, edit.literal_offset);
        out
    }

    #[test]
    fn a_block_body_gets_a_line_after_the_header_in_the_body_indentation() {
        let src = "def f(x):\n    return x\n";
        assert_eq!(
            document(src, "f", "Return x."),
            "def f(x):\n    \"\"\"Return x.\"\"\"\n    return x\n"
        );
    }

    #[test]
    fn multi_line_docstrings_indent_every_line_and_close_on_their_own_line() {
        let src = "class A:\n  def m(self, a):\n    return a\n";
        let out = document(src, "m", "Do it.\n\nArgs:\n    a: The a.");
        assert_eq!(
            out,
            "class A:\n  def m(self, a):\n    \"\"\"Do it.\n\n    Args:\n        a: The a.\n    \"\"\"\n    return a\n"
        );
    }

    #[test]
    fn one_line_definitions_are_split_after_the_colon() {
        let src = "def f(): return 1\nclass E(Exception): pass\n";
        let out = document(src, "f", "One.");
        assert_eq!(
            out,
            "def f():\n    \"\"\"One.\"\"\"\n    return 1\nclass E(Exception): pass\n"
        );
        let out = document(src, "E", "Bad.");
        assert!(out.ends_with("class E(Exception):\n    \"\"\"Bad.\"\"\"\n    pass\n"));
        // Several statements after the colon stay together on the next line.
        let out = document("def g(): x = 1; return x\n", "g", "G.");
        assert_eq!(out, "def g():\n    \"\"\"G.\"\"\"\n    x = 1; return x\n");
    }

    #[test]
    fn decorators_multi_line_signatures_and_async() {
        let src = "@dec\n@other(1)\nasync def f(\n    a: int,  # the a\n    b: str = \":\",\n) -> dict[str, int]:  # note\n    # leading comment\n    return {}\n";
        let out = document(src, "f", "F.");
        assert_eq!(
            out,
            "@dec\n@other(1)\nasync def f(\n    a: int,  # the a\n    b: str = \":\",\n) -> dict[str, int]:  # note\n    \"\"\"F.\"\"\"\n    # leading comment\n    return {}\n"
        );
    }

    #[test]
    fn nested_functions_and_classes() {
        let src = "def outer():\n    def inner():\n        class K:\n            x = 1\n        return K\n    return inner\n";
        let out = document(src, "inner", "Inner.");
        assert!(out.contains("    def inner():\n        \"\"\"Inner.\"\"\"\n        class K:"));
        let out = document(src, "K", "K.");
        assert!(out.contains("        class K:\n            \"\"\"K.\"\"\"\n            x = 1\n"));
    }

    #[test]
    fn tabs_stay_tabs() {
        let src = "class A:\n\tdef m(self):\n\t\treturn 1\n";
        let out = document(src, "m", "M.\n\nMore.");
        assert_eq!(
            out,
            "class A:\n\tdef m(self):\n\t\t\"\"\"M.\n\n\t\tMore.\n\t\t\"\"\"\n\t\treturn 1\n"
        );
        // A one-liner inside a tab-indented class uses a tab too.
        let src = "class A:\n\tdef m(self): return 1\n";
        assert_eq!(
            document(src, "m", "M."),
            "class A:\n\tdef m(self):\n\t\t\"\"\"M.\"\"\"\n\t\treturn 1\n"
        );
    }

    #[test]
    fn crlf_files_get_crlf_lines() {
        let src = "def f():\r\n    return 1\r\n";
        let out = document(src, "f", "F.\n\nMore.");
        assert_eq!(
            out,
            "def f():\r\n    \"\"\"F.\r\n\r\n    More.\r\n    \"\"\"\r\n    return 1\r\n"
        );
    }

    #[test]
    fn backslashes_get_a_raw_prefix_and_triple_quotes_another_quote_style() {
        let src = "def f():\n    pass\n";
        let out = document(src, "f", "Match \\d+.");
        assert!(out.contains("r\"\"\"Match \\d+.\"\"\""));
        let out = document(src, "f", "Say \"\"\"hi\"\"\" twice.");
        assert!(out.contains("'''Say \"\"\"hi\"\"\" twice.'''"));
        // A one-line text ending in a quote closes on the next line.
        let out = document(src, "f", "Say \"hi\"");
        assert!(out.contains("\"\"\"Say \"hi\"\n    \"\"\""));
    }

    #[test]
    fn a_nul_is_escaped_and_a_trailing_backslash_does_not_escape_the_closing_quotes() {
        // Each made a clean file unparseable. The NUL and the four double quotes next to `'''`
        // were found by fuzzing (`fuzz/`, target `docstring`); the trailing backslash while
        // fixing them.
        let src = "def f():\n    pass\n";
        let tree = parse_str(src, None);
        let o = outline(&tree, src, "");
        let target = Placement::Definition {
            start: o.symbols[0].range.start,
            end: o.symbols[0].range.end,
        };
        for content in [
            "A\0B",
            "Ends in \\",
            "Both \\ and \0",
            "q \"\"\"'''\0",
            "Four \"\"\"\" and ''' and \\",
        ] {
            let edit = docstring_edit(src, &tree, target, content).expect("edit");
            let out = apply(src, &edit);
            assert!(!out.contains('\0'), "{out:?}");
            assert!(!parse_str(&out, None).root_node().has_error(), "{out:?}");
        }
        let out = apply(src, &docstring_edit(src, &tree, target, "A\0B\\").unwrap());
        assert!(out.contains("\"\"\"A\\x00B\\\\\n    \"\"\""), "{out:?}");
        let out = apply(
            src,
            &docstring_edit(src, &tree, target, "Ends in \\").unwrap(),
        );
        assert!(out.contains("r\"\"\"Ends in \\\n    \"\"\""), "{out:?}");
    }

    #[test]
    fn an_existing_docstring_is_replaced_in_place() {
        let src = "def f(a):\n    '''Old.'''  # keep\n    return a\n";
        let out = document(src, "f", "New.\n\nArgs:\n    a: A.");
        assert_eq!(
            out,
            "def f(a):\n    \"\"\"New.\n\n    Args:\n        a: A.\n    \"\"\"  # keep\n    return a\n"
        );
    }

    #[test]
    fn insertion_leaves_every_other_byte_alone() {
        let src = "import os\n\n\ndef f(a,\n      b):  # c\n\n    # x\n\n    return a  # y\n";
        let tree = parse_str(src, None);
        let o = outline(&tree, src, "");
        let s = &o.symbols[0];
        let edit = docstring_edit(
            src,
            &tree,
            Placement::Definition {
                start: s.range.start,
                end: s.range.end,
            },
            "Doc.",
        )
        .unwrap();
        assert_eq!(edit.range.len(), 0);
        let out = apply(src, &edit);
        let mut back = out.clone();
        back.replace_range(edit.range.start..edit.range.start + edit.new_text.len(), "");
        assert_eq!(back, src);
    }

    #[test]
    fn modules_after_shebang_encoding_and_licence_header() {
        assert_eq!(
            document("import os\n", "", "Tools."),
            "\"\"\"Tools.\"\"\"\n\nimport os\n"
        );
        assert_eq!(
            document(
                "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nimport os\n",
                "",
                "T."
            ),
            "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n\"\"\"T.\"\"\"\n\nimport os\n"
        );
        assert_eq!(
            document("# Copyright me\n# Licence X\n\nimport os\n", "", "T."),
            "# Copyright me\n# Licence X\n\n\"\"\"T.\"\"\"\n\nimport os\n"
        );
        // A comment attached to the first statement stays attached.
        assert_eq!(
            document("# about os\nimport os\n", "", "T."),
            "\"\"\"T.\"\"\"\n\n# about os\nimport os\n"
        );
        assert_eq!(document("", "", "Empty."), "\"\"\"Empty.\"\"\"\n");
        assert_eq!(
            document("\n\nx = 1\n", "", "X."),
            "\"\"\"X.\"\"\"\n\n\nx = 1\n"
        );
    }

    #[test]
    fn a_broken_header_is_refused_and_other_errors_do_not_matter() {
        let src = "def f(a:\n    return 1\n";
        let tree = parse_str(src, None);
        let r = docstring_edit(src, &tree, Placement::Definition { start: 0, end: 3 }, "X.");
        assert!(r.is_err());
        // A syntax error elsewhere in the file does not stop a sound definition.
        let src = "def f():\n    return 1\n\nx = = 2\n";
        let tree = parse_str(src, None);
        let edit =
            docstring_edit(src, &tree, Placement::Definition { start: 0, end: 8 }, "X.").unwrap();
        assert_eq!(edit.new_text, "    \"\"\"X.\"\"\"\n");
        // Nothing at that place.
        let tree = parse_str("x = 1\n", None);
        assert_eq!(
            docstring_edit(
                "x = 1\n",
                &tree,
                Placement::Definition { start: 0, end: 1 },
                "X."
            ),
            Err(PlacementError::NoDefinition)
        );
    }

    #[test]
    fn indent_unit_follows_the_file() {
        assert_eq!(indent_unit("def f():\n  return 1\n", ""), "  ");
        assert_eq!(indent_unit("def f():\n\treturn 1\n", ""), "\t");
        assert_eq!(indent_unit("x = 1\n", ""), "    ");
        assert_eq!(indent_unit("", "\t"), "\t");
    }
}
