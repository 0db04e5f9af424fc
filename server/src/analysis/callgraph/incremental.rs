//! Re-solving after an edit, without solving the whole program again.
//!
//! When a module changes only inside definition bodies (its interface, the names and nodes
//! other definitions and modules see, is the same), the solver:
//!
//! 1. compares the new facts with the old definition by definition (`extract.rs` lays each
//!    definition's nodes, ops, sites and allocations out contiguously, so this is a comparison
//!    of slices up to renumbering) and keeps the global ids of every unchanged definition;
//! 2. takes out the changed definitions' ops and everything they derived (every edge, value,
//!    dynamic constraint, watch and call edge is recorded with the constraint that made it),
//!    except the ops a changed definition's old and new versions share (`align`: they keep
//!    their ids, and so do the nodes, sites and allocations they name, so an import or a
//!    constant added to a module's top level takes out and puts in two ops, not the whole
//!    module code and everything its names flowed to);
//! 3. computes the region of nodes whose values may have depended on what was taken out (the
//!    forward closure through edges and through what constraints on those nodes derived),
//!    empties it, and derives it again from everything outside it, with the new ops installed
//!    ("delete and re-derive", at the granularity of nodes).
//!
//! Definitions are matched between the versions by qualified name (`DefMap`), so a function
//! added or removed anywhere does not shift the others; functions, methods and lambdas may
//! come and go (their values are new, or go with the ops that made them). A function or
//! method whose signature changed (parameters, decorators, `async`) is taken as one that went
//! and came back: the calls that bound arguments to its old parameters go with its old value,
//! and those that reach the new one bind them again. Classes may come and go too, and a
//! class whose bases or decorators changed is taken as one that went and came back, as long
//! as nothing derives from a class that goes: a new class gets its place in the hierarchy
//! (`Solver::add_classes`, its method resolution order over the classes there are), a class
//! that goes leaves it, and never lends its id to a later class of the same name; the
//! lookups on its ancestors' `self` and `cls`, which find overrides in subclasses, are done
//! again for the names it binds (`Solver::forget_dispatch`: before the update for a class
//! that goes, after it, in a second delete-and-re-derive pass, for a new one). A class whose
//! body
//! binds other names (a method added or removed) has its attributes and the definers of
//! those names read again, and every cached lookup that may see them (on the class, the
//! classes in its method resolution order, and their subclasses) is done again. A
//! module may also gain or lose module-level names (an import, a constant, an alias, a new
//! function's name) if nothing outside it read them: no other module looked them up,
//! imported them or asked a star import for them, and no base class anywhere is written with
//! a name whose import or alias binding changed (class hierarchies are resolved before
//! solving; a name is read in the module that writes it, in that module's star sources, in
//! the module it is imported from, or after a dot in any module:
//! `Solver::names_base_classes_read`). The solver tells from what earlier lookups left behind
//! (`Solver::names_read_from_outside`); the module's changed definitions are then all that
//! changes. Any other change of the interface (a class that goes or changes its bases while
//! another derives from it, a base class anywhere that reads a changed name) solves
//! everything again.
//!
//! A module added to the program (a new file) goes the same way, when nothing in the program
//! has read its name yet (`Solver::module_name_read`: no module imports it, a name under it
//! or a package it would create, none star-imports it, no lookup on its parent package asked
//! for it, and no base class is written with its last name after a dot or reads it in its
//! parent package): it is laid out
//! after the others as a module without code (`Solver::push_slot`) and brought to its facts as
//! an edit that adds every name. A module removed goes the other way, when nothing else in
//! the program reads its name (`Solver::module_removal_read`: the same reads, by the other
//! modules, of its name and of the package names that go with it): it is brought to a module
//! without code as an edit that removes every name, its name is forgotten, and its slot stays
//! empty.
//!
//! The result is the solution a solve from scratch gives, except where a node reached the cap
//! on its number of values (`MAX_VALUES`): what such a node passed on before it saturated
//! depends on the order of solving. The region is usually small (a function's locals and what
//! they flow to); when it is large the caller may prefer to solve from scratch.

use std::sync::Arc;

use super::facts::{
    Arg, DefFact, DefKind, Key, ModuleFacts, Op, StaticBinding, IF_ALL, IF_REMOTE, NONE,
};
use super::resolve::{star_names, Callee, Effect, NameChange, Solver, DYN, NO, OBJ_ONLY, PLAIN};
use super::util::{FxMap, FxSet, IdMap, LocTable};

impl Solver {
    /// Adds a module the program does not have, if nothing in the program read its name yet
    /// (`module_name_read`): it is laid out as the empty module `empty` (a module of the same
    /// name without code) and brought to `new` as an edit that adds every name
    /// (`update_module`). Returns None when that cannot be done; the solver may then be
    /// changed already, and the caller solves from scratch.
    pub(crate) fn add_module(
        &mut self,
        empty: Arc<ModuleFacts>,
        new: Arc<ModuleFacts>,
    ) -> Option<()> {
        if let Some(why) = self.module_name_read(new.name()) {
            self.report = format!("module {} added: {why}", new.name());
            return None;
        }
        let slot = self.push_slot(empty);
        self.replace_module(slot, new, true)
    }

    /// Takes module `slot` out of the program, if nothing else in it reads its name
    /// (`module_removal_read`): the module is brought to `empty` (a module of the same name
    /// without code) as an edit that removes every name, then its name is forgotten, and with
    /// it the package names only it made. The slot stays, empty. Returns None when that
    /// cannot be done; the solver may then be changed already, and the caller solves from
    /// scratch.
    pub(crate) fn remove_module(&mut self, slot: u32, empty: Arc<ModuleFacts>) -> Option<()> {
        let name = empty.name().to_string();
        let gone_packages = match self.module_removal_read(slot) {
            Ok(gone) => gone,
            Err(why) => {
                self.report = format!("module {name} removed: {why}");
                return None;
            }
        };
        self.replace_module(slot, empty, true)?;
        if let Some(n) = self.syms.get(&name) {
            self.module_by_name.remove(&n);
        }
        for p in gone_packages {
            self.packages.remove(&p);
        }
        Some(())
    }

    /// Replaces the facts of module `slot` if only definition bodies changed, or functions,
    /// methods and module-level names nothing outside the module read came or went (see the
    /// module's documentation); returns None (and changes nothing) otherwise.
    pub(crate) fn update_module(&mut self, slot: u32, new: Arc<ModuleFacts>) -> Option<()> {
        self.replace_module(slot, new, false)
    }

    /// `update_module`; `unread` for a module whose names nothing outside it can read (one
    /// just laid out empty by `add_module`, or one `remove_module` takes out): no module
    /// imports it or looks anything up in it, so no base class elsewhere resolves through
    /// the names it binds, and its star imports and `__all__` may change.
    fn replace_module(&mut self, slot: u32, new: Arc<ModuleFacts>, unread: bool) -> Option<()> {
        let old = self.mods.get(slot as usize)?.facts.clone();
        // The attributes classes assign on `self` are compared below, not here. Module-level
        // names may come and go if nothing outside the module read them.
        let Some((names, defs)) = interface_change(&old, &new, |_| false, unread) else {
            self.report = format!(
                "interface changed in {}: {}",
                new.name(),
                interface_diff(&old, &new)
            );
            return None;
        };
        // Classes that go (removed, or taken as removed and added again) must have no
        // subclasses left: those would need their method resolution orders again.
        let removed_classes: Vec<(u32, u32)> = defs
            .removed
            .iter()
            .filter(|&&i| old.defs[i as usize].kind == DefKind::Class)
            .map(|&i| (i, self.gdef(slot, i)))
            .collect();
        let added_classes: Vec<u32> = (0..new.defs.len())
            .filter(|&j| defs.old(j).is_none() && new.defs[j].kind == DefKind::Class)
            .map(|j| j as u32)
            .collect();
        for &(i, g) in &removed_classes {
            if let Some(sub) = self.classes.iter().find_map(|(&c, info)| {
                (c != g && info.mro.contains(&g) && !removed_classes.iter().any(|&(_, r)| r == c))
                    .then_some(c)
            }) {
                self.report = format!(
                    "interface changed in {}: class `{}` removed or changed, and `{}` derives from it",
                    new.name(),
                    old.defs[i as usize].qualname,
                    self.def_qualname(sub)
                );
                return None;
            }
        }
        if !names.is_empty() {
            if let Some(name) = self.names_read_from_outside(
                slot,
                &NameChange {
                    added: &names.added,
                    removed: &names.removed,
                    statics: if unread { &[] } else { &names.statics },
                    gone: &defs.removed,
                    unread,
                },
            ) {
                self.report = format!(
                    "interface changed in {}: module-level name {name} changed, and read from outside",
                    new.name()
                );
                return None;
            }
            // Cached answers about these names on the module would be stale.
            let stale: Vec<String> = names.added.iter().chain(&names.removed).cloned().collect();
            self.forget_module_lookups(slot, &stale);
        }
        // New definitions to install (added ones and changed ones), and old ones to take out
        // (removed ones and changed ones).
        let changed: Vec<usize> = (0..new.defs.len())
            .filter(|&d| {
                defs.old(d)
                    .is_none_or(|o| !body_matches(&old, &new, o, d, &defs))
            })
            .collect();
        // A changed definition keeps the ops its old and new versions share, and the nodes,
        // call sites and allocations those ops name (`align`): only the others are taken out
        // and put in. A statement added to or removed from a module's top level (an import,
        // a constant) then changes a few ops, where taking out all the module code's ops
        // emptied everything its names flow to: adding `import os` to
        // `django/contrib/admin/migrations/0001_initial.py` re-derived a region of 4,962
        // nodes and 3,044 constraints in 13.6 ms, and now takes under 3 ms (the `slow update`
        // lines of `TANDEM_BENCH_WHY=1 TANDEM_BENCH_ONLY=Django tandem-bench index`).
        let mut is_changed = vec![false; new.defs.len()];
        for &d in &changed {
            is_changed[d] = true;
        }
        let aligned: Vec<Option<Aligned>> = (0..new.defs.len())
            .map(|d| match defs.old(d) {
                Some(o) if is_changed[d] => Some(align(&old, &new, o, d, &defs)),
                _ => None,
            })
            .collect();
        let mut retired_defs: Vec<usize> = changed
            .iter()
            .filter(|&&d| aligned[d].is_none())
            .filter_map(|&d| defs.old(d))
            .collect();
        retired_defs.extend(defs.removed.iter().map(|&d| d as usize));
        let old_node_map = self.mods[slot as usize].node_map.to_vec();
        let old_site_map = self.mods[slot as usize].site_map.to_vec();
        let old_alloc_map = self.mods[slot as usize].alloc_map.to_vec();
        let old_op_map = self.mods[slot as usize].op_map.to_vec();

        // New id maps: unchanged definitions keep their ids, changed ones get fresh ones.
        // Interface nodes are matched by what they are; those that appear are new, those that
        // disappear (variables nested functions stopped reading) are retired.
        let mut node_map: Vec<u32> = Vec::with_capacity(new.num_nodes as usize);
        let mut old_iface: FxMap<IfaceKey<'_>, u32> = FxMap::default();
        for i in 0..old.interface_nodes {
            old_iface.insert(iface_key(&old, i), old_node_map[i as usize]);
        }
        let mut retired_nodes: Vec<u32> = Vec::new();
        for i in 0..new.interface_nodes {
            match old_iface.remove(&defs.iface(iface_key(&new, i))) {
                Some(g) => node_map.push(g),
                None => node_map.push(self.new_node()),
            }
        }
        retired_nodes.extend(old_iface.into_values());
        let mut site_map: Vec<u32> = Vec::with_capacity(new.sites.len());
        let mut alloc_map: Vec<u32> = Vec::with_capacity(new.num_allocs as usize);
        let mut op_map: Vec<u32> = Vec::with_capacity(new.ops.len());
        for (d, nd) in new.defs.iter().enumerate() {
            if let Some(al) = &aligned[d] {
                let od = &old.defs[al.old];
                for o in &al.nodes {
                    match o {
                        Some(o) => node_map.push(old_node_map[(od.body.0 + o) as usize]),
                        None => node_map.push(self.new_node()),
                    }
                }
                carry_ids(
                    &mut self.site_loc,
                    slot,
                    &al.sites,
                    &old_site_map[od.sites.0 as usize..],
                    nd.sites,
                    &mut site_map,
                );
                for o in &al.allocs {
                    match o {
                        Some(o) => alloc_map.push(old_alloc_map[(od.allocs.0 + o) as usize]),
                        None => {
                            alloc_map.push(self.next_alloc);
                            self.next_alloc += 1;
                        }
                    }
                }
                carry_ids(
                    &mut self.op_loc,
                    slot,
                    &al.ops,
                    &old_op_map[od.ops.0 as usize..],
                    nd.ops,
                    &mut op_map,
                );
                continue;
            }
            let kept = defs.old(d).filter(|_| !is_changed[d]).map(|o| &old.defs[o]);
            let Some(od) = kept else {
                for _ in nd.body.0..nd.body.1 {
                    node_map.push(self.new_node());
                }
                for i in nd.sites.0..nd.sites.1 {
                    site_map.push(self.site_loc.push((slot, i)));
                }
                for _ in nd.allocs.0..nd.allocs.1 {
                    alloc_map.push(self.next_alloc);
                    self.next_alloc += 1;
                }
                for i in nd.ops.0..nd.ops.1 {
                    op_map.push(self.op_loc.push((slot, i)));
                }
                continue;
            };
            {
                node_map.extend_from_slice(&old_node_map[od.body.0 as usize..od.body.1 as usize]);
                for (k, i) in (nd.sites.0..nd.sites.1).enumerate() {
                    let g = old_site_map[od.sites.0 as usize + k];
                    self.site_loc.set(g, (slot, i));
                    site_map.push(g);
                }
                alloc_map
                    .extend_from_slice(&old_alloc_map[od.allocs.0 as usize..od.allocs.1 as usize]);
                for (k, i) in (nd.ops.0..nd.ops.1).enumerate() {
                    let g = old_op_map[od.ops.0 as usize + k];
                    self.op_loc.set(g, (slot, i));
                    op_map.push(g);
                }
            }
        }

        // What goes away: the changed and removed definitions' nodes, sites and ops.
        let mut retired_ops: Vec<(u32, Op)> = Vec::new();
        for &d in &retired_defs {
            let od = &old.defs[d];
            retired_nodes.extend_from_slice(&old_node_map[od.body.0 as usize..od.body.1 as usize]);
            for i in od.sites.0..od.sites.1 {
                let g = old_site_map[i as usize];
                self.site_loc.set(g, (slot, NO));
            }
            for i in od.ops.0..od.ops.1 {
                let g = old_op_map[i as usize];
                retired_ops.push((g, old.ops[i as usize]));
            }
        }
        // An aligned definition's old nodes, sites and ops that the new version does not
        // pair go the same way.
        for al in aligned.iter().flatten() {
            let od = &old.defs[al.old];
            for i in unpaired(&al.nodes, od.body) {
                retired_nodes.push(old_node_map[i]);
            }
            for i in unpaired(&al.sites, od.sites) {
                self.site_loc.set(old_site_map[i], (slot, NO));
            }
            for i in unpaired(&al.ops, od.ops) {
                retired_ops.push((old_op_map[i], old.ops[i]));
            }
        }

        if self.call_log.is_none() {
            self.call_log = Some(Vec::new());
        }
        let mut region = Region::new(self.node_count());
        for &n in &retired_nodes {
            self.region_add(&mut region, n);
        }
        // The retired ops' own consequences: copies, seeds and what they derived. Their edges
        // and seeds are resolved with the old numbering, before it is replaced.
        let mut old_copies: Vec<(u32, u32, u32)> = Vec::new();
        for &(g, op) in &retired_ops {
            match op {
                Op::Copy { dst, src } | Op::CopyObj { dst, src } => {
                    let filter = if matches!(op, Op::Copy { .. }) {
                        PLAIN
                    } else {
                        OBJ_ONLY
                    };
                    let d = map(&old_node_map, dst);
                    old_copies.push((map(&old_node_map, src), d, filter));
                    self.region_add(&mut region, d);
                }
                Op::Const { dst, .. }
                | Op::Def { dst, .. }
                | Op::SelfOf { dst, .. }
                | Op::Alloc { dst, .. } => {
                    let d = map(&old_node_map, dst);
                    self.region_add(&mut region, d);
                }
                _ => {}
            }
            region.add_creator(g);
        }
        for &(g, _) in &retired_ops {
            self.op_loc.retire(g);
        }
        // Classes whose methods now assign other attributes on `self`: where that decides
        // whether an external base is asked for an attribute, every lookup on those classes'
        // instances is done again.
        let refreshed = self_attr_changes(&old, &new, &defs)
            .into_iter()
            .filter(|&d| self.self_attrs_matter(slot, d))
            .map(|d| self.gdef(slot, d))
            .collect::<Vec<u32>>();
        if !refreshed.is_empty() {
            for op in self.forget_lookups(&refreshed) {
                region.add_creator(op);
            }
        }
        // Classes that gained or lost methods: every lookup that may see them is done again.
        let classes: Vec<u32> = names.classes.iter().map(|&i| self.gdef(slot, i)).collect();
        let classes_now: Vec<u32> = (0..new.defs.len())
            .filter(|&j| {
                defs.old(j)
                    .is_some_and(|i| names.classes.contains(&(i as u32)))
            })
            .map(|j| j as u32)
            .collect();
        if !classes.is_empty() {
            for op in self.forget_class_attrs(&classes, &names.class_names) {
                region.add_creator(op);
            }
        }
        // Classes that go: lookups on their ancestors that found their overrides.
        let gone_classes: Vec<u32> = removed_classes.iter().map(|&(_, g)| g).collect();
        for op in self.forget_dispatch(&gone_classes) {
            region.add_creator(op);
        }
        self.close_region(&mut region);

        // Take back what the region's constraints and the retired ops derived.
        for &(src, dst, filter) in &old_copies {
            if let Some(e) = self.static_edge_of(src, dst, filter) {
                self.edge_unref(e);
            }
        }
        let creators: Vec<u32> = region.creators.iter().copied().collect();
        for &c in &creators {
            self.retract(c);
        }
        for &n in &region.node_list {
            self.reset_node(n);
        }

        // Install the new facts and the changed definitions' ops.
        {
            let sym_map: Vec<u32> = new.strings.iter().map(|s| self.syms.intern(s)).collect();
            let m = &mut self.mods[slot as usize];
            m.facts = new.clone();
            m.sym_map = sym_map;
            m.node_map = IdMap::from_list(node_map);
            m.site_map = IdMap::from_list(site_map);
            m.alloc_map = IdMap::from_list(alloc_map);
            m.op_map = IdMap::from_list(op_map);
            let mut globals: Vec<(u32, u32)> = new
                .globals
                .iter()
                .map(|&(s, n)| {
                    (
                        m.sym_map.get(s as usize).copied().unwrap_or(NO),
                        m.node_map.get(n as usize).unwrap_or(NO),
                    )
                })
                .collect();
            globals.sort_unstable();
            m.globals = globals;
            if unread {
                // Its own star imports and `__all__` (the same in any other update).
                (m.star_sources, m.all_names) = star_names(&new, &m.sym_map);
            }
        }
        let name = self.mods[slot as usize].name;
        let gone: Vec<u32> = defs.removed.iter().map(|&i| self.gdef(slot, i)).collect();
        // A class that goes never lends its id to a class of the same name: what the solver
        // keeps per class id (instance attribute nodes, linked to its ancestors' at the time)
        // would be the old class's.
        let gone_classes: Vec<u32> = removed_classes.iter().map(|&(_, g)| g).collect();
        self.forget_def_ids(&gone_classes);
        self.remove_classes(&gone_classes);
        let def_map = self.def_ids(slot, name, &new);
        // A removed definition's id no longer says where it lives (as a retired site's does
        // not): nothing should ask, and an answer would name whatever has its old index now.
        for id in gone {
            if id != NO && !def_map.contains(&id) {
                self.def_loc.set(id, (slot, NO));
            }
        }
        self.mods[slot as usize].def_map = def_map;
        self.add_classes(slot, &added_classes);
        self.refresh_self_attrs(slot);
        for &j in &classes_now {
            self.refresh_class_attrs(slot, j);
        }
        for &d in &changed {
            let r = new.defs[d].ops;
            match &aligned[d] {
                Some(al) => {
                    for (o, i) in al.ops.iter().zip(r.0..r.1) {
                        if o.is_none() {
                            self.seed_ops(slot, i, i + 1);
                        }
                    }
                }
                None => self.seed_ops(slot, r.0, r.1),
            }
        }

        // Derive the region again from everything outside it.
        self.rederive_and_replay(&region, &creators);
        self.run();
        // New classes: lookups on their ancestors may now find their overrides.
        let new_classes: Vec<u32> = added_classes.iter().map(|&j| self.gdef(slot, j)).collect();
        let mut dispatch = self.forget_dispatch(&new_classes);
        if !dispatch.is_empty() {
            dispatch.sort_unstable();
            dispatch.dedup();
            self.rederive_from(dispatch);
            self.run();
        }
        let kept_ops: usize = aligned.iter().flatten().map(Aligned::kept_ops).sum();
        self.report = format!(
            "{}: {} definitions changed ({} of them keeping {} ops), region of {} nodes and {} constraints",
            new.name(),
            changed.len(),
            aligned.iter().flatten().count(),
            kept_ops,
            region.node_list.len(),
            creators.len()
        );
        Some(())
    }

    /// Takes back what the constraints on newly saturated nodes derived and derives the
    /// affected region again without them (see `run`).
    pub(crate) fn settle_saturated(&mut self, saturated: Vec<u32>) {
        let mut ops = Vec::new();
        for &x in &saturated {
            ops.extend(self.trigs_on(x));
        }
        self.rederive_from(ops);
    }

    /// Takes back what constraints `ops` derived and derives the affected region again (they
    /// fire again on what their nodes hold).
    fn rederive_from(&mut self, ops: Vec<u32>) {
        let mut region = Region::new(self.node_count());
        for op in ops {
            region.add_creator(op);
        }
        self.close_region(&mut region);
        let creators: Vec<u32> = region.creators.iter().copied().collect();
        for &c in &creators {
            self.retract(c);
        }
        for &n in &region.node_list {
            self.reset_node(n);
        }
        self.rederive_and_replay(&region, &creators);
    }

    fn rederive_and_replay(&mut self, region: &Region, creators: &[u32]) {
        self.rederive(region);
        for &c in creators {
            if c & DYN == 0 && self.op_loc.get(c).is_none_or(|(_, l)| l == NO) {
                continue;
            }
            if c & DYN != 0 && !self.dyn_live(c & !DYN) {
                continue;
            }
            let watched = self.creator_watched(c);
            for w in watched {
                if w == NO || region.contains(w) {
                    continue;
                }
                if !self.is_saturated(w) || self.fires_on_top(c) {
                    self.replay(w, c);
                }
            }
        }
    }

    /// Adds a node to a region unless it is saturated: a saturated node holds `Top` whatever
    /// reaches it, so nothing downstream of it depends on what changed.
    fn region_add(&self, region: &mut Region, n: u32) {
        if n != NO && !self.is_saturated(n) {
            region.add_node(n);
        }
    }

    /// Grows the region to every node whose values may depend on its nodes or on what its
    /// creators derived, and every constraint that fires on its nodes.
    fn close_region(&mut self, region: &mut Region) {
        loop {
            if let Some(n) = region.node_work.pop() {
                for dst in self.live_out_edges(n) {
                    self.region_add(region, dst);
                }
                for op in self.trigs_on(n) {
                    region.add_creator(op);
                }
                continue;
            }
            if let Some(c) = region.creator_work.pop() {
                {
                    for e in self.effects_of(c) {
                        match e {
                            Effect::Edge(id) => {
                                let d = self.edge_dst(id);
                                if d != NO {
                                    region.pending_nodes.push(d);
                                }
                            }
                            Effect::Dyn(id) => region.pending_creators.push(DYN | id),
                            Effect::Value(n, _) => region.pending_nodes.push(n),
                            Effect::CallDef(..) | Effect::CallName(..) | Effect::Watch(..) => {}
                        }
                    }
                }
                let nodes = std::mem::take(&mut region.pending_nodes);
                for n in nodes {
                    self.region_add(region, n);
                }
                let creators = std::mem::take(&mut region.pending_creators);
                for c in creators {
                    region.add_creator(c);
                }
                continue;
            }
            break;
        }
    }

    /// Takes back everything creator `c` derived.
    fn retract(&mut self, c: u32) {
        let effects = self.take_effects(c);
        for e in effects {
            match e {
                Effect::Edge(id) => self.edge_unref(id),
                Effect::Dyn(id) => {
                    self.dyn_unref(id);
                }
                Effect::Value(n, v) => self.undirect(n, v, c),
                Effect::CallDef(site, d) => self.unrecord(site, Callee::Def(d)),
                Effect::CallName(site, n) => self.unrecord(site, Callee::Name(n)),
                Effect::Watch(a, id) => self.unwatch(a, id, c),
            }
        }
    }

    /// The nodes constraint `c` is registered on.
    fn creator_watched(&self, c: u32) -> [u32; 2] {
        if c & DYN != 0 {
            return self.dyn_watched(c & !DYN);
        }
        let Some((slot, local)) = self.op_loc.get(c) else {
            return [NO, NO];
        };
        if local == NO {
            return [NO, NO];
        }
        let Some(&op) = self.mods[slot as usize].facts.ops.get(local as usize) else {
            return [NO, NO];
        };
        self.op_watched(slot, op)
    }
}

/// The nodes and constraints an update empties and derives again.
struct Region {
    in_region: Vec<bool>,
    node_list: Vec<u32>,
    node_work: Vec<u32>,
    creators: FxSet<u32>,
    creator_work: Vec<u32>,
    pending_nodes: Vec<u32>,
    pending_creators: Vec<u32>,
}

impl Region {
    fn new(nodes: usize) -> Region {
        Region {
            in_region: vec![false; nodes],
            node_list: Vec::new(),
            node_work: Vec::new(),
            creators: FxSet::default(),
            creator_work: Vec::new(),
            pending_nodes: Vec::new(),
            pending_creators: Vec::new(),
        }
    }

    fn add_node(&mut self, n: u32) {
        if n == NO {
            return;
        }
        let i = n as usize;
        if i >= self.in_region.len() {
            self.in_region.resize(i + 1, false);
        }
        if !self.in_region[i] {
            self.in_region[i] = true;
            self.node_list.push(n);
            self.node_work.push(n);
        }
    }

    fn add_creator(&mut self, c: u32) {
        if c != NO && self.creators.insert(c) {
            self.creator_work.push(c);
        }
    }

    pub(crate) fn contains(&self, n: u32) -> bool {
        self.in_region.get(n as usize).copied().unwrap_or(false)
    }
}

fn map(m: &[u32], x: u32) -> u32 {
    if x == NONE {
        NO
    } else {
        m.get(x as usize).copied().unwrap_or(NO)
    }
}

impl Solver {
    /// Empties a node for re-derivation.
    fn reset_node(&mut self, n: u32) {
        self.clear_node(n);
    }

    /// Derives the region's values again from outside it: seeds of live static ops, live
    /// edges from nodes outside, and values live constraints gave directly.
    fn rederive(&mut self, region: &Region) {
        self.sort_new_seeds();
        let edges_in = self.edges_into(|n| region.contains(n));
        for &n in &region.node_list {
            let start = edges_in.partition_point(|&(dst, _)| dst < n);
            let len = edges_in[start..].partition_point(|&(dst, _)| dst == n);
            self.rederive_node(n, &edges_in[start..start + len], |src| {
                !region.contains(src)
            });
        }
    }
}

/// Which definition of the old version of a module each definition of the new version is:
/// by qualified name (the `k`-th of a name with the `k`-th of that name), so that a
/// definition added or removed does not shift the others. A new definition the old version
/// lacks maps to `ADDED | d`, which no old index equals.
struct DefMap {
    to_old: Vec<u32>,
    /// Old definitions no new one maps to.
    removed: Vec<u32>,
}

const ADDED: u32 = 1 << 31;

impl DefMap {
    fn new(a: &ModuleFacts, b: &ModuleFacts) -> DefMap {
        let same = a.defs.len() == b.defs.len()
            && a.defs
                .iter()
                .zip(&b.defs)
                .all(|(x, y)| x.qualname == y.qualname);
        if same {
            return DefMap {
                to_old: (0..b.defs.len() as u32).collect(),
                removed: Vec::new(),
            };
        }
        let mut seen: FxMap<&str, Vec<u32>> = FxMap::default();
        for (i, d) in a.defs.iter().enumerate() {
            seen.entry(&d.qualname).or_default().push(i as u32);
        }
        let mut taken: FxMap<&str, usize> = FxMap::default();
        let mut used = vec![false; a.defs.len()];
        let to_old = b
            .defs
            .iter()
            .enumerate()
            .map(|(j, d)| {
                let k = taken.entry(&d.qualname).or_default();
                let old = seen.get(&*d.qualname).and_then(|v| v.get(*k)).copied();
                *k += 1;
                match old {
                    Some(i) => {
                        used[i as usize] = true;
                        i
                    }
                    None => ADDED | j as u32,
                }
            })
            .collect();
        let removed = (0..a.defs.len() as u32)
            .filter(|&i| !used[i as usize])
            .collect();
        DefMap { to_old, removed }
    }

    /// Takes new definitions `new` (and the old ones they were matched with) as added (and
    /// removed).
    fn unmatch(&mut self, new: &[usize]) {
        for &j in new {
            let o = self.to_old[j];
            if o & ADDED == 0 {
                self.removed.push(o);
                self.to_old[j] = ADDED | j as u32;
            }
        }
        self.removed.sort_unstable();
    }

    /// The old index of new definition `d` (`NONE` stays `NONE`).
    fn def(&self, d: u32) -> u32 {
        if d == NONE {
            return NONE;
        }
        self.to_old.get(d as usize).copied().unwrap_or(ADDED | d)
    }

    /// The old definition new definition `d` is, if any.
    fn old(&self, d: usize) -> Option<usize> {
        let o = self.to_old.get(d).copied()?;
        (o & ADDED == 0).then_some(o as usize)
    }

    fn iface<'a>(&self, k: IfaceKey<'a>) -> IfaceKey<'a> {
        match k {
            IfaceKey::Named(kind, d, x) => IfaceKey::Named(kind, self.def(d), x),
            IfaceKey::Indexed(u8::MAX, ..) => k,
            IfaceKey::Indexed(kind, d, x) => IfaceKey::Indexed(kind, self.def(d), x),
        }
    }

    fn canon<'a>(&self, c: Canon<'a>) -> Canon<'a> {
        match c {
            Canon::Iface(k) => Canon::Iface(self.iface(k)),
            Canon::Body(d, o) => Canon::Body(self.def(d), o),
            other => other,
        }
    }

    fn pair(&self, (d, o): (u32, u32)) -> (u32, u32) {
        (self.def(d), o)
    }
}

/// Whether a definition may be added or removed without solving again from scratch: a
/// function, method or lambda (a method also changes its class's attributes, which
/// `Solver::forget_class_attrs` and `Solver::refresh_class_attrs` handle); classes may not.
fn may_come_and_go(d: &DefFact) -> bool {
    matches!(d.kind, DefKind::Function | DefKind::Lambda | DefKind::Class)
}

/// What differs between two versions of a module's interface that an incremental update can
/// take: module-level names one version defines and the other does not, names a module or
/// class scope binds differently by imports, aliases or definitions, and classes whose
/// bodies bind other names; all names as strings.
#[derive(Debug, Default, PartialEq, Eq)]
struct InterfaceChange {
    added: Vec<String>,
    removed: Vec<String>,
    statics: Vec<String>,
    /// Classes (old numbering) whose bodies bind other names (methods added or removed).
    classes: Vec<u32>,
    /// The names those classes' bodies bind in one version and not the other, or bind to
    /// another node.
    class_names: Vec<String>,
}

impl InterfaceChange {
    fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.statics.is_empty()
            && self.classes.is_empty()
    }
}

/// Names with what each is bound to.
type Named<'s, T> = Vec<(&'s str, T)>;

/// The entries of `p` that `q` lacks and those of `q` that `p` lacks, each sorted.
fn one_sided<'s, T: Ord>(mut p: Named<'s, T>, mut q: Named<'s, T>) -> (Named<'s, T>, Named<'s, T>) {
    p.sort_unstable();
    q.sort_unstable();
    let (mut only_p, mut only_q) = (Vec::new(), Vec::new());
    let (mut p, mut q) = (p.into_iter().peekable(), q.into_iter().peekable());
    loop {
        match (p.peek(), q.peek()) {
            (Some(u), Some(v)) if u == v => {
                p.next();
                q.next();
            }
            (Some(u), Some(v)) if u < v => only_p.extend(p.next()),
            (Some(_), None) => only_p.extend(p.next()),
            (_, Some(_)) => only_q.extend(q.next()),
            (None, None) => return (only_p, only_q),
        }
    }
}

/// Names bound to nodes (`globals`, a class's `attrs()`) as strings and canonical nodes,
/// `canon` bringing them into the other version's numbering.
fn named_nodes<'f>(
    f: &'f ModuleFacts,
    names: &[(u32, u32)],
    canon: impl Fn(Canon<'f>) -> Canon<'f>,
) -> Vec<(&'f str, Canon<'f>)> {
    names
        .iter()
        .map(|&(s, n)| {
            (
                f.strings.get(s as usize).unwrap_or(""),
                canon(canon_node(f, n)),
            )
        })
        .collect()
}

/// The names of the entries only one of `p` and `q` has, sorted, each once.
fn differing_names<T: Ord>(p: Vec<(&str, T)>, q: Vec<(&str, T)>) -> Vec<String> {
    let (p, q) = one_sided(p, q);
    let mut names: Vec<String> = p.iter().chain(&q).map(|(n, _)| n.to_string()).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The names whose static bindings (`import`, `from … import`, aliases, definitions) differ
/// between definition `x` of `a` and definition `y` of `b`.
fn static_changes(
    a: &ModuleFacts,
    b: &ModuleFacts,
    x: &DefFact,
    y: &DefFact,
    map: &DefMap,
) -> Vec<String> {
    // Definitions in the old version's numbering.
    fn canonical<'f>(
        f: &'f ModuleFacts,
        d: &DefFact,
        def: impl Fn(u32) -> u32,
    ) -> Vec<(&'f str, String)> {
        let s = |x: u32| f.strings.get(x as usize).unwrap_or("");
        d.statics
            .iter()
            .map(|(name, binding)| {
                let what = match binding {
                    StaticBinding::Def(i) => format!("def {}", def(*i)),
                    StaticBinding::Import { module, attr, top } => {
                        let attr = if *attr == NONE { "" } else { s(*attr) };
                        format!("import {} {attr} {top}", s(*module))
                    }
                    StaticBinding::Alias(r) => {
                        let path: Vec<&str> = r.path.iter().map(|&p| s(p)).collect();
                        format!("alias {} {}", def(r.scope), path.join("."))
                    }
                };
                (s(*name), what)
            })
            .collect()
    }
    differing_names(canonical(a, x, |d| d), canonical(b, y, |d| map.def(d)))
}

/// Whether interface node `i` holds a module-level name or a class attribute (compared by
/// name elsewhere: `globals`, `attr_changes`).
fn scope_name(f: &ModuleFacts, i: u32) -> bool {
    match f.interface_keys.get(i as usize) {
        Some(&(IF_ALL, def, _)) => f
            .defs
            .get(def as usize)
            .is_some_and(|d| matches!(d.kind, DefKind::Module | DefKind::Class)),
        _ => false,
    }
}

/// How two versions of a module's interface differ. Two versions show the same interface
/// when they have the same definitions with the same signatures and class layouts, the same
/// module-level names, star imports and `__all__`, and the same interface nodes. `None` when
/// they differ in more than an incremental update can take (see `InterfaceChange` and
/// `may_come_and_go`), else what differs (empty when the interfaces are the same) and how
/// the definitions match.
fn interface_change(
    a: &ModuleFacts,
    b: &ModuleFacts,
    self_attrs_matter: impl Fn(u32) -> bool,
    new_module: bool,
) -> Option<(InterfaceChange, DefMap)> {
    let sa = |s: u32| a.strings.get(s as usize).unwrap_or("");
    let sb = |s: u32| b.strings.get(s as usize).unwrap_or("");
    if a.name != b.name
        || a.is_package != b.is_package
        || (!new_module && a.star_imports.len() != b.star_imports.len())
    {
        return None;
    }
    // Definitions are matched by qualified name; those only one version has must be plain
    // functions (their values are new, or go with the ops that made them).
    let mut map = DefMap::new(a, b);
    // A function whose signature changed (parameters, decorators, `async`) is taken as
    // removed and added again: its value goes with the op that made it, and every call that
    // bound arguments to the old parameters goes with that value. So is a class whose bases
    // or decorators changed. Definitions nested in them then have another parent, and go the
    // same way.
    loop {
        let changed: Vec<usize> = (0..b.defs.len())
            .filter(|&j| {
                map.old(j).is_some_and(|i| {
                    let (x, y) = (&a.defs[i], &b.defs[j]);
                    let scope = matches!(x.kind, DefKind::Module | DefKind::Class);
                    may_come_and_go(x)
                        && may_come_and_go(y)
                        && !def_signature_matches(
                            a,
                            b,
                            x,
                            y,
                            self_attrs_matter(i as u32),
                            !scope && statics_matter(a, i),
                            &map,
                        )
                })
            })
            .collect();
        if changed.is_empty() {
            break;
        }
        map.unmatch(&changed);
    }
    let added = |j: u32| map.to_old.get(j as usize).is_some_and(|&o| o & ADDED != 0);
    let removed = |i: u32| map.removed.binary_search(&i).is_ok();
    if map
        .removed
        .iter()
        .any(|&i| !may_come_and_go(&a.defs[i as usize]))
        || (0..b.defs.len()).any(|j| added(j as u32) && !may_come_and_go(&b.defs[j]))
    {
        return None;
    }
    // Module-level names are compared by name.
    let mut change = InterfaceChange::default();
    // `globals` is sorted by string id, which is not the same order in both versions.
    let (only_a, only_b) = one_sided(
        named_nodes(a, &a.globals, |c| c),
        named_nodes(b, &b.globals, |c| map.canon(c)),
    );
    // A name both versions define must be held by the same node, by what it is.
    if only_a
        .iter()
        .any(|(n, _)| only_b.iter().any(|(m, _)| n == m))
    {
        return None;
    }
    change.removed = only_a.iter().map(|(n, _)| n.to_string()).collect();
    change.added = only_b.iter().map(|(n, _)| n.to_string()).collect();
    // Interface nodes other modules or other definitions can see must be the same; the
    // variables of functions that nested functions read may change, the nodes of
    // module-level names were compared above and those of class attributes are compared
    // with the classes, and definitions only one version has bring or take their own.
    // Compared in the old version's numbering of definitions.
    fn public<'f>(
        f: &'f ModuleFacts,
        def: &dyn Fn(u32) -> u32,
        skip: &dyn Fn(u32) -> bool,
    ) -> Vec<(u8, u32, &'f str, u32)> {
        let mut v: Vec<(u8, u32, &str, u32)> = (0..f.interface_nodes)
            .filter(|&i| !private_iface(f, i) && !scope_name(f, i))
            .map(|i| f.interface_keys[i as usize])
            .filter(|&(_, d, _)| !skip(d))
            .map(|(kind, d, x)| {
                if matches!(kind, IF_ALL | IF_REMOTE) {
                    (kind, def(d), f.strings.get(x as usize).unwrap_or(""), 0)
                } else {
                    (kind, def(d), "", x)
                }
            })
            .collect();
        v.sort_unstable();
        v
    }
    // (A module just added has no readers: its definitions are all new or re-derived.)
    if !new_module && public(a, &|d| d, &removed) != public(b, &|d| map.def(d), &added) {
        return None;
    }
    if !a
        .star_imports
        .iter()
        .zip(&b.star_imports)
        .all(|(&x, &y)| sa(x) == sb(y))
    {
        return None;
    }
    // What a star import of the module brings; nothing star-imports a module just added.
    match (&a.all_names, &b.all_names) {
        _ if new_module => {}
        (None, None) => {}
        (Some(x), Some(y)) => {
            if x.len() != y.len() || !x.iter().zip(y).all(|(&p, &q)| sa(p) == sb(q)) {
                return None;
            }
        }
        _ => return None,
    }
    // Static bindings only decide what base classes resolve to, which
    // `Solver::names_read_from_outside` checks.
    for (j, y) in b.defs.iter().enumerate() {
        let Some(i) = map.old(j) else { continue };
        let x = &a.defs[i];
        // Module and class scopes may bind other names statically (a new import, a new
        // method), and classes may gain or lose attributes.
        let scope = matches!(x.kind, DefKind::Module | DefKind::Class);
        if !def_signature_matches(
            a,
            b,
            x,
            y,
            self_attrs_matter(i as u32),
            !scope && statics_matter(a, i),
            &map,
        ) {
            return None;
        }
        if scope {
            change.statics.extend(static_changes(a, b, x, y, &map));
        }
        if x.kind == DefKind::Class {
            let names = attr_changes(a, b, x, y, &map);
            if !names.is_empty() {
                change.classes.push(i as u32);
                change.class_names.extend(names);
            }
        }
    }
    Some((change, map))
}

/// `self_attrs_matter`: whether the attributes a class's methods assign on `self` can change
/// any lookup (they only decide whether external base classes are asked for an attribute).
/// Whether the static bindings of definition `d` can matter: those of the module and of
/// classes (imports, aliases) can, those of a function only if a class is defined inside it
/// (its base classes may name them).
fn statics_matter(f: &ModuleFacts, d: usize) -> bool {
    match f.defs.get(d).map(|x| x.kind) {
        Some(DefKind::Function | DefKind::Lambda) => f.defs.iter().any(|c| {
            if c.kind != DefKind::Class {
                return false;
            }
            let mut p = c.parent;
            let mut steps = 0;
            while p != NONE && steps < 1000 {
                if p as usize == d {
                    return true;
                }
                p = f.defs.get(p as usize).map_or(NONE, |x| x.parent);
                steps += 1;
            }
            false
        }),
        _ => true,
    }
}

/// The names class `x` of `a` and class `y` of `b` do not bind alike (to the same node):
/// empty when the class's attributes are the same.
fn attr_changes(
    a: &ModuleFacts,
    b: &ModuleFacts,
    x: &DefFact,
    y: &DefFact,
    map: &DefMap,
) -> Vec<String> {
    differing_names(
        named_nodes(a, x.attrs(), |c| c),
        named_nodes(b, y.attrs(), |c| map.canon(c)),
    )
}

/// Whether a definition shows the same interface in both versions, its class attributes
/// aside (`attr_changes`).
fn def_signature_matches(
    a: &ModuleFacts,
    b: &ModuleFacts,
    x: &DefFact,
    y: &DefFact,
    self_attrs_matter: bool,
    statics_matter: bool,
    map: &DefMap,
) -> bool {
    let cb = |n: u32| map.canon(canon_node(b, n));
    let sa = |s: u32| a.strings.get(s as usize).unwrap_or("");
    let sb = |s: u32| b.strings.get(s as usize).unwrap_or("");
    if x.kind != y.kind
        || x.qualname != y.qualname
        || x.parent != map.def(y.parent)
        || x.method != y.method
        || x.class != map.def(y.class)
        || canon_node(a, x.ret) != cb(y.ret)
        || canon_node(a, x.yields) != cb(y.yields)
        || x.is_async != y.is_async
        || x.decorated != y.decorated
        || x.params.len() != y.params.len()
        || x.bases().len() != y.bases().len()
        || x.base_refs().len() != y.base_refs().len()
        || (self_attrs_matter && x.self_attrs().len() != y.self_attrs().len())
        || (statics_matter && x.statics.len() != y.statics.len())
    {
        return false;
    }
    let params = x.params.iter().zip(&y.params).all(|(p, q)| {
        canon_node(a, p.node) == cb(q.node)
            && p.kind == q.kind
            && sa(p.name) == sb(q.name)
            && (p.alloc == NONE) == (q.alloc == NONE)
            && (p.alloc == NONE || p.alloc - x.allocs.0 == q.alloc - y.allocs.0)
    });
    // The nodes of the base class expressions (`bases()`) are not compared: they are nodes
    // of the enclosing definition's body, which move when code before the class changes, and
    // the solver does not read them (class hierarchies come from `base_refs`).
    let base_refs = x
        .base_refs()
        .iter()
        .zip(y.base_refs())
        .all(|(p, q)| match (p, q) {
            (None, None) => true,
            (Some(p), Some(q)) => {
                p.scope == map.def(q.scope)
                    && p.path.len() == q.path.len()
                    && p.path
                        .iter()
                        .zip(q.path.iter())
                        .all(|(&s, &t)| sa(s) == sb(t))
            }
            _ => false,
        });
    let self_attrs = !self_attrs_matter
        || x.self_attrs()
            .iter()
            .zip(y.self_attrs())
            .all(|(&p, &q)| sa(p) == sb(q));
    let statics = !statics_matter
        || x.statics.iter().zip(&y.statics).all(|(p, q)| {
            sa(p.0) == sb(q.0)
                && match (&p.1, &q.1) {
                    (StaticBinding::Def(d), StaticBinding::Def(e)) => *d == map.def(*e),
                    (
                        StaticBinding::Import { module, attr, top },
                        StaticBinding::Import {
                            module: m2,
                            attr: a2,
                            top: t2,
                        },
                    ) => {
                        sa(*module) == sb(*m2)
                            && top == t2
                            && (*attr == NONE) == (*a2 == NONE)
                            && (*attr == NONE || sa(*attr) == sb(*a2))
                    }
                    (StaticBinding::Alias(r), StaticBinding::Alias(s)) => {
                        r.scope == map.def(s.scope)
                            && r.path.len() == s.path.len()
                            && r.path
                                .iter()
                                .zip(s.path.iter())
                                .all(|(&u, &v)| sa(u) == sb(v))
                    }
                    _ => false,
                }
        });
    params && base_refs && self_attrs && statics
}

/// What an interface node is: its kind, its definition and its name (for variables) or index
/// (for parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum IfaceKey<'a> {
    Named(u8, u32, &'a str),
    Indexed(u8, u32, u32),
}

fn iface_key(f: &ModuleFacts, i: u32) -> IfaceKey<'_> {
    match f.interface_keys.get(i as usize) {
        Some(&(kind, def, x)) if matches!(kind, IF_ALL | IF_REMOTE) => {
            IfaceKey::Named(kind, def, f.strings.get(x as usize).unwrap_or(""))
        }
        Some(&(kind, def, x)) => IfaceKey::Indexed(kind, def, x),
        None => IfaceKey::Indexed(u8::MAX, i, 0),
    }
}

/// Whether interface node `i` is only seen inside the module: a function's variable that
/// nested functions read or write.
fn private_iface(f: &ModuleFacts, i: u32) -> bool {
    match f.interface_keys.get(i as usize) {
        Some(&(IF_ALL | IF_REMOTE, def, _)) => f
            .defs
            .get(def as usize)
            .is_some_and(|d| matches!(d.kind, DefKind::Function | DefKind::Lambda)),
        _ => false,
    }
}

/// A node named independently of the numbering: an interface node by what it is, a body node
/// by its definition and its offset in that definition's nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Canon<'a> {
    None,
    Iface(IfaceKey<'a>),
    Body(u32, u32),
    Unknown(u32),
}

fn canon_node(f: &ModuleFacts, n: u32) -> Canon<'_> {
    if n == NONE {
        return Canon::None;
    }
    if n < f.interface_nodes {
        return Canon::Iface(iface_key(f, n));
    }
    let d = f.defs.partition_point(|d| d.body.1 <= n);
    match f.defs.get(d) {
        Some(def) if def.body.0 <= n => Canon::Body(d as u32, n - def.body.0),
        _ => Canon::Unknown(n),
    }
}

fn canon_site(f: &ModuleFacts, s: u32) -> (u32, u32) {
    if s == NONE {
        return (NONE, 0);
    }
    let d = f.defs.partition_point(|d| d.sites.1 <= s);
    match f.defs.get(d) {
        Some(def) if def.sites.0 <= s => (d as u32, s - def.sites.0),
        _ => (NONE, s),
    }
}

fn canon_alloc(f: &ModuleFacts, a: u32) -> (u32, u32) {
    let d = f.defs.partition_point(|d| d.allocs.1 <= a);
    match f.defs.get(d) {
        Some(def) if def.allocs.0 <= a => (d as u32, a - def.allocs.0),
        _ => (NONE, a),
    }
}

/// The global ids of an aligned definition's call sites or ops, appended to `out`: the one at
/// local index `i` of the range `new` keeps the old id its pairing names (an index into
/// `old_ids`, the old definition's ids), now found at its new place in module `slot`, or gets
/// a new id.
fn carry_ids(
    loc: &mut LocTable,
    slot: u32,
    paired: &[Option<u32>],
    old_ids: &[u32],
    new: (u32, u32),
    out: &mut Vec<u32>,
) {
    for (o, i) in paired.iter().zip(new.0..new.1) {
        let at = (slot, i);
        match o {
            Some(o) => {
                let g = old_ids[*o as usize];
                loc.set(g, at);
                out.push(g);
            }
            None => out.push(loc.push(at)),
        }
    }
}

/// How a changed definition's new version lines up with its old one (see `replace_module`):
/// for each of its new ops, nodes, call sites and allocations (by offset in the definition),
/// the old one it is, if any. Ops that are the same in both versions (up to renumbering) are
/// paired, and the nodes, sites and allocations they name paired with them, consistently.
#[derive(Clone, Debug)]
struct Aligned {
    /// The definition's index in the old version.
    old: usize,
    ops: Vec<Option<u32>>,
    nodes: Vec<Option<u32>>,
    sites: Vec<Option<u32>>,
    allocs: Vec<Option<u32>>,
}

impl Aligned {
    fn kept_ops(&self) -> usize {
        self.ops.iter().flatten().count()
    }
}

/// The old indices in `range` (a definition's nodes, sites or ops) that no entry of `side`
/// (one per new one: the old offset it pairs with, if any) pairs with.
fn unpaired(side: &[Option<u32>], range: (u32, u32)) -> impl Iterator<Item = usize> {
    let mut paired = vec![false; (range.1 - range.0) as usize];
    for &o in side.iter().flatten() {
        paired[o as usize] = true;
    }
    paired
        .into_iter()
        .enumerate()
        .filter(|&(_, p)| !p)
        .map(move |(k, _)| range.0 as usize + k)
}

/// One-to-one pairs of old and new offsets (of nodes, sites or allocations) in a definition.
#[derive(Default)]
struct Pairs {
    to_new: FxMap<u32, u32>,
    to_old: FxMap<u32, u32>,
}

/// The pairs an alignment has made so far, and the trail to take back those of an op that
/// turned out not to match.
struct Binding {
    /// The definition in the old and the new version.
    da: u32,
    db: u32,
    pairs: [Pairs; 3],
    trail: Vec<(usize, u32, u32)>,
}

const NODES: usize = 0;
const SITES: usize = 1;
const ALLOCS: usize = 2;

impl Binding {
    /// Pairs old offset `o` with new offset `n` (of kind `k`), unless either is paired
    /// otherwise.
    fn pair(&mut self, k: usize, o: u32, n: u32) -> bool {
        let p = &mut self.pairs[k];
        match (p.to_new.get(&o), p.to_old.get(&n)) {
            (Some(&m), _) => m == n,
            (None, Some(_)) => false,
            (None, None) => {
                p.to_new.insert(o, n);
                p.to_old.insert(n, o);
                self.trail.push((k, o, n));
                true
            }
        }
    }

    /// Takes back the pairs made since the trail was `mark` long.
    fn undo_to(&mut self, mark: usize) {
        for (k, o, n) in self.trail.drain(mark..) {
            self.pairs[k].to_new.remove(&o);
            self.pairs[k].to_old.remove(&n);
        }
    }
}

/// Lines old definition `da` up with new definition `db` (a changed one): the longest common
/// beginning of their ops, then the longest common end of what is left, then, in between, the
/// old ops in order among the new ones (an insertion) or the new ones among the old (a
/// removal), whichever pairs more. Two ops pair when they are the same up to renumbering and
/// the nodes, sites and allocations of the definition they name pair as the earlier pairs
/// allow.
fn align(a: &ModuleFacts, b: &ModuleFacts, da: usize, db: usize, map: &DefMap) -> Aligned {
    let (x, y) = (&a.defs[da], &b.defs[db]);
    let bind = std::cell::RefCell::new(Binding {
        da: da as u32,
        db: db as u32,
        pairs: Default::default(),
        trail: Vec::new(),
    });
    let cmp = Cmp {
        a,
        b,
        map,
        bind: Some(&bind),
    };
    let same = |i: u32, j: u32| -> bool {
        let mark = bind.borrow().trail.len();
        let ok = cmp.ops(
            &a.ops[(x.ops.0 + i) as usize],
            &b.ops[(y.ops.0 + j) as usize],
        );
        if !ok {
            bind.borrow_mut().undo_to(mark);
        }
        ok
    };
    let (lx, ly) = (x.ops.1 - x.ops.0, y.ops.1 - y.ops.0);
    let mut ops: Vec<Option<u32>> = vec![None; ly as usize];
    let mut prefix = 0;
    while prefix < lx.min(ly) && same(prefix, prefix) {
        ops[prefix as usize] = Some(prefix);
        prefix += 1;
    }
    let mut suffix = 0;
    while suffix < (lx - prefix).min(ly - prefix) && same(lx - 1 - suffix, ly - 1 - suffix) {
        ops[(ly - 1 - suffix) as usize] = Some(lx - 1 - suffix);
        suffix += 1;
    }
    // Between: try the two greedy walks from the same pairs and keep the one pairing more.
    let (ox, oy) = (lx - suffix, ly - suffix);
    let mark = bind.borrow().trail.len();
    let mut inserted: Vec<(u32, u32)> = Vec::new();
    let mut i = prefix;
    for j in prefix..oy {
        if i < ox && same(i, j) {
            inserted.push((i, j));
            i += 1;
        }
    }
    let inserted_trail: Vec<(usize, u32, u32)> = bind.borrow().trail[mark..].to_vec();
    bind.borrow_mut().undo_to(mark);
    let mut removed: Vec<(u32, u32)> = Vec::new();
    let mut j = prefix;
    for i in prefix..ox {
        if j < oy && same(i, j) {
            removed.push((i, j));
            j += 1;
        }
    }
    if inserted.len() > removed.len() {
        let mut bd = bind.borrow_mut();
        bd.undo_to(mark);
        for (k, o, n) in inserted_trail {
            bd.pair(k, o, n);
        }
        removed = inserted;
    }
    for (i, j) in removed {
        ops[j as usize] = Some(i);
    }
    let bd = bind.into_inner();
    let side = |k: usize, len: u32| -> Vec<Option<u32>> {
        (0..len)
            .map(|n| bd.pairs[k].to_old.get(&n).copied())
            .collect()
    };
    Aligned {
        old: da,
        ops,
        nodes: side(NODES, y.body.1 - y.body.0),
        sites: side(SITES, y.sites.1 - y.sites.0),
        allocs: side(ALLOCS, y.allocs.1 - y.allocs.0),
    }
}

/// Whether definition `d`'s body is the same in both versions, up to renumbering.
fn body_matches(a: &ModuleFacts, b: &ModuleFacts, da: usize, db: usize, map: &DefMap) -> bool {
    let (x, y) = (&a.defs[da], &b.defs[db]);
    if x.body.1 - x.body.0 != y.body.1 - y.body.0
        || x.ops.1 - x.ops.0 != y.ops.1 - y.ops.0
        || x.sites.1 - x.sites.0 != y.sites.1 - y.sites.0
        || x.allocs.1 - x.allocs.0 != y.allocs.1 - y.allocs.0
    {
        return false;
    }
    let cmp = Cmp {
        a,
        b,
        map,
        bind: None,
    };
    (x.ops.0..x.ops.1)
        .zip(y.ops.0..y.ops.1)
        .all(|(i, j)| cmp.ops(&a.ops[i as usize], &b.ops[j as usize]))
}

struct Cmp<'a> {
    a: &'a ModuleFacts,
    b: &'a ModuleFacts,
    /// `b`'s definitions in `a`'s numbering.
    map: &'a DefMap,
    /// When aligning a changed definition (`align`): the pairs of its nodes, sites and
    /// allocations made so far, which its own are compared by (and added to) rather than
    /// by offset.
    bind: Option<&'a std::cell::RefCell<Binding>>,
}

impl Cmp<'_> {
    /// Compares offsets `(x, y)` into the aligned definition through the binding, if both are
    /// in it.
    fn bound(&self, k: usize, x: (u32, u32), y: (u32, u32)) -> Option<bool> {
        let bind = self.bind?;
        let mut bd = bind.borrow_mut();
        (x.0 == bd.da && y.0 == bd.db).then(|| bd.pair(k, x.1, y.1))
    }

    fn n(&self, x: u32, y: u32) -> bool {
        let (cx, cy) = (canon_node(self.a, x), canon_node(self.b, y));
        if let (Canon::Body(dx, ox), Canon::Body(dy, oy)) = (cx, cy) {
            if let Some(same) = self.bound(NODES, (dx, ox), (dy, oy)) {
                return same;
            }
        }
        cx == self.map.canon(cy)
    }

    fn s(&self, x: u32, y: u32) -> bool {
        self.a.strings.get(x as usize) == self.b.strings.get(y as usize)
    }

    /// Whether the loads merged into the loads at sites `x` and `y` are the same (a read of
    /// a property at the kept load is also a call at each merged one).
    fn aliases(&self, x: u32, y: u32) -> bool {
        let (mut p, mut q) = (self.a.load_aliases_of(x), self.b.load_aliases_of(y));
        loop {
            match (p.next(), q.next()) {
                (None, None) => return true,
                (Some(u), Some(v)) if self.site(u, v) => {}
                _ => return false,
            }
        }
    }

    fn site(&self, x: u32, y: u32) -> bool {
        let (cx, cy) = (canon_site(self.a, x), canon_site(self.b, y));
        if let Some(same) = self.bound(SITES, cx, cy) {
            return same;
        }
        cx == self.map.pair(cy)
    }

    fn alloc(&self, x: u32, y: u32) -> bool {
        let (cx, cy) = (canon_alloc(self.a, x), canon_alloc(self.b, y));
        if let Some(same) = self.bound(ALLOCS, cx, cy) {
            return same;
        }
        cx == self.map.pair(cy)
    }

    fn c(&self, x: super::facts::Const, y: super::facts::Const) -> bool {
        use super::facts::Const::*;
        match (x, y) {
            (Str(p), Str(q)) => self.s(p, q),
            _ => x == y,
        }
    }

    fn key(&self, x: Key, y: Key) -> bool {
        match (x, y) {
            (Key::Const(p), Key::Const(q)) => self.c(p, q),
            (Key::Node(p), Key::Node(q)) => self.n(p, q),
            (Key::Unknown, Key::Unknown) => true,
            _ => false,
        }
    }

    fn arg(&self, x: Arg, y: Arg) -> bool {
        match (x, y) {
            (Arg::Pos(p), Arg::Pos(q))
            | (Arg::Star(p), Arg::Star(q))
            | (Arg::KwStar(p), Arg::KwStar(q)) => self.n(p, q),
            (Arg::Kw(s, p), Arg::Kw(t, q)) => self.s(s, t) && self.n(p, q),
            _ => false,
        }
    }

    fn ops(&self, x: &Op, y: &Op) -> bool {
        use Op::*;
        match (*x, *y) {
            (Const { dst, c }, Const { dst: d2, c: c2 }) => self.n(dst, d2) && self.c(c, c2),
            (Def { dst, def }, Def { dst: d2, def: e2 }) => {
                self.n(dst, d2) && def == self.map.def(e2)
            }
            (
                SelfOf { dst, class, cls },
                SelfOf {
                    dst: d2,
                    class: c2,
                    cls: k2,
                },
            ) => self.n(dst, d2) && class == self.map.def(c2) && cls == k2,
            (
                Alloc { dst, kind, alloc },
                Alloc {
                    dst: d2,
                    kind: k2,
                    alloc: a2,
                },
            ) => self.n(dst, d2) && kind == k2 && self.alloc(alloc, a2),
            (Copy { dst, src }, Copy { dst: d2, src: s2 })
            | (CopyObj { dst, src }, CopyObj { dst: d2, src: s2 })
            | (Elems { dst, src }, Elems { dst: d2, src: s2 }) => {
                self.n(dst, d2) && self.n(src, s2)
            }
            (
                Load {
                    dst,
                    base,
                    attr,
                    site,
                },
                Load {
                    dst: d2,
                    base: b2,
                    attr: a2,
                    site: s2,
                },
            ) => {
                self.n(dst, d2)
                    && self.n(base, b2)
                    && self.s(attr, a2)
                    && self.site(site, s2)
                    && self.aliases(site, s2)
            }
            (
                Store { base, attr, src },
                Store {
                    base: b2,
                    attr: a2,
                    src: s2,
                },
            ) => self.n(base, b2) && self.s(attr, a2) && self.n(src, s2),
            (
                SubLoad {
                    dst,
                    base,
                    key,
                    site,
                    unpack,
                },
                SubLoad {
                    dst: d2,
                    base: b2,
                    key: k2,
                    site: s2,
                    unpack: u2,
                },
            ) => {
                self.n(dst, d2)
                    && self.n(base, b2)
                    && self.key(key, k2)
                    && self.site(site, s2)
                    && unpack == u2
            }
            (
                SubStore {
                    base,
                    key,
                    src,
                    site,
                },
                SubStore {
                    base: b2,
                    key: k2,
                    src: r2,
                    site: s2,
                },
            ) => self.n(base, b2) && self.key(key, k2) && self.n(src, r2) && self.site(site, s2),
            (
                Slice {
                    dst,
                    base,
                    lo,
                    hi,
                    alloc,
                },
                Slice {
                    dst: d2,
                    base: b2,
                    lo: l2,
                    hi: h2,
                    alloc: a2,
                },
            ) => {
                self.n(dst, d2) && self.n(base, b2) && lo == l2 && hi == h2 && self.alloc(alloc, a2)
            }
            (
                Call {
                    site,
                    callee,
                    args_start,
                    args_len,
                    dst,
                    flags,
                    aux,
                },
                Call {
                    site: s2,
                    callee: c2,
                    args_start: st2,
                    args_len: l2,
                    dst: d2,
                    flags: f2,
                    aux: x2,
                },
            ) => {
                self.site(site, s2)
                    && self.n(callee, c2)
                    && self.n(dst, d2)
                    && flags == f2
                    && aux == self.map.def(x2)
                    && args_len == l2
                    && (0..args_len as usize).all(|i| {
                        match (
                            self.a.args.get(args_start as usize + i),
                            self.b.args.get(st2 as usize + i),
                        ) {
                            (Some(&p), Some(&q)) => self.arg(p, q),
                            _ => false,
                        }
                    })
            }
            (Raise { site, src }, Raise { site: s2, src: r2 }) => {
                self.site(site, s2) && self.n(src, r2)
            }
            (
                IterStart { site, src, dst },
                IterStart {
                    site: s2,
                    src: r2,
                    dst: d2,
                },
            )
            | (
                IterNext { site, src, dst },
                IterNext {
                    site: s2,
                    src: r2,
                    dst: d2,
                },
            )
            | (
                With { site, src, dst },
                With {
                    site: s2,
                    src: r2,
                    dst: d2,
                },
            ) => self.site(site, s2) && self.n(src, r2) && self.n(dst, d2),
            (Fallback { dst, name }, Fallback { dst: d2, name: n2 }) => {
                self.n(dst, d2) && self.s(name, n2)
            }
            (
                Import {
                    dst,
                    module,
                    attr,
                    top,
                },
                Import {
                    dst: d2,
                    module: m2,
                    attr: a2,
                    top: t2,
                },
            ) => {
                self.n(dst, d2)
                    && self.s(module, m2)
                    && top == t2
                    && (attr == NONE) == (a2 == NONE)
                    && (attr == NONE || self.s(attr, a2))
            }
            _ => false,
        }
    }
}

/// Why two versions' interfaces differ (for diagnostics).
fn interface_diff(a: &ModuleFacts, b: &ModuleFacts) -> String {
    let map = DefMap::new(a, b);
    if let Some(&i) = map
        .removed
        .iter()
        .find(|&&i| !may_come_and_go(&a.defs[i as usize]))
    {
        return format!("{} removed", a.defs[i as usize].qualname);
    }
    for (j, y) in b.defs.iter().enumerate() {
        let Some(i) = map.old(j) else {
            if !may_come_and_go(y) {
                return format!("{} added", y.qualname);
            }
            continue;
        };
        let x = &a.defs[i];
        if !def_signature_matches(a, b, x, y, true, true, &map)
            || !attr_changes(a, b, x, y, &map).is_empty()
        {
            let what = if x.statics.len() != y.statics.len() {
                "statics"
            } else if x.self_attrs().len() != y.self_attrs().len() {
                "self attrs"
            } else if x.attrs().len() != y.attrs().len() {
                "attrs"
            } else {
                "other"
            };
            return format!("{} ({what})", x.qualname);
        }
    }
    let public = |f: &ModuleFacts| {
        (0..f.interface_nodes)
            .filter(|&i| !private_iface(f, i))
            .count()
    };
    format!("interface nodes {} -> {}", public(a), public(b))
}

/// The classes whose methods assign a different set of attributes on `self`.
fn self_attr_changes(a: &ModuleFacts, b: &ModuleFacts, map: &DefMap) -> Vec<u32> {
    let sa = |s: u32| a.strings.get(s as usize).unwrap_or("");
    let sb = |s: u32| b.strings.get(s as usize).unwrap_or("");
    (0..b.defs.len())
        .filter_map(|j| Some((map.old(j)?, j)))
        .filter(|&(i, j)| {
            let (x, y) = (&a.defs[i], &b.defs[j]);
            x.self_attrs().len() != y.self_attrs().len()
                || x.self_attrs()
                    .iter()
                    .zip(y.self_attrs())
                    .any(|(&p, &q)| sa(p) != sb(q))
        })
        .map(|(i, _)| i as u32)
        .collect()
}
