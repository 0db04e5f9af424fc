//! The whole-program solver: a flow-insensitive, inclusion-based points-to analysis over the
//! constraint programs of all modules (in the style of PyCG and Andersen's analysis), which
//! yields the call graph.
//!
//! Abstract values are functions, bound methods, classes, instances (one per class; `self`
//! stands for an instance of its class or any subclass), modules, builtins, external names,
//! literal constants, containers (one per allocation site, with one slot per literal key) and
//! generators. Nodes hold sets of value ids; simple constraints are copy edges, the others fire
//! on each new value of the node they watch (an attribute load on each new base object, a call
//! on each new callee) and add edges or values. Everything is a dense integer; the iteration
//! is a worklist that moves each value along each edge once, so the fixpoint costs about the
//! size of the final graph.
//!
//! Class hierarchies are resolved before solving from how base classes are written
//! (`imports.rs`): attribute lookup needs the method resolution order, and making it depend on
//! the solution would make the result depend on the order of solving.

use std::sync::Arc;

use super::builtins::{calls_its_arguments, is_builtin, BuiltinType};
use super::facts::*;
use super::util::{FxMap, FxSet, Interner};

pub(crate) const NO: u32 = u32::MAX;

/// A literal, with its string in the global string table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum GConst {
    Str(u32),
    StrAny,
    Int(i32),
    IntAny,
    Float,
}

impl GConst {
    fn exact(self) -> bool {
        matches!(self, GConst::Str(_) | GConst::Int(_))
    }
}

/// An abstract value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Value {
    Func(u32),
    /// A function reached through an instance or a class method: the first parameter is bound.
    Bound(u32),
    Class(u32),
    Inst(u32),
    /// `self` in a method of the class: an instance of it or of any subclass.
    SelfInst(u32),
    /// `cls` in a class method of the class: it or any subclass.
    SelfClass(u32),
    /// `super()` in a method of the class.
    Super(u32),
    /// A module or namespace package, by dotted name.
    Module(u32),
    Builtin(u32),
    /// A name from outside the program, by dotted name, with the number of attribute steps
    /// taken from the name as imported.
    External(u32, u8),
    /// A method of a builtin type, with the container it was read from (or NO).
    TypeMethod(BuiltinType, u32, u32),
    Const(GConst),
    Container(u32, ContainerKind),
    Generator(u32),
    /// Too many values to tell apart (see `MAX_VALUES`): calls and attribute reads on it find
    /// nothing.
    Top,
    /// What a function from outside the program returned: nothing is known of it, except that
    /// used as a decorator it leaves the decorated function in place.
    Opaque,
}

/// The id of `Value::Top` (interned first).
const TOP: u32 = 0;

/// The most values a node holds before it becomes `Top`. Context-insensitive analysis of a
/// large program makes a few hubs (a decorator's wrapper called with every function, a
/// `cached_property.__get__` returning every cached value) whose sets would grow to thousands of
/// values and flow everywhere; a call through such a node would get hundreds of callees that
/// say nothing, at a cost quadratic in the program's size.
const MAX_VALUES: usize = 256;

/// How values seen through an attribute are transformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BindMode {
    Plain,
    /// Read through an instance: methods become bound, properties are called.
    Instance,
    /// Read through a class: class methods become bound.
    Class,
}

/// Where the values of an attribute come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum AttrSrc {
    Node(u32, BindMode),
    Value(u32),
}

/// A call argument in global node ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum GArg {
    Pos(u32),
    Kw(u32, u32),
    Star(u32),
    KwStar(u32),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Args {
    /// `ModuleFacts::args[start..start + len]` of module `module`.
    Static {
        module: u32,
        start: u32,
        len: u32,
    },
    List(Box<[GArg]>),
}

/// Constraints made while solving (the static ones live in the facts).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum DynOp {
    /// `dst ⊇ bind(src)`.
    Bind {
        src: u32,
        dst: u32,
        mode: BindMode,
        site: u32,
    },
    /// Calls every value of `src`, bound by `mode`.
    CallVia {
        site: u32,
        src: u32,
        mode: BindMode,
        args: Args,
        dst: u32,
        flags: u8,
    },
    /// `dst ⊇ the element values of the containers in src`.
    Elems { src: u32, dst: u32 },
    /// `dst ⊇ next(src)` (iteration).
    IterNext { site: u32, src: u32, dst: u32 },
    /// `super(cls, obj)`: `dst ∋ super of each class in src`.
    Super2 { src: u32, dst: u32 },
    /// `getattr(base, name)`: watches base and name.
    GetAttr {
        base: u32,
        name: u32,
        dst: u32,
        site: u32,
    },
    /// `setattr(base, name, src)`.
    SetAttr { base: u32, name: u32, src: u32 },
    /// `dst ⊇ type(src)`.
    TypeOf { src: u32, dst: u32 },
    /// The containers of `src` copy their entries into container `target` (`d.update(src)`).
    Mirror { src: u32, target: u32 },
}

/// A container receiving the entries of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Watch {
    /// `target = container[lo:hi]`.
    Slice {
        target: u32,
        lo: i32,
        hi: Option<i32>,
    },
    /// `target.update(container)`.
    Mirror { target: u32 },
}

/// The ways a value can arrive at a trigger: which constraint, and in which role.
#[derive(Clone, Copy, Debug)]
struct Trig {
    /// Module index, or NO for a dynamic constraint.
    module: u32,
    op: u32,
    next: u32,
}

#[derive(Clone, Copy, Debug)]
struct EdgeRec {
    dst: u32,
    next: u32,
    filter: u32,
}

/// Edge filters: every value, values other than literals, or (`DECORATED + f`) what a
/// decorator applied to definition `f` returns (see `passes`).
const PLAIN: u32 = 0;
const OBJ_ONLY: u32 = 1;
const DECORATED: u32 = 2;

/// The values of one node, in insertion order (so the not yet propagated ones are a suffix).
#[derive(Default, Debug)]
struct NodeSet {
    vals: Vec<u32>,
    done: u32,
    /// Holds `Top` only.
    saturated: bool,
    /// Membership for large sets.
    index: Option<Box<FxSet<u32>>>,
}

const BIG_SET: usize = 24;

impl NodeSet {
    fn contains(&self, v: u32) -> bool {
        match &self.index {
            Some(ix) => ix.contains(&v),
            None => self.vals.contains(&v),
        }
    }

    fn insert(&mut self, v: u32) -> bool {
        if self.contains(v) {
            return false;
        }
        self.vals.push(v);
        if let Some(ix) = &mut self.index {
            ix.insert(v);
        } else if self.vals.len() > BIG_SET {
            self.index = Some(Box::new(self.vals.iter().copied().collect()));
        }
        true
    }
}

/// Key of a container slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Slot {
    Key(GConst),
    /// Values stored under a key that is not an exact literal.
    Unknown,
    /// Every value of the container.
    All,
    /// The keys of a dictionary.
    Keys,
}

/// What a class looks like, computed before solving.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClassInfo {
    /// The method resolution order: program classes, the class itself first.
    pub mro: Vec<u32>,
    /// Bases outside the program (dotted names), for attributes the program does not define.
    pub ext_bases: Vec<u32>,
    /// Transitive subclasses in the program.
    pub subs: Vec<u32>,
    /// Names bound in the class body and their nodes, sorted by global string id.
    pub attrs: Vec<(u32, u32)>,
    /// Attributes its methods assign on `self`, sorted.
    pub self_attrs: Vec<u32>,
}

/// The callee of a call edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Callee {
    Def(u32),
    Name(u32),
}

/// The solver's state for one solve.
pub(crate) struct Solver {
    pub(crate) mods: Vec<Arc<ModuleFacts>>,
    pub(crate) syms: Interner,
    pub(crate) sym_maps: Vec<Vec<u32>>,
    pub(crate) node_base: Vec<u32>,
    pub(crate) def_base: Vec<u32>,
    pub(crate) alloc_base: Vec<u32>,
    pub(crate) site_base: Vec<u32>,
    /// For each global definition, its module.
    pub(crate) def_module: Vec<u32>,
    /// For each global site, its module.
    pub(crate) site_module: Vec<u32>,
    pub(crate) module_by_name: FxMap<u32, u32>,
    /// Dotted prefixes of module names (packages, also those without `__init__.py`).
    pub(crate) packages: FxSet<u32>,
    pub(crate) classes: FxMap<u32, ClassInfo>,
    /// Global names of module-level bindings per module, sorted.
    pub(crate) globals: Vec<Vec<(u32, u32)>>,
    pub(crate) star_sources: Vec<Vec<u32>>,
    pub(crate) all_names: Vec<Option<Vec<u32>>>,

    values: Vec<Value>,
    value_ids: FxMap<Value, u32>,

    set_of: Vec<u32>,
    first_edge: Vec<u32>,
    first_trig: Vec<u32>,
    sets: Vec<NodeSet>,
    edges: Vec<EdgeRec>,
    trigs: Vec<Trig>,
    dyn_edges: FxSet<(u32, u32, u32)>,
    queue: Vec<u32>,
    queued: Vec<bool>,
    dyn_ops: Vec<DynOp>,
    dyn_op_ids: FxMap<DynOp, u32>,

    inst_attr: FxMap<(u32, u32), u32>,
    down_attr: FxMap<(u32, u32), u32>,
    /// For each attribute name, the classes with an `inst_attr` node for it.
    inst_attr_classes: FxMap<u32, Vec<u32>>,
    /// For each attribute name, the classes whose body binds it.
    definers: FxMap<u32, Vec<u32>>,
    mod_attr: FxMap<(u32, u32), u32>,
    func_attr: FxMap<(u32, u32), u32>,
    slots: FxMap<(u32, Slot), u32>,
    /// Slots of each container, for slices.
    slot_list: FxMap<u32, Vec<(Slot, u32)>>,
    /// Containers that receive the entries of a container as they appear.
    watch: FxMap<u32, Vec<Watch>>,
    dyn_allocs: FxMap<(u32, u32), u32>,
    next_alloc: u32,
    elems_nodes: FxMap<u32, u32>,
    /// Nodes holding one literal (string and number literals of the source).
    const_nodes: FxSet<u32>,
    lookup_cache: FxMap<(u32, u32), Arc<[AttrSrc]>>,
    exports_cache: FxMap<(u32, u32), bool>,

    /// Call edges found: (global site, callee).
    pub(crate) calls: FxSet<(u32, Callee)>,
    builtin_callee: FxMap<u32, u32>,
    type_callee: FxMap<(BuiltinType, u32), u32>,
    /// Classes whose bases could not be read statically, with the nodes of those bases.
    dynamic_bases: Vec<(u32, u32)>,
}

/// How many attributes an external name may grow by (see `external_attr`).
const MAX_EXTERNAL_STEPS: usize = 2;

impl Solver {
    pub(crate) fn new(mods: Vec<Arc<ModuleFacts>>) -> Solver {
        let mut s = Solver {
            mods,
            syms: Interner::default(),
            sym_maps: Vec::new(),
            node_base: Vec::new(),
            def_base: Vec::new(),
            alloc_base: Vec::new(),
            site_base: Vec::new(),
            def_module: Vec::new(),
            site_module: Vec::new(),
            module_by_name: FxMap::default(),
            packages: FxSet::default(),
            classes: FxMap::default(),
            globals: Vec::new(),
            star_sources: Vec::new(),
            all_names: Vec::new(),
            values: Vec::new(),
            value_ids: FxMap::default(),
            set_of: Vec::new(),
            first_edge: Vec::new(),
            first_trig: Vec::new(),
            sets: Vec::new(),
            edges: Vec::new(),
            trigs: Vec::new(),
            dyn_edges: FxSet::default(),
            queue: Vec::new(),
            queued: Vec::new(),
            dyn_ops: Vec::new(),
            dyn_op_ids: FxMap::default(),
            inst_attr: FxMap::default(),
            down_attr: FxMap::default(),
            inst_attr_classes: FxMap::default(),
            definers: FxMap::default(),
            mod_attr: FxMap::default(),
            func_attr: FxMap::default(),
            slots: FxMap::default(),
            slot_list: FxMap::default(),
            watch: FxMap::default(),
            dyn_allocs: FxMap::default(),
            next_alloc: 0,
            elems_nodes: FxMap::default(),
            const_nodes: FxSet::default(),
            lookup_cache: FxMap::default(),
            exports_cache: FxMap::default(),
            calls: FxSet::default(),
            builtin_callee: FxMap::default(),
            type_callee: FxMap::default(),
            dynamic_bases: Vec::new(),
        };
        let top = s.value(Value::Top);
        debug_assert_eq!(top, TOP);
        s.layout();
        s
    }

    // ----- layout ------------------------------------------------------------------------

    fn layout(&mut self) {
        let mut nodes = 0u32;
        let mut defs = 0u32;
        let mut allocs = 0u32;
        let mut sites = 0u32;
        let mods = self.mods.clone();
        for (mi, m) in mods.iter().enumerate() {
            let map: Vec<u32> = m.strings.iter().map(|s| self.syms.intern(s)).collect();
            self.sym_maps.push(map);
            self.node_base.push(nodes);
            self.def_base.push(defs);
            self.alloc_base.push(allocs);
            self.site_base.push(sites);
            nodes += m.num_nodes;
            defs += m.defs.len() as u32;
            allocs += m.num_allocs;
            sites += m.sites.len() as u32;
            self.def_module
                .extend(std::iter::repeat_n(mi as u32, m.defs.len()));
            self.site_module
                .extend(std::iter::repeat_n(mi as u32, m.sites.len()));
            let name = self.syms.intern(&m.name);
            self.module_by_name.insert(name, mi as u32);
            let parts: Vec<&str> = m.name.split('.').collect();
            for i in 1..parts.len() {
                let prefix = parts[..i].join(".");
                let p = self.syms.intern(&prefix);
                self.packages.insert(p);
            }
        }
        self.next_alloc = allocs;
        self.set_of = vec![NO; nodes as usize];
        self.first_edge = vec![NO; nodes as usize];
        self.first_trig = vec![NO; nodes as usize];
        self.queued = vec![false; nodes as usize];
        for (mi, m) in mods.iter().enumerate() {
            let globals: Vec<(u32, u32)> = {
                let mut g: Vec<(u32, u32)> = m
                    .globals
                    .iter()
                    .map(|&(s, n)| (self.sym_maps[mi][s as usize], self.node_base[mi] + n))
                    .collect();
                g.sort_unstable();
                g
            };
            self.globals.push(globals);
            let stars: Vec<u32> = m
                .star_imports
                .iter()
                .map(|&s| self.sym_maps[mi][s as usize])
                .collect();
            self.star_sources.push(stars);
            let all = m
                .all_names
                .as_ref()
                .map(|v| v.iter().map(|&s| self.sym_maps[mi][s as usize]).collect());
            self.all_names.push(all);
        }
    }

    pub(crate) fn gsym(&self, module: u32, sym: Sym) -> u32 {
        self.sym_maps[module as usize]
            .get(sym as usize)
            .copied()
            .unwrap_or(NO)
    }

    pub(crate) fn gnode(&self, module: u32, node: NodeId) -> u32 {
        if node == NONE {
            NO
        } else {
            self.node_base[module as usize] + node
        }
    }

    pub(crate) fn gdef(&self, module: u32, def: DefIdx) -> u32 {
        if def == NONE {
            NO
        } else {
            self.def_base[module as usize] + def
        }
    }

    pub(crate) fn def_fact(&self, gdef: u32) -> Option<&DefFact> {
        let m = *self.def_module.get(gdef as usize)? as usize;
        self.mods[m].defs.get((gdef - self.def_base[m]) as usize)
    }

    pub(crate) fn site_caller(&self, gsite: u32) -> u32 {
        let Some(&m) = self.site_module.get(gsite as usize) else {
            return NO;
        };
        let local = gsite - self.site_base[m as usize];
        self.mods[m as usize]
            .sites
            .get(local as usize)
            .map_or(NO, |s| self.gdef(m, s.caller))
    }

    fn gsite(&self, module: u32, site: SiteIdx) -> u32 {
        if site == NONE {
            NO
        } else {
            self.site_base[module as usize] + site
        }
    }

    fn gconst(&self, module: u32, c: Const) -> GConst {
        match c {
            Const::Str(s) => GConst::Str(self.gsym(module, s)),
            Const::StrAny => GConst::StrAny,
            Const::Int(i) => GConst::Int(i),
            Const::IntAny => GConst::IntAny,
            Const::Float => GConst::Float,
        }
    }

    // ----- values and nodes ----------------------------------------------------------------

    pub(crate) fn value(&mut self, v: Value) -> u32 {
        if let Some(&id) = self.value_ids.get(&v) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v);
        self.value_ids.insert(v, id);
        id
    }

    pub(crate) fn value_of(&self, id: u32) -> Value {
        self.values[id as usize]
    }

    fn new_node(&mut self) -> u32 {
        let n = self.set_of.len() as u32;
        self.set_of.push(NO);
        self.first_edge.push(NO);
        self.first_trig.push(NO);
        self.queued.push(false);
        n
    }

    pub(crate) fn node_values(&self, node: u32) -> &[u32] {
        match self.set_of.get(node as usize) {
            Some(&s) if s != NO => &self.sets[s as usize].vals,
            _ => &[],
        }
    }

    fn add_value(&mut self, node: u32, v: u32) {
        if node == NO {
            return;
        }
        let Some(&s) = self.set_of.get(node as usize) else {
            return;
        };
        let s = if s == NO {
            let id = self.sets.len() as u32;
            self.sets.push(NodeSet::default());
            self.set_of[node as usize] = id;
            id
        } else {
            s
        };
        let set = &mut self.sets[s as usize];
        if set.saturated {
            return;
        }
        if v == TOP || set.vals.len() >= MAX_VALUES {
            // The node stands for "too many to tell" from now on; `Top` moves along its edges.
            set.saturated = true;
            set.vals.clear();
            set.vals.push(TOP);
            set.index = None;
            set.done = 0;
        } else if !set.insert(v) {
            return;
        }
        if !self.queued[node as usize] {
            self.queued[node as usize] = true;
            self.queue.push(node);
        }
    }

    fn add_val(&mut self, node: u32, v: Value) {
        let id = self.value(v);
        self.add_value(node, id);
    }

    /// Adds an edge `dst ⊇ src` and moves the values `src` already has.
    fn add_edge(&mut self, src: u32, dst: u32, filter: u32) {
        if src == NO || dst == NO || src == dst {
            return;
        }
        if !self.dyn_edges.insert((src, dst, filter)) {
            return;
        }
        self.push_edge(src, dst, filter);
        let done = match self.set_of[src as usize] {
            NO => 0,
            s => self.sets[s as usize].done as usize,
        };
        // Values already propagated from src do not pass again through its edges: give them
        // to the new edge now.
        if done > 0 {
            let vals: Vec<u32> = self.node_values(src)[..done].to_vec();
            for v in vals {
                if self.passes(filter, v) {
                    self.add_value(dst, v);
                }
            }
        }
    }

    /// Whether value `v` passes an edge filter. A decorator applied to `f` is taken to return
    /// neither data nor another decorated function of a module or class body: such values reach
    /// its result because the decorator's return node is shared by every place it decorates
    /// (a registry's `register(func): return func` would otherwise give each registered
    /// function every other one's body).
    fn passes(&self, filter: u32, v: u32) -> bool {
        match filter {
            PLAIN => true,
            OBJ_ONLY => !matches!(self.values[v as usize], Value::Const(_)),
            f => match self.values[v as usize] {
                // A decorator returns something callable (or a class), not data.
                Value::Const(_) | Value::Container(..) | Value::Module(_) => false,
                Value::Func(g) | Value::Bound(g) if g != f - DECORATED => {
                    !self.def_fact(g).is_some_and(|d| {
                        d.decorated
                            && self
                                .def_fact(self.gdef_parent(g))
                                .is_some_and(|p| matches!(p.kind, DefKind::Module | DefKind::Class))
                    })
                }
                _ => true,
            },
        }
    }

    fn gdef_parent(&self, g: u32) -> u32 {
        let Some(&m) = self.def_module.get(g as usize) else {
            return NO;
        };
        self.def_fact(g).map_or(NO, |d| self.gdef(m, d.parent))
    }

    fn push_edge(&mut self, src: u32, dst: u32, filter: u32) {
        let id = self.edges.len() as u32;
        self.edges.push(EdgeRec {
            dst,
            next: self.first_edge[src as usize],
            filter,
        });
        self.first_edge[src as usize] = id;
    }

    fn add_trig(&mut self, node: u32, module: u32, op: u32) {
        if node == NO {
            return;
        }
        let id = self.trigs.len() as u32;
        self.trigs.push(Trig {
            module,
            op,
            next: self.first_trig[node as usize],
        });
        self.first_trig[node as usize] = id;
        // Fire on the values the node already propagated.
        let done = match self.set_of[node as usize] {
            NO => 0,
            s => self.sets[s as usize].done as usize,
        };
        if done > 0 {
            let vals: Vec<u32> = self.node_values(node)[..done].to_vec();
            for v in vals {
                self.fire(node, module, op, v);
            }
        }
    }

    fn dyn_op(&mut self, op: DynOp, watch: &[u32]) {
        if self.dyn_op_ids.contains_key(&op) {
            return;
        }
        let id = self.dyn_ops.len() as u32;
        self.dyn_ops.push(op.clone());
        self.dyn_op_ids.insert(op, id);
        for &w in watch {
            self.add_trig(w, NO, id);
        }
    }

    // ----- seeding ---------------------------------------------------------------------------

    /// Solves everything.
    pub(crate) fn solve(&mut self) {
        let dbg = std::env::var("CG_DEBUG").is_ok();
        let t = std::time::Instant::now();
        self.compute_classes();
        if dbg {
            eprintln!("classes {:?} ({} classes)", t.elapsed(), self.classes.len());
        }
        self.seed();
        if dbg {
            eprintln!(
                "seeded {:?} values {} dyn {} queue {}",
                t.elapsed(),
                self.values.len(),
                self.dyn_ops.len(),
                self.queue.len()
            );
        }
        self.run();
        if dbg {
            eprintln!("ran {:?}", t.elapsed());
        }
        if dbg {
            let mut g: Vec<(usize, String)> = Vec::new();
            for (mi, gl) in self.globals.iter().enumerate() {
                for &(sym, n) in gl {
                    let len = self.node_values(n).len();
                    if len > 8 {
                        g.push((
                            len,
                            format!("{}.{}", self.mods[mi].name(), self.syms.resolve(sym)),
                        ));
                    }
                }
            }
            g.sort();
            g.reverse();
            for (len, name) in g.iter().take(15) {
                eprintln!("global {name}: {len} values");
            }
            for (mi, gl) in self.globals.iter().enumerate() {
                for &(sym, n) in gl {
                    if self.node_values(n).len() > 200 && self.syms.resolve(sym) == "yesno" {
                        let sample: Vec<String> = self
                            .node_values(n)
                            .iter()
                            .take(30)
                            .map(|&v| match self.values[v as usize] {
                                Value::Func(f) => format!(
                                    "Func {}",
                                    self.def_fact(f).map_or("?", |d| &d.qualname)
                                ),
                                Value::Bound(f) => format!(
                                    "Bound {}",
                                    self.def_fact(f).map_or("?", |d| &d.qualname)
                                ),
                                Value::External(x, _) => format!("Ext {}", self.syms.resolve(x)),
                                other => format!("{other:?}"),
                            })
                            .collect();
                        eprintln!("{}.yesno = {sample:?}", self.mods[mi].name());
                    }
                }
            }
            // Forward closure sizes from functions' nodes.
            let total = self.set_of.len();
            let mut sizes = Vec::new();
            let mut count = 0usize;
            for (mi, m) in self.mods.iter().enumerate() {
                for d in &m.defs {
                    if d.kind != DefKind::Function {
                        continue;
                    }
                    count += 1;
                    if count % 40 != 0 {
                        continue;
                    }
                    let mut seen = vec![false; total];
                    let mut stack: Vec<u32> = (d.body.0..d.body.1)
                        .map(|l| self.node_base[mi] + l)
                        .collect();
                    for &x in &stack {
                        seen[x as usize] = true;
                    }
                    let mut n_seen = stack.len();
                    while let Some(x) = stack.pop() {
                        let mut e = self.first_edge[x as usize];
                        while e != NO {
                            let dst = self.edges[e as usize].dst;
                            if !seen[dst as usize] {
                                seen[dst as usize] = true;
                                n_seen += 1;
                                stack.push(dst);
                            }
                            e = self.edges[e as usize].next;
                        }
                        let mut t = self.first_trig[x as usize];
                        while t != NO {
                            let Trig { module, op, next } = self.trigs[t as usize];
                            let dst = if module == NO {
                                match &self.dyn_ops[op as usize] {
                                    DynOp::Bind { dst, .. }
                                    | DynOp::CallVia { dst, .. }
                                    | DynOp::Elems { dst, .. }
                                    | DynOp::IterNext { dst, .. }
                                    | DynOp::Super2 { dst, .. }
                                    | DynOp::GetAttr { dst, .. }
                                    | DynOp::TypeOf { dst, .. } => *dst,
                                    _ => NO,
                                }
                            } else {
                                match self.mods[module as usize].ops[op as usize] {
                                    Op::Load { dst, .. }
                                    | Op::SubLoad { dst, .. }
                                    | Op::Slice { dst, .. }
                                    | Op::Elems { dst, .. }
                                    | Op::Call { dst, .. }
                                    | Op::IterStart { dst, .. }
                                    | Op::IterNext { dst, .. }
                                    | Op::With { dst, .. } => self.gnode(module, dst),
                                    _ => NO,
                                }
                            };
                            if dst != NO && (dst as usize) < total && !seen[dst as usize] {
                                seen[dst as usize] = true;
                                n_seen += 1;
                                stack.push(dst);
                            }
                            t = next;
                        }
                    }
                    sizes.push(n_seen);
                }
            }
            sizes.sort_unstable();
            let p = |q: f64| {
                sizes
                    .get(((sizes.len() as f64 - 1.0) * q) as usize)
                    .copied()
                    .unwrap_or(0)
            };
            eprintln!("closure sizes of {} sampled functions (total nodes {total}): p50 {} p75 {} p90 {} p99 {} max {}", sizes.len(), p(0.5), p(0.75), p(0.9), p(0.99), sizes.last().copied().unwrap_or(0));
            let sat = self.sets.iter().filter(|s| s.saturated).count();
            eprintln!("saturated nodes: {sat}");
        }
        // Bases only known after solving (`class A(make_base())`): if they add program
        // classes, hierarchies change, and the solve starts over with them.
        if self.refine_dynamic_bases() {
            self.reset_solution();
            self.seed();
            self.run();
        }
    }

    fn reset_solution(&mut self) {
        let static_nodes: u32 = self.mods.iter().map(|m| m.num_nodes).sum();
        self.set_of = vec![NO; static_nodes as usize];
        self.first_edge = vec![NO; static_nodes as usize];
        self.first_trig = vec![NO; static_nodes as usize];
        self.queued = vec![false; static_nodes as usize];
        self.sets.clear();
        self.edges.clear();
        self.trigs.clear();
        self.dyn_edges.clear();
        self.queue.clear();
        self.dyn_ops.clear();
        self.dyn_op_ids.clear();
        self.inst_attr.clear();
        self.down_attr.clear();
        self.inst_attr_classes.clear();
        self.mod_attr.clear();
        self.func_attr.clear();
        self.slots.clear();
        self.slot_list.clear();
        self.watch.clear();
        self.dyn_allocs.clear();
        self.next_alloc = self.mods.iter().map(|m| m.num_allocs).sum();
        self.elems_nodes.clear();
        self.lookup_cache.clear();
        self.calls.clear();
    }

    fn seed(&mut self) {
        for mi in 0..self.mods.len() {
            self.seed_module(mi as u32);
        }
    }

    fn seed_module(&mut self, mi: u32) {
        let m = self.mods[mi as usize].clone();
        for (oi, op) in m.ops.iter().enumerate() {
            let oi = oi as u32;
            match *op {
                Op::Const { dst, c } => {
                    let g = self.gconst(mi, c);
                    let dst = self.gnode(mi, dst);
                    self.const_nodes.insert(dst);
                    self.add_val(dst, Value::Const(g));
                }
                Op::Def { dst, def } => {
                    let gd = self.gdef(mi, def);
                    let v = match m.defs.get(def as usize).map(|d| d.kind) {
                        Some(DefKind::Class) => Value::Class(gd),
                        _ => Value::Func(gd),
                    };
                    let dst = self.gnode(mi, dst);
                    self.add_val(dst, v);
                }
                Op::SelfOf { dst, class, cls } => {
                    let gc = self.gdef(mi, class);
                    let dst = self.gnode(mi, dst);
                    self.add_val(
                        dst,
                        if cls {
                            Value::SelfClass(gc)
                        } else {
                            Value::SelfInst(gc)
                        },
                    );
                }
                Op::Alloc { dst, kind, alloc } => {
                    let ga = self.alloc_base[mi as usize] + alloc;
                    let dst = self.gnode(mi, dst);
                    self.add_val(dst, Value::Container(ga, kind));
                }
                Op::Copy { dst, src } => {
                    let (s, d) = (self.gnode(mi, src), self.gnode(mi, dst));
                    if s != NO && d != NO {
                        self.push_edge(s, d, PLAIN);
                    }
                }
                Op::CopyObj { dst, src } => {
                    let (s, d) = (self.gnode(mi, src), self.gnode(mi, dst));
                    if s != NO && d != NO {
                        self.push_edge(s, d, OBJ_ONLY);
                    }
                }
                Op::Load { base, .. } | Op::Store { base, .. } | Op::Slice { base, .. } => {
                    let b = self.gnode(mi, base);
                    self.add_trig(b, mi, oi);
                }
                Op::SubLoad { base, key, .. } | Op::SubStore { base, key, .. } => {
                    let b = self.gnode(mi, base);
                    self.add_trig(b, mi, oi);
                    if let Key::Node(k) = key {
                        let k = self.gnode(mi, k);
                        if k != b {
                            self.add_trig(k, mi, oi);
                        }
                    }
                }
                Op::Elems { src, .. }
                | Op::Raise { src, .. }
                | Op::IterStart { src, .. }
                | Op::IterNext { src, .. }
                | Op::With { src, .. } => {
                    let s = self.gnode(mi, src);
                    self.add_trig(s, mi, oi);
                }
                Op::Call { callee, .. } => {
                    let c = self.gnode(mi, callee);
                    self.add_trig(c, mi, oi);
                }
                Op::Import {
                    dst,
                    module,
                    attr,
                    top,
                } => {
                    let dst = self.gnode(mi, dst);
                    let module = self.gsym(mi, module);
                    let attr = if attr == NONE {
                        NO
                    } else {
                        self.gsym(mi, attr)
                    };
                    self.seed_import(dst, module, attr, top);
                }
            }
        }
        // Names the module reads but never binds: star imports, then builtins.
        for &(sym, node) in &m.fallbacks {
            let name = self.gsym(mi, sym);
            let node = self.gnode(mi, node);
            self.seed_fallback(mi, name, node);
        }
    }

    fn is_program_module(&self, name: u32) -> bool {
        self.module_by_name.contains_key(&name)
    }

    fn is_package_name(&self, name: u32) -> bool {
        self.module_by_name.contains_key(&name) || self.packages.contains(&name)
    }

    fn join(&mut self, a: u32, b: u32) -> u32 {
        let s = format!("{}.{}", self.syms.resolve(a), self.syms.resolve(b));
        self.syms.intern(&s)
    }

    fn seed_import(&mut self, dst: u32, module: u32, attr: u32, top: bool) {
        if dst == NO || module == NO {
            return;
        }
        if attr == NO {
            let name = if top {
                let full = self.syms.resolve(module).to_string();
                let first = full.split('.').next().unwrap_or("").to_string();
                self.syms.intern(&first)
            } else {
                module
            };
            if self.is_package_name(name) {
                self.add_val(dst, Value::Module(name));
            } else {
                self.add_val(dst, Value::External(name, 0));
            }
            return;
        }
        if self.is_package_name(module) {
            // `from package import name` imports the submodule `package.name` if there is one
            // (Python sets it as an attribute of the package).
            let full = self.join(module, attr);
            if self.is_package_name(full) {
                self.add_val(dst, Value::Module(full));
                return;
            }
            let srcs = self.lookup_module(module, attr);
            self.apply_srcs(&srcs, dst, NO);
        } else {
            let name = if self.syms.resolve(module).is_empty() {
                attr
            } else {
                self.join(module, attr)
            };
            self.add_val(dst, Value::External(name, 0));
        }
    }

    fn seed_fallback(&mut self, mi: u32, name: u32, node: u32) {
        let stars = self.star_sources[mi as usize].clone();
        let mut found = false;
        for &s in &stars {
            if self.is_program_module(s) && self.exports(s, name, 0) {
                let srcs = self.lookup_module(s, name);
                self.apply_srcs(&srcs, node, NO);
                found = true;
            }
        }
        if found {
            return;
        }
        let text = self.syms.resolve(name).to_string();
        if is_builtin(&text) {
            self.add_val(node, Value::Builtin(name));
            return;
        }
        for &s in &stars {
            if !self.is_package_name(s) {
                let full = self.join(s, name);
                self.add_val(node, Value::External(full, 0));
            }
        }
    }

    /// Whether `from module import *` brings `name`.
    fn exports(&mut self, module: u32, name: u32, depth: u32) -> bool {
        if depth > 32 {
            return false;
        }
        if let Some(&r) = self.exports_cache.get(&(module, name)) {
            return r;
        }
        // Guard against cycles of star imports while computing.
        self.exports_cache.insert((module, name), false);
        let Some(&mi) = self.module_by_name.get(&module) else {
            return false;
        };
        let mi = mi as usize;
        let result = if let Some(all) = &self.all_names[mi] {
            all.contains(&name)
        } else if self.syms.resolve(name).starts_with('_') {
            false
        } else if self.globals[mi]
            .binary_search_by_key(&name, |&(s, _)| s)
            .is_ok()
        {
            true
        } else {
            let stars = self.star_sources[mi].clone();
            stars
                .iter()
                .any(|&s| self.is_program_module(s) && self.exports(s, name, depth + 1))
        };
        self.exports_cache.insert((module, name), result);
        result
    }

    fn apply_srcs(&mut self, srcs: &[AttrSrc], dst: u32, site: u32) {
        for &src in srcs {
            match src {
                AttrSrc::Node(n, BindMode::Plain) => self.add_edge(n, dst, PLAIN),
                AttrSrc::Node(n, mode) => self.dyn_op(
                    DynOp::Bind {
                        src: n,
                        dst,
                        mode,
                        site,
                    },
                    &[n],
                ),
                AttrSrc::Value(v) => self.add_value(dst, v),
            }
        }
    }

    // ----- the fixpoint --------------------------------------------------------------------

    fn run(&mut self) {
        let mut iters = 0u64;
        while let Some(node) = self.queue.pop() {
            iters += 1;
            if iters % 100_000 == 0 && std::env::var("CG_DEBUG").is_ok() {
                let big = self.sets.iter().filter(|s| s.vals.len() > 1000).count();
                let maxset = self.sets.iter().map(|s| s.vals.len()).max().unwrap_or(0);
                eprintln!("iters {iters} values {} nodes {} sets {} big {big} max {maxset} edges {} dyn_ops {} calls {} queue {} syms {}", self.values.len(), self.set_of.len(), self.sets.len(), self.edges.len(), self.dyn_ops.len(), self.calls.len(), self.queue.len(), self.syms.len());
                if iters % 2_000_000 == 0 {
                    let mut hist: FxMap<&'static str, usize> = FxMap::default();
                    for v in &self.values {
                        let k = match v {
                            Value::External(..) => "ext",
                            Value::Const(_) => "const",
                            Value::Container(..) => "cont",
                            Value::TypeMethod(..) => "tm",
                            Value::Func(_) => "func",
                            Value::Bound(_) => "bound",
                            Value::Inst(_) => "inst",
                            _ => "other",
                        };
                        *hist.entry(k).or_default() += 1;
                    }
                    eprintln!("{hist:?}");
                    let mut h2: FxMap<&'static str, usize> = FxMap::default();
                    for st in self.sets.iter().filter(|s| s.vals.len() > 1000) {
                        for &v in &st.vals {
                            let k = match self.values[v as usize] {
                                Value::External(..) => "ext",
                                Value::Const(_) => "const",
                                Value::Container(..) => "cont",
                                Value::TypeMethod(..) => "tm",
                                Value::Func(_) => "func",
                                Value::Bound(_) => "bound",
                                Value::Inst(_) => "inst",
                                Value::SelfInst(_) => "self",
                                Value::Class(_) => "class",
                                Value::Module(_) => "module",
                                Value::Builtin(_) => "builtin",
                                Value::Generator(_) => "gen",
                                _ => "other",
                            };
                            *h2.entry(k).or_default() += 1;
                        }
                    }
                    eprintln!("in big sets: {h2:?}");
                    let mut order: Vec<(usize, u32)> = (0..self.set_of.len())
                        .filter_map(|n| {
                            let s = self.set_of[n];
                            (s != NO).then(|| (self.sets[s as usize].vals.len(), n as u32))
                        })
                        .collect();
                    order.sort_unstable_by(|a, b| b.cmp(a));
                    for &(len, n) in order.iter().take(12) {
                        eprintln!("  {len} values: {}", self.describe(n));
                    }
                    let (i, s) = self
                        .sets
                        .iter()
                        .enumerate()
                        .max_by_key(|(_, s)| s.vals.len())
                        .unwrap();
                    let sample: Vec<String> = s
                        .vals
                        .iter()
                        .filter_map(|&v| match self.values[v as usize] {
                            Value::External(x, _) => Some(self.syms.resolve(x).to_string()),
                            _ => None,
                        })
                        .step_by(500)
                        .take(40)
                        .collect();
                    eprintln!("biggest set {i}: {sample:?}");
                }
            }
            self.queued[node as usize] = false;
            let s = self.set_of[node as usize];
            if s == NO {
                continue;
            }
            let (start, end) = {
                let set = &self.sets[s as usize];
                (set.done as usize, set.vals.len())
            };
            if start >= end {
                continue;
            }
            self.sets[s as usize].done = end as u32;
            let new: Vec<u32> = self.sets[s as usize].vals[start..end].to_vec();
            // Edges.
            let mut e = self.first_edge[node as usize];
            while e != NO {
                let EdgeRec { dst, next, filter } = self.edges[e as usize];
                for &v in &new {
                    if filter == PLAIN || self.passes(filter, v) {
                        self.add_value(dst, v);
                    }
                }
                e = next;
            }
            // Triggers.
            let mut t = self.first_trig[node as usize];
            while t != NO {
                let Trig { module, op, next } = self.trigs[t as usize];
                for &v in &new {
                    self.fire(node, module, op, v);
                }
                t = next;
            }
        }
    }

    fn fire(&mut self, node: u32, module: u32, op: u32, v: u32) {
        if v == TOP {
            return;
        }
        if module == NO {
            let Some(dop) = self.dyn_ops.get(op as usize).cloned() else {
                return;
            };
            self.fire_dyn(node, &dop, v);
            return;
        }
        let Some(&op) = self.mods[module as usize].ops.get(op as usize) else {
            return;
        };
        let val = self.values[v as usize];
        match op {
            Op::Load {
                dst,
                base: _,
                attr,
                site,
            } => {
                let dst = self.gnode(module, dst);
                let attr = self.gsym(module, attr);
                let site = self.gsite(module, site);
                let srcs = self.lookup(v, attr);
                self.apply_srcs(&srcs, dst, site);
            }
            Op::Store { attr, src, .. } => {
                let attr = self.gsym(module, attr);
                let src = self.gnode(module, src);
                if let Some(target) = self.store_target(val, attr) {
                    self.add_edge(src, target, PLAIN);
                }
            }
            Op::SubLoad {
                dst,
                base,
                key,
                site,
                unpack,
            } => {
                let dst = self.gnode(module, dst);
                let base = self.gnode(module, base);
                let site = self.gsite(module, site);
                let key = self.gkey(module, key);
                self.sub_load(node, v, base, key, dst, site, unpack);
            }
            Op::SubStore {
                base,
                key,
                src,
                site,
            } => {
                let base = self.gnode(module, base);
                let src = self.gnode(module, src);
                let site = self.gsite(module, site);
                let key = self.gkey(module, key);
                self.sub_store(node, v, base, key, src, site);
            }
            Op::Slice {
                dst, lo, hi, alloc, ..
            } => {
                let dst = self.gnode(module, dst);
                let alloc = self.alloc_base[module as usize] + alloc;
                self.slice(val, dst, lo, hi, alloc);
            }
            Op::Elems { dst, .. } => {
                let dst = self.gnode(module, dst);
                self.elems(val, dst);
            }
            Op::Call {
                site,
                args_start,
                args_len,
                dst,
                flags,
                aux,
                ..
            } => {
                let site = self.gsite(module, site);
                let dst = self.gnode(module, dst);
                let args = Args::Static {
                    module,
                    start: args_start,
                    len: args_len,
                };
                let aux = self.gdef(module, aux);
                self.call_value(site, v, &args, dst, flags, aux);
            }
            Op::Raise { site, .. } => {
                let site = self.gsite(module, site);
                match val {
                    Value::Class(_) | Value::SelfClass(_) => {
                        let args = Args::List(Box::new([]));
                        self.call_value(site, v, &args, NO, 0, NO);
                    }
                    Value::External(name, _) => self.record(site, Callee::Name(name)),
                    _ => {}
                }
            }
            Op::IterStart { site, dst, .. } => {
                let site = self.gsite(module, site);
                let dst = self.gnode(module, dst);
                self.iter_start(site, v, dst);
            }
            Op::IterNext { site, dst, .. } => {
                let site = self.gsite(module, site);
                let dst = self.gnode(module, dst);
                self.iter_next(site, v, dst);
            }
            Op::With { site, dst, .. } => {
                let site = self.gsite(module, site);
                let dst = self.gnode(module, dst);
                self.with(site, v, dst);
            }
            _ => {}
        }
    }

    fn gkey(&self, module: u32, key: Key) -> GKey {
        match key {
            Key::Const(c) => GKey::Const(self.gconst(module, c)),
            Key::Node(n) => GKey::Node(self.gnode(module, n)),
            Key::Unknown => GKey::Unknown,
        }
    }

    fn fire_dyn(&mut self, node: u32, op: &DynOp, v: u32) {
        let val = self.values[v as usize];
        match op {
            &DynOp::Bind {
                dst, mode, site, ..
            } => self.bind(v, dst, mode, site),
            DynOp::CallVia {
                site,
                mode,
                args,
                dst,
                flags,
                ..
            } => {
                let bound = self.bound_value(v, *mode);
                if let Some(b) = bound {
                    self.call_value(*site, b, args, *dst, *flags, NO);
                }
            }
            &DynOp::Elems { dst, .. } => self.elems(val, dst),
            &DynOp::IterNext { site, dst, .. } => self.iter_next(site, v, dst),
            &DynOp::Super2 { dst, .. } => match val {
                Value::Class(c) | Value::SelfClass(c) => self.add_val(dst, Value::Super(c)),
                _ => {}
            },
            &DynOp::GetAttr {
                base,
                name,
                dst,
                site,
            } => {
                let pairs: Vec<(u32, u32)> = if node == base {
                    self.node_values(name).iter().map(|&n| (v, n)).collect()
                } else {
                    self.node_values(base).iter().map(|&b| (b, v)).collect()
                };
                for (b, n) in pairs {
                    if let Some(attr) = self.dynamic_attr_name(b, n, name) {
                        let srcs = self.lookup(b, attr);
                        self.apply_srcs(&srcs, dst, site);
                    }
                }
            }
            &DynOp::SetAttr { base, name, src } => {
                let pairs: Vec<(u32, u32)> = if node == base {
                    self.node_values(name).iter().map(|&n| (v, n)).collect()
                } else {
                    self.node_values(base).iter().map(|&b| (b, v)).collect()
                };
                for (b, n) in pairs {
                    if let Some(attr) = self.dynamic_attr_name(b, n, name) {
                        let bv = self.values[b as usize];
                        if let Some(t) = self.store_target(bv, attr) {
                            self.add_edge(src, t, PLAIN);
                        }
                    }
                }
            }
            &DynOp::Mirror { target, .. } => {
                if let Value::Container(a, _) = val {
                    if a != target {
                        self.add_watch(a, Watch::Mirror { target });
                    }
                }
            }
            &DynOp::TypeOf { dst, .. } => match val {
                Value::Inst(c) => self.add_val(dst, Value::Class(c)),
                Value::SelfInst(c) => self.add_val(dst, Value::SelfClass(c)),
                Value::External(..) => self.add_value(dst, v),
                _ => {}
            },
        }
    }

    /// The attribute `getattr(base, name)` reads, if the analysis follows it: a name that is
    /// an identifier, and for external objects only a literal written at the call (names
    /// computed elsewhere would invent external attributes by the thousand).
    fn dynamic_attr_name(&self, base: u32, name_value: u32, name_node: u32) -> Option<u32> {
        let Value::Const(GConst::Str(attr)) = self.values[name_value as usize] else {
            return None;
        };
        let text = self.syms.resolve(attr);
        let identifier = text
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_alphabetic())
            && text.chars().all(|c| c == '_' || c.is_alphanumeric());
        if !identifier {
            return None;
        }
        if matches!(self.values[base as usize], Value::External(..))
            && !self.const_nodes.contains(&name_node)
        {
            return None;
        }
        Some(attr)
    }

    pub(crate) fn describe(&self, n: u32) -> String {
        let total: u32 = self.node_base.last().copied().unwrap_or(0)
            + self.mods.last().map_or(0, |m| m.num_nodes);
        if n >= total {
            for (&(c, a), &x) in &self.inst_attr {
                if x == n {
                    return format!(
                        "inst_attr {}.{}",
                        self.def_fact(c).map_or("?", |d| &d.qualname),
                        self.syms.resolve(a)
                    );
                }
            }
            for (&(c, a), &x) in &self.down_attr {
                if x == n {
                    return format!(
                        "down_attr {}.{}",
                        self.def_fact(c).map_or("?", |d| &d.qualname),
                        self.syms.resolve(a)
                    );
                }
            }
            for (&(a, sl), &x) in &self.slots {
                if x == n {
                    return format!("slot {a} {sl:?}");
                }
            }
            return format!("dynamic node {n}");
        }
        let mi = self.node_base.partition_point(|&b| b <= n) - 1;
        let m = &self.mods[mi];
        let local = n - self.node_base[mi];
        for d in &m.defs {
            if d.ret == local {
                return format!("{}: return of {}", m.name, d.qualname);
            }
            for p in &d.params {
                if p.node == local {
                    return format!("{}: param {} of {}", m.name, m.str(p.name), d.qualname);
                }
            }
        }
        for &(sym, node) in &m.globals {
            if node == local {
                return format!("{}: global {}", m.name, m.str(sym));
            }
        }
        for op in &m.ops {
            match *op {
                Op::Load {
                    dst, attr, site, ..
                } if dst == local => {
                    return format!(
                        "{}: load .{} at {:?}",
                        m.name,
                        m.str(attr),
                        m.site_range(site)
                    )
                }
                Op::Call { dst, site, .. } if dst == local => {
                    return format!("{}: call result at {:?}", m.name, m.site_range(site))
                }
                Op::SubLoad { dst, site, .. } if dst == local => {
                    return format!("{}: subscript at {:?}", m.name, m.site_range(site))
                }
                Op::Copy { dst, src } if dst == local => {
                    return format!("{}: copy of {} (node {local})", m.name, src)
                }
                _ => {}
            }
        }
        format!("{}: node {local}", m.name)
    }

    /// A value read through a class attribute, as seen through an instance or a class.
    fn bound_value(&mut self, v: u32, mode: BindMode) -> Option<u32> {
        let val = self.values[v as usize];
        let Value::Func(f) = val else { return Some(v) };
        let method = self.def_fact(f).map_or(MethodKind::None, |d| d.method);
        let out = match (mode, method) {
            (BindMode::Plain, _) => val,
            (_, MethodKind::Static) => val,
            (BindMode::Class, MethodKind::Class) => Value::Bound(f),
            (BindMode::Class, _) => val,
            (BindMode::Instance, MethodKind::Property) => return None,
            (BindMode::Instance, _) => Value::Bound(f),
        };
        Some(self.value(out))
    }

    fn bind(&mut self, v: u32, dst: u32, mode: BindMode, site: u32) {
        let val = self.values[v as usize];
        if let (BindMode::Instance, Value::Func(f)) = (mode, val) {
            let method = self.def_fact(f).map_or(MethodKind::None, |d| d.method);
            if method == MethodKind::Property {
                // Reading a property calls its getter.
                if site != NO {
                    self.record(site, Callee::Def(f));
                }
                if let Some(ret) = self.def_ret(f) {
                    self.add_edge(ret, dst, PLAIN);
                }
                return;
            }
        }
        if let Some(b) = self.bound_value(v, mode) {
            self.add_value(dst, b);
        }
    }

    fn def_ret(&self, f: u32) -> Option<u32> {
        let m = *self.def_module.get(f as usize)?;
        let d = self.def_fact(f)?;
        Some(self.gnode(m, d.ret))
    }

    fn record(&mut self, site: u32, callee: Callee) {
        if site != NO {
            self.calls.insert((site, callee));
        }
    }

    // ----- attributes ------------------------------------------------------------------------

    /// Attribute values stored on instances of exactly `class` (or by its own methods on
    /// `self`). They also flow to the `down` aggregates of the class's ancestors.
    fn inst_attr_node(&mut self, class: u32, attr: u32) -> u32 {
        if let Some(&n) = self.inst_attr.get(&(class, attr)) {
            return n;
        }
        let n = self.new_node();
        self.inst_attr.insert((class, attr), n);
        self.inst_attr_classes.entry(attr).or_default().push(class);
        let mro = self.mro(class);
        for b in mro {
            if let Some(&d) = self.down_attr.get(&(b, attr)) {
                self.add_edge(n, d, PLAIN);
            }
        }
        n
    }

    /// Attribute values stored on instances of `class` or of any subclass: what `self.attr`
    /// may read in the class's methods.
    fn down_attr_node(&mut self, class: u32, attr: u32) -> u32 {
        if let Some(&n) = self.down_attr.get(&(class, attr)) {
            return n;
        }
        let d = self.new_node();
        self.down_attr.insert((class, attr), d);
        let holders = self
            .inst_attr_classes
            .get(&attr)
            .cloned()
            .unwrap_or_default();
        for s in holders {
            if s == class || self.classes.get(&s).is_some_and(|i| i.mro.contains(&class)) {
                if let Some(&n) = self.inst_attr.get(&(s, attr)) {
                    self.add_edge(n, d, PLAIN);
                }
            }
        }
        d
    }

    fn mro(&self, class: u32) -> Vec<u32> {
        self.classes
            .get(&class)
            .map(|i| i.mro.clone())
            .unwrap_or_else(|| vec![class])
    }

    /// The class attribute nodes `self.attr` may find in methods of `k`: the first definition
    /// in `k`'s method resolution order, and every definition in a subclass (an override).
    fn cha_definers(&self, k: u32, attr: u32) -> Vec<u32> {
        let mut out = Vec::new();
        for b in self.mro(k) {
            if let Some(n) = self.class_attr(b, attr) {
                out.push(n);
                break;
            }
        }
        if let Some(defs) = self.definers.get(&attr) {
            for &s in defs {
                if s != k && self.classes.get(&s).is_some_and(|i| i.mro.contains(&k)) {
                    if let Some(n) = self.class_attr(s, attr) {
                        out.push(n);
                    }
                }
            }
        }
        out
    }

    /// Whether the program defines `attr` for instances of `k` (in a class body or by
    /// assigning it on `self`), so that external bases are not asked for it.
    fn program_defines(&self, k: u32, attr: u32) -> bool {
        self.mro(k).iter().any(|b| {
            self.classes.get(b).is_some_and(|i| {
                i.self_attrs.binary_search(&attr).is_ok()
                    || i.attrs.binary_search_by_key(&attr, |&(s, _)| s).is_ok()
            })
        })
    }

    fn external_fallback(&mut self, k: u32, attr: u32, out: &mut Vec<AttrSrc>) {
        if self.program_defines(k, attr) {
            return;
        }
        let ext = self
            .classes
            .get(&k)
            .map(|i| i.ext_bases.clone())
            .unwrap_or_default();
        for e in ext {
            if let Some(id) = self.external_attr(e, 0, attr) {
                out.push(AttrSrc::Value(id));
            }
        }
    }

    fn class_attr(&self, class: u32, attr: u32) -> Option<u32> {
        let info = self.classes.get(&class)?;
        info.attrs
            .binary_search_by_key(&attr, |&(s, _)| s)
            .ok()
            .map(|i| info.attrs[i].1)
    }

    /// Where the values of `value.attr` come from.
    fn lookup(&mut self, v: u32, attr: u32) -> Arc<[AttrSrc]> {
        if let Some(r) = self.lookup_cache.get(&(v, attr)) {
            return r.clone();
        }
        let val = self.values[v as usize];
        let mut out: Vec<AttrSrc> = Vec::new();
        match val {
            Value::Inst(c) => self.lookup_instance(c, attr, &mut out),
            Value::SelfInst(k) => {
                for b in self.mro(k).into_iter().skip(1) {
                    let n = self.inst_attr_node(b, attr);
                    out.push(AttrSrc::Node(n, BindMode::Plain));
                }
                let d = self.down_attr_node(k, attr);
                out.push(AttrSrc::Node(d, BindMode::Plain));
                for n in self.cha_definers(k, attr) {
                    out.push(AttrSrc::Node(n, BindMode::Instance));
                }
                self.external_fallback(k, attr, &mut out);
            }
            Value::Class(c) => self.lookup_class(c, attr, BindMode::Class, true, &mut out),
            Value::SelfClass(k) => {
                for b in self.mro(k) {
                    let n = self.inst_attr_node(b, attr);
                    out.push(AttrSrc::Node(n, BindMode::Plain));
                }
                for n in self.cha_definers(k, attr) {
                    out.push(AttrSrc::Node(n, BindMode::Class));
                }
                self.external_fallback(k, attr, &mut out);
            }
            Value::Super(k) => {
                let mut found = false;
                for b in self.mro(k).into_iter().skip(1) {
                    if let Some(n) = self.class_attr(b, attr) {
                        out.push(AttrSrc::Node(n, BindMode::Instance));
                        found = true;
                        break;
                    }
                }
                if !found {
                    self.external_fallback(k, attr, &mut out);
                }
            }
            Value::Module(m) => out = self.lookup_module(m, attr),
            Value::External(x, steps) => {
                if let Some(id) = self.external_attr(x, steps, attr) {
                    out.push(AttrSrc::Value(id));
                }
            }
            Value::Const(c) => {
                let ty = match c {
                    GConst::Str(_) | GConst::StrAny => Some(BuiltinType::Str),
                    GConst::Int(_) | GConst::IntAny | GConst::Float => Some(BuiltinType::Num),
                };
                if let Some(ty) = ty {
                    if ty.has_method(self.syms.resolve(attr)) {
                        let id = self.value(Value::TypeMethod(ty, attr, NO));
                        out.push(AttrSrc::Value(id));
                    }
                }
            }
            Value::Container(_, kind) => {
                let ty = container_type(kind);
                if ty.has_method(self.syms.resolve(attr)) {
                    let id = self.value(Value::TypeMethod(ty, attr, v));
                    out.push(AttrSrc::Value(id));
                }
            }
            Value::Builtin(b) => {
                let name = self.syms.resolve(b).to_string();
                if let Some(ty) = BuiltinType::of_builtin_class(&name) {
                    if ty.has_method(self.syms.resolve(attr)) {
                        let id = self.value(Value::TypeMethod(ty, attr, NO));
                        out.push(AttrSrc::Value(id));
                    }
                }
            }
            Value::Func(f) | Value::Bound(f) => {
                let key = (f, attr);
                let n = match self.func_attr.get(&key) {
                    Some(&n) => n,
                    None => {
                        let n = self.new_node();
                        self.func_attr.insert(key, n);
                        n
                    }
                };
                out.push(AttrSrc::Node(n, BindMode::Plain));
            }
            Value::TypeMethod(..) | Value::Generator(_) | Value::Top | Value::Opaque => {}
        }
        out.dedup();
        let arc: Arc<[AttrSrc]> = out.into();
        self.lookup_cache.insert((v, attr), arc.clone());
        arc
    }

    /// The value of an attribute of an external name. Names grow by at most
    /// `MAX_EXTERNAL_STEPS` attributes from the imported name (`os.path.join`,
    /// `ext.Cls.method`), and a repeated segment (`node.parent.parent`) is absorbed: data
    /// flowing around a program would otherwise make new names without end.
    fn external_attr(&mut self, x: u32, steps: u8, attr: u32) -> Option<u32> {
        let base = self.syms.resolve(x);
        if usize::from(steps) >= MAX_EXTERNAL_STEPS
            || base.rsplit('.').next() == Some(self.syms.resolve(attr))
        {
            return Some(self.value(Value::External(x, steps)));
        }
        let name = self.join(x, attr);
        Some(self.value(Value::External(name, steps + 1)))
    }

    /// `instance.attr` for an instance of `c`: instance attributes set anywhere in its
    /// hierarchy, then the class attribute the method resolution order finds.
    fn lookup_instance(&mut self, c: u32, attr: u32, out: &mut Vec<AttrSrc>) {
        for k in self.mro(c) {
            let n = self.inst_attr_node(k, attr);
            out.push(AttrSrc::Node(n, BindMode::Plain));
        }
        self.lookup_class(c, attr, BindMode::Instance, false, out);
    }

    /// `class.attr`: the first class of the method resolution order that binds the name;
    /// failing that, the external bases' attribute.
    fn lookup_class(
        &mut self,
        c: u32,
        attr: u32,
        mode: BindMode,
        with_dynamic: bool,
        out: &mut Vec<AttrSrc>,
    ) {
        for k in self.mro(c) {
            if with_dynamic {
                let n = self.inst_attr_node(k, attr);
                out.push(AttrSrc::Node(n, BindMode::Plain));
            }
            if let Some(n) = self.class_attr(k, attr) {
                out.push(AttrSrc::Node(n, mode));
                return;
            }
        }
        self.external_fallback(c, attr, out);
    }

    /// `module.attr`: a module-level binding, a submodule, or a name a star import brings.
    fn lookup_module(&mut self, m: u32, attr: u32) -> Vec<AttrSrc> {
        let mut out = Vec::new();
        let mut visited = FxSet::default();
        self.lookup_module_into(m, attr, &mut out, &mut visited);
        out
    }

    fn lookup_module_into(
        &mut self,
        m: u32,
        attr: u32,
        out: &mut Vec<AttrSrc>,
        visited: &mut FxSet<u32>,
    ) {
        if !visited.insert(m) || visited.len() > 64 {
            return;
        }
        let mi = self.module_by_name.get(&m).copied();
        if let Some(mi) = mi {
            let g = &self.globals[mi as usize];
            if let Ok(i) = g.binary_search_by_key(&attr, |&(s, _)| s) {
                out.push(AttrSrc::Node(g[i].1, BindMode::Plain));
                return;
            }
        }
        let full = self.join(m, attr);
        if self.is_package_name(full) {
            let id = self.value(Value::Module(full));
            out.push(AttrSrc::Value(id));
            return;
        }
        let Some(mi) = mi else { return };
        let stars = self.star_sources[mi as usize].clone();
        for s in stars {
            if self.is_program_module(s) && self.exports(s, attr, 0) {
                self.lookup_module_into(s, attr, out, visited);
            }
        }
        // Assigned from outside (`module.attr = value`).
        let key = (m, attr);
        let n = match self.mod_attr.get(&key) {
            Some(&n) => n,
            None => {
                let n = self.new_node();
                self.mod_attr.insert(key, n);
                n
            }
        };
        out.push(AttrSrc::Node(n, BindMode::Plain));
    }

    /// The node `value.attr = …` stores into.
    fn store_target(&mut self, val: Value, attr: u32) -> Option<u32> {
        match val {
            Value::Inst(c) | Value::SelfInst(c) | Value::Class(c) | Value::SelfClass(c) => {
                Some(self.inst_attr_node(c, attr))
            }
            Value::Module(m) => {
                if let Some(&mi) = self.module_by_name.get(&m) {
                    let g = &self.globals[mi as usize];
                    if let Ok(i) = g.binary_search_by_key(&attr, |&(s, _)| s) {
                        return Some(g[i].1);
                    }
                }
                let key = (m, attr);
                Some(match self.mod_attr.get(&key) {
                    Some(&n) => n,
                    None => {
                        let n = self.new_node();
                        self.mod_attr.insert(key, n);
                        n
                    }
                })
            }
            Value::Func(f) | Value::Bound(f) => {
                let key = (f, attr);
                Some(match self.func_attr.get(&key) {
                    Some(&n) => n,
                    None => {
                        let n = self.new_node();
                        self.func_attr.insert(key, n);
                        n
                    }
                })
            }
            _ => None,
        }
    }

    // ----- containers ------------------------------------------------------------------------

    fn slot(&mut self, alloc: u32, slot: Slot) -> u32 {
        if let Some(&n) = self.slots.get(&(alloc, slot)) {
            return n;
        }
        let n = self.new_node();
        self.slots.insert((alloc, slot), n);
        if !matches!(slot, Slot::All | Slot::Keys) {
            let all = self.slot(alloc, Slot::All);
            self.add_edge(n, all, PLAIN);
            self.slot_list.entry(alloc).or_default().push((slot, n));
            if let Some(watchers) = self.watch.get(&alloc).cloned() {
                for w in watchers {
                    self.watched_slot(w, slot, n);
                }
            }
        }
        n
    }

    fn container_of(&self, v: u32) -> Option<(u32, ContainerKind)> {
        match self.values[v as usize] {
            Value::Container(a, k) => Some((a, k)),
            _ => None,
        }
    }

    /// The exact keys a key node selects, and whether it may select any entry.
    fn key_values(&self, key: GKey) -> (Vec<GConst>, bool) {
        match key {
            GKey::Const(c) if c.exact() => (vec![c], false),
            GKey::Const(_) | GKey::Unknown => (Vec::new(), true),
            GKey::Node(n) => {
                let mut exact = Vec::new();
                let mut any = false;
                for &v in self.node_values(n) {
                    match self.values[v as usize] {
                        Value::Const(c) if c.exact() => exact.push(c),
                        _ => any = true,
                    }
                }
                (exact, any)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn sub_load(
        &mut self,
        node: u32,
        v: u32,
        base: u32,
        key: GKey,
        dst: u32,
        site: u32,
        unpack: bool,
    ) {
        let val = self.values[v as usize];
        let from_key = matches!(key, GKey::Node(k) if k == node) && node != base;
        if from_key {
            // A new key value: read it from every container of the base.
            let containers: Vec<u32> = self.node_values(base).to_vec();
            for c in containers {
                if let Some((a, _)) = self.container_of(c) {
                    match val {
                        Value::Const(k) if k.exact() => {
                            let s = self.slot(a, Slot::Key(k));
                            self.add_edge(s, dst, PLAIN);
                        }
                        _ => {
                            let s = self.slot(a, Slot::All);
                            self.add_edge(s, dst, PLAIN);
                        }
                    }
                }
            }
            return;
        }
        match val {
            Value::Container(a, _) => {
                let (exact, any) = self.key_values(key);
                if any {
                    let s = self.slot(a, Slot::All);
                    self.add_edge(s, dst, PLAIN);
                    return;
                }
                for k in exact {
                    let s = self.slot(a, Slot::Key(k));
                    self.add_edge(s, dst, PLAIN);
                }
                let u = self.slot(a, Slot::Unknown);
                self.add_edge(u, dst, PLAIN);
            }
            Value::Generator(f) if unpack => {
                if let Some(y) = self.def_yields(f) {
                    self.add_edge(y, dst, PLAIN);
                }
            }
            Value::Inst(_) | Value::SelfInst(_) if !unpack => {
                let key_node = match key {
                    GKey::Node(n) => n,
                    _ => NO,
                };
                self.call_dunder(site, v, "__getitem__", &[key_node], dst);
            }
            _ => {}
        }
    }

    fn sub_store(&mut self, node: u32, v: u32, base: u32, key: GKey, src: u32, site: u32) {
        let val = self.values[v as usize];
        let from_key = matches!(key, GKey::Node(k) if k == node) && node != base;
        if from_key {
            let containers: Vec<u32> = self.node_values(base).to_vec();
            for c in containers {
                if let Some((a, kind)) = self.container_of(c) {
                    self.store_key(a, kind, val, v, src);
                }
            }
            return;
        }
        match val {
            Value::Container(a, kind) => match key {
                GKey::Const(c) if c.exact() => {
                    let s = self.slot(a, Slot::Key(c));
                    self.add_edge(src, s, PLAIN);
                    if kind == ContainerKind::Dict {
                        let keys = self.slot(a, Slot::Keys);
                        self.add_val(keys, Value::Const(c));
                    }
                }
                GKey::Node(k) => {
                    let keyvals: Vec<u32> = self.node_values(k).to_vec();
                    for kv in keyvals {
                        let kval = self.values[kv as usize];
                        self.store_key(a, kind, kval, kv, src);
                    }
                }
                _ => {
                    let s = self.slot(a, Slot::Unknown);
                    self.add_edge(src, s, PLAIN);
                }
            },
            Value::Inst(_) | Value::SelfInst(_) => {
                let key_node = match key {
                    GKey::Node(n) => n,
                    _ => NO,
                };
                self.call_dunder(site, v, "__setitem__", &[key_node, src], NO);
            }
            _ => {}
        }
    }

    fn store_key(&mut self, a: u32, kind: ContainerKind, kval: Value, kv: u32, src: u32) {
        match kval {
            Value::Const(c) if c.exact() => {
                let s = self.slot(a, Slot::Key(c));
                self.add_edge(src, s, PLAIN);
            }
            _ => {
                let s = self.slot(a, Slot::Unknown);
                self.add_edge(src, s, PLAIN);
            }
        }
        if kind == ContainerKind::Dict {
            let keys = self.slot(a, Slot::Keys);
            self.add_value(keys, kv);
        }
    }

    fn slice(&mut self, val: Value, dst: u32, lo: Option<i32>, hi: Option<i32>, alloc: u32) {
        match val {
            Value::Container(a, kind) => {
                self.add_val(dst, Value::Container(alloc, kind));
                match lo {
                    Some(lo) => self.add_watch(
                        a,
                        Watch::Slice {
                            target: alloc,
                            lo,
                            hi,
                        },
                    ),
                    None => {
                        let all = self.slot(a, Slot::All);
                        let u = self.slot(alloc, Slot::Unknown);
                        self.add_edge(all, u, PLAIN);
                    }
                }
            }
            Value::Const(GConst::Str(_) | GConst::StrAny) => {
                self.add_val(dst, Value::Const(GConst::StrAny));
            }
            Value::External(..) => self.add_val(dst, val),
            _ => {}
        }
    }

    /// Makes `w` receive the entries of container `a`, present and future.
    fn add_watch(&mut self, a: u32, w: Watch) {
        let list = self.watch.entry(a).or_default();
        if list.contains(&w) {
            return;
        }
        list.push(w);
        let existing = self.slot_list.get(&a).cloned().unwrap_or_default();
        for (slot, n) in existing {
            self.watched_slot(w, slot, n);
        }
        if let Watch::Mirror { target } = w {
            let keys = self.slot(a, Slot::Keys);
            let tk = self.slot(target, Slot::Keys);
            self.add_edge(keys, tk, PLAIN);
        }
    }

    fn watched_slot(&mut self, w: Watch, slot: Slot, n: u32) {
        match w {
            Watch::Slice { target, lo, hi } => match slot {
                Slot::Key(GConst::Int(i)) if i >= lo && hi.is_none_or(|h| i < h) => {
                    let s = self.slot(target, Slot::Key(GConst::Int(i - lo)));
                    self.add_edge(n, s, PLAIN);
                }
                Slot::Key(GConst::Int(_)) => {}
                _ => {
                    let s = self.slot(target, Slot::Unknown);
                    self.add_edge(n, s, PLAIN);
                }
            },
            Watch::Mirror { target } => {
                let s = self.slot(target, slot);
                self.add_edge(n, s, PLAIN);
            }
        }
    }

    fn elems(&mut self, val: Value, dst: u32) {
        match val {
            Value::Container(a, _) => {
                let all = self.slot(a, Slot::All);
                self.add_edge(all, dst, PLAIN);
            }
            Value::Generator(f) => {
                if let Some(y) = self.def_yields(f) {
                    self.add_edge(y, dst, PLAIN);
                }
            }
            _ => {}
        }
    }

    /// A node holding the elements of whatever `src` holds (for `*args` arguments).
    fn elems_node(&mut self, src: u32) -> u32 {
        if let Some(&n) = self.elems_nodes.get(&src) {
            return n;
        }
        let n = self.new_node();
        self.elems_nodes.insert(src, n);
        self.dyn_op(DynOp::Elems { src, dst: n }, &[src]);
        n
    }

    fn def_yields(&self, f: u32) -> Option<u32> {
        let m = *self.def_module.get(f as usize)?;
        let d = self.def_fact(f)?;
        (d.yields != NONE).then(|| self.gnode(m, d.yields))
    }

    fn dyn_alloc(&mut self, site: u32, tag: u32) -> u32 {
        if let Some(&a) = self.dyn_allocs.get(&(site, tag)) {
            return a;
        }
        let a = self.next_alloc;
        self.next_alloc += 1;
        self.dyn_allocs.insert((site, tag), a);
        a
    }

    // ----- iteration and context managers ---------------------------------------------------

    fn iter_start(&mut self, site: u32, v: u32, dst: u32) {
        match self.values[v as usize] {
            Value::Inst(_) | Value::SelfInst(_) => {
                self.call_dunder(site, v, "__iter__", &[], dst);
            }
            _ => self.add_value(dst, v),
        }
    }

    fn iter_next(&mut self, site: u32, v: u32, dst: u32) {
        match self.values[v as usize] {
            Value::Container(a, kind) => {
                let slot = if kind == ContainerKind::Dict {
                    Slot::Keys
                } else {
                    Slot::All
                };
                let s = self.slot(a, slot);
                self.add_edge(s, dst, PLAIN);
            }
            Value::Generator(f) => {
                if let Some(y) = self.def_yields(f) {
                    self.add_edge(y, dst, PLAIN);
                }
            }
            Value::Inst(_) | Value::SelfInst(_) => {
                self.call_dunder(site, v, "__next__", &[], dst);
            }
            Value::Const(GConst::Str(_) | GConst::StrAny) => {
                self.add_val(dst, Value::Const(GConst::StrAny));
            }
            _ => {}
        }
    }

    fn with(&mut self, site: u32, v: u32, dst: u32) {
        match self.values[v as usize] {
            Value::Inst(_) | Value::SelfInst(_) => {
                self.call_dunder(site, v, "__enter__", &[], dst);
                self.call_dunder(site, v, "__exit__", &[], NO);
            }
            Value::Generator(f) => {
                if let Some(y) = self.def_yields(f) {
                    self.add_edge(y, dst, PLAIN);
                }
            }
            _ => self.add_value(dst, v),
        }
    }

    /// Calls a special method of an instance (found through its class, bound).
    fn call_dunder(&mut self, site: u32, v: u32, name: &str, args: &[u32], dst: u32) {
        let attr = self.syms.intern(name);
        let srcs = self.lookup(v, attr);
        let args: Box<[GArg]> = args.iter().map(|&a| GArg::Pos(a)).collect();
        for src in srcs.iter() {
            match *src {
                AttrSrc::Node(n, mode) => {
                    if mode == BindMode::Plain {
                        // Instance attributes do not define special methods.
                        continue;
                    }
                    self.dyn_op(
                        DynOp::CallVia {
                            site,
                            src: n,
                            mode,
                            args: Args::List(args.clone()),
                            dst,
                            flags: 0,
                        },
                        &[n],
                    );
                }
                AttrSrc::Value(_) => {}
            }
        }
    }

    // ----- calls -----------------------------------------------------------------------------

    fn args_vec(&self, args: &Args) -> Vec<GArg> {
        match args {
            Args::List(l) => l.to_vec(),
            &Args::Static { module, start, len } => {
                let m = &self.mods[module as usize];
                let end = (start as usize + len as usize).min(m.args.len());
                m.args[(start as usize).min(end)..end]
                    .iter()
                    .map(|a| match *a {
                        Arg::Pos(n) => GArg::Pos(self.gnode(module, n)),
                        Arg::Kw(s, n) => GArg::Kw(self.gsym(module, s), self.gnode(module, n)),
                        Arg::Star(n) => GArg::Star(self.gnode(module, n)),
                        Arg::KwStar(n) => GArg::KwStar(self.gnode(module, n)),
                    })
                    .collect()
            }
        }
    }

    fn builtin_callee(&mut self, b: u32) -> Callee {
        if let Some(&n) = self.builtin_callee.get(&b) {
            return Callee::Name(n);
        }
        let name = format!("<builtin>.{}", self.syms.resolve(b));
        let n = self.syms.intern(&name);
        self.builtin_callee.insert(b, n);
        Callee::Name(n)
    }

    fn type_callee(&mut self, ty: BuiltinType, attr: u32) -> Callee {
        if let Some(&n) = self.type_callee.get(&(ty, attr)) {
            return Callee::Name(n);
        }
        let name = format!("{}.{}", ty.prefix(), self.syms.resolve(attr));
        let n = self.syms.intern(&name);
        self.type_callee.insert((ty, attr), n);
        Callee::Name(n)
    }

    /// Calls value `v`. `aux` is the class of a zero-argument `super()` call, or the
    /// definition a decorator call decorates.
    fn call_value(&mut self, site: u32, v: u32, args: &Args, dst: u32, flags: u8, aux: u32) {
        let decorator = flags & CALL_DECORATOR != 0;
        let val = self.values[v as usize];
        match val {
            Value::Func(f) | Value::Bound(f) => {
                self.record(site, Callee::Def(f));
                let args = self.args_vec(args);
                let offset = usize::from(matches!(val, Value::Bound(_)));
                self.bind_args(f, &args, offset);
                let Some(d) = self.def_fact(f) else { return };
                let (yields, is_gen) = (d.yields, d.yields != NONE);
                let _ = yields;
                if is_gen {
                    self.add_val(dst, Value::Generator(f));
                } else if let Some(ret) = self.def_ret(f) {
                    let filter = if decorator && aux != NO {
                        DECORATED + aux
                    } else {
                        PLAIN
                    };
                    self.add_edge(ret, dst, filter);
                }
            }
            Value::Class(c) => {
                self.add_val(dst, Value::Inst(c));
                self.construct(site, c, args);
            }
            Value::SelfClass(k) => {
                self.add_val(dst, Value::SelfInst(k));
                let attr = self.syms.intern("__init__");
                let inits = self.cha_definers(k, attr);
                for n in inits {
                    self.dyn_op(
                        DynOp::CallVia {
                            site,
                            src: n,
                            mode: BindMode::Instance,
                            args: args.clone(),
                            dst: NO,
                            flags: 0,
                        },
                        &[n],
                    );
                }
            }
            Value::Inst(_) | Value::SelfInst(_) => {
                let attr = self.syms.intern("__call__");
                let srcs = self.lookup(v, attr);
                for src in srcs.iter() {
                    if let AttrSrc::Node(n, mode) = *src {
                        if mode != BindMode::Plain {
                            self.dyn_op(
                                DynOp::CallVia {
                                    site,
                                    src: n,
                                    mode,
                                    args: args.clone(),
                                    dst,
                                    flags: 0,
                                },
                                &[n],
                            );
                        }
                    }
                }
                if decorator {
                    self.passthrough(args, dst);
                }
            }
            Value::Builtin(b) => {
                let name = self.syms.resolve(b).to_string();
                if decorator {
                    if !matches!(name.as_str(), "staticmethod" | "classmethod" | "property") {
                        let callee = self.builtin_callee(b);
                        self.record(site, callee);
                    }
                    self.passthrough(args, dst);
                    return;
                }
                let callee = self.builtin_callee(b);
                self.record(site, callee);
                self.builtin_call(site, &name, args, dst, aux);
            }
            Value::TypeMethod(ty, attr, recv) => {
                let callee = self.type_callee(ty, attr);
                self.record(site, callee);
                if let Some((a, kind)) = (recv != NO).then(|| self.container_of(recv)).flatten() {
                    let name = self.syms.resolve(attr).to_string();
                    self.container_method(site, a, kind, &name, args, dst);
                }
            }
            Value::External(x, _) => {
                self.record(site, Callee::Name(x));
                if decorator {
                    self.passthrough(args, dst);
                } else if looks_like_class(self.syms.resolve(x)) {
                    // An instance of an external class keeps the class's name (PyCG's
                    // `ext.Cls().fun()` is `ext.Cls.fun`). What an external function returns
                    // is unknown: naming it after the function would invent attributes.
                    self.add_value(dst, v);
                } else {
                    self.add_val(dst, Value::Opaque);
                }
            }
            Value::Opaque => {
                if decorator {
                    self.passthrough(args, dst);
                }
            }
            Value::Module(_)
            | Value::Const(_)
            | Value::Container(..)
            | Value::Generator(_)
            | Value::Super(_)
            | Value::Top => {}
        }
    }

    /// A decorator the analysis cannot see into leaves the function as it was.
    fn passthrough(&mut self, args: &Args, dst: u32) {
        let args = self.args_vec(args);
        if let Some(GArg::Pos(a)) = args.first() {
            self.add_edge(*a, dst, PLAIN);
        }
    }

    fn construct(&mut self, site: u32, c: u32, args: &Args) {
        let attr = self.syms.intern("__init__");
        let mro = self
            .classes
            .get(&c)
            .map(|i| i.mro.clone())
            .unwrap_or_else(|| vec![c]);
        for &k in &mro {
            if let Some(n) = self.class_attr(k, attr) {
                self.dyn_op(
                    DynOp::CallVia {
                        site,
                        src: n,
                        mode: BindMode::Instance,
                        args: args.clone(),
                        dst: NO,
                        flags: 0,
                    },
                    &[n],
                );
                return;
            }
        }
        let ext = self
            .classes
            .get(&c)
            .map(|i| i.ext_bases.clone())
            .unwrap_or_default();
        if let Some(&e) = ext.first() {
            let name = self.join(e, attr);
            self.record(site, Callee::Name(name));
        }
    }

    fn bind_args(&mut self, f: u32, args: &[GArg], offset: usize) {
        let Some(m) = self.def_module.get(f as usize).copied() else {
            return;
        };
        let Some(d) = self.def_fact(f) else { return };
        let params: Vec<ParamFact> = d.params.clone();
        let positional: Vec<&ParamFact> = params
            .iter()
            .filter(|p| p.kind == ParamKind::Positional)
            .collect();
        let varargs = params.iter().find(|p| p.kind == ParamKind::VarArgs);
        let varkw = params.iter().find(|p| p.kind == ParamKind::VarKeywords);
        let vararg_slot = varargs.map(|p| {
            let a = self.alloc_base[m as usize] + p.alloc;
            self.slot(a, Slot::Unknown)
        });
        let mut i = offset;
        for arg in args {
            match *arg {
                GArg::Pos(n) => {
                    if n != NO {
                        if let Some(p) = positional.get(i) {
                            let pn = self.gnode(m, p.node);
                            self.add_edge(n, pn, PLAIN);
                        } else if let Some(s) = vararg_slot {
                            self.add_edge(n, s, PLAIN);
                        }
                    }
                    i += 1;
                }
                GArg::Kw(name, n) => {
                    if n == NO {
                        continue;
                    }
                    let local = params.iter().find(|p| {
                        matches!(p.kind, ParamKind::Positional | ParamKind::KeywordOnly)
                            && self.gsym(m, p.name) == name
                    });
                    if let Some(p) = local {
                        let pn = self.gnode(m, p.node);
                        self.add_edge(n, pn, PLAIN);
                    } else if let Some(p) = varkw {
                        let a = self.alloc_base[m as usize] + p.alloc;
                        let s = self.slot(a, Slot::Key(GConst::Str(name)));
                        self.add_edge(n, s, PLAIN);
                        let keys = self.slot(a, Slot::Keys);
                        self.add_val(keys, Value::Const(GConst::Str(name)));
                    }
                }
                GArg::Star(n) => {
                    if n == NO {
                        continue;
                    }
                    let e = self.elems_node(n);
                    for p in positional.iter().skip(i) {
                        let pn = self.gnode(m, p.node);
                        self.add_edge(e, pn, PLAIN);
                    }
                    if let Some(s) = vararg_slot {
                        self.add_edge(e, s, PLAIN);
                    }
                }
                GArg::KwStar(n) => {
                    if n == NO {
                        continue;
                    }
                    let e = self.elems_node(n);
                    for p in params.iter().filter(|p| {
                        matches!(p.kind, ParamKind::Positional | ParamKind::KeywordOnly)
                    }) {
                        let pn = self.gnode(m, p.node);
                        self.add_edge(e, pn, PLAIN);
                    }
                    if let Some(p) = varkw {
                        let a = self.alloc_base[m as usize] + p.alloc;
                        let s = self.slot(a, Slot::Unknown);
                        self.add_edge(e, s, PLAIN);
                    }
                }
            }
        }
    }

    /// What the builtins that move values do.
    fn builtin_call(&mut self, site: u32, name: &str, args: &Args, dst: u32, super_class: u32) {
        let args = self.args_vec(args);
        let pos: Vec<u32> = args
            .iter()
            .filter_map(|a| match *a {
                GArg::Pos(n) => Some(n),
                _ => None,
            })
            .collect();
        let arg = |i: usize| pos.get(i).copied().unwrap_or(NO);
        if calls_its_arguments(name) {
            // The callables among the arguments are called with the elements of the others.
            let mut elems = Vec::new();
            for a in args.iter() {
                let n = match *a {
                    GArg::Pos(n) | GArg::Kw(_, n) | GArg::Star(n) => n,
                    GArg::KwStar(_) => continue,
                };
                if n != NO {
                    elems.push(self.elems_node(n));
                }
            }
            let elem_args: Box<[GArg]> = elems.iter().map(|&e| GArg::Pos(e)).take(1).collect();
            let results = if name == "map" {
                let a = self.dyn_alloc(site, 0);
                self.add_val(dst, Value::Container(a, ContainerKind::List));
                self.slot(a, Slot::Unknown)
            } else {
                NO
            };
            for a in args.iter() {
                let n = match *a {
                    GArg::Pos(n) | GArg::Kw(_, n) => n,
                    _ => continue,
                };
                if n == NO {
                    continue;
                }
                self.dyn_op(
                    DynOp::CallVia {
                        site,
                        src: n,
                        mode: BindMode::Plain,
                        args: Args::List(elem_args.clone()),
                        dst: results,
                        flags: 0,
                    },
                    &[n],
                );
            }
            if name != "map" {
                // filter, sorted, min, max: the elements themselves come back.
                let first = arg(0);
                if first != NO {
                    let e = self.elems_node(first);
                    if name == "min" || name == "max" {
                        self.add_edge(e, dst, PLAIN);
                        for &p in &pos {
                            self.add_edge(p, dst, PLAIN);
                        }
                    } else {
                        let a = self.dyn_alloc(site, 0);
                        self.add_val(dst, Value::Container(a, ContainerKind::List));
                        let u = self.slot(a, Slot::Unknown);
                        if name == "filter" {
                            let e2 = self.elems_node(arg(1));
                            self.add_edge(e2, u, PLAIN);
                        }
                        self.add_edge(e, u, PLAIN);
                    }
                }
            }
            return;
        }
        match name {
            "super" => {
                if pos.is_empty() {
                    if super_class != NO {
                        self.add_val(dst, Value::Super(super_class));
                    }
                } else {
                    self.dyn_op(DynOp::Super2 { src: arg(0), dst }, &[arg(0)]);
                }
            }
            "staticmethod" | "classmethod" | "property" => {
                self.add_edge(arg(0), dst, PLAIN);
            }
            "str" | "repr" | "format" | "chr" | "input" | "raw_input" | "unicode" | "hex"
            | "oct" | "bin" | "ascii" => self.add_val(dst, Value::Const(GConst::StrAny)),
            "int" | "len" | "hash" | "ord" | "id" | "round" | "abs" | "sum" | "long" => {
                self.add_val(dst, Value::Const(GConst::IntAny))
            }
            "float" => self.add_val(dst, Value::Const(GConst::Float)),
            "list" | "tuple" | "set" | "frozenset" | "sorted" | "reversed" => {
                let kind = match name {
                    "tuple" => ContainerKind::Tuple,
                    "set" | "frozenset" => ContainerKind::Set,
                    _ => ContainerKind::List,
                };
                let a = self.dyn_alloc(site, 0);
                self.add_val(dst, Value::Container(a, kind));
                if arg(0) != NO {
                    let e = self.iter_elems_node(site, arg(0));
                    let u = self.slot(a, Slot::Unknown);
                    self.add_edge(e, u, PLAIN);
                }
            }
            "dict" => {
                let a = self.dyn_alloc(site, 0);
                self.add_val(dst, Value::Container(a, ContainerKind::Dict));
                for arg in &args {
                    match *arg {
                        GArg::Kw(k, n) => {
                            let s = self.slot(a, Slot::Key(GConst::Str(k)));
                            self.add_edge(n, s, PLAIN);
                            let keys = self.slot(a, Slot::Keys);
                            self.add_val(keys, Value::Const(GConst::Str(k)));
                        }
                        GArg::Pos(n) | GArg::KwStar(n) => {
                            if n != NO {
                                // Copying another dictionary keeps its entries, roughly.
                                self.add_edge(n, dst, PLAIN);
                            }
                        }
                        GArg::Star(_) => {}
                    }
                }
            }
            "iter" => self.add_edge(arg(0), dst, PLAIN),
            "next" => {
                if arg(0) != NO {
                    self.dyn_op(
                        DynOp::IterNext {
                            site,
                            src: arg(0),
                            dst,
                        },
                        &[arg(0)],
                    );
                }
                if arg(1) != NO {
                    self.add_edge(arg(1), dst, PLAIN);
                }
            }
            "enumerate" | "zip" => {
                let outer = self.dyn_alloc(site, 0);
                let tuple = self.dyn_alloc(site, 1);
                self.add_val(dst, Value::Container(outer, ContainerKind::List));
                let u = self.slot(outer, Slot::Unknown);
                self.add_val(u, Value::Container(tuple, ContainerKind::Tuple));
                if name == "enumerate" {
                    let s0 = self.slot(tuple, Slot::Key(GConst::Int(0)));
                    self.add_val(s0, Value::Const(GConst::IntAny));
                    if arg(0) != NO {
                        let e = self.iter_elems_node(site, arg(0));
                        let s1 = self.slot(tuple, Slot::Key(GConst::Int(1)));
                        self.add_edge(e, s1, PLAIN);
                    }
                } else {
                    for (i, &p) in pos.iter().enumerate().take(MAX_ZIP) {
                        if p == NO {
                            continue;
                        }
                        let e = self.iter_elems_node(site, p);
                        let s = self.slot(tuple, Slot::Key(GConst::Int(i as i32)));
                        self.add_edge(e, s, PLAIN);
                    }
                }
            }
            "getattr" => {
                let (base, attr) = (arg(0), arg(1));
                if base != NO && attr != NO {
                    self.dyn_op(
                        DynOp::GetAttr {
                            base,
                            name: attr,
                            dst,
                            site,
                        },
                        &[base, attr],
                    );
                }
                if arg(2) != NO {
                    self.add_edge(arg(2), dst, PLAIN);
                }
            }
            "setattr" => {
                let (base, attr, src) = (arg(0), arg(1), arg(2));
                if base != NO && attr != NO && src != NO {
                    self.dyn_op(
                        DynOp::SetAttr {
                            base,
                            name: attr,
                            src,
                        },
                        &[base, attr],
                    );
                }
            }
            "type" => {
                if pos.len() == 1 && arg(0) != NO {
                    self.dyn_op(DynOp::TypeOf { src: arg(0), dst }, &[arg(0)]);
                }
            }
            _ => {}
        }
    }

    /// A node holding what iterating `src` yields (calling `__iter__`/`__next__` if needed).
    fn iter_elems_node(&mut self, site: u32, src: u32) -> u32 {
        let e = self.new_node();
        self.dyn_op(DynOp::IterNext { site, src, dst: e }, &[src]);
        e
    }

    fn container_method(
        &mut self,
        site: u32,
        a: u32,
        kind: ContainerKind,
        name: &str,
        args: &Args,
        dst: u32,
    ) {
        let args = self.args_vec(args);
        let pos: Vec<u32> = args
            .iter()
            .filter_map(|x| match *x {
                GArg::Pos(n) => Some(n),
                _ => None,
            })
            .collect();
        let arg = |i: usize| pos.get(i).copied().unwrap_or(NO);
        match (kind, name) {
            (ContainerKind::List | ContainerKind::Set, "append" | "add") => {
                let u = self.slot(a, Slot::Unknown);
                self.add_edge(arg(0), u, PLAIN);
            }
            (ContainerKind::List, "insert") => {
                let u = self.slot(a, Slot::Unknown);
                self.add_edge(arg(1), u, PLAIN);
            }
            (ContainerKind::List | ContainerKind::Set, "extend" | "update") => {
                for &p in &pos {
                    if p != NO {
                        let e = self.iter_elems_node(site, p);
                        let u = self.slot(a, Slot::Unknown);
                        self.add_edge(e, u, PLAIN);
                    }
                }
            }
            (_, "pop" | "copy") => {
                if name == "copy" {
                    let v = self.value(Value::Container(a, kind));
                    self.add_value(dst, v);
                } else {
                    let all = self.slot(a, Slot::All);
                    self.add_edge(all, dst, PLAIN);
                    if kind == ContainerKind::Dict {
                        self.add_edge(arg(1), dst, PLAIN);
                    }
                }
            }
            (ContainerKind::Dict, "get" | "setdefault") => {
                let key = arg(0);
                let k = if key == NO {
                    GKey::Unknown
                } else {
                    GKey::Node(key)
                };
                let (exact, any) = self.key_values(k);
                if any || exact.is_empty() {
                    let all = self.slot(a, Slot::All);
                    self.add_edge(all, dst, PLAIN);
                } else {
                    for c in exact {
                        let s = self.slot(a, Slot::Key(c));
                        self.add_edge(s, dst, PLAIN);
                    }
                    let u = self.slot(a, Slot::Unknown);
                    self.add_edge(u, dst, PLAIN);
                }
                self.add_edge(arg(1), dst, PLAIN);
                if name == "setdefault" && arg(1) != NO {
                    if key == NO {
                        let u = self.slot(a, Slot::Unknown);
                        self.add_edge(arg(1), u, PLAIN);
                    } else {
                        let vals: Vec<u32> = self.node_values(key).to_vec();
                        for kv in vals {
                            let kval = self.values[kv as usize];
                            self.store_key(a, kind, kval, kv, arg(1));
                        }
                    }
                }
            }
            (ContainerKind::Dict, "values" | "itervalues") => {
                let view = self.dyn_alloc(site, 0);
                self.add_val(dst, Value::Container(view, ContainerKind::List));
                let all = self.slot(a, Slot::All);
                let u = self.slot(view, Slot::Unknown);
                self.add_edge(all, u, PLAIN);
            }
            (ContainerKind::Dict, "keys" | "iterkeys") => {
                let view = self.dyn_alloc(site, 0);
                self.add_val(dst, Value::Container(view, ContainerKind::List));
                let keys = self.slot(a, Slot::Keys);
                let u = self.slot(view, Slot::Unknown);
                self.add_edge(keys, u, PLAIN);
            }
            (ContainerKind::Dict, "items" | "iteritems") => {
                let view = self.dyn_alloc(site, 0);
                let tuple = self.dyn_alloc(site, 1);
                self.add_val(dst, Value::Container(view, ContainerKind::List));
                let u = self.slot(view, Slot::Unknown);
                self.add_val(u, Value::Container(tuple, ContainerKind::Tuple));
                let keys = self.slot(a, Slot::Keys);
                let s0 = self.slot(tuple, Slot::Key(GConst::Int(0)));
                self.add_edge(keys, s0, PLAIN);
                let all = self.slot(a, Slot::All);
                let s1 = self.slot(tuple, Slot::Key(GConst::Int(1)));
                self.add_edge(all, s1, PLAIN);
            }
            (ContainerKind::Dict, "update") => {
                for x in &args {
                    match *x {
                        GArg::Pos(n) | GArg::KwStar(n) => {
                            if n != NO {
                                self.dyn_op(DynOp::Mirror { src: n, target: a }, &[n]);
                            }
                        }
                        GArg::Kw(k, n) => {
                            let s = self.slot(a, Slot::Key(GConst::Str(k)));
                            self.add_edge(n, s, PLAIN);
                        }
                        GArg::Star(_) => {}
                    }
                }
            }
            _ => {}
        }
    }

    // ----- class hierarchies ---------------------------------------------------------------

    fn compute_classes(&mut self) {
        let mut bases: FxMap<u32, (Vec<u32>, Vec<u32>)> = FxMap::default();
        let mods = self.mods.clone();
        for (mi, m) in mods.iter().enumerate() {
            let mi = mi as u32;
            for (di, d) in m.defs.iter().enumerate() {
                if d.kind != DefKind::Class {
                    continue;
                }
                let gd = self.gdef(mi, di as u32);
                let mut prog = Vec::new();
                let mut ext = Vec::new();
                for (i, sref) in d.base_refs.iter().enumerate() {
                    let targets = match sref {
                        Some(r) => self.resolve_static(mi, r.scope, &r.path),
                        None => Vec::new(),
                    };
                    if targets.is_empty() {
                        if let Some(&node) = d.bases.get(i) {
                            let gn = self.gnode(mi, node);
                            if gn != NO {
                                self.dynamic_bases.push((gd, gn));
                            }
                        }
                    }
                    for t in targets {
                        match t {
                            StaticTarget::Class(c) => prog.push(c),
                            StaticTarget::External(e) => ext.push(e),
                            _ => {}
                        }
                    }
                }
                let attrs: Vec<(u32, u32)> = {
                    let mut a: Vec<(u32, u32)> = d
                        .attrs
                        .iter()
                        .map(|&(s, n)| (self.gsym(mi, s), self.gnode(mi, n)))
                        .collect();
                    a.sort_unstable();
                    a
                };
                let mut self_attrs: Vec<u32> =
                    d.self_attrs.iter().map(|&s| self.gsym(mi, s)).collect();
                self_attrs.sort_unstable();
                for &(a, _) in &attrs {
                    self.definers.entry(a).or_default().push(gd);
                }
                bases.insert(gd, (prog, ext));
                self.classes.insert(
                    gd,
                    ClassInfo {
                        attrs,
                        self_attrs,
                        ..ClassInfo::default()
                    },
                );
            }
        }
        self.linearize(&bases);
    }

    /// Computes every class's method resolution order (C3; a plain depth-first order when C3
    /// fails or the hierarchy has a cycle) and subclass lists, without recursion.
    fn linearize(&mut self, bases: &FxMap<u32, (Vec<u32>, Vec<u32>)>) {
        let mut mros: FxMap<u32, Vec<u32>> = FxMap::default();
        let mut ext_of: FxMap<u32, Vec<u32>> = FxMap::default();
        let mut classes: Vec<u32> = bases.keys().copied().collect();
        classes.sort_unstable();
        // 0 = not started, 1 = in progress, 2 = done.
        let mut state: FxMap<u32, u8> = FxMap::default();
        for &start in &classes {
            if state.get(&start).copied().unwrap_or(0) != 0 {
                continue;
            }
            let mut stack: Vec<(u32, bool)> = vec![(start, false)];
            while let Some((c, expanded)) = stack.pop() {
                let st = state.get(&c).copied().unwrap_or(0);
                if !expanded {
                    if st != 0 {
                        continue;
                    }
                    state.insert(c, 1);
                    stack.push((c, true));
                    if let Some((prog, _)) = bases.get(&c) {
                        for &b in prog.iter().rev() {
                            if state.get(&b).copied().unwrap_or(0) == 0 && bases.contains_key(&b) {
                                stack.push((b, false));
                            }
                        }
                    }
                    continue;
                }
                // All bases are done (or in progress: a cycle, which is left out).
                let (prog, ext) = bases.get(&c).cloned().unwrap_or_default();
                let base_mros: Vec<Vec<u32>> = prog
                    .iter()
                    .filter(|b| **b != c && state.get(b).copied() == Some(2))
                    .map(|b| mros.get(b).cloned().unwrap_or_else(|| vec![*b]))
                    .collect();
                let direct: Vec<u32> = prog
                    .iter()
                    .copied()
                    .filter(|b| *b != c && state.get(b).copied() == Some(2))
                    .collect();
                let mut mro = vec![c];
                mro.extend(
                    c3_merge(base_mros.clone(), direct.clone()).unwrap_or_else(|| {
                        let mut seen = FxSet::default();
                        let mut out = Vec::new();
                        for m in &base_mros {
                            for &x in m {
                                if x != c && seen.insert(x) {
                                    out.push(x);
                                }
                            }
                        }
                        out
                    }),
                );
                mro.truncate(MAX_MRO);
                let mut exts = ext.clone();
                for &b in &mro[1..] {
                    if let Some(e) = ext_of.get(&b) {
                        for &x in e {
                            if !exts.contains(&x) {
                                exts.push(x);
                            }
                        }
                    }
                }
                ext_of.insert(c, exts);
                mros.insert(c, mro);
                state.insert(c, 2);
            }
        }
        let mut subs: FxMap<u32, Vec<u32>> = FxMap::default();
        for &c in &classes {
            if let Some(mro) = mros.get(&c) {
                for &k in &mro[1..] {
                    subs.entry(k).or_default().push(c);
                }
            }
        }
        for &c in &classes {
            if let Some(info) = self.classes.get_mut(&c) {
                info.mro = mros.remove(&c).unwrap_or_else(|| vec![c]);
                info.ext_bases = ext_of.remove(&c).unwrap_or_default();
                info.subs = subs.remove(&c).unwrap_or_default();
            }
        }
    }

    /// After a solve: the program classes that bases written as expressions (not names)
    /// evaluate to. Returns whether any hierarchy changed.
    fn refine_dynamic_bases(&mut self) -> bool {
        if self.dynamic_bases.is_empty() {
            return false;
        }
        let mut extra: FxMap<u32, Vec<u32>> = FxMap::default();
        for &(class, node) in &self.dynamic_bases {
            for &v in self.node_values(node) {
                if let Value::Class(b) = self.values[v as usize] {
                    if b != class {
                        extra.entry(class).or_default().push(b);
                    }
                }
            }
        }
        if extra.is_empty() {
            return false;
        }
        let mut bases: FxMap<u32, (Vec<u32>, Vec<u32>)> = FxMap::default();
        let classes: Vec<u32> = self.classes.keys().copied().collect();
        for c in classes {
            let info = &self.classes[&c];
            // Direct bases: the classes of the MRO that no other listed base already covers.
            let mut direct: Vec<u32> = Vec::new();
            for &k in &info.mro[1..] {
                let covered = direct
                    .iter()
                    .any(|d| self.classes.get(d).is_some_and(|di| di.mro.contains(&k)));
                if !covered {
                    direct.push(k);
                }
            }
            if let Some(e) = extra.get(&c) {
                for &b in e {
                    if !direct.contains(&b) {
                        direct.push(b);
                    }
                }
            }
            bases.insert(c, (direct, info.ext_bases.clone()));
        }
        self.dynamic_bases.clear();
        self.linearize(&bases);
        true
    }
}

/// A subscript key in global ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum GKey {
    Const(GConst),
    Node(u32),
    Unknown,
}

const MAX_MRO: usize = 256;
const MAX_ZIP: usize = 8;

/// Whether an external dotted name names a class, by Python's naming convention (CapWords).
fn looks_like_class(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    let last = last.trim_start_matches('_');
    last.chars().next().is_some_and(char::is_uppercase)
        && !last
            .chars()
            .all(|c| c.is_uppercase() || c.is_ascii_digit() || c == '_')
}

fn container_type(kind: ContainerKind) -> BuiltinType {
    match kind {
        ContainerKind::List => BuiltinType::List,
        ContainerKind::Tuple => BuiltinType::Tuple,
        ContainerKind::Dict => BuiltinType::Dict,
        ContainerKind::Set => BuiltinType::Set,
    }
}

/// The C3 merge of the bases' linearizations and the list of bases; None when inconsistent.
fn c3_merge(mut seqs: Vec<Vec<u32>>, direct: Vec<u32>) -> Option<Vec<u32>> {
    seqs.push(direct);
    let mut out = Vec::new();
    let mut guard = 0usize;
    loop {
        seqs.retain(|s| !s.is_empty());
        if seqs.is_empty() {
            return Some(out);
        }
        guard += 1;
        if guard > 100_000 {
            return None;
        }
        let mut head = None;
        for s in &seqs {
            let cand = s[0];
            if !seqs.iter().any(|t| t[1..].contains(&cand)) {
                head = Some(cand);
                break;
            }
        }
        let h = head?;
        out.push(h);
        for s in &mut seqs {
            if s[0] == h {
                s.remove(0);
            }
        }
    }
}

/// What a name resolves to before solving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum StaticTarget {
    Class(u32),
    Function(u32),
    Module(u32),
    External(u32),
    Builtin(u32),
}
