//! The PyCG output format: `{"caller": ["callee", ...]}`, as in the PyCG benchmark's
//! `callgraph.json`.

use std::collections::{BTreeMap, BTreeSet};

use super::{CallGraph, NodeKind};

/// The PyCG adjacency format: every node PyCG would list (modules, functions, methods and
/// lambdas, with or without callees, plus every caller and callee of an edge), each with its
/// sorted callees.
pub fn to_pycg_json(graph: &CallGraph) -> serde_json::Value {
    to_pycg_json_listing(graph, &[])
}

/// `to_pycg_json`, listing the nodes of `callers` too, with or without callees: a part of a
/// graph lists the nodes that call something, even if only outside that part.
pub fn to_pycg_json_listing(graph: &CallGraph, callers: &[&str]) -> serde_json::Value {
    let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, info) in graph.nodes() {
        if matches!(
            info.kind,
            NodeKind::Module | NodeKind::Function | NodeKind::Method | NodeKind::Lambda
        ) {
            out.entry(name).or_default();
        }
    }
    for &caller in callers {
        out.entry(caller).or_default();
    }
    for (caller, callee) in graph.edges() {
        out.entry(caller).or_default().insert(callee);
        out.entry(callee).or_default();
    }
    let map: serde_json::Map<String, serde_json::Value> = out
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                serde_json::Value::Array(
                    v.into_iter()
                        .map(|s| serde_json::Value::String(s.to_string()))
                        .collect(),
                ),
            )
        })
        .collect();
    serde_json::Value::Object(map)
}
