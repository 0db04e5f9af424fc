//! The call graph of a Python program.
//!
//! Each module is reduced on its own, in one walk over its tree, to `ModuleFacts`: a small
//! constraint program over sets of abstract values (`facts.rs`, `extract.rs`). The facts of all
//! modules are solved together by a PyCG-style points-to analysis (`resolve.rs`), with import
//! and class-hierarchy resolution before solving (`imports.rs`). The result is a `CallGraph`
//! with PyCG's naming (`pkg.mod.Class.method`, `<builtin>.len`, `<**PyStr**>.join`, external
//! names as imported), which `to_pycg_json` prints in PyCG's adjacency format.
//!
//! `ProgramAnalysis` keeps the facts of every module and the solver's state. When a module is
//! replaced and only definition bodies changed, it takes back what the changed definitions
//! derived and re-derives the affected region of the solution, then patches the public graph
//! for the modules whose call sites changed (`incremental.rs`, `program.rs`); other changes
//! (a module added or removed, an interface changed) solve the program again.
//!
//! Semantics are PyCG's, as its micro-benchmark's expected graphs state them: a module's
//! top-level code is the node named after the module; constructing a class calls its
//! `__init__` (named by the class defining it); decorators are called from the scope that
//! defines the decorated function; functions passed around are called where they are called;
//! `self.method()` in a base class reaches the overrides in its subclasses. Beyond PyCG, local
//! variables are flow-sensitive within their scope, and `with`, iteration, subscripts and
//! properties call the special methods they call.

mod builtins;
mod extract;
mod facts;
mod imports;
mod incremental;
pub mod micro;
mod program;
mod pycg;
mod resolve;
mod simplify;
mod util;

#[cfg(test)]
mod tests;

use std::ops::Range;
use std::sync::OnceLock;

use util::{FxMap, Interner};

pub(crate) use extract::resolve_relative;
pub use facts::ModuleFacts;
pub use program::{ProgramAnalysis, UpdateKind};
pub use pycg::{to_pycg_json, to_pycg_json_listing};
pub(crate) use resolve::c3_merge;

/// One module's input. `name` is the dotted module name (`pkg.sub.mod`; a package's
/// `__init__.py` is `pkg.sub` with `is_package = true`).
#[derive(Clone, Copy)]
pub struct SourceModule<'a> {
    pub name: &'a str,
    pub is_package: bool,
    pub source: &'a str,
    pub tree: &'a tree_sitter::Tree,
}

/// Everything the solver needs from one module, computed from that module alone (one walk over
/// the tree). The result holds no tree and no source.
pub fn extract_facts(module: &SourceModule<'_>) -> ModuleFacts {
    extract::extract(module)
}

/// `extract_facts`, reading `flat`, a flat copy of the module's tree made for several walks.
pub(crate) fn extract_facts_of_flat(
    module: &SourceModule<'_>,
    flat: &crate::analysis::flat::FlatTree,
) -> ModuleFacts {
    extract::extract_with(module, flat)
}

/// What a call-graph node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    Module,
    Class,
    Function,
    Method,
    Lambda,
    /// A builtin function or class (`<builtin>.len`) or a method of a builtin type
    /// (`<**PyStr**>.join`).
    Builtin,
    /// A name from a module outside the program (`requests.get`).
    External,
}

/// A node of the graph, as its readers see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo<'a> {
    pub kind: NodeKind,
    /// The module defining the node; None for builtins and externals.
    pub module: Option<&'a str>,
    /// The whole definition (decorators included) in that module's source.
    pub range: Option<Range<usize>>,
    /// The defined name (after `def` or `class`); None for modules, lambdas, builtins and
    /// externals.
    pub name_range: Option<Range<usize>>,
}

/// One call: `caller`'s code calls `callee` at `range` of `module`'s source. The range is the
/// call expression, or the decorator, `for`, `with`, `raise` or attribute (for properties)
/// that causes the call. A view into the graph, which stores sites compactly (`Site`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallSite<'a> {
    pub caller: &'a str,
    pub callee: &'a str,
    pub module: &'a str,
    pub range: Range<usize>,
}

/// "None" for the name ids and offsets the graph stores.
const NONE: u32 = u32::MAX;

/// A node as the graph stores it (24 bytes): its module by name id, offsets as `u32` (as the
/// facts hold them), `NONE` for none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Node {
    kind: NodeKind,
    module: u32,
    range: (u32, u32),
    name_range: (u32, u32),
}

fn stored_range(range: Option<Range<u32>>) -> (u32, u32) {
    range.map_or((NONE, NONE), |r| (r.start, r.end))
}

fn shown_range((start, end): (u32, u32)) -> Option<Range<usize>> {
    (start != NONE).then_some(start as usize..end as usize)
}

/// A call site as the graph stores it (20 bytes): the module, caller and callee by name id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Site {
    pub(crate) module: u32,
    pub(crate) caller: u32,
    pub(crate) callee: u32,
    pub(crate) start: u32,
    pub(crate) end: u32,
}

/// The positions of the call sites, grouped by a name id (the caller's or the callee's):
/// those of id `i` are `positions[starts[i]..starts[i + 1]]`, in increasing order.
#[derive(Clone, Debug, Default)]
struct SiteIndex {
    starts: Vec<u32>,
    positions: Vec<u32>,
}

impl SiteIndex {
    fn build(sites: &[Site], names: usize, key: impl Fn(&Site) -> u32) -> SiteIndex {
        let mut starts = vec![0u32; names + 1];
        for site in sites {
            starts[key(site) as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut positions = vec![0u32; sites.len()];
        for (pos, site) in sites.iter().enumerate() {
            let slot = &mut next[key(site) as usize];
            positions[*slot as usize] = pos as u32;
            *slot += 1;
        }
        SiteIndex { starts, positions }
    }

    fn of(&self, id: u32) -> &[u32] {
        let i = id as usize;
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.positions[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// The call graph of a program.
///
/// Every name it holds (nodes, callers, callees, modules) is stored once and numbered; nodes
/// and call sites refer to names by number, and readers get views (`NodeInfo`, `CallSite`)
/// borrowing the names. The standard library's graph has some 80,000 nodes and 360,000 call
/// sites, so the representation is what decides its size.
#[derive(Clone, Debug, Default)]
pub struct CallGraph {
    names: Interner,
    /// By name id: the node of that name, if there is one. Every defined function, method,
    /// class, lambda and module, plus builtin and external callees.
    nodes: Vec<Option<Node>>,
    /// Every call site, sorted by module name, then position, then callee and caller names.
    sites: Vec<Site>,
    /// The sites by caller and by callee, made when first asked for after a change (the
    /// editor changes the graph far more often than it asks for a node's calls).
    by_caller: OnceLock<SiteIndex>,
    by_callee: OnceLock<SiteIndex>,
    /// How many call sites name each builtin or external node (the node goes with the last).
    name_refs: FxMap<u32, u32>,
}

impl CallGraph {
    fn name(&self, id: u32) -> &str {
        self.names.resolve(id)
    }

    fn view(&self, site: &Site) -> CallSite<'_> {
        CallSite {
            caller: self.name(site.caller),
            callee: self.name(site.callee),
            module: self.name(site.module),
            range: site.start as usize..site.end as usize,
        }
    }

    fn info(&self, node: &Node) -> NodeInfo<'_> {
        NodeInfo {
            kind: node.kind,
            module: (node.module != NONE).then(|| self.name(node.module)),
            range: shown_range(node.range),
            name_range: shown_range(node.name_range),
        }
    }

    fn node_of(&self, name: &str) -> Option<&Node> {
        let id = self.names.get(name)?;
        self.nodes.get(id as usize)?.as_ref()
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<NodeInfo<'_>> {
        self.node_of(name).map(|n| self.info(n))
    }

    /// Every node, in the order of their names.
    pub fn nodes(&self) -> impl Iterator<Item = (&str, NodeInfo<'_>)> {
        let mut ids: Vec<u32> = (0..self.nodes.len() as u32)
            .filter(|&id| self.nodes[id as usize].is_some())
            .collect();
        ids.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        ids.into_iter().filter_map(move |id| {
            let node = self.nodes[id as usize].as_ref()?;
            Some((self.name(id), self.info(node)))
        })
    }

    /// Every call site, sorted by module, then position, then callee, then caller.
    pub fn call_sites(&self) -> impl DoubleEndedIterator<Item = CallSite<'_>> + ExactSizeIterator {
        self.sites.iter().map(|s| self.view(s))
    }

    /// The call sites in `module`'s source, in the graph's order.
    pub fn module_call_sites(&self, module: &str) -> impl Iterator<Item = CallSite<'_>> {
        self.sites[self.module_segment(module)]
            .iter()
            .map(|s| self.view(s))
    }

    fn by_caller(&self) -> &SiteIndex {
        self.by_caller
            .get_or_init(|| SiteIndex::build(&self.sites, self.nodes.len(), |s| s.caller))
    }

    fn by_callee(&self) -> &SiteIndex {
        self.by_callee
            .get_or_init(|| SiteIndex::build(&self.sites, self.nodes.len(), |s| s.callee))
    }

    fn sites_at(&self, positions: &[u32]) -> Vec<CallSite<'_>> {
        positions
            .iter()
            .filter_map(|&p| self.sites.get(p as usize))
            .map(|s| self.view(s))
            .collect()
    }

    /// The call sites where `node` is called.
    pub fn callers_of(&self, node: &str) -> Vec<CallSite<'_>> {
        match self.names.get(node) {
            Some(id) => self.sites_at(self.by_callee().of(id)),
            None => Vec::new(),
        }
    }

    /// The call sites in `node`'s own code.
    pub fn callees_of(&self, node: &str) -> Vec<CallSite<'_>> {
        match self.names.get(node) {
            Some(id) => self.sites_at(self.by_caller().of(id)),
            None => Vec::new(),
        }
    }

    /// The names at the other end of `id`'s sites in `index` (`other` of each), each once,
    /// sorted.
    fn ends(&self, index: &SiteIndex, id: u32, other: fn(&Site) -> u32) -> Vec<&str> {
        let mut ids: Vec<u32> = index
            .of(id)
            .iter()
            .map(|&p| other(&self.sites[p as usize]))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut names: Vec<&str> = ids.into_iter().map(|i| self.name(i)).collect();
        names.sort_unstable();
        names
    }

    /// The nodes `node` calls (the edges from it), each once, sorted.
    pub fn callee_names(&self, node: &str) -> Vec<&str> {
        match self.names.get(node) {
            Some(id) => self.ends(self.by_caller(), id, |s| s.callee),
            None => Vec::new(),
        }
    }

    /// The nodes that call `node` (the edges to it), each once, sorted.
    pub fn caller_names(&self, node: &str) -> Vec<&str> {
        match self.names.get(node) {
            Some(id) => self.ends(self.by_callee(), id, |s| s.caller),
            None => Vec::new(),
        }
    }

    /// Whether `caller`'s code calls `callee` somewhere.
    pub fn has_edge(&self, caller: &str, callee: &str) -> bool {
        let (Some(a), Some(b)) = (self.names.get(caller), self.names.get(callee)) else {
            return false;
        };
        self.by_caller()
            .of(a)
            .iter()
            .any(|&p| self.sites[p as usize].callee == b)
    }

    /// Every edge (caller → callee, with PyCG's semantics: some call site of the caller's
    /// code calls the callee), sorted by caller, then callee.
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str)> {
        let index = self.by_caller();
        let mut callers: Vec<u32> = (0..self.nodes.len() as u32)
            .filter(|&id| !index.of(id).is_empty())
            .collect();
        callers.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        callers.into_iter().flat_map(move |caller| {
            let from = self.name(caller);
            self.ends(index, caller, |s| s.callee)
                .into_iter()
                .map(move |to| (from, to))
        })
    }

    /// The part of the graph on the nodes `keep` holds: those nodes and the call sites
    /// between them.
    pub fn restricted_to(&self, keep: &dyn Fn(&str) -> bool) -> CallGraph {
        let mut sub = CallGraph::default();
        for (id, node) in self.nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            let name = self.name(id as u32);
            if keep(name) {
                let module = (node.module != NONE).then(|| self.name(node.module));
                let module = module.map_or(NONE, |m| sub.intern(m));
                let id = sub.intern(name);
                sub.nodes[id as usize] = Some(Node { module, ..*node });
            }
        }
        let sites = self
            .sites
            .iter()
            .filter(|s| keep(self.name(s.caller)) && keep(self.name(s.callee)))
            .map(|s| Site {
                module: sub.intern(self.name(s.module)),
                caller: sub.intern(self.name(s.caller)),
                callee: sub.intern(self.name(s.callee)),
                ..*s
            })
            .collect();
        sub.replace_segment(0..0, sites);
        sub
    }

    /// What the graph holds and the bytes of its arrays (names' text and hash index aside),
    /// for benchmarks.
    #[doc(hidden)]
    pub fn memory_report(&self) -> String {
        let (callers, callees) = (self.by_caller(), self.by_callee());
        let index_bytes = |i: &SiteIndex| (i.starts.capacity() + i.positions.capacity()) * 4;
        let mb = |bytes: usize| bytes as f64 / 1e6;
        format!(
            "{} names, {} nodes ({:.1} MB), {} call sites ({:.1} MB), indexes {:.1} MB",
            self.nodes.len(),
            self.nodes.iter().flatten().count(),
            mb(self.nodes.capacity() * std::mem::size_of::<Option<Node>>()),
            self.sites.len(),
            mb(self.sites.capacity() * std::mem::size_of::<Site>()),
            mb(index_bytes(callers) + index_bytes(callees)),
        )
    }

    /// The id of `name`, numbering it if it is new.
    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        let id = self.names.intern(name);
        if id as usize >= self.nodes.len() {
            self.nodes.resize(id as usize + 1, None);
        }
        id
    }

    /// Adds a node unless there is one of that name; the name's id.
    pub(crate) fn add_node(
        &mut self,
        name: &str,
        kind: NodeKind,
        module: Option<&str>,
        range: Option<Range<u32>>,
        name_range: Option<Range<u32>>,
    ) -> u32 {
        let id = self.intern(name);
        if self.nodes[id as usize].is_some() {
            return id;
        }
        let module = module.map_or(NONE, |m| self.intern(m));
        self.nodes[id as usize] = Some(Node {
            kind,
            module,
            range: stored_range(range),
            name_range: stored_range(name_range),
        });
        id
    }

    /// Takes out the node of a definition that is gone (its name stays numbered).
    pub(crate) fn remove_node(&mut self, name: &str) {
        if let Some(id) = self.names.get(name) {
            if let Some(node) = self.nodes.get_mut(id as usize) {
                *node = None;
            }
        }
    }

    /// Moves a defined node: its range, and its name's range if it has one.
    pub(crate) fn move_node(&mut self, name: &str, range: Range<u32>, name_range: Range<u32>) {
        let Some(id) = self.names.get(name) else {
            return;
        };
        if let Some(Some(node)) = self.nodes.get_mut(id as usize) {
            node.range = (range.start, range.end);
            if node.name_range.0 != NONE {
                node.name_range = (name_range.start, name_range.end);
            }
        }
    }

    /// Gives back the unused capacity of a graph just built.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        self.sites.shrink_to_fit();
    }

    /// Sorts one module's sites as the graph keeps them (by position, then callee and caller
    /// names) and drops duplicates.
    pub(crate) fn sort_module_sites(&self, sites: &mut Vec<Site>) {
        sites.sort_by(|a, b| {
            (a.start, a.end, self.name(a.callee), self.name(a.caller)).cmp(&(
                b.start,
                b.end,
                self.name(b.callee),
                self.name(b.caller),
            ))
        });
        sites.dedup();
    }

    /// The positions of a module's call sites.
    pub(crate) fn module_segment(&self, module: &str) -> Range<usize> {
        let start = self.sites.partition_point(|s| self.name(s.module) < module);
        let end = self
            .sites
            .partition_point(|s| self.name(s.module) <= module);
        start..end.max(start)
    }

    /// Replaces the call sites at `range` (one module's, or none) with `new` (sorted, all
    /// of the same module and belonging there), keeping builtin and external nodes current.
    pub(crate) fn replace_segment(&mut self, range: Range<usize>, new: Vec<Site>) {
        for site in &self.sites[range.clone()] {
            if let Some(n) = self.name_refs.get_mut(&site.callee) {
                *n -= 1;
                if *n == 0 {
                    self.name_refs.remove(&site.callee);
                    self.nodes[site.callee as usize] = None;
                }
            }
        }
        for site in &new {
            let callee = self.names.resolve(site.callee);
            let slot = &mut self.nodes[site.callee as usize];
            let kind = if callee.starts_with("<builtin>.") || callee.starts_with("<**") {
                Some(NodeKind::Builtin)
            } else if slot.is_none_or(|n| n.module == NONE) {
                Some(NodeKind::External)
            } else {
                None
            };
            if let Some(kind) = kind {
                *self.name_refs.entry(site.callee).or_default() += 1;
                slot.get_or_insert(Node {
                    kind,
                    module: NONE,
                    range: (NONE, NONE),
                    name_range: (NONE, NONE),
                });
            }
        }
        if self.sites.is_empty() {
            // A cold build: the new sites are the graph's, without a copy (splicing them in
            // held them twice at the peak).
            self.sites = new;
        } else {
            self.sites.splice(range, new);
        }
        self.by_caller = OnceLock::new();
        self.by_callee = OnceLock::new();
    }
}
