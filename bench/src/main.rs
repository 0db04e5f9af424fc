//! Tandem's benchmarks. Each prints its figures and the ratios against a reference measured in
//! the same run, on the same machine.
//!
//! Usage: `scripts/bench [editing|index|doccheck|rules]` (builds the release binary first), or
//! `cargo run --release -p tandem-bench -- editing [--lines N] [--file PATH]`.

mod accuracy;
mod doccheck;
mod docfile;
mod editing;
mod index;
mod load;
mod model_server;
mod report;
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
        "latency" => load::run(rest),
        "accuracy" => accuracy::run(rest),
        "docfile" => docfile::run(rest),
        "report" => report::run(rest),
        "all" => {
            for name in report::SECTIONS {
                let status = std::process::Command::new(std::env::current_exe().expect("exe"))
                    .arg(name)
                    .status();
                if !status.is_ok_and(|s| s.success()) {
                    eprintln!("tandem-bench: `{name}` failed");
                }
            }
        }
        "index-memory-child" if rest.len() == 2 => index::child_memory(&rest[0], &rest[1]),
        other => {
            eprintln!(
                "tandem-bench: unknown benchmark `{other}` (known: accuracy, editing, latency, index, docfile, doccheck, rules, all, report)"
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

/// The value after `--name` in a benchmark's arguments, if given.
pub fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// The `tandem` binary built next to this one (`target/release/tandem`); when it is missing,
/// says so in the benchmark's output and returns `None`.
pub fn tandem_binary() -> Option<std::path::PathBuf> {
    let found = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("tandem")))
        .filter(|t| t.exists());
    if found.is_none() {
        println!("(the tandem binary is missing next to tandem-bench: run scripts/bench)");
    }
    found
}

/// The machine's python3 standard library folder.
pub fn stdlib_dir() -> Option<std::path::PathBuf> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    let dir = std::path::PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    dir.is_dir().then_some(dir)
}

/// Prints a target line for the report (`report` collects them into its summary table and
/// leaves them out of the section): the issue, what is measured, the measured value, the target,
/// and whether it is met (`None` when there is no pass/fail threshold).
pub fn target(issue: u32, what: &str, measured: &str, goal: &str, met: Option<bool>) {
    let verdict = match met {
        Some(true) => "met",
        Some(false) => "**not met**",
        None => "-",
    };
    println!(
        "{}{issue}|{what}|{measured}|{goal}|{verdict}",
        report::TARGET_PREFIX
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn flag_is_the_value_after_its_name() {
        let args: Vec<String> = ["--lines", "10", "--out"].map(String::from).to_vec();
        assert_eq!(super::flag(&args, "--lines"), Some("10"));
        assert_eq!(super::flag(&args, "--out"), None);
        assert_eq!(super::flag(&args, "--probes"), None);
    }
}
