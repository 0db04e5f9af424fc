//! Resolving names without solving: what `Base` in `class C(Base)` or `models.Model` refers
//! to, following imports, re-exports through `__init__.py`, star imports and simple aliases
//! (`Base = other.Base`) across modules.
//!
//! This is how class hierarchies are known before the points-to solve (attribute lookup needs
//! the method resolution order). A name bound several ways (`try: from a import X` /
//! `except ImportError: from b import X`) resolves to every target.

use super::builtins::is_builtin;
use super::facts::{DefKind, StaticBinding, Sym, NONE};
use super::resolve::{Solver, StaticTarget};

/// How many bindings deep a resolution may go (aliases of aliases of imports…).
const MAX_STATIC_DEPTH: u32 = 24;

impl Solver {
    /// Resolves a dotted path written in definition `scope` of module `mi`.
    pub(crate) fn resolve_static(
        &mut self,
        mi: u32,
        scope: u32,
        path: &[Sym],
    ) -> Vec<StaticTarget> {
        self.resolve_path(mi, scope, path, 0)
    }

    fn resolve_path(&mut self, mi: u32, scope: u32, path: &[Sym], depth: u32) -> Vec<StaticTarget> {
        let Some((&first, rest)) = path.split_first() else {
            return Vec::new();
        };
        let mut targets = self.static_name(mi, scope, first, depth);
        for &attr in rest {
            let attr = self.gsym(mi, attr);
            let mut next = Vec::new();
            for t in targets {
                for x in self.static_attr(t, attr, depth + 1) {
                    if !next.contains(&x) {
                        next.push(x);
                    }
                }
            }
            targets = next;
            if targets.is_empty() {
                break;
            }
        }
        targets
    }

    /// A name as code in `scope` sees it: the scope and its enclosing functions, the module,
    /// star imports, builtins. Class scopes other than the first are skipped, as in Python.
    fn static_name(&mut self, mi: u32, scope: u32, name: Sym, depth: u32) -> Vec<StaticTarget> {
        if depth > MAX_STATIC_DEPTH {
            return Vec::new();
        }
        let m = self.mods[mi as usize].facts.clone();
        let mut s = scope;
        let mut first = true;
        let mut steps = 0;
        while s != NONE && steps < 1000 {
            steps += 1;
            let Some(def) = m.defs.get(s as usize) else {
                break;
            };
            if first || def.kind != DefKind::Class {
                let bindings: Vec<StaticBinding> = bindings_of(&def.statics, name);
                if !bindings.is_empty() {
                    let mut out = Vec::new();
                    for b in bindings {
                        for t in self.binding_targets(mi, &b, depth + 1) {
                            if !out.contains(&t) {
                                out.push(t);
                            }
                        }
                    }
                    return out;
                }
            }
            first = false;
            s = def.parent;
        }
        let gname = self.gsym(mi, name);
        let stars = self.mods[mi as usize].star_sources.clone();
        let mut out = Vec::new();
        for star in stars {
            if self.module_by_name.contains_key(&star) {
                for t in self.static_module_attr(star, gname, depth + 1) {
                    if !out.contains(&t) {
                        out.push(t);
                    }
                }
            }
        }
        if out.is_empty() && is_builtin(self.syms.resolve(gname)) {
            out.push(StaticTarget::Builtin(gname));
        }
        out
    }

    fn binding_targets(&mut self, mi: u32, b: &StaticBinding, depth: u32) -> Vec<StaticTarget> {
        if depth > MAX_STATIC_DEPTH {
            return Vec::new();
        }
        match b {
            StaticBinding::Def(d) => {
                let gd = self.gdef(mi, *d);
                match self.mods[mi as usize]
                    .facts
                    .defs
                    .get(*d as usize)
                    .map(|d| d.kind)
                {
                    Some(DefKind::Class) => vec![StaticTarget::Class(gd)],
                    Some(_) => vec![StaticTarget::Function(gd)],
                    None => Vec::new(),
                }
            }
            StaticBinding::Import { module, attr, top } => {
                let module = self.gsym(mi, *module);
                if *attr == NONE {
                    let name = if *top {
                        let full = self.syms.resolve(module).to_string();
                        let first = full.split('.').next().unwrap_or("").to_string();
                        self.syms.intern(&first)
                    } else {
                        module
                    };
                    vec![self.module_or_external(name)]
                } else {
                    let attr = self.gsym(mi, *attr);
                    if self.module_by_name.contains_key(&module) || self.packages.contains(&module)
                    {
                        self.static_module_attr(module, attr, depth + 1)
                    } else {
                        let full =
                            format!("{}.{}", self.syms.resolve(module), self.syms.resolve(attr));
                        let full = self.syms.intern(&full);
                        vec![StaticTarget::External(full)]
                    }
                }
            }
            StaticBinding::Alias(r) => {
                let path = r.path.clone();
                self.resolve_path(mi, r.scope, &path, depth + 1)
            }
        }
    }

    fn module_or_external(&self, name: u32) -> StaticTarget {
        if self.module_by_name.contains_key(&name) || self.packages.contains(&name) {
            StaticTarget::Module(name)
        } else {
            StaticTarget::External(name)
        }
    }

    /// `module.attr` before solving.
    fn static_module_attr(&mut self, module: u32, attr: u32, depth: u32) -> Vec<StaticTarget> {
        if depth > MAX_STATIC_DEPTH {
            return Vec::new();
        }
        if let Some(&mi) = self.module_by_name.get(&module) {
            let m = self.mods[mi as usize].facts.clone();
            if let Some(def) = m.defs.first() {
                let bindings: Vec<StaticBinding> = def
                    .statics
                    .iter()
                    .filter(|(s, _)| self.gsym(mi, *s) == attr)
                    .map(|(_, b)| b.clone())
                    .collect();
                if !bindings.is_empty() {
                    let mut out = Vec::new();
                    for b in bindings {
                        for t in self.binding_targets(mi, &b, depth + 1) {
                            if !out.contains(&t) {
                                out.push(t);
                            }
                        }
                    }
                    return out;
                }
            }
        }
        let full = format!("{}.{}", self.syms.resolve(module), self.syms.resolve(attr));
        let full = self.syms.intern(&full);
        if self.module_by_name.contains_key(&full) || self.packages.contains(&full) {
            return vec![StaticTarget::Module(full)];
        }
        let Some(&mi) = self.module_by_name.get(&module) else {
            return Vec::new();
        };
        let stars = self.mods[mi as usize].star_sources.clone();
        let mut out = Vec::new();
        for star in stars {
            if star != module && self.module_by_name.contains_key(&star) {
                for t in self.static_module_attr(star, attr, depth + 1) {
                    if !out.contains(&t) {
                        out.push(t);
                    }
                }
            }
        }
        out
    }

    fn static_attr(&mut self, target: StaticTarget, attr: u32, depth: u32) -> Vec<StaticTarget> {
        match target {
            StaticTarget::Module(m) => self.static_module_attr(m, attr, depth),
            StaticTarget::External(x) => {
                let full = format!("{}.{}", self.syms.resolve(x), self.syms.resolve(attr));
                vec![StaticTarget::External(self.syms.intern(&full))]
            }
            StaticTarget::Class(c) => {
                // A nested class: `Outer.Inner`.
                let Some((mi, def)) = self.def_at(c) else {
                    return Vec::new();
                };
                let bindings: Vec<StaticBinding> = def
                    .statics
                    .iter()
                    .filter(|(s, _)| self.gsym(mi, *s) == attr)
                    .map(|(_, b)| b.clone())
                    .collect();
                let mut out = Vec::new();
                for b in bindings {
                    out.extend(self.binding_targets(mi, &b, depth + 1));
                }
                out
            }
            StaticTarget::Function(_) | StaticTarget::Builtin(_) => Vec::new(),
        }
    }
}

/// The bindings of `name` in a sorted list of static bindings.
fn bindings_of(statics: &[(Sym, StaticBinding)], name: Sym) -> Vec<StaticBinding> {
    let start = statics.partition_point(|(s, _)| *s < name);
    statics[start..]
        .iter()
        .take_while(|(s, _)| *s == name)
        .map(|(_, b)| b.clone())
        .collect()
}
