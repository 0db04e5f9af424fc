//! The call graph of a Python program.
//!
//! Each module is reduced on its own, in one walk over its tree, to `ModuleFacts`: a small
//! constraint program over sets of abstract values (`facts.rs`, `extract.rs`). The facts of all
//! modules are solved together by a PyCG-style points-to analysis (`resolve.rs`), with import
//! and class-hierarchy resolution before solving (`imports.rs`). The result is a `CallGraph`
//! with PyCG's naming (`pkg.mod.Class.method`, `<builtin>.len`, `<**PyStr**>.join`, external
//! names as imported), which `to_pycg_json` prints in PyCG's adjacency format.
//!
//! `ProgramAnalysis` keeps the facts of every module and the solution, and re-solves what
//! changed when a module is replaced.

mod builtins;
mod extract;
mod facts;
mod imports;
mod incremental;
mod program;
mod pycg;
mod resolve;
mod util;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

pub use facts::ModuleFacts;
pub use program::{ProgramAnalysis, UpdateKind};
pub use pycg::to_pycg_json;

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
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallSite {
    pub caller: String,
    pub callee: String,
    pub module: String,
    pub range: Range<usize>,
}

/// The call graph of a program.
#[derive(Clone, Debug, Default)]
pub struct CallGraph {
    /// Every defined function, method, class, lambda and module, plus builtin and external
    /// callees.
    pub nodes: BTreeMap<String, NodeInfo>,
    /// Caller node → callee nodes, with PyCG's semantics.
    pub edges: BTreeMap<String, BTreeSet<String>>,
    /// Every call site, sorted by module, then position, then callee.
    pub call_sites: Vec<CallSite>,
    by_caller: BTreeMap<String, Vec<u32>>,
    by_callee: BTreeMap<String, Vec<u32>>,
}

impl CallGraph {
    /// The call sites where `node` is called.
    pub fn callers_of(&self, node: &str) -> Vec<&CallSite> {
        self.by_callee
            .get(node)
            .map(|ix| {
                ix.iter()
                    .filter_map(|&i| self.call_sites.get(i as usize))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The call sites in `node`'s own code.
    pub fn callees_of(&self, node: &str) -> Vec<&CallSite> {
        self.by_caller
            .get(node)
            .map(|ix| {
                ix.iter()
                    .filter_map(|&i| self.call_sites.get(i as usize))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Builds the graph from its nodes and call sites (edges and indexes are derived).
    pub(crate) fn from_parts(
        nodes: BTreeMap<String, NodeInfo>,
        mut call_sites: Vec<CallSite>,
    ) -> CallGraph {
        call_sites.sort_by(|a, b| {
            (&a.module, a.range.start, a.range.end, &a.callee, &a.caller).cmp(&(
                &b.module,
                b.range.start,
                b.range.end,
                &b.callee,
                &b.caller,
            ))
        });
        call_sites.dedup();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut by_caller: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        let mut by_callee: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for (i, site) in call_sites.iter().enumerate() {
            edges
                .entry(site.caller.clone())
                .or_default()
                .insert(site.callee.clone());
            by_caller
                .entry(site.caller.clone())
                .or_default()
                .push(i as u32);
            by_callee
                .entry(site.callee.clone())
                .or_default()
                .push(i as u32);
        }
        CallGraph {
            nodes,
            edges,
            call_sites,
            by_caller,
            by_callee,
        }
    }
}
