//! The PyCG micro-benchmark (`shared/benchmarks/pycg-micro`: 119 small programs, each with its
//! expected call graph): every case analysed and compared edge by edge. Shared by the accuracy
//! test (`server/tests/pycg_micro.rs`, which fails below the targets) and the benchmark report.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::{extract_facts, to_pycg_json, ProgramAnalysis, SourceModule};
use crate::analysis::parse::parse_str;

type Edges = BTreeSet<(String, String)>;

/// The `.py` files under `dir`, with their module names (paths relative to the case folder,
/// dots for slashes; a package's `__init__.py` is named after its folder).
/// The case folders (`category/case`, holding `callgraph.json`) under `root`, sorted.
pub(crate) fn case_dirs(root: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = Vec::new();
    for category in fs::read_dir(root).into_iter().flatten().flatten() {
        let cat = category.path();
        if !cat.is_dir() {
            continue;
        }
        for case in fs::read_dir(&cat).into_iter().flatten().flatten() {
            if case.path().join("callgraph.json").is_file() {
                cases.push(case.path());
            }
        }
    }
    cases.sort();
    cases
}

pub(crate) fn case_modules(dir: &Path) -> Vec<(String, bool, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("py") {
                continue;
            }
            let rel = path.strip_prefix(dir).unwrap_or(&path);
            let mut parts: Vec<String> = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let is_package = parts.last().map(String::as_str) == Some("__init__");
            if is_package {
                parts.pop();
            }
            if parts.is_empty() {
                // The case folder's own `__init__.py` is not a module of the program.
                continue;
            }
            let source = fs::read_to_string(&path).unwrap_or_default();
            out.push((parts.join("."), is_package, source));
        }
    }
    out.sort();
    out
}

fn edges_of(json: &serde_json::Value) -> Edges {
    let mut edges = Edges::new();
    if let Some(map) = json.as_object() {
        for (caller, callees) in map {
            for callee in callees.as_array().into_iter().flatten() {
                if let Some(c) = callee.as_str() {
                    edges.insert((caller.clone(), c.to_string()));
                }
            }
        }
    }
    edges
}

fn analyse(dir: &Path) -> serde_json::Value {
    let mut program = ProgramAnalysis::new();
    for (name, is_package, source) in case_modules(dir) {
        let tree = parse_str(&source, None);
        let facts = extract_facts(&SourceModule {
            name: &name,
            is_package,
            source: &source,
            tree: &tree,
        });
        program.set_module(facts);
    }
    to_pycg_json(program.graph())
}

/// The targets of issue #3 over all cases (PyCG itself: 106 exact, precision 0.976, recall
/// 0.932): the accuracy test fails below them and the benchmark report prints them.
pub const MIN_PRECISION: f64 = 0.98;
pub const MIN_RECALL: f64 = 0.95;
pub const MIN_EXACT: usize = 110;

/// Edges right, wrong and missed over some cases.
#[derive(Default)]
pub struct Tally {
    pub cases: usize,
    pub exact: usize,
    pub right: usize,
    pub wrong: usize,
    pub missed: usize,
}

/// `part / whole`, or 1.0 when there is nothing to measure (no edge found or expected).
fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

impl Tally {
    pub fn precision(&self) -> f64 {
        share(self.right, self.right + self.wrong)
    }

    pub fn recall(&self) -> f64 {
        share(self.right, self.right + self.missed)
    }

    fn add(&mut self, other: &Tally) {
        self.cases += other.cases;
        self.exact += other.exact;
        self.right += other.right;
        self.wrong += other.wrong;
        self.missed += other.missed;
    }
}

/// The whole benchmark's result.
pub struct MicroReport {
    pub by_category: BTreeMap<String, Tally>,
    pub total: Tally,
    /// Every inexact case with its missing and extra edges, one per line.
    pub inexact: String,
}

impl MicroReport {
    /// The per-category table (markdown) with the totals and the edge counts.
    pub fn table(&self) -> String {
        let mut table = String::from(
            "| category | cases | exact | precision | recall |\n|---|---|---|---|---|\n",
        );
        for (category, t) in &self.by_category {
            table.push_str(&format!(
                "| {category} | {} | {} | {:.3} | {:.3} |\n",
                t.cases,
                t.exact,
                t.precision(),
                t.recall()
            ));
        }
        let total = &self.total;
        table.push_str(&format!(
            "| **all** | {} | {} | {:.3} | {:.3} |\n\nedges: {} right, {} wrong, {} missed\n",
            total.cases,
            total.exact,
            total.precision(),
            total.recall(),
            total.right,
            total.wrong,
            total.missed
        ));
        table
    }
}

/// Runs every case under `root` (category folders holding case folders with a
/// `callgraph.json`).
pub fn evaluate(root: &Path) -> Result<MicroReport, String> {
    if !root.is_dir() {
        return Err(format!("no benchmark at {}", root.display()));
    }
    fs::read_dir(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let cases = case_dirs(root);

    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut inexact = String::new();
    for case in &cases {
        let category = case
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = format!(
            "{category}/{}",
            case.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let expected_text =
            fs::read_to_string(case.join("callgraph.json")).map_err(|e| format!("{name}: {e}"))?;
        let expected: serde_json::Value =
            serde_json::from_str(&expected_text).map_err(|e| format!("{name}: {e}"))?;
        let expected = edges_of(&expected);
        let actual = edges_of(&analyse(case));
        let right = expected.intersection(&actual).count();
        let missing: Vec<_> = expected.difference(&actual).collect();
        let extra: Vec<_> = actual.difference(&expected).collect();
        let tally = by_category.entry(category).or_default();
        tally.cases += 1;
        tally.right += right;
        tally.missed += missing.len();
        tally.wrong += extra.len();
        if missing.is_empty() && extra.is_empty() {
            tally.exact += 1;
        } else {
            inexact.push_str(&format!("{name}\n"));
            for (a, b) in missing {
                inexact.push_str(&format!("    missing {a} -> {b}\n"));
            }
            for (a, b) in extra {
                inexact.push_str(&format!("    extra   {a} -> {b}\n"));
            }
        }
    }

    let mut total = Tally::default();
    for t in by_category.values() {
        total.add(t);
    }
    Ok(MicroReport {
        by_category,
        total,
        inexact,
    })
}
