//! Builds and refreshes the project index from the workspace on disk.
//!
//! Reading files is I/O, so it lives here rather than in `analysis/`. The cold build reads and
//! analyses files on all cores (rayon), then inserts them into the `ProjectIndex` and solves the
//! call graph once. A file whose analysis panics (a bug, but the index must survive it) is
//! reported once and skipped.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::analysis::index::{analyze_file, analyze_tree, FileAnalysis, ProjectIndex};
use crate::session::config::WorkspaceConfig;
use crate::session::workspace::{
    discover_python_files, read_source, ModuleName, ModuleNamer, SkipReason, SourceRoots,
};

/// What a build did.
#[derive(Debug, Default)]
pub struct IndexReport {
    pub indexed: usize,
    pub lines: usize,
    pub skipped: Vec<(PathBuf, SkipReason)>,
    /// Files whose analysis failed, with the reason.
    pub failed: Vec<(PathBuf, String)>,
    pub analysis_time: Duration,
    pub graph_time: Duration,
}

/// Reads and analyses one file; `Err` explains why it was left out.
pub fn analyze_path(
    roots: &SourceRoots,
    path: &Path,
    config: &WorkspaceConfig,
) -> Result<FileAnalysis, String> {
    let text = read_source(path, config.max_file_size).map_err(|e| e.to_string())?;
    analyze_text(roots, path, &text)
}

/// `analyze_path` with the module named by `namer`, which remembers folders across files.
fn analyze_path_named(
    namer: &ModuleNamer<'_>,
    path: &Path,
    config: &WorkspaceConfig,
) -> Result<FileAnalysis, String> {
    let text = read_source(path, config.max_file_size).map_err(|e| e.to_string())?;
    analyze_module(&namer.module_of(path), &text, None)
}

/// Analyses a file's text (from disk or from the editor), catching a panic in the analysis.
pub fn analyze_text(roots: &SourceRoots, path: &Path, text: &str) -> Result<FileAnalysis, String> {
    analyze_text_with_tree(roots, path, text, None)
}

/// Like `analyze_text`, from the tree of `text` when the caller has one (an open document's,
/// kept current by incremental parsing), which saves parsing the file again.
pub fn analyze_text_with_tree(
    roots: &SourceRoots,
    path: &Path,
    text: &str,
    tree: Option<&tree_sitter::Tree>,
) -> Result<FileAnalysis, String> {
    analyze_module(&roots.module_of(path), text, tree)
}

/// Analyses the text of `module`, catching a panic in the analysis.
fn analyze_module(
    module: &ModuleName,
    text: &str,
    tree: Option<&tree_sitter::Tree>,
) -> Result<FileAnalysis, String> {
    catch_unwind(AssertUnwindSafe(|| match tree {
        Some(tree) => analyze_tree(&module.name, module.is_package, text, tree),
        None => analyze_file(&module.name, module.is_package, text),
    }))
    .map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        format!("analysis failed: {message}")
    })
}

/// Indexes the Python files under `folders` (workspace folders, or files and folders given on
/// the command line). `progress(done, total)` is called as files complete, from any thread.
pub fn build_index(
    folders: &[PathBuf],
    config: &WorkspaceConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> (ProjectIndex, IndexReport) {
    let found = discover_python_files(folders, config);
    let roots_of = |paths: &[PathBuf]| -> Vec<PathBuf> {
        paths
            .iter()
            .map(|p| {
                if p.is_file() {
                    p.parent().map(Path::to_path_buf).unwrap_or_default()
                } else {
                    p.clone()
                }
            })
            .collect()
    };
    let roots = SourceRoots::for_workspace(&roots_of(folders));
    build_index_of_files(&roots, found.files, found.skipped, config, progress)
}

/// Indexes exactly these files, naming modules from `roots`.
pub fn build_index_of_files(
    roots: &SourceRoots,
    files: Vec<PathBuf>,
    skipped: Vec<(PathBuf, SkipReason)>,
    config: &WorkspaceConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> (ProjectIndex, IndexReport) {
    let total = files.len();
    let done = AtomicUsize::new(0);
    let namer = ModuleNamer::new(roots);
    let started = Instant::now();
    // One file per task: rayon's default splitting hands each core long runs of files that
    // cannot be split once started, and one core sat idle at the end (Django's analysis took
    // 351 ms instead of 310, medians of 6 interleaved `TANDEM_BENCH_ONLY=Django tandem-bench
    // index` runs; the parse-only reference does not change with it). Largest files first, as
    // `tandem check` orders them, measured no better here.
    let results: Vec<(PathBuf, Result<FileAnalysis, String>)> = files
        .into_par_iter()
        .with_max_len(1)
        .map(|path| {
            let result = analyze_path_named(&namer, &path, config);
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            // Report every 1% or so; the callback sends a message to the editor.
            if n == total || n % (total / 100).max(1) == 0 {
                progress(n, total);
            }
            (path, result)
        })
        .collect();
    let analysis_time = started.elapsed();

    let mut index = ProjectIndex::new();
    let mut report = IndexReport {
        skipped,
        analysis_time,
        ..IndexReport::default()
    };
    for (path, result) in results {
        match result {
            Ok(analysis) => {
                report.indexed += 1;
                report.lines += analysis.lines;
                index.insert(path, analysis);
            }
            Err(reason) => report.failed.push((path, reason)),
        }
    }
    let started = Instant::now();
    index.graph();
    report.graph_time = started.elapsed();
    (index, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn builds_an_index_of_a_small_project_and_reports_skipped_files() {
        let root = std::env::temp_dir().join(format!("tandem-indexer-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("src/app")).unwrap();
        fs::write(root.join("pyproject.toml"), "[project]\nname = 'app'\n").unwrap();
        fs::write(root.join("src/app/__init__.py"), "from .core import run\n").unwrap();
        fs::write(
            root.join("src/app/core.py"),
            "def run():\n    return helper()\n\ndef helper():\n    return 1\n",
        )
        .unwrap();
        fs::write(root.join("src/app/broken.py"), "def f(:\n  pass\n").unwrap();
        fs::write(root.join("src/app/binary.py"), b"\0\x01\x02").unwrap();
        let calls = AtomicUsize::new(0);
        let (index, report) = build_index(
            std::slice::from_ref(&root),
            &WorkspaceConfig::default(),
            &|_, total| {
                assert_eq!(total, 4);
                calls.fetch_add(1, Ordering::Relaxed);
            },
        );
        assert_eq!(report.indexed, 3);
        assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
        assert!(report.failed[0].1.contains("NUL"), "{:?}", report.failed);
        assert!(calls.load(Ordering::Relaxed) >= 1);
        let core = index
            .path_of_module("app.core")
            .expect("app.core is indexed");
        let outline = index.file(core).unwrap().outline();
        let names: Vec<_> = outline.symbols.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["run", "helper"]);
        assert!(index.path_of_module("app").is_some());
        // A file with syntax errors is still indexed, with its errors noted.
        let broken = index
            .file(&root.join("src/app/broken.py"))
            .expect("broken.py is indexed");
        assert!(!broken.outline().syntax_errors.is_empty());
    }
}
