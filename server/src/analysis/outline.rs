//! The outline of a Python module: its classes, functions and methods with their signatures,
//! decorators, docstrings and body shapes, read from a tree-sitter tree.
//!
//! All ranges are byte ranges into the source the tree was parsed from; converting them to
//! line and column is the job of `session::position`.

use std::ops::Range;

use serde::Serialize;
use tree_sitter::Tree;

/// What a symbol of the outline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolKind {
    Class,
    /// A function at module level or nested in another function.
    Function,
    /// A function defined directly in a class body.
    Method,
}

/// How a parameter binds arguments, in the order Python requires them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterKind {
    /// Before a `/` marker.
    PositionalOnly,
    /// Positional or keyword.
    Normal,
    /// `*args`.
    VarPositional,
    /// After `*` or `*args`.
    KeywordOnly,
    /// `**kwargs`.
    VarKeyword,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parameter {
    /// The name without `*` or `**`.
    pub name: String,
    pub kind: ParameterKind,
    /// The annotation's source text, e.g. `dict[str, int] | None`.
    pub annotation: Option<String>,
    /// The default value's source text, e.g. `None` or `"utf-8"`.
    pub default: Option<String>,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    pub parameters: Vec<Parameter>,
    /// The return annotation's source text.
    pub returns: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Docstring {
    /// The string's value with quotes and prefix removed and indentation cleaned as
    /// `inspect.cleandoc` does. Escape sequences are kept as written.
    pub text: String,
    /// The range of the string literal, quotes and prefix included.
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Symbol {
    pub name: String,
    /// Dotted path from the module, e.g. `shop.cart.Cart.add`; nested functions use their
    /// enclosing function's path (`pkg.mod.outer.inner`).
    pub qualified_name: String,
    pub kind: SymbolKind,
    pub is_async: bool,
    /// The whole definition, decorators included.
    pub range: Range<usize>,
    /// The identifier after `def` or `class`.
    pub name_range: Range<usize>,
    /// Present for functions and methods.
    pub signature: Option<Signature>,
    /// For classes, the base-class and keyword arguments as written (`Base`, `metaclass=M`).
    pub bases: Vec<String>,
    /// Each decorator's expression text without the `@`, e.g. `functools.lru_cache(maxsize=2)`.
    pub decorators: Vec<String>,
    pub docstring: Option<Docstring>,
    /// The block after the colon (for a one-line `def f(): return 1`, the statement after it).
    pub body_range: Range<usize>,
    /// The body is only `pass`, `...`, `raise NotImplementedError[(...)]` or a docstring,
    /// optionally a docstring followed by one of the others.
    pub is_stub: bool,
    pub children: Vec<Symbol>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outline {
    /// The dotted module name the outline was built for (may be empty).
    pub module: String,
    pub docstring: Option<Docstring>,
    pub symbols: Vec<Symbol>,
    /// Byte ranges of syntax errors; the outline still holds whatever could be read.
    pub syntax_errors: Vec<Range<usize>>,
}

/// Builds the outline of `source`, which `tree` was parsed from. `module` prefixes qualified
/// names (pass `""` for none).
pub fn outline(tree: &Tree, source: &str, module: &str) -> Outline {
    let _ = (tree, source);
    Outline {
        module: module.to_string(),
        docstring: None,
        symbols: Vec::new(),
        syntax_errors: Vec::new(),
    }
}
