//! Parsing Python with tree-sitter.
//!
//! A `tree_sitter::Parser` is not `Sync` and costs a little to set up, so each thread keeps
//! one in a thread-local. Parsing never fails for a valid language: tree-sitter recovers from
//! syntax errors with `ERROR` and `MISSING` nodes, which `syntax_errors` reports.

use std::cell::RefCell;
use std::ops::Range;

use ropey::Rope;
use tree_sitter::{Language, Node, Parser, Tree};

/// The tree-sitter grammar for Python.
pub fn python_language() -> Language {
    tree_sitter_python::LANGUAGE.into()
}

/// A node's kind id: tree-sitter's nodes and those of a flat copy of a tree
/// (`flat::FlatTree`) alike.
pub trait KindId {
    fn node_kind_id(&self) -> u16;
}

impl KindId for Node<'_> {
    #[inline]
    fn node_kind_id(&self) -> u16 {
        self.kind_id()
    }
}

impl KindId for crate::analysis::flat::FNode<'_> {
    #[inline]
    fn node_kind_id(&self) -> u16 {
        self.kind_id()
    }
}

/// `Node::kind` read from a table built once: `Node::kind` measures and checks the grammar's C
/// string on every call, which shows in walks that ask it of every node.
pub trait KindStr {
    fn kind_str(&self) -> &'static str;
}

impl<N: KindId> KindStr for N {
    fn kind_str(&self) -> &'static str {
        static LANGUAGE: std::sync::OnceLock<Language> = std::sync::OnceLock::new();
        static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
        let names = NAMES.get_or_init(|| {
            let language = LANGUAGE.get_or_init(python_language);
            (0..language.node_kind_count() as u16)
                .map(|id| language.node_kind_for_id(id).unwrap_or(""))
                .collect()
        });
        let id = self.node_kind_id();
        // `ERROR` nodes have ids past the table's end (`u16::MAX`); the grammar names them.
        names
            .get(usize::from(id))
            .copied()
            .or_else(|| LANGUAGE.get_or_init(python_language).node_kind_for_id(id))
            .unwrap_or("")
    }
}

/// A table from node kind id to `classify(kind name)`, built once, for walks that dispatch on
/// the kind of every node: indexing it costs less than comparing `kind_str` with one string
/// after another.
pub struct KindTable<K> {
    kinds: Box<[K]>,
    /// The class of `ERROR` nodes, whose id (`u16::MAX`) is past the table's end.
    error: K,
}

impl<K: Copy> KindTable<K> {
    pub fn new(classify: impl Fn(&str) -> K) -> Self {
        let language = python_language();
        KindTable {
            kinds: (0..language.node_kind_count() as u16)
                .map(|id| classify(language.node_kind_for_id(id).unwrap_or("")))
                .collect(),
            error: classify("ERROR"),
        }
    }

    /// The class of `node`'s kind.
    #[inline]
    pub fn get(&self, node: impl KindId) -> K {
        self.kinds
            .get(usize::from(node.node_kind_id()))
            .copied()
            .unwrap_or(self.error)
    }
}

thread_local! {
    static PARSER: RefCell<Parser> = RefCell::new(new_parser());
}

fn new_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&python_language())
        .expect("the bundled tree-sitter-python grammar matches the tree-sitter ABI");
    parser
}

fn with_parser<T>(f: impl FnOnce(&mut Parser) -> T) -> T {
    PARSER.with(|cell| {
        // A parse that panicked (it should not) could leave the parser mid-parse: reset it.
        let mut parser = cell.borrow_mut();
        parser.reset();
        f(&mut parser)
    })
}

/// Parses `text` from scratch, or incrementally when `old` is a tree already edited with
/// `Tree::edit` to match `text`.
pub fn parse_str(text: &str, old: Option<&Tree>) -> Tree {
    with_parser(|parser| parser.parse(text, old))
        .expect("tree-sitter returns a tree when a language is set and no cancellation is asked")
}

/// Parses the text of a rope, reading it chunk by chunk without copying it into one string.
pub fn parse_rope(rope: &Rope, old: Option<&Tree>) -> Tree {
    let len = rope.len_bytes();
    with_parser(|parser| {
        parser.parse_with_options(
            &mut |offset: usize, _| -> &[u8] {
                if offset >= len {
                    return &[];
                }
                let (chunk, chunk_start, _, _) = rope.chunk_at_byte(offset);
                &chunk.as_bytes()[offset - chunk_start..]
            },
            old,
            None,
        )
    })
    .expect("tree-sitter returns a tree when a language is set and no cancellation is asked")
}

/// Byte ranges of the syntax errors in a tree: `ERROR` nodes and nodes tree-sitter inserted as
/// `MISSING`. Nested errors inside an error are not reported again.
pub fn syntax_errors(tree: &Tree) -> Vec<Range<usize>> {
    let mut errors = Vec::new();
    if !tree.root_node().has_error() {
        return errors;
    }
    collect_errors(tree.root_node(), &mut errors);
    errors
}

fn collect_errors(node: Node<'_>, out: &mut Vec<Range<usize>>) {
    // An explicit stack instead of recursion: deeply nested input must not overflow the stack.
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            out.push(node.byte_range());
            continue;
        }
        if !node.has_error() {
            continue;
        }
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out.sort_by_key(|r| (r.start, r.end));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_str_is_node_kind_for_every_node_errors_included() {
        let text = "@d\nclass A(B, metaclass=M):\n    def f(self, *a, **k) -> 'X':\n        return [y async for y in z if (w := y)] + f'{a!r:>{k}}'\ndef g(:\n    x = = 1\nmatch p:\n    case {'k': [1, *r]}: pass\n";
        let tree = parse_str(text, None);
        let mut cursor = tree.walk();
        let mut seen = 0;
        let mut errors = 0;
        loop {
            let node = cursor.node();
            assert_eq!(node.kind_str(), node.kind(), "{node:?}");
            seen += 1;
            errors += usize::from(node.kind() == "ERROR");
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    assert!(seen > 100 && errors > 0, "{seen} nodes, {errors} errors");
                    return;
                }
            }
        }
    }

    #[test]
    fn kind_table_classifies_every_node_by_its_kind_errors_included() {
        let names = [
            "identifier",
            "ERROR",
            "string",
            "call",
            "class_definition",
            "module",
        ];
        let class = |name: &str| names.iter().position(|n| *n == name);
        let table = KindTable::new(class);
        let text = "class A(B):\n    def f(self, *a) -> 'X':\n        return f'{a!r}'\ndef g(:\n    x = = 1\n";
        let tree = parse_str(text, None);
        let mut cursor = tree.walk();
        let mut errors = 0;
        loop {
            let node = cursor.node();
            assert_eq!(table.get(node), class(node.kind()), "{node:?}");
            errors += usize::from(node.is_error());
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    assert!(errors > 0);
                    return;
                }
            }
        }
    }

    #[test]
    fn parses_valid_python_without_errors() {
        let tree = parse_str("def f(x):\n    return x\n", None);
        assert_eq!(tree.root_node().kind(), "module");
        assert!(syntax_errors(&tree).is_empty());
    }

    #[test]
    fn reports_syntax_errors_with_ranges() {
        let text = "def f(:\n    pass\n";
        let tree = parse_str(text, None);
        let errors = syntax_errors(&tree);
        assert!(!errors.is_empty());
        assert!(errors.iter().all(|r| r.end <= text.len()));
    }

    #[test]
    fn rope_and_string_parses_agree() {
        let text = "class A:\n    def m(self):\n        return 'é😀'\n".repeat(200);
        let rope = Rope::from_str(&text);
        let a = parse_str(&text, None);
        let b = parse_rope(&rope, None);
        assert_eq!(a.root_node().to_sexp(), b.root_node().to_sexp());
    }
}
