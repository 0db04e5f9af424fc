//! `tandem-bench report [--out PATH]`: runs every benchmark, each in its own process, and writes
//! `docs/benchmarks.md` from their output: a header saying when, on what and at which commit, a
//! table of every target with its verdict (collected from the benchmarks' target lines), then
//! each benchmark's figures under a short fixed description. Nothing in the file is written by
//! hand; the prose lives here.

use std::process::{Command, Stdio};
use std::time::Instant;

/// Lines starting with this are target verdicts, not part of a section's text.
pub const TARGET_PREFIX: &str = "@target ";

/// The benchmarks of the report, in order.
pub const SECTIONS: [&str; 6] = [
    "index", "editing", "latency", "docfile", "rules", "doccheck",
];

fn title_and_intro(section: &str) -> (&'static str, &'static str) {
    match section {
        "accuracy" => (
            "Call-graph accuracy: the PyCG micro-benchmark (issue 3)",
            "Every case of `../shared/benchmarks/pycg-micro` analysed and its call graph compared edge by edge with the expected one; the accuracy test (`cargo test -p tandem --test pycg_micro`) fails below the same targets.",
        ),
        "index" => (
            "Project index and call graph (issues 3 and 9)",
            "Cold index and call graph of Django 5.1.4 (`scripts/fetch-corpora`: its source from PyPI, the 879 files of `django/`) and of the machine's Python standard library (without `site-packages`), against tree-sitter parsing the same files on the same cores (medians of five alternated runs of each); peak memory of a child process that only builds the index; then edits in Django files, each brought back to a current index and call graph: one-line edits in function bodies, then edits that change what a module defines (a constant, an import, a new function); last, whole folders of Django taken out of the index and put back, one update each.",
        ),
        "editing" => (
            "Editing latency on a 5,000-line file (issues 2 and 6)",
            "A generated 5,000-line module: one character typed or deleted per sample, in process through the functions the handlers call, then over stdio against the release `tandem serve`, including the edit to published diagnostics (built-in rules and DOC checks).",
        ),
        "latency" => (
            "Editor latency alone and under load (issue 9)",
            "The release `tandem serve` over stdio, in a workspace (so the project index and the project rules TDM020/TDM021 run too), with a 5,000-line module open: each probe types one character into it and times `codeAction` and `documentSymbol` at that place and the `publishDiagnostics` for that version (the 150 ms debounce subtracted). Alone, then while four \"Document file\" runs stream their answers from a scripted model server on loopback and the client types 50 edits per second into a second open 5,000-line module.",
        ),
        "docfile" => (
            "Document file: throughput against the critical path (issue 9)",
            "",
        ),
        "rules" => (
            "`tandem check` against ruff (issues 6 and 9)",
            "`tandem check` with the built-in rules against `ruff check --no-cache --select E,F,B` (`scripts/ruff-venv`) on the same paths, both printing their findings; medians of interleaved runs in one process. The project pass (TDM020/TDM021) takes each file's scopes, bindings and call shapes from the same parse and resolves calls statically (imports, the class hierarchy, `self`/`super()`), without the index's call-graph facts or its points-to solve.",
        ),
        "doccheck" => (
            "`tandem check --select DOC` against pydoclint (issues 5 and 9)",
            "The DOC checks against pydoclint (`scripts/pydoclint-venv`) with the same options on Django 5.1.4, findings compared one by one.",
        ),
        _ => ("", ""),
    }
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Demotes markdown headings by one level, so that a section's own `##` nest under ours.
fn demote(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with('#') {
                format!("#{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn run(args: &[String]) {
    let out_path = crate::flag(args, "--out").unwrap_or("docs/benchmarks.md");
    let only: Vec<&str> = crate::flag(args, "--only")
        .map(|s| s.split(',').collect())
        .unwrap_or_else(|| SECTIONS.to_vec());
    let exe = std::env::current_exe().expect("current exe");
    let started = chrono_free_utc();
    let load_before = load_average();
    let commit = command_output("git", &["rev-parse", "--short", "HEAD"]);
    let dirty =
        !command_output("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
    let python = command_output("python3", &["--version"]);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());

    let mut targets: Vec<String> = Vec::new();
    let mut sections = String::new();
    for name in SECTIONS.iter().filter(|s| only.contains(s)) {
        eprintln!("tandem-bench report: running `{name}`");
        let t = Instant::now();
        let output = Command::new(&exe)
            .arg(name)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .expect("run a benchmark");
        let text = String::from_utf8_lossy(&output.stdout);
        let (title, intro) = title_and_intro(name);
        sections.push_str(&format!("## {title}\n\n"));
        if !intro.is_empty() {
            sections.push_str(&format!("{intro}\n\n"));
        }
        sections.push_str(&format!(
            "Command: `scripts/bench {name}` (ran {:.0} s{}).\n\n",
            t.elapsed().as_secs_f64(),
            if output.status.success() {
                String::new()
            } else {
                format!(", **exited with {:?}**", output.status.code())
            }
        ));
        let mut body = Vec::new();
        for line in text.lines() {
            match line.strip_prefix(TARGET_PREFIX) {
                Some(t) => targets.push(t.to_string()),
                None => body.push(line),
            }
        }
        sections.push_str(demote(body.join("\n").trim()).as_str());
        sections.push_str("\n\n");
    }

    let mut doc = String::from("# Benchmarks\n\n");
    doc.push_str("This file is generated: `scripts/bench report` fetches what the benchmarks need (the corpora, ruff and pydoclint in `bench/.venv`), builds the release binaries, runs every benchmark below in its own process and writes this file. Do not edit it by hand; the descriptions live in `bench/src/report.rs`, the measurements in the other files of `bench/src/`. One section alone: `scripts/bench NAME` prints it; `scripts/bench report --only NAME,...` writes a file with only those.\n\n");
    doc.push_str(&format!(
        "Run of {started} at commit `{commit}`{} on {cores} cores; load average {load_before} before and {} after; {python}. Ratios compare figures measured in the same run on the same machine; on a shared machine absolute times vary from run to run, the parallel columns most.\n\n",
        if dirty { " with uncommitted changes" } else { "" },
        load_average()
    ));
    doc.push_str(
        "## Targets\n\n| issue | measure | measured | target | verdict |\n|---|---|---|---|---|\n",
    );
    for t in &targets {
        let cells: Vec<&str> = t.split('|').collect();
        doc.push_str(&format!("| #{} |\n", cells.join(" | ")));
    }
    doc.push('\n');
    doc.push_str(&sections);
    let doc = doc.trim_end().to_string() + "\n";
    std::fs::write(out_path, doc).expect("write the report");
    eprintln!(
        "tandem-bench report: wrote {out_path} ({} targets)",
        targets.len()
    );
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`, from `date` (no clock crate needed).
fn chrono_free_utc() -> String {
    let d = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    if d.is_empty() {
        "an unknown time".to_string()
    } else {
        d
    }
}
