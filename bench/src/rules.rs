//! The review rules (issue 6): `tandem check` with every built-in rule against
//! `ruff check --no-cache --select E,F,B` on Django 5.1.4 and on the standard library, in the
//! same run (median of three interleaved runs each); the findings per rule; and, in process,
//! how long `rules::check_file` takes on one large file (what the editor runs per keystroke,
//! after the debounce).
//!
//! Needs `scripts/fetch-corpora` (Django), `scripts/ruff-venv` (ruff in `bench/.venv`) and the
//! release `tandem` binary next to this one (`scripts/bench` builds both).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tandem::analysis::parse::parse_str;
use tandem::analysis::rules::{check_file, RuleOptions};

use crate::{ms, summarize};

struct Corpus {
    name: &'static str,
    root: PathBuf,
    /// The paths given to both tools, relative to `root`.
    paths: Vec<String>,
}

fn corpora() -> Vec<Corpus> {
    let mut out = Vec::new();
    let django = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/django-5.1.4");
    if django.join("django").is_dir() {
        out.push(Corpus {
            name: "Django 5.1.4 (django/)",
            root: django,
            paths: vec!["django".into()],
        });
    } else {
        println!("(Django is missing: run scripts/fetch-corpora)");
    }
    if let Some(stdlib) = crate::stdlib_dir() {
        // Everything but site-packages (ruff leaves it out by default; Tandem is told).
        let mut paths: Vec<String> = std::fs::read_dir(&stdlib)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "site-packages")
            .collect();
        paths.sort();
        out.push(Corpus {
            name: "standard library (python3, without site-packages)",
            root: stdlib,
            paths,
        });
    }
    out
}

pub fn run(_args: &[String]) {
    in_process();
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ruff = bench.join(".venv/bin/ruff");
    if !ruff.exists() {
        println!("(ruff is missing: run scripts/ruff-venv)");
        return;
    }
    let Some(tandem) = crate::tandem_binary() else {
        return;
    };
    let version = Command::new(&ruff)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("## `tandem check` against {version}");
    println!();
    println!("Wall time, median of 3 interleaved runs, both tools printing their findings. Cold:");
    println!("ruff `--no-cache`, tandem `--no-cache`. Warm: `tandem --select TDM` again over the");
    println!("unchanged files with its cache (`.tandem/cache/check`, here in a temporary folder)");
    println!("filled by an earlier run:");
    println!();
    println!("| corpus | ruff --select E,F,B | tandem, per-file rules (TDM001-013) | ratio | tandem --select TDM (with the project pass, TDM020/021) | ratio | tandem (TDM + DOC) | ratio | tandem --select TDM, warm cache | ratio |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut counts: Vec<(String, BTreeMap<String, usize>)> = Vec::new();
    for corpus in corpora() {
        let mut ruff_cmd = Command::new(&ruff);
        ruff_cmd
            .args(["check", "--no-cache", "--select", "E,F,B"])
            .args(&corpus.paths)
            .current_dir(&corpus.root);
        let cache_dir =
            std::env::temp_dir().join(format!("tandem-bench-cache-{}", std::process::id()));
        let tandem_cmd = |select: &str, ignore: Option<&str>| {
            let mut cmd = Command::new(&tandem);
            cmd.arg("--workspace")
                .arg(&corpus.root)
                .args(["check", "--select", select, "--format", "json"]);
            if let Some(ignore) = ignore {
                cmd.args(["--ignore", ignore]);
            }
            cmd.args(&corpus.paths).current_dir(&corpus.root);
            cmd
        };
        let cold = |select: &str, ignore: Option<&str>| {
            let mut cmd = tandem_cmd(select, ignore);
            cmd.arg("--no-cache");
            cmd
        };
        let mut file_cmd = cold("TDM", Some("TDM02"));
        let mut tdm_cmd = cold("TDM", None);
        let mut all_cmd = cold("TDM,DOC", None);
        let mut warm_cmd = tandem_cmd("TDM", None);
        warm_cmd.arg("--cache-dir").arg(&cache_dir);
        let (filled, _) = timed(&mut warm_cmd);
        let (mut r, mut f, mut t, mut a, mut w) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut tdm_out = String::new();
        for _ in 0..3 {
            r.push(timed(&mut ruff_cmd).0);
            f.push(timed(&mut file_cmd).0);
            let (elapsed, out) = timed(&mut tdm_cmd);
            t.push(elapsed);
            a.push(timed(&mut all_cmd).0);
            let (elapsed, warm_out) = timed(&mut warm_cmd);
            w.push(elapsed);
            assert_eq!(
                out, warm_out,
                "the warm cache gives other findings than a cold run"
            );
            tdm_out = out;
        }
        let _ = std::fs::remove_dir_all(&cache_dir);
        let (r, f, t, a, w) = (median(r), median(f), median(t), median(a), median(w));
        println!(
            "| {} | {:.0} ms | {:.0} ms | {:.2}× | {:.0} ms | {:.2}× | {:.0} ms | {:.2}× | {:.0} ms (filling it: {:.0} ms) | {:.2}× |",
            corpus.name,
            millis(r),
            millis(f),
            f.as_secs_f64() / r.as_secs_f64(),
            millis(t),
            t.as_secs_f64() / r.as_secs_f64(),
            millis(a),
            a.as_secs_f64() / r.as_secs_f64(),
            millis(w),
            millis(filled),
            w.as_secs_f64() / r.as_secs_f64(),
        );
        let cold_ratio = t.as_secs_f64() / r.as_secs_f64();
        crate::target(
            6,
            &format!(
                "`tandem check --select TDM` (cold, every built-in rule) / ruff, {}",
                corpus.name
            ),
            &format!("{cold_ratio:.2}×"),
            "<= 4×",
            Some(cold_ratio <= 4.0),
        );
        crate::target(
            6,
            &format!(
                "the same with the per-file rules only (TDM001-013) / ruff, {}",
                corpus.name
            ),
            &format!("{:.2}×", f.as_secs_f64() / r.as_secs_f64()),
            "reported",
            None,
        );
        crate::target(
            6,
            &format!(
                "the same, warm cache over unchanged files / ruff, {}",
                corpus.name
            ),
            &format!("{:.2}×", w.as_secs_f64() / r.as_secs_f64()),
            "reported",
            None,
        );
        let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
        let value: serde_json::Value = serde_json::from_str(&tdm_out).unwrap_or_default();
        for f in value.as_array().into_iter().flatten() {
            *by_code
                .entry(f["code"].as_str().unwrap_or("?").to_string())
                .or_default() += 1;
        }
        counts.push((corpus.name.to_string(), by_code));
    }
    println!();
    println!("Findings per rule (`tandem check --select TDM`):");
    println!();
    let mut codes: Vec<&String> = counts.iter().flat_map(|(_, c)| c.keys()).collect();
    codes.sort();
    codes.dedup();
    print!("| code |");
    for (name, _) in &counts {
        print!(" {name} |");
    }
    println!();
    println!("|---|{}", "---|".repeat(counts.len()));
    for code in codes {
        print!("| {code} |");
        for (_, c) in &counts {
            print!(" {} |", c.get(code).copied().unwrap_or(0));
        }
        println!();
    }
    println!();
}

/// `check_file` alone (tree already parsed), all rules, on a large real file and a generated
/// 5,000-line module.
fn in_process() {
    let mut files: Vec<(String, String)> = Vec::new();
    if let Some(dir) = crate::stdlib_dir() {
        if let Ok(text) = std::fs::read_to_string(dir.join("_pydecimal.py")) {
            files.push(("`_pydecimal.py`".into(), text));
        }
    }
    files.push((
        "generated module".into(),
        crate::editing::generate_module(5_000),
    ));
    println!("## `rules::check_file` in process (every TDM rule, tree already parsed)");
    println!();
    println!("| file | lines | n | p50 | p99 | full parse p50 |");
    println!("|---|---|---|---|---|---|");
    let opts = RuleOptions::default();
    for (name, text) in files {
        let tree = parse_str(&text, None);
        let mut parses = Vec::new();
        for _ in 0..20 {
            let start = Instant::now();
            let t = parse_str(&text, None);
            parses.push(start.elapsed());
            drop(t);
        }
        let mut samples = Vec::new();
        let mut found = 0;
        for _ in 0..200 {
            let start = Instant::now();
            found = check_file(&text, &tree, &opts).len();
            samples.push(start.elapsed());
        }
        let s = summarize(samples);
        println!(
            "| {name} ({found} findings) | {} | {} | {} | {} | {} |",
            text.lines().count(),
            s.n,
            ms(s.p50),
            ms(s.p99),
            ms(summarize(parses).p50)
        );
    }
    println!();
}

fn timed(cmd: &mut Command) -> (Duration, String) {
    let start = Instant::now();
    let out = cmd.output().expect("run the checker");
    (
        start.elapsed(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
