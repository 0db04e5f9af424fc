//! Incremental edits: `didOpen` then `didChange` content changes (ranges anywhere: past the end
//! of a line or of the document, backwards, inside multi-byte characters and surrogate pairs;
//! whole-text replacements; stale versions) applied through `session::documents` and
//! `session::position`, in UTF-8 or UTF-16. After every change the server's text must equal a
//! reference `String` implementation of the LSP specification's clamping, and the incrementally
//! re-parsed tree must equal a fresh parse of that text (kind and byte range of every node).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tandem::analysis::parse::parse_str;
use tandem::session::documents::{ChangeOutcome, DocumentStore, TextChange};
use tandem::session::position::{PositionEncoding, TextPosition};

#[derive(Debug, Arbitrary)]
struct Input {
    utf16: bool,
    text: String,
    changes: Vec<Change>,
}

#[derive(Debug, Arbitrary)]
struct Change {
    /// `None` replaces the whole text.
    range: Option<(Pos, Pos)>,
    text: String,
    /// A change whose version is not newer is dropped by the store (and by the reference).
    stale: bool,
    /// Several content changes in one `didChange`.
    more: Vec<(Pos, Pos, String)>,
}

#[derive(Debug, Arbitrary, Clone, Copy)]
struct Pos {
    line: u8,
    character: u8,
}

impl Pos {
    /// Small values mostly (past the end of short lines and documents), the extremes sometimes.
    fn lsp(self) -> TextPosition {
        let widen = |v: u8| if v == 255 { u32::MAX } else { v as u32 };
        TextPosition::new(widen(self.line), widen(self.character))
    }
}

/// The reference: lines end at `\r\n`, `\n` or `\r`; a line past the last means the end of the
/// text; a character past the line's content means the end of that content; a character inside
/// a multi-byte character or a surrogate pair means that character's start.
fn reference_offset(text: &str, pos: TextPosition, utf16: bool) -> usize {
    let bytes = text.as_bytes();
    let mut line_start = 0;
    let mut line = 0u32;
    let mut i = 0;
    while line < pos.line {
        if i >= bytes.len() {
            return text.len();
        }
        match bytes[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => {
                line += 1;
                line_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let mut units = 0usize;
    for (at, ch) in text[line_start..].char_indices() {
        if ch == '\n' || ch == '\r' {
            return line_start + at;
        }
        let width = if utf16 { ch.len_utf16() } else { ch.len_utf8() };
        if units + width > pos.character as usize {
            return line_start + at;
        }
        units += width;
    }
    text.len()
}

fn reference_apply(
    text: &mut String,
    start: TextPosition,
    end: TextPosition,
    new: &str,
    utf16: bool,
) {
    let mut a = reference_offset(text, start, utf16);
    let mut b = reference_offset(text, end, utf16);
    if b < a {
        std::mem::swap(&mut a, &mut b);
    }
    text.replace_range(a..b, new);
}

/// Kind, byte range and missing flag of every node, in document order.
fn nodes(tree: &tree_sitter::Tree) -> Vec<(u16, usize, usize, bool)> {
    let mut out = Vec::new();
    let mut cursor = tree.walk();
    'walk: loop {
        let n = cursor.node();
        out.push((n.kind_id(), n.start_byte(), n.end_byte(), n.is_missing()));
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    out
}

const URI: &str = "file:///fuzz/edits.py";

fuzz_target!(|input: Input| {
    let enc = if input.utf16 {
        PositionEncoding::Utf16
    } else {
        PositionEncoding::Utf8
    };
    let store = DocumentStore::new();
    store.open(URI, 1, "python", &input.text);
    let mut reference = input.text.clone();
    let mut version = 1;
    for change in input.changes.iter().take(32) {
        let mut changes = vec![TextChange {
            range: change.range.map(|(s, e)| (s.lsp(), e.lsp())),
            text: change.text.clone(),
        }];
        changes.extend(change.more.iter().take(4).map(|(s, e, t)| TextChange {
            range: Some((s.lsp(), e.lsp())),
            text: t.clone(),
        }));
        let sent = if change.stale { version } else { version + 1 };
        let outcome = store.change(URI, sent, &changes, enc);
        if change.stale {
            assert_eq!(
                outcome,
                ChangeOutcome::Stale {
                    current: version,
                    received: sent
                }
            );
        } else {
            assert_eq!(outcome, ChangeOutcome::Applied);
            version = sent;
            for c in &changes {
                match c.range {
                    None => reference = c.text.clone(),
                    Some((s, e)) => reference_apply(&mut reference, s, e, &c.text, input.utf16),
                }
            }
        }
        let snapshot = store.snapshot(URI).unwrap();
        assert_eq!(snapshot.version, version);
        assert_eq!(snapshot.text(), reference, "text differs after {change:?}");
    }
    let snapshot = store.snapshot(URI).unwrap();
    let fresh = parse_str(&reference, None);
    assert_eq!(
        nodes(&snapshot.tree),
        nodes(&fresh),
        "incremental tree differs from a fresh parse of {reference:?}"
    );
});
