//! Editing latency on a 5,000-line file: `didChange` of one character to an updated tree, and
//! `documentSymbol`, against a full re-parse of the same file as the reference. Measured twice:
//! in-process through the same functions the handlers call, and end to end over stdio against
//! the release `tandem serve` (edit sent, symbols received).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tandem::analysis::parse::parse_rope;
use tandem::lsp::document_symbol::symbols_for;
use tandem::lsp::ServerState;
use tandem::session::documents::TextChange;
use tandem::session::position::{position_of, PositionEncoding, TextPosition};
use tandem_e2e::LspClient;

use crate::{ms, summarize};

/// A deterministic, realistic Python module of exactly `lines` lines: classes with decorated
/// and documented methods, nested functions, comprehensions, multi-byte text.
pub fn generate_module(lines: usize) -> String {
    let mut out = String::from("\"\"\"A generated module for benchmarks.\"\"\"\n\nimport functools\nfrom typing import Iterable\n\n");
    let mut i = 0;
    while out.lines().count() < lines {
        out.push_str(&format!(
            r#"
class Service{i}(Base):
    """Handles requests of kind {i} — naïve café ☕."""

    retries: int = 3

    def __init__(self, name: str, *, limit: int = {i}) -> None:
        self.name = name
        self.limit = limit
        self.cache = {{}}

    @functools.lru_cache(maxsize=128)
    def lookup(self, key: str, default=None) -> str | None:
        """Return the value for ``key``."""
        if key in self.cache:
            return self.cache[key]
        return default

    async def fetch(self, items: Iterable[int], /, scale: float = 1.0, **options) -> list[float]:
        def transform(x):
            return x * scale + {i}
        return [transform(x) for x in items if x % 2 == 0]

    @staticmethod
    def parse(text):
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"not a number: {{text!r}}")


def helper_{i}(a, b=2, *args, c, **kw):
    total = a + b + sum(args)
    for k, v in kw.items():
        total += len(k) * v
    return total
"#
        ));
        i += 1;
    }
    let mut cut: Vec<&str> = out.lines().take(lines).collect();
    // Don't end in the middle of a statement that spans lines.
    while cut
        .last()
        .is_some_and(|l| l.trim_end().ends_with([',', '(', '\\']))
    {
        cut.pop();
    }
    let mut text = cut.join("\n");
    text.push('\n');
    text
}

fn parse_args(args: &[String]) -> (usize, Option<String>) {
    let mut lines = 5000;
    let mut file = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--lines" => lines = it.next().and_then(|v| v.parse().ok()).unwrap_or(lines),
            "--file" => file = it.next().cloned(),
            _ => {}
        }
    }
    (lines, file)
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "self",
];

/// Where a typed character lands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Inside a name in a function body (not a keyword): the common case of typing.
    Name,
    /// Inside a keyword such as `def` or `return`, which breaks the statement.
    Keyword,
    /// In a line's indentation, which breaks the block structure.
    Indentation,
}

/// Offsets spread over the file for each kind of place, in file order.
fn edit_points(text: &str, place: Place) -> Vec<usize> {
    let mut points = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent >= 4 && line.trim().len() > 3 {
            match place {
                Place::Indentation => points.push(offset + 2),
                Place::Name | Place::Keyword => {
                    let bytes = line.as_bytes();
                    let mut i = indent;
                    while i < bytes.len() {
                        let start = i;
                        while i < bytes.len()
                            && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_')
                        {
                            i += 1;
                        }
                        let word = &line[start..i];
                        let is_keyword = KEYWORDS.contains(&word);
                        let wanted = match place {
                            Place::Keyword => is_keyword,
                            _ => {
                                !is_keyword
                                    && word.len() >= 3
                                    && !word.as_bytes()[0].is_ascii_digit()
                            }
                        };
                        if wanted && word.len() >= 2 {
                            points.push(offset + start + 1);
                            break;
                        }
                        i = i.max(start + 1);
                        // Stop at strings and comments: typing there is cheap and not the point.
                        if matches!(bytes.get(i - 1), Some(b'"' | b'\'' | b'#')) {
                            break;
                        }
                    }
                }
            }
        }
        offset += line.len();
    }
    points
}

/// Types one character at each of `count` points and deletes it again, timing every
/// `didChange` (each is one sample). Returns the samples and the documentSymbol timings taken
/// after every fourth change.
fn type_and_delete(
    state: &ServerState,
    key: &str,
    version: &mut i32,
    points: &[usize],
    count: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let enc = PositionEncoding::Utf16;
    let mut changes = Vec::new();
    let mut symbols = Vec::new();
    for i in 0..count * 2 {
        // A stride through the points so that the edits are spread over the whole file.
        let point = points[(i / 2 * 7919) % points.len()];
        let rope = state.documents.snapshot(key).expect("open").rope;
        let at = position_of(&rope, point, enc);
        let change = if i % 2 == 0 {
            TextChange {
                range: Some((at, at)),
                text: "x".into(),
            }
        } else {
            let end = TextPosition::new(at.line, at.character + 1);
            TextChange {
                range: Some((at, end)),
                text: String::new(),
            }
        };
        *version += 1;
        let t = Instant::now();
        state.documents.change(key, *version, &[change], enc);
        changes.push(t.elapsed());
        if i % 4 == 0 {
            let t = Instant::now();
            let result = symbols_for(state, key).expect("symbols");
            symbols.push(t.elapsed());
            std::hint::black_box(result);
        }
    }
    (changes, symbols)
}

pub fn run(args: &[String]) {
    let (lines, file) = parse_args(args);
    let text = match &file {
        Some(path) => std::fs::read_to_string(path).expect("read --file"),
        None => generate_module(lines),
    };
    let source = file.as_deref().unwrap_or("generated by `generate_module`");
    println!(
        "## Editing latency: {} lines, {} bytes ({source})",
        text.lines().count(),
        text.len()
    );
    println!();

    let state = ServerState::default();
    let key = "file:///bench/module.py";
    state.documents.open(key, 1, "python", &text);
    let rope = state.documents.snapshot(key).expect("open").rope;

    // Reference: a full parse of the same text.
    let mut full = Vec::new();
    for _ in 0..60 {
        let t = Instant::now();
        let tree = parse_rope(&rope, None);
        full.push(t.elapsed());
        std::hint::black_box(tree);
    }
    let full = summarize(full);

    let mut version = 1;
    let mut rows = Vec::new();
    let mut all_symbols = Vec::new();
    for (place, label) in [
        (
            Place::Name,
            "didChange 1 char → updated tree, typing in a name",
        ),
        (
            Place::Keyword,
            "didChange 1 char → updated tree, typing inside a keyword",
        ),
        (
            Place::Indentation,
            "didChange 1 char → updated tree, typing into indentation",
        ),
    ] {
        let points = edit_points(&text, place);
        assert!(!points.is_empty(), "no edit points of a kind in the file");
        let (changes, symbols) = type_and_delete(&state, key, &mut version, &points, 1000);
        all_symbols.extend(symbols);
        rows.push((label, summarize(changes)));
    }
    assert_eq!(
        state.documents.snapshot(key).expect("open").text(),
        text,
        "edits cancel out"
    );

    // The outline alone, to show how documentSymbol's time divides.
    let snapshot = state.documents.snapshot(key).expect("open");
    let snapshot_text = snapshot.text();
    let mut outline_times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let o = tandem::analysis::outline::outline(&snapshot.tree, &snapshot_text, "");
        outline_times.push(t.elapsed());
        std::hint::black_box(o);
    }
    let outline_only = summarize(outline_times);
    let symbols = summarize(all_symbols);
    // What a diagnostics publish computes (issue 6): the built-in rules and the DOC checks.
    let mut rule_times = Vec::new();
    let mut doc_times = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        let f =
            tandem::lsp::diagnostics::file_findings(&state, key, &snapshot_text, &snapshot.tree);
        rule_times.push(t.elapsed());
        std::hint::black_box(f);
        let t = Instant::now();
        let f = tandem::lsp::diagnostics::doc_findings(&state, &snapshot_text, &snapshot.tree);
        doc_times.push(t.elapsed());
        std::hint::black_box(f);
    }
    let diagnostics_all = summarize(rule_times);
    let diagnostics_doc = summarize(doc_times);

    println!("In process (the functions the handlers call), release build. Each didChange sample");
    println!("is one character typed or deleted again, at points spread over the whole file:");
    println!();
    println!("| measure | n | p50 | p99 | max | p99 / full parse p50 | target |");
    println!("|---|---|---|---|---|---|---|");
    let row = |label: &str, s: &crate::Summary, target: &str| {
        println!(
            "| {label} | {} | {} | {} | {} | {:.3} | {target} |",
            s.n,
            ms(s.p50),
            ms(s.p99),
            ms(s.max),
            ratio(s.p99, full.p50)
        );
    };
    row("full re-parse (reference)", &full, "");
    for (label, summary) in &rows {
        row(label, summary, "p99 < 2 ms");
        crate::target(
            2,
            &format!("{label}, p99"),
            &ms(summary.p99),
            "< 2 ms",
            Some(summary.p99 < Duration::from_millis(2)),
        );
    }
    crate::target(
        2,
        "documentSymbol p99 (in process)",
        &ms(symbols.p99),
        "< 5 ms",
        Some(symbols.p99 < Duration::from_millis(5)),
    );
    row(
        "documentSymbol (after the edits above)",
        &symbols,
        "p99 < 5 ms",
    );
    row("outline only (part of documentSymbol)", &outline_only, "");
    row(
        "diagnostics: built-in rules + DOC checks (what a publish computes)",
        &diagnostics_all,
        "",
    );
    row(
        "diagnostics: DOC checks alone (part of the above)",
        &diagnostics_doc,
        "",
    );
    println!();

    let points = edit_points(&text, Place::Name);
    over_stdio(&text, &points);
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// Sends the `didChange` that types an `x` at `point` (the UTF-16 position of that offset in
/// `rope`) or deletes the one typed there before.
fn type_or_delete(
    client: &mut LspClient,
    uri: &str,
    version: i32,
    rope: &ropey::Rope,
    point: usize,
    typing: bool,
) {
    let at = position_of(rope, point, PositionEncoding::Utf16);
    let (end, insert) = if typing {
        (at.character, "x")
    } else {
        (at.character + 1, "")
    };
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version},
               "contentChanges": [{"range": {"start": {"line": at.line, "character": at.character},
                                             "end": {"line": at.line, "character": end}},
                                   "text": insert}]}),
    );
}

/// The same edits against the real server: each sample is one `didChange` plus a
/// `documentSymbol` request, timed from sending the edit to receiving the symbols.
fn over_stdio(text: &str, points: &[usize]) {
    if std::env::var_os("TANDEM_BIN").is_none() {
        let Some(bin) = crate::tandem_binary() else {
            return;
        };
        // Set before any other thread is started.
        std::env::set_var("TANDEM_BIN", bin);
    }
    let mut client = LspClient::start_in(&std::env::temp_dir(), &[("TANDEM_LOG", "warn")]);
    client.initialize(json!({}), None, Value::Null);
    let uri = "file:///bench/module.py";
    client.open(uri, text);
    let rope = ropey::Rope::from_str(text);
    let mut samples = Vec::new();
    let mut version = 1;
    for i in 0..400 {
        let point = points[(i / 2 * 7919) % points.len()];
        version += 1;
        let t = Instant::now();
        type_or_delete(&mut client, uri, version, &rope, point, i % 2 == 0);
        let response = client.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        );
        samples.push(t.elapsed());
        assert!(
            response["result"].as_array().is_some_and(|a| !a.is_empty()),
            "{response}"
        );
    }
    let s = summarize(samples);
    println!("Over stdio against the release `tandem serve` (edit sent → symbols received, JSON included):");
    println!();
    println!("| measure | n | p50 | p99 | max |");
    println!("|---|---|---|---|---|");
    println!(
        "| didChange + documentSymbol round trip | {} | {} | {} | {} |",
        s.n,
        ms(s.p50),
        ms(s.p99),
        ms(s.max)
    );

    // Edit to published diagnostics (issue 6): each sample is one `didChange`, timed until the
    // server publishes diagnostics for that version, minus the 150 ms debounce the server waits
    // for typing to pause.
    let debounce = Duration::from_millis(150);
    let mut diagnostics = Vec::new();
    let mut counted = 0;
    for i in 0..200 {
        let point = points[(i / 2 * 104_729) % points.len()];
        version += 1;
        let t = Instant::now();
        type_or_delete(&mut client, uri, version, &rope, point, i % 2 == 0);
        let published = client.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version
        });
        diagnostics.push(t.elapsed().saturating_sub(debounce));
        counted = published["params"]["diagnostics"]
            .as_array()
            .map_or(0, Vec::len);
    }
    let d = summarize(diagnostics);
    println!();
    println!("Edit to published diagnostics (built-in rules and DOC checks, {counted} findings on the file), the 150 ms debounce subtracted:");
    println!();
    println!("| measure | n | p50 | p99 | max | target |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| didChange → publishDiagnostics for that version | {} | {} | {} | {} | p99 < 30 ms |",
        d.n,
        ms(d.p50),
        ms(d.p99),
        ms(d.max)
    );
    crate::target(
        6,
        "edit → diagnostics p99, 5,000-line file, no workspace",
        &ms(d.p99),
        "< 30 ms",
        Some(d.p99 < Duration::from_millis(30)),
    );
    let status = client.shutdown_and_exit();
    assert_eq!(status.code(), Some(0));
}
