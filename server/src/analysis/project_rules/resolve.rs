//! Static call resolution for TDM021: which project function, method or constructor a call
//! reaches, told from the syntax alone, without solving the call graph.
//!
//! Names are looked up as Python does (the call's scope, enclosing functions, the module, star
//! imports), following `def`/`class`, imports (relative ones and re-exports through
//! `__init__.py` included) and simple aliases across modules. `module.f(…)`, `Class(…)` (its
//! `__init__` through the static method resolution order), `Class.m(…)`, `self.m(…)` and
//! `cls.m(…)` in a class, `super().m(…)`, calls through parameters annotated with a project
//! class and through variables bound once to a constructor call (`x = C(); x.m(…)`) are
//! resolved. A call resolves only when exactly one target is possible: a name bound several
//! ways, a receiver that may be a subclass overriding the method, a class whose hierarchy
//! passes through code outside the project before the attribute is found, or an attribute
//! assigned anywhere in the project (`obj.m = …`) leaves the call unresolved.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::Path;

use super::facts::{path_parts, Binding, Callee, FileFacts, ScopeKind};
use crate::analysis::callgraph::c3_merge;
use crate::analysis::outline::{Outline, Symbol};

/// How deep a resolution may go (aliases of aliases of imports…).
const MAX_DEPTH: u32 = 24;

/// One file of the project, as the resolver reads it.
pub struct ProjectFile<'a> {
    pub path: &'a Path,
    pub module: &'a str,
    pub outline: &'a Outline,
    pub facts: &'a FileFacts<'a>,
}

type ClassId = u32;

/// What a name or path may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// A module or package, by its index in `Project::module_names`.
    Module(u32),
    /// A function: its file and the start of its name.
    Function(u32, usize),
    /// A class; with `exact: false`, the class or any subclass (`cls`).
    Class(ClassId, bool),
    /// An instance of the class; with `exact: false`, of the class or any subclass.
    Instance(ClassId, bool),
    /// Something outside the project (or a builtin), by a hash of its dotted name.
    External(u64),
}

/// An entry of a method resolution order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Class(ClassId),
    /// A base outside the project (or not resolvable): its attributes are unknown.
    Opaque(u64),
}

struct ClassInfo {
    file: u32,
    scope: u32,
    /// Declared with keywords (`metaclass=…`), decorated, or defining `__new__`: calling it may
    /// not simply run `__init__`.
    special: bool,
    mro: Option<Vec<Entry>>,
    /// Every project class with this one in its order (transitively), this one excluded.
    subclasses: Vec<ClassId>,
}

/// What a call reaches.
pub(crate) struct Target<'a> {
    /// The function (or `__init__`) called; `None` for a class without any `__init__`, whose
    /// constructor takes no arguments.
    pub function: Option<&'a Symbol>,
    /// The first parameter is bound (a method called on an instance or a class, `__init__`).
    pub bound: bool,
    /// For a constructor, the name of the class called.
    pub class_name: Option<&'a str>,
}

pub struct Project<'a> {
    files: Vec<ProjectFile<'a>>,
    module_index: HashMap<String, u32>,
    /// The file of each module (`None` for a package known only from its submodules).
    module_files: Vec<Option<u32>>,
    module_names: Vec<String>,
    /// Per file: the symbols by the start of their names.
    symbols: Vec<HashMap<usize, &'a Symbol>>,
    /// Per file: the class scopes by the start of their names.
    class_of_scope: Vec<HashMap<u32, ClassId>>,
    class_by_name: Vec<HashMap<usize, ClassId>>,
    classes: Vec<ClassInfo>,
    assigned: HashSet<&'a str>,
}

fn hash_name(name: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

impl<'a> Project<'a> {
    /// The project of these files; when two files claim a module name, the first keeps it.
    pub fn new(files: Vec<ProjectFile<'a>>) -> Project<'a> {
        let mut project = Project {
            module_index: HashMap::new(),
            module_files: Vec::new(),
            module_names: Vec::new(),
            symbols: Vec::new(),
            class_of_scope: Vec::new(),
            class_by_name: Vec::new(),
            classes: Vec::new(),
            assigned: HashSet::new(),
            files: Vec::new(),
        };
        for (i, file) in files.iter().enumerate() {
            let parts: Vec<&str> = file.module.split('.').collect();
            for n in 1..=parts.len() {
                let name = parts[..n].join(".");
                let next = project.module_names.len() as u32;
                let id = *project.module_index.entry(name.clone()).or_insert(next);
                if id == next {
                    project.module_names.push(name);
                    project.module_files.push(None);
                }
                if n == parts.len() && project.module_files[id as usize].is_none() {
                    project.module_files[id as usize] = Some(i as u32);
                }
            }
            let mut symbols = HashMap::new();
            let mut stack: Vec<&Symbol> = file.outline.symbols.iter().collect();
            while let Some(s) = stack.pop() {
                symbols.insert(s.name_range.start, s);
                stack.extend(&s.children);
            }
            project.symbols.push(symbols);
            let mut of_scope = HashMap::new();
            let mut by_name = HashMap::new();
            for (si, scope) in file.facts.scopes.iter().enumerate() {
                if scope.kind == ScopeKind::Class {
                    let id = project.classes.len() as ClassId;
                    let special = project.symbols[i].get(&scope.name_start).is_none_or(|s| {
                        !s.decorators.is_empty()
                            || s.bases.iter().any(|b| is_keyword(b))
                            || s.children.iter().any(|c| c.name == "__new__")
                    });
                    project.classes.push(ClassInfo {
                        file: i as u32,
                        scope: si as u32,
                        special,
                        mro: None,
                        subclasses: Vec::new(),
                    });
                    of_scope.insert(si as u32, id);
                    by_name.insert(scope.name_start, id);
                }
            }
            project.class_of_scope.push(of_scope);
            project.class_by_name.push(by_name);
            project
                .assigned
                .extend(file.facts.assigned_attrs.iter().copied());
        }
        project.files = files;
        project.class_orders();
        project
    }

    /// The method resolution order of every class (C3, as Python computes it), and each
    /// class's subclasses.
    fn class_orders(&mut self) {
        let n = self.classes.len();
        let bases: Vec<Option<Vec<Entry>>> = (0..n as ClassId).map(|c| self.bases(c)).collect();
        let mut mros: Vec<Option<Option<Vec<Entry>>>> = vec![None; n];
        for c in 0..n {
            c3(c as ClassId, &bases, &mut mros, 0);
        }
        for (c, mro) in mros.into_iter().enumerate() {
            self.classes[c].mro = mro.flatten();
        }
        for c in 0..n {
            let Some(mro) = self.classes[c].mro.clone() else {
                continue;
            };
            for e in &mro[1..] {
                if let Entry::Class(k) = e {
                    self.classes[*k as usize].subclasses.push(c as ClassId);
                }
            }
        }
    }

    /// The bases of a class, `object` left out; `None` when they cannot be read.
    fn bases(&self, c: ClassId) -> Option<Vec<Entry>> {
        let info = &self.classes[c as usize];
        let file = info.file;
        let scope = &self.files[file as usize].facts.scopes[info.scope as usize];
        let symbol = self.symbols[file as usize].get(&scope.name_start)?;
        let mut out = Vec::new();
        for base in &symbol.bases {
            if is_keyword(base) {
                continue;
            }
            let written = base.split('[').next().unwrap_or(base).trim();
            if written == "object" {
                continue;
            }
            let Some(parts) = path_parts(written) else {
                out.push(Entry::Opaque(hash_name(written)));
                continue;
            };
            let values = self.resolve_path(file, scope.parent, &parts, 0);
            match values.as_slice() {
                [Value::Class(k, true)] => out.push(Entry::Class(*k)),
                [Value::External(h)] => out.push(Entry::Opaque(*h)),
                _ => out.push(Entry::Opaque(hash_name(written))),
            }
        }
        Some(out)
    }

    /// The values a name may hold where code in `scope` of `file` reads it.
    fn resolve_name(&self, file: u32, scope: u32, name: &str, depth: u32) -> Vec<Value> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let facts = self.files[file as usize].facts;
        let mut s = scope;
        let mut first = true;
        while let Some(sc) = facts.scopes.get(s as usize) {
            if first || sc.kind != ScopeKind::Class {
                let bindings = sc.bindings_of(name);
                if !bindings.is_empty() {
                    return self.bindings_values(file, s, bindings, depth);
                }
            }
            first = false;
            s = sc.parent;
        }
        let mut out = Vec::new();
        for star in &facts.star_imports {
            match self.module_index.get(star.as_ref()) {
                Some(&m) => out.extend(self.module_attr(m, name, depth + 1)),
                // A star import from outside the project may bind anything.
                None => return Vec::new(),
            }
        }
        if out.is_empty() {
            out.push(Value::External(hash_name(name)));
        }
        out
    }

    /// The values of all the bindings of a name in `scope` (empty when any is unknown).
    fn bindings_values(
        &self,
        file: u32,
        scope: u32,
        bindings: &[(&str, Binding<'_>)],
        depth: u32,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        for (_, b) in bindings {
            let Some(values) = self.binding_values(file, scope, b, depth + 1) else {
                return Vec::new();
            };
            for v in values {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// The values of one binding (`None`: unknown).
    fn binding_values(
        &self,
        file: u32,
        scope: u32,
        binding: &Binding<'_>,
        depth: u32,
    ) -> Option<Vec<Value>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let facts = self.files[file as usize].facts;
        match binding {
            Binding::Def(start) => Some(vec![match self.class_by_name[file as usize].get(start) {
                Some(&c) => Value::Class(c, true),
                None => Value::Function(file, *start),
            }]),
            Binding::Import { module, attr: None } => {
                Some(vec![match self.module_index.get(module.as_ref()) {
                    Some(&m) => Value::Module(m),
                    None => Value::External(hash_name(module)),
                }])
            }
            Binding::Import {
                module,
                attr: Some(attr),
            } => match self.module_index.get(module.as_ref()) {
                Some(&m) => {
                    let values = self.module_attr(m, attr, depth + 1);
                    (!values.is_empty()).then_some(values)
                }
                None => Some(vec![Value::External(hash_name(&format!(
                    "{module}.{attr}"
                )))]),
            },
            Binding::Alias(path) => {
                let parts = path_parts(path)?;
                let values = self.resolve_path(file, scope, &parts, depth + 1);
                (!values.is_empty()).then_some(values)
            }
            Binding::Instance(path) => {
                let parts = path_parts(path)?;
                let values = self.resolve_path(file, scope, &parts, depth + 1);
                match values.as_slice() {
                    [Value::Class(c, true)] if !self.classes[*c as usize].special => {
                        Some(vec![Value::Instance(*c, true)])
                    }
                    _ => None,
                }
            }
            Binding::Param { index, annotation } => {
                let sc = &facts.scopes[scope as usize];
                let parent = facts.scopes.get(sc.parent as usize)?;
                if *index == 0 && parent.kind == ScopeKind::Class {
                    let class = *self.class_of_scope[file as usize].get(&sc.parent)?;
                    let function = self.symbols[file as usize].get(&sc.name_start)?;
                    let decorated = |d: &str| function.decorators.iter().any(|x| x == d);
                    if decorated("staticmethod") {
                        return annotation.and_then(|a| self.annotated(file, sc.parent, a, depth));
                    }
                    let implicit_class = matches!(
                        function.name.as_str(),
                        "__new__" | "__init_subclass__" | "__class_getitem__"
                    );
                    return Some(vec![if decorated("classmethod") || implicit_class {
                        Value::Class(class, false)
                    } else {
                        Value::Instance(class, false)
                    }]);
                }
                annotation.and_then(|a| self.annotated(file, sc.parent, a, depth))
            }
            Binding::Unknown => None,
        }
    }

    /// An instance of the class an annotation names, read in `scope`.
    fn annotated(&self, file: u32, scope: u32, annotation: &str, depth: u32) -> Option<Vec<Value>> {
        let parts = path_parts(annotation)?;
        match self.resolve_path(file, scope, &parts, depth + 1).as_slice() {
            [Value::Class(c, true)] => Some(vec![Value::Instance(*c, false)]),
            _ => None,
        }
    }

    /// `module.name`: a name the module binds, else a submodule, else what its star imports
    /// bring. Empty when unknown.
    fn module_attr(&self, module: u32, name: &str, depth: u32) -> Vec<Value> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let file = self.module_files[module as usize];
        if let Some(file) = file {
            let facts = self.files[file as usize].facts;
            let bindings = facts.scopes[0].bindings_of(name);
            if !bindings.is_empty() {
                return self.bindings_values(file, 0, bindings, depth);
            }
        }
        let full = format!("{}.{name}", self.module_names[module as usize]);
        if let Some(&m) = self.module_index.get(&full) {
            return vec![Value::Module(m)];
        }
        let Some(file) = file else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for star in &self.files[file as usize].facts.star_imports {
            match self.module_index.get(star.as_ref()) {
                Some(&m) if m != module => {
                    for v in self.module_attr(m, name, depth + 1) {
                        if !out.contains(&v) {
                            out.push(v);
                        }
                    }
                }
                _ => return Vec::new(),
            }
        }
        out
    }

    /// The values of a dotted path read in `scope`: modules' attributes and classes' nested
    /// classes are followed; anything else along the way is unknown.
    fn resolve_path(&self, file: u32, scope: u32, parts: &[&str], depth: u32) -> Vec<Value> {
        let Some((first, rest)) = parts.split_first() else {
            return Vec::new();
        };
        let mut values = self.resolve_name(file, scope, first, depth);
        for attr in rest {
            let [value] = values.as_slice() else {
                return Vec::new();
            };
            values = match *value {
                Value::Module(m) => self.module_attr(m, attr, depth + 1),
                Value::Class(c, true) => match self.class_attr(c, attr) {
                    Some(Found::Class(k)) => vec![Value::Class(k, true)],
                    _ => Vec::new(),
                },
                Value::External(h) => {
                    vec![Value::External(h ^ hash_name(attr).rotate_left(7))]
                }
                _ => Vec::new(),
            };
        }
        values
    }

    /// The definition an attribute of class `c` (or of its instances) names, looked up
    /// through the class's resolution order; `None` when not certain.
    fn class_attr(&self, c: ClassId, attr: &str) -> Option<Found> {
        let mro = self.classes[c as usize].mro.as_ref()?;
        for entry in mro {
            let Entry::Class(k) = *entry else {
                return None;
            };
            if let Some(found) = self.own_attr(k, attr) {
                return found;
            }
        }
        None
    }

    /// What class `k`'s own body binds `attr` to: `None` when it binds nothing,
    /// `Some(None)` when it binds it some way other than one `def`/`class`.
    fn own_attr(&self, k: ClassId, attr: &str) -> Option<Option<Found>> {
        let info = &self.classes[k as usize];
        let facts = self.files[info.file as usize].facts;
        let bindings = facts.scopes[info.scope as usize].bindings_of(attr);
        match bindings {
            [] => None,
            [(_, Binding::Def(start))] => Some(Some(
                match self.class_by_name[info.file as usize].get(start) {
                    Some(&nested) => Found::Class(nested),
                    None => Found::Function(info.file, *start),
                },
            )),
            _ => Some(None),
        }
    }

    /// Like [`Self::class_attr`] for the class or, unless `exact`, any subclass: every
    /// subclass must find the same definition (base classes outside the project, which a
    /// subclass may mix in, are assumed not to define project method names).
    fn attr_of_any(&self, c: ClassId, exact: bool, attr: &str) -> Option<Found> {
        if self.assigned.contains(attr) || self.defines_getattribute(c) {
            return None;
        }
        let found = self.class_attr(c, attr)?;
        if !exact {
            for &s in &self.classes[c as usize].subclasses {
                if self.subclass_attr(s, attr) != Some(found) {
                    return None;
                }
            }
        }
        Some(found)
    }

    /// A subclass's lookup, passing over bases outside the project.
    fn subclass_attr(&self, s: ClassId, attr: &str) -> Option<Found> {
        let mro = self.classes[s as usize].mro.as_ref()?;
        for entry in mro {
            if let Entry::Class(k) = *entry {
                if let Some(found) = self.own_attr(k, attr) {
                    return found;
                }
            }
        }
        None
    }

    fn defines_getattribute(&self, c: ClassId) -> bool {
        self.classes[c as usize].mro.as_ref().is_some_and(|mro| {
            mro.iter().any(
                |e| matches!(e, Entry::Class(k) if self.own_attr(*k, "__getattribute__").is_some()),
            )
        })
    }

    /// The `__init__` a call of class `c` runs (`Some(None)`: none, the constructor takes no
    /// arguments), when certain.
    fn constructor(&self, c: ClassId) -> Option<Option<Found>> {
        let mro = self.classes[c as usize].mro.as_ref()?;
        for entry in mro {
            let Entry::Class(k) = *entry else {
                return None;
            };
            if self.classes[k as usize].special {
                return None;
            }
            if let Some(found) = self.own_attr(k, "__init__") {
                return found.map(Some);
            }
        }
        Some(None)
    }

    /// The constructor of `c` or, unless `exact`, of any of its subclasses, when all agree.
    fn constructor_of_any(&self, c: ClassId, exact: bool) -> Option<Option<Found>> {
        let found = self.constructor(c)?;
        if !exact {
            for &s in &self.classes[c as usize].subclasses {
                if self.constructor(s)? != found {
                    return None;
                }
            }
        }
        Some(found)
    }

    fn symbol(&self, file: u32, start: usize) -> Option<&'a Symbol> {
        self.symbols[file as usize].get(&start).copied()
    }

    fn class_symbol(&self, c: ClassId) -> Option<&'a Symbol> {
        let info = &self.classes[c as usize];
        let scope = &self.files[info.file as usize].facts.scopes[info.scope as usize];
        self.symbol(info.file, scope.name_start)
    }

    fn constructor_target(&self, c: ClassId, exact: bool) -> Option<Target<'a>> {
        let class = self.class_symbol(c)?;
        let function = match self.constructor_of_any(c, exact)? {
            Some(Found::Function(f, start)) => Some(self.symbol(f, start)?),
            Some(Found::Class(_)) => return None,
            None => None,
        };
        Some(Target {
            function,
            bound: true,
            class_name: Some(class.name.as_str()),
        })
    }

    /// A method looked up on a class or an instance, bound as Python binds it.
    fn method_target(&self, found: Found, on_instance: bool) -> Option<Target<'a>> {
        match found {
            Found::Class(k) => self.constructor_target(k, true),
            Found::Function(f, start) => {
                let symbol = self.symbol(f, start)?;
                let decorated = |d: &str| symbol.decorators.iter().any(|x| x == d);
                let bound = if decorated("staticmethod") {
                    false
                } else if decorated("classmethod") {
                    true
                } else {
                    on_instance
                };
                Some(Target {
                    function: Some(symbol),
                    bound,
                    class_name: None,
                })
            }
        }
    }

    /// The one project function or constructor a call of `file` reaches, if certain.
    pub(crate) fn target(&self, file: u32, scope: u32, callee: &Callee<'_>) -> Option<Target<'a>> {
        match callee {
            Callee::Path(path) => {
                let parts = path_parts(path)?;
                let (last, receiver) = parts.split_last()?;
                if receiver.is_empty() {
                    return match self.resolve_name(file, scope, last, 0).as_slice() {
                        [Value::Function(f, start)] => Some(Target {
                            function: Some(self.symbol(*f, *start)?),
                            bound: false,
                            class_name: None,
                        }),
                        [Value::Class(c, exact)] => self.constructor_target(*c, *exact),
                        _ => None,
                    };
                }
                match self.resolve_path(file, scope, receiver, 0).as_slice() {
                    [Value::Module(m)] => match self.module_attr(*m, last, 1).as_slice() {
                        [Value::Function(f, start)] => Some(Target {
                            function: Some(self.symbol(*f, *start)?),
                            bound: false,
                            class_name: None,
                        }),
                        [Value::Class(c, true)] => self.constructor_target(*c, true),
                        _ => None,
                    },
                    [Value::Class(c, exact)] => {
                        let found = self.attr_of_any(*c, *exact, last)?;
                        self.method_target(found, false)
                    }
                    [Value::Instance(c, exact)] => {
                        let found = self.attr_of_any(*c, *exact, last)?;
                        self.method_target(found, true)
                    }
                    _ => None,
                }
            }
            Callee::Super(attr) => {
                let facts = self.files[file as usize].facts;
                let function = facts.scopes.get(scope as usize)?;
                if function.kind != ScopeKind::Function {
                    return None;
                }
                let class = *self.class_of_scope[file as usize].get(&function.parent)?;
                let method = self.symbol(file, function.name_start)?;
                if method.decorators.iter().any(|d| d == "staticmethod")
                    || self.assigned.contains(attr)
                {
                    return None;
                }
                let after = |s: ClassId| -> Option<Found> {
                    let mro = self.classes[s as usize].mro.as_ref()?;
                    let at = mro.iter().position(|e| *e == Entry::Class(class))?;
                    for entry in &mro[at + 1..] {
                        let Entry::Class(k) = *entry else {
                            return None;
                        };
                        if let Some(found) = self.own_attr(k, attr) {
                            return found;
                        }
                    }
                    None
                };
                let found = after(class)?;
                for &s in &self.classes[class as usize].subclasses {
                    if after(s) != Some(found) {
                        return None;
                    }
                }
                let Found::Function(..) = found else {
                    return None;
                };
                self.method_target(found, true)
            }
        }
    }

    pub(crate) fn files(&self) -> &[ProjectFile<'a>] {
        &self.files
    }
}

/// What a class attribute names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Function(u32, usize),
    Class(ClassId),
}

fn is_keyword(base: &str) -> bool {
    base.starts_with("**")
        || base.starts_with('*')
        || base
            .split_once('=')
            .is_some_and(|(k, _)| super::facts::is_identifier(k.trim()))
}

/// C3 linearization of class `c` into `mros` (memoized; `Some(None)`: no consistent order,
/// or a cycle).
fn c3(
    c: ClassId,
    bases: &[Option<Vec<Entry>>],
    mros: &mut Vec<Option<Option<Vec<Entry>>>>,
    depth: u32,
) -> Option<Vec<Entry>> {
    if let Some(done) = &mros[c as usize] {
        return done.clone();
    }
    if depth > 200 {
        return None;
    }
    // Marks the class as in progress: a cycle finds `Some(None)`.
    mros[c as usize] = Some(None);
    let result = (|| {
        let own = bases[c as usize].as_ref()?;
        let mut seqs: Vec<Vec<Entry>> = Vec::new();
        for base in own {
            match base {
                Entry::Class(k) => seqs.push(c3(*k, bases, mros, depth + 1)?),
                Entry::Opaque(_) => seqs.push(vec![*base]),
            }
        }
        let mut out = vec![Entry::Class(c)];
        out.extend(c3_merge(seqs, own.clone())?);
        Some(out)
    })();
    mros[c as usize] = Some(result.clone());
    result
}
