//! Runs the context layer over a directory of Python code, by hand, to measure it:
//!
//! ```text
//! cargo run --release -p tandem --example context_check -- /usr/lib/python3.11
//! cargo run --release -p tandem --example context_check -- DIR --focus json/decoder.py \
//!     --symbol json.decoder.JSONDecoder.decode --budget 2048 --print
//! cargo run --release -p tandem --example context_check -- DIR --tokens
//! ```
//!
//! It times building the repo map and ranking it, prints the rendered map if asked, and with
//! `--tokens` compares the token estimate with the real `cl100k_base` and `o200k_base` counts
//! of every file. `site-packages` and `__pycache__` directories are skipped. No timing is
//! asserted anywhere: the figures are for `docs/context.md`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tandem::analysis::outline::outline;
use tandem::analysis::parse::parse_str;
use tandem::analysis::references::references;
use tandem::context::repomap::{Focus, ModuleInput, RepoMap};
use tandem::context::tokens::estimate_tokens;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut root = None;
    let mut focus = Focus::default();
    let mut budget = 1024;
    let mut print = false;
    let mut tokens = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--focus" => focus.path = args.next(),
            "--symbol" => focus.symbol = args.next(),
            "--budget" => budget = args.next().and_then(|b| b.parse().ok()).unwrap_or(budget),
            "--print" => print = true,
            "--tokens" => tokens = true,
            _ => root = Some(PathBuf::from(arg)),
        }
    }
    let Some(root) = root else {
        eprintln!("usage: context_check DIR [--focus PATH] [--symbol NAME] [--budget N] [--print] [--tokens]");
        std::process::exit(2);
    };

    let started = Instant::now();
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    paths.sort();
    let texts: Vec<(String, String)> = paths
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            let relative = p
                .strip_prefix(&root)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            Some((relative, text))
        })
        .collect();
    let read = started.elapsed();

    if tokens {
        compare_tokens(&texts);
        return;
    }

    let mut reference_count = 0;
    let mut parsing = std::time::Duration::ZERO;
    let mut outlining = std::time::Duration::ZERO;
    let mut referencing = std::time::Duration::ZERO;
    let modules: Vec<ModuleInput> = texts
        .iter()
        .map(|(path, text)| {
            let started = Instant::now();
            let tree = parse_str(text, None);
            parsing += started.elapsed();
            let started = Instant::now();
            let outline = outline(&tree, text, &module_name(path));
            outlining += started.elapsed();
            let started = Instant::now();
            let refs = references(&tree, text);
            referencing += started.elapsed();
            reference_count += refs.len();
            ModuleInput {
                path: path.clone(),
                outline,
                references: refs,
            }
        })
        .collect();

    let started = Instant::now();
    let map = RepoMap::new(modules);
    let built = started.elapsed();

    let started = Instant::now();
    let plain = map.rank(&Focus::default());
    let ranked_plain = started.elapsed();

    let started = Instant::now();
    let focused = map.rank(&focus);
    let ranked_focused = started.elapsed();

    let started = Instant::now();
    let text = map.render(&focus, budget);
    let rendered = started.elapsed();

    println!(
        "{} files, {} definitions, {} references",
        map.file_count(),
        map.definition_count(),
        reference_count
    );
    println!("read files                        {read:>10.1?}");
    println!("parse                             {parsing:>10.1?}");
    println!("outline                           {outlining:>10.1?}");
    println!("references                        {referencing:>10.1?}");
    println!("RepoMap::new                      {built:>10.1?}");
    println!(
        "rank, no focus                    {ranked_plain:>10.1?}  ({} iterations)",
        plain.iterations
    );
    println!(
        "rank, focus                       {ranked_focused:>10.1?}  ({} iterations)",
        focused.iterations
    );
    println!(
        "render to {budget} tokens            {rendered:>10.1?}  ({} tokens, {} lines)",
        estimate_tokens(&text),
        text.lines().count()
    );
    // The map is what the estimate budgets, so it is compared with the real tokenizers too.
    for (name, tokenizer) in [
        ("cl100k_base", tiktoken_rs::cl100k_base()),
        ("o200k_base", tiktoken_rs::o200k_base()),
    ] {
        if let Ok(tokenizer) = tokenizer {
            let real = tokenizer.encode_ordinary(&text).len();
            println!("rendered map in {name}: {real} tokens");
        }
    }
    if print {
        println!("\n{text}");
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "site-packages" && name != "__pycache__" {
                walk(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
}

/// `json.decoder` for `json/decoder.py`, `json` for `json/__init__.py`, with a leading
/// `src/` dropped.
fn module_name(path: &str) -> String {
    let path = path.strip_prefix("src/").unwrap_or(path);
    let path = path.strip_suffix(".py").unwrap_or(path);
    let path = path.strip_suffix("/__init__").unwrap_or(path);
    path.replace('/', ".")
}

fn compare_tokens(texts: &[(String, String)]) {
    let tokenizers = [
        ("cl100k_base", tiktoken_rs::cl100k_base()),
        ("o200k_base", tiktoken_rs::o200k_base()),
    ];
    let started = Instant::now();
    let estimates: Vec<usize> = texts.iter().map(|(_, t)| estimate_tokens(t)).collect();
    let estimating = started.elapsed();
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    println!(
        "{} files, {:.1} MB, estimated in {estimating:.1?}",
        texts.len(),
        bytes as f64 / 1e6
    );
    for (name, tokenizer) in &tokenizers {
        let Ok(tokenizer) = tokenizer else {
            println!("{name}: vocabulary failed to load");
            continue;
        };
        let started = Instant::now();
        let mut errors = Vec::new();
        let (mut real_total, mut estimate_total) = (0usize, 0usize);
        for ((_, text), &estimate) in texts.iter().zip(&estimates) {
            let real = tokenizer.encode_ordinary(text).len();
            real_total += real;
            estimate_total += estimate;
            // Tiny files say little about the rate; they are left out of the distribution.
            if real >= 100 {
                errors.push((estimate as f64 - real as f64) / real as f64);
            }
        }
        let counting = started.elapsed();
        let mut absolute: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
        absolute.sort_by(f64::total_cmp);
        let at = |q: f64| absolute[((absolute.len() - 1) as f64 * q) as usize] * 100.0;
        let within = |limit: f64| {
            absolute.iter().filter(|&&e| e <= limit).count() as f64 / absolute.len() as f64 * 100.0
        };
        println!(
            "{name}: counted in {counting:.1?}; total {estimate_total} estimated / {real_total} real = {:+.1}%",
            (estimate_total as f64 / real_total as f64 - 1.0) * 100.0
        );
        println!(
            "  per file (>= 100 tokens, n = {}): mean signed {:+.1}%, |error| p50 {:.1}%, p90 {:.1}%, p99 {:.1}%, max {:.1}%; within 10%: {:.1}%, within 15%: {:.1}%",
            absolute.len(),
            errors.iter().sum::<f64>() / errors.len() as f64 * 100.0,
            at(0.5),
            at(0.9),
            at(0.99),
            at(1.0),
            within(0.10),
            within(0.15),
        );
    }
}
