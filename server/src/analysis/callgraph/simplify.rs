//! Shrinks one module's constraint program before it reaches the solver, without changing any
//! set the solver computes for a node that is still read.
//!
//! A node no op reads and the interface does not expose never influences a call edge: ops
//! that only write such a node (constants, definitions, copies, containers) are dropped, and
//! ops that also cause calls (`f()` as a statement, a property read, `with`, iteration) keep
//! their calls and write nowhere (`NONE`). On the standard library this removes about 15% of
//! the nodes and 5% of the ops (1.82M to 1.56M nodes, 1.99M to 1.89M ops, as the `facts:` line
//! of the ignored test `callgraph_scale` counts them). The rewrite is local to the module, so
//! it runs in parallel with the other modules' extraction, and an edit in one body changes
//! that body's part only.
//!
//! Copy chains are merged too (offline variable substitution, `copy_roots`): a body node whose
//! only writer is a plain copy is replaced by the node it copies. Its set would equal the
//! source's once the propagation settles; what changes is the order values arrive in, which
//! the solver's saturation rule is sensitive to (see the ignored test
//! `a_node_top_reached_through_a_call_taken_back_is_derived_again` in `tests.rs`). Measured with
//! `TANDEM_BENCH_MEMORY_STAGES=1 tandem-bench index-memory-child` and `tandem graph --format
//! pycg`: Django's solver nodes 314,741 → 261,477, its graph solved in 163 → 137 ms (medians of
//! 6 interleaved `tandem-bench index` runs), 10 of its 30,019 edges lost and 12 gained where
//! saturation order decides; the standard library's nodes 1,967,407 → 1,668,380, peak memory
//! 652 → 623 MiB, its graph (217,183 edges) identical, its solving time about the same (the
//! firing moves from the propagation into the seeding, as constraints now sit on nodes that
//! already hold values).
//!
//! Repeated loads of one attribute of one node in one body are merged as well
//! (`load_roots`): the standard library's tests read `self.assertEqual` and the like many times
//! per method, and each load made a node, a constraint, and an edge or a binding per value.
//! Measured with `TANDEM_BENCH_MEMORY_STAGES=1 tandem-bench index-memory-child`, two
//! interleaved runs each: the standard library's solver nodes 1,668,380 → 1,551,015, edges
//! 2,012,389 → 1,753,883, effects 2,870,895 → 2,427,417, seeding plus propagation 1,234–1,252
//! → 997–1,053 ms, peak memory 515–516 → 482–485 MiB; Django's nodes 261,477 → 253,767. Its
//! graph, with call sites, is byte-identical (`tandem graph django --format json`); on the
//! standard library with site-packages, 1 of 686,258 edges is lost and 1 gained where
//! saturation order decides.
//!
//! Node numbering keeps the layout `extract::canonical_layout` made: interface nodes first and
//! unchanged, then each definition's nodes, contiguous and in order; ops stay grouped by
//! definition.

use super::facts::{Arg, Key, ModuleFacts, NodeId, Op, SiteIdx, Sym, NONE};
use super::util::FxMap;

/// The node `op` writes, if any.
fn written(op: &Op) -> Option<NodeId> {
    let mut op = *op;
    written_mut(&mut op).map(|dst| *dst)
}

fn written_mut(op: &mut Op) -> Option<&mut NodeId> {
    match op {
        Op::Const { dst, .. }
        | Op::Def { dst, .. }
        | Op::SelfOf { dst, .. }
        | Op::Alloc { dst, .. }
        | Op::Copy { dst, .. }
        | Op::CopyObj { dst, .. }
        | Op::Load { dst, .. }
        | Op::SubLoad { dst, .. }
        | Op::Slice { dst, .. }
        | Op::Elems { dst, .. }
        | Op::Call { dst, .. }
        | Op::IterStart { dst, .. }
        | Op::IterNext { dst, .. }
        | Op::With { dst, .. }
        | Op::Import { dst, .. }
        | Op::Fallback { dst, .. } => Some(dst),
        Op::Store { .. } | Op::SubStore { .. } | Op::Raise { .. } => None,
    }
}

/// Whether all `op` does is add values to the node it writes (so that it can go when nothing
/// reads that node).
fn only_writes(op: &Op) -> bool {
    matches!(
        op,
        Op::Const { .. }
            | Op::Def { .. }
            | Op::SelfOf { .. }
            | Op::Alloc { .. }
            | Op::Copy { .. }
            | Op::CopyObj { .. }
            | Op::Slice { .. }
            | Op::Elems { .. }
    )
}

/// Calls `f` on every node `op` reads, the arguments of a call included.
fn for_each_read(op: &Op, args: &[Arg], mut f: impl FnMut(NodeId)) {
    let key = |k: &Key, f: &mut dyn FnMut(NodeId)| {
        if let Key::Node(x) = *k {
            f(x)
        }
    };
    match op {
        Op::Const { .. }
        | Op::Def { .. }
        | Op::SelfOf { .. }
        | Op::Alloc { .. }
        | Op::Import { .. }
        | Op::Fallback { .. } => {}
        Op::Copy { src, .. }
        | Op::CopyObj { src, .. }
        | Op::Elems { src, .. }
        | Op::Raise { src, .. }
        | Op::IterStart { src, .. }
        | Op::IterNext { src, .. }
        | Op::With { src, .. } => f(*src),
        Op::Load { base, .. } | Op::Slice { base, .. } => f(*base),
        Op::Store { base, src, .. } => {
            f(*base);
            f(*src);
        }
        Op::SubLoad { base, key: k, .. } => {
            f(*base);
            key(k, &mut f);
        }
        Op::SubStore {
            base, key: k, src, ..
        } => {
            f(*base);
            f(*src);
            key(k, &mut f);
        }
        Op::Call { callee, .. } => {
            f(*callee);
            for a in call_args(op, args) {
                let (Arg::Pos(x) | Arg::Kw(_, x) | Arg::Star(x) | Arg::KwStar(x)) = *a;
                f(x);
            }
        }
    }
}

fn call_args<'a>(op: &Op, args: &'a [Arg]) -> &'a [Arg] {
    match *op {
        Op::Call {
            args_start,
            args_len,
            ..
        } => {
            let start = (args_start as usize).min(args.len());
            let end = (args_start as usize + args_len as usize).min(args.len());
            &args[start..end]
        }
        _ => &[],
    }
}

/// Replaces every node `op` names (written or read, call arguments aside) by `map(node)`.
fn map_op(op: &mut Op, map: &impl Fn(NodeId) -> NodeId) {
    let key = |k: &mut Key| {
        if let Key::Node(x) = k {
            *x = map(*x)
        }
    };
    match op {
        Op::Const { dst, .. }
        | Op::Def { dst, .. }
        | Op::SelfOf { dst, .. }
        | Op::Alloc { dst, .. }
        | Op::Import { dst, .. }
        | Op::Fallback { dst, .. } => *dst = map(*dst),
        Op::Copy { dst, src }
        | Op::CopyObj { dst, src }
        | Op::Elems { dst, src }
        | Op::IterStart { dst, src, .. }
        | Op::IterNext { dst, src, .. }
        | Op::With { dst, src, .. } => {
            *dst = map(*dst);
            *src = map(*src);
        }
        Op::Raise { src, .. } => *src = map(*src),
        Op::Load { dst, base, .. } | Op::Slice { dst, base, .. } => {
            *dst = map(*dst);
            *base = map(*base);
        }
        Op::Store { base, src, .. } => {
            *base = map(*base);
            *src = map(*src);
        }
        Op::SubLoad {
            dst, base, key: k, ..
        } => {
            *dst = map(*dst);
            *base = map(*base);
            key(k);
        }
        Op::SubStore {
            base, key: k, src, ..
        } => {
            *base = map(*base);
            *src = map(*src);
            key(k);
        }
        Op::Call { callee, dst, .. } => {
            *callee = map(*callee);
            *dst = map(*dst);
        }
    }
}

/// Counts of what `simplify` removed (the tests check them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Removed {
    pub unread_nodes: usize,
    /// Body nodes replaced by the node they copy (see `copy_roots`).
    pub merged_nodes: usize,
    /// Loads of an attribute another load in the same body reads already (see `load_roots`).
    pub merged_loads: usize,
    pub ops: usize,
}

/// Merges repeated loads of one attribute of one node in one body (hash-based value
/// numbering): `self.check(a); self.check(b)` loads `self.check` twice into two nodes whose
/// only writer is that load, and both nodes would get the same values. The second load goes
/// (its `keep` becomes false) and its node's root becomes the first one's. The bases are
/// compared by their roots, in op order, so `self.a.b` twice merges both loads. Returns each
/// merged load's site with the site of the load it merged into: reading a property there is
/// still a call of its getter (`ModuleFacts::load_aliases`).
fn load_roots(
    f: &ModuleFacts,
    keep: &mut [bool],
    writers: &[u8],
    root: &mut [NodeId],
    iface: usize,
    n: usize,
) -> Vec<(SiteIdx, SiteIdx)> {
    let mut aliases = Vec::new();
    let mut first: FxMap<(NodeId, Sym), (NodeId, SiteIdx)> = FxMap::default();
    for def in &f.defs {
        first.clear();
        let (s, e) = (def.ops.0 as usize, (def.ops.1 as usize).min(f.ops.len()));
        let ops = f.ops.get(s..e).unwrap_or_default();
        for (op, kept_op) in ops.iter().zip(keep.get_mut(s..).unwrap_or_default()) {
            let Op::Load {
                dst,
                base,
                attr,
                site,
            } = *op
            else {
                continue;
            };
            let d = dst as usize;
            if !*kept_op || d < iface || d >= n || writers[d] != 1 || root[d] != dst {
                continue;
            }
            let b = root.get(base as usize).copied().unwrap_or(base);
            match first.entry((b, attr)) {
                std::collections::hash_map::Entry::Occupied(o) => {
                    let (kept, kept_site) = *o.get();
                    root[d] = kept;
                    *kept_op = false;
                    aliases.push((kept_site, site));
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert((dst, site));
                }
            }
        }
    }
    if !aliases.is_empty() {
        // Nodes copied from a merged load's node now stand for the node it merged into.
        for x in 0..n {
            let r = root[x] as usize;
            if r != x && r < n && root[r] != r as NodeId {
                root[x] = root[r];
            }
        }
    }
    aliases
}

/// How many of the kept ops write each node (saturating at 255).
fn writer_counts(f: &ModuleFacts, keep: &[bool], n: usize) -> Vec<u8> {
    let mut writers = vec![0u8; n];
    for (op, _) in f.ops.iter().zip(keep).filter(|(_, &k)| k) {
        if let Some(w) = written(op).and_then(|d| writers.get_mut(d as usize)) {
            *w = w.saturating_add(1);
        }
    }
    writers
}

/// For each node, the node it stands for: itself, or for a body node whose only writer among
/// the kept ops is a plain `Copy`, the root of the node it copies (offline variable
/// substitution). Such a node gets every value of its source and nothing else, so once a
/// solve settles its set is the source's, and the solver need not hold it. Copies that form
/// a cycle with no other writer keep one node of the cycle (which then copies itself, and
/// the copy goes). Interface nodes are never replaced: other modules and later versions of
/// this one refer to them.
fn copy_roots(
    f: &ModuleFacts,
    keep: &[bool],
    writers: &[u8],
    iface: usize,
    n: usize,
) -> Vec<NodeId> {
    let mut source = vec![NONE; n];
    for (op, _) in f.ops.iter().zip(keep).filter(|(_, &k)| k) {
        if let Op::Copy { dst, src } = *op {
            if let Some(s) = source.get_mut(dst as usize) {
                *s = src;
            }
        }
    }
    // `rep[x]`: the node `x` is replaced by, before following chains.
    let rep: Vec<NodeId> = (0..n)
        .map(|x| {
            let src = source[x];
            let merge = x >= iface && writers[x] == 1 && (src as usize) < n && src != x as NodeId;
            if merge {
                src
            } else {
                NONE
            }
        })
        .collect();
    let mut root: Vec<NodeId> = (0..n as NodeId).collect();
    // 0: not seen, 1: on the current chain, 2: root known.
    let mut state = vec![0u8; n];
    let mut chain = Vec::new();
    for x in 0..n {
        if state[x] != 0 {
            continue;
        }
        chain.clear();
        let mut y = x;
        let r = loop {
            match state[y] {
                2 => break root[y],
                // Back on the chain: a cycle of copies; `y` stays and roots it.
                1 => break y as NodeId,
                _ => {}
            }
            if rep[y] == NONE {
                break y as NodeId;
            }
            state[y] = 1;
            chain.push(y);
            y = rep[y] as usize;
        };
        for &c in &chain {
            root[c] = r;
            state[c] = 2;
        }
        root[r as usize] = r;
        state[r as usize] = 2;
    }
    root
}

/// Whether the definitions' node and op ranges cover the body nodes and the ops exactly, in
/// order (the layout the renumbering keeps).
fn tiled(f: &ModuleFacts, iface: usize, n: usize) -> bool {
    let (mut node, mut op) = (iface as u32, 0u32);
    for def in &f.defs {
        if def.body.0 != node || def.body.1 < node || def.ops.0 != op || def.ops.1 < op {
            return false;
        }
        node = def.body.1;
        op = def.ops.1;
    }
    node as usize == n && op as usize == f.ops.len()
}

/// Rewrites `f` in place (see the module documentation).
pub(crate) fn simplify(f: &mut ModuleFacts) -> Removed {
    let n = f.num_nodes as usize;
    let iface = (f.interface_nodes as usize).min(n);
    let get = |v: &[bool], x: NodeId| v.get(x as usize).copied().unwrap_or(false);
    if !tiled(f, iface, n) {
        // Not the layout the extractor makes: leave the facts as they are.
        return Removed::default();
    }

    // Liveness: what the interface exposes and what ops that do more than write read is
    // live; so is what a pure op reads when the node it writes is live.
    let mut live = vec![false; n];
    let mut work: Vec<NodeId> = Vec::new();
    let mark = |x: NodeId, live: &mut Vec<bool>, work: &mut Vec<NodeId>| {
        if let Some(l) = live.get_mut(x as usize) {
            if !*l {
                *l = true;
                work.push(x);
            }
        }
    };
    for x in 0..iface as u32 {
        mark(x, &mut live, &mut work);
    }
    f.for_each_def_node_mut(|x| mark(*x, &mut live, &mut work));
    // Pure ops by the node they write (CSR).
    let mut first = vec![0u32; n + 1];
    for op in &f.ops {
        match written(op) {
            Some(dst) if only_writes(op) && (dst as usize) < n => first[dst as usize + 1] += 1,
            // Imports and fallbacks are kept whole, with the node they bind.
            Some(dst) if matches!(op, Op::Import { .. } | Op::Fallback { .. }) => {
                mark(dst, &mut live, &mut work)
            }
            _ => {}
        }
        if !only_writes(op) {
            for_each_read(op, &f.args, |x| mark(x, &mut live, &mut work));
        }
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut by_dst = vec![0u32; first[n] as usize];
    for (i, op) in f.ops.iter().enumerate() {
        if let Some(dst) = written(op).filter(|&d| only_writes(op) && (d as usize) < n) {
            by_dst[fill[dst as usize] as usize] = i as u32;
            fill[dst as usize] += 1;
        }
    }
    drop(fill);
    while let Some(x) = work.pop() {
        for &oi in &by_dst[first[x as usize] as usize..first[x as usize + 1] as usize] {
            for_each_read(&f.ops[oi as usize], &f.args, |r| {
                mark(r, &mut live, &mut work)
            });
        }
    }
    drop(by_dst);
    drop(first);

    // The ops that stay.
    let mut keep = vec![true; f.ops.len()];
    let mut removed = Removed::default();
    for (i, op) in f.ops.iter_mut().enumerate() {
        let Some(dst) = written(op) else { continue };
        if dst == NONE || get(&live, dst) {
            continue;
        }
        if only_writes(op) {
            keep[i] = false;
            removed.ops += 1;
        } else if let Some(dst) = written_mut(op) {
            *dst = NONE;
        }
    }

    // Copy chains: a body node whose only writer is a plain copy holds exactly the values of
    // the node it copies, so it is replaced by that node (its root) and the copy goes.
    let writers = writer_counts(f, &keep, n);
    let mut root = copy_roots(f, &keep, &writers, iface, n);
    let aliases = load_roots(f, &mut keep, &writers, &mut root, iface, n);
    removed.merged_loads = aliases.len();
    removed.ops += aliases.len();
    if !aliases.is_empty() {
        f.load_aliases.extend(aliases);
        f.load_aliases.sort_unstable();
        f.load_aliases.shrink_to_fit();
    }

    // Numbering: interface nodes as they are, then each definition's remaining nodes in order.
    let mut new_id = vec![NONE; n];
    for (x, id) in new_id.iter_mut().enumerate().take(iface) {
        *id = x as u32;
    }
    let mut next = iface as u32;
    for def in &mut f.defs {
        let start = next;
        for x in def.body.0 as usize..(def.body.1 as usize).min(n) {
            if !live[x] {
                removed.unread_nodes += 1;
            } else if root[x] != x as NodeId {
                removed.merged_nodes += 1;
            } else {
                new_id[x] = next;
                next += 1;
            }
        }
        def.body = (start, next);
    }
    for x in 0..n {
        if live[x] && root[x] != x as NodeId {
            new_id[x] = new_id[root[x] as usize];
        }
    }
    let map = |x: NodeId| -> NodeId { new_id.get(x as usize).copied().unwrap_or(NONE) };

    // Ops, per definition, without the removed ones (and copies of a node into itself).
    let old_ops = std::mem::take(&mut f.ops);
    let mut ops = Vec::with_capacity(old_ops.len() - removed.ops);
    for def in &mut f.defs {
        let start = ops.len() as u32;
        let (s, e) = (def.ops.0 as usize, (def.ops.1 as usize).min(old_ops.len()));
        for i in s..e.max(s) {
            if !keep[i] {
                continue;
            }
            let mut op = old_ops[i];
            map_op(&mut op, &map);
            if let Op::Copy { dst, src } | Op::CopyObj { dst, src } = op {
                if dst == src {
                    removed.ops += 1;
                    continue;
                }
            }
            ops.push(op);
        }
        def.ops = (start, ops.len() as u32);
    }
    f.ops = ops;
    for a in &mut f.args {
        let (Arg::Pos(x) | Arg::Kw(_, x) | Arg::Star(x) | Arg::KwStar(x)) = a;
        *x = map(*x);
    }
    f.for_each_def_node_mut(|x| *x = map(*x));
    f.num_nodes = next;
    removed
}

#[cfg(test)]
mod tests {
    use super::super::extract::extract_unsimplified;
    use super::super::{extract_facts, to_pycg_json, ProgramAnalysis, SourceModule};
    use super::*;
    use crate::analysis::parse::parse_str;

    fn facts(source: &str, simplified: bool) -> ModuleFacts {
        let tree = parse_str(source, None);
        let module = SourceModule {
            name: "m",
            is_package: false,
            source,
            tree: &tree,
        };
        if simplified {
            extract_facts(&module)
        } else {
            extract_unsimplified(&module)
        }
    }

    /// The facts of `source` before and after `simplify`, and what it removed.
    fn before_and_after(source: &str) -> (ModuleFacts, ModuleFacts, Removed) {
        let before = facts(source, false);
        let mut after = before.clone();
        let removed = simplify(&mut after);
        (before, after, removed)
    }

    fn graph(modules: &[(String, bool, String)], simplified: bool) -> serde_json::Value {
        let mut program = ProgramAnalysis::new();
        for (name, is_package, source) in modules {
            let tree = parse_str(source, None);
            let module = SourceModule {
                name,
                is_package: *is_package,
                source,
                tree: &tree,
            };
            program.set_module(if simplified {
                extract_facts(&module)
            } else {
                extract_unsimplified(&module)
            });
        }
        to_pycg_json(program.graph())
    }

    /// The rewritten facts keep the layout, and the program solves to the same graph with and
    /// without the rewrite; returns that graph.
    #[track_caller]
    fn same_graph_after(after: &ModuleFacts, source: &str) -> serde_json::Value {
        assert!(tiled(
            after,
            after.interface_nodes as usize,
            after.num_nodes as usize
        ));
        let modules = vec![("m".to_string(), false, source.to_string())];
        let simplified = graph(&modules, true);
        assert_eq!(simplified, graph(&modules, false));
        simplified
    }

    #[test]
    fn unread_results_and_values_go_and_their_calls_stay() {
        let source = "def g():\n    return 1\n\ndef f():\n    g()\n    unused = g()\n    x = 2\n    y = x\n    z = []\n    return None\n";
        let (before, after, removed) = before_and_after(source);
        // `g()`'s two results, `2`, `x`, `y`, the list and `z` are never read (a list that
        // is written to stays: stores are kept whole).
        assert!(removed.unread_nodes >= 4, "{removed:?}");
        assert!(after.num_nodes < before.num_nodes);
        assert!(after.ops.len() < before.ops.len());
        assert!(!after.ops.iter().any(|op| matches!(
            op,
            Op::Alloc { .. }
                | Op::Const {
                    c: super::super::facts::Const::Int(2),
                    ..
                }
        )));
        let calls = |f: &ModuleFacts| {
            f.ops
                .iter()
                .filter(|op| matches!(op, Op::Call { .. }))
                .count()
        };
        assert_eq!(calls(&before), calls(&after));
        assert!(after.ops.iter().all(
            |op| !matches!(op, Op::Call { dst, .. } if *dst != NONE && *dst >= after.num_nodes)
        ));
        // The layout invariants hold and the program still solves to the same graph.
        assert!(tiled(
            &after,
            after.interface_nodes as usize,
            after.num_nodes as usize
        ));
        let modules = vec![("m".to_string(), false, source.to_string())];
        assert_eq!(graph(&modules, true), graph(&modules, false));
        assert_eq!(
            graph(&modules, true)["m.f"],
            serde_json::json!(["m.g"]),
            "{}",
            graph(&modules, true)
        );
    }

    #[test]
    fn body_nodes_that_only_copy_are_replaced_by_their_source() {
        // `b` and `c` only copy (`a` is written by a definition's value, `x` is a parameter,
        // part of the interface, and `y` has two writers): they go, and so do their copies.
        let source = "def g():\n    pass\n\ndef h():\n    pass\n\ndef f(x):\n    a = g\n    b = a\n    c = b\n    c()\n    y = x\n    y = h\n    y()\n    return x\n";
        let (before, after, removed) = before_and_after(source);
        // The extractor's own temporaries that only copy go as well.
        assert!(removed.merged_nodes >= 2, "{removed:?}");
        assert_eq!(
            after.num_nodes as usize,
            before.num_nodes as usize - removed.unread_nodes - removed.merged_nodes
        );
        // No node written by a single copy is left in a body.
        let iface = after.interface_nodes;
        let mut writers = vec![(0, false); after.num_nodes as usize];
        for op in &after.ops {
            if let Some(dst) = written(op).filter(|&d| d != NONE) {
                writers[dst as usize].0 += 1;
                writers[dst as usize].1 = matches!(op, Op::Copy { .. });
            }
        }
        assert!(
            writers
                .iter()
                .enumerate()
                .all(|(x, &(n, copy))| x < iface as usize || !(n == 1 && copy)),
            "{:?}",
            after.ops
        );
        let simplified = same_graph_after(&after, source);
        assert_eq!(
            simplified["m.f"],
            serde_json::json!(["m.g", "m.h"]),
            "{simplified}"
        );
    }

    /// Variables copied around a loop join at nodes with two writers (the value before the
    /// loop and the one from its last pass): those stay, the copies between them go.
    #[test]
    fn copies_around_a_loop_keep_the_nodes_where_values_join() {
        let source = "def g():\n    pass\n\ndef f():\n    b = g\n    while g:\n        a = b\n        b = a\n    b()\n";
        let (_, _, removed) = before_and_after(source);
        assert!(removed.merged_nodes >= 2, "{removed:?}");
        let modules = vec![("m".to_string(), false, source.to_string())];
        assert_eq!(graph(&modules, true), graph(&modules, false));
        assert_eq!(graph(&modules, true)["m.f"], serde_json::json!(["m.g"]));
    }

    /// The extractor does not make a cycle of nodes that only copy each other (loops join
    /// through nodes with two writers), but facts may come from elsewhere: one node of such a
    /// cycle stays and roots the others.
    #[test]
    fn a_cycle_of_single_copies_keeps_one_root() {
        let mut f = facts("x = 1\n", false);
        f.ops = vec![
            Op::Copy { dst: 1, src: 2 },
            Op::Copy { dst: 2, src: 3 },
            Op::Copy { dst: 3, src: 1 },
            Op::Copy { dst: 4, src: 2 },
            Op::Copy { dst: 5, src: 0 },
        ];
        let keep = vec![true; f.ops.len()];
        let root = copy_roots(&f, &keep, &writer_counts(&f, &keep, 6), 1, 6);
        let r = root[1];
        assert!([1, 2, 3].contains(&r), "{root:?}");
        assert_eq!(root, vec![0, r, r, r, r, 0]);
    }

    /// `self.check` read four times in one body is one load (the fourth, `w = self.check`,
    /// loads into a temporary the assignment copies, so `w`'s second writer does not matter);
    /// `self.a.b` read twice is two loads, the second `.b` merging through the first's node;
    /// the load in another body stays.
    #[test]
    fn repeated_loads_of_one_attribute_in_one_body_are_one_load() {
        let source = "class T:\n    def check(self, x):\n        pass\n\n    def t(self):\n        self.check(1)\n        self.check(2)\n        self.check(3)\n        u = self.a.b\n        v = self.a.b\n        u()\n        v()\n        w = self.check\n        if u:\n            w = len\n        w(4)\n\n    def t2(self):\n        self.check(5)\n";
        let (before, after, removed) = before_and_after(source);
        // `self.check` three times, `self.a` once, `.b` once.
        assert_eq!(removed.merged_loads, 5, "{removed:?}");
        let loads = |f: &ModuleFacts| {
            f.ops
                .iter()
                .filter(|op| matches!(op, Op::Load { .. }))
                .count()
        };
        assert_eq!(loads(&after), loads(&before) - 5, "{:?}", after.ops);
        assert_eq!(after.load_aliases.len(), 5);
        assert!(after.load_aliases.windows(2).all(|w| w[0] <= w[1]));
        // Every merged site is in the same body as the site it merged into.
        for &(kept, merged) in &after.load_aliases {
            assert_eq!(
                after.sites[kept as usize].caller,
                after.sites[merged as usize].caller
            );
            assert_ne!(kept, merged);
        }
        let simplified = same_graph_after(&after, source);
        assert_eq!(
            simplified["m.T.t"],
            serde_json::json!(["<builtin>.len", "m.T.check"]),
            "{simplified}"
        );
        assert_eq!(simplified["m.T.t2"], serde_json::json!(["m.T.check"]));
    }

    #[test]
    fn simplifying_twice_changes_nothing_more() {
        let source = "import os\nclass A:\n    def __init__(self):\n        self.p = os.path.join('a', 'b')\n        q = self.p\n    def m(self):\n        with open(self.p) as fh:\n            for line in fh:\n                line.strip()\n";
        let mut once = facts(source, true);
        let again = once.clone();
        assert_eq!(simplify(&mut once), Removed::default());
        assert_eq!(once, again);
    }

    /// Every case of the PyCG micro-benchmark solves to the same graph with and without the
    /// rewrite (the benchmark is read from `shared/benchmarks/pycg-micro`, as the accuracy
    /// test reads it).
    #[test]
    fn the_micro_benchmark_graphs_do_not_change() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/benchmarks/pycg-micro");
        let cases = super::super::micro::case_dirs(&root);
        assert!(
            cases.len() >= 100,
            "the benchmark is expected at {}",
            root.display()
        );
        for dir in cases {
            let modules = super::super::micro::case_modules(&dir);
            assert_eq!(
                graph(&modules, true),
                graph(&modules, false),
                "{}",
                dir.display()
            );
        }
    }
}
