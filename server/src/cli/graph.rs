//! `tandem graph`: the call graph of Python files or folders, in PyCG's adjacency format, as
//! JSON with locations, or as Graphviz DOT or Mermaid for pictures.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::ValueEnum;
use serde::Serialize;

use crate::analysis::callgraph::{to_pycg_json_listing, CallGraph, NodeKind};
use crate::analysis::index::ProjectIndex;
use crate::session::config::WorkspaceConfig;
use crate::session::indexer::build_index_of_files;
use crate::session::position::LineIndex;
use crate::session::workspace::{discover_python_files, SourceRoots};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Json,
    Pycg,
    Dot,
    Mermaid,
}

pub struct GraphArgs<'a> {
    pub paths: &'a [PathBuf],
    pub root: &'a Path,
    pub format: GraphFormat,
    pub focus: Option<&'a str>,
    pub depth: usize,
}

/// Builds the index of the given paths and prints the graph.
pub fn run(args: &GraphArgs<'_>, config: &WorkspaceConfig, out: &mut impl Write) -> Result<()> {
    for path in args.paths {
        if !path.exists() {
            bail!("{}: no such file or directory", path.display());
        }
    }
    let found = discover_python_files(args.paths, config);
    for (path, reason) in &found.skipped {
        eprintln!("tandem: skipping {}: {reason}", path.display());
    }
    let roots = SourceRoots::for_workspace(&[args.root.to_path_buf()]);
    let (mut index, report) =
        build_index_of_files(&roots, found.files, Vec::new(), config, &|_, _| {});
    for (path, reason) in &report.failed {
        eprintln!("tandem: not analysed {}: {reason}", path.display());
    }
    index.graph();
    let whole = index.solved_graph();
    let focus = match args.focus {
        Some(focus) => Some(focus_subgraph(
            whole,
            &resolve_focus(whole, focus)?,
            args.depth,
        )),
        None => None,
    };
    let (graph, callers) = match &focus {
        Some(focus) => (&focus.graph, focus.callers.as_slice()),
        None => (whole, &[][..]),
    };
    match args.format {
        GraphFormat::Pycg => {
            let callers: Vec<&str> = callers.iter().map(String::as_str).collect();
            serde_json::to_writer_pretty(&mut *out, &to_pycg_json_listing(graph, &callers))?;
            writeln!(out)?;
        }
        GraphFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &json_graph(&index, graph, args.root))?;
            writeln!(out)?;
        }
        GraphFormat::Dot => write_dot(graph, out)?,
        GraphFormat::Mermaid => write_mermaid(graph, out)?,
    }
    Ok(())
}

/// A node named exactly, or else the one node whose name ends with `.focus`.
fn resolve_focus(graph: &CallGraph, focus: &str) -> Result<String> {
    if graph.node(focus).is_some() {
        return Ok(focus.to_string());
    }
    let suffix = format!(".{focus}");
    let matches: Vec<&str> = graph
        .nodes()
        .map(|(name, _)| name)
        .filter(|n| n.ends_with(&suffix))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.to_string()),
        [] => bail!("no function, method or class named `{focus}` in the graph"),
        many => bail!("`{focus}` is ambiguous: {}", many.join(", ")),
    }
}

/// The part of a graph around a focus.
pub struct Focus {
    pub graph: CallGraph,
    /// The nodes of the part that call something, inside the part or outside it (PyCG's
    /// format lists every caller).
    pub callers: Vec<String>,
}

/// The nodes within `depth` calls of `focus`, following edges both ways, and the edges
/// between them.
pub fn focus_subgraph(graph: &CallGraph, focus: &str, depth: usize) -> Focus {
    let mut keep: BTreeSet<String> = BTreeSet::from([focus.to_string()]);
    let mut queue = VecDeque::from([(focus.to_string(), 0usize)]);
    while let Some((node, d)) = queue.pop_front() {
        if d == depth {
            continue;
        }
        let forward = graph.callee_names(&node);
        let backward = graph.caller_names(&node);
        for next in forward.into_iter().chain(backward) {
            if keep.insert(next.to_string()) {
                queue.push_back((next.to_string(), d + 1));
            }
        }
    }
    let callers = keep
        .iter()
        .filter(|n| !graph.callees_of(n).is_empty())
        .cloned()
        .collect();
    Focus {
        graph: graph.restricted_to(&|n| keep.contains(n)),
        callers,
    }
}

#[derive(Serialize)]
struct JsonGraph {
    nodes: Vec<JsonNode>,
    edges: Vec<JsonEdge>,
}

#[derive(Serialize)]
struct JsonNode {
    name: String,
    kind: &'static str,
    path: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
}

#[derive(Serialize)]
struct JsonEdge {
    caller: String,
    callee: String,
    sites: Vec<JsonSite>,
}

#[derive(Serialize)]
struct JsonSite {
    path: String,
    line: u32,
    column: u32,
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Module => "module",
        NodeKind::Class => "class",
        NodeKind::Function => "function",
        NodeKind::Method => "method",
        NodeKind::Lambda => "lambda",
        NodeKind::Builtin => "builtin",
        NodeKind::External => "external",
    }
}

/// Finds 1-based lines and columns (in Unicode scalar values) of offsets in modules' texts,
/// indexing each module's lines once (a graph names the same module at thousands of sites).
struct Locator<'a> {
    index: &'a ProjectIndex,
    root: &'a Path,
    modules: HashMap<&'a str, Option<(String, LineIndex<'a>)>>,
}

impl<'a> Locator<'a> {
    fn new(index: &'a ProjectIndex, root: &'a Path) -> Self {
        Locator {
            index,
            root,
            modules: HashMap::new(),
        }
    }

    fn locate(&mut self, module: &'a str, offset: usize) -> Option<(String, u32, u32)> {
        let (index, root) = (self.index, self.root);
        let entry = self.modules.entry(module).or_insert_with(|| {
            let path = index.path_of_module(module)?;
            let file = index.file(path)?;
            let shown = path
                .strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string();
            Some((shown, LineIndex::shared(file.text())))
        });
        let (shown, lines) = entry.as_ref()?;
        let (line, column) = lines.human_line_column(offset);
        Some((shown.clone(), line as u32, column as u32))
    }
}

fn json_graph(index: &ProjectIndex, graph: &CallGraph, root: &Path) -> JsonGraph {
    let mut locator = Locator::new(index, root);
    let nodes = graph
        .nodes()
        .map(|(name, info)| {
            let loc = info
                .module
                .zip(info.name_range.as_ref().or(info.range.as_ref()))
                .and_then(|(m, r)| locator.locate(m, r.start));
            JsonNode {
                name: name.to_string(),
                kind: kind_name(info.kind),
                path: loc.as_ref().map(|l| l.0.clone()),
                line: loc.as_ref().map(|l| l.1),
                column: loc.as_ref().map(|l| l.2),
            }
        })
        .collect();
    let mut sites: BTreeMap<(&str, &str), Vec<JsonSite>> = BTreeMap::new();
    for site in graph.call_sites() {
        if let Some((path, line, column)) = locator.locate(site.module, site.range.start) {
            sites
                .entry((site.caller, site.callee))
                .or_default()
                .push(JsonSite { path, line, column });
        }
    }
    let edges = graph
        .edges()
        .map(|(caller, callee)| JsonEdge {
            caller: caller.to_string(),
            callee: callee.to_string(),
            sites: sites.remove(&(caller, callee)).unwrap_or_default(),
        })
        .collect();
    JsonGraph { nodes, edges }
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

fn write_dot(graph: &CallGraph, out: &mut impl Write) -> Result<()> {
    writeln!(out, "digraph calls {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  node [shape=box, fontname=\"monospace\"];")?;
    for (name, info) in graph.nodes() {
        let style = match info.kind {
            NodeKind::Builtin | NodeKind::External => ", style=dashed",
            NodeKind::Class => ", shape=component",
            NodeKind::Module => ", shape=folder",
            _ => "",
        };
        writeln!(out, "  {}[label={}{style}];", quoted(name), quoted(name))?;
    }
    for (caller, callee) in graph.edges() {
        writeln!(out, "  {} -> {};", quoted(caller), quoted(callee))?;
    }
    writeln!(out, "}}")?;
    Ok(())
}

fn write_mermaid(graph: &CallGraph, out: &mut impl Write) -> Result<()> {
    writeln!(out, "flowchart LR")?;
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    let mut all: BTreeSet<&str> = graph.nodes().map(|(name, _)| name).collect();
    for (caller, callee) in graph.edges() {
        all.insert(caller);
        all.insert(callee);
    }
    for (i, name) in all.iter().enumerate() {
        let id = format!("n{i}");
        // Mermaid labels cannot hold a bare quote; `#quot;` is its escape.
        writeln!(out, "  {id}[\"{}\"]", name.replace('"', "#quot;"))?;
        ids.insert(name, id);
    }
    for (caller, callee) in graph.edges() {
        writeln!(out, "  {} --> {}", ids[caller], ids[callee])?;
    }
    Ok(())
}
