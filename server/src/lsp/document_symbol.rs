//! `textDocument/documentSymbol`: the outline as hierarchical symbols.

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;

use super::convert;
use super::server::TandemServer;
use crate::analysis::outline::outline;

pub(super) fn document_symbol(
    server: &TandemServer,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>> {
    let key = convert::document_key(&params.text_document.uri);
    let snapshot = server
        .state
        .documents
        .snapshot(&key)
        .ok_or_else(|| unknown_document(&key))?;
    let text = snapshot.text();
    let outline = outline(&snapshot.tree, &text, "");
    let symbols = convert::document_symbols(&outline, &snapshot.rope, server.state.encoding());
    // A result computed on an older version than the document now has is stale.
    if server.state.documents.version(&key) != Some(snapshot.version) {
        return Err(Error::content_modified());
    }
    Ok(Some(DocumentSymbolResponse::Nested(symbols)))
}

pub(super) fn unknown_document(key: &str) -> Error {
    Error::invalid_params(format!(
        "unknown document {key}: it is not open (send didOpen first)"
    ))
}
