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
//!
//! Three things make the state fit incremental updates (`incremental.rs`):
//! - ids are stable: every module keeps maps from its local numbering to global ids, and a
//!   definition's global id is keyed by its qualified name, so an edit elsewhere in a module
//!   keeps the ids (and the values naming them) of its unchanged definitions;
//! - everything a constraint derives (edges, values, dynamic constraints, watches, call
//!   edges) is recorded with that constraint, with reference counts where constraints share;
//! - a node that would hold more than `MAX_VALUES` values is saturated: it holds `Top` from
//!   then on, passes nothing else on, and what its constraints derived from earlier values is
//!   taken back. Saturated nodes are barriers, which keeps the regions an edit affects small,
//!   and the result does not depend on the order values arrived in.

use std::sync::Arc;

use rayon::prelude::*;
use rayon::slice::ParallelSliceMut;

use super::builtins::{calls_its_arguments, is_builtin, BuiltinType};
use super::facts::*;
use super::util::{
    arena_alloc, is_within, FxMap, FxSet, HashChains, IdMap, IdTable, Interner, LocTable,
};

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

/// A node with more values than this propagates new values (along its edges and to its
/// constraints) only once the queue has emptied (`Solver::deferred`). Such nodes often go on
/// to saturate, and what their values derived before is then taken back: on Django, nodes
/// that ended up saturated took 68% of the values the propagation inserted and 42% of the
/// constraint firings (counted with a temporary probe in `push_value` and `fire`). A deferred
/// node that saturates meanwhile passes on `Top` alone. Against propagating at once, in
/// interleaved runs of `TANDEM_BENCH_MEMORY_STAGES=1 tandem-bench index-memory-child DIR ROOT`
/// (the full-solve line): Django's propagation about 300 → 100 ms with 10,530 → 9,015
/// saturated nodes, the standard library's about 1,300 → 1,050 ms; thresholds 8 and 16
/// measured alike, 64 slower.
const DEFER_AT: usize = 32;

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
    /// `ModuleFacts::args[start..start + len]` of the module in slot `module` (read at once:
    /// positions change when the module is edited).
    Static {
        module: u32,
        start: u32,
        len: u32,
    },
    List(Arc<[GArg]>),
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
        args: Arc<[GArg]>,
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
    /// `d.get(key)` and `d.setdefault(key, default)` on dictionary `alloc`, for each value of
    /// `key`: the entry under that key flows to `dst`, and `setdefault` stores `default`
    /// (`NO` for `get`) under it. A constraint on `key` rather than a read of its values
    /// when the call is resolved, so that key values that arrive later count too.
    DictKey {
        key: u32,
        alloc: u32,
        kind: ContainerKind,
        default: u32,
        dst: u32,
    },
}

impl DynOp {
    /// The nodes whose values fire the constraint.
    fn watched(&self) -> [u32; 2] {
        match *self {
            DynOp::Bind { src, .. }
            | DynOp::CallVia { src, .. }
            | DynOp::Elems { src, .. }
            | DynOp::IterNext { src, .. }
            | DynOp::Super2 { src, .. }
            | DynOp::TypeOf { src, .. }
            | DynOp::Mirror { src, .. } => [src, NO],
            DynOp::DictKey { key, .. } => [key, NO],
            DynOp::GetAttr { base, name, .. } | DynOp::SetAttr { base, name, .. } => [base, name],
        }
    }

    /// Whether the constraint does something with `Top`; others ignore it. A `DictKey` does
    /// (a key too many values reach is any key): it watches only its key, so when the key
    /// saturates nothing else would derive its entries again (`rederive_and_replay`).
    fn acts_on_top(&self) -> bool {
        matches!(self, DynOp::DictKey { .. })
    }
}

/// A container receiving the entries of another.
/// Indexes at or above this are not followed through slices (see `watched_slot`).
const MAX_SLICED_INDEX: i32 = 256;

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

/// A constraint registered on a node: it fires on each value of the node.
#[derive(Clone, Copy, Debug)]
struct Trig {
    /// The constraint: a global static op id, or `DYN | dynamic op id`.
    op: u32,
    next: u32,
}

/// Marks dynamic constraint ids (and creators) among static op ids.
pub(crate) const DYN: u32 = 1 << 31;

#[derive(Clone, Copy, Debug)]
struct EdgeRec {
    src: u32,
    dst: u32,
    next: u32,
    filter: u32,
    /// How many constraints want the edge; 0 means removed. A constraint that asks for an
    /// edge again takes no second reference when one of its last `RECENT_EFFECTS` records
    /// is that edge; otherwise it takes one more and records it again, and taking the
    /// constraint back gives up both.
    refs: u32,
}

// An edge is 20 bytes. It held the constraint that last took a reference too, to skip that
// constraint's repeats; looking at the constraint's last records instead gave 2.7% more edge
// records on the standard library (1,285,309 → 1,319,485) and 7 MB less in edges (peak 480 →
// 472 MiB; `TANDEM_BENCH_MEMORY_STAGES=1 tandem-bench index-memory-child`). It also linked the
// edges into each node (with a head per node), which only re-derivation reads:
// `Solver::edges_into` finds them by one pass over the edges instead.
const _: () = assert!(std::mem::size_of::<EdgeRec>() == 20);

/// The hash `Solver::edge_ids` indexes an edge under.
fn edge_hash(src: u32, dst: u32, filter: u32) -> u64 {
    HashChains::hash(&(src, dst, filter))
}

/// Nodes with this many out-edges find their edges through `Solver::edge_ids`; others walk
/// their out-edges.
const HUB_DEGREE: u8 = 16;

/// Edge filters: every value, values other than literals, or (`DECORATED + f`) what a
/// decorator applied to definition `f` returns (see `passes`).
pub(crate) const PLAIN: u32 = 0;
pub(crate) const OBJ_ONLY: u32 = 1;
const DECORATED: u32 = 2;

/// The values of one node, in insertion order (so that the values not yet propagated are a
/// suffix). Most nodes hold one to three values: those are kept inline, without allocating;
/// large sets keep a hash table of their values for membership (`HeapSet::table`). A
/// saturated node holds `Top` only. Each set also counts how many of its values have been
/// propagated (`done`: kept in the set, where the propagation reads it with the values,
/// rather than in an array of its own).
#[derive(Debug, Clone)]
enum ValSet {
    Inline { len: u8, done: u8, vals: [u32; 3] },
    Heap(Box<HeapSet>),
}

#[derive(Debug, Clone, Default)]
struct HeapSet {
    vals: Vec<u32>,
    /// Once the set holds more than `BIG_SET` values: an open-addressing table of them (linear
    /// probing, `EMPTY` for a free entry, at most three quarters full). The hubs that grow towards
    /// `MAX_VALUES` are asked about a value far more often than they gain one, and a binary
    /// search over a sorted copy was the propagation's costliest step.
    table: Vec<u32>,
    done: u32,
}

/// A free entry of `HeapSet::table` (value ids are indexes into `Solver::values`, far below).
const EMPTY: u32 = u32::MAX;

impl HeapSet {
    fn slot_of(table: &[u32], v: u32) -> usize {
        let mask = table.len() - 1;
        let mut i = (v.wrapping_mul(0x9E37_79B9) >> 7) as usize & mask;
        while table[i] != EMPTY && table[i] != v {
            i = (i + 1) & mask;
        }
        i
    }

    fn table_contains(&self, v: u32) -> bool {
        self.table[Self::slot_of(&self.table, v)] == v
    }

    /// Adds `v` (not yet in the set, already pushed on `vals`) to the table, building or
    /// growing the table as needed.
    fn table_insert(&mut self, v: u32) {
        if 4 * self.vals.len() > 3 * self.table.len() {
            let cap = (2 * self.vals.len()).next_power_of_two();
            self.table = vec![EMPTY; cap];
            for &x in &self.vals {
                let i = Self::slot_of(&self.table, x);
                self.table[i] = x;
            }
        } else {
            let i = Self::slot_of(&self.table, v);
            self.table[i] = v;
        }
    }
}

impl Default for ValSet {
    fn default() -> Self {
        ValSet::Inline {
            len: 0,
            done: 0,
            vals: [0; 3],
        }
    }
}

const BIG_SET: usize = 16;

// A set is 16 bytes: the solver keeps one per node that ever held a value.
const _: () = assert!(std::mem::size_of::<ValSet>() == 16);

impl ValSet {
    fn as_slice(&self) -> &[u32] {
        match self {
            ValSet::Inline { len, vals, .. } => &vals[..usize::from(*len)],
            ValSet::Heap(h) => &h.vals,
        }
    }

    /// How many values have been propagated.
    fn done(&self) -> usize {
        match self {
            ValSet::Inline { done, .. } => usize::from(*done),
            ValSet::Heap(h) => h.done as usize,
        }
    }

    fn set_done(&mut self, n: usize) {
        match self {
            // An inline set holds at most three values.
            ValSet::Inline { done, .. } => *done = n as u8,
            ValSet::Heap(h) => h.done = n as u32,
        }
    }

    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn saturated(&self) -> bool {
        self.as_slice() == [TOP]
    }

    fn contains(&self, v: u32) -> bool {
        match self {
            ValSet::Heap(h) if h.vals.len() > BIG_SET => h.table_contains(v),
            _ => self.as_slice().contains(&v),
        }
    }

    fn insert(&mut self, v: u32) -> bool {
        if self.contains(v) {
            return false;
        }
        match self {
            ValSet::Inline { len, vals, .. } if usize::from(*len) < vals.len() => {
                vals[usize::from(*len)] = v;
                *len += 1;
            }
            ValSet::Inline { vals, done, .. } => {
                let mut h = HeapSet {
                    vals: Vec::with_capacity(8),
                    table: Vec::new(),
                    done: u32::from(*done),
                };
                h.vals.extend_from_slice(vals);
                h.vals.push(v);
                *self = ValSet::Heap(Box::new(h));
            }
            ValSet::Heap(h) => {
                h.vals.push(v);
                if h.vals.len() > BIG_SET {
                    h.table_insert(v);
                }
            }
        }
        true
    }

    fn clear(&mut self) {
        *self = ValSet::default();
    }

    fn heap_bytes(&self) -> usize {
        match self {
            ValSet::Inline { .. } => 0,
            ValSet::Heap(h) => 48 + 4 * (h.vals.capacity() + h.table.capacity()),
        }
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

/// The call edges found: for each global call site, its callees with how many constraints
/// found each. A list per site in an arena, its head in a vector indexed by site id (sites are
/// numbered densely): 12 bytes per edge and 4 per site, where a hash map of per-site lists
/// took about twice that, and reading a module's sites is a walk rather than a lookup each.
#[derive(Default, Debug)]
pub(crate) struct CallTable {
    heads: Vec<u32>,
    /// (callee, count, next), the callee packed by `pack_callee`.
    arena: Vec<(u32, u32, u32)>,
    free: Vec<u32>,
}

/// Marks a `Callee::Name` among packed callees.
const CALLEE_NAME: u32 = 1 << 31;

fn pack_callee(c: Callee) -> u32 {
    let (id, tag) = match c {
        Callee::Def(d) => (d, 0),
        Callee::Name(n) => (n, CALLEE_NAME),
    };
    // Definition and string ids are far below 2^31 (that many would not fit in memory).
    assert!(id < CALLEE_NAME, "call-graph callee id overflow");
    id | tag
}

fn unpack_callee(p: u32) -> Callee {
    if p & CALLEE_NAME == 0 {
        Callee::Def(p)
    } else {
        Callee::Name(p & !CALLEE_NAME)
    }
}

impl CallTable {
    /// The callees of `site`, in the order they were found.
    pub(crate) fn callees(&self, site: u32) -> impl Iterator<Item = Callee> + '_ {
        let mut i = self.heads.get(site as usize).copied().unwrap_or(NO);
        std::iter::from_fn(move || {
            let &(c, _, next) = self.arena.get(i as usize)?;
            i = next;
            Some(unpack_callee(c))
        })
    }

    /// Counts one more finding of `callee` at `site`; returns whether it is new.
    fn add(&mut self, site: u32, callee: Callee) -> bool {
        let c = pack_callee(callee);
        if self.heads.len() <= site as usize {
            self.heads.resize(site as usize + 1, NO);
        }
        let mut prev = NO;
        let mut i = self.heads[site as usize];
        while i != NO {
            let rec = &mut self.arena[i as usize];
            if rec.0 == c {
                rec.1 += 1;
                return false;
            }
            prev = i;
            i = rec.2;
        }
        let id = arena_alloc(&mut self.arena, &mut self.free, (c, 1, NO));
        // Appended, so that callees stay in the order they were found.
        match prev {
            NO => self.heads[site as usize] = id,
            p => self.arena[p as usize].2 = id,
        }
        true
    }

    /// Counts one finding of `callee` at `site` less; returns whether it is gone.
    fn remove(&mut self, site: u32, callee: Callee) -> bool {
        let c = pack_callee(callee);
        let mut prev = NO;
        let mut i = self.heads.get(site as usize).copied().unwrap_or(NO);
        while i != NO {
            let (rc, count, next) = self.arena[i as usize];
            if rc == c {
                if count > 1 {
                    self.arena[i as usize].1 -= 1;
                    return false;
                }
                match prev {
                    NO => self.heads[site as usize] = next,
                    p => self.arena[p as usize].2 = next,
                }
                self.free.push(i);
                return true;
            }
            prev = i;
            i = next;
        }
        false
    }

    fn shrink(&mut self) {
        trim(&mut self.heads);
        trim(&mut self.arena);
    }

    /// Bytes held, for the benchmarks' estimate.
    fn heap_bytes(&self) -> usize {
        self.heads.capacity() * 4 + self.arena.capacity() * 12 + self.free.capacity() * 4
    }
}

/// Something a constraint derived, recorded so that it can be taken back when the constraint
/// goes away or its inputs change (see `incremental.rs`). A call edge's callee is spelled
/// out in two variants (`CallDef`, `CallName`) rather than nesting a `Callee`, which keeps an
/// effect at 12 bytes: the solver records millions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    Edge(u32),
    Dyn(u32),
    Value(u32, u32),
    CallDef(u32, u32),
    CallName(u32, u32),
    Watch(u32, u32),
}

impl Effect {
    fn call(site: u32, callee: Callee) -> Effect {
        match callee {
            Callee::Def(d) => Effect::CallDef(site, d),
            Callee::Name(n) => Effect::CallName(site, n),
        }
    }
}

/// The effects of every creator, as linked lists in one array of words. A record is the
/// variant in the top bits of a word whose other bits link to the creator's next record, then
/// the effect's one or two ids: 8 bytes for an edge or a dynamic constraint (most of the
/// effects), 12 for the others, where records of one size took 12 for every effect. Records
/// taken out are reused (a free list per size).
#[derive(Default, Debug)]
struct EffectArena {
    words: Vec<u32>,
    free2: Vec<u32>,
    free3: Vec<u32>,
}

const EFFECT_TAG_SHIFT: u32 = 29;
const EFFECT_NEXT: u32 = (1 << EFFECT_TAG_SHIFT) - 1;

impl EffectArena {
    /// Stores `e` linked to `next`; returns where.
    fn push(&mut self, e: Effect, next: u32) -> u32 {
        let (tag, a, b) = match e {
            Effect::Edge(x) => (0, x, None),
            Effect::Dyn(x) => (1, x, None),
            Effect::Value(x, y) => (2, x, Some(y)),
            Effect::CallDef(x, y) => (3, x, Some(y)),
            Effect::CallName(x, y) => (4, x, Some(y)),
            Effect::Watch(x, y) => (5, x, Some(y)),
        };
        let head = (tag << EFFECT_TAG_SHIFT) | (next & EFFECT_NEXT);
        let free = if b.is_some() {
            &mut self.free3
        } else {
            &mut self.free2
        };
        let at = match free.pop() {
            Some(at) => at as usize,
            None => {
                let at = self.words.len();
                self.words.resize(at + 2 + usize::from(b.is_some()), 0);
                at
            }
        };
        // Links have 29 bits: the arena never comes near 2^29 words (2 GB of them).
        assert!(
            at < EFFECT_NEXT as usize && (next == NO || next < EFFECT_NEXT),
            "call-graph effect arena overflow"
        );
        self.words[at] = head;
        self.words[at + 1] = a;
        if let Some(b) = b {
            self.words[at + 2] = b;
        }
        at as u32
    }

    /// The effect at `at` and the next record of its creator.
    fn get(&self, at: u32) -> (Effect, u32) {
        let at = at as usize;
        let head = self.words[at];
        let a = self.words[at + 1];
        let b = || self.words[at + 2];
        let e = match head >> EFFECT_TAG_SHIFT {
            0 => Effect::Edge(a),
            1 => Effect::Dyn(a),
            2 => Effect::Value(a, b()),
            3 => Effect::CallDef(a, b()),
            4 => Effect::CallName(a, b()),
            _ => Effect::Watch(a, b()),
        };
        let next = match head & EFFECT_NEXT {
            EFFECT_NEXT => NO,
            n => n,
        };
        (e, next)
    }

    /// The effects of the list that starts at `head`, in order.
    fn list(&self, head: u32) -> impl Iterator<Item = Effect> + '_ {
        let mut i = head;
        std::iter::from_fn(move || {
            if i == NO {
                return None;
            }
            let (e, next) = self.get(i);
            i = next;
            Some(e)
        })
    }

    /// Makes the record at `at` reusable.
    fn free(&mut self, at: u32) {
        if self.words[at as usize] >> EFFECT_TAG_SHIFT < 2 {
            self.free2.push(at);
        } else {
            self.free3.push(at);
        }
    }

    fn shrink(&mut self) {
        trim(&mut self.words);
    }

    fn heap_bytes(&self) -> usize {
        (self.words.capacity() + self.free2.capacity() + self.free3.capacity()) * 4
    }
}

/// One module of the program and where its local ids live in the global numbering.
pub(crate) struct ModSlot {
    pub facts: Arc<ModuleFacts>,
    /// The module's dotted name, in the global string table.
    pub name: u32,
    pub sym_map: Vec<u32>,
    pub node_map: IdMap,
    pub site_map: IdMap,
    pub alloc_map: IdMap,
    pub op_map: IdMap,
    pub def_map: Vec<u32>,
    /// Module-level names and their nodes, sorted by global string id.
    pub globals: Vec<(u32, u32)>,
    pub star_sources: Vec<u32>,
    pub all_names: Option<Vec<u32>>,
}

/// The solver's state: kept between solves and updated as modules change.
pub(crate) struct Solver {
    pub(crate) mods: Vec<ModSlot>,
    pub(crate) syms: Interner,
    pub(crate) module_by_name: FxMap<u32, u32>,
    /// Dotted prefixes of module names (packages, also those without `__init__.py`).
    pub(crate) packages: FxSet<u32>,
    pub(crate) classes: FxMap<u32, ClassInfo>,
    /// Where each global op, site and definition lives: (module slot, local index); a removed
    /// one has `NO` as its local index.
    pub(crate) op_loc: LocTable,
    pub(crate) site_loc: LocTable,
    pub(crate) def_loc: LocTable,
    /// Stable definition ids: (module name, qualified name, occurrence) → global definition.
    def_keys: FxMap<(u32, u32, u32), u32>,

    values: Vec<Value>,
    value_ids: IdTable,

    set_of: Vec<u32>,
    first_edge: Vec<u32>,
    first_trig: Vec<u32>,
    sets: Vec<ValSet>,
    edges: Vec<EdgeRec>,
    /// How many edges leave each node (static ones included), counted up to `u8::MAX`.
    out_degree: Vec<u8>,
    /// The edges of static copy ops, as a bit set by edge id: they are never shared.
    static_edges: Vec<u64>,
    /// The shared (not static) edges `(src, dst, filter)` leaving nodes with at least
    /// `HUB_DEGREE` edges. Other nodes' edges are found by walking their few out-edges, which
    /// keeps this map to a small part of the edges (a map of every edge was the solver's
    /// largest structure after the edges themselves).
    edge_ids: IdTable,
    trigs: Vec<Trig>,
    queue: Vec<u32>,
    queued: Vec<bool>,
    /// Nodes that saturated since the propagation last settled.
    newly_saturated: Vec<u32>,
    /// Nodes with more than `DEFER_AT` values whose new values wait, not yet propagated, for
    /// the queue to empty; and the same nodes in the order they were deferred. Both are empty
    /// whenever `run` is not running.
    deferred: FxSet<u32>,
    deferred_list: Vec<u32>,
    /// A reusable buffer for the values a node propagates.
    scratch: Vec<u32>,
    dyn_ops: Vec<DynOp>,
    dyn_refs: Vec<u32>,
    /// The live dynamic constraints, indexed by hash (keying a map by the constraints
    /// themselves held a second copy of each).
    dyn_ids: HashChains,

    /// What each constraint derived: lists in an arena, one per creator (heads by static op
    /// id and by dynamic constraint id).
    effect_arena: EffectArena,
    op_effects: Vec<u32>,
    dyn_effects: Vec<u32>,
    /// The constraint whose consequences are being derived (NO while seeding).
    creator: u32,
    /// Values given by the static ops (`Const`, `Def`, `SelfOf`, `Alloc`): (node, value, op),
    /// sorted by node, and those added since the last sort.
    seeds: Vec<(u32, u32, u32)>,
    new_seeds: Vec<(u32, u32, u32)>,
    /// Values constraints gave a node directly (not through an edge): per node, a list in an
    /// arena of (value, creator, next).
    direct_head: Vec<u32>,
    direct_arena: Vec<(u32, u32, u32)>,
    direct_free: Vec<u32>,

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
    /// Containers that receive the entries of a container as they appear, with the creator of
    /// each watch.
    watch: FxMap<u32, Vec<(Watch, u32)>>,
    watch_ids: Vec<Watch>,
    dyn_allocs: FxMap<(u32, u32), u32>,
    pub(crate) next_alloc: u32,
    elems_nodes: FxMap<u32, u32>,
    /// Nodes holding one literal (string and number literals of the source).
    const_nodes: FxSet<u32>,
    lookup_cache: FxMap<(u32, u32), Arc<[AttrSrc]>>,
    exports_cache: FxMap<(u32, u32), bool>,

    /// Call edges found: for each global site, its callees with how many constraints found
    /// each.
    pub(crate) calls: CallTable,
    /// When set, call edges gained (true) and lost (false) are logged here.
    pub(crate) call_log: Option<Vec<(u32, Callee, bool)>>,
    /// What the last incremental update did (for benchmarks).
    pub(crate) report: String,
    settle_rounds: usize,
    /// How many times a node was deferred, and how many of those found the node saturated
    /// when the queue emptied (for the report).
    deferrals: usize,
    deferrals_saturated: usize,
    settle_time: std::time::Duration,
    builtin_callee: FxMap<u32, u32>,
    type_callee: FxMap<(BuiltinType, u32), u32>,
}

/// How many of a constraint's last records `Solver::recently_derived` looks at.
const RECENT_EFFECTS: usize = 8;

/// How many attribute lookups `Solver::lookup_cache` keeps before it starts again. Uncapped,
/// it grew to 10 MB on the standard library by the end of propagation, the peak of a cold build
/// (382 MiB rather than 376 with this cap); the propagation took no longer with the cap
/// (1129-1199 ms without, 1190-1194 with, `TANDEM_BENCH_MEMORY_STAGES=1 tandem-bench
/// index-memory-child`, two runs each).
const LOOKUP_CACHE_MAX: usize = 1 << 15;

/// See `Solver::seed_value`.
const NEW_SEEDS_MERGE_AT: usize = 4096;

/// How many attributes an external name may grow by (see `external_attr`).
const MAX_EXTERNAL_STEPS: usize = 2;

impl Solver {
    /// Lays the program out and solves it from scratch.
    pub(crate) fn build(facts: Vec<Arc<ModuleFacts>>) -> Solver {
        let mut s = Solver {
            mods: Vec::new(),
            syms: Interner::default(),
            module_by_name: FxMap::default(),
            packages: FxSet::default(),
            classes: FxMap::default(),
            op_loc: LocTable::default(),
            site_loc: LocTable::default(),
            def_loc: LocTable::default(),
            def_keys: FxMap::default(),
            values: Vec::new(),
            value_ids: IdTable::default(),
            set_of: Vec::new(),
            first_edge: Vec::new(),
            first_trig: Vec::new(),
            sets: Vec::new(),
            edges: Vec::new(),
            out_degree: Vec::new(),
            static_edges: Vec::new(),
            edge_ids: IdTable::default(),
            trigs: Vec::new(),
            queue: Vec::new(),
            queued: Vec::new(),
            newly_saturated: Vec::new(),
            deferred: FxSet::default(),
            deferred_list: Vec::new(),
            scratch: Vec::new(),
            dyn_ops: Vec::new(),
            dyn_refs: Vec::new(),
            dyn_ids: HashChains::default(),
            effect_arena: EffectArena::default(),
            op_effects: Vec::new(),
            dyn_effects: Vec::new(),
            creator: NO,
            seeds: Vec::new(),
            new_seeds: Vec::new(),
            direct_head: Vec::new(),
            direct_arena: Vec::new(),
            direct_free: Vec::new(),
            inst_attr: FxMap::default(),
            down_attr: FxMap::default(),
            inst_attr_classes: FxMap::default(),
            definers: FxMap::default(),
            mod_attr: FxMap::default(),
            func_attr: FxMap::default(),
            slots: FxMap::default(),
            slot_list: FxMap::default(),
            watch: FxMap::default(),
            watch_ids: Vec::new(),
            dyn_allocs: FxMap::default(),
            next_alloc: 0,
            elems_nodes: FxMap::default(),
            const_nodes: FxSet::default(),
            lookup_cache: FxMap::default(),
            exports_cache: FxMap::default(),
            calls: CallTable::default(),
            call_log: None,
            report: String::new(),
            settle_rounds: 0,
            deferrals: 0,
            deferrals_saturated: 0,
            settle_time: std::time::Duration::ZERO,
            builtin_callee: FxMap::default(),
            type_callee: FxMap::default(),
        };
        let top = s.value(Value::Top);
        debug_assert_eq!(top, TOP);
        let t = std::time::Instant::now();
        s.layout(facts);
        let t1 = t.elapsed();
        s.compute_classes();
        let t2 = t.elapsed();
        s.seed_all();
        s.sort_seeds();
        let t3 = t.elapsed();
        s.run();
        let t4 = t.elapsed();
        s.shrink();
        s.report = format!(
            "full solve: layout {:.0} ms, classes {:.0} ms, seeding {:.0} ms, propagation {:.0} ms ({} rounds for saturated nodes, {:.0} ms; {} deferrals, {} found saturated), shrinking {:.0} ms",
            t1.as_secs_f64() * 1e3,
            (t2 - t1).as_secs_f64() * 1e3,
            (t3 - t2).as_secs_f64() * 1e3,
            (t4 - t3).as_secs_f64() * 1e3,
            s.settle_rounds,
            s.settle_time.as_secs_f64() * 1e3,
            s.deferrals,
            s.deferrals_saturated,
            (t.elapsed() - t4).as_secs_f64() * 1e3,
        );
        s
    }

    // ----- layout ------------------------------------------------------------------------

    /// Gives every module, in order, fresh global ids for everything in it.
    ///
    /// Interning the modules' strings is half of the layout's time (Django: about 6 of
    /// 11 ms) and needs nothing else, so it runs on one core while the other gives out node,
    /// site and op ids; the modules' slots are then filled in from both. The strings are
    /// interned in the order a module at a time would meet them (its strings, its name, its
    /// package prefixes, its definitions' qualified names), so every id is the same as if it
    /// all ran on one core. Layout time, from the `full solve:` line of
    /// `TANDEM_BENCH_MEMORY_STAGES=1 tandem-bench index-memory-child DIR ROOT` in interleaved
    /// runs against the serial layout: Django 11 → 7 ms, the standard library 62–68 → 42–48 ms.
    fn layout(&mut self, facts: Vec<Arc<ModuleFacts>>) {
        debug_assert!(self.mods.is_empty() && self.syms.is_empty());
        self.reserve_for(&facts);
        let ((syms, names), bases) = rayon::join(
            || intern_modules(&facts),
            || {
                let mut bases = Vec::with_capacity(facts.len());
                for (slot, f) in facts.iter().enumerate() {
                    let nodes = self.new_nodes(f.num_nodes);
                    let sites = self.site_loc.push_module(slot as u32, f.sites.len() as u32);
                    let ops = self.op_loc.push_module(slot as u32, f.ops.len() as u32);
                    bases.push((nodes, sites, self.next_alloc, ops));
                    self.next_alloc += f.num_allocs;
                }
                bases
            },
        );
        self.syms = syms;
        for ((facts, names), ids) in facts.into_iter().zip(names).zip(bases) {
            self.install_slot(facts, names, ids);
        }
    }

    /// Puts a module laid out at the next slot into the solver: its names registered, its
    /// globals, star sources and `__all__` in global ids. `ids` are the first node, site,
    /// allocation and op ids of its ranges.
    fn install_slot(
        &mut self,
        facts: Arc<ModuleFacts>,
        names: ModuleSyms,
        (nodes, sites, allocs, ops): (u32, u32, u32, u32),
    ) -> u32 {
        let slot = self.mods.len() as u32;
        let ModuleSyms {
            sym_map,
            name,
            prefixes,
            qualnames,
        } = names;
        self.module_by_name.insert(name, slot);
        self.packages.extend(prefixes);
        let node_map = IdMap::range(nodes, facts.num_nodes);
        let def_map = self.def_ids_of(slot, name, &qualnames);
        let mut globals: Vec<(u32, u32)> = facts
            .globals
            .iter()
            .map(|&(s, n)| (sym_map[s as usize], node_map.get(n as usize).unwrap_or(NO)))
            .collect();
        globals.sort_unstable();
        let (star_sources, all_names) = star_names(&facts, &sym_map);
        self.mods.push(ModSlot {
            site_map: IdMap::range(sites, facts.sites.len() as u32),
            alloc_map: IdMap::range(allocs, facts.num_allocs),
            op_map: IdMap::range(ops, facts.ops.len() as u32),
            facts,
            name,
            sym_map,
            node_map,
            def_map,
            globals,
            star_sources,
            all_names,
        });
        slot
    }

    /// Whether a module named `name` joining the program could change what the program has
    /// already solved: the first reason if so. Without one, the module can be added as a
    /// module of its own (`push_slot`, then `update_module` from empty to its facts). A module
    /// name is read by imports (`import name`, `from name import x`, `from parent import last`,
    /// `from name import *`; the names of package prefixes the module would make packages are
    /// read the same way) and by attribute lookups on its parent package (`parent.last`, which
    /// gives the submodule once there is one). Each import was answered as it was laid out,
    /// and a lookup left its answer in the cache (or, on a module of the program, a node for
    /// outside assignments): any of these about the new name means solving from scratch.
    pub(crate) fn module_name_read(&self, name: &str) -> Option<String> {
        if let Some(n) = self.syms.get(name) {
            if self.module_by_name.contains_key(&n) {
                return Some(format!("module `{name}` is already in the program"));
            }
            if self.is_package_name(n) {
                // A namespace package getting its `__init__.py`: lookups on it found
                // submodules only.
                return Some(format!("package `{name}` gets a module of its own"));
            }
        }
        self.names_read(name, &self.joining_names(name), NO)
    }

    /// A module's name and the package names it would add to the program.
    fn joining_names<'a>(&self, name: &'a str) -> Vec<&'a str> {
        let mut names: Vec<&str> = vec![name];
        for (at, _) in name.match_indices('.') {
            let prefix = &name[..at];
            if !self
                .syms
                .get(prefix)
                .is_some_and(|p| self.is_package_name(p))
            {
                names.push(prefix);
            }
        }
        names
    }

    /// The first import in the program of one of the modules `names` about to join it, or
    /// of a package they would make, described: one scan for them all before any joins
    /// (`add_module` then asks `module_name_read` for each, lookups included).
    pub(crate) fn modules_imported(&self, names: &[&str]) -> Option<String> {
        let all: Vec<&str> = names.iter().flat_map(|n| self.joining_names(n)).collect();
        self.imports_reading(&all, |_| false)
    }

    /// The first import in the program, outside the modules `names` about to leave it, of
    /// one of them, described: one scan for them all before any leaves (`remove_module`
    /// then asks `module_removal_read` for each).
    pub(crate) fn modules_imported_from_outside(&self, names: &[&str]) -> Option<String> {
        let slots: FxSet<u32> = names
            .iter()
            .filter_map(|n| self.module_by_name.get(&self.syms.get(n)?).copied())
            .collect();
        self.imports_reading(names, |mi| slots.contains(&mi))
    }

    /// The first import of a module not `skip`ped that reads one of the module names
    /// `names`, described. Every module is scanned, on all cores.
    fn imports_reading(&self, names: &[&str], skip: impl Fn(u32) -> bool + Sync) -> Option<String> {
        (0..self.mods.len() as u32)
            .into_par_iter()
            .with_min_len(64)
            .filter(|&mi| !skip(mi))
            .find_map_first(|mi| self.module_reads(mi, names))
    }

    /// Whether taking module `slot` out of the program could change what the rest of it has
    /// solved: the first reason if so, as `module_name_read` tells for a module joining it.
    /// The names that change meaning are the module's own and those of the packages that go
    /// with it (prefixes of its name no other module keeps as packages), which are returned
    /// too: nothing but the module itself may read them.
    pub(crate) fn module_removal_read(&self, slot: u32) -> Result<Vec<u32>, String> {
        let Some(m) = self.mods.get(slot as usize) else {
            return Err(format!("no module at slot {slot}"));
        };
        let name = m.facts.name();
        // Package prefixes no other module is or lies under.
        let mut names: Vec<&str> = vec![name];
        let mut gone: Vec<u32> = Vec::new();
        for (at, _) in name.match_indices('.') {
            let prefix = &name[..at];
            let kept = self
                .module_by_name
                .iter()
                .any(|(&n, &other)| other != slot && is_within(self.syms.resolve(n), prefix));
            if !kept {
                names.push(prefix);
                gone.extend(self.syms.get(prefix));
            }
        }
        // Its own imports of itself would give its code a module value to pass on.
        if let Some(why) = self.names_read(name, &names, slot).or_else(|| {
            self.module_reads(slot, &[name])
                .map(|what| format!("it imports itself ({what})"))
        }) {
            return Err(why);
        }
        // A lookup on a package that found a submodule leaves no trace but the module value
        // it gave, which imports make too: one made means the name was read (or once was).
        if let Some(n) = names.iter().find(|n| {
            self.syms
                .get(n)
                .is_some_and(|s| self.value_made(Value::Module(s)))
        }) {
            return Err(format!("the module value of `{n}` was made"));
        }
        Ok(gone)
    }

    /// The first reason why module `name` and the package names `names` (the module's and the
    /// packages it makes) are read by a module other than `skip`: imported (plainly, from
    /// their package, with a star), looked up on the module's parent package, written after
    /// a dot in a base class, or read in the parent package by one.
    ///
    /// Every module is scanned, on all cores: on the standard library, adding a file spent
    /// about 40% of its time here, building the base-class read set (now skipped unless
    /// `may_be_read_after_dot` finds the name) the larger part of it (perf samples of `TANDEM_BENCH_EDITS='new file' TANDEM_BENCH_ONLY=standard
    /// TANDEM_BENCH_EDIT_CORPUS=standard tandem-bench index`).
    fn names_read(&self, name: &str, names: &[&str], skip: u32) -> Option<String> {
        let why = self.imports_reading(names, |mi| mi == skip);
        if why.is_some() {
            return why;
        }
        // Lookups of the last part on the parent package, and base classes written with it
        // after a dot (`pkg.last.Base`) or reading it in the parent (`from pkg import last`,
        // or a star import of `pkg`), resolved before solving.
        if let Some((parent, last)) = name.rsplit_once('.') {
            if let (Some(p), Some(l)) = (self.syms.get(parent), self.syms.get(last)) {
                if self.may_be_read_after_dot(l) {
                    let read = self.names_base_classes_read(NO, &[]);
                    let in_parent = self
                        .module_by_name
                        .get(&p)
                        .is_some_and(|&ps| read.contains(&(ps, l)));
                    if read.contains(&(NO, l)) {
                        return Some(format!("a base class is written with `.{last}`"));
                    }
                    if in_parent {
                        return Some(format!("a base class reads `{last}` in `{parent}`"));
                    }
                }
                let asked = self.mod_attr.contains_key(&(p, l))
                    || self.exports_cache.contains_key(&(p, l))
                    || self.lookup_cache.keys().any(|&(v, attr)| {
                        attr == l && matches!(self.values[v as usize], Value::Module(x) if x == p)
                    });
                if asked {
                    return Some(format!("`{parent}.{last}` was looked up"));
                }
            }
        }
        None
    }

    /// The first import of module `slot` that reads one of the module names `names` (as
    /// `names_read` tells), described.
    fn module_reads(&self, slot: u32, names: &[&str]) -> Option<String> {
        let f = &self.mods.get(slot as usize)?.facts;
        // `module.attr` lies within a name whenever `module` does.
        f.imported_names()
            .find(|full| names.iter().any(|w| is_within(full, w)))
            .map(|full| format!("`{}` imports `{full}`", f.name()))
    }

    /// Lays out one more module after the others, as `layout` lays out each: its strings,
    /// names and definitions get global ids, its nodes, sites, allocations and ops fresh
    /// ranges. Nothing is seeded: `facts` is meant to be an empty module's, brought to the
    /// module's real facts with `update_module`. Returns the new slot.
    pub(crate) fn push_slot(&mut self, facts: Arc<ModuleFacts>) -> u32 {
        let names = intern_module(&mut self.syms, &facts);
        let nodes = self.new_nodes(facts.num_nodes);
        let slot = self.mods.len() as u32;
        let sites = self.site_loc.push_module(slot, facts.sites.len() as u32);
        let ops = self.op_loc.push_module(slot, facts.ops.len() as u32);
        let allocs = self.next_alloc;
        self.next_alloc += facts.num_allocs;
        self.install_slot(facts, names, (nodes, sites, allocs, ops))
    }

    /// Reserves, before a solve from scratch, room for what the solve of `facts` will make,
    /// estimated from the number of static ops: the standard library's 1,463,252 ops made
    /// 1.06 nodes, 1.20 edges, 0.71 triggers and 4.4 effect words per op, Django's 215,404
    /// made 1.18, 1.17, 0.66 and 4.0 (nodes and edges from the `solver_stats` line of
    /// `TANDEM_BENCH_MEMORY_STAGES=1 tandem-bench index-memory-child DIR ROOT` at 3126aa7,
    /// triggers and effect words counted with a temporary probe). Room a vector never uses
    /// costs address space only: the pages are not touched, `shrink` gives them back, and the
    /// peak does not move (375 MiB either way). What it saves is growth by doubling, which
    /// copies each vector into a larger block and touches fresh pages again. Interleaved runs
    /// of that command (the solve is "solved" less "inserted"; page faults from
    /// `/usr/bin/time -f %R`) against the build before, medians on a noisy machine: the
    /// standard library 171,512 → 138,339 page faults and 2,204 → 2,089 ms (6 runs each);
    /// Django's solve 204 → 190 ms (10 runs, with the same reservation switched by a
    /// temporary variable).
    fn reserve_for(&mut self, facts: &[Arc<ModuleFacts>]) {
        let ops: usize = facts.iter().map(|f| f.ops.len()).sum();
        let sites: usize = facts.iter().map(|f| f.sites.len()).sum();
        let static_nodes: usize = facts.iter().map(|f| f.num_nodes as usize).sum();
        let nodes = self.node_count() + static_nodes + ops / 2;
        self.set_of.reserve_exact(nodes);
        self.first_edge.reserve_exact(nodes);
        self.out_degree.reserve_exact(nodes);
        self.direct_head.reserve_exact(nodes);
        self.first_trig.reserve_exact(nodes);
        self.queued.reserve_exact(nodes);
        self.sets.reserve_exact(nodes);
        self.op_loc.reserve(ops);
        self.site_loc.reserve(sites);
        self.edges.reserve_exact(ops * 8 / 5);
        self.trigs.reserve_exact(ops);
        self.effect_arena.words.reserve_exact(ops * 6);
        self.direct_arena.reserve_exact(ops / 3);
        self.dyn_ops.reserve_exact(ops / 5);
        self.dyn_refs.reserve_exact(ops / 5);
        self.op_effects.reserve_exact(ops);
        self.dyn_effects.reserve_exact(ops / 5);
    }

    /// Global ids of a module's definitions, stable across versions of the module: a function
    /// keeps its id (and so do the values naming it, anywhere in the program) as long as its
    /// qualified name does.
    pub(crate) fn def_ids(&mut self, slot: u32, module: u32, facts: &ModuleFacts) -> Vec<u32> {
        let qualnames: Vec<u32> = facts
            .defs
            .iter()
            .map(|d| self.syms.intern(&d.qualname))
            .collect();
        self.def_ids_of(slot, module, &qualnames)
    }

    /// `def_ids` for definitions whose qualified names are interned already, in order.
    fn def_ids_of(&mut self, slot: u32, module: u32, qualnames: &[u32]) -> Vec<u32> {
        let mut seen: FxMap<u32, u32> = FxMap::default();
        let mut out = Vec::with_capacity(qualnames.len());
        for (i, &q) in qualnames.iter().enumerate() {
            let occurrence = seen.entry(q).or_insert(0);
            let key = (module, q, *occurrence);
            *occurrence += 1;
            let id = match self.def_keys.get(&key) {
                Some(&id) => id,
                None => {
                    let id = self.def_loc.push((slot, i as u32));
                    self.def_keys.insert(key, id);
                    id
                }
            };
            self.def_loc.set(id, (slot, i as u32));
            out.push(id);
        }
        out
    }

    pub(crate) fn gsym(&self, module: u32, sym: Sym) -> u32 {
        self.mods[module as usize]
            .sym_map
            .get(sym as usize)
            .copied()
            .unwrap_or(NO)
    }

    pub(crate) fn gnode(&self, module: u32, node: NodeId) -> u32 {
        if node == NONE {
            return NO;
        }
        self.mods[module as usize]
            .node_map
            .get(node as usize)
            .unwrap_or(NO)
    }

    pub(crate) fn gdef(&self, module: u32, def: DefIdx) -> u32 {
        if def == NONE {
            return NO;
        }
        self.mods[module as usize]
            .def_map
            .get(def as usize)
            .copied()
            .unwrap_or(NO)
    }

    fn gsite(&self, module: u32, site: SiteIdx) -> u32 {
        if site == NONE {
            return NO;
        }
        self.mods[module as usize]
            .site_map
            .get(site as usize)
            .unwrap_or(NO)
    }

    /// The global sites of the loads merged into the load at global site `site`.
    fn load_aliases(&self, site: u32) -> Vec<u32> {
        let Some((module, local)) = self.site_loc.get(site) else {
            return Vec::new();
        };
        let facts = &self.mods[module as usize].facts;
        facts
            .load_aliases_of(local)
            .map(|s| self.gsite(module, s))
            .filter(|&s| s != NO)
            .collect()
    }

    fn galloc(&self, module: u32, alloc: AllocIdx) -> u32 {
        self.mods[module as usize]
            .alloc_map
            .get(alloc as usize)
            .unwrap_or(NO)
    }

    /// The module slot and local definition of a global definition.
    pub(crate) fn def_at(&self, gdef: u32) -> Option<(u32, &DefFact)> {
        let (slot, local) = self.def_loc.get(gdef)?;
        if local == NO {
            return None;
        }
        Some((
            slot,
            self.mods
                .get(slot as usize)?
                .facts
                .defs
                .get(local as usize)?,
        ))
    }

    pub(crate) fn def_fact(&self, gdef: u32) -> Option<&DefFact> {
        self.def_at(gdef).map(|(_, d)| d)
    }

    pub(crate) fn site_caller(&self, gsite: u32) -> u32 {
        let Some((slot, local)) = self.site_loc.get(gsite) else {
            return NO;
        };
        if local == NO {
            return NO;
        }
        self.mods[slot as usize]
            .facts
            .sites
            .get(local as usize)
            .map_or(NO, |s| self.gdef(slot, s.caller))
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
        let h = HashChains::hash(&v);
        let values = &self.values;
        if let Some(id) = self.value_ids.find(h, |i| values[i as usize] == v) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v);
        let values = &self.values;
        self.value_ids
            .insert(h, id, |i| HashChains::hash(&values[i as usize]));
        id
    }

    /// Whether value `v` was ever made (without making it).
    fn value_made(&self, v: Value) -> bool {
        let values = &self.values;
        self.value_ids
            .find(HashChains::hash(&v), |i| values[i as usize] == v)
            .is_some()
    }

    /// Adds `count` nodes; returns the first. Every per-node array grows here.
    fn new_nodes(&mut self, count: u32) -> u32 {
        let first = self.node_count() as u32;
        let n = first as usize + count as usize;
        self.set_of.resize(n, NO);
        self.first_edge.resize(n, NO);
        self.out_degree.resize(n, 0);
        self.direct_head.resize(n, NO);
        self.first_trig.resize(n, NO);
        self.queued.resize(n, false);
        first
    }

    pub(crate) fn new_node(&mut self) -> u32 {
        self.new_nodes(1)
    }

    /// Gives back the memory growth left unused (vectors grow by doubling).
    fn shrink(&mut self) {
        trim(&mut self.set_of);
        trim(&mut self.first_edge);
        trim(&mut self.out_degree);
        trim(&mut self.static_edges);
        trim(&mut self.direct_head);
        trim(&mut self.direct_arena);
        trim(&mut self.first_trig);
        trim(&mut self.queued);
        trim(&mut self.sets);
        trim(&mut self.edges);
        trim(&mut self.trigs);
        self.effect_arena.shrink();
        trim(&mut self.op_effects);
        trim(&mut self.dyn_effects);
        trim(&mut self.dyn_ops);
        trim(&mut self.dyn_refs);
        self.dyn_ids.shrink_chains();
        self.calls.shrink();
        self.queue = Vec::new();
        self.scratch = Vec::new();
        // Only a cache (`forget_lookups` finds what a class change affects from the nodes'
        // values, not from it): the few lookups an incremental update makes fill it again.
        // Emptied here, its memory (10 MB for the standard library) serves the public graph,
        // built next, rather than adding to the peak.
        self.lookup_cache = FxMap::default();
    }

    /// Counts for benchmarks: nodes, sets, saturated sets, edges, live edges, dynamic ops,
    /// effects.
    pub(crate) fn stats(&self) -> String {
        let saturated = self.sets.iter().filter(|s| s.saturated()).count();
        let live = self.edges.iter().filter(|e| e.refs > 0).count();
        let mut kinds = [0usize; 5];
        for &head in self.op_effects.iter().chain(&self.dyn_effects) {
            for e in self.effect_arena.list(head) {
                kinds[match e {
                    Effect::Edge(_) => 0,
                    Effect::Dyn(_) => 1,
                    Effect::Value(..) => 2,
                    Effect::CallDef(..) | Effect::CallName(..) => 3,
                    Effect::Watch(..) => 4,
                }] += 1;
            }
        }
        let effects: usize = kinds.iter().sum();
        let static_creators = self.op_effects.iter().filter(|&&h| h != NO).count();
        let dyn_creators = self.dyn_effects.iter().filter(|&&h| h != NO).count();
        let kinds =
            format!("{kinds:?} from {static_creators} ops and {dyn_creators} dynamic constraints");
        let set_vals: usize = self.sets.iter().map(ValSet::heap_bytes).sum::<usize>() / 4;
        let direct: usize = self.direct_arena.capacity() * 12 + self.direct_head.capacity() * 4;
        let seeds: usize = (self.seeds.capacity() + self.new_seeds.capacity()) * 12;
        let mb = |x: usize| x as f64 / 1e6;
        // Hash map entries cost their key and value plus about a third for control bytes and
        // spare capacity.
        let map = |n: usize, entry: usize| n * (entry + 1) * 4 / 3;
        let lookup_bytes: usize = self
            .lookup_cache
            .values()
            .map(|a| 16 + a.len() * std::mem::size_of::<AttrSrc>())
            .sum::<usize>()
            + map(self.lookup_cache.len(), 24);
        let other_maps = direct
            + seeds
            + map(self.dyn_ids.hashes(), 12)
            + self.dyn_ids.chain_capacity() * 4
            + self.value_ids.heap_bytes()
            + map(
                self.inst_attr.len()
                    + self.down_attr.len()
                    + self.mod_attr.len()
                    + self.func_attr.len(),
                12,
            )
            + map(self.slots.len(), 16)
            + self
                .slot_list
                .values()
                .map(|v| v.capacity() * 20 + 40)
                .sum::<usize>()
            + self.edge_ids.heap_bytes();
        let total = self.set_of.len() * 14
            + self.sets.len() * std::mem::size_of::<ValSet>()
            + self.sets.iter().map(ValSet::heap_bytes).sum::<usize>()
            + self.edges.capacity() * std::mem::size_of::<EdgeRec>()
            + self.trigs.capacity() * 8
            + self.effect_arena.heap_bytes()
            + (self.op_effects.capacity() + self.dyn_effects.capacity()) * 4
            + self.dyn_ops.capacity() * (std::mem::size_of::<DynOp>() + 4)
            + lookup_bytes
            + other_maps
            + self.calls.heap_bytes();
        let summary = format!(
            "estimated {:.0} MB (lookups {:.0}, maps {:.0}, call edges {:.0})",
            mb(total),
            mb(lookup_bytes),
            mb(other_maps),
            mb(self.calls.heap_bytes())
        );
        format!(
            "{summary}; nodes {}, sets {}, saturated {saturated}, edges {} ({live} live), dynamic ops {}, effects {effects} (edge, dyn, value, call, watch: {kinds}), values {}; \
             MB: per-node {:.1}, sets {:.1} + values {:.1}, edges {:.1} + ids {:.1}, trigs {:.1}, effects {:.1}, direct {:.1} ({} entries), seeds {:.1}, dyn {:.1}, slots {:.1}, lookups {}",
            self.set_of.len(),
            self.sets.len(),
            self.edges.len(),
            self.dyn_ops.len(),
            self.values.len(),
            mb(self.set_of.len() * 14),
            mb(self.sets.len() * std::mem::size_of::<ValSet>()),
            mb(set_vals * 4),
            mb(self.edges.len() * std::mem::size_of::<EdgeRec>()),
            mb(self.edge_ids.heap_bytes()),
            mb(self.trigs.len() * 8),
            mb(self.effect_arena.heap_bytes()),
            mb(direct),
            self.direct_arena.len() - self.direct_free.len(),
            mb(seeds),
            mb(self.dyn_ops.len() * (std::mem::size_of::<DynOp>() + 8)),
            mb(self.slots.len() * 24),
            self.lookup_cache.len()
        )
    }

    pub(crate) fn node_count(&self) -> usize {
        self.set_of.len()
    }

    pub(crate) fn node_values(&self, node: u32) -> &[u32] {
        match self.set_of.get(node as usize) {
            Some(&s) if s != NO => self.sets[s as usize].as_slice(),
            _ => &[],
        }
    }

    /// Adds a value to a node's set and queues the node (propagation, no provenance).
    fn push_value(&mut self, node: u32, v: u32) {
        if node == NO {
            return;
        }
        let Some(&s) = self.set_of.get(node as usize) else {
            return;
        };
        let s = if s == NO {
            let id = self.sets.len() as u32;
            self.sets.push(ValSet::default());
            self.set_of[node as usize] = id;
            id
        } else {
            s
        };
        let set = &mut self.sets[s as usize];
        if set.saturated() {
            return;
        }
        if v == TOP || set.len() >= MAX_VALUES {
            // The node stands for "too many to tell" from now on; `Top` moves along its edges,
            // and what its constraints derived from its earlier values is taken back when
            // the propagation settles (`settle_saturated`).
            set.clear();
            set.insert(TOP);
            self.newly_saturated.push(node);
        } else if !set.insert(v) {
            return;
        }
        if !self.queued[node as usize] {
            self.queued[node as usize] = true;
            self.queue.push(node);
        }
    }

    /// A value derived by the current constraint.
    fn add_value(&mut self, node: u32, v: u32) {
        if node == NO {
            return;
        }
        if self.creator != NO {
            let c = self.creator;
            let head = self.direct_head.get(node as usize).copied().unwrap_or(NO);
            let mut i = head;
            let mut known = false;
            while i != NO {
                let (dv, dc, next) = self.direct_arena[i as usize];
                if dv == v && dc == c {
                    known = true;
                    break;
                }
                i = next;
            }
            if !known && (node as usize) < self.direct_head.len() {
                let id = arena_alloc(&mut self.direct_arena, &mut self.direct_free, (v, c, head));
                self.direct_head[node as usize] = id;
                self.push_effect(c, Effect::Value(node, v));
            }
        }
        self.push_value(node, v);
    }

    /// Takes back a value creator `c` gave `node` directly.
    pub(crate) fn undirect(&mut self, node: u32, v: u32, c: u32) {
        let Some(&head) = self.direct_head.get(node as usize) else {
            return;
        };
        let mut prev = NO;
        let mut i = head;
        while i != NO {
            let (dv, dc, next) = self.direct_arena[i as usize];
            if dv == v && dc == c {
                if prev == NO {
                    self.direct_head[node as usize] = next;
                } else {
                    self.direct_arena[prev as usize].2 = next;
                }
                self.direct_free.push(i);
                return;
            }
            prev = i;
            i = next;
        }
    }

    /// The live edges into the nodes `inside` accepts, as (destination, edge), sorted by
    /// destination and, for each, newest first. One pass over every edge, made once per
    /// re-derivation: a one-line edit in Django costs 0.2 ms more for it (CPU p50 0.53 →
    /// 0.74 ms in `tandem-bench index`), the standard library's settling rounds the same.
    pub(crate) fn edges_into(&self, inside: impl Fn(u32) -> bool) -> Vec<(u32, u32)> {
        let mut out: Vec<(u32, u32)> = (0..self.edges.len() as u32)
            .rev()
            .filter_map(|e| {
                let rec = &self.edges[e as usize];
                (rec.refs > 0 && inside(rec.dst)).then_some((rec.dst, e))
            })
            .collect();
        // Stable: each destination's edges stay newest first.
        out.sort_by_key(|&(dst, _)| dst);
        out
    }

    /// Gives a node of a region what it gets from outside the region: its seeds, the values
    /// constraints gave it directly, and the values of live edges from nodes outside.
    /// `edges_in` are the live edges into `n`, newest first (see `edges_into`).
    pub(crate) fn rederive_node(
        &mut self,
        n: u32,
        edges_in: &[(u32, u32)],
        outside: impl Fn(u32) -> bool,
    ) {
        self.reseed(n);
        let mut i = self.direct_head.get(n as usize).copied().unwrap_or(NO);
        while i != NO {
            let (v, _, next) = self.direct_arena[i as usize];
            self.push_value(n, v);
            i = next;
        }
        for &(_, e) in edges_in {
            let rec = self.edges[e as usize];
            if outside(rec.src) {
                let k = self.node_values(rec.src).len();
                for i in 0..k {
                    let v = self.node_values(rec.src)[i];
                    if rec.filter == PLAIN || self.passes(rec.filter, v) {
                        self.push_value(n, v);
                    }
                }
            }
        }
    }

    fn add_val(&mut self, node: u32, v: Value) {
        let id = self.value(v);
        self.add_value(node, id);
    }

    /// A value given by a static op.
    ///
    /// Seeds gather in `new_seeds` and are merged into the sorted `seeds` once more than
    /// `NEW_SEEDS_MERGE_AT` wait (during a full seeding, when `seeds` is still empty, all of
    /// them wait for the one merge at the end).
    fn seed_value(&mut self, node: u32, v: Value, op: u32) {
        if node == NO {
            return;
        }
        let id = self.value(v);
        self.new_seeds.push((node, id, op));
        if self.new_seeds.len() > NEW_SEEDS_MERGE_AT && !self.seeds.is_empty() {
            self.sort_seeds();
        }
        self.push_value(node, id);
    }

    /// Sorts the seeds added since the last merge, so that `reseed` can search them.
    pub(crate) fn sort_new_seeds(&mut self) {
        self.new_seeds.sort_unstable();
    }

    /// Merges the seeds added since the last sort into the sorted list, dropping those of
    /// removed ops.
    pub(crate) fn sort_seeds(&mut self) {
        let mut all = std::mem::take(&mut self.seeds);
        all.append(&mut self.new_seeds);
        all.retain(|&(_, _, op)| self.op_live(op));
        // Hundreds of thousands after a full seeding: sorted on all cores.
        all.par_sort_unstable();
        all.shrink_to_fit();
        self.seeds = all;
        // A full seeding collects every seed here first (the standard library's 367,327, in
        // a buffer of 4 MB or more): keep only what the merge threshold above needs. Peak
        // 520 → 515–516 MiB on the standard library (`tandem-bench index-memory-child DIR
        // DIR`, two runs each).
        self.new_seeds.shrink_to(2 * NEW_SEEDS_MERGE_AT);
    }

    /// Adds an edge `dst ⊇ src` for the current constraint, and moves the values `src`
    /// already has.
    fn add_edge(&mut self, src: u32, dst: u32, filter: u32) {
        if self.creator == NO {
            self.edge_ref(src, dst, filter);
            return;
        }
        if src == NO || dst == NO || src == dst {
            return;
        }
        let found = self.find_edge(src, dst, filter);
        if let Some(e) = found {
            if self.edges[e as usize].refs > 0 && self.recently_derived(Effect::Edge(e)) {
                return;
            }
        }
        let e = self.edge_ref_found(src, dst, filter, found);
        self.push_effect(self.creator, Effect::Edge(e));
    }

    /// An edge that belongs to the heap model itself (container slots to their union,
    /// instance attributes to their ancestors' aggregates): never taken back.
    fn structural_edge(&mut self, src: u32, dst: u32) {
        self.edge_ref(src, dst, PLAIN);
    }

    /// The edge of a static copy op: not shared with other constraints (so not looked up by
    /// its ends, and never given a second reference); `static_edge_of` finds it again when
    /// the op goes.
    fn static_edge(&mut self, src: u32, dst: u32, filter: u32) {
        if src == NO || dst == NO || src == dst {
            return;
        }
        self.new_edge(src, dst, filter, true);
        self.give_edge_values(src, dst, filter);
    }

    /// A live edge a static copy op `src → dst` with `filter` made. Copies with the same ends
    /// make edges that are alike, so taking back any one of them for one op that goes is
    /// right. Found by walking `src`'s out-edges, only when a copy op goes: a table by op id
    /// cost 4 bytes per op (standard library peak 484–485 → 478–479 MiB without it, from
    /// `tandem-bench index-memory-child DIR DIR`, two interleaved runs each).
    pub(crate) fn static_edge_of(&self, src: u32, dst: u32, filter: u32) -> Option<u32> {
        self.out_edge_where(src, |e, rec| {
            rec.dst == dst && rec.filter == filter && rec.refs > 0 && self.is_static_edge(e)
        })
    }

    /// The newest edge leaving `src` that `accept` takes, walking `src`'s out-edges.
    fn out_edge_where(&self, src: u32, accept: impl Fn(u32, &EdgeRec) -> bool) -> Option<u32> {
        let mut e = *self.first_edge.get(src as usize)?;
        while e != NO {
            let rec = &self.edges[e as usize];
            if accept(e, rec) {
                return Some(e);
            }
            e = rec.next;
        }
        None
    }

    /// The shared edge `src → dst` with `filter`, live or not.
    fn find_edge(&self, src: u32, dst: u32, filter: u32) -> Option<u32> {
        if *self.out_degree.get(src as usize)? >= HUB_DEGREE {
            let edges = &self.edges;
            return self.edge_ids.find(edge_hash(src, dst, filter), |e| {
                let rec = &edges[e as usize];
                (rec.src, rec.dst, rec.filter) == (src, dst, filter)
            });
        }
        self.out_edge_where(src, |e, rec| {
            rec.dst == dst && rec.filter == filter && !self.is_static_edge(e)
        })
    }

    fn is_static_edge(&self, e: u32) -> bool {
        self.static_edges
            .get(e as usize / 64)
            .is_some_and(|w| w & (1 << (e % 64)) != 0)
    }

    fn new_edge(&mut self, src: u32, dst: u32, filter: u32, is_static: bool) -> u32 {
        let e = self.edges.len() as u32;
        if is_static {
            let w = e as usize / 64;
            if self.static_edges.len() <= w {
                self.static_edges.resize(w + 1, 0);
            }
            self.static_edges[w] |= 1 << (e % 64);
        }
        self.edges.push(EdgeRec {
            src,
            dst,
            next: self.first_edge[src as usize],
            filter,
            refs: 1,
        });
        self.first_edge[src as usize] = e;
        let degree = &mut self.out_degree[src as usize];
        let before = *degree;
        *degree = degree.saturating_add(1);
        if before == HUB_DEGREE - 1 {
            // src becomes a hub: its shared edges go into the map from now on.
            let mut f = e;
            while f != NO {
                let rec = self.edges[f as usize];
                if !self.is_static_edge(f) {
                    self.index_edge(f);
                }
                f = rec.next;
            }
        } else if before >= HUB_DEGREE && !is_static {
            self.index_edge(e);
        }
        e
    }

    /// Adds a hub's shared edge to `edge_ids`.
    fn index_edge(&mut self, e: u32) {
        let edges = &self.edges;
        let of = |e: u32| {
            let rec = &edges[e as usize];
            edge_hash(rec.src, rec.dst, rec.filter)
        };
        self.edge_ids.insert(of(e), e, of);
    }

    fn give_edge_values(&mut self, src: u32, dst: u32, filter: u32) {
        let k = self.node_values(src).len();
        for i in 0..k {
            let v = self.node_values(src)[i];
            if filter == PLAIN || self.passes(filter, v) {
                self.push_value(dst, v);
            }
        }
    }

    /// Takes a reference to the edge `src → dst`, making it if needed.
    fn edge_ref(&mut self, src: u32, dst: u32, filter: u32) -> Option<u32> {
        if src == NO || dst == NO || src == dst {
            return None;
        }
        let found = self.find_edge(src, dst, filter);
        Some(self.edge_ref_found(src, dst, filter, found))
    }

    /// `edge_ref` for two distinct real nodes, given what `find_edge` found for them (so that
    /// `add_edge`, which looks first, does not search the out-edges twice).
    fn edge_ref_found(&mut self, src: u32, dst: u32, filter: u32, found: Option<u32>) -> u32 {
        let e = match found {
            Some(e) => {
                self.edges[e as usize].refs += 1;
                if self.edges[e as usize].refs > 1 {
                    return e;
                }
                e
            }
            None => self.new_edge(src, dst, filter, false),
        };
        // A new (or revived) edge gets the values src already has.
        self.give_edge_values(src, dst, filter);
        e
    }

    /// The destinations of a node's live edges.
    pub(crate) fn live_out_edges(&self, n: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut e = self.first_edge.get(n as usize).copied().unwrap_or(NO);
        while e != NO {
            let rec = self.edges[e as usize];
            if rec.refs > 0 {
                out.push(rec.dst);
            }
            e = rec.next;
        }
        out
    }

    /// The live constraints registered on a node.
    pub(crate) fn trigs_on(&self, n: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut t = self.first_trig.get(n as usize).copied().unwrap_or(NO);
        while t != NO {
            let rec = self.trigs[t as usize];
            if self.op_live(rec.op) {
                out.push(rec.op);
            }
            t = rec.next;
        }
        out
    }

    /// Empties a node's values (a saturated node stays saturated).
    pub(crate) fn clear_node(&mut self, n: u32) {
        if let Some(&s) = self.set_of.get(n as usize) {
            if s != NO && !self.sets[s as usize].saturated() {
                self.sets[s as usize].clear();
            }
        }
    }

    /// Gives a node the values of its live seeding ops again.
    pub(crate) fn reseed(&mut self, n: u32) {
        let start = self.seeds.partition_point(|&(m, _, _)| m < n);
        let mut vals: Vec<u32> = self.seeds[start..]
            .iter()
            .take_while(|&&(m, _, _)| m == n)
            .filter(|&&(_, _, op)| self.op_live(op))
            .map(|&(_, v, _)| v)
            .collect();
        // `new_seeds` is sorted before a region is derived again (`sort_new_seeds`).
        let start = self.new_seeds.partition_point(|&(m, _, _)| m < n);
        vals.extend(
            self.new_seeds[start..]
                .iter()
                .take_while(|&&(m, _, _)| m == n)
                .filter(|&&(_, _, op)| self.op_live(op))
                .map(|&(_, v, _)| v),
        );
        for v in vals {
            self.push_value(n, v);
        }
    }

    /// Records that creator `c` derived `e`.
    fn push_effect(&mut self, c: u32, e: Effect) {
        let heads = if c & DYN != 0 {
            &mut self.dyn_effects
        } else {
            &mut self.op_effects
        };
        let i = (c & !DYN) as usize;
        if heads.len() <= i {
            heads.resize(i + 1, NO);
        }
        let next = heads[i];
        let id = self.effect_arena.push(e, next);
        let heads = if c & DYN != 0 {
            &mut self.dyn_effects
        } else {
            &mut self.op_effects
        };
        heads[i] = id;
    }

    /// Whether the current creator's last few records include `e`.
    fn recently_derived(&self, e: Effect) -> bool {
        let mut at = self.effect_head(self.creator);
        for _ in 0..RECENT_EFFECTS {
            if at == NO {
                return false;
            }
            let (x, next) = self.effect_arena.get(at);
            if x == e {
                return true;
            }
            at = next;
        }
        false
    }

    fn effect_head(&self, c: u32) -> u32 {
        let heads = if c & DYN != 0 {
            &self.dyn_effects
        } else {
            &self.op_effects
        };
        heads.get((c & !DYN) as usize).copied().unwrap_or(NO)
    }

    /// What creator `c` derived.
    pub(crate) fn effects_of(&self, c: u32) -> Vec<Effect> {
        self.effect_arena.list(self.effect_head(c)).collect()
    }

    /// Removes and returns what creator `c` derived.
    pub(crate) fn take_effects(&mut self, c: u32) -> Vec<Effect> {
        let mut out = Vec::new();
        let mut i = self.effect_head(c);
        while i != NO {
            let (e, next) = self.effect_arena.get(i);
            out.push(e);
            self.effect_arena.free(i);
            i = next;
        }
        let heads = if c & DYN != 0 {
            &mut self.dyn_effects
        } else {
            &mut self.op_effects
        };
        if let Some(h) = heads.get_mut((c & !DYN) as usize) {
            *h = NO;
        }
        out
    }

    /// Drops one reference to an edge; at zero it stops carrying values.
    pub(crate) fn edge_unref(&mut self, e: u32) {
        if let Some(rec) = self.edges.get_mut(e as usize) {
            rec.refs = rec.refs.saturating_sub(1);
        }
    }

    pub(crate) fn edge_dst(&self, e: u32) -> u32 {
        self.edges.get(e as usize).map_or(NO, |r| r.dst)
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
                    !self.def_at(g).is_some_and(|(slot, d)| {
                        d.decorated
                            && self
                                .def_fact(self.gdef(slot, d.parent))
                                .is_some_and(|p| matches!(p.kind, DefKind::Module | DefKind::Class))
                    })
                }
                _ => true,
            },
        }
    }

    /// Registers constraint `op` on `node` and fires it on the values the node has.
    fn add_trig(&mut self, node: u32, op: u32) {
        if node == NO {
            return;
        }
        let id = self.trigs.len() as u32;
        self.trigs.push(Trig {
            op,
            next: self.first_trig[node as usize],
        });
        self.first_trig[node as usize] = id;
        self.replay(node, op);
    }

    /// Fires constraint `op` on every value `node` has, except the values a queued or deferred
    /// node has not propagated yet (they will be, to `op` too).
    pub(crate) fn replay(&mut self, node: u32, op: u32) {
        let upto = self.propagated_len(node);
        let vals: Vec<u32> = self.node_values(node).iter().take(upto).copied().collect();
        for v in vals {
            self.fire(node, op, v);
        }
    }

    /// How many of a node's values a constraint added to it now must be fired on: all of them,
    /// except that a queued or deferred node's values it has not propagated yet reach every
    /// constraint it has then, when it is propagated. Firing on those too fired each
    /// constraint twice on them: seeding, whose constraints mostly watch nodes queued with
    /// values seeded just before, took 607 ms on the standard library and 55 ms on Django,
    /// against 164 and 19 ms without (propagation 1312 → 1624 and 149 → 161 ms, seeding and
    /// propagation together 2010 → 1773 and 204 → 178 ms; medians of interleaved runs of
    /// `TANDEM_BENCH_MEMORY_STAGES=1 tandem-bench index-memory-child DIR ROOT`). The order
    /// values reach constraints in changes with it, and with it which nodes saturate first:
    /// Django's graph has 245 edges more and 11 fewer. A new edge still gets all of its
    /// source's values at once (`give_edge_values`): given only the propagated ones, Django's
    /// deferrals went from 10,111 to 17,747 and its propagation took 30–60% longer.
    fn propagated_len(&self, node: u32) -> usize {
        match self.set_of.get(node as usize) {
            // A queued or deferred node has a set: it was queued or deferred for its values.
            Some(&s)
                if s != NO && (self.queued[node as usize] || self.deferred.contains(&node)) =>
            {
                self.sets[s as usize].done()
            }
            _ => usize::MAX,
        }
    }

    /// Makes (or takes another reference to) a dynamic constraint for the current creator.
    fn dyn_op(&mut self, op: DynOp) {
        let h = HashChains::hash(&op);
        if let Some(id) = self.dyn_ids.find(h, |i| self.dyn_ops[i as usize] == op) {
            self.dyn_refs[id as usize] += 1;
            if self.creator != NO {
                self.push_effect(self.creator, Effect::Dyn(id));
            }
            return;
        }
        let id = self.dyn_ops.len() as u32;
        self.dyn_ops.push(op.clone());
        self.dyn_refs.push(1);
        self.dyn_ids.push(h, id);
        if self.creator != NO {
            self.push_effect(self.creator, Effect::Dyn(id));
        }
        for w in op.watched() {
            if w != NO {
                self.add_trig(w, DYN | id);
            }
        }
    }

    /// Drops one reference to a dynamic constraint; returns whether it is gone.
    pub(crate) fn dyn_unref(&mut self, id: u32) -> bool {
        let Some(r) = self.dyn_refs.get_mut(id as usize) else {
            return false;
        };
        if *r == 0 {
            return false;
        }
        *r -= 1;
        if *r == 0 {
            let h = HashChains::hash(&self.dyn_ops[id as usize]);
            self.dyn_ids.remove(h, id);
            return true;
        }
        false
    }

    pub(crate) fn dyn_watched(&self, id: u32) -> [u32; 2] {
        self.dyn_ops
            .get(id as usize)
            .map_or([NO, NO], DynOp::watched)
    }

    pub(crate) fn dyn_live(&self, id: u32) -> bool {
        self.dyn_refs.get(id as usize).is_some_and(|&r| r > 0)
    }

    fn op_live(&self, op: u32) -> bool {
        if op & DYN != 0 {
            self.dyn_live(op & !DYN)
        } else {
            self.op_loc.get(op).is_some_and(|(_, l)| l != NO)
        }
    }

    /// Records a call edge found by the current constraint.
    fn record(&mut self, site: u32, callee: Callee) {
        if site == NO {
            return;
        }
        if self.creator != NO {
            self.push_effect(self.creator, Effect::call(site, callee));
        }
        if self.calls.add(site, callee) {
            if let Some(log) = &mut self.call_log {
                log.push((site, callee, true));
            }
        }
    }

    pub(crate) fn unrecord(&mut self, site: u32, callee: Callee) {
        if self.calls.remove(site, callee) {
            if let Some(log) = &mut self.call_log {
                log.push((site, callee, false));
            }
        }
    }

    // ----- seeding ---------------------------------------------------------------------------

    fn seed_all(&mut self) {
        for mi in 0..self.mods.len() {
            let n = self.mods[mi].facts.ops.len() as u32;
            self.seed_ops(mi as u32, 0, n);
        }
    }

    /// Installs the static ops `start..end` of a module.
    pub(crate) fn seed_ops(&mut self, mi: u32, start: u32, end: u32) {
        let facts = self.mods[mi as usize].facts.clone();
        for oi in start..end.min(facts.ops.len() as u32) {
            let op = facts.ops[oi as usize];
            let Some(gop) = self.mods[mi as usize].op_map.get(oi as usize) else {
                continue;
            };
            self.seed_op(mi, gop, op);
        }
    }

    fn seed_op(&mut self, mi: u32, gop: u32, op: Op) {
        match op {
            Op::Const { dst, c } => {
                let g = self.gconst(mi, c);
                let dst = self.gnode(mi, dst);
                self.const_nodes.insert(dst);
                self.seed_value(dst, Value::Const(g), gop);
            }
            Op::Def { dst, def } => {
                let gd = self.gdef(mi, def);
                let kind = self.mods[mi as usize]
                    .facts
                    .defs
                    .get(def as usize)
                    .map(|d| d.kind);
                let v = match kind {
                    Some(DefKind::Class) => Value::Class(gd),
                    _ => Value::Func(gd),
                };
                let dst = self.gnode(mi, dst);
                self.seed_value(dst, v, gop);
            }
            Op::SelfOf { dst, class, cls } => {
                let gc = self.gdef(mi, class);
                let dst = self.gnode(mi, dst);
                let v = if cls {
                    Value::SelfClass(gc)
                } else {
                    Value::SelfInst(gc)
                };
                self.seed_value(dst, v, gop);
            }
            Op::Alloc { dst, kind, alloc } => {
                let ga = self.galloc(mi, alloc);
                let dst = self.gnode(mi, dst);
                self.seed_value(dst, Value::Container(ga, kind), gop);
            }
            Op::Copy { dst, src } => {
                let (s, d) = (self.gnode(mi, src), self.gnode(mi, dst));
                self.static_edge(s, d, PLAIN);
            }
            Op::CopyObj { dst, src } => {
                let (s, d) = (self.gnode(mi, src), self.gnode(mi, dst));
                self.static_edge(s, d, OBJ_ONLY);
            }
            Op::Load { base, .. } | Op::Store { base, .. } | Op::Slice { base, .. } => {
                let b = self.gnode(mi, base);
                self.add_trig(b, gop);
            }
            Op::SubLoad { base, key, .. } | Op::SubStore { base, key, .. } => {
                let b = self.gnode(mi, base);
                self.add_trig(b, gop);
                if let Key::Node(k) = key {
                    let k = self.gnode(mi, k);
                    if k != b {
                        self.add_trig(k, gop);
                    }
                }
            }
            Op::Elems { src, .. }
            | Op::Raise { src, .. }
            | Op::IterStart { src, .. }
            | Op::IterNext { src, .. }
            | Op::With { src, .. } => {
                let s = self.gnode(mi, src);
                self.add_trig(s, gop);
            }
            Op::Call { callee, .. } => {
                let c = self.gnode(mi, callee);
                self.add_trig(c, gop);
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
                let saved = self.creator;
                self.creator = gop;
                self.seed_import(dst, module, attr, top);
                self.creator = saved;
            }
            Op::Fallback { dst, name } => {
                let dst = self.gnode(mi, dst);
                let name = self.gsym(mi, name);
                let saved = self.creator;
                self.creator = gop;
                self.seed_fallback(mi, name, dst);
                self.creator = saved;
            }
        }
    }

    /// The nodes a static op is registered on.
    pub(crate) fn op_watched(&self, mi: u32, op: Op) -> [u32; 2] {
        match op {
            Op::Load { base, .. } | Op::Store { base, .. } | Op::Slice { base, .. } => {
                [self.gnode(mi, base), NO]
            }
            Op::SubLoad { base, key, .. } | Op::SubStore { base, key, .. } => {
                let k = match key {
                    Key::Node(k) => self.gnode(mi, k),
                    _ => NO,
                };
                [self.gnode(mi, base), k]
            }
            Op::Elems { src, .. }
            | Op::Raise { src, .. }
            | Op::IterStart { src, .. }
            | Op::IterNext { src, .. }
            | Op::With { src, .. } => [self.gnode(mi, src), NO],
            Op::Call { callee, .. } => [self.gnode(mi, callee), NO],
            _ => [NO, NO],
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
        let stars = self.mods[mi as usize].star_sources.clone();
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
        let m = &self.mods[mi as usize];
        let result = if let Some(all) = &m.all_names {
            all.contains(&name)
        } else if self.syms.resolve(name).starts_with('_') {
            false
        } else if m.globals.binary_search_by_key(&name, |&(s, _)| s).is_ok() {
            true
        } else {
            let stars = m.star_sources.clone();
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
                AttrSrc::Node(n, mode) => self.dyn_op(DynOp::Bind {
                    src: n,
                    dst,
                    mode,
                    site,
                }),
                AttrSrc::Value(v) => self.add_value(dst, v),
            }
        }
    }

    // ----- the fixpoint --------------------------------------------------------------------

    /// Propagates to the fixpoint. Nodes that saturate on the way become barriers: once the
    /// propagation settles, what their constraints derived is taken back and re-derived
    /// without them, and this repeats until no node saturates. The result does not depend on
    /// which values happened to pass through a node before it saturated.
    pub(crate) fn run(&mut self) {
        loop {
            self.propagate();
            if self.newly_saturated.is_empty() {
                break;
            }
            let saturated = std::mem::take(&mut self.newly_saturated);
            let t = std::time::Instant::now();
            self.settle_saturated(saturated);
            self.settle_rounds += 1;
            self.settle_time += t.elapsed();
        }
    }

    pub(crate) fn is_saturated(&self, n: u32) -> bool {
        match self.set_of.get(n as usize) {
            Some(&s) if s != NO => self.sets[s as usize].saturated(),
            _ => false,
        }
    }

    /// Propagates until the queue is empty and no deferred node has values waiting.
    fn propagate(&mut self) {
        loop {
            while let Some(node) = self.queue.pop() {
                self.queued[node as usize] = false;
                self.propagate_node(node, true);
            }
            if self.deferred_list.is_empty() {
                break;
            }
            for node in std::mem::take(&mut self.deferred_list) {
                self.deferred.remove(&node);
                if self.is_saturated(node) {
                    // It passed `Top` on when it saturated; its waiting values are gone.
                    self.deferrals_saturated += 1;
                    continue;
                }
                self.propagate_node(node, false);
            }
        }
    }

    /// Passes a node's values not yet propagated along its edges and to its constraints, or,
    /// when `may_defer` and the node has more than `DEFER_AT` values, defers it.
    fn propagate_node(&mut self, node: u32, may_defer: bool) {
        let s = self.set_of[node as usize];
        if s == NO {
            return;
        }
        let set = &mut self.sets[s as usize];
        let (start, end) = (set.done(), set.len());
        if start >= end {
            return;
        }
        if may_defer && end > DEFER_AT {
            if self.deferred.insert(node) {
                self.deferred_list.push(node);
                self.deferrals += 1;
            }
            return;
        }
        set.set_done(end);
        let mut new = std::mem::take(&mut self.scratch);
        new.clear();
        new.extend_from_slice(&self.sets[s as usize].as_slice()[start..end]);
        // Edges.
        let mut e = self.first_edge[node as usize];
        while e != NO {
            let EdgeRec {
                dst,
                next,
                filter,
                refs,
                ..
            } = self.edges[e as usize];
            if refs > 0 {
                for &v in &new {
                    if filter == PLAIN || self.passes(filter, v) {
                        self.push_value(dst, v);
                    }
                }
            }
            e = next;
        }
        // Triggers.
        let mut t = self.first_trig[node as usize];
        while t != NO {
            let Trig { op, next } = self.trigs[t as usize];
            for &v in &new {
                self.fire(node, op, v);
            }
            t = next;
        }
        self.scratch = new;
    }

    /// Fires constraint `op` (registered on `node`) on value `v`, with `op` as the creator of
    /// everything derived.
    fn fire(&mut self, node: u32, op: u32, v: u32) {
        if (v == TOP && !self.fires_on_top(op)) || !self.op_live(op) {
            return;
        }
        let saved = self.creator;
        self.creator = op;
        if op & DYN != 0 {
            if let Some(dop) = self.dyn_ops.get((op & !DYN) as usize).cloned() {
                self.fire_dyn(node, &dop, v);
            }
        } else if let Some((module, local)) = self.op_loc.get(op) {
            if let Some(&sop) = self.mods[module as usize].facts.ops.get(local as usize) {
                self.fire_static(node, module, sop, v);
            }
        }
        self.creator = saved;
    }

    fn fire_static(&mut self, node: u32, module: u32, op: Op, v: u32) {
        let val = self.values[v as usize];
        match op {
            Op::Load {
                dst, attr, site, ..
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
                let alloc = self.galloc(module, alloc);
                self.slice(val, dst, lo.get(), hi.get(), alloc);
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
                    len: u32::from(args_len),
                };
                let aux = self.gdef(module, aux);
                self.call_value(site, v, &args, dst, flags, aux);
            }
            Op::Raise { site, .. } => {
                let site = self.gsite(module, site);
                match val {
                    Value::Class(_) | Value::SelfClass(_) => {
                        let args = Args::List(Arc::new([]));
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
                    self.call_value(*site, b, &Args::List(args.clone()), *dst, *flags, NO);
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
            &DynOp::DictKey {
                alloc,
                kind,
                default,
                dst,
                ..
            } => {
                let s = match val {
                    Value::Const(c) if c.exact() => self.slot(alloc, Slot::Key(c)),
                    _ => self.slot(alloc, Slot::All),
                };
                self.add_edge(s, dst, PLAIN);
                if default != NO && v == TOP {
                    // Under a key nobody can tell (no entry for `Top` among the keys).
                    let u = self.slot(alloc, Slot::Unknown);
                    self.add_edge(default, u, PLAIN);
                } else if default != NO {
                    self.store_key(alloc, kind, val, v, default);
                }
            }
        }
    }

    /// Whether constraint `op` is fired on `Top` (see `DynOp::acts_on_top`).
    pub(crate) fn fires_on_top(&self, op: u32) -> bool {
        op & DYN != 0
            && self
                .dyn_ops
                .get((op & !DYN) as usize)
                .is_some_and(DynOp::acts_on_top)
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
                // Reading a property calls its getter, at this load's site and at those of the
                // loads `simplify` merged into it.
                if site != NO {
                    self.record(site, Callee::Def(f));
                    for alias in self.load_aliases(site) {
                        self.record(alias, Callee::Def(f));
                    }
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
        let (m, d) = self.def_at(f)?;
        Some(self.gnode(m, d.ret))
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
                self.structural_edge(n, d);
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
                    self.structural_edge(n, d);
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

    /// Whether adding the module-level names `added` to module `slot` and removing `removed`
    /// from it can change anything outside the module: the first such name if so.
    ///
    /// Every attribute lookup on a module of the program leaves a trace the change would make
    /// wrong: a lookup of a name the module lacks makes its node for outside assignments
    /// (`mod_attr`, also made by `module.name = value`), `from module import *` asks `exports`
    /// (cached), a name that is also a submodule was answered with the submodule, and a
    /// lookup that found a name connected its node to the reader with an edge that is not
    /// static (or left a constraint of another module on it). A name without any of these
    /// was never read from outside the module, so the module's own changed definitions are
    /// all that changes.
    ///
    /// `statics`: names the module binds differently by imports or aliases. Those only decide
    /// what base classes resolve to, and the class hierarchies were resolved when the program
    /// was last solved from scratch: a base class written with such a name anywhere in the
    /// program (resolution follows names as written, through imports and aliases) may now
    /// resolve differently.
    pub(crate) fn names_read_from_outside(
        &self,
        slot: u32,
        change: &NameChange<'_>,
    ) -> Option<String> {
        let NameChange {
            added,
            removed,
            statics,
            gone,
            unread,
        } = *change;
        // A name no base class path or alias of the module holds, and none after a dot or
        // through an import or a star import anywhere, is not in the set: most statics that
        // change are methods added to or removed from a class, which no base class names.
        let statics_read = || {
            let names: FxSet<u32> = statics.iter().filter_map(|n| self.syms.get(n)).collect();
            !names.is_empty()
                && (self.names_in_own_bases(slot, &names)
                    || self.may_be_read_after_dot_any(|x| names.contains(&x)))
        };
        if statics_read() {
            let read = self.names_base_classes_read(slot, gone);
            if let Some(name) = statics.iter().find(|n| {
                // A name never interned is read nowhere.
                self.syms
                    .get(n)
                    .is_some_and(|x| read.contains(&(slot, x)) || read.contains(&(NO, x)))
            }) {
                return Some(format!("`{name}` (a base class is written with it)"));
            }
        }
        let m = self.mods.get(slot as usize)?.name;
        let module = self.syms.resolve(m).to_string();
        for name in added.iter().chain(removed) {
            // A name never interned was never looked up.
            let Some(sym) = self.syms.get(name) else {
                continue;
            };
            let submodule = self
                .syms
                .get(&format!("{module}.{name}"))
                .is_some_and(|full| self.is_package_name(full));
            let how = if submodule {
                "a submodule of that name"
            } else if self.mod_attr.contains_key(&(m, sym)) {
                "looked up on the module"
            } else if self.exports_cache.contains_key(&(m, sym)) {
                "asked of the module's exports"
            } else {
                continue;
            };
            return Some(format!("`{name}` ({how})"));
        }
        // The edges and constraints a lookup leaves (below) need a module value to look up
        // on, which only imports and lookups on the parent package give: an unread module's
        // own code makes them too (a global passed as an argument is connected to the
        // parameter by the call), and takes them with it.
        for name in removed.iter().filter(|_| !unread) {
            let Some(sym) = self.syms.get(name) else {
                continue;
            };
            let globals = &self.mods[slot as usize].globals;
            let Ok(i) = globals.binary_search_by_key(&sym, |&(s, _)| s) else {
                continue;
            };
            let g = globals[i].1;
            if g == NO {
                continue;
            }
            let derived = self
                .out_edge_where(g, |e, rec| rec.refs > 0 && !self.is_static_edge(e))
                .is_some();
            let foreign = self.trigs_on(g).into_iter().any(|op| {
                op & DYN != 0 || self.op_loc.get(op).map(|(owner, _)| owner) != Some(slot)
            });
            if derived || foreign {
                return Some(format!("`{name}` (its values reach other modules' code)"));
            }
        }
        None
    }

    /// Whether `names_base_classes_read` could hold `(NO, name)`, or `(module, name)` for a
    /// module other than the one that writes the name: some base class path, or some import
    /// or alias binding, has `name` after a dot, as an imported attribute, or anywhere in a
    /// module with star imports. One pass over
    /// the definitions, on all cores, that builds nothing: the set itself, which follows
    /// bindings through maps it builds for every module, is made only when this says it might
    /// hold the name (a module added or removed whose last name part, as a new module's
    /// usually is, appears in no such place skips it).
    pub(crate) fn may_be_read_after_dot(&self, name: u32) -> bool {
        self.may_be_read_after_dot_any(|x| x == name)
    }

    /// `may_be_read_after_dot` for the names `is_name` accepts, in one pass.
    fn may_be_read_after_dot_any(&self, is_name: impl Fn(u32) -> bool + Sync) -> bool {
        self.mods
            .par_iter()
            .any(|m| bases_hold(m, &is_name, !m.facts.star_imports.is_empty()))
    }

    /// Whether a base class path or an alias of module `slot`, or a name it imports from
    /// another module, holds one of `names` anywhere: the reads of those names in the module
    /// itself that `names_base_classes_read` may find (with those `may_be_read_after_dot`
    /// finds elsewhere, all of them).
    pub(crate) fn names_in_own_bases(&self, slot: u32, names: &FxSet<u32>) -> bool {
        self.mods
            .get(slot as usize)
            .is_none_or(|m| bases_hold(m, &|x| names.contains(&x), true))
    }

    /// The names the resolution of a base class may read, as global string ids:
    /// `(module, name)` for a name looked up in a module's scopes, `(NO, name)` for a name
    /// that may be read in any module (an attribute after a dot, which may be looked up on
    /// whatever the path before it resolves to, or a name imported from a module that is not
    /// in the program, or a namespace package). A name read in a module is also read in that
    /// module's star sources in the program, transitively, as `static_name` and
    /// `static_module_attr` look there: the first name of a base class expression (or of an
    /// alias one reads) in its module, and `from m import K` reads `K` in `m` and in `m`'s
    /// star sources. A name an alias or import binds is followed: with `X = lib.K`,
    /// `class C(X)` reads `X`, then `lib` (in its module) and `K` (anywhere); with `from lib
    /// import K as X`, `X` (in its module) and `K` in `lib`. Scopes within a module are not
    /// told apart, which only makes the set larger. The definitions `gone` of module `slot`
    /// (its edit removes them) are left out.
    pub(crate) fn names_base_classes_read(&self, slot: u32, gone: &[u32]) -> FxSet<(u32, u32)> {
        // Names as global string ids; `ANY` for "in any module".
        const ANY: u32 = NO;
        // The star sources in the program of each module with star imports, transitively,
        // the module first; a module without them reads its names in itself alone.
        let mut star_homes: FxMap<u32, Vec<u32>> = FxMap::default();
        for (mi, m) in self.mods.iter().enumerate() {
            if m.star_sources.is_empty() {
                continue;
            }
            let mut out = vec![mi as u32];
            let mut k = 0;
            while k < out.len() {
                let at = out[k];
                k += 1;
                for star in &self.mods[at as usize].star_sources {
                    if let Some(&s) = self.module_by_name.get(star) {
                        if !out.contains(&s) {
                            out.push(s);
                        }
                    }
                }
            }
            star_homes.insert(mi as u32, out);
        }
        // `name` read in module `mi`.
        let read_in = |out: &mut Vec<(u32, u32)>, mi: u32, name: u32| match star_homes.get(&mi) {
            Some(homes) => out.extend(homes.iter().map(|&h| (h, name))),
            None => out.push((mi, name)),
        };
        let mut read: FxSet<(u32, u32)> = FxSet::default();
        let mut bindings: FxMap<(u32, u32), Vec<(u32, u32)>> = FxMap::default();
        let mut by_name: FxMap<u32, Vec<u32>> = FxMap::default();
        let mut reads: Vec<(u32, u32)> = Vec::new();
        for (mi, m) in self.mods.iter().enumerate() {
            let f = &m.facts;
            let g = |x: u32| m.sym_map.get(x as usize).copied().unwrap_or(NO);
            let path_reads = |out: &mut Vec<(u32, u32)>, path: &[Sym]| {
                for (k, &p) in path.iter().enumerate() {
                    if k == 0 {
                        read_in(out, mi as u32, g(p));
                    } else {
                        out.push((ANY, g(p)));
                    }
                }
            };
            for (di, d) in f.defs.iter().enumerate() {
                if d.kind == DefKind::Class
                    && !(mi as u32 == slot && gone.binary_search(&(di as u32)).is_ok())
                {
                    for r in d.base_refs().iter().flatten() {
                        reads.clear();
                        path_reads(&mut reads, &r.path);
                        read.extend(reads.iter().copied());
                    }
                }
                for (name, binding) in d.statics.iter() {
                    let key = (mi as u32, g(*name));
                    reads.clear();
                    match binding {
                        StaticBinding::Import { module, attr, .. } if *attr != NONE => {
                            match self.module_by_name.get(&g(*module)) {
                                Some(&from) => read_in(&mut reads, from, g(*attr)),
                                None => reads.push((ANY, g(*attr))),
                            }
                        }
                        StaticBinding::Alias(r) => path_reads(&mut reads, &r.path),
                        _ => continue,
                    }
                    let entry = bindings.entry(key).or_default();
                    if entry.is_empty() {
                        by_name.entry(key.1).or_default().push(key.0);
                    }
                    entry.extend(reads.iter().copied());
                }
            }
        }
        // Follow bindings: a name read in a module is read through what binds it there; a
        // name read anywhere, through what binds it in any module.
        let mut todo: Vec<(u32, u32)> = read.iter().copied().collect();
        while let Some((module, name)) = todo.pop() {
            let modules: &[u32] = if module == ANY {
                by_name.get(&name).map(Vec::as_slice).unwrap_or_default()
            } else {
                std::slice::from_ref(&module)
            };
            for &mi in modules {
                for &r in bindings
                    .get(&(mi, name))
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    if read.insert(r) {
                        todo.push(r);
                    }
                }
            }
        }
        read
    }

    /// Drops the cached lookups of `names` on module `slot`, which gains or loses them.
    pub(crate) fn forget_module_lookups(&mut self, slot: u32, names: &[String]) {
        let Some(m) = self.mods.get(slot as usize).map(|m| m.name) else {
            return;
        };
        let names: FxSet<u32> = names.iter().filter_map(|n| self.syms.get(n)).collect();
        let values = &self.values;
        self.lookup_cache.retain(|&(v, attr), _| {
            !(names.contains(&attr) && matches!(values[v as usize], Value::Module(x) if x == m))
        });
    }

    /// Whether the attributes class `local` of module `slot` assigns on `self` can change a
    /// lookup: only if some class with external bases has it in its method resolution order.
    pub(crate) fn self_attrs_matter(&self, slot: u32, local: u32) -> bool {
        let class = self.gdef(slot, local);
        if class == NO || !self.classes.contains_key(&class) {
            return false;
        }
        self.classes
            .values()
            .any(|info| !info.ext_bases.is_empty() && info.mro.contains(&class))
    }

    /// Drops the cached lookups on instances and classes of `classes` and of their subclasses,
    /// and returns the constraints that fired on nodes holding them (they must fire again).
    pub(crate) fn forget_lookups(&mut self, classes: &[u32]) -> Vec<u32> {
        let affected: FxSet<u32> = self
            .classes
            .iter()
            .filter(|(_, info)| info.mro.iter().any(|c| classes.contains(c)))
            .map(|(&c, _)| c)
            .collect();
        let values: FxSet<u32> = self
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| match v {
                Value::Inst(c)
                | Value::SelfInst(c)
                | Value::Class(c)
                | Value::SelfClass(c)
                | Value::Super(c) => affected.contains(c),
                _ => false,
            })
            .map(|(i, _)| i as u32)
            .collect();
        self.lookup_cache.retain(|(v, _), _| !values.contains(v));
        self.trigs_on_nodes_holding(&values)
    }

    /// The constraints registered on nodes that hold one of `values`. Every node is looked
    /// at, those without constraints first and cheaply: on Django, where a method added to a
    /// class looks at some 260,000 nodes, this scan was the largest part of the update.
    fn trigs_on_nodes_holding(&self, values: &FxSet<u32>) -> Vec<u32> {
        let mut wanted = vec![false; self.values.len()];
        for &v in values {
            if let Some(w) = wanted.get_mut(v as usize) {
                *w = true;
            }
        }
        // Every node with constraints, on all cores (in node order, as one core went): on the
        // standard library, over a quarter of the time of adding or removing a file (perf
        // samples, as for `names_read`).
        self.first_trig
            .par_iter()
            .enumerate()
            .with_min_len(1 << 14)
            .filter(|&(n, &t)| {
                t != NO
                    && self
                        .node_values(n as u32)
                        .iter()
                        .any(|&v| wanted.get(v as usize).copied().unwrap_or(false))
            })
            .flat_map_iter(|(n, _)| self.trigs_on(n as u32))
            .collect()
    }

    /// Before the names `names` some classes' bodies bind change (a method added or
    /// removed): drops the cached lookups that may see them, on those classes, on every class
    /// in their method resolution orders (whose `self` lookups ask subclasses, see
    /// `cha_definers`) and on the subclasses of all of these, and returns the constraints
    /// that fired on nodes holding such values and may have looked one of the names up: a
    /// load or store of that attribute, or any dynamic constraint (`getattr` with a name
    /// computed, and what lookups derived). A special name (`__init__`, `__call__`, ...) is
    /// looked up implicitly by calls, iteration and the like, so with one among `names` every
    /// constraint on those nodes fires again.
    pub(crate) fn forget_class_attrs(&mut self, classes: &[u32], names: &[String]) -> Vec<u32> {
        let mut scope: Vec<u32> = Vec::new();
        for &c in classes {
            for b in self.mro(c) {
                if !scope.contains(&b) {
                    scope.push(b);
                }
            }
        }
        let ops = self.forget_lookups(&scope);
        if names
            .iter()
            .any(|n| n.starts_with("__") && n.ends_with("__"))
        {
            return ops;
        }
        // Names never interned were never looked up.
        let attrs: FxSet<u32> = names.iter().filter_map(|n| self.syms.get(n)).collect();
        self.ops_that_may_look_up(ops, &attrs)
    }

    /// Before classes `classes` come or go: drops the cached lookups their attributes (global
    /// string ids) answer on the instances and classes of their ancestors seen from
    /// their own methods (`self`, `cls`), which also find overrides in subclasses
    /// (`cha_definers`), and returns the constraints that fired on nodes holding such values
    /// and may have looked one of them up (all of them, for a special name). Nothing else
    /// can see a class nothing derives from: other classes' method resolution orders do not
    /// hold it.
    ///
    /// Several classes are taken at once (their ancestors and names together, one pass over
    /// the values and nodes): a module of hundreds of classes added (the standard library's
    /// `test_enum.py` copied) took 3.8 s class by class.
    pub(crate) fn forget_dispatch(&mut self, classes: &[u32]) -> Vec<u32> {
        let mut ancestors: FxSet<u32> = FxSet::default();
        let mut names: FxSet<u32> = FxSet::default();
        for &class in classes {
            let attrs = self.class_attr_names(class);
            if attrs.is_empty() {
                continue;
            }
            let above: Vec<u32> = self
                .mro(class)
                .into_iter()
                .filter(|&c| c != class)
                .collect();
            if !above.is_empty() {
                ancestors.extend(above);
                names.extend(attrs);
            }
        }
        if ancestors.is_empty() || names.is_empty() {
            return Vec::new();
        }
        let special = names.iter().any(|&a| {
            let n = self.syms.resolve(a);
            n.starts_with("__") && n.ends_with("__")
        });
        let values: FxSet<u32> = self
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                matches!(v, Value::SelfInst(c) | Value::SelfClass(c) if ancestors.contains(c))
            })
            .map(|(i, _)| i as u32)
            .collect();
        if values.is_empty() {
            return Vec::new();
        }
        self.lookup_cache
            .retain(|(v, a), _| !(values.contains(v) && (special || names.contains(a))));
        let ops = self.trigs_on_nodes_holding(&values);
        if special {
            return ops;
        }
        self.ops_that_may_look_up(ops, &names)
    }

    /// The constraints among `ops` that may look one of `attrs` up: loads and stores of one
    /// of them, and `getattr` and `setattr` whose name node holds one of them as a string
    /// (`dynamic_attr_name` follows no other name). The other dynamic constraints look up
    /// special names only (`__call__` when calling, `__iter__` and `__next__` when
    /// iterating) or none (binding a method, `type()`, dictionary keys): the callers take
    /// every constraint when a special name is among those that change. Adding a method to
    /// a Django model field class re-derived every `getattr(field, name)` on the instances of
    /// its subclasses.
    fn ops_that_may_look_up(&self, ops: Vec<u32>, attrs: &FxSet<u32>) -> Vec<u32> {
        let holds_one = |name: u32| {
            self.node_values(name).iter().any(|&v| {
                matches!(self.values[v as usize], Value::Const(GConst::Str(s)) if attrs.contains(&s))
            })
        };
        ops.into_iter()
            .filter(|&op| {
                if op & DYN != 0 {
                    return match self.dyn_ops.get((op & !DYN) as usize) {
                        Some(DynOp::GetAttr { name, .. } | DynOp::SetAttr { name, .. }) => {
                            holds_one(*name)
                        }
                        Some(_) => false,
                        None => true,
                    };
                }
                let Some((module, local)) = self.op_loc.get(op) else {
                    return true;
                };
                let m = &self.mods[module as usize];
                match m.facts.ops.get(local as usize) {
                    Some(Op::Load { attr, .. }) | Some(Op::Store { attr, .. }) => {
                        attrs.contains(&self.gsym(module, *attr))
                    }
                    Some(_) => false,
                    None => true,
                }
            })
            .collect()
    }

    /// The names class `d` of module `slot` binds and their nodes, in global ids, sorted.
    fn class_attrs_of(&self, slot: u32, d: &DefFact) -> Vec<(u32, u32)> {
        let mut attrs: Vec<(u32, u32)> = d
            .attrs()
            .iter()
            .map(|&(s, n)| (self.gsym(slot, s), self.gnode(slot, n)))
            .collect();
        attrs.sort_unstable();
        attrs
    }

    /// Reads the names class `local` of module `slot` binds again from its facts, into its
    /// `ClassInfo` and the definers of each name (kept in the order of a full solve: by
    /// module, then by definition).
    pub(crate) fn refresh_class_attrs(&mut self, slot: u32, local: u32) {
        let facts = self.mods[slot as usize].facts.clone();
        let Some(d) = facts.defs.get(local as usize) else {
            return;
        };
        let g = self.gdef(slot, local);
        let attrs = self.class_attrs_of(slot, d);
        let Some(info) = self.classes.get_mut(&g) else {
            return;
        };
        let old: Vec<u32> = info.attrs.iter().map(|&(a, _)| a).collect();
        info.attrs = attrs.clone();
        for &a in &old {
            if attrs.binary_search_by_key(&a, |&(x, _)| x).is_err() {
                if let Some(v) = self.definers.get_mut(&a) {
                    v.retain(|&x| x != g);
                }
            }
        }
        for &(a, _) in &attrs {
            if old.binary_search(&a).is_err() {
                let v = self.definers.entry(a).or_default();
                v.push(g);
                let loc = &self.def_loc;
                v.sort_by_key(|&x| loc.get(x).unwrap_or((NO, NO)));
            }
        }
    }

    /// Takes classes out of the hierarchy (they went with their module's edit; nothing
    /// derives from them): their `ClassInfo`, and their place among the definers of their
    /// attributes.
    pub(crate) fn remove_classes(&mut self, classes: &[u32]) {
        for &g in classes {
            let Some(info) = self.classes.remove(&g) else {
                continue;
            };
            for &(a, _) in &info.attrs {
                if let Some(v) = self.definers.get_mut(&a) {
                    v.retain(|&x| x != g);
                }
            }
        }
    }

    /// Puts new classes `locals` of module `slot` (installed already) into the hierarchy, as a
    /// solve from scratch would have: their attributes, `self` attributes, method resolution
    /// orders (over the classes the program has, and each other) and external bases.
    pub(crate) fn add_classes(&mut self, slot: u32, locals: &[u32]) {
        let facts = self.mods[slot as usize].facts.clone();
        let mut bases: FxMap<u32, (Vec<u32>, Vec<u32>)> = FxMap::default();
        for &j in locals {
            let Some(d) = facts.defs.get(j as usize) else {
                continue;
            };
            let g = self.gdef(slot, j);
            let (b, info) = self.class_of(slot, d);
            for &(a, _) in &info.attrs {
                let v = self.definers.entry(a).or_default();
                v.push(g);
                let loc = &self.def_loc;
                v.sort_by_key(|&x| loc.get(x).unwrap_or((NO, NO)));
            }
            bases.insert(g, b);
            self.classes.insert(g, info);
        }
        self.linearize(&bases);
    }

    /// Class `d` of module `mi` before linearization: its bases in the program and outside
    /// it, and its `ClassInfo` without method resolution order.
    fn class_of(&mut self, mi: u32, d: &DefFact) -> ((Vec<u32>, Vec<u32>), ClassInfo) {
        let (mut prog, mut ext) = (Vec::new(), Vec::new());
        for r in d.base_refs().iter().flatten() {
            for t in self.resolve_static(mi, r.scope, &r.path) {
                match t {
                    StaticTarget::Class(c) => prog.push(c),
                    StaticTarget::External(e) => ext.push(e),
                    _ => {}
                }
            }
        }
        let attrs = self.class_attrs_of(mi, d);
        let mut self_attrs: Vec<u32> = d.self_attrs().iter().map(|&s| self.gsym(mi, s)).collect();
        self_attrs.sort_unstable();
        let info = ClassInfo {
            attrs,
            self_attrs,
            ..ClassInfo::default()
        };
        ((prog, ext), info)
    }

    /// Forgets which qualified names definitions `ids` had, so that a definition of one of
    /// those names gets a new id.
    pub(crate) fn forget_def_ids(&mut self, ids: &[u32]) {
        if !ids.is_empty() {
            self.def_keys.retain(|_, id| !ids.contains(id));
        }
    }

    /// The qualified name of definition `g`, for reports.
    pub(crate) fn def_qualname(&self, g: u32) -> String {
        self.def_loc
            .get(g)
            .and_then(|(m, l)| self.mods.get(m as usize)?.facts.defs.get(l as usize))
            .map(|d| d.qualname.to_string())
            .unwrap_or_default()
    }

    /// The attributes class `g` binds in its body (global string ids).
    pub(crate) fn class_attr_names(&self, g: u32) -> Vec<u32> {
        self.classes
            .get(&g)
            .map(|i| i.attrs.iter().map(|&(a, _)| a).collect())
            .unwrap_or_default()
    }

    /// Reads the classes' `self` attributes of a module again from its facts.
    pub(crate) fn refresh_self_attrs(&mut self, slot: u32) {
        let facts = self.mods[slot as usize].facts.clone();
        for (i, d) in facts.defs.iter().enumerate() {
            if d.kind != DefKind::Class {
                continue;
            }
            let g = self.gdef(slot, i as u32);
            let mut attrs: Vec<u32> = d.self_attrs().iter().map(|&s| self.gsym(slot, s)).collect();
            attrs.sort_unstable();
            if let Some(info) = self.classes.get_mut(&g) {
                info.self_attrs = attrs;
            }
        }
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
        if self.lookup_cache.len() >= LOOKUP_CACHE_MAX {
            self.lookup_cache.clear();
        }
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
            let g = &self.mods[mi as usize].globals;
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
        let stars = self.mods[mi as usize].star_sources.clone();
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
                    let g = &self.mods[mi as usize].globals;
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
            self.structural_edge(n, all);
            self.slot_list.entry(alloc).or_default().push((slot, n));
            if let Some(watchers) = self.watch.get(&alloc).cloned() {
                let saved = self.creator;
                for (w, creator) in watchers {
                    // The edges a watch makes belong to whoever set the watch up.
                    self.creator = creator;
                    self.watched_slot(w, slot, n);
                }
                self.creator = saved;
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
        let creator = self.creator;
        let list = self.watch.entry(a).or_default();
        if list.contains(&(w, creator)) {
            return;
        }
        list.push((w, creator));
        if creator != NO {
            let id = self.watch_ids.len() as u32;
            self.watch_ids.push(w);
            self.push_effect(creator, Effect::Watch(a, id));
        }
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
            // Only small non-negative indexes are mapped: a negative bound counts from the end
            // (unknown here), and a container sliced into itself (`x = x[1:]` in a loop) would
            // otherwise chain one slot per index, as deep as the largest index written.
            Watch::Slice { target, lo, hi } if lo < 0 || hi.is_some_and(|h| h < 0) => {
                let s = self.slot(target, Slot::Unknown);
                self.add_edge(n, s, PLAIN);
            }
            Watch::Slice { target, lo, hi } => match slot {
                Slot::Key(GConst::Int(i))
                    if i >= lo && i < MAX_SLICED_INDEX && hi.is_none_or(|h| i < h) =>
                {
                    let s = self.slot(target, Slot::Key(GConst::Int(i - lo)));
                    self.add_edge(n, s, PLAIN);
                }
                Slot::Key(GConst::Int(i)) if i < MAX_SLICED_INDEX => {}
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
        let n = match self.elems_nodes.get(&src) {
            Some(&n) => n,
            None => {
                let n = self.new_node();
                self.elems_nodes.insert(src, n);
                n
            }
        };
        self.dyn_op(DynOp::Elems { src, dst: n });
        n
    }

    /// Takes back a watch (see `add_watch`).
    pub(crate) fn unwatch(&mut self, a: u32, id: u32, creator: u32) {
        let Some(&w) = self.watch_ids.get(id as usize) else {
            return;
        };
        if let Some(list) = self.watch.get_mut(&a) {
            if let Some(i) = list.iter().position(|x| *x == (w, creator)) {
                list.swap_remove(i);
            }
        }
    }

    fn def_yields(&self, f: u32) -> Option<u32> {
        let (m, d) = self.def_at(f)?;
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
        let args: Arc<[GArg]> = args.iter().map(|&a| GArg::Pos(a)).collect();
        for src in srcs.iter() {
            match *src {
                AttrSrc::Node(n, mode) => {
                    if mode == BindMode::Plain {
                        // Instance attributes do not define special methods.
                        continue;
                    }
                    self.dyn_op(DynOp::CallVia {
                        site,
                        src: n,
                        mode,
                        args: args.clone(),
                        dst,
                        flags: 0,
                    });
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
                let m = &self.mods[module as usize].facts;
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
                    self.dyn_op(DynOp::CallVia {
                        site,
                        src: n,
                        mode: BindMode::Instance,
                        args: self.args_vec(args).into(),
                        dst: NO,
                        flags: 0,
                    });
                }
            }
            Value::Inst(_) | Value::SelfInst(_) => {
                let attr = self.syms.intern("__call__");
                let srcs = self.lookup(v, attr);
                for src in srcs.iter() {
                    if let AttrSrc::Node(n, mode) = *src {
                        if mode != BindMode::Plain {
                            self.dyn_op(DynOp::CallVia {
                                site,
                                src: n,
                                mode,
                                args: self.args_vec(args).into(),
                                dst,
                                flags: 0,
                            });
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
                self.dyn_op(DynOp::CallVia {
                    site,
                    src: n,
                    mode: BindMode::Instance,
                    args: self.args_vec(args).into(),
                    dst: NO,
                    flags: 0,
                });
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
        let Some((m, local)) = self.def_loc.get(f) else {
            return;
        };
        if local == NO {
            return;
        }
        // The facts are shared: holding them is a reference count, not a copy.
        let facts = self.mods[m as usize].facts.clone();
        let Some(d) = facts.defs.get(local as usize) else {
            return;
        };
        let params = &d.params;
        let positional: Vec<&ParamFact> = params
            .iter()
            .filter(|p| p.kind == ParamKind::Positional)
            .collect();
        let varargs = params.iter().find(|p| p.kind == ParamKind::VarArgs);
        let varkw = params.iter().find(|p| p.kind == ParamKind::VarKeywords);
        let vararg_slot = varargs.map(|p| {
            let a = self.galloc(m, p.alloc);
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
                        let a = self.galloc(m, p.alloc);
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
                        let a = self.galloc(m, p.alloc);
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
            let elem_args: Arc<[GArg]> = elems.iter().map(|&e| GArg::Pos(e)).take(1).collect();
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
                self.dyn_op(DynOp::CallVia {
                    site,
                    src: n,
                    mode: BindMode::Plain,
                    args: elem_args.clone(),
                    dst: results,
                    flags: 0,
                });
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
                    self.dyn_op(DynOp::Super2 { src: arg(0), dst });
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
                    self.dyn_op(DynOp::IterNext {
                        site,
                        src: arg(0),
                        dst,
                    });
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
                    self.dyn_op(DynOp::GetAttr {
                        base,
                        name: attr,
                        dst,
                        site,
                    });
                }
                if arg(2) != NO {
                    self.add_edge(arg(2), dst, PLAIN);
                }
            }
            "setattr" => {
                let (base, attr, src) = (arg(0), arg(1), arg(2));
                if base != NO && attr != NO && src != NO {
                    self.dyn_op(DynOp::SetAttr {
                        base,
                        name: attr,
                        src,
                    });
                }
            }
            "type" if pos.len() == 1 && arg(0) != NO => {
                self.dyn_op(DynOp::TypeOf { src: arg(0), dst });
            }
            _ => {}
        }
    }

    /// A node holding what iterating `src` yields (calling `__iter__`/`__next__` if needed).
    fn iter_elems_node(&mut self, site: u32, src: u32) -> u32 {
        let e = self.new_node();
        self.dyn_op(DynOp::IterNext { site, src, dst: e });
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
                let default = if name == "setdefault" { arg(1) } else { NO };
                self.add_edge(arg(1), dst, PLAIN);
                if key == NO {
                    let all = self.slot(a, Slot::All);
                    self.add_edge(all, dst, PLAIN);
                    if default != NO {
                        let u = self.slot(a, Slot::Unknown);
                        self.add_edge(default, u, PLAIN);
                    }
                } else {
                    // A key with no values (yet) may be any key. Each value it has or gets
                    // reads (and for `setdefault` writes) its own entry (`DictKey`).
                    let all_or_unknown = if self.node_values(key).is_empty() {
                        Slot::All
                    } else {
                        Slot::Unknown
                    };
                    let s = self.slot(a, all_or_unknown);
                    self.add_edge(s, dst, PLAIN);
                    self.dyn_op(DynOp::DictKey {
                        key,
                        alloc: a,
                        kind,
                        default,
                        dst,
                    });
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
                                self.dyn_op(DynOp::Mirror { src: n, target: a });
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
        let mods: Vec<Arc<ModuleFacts>> = self.mods.iter().map(|m| m.facts.clone()).collect();
        for (mi, m) in mods.iter().enumerate() {
            let mi = mi as u32;
            for (di, d) in m.defs.iter().enumerate() {
                if d.kind != DefKind::Class {
                    continue;
                }
                let gd = self.gdef(mi, di as u32);
                let (b, info) = self.class_of(mi, d);
                for &(a, _) in &info.attrs {
                    self.definers.entry(a).or_default().push(gd);
                }
                bases.insert(gd, b);
                self.classes.insert(gd, info);
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
        // Classes added to a solved program (`add_classes`) may derive from classes it has:
        // those are done.
        for (prog, _) in bases.values() {
            for b in prog {
                if bases.contains_key(b) {
                    continue;
                }
                let Some(info) = self.classes.get(b) else {
                    continue;
                };
                for c in &info.mro {
                    if let Some(known) = self.classes.get(c).filter(|_| !bases.contains_key(c)) {
                        state.insert(*c, 2);
                        mros.insert(*c, known.mro.clone());
                        ext_of.insert(*c, known.ext_bases.clone());
                    }
                }
            }
        }
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
        for &c in &classes {
            if let Some(info) = self.classes.get_mut(&c) {
                info.mro = mros.remove(&c).unwrap_or_else(|| vec![c]);
                info.ext_bases = ext_of.remove(&c).unwrap_or_default();
            }
        }
    }
}

/// Gives back the room a vector reserved beyond its length after a solve from scratch, but
/// for a little (1/256 of the length, at least 4,096 elements): the incremental updates that
/// follow add nodes, edges and effects, and growing a vector with no room left copies it
/// whole. With `shrink_to_fit`, the first update after a solve from scratch copied every
/// vector of the solver (Django, an update after each full solve: p50 7.1 ms, against 1.8
/// ms without shrinking; the standard library's peak without shrinking was 380-381 MiB,
/// against 376 MiB; `TANDEM_BENCH_CHECK=1 TANDEM_BENCH_EDITS=constant tandem-bench index`
/// and `tandem-bench index-memory-child DIR DIR`).
/// Whether one of the names `is_name` accepts (global string ids) is in a class base path or
/// an alias path of module `m` (after a dot, or at any place with `first_too`), or is a name
/// the module imports from another (`from lib import name`).
fn bases_hold(m: &ModSlot, is_name: &impl Fn(u32) -> bool, first_too: bool) -> bool {
    let g = |x: Sym| m.sym_map.get(x as usize).copied().unwrap_or(NO);
    let in_path = |path: &[Sym]| {
        path.iter()
            .enumerate()
            .any(|(k, &p)| (k > 0 || first_too) && is_name(g(p)))
    };
    m.facts.defs.iter().any(|d| {
        (d.kind == DefKind::Class && d.base_refs().iter().flatten().any(|r| in_path(&r.path)))
            || d.statics.iter().any(|(_, binding)| match binding {
                StaticBinding::Import { attr, .. } => *attr != NONE && is_name(g(*attr)),
                StaticBinding::Alias(r) => in_path(&r.path),
                StaticBinding::Def(_) => false,
            })
    })
}

fn trim<T>(v: &mut Vec<T>) {
    let keep = v.len() + (v.len() / 256).max(4096);
    if v.capacity() > keep {
        v.shrink_to(keep);
    }
}

/// What an edit changes in a module's names, for `Solver::names_read_from_outside`:
/// module-level names added and removed, names bound differently by imports, aliases or
/// definitions, and the definitions (old local indices, sorted) the edit removes.
#[derive(Clone, Copy)]
pub(crate) struct NameChange<'a> {
    pub added: &'a [String],
    pub removed: &'a [String],
    pub statics: &'a [String],
    pub gone: &'a [u32],
    /// The module is one nothing else reads (as `Solver::module_name_read` checks before a
    /// module is added, and `Solver::module_removal_read` before one is taken out): no
    /// lookup on it can have found its names.
    pub unread: bool,
}

/// A module's strings in the solver's string table (see `Solver::layout`).
struct ModuleSyms {
    sym_map: Vec<u32>,
    name: u32,
    /// The module's package prefixes (`a` and `a.b` for `a.b.c`).
    prefixes: Vec<u32>,
    /// The definitions' qualified names, in definition order.
    qualnames: Vec<u32>,
}

/// Interns the strings of `facts` into a new table, a module at a time.
fn intern_modules(facts: &[Arc<ModuleFacts>]) -> (Interner, Vec<ModuleSyms>) {
    let mut syms = Interner::default();
    let names = facts.iter().map(|f| intern_module(&mut syms, f)).collect();
    (syms, names)
}

/// A module's strings, name, package prefixes and qualified names interned, in that order.
fn intern_module(syms: &mut Interner, f: &ModuleFacts) -> ModuleSyms {
    let sym_map = f.strings.iter().map(|s| syms.intern(s)).collect();
    let name = syms.intern(&f.name);
    let prefixes = f
        .name
        .match_indices('.')
        .map(|(at, _)| syms.intern(&f.name[..at]))
        .collect();
    let qualnames = f.defs.iter().map(|d| syms.intern(&d.qualname)).collect();
    ModuleSyms {
        sym_map,
        name,
        prefixes,
        qualnames,
    }
}

/// A module's star-import sources and `__all__` names in global ids.
pub(crate) fn star_names(facts: &ModuleFacts, sym_map: &[u32]) -> (Vec<u32>, Option<Vec<u32>>) {
    let g = |s: &u32| sym_map[*s as usize];
    let stars = facts.star_imports.iter().map(g).collect();
    let all = facts.all_names.as_ref().map(|v| v.iter().map(g).collect());
    (stars, all)
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
/// Also the merge of `project_rules`' static class hierarchy.
pub(crate) fn c3_merge<T: Copy + PartialEq>(
    mut seqs: Vec<Vec<T>>,
    direct: Vec<T>,
) -> Option<Vec<T>> {
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

#[cfg(test)]
mod set_tests {
    use super::*;

    /// A set keeps its values in insertion order, says no to a value it holds, and answers
    /// membership the same way before and after it grows its table (values chosen so that
    /// several share a table slot).
    #[test]
    fn a_value_set_keeps_order_and_answers_membership_as_it_grows() {
        let values: Vec<u32> = (0..200u32)
            .map(|i| i.wrapping_mul(1024) ^ (i % 7))
            .collect();
        let mut set = ValSet::default();
        for (n, &v) in values.iter().enumerate() {
            assert!(set.insert(v), "value {v} was new");
            assert!(!set.insert(v), "value {v} is held");
            assert_eq!(set.len(), n + 1);
            for &w in &values[..=n] {
                assert!(set.contains(w));
            }
            for &w in &values[n + 1..] {
                assert!(!set.contains(w), "value {w} not inserted yet");
            }
        }
        assert_eq!(set.as_slice(), &values[..]);
        set.set_done(150);
        assert_eq!(set.done(), 150);
        set.clear();
        assert_eq!(set.len(), 0);
        assert!(!set.contains(values[0]));
    }
}
