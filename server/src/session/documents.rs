//! Open documents: a rope, the version the client gave it, and an up-to-date tree-sitter tree.
//!
//! The store is changed only from the `didOpen`/`didChange`/`didClose` handlers, synchronously
//! and before they await anything, so every later request sees the text the client had when it
//! sent that request. Each change edits the old tree with `Tree::edit` and re-parses
//! incrementally. Readers take a `DocumentSnapshot` (cheap: the rope and tree are shared, not
//! copied) and never hold a lock while they work.

use std::sync::{Arc, OnceLock};

use dashmap::DashMap;
use ropey::Rope;
use tree_sitter::{InputEdit, Point, Tree};

use crate::analysis::outline::{outline, Outline};
use crate::analysis::parse;
use crate::session::position::{offset_of, PositionEncoding, TextPosition};

/// One content change as the client sent it: a replaced range, or the whole text when `range`
/// is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChange {
    pub range: Option<(TextPosition, TextPosition)>,
    pub text: String,
}

/// What became of a `didChange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOutcome {
    Applied,
    /// The change's version is not newer than the document's: it arrived late or twice, and
    /// applying it would corrupt the text, so it was dropped.
    Stale {
        current: i32,
        received: i32,
    },
    /// No document with that URI is open.
    UnknownDocument,
    /// The text after the change is over the size limit: the document was dropped (and is
    /// remembered as too large) rather than parsed.
    TooLarge(TooLarge),
}

/// A document refused because its text is over the size limit (`workspace.max_file_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    pub size: u64,
    pub limit: u64,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "it is {} bytes, over the limit of {} (workspace.max_file_size), so Tandem does \
             not analyse it",
            self.size, self.limit
        )
    }
}

/// A document as the session holds it.
#[derive(Debug, Clone)]
pub struct Document {
    pub version: i32,
    pub language_id: String,
    pub rope: Rope,
    pub tree: Tree,
    /// What readers derive from this version, shared by its snapshots.
    derived: Arc<Derived>,
}

/// What readers derive from one version of a document: computed once, on first use, and
/// shared by every snapshot of that version (each change starts afresh), so that the requests
/// and diagnostics of one keystroke do not each rebuild the text and the outline.
#[derive(Debug, Default)]
struct Derived {
    text: OnceLock<Arc<str>>,
    outline: OnceLock<Arc<Outline>>,
}

impl Document {
    pub fn new(version: i32, language_id: &str, text: &str) -> Self {
        let rope = Rope::from_str(text);
        let tree = parse::parse_rope(&rope, None);
        Document {
            version,
            language_id: language_id.to_string(),
            rope,
            tree,
            derived: Arc::default(),
        }
    }

    /// Applies the changes in order, then re-parses once. The new state is built on copies, so a
    /// failure part-way leaves the document as it was.
    pub fn apply_changes(&mut self, version: i32, changes: &[TextChange], enc: PositionEncoding) {
        let (rope, tree) = self.edited(changes, enc);
        self.reparse(version, rope, tree);
    }

    /// The text after the changes, and the old tree edited to match (`None` after a whole-text
    /// change); nothing is parsed yet.
    fn edited(&self, changes: &[TextChange], enc: PositionEncoding) -> (Rope, Option<Tree>) {
        let mut rope = self.rope.clone();
        let mut tree = Some(self.tree.clone());
        for change in changes {
            match change.range {
                None => {
                    rope = Rope::from_str(&change.text);
                    tree = None;
                }
                Some((start, end)) => {
                    let edit = apply_range_change(&mut rope, start, end, &change.text, enc);
                    if let Some(tree) = tree.as_mut() {
                        tree.edit(&edit);
                    }
                }
            }
        }
        (rope, tree)
    }

    /// Takes the edited text and re-parses it (incrementally from the edited tree).
    fn reparse(&mut self, version: i32, rope: Rope, tree: Option<Tree>) {
        let tree = parse::parse_rope(&rope, tree.as_ref());
        self.rope = rope;
        self.tree = tree;
        self.derived = Arc::default();
        self.version = version;
    }
}

/// Replaces the text between two positions (clamped, and swapped if given backwards) and
/// returns the edit in tree-sitter's terms.
fn apply_range_change(
    rope: &mut Rope,
    start: TextPosition,
    end: TextPosition,
    text: &str,
    enc: PositionEncoding,
) -> InputEdit {
    let mut start_byte = offset_of(rope, start, enc);
    let mut old_end_byte = offset_of(rope, end, enc);
    if old_end_byte < start_byte {
        std::mem::swap(&mut start_byte, &mut old_end_byte);
    }
    let start_position = point_at(rope, start_byte);
    let old_end_position = point_at(rope, old_end_byte);
    let start_char = rope.byte_to_char(start_byte);
    let old_end_char = rope.byte_to_char(old_end_byte);
    rope.remove(start_char..old_end_char);
    rope.insert(start_char, text);
    let new_end_byte = start_byte + text.len();
    InputEdit {
        start_byte,
        old_end_byte,
        new_end_byte,
        start_position,
        old_end_position,
        new_end_position: point_at(rope, new_end_byte),
    }
}

/// Tree-sitter's row and byte column of an offset. Tree-sitter uses these only for reporting
/// node points, which Tandem does not read (it works with byte ranges), so the difference in
/// how a lone `\r` is counted does not matter.
fn point_at(rope: &Rope, offset: usize) -> Point {
    let row = rope.byte_to_line(offset);
    Point::new(row, offset - rope.line_to_byte(row))
}

/// A read-only view of a document at one version.
#[derive(Debug, Clone)]
pub struct DocumentSnapshot {
    pub uri: String,
    pub version: i32,
    pub rope: Rope,
    pub tree: Tree,
    derived: Arc<Derived>,
}

impl DocumentSnapshot {
    /// The whole text as one string (analysis works on `&str`).
    pub fn text(&self) -> String {
        self.shared_text().to_string()
    }

    /// The whole text, built once per version and shared.
    pub fn shared_text(&self) -> Arc<str> {
        self.derived
            .text
            .get_or_init(|| Arc::from(self.rope.to_string()))
            .clone()
    }

    /// The outline of this version (module name empty: qualified names start at the file's
    /// top level), built once per version and shared.
    pub fn outline(&self) -> Arc<Outline> {
        self.derived
            .outline
            .get_or_init(|| Arc::new(outline(&self.tree, &self.shared_text(), "")))
            .clone()
    }
}

/// All open documents, keyed by URI as the client spelled it.
#[derive(Debug, Default)]
pub struct DocumentStore {
    documents: DashMap<String, Document>,
    /// Documents the client opened whose text was over the size limit, by URI: not held, not
    /// parsed, remembered so that requests about them get a clear answer.
    too_large: DashMap<String, TooLarge>,
}

impl DocumentStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens (or re-opens, replacing) a document.
    pub fn open(&self, uri: &str, version: i32, language_id: &str, text: &str) {
        let document = Document::new(version, language_id, text);
        self.documents.insert(uri.to_string(), document);
    }

    /// Opens a document unless its text is over `limit` bytes: then it is not held or parsed
    /// (a 50 MB buffer would cost a parse tree many times its size on every change), and
    /// [`DocumentStore::too_large`] says why until it is closed or opened again.
    pub fn open_within(
        &self,
        uri: &str,
        version: i32,
        language_id: &str,
        text: &str,
        limit: u64,
    ) -> Result<(), TooLarge> {
        let size = text.len() as u64;
        if size > limit {
            self.documents.remove(uri);
            let refused = TooLarge { size, limit };
            self.too_large.insert(uri.to_string(), refused);
            return Err(refused);
        }
        self.too_large.remove(uri);
        self.open(uri, version, language_id, text);
        Ok(())
    }

    pub fn change(
        &self,
        uri: &str,
        version: i32,
        changes: &[TextChange],
        enc: PositionEncoding,
    ) -> ChangeOutcome {
        self.change_within(uri, version, changes, enc, u64::MAX)
    }

    /// Applies a change unless the text after it is over `limit` bytes: then the document is
    /// dropped before it is parsed and remembered as too large.
    pub fn change_within(
        &self,
        uri: &str,
        version: i32,
        changes: &[TextChange],
        enc: PositionEncoding,
        limit: u64,
    ) -> ChangeOutcome {
        let Some(mut document) = self.documents.get_mut(uri) else {
            return ChangeOutcome::UnknownDocument;
        };
        if version <= document.version {
            return ChangeOutcome::Stale {
                current: document.version,
                received: version,
            };
        }
        let (rope, tree) = document.edited(changes, enc);
        let size = rope.len_bytes() as u64;
        if size > limit {
            drop(document);
            self.documents.remove(uri);
            let refused = TooLarge { size, limit };
            self.too_large.insert(uri.to_string(), refused);
            return ChangeOutcome::TooLarge(refused);
        }
        document.reparse(version, rope, tree);
        ChangeOutcome::Applied
    }

    /// Closes a document; returns whether it was open (or refused as too large).
    pub fn close(&self, uri: &str) -> bool {
        let refused = self.too_large.remove(uri).is_some();
        self.documents.remove(uri).is_some() || refused
    }

    /// Why a document the client opened is not held: its text is over the size limit.
    pub fn too_large(&self, uri: &str) -> Option<TooLarge> {
        self.too_large.get(uri).map(|r| *r)
    }

    pub fn snapshot(&self, uri: &str) -> Option<DocumentSnapshot> {
        self.documents.get(uri).map(|d| DocumentSnapshot {
            uri: uri.to_string(),
            version: d.version,
            rope: d.rope.clone(),
            tree: d.tree.clone(),
            derived: d.derived.clone(),
        })
    }

    /// The current version of an open document.
    pub fn version(&self, uri: &str) -> Option<i32> {
        self.documents.get(uri).map(|d| d.version)
    }

    pub fn len(&self) -> usize {
        self.documents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    /// The URIs of the open documents.
    pub fn uris(&self) -> Vec<String> {
        self.documents.iter().map(|d| d.key().clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(sl: u32, sc: u32, el: u32, ec: u32, text: &str) -> TextChange {
        TextChange {
            range: Some((TextPosition::new(sl, sc), TextPosition::new(el, ec))),
            text: text.to_string(),
        }
    }

    #[test]
    fn incremental_changes_match_a_fresh_parse() {
        let store = DocumentStore::new();
        store.open("file:///a.py", 1, "python", "def f(x):\n    return x\n");
        let outcome = store.change(
            "file:///a.py",
            2,
            &[
                change(0, 4, 0, 5, "größe"),
                change(1, 11, 1, 12, "x + '😀'"),
            ],
            PositionEncoding::Utf16,
        );
        assert_eq!(outcome, ChangeOutcome::Applied);
        let snap = store.snapshot("file:///a.py").unwrap();
        assert_eq!(snap.text(), "def größe(x):\n    return x + '😀'\n");
        let fresh = parse::parse_str(&snap.text(), None);
        assert_eq!(snap.tree.root_node().to_sexp(), fresh.root_node().to_sexp());
        assert_eq!(snap.version, 2);
    }

    #[test]
    fn stale_versions_are_dropped() {
        let store = DocumentStore::new();
        store.open("u", 5, "python", "x = 1\n");
        let outcome = store.change("u", 5, &[change(0, 0, 0, 0, "y")], PositionEncoding::Utf8);
        assert_eq!(
            outcome,
            ChangeOutcome::Stale {
                current: 5,
                received: 5
            }
        );
        assert_eq!(store.snapshot("u").unwrap().text(), "x = 1\n");
    }

    #[test]
    fn unknown_documents_are_reported() {
        let store = DocumentStore::new();
        let outcome = store.change("nope", 1, &[], PositionEncoding::Utf8);
        assert_eq!(outcome, ChangeOutcome::UnknownDocument);
        assert!(!store.close("nope"));
    }

    #[test]
    fn ranges_past_the_end_are_clamped() {
        let store = DocumentStore::new();
        store.open("u", 1, "python", "a = 1\n");
        store.change(
            "u",
            2,
            &[change(7, 3, 99, 0, "b = 2\n")],
            PositionEncoding::Utf16,
        );
        assert_eq!(store.snapshot("u").unwrap().text(), "a = 1\nb = 2\n");
        // A reversed range is treated as the same range forwards.
        store.change(
            "u",
            3,
            &[change(1, 5, 1, 0, "c = 3")],
            PositionEncoding::Utf16,
        );
        assert_eq!(store.snapshot("u").unwrap().text(), "a = 1\nc = 3\n");
    }

    #[test]
    fn full_replacement_resets_the_tree() {
        let store = DocumentStore::new();
        store.open("u", 1, "python", "a = 1\n");
        let full = TextChange {
            range: None,
            text: "class C:\n    pass\n".into(),
        };
        store.change(
            "u",
            2,
            &[full, change(1, 4, 1, 8, "...")],
            PositionEncoding::Utf8,
        );
        let snap = store.snapshot("u").unwrap();
        assert_eq!(snap.text(), "class C:\n    ...\n");
        assert!(!snap.tree.root_node().has_error());
    }

    #[test]
    fn crlf_documents_edit_correctly() {
        let store = DocumentStore::new();
        store.open("u", 1, "python", "a = 1\r\nb = 2\r\n");
        store.change(
            "u",
            2,
            &[change(1, 0, 1, 99, "bb = 22")],
            PositionEncoding::Utf16,
        );
        assert_eq!(store.snapshot("u").unwrap().text(), "a = 1\r\nbb = 22\r\n");
    }

    #[test]
    fn documents_over_the_limit_are_refused_and_remembered_until_closed() {
        let store = DocumentStore::new();
        let refused = store
            .open_within("big", 1, "python", "x = 1\n", 5)
            .unwrap_err();
        assert_eq!(refused, TooLarge { size: 6, limit: 5 });
        assert!(refused.to_string().contains("workspace.max_file_size"));
        assert!(store.snapshot("big").is_none());
        assert_eq!(store.too_large("big"), Some(refused));
        // Opening it again under the limit clears the refusal.
        store.open_within("big", 2, "python", "x=1", 5).unwrap();
        assert_eq!(store.too_large("big"), None);
        assert_eq!(store.snapshot("big").unwrap().text(), "x=1");
        // A change that grows it over the limit drops it before parsing.
        let grow = TextChange {
            range: None,
            text: "y = 22\n".into(),
        };
        let outcome = store.change_within("big", 3, &[grow], PositionEncoding::Utf8, 5);
        assert_eq!(
            outcome,
            ChangeOutcome::TooLarge(TooLarge { size: 7, limit: 5 })
        );
        assert!(store.snapshot("big").is_none());
        assert!(
            store.close("big"),
            "a refused document counts as open until closed"
        );
        assert_eq!(store.too_large("big"), None);
        assert!(!store.close("big"));
    }
}
