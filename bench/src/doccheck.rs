//! Docstring checks against pydoclint on Django 5.1.4, in the same run: agreement on the
//! findings per (file, line, code) for the codes both implement, wall time of each (median of
//! three interleaved runs), and the disagreements grouped by cause.
//!
//! Needs `scripts/fetch-corpora` (Django) and `scripts/pydoclint-venv` (pydoclint in
//! `bench/.venv`), and the release `tandem` binary next to this one (`scripts/bench` builds
//! both). Options: numpy style (Django's), `--arg-type-hints-in-docstring=False`,
//! `--skip-checking-short-docstrings=False`, the rest at pydoclint's defaults.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tandem::analysis::docstring::facts::function_facts;
use tandem::analysis::parse::parse_str;

/// The codes both tools implement.
const COMMON: &[&str] = &[
    "DOC101", "DOC102", "DOC103", "DOC104", "DOC105", "DOC201", "DOC202", "DOC203", "DOC402",
    "DOC403", "DOC404", "DOC405", "DOC501", "DOC502", "DOC503",
];

const OPTIONS: &[&str] = &[
    "--style=numpy",
    "--arg-type-hints-in-docstring=False",
    "--skip-checking-short-docstrings=False",
];

type Key = (String, usize, String);

pub fn run(_args: &[String]) {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = bench.join("corpora/django-5.1.4");
    if !corpus.join("django").is_dir() {
        println!("(Django is missing: run scripts/fetch-corpora)");
        return;
    }
    let pydoclint = bench.join(".venv/bin/pydoclint");
    if !pydoclint.exists() {
        println!("(pydoclint is missing: run scripts/pydoclint-venv)");
        return;
    }
    let Some(tandem) = crate::tandem_binary() else {
        return;
    };
    let version = Command::new(&pydoclint)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();

    let mut pydoclint_cmd = Command::new(&pydoclint);
    pydoclint_cmd
        .args(OPTIONS)
        .arg("django")
        .current_dir(&corpus);
    let mut tandem_cmd = Command::new(&tandem);
    tandem_cmd
        .args(["check", "--select", "DOC", "--format", "json"])
        .args(OPTIONS)
        .arg("django")
        .current_dir(&corpus);

    let mut py_times = Vec::new();
    let mut td_times = Vec::new();
    let mut py_out = String::new();
    let mut td_out = String::new();
    for _ in 0..3 {
        let (t, out) = timed(&mut pydoclint_cmd);
        py_times.push(t);
        py_out = out;
        let start = Instant::now();
        let out = tandem_cmd.output().expect("run tandem");
        td_times.push(start.elapsed());
        td_out = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    py_times.sort();
    td_times.sort();
    let (py, td) = (py_times[1], td_times[1]);

    let theirs = parse_pydoclint(&py_out);
    let ours = parse_tandem(&td_out);
    let both: BTreeSet<&Key> = theirs.keys().filter(|k| ours.contains_key(*k)).collect();
    let union = theirs.len() + ours.len() - both.len();
    let agreement = if union == 0 {
        1.0
    } else {
        both.len() as f64 / union as f64
    };

    println!("## Docstring checks against {version} (Django 5.1.4, django/)");
    println!();
    println!(
        "options: {} (codes compared: DOC101-105, 201-203, 402-405, 501-503)",
        OPTIONS.join(" ")
    );
    println!();
    println!("| | findings | wall time (median of 3) |");
    println!("|---|---|---|");
    println!("| pydoclint | {} | {:.0} ms |", theirs.len(), ms(py));
    println!(
        "| tandem check --select DOC | {} | {:.0} ms |",
        ours.len(),
        ms(td)
    );
    println!();
    println!(
        "agreement: {} of {} findings ({:.2}%); tandem is {:.1}× faster",
        both.len(),
        union,
        agreement * 100.0,
        py.as_secs_f64() / td.as_secs_f64()
    );
    println!();
    crate::target(
        5,
        "`tandem check --select DOC` agreement with pydoclint (Django)",
        &format!("{:.2}%", agreement * 100.0),
        ">= 95%",
        Some(agreement >= 0.95),
    );
    let faster = py.as_secs_f64() / td.as_secs_f64();
    crate::target(
        5,
        "`tandem check --select DOC` speed against pydoclint (Django)",
        &format!("{faster:.1}× faster ({:.0} ms / {:.0} ms)", ms(td), ms(py)),
        ">= 10× faster",
        Some(faster >= 10.0),
    );

    let mut by_code: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for k in theirs.keys() {
        by_code.entry(k.2.as_str()).or_default().0 += 1;
    }
    for k in ours.keys() {
        by_code.entry(k.2.as_str()).or_default().1 += 1;
    }
    for k in &both {
        by_code.entry(k.2.as_str()).or_default().2 += 1;
    }
    println!("| code | pydoclint | tandem | both |");
    println!("|---|---|---|---|");
    for (code, (p, t, b)) in &by_code {
        println!("| {code} | {p} | {t} | {b} |");
    }
    println!();

    let mut causes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut sources: HashMap<String, String> = HashMap::new();
    for (key, side) in theirs
        .keys()
        .filter(|k| !ours.contains_key(*k))
        .map(|k| (k, "pydoclint only"))
        .chain(
            ours.keys()
                .filter(|k| !theirs.contains_key(*k))
                .map(|k| (k, "tandem only")),
        )
    {
        let source = sources
            .entry(key.0.clone())
            .or_insert_with(|| std::fs::read_to_string(corpus.join(&key.0)).unwrap_or_default());
        let cause = classify(source, key, side);
        causes
            .entry(format!("{side}: {cause}"))
            .or_default()
            .push(format!("{}:{} {}", key.0, key.1, key.2));
    }
    println!("Disagreements by cause:");
    println!();
    if causes.is_empty() {
        println!("- none");
    }
    for (cause, places) in &causes {
        let shown: Vec<&str> = places.iter().take(12).map(String::as_str).collect();
        let more = if places.len() > shown.len() {
            ", …"
        } else {
            ""
        };
        println!("- {cause} ({}): {}{more}", places.len(), shown.join(", "));
    }
}

fn timed(cmd: &mut Command) -> (Duration, String) {
    let start = Instant::now();
    let out = cmd.output().expect("run the checker");
    let elapsed = start.elapsed();
    // pydoclint prints its findings to stderr, Tandem to stdout.
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (elapsed, text)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// pydoclint prints a file's path on a line of its own, then `    LINE: DOCnnn: message`.
fn parse_pydoclint(out: &str) -> BTreeMap<Key, String> {
    let mut found = BTreeMap::new();
    let mut file = String::new();
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("    ") {
            let mut parts = rest.splitn(3, ": ");
            let (Some(n), Some(code)) = (parts.next(), parts.next()) else {
                continue;
            };
            if let (Ok(n), true) = (n.trim().parse::<usize>(), COMMON.contains(&code)) {
                let message = parts.next().unwrap_or("").to_string();
                found.insert((file.clone(), n, code.to_string()), message);
            }
        } else if !line.is_empty() && !line.starts_with("Skipping") {
            file = line.trim().to_string();
        }
    }
    found
}

fn parse_tandem(out: &str) -> BTreeMap<Key, String> {
    let value: serde_json::Value = serde_json::from_str(out).unwrap_or_default();
    let mut found = BTreeMap::new();
    for f in value.as_array().into_iter().flatten() {
        let code = f["code"].as_str().unwrap_or("");
        if COMMON.contains(&code) {
            found.insert(
                (
                    f["path"].as_str().unwrap_or("").to_string(),
                    f["line"].as_u64().unwrap_or(0) as usize,
                    code.to_string(),
                ),
                f["message"].as_str().unwrap_or("").to_string(),
            );
        }
    }
    found
}

/// Why the tools disagree on one finding, read from Tandem's facts of the function there.
fn classify(source: &str, key: &Key, side: &str) -> String {
    let tree = parse_str(source, None);
    let line = key.1.saturating_sub(1);
    let mut stack = vec![tree.root_node()];
    let mut def = None;
    while let Some(node) = stack.pop() {
        if node.kind() == "function_definition" && node.start_position().row == line {
            def = Some(node);
            break;
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
    let Some(def) = def else {
        return "no function found at that line".into();
    };
    let is_method = def
        .parent()
        .and_then(|p| {
            if p.kind() == "decorated_definition" {
                p.parent()
            } else {
                Some(p)
            }
        })
        .and_then(|b| b.parent())
        .is_some_and(|c| c.kind() == "class_definition");
    let facts = function_facts(def, source, is_method);
    let has_nested = {
        let mut stack = vec![def.child_by_field_name("body")];
        let mut found = false;
        while let Some(Some(n)) = stack.pop() {
            if matches!(
                n.kind(),
                "function_definition" | "class_definition" | "lambda"
            ) {
                found = true;
                break;
            }
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor).map(Some));
        }
        found
    };
    let code = key.2.as_str();
    match (side, code) {
        ("pydoclint only", "DOC501" | "DOC503") if facts.raises.is_empty() => {
            if !facts.caught_raises.is_empty() && !facts.has_unnamed_raise {
                "the exception is raised and caught in the same function; pydoclint asks to document it".into()
            } else if facts.has_unnamed_raise {
                "`raise` of a variable, or a bare `raise` outside `except`: pydoclint asks for a Raises section (naming the variable as if it were a class)".into()
            } else {
                format!("other ({code})")
            }
        }
        ("tandem only", _) if has_nested => {
            "pydoclint misses the function's own return/raise because it found one in a nested function first (its line-number heuristic)".into()
        }
        ("tandem only", _) if def.start_position().row != def.child_by_field_name("body").map_or(0, |b| b.start_position().row) - 1 => {
            "pydoclint's line-number heuristic misreads a multi-line signature and misses the function's own statements".into()
        }
        _ => format!("other ({code})"),
    }
}
