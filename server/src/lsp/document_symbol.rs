//! `textDocument/documentSymbol`: the outline as hierarchical symbols.

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;

use super::convert;
use super::server::{ServerState, TandemServer};
use crate::session::position::LineIndex;

pub(super) fn document_symbol(
    server: &TandemServer,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>> {
    let key = convert::document_key(&params.text_document.uri);
    let symbols = symbols_for(&server.state, &key)?;
    Ok(Some(DocumentSymbolResponse::Nested(symbols)))
}

/// The symbols of an open document (public for the benchmarks, which time exactly this).
pub fn symbols_for(state: &ServerState, key: &str) -> Result<Vec<DocumentSymbol>> {
    let snapshot = state
        .documents
        .snapshot(key)
        .ok_or_else(|| unknown_document(state, key))?;
    let text = snapshot.shared_text();
    let outline = snapshot.outline();
    let lines = LineIndex::new(&text);
    let symbols = convert::document_symbols(&outline, &lines, state.encoding());
    // A result computed on an older version than the document now has is stale.
    if state.documents.version(key) != Some(snapshot.version) {
        return Err(Error::content_modified());
    }
    Ok(symbols)
}

/// The error for a request about a document the server does not hold: not open, or opened
/// with a text over the size limit.
pub(super) fn unknown_document(state: &ServerState, key: &str) -> Error {
    match state.documents.too_large(key) {
        Some(refused) => {
            Error::invalid_params(format!("document {key} is not analysed: {refused}"))
        }
        None => Error::invalid_params(format!(
            "unknown document {key}: it is not open (send didOpen first)"
        )),
    }
}
