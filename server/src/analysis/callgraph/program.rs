//! The whole program, kept current as modules change.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::facts::{DefKind, MethodKind, ModuleFacts};
use super::resolve::{Callee, Solver};
use super::{CallGraph, CallSite, NodeInfo, NodeKind};

/// The facts of every module and the call graph solved from them.
#[derive(Default)]
pub struct ProgramAnalysis {
    modules: BTreeMap<String, Arc<ModuleFacts>>,
    graph: CallGraph,
    dirty: bool,
}

impl ProgramAnalysis {
    pub fn new() -> Self {
        ProgramAnalysis::default()
    }

    /// Inserts or replaces a module (keyed by its name).
    pub fn set_module(&mut self, facts: ModuleFacts) {
        let name = facts.name().to_string();
        if let Some(old) = self.modules.get(&name) {
            if **old == facts {
                return;
            }
        }
        self.modules.insert(name, Arc::new(facts));
        self.dirty = true;
    }

    pub fn remove_module(&mut self, name: &str) {
        if self.modules.remove(name).is_some() {
            self.dirty = true;
        }
    }

    /// The module names currently in the program.
    pub fn module_names(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(String::as_str)
    }

    /// The call graph, solving what changed since the last call.
    pub fn graph(&mut self) -> &CallGraph {
        if self.dirty {
            let mods: Vec<Arc<ModuleFacts>> = self.modules.values().cloned().collect();
            let mut solver = Solver::new(mods);
            solver.solve();
            self.graph = build_graph(&solver);
            self.dirty = false;
        }
        &self.graph
    }
}

/// Turns a solution into the public call graph.
pub(crate) fn build_graph(s: &Solver) -> CallGraph {
    let mut nodes: BTreeMap<String, NodeInfo> = BTreeMap::new();
    for m in &s.mods {
        for d in &m.defs {
            let kind = match (d.kind, d.method) {
                (DefKind::Module, _) => NodeKind::Module,
                (DefKind::Class, _) => NodeKind::Class,
                (DefKind::Lambda, _) => NodeKind::Lambda,
                (DefKind::Function, MethodKind::None) => NodeKind::Function,
                (DefKind::Function, _) => NodeKind::Method,
            };
            let name_range = match d.kind {
                DefKind::Module | DefKind::Lambda => None,
                _ => Some(d.name_range.0 as usize..d.name_range.1 as usize),
            };
            nodes.entry(d.qualname.to_string()).or_insert(NodeInfo {
                kind,
                module: Some(m.name().to_string()),
                range: Some(d.range.0 as usize..d.range.1 as usize),
                name_range,
            });
        }
    }
    let mut sites = Vec::with_capacity(s.calls.len());
    for &(site, callee) in &s.calls {
        let caller = s.site_caller(site);
        let Some(caller_def) = s.def_fact(caller) else {
            continue;
        };
        let Some(&mi) = s.site_module.get(site as usize) else {
            continue;
        };
        let m = &s.mods[mi as usize];
        let local = site - s.site_base[mi as usize];
        let callee_name = match callee {
            Callee::Def(d) => match s.def_fact(d) {
                Some(f) => f.qualname.to_string(),
                None => continue,
            },
            Callee::Name(n) => {
                let name = s.syms.resolve(n).to_string();
                let kind = if name.starts_with("<builtin>.") || name.starts_with("<**") {
                    NodeKind::Builtin
                } else {
                    NodeKind::External
                };
                nodes.entry(name.clone()).or_insert(NodeInfo {
                    kind,
                    module: None,
                    range: None,
                    name_range: None,
                });
                name
            }
        };
        sites.push(CallSite {
            caller: caller_def.qualname.to_string(),
            callee: callee_name,
            module: m.name().to_string(),
            range: m.site_range(local),
        });
    }
    CallGraph::from_parts(nodes, sites)
}
