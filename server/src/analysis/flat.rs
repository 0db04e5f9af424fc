//! A syntax tree copied into one flat array (`flat.c`), for walks that read every node.
//!
//! Reading a tree-sitter tree through its API costs a foreign call per question: a node's kind
//! (`ts_node_symbol` works out aliases and the public symbol each time), its end, a child by
//! field (a walk over the children each time), and its children (`ts_node_named_child(i)`
//! starts from the first child on every call; a cursor costs a call per step), again for each
//! of the three walks of `analyze_tree` (outline, references, call-graph facts). `FlatTree`
//! answers all of these from memory after one pass that visits each node once. A node's
//! children are the nodes a `TreeCursor` visits below it, stored side by side, each with the
//! field id the cursor would report.
//!
//! One difference from tree-sitter's API: `child_by_field_id` finds only children the field
//! is on. tree-sitter also returns a grandchild when a hidden child's production gives it the
//! field (`alternative` of a `match_statement` is a `case_clause` inside its `block`); the
//! walks do not ask for such fields.
//!
//! The copy lives as long as the walks that read it (28 bytes a node). The ignored test
//! `a_flat_tree_agrees_with_tree_sitter_on_a_corpus` checks every node of the standard library
//! (or of `TANDEM_FLAT_CORPUS`) against tree-sitter's API: run it after upgrading
//! tree-sitter, whose internal headers `flat.c` is compiled against.

use tree_sitter::ffi::TSNode;
use tree_sitter::Tree;

/// One node, as `flat.c` writes it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct Raw {
    start_byte: u32,
    end_byte: u32,
    parent: u32,
    first_child: u32,
    child_count: u32,
    kind: u16,
    field: u16,
    flags: u32,
}

const NAMED: u32 = 1;
const EXTRA: u32 = 2;
#[cfg_attr(not(test), allow(dead_code))]
const MISSING: u32 = 4;
const HAS_ERROR: u32 = 8;

/// The kind id tree-sitter gives `ERROR` nodes.
const ERROR_KIND: u16 = u16::MAX;

unsafe extern "C" {
    fn tandem_ts_flatten(root: TSNode, out: *mut *mut Raw) -> u32;
    fn tandem_ts_flat_free(nodes: *mut Raw);
}

/// A tree's nodes in one array; the root is node 0.
pub struct FlatTree {
    nodes: *mut Raw,
    #[cfg_attr(not(test), allow(dead_code))]
    len: usize,
}

// SAFETY: the array is owned (allocated by `flat.c`, freed once in `Drop`) and never written
// after construction.
unsafe impl Send for FlatTree {}
unsafe impl Sync for FlatTree {}

impl Drop for FlatTree {
    fn drop(&mut self) {
        if !self.nodes.is_null() {
            // SAFETY: allocated by `tandem_ts_flatten`, freed only here.
            unsafe { tandem_ts_flat_free(self.nodes) };
        }
    }
}

impl FlatTree {
    /// Copies `tree`. Panics only if memory runs out (as any allocation would).
    pub fn new(tree: &Tree) -> FlatTree {
        let mut out: *mut Raw = std::ptr::null_mut();
        // SAFETY: the root is a node of a live tree; `out` receives an array of the returned
        // length, or null with 0.
        let len = unsafe { tandem_ts_flatten(tree.root_node().into_raw(), &mut out) };
        assert!(
            !out.is_null() && len > 0,
            "flattening a syntax tree ran out of memory"
        );
        FlatTree {
            nodes: out,
            len: len as usize,
        }
    }

    pub fn root(&self) -> FNode<'_> {
        FNode { tree: self, id: 0 }
    }

    /// How many nodes the tree has.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }
}

/// A node of a `FlatTree`, with the parts of `tree_sitter::Node`'s API the walks use.
#[derive(Clone, Copy)]
pub struct FNode<'t> {
    tree: &'t FlatTree,
    id: u32,
}

impl PartialEq for FNode<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && std::ptr::eq(self.tree, other.tree)
    }
}

impl Eq for FNode<'_> {}

impl std::fmt::Debug for FNode<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{{FNode {} kind {} {}..{}}}",
            self.id,
            self.kind_id(),
            self.start_byte(),
            self.end_byte()
        )
    }
}

impl<'t> FNode<'t> {
    #[inline]
    fn raw(&self) -> &'t Raw {
        // SAFETY: ids are only made for entries of the tree (`root`, `children`, `parent`).
        unsafe { &*self.tree.nodes.add(self.id as usize) }
    }

    #[inline]
    fn at(&self, id: u32) -> FNode<'t> {
        FNode {
            tree: self.tree,
            id,
        }
    }

    /// An id unique among the nodes of the tree.
    #[inline]
    pub fn id(&self) -> usize {
        self.id as usize
    }

    #[inline]
    pub fn kind_id(&self) -> u16 {
        self.raw().kind
    }

    #[inline]
    pub fn start_byte(&self) -> usize {
        self.raw().start_byte as usize
    }

    #[inline]
    pub fn end_byte(&self) -> usize {
        self.raw().end_byte as usize
    }

    pub fn byte_range(&self) -> std::ops::Range<usize> {
        self.start_byte()..self.end_byte()
    }

    #[inline]
    pub fn is_named(&self) -> bool {
        self.raw().flags & NAMED != 0
    }

    pub fn is_extra(&self) -> bool {
        self.raw().flags & EXTRA != 0
    }

    #[cfg(test)]
    pub fn is_missing(&self) -> bool {
        self.raw().flags & MISSING != 0
    }

    pub fn is_error(&self) -> bool {
        self.kind_id() == ERROR_KIND
    }

    /// Whether the node is or contains a syntax error.
    pub fn has_error(&self) -> bool {
        self.raw().flags & HAS_ERROR != 0
    }

    /// The field this node is in its parent's children (0 for none), as a cursor reports it.
    #[inline]
    pub fn field_id(&self) -> u16 {
        self.raw().field
    }

    pub fn parent(&self) -> Option<FNode<'t>> {
        let p = self.raw().parent;
        (p != u32::MAX).then(|| self.at(p))
    }

    #[inline]
    pub fn child_count(&self) -> usize {
        self.raw().child_count as usize
    }

    /// The children a cursor visits, in order.
    #[inline]
    pub fn children(&self) -> impl DoubleEndedIterator<Item = FNode<'t>> + ExactSizeIterator {
        let r = self.raw();
        let (tree, first) = (self.tree, r.first_child);
        (first..first + r.child_count).map(move |id| FNode { tree, id })
    }

    pub fn child(&self, i: usize) -> Option<FNode<'t>> {
        (i < self.child_count()).then(|| self.at(self.raw().first_child + i as u32))
    }

    pub fn named_child_count(&self) -> usize {
        self.children().filter(FNode::is_named).count()
    }

    pub fn named_child(&self, i: usize) -> Option<FNode<'t>> {
        self.children().filter(FNode::is_named).nth(i)
    }

    /// The first child in field `field`.
    #[inline]
    pub fn child_by_field_id(&self, field: u16) -> Option<FNode<'t>> {
        if field == 0 {
            return None;
        }
        self.children().find(|c| c.field_id() == field)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::parse::parse_str;
    use tree_sitter::Node;

    /// Walks `node` and the flat copy of it side by side, checking that each agrees with what
    /// tree-sitter's API says; returns how many nodes it saw.
    fn agree(node: Node<'_>, flat: FNode<'_>, fields: &[u16]) -> usize {
        assert_eq!(flat.kind_id(), node.kind_id(), "{node:?}");
        assert_eq!(flat.byte_range(), node.byte_range(), "{node:?}");
        assert_eq!(flat.is_named(), node.is_named(), "{node:?}");
        assert_eq!(flat.is_extra(), node.is_extra(), "{node:?}");
        assert_eq!(flat.is_missing(), node.is_missing(), "{node:?}");
        assert_eq!(flat.is_error(), node.is_error(), "{node:?}");
        assert_eq!(flat.has_error(), node.has_error(), "{node:?}");
        assert_eq!(
            flat.named_child_count(),
            node.named_child_count(),
            "{node:?}"
        );
        for &f in fields {
            // tree-sitter also finds a field that a hidden child's production gives one of its
            // own children (`alternative` of a `match_statement` is a `case_clause` inside its
            // `block`): the flat tree keeps to the children a cursor reports the field on.
            let theirs = node
                .child_by_field_id(f)
                .filter(|c| c.parent() == Some(node));
            assert_eq!(
                flat.child_by_field_id(f).map(|c| c.byte_range()),
                theirs.map(|c| c.byte_range()),
                "field {f} of {node:?}"
            );
        }
        let mut cursor = node.walk();
        let mut expected = Vec::new();
        if cursor.goto_first_child() {
            loop {
                expected.push((cursor.node(), cursor.field_id().map_or(0, |f| f.get())));
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        assert_eq!(flat.child_count(), expected.len(), "children of {node:?}");
        let mut seen = 1;
        for (c, (n, field)) in flat.children().zip(expected) {
            assert_eq!(c.field_id(), field, "field of {n:?}");
            assert_eq!(c.parent(), Some(flat));
            seen += agree(n, c, fields);
        }
        seen
    }

    fn agrees_with_tree_sitter(source: &str) {
        let tree = parse_str(source, None);
        let flat = FlatTree::new(&tree);
        let language = tree.language();
        let fields: Vec<u16> = (1..=language.field_count() as u16).collect();
        let seen = agree(tree.root_node(), flat.root(), &fields);
        assert_eq!(seen, flat.len());
        assert_eq!(flat.root().parent(), None);
    }

    #[test]
    fn a_flat_tree_says_what_tree_sitter_says() {
        agrees_with_tree_sitter(
            "import a.b as c\nfrom . import (x, y)  # names\n\n@decorator(1)\nclass C(B, metaclass=M):\n    \"\"\"Doc.\"\"\"\n    x: int = 1\n    def f(self, a, *args, b=2, **kw) -> None:\n        # comment\n        if a is not None and b not in kw:\n            return [i for i in range(3) if i]\n        lambda q: q + 1\n        print(f\"{a!r:>10}\", sep='')\n        with open(p) as fh, g() as (u, v):\n            pass\n        match a:\n            case [1, *rest] | {\"k\": _}:\n                pass\n",
        );
    }

    #[test]
    fn a_flat_tree_of_broken_or_odd_text_says_what_tree_sitter_says() {
        agrees_with_tree_sitter(
            "def f(:\n    return )\nclass\nx = [1, 2\nprint 'py2'\nif x\n    y = 1 +\n",
        );
        agrees_with_tree_sitter("");
        agrees_with_tree_sitter("\u{feff}x = 'é' # ünïcode\n");
        agrees_with_tree_sitter("exec 'x'\nprint >>f, x\n`x`\n0777L\n");
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let source = format!("x = {}1{}\n", "(".repeat(20_000), ")".repeat(20_000));
        let tree = parse_str(&source, None);
        let flat = FlatTree::new(&tree);
        let mut depth = 0;
        let mut node = flat.root();
        while let Some(c) = node.children().rfind(|c| c.is_named()) {
            node = c;
            depth += 1;
        }
        assert!(depth > 20_000, "{depth}");
    }

    /// The Python files of the corpus `var` names (a directory), else of the standard library
    /// of the machine's `python3` (without site-packages), for the ignored corpus tests here
    /// and in `children`.
    pub(crate) fn corpus_files(var: &str) -> Vec<std::path::PathBuf> {
        let dir = std::env::var(var).unwrap_or_else(|_| {
            let out = std::process::Command::new("python3")
                .args([
                    "-c",
                    "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
                ])
                .output()
                .expect("python3 runs");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        });
        let config = crate::session::config::WorkspaceConfig {
            exclude: vec!["site-packages/".into()],
            ..Default::default()
        };
        let files =
            crate::session::workspace::discover_python_files(&[dir.clone().into()], &config).files;
        assert!(files.len() > 100, "{} files under {dir}", files.len());
        files
    }

    /// Every file of a corpus: `TANDEM_FLAT_CORPUS`, else the standard library.
    #[test]
    #[ignore]
    fn a_flat_tree_agrees_with_tree_sitter_on_a_corpus() {
        for path in corpus_files("TANDEM_FLAT_CORPUS") {
            if let Ok(text) = std::fs::read_to_string(&path) {
                agrees_with_tree_sitter(&text);
            }
        }
    }
}
