//! Accuracy of the call graph on the PyCG micro-benchmark (119 small programs, each with its
//! expected call graph), compared edge by edge.
//!
//! Prints a per-category table (cases, graphs exactly right, edge precision and recall) and the
//! missing and extra edges of every inexact case, then fails below the targets: precision 0.98,
//! recall 0.95, 110 graphs exactly right. (PyCG itself: 106 exact, precision 0.976, recall
//! 0.932.)

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use tandem::analysis::callgraph::{extract_facts, to_pycg_json, ProgramAnalysis, SourceModule};
use tandem::analysis::parse::parse_str;

const MIN_PRECISION: f64 = 0.98;
const MIN_RECALL: f64 = 0.95;
const MIN_EXACT: usize = 110;

type Edges = BTreeSet<(String, String)>;

fn benchmark_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/benchmarks/pycg-micro")
}

/// The `.py` files under `dir`, with their module names (paths relative to the case folder,
/// dots for slashes; a package's `__init__.py` is named after its folder).
fn case_modules(dir: &Path) -> Vec<(String, bool, String)> {
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

#[derive(Default)]
struct Tally {
    cases: usize,
    exact: usize,
    right: usize,
    wrong: usize,
    missed: usize,
}

impl Tally {
    fn precision(&self) -> f64 {
        let found = self.right + self.wrong;
        if found == 0 {
            1.0
        } else {
            self.right as f64 / found as f64
        }
    }

    fn recall(&self) -> f64 {
        let expected = self.right + self.missed;
        if expected == 0 {
            1.0
        } else {
            self.right as f64 / expected as f64
        }
    }

    fn add(&mut self, other: &Tally) {
        self.cases += other.cases;
        self.exact += other.exact;
        self.right += other.right;
        self.wrong += other.wrong;
        self.missed += other.missed;
    }
}

#[test]
fn pycg_micro_benchmark() {
    let root = benchmark_dir();
    assert!(
        root.is_dir(),
        "the PyCG micro-benchmark is expected at {} (shared/benchmarks/pycg-micro next to the \
         repository checkout)",
        root.display()
    );
    let mut cases: Vec<PathBuf> = Vec::new();
    for category in fs::read_dir(&root)
        .expect("benchmark folder is readable")
        .flatten()
    {
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
    assert_eq!(cases.len(), 119, "the benchmark has 119 cases");

    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut report = String::new();
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
            fs::read_to_string(case.join("callgraph.json")).expect("callgraph.json is readable");
        let expected: serde_json::Value =
            serde_json::from_str(&expected_text).expect("callgraph.json is JSON");
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
            report.push_str(&format!("{name}\n"));
            for (a, b) in missing {
                report.push_str(&format!("    missing {a} -> {b}\n"));
            }
            for (a, b) in extra {
                report.push_str(&format!("    extra   {a} -> {b}\n"));
            }
        }
    }

    let mut total = Tally::default();
    let mut table =
        String::from("| category | cases | exact | precision | recall |\n|---|---|---|---|---|\n");
    for (category, t) in &by_category {
        table.push_str(&format!(
            "| {category} | {} | {} | {:.3} | {:.3} |\n",
            t.cases,
            t.exact,
            t.precision(),
            t.recall()
        ));
        total.add(t);
    }
    table.push_str(&format!(
        "| **all** | {} | {} | {:.3} | {:.3} |\n",
        total.cases,
        total.exact,
        total.precision(),
        total.recall()
    ));
    println!("{table}");
    println!(
        "edges: {} right, {} wrong, {} missed",
        total.right, total.wrong, total.missed
    );
    if !report.is_empty() {
        println!("inexact cases:\n{report}");
    }
    assert!(
        total.precision() >= MIN_PRECISION,
        "precision {:.3} is below {MIN_PRECISION}",
        total.precision()
    );
    assert!(
        total.recall() >= MIN_RECALL,
        "recall {:.3} is below {MIN_RECALL}",
        total.recall()
    );
    assert!(
        total.exact >= MIN_EXACT,
        "{} graphs exactly right, fewer than {MIN_EXACT}",
        total.exact
    );
}
