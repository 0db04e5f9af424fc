//! Accuracy of the call graph on the PyCG micro-benchmark (119 small programs, each with its
//! expected call graph), compared edge by edge (`tandem::analysis::callgraph::micro`).
//!
//! Prints a per-category table (cases, graphs exactly right, edge precision and recall) and the
//! missing and extra edges of every inexact case, then fails below the targets (`micro::MIN_PRECISION`,
//! `MIN_RECALL`, `MIN_EXACT`).

use std::path::{Path, PathBuf};

use tandem::analysis::callgraph::micro::{evaluate, MIN_EXACT, MIN_PRECISION, MIN_RECALL};

fn benchmark_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/benchmarks/pycg-micro")
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
    let report = evaluate(&root).expect("the benchmark is readable");
    let total = &report.total;
    assert_eq!(total.cases, 119, "the benchmark has 119 cases");
    println!("{}", report.table());
    if !report.inexact.is_empty() {
        println!("inexact cases:\n{}", report.inexact);
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
