//! The project index: for every Python file of the workspace, its outline and the facts the
//! call graph is solved from, plus the call graph itself, kept current file by file.
//!
//! Pure: callers read files and hand in texts (`session::indexer` does that for the workspace).
//! Trees are not kept, only what is derived from them and the text, and outlines and texts
//! are kept packed (`packed_outline`, `stored_text`), so that the standard library's 1,800
//! files and their call graph fit in under 400 MB.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::analysis::callgraph::{
    extract_facts_of_flat, CallGraph, ModuleFacts, ProgramAnalysis, SourceModule,
};
use crate::analysis::flat::FlatTree;
use crate::analysis::outline::{outline_of_flat, Outline};
use crate::analysis::packed_outline::PackedOutline;
use crate::analysis::parse::parse_str;
use crate::analysis::references::{references_of_flat, ReferenceItems, References};
use crate::analysis::stored_text::StoredText;

/// What the index knows of one file.
#[derive(Debug, Clone)]
pub struct FileAnalysis {
    pub module: String,
    pub is_package: bool,
    /// The outline, packed as soon as it is made (see `packed_outline`): read it with
    /// `outline()`. Packed here, on the core that made it, its memory is reused at once by the
    /// next file's analysis; packed later, the freed strings and symbols stayed scattered
    /// among the facts and references kept from the same time (standard library peak 424-425
    /// rather than 398-399 MiB).
    outline: PackedOutline,
    /// The call-graph facts, until `ProjectIndex::insert` hands them to the solver (which keeps
    /// the only copy, so that they are not held twice).
    pub facts: Option<ModuleFacts>,
    /// The names the module uses, for the repo map's reference graph and the profile, without
    /// the text they are read from (`references()` puts the two together).
    references: ReferenceItems,
    pub lines: usize,
    pub bytes: usize,
    /// A hash of the text the analysis was computed from, to skip re-analysing unchanged text.
    pub content_hash: u64,
    /// A hash of what the file defines, by kind and qualified name (`names_hash`): an edit
    /// that keeps it changes no project-wide fact built from names alone.
    pub names_hash: u64,
    /// The text the analysis was computed from: every byte range above points into it. Kept
    /// (packed once `ProjectIndex::graph` has run, see `stored_text`) so that answers can
    /// quote code and convert ranges to positions without reading the disk again, which may
    /// have changed since.
    text: StoredText,
}

pub fn content_hash(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// A number no index of this process has had as a generation (0 is an empty index's).
fn next_generation() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A hash of the kinds and qualified names of an outline's symbols, in order (nesting shows in
/// the qualified names).
fn names_hash(outline: &Outline) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for symbol in outline.all_symbols() {
        std::mem::discriminant(&symbol.kind).hash(&mut hasher);
        symbol.qualified_name.hash(&mut hasher);
    }
    hasher.finish()
}

/// The number of lines of `text`, as `text.lines().count()` counts them (a last line without
/// a line break counts), by counting bytes, which vectorizes.
fn line_count(text: &str) -> usize {
    let breaks = text.bytes().filter(|&b| b == b'\n').count();
    breaks + usize::from(!text.is_empty() && !text.ends_with('\n'))
}

/// Parses and analyses one file. Costs one parse; the tree is dropped before returning.
pub fn analyze_file(module: &str, is_package: bool, text: &str) -> FileAnalysis {
    let tree = parse_str(text, None);
    analyze_tree(module, is_package, text, &tree)
}

/// Analyses one file from a tree of `text` the caller already has (an open document's tree,
/// kept current by incremental parsing), so that an edit does not pay for a full parse.
pub fn analyze_tree(
    module: &str,
    is_package: bool,
    text: &str,
    tree: &tree_sitter::Tree,
) -> FileAnalysis {
    let shared: Arc<str> = Arc::from(text);
    // One flat copy of the tree for the three walks (see `flat`).
    let flat = FlatTree::new(tree);
    let outline = outline_of_flat(tree, &flat, text, module);
    let references = references_of_flat(&flat, &shared);
    let facts = extract_facts_of_flat(
        &SourceModule {
            name: module,
            is_package,
            source: text,
            tree,
        },
        &flat,
    );
    drop(flat);
    FileAnalysis {
        module: module.to_string(),
        is_package,
        outline: PackedOutline::pack(&outline),
        names_hash: names_hash(&outline),
        facts: Some(facts),
        references: references.items().clone(),
        lines: line_count(text),
        bytes: text.len(),
        content_hash: content_hash(text),
        text: StoredText::new(shared),
    }
}

/// From how many new files `ProjectIndex::graph` packs their texts on other cores rather than
/// first.
const PACK_ALONGSIDE_FROM: usize = 64;

/// All files of the project and the call graph over them.
#[derive(Default)]
pub struct ProjectIndex {
    files: HashMap<PathBuf, FileAnalysis>,
    by_module: HashMap<String, PathBuf>,
    program: ProgramAnalysis,
    /// Files inserted since `graph` last packed their texts.
    unpacked: Vec<PathBuf>,
    /// Changes with every change (a file inserted or removed), so that results derived from
    /// the index can tell when they are out of date. Taken from a counter of the process
    /// (`next_generation`), so that an index built again to replace this one does not meet
    /// its numbers again.
    generation: u64,
    /// The same for the changes that changed what some file defines (see `names_hash`):
    /// inserted files whose names differ from those of the text they replace, and removed
    /// files.
    names_generation: u64,
}

impl std::fmt::Debug for ProjectIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectIndex")
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

impl ProjectIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a file. When two files claim the same module name (two workspace
    /// folders with the same layout, say), the first one keeps it and the second is indexed
    /// without taking part in the call graph.
    pub fn insert(&mut self, path: PathBuf, mut analysis: FileAnalysis) {
        self.generation = next_generation();
        let same_names = self.files.get(&path).is_some_and(|old| {
            old.names_hash == analysis.names_hash && old.module == analysis.module
        });
        if !same_names {
            self.names_generation = next_generation();
        }
        if let Some(old) = self.files.remove(&path) {
            if self.by_module.get(&old.module) == Some(&path) {
                self.by_module.remove(&old.module);
                self.program.remove_module(&old.module);
            }
        }
        match self.by_module.get(&analysis.module) {
            Some(owner) if owner != &path => {
                tracing::warn!(
                    "{} and {} are both module `{}`; only the first is in the call graph",
                    owner.display(),
                    path.display(),
                    analysis.module
                );
            }
            _ => {
                self.by_module.insert(analysis.module.clone(), path.clone());
                if let Some(facts) = analysis.facts.take() {
                    self.program.set_module(facts);
                }
            }
        }
        self.unpacked.push(path.clone());
        self.files.insert(path, analysis);
    }

    pub fn remove(&mut self, path: &Path) -> bool {
        let Some(old) = self.files.remove(path) else {
            return false;
        };
        self.generation = next_generation();
        self.names_generation = next_generation();
        if self.by_module.get(&old.module).map(PathBuf::as_path) == Some(path) {
            self.by_module.remove(&old.module);
            self.program.remove_module(&old.module);
        }
        true
    }

    /// Changes so far (see the field).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Changes so far to what the files define (see the field): a result built from the
    /// files' definition names alone stays true while this stays.
    pub fn names_generation(&self) -> u64 {
        self.names_generation
    }

    pub fn file(&self, path: &Path) -> Option<&FileAnalysis> {
        self.files.get(path)
    }

    pub fn path_of_module(&self, module: &str) -> Option<&Path> {
        self.by_module.get(module).map(PathBuf::as_path)
    }

    pub fn files(&self) -> impl Iterator<Item = (&Path, &FileAnalysis)> {
        self.files.iter().map(|(p, a)| (p.as_path(), a))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The call graph, solved for whatever changed since the last call.
    ///
    /// Also packs the texts of the files inserted since the last call (see `stored_text`): after a
    /// cold build, on the other cores while the solver runs, which is on one core for most of
    /// its time (so that a cold build does not wait for it, unlike packing each text as its
    /// file is analysed, which also gave 5 MiB less at the standard library's peak).
    pub fn graph(&mut self) -> &CallGraph {
        let unpacked = std::mem::take(&mut self.unpacked);
        if unpacked.len() < PACK_ALONGSIDE_FROM {
            for path in &unpacked {
                if let Some(file) = self.files.get_mut(path) {
                    file.text.pack();
                }
            }
            return self.program.graph();
        }
        let unpacked: HashSet<PathBuf> = unpacked.into_iter().collect();
        let mut texts: Vec<&mut StoredText> = self
            .files
            .iter_mut()
            .filter(|(path, _)| unpacked.contains(*path))
            .map(|(_, file)| &mut file.text)
            .collect();
        let program = &mut self.program;
        crate::release_free_pages();
        rayon::join(
            || {
                program.graph();
            },
            || {
                texts.par_iter_mut().for_each(|text| text.pack());
                crate::release_free_pages();
            },
        );
        self.program.solved_graph()
    }

    /// The call graph solved again from scratch (for benchmarks that compare an incremental
    /// update with a solve from scratch).
    #[doc(hidden)]
    pub fn solve_from_scratch(&mut self) -> &CallGraph {
        let _ = self.graph();
        self.program.solve_from_scratch()
    }

    /// The call graph as of the last `graph()` call (call that first to bring it up to date);
    /// borrowing the index immutably lets a reader use the graph and the files together
    /// without copying the graph.
    pub fn solved_graph(&self) -> &CallGraph {
        self.program.solved_graph()
    }

    /// Internal counts of the call-graph solver, for benchmarks.
    #[doc(hidden)]
    pub fn solver_stats(&self) -> String {
        self.program.solver_stats()
    }

    /// How the last `graph()` brought the graph up to date and what it did, for benchmarks.
    #[doc(hidden)]
    pub fn graph_update_report(&self) -> (crate::analysis::callgraph::UpdateKind, String) {
        (self.program.last_update(), self.program.last_report())
    }
}

impl FileAnalysis {
    /// The outline, unpacked on every call: keep it rather than asking again.
    pub fn outline(&self) -> Outline {
        self.outline.unpack()
    }

    /// The text the analysis was computed from (unpacked on every call once packed: keep the
    /// `Arc` rather than asking again).
    pub fn text(&self) -> Arc<str> {
        self.text.get()
    }

    /// The names the module uses, read from its text.
    pub fn references(&self) -> References {
        self.references.with_text(self.text())
    }

    /// The bytes the stored text takes (packed or not), for memory budgets.
    pub fn stored_text_bytes(&self) -> usize {
        self.text.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_generation_moves_only_when_what_a_file_defines_changes() {
        let mut index = ProjectIndex::new();
        let path = PathBuf::from("/p/m.py");
        index.insert(
            path.clone(),
            analyze_file("m", false, "def f():\n    return 1\n"),
        );
        let (names, all) = (index.names_generation(), index.generation());
        // A body edit, and a comment: the same definitions.
        index.insert(
            path.clone(),
            analyze_file("m", false, "def f():\n    return 2  # two\n"),
        );
        assert_eq!(index.names_generation(), names);
        assert_ne!(index.generation(), all);
        // A renamed, an added, a nested and a moved definition each change it.
        let mut last = names;
        for text in [
            "def g():\n    return 2\n",
            "def g():\n    return 2\n\ndef h():\n    pass\n",
            "def g():\n    def inner():\n        pass\n\ndef h():\n    pass\n",
            "class g:\n    def inner(self):\n        pass\n\ndef h():\n    pass\n",
        ] {
            index.insert(path.clone(), analyze_file("m", false, text));
            assert_ne!(index.names_generation(), last, "{text}");
            last = index.names_generation();
        }
        // The same text under another module name defines other qualified names.
        let text = "class g:\n    def inner(self):\n        pass\n\ndef h():\n    pass\n";
        index.insert(path.clone(), analyze_file("n", false, text));
        assert_ne!(index.names_generation(), last);
        last = index.names_generation();
        assert!(index.remove(&path));
        assert_ne!(index.names_generation(), last);
        // Another index never meets these numbers again.
        let mut other = ProjectIndex::new();
        other.insert(path, analyze_file("m", false, "def f():\n    return 1\n"));
        assert_ne!(other.names_generation(), names);
        assert_ne!(other.generation(), all);
    }

    #[test]
    fn symbols_at_finds_the_innermost_definition() {
        let text = "class A:\n    def m(self):\n        def inner():\n            pass\n        return 1\n\ndef f():\n    pass\n";
        let analysis = analyze_file("pkg.mod", false, text);
        let at = |needle: &str| {
            let offset = text.find(needle).unwrap();
            analysis
                .outline()
                .symbols_at(offset)
                .iter()
                .map(|s| s.qualified_name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            at("pass\n        return"),
            ["pkg.mod.A", "pkg.mod.A.m", "pkg.mod.A.m.inner"]
        );
        assert_eq!(at("return 1"), ["pkg.mod.A", "pkg.mod.A.m"]);
        assert_eq!(at("f():"), ["pkg.mod.f"]);
        assert!(at("\n\ndef f").is_empty());
    }

    #[test]
    fn line_count_counts_as_lines_does() {
        for text in ["", "\n", "a", "a\n", "a\nb", "a\r\nb\r\n", "\n\n", "é\n😀"] {
            assert_eq!(line_count(text), text.lines().count(), "{text:?}");
        }
    }

    #[test]
    fn an_index_keeps_one_owner_per_module_name() {
        let mut index = ProjectIndex::new();
        index.insert(
            PathBuf::from("/a/m.py"),
            analyze_file("m", false, "x = 1\n"),
        );
        index.insert(
            PathBuf::from("/b/m.py"),
            analyze_file("m", false, "y = 2\n"),
        );
        assert_eq!(index.path_of_module("m"), Some(Path::new("/a/m.py")));
        assert_eq!(index.len(), 2);
        assert!(index.remove(Path::new("/a/m.py")));
        assert_eq!(index.path_of_module("m"), None);
        assert!(!index.remove(Path::new("/a/m.py")));
    }

    /// What packing saves and costs on a corpus, the figures `stored_text` and
    /// `packed_outline` cite: `PACK_CORPUS=DIR cargo test --release -p tandem --lib
    /// packing_a_corpus -- --ignored --nocapture` (one core; `site-packages` left out).
    #[test]
    #[ignore = "measures a corpus; run by hand"]
    fn packing_a_corpus() {
        let Ok(dir) = std::env::var("PACK_CORPUS") else {
            println!("set PACK_CORPUS to a directory of Python files");
            return;
        };
        let config = crate::session::config::WorkspaceConfig {
            exclude: vec!["site-packages/".into()],
            ..Default::default()
        };
        let files =
            crate::session::workspace::discover_python_files(&[PathBuf::from(dir)], &config).files;
        let texts: Vec<String> = files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        let outlines: Vec<Outline> = texts
            .iter()
            .map(|t| crate::analysis::outline::outline(&parse_str(t, None), t, "m"))
            .collect();
        let started = std::time::Instant::now();
        let packed_texts: Vec<StoredText> = texts
            .iter()
            .map(|t| {
                let mut s = StoredText::new(Arc::from(t.as_str()));
                s.pack();
                s
            })
            .collect();
        let text_pack = started.elapsed();
        let started = std::time::Instant::now();
        let unpacked: usize = packed_texts.iter().map(|s| s.get().len()).sum();
        let text_unpack = started.elapsed();
        let started = std::time::Instant::now();
        let packed_outlines: Vec<PackedOutline> =
            outlines.iter().map(PackedOutline::pack).collect();
        let outline_pack = started.elapsed();
        let started = std::time::Instant::now();
        let symbols: usize = packed_outlines
            .iter()
            .map(|p| p.unpack().symbols.len())
            .sum();
        let outline_unpack = started.elapsed();
        let plain: usize = texts.iter().map(String::len).sum();
        assert_eq!(unpacked, plain);
        assert_eq!(
            symbols,
            outlines.iter().map(|o| o.symbols.len()).sum::<usize>()
        );
        let mb = |b: usize| b as f64 / 1e6;
        println!(
            "{} files: texts {:.1} MB -> {:.1} MB packed (pack {text_pack:?}, unpack {text_unpack:?}); outlines {:.1} MB packed (pack {outline_pack:?}, unpack {outline_unpack:?})",
            texts.len(),
            mb(plain),
            mb(packed_texts.iter().map(StoredText::heap_bytes).sum()),
            mb(packed_outlines.iter().map(PackedOutline::heap_bytes).sum()),
        );
    }

    /// `graph` packs the texts of new files, a few at once and many on other cores; the
    /// texts, and the references read from them, are the same afterwards.
    #[test]
    fn texts_are_packed_by_graph_and_read_back_unchanged() {
        let text = |i: usize| {
            format!(
                "import os.path\n\nclass Größe{i}:\n    def run(self):\n        return os.path.join('😀', str({i}))\n"
            )
            .repeat(8)
        };
        for files in [3, PACK_ALONGSIDE_FROM + 1] {
            let mut index = ProjectIndex::new();
            let mut before = Vec::new();
            for i in 0..files {
                let analysis = analyze_file(&format!("m{i}"), false, &text(i));
                let names: Vec<String> = analysis
                    .references()
                    .iter()
                    .map(|r| format!("{:?} {} {:?}", r.kind, r.name, r.range))
                    .collect();
                before.push(names);
                index.insert(PathBuf::from(format!("/p/m{i}.py")), analysis);
            }
            assert!(index.files().all(|(_, f)| !f.text.is_packed()));
            index.graph();
            for (i, before) in before.iter().enumerate() {
                let file = index.file(Path::new(&format!("/p/m{i}.py"))).unwrap();
                assert!(file.text.is_packed(), "{files} files: m{i} stays plain");
                assert!(file.stored_text_bytes() < file.bytes / 2);
                assert_eq!(&*file.text(), text(i));
                let names: Vec<String> = file
                    .references()
                    .iter()
                    .map(|r| format!("{:?} {} {:?}", r.kind, r.name, r.range))
                    .collect();
                assert_eq!(&names, before);
                assert!(names.iter().any(|n| n.starts_with("Module os.path")));
            }
            // A graph call with nothing new has nothing to pack.
            index.graph();
            assert!(index.unpacked.is_empty());
        }
    }

    /// Hostile shapes from real corpora (generated here): nothing may overflow the stack or
    /// stall. Test threads have small (2 MiB) stacks, so unbounded recursion would crash.
    #[test]
    fn deep_nesting_and_huge_lines_are_analysed_without_crashing() {
        let brackets = format!("x = {}1{}\n", "(".repeat(10_000), ")".repeat(10_000));
        let lists = format!("y = {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let mut ifs = String::new();
        for depth in 0..1_000 {
            ifs.push_str(&" ".repeat(depth));
            ifs.push_str("if x:\n");
        }
        ifs.push_str(&" ".repeat(1_000));
        ifs.push_str("f()\n");
        let mut defs = String::new();
        for depth in 0..500 {
            defs.push_str(&" ".repeat(depth));
            defs.push_str(&format!("def f{depth}():\n"));
        }
        defs.push_str(&" ".repeat(500));
        defs.push_str("return g()\n");
        let long_line = format!("z = [{}]\n", "1, ".repeat(300_000));
        let calls = format!("w = {}0{}\n", "f(".repeat(5_000), ")".repeat(5_000));
        for (name, text) in [
            ("brackets", brackets),
            ("lists", lists),
            ("ifs", ifs),
            ("defs", defs),
            ("long_line", long_line),
            ("calls", calls),
        ] {
            let analysis = analyze_file(name, false, &text);
            assert_eq!(analysis.bytes, text.len(), "{name}");
        }
    }
}
