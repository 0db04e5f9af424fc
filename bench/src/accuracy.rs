//! Call-graph accuracy on the PyCG micro-benchmark (`../shared/benchmarks/pycg-micro`, next to
//! the checkout): the same evaluation as the accuracy test, printed as a table with its targets.

use std::path::Path;

use tandem::analysis::callgraph::micro::{evaluate, MIN_EXACT, MIN_PRECISION, MIN_RECALL};

pub fn run(_args: &[String]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/benchmarks/pycg-micro");
    let report = match evaluate(&root) {
        Ok(report) => report,
        Err(e) => {
            println!("(the PyCG micro-benchmark is missing: {e})");
            return;
        }
    };
    println!(
        "{} cases; PyCG itself gets 106 exact, precision 0.976, recall 0.932 on the same cases.",
        report.total.cases
    );
    println!();
    println!("{}", report.table());
    if !report.inexact.is_empty() {
        println!("Inexact cases (missing and extra edges):");
        println!();
        println!("```");
        print!("{}", report.inexact);
        println!("```");
    }
    let t = &report.total;
    crate::target(
        3,
        "PyCG micro-benchmark: edge precision",
        &format!("{:.3}", t.precision()),
        &format!(">= {MIN_PRECISION}"),
        Some(t.precision() >= MIN_PRECISION),
    );
    crate::target(
        3,
        "PyCG micro-benchmark: edge recall",
        &format!("{:.3}", t.recall()),
        &format!(">= {MIN_RECALL}"),
        Some(t.recall() >= MIN_RECALL),
    );
    crate::target(
        3,
        "PyCG micro-benchmark: graphs exactly right",
        &format!("{} of {}", t.exact, t.cases),
        &format!(">= {MIN_EXACT}"),
        Some(t.exact >= MIN_EXACT),
    );
}
