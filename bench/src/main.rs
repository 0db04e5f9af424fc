//! Tandem's benchmarks. Each prints its figures and the ratios against a reference measured in
//! the same run, on the same machine.
//!
//! Usage: `scripts/bench [editing|index|doccheck|rules]` (builds the release binary first), or
//! `cargo run --release -p tandem-bench -- editing [--lines N] [--file PATH]`.

mod doccheck;
mod editing;
mod index;
mod rules;

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("all");
    let rest = &args[1.min(args.len())..];
    match which {
        "editing" => editing::run(rest),
        "index" => index::run(rest),
        "doccheck" => doccheck::run(rest),
        "rules" => rules::run(rest),
        "all" => {
            editing::run(rest);
            index::run(rest);
            doccheck::run(rest);
            rules::run(rest);
        }
        "index-memory-child" if rest.len() == 2 => index::child_memory(&rest[0], &rest[1]),
        other => {
            eprintln!(
                "tandem-bench: unknown benchmark `{other}` (known: editing, index, doccheck, rules, all)"
            );
            std::process::exit(2);
        }
    }
}

/// Percentiles of a set of timings.
pub struct Summary {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub n: usize,
}

pub fn summarize(mut samples: Vec<Duration>) -> Summary {
    assert!(!samples.is_empty(), "no samples");
    samples.sort();
    let n = samples.len();
    let at = |q: f64| samples[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
    Summary {
        p50: at(0.50),
        p99: at(0.99),
        max: samples[n - 1],
        n,
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}
