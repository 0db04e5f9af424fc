//! Docstrings: the parser of google, numpy and sphinx docstrings on arbitrary text, the DOC
//! checks on arbitrary Python, and placement: a docstring edit of any content on any definition
//! (and the module) must land on character boundaries inside the source, and must keep a file
//! that parsed without errors free of errors (where tree-sitter and Python disagree about the
//! file, Python decides).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tandem::analysis::docstring::checks::{check_source, DocCheckOptions};
use tandem::analysis::docstring::parse::{parse_docstring, DocstringStyle};
use tandem::analysis::docstring::placement::{docstring_edit, Placement};
use tandem::analysis::outline::{outline, Symbol};
use tandem::analysis::parse::parse_str;

#[derive(Debug, Arbitrary)]
struct Input {
    style: u8,
    source: String,
    content: String,
}

const STYLES: [Option<DocstringStyle>; 4] = [
    None,
    Some(DocstringStyle::Google),
    Some(DocstringStyle::Numpy),
    Some(DocstringStyle::Sphinx),
];

/// Whether CPython (`python3`) compiles `source`.
fn python_compiles(source: &str) -> bool {
    use std::io::Write;
    let Ok(mut child) = std::process::Command::new("python3")
        .args(["-c", "import sys; compile(sys.stdin.buffer.read(), 'fuzzed.py', 'exec')"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return true; // Without Python, keep tree-sitter's verdict.
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(source.as_bytes());
    }
    child.wait().is_ok_and(|s| s.success())
}

fn all_symbols<'a>(symbols: &'a [Symbol], out: &mut Vec<&'a Symbol>) {
    for symbol in symbols {
        out.push(symbol);
        all_symbols(&symbol.children, out);
    }
}

fuzz_target!(|input: Input| {
    let style = STYLES[input.style as usize % STYLES.len()];
    // The parser on the raw text, as a docstring's content.
    let _ = parse_docstring(&input.source, style);
    let _ = parse_docstring(&input.content, style);

    let source = &input.source;
    let tree = parse_str(source, None);
    let opts = DocCheckOptions {
        style,
        ..DocCheckOptions::default()
    };
    for finding in check_source(source, &tree, &opts, &|_| false) {
        assert!(finding.range.start <= finding.range.end && finding.range.end <= source.len());
    }

    // Tree-sitter accepts a line continuation at the end of the text, which Python refuses
    // ("unexpected EOF"), and then refuses the same text once anything precedes it.
    let clean = !tree.root_node().has_error() && !source.trim_end().ends_with('\\');
    let module = outline(&tree, source, "fuzzed");
    let mut symbols = Vec::new();
    all_symbols(&module.symbols, &mut symbols);
    let mut targets = vec![Placement::Module];
    targets.extend(symbols.iter().take(8).map(|s| Placement::Definition {
        start: s.range.start,
        end: s.range.end,
    }));
    for target in targets {
        let Ok(edit) = docstring_edit(source, &tree, target, &input.content) else {
            continue;
        };
        assert!(edit.range.start <= edit.range.end && edit.range.end <= source.len());
        assert!(
            source.is_char_boundary(edit.range.start) && source.is_char_boundary(edit.range.end)
        );
        let mut edited = source.clone();
        edited.replace_range(edit.range.clone(), &edit.new_text);
        if clean {
            let after = parse_str(&edited, None);
            // Tree-sitter is more lenient than Python (`x@` then a name on the next line parses
            // cleanly), so a file it finds broken after the edit is a defect only if Python
            // compiles the file before the edit and not after it. Python is asked only then.
            if after.root_node().has_error() && python_compiles(source) {
                assert!(
                    python_compiles(&edited),
                    "placement at {target:?} broke a clean file\n--- before\n{source}\n--- after\n{edited}"
                );
            }
        }
    }
});
