//! The whole program, kept current as modules change.
//!
//! `ProgramAnalysis` holds the facts of every module, the solver's state and the public call
//! graph. `graph()` brings them up to date with the modules set or removed since the last call:
//! a module whose constraints did not change (an edit of a comment, of whitespace, of code
//! that moves lines) only moves call sites and definitions; a module whose definitions changed
//! inside their bodies, or whose interface changed in a way nothing outside it has read, is
//! re-solved incrementally (`incremental.rs`); a module added is too, when nothing in the
//! program has read its name yet (`Solver::add_module`), and a module removed, when nothing
//! else in the program reads its name (`Solver::remove_module`); anything else (an interface
//! change others read, a module others import added or removed) is solved again from scratch.
//! Modules added in one update go first, each after the added modules it reads, and modules
//! removed last, each after the removed modules that read it; modules that cannot go one at a
//! time, or too many at once, are solved from scratch (`bulk_order`).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;

use super::facts::{DefKind, MethodKind, ModuleFacts};
use super::resolve::{Callee, Solver, NO};
use super::util::{is_within, FxMap};
use super::{CallGraph, NodeKind, Site};

/// The facts of every module and the call graph solved from them.
#[derive(Default)]
pub struct ProgramAnalysis {
    modules: BTreeMap<String, Arc<ModuleFacts>>,
    /// Modules set (Some) or removed (None) since the last `graph()`.
    pending: BTreeMap<String, Option<Arc<ModuleFacts>>>,
    solver: Option<Solver>,
    graph: CallGraph,
    /// How the last `graph()` brought the graph up to date (for benchmarks and tests).
    last_update: UpdateKind,
}

/// How `ProgramAnalysis::graph` brought the graph up to date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UpdateKind {
    /// Nothing had changed.
    #[default]
    None,
    /// Only positions moved.
    Positions,
    /// Some definitions' bodies were re-solved.
    Incremental,
    /// Everything was solved again.
    Full,
}

impl ProgramAnalysis {
    pub fn new() -> Self {
        ProgramAnalysis::default()
    }

    /// Inserts or replaces a module (keyed by its name).
    pub fn set_module(&mut self, facts: ModuleFacts) {
        let name = facts.name().to_string();
        let current = self
            .pending
            .get(&name)
            .map_or_else(|| self.modules.get(&name).cloned(), Clone::clone);
        if current.is_some_and(|old| *old == facts) {
            return;
        }
        self.pending.insert(name, Some(Arc::new(facts)));
    }

    pub fn remove_module(&mut self, name: &str) {
        let known = match self.pending.get(name) {
            Some(entry) => entry.is_some(),
            None => self.modules.contains_key(name),
        };
        if known {
            self.pending.insert(name.to_string(), None);
        }
    }

    /// The module names currently in the program.
    pub fn module_names(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(String::as_str)
    }

    /// Internal counts of the solver, for benchmarks.
    #[doc(hidden)]
    pub fn solver_stats(&self) -> String {
        self.solver.as_ref().map(Solver::stats).unwrap_or_default()
    }

    /// What the last incremental update did, or why it could not be done, for benchmarks.
    #[doc(hidden)]
    pub fn last_report(&self) -> String {
        self.solver
            .as_ref()
            .map(|s| s.report.clone())
            .unwrap_or_default()
    }

    /// How the last call to `graph()` brought the graph up to date.
    pub fn last_update(&self) -> UpdateKind {
        self.last_update
    }

    /// The graph as of the last `graph()` call, without solving what changed since: for
    /// readers that hold the index immutably after bringing it up to date.
    pub fn solved_graph(&self) -> &CallGraph {
        &self.graph
    }

    /// The call graph, solving what changed since the last call.
    pub fn graph(&mut self) -> &CallGraph {
        if self.pending.is_empty() {
            self.last_update = UpdateKind::None;
            return &self.graph;
        }
        let pending = std::mem::take(&mut self.pending);
        // Modules added are tried as additions, modules removed as removals (after every
        // other change, so that an import taken out in the same update no longer reads them).
        let removed: Vec<Arc<ModuleFacts>> = pending
            .iter()
            .filter(|(_, new)| new.is_none())
            .filter_map(|(name, _)| self.modules.get(name).cloned())
            .collect();
        let added: BTreeSet<String> = pending
            .iter()
            .filter(|(name, new)| new.is_some() && !self.modules.contains_key(*name))
            .map(|(name, _)| name.clone())
            .collect();
        for (name, new) in &pending {
            match new {
                Some(f) => {
                    self.modules.insert(name.clone(), f.clone());
                }
                None => {
                    self.modules.remove(name);
                }
            }
        }
        let Some(solver) = self.solver.as_ref() else {
            self.solve_all();
            return &self.graph;
        };
        // Modules added go first, each after the added modules it reads, so that none is
        // read before it is there; modules removed go last, each after the removed modules
        // that read it.
        let joining: Vec<(&String, &Arc<ModuleFacts>)> = pending
            .iter()
            .filter(|(name, _)| added.contains(*name))
            .filter_map(|(name, new)| Some((name, new.as_ref()?)))
            .collect();
        let (order, remove_order) = match bulk_order(solver, &joining, &removed) {
            Ok(orders) => orders,
            Err(why) => return self.solve_all_because(&why),
        };
        let mut ok = true;
        // The definitions each updated module had, to take their nodes out of the graph if
        // they are gone.
        let mut before: Vec<Arc<ModuleFacts>> = Vec::new();
        if let Some(solver) = self.solver.as_mut() {
            for &i in &order {
                let (name, new) = joining[i];
                let empty = Arc::new(empty_module(name, new.is_package()));
                before.push(empty.clone());
                if solver.add_module(empty, new.clone()).is_none() {
                    ok = false;
                    break;
                }
            }
            for (name, new) in pending.iter().filter(|_| ok) {
                let Some(new) = new else { continue };
                if added.contains(name) {
                    continue;
                }
                let slot = solver
                    .syms
                    .get(name)
                    .and_then(|n| solver.module_by_name.get(&n).copied());
                let Some(slot) = slot else {
                    ok = false;
                    break;
                };
                before.push(solver.mods[slot as usize].facts.clone());
                if solver.update_module(slot, new.clone()).is_none() {
                    ok = false;
                    break;
                }
            }
            if ok {
                ok = remove_order.iter().all(|&i| {
                    let old = &removed[i];
                    let slot = solver
                        .syms
                        .get(old.name())
                        .and_then(|n| solver.module_by_name.get(&n).copied());
                    let empty = Arc::new(empty_module(old.name(), old.is_package()));
                    slot.is_some_and(|slot| solver.remove_module(slot, empty).is_some())
                });
            }
        }
        if !ok {
            let why = self
                .solver
                .as_ref()
                .map(|s| s.report.clone())
                .unwrap_or_default();
            return self.solve_all_because(&why);
        }
        if let Some(solver) = self.solver.as_mut() {
            let log = solver.call_log.take().unwrap_or_default();
            let mut affected: BTreeSet<u32> = BTreeSet::new();
            for old in &before {
                remove_gone_nodes(&mut self.graph, old, &self.modules);
            }
            for old in &removed {
                remove_module_nodes(&mut self.graph, old, &self.modules);
                let range = self.graph.module_segment(old.name());
                self.graph.replace_segment(range, Vec::new());
            }
            for name in pending.keys() {
                if let Some(slot) = solver
                    .syms
                    .get(name)
                    .and_then(|n| solver.module_by_name.get(&n).copied())
                {
                    affected.insert(slot);
                    // Definitions added (a new function) get their nodes.
                    module_nodes(&solver.mods[slot as usize].facts, &mut self.graph);
                    update_positions(&mut self.graph, &solver.mods[slot as usize].facts);
                }
            }
            // Re-deriving a region takes call edges back and finds most of them again: only
            // the modules where a site's callees really changed need their call sites redone.
            let mut net: FxMap<(u32, Callee), i32> = FxMap::default();
            for &(site, callee, added) in &log {
                *net.entry((site, callee)).or_default() += if added { 1 } else { -1 };
            }
            for ((site, _), n) in net {
                if n == 0 {
                    continue;
                }
                if let Some((slot, _)) = solver.site_loc.get(site) {
                    affected.insert(slot);
                }
            }
            for slot in affected {
                let name = solver.mods[slot as usize].facts.name().to_string();
                let sites = module_call_sites(solver, slot, &mut self.graph);
                let range = self.graph.module_segment(&name);
                self.graph.replace_segment(range, sites);
            }
        }
        self.last_update = UpdateKind::Incremental;
        &self.graph
    }

    /// Solves everything again from scratch, whatever changed (for benchmarks that compare
    /// an incremental update with a solve from scratch).
    #[doc(hidden)]
    pub fn solve_from_scratch(&mut self) -> &CallGraph {
        let _ = self.graph();
        self.solve_all();
        &self.graph
    }

    /// Solves everything again from scratch, with the reason before the solve's report.
    fn solve_all_because(&mut self, why: &str) -> &CallGraph {
        self.solve_all();
        if let Some(solver) = self.solver.as_mut() {
            solver.report = format!("{why}; {}", solver.report);
        }
        &self.graph
    }

    fn solve_all(&mut self) {
        let mods: Vec<Arc<ModuleFacts>> = self.modules.values().cloned().collect();
        // The graph's nodes come from the facts alone: they are made on another core while
        // the solver runs.
        let (mut solver, nodes) =
            rayon::join(|| Solver::build(mods.clone()), || graph_nodes(&mods));
        let t = std::time::Instant::now();
        self.graph = build_graph(&solver, nodes);
        solver.report += &format!(", public graph {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
        self.solver = Some(solver);
        self.last_update = UpdateKind::Full;
    }
}

/// From how many modules added and removed in one update `graph()` solves from scratch
/// rather than adding and removing them one at a time: each costs a few scans of the whole
/// program (for the names it makes or takes away, and the classes it adds), and past about
/// this many (a branch checked out, a folder copied in) the scans cost more than solving. A
/// module added cost about 5 ms on Django (a full solve: about 150 ms) and 20-28 ms on the
/// standard library (1.1-1.3 s), measured with this limit raised in the source: 64 files put
/// back in 1.46 s against 1.18 s from scratch (`TANDEM_BENCH_BULK=/test/test_c
/// TANDEM_BENCH_EDIT_CORPUS=standard TANDEM_BENCH_ONLY=standard tandem-bench index`).
const BULK_LIMIT: usize = 32;

/// The orders in which the modules `added` can join the program and the modules `removed`
/// leave it one at a time (indices into each): a module added after the added modules it
/// reads (imports, or lies within as a package's submodule), since a module added must not
/// have been read yet (`Solver::add_module`); a module removed after the removed modules that
/// read it, since one removed must not be read by another module still there
/// (`Solver::remove_module`). Or why they cannot, and the program is to be solved from
/// scratch: too many modules at once (`BULK_LIMIT`), modules that read each other in a cycle
/// (a package whose `__init__.py` imports its submodules), or, for several modules, one the
/// rest of the program imports (one scan for them all, so that none waits until the others
/// before it were added or removed in vain).
fn bulk_order(
    solver: &Solver,
    added: &[(&String, &Arc<ModuleFacts>)],
    removed: &[Arc<ModuleFacts>],
) -> Result<(Vec<usize>, Vec<usize>), String> {
    let count = added.len() + removed.len();
    if count > BULK_LIMIT {
        return Err(format!(
            "{} modules added and {} removed at once",
            added.len(),
            removed.len()
        ));
    }
    let reads = |reader: &ModuleFacts, name: &str| {
        (reader.name() != name && is_within(reader.name(), name))
            || reader.imported_names().any(|full| is_within(&full, name))
    };
    let added_facts: Vec<&ModuleFacts> = added.iter().map(|(_, f)| f.as_ref()).collect();
    let removed_facts: Vec<&ModuleFacts> = removed.iter().map(Arc::as_ref).collect();
    let add_order = reading_order(&added_facts, |j, i| {
        reads(added_facts[j], added_facts[i].name())
    })
    .map_err(|stuck| {
        format!("module {stuck} added: it and other modules added with it read each other")
    })?;
    let remove_order = reading_order(&removed_facts, |j, i| {
        reads(removed_facts[i], removed_facts[j].name())
    })
    .map_err(|stuck| {
        format!("module {stuck} removed: it and other modules removed with it read each other")
    })?;
    if added.len() > 1 {
        let names: Vec<&str> = added_facts.iter().map(|m| m.name()).collect();
        if let Some(why) = solver.modules_imported(&names) {
            return Err(format!("modules added: {why}"));
        }
    }
    if removed.len() > 1 {
        let names: Vec<&str> = removed_facts.iter().map(|m| m.name()).collect();
        if let Some(why) = solver.modules_imported_from_outside(&names) {
            return Err(format!("modules removed: {why}"));
        }
    }
    Ok((add_order, remove_order))
}

/// An order of `mods` (indices) in which each comes after those it must follow
/// (`follows(j, i)`: `j` after `i`), otherwise in their order; or the name of a module in a
/// cycle.
fn reading_order(
    mods: &[&ModuleFacts],
    follows: impl Fn(usize, usize) -> bool,
) -> Result<Vec<usize>, String> {
    let n = mods.len();
    let must: Vec<Vec<bool>> = (0..n)
        .map(|j| (0..n).map(|i| i != j && follows(j, i)).collect())
        .collect();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = (0..n).find(|&j| !done[j] && (0..n).all(|i| done[i] || !must[j][i]));
        let Some(j) = next else {
            let stuck = (0..n).find(|&j| !done[j]).unwrap_or_default();
            return Err(mods[stuck].name().to_string());
        };
        done[j] = true;
        order.push(j);
    }
    Ok(order)
}

/// The facts of a module named `name` without code: where a module added to a solved program
/// starts from (`Solver::add_module`).
fn empty_module(name: &str, is_package: bool) -> ModuleFacts {
    let tree = crate::analysis::parse::parse_str("", None);
    super::extract_facts(&super::SourceModule {
        name,
        is_package,
        source: "",
        tree: &tree,
    })
}

fn node_kind(kind: DefKind, method: MethodKind) -> NodeKind {
    match (kind, method) {
        (DefKind::Module, _) => NodeKind::Module,
        (DefKind::Class, _) => NodeKind::Class,
        (DefKind::Lambda, _) => NodeKind::Lambda,
        (DefKind::Function, MethodKind::None) => NodeKind::Function,
        (DefKind::Function, _) => NodeKind::Method,
    }
}

/// The nodes a module defines; the name id of each of its definitions, in order.
fn module_nodes(facts: &ModuleFacts, graph: &mut CallGraph) -> Vec<u32> {
    facts
        .defs
        .iter()
        .map(|d| {
            let name_range = match d.kind {
                DefKind::Module | DefKind::Lambda => None,
                _ => Some(d.name_range.0..d.name_range.1),
            };
            graph.add_node(
                &d.qualname,
                node_kind(d.kind, d.method),
                Some(facts.name()),
                Some(d.range.0..d.range.1),
                name_range,
            )
        })
        .collect()
}

/// A graph holding the nodes of `mods`, and the name ids of their definitions (per module, in
/// order).
fn graph_nodes(mods: &[Arc<ModuleFacts>]) -> (CallGraph, Vec<Vec<u32>>) {
    let mut graph = CallGraph::default();
    let ids = mods.iter().map(|f| module_nodes(f, &mut graph)).collect();
    (graph, ids)
}

/// The graph's name ids of the solver's definitions, names and modules, looked up once: the
/// graph holds hundreds of thousands of sites but only tens of thousands of names.
#[derive(Default)]
struct SiteNames {
    defs: FxMap<u32, u32>,
    names: FxMap<u32, u32>,
    modules: FxMap<u32, u32>,
}

impl SiteNames {
    fn def(&mut self, s: &Solver, d: u32, graph: &mut CallGraph) -> Option<u32> {
        if let Some(&id) = self.defs.get(&d) {
            return Some(id);
        }
        let id = graph.intern(&s.def_fact(d)?.qualname);
        self.defs.insert(d, id);
        Some(id)
    }

    fn callee(&mut self, s: &Solver, callee: Callee, graph: &mut CallGraph) -> Option<u32> {
        match callee {
            Callee::Def(d) => self.def(s, d, graph),
            Callee::Name(n) => Some(
                *self
                    .names
                    .entry(n)
                    .or_insert_with(|| graph.intern(s.syms.resolve(n))),
            ),
        }
    }

    fn module(&mut self, s: &Solver, slot: u32, graph: &mut CallGraph) -> Option<u32> {
        let facts = &s.mods.get(slot as usize)?.facts;
        Some(
            *self
                .modules
                .entry(slot)
                .or_insert_with(|| graph.intern(facts.name())),
        )
    }

    /// The call site of `callee` at a located site (see `module_calls`).
    fn call_site(
        &mut self,
        s: &Solver,
        (site, at, range): (u32, u32, Range<usize>),
        callee: Callee,
        graph: &mut CallGraph,
    ) -> Option<Site> {
        Some(Site {
            caller: self.def(s, s.site_caller(site), graph)?,
            callee: self.callee(s, callee, graph)?,
            module: self.module(s, at, graph)?,
            start: range.start as u32,
            end: range.end as u32,
        })
    }
}

/// Each call edge of a module's sites that have a place in its source: the site, the module
/// it lives in and its byte range, and the callee.
fn module_calls(
    s: &Solver,
    slot: u32,
) -> impl Iterator<Item = ((u32, u32, Range<usize>), Callee)> + '_ {
    s.mods[slot as usize]
        .site_map
        .iter()
        .filter_map(move |site| {
            let (at, local) = s.site_loc.get(site)?;
            if local == NO {
                return None;
            }
            let range = s.mods.get(at as usize)?.facts.site_range(local);
            Some((site, at, range))
        })
        .flat_map(move |located| {
            s.calls
                .callees(located.0)
                .map(move |callee| (located.clone(), callee))
        })
}

/// A module's call sites, sorted as the graph keeps them.
fn module_call_sites(s: &Solver, slot: u32, graph: &mut CallGraph) -> Vec<Site> {
    let mut names = SiteNames::default();
    let mut sites: Vec<Site> = module_calls(s, slot)
        .filter_map(|(located, callee)| names.call_site(s, located, callee, graph))
        .collect();
    graph.sort_module_sites(&mut sites);
    sites
}

/// Moves a module's definitions to their new positions.
/// Takes out of the graph the nodes of definitions `old` had and the module's current facts
/// (in `modules`) no longer have.
fn remove_gone_nodes(
    graph: &mut CallGraph,
    old: &ModuleFacts,
    modules: &BTreeMap<String, Arc<ModuleFacts>>,
) {
    let Some(new) = modules.get(old.name()) else {
        return;
    };
    let now: BTreeSet<&str> = new.defs.iter().map(|d| &*d.qualname).collect();
    for d in &old.defs {
        if !now.contains(&*d.qualname) {
            graph.remove_node(&d.qualname);
        }
    }
}

/// Takes out of the graph the nodes of a module no longer in the program (`old`, its last
/// facts). A name one of them shares with a definition of a module still there (possible
/// between a module and its package's, as `a.b` for module `a`'s `b` and module `a.b`) gets
/// that module's node back, as a solve from scratch gives it.
fn remove_module_nodes(
    graph: &mut CallGraph,
    old: &ModuleFacts,
    modules: &BTreeMap<String, Arc<ModuleFacts>>,
) {
    for d in &old.defs {
        graph.remove_node(&d.qualname);
    }
    // Only modules whose names are prefixes of the removed one's, or start with it, can
    // define the same qualified names.
    let name = old.name();
    let prefixes = name
        .match_indices('.')
        .filter_map(|(at, _)| modules.get_key_value(&name[..at]));
    let inside = modules
        .range(format!("{name}.")..)
        .take_while(|(other, _)| is_within(other, name));
    for (_, facts) in prefixes.chain(inside) {
        module_nodes(facts, graph);
    }
}

fn update_positions(graph: &mut CallGraph, facts: &ModuleFacts) {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for d in &facts.defs {
        if !seen.insert(&d.qualname) {
            continue;
        }
        graph.move_node(
            &d.qualname,
            d.range.0..d.range.1,
            d.name_range.0..d.name_range.1,
        );
    }
}

/// Turns a solution into the public call graph, given the graph of the modules' nodes
/// (`graph_nodes`, on the modules in the solver's order). Sites are made module by module, in
/// the order of module names, each module's sorted as the graph keeps them, so that the whole
/// is sorted. Names are numbered in the order a serial pass with `SiteNames` meets them
/// (every definition's and module's name already is, as a node's): the sites are made on all
/// cores with a builtin or external callee's name left to number, then those names are
/// numbered in order.
/// How many call sites `build_graph` moves between giving freed pages back (1 MiB of sites).
const RELEASE_EVERY_SITES: usize = (1 << 20) / std::mem::size_of::<Site>();

fn build_graph(s: &Solver, (mut graph, def_ids): (CallGraph, Vec<Vec<u32>>)) -> CallGraph {
    // Name ids by the solver's definition id.
    let mut def_name: Vec<u32> = Vec::new();
    for (m, ids) in s.mods.iter().zip(&def_ids) {
        for (&d, &id) in m.def_map.iter().zip(ids) {
            let d = d as usize;
            if def_name.len() <= d {
                def_name.resize(d + 1, NO);
            }
            def_name[d] = id;
        }
    }
    let module_name: Vec<u32> = s
        .mods
        .iter()
        .map(|m| graph.names.get(m.facts.name()).unwrap_or(NO))
        .collect();
    let mut slots: Vec<u32> = (0..s.mods.len() as u32).collect();
    slots.sort_by(|&a, &b| {
        s.mods[a as usize]
            .facts
            .name()
            .cmp(s.mods[b as usize].facts.name())
    });
    let mut per_module: Vec<(u32, Vec<Site>, Vec<bool>)> = slots
        .into_par_iter()
        .map(|slot| {
            let (sites, named) = raw_sites_of_module(s, slot, &def_name);
            (slot, sites, named)
        })
        .collect();
    // Number the names still to number, in the order the sites meet them: a site's callee,
    // then (at its first site) its module.
    let mut names: FxMap<u32, u32> = FxMap::default();
    for (slot, sites, named) in &mut per_module {
        let mut module = module_name[*slot as usize];
        for (site, &is_name) in sites.iter_mut().zip(named.iter()) {
            if is_name {
                let sym = site.callee;
                site.callee = *names
                    .entry(sym)
                    .or_insert_with(|| graph.intern(s.syms.resolve(sym)));
            }
            if module == NO {
                module = graph.intern(s.mods[*slot as usize].facts.name());
            }
            site.module = module;
        }
    }
    let mut per_module: Vec<Vec<Site>> =
        per_module.into_iter().map(|(_, sites, _)| sites).collect();
    per_module
        .par_iter_mut()
        .for_each(|sites| graph.sort_module_sites(sites));
    // Builtin and external callees become nodes as their sites go in. The modules' sites are
    // moved into one vector a few at a time, giving the pages of the moved ones back as it
    // goes: concatenating them all first held every site twice, the standard library's peak
    // (385 MiB) rather than the solver's own (382).
    let total: usize = per_module.iter().map(Vec::len).sum();
    let mut all = Vec::with_capacity(total);
    let mut moved = 0;
    for sites in per_module {
        all.extend_from_slice(&sites);
        moved += sites.len();
        drop(sites);
        if moved >= RELEASE_EVERY_SITES {
            moved = 0;
            crate::release_free_pages();
        }
    }
    crate::release_free_pages();
    graph.replace_segment(0..0, all);
    graph.shrink_to_fit();
    graph
}

/// A module's call sites, unsorted, as `SiteNames::call_site` makes them but for the names
/// `build_graph` numbers afterwards: a callee known by name holds the solver's symbol (and its
/// flag is set), and the module is left for the caller to fill in.
fn raw_sites_of_module(s: &Solver, slot: u32, def_name: &[u32]) -> (Vec<Site>, Vec<bool>) {
    let name_of = |d: u32| def_name.get(d as usize).copied().filter(|&id| id != NO);
    let mut out = Vec::new();
    let mut named = Vec::new();
    for ((site, at, range), callee) in module_calls(s, slot) {
        // A module's sites live in that module: its name is the sites' module.
        debug_assert_eq!(at, slot);
        let Some(caller) = name_of(s.site_caller(site)) else {
            continue;
        };
        let (callee, is_name) = match callee {
            Callee::Def(d) => match name_of(d) {
                Some(id) => (id, false),
                None => continue,
            },
            Callee::Name(n) => (n, true),
        };
        out.push(Site {
            caller,
            callee,
            module: NO,
            start: range.start as u32,
            end: range.end as u32,
        });
        named.push(is_name);
    }
    (out, named)
}
