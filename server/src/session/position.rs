//! The one place that converts between byte offsets and line/character positions.
//!
//! LSP positions count characters in the negotiated encoding (UTF-8 code units when the client
//! offers them, else UTF-16). Lines end at `\n`, `\r\n` or `\r`, as the LSP specification says
//! (ropey is built with `cr_lines` only, not with Unicode line separators). Out-of-range input
//! is clamped, never rejected: a character past the end of its line means the end of the line,
//! a line past the end of the document means the end of the document, and an offset inside a
//! multi-byte character (or between the halves of a surrogate pair) moves back to the start of
//! that character.

use ropey::Rope;

/// How the `character` of a position counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositionEncoding {
    /// UTF-8 code units (bytes).
    Utf8,
    /// UTF-16 code units, the LSP default.
    #[default]
    Utf16,
}

impl PositionEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            PositionEncoding::Utf8 => "utf-8",
            PositionEncoding::Utf16 => "utf-16",
        }
    }

    /// Picks UTF-8 when the client offers it, else UTF-16 (which every client must support).
    pub fn negotiate<'a>(offered: impl IntoIterator<Item = &'a str>) -> Self {
        if offered.into_iter().any(|e| e.eq_ignore_ascii_case("utf-8")) {
            PositionEncoding::Utf8
        } else {
            PositionEncoding::Utf16
        }
    }
}

/// A zero-based line and character, counted in some `PositionEncoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct TextPosition {
    pub line: u32,
    pub character: u32,
}

impl TextPosition {
    pub fn new(line: u32, character: u32) -> Self {
        TextPosition { line, character }
    }
}

/// The byte offset where `line`'s content ends, before its line terminator.
fn line_content_end(rope: &Rope, line: usize) -> usize {
    let start = rope.line_to_byte(line);
    let slice = rope.line(line);
    let mut len = slice.len_bytes();
    // A line holds at most one terminator: `\r\n`, `\n` or `\r`.
    if len > 0 && slice.byte(len - 1) == b'\n' {
        len -= 1;
        if len > 0 && slice.byte(len - 1) == b'\r' {
            len -= 1;
        }
    } else if len > 0 && slice.byte(len - 1) == b'\r' {
        len -= 1;
    }
    start + len
}

/// Converts a position to a byte offset, clamping as described in the module docs.
pub fn offset_of(rope: &Rope, pos: TextPosition, enc: PositionEncoding) -> usize {
    let line = pos.line as usize;
    if line >= rope.len_lines() {
        return rope.len_bytes();
    }
    let start = rope.line_to_byte(line);
    let end = line_content_end(rope, line);
    let wanted = pos.character as usize;
    match enc {
        PositionEncoding::Utf8 => {
            let mut offset = (start + wanted).min(end);
            // Move back to a character boundary.
            while offset > start && !is_char_boundary(rope, offset) {
                offset -= 1;
            }
            offset
        }
        PositionEncoding::Utf16 => {
            let start_char = rope.byte_to_char(start);
            let end_char = rope.byte_to_char(end);
            let start_cu = rope.char_to_utf16_cu(start_char);
            let end_cu = rope.char_to_utf16_cu(end_char);
            let cu = (start_cu + wanted).min(end_cu);
            // `utf16_cu_to_char` rounds down inside a surrogate pair, which is the clamping we
            // want.
            let ch = rope.utf16_cu_to_char(cu);
            rope.char_to_byte(ch)
        }
    }
}

fn is_char_boundary(rope: &Rope, offset: usize) -> bool {
    if offset >= rope.len_bytes() {
        return true;
    }
    // UTF-8 continuation bytes look like 0b10xx_xxxx.
    (rope.byte(offset) & 0xC0) != 0x80
}

/// Converts a byte offset to a position. An offset past the end means the end; an offset inside
/// a character or inside a `\r\n` pair moves back to a boundary.
pub fn position_of(rope: &Rope, offset: usize, enc: PositionEncoding) -> TextPosition {
    let mut offset = offset.min(rope.len_bytes());
    while offset > 0 && !is_char_boundary(rope, offset) {
        offset -= 1;
    }
    let line = rope.byte_to_line(offset);
    let start = rope.line_to_byte(line);
    let offset = offset.min(line_content_end(rope, line));
    let character = match enc {
        PositionEncoding::Utf8 => offset - start,
        PositionEncoding::Utf16 => {
            let a = rope.char_to_utf16_cu(rope.byte_to_char(start));
            let b = rope.char_to_utf16_cu(rope.byte_to_char(offset));
            b - a
        }
    };
    TextPosition::new(line as u32, character as u32)
}

/// Line starts of one text, for converting many offsets at once (a whole outline) without
/// walking the rope for each: built in one pass, then each conversion is a binary search plus a
/// count over one line. Agrees exactly with `position_of` (a property test checks it).
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: IndexedText<'a>,
    /// Byte offset where each line starts; the first is 0.
    starts: Vec<usize>,
}

/// The text a `LineIndex` reads columns from: borrowed, or shared with it (a text the
/// project index unpacked for the caller, which has nowhere else to keep it).
#[derive(Debug, Clone)]
enum IndexedText<'a> {
    Borrowed(&'a str),
    Shared(std::sync::Arc<str>),
}

impl std::ops::Deref for IndexedText<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            IndexedText::Borrowed(text) => text,
            IndexedText::Shared(text) => text,
        }
    }
}

impl LineIndex<'static> {
    /// The line index of a text it keeps (shared, not copied).
    pub fn shared(text: std::sync::Arc<str>) -> Self {
        let starts = line_starts(&text);
        LineIndex {
            text: IndexedText::Shared(text),
            starts,
        }
    }
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        LineIndex {
            starts: line_starts(text),
            text: IndexedText::Borrowed(text),
        }
    }
}

/// Byte offset where each line of `text` starts; the first is 0.
fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i + 1),
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

impl LineIndex<'_> {
    /// Same result as `position_of` on a rope of the same text.
    pub fn position_of(&self, offset: usize, enc: PositionEncoding) -> TextPosition {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let content_end = self.content_end(line);
        let offset = offset.min(content_end);
        let segment = &self.text[start..offset];
        let character = match enc {
            PositionEncoding::Utf8 => segment.len(),
            PositionEncoding::Utf16 if segment.is_ascii() => segment.len(),
            PositionEncoding::Utf16 => segment.encode_utf16().count(),
        };
        TextPosition::new(line as u32, character as u32)
    }

    /// Same result as `offset_of` on a rope of the same text.
    pub fn offset_of(&self, pos: TextPosition, enc: PositionEncoding) -> usize {
        let line = pos.line as usize;
        let Some(&start) = self.starts.get(line) else {
            return self.text.len();
        };
        let end = self.content_end(line);
        let wanted = pos.character as usize;
        match enc {
            PositionEncoding::Utf8 => {
                let mut offset = (start + wanted).min(end);
                while !self.text.is_char_boundary(offset) {
                    offset -= 1;
                }
                offset
            }
            PositionEncoding::Utf16 => {
                let mut units = 0;
                for (i, ch) in self.text[start..end].char_indices() {
                    units += ch.len_utf16();
                    if units > wanted {
                        return start + i;
                    }
                }
                end
            }
        }
    }

    /// 1-based line and 1-based column counted in Unicode scalar values, for people (the
    /// same as `human_line_column` on a rope).
    pub fn human_line_column(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let column = self.text[self.starts[line]..offset].chars().count();
        (line + 1, column + 1)
    }

    /// How many lines the text has (a final line break starts an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The byte offset where a 0-based line starts (the end of the text past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.text.len())
    }

    fn content_end(&self, line: usize) -> usize {
        let end = self
            .starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        let bytes = &self.text.as_bytes()[self.starts[line]..end];
        let trimmed = match bytes {
            [.., b'\r', b'\n'] => 2,
            [.., b'\n'] | [.., b'\r'] => 1,
            _ => 0,
        };
        end - trimmed
    }
}

/// Line/column for people (compiler-style output): 1-based line and 1-based column counted in
/// Unicode scalar values.
pub fn human_line_column(rope: &Rope, offset: usize) -> (usize, usize) {
    let offset = offset.min(rope.len_bytes());
    let ch = rope.byte_to_char(offset);
    let line = rope.char_to_line(ch);
    let col = ch - rope.line_to_char(line);
    (line + 1, col + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pos(line: u32, character: u32) -> TextPosition {
        TextPosition::new(line, character)
    }

    #[test]
    fn negotiation_prefers_utf8_when_offered() {
        assert_eq!(
            PositionEncoding::negotiate(["utf-16", "utf-8"]),
            PositionEncoding::Utf8
        );
        assert_eq!(
            PositionEncoding::negotiate(["utf-32", "utf-16"]),
            PositionEncoding::Utf16
        );
        assert_eq!(PositionEncoding::negotiate([]), PositionEncoding::Utf16);
    }

    #[test]
    fn utf16_counts_surrogate_pairs_as_two() {
        let rope = Rope::from_str("a😀b\n");
        assert_eq!(offset_of(&rope, pos(0, 3), PositionEncoding::Utf16), 5);
        assert_eq!(position_of(&rope, 5, PositionEncoding::Utf16), pos(0, 3));
        assert_eq!(offset_of(&rope, pos(0, 3), PositionEncoding::Utf8), 3 - 2);
    }

    #[test]
    fn inside_a_surrogate_pair_rounds_down() {
        let rope = Rope::from_str("a😀b");
        assert_eq!(offset_of(&rope, pos(0, 2), PositionEncoding::Utf16), 1);
    }

    #[test]
    fn inside_a_multibyte_char_rounds_down_in_utf8() {
        let rope = Rope::from_str("é!");
        assert_eq!(offset_of(&rope, pos(0, 1), PositionEncoding::Utf8), 0);
        assert_eq!(position_of(&rope, 1, PositionEncoding::Utf8), pos(0, 0));
    }

    #[test]
    fn character_past_line_end_clamps_to_line_end() {
        let rope = Rope::from_str("ab\r\ncd\n");
        assert_eq!(offset_of(&rope, pos(0, 99), PositionEncoding::Utf16), 2);
        assert_eq!(offset_of(&rope, pos(1, 99), PositionEncoding::Utf8), 6);
    }

    #[test]
    fn line_past_end_clamps_to_document_end() {
        let rope = Rope::from_str("ab\ncd");
        assert_eq!(offset_of(&rope, pos(7, 0), PositionEncoding::Utf16), 5);
        assert_eq!(position_of(&rope, 500, PositionEncoding::Utf16), pos(1, 2));
    }

    #[test]
    fn lone_carriage_return_ends_a_line() {
        let rope = Rope::from_str("a\rb\nc");
        assert_eq!(offset_of(&rope, pos(1, 0), PositionEncoding::Utf16), 2);
        assert_eq!(offset_of(&rope, pos(2, 0), PositionEncoding::Utf16), 4);
    }

    #[test]
    fn unicode_line_separators_do_not_end_lines() {
        // LSP only knows \n, \r\n and \r.
        let rope = Rope::from_str("a\u{2028}b\u{85}c\nd");
        assert_eq!(rope.len_lines(), 2);
        assert_eq!(
            offset_of(&rope, pos(1, 0), PositionEncoding::Utf16),
            rope.len_bytes() - 1
        );
    }

    #[test]
    fn human_columns_count_scalar_values() {
        let rope = Rope::from_str("x = '😀'\ny");
        assert_eq!(human_line_column(&rope, 9), (1, 7));
        assert_eq!(human_line_column(&rope, 11), (2, 1));
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a",
            "Z",
            " ",
            "\n",
            "\r\n",
            "\r",
            "é",
            "e\u{301}",
            "😀",
            "👩\u{200d}💻",
            "中文",
            "\t",
            "\u{2028}",
            "ß",
        ]);
        prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
    }

    /// Every char boundary that is not inside a line terminator pair.
    fn valid_offsets(text: &str) -> Vec<usize> {
        let bytes = text.as_bytes();
        (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .filter(|&i| !(i > 0 && i < bytes.len() && bytes[i - 1] == b'\r' && bytes[i] == b'\n'))
            .collect()
    }

    proptest! {
        #[test]
        fn line_index_agrees_with_the_rope(text in text_strategy(), extra in 0usize..8) {
            let rope = Rope::from_str(&text);
            let index = LineIndex::new(&text);
            // An index that keeps its own copy of the text answers the same.
            let shared = LineIndex::shared(std::sync::Arc::from(text.as_str()));
            for offset in 0..=text.len() + extra {
                for enc in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
                    prop_assert_eq!(index.position_of(offset, enc), position_of(&rope, offset, enc));
                    prop_assert_eq!(shared.position_of(offset, enc), position_of(&rope, offset, enc));
                }
            }
            for offset in 0..=text.len() {
                if text.is_char_boundary(offset) {
                    prop_assert_eq!(index.human_line_column(offset), human_line_column(&rope, offset));
                }
            }
            for line in 0..rope.len_lines() as u32 + 2 {
                for character in 0..12 {
                    for enc in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
                        let p = pos(line, character);
                        prop_assert_eq!(index.offset_of(p, enc), offset_of(&rope, p, enc), "{:?} {:?}", p, enc);
                        prop_assert_eq!(shared.offset_of(p, enc), offset_of(&rope, p, enc), "{:?} {:?}", p, enc);
                    }
                }
            }
        }

        #[test]
        fn offsets_round_trip_through_both_encodings(text in text_strategy()) {
            let rope = Rope::from_str(&text);
            for offset in valid_offsets(&text) {
                for enc in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
                    let p = position_of(&rope, offset, enc);
                    prop_assert_eq!(offset_of(&rope, p, enc), offset, "{:?} {:?}", enc, p);
                }
                // UTF-8 and UTF-16 positions agree on the line and describe the same offset.
                let p8 = position_of(&rope, offset, PositionEncoding::Utf8);
                let p16 = position_of(&rope, offset, PositionEncoding::Utf16);
                prop_assert_eq!(p8.line, p16.line);
                let line_start = rope.line_to_byte(p8.line as usize);
                let utf16_len: usize = text[line_start..offset].encode_utf16().count();
                prop_assert_eq!(p16.character as usize, utf16_len);
                prop_assert_eq!(p8.character as usize, offset - line_start);
            }
        }

        #[test]
        fn arbitrary_positions_clamp_to_valid_offsets(
            text in text_strategy(),
            line in 0u32..80,
            character in 0u32..200,
        ) {
            let rope = Rope::from_str(&text);
            let valid = valid_offsets(&text);
            for enc in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
                let offset = offset_of(&rope, pos(line, character), enc);
                prop_assert!(valid.contains(&offset), "{} not valid for {:?}", offset, text);
                // Converting back and forth is stable.
                let p = position_of(&rope, offset, enc);
                prop_assert_eq!(offset_of(&rope, p, enc), offset);
            }
        }
    }
}
