//! `textDocument/prepareCallHierarchy`, `callHierarchy/incomingCalls` and
//! `callHierarchy/outgoingCalls`, answered from the project's call graph.
//!
//! An item's `data` holds its call-graph node name (`pkg.mod.Class.method`), so the follow-up
//! requests need no position lookup. Ranges come from the text each file was indexed from.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;

use super::convert;
use super::server::ServerState;
use crate::analysis::callgraph::{CallGraph, CallSite, NodeKind};
use crate::analysis::index::ProjectIndex;
use crate::session::position::LineIndex;

/// Runs a call-hierarchy request on the blocking pool: it locks the index, which the update
/// worker may hold while it re-solves the graph, and that wait must not hold a handler slot.
pub(super) async fn run_blocking<T: Send + 'static>(
    state: Arc<ServerState>,
    f: impl FnOnce(&ServerState) -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(move || f(&state))
        .await
        .map_err(|e| Error {
            code: ErrorCode::InternalError,
            message: format!("internal error in call hierarchy: {e}").into(),
            data: None,
        })?
}

pub(super) fn prepare(
    state: &ServerState,
    params: CallHierarchyPrepareParams,
) -> Result<Option<Vec<CallHierarchyItem>>> {
    let position = params.text_document_position_params;
    let uri = position.text_document.uri;
    let path = uri
        .to_file_path()
        .map(|p| p.into_owned())
        .ok_or_else(|| Error::invalid_params(format!("{} is not a file", uri.as_str())))?;
    let mut index = state.index.lock().unwrap_or_else(|e| e.into_inner());
    index.graph();
    let index = &*index;
    let Some(file) = index.file(&path) else {
        return Err(Error::invalid_params(format!(
            "{} is not in the project index (outside the workspace, ignored, or not indexed yet)",
            uri.as_str()
        )));
    };
    let lines = LineIndex::shared(file.text());
    let offset = lines.offset_of(convert::text_position(position.position), state.encoding());
    let outline = file.outline();
    let chain = outline.symbols_at(offset);
    let innermost = chain.last();
    let on_name =
        innermost.is_some_and(|s| s.name_range.contains(&offset) || s.name_range.end == offset);
    let enclosing = innermost.map(|s| s.qualified_name.clone());
    let graph = index.solved_graph();
    // On a call, the item is what is called; on a definition, the definition itself.
    let node = if on_name {
        enclosing
    } else {
        call_at(graph, &file.module, offset).or(enclosing)
    };
    let Some(node) = node else { return Ok(None) };
    Ok(item_for(index, graph, &node, state).map(|item| vec![item]))
}

pub(super) fn incoming(
    state: &ServerState,
    params: CallHierarchyIncomingCallsParams,
) -> Result<Option<Vec<CallHierarchyIncomingCall>>> {
    let node = node_of(&params.item)?;
    let mut index = state.index.lock().unwrap_or_else(|e| e.into_inner());
    index.graph();
    let index = &*index;
    let graph = index.solved_graph();
    // Calling a class runs its `__init__`: a class's callers are its constructors' callers.
    let mut sites: Vec<CallSite> = graph.callers_of(&node);
    let init = format!("{node}.__init__");
    if graph.node(&node).is_some_and(|n| n.kind == NodeKind::Class) {
        sites.extend(graph.callers_of(&init));
    }
    let mut by_caller: BTreeMap<&str, Vec<CallSite>> = BTreeMap::new();
    for site in sites {
        by_caller.entry(site.caller).or_default().push(site);
    }
    let mut calls = Vec::new();
    for (caller, sites) in by_caller {
        let Some(from) = item_for(index, graph, caller, state) else {
            continue;
        };
        let ranges = site_ranges(index, &sites, state);
        calls.push(CallHierarchyIncomingCall {
            from,
            from_ranges: ranges,
        });
    }
    Ok(Some(calls))
}

pub(super) fn outgoing(
    state: &ServerState,
    params: CallHierarchyOutgoingCallsParams,
) -> Result<Option<Vec<CallHierarchyOutgoingCall>>> {
    let node = node_of(&params.item)?;
    let mut index = state.index.lock().unwrap_or_else(|e| e.into_inner());
    index.graph();
    let index = &*index;
    let graph = index.solved_graph();
    let mut by_callee: BTreeMap<&str, Vec<CallSite>> = BTreeMap::new();
    for site in graph.callees_of(&node) {
        by_callee.entry(site.callee).or_default().push(site);
    }
    let mut calls = Vec::new();
    for (callee, sites) in by_callee {
        // Builtins and code outside the project have no location to show.
        let Some(to) = item_for(index, graph, callee, state) else {
            continue;
        };
        let ranges = site_ranges(index, &sites, state);
        calls.push(CallHierarchyOutgoingCall {
            to,
            from_ranges: ranges,
        });
    }
    Ok(Some(calls))
}

fn node_of(item: &CallHierarchyItem) -> Result<String> {
    match &item.data {
        Some(Value::String(node)) => Ok(node.clone()),
        _ => Err(Error::invalid_params(
            "call hierarchy item without Tandem's data: prepare it with prepareCallHierarchy first",
        )),
    }
}

/// The innermost call expression at `offset` in `module`: its callee.
fn call_at(graph: &CallGraph, module: &str, offset: usize) -> Option<String> {
    graph
        .module_call_sites(module)
        .filter(|s| s.range.start <= offset && offset <= s.range.end)
        .min_by_key(|s| s.range.end - s.range.start)
        .map(|s| s.callee.to_string())
}

fn item_for(
    index: &ProjectIndex,
    graph: &CallGraph,
    node: &str,
    state: &ServerState,
) -> Option<CallHierarchyItem> {
    let info = graph.node(node)?;
    let module = info.module?;
    let path = index.path_of_module(module)?;
    let file = index.file(path)?;
    let lines = LineIndex::shared(file.text());
    let enc = state.encoding();
    let range = info.range.clone().unwrap_or(0..file.bytes);
    let name_range = info.name_range.clone().unwrap_or(range.start..range.start);
    let kind = match info.kind {
        NodeKind::Module => SymbolKind::MODULE,
        NodeKind::Class => SymbolKind::CLASS,
        NodeKind::Method => SymbolKind::METHOD,
        NodeKind::Function | NodeKind::Lambda => SymbolKind::FUNCTION,
        NodeKind::Builtin | NodeKind::External => return None,
    };
    let name = node.rsplit('.').next().unwrap_or(node).to_string();
    Some(CallHierarchyItem {
        name: if info.kind == NodeKind::Module {
            node.to_string()
        } else {
            name
        },
        kind,
        tags: None,
        detail: Some(node.to_string()),
        uri: Uri::from_file_path(path)?,
        range: convert::lsp_range(&lines, range, enc),
        selection_range: convert::lsp_range(&lines, name_range, enc),
        data: Some(Value::String(node.to_string())),
    })
}

fn site_ranges(index: &ProjectIndex, sites: &[CallSite], state: &ServerState) -> Vec<Range> {
    let enc = state.encoding();
    let mut ranges = Vec::new();
    // The sites of one caller are usually in one module: its lines are indexed once.
    let mut lines: Option<(&str, LineIndex)> = None;
    for site in sites {
        if lines
            .as_ref()
            .is_none_or(|(module, _)| *module != site.module)
        {
            let Some(file) = index
                .path_of_module(site.module)
                .and_then(|p| index.file(p))
            else {
                continue;
            };
            lines = Some((site.module, LineIndex::shared(file.text())));
        }
        if let Some((_, lines)) = &lines {
            ranges.push(convert::lsp_range(lines, site.range.clone(), enc));
        }
    }
    ranges
}
