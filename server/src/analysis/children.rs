//! The children of a syntax-tree node, listed in one pass (`children.c`), for the outline of
//! a document's tree (`outline::outline`, which documentSymbol answers from; `analyze_tree`'s
//! walks read a flat copy of the tree instead, see `flat`).
//!
//! A walk reads its nodes' children. tree-sitter's API offers two ways, both costly for this: `Node::named_child(i)` walks the children from the first again on each
//! call (reading all of them is quadratic), and a `TreeCursor` takes a call per step and one
//! more to build each node. `Children` lists them as a cursor visits them (visible children in
//! order, those of hidden children in their place) with one call that reads the parent's child
//! array once.

use tree_sitter::ffi::TSNode;
use tree_sitter::Node;

unsafe extern "C" {
    fn tandem_ts_children(
        node: TSNode,
        named_only: bool,
        skip: u16,
        out: *mut TSNode,
        cap: u32,
        max_depth: u32,
    ) -> u32;
}

/// How deep in hidden nodes the listing goes before it leaves the node to a cursor (see
/// `children.c`); hidden nodes in real trees are a few deep.
const MAX_HIDDEN_DEPTH: u32 = 64;

/// A reusable buffer for listing children (listing allocates only when a node has more
/// children than any before it).
pub(crate) struct Children {
    raw: Vec<TSNode>,
    max_depth: u32,
}

impl Default for Children {
    fn default() -> Self {
        Children {
            raw: Vec::new(),
            max_depth: MAX_HIDDEN_DEPTH,
        }
    }
}

impl Children {
    /// Fills the buffer with the children of `node` (named ones only when `named_only`, none
    /// of kind `skip`); returns how many.
    fn list(&mut self, node: Node<'_>, named_only: bool, skip: u16) -> usize {
        let raw = node.into_raw();
        // The listing fills what the buffer holds and says how much more it needs.
        let mut cap = (self.raw.capacity() as u32).max(16);
        loop {
            self.raw.clear();
            self.raw.reserve(cap as usize);
            // SAFETY: `raw` is a node of a live tree (the borrow `'t` of the callers keeps it
            // alive); `out` has room for `cap` entries, and the function writes at most `cap`.
            let count = unsafe {
                tandem_ts_children(
                    raw,
                    named_only,
                    skip,
                    self.raw.as_mut_ptr(),
                    cap,
                    self.max_depth,
                )
            };
            if count == u32::MAX {
                return self.list_by_cursor(node, named_only, skip);
            }
            if count <= cap {
                // SAFETY: the function wrote the first `count` entries.
                unsafe { self.raw.set_len(count as usize) };
                return count as usize;
            }
            cap = count;
        }
    }

    /// `list` with a cursor, for a node whose hidden descendants are nested too deep.
    fn list_by_cursor(&mut self, node: Node<'_>, named_only: bool, skip: u16) -> usize {
        self.raw.clear();
        let mut cursor = node.walk();
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if (!named_only || child.is_named()) && child.kind_id() != skip {
                    self.raw.push(child.into_raw());
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        self.raw.len()
    }

    /// Appends the children of `node` to `out`: named ones only when `named_only`, none of
    /// kind `skip` (0 skips none).
    pub(crate) fn append<'t>(
        &mut self,
        node: Node<'t>,
        named_only: bool,
        skip: u16,
        out: &mut Vec<Node<'t>>,
    ) {
        let n = self.list(node, named_only, skip);
        // SAFETY: each entry is a node of the tree `node` belongs to, which `'t` keeps alive.
        out.extend(self.raw[..n].iter().map(|&r| unsafe { Node::from_raw(r) }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::parse::parse_str;
    use tree_sitter::TreeCursor;

    /// The children and field ids a cursor gives.
    fn by_cursor<'t>(
        cursor: &mut TreeCursor<'t>,
        node: Node<'t>,
        named_only: bool,
        skip: u16,
    ) -> Vec<(Node<'t>, u16)> {
        let mut out = Vec::new();
        cursor.reset(node);
        if cursor.goto_first_child() {
            loop {
                let c = cursor.node();
                if (!named_only || c.is_named()) && c.kind_id() != skip {
                    out.push((c, cursor.field_id().map_or(0, |f| f.get())));
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        out
    }

    /// Every node of `source`: its children listed here are those a cursor visits, with the
    /// same field ids, positions and kinds.
    fn agrees_with_the_cursor(source: &str) {
        agrees_with_the_cursor_at_depth(source, MAX_HIDDEN_DEPTH);
        // Every node with a hidden child goes to the cursor.
        agrees_with_the_cursor_at_depth(source, 0);
    }

    fn agrees_with_the_cursor_at_depth(source: &str, max_depth: u32) {
        let tree = parse_str(source, None);
        let comment = tree.language().id_for_node_kind("comment", true);
        let mut kids = Children {
            max_depth,
            ..Children::default()
        };
        let mut cursor = tree.walk();
        let mut stack = vec![tree.root_node()];
        let mut seen = 0;
        while let Some(node) = stack.pop() {
            seen += 1;
            for (named_only, skip) in [(false, 0), (true, 0), (true, comment)] {
                let expected = by_cursor(&mut cursor, node, named_only, skip);
                let mut plain = Vec::new();
                kids.append(node, named_only, skip, &mut plain);
                let ids = |v: &[Node<'_>]| {
                    v.iter()
                        .map(|n| {
                            (
                                n.id(),
                                n.kind_id(),
                                n.start_byte(),
                                n.end_byte(),
                                n.start_position(),
                            )
                        })
                        .collect::<Vec<_>>()
                };
                let want: Vec<Node<'_>> = expected.iter().map(|(n, _)| *n).collect();
                assert_eq!(
                    ids(&plain),
                    ids(&want),
                    "children of {node:?} (named {named_only}, skip {skip})"
                );
            }
            let mut all = Vec::new();
            kids.append(node, false, 0, &mut all);
            stack.extend(all);
        }
        assert!(seen > 1 || source.trim().is_empty());
    }

    #[test]
    fn children_are_those_a_cursor_visits() {
        agrees_with_the_cursor(
            "import a.b as c\nfrom . import (x, y)  # names\n\n@decorator(1)\nclass C(B, metaclass=M):\n    \"\"\"Doc.\"\"\"\n    x: int = 1\n    def f(self, a, *args, b=2, **kw) -> None:\n        # comment\n        if a is not None and b not in kw:\n            return [i for i in range(3) if i]\n        lambda q: q + 1\n        print(f\"{a!r:>10}\", sep='')\n        with open(p) as fh, g() as (u, v):\n            pass\n        match a:\n            case [1, *rest] | {\"k\": _}:\n                pass\n",
        );
    }

    #[test]
    fn children_of_a_tree_with_syntax_errors_are_those_a_cursor_visits() {
        agrees_with_the_cursor(
            "def f(:\n    return )\nclass\nx = [1, 2\nprint 'py2'\nif x\n    y = 1 +\n",
        );
        agrees_with_the_cursor("");
        agrees_with_the_cursor("\u{feff}x = 'é' # ünïcode\n");
    }

    /// Every file of a corpus: `TANDEM_CHILDREN_CORPUS` (a directory), else the standard
    /// library of the machine's `python3` (without site-packages). Ignored: 17 s here together
    /// with `flat`'s corpus test (the test binary of `cargo test --release -p tandem --lib`,
    /// run with `--ignored analysis::children analysis::flat::tests::a_flat`).
    #[test]
    #[ignore]
    fn children_agree_with_the_cursor_on_a_corpus() {
        for path in crate::analysis::flat::tests::corpus_files("TANDEM_CHILDREN_CORPUS") {
            if let Ok(source) = std::fs::read_to_string(&path) {
                agrees_with_the_cursor(&source);
            }
        }
    }

    #[test]
    fn a_node_with_many_children_is_listed_whole() {
        let source: String = (0..500).map(|i| format!("x{i} = {i}\n")).collect();
        agrees_with_the_cursor(&source);
        let tree = parse_str(&source, None);
        let mut out = Vec::new();
        Children::default().append(tree.root_node(), true, 0, &mut out);
        assert_eq!(out.len(), 500);
    }
}
