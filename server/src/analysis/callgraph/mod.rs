//! Placeholder with the call graph's public API, replaced by the real engine when it lands.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

pub struct SourceModule<'a> {
    pub name: &'a str,
    pub is_package: bool,
    pub source: &'a str,
    pub tree: &'a tree_sitter::Tree,
}

#[derive(Debug, Clone, Default)]
pub struct ModuleFacts {
    pub name: String,
}

pub fn extract_facts(module: &SourceModule<'_>) -> ModuleFacts {
    ModuleFacts {
        name: module.name.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Module,
    Class,
    Function,
    Method,
    Lambda,
    Builtin,
    External,
}

#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub kind: NodeKind,
    pub module: Option<String>,
    pub range: Option<Range<usize>>,
    pub name_range: Option<Range<usize>>,
}

#[derive(Debug, Clone)]
pub struct CallSite {
    pub caller: String,
    pub callee: String,
    pub module: String,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct CallGraph {
    pub nodes: BTreeMap<String, NodeInfo>,
    pub edges: BTreeMap<String, BTreeSet<String>>,
    pub call_sites: Vec<CallSite>,
}

impl CallGraph {
    pub fn callers_of(&self, node: &str) -> Vec<&CallSite> {
        self.call_sites
            .iter()
            .filter(|c| c.callee == node)
            .collect()
    }
    pub fn callees_of(&self, node: &str) -> Vec<&CallSite> {
        self.call_sites
            .iter()
            .filter(|c| c.caller == node)
            .collect()
    }
}

#[derive(Debug, Default)]
pub struct ProgramAnalysis {
    modules: BTreeMap<String, ModuleFacts>,
    graph: CallGraph,
}

impl ProgramAnalysis {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set_module(&mut self, facts: ModuleFacts) {
        self.modules.insert(facts.name.clone(), facts);
    }
    pub fn remove_module(&mut self, name: &str) {
        self.modules.remove(name);
    }
    pub fn graph(&mut self) -> &CallGraph {
        &self.graph
    }
}

pub fn to_pycg_json(graph: &CallGraph) -> serde_json::Value {
    serde_json::to_value(
        graph
            .edges
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().cloned().collect::<Vec<_>>()))
            .collect::<BTreeMap<_, _>>(),
    )
    .unwrap_or_default()
}
