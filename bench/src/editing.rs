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

/// Byte offsets just after an identifier character inside function bodies: where typing one
/// character changes a name but keeps the structure.
fn edit_points(text: &str) -> Vec<usize> {
    let mut points = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(pos) = line.find("total") {
            points.push(offset + pos + 2);
        }
        offset += line.len();
    }
    points
}

pub fn run(args: &[String]) {
    let (lines, file) = parse_args(args);
    let text = match &file {
        Some(path) => std::fs::read_to_string(path).expect("read --file"),
        None => generate_module(lines),
    };
    let line_count = text.lines().count();
    println!(
        "## Editing latency ({} lines, {} bytes)",
        line_count,
        text.len()
    );
    println!();

    let state = ServerState::default();
    let key = "file:///bench/module.py";
    state.documents.open(key, 1, "python", &text);
    let points = edit_points(&text);
    assert!(!points.is_empty(), "no edit points in the file");
    let rope = state.documents.snapshot(key).expect("open").rope;
    let enc = PositionEncoding::Utf16;

    // Reference: a full parse of the same text.
    let mut full = Vec::new();
    for _ in 0..60 {
        let t = Instant::now();
        let tree = parse_rope(&rope, None);
        full.push(t.elapsed());
        std::hint::black_box(tree);
    }
    let full = summarize(full);

    // One character typed then deleted, alternately, at points spread over the file.
    let mut version = 1;
    let mut change_times = Vec::new();
    let mut symbol_times = Vec::new();
    for i in 0..2000 {
        let point = points[(i / 2 * 7919) % points.len()];
        let snapshot_rope = state.documents.snapshot(key).expect("open").rope;
        let at = position_of(&snapshot_rope, point, enc);
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
        version += 1;
        let t = Instant::now();
        state.documents.change(key, version, &[change], enc);
        change_times.push(t.elapsed());
        if i % 4 == 0 {
            let t = Instant::now();
            let symbols = symbols_for(&state, key).expect("symbols");
            symbol_times.push(t.elapsed());
            std::hint::black_box(symbols);
        }
    }
    assert_eq!(
        state.documents.snapshot(key).expect("open").text(),
        text,
        "edits cancel out"
    );
    let change = summarize(change_times);
    let symbols = summarize(symbol_times);

    println!("In process (the functions the handlers call), release build:");
    println!();
    println!("| measure | n | p50 | p99 | max | target |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| full re-parse (reference) | {} | {} | {} | {} | |",
        full.n,
        ms(full.p50),
        ms(full.p99),
        ms(full.max)
    );
    println!(
        "| didChange 1 char → updated tree | {} | {} | {} | {} | p99 < 2 ms |",
        change.n,
        ms(change.p50),
        ms(change.p99),
        ms(change.max)
    );
    println!(
        "| documentSymbol | {} | {} | {} | {} | p99 < 5 ms |",
        symbols.n,
        ms(symbols.p50),
        ms(symbols.p99),
        ms(symbols.max)
    );
    println!();
    println!(
        "Ratios: didChange p99 / full parse p50 = {:.3}; documentSymbol p99 / full parse p50 = {:.3}",
        ratio(change.p99, full.p50),
        ratio(symbols.p99, full.p50)
    );
    println!();

    over_stdio(&text, &points);
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// The same edits against the real server: each sample is one `didChange` plus a
/// `documentSymbol` request, timed from sending the edit to receiving the symbols.
fn over_stdio(text: &str, points: &[usize]) {
    if std::env::var_os("TANDEM_BIN").is_none() {
        let exe = std::env::current_exe().expect("current exe");
        let bin = exe.with_file_name(format!("tandem{}", std::env::consts::EXE_SUFFIX));
        if !bin.exists() {
            println!("(skipping the stdio measurement: build the server first, `cargo build --release -p tandem`)");
            return;
        }
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
        let at = position_of(&rope, point, PositionEncoding::Utf16);
        let (end, insert) = if i % 2 == 0 {
            (at.character, "x")
        } else {
            (at.character + 1, "")
        };
        version += 1;
        let t = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": {"start": {"line": at.line, "character": at.character},
                                                 "end": {"line": at.line, "character": end}},
                                       "text": insert}]}),
        );
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
    let status = client.shutdown_and_exit();
    assert_eq!(status.code(), Some(0));
}
