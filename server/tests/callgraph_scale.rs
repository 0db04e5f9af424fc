//! Speed, memory and robustness of the call graph on a real code base, run by hand:
//!
//! ```text
//! CALLGRAPH_CORPUS=/path/to/django-5.1.4/django \
//!   cargo test --release -p tandem --test callgraph_scale -- --ignored --nocapture
//! ```
//!
//! Without `CALLGRAPH_CORPUS` it uses the standard library of the `python3` on the path.
//! It prints figures (no timing assertions: speed is measured by the benchmarks); it fails if
//! the analysis panics, if two solves from scratch of the same facts disagree, or if a graph
//! updated after an edit differs from a solve from scratch of the edited program (6 edits are
//! checked; `CALLGRAPH_CHECK_ALL=1` checks every one).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use tandem::analysis::callgraph::{
    extract_facts, CallGraph, ModuleFacts, ProgramAnalysis, SourceModule, UpdateKind,
};
use tandem::analysis::parse::parse_str;
use tandem::session::workspace::package_module_name;

/// The code base to read: `CALLGRAPH_CORPUS`, or else the standard library of `python3`; when
/// there is neither, says so (the test then passes without reading anything).
fn corpus() -> Option<PathBuf> {
    let dir = corpus_dir();
    if dir.is_none() {
        println!("no corpus: set CALLGRAPH_CORPUS");
    }
    dir
}

fn corpus_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("CALLGRAPH_CORPUS") {
        // A relative path is read from `server/` (cargo runs tests in the package's folder):
        // one meant from the repository root would silently measure nothing.
        let dir = PathBuf::from(dir);
        assert!(
            dir.is_dir(),
            "CALLGRAPH_CORPUS {} is not a folder (relative paths are read from {})",
            dir.display(),
            std::env::current_dir().map_or_else(|e| e.to_string(), |d| d.display().to_string())
        );
        return Some(dir);
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    let dir = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

/// A file read when needed.
struct Source(PathBuf);

impl Source {
    fn read(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default()
    }
}

fn python_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if p.is_dir() {
                if name != "site-packages" && name != "__pycache__" {
                    stack.push(p);
                }
            } else if name.ends_with(".py") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("VmRSS:") {
            let kb: f64 = rest
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .unwrap_or(0.0);
            return kb / 1024.0;
        }
    }
    0.0
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("VmHWM:") {
            let kb: f64 = rest
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .unwrap_or(0.0);
            return kb / 1024.0;
        }
    }
    0.0
}

/// A graph's edges, as a set to compare and diff.
fn edge_set(graph: &CallGraph) -> BTreeSet<(String, String)> {
    graph
        .edges()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[test]
#[ignore = "measures a real code base; run by hand"]
fn callgraph_on_a_real_code_base() {
    let Some(dir) = corpus() else {
        return;
    };
    let files = python_files(&dir);
    // Sources are read again when needed rather than kept: the server does not keep them.
    let sources: Vec<(PathBuf, Source)> = files
        .iter()
        .filter(|p| std::fs::read_to_string(p).is_ok())
        .map(|p| (p.clone(), Source(p.clone())))
        .collect();
    let lines: usize = sources.iter().map(|(_, s)| s.read().lines().count()).sum();
    println!(
        "corpus {}: {} files, {} lines",
        dir.display(),
        sources.len(),
        lines
    );

    let names: Vec<(String, bool)> = sources
        .iter()
        .map(|(p, _)| {
            let is_package = p.file_stem().is_some_and(|s| s == "__init__");
            (package_module_name(p).name, is_package)
        })
        .collect();
    // As the real pipeline does: each tree is dropped once its facts are extracted.
    let mut parse = std::time::Duration::ZERO;
    let mut extract = std::time::Duration::ZERO;
    let (mut outl, mut refs, mut dropt) = (
        std::time::Duration::ZERO,
        std::time::Duration::ZERO,
        std::time::Duration::ZERO,
    );
    let mut facts: Vec<ModuleFacts> = Vec::with_capacity(sources.len());
    let mut bytes = 0usize;
    for ((_, src), (name, is_package)) in sources.iter().zip(&names) {
        let src = src.read();
        bytes += src.len();
        let t = Instant::now();
        let tree = parse_str(&src, None);
        parse += t.elapsed();
        let t = Instant::now();
        facts.push(extract_facts(&SourceModule {
            name,
            is_package: *is_package,
            source: &src,
            tree: &tree,
        }));
        extract += t.elapsed();
        let t = Instant::now();
        std::hint::black_box(tandem::analysis::outline::outline(&tree, &src, name));
        outl += t.elapsed();
        let t = Instant::now();
        let shared: std::sync::Arc<str> = std::sync::Arc::from(src.as_str());
        std::hint::black_box(tandem::analysis::references::references_in(&tree, &shared));
        refs += t.elapsed();
        let t = Instant::now();
        drop(tree);
        dropt += t.elapsed();
    }
    println!(
        "outline {:.0} ms, references {:.0} ms, dropping trees {:.0} ms",
        outl.as_secs_f64() * 1e3,
        refs.as_secs_f64() * 1e3,
        dropt.as_secs_f64() * 1e3
    );
    let facts_bytes: usize = facts.iter().map(ModuleFacts::approximate_size).sum();
    let mut counts = [0usize; 8];
    for f in &facts {
        for (a, b) in counts.iter_mut().zip(f.counts()) {
            *a += b;
        }
    }
    println!(
        "facts: {} nodes, {} ops ({} copies), {} args, {} sites, {} definitions, {} strings ({} bytes)",
        counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], counts[7]
    );
    println!(
        "parsed in {:.0} ms, extracted in {:.0} ms; facts {:.1} MB; RSS now {:.0} MB (sources {:.0} MB, not kept)",
        parse.as_secs_f64() * 1e3,
        extract.as_secs_f64() * 1e3,
        facts_bytes as f64 / 1e6,
        rss_mb(),
        bytes as f64 / 1e6,
    );

    let mut program = ProgramAnalysis::new();
    for f in facts {
        program.set_module(f);
    }
    let t = Instant::now();
    let graph = program.graph();
    let solve = t.elapsed();
    let edges = graph.edges().count();
    println!("solver: {}", program.solver_stats());
    println!("{}", program.last_report());
    println!("public graph: {}", program.graph().memory_report());
    let graph = program.graph();
    println!(
        "parse {:.0} ms, extract {:.0} ms ({:.2}× parse), solve {:.0} ms; (extract + solve) / parse = {:.2}",
        parse.as_secs_f64() * 1e3,
        extract.as_secs_f64() * 1e3,
        extract.as_secs_f64() / parse.as_secs_f64(),
        solve.as_secs_f64() * 1e3,
        (extract + solve).as_secs_f64() / parse.as_secs_f64(),
    );
    println!(
        "graph: {} nodes, {} edges, {} call sites; RSS now {:.0} MB, peak {:.0} MB",
        graph.nodes().count(),
        edges,
        graph.call_sites().len(),
        rss_mb(),
        peak_rss_mb()
    );

    {
        let mut per_site: std::collections::BTreeMap<(String, usize, usize), usize> =
            Default::default();
        for cs in graph.call_sites() {
            *per_site
                .entry((cs.module.to_string(), cs.range.start, cs.range.end))
                .or_default() += 1;
        }
        let mut buckets = [0usize; 5];
        for &n in per_site.values() {
            let b = match n {
                1 => 0,
                2..=3 => 1,
                4..=10 => 2,
                11..=50 => 3,
                _ => 4,
            };
            buckets[b] += 1;
        }
        println!(
            "sites with callees: {} (1: {}, 2-3: {}, 4-10: {}, 11-50: {}, >50: {})",
            per_site.len(),
            buckets[0],
            buckets[1],
            buckets[2],
            buckets[3],
            buckets[4]
        );
    }
    if let Ok(probe) = std::env::var("CALLGRAPH_PROBE") {
        for name in probe.split(',') {
            let callers: Vec<String> = graph
                .callers_of(name)
                .iter()
                .map(|c| c.caller.to_string())
                .collect();
            let mut unique = callers.clone();
            unique.sort();
            unique.dedup();
            println!(
                "{name}: {} call sites in {} callers, e.g. {:?}",
                callers.len(),
                unique.len(),
                &unique[..unique.len().min(5)]
            );
            let callees: std::collections::BTreeSet<String> = graph
                .callees_of(name)
                .iter()
                .map(|c| c.callee.to_string())
                .collect();
            println!(
                "  calls {} distinct: {:?}",
                callees.len(),
                callees.iter().take(12).collect::<Vec<_>>()
            );
        }
    }
    if std::env::var("CALLGRAPH_DUMP").is_ok() {
        let mut per_site: std::collections::BTreeMap<(String, usize, usize), Vec<String>> =
            Default::default();
        for cs in graph.call_sites() {
            per_site
                .entry((cs.module.to_string(), cs.range.start, cs.range.end))
                .or_default()
                .push(cs.callee.to_string());
        }
        let mut v: Vec<_> = per_site.into_iter().collect();
        v.sort_by_key(|(_, c)| std::cmp::Reverse(c.len()));
        for ((m, a, b), callees) in v.iter().take(25) {
            let src = sources
                .iter()
                .zip(&names)
                .find(|(_, (n, _))| n == m)
                .map(|((_, s), _)| s.read().get(*a..*b).unwrap_or("").to_string())
                .unwrap_or_default();
            let src: String = src.chars().take(80).collect();
            println!(
                "{} callees at {m}:{a} `{src}`: {:?}",
                callees.len(),
                &callees[..callees.len().min(6)]
            );
        }
    }

    // Edits inside function bodies, in files spread over the corpus: a line added, and a
    // character typed into a name (then each undone). Every few edits the graph is checked
    // against a solve from scratch of the same facts.
    let mut current: Vec<ModuleFacts> = Vec::new();
    for ((_, src), (name, is_package)) in sources.iter().zip(&names) {
        let src = src.read();
        let tree = parse_str(&src, None);
        current.push(extract_facts(&SourceModule {
            name,
            is_package: *is_package,
            source: &src,
            tree: &tree,
        }));
    }
    if std::env::var("CALLGRAPH_CHECK_ALL").is_ok() {
        let mut scratch = ProgramAnalysis::new();
        for f in &current {
            scratch.set_module(f.clone());
        }
        let same = edge_set(scratch.graph()) == edge_set(program.graph());
        println!(
            "two solves from scratch agree: {same}; {}",
            program.solver_stats()
        );
        assert!(same, "two solves from scratch of the same facts disagree");
    }
    let mut times = Vec::new();
    let mut phases: Vec<(f64, f64, f64)> = Vec::new();
    let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
    let mut checked = 0;
    let mut mismatches = 0;
    let samples: usize = std::env::var("CALLGRAPH_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let step = (sources.len() / samples).max(1);
    let only = std::env::var("CALLGRAPH_ONLY").ok();
    let repeat: usize = if only.is_some() { 50 } else { 1 };
    for (i, (_, src)) in sources
        .iter()
        .enumerate()
        .step_by(if only.is_some() { 1 } else { step })
    {
        if only.as_ref().is_some_and(|m| *m != names[i].0) {
            continue;
        }
        let src = &src.read();
        let Some(body) = function_body_line(src) else {
            continue;
        };
        let mut added = src.clone();
        added.insert_str(body.start, "        _tandem_probe = len([])\n");
        let mut typed = src.clone();
        if let Some(at) = name_end_in(src, body.clone()) {
            typed.insert(at, 'x');
        }
        let rounds = [&added, src, &typed, src].repeat(repeat);
        for (round, text) in rounds.into_iter().enumerate() {
            let t = Instant::now();
            let tree = parse_str(text, None);
            let t_parse = t.elapsed();
            let f = extract_facts(&SourceModule {
                name: &names[i].0,
                is_package: names[i].1,
                source: text,
                tree: &tree,
            });
            let t_extract = t.elapsed();
            current[i] = f.clone();
            program.set_module(f);
            let _ = program.graph();
            times.push(t.elapsed().as_secs_f64() * 1e3);
            phases.push((
                t_parse.as_secs_f64() * 1e3,
                (t_extract - t_parse).as_secs_f64() * 1e3,
                (t.elapsed() - t_extract).as_secs_f64() * 1e3,
            ));
            let kind = program.last_update();
            *kinds.entry(format!("{kind:?}")).or_default() += 1;
            if kind == UpdateKind::Incremental
                && std::env::var("CALLGRAPH_WHY").is_ok()
                && (t.elapsed() - t_extract).as_secs_f64() > 0.008
            {
                println!(
                    "  slow update ({:.1} ms) after edit {round} of {}: {}",
                    (t.elapsed() - t_extract).as_secs_f64() * 1e3,
                    names[i].0,
                    program.last_report()
                );
            }
            if kind == UpdateKind::Full && std::env::var("CALLGRAPH_WHY").is_ok() {
                println!(
                    "  full solve after edit {round} of {}: {}",
                    names[i].0,
                    program.last_report()
                );
            }
            let check_all = std::env::var("CALLGRAPH_CHECK_ALL").is_ok();
            if (round == 2 && checked < 6) || check_all {
                checked += 1;
                let mut scratch = ProgramAnalysis::new();
                for f in &current {
                    scratch.set_module(f.clone());
                }
                let a = edge_set(program.graph());
                let b = edge_set(scratch.graph());
                if a != b {
                    mismatches += 1;
                    let mut diff = 0;
                    let mut shown = 0;
                    for edge in a.symmetric_difference(&b) {
                        diff += 1;
                        if shown < 8 && check_all {
                            shown += 1;
                            let what = if a.contains(edge) { "extra" } else { "missing" };
                            println!("    {what} {} -> {}", edge.0, edge.1);
                        }
                    }
                    println!(
                        "  mismatch after edit {round} in {} ({kind:?}): {diff} edges differ",
                        names[i].0
                    );
                    if check_all {
                        break;
                    }
                }
            }
        }
    }
    let column = |k: usize| {
        let mut v: Vec<f64> = phases.iter().map(|p| [p.0, p.1, p.2][k]).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        format!(
            "p50 {:.1} ms, p99 {:.1} ms",
            percentile(&v, 0.5),
            percentile(&v, 0.99)
        )
    };
    println!(
        "  of which: parse {}; extract {}; update the graph {}",
        column(0),
        column(1),
        column(2)
    );
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "edit a function body → graph: n {}, p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {kinds:?}; {checked} checked against a solve from scratch, {mismatches} differ",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or(0.0)
    );
    assert_eq!(
        mismatches, 0,
        "incremental updates must give the graph a solve from scratch gives"
    );
}

/// The first line of a function body nested in a class (8 spaces of indentation).
fn function_body_line(src: &str) -> Option<std::ops::Range<usize>> {
    let d = src.find("\n    def ")?;
    let colon = src[d + 1..].find(":\n")? + d + 1;
    let start = colon + 2;
    let end = src[start..].find('\n')? + start;
    src[start..end]
        .starts_with("        ")
        .then_some(start..end)
}

/// The end of the first name on a line that is not a keyword.
fn name_end_in(src: &str, line: std::ops::Range<usize>) -> Option<usize> {
    const KEYWORDS: &[&str] = &[
        "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
        "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with",
        "yield", "None", "True", "False",
    ];
    let text = &src[line.clone()];
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let Some(first) = rest.find(|c: char| c.is_alphabetic() || c == '_') else {
            break;
        };
        let start = i + first;
        let len = text[start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(text.len() - start);
        let word = &text[start..start + len];
        let in_string = text[..start].matches(['"', '\'']).count() % 2 == 1;
        if !KEYWORDS.contains(&word) && !in_string {
            return Some(line.start + start + len);
        }
        i = start + len;
    }
    None
}

/// The references walk reads the children of error-free nodes by their position, from what
/// the grammar guarantees about their layout; in a debug build (`cargo test`, not `--release`)
/// it checks every such read against a cursor's. Run this after upgrading tree-sitter-python:
/// `cargo test -p tandem --test callgraph_scale -- --ignored references_and_outline`
/// (`CALLGRAPH_CORPUS=DIR` for another code base than the standard library). Release builds,
/// which have no shape checks, leave it out.
#[cfg(debug_assertions)]
#[test]
#[ignore = "reads a real code base; run by hand after a grammar upgrade"]
fn references_and_outline_of_a_real_code_base_pass_the_shape_checks() {
    let Some(dir) = corpus() else {
        return;
    };
    let mut files = 0;
    let mut references = 0;
    for path in python_files(&dir) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let tree = parse_str(&text, None);
        let shared: std::sync::Arc<str> = std::sync::Arc::from(text.as_str());
        references += tandem::analysis::references::references_in(&tree, &shared).len();
        std::hint::black_box(tandem::analysis::outline::outline(&tree, &text, ""));
        files += 1;
    }
    println!("{files} files, {references} references");
    assert!(files > 0, "no Python file under {}", dir.display());
}
