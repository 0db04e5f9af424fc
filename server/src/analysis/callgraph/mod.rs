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

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use util::FxMap;

pub(crate) use extract::resolve_relative;
pub use facts::ModuleFacts;
pub use program::{ProgramAnalysis, UpdateKind};
pub use pycg::to_pycg_json;
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    pub kind: NodeKind,
    /// The module defining the node; None for builtins and externals.
    pub module: Option<String>,
    /// The whole definition (decorators included) in that module's source.
    pub range: Option<Range<usize>>,
    /// The defined name (after `def` or `class`); None for modules, lambdas, builtins and
    /// externals.
    pub name_range: Option<Range<usize>>,
}

/// One call: `caller`'s code calls `callee` at `range` of `module`'s source. The range is the
/// call expression, or the decorator, `for`, `with`, `raise` or attribute (for properties)
/// that causes the call.
///
/// The names are shared (`Arc<str>`) with every other site naming the same node or module.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallSite {
    pub caller: Arc<str>,
    pub callee: Arc<str>,
    pub module: Arc<str>,
    pub range: Range<usize>,
}

/// The call graph of a program.
#[derive(Clone, Debug, Default)]
pub struct CallGraph {
    /// Every defined function, method, class, lambda and module, plus builtin and external
    /// callees.
    pub nodes: BTreeMap<String, NodeInfo>,
    /// Caller node → callee nodes, with PyCG's semantics.
    /// The names are shared with the call sites naming the same nodes.
    pub edges: BTreeMap<Arc<str>, BTreeSet<Arc<str>>>,
    /// Every call site, sorted by module, then position, then callee.
    pub call_sites: Vec<CallSite>,
    /// The callers' and callees' names, numbered (the indexes below use the numbers).
    name_ids: FxMap<Arc<str>, u32>,
    /// Positions in `call_sites` by caller and by callee, in increasing order.
    by_caller: Vec<Vec<u32>>,
    by_callee: Vec<Vec<u32>>,
    /// How many call sites make each edge, and name each builtin or external node.
    edge_counts: FxMap<(u32, u32), u32>,
    name_refs: FxMap<u32, u32>,
}

fn site_order(a: &CallSite, b: &CallSite) -> std::cmp::Ordering {
    (&a.module, a.range.start, a.range.end, &a.callee, &a.caller).cmp(&(
        &b.module,
        b.range.start,
        b.range.end,
        &b.callee,
        &b.caller,
    ))
}

impl CallGraph {
    /// The call sites where `node` is called.
    pub fn callers_of(&self, node: &str) -> Vec<&CallSite> {
        self.name_ids
            .get(node)
            .and_then(|&id| self.by_callee.get(id as usize))
            .map(|ix| {
                ix.iter()
                    .filter_map(|&i| self.call_sites.get(i as usize))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The call sites in `node`'s own code.
    pub fn callees_of(&self, node: &str) -> Vec<&CallSite> {
        self.name_ids
            .get(node)
            .and_then(|&id| self.by_caller.get(id as usize))
            .map(|ix| {
                ix.iter()
                    .filter_map(|&i| self.call_sites.get(i as usize))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Builds the graph from its nodes and call sites already in the graph's order (by
    /// module, then position, then callee, then caller) and without duplicates.
    pub(crate) fn from_sorted_parts(
        nodes: BTreeMap<String, NodeInfo>,
        call_sites: Vec<CallSite>,
    ) -> CallGraph {
        debug_assert!(call_sites
            .windows(2)
            .all(|w| site_order(&w[0], &w[1]) == std::cmp::Ordering::Less));
        let mut graph = CallGraph {
            nodes,
            ..CallGraph::default()
        };
        graph.replace_segment(0..0, call_sites);
        graph
    }

    /// The positions of a module's call sites.
    pub(crate) fn module_segment(&self, module: &str) -> Range<usize> {
        let start = self.call_sites.partition_point(|c| &*c.module < module);
        let end = self.call_sites.partition_point(|c| &*c.module <= module);
        start..end.max(start)
    }

    fn name_id(&mut self, name: &Arc<str>) -> u32 {
        if let Some(&id) = self.name_ids.get(&**name) {
            return id;
        }
        let id = self.by_caller.len() as u32;
        self.name_ids.insert(name.clone(), id);
        self.by_caller.push(Vec::new());
        self.by_callee.push(Vec::new());
        id
    }

    /// Replaces the call sites at `range` (one module's, or none) with `new` (sorted, all
    /// of the same module and belonging there), keeping edges, builtin and external nodes and
    /// indexes current.
    pub(crate) fn replace_segment(&mut self, range: Range<usize>, new: Vec<CallSite>) {
        for k in range.clone() {
            let pos = k as u32;
            let (caller, callee) = {
                let site = &self.call_sites[k];
                (self.name_id_of(&site.caller), self.name_id_of(&site.callee))
            };
            for (index, id) in [(&mut self.by_caller, caller), (&mut self.by_callee, callee)] {
                if let Some(list) = index.get_mut(id as usize) {
                    if let Ok(i) = list.binary_search(&pos) {
                        list.remove(i);
                    }
                }
            }
            if let Some(n) = self.edge_counts.get_mut(&(caller, callee)) {
                *n -= 1;
                if *n == 0 {
                    self.edge_counts.remove(&(caller, callee));
                    let site = &self.call_sites[k];
                    if let Some(set) = self.edges.get_mut(&*site.caller) {
                        set.remove(&*site.callee);
                        if set.is_empty() {
                            self.edges.remove(&*site.caller);
                        }
                    }
                }
            }
            if let Some(n) = self.name_refs.get_mut(&callee) {
                *n -= 1;
                if *n == 0 {
                    self.name_refs.remove(&callee);
                    let name = self.call_sites[k].callee.clone();
                    self.nodes.remove(&*name);
                }
            }
        }
        // Positions after the range move.
        let delta = new.len() as i64 - range.len() as i64;
        if delta != 0 {
            let end = range.end as u32;
            for index in [&mut self.by_caller, &mut self.by_callee] {
                for list in index.iter_mut() {
                    let from = list.partition_point(|&p| p < end);
                    for p in &mut list[from..] {
                        *p = (i64::from(*p) + delta) as u32;
                    }
                }
            }
        }
        for (k, site) in new.iter().enumerate() {
            let pos = (range.start + k) as u32;
            let caller = self.name_id(&site.caller);
            let callee = self.name_id(&site.callee);
            for (index, id) in [(&mut self.by_caller, caller), (&mut self.by_callee, callee)] {
                let list = &mut index[id as usize];
                let at = list.partition_point(|&p| p < pos);
                list.insert(at, pos);
            }
            let count = self.edge_counts.entry((caller, callee)).or_default();
            *count += 1;
            if *count == 1 {
                self.edges
                    .entry(site.caller.clone())
                    .or_default()
                    .insert(site.callee.clone());
            }
            let kind = if site.callee.starts_with("<builtin>.") || site.callee.starts_with("<**") {
                Some(NodeKind::Builtin)
            } else if self
                .nodes
                .get(&*site.callee)
                .is_none_or(|n| n.module.is_none())
            {
                Some(NodeKind::External)
            } else {
                None
            };
            if let Some(kind) = kind {
                *self.name_refs.entry(callee).or_default() += 1;
                if !self.nodes.contains_key(&*site.callee) {
                    self.nodes.insert(
                        site.callee.to_string(),
                        NodeInfo {
                            kind,
                            module: None,
                            range: None,
                            name_range: None,
                        },
                    );
                }
            }
        }
        self.call_sites.splice(range, new);
    }

    fn name_id_of(&self, name: &str) -> u32 {
        self.name_ids.get(name).copied().unwrap_or(u32::MAX)
    }
}
