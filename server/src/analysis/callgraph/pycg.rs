//! The PyCG output format: `{"caller": ["callee", ...]}`, as in the PyCG benchmark's
//! `callgraph.json`.

use std::collections::{BTreeMap, BTreeSet};

use super::{CallGraph, NodeKind};

/// The PyCG adjacency format: every node PyCG would list (modules, functions, methods and
/// lambdas, with or without callees, plus every caller and callee of an edge), each with its
/// sorted callees.
pub fn to_pycg_json(graph: &CallGraph) -> serde_json::Value {
    let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, info) in &graph.nodes {
        if matches!(
            info.kind,
            NodeKind::Module | NodeKind::Function | NodeKind::Method | NodeKind::Lambda
        ) {
            out.entry(name).or_default();
        }
    }
    for (caller, callees) in &graph.edges {
        let entry = out.entry(caller).or_default();
        for callee in callees {
            entry.insert(callee);
        }
        for callee in callees {
            out.entry(callee).or_default();
        }
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
