//! An outline as the index keeps it once packed: its fields written one after another into
//! one byte buffer (integers as LEB128 varints, strings as length and bytes), then compressed
//! with LZ4. `unpack` gives back an equal `Outline`.
//!
//! An `Outline` is a tree of 264-byte `Symbol`s with a string allocation per name, qualified
//! name, parameter, annotation and docstring; the standard library's outlines took 41 MB that
//! way (jemalloc's `stats.allocated` before and after dropping them, a probe not kept), and
//! the index holds all of them for as long as it lives while reading them only now and then
//! (the repo map, the project rules, an editor request about one file). Packed, they take
//! 4.4 MB, for 30 ms of one core's time to pack them all and 26 ms to unpack them all (the
//! ignored test `index::packing_a_corpus`).

use std::ops::Range;

use crate::analysis::outline::{
    Docstring, Outline, Parameter, ParameterKind, Signature, Symbol, SymbolKind,
};

/// How deeply the reader follows children: the outline stops listing definitions at
/// `outline::MAX_SYMBOL_DEPTH`, so a deeper tree can only come from a damaged buffer.
const MAX_DEPTH: usize = crate::analysis::outline::MAX_SYMBOL_DEPTH + 1;

#[derive(Clone)]
pub struct PackedOutline {
    /// The LZ4 block of the encoded outline.
    bytes: Box<[u8]>,
    /// The length of the encoded outline before compression.
    len: usize,
}

impl PackedOutline {
    pub fn pack(outline: &Outline) -> PackedOutline {
        let mut w = Writer(Vec::new());
        w.outline(outline);
        PackedOutline {
            bytes: lz4_flex::block::compress(&w.0).into_boxed_slice(),
            len: w.0.len(),
        }
    }

    /// The outline. The buffer is this module's own output and never changes, so reading it
    /// cannot fail short of memory corruption; an empty outline is still better than a panic
    /// in a request handler.
    pub fn unpack(&self) -> Outline {
        let outline = lz4_flex::block::decompress(&self.bytes, self.len)
            .ok()
            .and_then(|bytes| Reader { bytes: &bytes }.outline());
        outline.unwrap_or_else(|| {
            tracing::error!("a stored outline could not be unpacked");
            Outline {
                module: String::new(),
                docstring: None,
                symbols: Vec::new(),
                syntax_errors: Vec::new(),
            }
        })
    }

    /// Bytes held, for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.len()
    }
}

impl std::fmt::Debug for PackedOutline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedOutline")
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn uint(&mut self, mut v: usize) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn str(&mut self, s: &str) {
        self.uint(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.uint(0),
            Some(s) => {
                self.uint(s.len() + 1);
                self.0.extend_from_slice(s.as_bytes());
            }
        }
    }

    /// A range as its length (shifted left by one) and start; a reversed range, or one too
    /// long for the shift, as a 1, its start and its end.
    fn range(&mut self, r: &Range<usize>) {
        if r.end >= r.start && r.end - r.start <= usize::MAX >> 1 {
            self.uint((r.end - r.start) << 1);
            self.uint(r.start);
        } else {
            self.uint(1);
            self.uint(r.start);
            self.uint(r.end);
        }
    }

    fn docstring(&mut self, d: Option<&Docstring>) {
        match d {
            None => self.uint(0),
            Some(d) => {
                self.uint(1);
                self.str(&d.text);
                self.range(&d.range);
            }
        }
    }

    /// A count, then each item.
    fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Self, &T)) {
        self.uint(items.len());
        for item in items {
            each(self, item);
        }
    }

    fn outline(&mut self, o: &Outline) {
        self.str(&o.module);
        self.docstring(o.docstring.as_ref());
        self.list(&o.syntax_errors, Self::range);
        self.list(&o.symbols, Self::symbol);
    }

    fn parameter(&mut self, p: &Parameter) {
        self.uint(match p.kind {
            ParameterKind::PositionalOnly => 0,
            ParameterKind::Normal => 1,
            ParameterKind::VarPositional => 2,
            ParameterKind::KeywordOnly => 3,
            ParameterKind::VarKeyword => 4,
        });
        self.str(&p.name);
        self.opt_str(p.annotation.as_deref());
        self.opt_str(p.default.as_deref());
        self.range(&p.range);
    }

    fn symbol(&mut self, s: &Symbol) {
        let kind = match s.kind {
            SymbolKind::Class => 0,
            SymbolKind::Function => 1,
            SymbolKind::Method => 2,
        };
        let flags = kind
            | usize::from(s.is_async) << 2
            | usize::from(s.is_stub) << 3
            | usize::from(s.signature.is_some()) << 4;
        self.uint(flags);
        self.str(&s.name);
        self.str(&s.qualified_name);
        self.range(&s.range);
        self.range(&s.name_range);
        self.range(&s.body_range);
        if let Some(sig) = &s.signature {
            self.list(&sig.parameters, Self::parameter);
            self.opt_str(sig.returns.as_deref());
        }
        self.list(&s.bases, |w, b| w.str(b));
        self.list(&s.decorators, |w, d| w.str(d));
        self.docstring(s.docstring.as_ref());
        self.list(&s.children, Self::symbol);
    }
}

/// Reads what `Writer` wrote; `None` on anything else (never panics, allocates no more than
/// the buffer's length allows).
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn uint(&mut self) -> Option<usize> {
        let mut v = 0usize;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.bytes.split_first()?;
            self.bytes = rest;
            v |= ((b & 0x7f) as usize).checked_shl(shift)?;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    /// A count of items that take at least one byte each.
    fn count(&mut self) -> Option<usize> {
        self.uint().filter(|&n| n <= self.bytes.len())
    }

    fn raw(&mut self, len: usize) -> Option<String> {
        if len > self.bytes.len() {
            return None;
        }
        let (s, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        String::from_utf8(s.to_vec()).ok()
    }

    fn str(&mut self) -> Option<String> {
        let len = self.uint()?;
        self.raw(len)
    }

    fn opt_str(&mut self) -> Option<Option<String>> {
        match self.uint()? {
            0 => Some(None),
            n => self.raw(n - 1).map(Some),
        }
    }

    fn range(&mut self) -> Option<Range<usize>> {
        let first = self.uint()?;
        let start = self.uint()?;
        if first & 1 == 0 {
            Some(start..start.checked_add(first >> 1)?)
        } else {
            Some(start..self.uint()?)
        }
    }

    fn docstring(&mut self) -> Option<Option<Docstring>> {
        match self.uint()? {
            0 => Some(None),
            1 => Some(Some(Docstring {
                text: self.str()?,
                range: self.range()?,
            })),
            _ => None,
        }
    }

    /// A count, then each item; `None` if any item is.
    fn list<T>(&mut self, mut each: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let n = self.count()?;
        (0..n).map(|_| each(self)).collect()
    }

    fn outline(&mut self) -> Option<Outline> {
        let module = self.str()?;
        let docstring = self.docstring()?;
        let syntax_errors = self.list(Self::range)?;
        let symbols = self.symbols(0)?;
        self.bytes.is_empty().then_some(Outline {
            module,
            docstring,
            symbols,
            syntax_errors,
        })
    }

    fn symbols(&mut self, depth: usize) -> Option<Vec<Symbol>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.list(|r| r.symbol(depth))
    }

    fn parameter(&mut self) -> Option<Parameter> {
        let kind = match self.uint()? {
            0 => ParameterKind::PositionalOnly,
            1 => ParameterKind::Normal,
            2 => ParameterKind::VarPositional,
            3 => ParameterKind::KeywordOnly,
            4 => ParameterKind::VarKeyword,
            _ => return None,
        };
        Some(Parameter {
            kind,
            name: self.str()?,
            annotation: self.opt_str()?,
            default: self.opt_str()?,
            range: self.range()?,
        })
    }

    fn symbol(&mut self, depth: usize) -> Option<Symbol> {
        let flags = self.uint()?;
        let kind = match flags & 3 {
            0 => SymbolKind::Class,
            1 => SymbolKind::Function,
            2 => SymbolKind::Method,
            _ => return None,
        };
        let name = self.str()?;
        let qualified_name = self.str()?;
        let range = self.range()?;
        let name_range = self.range()?;
        let body_range = self.range()?;
        let signature = if flags & 16 != 0 {
            let parameters = self.list(Self::parameter)?;
            Some(Signature {
                parameters,
                returns: self.opt_str()?,
            })
        } else {
            None
        };
        Some(Symbol {
            name,
            qualified_name,
            kind,
            is_async: flags & 4 != 0,
            range,
            name_range,
            signature,
            bases: self.list(Self::str)?,
            decorators: self.list(Self::str)?,
            docstring: self.docstring()?,
            body_range,
            is_stub: flags & 8 != 0,
            children: self.symbols(depth + 1)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::outline::outline;
    use crate::analysis::parse::parse_str;

    fn roundtrip(source: &str) -> Outline {
        let tree = parse_str(source, None);
        let o = outline(&tree, source, "pkg.mod");
        let packed = PackedOutline::pack(&o);
        let back = packed.unpack();
        assert_eq!(back, o);
        o
    }

    #[test]
    fn every_field_of_an_outline_survives_packing() {
        let source = r#""""Module döc."""
import functools

class Größe(Base, metaclass=Meta):
    """A class.

    More text 😀.
    """
    @functools.lru_cache(maxsize=2)
    async def run(self, a, /, b: int = 1, *args: str, c=None, **kw) -> "dict[str, int]":
        """Run."""
        def inner(x=lambda: 0):
            pass
        return inner

    @property
    def stub(self): ...

def broken(:
    pass
"#;
        let o = roundtrip(source);
        // The source covers what the codec has to carry.
        let class = &o.symbols[0];
        assert_eq!(class.name, "Größe");
        assert!(!class.bases.is_empty());
        let run = &class.children[0];
        assert!(run.is_async);
        assert!(!run.decorators.is_empty());
        let sig = run.signature.as_ref().unwrap();
        assert_eq!(sig.parameters.len(), 6);
        assert!(sig.returns.is_some());
        assert!(sig.parameters.iter().any(|p| p.default.is_some()));
        assert!(sig.parameters.iter().any(|p| p.annotation.is_some()));
        assert!(!run.children.is_empty());
        assert!(class.children.iter().any(|s| s.is_stub));
        assert!(o.docstring.is_some());
        assert!(!o.syntax_errors.is_empty());
    }

    #[test]
    fn empty_and_reversed_ranges_survive_packing() {
        let o = Outline {
            module: String::new(),
            docstring: None,
            symbols: vec![],
            // A reversed range is not something the outline makes, but it must not be lost.
            #[allow(clippy::reversed_empty_ranges)]
            syntax_errors: vec![5..5, 9..3, 0..usize::MAX],
        };
        assert_eq!(PackedOutline::pack(&o).unpack(), o);
        roundtrip("");
    }

    #[test]
    fn a_damaged_buffer_gives_an_empty_outline_not_a_panic() {
        let source = "class A:\n    def f(self, x=1):\n        '''Doc.'''\n".repeat(20);
        let tree = parse_str(&source, None);
        let o = outline(&tree, &source, "m");
        let mut w = Writer(Vec::new());
        w.outline(&o);
        let encoded = w.0;
        for cut in [0, 1, encoded.len() / 2, encoded.len() - 1] {
            let r = Reader {
                bytes: &encoded[..cut],
            }
            .outline();
            assert!(r.is_none(), "cut at {cut}");
        }
        let mut flipped = encoded.clone();
        for b in flipped.iter_mut().step_by(7) {
            *b ^= 0x5a;
        }
        // Whatever it reads, it does not panic (and usually rejects the buffer).
        let _ = Reader { bytes: &flipped }.outline();
        let packed = PackedOutline {
            bytes: vec![0xff; 16].into_boxed_slice(),
            len: 1000,
        };
        assert!(packed.unpack().symbols.is_empty());
    }
}
