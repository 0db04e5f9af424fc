//! Cold index and call graph of real corpora against tree-sitter parsing alone, on the same
//! files and the same cores; peak memory; and keeping the index current after one-line edits.
//!
//! Corpora: `scripts/fetch-corpora` puts Django 5.1.4 in `bench/corpora/django-5.1.4`; the
//! standard library is the machine's `python3`'s, without `site-packages`.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tandem::analysis::callgraph::{extract_facts, SourceModule, UpdateKind};
use tandem::analysis::index::{analyze_tree, ProjectIndex};
use tandem::analysis::outline::outline;
use tandem::analysis::parse::parse_str;
use tandem::analysis::references::references_in;
use tandem::session::config::WorkspaceConfig;
use tandem::session::documents::{Document, TextChange};
use tandem::session::indexer::{
    analyze_path, analyze_text, analyze_text_with_tree, build_index_of_files,
};
use tandem::session::position::{PositionEncoding, TextPosition};
use tandem::session::workspace::{discover_python_files, read_source, SourceRoots};

use crate::{ms, summarize};

pub struct Corpus {
    pub name: &'static str,
    /// The folder to index.
    pub dir: PathBuf,
    /// The folder module names count from.
    pub root: PathBuf,
}

pub fn corpora() -> Vec<Corpus> {
    let mut out = Vec::new();
    let django = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/django-5.1.4");
    if django.is_dir() {
        out.push(Corpus {
            name: "Django 5.1.4",
            dir: django.join("django"),
            root: django,
        });
    } else {
        println!("(Django is missing: run scripts/fetch-corpora)");
    }
    match crate::stdlib_dir() {
        Some(dir) => out.push(Corpus {
            name: "standard library",
            dir: dir.clone(),
            root: dir,
        }),
        _ => println!("(no python3 standard library found)"),
    }
    // `TANDEM_BENCH_ONLY=Django` (a prefix of a corpus' name) measures that corpus alone.
    if let Ok(only) = std::env::var("TANDEM_BENCH_ONLY") {
        out.retain(|c| c.name.starts_with(only.as_str()));
    }
    out
}

pub fn config() -> WorkspaceConfig {
    WorkspaceConfig {
        exclude: vec!["site-packages/".into()],
        ..WorkspaceConfig::default()
    }
}

fn files_of(corpus: &Corpus) -> Vec<PathBuf> {
    discover_python_files(std::slice::from_ref(&corpus.dir), &config()).files
}

/// Reads and parses every file on all cores, keeping nothing: the reference.
fn parse_only(files: &[PathBuf]) -> (Duration, usize) {
    let limit = config().max_file_size;
    let started = Instant::now();
    let lines: usize = files
        .par_iter()
        .map(|path| match read_source(path, limit) {
            Ok(text) => {
                let tree = parse_str(&text, None);
                std::hint::black_box(tree.root_node().child_count());
                text.lines().count()
            }
            Err(_) => 0,
        })
        .sum();
    (started.elapsed(), lines)
}

fn build(
    corpus: &Corpus,
    files: Vec<PathBuf>,
) -> (
    ProjectIndex,
    tandem::session::indexer::IndexReport,
    Duration,
) {
    let roots = SourceRoots::for_workspace(std::slice::from_ref(&corpus.root));
    let started = Instant::now();
    let (index, report) = build_index_of_files(&roots, files, Vec::new(), &config(), &|_, _| {});
    (index, report, started.elapsed())
}

/// Peak resident memory of this process so far, in MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// Current resident memory of this process, in MiB (Linux).
fn rss_mib() -> Option<f64> {
    status_mib("VmRSS:")
}

/// A memory figure of `/proc/self/status` (given in KiB there), in MiB.
fn status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Run in a child process so that the figure is the index's alone.
pub fn child_memory(dir: &str, root: &str) {
    let corpus = Corpus {
        name: "child",
        dir: PathBuf::from(dir),
        root: PathBuf::from(root),
    };
    let files = files_of(&corpus);
    if std::env::var_os("TANDEM_BENCH_MEMORY_STAGES").is_some() {
        memory_stages(&corpus, files);
        return;
    }
    let (index, _, _) = build(&corpus, files);
    std::hint::black_box(index.len());
    println!("{:.1}", peak_rss_mib().unwrap_or(f64::NAN));
}

/// The cold build step by step, with the time so far and resident and peak memory after each
/// step (to stderr):
/// `TANDEM_BENCH_MEMORY_STAGES=1 tandem-bench index-memory-child DIR ROOT`.
fn memory_stages(corpus: &Corpus, files: Vec<PathBuf>) {
    let started = Instant::now();
    let stage = |what: &str| {
        // The process's CPU time so far (both cores), to tell how busy the cores were.
        let cpu = {
            // SAFETY: `rusage` is plain data, valid all zero; `getrusage` only writes into it.
            let mut u: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: `u` is a valid, writable `rusage`.
            unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
            (u.ru_utime.tv_sec + u.ru_stime.tv_sec) as f64 * 1000.0
                + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) as f64 / 1000.0
        };
        eprintln!(
            "{what}: {:.0} ms (cpu {cpu:.0} ms), rss {:.0} MiB, peak {:.0} MiB",
            started.elapsed().as_secs_f64() * 1000.0,
            rss_mib().unwrap_or(f64::NAN),
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    };
    stage("start");
    let roots = SourceRoots::for_workspace(std::slice::from_ref(&corpus.root));
    let results: Vec<_> = files
        .par_iter()
        .with_max_len(1)
        .map(|path| analyze_path(&roots, path, &config()))
        .collect();
    stage("analysed");
    let mut index = ProjectIndex::new();
    for (path, result) in files.into_iter().zip(results) {
        if let Ok(analysis) = result {
            index.insert(path, analysis);
        }
    }
    stage("inserted");
    index.graph();
    stage("solved");
    eprintln!("{}", index.graph_update_report().1);
    eprintln!("{}", index.solver_stats());
    println!("{:.1}", peak_rss_mib().unwrap_or(f64::NAN));
}

fn memory_of(corpus: &Corpus) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe)
        .args(["index-memory-child"])
        .arg(&corpus.dir)
        .arg(&corpus.root)
        .output()
        .ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

/// Lines inside function bodies that can be changed without breaking the syntax: simple
/// statements that neither open nor continue a block or a bracket.
fn editable_lines(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        let indent = line.len() - line.trim_start().len();
        let simple = trimmed.starts_with("return ")
            || (trimmed.contains(" = ") && !trimmed.contains('"') && !trimmed.contains('\''));
        let closed = !trimmed.ends_with([':', ',', '(', '[', '{', '\\'])
            && trimmed.matches('(').count() == trimmed.matches(')').count();
        let continued = i > 0
            && lines[i - 1]
                .trim_end()
                .ends_with([',', '(', '[', '{', '\\']);
        if indent >= 8 && simple && closed && !continued && !trimmed.starts_with('#') {
            out.push(i);
        }
    }
    out
}

pub fn run(_args: &[String]) {
    println!("## Cold index and call graph");
    println!();
    println!("| corpus | files | lines | tree-sitter parse only | index + call graph | ratio | of which: analysis | call graph | peak memory (index alone) |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut django_index = None;
    for corpus in corpora() {
        let files = files_of(&corpus);
        // Warm the file cache so that neither run pays for the disk, then alternate the two
        // runs five times and take each one's median, so that both see the same machine (with
        // three, a slow stretch during the reference runs gave the standard library 1.93× in one
        // report and 2.29-2.52× in the three runs after it).
        let _ = parse_only(&files);
        let mut parse_times = Vec::new();
        let mut totals = Vec::new();
        let mut built = None;
        let mut lines = 0;
        for _ in 0..5 {
            let (parse_time, l) = parse_only(&files);
            parse_times.push(parse_time);
            lines = l;
            let (index, report, total) = build(&corpus, files.clone());
            totals.push(total);
            built = Some((index, report));
        }
        parse_times.sort();
        totals.sort();
        let (parse_time, total) = (parse_times[2], totals[2]);
        let (index, report) = built.expect("five runs");
        let mib = memory_of(&corpus);
        let memory = mib
            .map(|m| format!("{m:.0} MiB"))
            .unwrap_or_else(|| "n/a".into());
        println!(
            "| {} | {} | {} | {} | {} | {:.2}× | {} | {} | {} |",
            corpus.name,
            report.indexed,
            lines,
            ms(parse_time),
            ms(total),
            total.as_secs_f64() / parse_time.as_secs_f64(),
            ms(report.analysis_time),
            ms(report.graph_time),
            memory
        );
        let ratio = total.as_secs_f64() / parse_time.as_secs_f64();
        crate::target(
            3,
            &format!(
                "cold index + call graph / tree-sitter parse only, {}",
                corpus.name
            ),
            &format!("{ratio:.2}× ({} / {})", ms(total), ms(parse_time)),
            "<= 2×",
            Some(ratio <= 2.0),
        );
        if !corpus.name.starts_with("Django") {
            crate::target(
                3,
                &format!("peak memory of the index, {}", corpus.name),
                &mib.map_or("n/a".to_string(), |m| format!("{m:.0} MiB")),
                "< 400 MB (381 MiB)",
                mib.map(|m| m * 1024.0 * 1024.0 < 400e6),
            );
        }
        if !report.failed.is_empty() {
            println!();
            println!("{} files could not be analysed:", report.failed.len());
            for (path, reason) in &report.failed {
                println!("- {}: {reason}", path.display());
            }
            println!();
        }
        // The edits below run on Django, or on the corpus `TANDEM_BENCH_EDIT_CORPUS` names
        // (the start of its name, e.g. `standard`), without the target rows.
        let edited = std::env::var("TANDEM_BENCH_EDIT_CORPUS").unwrap_or_else(|_| "Django".into());
        if corpus.name.starts_with(edited.as_str()) {
            django_index = Some((corpus, index));
        }
    }
    println!();
    println!("Cores: {}. Both columns read the files (already in the page cache) and parse them on all cores.", rayon::current_num_threads());
    println!();
    steps();

    let Some((corpus, mut index)) = django_index else {
        return;
    };
    let roots = SourceRoots::for_workspace(std::slice::from_ref(&corpus.root));
    let files = files_of(&corpus);
    let mut samples = Vec::new();
    let mut cpu_samples = Vec::new();
    let mut k = 0usize;
    // `TANDEM_BENCH_CHECK=1`: compare the graph with a solve from scratch after each edit
    // and after putting the file back, as for the edits of interfaces below.
    let check = std::env::var_os("TANDEM_BENCH_CHECK").is_some();
    let (mut same, mut compared) = (0, 0);
    // `TANDEM_BENCH_EDIT_FILE=text`: only the files whose path contains `text`.
    let edit_file = std::env::var("TANDEM_BENCH_EDIT_FILE").ok();
    for i in 0..files.len() {
        if samples.len() == 200 {
            break;
        }
        let path = &files[(i * 7919) % files.len()];
        if !chosen(edit_file.as_deref(), path) {
            continue;
        }
        let Ok(text) = read_source(path, config().max_file_size) else {
            continue;
        };
        let candidates = editable_lines(&text);
        if candidates.is_empty() {
            continue;
        }
        k += 1;
        // `TANDEM_BENCH_EDIT_LINE=n` (with `TANDEM_BENCH_EDIT_FILE`): edit line n (from 1).
        let line = match std::env::var("TANDEM_BENCH_EDIT_LINE")
            .ok()
            .and_then(|l| l.parse::<usize>().ok())
        {
            Some(l) if edit_file.is_some() && l > 0 => l - 1,
            _ => candidates[(k * 31) % candidates.len()],
        };
        // A one-line edit: the statement gets an extra term (`x = y` becomes `x = y or 0`).
        // The editor sends it as a change at the end of the line; as in the server, the open
        // document applies it (rope edit, `Tree::edit`, incremental re-parse, counted in the
        // sample), then the file is analysed from the document's text and tree, the index
        // updated and the call graph re-solved.
        let line_text = text.lines().nth(line).unwrap_or_default();
        let end = TextPosition::new(line as u32, line_text.len() as u32);
        let (elapsed, cpu) = edit_and_update(&mut index, &roots, path, &text, end, " or 0");
        samples.push(elapsed);
        if let Some(cpu) = cpu {
            cpu_samples.push(cpu);
        }
        if std::env::var_os("TANDEM_BENCH_WHY").is_some() && elapsed.as_secs_f64() > 0.008 {
            let (kind, report) = index.graph_update_report();
            println!(
                "slow edit ({}, {} on the CPU) of {} line {}: {kind:?}: {report}",
                ms(elapsed),
                cpu.map(ms).unwrap_or_default(),
                path.display(),
                line + 1
            );
        }
        let mut check_against_scratch = |index: &mut ProjectIndex, after: &str| {
            if check {
                compared += 1;
                if same_as_from_scratch(index) {
                    same += 1;
                } else {
                    println!(
                        "differs from a solve from scratch after {after} of {} line {}",
                        path.display(),
                        line + 1
                    );
                }
            }
        };
        check_against_scratch(&mut index, "the one-line edit");
        // Put the original back so the next edit starts from the real corpus.
        put_back(&mut index, &roots, path, &text);
        check_against_scratch(&mut index, "undoing the one-line edit");
    }
    if check {
        println!(
            "One-line edits checked against solves from scratch (`TANDEM_BENCH_CHECK=1`): after {same} of {compared} edits and their undoing, the graph was the one a solve from scratch gives."
        );
        println!();
    }
    let s = summarize(samples);
    let place = if corpus.name.starts_with("Django") {
        "Django"
    } else {
        corpus.name
    };
    let targets = place == "Django";
    println!("## Keeping the index current ({place})");
    println!();
    println!("One-line edit in a function body (`x = y` → `x = y or 0`) in {} files spread over {place}; each sample is what the server does for the edit: the open document applies the change (rope edit, `Tree::edit`, incremental re-parse), the file is analysed from the document's text and tree, the index is updated and the call graph re-solved.", s.n);
    println!();
    println!("| n | p50 | p99 | max | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | p99 < 20 ms |",
        s.n,
        ms(s.p50),
        ms(s.p99),
        ms(s.max)
    );
    if targets {
        crate::target(
            3,
            "one-line edit in Django → index and graph current, p99 over 200",
            &ms(s.p99),
            "< 20 ms",
            Some(s.p99 < Duration::from_millis(20)),
        );
    }
    if cpu_samples.len() == s.n {
        // Wall time is the figure; the thread's own CPU time tells how much of it was waiting
        // for a core on a busy machine.
        let c = summarize(cpu_samples);
        println!();
        println!(
            "CPU time of the same samples (this thread's, `CLOCK_THREAD_CPUTIME_ID`): p50 {}, p99 {}, max {}.",
            ms(c.p50),
            ms(c.p99),
            ms(c.max)
        );
    }
    interface_edits(&roots, &files, &mut index, place);
    bulk_changes(&roots, &files, &mut index, place);
}

/// One update of many files (`bulk_changes`).
struct BulkUpdate {
    update: Duration,
    kind: UpdateKind,
    /// Why it solved from scratch, if it did (the report without the solve's timings).
    why: String,
    /// Whether its graph equals a solve from scratch (compared before that solve replaces it).
    same: bool,
    /// A solve from scratch of the same program.
    scratch: Duration,
}

impl BulkUpdate {
    fn measure(index: &mut ProjectIndex) -> BulkUpdate {
        let started = Instant::now();
        let _ = index.graph();
        let update = started.elapsed();
        let (kind, report) = index.graph_update_report();
        let why = report
            .split("; full solve")
            .next()
            .unwrap_or_default()
            .to_string();
        let same = same_as_from_scratch(index);
        let started = Instant::now();
        let _ = index.solve_from_scratch();
        BulkUpdate {
            update,
            kind,
            why,
            same,
            scratch: started.elapsed(),
        }
    }
}

/// Folders taken out of the index and put back in one update each (a branch checked out, a
/// folder copied in), against a solve from scratch of the same program, and checked equal to
/// it. `TANDEM_BENCH_BULK=text` takes the files whose path contains `text` instead.
fn bulk_changes(roots: &SourceRoots, files: &[PathBuf], index: &mut ProjectIndex, place: &str) {
    let folders: Vec<String> = match std::env::var("TANDEM_BENCH_BULK") {
        Ok(text) => vec![text],
        _ if place == "Django" => [
            "/contrib/humanize/",
            "/contrib/redirects/",
            "/contrib/postgres/",
            "/core/management/commands/",
        ]
        .map(String::from)
        .to_vec(),
        _ => ["/lib2to3/fixes/fix_i", "/test/test_a", "/email/"]
            .map(String::from)
            .to_vec(),
    };
    println!("## Many files at once ({place})");
    println!();
    println!("The files under a folder taken out of the index in one update, then put back in one update (analysed before the clock starts); each update against a solve from scratch of the program it leaves, and checked equal to it. Modules added join one at a time, each after those it imports, and modules removed leave one at a time, each after those that import it; modules that import each other in a cycle (a package whose `__init__.py` imports its submodules), a module the rest of the program imports, or more than 32 modules at once are solved from scratch instead.");
    println!();
    println!("| files under | files | taken out | solve from scratch | put back | solve from scratch | same as from scratch |");
    println!("|---|---|---|---|---|---|---|");
    let mut reasons = Vec::new();
    for folder in folders {
        let chosen: Vec<&PathBuf> = files
            .iter()
            .filter(|p| p.to_string_lossy().contains(folder.as_str()))
            .collect();
        if chosen.is_empty() {
            continue;
        }
        for path in &chosen {
            index.remove(path);
        }
        let out = BulkUpdate::measure(index);
        let analysed: Vec<_> = chosen
            .iter()
            .filter_map(|p| Some(((*p).clone(), analyze_path(roots, p, &config()).ok()?)))
            .collect();
        for (path, analysis) in analysed {
            index.insert(path, analysis);
        }
        let back = BulkUpdate::measure(index);
        println!(
            "| `{folder}` | {} | {} ({:?}) | {} | {} ({:?}) | {} | {} |",
            chosen.len(),
            ms(out.update),
            out.kind,
            ms(out.scratch),
            ms(back.update),
            back.kind,
            ms(back.scratch),
            if out.same && back.same {
                "yes"
            } else {
                "**no**"
            }
        );
        for (what, u) in [("taken out", &out), ("put back", &back)] {
            if u.kind == UpdateKind::Full {
                reasons.push(format!("- `{folder}` {what}: {}", u.why));
            }
        }
    }
    println!();
    if !reasons.is_empty() {
        println!("Solved from scratch because:");
        println!();
        for reason in reasons {
            println!("{reason}");
        }
        println!();
    }
}

/// Whether the edits are to touch `path`: every file, or with `TANDEM_BENCH_EDIT_FILE=text`
/// (`only`), those whose path contains `text`.
fn chosen(only: Option<&str>, path: &Path) -> bool {
    only.is_none_or(|f| path.to_string_lossy().contains(f))
}

/// What the server does for an edit of an open document: the document applies it (rope edit,
/// `Tree::edit`, incremental re-parse), the file is analysed from the document's text and
/// tree, the index updated and the call graph brought up to date. Wall time and, where the
/// platform has it, this thread's CPU time.
fn edit_and_update(
    index: &mut ProjectIndex,
    roots: &SourceRoots,
    path: &Path,
    text: &str,
    at: TextPosition,
    insert: &str,
) -> (Duration, Option<Duration>) {
    let mut document = Document::new(0, "python", text);
    let cpu = thread_cpu_time();
    let t = Instant::now();
    document.apply_changes(
        1,
        &[TextChange {
            range: Some((at, at)),
            text: insert.into(),
        }],
        PositionEncoding::Utf8,
    );
    let edited = document.rope.to_string();
    let analysis =
        analyze_text_with_tree(roots, path, &edited, Some(&document.tree)).expect("analysis");
    index.insert(path.to_path_buf(), analysis);
    index.graph();
    let elapsed = t.elapsed();
    let cpu = thread_cpu_time().zip(cpu).map(|(b, a)| b.saturating_sub(a));
    (elapsed, cpu)
}

/// Puts a file's original text back into the index, so the next edit starts from the corpus.
fn put_back(index: &mut ProjectIndex, roots: &SourceRoots, path: &Path, text: &str) {
    let original = analyze_text(roots, path, text).expect("analysis");
    index.insert(path.to_path_buf(), original);
    index.graph();
}

/// Whether the index's call graph (edges, call sites, nodes with their ranges) is the one a
/// solve from scratch gives.
fn same_as_from_scratch(index: &mut ProjectIndex) -> bool {
    type Snapshot = (
        Vec<(String, String)>,
        Vec<(String, String, String, usize, usize)>,
        Vec<(String, Option<(usize, usize)>)>,
    );
    let snapshot = |g: &tandem::analysis::callgraph::CallGraph| -> Snapshot {
        let mut edges: Vec<_> = g
            .edges()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let mut sites: Vec<_> = g
            .call_sites()
            .map(|c| {
                let (m, a, b) = (
                    c.module.to_string(),
                    c.caller.to_string(),
                    c.callee.to_string(),
                );
                (m, a, b, c.range.start, c.range.end)
            })
            .collect();
        let mut nodes: Vec<_> = g
            .nodes()
            .map(|(name, n)| (name.to_string(), n.range.map(|r| (r.start, r.end))))
            .collect();
        edges.sort();
        sites.sort();
        nodes.sort();
        (edges, sites, nodes)
    };
    let incremental = snapshot(index.graph());
    let stats_after_update = index.solver_stats();
    let scratch = snapshot(index.solve_from_scratch());
    let stats_from_scratch = index.solver_stats();
    if incremental != scratch && std::env::var_os("TANDEM_BENCH_WHY").is_some() {
        // What differs, a few of each: edges, then call sites, then nodes.
        fn show<T: Ord + std::fmt::Debug>(what: &str, inc: &[T], scratch: &[T]) {
            let (a, b): (BTreeSet<&T>, BTreeSet<&T>) =
                (inc.iter().collect(), scratch.iter().collect());
            for x in a.difference(&b).take(5) {
                println!("  {what} only after the update: {x:?}");
            }
            for x in b.difference(&a).take(5) {
                println!("  {what} only from scratch: {x:?}");
            }
        }
        show("edge", &incremental.0, &scratch.0);
        show("call site", &incremental.1, &scratch.1);
        show("node", &incremental.2, &scratch.2);
        println!("  solver after the update: {stats_after_update}");
        println!("  solver from scratch: {stats_from_scratch}");
    }
    incremental == scratch
}

/// Edits that change what a module defines, unlike the edits in function bodies above: a
/// module-level constant added at the end of the file, an import added at its top (both
/// one-line edits), a new top-level function at the end and at the top (which renumbers
/// every definition after it), and a new method in a class. Each kind in a row, with how
/// many of its updates solved the whole call graph again (`UpdateKind::Full`).
fn interface_edits(roots: &SourceRoots, files: &[PathBuf], index: &mut ProjectIndex, place: &str) {
    const N: usize = 40;
    #[derive(PartialEq)]
    enum Place {
        Top,
        End,
        /// Inside the first top-level class whose header is one line.
        FirstClass,
        /// At the end: a subclass of the file's first top-level class, overriding that
        /// class's first method (`text` is the subclass's header, completed per file).
        EndSubclass,
        /// After the last parameter of the first `def` whose header is one line and whose
        /// parameters can take one more with a default (not empty, no `**`, no trailing
        /// comma).
        LastParameter,
        /// A new file beside the file, with the file's text (a module nothing imports).
        NewFile,
        /// That new file removed again (added untimed first).
        RemovedFile,
    }
    struct Kind {
        what: &'static str,
        text: &'static str,
        place: Place,
        target: bool,
    }
    let kinds = [
        Kind {
            what: "a module-level constant added at the end (`_TANDEM_PROBE = 1`)",
            text: "_TANDEM_PROBE = 1\n",
            place: Place::End,
            target: true,
        },
        Kind {
            what: "an import added at the top (`import os`)",
            text: "import os\n",
            place: Place::Top,
            target: true,
        },
        Kind {
            what: "a top-level function added at the end (two lines)",
            text: "def _tandem_probe():\n    return 1\n",
            place: Place::End,
            target: false,
        },
        Kind {
            what: "a top-level function added at the top (two lines)",
            text: "def _tandem_probe():\n    return 1\n",
            place: Place::Top,
            target: false,
        },
        Kind {
            what: "a method added to a class (two lines)",
            text: "    def _tandem_probe(self):\n        return 1\n",
            place: Place::FirstClass,
            target: false,
        },
        Kind {
            what: "a parameter added to a function or method (`, _tandem_probe=None`)",
            text: ", _tandem_probe=None",
            place: Place::LastParameter,
            target: true,
        },
        Kind {
            what: "a new file beside the file, a copy of it (a module nothing imports)",
            text: "",
            place: Place::NewFile,
            target: false,
        },
        Kind {
            what: "a file removed (a copy of the file, added beside it untimed first: a module nothing imports)",
            text: "",
            place: Place::RemovedFile,
            target: false,
        },
        Kind {
            what: "a class added at the end (two lines)",
            text: "class _TandemProbe:\n    pass\n",
            place: Place::End,
            target: false,
        },
        Kind {
            what: "a subclass of the file's first class added at the end, overriding its first method (three lines)",
            text: "class _TandemProbe",
            place: Place::EndSubclass,
            target: false,
        },
    ];
    println!();
    println!("### Edits that change what a module defines ({place})");
    println!();
    println!("The edits above stay inside function bodies. These change a module's interface, each in {N} files spread over {place}, measured as above; the last column counts the updates that solved the whole call graph again rather than the changed definitions only.");
    println!();
    println!("| edit | n | p50 | p99 | max | solved from scratch | target |");
    println!("|---|---|---|---|---|---|---|");
    // `TANDEM_BENCH_CHECK=1`: after each edit and after putting the file back, compare the
    // graph with a solve from scratch (slow: a full solve each time).
    let check = std::env::var_os("TANDEM_BENCH_CHECK").is_some();
    let mut checked = Vec::new();
    // `TANDEM_BENCH_EDITS=text`: only the kinds whose description contains `text`.
    let only = std::env::var("TANDEM_BENCH_EDITS").ok();
    // `TANDEM_BENCH_EDIT_FILE=text`: only the files whose path contains `text` (to look again
    // at one file a checked run named).
    let edit_file = std::env::var("TANDEM_BENCH_EDIT_FILE").ok();
    // `TANDEM_BENCH_WHY=1`: say why an update solved from scratch or was slow.
    let why = std::env::var_os("TANDEM_BENCH_WHY").is_some();
    for kind in kinds
        .iter()
        .filter(|k| only.as_deref().is_none_or(|o| k.what.contains(o)))
    {
        let mut samples = Vec::new();
        let mut full = 0;
        let mut same = 0;
        let mut compared = 0;
        for i in 0..files.len() {
            if samples.len() == N {
                break;
            }
            let path = &files[(i * 7919 + 13) % files.len()];
            if !chosen(edit_file.as_deref(), path) {
                continue;
            }
            let Ok(text) = read_source(path, config().max_file_size) else {
                continue;
            };
            if text.is_empty() || !text.ends_with('\n') {
                continue;
            }
            let at = match kind.place {
                Place::Top | Place::NewFile | Place::RemovedFile => Some((0, 0)),
                Place::End | Place::EndSubclass => Some((text.lines().count(), 0)),
                Place::FirstClass => text
                    .lines()
                    .position(|l| l.starts_with("class ") && l.trim_end().ends_with(':'))
                    .map(|i| (i + 1, 0)),
                Place::LastParameter => text
                    .lines()
                    .enumerate()
                    .find_map(|(i, l)| last_parameter_end(l).map(|c| (i, c))),
            };
            let Some((line, column)) = at else {
                continue;
            };
            let at = TextPosition::new(line as u32, column as u32);
            let insert = match kind.place {
                Place::EndSubclass => match subclass_of_first_class(&text) {
                    Some((class, method)) => {
                        format!(
                            "{}({class}):\n    def {method}(self):\n        return 1\n",
                            kind.text
                        )
                    }
                    None => continue,
                },
                _ => kind.text.to_string(),
            };
            let new_file = path.with_file_name("_tandem_probe_new.py");
            let elapsed = match kind.place {
                Place::NewFile => {
                    // What the server does for a file created on disk once it has read it:
                    // parse and analyse it, insert it and update the graph.
                    let t = Instant::now();
                    let analysis = analyze_text(roots, &new_file, &text).expect("analysis");
                    index.insert(new_file.clone(), analysis);
                    index.graph();
                    t.elapsed()
                }
                Place::RemovedFile => {
                    let analysis = analyze_text(roots, &new_file, &text).expect("analysis");
                    index.insert(new_file.clone(), analysis);
                    index.graph();
                    // What the server does for a file deleted on disk: take it out of the
                    // index and update the graph.
                    let t = Instant::now();
                    index.remove(&new_file);
                    index.graph();
                    t.elapsed()
                }
                _ => edit_and_update(index, roots, path, &text, at, &insert).0,
            };
            samples.push(elapsed);
            // Slow as the one-line edits above count it (over 8 ms).
            if why && elapsed > Duration::from_millis(8) {
                println!(
                    "slow update ({}) after {} in {}: {}",
                    ms(elapsed),
                    kind.what,
                    path.display(),
                    index.graph_update_report().1
                );
            }
            if matches!(index.graph_update_report().0, UpdateKind::Full) {
                full += 1;
                if why {
                    let report = index.graph_update_report().1;
                    println!(
                        "full solve after {} in {}: {}",
                        kind.what,
                        path.display(),
                        report.split("; full solve").next().unwrap_or_default()
                    );
                }
            }
            // Counts a graph equal to a solve from scratch, names the file of one that is not.
            let mut compare = |index: &mut ProjectIndex, after: &str| {
                if same_as_from_scratch(index) {
                    same += 1;
                } else {
                    println!(
                        "differs from a solve from scratch after {after}{} in {}",
                        kind.what,
                        path.display()
                    );
                }
            };
            if check {
                compare(index, "");
                compared += 1;
            }
            match kind.place {
                Place::NewFile => {
                    index.remove(&new_file);
                    index.graph();
                }
                // Already back as the corpus has it.
                Place::RemovedFile => continue,
                _ => put_back(index, roots, path, &text),
            }
            if check {
                compare(index, "undoing ");
                compared += 1;
            }
        }
        let s = summarize(samples);
        if check {
            checked.push(format!(
                "{}: after {same} of {compared} edits and their undoing, the graph was the one a solve from scratch gives.",
                kind.what,
            ));
        }
        println!(
            "| {} | {} | {} | {} | {} | {full} of {} | {} |",
            kind.what,
            s.n,
            ms(s.p50),
            ms(s.p99),
            ms(s.max),
            s.n,
            if kind.target {
                "p99 < 20 ms"
            } else {
                "reported"
            }
        );
        // A checked run's times are not the figures.
        if kind.target && !check && place == "Django" {
            crate::target(
                3,
                &format!(
                    "one-line edit in Django, {} → index and graph current, p99 over {}",
                    kind.what, s.n
                ),
                &ms(s.p99),
                "< 20 ms",
                Some(s.p99 < Duration::from_millis(20)),
            );
        }
    }
    if check {
        println!();
        println!("Checked against solves from scratch (`TANDEM_BENCH_CHECK=1`; the times of such a run are not the figures, each check solving from scratch twice):");
        println!();
        for line in checked {
            println!("- {line}");
        }
    }
}

/// The name of the first top-level class of `text` and of its first method taking `self`.
fn subclass_of_first_class(text: &str) -> Option<(&str, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("class "))?;
    let header = &lines[at]["class ".len()..];
    let class = &header[..header.find(['(', ':'])?];
    let method = lines[at + 1..]
        .iter()
        .take_while(|l| l.is_empty() || l.starts_with([' ', '\t', '#']))
        .find_map(|l| {
            let rest = l.strip_prefix("    def ")?;
            let (name, params) = rest.split_once('(')?;
            params.starts_with("self").then_some(name)
        })?;
    Some((class.trim(), method))
}

/// The byte column of the `)` closing the parameters of a one-line `def` header, when one
/// more parameter with a default can go before it.
fn last_parameter_end(line: &str) -> Option<usize> {
    let def = line.trim_start().strip_prefix("def ")?;
    let open = line.len() - def.len() + def.find('(')?;
    let header = line.trim_end().strip_suffix(':')?;
    let close = match header.rfind("->") {
        Some(arrow) => header[..arrow].trim_end().strip_suffix(')')?.len(),
        None => header.strip_suffix(')')?.len(),
    };
    let params = line.get(open + 1..close)?;
    let simple = params
        .chars()
        .all(|c| c.is_alphanumeric() || " _,*=".contains(c));
    (simple
        && !params.trim().is_empty()
        && !params.contains("**")
        && !params.trim_end().ends_with(','))
    .then_some(close)
}

/// Where the time of a cold build goes: every step on one core, as CPU time of this thread, so
/// that what the other core does (or another process) does not count. The reference, parsing,
/// includes dropping the tree, as the parse-only column does. The last column is the lowest
/// ratio of the cold-build table that perfect use of every core could give with these steps:
/// all the work spread evenly, against the reference's.
fn steps() {
    println!("## Where a cold build's time goes (one core)");
    println!();
    println!("Each step of the cold build timed on one core as this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), file by file: tree-sitter's parse and the dropping of the tree (the work of the parse-only column), the analysis (`analyze_tree`: the three walks over the tree, packing the outline, hashes, the text kept), then the call graph solved on one core (with the texts packed on the same core). The three walks are then timed again one by one on the same tree, now in the cache, to show how the analysis divides; each of them then makes its own flat copy of the tree (`analysis::flat`), which the analysis makes once for all three, so the three add up to more than the analysis. The last column divides parse, drop, analysis and solve by parse + drop: the ratio the cold-build table would show if every core were busy for the whole build.");
    println!();
    println!("| corpus | parse | drop tree | analysis | of which outline | references | call-graph facts | solve | all / (parse + drop) |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let one_core = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    for corpus in corpora() {
        let roots = SourceRoots::for_workspace(std::slice::from_ref(&corpus.root));
        let mut t = [Duration::ZERO; 7];
        let mut index = ProjectIndex::new();
        let cpu = || thread_cpu_time().unwrap_or_default();
        for path in files_of(&corpus) {
            let Ok(text) = read_source(&path, config().max_file_size) else {
                continue;
            };
            let module = roots.module_of(&path);
            let c0 = cpu();
            let tree = parse_str(&text, None);
            let c1 = cpu();
            let analysis = analyze_tree(&module.name, module.is_package, &text, &tree);
            let c2 = cpu();
            let shared: Arc<str> = Arc::from(text.as_str());
            black_box(outline(&tree, &text, &module.name));
            let c3 = cpu();
            black_box(references_in(&tree, &shared));
            let c4 = cpu();
            black_box(extract_facts(&SourceModule {
                name: &module.name,
                is_package: module.is_package,
                source: &text,
                tree: &tree,
            }));
            let c5 = cpu();
            drop(tree);
            let c6 = cpu();
            index.insert(path, analysis);
            for (i, d) in [c1 - c0, c6 - c5, c2 - c1, c3 - c2, c4 - c3, c5 - c4]
                .into_iter()
                .enumerate()
            {
                t[i] += d;
            }
        }
        // On the pool's one thread, where `graph` packs the texts too (its `rayon::join`).
        t[6] = one_core.install(|| {
            let c = cpu();
            index.graph();
            cpu() - c
        });
        let all = t[0] + t[1] + t[2] + t[6];
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2}× |",
            corpus.name,
            ms(t[0]),
            ms(t[1]),
            ms(t[2]),
            ms(t[3]),
            ms(t[4]),
            ms(t[5]),
            ms(t[6]),
            all.as_secs_f64() / (t[0] + t[1]).as_secs_f64()
        );
    }
    println!();
}

/// The CPU time this thread has used so far, to tell work from waiting for a core.
fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant libc knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}
