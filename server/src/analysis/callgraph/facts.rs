//! What the solver needs from one module, computed from that module alone.
//!
//! A module becomes a small constraint program over *nodes* (sets of abstract values: the
//! variables, temporaries, parameters, returns and attributes of the module) plus tables of its
//! definitions, call sites and static bindings. Everything is numbered locally (nodes, strings,
//! definitions, call sites, allocation sites), so the facts of one file can be computed in
//! parallel with others, cached, and compared with the facts of the previous version of the
//! file. No tree and no source text is kept: a fact is a few integers.
//!
//! Local variables are in SSA-like form: each assignment makes a new version node and each read
//! sees the versions that reach it (branches merge into phi nodes, loops feed their later
//! definitions back to their head). Reads from other scopes, modules and attribute lookups see
//! the union of all versions, because they may run at any time.

use std::ops::Range;

use super::util::StringTable;

/// A node of the module's constraint program (a set of abstract values).
pub(crate) type NodeId = u32;
/// A string in the module's string table.
pub(crate) type Sym = u32;
/// A definition (module, class, function, lambda) of the module; 0 is the module itself.
pub(crate) type DefIdx = u32;
/// A call site (or other place that causes calls) of the module.
pub(crate) type SiteIdx = u32;
/// An allocation site of a container literal or comprehension.
pub(crate) type AllocIdx = u32;

/// Kinds of interface nodes, in their canonical order.
pub(crate) const IF_RET: u8 = 0;
pub(crate) const IF_PARAM: u8 = 1;
pub(crate) const IF_YIELDS: u8 = 2;
/// The union of a variable's values (a module global, a class attribute, a variable of a
/// function read by nested functions).
pub(crate) const IF_ALL: u8 = 3;
/// Values written to a variable from another scope (`global`, `nonlocal`).
pub(crate) const IF_REMOTE: u8 = 4;

/// "No node": an expression that cannot hold any value the analysis tracks.
pub(crate) const NONE: u32 = u32::MAX;

/// A literal value. Strings and small integers are kept exactly because they select dictionary
/// entries, list elements and `getattr` attributes; everything else is only a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Const {
    Str(Sym),
    StrAny,
    Int(i32),
    IntAny,
    Float,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ContainerKind {
    List,
    Tuple,
    Dict,
    Set,
}

/// The key of a subscript.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// A literal key: selects one entry.
    Const(Const),
    /// Whatever constants flow to the node select entries; anything else selects all.
    Node(NodeId),
    /// Any entry (a computed key such as `i + 1`).
    Unknown,
}

/// An argument of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Arg {
    Pos(NodeId),
    Kw(Sym, NodeId),
    Star(NodeId),
    KwStar(NodeId),
}

/// Call flags.
pub(crate) const CALL_DECORATOR: u8 = 1;

/// A call keeps its first `MAX_CALL_ARGS` arguments (its count is 16 bits, which keeps an
/// `Op` at 24 bytes); values passed in later ones flow nowhere. CPython itself has no limit,
/// but no written call comes near it.
pub(crate) const MAX_CALL_ARGS: usize = u16::MAX as usize;

/// A slice bound read from an integer literal, or none (`a[1:]`'s upper bound), in four bytes:
/// an `Option<i32>` takes eight, which made every `Op` 32 bytes rather than 24 (an `Op` is
/// the largest part of a module's facts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Bound(i32);

impl Bound {
    pub(crate) const NONE: Bound = Bound(i32::MIN);

    /// `Some(i32::MIN)` becomes `Some(i32::MIN + 1)`: no container the analysis tracks the
    /// entries of is long enough for the two to select differently.
    pub(crate) fn new(b: Option<i32>) -> Bound {
        b.map_or(Bound::NONE, |v| Bound(v.max(i32::MIN + 1)))
    }

    pub(crate) fn get(self) -> Option<i32> {
        (self != Bound::NONE).then_some(self.0)
    }
}

/// One constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    /// `dst ∋ constant`.
    Const { dst: NodeId, c: Const },
    /// `dst ∋ the function or class defined by def`.
    Def { dst: NodeId, def: DefIdx },
    /// `dst ∋ self` (an instance of `class` or of any subclass) or, with `cls`, the class
    /// itself or any subclass.
    SelfOf {
        dst: NodeId,
        class: DefIdx,
        cls: bool,
    },
    /// `dst ∋ a new container`.
    Alloc {
        dst: NodeId,
        kind: ContainerKind,
        alloc: AllocIdx,
    },
    /// `dst ⊇ src`.
    Copy { dst: NodeId, src: NodeId },
    /// `dst ⊇ src` without literal values (results of arithmetic keep containers and objects).
    CopyObj { dst: NodeId, src: NodeId },
    /// `dst ⊇ base.attr`.
    Load {
        dst: NodeId,
        base: NodeId,
        attr: Sym,
        site: SiteIdx,
    },
    /// `base.attr ⊇ src`.
    Store {
        base: NodeId,
        attr: Sym,
        src: NodeId,
    },
    /// `dst ⊇ base[key]`; `unpack` marks tuple unpacking, which does not call `__getitem__`.
    SubLoad {
        dst: NodeId,
        base: NodeId,
        key: Key,
        site: SiteIdx,
        unpack: bool,
    },
    /// `base[key] ⊇ src`.
    SubStore {
        base: NodeId,
        key: Key,
        src: NodeId,
        site: SiteIdx,
    },
    /// `dst ∋ base[lo:hi]`, a new container holding the selected elements.
    Slice {
        dst: NodeId,
        base: NodeId,
        lo: Bound,
        hi: Bound,
        alloc: AllocIdx,
    },
    /// `dst ⊇ every element value of the containers in src` (`*x`, `**x`).
    Elems { dst: NodeId, src: NodeId },
    /// A call. `args` indexes `ModuleFacts::args`. `aux` is, for a zero-argument `super()`
    /// call, the class whose method contains it; for a decorator, the definition it decorates
    /// (or NONE).
    Call {
        site: SiteIdx,
        callee: NodeId,
        args_start: u32,
        /// At most `MAX_CALL_ARGS`.
        args_len: u16,
        dst: NodeId,
        flags: u8,
        aux: DefIdx,
    },
    /// `raise src`: raising a class constructs it.
    Raise { site: SiteIdx, src: NodeId },
    /// `dst ⊇ iter(src)`.
    IterStart {
        site: SiteIdx,
        src: NodeId,
        dst: NodeId,
    },
    /// `dst ⊇ next(src)`.
    IterNext {
        site: SiteIdx,
        src: NodeId,
        dst: NodeId,
    },
    /// `with src as dst`.
    With {
        site: SiteIdx,
        src: NodeId,
        dst: NodeId,
    },
    /// `dst ∋ module` (`import a.b` binds `a` when `top`; `import a.b as c` binds `a.b`), or
    /// `dst ∋ module.attr` (`from module import attr`).
    Import {
        dst: NodeId,
        module: Sym,
        attr: Sym,
        top: bool,
    },
    /// `dst ⊇ name` for a name the module never binds: from its star imports, else a builtin.
    Fallback { dst: NodeId, name: Sym },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DefKind {
    Module,
    Class,
    Function,
    Lambda,
}

/// How a function defined in a class body binds when looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum MethodKind {
    /// Not defined in a class body.
    None,
    Instance,
    Static,
    Class,
    /// `@property` (or a decorator named like one): reading the attribute calls it.
    Property,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ParamKind {
    Positional,
    VarArgs,
    KeywordOnly,
    VarKeywords,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ParamFact {
    pub name: Sym,
    pub node: NodeId,
    pub kind: ParamKind,
    /// For `*args` and `**kwargs`: the container allocated for them.
    pub alloc: AllocIdx,
}

/// A name or dotted path as written (`Base`, `models.Model`), resolvable without solving.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct StaticRef {
    /// The scope the expression appears in.
    pub scope: DefIdx,
    pub path: Box<[Sym]>,
}

/// How a name of a scope is bound, when that can be told from the syntax alone. Used to find
/// base classes before solving (class hierarchies must be known to look attributes up).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum StaticBinding {
    Def(DefIdx),
    Import { module: Sym, attr: Sym, top: bool },
    Alias(StaticRef),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct DefFact {
    pub kind: DefKind,
    /// The dotted name, e.g. `pkg.mod.Class.method`, `pkg.mod.f.<lambda1>`.
    pub qualname: Box<str>,
    /// The enclosing definition (NONE for the module).
    pub parent: DefIdx,
    pub range: (u32, u32),
    pub name_range: (u32, u32),
    pub method: MethodKind,
    /// For a function defined in a class body, that class.
    pub class: DefIdx,
    pub params: Vec<ParamFact>,
    pub ret: NodeId,
    /// NONE unless the function is a generator.
    pub yields: NodeId,
    pub is_async: bool,
    /// The definition has decorators.
    pub decorated: bool,
    /// The definition's own nodes, ops, call sites and allocation sites (nested definitions
    /// not included): contiguous ranges, see `extract::canonical_layout`.
    pub body: (NodeId, NodeId),
    pub ops: (u32, u32),
    pub sites: (u32, u32),
    pub allocs: (u32, u32),
    /// Static bindings of names in this scope, sorted by name.
    pub statics: Vec<(Sym, StaticBinding)>,
    /// What only classes have; none when all of it is empty (so that equal facts compare
    /// equal). Use the accessors below.
    class_parts: Option<Box<ClassParts>>,
}

/// The parts of a definition only a class has, behind a pointer: about one definition in
/// eight is a class, and `DefFact` went from 232 to 144 bytes without them inline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct ClassParts {
    /// Base class expressions, as nodes and, when plain names, as static refs.
    pub bases: Vec<NodeId>,
    pub base_refs: Vec<Option<StaticRef>>,
    /// Names bound in the class body and the node holding all their values, sorted by name.
    pub attrs: Vec<(Sym, NodeId)>,
    /// Attribute names the class's methods assign on `self`, sorted.
    pub self_attrs: Vec<Sym>,
}

impl ClassParts {
    fn is_empty(&self) -> bool {
        self.bases.is_empty()
            && self.base_refs.is_empty()
            && self.attrs.is_empty()
            && self.self_attrs.is_empty()
    }
}

impl DefFact {
    /// A definition whose body, parameters and bindings are filled in as extraction goes on.
    pub(crate) fn new(
        kind: DefKind,
        qualname: Box<str>,
        parent: DefIdx,
        range: (u32, u32),
        name_range: (u32, u32),
        ret: NodeId,
    ) -> Self {
        DefFact {
            kind,
            qualname,
            parent,
            range,
            name_range,
            method: MethodKind::None,
            class: NONE,
            params: Vec::new(),
            ret,
            yields: NONE,
            is_async: false,
            decorated: false,
            body: (0, 0),
            ops: (0, 0),
            sites: (0, 0),
            allocs: (0, 0),
            statics: Vec::new(),
            class_parts: None,
        }
    }

    /// Base class expressions (classes only), as nodes.
    pub(crate) fn bases(&self) -> &[NodeId] {
        self.class_parts.as_deref().map_or(&[], |c| &c.bases)
    }

    /// Base class expressions (classes only), when plain names, as static refs.
    pub(crate) fn base_refs(&self) -> &[Option<StaticRef>] {
        self.class_parts.as_deref().map_or(&[], |c| &c.base_refs)
    }

    /// Names bound in a class body and the node holding all their values, sorted by name.
    pub(crate) fn attrs(&self) -> &[(Sym, NodeId)] {
        self.class_parts.as_deref().map_or(&[], |c| &c.attrs)
    }

    /// Attribute names the class's methods assign on `self`, sorted (classes only).
    pub(crate) fn self_attrs(&self) -> &[Sym] {
        self.class_parts.as_deref().map_or(&[], |c| &c.self_attrs)
    }

    /// Changes the class parts; they are dropped again if `f` leaves them all empty.
    pub(crate) fn edit_class_parts(&mut self, f: impl FnOnce(&mut ClassParts)) {
        let mut parts = self.class_parts.take().unwrap_or_default();
        f(&mut parts);
        if !parts.is_empty() {
            self.class_parts = Some(parts);
        }
    }
}

/// A call site: where a call (or a decorator, `for`, `with`, `raise`) happens and in which
/// definition's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SiteFact {
    pub start: u32,
    pub end: u32,
    pub caller: DefIdx,
}

/// Everything the solver needs from one module, computed from that module alone: cheap to
/// keep (no tree, no source), computed in parallel by the caller, cached per file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleFacts {
    pub(crate) name: Box<str>,
    pub(crate) is_package: bool,
    pub(crate) strings: StringTable,
    pub(crate) num_nodes: u32,
    /// Nodes `0..interface_nodes` are the interface (parameters, returns, globals, class
    /// attributes, captured variables); the rest belong to one definition each.
    pub(crate) interface_nodes: u32,
    /// What each interface node is, in node order: (kind, definition, name for `IF_ALL` and
    /// `IF_REMOTE` or index for parameters). Lets versions of a module be matched by meaning.
    pub(crate) interface_keys: Vec<(u8, DefIdx, u32)>,
    pub(crate) num_allocs: u32,
    pub(crate) defs: Vec<DefFact>,
    pub(crate) ops: Vec<Op>,
    pub(crate) args: Vec<Arg>,
    pub(crate) sites: Vec<SiteFact>,
    /// Module-level names and the node holding all their values, sorted by name.
    pub(crate) globals: Vec<(Sym, NodeId)>,
    /// Absolute names of modules imported with `from m import *`, in order.
    pub(crate) star_imports: Vec<Sym>,
    /// The literal strings of `__all__`, if the module defines it.
    pub(crate) all_names: Option<Vec<Sym>>,
    /// Attribute loads merged into an earlier load of the same attribute (`simplify`): (the
    /// site of the load kept, the site of the load merged), sorted. Reading a property at
    /// the kept site also reads it at the merged ones.
    pub(crate) load_aliases: Vec<(SiteIdx, SiteIdx)>,
}

impl ModuleFacts {
    /// The dotted module name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_package(&self) -> bool {
        self.is_package
    }

    /// The dotted names the module's imports read, in order: each star import's module,
    /// `m` for `import m`, and `m.x` for `from m import x` (which reads `m`, and `m.x` if that
    /// is a module). A name read reads every package it lies in too (see `util::is_within`).
    pub(crate) fn imported_names(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
        let text = |s: Sym| self.strings.get(s as usize).unwrap_or("");
        let stars = self
            .star_imports
            .iter()
            .map(move |&s| std::borrow::Cow::Borrowed(text(s)));
        let imports = self.ops.iter().filter_map(move |op| {
            let Op::Import { module, attr, .. } = *op else {
                return None;
            };
            let module = text(module);
            Some(if attr == NONE {
                std::borrow::Cow::Borrowed(module)
            } else if module.is_empty() {
                std::borrow::Cow::Borrowed(text(attr))
            } else {
                std::borrow::Cow::Owned(format!("{module}.{}", text(attr)))
            })
        });
        stars.chain(imports)
    }

    /// How many definitions (classes, functions, lambdas) the module has, the module included.
    pub fn definition_count(&self) -> usize {
        self.defs.len()
    }

    /// Counts of what the facts hold, for benchmarks: (nodes, ops, copies, args, sites, defs,
    /// strings, string bytes).
    #[doc(hidden)]
    pub fn counts(&self) -> [usize; 8] {
        [
            self.num_nodes as usize,
            self.ops.len(),
            self.ops
                .iter()
                .filter(|o| matches!(o, Op::Copy { .. } | Op::CopyObj { .. }))
                .count(),
            self.args.len(),
            self.sites.len(),
            self.defs.len(),
            self.strings.len(),
            self.strings.iter().map(|s| s.len()).sum(),
        ]
    }

    /// A rough count of the bytes the facts occupy, for memory budgets.
    pub fn approximate_size(&self) -> usize {
        use std::mem::size_of;
        let strings: usize = self.strings.heap_bytes();
        let defs: usize = self
            .defs
            .iter()
            .map(|d| {
                size_of::<DefFact>()
                    + d.qualname.len()
                    + d.params.len() * size_of::<ParamFact>()
                    + d.class_parts.as_ref().map_or(0, |c| {
                        size_of::<ClassParts>()
                            + c.bases.len() * 4
                            + c.base_refs.len() * 24
                            + c.attrs.len() * 8
                            + c.self_attrs.len() * 4
                    })
                    + d.statics.len() * size_of::<(Sym, StaticBinding)>()
            })
            .sum();
        strings
            + defs
            + self.ops.len() * size_of::<Op>()
            + self.args.len() * size_of::<Arg>()
            + self.sites.len() * size_of::<SiteFact>()
            + self.globals.len() * 8
            + self.load_aliases.len() * 8
    }

    /// The sites of the loads merged into the load at `site` (see `load_aliases`).
    pub(crate) fn load_aliases_of(&self, site: SiteIdx) -> impl Iterator<Item = SiteIdx> + '_ {
        let start = self.load_aliases.partition_point(|a| a.0 < site);
        self.load_aliases[start..]
            .iter()
            .take_while(move |a| a.0 == site)
            .map(|a| a.1)
    }

    /// Calls `f` on every node the definitions and the module-level names hold (returns,
    /// yields, parameters, base-class expressions, class attributes, globals): the nodes the
    /// facts name outside their ops and call arguments.
    pub(crate) fn for_each_def_node_mut(&mut self, mut f: impl FnMut(&mut NodeId)) {
        for def in &mut self.defs {
            f(&mut def.ret);
            f(&mut def.yields);
            def.params.iter_mut().for_each(|p| f(&mut p.node));
            if let Some(c) = def.class_parts.as_deref_mut() {
                c.bases.iter_mut().for_each(&mut f);
                c.attrs.iter_mut().for_each(|a| f(&mut a.1));
            }
        }
        self.globals.iter_mut().for_each(|g| f(&mut g.1));
    }

    pub(crate) fn site_range(&self, site: SiteIdx) -> Range<usize> {
        self.sites
            .get(site as usize)
            .map_or(0..0, |s| s.start as usize..s.end as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ops are most of a module's facts (1.6 million of them for the standard library).
    #[test]
    fn an_op_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<Op>(), 24);
    }

    /// Definitions are the second largest part of the facts (75,000 for the standard library).
    #[test]
    fn a_definition_takes_144_bytes() {
        assert_eq!(std::mem::size_of::<DefFact>(), 144);
    }

    #[test]
    fn a_slice_bound_keeps_every_value_but_the_one_that_marks_none() {
        assert_eq!(Bound::new(None).get(), None);
        assert_eq!(Bound::new(Some(0)).get(), Some(0));
        assert_eq!(Bound::new(Some(-3)).get(), Some(-3));
        assert_eq!(Bound::new(Some(i32::MAX)).get(), Some(i32::MAX));
        assert_eq!(Bound::new(Some(i32::MIN)).get(), Some(i32::MIN + 1));
    }
}
