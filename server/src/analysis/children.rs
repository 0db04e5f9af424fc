//! The children of a syntax-tree node, listed in one pass (`children.c`), for the outline of
//! a document's tree (`outline::outline`, which documentSymbol answers from; `analyze_tree`'s
//! walks read a flat copy of the tree instead, see `flat`).
//!
//! A walk reads its nodes' children. tree-sitter's API offers two ways, both
//! costly for this: `Node::named_child(i)` walks the children from the first again on each
//! call (reading all of them is quadratic), and a `TreeCursor` takes a call per step and one
//! more to build each node. `Children` lists them as a cursor visits them (visible children in
//! order, those of hidden children in their place) with one call that reads the parent's child
//! array once, and can give each child's field id as the cursor would.

use tree_sitter::ffi::TSNode;
use tree_sitter::Node;

unsafe extern "C" {
    fn tandem_ts_children(
        node: TSNode,
        named_only: bool,
        skip: u16,
        out: *mut TSNode,
        fields: *mut u16,
        cap: u32,
        stop_at_cap: bool,
        max_depth: u32,
    ) -> u32;
}

/// How deep in hidden nodes the listing goes before it leaves the node to a cursor (see
/// `children.c`); hidden nodes in real trees are a few deep.
const MAX_HIDDEN_DEPTH: u32 = 64;

/// Reusable buffers for listing children (one per walk: listing allocates only when a node
/// has more children than any before it).
pub(crate) struct Children {
    raw: Vec<TSNode>,
    fields: Vec<u16>,
    max_depth: u32,
}

impl Default for Children {
    fn default() -> Self {
        Children {
            raw: Vec::new(),
            fields: Vec::new(),
            max_depth: MAX_HIDDEN_DEPTH,
        }
    }
}

/// Which children to list: named ones only when `named_only`, none of kind `skip` (0 skips
/// none), with their field ids when `fielded`, at most `limit` of them.
#[derive(Clone, Copy)]
struct Want {
    named_only: bool,
    skip: u16,
    fielded: bool,
    limit: Option<u32>,
}

impl Want {
    fn plain(named_only: bool, skip: u16, limit: Option<u32>) -> Want {
        Want {
            named_only,
            skip,
            fielded: false,
            limit,
        }
    }
}

impl Children {
    /// Fills the buffers with the children of `node` that `want` asks for; returns how many.
    fn list(&mut self, node: Node<'_>, want: Want) -> usize {
        let Want {
            named_only,
            skip,
            fielded,
            limit,
        } = want;
        let raw = node.into_raw();
        // With a limit the listing stops there; without, it fills what the buffer holds and
        // says how much more it needs.
        let mut cap = limit.unwrap_or_else(|| (self.raw.capacity() as u32).max(16));
        loop {
            self.raw.clear();
            self.raw.reserve(cap as usize);
            if fielded {
                self.fields.clear();
                self.fields.reserve(cap as usize);
            }
            let fields = if fielded {
                self.fields.as_mut_ptr()
            } else {
                std::ptr::null_mut()
            };
            // SAFETY: `raw` is a node of a live tree (the borrow `'t` of the callers keeps it
            // alive); `out` and `fields` have room for `cap` entries, and the function writes
            // at most `cap` of each.
            let count = unsafe {
                tandem_ts_children(
                    raw,
                    named_only,
                    skip,
                    self.raw.as_mut_ptr(),
                    fields,
                    cap,
                    limit.is_some(),
                    self.max_depth,
                )
            };
            if count == u32::MAX {
                return self.list_by_cursor(node, want);
            }
            if count <= cap {
                // SAFETY: the function wrote the first `count` entries.
                unsafe {
                    self.raw.set_len(count as usize);
                    if fielded {
                        self.fields.set_len(count as usize);
                    }
                }
                return count as usize;
            }
            cap = count;
        }
    }

    /// `list` with a cursor, for a node whose hidden descendants are nested too deep.
    fn list_by_cursor(&mut self, node: Node<'_>, want: Want) -> usize {
        self.raw.clear();
        self.fields.clear();
        let mut cursor = node.walk();
        if cursor.goto_first_child() {
            loop {
                let child = cursor.node();
                if (!want.named_only || child.is_named()) && child.kind_id() != want.skip {
                    self.raw.push(child.into_raw());
                    if want.fielded {
                        self.fields
                            .push(cursor.field_id().map_or(0, std::num::NonZeroU16::get));
                    }
                    if want.limit.is_some_and(|l| self.raw.len() >= l as usize) {
                        break;
                    }
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
        let n = self.list(node, Want::plain(named_only, skip, None));
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
    /// library of the machine's `python3`. Ignored: 88 s for the standard library here with
    /// `cargo test --release -p tandem --lib analysis::children -- --include-ignored`.
    #[test]
    #[ignore]
    fn children_agree_with_the_cursor_on_a_corpus() {
        for path in crate::analysis::flat::tests::corpus_files("TANDEM_CHILDREN_CORPUS") {
            if let Ok(source) = std::fs::read_to_string(&path) {
                agrees_with_the_cursor(&source);
            }
        }
    }
}
