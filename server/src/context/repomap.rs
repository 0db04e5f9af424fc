//! The repo map: the definitions of the whole workspace, ranked by how relevant they are to
//! what the user is working on, rendered as signature skeletons cut to a token budget.
//!
//! Files are the nodes of a graph. A reference in file A to a name that file B defines is an
//! edge from A to B, weighted so that references to rare names count more than references to
//! common ones, names defined in many places share their weight, and private and very short
//! names count less. PageRank, personalised towards the focus (the file and symbol being
//! edited), ranks the files; each file's rank is then shared among its definitions by how
//! much they are referenced. See `docs/context.md`.
//!
//! Names are resolved only as far as imports make certain: a name a file defines points at
//! its own definition; an imported name (also through re-exports and star imports) and
//! `module.name` for an imported workspace module point at the defining module; `obj.name`
//! may be any definition of `name`, and a bare name the file neither defines nor imports is
//! a builtin or a local variable and points nowhere.

use std::cmp::Ordering;
use std::ops::Range;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::analysis::display::render_signature;
use crate::analysis::outline::{Outline, Symbol, SymbolKind};
use crate::analysis::references::{RefKind, Reference, References};
use crate::context::tokens::{tokens_from_units, units};

/// One module of the workspace, as the repo map needs it.
#[derive(Debug, Clone)]
pub struct ModuleInput {
    /// Workspace-relative path with `/` separators, e.g. `src/shop/cart.py`.
    pub path: String,
    /// Built with the module's dotted name (`shop.cart`), which imports are resolved
    /// against and `Focus::symbol` names symbols by. With an empty module name, one is
    /// derived from the path (`src/` dropped).
    pub outline: Outline,
    /// The module's references, in document order (as `references` returns them).
    pub references: References,
}

/// What the user is working on. Both parts are optional; with neither, the ranking is plain
/// PageRank.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Focus {
    /// Workspace-relative path of the file being edited.
    pub path: Option<String>,
    /// Qualified name of the symbol being edited, e.g. `shop.cart.Cart.add`.
    pub symbol: Option<String>,
}

/// Ranks of files and scores of definitions for one focus, highest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    pub files: Vec<RankedFile>,
    pub symbols: Vec<RankedSymbol>,
    /// Power iterations PageRank took to converge.
    pub iterations: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RankedFile {
    pub path: String,
    /// The file's PageRank; the ranks of all files sum to 1.
    pub rank: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RankedSymbol {
    pub path: String,
    pub qualified_name: String,
    /// The share of its file's rank this definition gets.
    pub score: f64,
}

/// PageRank's damping factor: the chance of following an edge rather than jumping back to
/// the personalisation.
const DAMPING: f64 = 0.85;
/// PageRank stops when no rank moved by more than this in total (L1 distance).
const TOLERANCE: f64 = 1e-6;
const MAX_ITERATIONS: usize = 100;
/// With a focus, the share of the personalisation spread over all files anyway, so that the
/// files the focus does not reach are still ordered by their general importance.
const UNIFORM_SHARE: f64 = 0.1;
/// With a focus symbol, the share of the focused mass put on the files defining what the
/// symbol references (the rest goes to the focus file).
const FOCUS_SYMBOL_SHARE: f64 = 0.5;
/// How much less an attribute reference is believed when builtin types have a method of
/// that name: `line.strip()` is far more likely `str.strip` than a workspace method.
const BUILTIN_METHOD_CONFIDENCE: f64 = 0.1;
/// The public methods of `str`, `bytes`, `list`, `dict`, `set`, `tuple`, `int`, `float`,
/// files and regular expression patterns and matches, sorted.
#[rustfmt::skip]
const BUILTIN_METHODS: &[&str] = &[
    "add", "append", "as_integer_ratio", "bit_count", "bit_length", "capitalize", "casefold",
    "cast", "center", "clear", "close", "conjugate", "copy", "count", "decode", "detach",
    "difference", "difference_update", "discard", "encode", "end", "endswith", "expand",
    "expandtabs", "extend", "fileno", "find", "findall", "finditer", "flush", "format",
    "format_map", "from_bytes", "fromhex", "fromkeys", "fullmatch", "get", "getbuffer", "getvalue",
    "group", "groupdict", "groups", "hex", "index", "indices", "insert", "intersection",
    "intersection_update", "is_integer", "isalnum", "isalpha", "isascii", "isatty", "isdecimal",
    "isdigit", "isdisjoint", "isidentifier", "islower", "isnumeric", "isprintable", "isspace",
    "issubset", "issuperset", "istitle", "isupper", "items", "join", "keys", "ljust", "lower",
    "lstrip", "maketrans", "match", "partition", "pop", "popitem", "read", "read1", "readable",
    "readinto", "readinto1", "readline", "readlines", "release", "remove", "removeprefix",
    "removesuffix", "replace", "reverse", "rfind", "rindex", "rjust", "rpartition", "rsplit",
    "rstrip", "scanner", "search", "seek", "seekable", "setdefault", "sort", "span", "split",
    "splitlines", "start", "startswith", "strip", "sub", "subn", "swapcase",
    "symmetric_difference", "symmetric_difference_update", "tell", "title", "to_bytes", "tobytes",
    "tolist", "toreadonly", "translate", "truncate", "union", "update", "upper", "values",
    "writable", "write", "writelines", "zfill",
];
/// How far `from a import b` is followed through modules that re-export `b` from others.
const MAX_REEXPORT_HOPS: usize = 4;
/// Weight of the edge an `import module` makes to the module's file, on top of the edges of
/// the names used from it.
const MODULE_EDGE_WEIGHT: f64 = 1.0;
/// Name weights by shape: dunder names (`__init__`) are protocol, not design; private names
/// are mostly used where they are defined; very short names are ambiguous.
const DUNDER_WEIGHT: f64 = 0.1;
const PRIVATE_WEIGHT: f64 = 0.3;
const SHORT_WEIGHT: f64 = 0.2;
/// Names of at most this many characters are very short.
const SHORT_NAME: usize = 2;
/// Within a file, every definition gets this share of the file's mean referenced weight on
/// top of its own, so unreferenced definitions still rank, below referenced ones.
const UNREFERENCED_SHARE: f64 = 0.01;
/// Docstring first lines longer than this many characters are shortened.
const MAX_DOC_CHARS: usize = 100;
/// Decorators longer than this many characters are shown as their callee only.
const MAX_DECORATOR_CHARS: usize = 60;
/// Rendering gives up after this many definitions in a row did not fit the budget.
const MAX_MISSES: usize = 64;

/// A definition that can be referenced from elsewhere and shown in the map: a class, a
/// module-level function, or a method or class inside a class. Functions nested in functions
/// are neither.
#[derive(Debug, Clone)]
struct Def {
    file: u32,
    name: u32,
    /// Nesting depth: 0 at module level.
    depth: u16,
    parent: Option<u32>,
    /// Where the symbol is in its outline: indices into `symbols`, then `children`, ...,
    /// stored as a range of `RepoMap::paths`.
    path: Range<u32>,
}

/// Where the references of a file to one name point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum To {
    /// The file defines the name itself.
    Local,
    /// The name was imported, directly or through re-exports, from this workspace module,
    /// which defines it.
    Pinned(u32),
    /// Any file defining the name: a name imported from the workspace whose definition the
    /// imports do not lead to.
    Spread,
    /// Any file defining the name, as an attribute of an object of unknown type
    /// (`obj.name`): the least certain kind of reference.
    Member,
}

/// What a `from module import name` statement bound a name to, before re-exports are
/// followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binding {
    /// A workspace module, which may define the name or re-export it.
    Module(u32),
    /// A package of the workspace that has no file of its own (a namespace package).
    Workspace,
    /// A module outside the workspace: references to the name are not about the workspace.
    External,
}

/// What a file's import statements bind and name.
#[derive(Debug, Default)]
struct Imports {
    names: FxHashMap<u32, Binding>,
    /// Names bound to modules: `a` by `import a.b`, `sub` by `from pkg import sub`.
    module_aliases: FxHashMap<Box<str>, Binding>,
    /// Workspace modules imported with `from module import *`, in order.
    stars: Vec<u32>,
    /// Workspace modules named by `import module`, `from module import ...` and
    /// `from package import submodule`, once per mention.
    modules: Vec<u32>,
}

/// Where following a name through a module's definitions and imports ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provided {
    To(To),
    External,
    Unknown,
}

/// The references of a file to one name, gathered.
#[derive(Debug, Clone, Copy)]
struct Target {
    name: u32,
    to: To,
    /// The name's weight times the square root of the number of references: repeating a
    /// name in a file makes it more, but not proportionally more, important to the file.
    weight: f64,
}

/// One reference to a defined name, kept to find what a focus symbol references.
#[derive(Debug, Clone, Copy)]
struct RefEntry {
    start: u32,
    name: u32,
    to: To,
}

#[derive(Debug, Clone)]
struct File {
    path: String,
    outline: Outline,
    /// This file's definitions, a range of `RepoMap::defs` in pre-order.
    defs: Range<u32>,
    targets: Vec<Target>,
    /// `import module` edges to other files, with their weights.
    module_edges: Vec<(u32, f64)>,
    /// The sum of all target and module edge weights.
    total_weight: f64,
    /// References to defined names, by position.
    refs: Vec<RefEntry>,
}

/// The ranked definitions of a workspace, built once from all modules and then ranked and
/// rendered for any focus.
#[derive(Debug, Clone)]
pub struct RepoMap {
    /// Sorted by path.
    files: Vec<File>,
    defs: Vec<Def>,
    paths: Vec<u32>,
    names: Vec<Box<str>>,
    /// Per name: the definitions of it, in order.
    defs_by_name: Vec<Vec<u32>>,
    /// Per name: the files defining it, sorted, without repeats.
    files_by_name: Vec<Vec<u32>>,
    /// Per name: its weight (see `name_weight`).
    name_weights: Vec<f64>,
    /// Per file: the files with edges to it, with the weight divided by the source's total
    /// out-weight (the transition probability), sorted by source.
    incoming: Vec<Vec<(u32, f64)>>,
    /// Per file: whether it has no out-edges (its rank is redistributed by personalisation).
    dangling: Vec<bool>,
}

impl RepoMap {
    /// Builds the map. Modules are ordered by path; of two modules with the same path, the
    /// first is kept.
    pub fn new(mut modules: Vec<ModuleInput>) -> RepoMap {
        modules.sort_by(|a, b| a.path.cmp(&b.path));
        modules.dedup_by(|later, earlier| later.path == earlier.path);

        let mut map = RepoMap {
            files: Vec::with_capacity(modules.len()),
            defs: Vec::new(),
            paths: Vec::new(),
            names: Vec::new(),
            defs_by_name: Vec::new(),
            files_by_name: Vec::new(),
            name_weights: Vec::new(),
            incoming: Vec::new(),
            dangling: Vec::new(),
        };
        let mut interner: FxHashMap<Box<str>, u32> = FxHashMap::default();

        // Definitions first: which names are defined where decides what references mean.
        let mut all_references = Vec::with_capacity(modules.len());
        for module in modules {
            let file = map.files.len() as u32;
            let start = map.defs.len() as u32;
            map.collect_defs(file, &module.outline, &mut interner);
            let end = map.defs.len() as u32;
            map.files.push(File {
                path: module.path,
                outline: module.outline,
                defs: start..end,
                targets: Vec::new(),
                module_edges: Vec::new(),
                total_weight: 0.0,
                refs: Vec::new(),
            });
            all_references.push(module.references);
        }
        map.defs_by_name = vec![Vec::new(); map.names.len()];
        map.files_by_name = vec![Vec::new(); map.names.len()];
        for (index, def) in map.defs.iter().enumerate() {
            map.defs_by_name[def.name as usize].push(index as u32);
            let files = &mut map.files_by_name[def.name as usize];
            if files.last() != Some(&def.file) {
                files.push(def.file);
            }
        }

        let modules_by_name = map.module_index();
        // The top-level packages of the workspace, to tell its imports from others.
        let packages: FxHashSet<String> = modules_by_name
            .keys()
            .map(|m| m.split('.').next().unwrap_or(m).to_string())
            .collect();
        // What every file imports, before any reference is resolved: resolving follows
        // imports from file to file.
        let imports: Vec<Imports> = all_references
            .iter()
            .enumerate()
            .map(|(file, references)| {
                map.collect_imports(
                    file as u32,
                    references,
                    &interner,
                    &modules_by_name,
                    &packages,
                )
            })
            .collect();
        // Per name, the number of files referencing it, for the rarity weight.
        let mut referencing_files = vec![0u32; map.names.len()];
        let mut counts: Vec<(u32, To)> = Vec::new();
        let mut module_counts: Vec<u32> = Vec::new();
        for (file, references) in all_references.into_iter().enumerate() {
            let file = file as u32;
            counts.clear();
            module_counts.clear();
            module_counts.extend_from_slice(&imports[file as usize].modules);
            let refs = map.resolve_references(file, &references, &interner, &imports);
            for r in &refs {
                counts.push((r.name, r.to));
            }
            counts.sort_unstable();
            let mut targets: Vec<Target> = Vec::new();
            for run in counts.chunk_by(|a, b| a == b) {
                let (name, to) = run[0];
                targets.push(Target {
                    name,
                    to,
                    // The count for now; weighted once all files are known.
                    weight: run.len() as f64,
                });
            }
            let mut previous = None;
            for target in &targets {
                if previous != Some(target.name) {
                    referencing_files[target.name as usize] += 1;
                    previous = Some(target.name);
                }
            }
            module_counts.sort_unstable();
            let module_edges = module_counts
                .chunk_by(|a, b| a == b)
                .map(|run| (run[0], MODULE_EDGE_WEIGHT * (run.len() as f64).sqrt()))
                .collect();
            let entry = &mut map.files[file as usize];
            entry.targets = targets;
            entry.module_edges = module_edges;
            entry.refs = refs;
        }

        let file_count = map.files.len().max(1) as f64;
        map.name_weights = map
            .names
            .iter()
            .zip(&referencing_files)
            .map(|(name, &count)| name_weight(name, count, file_count))
            .collect();
        for file in &mut map.files {
            let mut total = 0.0;
            for target in &mut file.targets {
                target.weight = map.name_weights[target.name as usize]
                    * target.weight.sqrt()
                    * confidence(&map.names, &map.files_by_name, target.name, target.to);
                total += target.weight;
            }
            total += file.module_edges.iter().map(|(_, w)| w).sum::<f64>();
            file.total_weight = total;
        }
        map.build_graph();
        map
    }

    /// The number of modules in the map.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// The number of definitions (classes, functions, methods) in the map.
    pub fn definition_count(&self) -> usize {
        self.defs.len()
    }

    /// Ranks files and definitions for `focus`.
    pub fn rank(&self, focus: &Focus) -> Ranking {
        let ranked = self.rank_indices(focus);
        let mut files: Vec<u32> = (0..self.files.len() as u32).collect();
        files.sort_by(|&a, &b| {
            by_score_then_index(
                ranked.file_ranks[a as usize],
                ranked.file_ranks[b as usize],
                a,
                b,
            )
        });
        Ranking {
            files: files
                .into_iter()
                .map(|f| RankedFile {
                    path: self.files[f as usize].path.clone(),
                    rank: ranked.file_ranks[f as usize],
                })
                .collect(),
            symbols: ranked
                .order
                .iter()
                .map(|&d| RankedSymbol {
                    path: self.files[self.defs[d as usize].file as usize].path.clone(),
                    qualified_name: self.symbol(d).qualified_name.clone(),
                    score: ranked.scores[d as usize],
                })
                .collect(),
            iterations: ranked.iterations,
        }
    }

    /// Renders the highest-ranked definitions for `focus` as signature skeletons grouped by
    /// file, adding whole definitions while they fit in `budget_tokens` (by `estimate_tokens`).
    pub fn render(&self, focus: &Focus, budget_tokens: usize) -> String {
        self.render_excluding(focus, budget_tokens, &[])
    }

    /// Like `render`, leaving out the files at `excluded` paths (for example files whose text
    /// the prompt already carries). They still take part in the ranking.
    pub fn render_excluding(
        &self,
        focus: &Focus,
        budget_tokens: usize,
        excluded: &[&str],
    ) -> String {
        let ranked = self.rank_indices(focus);
        let mut renderer = Renderer::new(self, budget_tokens);
        let mut misses = 0;
        for &def in &ranked.order {
            if misses >= MAX_MISSES || renderer.is_full() {
                break;
            }
            let file = &self.files[self.defs[def as usize].file as usize];
            if excluded.contains(&file.path.as_str()) {
                continue;
            }
            if renderer.try_add(def) {
                misses = 0;
            } else {
                misses += 1;
            }
        }
        renderer.finish(&ranked.file_ranks)
    }

    /// Walks an outline and records its definitions in pre-order.
    fn collect_defs(
        &mut self,
        file: u32,
        outline: &Outline,
        interner: &mut FxHashMap<Box<str>, u32>,
    ) {
        // An explicit stack: symbols nest as deeply as the input says (up to the outline's
        // cap). Each entry is a symbol, its index path and its parent definition.
        let mut stack: Vec<(&Symbol, Vec<u32>, Option<u32>)> = outline
            .symbols
            .iter()
            .enumerate()
            .rev()
            .map(|(i, s)| (s, vec![i as u32], None))
            .collect();
        while let Some((symbol, path, parent)) = stack.pop() {
            let name = intern(interner, &mut self.names, &symbol.name);
            let index = self.defs.len() as u32;
            let start = self.paths.len() as u32;
            self.paths.extend_from_slice(&path);
            self.defs.push(Def {
                file,
                name,
                depth: u16::try_from(path.len() - 1).unwrap_or(u16::MAX),
                parent,
                path: start..self.paths.len() as u32,
            });
            // A function's nested definitions are its private business.
            if symbol.kind == SymbolKind::Class {
                for (i, child) in symbol.children.iter().enumerate().rev() {
                    let mut child_path = path.clone();
                    child_path.push(i as u32);
                    stack.push((child, child_path, Some(index)));
                }
            }
        }
    }

    /// The symbol of a definition.
    fn symbol(&self, def: u32) -> &Symbol {
        let def = &self.defs[def as usize];
        let outline = &self.files[def.file as usize].outline;
        let path = &self.paths[def.path.start as usize..def.path.end as usize];
        let mut symbols = &outline.symbols;
        let mut found = None;
        for &i in path {
            // Paths were recorded from this very outline, so every index is valid.
            let symbol = &symbols[i as usize];
            symbols = &symbol.children;
            found = Some(symbol);
        }
        found.expect("a definition's path is never empty")
    }

    /// Module names to files: each file's outline module name, or one derived from its path.
    fn module_index(&self) -> FxHashMap<String, u32> {
        let mut index = FxHashMap::default();
        for (i, file) in self.files.iter().enumerate() {
            let name = if file.outline.module.is_empty() {
                module_name_from_path(&file.path)
            } else {
                file.outline.module.clone()
            };
            index.entry(name).or_insert(i as u32);
        }
        index
    }

    /// What the import statements of `file` bind and name.
    fn collect_imports(
        &self,
        file: u32,
        references: &References,
        interner: &FxHashMap<Box<str>, u32>,
        modules: &FxHashMap<String, u32>,
        packages: &FxHashSet<String>,
    ) -> Imports {
        let entry = &self.files[file as usize];
        let own_module = if entry.outline.module.is_empty() {
            module_name_from_path(&entry.path)
        } else {
            entry.outline.module.clone()
        };
        let is_package =
            entry.path.ends_with("__init__.py") || entry.path.ends_with("__init__.pyi");
        let mut imports = Imports::default();
        // Where a module path points: a file, a workspace package without a file, or
        // outside the workspace.
        let binding_of = |module: &str| match modules.get(module) {
            Some(&target) => Binding::Module(target),
            None if packages.contains(module.split('.').next().unwrap_or(module)) => {
                Binding::Workspace
            }
            None => Binding::External,
        };
        // The module of the `from` statement being read: import references follow theirs.
        let mut from_module: Option<String> = None;
        // `import a.b` binds `a`, but a module reference followed by imported names was a
        // `from` statement, which binds nothing itself: the alias waits for the next
        // reference to tell.
        let mut pending_alias: Option<(String, Binding)> = None;
        for r in references {
            match r.kind {
                RefKind::Module => {
                    if let Some((alias, binding)) = pending_alias.take() {
                        imports.module_aliases.insert(alias.into(), binding);
                    }
                    let absolute = absolute_module(r.name, &own_module, is_package);
                    if let Some(&target) = absolute.as_deref().and_then(|m| modules.get(m)) {
                        if target != file {
                            imports.modules.push(target);
                        }
                    }
                    if !r.name.starts_with('.') {
                        let top = r.name.split('.').next().unwrap_or(r.name);
                        pending_alias = Some((top.to_string(), binding_of(top)));
                    }
                    from_module = absolute;
                }
                RefKind::Import => {
                    pending_alias = None;
                    let Some(module) = from_module.as_deref() else {
                        continue;
                    };
                    let source = modules.get(module).copied();
                    if r.name == "*" {
                        imports.stars.extend(source.filter(|&s| s != file));
                        continue;
                    }
                    // `from package import submodule` names a module, not a definition.
                    if let Some(&target) = modules.get(&format!("{module}.{}", r.name)) {
                        if target != file {
                            imports.modules.push(target);
                        }
                        imports
                            .module_aliases
                            .insert(r.name.into(), Binding::Module(target));
                        continue;
                    }
                    let Some(&name) = interner.get(r.name) else {
                        continue;
                    };
                    let binding = match binding_of(module) {
                        Binding::Module(source) if source == file => continue,
                        other => other,
                    };
                    imports.names.insert(name, binding);
                }
                _ => {}
            }
        }
        if let Some((alias, binding)) = pending_alias {
            imports.module_aliases.insert(alias.into(), binding);
        }
        imports
    }

    /// Decides where each reference of `file` points. References to names nothing in the
    /// workspace defines are dropped, and so are bare names the file neither defines nor
    /// imports: Python looks those up among the builtins (or they are local variables).
    fn resolve_references(
        &self,
        file: u32,
        references: &References,
        interner: &FxHashMap<Box<str>, u32>,
        imports: &[Imports],
    ) -> Vec<RefEntry> {
        let own = &imports[file as usize];
        let mut out = Vec::new();
        let mut previous: Option<Reference> = None;
        for r in references {
            let object = previous.replace(r.clone());
            if r.kind == RefKind::Module || r.name == "*" {
                continue;
            }
            let Some(&name) = interner.get(r.name) else {
                continue;
            };
            let provided = if self.defines(file, name) {
                Provided::To(To::Local)
            } else if r.kind == RefKind::Attribute {
                // `module.name`, when the reference just before is the bare name of an
                // imported module ending right before the dot, is found in that module.
                let module = object
                    .filter(|o| o.kind == RefKind::Name && o.range.end + 1 == r.range.start)
                    .and_then(|o| own.module_aliases.get(o.name));
                match module {
                    Some(&Binding::Module(source)) => {
                        self.provided_by(imports, source, name, MAX_REEXPORT_HOPS)
                    }
                    Some(Binding::Workspace) => Provided::To(To::Spread),
                    Some(Binding::External) => Provided::External,
                    // `obj.name` is not the `name` an import bound.
                    None => Provided::To(To::Member),
                }
            } else {
                match own.names.get(&name) {
                    Some(&Binding::Module(source)) => {
                        match self.provided_by(imports, source, name, MAX_REEXPORT_HOPS) {
                            // The module exists but how it gets the name is not visible.
                            Provided::Unknown => Provided::To(To::Spread),
                            other => other,
                        }
                    }
                    Some(Binding::Workspace) => Provided::To(To::Spread),
                    Some(Binding::External) => Provided::External,
                    None => own
                        .stars
                        .iter()
                        .map(|&star| self.provided_by(imports, star, name, MAX_REEXPORT_HOPS))
                        .find(|p| *p != Provided::Unknown)
                        .unwrap_or(Provided::Unknown),
                }
            };
            // Names from outside the workspace, bare names nothing binds (builtins, local
            // variables) and module attributes that are not definitions are left out.
            let Provided::To(to) = provided else {
                continue;
            };
            out.push(RefEntry {
                start: u32::try_from(r.range.start).unwrap_or(u32::MAX),
                name,
                to,
            });
        }
        out.sort_by_key(|r| r.start);
        out
    }

    /// Where `module` gets `name` from: its own definition, or, up to `hops` modules away,
    /// the module it imports the name from (by name or with `*`).
    fn provided_by(&self, imports: &[Imports], module: u32, name: u32, hops: usize) -> Provided {
        if self.defines(module, name) {
            return Provided::To(To::Pinned(module));
        }
        if hops == 0 {
            return Provided::Unknown;
        }
        let theirs = &imports[module as usize];
        match theirs.names.get(&name) {
            Some(&Binding::Module(next)) => {
                return match self.provided_by(imports, next, name, hops - 1) {
                    Provided::Unknown => Provided::To(To::Spread),
                    other => other,
                };
            }
            Some(Binding::Workspace) => return Provided::To(To::Spread),
            Some(Binding::External) => return Provided::External,
            None => {}
        }
        theirs
            .stars
            .iter()
            .map(|&star| self.provided_by(imports, star, name, hops - 1))
            .find(|p| *p != Provided::Unknown)
            .unwrap_or(Provided::Unknown)
    }

    /// Whether `file` defines `name`.
    fn defines(&self, file: u32, name: u32) -> bool {
        self.files_by_name[name as usize]
            .binary_search(&file)
            .is_ok()
    }

    /// The file graph: per file, its weighted out-edges (self-references excluded: a file's
    /// importance comes from others using it) and, for PageRank, the reverse.
    fn build_graph(&mut self) {
        let n = self.files.len();
        let mut edges = Vec::with_capacity(n);
        // A dense accumulator per source file, with the list of the entries touched.
        let mut weights = vec![0.0f64; n];
        let mut touched: Vec<u32> = Vec::new();
        for (source, file) in self.files.iter().enumerate() {
            let mut add = |target: u32, weight: f64| {
                if target as usize == source || weight <= 0.0 {
                    return;
                }
                if weights[target as usize] == 0.0 {
                    touched.push(target);
                }
                weights[target as usize] += weight;
            };
            for target in &file.targets {
                match target.to {
                    To::Local => {}
                    To::Pinned(definer) => add(definer, target.weight),
                    To::Spread | To::Member => {
                        let definers = &self.files_by_name[target.name as usize];
                        let share = target.weight / definers.len().max(1) as f64;
                        for &definer in definers {
                            add(definer, share);
                        }
                    }
                }
            }
            for &(target, weight) in &file.module_edges {
                add(target, weight);
            }
            touched.sort_unstable();
            let out: Vec<(u32, f64)> = touched.iter().map(|&t| (t, weights[t as usize])).collect();
            for &t in &touched {
                weights[t as usize] = 0.0;
            }
            touched.clear();
            edges.push(out);
        }

        let mut incoming: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
        let mut dangling = vec![true; n];
        for (source, out) in edges.iter().enumerate() {
            let total: f64 = out.iter().map(|(_, w)| w).sum();
            if total <= 0.0 {
                continue;
            }
            dangling[source] = false;
            for &(target, weight) in out {
                incoming[target as usize].push((source as u32, weight / total));
            }
        }
        self.incoming = incoming;
        self.dangling = dangling;
    }

    /// The focus file and focus definition, when they are in the map.
    fn resolve_focus(&self, focus: &Focus) -> (Option<u32>, Option<u32>) {
        let mut file = focus.path.as_deref().and_then(|path| {
            self.files
                .binary_search_by(|f| f.path.as_str().cmp(path))
                .ok()
                .map(|i| i as u32)
        });
        let symbol = focus.symbol.as_deref().and_then(|qualified| {
            let candidates = match file {
                Some(f) => self.files[f as usize].defs.clone(),
                None => 0..self.defs.len() as u32,
            };
            candidates
                .into_iter()
                .find(|&d| self.symbol(d).qualified_name == qualified)
        });
        if file.is_none() {
            file = symbol.map(|d| self.defs[d as usize].file);
        }
        (file, symbol)
    }

    /// What the focus definition references, gathered like a file's targets, and how sure
    /// those references are: the sum of their weights over the sum they would have if all
    /// were certain.
    fn focus_targets(&self, def: u32) -> (Vec<Target>, f64) {
        let file = &self.files[self.defs[def as usize].file as usize];
        let range = &self.symbol(def).range;
        let start = file
            .refs
            .partition_point(|r| (r.start as usize) < range.start);
        let mut counts: Vec<(u32, To)> = file.refs[start..]
            .iter()
            .take_while(|r| (r.start as usize) < range.end)
            .map(|r| (r.name, r.to))
            .collect();
        counts.sort_unstable();
        let mut certain = 0.0;
        let mut targets = Vec::new();
        for run in counts.chunk_by(|a, b| a == b) {
            let (name, to) = run[0];
            let weight = self.name_weights[name as usize] * (run.len() as f64).sqrt();
            certain += weight;
            targets.push(Target {
                name,
                to,
                weight: weight * confidence(&self.names, &self.files_by_name, name, to),
            });
        }
        let total: f64 = targets.iter().map(|t| t.weight).sum();
        let sureness = if certain > 0.0 { total / certain } else { 0.0 };
        (targets, sureness)
    }

    fn rank_indices(&self, focus: &Focus) -> Ranked {
        let n = self.files.len();
        if n == 0 {
            return Ranked {
                file_ranks: Vec::new(),
                scores: Vec::new(),
                order: Vec::new(),
                iterations: 0,
            };
        }
        let (focus_file, focus_def) = self.resolve_focus(focus);
        let (focus_targets, sureness) =
            focus_def.map(|d| self.focus_targets(d)).unwrap_or_default();

        // The personalisation: where the random surfer restarts.
        let uniform = 1.0 / n as f64;
        let mut personalisation = vec![uniform; n];
        // The mass put on the definitions the focus symbol references, which also feeds
        // their scores directly.
        let mut symbol_mass = 0.0;
        if let Some(focus_file) = focus_file {
            let mut focused = vec![0.0; n];
            let total: f64 = focus_targets.iter().map(|t| t.weight).sum();
            if total > 0.0 {
                // The less sure the symbol's references are, the more mass stays on its file.
                symbol_mass = FOCUS_SYMBOL_SHARE * sureness;
                focused[focus_file as usize] += 1.0 - symbol_mass;
                for target in &focus_targets {
                    let share = symbol_mass * target.weight / total;
                    self.spread_to_files(focus_file, target, share, &mut |f, amount| {
                        focused[f as usize] += amount;
                    });
                }
            } else {
                focused[focus_file as usize] = 1.0;
            }
            for (p, q) in personalisation.iter_mut().zip(&focused) {
                *p = UNIFORM_SHARE * uniform + (1.0 - UNIFORM_SHARE) * q;
            }
            symbol_mass *= 1.0 - UNIFORM_SHARE;
        }

        let (file_ranks, iterations) = self.pagerank(&personalisation);

        // How much rank flows into each definition: each file passes its rank to the
        // definitions it references in proportion to the weights of its references, and the
        // focus symbol passes the personalisation mass it holds.
        let mut inflow = vec![0.0f64; self.defs.len()];
        let mut name_flow = vec![0.0f64; self.names.len()];
        for (index, file) in self.files.iter().enumerate() {
            if file.total_weight <= 0.0 {
                continue;
            }
            let scale = file_ranks[index] / file.total_weight;
            for target in &file.targets {
                self.flow(
                    index as u32,
                    target,
                    scale * target.weight,
                    &mut inflow,
                    &mut name_flow,
                );
            }
        }
        if let Some(focus_file) = focus_file {
            let total: f64 = focus_targets.iter().map(|t| t.weight).sum();
            if total > 0.0 {
                for target in &focus_targets {
                    let amount = symbol_mass * target.weight / total;
                    self.flow(focus_file, target, amount, &mut inflow, &mut name_flow);
                }
            }
        }
        for (name, &amount) in name_flow.iter().enumerate() {
            if amount == 0.0 {
                continue;
            }
            let files = &self.files_by_name[name];
            let per_file = amount / files.len().max(1) as f64;
            for &f in files {
                self.flow_into_file(f, name as u32, per_file, &mut inflow);
            }
        }

        // Each file's rank, shared among its definitions by their inflow.
        let mut scores = vec![0.0f64; self.defs.len()];
        for (index, file) in self.files.iter().enumerate() {
            let defs = file.defs.start as usize..file.defs.end as usize;
            let count = defs.len();
            if count == 0 {
                continue;
            }
            let total: f64 = inflow[defs.clone()].iter().sum();
            let floor = if total > 0.0 {
                UNREFERENCED_SHARE * total / count as f64
            } else {
                1.0
            };
            let denominator = total + floor * count as f64;
            for d in defs {
                scores[d] = file_ranks[index] * (inflow[d] + floor) / denominator;
            }
        }

        let mut order: Vec<u32> = (0..self.defs.len() as u32).collect();
        order.sort_by(|&a, &b| by_score_then_index(scores[a as usize], scores[b as usize], a, b));
        Ranked {
            file_ranks,
            scores,
            order,
            iterations,
        }
    }

    /// Calls `to` with each file `target` (referenced from `source`) points at and its share
    /// of `amount`.
    fn spread_to_files(
        &self,
        source: u32,
        target: &Target,
        amount: f64,
        to: &mut impl FnMut(u32, f64),
    ) {
        match target.to {
            To::Local => to(source, amount),
            To::Pinned(file) => to(file, amount),
            To::Spread | To::Member => {
                let files = &self.files_by_name[target.name as usize];
                let share = amount / files.len().max(1) as f64;
                for &f in files {
                    to(f, share);
                }
            }
        }
    }

    /// Passes `amount` of rank from `source` along one target: straight into definitions for
    /// local and pinned targets, into `name_flow` (spread later, once per name) otherwise.
    fn flow(
        &self,
        source: u32,
        target: &Target,
        amount: f64,
        inflow: &mut [f64],
        name_flow: &mut [f64],
    ) {
        match target.to {
            To::Local => self.flow_into_file(source, target.name, amount, inflow),
            To::Pinned(file) => self.flow_into_file(file, target.name, amount, inflow),
            To::Spread | To::Member => name_flow[target.name as usize] += amount,
        }
    }

    /// Shares `amount` equally among the definitions of `name` in `file`.
    fn flow_into_file(&self, file: u32, name: u32, amount: f64, inflow: &mut [f64]) {
        let defs = &self.defs_by_name[name as usize];
        let file_defs = &self.files[file as usize].defs;
        let start = defs.partition_point(|&d| d < file_defs.start);
        let end = defs.partition_point(|&d| d < file_defs.end);
        let count = end - start;
        if count == 0 {
            return;
        }
        let share = amount / count as f64;
        for &d in &defs[start..end] {
            inflow[d as usize] += share;
        }
    }

    /// Personalised PageRank by power iteration. Returns the ranks and the iterations taken.
    fn pagerank(&self, personalisation: &[f64]) -> (Vec<f64>, usize) {
        let n = self.files.len();
        let mut ranks = personalisation.to_vec();
        let mut next = vec![0.0f64; n];
        let mut iterations = 0;
        while iterations < MAX_ITERATIONS {
            iterations += 1;
            // The rank of files without out-edges goes back to the personalisation, as if
            // they linked to it, so that no rank leaks away.
            let dangling: f64 = ranks
                .iter()
                .zip(&self.dangling)
                .filter(|(_, &d)| d)
                .map(|(r, _)| r)
                .sum();
            for (target, slot) in next.iter_mut().enumerate() {
                let inflow: f64 = self.incoming[target]
                    .iter()
                    .map(|&(source, p)| ranks[source as usize] * p)
                    .sum();
                *slot = DAMPING * (inflow + dangling * personalisation[target])
                    + (1.0 - DAMPING) * personalisation[target];
            }
            let change: f64 = ranks.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
            std::mem::swap(&mut ranks, &mut next);
            if change < TOLERANCE {
                break;
            }
        }
        (ranks, iterations)
    }
}

/// Ranks and scores for one focus, by index.
struct Ranked {
    file_ranks: Vec<f64>,
    scores: Vec<f64>,
    /// Definitions, best first.
    order: Vec<u32>,
    iterations: usize,
}

/// Descending by score; equal scores in index order, so that the order is total and stable.
fn by_score_then_index(score_a: f64, score_b: f64, a: u32, b: u32) -> Ordering {
    score_b.total_cmp(&score_a).then(a.cmp(&b))
}

fn intern(interner: &mut FxHashMap<Box<str>, u32>, names: &mut Vec<Box<str>>, name: &str) -> u32 {
    if let Some(&id) = interner.get(name) {
        return id;
    }
    let id = names.len() as u32;
    names.push(name.into());
    interner.insert(name.into(), id);
    id
}

/// How much a reference pointing `to` a name is believed: a name the file defines or
/// imports is certain; a name that could be any of `k` files' definitions is believed
/// `1/sqrt(k)`, on top of its weight being shared among them; an attribute named like a
/// method of the builtin types is believed less again.
fn confidence(names: &[Box<str>], files_by_name: &[Vec<u32>], name: u32, to: To) -> f64 {
    let ambiguity = || 1.0 / (files_by_name[name as usize].len().max(1) as f64).sqrt();
    match to {
        To::Local | To::Pinned(_) => 1.0,
        To::Spread => ambiguity(),
        To::Member => {
            let builtin = BUILTIN_METHODS
                .binary_search(&&*names[name as usize])
                .is_ok();
            ambiguity()
                * if builtin {
                    BUILTIN_METHOD_CONFIDENCE
                } else {
                    1.0
                }
        }
    }
}

/// How much a reference to `name` says about the relation between two files: more for names
/// few files reference (inverse document frequency), less for dunder, private and very short
/// names.
fn name_weight(name: &str, referencing_files: u32, file_count: f64) -> f64 {
    let rarity = (1.0 + file_count / f64::from(referencing_files.max(1))).ln();
    let shape = if name.len() > 4 && name.starts_with("__") && name.ends_with("__") {
        DUNDER_WEIGHT
    } else if name.starts_with('_') {
        PRIVATE_WEIGHT
    } else if name.chars().count() <= SHORT_NAME {
        SHORT_WEIGHT
    } else {
        1.0
    };
    rarity * shape
}

/// `pkg.mod` for `pkg/mod.py`, `pkg` for `pkg/__init__.py`, with a leading `src/` dropped.
/// Used when the outline carries no module name.
fn module_name_from_path(path: &str) -> String {
    let path = path.strip_prefix("src/").unwrap_or(path);
    let path = path
        .strip_suffix(".py")
        .or_else(|| path.strip_suffix(".pyi"))
        .unwrap_or(path);
    let path = path.strip_suffix("/__init__").unwrap_or(path);
    path.replace('/', ".")
}

/// The absolute module an import names: `.x` and `..x` are resolved against the importing
/// module (`own`, a package when `is_package`). `None` when the dots climb above the top.
fn absolute_module(name: &str, own: &str, is_package: bool) -> Option<String> {
    let dots = name.chars().take_while(|&c| c == '.').count();
    if dots == 0 {
        return Some(name.to_string());
    }
    let rest = &name[dots..];
    let mut package: Vec<&str> = if own.is_empty() {
        Vec::new()
    } else {
        own.split('.').collect()
    };
    if !is_package {
        package.pop()?;
    }
    for _ in 1..dots {
        package.pop()?;
    }
    if !rest.is_empty() {
        package.push(rest);
    }
    Some(package.join("."))
}

/// Builds the rendered text a definition at a time, keeping the exact estimate of the whole.
struct Renderer<'m> {
    map: &'m RepoMap,
    budget: usize,
    /// Per definition: whether it is shown.
    included: Vec<bool>,
    /// Per definition: its lines and their cost, computed when first needed.
    lines: Vec<Option<(String, u64)>>,
    /// Per file: the cost of its block (0 while it shows nothing).
    block_units: Vec<u64>,
    /// The cost of the files' blocks and the blank lines between them.
    total_units: u64,
    shown_files: usize,
    separator_units: u64,
}

impl<'m> Renderer<'m> {
    fn new(map: &'m RepoMap, budget: usize) -> Self {
        Renderer {
            map,
            budget,
            included: vec![false; map.defs.len()],
            lines: vec![None; map.defs.len()],
            block_units: vec![0; map.files.len()],
            total_units: 0,
            shown_files: 0,
            separator_units: units("\n"),
        }
    }

    /// Whether no more text can be added: the estimate has reached the budget.
    fn is_full(&self) -> bool {
        tokens_from_units(self.total_units) >= self.budget
    }

    /// Shows `def` (with its enclosing classes) if the result still fits the budget.
    fn try_add(&mut self, def: u32) -> bool {
        if self.included[def as usize] {
            return true;
        }
        let mut added = Vec::new();
        let mut next = Some(def);
        while let Some(d) = next {
            if self.included[d as usize] {
                break;
            }
            self.included[d as usize] = true;
            added.push(d);
            next = self.map.defs[d as usize].parent;
        }
        let file = self.map.defs[def as usize].file as usize;
        let old = self.block_units[file];
        let new = self.block_cost(file);
        let separator = if old == 0 && self.shown_files > 0 {
            self.separator_units
        } else {
            0
        };
        let total = self.total_units - old + new + separator;
        if tokens_from_units(total) <= self.budget {
            self.total_units = total;
            self.block_units[file] = new;
            if old == 0 {
                self.shown_files += 1;
            }
            true
        } else {
            for d in added {
                self.included[d as usize] = false;
            }
            false
        }
    }

    /// The cost of a file's block as it would be rendered now.
    fn block_cost(&mut self, file: usize) -> u64 {
        let map = self.map;
        let f = &map.files[file];
        let mut cost = units(&header(&f.path));
        let mut run_depth: Option<u16> = None;
        for d in f.defs.clone() {
            let depth = map.defs[d as usize].depth;
            if self.included[d as usize] {
                if let Some(depth) = run_depth.take() {
                    cost += units(&ellipsis(depth));
                }
                cost += self.def_lines(d).1;
            } else {
                run_depth = Some(run_depth.map_or(depth, |r| r.min(depth)));
            }
        }
        if let Some(depth) = run_depth {
            cost += units(&ellipsis(depth));
        }
        cost
    }

    fn def_lines(&mut self, def: u32) -> &(String, u64) {
        let map = self.map;
        self.lines[def as usize].get_or_insert_with(|| {
            let text = definition_lines(map.symbol(def), map.defs[def as usize].depth);
            let cost = units(&text);
            (text, cost)
        })
    }

    /// The rendered text: the files that show anything, by rank, separated by blank lines.
    fn finish(mut self, file_ranks: &[f64]) -> String {
        let map = self.map;
        let mut files: Vec<u32> = (0..map.files.len() as u32)
            .filter(|&f| self.block_units[f as usize] > 0)
            .collect();
        files.sort_by(|&a, &b| {
            by_score_then_index(file_ranks[a as usize], file_ranks[b as usize], a, b)
        });
        let mut out = String::new();
        for (i, &file) in files.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let f = &map.files[file as usize];
            out.push_str(&header(&f.path));
            let mut run_depth: Option<u16> = None;
            for d in f.defs.clone() {
                let depth = map.defs[d as usize].depth;
                if self.included[d as usize] {
                    if let Some(depth) = run_depth.take() {
                        out.push_str(&ellipsis(depth));
                    }
                    out.push_str(&self.def_lines(d).0);
                } else {
                    run_depth = Some(run_depth.map_or(depth, |r| r.min(depth)));
                }
            }
            if let Some(depth) = run_depth {
                out.push_str(&ellipsis(depth));
            }
        }
        debug_assert_eq!(units(&out), self.total_units);
        out
    }
}

fn header(path: &str) -> String {
    format!("{path}:\n")
}

fn ellipsis(depth: u16) -> String {
    format!("{}...\n", indent(depth))
}

fn indent(depth: u16) -> String {
    "    ".repeat(usize::from(depth))
}

/// A definition's lines: its decorators, its `class` or `def` line, and the first line of
/// its docstring, at its nesting depth.
fn definition_lines(symbol: &Symbol, depth: u16) -> String {
    let pad = indent(depth);
    let mut out = String::new();
    for decorator in &symbol.decorators {
        out.push_str(&pad);
        out.push('@');
        out.push_str(&short_decorator(decorator));
        out.push('\n');
    }
    out.push_str(&pad);
    match &symbol.signature {
        Some(signature) if symbol.kind != SymbolKind::Class => {
            if symbol.is_async {
                out.push_str("async ");
            }
            out.push_str("def ");
            out.push_str(&symbol.name);
            out.push_str(&single_line(&render_signature(signature)));
        }
        _ => {
            out.push_str("class ");
            out.push_str(&symbol.name);
            if !symbol.bases.is_empty() {
                out.push('(');
                out.push_str(&single_line(&symbol.bases.join(", ")));
                out.push(')');
            }
        }
    }
    out.push_str(":\n");
    if let Some(first) = symbol
        .docstring
        .as_ref()
        .and_then(|d| d.text.lines().next())
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        out.push_str(&pad);
        out.push_str("    \"\"\"");
        out.push_str(&shorten(first, MAX_DOC_CHARS).replace("\"\"\"", "\\\"\\\"\\\""));
        out.push_str("\"\"\"\n");
    }
    out
}

/// A decorator as written, or only its callee (`app.route(...)`) when it is long.
fn short_decorator(decorator: &str) -> String {
    let decorator = single_line(decorator);
    if decorator.chars().count() <= MAX_DECORATOR_CHARS {
        return decorator;
    }
    match decorator.find('(') {
        Some(open) => format!("{}(...)", &decorator[..open]),
        None => shorten(&decorator, MAX_DECORATOR_CHARS),
    }
}

/// Text that spans lines in the source (a long signature, say) folded onto one line.
fn single_line(text: &str) -> String {
    if !text.contains('\n') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split('\n').enumerate() {
        let part = part.trim();
        if i > 0
            && !part.is_empty()
            && !out.ends_with(['(', '[', '{'])
            && !part.starts_with([')', ']', '}'])
        {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// `text` cut to at most `max` characters, with `...` marking the cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some(_) => {
            let keep = text
                .char_indices()
                .nth(max.saturating_sub(3))
                .map_or(text.len(), |(i, _)| i);
            format!("{}...", text[..keep].trim_end())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::outline::outline;
    use crate::analysis::parse::parse_str;
    use crate::analysis::references::references;
    use crate::context::tokens::estimate_tokens;

    fn module(path: &str, source: &str) -> ModuleInput {
        let tree = parse_str(source, None);
        ModuleInput {
            path: path.to_string(),
            outline: outline(&tree, source, &module_name_from_path(path)),
            references: references(&tree, source),
        }
    }

    fn map_of(files: &[(&str, &str)]) -> RepoMap {
        RepoMap::new(files.iter().map(|(p, s)| module(p, s)).collect())
    }

    fn focus(path: Option<&str>, symbol: Option<&str>) -> Focus {
        Focus {
            path: path.map(str::to_string),
            symbol: symbol.map(str::to_string),
        }
    }

    fn file_order(map: &RepoMap, focus: &Focus) -> Vec<String> {
        map.rank(focus).files.into_iter().map(|f| f.path).collect()
    }

    fn symbol_order(map: &RepoMap, focus: &Focus) -> Vec<String> {
        map.rank(focus)
            .symbols
            .into_iter()
            .map(|s| s.qualified_name)
            .collect()
    }

    /// The out-edges of a file with their transition probabilities, recovered from the
    /// incoming lists.
    fn edges_of(map: &RepoMap, source: usize) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for (target, incoming) in map.incoming.iter().enumerate() {
            for &(s, p) in incoming {
                if s as usize == source {
                    out.push((map.files[target].path.clone(), p));
                }
            }
        }
        out
    }

    const MODELS: &str = "\
class Product:
    \"\"\"A thing for sale.

    More detail that the map leaves out.
    \"\"\"

    def unit_price(self) -> int:
        return 1


class Customer:
    pass
";

    const PRICING: &str = "\
from .models import Product


def price_items(items: list[Product]) -> int:
    \"\"\"The total price of ``items``.\"\"\"
    return sum(item.unit_price() for item in items)


def _round(value):
    return value
";

    const CART: &str = "\
from .models import Customer, Product
from .pricing import price_items


class Cart:
    def __init__(self, customer: Customer) -> None:
        self.items: list[Product] = []

    def add(self, product: Product) -> None:
        self.items.append(product)

    def total(self) -> int:
        return price_items(self.items)
";

    const BANNER: &str = "\
def banner(text):
    return text.upper()
";

    fn shop() -> RepoMap {
        map_of(&[
            ("shop/models.py", MODELS),
            ("shop/pricing.py", PRICING),
            ("shop/cart.py", CART),
            ("shop/banner.py", BANNER),
        ])
    }

    #[test]
    fn the_most_used_file_ranks_first_without_a_focus() {
        let map = shop();
        assert_eq!(map.file_count(), 4);
        // Product, Product.unit_price, Customer, price_items, _round, Cart and its three
        // methods, banner.
        assert_eq!(map.definition_count(), 10);
        let order = file_order(&map, &Focus::default());
        assert_eq!(order[0], "shop/models.py");
        assert_eq!(order[1], "shop/pricing.py");
    }

    #[test]
    fn ranks_sum_to_one_and_converge() {
        let map = shop();
        for focus in [
            Focus::default(),
            focus(Some("shop/cart.py"), None),
            focus(None, Some("shop.cart.Cart.total")),
        ] {
            let ranking = map.rank(&focus);
            let sum: f64 = ranking.files.iter().map(|f| f.rank).sum();
            assert!((sum - 1.0).abs() < 1e-6, "{sum}");
            assert!(
                ranking.iterations < MAX_ITERATIONS,
                "{}",
                ranking.iterations
            );
            assert!(ranking.files.iter().all(|f| f.rank > 0.0));
        }
    }

    #[test]
    fn a_focus_file_ranks_first_and_pulls_up_what_it_uses() {
        let map = shop();
        assert_eq!(
            file_order(&map, &focus(Some("shop/cart.py"), None)),
            [
                "shop/cart.py",
                "shop/models.py",
                "shop/pricing.py",
                "shop/banner.py"
            ]
        );
        assert_eq!(
            file_order(&map, &focus(Some("shop/banner.py"), None))[0],
            "shop/banner.py"
        );
    }

    #[test]
    fn a_focus_symbol_puts_what_it_references_first() {
        let map = shop();
        let outside_cart = |order: &[String]| -> String {
            order
                .iter()
                .find(|s| !s.starts_with("shop.cart."))
                .cloned()
                .unwrap_or_default()
        };
        let total = symbol_order(
            &map,
            &focus(Some("shop/cart.py"), Some("shop.cart.Cart.total")),
        );
        assert_eq!(outside_cart(&total), "shop.pricing.price_items");

        // The same file, focused on another method: what `add` uses comes first instead.
        let add = symbol_order(
            &map,
            &focus(Some("shop/cart.py"), Some("shop.cart.Cart.add")),
        );
        assert_eq!(outside_cart(&add), "shop.models.Product");

        // The path may be left out: the symbol finds its file.
        assert_eq!(
            symbol_order(&map, &focus(None, Some("shop.cart.Cart.total"))),
            total
        );
    }

    #[test]
    fn an_unknown_focus_is_no_focus() {
        let map = shop();
        assert_eq!(
            map.rank(&focus(Some("elsewhere.py"), Some("nothing.here"))),
            map.rank(&Focus::default())
        );
    }

    #[test]
    fn imported_names_point_at_the_module_they_come_from() {
        // Both `a` and `b` define `helper`; `user` imports it from `a`.
        let map = map_of(&[
            ("a.py", "def helper():\n    pass\n"),
            ("b.py", "def helper():\n    pass\n"),
            ("user.py", "from a import helper\n\nhelper()\nhelper()\n"),
        ]);
        assert_eq!(edges_of(&map, 2), [("a.py".to_string(), 1.0)]);

        // A method call `obj.helper()` could mean either.
        let map = map_of(&[
            ("a.py", "def helper():\n    pass\n"),
            ("b.py", "def helper():\n    pass\n"),
            ("user.py", "obj.helper()\n"),
        ]);
        assert_eq!(
            edges_of(&map, 2),
            [("a.py".to_string(), 0.5), ("b.py".to_string(), 0.5)]
        );
    }

    #[test]
    fn a_name_a_file_defines_itself_points_at_its_own_definition() {
        let map = map_of(&[
            ("a.py", "def helper():\n    pass\n"),
            ("b.py", "def helper():\n    pass\n\nhelper()\n"),
        ]);
        assert!(edges_of(&map, 1).is_empty());
    }

    #[test]
    fn relative_and_package_imports_make_module_edges() {
        let map = map_of(&[
            (
                "pkg/__init__.py",
                "from . import tools\nfrom .core import Engine\n",
            ),
            ("pkg/core.py", "class Engine:\n    pass\n"),
            ("pkg/tools.py", "import pkg.core\n"),
        ]);
        let paths = |edges: Vec<(String, f64)>| -> Vec<String> {
            edges.into_iter().map(|(p, _)| p).collect()
        };
        assert_eq!(paths(edges_of(&map, 0)), ["pkg/core.py", "pkg/tools.py"]);
        assert_eq!(paths(edges_of(&map, 2)), ["pkg/core.py"]);
    }

    #[test]
    fn absolute_module_names() {
        assert_eq!(
            absolute_module("os.path", "pkg.mod", false).as_deref(),
            Some("os.path")
        );
        assert_eq!(
            absolute_module(".x", "pkg.mod", false).as_deref(),
            Some("pkg.x")
        );
        assert_eq!(absolute_module(".x", "pkg", true).as_deref(), Some("pkg.x"));
        assert_eq!(
            absolute_module("..x", "pkg.sub.mod", false).as_deref(),
            Some("pkg.x")
        );
        assert_eq!(
            absolute_module(".", "pkg.mod", false).as_deref(),
            Some("pkg")
        );
        assert_eq!(absolute_module("...x", "pkg.mod", false), None);
        assert_eq!(module_name_from_path("src/shop/cart.py"), "shop.cart");
        assert_eq!(module_name_from_path("shop/__init__.py"), "shop");
        assert_eq!(module_name_from_path("setup.py"), "setup");
    }

    #[test]
    fn rare_names_weigh_more_than_common_ones_and_private_and_short_names_less() {
        assert!(name_weight("price_items", 1, 100.0) > name_weight("price_items", 50, 100.0));
        assert!(name_weight("_round", 1, 100.0) < name_weight("round", 1, 100.0));
        assert!(name_weight("__init__", 1, 100.0) < name_weight("_round", 1, 100.0));
        assert!(name_weight("db", 1, 100.0) < name_weight("dbx", 1, 100.0));
    }

    #[test]
    fn a_name_defined_in_many_files_shares_its_weight() {
        // `common` is defined in three files, `rare_too` in one; `user` uses each once as an
        // attribute, which could mean any definition.
        let map = map_of(&[
            ("a.py", "def common():\n    pass\n"),
            ("b.py", "def common():\n    pass\n"),
            ("c.py", "def common():\n    pass\n"),
            ("d.py", "def rare_too():\n    pass\n"),
            ("user.py", "obj.common()\nobj.rare_too()\n"),
        ]);
        let edges = edges_of(&map, 4);
        let to = |path: &str| edges.iter().find(|(p, _)| p == path).map_or(0.0, |e| e.1);
        // Both names are referenced by one file of five, so they weigh the same; `common`'s
        // weight is split three ways, and a reference that could mean one of three is
        // believed `1/sqrt(3)` as much.
        let expected = 3.0 * 3f64.sqrt();
        assert!(
            (to("d.py") / to("a.py") - expected).abs() < 1e-9,
            "{edges:?}"
        );
        assert_eq!(to("a.py"), to("c.py"));
    }

    #[test]
    fn bare_names_nothing_binds_and_names_from_outside_are_not_references_to_the_workspace() {
        let map = map_of(&[
            (
                "a.py",
                "def helper():\n    pass\n\ndef other():\n    pass\n",
            ),
            // As far as `user` shows, `helper` is a builtin or a local variable, and `other`
            // comes from a package outside the workspace. `obj.helper` could be `a.helper`.
            (
                "user.py",
                "from thirdparty import other\n\nhelper()\nother()\nobj.helper\n",
            ),
        ]);
        let targets: Vec<(&str, To)> = map.files[1]
            .targets
            .iter()
            .map(|t| (&*map.names[t.name as usize], t.to))
            .collect();
        assert_eq!(targets, [("helper", To::Member)]);
    }

    #[test]
    fn attributes_of_imported_modules_are_found_in_those_modules() {
        let map = map_of(&[
            ("pkg/__init__.py", ""),
            ("pkg/a.py", "def run():\n    pass\n"),
            ("pkg/b.py", "def run():\n    pass\n"),
            // `a.run` is `pkg.a.run`; `sys.run` is outside the workspace; `obj.run` is any.
            (
                "user.py",
                "import sys\nfrom pkg import a\n\na.run()\nsys.run()\nobj.run()\n",
            ),
        ]);
        let user = map
            .files
            .iter()
            .position(|f| f.path == "user.py")
            .unwrap_or(0);
        let targets: Vec<To> = map.files[user].targets.iter().map(|t| t.to).collect();
        let a = map
            .files
            .iter()
            .position(|f| f.path == "pkg/a.py")
            .unwrap_or(0) as u32;
        assert_eq!(targets, [To::Pinned(a), To::Member]);
    }

    #[test]
    fn attributes_named_like_builtin_methods_are_believed_less() {
        let map = map_of(&[
            ("a.py", "class Text:\n    def strip(self):\n        pass\n    def shout(self):\n        pass\n"),
            ("user.py", "line.strip()\nline.shout()\n"),
        ]);
        let weights: Vec<(&str, f64)> = map.files[1]
            .targets
            .iter()
            .map(|t| (&*map.names[t.name as usize], t.weight))
            .collect();
        assert_eq!(weights[0].0, "strip");
        assert_eq!(weights[1].0, "shout");
        assert!((weights[0].1 / weights[1].1 - BUILTIN_METHOD_CONFIDENCE).abs() < 1e-12);
        assert!(
            BUILTIN_METHODS.windows(2).all(|w| w[0] < w[1]),
            "sorted for binary search"
        );
    }

    #[test]
    fn imports_are_followed_through_re_exports_and_star_imports() {
        let map = map_of(&[
            (
                "pkg/__init__.py",
                "from .api import *\nfrom .models import Product\n",
            ),
            ("pkg/api.py", "from .core import run\n"),
            ("pkg/core.py", "def run():\n    pass\n"),
            ("pkg/models.py", "class Product:\n    pass\n"),
            (
                "pkg/other.py",
                "def run():\n    pass\n\nclass Product:\n    pass\n",
            ),
            (
                "user.py",
                "from pkg import Product, run\n\nrun(Product())\n",
            ),
        ]);
        let user = map
            .files
            .iter()
            .position(|f| f.path == "user.py")
            .unwrap_or(0);
        let mut edges: Vec<String> = edges_of(&map, user).into_iter().map(|(p, _)| p).collect();
        edges.sort();
        // `pkg/__init__.py` is imported as a module; the names lead past it.
        assert_eq!(edges, ["pkg/__init__.py", "pkg/core.py", "pkg/models.py"]);
    }

    #[test]
    fn renders_signature_skeletons_grouped_by_file_in_rank_order() {
        // Focused on `Cart.total`, which uses `price_items`, which uses `Product`: the models
        // rank first because both other files use them.
        let map = shop();
        let text = map.render(
            &focus(Some("shop/cart.py"), Some("shop.cart.Cart.total")),
            10_000,
        );
        assert_eq!(
            text,
            "\
shop/models.py:
class Product:
    \"\"\"A thing for sale.\"\"\"
    def unit_price(self) -> int:
class Customer:

shop/pricing.py:
def price_items(items: list[Product]) -> int:
    \"\"\"The total price of ``items``.\"\"\"
def _round(value):

shop/cart.py:
class Cart:
    def __init__(self, customer: Customer) -> None:
    def add(self, product: Product) -> None:
    def total(self) -> int:

shop/banner.py:
def banner(text):
"
        );
    }

    #[test]
    fn omitted_definitions_leave_an_ellipsis() {
        let map = shop();
        let f = focus(Some("shop/cart.py"), Some("shop.cart.Cart.total"));
        let full = estimate_tokens(&map.render(&f, 10_000));
        // The smallest budget that shows `price_items` shows little else.
        let text = (1..full)
            .map(|budget| map.render(&f, budget))
            .find(|text| text.contains("def price_items"))
            .expect("some budget shows price_items");
        assert!(
            text.contains("shop/pricing.py:\ndef price_items(items: list[Product]) -> int:\n"),
            "{text}"
        );
        assert!(text.ends_with("...\n"), "{text}");
    }

    #[test]
    fn never_exceeds_the_budget() {
        let map = shop();
        let f = focus(Some("shop/cart.py"), Some("shop.cart.Cart.total"));
        let full = map.render(&f, 10_000);
        let full_tokens = estimate_tokens(&full);
        let mut previous = 0;
        for budget in 0..=full_tokens + 5 {
            let text = map.render(&f, budget);
            let tokens = estimate_tokens(&text);
            assert!(tokens <= budget, "budget {budget}: {tokens} tokens\n{text}");
            assert!(tokens >= previous, "more budget never shows less");
            previous = tokens;
        }
        assert_eq!(map.render(&f, full_tokens), full);
        assert_eq!(map.render(&f, 0), "");
    }

    #[test]
    fn excluded_files_are_left_out_of_the_text() {
        let map = shop();
        let f = focus(Some("shop/cart.py"), Some("shop.cart.Cart.total"));
        let text = map.render_excluding(&f, 10_000, &["shop/cart.py"]);
        assert!(!text.contains("shop/cart.py"), "{text}");
        assert!(text.starts_with("shop/models.py:\n"), "{text}");
    }

    #[test]
    fn the_order_of_the_input_does_not_matter() {
        let forward = shop();
        let backward = map_of(&[
            ("shop/banner.py", BANNER),
            ("shop/cart.py", CART),
            ("shop/pricing.py", PRICING),
            ("shop/models.py", MODELS),
        ]);
        for f in [
            Focus::default(),
            focus(Some("shop/pricing.py"), Some("shop.pricing.price_items")),
        ] {
            assert_eq!(forward.rank(&f), backward.rank(&f));
            assert_eq!(forward.render(&f, 60), backward.render(&f, 60));
        }
    }

    #[test]
    fn decorators_async_bases_and_nesting() {
        let source = "\
import functools


@functools.lru_cache(maxsize=128)
async def fetch(url: str) -> bytes:
    '''Fetch ``url``.'''


class Config(Base, metaclass=Meta):
    class Meta:
        ordering = [\"name\"]

    @property
    def name(self) -> str:
        def inner():
            pass
        return \"\"


@app.route(\"/a/very/long/path/that/goes/on\", methods=[\"GET\", \"POST\"], strict_slashes=False)
def view():
    pass
";
        let map = map_of(&[("app.py", source)]);
        assert_eq!(
            map.render(&Focus::default(), 1_000),
            "\
app.py:
@functools.lru_cache(maxsize=128)
async def fetch(url: str) -> bytes:
    \"\"\"Fetch ``url``.\"\"\"
class Config(Base, metaclass=Meta):
    class Meta:
    @property
    def name(self) -> str:
@app.route(...)
def view():
"
        );
    }

    #[test]
    fn multi_line_signatures_are_folded_onto_one_line() {
        let source = "def f(\n    a: int,\n    b: dict[\n        str, int\n    ] = {},\n) -> None:\n    pass\n";
        let map = map_of(&[("m.py", source)]);
        assert_eq!(
            map.render(&Focus::default(), 100),
            "m.py:\ndef f(a: int, b: dict[str, int] = {}) -> None:\n"
        );
    }

    #[test]
    fn empty_and_broken_input() {
        let empty = RepoMap::new(Vec::new());
        assert_eq!(empty.render(&Focus::default(), 100), "");
        assert!(empty.rank(&Focus::default()).files.is_empty());

        let broken = map_of(&[
            ("a.py", "def f(:\n    return g(\n"),
            ("b.py", "class ("),
            ("c.py", ""),
            ("d.py", "def g(): pass\n"),
        ]);
        let text = broken.render(&focus(Some("a.py"), None), 100);
        assert!(text.contains("d.py:\ndef g():"), "{text}");
    }
}
