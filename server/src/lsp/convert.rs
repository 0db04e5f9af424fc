//! The only place that maps LSP types to the session's and analysis' types and back.

use std::ops::Range as ByteRange;

use tower_lsp_server::ls_types::{
    self as lsp, ClientCapabilities, DocumentChanges, DocumentSymbol, MessageType, OneOf,
    OptionalVersionedTextDocumentIdentifier, Position, PositionEncodingKind,
    TextDocumentContentChangeEvent, TextDocumentEdit, TextEdit, Uri, WorkspaceEdit,
};

use crate::analysis::display::render_signature;
use crate::analysis::outline::{self, Outline, Symbol};
use crate::session::config::ConfigProblem;
use crate::session::documents::TextChange;
use crate::session::position::{LineIndex, PositionEncoding, TextPosition};

/// The key documents are stored under: the URI exactly as the client spelled it.
pub fn document_key(uri: &Uri) -> String {
    uri.as_str().to_string()
}

pub fn text_position(p: Position) -> TextPosition {
    TextPosition::new(p.line, p.character)
}

pub fn lsp_position(p: TextPosition) -> Position {
    Position::new(p.line, p.character)
}

pub fn text_change(event: TextDocumentContentChangeEvent) -> TextChange {
    TextChange {
        range: event
            .range
            .map(|r| (text_position(r.start), text_position(r.end))),
        text: event.text,
    }
}

pub fn offered_encodings(caps: &ClientCapabilities) -> Vec<String> {
    caps.general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .map(|kinds| kinds.iter().map(|k| k.as_str().to_string()).collect())
        .unwrap_or_default()
}

pub fn encoding_kind(enc: PositionEncoding) -> PositionEncodingKind {
    match enc {
        PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
    }
}

pub fn config_message(problem: &ConfigProblem) -> (MessageType, String) {
    match problem {
        ConfigProblem::Warning(m) => (MessageType::WARNING, format!("Tandem: {m}")),
        ConfigProblem::Error(m) => (
            MessageType::ERROR,
            format!("Tandem: {m} (using defaults for that file)"),
        ),
    }
}

/// The outline as hierarchical document symbols.
pub fn document_symbols(
    outline: &Outline,
    lines: &LineIndex<'_>,
    enc: PositionEncoding,
) -> Vec<DocumentSymbol> {
    outline
        .symbols
        .iter()
        .map(|s| document_symbol(s, lines, enc))
        .collect()
}

pub fn lsp_range(
    lines: &LineIndex<'_>,
    range: ByteRange<usize>,
    enc: PositionEncoding,
) -> lsp::Range {
    lsp::Range::new(
        lsp_position(lines.position_of(range.start, enc)),
        lsp_position(lines.position_of(range.end, enc)),
    )
}

fn document_symbol(
    symbol: &Symbol,
    lines: &LineIndex<'_>,
    enc: PositionEncoding,
) -> DocumentSymbol {
    let kind = match symbol.kind {
        outline::SymbolKind::Class => lsp::SymbolKind::CLASS,
        outline::SymbolKind::Function => lsp::SymbolKind::FUNCTION,
        outline::SymbolKind::Method => lsp::SymbolKind::METHOD,
    };
    let detail = match (&symbol.signature, symbol.kind) {
        (Some(sig), _) => {
            let prefix = if symbol.is_async { "async " } else { "" };
            Some(format!("{prefix}{}", render_signature(sig)))
        }
        (None, outline::SymbolKind::Class) if !symbol.bases.is_empty() => {
            Some(format!("({})", symbol.bases.join(", ")))
        }
        _ => None,
    };
    let children: Vec<DocumentSymbol> = symbol
        .children
        .iter()
        .map(|c| document_symbol(c, lines, enc))
        .collect();
    #[allow(deprecated)]
    DocumentSymbol {
        name: symbol.name.clone(),
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: lsp_range(lines, symbol.range.clone(), enc),
        selection_range: lsp_range(lines, symbol.name_range.clone(), enc),
        children: if children.is_empty() {
            None
        } else {
            Some(children)
        },
    }
}

/// One versioned edit of one document: byte-range replacements computed on the text of
/// `version`, as a `WorkspaceEdit` with `documentChanges`, so that the editor rejects it if
/// the document has moved on.
pub fn versioned_edit(
    uri: &Uri,
    version: i32,
    edits: impl IntoIterator<Item = (ByteRange<usize>, String)>,
    lines: &LineIndex<'_>,
    enc: PositionEncoding,
) -> WorkspaceEdit {
    let edits = edits
        .into_iter()
        .map(|(range, new_text)| {
            OneOf::Left(TextEdit {
                range: lsp_range(lines, range, enc),
                new_text,
            })
        })
        .collect();
    WorkspaceEdit {
        document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier {
                uri: uri.clone(),
                version: Some(version),
            },
            edits,
        }])),
        ..WorkspaceEdit::default()
    }
}
